/*
 * engine — single-threaded pipeline (see engine.h).
 */
#include "engine/engine.h"
#include "event/event.h"
#include "json/json.h"
#include "output/alert.h"
#include "rules/eval.h"
#include "source/file_source.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_AT (256 * 1024)

struct engine {
    engine_opts o;
    engine_stats st;
    arena arena;
    json_doc doc;
    event_batch batch;
    evaluator *ev;
    alert_opts aopts;
    char hostname[256];
    long tz_offset;
    uint64_t evt_num;
    int64_t first_ts;
    bool have_first;
    buf out;
    const char *origin;         /* current input name, for messages */
    uint64_t lineno;
};

static long local_offset(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return tm.tm_gmtoff;
}

engine *engine_new(const engine_opts *o)
{
    engine *e = pg_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->o = *o;
    arena_init(&e->arena, 256 * 1024);
    json_doc_init(&e->doc);
    const char *h = getenv("FALCO_HOSTNAME");
    if (h && *h)
        snprintf(e->hostname, sizeof e->hostname, "%s", h);
    else if (gethostname(e->hostname, sizeof e->hostname))
        snprintf(e->hostname, sizeof e->hostname, "localhost");
    e->tz_offset = local_offset();
    if (o->rs) {
        e->ev = evaluator_new(o->rs);
        e->st.by_rule = pg_calloc(ruleset_count(o->rs) ? ruleset_count(o->rs) : 1, sizeof *e->st.by_rule);
        if (!e->ev || !e->st.by_rule) {
            engine_free(e);
            return NULL;
        }
    }
    const config *c = o->cfg;
    e->aopts = (alert_opts){
        .json = c->json_output,
        .include_output = c->json_include_output_property,
        .include_output_fields = c->json_include_output_fields_property,
        .include_tags = c->json_include_tags_property,
        .include_message = c->json_include_message_property,
        .iso8601 = c->time_format_iso_8601,
        .hostname = e->hostname,
        .tz_offset_s = e->tz_offset,
    };
    return e;
}

void engine_free(engine *e)
{
    if (!e)
        return;
    if (e->o.out)
        fflush(e->o.out);
    evaluator_free(e->ev);
    json_doc_free(&e->doc);
    event_batch_free(&e->batch);
    arena_free(&e->arena);
    buf_free(&e->out);
    pg_free(e->st.by_rule);
    pg_free(e);
}

static void flush_out(engine *e)
{
    if (e->out.len) {
        fwrite(e->out.data, 1, e->out.len, e->o.out);
        buf_clear(&e->out);
    }
    if (e->o.unbuffered)
        fflush(e->o.out);
}

static void on_drop(void *ctx, const char *msg)
{
    engine *e = ctx;
    log_k8saudit("%s (%s:%llu)", msg, e->origin, (unsigned long long)e->lineno);
}

/* --extract: {"EXPR": ["v", ...] | null, ...} per event */
static void extract_event(engine *e, field_ctx *fc)
{
    buf *o = &e->out;
    buf_putc(o, '{');
    for (size_t i = 0; i < e->o.nextract; i++) {
        if (i)
            buf_putc(o, ',');
        json_write_string(o, e->o.extract_text[i], strlen(e->o.extract_text[i]));
        buf_putc(o, ':');
        fvals v;
        if (!field_extract(&e->o.extract[i], fc, &v) || v.n == 0) {
            buf_puts(o, "null");
            continue;
        }
        buf_putc(o, '[');
        for (size_t k = 0; k < v.n; k++) {
            if (k)
                buf_putc(o, ',');
            json_write_string(o, v.v[k].s, v.v[k].len);
        }
        buf_putc(o, ']');
    }
    buf_puts(o, "}\n");
}

static void evaluate_event(engine *e, field_ctx *fc, const audit_event *ev)
{
    uint32_t matched[256];
    evaluator_begin(e->ev, fc);
    size_t n = evaluator_match(e->ev, e->o.cfg->rule_matching_all, matched, 256);
    for (size_t i = 0; i < n; i++) {
        e->st.alerts++;
        e->st.by_rule[matched[i]]++;
        if (e->o.cfg->stdout_enabled)
            alert_render(e->o.rs, e->ev, matched[i], ev, &e->aopts, &e->out);
        if (e->o.unbuffered)
            flush_out(e);
    }
}

static int on_line(void *ctx, char *line, size_t len, const char *origin, uint64_t lineno)
{
    engine *e = ctx;
    e->origin = origin;
    e->lineno = lineno;
    arena_reset(&e->arena);
    int rc = json_parse(&e->doc, line, len);
    if (rc) {
        e->st.malformed++;
        log_k8saudit("cannot parse JSON: %s (%s:%llu)", e->doc.err[0] ? e->doc.err : "out of memory", origin,
                     (unsigned long long)lineno);
        return 0;
    }
    event_limits lim = {.max_event_size = e->o.cfg->max_event_size};
    char err[256];
    rc = event_split(&e->doc, &lim, &e->batch, on_drop, e, err, sizeof err);
    e->st.dropped_events += e->batch.dropped;
    e->st.oversized_events += e->batch.oversized;
    if (rc) {
        e->st.unrecognized++;
        log_k8saudit("%s (%s:%llu)", err, origin, (unsigned long long)lineno);
        if (rc != -EINVAL)
            return 0;
    }
    for (size_t i = 0; i < e->batch.n; i++) {
        const audit_event *ev = &e->batch.ev[i];
        if (!e->have_first) {
            e->first_ts = ev->ts_ns;
            e->have_first = true;
        }
        field_ctx fc = {
            .ev = ev,
            .arena = &e->arena,
            .evt_num = ++e->evt_num,
            .first_ts_ns = e->first_ts,
            .hostname = e->hostname,
            .tz_offset_s = e->tz_offset,
        };
        e->st.events++;
        if (e->o.rs)
            evaluate_event(e, &fc, ev);
        else
            extract_event(e, &fc);
    }
    if (e->out.len >= FLUSH_AT)
        flush_out(e);
    return 0;
}

int engine_run_input(engine *e, const char *path, char *err, size_t errlen)
{
    file_stats fs = {0};
    int rc = file_source_run(path, config_payload_limit(e->o.cfg), on_line, e, &fs, err, errlen);
    e->st.lines += fs.lines;
    e->st.too_long += fs.too_long;
    flush_out(e);
    fflush(e->o.out);
    return rc < 0 ? -1 : 0;
}

const engine_stats *engine_get_stats(const engine *e) { return &e->st; }

void engine_print_stats(const engine *e, double elapsed_s, FILE *out)
{
    const engine_stats *s = &e->st;
    fprintf(out, "Elapsed time: %.3f, Captured Events: %llu, %.2f eps\n", elapsed_s,
            (unsigned long long)s->events, elapsed_s > 0 ? (double)s->events / elapsed_s : 0.0);
    fprintf(out, "Input: %llu payloads, %llu malformed, %llu not audit events, %llu events dropped "
                 "(%llu over maxEventSize), %llu lines over the payload limit\n",
            (unsigned long long)s->lines, (unsigned long long)s->malformed, (unsigned long long)s->unrecognized,
            (unsigned long long)s->dropped_events, (unsigned long long)s->oversized_events,
            (unsigned long long)s->too_long);
    if (!e->o.rs)
        return;
    fprintf(out, "Events detected: %llu\n", (unsigned long long)s->alerts);
    fprintf(out, "Rule counts by severity:\n");
    uint64_t sev[PRI__COUNT] = {0};
    for (size_t i = 0; i < ruleset_count(e->o.rs); i++)
        sev[ruleset_rule(e->o.rs, i)->prio] += s->by_rule[i];
    for (int p = 0; p < PRI__COUNT; p++)
        if (sev[p])
            fprintf(out, "   %s: %llu\n", priority_short[p], (unsigned long long)sev[p]);
    fprintf(out, "Triggered rules by rule name:\n");
    for (size_t i = 0; i < ruleset_count(e->o.rs); i++)
        if (s->by_rule[i])
            fprintf(out, "   %s: %llu\n", ruleset_rule(e->o.rs, i)->name, (unsigned long long)s->by_rule[i]);
    fflush(out);
}
