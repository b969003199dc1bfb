/*
 * fuzz_cond — bytes as a condition: the raw text through cond_parse, then
 * the same text as the condition of a rule (next to a few lists and
 * macros it may name) through the whole compiler, and the compiled rule
 * evaluated over a few events.
 */
#include "fuzz_common.h"
#include "rules/cond_parse.h"

static const char prelude[] =
    "- list: shells\n  items: [sh, bash, \"/bin/sh\"]\n"
    "- list: verbs\n  items: [create, update, patch]\n"
    "- list: empty\n  items: []\n"
    "- macro: is_create\n  condition: ka.verb=create\n"
    "- macro: in_shells\n  condition: ka.uri.param[command] in (shells)\n"
    "- macro: nested\n  condition: (is_create and not in_shells) or ka.verb in (verbs)\n"
    "- rule: R\n  desc: fuzz\n  output: v=%ka.verb u=%ka.user.name c=%ka.req.pod.containers.image\n"
    "  priority: WARNING\n  source: k8s_audit\n  condition: ";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_quiet(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_cstr(data, size);
    arena a;
    arena_init(&a, 4096);
    cond_error err;
    (void)cond_parse(text, &a, COND_MAX_DEPTH, &err);
    arena_free(&a);

    buf y = BUF_INIT;
    buf_puts(&y, prelude);
    fz_yaml_quote(&y, text, strlen(text)); /* as YAML, the text ends at a NUL */
    buf_putc(&y, '\n');
    if (!y.oom) {
        ruleset *rs = fz_load_rules(y.data, y.len);
        if (rs) {
            fz_run_ruleset(rs, fz_events, false, NULL);
            ruleset_free(rs);
        }
    }
    buf_free(&y);
    free(text);
    return 0;
}
