/*
 * webhook — audit webhook server on libmicrohttpd (see webhook.h).
 *
 * Request flow (MHD calls on_request several times per request):
 *   1st call   route, method, authentication, Content-Type and
 *              Content-Length are checked; a refusal is answered once the
 *              body has been read and dropped (up to the payload limit; a
 *              body declared over it gets 413 at once).
 *   body calls bytes are appended to the request's buffer, charged to a
 *              global in-flight budget (webhookMaxInflightBytes) so many
 *              large concurrent bodies cannot exhaust memory: over budget
 *              → 503, over webhookMaxBatchSize → 413.
 *   last call  the body is parsed, split and queued (the submit callback);
 *              the answer says what happened.
 * Slow or idle clients: MHD's per-connection idle timeout plus a
 * whole-request deadline checked as body bytes arrive.
 */
#include "source/webhook.h"
#include "source/webhook_routes.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/bufpool.h"
#include "util/histogram.h"
#include "util/log.h"
#include "util/mhd_api.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

/* A body must arrive within this many idle timeouts (a client trickling a
 * byte now and then never trips the idle timeout alone). */
#define REQUEST_DEADLINE_FACTOR 3

/* Capacity reserved for a body before its first byte: its Content-Length
 * up to this much (more grows as bytes arrive, so a client that claims a
 * large body and sends little holds little). */
#define BODY_RESERVE_MAX (1u << 20)

const int webhook_status_code[WH__COUNT] = {200, 400, 401, 404, 405, 413, 415, 500, 503};

/* Every open connection, so the reaper can cut one whose request has taken
 * longer than the deadline: MHD's idle timeout restarts with every byte,
 * so a client trickling its headers (slowloris) would otherwise hold a
 * connection slot for ever. */
typedef struct conn_track conn_track;
struct conn_track {
    int fd;
    struct timespec since;      /* connection start, or end of its last request */
    conn_track *prev, *next;
};

struct webhook {
    const config *cfg;
    pthread_mutex_t conns_mu;
    conn_track *conns;
    pthread_t reaper;
    bool reaper_started;
    _Atomic bool stopping;
    _Atomic bool accepting;     /* listening: read by the admin thread (webhook_running) */
    webhook_submit_fn submit;
    void *submit_ctx;
    struct MHD_Daemon *d;
    webhook_url url;
    size_t pathlen;
    char *cert_pem;             /* sslCertificate contents (cert + key) */
    char *ca_pem;               /* clientCA contents */
    strvec tokens;              /* accepted bearer tokens */
    ingest *ingest;             /* /ingest/... routes (webhook_routes.c) */
    uint16_t port;
    _Atomic size_t inflight;    /* body bytes held by requests in progress */
    /* Body buffers kept between requests: a fresh buffer grown as a body
     * arrives costs a copy per doubling and a page fault per 4 KiB,
     * several times what parsing the body costs.  At most 1/32 of
     * webhookMaxInflightBytes (not charged to that budget: a small part
     * on top of it). */
    bufpool bodies;
    _Atomic int active;         /* requests between begin and completion */
    _Atomic uint64_t status[WH__COUNT];
    histogram latency;          /* request start → response queued */
};

static void conn_request_done(webhook *w, struct MHD_Connection *c);

typedef struct request {
    buf body;
    size_t charged;             /* bytes counted in w->inflight */
    int refuse;                 /* WH_* to answer once the body is over, or -1 */
    const char *reason;
    size_t dropped;             /* body bytes read and dropped after a refusal */
    char cluster[64];
    char origin[96];
    ingest_route route;
    bool gzip;                  /* Content-Encoding: gzip */
    struct timespec start;
} request;

/* ------------------------------------------------------------ helpers */

/* A small file (certificates, tokens) as a NUL-terminated string. */
static char *read_file(const char *path, char *err, size_t errlen, const char *what)
{
    buf b = BUF_INIT;
    int rc = buf_read_file(&b, path, 16u << 20);
    if (rc || !b.len) {
        snprintf(err, errlen, "%s %s: %s", what, path, rc ? strerror(-rc) : "empty file");
        buf_free(&b);
        return NULL;
    }
    return b.data;
}

static int load_token_file(webhook *w, const char *path, char *err, size_t errlen)
{
    char *text = read_file(path, err, errlen, "bearerTokenFile");
    if (!text)
        return -1;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        while (isspace((unsigned char)*line))
            line++;
        size_t n = strlen(line);
        while (n && isspace((unsigned char)line[n - 1]))
            line[--n] = 0;
        if (n && line[0] != '#')
            strvec_push(&w->tokens, line);
    }
    pg_free(text);
    if (!w->tokens.n) {
        snprintf(err, errlen, "bearerTokenFile %s: no tokens", path);
        return -1;
    }
    return 0;
}

/* Length-independent comparison, so response timing does not reveal how
 * much of a token matched. */
static bool token_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
    return diff == 0;
}

static bool bearer_ok(webhook *w, struct MHD_Connection *c)
{
    if (!w->tokens.n)
        return true;
    const char *h = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7))
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    bool ok = false;
    for (size_t i = 0; i < w->tokens.n; i++)
        ok |= token_eq(h, n, w->tokens.v[i]);
    return ok;
}

static bool client_cert_ok(webhook *w, struct MHD_Connection *c)
{
    if (!w->ca_pem)
        return true;
    const union MHD_ConnectionInfo *ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    gnutls_session_t s = (gnutls_session_t)ci->tls_session;
    unsigned n = 0;
    if (!mhd.gnutls_certificate_get_peers(s, &n) || n == 0)
        return false;
    /* signed by clientCA, and, when it has an extended key usage, one that
     * allows client authentication (a server's certificate is not a key
     * to the webhook) */
    gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID, .data = (void *)GNUTLS_KP_TLS_WWW_CLIENT};
    unsigned status = 0;
    return mhd.gnutls_certificate_verify_peers(s, &purpose, 1, &status) == 0 && status == 0;
}

static bool json_content_type(struct MHD_Connection *c)
{
    const char *ct = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct)
        return true;            /* absent: take it as JSON */
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    return n == 16 && !strncasecmp(ct, "application/json", 16);
}

/* A cluster name from the path segment: DNS-label-like, at most 63 chars. */
static bool valid_cluster(const char *s, size_t n)
{
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

/* 1: the webhook path (cluster set, maybe ""), 0: another path. */
static int route(webhook *w, const char *url, char *cluster, size_t clen)
{
    /* clusterPaths first: a configured path names its cluster */
    size_t ulen = strlen(url);
    while (ulen > 1 && url[ulen - 1] == '/')
        ulen--;
    for (size_t i = 0; i < w->cfg->cluster_paths.n; i++) {
        const char *p = w->cfg->cluster_paths.v[i];
        size_t plen = strlen(p);
        while (plen > 1 && p[plen - 1] == '/')
            plen--;
        if (plen == ulen && !strncmp(p, url, plen)) {
            snprintf(cluster, clen, "%s", w->cfg->cluster_path_names.v[i]);
            return 1;
        }
    }
    size_t n = w->pathlen;
    const char *base = w->url.path;
    if (n == 1 && base[0] == '/')
        n = 0;                  /* path "/": segments directly below the root */
    if (strncmp(url, base, n))
        return 0;
    const char *rest = url + n;
    if (!*rest || (rest[0] == '/' && !rest[1])) {
        if (n == 0 && !*rest)
            return 0;
        snprintf(cluster, clen, "%s", w->cfg->cluster_name ? w->cfg->cluster_name : "");
        return 1;
    }
    if (rest[0] != '/')
        return 0;
    rest++;
    size_t seg = strcspn(rest, "/");
    if (rest[seg] && !(rest[seg] == '/' && !rest[seg + 1]))
        return 0;
    if (!valid_cluster(rest, seg))
        return 0;
    snprintf(cluster, clen, "%.*s", (int)seg, rest);
    return 1;
}

static double elapsed_s(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ------------------------------------------------------------ responses */

static enum MHD_Result respond(webhook *w, struct MHD_Connection *c, int which, const char *text)
{
    atomic_fetch_add_explicit(&w->status[which], 1, memory_order_relaxed);
    struct MHD_Response *r = mhd.create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            text[0] == '{' ? "application/json" : "text/plain; charset=utf-8");
    if (which == WH_405)
        mhd.add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
    if (which == WH_503)
        mhd.add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (which == WH_401)
        mhd.add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"peregrine\"");
    enum MHD_Result rc = mhd.queue_response(c, (unsigned)webhook_status_code[which], r);
    mhd.destroy_response(r);
    return rc;
}

/* A refusal: on the /ingest routes in the form the sender reads
 * (Firehose: its JSON with errorMessage). */
static enum MHD_Result refuse(webhook *w, struct MHD_Connection *c, ingest_route rt, int which, const char *text)
{
    if (rt == ROUTE_AUDIT)
        return respond(w, c, which, text);
    buf b = BUF_INIT;
    ingest_refusal(rt, c, text, &b);
    enum MHD_Result r = respond(w, c, which, b.oom ? text : buf_cstr(&b));
    buf_free(&b);
    return r;
}

static void release(webhook *w, request *rq)
{
    if (rq->charged) {
        atomic_fetch_sub(&w->inflight, rq->charged);
        rq->charged = 0;
    }
    bufpool_put(&w->bodies, &rq->body);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    request *rq = *con_cls;
    if (!rq)
        return;
    release(cls, rq);
    pg_free(rq);
    *con_cls = NULL;
    conn_request_done(cls, c);
    atomic_fetch_sub(&((webhook *)cls)->active, 1);
}

static void client_label(struct MHD_Connection *c, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char host[INET6_ADDRSTRLEN] = "?";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
    }
    snprintf(out, n, "request from %s", host);
}

static request *new_request(webhook *w, struct MHD_Connection *c, ingest_route rt, const char *cluster,
                            void **con_cls)
{
    request *rq = pg_calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->refuse = -1;
    rq->route = rt;
    snprintf(rq->cluster, sizeof rq->cluster, "%s", cluster);
    client_label(c, rq->origin, sizeof rq->origin);
    clock_gettime(CLOCK_MONOTONIC, &rq->start);
    atomic_fetch_add(&w->active, 1);
    *con_cls = rq;
    return rq;
}

/* A refusal decided from the headers.  While a body is on its way it is
 * answered once the body has been read and dropped: answering at once
 * closes the connection with unread data, which resets it, and a client
 * still sending can lose the answer (curl then sees no status at all).
 * A body declared over the payload limit is not read: 413 at once. */
static enum MHD_Result refuse_headers(webhook *w, struct MHD_Connection *c, ingest_route rt, int which,
                                      const char *text, void **con_cls)
{
    const char *cl = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
    request *rq = NULL;
    if (which != WH_413 && (len || te) && len <= w->cfg->webhook_max_batch)
        rq = new_request(w, c, rt, "", con_cls);
    if (!rq)
        return refuse(w, c, rt, which, text);
    rq->refuse = which;
    rq->reason = text;
    return MHD_YES;
}

/* The first call of a request: everything decidable from the headers. */
static enum MHD_Result begin(webhook *w, struct MHD_Connection *c, const char *url, const char *method,
                             void **con_cls)
{
    char cluster[64] = "";
    if (!strcmp(url, "/healthz") && (!strcmp(method, "GET") || !strcmp(method, "HEAD")))
        return respond(w, c, WH_200, "ok\n");
    ingest_route rt = ingest_match(url, cluster, sizeof cluster);
    if (rt == ROUTE_AUDIT && !route(w, url, cluster, sizeof cluster))
        return refuse_headers(w, c, rt, WH_404, "not found: POST audit events to the webhook path\n", con_cls);
    if (strcmp(method, "POST"))
        return refuse_headers(w, c, rt, WH_405, "method not allowed: use POST\n", con_cls);
    bool server_ok = bearer_ok(w, c);
    if (!client_cert_ok(w, c) || !(rt == ROUTE_AUDIT ? server_ok : ingest_auth(w->ingest, rt, c, server_ok)))
        return refuse_headers(w, c, rt, WH_401, "unauthorized\n", con_cls);
    if (rt == ROUTE_AUDIT && !json_content_type(c))
        return refuse_headers(w, c, rt, WH_415, "unsupported Content-Type: send application/json\n", con_cls);
    int enc = ingest_encoding(c);
    if (enc < 0)
        return refuse_headers(w, c, rt, WH_415, "unsupported Content-Encoding: send gzip or none\n", con_cls);
    const char *cl = mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long clen = cl ? strtoull(cl, NULL, 10) : 0;
    if (clen > w->cfg->webhook_max_batch)
        return refuse_headers(w, c, rt, WH_413, "body larger than webhookMaxBatchSize\n", con_cls);
    request *rq = new_request(w, c, rt, cluster, con_cls);
    if (!rq)
        return respond(w, c, WH_503, "out of memory\n");
    rq->body = bufpool_get(&w->bodies, clen < BODY_RESERVE_MAX ? (size_t)clen : BODY_RESERVE_MAX);
    rq->gzip = enc == 1;
    return MHD_YES;
}

/* A piece of the body. */
static enum MHD_Result body(webhook *w, struct MHD_Connection *c, request *rq, const char *data, size_t *size)
{
    size_t n = *size;
    *size = 0;
    if (elapsed_s(&rq->start) > (double)w->cfg->webhook_timeout_s * REQUEST_DEADLINE_FACTOR) {
        log_msg("webhook: %s took longer than %zu s to send its body; connection closed", rq->origin,
                w->cfg->webhook_timeout_s * REQUEST_DEADLINE_FACTOR);
        return MHD_NO;
    }
    if (rq->refuse >= 0) {              /* refused: what is left is dropped, up to the payload limit */
        rq->dropped += n;
        return rq->dropped > w->cfg->webhook_max_batch ? MHD_NO : MHD_YES;
    }
    if (rq->body.len + n > w->cfg->webhook_max_batch) {
        rq->refuse = WH_413;
        rq->reason = "body larger than webhookMaxBatchSize\n";
        release(w, rq);
        (void)c;
        return MHD_YES;
    }
    size_t now = atomic_fetch_add(&w->inflight, n) + n;
    rq->charged += n;
    if (now > w->cfg->webhook_max_inflight) {
        rq->refuse = WH_503;
        rq->reason = "too many bodies in flight; retry\n";
        release(w, rq);
        return MHD_YES;
    }
    buf_put(&rq->body, data, n);
    if (rq->body.oom) {
        rq->refuse = WH_503;
        rq->reason = "out of memory; retry\n";
        release(w, rq);
    }
    return MHD_YES;
}

/* The body is complete: queue it and answer. */
static enum MHD_Result finish_request(webhook *w, struct MHD_Connection *c, request *rq);

static enum MHD_Result finish(webhook *w, struct MHD_Connection *c, request *rq)
{
    enum MHD_Result r = finish_request(w, c, rq);
    hist_observe(&w->latency, (uint64_t)(elapsed_s(&rq->start) * 1e9));
    return r;
}

/* A gzip body, inflated in place of the compressed one: the inflated
 * bytes count against webhookMaxBatchSize (a decompression bomb gets 413)
 * and the in-flight budget.  -1 with the refusal in rq when refused. */
static int inflate_body(webhook *w, request *rq)
{
    buf out = bufpool_get(&w->bodies, BODY_RESERVE_MAX);
    int zr = ingest_inflate(rq->body.data ? rq->body.data : "", rq->body.len, w->cfg->webhook_max_batch, &out);
    if (zr) {
        bufpool_put(&w->bodies, &out);
        rq->refuse = zr == -EFBIG ? WH_413 : zr == -ENOMEM ? WH_503 : WH_400;
        rq->reason = zr == -EFBIG   ? "decompressed body larger than webhookMaxBatchSize\n"
                     : zr == -ENOMEM ? "out of memory; retry\n"
                                     : "corrupt gzip body\n";
        return -1;
    }
    size_t now = atomic_fetch_add(&w->inflight, out.len) + out.len;
    rq->charged += out.len;
    if (now > w->cfg->webhook_max_inflight) {
        bufpool_put(&w->bodies, &out);
        rq->refuse = WH_503;
        rq->reason = "too many bodies in flight; retry\n";
        return -1;
    }
    bufpool_put(&w->bodies, &rq->body);
    rq->body = out;
    return 0;
}

static enum MHD_Result finish_request(webhook *w, struct MHD_Connection *c, request *rq)
{
    if (rq->refuse < 0 && rq->gzip)
        inflate_body(w, rq);
    if (rq->refuse >= 0)
        return refuse(w, c, rq->route, rq->refuse, rq->reason);
    if (rq->route != ROUTE_AUDIT) {
        ingest_reply rep = {.which = WH_500};
        ingest_handle(w->ingest, &rq->charged, w->submit, w->submit_ctx, rq->route, c, rq->body.data ? rq->body.data : "", rq->body.len,
                      rq->origin, rq->cluster, &rep);
        release(w, rq);
        enum MHD_Result r = respond(w, c, rep.which, rep.body.oom ? "out of memory\n" : buf_cstr(&rep.body));
        buf_free(&rep.body);
        return r;
    }
    /* The body's copy in the evaluation queue and its parse nodes (about
     * up to twice its size for audit events) count against the same budget,
     * held until the request is answered — after its alerts are written,
     * by default: then every byte between the socket and the alert write
     * is counted.  Refused only when other requests hold bytes, so a lone
     * body up to the payload limit always gets through. */
    size_t extra = 3 * rq->body.len;
    size_t now = atomic_fetch_add(&w->inflight, extra) + extra;
    rq->charged += extra;
    if (now > w->cfg->webhook_max_inflight && now > rq->charged) {
        release(w, rq);
        return refuse(w, c, rq->route, WH_503, "too many bodies in flight; retry\n");
    }
    char err[256] = "";
    engine_submit_info info = {0};
    engine_submit_rc rc = w->submit(w->submit_ctx, rq->body.data ? rq->body.data : "", rq->body.len, rq->origin,
                                    rq->cluster, false, NULL, &info, err, sizeof err);
    release(w, rq);
    char msg[384];
    switch (rc) {
    case ENGINE_QUEUED:
        snprintf(msg, sizeof msg, "{\"events\":%zu,\"dropped\":%zu}\n", info.events, info.dropped);
        return respond(w, c, WH_200, msg);
    case ENGINE_BUSY:
        return respond(w, c, WH_503, "evaluation queue full; retry\n");
    case ENGINE_NOMEM:
        return respond(w, c, WH_503, "out of memory; retry\n");
    case ENGINE_BAD_JSON:
    case ENGINE_NOT_AUDIT:
        snprintf(msg, sizeof msg, "%s\n", err);
        return respond(w, c, WH_400, msg);
    }
    return respond(w, c, WH_500, "internal error\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    webhook *w = cls;
    request *rq = *con_cls;
    if (!rq)
        return begin(w, c, url, method, con_cls);
    if (*upload_data_size)
        return body(w, c, rq, upload_data, upload_data_size);
    return finish(w, c, rq);
}

/* ------------------------------------------------------------ connections */

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    webhook *w = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_track *t = ci ? pg_calloc(1, sizeof *t) : NULL;
        if (!t)
            return;             /* untracked: still bounded by the idle timeout */
        t->fd = ci->connect_fd;
        clock_gettime(CLOCK_MONOTONIC, &t->since);
        pthread_mutex_lock(&w->conns_mu);
        t->next = w->conns;
        if (w->conns)
            w->conns->prev = t;
        w->conns = t;
        pthread_mutex_unlock(&w->conns_mu);
        *socket_context = t;
        return;
    }
    conn_track *t = *socket_context;
    if (!t)
        return;
    /* MHD notifies before it closes the socket, so the fd is never shut
     * down after being reused */
    pthread_mutex_lock(&w->conns_mu);
    if (t->prev)
        t->prev->next = t->next;
    else
        w->conns = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&w->conns_mu);
    pg_free(t);
    *socket_context = NULL;
}

/* A request finished: the deadline starts again for the next one. */
static void conn_request_done(webhook *w, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = mhd.get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_track *t = ci ? ci->socket_context : NULL;
    if (!t)
        return;
    pthread_mutex_lock(&w->conns_mu);
    clock_gettime(CLOCK_MONOTONIC, &t->since);
    pthread_mutex_unlock(&w->conns_mu);
}

static void *reaper_main(void *arg)
{
    webhook *w = arg;
    double deadline = (double)w->cfg->webhook_timeout_s * REQUEST_DEADLINE_FACTOR;
    while (!atomic_load(&w->stopping)) {
        nanosleep(&(struct timespec){0, 250 * 1000 * 1000}, NULL);
        pthread_mutex_lock(&w->conns_mu);
        for (conn_track *t = w->conns; t; t = t->next)
            if (t->fd >= 0 && elapsed_s(&t->since) > deadline) {
                shutdown(t->fd, SHUT_RDWR);   /* MHD sees the end and cleans up */
                t->fd = -1;
            }
        pthread_mutex_unlock(&w->conns_mu);
    }
    return NULL;
}

/* ------------------------------------------------------------ lifecycle */

int webhook_start(const config *cfg, webhook_submit_fn submit, void *ctx, int threads, webhook **out, char *err,
                  size_t errlen)
{
    *out = NULL;
    webhook *w = pg_calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->cfg = cfg;
    w->submit = submit;
    w->submit_ctx = ctx;
    pthread_mutex_init(&w->conns_mu, NULL);
    bufpool_init(&w->bodies, cfg->webhook_max_inflight / 32);
    if (webhook_parse_url(cfg->open_params, &w->url, err, errlen) || mhd_api_load(err, errlen))
        goto fail;
    w->pathlen = strlen(w->url.path);
    /* An empty token (a template whose variable is unset) asks for
     * authentication and yields none, or locks everyone out: refused. */
    for (size_t i = 0; i < cfg->bearer_tokens.n; i++) {
        const char *t = cfg->bearer_tokens.v[i];
        while (isspace((unsigned char)*t))
            t++;
        if (!*t) {
            snprintf(err, errlen, "bearerTokens: token %zu of %zu is empty: refusing to start without the "
                     "authentication it asks for (an unset template variable?)", i + 1, cfg->bearer_tokens.n);
            goto fail;
        }
        strvec_push(&w->tokens, cfg->bearer_tokens.v[i]);
    }
    if (cfg->bearer_token_file && load_token_file(w, cfg->bearer_token_file, err, errlen))
        goto fail;
    if (!(w->ingest = ingest_new(cfg, &w->inflight, err, errlen)))
        goto fail;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL | MHD_USE_ITC;
    if (w->url.tls) {
        const char *certpath = cfg->ssl_certificate ? cfg->ssl_certificate : "/etc/falco/falco.pem";
        if (!(w->cert_pem = read_file(certpath, err, errlen, "sslCertificate")))
            goto fail;
        if (cfg->client_ca && !(w->ca_pem = read_file(cfg->client_ca, err, errlen, "clientCA")))
            goto fail;
        flags |= MHD_USE_TLS;
    } else if (cfg->client_ca) {
        snprintf(err, errlen, "clientCA needs an https:// webhook (open_params is %s)", cfg->open_params);
        goto fail;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    bool have_addr = false;
    if (w->url.host[0]) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
        struct addrinfo *ai = NULL;
        int grc = getaddrinfo(w->url.host, NULL, &hints, &ai);
        if (grc || !ai) {
            snprintf(err, errlen, "webhook host '%s': %s", w->url.host, gai_strerror(grc));
            goto fail;
        }
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        freeaddrinfo(ai);
        if (ss.ss_family == AF_INET6) {
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons(w->url.port);
            flags |= MHD_USE_IPv6;
        } else {
            ((struct sockaddr_in *)&ss)->sin_port = htons(w->url.port);
        }
        have_addr = true;
    }
    struct MHD_OptionItem opts[16];
    int k = 0;
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)log_prefixed_v, (void *)"webhook"};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, w};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, w};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->webhook_timeout_s, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->webhook_max_connections, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads < 2 ? 2 : threads, NULL};
    if (have_addr)
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    if (w->url.tls) {
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, w->cert_pem};
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, w->cert_pem};
        /* TLS 1.2 and 1.3 only */
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                            (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
        if (w->ca_pem)
            opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, w->ca_pem};
    }
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    unsigned try_flags = flags;
    if (!have_addr)
        try_flags |= MHD_USE_DUAL_STACK;
    w->d = mhd.start_daemon(try_flags, w->url.port, NULL, NULL, on_request, w, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!w->d && !have_addr)    /* no IPv6 here: IPv4 only */
        w->d = mhd.start_daemon(flags, w->url.port, NULL, NULL, on_request, w, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!w->d) {
        snprintf(err, errlen, "cannot start the webhook on %s (port in use, bad certificate or key?)",
                 cfg->open_params);
        goto fail;
    }
    const union MHD_DaemonInfo *di = mhd.get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
    w->port = di ? di->port : w->url.port;
    atomic_store(&w->accepting, true);
    if (pthread_create(&w->reaper, NULL, reaper_main, w) == 0)
        w->reaper_started = true;
    else
        log_msg("webhook: cannot start the slow-request reaper; relying on the idle timeout");
    log_msg("webhook: listening on %s://%s:%u%s%s%s", w->url.tls ? "https" : "http",
            w->url.host[0] ? w->url.host : "*", w->port, w->url.path,
            w->tokens.n ? ", bearer tokens required" : "", w->ca_pem ? ", client certificates required" : "");
    *out = w;
    return 0;
fail:
    webhook_stop(w);
    return -1;
}

uint16_t webhook_port(const webhook *w) { return w->port; }

void webhook_stop_accepting(webhook *w)
{
    if (!w || !w->d)
        return;
    atomic_store(&w->accepting, false);
    /* stop accepting, give requests in progress a moment to finish (their
     * bodies are queued and acknowledged), then close the connections */
    mhd.quiesce_daemon(w->d);
    for (int i = 0; i < 500 && atomic_load(&w->active) > 0; i++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    mhd.stop_daemon(w->d);
    w->d = NULL;
    atomic_store(&w->stopping, true);
    if (w->reaper_started) {
        pthread_join(w->reaper, NULL);
        w->reaper_started = false;
    }
}

void webhook_stop(webhook *w)
{
    if (!w)
        return;
    webhook_stop_accepting(w);
    pthread_mutex_destroy(&w->conns_mu);
    bufpool_free(&w->bodies);
    pg_free(w->cert_pem);
    pg_free(w->ca_pem);
    strvec_free(&w->tokens);
    ingest_free(w->ingest);
    pg_free(w);
}

void webhook_counts(const webhook *w, uint64_t out[WH__COUNT])
{
    for (int i = 0; i < WH__COUNT; i++)
        out[i] = atomic_load_explicit(&((webhook *)w)->status[i], memory_order_relaxed);
}

void webhook_print_stats(const webhook *w, FILE *out)
{
    uint64_t n[WH__COUNT];
    webhook_counts(w, n);
    fprintf(out, "Webhook responses:");
    for (int i = 0; i < WH__COUNT; i++)
        if (n[i])
            fprintf(out, " %d: %llu", webhook_status_code[i], (unsigned long long)n[i]);
    fputc('\n', out);
}

const histogram *webhook_latency(const webhook *w) { return &w->latency; }
size_t webhook_inflight_bytes(const webhook *w) { return atomic_load(&((webhook *)w)->inflight); }
bool webhook_running(const webhook *w) { return w && atomic_load(&((webhook *)w)->accepting); }
const struct ingest *webhook_ingest(const webhook *w) { return w->ingest; }
