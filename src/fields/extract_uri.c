/*
 * extract_uri — ka.uri.param[key] (docs/compat/fields.md §2.2).
 *
 * Upstream parses requestURI with Go's net/url.Parse, then the raw query
 * with url.ParseQuery, and fails as a whole on any error.  This file
 * re-implements exactly the error checks of those two functions (Go 1.19
 * behaviour, the version the conformance data was recorded with) without
 * building a URL: all we need is "does it parse" and "where is the query".
 */
#include "fields/extract.h"
#include "util/hex.h"

#include <string.h>

enum go_mode { GO_PATH, GO_HOST, GO_ZONE, GO_USERINFO, GO_QUERY, GO_FRAGMENT };

/* net/url shouldEscape(c, encodeHost): may byte c appear raw in a host? */
static bool host_should_escape(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return false;
    switch (c) {
    /* sub-delims, ':' for the port, brackets for IPv6, and < > " */
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+':
    case ',': case ';': case '=': case ':': case '[': case ']': case '<': case '>': case '"':
    case '-': case '_': case '.': case '~':
        return false;
    default:
        return true;
    }
}

/* net/url unescape(s, mode), validation only: 0 when s decodes. */
static int go_unescape_check(const char *s, size_t n, enum go_mode mode)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n || hexval((unsigned char)s[i + 1]) < 0 || hexval((unsigned char)s[i + 2]) < 0)
                return -1;
            bool is25 = s[i + 1] == '2' && s[i + 2] == '5';
            /* hosts may %-encode only non-ASCII bytes (and %25) */
            if (mode == GO_HOST && hexval((unsigned char)s[i + 1]) < 8 && !is25)
                return -1;
            if (mode == GO_ZONE) {
                unsigned v = (unsigned)(hexval((unsigned char)s[i + 1]) << 4 | hexval((unsigned char)s[i + 2]));
                if (!is25 && v != ' ' && host_should_escape((unsigned char)v))
                    return -1;
            }
            i += 3;
            continue;
        }
        if ((mode == GO_HOST || mode == GO_ZONE) && c < 0x80 && host_should_escape(c))
            return -1;
        i++;
    }
    return 0;
}

/* ":digits" or "" */
static bool valid_optional_port(const char *s, size_t n)
{
    if (n == 0)
        return true;
    if (s[0] != ':')
        return false;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static const char *memrchr_(const char *s, char c, size_t n)
{
    while (n--)
        if (s[n] == c)
            return s + n;
    return NULL;
}

static const char *memmem_(const char *h, size_t hn, const char *n, size_t nn)
{
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, n, nn) == 0)
            return h + i;
    return NULL;
}

/* net/url parseHost */
static int go_parse_host(const char *h, size_t n)
{
    if (n > 0 && h[0] == '[') {
        const char *rb = memrchr_(h, ']', n);
        if (!rb)
            return -1;
        size_t i = (size_t)(rb - h);
        if (!valid_optional_port(rb + 1, n - i - 1))
            return -1;
        const char *zone = memmem_(h, i, "%25", 3);
        if (zone) {
            size_t z = (size_t)(zone - h);
            if (go_unescape_check(h, z, GO_HOST) || go_unescape_check(zone, i - z, GO_ZONE) ||
                go_unescape_check(rb, n - i, GO_HOST))
                return -1;
            return 0;
        }
    } else {
        const char *colon = memrchr_(h, ':', n);
        if (colon && !valid_optional_port(colon, n - (size_t)(colon - h)))
            return -1;
    }
    return go_unescape_check(h, n, GO_HOST);
}

static bool valid_userinfo(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            continue;
        if (!memchr("-._:~!$&'()*+,;=%@", c, 18))
            return false; /* includes every non-ASCII byte */
    }
    return true;
}

/* net/url parseAuthority */
static int go_parse_authority(const char *a, size_t n)
{
    const char *at = memrchr_(a, '@', n);
    if (!at)
        return go_parse_host(a, n);
    size_t i = (size_t)(at - a);
    if (go_parse_host(at + 1, n - i - 1))
        return -1;
    if (!valid_userinfo(a, i))
        return -1;
    /* user and password unescape separately; '%' checks are the same */
    return go_unescape_check(a, i, GO_USERINFO);
}

    /* scheme: a letter, then letters, digits, "+", "-" or ".", then a colon */
static int go_url_parse(const char *s, size_t n, const char **q, size_t *qn)
{
    *q = NULL;
    *qn = 0;
    /* cut off #fragment; it must unescape too */
    const char *hash = memchr(s, '#', n);
    size_t un = hash ? (size_t)(hash - s) : n;
    if (hash && go_unescape_check(hash + 1, n - un - 1, GO_FRAGMENT))
        return -1;
    n = un;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return -1; /* invalid control character in URL */
    if (n == 1 && s[0] == '*')
        return 0;

    /* scheme: [a-zA-Z][a-zA-Z0-9+-.]* ':' */
    const char *rest = s;
    size_t rn = n;
    bool scheme = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            continue;
        if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
            if (i == 0)
                break;
            continue;
        }
        if (c == ':') {
            if (i == 0)
                return -1; /* missing protocol scheme */
            scheme = true;
            rest = s + i + 1;
            rn = n - i - 1;
        }
        break;
    }

    /* query: a single trailing '?' is ForceQuery (empty query); otherwise
     * cut at the first '?' */
    const char *qm = memchr(rest, '?', rn);
    if (qm) {
        *q = qm + 1;
        *qn = rn - (size_t)(qm - rest) - 1;
        rn = (size_t)(qm - rest);
    }

    if (rn == 0 || rest[0] != '/') {
        if (scheme)
            return 0; /* opaque: not validated further */
        const char *slash = memchr(rest, '/', rn);
        size_t seg = slash ? (size_t)(slash - rest) : rn;
        if (memchr(rest, ':', seg))
            return -1; /* first path segment in URL cannot contain colon */
    }

    if ((scheme || !(rn >= 3 && memcmp(rest, "///", 3) == 0)) && rn >= 2 && rest[0] == '/' && rest[1] == '/') {
        const char *auth = rest + 2;
        size_t an = rn - 2;
        const char *slash = memchr(auth, '/', an);
        size_t alen = slash ? (size_t)(slash - auth) : an;
        if (go_parse_authority(auth, alen))
            return -1;
        rest = auth + alen;
        rn = an - alen;
    }
    return go_unescape_check(rest, rn, GO_PATH);
}

/* Decoded query component (url.QueryUnescape) equals key[0..kn)? */
static bool query_eq(const char *s, size_t n, const char *key, size_t kn)
{
    size_t j = 0;
    for (size_t i = 0; i < n; j++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            c = (unsigned char)(hexval((unsigned char)s[i + 1]) << 4 | hexval((unsigned char)s[i + 2]));
            i += 3;
        } else {
            if (c == '+')
                c = ' ';
            i++;
        }
        if (j >= kn || (unsigned char)key[j] != c)
            return false;
    }
    return j == kn;
}

bool extract_uri_param(const field_ref *ref, field_ctx *ctx, fvals *out)
{
    const audit_event *ev = ctx->ev;
    uint32_t v = event_member(ev, EK_requestURI);
    const char *s, *q;
    size_t n, qn;
    /* a non-string URI is used as its JSON text */
    if (v == JSON_NONE || !fx_text(ctx, v, &s, &n))
        return fx_none(out);
    if (go_url_parse(s, n, &q, &qn))
        return fx_none(out);

    /* url.ParseQuery: pairs split on '&'; any pair with ';' or a bad
     * escape fails the whole query.
     * upstream quirk (docs/compat/fields.md §7.12): that error kills the field
     * even for other, valid keys — so validate everything first. */
    for (size_t i = 0; i < qn;) {
        const char *amp = memchr(q + i, '&', qn - i);
        size_t pn = amp ? (size_t)(amp - (q + i)) : qn - i;
        if (memchr(q + i, ';', pn) || go_unescape_check(q + i, pn, GO_QUERY))
            return fx_none(out);
        i += pn + 1;
    }

    /* the first value of exactly `key` (decoded comparison) */
    for (size_t i = 0; i < qn;) {
        const char *p = q + i;
        const char *amp = memchr(p, '&', qn - i);
        size_t pn = amp ? (size_t)(amp - p) : qn - i;
        i += pn + 1;
        if (pn == 0)
            continue;
        const char *eq = memchr(p, '=', pn);
        size_t kn = eq ? (size_t)(eq - p) : pn;
        if (!query_eq(p, kn, ref->key, ref->keylen))
            continue;
        if (!eq)
            return fx_one(ctx, out, "", 0); /* bare `a` → present "" */
        const char *val = eq + 1;
        size_t vn = pn - kn - 1;
        if (!memchr(val, '%', vn) && !memchr(val, '+', vn))
            return fx_one(ctx, out, val, fx_cut_nul(val, vn));
        char *o = arena_alloc(ctx->arena, vn + 1);
        if (!o)
            return fx_none(out);
        size_t m = 0;
        for (size_t k = 0; k < vn;) {
            if (val[k] == '%') {
                o[m++] = (char)(hexval((unsigned char)val[k + 1]) << 4 | hexval((unsigned char)val[k + 2]));
                k += 3;
            } else {
                o[m++] = val[k] == '+' ? ' ' : val[k];
                k++;
            }
        }
        o[m] = 0;
        return fx_one(ctx, out, o, fx_cut_nul(o, m));
    }
    return fx_none(out);
}
