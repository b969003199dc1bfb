/*
 * cost — what a check costs and how often it is true, estimated at load
 * time, and the cheap-first order of `and` / `or` operands built on them.
 *
 * The estimates are static (no event has been seen when rules load) and
 * coarse on purpose: they only have to rank checks.  Costs are relative
 * units, measured with callgrind over the bench corpus (docs/rules-at-scale.md
 * gives the table and how it was measured); a string compare on a cached
 * field is 1.  Probabilities of being true come from the shape of audit
 * traffic: a verb names ~1/7 of requests, a resource ~1/12, a user name,
 * namespace or object name far fewer, a long substring fewer still.
 *
 * Reordering is sound because a check is a pure function of the event
 * (eval.c): `a and b` and `b and a` have the same value whatever the order
 * the operands run in, and so on for `or`.  Only the work done differs —
 * and the regex-bound counter, which counts checks run.  The rule index
 * and the prefilter read the tree's shape, never its order.
 */
#include "rules/cost.h"

#include <stdlib.h>
#include <string.h>

static bool field_named(const cexpr *e, const char *name)
{
    return e && e->tf == TF_NONE && !e->ref.key && e->ref.index < 0 && !strcmp(e->ref.def->name, name);
}

int cost_key_field(const cexpr *e)
{
    return field_named(e, "ka.verb") ? 0 : field_named(e, "ka.target.resource") ? 1 : -1;
}

bool cost_is_key_field(const cexpr *e)
{
    return cost_key_field(e) >= 0;
}

/* Fields with few values, and the chance that one literal is the value
 * (most requests are ResponseComplete and allowed; an exact user name,
 * object name or image is rare).  jevt.value[...] fields by their text. */
static const struct {
    const char *text;
    double p;
} few_values[] = {
    {"ka.verb", 0.15},
    {"ka.target.resource", 0.08},
    {"ka.target.subresource", 0.05},
    {"ka.target.namespace", 0.1},
    {"ka.stage", 0.9},
    {"jevt.value[/stage]", 0.9},
    {"jevt.value[/level]", 0.5},
    {"ka.auth.decision", 0.9},
    {"ka.response.code", 0.5},
    {"ka.user.groups", 0.5},
    {"ka.auth.reason", 0.5},
    {"jevt.value[/apiVersion]", 0.9},
    {"jevt.value[/kind]", 0.9},
    {"jevt.value[/objectRef/apiGroup]", 0.3},
    {"jevt.value[/objectRef/apiVersion]", 0.5},
};

static double p_equal(const cexpr *e)
{
    for (size_t i = 0; i < sizeof few_values / sizeof *few_values; i++)
        if (e->text && !strcmp(e->text, few_values[i].text))
            return few_values[i].p;
    return 0.02;
}

/* A substring of length len found in the value. */
static double p_substring(size_t len, bool anchored)
{
    double p = len >= 12 ? 0.01 : len >= 8 ? 0.02 : len >= 4 ? 0.06 : 0.25;
    return anchored ? p * 2 : p; /* prefixes are shared more: "system:", "/api" */
}

#define SHARED_USES 4
#define SHARED_P 0.3

static double check_p(const cnode *n);

static double clamp(double p)
{
    return p < 0.0005 ? 0.0005 : p > 0.9995 ? 0.9995 : p;
}

static size_t literals(const cnode *n)
{
    return n->set ? n->set->n : 1;
}

double cost_check_p(const cnode *n, const uint32_t *uses)
{
    /* a check many conditions share (`kevt`, `kcreate`, a namespace list)
     * is a generic precondition rather than what singles a rule out */
    double p = check_p(n);
    if (uses && uses[n->memo] >= SHARED_USES && p < SHARED_P)
        p = SHARED_P;
    return p;
}

static double check_p(const cnode *n)
{
    if (n->rhs)
        return 0.3;
    size_t len = n->set ? 0 : n->str.len;
    double per = 0.5;
    switch (n->op) {
    case OP_EXISTS: return 0.7;
    case OP_EQ:
    case OP_IN:
    case OP_INTERSECTS: per = p_equal(n->lhs); break;
    case OP_NE: return clamp(1 - p_equal(n->lhs));
    case OP_STARTSWITH:
    case OP_ENDSWITH: per = p_substring(len ? len : 6, true); break;
    case OP_CONTAINS: per = p_substring(len ? len : 6, false); break;
    case OP_ICONTAINS: per = 2 * p_substring(len ? len : 6, false); break;
    case OP_REGEX: per = 0.1; break;
    case OP_GLOB:
    case OP_IGLOB:
    case OP_PMATCH: per = 0.1; break;
    default: return 0.5; /* <, >, ...: rare in audit rules */
    }
    if (n->mod == MOD_ALLOF)
        return clamp(per);
    return clamp(per * (double)literals(n));
}

/* Extracting a field the first time; later reads hit the per-event cache,
 * which the memo of shared checks makes the common case for ka.verb and
 * friends, so those count as cached. */
static double expr_cost(const cexpr *e)
{
    if (!e)
        return 0;
    if (e->tf != TF_NONE)
        return 8 + expr_cost(e->arg);
    if (cost_is_key_field(e) || field_named(e, "ka.user.name") || field_named(e, "ka.target.namespace"))
        return 0.5;
    if (e->ref.key || e->ref.index >= 0)
        return 4; /* jevt.value[/...], ka.req.*[...]: a path walk */
    return 2;
}

double cost_check(const cnode *n)
{
    double c = expr_cost(n->lhs) + expr_cost(n->rhs);
    size_t k = literals(n);
    switch (n->op) {
    case OP_EXISTS: return c + 0.2;
    case OP_EQ:
    case OP_NE: return c + (n->mod ? (double)k : 1);
    case OP_IN:
    case OP_INTERSECTS: return c + 1.5;
    case OP_STARTSWITH:
    case OP_ENDSWITH: return c + 1.2 * (double)(n->mod ? k : 1);
    case OP_CONTAINS: return c + 3 * (double)(n->mod ? k : 1);
    case OP_ICONTAINS: return c + 12 * (double)(n->mod ? k : 1);
    case OP_GLOB:
    case OP_IGLOB:
    case OP_PMATCH: return c + 15 * (double)k;
    case OP_REGEX: return c + 40;
    default: return c + 2;
    }
}

typedef struct ranked {
    cnode *n;
    cost_est e;
    double key;
    size_t pos;
} ranked;

static int by_key(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos; /* stable: the written order on ties */
}

/* For `and`, the operand most likely to end the evaluation per unit of
 * cost goes first: cost / P(false); for `or`, cost / P(true).  Then the
 * node's own estimate: an operand runs only when those before it did not
 * decide. */
static cost_est order_kids(cnode *n, ranked *r)
{
    bool and = n->kind == CN_AND;
    for (size_t i = 0; i < n->n; i++) {
        double decide = and ? 1 - r[i].e.p : r[i].e.p;
        r[i].key = r[i].e.cost / (decide > 1e-6 ? decide : 1e-6);
    }
    if (r[0].n) /* NULL: out of memory, the estimates only */
        qsort(r, n->n, sizeof *r, by_key);
    cost_est e = {0, and ? 1 : 0};
    double reach = 1;
    for (size_t i = 0; i < n->n; i++) {
        if (r[0].n)
            n->kids[i] = r[i].n;
        e.cost += reach * r[i].e.cost;
        reach *= and ? r[i].e.p : 1 - r[i].e.p;
    }
    e.p = and ? reach : 1 - reach;
    return e;
}

cost_est cost_reorder(cnode *n, bool reorder, const uint32_t *uses)
{
    switch (n->kind) {
    case CN_TRUE: return (cost_est){0, 1};
    case CN_FALSE: return (cost_est){0, 0};
    case CN_CHECK: /* repeated checks are computed once per event: each use pays a share */
        return (cost_est){cost_check(n) / (uses && uses[n->memo] ? uses[n->memo] : 1), cost_check_p(n, uses)};
    case CN_NOT: {
        cost_est e = cost_reorder(n->kids[0], reorder, uses);
        return (cost_est){e.cost, 1 - e.p};
    }
    case CN_AND:
    case CN_OR:
        break;
    }
    enum { SMALL = 16 };
    ranked small[SMALL], *r = n->n <= SMALL ? small : malloc(n->n * sizeof *r);
    bool own = r != small;
    if (!r) { /* out of memory: estimate without reordering */
        cost_est e = {0, n->kind == CN_AND ? 1 : 0};
        for (size_t i = 0; i < n->n; i++) {
            cost_est k = cost_reorder(n->kids[i], false, uses);
            e.cost += k.cost;
            e.p = n->kind == CN_AND ? e.p * k.p : 1 - (1 - e.p) * (1 - k.p);
        }
        return e;
    }
    for (size_t i = 0; i < n->n; i++)
        r[i] = (ranked){reorder ? n->kids[i] : NULL, cost_reorder(n->kids[i], reorder, uses), 0, i};
    cost_est e = n->n ? order_kids(n, r) : (cost_est){0, n->kind == CN_AND ? 1 : 0};
    if (own)
        free(r);
    return e;
}
