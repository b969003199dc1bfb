/*
 * strset — the string sets of `in`, `intersects` and `pmatch` (compiled.h).
 */
#include "rules/compiled.h"
#include "util/hash.h"
#include "util/memeq.h"

#include <string.h>

bool strset_has(const strset *s, const char *p, size_t n)
{
    /* a value no item is as long as (mod 64) needs no hash */
    if (!(s->lens >> (n & 63) & 1))
        return false;
    size_t i = hash_bytes(p, n) & s->mask;
    for (;;) {
        const fval *v = &s->slots[i];
        if (!v->s)
            return false;
        if (v->len == n && memeq(v->s, p, n))
            return true;
        i = (i + 1) & s->mask;
    }
}

strset *strset_build(arena *a, const ast_str *items, size_t n)
{
    strset *s = arena_alloc(a, sizeof *s);
    if (!s)
        return NULL;
    size_t cap = 8;
    while (cap < n * 2 + 2)
        cap *= 2;
    s->slots = arena_alloc(a, cap * sizeof *s->slots);
    s->items = arena_alloc(a, (n ? n : 1) * sizeof *s->items);
    if (!s->slots || !s->items)
        return NULL;
    memset(s->slots, 0, cap * sizeof *s->slots);
    s->lens = 0;
    s->mask = cap - 1;
    s->n = n;
    for (size_t k = 0; k < n; k++) {
        /* copied: the AST the items come from dies after compilation */
        fval v = {arena_strndup(a, items[k].s, items[k].len), items[k].len};
        if (!v.s)
            return NULL;
        s->items[k] = v;
        s->lens |= 1ull << (v.len & 63);
        if (strset_has(s, v.s, v.len))
            continue;
        size_t i = hash_bytes(v.s, v.len) & s->mask;
        while (s->slots[i].s)
            i = (i + 1) & s->mask;
        s->slots[i] = v;
    }
    return s;
}
