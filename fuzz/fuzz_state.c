/*
 * fuzz_state — bytes as a correlation state file → the in-process store's
 * loader (a file that does not load must be refused whole), then updates of
 * every type over what loaded and a save: nothing a damaged or hostile state
 * file holds may crash the run that reads it.
 */
#include "correlate/store.h"
#include "util/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_quiet(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    corr_store *s = mem_store_new(&(mem_store_opts){.max_groups = 64, .max_bytes = 1 << 20});
    if (!s)
        return 0;
    char err[256];
    mem_store_load(s, (const char *)data, size, err, sizeof err);
    /* the ids a loaded state may carry are anything: probe the first bytes' */
    uint64_t id = 0;
    memcpy(&id, data + (size > 17 ? 9 : 0), size > 17 ? 8 : 0);
    static const corr_type types[] = {CORR_EVENT_COUNT, CORR_VALUE_COUNT, CORR_TEMPORAL, CORR_TEMPORAL_ORDERED,
                                      CORR_NEW_VALUE, CORR_SUPPRESS_ONLY};
    buf out = BUF_INIT;
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        corr_params p = {.id = id + t, .type = types[t], .window_ns = 60000000000ll, .threshold = 3,
                         .suppress_ns = 1000000000ll, .nsteps = 2, .learn_ns = 0, .forget_ns = 3600000000000ll};
        for (int i = 0; i < 8; i++) {
            char key[8] = {'k', (char)('0' + i % 3)};
            store_op op = {.kind = i == 7 ? SOP_CANCEL : SOP_HIT, .p = &p, .key = key, .keylen = 2,
                           .ts = (int64_t)i * 1000000000ll, .value = key, .vlen = 2, .step = (uint32_t)(i % 2),
                           .info = "a\x1f" "1\x1fget\x1fpods", .infolen = 12};
            store_apply(s, &op, 1, &out);
        }
    }
    buf_clear(&out);
    mem_store_save(s, &out);
    buf_free(&out);
    s->vt->free(s);
    return 0;
}
