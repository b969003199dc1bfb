/*
 * anchor — the checks that gate a rule (prefilter.h).
 *
 * A set S of checks anchors condition C when C true implies some check
 * of S true.  Sets are derived from the tree, soundly:
 *
 *   check c         {c}, when the prefilter can see c fire (usable)
 *   a and b         the best set of any operand (each must be true)
 *   a or b          the union of one set per operand (one must be true);
 *                   none if an operand has none
 *   not a           none (true when a check is false: nothing fires)
 *   false           {} — the condition is never true, nothing to wait for
 *   true            none
 *
 * "Best" is the set least likely to fire (cost.c's estimates, summed).
 * Recursion follows the tree, whose depth the compiler bounds.
 */
#include "rules/anchor.h"
#include "rules/cost.h"
#include "rules/regex_literal.h"

#define ANCHOR_MAX_CHECKS 32    /* a bigger union fires too often to be worth it */
/* An anchor must at least halve the events the rule is tried on: one
 * that fires nearly as often costs a scan on top of the same tries. */
#define ANCHOR_MIN_GAIN 2.0
/* A second set must fire on less than this share of events to be worth
 * its field and its bookkeeping. */
#define ANCHOR_SECOND_P 0.3

bool anchor_usable(const cnode *n)
{
    if (n->kind != CN_CHECK || n->rhs || !n->lhs || n->lhs->tf != TF_NONE || n->lhs->numeric)
        return false;
    switch (n->op) {
    case OP_EQ:
    case OP_IN:
    case OP_INTERSECTS:
    case OP_CONTAINS:
    case OP_ICONTAINS:
    case OP_STARTSWITH:
    case OP_ENDSWITH:
        break;
    case OP_REGEX: { /* waited for through a literal every match contains */
        char lit[REGEX_LITERAL_MAX];
        if (!n->re || n->set || !regex_literal(n->str.s, n->str.len, lit, sizeof lit))
            return false;
        break;
    }
    default:
        return false;
    }
    if (n->set) {
        if (!n->set->n)
            return false;
        for (size_t i = 0; i < n->set->n; i++)
            if (!n->set->items[i].len && n->op != OP_EQ && n->op != OP_IN && n->op != OP_INTERSECTS)
                return false; /* contains "": true whenever the field exists */
        return true;
    }
    return n->str.len > 0 || n->op == OP_EQ;
}

static anchor_set none(void)
{
    return (anchor_set){.p = 1, .none = true};
}

/* key < 0: any field; else only the rule index's key field `key`. */
static bool keyed_to(const cnode *n, int key)
{
    return key < 0 || cost_key_field(n->lhs) == key;
}

static anchor_set best(const cnode *n, const anchor_ctx *cx, int key)
{
    switch (n->kind) {
    case CN_TRUE:
        return none();
    case CN_FALSE:
        return (anchor_set){.p = 0};
    case CN_NOT:
        if (n->kids[0]->kind == CN_NOT)
            return best(n->kids[0]->kids[0], cx, key);
        return none();
    case CN_CHECK: {
        if (!anchor_usable(n) || !keyed_to(n, key))
            return none();
        const cnode **one = arena_alloc(cx->scratch, sizeof *one);
        if (!one)
            return none();
        one[0] = n;
        return (anchor_set){.checks = one, .n = 1, .p = cost_check_p(n, cx->uses)};
    }
    case CN_AND: {
        anchor_set b = none();
        for (size_t i = 0; i < n->n; i++) {
            anchor_set k = best(n->kids[i], cx, key);
            if (!k.none && (b.none || k.p < b.p))
                b = k;
        }
        return b;
    }
    case CN_OR: {
        anchor_set *ks = arena_alloc(cx->scratch, (n->n ? n->n : 1) * sizeof *ks);
        if (!ks)
            return none();
        size_t total = 0;
        double p = 0;
        for (size_t i = 0; i < n->n; i++) {
            ks[i] = best(n->kids[i], cx, key);
            if (ks[i].none)
                return none();
            total += ks[i].n;
            p += ks[i].p;
        }
        if (total > ANCHOR_MAX_CHECKS)
            return none();
        anchor_set u = {.checks = arena_alloc(cx->scratch, (total ? total : 1) * sizeof *u.checks),
                        .p = p > 1 ? 1 : p};
        if (!u.checks)
            return none();
        for (size_t i = 0; i < n->n; i++)
            for (size_t j = 0; j < ks[i].n; j++) {
                size_t k = 0;
                while (k < u.n && u.checks[k]->memo != ks[i].checks[j]->memo)
                    k++;
                if (k == u.n)
                    u.checks[u.n++] = ks[i].checks[j];
            }
        return u;
    }
    }
    return none();
}

static bool keys_only(const anchor_set *a)
{
    for (size_t i = 0; i < a->n; i++)
        if (!cost_is_key_field(a->checks[i]->lhs))
            return false;
    return true;
}

/* The two best sets among the operands of the top-level `and` (through
 * nested ones), lowest p first: each operand must be true, so each set
 * must fire. */
static void conjuncts(const cnode *n, const anchor_ctx *cx, anchor_set two[2])
{
    if (n->kind == CN_AND) {
        for (size_t i = 0; i < n->n; i++)
            conjuncts(n->kids[i], cx, two);
        return;
    }
    anchor_set a = best(n, cx, -1);
    if (a.none)
        return;
    if (two[0].none || a.p < two[0].p) {
        two[1] = two[0];
        two[0] = a;
    } else if (two[1].none || a.p < two[1].p) {
        two[1] = a;
    }
}

anchor_plan anchor_choose(const cnode *cond, const anchor_ctx *cx)
{
    anchor_plan none_plan = {.nsets = 0, .p = 1};
    anchor_set two[2] = {none(), none()};
    conjuncts(cond, cx, two);
    if (two[0].none || (keys_only(&two[0]) && two[0].n))
        return none_plan;
    anchor_plan plan = {.set = {two[0]}, .nsets = 1, .p = two[0].p};
    /* a second set, when it filters: the rule is tried only when both fire */
    if (two[0].n && !two[1].none && two[1].n && two[1].p <= ANCHOR_SECOND_P) {
        plan.set[1] = two[1];
        plan.nsets = 2;
        plan.p *= two[1].p;
    }
    /* What the rule index already gives: the chance that ka.verb and
     * ka.target.resource both take an allowed value.  An anchor that
     * does not halve it leaves the rule there. */
    anchor_set v = best(cond, cx, 0), r = best(cond, cx, 1);
    double p_index = (v.none ? 1 : v.p) * (r.none ? 1 : r.p);
    if (plan.p * ANCHOR_MIN_GAIN > p_index)
        return none_plan;
    return plan;
}
