/*
 * codec — base64 and bounded gzip (see codec.h).
 */
#include "envelope/codec.h"
#include "util/alloc.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

/* 0..63, 64 = skip (whitespace), 65 = padding, 255 = invalid */
static unsigned char b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned char)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (unsigned char)(c - 'a' + 26);
    if (c >= '0' && c <= '9')
        return (unsigned char)(c - '0' + 52);
    switch (c) {
    case '+': case '-':
        return 62;
    case '/': case '_':
        return 63;
    case ' ': case '\n': case '\r': case '\t':
        return 64;
    case '=':
        return 65;
    default:
        return 255;
    }
}

int base64_decode(const char *s, size_t n, buf *out)
{
    if (buf_reserve(out, n / 4 * 3 + 3))
        return -ENOMEM;
    uint32_t acc = 0;
    int bits = 0;
    bool pad = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char v = b64_value((unsigned char)s[i]);
        if (v == 64)
            continue;
        if (v == 65) {
            pad = true;
            continue;
        }
        if (v == 255 || pad)
            return -EINVAL;     /* data after padding is not base64 */
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_putc(out, (char)((acc >> bits) & 0xff));
        }
    }
    if (bits >= 6)
        return -EINVAL;         /* one lone character: not a whole byte */
    buf_cstr(out);              /* NUL after the bytes, as parsers may look one past */
    return out->oom ? -ENOMEM : 0;
}

int gz_inflate(const void *p, size_t n, size_t max_out, buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK)  /* +32: gzip or zlib header */
        return -ENOMEM;
    z.next_in = (Bytef *)p;
    int rc = 0;
    size_t produced = 0;
    size_t left = n;
    for (;;) {
        size_t room = 64 * 1024;
        if (buf_reserve(out, room + 1)) {
            rc = -ENOMEM;
            break;
        }
        unsigned in_now = left > (1u << 30) ? 1u << 30 : (unsigned)left;
        z.avail_in = in_now;
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = (uInt)room;
        int zr = inflate(&z, Z_NO_FLUSH);
        size_t got = room - z.avail_out;
        left -= in_now - z.avail_in;
        produced += got;
        out->len += got;
        if (produced > max_out) {
            rc = -EFBIG;
            break;
        }
        if (zr == Z_STREAM_END) {
            /* another gzip member may follow (concatenated files) */
            while (left && *(const unsigned char *)z.next_in == 0)
                z.next_in++, left--;   /* zero padding after a member */
            if (!left)
                break;
            if (!gz_magic(z.next_in, left)) {
                rc = -EINVAL;
                break;
            }
            inflateReset(&z);
            continue;
        }
        if (zr == Z_BUF_ERROR && !left && z.avail_out) {
            rc = -EINVAL;       /* truncated */
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
            break;
        }
    }
    inflateEnd(&z);
    if (out->data)
        out->data[out->len] = 0;
    return rc;
}

int gz_stream_init(gz_stream *s)
{
    memset(s, 0, sizeof *s);
    z_stream *z = pg_calloc(1, sizeof *z);
    if (!z)
        return -ENOMEM;
    if (inflateInit2(z, 15 + 16) != Z_OK) {
        pg_free(z);
        return -ENOMEM;
    }
    s->z = z;
    return 0;
}

long gz_stream_run(gz_stream *s, const void *in, size_t *n_in, void *out, size_t n_out)
{
    z_stream *z = s->z;
    size_t avail = *n_in;
    const unsigned char *ip = in;
    if (s->done) {
        /* between members: skip zero padding, then start the next one */
        while (avail && *ip == 0)
            ip++, avail--;
        if (!avail) {
            *n_in -= avail;
            return 0;
        }
        inflateReset(z);
        s->done = false;
    }
    z->next_in = (Bytef *)ip;
    z->avail_in = (uInt)(avail > (1u << 30) ? 1u << 30 : avail);
    unsigned given = z->avail_in;
    z->next_out = out;
    z->avail_out = (uInt)n_out;
    int zr = inflate(z, Z_NO_FLUSH);
    *n_in = (size_t)(ip - (const unsigned char *)in) + (given - z->avail_in);
    if (zr == Z_STREAM_END)
        s->done = true;
    else if (zr != Z_OK && zr != Z_BUF_ERROR)
        return -EINVAL;
    return (long)(n_out - z->avail_out);
}

void gz_stream_end(gz_stream *s)
{
    if (s->z) {
        inflateEnd(s->z);
        pg_free(s->z);
    }
    s->z = NULL;
}
