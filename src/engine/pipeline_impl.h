/*
 * pipeline_impl — the pipeline's state, shared by pipeline.c (pool,
 * workers, in-order emission, ruleset generations) and pipeline_lines.c
 * (line input in every mode).  Private to those two files.
 */
#ifndef PEREGRINE_PIPELINE_IMPL_H
#define PEREGRINE_PIPELINE_IMPL_H

#include <pthread.h>

#include "engine/dedupe.h"
#include "engine/pipeline.h"
#include "util/histogram.h"

typedef int (*pipeline_pull_fn)(void *ctx, chunk *c);

/* One ruleset in use.  Chunks are stamped with the generation current
 * when they were submitted and evaluated with it, so a reload takes
 * effect between chunks and no event is evaluated twice or skipped.
 * Counted references (under the pipeline's mutex): the pipeline's
 * current pointer, every chunk in flight, every worker evaluating it. */
typedef struct rs_gen rs_gen;
struct rs_gen {
    const ruleset *rs;
    bool owned;                 /* freed with the generation */
    int refs;
    uint64_t *by_rule;          /* alerts per rule index (counted when emitted) */
};

/* Alert counts of retired generations, by rule name. */
typedef struct retired_count {
    char *name;
    int prio;
    uint64_t n;
} retired_count;

struct pipeline {
    pipeline_opts o;
    rs_gen *gen;                /* current */
    retired_count *retired;
    size_t nretired;
    pthread_mutex_t mu;
    pthread_cond_t cv_free;     /* a chunk was recycled */
    pthread_cond_t cv_work;     /* work queued, or stopping */
    pthread_cond_t cv_emitted;  /* a chunk was emitted */
    chunk *chunks;
    chunk *free_list;
    chunk *work_head, *work_tail;
    chunk **ring;               /* submitted chunks by seq % nchunks */
    uint64_t next_seq, next_emit;
    bool stopping;
    worker **workers;
    pthread_t *threads;
    int nthreads;               /* started worker threads */
    /* pull mode (pipeline_pull): workers fill chunks from the source
     * themselves, one at a time */
    pipeline_pull_fn pull;
    void *pull_ctx;
    bool pulling;               /* a worker is in pull() */
    bool pull_big;              /* the last block pulled was over 1 MiB */
    bool emitting;              /* a worker is emitting (one at a time) */
    int pull_rc;
    pthread_cond_t cv_pulled;   /* the pull source is exhausted */
    worker *inline_worker;      /* no worker threads: evaluation on the caller's thread */
    /* Evaluators lent to submitters that wait for their chunk anyway
     * (pipeline_submit_acked): they evaluate it themselves, on the core
     * that parsed it, instead of waking a worker and sleeping. */
    struct guest *guests;       /* free ones */
    struct guest *guest_mem;
    int nguests;
    rs_gen *inline_gen;
    /* line input (pipeline_lines.c) */
    chunk *cur;                 /* being filled with lines, not yet submitted */
    const char *cur_origin;
    uint64_t lines_in, bytes_in;
    run_counts totals;
    dedupe *dedupe;             /* envelope events: recent (auditID, stage) keys */
    histogram eval_time;        /* seconds per chunk evaluated */
    size_t retained;            /* big chunk buffers kept (chunk.retained), <= o.retain_bytes */
};

/* Append one line to a CHUNK_LINES chunk (copied).  0 or -ENOMEM. */
int chunk_add_line(chunk *c, const char *line, size_t len, uint64_t lineno);
/* Note a line already in c->data at `off` (a byte must follow it there).
 * 0 or -ENOMEM. */
int chunk_add_ref(chunk *c, size_t off, size_t len, uint64_t lineno);
/* Note a line skipped for being over the payload limit (`bytes` long) in
 * its place among c's lines: the worker reports it in order
 * (worker_skipped_line). */
void chunk_add_skipped(chunk *c, uint64_t lineno, uint64_t bytes);

/* Without worker threads: c takes the current ruleset, the inline worker
 * follows it. */
void pipeline_stamp_inline(pipeline *p, chunk *c);

/* Pull mode (worker threads only): each worker that runs out of work
 * fills the next chunk itself with fn (one worker at a time, in order;
 * the others evaluate meanwhile), which saves a thread and a hand-off per
 * chunk and parses bytes while they are still in that core's cache.  fn
 * fills a fresh CHUNK_LINES chunk and returns 1, or returns 0 at the end
 * of the input (the chunk is not used) or a negative errno.  Blocks until
 * the source is exhausted; returns 0 or fn's error. */
int pipeline_pull(pipeline *p, pipeline_pull_fn fn, void *ctx);

#endif
