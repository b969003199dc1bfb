/*
 * collection — the loader's items by name, and their release (collection.h).
 */
#include "rules/collection.h"
#include "rules/correlation_load.h"
#include "util/alloc.h"

#include <string.h>

void *coll_grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return arr;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = pg_realloc(arr, c * elem);
    if (p)
        *cap = c;
    return p;
}

l_list *coll_find_list(collection *c, const char *name)
{
    long i = name_index_find(&c->list_ix, c->lists, sizeof *c->lists, name, strlen(name));
    return i < 0 ? NULL : &c->lists[i];
}

l_macro *coll_find_macro(collection *c, const char *name)
{
    long i = name_index_find(&c->macro_ix, c->macros, sizeof *c->macros, name, strlen(name));
    return i < 0 ? NULL : &c->macros[i];
}

l_rule *coll_find_rule(collection *c, const char *name)
{
    long i = name_index_find(&c->rule_ix, c->rules, sizeof *c->rules, name, strlen(name));
    return i < 0 ? NULL : &c->rules[i];
}

void collection_free(collection *c)
{
    for (size_t i = 0; i < c->nlists; i++) {
        pg_free(c->lists[i].name);
        strvec_free(&c->lists[i].items);
    }
    for (size_t i = 0; i < c->nmacros; i++) {
        pg_free(c->macros[i].name);
        pg_free(c->macros[i].cond);
    }
    for (size_t i = 0; i < c->nrules; i++) {
        l_rule *r = &c->rules[i];
        pg_free(r->name);
        coll_free_rule_body(r);
    }
    for (size_t i = 0; i < c->nfiles; i++)
        pg_free(c->files[i]);
    pg_free(c->files);
    pg_free(c->lists);
    pg_free(c->macros);
    pg_free(c->rules);
    name_index_free(&c->list_ix);
    name_index_free(&c->macro_ix);
    name_index_free(&c->rule_ix);
    pg_free(c->odd);
    *c = (collection){0};
}

void coll_free_rule_body(l_rule *r)
{
    pg_free(r->cond);
    pg_free(r->output);
    pg_free(r->desc);
    pg_free(r->source);
    strvec_free(&r->tags);
    for (size_t e = 0; e < r->nexc; e++)
        free_exception(&r->exc[e]);
    pg_free(r->exc);
    l_corr_free(r->corr);
    pg_free(r->corr);
    l_suppress_free(r->sup);
    r->cond = r->output = r->desc = r->source = NULL;
    r->exc = NULL;
    r->nexc = 0;
    r->corr = NULL;
    r->sup = NULL;
}
