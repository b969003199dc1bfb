/*
 * fuzz_envelope — a body or file line → envelope_decode (every shape of the
 * sniffing table, nested base64/gzip/escaped levels).  Checks that each
 * group it produces is a JSON array the event splitter can read, that the
 * decoded size stays within the bound, and that the counts add up.
 */
#include "fuzz_common.h"
#include "envelope/envelope.h"

#include <errno.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static envelope *e;
    static json_doc d;
    if (!e) {
        e = envelope_new();
        json_doc_init(&d);
        if (!e)
            abort();
    }
    char err[256];
    envelope_opts o = {.accept = ENV_ANY, .max_bytes = 1 << 20, .gke_faithful = size & 1};
    int rc = envelope_decode(e, (const char *)data, size, &o, err, sizeof err);
    if (rc < 0) {
        if (rc != -EINVAL && rc != -EFBIG && rc != -ENOMEM)
            abort();
        if (!err[0])
            abort();
        return 0;
    }
    if (rc < ENV_NATIVE || rc >= ENV__COUNT)
        abort();
    const envelope_group *g = envelope_groups(e);
    size_t events = 0;
    for (size_t i = 0; i < envelope_ngroups(e); i++) {
        const char *text = envelope_text(e) + g[i].off;
        if (json_parse(&d, text, g[i].len) == -EINVAL || json_type_of(&d, 0) != JSON_ARRAY ||
            json_length(&d, 0) != g[i].nevents)
            abort();
        events += g[i].nevents;
        if (strlen(envelope_cluster(e, &g[i])) > 255)
            abort();
    }
    if (events != envelope_result_counts(e)->events)
        abort();
    return 0;
}
