/*
 * file_source — JSONL audit logs from a file, every file of a directory,
 * or stdin ("-"), one payload per line (spec/source.md §5).
 *
 * Differences from upstream, on purpose: no 64 KiB line limit (lines up to
 * `max_line` bytes are read whole; a longer line is reported with its file
 * and line number, counted, and skipped to the next newline without being
 * held in memory), and a bad line never stops the stream.
 *
 * Ownership: the reader owns its buffer; the data handed to the callback is
 * valid only during the call (the callback may modify it in place).
 */
#ifndef PEREGRINE_FILE_SOURCE_H
#define PEREGRINE_FILE_SOURCE_H

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
 * Return 0 to go on, non-zero to stop reading (that value is returned by
 * file_source_run). */
typedef int (*line_fn)(void *ctx, char *line, size_t len, const char *origin, uint64_t lineno);

/* Read `path` ("-" = stdin; a directory = its non-directory entries by
 * modification time).  Returns 0 at end of input, the callback's non-zero
 * value if it stopped the run, or a negative errno (message in err). */
int file_source_run(const char *path, size_t max_line, line_fn fn, void *ctx,
                    file_stats *st, char *err, size_t errlen);

#endif
