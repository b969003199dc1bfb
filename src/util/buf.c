#include "util/buf.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int buf_reserve(buf *b, size_t extra)
{
    if (b->oom)
        return -ENOMEM;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = pg_realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void buf_put(buf *b, const void *p, size_t n)
{
    if (n == 0)
        return; /* p may be NULL (an empty, never allocated buffer) */
    if (buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void buf_putc(buf *b, char c)
{
    if (b->len + 2 <= b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = 0;
        return;
    }
    buf_put(b, &c, 1);
}

void buf_puts(buf *b, const char *s) { buf_put(b, s, strlen(s)); }

void buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || buf_reserve(b, (size_t)n))
        return;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* "00" "01" ... "99": two digits per division (jevt.rawtime formats a
 * 19-digit number for every event, alerts their times). */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                     "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

size_t fmt_u64(char *dst, unsigned long long v, int width)
{
    char tmp[24];
    int n = 0;
    while (v >= 100) {
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        tmp[sizeof tmp - 1 - n++] = digit_pairs[d + 1];
        tmp[sizeof tmp - 1 - n++] = digit_pairs[d];
    }
    if (v >= 10) {
        tmp[sizeof tmp - 1 - n++] = digit_pairs[v * 2 + 1];
        tmp[sizeof tmp - 1 - n++] = digit_pairs[v * 2];
    } else {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v);
    }
    while (n < width && n < (int)sizeof tmp)
        tmp[sizeof tmp - 1 - n++] = '0';
    memcpy(dst, tmp + sizeof tmp - n, (size_t)n);
    return (size_t)n;
}

void buf_put_u64(buf *b, unsigned long long v, int width)
{
    char tmp[24];
    buf_put(b, tmp, fmt_u64(tmp, v, width));
}

int buf_read_file(buf *b, const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    char tmp[8192];
    size_t n, start = b->len;
    int rc = 0;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (b->len - start + n > max) {
            rc = -EFBIG;
            break;
        }
        buf_put(b, tmp, n);
    }
    if (!rc && ferror(f))
        rc = -EIO;
    fclose(f);
    return rc ? rc : b->oom ? -ENOMEM : 0;
}

const char *buf_cstr(buf *b) { return b->data && !b->oom ? b->data : ""; }

void buf_clear(buf *b)
{
    b->len = 0;
    b->oom = 0; /* empty again: usable after an allocation failure */
    if (b->data)
        b->data[0] = 0;
}

void buf_free(buf *b)
{
    pg_free(b->data);
    *b = (buf)BUF_INIT;
}
