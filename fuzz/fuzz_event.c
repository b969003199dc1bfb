/*
 * fuzz_event — a payload → json_parse → event_split, with a normal and a
 * tiny maxEventSize.  Checks that every event is an object whose recorded
 * size bounds its compact length and that the limit holds.
 */
#include "fuzz_common.h"

#include <errno.h>

static void on_drop(void *ctx, const char *msg)
{
    (void)ctx;
    if (!msg || !*msg)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_doc d;
    static event_batch b;
    static int init;
    if (!init) {
        json_doc_init(&d);
        init = 1;
    }
    if (json_parse(&d, (const char *)data, size))
        return 0;
    static const size_t limits[] = {EVENT_DEFAULT_MAX_EVENT_SIZE, 64, 0};
    for (size_t k = 0; k < sizeof limits / sizeof *limits; k++) {
        event_limits lim = {.max_event_size = limits[k]};
        char err[256];
        int rc = event_split(&d, &lim, &b, on_drop, NULL, err, sizeof err);
        if (rc && rc != -EINVAL && rc != -ENOMEM)
            abort();
        for (size_t i = 0; i < b.n; i++) {
            const audit_event *e = &b.ev[i];
            if (e->root >= d.count || json_type_of(&d, e->root) != JSON_OBJECT)
                abort();
            /* size is the raw length (an upper bound of the compact one),
             * or the compact length when the raw one was over the limit;
             * either way a kept event's compact text fits the limit */
            size_t compact = json_compact_len(&d, e->root);
            if (e->size < compact || compact > lim.max_event_size)
                abort();
        }
        if (b.oversized > b.dropped)
            abort();
    }
    /* the time parser on the raw bytes too */
    int64_t ns;
    (void)event_parse_time((const char *)data, size, &ns);
    return 0;
}
