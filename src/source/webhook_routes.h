/*
 * webhook_routes — the push deliveries of managed clusters and log
 * shippers on the webhook server (same port, TLS, limits, back-pressure
 * and 503 semantics as the audit path; docs/deployment.md, "Managed clusters"):
 *
 *   POST /ingest/aws-firehose   Amazon Data Firehose HTTP endpoint delivery
 *                               (EKS: CloudWatch Logs subscription → Firehose);
 *                               X-Amz-Firehose-Access-Key ∈ firehoseAccessKeys;
 *                               the answer is Firehose's {"requestId","timestamp"}
 *   POST /ingest/gcp-pubsub     Pub/Sub push of GKE audit LogEntries (wrapped or
 *                               unwrapped); ?token= ∈ pubsubTokens; entries that
 *                               are not audit entries are acknowledged and counted
 *   POST /ingest/generic[/CLUSTER]  Fluent Bit / Vector / any shipper: every shape
 *                               of the sniffing table; bearer or Basic with
 *                               bearerTokens
 *
 * A route without credentials of its own falls back to the server's
 * (bearerTokens / bearerTokenFile); client certificates (clientCA) apply to
 * every route.  Content-Encoding: gzip is accepted on every path, the
 * inflated size bounded by the payload limit (over it: 413); other
 * encodings get 415.
 *
 * Ownership: the webhook owns its `ingest` (ingest_new / ingest_free) and
 * borrows the config, which outlives it.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_WEBHOOK_ROUTES_H
#define PEREGRINE_WEBHOOK_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/config.h"
#include "engine/engine.h"
#include "util/buf.h"

struct MHD_Connection;

typedef enum ingest_route {
    ROUTE_AUDIT,            /* the configured audit webhook path */
    ROUTE_FIREHOSE,
    ROUTE_PUBSUB,
    ROUTE_GENERIC,
    ROUTE__COUNT
} ingest_route;

extern const char *const ingest_route_name[ROUTE__COUNT];

typedef struct ingest ingest;

/* NULL with a message in err (bad configuration, out of memory).
 * `inflight` is the server's count of bytes held by requests, bounded by
 * webhookMaxInflightBytes (see ingest_handle). */
ingest *ingest_new(const config *cfg, _Atomic size_t *inflight, char *err, size_t errlen);
void ingest_free(ingest *in);

/* The ingest route of a request path (cluster gets the segment below
 * /ingest/generic, or ""), or ROUTE_AUDIT when the path is not one. */
ingest_route ingest_match(const char *url, char *cluster, size_t clen);

/* Authentication of a request on `route`; `server_ok` is the result of the
 * server-wide bearer check, used when the route has no credentials of its
 * own. */
bool ingest_auth(ingest *in, ingest_route route, struct MHD_Connection *c, bool server_ok);

/* Content-Encoding: 0 none/identity, 1 gzip, -1 unsupported. */
int ingest_encoding(struct MHD_Connection *c);
/* Inflate a gzip body into out, at most max bytes: 0, -EFBIG (over max),
 * -EINVAL (corrupt), -ENOMEM. */
int ingest_inflate(const char *body, size_t n, size_t max, buf *out);

/* A reply: the WH_* status index and the body to send. */
typedef struct ingest_reply {
    int which;
    buf body;
} ingest_reply;

/* Decode and queue a complete body on `route` (not ROUTE_AUDIT).  What the
 * request holds is charged to the in-flight budget and added to *charged,
 * which the caller releases once the request is answered: the decode's
 * documents and buffers as they grow, then each group's copy in the
 * evaluation queue and its parse nodes.  Over the budget while other
 * requests hold bytes, the request is refused with 503 (a lone body always
 * gets through, as on the audit path). */
void ingest_handle(ingest *in, size_t *charged,
                   engine_submit_rc (*submit)(void *ctx, const char *body, size_t len, const char *origin,
                                              const char *cluster, bool marked, const run_counts *extra,
                                              engine_submit_info *info, char *err, size_t errlen),
                   void *submit_ctx, ingest_route route, struct MHD_Connection *c, const char *body, size_t n,
                   const char *origin, const char *cluster, ingest_reply *out);
/* The body of a refusal decided before the body was read (401, 413, ...):
 * Firehose wants its JSON even then; other routes get `text`. */
void ingest_refusal(ingest_route route, struct MHD_Connection *c, const char *text, buf *out);

/* Counters for /metrics: requests by route, events queued by route. */
typedef struct ingest_stats {
    uint64_t requests[ROUTE__COUNT];
    uint64_t events[ROUTE__COUNT];
    uint64_t unauthorized[ROUTE__COUNT];
} ingest_stats;
void ingest_get_stats(const ingest *in, ingest_stats *out);

#endif
