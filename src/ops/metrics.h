/*
 * metrics — the Prometheus text exposition of everything Peregrine counts:
 * input (payloads, events, malformed, dropped by reason), webhook
 * responses and request latency, alerts by rule and priority, queue
 * depth and evaluation latency, rules loaded and reloads, build info.
 * Names follow Prometheus conventions: peregrine_<thing>_<unit>_total.
 *
 * Ownership: the sources are borrowed for the call; text is appended to
 * the caller's buffer.
 */
#ifndef PEREGRINE_METRICS_H
#define PEREGRINE_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "source/webhook.h"
#include "util/buf.h"

/* Outcome of rules reloads: written by the serving thread, read by the
 * admin server's (so each value is atomic on its own; a scrape during a
 * reload may see the new count with the old time). */
typedef struct reload_stats {
    _Atomic uint64_t ok, failed;
    _Atomic uint64_t refused;           /* ... of the failed: valid rules refused (none enabled) */
    _Atomic uint64_t generation;        /* the live rules set: 1 at start, +1 per reload taken */
    _Atomic uint64_t last_time_ms;      /* Unix ms of the last attempt, 0 = none */
    _Atomic bool last_ok;
} reload_stats;

typedef struct metrics_sources {
    engine *eng;
    const webhook *wh;                  /* NULL without the webhook */
    const _Atomic bool *input_alive;    /* other live sources (follow): false once it ended */
    const char *source;                 /* "webhook", "file" */
    const reload_stats *reload;         /* NULL when reloading is off */
    double start_time;                  /* Unix seconds */
    const struct outputs *outs;         /* alert channels, or NULL */
} metrics_sources;

void metrics_render(const metrics_sources *m, buf *out);

/* Append s as a Prometheus label value (quotes, backslashes, newlines escaped). */
void metrics_label(buf *out, const char *s);

#endif
