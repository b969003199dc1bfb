/*
 * json — strict RFC 8259 parser into a flat node array ("tape"), in situ.
 *
 * A payload is parsed once.  Every value becomes one json_node that points
 * back into the source text (zero copy); strings keep their escapes until
 * someone asks for the decoded text (json_string_decode), which most field
 * comparisons never do.  Containers store the index of the node after their
 * subtree (`next`), so skipping a value is O(1) and members are walked
 * without recursion.
 *
 * Ownership: the caller owns the json_doc and the source text, which must
 * outlive the doc's use.  The node array belongs to the doc, grows on
 * demand, and is reused by the next json_parse() on the same doc; free it
 * with json_doc_free().
 *
 * Strictness: RFC 8259 grammar, UTF-8 validated (no overlongs, surrogates
 * or code points above U+10FFFF), escapes validated, no trailing garbage, no
 * BOM, nesting limited to doc->max_depth.  Duplicate keys are kept in
 * document order; lookups return the first, as upstream's fastjson does.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_JSON_H
#define PEREGRINE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum json_type {
    JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT
} json_type;

enum {
    JSON_F_ESCAPES = 1, /* string: contains backslash escapes */
    JSON_F_SPACE = 2,   /* container: insignificant whitespace inside */
};

typedef struct json_node {
    uint32_t start;  /* strings: first byte after the quote; others: first byte */
    uint32_t len;    /* strings: bytes between the quotes; others: raw length */
    uint32_t next;   /* index of the node following this value's subtree */
    uint8_t type;    /* json_type */
    uint8_t flags;   /* JSON_F_* */
    uint16_t unused;
} json_node;

#define JSON_DEFAULT_MAX_DEPTH 300 /* same as upstream's fastjson */
#define JSON_NONE UINT32_MAX       /* "no node" result of lookups */
#define JSON_ROOT_KEYS_MAX 64      /* a power of two (json_parse.c) */

typedef struct json_doc {
    const char *src;
    size_t src_len;
    json_node *nodes;
    uint32_t count, cap;
    unsigned max_depth;
    bool line_mode;         /* inside json_parse_line */
    /* When the root is an object: the key nodes of its members in document
     * order, root_keys[0 .. n_root_keys), complete when n_root_keys <=
     * JSON_ROOT_KEYS_MAX.  The parser notes them as it goes, so that
     * event_root_index can classify an event's members without walking
     * the `next` chain (each step of which waits for the last). */
    uint32_t root_keys[JSON_ROOT_KEYS_MAX];
    uint32_t n_root_keys;
    /* error details of the last failed parse */
    size_t err_pos;
    char err[160];
} json_doc;

void json_doc_init(json_doc *d);
void json_doc_free(json_doc *d);

/* Parse exactly one JSON value (surrounding whitespace allowed).
 * Returns 0, -EINVAL (syntax; d->err and d->err_pos tell why/where),
 * -E2BIG (input over 4 GiB) or -ENOMEM.  The root is node 0. */
int json_parse(json_doc *d, const char *src, size_t len);

static inline const json_node *json_at(const json_doc *d, uint32_t i) { return &d->nodes[i]; }
static inline json_type json_type_of(const json_doc *d, uint32_t i) { return (json_type)d->nodes[i].type; }

/* Children: the first child of container i (JSON_NONE if empty); the sibling after i. */
static inline uint32_t json_first(const json_doc *d, uint32_t i)
{
    return i + 1 < d->nodes[i].next ? i + 1 : JSON_NONE;
}
/* Next sibling of child c inside container i, or JSON_NONE. */
static inline uint32_t json_next(const json_doc *d, uint32_t parent, uint32_t c)
{
    uint32_t n = d->nodes[c].next;
    return n < d->nodes[parent].next ? n : JSON_NONE;
}

/* For a JSONL reader: parse the line that starts at src, whose end is not
 * known yet, from at most `avail` bytes.  Succeeds only in the common case
 * where that is cheap to be sure of: the line is an object or array with no
 * whitespace inside, followed at once by "\n" or "\r\n".  Then the line
 * ends there (strings hold no raw newline), *len is the value's length and
 * the doc holds exactly what json_parse(d, src, *len) would give; returns 0.
 * Otherwise returns 1 (undecided: find the newline and call json_parse,
 * which also gives any error), or -ENOMEM. */
int json_parse_line(json_doc *d, const char *src, size_t avail, size_t *len);

/* Object member lookup by (unescaped) name: value node or JSON_NONE. */
uint32_t json_get(const json_doc *d, uint32_t obj, const char *key, size_t keylen);
/* Array element by index: node or JSON_NONE. */
uint32_t json_index(const json_doc *d, uint32_t arr, size_t idx);
/* Number of children of a container (members count once for objects). */
size_t json_length(const json_doc *d, uint32_t i);

/* Compare the decoded text of string node i with s[0..n). */
int json_string_eq(const json_doc *d, uint32_t i, const char *s, size_t n);

/* Decode JSON string escapes of s[0..n) into out (room for n bytes is
 * enough; the result is never longer).  Returns the decoded length.  Lone
 * surrogates decode to U+FFFD, as Go does.  Input must be valid JSON string
 * content (the parser guarantees it). */
size_t json_unescape(const char *s, size_t n, char *out);

/* Raw text of value i (strings with their quotes). */
static inline const char *json_raw(const json_doc *d, uint32_t i, size_t *len)
{
    const json_node *n = &d->nodes[i];
    if (n->type == JSON_STRING) {
        *len = n->len + 2;
        return d->src + n->start - 1;
    }
    *len = n->len;
    return d->src + n->start;
}

/* Append the compact JSON text of value i (insignificant whitespace
 * removed, escapes, key order and number spelling kept). */
void json_compact(const json_doc *d, uint32_t i, buf *out);
/* Length json_compact would produce, without producing it. */
size_t json_compact_len(const json_doc *d, uint32_t i);

/* Append text as a JSON string literal (quotes included).  Invalid UTF-8 is
 * replaced by U+FFFD so the output is always valid JSON. */
void json_write_string(buf *out, const char *s, size_t n);

/* Append compact JSON text re-indented like Go's json.Indent(dst, src, "", "  "). */
void json_indent(const char *compact, size_t n, buf *out);

#endif
