/*
 * pipeline — bounded chunk pool, worker threads, in-order writer
 * (see pipeline.h).
 *
 * One mutex guards the queues and the in-order ring; the work done under
 * it is a few pointer moves per chunk (a chunk is ~256 KiB of lines or a
 * whole request body), so contention is negligible next to evaluation.
 */
#include "engine/pipeline.h"
#include "rules/ruleset.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

/* Buffers above this are released when a chunk is recycled, so one huge
 * body or line does not pin its memory in the pool for ever. */
#define KEEP_BYTES (1u << 20)

struct pipeline {
    pipeline_opts o;
    pthread_mutex_t mu;
    pthread_cond_t cv_free;     /* a chunk was recycled */
    pthread_cond_t cv_work;     /* work queued, or stopping */
    pthread_cond_t cv_done;     /* a chunk finished, or stopping */
    pthread_cond_t cv_emitted;  /* the writer emitted a chunk */
    chunk *chunks;
    chunk *free_list;
    chunk *work_head, *work_tail;
    chunk **ring;               /* submitted chunks by seq % nchunks */
    uint64_t next_seq, next_emit;
    bool stopping;
    worker **workers;
    pthread_t *threads;
    int nthreads;               /* started worker threads */
    pthread_t writer;
    bool writer_started;
    worker *inline_worker;
    run_counts totals;
    uint64_t *by_rule;
    size_t nrules;
};

int chunk_add_line(chunk *c, const char *line, size_t len, uint64_t lineno)
{
    if (c->nlines == c->caplines) {
        size_t cap = c->caplines ? 2 * c->caplines : 256;
        line_ref *n = pg_realloc(c->lines, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        c->lines = n;
        c->caplines = cap;
    }
    size_t off = c->data.len;
    buf_put(&c->data, line, len);
    buf_putc(&c->data, '\0');   /* the parser may look one byte past a value */
    if (c->data.oom)
        return -ENOMEM;
    c->lines[c->nlines++] = (line_ref){off, len, lineno};
    return 0;
}

static void chunk_release_memory(chunk *c)
{
    if (c->data.cap > KEEP_BYTES)
        buf_free(&c->data);
    if (c->res.text.cap > KEEP_BYTES)
        buf_free(&c->res.text);
    if ((size_t)c->doc.cap * sizeof(json_node) > KEEP_BYTES) {
        json_doc_free(&c->doc);
        json_doc_init(&c->doc);
    }
}

static void chunk_free(chunk *c)
{
    buf_free(&c->data);
    buf_free(&c->origin);
    buf_free(&c->cluster);
    pg_free(c->lines);
    json_doc_free(&c->doc);
    event_batch_free(&c->batch);
    worker_result_free(&c->res);
}

/* ------------------------------------------------------------ evaluation */

static void process(worker *w, chunk *c)
{
    if (c->kind == CHUNK_EVENTS) {
        worker_events(w, &c->batch, c->cluster.len ? buf_cstr(&c->cluster) : NULL, &c->res);
        return;
    }
    const char *origin = buf_cstr(&c->origin);
    for (size_t i = 0; i < c->nlines; i++) {
        const line_ref *l = &c->lines[i];
        worker_payload(w, c->data.data + l->off, l->len, origin, l->lineno, &c->res);
    }
}

/* Writer side: account, emit, recycle.  Called without the lock. */
static void emit(pipeline *p, chunk *c)
{
    const worker_result *r = &c->res;
    log_write(r->log.data, r->log.len);
    if (p->o.emit)
        p->o.emit(p->o.ctx, c);
    pthread_mutex_lock(&p->mu);
    run_counts_add(&p->totals, &r->counts);
    for (size_t i = 0; i < r->nspans; i++)
        if (r->spans[i].rule < p->nrules)
            p->by_rule[r->spans[i].rule]++;
    pthread_mutex_unlock(&p->mu);
}

static void recycle_locked(pipeline *p, chunk *c)
{
    chunk_release_memory(c);
    c->next = p->free_list;
    p->free_list = c;
    pthread_cond_signal(&p->cv_free);
}

typedef struct worker_arg {
    pipeline *p;
    worker *w;
} worker_arg;

static void *worker_main(void *arg)
{
    pipeline *p = ((worker_arg *)arg)->p;
    worker *w = ((worker_arg *)arg)->w;
    pg_free(arg);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->work_head && !p->stopping)
            pthread_cond_wait(&p->cv_work, &p->mu);
        chunk *c = p->work_head;
        if (!c)
            break;      /* stopping and nothing left */
        p->work_head = c->next;
        if (!p->work_head)
            p->work_tail = NULL;
        pthread_mutex_unlock(&p->mu);
        process(w, c);
        pthread_mutex_lock(&p->mu);
        c->done = true;
        if (c->seq == p->next_emit)
            pthread_cond_signal(&p->cv_done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void *writer_main(void *arg)
{
    pipeline *p = arg;
    bool idle_done = true;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        chunk **slot = &p->ring[p->next_emit % p->o.nchunks];
        chunk *c = *slot;
        if (p->next_emit < p->next_seq && c && c->done) {
            *slot = NULL;
            pthread_mutex_unlock(&p->mu);
            emit(p, c);
            pthread_mutex_lock(&p->mu);
            p->next_emit++;
            recycle_locked(p, c);
            pthread_cond_broadcast(&p->cv_emitted);
            idle_done = false;
            continue;
        }
        if (p->stopping && p->next_emit == p->next_seq)
            break;
        if (!idle_done && p->o.idle) {
            idle_done = true;
            pthread_mutex_unlock(&p->mu);
            p->o.idle(p->o.ctx);
            pthread_mutex_lock(&p->mu);
            continue;
        }
        pthread_cond_wait(&p->cv_done, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    if (p->o.idle)
        p->o.idle(p->o.ctx);
    return NULL;
}

/* ------------------------------------------------------------ lifecycle */

pipeline *pipeline_new(const pipeline_opts *o)
{
    pipeline *p = pg_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->o = *o;
    if (p->o.nworkers < 0)
        p->o.nworkers = 0;
    if (!p->o.nchunks)
        p->o.nchunks = 4 * (size_t)p->o.nworkers + 2;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_free, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    pthread_cond_init(&p->cv_emitted, NULL);
    p->nrules = o->wo.rs ? ruleset_count(o->wo.rs) : 0;
    p->by_rule = pg_calloc(p->nrules ? p->nrules : 1, sizeof *p->by_rule);
    p->chunks = pg_calloc(p->o.nchunks, sizeof *p->chunks);
    p->ring = pg_calloc(p->o.nchunks, sizeof *p->ring);
    if (!p->by_rule || !p->chunks || !p->ring)
        goto fail;
    for (size_t i = 0; i < p->o.nchunks; i++) {
        chunk *c = &p->chunks[i];
        json_doc_init(&c->doc);
        c->next = p->free_list;
        p->free_list = c;
    }
    if (p->o.nworkers == 0) {
        if (!(p->inline_worker = worker_new(&p->o.wo)))
            goto fail;
        return p;
    }
    p->workers = pg_calloc((size_t)p->o.nworkers, sizeof *p->workers);
    p->threads = pg_calloc((size_t)p->o.nworkers, sizeof *p->threads);
    if (!p->workers || !p->threads)
        goto fail;
    for (int i = 0; i < p->o.nworkers; i++)
        if (!(p->workers[i] = worker_new(&p->o.wo)))
            goto fail;
    for (int i = 0; i < p->o.nworkers; i++) {
        worker_arg *a = pg_malloc(sizeof *a);
        if (!a)
            goto fail;
        *a = (worker_arg){p, p->workers[i]};
        if (pthread_create(&p->threads[i], NULL, worker_main, a)) {
            pg_free(a);
            goto fail;
        }
        p->nthreads++;
    }
    if (pthread_create(&p->writer, NULL, writer_main, p))
        goto fail;
    p->writer_started = true;
    return p;
fail:
    pipeline_free(p);
    return NULL;
}

void pipeline_free(pipeline *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv_work);
    pthread_cond_broadcast(&p->cv_done);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    if (p->writer_started) {
        /* workers are gone: wake the writer for the last chunks */
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv_done);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->writer, NULL);
    }
    for (int i = 0; p->workers && i < p->o.nworkers; i++)
        worker_free(p->workers[i]);
    worker_free(p->inline_worker);
    for (size_t i = 0; p->chunks && i < p->o.nchunks; i++)
        chunk_free(&p->chunks[i]);
    pg_free(p->workers);
    pg_free(p->threads);
    pg_free(p->chunks);
    pg_free(p->ring);
    pg_free(p->by_rule);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_free);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    pthread_cond_destroy(&p->cv_emitted);
    pg_free(p);
}

/* ------------------------------------------------------------ sources */

chunk *pipeline_chunk_get(pipeline *p, chunk_kind kind, bool wait)
{
    pthread_mutex_lock(&p->mu);
    while (!p->free_list && wait && !p->stopping)
        pthread_cond_wait(&p->cv_free, &p->mu);
    chunk *c = p->free_list;
    if (c)
        p->free_list = c->next;
    pthread_mutex_unlock(&p->mu);
    if (!c)
        return NULL;
    c->kind = kind;
    c->next = NULL;
    c->done = false;
    c->nlines = 0;
    buf_clear(&c->data);
    buf_clear(&c->origin);
    buf_clear(&c->cluster);
    c->batch.n = 0;
    worker_result_clear(&c->res);
    return c;
}

void pipeline_chunk_put(pipeline *p, chunk *c)
{
    pthread_mutex_lock(&p->mu);
    recycle_locked(p, c);
    pthread_mutex_unlock(&p->mu);
}

void pipeline_submit(pipeline *p, chunk *c)
{
    if (!p->o.nworkers) {
        c->seq = p->next_seq++;
        process(p->inline_worker, c);
        emit(p, c);
        p->next_emit++;
        pipeline_chunk_put(p, c);
        return;
    }
    pthread_mutex_lock(&p->mu);
    c->seq = p->next_seq++;
    p->ring[c->seq % p->o.nchunks] = c;
    if (p->work_tail)
        p->work_tail->next = c;
    else
        p->work_head = c;
    p->work_tail = c;
    pthread_cond_signal(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
}

void pipeline_drain(pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->next_emit < p->next_seq)
        pthread_cond_wait(&p->cv_emitted, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void pipeline_counts(pipeline *p, run_counts *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->totals;
    pthread_mutex_unlock(&p->mu);
}

const uint64_t *pipeline_rule_counts(const pipeline *p) { return p->by_rule; }

size_t pipeline_pending(pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = (size_t)(p->next_seq - p->next_emit);
    pthread_mutex_unlock(&p->mu);
    return n;
}
