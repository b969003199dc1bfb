/*
 * serve — running as the audit webhook, or following a file, until told to
 * stop (see serve.c).
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_SERVE_H
#define PEREGRINE_SERVE_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "app/config.h"
#include "engine/engine.h"
#include "rules/ruleset.h"
#include "util/buf.h"
#include "util/strvec.h"

/* Block the signals serve_webhook() waits for; call before any thread
 * starts so every thread inherits the mask. */
void serve_block_signals(void);
/* Reloading rules: SIGHUP, or (watch_config_files) a change to one of the
 * watched files, calls reload(); a new ruleset is swapped in between
 * events, NULL keeps the running one (the reason is in err). */
typedef struct serve_reload {
    ruleset *(*reload)(void *ctx, buf *err);
    void *ctx;
    strvec watch;               /* files polled for changes (mtime, size, inode) */
    atomic_int *reopen;  /* SIGUSR1 sets it: the alert outputs reopen (logrotate) */
    const struct outputs *outs;     /* for /metrics (optional) */
} serve_reload;

/* Serve open_params — a webhook URL or a file:// to follow — until
 * SIGTERM/SIGINT, with the admin web server when cfg->webserver_enabled;
 * statistics to stats_out.  Returns the exit status (0, or 1 when the
 * input or the admin server cannot start or fails). */
int serve(const config *cfg, engine *e, int threads, serve_reload *rl, FILE *stats_out);

#endif
