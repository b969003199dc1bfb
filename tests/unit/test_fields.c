/*
 * Unit tests of the field layer (src/fields): the table, argument parsing
 * and validation, and one test per upstream quirk of docs/compat/fields.md §7
 * (named fields_quirkNN_...), plus rendering details (§1.5, §5) and the
 * evt.* / json.* families.  Run with `build/unit_tests fields`.
 */
#include "test.h"

#include "fields/fields.h"
#include "json/json.h"
#include "util/alloc.h"
#include "util/arena.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------- */

/* Values of ref for ev, joined with '|' into out ("<none>" when missing). */
static void extract_into(const field_ref *ref, const audit_event *ev, long tz, int64_t first_ts, char *out,
                         size_t outsz)
{
    arena a;
    arena_init(&a, 0);
    field_ctx ctx = {.ev = ev, .arena = &a, .evt_num = 42, .first_ts_ns = first_ts,
                     .hostname = "node-1", .tz_offset_s = tz};
    fvals v = {0};
    if (!field_extract(ref, &ctx, &v)) {
        snprintf(out, outsz, "%s", v.n == 0 ? "<none>" : "<false with values!>");
    } else {
        size_t o = 0;
        out[0] = 0;
        for (size_t i = 0; i < v.n && o < outsz - 2; i++) {
            if (i)
                out[o++] = '|';
            size_t n = v.v[i].len < outsz - 1 - o ? v.v[i].len : outsz - 1 - o;
            memcpy(out + o, v.v[i].s, n);
            o += n;
        }
        out[o] = 0;
    }
    arena_free(&a);
}

/* Extract `expr` (strict parse) from the event `json`: values joined with
 * '|', "<none>" when the field has no value, "<parse error: ...>" when the
 * expression is rejected.  ts_ns = 1704164645123456789
 * (2024-01-02T03:04:05.123456789Z).  Every extraction runs twice, by
 * name lookups (an event built by hand) and through the root member table
 * event_split builds (event.h), and both must agree. */
static const char *ex_full(const char *json, const char *expr, unsigned flags, long tz, int64_t first_ts)
{
    static char out[8192], keyed[8192];
    json_doc d;
    json_doc_init(&d);
    if (json_parse(&d, json, strlen(json))) {
        snprintf(out, sizeof out, "<bad json: %s>", d.err);
        json_doc_free(&d);
        return out;
    }
    field_ref ref;
    char err[256];
    if (field_ref_parse_flags(expr, strlen(expr), flags, &ref, err, sizeof err)) {
        snprintf(out, sizeof out, "<parse error: %s>", err);
        json_doc_free(&d);
        return out;
    }
    audit_event ev = {.doc = &d, .root = 0, .size = 0, .ts_ns = 1704164645123456789LL};
    extract_into(&ref, &ev, tz, first_ts, out, sizeof out);
    if (json_type_of(&d, 0) == JSON_OBJECT) {
        ev.keyed = true;
        event_root_index(&d, 0, ev.keys);
        extract_into(&ref, &ev, tz, first_ts, keyed, sizeof keyed);
        if (strcmp(out, keyed))
            test_fail(__FILE__, __LINE__, "%s on %s: by name \"%s\", by root table \"%s\"", expr, json, out,
                      keyed);
    }
    field_ref_free(&ref);
    json_doc_free(&d);
    return out;
}

static const char *ex(const char *json, const char *expr)
{
    return ex_full(json, expr, 0, 0, 0);
}

/* Parse only: 0 or -1, message in perr. */
static char perr[256];
static int parse(const char *expr, unsigned flags, field_ref *ref)
{
    perr[0] = 0;
    return field_ref_parse_flags(expr, strlen(expr), flags, ref, perr, sizeof perr);
}

static int parse_fails(const char *expr)
{
    field_ref r;
    if (parse(expr, 0, &r) == 0) {
        field_ref_free(&r);
        return 0;
    }
    return 1;
}

#define EV(body) "{\"kind\":\"Event\",\"auditID\":\"id1\",\"stageTimestamp\":\"2024-01-02T03:04:05.123456789Z\"," body "}"

/* ---- table and lookup ------------------------------------------------------ */

TEST(fields_table_order_and_count)
{
    CHECK(FIELD__COUNT == 125);
    CHECK_STR(field_table[0].name, "ka.auditid");
    CHECK_STR(field_table[99].name, "ka.req.pod.ephemeralContainers.add_capabilities");
    CHECK_STR(field_table[100].name, "json.value");
    CHECK_STR(field_table[105].name, "jevt.rawtime");
    CHECK_STR(field_table[FLD_EVT_NUM].name, "evt.num");
    int ka = 0, json = 0, evt = 0;
    for (int i = 0; i < FIELD__COUNT; i++) {
        CHECK(field_table[i].id == (field_id)i);
        CHECK(field_table[i].desc && field_table[i].desc[0]);
        if (!strcmp(field_table[i].plugin, "k8saudit")) {
            ka++;
            CHECK(!strncmp(field_table[i].name, "ka.", 3));
        } else if (!strcmp(field_table[i].plugin, "json")) {
            json++;
        } else {
            CHECK_STR(field_table[i].plugin, "evt");
            evt++;
        }
    }
    CHECK(ka == 100);
    CHECK(json == 8); /* 6 plugin fields + legacy jevt.time, jevt.time.iso8601 */
    CHECK(evt == 17);
}

TEST(fields_lookup_every_name)
{
    for (int i = 0; i < FIELD__COUNT; i++) {
        const char *n = field_table[i].name;
        CHECK(field_lookup(n, strlen(n)) == &field_table[i]);
    }
    CHECK(field_lookup("ka.verbs", 8) == NULL);
    CHECK(field_lookup("ka.ver", 6) == NULL);
    CHECK(field_lookup("ka.verbX", 7) == &field_table[FLD_KA_VERB]); /* length-bounded */
    CHECK(field_lookup("KA.VERB", 7) == NULL);
    CHECK(field_lookup("", 0) == NULL);
}

TEST(fields_arg_kinds_match_spec)
{
    CHECK(field_table[FLD_KA_URI_PARAM].arg == FARG_KEY_REQ);
    CHECK(field_table[FLD_KA_REQ_BINDING_SUBJECT_HAS_NAME].arg == FARG_KEY_REQ);
    CHECK(field_table[FLD_KA_REQ_VOLUME_HOSTPATH].arg == FARG_KEY_REQ);
    CHECK(field_table[FLD_JSON_VALUE].arg == FARG_KEY_REQ);
    CHECK(field_table[FLD_JEVT_VALUE].arg == FARG_KEY_REQ);
    CHECK(field_table[FLD_KA_SOURCEIPS].arg == FARG_INDEX_OPT);
    CHECK(field_table[FLD_KA_REQ_SERVICE_PORTS].arg == FARG_INDEX_OPT);
    CHECK(field_table[FLD_KA_USER_GROUPS].arg == FARG_NONE);
    CHECK(field_table[FLD_KA_USER_GROUPS].is_list);
    CHECK(!field_table[FLD_KA_REQ_CONTAINER_IMAGE].is_list);
    CHECK(field_table[FLD_EVT_NUM].type == FT_UINT64);
    CHECK(field_table[FLD_EVT_RAWTIME].type == FT_ABSTIME);
    CHECK(field_table[FLD_EVT_RELTIME].type == FT_RELTIME);
    CHECK(field_table[FLD_EVT_IS_ASYNC].type == FT_BOOL);
}

/* ---- argument parsing ---------------------------------------------------------- */

TEST(fields_parse_plain_and_index)
{
    field_ref r;
    CHECK(parse("ka.verb", 0, &r) == 0);
    CHECK(r.def == &field_table[FLD_KA_VERB] && r.index == -1 && r.key == NULL);
    field_ref_free(&r);
    CHECK(parse("ka.req.pod.containers.image", 0, &r) == 0);
    CHECK(r.index == -1);
    field_ref_free(&r);
    CHECK(parse("ka.req.pod.containers.image[0]", 0, &r) == 0);
    CHECK(r.index == 0);
    field_ref_free(&r);
    CHECK(parse("ka.req.pod.containers.image[12]", 0, &r) == 0);
    CHECK(r.index == 12);
    field_ref_free(&r);
    CHECK(parse("ka.req.pod.containers.image[\"3\"]", 0, &r) == 0);
    CHECK(r.index == 3);
    field_ref_free(&r);
    /* fits uint64: accepted (clamped, can only mean "missing") */
    CHECK(parse("ka.req.pod.containers.image[18446744073709551615]", 0, &r) == 0);
    CHECK(r.index > 0);
    field_ref_free(&r);
}

TEST(fields_parse_index_validation)
{
    CHECK(parse_fails("ka.req.pod.containers.image[01]"));
    CHECK(strstr(perr, "ka.req.pod.containers.image") && strstr(perr, "starting with 0"));
    CHECK(parse_fails("ka.req.pod.containers.image[00]"));
    CHECK(parse_fails("ka.req.pod.containers.image[-1]"));
    CHECK(strstr(perr, "digits"));
    CHECK(parse_fails("ka.req.pod.containers.image[+1]"));
    CHECK(parse_fails("ka.req.pod.containers.image[1a]"));
    CHECK(parse_fails("ka.req.pod.containers.image[x]"));
    CHECK(parse_fails("ka.req.pod.containers.image[]"));
    CHECK(strstr(perr, "empty"));
    CHECK(parse_fails("ka.req.pod.containers.image[18446744073709551616]"));
    CHECK(strstr(perr, "64 bits"));
}

TEST(fields_parse_key_args)
{
    field_ref r;
    CHECK(parse("ka.uri.param[command]", 0, &r) == 0);
    CHECK_STR(r.key, "command");
    CHECK(r.keylen == 7 && r.index == -1);
    field_ref_free(&r);
    CHECK(parse("ka.uri.param[\"command\"]", 0, &r) == 0);
    CHECK_STR(r.key, "command");
    field_ref_free(&r);
    CHECK(parse("ka.uri.param['command']", 0, &r) == 0);
    CHECK_STR(r.key, "command");
    field_ref_free(&r);
    CHECK(parse("json.value[\"a\\\"b\"]", 0, &r) == 0); /* escaped quote inside "..." */
    CHECK_STR(r.key, "a\"b");
    field_ref_free(&r);
    CHECK(parse("json.value[\"\"]", 0, &r) == 0); /* empty key: whole document */
    CHECK(r.keylen == 0 && r.key && r.key[0] == 0);
    field_ref_free(&r);
    CHECK(parse("jevt.value[/annotations/authorization.k8s.io~1decision]", 0, &r) == 0);
    CHECK_STR(r.key, "/annotations/authorization.k8s.io~1decision");
    field_ref_free(&r);
    /* an index-looking key is just a key */
    CHECK(parse("ka.uri.param[01]", 0, &r) == 0);
    CHECK_STR(r.key, "01");
    field_ref_free(&r);
}

TEST(fields_parse_errors_name_the_field)
{
    CHECK(parse_fails("ka.nope"));
    CHECK(strstr(perr, "unknown field") && strstr(perr, "ka.nope"));
    CHECK(parse_fails("ka.uri.param"));
    CHECK(strstr(perr, "ka.uri.param") && strstr(perr, "requires an argument"));
    CHECK(parse_fails("json.value"));
    CHECK(parse_fails("ka.verb[x]"));
    CHECK(strstr(perr, "ka.verb") && strstr(perr, "does not take an argument"));
    CHECK(parse_fails("ka.user.groups[0]"));
    CHECK(parse_fails("evt.time[0]"));
    CHECK(parse_fails("ka.uri.param[x"));
    CHECK(strstr(perr, "unbalanced"));
    CHECK(parse_fails("ka.uri.param[x]y"));
    CHECK(parse_fails("ka.uri.param[\"x]"));
    CHECK(parse_fails("ka.uri.param[\"x\\q\"]"));
    CHECK(strstr(perr, "escape"));
    CHECK(parse_fails("[x]"));
    CHECK(parse_fails(""));
    CHECK(parse_fails("ka.req.volume.hostpath[\"\"]"));
    CHECK(strstr(perr, "ka.req.volume.hostpath"));
}

TEST(fields_parse_space_in_arg_rejected_strict_accepted_verbatim)
{
    /* libsinsp cuts the rebuilt "name[arg]" at the first space */
    CHECK(parse_fails("ka.uri.param[sp ace]"));
    CHECK(strstr(perr, "space") && strstr(perr, "ka.uri.param"));
    CHECK(parse_fails("ka.uri.param[\"sp ace\"]"));
    CHECK(parse_fails("json.value[\"a]b\"]")); /* ']' ends libsinsp's argument */
    field_ref r;
    CHECK(parse("ka.uri.param[sp ace]", FIELD_PARSE_VERBATIM, &r) == 0);
    CHECK_STR(r.key, "sp ace");
    field_ref_free(&r);
    CHECK(parse("json.value[]", FIELD_PARSE_VERBATIM, &r) == 0);
    CHECK(r.keylen == 0);
    field_ref_free(&r);
    CHECK(parse("json.value[a]b]", FIELD_PARSE_VERBATIM, &r) == 0);
    CHECK_STR(r.key, "a]b");
    field_ref_free(&r);
    /* index rules are the same in both modes */
    CHECK(parse("ka.req.pod.containers.image[01]", FIELD_PARSE_VERBATIM, &r) != 0);
}

TEST(fields_parse_alloc_failure_is_clean)
{
    field_ref r;
    pg_alloc_fail_after(0);
    int rc = parse("json.value[/a/b]", 0, &r);
    pg_alloc_fail_after(-1);
    CHECK(rc == -1);
    CHECK(strstr(perr, "memory"));
    pg_alloc_fail_after(1); /* the key copy succeeds, the pointer does not */
    rc = parse("json.value[/a/b]", 0, &r);
    pg_alloc_fail_after(-1);
    CHECK(rc == -1);
}

/* ---- fields.md §7, one test per quirk ------------------------------------------- */

TEST(fields_quirk01_every_ka_and_json_field_is_a_string)
{
    for (int i = 0; i < FLD_JEVT_TIME; i++)
        CHECK(field_table[i].type == FT_STRING);
    CHECK_STR(ex(EV("\"responseStatus\":{\"code\":201}"), "ka.response.code"), "201");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"hostNetwork\":true}}"), "ka.req.pod.host_network"), "true");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"hostPID\":\"yes\"}}"), "ka.req.pod.host_pid"), "yes");
}

TEST(fields_quirk02_missing_is_no_value_and_empty_list_is_missing)
{
    CHECK_STR(ex(EV("\"verb\":\"get\""), "ka.user.name"), "<none>");
    CHECK_STR(ex(EV("\"user\":{\"groups\":[]}"), "ka.user.groups"), "<none>");
    CHECK_STR(ex(EV("\"user\":{\"groups\":\"not-an-array\"}"), "ka.user.groups"), "<none>");
    CHECK_STR(ex(EV("\"user\":{\"groups\":[\"a\",1,null,{\"k\":\"v\"},[\"n\"],\"a\"]}"), "ka.user.groups"),
              "a|1|null|{\"k\":\"v\"}|[\"n\"]|a");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"volumes\":[]}}"), "ka.req.pod.volumes.hostpath"), "<none>");
    /* an empty string is a present value */
    CHECK_STR(ex(EV("\"annotations\":{\"authorization.k8s.io/reason\":\"\"}"), "ka.auth.reason"), "");
    CHECK_STR(ex(EV("\"objectRef\":{\"subresource\":\"\"}"), "ka.target.subresource"), "");
}

TEST(fields_quirk03_auditid_gate)
{
    const char *no_id = "{\"kind\":\"Event\",\"verb\":\"get\",\"user\":{\"username\":\"x\"}}";
    CHECK_STR(ex(no_id, "ka.verb"), "<none>");
    CHECK_STR(ex(no_id, "ka.req.binding.subject.has_name[x]"), "<none>");
    CHECK_STR(ex(no_id, "json.value[/verb]"), "get"); /* json.* is not gated */
    CHECK_STR(ex(no_id, "jevt.value[/user/username]"), "x");
    /* presence is all that counts, even null or a nested auditID does not */
    CHECK_STR(ex("{\"auditID\":null,\"verb\":\"get\"}", "ka.verb"), "get");
    CHECK_STR(ex("{\"auditID\":null,\"verb\":\"get\"}", "ka.auditid"), "null");
    CHECK_STR(ex("{\"x\":{\"auditID\":\"a\"},\"verb\":\"get\"}", "ka.verb"), "<none>");
}

TEST(fields_quirk04_sourceips_reads_request_object_rules)
{
    CHECK_STR(ex(EV("\"sourceIPs\":[\"10.0.0.1\"]"), "ka.sourceips"), "<none>");
    const char *e = EV("\"sourceIPs\":[\"10.0.0.1\"],\"requestObject\":{\"rules\":[{\"sourceIPs\":[\"1.2.3.4\",\"5.6.7.8\"]},"
                       "{\"verbs\":[\"get\"]},{\"sourceIPs\":[\"9.9.9.9\"]}]}");
    CHECK_STR(ex(e, "ka.sourceips"), "1.2.3.4|5.6.7.8|9.9.9.9");
    CHECK_STR(ex(e, "ka.sourceips[2]"), "9.9.9.9");
    CHECK_STR(ex(e, "ka.sourceips[1]"), "<none>");
}

TEST(fields_quirk05_service_ports_is_one_value)
{
    const char *e = EV("\"requestObject\":{\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"name\":\"http\", \"port\":80},{\"port\":443}]}}");
    CHECK_STR(ex(e, "ka.req.service.ports"), "[{\"name\":\"http\",\"port\":80},{\"port\":443}]");
    CHECK_STR(ex(e, "ka.req.service.ports[1]"), "[{\"name\":\"http\",\"port\":80},{\"port\":443}]");
    CHECK_STR(ex(e, "ka.req.service.ports[7]"), "[{\"name\":\"http\",\"port\":80},{\"port\":443}]");
    CHECK_STR(ex(e, "ka.req.service.type"), "NodePort");
    CHECK_STR(ex(EV("\"requestObject\":{}"), "ka.req.service.ports"), "<none>");
}

TEST(fields_quirk06_eff_run_as_ignores_security_context)
{
    const char *e = EV("\"requestObject\":{\"spec\":{\"runAsUser\":11,\"securityContext\":{\"runAsUser\":1000},"
                       "\"containers\":[{\"runAsUser\":5,\"securityContext\":{\"runAsUser\":7}},{},{\"runAsUser\":\"str\"}]}}");
    CHECK_STR(ex(e, "ka.req.pod.containers.eff_run_as_user"), "5|11|str");
    CHECK_STR(ex(e, "ka.req.pod.containers.run_as_user"), "7");
    CHECK_STR(ex(e, "ka.req.pod.run_as_user"), "1000");
    /* the usual real pod: everything in securityContext → all "0" */
    const char *real = EV("\"requestObject\":{\"spec\":{\"securityContext\":{\"runAsUser\":1000,\"runAsGroup\":3000},"
                          "\"containers\":[{\"securityContext\":{\"runAsUser\":1}},{}]}}");
    CHECK_STR(ex(real, "ka.req.pod.containers.eff_run_as_user"), "0|0");
    CHECK_STR(ex(real, "ka.req.pod.containers.eff_run_as_group"), "0|0");
    CHECK_STR(ex(real, "ka.req.pod.initContainers.eff_run_as_user"), "<none>");
}

TEST(fields_quirk07_image_repository_cuts_at_first_colon)
{
    static const char *cases[][2] = {
        {"nginx", "nginx"},
        {"nginx:1.25", "nginx"},
        {"nginx@sha256:0123", "nginx"},
        {"nginx:1.25@sha256:0123", "nginx"},
        {"docker.io/library/nginx:latest", "docker.io/library/nginx"},
        {"registry.k8s.io/pause:3.9", "registry.k8s.io/pause"},
        {"localhost:5000/app", "localhost"},
        {"localhost:5000/app:v1", "localhost"},
        {"my.reg:443/org/app@sha256:ff", "my.reg"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char e[512];
        snprintf(e, sizeof e, EV("\"requestObject\":{\"spec\":{\"containers\":[{\"image\":\"%s\"}]}}"), cases[i][0]);
        CHECK_STR(ex(e, "ka.req.pod.containers.image.repository"), cases[i][1]);
        CHECK_STR(ex(e, "ka.req.container.image.repository"), cases[i][1]);
        CHECK_STR(ex(e, "ka.req.pod.containers.image.repository[0]"), cases[i][1]);
    }
}

TEST(fields_quirk08_one_container_without_image_makes_list_missing)
{
    const char *e = EV("\"requestObject\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"nginx\"},{\"name\":\"b\"},"
                       "{\"image\":null,\"name\":\"c\"}]}}");
    CHECK_STR(ex(e, "ka.req.pod.containers.image"), "<none>");
    CHECK_STR(ex(e, "ka.req.pod.containers.image.repository"), "<none>");
    CHECK_STR(ex(e, "ka.req.pod.containers.image[0]"), "nginx");
    CHECK_STR(ex(e, "ka.req.pod.containers.image[1]"), "<none>");
    CHECK_STR(ex(e, "ka.req.pod.containers.image[2]"), "null");
    CHECK_STR(ex(e, "ka.req.pod.containers.name"), "a|b|c");
    CHECK_STR(ex(e, "ka.req.container.image"), "nginx");
    const char *first_missing = EV("\"requestObject\":{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"image\":\"x\"}]}}");
    CHECK_STR(ex(first_missing, "ka.req.container.image"), "<none>");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"containers\":[]}}"), "ka.req.container.image"), "<none>");
}

TEST(fields_quirk09_add_capabilities_are_json_arrays_per_container)
{
    const char *e = EV("\"requestObject\":{\"spec\":{\"containers\":[{\"securityContext\":{\"capabilities\":{\"add\":"
                       "[\"NET_ADMIN\", \"SYS_TIME\"]}}},{},{\"securityContext\":{\"capabilities\":{\"add\":[]}}}]}}");
    CHECK_STR(ex(e, "ka.req.pod.containers.add_capabilities"), "[\"NET_ADMIN\",\"SYS_TIME\"]|[]");
    CHECK_STR(ex(e, "ka.req.pod.containers.add_capabilities[1]"), "<none>");
    CHECK_STR(ex(e, "ka.req.pod.containers.add_capabilities[2]"), "[]");
}

TEST(fields_quirk10_container_privileged_false_not_missing)
{
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"containers\":[]}}"), "ka.req.container.privileged"), "false");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{}}"), "ka.req.container.privileged"), "<none>");
    const char *str = EV("\"requestObject\":{\"spec\":{\"containers\":[{\"securityContext\":{\"privileged\":\"true\"}}]}}");
    CHECK_STR(ex(str, "ka.req.container.privileged"), "false");
    CHECK_STR(ex(str, "ka.req.pod.containers.privileged"), "true"); /* the text as written */
    const char *second = EV("\"requestObject\":{\"spec\":{\"containers\":[{\"securityContext\":{\"privileged\":false}},"
                            "{},{\"securityContext\":{\"privileged\":true}}]}}");
    CHECK_STR(ex(second, "ka.req.container.privileged"), "true");
    CHECK_STR(ex(second, "ka.req.pod.containers.privileged"), "false|true");
    CHECK_STR(ex(second, "ka.req.pod.containers.privileged[1]"), "<none>");
}

TEST(fields_quirk11_volume_hostpath_prefix_or_equality)
{
    const char *e = EV("\"requestObject\":{\"spec\":{\"volumes\":[{\"name\":\"a\",\"hostPath\":{\"path\":\"/var/run/docker.sock\"}},"
                       "{\"name\":\"b\",\"emptyDir\":{}}]}}");
    CHECK_STR(ex(e, "ka.req.volume.hostpath[/var/run/docker.sock]"), "true");
    CHECK_STR(ex(e, "ka.req.volume.hostpath[/var/run*]"), "true");
    CHECK_STR(ex(e, "ka.req.volume.hostpath[/var/run/docker.sock*]"), "true");
    CHECK_STR(ex(e, "ka.req.volume.hostpath[/var/run]"), "false"); /* no '*': equality */
    CHECK_STR(ex(e, "ka.req.volume.hostpath[*]"), "true");
    CHECK_STR(ex(e, "ka.req.volume.hostpath[/etc*]"), "false");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"volumes\":[{\"emptyDir\":{}}]}}"), "ka.req.volume.hostpath[*]"),
              "false");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{}}"), "ka.req.volume.hostpath[*]"), "<none>");
    CHECK_STR(ex(e, "ka.req.pod.volumes.hostpath"), "/var/run/docker.sock");
    CHECK_STR(ex(e, "ka.req.pod.volumes.volume_type"), "hostPath|emptyDir");
    CHECK_STR(ex(e, "ka.req.pod.volumes.volume_type[1]"), "emptyDir");
}

#define URI(u) EV("\"requestURI\":\"" u "\"")

TEST(fields_quirk12_uri_param_first_value_and_fatal_errors)
{
    const char *e = URI("/api/v1/namespaces/default/pods/p/exec?command=sh&command=-c&container=c1&stdin=true");
    CHECK_STR(ex(e, "ka.uri.param[command]"), "sh");
    CHECK_STR(ex(e, "ka.uri.param[container]"), "c1");
    CHECK_STR(ex(e, "ka.uri.param[tty]"), "<none>");
    CHECK_STR(ex(e, "ka.uri.param[Command]"), "<none>");
    const char *enc = URI("/api?a=hello%20world&b=x+y&sp%20ace=1&c=%41%00z");
    CHECK_STR(ex(enc, "ka.uri.param[a]"), "hello world");
    CHECK_STR(ex(enc, "ka.uri.param[b]"), "x y");
    CHECK_STR(ex_full(enc, "ka.uri.param[sp ace]", FIELD_PARSE_VERBATIM, 0, 0), "1");
    CHECK_STR(ex(enc, "ka.uri.param[c]"), "A"); /* cut at the decoded NUL */
    CHECK_STR(ex(URI("/api?empty=&a"), "ka.uri.param[empty]"), "");
    CHECK_STR(ex(URI("/api?empty=&a"), "ka.uri.param[a]"), "");
    /* any bad pair kills every key */
    CHECK_STR(ex(URI("/api?a=1;b=2"), "ka.uri.param[a]"), "<none>");
    CHECK_STR(ex(URI("/api?a=1&b=2;"), "ka.uri.param[a]"), "<none>");
    CHECK_STR(ex(URI("/api?a=%zz&b=2"), "ka.uri.param[b]"), "<none>");
    CHECK_STR(ex(URI("/api?a=1&b=%4"), "ka.uri.param[a]"), "<none>");
    CHECK_STR(ex(URI("/api/%zz?a=1"), "ka.uri.param[a]"), "<none>");
    /* fragment is not the query, but must unescape */
    CHECK_STR(ex(URI("/api?a=1#frag&b=2"), "ka.uri.param[a]"), "1");
    CHECK_STR(ex(URI("/api?a=1#frag&b=2"), "ka.uri.param[b]"), "<none>");
    CHECK_STR(ex(URI("/api?a=1#%zz"), "ka.uri.param[a]"), "<none>");
    CHECK_STR(ex(URI("/api?a=1\\u0001"), "ka.uri.param[a]"), "<none>"); /* control char */
    CHECK_STR(ex(URI("https://host:6443/api?a=1"), "ka.uri.param[a]"), "1");
    CHECK_STR(ex(URI("https://host:64x3/api?a=1"), "ka.uri.param[a]"), "<none>"); /* bad port */
    CHECK_STR(ex(URI("https://ho st/api?a=1"), "ka.uri.param[a]"), "<none>");    /* bad host */
    CHECK_STR(ex(URI("https://u:p@host/api?a=1"), "ka.uri.param[a]"), "1");
    CHECK_STR(ex(URI("https://[::1]:80/api?a=1"), "ka.uri.param[a]"), "1");
    CHECK_STR(ex(URI("https://[::1/api?a=1"), "ka.uri.param[a]"), "<none>");
    CHECK_STR(ex(URI(":foo?a=1"), "ka.uri.param[a]"), "<none>"); /* missing protocol scheme */
    CHECK_STR(ex(URI("a:b/c?a=1"), "ka.uri.param[a]"), "1");   /* opaque */
    CHECK_STR(ex(URI("1a:b?a=1"), "ka.uri.param[a]"), "<none>"); /* colon in first segment */
    CHECK_STR(ex(URI("/api?"), "ka.uri.param[a]"), "<none>");
    CHECK_STR(ex(EV("\"requestURI\":42"), "ka.uri.param[a]"), "<none>");
    CHECK_STR(ex(EV("\"verb\":\"get\""), "ka.uri.param[a]"), "<none>");
    CHECK_STR(ex(URI("/api?a=1&&=x"), "ka.uri.param[\"\"]"), "x");
}

TEST(fields_quirk13_target_pod_name_from_response_object)
{
    CHECK_STR(ex(EV("\"objectRef\":{\"resource\":\"pods\",\"name\":\"req\"},\"responseObject\":{\"metadata\":{\"name\":\"resp-name\"}}"),
                 "ka.target.pod.name"),
              "resp-name"); /* not objectRef.name */
    CHECK_STR(ex(EV("\"objectRef\":{\"resource\":\"pods\",\"subresource\":\"\"},\"responseObject\":{\"metadata\":{\"name\":\"r\"}}"),
                 "ka.target.pod.name"),
              "r");
    CHECK_STR(ex(EV("\"objectRef\":{\"resource\":\"pods\",\"subresource\":\"exec\"},\"responseObject\":{\"metadata\":{\"name\":\"r\"}}"),
                 "ka.target.pod.name"),
              "<none>");
    CHECK_STR(ex(EV("\"objectRef\":{\"resource\":\"pods\",\"subresource\":7},\"responseObject\":{\"metadata\":{\"name\":\"r\"}}"),
                 "ka.target.pod.name"),
              "r"); /* a non-string subresource counts as "" */
    CHECK_STR(ex(EV("\"objectRef\":{\"resource\":\"deployments\"},\"responseObject\":{\"metadata\":{\"name\":\"r\"}}"),
                 "ka.target.pod.name"),
              "<none>");
    CHECK_STR(ex(EV("\"objectRef\":{\"resource\":\"pods\",\"name\":\"x\"}"), "ka.target.pod.name"), "<none>");
}

TEST(fields_quirk14_configmap_name_is_object_ref_name)
{
    const char *e = EV("\"objectRef\":{\"resource\":\"secrets\",\"name\":\"s1\"}");
    CHECK_STR(ex(e, "ka.req.configmap.name"), "s1");
    CHECK_STR(ex(e, "ka.target.name"), "s1");
    CHECK_STR(ex(EV("\"requestObject\":{\"data\":{\"k\":\"a \\\"q\\\"\\nb\"}}"), "ka.req.configmap.obj"),
              "{\"k\":\"a \\\"q\\\"\\nb\"}"); /* escapes kept inside composites */
}

TEST(fields_quirk15_binding_subject_has_name_always_true)
{
    CHECK_STR(ex(EV("\"verb\":\"get\""), "ka.req.binding.subject.has_name[cluster-admin]"), "true");
    CHECK_STR(ex(EV("\"verb\":\"get\""), "ka.req.binding.subject.has_name[anything]"), "true");
    const char *b = EV("\"requestObject\":{\"roleRef\":{\"name\":\"admin\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"alice\"},"
                       "{\"kind\":\"user\",\"name\":\"bob\"},{\"kind\":\"ServiceAccount\",\"name\":\"sa\",\"namespace\":\"ns\"},"
                       "{\"kind\":\"ServiceAccount\",\"name\":\"nons\"},{\"kind\":\"Group\",\"name\":7},\"junk\",{\"kind\":\"User\"}]}");
    CHECK_STR(ex(b, "ka.req.binding.subjects.user_names"), "alice");
    CHECK_STR(ex(b, "ka.req.binding.subjects.group_names"), "7");
    CHECK_STR(ex(b, "ka.req.binding.subjects.serviceaccount_names"), "sa|nons");
    CHECK_STR(ex(b, "ka.req.binding.subjects.serviceaccount_ns_names"), "ns:sa");
    CHECK_STR(ex(b, "ka.req.binding.role"), "admin");
    CHECK_STR(ex(EV("\"requestObject\":{\"subjects\":{}}"), "ka.req.binding.subjects.user_names"), "<none>");
}

TEST(fields_quirk16_numbers_keep_spelling_and_null_is_present)
{
    CHECK_STR(ex(EV("\"responseStatus\":{\"code\":201.0,\"reason\":null}"), "ka.response.code"), "201.0");
    CHECK_STR(ex(EV("\"responseStatus\":{\"code\":201.0,\"reason\":null}"), "ka.response.reason"), "null");
    CHECK_STR(ex(EV("\"userAgent\":-0.0e5"), "ka.useragent"), "-0.0e5");
    CHECK_STR(ex(EV("\"verb\":1.50"), "ka.verb"), "1.50");
    CHECK_STR(ex(EV("\"objectRef\":{\"name\":{\"a\": [1, 2]}}"), "ka.target.name"), "{\"a\":[1,2]}");
}

TEST(fields_quirk17_index_selects_middle_array_and_skips_defaults)
{
    const char *e = EV("\"requestObject\":{\"spec\":{\"runAsUser\":9,\"containers\":[{\"name\":\"a\",\"command\":[\"sh\",\"-c\",\"echo a b\"],"
                       "\"ports\":[{\"containerPort\":80},{\"hostPort\":8080,\"containerPort\":81}]},"
                       "{\"name\":\"b\",\"runAsUser\":3,\"args\":[]}]}}");
    CHECK_STR(ex(e, "ka.req.pod.containers.eff_run_as_user"), "9|3");
    CHECK_STR(ex(e, "ka.req.pod.containers.eff_run_as_user[0]"), "<none>"); /* no default with an index */
    CHECK_STR(ex(e, "ka.req.pod.containers.eff_run_as_user[1]"), "3");
    CHECK_STR(ex(e, "ka.req.pod.containers.name[1]"), "b");
    CHECK_STR(ex(e, "ka.req.pod.containers.name[2]"), "<none>");
    CHECK_STR(ex(e, "ka.req.pod.containers.command"), "sh -c echo a b");
    CHECK_STR(ex(e, "ka.req.pod.containers.command[1]"), "<none>");
    CHECK_STR(ex(e, "ka.req.pod.containers.args"), "");
    CHECK_STR(ex(e, "ka.req.pod.containers.host_port"), "80|8080");
    CHECK_STR(ex(e, "ka.req.pod.containers.host_port[0]"), "80|8080"); /* all ports of container 0 */
    CHECK_STR(ex(e, "ka.req.pod.containers.host_port[1]"), "<none>");
    /* command elements must be strings; ports must be an array */
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"containers\":[{\"command\":[\"a\",1]}]}}"), "ka.req.pod.containers.command"),
              "<none>");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"containers\":[{\"command\":\"sh\"}]}}"), "ka.req.pod.containers.command"),
              "<none>");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"containers\":[{\"ports\":{}}]}}"), "ka.req.pod.containers.host_port"),
              "<none>");
    /* the three families are separate */
    const char *fam = EV("\"requestObject\":{\"spec\":{\"containers\":[{\"name\":\"c\"}],\"initContainers\":[{\"name\":\"i\"}],"
                         "\"ephemeralContainers\":[{\"name\":\"e\"}]}}");
    CHECK_STR(ex(fam, "ka.req.pod.containers.name"), "c");
    CHECK_STR(ex(fam, "ka.req.pod.initContainers.name"), "i");
    CHECK_STR(ex(fam, "ka.req.pod.ephemeralContainers.name[0]"), "e");
    /* role rules: flattened, non-arrays ignored, index picks one rule */
    const char *r = EV("\"requestObject\":{\"rules\":[{\"resources\":[\"pods\",\"pods/exec\"],\"verbs\":[\"get\",\"create\"]},"
                       "{\"resources\":\"deployments\",\"verbs\":[\"*\"]},{\"nonResourceURLs\":[\"/healthz\"],\"verbs\":[\"get\"]}]}");
    CHECK_STR(ex(r, "ka.req.role.rules.verbs"), "get|create|*|get");
    CHECK_STR(ex(r, "ka.req.role.rules.verbs[1]"), "*");
    CHECK_STR(ex(r, "ka.req.role.rules.resources"), "pods|pods/exec");
    CHECK_STR(ex(r, "ka.req.role.rules.nonResourceURLs[0]"), "<none>");
    CHECK_STR(ex(r, "ka.req.role.rules.nonResourceURLs"), "/healthz");
}

TEST(fields_quirk18_json_value_pointer_leniency)
{
    const char *e = "{\"kind\":\"Event\",\"\":\"empty-key\",\"a/b\":\"slash\",\"a~b\":\"tilde\",\"arr\":[\"x\",{\"k\":\"v\"}],"
                    "\"num\":10,\"float\":1500.0,\"nul\":null,\"stage\":\"Done\",\"esc\":\"line\\nbreak \\u00e9\"}";
    CHECK_STR(ex(e, "json.value[stage]"), "Done");
    CHECK_STR(ex(e, "json.value[/stage]"), "Done");
    CHECK_STR(ex(e, "json.value[/arr/01]"), "{\"k\":\"v\"}");
    CHECK_STR(ex(e, "json.value[/arr/+1/k]"), "v");
    CHECK_STR(ex(e, "json.value[/arr/-]"), "<none>");
    CHECK_STR(ex(e, "json.value[/arr/-1]"), "<none>");
    CHECK_STR(ex(e, "json.value[/arr/2]"), "<none>");
    CHECK_STR(ex(e, "json.value[/a~1b]"), "slash");
    CHECK_STR(ex(e, "json.value[/a~0b]"), "tilde");
    CHECK_STR(ex(e, "json.value[/]"), "empty-key");
    CHECK_STR(ex(e, "json.value[//x]"), "<none>");
    CHECK_STR(ex(e, "json.value[/num]"), "10");
    CHECK_STR(ex(e, "json.value[/float]"), "1500.0");
    CHECK_STR(ex(e, "json.value[/nul]"), "null");
    CHECK_STR(ex(e, "json.value[/esc]"), "line\nbreak \xc3\xa9");
    CHECK_STR(ex(e, "json.value[/stage/x]"), "<none>");
    CHECK_STR(ex(e, "jevt.value[/arr]"), "[\"x\",{\"k\":\"v\"}]");
    CHECK_STR(ex("{\"a\": [1, 2],\n \"b\" : \"c\"}", "json.value[\"\"]"), "{\"a\":[1,2],\"b\":\"c\"}");
}

/* ---- rendering details ------------------------------------------------------------ */

TEST(fields_values_cut_at_nul)
{
    CHECK_STR(ex(EV("\"verb\":\"ge\\u0000t\""), "ka.verb"), "ge");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"containers\":[{\"command\":[\"a\\u0000b\",\"c\"]}]}}"),
                 "ka.req.pod.containers.command"),
              "a");
    /* composites keep the escape, so nothing is cut */
    CHECK_STR(ex(EV("\"objectRef\":{\"name\":[\"a\\u0000b\"]}"), "ka.target.name"), "[\"a\\u0000b\"]");
}

TEST(fields_values_decoded_and_zero_copy)
{
    const char *src = EV("\"verb\":\"get\",\"user\":{\"username\":\"caf\\u00e9\"}");
    CHECK_STR(ex(src, "ka.user.name"), "caf\xc3\xa9");
    /* an escape-free string is a slice of the payload */
    json_doc d;
    json_doc_init(&d);
    CHECK(json_parse(&d, src, strlen(src)) == 0);
    field_ref ref;
    char err[128];
    CHECK(field_ref_parse("ka.verb", 7, &ref, err, sizeof err) == 0);
    audit_event ev = {.doc = &d, .root = 0};
    arena a;
    arena_init(&a, 0);
    field_ctx ctx = {.ev = &ev, .arena = &a};
    fvals v;
    CHECK(field_extract(&ref, &ctx, &v) && v.n == 1);
    CHECK(v.v[0].s >= src && v.v[0].s < src + strlen(src));
    arena_free(&a);
    json_doc_free(&d);
}

TEST(fields_extract_alloc_failure_means_missing)
{
    /* escaped: decoding needs arena memory (a plain single value needs none) */
    const char *src = EV("\"verb\":\"g\\u0065t\"");
    json_doc d;
    json_doc_init(&d);
    CHECK(json_parse(&d, src, strlen(src)) == 0);
    field_ref ref;
    char err[128];
    CHECK(field_ref_parse("ka.verb", 7, &ref, err, sizeof err) == 0);
    audit_event ev = {.doc = &d, .root = 0};
    arena a;
    arena_init(&a, 0); /* no block yet: the first value allocates one */
    field_ctx ctx = {.ev = &ev, .arena = &a};
    fvals v = {0};
    pg_alloc_fail_after(0);
    bool got = field_extract(&ref, &ctx, &v);
    pg_alloc_fail_after(-1);
    CHECK(!got && v.n == 0);
    arena_free(&a);
    json_doc_free(&d);
}

TEST(fields_json_obj_is_go_indent)
{
    CHECK_STR(ex("{\"a\": {}, \"b\":[],\"c\":[1,{\"d\":\"x:y,z\"}],\"e\":\"q\\\"\"}", "json.obj"),
              "{\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    1,\n    {\n      \"d\": \"x:y,z\"\n    }\n  ],\n  \"e\": \"q\\\"\"\n}");
    CHECK_STR(ex("{}", "jevt.obj"), "{}");
}

TEST(fields_json_rawtime_and_evt_times)
{
    const char *e = EV("\"verb\":\"get\"");
    CHECK_STR(ex(e, "json.rawtime"), "1704164645123456789");
    CHECK_STR(ex(e, "jevt.rawtime"), "1704164645123456789");
    CHECK_STR(ex(e, "evt.rawtime"), "1704164645123456789");
    CHECK_STR(ex(e, "evt.rawtime.s"), "1704164645");
    CHECK_STR(ex(e, "evt.rawtime.ns"), "123456789");
    CHECK_STR(ex(e, "evt.time"), "03:04:05.123456789");
    CHECK_STR(ex(e, "evt.time.s"), "03:04:05");
    CHECK_STR(ex(e, "evt.time.iso8601"), "2024-01-02T03:04:05.123456789+0000");
    CHECK_STR(ex(e, "evt.datetime"), "2024-01-02 03:04:05.123456789");
    CHECK_STR(ex(e, "evt.datetime.s"), "2024-01-02 03:04:05");
    CHECK_STR(ex(e, "jevt.time"), "03:04:05.123456789");
    CHECK_STR(ex(e, "jevt.time.iso8601"), "2024-01-02T03:04:05.123456789+0000");
    /* local time: UTC-5 crosses midnight backwards; ISO stays UTC */
    CHECK_STR(ex_full(e, "evt.time", 0, -5 * 3600, 0), "22:04:05.123456789");
    CHECK_STR(ex_full(e, "evt.datetime", 0, -5 * 3600, 0), "2024-01-01 22:04:05.123456789");
    CHECK_STR(ex_full(e, "evt.time.iso8601", 0, -5 * 3600, 0), "2024-01-02T03:04:05.123456789+0000");
    CHECK_STR(ex_full(e, "evt.time", 0, 5 * 3600 + 1800, 0), "08:34:05.123456789");
    /* relative to the first event */
    CHECK_STR(ex_full(e, "evt.reltime", 0, 0, 1704164645123456789LL - 2000000005LL), "2000000005");
    CHECK_STR(ex_full(e, "evt.reltime.s", 0, 0, 1704164645123456789LL - 2000000005LL), "2");
    CHECK_STR(ex_full(e, "evt.reltime.ns", 0, 0, 1704164645123456789LL - 2000000005LL), "000000005");
}

TEST(fields_evt_constants)
{
    const char *e = "{\"kind\":\"Event\", \"verb\": \"get\"}";
    CHECK_STR(ex(e, "evt.num"), "42");
    CHECK_STR(ex(e, "evt.pluginname"), "k8saudit");
    CHECK_STR(ex(e, "evt.source"), "k8s_audit");
    CHECK_STR(ex(e, "evt.is_async"), "false");
    CHECK_STR(ex(e, "evt.hostname"), "node-1");
    CHECK_STR(ex(e, "evt.plugininfo"), "{\"kind\":\"Event\",\"verb\":\"get\"}");
}

TEST(fields_whitespace_in_composites_is_compacted)
{
    const char *e = "{ \"auditID\" : \"x\" , \"user\" : { \"groups\" : [ \"a\" , { \"k\" : \"v w\" } ] } }";
    CHECK_STR(ex(e, "ka.user.groups"), "a|{\"k\":\"v w\"}");
    CHECK_STR(ex(e, "json.value[/user]"), "{\"groups\":[\"a\",{\"k\":\"v w\"}]}");
}

/* ---- the root member table (event.h: audit_event.keys) -------------------- */

TEST(fields_root_table_classifies_exactly_its_names)
{
    static const char *const names[EK__COUNT] = {
#define NAME(k) [EK_##k] = #k,
        EVENT_ROOT_KEYS(NAME)
#undef NAME
    };
    for (int k = 0; k < EK__COUNT; k++) {
        char t[64];
        size_t n = strlen(names[k]);
        CHECK(event_key_of(names[k], n) == k);
        /* near misses: each byte changed, one byte more or less */
        for (size_t i = 0; i < n; i++) {
            memcpy(t, names[k], n);
            t[i] ^= 0x20;
            CHECK(event_key_of(t, n) == -1);
        }
        memcpy(t, names[k], n);
        t[n] = 's';
        CHECK(event_key_of(t, n + 1) == -1);
        CHECK(event_key_of(names[k], n - 1) == -1);
    }
    CHECK(event_key_of("metadata", 8) == -1);
    CHECK(event_key_of("", 0) == -1);
}

/* event_key_of hashes (first byte, last byte, length) to one candidate:
 * the hash must be perfect over the names, and any other name — random
 * ones over the names' own bytes, names with a byte or a length changed —
 * must come out -1, as a plain search of the list says. */
static int key_of_reference(const char *const names[EK__COUNT], const char *s, size_t n)
{
    for (int k = 0; k < EK__COUNT; k++)
        if (strlen(names[k]) == n && memcmp(names[k], s, n) == 0)
            return k;
    return -1;
}

TEST(fields_root_table_classifier_matches_a_plain_search)
{
    static const char *const names[EK__COUNT] = {
#define NAME(k) [EK_##k] = #k,
        EVENT_ROOT_KEYS(NAME)
#undef NAME
    };
    static const char alpha[] = "abcdefgijklmnoprstuvyADIOR\x00";
    uint64_t x = 88172645463325252ull; /* xorshift64 */
    int bad = 0;
    for (int iter = 0; iter < 200000; iter++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char t[24];
        size_t n;
        if (iter & 1) {
            /* a name with its first or last byte or its length changed */
            const char *nm = names[x % EK__COUNT];
            n = strlen(nm);
            memcpy(t, nm, n);
            if ((x >> 8) % 3 == 0)
                t[0] = alpha[(x >> 16) % (sizeof alpha - 1)];
            else if ((x >> 8) % 3 == 1)
                t[n - 1] = alpha[(x >> 16) % (sizeof alpha - 1)];
            else if (n < sizeof t)
                t[n++] = alpha[(x >> 16) % (sizeof alpha - 1)];
        } else {
            n = (size_t)(x % 20);
            for (size_t i = 0; i < n; i++)
                t[i] = alpha[(x >> (i * 3 % 60)) % (sizeof alpha - 1)];
        }
        bad += event_key_of(t, n) != key_of_reference(names, t, n);
    }
    CHECK(bad == 0);
}

TEST(fields_root_table_first_duplicate_and_escaped_names)
{
    const char *js = "{\"v\\u0065rb\":\"first\",\"verb\":\"second\",\"user\":1,\"user\":2,"
                     "\"k\\u0069nd\":\"Event\",\"\\u0061\\u0075\\u0064\\u0069\\u0074\\u0049\\u0044\":\"x\","
                     "\"stage\\u0000\":\"nul\",\"objectRef\":{\"name\":\"n\"},\"objectRef\":{}}";
    json_doc d;
    json_doc_init(&d);
    CHECK(json_parse(&d, js, strlen(js)) == 0);
    uint32_t keys[EK__COUNT];
    event_root_index(&d, 0, keys);
    CHECK(json_string_eq(&d, keys[EK_verb], "first", 5));
    CHECK(keys[EK_user] == json_get(&d, 0, "user", 4));
    CHECK(keys[EK_kind] == json_get(&d, 0, "kind", 4) && keys[EK_kind] != JSON_NONE);
    CHECK(keys[EK_auditID] != JSON_NONE);
    CHECK(keys[EK_stage] == JSON_NONE); /* "stage\u0000" is another name */
    CHECK(keys[EK_objectRef] == json_get(&d, 0, "objectRef", 9));
    CHECK(keys[EK_requestObject] == JSON_NONE);
    /* a non-object has no members */
    json_parse(&d, "[1]", 3);
    event_root_index(&d, 0, keys);
    for (int k = 0; k < EK__COUNT; k++)
        CHECK(keys[k] == JSON_NONE);
    json_doc_free(&d);

    /* the same through the fields (ex() checks both lookup paths agree) */
    CHECK_STR(ex(EV("\"v\\u0065rb\":\"get\",\"verb\":\"list\""), "ka.verb"), "get");
    CHECK_STR(ex(EV("\"v\\u0065rb\":\"get\",\"verb\":\"list\""), "jevt.value[/verb]"), "get");
    CHECK_STR(ex(EV("\"objectRef\":{\"name\":\"a\"},\"objectRef\":{\"name\":\"b\"}"), "ka.target.name"), "a");
    CHECK_STR(ex(EV("\"requestObject\":{\"spec\":{\"containers\":[{\"image\":\"i\"}]}},\"requestObject\":{}"),
                 "ka.req.pod.containers.image"), "i");
    CHECK_STR(ex("{\"\\u0061uditID\":1,\"verb\":\"get\"}", "ka.verb"), "get");
    CHECK_STR(ex("{\"auditID\\u0000\":1,\"verb\":\"get\"}", "ka.verb"), "<none>");
    CHECK_STR(ex(EV("\"metadata\":{\"x\":\"y\"}"), "jevt.value[/metadata/x]"), "y");
}

/* jevt.rawtime keeps the last second's digits per thread: every time, in
 * any order, must still print as the uint64 of its ns */
TEST(fields_rawtime_matches_printf_in_any_order)
{
    const char *src = "{}";
    json_doc d;
    json_doc_init(&d);
    CHECK(json_parse(&d, src, strlen(src)) == 0);
    field_ref ref;
    char err[128];
    CHECK(field_ref_parse("jevt.rawtime", 12, &ref, err, sizeof err) == 0);
    static const int64_t ts[] = {1704164645123456789LL, 1704164645000000001LL, 1704164645999999999LL,
                                 1704164646000000000LL, 1704164645123456789LL, 999999999LL, 0, 1,
                                 1000000000LL, 1000000001LL, -1, -1000000000LL, INT64_MAX, INT64_MIN,
                                 1704164645000000000LL};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        audit_event ev = {.doc = &d, .root = 0, .ts_ns = ts[i]};
        char got[64], want[32];
        extract_into(&ref, &ev, 0, 0, got, sizeof got);
        snprintf(want, sizeof want, "%llu", (unsigned long long)(uint64_t)ts[i]);
        CHECK_STR(got, want);
    }
    field_ref_free(&ref);
    json_doc_free(&d);
}

/* ka.target.* read objectRef's members through a table built at the first
 * of them (field_ctx.ref_keys); ex() checks each value against the plain
 * lookup by name.  Here the shapes that table must get right. */
TEST(fields_objectref_members_table)
{
    const char *ev = "{\"auditID\":\"a\",\"objectRef\":{\"resource\":\"pods\",\"name\":\"p1\",\"resource\":\"x\","
                     "\"namespace\":\"ns\",\"subresource\":\"exec\"}}";
    CHECK_STR(ex(ev, "ka.target.resource"), "pods"); /* the first duplicate */
    CHECK_STR(ex(ev, "ka.target.name"), "p1");
    CHECK_STR(ex(ev, "ka.target.namespace"), "ns");
    CHECK_STR(ex(ev, "ka.target.subresource"), "exec");
    CHECK_STR(ex(ev, "ka.req.configmap.name"), "p1");
    /* an escaped member name is still that member */
    CHECK_STR(ex("{\"auditID\":\"a\",\"objectRef\":{\"r\\u0065source\":\"secrets\"}}", "ka.target.resource"),
              "secrets");
    CHECK_STR(ex("{\"auditID\":\"a\",\"objectRef\":{\"x\\u0065\":1,\"resource\":\"secrets\"}}", "ka.target.resource"),
              "secrets");
    /* missing, null, not an object (an array takes indexes, not names) */
    CHECK_STR(ex("{\"auditID\":\"a\"}", "ka.target.resource"), "<none>");
    CHECK_STR(ex("{\"auditID\":\"a\",\"objectRef\":null}", "ka.target.name"), "<none>");
    CHECK_STR(ex("{\"auditID\":\"a\",\"objectRef\":[\"pods\"]}", "ka.target.resource"), "<none>");
    CHECK_STR(ex("{\"auditID\":\"a\",\"objectRef\":{}}", "ka.target.namespace"), "<none>");
    /* values of any type render as upstream does */
    CHECK_STR(ex("{\"auditID\":\"a\",\"objectRef\":{\"name\":{\"b\":1},\"namespace\":7}}", "ka.target.name"),
              "{\"b\":1}");
    CHECK_STR(ex("{\"auditID\":\"a\",\"objectRef\":{\"name\":{\"b\":1},\"namespace\":7}}", "ka.target.namespace"), "7");
    /* the ka.* gate still applies */
    CHECK_STR(ex("{\"objectRef\":{\"resource\":\"pods\"}}", "ka.target.resource"), "<none>");
}
