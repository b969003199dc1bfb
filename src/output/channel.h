/*
 * channel — what every alert channel (file, syslog, program, http) shares:
 * its queue, its worker thread, its counters and its rate-limited error
 * reports.  Internal to src/output/; outputs.c is the only user.
 *
 * A channel implementation provides `deliver` (send queued alerts, in
 * order), optionally `reopen` (SIGUSR1) and `destroy`.  The worker calls
 * them; nothing else does, so an implementation needs no locking.
 *
 * Ownership: channel_new takes ownership of `impl` (released by
 * ops->destroy); channel_free stops nothing — call channel_stop first.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_CHANNEL_H
#define PEREGRINE_CHANNEL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/config.h"
#include "output/outq.h"

typedef struct channel channel;

typedef struct channel_ops {
    const char *name;           /* "file", "syslog", "program", "http" */
    /* Deliver items[0..n) (all alerts), in order.  Returns how many were
     * dealt with (delivered, or failed and counted); fewer than n only
     * when channel_stopping() says the worker must give up. */
    size_t (*deliver)(channel *ch, const outq_item *items, size_t n);
    void (*reopen)(channel *ch);        /* may be NULL */
    void (*finish)(channel *ch);        /* worker's last act (close, wait for a program); may be NULL */
    void (*destroy)(channel *ch);       /* release impl; the worker is gone */
} channel_ops;

struct channel {
    const channel_ops *ops;
    void *impl;
    outq *q;
    int timeout_ms;             /* output_timeout */
    pthread_t thread;
    bool started;
    atomic_bool abort;          /* drain deadline passed: stop now */
    atomic_bool reopen_pending; /* a reopen that did not fit in the queue */
    _Atomic uint64_t delivered, failed, dropped, retries;
    /* error reports: the first at once, then at most one every REPORT_EVERY */
    pthread_mutex_t rep_mu;
    int64_t last_report_ns;
    uint64_t unreported;
    int64_t last_drop_report_ns;
    uint64_t drops_unreported;
};

channel *channel_new(const channel_ops *ops, void *impl, const config *c, char *err, size_t errlen);
int channel_start(channel *ch, char *err, size_t errlen);
/* Close the queue and wait for the worker to deliver what is queued, as
 * long as it makes progress: once it has delivered or failed nothing for
 * timeout_ms, abort it; what is still queued is counted as dropped. */
void channel_stop(channel *ch, int timeout_ms);
void channel_free(channel *ch);

/* For implementations (worker thread). */
void channel_ok(channel *ch, uint64_t n);
void channel_fail(channel *ch, uint64_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A failed attempt that will be retried: reported like a failure, counted as a retry. */
void channel_retry(channel *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool channel_stopping(channel *ch);
/* Sleep ms milliseconds; returns false (early) when the worker must stop. */
bool channel_sleep(channel *ch, int ms);
/* For the producer: n alerts refused by a full queue. */
void channel_drop(channel *ch, uint64_t n);
/* Final report of what was not reported yet (after channel_stop). */
void channel_report_final(channel *ch);

int64_t channel_now_ns(void);     /* CLOCK_MONOTONIC */

/* Constructors, one per file; NULL + message in err on a configuration error. */
channel *channel_file_new(const config *c, char *err, size_t errlen);
channel *channel_syslog_new(const config *c, char *err, size_t errlen);
channel *channel_program_new(const config *c, char *err, size_t errlen);
channel *channel_http_new(const config *c, char *err, size_t errlen);

#endif
