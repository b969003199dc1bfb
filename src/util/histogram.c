/*
 * histogram — lock-free latency histogram (see histogram.h).
 */
#include "util/histogram.h"

const double hist_bounds[HIST_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                          0.01,   0.025,   0.05,   0.1,   1.0,    10.0};

void hist_observe(histogram *h, uint64_t ns)
{
    double s = (double)ns / 1e9;
    int i = 0;
    while (i < HIST_BUCKETS && s > hist_bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void hist_render(const histogram *h, const char *name, const char *labels, buf *out)
{
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (int i = 0; i <= HIST_BUCKETS; i++) {
        cum += atomic_load_explicit(&((histogram *)h)->bucket[i], memory_order_relaxed);
        if (i < HIST_BUCKETS)
            buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, hist_bounds[i],
                       (unsigned long long)cum);
        else
            buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
    }
    const char *lb = labels[0] ? "{" : "", *rb = labels[0] ? "}" : "";
    buf_printf(out, "%s_sum%s%s%s %.9f\n", name, lb, labels, rb,
               (double)atomic_load_explicit(&((histogram *)h)->sum_ns, memory_order_relaxed) / 1e9);
    buf_printf(out, "%s_count%s%s%s %llu\n", name, lb, labels, rb,
               (unsigned long long)atomic_load_explicit(&((histogram *)h)->count, memory_order_relaxed));
}
