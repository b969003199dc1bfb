/* Unit tests: the pipeline's chunk pool — big buffers kept across
 * recycles within pipeline_opts.retain_bytes, and freed beyond it. */
#include "test.h"

#include "app/config.h"
#include "engine/pipeline.h"
#include "util/buf.h"

#include <pthread.h>
#include <stdint.h>

/* A chunk's data buffer over 1 MiB survives its recycling while the
 * chunks' kept bytes fit retain_bytes; past that it is freed, and with no
 * retention every big buffer is. */
TEST(pipeline_retains_big_buffers_within_bound)
{
    config cfg;
    config_defaults(&cfg);
    const size_t big = 3u << 20;
    for (int retain = 0; retain < 2; retain++) {
        pipeline_opts po = {.nworkers = 0, .nchunks = 3, .wo = {.cfg = &cfg},
                            .retain_bytes = retain ? 5u << 20 : 0};
        pipeline *p = pipeline_new(&po);
        CHECK(p != NULL);
        chunk *a = pipeline_chunk_get(p, CHUNK_LINES, false);
        chunk *b = pipeline_chunk_get(p, CHUNK_LINES, false);
        chunk *small = pipeline_chunk_get(p, CHUNK_LINES, false);
        CHECK(a && b && small);
        CHECK(buf_reserve(&a->data, big) == 0 && buf_reserve(&b->data, big) == 0);
        CHECK(buf_reserve(&small->data, 1000) == 0);
        size_t cap = a->data.cap;
        CHECK(cap > (1u << 20) && cap <= (5u << 20) && 2 * cap > (5u << 20));
        pipeline_chunk_put(p, a);       /* kept (retain), the bound then full */
        pipeline_chunk_put(p, b);       /* over the bound: freed */
        pipeline_chunk_put(p, small);   /* small buffers always stay */
        /* the free list is LIFO: small, b, a */
        chunk *x = pipeline_chunk_get(p, CHUNK_LINES, false);
        chunk *y = pipeline_chunk_get(p, CHUNK_LINES, false);
        chunk *z = pipeline_chunk_get(p, CHUNK_LINES, false);
        CHECK(x == small && y == b && z == a);
        CHECK(x->data.cap >= 1000);
        CHECK(y->data.cap == 0);
        CHECK(z->data.cap == (retain ? cap : 0));
        CHECK(z->data.len == 0);
        /* once a kept buffer is freed, the bound has room again */
        buf_free(&z->data);
        CHECK(buf_reserve(&y->data, big) == 0);
        pipeline_chunk_put(p, z);
        pipeline_chunk_put(p, y);
        chunk *w = pipeline_chunk_get(p, CHUNK_LINES, false);
        CHECK(w == y && w->data.cap == (retain ? cap : 0));
        pipeline_chunk_put(p, w);
        pipeline_chunk_put(p, x);
        pipeline_free(p);
    }
    config_free(&cfg);
}

typedef struct acked_run {
    pipeline *p;
    pthread_mutex_t mu;
    uint64_t emitted[400];
    size_t nemitted;
} acked_run;

static void acked_emit(void *ctx, const chunk *c)
{
    acked_run *r = ctx;
    pthread_mutex_lock(&r->mu);
    if (r->nemitted < 400)
        r->emitted[r->nemitted++] = c->seq;
    pthread_mutex_unlock(&r->mu);
}

static void *acked_submitter(void *arg)
{
    acked_run *r = arg;
    for (int i = 0; i < 100; i++) {
        chunk *c = pipeline_chunk_get(r->p, CHUNK_LINES, true);
        buf_puts(&c->origin, "t");
        pipeline_submit_acked(r->p, c);
        /* c is recycled by now; its emission was recorded before */
    }
    return NULL;
}

/* Submitters that wait for their chunks (the webhook's) evaluate them
 * themselves while guests are free, the others hand them to the worker:
 * every chunk is emitted once, in submission order, before its submitter
 * returns. */
TEST(pipeline_acked_submitters_evaluate_in_order)
{
    config cfg;
    config_defaults(&cfg);
    acked_run r = {.nemitted = 0};
    pthread_mutex_init(&r.mu, NULL);
    pipeline_opts po = {.nworkers = 1, .guests = 2, .wo = {.cfg = &cfg}, .emit = acked_emit, .ctx = &r};
    r.p = pipeline_new(&po);
    CHECK(r.p != NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, acked_submitter, &r);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK(r.nemitted == 400);
    for (size_t i = 0; i < r.nemitted; i++)
        CHECK(r.emitted[i] == i);
    pipeline_free(r.p);
    pthread_mutex_destroy(&r.mu);
    config_free(&cfg);
}
