/*
 * line_reader — lines from a file descriptor, bounded memory (see line_reader.h).
 */
#include "source/line_reader.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>
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

static void report_too_long(const line_reader *r, uint64_t bytes)
{
    log_msg("%s:%llu: line of %llu bytes exceeds the %zu-byte payload limit; skipped", r->origin,
            (unsigned long long)r->lineno, (unsigned long long)bytes, r->max_line);
}

/* Hand out every complete line in the buffer; at the end of a file also the
 * unterminated last one. */
static int drain(line_reader *r, int at_end, line_fn fn, void *ctx)
{
    while (r->pos < r->len) {
        char *start = r->buf + r->pos;
        char *nl = memchr(start, '\n', r->len - r->pos);
        if (!nl && !at_end)
            break;
        size_t n = nl ? (size_t)(nl - start) : r->len - r->pos;
        r->pos += n + (nl ? 1 : 0);
        if (r->discard) {
            r->discard = 0;
            continue;
        }
        r->lineno++;
        if (r->skipping) {
            r->skipping = 0;
            report_too_long(r, r->skip_bytes + n);
            continue;
        }
        if (n > 0 && start[n - 1] == '\r')
            n--;
        if (n == 0)
            continue; /* empty lines are skipped, as upstream does */
        if (n > r->max_line) {
            r->st->too_long++;
            report_too_long(r, n);
            continue;
        }
        r->st->lines++;
        r->st->bytes += n;
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
        if (r->len >= r->max_line + 1) {
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
            size_t limit = r->max_line + READ_CHUNK + 1;
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

void line_reader_free(line_reader *r)
{
    pg_free(r->buf);
    r->buf = NULL;
    r->cap = r->len = r->pos = 0;
}
