/*
 * plan — every condition's program, built once all rules are compiled:
 * only then is it known how many conditions share each check (the cost
 * model divides a shared check's cost among them, cost.c).  With
 * rule_evaluation: reference the operands keep the order written.
 *
 * Ownership: programs go into the ruleset's arena.
 */
#include "rules/compiler.h"
#include "rules/correlation.h"
#include "rules/cost.h"

#include <errno.h>

static int plan_one(compiler *c, cnode *cond, cprog *prog)
{
    if (!cond)
        return 0;
    if (!c->rs->reference)
        cost_reorder(cond, true, c->memo_uses);
    return cprog_build(cond, &c->rs->arena, prog);
}

int plan_programs(compiler *c)
{
    ruleset *rs = c->rs;
    for (size_t i = 0; i < rs->nrules; i++) {
        crule *r = &rs->rules[i];
        if (!r->corr) {
            if (plan_one(c, r->cond, &r->prog))
                return -ENOMEM;
            continue;
        }
        for (size_t s = 0; s < r->corr->nsteps; s++)
            if (plan_one(c, r->corr->steps[s].cond, &r->corr->steps[s].prog))
                return -ENOMEM;
        if (plan_one(c, r->corr->until.cond, &r->corr->until.prog))
            return -ENOMEM;
        r->prog = r->corr->steps[0].prog; /* r->cond is its first step's */
    }
    return 0;
}
