/* Unit tests: the pipeline's chunk pool — big buffers kept across
 * recycles within pipeline_opts.retain_bytes, and freed beyond it. */
#include "test.h"

#include "app/config.h"
#include "engine/pipeline.h"
#include "util/buf.h"

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
