/*
 * store_mem — the in-process store's data, shared by its updates
 * (store_mem.c) and its persistence (snapshot.c).  Private to correlate/.
 *
 * Ownership: the mem_store owns its cstates, each cstate its groups, each
 * group its arrays and strings (pg_malloc'd).
 */
#ifndef PEREGRINE_CORR_STORE_MEM_H
#define PEREGRINE_CORR_STORE_MEM_H

#include "correlate/store.h"

#define SAMPLE_MAX 128          /* bytes kept of a sampled value */

typedef struct cstate cstate;
typedef struct group group;

typedef struct gval {           /* value_count: one distinct value */
    uint64_t h;
    int64_t first, last;
    char *s;                    /* sample, at most SAMPLE_MAX bytes */
} gval;

typedef struct gstep {          /* temporal*: a partial match up to this step */
    bool set;
    int64_t start, end;
    char *info;                 /* the steps' records, '\n'-separated */
} gstep;

typedef struct gtuple {         /* new_value: a tuple's hash (0: free slot) */
    uint64_t h;
    int64_t last;
} gtuple;

struct group {
    group *hnext;
    struct { group *prev, *next; } lru[2];  /* [0] correlation's, [1] store's */
    cstate *cs;
    uint64_t hash;
    uint64_t suppressed;
    int64_t supp_until;
    bool supp_set, learn_set;
    int64_t learn_from;         /* new_value: first sighting of the key */
    uint32_t n, cap;
    int64_t *ts;                /* event_count */
    char *samples[CORR_MAX_SAMPLES];
    uint32_t nsamples;
    gval *vals;                 /* value_count */
    gstep *steps;               /* temporal* */
    gtuple *tuples;             /* new_value (open addressing, cap a power of 2) */
    uint32_t strbytes;          /* bytes of the strings it owns (samples, values, step records) */
    uint32_t keylen, keycap;
    char key[];
};

struct cstate {
    cstate *next;
    uint64_t id;
    corr_type type;
    uint32_t nsteps, slot;
    uint64_t threshold;
    group **tab;
    size_t mask;
    group *lru_head, *lru_tail;
    group *spare;               /* an evicted group kept for the next new key:
                                 * at the cap, eviction costs no free/malloc
                                 * (and no fragmentation across threads) */
    uint64_t nkeys, evictions, alerts, suppressed;
};

typedef struct mem_store {
    corr_store base;
    mem_store_opts o;
    cstate *states;
    cstate *by_slot[256];       /* the cstate last used by each stage slot (checked by id) */
    group *lru_head, *lru_tail;
    uint64_t bytes, evictions;
} mem_store;

size_t mem_group_bytes(const cstate *cs, const group *g);
/* Strings a group owns, their bytes counted in g->strbytes. */
char *gstr_dup(group *g, const char *s, size_t n);
void gstr_free(group *g, char *p);
/* Empty a group's state (its arrays kept). */
void group_clear(cstate *cs, group *g);

/* store_rules.c: one update of each type on key group g (op in, results
 * in op and out); mem_gate applies suppression to a decision to fire;
 * mem_consume_steps drops a sequence's partial matches. */
bool mem_gate(cstate *cs, group *g, store_op *op);
void mem_consume_steps(cstate *cs, group *g);
void mem_hit_event_count(cstate *cs, group *g, store_op *op, buf *out);
void mem_hit_value_count(cstate *cs, group *g, store_op *op, buf *out);
void mem_hit_ordered(cstate *cs, group *g, store_op *op, buf *out);
void mem_hit_temporal(cstate *cs, group *g, store_op *op, buf *out);
void mem_hit_new_value(mem_store *m, cstate *cs, group *g, store_op *op, buf *out);
uint64_t corr_hash(const void *p, size_t n);
cstate *mem_cstate(mem_store *m, uint64_t id, corr_type type, uint32_t nsteps, uint64_t threshold, bool create);
/* h: the key's corr_key_hash, or 0 */
group *mem_group(mem_store *m, cstate *cs, const char *key, size_t keylen, uint64_t h, bool create);

#endif
