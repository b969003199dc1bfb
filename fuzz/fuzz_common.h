/*
 * fuzz_common — helpers shared by the libFuzzer targets in fuzz/.
 *
 * Each target is one .c file defining LLVMFuzzerTestOneInput; they link
 * against the library built with -fsanitize=fuzzer-no-link,address,undefined
 * (see fuzz/Makefile).  Helpers here are static: each target includes this
 * header once.  Everything a helper allocates is freed by the caller within
 * the same input, so LeakSanitizer sees a leak as a finding.
 */
#ifndef PEREGRINE_FUZZ_COMMON_H
#define PEREGRINE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "fields/fields.h"
#include "json/json.h"
#include "rules/eval.h"
#include "rules/ruleset.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated heap copy of the input (free with free()). */
static inline char *fz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* Append s[0..n) as a YAML double-quoted scalar.  Printable ASCII stays as
 * is; every other byte becomes \xNN (libyaml only reads valid UTF-8, so
 * this is the way to get arbitrary text into a rules file). */
static inline void fz_yaml_quote(buf *out, const char *s, size_t n)
{
    buf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            buf_printf(out, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            buf_putc(out, (char)c);
        else
            buf_printf(out, "\\x%02x", c);
    }
    buf_putc(out, '"');
}

/* Load a ruleset from YAML text; NULL when it does not load. */
static inline ruleset *fz_load_rules(const char *yaml, size_t len)
{
    loader_opts lo = {.min_priority = PRI_DEBUG};
    rule_loader *l = loader_new(&lo);
    load_result res = {0};
    ruleset *rs = NULL;
    if (l && !loader_add_text(l, "fuzz.yaml", yaml, len, &res))
        rs = loader_compile(l, &res);
    loader_free(l);
    load_result_free(&res);
    return rs;
}

/* A few realistic events (k8s audit), one per line, to evaluate compiled
 * rules and render outputs against. */
static const char fz_events[] =
    "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"RequestResponse\","
    "\"auditID\":\"a1\",\"stage\":\"ResponseComplete\","
    "\"requestURI\":\"/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&container=c\","
    "\"verb\":\"create\",\"user\":{\"username\":\"alice\",\"groups\":[\"system:masters\",\"dev\"]},"
    "\"impersonatedUser\":{\"username\":\"bob\"},\"sourceIPs\":[\"10.0.0.1\",\"10.0.0.2\"],"
    "\"userAgent\":\"kubectl/v1.29\",\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"default\","
    "\"name\":\"p\",\"subresource\":\"exec\"},\"responseStatus\":{\"code\":101},"
    "\"requestObject\":{\"kind\":\"Pod\",\"spec\":{\"hostNetwork\":true,\"hostPID\":true,\"hostIPC\":false,"
    "\"securityContext\":{\"runAsUser\":0,\"runAsGroup\":0,\"fsGroup\":1,\"supplementalGroups\":[1,2]},"
    "\"containers\":[{\"name\":\"c\",\"image\":\"docker.io/library/nginx:1.25@sha256:ab\","
    "\"command\":[\"sh\"],\"args\":[\"-c\",\"id\"],\"ports\":[{\"hostPort\":80}],"
    "\"securityContext\":{\"privileged\":true,\"allowPrivilegeEscalation\":true,\"readOnlyRootFilesystem\":false,"
    "\"runAsUser\":1000,\"procMount\":\"Unmasked\",\"capabilities\":{\"add\":[\"SYS_ADMIN\",\"NET_RAW\"]}}},"
    "{\"name\":\"d\",\"image\":\"busybox\"}],\"initContainers\":[{\"name\":\"i\",\"image\":\"alpine:3\"}],"
    "\"volumes\":[{\"name\":\"h\",\"hostPath\":{\"path\":\"/etc\"}},{\"name\":\"f\",\"flexVolume\":{\"driver\":\"x\"}}]},"
    "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"*\"]}],"
    "\"roleRef\":{\"name\":\"cluster-admin\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"eve\"},"
    "{\"kind\":\"ServiceAccount\",\"name\":\"sa\",\"namespace\":\"ns\"},{\"kind\":\"Group\",\"name\":\"g\"}],"
    "\"data\":{\"aws_access_key_id\":\"x\"}},"
    "\"responseObject\":{\"metadata\":{\"name\":\"p\"}},"
    "\"annotations\":{\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":\"RBAC\"},"
    "\"requestReceivedTimestamp\":\"2024-01-02T03:04:05.000001Z\",\"stageTimestamp\":\"2024-01-02T03:04:05.123456789Z\"}\n"
    "{\"kind\":\"EventList\",\"items\":[{\"kind\":\"Event\",\"auditID\":\"b\",\"verb\":\"get\","
    "\"objectRef\":{\"resource\":\"secrets\",\"namespace\":\"kube-system\",\"name\":\"s\"},"
    "\"user\":{\"username\":\"system:anonymous\"},\"requestURI\":\"/api/v1/secrets?watch=1\","
    "\"stageTimestamp\":\"2024-01-02T03:04:06+02:00\"},{\"kind\":\"Event\",\"verb\":\"delete\","
    "\"stageTimestamp\":\"2024-01-02T03:04:07.5Z\"}]}\n"
    "{\"kind\":\"Event\",\"auditID\":7,\"verb\":[1],\"user\":\"x\",\"objectRef\":[],\"requestObject\":{\"spec\":"
    "{\"containers\":{\"a\":1},\"volumes\":\"v\",\"securityContext\":[]}},\"sourceIPs\":{},"
    "\"stageTimestamp\":\"2024-01-02T03:04:08Z\"}\n";

/* Call fn for each event of payload text p[0..n) (one JSON document). */
typedef void (*fz_event_fn)(void *ctx, field_ctx *fc);

static inline void fz_for_events(const char *p, size_t n, fz_event_fn fn, void *ctx)
{
    json_doc d;
    json_doc_init(&d);
    event_batch b = {0};
    arena a;
    arena_init(&a, 4096);
    char err[256];
    if (json_parse(&d, p, n) == 0) {
        event_limits lim = {.max_event_size = EVENT_DEFAULT_MAX_EVENT_SIZE};
        event_split(&d, &lim, &b, NULL, NULL, err, sizeof err);
        for (size_t i = 0; i < b.n; i++) {
            arena_reset(&a);
            field_ctx fc = {.ev = &b.ev[i], .arena = &a, .evt_num = i + 1, .first_ts_ns = b.ev[0].ts_ns,
                            .hostname = "fuzz", .tz_offset_s = 3600};
            fn(ctx, &fc);
        }
    }
    arena_free(&a);
    event_batch_free(&b);
    json_doc_free(&d);
}

/* The same over every line of text (JSONL). */
static inline void fz_for_lines(const char *text, fz_event_fn fn, void *ctx)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fz_for_events(p, n, fn, ctx);
        p += n + (nl ? 1 : 0);
    }
}

#endif

/* ---- running a ruleset: evaluate every rule over events, render alerts ---- */
#include "output/alert.h"

typedef struct fz_eval {
    const ruleset *rs;
    evaluator *ev;
    alert_opts opts;
    bool render_all;        /* render every rule, matched or not */
    buf out;
} fz_eval;

static inline void fz_eval_event(void *ctx, field_ctx *fc)
{
    fz_eval *z = ctx;
    uint32_t m[64];
    evaluator_begin(z->ev, fc);
    size_t n = evaluator_match(z->ev, true, m, 64);
    for (size_t i = 0; i < n; i++) {
        if (m[i] >= ruleset_count(z->rs))
            abort();
        alert_render(z->rs, z->ev, m[i], fc->ev, &z->opts, &z->out);
    }
    if (z->render_all)
        for (uint32_t r = 0; r < ruleset_count(z->rs); r++)
            alert_render(z->rs, z->ev, r, fc->ev, &z->opts, &z->out);
    buf_clear(&z->out);
}

/* Evaluate rs over `events` (JSONL) with text then JSON alerts. */
static inline void fz_run_ruleset(const ruleset *rs, const char *events, bool render_all, const alert_opts *opts)
{
    fz_eval z = {.rs = rs, .ev = evaluator_new(rs), .render_all = render_all};
    if (!z.ev)
        return;
    alert_opts defaults = {.include_output = true, .include_output_fields = true, .include_tags = true,
                           .hostname = "fuzz", .tz_offset_s = 3600};
    z.opts = opts ? *opts : defaults;
    fz_for_lines(events, fz_eval_event, &z);
    if (!opts) {
        z.opts.json = true;
        z.opts.iso8601 = true;
        z.opts.include_message = true;
        fz_for_lines(events, fz_eval_event, &z);
    }
    buf_free(&z.out);
    evaluator_free(z.ev);
}
