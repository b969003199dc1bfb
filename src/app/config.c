/*
 * config — falco.yaml and overrides, table-driven: every scalar key we
 * honour is one row of `keys` below.
 */
#include "app/config.h"
#include "json/json.h"
#include "rules/correlation_load.h"
#include "rules/ruleset.h"
#include "util/alloc.h"
#include "yaml/ytree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_BOOL, K_PRIORITY, K_MATCHING, K_EVALUATION, K_STR, K_SIZE, K_DOUBLE, K_DURATION } key_kind;

static const struct {
    const char *key;
    key_kind kind;
    size_t off;
} keys[] = {
    {"json_output", K_BOOL, offsetof(config, json_output)},
    {"json_include_output_property", K_BOOL, offsetof(config, json_include_output_property)},
    {"json_include_output_fields_property", K_BOOL, offsetof(config, json_include_output_fields_property)},
    {"json_include_tags_property", K_BOOL, offsetof(config, json_include_tags_property)},
    {"json_include_message_property", K_BOOL, offsetof(config, json_include_message_property)},
    {"time_format_iso_8601", K_BOOL, offsetof(config, time_format_iso_8601)},
    {"buffered_outputs", K_BOOL, offsetof(config, buffered_outputs)},
    {"stdout_output.enabled", K_BOOL, offsetof(config, stdout_enabled)},
    {"priority", K_PRIORITY, offsetof(config, priority)},
    {"rule_matching", K_MATCHING, offsetof(config, rule_matching_all)},
    {"rule_evaluation", K_EVALUATION, offsetof(config, rule_eval_reference)},
    {"watch_config_files", K_BOOL, offsetof(config, watch_config_files)},
    {"webserver.enabled", K_BOOL, offsetof(config, webserver_enabled)},
    {"webserver.listen_address", K_STR, offsetof(config, webserver_listen_address)},
    {"webserver.listen_port", K_SIZE, offsetof(config, webserver_listen_port)},
    {"webserver.k8s_healthz_endpoint", K_STR, offsetof(config, webserver_healthz)},
    {"webserver.prometheus_metrics_enabled", K_BOOL, offsetof(config, webserver_metrics)},
    {"webserver.ssl_enabled", K_BOOL, offsetof(config, webserver_ssl_enabled)},
    {"webserver.ssl_certificate", K_STR, offsetof(config, webserver_ssl_certificate)},
    {"file_output.enabled", K_BOOL, offsetof(config, file_output_enabled)},
    {"file_output.keep_alive", K_BOOL, offsetof(config, file_output_keep_alive)},
    {"file_output.filename", K_STR, offsetof(config, file_output_filename)},
    {"syslog_output.enabled", K_BOOL, offsetof(config, syslog_output_enabled)},
    {"syslog_output.socket", K_STR, offsetof(config, syslog_output_socket)},
    {"program_output.enabled", K_BOOL, offsetof(config, program_output_enabled)},
    {"program_output.keep_alive", K_BOOL, offsetof(config, program_output_keep_alive)},
    {"program_output.program", K_STR, offsetof(config, program_output_program)},
    {"http_output.enabled", K_BOOL, offsetof(config, http_output_enabled)},
    {"http_output.url", K_STR, offsetof(config, http_output_url)},
    {"http_output.user_agent", K_STR, offsetof(config, http_output_user_agent)},
    {"http_output.insecure", K_BOOL, offsetof(config, http_output_insecure)},
    {"http_output.ca_cert", K_STR, offsetof(config, http_output_ca_cert)},
    {"http_output.ca_bundle", K_STR, offsetof(config, http_output_ca_bundle)},
    {"http_output.ca_path", K_STR, offsetof(config, http_output_ca_path)},
    {"http_output.mtls", K_BOOL, offsetof(config, http_output_mtls)},
    {"http_output.client_cert", K_STR, offsetof(config, http_output_client_cert)},
    {"http_output.client_key", K_STR, offsetof(config, http_output_client_key)},
    {"http_output.echo", K_BOOL, offsetof(config, http_output_echo)},
    {"http_output.compress_uploads", K_BOOL, offsetof(config, http_output_compress_uploads)},
    {"http_output.keep_alive", K_BOOL, offsetof(config, http_output_keep_alive)},
    {"http_output.max_consecutive_timeouts", K_SIZE, offsetof(config, http_output_max_consecutive_timeouts)},
    {"output_timeout", K_SIZE, offsetof(config, output_timeout_ms)},
    {"outputs_queue.capacity", K_SIZE, offsetof(config, outputs_queue_capacity)},
    {"outputs_queue.max_bytes", K_SIZE, offsetof(config, outputs_queue_max_bytes)},
    {"alert_rate_limit.enabled", K_BOOL, offsetof(config, rate_limit_enabled)},
    {"alert_rate_limit.rate", K_DOUBLE, offsetof(config, rate_limit_rate)},
    {"alert_rate_limit.max_burst", K_DOUBLE, offsetof(config, rate_limit_max_burst)},
    {"alert_dedup.enabled", K_BOOL, offsetof(config, dedup_enabled)},
    {"alert_dedup.window", K_DOUBLE, offsetof(config, dedup_window_s)},
    {"correlations.lateness", K_DURATION, offsetof(config, corr_lateness_s)},
    {"correlations.max_groups", K_SIZE, offsetof(config, corr_max_groups)},
    {"correlations.max_bytes", K_SIZE, offsetof(config, corr_max_bytes)},
    {"correlations.state_file", K_STR, offsetof(config, corr_state_file)},
    {"correlations.snapshot_interval", K_DURATION, offsetof(config, corr_snapshot_interval_s)},
    {"correlations.store", K_STR, offsetof(config, corr_store)},
    {"correlations.key_prefix", K_STR, offsetof(config, corr_key_prefix)},
    {"correlations.store_timeout", K_DURATION, offsetof(config, corr_store_timeout_s)},
    {"correlations.store_ca", K_STR, offsetof(config, corr_store_ca)},
};

void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    c->max_event_size = 262144;
    c->webhook_max_batch = 12582912;
    c->webhook_max_connections = 256;
    c->webhook_timeout_s = 10;
    c->webhook_max_inflight = 256u << 20;
    c->duplicate_window = 65536;
    c->json_include_output_property = true;
    c->json_include_output_fields_property = true;
    c->json_include_tags_property = true;
    c->stdout_enabled = true;
    c->watch_config_files = true;
    c->webserver_enabled = true;
    c->webserver_listen_port = 8765;
    c->webserver_metrics = true;
    c->priority = PRI_DEBUG;
    c->http_output_max_consecutive_timeouts = 5;
    c->output_timeout_ms = 2000;
    c->outputs_queue_max_bytes = 8u << 20;
    c->rate_limit_rate = 1;
    c->rate_limit_max_burst = 10;
    c->dedup_window_s = 60;
    c->corr_lateness_s = 60;
    c->corr_max_groups = 100000;
    c->corr_max_bytes = 64u << 20;
    c->corr_snapshot_interval_s = 60;
    c->corr_store_timeout_s = 0.2;
}

static int parse_bool(const char *v, bool *out)
{
    ynode n = {.kind = Y_SCALAR, .str = (char *)v, .len = strlen(v)};
    return yscalar_bool(&n, out);
}

static int set_str(char **dst, const char *v)
{
    char *p = pg_strdup(v);
    if (!p)
        return -1;
    pg_free(*dst);
    *dst = p;
    return 0;
}

static int set_key(config *c, const char *key, const char *val, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        if (strcmp(keys[i].key, key))
            continue;
        void *p = (char *)c + keys[i].off;
        switch (keys[i].kind) {
        case K_BOOL:
            if (parse_bool(val, p)) {
                snprintf(err, errlen, "config key '%s': '%s' is not a boolean", key, val);
                return -EINVAL;
            }
            return 0;
        case K_PRIORITY: {
            int pr = priority_parse(val);
            if (pr < 0) {
                snprintf(err, errlen, "config key 'priority': unknown priority '%s'", val);
                return -EINVAL;
            }
            *(int *)p = pr;
            return 0;
        }
        case K_MATCHING:
            if (!strcmp(val, "all") || !strcmp(val, "first")) {
                *(bool *)p = !strcmp(val, "all");
                return 0;
            }
            snprintf(err, errlen, "config key 'rule_matching': '%s' is not 'first' or 'all'", val);
            return -EINVAL;
        case K_EVALUATION:
            if (!strcmp(val, "fast") || !strcmp(val, "reference")) {
                *(bool *)p = !strcmp(val, "reference");
                return 0;
            }
            snprintf(err, errlen, "config key 'rule_evaluation': '%s' is not 'fast' or 'reference'", val);
            return -EINVAL;
        case K_STR:
            if (set_str(p, val)) {
                snprintf(err, errlen, "config key '%s': out of memory", key);
                return -ENOMEM;
            }
            return 0;
        case K_SIZE: {
            char *end;
            errno = 0;
            unsigned long long x = strtoull(val, &end, 10);
            if (!*val || *end || errno || *val == '-') {
                snprintf(err, errlen, "config key '%s': '%s' is not a non-negative integer", key, val);
                return -EINVAL;
            }
            *(size_t *)p = (size_t)x;
            return 0;
        }
        case K_DOUBLE: {
            char *end;
            double x = strtod(val, &end);
            if (!*val || *end || !(x >= 0)) {
                snprintf(err, errlen, "config key '%s': '%s' is not a non-negative number", key, val);
                return -EINVAL;
            }
            *(double *)p = x;
            return 0;
        }
        case K_DURATION: {
            int64_t ns;
            if (corr_parse_duration(val, &ns)) {
                snprintf(err, errlen, "config key '%s': '%s' is not a duration (30s, 5m, 2h, 1d)", key, val);
                return -EINVAL;
            }
            *(double *)p = (double)ns / 1e9;
            return 0;
        }
        }
    }
    return 1; /* not a key we use: accepted and ignored */
}

static int load_plugins(config *c, const ynode *root, char *err, size_t errlen)
{
    const ynode *plugins = ymap_get(root, "plugins");
    if (!plugins || plugins->kind != Y_SEQ)
        return 0;
    const ynode *load = ymap_get(root, "load_plugins");
    for (size_t i = 0; i < plugins->n; i++) {
        const ynode *p = plugins->items[i];
        const ynode *name = ymap_get(p, "name");
        if (!yscalar_is(name, "k8saudit"))
            continue; /* json is built in; others are not supported */
        if (load && load->kind == Y_SEQ) {
            bool listed = false;
            for (size_t k = 0; k < load->n; k++)
                listed |= yscalar_is(load->items[k], "k8saudit");
            if (!listed)
                continue;
        }
        const ynode *op = ymap_get(p, "open_params");
        if (op && op->kind == Y_SCALAR && set_str(&c->open_params, op->str))
            goto oom;
        const ynode *ic = ymap_get(p, "init_config");
        if (ic && ic->kind == Y_SCALAR) {
            if (set_str(&c->init_config, ic->str))
                goto oom;
        } else if (ic && ic->kind == Y_MAP) {
            /* the same YAML → JSON as test events: plain scalars that are
             * JSON numbers stay numbers, anything else (inf, 0x10) a string */
            buf b = BUF_INIT;
            ynode_to_json(ic, &b);
            if (b.oom) {
                buf_free(&b);
                goto oom;
            }
            pg_free(c->init_config);
            c->init_config = b.data;
            if (!c->init_config && !(c->init_config = pg_strdup("{}")))
                goto oom;
        }
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
}

int config_load_file(config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open configuration %s: %s", path, strerror(errno));
        return -1;
    }
    buf b = BUF_INIT;
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_put(&b, chunk, n);
    fclose(f);
    char yerr[512];
    ytree *t = ytree_load(b.data ? b.data : "", b.len, yerr, sizeof yerr);
    buf_free(&b);
    if (!t) {
        snprintf(err, errlen, "%s:%s", path, yerr);
        return -1;
    }
    int rc = 0;
    const ynode *root = t->ndocs ? t->docs[0] : NULL;
    if (root && root->kind == Y_MAP) {
        for (size_t i = 0; i + 1 < root->n && !rc; i += 2) {
            const ynode *k = root->items[i], *v = root->items[i + 1];
            if (k->kind != Y_SCALAR)
                continue;
            if (v->kind == Y_SCALAR) {
                if ((rc = set_key(c, k->str, v->str, err, errlen)) > 0)
                    rc = 0;
            } else if (v->kind == Y_MAP) {
                /* one level of nesting: stdout_output.enabled, http_output.url, ... */
                for (size_t j = 0; j + 1 < v->n && !rc; j += 2) {
                    const ynode *k2 = v->items[j], *v2 = v->items[j + 1];
                    if (k2->kind != Y_SCALAR || v2->kind != Y_SCALAR)
                        continue;
                    char dotted[256];
                    snprintf(dotted, sizeof dotted, "%s.%s", k->str, k2->str);
                    if ((rc = set_key(c, dotted, v2->str, err, errlen)) > 0)
                        rc = 0;
                }
            }
        }
        /* rules_files (current) or rules_file (older) */
        const ynode *rf = ymap_get(root, "rules_files");
        if (!rf)
            rf = ymap_get(root, "rules_file");
        for (size_t i = 0; rf && rf->kind == Y_SEQ && i < rf->n && !rc; i++)
            if (rf->items[i]->kind == Y_SCALAR && strvec_push(&c->rules_files, rf->items[i]->str))
                rc = -ENOMEM;
        if (rf && rf->kind == Y_SCALAR && !rc && strvec_push(&c->rules_files, rf->str))
            rc = -ENOMEM;
        if (rc == -ENOMEM)
            snprintf(err, errlen, "%s: out of memory", path);
        if (!rc)
            rc = load_plugins(c, root, err, errlen);
    }
    ytree_free(t);
    return rc;
}

int config_override(config *c, const char *kv, char *err, size_t errlen)
{
    const char *eq = strchr(kv, '=');
    if (!eq) {
        snprintf(err, errlen, "-o expects key=value, got '%s'", kv);
        return -1;
    }
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
    const char *val = eq + 1;
    int rc;
    if (!strncmp(key, "plugins[", 8)) {
        const char *dot = strchr(key, '.');
        rc = dot && !strcmp(dot, ".open_params")   ? set_str(&c->open_params, val)
             : dot && !strcmp(dot, ".init_config") ? set_str(&c->init_config, val)
                                                    : 0;
    } else if (!strcmp(key, "rules_files") || !strcmp(key, "rules_file")) {
        rc = strvec_push(&c->rules_files, val);
    } else {
        rc = set_key(c, key, val, err, errlen);
        return rc < 0 ? rc : 0;
    }
    if (rc)
        snprintf(err, errlen, "-o %s: out of memory", key);
    return rc ? -ENOMEM : 0;
}

/* An integer key within [min, max]: a value outside makes the service
 * useless (0 connections, a 0 s timeout, no room for one event...), so it
 * is refused at start with the range. */
static int init_uint(const json_doc *d, const char *key, size_t *out, size_t min, size_t max, char *err,
                     size_t errlen)
{
    uint32_t v = json_get(d, 0, key, strlen(key));
    if (v == JSON_NONE)
        return 0;
    const json_node *n = json_at(d, v);
    char tmp[32];
    if (n->type != JSON_NUMBER || n->len >= sizeof tmp) {
        snprintf(err, errlen, "error in plugin k8saudit init config: %s must be an integer", key);
        return -1;
    }
    memcpy(tmp, d->src + n->start, n->len);
    tmp[n->len] = 0;
    char *end;
    long long x = strtoll(tmp, &end, 10);
    if (*end || x < 0) {
        snprintf(err, errlen, "error in plugin k8saudit init config: %s must be a non-negative integer", key);
        return -1;
    }
    if ((unsigned long long)x < min || (unsigned long long)x > max) {
        snprintf(err, errlen, "error in plugin k8saudit init config: %s is %lld, allowed: %zu to %zu", key, x, min,
                 max);
        return -1;
    }
    *out = (size_t)x;
    return 0;
}

/* Decoded text of string node v (a malloc'd copy), or NULL. */
static char *json_strdup(const json_doc *d, uint32_t v)
{
    if (json_type_of(d, v) != JSON_STRING)
        return NULL;
    const json_node *n = json_at(d, v);
    char *s = pg_malloc(n->len + 1);
    if (s)
        s[json_unescape(d->src + n->start, n->len, s)] = 0;
    return s;
}

/* A string key: a copy in *out (replacing what was there). */
static int init_string(const json_doc *d, const char *key, char **out, char *err, size_t errlen)
{
    uint32_t v = json_get(d, 0, key, strlen(key));
    if (v == JSON_NONE)
        return 0;
    char *s = json_strdup(d, v);
    if (!s) {
        snprintf(err, errlen, "error in plugin k8saudit init config: %s must be a string", key);
        return -1;
    }
    pg_free(*out);
    *out = s;
    return 0;
}

/* A list-of-strings key (a single string is a one-item list). */
static int init_strings(const json_doc *d, const char *key, strvec *out, char *err, size_t errlen)
{
    uint32_t v = json_get(d, 0, key, strlen(key));
    if (v == JSON_NONE)
        return 0;
    int t = json_type_of(d, v);
    if (t != JSON_ARRAY && t != JSON_STRING)
        goto bad;
    for (uint32_t it = t == JSON_ARRAY ? json_first(d, v) : v; it != JSON_NONE;
         it = t == JSON_ARRAY ? json_next(d, v, it) : JSON_NONE) {
        char *s = json_strdup(d, it);
        if (!s)
            goto bad;
        strvec_push(out, s);
        pg_free(s);
    }
    return 0;
bad:
    snprintf(err, errlen, "error in plugin k8saudit init config: %s must be a list of strings", key);
    return -1;
}

/* An object of strings: keys and values appended to the two lists. */
static int init_string_map(const json_doc *d, const char *key, strvec *keys_out, strvec *vals_out, char *err,
                           size_t errlen)
{
    uint32_t v = json_get(d, 0, key, strlen(key));
    if (v == JSON_NONE)
        return 0;
    if (json_type_of(d, v) != JSON_OBJECT)
        goto bad;
    /* members are key, value, key, value ... children */
    for (uint32_t k = json_first(d, v); k != JSON_NONE;) {
        uint32_t val = json_next(d, v, k);
        if (val == JSON_NONE)
            break;
        char *ks = json_strdup(d, k), *vs = json_strdup(d, val);
        if (!ks || !vs) {
            pg_free(ks);
            pg_free(vs);
            goto bad;
        }
        strvec_push(keys_out, ks);
        strvec_push(vals_out, vs);
        pg_free(ks);
        pg_free(vs);
        k = json_next(d, v, val);
    }
    return 0;
bad:
    snprintf(err, errlen, "error in plugin k8saudit init config: %s must map strings to strings", key);
    return -1;
}

int config_decode_init(config *c, char *err, size_t errlen)
{
    const char *text = c->init_config && *c->init_config ? c->init_config : "{}";
    json_doc d;
    json_doc_init(&d);
    int rc = 0;
    if (json_parse(&d, text, strlen(text)) || json_type_of(&d, 0) != JSON_OBJECT) {
        snprintf(err, errlen, "error in plugin k8saudit init config: not a JSON object: %s", text);
        rc = -1;
    }
    /* sizes: from the smallest audit event (~60 bytes) to 1 GiB */
    const size_t min_size = 64, max_size = (size_t)1 << 30;
    if (!rc && (init_uint(&d, "maxEventSize", &c->max_event_size, min_size, max_size, err, errlen) ||
                init_uint(&d, "webhookMaxBatchSize", &c->webhook_max_batch, min_size, max_size, err, errlen) ||
                init_uint(&d, "maxEventBytes", &c->max_event_bytes, min_size, max_size, err, errlen) ||
                init_string(&d, "sslCertificate", &c->ssl_certificate, err, errlen) ||
                /* Peregrine's own webhook keys (README: "Webhook") */
                init_string(&d, "clientCA", &c->client_ca, err, errlen) ||
                init_strings(&d, "bearerTokens", &c->bearer_tokens, err, errlen) ||
                init_string(&d, "bearerTokenFile", &c->bearer_token_file, err, errlen) ||
                init_uint(&d, "webhookMaxConnections", &c->webhook_max_connections, 1, 65536, err, errlen) ||
                init_uint(&d, "webhookTimeoutSeconds", &c->webhook_timeout_s, 1, 3600, err, errlen) ||
                init_uint(&d, "webhookMaxInflightBytes", &c->webhook_max_inflight, min_size, (size_t)1 << 40, err,
                          errlen) ||
                init_string(&d, "clusterName", &c->cluster_name, err, errlen) ||
                init_string_map(&d, "clusterPaths", &c->cluster_paths, &c->cluster_path_names, err, errlen) ||
                init_strings(&d, "firehoseAccessKeys", &c->firehose_keys, err, errlen) ||
                init_strings(&d, "pubsubTokens", &c->pubsub_tokens, err, errlen) ||
                init_string(&d, "pubsubAudience", &c->pubsub_audience, err, errlen) ||
                init_string(&d, "pubsubJwksFile", &c->pubsub_jwks_file, err, errlen) ||
                init_string(&d, "pubsubServiceAccount", &c->pubsub_account, err, errlen) ||
                init_uint(&d, "duplicateWindow", &c->duplicate_window, 0, (size_t)1 << 24, err, errlen)))
        rc = -1;
    /* a body the in-flight budget can never hold would be answered 503
     * forever (and the API server retries forever) */
    if (!rc && c->open_params && (!strncmp(c->open_params, "http://", 7) || !strncmp(c->open_params, "https://", 8)) &&
        config_payload_limit(c) > c->webhook_max_inflight) {
        snprintf(err, errlen,
                 "error in plugin k8saudit init config: webhookMaxInflightBytes (%zu) is below the payload limit "
                 "(%s, %zu): a body of that size could never be accepted",
                 c->webhook_max_inflight, c->max_event_bytes ? "maxEventBytes" : "webhookMaxBatchSize",
                 config_payload_limit(c));
        rc = -1;
    }
    if (!rc) {
        char *ack = NULL;
        if (init_string(&d, "webhookAck", &ack, err, errlen))
            rc = -1;
        else if (ack && strcmp(ack, "written") && strcmp(ack, "queued")) {
            snprintf(err, errlen, "error in plugin k8saudit init config: webhookAck must be \"written\" or "
                                  "\"queued\", not \"%s\"", ack);
            rc = -1;
        } else if (ack)
            c->webhook_ack_queued = !strcmp(ack, "queued");
        pg_free(ack);
    }
    if (!rc) {
        char *conv = NULL;
        if (init_string(&d, "gkeConversion", &conv, err, errlen))
            rc = -1;
        else if (conv && strcmp(conv, "faithful") && strcmp(conv, "falco")) {
            snprintf(err, errlen, "error in plugin k8saudit init config: gkeConversion must be \"falco\" or "
                                  "\"faithful\", not \"%s\"", conv);
            rc = -1;
        } else if (conv)
            c->gke_faithful = !strcmp(conv, "faithful");
        pg_free(conv);
    }
    if (!rc) {
        uint32_t v = json_get(&d, 0, "useAsync", 8);
        if (v != JSON_NONE && json_type_of(&d, v) != JSON_TRUE && json_type_of(&d, v) != JSON_FALSE) {
            snprintf(err, errlen, "error in plugin k8saudit init config: useAsync must be a boolean");
            rc = -1;
        }
    }
    json_doc_free(&d);
    return rc;
}

void config_free(config *c)
{
    pg_free(c->open_params);
    pg_free(c->init_config);
    pg_free(c->ssl_certificate);
    pg_free(c->client_ca);
    pg_free(c->bearer_token_file);
    pg_free(c->cluster_name);
    pg_free(c->pubsub_audience);
    pg_free(c->pubsub_jwks_file);
    pg_free(c->pubsub_account);
    strvec_free(&c->firehose_keys);
    strvec_free(&c->pubsub_tokens);

    strvec_free(&c->bearer_tokens);
    strvec_free(&c->cluster_paths);
    strvec_free(&c->cluster_path_names);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (keys[i].kind == K_STR)
            pg_free(*(char **)((char *)c + keys[i].off));
    strvec_free(&c->rules_files);
}
