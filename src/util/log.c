#include "util/log.h"
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int quiet;

void log_set_quiet(int q) { quiet = q; }
int log_is_quiet(void) { return quiet; }

static void stamp(char *ts, size_t n, int go_style)
{
    time_t now = time(NULL);
    struct tm tm;
    if (go_style) {
        gmtime_r(&now, &tm);
        strftime(ts, n, "%Y/%m/%d %H:%M:%S", &tm);
    } else {
        localtime_r(&now, &tm);
        strftime(ts, n, "%a %b %e %H:%M:%S %Y", &tm);
    }
}

static void vlog(const char *prefix, int go_style, const char *fmt, va_list ap)
{
    if (quiet)
        return;
    char ts[64];
    stamp(ts, sizeof ts, go_style);
    /* One fprintf per line keeps lines whole when threads log at once. */
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "%s%s%s\n", ts, prefix, msg);
}

void log_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(": ", 0, fmt, ap);
    va_end(ap);
}

void log_k8saudit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(" [k8saudit] ", 1, fmt, ap);
    va_end(ap);
}

static void vlog_to(buf *b, const char *prefix, int go_style, const char *fmt, va_list ap)
{
    if (quiet)
        return;
    char ts[64];
    stamp(ts, sizeof ts, go_style);
    buf_puts(b, ts);
    buf_puts(b, prefix);
    buf_vprintf(b, fmt, ap);
    buf_putc(b, '\n');
}

void log_msg_to(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_to(b, ": ", 0, fmt, ap);
    va_end(ap);
}

void log_k8saudit_to(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_to(b, " [k8saudit] ", 1, fmt, ap);
    va_end(ap);
}

void log_write(const char *text, size_t len)
{
    if (!quiet && len)
        fwrite(text, 1, len, stderr);
}

void log_prefixed_v(void *prefix, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = 0;
    log_msg("%s: %s", (const char *)prefix, msg);
}
