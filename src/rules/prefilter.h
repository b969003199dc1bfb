/*
 * prefilter — which rules an event can match, found in one pass per field
 * instead of rule by rule (docs/rules-at-scale.md).
 *
 * At load time each active rule gets an anchor (anchor.c): a set of
 * checks at least one of which is true whenever the rule matches (one
 * check of an `and`, one of each operand of an `or`).  A rule whose best
 * anchor is no better than what the rule index already knows (ka.verb,
 * ka.target.resource) stays with the index.  The anchors' literals are
 * grouped by field:
 *
 *   =, in, intersects       a hash table: value -> anchors
 *   contains, icontains,    one Vectorscan (Hyperscan) database per field,
 *   startswith, endswith,   every literal a pattern; regexes compiled in
 *   regex                   prefilter mode (a superset of their matches)
 *
 * Per event, each field is extracted once and looked up / scanned once,
 * and the rules of the anchors that fired are the candidates, in rule
 * order.  The prefilter only ever says "maybe": candidates still run
 * their whole condition (eval.c), so a literal or regex the fast path
 * reads more loosely than PCRE2 costs time, never a wrong verdict.  A
 * regex Vectorscan cannot take makes its check no anchor.
 *
 * Ownership: the prefilter belongs to the ruleset (read-only, shared by
 * threads); a pf_scratch belongs to one evaluator.
 */
#ifndef PEREGRINE_PREFILTER_H
#define PEREGRINE_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields/fields.h"

/* The fast path (this prefilter, and the cheap-first order of plan.c)
 * starts at this many active rules.  Below it the index and the shared
 * checks leave little to save (the 0.18.0 rules, ~60, are parse-bound),
 * loading Vectorscan would cost more resident memory than the rules
 * themselves, and the load-time estimates lose to the order the authors
 * of a hand-written rule set chose (docs/rules-at-scale.md). */
#define RULES_AT_SCALE 200

struct ruleset;
struct cexpr;
typedef struct prefilter prefilter;
typedef struct pf_scratch pf_scratch;

/* Build the prefilter of rs's active rules; *anchored (nrules flags,
 * caller-owned) tells which rules it covers (the rule index takes the
 * others).  uses (or NULL): per check number, how many conditions contain
 * it.  NULL (anchored all false) when the rule set is too small to gain
 * from it or no rule is worth anchoring (err ""), when Vectorscan cannot
 * be loaded (the reason in err: a warning, verdicts are the same), or out
 * of memory (err says so: a load error). */
prefilter *prefilter_build(struct ruleset *rs, const uint32_t *uses, bool *anchored, char *err, size_t errlen);
void prefilter_free(prefilter *pf);

/* The fields whose values the prefilter reads, in its order. */
size_t prefilter_nfields(const prefilter *pf);
const struct cexpr *prefilter_field(const prefilter *pf, size_t i);

/* While the rule index is built (index_build's visitor, ctx = pf): the
 * anchored rule can match in cell; then every cell is known.  0 or
 * -ENOMEM. */
int prefilter_note_cell(void *pf, size_t cell, uint32_t rule);
int prefilter_cells_done(prefilter *pf, size_t ncells);
/* The fields to read for an event in cell (indices into the prefilter's
 * fields): those of the anchored rules that can match there. */
size_t prefilter_cell_fields(const prefilter *pf, size_t cell, const uint32_t **fields);

pf_scratch *pf_scratch_new(const prefilter *pf, size_t nrules);
void pf_scratch_free(pf_scratch *s);

/* The candidate rules of an event, sorted, each once, from the prefilter
 * fields fields[0..nf) whose values are vals[fields[i]] (NULL: missing);
 * *out points into s.  Returns their number. */
size_t prefilter_run(const prefilter *pf, pf_scratch *s, const uint32_t *fields, size_t nf, const fvals *const *vals,
                     const uint32_t **out);

#endif
