/*
 * Unit tests of the strict JSON parser (src/json).
 *
 * Part 1 — JSONTestSuite (conformance/data/json/test_parsing under
 * test_shared_dir()): every y_ file must parse, every n_ file must be
 * rejected with -EINVAL.  The i_ files are implementation-defined; the
 * parser's decision for each one is fixed here and asserted:
 *
 *   file                                               decision  why
 *   -------------------------------------------------  --------  ------------------------------------
 *   i_number_double_huge_neg_exp.json                  accept    numbers are kept as text, never
 *   i_number_huge_exp.json                             accept      converted while parsing, so range
 *   i_number_neg_int_huge_exp.json                     accept      and precision do not matter
 *   i_number_pos_double_huge_exp.json                  accept      (grammar only)
 *   i_number_real_neg_overflow.json                    accept
 *   i_number_real_pos_overflow.json                    accept
 *   i_number_real_underflow.json                       accept
 *   i_number_too_big_neg_int.json                      accept
 *   i_number_too_big_pos_int.json                      accept
 *   i_number_very_big_negative_int.json                accept
 *   i_object_key_lone_2nd_surrogate.json               accept    \uDFAA: lone surrogate escapes are
 *   i_string_1st_surrogate_but_2nd_missing.json        accept      accepted and decode to U+FFFD, as
 *   i_string_1st_valid_surrogate_2nd_invalid.json      accept      Go's encoding/json does (the
 *   i_string_incomplete_surrogate_and_escape_valid.json accept     decoded text is asserted below)
 *   i_string_incomplete_surrogate_pair.json            accept
 *   i_string_incomplete_surrogates_escape_valid.json   accept
 *   i_string_invalid_lonely_surrogate.json             accept
 *   i_string_invalid_surrogate.json                    accept
 *   i_string_inverted_surrogates_U+1D11E.json          accept
 *   i_string_lone_second_surrogate.json                accept
 *   i_string_UTF-16LE_with_BOM.json                    reject    BOM / not UTF-8
 *   i_string_UTF-8_invalid_sequence.json               reject    the parser validates UTF-8: 0xFA
 *   i_string_UTF8_surrogate_U+D800.json                reject    surrogate encoded as UTF-8 bytes
 *   i_string_invalid_utf-8.json                        reject    0xFF
 *   i_string_iso_latin_1.json                          reject    lone 0xE9
 *   i_string_lone_utf8_continuation_byte.json          reject    lone 0x81
 *   i_string_not_in_unicode_range.json                 reject    F4 BF.. is above U+10FFFF
 *   i_string_overlong_sequence_2_bytes.json            reject    overlong C0 AF
 *   i_string_overlong_sequence_6_bytes.json            reject    FC.. (5/6-byte forms do not exist)
 *   i_string_overlong_sequence_6_bytes_null.json       reject    idem
 *   i_string_truncated-utf-8.json                      reject    E0 FF
 *   i_string_utf16BE_no_BOM.json                       reject    UTF-16: NUL bytes outside strings
 *   i_string_utf16LE_no_BOM.json                       reject    idem
 *   i_structure_500_nested_arrays.json                 reject    depth 500 > 300 (JSON_DEFAULT_MAX_DEPTH,
 *                                                                the same limit as upstream's fastjson)
 *   i_structure_UTF-8_BOM_empty_object.json            reject    a BOM is not JSON whitespace
 *
 * A new i_ file without a decision in the table fails the test, so the
 * table stays complete.
 *
 * Part 2 — focused tests of the json.h API: lookups, unescaping, compact,
 * Go-style indent, string writing, depth limit, error offsets and
 * allocation-failure injection.
 */
#include "test.h"

#include "json/json.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>

/* ---------------------------------------------------------------- helpers */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *data = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            data = realloc(data, cap);
        }
        size_t r = fread(data + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    *len = n;
    return data;
}

/* Parse a NUL-terminated literal. */
static int parse_s(json_doc *d, const char *s) { return json_parse(d, s, strlen(s)); }

/* Decoded text of string node i into a static buffer (NUL-terminated). */
static const char *str_of(const json_doc *d, uint32_t i)
{
    static char out[4096];
    if (i == JSON_NONE || json_type_of(d, i) != JSON_STRING)
        return NULL;
    const json_node *n = json_at(d, i);
    if (n->len >= sizeof out)
        return NULL;
    size_t m = json_unescape(d->src + n->start, n->len, out);
    out[m] = 0;
    return out;
}

/* Raw text of value i into a static buffer. */
static const char *raw_of(const json_doc *d, uint32_t i)
{
    static char out[4096];
    size_t n;
    if (i == JSON_NONE)
        return NULL;
    const char *r = json_raw(d, i, &n);
    if (n >= sizeof out)
        return NULL;
    memcpy(out, r, n);
    out[n] = 0;
    return out;
}

static const char *compact_of(const char *src)
{
    static char out[4096];
    json_doc d;
    json_doc_init(&d);
    buf b = BUF_INIT;
    const char *res = NULL;
    if (parse_s(&d, src) == 0) {
        json_compact(&d, 0, &b);
        if (!b.oom && b.len < sizeof out && json_compact_len(&d, 0) == b.len) {
            memcpy(out, b.data ? b.data : "", b.len);
            out[b.len] = 0;
            res = out;
        }
    }
    buf_free(&b);
    json_doc_free(&d);
    return res;
}

static const char *indent_of(const char *compact)
{
    static char out[4096];
    buf b = BUF_INIT;
    json_indent(compact, strlen(compact), &b);
    const char *res = NULL;
    if (!b.oom && b.len < sizeof out) {
        memcpy(out, b.data ? b.data : "", b.len);
        out[b.len] = 0;
        res = out;
    }
    buf_free(&b);
    return res;
}

static const char *wstr_of(const char *s, size_t n)
{
    static char out[4096];
    buf b = BUF_INIT;
    json_write_string(&b, s, n);
    const char *res = NULL;
    if (!b.oom && b.len < sizeof out) {
        memcpy(out, b.data, b.len);
        out[b.len] = 0;
        res = out;
    }
    buf_free(&b);
    return res;
}

/* ------------------------------------------------------ JSONTestSuite */

static const struct {
    const char *file;
    int accept;
} i_decisions[] = {
    {"i_number_double_huge_neg_exp.json", 1},
    {"i_number_huge_exp.json", 1},
    {"i_number_neg_int_huge_exp.json", 1},
    {"i_number_pos_double_huge_exp.json", 1},
    {"i_number_real_neg_overflow.json", 1},
    {"i_number_real_pos_overflow.json", 1},
    {"i_number_real_underflow.json", 1},
    {"i_number_too_big_neg_int.json", 1},
    {"i_number_too_big_pos_int.json", 1},
    {"i_number_very_big_negative_int.json", 1},
    {"i_object_key_lone_2nd_surrogate.json", 1},
    {"i_string_1st_surrogate_but_2nd_missing.json", 1},
    {"i_string_1st_valid_surrogate_2nd_invalid.json", 1},
    {"i_string_incomplete_surrogate_and_escape_valid.json", 1},
    {"i_string_incomplete_surrogate_pair.json", 1},
    {"i_string_incomplete_surrogates_escape_valid.json", 1},
    {"i_string_invalid_lonely_surrogate.json", 1},
    {"i_string_invalid_surrogate.json", 1},
    {"i_string_inverted_surrogates_U+1D11E.json", 1},
    {"i_string_lone_second_surrogate.json", 1},
    {"i_string_UTF-16LE_with_BOM.json", 0},
    {"i_string_UTF-8_invalid_sequence.json", 0},
    {"i_string_UTF8_surrogate_U+D800.json", 0},
    {"i_string_invalid_utf-8.json", 0},
    {"i_string_iso_latin_1.json", 0},
    {"i_string_lone_utf8_continuation_byte.json", 0},
    {"i_string_not_in_unicode_range.json", 0},
    {"i_string_overlong_sequence_2_bytes.json", 0},
    {"i_string_overlong_sequence_6_bytes.json", 0},
    {"i_string_overlong_sequence_6_bytes_null.json", 0},
    {"i_string_truncated-utf-8.json", 0},
    {"i_string_utf16BE_no_BOM.json", 0},
    {"i_string_utf16LE_no_BOM.json", 0},
    {"i_structure_500_nested_arrays.json", 0},
    {"i_structure_UTF-8_BOM_empty_object.json", 0},
};

static int i_decision(const char *file)
{
    for (size_t k = 0; k < sizeof i_decisions / sizeof i_decisions[0]; k++)
        if (strcmp(i_decisions[k].file, file) == 0)
            return i_decisions[k].accept;
    return -1;
}

TEST(json_suite_jsontestsuite)
{
    const char *shared = test_need_shared();
    if (!shared)
        return;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/conformance/data/json/test_parsing", shared);
    DIR *dh = opendir(dir);
    CHECK(dh != NULL);
    if (!dh)
        return;
    json_doc d;
    json_doc_init(&d);
    int ny = 0, nn = 0, ni = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        const char *name = e->d_name;
        if (!strstr(name, ".json") || (name[0] != 'y' && name[0] != 'n' && name[0] != 'i') || name[1] != '_')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t len;
        char *data = read_file(path, &len);
        CHECK(data != NULL);
        if (!data)
            continue;
        int rc = json_parse(&d, data, len);
        CHECK(rc == 0 || rc == -EINVAL);
        int want;
        if (name[0] == 'y') {
            want = 1;
            ny++;
        } else if (name[0] == 'n') {
            want = 0;
            nn++;
        } else {
            want = i_decision(name);
            ni++;
            if (want < 0)
                test_fail(__FILE__, __LINE__, "%s: no decision in the i_ table", name);
        }
        if (want == 1 && rc != 0)
            test_fail(__FILE__, __LINE__, "%s: rejected (%s), want accepted", name, d.err);
        else if (want == 0 && rc == 0)
            test_fail(__FILE__, __LINE__, "%s: accepted, want rejected", name);
        free(data);
    }
    closedir(dh);
    json_doc_free(&d);
    /* the suite has 95 y_, 188 n_ and 35 i_ files */
    CHECK(ny >= 95);
    CHECK(nn >= 188);
    CHECK(ni == (int)(sizeof i_decisions / sizeof i_decisions[0]));
}

/* The lone/broken surrogate escapes the table accepts decode as Go does. */
TEST(json_surrogate_escapes_decode_like_go)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"\"\\uDFAA\"", "\xEF\xBF\xBD"},
        {"\"\\uDADA\"", "\xEF\xBF\xBD"},
        {"\"\\uD888\\u1234\"", "\xEF\xBF\xBD\xE1\x88\xB4"},
        {"\"\\uD800\\n\"", "\xEF\xBF\xBD\n"},
        {"\"\\uDd1ea\"", "\xEF\xBF\xBD" "a"},
        {"\"\\uD800\\uD800\\n\"", "\xEF\xBF\xBD\xEF\xBF\xBD\n"},
        {"\"\\ud800\"", "\xEF\xBF\xBD"},
        {"\"\\ud800abc\"", "\xEF\xBF\xBD" "abc"},
        {"\"\\uDd1e\\uD834\"", "\xEF\xBF\xBD\xEF\xBF\xBD"},
        {"\"\\uD834\\uDd1e\"", "\xF0\x9D\x84\x9E"}, /* a valid pair: U+1D11E */
        {"\"\\uDBFF\\uDFFF\"", "\xF4\x8F\xBF\xBF"}, /* U+10FFFF */
        {"\"\\uD800\\uDC00\"", "\xF0\x90\x80\x80"}, /* U+10000 */
    };
    json_doc d;
    json_doc_init(&d);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        CHECK(parse_s(&d, cases[k].in) == 0);
        CHECK(json_type_of(&d, 0) == JSON_STRING);
        CHECK(json_at(&d, 0)->flags & JSON_F_ESCAPES);
        CHECK_STR(str_of(&d, 0), cases[k].want);
        CHECK(json_string_eq(&d, 0, cases[k].want, strlen(cases[k].want)));
    }
    json_doc_free(&d);
}

/* ------------------------------------------------------------ the API */

TEST(json_parse_tape_layout)
{
    json_doc d;
    json_doc_init(&d);
    const char *src = "{\"a\":[1,true,null],\"b\":{\"c\":\"x\"},\"d\":false}";
    CHECK(parse_s(&d, src) == 0);
    /* 0:{ 1:"a" 2:[ 3:1 4:true 5:null 6:"b" 7:{ 8:"c" 9:"x" 10:"d" 11:false */
    CHECK(d.count == 12);
    CHECK(json_type_of(&d, 0) == JSON_OBJECT);
    CHECK(json_at(&d, 0)->next == 12);
    CHECK(json_at(&d, 0)->len == strlen(src));
    CHECK(json_type_of(&d, 1) == JSON_STRING);
    CHECK(json_at(&d, 1)->start == 2 && json_at(&d, 1)->len == 1);
    CHECK(json_type_of(&d, 2) == JSON_ARRAY && json_at(&d, 2)->next == 6);
    CHECK(json_type_of(&d, 3) == JSON_NUMBER && json_at(&d, 3)->next == 4);
    CHECK(json_type_of(&d, 4) == JSON_TRUE);
    CHECK(json_type_of(&d, 5) == JSON_NULL);
    CHECK(json_type_of(&d, 7) == JSON_OBJECT && json_at(&d, 7)->next == 10);
    CHECK(json_type_of(&d, 11) == JSON_FALSE && json_at(&d, 11)->len == 5);
    CHECK(json_length(&d, 0) == 3);
    CHECK(json_length(&d, 2) == 3);
    CHECK(json_length(&d, 3) == 0);
    CHECK(json_first(&d, 2) == 3);
    CHECK(json_next(&d, 2, 3) == 4);
    CHECK(json_next(&d, 2, 5) == JSON_NONE);
    CHECK(json_first(&d, 0) == 1);
    /* flags: no whitespace anywhere, no escapes */
    for (uint32_t i = 0; i < d.count; i++)
        CHECK(json_at(&d, i)->flags == 0);
    CHECK(parse_s(&d, "[]") == 0);
    CHECK(json_first(&d, 0) == JSON_NONE && json_length(&d, 0) == 0);
    json_doc_free(&d);
}

TEST(json_get_first_duplicate_wins)
{
    json_doc d;
    json_doc_init(&d);
    CHECK(parse_s(&d, "{\"a\":1,\"b\":2,\"a\":3,\"b\":{\"x\":1}}") == 0);
    CHECK_STR(raw_of(&d, json_get(&d, 0, "a", 1)), "1");
    CHECK_STR(raw_of(&d, json_get(&d, 0, "b", 1)), "2");
    CHECK(json_get(&d, 0, "c", 1) == JSON_NONE);
    CHECK(json_get(&d, 0, "", 0) == JSON_NONE);
    CHECK(json_length(&d, 0) == 4);
    /* an escaped spelling of the same name is the same key: first wins */
    CHECK(parse_s(&d, "{\"\\u0061\":\"first\",\"a\":\"second\"}") == 0);
    CHECK_STR(str_of(&d, json_get(&d, 0, "a", 1)), "first");
    CHECK(parse_s(&d, "{\"a\":\"first\",\"\\u0061\":\"second\"}") == 0);
    CHECK_STR(str_of(&d, json_get(&d, 0, "a", 1)), "first");
    /* escaped keys, empty key, keys containing NUL and non-ASCII */
    CHECK(parse_s(&d, "{\"x\\\"y\":1,\"\":2,\"n\\u0000l\":3,\"caf\\u00e9\":4,\"\xF0\x9F\x98\x80\":5}") == 0);
    CHECK_STR(raw_of(&d, json_get(&d, 0, "x\"y", 3)), "1");
    CHECK_STR(raw_of(&d, json_get(&d, 0, "", 0)), "2");
    CHECK_STR(raw_of(&d, json_get(&d, 0, "n\0l", 3)), "3");
    CHECK(json_get(&d, 0, "n", 1) == JSON_NONE);
    CHECK_STR(raw_of(&d, json_get(&d, 0, "caf\xC3\xA9", 5)), "4");
    CHECK_STR(raw_of(&d, json_get(&d, 0, "\xF0\x9F\x98\x80", 4)), "5");
    /* prefixes do not match */
    CHECK(json_get(&d, 0, "x", 1) == JSON_NONE);
    CHECK(json_get(&d, 0, "caf", 3) == JSON_NONE);
    /* skipping nested values between members */
    CHECK(parse_s(&d, "{\"a\":{\"k\":[1,{\"k\":2}]},\"k\":[[]],\"z\":0}") == 0);
    uint32_t k = json_get(&d, 0, "k", 1);
    CHECK(k != JSON_NONE && json_type_of(&d, k) == JSON_ARRAY);
    CHECK_STR(raw_of(&d, json_get(&d, 0, "z", 1)), "0");
    uint32_t a = json_get(&d, 0, "a", 1);
    CHECK_STR(raw_of(&d, json_get(&d, a, "k", 1)), "[1,{\"k\":2}]");
    /* not an object, JSON_NONE in */
    CHECK(json_get(&d, k, "k", 1) == JSON_NONE);
    CHECK(json_get(&d, JSON_NONE, "k", 1) == JSON_NONE);
    json_doc_free(&d);
}

TEST(json_index_elements)
{
    json_doc d;
    json_doc_init(&d);
    CHECK(parse_s(&d, "[0,[1,2],{\"a\":[3]},\"s\",-1.5e3]") == 0);
    CHECK_STR(raw_of(&d, json_index(&d, 0, 0)), "0");
    CHECK_STR(raw_of(&d, json_index(&d, 0, 1)), "[1,2]");
    CHECK_STR(raw_of(&d, json_index(&d, 0, 2)), "{\"a\":[3]}");
    CHECK_STR(raw_of(&d, json_index(&d, 0, 3)), "\"s\"");
    CHECK_STR(raw_of(&d, json_index(&d, 0, 4)), "-1.5e3");
    CHECK(json_index(&d, 0, 5) == JSON_NONE);
    CHECK(json_index(&d, 0, (size_t)-1) == JSON_NONE);
    CHECK_STR(raw_of(&d, json_index(&d, json_index(&d, 0, 1), 1)), "2");
    CHECK(json_index(&d, json_index(&d, 0, 2), 0) == JSON_NONE); /* object */
    CHECK(json_index(&d, JSON_NONE, 0) == JSON_NONE);
    CHECK(json_length(&d, 0) == 5);
    CHECK(parse_s(&d, "[]") == 0);
    CHECK(json_index(&d, 0, 0) == JSON_NONE);
    json_doc_free(&d);
}

TEST(json_unescape_escapes)
{
    static const struct {
        const char *in, *want;
        size_t want_len;
    } cases[] = {
        {"plain", "plain", 5},
        {"", "", 0},
        {"\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t", 8},
        {"a\\u0041b", "aAb", 3},
        {"\\u00e9\\u00E9", "\xC3\xA9\xC3\xA9", 4},
        {"\\u20AC", "\xE2\x82\xAC", 3},
        {"\\uFFFF", "\xEF\xBF\xBF", 3},
        {"\\u0000x", "\0x", 2},
        {"\\u0026\\u003c\\u003e", "&<>", 3},
        {"\\uD83D\\uDE00", "\xF0\x9F\x98\x80", 4},
        {"x\\ud83d\\ude00y", "x\xF0\x9F\x98\x80y", 6},
        {"\\uDE00\\uD83D", "\xEF\xBF\xBD\xEF\xBF\xBD", 6},
        {"\\uD83D", "\xEF\xBF\xBD", 3},
        {"\\uD83Dx", "\xEF\xBF\xBDx", 4},
        {"caf\xC3\xA9 \\n", "caf\xC3\xA9 \n", 7},
        {"\\\\u0041", "\\u0041", 6},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char out[64];
        size_t n = strlen(cases[k].in);
        size_t m = json_unescape(cases[k].in, n, out);
        CHECK(m <= n);
        CHECK(m == cases[k].want_len);
        if (m == cases[k].want_len && memcmp(out, cases[k].want, m) != 0)
            test_fail(__FILE__, __LINE__, "unescape case %zu differs", k);
    }
    /* json_string_eq against parsed nodes, with and without escapes */
    json_doc d;
    json_doc_init(&d);
    CHECK(parse_s(&d, "[\"abc\",\"a\\u0062c\",\"\\ud83d\\ude00!\"]") == 0);
    CHECK(!(json_at(&d, 1)->flags & JSON_F_ESCAPES));
    CHECK(json_at(&d, 2)->flags & JSON_F_ESCAPES);
    CHECK(json_string_eq(&d, 1, "abc", 3));
    CHECK(json_string_eq(&d, 2, "abc", 3));
    CHECK(!json_string_eq(&d, 2, "ab", 2));
    CHECK(!json_string_eq(&d, 2, "abcd", 4));
    CHECK(!json_string_eq(&d, 2, "abd", 3));
    CHECK(json_string_eq(&d, 3, "\xF0\x9F\x98\x80!", 5));
    CHECK(!json_string_eq(&d, 3, "\xF0\x9F\x98\x80", 4));
    json_doc_free(&d);
}

TEST(json_compact_keeps_text)
{
    CHECK_STR(compact_of(" {\n\t\"a b\" : [ 1 , 2.50 , -0.0e+00 , 1E5 ] ,\r\n \"z\":\"x \\n \\u0041 \\\" y\" ,"
                         " \"a\" : { } , \"e\" : [ ] , \"t\" : true , \"n\" : null }  "),
              "{\"a b\":[1,2.50,-0.0e+00,1E5],\"z\":\"x \\n \\u0041 \\\" y\",\"a\":{},\"e\":[],\"t\":true,\"n\":null}");
    /* already compact: the raw text */
    CHECK_STR(compact_of("{\"b\":1,\"a\":[\"\\/\"]}"), "{\"b\":1,\"a\":[\"\\/\"]}");
    /* scalars with surrounding whitespace */
    CHECK_STR(compact_of("  \"  spaced  \\\\\"  "), "\"  spaced  \\\\\"");
    CHECK_STR(compact_of(" 12.5e-3 "), "12.5e-3");
    CHECK_STR(compact_of("\tfalse\n"), "false");
    /* a backslash right before the closing quote, strings with braces */
    CHECK_STR(compact_of("[ \"\\\\\" , \"{ [ , : ] }\" ]"), "[\"\\\\\",\"{ [ , : ] }\"]");

    /* a sub-value, and the whitespace flag */
    json_doc d;
    json_doc_init(&d);
    const char *src = "{ \"o\" : { \"k\" : [ 1 , 2 ] } , \"c\":[3,4] }";
    CHECK(parse_s(&d, src) == 0);
    CHECK(json_at(&d, 0)->flags & JSON_F_SPACE);
    uint32_t o = json_get(&d, 0, "o", 1), c = json_get(&d, 0, "c", 1);
    CHECK(json_at(&d, o)->flags & JSON_F_SPACE);
    CHECK(!(json_at(&d, c)->flags & JSON_F_SPACE));
    buf b = BUF_INIT;
    json_compact(&d, o, &b);
    CHECK_STR(buf_cstr(&b), "{\"k\":[1,2]}");
    CHECK(json_compact_len(&d, o) == b.len);
    buf_clear(&b);
    json_compact(&d, c, &b);
    CHECK_STR(buf_cstr(&b), "[3,4]");
    CHECK(json_compact_len(&d, c) == 5);
    /* appends */
    json_compact(&d, c, &b);
    CHECK_STR(buf_cstr(&b), "[3,4][3,4]");
    buf_free(&b);
    json_doc_free(&d);
}

TEST(json_compact_len_matches_compact)
{
    static const char *docs[] = {
        "{}", "[]", " [ ] ", "0", " \"\" ", "{ \"a\" : \"\\\\\" }",
        "[ 1 ,\n 2 ,\t\"\\\" , \" , { \"k\\\"\" : [ [ ] , { } ] } ]",
        "{\"unicode\" : \"caf\xC3\xA9 \xF0\x9F\x98\x80\", \"esc\":\"\\ud83d\\ude00\"}",
        "\r\n\t[\r\n\t]\r\n\t",
    };
    json_doc d;
    json_doc_init(&d);
    buf b = BUF_INIT;
    for (size_t k = 0; k < sizeof docs / sizeof docs[0]; k++) {
        CHECK(parse_s(&d, docs[k]) == 0);
        for (uint32_t i = 0; i < d.count; i++) {
            buf_clear(&b);
            json_compact(&d, i, &b);
            CHECK(json_compact_len(&d, i) == b.len);
            /* compact output parses and compacts to itself */
            if (json_type_of(&d, i) >= JSON_ARRAY && i == 0) {
                json_doc d2;
                json_doc_init(&d2);
                CHECK(json_parse(&d2, b.data, b.len) == 0);
                CHECK(!(json_at(&d2, 0)->flags & JSON_F_SPACE));
                CHECK(json_compact_len(&d2, 0) == b.len);
                json_doc_free(&d2);
            }
        }
    }
    buf_free(&b);
    json_doc_free(&d);
}

/* Expected texts are what Go's json.Indent(&out, compact, "", "  ") writes. */
TEST(json_indent_like_go)
{
    CHECK_STR(indent_of("{}"), "{}");
    CHECK_STR(indent_of("[]"), "[]");
    CHECK_STR(indent_of("1"), "1");
    CHECK_STR(indent_of("\"s\""), "\"s\"");
    CHECK_STR(indent_of("{\"a\":1}"), "{\n  \"a\": 1\n}");
    CHECK_STR(indent_of("[1,2]"), "[\n  1,\n  2\n]");
    CHECK_STR(indent_of("{\"a\":{},\"b\":[],\"c\":[{}]}"),
              "{\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    {}\n  ]\n}");
    CHECK_STR(indent_of("{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":\"x\"}"),
              "{\n"
              "  \"a\": {\n"
              "    \"b\": [\n"
              "      1,\n"
              "      {\n"
              "        \"c\": null\n"
              "      }\n"
              "    ]\n"
              "  },\n"
              "  \"d\": \"x\"\n"
              "}");
    /* structural characters and escaped quotes inside strings are text */
    CHECK_STR(indent_of("{\"k:,{[\":\"v\\\",]}\\\\\",\"e\":\"\"}"),
              "{\n  \"k:,{[\": \"v\\\",]}\\\\\",\n  \"e\": \"\"\n}");
    CHECK_STR(indent_of("[[[]]]"), "[\n  [\n    []\n  ]\n]");
}

TEST(json_write_string_escaping)
{
    CHECK_STR(wstr_of("", 0), "\"\"");
    CHECK_STR(wstr_of("plain text", 10), "\"plain text\"");
    CHECK_STR(wstr_of("q\"b\\s/", 6), "\"q\\\"b\\\\s/\"");
    CHECK_STR(wstr_of("\b\f\n\r\t", 5), "\"\\b\\f\\n\\r\\t\"");
    CHECK_STR(wstr_of("\x01\x1f\x0b", 3), "\"\\u0001\\u001f\\u000b\"");
    CHECK_STR(wstr_of("a\0b", 3), "\"a\\u0000b\"");
    CHECK_STR(wstr_of("\x7f", 1), "\"\x7f\"");
    /* valid UTF-8 is kept, including 4-byte sequences */
    CHECK_STR(wstr_of("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", 14), "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    /* invalid UTF-8 becomes U+FFFD, one per bad byte */
    CHECK_STR(wstr_of("a\xFFz", 3), "\"a\xEF\xBF\xBDz\"");
    CHECK_STR(wstr_of("\xC0\xAF", 2), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");          /* overlong */
    CHECK_STR(wstr_of("\xED\xA0\x80", 3), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""); /* surrogate */
    CHECK_STR(wstr_of("\xF4\x90\x80\x80", 4),
              "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");             /* > U+10FFFF */
    CHECK_STR(wstr_of("x\xE2\x82", 3), "\"x\xEF\xBF\xBD\xEF\xBF\xBD\"");         /* truncated */
    CHECK_STR(wstr_of("\x80", 1), "\"\xEF\xBF\xBD\"");
    /* the output always parses back to the (repaired) input */
    const char *in = "k=\"v\"\n\t\x01\xC3\xA9";
    const char *w = wstr_of(in, strlen(in));
    json_doc d;
    json_doc_init(&d);
    CHECK(w && parse_s(&d, w) == 0);
    CHECK_STR(str_of(&d, 0), in);
    json_doc_free(&d);
    /* appends to what is there */
    buf b = BUF_INIT;
    buf_puts(&b, "x=");
    json_write_string(&b, "y", 1);
    CHECK_STR(buf_cstr(&b), "x=\"y\"");
    buf_free(&b);
}

static char *nested(unsigned depth, char open, char close)
{
    char *s = malloc(2 * (size_t)depth + 1);
    memset(s, open, depth);
    memset(s + depth, close, depth);
    s[2 * depth] = 0;
    return s;
}

TEST(json_depth_limit)
{
    json_doc d;
    json_doc_init(&d);
    CHECK(d.max_depth == JSON_DEFAULT_MAX_DEPTH && JSON_DEFAULT_MAX_DEPTH == 300);
    char *ok = nested(300, '[', ']'), *deep = nested(301, '[', ']');
    CHECK(parse_s(&d, ok) == 0);
    CHECK(d.count == 300);
    CHECK(parse_s(&d, deep) == -EINVAL);
    CHECK(strstr(d.err, "deep") != NULL);
    CHECK(d.err_pos == 300);
    free(ok);
    free(deep);
    /* objects count too, mixed with arrays */
    buf b = BUF_INIT;
    for (int i = 0; i < 150; i++)
        buf_puts(&b, "{\"a\":[");
    for (int i = 0; i < 150; i++)
        buf_puts(&b, "]}");
    CHECK(json_parse(&d, b.data, b.len) == 0);
    buf_clear(&b);
    for (int i = 0; i < 150; i++)
        buf_puts(&b, "{\"a\":[");
    buf_puts(&b, "{}");
    for (int i = 0; i < 150; i++)
        buf_puts(&b, "]}");
    CHECK(json_parse(&d, b.data, b.len) == -EINVAL);
    buf_free(&b);
    /* a custom limit */
    d.max_depth = 2;
    CHECK(parse_s(&d, "[[1]]") == 0);
    CHECK(parse_s(&d, "[{\"a\":1}]") == 0);
    CHECK(parse_s(&d, "[[[1]]]") == -EINVAL);
    CHECK(parse_s(&d, "{\"a\":{\"b\":{}}}") == -EINVAL);
    d.max_depth = 0;
    CHECK(parse_s(&d, "1") == 0);
    CHECK(parse_s(&d, "[]") == -EINVAL);
    json_doc_free(&d);
}

TEST(json_error_offsets)
{
    static const struct {
        const char *in;
        size_t pos;
    } cases[] = {
        {"", 0},
        {"   ", 3},
        {"{} x", 3},
        {"[1,]", 3},
        {"[1 2]", 3},
        {"{\"a\" 1}", 5},
        {"{\"a\":1,}", 7},
        {"{1:2}", 1},
        {"[\"abc", 5},
        {"[\"a\\x\"]", 3},
        {"[\"a\\u12G4\"]", 3},
        {"[\"a\x01\"]", 3},
        {"[\"ab\xFF\"]", 4},
        {"[01]", 2},
        {"[-]", 2},
        {"[1.]", 3},
        {"[1e]", 3},
        {"[1e+]", 4},
        {"[.5]", 1},
        {"[+1]", 1},
        {"[tru]", 1},
        {"[nul", 1},
        {"[1", 2},
        {"{\"a\":1", 6},
        {"\xEF\xBB\xBF{}", 0},
        {"[1]]", 3},
    };
    json_doc d;
    json_doc_init(&d);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rc = parse_s(&d, cases[k].in);
        CHECK(rc == -EINVAL);
        if (rc == -EINVAL && d.err_pos != cases[k].pos)
            test_fail(__FILE__, __LINE__, "'%s': err_pos %zu, want %zu (%s)", cases[k].in, d.err_pos,
                      cases[k].pos, d.err);
        CHECK(d.err[0] != 0);
        char want[32];
        snprintf(want, sizeof want, "offset %zu", cases[k].pos);
        CHECK(strstr(d.err, want) != NULL);
    }
    /* a successful parse clears the error */
    CHECK(parse_s(&d, "[1]") == 0);
    CHECK(d.err[0] == 0 && d.err_pos == 0);
    /* embedded NUL is not whitespace and not allowed in strings */
    CHECK(json_parse(&d, "[1]\0", 4) == -EINVAL && d.err_pos == 3);
    CHECK(json_parse(&d, "[\"\0\"]", 5) == -EINVAL && d.err_pos == 2);
    /* the length bounds the input: no reading past it */
    CHECK(json_parse(&d, "[1]", 2) == -EINVAL);
    CHECK(json_parse(&d, "truex", 4) == 0);
    CHECK(json_parse(&d, "\"ab\"", 3) == -EINVAL);
    CHECK(json_parse(&d, "\"\\u0041\"", 6) == -EINVAL);
    json_doc_free(&d);
}

TEST(json_scalars_and_whitespace)
{
    json_doc d;
    json_doc_init(&d);
    static const char *good[] = {
        "0", "-0", "1", "-1", "10", "0.5", "-0.5e10", "1E+2", "1e-2", "123456789012345678901234567890",
        "\"\"", "true", "false", "null", " \t\r\n0 \t\r\n", "[ ]", "{ }", "[\"\\u0000\"]",
        "\"\x7f\"", "\"\xF4\x8F\xBF\xBF\"", "\"\xEF\xBF\xBF\"", "\"\xE0\xA0\x80\"", "\"\xF0\x90\x80\x80\"",
    };
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++)
        if (parse_s(&d, good[k]) != 0)
            test_fail(__FILE__, __LINE__, "rejected '%s': %s", good[k], d.err);
    static const char *bad[] = {
        "00", "-01", "01.5", "1.e5", ".1", "1e", "-", "+1", "0x10", "Infinity", "NaN", "True", "nul",
        "'s'", "\"\t\"", "[1,,2]", "{,}", "{\"a\"}", "{\"a\":}", "[", "]", "\f[]", "\v1", "\"\xC2\"",
        "\"\xE0\x9F\xBF\"", "\"\xED\xBF\xBF\"", "\"\xF0\x8F\xBF\xBF\"", "\"\xF5\x80\x80\x80\"",
        "\"\xC1\xBF\"", "\"\xE2\x82\"", "\"\\u12\"", "\"\\U0041\"", "\"\\'\"", "1 2",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        if (parse_s(&d, bad[k]) != -EINVAL)
            test_fail(__FILE__, __LINE__, "accepted '%s'", bad[k]);
    /* number and literal nodes keep their spelling */
    CHECK(parse_s(&d, " -12.50E+03 ") == 0);
    CHECK(json_type_of(&d, 0) == JSON_NUMBER);
    CHECK_STR(raw_of(&d, 0), "-12.50E+03");
    json_doc_free(&d);
}

/* A long string crosses the SIMD block boundaries at every alignment. */
TEST(json_string_scanner_boundaries)
{
    json_doc d;
    json_doc_init(&d);
    char s[128];
    for (int n = 0; n < 60; n++) {
        for (int pos = 0; pos <= n; pos++) {
            for (int kind = 0; kind < 4; kind++) {
                int m = 0;
                s[m++] = '"';
                for (int i = 0; i < n; i++) {
                    if (i == pos && kind == 1) {
                        s[m++] = '\\';
                        s[m++] = 'n';
                    } else if (i == pos && kind == 2) {
                        s[m++] = (char)0xC3;
                        s[m++] = (char)0xA9;
                    } else if (i == pos && kind == 3) {
                        s[m++] = 0x1F; /* invalid */
                    } else {
                        s[m++] = (char)('a' + i % 26);
                    }
                }
                s[m++] = '"';
                int rc = json_parse(&d, s, (size_t)m);
                int want = (kind == 3 && pos < n) ? -EINVAL : 0;
                if (rc != want)
                    test_fail(__FILE__, __LINE__, "n=%d pos=%d kind=%d: rc %d", n, pos, kind, rc);
                if (rc == 0)
                    CHECK(json_at(&d, 0)->len == (uint32_t)(m - 2));
                /* truncated: unterminated */
                CHECK(json_parse(&d, s, (size_t)m - 1) == -EINVAL);
            }
        }
    }
    json_doc_free(&d);
}

/* A doc is reusable: nodes of a larger earlier parse do not leak into a later one. */
TEST(json_doc_reuse)
{
    json_doc d;
    json_doc_init(&d);
    buf b = BUF_INIT;
    buf_putc(&b, '[');
    for (int i = 0; i < 5000; i++)
        buf_printf(&b, "%s{\"i\":%d}", i ? "," : "", i);
    buf_putc(&b, ']');
    CHECK(json_parse(&d, b.data, b.len) == 0);
    CHECK(d.count == 1 + 5000 * 3);
    CHECK(json_length(&d, 0) == 5000);
    CHECK_STR(raw_of(&d, json_get(&d, json_index(&d, 0, 4999), "i", 1)), "4999");
    CHECK(parse_s(&d, "{\"x\":1}") == 0);
    CHECK(d.count == 3);
    CHECK(json_at(&d, 0)->next == 3);
    CHECK(parse_s(&d, "[1,") == -EINVAL);
    CHECK(parse_s(&d, "[2]") == 0);
    CHECK(d.count == 2);
    buf_free(&b);
    json_doc_free(&d);
    json_doc_free(&d); /* idempotent */
}

/* Allocation failures turn into -ENOMEM: no crash, and (checked by the asan
 * build) no leak.  Every allocation index is failed in turn. */
TEST(json_alloc_failure)
{
    buf b = BUF_INIT;
    buf_putc(&b, '[');
    for (int i = 0; i < 3000; i++)
        buf_printf(&b, "%s{\"k\":\"v%d\",\"n\":[%d,true]}", i ? "," : "", i, i);
    buf_putc(&b, ']');
    const char *small = "{\"a\":[1,2,3]}";
    int saw_enomem = 0, ok = 0;
    for (long n = 0; n < 64 && !ok; n++) {
        json_doc d;
        json_doc_init(&d);
        pg_alloc_fail_after(n);
        int rc = json_parse(&d, b.data, b.len);
        pg_alloc_fail_after(-1);
        CHECK(rc == 0 || rc == -ENOMEM);
        if (rc == -ENOMEM) {
            saw_enomem = 1;
            /* the doc stays usable after a failure */
            CHECK(parse_s(&d, small) == 0);
            CHECK(d.count == 6);
        } else if (rc == 0) {
            ok = 1;
            CHECK(json_length(&d, 0) == 3000);
        }
        json_doc_free(&d);
    }
    CHECK(saw_enomem);
    CHECK(ok);
    /* the very first allocation failing on a fresh doc */
    json_doc d;
    json_doc_init(&d);
    pg_alloc_fail_after(0);
    CHECK(parse_s(&d, small) == -ENOMEM);
    pg_alloc_fail_after(-1);
    CHECK(parse_s(&d, small) == 0);
    /* once the node array is big enough, parsing the same size allocates nothing */
    CHECK(json_parse(&d, b.data, b.len) == 0);
    pg_alloc_fail_after(0);
    CHECK(json_parse(&d, b.data, b.len) == 0);
    pg_alloc_fail_after(-1);
    json_doc_free(&d);
    buf_free(&b);
}

/* The string fast path looks a few bytes past a closing quote when at
 * least 16 bytes follow it.  Whatever byte comes next, the result must be
 * the same as where that look-ahead does not apply: a long top-level
 * string followed by any byte is trailing data (or whitespace), and
 * strings inside containers are followed by exactly one valid byte set. */
TEST(json_lookahead_after_strings)
{
    json_doc d;
    json_doc_init(&d);
    char buf[128];
    for (int c = 0; c < 256; c++) {
        /* "xxxx...x" <c> followed by 20 more bytes of padding garbage */
        int n = 0;
        buf[n++] = '"';
        for (int i = 0; i < 40; i++)
            buf[n++] = 'x';
        buf[n++] = '"';
        buf[n++] = (char)c;
        for (int i = 0; i < 20; i++)
            buf[n++] = (char)(i % 2 ? '"' : ',');
        int rc = json_parse(&d, buf, (size_t)n);
        if (rc != -EINVAL)
            test_fail(__FILE__, __LINE__, "top-level string + byte %d: rc %d", c, rc);
        size_t want = (c == ' ' || c == '\t' || c == '\n' || c == '\r') ? 43 : 42;
        if (rc == -EINVAL && d.err_pos != want)
            test_fail(__FILE__, __LINE__, "top-level string + byte %d: err_pos %zu", c, d.err_pos);
        /* only the string itself: fine */
        CHECK(json_parse(&d, buf, 42) == 0);
    }
    /* inside containers, followed by each structural byte, far from the end */
    static const struct {
        const char *doc;
        int ok;
    } cases[] = {
        {"{\"k\":\"vvvvvvvvvvvvvvvvvvvv\",\"k2\":\"w\"}                      ", 1},
        {"[\"vvvvvvvvvvvvvvvvvvvv\",\"w\",\"x\"]                          ", 1},
        {"{\"k\":\"vvvvvvvvvvvvvvvvvvvv\"}                                ", 1},
        {"[\"vvvvvvvvvvvvvvvvvvvv\"]                                      ", 1},
        {"{\"k\":\"vvvvvvvvvvvvvvvvvvvv\",\"k2\"}                         ", 0},
        {"[\"vvvvvvvvvvvvvvvvvvvv\",\"w\":1]                              ", 0},
        {"{\"k\":\"vvvvvvvvvvvvvvvvvvvv\"]                                ", 0},
        {"[\"vvvvvvvvvvvvvvvvvvvv\"}                                      ", 0},
        {"{\"kkkkkkkkkkkkkkkkkkkkkkkk\":\"v\",\"k\":1}                     ", 1},
        {"{\"kkkkkkkkkkkkkkkkkkkkkkkk\"\"v\"}                             ", 0},
        {"{\"kkkkkkkkkkkkkkkkkkkkkkkk\":,}                                ", 0},
        {"{\"k\":\"vvvvvvvvvvvvvvvvvvvv\",,\"k2\":1}                       ", 0},
        {"{\"k\":\"vvvvvvvvvvvvvvvvvvvv\",\"k2\":\"vvvvvvvvvvvvvvvvvvvvvv\",\"k3\":[\"a\",\"b\"]}  ", 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rc = parse_s(&d, cases[k].doc);
        if ((rc == 0) != cases[k].ok)
            test_fail(__FILE__, __LINE__, "case %zu: rc %d (%s)", k, rc, d.err);
    }
    CHECK(parse_s(&d, cases[0].doc) == 0);
    CHECK(!(json_at(&d, 0)->flags & JSON_F_SPACE)); /* the trailing spaces are outside the root */
    json_doc_free(&d);
}

/* Test hooks of json_parse.c (not in json.h): the portable SSE2 parser, or
 * the AVX2 one, even where a wider one is available (returns 0, forcing
 * nothing, where this CPU or build has no AVX2 parser). */
void json_parse_force_portable(int on);
int json_parse_force_avx2(int on);
static void test_json_parse_line_decides_only_compact_containers(void);

/* The tests above, run again through each parser the CPU would not pick
 * by default. */
static void json_suite_again(void)
{
    test_json_surrogate_escapes_decode_like_go();
    test_json_parse_tape_layout();
    test_json_get_first_duplicate_wins();
    test_json_compact_keeps_text();
    test_json_compact_len_matches_compact();
    test_json_depth_limit();
    test_json_error_offsets();
    test_json_scalars_and_whitespace();
    test_json_string_scanner_boundaries();
    test_json_doc_reuse();
    test_json_alloc_failure();
    test_json_lookahead_after_strings();
    test_json_parse_line_decides_only_compact_containers();
}

TEST(json_portable_parser)
{
    json_parse_force_portable(1);
    json_suite_again();
    json_parse_force_portable(0);
}

TEST(json_portable_parser_jsontestsuite)
{
    json_parse_force_portable(1);
    test_json_suite_jsontestsuite();
    json_parse_force_portable(0);
}

/* The AVX2 parser (where the CPU has AVX-512VL it picks a wider one). */
TEST(json_avx2_parser)
{
    if (!json_parse_force_avx2(1)) {
        test_skip("no AVX2 on this CPU (or build)");
        return;
    }
    json_suite_again();
    json_parse_force_avx2(0);
}

TEST(json_avx2_parser_jsontestsuite)
{
    if (!json_parse_force_avx2(1)) {
        test_skip("no AVX2 on this CPU (or build)");
        return;
    }
    test_json_suite_jsontestsuite();
    json_parse_force_avx2(0);
}

/* The AVX2 parser finishes escaped strings 64 bytes at a time
 * (string_rest_avx2), the portable one byte by byte: over strings dense
 * in backslash runs, \u escapes (valid and not), quotes, control bytes and
 * UTF-8 (valid and not), of every length around the 64-byte steps and
 * ending anywhere near the end of input, both must agree on everything:
 * accept or reject, error text and offset, and every node. */
static size_t gen_escape_heavy(char *out, size_t cap, uint64_t *rng)
{
    static const char *const pieces[] = {
        "\\\\", "\\\"", "\\u0026", "\\u00e9", "\\uD83D\\uDE00", "\\n", "\\/", "\\t", "\\b", "\\f", "\\r",
        "\\u12G4", "\\x", "\\u00", "\\", "\\\\\\", "\"", "\x01", "\x1f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xc3", "\xed\xa0\x80", "\x80", "a", "abcdefgh", "0123456789abcdef", " ", "{", "}", ":", ",",
    };
    const size_t np = sizeof pieces / sizeof *pieces;
    size_t n = 0;
    out[n++] = '[';
    out[n++] = '"';
    unsigned target = (unsigned)(*rng % 300);
    while (n < target && n + 16 < cap) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned r = (unsigned)(*rng >> 33);
        /* mostly valid content (the fast steps stop at the first fault) */
        const char *pc = r % 97 ? pieces[r % 11] : pieces[r % np];
        if (r % 3 == 0)
            pc = "abcdefgh";
        size_t l = strlen(pc);
        memcpy(out + n, pc, l);
        n += l;
    }
    out[n++] = '"';
    if ((*rng >> 40) & 1) { /* a full 64-byte step is only taken with 64 bytes of input left */
        static const char tail[] = ",\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"";
        memcpy(out + n, tail, sizeof tail - 1);
        n += sizeof tail - 1;
    }
    out[n++] = ']';
    return n;
}

TEST(json_escaped_strings_avx2_matches_portable)
{
    if (!json_parse_force_avx2(0)) {
        test_skip("no AVX2 on this CPU (or build)");
        return;
    }
    json_doc a, b;
    json_doc_init(&a);
    json_doc_init(&b);
    uint64_t rng = 0x1234567u;
    char text[512];
    unsigned accepted = 0;
    for (int it = 0; it < 40000; it++) {
        size_t n = gen_escape_heavy(text, sizeof text, &rng);
        /* sometimes cut it short: strings that run into the end of input */
        if (it % 5 == 0)
            n = (size_t)(rng >> 40) % (n + 1);
        char *copy = malloc(n ? n : 1); /* exact size: ASan sees any read past the end */
        CHECK(copy != NULL);
        memcpy(copy, text, n);
        json_parse_force_avx2(it & 1); /* the CPU's choice, or AVX2 */
        int ra = json_parse(&a, copy, n);
        json_parse_force_portable(1);
        int rb = json_parse(&b, copy, n);
        json_parse_force_portable(0);
        if (ra != rb || (ra && (a.err_pos != b.err_pos || strcmp(a.err, b.err))) ||
            (!ra && (a.count != b.count || memcmp(a.nodes, b.nodes, a.count * sizeof *a.nodes)))) {
            test_fail(__FILE__, __LINE__, "case %d (%zu bytes): default rc %d '%s' at %zu, portable rc %d '%s' at %zu", it,
                      n, ra, a.err, a.err_pos, rb, b.err, b.err_pos);
            free(copy);
            break;
        }
        accepted += ra == 0;
        free(copy);
    }
    CHECK(accepted > 5000); /* both outcomes well covered */
    CHECK(accepted < 35000);
    /* Every alignment of a backslash run and what follows it against the
     * 64-byte steps: runs of 1-5 backslashes after 0-140 plain bytes, then
     * a quote, a valid or short \u escape, a valid or invalid letter, a
     * control byte or UTF-8; then more string, or the end of input. */
    static const char *const follow[] = {"\"", "u0041", "u00\"", "u12", "u12g", "u123g", "u123\"", "u1\"",
                                         "n", "x", "\x01", "\xc3\xa9", "\\\""};
    for (size_t pre = 0; pre <= 140; pre++)
        for (size_t run = 1; run <= 5; run++)
            for (size_t f = 0; f < sizeof follow / sizeof *follow; f++)
                for (int tail = 0; tail < 3; tail++) {
                    size_t n = 0;
                    memcpy(text, "[\"\\n", 4); /* the steps start at this first escape */
                    n = 4;
                    memset(text + n, 'a', pre);
                    n += pre;
                    memset(text + n, '\\', run);
                    n += run;
                    memcpy(text + n, follow[f], strlen(follow[f]));
                    n += strlen(follow[f]);
                    if (tail == 1) {
                        memset(text + n, 'b', 70);
                        n += 70;
                    }
                    if (tail >= 1) {
                        text[n++] = '"';
                        text[n++] = ',';
                        text[n++] = '"';
                        memset(text + n, 'z', 80);
                        n += 80;
                        text[n++] = '"';
                        text[n++] = ']';
                    }
                    char *copy = malloc(n);
                    CHECK(copy != NULL);
                    memcpy(copy, text, n);
                    json_parse_force_avx2((int)(pre & 1));
                    int ra = json_parse(&a, copy, n);
                    json_parse_force_portable(1);
                    int rb = json_parse(&b, copy, n);
                    json_parse_force_portable(0);
                    if (ra != rb || (ra && (a.err_pos != b.err_pos || strcmp(a.err, b.err))) ||
                        (!ra && (a.count != b.count || memcmp(a.nodes, b.nodes, a.count * sizeof *a.nodes))))
                        test_fail(__FILE__, __LINE__, "pre %zu run %zu follow %zu tail %d: rc %d '%s' vs %d '%s'", pre,
                                  run, f, tail, ra, a.err, rb, b.err);
                    free(copy);
                }
    json_doc_free(&a);
    json_doc_free(&b);
}

/* json_parse_line decides only where a plain search for '\n' would find
 * the same line, and then parses it exactly as json_parse does. */
TEST(json_parse_line_decides_only_compact_containers)
{
    static const struct {
        const char *in;
        int rc;
        size_t len;
    } cases[] = {
        {"{\"a\":1}\n{\"b\":2}\n", 0, 7},
        {"{\"a\":1}\r\nx", 0, 7},
        {"[1,\"x\\ny\"]\n", 0, 10},       /* an escaped newline is two bytes, not a line end */
        {"{\"a\": 1}\n", 1, 0},           /* whitespace inside */
        {" {\"a\":1}\n", 1, 0},           /* whitespace before */
        {"{\"a\":1} \n", 1, 0},           /* whitespace after */
        {"{\"a\":1}", 1, 0},              /* no newline in sight */
        {"{\"a\":1}\r", 1, 0},
        {"{\"a\":1}x\n", 1, 0},
        {"123\n", 1, 0},                  /* not a container */
        {"\"s\"\n", 1, 0},
        {"{\"a\":\n1}\n", 1, 0},          /* a newline inside: two lines */
        {"{\"a\":\"b\nc\"}\n", 1, 0},     /* a raw newline in a string: invalid */
        {"{\"a\":}\n", 1, 0},             /* invalid */
        {"\n", 1, 0},
    };
    json_doc d, e;
    json_doc_init(&d);
    json_doc_init(&e);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        size_t len = 99;
        int rc = json_parse_line(&d, cases[k].in, strlen(cases[k].in), &len);
        if (rc != cases[k].rc || (rc == 0 && len != cases[k].len)) {
            test_fail(__FILE__, __LINE__, "case %zu: rc %d len %zu", k, rc, len);
            continue;
        }
        if (rc == 0) {
            CHECK(json_parse(&e, cases[k].in, len) == 0);
            CHECK(e.count == d.count && memcmp(e.nodes, d.nodes, d.count * sizeof *d.nodes) == 0);
            CHECK(d.src_len == len);
        }
    }
    json_doc_free(&d);
    json_doc_free(&e);
}

/* The key-value pair step (key_at_quote) reads both ends of "key":"value"
 * from one 16-byte probe.  Reference: the same document with a space after
 * every ':' outside strings, which the pair step never takes; the nodes
 * must be the same but for offsets (shifted by the spaces before them) and
 * the whitespace flag, and errors must be the same at the same place.
 * Documents: nested objects of pairs with keys and values of 0-40 bytes
 * around the window's edges, with escapes, escaped quotes, control bytes
 * and UTF-8 anywhere, sometimes cut short. */
static void gen_pair_string(buf *b, uint64_t *rng)
{
    static const char *const bits[] = {"a", "bc", "defgh", "0123456789", "\\\"", "\\\\", "\\u0041", "\\n",
                                       "\xc3\xa9", "\x01", "\\x", "\xff", ":", ",", "{", "}"};
    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
    unsigned len = (unsigned)(*rng >> 40) % 41, r = (unsigned)(*rng >> 20);
    buf_putc(b, '"');
    for (unsigned n = 0; n < len;) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned k = (unsigned)(*rng >> 33);
        const char *piece = k % 23 ? bits[k % 4] : bits[k % 16]; /* mostly plain */
        if (r % 3 == 0 && k % 5 == 0)
            piece = bits[4 + k % 4];
        buf_puts(b, piece);
        n += (unsigned)strlen(piece);
    }
    buf_putc(b, '"');
}

static void gen_pair_object(buf *b, uint64_t *rng, int depth)
{
    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
    unsigned n = (unsigned)(*rng >> 40) % 6;
    buf_putc(b, '{');
    for (unsigned i = 0; i < n; i++) {
        if (i)
            buf_putc(b, ',');
        gen_pair_string(b, rng);
        buf_putc(b, ':');
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned kind = (unsigned)(*rng >> 45) % 8;
        if (kind == 0 && depth < 3)
            gen_pair_object(b, rng, depth + 1);
        else if (kind == 1)
            buf_puts(b, "[1,\"x\"]");
        else if (kind == 2)
            buf_puts(b, "12");
        else
            gen_pair_string(b, rng);
    }
    buf_putc(b, '}');
}

TEST(json_pair_step_matches_spaced_reference)
{
    json_doc a, b;
    json_doc_init(&a);
    json_doc_init(&b);
    buf doc = BUF_INIT, spaced = BUF_INIT;
    uint64_t rng = 0xfeedbeefu;
    size_t *shift = NULL, cap = 0;
    unsigned ok = 0;
    for (int it = 0; it < 20000; it++) {
        buf_clear(&doc);
        gen_pair_object(&doc, &rng, 0);
        if (it % 4 == 0) /* cut short somewhere */
            doc.len = (size_t)(rng >> 20) % (doc.len + 1);
        /* the reference: a space after each ':' outside strings; shift[i] =
         * spaces inserted before doc byte i */
        if (cap < doc.len + 1) {
            cap = doc.len + 1;
            shift = realloc(shift, cap * sizeof *shift);
            CHECK(shift != NULL);
        }
        buf_clear(&spaced);
        size_t added = 0;
        bool in_str = false, esc = false;
        for (size_t i = 0; i < doc.len; i++) {
            char c = doc.data[i];
            shift[i] = added;
            buf_putc(&spaced, c);
            if (in_str) {
                if (esc)
                    esc = false;
                else if (c == '\\')
                    esc = true;
                else if (c == '"')
                    in_str = false;
            } else if (c == '"') {
                in_str = true;
            } else if (c == ':') {
                buf_putc(&spaced, ' ');
                added++;
            }
        }
        shift[doc.len] = added;
        char *x = malloc(doc.len ? doc.len : 1), *y = malloc(spaced.len ? spaced.len : 1);
        CHECK(x && y);
        memcpy(x, doc.data, doc.len);
        memcpy(y, spaced.data, spaced.len);
        for (int variant = 0; variant < 3; variant++) {
            if (variant == 1)
                json_parse_force_avx2(1);
            if (variant == 2)
                json_parse_force_portable(1);
            int ra = json_parse(&a, x, doc.len), rb = json_parse(&b, y, spaced.len);
            json_parse_force_portable(0);
            bool same = ra == rb;
            if (same && ra) {
                /* the reference's error offset, mapped back */
                size_t pos = a.err_pos;
                same = pos <= doc.len && a.err_pos + shift[pos < doc.len ? pos : doc.len] == b.err_pos;
            }
            if (same && !ra) {
                same = a.count == b.count;
                for (uint32_t i = 0; same && i < a.count; i++) {
                    const json_node *na = &a.nodes[i], *nb = &b.nodes[i];
                    same = na->type == nb->type && na->next == nb->next &&
                           (na->flags & JSON_F_ESCAPES) == (nb->flags & JSON_F_ESCAPES) &&
                           na->start + shift[na->start] == nb->start &&
                           (na->type == JSON_STRING || na->type == JSON_NUMBER
                                ? na->len == nb->len
                                : na->start + na->len + shift[na->start + na->len - 1] == nb->start + nb->len);
                }
                ok += variant == 0;
            }
            if (!same) {
                test_fail(__FILE__, __LINE__, "doc %d variant %d: %.*s: rc %d '%s' at %zu / reference rc %d '%s' at %zu",
                          it, variant, (int)doc.len, doc.data, ra, a.err, a.err_pos, rb, b.err, b.err_pos);
                it = 1 << 30;
                break;
            }
        }
        free(x);
        free(y);
    }
    CHECK(ok > 5000);
    free(shift);
    buf_free(&doc);
    buf_free(&spaced);
    json_doc_free(&a);
    json_doc_free(&b);
}
