/*
 * Regression tests for what the fuzzers (fuzz/) and the hostile-input
 * work found: each test names the input class and the fault it caught.
 */
#include "test.h"

#include <errno.h>
#include <stdint.h>

#include "event/event.h"
#include "rules/ruleset.h"
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
