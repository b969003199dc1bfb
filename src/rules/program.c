/*
 * program — a condition tree compiled to a flat program (compiled.h:
 * cprog), the form the evaluator runs.
 *
 * Code generation, as for the short-circuit operators of any compiler:
 * gen(n, T, F) emits the steps of n so that control reaches T when n is
 * true and F when it is false, and returns n's first step.
 *
 *   check          one step: on true → T, on false → F
 *   a and b        gen(a, gen(b, T, F), F)
 *   a or b         gen(a, T, gen(b, T, F))
 *   not a          gen(a, F, T)
 *   true / false   no step: T / F
 *
 * Operands are generated last to first, since an earlier operand jumps to
 * the entry of the later one; the steps are then renumbered so that the
 * program runs forwards from step 0.  Each occurrence of a check is one
 * step, so the program is as long as the (macro-expanded) condition has
 * checks; the per-event memo (eval.c) still computes each distinct check
 * once.
 *
 * Ownership: the steps live in the arena given (the ruleset's).
 */
#include "rules/compiled.h"

#include <errno.h>

static uint32_t count_checks(const cnode *n)
{
    if (n->kind == CN_CHECK)
        return 1;
    uint32_t k = 0;
    if (n->kind == CN_AND || n->kind == CN_OR || n->kind == CN_NOT)
        for (size_t i = 0; i < n->n; i++)
            k += count_checks(n->kids[i]);
    return k;
}

/* gen(n, t, f) above; steps appended at *used. */
static uint32_t gen(cstep *steps, uint32_t *used, const cnode *n, uint32_t t, uint32_t f)
{
    switch (n->kind) {
    case CN_CHECK:
        steps[*used] = (cstep){.check = n, .memo = n->memo, .on_true = t, .on_false = f};
        return (*used)++;
    case CN_AND:
        for (size_t i = n->n; i-- > 0;)
            t = gen(steps, used, n->kids[i], t, f);
        return t;
    case CN_OR:
        for (size_t i = n->n; i-- > 0;)
            f = gen(steps, used, n->kids[i], t, f);
        return f;
    case CN_NOT:
        return gen(steps, used, n->kids[0], f, t);
    case CN_TRUE:
        return t;
    case CN_FALSE:
        return f;
    }
    return f;
}

/* Step i of the generation order becomes step nsteps - 1 - i. */
static uint32_t renumber(uint32_t target, uint32_t nsteps)
{
    return target >= CPROG_FALSE ? target : nsteps - 1 - target;
}

int cprog_build(const cnode *cond, arena *a, cprog *out)
{
    uint32_t n = count_checks(cond);
    cstep *steps = n ? arena_alloc(a, n * sizeof *steps) : NULL;
    if (n && !steps)
        return -ENOMEM;
    uint32_t used = 0;
    uint32_t entry = gen(steps, &used, cond, CPROG_TRUE, CPROG_FALSE);
    /* generation order reversed in place (no second array in the arena) */
    for (uint32_t i = 0; i < n; i++) {
        steps[i].on_true = renumber(steps[i].on_true, n);
        steps[i].on_false = renumber(steps[i].on_false, n);
    }
    for (uint32_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
        cstep t = steps[i];
        steps[i] = steps[j];
        steps[j] = t;
    }
    out->steps = steps;
    out->nsteps = n;
    out->entry = renumber(entry, n);
    return 0;
}
