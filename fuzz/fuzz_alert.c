/*
 * fuzz_alert — the output formatter.  Input: one flag byte (text/JSON,
 * ISO 8601, which JSON properties), an output template up to the first
 * newline, then optionally a payload (else a few built-in events).  The
 * template becomes the output of an always-true rule with tags; every
 * event renders it through alert_render.
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_quiet(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    const char *nl = memchr(p, '\n', n);
    size_t tl = nl ? (size_t)(nl - p) : n;
    if (memchr(p, 0, tl))
        return 0; /* a YAML scalar cannot hold a NUL */

    buf y = BUF_INIT;
    buf_puts(&y, "- rule: R\n  desc: fuzz\n  condition: evt.num > 0\n  priority: NOTICE\n"
                 "  source: k8s_audit\n  tags: [b, a, \"t\\\"q\"]\n  output: ");
    fz_yaml_quote(&y, p, tl);
    buf_putc(&y, '\n');
    ruleset *rs = y.oom ? NULL : fz_load_rules(y.data, y.len);
    buf_free(&y);
    if (!rs)
        return 0;
    alert_opts o = {.json = flags & 1, .iso8601 = flags & 2, .include_output = flags & 4,
                    .include_output_fields = flags & 8, .include_tags = flags & 16,
                    .include_message = flags & 32, .hostname = "fuzz\"host", .tz_offset_s = (flags & 64) ? -3600 : 0};
    if (nl && n - tl - 1 > 0) {
        fz_eval z = {.rs = rs, .ev = evaluator_new(rs), .render_all = true, .opts = o};
        if (z.ev)
            fz_for_events(nl + 1, n - tl - 1, fz_eval_event, &z);
        buf_free(&z.out);
        evaluator_free(z.ev);
    } else {
        fz_run_ruleset(rs, fz_events, true, &o);
    }
    ruleset_free(rs);
    return 0;
}
