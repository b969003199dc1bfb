/*
 * pipeline — bounded chunk pool, worker threads, in-order emission
 * (see pipeline.h).
 *
 * One mutex guards the queues and the in-order ring; the work done under
 * it is a few pointer moves per chunk (a chunk is ~256 KiB of lines or a
 * whole request body), so contention is negligible next to evaluation.
 */
#include "engine/pipeline_impl.h"
#include "engine/corr_emit.h"
#include "engine/dedupe.h"
#include "rules/ruleset.h"
#include "util/alloc.h"
#include "util/histogram.h"
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

/* Buffers above this are released when a chunk is recycled, so one huge
 * body or line does not pin its memory in the pool for ever — unless the
 * pipeline may retain them (opts.retain_bytes): a buffer that size is
 * mmap'ed, and a fresh one costs a page fault per 4 KiB written, more than
 * parsing the bytes (multi-megabyte lines and request bodies). */
#define KEEP_BYTES (1u << 20)

/* Recycle c's memory (lock held): small buffers stay; big ones stay while
 * the chunks' retained bytes fit opts.retain_bytes, else are freed. */
static void chunk_release_memory(pipeline *p, chunk *c)
{
    p->retained -= c->retained;
    c->retained = 0;
    size_t nodes = (size_t)c->doc.cap * sizeof(json_node);
    if (c->data.cap > KEEP_BYTES) {
        if (p->retained + c->data.cap <= p->o.retain_bytes)
            c->retained += c->data.cap;
        else
            buf_free(&c->data);
    }
    if (nodes > KEEP_BYTES) {
        if (p->retained + c->retained + nodes <= p->o.retain_bytes) {
            c->retained += nodes;
        } else {
            json_doc_free(&c->doc);
            json_doc_init(&c->doc);
        }
    }
    p->retained += c->retained;
    if (c->res.text.cap > KEEP_BYTES)
        buf_free(&c->res.text);
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

/* ------------------------------------------------------------ generations */

static rs_gen *gen_new(const ruleset *rs, bool owned)
{
    rs_gen *g = pg_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    size_t n = rs ? ruleset_count(rs) : 0;
    if (!(g->by_rule = pg_calloc(n ? n : 1, sizeof *g->by_rule))) {
        pg_free(g);
        return NULL;
    }
    g->rs = rs;
    g->owned = owned;
    g->refs = 1;
    return g;
}

/* Drop a reference (lock held); the last one folds the counts into the
 * retired table and frees the generation. */
static void gen_unref_locked(pipeline *p, rs_gen *g)
{
    if (!g || --g->refs > 0)
        return;
    for (size_t i = 0; g->rs && i < ruleset_count(g->rs); i++) {
        if (!g->by_rule[i])
            continue;
        const rule_info *ri = ruleset_rule(g->rs, i);
        size_t k = 0;
        while (k < p->nretired && strcmp(p->retired[k].name, ri->name))
            k++;
        if (k == p->nretired) {
            retired_count *n = pg_realloc(p->retired, (p->nretired + 1) * sizeof *n);
            char *name = pg_strdup(ri->name);
            if (!n || !name) {
                if (n)
                    p->retired = n;
                pg_free(name);
                continue;       /* out of memory: that count is lost from the summary only */
            }
            p->retired = n;
            p->retired[p->nretired++] = (retired_count){name, ri->prio, 0};
        }
        p->retired[k].n += g->by_rule[i];
    }
    if (g->owned)
        ruleset_free((ruleset *)g->rs);
    pg_free(g->by_rule);
    pg_free(g);
}

const ruleset *chunk_ruleset(const chunk *c) { return c->gen ? c->gen->rs : NULL; }

/* ------------------------------------------------------------ evaluation */

/* A worker's ruleset follows the chunks it takes. */
static void follow_generation(pipeline *p, worker *w, rs_gen **cur, rs_gen *want)
{
    if (*cur == want)
        return;
    worker_set_ruleset(w, want->rs);
    pthread_mutex_lock(&p->mu);
    want->refs++;
    gen_unref_locked(p, *cur);
    pthread_mutex_unlock(&p->mu);
    *cur = want;
}

static void process(worker *w, chunk *c)
{
    if (c->kind == CHUNK_EVENTS) {
        worker_events(w, &c->batch, c->cluster.len ? buf_cstr(&c->cluster) : NULL, c->marked, &c->res);
        return;
    }
    const char *origin = buf_cstr(&c->origin);
    for (size_t i = 0; i < c->nlines; i++) {
        const line_ref *l = &c->lines[i];
        if (l->off == LINE_SKIPPED)
            worker_skipped_line(w, origin, l->lineno, l->len, &c->res);
        else
            worker_payload(w, c->data.data + l->off, l->len, origin, l->lineno, &c->res);
    }
}

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void timed_process(pipeline *p, worker *w, chunk *c)
{
    uint64_t t0 = mono_ns();
    process(w, c);
    hist_observe(&p->eval_time, mono_ns() - t0);
}

/* Account and emit one chunk (the emitter, without the lock). */
static void emit(pipeline *p, chunk *c)
{
    const worker_result *r = &c->res;
    dedupe_apply(p->dedupe, &c->res);
    log_write(r->log.data, r->log.len);
    if (p->o.corr && c->gen->rs && ruleset_has_state(c->gen->rs))
        corr_emit_apply(p->o.corr, c->gen->rs, &c->res);
    if (p->o.emit)
        p->o.emit(p->o.ctx, c);
    pthread_mutex_lock(&p->mu);
    run_counts_add(&p->totals, &r->counts);
    size_t nrules = c->gen->rs ? ruleset_count(c->gen->rs) : 0;
    for (size_t i = 0; i < r->nspans; i++)
        if (r->spans[i].rule < nrules)
            c->gen->by_rule[r->spans[i].rule]++;
    gen_unref_locked(p, c->gen);
    c->gen = NULL;
    pthread_mutex_unlock(&p->mu);
}

static void recycle_locked(pipeline *p, chunk *c)
{
    chunk_release_memory(p, c);
    c->next = p->free_list;
    p->free_list = c;
    pthread_cond_signal(&p->cv_free);
}

/* Emit every chunk that is next in order and done (lock held, released
 * while emitting; `emitting` keeps one emitter at a time).  Returns how
 * many were emitted. */
static size_t emit_ready_locked(pipeline *p)
{
    size_t n = 0;
    pipeline_ack *acks = NULL;
    p->emitting = true;
    for (;;) {
        chunk **slot = &p->ring[p->next_emit % p->o.nchunks];
        chunk *c = *slot;
        if ((p->next_emit >= p->next_seq || !c || !c->done) && acks) {
            /* flushed before their submitters answer; chunks completed
             * meanwhile are left to this emitter, so look again after */
            pthread_mutex_unlock(&p->mu);
            if (p->o.idle)
                p->o.idle(p->o.ctx);
            pthread_mutex_lock(&p->mu);
            while (acks) { /* (their submitters wait for the lock we hold) */
                pipeline_ack *next = acks->next;
                acks->done = true;
                acks = next;
            }
            pthread_cond_broadcast(&p->cv_emitted);
            continue;
        }
        if (p->next_emit >= p->next_seq || !c || !c->done)
            break;
        *slot = NULL;
        pthread_mutex_unlock(&p->mu);
        emit(p, c);
        pthread_mutex_lock(&p->mu);
        p->next_emit++;
        if (c->ack) {
            c->ack->next = acks;
            acks = c->ack;
            c->ack = NULL;
        }
        recycle_locked(p, c);
        n++;
    }
    p->emitting = false;
    pthread_cond_broadcast(&p->cv_emitted); /* pipeline_drain waits for this too */
    return n;
}

/* A worker that completed the next chunk in order emits it and every
 * completed one after it (a writer thread woken for every chunk cost two
 * context switches per chunk on a busy machine).  When nothing is left in
 * flight it also flushes the output (the idle callback): a source may not
 * send more for a while. */
static void emit_and_flush_locked(pipeline *p)
{
    for (;;) {
        emit_ready_locked(p);
        if (p->next_emit != p->next_seq || !p->o.idle)
            return;
        p->emitting = true;
        pthread_mutex_unlock(&p->mu);
        p->o.idle(p->o.ctx);
        pthread_mutex_lock(&p->mu);
        p->emitting = false;
        pthread_cond_broadcast(&p->cv_emitted); /* pipeline_drain waits for this too */
        chunk *next = p->ring[p->next_emit % p->o.nchunks];
        if (p->next_emit == p->next_seq || !next || !next->done)
            return; /* else one was submitted and completed meanwhile */
    }
}

/* An evaluator lent to a submitter (pipeline_impl.h: guests). */
typedef struct guest {
    worker *w;
    rs_gen *gen;                /* the generation w's evaluator is for */
    struct guest *next;
} guest;

typedef struct worker_arg {
    pipeline *p;
    worker *w;
    rs_gen *gen;                /* the generation w's evaluator is for */
} worker_arg;

/* Make c ready to be filled (a fresh chunk of `kind`). */
static void chunk_reset(chunk *c, chunk_kind kind)
{
    c->kind = kind;
    c->next = NULL;
    c->done = false;
    c->ack = NULL;
    c->nlines = 0;
    buf_clear(&c->data);
    buf_clear(&c->origin);
    buf_clear(&c->cluster);
    c->marked = false;
    c->batch.n = 0;
    worker_result_clear(&c->res);
}

/* Queue c in the emission ring (lock held): it is emitted after every
 * chunk submitted before it. */
static void enqueue_locked(pipeline *p, chunk *c)
{
    c->seq = p->next_seq++;
    c->gen = p->gen;
    p->gen->refs++;
    p->ring[c->seq % p->o.nchunks] = c;
}

/* Pull mode: fill a free chunk from the source (lock held on entry and
 * exit, released while reading).  Returns the chunk, now in the emission
 * ring, or NULL when the source is exhausted or failed. */
static chunk *pull_locked(pipeline *p)
{
    p->pulling = true;
    /* Fewer chunks in flight than the pool holds: each worker's own, and
     * one more each waiting for its turn to be emitted, is enough to keep
     * every worker busy, and bounds the memory of blocks read ahead. */
    size_t max_inflight = 2 * (size_t)p->o.nworkers + 1;
    /* Blocks of multi-megabyte lines: one per worker and the one being
     * read; each chunk in rotation keeps a buffer that size, whose first
     * use costs a page fault per 4 KiB. */
    if (p->pull_big)
        max_inflight = (size_t)p->o.nworkers + 1;
    while ((!p->free_list || p->next_seq - p->next_emit >= max_inflight) && !p->stopping)
        pthread_cond_wait(&p->cv_free, &p->mu);
    chunk *c = p->free_list;
    int rc = -ECANCELED;        /* stopping */
    if (c) {
        p->free_list = c->next;
        pthread_mutex_unlock(&p->mu);
        chunk_reset(c, CHUNK_LINES);
        rc = p->pull(p->pull_ctx, c);
        pthread_mutex_lock(&p->mu);
    }
    p->pulling = false;
    if (rc <= 0) {
        if (c)
            recycle_locked(p, c);
        p->pull = NULL;
        p->pull_rc = rc;
        pthread_cond_broadcast(&p->cv_pulled);
        return NULL;
    }
    p->pull_big = c->data.len > KEEP_BYTES;
    enqueue_locked(p, c);
    pthread_cond_signal(&p->cv_work); /* the next block can be read meanwhile */
    return c;
}

static void *worker_main(void *arg)
{
    pipeline *p = ((worker_arg *)arg)->p;
    worker *w = ((worker_arg *)arg)->w;
    rs_gen *gen = ((worker_arg *)arg)->gen;
    pg_free(arg);
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->work_head && !(p->pull && !p->pulling) && !p->stopping)
            pthread_cond_wait(&p->cv_work, &p->mu);
        chunk *c = p->work_head;
        if (c) {
            p->work_head = c->next;
            if (!p->work_head)
                p->work_tail = NULL;
        } else if (p->pull && !p->pulling) {
            if (!(c = pull_locked(p)))
                continue;
        } else {
            break;      /* stopping and nothing left */
        }
        pthread_mutex_unlock(&p->mu);
        follow_generation(p, w, &gen, c->gen);
        timed_process(p, w, c);
        pthread_mutex_lock(&p->mu);
        c->done = true;
        if (c->seq == p->next_emit && !p->emitting)
            emit_and_flush_locked(p);
        /* else whoever emits the chunks before it emits it too */
    }
    gen_unref_locked(p, gen);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ------------------------------------------------------------ lifecycle */

pipeline *pipeline_new(const pipeline_opts *o)
{
    pipeline *p = pg_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->o = *o;
    p->dedupe = dedupe_new(o->wo.cfg ? o->wo.cfg->duplicate_window : 0);
    if (p->o.nworkers < 0)
        p->o.nworkers = 0;
    if (!p->o.nchunks)
        p->o.nchunks = 4 * (size_t)p->o.nworkers + 2;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_free, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_emitted, NULL);
    pthread_cond_init(&p->cv_pulled, NULL);
    p->gen = gen_new(o->wo.rs, false);
    p->chunks = pg_calloc(p->o.nchunks, sizeof *p->chunks);
    p->ring = pg_calloc(p->o.nchunks, sizeof *p->ring);
    if (!p->gen || !p->chunks || !p->ring)
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
        p->inline_gen = p->gen;
        p->gen->refs++;
        return p;
    }
    p->workers = pg_calloc((size_t)p->o.nworkers, sizeof *p->workers);
    p->threads = pg_calloc((size_t)p->o.nworkers, sizeof *p->threads);
    if (!p->workers || !p->threads)
        goto fail;
    for (int i = 0; i < p->o.nworkers; i++)
        if (!(p->workers[i] = worker_new(&p->o.wo)))
            goto fail;
    if (p->o.guests > 0 && !(p->guest_mem = pg_calloc((size_t)p->o.guests, sizeof *p->guest_mem)))
        goto fail;
    for (int i = 0; i < p->o.guests; i++) {
        guest *g = &p->guest_mem[i];
        if (!(g->w = worker_new(&p->o.wo)))
            goto fail;
        g->gen = p->gen;
        p->gen->refs++;
        g->next = p->guests;
        p->guests = g;
        p->nguests++;
    }
    for (int i = 0; i < p->o.nworkers; i++) {
        worker_arg *a = pg_malloc(sizeof *a);
        if (!a)
            goto fail;
        *a = (worker_arg){p, p->workers[i], p->gen};
        p->gen->refs++;
        if (pthread_create(&p->threads[i], NULL, worker_main, a)) {
            p->gen->refs--;
            pg_free(a);
            goto fail;
        }
        p->nthreads++;
    }
    return p;
fail:
    pipeline_free(p);
    return NULL;
}

void pipeline_free(pipeline *p)
{
    if (p && p->cur) {
        pipeline_chunk_put(p, p->cur);
        p->cur = NULL;
    }
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    /* workers take every queued chunk before they stop, and the one that
     * completes a chunk's turn emits it: nothing is left unemitted */
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    for (int i = 0; p->workers && i < p->o.nworkers; i++)
        worker_free(p->workers[i]);
    worker_free(p->inline_worker);
    for (int i = 0; i < p->nguests; i++) {
        worker_free(p->guest_mem[i].w);
        gen_unref_locked(p, p->guest_mem[i].gen);
    }
    pg_free(p->guest_mem);
    for (size_t i = 0; p->chunks && i < p->o.nchunks; i++)
        chunk_free(&p->chunks[i]);
    dedupe_free(p->dedupe);
    pg_free(p->workers);
    pg_free(p->threads);
    pg_free(p->chunks);
    pg_free(p->ring);
    gen_unref_locked(p, p->inline_gen);
    gen_unref_locked(p, p->gen);
    for (size_t i = 0; i < p->nretired; i++)
        pg_free(p->retired[i].name);
    pg_free(p->retired);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_free);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_emitted);
    pthread_cond_destroy(&p->cv_pulled);
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
    if (c)
        chunk_reset(c, kind);
    return c;
}

void pipeline_chunk_put(pipeline *p, chunk *c)
{
    pthread_mutex_lock(&p->mu);
    recycle_locked(p, c);
    pthread_mutex_unlock(&p->mu);
}

void pipeline_stamp_inline(pipeline *p, chunk *c)
{
    c->gen = p->gen;
    p->gen->refs++;
    follow_generation(p, p->inline_worker, &p->inline_gen, c->gen);
}

void pipeline_submit(pipeline *p, chunk *c)
{
    if (!p->o.nworkers) {
        c->seq = p->next_seq++;
        if (!c->gen)            /* else stamped by pipeline_line */
            pipeline_stamp_inline(p, c);
        timed_process(p, p->inline_worker, c);
        emit(p, c);
        p->next_emit++;
        if (c->ack) {
            if (p->o.idle)
                p->o.idle(p->o.ctx);
            c->ack->done = true;
            c->ack = NULL;
        }
        pipeline_chunk_put(p, c);
        return;
    }
    pthread_mutex_lock(&p->mu);
    enqueue_locked(p, c);
    if (p->work_tail)
        p->work_tail->next = c;
    else
        p->work_head = c;
    p->work_tail = c;
    pthread_cond_signal(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
}

void pipeline_submit_acked(pipeline *p, chunk *c)
{
    pipeline_ack ack = {0};
    c->ack = &ack;
    guest *g = NULL;
    if (p->o.nworkers) {
        pthread_mutex_lock(&p->mu);
        if ((g = p->guests)) {
            /* in the emission ring, not in the work queue: evaluated here */
            p->guests = g->next;
            enqueue_locked(p, c);
        }
        pthread_mutex_unlock(&p->mu);
    }
    if (!g) {
        pipeline_submit(p, c);
        if (!p->o.nworkers)
            return;
    } else {
        follow_generation(p, g->w, &g->gen, c->gen);
        timed_process(p, g->w, c);
    }
    pthread_mutex_lock(&p->mu);
    if (g) {
        g->next = p->guests;
        p->guests = g;
        c->done = true;
        if (c->seq == p->next_emit && !p->emitting)
            emit_and_flush_locked(p);
    }
    while (!ack.done)
        pthread_cond_wait(&p->cv_emitted, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

int pipeline_pull(pipeline *p, pipeline_pull_fn fn, void *ctx)
{
    pthread_mutex_lock(&p->mu);
    p->pull = fn;
    p->pull_ctx = ctx;
    p->pull_rc = 0;
    pthread_cond_broadcast(&p->cv_work);
    while (p->pull && !p->stopping)
        pthread_cond_wait(&p->cv_pulled, &p->mu);
    int rc = p->pull_rc;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void pipeline_drain(pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    /* everything emitted, and the emitter out of the callbacks (an idle
     * flush may follow the last emit): the caller may use the outputs */
    while (p->next_emit < p->next_seq || p->emitting)
        pthread_cond_wait(&p->cv_emitted, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void pipeline_counts(pipeline *p, run_counts *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->totals;
    pthread_mutex_unlock(&p->mu);
}

int pipeline_set_ruleset(pipeline *p, ruleset *rs)
{
    rs_gen *g = gen_new(rs, true);
    if (!g)
        return -ENOMEM;
    pthread_mutex_lock(&p->mu);
    rs_gen *old = p->gen;
    p->gen = g;
    gen_unref_locked(p, old);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

const ruleset *pipeline_ruleset(pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    const ruleset *rs = p->gen->rs;
    pthread_mutex_unlock(&p->mu);
    return rs;
}

void pipeline_rule_totals(pipeline *p, void (*fn)(void *ctx, const char *name, int prio, uint64_t n), void *ctx)
{
    pthread_mutex_lock(&p->mu);
    const ruleset *rs = p->gen->rs;
    size_t n = rs ? ruleset_count(rs) : 0;
    bool *merged = pg_calloc(p->nretired + 1, sizeof *merged);
    for (size_t i = 0; i < n; i++) {
        const rule_info *ri = ruleset_rule(rs, i);
        uint64_t total = p->gen->by_rule[i];
        for (size_t k = 0; merged && k < p->nretired; k++)
            if (!merged[k] && !strcmp(p->retired[k].name, ri->name)) {
                total += p->retired[k].n;
                merged[k] = true;
            }
        if (total)
            fn(ctx, ri->name, ri->prio, total);
    }
    for (size_t k = 0; k < p->nretired; k++)
        if (!merged || !merged[k])
            fn(ctx, p->retired[k].name, p->retired[k].prio, p->retired[k].n);
    pg_free(merged);
    pthread_mutex_unlock(&p->mu);
}

size_t pipeline_pending(pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = (size_t)(p->next_seq - p->next_emit);
    pthread_mutex_unlock(&p->mu);
    return n;
}

const histogram *pipeline_eval_histogram(const pipeline *p) { return &p->eval_time; }
