/*
 * output_template — a rule's `output:` text into literal and field
 * segments (compiled.h fmt_template).
 */
#include "rules/compiler.h"
#include "rules/correlation.h"
#include "util/alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define FMT_MAX_WIDTH 65535 /* %Nfield: larger N is a load error */

static const char *const fmt_transformers[] = {"tolower(", "toupper(", "b64(", "basename(", "len(", NULL};

/* Longest prefix of p that compiles as a field or transformer expression. */
static cexpr *fmt_field(compiler *c, const char *p, size_t *consumed, char *err, size_t errlen)
{
    for (int i = 0; fmt_transformers[i]; i++) {
        size_t tl = strlen(fmt_transformers[i]);
        if (strncmp(p, fmt_transformers[i], tl))
            continue;
        size_t inner;
        cexpr *arg = fmt_field(c, p + tl, &inner, err, errlen);
        if (!arg)
            return NULL;
        if (p[tl + inner] != ')') {
            cerr(err, errlen, "expected ')' after transformer argument");
            return NULL;
        }
        ast_value fv = {.kind = AV_FIELD, .text = arg->text, .textlen = strlen(arg->text)};
        ast_value *args[1] = {&fv};
        char name[16];
        snprintf(name, sizeof name, "%.*s", (int)(tl - 1), p);
        ast_value tv = {.kind = AV_TRANSFORM, .name = name, .args = args, .nargs = 1};
        *consumed = tl + inner + 1;
        return compile_expr(c, &tv, err, errlen);
    }
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '.')
        n++;
    size_t full = n;
    if (p[n] == '[') {
        const char *close = strchr(p + n, ']');
        if (close)
            full = (size_t)(close - p) + 1;
    }
    char tmp[1024];
    for (size_t len = full; len > 0; len = len == full && full != n ? n : len - 1) {
        if (len >= sizeof tmp)
            continue;
        memcpy(tmp, p, len);
        tmp[len] = 0;
        char fname[1024];
        size_t nl = strcspn(tmp, "[");
        memcpy(fname, tmp, nl);
        fname[nl] = 0;
        if (!field_lookup(fname, nl))
            continue;
        char e2[256];
        cexpr *e = field_expr(c, tmp, len, e2, sizeof e2);
        if (e) {
            *consumed = len;
            return e;
        }
        if (len == full && full != n) {
            cerr(err, errlen, "%s", e2);
            return NULL;
        }
    }
    cerr(err, errlen, "unknown filter: invalid formatting token %%%.*s (nonexistent field)", (int)(full ? full : 1), p);
    return NULL;
}

/* Room for two more segments in the compiler's scratch array (reused by
 * every template).  0 or -1. */
static int fmt_reserve(compiler *c, size_t n)
{
    if (n + 2 <= c->fmt_cap)
        return 0;
    size_t cap = c->fmt_cap ? c->fmt_cap * 2 : 16;
    fmt_seg *g = pg_realloc(c->fmt_scratch, cap * sizeof *g);
    if (!g)
        return -1;
    c->fmt_scratch = g;
    c->fmt_cap = cap;
    return 0;
}

/* The segments are gathered in the compiler's scratch array and copied
 * into the ruleset at their exact number; literal segments point into the
 * template's own copy of the text (out->text), which also serves as the
 * rule's output text. */
static int compile_format_new(compiler *c, const char *text, fmt_template *out, char *err, size_t errlen);

/* Append v to the array *arr of *n elements of elem bytes (doubling
 * *cap), indexed by the name it begins with.  0 or -1. */
static int kept_add(name_index *ix, void **arr, size_t *n, size_t *cap, size_t elem, const void *v)
{
    if (name_index_reserve(ix, *arr, elem))
        return -1;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        void *g = pg_realloc(*arr, nc * elem);
        if (!g)
            return -1;
        *arr = g;
        *cap = nc;
    }
    memcpy((char *)*arr + *n * elem, v, elem);
    name_index_add(ix, *arr, elem, (*n)++);
    return 0;
}

/* A template compiled before from the same text is the same: shared.
 * Not for correlation outputs (%corr.* fields depend on the context). */
int compile_format(compiler *c, const char *text, fmt_template *out, char *err, size_t errlen)
{
    if (c->allow_corr)
        return compile_format_new(c, text, out, err, errlen);
    long at = name_index_find(&c->fmt_ix, c->fmts, sizeof *c->fmts, text, strlen(text));
    if (at >= 0) {
        *out = c->fmts[at].t;
        return 0;
    }
    if (compile_format_new(c, text, out, err, errlen))
        return -1;
    struct fmt_ent e = {out->text, *out};
    if (kept_add(&c->fmt_ix, (void **)&c->fmts, &c->nfmts, &c->capfmts, sizeof e, &e))
        return cerr(err, errlen, "out of memory");
    return 0;
}

const char *ctag(compiler *c, const char *tag)
{
    long at = name_index_find(&c->tag_ix, c->tags, sizeof *c->tags, tag, strlen(tag));
    if (at >= 0)
        return c->tags[at];
    const char *t = cstrdup(c, tag, strlen(tag));
    if (!t || kept_add(&c->tag_ix, (void **)&c->tags, &c->ntags, &c->captags, sizeof t, &t))
        return NULL;
    return t;
}

static int compile_format_new(compiler *c, const char *text, fmt_template *out, char *err, size_t errlen)
{
    size_t n = 0;
    const char *own = cstrdup(c, text, strlen(text));
    if (!own)
        return cerr(err, errlen, "out of memory");
    const char *p = own;
    if (*p == '*')
        p++;
    while (*p) {
        if (fmt_reserve(c, n))
            return cerr(err, errlen, "out of memory");
        fmt_seg *segs = c->fmt_scratch;
        const char *pct = strchr(p, '%');
        if (pct != p) {
            size_t l = pct ? (size_t)(pct - p) : strlen(p);
            if (l > UINT32_MAX)
                l = UINT32_MAX; /* the rest is the next segment */
            segs[n++] = (fmt_seg){.lit = p, .litlen = (uint32_t)l};
            p += l;
            continue;
        }
        p++;
        int width = 0;
        while (isdigit((unsigned char)*p)) {
            /* bounded: each alert would be padded to the width */
            if ((width = width * 10 + (*p++ - '0')) > FMT_MAX_WIDTH)
                return cerr(err, errlen, "field width larger than %d", FMT_MAX_WIDTH);
        }
        if (c->allow_corr && !strncmp(p, "corr.", 5)) {
            size_t nl = 0;
            while (isalnum((unsigned char)p[5 + nl]) || p[5 + nl] == '_')
                nl++;
            corr_field f = corr_field_lookup(p + 5, nl);
            if (!f)
                return cerr(err, errlen, "unknown correlation field %%corr.%.*s", (int)nl, p + 5);
            segs[n++] = (fmt_seg){.corr = (uint8_t)f, .width = (uint16_t)width};
            p += 5 + nl;
            continue;
        }
        size_t used;
        cexpr *e = fmt_field(c, p, &used, err, errlen);
        if (!e)
            return -1;
        segs[n++] = (fmt_seg){.expr = e, .width = (uint16_t)width};
        p += used;
    }
    fmt_seg *segs = cnew(c, (n ? n : 1) * sizeof *segs);
    if (!segs)
        return cerr(err, errlen, "out of memory");
    if (n)
        memcpy(segs, c->fmt_scratch, n * sizeof *segs);
    out->segs = segs;
    out->n = n;
    out->text = own;
    return 0;
}
