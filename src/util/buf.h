/*
 * buf — growable byte buffer (output lines, unescaped strings, messages).
 *
 * Ownership: the caller owns the struct and frees it with buf_free().  After
 * an allocation failure the buffer is marked failed (b->oom) and further
 * appends are ignored, so callers can append freely and check once
 * (buf_clear makes it usable again).
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_BUF_H
#define PEREGRINE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;      /* always NUL-terminated when len > 0 or after buf_cstr */
    size_t len, cap;
    int oom;
} buf;

#define BUF_INIT {0}

int  buf_reserve(buf *b, size_t extra);           /* 0 or -ENOMEM */
void buf_put(buf *b, const void *p, size_t n);
void buf_putc(buf *b, char c);
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Decimal digits of v, zero-padded to at least `width` (hot paths: alert
 * times and numbers; snprintf costs ~20x more). */
void buf_put_u64(buf *b, unsigned long long v, int width);
/* The same into dst (room for 21 bytes, or width); returns the length, no NUL. */
size_t fmt_u64(char *dst, unsigned long long v, int width);
/* Append the whole file at `path` (at most `max` bytes).  0, or -errno:
 * -EFBIG when the file is larger, -ENOMEM. */
int buf_read_file(buf *b, const char *path, size_t max);
const char *buf_cstr(buf *b);                      /* "" on empty/oom */
void buf_clear(buf *b);                            /* also clears the failure mark */
void buf_free(buf *b);

#endif
