/*
 * plan — every condition's program, built once all rules are compiled:
 * only then is it known how many conditions share each check (the cost
 * model divides a shared check's cost among them, cost.c).  Operands
 * keep the order written with rule_evaluation: reference, and in rule
 * sets smaller than RULES_AT_SCALE (prefilter.h).
 *
 * Ownership: programs go into the ruleset's arena.
 */
#include "rules/compiler.h"
#include "rules/correlation.h"
#include "rules/cost.h"
#include "rules/prefilter.h"

#include <errno.h>

static int plan_one(compiler *c, cnode *cond, cprog *prog, bool reorder)
{
    if (!cond)
        return 0;
    if (reorder)
        cost_reorder(cond, true, c->memo_uses);
    return cprog_build(cond, &c->rs->arena, prog);
}

int plan_programs(compiler *c)
{
    ruleset *rs = c->rs;
    size_t active = 0;
    for (size_t i = 0; i < rs->nrules; i++)
        active += rs->rules[i].active;
    bool reorder = !rs->reference && active >= RULES_AT_SCALE;
    for (size_t i = 0; i < rs->nrules; i++) {
        crule *r = &rs->rules[i];
        if (!r->corr) {
            if (plan_one(c, r->cond, &r->prog, reorder))
                return -ENOMEM;
            continue;
        }
        for (size_t s = 0; s < r->corr->nsteps; s++)
            if (plan_one(c, r->corr->steps[s].cond, &r->corr->steps[s].prog, reorder))
                return -ENOMEM;
        if (plan_one(c, r->corr->until.cond, &r->corr->until.prog, reorder))
            return -ENOMEM;
        r->prog = r->corr->steps[0].prog; /* r->cond is its first step's */
    }
    return 0;
}
