/*
 * collect — correlation hits from the workers (see collect.h).
 */
#include "correlate/collect.h"
#include "correlate/store_mem.h"
#include "rules/correlation.h"
#include "util/alloc.h"
#include "util/memeq.h"

#include <errno.h>
#include <string.h>

#define SEP '\x1f'

enum { FX_AUDITID, FX_STAGE, FX_VERB, FX_RESOURCE };   /* ruleset.corr_fx */

struct corr_collector {
    const ruleset *rs;
};

void corr_hits_clear(corr_hits *h)
{
    h->n = 0;
    h->skipped = 0;
    h->events = 0;
    buf_clear(&h->data);
}

void corr_hits_free(corr_hits *h)
{
    pg_free(h->v);
    buf_free(&h->data);
    memset(h, 0, sizeof *h);
}

corr_collector *corr_collector_new(const ruleset *rs)
{
    corr_collector *cc = pg_calloc(1, sizeof *cc);
    if (!cc)
        return NULL;
    cc->rs = rs;
    return cc;
}

void corr_collector_free(corr_collector *cc)
{
    pg_free(cc);
}

static corr_hit *new_hit(corr_hits *h)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        corr_hit *v = pg_realloc(h->v, cap * sizeof *v);
        if (!v) {
            h->data.oom = 1;
            return NULL;
        }
        h->v = v;
        h->cap = cap;
    }
    corr_hit *x = &h->v[h->n++];
    memset(x, 0, sizeof *x);
    return x;
}

/* ka.auditid & co. of the current event, through the evaluator's cache
 * (ka.verb and ka.target.resource are there already: the rule index
 * looked them up). */
static bool extract1(corr_collector *cc, evaluator *ev, int which, fval *out)
{
    fvals v;
    const cexpr *e = cc->rs->corr_fx[which];
    if (!e || !evaluator_values(ev, e, &v) || !v.n) {
        *out = (fval){"", 0};
        return false;
    }
    *out = v.v[0];
    return true;
}

/* ------------------------------------------------------------ keys */

/* Render a template for the i-th element of its list fields (zipped);
 * false when a field has no value. */
static bool render_tmpl(evaluator *ev, const fmt_template *t, size_t i, buf *o)
{
    for (size_t k = 0; k < t->n; k++) {
        const fmt_seg *s = &t->segs[k];
        if (s->lit) {
            buf_put(o, s->lit, s->litlen);
            continue;
        }
        if (!s->expr)
            return false;
        fvals v;
        if (!evaluator_values(ev, s->expr, &v) || !v.n)
            return false;
        const fval *x = &v.v[i < v.n ? i : v.n - 1];
        buf_put(o, x->s, x->len);
    }
    return true;
}

/* Number of values of a group-by item (templates: the longest list). */
static size_t item_count(evaluator *ev, const ckey *k)
{
    fvals v;
    if (k->expr)
        return evaluator_values(ev, k->expr, &v) ? v.n : 0;
    size_t n = 1;
    for (size_t i = 0; i < k->tmpl.n; i++) {
        const fmt_seg *s = &k->tmpl.segs[i];
        if (s->lit)
            continue;
        if (!s->expr || !evaluator_values(ev, s->expr, &v) || !v.n)
            return 0;
        if (s->expr->is_list && v.n > n)
            n = v.n;
    }
    return n;
}

static void put_item(evaluator *ev, const ckey *k, size_t i, buf *o)
{
    if (k->expr) {
        fvals v;
        if (evaluator_values(ev, k->expr, &v) && i < v.n)
            buf_put(o, v.v[i].s, v.v[i].len);
        return;
    }
    render_tmpl(ev, &k->tmpl, i, o);
}

/* The keys of an event: the product of the items' values, at most
 * CORR_MAX_FANOUT; written into o one after another, each
 * '\x1f'-separated within and its end noted in ends[].  Returns how many
 * (0: an item has no value). */
static size_t make_keys(evaluator *ev, const ckey *items, size_t n, buf *o, size_t *ends)
{
    if (n == 1 && items[0].expr) {  /* the common case: one field, values as they are */
        fvals v;
        if (!evaluator_values(ev, items[0].expr, &v) || !v.n)
            return 0;
        size_t total = v.n < CORR_MAX_FANOUT ? v.n : CORR_MAX_FANOUT;
        for (size_t k = 0; k < total; k++) {
            buf_put(o, v.v[k].s, v.v[k].len);
            ends[k] = o->len;
        }
        return total;
    }
    size_t counts[16], total = 1;
    if (n > 16)
        n = 16;
    for (size_t i = 0; i < n; i++) {
        counts[i] = item_count(ev, &items[i]);
        if (!counts[i])
            return 0;
        total *= counts[i];
        if (total > CORR_MAX_FANOUT)
            total = CORR_MAX_FANOUT;
    }
    for (size_t k = 0; k < total; k++) {
        size_t rest = k;
        for (size_t i = 0; i < n; i++) {
            if (i)
                buf_putc(o, SEP);
            put_item(ev, &items[i], rest % counts[i], o);
            rest /= counts[i];
        }
        ends[k] = o->len;
    }
    return total;
}

/* ------------------------------------------------------------ capture */

static void put_u32(buf *b, uint32_t v)
{
    buf_put(b, &v, sizeof v);
}

/* Each field segment of t: seg index, count (UINT32_MAX: no value), then
 * each value's length and bytes. */
static void capture(evaluator *ev, const fmt_template *t, buf *o)
{
    for (size_t i = 0; i < t->n && i < 256; i++) {
        const fmt_seg *s = &t->segs[i];
        if (s->lit || !s->expr)
            continue;
        put_u32(o, (uint32_t)i);
        fvals v;
        if (!evaluator_values(ev, s->expr, &v)) {
            put_u32(o, UINT32_MAX);
            continue;
        }
        put_u32(o, (uint32_t)v.n);
        for (size_t k = 0; k < v.n; k++) {
            put_u32(o, (uint32_t)v.v[k].len);
            buf_put(o, v.v[k].s, v.v[k].len);
        }
    }
}

void corr_capture_open(corr_capture *c, const char *p, size_t len)
{
    c->p = p;
    c->len = len;
    for (size_t i = 0; i < 256; i++)
        c->offs[i] = SIZE_MAX;
    size_t o = 0;
    uint32_t seg, n, l;
    while (o + 8 <= len) {
        memcpy(&seg, p + o, 4);
        memcpy(&n, p + o + 4, 4);
        if (seg < 256)
            c->offs[seg] = o + 4;
        o += 8;
        if (n == UINT32_MAX)
            continue;
        for (uint32_t k = 0; k < n && o + 4 <= len; k++) {
            memcpy(&l, p + o, 4);
            o += 4 + l;
        }
    }
}

bool corr_capture_values(const corr_capture *c, size_t seg, fval *tmp, size_t max, fvals *out)
{
    if (seg >= 256 || c->offs[seg] == SIZE_MAX)
        return false;
    size_t o = c->offs[seg];
    uint32_t n, l;
    memcpy(&n, c->p + o, 4);
    o += 4;
    if (n == UINT32_MAX)
        return false;
    size_t k = 0;
    for (; k < n && k < max; k++) {
        memcpy(&l, c->p + o, 4);
        tmp[k] = (fval){c->p + o + 4, l};
        o += 4 + l;
    }
    out->v = tmp;
    out->n = k;
    return true;
}

/* ------------------------------------------------------------ hits */

typedef struct hit_base {
    uint32_t event, span;
    int64_t ts;
    uint64_t dedup;
    uint32_t info, infolen;     /* shared by the event's step hits */
    bool based;                 /* dedup computed */
} hit_base;

/* The event's request id (once per event) and, for sequences, its step
 * record (once per event). */
static void base_info(corr_collector *cc, evaluator *ev, hit_base *b, corr_hits *out, bool want_info)
{
    fval id, stage, verb, res;
    if (!b->based) {
        b->based = true;
        if (extract1(cc, ev, FX_AUDITID, &id)) {
            extract1(cc, ev, FX_STAGE, &stage);
            /* the two hashed as one string, without a copy */
            b->dedup = corr_key_hash(id.s, id.len) ^ (corr_key_hash(stage.s, stage.len) * 0x9e3779b97f4a7c15ull);
            b->dedup |= 1;
        }
    }
    if (!want_info || b->infolen)
        return;
    extract1(cc, ev, FX_AUDITID, &id);
    extract1(cc, ev, FX_VERB, &verb);
    extract1(cc, ev, FX_RESOURCE, &res);
    b->info = (uint32_t)out->data.len;
    buf_put(&out->data, id.s, id.len);
    buf_putc(&out->data, SEP);
    buf_put_u64(&out->data, (unsigned long long)(b->ts < 0 ? 0 : b->ts), 0);
    buf_putc(&out->data, SEP);
    buf_put(&out->data, verb.s, verb.len);
    buf_putc(&out->data, SEP);
    buf_put(&out->data, res.s, res.len);
    b->infolen = (uint32_t)(out->data.len - b->info);
}

/* One hit per key (and per counted value) of a matched step. */
static void emit_hits(evaluator *ev, const crule *r, uint32_t rule, int32_t step,
                      const cstepdef *sd, const hit_base *b, corr_hits *out)
{
    const ccorr *c = r->corr;
    size_t kends[CORR_MAX_FANOUT], vends[CORR_MAX_FANOUT];
    size_t kstart = out->data.len;
    size_t nk = make_keys(ev, sd->group_by, sd->ngroup, &out->data, kends);
    if (sd->ngroup == 0) {      /* no group_by: one key for all */
        nk = 1;
        kends[0] = kstart;
    }
    if (!nk) {
        out->skipped++;
        return;
    }
    size_t nv = 0, vstart = out->data.len;
    bool counted = step >= 0 && (c->type == CC_VALUE_COUNT || c->type == CC_NEW_VALUE);
    if (step >= 0 && c->nfield) {
        ckey items[CCORR_MAX_FIELDS];
        for (size_t i = 0; i < c->nfield; i++)
            items[i] = (ckey){.expr = c->field[i]};
        nv = make_keys(ev, items, c->nfield, &out->data, vends);
        if (!nv && counted) {
            out->skipped++;
            return;
        }
        if (!counted && nv > 1)
            nv = 1;     /* event_count: one sample */
    }
    size_t cstart = out->data.len;
    if (step >= 0)
        capture(ev, &r->out, &out->data);
    size_t cend = out->data.len;
    for (size_t k = 0; k < nk; k++) {
        size_t ks = k ? kends[k - 1] : kstart;
        for (size_t v = 0; v < (nv ? nv : 1); v++) {
            corr_hit *h = new_hit(out);
            if (!h)
                return;
            size_t vs = v ? vends[v - 1] : vstart;
            *h = (corr_hit){
                .rule = rule, .step = step, .span = b->span, .event = b->event, .ts = b->ts,
                .dedup = b->dedup,
                .key = (uint32_t)ks, .keylen = (uint32_t)(kends[k] - ks),
                .keyhash = corr_key_hash(out->data.data + ks, kends[k] - ks),
                .val = (uint32_t)vs, .vallen = nv ? (uint32_t)(vends[v] - vs) : 0,
                .info = b->info, .infolen = b->infolen,
                .cap = (uint32_t)cstart, .caplen = (uint32_t)(cend - cstart),
            };
        }
    }
}

void corr_collect_event(corr_collector *cc, evaluator *ev, field_ctx *fc, uint32_t spans, corr_hits *out)
{
    const ruleset *rs = cc->rs;
    if (!rs->corr_index)
        return;
    const fval *keys[2] = {NULL, NULL};
    fvals tmp[2];
    for (int k = 0; k < 2; k++) {
        const cexpr *e = index_key_expr(rs->corr_index, k);
        if (e && evaluator_values(ev, e, &tmp[k]) && tmp[k].n)
            keys[k] = &tmp[k].v[0];
    }
    const uint32_t *cand;
    size_t nc = index_candidates(rs->corr_index, keys, &cand);
    hit_base b = {.event = out->events++, .span = spans, .ts = fc->ev->ts_ns};
    uint32_t seq_done = UINT32_MAX;     /* a sequence this event already filled a step of */
    for (size_t i = 0; i < nc; i++) {
        const corr_step_ref *sr = &rs->corr_steps[cand[i]];
        const crule *r = &rs->rules[sr->rule];
        const ccorr *c = r->corr;
        bool seq = c->type == CC_TEMPORAL || c->type == CC_TEMPORAL_ORDERED;
        /* later steps first: one event never fills two steps of one
         * sequence (see docs/stateful.md) */
        if (sr->step >= 0 && seq && seq_done == sr->rule)
            continue;
        if (!evaluator_test(ev, &sr->sd->prog))
            continue;
        base_info(cc, ev, &b, out, seq && sr->step >= 0);
        emit_hits(ev, r, sr->rule, sr->step >= 0 ? sr->step : CORR_HIT_UNTIL, sr->sd, &b, out);
        if (seq && sr->step >= 0)
            seq_done = sr->rule;
    }
}

void corr_collect_alert(corr_collector *cc, evaluator *ev, field_ctx *fc, uint32_t rule, uint32_t span,
                        corr_hits *out)
{
    const crule *r = &cc->rs->rules[rule];
    const csuppress *sp = r->sup;
    hit_base b = {.event = out->events, .span = span, .ts = fc->ev->ts_ns};
    size_t kends[CORR_MAX_FANOUT], kstart = out->data.len;
    size_t nk = make_keys(ev, sp->by, sp->nby, &out->data, kends);
    if (!nk) {                  /* no key value: the alert goes out unsuppressed */
        out->data.len = kstart;
        return;
    }
    corr_hit *h = new_hit(out);
    if (!h)
        return;
    /* one key: the first combination (an alert is one alert) */
    *h = (corr_hit){.rule = rule, .step = CORR_HIT_ALERT, .span = span, .event = b.event, .ts = b.ts,
                    .key = (uint32_t)kstart, .keylen = (uint32_t)(kends[0] - kstart),
                    .keyhash = corr_key_hash(out->data.data + kstart, kends[0] - kstart)};
}
