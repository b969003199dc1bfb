/*
 * engine — one run: the pipeline wired to its inputs and its output, and
 * the run's statistics.
 *
 * Sources feed it: engine_run_input() reads files/stdin into line chunks;
 * the webhook hands over request bodies with engine_submit_body().  Alerts
 * (or, in extract mode, field values) leave through the pipeline, in input
 * order, to the output stream.
 *
 * Ownership: the engine borrows the config and the ruleset (the caller
 * frees them after engine_free) and owns the pipeline.
 */
#ifndef PEREGRINE_ENGINE_H
#define PEREGRINE_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/config.h"
#include "engine/worker.h"
#include "fields/fields.h"
#include "rules/ruleset.h"

typedef struct engine engine;

/* Where alerts go.  The default (emit == NULL) writes them to `out`. */
typedef struct alert_sink {
    /* Called on one thread, in input order: `text` holds n alerts back to
     * back, spans[i] delimits alert i and names its rule (an index in rs,
     * the ruleset those events were evaluated with). */
    void (*emit)(void *ctx, const ruleset *rs, const char *text, size_t len, const alert_span *spans, size_t n);
    void (*flush)(void *ctx);
    void *ctx;
} alert_sink;

typedef struct engine_opts {
    const config *cfg;
    const ruleset *rs;          /* detection mode; NULL in extract mode */
    const field_ref *extract;   /* extract mode: the expressions */
    const char *const *extract_text;
    size_t nextract;
    int threads;                /* worker threads; <= 1: evaluate on the caller's thread ... */
    bool concurrent_sources;    /* ... unless sources submit from several threads (webhook):
                                 * then at least one worker thread */
    bool unbuffered;            /* flush after every chunk of alerts */
    FILE *out;
    alert_sink sink;            /* optional: replaces writing to `out` */
} engine_opts;

engine *engine_new(const engine_opts *o);
/* Waits for everything submitted, then frees. */
void engine_free(engine *e);

/* Process one input (file, directory or "-").  Returns 0, or -1 with a
 * message in err when the input cannot be read. */
int engine_run_input(engine *e, const char *path, char *err, size_t errlen);
/* Follow a growing file (open_params `file:///path`) until *stop is set,
 * then drain and return 0; -1 with a message in err when it cannot.  A
 * live source: create the engine with concurrent_sources so that alerts
 * are flushed whenever the pipeline has nothing left in flight. */
int engine_run_follow(engine *e, const char *url, volatile sig_atomic_t *stop, char *err, size_t errlen);

/* Webhook path: parse and split one request body and queue its events.
 * `body` is moved into the engine's chunk (its bytes are copied; the caller
 * keeps its buffer).  Returns ENGINE_QUEUED, or the reason it was refused:
 * ENGINE_BUSY (no room: answer 503), ENGINE_BAD_JSON / ENGINE_NOT_AUDIT
 * (answer 400; `err` says why).  `cluster` (or NULL) becomes
 * ka.cluster.name of events that carry no cluster_name annotation.  Oversized events inside an accepted body
 * are counted and logged, not refused. */
typedef enum engine_submit_rc {
    ENGINE_QUEUED,
    ENGINE_BUSY,
    ENGINE_BAD_JSON,
    ENGINE_NOT_AUDIT,
    ENGINE_NOMEM,
} engine_submit_rc;
typedef struct engine_submit_info {
    size_t events;              /* queued */
    size_t dropped;             /* dropped individually (oversized, bad time) */
} engine_submit_info;
engine_submit_rc engine_submit_body(engine *e, const char *body, size_t len, const char *origin,
                                    const char *cluster, engine_submit_info *info, char *err, size_t errlen);

/* Evaluate events queued from now on with `rs` (a reload; the engine takes
 * ownership).  Events already queued keep the rules they were queued
 * under.  0 or -ENOMEM (rs still the caller's). */
int engine_set_ruleset(engine *e, ruleset *rs);

/* Wait until every queued event has been evaluated and its alerts written. */
void engine_drain(engine *e);
/* Counters so far (consistent copy). */
void engine_counts(engine *e, run_counts *out);
/* For metrics: chunks queued and not yet emitted; evaluation time per
 * chunk; the ruleset in use now (borrowed); webhook bodies refused busy;
 * alerts per rule name across reloads. */
size_t engine_pending(engine *e);
const struct histogram *engine_eval_histogram(engine *e);
const ruleset *engine_ruleset(engine *e);
uint64_t engine_busy_refusals(engine *e);
void engine_rule_totals(engine *e, void (*fn)(void *ctx, const char *name, int prio, uint64_t n), void *ctx);

/* Falco's end-of-run block (and our run summary before it). */
void engine_print_stats(engine *e, double elapsed_s, FILE *out);

#endif
