/*
 * redis_conn — one connection to a Redis server for the Redis store:
 * the URL (redis://[user:password@]host:port[/db], rediss:// for TLS),
 * connect + TLS + AUTH + SELECT, and pipelined commands sent and their
 * replies read against one deadline, so a slow or dead server costs a
 * bounded wait, never a hang.  Commands are formatted and replies parsed
 * by hiredis; the socket (and TLS, through GnuTLS) is ours.
 *
 * Ownership: the caller owns the redis_conn (redis_conn_free) and each
 * reply it is handed (freeReplyObject).  Not thread-safe.
 * Errors: 0 or a negative errno, with a message in err:
 *   -EACCES  authentication refused (wrong password, unknown user)
 *   -EPROTO  TLS failed (handshake, certificate)
 *   other    the server cannot be reached or did not answer in time.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_CORR_REDIS_CONN_H
#define PEREGRINE_CORR_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

typedef struct redis_url {
    char host[256];
    int port;
    char user[128], pass[256];
    int db;
    bool tls;
} redis_url;

/* 0, or -EINVAL with what is wrong in err. */
int redis_url_parse(const char *url, redis_url *u, char *err, size_t errlen);

typedef struct redis_conn redis_conn;

/* ca_file: PEM CAs for rediss:// (NULL: the system's). */
redis_conn *redis_conn_new(const redis_url *u, const char *ca_file);
void redis_conn_free(redis_conn *c);

/* Connect, handshake, authenticate and select the database, all by
 * deadline_ms (CLOCK_MONOTONIC). */
int redis_conn_open(redis_conn *c, int64_t deadline_ms, char *err, size_t errlen);
void redis_conn_close(redis_conn *c);
bool redis_conn_is_open(const redis_conn *c);

/* Queue one command (argv of argc binary-safe strings). */
int redis_conn_append(redis_conn *c, int argc, const char **argv, const size_t *argvlen);
/* Send what is queued and read n replies, in order, into r[] (*got of
 * them); 0, or a negative errno (the connection is then closed; the
 * replies read so far are in r[]).  The exchange fails at deadline_ms, or,
 * with idle_ms > 0, once the server has moved no byte for idle_ms past it:
 * a server answering a long pipeline steadily is not a slow one. */
int redis_conn_exchange(redis_conn *c, redisReply **r, size_t n, size_t *got, int64_t deadline_ms,
                        int64_t idle_ms, char *err, size_t errlen);

int64_t redis_now_ms(void);

#endif
