/*
 * line_reader — splits a byte stream read from a file descriptor into
 * lines, with a per-line limit, for both the one-shot file source and the
 * follow source.
 *
 * Lines end at '\n'; a trailing '\r' is stripped and empty lines are
 * skipped (docs/compat/source.md §5).  A line longer than `max_line` is never held
 * in memory: it is counted, reported with its origin and line number, and
 * skipped to its newline.  So memory stays below max_line + one read chunk
 * whatever the input.
 *
 * The reader keeps an unterminated last line between calls: the file source
 * reads to EOF once and then calls line_reader_finish() to hand out that
 * final line; the follow source keeps it until the rest of the line is
 * written (or the file is rotated away).
 *
 * Ownership: the reader owns its buffer (line_reader_free); `origin` is
 * borrowed and must outlive the file it names.  The data handed to the
 * callback is valid only during the call (the callback may modify it).
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_LINE_READER_H
#define PEREGRINE_LINE_READER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct file_stats {
    uint64_t lines;        /* non-empty lines handed out */
    uint64_t bytes;
    uint64_t too_long;     /* lines skipped for exceeding max_line */
    uint64_t files;
} file_stats;

/* Called for each non-empty line (trailing \r stripped).  `origin` is the
 * file name, `lineno` the 1-based line number in it.  Also called with
 * line == NULL before the reader may block for more input (every buffered
 * complete line has been handed out): a flush point for batching callers.
 * Return 0 to go on, non-zero to stop reading (that value is returned to
 * the caller). */
typedef int (*line_fn)(void *ctx, char *line, size_t len, const char *origin, uint64_t lineno);

/* Called for a line over max_line instead of logging it at once, so that
 * a caller can put the message in order with its own (optional). */
typedef void (*line_too_long_fn)(void *ctx, const char *origin, uint64_t lineno, uint64_t bytes);

/* Optional: told where a line starts (p, with `avail` bytes of it and
 * after it in the buffer), may find where it ends faster than a search for
 * '\n' (the engine parses a JSON line once and knows where the value
 * ended: json_parse_line).  Returns n when p[n] is the line's '\n', or 0
 * when it cannot tell: the reader then searches. */
typedef size_t (*line_end_fn)(void *ctx, const char *p, size_t avail);

#define LINE_READER_TAIL 64

typedef struct line_reader {
    char *buf;
    size_t cap, len, pos;     /* unconsumed data is buf[pos..len) */
    size_t max_line;
    const char *origin;
    uint64_t lineno;          /* lines seen in the current file */
    int skipping;             /* inside an over-long line: drop bytes until '\n' */
    int discard;              /* drop bytes until '\n' silently (a line begun before we started) */
    uint64_t skip_bytes;
    file_stats *st;
    atomic_int *stop; /* optional: fill returns early when set */
    line_too_long_fn too_long_fn; /* optional; NULL: log_msg at once */
    void *too_long_ctx;
    line_end_fn end_fn;       /* optional */
    void *end_ctx;
    /* The last bytes read from the file, so that a follower can tell whether
     * the file was rewritten under it (copy-truncate, then new data). */
    char tail[LINE_READER_TAIL];
    size_t tail_len;
} line_reader;

void line_reader_init(line_reader *r, size_t max_line, file_stats *st);
/* Report over-long lines to fn rather than logging them (NULL: log). */
void line_reader_on_too_long(line_reader *r, line_too_long_fn fn, void *ctx);
/* Ask fn where each line ends before searching (NULL: always search).  It
 * is offered at most max_line + 2 bytes (a longest line, a '\r', the '\n'),
 * so it never parses far into an over-long line; a line it finds still
 * goes through the same checks. */
void line_reader_on_line_end(line_reader *r, line_end_fn fn, void *ctx);
/* The message about an over-long line (log_msg's text, newline included). */
struct buf;
void line_too_long_log(struct buf *b, const char *origin, uint64_t lineno, uint64_t bytes, size_t max_line);
/* A new file begins: line numbers restart at 1 under `origin`.  Any
 * unterminated line kept from before is dropped (call finish first). */
void line_reader_start(line_reader *r, const char *origin);
/* Drop silently everything up to and including the next '\n': used when
 * starting in the middle of a line that was written before we looked. */
void line_reader_discard_partial(line_reader *r);
/* Read `fd` until read() returns 0, handing every complete line to fn; an
 * unterminated last line is kept.  Returns 0 at EOF (or when *stop was set),
 * the callback's non-zero value, or a negative errno (message in err). */
int line_reader_fill(line_reader *r, int fd, line_fn fn, void *ctx, char *err, size_t errlen);
/* End of this file: hand out the kept unterminated line, if any (the last
 * line of a file does not need a newline).  Returns 0 or the callback's value. */
int line_reader_finish(line_reader *r, line_fn fn, void *ctx);
/*
 * Block mode, for worker threads that read their own input: instead of a
 * call per line, fill `out` with whole lines read from `fd` — about `want`
 * bytes, fewer when a pipe has no more for now — and report each line by
 * its offset in `out` (same rules and numbering as the callback mode; the
 * '\n' or '\r' after a line is left in place, and a NUL follows the last
 * one).  An unterminated line is kept for the next call (and at end of
 * file handed out as the last line).  Over-long lines are counted in
 * st->too_long and reported as in the callback mode (the too_long
 * callback, which can put the message in its place in the block).
 * Returns 1 when this block produced something (lines or messages), 0 at
 * end of file with nothing more, the callback's non-zero value, or a
 * negative errno (message in err).
 */
typedef int (*line_block_fn)(void *ctx, size_t off, size_t len, uint64_t lineno);
int line_reader_block(line_reader *r, int fd, struct buf *out, size_t want, line_block_fn fn, void *ctx,
                      char *err, size_t errlen);

/* Bytes of an unterminated line currently held (or being skipped). */
size_t line_reader_pending(const line_reader *r);
void line_reader_free(line_reader *r);

#endif
