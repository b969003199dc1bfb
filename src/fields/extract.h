/*
 * extract.h — private to src/fields: the building blocks every extractor
 * family uses (docs/compat/fields.md §1): value rendering R(v) (§1.5), simple path
 * lookup P (§1.6), the array walk W (§1.7), and a value-list builder that
 * lives in the per-payload arena.
 *
 * Nothing here mallocs: values are slices of the payload text, or arena
 * memory when they had to be decoded or built.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_FIELDS_EXTRACT_H
#define PEREGRINE_FIELDS_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fields/fields.h"
#include "json/json.h"

/* A path step: a member name (or, on arrays, a decimal index as text).
 * `root` is 1 + the event_key of a top-level member (FXR), 0 otherwise:
 * the first step of a path from the event root then reads the event's
 * root table instead of scanning the root's members (event.h). */
typedef struct fx_key {
    const char *s;
    size_t len;
    uint8_t root;
    uint8_t oref;           /* 1 + fx_objref_key for a member of objectRef (FXO), else 0 */
} fx_key;

#define FXK(lit) {lit, sizeof(lit) - 1, 0, 0}
#define FXR(name) {#name, sizeof(#name) - 1, EK_##name + 1, 0}
#define FXO(name) {#name, sizeof(#name) - 1, 0, OREF_##name + 1}

/* ---- values ---------------------------------------------------------- */

/* Growable list of values in the arena.  After an allocation failure
 * b->oom is set and pushes are ignored; vb_finish then reports "no value"
 * (fields.h: allocation failure counts as missing). */
typedef struct vbuild {
    fval *v;
    size_t n, cap;
    arena *a;
    bool oom;
} vbuild;

static inline void vb_init(vbuild *b, arena *a)
{
    b->v = NULL;
    b->n = b->cap = 0;
    b->a = a;
    b->oom = false;
}

void vb_push(vbuild *b, const char *s, size_t len);
/* Hand the list to out.  True when it holds at least one value. */
bool vb_finish(vbuild *b, fvals *out);

/* out = exactly one value s[0..len) (copied into nothing: s must already
 * live in the payload or the arena), held in out->one.  Returns true. */
bool fx_one(field_ctx *ctx, fvals *out, const char *s, size_t len);
/* out = no value; returns false (for `return fx_none(out);`). */
static inline bool fx_none(fvals *out)
{
    out->v = NULL;
    out->n = 0;
    return false;
}

/* Cut at the first NUL (fields.md §5: values reach the C side NUL-terminated). */
static inline size_t fx_cut_nul(const char *s, size_t len)
{
    const char *z = len ? memchr(s, 0, len) : NULL;
    return z ? (size_t)(z - s) : len;
}

/* Full text of value `node` as upstream's Go code sees it: a string's
 * decoded content (NULs kept), anything else its compact JSON text.
 * Returns false only on allocation failure. */
bool fx_text(field_ctx *ctx, uint32_t node, const char **s, size_t *len);

/* R(v) (fields.md §1.5) as the rule engine sees it: fx_text, cut at the first
 * NUL.  Inline for the common case, a string without escapes (a slice of
 * the payload). */
bool fx_render_slow(field_ctx *ctx, uint32_t node, const char **s, size_t *len);
static inline bool fx_render(field_ctx *ctx, uint32_t node, const char **s, size_t *len)
{
    const json_doc *d = ctx->ev->doc;
    const json_node *nd = &d->nodes[node];
    if (nd->type == JSON_STRING && !(nd->flags & JSON_F_ESCAPES)) {
        *s = d->src + nd->start; /* the parser rejects raw control bytes: no NUL */
        *len = nd->len;
        return true;
    }
    return fx_render_slow(ctx, node, s, len);
}

/* Push R(node) onto b. */
void vb_push_render(vbuild *b, field_ctx *ctx, uint32_t node);

/* ---- paths ------------------------------------------------------------ */

/* One step of P (fields.md §1.6): object → first member named k; array → k as a
 * Go strconv.Atoi index; anything else → JSON_NONE. */
uint32_t fx_member(const json_doc *d, uint32_t v, const char *k, size_t klen);

/* P(k1, ..., kn) from node v; JSON_NONE when any step is missing. */
uint32_t fx_path(const json_doc *d, uint32_t v, const fx_key *keys, size_t n);

/* The top-level member `k` of the event (one step of P from its root). */
uint32_t fx_root_member(const audit_event *ev, const fx_key *k);

/* P(k1, ..., kn) from the event root, n >= 1; k1 through the root table
 * when it is an FXR key. */
uint32_t fx_root_path(const audit_event *ev, const fx_key *keys, size_t n);

/* fx_root_path for an extractor with the event's context: a path
 * objectRef.X with X an FXO key reads ctx->ref_keys. */
uint32_t fx_ctx_path(field_ctx *ctx, const fx_key *keys, size_t n);

/* Go strconv.Atoi restricted to what an array index accepts: optional
 * sign, decimal digits, no overflow, result >= 0.  -1 when not an index. */
long long fx_atoi_index(const char *s, size_t n);

/* W(idx, keys...) (fields.md §1.7).  Calls fn(ud, node) for each result in
 * order, fn(ud, JSON_NONE) for each NIL placeholder.  Returns false when
 * the walk is MISSING (nothing was reported), true otherwise (possibly
 * with no result at all: an empty array in the middle). */
typedef void (*fx_walk_fn)(void *ud, uint32_t node);
bool fx_walk(const json_doc *d, uint32_t v, long long idx, const fx_key *keys, size_t nk,
             fx_walk_fn fn, void *ud);

/* fx_walk from the event root, nk >= 1 (same results; the first step
 * through the root table). */
bool fx_root_walk(const audit_event *ev, long long idx, const fx_key *keys, size_t nk, fx_walk_fn fn, void *ud);

/* ---- families ---------------------------------------------------------- */

/* Every k8saudit field, after the auditID gate (extract_ka.c). */
bool extract_ka(const field_ref *ref, field_ctx *ctx, fvals *out);
/* ka.req.pod.{containers,initContainers,ephemeralContainers}.* and the
 * deprecated ka.req.container.* fields (extract_containers.c).  Returns -1
 * when id is not one of them, else 0/1 (false/true). */
int extract_containers(const field_ref *ref, field_ctx *ctx, fvals *out);
/* ka.uri.param[k] (extract_uri.c). */
bool extract_uri_param(const field_ref *ref, field_ctx *ctx, fvals *out);
/* json.* / jevt.* (extract_json.c). */
bool extract_json(const field_ref *ref, field_ctx *ctx, fvals *out);
/* evt.* and the legacy jevt.time fields (extract_evt.c). */
bool extract_evt(const field_ref *ref, field_ctx *ctx, fvals *out);

/* json.value's precomputed pointer (field_ref.aux), built at parse time. */
void *fx_jptr_compile(const char *key, size_t keylen);

/* Compact JSON text of value `node`: a slice of the source when it has no
 * insignificant whitespace, else a copy without it in the arena. */
bool fx_compact(field_ctx *ctx, uint32_t node, const char **s, size_t *len);

#endif
