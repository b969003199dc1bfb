/*
 * cond_parse — recursive-descent parser for conditions (docs/compat/rules.md §6).
 * Each function is headed by the production it parses.  Errors: the first
 * one wins and every function returns NULL after it.
 */
#include "rules/cond_parse.h"
#include "rules/cond_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const op_info op_table[OP__COUNT] = {
#define OP(id, text, cls, blank) [id] = {text, OPC_##cls, blank},
#include "rules/ops.def"
#undef OP
};

typedef struct parser {
    const char *text;
    const char *p;
    arena *a;
    unsigned depth, max_depth;
    cond_error *err;
    int failed;
    const char *last;       /* last token, for "unexpected token after" */
    size_t lastlen;
} parser;

static void *fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void *fail(parser *ps, const char *fmt, ...)
{
    if (!ps->failed) {
        ps->failed = 1;
        ps->err->pos = (size_t)(ps->p - ps->text);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

static int enter(parser *ps)
{
    if (++ps->depth >= ps->max_depth) {
        fail(ps, "exceeded max depth limit of %u", ps->max_depth);
        return 0;
    }
    return 1;
}

static void *new(parser *ps, size_t n)
{
    void *p = arena_alloc(ps->a, n);
    if (!p)
        return fail(ps, "out of memory");
    memset(p, 0, n);
    return p;
}

static char *dup(parser *ps, const char *s, size_t n)
{
    char *p = arena_strndup(ps->a, s, n);
    if (!p)
        fail(ps, "out of memory");
    return p;
}

static void token(parser *ps, const char *start)
{
    ps->last = start;
    ps->lastlen = (size_t)(ps->p - start);
}

static ast *new_node(parser *ps, ast_kind k, uint32_t pos)
{
    ast *n = new(ps, sizeof *n);
    if (n) {
        n->kind = k;
        n->pos = pos;
    }
    return n;
}

/* Growable child list in the arena. */
typedef struct kids {
    ast **v;
    size_t n, cap;
} kids;

static int kids_push(parser *ps, kids *k, ast *x)
{
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 4;
        ast **v = new(ps, cap * sizeof *v);
        if (!v)
            return 0;
        if (k->n)
            memcpy(v, k->v, k->n * sizeof *v);
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = x;
    return 1;
}

static ast *parse_or(parser *ps);
static ast_value *parse_transformer_or_val(parser *ps, int allow_val);

/* quoted := '"' ... '"' | "'" ... "'"  → unescaped string */
static int parse_quoted(parser *ps, ast_str *out)
{
    const char *start = ps->p;
    size_t n = lex_quoted(&ps->p);
    if (!n)
        return 0;
    token(ps, start);
    char *buf = arena_alloc(ps->a, n + 1);
    if (!buf) {
        fail(ps, "out of memory");
        return -1;
    }
    char bad = 0;
    long len = cond_unescape(start, n, buf, &bad);
    if (len < 0) {
        ps->p = start;
        fail(ps, "unsupported string escape sequence: \\%c", bad);
        return -1;
    }
    buf[len] = 0;
    out->s = buf;
    out->len = (size_t)len;
    return 1;
}

/* field := FIELDNAME [ "[" (QUOTED | ARGBARE) "]" ] */
static ast_value *parse_field_remainder(parser *ps, const char *name_start, size_t name_len)
{
    if (!enter(ps))
        return NULL;
    ast_value *v = new(ps, sizeof *v);
    if (!v)
        return NULL;
    v->kind = AV_FIELD;
    v->pos = (uint32_t)(name_start - ps->text);
    v->name = dup(ps, name_start, name_len);
    if (lex_str(&ps->p, "[")) {
        const char *arg = ps->p;
        if (!lex_quoted(&ps->p) && !lex_field_arg_bare(&ps->p))
            return fail(ps, "expected a valid field argument: a quoted string or a bare string");
        size_t arglen = (size_t)(ps->p - arg);
        token(ps, arg);
        if (!lex_str(&ps->p, "]"))
            return fail(ps, "expected a ']' token");
        v->arg = dup(ps, arg, arglen);
    }
    v->text = dup(ps, name_start, (size_t)(ps->p - name_start));
    v->textlen = (size_t)(ps->p - name_start);
    ps->depth--;
    return ps->failed ? NULL : v;
}

static const char *const transformers[] = {"tolower(", "toupper(", "b64(", "basename(", "len(", NULL};

static const char *lex_transformer(parser *ps)
{
    for (int i = 0; transformers[i]; i++) {
        if (lex_str(&ps->p, transformers[i])) {
            size_t n = strlen(transformers[i]) - 1;
            return dup(ps, transformers[i], n);
        }
    }
    return NULL;
}

static ast_value *new_transform(parser *ps, const char *name, uint32_t pos, size_t nargs)
{
    ast_value *t = new(ps, sizeof *t);
    if (!t)
        return NULL;
    t->kind = AV_TRANSFORM;
    t->name = name;
    t->pos = pos;
    t->args = new(ps, (nargs ? nargs : 1) * sizeof *t->args);
    t->nargs = nargs;
    return t->args ? t : NULL;
}

/* join_item := field | transformer | QUOTED | NUMBER */
static ast_value *parse_join_item(parser *ps)
{
    lex_blank(&ps->p);
    const char *start = ps->p;
    ast_value *v = parse_transformer_or_val(ps, 0);
    if (v || ps->failed)
        return v;
    if (lex_field_name(&ps->p))
        return parse_field_remainder(ps, start, (size_t)(ps->p - start));
    ast_str s;
    int q = parse_quoted(ps, &s);
    if (q < 0)
        return NULL;
    if (!q && (lex_hex(&ps->p) || lex_number(&ps->p))) {
        s.s = dup(ps, start, (size_t)(ps->p - start));
        s.len = (size_t)(ps->p - start);
        q = 1;
    }
    if (!q)
        return fail(ps, "expected a field, a transformer, a quoted string or a number");
    if (!(v = new(ps, sizeof *v)))
        return NULL;
    v->kind = AV_STRING;
    v->str = s;
    v->pos = (uint32_t)(start - ps->text);
    return v;
}

/* join := "join(" QUOTED "," "(" [ join_item { "," join_item } ] ")" ")" */
static ast_value *parse_join(parser *ps, uint32_t pos)
{
    lex_blank(&ps->p);
    ast_str sep;
    if (parse_quoted(ps, &sep) != 1)
        return ps->failed ? NULL : fail(ps, "expected a quoted separator in 'join'");
    lex_blank(&ps->p);
    if (!lex_str(&ps->p, ","))
        return fail(ps, "expected ',' after the 'join' separator");
    lex_blank(&ps->p);
    if (!lex_str(&ps->p, "("))
        return fail(ps, "expected a '(' token");
    ast_value *items[64];
    size_t n = 0;
    lex_blank(&ps->p);
    if (!lex_str(&ps->p, ")")) {
        for (;;) {
            if (n == 64)
                return fail(ps, "too many 'join' operands");
            if (!(items[n++] = parse_join_item(ps)))
                return NULL;
            lex_blank(&ps->p);
            if (lex_str(&ps->p, ","))
                continue;
            if (lex_str(&ps->p, ")"))
                break;
            return fail(ps, "expected ',' or ')' in 'join' operands");
        }
    }
    lex_blank(&ps->p);
    if (!lex_str(&ps->p, ")"))
        return fail(ps, "expected a ')' token closing the transformer");
    ast_value *t = new_transform(ps, "join", pos, n);
    if (!t)
        return NULL;
    memcpy(t->args, items, n * sizeof *items);
    t->str = sep;
    return t;
}

/* getopt := "getopt(" field "," QUOTED ")" [ "[" (QUOTED | ARGBARE) "]" ] */
static ast_value *parse_getopt(parser *ps, uint32_t pos)
{
    lex_blank(&ps->p);
    const char *start = ps->p;
    if (!lex_field_name(&ps->p))
        return fail(ps, "expected a field within 'getopt' transformer");
    ast_value *f = parse_field_remainder(ps, start, (size_t)(ps->p - start));
    if (!f)
        return NULL;
    lex_blank(&ps->p);
    if (!lex_str(&ps->p, ","))
        return fail(ps, "expected ',' in 'getopt'");
    lex_blank(&ps->p);
    ast_str opts;
    if (parse_quoted(ps, &opts) != 1)
        return ps->failed ? NULL : fail(ps, "expected a quoted option string in 'getopt'");
    lex_blank(&ps->p);
    if (!lex_str(&ps->p, ")"))
        return fail(ps, "expected a ')' token closing the transformer");
    ast_value *t = new_transform(ps, "getopt", pos, 1);
    if (!t)
        return NULL;
    t->args[0] = f;
    t->str = opts;
    if (lex_str(&ps->p, "[")) {
        const char *arg = ps->p;
        if (!lex_quoted(&ps->p) && !lex_field_arg_bare(&ps->p))
            return fail(ps, "expected a valid field argument: a quoted string or a bare string");
        size_t arglen = (size_t)(ps->p - arg);
        if (!lex_str(&ps->p, "]"))
            return fail(ps, "expected a ']' token");
        t->arg = dup(ps, arg, arglen);
    }
    return t;
}

/* transformer_rest := ( transformer_rest' | field ) ")"   after "name(" */
static ast_value *parse_transformer_remainder(parser *ps, const char *name, uint32_t pos)
{
    if (!enter(ps))
        return NULL;
    lex_blank(&ps->p);
    const char *start = ps->p;
    ast_value *child = parse_transformer_or_val(ps, 0);
    if (ps->failed)
        return NULL;
    if (!child && lex_field_name(&ps->p))
        child = parse_field_remainder(ps, start, (size_t)(ps->p - start));
    if (ps->failed)
        return NULL;
    if (!child)
        return fail(ps, "expected a field or a nested valid transformer: 'val', 'tolower', 'toupper', "
                        "'b64', 'basename', 'len'");
    lex_blank(&ps->p);
    if (!lex_str(&ps->p, ")"))
        return fail(ps, "expected a ')' token closing the transformer");
    token(ps, start);
    ast_value *t = new_transform(ps, name, pos, 1);
    if (!t)
        return NULL;
    t->args[0] = child;
    ps->depth--;
    return t;
}

/* transformer_or_val := "val(" field ")" | TRANSFORMER "(" ... ")" | join | getopt
 * Returns NULL without error when none starts here. */
static ast_value *parse_transformer_or_val(parser *ps, int allow_val)
{
    lex_blank(&ps->p);
    const char *start = ps->p;
    uint32_t pos = (uint32_t)(start - ps->text);
    if (allow_val && lex_str(&ps->p, "val(")) {
        lex_blank(&ps->p);
        const char *f = ps->p;
        if (!lex_field_name(&ps->p))
            return fail(ps, "expected a field within 'val' transformer");
        ast_value *field = parse_field_remainder(ps, f, (size_t)(ps->p - f));
        if (!field)
            return NULL;
        lex_blank(&ps->p);
        if (!lex_str(&ps->p, ")"))
            return fail(ps, "expected a ')' token closing the transformer");
        ast_value *t = new_transform(ps, "val", pos, 1);
        if (t)
            t->args[0] = field;
        return t;
    }
    if (lex_str(&ps->p, "join("))
        return parse_join(ps, pos);
    if (lex_str(&ps->p, "getopt("))
        return parse_getopt(ps, pos);
    const char *name = lex_transformer(ps);
    if (!name)
        return NULL;
    return parse_transformer_remainder(ps, name, pos);
}

static ast_value *new_string(parser *ps, const char *s, size_t n, uint32_t pos, int quoted)
{
    ast_value *v = new(ps, sizeof *v);
    if (!v)
        return NULL;
    v->kind = AV_STRING;
    v->pos = pos;
    v->str.s = quoted ? s : dup(ps, s, n);
    v->str.len = n;
    v->quoted = quoted;
    return v;
}

/* str_value := QUOTED | BARESTR */
static ast_value *parse_str_value(parser *ps)
{
    lex_blank(&ps->p);
    const char *start = ps->p;
    uint32_t pos = (uint32_t)(start - ps->text);
    ast_str s;
    int q = parse_quoted(ps, &s);
    if (q < 0)
        return NULL;
    if (q)
        return new_string(ps, s.s, s.len, pos, 1);
    if (lex_bare_str(&ps->p)) {
        token(ps, start);
        return new_string(ps, start, (size_t)(ps->p - start), pos, 0);
    }
    return NULL;
}

/* list := "(" [ str_value { "," str_value } ] ")" | IDENT */
static ast_value *parse_list_value(parser *ps, int allow_transformer)
{
    lex_blank(&ps->p);
    const char *start = ps->p;
    uint32_t pos = (uint32_t)(start - ps->text);
    if (lex_str(&ps->p, "(")) {
        ast_str *items = NULL;
        size_t n = 0, cap = 0;
        lex_blank(&ps->p);
        ast_value *v = parse_str_value(ps);
        if (ps->failed)
            return NULL;
        while (v) {
            if (n == cap) { /* grow in the arena; the old copy is abandoned there */
                cap = cap ? cap * 2 : 8;
                ast_str *grown = new(ps, cap * sizeof *grown);
                if (!grown)
                    return NULL;
                if (n)
                    memcpy(grown, items, n * sizeof *items);
                items = grown;
            }
            items[n++] = v->str;
            lex_blank(&ps->p);
            if (!lex_str(&ps->p, ","))
                break;
            if (!(v = parse_str_value(ps)))
                return ps->failed ? NULL : fail(ps, "expected a string value");
        }
        if (!lex_str(&ps->p, ")"))
            return fail(ps, "expected a ')' token");
        token(ps, start);
        ast_value *l = new(ps, sizeof *l);
        if (!l)
            return NULL;
        l->kind = AV_LIST;
        l->pos = pos;
        l->nitems = n;
        l->items = items;
        return l;
    }
    if (allow_transformer) {
        ast_value *t = parse_transformer_or_val(ps, 1);
        if (t || ps->failed)
            return t;
    }
    if (lex_identifier(&ps->p)) {
        token(ps, start);
        /* A bare identifier as a list is one value (lists are substituted
         * textually before parsing, so a defined list never gets here). */
        ast_value *l = new(ps, sizeof *l);
        if (!l || !(l->items = new(ps, sizeof *l->items)))
            return NULL;
        l->kind = AV_LIST;
        l->pos = pos;
        l->nitems = 1;
        l->items[0].s = dup(ps, start, (size_t)(ps->p - start));
        l->items[0].len = (size_t)(ps->p - start);
        return l;
    }
    return fail(ps, "expected a list, an identifier, or a field with a valid transformer");
}

/* MODIFIER := ("oneof" | "anyof" | "allof") BLANK+ followed by "(" or an
 * identifier other than and/or/not.  Returns MOD_NONE (nothing consumed)
 * when the word is not used as a modifier here. */
static cmp_mod lex_modifier(parser *ps)
{
    static const struct {
        const char *w;
        cmp_mod m;
    } mods[] = {{"oneof", MOD_ONEOF}, {"anyof", MOD_ANYOF}, {"allof", MOD_ALLOF}};
    for (size_t i = 0; i < 3; i++) {
        const char *p = ps->p;
        if (!lex_str(&p, mods[i].w) || !lex_blank(&p))
            continue;
        if (*p == '(') {
            ps->p = p;
            return mods[i].m;
        }
        const char *id = p;
        size_t n = lex_identifier(&p);
        if (!n)
            continue;
        if ((n == 3 && (!strncmp(id, "and", 3) || !strncmp(id, "not", 3))) || (n == 2 && !strncmp(id, "or", 2)))
            continue;
        ps->p = id;
        return mods[i].m;
    }
    return MOD_NONE;
}

/* condition := "exists"
 *            | NUMOP  (NUMBER | HEX | transformer | "val(" field ")")
 *            | STROP  [MODIFIER list | STRING | transformer | "val(" field ")"]
 *            | LISTOP (list | transformer | "val(" field ")") */
static ast *parse_condition(parser *ps, ast_value *lhs, uint32_t pos)
{
    if (!enter(ps))
        return NULL;
    lex_blank(&ps->p);
    const char *start = ps->p;
    int op = -1;
    for (int i = 0; i < OP__COUNT; i++) {
        const char *p = ps->p;
        if (!lex_str(&p, op_table[i].text))
            continue;
        if (op_table[i].needs_blank && !CC(*p, CC_BLANK))
            continue;
        ps->p = p;
        op = i;
        break;
    }
    if (op < 0)
        return fail(ps, "expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', '=', "
                        "'!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', "
                        "'bstartswith', 'endswith', 'regex', 'intersects', 'in', 'pmatch'");
    token(ps, start);
    ast *n = new_node(ps, A_CHECK, pos);
    if (!n)
        return NULL;
    n->lhs = lhs;
    n->op = op == OP_EQ1 ? OP_EQ : (cmp_op)op;
    switch (op_table[op].cls) {
    case OPC_U:
        break;
    case OPC_N: {
        lex_blank(&ps->p);
        const char *v = ps->p;
        if (!(n->rhs = parse_transformer_or_val(ps, 1))) {
            if (ps->failed)
                return NULL;
            if (!lex_hex(&ps->p) && !lex_number(&ps->p))
                return fail(ps, "expected a number value or a field with a valid transformer");
            token(ps, v);
            n->rhs = new_string(ps, v, (size_t)(ps->p - v), (uint32_t)(v - ps->text), 0);
        }
        break;
    }
    case OPC_S: {
        const char *before = ps->p;
        if (lex_blank(&ps->p) && (n->mod = lex_modifier(ps)) != MOD_NONE) {
            n->rhs = parse_list_value(ps, 0);
            break;
        }
        ps->p = before;
        lex_blank(&ps->p);
        if (!(n->rhs = parse_transformer_or_val(ps, 1))) {
            if (ps->failed)
                return NULL;
            if (!(n->rhs = parse_str_value(ps)))
                return ps->failed ? NULL
                                  : fail(ps, "expected a string value or a field with a valid transformer");
        }
        break;
    }
    case OPC_L:
        n->rhs = parse_list_value(ps, 1);
        break;
    }
    ps->depth--;
    return ps->failed ? NULL : n;
}

/* check := "(" expr ")" | field condition | transformer condition | IDENT */
static ast *parse_check(parser *ps)
{
    if (!enter(ps))
        return NULL;
    lex_blank(&ps->p);
    const char *start = ps->p;
    uint32_t pos = (uint32_t)(start - ps->text);
    ast *r;
    if (lex_str(&ps->p, "(")) {
        r = parse_or(ps);
        if (!r)
            return NULL;
        lex_blank(&ps->p);
        if (!lex_str(&ps->p, ")"))
            return fail(ps, "expected a ')' token");
    } else if (lex_field_name(&ps->p)) {
        token(ps, start);
        ast_value *lhs = parse_field_remainder(ps, start, (size_t)(ps->p - start));
        r = lhs ? parse_condition(ps, lhs, pos) : NULL;
    } else {
        ast_value *lhs = parse_transformer_or_val(ps, 0);
        if (lhs) {
            r = parse_condition(ps, lhs, pos);
        } else if (ps->failed) {
            return NULL;
        } else if (lex_identifier(&ps->p)) {
            token(ps, start);
            if ((r = new_node(ps, A_MACRO, pos)))
                r->name = dup(ps, start, (size_t)(ps->p - start));
        } else {
            return fail(ps, "expected a '(' token, a field check, or an identifier");
        }
    }
    ps->depth--;
    return ps->failed ? NULL : r;
}

/* not := { "not" BLANK+ } ( "not(" expr ")" | check ) */
static ast *parse_not(parser *ps)
{
    if (!enter(ps))
        return NULL;
    lex_blank(&ps->p);
    uint32_t pos = (uint32_t)(ps->p - ps->text);
    int negate = 0;
    for (;;) {
        const char *p = ps->p;
        if (lex_str(&p, "not") && lex_blank(&p)) {
            ps->p = p;
            negate = !negate;
            continue;
        }
        break;
    }
    ast *child;
    if (lex_str(&ps->p, "not(")) {
        negate = !negate;
        child = parse_or(ps);
        if (!child)
            return NULL;
        lex_blank(&ps->p);
        if (!lex_str(&ps->p, ")"))
            return fail(ps, "expected a ')' token");
    } else {
        child = parse_check(ps);
    }
    if (!child)
        return NULL;
    ps->depth--;
    if (!negate)
        return child;
    ast *n = new_node(ps, A_NOT, pos);
    if (!n || !(n->kids = new(ps, sizeof *n->kids)))
        return NULL;
    n->kids[0] = child;
    n->n = 1;
    return n;
}

/* Shared loop of and/or: first { KEYWORD (BLANK sub | "(" expr ")") } */
static ast *parse_chain(parser *ps, const char *kw, ast_kind kind, ast *(*sub)(parser *))
{
    if (!enter(ps))
        return NULL;
    lex_blank(&ps->p);
    uint32_t pos = (uint32_t)(ps->p - ps->text);
    kids k = {0};
    ast *first = sub(ps);
    if (!first || !kids_push(ps, &k, first))
        return NULL;
    lex_blank(&ps->p);
    while (lex_str(&ps->p, kw)) {
        ast *child;
        if (lex_blank(&ps->p)) {
            child = sub(ps);
        } else if (lex_str(&ps->p, "(")) {
            child = parse_or(ps);
            if (child) {
                lex_blank(&ps->p);
                if (!lex_str(&ps->p, ")"))
                    return fail(ps, "expected a ')' token");
            }
        } else {
            return fail(ps, "expected blank or '(' after '%s'", kw);
        }
        if (!child || !kids_push(ps, &k, child))
            return NULL;
        lex_blank(&ps->p);
    }
    ps->depth--;
    if (k.n == 1)
        return first;
    ast *n = new_node(ps, kind, pos);
    if (n) {
        n->kids = k.v;
        n->n = k.n;
    }
    return n;
}

/* and := not { "and" (BLANK not | "(" expr ")") } */
static ast *parse_and(parser *ps) { return parse_chain(ps, "and", A_AND, parse_not); }

/* or := and { "or" (BLANK and | "(" expr ")") } */
static ast *parse_or(parser *ps) { return parse_chain(ps, "or", A_OR, parse_and); }

/* expr := or, consuming the whole text */
ast *cond_parse(const char *text, arena *a, unsigned max_depth, cond_error *err)
{
    parser ps = {.text = text, .p = text, .a = a, .max_depth = max_depth, .err = err};
    err->pos = 0;
    err->msg[0] = 0;
    if (!*text) {
        fail(&ps, "filter input string is empty");
        return NULL;
    }
    ast *r = parse_or(&ps);
    if (!r)
        return NULL;
    if (*ps.p) {
        fail(&ps, "unexpected token after '%.*s', expecting 'or', 'and'", (int)ps.lastlen, ps.last ? ps.last : "");
        return NULL;
    }
    return r;
}
