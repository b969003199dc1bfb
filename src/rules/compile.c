/*
 * compile — the collection's items into an immutable ruleset
 * (spec/rules.md §5): list expansion, textual list substitution,
 * exceptions, macro parsing and reference checks, rule compilation
 * against the field table, output templates, then the rule index.
 */
#include "rules/collection.h"
#include "rules/compiled.h"
#include "rules/cond_parse.h"
#include "util/alloc.h"
#include "util/memeq.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct compiler {
    ruleset *rs;
    collection *coll;
    load_result *res;
    /* field cache slots by reference text */
    cexpr **slots;
    uint32_t nslots, capslots;
    uint32_t *slot_hash;    /* open addressing: slot index + 1, 0 = empty */
    size_t slot_hash_cap;   /* power of two, > 2 * nslots */
    /* distinct checks (cnode.memo) by their key text (check_key) */
    struct memo_ent {
        const char *key;    /* in memo_arena */
        size_t len;
        uint32_t id;
    } *memo_tab;            /* open addressing, key NULL = empty */
    size_t memo_cap;        /* power of two, > 2 * nmemo */
    uint32_t nmemo;
    arena memo_arena;
    buf memo_key;           /* scratch */
    /* Macro expansion budget: macros are expanded by compiling their tree
     * at every use, so nested macros used several times multiply (a chain
     * of 40 macros each using the previous one twice is 2^40 nodes), and
     * nested macros stack their depths.  Both are bounded so a hostile
     * rules file gets a load error instead of a hang or a stack overflow. */
    unsigned depth;
    size_t nodes;
};

/* Nesting after macro expansion: well above the parser's own limit for one
 * condition (COND_MAX_DEPTH), low enough for the recursive compiler,
 * evaluator and index analysis to stay far from the stack's end. */
#define COMPILE_MAX_DEPTH 4000
/* Compiled condition nodes plus `in` list items in the whole rule set
 * (lists are substituted as text, so a list used by N checks counts N
 * times): a 1 MB condition has about 100k; Falco's own rules, a few
 * thousand.  Bounds load time and memory (each item costs ~60 bytes). */
#define COMPILE_MAX_NODES 2000000

/* ---- string sets ---- */

/* Set lookups run for every `in` check of every candidate rule, on values
 * like "system:serviceaccount:kube-system:generic-garbage-collector": a
 * byte-at-a-time hash was the evaluator's largest cost.  This one takes 8
 * bytes per step (the last step overlapping the previous one), still over
 * every byte, so a rules file cannot make all items of a big list collide
 * more easily than before. */
static inline uint64_t hash_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 31);
}

static inline uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = hash_mix(0x243F6A8885A308D3ULL, n);
    if (n >= 8) {
        size_t i = 0;
        uint64_t w;
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, p + i, 8);
            h = hash_mix(h, w);
        }
        if (i < n) {
            memcpy(&w, p + n - 8, 8);
            h = hash_mix(h, w);
        }
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, p, 4);
        memcpy(&y, p + n - 4, 4);
        h = hash_mix(h, (uint64_t)x << 32 | y);
    } else if (n) {
        h = hash_mix(h, (unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << 8 |
                            (uint64_t)(unsigned char)p[n - 1] << 16);
    }
    h *= 0xC2B2AE3D27D4EB4FULL;
    return h ^ (h >> 32); /* the table index takes the low bits */
}

bool strset_has(const strset *s, const char *p, size_t n)
{
    /* a value no item is as long as (mod 64) needs no hash */
    if (!(s->lens >> (n & 63) & 1))
        return false;
    size_t i = hash_bytes(p, n) & s->mask;
    for (;;) {
        const fval *v = &s->slots[i];
        if (!v->s)
            return false;
        if (v->len == n && memeq(v->s, p, n))
            return true;
        i = (i + 1) & s->mask;
    }
}

static strset *strset_build(arena *a, const ast_str *items, size_t n)
{
    strset *s = arena_alloc(a, sizeof *s);
    if (!s)
        return NULL;
    size_t cap = 8;
    while (cap < n * 2 + 2)
        cap *= 2;
    s->slots = arena_alloc(a, cap * sizeof *s->slots);
    s->items = arena_alloc(a, (n ? n : 1) * sizeof *s->items);
    if (!s->slots || !s->items)
        return NULL;
    memset(s->slots, 0, cap * sizeof *s->slots);
    s->lens = 0;
    s->mask = cap - 1;
    s->n = n;
    for (size_t k = 0; k < n; k++) {
        /* copied: the AST the items come from dies after compilation */
        fval v = {arena_strndup(a, items[k].s, items[k].len), items[k].len};
        if (!v.s)
            return NULL;
        s->items[k] = v;
        s->lens |= 1ull << (v.len & 63);
        if (strset_has(s, v.s, v.len))
            continue;
        size_t i = hash_bytes(v.s, v.len) & s->mask;
        while (s->slots[i].s)
            i = (i + 1) & s->mask;
        s->slots[i] = v;
    }
    return s;
}

/* ---- list expansion and substitution (spec/rules.md §2.3, §5.2) ---- */

static int needs_quotes(const char *s) { return strchr(s, ' ') && s[0] != '"' && s[0] != '\''; }

static void append_item(buf *b, const char *item)
{
    if (needs_quotes(item)) {
        buf_putc(b, '"');
        buf_puts(b, item);
        buf_putc(b, '"');
    } else {
        buf_puts(b, item);
    }
}

/* Items of list-in-list references are inlined when the referenced list's
 * first definition precedes this list's last definition. */
static int expand_lists(collection *c, load_result *res)
{
    size_t total = 0;
    for (size_t i = 0; i < c->nlists; i++) {
        l_list *l = &c->lists[i];
        strvec out = {0};
        for (size_t k = 0; k < l->items.n; k++) {
            l_list *ref = NULL;
            for (size_t j = 0; j < c->nlists; j++)
                if (j != i && !strcmp(c->lists[j].name, l->items.v[k]) && c->lists[j].first < l->last)
                    ref = &c->lists[j];
            /* lists naming lists multiply (ten lists of ten times the
             * previous one are 10^10 items): bounded like conditions */
            total += ref ? ref->items.n : 1;
            if (total > COMPILE_MAX_NODES) {
                strvec_free(&out);
                load_msg_add(res, true, &l->at, "LOAD_ERR_VALIDATE", NULL,
                             "list '%s': lists larger than %d items in all after expansion", l->name,
                             COMPILE_MAX_NODES);
                return -1;
            }
            int rc = 0;
            if (ref) {
                ref->used = true;
                for (size_t m = 0; m < ref->items.n && !rc; m++)
                    rc = strvec_push(&out, ref->items.v[m]);
            } else {
                rc = strvec_push(&out, l->items.v[k]);
            }
            if (rc) {
                strvec_free(&out);
                load_msg_add(res, true, &l->at, "LOAD_ERR_VALIDATE", NULL, "list '%s': out of memory", l->name);
                return -1;
            }
        }
        strvec_free(&l->items);
        l->items = out;
    }
    return 0;
}

static int is_delim(char ch) { return ch == 0 || strchr(" \t\n\r(),=", ch) != NULL; }
static int is_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

/* Replace every delimited occurrence of each list name in text (not quote
 * aware, as upstream).  Returns a new pg_malloc'd string. */
static char *substitute_lists(collection *c, const char *text)
{
    char *cur = pg_strdup(text);
    for (size_t i = 0; cur && i < c->nlists; i++) {
        l_list *l = &c->lists[i];
        size_t nl = strlen(l->name);
        if (!strstr(cur, l->name))
            continue;
        buf out = BUF_INIT;
        const char *p = cur;
        bool changed = false;
        for (;;) {
            const char *hit = strstr(p, l->name);
            if (!hit) {
                buf_puts(&out, p);
                break;
            }
            char before = hit == cur ? 0 : hit[-1];
            char after = hit[nl];
            if (!is_delim(before) || !is_delim(after)) {
                buf_put(&out, p, (size_t)(hit - p) + 1);
                p = hit + 1;
                continue;
            }
            changed = true;
            l->used = true;
            /* the blanks around the name go too */
            const char *s = hit, *e = hit + nl;
            while (s > p && is_blank(s[-1]))
                s--;
            while (is_blank(*e))
                e++;
            buf_put(&out, p, (size_t)(s - p));
            if (l->items.n)
                buf_putc(&out, ' '); /* upstream puts one space on each side of the items */
            if (l->items.n == 0) {
                /* drop one adjacent comma, the left one preferred */
                size_t k = out.len;
                while (k > 0 && is_blank(out.data[k - 1]))
                    k--;
                if (k > 0 && out.data[k - 1] == ',') {
                    out.len = k - 1;
                    out.data[out.len] = 0;
                } else if (*e == ',') {
                    e++;
                    while (is_blank(*e))
                        e++;
                }
            } else {
                for (size_t k = 0; k < l->items.n; k++) {
                    if (k)
                        buf_puts(&out, ", ");
                    append_item(&out, l->items.v[k]);
                }
                buf_putc(&out, ' ');
            }
            p = e;
        }
        if (out.oom) {
            buf_free(&out);
            pg_free(cur);
            return NULL;
        }
        if (changed) {
            pg_free(cur);
            cur = out.data ? out.data : pg_strdup("");
        } else {
            buf_free(&out);
        }
    }
    return cur;
}

/* ---- exceptions → condition text (spec/rules.md §4) ---- */

static void put_scalar(buf *b, const char *s)
{
    if (strchr(s, ' ') && s[0] != '"' && s[0] != '\'') {
        buf_putc(b, '"');
        buf_puts(b, s);
        buf_putc(b, '"');
    } else {
        buf_puts(b, s);
    }
}

static bool is_list_comp(const char *comp)
{
    return !strcmp(comp, "in") || !strcmp(comp, "intersects") || !strcmp(comp, "pmatch") || strchr(comp, ' ');
}

static void put_value(buf *b, const exc_val *v, const char *comp)
{
    if (v->is_list) {
        buf_putc(b, '(');
        for (size_t i = 0; i < v->items.n; i++) {
            if (i)
                buf_puts(b, ", ");
            put_scalar(b, v->items.v[i]);
        }
        buf_putc(b, ')');
    } else if (is_list_comp(comp) && v->items.v[0][0] != '(') {
        buf_putc(b, '(');
        put_scalar(b, v->items.v[0]);
        buf_putc(b, ')');
    } else {
        put_scalar(b, v->items.v[0]);
    }
}

static char *build_condition(const l_rule *r)
{
    buf b = BUF_INIT;
    buf_putc(&b, '(');
    buf_puts(&b, r->cond);
    buf_putc(&b, ')');
    for (size_t i = 0; i < r->nexc; i++) {
        const l_exception *e = &r->exc[i];
        if (e->fields_is_list) {
            if (!e->ntuples)
                continue;
            buf_puts(&b, " and not (");
            for (size_t t = 0; t < e->ntuples; t++) {
                if (t)
                    buf_puts(&b, " or ");
                buf_putc(&b, '(');
                for (size_t f = 0; f < e->fields.n; f++) {
                    if (f)
                        buf_puts(&b, " and ");
                    buf_printf(&b, " %s %s ", e->fields.v[f], e->comps.v[f]);
                    put_value(&b, &e->tuples[t][f], e->comps.v[f]);
                }
                buf_putc(&b, ')');
            }
            buf_putc(&b, ')');
        } else {
            if (!e->nscalars)
                continue;
            buf_printf(&b, " and not (%s %s (", e->fields.v[0], e->comps.v[0]);
            for (size_t k = 0; k < e->nscalars; k++) {
                if (k)
                    buf_puts(&b, ", ");
                put_scalar(&b, e->scalars[k].items.v[0]);
            }
            buf_puts(&b, "))");
        }
    }
    if (b.oom) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* ---- expressions ---- */

static int cerr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cerr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static void *cnew(compiler *c, size_t n)
{
    void *p = arena_alloc(&c->rs->arena, n);
    if (p)
        memset(p, 0, n);
    return p;
}

static const char *cstrdup(compiler *c, const char *s, size_t n) { return arena_strndup(&c->rs->arena, s, n); }

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

static cexpr *field_expr(compiler *c, const char *text, size_t len, char *err, size_t errlen)
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

typedef struct rule_scope {
    const char *rule;       /* for messages */
    bool unknown_field;     /* compile failed on an unknown field */
} rule_scope;

static cnode *compile_node(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen);
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

/* ---- check numbering (cnode.memo) ---- */

/* What determines a value expression: its field slot, or the transformer
 * and its operand (not the text, which is cut at 512 bytes). */
static void expr_key(buf *b, const cexpr *e)
{
    if (e->tf == TF_NONE) {
        buf_printf(b, "F%u", e->slot);
        return;
    }
    buf_printf(b, "T%d(", (int)e->tf);
    expr_key(b, e->arg);
    buf_putc(b, ')');
}

static void str_key(buf *b, const char *s, size_t n)
{
    buf_printf(b, "%zu:", n);
    buf_put(b, s, n);
}

/* Number check n: the same key text, the same number.  The key holds
 * everything the evaluation reads: operands, operator, modifier and the
 * literal(s) as written (numbers, sets and regexes derive from them). */
static int memo_assign(compiler *c, cnode *n, const ast *a)
{
    buf *b = &c->memo_key;
    buf_clear(b);
    expr_key(b, n->lhs);
    buf_printf(b, "|%d|%d|", (int)n->op, (int)n->mod);
    const ast_value *r = a->rhs;
    if (n->rhs) {
        buf_putc(b, 'E');
        expr_key(b, n->rhs);
    } else if (r && r->kind == AV_LIST) {
        buf_printf(b, "L%zu:", r->nitems);
        for (size_t i = 0; i < r->nitems; i++)
            str_key(b, r->items[i].s, r->items[i].len);
    } else if (r) {
        buf_putc(b, 'S');
        str_key(b, r->str.s, r->str.len);
    }
    if (b->oom)
        return -1;
    if (c->memo_cap <= 2 * ((size_t)c->nmemo + 1)) {
        size_t cap = c->memo_cap ? c->memo_cap * 2 : 256;
        struct memo_ent *t = pg_calloc(cap, sizeof *t);
        if (!t)
            return -1;
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
        const struct memo_ent *m = &c->memo_tab[j];
        if (m->len == b->len && memcmp(m->key, b->data, b->len) == 0) {
            n->memo = m->id;
            return 0;
        }
    }
    char *k = arena_alloc(&c->memo_arena, b->len ? b->len : 1);
    if (!k)
        return -1;
    memcpy(k, b->data, b->len);
    c->memo_tab[j] = (struct memo_ent){k, b->len, c->nmemo};
    n->memo = c->nmemo++;
    return 0;
}

static cnode *compile_check_in(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen);

static cnode *compile_check(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen)
{
    cnode *n = compile_check_in(c, a, sc, err, errlen);
    if (n && memo_assign(c, n, a)) {
        cerr(err, errlen, "out of memory");
        return NULL;
    }
    return n;
}

static cnode *compile_check_in(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen)
{
    cnode *n = cnew(c, sizeof *n);
    if (!n) {
        cerr(err, errlen, "out of memory");
        return NULL;
    }
    n->kind = CN_CHECK;
    n->op = a->op;
    n->mod = a->mod;
    if (!(n->lhs = compile_expr(c, a->lhs, err, errlen))) {
        if (strstr(err, "nonexistent field"))
            sc->unknown_field = true;
        return NULL;
    }
    const char *optext = op_table[a->op].text;
    bool list = n->lhs->is_list;
    if (list && a->op != OP_EXISTS && a->op != OP_IN && a->op != OP_INTERSECTS) {
        cerr(err, errlen, "'%s' operator not supported list filters", optext);
        return NULL;
    }
    if (!n->lhs->numeric && (a->op == OP_BCONTAINS || a->op == OP_BSTARTSWITH)) {
        cerr(err, errlen, "'%s' operator not supported for string filters", optext);
        return NULL;
    }
    if (n->lhs->numeric && !(a->op == OP_EXISTS || a->op == OP_EQ || a->op == OP_NE || a->op == OP_LT ||
                             a->op == OP_LE || a->op == OP_GT || a->op == OP_GE || a->op == OP_IN ||
                             a->op == OP_INTERSECTS)) {
        cerr(err, errlen, "'%s' operator not supported for numeric filters", optext);
        return NULL;
    }
    const ast_value *r = a->rhs;
    if (!r)
        return n;
    if (r->kind == AV_FIELD || r->kind == AV_TRANSFORM) {
        if (a->op == OP_REGEX) {
            cerr(err, errlen, "regex operator needs a constant string");
            return NULL;
        }
        if (!(n->rhs = compile_expr(c, r, err, errlen))) {
            if (strstr(err, "nonexistent field"))
                sc->unknown_field = true;
            return NULL;
        }
        if (n->rhs->numeric != n->lhs->numeric ||
            (n->rhs->is_list != list && a->op != OP_IN && a->op != OP_INTERSECTS)) {
            cerr(err, errlen, "left and right side of '%s' must have the same type and list-ness", optext);
            return NULL;
        }
        return n;
    }
    if (r->kind == AV_LIST) {
        if (over_budget(c, r->nitems, err, errlen))
            return NULL;
        if (n->lhs->numeric) {
            ast_str *nums = arena_alloc(&c->rs->arena, (r->nitems ? r->nitems : 1) * sizeof *nums);
            if (!nums)
                return NULL;
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
            n->set = strset_build(&c->rs->arena, nums, r->nitems);
        } else {
            n->set = strset_build(&c->rs->arena, r->items, r->nitems);
        }
        if (!n->set) {
            cerr(err, errlen, "out of memory");
            return NULL;
        }
        return n;
    }
    /* a single literal, copied out of the AST (which dies after compilation) */
    n->str.s = cstrdup(c, r->str.s, r->str.len);
    n->str.len = r->str.len;
    if (!n->str.s) {
        cerr(err, errlen, "out of memory");
        return NULL;
    }
    if (n->lhs->numeric && a->op != OP_EXISTS) {
        if (parse_u64(r->str.s, r->str.len, &n->num)) {
            cerr(err, errlen, "'%s' is not a valid number", r->str.s);
            return NULL;
        }
    }
    if (a->op == OP_IN || a->op == OP_INTERSECTS || a->op == OP_PMATCH) {
        ast_str one = r->str;
        n->set = strset_build(&c->rs->arena, &one, 1);
    }
    if (a->op == OP_REGEX) {
        int ecode;
        PCRE2_SIZE eoff;
        n->re = pcre2_compile((PCRE2_SPTR)r->str.s, r->str.len, PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF,
                              &ecode, &eoff, NULL);
        if (!n->re) {
            char msg[256];
            pcre2_get_error_message(ecode, (PCRE2_UCHAR *)msg, sizeof msg);
            cerr(err, errlen, "invalid regex pattern: %s", msg);
            return NULL;
        }
        /* machine code where the JIT is available: ~8x fewer ns per
         * backtracking step, so eval.c's bounds cost less (else interpreted) */
        pcre2_jit_compile(n->re, PCRE2_JIT_COMPLETE);
        ruleset *rs = c->rs;
        if (rs->nregexes == rs->capregexes) {
            size_t cap = rs->capregexes ? rs->capregexes * 2 : 16;
            pcre2_code **g = pg_realloc(rs->regexes, cap * sizeof *g);
            if (!g) {
                pcre2_code_free(n->re);
                n->re = NULL;
                cerr(err, errlen, "out of memory");
                return NULL;
            }
            rs->regexes = g;
            rs->capregexes = cap;
        }
        rs->regexes[rs->nregexes++] = n->re;
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

static cnode *compile_node(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen)
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

/* ---- output templates (spec/rules.md §8.1) ---- */

#define FMT_MAX_WIDTH 65535 /* %Nfield: larger N is a load error */

static const char *const fmt_transformers[] = {"tolower(", "toupper(", "b64(", "basename(", "len(", NULL};

/* Longest prefix of p that compiles as a field or transformer expression. */
static cexpr *fmt_field(compiler *c, const char *p, size_t *consumed, char *err, size_t errlen)
{
    for (int i = 0; fmt_transformers[i]; i++) {
        size_t tl = strlen(fmt_transformers[i]);
        if (strncmp(p, fmt_transformers[i], tl))
            continue;
        size_t inner;
        cexpr *arg = fmt_field(c, p + tl, &inner, err, errlen);
        if (!arg)
            return NULL;
        if (p[tl + inner] != ')') {
            cerr(err, errlen, "expected ')' after transformer argument");
            return NULL;
        }
        ast_value fv = {.kind = AV_FIELD, .text = arg->text, .textlen = strlen(arg->text)};
        ast_value *args[1] = {&fv};
        char name[16];
        snprintf(name, sizeof name, "%.*s", (int)(tl - 1), p);
        ast_value tv = {.kind = AV_TRANSFORM, .name = name, .args = args, .nargs = 1};
        *consumed = tl + inner + 1;
        return compile_expr(c, &tv, err, errlen);
    }
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '.')
        n++;
    size_t full = n;
    if (p[n] == '[') {
        const char *close = strchr(p + n, ']');
        if (close)
            full = (size_t)(close - p) + 1;
    }
    char tmp[1024];
    for (size_t len = full; len > 0; len = len == full && full != n ? n : len - 1) {
        if (len >= sizeof tmp)
            continue;
        memcpy(tmp, p, len);
        tmp[len] = 0;
        char fname[1024];
        size_t nl = strcspn(tmp, "[");
        memcpy(fname, tmp, nl);
        fname[nl] = 0;
        if (!field_lookup(fname, nl))
            continue;
        char e2[256];
        cexpr *e = field_expr(c, tmp, len, e2, sizeof e2);
        if (e) {
            *consumed = len;
            return e;
        }
        if (len == full && full != n) {
            cerr(err, errlen, "%s", e2);
            return NULL;
        }
    }
    cerr(err, errlen, "unknown filter: invalid formatting token %%%.*s (nonexistent field)", (int)(full ? full : 1), p);
    return NULL;
}

int compile_format(compiler *c, const char *text, fmt_template *out, char *err, size_t errlen)
{
    size_t cap = 8, n = 0;
    fmt_seg *segs = cnew(c, cap * sizeof *segs);
    const char *p = text;
    if (*p == '*')
        p++;
    while (segs && *p) {
        if (n + 2 > cap) {
            fmt_seg *g = cnew(c, cap * 2 * sizeof *g);
            if (!g)
                return cerr(err, errlen, "out of memory");
            memcpy(g, segs, n * sizeof *segs);
            segs = g;
            cap *= 2;
        }
        const char *pct = strchr(p, '%');
        if (pct != p) {
            size_t l = pct ? (size_t)(pct - p) : strlen(p);
            segs[n++] = (fmt_seg){.lit = p, .litlen = l};
            p += l;
            continue;
        }
        p++;
        int width = 0;
        while (isdigit((unsigned char)*p)) {
            /* bounded: each alert would be padded to the width */
            if ((width = width * 10 + (*p++ - '0')) > FMT_MAX_WIDTH)
                return cerr(err, errlen, "field width larger than %d", FMT_MAX_WIDTH);
        }
        size_t used;
        cexpr *e = fmt_field(c, p, &used, err, errlen);
        if (!e)
            return -1;
        segs[n++] = (fmt_seg){.expr = e, .width = width};
        p += used;
    }
    if (!segs)
        return cerr(err, errlen, "out of memory");
    /* literal pieces point into `text`: copy them into the arena */
    for (size_t i = 0; i < n; i++)
        if (segs[i].lit && !(segs[i].lit = cstrdup(c, segs[i].lit, segs[i].litlen)))
            return cerr(err, errlen, "out of memory");
    out->segs = segs;
    out->n = n;
    return 0;
}

/* ---- the whole collection ---- */

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

ruleset *collection_compile(collection *coll, const loader_opts *opts, load_result *res)
{
    ruleset *rs = pg_calloc(1, sizeof *rs);
    if (!rs) {
        load_msg_add(res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        return NULL;
    }
    arena_init(&rs->arena, 64 * 1024);
    compiler c = {.rs = rs, .coll = coll, .res = res};
    arena_init(&c.memo_arena, 16 * 1024);
    char err[1024];
    int failed = 0;
    arena ast_arena, rule_ast; /* macro trees (kept); one rule's tree (reset per rule) */
    arena_init(&ast_arena, 64 * 1024);
    arena_init(&rule_ast, 64 * 1024);

    if (expand_lists(coll, res))
        failed = 1;

    /* Macros: substitute lists, parse, and check references (every macro,
     * used or not: a reference must name a macro defined earlier). */
    for (size_t i = 0; i < coll->nmacros && !failed; i++) {
        l_macro *m = &coll->macros[i];
        char item[300];
        snprintf(item, sizeof item, "macro '%s'", m->name);
        char *text = substitute_lists(coll, m->cond);
        cond_error ce;
        m->tree = text ? cond_parse(text, &ast_arena, COND_MAX_DEPTH, &ce) : NULL;
        if (!m->tree) {
            load_msg_add(res, true, &m->at, "LOAD_ERR_COMPILE_CONDITION", item, "%s", text ? ce.msg : "out of memory");
            failed = 1;
        }
        pg_free(text);
    }
    for (size_t i = 0; i < coll->nmacros && !failed; i++) {
        l_macro *m = &coll->macros[i];
        /* walk the tree for references */
        const ast *stack[2048];
        size_t sp = 0;
        stack[sp++] = m->tree;
        while (sp && !failed) {
            const ast *a = stack[--sp];
            if (a->kind == A_MACRO) {
                l_macro *ref = coll_find_macro(coll, a->name);
                if (!ref || ref->first > m->last) {
                    char item[300];
                    snprintf(item, sizeof item, "macro '%s'", m->name);
                    load_msg_add(res, true, &m->at, "LOAD_ERR_COMPILE_CONDITION", item,
                                 "Undefined macro '%s' used in filter.", a->name);
                    failed = 1;
                }
            }
            for (size_t k = 0; k < a->n && sp < 2048; k++)
                stack[sp++] = a->kids[k];
        }
    }

    /* Rules in definition order. */
    l_rule **order = pg_calloc(coll->nrules ? coll->nrules : 1, sizeof *order);
    for (size_t i = 0; i < coll->nrules && order; i++)
        order[i] = &coll->rules[i];
    /* (rules are appended in first-definition order already) */
    rs->rules = cnew(&c, (coll->nrules ? coll->nrules : 1) * sizeof *rs->rules);
    if (!failed && (!order || !rs->rules)) {
        load_msg_add(res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        failed = 1;
    }
    size_t skipped_sources = 0;
    for (size_t i = 0; i < coll->nrules && !failed; i++) {
        l_rule *r = order[i];
        char item[300];
        snprintf(item, sizeof item, "rule '%s'", r->name);
        const char *source = r->source ? r->source : "syscall";
        if (strcmp(source, "k8s_audit") != 0) {
            skipped_sources++;
            continue;
        }
        char *full = build_condition(r);
        char *text = full ? substitute_lists(coll, full) : NULL;
        pg_free(full);
        rule_scope sc = {.rule = r->name};
        crule *cr = &rs->rules[rs->nrules];
        memset(cr, 0, sizeof *cr);
        /* output first, as Falco validates it before the condition */
        if (compile_format(&c, r->output, &cr->out, err, sizeof err)) {
            if (r->skip_unknown && strstr(err, "nonexistent field")) {
                load_msg_add(res, false, &r->at, "LOAD_UNKNOWN_FILTER", item, "%s; skipping rule", err);
                pg_free(text);
                continue;
            }
            load_msg_add(res, true, &r->at, "LOAD_ERR_COMPILE_OUTPUT", item, "%s", err);
            failed = 1;
            pg_free(text);
            break;
        }
        cond_error ce;
        arena_reset(&rule_ast);
        ast *tree = text ? cond_parse(text, &rule_ast, COND_MAX_DEPTH, &ce) : NULL;
        if (!tree) {
            load_msg_add(res, true, &r->at, "LOAD_ERR_COMPILE_CONDITION", item, "%s", text ? ce.msg : "out of memory");
            failed = 1;
            pg_free(text);
            break;
        }
        pg_free(text);
        cr->cond = compile_node(&c, tree, &sc, err, sizeof err);
        if (!cr->cond) {
            if (r->skip_unknown && sc.unknown_field) {
                load_msg_add(res, false, &r->at, "LOAD_UNKNOWN_FILTER", item, "%s; skipping rule", err);
                continue;
            }
            load_msg_add(res, true, &r->at, "LOAD_ERR_COMPILE_CONDITION", item, "%s", err);
            failed = 1;
            break;
        }
        if (cprog_build(cr->cond, &c.rs->arena, &cr->prog)) {
            load_msg_add(res, true, &r->at, "LOAD_ERR_COMPILE_CONDITION", item, "out of memory");
            failed = 1;
            break;
        }
        cr->info.name = cstrdup(&c, r->name, strlen(r->name));
        cr->info.desc = cstrdup(&c, r->desc, strlen(r->desc));
        cr->info.output = cstrdup(&c, r->output, strlen(r->output));
        cr->info.prio = (priority)r->prio;
        cr->info.enabled = r->enabled;
        if (r->tags.n)
            qsort(r->tags.v, r->tags.n, sizeof *r->tags.v, by_str);
        const char **tags = cnew(&c, (r->tags.n ? r->tags.n : 1) * sizeof *tags);
        for (size_t k = 0; tags && k < r->tags.n; k++)
            tags[k] = cstrdup(&c, r->tags.v[k], strlen(r->tags.v[k]));
        cr->info.tags = tags;
        cr->info.ntags = r->tags.n;
        cr->active = r->enabled && r->prio <= (int)opts->min_priority;
        rs->nrules++;
        bool tags_ok = tags != NULL;
        for (size_t k = 0; tags && k < r->tags.n; k++)
            tags_ok &= tags[k] != NULL;
        if (!cr->info.name || !cr->info.desc || !cr->info.output || !tags_ok) {
            load_msg_add(res, true, &r->at, "LOAD_ERR_VALIDATE", item, "out of memory");
            failed = 1;
            break;
        }
    }
    if (skipped_sources && !failed) {
        where w = {0};
        load_msg_add(res, false, &w, "LOAD_UNKNOWN_SOURCE", NULL,
                     "%zu rule(s) of sources other than k8s_audit skipped (their lists and macros are loaded)",
                     skipped_sources);
    }
    pg_free(order);
    arena_free(&ast_arena);
    arena_free(&rule_ast);
    rs->nslots = c.nslots;
    rs->slot_expr = cnew(&c, (c.nslots ? c.nslots : 1) * sizeof *rs->slot_expr);
    if (rs->slot_expr && c.nslots) {
        memcpy(rs->slot_expr, c.slots, c.nslots * sizeof *c.slots);
    } else if (!rs->slot_expr) {
        /* the references' own allocations must still be released */
        for (uint32_t i = 0; i < c.nslots; i++)
            field_ref_free(&c.slots[i]->ref);
        rs->nslots = 0;
        if (!failed)
            load_msg_add(res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        failed = 1;
    }
    pg_free(c.slots);
    pg_free(c.slot_hash);
    rs->nmemo = c.nmemo;
    pg_free(c.memo_tab);
    arena_free(&c.memo_arena);
    buf_free(&c.memo_key);
    rs->required_engine = coll->required_engine;
    if (!failed && !(rs->index = index_build(rs))) {
        load_msg_add(res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory building the rule index");
        failed = 1;
    }
    if (failed) {
        ruleset_free(rs);
        return NULL;
    }
    return rs;
}

size_t ruleset_count(const ruleset *rs) { return rs->nrules; }
const rule_info *ruleset_rule(const ruleset *rs, size_t i) { return &rs->rules[i].info; }

const char *ruleset_uses_order(const ruleset *rs)
{
    static const int ordered[] = {FLD_EVT_NUM, FLD_EVT_RELTIME, FLD_EVT_RELTIME_S, FLD_EVT_RELTIME_NS};
    for (size_t i = 0; i < sizeof ordered / sizeof *ordered; i++)
        if (ruleset_uses_field(rs, ordered[i]))
            return field_table[ordered[i]].name;
    return NULL;
}

bool ruleset_uses_field(const ruleset *rs, int field)
{
    for (uint32_t i = 0; i < rs->nslots; i++)
        if ((int)rs->slot_expr[i]->ref.def->id == field)
            return true;
    return false;
}

void ruleset_free(ruleset *rs)
{
    if (!rs)
        return;
    for (uint32_t i = 0; rs->slot_expr && i < rs->nslots; i++)
        field_ref_free(&rs->slot_expr[i]->ref);
    /* regexes are the only other non-arena resources */
    for (size_t i = 0; i < rs->nregexes; i++)
        pcre2_code_free(rs->regexes[i]);
    pg_free(rs->regexes);
    index_free(rs->index);
    arena_free(&rs->arena);
    pg_free(rs);
}
