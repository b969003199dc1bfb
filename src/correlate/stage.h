/*
 * stage — the ordered half of stateful detection.  Called by the pipeline's
 * emitter, one chunk at a time in input order, it turns the chunk's hits
 * (collect.h) into store operations — after dropping late events (older
 * than the watermark: the newest event time seen minus the lateness) and
 * repeated requests (an (auditID, stage) already counted) — applies them
 * to the store in one batch, and says, per hit, whether it fires (a
 * correlation alert to render) or, for a plain rule's alert with
 * `suppress:`, whether that alert is suppressed.
 *
 * Reloads: the stage follows the ruleset each chunk was evaluated with;
 * when it changes, correlations whose definition is unchanged keep their
 * state, the others' state is dropped.
 *
 * Ownership: the stage owns its store and its decision arrays (valid until
 * the next corr_stage_run).  It borrows each ruleset.  One thread at a
 * time (the emitter); corr_stage_stats from any thread reads counters
 * that may be a chunk behind.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_CORR_STAGE_H
#define PEREGRINE_CORR_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "correlate/collect.h"
#include "correlate/store.h"
#include "rules/ruleset.h"

typedef struct corr_stage_opts {
    int64_t lateness_ns;        /* default 60 s */
    uint64_t dedup_slots;       /* recent (auditID, stage) remembered; default 262144 */
} corr_stage_opts;

typedef struct corr_decision {
    bool fire;                  /* a correlation hit that completes: render an alert */
    bool drop;                  /* a suppressed plain alert: its span is not emitted */
    const store_op *op;         /* fire: the store's figures */
} corr_decision;

typedef struct corr_stage corr_stage;

/* Takes ownership of store (freed with the stage, or on failure). */
corr_stage *corr_stage_new(const corr_stage_opts *o, corr_store *store);
void corr_stage_free(corr_stage *st);

/* Process one chunk's hits, evaluated with rs.  *out gets one decision per
 * hit.  0 or a negative errno (the chunk's correlations are then skipped,
 * counted as errors). */
int corr_stage_run(corr_stage *st, const ruleset *rs, const corr_hits *h, const corr_decision **out);
/* The buffer the decisions' op offsets (values, steps) point into. */
const buf *corr_stage_opdata(const corr_stage *st);

typedef struct corr_stage_totals {
    uint64_t late, duplicates, skipped, errors, evictions, bytes;
} corr_stage_totals;

typedef struct corr_rule_stats {
    const char *name;
    uint64_t keys, evictions, late, alerts, suppressed;
} corr_rule_stats;

void corr_stage_totals_get(corr_stage *st, corr_stage_totals *out);
/* Per stateful rule of the current ruleset; returns how many (fills up to
 * max).  Their names are copied into `names` (nameslen bytes; "" when it
 * is full). */
size_t corr_stage_rule_stats(corr_stage *st, corr_rule_stats *out, size_t max, char *names, size_t nameslen);
/* The statistics block's lines (nothing when the ruleset has no state). */
void corr_stage_print_stats(corr_stage *st, FILE *out);

/* Persistence of the in-process store: write atomically (temp file,
 * fsync, rename) / read.  0 or a negative errno with a message. */
int corr_stage_save(corr_stage *st, const char *path, char *err, size_t errlen);
int corr_stage_load(corr_stage *st, const char *path, char *err, size_t errlen);

#endif
