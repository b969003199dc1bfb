/*
 * compile — value expressions and conditions into their compiled form
 * (compiled.h): fields resolved to cache slots, macros expanded, checks
 * numbered so that a check repeated by many rules runs once per event,
 * `in` lists as sets, regexes compiled.
 */
#include "rules/compiler.h"
#include "rules/cond_parse.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/memeq.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- expressions ---- */

int cerr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

void *cnew(compiler *c, size_t n)
{
    void *p = arena_alloc(&c->rs->arena, n);
    if (p)
        memset(p, 0, n);
    return p;
}

const char *cstrdup(compiler *c, const char *s, size_t n) { return arena_strndup(&c->rs->arena, s, n); }

/* Where text is, or would go, in the slot hash. */
static size_t slot_pos(const compiler *c, const char *text, size_t len)
{
    size_t i = hash_bytes(text, len) & (c->slot_hash_cap - 1);
    for (uint32_t k; (k = c->slot_hash[i]); i = (i + 1) & (c->slot_hash_cap - 1)) {
        const char *t = c->slots[k - 1]->text;
        if (strlen(t) == len && !memcmp(t, text, len))
            break;
    }
    return i;
}

/* Grow the slot hash before it is half full (a hostile condition may name
 * tens of thousands of distinct fields).  Returns 0 or -1. */
static int slot_hash_reserve(compiler *c)
{
    if (c->slot_hash_cap > 2 * ((size_t)c->nslots + 1))
        return 0;
    size_t cap = c->slot_hash_cap ? c->slot_hash_cap * 2 : 64;
    uint32_t *h = pg_calloc(cap, sizeof *h);
    if (!h)
        return -1;
    pg_free(c->slot_hash);
    c->slot_hash = h;
    c->slot_hash_cap = cap;
    for (uint32_t k = 0; k < c->nslots; k++)
        h[slot_pos(c, c->slots[k]->text, strlen(c->slots[k]->text))] = k + 1;
    return 0;
}

cexpr *field_expr(compiler *c, const char *text, size_t len, char *err, size_t errlen)
{
    if (slot_hash_reserve(c)) {
        cerr(err, errlen, "out of memory");
        return NULL;
    }
    size_t hpos = slot_pos(c, text, len);
    if (c->slot_hash[hpos])
        return c->slots[c->slot_hash[hpos] - 1];
    size_t nl = 0;
    while (nl < len && text[nl] != '[')
        nl++;
    if (!field_lookup(text, nl)) {
        cerr(err, errlen, "filter_check called with nonexistent field %.*s", (int)nl, text);
        return NULL;
    }
    cexpr *e = cnew(c, sizeof *e);
    if (!e) {
        cerr(err, errlen, "out of memory");
        return NULL;
    }
    if (field_ref_parse(text, len, &e->ref, err, errlen))
        return NULL;
    e->text = cstrdup(c, text, len);
    if (!e->text) {
        field_ref_free(&e->ref);
        cerr(err, errlen, "out of memory");
        return NULL;
    }
    e->tf = TF_NONE;
    e->is_list = e->ref.def->is_list;
    e->numeric = e->ref.def->type != FT_STRING && e->ref.def->type != FT_BOOL;
    if (c->nslots == c->capslots) {
        uint32_t cap = c->capslots ? c->capslots * 2 : 32;
        cexpr **s = pg_realloc(c->slots, cap * sizeof *s);
        if (!s) {
            field_ref_free(&e->ref);
            cerr(err, errlen, "out of memory");
            return NULL;
        }
        c->slots = s;
        c->capslots = cap;
    }
    e->slot = c->nslots;
    c->slots[c->nslots++] = e;
    c->slot_hash[hpos] = c->nslots;
    return e;
}

cexpr *compile_expr(compiler *c, const ast_value *v, char *err, size_t errlen)
{
    if (v->kind == AV_FIELD)
        return field_expr(c, v->text, v->textlen, err, errlen);
    if (v->kind != AV_TRANSFORM) {
        cerr(err, errlen, "expected a field or a transformer");
        return NULL;
    }
    static const struct {
        const char *name;
        transform_kind tf;
    } tfs[] = {{"tolower", TF_TOLOWER}, {"toupper", TF_TOUPPER}, {"b64", TF_B64},
               {"basename", TF_BASENAME}, {"len", TF_LEN}, {"val", TF_VAL}};
    transform_kind tf = TF_NONE;
    for (size_t i = 0; i < sizeof tfs / sizeof *tfs; i++)
        if (!strcmp(tfs[i].name, v->name))
            tf = tfs[i].tf;
    if (tf == TF_NONE || v->nargs != 1) {
        cerr(err, errlen, "transformer '%s' is not supported for k8s_audit events", v->name);
        return NULL;
    }
    cexpr *arg = compile_expr(c, v->args[0], err, errlen);
    if (!arg)
        return NULL;
    if (tf == TF_VAL)
        return arg;
    if (arg->numeric) {
        cerr(err, errlen, "transformer '%s' needs a string input", v->name);
        return NULL;
    }
    cexpr *e = cnew(c, sizeof *e);
    if (!e) {
        cerr(err, errlen, "out of memory");
        return NULL;
    }
    e->tf = tf;
    e->arg = arg;
    e->is_list = tf == TF_LEN ? false : arg->is_list;
    e->numeric = tf == TF_LEN;
    char text[512];
    snprintf(text, sizeof text, "%s(%s)", v->name, arg->text);
    e->text = cstrdup(c, text, strlen(text));
    return e;
}

/* ---- conditions ---- */

static bool over_budget(compiler *c, size_t n, char *err, size_t errlen);

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    errno = 0;
    double d;
    unsigned long long v = strtoull(tmp, &end, 0);
    if (*end) {
        d = strtod(tmp, &end);
        if (*end || d < 0)
            return -1;
        v = (unsigned long long)d;
    }
    *out = v;
    return 0;
}

/* ---- check numbering (cnode.memo) and sharing ---- */

/* What determines a value expression: its field slot, or the transformer
 * and its operand (not the text, which is cut at 512 bytes). */
static void expr_key(buf *b, const cexpr *e)
{
    if (e->tf == TF_NONE) {
        buf_putc(b, 'F');
        buf_put_u64(b, e->slot, 0);
        return;
    }
    buf_putc(b, 'T');
    buf_put_u64(b, (unsigned)e->tf, 0);
    buf_putc(b, '(');
    expr_key(b, e->arg);
    buf_putc(b, ')');
}

static void str_key(buf *b, const char *s, size_t n)
{
    buf_put_u64(b, n, 0);
    buf_putc(b, ':');
    buf_put(b, s, n);
}

/* The entry of check n (operands compiled, right-hand side as in a's AST)
 * in the table of distinct checks: the one holding the same key text, or
 * the empty one where it goes.  The key holds everything the evaluation
 * reads: operands, operator, modifier and the literal(s) as written
 * (numbers, sets and regexes derive from them).  NULL when out of memory. */
static struct memo_ent *memo_find(compiler *c, const cnode *n, const ast *a)
{
    buf *b = &c->memo_key;
    buf_clear(b);
    expr_key(b, n->lhs);
    buf_putc(b, '|');
    buf_put_u64(b, (unsigned)n->op, 0);
    buf_putc(b, '|');
    buf_put_u64(b, (unsigned)n->mod, 0);
    buf_putc(b, '|');
    const ast_value *r = a->rhs;
    if (n->rhs) {
        buf_putc(b, 'E');
        expr_key(b, n->rhs);
    } else if (r && r->kind == AV_LIST) {
        buf_putc(b, 'L');
        buf_put_u64(b, r->nitems, 0);
        buf_putc(b, ':');
        for (size_t i = 0; i < r->nitems; i++)
            str_key(b, r->items[i].s, r->items[i].len);
    } else if (r) {
        buf_putc(b, 'S');
        str_key(b, r->str.s, r->str.len);
    }
    if (b->oom)
        return NULL;
    if (c->memo_cap <= 2 * ((size_t)c->nmemo + 1)) {
        size_t cap = c->memo_cap ? c->memo_cap * 2 : 256;
        struct memo_ent *t = pg_calloc(cap, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < c->memo_cap; i++) {
            if (!c->memo_tab[i].key)
                continue;
            size_t j = hash_bytes(c->memo_tab[i].key, c->memo_tab[i].len) & (cap - 1);
            while (t[j].key)
                j = (j + 1) & (cap - 1);
            t[j] = c->memo_tab[i];
        }
        pg_free(c->memo_tab);
        c->memo_tab = t;
        c->memo_cap = cap;
    }
    size_t j = hash_bytes(b->data, b->len) & (c->memo_cap - 1);
    for (; c->memo_tab[j].key; j = (j + 1) & (c->memo_cap - 1)) {
        struct memo_ent *m = &c->memo_tab[j];
        if (m->len == b->len && memcmp(m->key, b->data, b->len) == 0)
            return m;
    }
    return &c->memo_tab[j];
}

/* Fill the empty entry m with the key just looked up and node n, which
 * gets the next number.  0 or -1 (out of memory). */
static int memo_add(compiler *c, struct memo_ent *m, cnode *n)
{
    buf *b = &c->memo_key;
    char *k = arena_alloc(&c->memo_arena, b->len ? b->len : 1);
    if (!k)
        return -1;
    memcpy(k, b->data, b->len);
    *m = (struct memo_ent){k, b->len, c->nmemo, n};
    n->memo = c->nmemo++;
    return 0;
}

/* One more occurrence of check m (the cost model shares a check's cost
 * among the conditions that repeat it, as the memo does).  0 or -1. */
static int memo_count(compiler *c, uint32_t m)
{
    if (m >= c->memo_uses_cap) {
        size_t cap = c->memo_uses_cap ? c->memo_uses_cap * 2 : 256;
        while (cap <= m)
            cap *= 2;
        uint32_t *g = pg_realloc(c->memo_uses, cap * sizeof *g);
        if (!g)
            return -1;
        memset(g + c->memo_uses_cap, 0, (cap - c->memo_uses_cap) * sizeof *g);
        c->memo_uses = g;
        c->memo_uses_cap = cap;
    }
    c->memo_uses[m]++;
    return 0;
}

/* The set of an `in (...)` list; numeric operands are normalised to
 * their decimal text.  NULL with err set. */
static strset *list_set(compiler *c, const ast_value *r, bool numeric, char *err, size_t errlen)
{
    const ast_str *items = r->items;
    if (numeric) {
        ast_str *nums = arena_alloc(&c->rs->arena, (r->nitems ? r->nitems : 1) * sizeof *nums);
        if (!nums) {
            cerr(err, errlen, "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < r->nitems; i++) {
            uint64_t v;
            if (parse_u64(r->items[i].s, r->items[i].len, &v)) {
                cerr(err, errlen, "'%s' is not a valid number", r->items[i].s);
                return NULL;
            }
            char tmp[32];
            int k = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
            nums[i].s = cstrdup(c, tmp, (size_t)k);
            nums[i].len = (size_t)k;
        }
        items = nums;
    }
    strset *set = strset_build(&c->rs->arena, items, r->nitems);
    if (!set)
        cerr(err, errlen, "out of memory");
    return set;
}

/* A regex operand, anchored at both ends, JIT-compiled where available,
 * and recorded in the ruleset (which frees it).  NULL with err set. */
static pcre2_code *compile_regex(compiler *c, const char *pat, size_t len, char *err, size_t errlen)
{
    int ecode;
    PCRE2_SIZE eoff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len, PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &ecode,
                                   &eoff, NULL);
    if (!re) {
        char msg[256];
        pcre2_get_error_message(ecode, (PCRE2_UCHAR *)msg, sizeof msg);
        cerr(err, errlen, "invalid regex pattern: %s", msg);
        return NULL;
    }
    /* machine code where the JIT is available: ~8x fewer ns per
     * backtracking step, so eval.c's bounds cost less (else interpreted) */
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    ruleset *rs = c->rs;
    if (rs->nregexes == rs->capregexes) {
        size_t cap = rs->capregexes ? rs->capregexes * 2 : 16;
        pcre2_code **g = pg_realloc(rs->regexes, cap * sizeof *g);
        if (!g) {
            pcre2_code_free(re);
            cerr(err, errlen, "out of memory");
            return NULL;
        }
        rs->regexes = g;
        rs->capregexes = cap;
    }
    rs->regexes[rs->nregexes++] = re;
    return re;
}

/* Check n's literal right-hand side (a list, or one value) from a's AST
 * into the ruleset: copied, as a set, a number or a regex.  0 or -1 with
 * err set. */
static int compile_literal(compiler *c, cnode *n, const ast *a, char *err, size_t errlen)
{
    const ast_value *r = a->rhs;
    if (r->kind == AV_LIST)
        return (n->set = list_set(c, r, n->lhs->numeric, err, errlen)) ? 0 : -1;
    /* a single literal, copied out of the AST (which dies after compilation) */
    n->str.s = cstrdup(c, r->str.s, r->str.len);
    n->str.len = r->str.len;
    if (!n->str.s)
        return cerr(err, errlen, "out of memory");
    if (n->lhs->numeric && a->op != OP_EXISTS) {
        if (parse_u64(r->str.s, r->str.len, &n->num))
            return cerr(err, errlen, "'%s' is not a valid number", r->str.s);
    }
    if (a->op == OP_IN || a->op == OP_INTERSECTS || a->op == OP_PMATCH) {
        ast_str one = r->str;
        n->set = strset_build(&c->rs->arena, &one, 1);
    }
    if (a->op == OP_REGEX && !(n->re = compile_regex(c, r->str.s, r->str.len, err, errlen)))
        return -1;
    return 0;
}

/* The operands of check a, compiled and checked against the operator,
 * into t (on the stack: nothing is allocated for a check seen before).
 * 0 or -1 with err set. */
static int check_operands(compiler *c, const ast *a, cnode *t, rule_scope *sc, char *err, size_t errlen)
{
    *t = (cnode){.kind = CN_CHECK, .op = a->op, .mod = a->mod};
    if (!(t->lhs = compile_expr(c, a->lhs, err, errlen))) {
        if (strstr(err, "nonexistent field"))
            sc->unknown_field = true;
        return -1;
    }
    const char *optext = op_table[a->op].text;
    bool list = t->lhs->is_list;
    if (list && a->op != OP_EXISTS && a->op != OP_IN && a->op != OP_INTERSECTS)
        return cerr(err, errlen, "'%s' operator not supported list filters", optext);
    if (!t->lhs->numeric && (a->op == OP_BCONTAINS || a->op == OP_BSTARTSWITH))
        return cerr(err, errlen, "'%s' operator not supported for string filters", optext);
    if (t->lhs->numeric && !(a->op == OP_EXISTS || a->op == OP_EQ || a->op == OP_NE || a->op == OP_LT ||
                             a->op == OP_LE || a->op == OP_GT || a->op == OP_GE || a->op == OP_IN ||
                             a->op == OP_INTERSECTS))
        return cerr(err, errlen, "'%s' operator not supported for numeric filters", optext);
    const ast_value *r = a->rhs;
    if (r && (r->kind == AV_FIELD || r->kind == AV_TRANSFORM)) {
        if (a->op == OP_REGEX)
            return cerr(err, errlen, "regex operator needs a constant string");
        if (!(t->rhs = compile_expr(c, r, err, errlen))) {
            if (strstr(err, "nonexistent field"))
                sc->unknown_field = true;
            return -1;
        }
        if (t->rhs->numeric != t->lhs->numeric ||
            (t->rhs->is_list != list && a->op != OP_IN && a->op != OP_INTERSECTS))
            return cerr(err, errlen, "left and right side of '%s' must have the same type and list-ness", optext);
    }
    return 0;
}

/* A check: the node of the same check compiled before (any rule's or
 * macro's), or a new one.  Shared nodes are read-only like every other;
 * sharing them keeps one copy of each `in` set, literal and regex however
 * many rules repeat the check (lists are substituted as text, so each use
 * of a list is such a repeat).  The errors are the same either way: a
 * check equal to one compiled before would compile the same. */
static cnode *compile_check(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen)
{
    cnode t;
    if (check_operands(c, a, &t, sc, err, errlen))
        return NULL;
    const ast_value *r = a->rhs;
    if (r && r->kind == AV_LIST && over_budget(c, r->nitems, err, errlen))
        return NULL;
    struct memo_ent *m = memo_find(c, &t, a);
    if (m && m->node) {
        if (memo_count(c, m->node->memo)) {
            cerr(err, errlen, "out of memory");
            return NULL;
        }
        return m->node;
    }
    cnode *n = m ? cnew(c, sizeof *n) : NULL;
    if (!n) {
        cerr(err, errlen, "out of memory");
        return NULL;
    }
    *n = t;
    if (r && !n->rhs && compile_literal(c, n, a, err, errlen))
        return NULL;
    if (memo_add(c, m, n) || memo_count(c, n->memo)) {
        cerr(err, errlen, "out of memory");
        return NULL;
    }
    return n;
}

static cnode *compile_macro(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen)
{
    l_macro *m = coll_find_macro(c->coll, a->name);
    if (!m || !m->tree) {
        cerr(err, errlen, "Undefined macro '%s' used in filter.", a->name);
        return NULL;
    }
    if (m->visit) {
        cerr(err, errlen, "reference loop in macro '%s'", a->name);
        return NULL;
    }
    m->used = true;
    m->visit = 1;
    cnode *n = compile_node(c, m->tree, sc, err, errlen);
    m->visit = 0;
    return n;
}

static cnode *compile_node_in(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen);

/* Count n more condition nodes or list items against COMPILE_MAX_NODES. */
static bool over_budget(compiler *c, size_t n, char *err, size_t errlen)
{
    c->nodes += n;
    if (c->nodes <= COMPILE_MAX_NODES)
        return false;
    cerr(err, errlen, "conditions larger than %d nodes and list items after macro and list expansion",
         COMPILE_MAX_NODES);
    return true;
}

cnode *compile_node(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen)
{
    if (c->depth >= COMPILE_MAX_DEPTH) {
        cerr(err, errlen, "condition nested more than %d levels deep after macro expansion", COMPILE_MAX_DEPTH);
        return NULL;
    }
    if (over_budget(c, 1, err, errlen))
        return NULL;
    c->depth++;
    cnode *n = compile_node_in(c, a, sc, err, errlen);
    c->depth--;
    return n;
}

static cnode *compile_node_in(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen)
{
    switch (a->kind) {
    case A_MACRO:
        return compile_macro(c, a, sc, err, errlen);
    case A_CHECK:
        return compile_check(c, a, sc, err, errlen);
    case A_AND:
    case A_OR:
    case A_NOT: {
        cnode *n = cnew(c, sizeof *n);
        if (!n || !(n->kids = cnew(c, a->n * sizeof *n->kids))) {
            cerr(err, errlen, "out of memory");
            return NULL;
        }
        n->kind = a->kind == A_AND ? CN_AND : a->kind == A_OR ? CN_OR : CN_NOT;
        n->n = a->n;
        for (size_t i = 0; i < a->n; i++)
            if (!(n->kids[i] = compile_node(c, a->kids[i], sc, err, errlen)))
                return NULL;
        return n;
    }
    }
    cerr(err, errlen, "internal error: unknown AST node");
    return NULL;
}
