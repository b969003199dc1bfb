/*
 * engine — the pipeline for one input: payloads → events → rules → alerts
 * (or, in extract mode, → field values), with the run's counters.
 *
 * Ownership: the engine borrows the config and the ruleset (caller frees
 * them after engine_free); it owns its per-payload arena, JSON doc,
 * evaluator and output buffer.
 */
#ifndef PEREGRINE_ENGINE_H
#define PEREGRINE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/config.h"
#include "fields/fields.h"
#include "rules/ruleset.h"

typedef struct engine_stats {
    uint64_t lines;             /* payloads read */
    uint64_t events;            /* events evaluated */
    uint64_t malformed;         /* payloads that are not valid JSON */
    uint64_t unrecognized;      /* payloads that are not audit events */
    uint64_t dropped_events;    /* single events dropped (bad time, too big) */
    uint64_t oversized_events;  /* ... of which over maxEventSize */
    uint64_t too_long;          /* lines over the payload limit */
    uint64_t alerts;
    uint64_t *by_rule;          /* alerts per rule index */
} engine_stats;

typedef struct engine engine;

typedef struct engine_opts {
    const config *cfg;
    const ruleset *rs;          /* detection mode; NULL in extract mode */
    field_ref *extract;         /* extract mode: the expressions */
    const char *const *extract_text;
    size_t nextract;
    bool unbuffered;            /* flush after every alert */
    FILE *out;
} engine_opts;

engine *engine_new(const engine_opts *o);
void engine_free(engine *e);
/* Process one input (file, directory or "-").  Returns 0, or -1 with a
 * message in err when the input cannot be read. */
int engine_run_input(engine *e, const char *path, char *err, size_t errlen);
const engine_stats *engine_get_stats(const engine *e);
/* Falco's end-of-run block (and our run summary before it). */
void engine_print_stats(const engine *e, double elapsed_s, FILE *out);

#endif
