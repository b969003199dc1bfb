/*
 * fields — every field a rule or an output can name: `ka.*` (k8saudit),
 * `json.*`/`jevt.*` (json plugin), `evt.*` (generic event fields).
 *
 * One table (fields.def, an X-macro list) defines each field once: name,
 * type, list-ness, argument kind, description.  It drives name lookup,
 * argument validation, extraction and `--list`.
 *
 * A field reference ("ka.uri.param[command]") is resolved once at load time
 * into a field_ref; extracting it for an event then costs no lookup and no
 * malloc: values are slices of the payload text where possible, otherwise
 * (unescaped strings, joined or rendered values) they live in the context's
 * per-payload arena.
 *
 * Ownership: field_ref_parse() allocates the ref's argument copy (and its
 * private precomputed form, ref->aux) with pg_malloc; release them with
 * field_ref_free().  Values returned by
 * field_extract() belong to ctx->arena and die at its reset; the array of
 * a single value is the fvals' own `one` (see fvals).
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_FIELDS_H
#define PEREGRINE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event/event.h"
#include "util/arena.h"

typedef enum field_type {
    FT_STRING,   /* every ka.* and json.* field */
    FT_UINT64,   /* evt.num */
    FT_ABSTIME,  /* evt.rawtime (ns since epoch) */
    FT_RELTIME,  /* evt.reltime */
    FT_BOOL,     /* evt.is_async */
} field_type;

typedef enum field_arg {
    FARG_NONE,       /* no argument allowed */
    FARG_INDEX_OPT,  /* optional numeric index: [0], [12] */
    FARG_KEY_REQ,    /* required key: [command], ["/a/b"] */
} field_arg;

typedef enum field_id {
#define FIELD(id, name, type, list, arg, desc) id,
#include "fields/fields.def"
#undef FIELD
    FIELD__COUNT
} field_id;

typedef struct field_def {
    field_id id;
    const char *name;
    field_type type;
    bool is_list;
    field_arg arg;
    const char *desc;
    const char *plugin;    /* "k8saudit", "json" or "evt" (for --list) */
} field_def;

extern const field_def field_table[FIELD__COUNT];

/* A resolved reference: field + argument. */
typedef struct field_ref {
    const field_def *def;
    long long index;       /* FARG_INDEX_OPT: -1 when absent */
    char *key;             /* FARG_KEY_REQ: decoded argument (NUL-terminated), else NULL */
    size_t keylen;
    /* Private to the fields module: whatever extraction can precompute from
     * the argument (json.value: the JSON pointer split into decoded tokens).
     * Allocated by field_ref_parse(), released by field_ref_free(); NULL
     * when the field needs nothing. */
    void *aux;
} field_ref;

/* One value: a byte slice (not NUL-terminated). */
typedef struct fval {
    const char *s;
    size_t len;
} fval;

/* Values of one extraction.  n == 0 means "no value" (missing).
 * A single value is kept in `one` and v points at it (most fields have one
 * value, and an arena allocation per field was a measurable share of
 * evaluation), so v may point into the fvals that was filled: a copy stays
 * valid only while that original is alive and not refilled (the
 * evaluator's cache, for the current event). */
typedef struct fvals {
    fval *v;
    size_t n;
    fval one;
} fvals;

/* Per-event extraction context, filled by the engine. */
/* The members of objectRef that ka.target.* read (one or more of them in
 * nearly every event): field_ctx.ref_keys.  X-macro: the member name is the
 * identifier. */
#define FX_OBJREF_KEYS(X) X(resource) X(subresource) X(name) X(namespace)

typedef enum fx_objref_key {
#define FX_OBJREF_ENUM(k) OREF_##k,
    FX_OBJREF_KEYS(FX_OBJREF_ENUM)
#undef FX_OBJREF_ENUM
    OREF__COUNT
} fx_objref_key;

typedef struct field_ctx {
    const audit_event *ev;
    arena *arena;           /* per-payload scratch: decoded/rendered values */
    uint64_t evt_num;       /* evt.num */
    int64_t first_ts_ns;    /* for evt.reltime */
    const char *hostname;   /* evt.hostname */
    long tz_offset_s;       /* local time offset for evt.time etc., computed once */
    const char *cluster;    /* ka.cluster.name when the event has none (webhook endpoint), or NULL */
    int8_t has_auditid;     /* the ka.* gate, computed once per event: 0 unknown, 1 yes, -1 no */
    /* objectRef's members FX_OBJREF_KEYS, found in one pass at the first
     * lookup (instead of a scan of objectRef per field): 0 not yet, 1 in
     * ref_keys (value nodes, or JSON_NONE), -1 not an object or a member
     * name with escapes, so lookups take the general path */
    int8_t ref_state;
    uint32_t ref_keys[OREF__COUNT];
} field_ctx;

/* Look a field up by exact name ("ka.verb", "jevt.value"). NULL if unknown. */
const field_def *field_lookup(const char *name, size_t len);

/* Parse "name" or "name[arg]" (the whole text) into ref.  Returns 0, or -1
 * with a message in err (unknown field, missing/extra/invalid argument).
 * The argument is bare or quoted ("..." or '...', with the condition
 * language's escapes).  Index arguments: digits only, no leading zero
 * except "0", must fit uint64 (an index beyond LLONG_MAX is clamped: it can
 * only select nothing).  Key arguments may be empty (`json.value[""]` is
 * the whole document) except for ka.req.volume.hostpath. */
int field_ref_parse(const char *text, size_t len, field_ref *ref, char *err, size_t errlen);

/* field_ref_parse() with options.  field_ref_parse() is the strict form
 * used for rule conditions and outputs: it mirrors what libsinsp lets
 * through to the plugins (an argument containing a space or a ']' is a
 * load-time error, docs/compat/fields.md §2.13).
 *
 * FIELD_PARSE_VERBATIM is for `--extract EXPR` (the conformance contract):
 * there is no libsinsp in between, the plugin sees the argument exactly as
 * written, so the argument is everything between the first '[' and the
 * final ']' and may contain spaces or ']' (`ka.uri.param[sp ace]`).  Quotes
 * and index validation work as in the strict form. */
enum { FIELD_PARSE_VERBATIM = 1 };
int field_ref_parse_flags(const char *text, size_t len, unsigned flags, field_ref *ref,
                          char *err, size_t errlen);
void field_ref_free(field_ref *ref);

/* Extract ref for ctx->ev.  Returns true when the field has at least one
 * value (out->n >= 1), false when it has none.  Never fails otherwise:
 * allocation failure counts as "no value". */
bool field_extract(const field_ref *ref, field_ctx *ctx, fvals *out);

#endif
