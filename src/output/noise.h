/*
 * noise — opt-in alert suppression before the channels (beyond Falco,
 * whose own rate limiter was removed):
 *
 *  - alert_rate_limit: a token bucket per rule name: `rate` alerts per
 *    second, up to `max_burst` at once; an alert finding the bucket empty
 *    is suppressed.
 *  - alert_dedup: an alert identical to one already let through for the
 *    same rule less than `window` seconds ago is suppressed.  "Identical"
 *    ignores the event time, which every alert carries (the text line's
 *    time prefix; in JSON the "time" member, the time prefix of "output"
 *    and the evt.time / evt.rawtime / evt.datetime output fields).
 *
 * Time is the wall clock of the run (monotonic), not the events' time.
 * Both tables have a fixed size (the rate table grows once per new rule
 * name); nothing is allocated per alert.  Dedup remembers the last 4096
 * distinct alerts: an older one that was evicted passes again.
 *
 * Ownership: noise_new allocates, noise_free releases.  One thread.
 */
#ifndef PEREGRINE_NOISE_H
#define PEREGRINE_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct noise noise;

typedef struct noise_opts {
    bool rate_limit;
    double rate, max_burst;
    bool dedup;
    double window_s;
} noise_opts;

noise *noise_new(const noise_opts *o);      /* NULL when out of memory */
void noise_free(noise *n);
/* true: let the alert through; false: suppress it.  now_ns: monotonic. */
bool noise_pass(noise *n, const char *rule, const char *text, size_t len, int64_t now_ns);

/* The dedup key of an alert: a hash of its text without the event time. */
uint64_t noise_alert_hash(const char *rule, const char *text, size_t len);

#endif
