/*
 * gen_big — a deterministic generator of multi-megabyte audit events.
 *
 *   gen_big N SEED > big.jsonl
 *
 * Writes N audit.k8s.io/v1 Event objects of 1 to 6 MB each, one compact
 * JSON document per line, and prints the size distribution to stderr.  The
 * same N and SEED always give the same bytes.  What makes audit events that
 * large in production, logged at RequestResponse level:
 *   configmaps  create/update with a data map of scripts and configuration
 *               files (requestObject and responseObject), ~35 %
 *   secrets     create/update with base64 data (certificate bundles), ~15 %
 *   CRDs        create/update of a CustomResourceDefinition whose
 *               openAPIV3Schema describes deep nested properties, ~20 %
 *   lists       list pods answered with a PodList of hundreds of pods, ~30 %
 * Strings are escaped like Go's encoding/json (\n, \", \u003c, \u0026).
 * Each event is larger than the file pipeline's 512 KiB read block, which
 * is what the big-events benchmark row exercises (make -C bench big).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_rng.h"

/* ------------------------------------------------------------ output buffer */

static char *out;
static size_t olen, ocap;

static void put(const char *s, size_t n)
{
    if (olen + n + 1 > ocap) {
        ocap = (olen + n + 1) * 2;
        if (!(out = realloc(out, ocap))) {
            perror("gen_big");
            exit(1);
        }
    }
    memcpy(out + olen, s, n);
    olen += n;
}

static void puts_(const char *s) { put(s, strlen(s)); }

static void putf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
static void putf(const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(tmp, (size_t)n);
}

static const char *WORDS[] = {"server", "listen", "upstream", "proxy_pass", "location", "timeout", "replicas",
                              "image", "enabled", "true", "false", "cache", "backend", "metrics", "retry",
                              "endpoint", "tls", "cert", "level", "info", "warn", "path", "/var/lib/data",
                              "http://svc.cluster.local:8080", "user", "group", "limit", "memory", "cpu"};
#define NWORDS (sizeof WORDS / sizeof *WORDS)

/* A configuration file as a JSON string body (escaped), about n bytes. */
static void text_value(size_t n)
{
    size_t start = olen;
    while (olen - start < n) {
        unsigned indent = rn(4);
        for (unsigned i = 0; i < indent; i++)
            puts_("  ");
        unsigned w = 2 + rn(6);
        for (unsigned i = 0; i < w; i++) {
            puts_(WORDS[rn(NWORDS)]);
            switch (rn(12)) {
            case 0: puts_(" \\u003c= "); break;
            case 1: puts_(" \\u0026\\u0026 "); break;
            case 2: puts_(" \\\"quoted\\\" "); break;
            case 3: puts_(": "); break;
            default: puts_(" "); break;
            }
        }
        putf("%u;\\n", rn(100000));
    }
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64_value(size_t n)
{
    char line[64];
    for (size_t done = 0; done < n; done += sizeof line) {
        for (size_t i = 0; i < sizeof line; i++)
            line[i] = B64[rn(64)];
        put(line, sizeof line);
    }
}

static void metadata(const char *name, const char *ns, unsigned rv, int response)
{
    putf("\"metadata\":{\"name\":\"%s\"", name);
    if (ns)
        putf(",\"namespace\":\"%s\"", ns);
    putf(",\"labels\":{\"app.kubernetes.io/name\":\"%s\",\"app.kubernetes.io/part-of\":\"platform\"}", name);
    if (response)
        putf(",\"uid\":\"%08x-%04x-%04x-%04x-%012llx\",\"resourceVersion\":\"%u\",\"creationTimestamp\":"
             "\"2026-11-20T10:%02u:%02uZ\"",
             (unsigned)rnd64(), rn(65536), rn(65536), rn(65536), (unsigned long long)(rnd64() & 0xffffffffffffull), rv,
             rn(60), rn(60));
    puts_("}");
}

/* data map of a ConfigMap or Secret, about n bytes */
static void data_map(size_t n, int secret)
{
    puts_("\"data\":{");
    size_t start = olen;
    for (unsigned k = 0; olen - start < n; k++) {
        if (k)
            puts_(",");
        size_t v = 20000 + rn(200000);
        if (secret) {
            putf("\"bundle-%u.pem\":\"", k);
            base64_value(v);
        } else {
            putf("\"%s-%u.conf\":\"", WORDS[rn(NWORDS)], k);
            text_value(v);
        }
        puts_("\"");
    }
    puts_("}");
}

static void schema_props(unsigned depth, size_t *budget)
{
    puts_("\"properties\":{");
    unsigned n = 3 + rn(6);
    for (unsigned i = 0; i < n && *budget > 0; i++) {
        if (i)
            puts_(",");
        size_t before = olen;
        putf("\"%s%u\":{\"description\":\"", WORDS[rn(NWORDS)], i);
        text_value(80 + rn(400));
        puts_("\"");
        if (depth < 6 && rn(3)) {
            puts_(",\"type\":\"object\",");
            schema_props(depth + 1, budget);
        } else {
            putf(",\"type\":\"%s\"", rn(2) ? "string" : "integer");
            if (rn(3) == 0)
                putf(",\"enum\":[\"%s\",\"%s\",\"%s\"]", WORDS[rn(NWORDS)], WORDS[rn(NWORDS)], WORDS[rn(NWORDS)]);
        }
        puts_("}");
        size_t used = olen - before;
        *budget = *budget > used ? *budget - used : 0;
    }
    puts_("}");
}

static void crd_object(size_t n, unsigned rv, int response)
{
    unsigned g = rn(1000);
    puts_("{\"kind\":\"CustomResourceDefinition\",\"apiVersion\":\"apiextensions.k8s.io/v1\",");
    char name[96];
    snprintf(name, sizeof name, "widgets%u.example%u.io", g, g % 7);
    metadata(name, NULL, rv, response);
    putf(",\"spec\":{\"group\":\"example%u.io\",\"names\":{\"plural\":\"widgets%u\",\"kind\":\"Widget%u\"},"
         "\"scope\":\"Namespaced\",\"versions\":[",
         g % 7, g, g);
    size_t start = olen;
    for (unsigned v = 0; olen - start < n; v++) {
        if (v)
            puts_(",");
        putf("{\"name\":\"v%u\",\"served\":true,\"storage\":%s,\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",",
             v + 1, v ? "false" : "true");
        size_t budget = n / 3 + 1;
        schema_props(0, &budget);
        puts_("}}}");
    }
    puts_("]}}");
}

static void pod(unsigned i, const char *ns)
{
    putf("{\"metadata\":{\"name\":\"web-%u-%05x\",\"namespace\":\"%s\",\"uid\":\"%08x-%04x\",\"labels\":{\"app\":\"web\","
         "\"pod-template-hash\":\"%06x\"}},\"spec\":{\"nodeName\":\"node-%u\",\"serviceAccountName\":\"web\","
         "\"containers\":[{\"name\":\"web\",\"image\":\"registry.example.com/web:1.%u.%u\",\"args\":[\"--listen=:8080\","
         "\"--upstream=http://api.%s.svc.cluster.local\"],\"env\":[{\"name\":\"MODE\",\"value\":\"production\"},"
         "{\"name\":\"LOG\",\"value\":\"info\"}],\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"512Mi\"}},"
         "\"securityContext\":{\"runAsNonRoot\":true,\"readOnlyRootFilesystem\":true}}]},\"status\":{\"phase\":"
         "\"Running\",\"podIP\":\"10.%u.%u.%u\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
         i, rn(1 << 20), ns, (unsigned)rnd64(), rn(65536), rn(1 << 24), rn(500), rn(30), rn(10), ns, rn(256), rn(256),
         rn(256));
}

static const char *NS[] = {"default", "payments", "web", "monitoring", "kube-system", "data"};

static void event(unsigned long i, size_t size)
{
    unsigned kind = rn(100);
    const char *ns = NS[rn(6)];
    unsigned rv = 100000 + (unsigned)i * 7;
    int update = rn(3) == 0;
    const char *verb, *resource, *group = "", *uri_extra = "";
    char name[64];
    snprintf(name, sizeof name, "cfg-%lu", i);
    if (kind < 35) {
        verb = update ? "update" : "create";
        resource = "configmaps";
    } else if (kind < 50) {
        verb = update ? "update" : "create";
        resource = "secrets";
    } else if (kind < 70) {
        verb = update ? "update" : "create";
        resource = "customresourcedefinitions";
        group = "apiextensions.k8s.io";
        ns = NULL;
    } else {
        verb = "list";
        resource = "pods";
        uri_extra = "?limit=500";
    }
    int human = kind < 70;
    putf("{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"RequestResponse\",\"auditID\":"
         "\"%08x-%04x-%04x-%04x-%012llx\",\"stage\":\"ResponseComplete\",",
         (unsigned)rnd64(), rn(65536), rn(65536), rn(65536), (unsigned long long)(rnd64() & 0xffffffffffffull));
    putf("\"requestURI\":\"/%s%s/v1/", group[0] ? "apis/" : "api", group);
    if (ns)
        putf("namespaces/%s/", ns);
    putf("%s%s%s\",\"verb\":\"%s\",", resource, update ? "/" : "", update ? name : uri_extra, verb);
    if (human)
        putf("\"user\":{\"username\":\"user%u@example.com\",\"groups\":[\"system:authenticated\",\"platform-admins\"]},"
             "\"sourceIPs\":[\"10.0.%u.%u\"],\"userAgent\":\"kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819\",",
             rn(40), rn(256), rn(256));
    else
        putf("\"user\":{\"username\":\"system:serviceaccount:monitoring:collector\",\"uid\":\"%08x\",\"groups\":"
             "[\"system:serviceaccounts\",\"system:serviceaccounts:monitoring\",\"system:authenticated\"]},"
             "\"sourceIPs\":[\"10.1.%u.%u\"],\"userAgent\":\"collector/2.3\",",
             (unsigned)rnd64(), rn(256), rn(256));
    putf("\"objectRef\":{\"resource\":\"%s\"", resource);
    if (ns)
        putf(",\"namespace\":\"%s\"", ns);
    if (kind < 70)
        putf(",\"name\":\"%s\"", kind < 50 ? name : "widgets");
    if (group[0])
        putf(",\"apiGroup\":\"%s\"", group);
    putf(",\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},\"code\":%d},", update || kind >= 70 ? 200 : 201);
    /* the body halves (request and response) share the size */
    size_t half = size / 2;
    if (kind < 50) {
        for (int resp = 0; resp < 2; resp++) {
            putf("\"%s\":{\"kind\":\"%s\",\"apiVersion\":\"v1\",", resp ? "responseObject" : "requestObject",
                 kind < 35 ? "ConfigMap" : "Secret");
            metadata(name, ns, rv, resp);
            puts_(",");
            if (kind >= 35)
                puts_("\"type\":\"Opaque\",");
            data_map(half, kind >= 35);
            puts_("},");
        }
    } else if (kind < 70) {
        puts_("\"requestObject\":");
        crd_object(half, rv, 0);
        puts_(",\"responseObject\":");
        crd_object(half, rv, 1);
        puts_(",");
    } else {
        putf("\"responseObject\":{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"%u\"},"
             "\"items\":[",
             rv);
        size_t start = olen;
        for (unsigned p = 0; olen - start < size; p++) {
            if (p)
                puts_(",");
            pod(p, ns ? ns : "default");
        }
        puts_("]},");
    }
    unsigned s = (unsigned)(i % 3600);
    putf("\"requestReceivedTimestamp\":\"2026-11-20T11:%02u:%02u.%06uZ\",\"stageTimestamp\":"
         "\"2026-11-20T11:%02u:%02u.%06uZ\",\"annotations\":{\"authorization.k8s.io/decision\":\"allow\","
         "\"authorization.k8s.io/reason\":\"RBAC: allowed by ClusterRoleBinding\"}}\n",
         s / 60, s % 60, rn(1000000), s / 60, s % 60, 999999u);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_big N SEED > big.jsonl\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    rng = strtoull(argv[2], NULL, 0) * 0x2545F4914F6CDD1Dull + 7;
    size_t total = 0, minsz = SIZE_MAX, maxsz = 0;
    for (long i = 0; i < n; i++) {
        olen = 0;
        event((unsigned long)i, 1000000 + rn(5000000));
        fwrite(out, 1, olen, stdout);
        total += olen;
        minsz = olen < minsz ? olen : minsz;
        maxsz = olen > maxsz ? olen : maxsz;
    }
    fprintf(stderr, "gen_big: %ld events, %.1f MB, mean %.2f MB, min %.2f MB, max %.2f MB\n", n, total / 1e6,
            n ? total / 1e6 / (double)n : 0.0, minsz / 1e6, maxsz / 1e6);
    free(out);
    return 0;
}
