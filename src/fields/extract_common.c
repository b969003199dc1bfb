/*
 * extract_common — the pieces every extractor family shares
 * (docs/compat/fields.md §1): R(v) rendering (§1.5), path lookup P (§1.6), the
 * array walk W (§1.7) and the arena-backed value list.
 */
#include "fields/extract.h"
#include "util/memeq.h"

#include <limits.h>
#include <string.h>

/* ---- value lists --------------------------------------------------------- */

void vb_push(vbuild *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->n == b->cap) {
        /* Arena memory cannot be resized: take a twice bigger array and
         * copy; the old one is dropped with the arena at payload end. */
        size_t cap = b->cap ? b->cap * 2 : 4;
        fval *v = arena_alloc(b->a, cap * sizeof *v);
        if (!v) {
            b->oom = true;
            return;
        }
        if (b->n)
            memcpy(v, b->v, b->n * sizeof *v);
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n].s = s;
    b->v[b->n].len = len;
    b->n++;
}

bool vb_finish(vbuild *b, fvals *out)
{
    /* upstream quirk (docs/compat/fields.md §7.2): libsinsp treats a list field
     * that returned 0 values as missing — never an empty value set. */
    if (b->oom || b->n == 0)
        return fx_none(out);
    out->v = b->v;
    out->n = b->n;
    return true;
}

bool fx_one(field_ctx *ctx, fvals *out, const char *s, size_t len)
{
    (void)ctx;
    out->one.s = s;
    out->one.len = len;
    out->v = &out->one; /* no arena memory (fields.h: fvals) */
    out->n = 1;
    return true;
}

/* ---- rendering ------------------------------------------------------------ */

bool fx_compact(field_ctx *ctx, uint32_t node, const char **s, size_t *len)
{
    const json_doc *d = ctx->ev->doc;
    size_t n;
    const char *raw = json_raw(d, node, &n);
    if (!(d->nodes[node].flags & JSON_F_SPACE)) {
        *s = raw;
        *len = n;
        return true;
    }
    size_t want = json_compact_len(d, node);
    char *o = arena_alloc(ctx->arena, want + 1);
    if (!o)
        return false;
    /* Drop whitespace outside strings; strings are copied byte for byte
     * (escapes kept, fields.md §1.5). */
    const char *p = raw, *end = raw + n;
    char *w = o;
    while (p < end) {
        char c = *p++;
        if (c == '"') {
            *w++ = c;
            while (p < end) {
                c = *p++;
                *w++ = c;
                if (c == '\\')
                    *w++ = *p++;
                else if (c == '"')
                    break;
            }
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            *w++ = c;
        }
    }
    *w = 0;
    *s = o;
    *len = (size_t)(w - o);
    return true;
}

/* upstream quirk (docs/compat/fields.md §7.1, §7.16): every ka.* / json.* value is
 * a string; non-strings are their JSON text as written — numbers keep their
 * spelling (201.0 stays 201.0), true/false/null are the words, and JSON
 * null is a present value "null", unlike a missing key. */
bool fx_text(field_ctx *ctx, uint32_t node, const char **s, size_t *len)
{
    const json_doc *d = ctx->ev->doc;
    const json_node *nd = &d->nodes[node];
    if (nd->type != JSON_STRING)
        return fx_compact(ctx, node, s, len);
    const char *raw = d->src + nd->start;
    if (!(nd->flags & JSON_F_ESCAPES)) {
        /* zero copy: the parser rejects raw control bytes, so no NUL here */
        *s = raw;
        *len = nd->len;
        return true;
    }
    char *o = arena_alloc(ctx->arena, (size_t)nd->len + 1);
    if (!o)
        return false;
    size_t n = json_unescape(raw, nd->len, o);
    o[n] = 0;
    *s = o;
    *len = n;
    return true;
}

bool fx_render_slow(field_ctx *ctx, uint32_t node, const char **s, size_t *len)
{
    if (!fx_text(ctx, node, s, len))
        return false;
    /* Only a decoded \u0000 can put a NUL in a value. */
    if (ctx->ev->doc->nodes[node].flags & JSON_F_ESCAPES)
        *len = fx_cut_nul(*s, *len);
    return true;
}

void vb_push_render(vbuild *b, field_ctx *ctx, uint32_t node)
{
    const char *s;
    size_t n;
    if (!fx_render(ctx, node, &s, &n)) {
        b->oom = true;
        return;
    }
    vb_push(b, s, n);
}

/* ---- paths ------------------------------------------------------------------ */

long long fx_atoi_index(const char *s, size_t n)
{
    /* Go strconv.Atoi: optional sign, at least one digit, base 10, no
     * underscores; out of int64 range is an error.  Leading zeros are
     * fine ("01" = 1) and "-0" is 0. */
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return -1;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (v > (ULLONG_MAX - 9) / 10)
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (neg)
        return v == 0 ? 0 : -1; /* negative index → missing */
    if (v > (unsigned long long)LLONG_MAX)
        return -1;
    return (long long)v;
}

uint32_t fx_member(const json_doc *d, uint32_t v, const char *k, size_t klen)
{
    if (v == JSON_NONE)
        return JSON_NONE;
    switch (d->nodes[v].type) {
    case JSON_OBJECT:
        return json_get(d, v, k, klen); /* first duplicate wins */
    case JSON_ARRAY: {
        long long i = fx_atoi_index(k, klen);
        return i < 0 ? JSON_NONE : json_index(d, v, (size_t)i);
    }
    default:
        return JSON_NONE; /* scalars have no members */
    }
}

uint32_t fx_path(const json_doc *d, uint32_t v, const fx_key *keys, size_t n)
{
    for (size_t i = 0; i < n && v != JSON_NONE; i++)
        v = fx_member(d, v, keys[i].s, keys[i].len);
    return v;
}

uint32_t fx_root_member(const audit_event *ev, const fx_key *k)
{
    /* an event from event_split has an object root and its table; one
     * built by hand (tests) takes the general step */
    if (ev->keyed && k->root)
        return ev->keys[k->root - 1];
    return fx_member(ev->doc, ev->root, k->s, k->len);
}

uint32_t fx_root_path(const audit_event *ev, const fx_key *keys, size_t n)
{
    return fx_path(ev->doc, fx_root_member(ev, &keys[0]), keys + 1, n - 1);
}

/* Fill ctx->ref_keys from one pass over objectRef's members. */
static void objref_index(field_ctx *ctx)
{
    static const struct {
        const char *s;
        size_t len;
    } names[OREF__COUNT] = {
#define FX_OBJREF_NAME(k) [OREF_##k] = {#k, sizeof #k - 1},
        FX_OBJREF_KEYS(FX_OBJREF_NAME)
#undef FX_OBJREF_NAME
    };
    /* name length → 1 + key, 0 for none (the lengths differ: a unit test
     * checks every name maps to itself) */
    static const uint8_t len_to_key[16] = {
#define FX_OBJREF_LEN(k) [sizeof #k - 1] = OREF_##k + 1,
        FX_OBJREF_KEYS(FX_OBJREF_LEN)
#undef FX_OBJREF_LEN
    };
    const json_doc *d = ctx->ev->doc;
    for (int k = 0; k < OREF__COUNT; k++)
        ctx->ref_keys[k] = JSON_NONE;
    uint32_t o = event_member(ctx->ev, EK_objectRef);
    ctx->ref_state = 1;
    if (o == JSON_NONE)
        return; /* every objectRef.X is missing */
    if (d->nodes[o].type != JSON_OBJECT) {
        ctx->ref_state = -1; /* an array takes indexes: the general path */
        return;
    }
    uint32_t end = d->nodes[o].next;
    for (uint32_t k = o + 1; k < end; k = d->nodes[k + 1].next) {
        const json_node *n = &d->nodes[k];
        if (n->flags & JSON_F_ESCAPES) {
            ctx->ref_state = -1; /* names compare decoded: the general path */
            return;
        }
        /* the names have different lengths: at most one compare */
        int i = n->len < sizeof len_to_key ? len_to_key[n->len] - 1 : -1;
        if (i >= 0 && memeq(d->src + n->start, names[i].s, n->len) && ctx->ref_keys[i] == JSON_NONE)
            ctx->ref_keys[i] = k + 1; /* first duplicate wins */
    }
}

uint32_t fx_ctx_path(field_ctx *ctx, const fx_key *keys, size_t n)
{
    if (n == 2 && keys[1].oref && keys[0].root == EK_objectRef + 1 && ctx->ev->keyed) {
        if (!ctx->ref_state)
            objref_index(ctx);
        if (ctx->ref_state > 0)
            return ctx->ref_keys[keys[1].oref - 1];
    }
    return fx_root_path(ctx->ev, keys, n);
}

bool fx_root_walk(const audit_event *ev, long long idx, const fx_key *keys, size_t nk, fx_walk_fn fn, void *ud)
{
    /* fx_walk's first round on an object root: member keys[0] or MISSING
     * (an array root, only possible by hand, walks in full) */
    if (!ev->keyed || keys[0].len == 0)
        return fx_walk(ev->doc, ev->root, idx, keys, nk, fn, ud);
    uint32_t v = fx_root_member(ev, &keys[0]);
    if (v == JSON_NONE)
        return false;
    return fx_walk(ev->doc, v, idx, keys + 1, nk - 1, fn, ud);
}

bool fx_walk(const json_doc *d, uint32_t v, long long idx, const fx_key *keys, size_t nk,
             fx_walk_fn fn, void *ud)
{
    for (size_t i = 0; i < nk; i++) {
        if (d->nodes[v].type == JSON_ARRAY) {
            if (idx < 0) {
                /* No index: every element walks the rest of the path (the
                 * current key not consumed yet); an element lacking it
                 * leaves a NIL placeholder.  A frame that iterates never
                 * reports MISSING, and a MISSING frame reported nothing,
                 * so results can be streamed to fn. */
                for (uint32_t c = json_first(d, v); c != JSON_NONE; c = json_next(d, v, c))
                    if (!fx_walk(d, c, idx, keys + i, nk - i, fn, ud))
                        fn(ud, JSON_NONE);
                return true;
            }
            /* With an index, the same index selects an element of every
             * array met along the path (fields.md §1.7). */
            v = json_index(d, v, (size_t)idx);
            if (v == JSON_NONE)
                return false;
        }
        if (keys[i].len) {
            v = fx_member(d, v, keys[i].s, keys[i].len);
            if (v == JSON_NONE)
                return false;
        }
    }
    /* The final value is reported whole, even when it is an array. */
    fn(ud, v);
    return true;
}
