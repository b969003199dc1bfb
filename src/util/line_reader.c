/*
 * line_reader — lines from a file descriptor, bounded memory (see line_reader.h).
 */
#include "util/line_reader.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/log.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (256 * 1024)

void line_reader_init(line_reader *r, size_t max_line, file_stats *st)
{
    *r = (line_reader){.max_line = max_line, .st = st, .origin = ""};
}

void line_reader_start(line_reader *r, const char *origin)
{
    r->origin = origin;
    r->lineno = 0;
    r->len = r->pos = 0;
    r->skipping = r->discard = 0;
    r->skip_bytes = 0;
    r->tail_len = 0;
    r->st->files++;
}

void line_reader_discard_partial(line_reader *r) { r->discard = 1; }

size_t line_reader_pending(const line_reader *r)
{
    return (r->len - r->pos) + (r->skipping ? (size_t)r->skip_bytes : 0);
}

void line_too_long_log(buf *b, const char *origin, uint64_t lineno, uint64_t bytes, size_t max_line)
{
    log_msg_to(b, "%s:%llu: line of %llu bytes exceeds the %zu-byte payload limit; skipped", origin,
               (unsigned long long)lineno, (unsigned long long)bytes, max_line);
}

void line_reader_on_too_long(line_reader *r, line_too_long_fn fn, void *ctx)
{
    r->too_long_fn = fn;
    r->too_long_ctx = ctx;
}

/* An over-long line: to the hook, or on stderr now. */
static void report_too_long(const line_reader *r, uint64_t bytes)
{
    if (r->too_long_fn) {
        r->too_long_fn(r->too_long_ctx, r->origin, r->lineno, bytes);
        return;
    }
    buf b = BUF_INIT;
    line_too_long_log(&b, r->origin, r->lineno, bytes, r->max_line);
    log_write(b.data, b.len);
    buf_free(&b);
}

/* The rules every line goes through, in both modes: `n` bytes at `start`
 * (its '\n' excluded) are line number ++lineno.  Returns true when the line
 * is to be handed out, with *n trimmed of a trailing '\r'. */
static bool accept_line(line_reader *r, const char *start, size_t *n)
{
    r->lineno++;
    if (r->skipping) {
        /* the newline that ends an over-long line being skipped */
        r->skipping = 0;
        report_too_long(r, r->skip_bytes + *n);
        return false;
    }
    size_t raw = *n;
    if (*n > 0 && start[*n - 1] == '\r')
        (*n)--;
    if (*n == 0)
        return false; /* empty lines are skipped, as upstream does */
    if (*n > r->max_line) {
        r->st->too_long++;
        report_too_long(r, raw);
        return false;
    }
    r->st->lines++;
    r->st->bytes += *n;
    return true;
}

void line_reader_on_line_end(line_reader *r, line_end_fn fn, void *ctx)
{
    r->end_fn = fn;
    r->end_ctx = ctx;
}

/* Hand out every complete line in the buffer; at the end of a file also the
 * unterminated last one. */
static int drain(line_reader *r, int at_end, line_fn fn, void *ctx)
{
    while (r->pos < r->len) {
        char *start = r->buf + r->pos;
        size_t avail = r->len - r->pos;
        char *nl = NULL;
        if (r->end_fn && !r->discard && !r->skipping) {
            /* a line of max_line, a '\r' (which does not count), its '\n' */
            size_t window = avail > 2 && r->max_line < avail - 2 ? r->max_line + 2 : avail;
            size_t e = r->end_fn(r->end_ctx, start, window);
            if (e)
                nl = start + e;
        }
        if (!nl)
            nl = memchr(start, '\n', avail);
        if (!nl && !at_end)
            break;
        size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
        r->pos += n + (nl ? 1 : 0);
        if (r->discard) {
            r->discard = 0;
            continue;
        }
        if (!accept_line(r, start, &n))
            continue;
        int rc = fn(ctx, start, n, r->origin, r->lineno);
        if (rc)
            return rc;
    }
    return 0;
}

static void remember_tail(line_reader *r, const char *p, size_t n)
{
    if (n >= LINE_READER_TAIL) {
        memcpy(r->tail, p + n - LINE_READER_TAIL, LINE_READER_TAIL);
        r->tail_len = LINE_READER_TAIL;
        return;
    }
    size_t keep = r->tail_len + n > LINE_READER_TAIL ? LINE_READER_TAIL - n : r->tail_len;
    memmove(r->tail, r->tail + r->tail_len - keep, keep);
    memcpy(r->tail + keep, p, n);
    r->tail_len = keep + n;
}

int line_reader_fill(line_reader *r, int fd, line_fn fn, void *ctx, char *err, size_t errlen)
{
    for (;;) {
        int rc = drain(r, 0, fn, ctx);
        if (rc)
            return rc;
        /* flush point: every complete line buffered has been handed out */
        rc = fn(ctx, NULL, 0, r->origin, r->lineno);
        if (rc)
            return rc;
        if (r->stop && *r->stop)
            return 0;
        /* move the partial line to the front, grow if needed, read more */
        if (r->pos > 0) {
            memmove(r->buf, r->buf + r->pos, r->len - r->pos);
            r->len -= r->pos;
            r->pos = 0;
        }
        if (r->len > r->max_line + 1) { /* + 1: a '\r' before the newline does not count */
            /* over-long line: forget what we have and skip to its newline */
            if (!r->discard && !r->skipping) {
                r->st->too_long++;
                r->skipping = 1;
                r->skip_bytes = 0;
            }
            r->skip_bytes += r->len;
            r->len = 0;
        }
        if (r->cap - r->len < READ_CHUNK / 4) {
            size_t cap = r->cap ? r->cap * 2 : READ_CHUNK;
            size_t limit = r->max_line + READ_CHUNK + 2;
            if (cap > limit)
                cap = limit;
            if (cap > r->cap) {
                char *p = pg_realloc(r->buf, cap);
                if (!p) {
                    snprintf(err, errlen, "%s: out of memory", r->origin);
                    return -ENOMEM;
                }
                r->buf = p;
                r->cap = cap;
            }
        }
        ssize_t got = read(fd, r->buf + r->len, r->cap - r->len);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return 0;
            int e = errno;
            snprintf(err, errlen, "%s: read error: %s", r->origin, strerror(e));
            return -e;
        }
        if (got == 0)
            return 0;
        remember_tail(r, r->buf + r->len, (size_t)got);
        r->len += (size_t)got;
    }
}

int line_reader_finish(line_reader *r, line_fn fn, void *ctx)
{
    int rc = 0;
    if (r->skipping) {
        r->skipping = 0;
        r->lineno++;
        report_too_long(r, r->skip_bytes + (r->len - r->pos));
    } else {
        rc = drain(r, 1, fn, ctx);
    }
    r->len = r->pos = 0;
    r->discard = 0;
    return rc;
}

/* ---- block mode ---- */

/* Keep out[from..len) (an unterminated line) for the next block. */
static int keep_partial(line_reader *r, buf *out, size_t from)
{
    size_t n = out->len - from;
    if (n > r->cap) {
        char *p = pg_realloc(r->buf, n);
        if (!p)
            return -ENOMEM;
        r->buf = p;
        r->cap = n;
    }
    if (n)
        memcpy(r->buf, out->data + from, n);
    r->pos = 0;
    r->len = n;
    out->len = from;
    return 0;
}

int line_reader_block(line_reader *r, int fd, buf *out, size_t want, line_block_fn fn, void *ctx, char *err,
                      size_t errlen)
{
    buf_clear(out);
    if (r->len > r->pos)
        buf_put(out, r->buf + r->pos, r->len - r->pos);
    r->len = r->pos = 0;
    size_t done = 0;        /* out[0..done): whole lines, handed out */
    size_t scanned = 0;     /* no '\n' in out[done..scanned) */
    bool produced = false, eof = false, short_read = false;
    for (;;) {
        if (out->oom) {
            snprintf(err, errlen, "%s: out of memory", r->origin);
            return -ENOMEM;
        }
        char *nl;
        /* (an empty buffer may not be allocated yet: no memchr on NULL) */
        while (out->len > scanned && (nl = memchr(out->data + scanned, '\n', out->len - scanned))) {
            size_t n = (size_t)(nl - (out->data + done));
            produced = true;
            if (accept_line(r, out->data + done, &n)) {
                int rc = fn(ctx, done, n, r->lineno);
                if (rc)
                    return rc;
            }
            done = scanned = (size_t)(nl + 1 - out->data);
        }
        scanned = out->len;
        /* an unterminated line: over the limit (with room for a '\r'), it
         * is dropped as it comes */
        if (r->skipping || out->len - done > r->max_line + 1) {
            if (!r->skipping) {
                r->st->too_long++;
                r->skipping = 1;
                r->skip_bytes = 0;
                produced = true;
            }
            r->skip_bytes += out->len - done;
            out->len = scanned = done;
        }
        if (eof)
            break;
        /* enough for a block, or a pipe gave what it had: go */
        if (done > 0 && (out->len >= want || short_read))
            break;
        size_t room = out->len < want ? want - out->len : want / 4 + 1;
        buf_reserve(out, room); /* and one byte more: the NUL after the last line */
        if (out->oom)
            continue;
        ssize_t got = read(fd, out->data + out->len, room);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                /* a non-blocking descriptor (stdin set so by someone else) */
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                poll(&pfd, 1, -1);
                continue;
            }
            int e = errno;
            snprintf(err, errlen, "%s: read error: %s", r->origin, strerror(e));
            return -e;
        }
        if (got == 0) {
            eof = true;
            continue;
        }
        short_read = (size_t)got < room;
        out->len += (size_t)got;
    }
    if (!eof) {
        if (keep_partial(r, out, done)) {
            snprintf(err, errlen, "%s: out of memory", r->origin);
            return -ENOMEM;
        }
    } else if (r->skipping) {
        /* the file ends inside an over-long line */
        r->skipping = 0;
        r->lineno++;
        report_too_long(r, r->skip_bytes);
        produced = true;
    } else if (out->len > done) {
        /* the last line of a file needs no newline */
        size_t n = out->len - done;
        produced = true;
        if (accept_line(r, out->data + done, &n)) {
            int rc = fn(ctx, done, n, r->lineno);
            if (rc)
                return rc;
        }
    }
    buf_reserve(out, 0); /* room for the NUL */
    if (out->oom) {
        snprintf(err, errlen, "%s: out of memory", r->origin);
        return -ENOMEM;
    }
    out->data[out->len] = '\0';
    return produced ? 1 : 0;
}

void line_reader_free(line_reader *r)
{
    pg_free(r->buf);
    r->buf = NULL;
    r->cap = r->len = r->pos = 0;
}
