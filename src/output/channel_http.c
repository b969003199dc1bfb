/*
 * channel_http — http_output: one POST per alert to `url` through libcurl,
 * the body being the alert without its trailing newline — the JSON object
 * with json_output: true (Content-Type: application/json, what
 * falcosidekick reads), else the text line (Content-Type: text/plain).
 *
 * Falco's keys map to libcurl as Falco maps them: user_agent, insecure
 * (no peer/host verification), ca_cert or else ca_bundle (CA file) or else
 * ca_path (CA directory), mtls with client_cert/client_key, keep_alive
 * (TCP keep-alive probes), compress_uploads (asks for a compressed
 * transfer encoding, as Falco does — the request body is not compressed),
 * echo (the response body goes to stdout).  The connection is reused
 * between POSTs.
 *
 * Beyond Falco: each request is bounded by output_timeout; a transport
 * error, 408, 425, 429 or 5xx is retried with exponential backoff (0.1 s
 * doubling to 5 s) for as long as it takes, the alert staying at the head
 * of the queue so order is kept — while the receiver is down the queue
 * fills and newer alerts are dropped and counted, and once it is back
 * everything queued is delivered.  Any other status (4xx) fails the alert
 * at once: sending it again would not help.  max_consecutive_timeouts is
 * accepted and not needed (timeouts are retried like every transient error).
 *
 * libcurl is loaded (dlopen) when the first http output is made, not
 * linked: the ~25 libraries it brings would slow every run's start-up,
 * and only this channel uses it.
 */
#include "output/channel.h"
#include "util/alloc.h"
#include "util/dlsyms.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

/* The libcurl functions used, resolved once by load_curl(). */
typedef struct curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode rc);
    void (*easy_cleanup)(CURL *h);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
} curl_api;
static curl_api lc;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static char curl_load_err[256];     /* empty when libcurl is ready */

/* libcurl's soname since 7.16 (the Debian packages libcurl4, libcurl3-gnutls). */
#define LIBCURL_SONAME "libcurl.so.4"

static void load_curl(void)
{
    static const dl_sym syms[] = {
#define SYM(f, name) DL_SYM(curl_api, f, name)
        SYM(global_init, "curl_global_init"),   SYM(easy_init, "curl_easy_init"),
        SYM(easy_setopt, "curl_easy_setopt"),   SYM(easy_perform, "curl_easy_perform"),
        SYM(easy_getinfo, "curl_easy_getinfo"), SYM(easy_strerror, "curl_easy_strerror"),
        SYM(easy_cleanup, "curl_easy_cleanup"), SYM(slist_append, "curl_slist_append"),
        SYM(slist_free_all, "curl_slist_free_all"),
#undef SYM
    };
    if (dl_load(LIBCURL_SONAME, "libcurl", syms, sizeof syms / sizeof *syms, &lc, curl_load_err,
                sizeof curl_load_err))
        return;
    CURLcode rc = lc.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        snprintf(curl_load_err, sizeof curl_load_err, "libcurl error: %s", lc.easy_strerror(rc));
}

typedef struct http_impl {
    CURL *h;
    struct curl_slist *headers;
    char *url;
    channel *ch;                /* for the progress callback */
    int backoff_ms;
    char errbuf[CURL_ERROR_SIZE];
} http_impl;

static size_t discard(void *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static size_t echo(void *p, size_t size, size_t n, void *ud)
{
    (void)ud;
    return fwrite(p, size, n, stdout);
}

/* libcurl calls this during transfers: abort one when the drain deadline passed. */
static int progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    http_impl *h = ud;
    return h->ch && channel_stopping(h->ch);
}

static bool transient(long status) { return status == 408 || status == 425 || status == 429 || status >= 500; }

static size_t http_deliver(channel *ch, const outq_item *items, size_t n)
{
    http_impl *h = ch->impl;
    h->ch = ch;
    for (size_t i = 0; i < n; i++) {
        size_t len = items[i].len;
        if (len && items[i].text[len - 1] == '\n')
            len--;
        lc.easy_setopt(h->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        lc.easy_setopt(h->h, CURLOPT_POSTFIELDS, items[i].text);
        for (;;) {
            h->errbuf[0] = 0;
            CURLcode rc = lc.easy_perform(h->h);
            long status = 0;
            if (rc == CURLE_OK)
                lc.easy_getinfo(h->h, CURLINFO_RESPONSE_CODE, &status);
            if (rc == CURLE_OK && status >= 200 && status < 300) {
                channel_ok(ch, 1);
                h->backoff_ms = 0;
                break;
            }
            if (channel_stopping(ch))
                return i;
            if (rc == CURLE_OK && !transient(status)) {
                channel_fail(ch, 1, "POST %s: HTTP status %ld", h->url, status);
                break;
            }
            h->backoff_ms = !h->backoff_ms ? BACKOFF_MIN_MS
                            : h->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                                 : h->backoff_ms * 2;
            if (rc != CURLE_OK)
                channel_retry(ch, "POST %s: %s", h->url, h->errbuf[0] ? h->errbuf : lc.easy_strerror(rc));
            else
                channel_retry(ch, "POST %s: HTTP status %ld", h->url, status);
            if (!channel_sleep(ch, h->backoff_ms))
                return i;
        }
    }
    return n;
}

static void http_destroy(channel *ch)
{
    http_impl *h = ch->impl;
    if (!h)
        return;
    if (h->h)
        lc.easy_cleanup(h->h);
    lc.slist_free_all(h->headers);
    pg_free(h->url);
    pg_free(h);
}

static const channel_ops http_ops = {.name = "http", .deliver = http_deliver, .destroy = http_destroy};

static const char *or_default(const char *v, const char *def) { return v && *v ? v : def; }

channel *channel_http_new(const config *c, char *err, size_t errlen)
{
    if (!c->http_output_url || !*c->http_output_url) {
        snprintf(err, errlen, "http output enabled but no url in configuration block");
        return NULL;
    }
    pthread_once(&curl_once, load_curl);
    if (curl_load_err[0]) {
        snprintf(err, errlen, "http output: %s", curl_load_err);
        return NULL;
    }
    http_impl *h = pg_calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "http output: out of memory");
        return NULL;
    }
    /* A url written with its own quotes inside the YAML string ("'http://…'") is unquoted, as Falco does. */
    const char *u = c->http_output_url;
    size_t ulen = strlen(u);
    if (ulen >= 2 && (u[0] == '"' || u[0] == '\'') && u[ulen - 1] == u[0])
        h->url = pg_strndup(u + 1, ulen - 2);
    else
        h->url = pg_strdup(u);
    CURLcode rc = CURLE_OK;
    if (!(h->h = lc.easy_init()))
        rc = CURLE_FAILED_INIT;
    h->headers = lc.slist_append(NULL, c->json_output ? "Content-Type: application/json"
                                                        : "Content-Type: text/plain");
    if (!h->url || !h->headers) {
        snprintf(err, errlen, "http output: out of memory");
        http_destroy(&(channel){.impl = h});
        return NULL;
    }
#define SET(opt, val) (rc = rc == CURLE_OK ? lc.easy_setopt(h->h, opt, val) : rc)
    SET(CURLOPT_URL, h->url);
    SET(CURLOPT_HTTPHEADER, h->headers);
    SET(CURLOPT_USERAGENT, or_default(c->http_output_user_agent, "falcosecurity/falco"));
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, h->errbuf);
    long timeout = c->output_timeout_ms ? (long)c->output_timeout_ms : 2000;
    SET(CURLOPT_TIMEOUT_MS, timeout);
    SET(CURLOPT_CONNECTTIMEOUT_MS, timeout);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, progress);
    SET(CURLOPT_XFERINFODATA, h);
    if (c->http_output_insecure) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->http_output_mtls) {
        SET(CURLOPT_SSLCERT, or_default(c->http_output_client_cert, "/etc/ssl/certs/client.crt"));
        SET(CURLOPT_SSLKEY, or_default(c->http_output_client_key, "/etc/ssl/certs/client.key"));
    }
    if (c->http_output_ca_cert && *c->http_output_ca_cert)
        SET(CURLOPT_CAINFO, c->http_output_ca_cert);
    else if (c->http_output_ca_bundle && *c->http_output_ca_bundle)
        SET(CURLOPT_CAINFO, c->http_output_ca_bundle);
    else
        SET(CURLOPT_CAPATH, or_default(c->http_output_ca_path, "/etc/ssl/certs"));
    SET(CURLOPT_WRITEFUNCTION, c->http_output_echo ? echo : discard);
    if (c->http_output_compress_uploads)
        SET(CURLOPT_TRANSFER_ENCODING, 1L);
    if (c->http_output_keep_alive)
        SET(CURLOPT_TCP_KEEPALIVE, 1L);
#undef SET
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "http output: libcurl error: %s", lc.easy_strerror(rc));
        http_destroy(&(channel){.impl = h});
        return NULL;
    }
    return channel_new(&http_ops, h, c, err, errlen);
}
