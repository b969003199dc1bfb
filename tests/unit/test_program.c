/*
 * Condition programs (src/rules/program.c) against the trees they come
 * from: random and/or/not/true/false trees over a few checks, each program
 * run (as eval.c runs it) for every assignment of outcomes to the checks,
 * must give the verdict of evaluating the tree directly, and must visit
 * the checks the tree's short-circuit evaluation would visit, in order.
 */
#include "test.h"

#include "rules/compiled.h"
#include "util/arena.h"

#include <string.h>

#define NCHECKS 5 /* distinct checks; a tree may use one several times */

typedef struct trace {
    unsigned seq[64];
    size_t n;
} trace;

static bool tree_eval(const cnode *n, unsigned outcomes, trace *t)
{
    switch (n->kind) {
    case CN_CHECK:
        if (t->n < 64)
            t->seq[t->n++] = n->memo;
        return (outcomes >> n->memo) & 1;
    case CN_AND:
        for (size_t i = 0; i < n->n; i++)
            if (!tree_eval(n->kids[i], outcomes, t))
                return false;
        return true;
    case CN_OR:
        for (size_t i = 0; i < n->n; i++)
            if (tree_eval(n->kids[i], outcomes, t))
                return true;
        return false;
    case CN_NOT:
        return !tree_eval(n->kids[0], outcomes, t);
    case CN_TRUE:
        return true;
    case CN_FALSE:
        return false;
    }
    return false;
}

static bool prog_run(const cprog *p, unsigned outcomes, trace *t)
{
    uint32_t pc = p->entry;
    while (pc < CPROG_FALSE) {
        const cstep *s = &p->steps[pc];
        if (t->n < 64)
            t->seq[t->n++] = s->memo;
        pc = (outcomes >> s->memo) & 1 ? s->on_true : s->on_false;
    }
    return pc == CPROG_TRUE;
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static cnode *random_tree(arena *a, int depth)
{
    cnode *n = arena_alloc(a, sizeof *n);
    memset(n, 0, sizeof *n);
    unsigned pick = depth <= 0 ? 3 + rnd(3) % 3 : rnd(9);
    switch (pick) {
    case 0:
    case 1:
    case 2: {
        n->kind = pick == 0 ? CN_AND : pick == 1 ? CN_OR : CN_NOT;
        n->n = pick == 2 ? 1 : rnd(4); /* empty and/or included */
        n->kids = arena_alloc(a, (n->n ? n->n : 1) * sizeof *n->kids);
        for (size_t i = 0; i < n->n; i++)
            n->kids[i] = random_tree(a, depth - 1);
        break;
    }
    case 3:
        n->kind = CN_TRUE;
        break;
    case 4:
        n->kind = CN_FALSE;
        break;
    default:
        n->kind = CN_CHECK;
        n->memo = rnd(NCHECKS);
    }
    return n;
}

TEST(program_matches_tree_short_circuit)
{
    arena a;
    arena_init(&a, 1 << 16);
    for (int it = 0; it < 3000; it++) {
        cnode *tree = random_tree(&a, 1 + rnd(5));
        cprog p;
        CHECK(cprog_build(tree, &a, &p) == 0);
        for (uint32_t i = 0; i < p.nsteps; i++) { /* targets stay inside the program */
            CHECK(p.steps[i].on_true < p.nsteps || p.steps[i].on_true >= CPROG_FALSE);
            CHECK(p.steps[i].on_false < p.nsteps || p.steps[i].on_false >= CPROG_FALSE);
            CHECK(p.steps[i].check->kind == CN_CHECK && p.steps[i].memo == p.steps[i].check->memo);
        }
        for (unsigned outcomes = 0; outcomes < 1u << NCHECKS; outcomes++) {
            trace tt = {.n = 0}, tp = {.n = 0};
            bool want = tree_eval(tree, outcomes, &tt), got = prog_run(&p, outcomes, &tp);
            if (want != got || tt.n != tp.n || memcmp(tt.seq, tp.seq, tt.n * sizeof *tt.seq)) {
                test_fail(__FILE__, __LINE__, "tree %d, outcomes %#x: verdict %d, want %d; %zu checks, want %zu", it,
                          outcomes, got, want, tp.n, tt.n);
                arena_free(&a);
                return;
            }
        }
        if (it % 100 == 99)
            arena_reset(&a);
    }
    arena_free(&a);
}

TEST(program_runs_forwards_from_step_zero)
{
    /* a and (b or not c): entry 0; a's true edge goes forwards */
    arena a;
    arena_init(&a, 4096);
    cnode c[3], notc = {.kind = CN_NOT}, orn = {.kind = CN_OR}, andn = {.kind = CN_AND};
    memset(c, 0, sizeof c);
    for (int i = 0; i < 3; i++) {
        c[i].kind = CN_CHECK;
        c[i].memo = (uint32_t)i;
    }
    cnode *nk[1] = {&c[2]}, *ok[2] = {&c[1], &notc}, *ak[2] = {&c[0], &orn};
    notc.kids = nk;
    notc.n = 1;
    orn.kids = ok;
    orn.n = 2;
    andn.kids = ak;
    andn.n = 2;
    cprog p;
    CHECK(cprog_build(&andn, &a, &p) == 0);
    CHECK(p.nsteps == 3);
    CHECK(p.entry == 0);
    CHECK(p.steps[0].memo == 0 && p.steps[0].on_true == 1 && p.steps[0].on_false == CPROG_FALSE);
    CHECK(p.steps[1].memo == 1 && p.steps[1].on_true == CPROG_TRUE && p.steps[1].on_false == 2);
    CHECK(p.steps[2].memo == 2 && p.steps[2].on_true == CPROG_FALSE && p.steps[2].on_false == CPROG_TRUE);
    /* constant conditions have no steps: the entry is the verdict */
    cnode t = {.kind = CN_TRUE}, nt = {.kind = CN_NOT};
    cnode *ntk[1] = {&t};
    nt.kids = ntk;
    nt.n = 1;
    CHECK(cprog_build(&t, &a, &p) == 0 && p.nsteps == 0 && p.entry == CPROG_TRUE);
    CHECK(cprog_build(&nt, &a, &p) == 0 && p.nsteps == 0 && p.entry == CPROG_FALSE);
    arena_free(&a);
}
