/*
 * fuzz_rules — bytes as a rules file → loader (YAML, items, append and
 * override, exceptions) → compiler; a ruleset that loads is then run over
 * a few events with text and JSON alerts.
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
    loader_opts lo = {.min_priority = (priority)(size ? data[0] % PRI__COUNT : PRI_DEBUG)};
    rule_loader *l = loader_new(&lo);
    load_result res = {0};
    ruleset *rs = NULL;
    if (l && !loader_add_text(l, "fuzz.yaml", (const char *)data, size, &res))
        rs = loader_compile(l, &res);
    buf msgs = BUF_INIT;
    load_result_print(&res, &msgs);
    buf_free(&msgs);
    loader_free(l);
    load_result_free(&res);
    if (rs) {
        for (size_t i = 0; i < ruleset_count(rs); i++)
            if (!ruleset_rule(rs, i)->name)
                abort();
        fz_run_ruleset(rs, fz_events, false, NULL);
        ruleset_free(rs);
    }
    return 0;
}
