/*
 * ruleset — loading Falco rules files and the compiled, immutable rule set
 * the evaluator runs.
 *
 *   rule_loader *l = loader_new(&opts);
 *   loader_add_file(l, "a.yaml", &res);      // any number, in order
 *   ruleset *rs = loader_compile(l, &res);   // NULL on error (see res);
 *                                            // the loaded items are released
 *   loader_free(l);                          // rs stays valid
 *   ... ruleset_free(rs);
 *
 * Loading follows docs/compat/rules.md §1-§5: one shared collection for all
 * files, append/override, exceptions and lists substituted textually,
 * macros parsed once and expanded as subtrees, rules kept in definition
 * order.  Loading stops at the first error, as Falco does.  Messages carry
 * file:line:col and Falco's message class (LOAD_ERR_*, LOAD_*).
 *
 * Ownership: the loader owns the collection; the ruleset owns everything
 * compiled (one arena) and is read-only, so worker threads share it.
 * load_result owns its messages; free with load_result_free().
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_RULESET_H
#define PEREGRINE_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum priority {
    PRI_EMERGENCY, PRI_ALERT, PRI_CRITICAL, PRI_ERROR, PRI_WARNING, PRI_NOTICE, PRI_INFORMATIONAL, PRI_DEBUG,
    PRI__COUNT
} priority;

extern const char *const priority_names[PRI__COUNT];  /* "Emergency" ... "Debug" */
extern const char *const priority_short[PRI__COUNT];  /* "EMERGENCY" ... "INFO", "DEBUG" */
/* Case-insensitive; "info" is an alias of informational.  -1 if invalid. */
int priority_parse(const char *s);

typedef struct load_msg {
    bool error;
    char *file;
    int line, col;
    const char *code;       /* LOAD_ERR_YAML_VALIDATE, LOAD_UNUSED_MACRO, ... */
    char *item;             /* "rule 'X'", "macro 'Y'", or NULL */
    char *text;
} load_msg;

typedef struct load_result {
    load_msg *msgs;
    size_t n, cap;
    size_t errors, warnings;
} load_result;

void load_result_free(load_result *r);
/* Render every message (errors first) as Falco-like text. */
void load_result_print(const load_result *r, buf *out);

typedef struct loader_opts {
    priority min_priority;      /* rules below it are loaded but disabled */
    bool reference;             /* evaluate as written: no prefilter, no reordering of checks */
} loader_opts;

typedef struct rule_loader rule_loader;
typedef struct ruleset ruleset;

rule_loader *loader_new(const loader_opts *opts);
void loader_free(rule_loader *l);
/* Read one rules file (YAML text from `path`).  Returns 0 or -1 (error in res). */
int loader_add_file(rule_loader *l, const char *path, load_result *res);
/* Same, with the text given (path used for messages only). */
int loader_add_text(rule_loader *l, const char *path, const char *text, size_t len, load_result *res);
/* Compile all loaded items; they are released as compilation ends (call
 * once per loader). */
ruleset *loader_compile(rule_loader *l, load_result *res);

/* ---- the compiled rule set ---- */

typedef struct rule_info {
    const char *name;
    const char *desc;
    const char *output;        /* the output template text */
    priority prio;
    bool enabled;
    const char *const *tags;   /* sorted */
    size_t ntags;
} rule_info;

size_t ruleset_count(const ruleset *rs);
const rule_info *ruleset_rule(const ruleset *rs, size_t i);
/* Whether any condition or output reads field `field` (a field_id), e.g.
 * evt.num, whose value depends on the order events are evaluated in. */
bool ruleset_uses_field(const ruleset *rs, int field);
/* The first field read whose value depends on the order events are
 * numbered in (evt.num, evt.reltime*), or NULL. */
const char *ruleset_uses_order(const ruleset *rs);
/* Whether the ruleset has correlations or rules with `suppress:` (the
 * workers then collect hits, and the ordered stage keeps state). */
bool ruleset_has_state(const ruleset *rs);
/* Whether rule i carries `suppress:`. */
bool ruleset_rule_suppressed(const ruleset *rs, size_t i);
/* What a correlation or a suppress is, in one line (-L), or NULL. */
const char *ruleset_rule_summary(const ruleset *rs, size_t i);
/* Whether rule i is a correlation. */
bool ruleset_rule_is_correlation(const ruleset *rs, size_t i);
void ruleset_free(ruleset *rs);

#endif
