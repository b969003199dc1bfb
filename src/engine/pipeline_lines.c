/*
 * pipeline_lines — JSONL line input, the same calls in every mode (see
 * pipeline.h): without worker threads each line is evaluated as the
 * reader reaches it (parsed once, where the reader holds it); with them,
 * lines handed over one by one are copied into chunks the workers take,
 * and a whole stream is read by the workers themselves, in blocks.
 */
#include "engine/pipeline_impl.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>

/* A line chunk is handed to the workers at this size: large enough that
 * queueing costs nothing per event, small enough that N workers x a few
 * chunks stay within a few MB (a block plus the line it ends in stays
 * under the pipeline's KEEP_BYTES for lines up to ~700 KB, so the buffers
 * are reused rather than reallocated). */
#define CHUNK_BYTES (512 * 1024)

int chunk_add_ref(chunk *c, size_t off, size_t len, uint64_t lineno)
{
    if (c->nlines == c->caplines) {
        size_t cap = c->caplines ? 2 * c->caplines : 256;
        line_ref *n = pg_realloc(c->lines, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        c->lines = n;
        c->caplines = cap;
    }
    c->lines[c->nlines++] = (line_ref){off, len, lineno};
    return 0;
}

void chunk_add_skipped(chunk *c, uint64_t lineno, uint64_t bytes)
{
    if (chunk_add_ref(c, LINE_SKIPPED, (size_t)bytes, lineno))
        c->res.counts.too_long++; /* no room for its message: counted at least */
}

int chunk_add_line(chunk *c, const char *line, size_t len, uint64_t lineno)
{
    size_t off = c->data.len;
    buf_put(&c->data, line, len);
    buf_putc(&c->data, '\0');   /* the parser may look one byte past a value */
    if (c->data.oom)
        return -ENOMEM;
    return chunk_add_ref(c, off, len, lineno);
}

static void submit_current(pipeline *p)
{
    chunk *c = p->cur;
    if (!c)
        return;
    p->cur = NULL;
    if (c->nlines || c->res.counts.payloads || c->res.counts.too_long || c->res.log.len)
        pipeline_submit(p, c);
    else
        pipeline_chunk_put(p, c);
}

void pipeline_lines_flush(pipeline *p) { submit_current(p); }

/* The chunk lines of `origin` go to now (a new one when the current one
 * is full or holds another file's lines); NULL when stopping. */
static chunk *current_chunk(pipeline *p, const char *origin)
{
    if (p->cur && (p->cur->data.len + p->cur->res.counts.bytes >= CHUNK_BYTES || origin != p->cur_origin))
        submit_current(p);
    if (!p->cur) {
        p->cur = pipeline_chunk_get(p, CHUNK_LINES, true);
        if (!p->cur)
            return NULL;
        buf_puts(&p->cur->origin, origin);
        p->cur_origin = origin;
        if (p->inline_worker)
            pipeline_stamp_inline(p, p->cur);
    }
    return p->cur;
}

void pipeline_line_too_long(void *ctx, const char *origin, uint64_t lineno, uint64_t bytes)
{
    pipeline *p = ctx;
    chunk *c = current_chunk(p, origin);
    if (!c)
        return;
    if (p->inline_worker)
        worker_skipped_line(p->inline_worker, origin, lineno, bytes, &c->res);
    else
        chunk_add_skipped(c, lineno, bytes);
}

int pipeline_line(void *ctx, char *line, size_t len, const char *origin, uint64_t lineno)
{
    pipeline *p = ctx;
    if (!line) {                /* the reader may block: let what we have go */
        submit_current(p);
        return 0;
    }
    p->bytes_in += len + 1;
    if ((++p->lines_in & 4095) == 0 && p->o.progress)
        p->o.progress(p->o.ctx, p->bytes_in);
    chunk *c = current_chunk(p, origin);
    if (!c)
        return -ENOMEM;
    if (p->inline_worker) {
        worker_payload(p->inline_worker, line, len, origin, lineno, &c->res);
        return 0;
    }
    if (chunk_add_line(c, line, len, lineno)) {
        log_msg("%s:%llu: out of memory; line skipped", origin, (unsigned long long)lineno);
        c->res.counts.malformed++;
    }
    return 0;
}

/* One thread: the worker parses each line as the reader reaches it and so
 * tells the reader where it ends (no separate search for '\n'); the line
 * then comes back through pipeline_line, already parsed. */
static size_t inline_line_end(void *ctx, const char *data, size_t avail)
{
    return worker_line_end(((pipeline *)ctx)->inline_worker, data, avail);
}

/* With worker threads, a stream is read by the workers in blocks of whole
 * lines (pipeline_pull): no reader thread, no copy of each line. */
typedef struct block_input {
    pipeline *p;
    line_reader *r;
    int fd;
    chunk *cur;                 /* being filled */
    char *err;
    size_t errlen;
} block_input;

/* line_too_long_fn: the message takes the line's place in the block. */
static void pull_too_long(void *ctx, const char *origin, uint64_t lineno, uint64_t bytes)
{
    (void)origin;
    chunk_add_skipped(((block_input *)ctx)->cur, lineno, bytes);
}

static int note_line(void *ctx, size_t off, size_t len, uint64_t lineno)
{
    return chunk_add_ref(ctx, off, len, lineno);
}

/* pipeline_pull_fn: the next block of the stream into c. */
static int pull_block(void *ctx, chunk *c)
{
    block_input *bi = ctx;
    pipeline *p = bi->p;
    buf_puts(&c->origin, bi->r->origin);
    bi->cur = c;
    int rc = line_reader_block(bi->r, bi->fd, &c->data, CHUNK_BYTES, note_line, c, bi->err, bi->errlen);
    bi->cur = NULL;
    p->bytes_in += c->data.len;
    if (p->o.progress)
        p->o.progress(p->o.ctx, p->bytes_in);
    return rc;
}

int pipeline_read(pipeline *p, line_reader *r, int fd, char *err, size_t errlen)
{
    if (p->inline_worker) {
        line_reader_on_too_long(r, pipeline_line_too_long, p);
        line_reader_on_line_end(r, inline_line_end, p);
        int rc = line_reader_fill(r, fd, pipeline_line, p, err, errlen);
        return rc ? rc : line_reader_finish(r, pipeline_line, p);
    }
    submit_current(p);
    block_input bi = {.p = p, .r = r, .fd = fd, .err = err, .errlen = errlen};
    line_reader_on_too_long(r, pull_too_long, &bi);
    line_reader_on_line_end(r, NULL, NULL);
    int rc = pipeline_pull(p, pull_block, &bi);
    line_reader_on_too_long(r, NULL, NULL);
    return rc;
}
