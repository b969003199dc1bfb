/*
 * compiled — the compiled form of conditions and output templates, shared
 * by the compiler (compile.c, output_template.c), the evaluator (eval.c)
 * and the alert formatter (output/alert.c).  Everything here lives in the ruleset's arena and is
 * read-only after loading.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_COMPILED_H
#define PEREGRINE_COMPILED_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "fields/fields.h"
#include "rules/ast.h"
#include "rules/ruleset.h"
#include "util/arena.h"

/* A set of strings for `in`/`intersects`/`pmatch` (open addressing). */
typedef struct strset {
    fval *slots;            /* s == NULL: empty slot */
    size_t mask;            /* capacity - 1 (power of two) */
    fval *items;            /* in list order, for pmatch and modifiers */
    size_t n;
    uint64_t lens;          /* bit (len % 64) set for each item's length */
} strset;

bool strset_has(const strset *s, const char *p, size_t n);
/* A set of copies of items (in arena a); NULL when out of memory. */
strset *strset_build(arena *a, const ast_str *items, size_t n);

typedef enum transform_kind { TF_NONE, TF_TOLOWER, TF_TOUPPER, TF_B64, TF_BASENAME, TF_LEN, TF_VAL } transform_kind;

/* A value expression: a field, or a transformer applied to one. */
typedef struct cexpr cexpr;
struct cexpr {
    transform_kind tf;      /* TF_NONE: a plain field */
    cexpr *arg;             /* transformer operand */
    field_ref ref;          /* TF_NONE */
    uint32_t slot;          /* TF_NONE: per-event cache slot */
    bool is_list;           /* yields a list of values */
    bool numeric;           /* values are numbers (uint64 fields, len()) */
    const char *text;       /* as written, e.g. "ka.uri.param[command]" */
};

typedef enum cnode_kind { CN_AND, CN_OR, CN_NOT, CN_CHECK, CN_TRUE, CN_FALSE } cnode_kind;

typedef struct cnode cnode;
struct cnode {
    cnode_kind kind;
    cmp_op op;
    cmp_mod mod;
    cnode **kids;
    size_t n;
    cexpr *lhs;
    /* right-hand side, one of: */
    fval str;               /* single literal (string ops) */
    uint64_t num;           /* numeric literal when lhs->numeric */
    strset *set;            /* in / intersects / pmatch / modifiers */
    cexpr *rhs;             /* val(field) or a transformer */
    pcre2_code *re;         /* regex */
    /* CN_CHECK: the same check (same operands, operator and right-hand
     * side) gets the same number in the whole ruleset, so the evaluator
     * computes it once per event however many rules' macros repeat it
     * (`kevt` starts most rules). */
    uint32_t memo;
};

/*
 * A rule's condition as a program (program.c): one step per check, whose
 * outcome names the next step or the verdict.  `and`, `or` and `not`
 * become jump targets when the program is built (short-circuit code
 * generation), so the evaluator runs a loop with no recursion and no
 * dispatch on node kinds.  The cnode tree stays for the rule index, which
 * reasons about its shape.
 */
#define CPROG_TRUE UINT32_MAX
#define CPROG_FALSE (UINT32_MAX - 1)

typedef struct cstep {
    const cnode *check;     /* a CN_CHECK node */
    uint32_t memo;          /* check->memo, next to the targets */
    uint32_t on_true;       /* the next step, or CPROG_TRUE / CPROG_FALSE */
    uint32_t on_false;
} cstep;

typedef struct cprog {
    cstep *steps;           /* in the ruleset's arena */
    uint32_t nsteps;
    uint32_t entry;         /* the first step, or the verdict of a constant condition */
} cprog;

/* Build the program of condition cond, its steps allocated in a.
 * Returns 0, or -ENOMEM. */
int cprog_build(const cnode *cond, arena *a, cprog *out);

/* Output template: literal text and field segments (24 bytes: one per
 * literal or field of every rule's output). */
typedef struct fmt_seg {
    const char *lit;        /* literal text (not NUL-terminated) or NULL */
    cexpr *expr;            /* field segment */
    uint32_t litlen;
    uint16_t width;         /* %Nfield: pad/truncate to N bytes (<= 65535); 0 = none */
    uint8_t corr;           /* a %corr.* field of a correlation's output
                             * (corr_field, rules/correlation.h); expr NULL */
} fmt_seg;

typedef struct fmt_template {
    fmt_seg *segs;
    size_t n;
    const char *text;       /* the template as written; literal segments point into it */
} fmt_template;

/* Index of candidate rules per (verb, resource) class (see index.c). */
typedef struct rule_index rule_index;

typedef struct crule {
    rule_info info;
    cnode *cond;
    cprog prog;             /* cond as run by the evaluator */
    fmt_template out;
    bool active;            /* enabled and at or above the priority threshold */
    bool corr_active;       /* the same for a correlation (run by the stage) */
    struct ccorr *corr;     /* a correlation (rules/correlation.h): never
                             * matched per event, active == false */
    struct csuppress *sup;  /* a plain rule's `suppress:`, or NULL */
} crule;

struct ruleset {
    arena arena;
    crule *rules;
    size_t nrules;
    uint32_t nslots;        /* distinct field references (cache size) */
    uint32_t nmemo;         /* distinct checks (cnode.memo) */
    cexpr **slot_expr;      /* slot -> its field expression */
    rule_index *index;      /* the rules the prefilter does not anchor */
    struct prefilter *prefilter; /* the others (prefilter.h); NULL: none, or reference */
    uint32_t *corr_rules;   /* the enabled correlations, in rule order */
    /* Their steps (and untils) as index entries: for each correlation in
     * rule order, its steps last to first, then its until; corr_index
     * lists the entries an event's verb and resource allow, in that order. */
    struct corr_step_ref *corr_steps;
    size_t ncorr_steps;
    rule_index *corr_index;
    cexpr *corr_fx[4];      /* ka.auditid, ka.stage, ka.verb, ka.target.resource:
                             * what a correlation hit records (cached per event) */
    size_t ncorr;
    bool reference;         /* rule_evaluation: reference (loader_opts.reference) */
    bool has_state;         /* a correlation or a suppress: the ordered stage runs */
    uint64_t serial;        /* unique per compiled ruleset (the stage follows reloads by it) */
    int required_engine;    /* highest required_engine_version seen (minor) */
    /* Every regex compiled, also those of a rule that then failed to
     * compile (so none leaks); pg_malloc'd, freed by ruleset_free. */
    pcre2_code **regexes;
    size_t nregexes, capregexes;
};

/* Compile a value expression from its AST (shared with the formatter). */
typedef struct compiler compiler;
cexpr *compile_expr(compiler *c, const ast_value *v, char *err, size_t errlen);
/* Compile an output template (its literals point into its copy of text). */
int compile_format(compiler *c, const char *text, fmt_template *out, char *err, size_t errlen);

/* Build the rule index once all rules are compiled, over the active
 * rules not skipped (skip: nrules flags, or NULL).  For a skipped rule,
 * skipped(ctx, cell, rule) (if given) is told each cell (below) the rule
 * can match in; non-zero from it fails the build. */
typedef int (*index_visit)(void *ctx, size_t cell, uint32_t rule);
rule_index *index_build(ruleset *rs, const bool *skip, index_visit skipped, void *ctx);
/* The expressions whose values select an event's candidate rules
 * (ka.verb, ka.target.resource), or NULL when no rule constrains them. */
const cexpr *index_key_expr(const rule_index *ix, int which);
/* Candidate rules (indices of active rules, in rule order) for an event
 * whose key values are keys[0], keys[1] (NULL = missing). */
size_t index_candidates(const rule_index *ix, const fval *const keys[2], const uint32_t **rules);
/* The same in two steps: an event's cell (one per pair of key classes,
 * index_cells() of them), then the cell's candidate rules. */
size_t index_cells(const rule_index *ix);
size_t index_cell(const rule_index *ix, const fval *const keys[2]);
size_t index_cell_rules(const rule_index *ix, size_t cell, const uint32_t **rules);
void index_free(rule_index *ix);

#endif
