/*
 * outputs — fan-out of alerts to the enabled channels (see outputs.h).
 */
#include "output/outputs.h"
#include "output/channel.h"
#include "output/noise.h"
#include "util/alloc.h"
#include "util/log.h"

#include <string.h>

#define MAX_CHANNELS 4

struct outputs {
    bool stdout_on, unbuffered;
    channel *ch[MAX_CHANNELS];
    size_t nch;
    noise *noise;
    unsigned char *pass;        /* per record of the current batch: let through? */
    size_t pass_cap;
    int timeout_ms;
    bool drained;
    _Atomic uint64_t stdout_delivered, stdout_failed, suppressed;
    int64_t stdout_last_report_ns;
};

outputs *outputs_new(const config *c, char *err, size_t errlen)
{
    outputs *o = pg_calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    o->stdout_on = c->stdout_enabled;
    o->unbuffered = !c->buffered_outputs;
    o->timeout_ms = c->output_timeout_ms ? (int)c->output_timeout_ms : 2000;
    if (c->rate_limit_enabled || c->dedup_enabled) {
        noise_opts no = {.rate_limit = c->rate_limit_enabled,
                         .rate = c->rate_limit_rate,
                         .max_burst = c->rate_limit_max_burst,
                         .dedup = c->dedup_enabled,
                         .window_s = c->dedup_window_s};
        if (!(o->noise = noise_new(&no))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    /* Falco's order: file, (stdout), syslog, program, http. */
    struct {
        bool on;
        channel *(*make)(const config *, char *, size_t);
    } wanted[] = {
        {c->file_output_enabled, channel_file_new},
        {c->syslog_output_enabled, channel_syslog_new},
        {c->program_output_enabled, channel_program_new},
        {c->http_output_enabled, channel_http_new},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof *wanted; i++) {
        if (!wanted[i].on)
            continue;
        channel *ch = wanted[i].make(c, err, errlen);
        if (!ch)
            goto fail;
        o->ch[o->nch++] = ch;
    }
    for (size_t i = 0; i < o->nch; i++)
        if (channel_start(o->ch[i], err, errlen))
            goto fail;
    return o;
fail:
    outputs_close(o);
    return NULL;
}

static void write_stdout(outputs *o, const char *p, size_t len, size_t nrecs)
{
    if (fwrite(p, 1, len, stdout) == len && !ferror(stdout)) {
        atomic_fetch_add(&o->stdout_delivered, nrecs);
        return;
    }
    atomic_fetch_add(&o->stdout_failed, nrecs);
    clearerr(stdout);
    int64_t now = channel_now_ns();
    if (!o->stdout_last_report_ns || now - o->stdout_last_report_ns > 10 * 1000000000LL) {
        o->stdout_last_report_ns = now;
        log_msg("stdout output: write failed (%llu alert(s) not delivered so far)",
                (unsigned long long)atomic_load(&o->stdout_failed));
    }
}

int outputs_emit(outputs *o, const alert_rec *recs, size_t n, const char *block, size_t block_len)
{
    if (!o || o->drained || !n)
        return 0;
    size_t passed = n;
    if (o->noise) {
        if (n > o->pass_cap) {
            size_t cap = o->pass_cap ? o->pass_cap : 256;
            while (cap < n)
                cap *= 2;
            unsigned char *p = pg_realloc(o->pass, cap);
            if (!p) {
                /* cannot track: let everything through rather than lose alerts */
                goto fanout_all;
            }
            o->pass = p;
            o->pass_cap = cap;
        }
        int64_t now = channel_now_ns();
        passed = 0;
        for (size_t i = 0; i < n; i++) {
            o->pass[i] = noise_pass(o->noise, recs[i].rule, recs[i].text, recs[i].len, now);
            passed += o->pass[i];
        }
        atomic_fetch_add(&o->suppressed, n - passed);
        if (passed == n)
            goto fanout_all;
        for (size_t c = 0; c < o->nch; c++) {
            uint64_t dropped = 0;
            outq_lock(o->ch[c]->q);
            for (size_t i = 0; i < n; i++)
                if (o->pass[i] && outq_put_locked(o->ch[c]->q, OUTQ_ALERT, recs[i].prio, recs[i].text, recs[i].len))
                    dropped++;
            outq_unlock(o->ch[c]->q);
            if (dropped)
                channel_drop(o->ch[c], dropped);
        }
        if (o->stdout_on)
            for (size_t i = 0; i < n; i++)
                if (o->pass[i])
                    write_stdout(o, recs[i].text, recs[i].len, 1);
        goto flush;
    }
fanout_all:
    for (size_t c = 0; c < o->nch; c++) {
        uint64_t dropped = 0;
        outq_lock(o->ch[c]->q);
        for (size_t i = 0; i < n; i++)
            if (outq_put_locked(o->ch[c]->q, OUTQ_ALERT, recs[i].prio, recs[i].text, recs[i].len))
                dropped++;
        outq_unlock(o->ch[c]->q);
        if (dropped)
            channel_drop(o->ch[c], dropped);
    }
    if (o->stdout_on)
        write_stdout(o, block, block_len, n);
flush:
    if (o->stdout_on && o->unbuffered && passed)
        fflush(stdout);
    return 0;
}

void outputs_flush(outputs *o)
{
    if (o && o->stdout_on)
        fflush(stdout);
}

void outputs_reopen(outputs *o)
{
    if (!o || o->drained)
        return;
    for (size_t c = 0; c < o->nch; c++) {
        channel *ch = o->ch[c];
        if (!ch->ops->reopen)
            continue;
        outq_lock(ch->q);
        int full = outq_put_locked(ch->q, OUTQ_REOPEN, 0, NULL, 0);
        outq_unlock(ch->q);
        if (full)
            atomic_store(&ch->reopen_pending, true);
    }
}

void outputs_drain(outputs *o)
{
    if (!o || o->drained)
        return;
    o->drained = true;
    if (o->stdout_on)
        fflush(stdout);
    /* close every queue first: the channels drain side by side */
    for (size_t c = 0; c < o->nch; c++)
        outq_close(o->ch[c]->q);
    for (size_t c = 0; c < o->nch; c++)
        channel_stop(o->ch[c], o->timeout_ms);
    for (size_t c = 0; c < o->nch; c++)
        channel_report_final(o->ch[c]);
}

void outputs_close(outputs *o)
{
    if (!o)
        return;
    outputs_drain(o);
    for (size_t c = 0; c < o->nch; c++)
        channel_free(o->ch[c]);
    noise_free(o->noise);
    pg_free(o->pass);
    pg_free(o);
}

size_t outputs_get_stats(const outputs *o, outputs_channel_stats *out, size_t max)
{
    outputs *m = (outputs *)o; /* counters are atomics; queues lock */
    size_t k = 0;
    uint64_t sup = atomic_load(&m->suppressed);
    if (o->stdout_on) {
        if (k < max)
            out[k] = (outputs_channel_stats){.name = "stdout",
                                             .delivered = atomic_load(&m->stdout_delivered),
                                             .failed = atomic_load(&m->stdout_failed),
                                             .suppressed = sup};
        k++;
    }
    for (size_t c = 0; c < o->nch; c++, k++) {
        channel *ch = o->ch[c];
        if (k < max)
            out[k] = (outputs_channel_stats){.name = ch->ops->name,
                                             .delivered = atomic_load(&ch->delivered),
                                             .failed = atomic_load(&ch->failed),
                                             .dropped = atomic_load(&ch->dropped),
                                             .suppressed = sup,
                                             .queued = outq_alerts(ch->q)};
    }
    return k;
}

void outputs_print_stats(const outputs *o, FILE *out)
{
    if (!o)
        return;
    outputs_channel_stats st[MAX_CHANNELS + 1];
    size_t n = outputs_get_stats(o, st, MAX_CHANNELS + 1);
    bool lost = false;
    for (size_t i = 0; i < n; i++)
        lost |= st[i].failed || st[i].dropped;
    if (!o->nch && !o->noise && !lost)
        return;
    fprintf(out, "Alert outputs:\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "   %s: %llu delivered, %llu failed, %llu dropped, %llu suppressed", st[i].name,
                (unsigned long long)st[i].delivered, (unsigned long long)st[i].failed,
                (unsigned long long)st[i].dropped, (unsigned long long)st[i].suppressed);
        if (st[i].queued)
            fprintf(out, ", %zu queued", st[i].queued);
        size_t c = i - (o->stdout_on ? 1 : 0);
        if ((!o->stdout_on || i > 0) && atomic_load(&o->ch[c]->retries))
            fprintf(out, " (%llu retries)", (unsigned long long)atomic_load(&o->ch[c]->retries));
        fputc('\n', out);
    }
    fflush(out);
}
