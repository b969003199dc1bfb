/*
 * outq — bounded byte ring (see outq.h).
 *
 * Positions are ever-growing 64-bit byte counts; the ring offset is
 * pos % cap.  A record is a 16-byte header and its text padded to 16, and
 * is always contiguous: when it would straddle the end of the ring, a SKIP
 * header fills the tail and the record starts again at offset 0.
 */
#include "output/outq.h"
#include "util/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

enum { K_SKIP = 255 };
#define HDR 16u

typedef struct rec_hdr {
    uint32_t len;
    uint8_t kind, prio;
    uint8_t pad[10];
} rec_hdr;

struct outq {
    pthread_mutex_t mu;
    pthread_cond_t nonempty;
    char *ring;
    size_t cap, max_items;
    uint64_t wpos, rpos;        /* producer / consumer positions */
    size_t items, alerts;       /* records queued (alerts: of kind OUTQ_ALERT) */
    bool closed;
};

static size_t pad16(size_t n) { return (n + 15) & ~(size_t)15; }

outq *outq_new(size_t max_bytes, size_t max_items)
{
    outq *q = pg_calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->cap = pad16(max_bytes < 4096 ? 4096 : max_bytes);
    q->max_items = max_items;
    q->ring = pg_malloc(q->cap);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (!q->ring || pthread_mutex_init(&q->mu, NULL) || pthread_cond_init(&q->nonempty, &ca)) {
        pthread_condattr_destroy(&ca);
        pg_free(q->ring);
        pg_free(q);
        return NULL;
    }
    pthread_condattr_destroy(&ca);
    return q;
}

void outq_free(outq *q)
{
    if (!q)
        return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->nonempty);
    pg_free(q->ring);
    pg_free(q);
}

void outq_lock(outq *q) { pthread_mutex_lock(&q->mu); }

void outq_unlock(outq *q)
{
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->mu);
}

int outq_put_locked(outq *q, int kind, int prio, const char *text, size_t len)
{
    size_t need = HDR + pad16(len);
    if (q->closed || len > UINT32_MAX || (q->max_items && q->items >= q->max_items))
        return -1;
    size_t off = (size_t)(q->wpos % q->cap);
    size_t skip = q->cap - off < need ? q->cap - off : 0;
    if (q->wpos + skip + need - q->rpos > q->cap)
        return -1;
    if (skip) {
        rec_hdr h = {.kind = K_SKIP};
        memcpy(q->ring + off, &h, sizeof h);
        q->wpos += skip;
        off = 0;
    }
    rec_hdr h = {.len = (uint32_t)len, .kind = (uint8_t)kind, .prio = (uint8_t)prio};
    memcpy(q->ring + off, &h, sizeof h);
    if (len)
        memcpy(q->ring + off + HDR, text, len);
    q->wpos += need;
    q->items++;
    q->alerts += kind == OUTQ_ALERT;
    return 0;
}

size_t outq_peek(outq *q, outq_item *items, size_t max, int timeout_ms)
{
    pthread_mutex_lock(&q->mu);
    if (!q->items && !q->closed && timeout_ms > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += timeout_ms / 1000;
        ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        while (!q->items && !q->closed)
            if (pthread_cond_timedwait(&q->nonempty, &q->mu, &ts) == ETIMEDOUT)
                break;
    }
    size_t n = 0;
    uint64_t pos = q->rpos;
    for (size_t seen = 0; seen < q->items && n < max; seen++) {
        rec_hdr h;
        memcpy(&h, q->ring + pos % q->cap, sizeof h);
        if (h.kind == K_SKIP) {
            pos += q->cap - pos % q->cap;
            memcpy(&h, q->ring, sizeof h);
        }
        items[n++] = (outq_item){.text = q->ring + pos % q->cap + HDR, .len = h.len, .prio = h.prio, .kind = h.kind};
        pos += HDR + pad16(h.len);
    }
    pthread_mutex_unlock(&q->mu);
    return n;
}

void outq_pop(outq *q, size_t n)
{
    pthread_mutex_lock(&q->mu);
    for (size_t i = 0; i < n && q->items; i++) {
        rec_hdr h;
        memcpy(&h, q->ring + q->rpos % q->cap, sizeof h);
        if (h.kind == K_SKIP) {
            q->rpos += q->cap - q->rpos % q->cap;
            memcpy(&h, q->ring, sizeof h);
        }
        q->rpos += HDR + pad16(h.len);
        q->items--;
        q->alerts -= h.kind == OUTQ_ALERT;
    }
    pthread_mutex_unlock(&q->mu);
}

void outq_close(outq *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->nonempty);
    pthread_mutex_unlock(&q->mu);
}

bool outq_done(outq *q)
{
    pthread_mutex_lock(&q->mu);
    bool d = q->closed && !q->items;
    pthread_mutex_unlock(&q->mu);
    return d;
}

size_t outq_alerts(outq *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->alerts;
    pthread_mutex_unlock(&q->mu);
    return n;
}
