/*
 * corr_emit — correlation decisions into a chunk's alerts (see corr_emit.h).
 */
#include "engine/corr_emit.h"
#include "correlate/store.h"
#include "correlate/store_redis.h"
#include "correlate/values.h"
#include "rules/compiled.h"
#include "rules/correlation.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct corr_emit {
    corr_stage *st;
    corr_store *store;          /* the stage's (owned by it) */
    alert_opts ao;
    char hostname[256];
    corr_emit_opts o;
    buf text;                   /* the rewritten alerts (swapped with the result's) */
    alert_span *spans;
    size_t nspans, capspans;
    corr_values vals;
    corr_capture cap;
    time_t last_snapshot;
};

corr_emit *corr_emit_new(corr_stage *st, const alert_opts *ao, const corr_emit_opts *o)
{
    corr_emit *ce = pg_calloc(1, sizeof *ce);
    if (!ce) {
        corr_stage_free(st);
        return NULL;
    }
    ce->st = st;
    ce->ao = *ao;
    snprintf(ce->hostname, sizeof ce->hostname, "%s", ao->hostname ? ao->hostname : "");
    ce->ao.hostname = ce->hostname;
    ce->o = *o;
    ce->last_snapshot = time(NULL);
    return ce;
}

void corr_emit_free(corr_emit *ce)
{
    if (!ce)
        return;
    corr_stage_free(ce->st);
    buf_free(&ce->text);
    pg_free(ce->spans);
    corr_values_free(&ce->vals);
    pg_free(ce);
}

corr_stage *corr_emit_stage(corr_emit *ce)
{
    return ce->st;
}

static int add_span(corr_emit *ce, size_t off, uint32_t rule)
{
    if (ce->nspans == ce->capspans) {
        size_t cap = ce->capspans ? 2 * ce->capspans : 64;
        alert_span *n = pg_realloc(ce->spans, cap * sizeof *n);
        if (!n) {
            ce->text.oom = 1;   /* the chunk's own alerts go out instead */
            return -ENOMEM;
        }
        ce->spans = n;
        ce->capspans = cap;
    }
    ce->spans[ce->nspans++] = (alert_span){(uint32_t)off, (uint32_t)(ce->text.len - off), rule};
    return 0;
}

/* A correlation alert's values: %corr.* from the stage, the rest from the
 * capture taken when the completing event was evaluated. */
typedef struct cap_src {
    corr_emit *ce;
    const fmt_template *t;
    fval tmp[64];
} cap_src;

static bool cap_values(void *ctx, const fmt_seg *s, fvals *out)
{
    cap_src *c = ctx;
    if (s->corr) {
        const corr_values *v = &c->ce->vals;
        out->one = (fval){v->text.data + v->off[s->corr], v->len[s->corr]};
        out->v = &out->one;
        out->n = 1;
        return true;
    }
    return corr_capture_values(&c->ce->cap, (size_t)(s - c->t->segs), c->tmp, 64, out);
}

static void render_fire(corr_emit *ce, const ruleset *rs, const corr_hits *h, const corr_hit *x,
                        const store_op *op)
{
    const crule *r = &rs->rules[x->rule];
    const char *opdata = corr_stage_opdata(ce->st)->data;
    corr_values_render(r->corr, x, h->data.data, op, opdata ? opdata : "", ce->ao.json, &ce->vals);
    corr_capture_open(&ce->cap, h->data.data + x->cap, x->caplen);
    cap_src src = {.ce = ce, .t = &r->out};
    alert_src as = {cap_values, &src};
    size_t off = ce->text.len;
    alert_render_src(r, &as, x->ts, &ce->ao, ce->ao.json ? buf_cstr(&ce->vals.json) : NULL, &ce->text);
    add_span(ce, off, x->rule);
}

static void maybe_snapshot(corr_emit *ce)
{
    if (!ce->o.state_file || ce->o.snapshot_interval_s <= 0)
        return;
    time_t now = time(NULL);
    if (now - ce->last_snapshot < ce->o.snapshot_interval_s)
        return;
    ce->last_snapshot = now;
    char err[512];
    if (corr_emit_save(ce, err, sizeof err))
        log_msg("correlations: cannot write the state file: %s", err);
}

void corr_emit_apply(corr_emit *ce, const ruleset *rs, worker_result *r)
{
    const corr_hits *h = &r->hits;
    const corr_decision *dec;
    if (corr_stage_run(ce->st, rs, h, &dec) || !h->n) {
        maybe_snapshot(ce);
        return;
    }
    buf_clear(&ce->text);
    ce->nspans = 0;
    size_t hi = 0, fired = 0, dropped = 0;
    /* Hits are in event order; a hit's `span` says where it goes: an
     * event's hits before the next event's first alert, a suppress hit
     * just before the alert it decides. */
    for (size_t j = 0; j <= r->nspans; j++) {
        bool drop = false;
        for (; hi < h->n && h->v[hi].span <= j; hi++) {
            const corr_hit *x = &h->v[hi];
            if (x->step == CORR_HIT_ALERT)
                drop |= x->span == j && dec[hi].drop;
            else if (dec[hi].fire) {
                render_fire(ce, rs, h, x, dec[hi].op);
                fired++;
            }
        }
        if (j == r->nspans)
            break;
        if (drop) {
            dropped++;
            continue;
        }
        const alert_span *s = &r->spans[j];
        size_t off = ce->text.len;
        buf_put(&ce->text, r->text.data + s->off, s->len);
        add_span(ce, off, s->rule);
    }
    if (ce->text.oom) {     /* keep the chunk's own alerts rather than a cut list */
        buf_clear(&ce->text);
        maybe_snapshot(ce);
        return;
    }
    buf t = r->text;
    r->text = ce->text;
    ce->text = t;
    alert_span *sp = r->spans;
    size_t cap = r->capspans;
    r->spans = ce->spans;
    r->nspans = ce->nspans;
    r->capspans = ce->capspans;
    ce->spans = sp;
    ce->capspans = cap;
    ce->nspans = 0;
    r->counts.alerts = r->counts.alerts + fired - dropped;
    maybe_snapshot(ce);
}

int corr_emit_load(corr_emit *ce, char *err, size_t errlen)
{
    if (!ce->o.state_file)
        return 0;
    if (access(ce->o.state_file, F_OK) && errno == ENOENT)
        return 0;
    return corr_stage_load(ce->st, ce->o.state_file, err, errlen);
}

int corr_emit_save(corr_emit *ce, char *err, size_t errlen)
{
    if (!ce->o.state_file)
        return 0;
    return corr_stage_save(ce->st, ce->o.state_file, err, errlen);
}

/* Where correlation state lives: correlations.store (Redis), or this
 * process.  NULL with the reason in err. */
static corr_store *new_store(const config *cfg, bool shared, char *err, size_t errlen)
{
    mem_store_opts mo = {.max_groups = cfg->corr_max_groups, .max_bytes = cfg->corr_max_bytes};
    if (!shared) {
        corr_store *s = mem_store_new(&mo);
        if (!s)
            snprintf(err, errlen, "out of memory");
        return s;
    }
    redis_store_opts ro = {.url = cfg->corr_store, .key_prefix = cfg->corr_key_prefix,
                           .ca_file = cfg->corr_store_ca,
                           .timeout_ms = (int64_t)(cfg->corr_store_timeout_s * 1000 + 0.5),
                           .lateness_ns = (int64_t)(cfg->corr_lateness_s * 1e9), .mem = mo};
    corr_store *s = NULL;
    char why[768];
    int rc = redis_store_new(&ro, &s, why, sizeof why);
    if (rc)
        snprintf(err, errlen, "correlations.store: %s", why);
    else if (why[0])
        log_msg("correlations: %s", why);
    return s;
}

/* The ordered correlation stage with its store; the in-process store's
 * state file loaded (a bad one is reported; the run starts fresh).  With
 * Redis the state lives there: no state file. */
corr_emit *corr_emit_from_config(const config *cfg, bool persist, char *err, size_t errlen)
{
    char ebuf[1024];
    if (!err) {
        err = ebuf;
        errlen = sizeof ebuf;
    }
    snprintf(err, errlen, "out of memory");
    bool shared = persist && cfg->corr_store && cfg->corr_store[0];
    corr_store *store = new_store(cfg, shared, err, errlen);
    corr_stage_opts so = {.lateness_ns = (int64_t)(cfg->corr_lateness_s * 1e9)};
    corr_stage *st = store ? corr_stage_new(&so, store) : NULL;
    if (!st)
        return NULL;
    alert_opts ao;
    char host[256];
    worker_alert_opts(cfg, host, sizeof host, &ao);
    if (shared && cfg->corr_state_file)
        log_msg("correlations: state_file ignored: the state lives in correlations.store");
    corr_emit_opts co = {.state_file = persist && !shared ? cfg->corr_state_file : NULL,
                         .snapshot_interval_s = (int64_t)cfg->corr_snapshot_interval_s};
    corr_emit *ce = corr_emit_new(st, &ao, &co);
    if (!ce)
        return NULL;
    ce->store = store;
    char lerr[512];
    if (corr_emit_load(ce, lerr, sizeof lerr))
        log_msg("correlations: state file not loaded, starting fresh: %s", lerr);
    return ce;
}

corr_store *corr_emit_store(corr_emit *ce)
{
    return ce->store;
}

