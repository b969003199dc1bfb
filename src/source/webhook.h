/*
 * webhook — the Kubernetes API server's audit webhook backend: an HTTP or
 * HTTPS server (libmicrohttpd) that takes Event / EventList bodies by POST
 * and queues their events on the engine (docs/compat/source.md §3, issue 4).
 *
 * Unlike upstream, a request is acknowledged (200) only after its whole body
 * was parsed and its events queued; a full queue answers 503 with
 * Retry-After so the API server retries instead of losing events.  Status
 * codes: 200 queued; 400 unparsable / not audit events; 401 authentication
 * failed; 404 other paths; 405 other methods (Allow: POST); 413 body over
 * webhookMaxBatchSize; 415 Content-Type not JSON; 503 busy.  GET /healthz
 * answers 200 while the server runs (no authentication).
 *
 * Paths: the configured path itself (no cluster), or one segment below it,
 * which names the cluster (POST /k8s-audit/prod-eu → ka.cluster.name
 * "prod-eu" for events without a cluster_name annotation); init_config
 * clusterName names the cluster for the bare path, and clusterPaths maps
 * any request path to a cluster name (checked first, e.g. for a proxy that
 * cannot add a segment).
 *
 * Accepted bodies go to a submit callback with engine_submit_body()'s
 * contract (the engine is below the sources; the caller wires them).
 *
 * Ownership: webhook_start() returns a server the caller stops and frees
 * with webhook_stop(); it borrows the config and the callback's context,
 * which must outlive it.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_WEBHOOK_H
#define PEREGRINE_WEBHOOK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/config.h"
#include "engine/engine.h"

typedef struct webhook webhook;

/* Parsed open_params "http(s)://host:port/path". */
typedef struct webhook_url {
    bool tls;
    char host[256];             /* "" = every interface */
    uint16_t port;              /* 0 = any free port (tests) */
    char path[1024];
} webhook_url;

/* 0, or -1 with a message when `s` is not an http(s) URL we can serve. */
int webhook_parse_url(const char *s, webhook_url *u, char *err, size_t errlen);
/* Whether open_params names a webhook (http:// or https://). */
bool webhook_is_url(const char *s);

/* Called on a server thread for each body received in full (several at
 * once): parse, split and queue it, as engine_submit_events does.  For the
 * /ingest routes the body is native JSON decoded from an envelope: `marked`
 * (its events are suppressed as duplicates when seen recently) and `extra`
 * (what the chunk counts besides its events; NULL for a plain body). */
typedef engine_submit_rc (*webhook_submit_fn)(void *ctx, const char *body, size_t len, const char *origin,
                                              const char *cluster, bool marked, const run_counts *extra,
                                              engine_submit_info *info, char *err, size_t errlen);

/* Start listening.  0, or a negative errno with a message (bad URL,
 * certificate, port). */
int webhook_start(const config *cfg, webhook_submit_fn submit, void *ctx, int threads, webhook **out, char *err,
                  size_t errlen);
/* The port actually bound (useful with port 0). */
uint16_t webhook_port(const webhook *w);
/* Stop accepting; requests in progress get up to 5 s to finish, then
 * connections are closed (requests not yet answered were not acknowledged:
 * the API server sends them again).  Counters stay readable. */
void webhook_stop_accepting(webhook *w);
/* webhook_stop_accepting() if needed, then free. */
void webhook_stop(webhook *w);

/* Responses by status, for the statistics block and /metrics. */
enum { WH_200, WH_400, WH_401, WH_404, WH_405, WH_413, WH_415, WH_500, WH_503, WH__COUNT };
extern const int webhook_status_code[WH__COUNT];
void webhook_counts(const webhook *w, uint64_t out[WH__COUNT]);
void webhook_print_stats(const webhook *w, FILE *out);
struct histogram;
const struct histogram *webhook_latency(const webhook *w);   /* request duration */
size_t webhook_inflight_bytes(const webhook *w);
bool webhook_running(const webhook *w);                     /* listening */
struct ingest;
const struct ingest *webhook_ingest(const webhook *w);      /* /ingest routes (webhook_routes.h) */

#endif
