/*
 * pipeline — work units (chunks) from sources to worker threads, and their
 * results back out in submission order.
 *
 *   source ──chunk──▶ [work queue] ──▶ N workers ──▶ emit(), in submission order
 *
 * A source takes a free chunk (pipeline_chunk_get), fills it with one
 * request body already parsed and split, and submits it; JSONL lines go
 * through the line input below, which fills chunks itself.
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
#include "util/line_reader.h"

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

/* A submitter waiting for its chunk to be emitted (pipeline_submit_acked). */
typedef struct pipeline_ack {
    bool done;
    struct pipeline_ack *next;
} pipeline_ack;

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
    pipeline_ack *ack;          /* set by pipeline_submit_acked */
    chunk *next;
    struct rs_gen *gen;         /* the ruleset it is evaluated with (set on submit) */
    size_t retained;            /* bytes of its buffers over 1 MiB kept while free */
};

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
    size_t retain_bytes;        /* buffers over 1 MiB kept across recycles, in all (0: none) */
    int guests;                 /* evaluators for pipeline_submit_acked's callers (0: none) */
    worker_opts wo;
    pipeline_emit_fn emit;
    pipeline_idle_fn idle;      /* optional */
    /* optional: line input read this many bytes so far (every few
     * thousand lines or every block; on the reading thread) */
    void (*progress)(void *ctx, uint64_t bytes);
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
/* The same, returning once c has been emitted and the output flushed (its
 * alerts written to stdout, or handed to the queued channels): what the
 * webhook acknowledges then survives a crash.  While one of opts.guests
 * is free the caller evaluates c itself (it would wait meanwhile anyway):
 * no worker woken, no second core reading what this one just parsed. */
void pipeline_submit_acked(pipeline *p, chunk *c);
/*
 * Line input (JSONL), one source at a time, the same calls whatever the
 * threads: without workers each line is evaluated as it is handed over,
 * in place; with them, lines are copied into chunks the workers take, and
 * a whole stream is read by the workers themselves, in blocks.
 *
 * pipeline_line is a line_fn and pipeline_line_too_long a
 * line_too_long_fn (util/line_reader.h; ctx is the pipeline): a live
 * source hands lines over one at a time (line == NULL: a flush point).
 * pipeline_read reads a stream to its end through r (started on its file
 * by the caller).  pipeline_lines_flush submits the lines not yet
 * submitted (end of an input).  Errors as in util/error.h.
 */
int pipeline_line(void *p, char *line, size_t len, const char *origin, uint64_t lineno);
void pipeline_line_too_long(void *p, const char *origin, uint64_t lineno, uint64_t bytes);
int pipeline_read(pipeline *p, line_reader *r, int fd, char *err, size_t errlen);
void pipeline_lines_flush(pipeline *p);

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
