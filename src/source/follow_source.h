/*
 * follow_source — follow a growing JSONL audit log (open_params
 * `file:///path`, docs/compat/source.md §6), like `tail -F`.
 *
 * As upstream k8saudit ≥ 0.17: starts at the end of the file (existing
 * content is not read; a file that does not exist yet is read from its
 * start once created), never ends by itself, and survives rotation by
 * rename + create and by copy + truncate.  Lines are split by line_reader,
 * with the same per-line limit and skip-over-limit behaviour as the file
 * source.
 *
 * Where upstream loses or mangles data, on purpose:
 *  - a partially written last line is kept until its newline arrives
 *    (upstream hands the fragment out at once: one malformed line, and the
 *    rest of the line a second one);
 *  - when starting in the middle of a line, that line's tail is skipped
 *    (it began before we looked) instead of being read as a fragment;
 *  - after a rename, the old file is read until the writer has moved to
 *    the new one (the new file has data), then drained to its end, so lines
 *    written to the old file after the rename are not lost;
 *  - the file is re-checked every poll interval even without a change
 *    notification, and a stop drains what was written before it.
 *  - a copy-truncate rotation is detected when the file becomes shorter
 *    than what was read (upstream's only test) and also when it was
 *    truncated and written past our offset again before we looked: the
 *    last bytes we read are compared with what is now at that place.
 * Lines written between the copy and the truncation are lost by that
 * rotation method itself; a line read only in part when the file was
 * truncated is handed out as it is (and is usually malformed).  Two
 * rotations within one poll interval skip the file in between.
 *
 * Change notifications come from inotify on the parent directory; without
 * it (or when a watch cannot be added) the file is polled.
 *
 * Ownership: everything allocated here is freed before follow_source_run
 * returns; `path` and the options are borrowed.  The line handed to the
 * callback is valid only during the call.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_FOLLOW_SOURCE_H
#define PEREGRINE_FOLLOW_SOURCE_H

#include "util/line_reader.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct follow_opts {
    size_t max_line;               /* per-line limit, as for file_source */
    atomic_int *stop;   /* the run ends when *stop becomes non-zero */
    unsigned poll_ms;              /* re-check interval and stop latency; 0 = 200 */
    void (*idle)(void *ctx);       /* optional: called each time all written lines were handed out */
    line_too_long_fn too_long;     /* optional: over-long lines (gets ctx); NULL: logged at once */
    bool no_inotify;               /* force the polling fallback (tests) */
} follow_opts;

typedef struct follow_stats {
    uint64_t rotations;            /* switches to a new file at the path */
    uint64_t truncations;          /* copy-truncate restarts */
} follow_stats;

/* Follow `path` until *o->stop is set (then hand out every complete line
 * already written and return 0), the callback returns non-zero (that value
 * is returned), or an error (negative errno, message in err: the parent
 * directory does not exist, the path is not a regular file at start, a
 * read error, out of memory).  `fst` may be NULL. */
int follow_source_run(const char *path, const follow_opts *o, line_fn fn, void *ctx, file_stats *st,
                      follow_stats *fst, char *err, size_t errlen);

/* The file name of a `file://` open_params: the URL path, percent-decoded
 * (the authority, if any, is ignored as upstream does; so `file:///a/b` is
 * /a/b).  Returns 0, or -EINVAL with a message in err. */
int follow_source_url_path(const char *url, char *out, size_t outlen, char *err, size_t errlen);

#endif
