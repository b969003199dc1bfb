/*
 * worker — payload → events → alerts for one thread (see worker.h).
 */
#include "engine/worker.h"
#include "envelope/envelope.h"
#include "json/json.h"
#include "output/alert.h"
#include "rules/eval.h"
#include "util/line_reader.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


struct worker {
    worker_opts o;
    arena arena;
    json_doc doc;
    event_batch batch;
    evaluator *ev;
    corr_collector *cc;             /* when the ruleset has correlations or suppress */
    uint32_t *matched;              /* room for every rule of the ruleset */
    alert_opts aopts;
    char hostname[256];
    uint64_t evt_num;               /* without o.shared */
    int64_t first_ts;
    bool have_first;
    /* the line json_parse_line already parsed into doc (worker_line_end),
     * which worker_payload then takes as it is */
    const char *parsed;
    size_t parsed_len;
    /* envelopes (cloud deliveries, shippers) in file lines */
    envelope *env;
    json_doc env_doc;
    /* the payload being processed, for drop messages */
    worker_result *res;
    const char *origin;
    uint64_t lineno;
    uint64_t re_seen;               /* the evaluator's regex bound hits, counted */
    time_t re_logged;               /* when one was last reported */
};

void run_counts_add(run_counts *to, const run_counts *from)
{
    to->payloads += from->payloads;
    to->bytes += from->bytes;
    to->events += from->events;
    to->malformed += from->malformed;
    to->unrecognized += from->unrecognized;
    to->dropped_events += from->dropped_events;
    to->oversized_events += from->oversized_events;
    to->too_long += from->too_long;
    to->alerts += from->alerts;
    to->regex_limit_hits += from->regex_limit_hits;
    to->env_payloads += from->env_payloads;
    to->env_records += from->env_records;
    to->env_control += from->env_control;
    to->env_skipped += from->env_skipped;
    to->env_truncated += from->env_truncated;
    to->env_bad += from->env_bad;
    to->duplicates += from->duplicates;
}

void worker_result_clear(worker_result *r)
{
    buf_clear(&r->text);
    buf_clear(&r->log);
    r->nspans = 0;
    r->nmarks = 0;
    memset(&r->counts, 0, sizeof r->counts);
    corr_hits_clear(&r->hits);
}

void worker_result_free(worker_result *r)
{
    buf_free(&r->text);
    buf_free(&r->log);
    pg_free(r->spans);
    pg_free(r->marks);
    corr_hits_free(&r->hits);
    memset(r, 0, sizeof *r);
}

static long local_offset(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return tm.tm_gmtoff;
}

/* An evaluator, room for every rule to match (rule_matching: all) and
 * the correlation collector when the ruleset needs one. */
static evaluator *new_evaluator(const ruleset *rs, uint32_t **matched, corr_collector **cc)
{
    *matched = pg_malloc((ruleset_count(rs) + 1) * sizeof **matched);
    *cc = NULL;
    evaluator *ev = *matched ? evaluator_new(rs) : NULL;
    if (ev && ruleset_has_state(rs) && !(*cc = corr_collector_new(rs))) {
        evaluator_free(ev);
        ev = NULL;
    }
    if (!ev) {
        pg_free(*matched);
        *matched = NULL;
    }
    return ev;
}

void worker_alert_opts(const config *c, char *hostname, size_t hostlen, alert_opts *out)
{
    const char *h = getenv("FALCO_HOSTNAME");
    if (h && *h)
        snprintf(hostname, hostlen, "%s", h);
    else if (gethostname(hostname, hostlen))
        snprintf(hostname, hostlen, "localhost");
    *out = (alert_opts){
        .json = c->json_output,
        .include_output = c->json_include_output_property,
        .include_output_fields = c->json_include_output_fields_property,
        .include_tags = c->json_include_tags_property,
        .include_message = c->json_include_message_property,
        .iso8601 = c->time_format_iso_8601,
        .hostname = hostname,
        .tz_offset_s = local_offset(),
    };
}

worker *worker_new(const worker_opts *o)
{
    worker *w = pg_calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->o = *o;
    arena_init(&w->arena, 256 * 1024);
    json_doc_init(&w->doc);
    json_doc_init(&w->env_doc);
    if (o->rs && !(w->ev = new_evaluator(o->rs, &w->matched, &w->cc))) {
        worker_free(w);
        return NULL;
    }
    worker_alert_opts(o->cfg, w->hostname, sizeof w->hostname, &w->aopts);
    return w;
}

void worker_set_ruleset(worker *w, const ruleset *rs)
{
    if (w->o.rs == rs)
        return;
    evaluator_free(w->ev);
    corr_collector_free(w->cc);
    w->cc = NULL;
    pg_free(w->matched);
    w->matched = NULL;
    w->o.rs = rs;
    w->ev = rs ? new_evaluator(rs, &w->matched, &w->cc) : NULL;
    w->re_seen = 0;
}

void worker_free(worker *w)
{
    if (!w)
        return;
    evaluator_free(w->ev);
    corr_collector_free(w->cc);
    pg_free(w->matched);
    json_doc_free(&w->doc);
    json_doc_free(&w->env_doc);
    envelope_free(w->env);
    event_batch_free(&w->batch);
    arena_free(&w->arena);
    pg_free(w);
}

static void on_drop(void *ctx, const char *msg)
{
    worker *w = ctx;
    log_k8saudit_to(&w->res->log, "%s (%s:%llu)", msg, w->origin, (unsigned long long)w->lineno);
}

/* After a split: the payload's drops beyond the first few, in one line. */
static void drops_unsaid(worker *w, worker_result *r)
{
    size_t more = event_drops_unsaid(&w->batch);
    if (more)
        log_k8saudit_to(&r->log, "... and %zu more events dropped (%zu in this payload, %zu over maxEventSize) (%s:%llu)",
                        more, w->batch.dropped, w->batch.oversized, w->origin, (unsigned long long)w->lineno);
}

/* --extract: {"EXPR": ["v", ...] | null, ...} per event */
static void extract_event(worker *w, field_ctx *fc, buf *o)
{
    buf_putc(o, '{');
    for (size_t i = 0; i < w->o.nextract; i++) {
        if (i)
            buf_putc(o, ',');
        json_write_string(o, w->o.extract_text[i], strlen(w->o.extract_text[i]));
        buf_putc(o, ':');
        fvals v;
        if (!field_extract(&w->o.extract[i], fc, &v) || v.n == 0) {
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

static void add_span(worker_result *r, size_t off, uint32_t rule)
{
    if (r->nspans == r->capspans) {
        size_t cap = r->capspans ? 2 * r->capspans : 64;
        alert_span *n = pg_realloc(r->spans, cap * sizeof *n);
        if (!n) {
            r->text.oom = 1;
            return;
        }
        r->spans = n;
        r->capspans = cap;
    }
    r->spans[r->nspans++] = (alert_span){(uint32_t)off, (uint32_t)(r->text.len - off), rule};
}

/* Regex checks stopped by their bound (eval.c): counted, and said at
 * most once per 10 s per thread, naming the pattern to fix. */
static void regex_bounded(worker *w, uint64_t hits, worker_result *r)
{
    r->counts.regex_limit_hits += hits - w->re_seen;
    w->re_seen = hits;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (w->re_logged && now.tv_sec - w->re_logged < 10)
        return;
    w->re_logged = now.tv_sec ? now.tv_sec : 1;
    const char *pat;
    evaluator_regex_limit_hits(w->ev, &pat);
    log_msg_to(&r->log,
               "regex check stopped at its backtracking bound and taken as no match: '%.200s' (%llu such checks "
               "on this thread; counted in peregrine_regex_limit_hits_total)",
               pat ? pat : "", (unsigned long long)hits);
}

static void evaluate_event(worker *w, field_ctx *fc, const audit_event *ev, worker_result *r)
{
    uint32_t *matched = w->matched;
    evaluator_begin(w->ev, fc);
    size_t n = evaluator_match(w->ev, w->o.cfg->rule_matching_all, matched, ruleset_count(w->o.rs));
    for (size_t i = 0; i < n; i++) {
        size_t off = r->text.len;
        alert_render(w->o.rs, w->ev, matched[i], ev, &w->aopts, &r->text);
        add_span(r, off, matched[i]);
        if (w->cc && ruleset_rule_suppressed(w->o.rs, matched[i]))
            corr_collect_alert(w->cc, w->ev, fc, matched[i], (uint32_t)(r->nspans - 1), &r->hits);
    }
    r->counts.alerts += n;
    if (w->cc)
        corr_collect_event(w->cc, w->ev, fc, (uint32_t)r->nspans, &r->hits);
    uint64_t hits = evaluator_regex_limit_hits(w->ev, NULL);
    if (hits != w->re_seen)
        regex_bounded(w, hits, r);
}

/* Global numbering (evt.num, evt.reltime's origin). */
static void number_event(worker *w, const audit_event *ev, field_ctx *fc)
{
    worker_shared *sh = w->o.shared;
    if (sh) {
        fc->evt_num = atomic_fetch_add_explicit(&sh->evt_num, 1, memory_order_relaxed) + 1;
        int64_t first = atomic_load_explicit(&sh->first_ts, memory_order_relaxed);
        if (first == INT64_MIN) {
            int64_t want = ev->ts_ns;
            if (!atomic_compare_exchange_strong(&sh->first_ts, &first, want))
                want = first;   /* another thread was first */
            first = want;
        }
        fc->first_ts_ns = first;
        return;
    }
    if (!w->have_first) {
        w->first_ts = ev->ts_ns;
        w->have_first = true;
    }
    fc->evt_num = ++w->evt_num;
    fc->first_ts_ns = w->first_ts;
}

/* FNV-1a over auditID and stage (raw text): the duplicate key. */
static uint64_t dup_key(const audit_event *ev, bool *ok)
{
    uint32_t id = event_member(ev, EK_auditID), st = event_member(ev, EK_stage);
    *ok = id != JSON_NONE && json_type_of(ev->doc, id) == JSON_STRING;
    uint64_t h = 1469598103934665603ull;
    for (int k = 0; k < 2; k++) {
        uint32_t v = k ? st : id;
        size_t n = 0;
        const char *p = v != JSON_NONE ? json_raw(ev->doc, v, &n) : "";
        for (size_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;  /* separator */
    }
    return h;
}

static void add_mark(worker_result *r, const event_mark *m)
{
    if (r->nmarks == r->capmarks) {
        size_t cap = r->capmarks ? 2 * r->capmarks : 64;
        event_mark *n = pg_realloc(r->marks, cap * sizeof *n);
        if (!n)
            return;             /* not suppressible: evaluated again, never lost */
        r->marks = n;
        r->capmarks = cap;
    }
    r->marks[r->nmarks++] = *m;
}

static void run_events(worker *w, const event_batch *b, const char *cluster, bool marked, worker_result *r)
{
    for (size_t i = 0; i < b->n; i++) {
        const audit_event *ev = &b->ev[i];
        arena_reset(&w->arena);     /* values live for one event */
        field_ctx fc = {
            .ev = ev,
            .arena = &w->arena,
            .hostname = w->hostname,
            .tz_offset_s = w->aopts.tz_offset_s,
            .cluster = cluster,
        };
        event_mark m = {.text_off = r->text.len, .span_off = r->nspans};
        number_event(w, ev, &fc);
        r->counts.events++;
        if (w->ev)
            evaluate_event(w, &fc, ev, r);
        else if (w->o.rs)
            continue;           /* no evaluator: see worker_set_ruleset */
        else
            extract_event(w, &fc, &r->text);
        bool ok;
        if (marked && (m.key = dup_key(ev, &ok), ok)) {
            m.text_end = r->text.len;
            m.span_end = r->nspans;
            add_mark(r, &m);
        }
    }
}

/* A file line that is an envelope (a CloudWatch message, a GKE LogEntry,
 * an AKS record, ...): its events, group by group.  1 when it was one, 0
 * when not (the caller reports the line as before). */
static int envelope_line(worker *w, const json_doc *parsed, char *data, size_t len, worker_result *r)
{
    if (!w->env && !(w->env = envelope_new()))
        return -ENOMEM;
    char err[256];
    envelope_opts eo = {
        .accept = ENV_ANY,
        .gke_faithful = w->o.cfg->gke_faithful,
        .max_bytes = config_payload_limit(w->o.cfg),
    };
    size_t skip;
    if (!parsed && !envelope_export_prefix(data, len, &skip))
        eo.accept &= ~ENV_BIT(ENV_NATIVE);  /* `{event}{event}` stays a malformed line */
    int rc = parsed ? envelope_decode_value(w->env, parsed, 0, &eo, err, sizeof err)
                    : envelope_decode(w->env, data, len, &eo, err, sizeof err);
    if (rc == -EINVAL)
        return 0;
    const envelope_counts *ec = envelope_result_counts(w->env);
    r->counts.env_payloads++;
    r->counts.env_records += ec->records;
    r->counts.env_control += ec->control;
    r->counts.env_skipped += ec->skipped;
    r->counts.env_truncated += ec->truncated;
    r->counts.env_bad += ec->bad;
    const buf *msgs = envelope_messages(w->env);
    for (size_t i = 0; i < msgs->len;) {
        const char *nl = memchr(msgs->data + i, '\n', msgs->len - i);
        size_t n = nl ? (size_t)(nl - msgs->data - i) : msgs->len - i;
        log_k8saudit_to(&r->log, "%.*s (%s:%llu)", (int)n, msgs->data + i, w->origin, (unsigned long long)w->lineno);
        i += n + 1;
    }
    if (rc < 0) {
        r->counts.malformed++;
        log_k8saudit_to(&r->log, "%s (%s:%llu)", err, w->origin, (unsigned long long)w->lineno);
        return rc == -ENOMEM ? -ENOMEM : 1;
    }
    event_limits lim = {.max_event_size = w->o.cfg->max_event_size};
    const envelope_group *g = envelope_groups(w->env);
    for (size_t i = 0; i < envelope_ngroups(w->env); i++) {
        const char *text = envelope_text(w->env) + g[i].off;
        int prc = json_parse(&w->env_doc, text, g[i].len);
        if (prc == -ENOMEM)
            return -ENOMEM;
        if (!prc) {
            prc = event_split(&w->env_doc, &lim, &w->batch, on_drop, w, err, sizeof err);
            drops_unsaid(w, r);
        }
        r->counts.dropped_events += w->batch.dropped;
        r->counts.oversized_events += w->batch.oversized;
        if (prc) {
            r->counts.unrecognized++;
            log_k8saudit_to(&r->log, "%s (%s:%llu)", prc == -EINVAL ? err : "out of memory", w->origin,
                            (unsigned long long)w->lineno);
        }
        const char *cl = envelope_cluster(w->env, &g[i]);
        run_events(w, &w->batch, *cl ? cl : NULL, true, r);
    }
    return 1;
}

size_t worker_line_end(worker *w, const char *data, size_t avail)
{
    size_t len;
    w->parsed = NULL;
    if (json_parse_line(&w->doc, data, avail, &len) != 0)
        return 0;
    w->parsed = data;
    w->parsed_len = len;
    /* the newline: right after the value, or after its '\r' */
    return data[len] == '\n' ? len : len + 1;
}

int worker_payload(worker *w, char *data, size_t len, const char *origin, uint64_t lineno, worker_result *r)
{
    r->counts.payloads++;
    r->counts.bytes += len;
    int rc = 0;
    if (w->parsed != data || w->parsed_len != len)
        rc = json_parse(&w->doc, data, len);
    w->parsed = NULL;
    w->res = r;
    w->origin = origin;
    w->lineno = lineno;
    if (rc == -EINVAL && len && (data[0] == '{' || (data[0] >= '0' && data[0] <= '9'))) {
        /* concatenated envelopes (Firehose to S3), a CloudWatch export line */
        int erc = envelope_line(w, NULL, data, len, r);
        if (erc)
            return erc < 0 ? erc : 0;
    }
    if (rc) {
        r->counts.malformed++;
        log_k8saudit_to(&r->log, "cannot parse JSON: %s (%s:%llu)", w->doc.err[0] ? w->doc.err : "out of memory",
                        origin, (unsigned long long)lineno);
        return rc == -ENOMEM ? -ENOMEM : 0;
    }
    event_limits lim = {.max_event_size = w->o.cfg->max_event_size};
    char err[256];
    rc = event_split(&w->doc, &lim, &w->batch, on_drop, w, err, sizeof err);
    if (rc == -EINVAL && w->batch.n == 0 && w->batch.dropped == 0) {
        envelope_kind k = envelope_sniff(&w->doc, 0);
        if (k != ENV_UNKNOWN && k != ENV_NATIVE) {
            int erc = envelope_line(w, &w->doc, data, len, r);
            if (erc)
                return erc < 0 ? erc : 0;
        }
    }
    drops_unsaid(w, r);
    r->counts.dropped_events += w->batch.dropped;
    r->counts.oversized_events += w->batch.oversized;
    if (rc) {
        r->counts.unrecognized++;
        log_k8saudit_to(&r->log, "%s (%s:%llu)", err, origin, (unsigned long long)lineno);
        if (rc != -EINVAL)
            return rc;
    }
    run_events(w, &w->batch, NULL, false, r);
    return 0;
}

void worker_skipped_line(worker *w, const char *origin, uint64_t lineno, uint64_t bytes, worker_result *r)
{
    r->counts.too_long++;
    line_too_long_log(&r->log, origin, lineno, bytes, config_payload_limit(w->o.cfg));
}

void worker_events(worker *w, const event_batch *b, const char *cluster, bool marked, worker_result *r)
{
    run_events(w, b, cluster, marked, r);
}
