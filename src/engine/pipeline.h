/*
 * pipeline — work units (chunks) from sources to worker threads, and their
 * results back out in submission order.
 *
 *   source ──chunk──▶ [work queue] ──▶ N workers ──▶ emit(), in submission order
 *
 * A source takes a free chunk (pipeline_chunk_get), fills it — whole JSONL
 * lines, or one request body already parsed and split — and submits it;
 * or, for file input, the workers fill chunks themselves (pipeline_pull).
 * Workers evaluate chunks in any order; the worker that completes the
 * chunk whose turn it is hands it, and every completed chunk after it, to
 * the emit callback — one emitter at a time, strictly in submission order,
 * so the alerts (and the messages on stderr) come out exactly as with one
 * thread.
 *
 * Memory is bounded by the pool: at most `nchunks` chunks exist; a source
 * that finds none free either waits (files: back-pressure on the reader) or
 * is told no (the webhook answers 503).  With nworkers == 0 there are no
 * threads at all: pipeline_submit() evaluates and emits on the caller's
 * thread (`--threads 1`).
 *
 * Ownership: the pipeline owns its chunks, workers and threads; it borrows
 * the worker options (config, ruleset) and the emit context.  A chunk
 * belongs to the source between get and submit (or put), then to the
 * pipeline.
 */
#ifndef PEREGRINE_PIPELINE_H
#define PEREGRINE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/worker.h"
#include "event/event.h"
#include "json/json.h"
#include "rules/ruleset.h"
#include "util/buf.h"

typedef enum chunk_kind {
    CHUNK_LINES,    /* data holds lines (see `lines`), parsed by the worker */
    CHUNK_EVENTS,   /* data holds one body, parsed into doc/batch by the source */
} chunk_kind;

typedef struct line_ref {
    size_t off, len;            /* off == LINE_SKIPPED: over the payload
                                 * limit, len bytes long, not in data */
    uint64_t lineno;
} line_ref;

#define LINE_SKIPPED SIZE_MAX

typedef struct chunk chunk;
struct chunk {
    chunk_kind kind;
    uint64_t seq;
    buf data;
    line_ref *lines;            /* CHUNK_LINES */
    size_t nlines, caplines;
    buf origin;                 /* file name or request label, for messages */
    buf cluster;                /* CHUNK_EVENTS: cluster named by the endpoint ("" = none) */
    bool marked;                /* CHUNK_EVENTS: decoded from an envelope (duplicates suppressed) */
    json_doc doc;               /* CHUNK_EVENTS */
    event_batch batch;
    worker_result res;          /* cleared by pipeline_chunk_get; a source may
                                 * count (too_long, drops) and log into it */
    bool done;
    chunk *next;
    struct rs_gen *gen;         /* the ruleset it is evaluated with (set on submit) */
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

/* The ruleset a chunk was evaluated with (valid during emit). */
const ruleset *chunk_ruleset(const chunk *c);

/* Called in submission order, one call at a time, on the worker thread
 * that completed the chunk's turn (or the caller's thread without
 * workers). */
typedef void (*pipeline_emit_fn)(void *ctx, const chunk *c);
/* Called after emitting when nothing is left in flight (a flush point),
 * under the same one-at-a-time rule. */
typedef void (*pipeline_idle_fn)(void *ctx);

typedef struct pipeline_opts {
    int nworkers;               /* 0 = inline, no threads */
    size_t nchunks;             /* pool size; 0 = 4 per worker + 2 */
    worker_opts wo;
    pipeline_emit_fn emit;
    pipeline_idle_fn idle;      /* optional */
    void *ctx;
    struct corr_emit *corr;     /* optional: the ordered correlation stage,
                                 * applied to each chunk before emit */
} pipeline_opts;

typedef struct pipeline pipeline;

/* NULL on allocation or thread-creation failure. */
pipeline *pipeline_new(const pipeline_opts *o);
/* Stop: everything submitted is evaluated and emitted first. */
void pipeline_free(pipeline *p);

/* A free chunk of the given kind, or NULL when none is free and !wait. */
chunk *pipeline_chunk_get(pipeline *p, chunk_kind kind, bool wait);
/* Give back a chunk that will not be submitted. */
void pipeline_chunk_put(pipeline *p, chunk *c);
/* Queue a filled chunk (inline mode: evaluate and emit it now). */
void pipeline_submit(pipeline *p, chunk *c);
/* Inline mode (no worker threads) only: evaluate one payload now into c's
 * result, without copying it into the chunk; c is submitted as usual
 * later, which emits what accumulated.  Saves a copy of every line when
 * one thread does everything. */
bool pipeline_is_inline(const pipeline *p);
void pipeline_inline_payload(pipeline *p, chunk *c, char *data, size_t len, const char *origin, uint64_t lineno);
/* worker_line_end on the inline worker (inline pipelines only). */
size_t pipeline_inline_line_end(pipeline *p, const char *data, size_t avail);
/* Inline mode: a line skipped for being over the payload limit, reported
 * now into c's result (worker_skipped_line). */
void pipeline_inline_skipped(pipeline *p, chunk *c, const char *origin, uint64_t lineno, uint64_t bytes);

/* Pull mode (worker threads only): instead of a source thread filling
 * chunks and workers taking them, each worker that runs out of work fills
 * the next chunk itself with fn (one worker at a time, in order; the
 * others evaluate meanwhile).  That saves a thread and a hand-off per
 * chunk, and the bytes a worker reads are still in its core's cache when
 * it parses them.  fn fills a fresh CHUNK_LINES chunk and returns 1, or
 * returns 0 at the end of the input (the chunk is not used) or a negative
 * errno.  Blocks until the source is exhausted; returns 0 or fn's error.
 * Chunks are queued for emission as they are filled: call
 * pipeline_drain() to wait for their output. */
typedef int (*pipeline_pull_fn)(void *ctx, chunk *c);
int pipeline_pull(pipeline *p, pipeline_pull_fn fn, void *ctx);

/* Wait until everything submitted so far has been emitted. */
void pipeline_drain(pipeline *p);

/* Totals of everything emitted so far (a consistent copy). */
void pipeline_counts(pipeline *p, run_counts *out);
/* Evaluate chunks submitted from now on with `rs` (the pipeline takes
 * ownership and frees it once no chunk or worker uses it).  0 or -ENOMEM
 * (then rs is still the caller's). */
int pipeline_set_ruleset(pipeline *p, ruleset *rs);
/* The ruleset chunks are stamped with now (borrowed). */
const ruleset *pipeline_ruleset(pipeline *p);
/* Alerts per rule name, across reloads: the current rules in rule order,
 * then rules that only older rule sets had. */
void pipeline_rule_totals(pipeline *p, void (*fn)(void *ctx, const char *name, int prio, uint64_t n), void *ctx);
/* Time spent evaluating each chunk. */
struct histogram;
const struct histogram *pipeline_eval_histogram(const pipeline *p);
/* Chunks submitted and not yet emitted (queue depth). */
size_t pipeline_pending(pipeline *p);

#endif
