/*
 * metrics — Prometheus text format (see metrics.h).
 */
#include "ops/metrics.h"
#include "correlate/stage.h"
#include "util/log.h"
#include "source/webhook_routes.h"
#include "output/outputs.h"
#include "util/alloc.h"
#include "util/histogram.h"

#include <string.h>

#ifndef PEREGRINE_VERSION
#define PEREGRINE_VERSION "0.1.0"
#endif

void metrics_label(buf *out, const char *s)
{
    buf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_putc(out, '\\');
        if (*s == '\n') {
            buf_puts(out, "\\n");
            continue;
        }
        buf_putc(out, *s);
    }
    buf_putc(out, '"');
}

static void help(buf *o, const char *name, const char *type, const char *text)
{
    buf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void counter(buf *o, const char *name, const char *labels, uint64_t v)
{
    buf_printf(o, "%s%s%s%s %llu\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
               (unsigned long long)v);
}

typedef struct alert_ctx {
    buf *o;
} alert_ctx;

static void alert_line(void *ctx, const char *name, int prio, uint64_t n)
{
    buf *o = ((alert_ctx *)ctx)->o;
    buf_puts(o, "peregrine_alerts_total{rule=");
    metrics_label(o, name);
    buf_printf(o, ",priority=\"%s\"} %llu\n", priority_names[prio], (unsigned long long)n);
}

/* Cloud and shipper envelopes (src/envelope/) and duplicates. */
static void render_envelopes(buf *o, const char *src, const run_counts *cp)
{
    run_counts c = *cp;
    char lb[160];
    help(o, "peregrine_envelope_payloads_total", "counter", "Payloads that were cloud or shipper envelopes.");
    counter(o, "peregrine_envelope_payloads_total", src, c.env_payloads);
    help(o, "peregrine_envelope_records_total", "counter", "Records inside envelopes, by outcome (dropped ones).");
    static const char *const outcome[] = {"received", "control", "non_audit", "truncated", "undecodable"};
    const uint64_t ov[] = {c.env_records, c.env_control, c.env_skipped, c.env_truncated, c.env_bad};
    for (size_t i = 0; i < 5; i++) {
        snprintf(lb, sizeof lb, "%s,outcome=\"%s\"", src, outcome[i]);
        counter(o, "peregrine_envelope_records_total", lb, ov[i]);
    }
    help(o, "peregrine_events_duplicate_total", "counter",
         "Envelope events whose (auditID, stage) was seen within duplicateWindow: not evaluated again.");
    counter(o, "peregrine_events_duplicate_total", src, c.duplicates);
}

/* The /ingest routes (source/webhook_routes.c), by route. */
static void render_ingest(buf *o, const webhook *wh)
{
    char lb[160];
    ingest_stats is;
    ingest_get_stats(webhook_ingest(wh), &is);
    static const struct {
        const char *name, *help;
    } ing[] = {
        {"peregrine_ingest_requests_total", "Requests with a body on the /ingest routes, by route."},
        {"peregrine_ingest_events_total", "Audit events queued from the /ingest routes, by route."},
        {"peregrine_ingest_unauthorized_total", "Requests refused with 401 on the /ingest routes, by route."},
    };
    const uint64_t *iv[] = {is.requests, is.events, is.unauthorized};
    for (size_t k = 0; k < 3; k++) {
        help(o, ing[k].name, "counter", ing[k].help);
        for (int r = ROUTE_FIREHOSE; r < ROUTE__COUNT; r++) {
            snprintf(lb, sizeof lb, "route=\"%s\"", ingest_route_name[r]);
            counter(o, ing[k].name, lb, iv[k][r]);
        }
    }
}

/* Stateful detection: per correlation (and suppressing rule), and totals. */
static void render_correlations(buf *o, corr_stage *st)
{
    enum { MAXR = 1024, NAMES = MAXR * 96 };
    corr_rule_stats *rs = pg_malloc(MAXR * sizeof *rs);
    char *names = pg_malloc(NAMES);
    size_t n = rs && names ? corr_stage_rule_stats(st, rs, MAXR, names, NAMES) : 0;
    if (n > MAXR)
        n = MAXR;
    static const struct {
        const char *name, *type, *help;
    } series[] = {
        {"peregrine_correlation_keys", "gauge", "Keys held, by correlation (or rule with suppress)."},
        {"peregrine_correlation_evictions_total", "counter", "Keys evicted at max_groups or max_bytes."},
        {"peregrine_correlation_late_total", "counter", "Events older than the watermark, not counted."},
        {"peregrine_correlation_alerts_total", "counter", "Alerts raised (suppress: alerts let through)."},
        {"peregrine_correlation_suppressed_total", "counter", "Hits suppressed after an alert."},
    };
    for (size_t k = 0; k < sizeof series / sizeof *series; k++) {
        help(o, series[k].name, series[k].type, series[k].help);
        for (size_t i = 0; i < n; i++) {
            uint64_t v = k == 0 ? rs[i].keys : k == 1 ? rs[i].evictions : k == 2 ? rs[i].late
                       : k == 3 ? rs[i].alerts : rs[i].suppressed;
            buf_printf(o, "%s{rule=", series[k].name);
            metrics_label(o, rs[i].name);
            buf_printf(o, "} %llu\n", (unsigned long long)v);
        }
    }
    pg_free(rs);
    pg_free(names);
    corr_stage_totals t;
    corr_stage_totals_get(st, &t);
    help(o, "peregrine_correlation_duplicates_total", "counter", "Requests seen again (same auditID and stage), counted once.");
    counter(o, "peregrine_correlation_duplicates_total", "", t.duplicates);
    help(o, "peregrine_correlation_skipped_total", "counter", "Matching events without a value for a key or counted field.");
    counter(o, "peregrine_correlation_skipped_total", "", t.skipped);
    help(o, "peregrine_correlation_errors_total", "counter", "Hits not applied (out of memory, store errors).");
    counter(o, "peregrine_correlation_errors_total", "", t.errors);
    help(o, "peregrine_correlation_state_bytes", "gauge", "Bytes of correlation state held (max_bytes bounds it).");
    buf_printf(o, "peregrine_correlation_state_bytes %llu\n", (unsigned long long)t.bytes);
}

/* The rules in use and their reloads. */
static void render_rules(buf *o, const metrics_sources *m)
{
    const ruleset *rs = engine_ruleset(m->eng);
    size_t on = 0, n = rs ? ruleset_count(rs) : 0;
    for (size_t i = 0; i < n; i++)
        on += ruleset_rule(rs, i)->enabled;
    help(o, "peregrine_rules_loaded", "gauge", "Rules in the ruleset in use.");
    buf_printf(o, "peregrine_rules_loaded %zu\n", n);
    help(o, "peregrine_rules_enabled", "gauge", "Enabled rules in the ruleset in use.");
    buf_printf(o, "peregrine_rules_enabled %zu\n", on);
    if (m->reload) {
        help(o, "peregrine_rules_reloads_total", "counter", "Rules reloads, by result.");
        counter(o, "peregrine_rules_reloads_total", "result=\"success\"", atomic_load(&m->reload->ok));
        counter(o, "peregrine_rules_reloads_total", "result=\"failure\"", atomic_load(&m->reload->failed));
        counter(o, "peregrine_rules_reloads_total", "result=\"refused\"", atomic_load(&m->reload->refused));
        help(o, "peregrine_rules_generation", "gauge",
             "The rules set in use: 1 at start, one more per reload taken (the log says each one's rules).");
        buf_printf(o, "peregrine_rules_generation %llu\n", (unsigned long long)atomic_load(&m->reload->generation));
        uint64_t last_ms = atomic_load(&m->reload->last_time_ms);
        help(o, "peregrine_rules_last_reload_timestamp_seconds", "gauge", "Time of the last reload attempt (0: none).");
        buf_printf(o, "peregrine_rules_last_reload_timestamp_seconds %.3f\n", (double)last_ms / 1e3);
        help(o, "peregrine_rules_last_reload_success", "gauge", "1 if the last reload attempt succeeded (or none was made).");
        buf_printf(o, "peregrine_rules_last_reload_success %d\n", last_ms == 0 || atomic_load(&m->reload->last_ok));
    }
}

void metrics_render(const metrics_sources *m, buf *o)
{
    run_counts c;
    engine_counts(m->eng, &c);
    char src[64];
    snprintf(src, sizeof src, "source=\"%s\"", m->source);
    char lb[160];

    help(o, "peregrine_build_info", "gauge", "Build information.");
    buf_printf(o, "peregrine_build_info{version=\"%s\",k8saudit=\"0.18.0\",json=\"0.7.4\"} 1\n", PEREGRINE_VERSION);
    help(o, "peregrine_start_time_seconds", "gauge", "Start time, Unix seconds.");
    buf_printf(o, "peregrine_start_time_seconds %.3f\n", m->start_time);

    help(o, "peregrine_payloads_received_total", "counter", "Payloads (JSONL lines, request bodies) received.");
    counter(o, "peregrine_payloads_received_total", src, c.payloads);
    help(o, "peregrine_payload_bytes_total", "counter", "Bytes of the payloads received.");
    counter(o, "peregrine_payload_bytes_total", src, c.bytes);
    help(o, "peregrine_payloads_rejected_total", "counter", "Payloads rejected whole, by reason.");
    snprintf(lb, sizeof lb, "%s,reason=\"malformed_json\"", src);
    counter(o, "peregrine_payloads_rejected_total", lb, c.malformed);
    snprintf(lb, sizeof lb, "%s,reason=\"not_audit_event\"", src);
    counter(o, "peregrine_payloads_rejected_total", lb, c.unrecognized);
    snprintf(lb, sizeof lb, "%s,reason=\"over_size_limit\"", src);
    counter(o, "peregrine_payloads_rejected_total", lb, c.too_long);
    help(o, "peregrine_events_evaluated_total", "counter", "Audit events parsed and evaluated against the rules.");
    counter(o, "peregrine_events_evaluated_total", src, c.events);
    help(o, "peregrine_events_dropped_total", "counter", "Single events dropped, by reason.");
    snprintf(lb, sizeof lb, "%s,reason=\"oversized\"", src);
    counter(o, "peregrine_events_dropped_total", lb, c.oversized_events);
    snprintf(lb, sizeof lb, "%s,reason=\"bad_timestamp\"", src);
    counter(o, "peregrine_events_dropped_total", lb, c.dropped_events - c.oversized_events);

    help(o, "peregrine_log_lines_suppressed_total", "counter", "Log lines held back by the log rate limit.");
    buf_printf(o, "peregrine_log_lines_suppressed_total %llu\n", (unsigned long long)log_suppressed_total());
    help(o, "peregrine_regex_limit_hits_total", "counter",
         "Regex checks stopped at their backtracking bound (taken as no match).");
    counter(o, "peregrine_regex_limit_hits_total", src, c.regex_limit_hits);
    render_envelopes(o, src, &c);

    help(o, "peregrine_alerts_total", "counter", "Alerts raised, by rule and priority.");
    alert_ctx ac = {o};
    engine_rule_totals(m->eng, alert_line, &ac);

    help(o, "peregrine_queue_chunks", "gauge", "Work units queued or being evaluated.");
    buf_printf(o, "peregrine_queue_chunks %zu\n", engine_pending(m->eng));
    help(o, "peregrine_chunk_evaluation_seconds", "histogram", "Time to evaluate one work unit (lines or a request body).");
    hist_render(engine_eval_histogram(m->eng), "peregrine_chunk_evaluation_seconds", "", o);

    if (engine_corr_stage(m->eng))
        render_correlations(o, engine_corr_stage(m->eng));

    render_rules(o, m);

    redis_store_health rh;
    if (engine_corr_store_health(m->eng, &rh)) {
        help(o, "peregrine_correlation_store_up", "gauge", "1 while the Redis correlation store answers.");
        buf_printf(o, "peregrine_correlation_store_up %d\n", rh.connected);
        help(o, "peregrine_correlation_store_fallbacks_total", "counter",
             "Correlation updates decided in this process because Redis failed or was slow.");
        counter(o, "peregrine_correlation_store_fallbacks_total", "", rh.fallbacks);
        help(o, "peregrine_correlation_store_round_trips_total", "counter", "Pipelined exchanges with Redis.");
        counter(o, "peregrine_correlation_store_round_trips_total", "", rh.round_trips);
    }
    if (m->wh) {
        uint64_t st[WH__COUNT];
        webhook_counts(m->wh, st);
        help(o, "peregrine_webhook_requests_total", "counter", "Webhook requests answered, by HTTP status.");
        for (int i = 0; i < WH__COUNT; i++) {
            snprintf(lb, sizeof lb, "code=\"%d\"", webhook_status_code[i]);
            counter(o, "peregrine_webhook_requests_total", lb, st[i]);
        }
        help(o, "peregrine_webhook_request_duration_seconds", "histogram", "Webhook request duration, first byte of headers to response.");
        hist_render(webhook_latency(m->wh), "peregrine_webhook_request_duration_seconds", "", o);
        help(o, "peregrine_webhook_inflight_bytes", "gauge", "Request body bytes held by requests in progress.");
        buf_printf(o, "peregrine_webhook_inflight_bytes %zu\n", webhook_inflight_bytes(m->wh));
        help(o, "peregrine_webhook_busy_refusals_total", "counter", "Bodies refused with 503 because the evaluation queue was full.");
        counter(o, "peregrine_webhook_busy_refusals_total", "", engine_busy_refusals(m->eng));
        render_ingest(o, m->wh);
    }
    if (m->outs) {
        outputs_channel_stats cs[16];
        size_t nc = outputs_get_stats(m->outs, cs, 16);
        if (nc > 16)
            nc = 16;
        static const struct {
            const char *name, *help;
        } series[] = {
            {"peregrine_output_deliveries_total", "Alerts delivered, by channel."},
            {"peregrine_output_failures_total", "Alerts a channel failed to deliver (after retries), by channel."},
            {"peregrine_output_dropped_total", "Alerts dropped (queue full, or given up at shutdown), by channel."},
            {"peregrine_output_suppressed_total", "Alerts suppressed by rate limiting or deduplication, by channel."},
            {"peregrine_output_queue_alerts", "Alerts queued for delivery, by channel."},
        };
        for (size_t k = 0; k < sizeof series / sizeof *series; k++) {
            help(o, series[k].name, k == 4 ? "gauge" : "counter", series[k].help);
            for (size_t i = 0; i < nc; i++) {
                uint64_t v = k == 0 ? cs[i].delivered : k == 1 ? cs[i].failed : k == 2 ? cs[i].dropped
                           : k == 3 ? cs[i].suppressed : cs[i].queued;
                buf_printf(o, "%s{channel=", series[k].name);
                metrics_label(o, cs[i].name);
                buf_printf(o, "} %llu\n", (unsigned long long)v);
            }
        }
    }
}
