/*
 * histogram — a fixed-bucket latency histogram that many threads update
 * without locks (Prometheus semantics: cumulative buckets, sum, count).
 *
 * Ownership: plain struct, zero-initialised; no allocation.
 */
#ifndef PEREGRINE_HISTOGRAM_H
#define PEREGRINE_HISTOGRAM_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/buf.h"

#define HIST_BUCKETS 12
/* Upper bounds in seconds: 100 µs … 10 s, then +Inf. */
extern const double hist_bounds[HIST_BUCKETS];

typedef struct histogram {
    _Atomic uint64_t bucket[HIST_BUCKETS + 1];  /* non-cumulative; last = +Inf */
    _Atomic uint64_t sum_ns;
    _Atomic uint64_t count;
} histogram;

void hist_observe(histogram *h, uint64_t ns);
/* Prometheus text: NAME_bucket{LABELS,le=".."} …, NAME_sum, NAME_count.
 * `labels` is "" or `key="v",…` without braces. */
void hist_render(const histogram *h, const char *name, const char *labels, buf *out);

#endif
