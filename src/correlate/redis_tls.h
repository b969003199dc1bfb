/*
 * redis_tls — the client side of TLS for rediss:// (redis_conn.c), on
 * GnuTLS loaded at run time (util/dlsyms.h) like the webhook's: only a
 * run with a rediss:// store pays for it.  The server's certificate is
 * verified against the system's CAs, or ca_file, and its name.
 *
 * Ownership: redis_tls_open allocates *out; redis_tls_free releases it
 * (the socket stays the caller's).  send/recv behave like send(2)/recv(2)
 * on a non-blocking socket: -1 with errno EAGAIN when they would block.
 */
#ifndef PEREGRINE_CORR_REDIS_TLS_H
#define PEREGRINE_CORR_REDIS_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct redis_tls redis_tls;

/* 0, or -EPROTO with the reason (library missing, handshake, certificate). */
int redis_tls_open(redis_tls **out, int fd, const char *host, const char *ca_file, int64_t deadline_ms, char *err,
                   size_t errlen);
ssize_t redis_tls_send(redis_tls *t, const void *p, size_t n);
ssize_t redis_tls_recv(redis_tls *t, void *p, size_t n);
void redis_tls_free(redis_tls *t);

#endif
