/*
 * correlation_load — the keys of a `- correlation:` item, and a plain
 * rule's `suppress:`, read from YAML into the collection (before
 * compilation).  The keys correlations share with rules (condition,
 * output, desc, priority, tags, enabled, exceptions, append, override) are
 * read by the rules loader itself.
 *
 * Ownership: an l_corr / l_suppress owns its strings (pg_malloc'd);
 * release with l_corr_free / l_suppress_free.
 */
#ifndef PEREGRINE_CORRELATION_LOAD_H
#define PEREGRINE_CORRELATION_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "util/strvec.h"
#include "yaml/ytree.h"

typedef struct l_step {
    char *cond;
    strvec group_by;
    int line, col;
} l_step;

typedef struct l_corr {
    int type;                   /* ccorr_type */
    strvec rules;               /* rules: [...] instead of a condition */
    strvec group_by;
    strvec field;
    char *window;               /* as written */
    int64_t window_ns;
    uint64_t threshold;         /* events/values needed to fire */
    char *threshold_text;       /* "gte 20" */
    l_step *steps;
    size_t nsteps;
    l_step until;               /* until.cond NULL: none */
    int64_t learn_ns, forget_ns;
    int64_t suppress_ns;
    bool suppress_given;
} l_corr;

typedef struct l_suppress {
    strvec by;
    int64_t for_ns;
    char *for_text;             /* as written */
} l_suppress;

/* The keys a correlation item may have besides the rule keys. */
extern const char *const corr_item_keys[];

/* Read a correlation's own keys from `item`.  On error returns -1 with the
 * offending node in *bad (NULL: the item) and the reason in msg; the
 * LOAD_ERR_* class is always LOAD_ERR_YAML_VALIDATE. */
int corr_load(const ynode *item, l_corr *out, const ynode **bad, char *msg, size_t msglen);
/* A plain rule's `suppress: {by: [...], for: D}`; *out NULL when absent. */
int corr_load_suppress(const ynode *item, l_suppress **out, const ynode **bad, char *msg, size_t msglen);

void l_corr_free(l_corr *c);
void l_suppress_free(l_suppress *s);

/* "30s", "2m", "1h", "1d", "500ms", or plain seconds.  0 or -1. */
int corr_parse_duration(const char *s, int64_t *ns);

#endif
