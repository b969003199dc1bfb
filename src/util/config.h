/*
 * config — falco.yaml (the keys Peregrine uses; others are accepted and
 * ignored), `-o key=value` overrides, and the k8saudit init_config.
 *
 * Ownership: config_load fills a caller-owned struct; config_free releases
 * its strings.
 */
#ifndef PEREGRINE_UTIL_CONFIG_H
#define PEREGRINE_UTIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "util/strvec.h"

typedef struct config {
    /* plugins[] entry named k8saudit */
    char *open_params;
    char *init_config;          /* JSON text ("" = {}) */
    /* init_config, decoded (docs/compat/source.md §2) */
    size_t max_event_size;      /* maxEventSize, default 262144 */
    size_t webhook_max_batch;   /* webhookMaxBatchSize, default 12 MiB */
    size_t max_event_bytes;     /* maxEventBytes (k8saudit 0.1 name): payload limit, 0 = unset */
    char *ssl_certificate;
    /* webhook extensions (ours) */
    char *client_ca;            /* clientCA: PEM bundle; clients must present a cert it signed */
    strvec bearer_tokens;       /* bearerTokens: accepted "Authorization: Bearer" tokens */
    char *bearer_token_file;    /* bearerTokenFile: more tokens, one per line */
    size_t webhook_max_connections; /* webhookMaxConnections, default 256 */
    size_t webhook_timeout_s;   /* webhookTimeoutSeconds: idle / whole-request limit, default 10 */
    size_t webhook_max_inflight;/* webhookMaxInflightBytes: bodies held at once, default 256 MiB */
    bool webhook_ack_queued;    /* webhookAck: "queued" answers once events are queued; default
                                 * "written": once evaluated and their alerts written */
    char *cluster_name;         /* clusterName: ka.cluster.name for webhook events without one */
    strvec cluster_paths;       /* clusterPaths: request path → ... */
    strvec cluster_path_names;  /* ... cluster name (same index) */
    /* managed clusters and shippers (src/envelope/, source/webhook_routes.c) */
    strvec firehose_keys;       /* firehoseAccessKeys: X-Amz-Firehose-Access-Key values accepted */
    strvec pubsub_tokens;       /* pubsubTokens: ?token= values accepted on /ingest/gcp-pubsub */
    char *pubsub_audience;      /* pubsubAudience: OIDC token audience ... */
    char *pubsub_jwks_file;     /* pubsubJwksFile: ... verified against these keys */
    char *pubsub_account;       /* pubsubServiceAccount: the token's verified email, when set */
    bool gke_faithful;          /* gkeConversion: "faithful" (default "falco") */
    size_t duplicate_window;    /* duplicateWindow: recent (auditID, stage) keys remembered, 0 = off */
    /* outputs */
    bool json_output;
    bool json_include_output_property;
    bool json_include_output_fields_property;
    bool json_include_tags_property;
    bool json_include_message_property;
    bool time_format_iso_8601;
    bool stdout_enabled;
    bool buffered_outputs;
    /* alert channels: Falco's keys (src/output/).  A NULL or "" string
     * means "not set"; the channel applies Falco's default. */
    bool file_output_enabled;
    bool file_output_keep_alive;
    char *file_output_filename;
    bool syslog_output_enabled;
    char *syslog_output_socket;         /* ours: a unix datagram socket instead of syslog(3) */
    bool program_output_enabled;
    bool program_output_keep_alive;
    char *program_output_program;
    bool http_output_enabled;
    char *http_output_url;
    char *http_output_user_agent;       /* default "falcosecurity/falco" */
    bool http_output_insecure;
    char *http_output_ca_cert;
    char *http_output_ca_bundle;
    char *http_output_ca_path;          /* default /etc/ssl/certs */
    bool http_output_mtls;
    char *http_output_client_cert;      /* default /etc/ssl/certs/client.crt */
    char *http_output_client_key;       /* default /etc/ssl/certs/client.key */
    bool http_output_echo;
    bool http_output_compress_uploads;
    bool http_output_keep_alive;
    size_t http_output_max_consecutive_timeouts;
    size_t output_timeout_ms;           /* output_timeout, default 2000 */
    size_t outputs_queue_capacity;      /* outputs_queue.capacity: alerts per channel queue, 0 = no count bound */
    size_t outputs_queue_max_bytes;     /* ours: bytes per channel queue, default 8 MiB */
    /* noise control (ours, opt-in) */
    bool rate_limit_enabled;            /* alert_rate_limit.* : token bucket per rule */
    double rate_limit_rate;             /* alerts per second, default 1 */
    double rate_limit_max_burst;        /* default 10 */
    bool dedup_enabled;                 /* alert_dedup.* : identical alerts within a window */
    double dedup_window_s;              /* default 60 */
    /* correlations.* (stateful detection, README "Stateful detection") */
    double corr_lateness_s;             /* watermark distance, default 60 s */
    size_t corr_max_groups;             /* keys per correlation, default 100000 */
    size_t corr_max_bytes;              /* all correlation state, default 64 MiB */
    char *corr_state_file;              /* unset: no persistence */
    double corr_snapshot_interval_s;    /* default 60 s */
    char *corr_store;                   /* redis://... or rediss://...; unset: in-process state */
    char *corr_key_prefix;              /* Redis keys' prefix, default "peregrine:" */
    double corr_store_timeout_s;        /* Redis connect / silence while answering a chunk, default 0.2 s */
    char *corr_store_ca;                /* rediss://: PEM CAs (unset: the system's) */
    int priority;               /* minimum rule priority */
    bool rule_matching_all;
    bool rule_eval_reference;   /* rule_evaluation: "reference" runs every candidate rule's
                                 * checks in the order written (no prefilter, no reordering);
                                 * default "fast" (docs/rules-at-scale.md) */
    bool watch_config_files;    /* serving: reload rules when the config or rules files change */
    /* webserver: the admin server (health, readiness, metrics) */
    bool webserver_enabled;         /* default true */
    char *webserver_listen_address; /* default 0.0.0.0 */
    size_t webserver_listen_port;   /* default 8765 */
    char *webserver_healthz;        /* k8s_healthz_endpoint, default /healthz */
    bool webserver_metrics;         /* prometheus_metrics_enabled, default true (Falco: false) */
    bool webserver_ssl_enabled;
    char *webserver_ssl_certificate;    /* PEM certificate and key of the admin server when ssl_enabled */
    strvec rules_files;
} config;

/* The payload (line / body) limit: maxEventBytes when set, else webhookMaxBatchSize. */
static inline size_t config_payload_limit(const config *c)
{
    return c->max_event_bytes ? c->max_event_bytes : c->webhook_max_batch;
}

#endif
