/*
 * outq — one alert channel's bounded queue: a byte ring written by the
 * pipeline's emitter (one thread at a time) and read by the channel's
 * worker (one producer, one consumer).  Records are copied in, so the producer's buffers can be
 * reused at once; nothing is allocated after outq_new.
 *
 * Bounds: `max_bytes` of ring (a record costs its text + 16 bytes) and,
 * when non-zero, `max_items` records.  A record that does not fit is
 * refused (the caller counts it as dropped) — the producer never waits.
 *
 * Ownership: outq_new allocates, outq_free releases.  Items returned by
 * outq_peek point into the ring and stay valid until outq_pop.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_OUTQ_H
#define PEREGRINE_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { OUTQ_ALERT, OUTQ_REOPEN };

typedef struct outq_item {
    const char *text;
    size_t len;
    int prio;
    int kind;                   /* OUTQ_ALERT or OUTQ_REOPEN (a control record, no text) */
} outq_item;

typedef struct outq outq;

outq *outq_new(size_t max_bytes, size_t max_items);
void outq_free(outq *q);

/* Producer: lock once per batch, put records, unlock (wakes the consumer). */
void outq_lock(outq *q);
int outq_put_locked(outq *q, int kind, int prio, const char *text, size_t len); /* 0, or -1 when full */
void outq_unlock(outq *q);

/* Consumer: wait up to timeout_ms for records; fill up to `max` items in
 * queue order (views into the ring).  Returns how many (0 on timeout or
 * when the queue is closed and empty). */
size_t outq_peek(outq *q, outq_item *items, size_t max, int timeout_ms);
/* Release the first n records returned by the last peek. */
void outq_pop(outq *q, size_t n);

/* No more records will come: wakes a waiting consumer. */
void outq_close(outq *q);
bool outq_done(outq *q);            /* closed and empty */
size_t outq_alerts(outq *q);        /* alert records queued */

#endif
