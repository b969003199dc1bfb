/*
 * Unit tests of the alert-output building blocks (src/output/): the
 * bounded queue (order, wrap-around, bounds), the noise filters (time-blind
 * alert hash, dedup window, per-rule token bucket), the channel keys of
 * the configuration, outputs_new's configuration errors, and the alert
 * time of day.  The channels themselves are tested end to end by
 * tests/outputs/run.sh.
 */
#include "app/config.h"
#include "output/alert.h"
#include "output/noise.h"
#include "output/outputs.h"
#include "output/outq.h"
#include "test.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* time_hms by arithmetic agrees with gmtime_r + printf, offsets included. */
TEST(alert_time_hms_matches_gmtime)
{
    static const int64_t secs[] = {0, 1, 59, 60, 3599, 3600, 86399, 86400, 1700000000, 1700050123, -1, -86399,
                                   -86400, -86401, 4102444799LL, 9223372035LL, -9223372035LL};
    static const long offs[] = {0, 3600, -3600, 19800, -45000, 50400, 86399, -86399};
    static const int64_t fracs[] = {0, 1, 999999999, 123456789};
    for (size_t i = 0; i < sizeof secs / sizeof *secs; i++)
        for (size_t k = 0; k < sizeof offs / sizeof *offs; k++)
            for (size_t j = 0; j < sizeof fracs / sizeof *fracs; j++) {
                int64_t ns = secs[i] * 1000000000 + (secs[i] < 0 ? -fracs[j] : fracs[j]);
                int64_t s = ns / 1000000000, f = ns % 1000000000;
                if (f < 0) {
                    f += 1000000000;
                    s--;
                }
                time_t t = (time_t)(s + offs[k]);
                struct tm tm;
                char want[64];
                CHECK(gmtime_r(&t, &tm) != NULL);
                snprintf(want, sizeof want, "%02d:%02d:%02d.%09ld", tm.tm_hour, tm.tm_min, tm.tm_sec, (long)f);
                buf got = BUF_INIT;
                time_hms(ns, offs[k], &got);
                CHECK_STR(buf_cstr(&got), want);
                buf_free(&got);
            }
}

TEST(outq_keeps_order_across_wraparound)
{
    outq *q = outq_new(4096, 0);
    CHECK(q != NULL);
    char text[300];
    outq_item it[8];
    unsigned next_in = 0, next_out = 0;
    /* records of varying size cycle through the ring many times */
    for (int round = 0; round < 200; round++) {
        outq_lock(q);
        for (int k = 0; k < 5; k++) {
            int len = snprintf(text, sizeof text, "%u:%0*d", next_in, (int)(next_in * 37 % 250), 0);
            if (outq_put_locked(q, OUTQ_ALERT, (int)(next_in % 8), text, (size_t)len))
                break;
            next_in++;
        }
        outq_unlock(q);
        size_t n = outq_peek(q, it, 8, 0);
        for (size_t i = 0; i < n; i++) {
            CHECK(it[i].kind == OUTQ_ALERT);
            CHECK(it[i].prio == (int)(next_out % 8));
            CHECK(strtoul(it[i].text, NULL, 10) == next_out);
            next_out++;
        }
        outq_pop(q, n);
    }
    CHECK(next_out > 400);
    outq_free(q);
}

TEST(outq_refuses_when_full_and_counts_alerts_only)
{
    outq *q = outq_new(4096, 3);
    outq_lock(q);
    CHECK(outq_put_locked(q, OUTQ_ALERT, 1, "a\n", 2) == 0);
    CHECK(outq_put_locked(q, OUTQ_REOPEN, 0, NULL, 0) == 0);
    CHECK(outq_put_locked(q, OUTQ_ALERT, 2, "b\n", 2) == 0);
    CHECK(outq_put_locked(q, OUTQ_ALERT, 3, "c\n", 2) == -1); /* max_items */
    outq_unlock(q);
    CHECK(outq_alerts(q) == 2);
    outq_item it[4];
    CHECK(outq_peek(q, it, 4, 0) == 3);
    CHECK(it[1].kind == OUTQ_REOPEN);
    outq_pop(q, 3);
    CHECK(outq_alerts(q) == 0);
    /* byte bound: a record larger than the ring never fits */
    static char big[8192];
    outq_lock(q);
    CHECK(outq_put_locked(q, OUTQ_ALERT, 0, big, sizeof big) == -1);
    outq_unlock(q);
    CHECK(!outq_done(q));
    outq_close(q);
    CHECK(outq_done(q));
    outq_free(q);
}

TEST(noise_hash_ignores_event_time_only)
{
    const char *a = "13:13:03.544952000: Informational K8s ConfigMap Created (user=u configmap=c)\n";
    const char *b = "13:13:09.000000001: Informational K8s ConfigMap Created (user=u configmap=c)\n";
    const char *c = "13:13:09.000000001: Informational K8s ConfigMap Created (user=v configmap=c)\n";
    CHECK(noise_alert_hash("r", a, strlen(a)) == noise_alert_hash("r", b, strlen(b)));
    CHECK(noise_alert_hash("r", a, strlen(a)) != noise_alert_hash("r", c, strlen(c)));
    CHECK(noise_alert_hash("r", a, strlen(a)) != noise_alert_hash("s", a, strlen(a)));
    const char *ja = "{\"hostname\":\"h\",\"output\":\"13:13:03.544952000: Informational X (u=1)\",\"priority\":"
                     "\"Informational\",\"rule\":\"X\",\"time\":\"2018-10-26T13:13:03.544952000Z\","
                     "\"output_fields\":{\"evt.time\":1540559583544952000,\"ka.user.name\":\"u\"}}\n";
    const char *jb = "{\"hostname\":\"h\",\"output\":\"13:13:07.000000000: Informational X (u=1)\",\"priority\":"
                     "\"Informational\",\"rule\":\"X\",\"time\":\"2018-10-26T13:13:07.000000000Z\","
                     "\"output_fields\":{\"evt.time\":1540559587000000000,\"ka.user.name\":\"u\"}}\n";
    const char *jc = "{\"hostname\":\"h\",\"output\":\"13:13:07.000000000: Informational X (u=2)\",\"priority\":"
                     "\"Informational\",\"rule\":\"X\",\"time\":\"2018-10-26T13:13:07.000000000Z\","
                     "\"output_fields\":{\"evt.time\":1540559587000000000,\"ka.user.name\":\"v\"}}\n";
    CHECK(noise_alert_hash("X", ja, strlen(ja)) == noise_alert_hash("X", jb, strlen(jb)));
    CHECK(noise_alert_hash("X", ja, strlen(ja)) != noise_alert_hash("X", jc, strlen(jc)));
}

TEST(noise_dedup_window)
{
    noise *n = noise_new(&(noise_opts){.dedup = true, .window_s = 10});
    const char *a = "10:00:00.000000000: Warning A (x=1)\n", *b = "10:00:05.000000000: Warning A (x=1)\n";
    const int64_t s = 1000000000;
    CHECK(noise_pass(n, "A", a, strlen(a), 100 * s));
    CHECK(!noise_pass(n, "A", b, strlen(b), 105 * s));   /* same alert, later event time */
    CHECK(noise_pass(n, "B", b, strlen(b), 105 * s));    /* another rule */
    CHECK(!noise_pass(n, "A", a, strlen(a), 109 * s));
    CHECK(noise_pass(n, "A", a, strlen(a), 110 * s));    /* window over: a new one starts */
    CHECK(!noise_pass(n, "A", a, strlen(a), 115 * s));
    noise_free(n);
}

TEST(noise_rate_limit_token_bucket_per_rule)
{
    noise *n = noise_new(&(noise_opts){.rate_limit = true, .rate = 2, .max_burst = 3});
    const int64_t ms = 1000000;
    int passed = 0;
    for (int i = 0; i < 10; i++)
        passed += noise_pass(n, "A", "x\n", 2, 1000 * ms);
    CHECK(passed == 3);                                   /* the burst */
    CHECK(noise_pass(n, "B", "x\n", 2, 1000 * ms));       /* buckets are per rule */
    CHECK(noise_pass(n, "A", "x\n", 2, 1500 * ms));       /* 2/s: one token after 0.5 s */
    CHECK(!noise_pass(n, "A", "x\n", 2, 1500 * ms));
    passed = 0;
    for (int i = 0; i < 10; i++)
        passed += noise_pass(n, "A", "x\n", 2, 100000 * ms); /* long idle: refilled up to the burst only */
    CHECK(passed == 3);
    /* many rules: the table grows */
    char rule[32];
    for (int i = 0; i < 500; i++) {
        snprintf(rule, sizeof rule, "rule-%d", i);
        CHECK(noise_pass(n, rule, "x\n", 2, 100000 * ms));
    }
    noise_free(n);
}

static int load_yaml(config *c, const char *yaml, char *err, size_t errlen)
{
    char path[] = "/tmp/peregrine-test-cfg-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    if (write(fd, yaml, strlen(yaml)) != (ssize_t)strlen(yaml)) {
        close(fd);
        unlink(path);
        return -1;
    }
    close(fd);
    config_defaults(c);
    int rc = config_load_file(c, path, err, errlen);
    unlink(path);
    return rc;
}

TEST(config_reads_falco_output_keys)
{
    config c;
    char err[256];
    CHECK(load_yaml(&c,
                    "file_output:\n  enabled: true\n  keep_alive: true\n  filename: ./events.txt\n"
                    "syslog_output:\n  enabled: true\n"
                    "program_output:\n  enabled: true\n  keep_alive: false\n"
                    "  program: \"jq '{text: .output}' | curl -d @- -X POST https://hooks.example/x\"\n"
                    "http_output:\n  enabled: true\n  url: http://sidekick:2801/\n  user_agent: \"ua/1\"\n"
                    "  insecure: true\n  ca_cert: \"\"\n  ca_path: /etc/falco/certs/\n  mtls: false\n"
                    "  compress_uploads: true\n  keep_alive: true\n  max_consecutive_timeouts: 7\n  echo: false\n"
                    "output_timeout: 500\noutputs_queue:\n  capacity: 1000\n"
                    "alert_dedup:\n  enabled: true\n  window: 2.5\n",
                    err, sizeof err) == 0);
    CHECK(c.file_output_enabled && c.file_output_keep_alive);
    CHECK_STR(c.file_output_filename, "./events.txt");
    CHECK(c.syslog_output_enabled);
    CHECK(c.program_output_enabled && !c.program_output_keep_alive);
    CHECK_STR(c.program_output_program, "jq '{text: .output}' | curl -d @- -X POST https://hooks.example/x");
    CHECK(c.http_output_enabled && c.http_output_insecure && !c.http_output_mtls);
    CHECK(c.http_output_compress_uploads && c.http_output_keep_alive && !c.http_output_echo);
    CHECK_STR(c.http_output_url, "http://sidekick:2801/");
    CHECK_STR(c.http_output_user_agent, "ua/1");
    CHECK_STR(c.http_output_ca_cert, "");
    CHECK_STR(c.http_output_ca_path, "/etc/falco/certs/");
    CHECK(c.http_output_max_consecutive_timeouts == 7);
    CHECK(c.output_timeout_ms == 500);
    CHECK(c.outputs_queue_capacity == 1000);
    CHECK(c.dedup_enabled && c.dedup_window_s == 2.5);
    CHECK(config_override(&c, "http_output.url=http://other/", err, sizeof err) == 0);
    CHECK_STR(c.http_output_url, "http://other/");
    CHECK(config_override(&c, "output_timeout=-1", err, sizeof err) == -EINVAL);
    CHECK(strstr(err, "output_timeout") != NULL);
    CHECK(config_override(&c, "alert_rate_limit.rate=fast", err, sizeof err) == -EINVAL);
    config_free(&c);
}

TEST(outputs_new_reports_missing_keys_like_falco)
{
    config c;
    config_defaults(&c);
    char err[256];
    c.http_output_enabled = true;
    CHECK(outputs_new(&c, err, sizeof err) == NULL);
    CHECK_STR(err, "http output enabled but no url in configuration block");
    c.http_output_enabled = false;
    c.program_output_enabled = true;
    CHECK(outputs_new(&c, err, sizeof err) == NULL);
    CHECK_STR(err, "program output enabled but no program in configuration block");
    c.program_output_enabled = false;
    /* only stdout: builds, and prints no extra statistics */
    c.stdout_enabled = false;
    outputs *o = outputs_new(&c, err, sizeof err);
    CHECK(o != NULL);
    outputs_channel_stats st[5];
    CHECK(outputs_get_stats(o, st, 5) == 0);
    outputs_close(o);
    config_free(&c);
}
