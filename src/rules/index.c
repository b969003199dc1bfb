/*
 * index — test an event only against the rules that can match it.
 *
 * Most audit rules require literal values of ka.verb and
 * ka.target.resource (`ka.verb=create and ka.target.resource=pods`).  At
 * load time each active rule's condition is analysed for what it implies
 * about those two fields: a set of allowed literals, or "anything".  The
 * distinct literals become classes (plus class 0 = any other value or
 * missing), and for every (verb class, resource class) pair the candidate
 * rules are listed in rule order.  An event then costs two lookups and
 * visits only its candidates.
 *
 * Soundness: a constraint is only derived where the condition cannot be
 * true otherwise — a check `F = lit` or `F in (...)` on the plain field
 * (false when the field is missing), the intersection over `and`, the union
 * over `or` when every branch is constrained; `not` yields nothing.
 *
 * Bounds (hostile rules files): a constraint of more than INDEX_MAX_LITS
 * literals counts as "anything", a field with more than INDEX_MAX_CLASSES
 * distinct literals is not indexed, and when the table (cells x rules)
 * would exceed INDEX_MAX_ENTRIES the field with more literals is dropped.
 * Dropping only makes the index coarser, never wrong, and keeps its build
 * time and memory linear in the rules.
 */
#include "rules/compiled.h"
#include "util/alloc.h"
#include "util/memeq.h"

#include <errno.h>
#include <string.h>

static const char *const key_fields[2] = {"ka.verb", "ka.target.resource"};

#define INDEX_MAX_LITS 64            /* per constraint */
#define INDEX_MAX_CLASSES 512        /* distinct literals per key field */
#define INDEX_MAX_ENTRIES (1u << 22) /* cells x rules */

typedef struct key_dim {
    const cexpr *expr;      /* NULL if no rule uses the field */
    fval *lits;             /* class i+1 = lits[i] */
    size_t nlits;
} key_dim;

struct rule_index {
    key_dim dim[2];
    uint32_t **cand;        /* [(v * (nres+1)) + r] → rule list */
    size_t *ncand;
    size_t nres1;
};

/* A constraint: all = unconstrained, else a set of literals. */
typedef struct cons {
    bool all;
    fval *v;
    size_t n;
} cons;

static bool is_key(const cexpr *e, int k)
{
    return e && e->tf == TF_NONE && !e->ref.key && e->ref.index < 0 && !strcmp(e->ref.def->name, key_fields[k]);
}

static bool cons_has(const cons *c, const fval *v)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].len == v->len && memeq(c->v[i].s, v->s, v->len))
            return true;
    return false;
}

/* Derive the constraint of node n on key k; literal arrays in scratch. */
static cons derive(const cnode *n, int k, arena *scratch)
{
    cons all = {.all = true};
    switch (n->kind) {
    case CN_CHECK:
        if (!is_key(n->lhs, k) || n->rhs || n->mod != MOD_NONE)
            return all;
        if (n->op == OP_EQ) {
            cons c = {.v = arena_alloc(scratch, sizeof(fval)), .n = 1};
            if (!c.v)
                return all;
            c.v[0] = n->str;
            return c;
        }
        if ((n->op == OP_IN || n->op == OP_INTERSECTS) && n->set->n <= INDEX_MAX_LITS)
            return (cons){.v = n->set->items, .n = n->set->n};
        return all;
    case CN_AND: {
        cons best = all;
        for (size_t i = 0; i < n->n; i++) {
            cons c = derive(n->kids[i], k, scratch);
            if (c.all)
                continue;
            if (best.all) {
                best = c;
                continue;
            }
            /* intersection */
            cons x = {.v = arena_alloc(scratch, (best.n ? best.n : 1) * sizeof(fval))};
            if (!x.v)
                return best;
            for (size_t j = 0; j < best.n; j++)
                if (cons_has(&c, &best.v[j]))
                    x.v[x.n++] = best.v[j];
            best = x;
        }
        return best;
    }
    case CN_OR: {
        cons u = {.v = NULL, .n = 0};
        size_t cap = 0;
        for (size_t i = 0; i < n->n; i++) {
            cons c = derive(n->kids[i], k, scratch);
            if (c.all || u.n + c.n > INDEX_MAX_LITS)
                return all;
            if (u.n + c.n > cap) {
                cap = (u.n + c.n) * 2;
                fval *g = arena_alloc(scratch, cap * sizeof *g);
                if (!g)
                    return all;
                if (u.n)
                    memcpy(g, u.v, u.n * sizeof *g);
                u.v = g;
            }
            for (size_t j = 0; j < c.n; j++)
                if (!cons_has(&u, &c.v[j]))
                    u.v[u.n++] = c.v[j];
        }
        return u;
    }
    default:
        return all;
    }
}

static size_t class_of(const key_dim *d, const fval *v)
{
    if (!v)
        return 0;
    for (size_t i = 0; i < d->nlits; i++)
        if (d->lits[i].len == v->len && memeq(d->lits[i].s, v->s, v->len))
            return i + 1;
    return 0;
}

/* Stop indexing on a key field: every rule becomes unconstrained on it. */
static void drop_dim(key_dim *d, cons *rc, size_t nrules)
{
    d->expr = NULL;
    d->nlits = 0;
    for (size_t r = 0; r < nrules; r++)
        rc[r] = (cons){.all = true};
}

/* Every cell's candidates: the active rules whose constraints allow the
 * cell's classes, listed in a scratch array then copied at their size (a
 * list sized for every rule in every cell was most of the index's peak). */
static int fill_cells(rule_index *ix, const ruleset *rs, cons *const rc[2], const bool *skip, index_visit skipped,
                      void *ctx)
{
    ix->nres1 = ix->dim[1].nlits + 1;
    size_t cells = (ix->dim[0].nlits + 1) * ix->nres1;
    ix->cand = pg_calloc(cells, sizeof *ix->cand);
    ix->ncand = pg_calloc(cells, sizeof *ix->ncand);
    uint32_t *tmp = pg_malloc((rs->nrules ? rs->nrules : 1) * sizeof *tmp);
    int rc_ = ix->cand && ix->ncand && tmp ? 0 : -ENOMEM;
    for (size_t v = 0; !rc_ && v <= ix->dim[0].nlits; v++) {
        for (size_t r = 0; !rc_ && r < ix->nres1; r++) {
            size_t cell = v * ix->nres1 + r, n = 0;
            for (size_t i = 0; i < rs->nrules && !rc_; i++) {
                if (!rs->rules[i].active)
                    continue;
                const cons *cv = &rc[0][i], *cr = &rc[1][i];
                if (!cv->all && (v == 0 || !cons_has(cv, &ix->dim[0].lits[v - 1])))
                    continue;
                if (!cr->all && (r == 0 || !cons_has(cr, &ix->dim[1].lits[r - 1])))
                    continue;
                if (skip && skip[i]) {
                    if (skipped && skipped(ctx, cell, (uint32_t)i))
                        rc_ = -ENOMEM;
                    continue;
                }
                tmp[n++] = (uint32_t)i;
            }
            ix->cand[cell] = pg_malloc((n ? n : 1) * sizeof(uint32_t));
            if (!ix->cand[cell]) {
                rc_ = -ENOMEM;
                break;
            }
            memcpy(ix->cand[cell], tmp, n * sizeof(uint32_t));
            ix->ncand[cell] = n;
        }
    }
    pg_free(tmp);
    return rc_;
}

rule_index *index_build(ruleset *rs, const bool *skip, index_visit skipped, void *ctx)
{
    rule_index *ix = pg_calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    arena scratch;
    arena_init(&scratch, 16384);
    cons *rc[2];
    rc[0] = pg_calloc(rs->nrules ? rs->nrules : 1, sizeof(cons));
    rc[1] = pg_calloc(rs->nrules ? rs->nrules : 1, sizeof(cons));
    bool ok = rc[0] && rc[1];
    for (int k = 0; k < 2 && ok; k++) {
        key_dim *d = &ix->dim[k];
        for (uint32_t s = 0; s < rs->nslots; s++)
            if (is_key(rs->slot_expr[s], k))
                d->expr = rs->slot_expr[s];
        size_t cap = 0;
        bool too_many = false;
        for (size_t r = 0; r < rs->nrules && ok; r++) {
            rc[k][r] = derive(rs->rules[r].cond, k, &scratch);
            if (rc[k][r].all || too_many)
                continue;
            for (size_t j = 0; j < rc[k][r].n; j++) {
                if (class_of(d, &rc[k][r].v[j]))
                    continue;
                if (d->nlits == INDEX_MAX_CLASSES) {
                    too_many = true;
                    break;
                }
                if (d->nlits == cap) {
                    cap = cap ? cap * 2 : 16;
                    fval *g = pg_realloc(d->lits, cap * sizeof *g);
                    if (!g) {
                        ok = false;
                        break;
                    }
                    d->lits = g;
                }
                d->lits[d->nlits++] = rc[k][r].v[j];
            }
        }
        if (too_many)
            drop_dim(d, rc[k], rs->nrules);
    }
    /* keep the table within budget: drop the finer dimension first */
    for (int pass = 0; ok && pass < 2; pass++) {
        size_t cells = (ix->dim[0].nlits + 1) * (ix->dim[1].nlits + 1);
        if (cells * (rs->nrules ? rs->nrules : 1) <= INDEX_MAX_ENTRIES)
            break;
        int k = ix->dim[0].nlits >= ix->dim[1].nlits ? 0 : 1;
        drop_dim(&ix->dim[k], rc[k], rs->nrules);
    }
    if (ok)
        ok = fill_cells(ix, rs, rc, skip, skipped, ctx) == 0;
    pg_free(rc[0]);
    pg_free(rc[1]);
    arena_free(&scratch);
    if (!ok) {
        index_free(ix);
        return NULL;
    }
    return ix;
}

const cexpr *index_key_expr(const rule_index *ix, int which) { return ix->dim[which].expr; }

size_t index_cells(const rule_index *ix) { return (ix->dim[0].nlits + 1) * ix->nres1; }

size_t index_cell(const rule_index *ix, const fval *const keys[2])
{
    return class_of(&ix->dim[0], keys[0]) * ix->nres1 + class_of(&ix->dim[1], keys[1]);
}

size_t index_cell_rules(const rule_index *ix, size_t cell, const uint32_t **rules)
{
    *rules = ix->cand[cell];
    return ix->ncand[cell];
}

size_t index_candidates(const rule_index *ix, const fval *const keys[2], const uint32_t **rules)
{
    return index_cell_rules(ix, index_cell(ix, keys), rules);
}

void index_free(rule_index *ix)
{
    if (!ix)
        return;
    if (ix->cand) {
        size_t cells = (ix->dim[0].nlits + 1) * ix->nres1;
        for (size_t i = 0; i < cells; i++)
            pg_free(ix->cand[i]);
    }
    pg_free(ix->cand);
    pg_free(ix->ncand);
    pg_free(ix->dim[0].lits);
    pg_free(ix->dim[1].lits);
    pg_free(ix);
}
