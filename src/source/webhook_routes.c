/*
 * webhook_routes — cloud and shipper deliveries (see webhook_routes.h).
 *
 * A body is decoded (src/envelope/) into groups of native audit JSON, one
 * per cluster, each queued like an audit webhook body with its events
 * marked for duplicate suppression (every one of these transports
 * redelivers).  The first group's chunk also carries the envelope's
 * counts, so they reach the statistics in order with everything else.
 */
#include "source/webhook_routes.h"
#include "envelope/codec.h"
#include "envelope/envelope.h"
#include "source/oidc.h"
#include "source/webhook.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/mhd_api.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *const ingest_route_name[ROUTE__COUNT] = {"audit", "aws-firehose", "gcp-pubsub", "generic"};

struct ingest {
    const config *cfg;
    _Atomic size_t *inflight;
    oidc *oidc;                 /* Pub/Sub OIDC tokens, when pubsubJwksFile is set */
    _Atomic int64_t last_oidc_log;
    _Atomic uint64_t requests[ROUTE__COUNT];
    _Atomic uint64_t events[ROUTE__COUNT];
    _Atomic uint64_t unauthorized[ROUTE__COUNT];
};

ingest *ingest_new(const config *cfg, _Atomic size_t *inflight, char *err, size_t errlen)
{
    ingest *in = pg_calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    in->cfg = cfg;
    in->inflight = inflight;
    for (size_t i = 0; i < cfg->firehose_keys.n; i++)
        if (!*cfg->firehose_keys.v[i]) {
            snprintf(err, errlen, "firehoseAccessKeys: an empty key would let anyone in");
            pg_free(in);
            return NULL;
        }
    for (size_t i = 0; i < cfg->pubsub_tokens.n; i++)
        if (!*cfg->pubsub_tokens.v[i]) {
            snprintf(err, errlen, "pubsubTokens: an empty token would let anyone in");
            pg_free(in);
            return NULL;
        }
    if (cfg->pubsub_jwks_file && !(in->oidc = oidc_new(cfg->pubsub_jwks_file, cfg->pubsub_audience,
                                                       cfg->pubsub_account, err, errlen))) {
        pg_free(in);
        return NULL;
    }
    return in;
}

void ingest_free(ingest *in)
{
    if (in)
        oidc_free(in->oidc);
    pg_free(in);
}

ingest_route ingest_match(const char *url, char *cluster, size_t clen)
{
    static const struct {
        const char *path;
        ingest_route r;
        bool cluster_segment;
    } routes[] = {
        {"/ingest/aws-firehose", ROUTE_FIREHOSE, false},
        {"/ingest/gcp-pubsub", ROUTE_PUBSUB, false},
        {"/ingest/generic", ROUTE_GENERIC, true},
    };
    cluster[0] = 0;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        size_t n = strlen(routes[i].path);
        if (strncmp(url, routes[i].path, n))
            continue;
        const char *rest = url + n;
        if (!*rest || !strcmp(rest, "/"))
            return routes[i].r;
        if (!routes[i].cluster_segment || rest[0] != '/')
            continue;
        rest++;
        size_t seg = strcspn(rest, "/");
        if (seg == 0 || seg >= clen || seg > 63 || (rest[seg] && strcmp(rest + seg, "/")))
            continue;
        for (size_t k = 0; k < seg; k++)
            if (!((rest[k] >= 'a' && rest[k] <= 'z') || (rest[k] >= 'A' && rest[k] <= 'Z') ||
                  (rest[k] >= '0' && rest[k] <= '9') || rest[k] == '-' || rest[k] == '_' || rest[k] == '.'))
                return ROUTE_AUDIT;
        memcpy(cluster, rest, seg);
        cluster[seg] = 0;
        return routes[i].r;
    }
    return ROUTE_AUDIT;
}

/* ------------------------------------------------------------ auth */

/* Constant-time comparison (timing must not tell how much matched). */
static bool secret_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
    return diff == 0;
}

static bool any_eq(const strvec *v, const char *s, size_t n)
{
    bool ok = false;
    for (size_t i = 0; i < v->n; i++)
        ok |= secret_eq(s, n, v->v[i]);
    return ok;
}

/* The server's tokens also as Basic credentials (Fluent Bit's http_User /
 * http_Passwd): the password must be one of them, any user name. */
static bool basic_ok(const config *cfg, struct MHD_Connection *c)
{
    const char *h = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Basic ", 6))
        return false;
    buf dec = BUF_INIT;
    bool ok = false;
    if (!base64_decode(h + 6, strlen(h + 6), &dec) && dec.len) {
        const char *colon = memchr(dec.data, ':', dec.len);
        if (colon) {
            size_t pn = dec.len - (size_t)(colon + 1 - dec.data);
            bool any = false;
            for (size_t i = 0; i < cfg->bearer_tokens.n; i++)
                if (*cfg->bearer_tokens.v[i]) {
                    any = true;
                    ok |= secret_eq(colon + 1, pn, cfg->bearer_tokens.v[i]);
                }
            ok &= any;
        }
    }
    buf_free(&dec);
    return ok;
}

/* Pub/Sub: the URL token and/or the OIDC token, each required when
 * configured. */
static bool pubsub_ok(ingest *in, struct MHD_Connection *c)
{
    const config *cfg = in->cfg;
    bool ok = true;
    if (cfg->pubsub_tokens.n) {
        const char *t = mhd.lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
        ok &= t && any_eq(&cfg->pubsub_tokens, t, strlen(t));
    }
    if (in->oidc) {
        const char *h = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        char why[160] = "no bearer token";
        bool tok = h && !strncasecmp(h, "Bearer ", 7) && oidc_verify(in->oidc, h + 7, (int64_t)time(NULL), why,
                                                                      sizeof why);
        int64_t now = (int64_t)time(NULL), last = atomic_load(&in->last_oidc_log);
        if (!tok && now - last >= 10 && atomic_compare_exchange_strong(&in->last_oidc_log, &last, now))
            log_msg("webhook: /ingest/gcp-pubsub: OIDC token refused: %s", why);
        ok &= tok;
    }
    return ok;
}

bool ingest_auth(ingest *in, ingest_route route, struct MHD_Connection *c, bool server_ok)
{
    const config *cfg = in->cfg;
    bool ok = server_ok;
    if (route == ROUTE_FIREHOSE && cfg->firehose_keys.n) {
        const char *k = mhd.lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Firehose-Access-Key");
        ok = k && any_eq(&cfg->firehose_keys, k, strlen(k));
    } else if (route == ROUTE_PUBSUB && (cfg->pubsub_tokens.n || in->oidc)) {
        ok = pubsub_ok(in, c);
    } else if (route == ROUTE_GENERIC && !server_ok) {
        ok = basic_ok(cfg, c);
    }
    if (!ok && route != ROUTE_AUDIT)
        atomic_fetch_add(&in->unauthorized[route], 1);
    return ok;
}

/* ------------------------------------------------------------ encoding */

int ingest_encoding(struct MHD_Connection *c)
{
    const char *h = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (!h)
        return 0;
    while (*h == ' ')
        h++;
    size_t n = strcspn(h, " ;,");
    if (!n || (n == 8 && !strncasecmp(h, "identity", 8)))
        return 0;
    if ((n == 4 && !strncasecmp(h, "gzip", 4)) || (n == 6 && !strncasecmp(h, "x-gzip", 6)))
        return h[n + strspn(h + n, " ")] ? -1 : 1;   /* stacked encodings: not ours */
    return -1;
}

int ingest_inflate(const char *body, size_t n, size_t max, buf *out)
{
    return gz_inflate(body, n, max, out);
}

/* ------------------------------------------------------------ replies */

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Firehose's answer: the request id echoed, a timestamp, and on failure
 * an errorMessage (at most 8192 characters). */
static void firehose_reply(struct MHD_Connection *c, const char *body_id, size_t body_idn, const char *error,
                           buf *out)
{
    const char *id = mhd.lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Firehose-Request-Id");
    buf_puts(out, "{\"requestId\":");
    if (id)
        json_write_string(out, id, strlen(id));
    else
        json_write_string(out, body_id ? body_id : "", body_id ? body_idn : 0);
    buf_printf(out, ",\"timestamp\":%llu", (unsigned long long)now_ms());
    if (error) {
        size_t n = strcspn(error, "\n");
        buf_puts(out, ",\"errorMessage\":");
        json_write_string(out, error, n > 8192 ? 8192 : n);
    }
    buf_puts(out, "}");
}

void ingest_refusal(ingest_route route, struct MHD_Connection *c, const char *text, buf *out)
{
    if (route == ROUTE_FIREHOSE)
        firehose_reply(c, NULL, 0, text, out);
    else
        buf_puts(out, text);
}

/* Firehose's common attributes may name the cluster:
 * {"commonAttributes":{"cluster":"harrier-prod"}} */
static void common_cluster(struct MHD_Connection *c, char *out, size_t outn)
{
    out[0] = 0;
    const char *h = mhd.lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Firehose-Common-Attributes");
    if (!h)
        return;
    json_doc d;
    json_doc_init(&d);
    if (!json_parse(&d, h, strlen(h)) && json_type_of(&d, 0) == JSON_OBJECT) {
        uint32_t ca = json_get(&d, 0, "commonAttributes", 16);
        uint32_t v = ca != JSON_NONE && json_type_of(&d, ca) == JSON_OBJECT ? json_get(&d, ca, "cluster", 7)
                                                                            : JSON_NONE;
        if (v != JSON_NONE && json_type_of(&d, v) == JSON_STRING) {
            const json_node *nd = json_at(&d, v);
            if (nd->len < outn && !(nd->flags & JSON_F_ESCAPES)) {
                memcpy(out, d.src + nd->start, nd->len);
                out[nd->len] = 0;
            }
        }
    }
    json_doc_free(&d);
}

static void count_into(run_counts *rc, const envelope_counts *ec, size_t bytes)
{
    memset(rc, 0, sizeof *rc);
    rc->payloads = 1;
    rc->bytes = bytes;
    rc->env_payloads = 1;
    rc->env_records = ec->records;
    rc->env_control = ec->control;
    rc->env_skipped = ec->skipped;
    rc->env_truncated = ec->truncated;
    rc->env_bad = ec->bad;
}

/* ------------------------------------------------------------ budget */

/* Charge `more` bytes of a request to the in-flight budget: false when
 * that leaves it over webhookMaxInflightBytes while other requests hold
 * bytes.  What is charged stays charged until the caller releases *charged. */
static bool charge(ingest *in, size_t *charged, size_t more)
{
    size_t now = atomic_fetch_add(in->inflight, more) + more;
    *charged += more;
    return now <= in->cfg->webhook_max_inflight || now <= *charged;
}

typedef struct decode_budget {
    ingest *in;
    size_t *charged;
    size_t covered;             /* decode bytes already charged */
} decode_budget;

/* envelope_opts.charge: the decode holds `held` bytes */
static int charge_decode(void *ctx, size_t held)
{
    decode_budget *b = ctx;
    if (held <= b->covered)
        return 0;
    size_t more = held - b->covered;
    b->covered = held;
    return charge(b->in, b->charged, more) ? 0 : -EBUSY;
}

/* Queue every group; 0 when all were queued, else the engine's refusal
 * (groups before it stay queued: a redelivery's copies of them are
 * suppressed as duplicates). */
static engine_submit_rc submit_groups(webhook_submit_fn submit, void *sctx, envelope *env, const char *origin,
                                      size_t bytes, engine_submit_info *tot, char *err, size_t errlen)
{
    run_counts extra;
    count_into(&extra, envelope_result_counts(env), bytes);
    const envelope_group *g = envelope_groups(env);
    size_t ng = envelope_ngroups(env);
    const buf *msgs = envelope_messages(env);
    if (msgs->len)
        log_msg("webhook: %s: %.*s", origin, (int)(msgs->len - 1), msgs->data);
    for (size_t i = 0; i < (ng ? ng : 1); i++) {
        engine_submit_info info = {0};
        const char *text = ng ? envelope_text(env) + g[i].off : "[]";
        size_t len = ng ? g[i].len : 2;
        const char *cl = ng ? envelope_cluster(env, &g[i]) : "";
        static const run_counts more = {0};    /* the payload is counted once, with the first group */
        engine_submit_rc rc = submit(sctx, text, len, origin, cl, true, i == 0 ? &extra : &more, &info, err, errlen);
        tot->events += info.events;
        tot->dropped += info.dropped;
        if (rc != ENGINE_QUEUED)
            return rc;
    }
    return ENGINE_QUEUED;
}

void ingest_handle(ingest *in, size_t *charged, webhook_submit_fn submit, void *submit_ctx, ingest_route route,
                   struct MHD_Connection *c, const char *body, size_t n, const char *origin, const char *cluster,
                   ingest_reply *out)
{
    atomic_fetch_add(&in->requests[route], 1);
    char err[256] = "";
    char common[256];
    envelope_opts eo = {
        .gke_faithful = in->cfg->gke_faithful,
        .max_bytes = config_payload_limit(in->cfg),
        .cluster = cluster,
    };
    switch (route) {
    case ROUTE_FIREHOSE:
        eo.accept = ENV_BIT(ENV_FIREHOSE);
        common_cluster(c, common, sizeof common);
        eo.cluster_override = common;
        break;
    case ROUTE_PUBSUB:
        eo.accept = ENV_BIT(ENV_PUBSUB) | ENV_BIT(ENV_GKE);
        break;
    default:
        eo.accept = ENV_ANY;
        break;
    }
    /* Firehose's request id names the batch in messages (retries keep it) */
    char label[256];
    const char *rid = route == ROUTE_FIREHOSE ? mhd.lookup_connection_value(c, MHD_HEADER_KIND, "X-Amz-Firehose-Request-Id")
                                              : NULL;
    snprintf(label, sizeof label, "%s%s%.64s%s", origin, rid ? " (firehose request " : "", rid ? rid : "", rid ? ")" : "");
    origin = label;
    /* The first parse of the body is charged up front (3x its size, as on
     * the audit path), the rest of the decode as it grows past that, then
     * the queue's copy of the decoded events and their nodes (3x) */
    decode_budget b = {in, charged, 3 * n};
    eo.charge = charge_decode;
    eo.charge_ctx = &b;
    envelope *env = envelope_new();
    int rc = !charge(in, charged, 3 * n) ? -EBUSY
             : env                        ? envelope_decode(env, body, n, &eo, err, sizeof err)
                                          : -ENOMEM;
    if (rc >= 0) {
        size_t text = 0;
        for (size_t i = 0; i < envelope_ngroups(env); i++)
            text += envelope_groups(env)[i].len;
        if (!charge(in, charged, 3 * text))
            rc = -EBUSY;
    }
    engine_submit_info info = {0};
    engine_submit_rc src = ENGINE_QUEUED;
    if (rc >= 0)
        src = submit_groups(submit, submit_ctx, env, origin, n, &info, err, sizeof err);
    const char *error = NULL;
    if (rc == -EBUSY) {
        out->which = WH_503;
        error = "too many bodies in flight; retry";
    } else if (rc == -EFBIG) {
        out->which = WH_413;
        error = err;
    } else if (rc == -ENOMEM || src == ENGINE_NOMEM) {
        out->which = WH_503;
        error = "out of memory; retry";
    } else if (rc < 0 || src == ENGINE_BAD_JSON || src == ENGINE_NOT_AUDIT) {
        out->which = WH_400;
        error = err;
        log_msg("webhook: %s on %s refused: %s", origin, ingest_route_name[route], err);
    } else if (src == ENGINE_BUSY) {
        out->which = WH_503;
        error = "evaluation queue full; retry";
    } else {
        out->which = WH_200;
    }
    atomic_fetch_add(&in->events[route], info.events);
    if (route == ROUTE_FIREHOSE) {
        firehose_reply(c, NULL, 0, error, &out->body);
    } else if (error) {
        buf_printf(&out->body, "%s\n", error);
    } else {
        const envelope_counts *ec = envelope_result_counts(env);     /* env is set: rc >= 0 */
        buf_printf(&out->body,
                   "{\"events\":%zu,\"dropped\":%zu,\"records\":%llu,\"skipped\":%llu,\"truncated\":%llu,"
                   "\"undecodable\":%llu}\n",
                   info.events, info.dropped, (unsigned long long)ec->records,
                   (unsigned long long)(ec->skipped + ec->control), (unsigned long long)ec->truncated,
                   (unsigned long long)ec->bad);
    }
    envelope_free(env);
}

void ingest_get_stats(const ingest *in, ingest_stats *out)
{
    ingest *m = (ingest *)in;
    for (int i = 0; i < ROUTE__COUNT; i++) {
        out->requests[i] = atomic_load(&m->requests[i]);
        out->events[i] = atomic_load(&m->events[i]);
        out->unauthorized[i] = atomic_load(&m->unauthorized[i]);
    }
}
