/*
 * envelope — audit events out of the envelopes managed clusters and log
 * shippers wrap them in (docs/deployment.md, "Managed clusters"): Amazon Data
 * Firehose requests and CloudWatch Logs subscription messages (EKS),
 * Pub/Sub pushes of GKE LogEntries (converted to audit Events as
 * k8saudit-gke does, or faithfully), AKS diagnostic records (Event Hubs and
 * storage-account forms), CloudWatch exports, and Fluent Bit / Vector
 * bodies (arrays, NDJSON, records holding the event as a string).
 *
 * The result is native audit JSON the event splitter reads: groups of
 * events, each group a JSON array with the cluster its events came from
 * (ka.cluster.name for events without a cluster_name annotation).  Events
 * already native are copied as they are; nothing else is rewritten except
 * GKE entries (converted) and AKS objects replaced by
 * "skipped-too-big-size-object" (dropped, as if absent).
 *
 * Sniffing (envelope_decode with ENV_ANY) follows the design's table; a
 * route restricts what it accepts with `accept`.
 *
 * Ownership: an envelope owns its scratch documents and buffers and is
 * reused payload after payload (envelope_reset is implied by
 * envelope_decode); the output (envelope_group text) stays valid until the
 * next envelope_decode or envelope_free.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_ENVELOPE_H
#define PEREGRINE_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json/json.h"
#include "util/buf.h"

typedef enum envelope_kind {
    ENV_UNKNOWN = 0,
    ENV_NATIVE,         /* Event / EventList (or an array of them) */
    ENV_FIREHOSE,       /* {"requestId","records":[{"data"}]} */
    ENV_CWL,            /* CloudWatch Logs subscription message */
    ENV_CWL_EVENTS,     /* aws logs filter-log-events / get-log-events output */
    ENV_PUBSUB,         /* Pub/Sub push body */
    ENV_GKE,            /* a Cloud Logging LogEntry */
    ENV_AKS,            /* {"records":[...]} or one diagnostic record */
    ENV_SHIPPER,        /* a record holding the event under log/message */
    ENV__COUNT
} envelope_kind;

extern const char *const envelope_kind_name[ENV__COUNT];

/* Bit masks for envelope_opts.accept. */
#define ENV_BIT(k) (1u << (k))
#define ENV_ANY 0xffffffffu

typedef struct envelope_opts {
    unsigned accept;        /* outermost shapes allowed (ENV_BIT mask) */
    bool gke_faithful;      /* gkeConversion: faithful */
    size_t max_bytes;       /* decoded bytes per payload (the payload limit) */
    const char *cluster;    /* default cluster ("" / NULL: none) */
    const char *cluster_override; /* wins over what the envelope says (Firehose common attribute) */
    /* A memory budget: told the bytes the decode holds (its documents'
     * nodes and its buffers) as they grow, by steps of 64 KiB and once at
     * the end; nonzero stops the decode (-EBUSY).  NULL: not counted. */
    int (*charge)(void *ctx, size_t held);
    void *charge_ctx;
} envelope_opts;

/* What a payload held, beside its events. */
typedef struct envelope_counts {
    uint64_t records;       /* transport records (Firehose records, messages, AKS records) */
    uint64_t events;        /* audit events produced */
    uint64_t control;       /* CloudWatch control messages (dropped) */
    uint64_t skipped;       /* non-audit streams, categories and entries (dropped) */
    uint64_t truncated;     /* records cut short (dropped, auditID reported) */
    uint64_t bad;           /* undecodable records (base64, gzip, JSON, shape) */
} envelope_counts;

typedef struct envelope_group {
    size_t off, len;        /* a JSON array in envelope.text */
    size_t cluster_off;     /* NUL-terminated name in envelope.clusters */
    size_t nevents;
} envelope_group;

typedef struct envelope envelope;

envelope *envelope_new(void);
void envelope_free(envelope *e);

/* The outermost shape of value `v` of doc d (ENV_UNKNOWN when none). */
envelope_kind envelope_sniff(const json_doc *d, uint32_t v);

/* Decode one payload (body, or file line) p[0..n): text, a JSON value,
 * several values back to back or one per line, or (by magic) gzip.
 * Returns the outermost kind found (>= ENV_NATIVE, when anything was
 * recognized — maybe with zero events, e.g. a control message or a
 * non-audit entry), or: -EINVAL (nothing recognized: err says why),
 * -EFBIG (decoded data over max_bytes), -EBUSY (o->charge refused: the
 * memory budget is full), -ENOMEM. */
int envelope_decode(envelope *e, const char *p, size_t n, const envelope_opts *o, char *err, size_t errlen);
/* The same for a value already parsed (a file line that parsed but is not
 * native audit JSON). */
int envelope_decode_value(envelope *e, const json_doc *d, uint32_t v, const envelope_opts *o, char *err,
                          size_t errlen);

/* Results of the last decode. */
size_t envelope_ngroups(const envelope *e);
const envelope_group *envelope_groups(const envelope *e);
const char *envelope_text(const envelope *e);           /* group texts */
const char *envelope_cluster(const envelope *e, const envelope_group *g);
const envelope_counts *envelope_result_counts(const envelope *e);
/* Bytes the last decode holds (documents' nodes, inflated data, the
 * output and scratch buffers), for memory budgets. */
size_t envelope_held_bytes(const envelope *e);
/* Messages for the log (truncated records with their auditID, bad
 * records), one per line, at most a few per payload. */
const buf *envelope_messages(const envelope *e);

/* Whether line p[0..n) starts with an RFC 3339 timestamp, a space and '{'
 * (a CloudWatch export line); *skip = bytes before the '{'. */
bool envelope_export_prefix(const char *p, size_t n, size_t *skip);

#endif
