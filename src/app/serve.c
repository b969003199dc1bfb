/*
 * serve — the long-running mode: the webhook feeding the engine until
 * SIGTERM or SIGINT, then an orderly stop in which nothing acknowledged is
 * lost: stop accepting, evaluate everything queued, flush the outputs,
 * print the statistics.
 *
 * Signals are blocked in every thread (the mask is set before any thread
 * starts) and taken synchronously here with sigwait, so no handler runs
 * in the middle of library code.
 */
#include "app/serve.h"
#include "source/webhook.h"
#include "util/log.h"

#include <signal.h>
#include <string.h>
#include <time.h>

void serve_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);   /* a client gone mid-response is not fatal */
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int serve_webhook(const config *cfg, engine *e, int threads, FILE *stats_out)
{
    char err[512];
    webhook *w = NULL;
    if (webhook_start(cfg, e, threads, &w, err, sizeof err)) {
        fprintf(stderr, "peregrine: %s\n", err);
        return 1;
    }
    double t0 = now_s();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig))
            continue;
        if (sig == SIGTERM || sig == SIGINT) {
            log_msg("%s received: stopping (queued events are evaluated first)", strsignal(sig));
            break;
        }
        log_msg("%s received: ignored in this version", strsignal(sig));
    }
    webhook_stop_accepting(w);
    engine_drain(e);
    engine_print_stats(e, now_s() - t0, stats_out);
    webhook_print_stats(w, stats_out);
    fflush(stats_out);
    webhook_stop(w);
    return 0;
}
