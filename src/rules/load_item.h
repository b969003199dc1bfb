/*
 * load_item — the loader's parts (loader.c, load_*.c, exceptions.c) and
 * the helpers every item uses.  Private to rules/.
 *
 * Errors: item_err records a load error with the item's place
 * (file:line:col) and returns -1; a load_* function returns 0 or -1 with
 * its message already in the load_result.
 * Ownership: strings stored into the collection are pg_malloc'd copies;
 * the YAML tree is borrowed for the call.
 */
#ifndef PEREGRINE_LOAD_ITEM_H
#define PEREGRINE_LOAD_ITEM_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/collection.h"
#include "yaml/ytree.h"

struct rule_loader {
    collection coll;
    loader_opts opts;
};

typedef struct item_ctx {
    load_result *res;
    char *file;
    const ynode *item;
    char label[300];       /* "rule 'X'" for messages */
} item_ctx;

where item_at(item_ctx *x, const ynode *n);
/* A load error / warning at node n (NULL: the item). */
int item_err(item_ctx *x, const ynode *n, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void item_warn(item_ctx *x, const ynode *n, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int item_str(item_ctx *x, const char *key, bool required, const char **out);
int item_bool(item_ctx *x, const char *key, bool *out, bool *given);
char *item_concat(char *old, const char *add);
int item_set_str(char **dst, const char *s);
int item_append_str(char **dst, const char *s);
void item_check_keys(item_ctx *x, const char *const *known);

/* override: {key: append|replace}.  Fills ops[key] = 'a' / 'r'. */
typedef struct override_spec {
    const char *key;
    char op;
} override_spec;

int item_override(item_ctx *x, override_spec *ops, size_t *nops, const char *const *appendable,
                  const char *const *replaceable);
char item_override_op(const override_spec *ops, size_t n, const char *key);

/* An item's `append:` and `override:` keys (the keys each may name), and
 * the error when both are given.  0 or -1. */
typedef struct item_mode {
    bool append, append_given;
    override_spec ops[32];
    size_t nops;
} item_mode;
int item_mode_parse(item_ctx *x, const char *const *appendable, const char *const *replaceable, item_mode *m);

/* The one upsert of lists, macros and rules: the item named `name` among
 * the *n items of `elem` bytes at arr (each struct begins with its name,
 * a char *), found through ix, or else a zeroed one appended with a copy
 * of the name and added to ix (*created set).  The array may move: the
 * caller stores *arr_out.  NULL after recording an out-of-memory error. */
void *item_upsert(item_ctx *x, name_index *ix, void *arr, size_t *n, size_t *cap, size_t elem, const char *name,
                  void **arr_out, bool *created);

int load_engine_version(rule_loader *l, item_ctx *x);
int load_plugin_versions(item_ctx *x);
int load_list(rule_loader *l, item_ctx *x);
int load_macro(rule_loader *l, item_ctx *x);
int load_rule(rule_loader *l, item_ctx *x);
/* A rule emptied for a redefinition, keeping its name and position. */
void rule_clear(l_rule *r);
/* load_correlation.c: a `correlation:` item's keys (load_rule dispatches). */
extern const char *const corr_rule_keys[];
int load_correlation(collection *c, item_ctx *x, l_rule *r, const char *name, const char *cond, const char *output,
                     const char *desc, int prio, const char *source, bool enabled);
int load_correlation_update(item_ctx *x, l_rule *r, const char *cond, const override_spec *ops, size_t nops,
                            bool append, const ynode *exc);
int load_tags(item_ctx *x, strvec *tags);
/* A rule's exceptions from `seq` (appended to r's when append). */
int load_exceptions(item_ctx *x, l_rule *r, const ynode *seq, bool append);

#endif
