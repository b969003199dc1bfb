/*
 * store — where correlation state lives, behind one interface.
 *
 * The ordered stage (stage.c) turns each correlation hit into a store_op and
 * hands a whole chunk's ops to store_apply() at once; the store updates the
 * state of each op's (correlation, key) and decides there whether this
 * update fires (crosses the threshold, completes the sequence, sees a new
 * value, passes a suppression).  Deciding inside the store is what lets a
 * shared store (Redis) raise each alert exactly once across replicas; the
 * in-process store (store_mem.c) is the default.  Ops of one apply are
 * processed in array order, each seeing the state left by the previous one.
 *
 * Times are event times in ns since the epoch (stageTimestamp); the store
 * never reads a clock, so replaying a log gives the alerts of living it.
 *
 * Ownership: the caller owns the ops and everything they point to for the
 * duration of store_apply; results that are strings (sample values, step
 * records) are written into the caller's `out` buffer and referenced by
 * offset.  A store is used by one thread at a time (the pipeline's
 * emitter); store_get_stats may be called from any thread.
 *
 * Errors follow util/error.h: 0 or a negative errno.
 */
#ifndef PEREGRINE_CORR_STORE_H
#define PEREGRINE_CORR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum corr_type {
    CORR_EVENT_COUNT,
    CORR_VALUE_COUNT,
    CORR_TEMPORAL,
    CORR_TEMPORAL_ORDERED,
    CORR_NEW_VALUE,
    CORR_SUPPRESS_ONLY,     /* a plain rule's `suppress:` */
} corr_type;

#define CORR_MAX_STEPS 8
#define CORR_MAX_SAMPLES 10     /* %corr.values */

/* What the store needs to know of a correlation (no rules types: a store
 * serves any caller).  `id` names its state: the same definition gets the
 * same id across reloads and restarts, a changed one a new id. */
typedef struct corr_params {
    uint64_t id;
    const char *name;
    corr_type type;
    int64_t window_ns;
    uint64_t threshold;         /* count needed to fire (gt N is stored as N+1) */
    int64_t suppress_ns;        /* 0: none */
    uint32_t nsteps;            /* temporal*: number of steps */
    int64_t learn_ns, forget_ns;/* new_value */
    uint32_t slot;              /* dense index of this correlation in the stage (stats) */
} corr_params;

typedef enum store_op_kind {
    SOP_HIT,        /* a matching event for the correlation's key */
    SOP_CANCEL,     /* `until`: drop the key's partial sequence */
} store_op_kind;

typedef struct store_op {
    /* in */
    store_op_kind kind;
    const corr_params *p;
    const char *key;
    size_t keylen;
    uint64_t keyhash;           /* corr_key_hash(key), computed by the worker; 0: the store hashes */
    int64_t ts;
    const char *value;          /* value_count / new_value / sample: the value (tuple), or NULL */
    size_t vlen;
    uint32_t step;              /* temporal*: the step this event fills */
    const char *info;           /* temporal*: the step record (auditID, time, verb, resource) */
    size_t infolen;
    /* out */
    bool fire;
    uint64_t count;             /* events in the window (event_count), hits of the match */
    uint64_t distinct;          /* distinct values in the window */
    uint64_t suppressed;        /* hits not alerted since this key's last alert */
    int64_t first_ts, last_ts;
    /* %corr.values: NUL-separated values at out[values_off, +values_len);
     * %corr.steps: the steps' records, '\n'-separated, likewise */
    size_t values_off, values_len;
    size_t steps_off, steps_len;
} store_op;

typedef struct corr_stats {
    uint64_t keys;              /* keys held now */
    uint64_t evictions;         /* keys dropped at max_groups or the byte budget */
    uint64_t alerts, suppressed;
} corr_stats;

typedef struct corr_store corr_store;

typedef struct corr_store_vt {
    int (*apply)(corr_store *s, store_op *ops, size_t n, buf *out);
    /* Correlations whose id is not in ids[] lose their state (a reload). */
    void (*retain)(corr_store *s, const uint64_t *ids, size_t n);
    void (*get_stats)(corr_store *s, uint32_t slot, uint64_t id, corr_stats *out);
    uint64_t (*bytes)(corr_store *s);
    void (*free)(corr_store *s);
} corr_store_vt;

struct corr_store {
    const corr_store_vt *vt;
};

static inline int store_apply(corr_store *s, store_op *ops, size_t n, buf *out)
{
    return s->vt->apply(s, ops, n, out);
}

/* A fast hash of a group key, seeded per process (a key's hash is never
 * persisted), so that crafted keys cannot pile into one hash chain. */
uint64_t corr_key_hash(const void *p, size_t n);

/* ---- the in-process store (store_mem.c) ---- */

typedef struct mem_store_opts {
    uint64_t max_groups;        /* per correlation */
    uint64_t max_bytes;         /* all state together */
    uint32_t max_values;        /* new_value: tuples per key before the key is reset */
} mem_store_opts;

corr_store *mem_store_new(const mem_store_opts *o);
/* Persistence (snapshot.c uses these): write every correlation's state, or
 * read it back.  Both return 0 or a negative errno, with a message. */
int mem_store_save(corr_store *s, buf *out);
int mem_store_load(corr_store *s, const char *data, size_t len, char *err, size_t errlen);

#endif
