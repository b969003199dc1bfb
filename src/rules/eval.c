/*
 * eval — condition evaluation (docs/compat/rules.md §7).  Every k8saudit field is
 * a string: comparisons are byte-wise, numeric operators compare text
 * (strcmp), and a missing field makes every check false.
 */
#include "rules/eval.h"
#include "rules/compiled.h"
#include "rules/prefilter.h"
#include "util/alloc.h"
#include "util/memeq.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct evaluator {
    const ruleset *rs;
    field_ctx *ctx;
    fvals *cache;
    uint64_t *gen;
    uint64_t cur;
    /* per check number (cnode.memo): cur << 1 | result once computed for
     * the current event */
    uint64_t *memo;
    pcre2_match_data *md;
    pcre2_match_context *mc;    /* the bounds of every regex check */
    pcre2_jit_stack *jit_stack;
    uint64_t re_hits;           /* regex checks that hit a bound */
    const cnode *re_last;       /* ... the last of them */
    pf_scratch *pfs;            /* the prefilter's, when the ruleset has one */
    const fvals **pfv;          /* ... and its fields' values for the event */
};

/* Bounds on one regex check.  PCRE2's defaults allow 10^7 backtracking
 * steps (0.1-0.3 s for a nested quantifier over a 31-byte value); these
 * allow a base of ~0.3 ms plus a few steps per byte of the value, so a
 * check costs at most a constant plus a constant per byte, like a
 * linear-time engine.  The per-byte share is 3-4x what the rules' own
 * `.*"hostPath":[{][^}]*...` patterns need over a 200 KB pod spec
 * (JIT 0.5 steps/byte, the interpreter 2.7).  A check that hits a bound
 * does not match; it is counted (evaluator_regex_limit_hits). */
#define RE_JIT_BASE 100000u
#define RE_JIT_PER_BYTE 2u
#define RE_INTERP_BASE 30000u
#define RE_INTERP_PER_BYTE 8u
#define RE_HEAP_KIB 4096u           /* the interpreter's backtracking memory */
#define RE_JIT_STACK (1u << 20)     /* the JIT's */

evaluator *evaluator_new(const ruleset *rs)
{
    evaluator *ev = pg_calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->rs = rs;
    size_t n = rs->nslots ? rs->nslots : 1;
    ev->cache = pg_calloc(n, sizeof *ev->cache);
    ev->gen = pg_calloc(n, sizeof *ev->gen);
    ev->memo = pg_calloc(rs->nmemo ? rs->nmemo : 1, sizeof *ev->memo);
    ev->md = pcre2_match_data_create(1, NULL);
    ev->mc = pcre2_match_context_create(NULL);
    if (rs->nregexes) /* reserved address space, touched as used */
        ev->jit_stack = pcre2_jit_stack_create(32 * 1024, RE_JIT_STACK, NULL);
    if (ev->mc) {
        pcre2_set_heap_limit(ev->mc, RE_HEAP_KIB);
        pcre2_jit_stack_assign(ev->mc, NULL, ev->jit_stack); /* NULL: the default 32 KiB */
    }
    if (rs->prefilter) {
        ev->pfs = pf_scratch_new(rs->prefilter, rs->nrules);
        ev->pfv = pg_calloc(prefilter_nfields(rs->prefilter) + 1, sizeof *ev->pfv);
    }
    if (!ev->cache || !ev->gen || !ev->memo || !ev->md || !ev->mc || (rs->prefilter && (!ev->pfs || !ev->pfv))) {
        evaluator_free(ev);
        return NULL;
    }
    return ev;
}

void evaluator_free(evaluator *ev)
{
    if (!ev)
        return;
    pg_free(ev->cache);
    pg_free(ev->gen);
    pg_free(ev->memo);
    pf_scratch_free(ev->pfs);
    pg_free(ev->pfv);
    if (ev->md)
        pcre2_match_data_free(ev->md);
    pcre2_match_context_free(ev->mc);
    pcre2_jit_stack_free(ev->jit_stack);
    pg_free(ev);
}

void evaluator_begin(evaluator *ev, field_ctx *ctx)
{
    ev->ctx = ctx;
    ev->cur++;
}

/* ---- transformers (docs/compat/rules.md §7.4) ---- */

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Base64 decode (padding optional); -1 on invalid input. */
static long b64_decode(const char *s, size_t n, char *out)
{
    while (n && s[n - 1] == '=')
        n--;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xFF);
        }
    }
    if (n % 4 == 1)
        return -1;
    return (long)o;
}

static bool apply_transform(evaluator *ev, const cexpr *e, const fvals *in, fvals *out)
{
    arena *a = ev->ctx->arena;
    if (e->tf == TF_LEN) {
        uint64_t len;
        if (e->arg->is_list) {
            len = in->n;
        } else {
            const char *nul = memchr(in->v[0].s, 0, in->v[0].len);
            len = nul ? (uint64_t)(nul - in->v[0].s) : in->v[0].len;
        }
        char *t = arena_alloc(a, 24);
        fval *v = arena_alloc(a, sizeof *v);
        if (!t || !v)
            return false;
        v->len = (size_t)snprintf(t, 24, "%llu", (unsigned long long)len);
        v->s = t;
        out->v = v;
        out->n = 1;
        return true;
    }
    fval *vs = arena_alloc(a, in->n * sizeof *vs);
    if (!vs)
        return false;
    for (size_t i = 0; i < in->n; i++) {
        const fval *x = &in->v[i];
        switch (e->tf) {
        case TF_TOLOWER:
        case TF_TOUPPER: {
            char *t = arena_alloc(a, x->len + 1);
            if (!t)
                return false;
            for (size_t k = 0; k < x->len; k++)
                t[k] = (char)(e->tf == TF_TOLOWER ? tolower((unsigned char)x->s[k]) : toupper((unsigned char)x->s[k]));
            vs[i] = (fval){t, x->len};
            break;
        }
        case TF_BASENAME: {
            const char *slash = NULL;
            for (size_t k = x->len; k-- > 0;)
                if (x->s[k] == '/') {
                    slash = x->s + k;
                    break;
                }
            vs[i] = slash ? (fval){slash + 1, x->len - (size_t)(slash + 1 - x->s)} : *x;
            break;
        }
        case TF_B64: {
            char *t = arena_alloc(a, x->len + 1);
            if (!t)
                return false;
            long n = b64_decode(x->s, x->len, t);
            if (n < 0)
                return false; /* undecodable: the whole check is false */
            vs[i] = (fval){t, (size_t)n};
            break;
        }
        default:
            vs[i] = *x;
        }
    }
    out->v = vs;
    out->n = in->n;
    return true;
}

static const fvals *values_slow(evaluator *ev, const cexpr *e, fvals *tmp);

/* The values of e for this event, or NULL when it has none.  Plain fields
 * come back as a pointer into the per-slot cache: copying the cache entry
 * out right after field_extract() filled it would read, 16 bytes at a
 * time, what was just stored 8 bytes at a time, a store-forwarding stall
 * on every first extraction (5 % of a one-thread run).  A transformer's
 * result lands in *tmp.  The cache hit is inlined where the evaluator
 * reads values; the rest (first extraction, transformers) out of line. */
static inline const fvals *values(evaluator *ev, const cexpr *e, fvals *tmp)
{
    if (e->tf == TF_NONE && ev->gen[e->slot] == ev->cur) {
        const fvals *c = &ev->cache[e->slot];
        return c->n > 0 ? c : NULL;
    }
    return values_slow(ev, e, tmp);
}

static const fvals *values_slow(evaluator *ev, const cexpr *e, fvals *tmp)
{
    if (e->tf == TF_NONE) {
        fvals *c = &ev->cache[e->slot];
        ev->gen[e->slot] = ev->cur;
        if (!field_extract(&e->ref, ev->ctx, c))
            c->n = 0;
        return c->n > 0 ? c : NULL;
    }
    fvals in_tmp;
    const fvals *in = values(ev, e->arg, &in_tmp);
    if (!in || !apply_transform(ev, e, in, tmp) || tmp->n == 0)
        return NULL;
    return tmp;
}

bool evaluator_values(evaluator *ev, const cexpr *e, fvals *out)
{
    fvals tmp;
    const fvals *v = values(ev, e, &tmp);
    if (!v)
        return false;
    *out = *v;
    return true;
}

/* ---- string operators ---- */

static int cmp_text(const fval *a, const char *b, size_t bl)
{
    size_t n = a->len < bl ? a->len : bl;
    int c = memcmp(a->s, b, n);
    if (c)
        return c;
    return a->len < bl ? -1 : a->len > bl;
}

static bool mem_contains(const char *h, size_t hl, const char *n, size_t nl)
{
    if (nl == 0)
        return true;
    return nl <= hl && memmem(h, hl, n, nl) != NULL;
}

static bool mem_icontains(const char *h, size_t hl, const char *n, size_t nl)
{
    if (nl == 0)
        return true;
    for (size_t i = 0; i + nl <= hl; i++) {
        size_t k = 0;
        while (k < nl && tolower((unsigned char)h[i + k]) == tolower((unsigned char)n[k]))
            k++;
        if (k == nl)
            return true;
    }
    return false;
}

/* NUL-terminated copy for fnmatch (values are slices). */
static char *cstr(evaluator *ev, const char *s, size_t n)
{
    return arena_strndup(ev->ctx->arena, s, n);
}

static bool glob_match(evaluator *ev, const fval *v, const char *pat, size_t pl, bool icase)
{
    char *s = cstr(ev, v->s, v->len), *p = cstr(ev, pat, pl);
    if (!s || !p)
        return false;
    return fnmatch(p, s, icase ? FNM_CASEFOLD : 0) == 0;
}

/* pmatch: RHS path components are a prefix of the value's components
 * (empty components ignored; components with *?[ are fnmatch'd). */
static bool path_prefix(evaluator *ev, const fval *v, const fval *pref)
{
    const char *a = v->s, *ae = v->s + v->len, *b = pref->s, *be = pref->s + pref->len;
    for (;;) {
        while (b < be && *b == '/')
            b++;
        while (a < ae && *a == '/')
            a++;
        if (b >= be)
            return true;
        if (a >= ae)
            return false;
        const char *bs = b, *as = a;
        while (b < be && *b != '/')
            b++;
        while (a < ae && *a != '/')
            a++;
        size_t bl = (size_t)(b - bs), al = (size_t)(a - as);
        if (memchr(bs, '*', bl) || memchr(bs, '?', bl) || memchr(bs, '[', bl)) {
            fval comp = {as, al};
            if (!glob_match(ev, &comp, bs, bl, false))
                return false;
        } else if (al != bl || memcmp(as, bs, al) != 0) {
            return false;
        }
    }
}

static uint64_t to_u64(const fval *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < v->len && v->s[i] >= '0' && v->s[i] <= '9'; i++)
        x = x * 10 + (uint64_t)(v->s[i] - '0');
    return x;
}

uint64_t evaluator_regex_limit_hits(const evaluator *ev, const char **pattern)
{
    if (pattern)
        *pattern = ev->re_last ? ev->re_last->str.s : NULL;
    return ev->re_hits;
}

static bool regex_match(evaluator *ev, const cnode *n, const fval *v)
{
    if (!n->re)
        return false;
    size_t jit = 0;
    pcre2_pattern_info(n->re, PCRE2_INFO_JITSIZE, &jit);
    size_t limit = jit ? RE_JIT_BASE + RE_JIT_PER_BYTE * v->len : RE_INTERP_BASE + RE_INTERP_PER_BYTE * v->len;
    pcre2_set_match_limit(ev->mc, limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit);
    int rc = pcre2_match(n->re, (PCRE2_SPTR)v->s, v->len, 0, 0, ev->md, ev->mc);
    if (rc >= 0)
        return true;
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
        rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_NOMEMORY) {
        ev->re_hits++;
        ev->re_last = n;
    }
    return false;
}

/* One operator against one literal. */
static bool op_single(evaluator *ev, const cnode *n, const fval *v, const char *lit, size_t ll)
{
    switch (n->op) {
    case OP_EQ: return v->len == ll && memeq(v->s, lit, ll);
    case OP_NE: return !(v->len == ll && memeq(v->s, lit, ll));
    case OP_LT: return cmp_text(v, lit, ll) < 0;
    case OP_LE: return cmp_text(v, lit, ll) <= 0;
    case OP_GT: return cmp_text(v, lit, ll) > 0;
    case OP_GE: return cmp_text(v, lit, ll) >= 0;
    case OP_CONTAINS: return mem_contains(v->s, v->len, lit, ll);
    case OP_ICONTAINS: return mem_icontains(v->s, v->len, lit, ll);
    case OP_STARTSWITH: return v->len >= ll && memeq(v->s, lit, ll);
    case OP_ENDSWITH: return v->len >= ll && memeq(v->s + v->len - ll, lit, ll);
    case OP_GLOB: return glob_match(ev, v, lit, ll, false);
    case OP_IGLOB: return glob_match(ev, v, lit, ll, true);
    case OP_REGEX: return regex_match(ev, n, v);
    default: return false;
    }
}

static bool op_numeric(cmp_op op, uint64_t a, uint64_t b)
{
    switch (op) {
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    case OP_GE: return a >= b;
    default: return false;
    }
}

static bool in_values(const fval *v, const fvals *set)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i].len == v->len && memeq(set->v[i].s, v->s, v->len))
            return true;
    return false;
}

/* not inlined: the check's register needs would make every step of
 * run_prog save and restore them */
__attribute__((noinline)) static bool eval_check(evaluator *ev, const cnode *n)
{
    fvals lt, rt;
    const fvals *l = values(ev, n->lhs, &lt);
    if (!l)
        return false;
    if (n->op == OP_EXISTS)
        return true;
    if (n->rhs) {
        const fvals *r = values(ev, n->rhs, &rt);
        if (!r)
            return false;
        if (n->op == OP_IN || n->op == OP_INTERSECTS) {
            bool any = false, all = true;
            for (size_t i = 0; i < l->n; i++) {
                bool has = in_values(&l->v[i], r);
                any |= has;
                all &= has;
            }
            return n->op == OP_IN ? all : any;
        }
        if (n->op == OP_PMATCH) {
            for (size_t i = 0; i < r->n; i++)
                if (path_prefix(ev, &l->v[0], &r->v[i]))
                    return true;
            return false;
        }
        if (n->lhs->numeric)
            return op_numeric(n->op, to_u64(&l->v[0]), to_u64(&r->v[0]));
        return op_single(ev, n, &l->v[0], r->v[0].s, r->v[0].len);
    }
    if (n->op == OP_IN || n->op == OP_INTERSECTS) {
        /* single values: membership; list fields: subset (in) or overlap */
        if (n->lhs->numeric) {
            for (size_t i = 0; i < l->n; i++) {
                char tmp[24];
                int k = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)to_u64(&l->v[i]));
                bool has = strset_has(n->set, tmp, (size_t)k);
                if (n->op == OP_IN && !has)
                    return false;
                if (n->op == OP_INTERSECTS && has)
                    return true;
            }
            return n->op == OP_IN;
        }
        for (size_t i = 0; i < l->n; i++) {
            bool has = strset_has(n->set, l->v[i].s, l->v[i].len);
            if (n->op == OP_IN && !has)
                return false;
            if (n->op == OP_INTERSECTS && has)
                return true;
        }
        return n->op == OP_IN;
    }
    const fval *v = &l->v[0];
    if (n->op == OP_PMATCH) {
        for (size_t i = 0; i < n->set->n; i++)
            if (path_prefix(ev, v, &n->set->items[i]))
                return true;
        return false;
    }
    if (n->mod != MOD_NONE) {
        size_t hits = 0;
        for (size_t i = 0; i < n->set->n; i++)
            hits += op_single(ev, n, v, n->set->items[i].s, n->set->items[i].len);
        if (n->mod == MOD_ANYOF)
            return hits > 0;
        if (n->mod == MOD_ALLOF)
            return hits == n->set->n;
        return hits == 1;
    }
    if (n->lhs->numeric)
        return op_numeric(n->op, to_u64(v), n->num);
    return op_single(ev, n, v, n->str.s, n->str.len);
}

/* Run a rule's program (compiled.h: cprog).  A check is a pure function
 * of the event, so its outcome is kept per event in the memo (the same
 * check recurs in many rules through their macros: `kevt` starts most). */
static bool run_prog(evaluator *ev, const cprog *p)
{
    uint32_t pc = p->entry;
    while (pc < CPROG_FALSE) {
        const cstep *s = &p->steps[pc];
        uint64_t *m = &ev->memo[s->memo];
        bool r;
        if (*m >> 1 == ev->cur) {
            r = *m & 1;
        } else {
            r = eval_check(ev, s->check);
            *m = ev->cur << 1 | r;
        }
        pc = r ? s->on_true : s->on_false;
    }
    return pc == CPROG_TRUE;
}

bool evaluator_test(evaluator *ev, const cprog *p)
{
    return run_prog(ev, p);
}

/* The prefilter's candidates in an index cell (rules anchored on a
 * check that fired); only the fields of the cell's anchored rules are read. */
static size_t prefiltered(evaluator *ev, size_t cell, const uint32_t **out)
{
    const prefilter *pf = ev->rs->prefilter;
    if (!pf)
        return 0;
    const uint32_t *fields;
    size_t nf = prefilter_cell_fields(pf, cell, &fields);
    if (!nf)
        return 0;
    for (size_t i = 0; i < nf; i++) {
        fvals tmp; /* plain fields: values come from the cache */
        ev->pfv[fields[i]] = values(ev, prefilter_field(pf, fields[i]), &tmp);
    }
    return prefilter_run(pf, ev->pfs, fields, nf, ev->pfv, out);
}

size_t evaluator_match(evaluator *ev, bool all, uint32_t *out, size_t max)
{
    const uint32_t *cand, *pc;
    const fval *keys[2] = {NULL, NULL};
    fvals tmp[2];
    for (int k = 0; k < 2; k++) {
        const cexpr *e = index_key_expr(ev->rs->index, k);
        const fvals *v = e ? values(ev, e, &tmp[k]) : NULL;
        if (v)
            keys[k] = &v->v[0];
    }
    size_t cell = index_cell(ev->rs->index, keys);
    size_t nc = index_cell_rules(ev->rs->index, cell, &cand);
    size_t np = prefiltered(ev, cell, &pc);
    /* both lists are in rule order and disjoint: merge them */
    size_t n = 0, i = 0, j = 0;
    while ((i < nc || j < np) && n < max) {
        uint32_t r = j >= np || (i < nc && cand[i] < pc[j]) ? cand[i++] : pc[j++];
        if (run_prog(ev, &ev->rs->rules[r].prog)) {
            out[n++] = r;
            if (!all)
                break;
        }
    }
    return n;
}
