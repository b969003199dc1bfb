/*
 * fields — the field table, name lookup, argument parsing/validation
 * (docs/compat/fields.md §2.13 "Argument syntax") and the extraction dispatch.
 * The extractors themselves live in extract_*.c.
 */
#include "fields/fields.h"
#include "fields/extract.h"
#include "util/alloc.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The plugin a field belongs to follows from its place in fields.def. */
#define PLUGIN_OF(id) ((id) < FLD_JSON_VALUE ? "k8saudit" : (id) < FLD_EVT_NUM ? "json" : "evt")

const field_def field_table[FIELD__COUNT] = {
#define FIELD(id, name, type, list, arg, desc) [id] = {id, name, type, list, arg, desc, PLUGIN_OF(id)},
#include "fields/fields.def"
#undef FIELD
};

/* ---- lookup: open-addressing hash over the names, built once ------------ */

#define LOOKUP_SLOTS 512 /* power of two, > 3x the field count */
_Static_assert(LOOKUP_SLOTS > 3 * FIELD__COUNT, "grow LOOKUP_SLOTS");

static int16_t lookup_slots[LOOKUP_SLOTS];
static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void lookup_build(void)
{
    for (size_t i = 0; i < LOOKUP_SLOTS; i++)
        lookup_slots[i] = -1;
    for (int id = 0; id < FIELD__COUNT; id++) {
        const char *name = field_table[id].name;
        uint32_t h = name_hash(name, strlen(name)) & (LOOKUP_SLOTS - 1);
        while (lookup_slots[h] >= 0)
            h = (h + 1) & (LOOKUP_SLOTS - 1);
        lookup_slots[h] = (int16_t)id;
    }
}

const field_def *field_lookup(const char *name, size_t len)
{
    pthread_once(&lookup_once, lookup_build);
    uint32_t h = name_hash(name, len) & (LOOKUP_SLOTS - 1);
    for (; lookup_slots[h] >= 0; h = (h + 1) & (LOOKUP_SLOTS - 1)) {
        const field_def *d = &field_table[lookup_slots[h]];
        /* not strncmp: `name` may hold NUL bytes, which would end the
         * comparison early and send d->name[len] past the table's string */
        if (strlen(d->name) == len && memcmp(d->name, name, len) == 0)
            return d;
    }
    return NULL;
}

/* ---- references ----------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Decode a quoted argument body q[0..n) (quote char qc) into out, with the
 * condition language's string escapes (docs/compat/rules.md §6.2).  Returns the
 * decoded length, or -1 with *bad set to the offending escape char. */
static long unquote(const char *q, size_t n, char qc, char *out, char *bad)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = q[i];
        if (c != '\\') {
            out[o++] = c;
            continue;
        }
        if (++i == n) {
            *bad = '\\';
            return -1;
        }
        switch (q[i]) {
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case ' ': out[o++] = '\\'; break; /* "\ " → one backslash (libsinsp compat hack) */
        default:
            if (q[i] == qc) {
                out[o++] = qc;
                break;
            }
            *bad = q[i];
            return -1;
        }
    }
    out[o] = 0;
    return (long)o;
}

/* Find the closing quote of a quoted argument starting at a[0]: the first
 * matching quote not preceded by a backslash (docs/compat/rules.md §6.1). */
static const char *closing_quote(const char *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (a[i] == a[0] && a[i - 1] != '\\')
            return a + i;
    return NULL;
}

/* An [index] argument as libsinsp takes it: digits only, no leading zero
 * except "0", fits 64 bits.  NULL, or why it is not one. */
static const char *parse_index(const char *arg, size_t alen, unsigned long long *out)
{
    unsigned long long v = 0;
    if (alen == 0)
        return "an empty index";
    if (alen > 1 && arg[0] == '0')
        return "an index starting with 0";
    for (size_t i = 0; i < alen; i++) {
        if (arg[i] < '0' || arg[i] > '9')
            return "an index not made only of digits";
        if (v > (ULLONG_MAX - (unsigned)(arg[i] - '0')) / 10)
            return "an index that does not fit in 64 bits";
        v = v * 10 + (unsigned)(arg[i] - '0');
    }
    *out = v;
    return NULL;
}

int field_ref_parse_flags(const char *text, size_t len, unsigned flags, field_ref *ref, char *err,
                          size_t errlen)
{
    memset(ref, 0, sizeof *ref);
    ref->index = -1;

    const char *lb = memchr(text, '[', len);
    size_t namelen = lb ? (size_t)(lb - text) : len;
    if (namelen == 0)
        return fail(err, errlen, "missing field name in '%.*s'", (int)len, text);
    const field_def *def = field_lookup(text, namelen);
    if (!def)
        return fail(err, errlen, "unknown field '%.*s'", (int)namelen, text);
    const char *name = def->name;

    if (!lb) {
        if (def->arg == FARG_KEY_REQ)
            return fail(err, errlen, "field '%s' requires an argument, e.g. %s[name]", name, name);
        ref->def = def;
        return 0;
    }

    /* the raw argument text between the brackets */
    const char *a = lb + 1, *end = text + len;
    const char *rb;
    if (flags & FIELD_PARSE_VERBATIM) {
        /* --extract: everything up to the final ']' */
        if (end == a || end[-1] != ']')
            return fail(err, errlen, "field '%s' has unbalanced argument brackets: '%.*s'", name, (int)len,
                        text);
        rb = end - 1;
    } else {
        if (a < end && (*a == '"' || *a == '\'')) {
            const char *cq = closing_quote(a, (size_t)(end - a));
            if (!cq)
                return fail(err, errlen, "field '%s' has an unterminated quoted argument: '%.*s'", name,
                            (int)len, text);
            rb = cq + 1;
        } else {
            rb = memchr(a, ']', (size_t)(end - a));
        }
        if (!rb || rb >= end || *rb != ']')
            return fail(err, errlen, "field '%s' has unbalanced argument brackets: '%.*s'", name, (int)len,
                        text);
        if (rb + 1 != end)
            return fail(err, errlen, "unexpected text '%.*s' after the argument of field '%s'",
                        (int)(end - rb - 1), rb + 1, name);
    }
    size_t rawlen = (size_t)(rb - a);

    if (def->arg == FARG_NONE)
        return fail(err, errlen, "field '%s' does not take an argument, got '[%.*s]'", name, (int)rawlen, a);

    /* decode: bare, or quoted with "..." / '...' */
    char *arg = pg_malloc(rawlen + 1);
    if (!arg)
        return fail(err, errlen, "out of memory");
    size_t alen;
    if (rawlen >= 2 && (a[0] == '"' || a[0] == '\'') && a[rawlen - 1] == a[0]) {
        char bad = 0;
        long n = unquote(a + 1, rawlen - 2, a[0], arg, &bad);
        if (n < 0) {
            pg_free(arg);
            return fail(err, errlen, "field '%s': unsupported escape sequence '\\%c' in argument '%.*s'", name,
                        bad, (int)rawlen, a);
        }
        alen = (size_t)n;
    } else if (rawlen >= 1 && (a[0] == '"' || a[0] == '\'')) {
        pg_free(arg);
        return fail(err, errlen, "field '%s' has an unterminated quoted argument: '%.*s'", name, (int)rawlen, a);
    } else {
        memcpy(arg, a, rawlen);
        arg[rawlen] = 0;
        alen = rawlen;
    }

    /* libsinsp rebuilds "name[arg]", cuts it at the first space and at the
     * first ']' — such an argument can never reach the plugin. */
    const char *cut = flags & FIELD_PARSE_VERBATIM ? NULL
                      : memchr(arg, ' ', alen) ? "contains a space; Falco cuts field arguments at the first "
                                                 "space, so it cannot be used"
                      : memchr(arg, ']', alen) ? "contains ']', which ends the argument"
                                               : NULL;
    if (cut) {
        int rc = fail(err, errlen, "field '%s': argument '%s' %s", name, arg, cut);
        pg_free(arg);
        return rc;
    }

    if (def->arg == FARG_INDEX_OPT) {
        unsigned long long v = 0;
        const char *why = parse_index(arg, alen, &v);
        if (why) {
            int rc = fail(err, errlen, "field '%s' has an invalid argument '%s': %s", name, arg, why);
            pg_free(arg);
            return rc;
        }
        pg_free(arg);
        /* beyond any real array: clamp (it can only mean "missing") */
        ref->index = v > (unsigned long long)LLONG_MAX ? LLONG_MAX : (long long)v;
        ref->def = def;
        return 0;
    }

    /* FARG_KEY_REQ */
    if (def->id == FLD_KA_REQ_VOLUME_HOSTPATH && alen == 0) {
        pg_free(arg);
        /* upstream's Go code indexes the key's last byte: it would crash */
        return fail(err, errlen, "field '%s' requires a non-empty path argument", name);
    }
    ref->key = arg;
    ref->keylen = alen;
    if (def->id == FLD_JSON_VALUE || def->id == FLD_JEVT_VALUE) {
        ref->aux = fx_jptr_compile(arg, alen);
        if (!ref->aux) {
            field_ref_free(ref);
            return fail(err, errlen, "out of memory");
        }
    }
    ref->def = def;
    return 0;
}

int field_ref_parse(const char *text, size_t len, field_ref *ref, char *err, size_t errlen)
{
    return field_ref_parse_flags(text, len, 0, ref, err, errlen);
}

void field_ref_free(field_ref *ref)
{
    pg_free(ref->key);
    pg_free(ref->aux);
    ref->key = NULL;
    ref->aux = NULL;
    ref->keylen = 0;
}

/* ---- extraction ------------------------------------------------------------- */

bool field_extract(const field_ref *ref, field_ctx *ctx, fvals *out)
{
    field_id id = ref->def->id;
    if (id < FLD_JSON_VALUE)
        return extract_ka(ref, ctx, out);
    switch (id) {
    case FLD_JSON_VALUE:
    case FLD_JSON_OBJ:
    case FLD_JSON_RAWTIME:
    case FLD_JEVT_VALUE:
    case FLD_JEVT_OBJ:
    case FLD_JEVT_RAWTIME:
        return extract_json(ref, ctx, out);
    default:
        return extract_evt(ref, ctx, out);
    }
}
