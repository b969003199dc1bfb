/*
 * config — falco.yaml (the keys Peregrine uses; others are accepted and
 * ignored), `-o key=value` overrides, and the k8saudit init_config.
 *
 * Ownership: config_load fills a caller-owned struct; config_free releases
 * its strings.
 */
#ifndef PEREGRINE_CONFIG_H
#define PEREGRINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "rules/collection.h"

typedef struct config {
    /* plugins[] entry named k8saudit */
    char *open_params;
    char *init_config;          /* JSON text ("" = {}) */
    /* init_config, decoded (spec/source.md §2) */
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
    char *cluster_name;         /* clusterName: ka.cluster.name for webhook events without one */
    strvec cluster_paths;       /* clusterPaths: request path → ... */
    strvec cluster_path_names;  /* ... cluster name (same index) */
    /* outputs */
    bool json_output;
    bool json_include_output_property;
    bool json_include_output_fields_property;
    bool json_include_tags_property;
    bool json_include_message_property;
    bool time_format_iso_8601;
    bool stdout_enabled;
    bool buffered_outputs;
    int priority;               /* minimum rule priority */
    bool rule_matching_all;
    bool watch_config_files;
    /* webserver: the admin server (health, readiness, metrics) */
    bool webserver_enabled;         /* default true */
    char *webserver_listen_address; /* default 0.0.0.0 */
    size_t webserver_listen_port;   /* default 8765 */
    char *webserver_healthz;        /* k8s_healthz_endpoint, default /healthz */
    bool webserver_metrics;         /* prometheus_metrics_enabled, default true (Falco: false) */
    bool webserver_ssl_enabled;
    char *webserver_ssl_certificate;    /* reload rules when the config or rules files change (serving) */
    strvec rules_files;
} config;

void config_defaults(config *c);
/* Load a falco.yaml.  Returns 0 or -1 with a message in err. */
int config_load_file(config *c, const char *path, char *err, size_t errlen);
/* Apply "key=value" (e.g. json_output=true, plugins[0].open_params=x). */
int config_override(config *c, const char *kv, char *err, size_t errlen);
/* Decode init_config into the numeric fields. */
int config_decode_init(config *c, char *err, size_t errlen);
/* The payload (line / body) limit: maxEventBytes when set, else webhookMaxBatchSize. */
size_t config_payload_limit(const config *c);
void config_free(config *c);

#endif
