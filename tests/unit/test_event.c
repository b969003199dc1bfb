/*
 * Unit tests of src/event: the RFC 3339 timestamp parser against a plain
 * reference implementation (the straightforward digit-by-digit parser the
 * fast one replaced), over valid shapes and every single-byte mutation of
 * them.  The root member table: its keys as the parser notes them against
 * a walk here; its values in test_fields.c.
 */
#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "event/event.h"

/* ---- reference: the former event_parse_time, kept verbatim ---------------- */

static int ref_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t ref_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int ref_days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), fraction 1-9 digits ('.' or ','). */
static int ref_parse_time(const char *s, size_t n, int64_t *ns)
{
    int Y, M, D, h, m, sec;
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -EINVAL;
    if (ref_digits(s, 4, &Y) || ref_digits(s + 5, 2, &M) || ref_digits(s + 8, 2, &D) ||
        ref_digits(s + 11, 2, &h) || ref_digits(s + 14, 2, &m) || ref_digits(s + 17, 2, &sec))
        return -EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > ref_days_in_month(Y, M) || h > 23 || m > 59 || sec > 59)
        return -EINVAL;
    size_t i = 19;
    int64_t frac = 0;
    if (i < n && (s[i] == '.' || s[i] == ',')) {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        size_t nd = i - start;
        if (nd < 1 || nd > 9)
            return -EINVAL;
        for (size_t k = 0; k < 9; k++)
            frac = frac * 10 + (k < nd ? s[start + k] - '0' : 0);
    }
    int64_t offset = 0;
    if (i < n && s[i] == 'Z') {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (n - i < 6 || s[i + 3] != ':' || ref_digits(s + i + 1, 2, &oh) || ref_digits(s + i + 4, 2, &om))
            return -EINVAL;
        if (oh > 23 || om > 59)
            return -EINVAL;
        offset = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -EINVAL;
    }
    if (i != n)
        return -EINVAL;
    int64_t secs = ref_days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec - offset;
    /* Go's UnixNano: past the int64 range (before 1678, after 2262) the
     * product wraps; unsigned arithmetic does the same without UB. */
    *ns = (int64_t)((uint64_t)secs * 1000000000u + (uint64_t)frac);
    return 0;
}


/* ---- differential test ------------------------------------------------------ */

static int failures;

static void same(const char *s, size_t n)
{
    int64_t a = 0x5555, b = 0x5555;
    int ra = event_parse_time(s, n, &a), rb = ref_parse_time(s, n, &b);
    if (ra != rb || (ra == 0 && a != b)) {
        if (failures++ < 10)
            test_fail(__FILE__, __LINE__, "\"%.*s\": got %d/%lld, reference %d/%lld", (int)n, s, ra, (long long)a,
                      rb, (long long)b);
    }
}

TEST(event_time_matches_reference)
{
    static const char *const valid[] = {
        "2024-06-03T09:04:07.013445Z",     "2024-06-03T09:04:07Z",           "2024-06-03T09:04:07.1Z",
        "2024-06-03T09:04:07.123456789Z",  "2024-06-03T09:04:07,5Z",         "2024-06-03T09:04:07.013445+02:00",
        "2024-06-03T09:04:07-23:59",       "2024-02-29T23:59:59.999999999Z", "2023-02-28T00:00:00Z",
        "2000-02-29T12:00:00Z",            "1900-02-28T12:00:00Z",           "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",  "1970-01-01T00:00:00Z",           "1969-12-31T23:59:59.999999999Z",
        "1677-09-21T00:12:43.145224191Z",  "2262-04-11T23:47:16.854775808Z", "2024-12-31T00:00:00.000000000+00:00",
    };
    /* mutation alphabet: digits at the edges, separators, signs, NUL, high bytes */
    static const char alpha[] = "0159:-+.,TZz /\x00\x80\xff";
    failures = 0;
    for (size_t v = 0; v < sizeof valid / sizeof *valid; v++) {
        char buf[64];
        size_t n = strlen(valid[v]);
        int64_t ns;
        CHECK(event_parse_time(valid[v], n, &ns) == 0);
        same(valid[v], n);
        for (size_t cut = 0; cut < n; cut++) /* every prefix */
            same(valid[v], cut);
        for (size_t i = 0; i < n; i++) {
            for (size_t a = 0; a < sizeof alpha - 1; a++) {
                memcpy(buf, valid[v], n);
                buf[i] = alpha[a];
                same(buf, n);
            }
            /* one byte inserted (more fraction digits, a longer offset...) */
            for (size_t a = 0; a < sizeof alpha - 1; a++) {
                memcpy(buf, valid[v], i);
                buf[i] = alpha[a];
                memcpy(buf + i + 1, valid[v] + i, n - i);
                same(buf, n + 1);
            }
        }
    }
    /* every month end, leap or not; out-of-range fields */
    for (int y = 1899; y <= 2401; y += 1) {
        for (int m = 0; m <= 13; m++) {
            for (int d = 27; d <= 32; d++) {
                char t[40];
                int n = snprintf(t, sizeof t, "%04d-%02d-%02dT23:59:60.5Z", y, m, d);
                same(t, (size_t)n);
                t[17] = '5';
                same(t, (size_t)n);
            }
        }
    }
    /* fraction lengths 0..12 with each ending */
    static const char *const ends[] = {"Z", "+01:30", "-00:00", "+24:00", "+01:60", "+0130", ""};
    for (int nd = 0; nd <= 12; nd++) {
        for (size_t e = 0; e < sizeof ends / sizeof *ends; e++) {
            char t[64];
            int n = snprintf(t, sizeof t, "2024-06-03T09:04:07.%.*s%s", nd, "123456789012", ends[e]);
            same(t, (size_t)n);
            t[19] = ',';
            same(t, (size_t)n);
        }
    }
    CHECK(failures == 0);
}

/* event_parse_time keeps the last valid minute per thread: a cached
 * minute must not let through what a fresh parse rejects, nor skip the
 * checks after it.  (The mutations above also alternate cached and fresh
 * minutes.) */
TEST(event_time_minute_cache)
{
    int64_t ns;
    CHECK(event_parse_time("2024-06-03T09:04:07.013445Z", 27, &ns) == 0 && ns == 1717405447013445000LL);
    CHECK(event_parse_time("2024-06-03T09:04:60.013445Z", 27, &ns) == -EINVAL);
    CHECK(event_parse_time("2024-06-03T09:04:5x.013445Z", 27, &ns) == -EINVAL);
    CHECK(event_parse_time("2024-06-03T09:04;07.013445Z", 27, &ns) == -EINVAL);
    CHECK(event_parse_time("2024-06-03T09:04:59+01:00", 25, &ns) == 0 && ns == 1717405499000000000LL - 3600000000000LL);
    CHECK(event_parse_time("2024-06-03T09:04:08Z", 20, &ns) == 0 && ns == 1717405448000000000LL);
    CHECK(event_parse_time("2024-06-03T09:04", 16, &ns) == -EINVAL);
    CHECK(event_parse_time("2024-06-03T09:05:00Z", 20, &ns) == 0 && ns == 1717405500000000000LL);
    CHECK(event_parse_time("2023-02-29T09:05:00Z", 20, &ns) == -EINVAL);
    CHECK(event_parse_time("2023-02-29T09:05:00Z", 20, &ns) == -EINVAL); /* an invalid minute is not kept */
}

TEST(event_time_values)
{
    int64_t ns = 0;
    CHECK(event_parse_time("2024-06-03T09:04:07.013445Z", 27, &ns) == 0 && ns == 1717405447013445000LL);
    CHECK(event_parse_time("1970-01-01T01:00:00.5+01:00", 27, &ns) == 0 && ns == 500000000LL);
    CHECK(event_parse_time("1969-12-31T23:59:59.999999999Z", 30, &ns) == 0 && ns == -1);
    CHECK(event_parse_time("2024-06-03T09:04:07.0134456789Z", 31, &ns) == -EINVAL);
    CHECK(event_parse_time("2024-06-03T09:04:07.Z", 21, &ns) == -EINVAL);
    CHECK(event_parse_time("2023-02-29T00:00:00Z", 20, &ns) == -EINVAL);
}

/* event_root_index takes the root's members as the parser noted them
 * (json_doc.root_keys) when it can, else walks them: both must give the
 * table a walk gives, including past JSON_ROOT_KEYS_MAX members, with
 * duplicates (the first wins), nested objects whose keys are not the
 * root's, and for an object that is not the document's root. */
static void walk_index(const json_doc *d, uint32_t obj, uint32_t keys[EK__COUNT])
{
    for (int k = 0; k < EK__COUNT; k++)
        keys[k] = JSON_NONE;
    for (uint32_t c = json_first(d, obj); c != JSON_NONE; c = json_next(d, obj, c)) {
        size_t n;
        const char *s = json_raw(d, c, &n);
        int slot = event_key_of(s + 1, n - 2);
        if (slot >= 0 && keys[slot] == JSON_NONE)
            keys[slot] = c + 1;
    }
}

TEST(event_root_index_noted_keys_match_walk)
{
    buf b = BUF_INIT;
    json_doc d;
    json_doc_init(&d);
    for (int members = 0; members <= 80; members += 5) {
        buf_clear(&b);
        buf_putc(&b, '{');
        for (int i = 0; i < members; i++) {
            static const char *const names[] = {"verb", "user", "x", "objectRef", "stage", "verb", "auditID", "kind"};
            buf_printf(&b, "%s\"%s\":{\"verb\":%d,\"stage\":[1]}", i ? "," : "", names[i % 8], i);
        }
        buf_putc(&b, '}');
        CHECK(json_parse(&d, b.data, b.len) == 0);
        uint32_t got[EK__COUNT], want[EK__COUNT];
        event_root_index(&d, 0, got);
        walk_index(&d, 0, want);
        CHECK(memcmp(got, want, sizeof got) == 0);
    }
    /* an event inside an EventList is not the document's root: walked */
    const char *list = "{\"items\":[{\"verb\":\"get\",\"stage\":\"x\",\"verb\":\"y\"}],\"verb\":\"root\"}";
    CHECK(json_parse(&d, list, strlen(list)) == 0);
    uint32_t item = json_index(&d, json_get(&d, 0, "items", 5), 0), got[EK__COUNT], want[EK__COUNT];
    event_root_index(&d, item, got);
    walk_index(&d, item, want);
    CHECK(memcmp(got, want, sizeof got) == 0);
    CHECK(got[EK_verb] != JSON_NONE && json_string_eq(&d, got[EK_verb], "get", 3));
    event_root_index(&d, 0, got);
    CHECK(json_string_eq(&d, got[EK_verb], "root", 4));
    json_doc_free(&d);
    buf_free(&b);
}
