/*
 * compiler — the state shared by the parts of rule compilation inside
 * rules/ (compile.c: expressions and conditions; output_template.c;
 * collection_compile.c: the phases).  Private to rules/.
 *
 * Ownership: a compiler lives for one collection_compile() call; what it
 * builds goes into the ruleset's arena.  Errors follow util/error.h (cerr
 * writes err and returns -1 for the callers that test non-zero).
 */
#ifndef PEREGRINE_COMPILER_H
#define PEREGRINE_COMPILER_H

#include "rules/collection.h"
#include "rules/compiled.h"
#include "util/arena.h"
#include "util/buf.h"

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
        cnode *node;        /* the check's one node (compile_check) */
    } *memo_tab;            /* open addressing, key NULL = empty */
    size_t memo_cap;        /* power of two, > 2 * nmemo */
    uint32_t nmemo;
    uint32_t *memo_uses;    /* per check number: its occurrences in all conditions */
    size_t memo_uses_cap;
    arena memo_arena;
    buf memo_key;           /* scratch */
    /* Macro expansion budget: macros are expanded by compiling their tree
     * at every use, so nested macros used several times multiply (a chain
     * of 40 macros each using the previous one twice is 2^40 nodes), and
     * nested macros stack their depths.  Both are bounded so a hostile
     * rules file gets a load error instead of a hang or a stack overflow. */
    unsigned depth;
    size_t nodes;
    bool allow_corr;        /* compiling a correlation's output: %corr.* allowed */
    fmt_seg *fmt_scratch;   /* output template segments being gathered */
    size_t fmt_cap;
    /* Compiled output templates by text (rules generated from templates
     * repeat their outputs), and rule tags by text: each kept once. */
    struct fmt_ent {
        const char *text;   /* in the ruleset's arena */
        fmt_template t;
    } *fmts;
    size_t nfmts, capfmts;
    name_index fmt_ix;
    const char **tags;      /* in the ruleset's arena */
    size_t ntags, captags;
    name_index tag_ix;
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

typedef struct rule_scope {
    const char *rule;       /* for messages */
    bool unknown_field;     /* compile failed on an unknown field */
} rule_scope;

int cerr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The ruleset's one copy of a tag (NULL when out of memory). */
const char *ctag(compiler *c, const char *tag);
/* Zeroed memory in the ruleset's arena (NULL when out of memory). */
void *cnew(compiler *c, size_t n);
const char *cstrdup(compiler *c, const char *s, size_t n);
/* A field reference by its text, with its per-event cache slot. */
cexpr *field_expr(compiler *c, const char *text, size_t len, char *err, size_t errlen);
/* A condition tree, macros expanded. */
cnode *compile_node(compiler *c, const ast *a, rule_scope *sc, char *err, size_t errlen);

/* plan.c: every rule's and correlation step's program (cprog), its
 * checks first put cheapest-to-decide first unless rule_evaluation is
 * reference.  0 or -ENOMEM. */
int plan_programs(compiler *c);

/* correlation_compile.c: a correlation's output and conditions (its
 * crule's info is filled by the caller); the output text used, which is
 * a default for its type when it has none, in *output.  0 or -1 with err
 * and *code (LOAD_ERR_COMPILE_OUTPUT / _CONDITION). */
int correlation_compile(compiler *c, l_rule *r, crule *cr, rule_scope *sc, arena *ast_arena, const char **output,
                        const char **code, char *err, size_t errlen);
/* A plain rule's suppress: {by, for}.  0 or -1 with err. */
int suppress_compile(compiler *c, l_rule *r, crule *cr, char *err, size_t errlen);
/* After every rule: the enabled correlations' list and the serial.  0 or -1. */
int correlation_index(compiler *c, ruleset *rs);

#endif
