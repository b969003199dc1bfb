/*
 * json_parse — the strict in-situ JSON parser (see json.h).
 *
 * One recursive-descent pass over the bytes.  The hot loop is string
 * scanning: 16 bytes at a time with SSE2 (8 with a portable SWAR fallback)
 * until a quote, a backslash, a control byte or a non-ASCII byte shows up.
 */
#include "json/json.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct parser {
    const char *s;      /* start of the source */
    const char *p;      /* cursor */
    const char *end;
    json_doc *d;
    unsigned depth;
    unsigned spaces;    /* counts whitespace runs, to flag containers */
    int oom;
} parser;

static int fail(parser *ps, const char *at, const char *what)
{
    json_doc *d = ps->d;
    d->err_pos = (size_t)(at - ps->s);
    if (at < ps->end)
        snprintf(d->err, sizeof d->err, "%s at offset %zu (near '%c')", what,
                 d->err_pos, (*at >= 0x20 && *at < 0x7f) ? *at : '?');
    else
        snprintf(d->err, sizeof d->err, "%s at offset %zu (end of input)", what, d->err_pos);
    return -EINVAL;
}

static uint32_t push(parser *ps, json_type t, const char *start)
{
    json_doc *d = ps->d;
    if (d->count == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 256;
        json_node *n = pg_realloc(d->nodes, (size_t)cap * sizeof *n);
        if (!n) {
            ps->oom = 1;
            return JSON_NONE;
        }
        d->nodes = n;
        d->cap = cap;
    }
    json_node *n = &d->nodes[d->count];
    n->start = (uint32_t)(start - ps->s);
    n->len = 0;
    n->type = (uint8_t)t;
    n->flags = 0;
    n->unused = 0;
    return d->count++;
}

static inline void skip_ws(parser *ps)
{
    const char *p = ps->p;
    if (p < ps->end && (unsigned char)*p > ' ')
        return; /* common case: compact JSON */
    while (p < ps->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    if (p != ps->p)
        ps->spaces++;
    ps->p = p;
}

/* Validate one UTF-8 sequence starting at p (first byte >= 0x80).
 * Returns its length or 0 if invalid. */
static int utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c >= 0xC2 && c <= 0xDF) {
        if (end - p < 2 || (p[1] & 0xC0) != 0x80)
            return 0;
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (end - p < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && p[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && p[1] >= 0xA0)
            return 0; /* UTF-16 surrogate */
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (end - p < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && p[1] >= 0x90)
            return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

static inline int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Scan string content after the opening quote.  On success ps->p is past
 * the closing quote. */
static int parse_string(parser *ps, uint32_t node)
{
    const unsigned char *p = (const unsigned char *)ps->p;
    const unsigned char *end = (const unsigned char *)ps->end;
    const unsigned char *start = p;
    uint8_t flags = 0;
    for (;;) {
#if defined(__SSE2__)
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
        const __m128i ctl = _mm_set1_epi8(0x1F);
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)p);
            __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
            /* bytes <= 0x1F: min(v, 0x1F) == v (unsigned); non-ASCII via the sign bit */
            m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
            int mask = _mm_movemask_epi8(m) | _mm_movemask_epi8(v);
            if (mask) {
                p += __builtin_ctz((unsigned)mask);
                break;
            }
            p += 16;
        }
#else
        while (end - p >= 8) {
            uint64_t v;
            memcpy(&v, p, 8);
            const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
            uint64_t m = ((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v) | v;
            if (m & highs)
                break;
            p += 8;
        }
#endif
        if (p >= end)
            return fail(ps, (const char *)p, "unterminated string");
        unsigned c = *p;
        if (c == '"') {
            json_node *n = &ps->d->nodes[node];
            n->len = (uint32_t)(p - start);
            n->flags = flags;
            ps->p = (const char *)p + 1;
            return 0;
        }
        if (c == '\\') {
            flags |= JSON_F_ESCAPES;
            if (end - p < 2)
                return fail(ps, (const char *)p, "unterminated string");
            switch (p[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                p += 2;
                break;
            case 'u':
                if (end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) || !is_hex(p[5]))
                    return fail(ps, (const char *)p, "invalid \\u escape");
                p += 6;
                break;
            default:
                return fail(ps, (const char *)p, "invalid escape");
            }
        } else if (c < 0x20) {
            return fail(ps, (const char *)p, "control character in string");
        } else if (c >= 0x80) {
            int n = utf8_seq(p, end);
            if (!n)
                return fail(ps, (const char *)p, "invalid UTF-8");
            p += n;
        } else {
            p++;
        }
    }
}

static int parse_number(parser *ps, uint32_t node)
{
    const char *p = ps->p, *start = p, *end = ps->end;
    if (p < end && *p == '-')
        p++;
    if (p >= end)
        return fail(ps, p, "invalid number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return fail(ps, p, "invalid number");
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail(ps, p, "invalid number");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return fail(ps, p, "invalid number");
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    ps->d->nodes[node].len = (uint32_t)(p - start);
    ps->p = p;
    return 0;
}

static int parse_literal(parser *ps, uint32_t node, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, ps->p, "invalid literal");
    ps->d->nodes[node].len = (uint32_t)n;
    ps->p += n;
    return 0;
}

static int parse_value(parser *ps);

/* object := '{' ws [ string ws ':' value { ',' ws string ws ':' value } ] '}' */
static int parse_object(parser *ps, uint32_t node)
{
    if (++ps->depth > ps->d->max_depth)
        return fail(ps, ps->p, "nesting too deep");
    unsigned spaces = ps->spaces;
    ps->p++; /* '{' */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, ps->p, "expected object key");
            uint32_t k = push(ps, JSON_STRING, ps->p + 1);
            if (k == JSON_NONE)
                return -ENOMEM;
            ps->p++;
            int rc = parse_string(ps, k);
            if (rc)
                return rc;
            ps->d->nodes[k].next = k + 1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail(ps, ps->p, "expected ':'");
            ps->p++;
            if ((rc = parse_value(ps)))
                return rc;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                skip_ws(ps);
                continue;
            }
            if (ps->p < ps->end && *ps->p == '}') {
                ps->p++;
                break;
            }
            return fail(ps, ps->p, "expected ',' or '}'");
        }
    }
    json_node *n = &ps->d->nodes[node];
    n->len = (uint32_t)(ps->p - ps->s) - n->start;
    n->next = ps->d->count;
    if (ps->spaces != spaces)
        n->flags |= JSON_F_SPACE;
    ps->depth--;
    return 0;
}

/* array := '[' ws [ value { ',' value } ] ']' */
static int parse_array(parser *ps, uint32_t node)
{
    if (++ps->depth > ps->d->max_depth)
        return fail(ps, ps->p, "nesting too deep");
    unsigned spaces = ps->spaces;
    ps->p++; /* '[' */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            int rc = parse_value(ps);
            if (rc)
                return rc;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == ']') {
                ps->p++;
                break;
            }
            return fail(ps, ps->p, "expected ',' or ']'");
        }
    }
    json_node *n = &ps->d->nodes[node];
    n->len = (uint32_t)(ps->p - ps->s) - n->start;
    n->next = ps->d->count;
    if (ps->spaces != spaces)
        n->flags |= JSON_F_SPACE;
    ps->depth--;
    return 0;
}

/* value := ws ( object | array | string | number | true | false | null ) */
static int parse_value(parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, ps->p, "expected a value");
    uint32_t node;
    int rc;
    switch (*ps->p) {
    case '{':
        if ((node = push(ps, JSON_OBJECT, ps->p)) == JSON_NONE)
            return -ENOMEM;
        return parse_object(ps, node);
    case '[':
        if ((node = push(ps, JSON_ARRAY, ps->p)) == JSON_NONE)
            return -ENOMEM;
        return parse_array(ps, node);
    case '"':
        if ((node = push(ps, JSON_STRING, ps->p + 1)) == JSON_NONE)
            return -ENOMEM;
        ps->p++;
        rc = parse_string(ps, node);
        break;
    case 't':
        if ((node = push(ps, JSON_TRUE, ps->p)) == JSON_NONE)
            return -ENOMEM;
        rc = parse_literal(ps, node, "true", 4);
        break;
    case 'f':
        if ((node = push(ps, JSON_FALSE, ps->p)) == JSON_NONE)
            return -ENOMEM;
        rc = parse_literal(ps, node, "false", 5);
        break;
    case 'n':
        if ((node = push(ps, JSON_NULL, ps->p)) == JSON_NONE)
            return -ENOMEM;
        rc = parse_literal(ps, node, "null", 4);
        break;
    default:
        if (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9'))
            return fail(ps, ps->p, "unexpected character");
        if ((node = push(ps, JSON_NUMBER, ps->p)) == JSON_NONE)
            return -ENOMEM;
        rc = parse_number(ps, node);
        break;
    }
    ps->d->nodes[node].next = node + 1;
    return rc;
}

void json_doc_init(json_doc *d)
{
    memset(d, 0, sizeof *d);
    d->max_depth = JSON_DEFAULT_MAX_DEPTH;
}

void json_doc_free(json_doc *d)
{
    pg_free(d->nodes);
    d->nodes = NULL;
    d->count = d->cap = 0;
}

int json_parse(json_doc *d, const char *src, size_t len)
{
    d->src = src;
    d->src_len = len;
    d->count = 0;
    d->err[0] = 0;
    d->err_pos = 0;
    if (len >= UINT32_MAX) {
        snprintf(d->err, sizeof d->err, "input too large (%zu bytes)", len);
        return -E2BIG;
    }
    parser ps = {.s = src, .p = src, .end = src + len, .d = d};
    int rc = parse_value(&ps);
    if (ps.oom)
        return -ENOMEM;
    if (rc)
        return rc;
    skip_ws(&ps);
    if (ps.p != ps.end)
        return fail(&ps, ps.p, "unexpected data after the JSON value");
    return 0;
}
