/*
 * ast — the parsed form of a condition (before macros are expanded and
 * fields resolved).  Produced by cond_parse, consumed by the compiler.
 *
 * Ownership: every node, string and array lives in the arena passed to
 * cond_parse(); nothing is freed individually.
 */
#ifndef PEREGRINE_AST_H
#define PEREGRINE_AST_H

#include <stddef.h>
#include <stdint.h>

typedef enum cmp_op {
#define OP(id, text, cls, blank) id,
#include "rules/ops.def"
#undef OP
    OP__COUNT
} cmp_op;

typedef enum op_class { OPC_U, OPC_N, OPC_S, OPC_L } op_class;

typedef struct op_info {
    const char *text;
    op_class cls;
    int needs_blank;
} op_info;

extern const op_info op_table[OP__COUNT];

typedef enum cmp_mod { MOD_NONE, MOD_ONEOF, MOD_ANYOF, MOD_ALLOF } cmp_mod;

typedef struct ast_str {
    const char *s;          /* unescaped, NUL-terminated */
    size_t len;
} ast_str;

/* The value side of a check: a field, a transformer over a value, a
 * literal string, or a literal list. */
typedef enum aval_kind { AV_FIELD, AV_TRANSFORM, AV_STRING, AV_LIST } aval_kind;

typedef struct ast_value ast_value;
struct ast_value {
    aval_kind kind;
    uint32_t pos;           /* offset in the condition text */
    /* AV_FIELD: text is "name" or "name[arg]" as the field layer expects */
    const char *name;       /* AV_FIELD: field name; AV_TRANSFORM: transformer name */
    const char *arg;        /* AV_FIELD, getopt(): raw argument text (quotes kept) or NULL */
    size_t textlen;         /* AV_FIELD: length of name[arg] as written */
    const char *text;       /* AV_FIELD: name[arg] as written */
    ast_value **args;       /* AV_TRANSFORM: operands (one, or several for join) */
    size_t nargs;
    ast_str str;            /* AV_STRING (also raw text of numbers) */
    ast_str *items;         /* AV_LIST */
    size_t nitems;
    int quoted;             /* AV_STRING: came from a quoted literal */
};

typedef enum ast_kind { A_AND, A_OR, A_NOT, A_CHECK, A_MACRO } ast_kind;

typedef struct ast ast;
struct ast {
    ast_kind kind;
    uint32_t pos;
    ast **kids;             /* A_AND, A_OR (n >= 2), A_NOT (n == 1) */
    size_t n;
    const char *name;       /* A_MACRO */
    ast_value *lhs;         /* A_CHECK */
    cmp_op op;
    cmp_mod mod;
    ast_value *rhs;         /* NULL for exists */
};

#endif
