/*
 * Allocation-failure injection over a whole scenario: load a rules file
 * (lists, macros, exceptions, regexes, transformers, outputs), then read a
 * JSONL file through the file source, parse, split into events, evaluate
 * and render text and JSON alerts — the pipeline of src/engine, built
 * from the module APIs.  The scenario is run once to count its
 * allocations, then once per allocation k with the k-th one failing.
 * Every run must end cleanly: a load error that says so, or a run that
 * reports what it dropped; nothing crashes and (under `make asan`, whose
 * LeakSanitizer checks at exit) nothing leaks.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "event/event.h"
#include "fields/fields.h"
#include "json/json.h"
#include "output/alert.h"
#include "rules/eval.h"
#include "rules/ruleset.h"
#include "source/file_source.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/log.h"

static const char af_rules[] =
    "- required_engine_version: 15\n"
    "- list: shells\n  items: [sh, bash, /bin/sh, \"a b\"]\n"
    "- list: more_shells\n  items: [zsh]\n"
    "- list: shells\n  items: [ksh]\n  append: true\n"
    "- macro: is_exec\n  condition: ka.target.subresource in (exec, attach)\n"
    "- macro: shell_cmd\n  condition: ka.uri.param[command] in (shells, more_shells)\n"
    "- rule: Exec Shell\n  desc: exec of a shell\n"
    "  condition: is_exec and shell_cmd and not ka.user.name startswith \"system:\"\n"
    "  output: exec %ka.uri.param[command] by %ka.user.name (%ka.user.groups) in %ka.target.namespace"
    " img=%ka.req.pod.containers.image t=%evt.time n=%evt.num\n"
    "  priority: WARNING\n  source: k8s_audit\n  tags: [k8s, exec]\n"
    "  exceptions:\n  - name: trusted\n    fields: [ka.user.name, ka.target.namespace]\n"
    "    comps: [=, in]\n    values:\n    - [alice, [kube-system, ops]]\n"
    "- rule: Privileged\n  desc: privileged pod\n"
    "  condition: ka.verb=create and ka.target.resource=pods and ka.req.pod.containers.privileged intersects (true)"
    " and json.value[/requestObject/metadata/name] regex 'p.*'\n"
    "  output: priv %json.value[/requestObject/metadata/name] %tolower(ka.verb) %ka.req.pod.volumes.hostpath"
    " %ka.req.pod.containers.add_capabilities\n"
    "  priority: CRITICAL\n  source: k8s_audit\n"
    "- rule: Any\n  desc: everything\n  condition: ka.auditid exists and len(ka.verb) > 0\n"
    "  output: any %ka.auditid %ka.verb %evt.time.iso8601 %jevt.rawtime %ka.req.binding.subjects.user_names\n"
    "  priority: INFO\n  source: k8s_audit\n"
    "- rule: Any\n  condition: and ka.verb != patch\n  override:\n    condition: append\n";

static const char af_events[] =
    "{\"kind\":\"Event\",\"auditID\":\"1\",\"verb\":\"create\",\"user\":{\"username\":\"bob\",\"groups\":[\"dev\",\"ops\"]},"
    "\"requestURI\":\"/api/v1/namespaces/web/pods/p/exec?command=bash&container=c\","
    "\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"web\",\"name\":\"p\",\"subresource\":\"exec\"},"
    "\"stageTimestamp\":\"2024-01-02T03:04:05.5Z\"}\n"
    "\n"
    "{\"kind\":\"EventList\",\"items\":[{\"auditID\":\"2\",\"verb\":\"create\",\"objectRef\":{\"resource\":\"pods\"},"
    "\"requestObject\":{\"metadata\":{\"name\":\"priv\"},\"spec\":{\"containers\":[{\"image\":\"nginx\","
    "\"securityContext\":{\"privileged\":true,\"capabilities\":{\"add\":[\"SYS_ADMIN\"]}}}],"
    "\"volumes\":[{\"hostPath\":{\"path\":\"/etc\"}}]}},\"stageTimestamp\":\"2024-01-02T03:04:06Z\"},"
    "{\"auditID\":\"3\",\"verb\":\"get\",\"stageTimestamp\":\"2024-01-02T03:04:07Z\"}]}\n"
    "not json\n"
    "[{\"kind\":\"Event\",\"auditID\":\"4\",\"verb\":\"bind\",\"requestObject\":{\"subjects\":"
    "[{\"kind\":\"User\",\"name\":\"eve\"}]},\"stageTimestamp\":\"2024-01-02T03:04:08Z\"}]\n";

typedef struct af_run {
    const ruleset *rs;
    evaluator *ev;
    json_doc doc;
    event_batch batch;
    arena arena;
    buf out;
    uint64_t evt_num;
    size_t failures;        /* payloads or events reported as failed */
} af_run;

static int af_line(void *ctx, char *line, size_t len, const char *origin, uint64_t lineno)
{
    (void)origin;
    (void)lineno;
    af_run *r = ctx;
    if (!line)
        return 0; /* a flush point of the line reader */
    arena_reset(&r->arena);
    if (json_parse(&r->doc, line, len)) {
        r->failures++;
        return 0;
    }
    event_limits lim = {.max_event_size = EVENT_DEFAULT_MAX_EVENT_SIZE};
    char err[256];
    int rc = event_split(&r->doc, &lim, &r->batch, NULL, NULL, err, sizeof err);
    if (rc) {
        r->failures++;
        CHECK(err[0] != 0);
        if (rc != -EINVAL)
            return 0;
    }
    for (size_t i = 0; i < r->batch.n; i++) {
        field_ctx fc = {.ev = &r->batch.ev[i], .arena = &r->arena, .evt_num = ++r->evt_num,
                        .first_ts_ns = r->batch.ev[0].ts_ns, .hostname = "h", .tz_offset_s = 0};
        uint32_t m[8];
        evaluator_begin(r->ev, &fc);
        size_t n = evaluator_match(r->ev, true, m, 8);
        for (size_t k = 0; k < n; k++) {
            alert_opts o = {.hostname = "h", .include_output = true, .include_output_fields = true,
                            .include_tags = true};
            alert_render(r->rs, r->ev, m[k], &r->batch.ev[i], &o, &r->out);
            o.json = true;
            alert_render(r->rs, r->ev, m[k], &r->batch.ev[i], &o, &r->out);
        }
    }
    return 0;
}

typedef struct af_result {
    int stage;              /* 0 done, 1 load failed, 2 evaluator, 3 input read failed */
    char msg[512];
    buf out;
    size_t failures;
} af_result;

static void af_scenario(const char *events_path, af_result *res)
{
    memset(res, 0, sizeof *res);
    loader_opts lo = {.min_priority = PRI_DEBUG};
    load_result lr = {0};
    ruleset *rs = NULL;
    rule_loader *l = loader_new(&lo);
    bool have_loader = l != NULL;
    if (l && !loader_add_text(l, "af.yaml", af_rules, strlen(af_rules), &lr))
        rs = loader_compile(l, &lr);
    loader_free(l);
    if (!rs) {
        res->stage = 1;
        buf b = BUF_INIT;
        load_result_print(&lr, &b);
        /* loader_new has no result to report into: NULL is its error */
        snprintf(res->msg, sizeof res->msg, "%s", have_loader ? buf_cstr(&b) : "error: loader_new: out of memory");
        buf_free(&b);
        load_result_free(&lr);
        return;
    }
    load_result_free(&lr);
    af_run r = {.rs = rs, .ev = evaluator_new(rs)};
    if (!r.ev) {
        res->stage = 2;
        ruleset_free(rs);
        return;
    }
    json_doc_init(&r.doc);
    arena_init(&r.arena, 4096);
    file_stats st = {0};
    char err[256] = "";
    if (file_source_run(events_path, 1 << 20, af_line, NULL, NULL, &r, &st, err, sizeof err) < 0) {
        res->stage = 3;
        snprintf(res->msg, sizeof res->msg, "%s", err);
    }
    res->failures = r.failures;
    res->out = r.out;
    event_batch_free(&r.batch);
    json_doc_free(&r.doc);
    arena_free(&r.arena);
    evaluator_free(r.ev);
    ruleset_free(rs);
}

TEST(alloc_fail_every_allocation_of_load_and_run)
{
    char path[] = "/tmp/peregrine-af-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(write(fd, af_events, strlen(af_events)) == (ssize_t)strlen(af_events));
    close(fd);
    log_set_quiet(1);

    af_result ok;
    unsigned long before = pg_alloc_calls();
    af_scenario(path, &ok);
    unsigned long total = pg_alloc_calls() - before;
    CHECK(ok.stage == 0);
    CHECK(ok.failures == 1); /* the "not json" line */
    CHECK(strstr(buf_cstr(&ok.out), "exec bash by bob ((dev,ops)) in web") != NULL);
    CHECK(strstr(buf_cstr(&ok.out), "priv priv create (/etc) ([\"SYS_ADMIN\"])") != NULL);
    CHECK(strstr(buf_cstr(&ok.out), "any 4 bind") != NULL);
    CHECK(total > 100);

    size_t load_errors = 0, run_reported = 0, same = 0, differ = 0;
    for (unsigned long k = 0; k < total; k++) {
        af_result r;
        pg_alloc_fail_after((long)k);
        af_scenario(path, &r);
        pg_alloc_fail_after(-1);
        if (r.stage == 1) {
            load_errors++;
            if (!strstr(r.msg, "error")) /* a load failure always says what failed */
                test_fail(__FILE__, __LINE__, "k=%lu: load failed without an error: \"%s\"", k, r.msg);
        } else if (r.stage == 3) {
            run_reported++;
            CHECK(r.msg[0] != 0);
        } else if (r.stage == 0 && r.failures > ok.failures) {
            run_reported++;
        } else if (r.stage == 0 && !r.out.oom && r.out.len == ok.out.len &&
                   !memcmp(r.out.data, ok.out.data, ok.out.len)) {
            same++;
        } else {
            differ++; /* a field value lost to the failure (fields count it as missing) */
        }
        buf_free(&r.out);
    }
    printf("  alloc_fail: %lu allocations; each failed in turn: %zu load errors, %zu reported in the run, "
           "%zu identical output, %zu output changed\n", total, load_errors, run_reported, same, differ);
    buf_free(&ok.out);
    log_set_quiet(0);
    unlink(path);
}

/* The same for loading alone, over upstream's k8s_audit ruleset (lists,
 * macros, exceptions, overrides of real size): every allocation of the
 * load fails in turn; each must give a load error with a message. */
TEST(alloc_fail_every_allocation_of_upstream_rules)
{
    const char *shared = test_need_shared();
    if (!shared)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/conformance/data/rules/k8s_audit_rules-0.18.0.yaml", shared);
    loader_opts lo = {.min_priority = PRI_DEBUG};
    unsigned long before = pg_alloc_calls();
    rule_loader *l = loader_new(&lo);
    load_result res = {0};
    ruleset *rs = NULL;
    if (l && !loader_add_file(l, path, &res))
        rs = loader_compile(l, &res);
    unsigned long total = pg_alloc_calls() - before;
    CHECK(rs != NULL);
    ruleset_free(rs);
    loader_free(l);
    load_result_free(&res);
    size_t failed = 0;
    for (unsigned long k = 0; k < total; k++) {
        pg_alloc_fail_after((long)k);
        l = loader_new(&lo);
        rs = NULL;
        res = (load_result){0};
        bool have_loader = l != NULL;
        if (l && !loader_add_file(l, path, &res))
            rs = loader_compile(l, &res);
        pg_alloc_fail_after(-1);
        if (!rs) {
            failed++;
            buf b = BUF_INIT;
            load_result_print(&res, &b);
            if (have_loader && !strstr(buf_cstr(&b), "error"))
                test_fail(__FILE__, __LINE__, "k=%lu: load failed without an error", k);
            buf_free(&b);
        }
        ruleset_free(rs);
        loader_free(l);
        load_result_free(&res);
    }
    printf("  alloc_fail: upstream rules: %lu allocations, each failed in turn: %zu load errors\n", total, failed);
}
