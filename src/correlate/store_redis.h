/*
 * store_redis — correlation state in Redis, shared by every replica (the
 * other implementation of store.h).  Each op is one script call
 * (redis_lua.h) that updates its key and decides firing atomically, so of
 * several replicas exactly one raises each alert; a chunk's ops go in one
 * pipelined round trip.  Keys are <prefix><correlation id, hex>:<group key>
 * and expire with their state (window, suppress or forget, plus the
 * lateness), so Redis holds no more than the process would.
 *
 * Faults: when Redis cannot be reached, errs or goes silent for the
 * timeout (no byte moved), the chunk's unanswered ops go to an in-process store instead
 * (counted as fallbacks, logged at most once a minute); the connection is
 * retried with a backoff (1 s doubling to 10 s), each try bounded by the
 * timeout, and updates go back to Redis as soon as it answers.
 *
 * Ownership: the store owns its connection and its fallback store; the
 * options' strings are copied.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_CORR_STORE_REDIS_H
#define PEREGRINE_CORR_STORE_REDIS_H

#include "correlate/store.h"

typedef struct redis_store_opts {
    const char *url;            /* redis://[user:password@]host:port[/db] or rediss:// */
    const char *key_prefix;     /* default "peregrine:" */
    const char *ca_file;        /* rediss://: PEM CAs (NULL: the system's) */
    int64_t timeout_ms;         /* connect; silence while a chunk is answered; default 200 */
    int64_t lateness_ns;        /* added to every expiry */
    mem_store_opts mem;         /* the fallback store's caps */
} redis_store_opts;

/* 0 with *out set (Redis reachable, or not yet: the store starts on its
 * fallback and says so in err, a warning for the log).  On a bad URL
 * (-EINVAL), refused credentials (-EACCES) or a TLS failure (-EPROTO), an
 * error with the reason in err and no store: the caller should not start. */
int redis_store_new(const redis_store_opts *o, corr_store **out, char *err, size_t errlen);

typedef struct redis_store_health {
    bool connected;
    uint64_t fallbacks;         /* ops applied in process because Redis failed */
    uint64_t round_trips;       /* pipelined exchanges with Redis */
} redis_store_health;

/* false when s is not a Redis store. Any thread. */
bool redis_store_health_get(corr_store *s, redis_store_health *out);

#endif
