/*
 * engine — one run: the pipeline wired to its inputs and its output, and
 * the run's statistics.
 *
 * Sources (src/source/, above it) feed it: JSONL streams and lines
 * through engine_read_fd()/engine_line(), request bodies through
 * engine_submit_body().  Alerts
 * (or, in extract mode, field values) leave through the pipeline, in input
 * order, to the output stream.
 *
 * Ownership: the engine borrows the config and the ruleset (the caller
 * frees them after engine_free) and owns the pipeline.
 */
#ifndef PEREGRINE_ENGINE_H
#define PEREGRINE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/config.h"
#include "correlate/store_redis.h"
#include "engine/worker.h"
#include "output/alert_sink.h"
#include "fields/fields.h"
#include "rules/ruleset.h"

typedef struct engine engine;

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
    alert_sink sink;            /* optional: where alerts go instead of `out` (output/alert_sink.h) */
    char *err;                  /* optional: why engine_new failed (else "out of memory") */
    size_t errlen;
} engine_opts;

engine *engine_new(const engine_opts *o);
/* Waits for everything submitted, then frees. */
void engine_free(engine *e);

/* JSONL input.  Sources (source/input.h) drive it; ctx of the callbacks
 * is the engine.  A stream (a file, stdin) is read whole by
 * engine_read_fd: with one thread, line by line as the reader reaches
 * them; with worker threads, by the workers themselves in blocks of whole
 * lines.  A live source (follow) hands over lines one at a time with
 * engine_line (a line_fn: line == NULL is a flush point) and
 * engine_line_too_long (a line_too_long_fn).  engine_input_begin names
 * the input for the progress line; engine_input_end submits what is
 * pending and waits until every alert is written.  Errors as in
 * util/error.h; `origin` is borrowed until engine_input_end. */
void engine_input_begin(engine *e, const char *label);
int engine_read_fd(engine *e, int fd, const char *origin, char *err, size_t errlen);
int engine_line(void *e, char *line, size_t len, const char *origin, uint64_t lineno);
void engine_line_too_long(void *e, const char *origin, uint64_t lineno, uint64_t bytes);
/* rc: the source's result, returned (0 or a negative errno; err says
 * "out of memory" when the source left it empty on -ENOMEM). */
int engine_input_end(engine *e, int rc, char *err, size_t errlen);

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
/* The same for native JSON decoded from an envelope (webhook_routes):
 * `marked` notes its events for duplicate suppression; `extra` (or NULL:
 * one payload of len bytes) is what the chunk counts besides its events
 * (the envelope's payload, records, skipped ...). */
engine_submit_rc engine_submit_events(engine *e, const char *body, size_t len, const char *origin,
                                      const char *cluster, bool marked, const run_counts *extra,
                                      engine_submit_info *info, char *err, size_t errlen);

/* Evaluate events queued from now on with `rs` (a reload; the engine takes
 * ownership).  Events already queued keep the rules they were queued
 * under.  0 or -ENOMEM (rs still the caller's). */
int engine_set_ruleset(engine *e, ruleset *rs);

/* The configuration the engine was made with (borrowed). */
const config *engine_config(const engine *e);

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
/* The ordered correlation stage (detection mode), or NULL: its stats
 * may be read from any thread. */
struct corr_stage *engine_corr_stage(engine *e);
/* The Redis correlation store's state (false: the state is in process). */
bool engine_corr_store_health(engine *e, redis_store_health *out);
void engine_rule_totals(engine *e, void (*fn)(void *ctx, const char *name, int prio, uint64_t n), void *ctx);

/* Falco's end-of-run block (and our run summary before it). */
void engine_print_stats(engine *e, double elapsed_s, FILE *out);

#endif
