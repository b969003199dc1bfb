/*
 * Differential test of the JSON parser against cJSON (a test-only
 * reference library, libcjson-dev).
 *
 * A seeded, deterministic generator writes random JSON documents: nested
 * objects and arrays, duplicate and escaped keys, strings with every escape
 * (surrogate pairs included), raw 2/3/4-byte UTF-8 and long runs that cross
 * the SIMD block boundaries, numbers of every grammar shape, literals, and
 * random insignificant whitespace.  Beside the text it keeps the compact
 * spelling of the same document.  Each document is checked as is, then as
 * several mutants (byte flips, truncations, inserted garbage, deleted or
 * duplicated ranges, deep wrapping).
 *
 * For every input, accept/reject must agree with cJSON, parsed strictly:
 * cJSON_ParseWithLengthOpts(text, len + 1, NULL, require_null_terminated=1)
 * on a NUL-terminated copy (the same as cJSON_ParseWithOpts(..., 1), but an
 * embedded NUL does not cut the input short).  Where cJSON is knowingly more
 * lenient, our rejection is accepted only if the error we report belongs to
 * one of these classes:
 *
 *   class   cJSON accepts                                 our error
 *   ------  --------------------------------------------  -------------------------------
 *   UTF8    any bytes >= 0x80 (no UTF-8 validation)       "invalid UTF-8"
 *   CTRL    raw control bytes inside strings              "control character in string"
 *   WS      any byte <= 0x20 as whitespace (\f \v NUL..)  the byte at err_pos is such a byte
 *   NUM     strtod's grammar: 01, -01, 1., 1.e5, -.5      after a leading 0, a '.', or "-."
 *   BOM     a leading UTF-8 byte order mark               err_pos 0 on EF BB BF
 *   DEPTH   nesting up to 1000 (ours: 300)                "nesting too deep"
 *   HEX     \u with non-hex digits (decoded as U+0000)     "invalid \u escape", 6 bytes left
 *
 * and we are more lenient in one class, where cJSON's rejection is accepted:
 *
 *   SURR    lone or mismatched \uD800-\uDFFF escapes (we decode them to U+FFFD
 *           like Go; cJSON fails) — checked on our tree.
 *
 * When both accept, the trees are walked together: node types, member
 * names and string values after unescaping (with C-string semantics when a
 * decoded text holds U+0000, which cJSON truncates), number values
 * (strtod of our number text against cJSON's valuedouble) and child counts.
 * For unmutated documents our json_compact output must also equal the
 * generator's compact spelling byte for byte (escapes, number spelling and
 * key order kept), and json_compact_len must agree.
 *
 * Deterministic (fixed seed), silent on success; JSON_DIFF_STATS=1 in the
 * environment prints the case counts.
 */
#include "test.h"

#include "json/json.h"
#include "util/buf.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define DIFF_SEED 0x5eed2024u
#define DIFF_DOCS 10000
#define DIFF_MUTANTS 4

/* ------------------------------------------------------------ generator */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }

typedef struct gen {
    buf text;    /* what is parsed */
    buf compact; /* the same document without insignificant whitespace */
    int lone_surrogate;
} gen;

static void put2(gen *g, const char *s, size_t n)
{
    buf_put(&g->text, s, n);
    buf_put(&g->compact, s, n);
}

static void ws(gen *g)
{
    static const char wsc[] = " \n\t\r";
    if (rn(4))
        return;
    unsigned n = 1 + rn(rn(4) ? 2 : 8);
    for (unsigned i = 0; i < n; i++)
        buf_putc(&g->text, wsc[rn(rn(3) ? 1 : 4)]);
}

static void put_u_escape(gen *g, unsigned v)
{
    char e[7];
    static const char hx[] = "0123456789abcdef0123456789ABCDEF";
    unsigned upper = rn(2) * 16;
    e[0] = '\\';
    e[1] = 'u';
    for (int i = 0; i < 4; i++)
        e[2 + i] = hx[((v >> (12 - 4 * i)) & 15) + upper];
    put2(g, e, 6);
}

static void put_utf8_cp(gen *g, unsigned cp)
{
    char o[4];
    size_t n;
    if (cp < 0x80) {
        o[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        o[0] = (char)(0xF0 | cp >> 18);
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    put2(g, o, n);
}

static unsigned rand_cp(void)
{
    switch (rn(4)) {
    case 0: return 0x80 + rn(0x800 - 0x80);
    case 1: {
        unsigned c = 0x800 + rn(0x10000 - 0x800);
        return (c >= 0xD800 && c <= 0xDFFF) ? 0xFFFD : c;
    }
    case 2: return 0x10000 + rn(0x110000 - 0x10000);
    default: {
        static const unsigned edge[] = {0x80, 0x7FF, 0x800, 0xFFFF, 0xFFFD, 0xD7FF, 0xE000, 0x10000, 0x10FFFF, 0xE9};
        return edge[rn(10)];
    }
    }
}

static void gen_string_body(gen *g)
{
    unsigned len;
    switch (rn(8)) {
    case 0: len = 0; break;
    case 1: len = 16 + rn(120); break; /* long runs for the SIMD scanner */
    default: len = rn(12); break;
    }
    static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 -_.:/@=+*#!?~'`()[]{},;<>&%$^|";
    for (unsigned i = 0; i < len; i++) {
        unsigned r = rn(100);
        if (r < 78) {
            put2(g, &plain[rn(sizeof plain - 1)], 1);
        } else if (r < 84) {
            static const char *esc[] = {"\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"};
            put2(g, esc[rn(8)], 2);
        } else if (r < 88) {
            unsigned v;
            switch (rn(5)) {
            case 0: v = rn(0x20); break;           /* control chars, \u0000 too */
            case 1: v = 0x20 + rn(0x60); break;    /* ASCII, like Go's \u0026 \u003c */
            default:
                v = rand_cp();
                if (v > 0xFFFF)
                    v = 0x20AC;
                break;
            }
            put_u_escape(g, v);
        } else if (r < 91) {
            /* surrogate pair */
            unsigned cp = 0x10000 + rn(0x100000);
            put_u_escape(g, 0xD800 + ((cp - 0x10000) >> 10));
            put_u_escape(g, 0xDC00 + ((cp - 0x10000) & 0x3FF));
        } else if (r < 92 && rn(32) == 0) {
            /* lone or inverted surrogate: we accept, cJSON rejects */
            put_u_escape(g, 0xD800 + rn(0x800));
            g->lone_surrogate = 1;
        } else {
            put_utf8_cp(g, rand_cp());
        }
    }
}

static void gen_string(gen *g)
{
    put2(g, "\"", 1);
    gen_string_body(g);
    put2(g, "\"", 1);
}

static void digits(gen *g, unsigned n, int nonzero_first)
{
    for (unsigned i = 0; i < n; i++) {
        char c = (char)((i == 0 && nonzero_first) ? '1' + rn(9) : '0' + rn(10));
        put2(g, &c, 1);
    }
}

static void gen_number(gen *g)
{
    if (rn(3) == 0)
        put2(g, "-", 1);
    if (rn(4) == 0)
        put2(g, "0", 1);
    else
        digits(g, 1 + rn(rn(8) ? 6 : 40), 1);
    if (rn(3) == 0) {
        put2(g, ".", 1);
        digits(g, 1 + rn(rn(8) ? 6 : 30), 0);
    }
    if (rn(4) == 0) {
        put2(g, rn(2) ? "e" : "E", 1);
        unsigned s = rn(3);
        if (s == 1)
            put2(g, "+", 1);
        else if (s == 2)
            put2(g, "-", 1);
        digits(g, 1 + rn(rn(8) ? 2 : 6), 0);
    }
}

static void gen_value(gen *g, int depth);

static void gen_key(gen *g)
{
    static const char *keys[] = {"kind", "apiVersion", "metadata", "name", "namespace", "verb", "user",
                                 "a", "", "x\\\"y", "\\u0061", "caf\\u00e9", "\xC3\xA9t\xC3\xA9",
                                 "n\\u0000l", "\\ud83d\\ude00"};
    if (rn(3)) {
        put2(g, "\"", 1);
        const char *k = keys[rn(sizeof keys / sizeof keys[0])];
        put2(g, k, strlen(k));
        put2(g, "\"", 1);
    } else {
        gen_string(g);
    }
}

static void gen_container(gen *g, int depth, int object)
{
    put2(g, object ? "{" : "[", 1);
    unsigned n = depth > 10 ? rn(2) : rn(rn(4) ? 5 : 12);
    ws(g);
    for (unsigned i = 0; i < n; i++) {
        if (i) {
            put2(g, ",", 1);
            ws(g);
        }
        if (object) {
            gen_key(g);
            ws(g);
            put2(g, ":", 1);
        }
        gen_value(g, depth + 1);
        ws(g);
    }
    put2(g, object ? "}" : "]", 1);
}

static void gen_value(gen *g, int depth)
{
    ws(g);
    unsigned r = rn(depth > 14 ? 60 : 100);
    if (r < 20)
        gen_container(g, depth, 1);
    else if (r < 35)
        gen_container(g, depth, 0);
    else if (r < 60)
        gen_string(g);
    else if (r < 85)
        gen_number(g);
    else if (r < 90)
        put2(g, "true", 4);
    else if (r < 95)
        put2(g, "false", 5);
    else
        put2(g, "null", 4);
}

static void gen_doc(gen *g)
{
    buf_clear(&g->text);
    buf_clear(&g->compact);
    g->lone_surrogate = 0;
    if (rn(10) < 8)
        gen_container(g, 0, rn(4) != 0); /* mostly objects, like audit events */
    else
        gen_value(g, 0);
    ws(g);
}

/* ------------------------------------------------------------- mutation */

static void mutate(buf *b)
{
    static const char interesting[] = "\"\\{}[],:0123456789.eE+-tfnu \n\t\x01\x1f\x7f\x80\xbf\xc0\xc3\xe0\xed\xf0\xf4\xff";
    unsigned nm = 1 + rn(3);
    for (unsigned m = 0; m < nm; m++) {
        size_t len = b->len;
        size_t pos = len ? rn((unsigned)len + 1) : 0;
        switch (rn(8)) {
        case 0: /* byte flip */
        case 1:
            if (pos < len)
                b->data[pos] = rn(2) ? interesting[rn(sizeof interesting - 1)] : (char)rn(256);
            break;
        case 2: /* truncation */
            b->len = pos;
            break;
        case 3: { /* insert garbage */
            char ins[4];
            unsigned k = 1 + rn(4);
            for (unsigned i = 0; i < k; i++)
                ins[i] = rn(3) ? interesting[rn(sizeof interesting - 1)] : (char)rn(256);
            buf_reserve(b, k);
            memmove(b->data + pos + k, b->data + pos, len - pos);
            memcpy(b->data + pos, ins, k);
            b->len = len + k;
            break;
        }
        case 4: { /* delete a range */
            size_t k = pos < len ? 1 + rn((unsigned)(len - pos < 8 ? len - pos : 8)) : 0;
            memmove(b->data + pos, b->data + pos + k, len - pos - k);
            b->len = len - k;
            break;
        }
        case 5: { /* duplicate a range */
            size_t k = pos < len ? 1 + rn((unsigned)(len - pos < 16 ? len - pos : 16)) : 0;
            buf_reserve(b, k);
            memmove(b->data + pos + k, b->data + pos, len - pos);
            b->len = len + k;
            break;
        }
        case 6: /* a UTF-8 byte order mark in front */
            if (rn(8))
                break;
            buf_reserve(b, 3);
            memmove(b->data + 3, b->data, len);
            memcpy(b->data, "\xEF\xBB\xBF", 3);
            b->len = len + 3;
            break;
        default: { /* wrap in arrays around the depth limit */
            if (rn(8))
                break;
            size_t k = 296 + rn(8);
            buf_reserve(b, 2 * k);
            memmove(b->data + k, b->data, len);
            memset(b->data, '[', k);
            memset(b->data + k + len, ']', k);
            b->len = len + 2 * k;
            break;
        }
        }
    }
    if (b->data)
        b->data[b->len] = 0;
}

/* ------------------------------------------------------------- checking */

enum { C_UTF8, C_CTRL, C_WS, C_NUM, C_BOM, C_DEPTH, C_HEX, C_NONE, C_SURR, C_COUNT };

/* Is our rejection one of the classes where cJSON is more lenient? */
static int lenient_class(const json_doc *d, const char *s, size_t n)
{
    size_t pos = d->err_pos;
    unsigned char at = pos < n ? (unsigned char)s[pos] : 0;
    if (strstr(d->err, "invalid UTF-8"))
        return C_UTF8;
    if (strstr(d->err, "control character"))
        return C_CTRL;
    if (strstr(d->err, "nesting too deep"))
        return C_DEPTH;
    if (strstr(d->err, "invalid \\u escape") && n - pos >= 6)
        return C_HEX;
    if (pos == 0 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        return C_BOM;
    if (pos < n && at <= 0x20)
        return C_WS;
    if (pos > 0 && s[pos - 1] == '.')
        return C_NUM; /* "1." "1.e5" */
    if (at == '.' && pos > 0 && s[pos - 1] == '-')
        return C_NUM; /* "-.5" */
    if (at >= '0' && at <= '9' && pos > 0 && s[pos - 1] == '0') {
        /* a digit after a number that is exactly 0 or -0: a leading zero */
        size_t b = pos - 1;
        if (b == 0 || !((s[b - 1] >= '0' && s[b - 1] <= '9') || s[b - 1] == '.' || s[b - 1] == 'e' ||
                        s[b - 1] == 'E' || s[b - 1] == '+'))
            return C_NUM;
    }
    return C_NONE;
}

static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = (unsigned char)p[i];
        v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* Does any string of the (accepted) doc hold a lone or mismatched surrogate escape? */
static int has_bad_surrogate(const json_doc *d)
{
    for (uint32_t i = 0; i < d->count; i++) {
        const json_node *nd = json_at(d, i);
        if (nd->type != JSON_STRING || !(nd->flags & JSON_F_ESCAPES))
            continue;
        const char *p = d->src + nd->start, *end = p + nd->len;
        while (p < end) {
            if (*p != '\\') {
                p++;
                continue;
            }
            if (p[1] != 'u') {
                p += 2;
                continue;
            }
            unsigned v = hex4(p + 2);
            p += 6;
            if (v >= 0xDC00 && v <= 0xDFFF)
                return 1;
            if (v >= 0xD800 && v <= 0xDBFF) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
                    return 1;
                unsigned lo = hex4(p + 2);
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return 1;
                p += 6;
            }
        }
    }
    return 0;
}

/* Compare a decoded string of ours with cJSON's C string. */
static int same_text(const json_doc *d, uint32_t i, const char *c)
{
    const json_node *nd = json_at(d, i);
    char stackbuf[512];
    char *out = nd->len < sizeof stackbuf ? stackbuf : malloc(nd->len + 1);
    size_t n = json_unescape(d->src + nd->start, nd->len, out);
    const char *nul = memchr(out, 0, n);
    if (nul)
        n = (size_t)(nul - out); /* cJSON's strings end at U+0000 */
    int ok = c && strlen(c) == n && memcmp(out, c, n) == 0;
    if (out != stackbuf)
        free(out);
    return ok;
}

static const char *why;

static int same_tree(const json_doc *d, uint32_t i, const cJSON *c)
{
    const json_node *nd = json_at(d, i);
    switch (nd->type) {
    case JSON_NULL:
        if (!cJSON_IsNull(c))
            return why = "type (null)", 0;
        return 1;
    case JSON_TRUE:
        if (!cJSON_IsTrue(c))
            return why = "type (true)", 0;
        return 1;
    case JSON_FALSE:
        if (!cJSON_IsFalse(c))
            return why = "type (false)", 0;
        return 1;
    case JSON_NUMBER: {
        if (!cJSON_IsNumber(c))
            return why = "type (number)", 0;
        char tmp[512];
        if (nd->len >= sizeof tmp)
            return why = "number too long for the test", 0;
        memcpy(tmp, d->src + nd->start, nd->len);
        tmp[nd->len] = 0;
        char *endp;
        double v = strtod(tmp, &endp);
        if (*endp != 0)
            return why = "number text not fully numeric", 0;
        if (v != c->valuedouble)
            return why = "number value", 0;
        return 1;
    }
    case JSON_STRING:
        if (!cJSON_IsString(c))
            return why = "type (string)", 0;
        if (!same_text(d, i, c->valuestring))
            return why = "string value", 0;
        return 1;
    case JSON_ARRAY: {
        if (!cJSON_IsArray(c))
            return why = "type (array)", 0;
        const cJSON *cc = c->child;
        for (uint32_t k = json_first(d, i); k != JSON_NONE; k = json_next(d, i, k), cc = cc->next) {
            if (!cc)
                return why = "array: cJSON has fewer elements", 0;
            if (!same_tree(d, k, cc))
                return 0;
        }
        if (cc)
            return why = "array: cJSON has more elements", 0;
        return 1;
    }
    case JSON_OBJECT: {
        if (!cJSON_IsObject(c))
            return why = "type (object)", 0;
        const cJSON *cc = c->child;
        for (uint32_t k = json_first(d, i); k != JSON_NONE; k = json_next(d, i, k + 1), cc = cc->next) {
            if (!cc)
                return why = "object: cJSON has fewer members", 0;
            if (json_type_of(d, k) != JSON_STRING || !same_text(d, k, cc->string))
                return why = "member name", 0;
            if (!same_tree(d, k + 1, cc))
                return 0;
        }
        if (cc)
            return why = "object: cJSON has more members", 0;
        return 1;
    }
    }
    return why = "bad node type", 0;
}

static void report(const char *what, unsigned docno, int mutant, const buf *b, const json_doc *d)
{
    char hex[200];
    size_t h = 0;
    for (size_t i = 0; i < b->len && h + 4 < sizeof hex; i++) {
        unsigned char c = (unsigned char)b->data[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            hex[h++] = (char)c;
        else
            h += (size_t)snprintf(hex + h, sizeof hex - h, "\\x%02x", c);
    }
    hex[h] = 0;
    test_fail(__FILE__, __LINE__, "doc %u mutant %d: %s; ours: %s; input (%zu bytes): %s%s", docno, mutant, what,
              d->err[0] ? d->err : "ok", b->len, hex, h + 5 >= sizeof hex ? "..." : "");
}

TEST(json_diff_cjson)
{
    rng_state = DIFF_SEED;
    gen g = {BUF_INIT, BUF_INIT, 0};
    buf m = BUF_INIT, out = BUF_INIT;
    json_doc d;
    json_doc_init(&d);
    unsigned long cases = 0, both_ok = 0, both_fail = 0, lenient[C_COUNT] = {0};
    int failures = 0;

    for (unsigned docno = 0; docno < DIFF_DOCS && failures < 5; docno++) {
        gen_doc(&g);
        for (int mut = 0; mut <= DIFF_MUTANTS && failures < 5; mut++) {
            buf_clear(&m);
            buf_put(&m, g.text.data, g.text.len);
            buf_reserve(&m, 1);
            m.data[m.len] = 0;
            if (mut)
                mutate(&m);
            if (m.oom) {
                test_fail(__FILE__, __LINE__, "out of memory");
                return;
            }
            cases++;
            int rc = json_parse(&d, m.data, m.len);
            if (rc != 0 && rc != -EINVAL) {
                report("unexpected return code", docno, mut, &m, &d), failures++;
                continue;
            }
            cJSON *c = cJSON_ParseWithLengthOpts(m.data, m.len + 1, NULL, 1);
            if (!mut && rc != 0) {
                report("generated document rejected", docno, mut, &m, &d), failures++;
            } else if (!mut) {
                /* the compact spelling is exactly the generator's */
                buf_clear(&out);
                json_compact(&d, 0, &out);
                if (out.len != g.compact.len || memcmp(out.data, g.compact.data, out.len) != 0)
                    report("json_compact differs from the generator's compact text", docno, mut, &m, &d), failures++;
                else if (json_compact_len(&d, 0) != out.len)
                    report("json_compact_len differs", docno, mut, &m, &d), failures++;
            }
            if (rc == 0 && c) {
                both_ok++;
                why = NULL;
                if (!same_tree(&d, 0, c))
                    report(why, docno, mut, &m, &d), failures++;
            } else if (rc != 0 && !c) {
                both_fail++;
            } else if (rc != 0) {
                int cls = lenient_class(&d, m.data, m.len);
                if (cls == C_NONE)
                    report("rejected by us, accepted by cJSON", docno, mut, &m, &d), failures++;
                lenient[cls]++;
            } else {
                if (!has_bad_surrogate(&d))
                    report("accepted by us, rejected by cJSON", docno, mut, &m, &d), failures++;
                else if (!mut && !g.lone_surrogate)
                    report("unexpected surrogate class", docno, mut, &m, &d), failures++;
                lenient[C_SURR]++;
            }
            cJSON_Delete(c);
        }
    }

    /* the run must have exercised every side of the comparison */
    CHECK(cases == (unsigned long)DIFF_DOCS * (DIFF_MUTANTS + 1));
    CHECK(both_ok > cases / 4);
    CHECK(both_fail > cases / 4);
    CHECK(lenient[C_UTF8] && lenient[C_CTRL] && lenient[C_WS] && lenient[C_NUM] && lenient[C_BOM] && lenient[C_DEPTH] &&
          lenient[C_HEX] && lenient[C_SURR]);

    const char *st = getenv("JSON_DIFF_STATS");
    if (st && *st == '1')
        fprintf(stderr,
                "json_diff: %lu cases: %lu both accept (trees equal), %lu both reject, cJSON-lenient "
                "(we reject): utf8 %lu ctrl %lu ws %lu num %lu bom %lu depth %lu hex %lu; we-lenient "
                "(lone surrogates): %lu\n",
                cases, both_ok, both_fail, lenient[C_UTF8], lenient[C_CTRL], lenient[C_WS], lenient[C_NUM],
                lenient[C_BOM], lenient[C_DEPTH], lenient[C_HEX], lenient[C_SURR]);
    json_doc_free(&d);
    buf_free(&g.text);
    buf_free(&g.compact);
    buf_free(&m);
    buf_free(&out);
}

/* Test hooks of json_parse.c (not in json.h): the portable SSE2 parser, or
 * the AVX2 one, even where a wider one is available (returns 0, forcing
 * nothing, where this CPU or build has no AVX2 parser). */
void json_parse_force_portable(int on);
int json_parse_force_avx2(int on);

TEST(json_diff_cjson_portable)
{
    json_parse_force_portable(1);
    test_json_diff_cjson();
    json_parse_force_portable(0);
}

TEST(json_diff_cjson_avx2)
{
    if (!json_parse_force_avx2(1)) {
        test_skip("no AVX2 on this CPU (or build)");
        return;
    }
    test_json_diff_cjson();
    json_parse_force_avx2(0);
}
