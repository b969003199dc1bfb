/*
 * ytree — a YAML document as a small tree with source positions, built
 * with libyaml.  Rules files and falco.yaml are read through it, so every
 * error can name file:line:col.
 *
 * Anchors and aliases are resolved (an alias points at the anchored node).
 * Several documents per stream are kept in order.
 *
 * Ownership: ytree_load() returns a ytree the caller frees with
 * ytree_free(); every node and string belongs to the tree.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_YTREE_H
#define PEREGRINE_YTREE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ynode_kind { Y_NULL, Y_SCALAR, Y_SEQ, Y_MAP } ynode_kind;

typedef struct ynode ynode;
struct ynode {
    ynode_kind kind;
    int line, col;          /* 1-based */
    char *str;              /* Y_SCALAR: value (NUL-terminated) */
    size_t len;
    bool quoted;            /* scalar was quoted (so "null" is a string) */
    ynode **items;          /* Y_SEQ: items; Y_MAP: key0, value0, key1, value1 ... */
    size_t n;               /* items (Y_MAP: 2 * pairs) */
};

typedef struct ytree {
    ynode **docs;           /* document roots (Y_NULL for an empty document) */
    size_t ndocs;
    struct yarena *arena;
} ytree;

/* Parse YAML text.  Returns NULL on error with "line:col: message" in err. */
ytree *ytree_load(const char *text, size_t len, char *err, size_t errlen);
void ytree_free(ytree *t);

/* The same parse, one top-level item at a time, so that a large file
 * never has all its nodes in memory: for each document whose root is a
 * sequence, fn(ctx, root, item) for each item, the root given without
 * its items (n == 0); for any other document, fn(ctx, root, NULL).  The
 * item's nodes (and those of a non-sequence root) are released when fn
 * returns, unless the document has anchors.  After fn returns non-zero it
 * is not called again, but the rest of the text is still parsed, so that
 * a YAML error anywhere in it is found as ytree_load finds it.  Returns
 * -1 with "line:col: message" in err on a YAML error, else fn's first
 * non-zero return, else 0. */
typedef int (*ytree_item_fn)(void *ctx, const ynode *doc, const ynode *item);
int ytree_each_item(const char *text, size_t len, ytree_item_fn fn, void *ctx, char *err, size_t errlen);

/* Map lookup (first match); NULL if absent or m is not a map. */
ynode *ymap_get(const ynode *m, const char *key);
/* Scalar helpers. */
bool yscalar_is(const ynode *n, const char *s);
/* YAML 1.1 booleans (true/false/yes/no/on/off, any case variant yaml-cpp
 * accepts).  Returns 0 and *out, or -1 if the scalar is not a boolean. */
int yscalar_bool(const ynode *n, bool *out);

struct buf;
/* Append node n as compact JSON: maps → objects (keys as strings),
 * sequences → arrays, plain scalars resolved like YAML 1.1's core types
 * (null / ~ / empty → null, true/false/yes/no/on/off → booleans, decimal
 * integers and floats → numbers), everything else, and every quoted
 * scalar, → a string.  Used for audit events written as YAML in rule test
 * cases. */
void ynode_to_json(const ynode *n, struct buf *out);

#endif
