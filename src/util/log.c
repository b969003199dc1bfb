#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int quiet;

void log_set_quiet(int q) { quiet = q; }

static void vlog(const char *prefix, int go_style, const char *fmt, va_list ap)
{
    if (quiet)
        return;
    char ts[64];
    time_t now = time(NULL);
    struct tm tm;
    if (go_style) {
        gmtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%Y/%m/%d %H:%M:%S", &tm);
    } else {
        localtime_r(&now, &tm);
        strftime(ts, sizeof ts, "%a %b %e %H:%M:%S %Y", &tm);
    }
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
