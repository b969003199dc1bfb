/*
 * channel — the worker loop, counters and error reports every channel
 * shares (see channel.h).
 */
#include "output/channel.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define REPORT_EVERY_NS (10 * 1000000000LL)
#define PEEK_MAX 64

int64_t channel_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

channel *channel_new(const channel_ops *ops, void *impl, const config *c, char *err, size_t errlen)
{
    channel *ch = pg_calloc(1, sizeof *ch);
    size_t items = c->outputs_queue_capacity;
    outq *q = ch ? outq_new(c->outputs_queue_max_bytes, items) : NULL;
    if (!ch || !q) {
        pg_free(ch);
        snprintf(err, errlen, "%s output: out of memory", ops->name);
        ops->destroy(&(channel){.ops = ops, .impl = impl});
        return NULL;
    }
    ch->ops = ops;
    ch->impl = impl;
    ch->q = q;
    ch->timeout_ms = c->output_timeout_ms ? (int)c->output_timeout_ms : 2000;
    pthread_mutex_init(&ch->rep_mu, NULL);
    return ch;
}

/* Rate-limited report: the first message at once, later ones folded into
 * one line at most every REPORT_EVERY_NS (with how many were folded). */
static void report(channel *ch, const char *what, const char *msg)
{
    int64_t now = channel_now_ns();
    pthread_mutex_lock(&ch->rep_mu);
    if (ch->last_report_ns && now - ch->last_report_ns < REPORT_EVERY_NS) {
        ch->unreported++;
        pthread_mutex_unlock(&ch->rep_mu);
        return;
    }
    uint64_t folded = ch->unreported;
    ch->unreported = 0;
    ch->last_report_ns = now;
    pthread_mutex_unlock(&ch->rep_mu);
    if (folded)
        log_msg("%s output: %s: %s (and %llu more since the last report; failed so far: %llu, retries: %llu)",
                ch->ops->name, what, msg, (unsigned long long)folded, (unsigned long long)atomic_load(&ch->failed),
                (unsigned long long)atomic_load(&ch->retries));
    else
        log_msg("%s output: %s: %s", ch->ops->name, what, msg);
}

void channel_ok(channel *ch, uint64_t n) { atomic_fetch_add(&ch->delivered, n); }

void channel_fail(channel *ch, uint64_t n, const char *fmt, ...)
{
    atomic_fetch_add(&ch->failed, n);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    report(ch, n == 1 ? "alert not delivered" : "alerts not delivered", msg);
}

void channel_retry(channel *ch, const char *fmt, ...)
{
    atomic_fetch_add(&ch->retries, 1);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    report(ch, "delivery failed, will retry", msg);
}

void channel_drop(channel *ch, uint64_t n)
{
    /* producer thread only: its own report clock, so a busy worker's
     * failure reports never hide drops */
    uint64_t total = atomic_fetch_add(&ch->dropped, n) + n;
    int64_t now = channel_now_ns();
    if (ch->last_drop_report_ns && now - ch->last_drop_report_ns < REPORT_EVERY_NS) {
        ch->drops_unreported += n;
        return;
    }
    ch->last_drop_report_ns = now;
    ch->drops_unreported = 0;
    log_msg("%s output: queue full, %llu alert(s) dropped (%llu dropped so far)", ch->ops->name,
            (unsigned long long)n, (unsigned long long)total);
}

bool channel_stopping(channel *ch) { return atomic_load(&ch->abort); }

bool channel_sleep(channel *ch, int ms)
{
    /* short slices: an abort is seen within 50 ms */
    while (ms > 0 && !channel_stopping(ch)) {
        int slice = ms < 50 ? ms : 50;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)slice * 1000000};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
    return !channel_stopping(ch);
}

static void *work(channel *ch);

static void *worker(void *arg)
{
    channel *ch = arg;
    work(ch);
    if (ch->ops->finish)
        ch->ops->finish(ch);
    return NULL;
}

static void *work(channel *ch)
{
    /* A dead program or peer must come back as EPIPE, not kill the process. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    outq_item items[PEEK_MAX];
    while (!channel_stopping(ch)) {
        if (atomic_exchange(&ch->reopen_pending, false) && ch->ops->reopen)
            ch->ops->reopen(ch);
        size_t n = outq_peek(ch->q, items, PEEK_MAX, 500);
        if (!n) {
            if (outq_done(ch->q))
                break;
            continue;
        }
        size_t i = 0;
        while (i < n) {
            if (items[i].kind == OUTQ_REOPEN) {
                if (ch->ops->reopen)
                    ch->ops->reopen(ch);
                outq_pop(ch->q, 1);
                i++;
                continue;
            }
            size_t j = i;
            while (j < n && items[j].kind == OUTQ_ALERT)
                j++;
            size_t done = ch->ops->deliver(ch, items + i, j - i);
            outq_pop(ch->q, done);
            if (done < j - i)
                return NULL; /* aborted */
            i = j;
        }
    }
    return NULL;
}

int channel_start(channel *ch, char *err, size_t errlen)
{
    int rc = pthread_create(&ch->thread, NULL, worker, ch);
    if (rc) {
        snprintf(err, errlen, "%s output: cannot start its thread: %s", ch->ops->name, strerror(rc));
        return -1;
    }
    ch->started = true;
    return 0;
}

void channel_stop(channel *ch, int timeout_ms)
{
    if (!ch->started)
        return;
    outq_close(ch->q);
    /* Wait while the channel makes progress; give up once it has delivered
     * (or failed) nothing for a whole output_timeout. */
    uint64_t seen = UINT64_MAX;
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t t = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (int64_t)timeout_ms * 1000000;
        ts = (struct timespec){.tv_sec = t / 1000000000, .tv_nsec = t % 1000000000};
        if (!pthread_timedjoin_np(ch->thread, NULL, &ts))
            break;
        uint64_t progress = atomic_load(&ch->delivered) + atomic_load(&ch->failed);
        if (progress != seen) {
            seen = progress;
            continue;
        }
        log_msg("%s output: blocked for output_timeout (%d ms), discarding %zu queued alert(s)", ch->ops->name,
                timeout_ms, outq_alerts(ch->q));
        atomic_store(&ch->abort, true);
        pthread_join(ch->thread, NULL);
        break;
    }
    ch->started = false;
    atomic_fetch_add(&ch->dropped, outq_alerts(ch->q));
}

void channel_report_final(channel *ch)
{
    uint64_t failed = atomic_load(&ch->failed), dropped = atomic_load(&ch->dropped);
    if ((ch->unreported || ch->drops_unreported) && (failed || dropped))
        log_msg("%s output: %llu alert(s) failed, %llu dropped, %llu retries in total", ch->ops->name,
                (unsigned long long)failed, (unsigned long long)dropped,
                (unsigned long long)atomic_load(&ch->retries));
}

void channel_free(channel *ch)
{
    if (!ch)
        return;
    if (ch->ops->destroy)
        ch->ops->destroy(ch);
    outq_free(ch->q);
    pthread_mutex_destroy(&ch->rep_mu);
    pg_free(ch);
}
