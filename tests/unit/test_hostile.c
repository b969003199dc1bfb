/*
 * Regression tests for what the fuzzers (fuzz/) and the hostile-input
 * work found: each test names the input class and the fault it caught.
 */
#include "test.h"

#include <errno.h>
#include <stdint.h>

#include "event/event.h"
#include "fields/fields.h"
#include "json/json.h"
#include "rules/ruleset.h"
#include "util/arena.h"
#include "util/buf.h"

/* fuzz_event: a stageTimestamp after 2262 overflowed int64 ns (UB).  Go's
 * UnixNano wraps; so do we. */
TEST(hostile_time_after_2262_wraps_like_go)
{
    int64_t ns = 0;
    const char *t = "7179-01-02T03:04:05.123456789Z";
    CHECK(event_parse_time(t, strlen(t), &ns) == 0);
    CHECK(ns == -1640452018262507755LL);
    t = "9999-12-31T23:59:59.999999999Z";
    CHECK(event_parse_time(t, strlen(t), &ns) == 0);
    CHECK(ns == -4852116231933722625LL);
    t = "0001-01-01T00:00:00-23:59";
    CHECK(event_parse_time(t, strlen(t), &ns) == 0);
}

/* Load rules text; returns the ruleset or NULL, the first message in msg. */
static ruleset *load_text(const char *text, char *msg, size_t msglen)
{
    loader_opts lo = {.min_priority = PRI_DEBUG};
    rule_loader *l = loader_new(&lo);
    load_result res = {0};
    ruleset *rs = NULL;
    if (l && !loader_add_text(l, "t.yaml", text, strlen(text), &res))
        rs = loader_compile(l, &res);
    if (msg) {
        buf b = BUF_INIT;
        load_result_print(&res, &b);
        snprintf(msg, msglen, "%s", buf_cstr(&b));
        buf_free(&b);
    }
    loader_free(l);
    load_result_free(&res);
    return rs;
}

/* fuzz_cond: a regex compiled before a later check of the same rule failed
 * (unknown field) leaked: the failed rule's tree was never walked.  Every
 * regex is now owned by the ruleset; ASan's leak check guards this. */
TEST(hostile_regex_of_failed_rule_is_freed)
{
    char msg[512];
    ruleset *rs = load_text("- rule: R\n  desc: d\n  output: o\n  priority: NOTICE\n  source: k8s_audit\n"
                            "  condition: ka.verb regex 'a.*' or jsol.value[/x] = 1\n",
                            msg, sizeof msg);
    CHECK(rs == NULL);
    CHECK(strstr(msg, "jsol.value") != NULL);
    ruleset_free(rs);
}

/* ---- wrong types at every path a field reads ---- */

/* A full event: every path some field of fields.def reads is present. */
static const char full_event[] =
    "{\"kind\":\"Event\",\"auditID\":\"a1\",\"stage\":\"ResponseComplete\","
    "\"requestURI\":\"/api/v1/namespaces/default/pods/p/exec?command=sh&container=c\","
    "\"verb\":\"create\",\"user\":{\"username\":\"alice\",\"groups\":[\"system:masters\",\"dev\"],"
    "\"extra\":{\"authentication.kubernetes.io/pod-name\":[\"p\"]}},"
    "\"impersonatedUser\":{\"username\":\"bob\"},\"sourceIPs\":[\"10.0.0.1\"],\"userAgent\":\"kubectl\","
    "\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"default\",\"name\":\"p\",\"subresource\":\"exec\"},"
    "\"responseStatus\":{\"code\":101,\"reason\":\"r\"},"
    "\"requestObject\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"cm\"},\"spec\":{\"hostNetwork\":true,"
    "\"hostPID\":true,\"hostIPC\":false,\"type\":\"NodePort\",\"ports\":[{\"port\":80}],"
    "\"securityContext\":{\"runAsUser\":0,\"runAsGroup\":0,\"fsGroup\":1,\"supplementalGroups\":[1,2]},"
    "\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.25\",\"command\":[\"sh\"],\"args\":[\"-c\"],"
    "\"ports\":[{\"hostPort\":80}],\"securityContext\":{\"privileged\":true,\"allowPrivilegeEscalation\":true,"
    "\"readOnlyRootFilesystem\":false,\"runAsUser\":1000,\"runAsGroup\":5,\"procMount\":\"Unmasked\","
    "\"capabilities\":{\"add\":[\"SYS_ADMIN\"]}}}],"
    "\"initContainers\":[{\"name\":\"i\",\"image\":\"alpine\",\"securityContext\":{\"privileged\":false}}],"
    "\"ephemeralContainers\":[{\"name\":\"e\",\"image\":\"busybox\"}],"
    "\"volumes\":[{\"name\":\"h\",\"hostPath\":{\"path\":\"/etc\"}},{\"name\":\"f\",\"flexVolume\":{\"driver\":\"x\"}}]},"
    "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"*\"],\"nonResourceURLs\":[\"/x\"]}],"
    "\"roleRef\":{\"name\":\"cluster-admin\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"eve\"},"
    "{\"kind\":\"ServiceAccount\",\"name\":\"sa\",\"namespace\":\"ns\"},{\"kind\":\"Group\",\"name\":\"g\"}],"
    "\"data\":{\"k\":\"v\"}},"
    "\"responseObject\":{\"metadata\":{\"name\":\"p\"}},"
    "\"annotations\":{\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":\"RBAC\","
    "\"pod-security.kubernetes.io/audit-violations\":\"v\"},"
    "\"stageTimestamp\":\"2024-01-02T03:04:05.123456789Z\"}";

static const char *const wrong_values[] = {"\"s\"", "7", "-1e400", "true", "null", "[]", "{}", "[1,{}]",
                                           "{\"a\":[]}", "\"\\u0000\\ud800\""};

/* Extract every field, in every argument form, from the event text; the
 * checks are those of the API (a value count agrees with the result) —
 * crashes and memory errors are what ASan looks for. */
static size_t extract_all(const char *text, const field_ref *refs, size_t nrefs)
{
    json_doc d;
    json_doc_init(&d);
    event_batch b = {0};
    arena a;
    arena_init(&a, 0);
    size_t values = 0;
    char err[256];
    if (json_parse(&d, text, strlen(text)) == 0) {
        event_limits lim = {.max_event_size = EVENT_DEFAULT_MAX_EVENT_SIZE};
        event_split(&d, &lim, &b, NULL, NULL, err, sizeof err);
        for (size_t e = 0; e < b.n; e++) {
            field_ctx ctx = {.ev = &b.ev[e], .arena = &a, .evt_num = 1, .hostname = "h"};
            for (size_t i = 0; i < nrefs; i++) {
                fvals v = {0};
                bool got = field_extract(&refs[i], &ctx, &v);
                CHECK(got == (v.n > 0));
                values += v.n;
            }
            arena_reset(&a);
        }
    }
    arena_free(&a);
    event_batch_free(&b);
    json_doc_free(&d);
    return values;
}

TEST(hostile_wrong_types_at_every_path)
{
    static const char *const idx[] = {"", "[0]", "[1]"};
    static const char *const keys[] = {"[command]", "[eve]", "[/etc]", "[/requestObject/spec]", "[\"\"]"};
    field_ref refs[FIELD__COUNT * 5];
    size_t nrefs = 0;
    char text[256], err[256];
    for (size_t f = 0; f < FIELD__COUNT; f++) {
        const field_def *def = &field_table[f];
        size_t n = def->arg == FARG_INDEX_OPT ? 3 : def->arg == FARG_KEY_REQ ? 5 : 1;
        for (size_t k = 0; k < n; k++) {
            snprintf(text, sizeof text, "%s%s", def->name,
                     def->arg == FARG_INDEX_OPT ? idx[k] : def->arg == FARG_KEY_REQ ? keys[k] : "");
            if (field_ref_parse(text, strlen(text), &refs[nrefs], err, sizeof err) == 0)
                nrefs++;
        }
    }
    CHECK(nrefs > FIELD__COUNT);
    CHECK(extract_all(full_event, refs, nrefs) > 100); /* the intact event has values */

    json_doc d;
    json_doc_init(&d);
    CHECK(json_parse(&d, full_event, strlen(full_event)) == 0);
    buf mutated = BUF_INIT;
    size_t variants = 0;
    for (uint32_t i = 1; i < d.count; i++) {
        size_t len;
        const char *raw = json_raw(&d, i, &len);
        size_t start = (size_t)(raw - full_event);
        for (size_t w = 0; w < sizeof wrong_values / sizeof *wrong_values; w++) {
            buf_clear(&mutated);
            buf_put(&mutated, full_event, start);
            buf_puts(&mutated, wrong_values[w]);
            buf_puts(&mutated, full_event + start + len);
            (void)extract_all(buf_cstr(&mutated), refs, nrefs);
            variants++;
        }
    }
    CHECK(variants > 1000);
    buf_free(&mutated);
    json_doc_free(&d);
    for (size_t i = 0; i < nrefs; i++)
        field_ref_free(&refs[i]);
}

/* fuzz_fields: a field name holding NUL bytes ("ka.req.service.ports\0\0...")
 * made field_lookup's strncmp stop at the NUL and then read the table's
 * name past its end (ASan: global-buffer-overflow). */
TEST(hostile_field_name_with_nul_bytes)
{
    static const char name[] = "ka.req.service.ports\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    CHECK(field_lookup(name, sizeof name - 1) == NULL);
    CHECK(field_lookup(name, 20) != NULL);
    CHECK(field_lookup("ka.verb\0x", 9) == NULL);
    field_ref ref;
    char err[256];
    CHECK(field_ref_parse(name, sizeof name - 1, &ref, err, sizeof err) != 0);
}

/* fuzz_alert: `%88888888888field` overflowed the width (int, UB); a width
 * that large would also pad every alert to gigabytes.  Widths above 65535
 * are a load error; 65535 itself loads. */
TEST(hostile_output_width_bounded)
{
    char msg[512];
    ruleset *rs = load_text("- rule: R\n  desc: d\n  priority: NOTICE\n  source: k8s_audit\n"
                            "  condition: ka.verb exists\n  output: v=%88888888888ka.verb\n",
                            msg, sizeof msg);
    CHECK(rs == NULL);
    CHECK(strstr(msg, "t.yaml:1:3: error (LOAD_ERR_COMPILE_OUTPUT): rule 'R': field width larger than 65535") != NULL);
    rs = load_text("- rule: R\n  desc: d\n  priority: NOTICE\n  source: k8s_audit\n"
                   "  condition: ka.verb exists\n  output: v=%65535ka.verb\n",
                   msg, sizeof msg);
    CHECK(rs != NULL);
    ruleset_free(rs);
}
