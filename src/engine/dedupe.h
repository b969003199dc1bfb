/*
 * dedupe — duplicate deliveries of the same audit event (Firehose,
 * Pub/Sub and shippers all redeliver): a bounded window of the most
 * recent (auditID, stage) keys, applied to each chunk's result as it is
 * emitted — in input order, one emitter at a time — so which copy is kept
 * does not depend on the number of threads.  A duplicate's alerts (or
 * extract lines) are removed and it is counted instead of evaluated.
 *
 * Ownership: the pipeline owns the window; dedupe_apply edits the result
 * in place.  Not thread-safe (the emitter is single).
 */
#ifndef PEREGRINE_DEDUPE_H
#define PEREGRINE_DEDUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/worker.h"

typedef struct dedupe dedupe;

/* A window of `window` keys (0: NULL, no suppression). */
dedupe *dedupe_new(size_t window);
void dedupe_free(dedupe *d);
/* Whether key was seen within the window; it is remembered either way. */
bool dedupe_seen(dedupe *d, uint64_t key);
/* Drop the marked events of r already seen: their text and spans go,
 * events/alerts are decremented and duplicates counted. */
void dedupe_apply(dedupe *d, worker_result *r);

#endif
