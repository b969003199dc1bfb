/*
 * anchor — the checks that gate a rule: at least one of them is true
 * whenever the rule matches (anchor.c).  Private to rules/; used by the
 * prefilter (prefilter.c).
 *
 * Ownership: a set's array lives in the scratch arena given.
 */
#ifndef PEREGRINE_ANCHOR_H
#define PEREGRINE_ANCHOR_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/compiled.h"
#include "util/arena.h"

typedef struct anchor_set {
    const cnode **checks;   /* distinct check numbers */
    size_t n;
    double p;               /* estimated chance that one of them is true */
    bool none;              /* no anchor: the rule stays with the rule index */
} anchor_set;               /* !none && n == 0: the condition is never true */

typedef struct anchor_ctx {
    arena *scratch;
    const uint32_t *uses;   /* per check number: conditions containing it, or NULL */
} anchor_ctx;

/* A rule's anchor: one or two sets, each of which fires whenever the
 * rule matches (two: operands of its top-level `and`); nsets == 0: none,
 * the rule stays with the rule index.  A set with n == 0 means the
 * condition is never true. */
typedef struct anchor_plan {
    anchor_set set[2];
    int nsets;
    double p;               /* estimated chance that every set fires */
} anchor_plan;

/* Whether the prefilter can see check n fire: a literal string operator
 * on a plain, non-numeric field, or a regex with a required literal. */
bool anchor_usable(const cnode *n);
/* The anchor of condition cond, or none when the rule index does as
 * well (its only anchors are ka.verb / ka.target.resource checks, or
 * they do not halve the events the index's constraint lets through). */
anchor_plan anchor_choose(const cnode *cond, const anchor_ctx *cx);

#endif
