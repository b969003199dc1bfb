/*
 * bufpool — byte buffers kept for reuse (see bufpool.h).
 */
#include "util/bufpool.h"

void bufpool_init(bufpool *p, size_t max_bytes)
{
    *p = (bufpool){.max_bytes = max_bytes};
    pthread_mutex_init(&p->mu, NULL);
}

void bufpool_free(bufpool *p)
{
    for (size_t i = 0; i < p->n; i++)
        buf_free(&p->v[i]);
    p->n = p->bytes = 0;
    pthread_mutex_destroy(&p->mu);
}

buf bufpool_get(bufpool *p, size_t want)
{
    buf b = BUF_INIT;
    pthread_mutex_lock(&p->mu);
    size_t best = p->n;
    for (size_t i = 0; i < p->n; i++) {
        size_t cap = p->v[i].cap, bcap = best < p->n ? p->v[best].cap : 0;
        if (best == p->n)
            best = i;
        else if (cap > want ? bcap <= want || cap < bcap : bcap <= want && cap > bcap)
            best = i;   /* the smallest that holds want, else the largest */
    }
    if (best < p->n) {
        b = p->v[best];
        p->bytes -= b.cap;
        p->v[best] = p->v[--p->n];
    }
    pthread_mutex_unlock(&p->mu);
    buf_reserve(&b, want);
    return b;
}

void bufpool_put(bufpool *p, buf *b)
{
    if (b->data && !b->oom) {
        pthread_mutex_lock(&p->mu);
        if (p->n < BUFPOOL_MAX && p->bytes + b->cap <= p->max_bytes) {
            buf_clear(b);
            p->v[p->n++] = *b;
            p->bytes += b->cap;
            *b = (buf)BUF_INIT;
        }
        pthread_mutex_unlock(&p->mu);
    }
    buf_free(b);
}

size_t bufpool_bytes(bufpool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->bytes;
    pthread_mutex_unlock(&p->mu);
    return n;
}
