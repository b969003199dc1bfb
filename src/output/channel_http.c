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
 */
#include "output/channel.h"
#include "util/alloc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

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
        curl_easy_setopt(h->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(h->h, CURLOPT_POSTFIELDS, items[i].text);
        for (;;) {
            h->errbuf[0] = 0;
            CURLcode rc = curl_easy_perform(h->h);
            long status = 0;
            if (rc == CURLE_OK)
                curl_easy_getinfo(h->h, CURLINFO_RESPONSE_CODE, &status);
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
                channel_retry(ch, "POST %s: %s", h->url, h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
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
        curl_easy_cleanup(h->h);
    curl_slist_free_all(h->headers);
    pg_free(h->url);
    pg_free(h);
}

static const channel_ops http_ops = {.name = "http", .deliver = http_deliver, .destroy = http_destroy};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

static const char *or_default(const char *v, const char *def) { return v && *v ? v : def; }

channel *channel_http_new(const config *c, char *err, size_t errlen)
{
    if (!c->http_output_url || !*c->http_output_url) {
        snprintf(err, errlen, "http output enabled but no url in configuration block");
        return NULL;
    }
    pthread_once(&curl_once, curl_init);
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
    CURLcode rc = curl_init_rc;
    if (rc == CURLE_OK && !(h->h = curl_easy_init()))
        rc = CURLE_FAILED_INIT;
    h->headers = curl_slist_append(NULL, c->json_output ? "Content-Type: application/json"
                                                        : "Content-Type: text/plain");
    if (!h->url || !h->headers) {
        snprintf(err, errlen, "http output: out of memory");
        http_destroy(&(channel){.impl = h});
        return NULL;
    }
#define SET(opt, val) (rc = rc == CURLE_OK ? curl_easy_setopt(h->h, opt, val) : rc)
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
        snprintf(err, errlen, "http output: libcurl error: %s", curl_easy_strerror(rc));
        http_destroy(&(channel){.impl = h});
        return NULL;
    }
    return channel_new(&http_ops, h, c, err, errlen);
}
