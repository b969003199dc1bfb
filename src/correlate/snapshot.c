/*
 * snapshot — the in-process store's state as bytes, and back.
 *
 * Format (little-endian, version 1):
 *   "PGCORR\0\1"
 *   per correlation: 'C' id:u64 type:u8 nsteps:u32 threshold:u64 nkeys:u64
 *       per key: keylen:u32 key suppressed:u64 supp_until:i64 flags:u8
 *                learn_from:i64, then by type (see put_group)
 *   'E' checksum:u64 (FNV-1a of every byte before it)
 * A file that does not parse to its end with a matching checksum is
 * refused as a whole: the caller starts fresh and says why.
 */
#include "correlate/store.h"
#include "correlate/store_mem.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char magic[8] = {'P', 'G', 'C', 'O', 'R', 'R', 0, 1};

static void put_u64(buf *b, uint64_t v)
{
    unsigned char t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (unsigned char)(v >> (8 * i));
    buf_put(b, t, 8);
}

static void put_u32(buf *b, uint32_t v)
{
    unsigned char t[4];
    for (int i = 0; i < 4; i++)
        t[i] = (unsigned char)(v >> (8 * i));
    buf_put(b, t, 4);
}

static void put_str(buf *b, const char *s)
{
    if (!s) {
        put_u32(b, UINT32_MAX);
        return;
    }
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    buf_put(b, s, n);
}

static void put_group(buf *b, const cstate *cs, const group *g)
{
    put_u32(b, g->keylen);
    buf_put(b, g->key, g->keylen);
    put_u64(b, g->suppressed);
    put_u64(b, (uint64_t)g->supp_until);
    buf_putc(b, (char)((g->supp_set ? 1 : 0) | (g->learn_set ? 2 : 0)));
    put_u64(b, (uint64_t)g->learn_from);
    switch (cs->type) {
    case CORR_EVENT_COUNT:
        put_u32(b, g->n);
        for (uint32_t i = 0; i < g->n; i++)
            put_u64(b, (uint64_t)g->ts[i]);
        put_u32(b, g->nsamples);
        for (uint32_t i = 0; i < g->nsamples; i++)
            put_str(b, g->samples[i]);
        break;
    case CORR_VALUE_COUNT:
        put_u32(b, g->n);
        for (uint32_t i = 0; i < g->n; i++) {
            put_u64(b, g->vals[i].h);
            put_u64(b, (uint64_t)g->vals[i].first);
            put_u64(b, (uint64_t)g->vals[i].last);
            put_str(b, g->vals[i].s);
        }
        break;
    case CORR_TEMPORAL:
    case CORR_TEMPORAL_ORDERED:
        for (uint32_t i = 0; i < cs->nsteps; i++) {
            buf_putc(b, g->steps[i].set);
            put_u64(b, (uint64_t)g->steps[i].start);
            put_u64(b, (uint64_t)g->steps[i].end);
            put_str(b, g->steps[i].info);
        }
        break;
    case CORR_NEW_VALUE:
        put_u32(b, g->n);
        for (uint32_t i = 0; i < g->cap; i++)
            if (g->tuples[i].h) {
                put_u64(b, g->tuples[i].h);
                put_u64(b, (uint64_t)g->tuples[i].last);
            }
        break;
    case CORR_SUPPRESS_ONLY:
        break;
    }
}

int mem_store_save(corr_store *s, buf *out)
{
    mem_store *m = (mem_store *)s;
    size_t start = out->len;
    buf_put(out, magic, sizeof magic);
    for (const cstate *cs = m->states; cs; cs = cs->next) {
        buf_putc(out, 'C');
        put_u64(out, cs->id);
        buf_putc(out, (char)cs->type);
        put_u32(out, cs->nsteps);
        put_u64(out, cs->threshold);
        put_u64(out, cs->nkeys);
        /* oldest first, so that loading rebuilds the same LRU order */
        for (const group *g = cs->lru_tail; g; g = g->lru[0].prev)
            put_group(out, cs, g);
    }
    buf_putc(out, 'E');
    put_u64(out, corr_hash(out->data + start, out->len - start));
    return out->oom ? -ENOMEM : 0;
}

/* ------------------------------------------------------------ reading */

typedef struct rd {
    const unsigned char *p, *end;
    bool bad;
} rd;

static uint64_t get_u64(rd *r)
{
    if (r->end - r->p < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    return v;
}

static uint32_t get_u32(rd *r)
{
    if (r->end - r->p < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)r->p[i] << (8 * i);
    r->p += 4;
    return v;
}

static int get_u8(rd *r)
{
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

/* A string: NULL for the absent mark (or on error, with r->bad set). */
static char *get_str(rd *r, bool *absent)
{
    uint32_t n = get_u32(r);
    *absent = n == UINT32_MAX;
    if (r->bad || *absent)
        return NULL;
    if ((size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    char *s = pg_strndup((const char *)r->p, n);
    r->p += n;
    if (!s)
        r->bad = true;
    return s;
}

static bool get_group_body(rd *r, cstate *cs, group *g)
{
    bool absent;
    switch (cs->type) {
    case CORR_EVENT_COUNT:
        g->n = get_u32(r);
        if (g->n > g->cap)
            return false;
        for (uint32_t i = 0; i < g->n; i++)
            g->ts[i] = (int64_t)get_u64(r);
        uint32_t ns = get_u32(r);
        if (ns > CORR_MAX_SAMPLES)
            return false;
        for (uint32_t i = 0; i < ns && !r->bad; i++)
            if ((g->samples[g->nsamples] = get_str(r, &absent)))
                g->nsamples++;
        break;
    case CORR_VALUE_COUNT: {
        uint32_t n = get_u32(r);
        if (n > g->cap)
            return false;
        for (uint32_t i = 0; i < n && !r->bad; i++) {
            gval v = {get_u64(r), (int64_t)get_u64(r), (int64_t)get_u64(r), NULL};
            if (!(v.s = get_str(r, &absent)))
                return false;
            g->vals[g->n++] = v;
        }
        break;
    }
    case CORR_TEMPORAL:
    case CORR_TEMPORAL_ORDERED:
        for (uint32_t i = 0; i < cs->nsteps && !r->bad; i++) {
            gstep s = {get_u8(r) != 0, (int64_t)get_u64(r), (int64_t)get_u64(r), NULL};
            s.info = get_str(r, &absent);
            g->steps[i] = s;
        }
        break;
    case CORR_NEW_VALUE: {
        uint32_t n = get_u32(r);
        if (n > (1u << 28))
            return false;
        uint32_t cap = g->cap;
        while ((uint64_t)n * 4 >= (uint64_t)cap * 3)
            cap *= 2;
        if (cap != g->cap) {
            gtuple *t = pg_calloc(cap, sizeof *t);
            if (!t)
                return false;
            pg_free(g->tuples);
            g->tuples = t;
            g->cap = cap;
        }
        for (uint32_t i = 0; i < n && !r->bad; i++) {
            gtuple t = {get_u64(r) | 1, (int64_t)get_u64(r)};
            uint32_t j = (uint32_t)t.h & (g->cap - 1);
            while (g->tuples[j].h && g->tuples[j].h != t.h)
                j = (j + 1) & (g->cap - 1);
            if (!g->tuples[j].h)
                g->n++;
            g->tuples[j] = t;
        }
        break;
    }
    case CORR_SUPPRESS_ONLY:
        break;
    }
    return !r->bad;
}

static bool get_group(rd *r, mem_store *m, cstate *cs)
{
    uint32_t keylen = get_u32(r);
    if (r->bad || (size_t)(r->end - r->p) < keylen)
        return false;
    const char *key = (const char *)r->p;
    r->p += keylen;
    group *g = mem_group(m, cs, key, keylen, 0, true);
    if (!g)
        return false;
    size_t before = mem_group_bytes(cs, g);
    g->suppressed = get_u64(r);
    g->supp_until = (int64_t)get_u64(r);
    int f = get_u8(r);
    g->supp_set = f & 1;
    g->learn_set = (f & 2) != 0;
    g->learn_from = (int64_t)get_u64(r);
    bool ok = get_group_body(r, cs, g);
    uint32_t sb = 0;
    for (uint32_t i = 0; i < g->nsamples; i++)
        sb += (uint32_t)strlen(g->samples[i]) + 1;
    for (uint32_t i = 0; cs->type == CORR_VALUE_COUNT && i < g->n; i++)
        sb += (uint32_t)strlen(g->vals[i].s) + 1;
    for (uint32_t i = 0; g->steps && i < cs->nsteps; i++)
        sb += g->steps[i].info ? (uint32_t)strlen(g->steps[i].info) + 1 : 0;
    g->strbytes = sb;
    m->bytes += mem_group_bytes(cs, g);
    m->bytes -= before;
    return ok;
}

int mem_store_load(corr_store *s, const char *data, size_t len, char *err, size_t errlen)
{
    mem_store *m = (mem_store *)s;
    if (len < sizeof magic + 9 || memcmp(data, magic, sizeof magic)) {
        snprintf(err, errlen, "not a Peregrine correlation state file (or another version)");
        return -EINVAL;
    }
    rd tail = {(const unsigned char *)data + len - 8, (const unsigned char *)data + len, false};
    if (data[len - 9] != 'E' || get_u64(&tail) != corr_hash(data, len - 8)) {
        snprintf(err, errlen, "checksum mismatch (truncated or corrupt)");
        return -EINVAL;
    }
    rd r = {(const unsigned char *)data + sizeof magic, (const unsigned char *)data + len - 9, false};
    while (r.p < r.end && !r.bad) {
        if (get_u8(&r) != 'C') {
            r.bad = true;
            break;
        }
        uint64_t id = get_u64(&r);
        int type = get_u8(&r);
        uint32_t nsteps = get_u32(&r);
        uint64_t threshold = get_u64(&r), nkeys = get_u64(&r);
        if (r.bad || type > CORR_SUPPRESS_ONLY || nsteps > CORR_MAX_STEPS || threshold > (1u << 24) ||
            nkeys > (uint64_t)(r.end - r.p)) {
            r.bad = true;
            break;
        }
        cstate *cs = mem_cstate(m, id, (corr_type)type, nsteps, threshold, true);
        if (!cs || cs->type != (corr_type)type || cs->nsteps != nsteps || cs->threshold != threshold) {
            r.bad = true;
            break;
        }
        for (uint64_t k = 0; k < nkeys && !r.bad; k++)
            if (!get_group(&r, m, cs))
                r.bad = true;
    }
    if (r.bad) {
        m->base.vt->retain(s, NULL, 0);
        snprintf(err, errlen, "malformed content");
        return -EINVAL;
    }
    return 0;
}
