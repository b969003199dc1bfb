/*
 * admin — health, readiness and metrics over libmicrohttpd (see admin.h).
 * One internal thread: these endpoints are polled every few seconds.
 */
#include "ops/admin.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/mhd_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

struct admin {
    admin_opts o;
    char healthz[256];
    char *cert;
    struct MHD_Daemon *d;
    uint16_t port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const char *text,
                             size_t len)
{
    struct MHD_Response *r = mhd.create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = mhd.queue_response(c, status, r);
    mhd.destroy_response(r);
    return rc;
}

static bool healthy(const admin *a)
{
    const metrics_sources *m = a->o.src;
    if (m->input_alive && !atomic_load(m->input_alive))
        return false;
    return !m->wh || webhook_running(m->wh);
}

static bool ready(const admin *a)
{
    const metrics_sources *m = a->o.src;
    return engine_ruleset(m->eng) != NULL && healthy(a);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    admin *a = cls;
    const char *text = "text/plain; charset=utf-8";
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "method not allowed\n", 19);
    if (!strcmp(url, a->healthz)) {
        bool ok = healthy(a);
        /* Falco's body for its health endpoint */
        const char *b = ok ? "{\"status\": \"ok\"}" : "{\"status\": \"unavailable\"}";
        return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", b, strlen(b));
    }
    if (!strcmp(url, "/readyz")) {
        bool ok = ready(a);
        const char *b = ok ? "{\"status\": \"ready\"}" : "{\"status\": \"not ready\"}";
        return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", b, strlen(b));
    }
    if (a->o.metrics && !strcmp(url, "/metrics")) {
        buf b = BUF_INIT;
        metrics_render(a->o.src, &b);
        enum MHD_Result rc = b.oom ? reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, "out of memory\n", 14)
                                   : reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                                           b.data ? b.data : "", b.len);
        buf_free(&b);
        return rc;
    }
    return reply(c, MHD_HTTP_NOT_FOUND, text, "not found\n", 10);
}

static char *slurp(const char *path)
{
    buf b = BUF_INIT;
    if (buf_read_file(&b, path, 1u << 20) || !b.len) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}

int admin_start(const admin_opts *o, admin **out, char *err, size_t errlen)
{
    *out = NULL;
    if (mhd_api_load(err, errlen))
        return -1;
    admin *a = pg_calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->o = *o;
    snprintf(a->healthz, sizeof a->healthz, "%s", o->healthz_path && *o->healthz_path ? o->healthz_path : "/healthz");
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_EPOLL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    bool have_addr = false;
    if (o->listen_address && *o->listen_address) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
        struct addrinfo *ai = NULL;
        int grc = getaddrinfo(o->listen_address, NULL, &hints, &ai);
        if (grc || !ai) {
            snprintf(err, errlen, "webserver.listen_address '%s': %s", o->listen_address, gai_strerror(grc));
            pg_free(a);
            return -1;
        }
        memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
        freeaddrinfo(ai);
        if (ss.ss_family == AF_INET6) {
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons(o->port);
            flags |= MHD_USE_IPv6;
        } else {
            ((struct sockaddr_in *)&ss)->sin_port = htons(o->port);
        }
        have_addr = true;
    }
    struct MHD_OptionItem opts[8];
    int k = 0;
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)log_prefixed_v, (void *)"admin"};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL};
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, 64, NULL};
    if (have_addr)
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &ss};
    if (o->ssl_certificate) {
        if (!(a->cert = slurp(o->ssl_certificate))) {
            snprintf(err, errlen, "webserver.ssl_certificate %s: %s", o->ssl_certificate, strerror(errno));
            pg_free(a);
            return -1;
        }
        flags |= MHD_USE_TLS;
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, a->cert};
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, a->cert};
        opts[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                            (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
    }
    opts[k++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    a->d = mhd.start_daemon(flags, o->port, NULL, NULL, on_request, a, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!a->d) {
        snprintf(err, errlen, "cannot start the admin web server on %s:%u (port in use?)",
                 have_addr ? o->listen_address : "*", o->port);
        pg_free(a->cert);
        pg_free(a);
        return -1;
    }
    const union MHD_DaemonInfo *di = mhd.get_daemon_info(a->d, MHD_DAEMON_INFO_BIND_PORT);
    a->port = di ? di->port : o->port;
    log_msg("admin: listening on %s://%s:%u (%s, /readyz%s)", a->cert ? "https" : "http",
            have_addr ? o->listen_address : "*", a->port, a->healthz, o->metrics ? ", /metrics" : "");
    *out = a;
    return 0;
}


void admin_stop(admin *a)
{
    if (!a)
        return;
    if (a->d)
        mhd.stop_daemon(a->d);
    pg_free(a->cert);
    pg_free(a);
}
