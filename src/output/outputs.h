/*
 * outputs — where rendered alerts go: stdout_output, file_output,
 * syslog_output, program_output and http_output, several at once, with
 * Falco's configuration keys; plus opt-in noise control (per-rule rate
 * limit, dedup window) applied before every channel.
 *
 * stdout is written by the caller's thread, in one fwrite per batch.
 * Every other channel has its own bounded queue (outputs_queue.capacity
 * alerts, outputs_queue.max_bytes bytes) and worker thread, so a slow or
 * dead sink never stalls detection or the other channels: a full queue
 * drops the alert, counted and reported.  Failures are counted per
 * channel and reported on stderr, at most one line per channel every 10 s.
 * Each channel delivers in alert order.  The delivery guarantees of each
 * channel are stated at the top of its channel_*.c.
 *
 * Threads: outputs_emit, _flush, _reopen, _drain and _close are called one
 * at a time, never concurrently (the pipeline's emitter, then the main
 * thread at the end); _get_stats/_print_stats from any thread.
 *
 * Ownership: outputs_new copies what it needs from the config (the config
 * may be freed after it); outputs_close frees everything.  The records and
 * block handed to outputs_emit are copied before it returns.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_OUTPUTS_H
#define PEREGRINE_OUTPUTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/config.h"

typedef struct alert_rec {
    const char *text;
    size_t len;                 /* one rendered alert, including its trailing '\n' (text or JSON per json_output) */
    int prio;                   /* enum priority (rules/ruleset.h; PRI_EMERGENCY=0 .. PRI_DEBUG) */
    const char *rule;           /* rule name (for rate limiting / dedup / stats) */
} alert_rec;

typedef struct outputs outputs;

/* Build the enabled channels from the config and start their workers. NULL + message on error. */
outputs *outputs_new(const config *c, char *err, size_t errlen);
/* In alert order.  `block` is the concatenation of the records' texts
 * (stdout writes it in one go, flushed when buffered_outputs is false or
 * -U); other channels copy each record into their queue and never block
 * the caller (full queue => counted drop, reported).  Returns 0. */
int outputs_emit(outputs *o, const alert_rec *recs, size_t n, const char *block, size_t block_len);
void outputs_flush(outputs *o);             /* flush stdout (channels write as soon as they can) */
/* SIGUSR1: file_output reopens its file (logrotate) and program_output
 * restarts its program, after the alerts already queued.  The signal
 * handler only sets a flag; the pipeline's emitter calls this. */
void outputs_reopen(outputs *o);
/* End of input: let every channel deliver what is queued, as long as it
 * makes progress — a channel that delivers nothing for output_timeout ms
 * (receiver down, program not reading) is given up and what it still has
 * queued is dropped and counted.  Stats are final afterwards; outputs_emit
 * is a no-op. */
void outputs_drain(outputs *o);
/* Drain (if not done), stop workers, free. */
void outputs_close(outputs *o);

/* Per-channel lines for the statistics block: delivered, failed, dropped,
 * suppressed (rate limit/dedup).  Prints nothing when only stdout is
 * enabled and nothing was suppressed or lost, so Falco's block is unchanged. */
void outputs_print_stats(const outputs *o, FILE *out);

typedef struct outputs_channel_stats {
    const char *name;
    uint64_t delivered, failed, dropped, suppressed;
    size_t queued;
} outputs_channel_stats;
/* Fills up to max entries (stdout first, then in Falco's order); returns how many channels there are. */
size_t outputs_get_stats(const outputs *o, outputs_channel_stats *out, size_t max);

#endif
