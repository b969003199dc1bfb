/*
 * progress — the live progress line of long file runs, on stderr:
 *
 *   1234567 events  512345 ev/s  41.2%  97 alerts
 *
 * Only when stderr is a terminal and logging is not quiet; redrawn at most
 * twice a second; erased at the end so the statistics print cleanly.
 *
 * Ownership: a plain struct owned by the caller.
 */
#ifndef PEREGRINE_PROGRESS_H
#define PEREGRINE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct progress {
    bool on;
    uint64_t total_bytes;       /* 0 = unknown (stdin) */
    double t0, last;
    bool drawn;
} progress;

/* Start for an input of `path` ("-" = stdin, a file or a directory). */
void progress_start(progress *p, const char *path);
/* Whether it is time to redraw (cheap: call it every few thousand lines). */
bool progress_due(progress *p);
void progress_draw(progress *p, uint64_t bytes, uint64_t events, uint64_t alerts);
void progress_end(progress *p);

#endif
