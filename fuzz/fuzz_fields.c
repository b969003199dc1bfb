/*
 * fuzz_fields — a payload → events → every field of fields.def, in every
 * argument form (none, indexes, keys and JSON pointers), extracted from
 * every event.  An input whose first line starts with '#' also names one
 * more field expression (the rest of that line), parsed both strictly and
 * verbatim, so argument parsing is fuzzed as well.
 */
#include "fuzz_common.h"

static field_ref *refs;
static size_t nrefs;

static const char *const index_args[] = {"", "[0]", "[1]", "[2]", "[18446744073709551615]"};
static const char *const key_args[] = {"[command]", "[container]", "[eve]", "[/etc]", "[\"/\"]", "[/a/0]",
                                       "[\"\"]", "[/user/username]", "[/requestObject/spec/containers/0/image]",
                                       "[/~0~1/x]", "[/items/01]", "[//]", "['w atch']"};

static void add_ref(const char *text)
{
    field_ref r;
    char err[256];
    if (field_ref_parse(text, strlen(text), &r, err, sizeof err))
        return;
    field_ref *g = realloc(refs, (nrefs + 1) * sizeof *refs);
    if (!g)
        abort();
    refs = g;
    refs[nrefs++] = r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_quiet(1);
    char text[512];
    for (size_t f = 0; f < FIELD__COUNT; f++) {
        const field_def *d = &field_table[f];
        const char *const *args = NULL;
        size_t n = 1;
        if (d->arg == FARG_INDEX_OPT) {
            args = index_args;
            n = sizeof index_args / sizeof *index_args;
        } else if (d->arg == FARG_KEY_REQ) {
            args = key_args;
            n = sizeof key_args / sizeof *key_args;
        }
        for (size_t k = 0; k < n; k++) {
            snprintf(text, sizeof text, "%s%s", d->name, args ? args[k] : "");
            add_ref(text);
        }
    }
    return 0;
}

typedef struct run {
    field_ref *extra;
    size_t nextra;
} run;

static void check_vals(const field_ref *r, field_ctx *fc)
{
    fvals v;
    bool got = field_extract(r, fc, &v);
    if (got != (v.n > 0))
        abort();
    for (size_t i = 0; i < v.n; i++)
        if (v.v[i].len && !v.v[i].s)
            abort();
        else if (v.v[i].len)
            (void)((volatile const char *)v.v[i].s)[v.v[i].len - 1]; /* touch the last byte */
}

static void each_event(void *ctx, field_ctx *fc)
{
    run *r = ctx;
    for (size_t i = 0; i < nrefs; i++)
        check_vals(&refs[i], fc);
    for (size_t i = 0; i < r->nextra; i++)
        check_vals(&r->extra[i], fc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t n = size;
    run r = {0};
    field_ref extra[2];
    if (n && p[0] == '#') {
        const char *nl = memchr(p, '\n', n);
        size_t el = nl ? (size_t)(nl - p) : n;
        char err[256];
        if (!field_ref_parse(p + 1, el - 1, &extra[r.nextra], err, sizeof err))
            r.nextra++;
        if (!field_ref_parse_flags(p + 1, el - 1, FIELD_PARSE_VERBATIM, &extra[r.nextra], err, sizeof err))
            r.nextra++;
        r.extra = extra;
        p += el;
        n -= el;
        if (r.nextra == 0)
            return 0;
        if (n == 0)
            fz_for_lines(fz_events, each_event, &r);
    }
    fz_for_events(p, n, each_event, &r);
    for (size_t i = 0; i < r.nextra; i++)
        field_ref_free(&extra[i]);
    return 0;
}
