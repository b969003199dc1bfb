/*
 * collect — the workers' half of stateful detection: for each event, which
 * correlation steps it matches, under which keys, with which counted
 * values, and the values its alert would print; for each alert of a rule
 * with `suppress:`, its suppression key.  These "hits" go into the chunk's
 * result; the ordered stage (stage.h) turns them into state updates in
 * input order, so the output is the same for any number of threads.
 *
 * A hit is small and self-contained (its strings are in corr_hits.data):
 * the event it came from is gone when the stage runs.  Only events that
 * match a correlation's condition make hits.
 *
 * Ownership: corr_hits belongs to whoever embeds it (a worker_result);
 * corr_hits_clear keeps its memory for reuse.  A collector belongs to one
 * worker thread and borrows the ruleset.
 */
#ifndef PEREGRINE_CORR_COLLECT_H
#define PEREGRINE_CORR_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields/fields.h"
#include "rules/eval.h"
#include "rules/ruleset.h"
#include "util/buf.h"

#define CORR_HIT_UNTIL (-1)     /* the event matched `until` */
#define CORR_HIT_ALERT (-2)     /* an alert of a plain rule with `suppress:` */

#define CORR_MAX_FANOUT 16      /* keys (or values) one event may make per correlation */

typedef struct corr_hit {
    uint32_t rule;              /* the crule (a correlation, or a rule with suppress) */
    int32_t step;               /* >= 0: the step matched; CORR_HIT_UNTIL; CORR_HIT_ALERT */
    uint32_t span;              /* CORR_HIT_ALERT: the alert's span; else the spans before the event */
    uint32_t event;             /* the event's number in the chunk */
    int64_t ts;                 /* event time (ns) */
    uint64_t dedup;             /* hash of (auditID, stage); 0: no auditID */
    uint64_t keyhash;           /* corr_key_hash of the key */
    /* offsets into corr_hits.data */
    uint32_t key, keylen;       /* key values, '\x1f'-separated */
    uint32_t val, vallen;       /* counted value / tuple ('\x1f'-separated), or none */
    uint32_t info, infolen;     /* step record: auditID \x1f time \x1f verb \x1f resource */
    uint32_t cap, caplen;       /* the output template's values (corr_capture_*) */
} corr_hit;

typedef struct corr_hits {
    corr_hit *v;
    size_t n, cap;
    buf data;
    uint64_t skipped;           /* matches with no value for a key or counted field */
    uint32_t events;            /* events numbered so far */
} corr_hits;

void corr_hits_clear(corr_hits *h);
void corr_hits_free(corr_hits *h);

typedef struct corr_collector corr_collector;

/* NULL when out of memory.  A ruleset with no correlation and no suppress
 * needs no collector (ruleset_has_state() is false). */
corr_collector *corr_collector_new(const ruleset *rs);
void corr_collector_free(corr_collector *cc);

/* After the matcher ran on the event (the evaluator positioned on it, its
 * field cache shared): the correlations' steps and `until`.  `spans` is the
 * number of alerts of the chunk so far, this event's included. */
void corr_collect_event(corr_collector *cc, evaluator *ev, field_ctx *fc, uint32_t spans, corr_hits *out);
/* An alert of rule `rule` (with suppress) was rendered as span `span`. */
void corr_collect_alert(corr_collector *cc, evaluator *ev, field_ctx *fc, uint32_t rule, uint32_t span,
                        corr_hits *out);

/* Reading a capture back: the values of output segment i (fvals pointing
 * into the capture).  False when the field had no value. */
typedef struct corr_capture {
    const char *p;
    size_t len;
    size_t offs[256];           /* segment index -> offset of its record, SIZE_MAX: none */
} corr_capture;

void corr_capture_open(corr_capture *c, const char *p, size_t len);
bool corr_capture_values(const corr_capture *c, size_t seg, fval *tmp, size_t max, fvals *out);

#endif
