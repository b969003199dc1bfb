/*
 * serve — running as the audit webhook until told to stop (see serve.c).
 */
#ifndef PEREGRINE_SERVE_H
#define PEREGRINE_SERVE_H

#include <stdio.h>

#include "app/config.h"
#include "engine/engine.h"

/* Block the signals serve_webhook() waits for; call before any thread
 * starts so every thread inherits the mask. */
void serve_block_signals(void);
/* Serve open_params until SIGTERM/SIGINT; statistics to stats_out.
 * Returns the exit status (0, or 1 when the webhook cannot start). */
int serve_webhook(const config *cfg, engine *e, int threads, FILE *stats_out);

#endif
