/*
 * bufpool — byte buffers kept for reuse between uses by several threads
 * (the webhook's request bodies).  A buffer over glibc's mmap threshold is
 * mapped afresh when allocated and costs a page fault per 4 KiB written,
 * a growing one a copy per doubling: more than parsing what it holds.
 *
 * Ownership: the pool owns the buffers it keeps; bufpool_get hands one
 * over to the caller (who gives it back with bufpool_put or frees it),
 * bufpool_put takes the caller's buffer (and leaves *b empty).  Bounded:
 * at most BUFPOOL_MAX buffers and `max_bytes` of capacity in all; what
 * does not fit is freed.  Thread-safe.
 */
#ifndef PEREGRINE_BUFPOOL_H
#define PEREGRINE_BUFPOOL_H

#include <pthread.h>
#include <stddef.h>

#include "util/buf.h"

#define BUFPOOL_MAX 16

typedef struct bufpool {
    pthread_mutex_t mu;
    buf v[BUFPOOL_MAX];
    size_t n, bytes, max_bytes;
} bufpool;

void bufpool_init(bufpool *p, size_t max_bytes);
void bufpool_free(bufpool *p);
/* A buffer with room for `want` bytes (and a NUL): the smallest kept one
 * that holds them, else the largest kept one grown, else a new one.  On
 * allocation failure the buffer comes back marked oom. */
buf bufpool_get(bufpool *p, size_t want);
/* Keep *b (emptied) if it fits, else free it; *b is empty after. */
void bufpool_put(bufpool *p, buf *b);
/* Capacity kept now. */
size_t bufpool_bytes(bufpool *p);

#endif
