/*
 * redis_lua — the server-side scripts of the Redis store (store_redis.c),
 * one per kind of update.  Each script reads one key's state, applies one
 * op with exactly the in-process store's rules (store_mem.c) and writes it
 * back with its expiry, atomically, so the replica whose update crosses a
 * threshold is the only one told to fire.
 *
 * Event times travel as (seconds, nanoseconds) pairs: Redis's Lua numbers
 * are doubles, exact only to 2^53, and ns since the epoch need 61 bits.
 *
 * Arguments (ARGV), common to all:  1,2 time  3,4 suppress  5 expiry (ms)
 *   event_count  6,7 window  8 threshold  9 sample  10 "1" when a sample
 *   value_count  6,7 window  8 threshold  9 value hash  10 sample
 *   ordered, temporal  6,7 window  8 steps  9 step (from 0)  10 step record
 *   new_value    6,7 learn  8,9 forget  10 tuple hash  11 tuples per key
 *   suppress     -
 *   cancel       (no arguments)
 * Reply: {fire, count, distinct, suppressed, first s, first ns, last s,
 * last ns, hit suppressed, key reset, payload}; the payload is the values
 * (each followed by a NUL) or the step records, as store.h lays them out.
 *
 * Ownership: static strings.
 */
#ifndef PEREGRINE_CORR_REDIS_LUA_H
#define PEREGRINE_CORR_REDIS_LUA_H

#include "correlate/store.h"

enum { RL_EVENT_COUNT, RL_VALUE_COUNT, RL_ORDERED, RL_TEMPORAL, RL_NEW_VALUE, RL_SUPPRESS, RL_CANCEL, RL_NSCRIPTS };

/* The body of script i (the shared prelude included). Built once; static. */
const char *redis_lua_script(int i);

#endif
