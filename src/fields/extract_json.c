/*
 * extract_json — the json plugin's fields and their jevt.* aliases
 * (docs/compat/fields.md §3): json.value[ptr], json.obj, json.rawtime.
 *
 * These are not gated on auditID.  The JSON pointer of json.value is split
 * and decoded once, at load time (fx_jptr_compile → field_ref.aux).
 */
#include "fields/extract.h"
#include "util/buf.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct jtok {
    const char *s;
    size_t len;
    long long idx; /* the token as an array index (Go Atoi), -1 if none */
} jtok;

typedef struct jptr {
    bool whole; /* empty pointer: the whole document */
    int root;   /* event_key of the first token, -1 if untracked (event.h) */
    size_t n;
    jtok t[];
} jptr;

void *fx_jptr_compile(const char *key, size_t keylen)
{
    /* upstream quirk (docs/compat/fields.md §7.18): one leading '/' is optional
     * (`stage` = `/stage`); tokens are split on '/', then "~1" → "/" and
     * "~0" → "~" (in that order). */
    const char *p = key;
    size_t n = keylen;
    bool whole = keylen == 0;
    if (n && p[0] == '/') {
        p++;
        n--;
    }
    size_t ntok = whole ? 0 : 1;
    for (size_t i = 0; i < n; i++)
        ntok += p[i] == '/';
    jptr *j = pg_malloc(sizeof *j + ntok * sizeof(jtok) + n + 1);
    if (!j)
        return NULL;
    j->whole = whole;
    j->n = ntok;
    char *store = (char *)(j->t + ntok);
    size_t start = 0;
    for (size_t t = 0; t < ntok; t++) {
        const char *slash = memchr(p + start, '/', n - start);
        size_t end = slash ? (size_t)(slash - p) : n;
        /* pass 1: "~1" → "/" */
        char *o = store;
        for (size_t i = start; i < end; i++) {
            if (p[i] == '~' && i + 1 < end && p[i + 1] == '1') {
                *o++ = '/';
                i++;
            } else {
                *o++ = p[i];
            }
        }
        /* pass 2 (in place, never grows): "~0" → "~" */
        size_t len1 = (size_t)(o - store), w = 0;
        for (size_t i = 0; i < len1; i++) {
            if (store[i] == '~' && i + 1 < len1 && store[i + 1] == '0') {
                store[w++] = '~';
                i++;
            } else {
                store[w++] = store[i];
            }
        }
        j->t[t].s = store;
        j->t[t].len = w;
        j->t[t].idx = fx_atoi_index(store, w);
        store += w;
        start = end + 1;
    }
    j->root = ntok ? event_key_of(j->t[0].s, j->t[0].len) : -1;
    return j;
}

static bool json_value(const field_ref *ref, field_ctx *ctx, fvals *out)
{
    const jptr *j = ref->aux;
    const json_doc *d = ctx->ev->doc;
    uint32_t v = ctx->ev->root;
    const char *s;
    size_t n;
    if (!j)
        return fx_none(out);
    if (j->whole) {
        if (!fx_compact(ctx, v, &s, &n))
            return fx_none(out);
        return fx_one(ctx, out, s, n);
    }
    size_t i = 0;
    if (ctx->ev->keyed && j->n) {
        /* the root is an object: its member t[0], from the root table
         * when tracked */
        v = j->root >= 0 ? ctx->ev->keys[j->root] : json_get(d, v, j->t[0].s, j->t[0].len);
        i = 1;
    }
    for (; i < j->n && v != JSON_NONE; i++) {
        switch (d->nodes[v].type) {
        case JSON_OBJECT:
            v = json_get(d, v, j->t[i].s, j->t[i].len);
            break;
        case JSON_ARRAY:
            /* decimal index, leading zeros and '+' allowed, no "-" */
            v = j->t[i].idx < 0 ? JSON_NONE : json_index(d, v, (size_t)j->t[i].idx);
            break;
        default:
            v = JSON_NONE;
        }
    }
    if (v == JSON_NONE || !fx_render(ctx, v, &s, &n))
        return fx_none(out);
    return fx_one(ctx, out, s, n);
}

static bool json_obj(field_ctx *ctx, fvals *out)
{
    const char *s;
    size_t n;
    if (!fx_compact(ctx, ctx->ev->root, &s, &n))
        return fx_none(out);
    /* json.obj is rare (outputs, not conditions): indent through the
     * shared Go-style indenter, then keep the text in the arena */
    buf b = BUF_INIT;
    json_indent(s, n, &b);
    char *o = b.oom ? NULL : arena_strndup(ctx->arena, buf_cstr(&b), b.len);
    size_t len = b.len;
    buf_free(&b);
    if (!o)
        return fx_none(out);
    return fx_one(ctx, out, o, len);
}

/* The decimal seconds of the last jevt.rawtime formatted on this thread:
 * `jevt.rawtime exists` (the 0.18.0 rules) formats a 19-digit number for
 * every event, and consecutive events mostly share their second. */
static _Thread_local struct {
    uint64_t secs; /* 0: empty (times in the first second are formatted whole) */
    size_t len;
    char txt[24];
} rawtime_secs;

static bool json_rawtime(field_ctx *ctx, fvals *out)
{
    char *o = arena_alloc(ctx->arena, 24);
    if (!o)
        return fx_none(out);
    /* ns since the epoch as the SDK's uint64 (pre-1970 wraps, docs/compat/source.md §4.3) */
    uint64_t ns = (uint64_t)ctx->ev->ts_ns, secs = ns / 1000000000u;
    if (secs == 0)
        return fx_one(ctx, out, o, fmt_u64(o, ns, 0));
    if (secs != rawtime_secs.secs) {
        rawtime_secs.len = fmt_u64(rawtime_secs.txt, secs, 0);
        rawtime_secs.secs = secs;
    }
    /* the seconds' digits, then the nanoseconds as exactly 9 digits */
    size_t n = rawtime_secs.len;
    memcpy(o, rawtime_secs.txt, n);
    uint32_t f = (uint32_t)(ns % 1000000000u);
    for (int i = 8; i >= 0; i--) {
        o[n + (size_t)i] = (char)('0' + f % 10);
        f /= 10;
    }
    return fx_one(ctx, out, o, n + 9);
}

bool extract_json(const field_ref *ref, field_ctx *ctx, fvals *out)
{
    switch (ref->def->id) {
    case FLD_JSON_VALUE:
    case FLD_JEVT_VALUE:
        return json_value(ref, ctx, out);
    case FLD_JSON_OBJ:
    case FLD_JEVT_OBJ:
        return json_obj(ctx, out);
    case FLD_JSON_RAWTIME:
    case FLD_JEVT_RAWTIME:
        return json_rawtime(ctx, out);
    default:
        return fx_none(out);
    }
}
