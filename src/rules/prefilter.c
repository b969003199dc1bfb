/*
 * prefilter — the anchors' literals per field, and finding an event's
 * candidate rules with one lookup and one scan per field (prefilter.h).
 */
#include "rules/prefilter.h"
#include "rules/anchor.h"
#include "rules/compiled.h"
#include "rules/regex_literal.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/hs_api.h"
#include "util/memeq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_ID UINT32_MAX
#define SORT_MAX 64             /* candidates sorted by insertion; more: by bitmap */

/* An exact literal: the anchors whose check it satisfies (a chain). */
typedef struct pf_lit {
    const char *s;              /* NULL: empty slot; the check's own bytes */
    uint32_t len;
    uint32_t head;              /* into pf_field.link */
} pf_lit;

typedef struct pf_link {
    uint32_t anchor;
    uint32_t next;              /* NO_ID: end */
} pf_link;

typedef struct pf_field {
    const cexpr *expr;
    pf_lit *lits;               /* open addressing */
    size_t mask;
    pf_link *link;
    size_t nlink;
    hs_database_t *db;          /* substring and regex checks, or NULL */
    uint32_t *pat_head;         /* pattern id -> its anchors (a chain in plink) */
    pf_link *plink;
    size_t npat;
} pf_field;

struct prefilter {
    pf_field *fields;
    size_t nfields;
    /* anchor a fires sets of rules: act[act_off[a] .. act_off[a+1]],
     * each rule << 1 | its set (0 or 1) */
    uint32_t *act_off;
    uint32_t *act;
    uint8_t *need;              /* per rule: the sets that must fire (1 or 3; 0: not anchored) */
    size_t nanchors;
    size_t nrules;              /* anchored */
    uint32_t *rf_off;           /* rule r's fields: rf[rf_off[r] .. rf_off[r+1]] */
    uint32_t *rf;
    /* The fields worth reading in each rule-index cell: those of the
     * anchored rules that can match there (cf[cf_off[c] .. cf_off[c+1]]). */
    uint32_t *cf_off;
    uint32_t *cf;
    size_t ncf, capcf, ncells;
    uint64_t *cell_bits;        /* while building: the current cell's fields */
    size_t cur_cell;
};

struct pf_scratch {
    hs_scratch_t *hs;
    uint32_t gen;
    uint32_t *anchor_gen;
    uint32_t *rule_gen;         /* rule_fired is this event's when rule_gen == gen */
    uint8_t *rule_fired;        /* the rule's sets fired so far */
    uint64_t *bits;             /* candidates, when too many to sort */
    uint32_t *cand;
    size_t ncand;
    size_t nrules;              /* of the ruleset: rule_gen's size */
    const prefilter *pf;
};

/* ---- building ---- */

typedef struct builder {
    ruleset *rs;
    const uint32_t *uses;
    arena scratch;
    anchor_plan *plans;         /* per rule */
    uint32_t *anchor_of;        /* check number -> anchor */
    const cnode **anchors;
    size_t nanchors;
    uint32_t *field_of;         /* field slot -> field */
    prefilter *pf;
} builder;

static bool is_exact(const cnode *n)
{
    return n->op == OP_EQ || n->op == OP_IN || n->op == OP_INTERSECTS;
}

/* Choose every active rule's anchor and number the anchors. */
static int choose(builder *b, bool *anchored)
{
    ruleset *rs = b->rs;
    anchor_ctx cx = {.scratch = &b->scratch, .uses = b->uses};
    for (size_t i = 0; i < rs->nmemo; i++)
        b->anchor_of[i] = NO_ID;
    b->nanchors = 0;
    for (size_t r = 0; r < rs->nrules; r++) {
        anchored[r] = false;
        b->plans[r] = (anchor_plan){.nsets = 0};
        if (!rs->rules[r].active)
            continue;
        anchor_plan a = anchor_choose(rs->rules[r].cond, &cx);
        if (!a.nsets)
            continue;
        anchored[r] = true;
        b->plans[r] = a;
        for (int k = 0; k < a.nsets; k++)
            for (size_t j = 0; j < a.set[k].n; j++) {
                uint32_t m = a.set[k].checks[j]->memo;
                if (b->anchor_of[m] == NO_ID) {
                    b->anchor_of[m] = (uint32_t)b->nanchors;
                    b->anchors[b->nanchors++] = a.set[k].checks[j];
                }
            }
    }
    return 0;
}

/* Each rule's fields, each once. */
static int rule_fields(builder *b, size_t total)
{
    prefilter *pf = b->pf;
    ruleset *rs = b->rs;
    pf->rf_off = pg_calloc(rs->nrules + 1, sizeof *pf->rf_off);
    pf->rf = pg_malloc((total ? total : 1) * sizeof *pf->rf);
    if (!pf->rf_off || !pf->rf)
        return -ENOMEM;
    size_t k = 0;
    for (size_t r = 0; r < rs->nrules; r++) {
        pf->rf_off[r] = (uint32_t)k;
        for (int s = 0; s < b->plans[r].nsets; s++)
            for (size_t j = 0; j < b->plans[r].set[s].n; j++) {
                uint32_t f = b->field_of[b->plans[r].set[s].checks[j]->lhs->slot];
                size_t i = pf->rf_off[r];
                while (i < k && pf->rf[i] != f)
                    i++;
                if (i == k)
                    pf->rf[k++] = f;
            }
    }
    pf->rf_off[rs->nrules] = (uint32_t)k;
    return 0;
}

/* anchor -> (rule, set) entries, in rule order; each rule's sets needed. */
static int activations(builder *b, const bool *anchored)
{
    prefilter *pf = b->pf;
    ruleset *rs = b->rs;
    pf->nanchors = b->nanchors;
    pf->act_off = pg_calloc(b->nanchors + 1, sizeof *pf->act_off);
    pf->need = pg_calloc(rs->nrules ? rs->nrules : 1, 1);
    if (!pf->act_off || !pf->need)
        return -ENOMEM;
    size_t total = 0;
    for (size_t r = 0; r < rs->nrules; r++) {
        pf->nrules += anchored[r];
        pf->need[r] = (uint8_t)((1u << b->plans[r].nsets) - 1);
        for (int s = 0; s < b->plans[r].nsets; s++) {
            for (size_t k = 0; k < b->plans[r].set[s].n; k++)
                pf->act_off[b->anchor_of[b->plans[r].set[s].checks[k]->memo] + 1]++;
            total += b->plans[r].set[s].n;
        }
    }
    for (size_t a = 0; a < b->nanchors; a++)
        pf->act_off[a + 1] += pf->act_off[a];
    pf->act = pg_malloc((total ? total : 1) * sizeof *pf->act);
    uint32_t *fill = pg_calloc(b->nanchors + 1, sizeof *fill);
    if (!pf->act || !fill) {
        pg_free(fill);
        return -ENOMEM;
    }
    for (size_t r = 0; r < rs->nrules; r++)
        for (int s = 0; s < b->plans[r].nsets; s++)
            for (size_t k = 0; k < b->plans[r].set[s].n; k++) {
                uint32_t a = b->anchor_of[b->plans[r].set[s].checks[k]->memo];
                pf->act[pf->act_off[a] + fill[a]++] = (uint32_t)r << 1 | (uint32_t)s;
            }
    pg_free(fill);
    return rule_fields(b, total);
}

static size_t literal_count(const cnode *n)
{
    return n->set ? n->set->n : 1;
}

static fval literal_at(const cnode *n, size_t i)
{
    return n->set ? n->set->items[i] : n->str;
}

static pf_field *field_for(builder *b, const cexpr *e)
{
    prefilter *pf = b->pf;
    if (b->field_of[e->slot] == NO_ID) {
        b->field_of[e->slot] = (uint32_t)pf->nfields;
        pf->fields[pf->nfields++] = (pf_field){.expr = e};
    }
    return &pf->fields[b->field_of[e->slot]];
}

static int add_exact(pf_field *f, const fval *lit, uint32_t anchor)
{
    size_t i = hash_bytes(lit->s, lit->len) & f->mask;
    while (f->lits[i].s && !(f->lits[i].len == lit->len && memeq(f->lits[i].s, lit->s, lit->len)))
        i = (i + 1) & f->mask;
    if (!f->lits[i].s)
        f->lits[i] = (pf_lit){lit->s ? lit->s : "", (uint32_t)lit->len, NO_ID};
    f->link[f->nlink] = (pf_link){anchor, f->lits[i].head};
    f->lits[i].head = (uint32_t)f->nlink++;
    return 0;
}

/* The exact tables: sized for the literals of each field, then filled. */
static int exact_tables(builder *b)
{
    prefilter *pf = b->pf;
    size_t *count = pg_calloc(pf->nfields ? pf->nfields : 1, sizeof *count);
    if (!count)
        return -ENOMEM;
    for (size_t a = 0; a < b->nanchors; a++)
        if (is_exact(b->anchors[a]))
            count[b->field_of[b->anchors[a]->lhs->slot]] += literal_count(b->anchors[a]);
    int rc = 0;
    for (size_t i = 0; i < pf->nfields && !rc; i++) {
        if (!count[i])
            continue;
        size_t cap = 8;
        while (cap < count[i] * 2)
            cap *= 2;
        pf->fields[i].lits = pg_calloc(cap, sizeof(pf_lit));
        pf->fields[i].link = pg_malloc(count[i] * sizeof(pf_link));
        pf->fields[i].mask = cap - 1;
        if (!pf->fields[i].lits || !pf->fields[i].link)
            rc = -ENOMEM;
    }
    pg_free(count);
    for (size_t a = 0; a < b->nanchors && !rc; a++) {
        const cnode *n = b->anchors[a];
        if (!is_exact(n))
            continue;
        pf_field *f = &pf->fields[b->field_of[n->lhs->slot]];
        for (size_t k = 0; k < literal_count(n); k++) {
            fval lit = literal_at(n, k);
            add_exact(f, &lit, (uint32_t)a);
        }
    }
    return rc;
}

/* The literal a substring check waits for: its own (startswith and
 * endswith are waited for as contains, a superset), or a regex's
 * required literal (regex_literal.c) in buf. */
static fval wait_literal(const cnode *c, size_t i, char *buf)
{
    if (c->op == OP_REGEX)
        return (fval){buf, regex_literal(c->str.s, c->str.len, buf, REGEX_LITERAL_MAX)};
    return literal_at(c, i);
}

/* A distinct pattern of a field while its database is built. */
typedef struct pat_slot {
    const char *s;              /* NULL: empty */
    size_t len;
    bool caseless;
    uint32_t id;
} pat_slot;

/* The id of pattern (lit, caseless) among pats, added if new. */
static uint32_t pattern_id(pat_slot *tab, size_t mask, const fval *lit, bool caseless, uint32_t *npat)
{
    size_t i = (hash_bytes(lit->s, lit->len) ^ caseless) & mask;
    for (; tab[i].s; i = (i + 1) & mask)
        if (tab[i].caseless == caseless && tab[i].len == lit->len && memeq(tab[i].s, lit->s, lit->len))
            return tab[i].id;
    tab[i] = (pat_slot){lit->s, lit->len, caseless, *npat};
    return (*npat)++;
}

/* One field's database of literals (Vectorscan's literal mode: no
 * pattern syntax, compiled in linear time), each distinct literal once
 * with the anchors waiting for it chained.  0, -ENOMEM or -EINVAL
 * (refused; the prefilter is then not used at all). */
static int field_database(builder *b, pf_field *f)
{
    size_t n = 0;
    for (size_t a = 0; a < b->nanchors; a++)
        if (!is_exact(b->anchors[a]) && b->anchors[a]->lhs->slot == f->expr->slot)
            n += b->anchors[a]->op == OP_REGEX ? 1 : literal_count(b->anchors[a]);
    if (!n)
        return 0;
    size_t cap = 8;
    while (cap < 2 * n)
        cap *= 2;
    pat_slot *tab = pg_calloc(cap, sizeof *tab);
    char *rlits = pg_malloc(n * REGEX_LITERAL_MAX); /* regexes' literals, alive until compiled */
    f->pat_head = pg_malloc(n * sizeof *f->pat_head);
    f->plink = pg_malloc(n * sizeof *f->plink);
    int rc = tab && rlits && f->pat_head && f->plink ? 0 : -ENOMEM;
    uint32_t npat = 0;
    size_t k = 0;
    for (size_t a = 0; a < b->nanchors && !rc; a++) {
        const cnode *c = b->anchors[a];
        if (is_exact(c) || c->lhs->slot != f->expr->slot)
            continue;
        size_t nl = c->op == OP_REGEX ? 1 : literal_count(c);
        for (size_t j = 0; j < nl; j++, k++) {
            fval lit = wait_literal(c, j, rlits + k * REGEX_LITERAL_MAX);
            uint32_t id = pattern_id(tab, cap - 1, &lit, c->op == OP_ICONTAINS, &npat);
            if (id == npat - 1 && f->npat < npat) {
                f->pat_head[id] = NO_ID;
                f->npat = npat;
            }
            f->plink[k] = (pf_link){(uint32_t)a, f->pat_head[id]};
            f->pat_head[id] = (uint32_t)k;
        }
    }
    char **pats = rc ? NULL : pg_calloc(npat, sizeof *pats);
    size_t *lens = rc ? NULL : pg_malloc(npat * sizeof *lens);
    unsigned *flags = rc ? NULL : pg_malloc(npat * sizeof *flags), *ids = rc ? NULL : pg_malloc(npat * sizeof *ids);
    if (!rc && (!pats || !lens || !flags || !ids))
        rc = -ENOMEM;
    for (size_t i = 0; i < cap && !rc; i++) {
        if (!tab[i].s)
            continue;
        uint32_t id = tab[i].id;
        pats[id] = (char *)tab[i].s; /* literal mode reads lens[], no NUL needed */
        lens[id] = tab[i].len;
        flags[id] = HS_FLAG_SINGLEMATCH | (tab[i].caseless ? HS_FLAG_CASELESS : 0);
        ids[id] = id;
    }
    if (!rc) {
        hs_compile_error_t *ce = NULL;
        if (hsl.compile_lit_multi((const char *const *)pats, flags, ids, lens, npat, HS_MODE_BLOCK, NULL, &f->db,
                                 &ce) != HS_SUCCESS)
            rc = -EINVAL;
        hsl.free_compile_error(ce);
    }
    pg_free(tab);
    pg_free(rlits);
    pg_free(pats);
    pg_free(lens);
    pg_free(flags);
    pg_free(ids);
    return rc;
}

static void fields_free(prefilter *pf)
{
    for (size_t i = 0; i < pf->nfields; i++) {
        pg_free(pf->fields[i].lits);
        pg_free(pf->fields[i].link);
        pg_free(pf->fields[i].pat_head);
        pg_free(pf->fields[i].plink);
        if (pf->fields[i].db)
            hsl.free_database(pf->fields[i].db);
    }
    pf->nfields = 0;
    pg_free(pf->act_off);
    pg_free(pf->act);
    pg_free(pf->rf_off);
    pg_free(pf->rf);
    pg_free(pf->need);
    pf->need = NULL;
    pf->act_off = pf->act = pf->rf_off = pf->rf = NULL;
    pf->nrules = 0;
}

static int build(builder *b, bool *anchored)
{
    prefilter *pf = b->pf;
    choose(b, anchored);
    for (uint32_t s = 0; s < b->rs->nslots; s++)
        b->field_of[s] = NO_ID;
    for (size_t a = 0; a < b->nanchors; a++)
        field_for(b, b->anchors[a]->lhs);
    int rc = activations(b, anchored);
    if (!rc)
        rc = exact_tables(b);
    for (size_t i = 0; i < pf->nfields && !rc; i++)
        rc = field_database(b, &pf->fields[i]);
    return rc;
}

prefilter *prefilter_build(ruleset *rs, const uint32_t *uses, bool *anchored, char *err, size_t errlen)
{
    *err = 0;
    memset(anchored, 0, rs->nrules * sizeof *anchored);
    size_t active = 0;
    for (size_t r = 0; r < rs->nrules; r++)
        active += rs->rules[r].active;
    if (active < RULES_AT_SCALE)
        return NULL;
    if (hs_api_load(err, errlen))
        return NULL; /* the rule index takes every rule: slower, same verdicts */
    builder b = {.rs = rs, .uses = uses};
    arena_init(&b.scratch, 64 * 1024);
    b.pf = pg_calloc(1, sizeof *b.pf);
    b.plans = pg_calloc(rs->nrules ? rs->nrules : 1, sizeof *b.plans);
    b.anchor_of = pg_malloc((rs->nmemo ? rs->nmemo : 1) * sizeof *b.anchor_of);
    b.anchors = pg_malloc((rs->nmemo ? rs->nmemo : 1) * sizeof *b.anchors);
    b.field_of = pg_malloc((rs->nslots ? rs->nslots : 1) * sizeof *b.field_of);
    int rc = -ENOMEM;
    if (b.pf && b.plans && b.anchor_of && b.anchors && b.field_of &&
        (b.pf->fields = pg_calloc(rs->nslots ? rs->nslots : 1, sizeof *b.pf->fields)))
        rc = build(&b, anchored);
    prefilter *pf = b.pf;
    if (rc != 0 || !pf->nrules) {
        /* a literal Vectorscan refuses: every rule goes to the index,
         * slower but the same verdicts */
        if (rc == -ENOMEM)
            snprintf(err, errlen, "out of memory building the prefilter");
        memset(anchored, 0, rs->nrules * sizeof *anchored);
        prefilter_free(pf);
        pf = NULL;
    }
    arena_free(&b.scratch);
    pg_free(b.plans);
    pg_free(b.anchor_of);
    pg_free(b.anchors);
    pg_free(b.field_of);
    return pf;
}

void prefilter_free(prefilter *pf)
{
    if (!pf)
        return;
    fields_free(pf);
    pg_free(pf->fields);
    pg_free(pf->cf_off);
    pg_free(pf->cf);
    pg_free(pf->cell_bits);
    pg_free(pf);
}

/* ---- the fields of each rule-index cell ---- */

static size_t bit_words(const prefilter *pf)
{
    return (pf->nfields + 63) / 64;
}

/* Close cells up to `cell` (exclusive): the current one's fields listed,
 * those in between empty. */
static int flush_cells(prefilter *pf, size_t cell)
{
    while (pf->cur_cell < cell) {
        size_t c = pf->cur_cell;
        if (c >= pf->ncells) {
            size_t cap = pf->ncells ? pf->ncells * 2 : 64;
            while (cap <= cell)
                cap *= 2;
            uint32_t *g = pg_realloc(pf->cf_off, (cap + 1) * sizeof *g);
            if (!g)
                return -ENOMEM;
            pf->cf_off = g;
            pf->ncells = cap;
        }
        pf->cf_off[c] = (uint32_t)pf->ncf;
        for (size_t w = 0; w < bit_words(pf); w++) {
            for (uint64_t m = pf->cell_bits[w]; m; m &= m - 1) {
                if (pf->ncf == pf->capcf) {
                    size_t cap = pf->capcf ? pf->capcf * 2 : 256;
                    uint32_t *g = pg_realloc(pf->cf, cap * sizeof *g);
                    if (!g)
                        return -ENOMEM;
                    pf->cf = g;
                    pf->capcf = cap;
                }
                pf->cf[pf->ncf++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(m));
            }
            pf->cell_bits[w] = 0;
        }
        pf->cur_cell++;
    }
    return 0;
}

int prefilter_note_cell(void *ctx, size_t cell, uint32_t rule)
{
    prefilter *pf = ctx;
    if (!pf->cell_bits && !(pf->cell_bits = pg_calloc(bit_words(pf) + 1, sizeof *pf->cell_bits)))
        return -ENOMEM;
    if (cell < pf->cur_cell) /* the index visits cells in order */
        return -EINVAL;
    if (flush_cells(pf, cell))
        return -ENOMEM;
    for (uint32_t i = pf->rf_off[rule]; i < pf->rf_off[rule + 1]; i++)
        pf->cell_bits[pf->rf[i] / 64] |= 1ull << (pf->rf[i] % 64);
    return 0;
}

int prefilter_cells_done(prefilter *pf, size_t ncells)
{
    if (!pf->cell_bits && !(pf->cell_bits = pg_calloc(bit_words(pf) + 1, sizeof *pf->cell_bits)))
        return -ENOMEM;
    if (flush_cells(pf, ncells))
        return -ENOMEM;
    if (!pf->cf_off && !(pf->cf_off = pg_calloc(1, sizeof *pf->cf_off)))
        return -ENOMEM;
    pf->cf_off[ncells] = (uint32_t)pf->ncf;
    pf->ncells = ncells;
    pg_free(pf->cell_bits);
    pf->cell_bits = NULL;
    return 0;
}

size_t prefilter_cell_fields(const prefilter *pf, size_t cell, const uint32_t **fields)
{
    if (cell >= pf->ncells) {
        *fields = NULL;
        return 0;
    }
    *fields = pf->cf + pf->cf_off[cell];
    return pf->cf_off[cell + 1] - pf->cf_off[cell];
}

size_t prefilter_nfields(const prefilter *pf) { return pf->nfields; }
const cexpr *prefilter_field(const prefilter *pf, size_t i) { return pf->fields[i].expr; }

/* ---- per event ---- */

pf_scratch *pf_scratch_new(const prefilter *pf, size_t nrules)
{
    pf_scratch *s = pg_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->pf = pf;
    s->nrules = nrules;
    s->anchor_gen = pg_calloc(pf->nanchors ? pf->nanchors : 1, sizeof *s->anchor_gen);
    s->rule_gen = pg_calloc(nrules ? nrules : 1, sizeof *s->rule_gen);
    s->cand = pg_malloc((nrules ? nrules : 1) * sizeof *s->cand);
    s->rule_fired = pg_calloc(nrules ? nrules : 1, 1);
    s->bits = pg_calloc(nrules / 64 + 1, sizeof *s->bits);
    bool ok = s->anchor_gen && s->rule_gen && s->cand && s->rule_fired && s->bits;
    for (size_t i = 0; ok && i < pf->nfields; i++)
        if (pf->fields[i].db && hsl.alloc_scratch(pf->fields[i].db, &s->hs) != HS_SUCCESS)
            ok = false;
    if (!ok) {
        pf_scratch_free(s);
        return NULL;
    }
    return s;
}

void pf_scratch_free(pf_scratch *s)
{
    if (!s)
        return;
    if (s->hs)
        hsl.free_scratch(s->hs);
    pg_free(s->anchor_gen);
    pg_free(s->rule_gen);
    pg_free(s->rule_fired);
    pg_free(s->bits);
    pg_free(s->cand);
    pg_free(s);
}

static void fire(pf_scratch *s, uint32_t a)
{
    if (s->anchor_gen[a] == s->gen)
        return;
    s->anchor_gen[a] = s->gen;
    const prefilter *pf = s->pf;
    for (uint32_t i = pf->act_off[a]; i < pf->act_off[a + 1]; i++) {
        uint32_t r = pf->act[i] >> 1;
        uint8_t set = (uint8_t)(1u << (pf->act[i] & 1));
        if (s->rule_gen[r] != s->gen) {
            s->rule_gen[r] = s->gen;
            s->rule_fired[r] = 0;
        }
        if (s->rule_fired[r] & set)
            continue;
        s->rule_fired[r] |= set;
        if (s->rule_fired[r] == pf->need[r]) { /* every set fired: a candidate */
            if (s->ncand < SORT_MAX)
                s->cand[s->ncand] = r;
            s->ncand++;
            s->bits[r / 64] |= 1ull << (r % 64);
        }
    }
}

typedef struct scan_ctx {
    pf_scratch *s;
    const pf_field *f;
} scan_ctx;

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
    (void)from, (void)to, (void)flags;
    scan_ctx *c = ctx;
    for (uint32_t k = c->f->pat_head[id]; k != NO_ID; k = c->f->plink[k].next)
        fire(c->s, c->f->plink[k].anchor);
    return 0;
}

static void exact(pf_scratch *s, const pf_field *f, const fval *v)
{
    size_t i = hash_bytes(v->s, v->len) & f->mask;
    for (; f->lits[i].s; i = (i + 1) & f->mask) {
        const pf_lit *l = &f->lits[i];
        if (l->len == v->len && memeq(l->s, v->s, v->len)) {
            for (uint32_t k = l->head; k != NO_ID; k = f->link[k].next)
                fire(s, f->link[k].anchor);
            return;
        }
    }
}

size_t prefilter_run(const prefilter *pf, pf_scratch *s, const uint32_t *fields, size_t nf, const fvals *const *vals,
                     const uint32_t **out)
{
    if (++s->gen == 0) { /* wrapped: forget every stamp */
        memset(s->anchor_gen, 0, (pf->nanchors ? pf->nanchors : 1) * sizeof *s->anchor_gen);
        memset(s->rule_gen, 0, (s->nrules ? s->nrules : 1) * sizeof *s->rule_gen);
        s->gen = 1;
    }
    s->ncand = 0;
    for (size_t j = 0; j < nf; j++) {
        const fvals *v = vals[fields[j]];
        if (!v || !v->n)
            continue;
        const pf_field *f = &pf->fields[fields[j]];
        if (f->lits)
            for (size_t k = 0; k < v->n; k++)
                exact(s, f, &v->v[k]);
        if (f->db) {
            scan_ctx c = {s, f};
            /* a value over 4 GiB cannot reach here (payload limits); the
             * scan reads the first value, as the operators do */
            hsl.scan(f->db, v->v[0].s ? v->v[0].s : "", (unsigned)v->v[0].len, 0, s->hs, on_match, &c);
        }
    }
    if (s->ncand <= SORT_MAX) { /* the usual few dozen: insertion sort */
        for (size_t i = 0; i < s->ncand; i++) {
            uint32_t x = s->cand[i];
            s->bits[x / 64] = 0;
            size_t j = i;
            for (; j > 0 && s->cand[j - 1] > x; j--)
                s->cand[j] = s->cand[j - 1];
            s->cand[j] = x;
        }
    } else { /* many: read them off the bitmap, in order */
        size_t n = 0;
        for (size_t w = 0; w <= s->nrules / 64; w++) {
            for (uint64_t m = s->bits[w]; m; m &= m - 1)
                s->cand[n++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(m));
            s->bits[w] = 0;
        }
    }
    *out = s->cand;
    return s->ncand;
}
