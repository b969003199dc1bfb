/*
 * corr_emit — where the ordered correlation stage meets the output: the
 * pipeline's emitter hands it each chunk's result, in input order; it runs
 * the stage (correlate/stage.h) over the chunk's hits and rewrites the
 * result in place — plain alerts suppressed by `suppress:` removed,
 * correlation alerts rendered and inserted right after the alerts of the
 * event that completed them — so everything downstream (stdout, channels,
 * per-rule counts, the --test harness) sees correlations as alerts.
 *
 * It also keeps the state file: loaded at start, written atomically every
 * snapshot_interval (checked as chunks are emitted) and at the end.
 *
 * Ownership: corr_emit owns the stage (and through it the store) and its
 * scratch buffers; it copies the alert options (the hostname must outlive
 * it).  Called by one emitter at a time; corr_emit_stage's stats readers
 * may run on any thread.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_CORR_EMIT_H
#define PEREGRINE_CORR_EMIT_H

#include "correlate/stage.h"
#include "engine/worker.h"
#include "output/alert.h"

typedef struct corr_emit_opts {
    const char *state_file;         /* NULL: no persistence */
    int64_t snapshot_interval_s;    /* 0: only at the end */
} corr_emit_opts;

typedef struct corr_emit corr_emit;

/* Takes ownership of st (freed on failure too).  NULL when out of memory. */
corr_emit *corr_emit_new(corr_stage *st, const alert_opts *ao, const corr_emit_opts *o);
void corr_emit_free(corr_emit *ce);

/* Rewrite one chunk's result (see above).  On a stage error the chunk's
 * alerts go out unchanged and the error is counted. */
void corr_emit_apply(corr_emit *ce, const ruleset *rs, worker_result *r);

corr_stage *corr_emit_stage(corr_emit *ce);

/* The stage and its store as the configuration says (correlations.*):
 * when `persist`, the configured store (correlations.store: Redis) and,
 * for the in-process store, its state file loaded (a bad one is reported
 * on stderr; the run starts fresh); otherwise (the rule test harness) a
 * fresh in-process store.  NULL with the reason in err (when given): out
 * of memory, or a store that cannot be used (a bad URL, refused
 * credentials, TLS). */
corr_emit *corr_emit_from_config(const config *cfg, bool persist, char *err, size_t errlen);
/* The stage's store. */
corr_store *corr_emit_store(corr_emit *ce);

/* Load the state file (a missing file is not an error: 0 and nothing
 * said).  A corrupt or incompatible one: -EINVAL with the reason; the
 * caller reports it and runs with fresh state. */
int corr_emit_load(corr_emit *ce, char *err, size_t errlen);
/* Write the state file now (no-op without one). */
int corr_emit_save(corr_emit *ce, char *err, size_t errlen);

#endif
