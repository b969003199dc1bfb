/*
 * eval — running a compiled ruleset over events.
 *
 * An evaluator belongs to one thread.  Per event: evaluator_begin(), then
 * evaluator_match() to get the matching rules (first match or all, in rule
 * order), then the formatter pulls field values through
 * evaluator_values(), which shares the per-event field cache, so a field
 * used by the condition and the output is extracted once.
 *
 * Ownership: the evaluator borrows the ruleset (which must outlive it) and
 * the field context; values it returns live in the context's arena.
 */
#ifndef PEREGRINE_EVAL_H
#define PEREGRINE_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields/fields.h"
#include "rules/ruleset.h"

typedef struct evaluator evaluator;
struct cexpr;
struct cprog;

evaluator *evaluator_new(const ruleset *rs);
void evaluator_free(evaluator *ev);

/* Start a new event (invalidates the field cache in O(1)). */
void evaluator_begin(evaluator *ev, field_ctx *ctx);
/* Indices of matching active rules, in rule order; at most one unless
 * `all`.  Returns the count (<= max). */
size_t evaluator_match(evaluator *ev, bool all, uint32_t *out, size_t max);
/* Run one condition program (a correlation's step) on the current event,
 * sharing the per-event check memo with the rules. */
bool evaluator_test(evaluator *ev, const struct cprog *p);
/* Values of an expression for the current event (cached per field). */
bool evaluator_values(evaluator *ev, const struct cexpr *e, fvals *out);
/* Regex checks that hit their time or memory bound (they do not match)
 * since the evaluator was made; *pattern (if asked) is the last such
 * check's pattern, owned by the ruleset, or NULL. */
uint64_t evaluator_regex_limit_hits(const evaluator *ev, const char **pattern);

#endif
