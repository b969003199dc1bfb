/*
 * serve — the long-running modes: the webhook (http://, https://) or a
 * followed file (file://) feeding the engine until SIGTERM or SIGINT, with
 * the admin server and rules reloads, then an orderly stop in which
 * nothing acknowledged is lost: stop accepting (or reading), evaluate
 * everything queued, flush the outputs, print the statistics.
 *
 * Signals are blocked in every thread (the mask is set before any thread
 * starts) and taken synchronously here with sigwait, so no handler runs
 * in the middle of library code.
 */
#include "app/serve.h"
#include "ops/admin.h"
#include "ops/metrics.h"
#include "source/input.h"
#include "source/webhook.h"
#include "util/alloc.h"
#include "util/log.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The signals the serve loop takes. */
static void serve_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
}

void serve_block_signals(void)
{
    sigset_t set;
    serve_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);   /* a client gone mid-response is not fatal */
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A cheap fingerprint of the watched files: any edit, replace (editors
 * write a new file and rename it) or deletion changes it. */
static uint64_t fingerprint(const strvec *files)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < files->n; i++) {
        struct stat sb;
        uint64_t v[4] = {0};
        if (stat(files->v[i], &sb) == 0) {
            v[0] = (uint64_t)sb.st_mtim.tv_sec;
            v[1] = (uint64_t)sb.st_mtim.tv_nsec;
            v[2] = (uint64_t)sb.st_size;
            v[3] = (uint64_t)sb.st_ino;
        }
        for (int k = 0; k < 4; k++)
            h = (h ^ v[k]) * 1099511628211ull;
    }
    return h;
}

static size_t enabled_rules(const ruleset *rs)
{
    size_t on = 0;
    for (size_t i = 0; rs && i < ruleset_count(rs); i++)
        on += ruleset_rule(rs, i)->enabled;
    return on;
}

/* A reload never silently lowers detection: a result with no enabled rule
 * while rules were enabled (a rules file caught truncated, an emptied
 * directory) is refused — a restart with such rules is how to ask for
 * it — and one with fewer enabled rules is taken but said so.  Each taken
 * set gets the next generation number, in the log and /metrics. */
static void do_reload(engine *e, serve_reload *rl, reload_stats *st, const char *why)
{
    buf err = BUF_INIT;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    atomic_store(&st->last_time_ms, (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000);
    size_t was = enabled_rules(engine_ruleset(e));
    uint64_t gen = atomic_load(&st->generation);
    ruleset *rs = rl->reload(rl->ctx, &err);
    size_t on = enabled_rules(rs);
    if (rs && on == 0 && was > 0) {
        ruleset_free(rs);
        log_msg("rules reload (%s) REFUSED: the new rules enable no rule where %zu were enabled (a file caught "
                "while being rewritten?); rules set %llu stays in use with %zu enabled rules",
                why, was, (unsigned long long)gen, was);
        atomic_store(&st->last_ok, false);
        atomic_fetch_add(&st->failed, 1);
        atomic_fetch_add(&st->refused, 1);
    } else if (rs && engine_set_ruleset(e, rs) == 0) {
        atomic_store(&st->generation, ++gen);
        if (on < was)
            log_msg("rules reloaded (%s): rules set %llu is in use: %zu rules, %zu enabled — %zu FEWER enabled "
                    "than set %llu; events queued from now on use them",
                    why, (unsigned long long)gen, ruleset_count(rs), on, was - on, (unsigned long long)gen - 1);
        else
            log_msg("rules reloaded (%s): rules set %llu is in use: %zu rules, %zu enabled (set %llu had %zu); "
                    "events queued from now on use them",
                    why, (unsigned long long)gen, ruleset_count(rs), on, (unsigned long long)gen - 1, was);
        atomic_store(&st->last_ok, true);
        atomic_fetch_add(&st->ok, 1);
    } else {
        if (rs)
            ruleset_free(rs);
        log_msg("rules reload (%s) failed, the previous rules stay in use: %s", why,
                err.len ? buf_cstr(&err) : "out of memory");
        atomic_store(&st->last_ok, false);
        atomic_fetch_add(&st->failed, 1);
    }
    buf_free(&err);
}

/* The follow source (file://) runs on its own thread; the signal loop
 * stops it through `stop`. */
typedef struct follow_run {
    pthread_t thread;
    engine *e;
    const char *url;
    atomic_int stop;
    _Atomic bool alive;
    int rc;
    char err[512];
} follow_run;

static void *follow_main(void *arg)
{
    follow_run *f = arg;
    f->rc = input_run_follow(f->e, f->url, &f->stop, f->err, sizeof f->err);
    atomic_store(&f->alive, false);
    if (f->rc)
        kill(getpid(), SIGTERM);    /* the input failed: end the run (its error is printed) */
    return NULL;
}

/* webhook_submit_fn: bodies into the engine. */
static engine_submit_rc submit_body(void *ctx, const char *body, size_t len, const char *origin, const char *cluster,
                                    bool marked, const run_counts *extra, engine_submit_info *info, char *err,
                                    size_t errlen)
{
    return engine_submit_events(ctx, body, len, origin, cluster, marked, extra, info, err, errlen);
}

int serve(const config *cfg, engine *e, int threads, serve_reload *rl, FILE *stats_out)
{
    char err[512];
    webhook *w = NULL;
    follow_run *fr = NULL;
    reload_stats rstats = {0};
    bool follow = !webhook_is_url(cfg->open_params);
    if (!follow && webhook_start(cfg, submit_body, e, threads, &w, err, sizeof err)) {
        fprintf(stderr, "peregrine: %s\n", err);
        return 1;
    }
    double t0 = now_s();
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    metrics_sources ms = {
        .eng = e,
        .wh = w,
        .source = follow ? "file" : "webhook",
        .reload = rl ? &rstats : NULL,
        .start_time = (double)wall.tv_sec,
        .outs = rl ? rl->outs : NULL,
    };
    if (follow) {
        if (!(fr = pg_calloc(1, sizeof *fr))) {
            fprintf(stderr, "peregrine: out of memory\n");
            return 1;
        }
        fr->e = e;
        fr->url = cfg->open_params;
        atomic_init(&fr->alive, true);
        ms.input_alive = &fr->alive;
    }
    admin *adm = NULL;
    if (cfg->webserver_enabled) {
        admin_opts ao = {
            .listen_address = cfg->webserver_listen_address,
            .port = (uint16_t)cfg->webserver_listen_port,
            .healthz_path = cfg->webserver_healthz,
            .metrics = cfg->webserver_metrics,
            .ssl_certificate = cfg->webserver_ssl_enabled
                                   ? (cfg->webserver_ssl_certificate ? cfg->webserver_ssl_certificate
                                                                     : "/etc/falco/falco.pem")
                                   : NULL,
            .src = &ms,
        };
        if (admin_start(&ao, &adm, err, sizeof err)) {
            fprintf(stderr, "peregrine: %s\n", err);
            webhook_stop(w);
            pg_free(fr);
            return 1;
        }
    }
    if (fr && pthread_create(&fr->thread, NULL, follow_main, fr)) {
        fprintf(stderr, "peregrine: cannot start the follow thread\n");
        admin_stop(adm);
        pg_free(fr);
        return 1;
    }
    sigset_t set;
    serve_signals(&set);
    bool watching = rl && cfg->watch_config_files && rl->watch.n;
    uint64_t seen = watching ? fingerprint(&rl->watch) : 0;
    bool changed = false;       /* seen differs from what was loaded */
    atomic_store(&rstats.generation, 1);
    for (;;) {
        struct timespec tick = {1, 0};
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig < 0) {          /* timeout (or EINTR): poll the watched files */
            if (watching) {
                /* load a change once the files have stopped changing for a
                 * whole tick, not a file half rewritten */
                uint64_t now = fingerprint(&rl->watch);
                if (now != seen) {
                    seen = now;
                    changed = true;
                } else if (changed) {
                    changed = false;
                    do_reload(e, rl, &rstats, "a watched file changed");
                }
            }
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            if (!fr || atomic_load(&fr->alive))
                log_msg("%s received: stopping (queued events are evaluated first)", strsignal(sig));
            break;
        }
        if (sig == SIGHUP && rl) {
            do_reload(e, rl, &rstats, "SIGHUP");
            if (watching) {
                seen = fingerprint(&rl->watch);
                changed = false;
            }
            continue;
        }
        if (sig == SIGUSR1 && rl && rl->reopen) {
            *rl->reopen = 1; /* the pipeline's emitter reopens at its next flush */
            log_msg("SIGUSR1 received: reopening the alert outputs");
            continue;
        }
        log_msg("%s received: ignored", strsignal(sig));
    }
    int rc = 0;
    if (fr) {
        fr->stop = 1;
        pthread_join(fr->thread, NULL);
        if (fr->rc) {
            fprintf(stderr, "peregrine: %s\n", fr->err);
            rc = 1;
        }
    }
    webhook_stop_accepting(w);
    engine_drain(e);
    admin_stop(adm);
    engine_print_stats(e, now_s() - t0, stats_out);
    if (w)
        webhook_print_stats(w, stats_out);
    fflush(stats_out);
    webhook_stop(w);
    pg_free(fr);
    return rc;
}
