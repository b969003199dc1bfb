/*
 * collection — the rules-file items gathered by the loader before
 * compilation (lists, macros, rules with their exceptions), shared by
 * loader.c (YAML → items, append/override) and compile.c (items →
 * ruleset).  Strings are owned by the collection (pg_malloc'd).
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_COLLECTION_H
#define PEREGRINE_COLLECTION_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/ast.h"
#include "rules/name_index.h"
#include "rules/ruleset.h"
#include "util/strvec.h"

typedef struct where {
    char *file;             /* shared, owned by the loader's file list */
    int line, col;
} where;

typedef struct l_list {
    char *name;
    strvec items;
    int first, last;        /* definition order of first / last (re)definition */
    where at;
    bool used;
} l_list;

typedef struct l_macro {
    char *name;
    char *cond;
    int first, last;
    where at;
    bool used;
    ast *tree;              /* parsed at compile time */
    int visit;              /* cycle detection */
} l_macro;

/* One exception value element: a scalar or a list of scalars. */
typedef struct exc_val {
    bool is_list;
    strvec items;           /* scalar: items.v[0] */
} exc_val;

typedef struct l_exception {
    char *name;
    strvec fields;
    bool fields_is_list;
    strvec comps;
    exc_val **tuples;       /* fields list: each tuple has fields.n elements */
    size_t *tuple_len;
    size_t ntuples;
    exc_val *scalars;       /* single field: the values */
    size_t nscalars;
    where at;
} l_exception;

typedef struct l_rule {
    char *name;
    char *cond;             /* NULL until given */
    char *output;
    char *desc;
    int prio;               /* -1 until given */
    char *source;           /* NULL = default (syscall) */
    bool enabled;
    strvec tags;
    l_exception *exc;
    size_t nexc;
    bool skip_unknown;
    int order;
    where at;
    struct l_corr *corr;    /* a `- correlation:` item (correlation_load.h), or NULL */
    struct l_suppress *sup; /* a rule's `suppress:`, or NULL */
} l_rule;

typedef struct collection {
    l_list *lists;
    size_t nlists, caplists;
    l_macro *macros;
    size_t nmacros, capmacros;
    l_rule *rules;
    size_t nrules, caprules;
    /* each array by name (items are never removed, names never change) */
    name_index list_ix, macro_ix, rule_ix;
    /* lists whose names hold a delimiter of the substitution (lists.c),
     * found when odd_for == nlists + 1 */
    uint32_t *odd;
    size_t nodd, odd_for;
    int seq;                /* definition counter */
    int required_engine;
    char **files;
    size_t nfiles;
} collection;

/* Room for one more of n items of `elem` bytes (doubling); NULL when out of memory. */
void *coll_grow(void *arr, size_t *cap, size_t n, size_t elem);
l_list *coll_find_list(collection *c, const char *name);
l_macro *coll_find_macro(collection *c, const char *name);
l_rule *coll_find_rule(collection *c, const char *name);

/* Add a message to a load result. */
void load_msg_add(load_result *r, bool error, const where *at, const char *code, const char *item,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Drop the messages after the first n, the counts back to errors and
 * warnings (load_result.c). */
void load_result_truncate(load_result *r, size_t n, size_t errors, size_t warnings);

/* Release one exception's strings (exceptions.c). */
void free_exception(l_exception *e);
/* Free what a rule owns but its name (the slot stays, emptied). */
void coll_free_rule_body(l_rule *r);

/* Release every item and file name; the collection is empty after. */
void collection_free(collection *c);

/* Lists naming earlier lists get their items inlined (lists.c).  0, or -1
 * with the error in res. */
int lists_expand(collection *c, load_result *res);
/* Condition text with list names replaced by their items (§5 of
 * docs/compat/rules.md); pg_malloc'd, NULL when out of memory. */
char *lists_substitute(collection *c, const char *text);
/* A rule's condition with its exceptions appended (exceptions.c);
 * pg_malloc'd, NULL when out of memory. */
char *rule_condition_text(const l_rule *r);

/* Compile the collection into a ruleset (collection_compile.c); the
 * collection is released (emptied) on the way, success or not. */
ruleset *collection_compile(collection *c, const loader_opts *opts, load_result *res);

#endif
