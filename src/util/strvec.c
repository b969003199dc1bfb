/*
 * strvec — growable vector of owned strings (see strvec.h).
 */
#include "util/strvec.h"
#include "util/alloc.h"

#include <errno.h>

int strvec_push(strvec *s, const char *str)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **v = pg_realloc(s->v, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    char *d = pg_strdup(str);
    if (!d)
        return -ENOMEM;
    s->v[s->n++] = d;
    return 0;
}

void strvec_free(strvec *s)
{
    for (size_t i = 0; i < s->n; i++)
        pg_free(s->v[i]);
    pg_free(s->v);
    *s = (strvec){0};
}
