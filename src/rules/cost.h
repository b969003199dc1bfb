/*
 * cost — load-time estimates of what a check costs and how often it is
 * true (cost.c), and the cheap-first order of `and` / `or` operands.
 * Private to rules/.  Nothing is allocated that outlives a call.
 */
#ifndef PEREGRINE_COST_H
#define PEREGRINE_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "rules/compiled.h"

typedef struct cost_est {
    double cost;    /* expected units of work (a compare on a cached field = 1) */
    double p;       /* probability of being true */
} cost_est;

/* Whether e is ka.verb or ka.target.resource, the rule index's keys;
 * cost_key_field: 0 for ka.verb, 1 for ka.target.resource, else -1. */
bool cost_is_key_field(const cexpr *e);
int cost_key_field(const cexpr *e);
/* A CN_CHECK's estimated cost and probability of being true; uses (or
 * NULL): per check number, how many conditions contain it. */
double cost_check(const cnode *n);
double cost_check_p(const cnode *n, const uint32_t *uses);
/* The estimate of tree n; when reorder, the operands of every `and` and
 * `or` are first sorted cheapest-to-decide first (stable).  uses (or
 * NULL): per check number, how many conditions contain it — a shared
 * check costs its users a share.  Recursion follows the tree, whose
 * depth the compiler bounds. */
cost_est cost_reorder(cnode *n, bool reorder, const uint32_t *uses);

#endif
