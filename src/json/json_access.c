/*
 * json_access — lookups on a parsed doc and text produced from it:
 * unescaping, compact re-serialization, Go-style indentation, and the
 * JSON string writer used by every JSON output.
 */
#include "json/json.h"
#include "util/memeq.h"

#include <string.h>

uint32_t json_get(const json_doc *d, uint32_t obj, const char *key, size_t keylen)
{
    if (obj == JSON_NONE || d->nodes[obj].type != JSON_OBJECT)
        return JSON_NONE;
    uint32_t end = d->nodes[obj].next;
    for (uint32_t k = obj + 1; k < end; k = d->nodes[k + 1].next) {
        const json_node *n = &d->nodes[k];
        if (n->flags & JSON_F_ESCAPES) {
            if (json_string_eq(d, k, key, keylen))
                return k + 1;
        } else if (n->len == keylen && (keylen == 0 || d->src[n->start] == key[0]) &&
                   memeq(d->src + n->start, key, keylen)) {
            return k + 1;
        }
    }
    return JSON_NONE;
}

uint32_t json_index(const json_doc *d, uint32_t arr, size_t idx)
{
    if (arr == JSON_NONE || d->nodes[arr].type != JSON_ARRAY)
        return JSON_NONE;
    uint32_t end = d->nodes[arr].next;
    for (uint32_t c = arr + 1; c < end; c = d->nodes[c].next)
        if (idx-- == 0)
            return c;
    return JSON_NONE;
}

size_t json_length(const json_doc *d, uint32_t i)
{
    size_t n = 0;
    uint32_t end = d->nodes[i].next;
    if (d->nodes[i].type == JSON_OBJECT) {
        for (uint32_t k = i + 1; k < end; k = d->nodes[k + 1].next)
            n++;
    } else if (d->nodes[i].type == JSON_ARRAY) {
        for (uint32_t c = i + 1; c < end; c = d->nodes[c].next)
            n++;
    }
    return n;
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

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the escape at *pp (which points at a backslash) into o. */
static size_t decode_escape(const char **pp, const char *end, char *o)
{
    const char *p = *pp;
    char c = p[1];
    *pp = p + 2;
    switch (c) {
    case 'b': *o = '\b'; return 1;
    case 'f': *o = '\f'; return 1;
    case 'n': *o = '\n'; return 1;
    case 'r': *o = '\r'; return 1;
    case 't': *o = '\t'; return 1;
    case 'u': break;
    default: *o = c; return 1;
    }
    unsigned cp = hex4(p + 2);
    *pp = p + 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - *pp >= 6 && (*pp)[0] == '\\' && (*pp)[1] == 'u') {
            unsigned lo = hex4(*pp + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                *pp += 6;
                return put_utf8(o, 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00));
            }
        }
        cp = 0xFFFD;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD;
    }
    return put_utf8(o, cp);
}

size_t json_unescape(const char *s, size_t n, char *out)
{
    const char *p = s, *end = s + n;
    char *o = out;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        if (!bs) {
            memmove(o, p, (size_t)(end - p));
            o += end - p;
            break;
        }
        memmove(o, p, (size_t)(bs - p));
        o += bs - p;
        p = bs;
        o += decode_escape(&p, end, o);
    }
    return (size_t)(o - out);
}

int json_string_eq(const json_doc *d, uint32_t i, const char *s, size_t n)
{
    const json_node *nd = &d->nodes[i];
    const char *p = d->src + nd->start, *end = p + nd->len;
    if (!(nd->flags & JSON_F_ESCAPES))
        return nd->len == n && memeq(p, s, n);
    size_t k = 0;
    while (p < end) {
        char tmp[4];
        size_t m;
        if (*p == '\\') {
            m = decode_escape(&p, end, tmp);
        } else {
            tmp[0] = *p++;
            m = 1;
        }
        if (k + m > n || memcmp(s + k, tmp, m) != 0)
            return 0;
        k += m;
    }
    return k == n;
}

/* Copy raw JSON text dropping whitespace outside strings. */
static void compact_text(const char *p, size_t n, buf *out)
{
    const char *end = p + n;
    if (buf_reserve(out, n))
        return;
    char *o = out->data + out->len;
    while (p < end) {
        char c = *p++;
        if (c == '"') {
            *o++ = c;
            while (p < end) {
                c = *p++;
                *o++ = c;
                if (c == '\\') {
                    *o++ = *p++;
                } else if (c == '"') {
                    break;
                }
            }
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            *o++ = c;
        }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = 0;
}

void json_compact(const json_doc *d, uint32_t i, buf *out)
{
    size_t n;
    const char *raw = json_raw(d, i, &n);
    if (d->nodes[i].flags & JSON_F_SPACE)
        compact_text(raw, n, out);
    else
        buf_put(out, raw, n);
}

size_t json_compact_len(const json_doc *d, uint32_t i)
{
    size_t n;
    const char *p = json_raw(d, i, &n);
    if (!(d->nodes[i].flags & JSON_F_SPACE))
        return n;
    const char *end = p + n;
    size_t len = 0;
    while (p < end) {
        char c = *p++;
        if (c == '"') {
            len++;
            while (p < end) {
                c = *p++;
                len++;
                if (c == '\\') {
                    p++;
                    len++;
                } else if (c == '"') {
                    break;
                }
            }
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            len++;
        }
    }
    return len;
}

void json_write_string(buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    buf_reserve(out, n + 2);
    buf_putc(out, '"');
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
            p++;
        if (p > run)
            buf_put(out, run, (size_t)(p - run));
        if (p >= end)
            break;
        unsigned c = *p;
        if (c >= 0x80) {
            /* validate one UTF-8 sequence; replace invalid bytes by U+FFFD */
            int len = 0;
            if (c >= 0xC2 && c <= 0xDF)
                len = 2;
            else if (c >= 0xE0 && c <= 0xEF)
                len = 3;
            else if (c >= 0xF0 && c <= 0xF4)
                len = 4;
            int ok = len > 0 && end - p >= len;
            for (int k = 1; ok && k < len; k++)
                ok = (p[k] & 0xC0) == 0x80;
            if (ok && len == 3)
                ok = !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] >= 0xA0);
            if (ok && len == 4)
                ok = !(c == 0xF0 && p[1] < 0x90) && !(c == 0xF4 && p[1] >= 0x90);
            if (ok) {
                buf_put(out, p, (size_t)len);
                p += len;
            } else {
                buf_put(out, "\xEF\xBF\xBD", 3);
                p++;
            }
            continue;
        }
        p++;
        switch (c) {
        case '"': buf_put(out, "\\\"", 2); break;
        case '\\': buf_put(out, "\\\\", 2); break;
        case '\b': buf_put(out, "\\b", 2); break;
        case '\f': buf_put(out, "\\f", 2); break;
        case '\n': buf_put(out, "\\n", 2); break;
        case '\r': buf_put(out, "\\r", 2); break;
        case '\t': buf_put(out, "\\t", 2); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_put(out, e, 6);
        }
        }
    }
    buf_putc(out, '"');
}

static void newline_indent(buf *out, int depth)
{
    buf_putc(out, '\n');
    for (int i = 0; i < depth; i++)
        buf_put(out, "  ", 2);
}

void json_indent(const char *s, size_t n, buf *out)
{
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        switch (c) {
        case '"': {
            size_t j = i + 1;
            while (j < n && s[j] != '"')
                j += s[j] == '\\' ? 2 : 1;
            buf_put(out, s + i, j + 1 - i);
            i = j;
            break;
        }
        case '{':
        case '[':
            buf_putc(out, c);
            if (i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
                buf_putc(out, s[++i]);
            } else {
                newline_indent(out, ++depth);
            }
            break;
        case '}':
        case ']':
            newline_indent(out, --depth);
            buf_putc(out, c);
            break;
        case ',':
            buf_putc(out, c);
            newline_indent(out, depth);
            break;
        case ':':
            buf_put(out, ": ", 2);
            break;
        default:
            buf_putc(out, c);
        }
    }
}
