/*
 * file_source — JSONL audit logs from a file, every file of a directory,
 * or stdin ("-"), one payload per line (docs/compat/source.md §5).
 *
 * Differences from upstream, on purpose: no 64 KiB line limit (lines up to
 * `max_line` bytes are read whole; a longer line is reported with its file
 * and line number, counted, and skipped to the next newline without being
 * held in memory), and a bad line never stops the stream.
 *
 * Lines are split by line_reader (shared with follow_source).
 *
 * Ownership: the reader owns its buffer; the data handed to the callback is
 * valid only during the call (the callback may modify it in place).
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_FILE_SOURCE_H
#define PEREGRINE_FILE_SOURCE_H

#include "util/line_reader.h"

#include <stddef.h>

/* Read `path` ("-" = stdin; a directory = its non-directory entries by
 * modification time).  Over-long lines go to `too_long` (NULL: logged at
 * once); `line_end` may say where lines end (line_reader_on_line_end,
 * NULL: none); every callback gets ctx.  Returns 0 at end of input, the
 * callback's non-zero value if it stopped the run, or a negative errno
 * (message in err). */
int file_source_run(const char *path, size_t max_line, line_fn fn, line_too_long_fn too_long, line_end_fn line_end,
                    void *ctx, file_stats *st, char *err, size_t errlen);

/* The files `path` names, in the order file_source_run reads them, each
 * opened and handed to fn (closed after; stdin is not).  Returns 0, fn's
 * non-zero value (which stops the walk), or a negative errno (message in
 * err).  For readers that split lines themselves (line_reader_block). */
typedef int (*file_fd_fn)(void *ctx, int fd, const char *origin, char *err, size_t errlen);
int file_source_each(const char *path, file_fd_fn fn, void *ctx, char *err, size_t errlen);

#endif
