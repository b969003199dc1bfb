/*
 * input — the run's JSONL input, driving the engine: a file, a directory
 * of files or stdin read once (file_source), or a file followed as it
 * grows (follow_source).
 *
 * Errors follow util/error.h: 0, or a negative errno with a message in err.
 * Ownership: the engine and the path are borrowed.
 */
#ifndef PEREGRINE_INPUT_H
#define PEREGRINE_INPUT_H

#include <stdatomic.h>
#include <stddef.h>

#include "engine/engine.h"

/* Read `path` (a file, a directory, "-" = stdin) to its end, then wait
 * until every alert is written. */
int input_run_file(engine *e, const char *path, char *err, size_t errlen);
/* Follow a growing file (open_params `file:///path`) until *stop is set,
 * then drain.  A live source: create the engine with concurrent_sources so
 * that alerts are flushed whenever the pipeline has nothing in flight. */
int input_run_follow(engine *e, const char *url, atomic_int *stop, char *err, size_t errlen);

#endif
