/*
 * worker — one thread's share of the pipeline: a payload in, its events
 * split, evaluated against the ruleset (or, in extract mode, their field
 * values printed), the alerts rendered into a result.
 *
 * A worker never writes anywhere itself: alerts, their spans and the
 * messages for stderr go into a worker_result, which the pipeline emits in
 * input order.  That keeps output deterministic whatever the
 * number of threads.
 *
 * Ownership: a worker belongs to one thread; it borrows the config, the
 * ruleset and the extract expressions (they outlive it) and owns its
 * arena, JSON document, event batch and evaluator.  A worker_result is
 * owned by whoever embeds it (a pipeline chunk) and released with
 * worker_result_free(); worker_result_clear() keeps its buffers for reuse.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_WORKER_H
#define PEREGRINE_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "correlate/collect.h"
#include "util/config.h"
#include "event/event.h"
#include "fields/fields.h"
#include "output/alert_sink.h"
#include "rules/ruleset.h"
#include "util/buf.h"

/* Counters of one piece of work; the pipeline sums them. */
typedef struct run_counts {
    uint64_t payloads;          /* lines / bodies handed in */
    uint64_t bytes;             /* their bytes */
    uint64_t events;            /* events evaluated */
    uint64_t malformed;         /* payloads that are not valid JSON */
    uint64_t unrecognized;      /* payloads that are not audit events */
    uint64_t dropped_events;    /* single events dropped (bad time, too big) */
    uint64_t oversized_events;  /* ... of which over maxEventSize */
    uint64_t too_long;          /* lines over the payload limit (reader) */
    uint64_t alerts;
    uint64_t regex_limit_hits;  /* regex checks stopped by their bound (no match) */
    /* cloud and shipper envelopes (src/envelope/) */
    uint64_t env_payloads;      /* payloads that were envelopes */
    uint64_t env_records;       /* their transport records */
    uint64_t env_control;       /* CloudWatch control messages */
    uint64_t env_skipped;       /* non-audit streams / entries, acknowledged and dropped */
    uint64_t env_truncated;     /* records cut short */
    uint64_t env_bad;           /* undecodable records */
    uint64_t duplicates;        /* (auditID, stage) seen within the recent window: not evaluated again */
} run_counts;

void run_counts_add(run_counts *to, const run_counts *from);

/* An event that came through an envelope, for duplicate suppression when
 * the result is emitted (in input order, so deterministically): its key
 * and the alerts (text and spans) it produced. */
typedef struct event_mark {
    uint64_t key;               /* hash of (auditID, stage) */
    size_t text_off, text_end;
    size_t span_off, span_end;
} event_mark;

typedef struct worker_result {
    buf text;                   /* alert lines (or extract lines), in event order */
    alert_span *spans;
    size_t nspans, capspans;
    event_mark *marks;          /* envelope events, in order */
    size_t nmarks, capmarks;
    buf log;                    /* messages for stderr, in order */
    run_counts counts;
    corr_hits hits;             /* correlation hits and suppress keys, for the ordered stage */
} worker_result;

void worker_result_clear(worker_result *r);
void worker_result_free(worker_result *r);

/* Counters shared by all workers when event numbering must be global
 * (evt.num, evt.reltime) but events are evaluated by several threads. */
typedef struct worker_shared {
    _Atomic uint64_t evt_num;
    _Atomic int64_t first_ts;   /* INT64_MIN until the first event */
} worker_shared;

typedef struct worker_opts {
    const config *cfg;
    const ruleset *rs;              /* detection mode; NULL in extract mode */
    const field_ref *extract;       /* extract mode: the expressions ... */
    const char *const *extract_text;/* ... as written */
    size_t nextract;
    worker_shared *shared;          /* NULL: this worker numbers events itself */
} worker_opts;

typedef struct worker worker;

/* Alert options from the configuration; the hostname (FALCO_HOSTNAME, or
 * the machine's) is written into `hostname`, which must outlive *out. */
struct alert_opts;
void worker_alert_opts(const config *c, char *hostname, size_t hostlen, struct alert_opts *out);

worker *worker_new(const worker_opts *o);
void worker_free(worker *w);
/* Evaluate with another ruleset from now on (a reload).  On allocation
 * failure the worker keeps no evaluator and counts events as unmatched
 * until the next successful switch. */
void worker_set_ruleset(worker *w, const ruleset *rs);

/* For the line reader (line_reader_on_line_end): parse the JSONL line at
 * data (`avail` bytes of it and beyond) when its end can be told from its
 * value (json_parse_line), and return where its '\n' is, or 0.  The next
 * worker_payload on exactly that line then skips parsing it. */
size_t worker_line_end(worker *w, const char *data, size_t avail);

/* A payload (a JSONL line): parse (read only; values point into it),
 * split, evaluate; results appended to r.  `origin`/`lineno` name it in
 * messages.  Returns 0, or -ENOMEM (counted as a malformed payload). */
int worker_payload(worker *w, char *data, size_t len, const char *origin, uint64_t lineno,
                   worker_result *r);

/* A line skipped for being over the payload limit (`bytes` long): its
 * message and count go into r, in order with the other lines' results. */
void worker_skipped_line(worker *w, const char *origin, uint64_t lineno, uint64_t bytes, worker_result *r);

/* Events already split by the submitter (a webhook body, parsed once when
 * it was accepted): evaluate them; results appended to r.  `cluster`
 * (or NULL) is ka.cluster.name for events that do not carry one. */
void worker_events(worker *w, const event_batch *b, const char *cluster, bool marked, worker_result *r);
/* `marked`: the events came through an envelope (their (auditID, stage)
 * keys are noted in r->marks for duplicate suppression). */


#endif
