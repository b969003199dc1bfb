/*
 * webhook_post — post a JSONL audit log to a webhook as the Kubernetes API
 * server does, cheaply: EventList bodies of BATCH events (the API server's
 * --audit-webhook-batch-max-size, 400 by default), from CLIENTS concurrent
 * keep-alive connections (one libcurl easy handle per thread), a 503
 * retried after a short pause.
 *
 *   webhook_post URL FILE BATCH CLIENTS
 *
 * The bodies are built in memory before the first request, so the client
 * spends its CPU on HTTP and nothing else.  Prints one line:
 *
 *   events_acked=N requests=R retries=K errors=E seconds=S events_per_s=X p50_ms=A p99_ms=B
 *
 * Exit status 1 when a request failed for good (not 200 after retries).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct body {
    char *data;
    size_t len;
    size_t events;
} body;

static body *bodies;
static size_t nbodies;
static _Atomic size_t next_body;
static _Atomic size_t acked, requests, retries, errors;
static double *lat;             /* per body: seconds of its last (successful) request */
static const char *url;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static const char HEAD[] = "{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{},\"items\":[";

static int load(const char *path, size_t batch)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, bcap = 0;
    ssize_t n;
    body *cur = NULL;
    size_t ccap = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (!n)
            continue;
        if (!cur || cur->events == batch) {
            if (nbodies == bcap) {
                bcap = bcap ? 2 * bcap : 1024;
                bodies = realloc(bodies, bcap * sizeof *bodies);
                if (!bodies)
                    return -1;
            }
            cur = &bodies[nbodies++];
            *cur = (body){0};
            ccap = 0;
        }
        size_t need = cur->len + (size_t)n + sizeof HEAD + 4;
        if (need > ccap) {
            ccap = need * 2;
            if (!(cur->data = realloc(cur->data, ccap)))
                return -1;
        }
        if (!cur->events) {
            memcpy(cur->data, HEAD, sizeof HEAD - 1);
            cur->len = sizeof HEAD - 1;
        } else {
            cur->data[cur->len++] = ',';
        }
        memcpy(cur->data + cur->len, line, (size_t)n);
        cur->len += (size_t)n;
        cur->events++;
    }
    free(line);
    fclose(f);
    for (size_t i = 0; i < nbodies; i++) {
        memcpy(bodies[i].data + bodies[i].len, "]}", 2);
        bodies[i].len += 2;
    }
    return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

static void *client(void *arg)
{
    (void)arg;
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");    /* the API server sends no Expect: 100-continue */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    if (getenv("WEBHOOK_POST_CLOSE"))   /* a new connection per request (shippers that do so) */
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    for (;;) {
        size_t i = atomic_fetch_add(&next_body, 1);
        if (i >= nbodies)
            break;
        int tries = 0;
        for (;;) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, bodies[i].data);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodies[i].len);
            double t0 = now_s();
            CURLcode rc = curl_easy_perform(h);
            double dt = now_s() - t0;
            long status = 0;
            if (rc == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            atomic_fetch_add(&requests, 1);
            if (status == 200) {
                atomic_fetch_add(&acked, bodies[i].events);
                lat[i] = dt;
                break;
            }
            if (++tries > 100) {
                fprintf(stderr, "webhook_post: body %zu: %s, status %ld; giving up\n", i,
                        rc == CURLE_OK ? "answered" : curl_easy_strerror(rc), status);
                atomic_fetch_add(&errors, 1);
                break;
            }
            if (status == 503)
                atomic_fetch_add(&retries, 1);
            else
                atomic_fetch_add(&errors, 1);
            /* the API server backs off too; short, so the rate stays the server's */
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        }
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: webhook_post URL FILE BATCH CLIENTS\n");
        return 2;
    }
    url = argv[1];
    size_t batch = strtoul(argv[3], NULL, 10);
    int nclients = atoi(argv[4]);
    if (!batch || nclients < 1 || load(argv[2], batch)) {
        fprintf(stderr, "webhook_post: bad arguments or unreadable %s\n", argv[2]);
        return 2;
    }
    lat = calloc(nbodies ? nbodies : 1, sizeof *lat);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t *t = calloc((size_t)nclients, sizeof *t);
    double t0 = now_s();
    for (int i = 0; i < nclients; i++)
        pthread_create(&t[i], NULL, client, NULL);
    for (int i = 0; i < nclients; i++)
        pthread_join(t[i], NULL);
    double secs = now_s() - t0;
    qsort(lat, nbodies, sizeof *lat, cmp_double);
    double p50 = nbodies ? lat[nbodies / 2] : 0, p99 = nbodies ? lat[(nbodies * 99) / 100 < nbodies ? (nbodies * 99) / 100 : nbodies - 1] : 0;
    printf("events_acked=%zu requests=%zu retries=%zu errors=%zu seconds=%.3f events_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n",
           atomic_load(&acked), atomic_load(&requests), atomic_load(&retries), atomic_load(&errors), secs,
           secs > 0 ? (double)atomic_load(&acked) / secs : 0.0, p50 * 1e3, p99 * 1e3);
    for (size_t i = 0; i < nbodies; i++)
        free(bodies[i].data);
    free(bodies);
    free(lat);
    free(t);
    curl_global_cleanup();
    return atomic_load(&errors) ? 1 : 0;
}
