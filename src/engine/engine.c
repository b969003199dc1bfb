/*
 * engine — sources → pipeline → output (see engine.h).
 */
#include "engine/engine.h"
#include "engine/corr_emit.h"
#include "engine/pipeline.h"
#include "engine/progress.h"
#include "json/json.h"
#include "util/alloc.h"
#include "util/line_reader.h"
#include "util/log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct engine {
    engine_opts o;
    pipeline *pipe;
    worker_shared shared;
    _Atomic uint64_t busy;      /* webhook bodies refused for lack of room */
    corr_emit *corr;            /* detection mode: the ordered correlation stage */
    progress prog;              /* file input on a terminal */
    line_reader rd;             /* engine_read_fd: lines of the stream being read */
    file_stats fs;
};

/* ------------------------------------------------------------ output */

static void emit_chunk(void *ctx, const chunk *c)
{
    engine *e = ctx;
    const worker_result *r = &c->res;
    if (e->o.sink.emit) {
        if (r->nspans || (!e->o.rs && r->text.len))
            e->o.sink.emit(e->o.sink.ctx, chunk_ruleset(c), r->text.data, r->text.len, r->spans, r->nspans);
        return;
    }
    if (r->text.len && (!e->o.rs || e->o.cfg->stdout_enabled))
        fwrite(r->text.data, 1, r->text.len, e->o.out);
    if (e->o.unbuffered)
        fflush(e->o.out);
}

static void flush_output(void *ctx)
{
    engine *e = ctx;
    if (e->o.sink.flush)
        e->o.sink.flush(e->o.sink.ctx);
    else if (e->o.out)
        fflush(e->o.out);
}

/* ------------------------------------------------------------ lifecycle */

/* pipeline progress: the live progress line of a file run */
static void on_progress(void *ctx, uint64_t bytes)
{
    engine *e = ctx;
    if (!progress_due(&e->prog))
        return;
    run_counts c;
    pipeline_counts(e->pipe, &c);
    progress_draw(&e->prog, bytes, c.events, c.alerts);
}

engine *engine_new(const engine_opts *o)
{
    engine *e = pg_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->o = *o;
    atomic_init(&e->shared.evt_num, 0);
    atomic_init(&e->shared.first_ts, INT64_MIN);
    int nworkers = o->threads > 1 ? o->threads : o->concurrent_sources ? 1 : 0;
    char err[1024] = "out of memory";
    if (o->rs && !(e->corr = corr_emit_from_config(o->cfg, true, err, sizeof err))) {
        if (o->err)
            snprintf(o->err, o->errlen, "%s", err);
        pg_free(e);
        return NULL;
    }
    pipeline_opts po = {
        .nworkers = nworkers,
        /* big chunk buffers (lines and bodies over 1 MiB) kept between
         * uses: a file run keeps what its chunks in flight held anyway; a
         * serving run at most 1/32 of the webhook's in-flight budget, on
         * top of that budget */
        .retain_bytes = o->concurrent_sources && o->cfg ? o->cfg->webhook_max_inflight / 32 : SIZE_MAX,
        /* webhook requests acknowledged once written: their threads
         * evaluate their own bodies (as many at once as workers) — only
         * where evaluation is parallel anyway: one thread evaluates
         * chunks one after the other, in order (evt.num, rules that need
         * input order, run on one) */
        .guests = o->concurrent_sources && nworkers > 1 && o->rs && !ruleset_uses_order(o->rs) ? nworkers : 0,
        .wo = {
            .cfg = o->cfg,
            .rs = o->rs,
            .extract = o->extract,
            .extract_text = o->extract_text,
            .nextract = o->nextract,
            /* shared numbering costs a contended atomic per event: only
             * when something reads the numbers (or in extract mode) */
            .shared = nworkers && (!o->rs || ruleset_uses_order(o->rs)) ? &e->shared : NULL,
        },
        .emit = emit_chunk,
        .idle = flush_output,
        .progress = on_progress,
        .ctx = e,
        .corr = e->corr,
    };
    if (!(e->pipe = pipeline_new(&po))) {
        corr_emit_free(e->corr);
        pg_free(e);
        return NULL;
    }
    line_reader_init(&e->rd, config_payload_limit(o->cfg), &e->fs);
    return e;
}

void engine_free(engine *e)
{
    if (!e)
        return;
    pipeline_free(e->pipe);
    flush_output(e);
    line_reader_free(&e->rd);
    if (e->corr) {
        char err[512];
        if (corr_emit_save(e->corr, err, sizeof err))
            log_msg("correlations: cannot write the state file: %s", err);
        corr_emit_free(e->corr);
    }
    pg_free(e);
}

void engine_drain(engine *e)
{
    pipeline_drain(e->pipe);
    flush_output(e);
}

/* ------------------------------------------------------------ line input */

void engine_line_too_long(void *ctx, const char *origin, uint64_t lineno, uint64_t bytes)
{
    pipeline_line_too_long(((engine *)ctx)->pipe, origin, lineno, bytes);
}

int engine_line(void *ctx, char *line, size_t len, const char *origin, uint64_t lineno)
{
    return pipeline_line(((engine *)ctx)->pipe, line, len, origin, lineno);
}

void engine_input_begin(engine *e, const char *label) { progress_start(&e->prog, label); }

int engine_read_fd(engine *e, int fd, const char *origin, char *err, size_t errlen)
{
    line_reader_start(&e->rd, origin);
    return pipeline_read(e->pipe, &e->rd, fd, err, errlen);
}

int engine_input_end(engine *e, int rc, char *err, size_t errlen)
{
    pipeline_lines_flush(e->pipe);
    engine_drain(e);
    progress_end(&e->prog);
    if (rc == -ENOMEM && !err[0])
        snprintf(err, errlen, "out of memory");
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------ webhook input */

static void on_body_drop(void *ctx, const char *msg)
{
    chunk *c = ctx;
    log_k8saudit_to(&c->res.log, "%s (%s)", msg, buf_cstr(&c->origin));
}

engine_submit_rc engine_submit_body(engine *e, const char *body, size_t len, const char *origin,
                                    const char *cluster, engine_submit_info *info, char *err, size_t errlen)
{
    return engine_submit_events(e, body, len, origin, cluster, false, NULL, info, err, errlen);
}

engine_submit_rc engine_submit_events(engine *e, const char *body, size_t len, const char *origin,
                                      const char *cluster, bool marked, const run_counts *extra,
                                      engine_submit_info *info, char *err, size_t errlen)
{
    chunk *c = pipeline_chunk_get(e->pipe, CHUNK_EVENTS, false);
    if (!c) {
        atomic_fetch_add(&e->busy, 1);
        snprintf(err, errlen, "evaluation queue full");
        return ENGINE_BUSY;
    }
    buf_puts(&c->origin, origin);
    if (cluster && *cluster)
        buf_puts(&c->cluster, cluster);
    /* Acknowledged once written (webhookAck: written), the caller waits
     * until the chunk is emitted: its body outlives every use of the chunk,
     * so it is parsed where it is.  Else the chunk keeps a copy. */
    bool in_place = !e->o.cfg->webhook_ack_queued;
    const char *text = body;
    if (!in_place) {
        buf_reserve(&c->data, len + 1);
        buf_put(&c->data, body, len);
        buf_putc(&c->data, '\0');
        text = c->data.data;
    }
    if (c->data.oom || c->origin.oom) {
        pipeline_chunk_put(e->pipe, c);
        snprintf(err, errlen, "out of memory");
        return ENGINE_NOMEM;
    }
    c->marked = marked;
    if (extra)
        c->res.counts = *extra;
    else {
        c->res.counts.payloads = 1;
        c->res.counts.bytes = len;
    }
    engine_submit_rc rc = ENGINE_QUEUED;
    int prc = json_parse(&c->doc, text ? text : "", len);
    if (prc == -ENOMEM) {
        pipeline_chunk_put(e->pipe, c);
        snprintf(err, errlen, "out of memory");
        return ENGINE_NOMEM;
    }
    if (prc) {
        snprintf(err, errlen, "cannot parse JSON: %s", c->doc.err);
        c->res.counts.malformed = 1;
        rc = ENGINE_BAD_JSON;
    } else {
        event_limits lim = {.max_event_size = e->o.cfg->max_event_size};
        int src = event_split(&c->doc, &lim, &c->batch, on_body_drop, c, err, errlen);
        c->res.counts.dropped_events = c->batch.dropped;
        c->res.counts.oversized_events = c->batch.oversized;
        if (event_drops_unsaid(&c->batch))
            log_k8saudit_to(&c->res.log, "... and %zu more events dropped (%zu in this body, %zu over maxEventSize) (%s)",
                            event_drops_unsaid(&c->batch), c->batch.dropped, c->batch.oversized, origin);
        if (src == -ENOMEM) {
            pipeline_chunk_put(e->pipe, c);
            snprintf(err, errlen, "out of memory");
            return ENGINE_NOMEM;
        }
        if (src) {
            /* all or nothing: a body the sender will not resend in part */
            c->res.counts.unrecognized = 1;
            c->batch.n = 0;
            rc = ENGINE_NOT_AUDIT;
        }
    }
    info->events = c->batch.n;
    info->dropped = c->batch.dropped;
    if (rc != ENGINE_QUEUED)
        log_k8saudit_to(&c->res.log, "%s (%s); body refused", err, origin);
    /* refused bodies go through too, so their counts and messages come out
     * in order with everything else; accepted ones are acknowledged once
     * their alerts are written (webhookAck: written), so a crash loses no
     * acknowledged event's alerts, or once queued (webhookAck: queued) */
    if (rc == ENGINE_QUEUED && !e->o.cfg->webhook_ack_queued)
        pipeline_submit_acked(e->pipe, c);
    else
        pipeline_submit(e->pipe, c);
    return rc;
}

/* ------------------------------------------------------------ statistics */

void engine_counts(engine *e, run_counts *out) { pipeline_counts(e->pipe, out); }

typedef struct rule_tally {
    uint64_t sev[PRI__COUNT];
} rule_tally;

static void tally_severity(void *ctx, const char *name, int prio, uint64_t n)
{
    (void)name;
    ((rule_tally *)ctx)->sev[prio] += n;
}

static void print_rule_count(void *ctx, const char *name, int prio, uint64_t n)
{
    (void)prio;
    fprintf(ctx, "   %s: %llu\n", name, (unsigned long long)n);
}

const config *engine_config(const engine *e) { return e->o.cfg; }
int engine_set_ruleset(engine *e, ruleset *rs) { return pipeline_set_ruleset(e->pipe, rs); }
size_t engine_pending(engine *e) { return pipeline_pending(e->pipe); }
const struct histogram *engine_eval_histogram(engine *e) { return pipeline_eval_histogram(e->pipe); }
const ruleset *engine_ruleset(engine *e) { return pipeline_ruleset(e->pipe); }
uint64_t engine_busy_refusals(engine *e) { return atomic_load(&e->busy); }
struct corr_stage *engine_corr_stage(engine *e) { return e->corr ? corr_emit_stage(e->corr) : NULL; }

bool engine_corr_store_health(engine *e, redis_store_health *out)
{
    return e->corr && redis_store_health_get(corr_emit_store(e->corr), out);
}

void engine_rule_totals(engine *e, void (*fn)(void *ctx, const char *name, int prio, uint64_t n), void *ctx)
{
    pipeline_rule_totals(e->pipe, fn, ctx);
}

void engine_print_stats(engine *e, double elapsed_s, FILE *out)
{
    run_counts s;
    pipeline_counts(e->pipe, &s);
    fprintf(out, "Elapsed time: %.3f, Captured Events: %llu, %.2f eps\n", elapsed_s,
            (unsigned long long)s.events, elapsed_s > 0 ? (double)s.events / elapsed_s : 0.0);
    fprintf(out, "Input: %llu payloads, %llu malformed, %llu not audit events, %llu events dropped "
                 "(%llu over maxEventSize), %llu lines over the payload limit\n",
            (unsigned long long)s.payloads, (unsigned long long)s.malformed, (unsigned long long)s.unrecognized,
            (unsigned long long)s.dropped_events, (unsigned long long)s.oversized_events,
            (unsigned long long)s.too_long);
    if (s.env_payloads || s.duplicates)
        fprintf(out, "Envelopes: %llu payloads, %llu records, %llu control messages, %llu non-audit records "
                     "skipped, %llu truncated, %llu undecodable; %llu duplicate events not evaluated again\n",
                (unsigned long long)s.env_payloads, (unsigned long long)s.env_records,
                (unsigned long long)s.env_control, (unsigned long long)s.env_skipped,
                (unsigned long long)s.env_truncated, (unsigned long long)s.env_bad,
                (unsigned long long)s.duplicates);
    if (log_suppressed_total())
        fprintf(out, "Log: %llu lines held back by the log rate limit\n", (unsigned long long)log_suppressed_total());
    uint64_t busy = atomic_load(&e->busy);
    if (busy)
        fprintf(out, "Webhook: %llu requests refused with 503 (evaluation queue full; the sender retries)\n",
                (unsigned long long)busy);
    if (!e->o.rs)
        return;
    if (s.regex_limit_hits)
        fprintf(out, "Rules: %llu regex checks stopped at their backtracking bound (taken as no match)\n",
                (unsigned long long)s.regex_limit_hits);
    fprintf(out, "Events detected: %llu\n", (unsigned long long)s.alerts);
    fprintf(out, "Rule counts by severity:\n");
    rule_tally t = {0};
    pipeline_rule_totals(e->pipe, tally_severity, &t);
    for (int p = 0; p < PRI__COUNT; p++)
        if (t.sev[p])
            fprintf(out, "   %s: %llu\n", priority_short[p], (unsigned long long)t.sev[p]);
    fprintf(out, "Triggered rules by rule name:\n");
    pipeline_rule_totals(e->pipe, print_rule_count, out);
    if (e->corr)
        corr_stage_print_stats(corr_emit_stage(e->corr), out);
    fflush(out);
}
