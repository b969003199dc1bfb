/*
 * log — diagnostics on stderr.  Alerts never go through here.
 *
 * log_msg() prefixes the wall-clock time like Falco's own log lines;
 * log_k8saudit_to() reproduces the k8saudit plugin's Go log format
 * ("YYYY/MM/DD HH:MM:SS [k8saudit] msg") for input errors, because users
 * grep for those lines.
 */
#ifndef PEREGRINE_LOG_H
#define PEREGRINE_LOG_H

#include <stddef.h>

void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_set_quiet(int quiet);
int log_is_quiet(void);

/* Deferred logging: worker threads format their messages into a buffer
 * (log_k8saudit_to: the plugin's format; log_msg_to: log_msg's) and the pipeline's writer emits them in
 * input order with log_write(). */
struct buf;
void log_k8saudit_to(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same text as log_msg, into a buffer. */
void log_msg_to(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_write(const char *text, size_t len);
/* Everything above goes through one rate limit (log.c: bursts of 5000
 * lines, then 100 a second); the lines it held back, in all. */
#include <stdint.h>
uint64_t log_suppressed_total(void);

/* An external-logger callback (libmicrohttpd's MHD_OPTION_EXTERNAL_LOGGER):
 * `prefix` (a string) names the server, trailing newlines are dropped. */
#include <stdarg.h>
void log_prefixed_v(void *prefix, const char *fmt, va_list ap);

#endif
