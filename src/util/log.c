#include "util/log.h"
#include "util/buf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int quiet;

/* Rate limit on everything written to stderr here: a token bucket of
 * lines, so a flood of bad requests (or of TLS handshakes, through the
 * servers' loggers) cannot write without bound.  What it holds back is
 * counted, said when lines flow again, and in the statistics. */
#define LOG_BURST 5000.0        /* lines */
#define LOG_RATE 100.0          /* lines per second */
static pthread_mutex_t rl_mu = PTHREAD_MUTEX_INITIALIZER;
static double rl_tokens = LOG_BURST;
static struct timespec rl_last;
static uint64_t rl_held;        /* held back since the last notice */
static _Atomic uint64_t rl_total;

uint64_t log_suppressed_total(void) { return rl_total; }

/* Room for `lines` more lines (called under rl_mu): how many may go out.
 * The first time lines flow again after some were held back, a notice
 * saying how many is written first. */
static size_t rl_take(size_t lines)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (rl_last.tv_sec || rl_last.tv_nsec) {
        double dt = (double)(now.tv_sec - rl_last.tv_sec) + (double)(now.tv_nsec - rl_last.tv_nsec) / 1e9;
        rl_tokens += dt * LOG_RATE;
        if (rl_tokens > LOG_BURST)
            rl_tokens = LOG_BURST;
    }
    rl_last = now;
    if (rl_held && rl_tokens >= 1) {
        rl_tokens -= 1;
        fprintf(stderr, "peregrine: %llu log lines held back by the log rate limit (%g lines/s, bursts of %g)\n",
                (unsigned long long)rl_held, LOG_RATE, LOG_BURST);
        rl_held = 0;
    }
    size_t n = rl_tokens >= (double)lines ? lines : (size_t)rl_tokens;
    rl_tokens -= (double)n;
    rl_held += lines - n;
    rl_total += lines - n;
    return n;
}

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
    pthread_mutex_lock(&rl_mu);
    if (rl_take(1))
        fprintf(stderr, "%s%s%s\n", ts, prefix, msg);
    pthread_mutex_unlock(&rl_mu);
}

void log_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(": ", 0, fmt, ap);
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
    if (quiet || !len)
        return;
    size_t lines = 0;
    for (const char *p = text; (p = memchr(p, '\n', (size_t)(text + len - p))); p++)
        lines++;
    pthread_mutex_lock(&rl_mu);
    size_t all = lines + (text[len - 1] != '\n'); /* a last line without its newline counts */
    size_t n = rl_take(all);
    size_t out = len;
    if (n < all) { /* the first n whole lines */
        const char *p = text;
        for (size_t i = 0; i < n; i++)
            p = memchr(p, '\n', (size_t)(text + len - p)) + 1;
        out = (size_t)(p - text);
    }
    fwrite(text, 1, out, stderr);
    pthread_mutex_unlock(&rl_mu);
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
