/*
 * alert_sink — how rendered alerts leave the engine: a block of alert
 * texts, back to back, with a span per alert naming its rule, handed over
 * in input order by the engine's emitter (one call at a time).  The
 * engine writes to a FILE without a sink; outputs_sink_init() makes the
 * sink that hands alerts to the alert channels (outputs.h): the path of an
 * alert out of the process is engine emit_chunk() → sink_emit() here →
 * outputs_emit() → stdout and each channel's queue and worker thread.
 *
 * Ownership: an outputs_sink borrows its outputs and owns its record
 * array (outputs_sink_free).
 */
#ifndef PEREGRINE_ALERT_SINK_H
#define PEREGRINE_ALERT_SINK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "output/outputs.h"
#include "rules/ruleset.h"

/* One rendered alert inside a block of alert texts. */
typedef struct alert_span {
    uint32_t off, len;
    uint32_t rule;              /* index in the ruleset the event was evaluated with */
} alert_span;

typedef struct alert_sink {
    /* `text` holds n alerts back to back, spans[i] delimits alert i and
     * names its rule in rs. */
    void (*emit)(void *ctx, const ruleset *rs, const char *text, size_t len, const alert_span *spans, size_t n);
    void (*flush)(void *ctx);
    void *ctx;
} alert_sink;

/* The alert channels as a sink.  When *reopen is set (by a SIGUSR1
 * handler; optional), the next emit or flush clears it and reopens the
 * channels (outputs_reopen), on the emitter's thread. */
typedef struct outputs_sink {
    outputs *outs;
    atomic_int *reopen;
    struct alert_rec *recs;
    size_t cap;
} outputs_sink;

alert_sink outputs_sink_init(outputs_sink *s, outputs *outs, atomic_int *reopen);
void outputs_sink_free(outputs_sink *s);

#endif
