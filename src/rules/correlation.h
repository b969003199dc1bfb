/*
 * correlation — the compiled form of `- correlation:` items and of plain
 * rules' `suppress:` (see README "Stateful detection").  A correlation is
 * a crule (name, priority, tags, output, enabled) whose `corr` is set; the
 * per-event matcher never runs it: the worker evaluates its steps
 * (correlate/collect.c) and the ordered stage keeps its state
 * (correlate/stage.c).
 *
 * Everything lives in the ruleset's arena, read-only after loading.
 */
#ifndef PEREGRINE_RULES_CORRELATION_H
#define PEREGRINE_RULES_CORRELATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/compiled.h"

/* %corr.* output fields: X(enum suffix, name) */
#define CORR_FIELDS(X)                                                                                        \
    X(COUNT, "count") X(DISTINCT, "distinct") X(VALUES, "values") X(FIRST_TIME, "first_time")                   \
    X(LAST_TIME, "last_time") X(WINDOW, "window") X(KEY, "key") X(SUPPRESSED, "suppressed") X(STEPS, "steps")

typedef enum corr_field {
    CORR_F_NONE,
#define CORR_F_ENUM(e, n) CORR_F_##e,
    CORR_FIELDS(CORR_F_ENUM)
#undef CORR_F_ENUM
    CORR_F__COUNT
} corr_field;

/* "count" -> CORR_F_COUNT; CORR_F_NONE when unknown. */
corr_field corr_field_lookup(const char *name, size_t len);
extern const char *const corr_field_names[CORR_F__COUNT];

/* One group-by item: a field expression, or a template of text and
 * %fields ("system:serviceaccount:%ka.target.namespace"). */
typedef struct ckey {
    cexpr *expr;            /* or NULL: tmpl */
    fmt_template tmpl;
    const char *text;       /* as written */
} ckey;

/* A condition with the key it names events by. */
typedef struct cstepdef {
    cnode *cond;
    cprog prog;
    ckey *group_by;
    size_t ngroup;
} cstepdef;

typedef enum ccorr_type {
    CC_EVENT_COUNT, CC_VALUE_COUNT, CC_TEMPORAL, CC_TEMPORAL_ORDERED, CC_NEW_VALUE,
} ccorr_type;

#define CCORR_MAX_FIELDS 3
#define CORR_MAX_STEPS_LOAD 8     /* steps of a sequence (correlate/store.h CORR_MAX_STEPS) */

typedef struct ccorr {
    ccorr_type type;
    cstepdef *steps;        /* counts and new_value: one (the condition) */
    size_t nsteps;
    cstepdef until;         /* until.cond == NULL: none */
    cexpr *field[CCORR_MAX_FIELDS];   /* value_count: 1; new_value: 1-3; event_count: 0-1 (sampled) */
    size_t nfield;
    int64_t window_ns, suppress_ns, learn_ns, forget_ns;
    const char *window_text;
    uint64_t threshold;     /* events/values needed (gt N compiled as N+1) */
    uint64_t id;            /* hash of the definition: the identity of its state */
    const char *summary;    /* "event_count: gte 20 in 2m by ka.user.name" (-L) */
    uint32_t used;          /* bit f: the output uses %corr.<f> */
} ccorr;

/* One entry of ruleset.corr_steps. */
typedef struct corr_step_ref {
    uint32_t rule;          /* the correlation's crule */
    int32_t step;           /* its step, or -1: its until */
    const cstepdef *sd;
} corr_step_ref;

/* A plain rule's `suppress: {by: [...], for: D}`. */
typedef struct csuppress {
    ckey *by;
    size_t nby;
    int64_t for_ns;
    uint64_t id;
    const char *summary;    /* "suppress: 10m by ka.user.name, ka.target.name" (-L) */
} csuppress;

#endif
