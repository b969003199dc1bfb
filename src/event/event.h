/*
 * event — from one payload (a JSONL line, an HTTP body) to audit events,
 * exactly as the k8saudit plugin splits them (docs/compat/source.md §4).
 *
 * A payload is parsed once into a json_doc; each event is a view into that
 * doc (its root node), so events cost no copy.  The events stay valid while
 * the doc and the payload text do.
 *
 * Ownership: the caller owns the json_doc, the payload bytes and the
 * event_batch; event_batch_free() releases the batch's array.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_EVENT_H
#define PEREGRINE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json/json.h"

/* The top-level members field extraction reads.  Every field lookup used
 * to scan the event object's 15-20 members from the start; instead
 * event_split() scans them once per event and records where each of these
 * is (event_root_index), so a lookup is one array read.  X-macro: the
 * member name is the identifier. */
#define EVENT_ROOT_KEYS(X)                                                           \
    X(kind) X(auditID) X(stage) X(verb) X(user) X(impersonatedUser) X(objectRef)    \
    X(requestURI) X(userAgent) X(sourceIPs) X(requestObject) X(responseObject)      \
    X(responseStatus) X(annotations) X(stageTimestamp)

typedef enum event_key {
#define EVENT_KEY_ENUM(k) EK_##k,
    EVENT_ROOT_KEYS(EVENT_KEY_ENUM)
#undef EVENT_KEY_ENUM
    EK__COUNT
} event_key;

typedef struct audit_event {
    const json_doc *doc;
    uint32_t root;        /* the event object's node */
    uint32_t size;        /* bytes of its text: the raw length, or the compact
                           * re-serialization's when the raw one is over maxEventSize */
    int64_t ts_ns;        /* stageTimestamp, ns since the Unix epoch (UTC) */
    /* keys[k]: the value node of the first root member named EVENT_ROOT_KEYS
     * k (decoded name, as json_get matches), or JSON_NONE.  Valid only when
     * `keyed` (events made by event_split); an event built by hand (tests)
     * leaves it false and lookups fall back to json_get. */
    bool keyed;
    uint32_t keys[EK__COUNT];
} audit_event;

typedef struct event_limits {
    size_t max_event_size;  /* per event, compact bytes (init_config maxEventSize) */
} event_limits;

#define EVENT_DEFAULT_MAX_EVENT_SIZE 262144u

typedef struct event_batch {
    audit_event *ev;
    size_t n, cap;
    size_t dropped;         /* events of this payload dropped individually */
    size_t oversized;       /* ... of which for maxEventSize */
} event_batch;

/* Called for each of a payload's first EVENT_DROPS_SAID events dropped on
 * their own (bad stageTimestamp, too big); msg is the upstream log text,
 * e.g. "can't read stageTimestamp".  Later drops of the payload are only
 * counted: the caller says how many with event_drops_unsaid(). */
typedef void (*event_drop_fn)(void *ctx, const char *msg);
#define EVENT_DROPS_SAID 3u

/* Split the parsed payload `doc` into events appended to `out` (cleared
 * first).  Returns 0; -EINVAL when the payload (or an element of an array
 * payload) is not an audit event: err gets upstream's text, "data not
 * recognized as a k8s audit event", and `out` keeps the events that came
 * before the bad element (the caller still evaluates them); -ENOMEM. */
int event_split(const json_doc *doc, const event_limits *lim, event_batch *out,
                event_drop_fn on_drop, void *ctx, char *err, size_t errlen);

void event_batch_free(event_batch *b);

/* Drops of the last split not said one by one (see event_drop_fn). */
static inline size_t event_drops_unsaid(const event_batch *b)
{
    return b->dropped > EVENT_DROPS_SAID ? b->dropped - EVENT_DROPS_SAID : 0;
}

/* Fill keys[] for object obj of d (see audit_event.keys): one pass over
 * its members, first duplicate wins, escaped names matched decoded. */
void event_root_index(const json_doc *d, uint32_t obj, uint32_t keys[EK__COUNT]);

/* The event_key of member name s[0..n) (decoded), or -1 when the table
 * does not track it. */
int event_key_of(const char *s, size_t n);

/* Top-level member k of ev (value node or JSON_NONE): the table when the
 * event has one, else a json_get by name. */
uint32_t event_member_slow(const audit_event *ev, event_key k);
static inline uint32_t event_member(const audit_event *ev, event_key k)
{
    return ev->keyed ? ev->keys[k] : event_member_slow(ev, k);
}

/* Parse an RFC 3339 timestamp the way Go's time.RFC3339Nano layout does.
 * Returns 0 and the instant in ns since the epoch, or -EINVAL. */
int event_parse_time(const char *s, size_t n, int64_t *ns);

#endif
