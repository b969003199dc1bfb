/*
 * store_redis — correlation state in Redis (see store_redis.h).
 */
#include "correlate/store_redis.h"
#include "correlate/redis_conn.h"
#include "correlate/redis_lua.h"
#include "correlate/store_mem.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define NS 1000000000ll
#define SAMPLE_MAX 128              /* as store_mem.c keeps of a value */
#define STATS_SLOTS 1024            /* correlations counted (open addressing) */
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 10000
#define LOG_EVERY_MS 60000
#define NEW_VALUE_KEEP_NS (30 * 86400 * NS)   /* a new_value key without `forget` */

typedef struct stat_slot {
    _Atomic uint64_t id;            /* 0: free */
    _Atomic uint64_t alerts, suppressed, evictions;
} stat_slot;

typedef struct redis_store {
    corr_store base;
    char *prefix;
    int64_t timeout_ms, lateness_ns;
    uint32_t max_values;
    redis_conn *c;
    corr_store *mem;                /* the fallback */
    char sha[RL_NSCRIPTS][41];
    int64_t retry_at, backoff_ms, last_log_ms;
    bool down_logged;
    redisReply **rep;
    size_t *pend;               /* ops not yet decided, in order */
    size_t caprep;
    buf key;
    _Atomic bool connected;
    _Atomic uint64_t fallbacks, round_trips;
    stat_slot stats[STATS_SLOTS];
} redis_store;

static const corr_store_vt redis_vt;

/* ------------------------------------------------------------ stats */

static stat_slot *stat_for(redis_store *r, uint64_t id, bool create)
{
    uint64_t key = id ? id : 1;
    for (size_t i = 0, j = corr_hash(&key, sizeof key) & (STATS_SLOTS - 1); i < STATS_SLOTS;
         i++, j = (j + 1) & (STATS_SLOTS - 1)) {
        uint64_t cur = atomic_load(&r->stats[j].id);
        if (cur == key)
            return &r->stats[j];
        if (!cur) {
            if (!create)
                return NULL;
            atomic_store(&r->stats[j].id, key);
            return &r->stats[j];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ connection */

static void say(redis_store *r, const char *fmt, const char *why)
{
    int64_t now = redis_now_ms();
    if (r->last_log_ms && now - r->last_log_ms < LOG_EVERY_MS)
        return;
    r->last_log_ms = now;
    log_msg(fmt, why);
}

static int load_scripts(redis_store *r, int64_t deadline, char *err, size_t errlen)
{
    for (int i = 0; i < RL_NSCRIPTS; i++) {
        const char *body = redis_lua_script(i);
        const char *argv[] = {"SCRIPT", "LOAD", body};
        size_t lens[] = {6, 4, strlen(body)};
        int rc = redis_conn_append(r->c, 3, argv, lens);
        if (rc)
            return rc;
    }
    redisReply *rep[RL_NSCRIPTS] = {0};
    size_t got = 0;
    int rc = redis_conn_exchange(r->c, rep, RL_NSCRIPTS, &got, deadline, 0, err, errlen);
    for (size_t i = 0; i < got; i++) {
        if (!rc && (rep[i]->type != REDIS_REPLY_STRING || rep[i]->len != 40)) {
            snprintf(err, errlen, "SCRIPT LOAD: %s", rep[i]->type == REDIS_REPLY_ERROR ? rep[i]->str : "bad reply");
            rc = -EIO;
        } else if (!rc) {
            memcpy(r->sha[i], rep[i]->str, 40);
            r->sha[i][40] = 0;
        }
        freeReplyObject(rep[i]);
    }
    if (rc)
        redis_conn_close(r->c);
    return rc;
}

static int connect_now(redis_store *r, char *err, size_t errlen)
{
    int64_t deadline = redis_now_ms() + r->timeout_ms;
    int rc = redis_conn_open(r->c, deadline, err, errlen);
    if (!rc)
        rc = load_scripts(r, deadline, err, errlen);
    atomic_store(&r->connected, rc == 0);
    return rc;
}

static void failed(redis_store *r, const char *why)
{
    if (redis_conn_is_open(r->c))
        redis_conn_close(r->c);
    atomic_store(&r->connected, false);
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (r->backoff_ms > BACKOFF_MAX_MS)
        r->backoff_ms = BACKOFF_MAX_MS;
    r->retry_at = redis_now_ms() + r->backoff_ms;
    say(r, "correlations: Redis store unavailable (%s); state updates go to this process until it answers", why);
    r->down_logged = true;
}

/* Whether Redis can take this chunk (reconnecting when the backoff says so). */
static bool usable(redis_store *r)
{
    if (redis_conn_is_open(r->c))
        return true;
    if (redis_now_ms() < r->retry_at)
        return false;
    char err[512];
    if (connect_now(r, err, sizeof err)) {
        failed(r, err);
        return false;
    }
    r->backoff_ms = 0;
    if (r->down_logged)
        log_msg("correlations: Redis store answers again; state updates go there");
    r->down_logged = false;
    r->last_log_ms = 0;
    return true;
}

/* ------------------------------------------------------------ ops */

static void split(int64_t t, char *s, char *n)
{
    int64_t sec = t / NS, ns = t % NS;
    if (ns < 0) {
        ns += NS;
        sec--;
    }
    sprintf(s, "%" PRId64, sec);
    sprintf(n, "%" PRId64, ns);
}

static int64_t max3(int64_t a, int64_t b, int64_t c)
{
    int64_t m = a > b ? a : b;
    return m > c ? m : c;
}

static int script_of(const store_op *op)
{
    if (op->kind == SOP_CANCEL)
        return RL_CANCEL;
    switch (op->p->type) {
    case CORR_EVENT_COUNT: return RL_EVENT_COUNT;
    case CORR_VALUE_COUNT: return RL_VALUE_COUNT;
    case CORR_TEMPORAL: return RL_TEMPORAL;
    case CORR_TEMPORAL_ORDERED: return RL_ORDERED;
    case CORR_NEW_VALUE: return RL_NEW_VALUE;
    case CORR_SUPPRESS_ONLY: return RL_SUPPRESS;
    }
    return RL_SUPPRESS;
}

/* How long (ms of wall time) a key of p outlives its last update. */
static int64_t expiry_ms(const redis_store *r, const corr_params *p)
{
    int64_t keep = p->type == CORR_NEW_VALUE
                       ? max3(p->forget_ns ? p->forget_ns : NEW_VALUE_KEEP_NS, p->learn_ns, p->suppress_ns)
                       : max3(p->window_ns, p->suppress_ns, 0);
    keep += r->lateness_ns;
    int64_t ms = keep / 1000000 + 1000;
    return ms > 0 ? ms : 1000;
}

/* Queue op's script call. */
static int queue_op(redis_store *r, const store_op *op)
{
    const corr_params *p = op->p;
    int sc = script_of(op);
    buf_clear(&r->key);
    buf_printf(&r->key, "%s%016" PRIx64 ":", r->prefix, p->id);
    buf_put(&r->key, op->key, op->keylen);
    if (r->key.oom)
        return -ENOMEM;
    char num[12][24];
    const char *argv[16];
    size_t lens[16];
    int n = 0;
#define ARG(s, l) (argv[n] = (s), lens[n] = (l), n++)
#define ARGS(s) ARG(s, strlen(s))
    ARGS("EVALSHA");
    ARG(r->sha[sc], 40);
    ARGS("1");
    ARG(r->key.data, r->key.len);
    if (sc != RL_CANCEL) {
        split(op->ts, num[0], num[1]);
        split(p->suppress_ns, num[2], num[3]);
        sprintf(num[4], "%" PRId64, expiry_ms(r, p));
        for (int i = 0; i < 5; i++)
            ARGS(num[i]);
    }
    char hash[24];
    switch (sc) {
    case RL_EVENT_COUNT:
    case RL_VALUE_COUNT:
        split(p->window_ns, num[5], num[6]);
        sprintf(num[7], "%" PRIu64, p->threshold);
        ARGS(num[5]);
        ARGS(num[6]);
        ARGS(num[7]);
        if (sc == RL_EVENT_COUNT) {
            ARG(op->value ? op->value : "", op->value ? (op->vlen > SAMPLE_MAX ? SAMPLE_MAX : op->vlen) : 0);
            ARGS(op->value ? "1" : "0");
        } else {
            sprintf(hash, "%016" PRIx64, corr_hash(op->value ? op->value : "", op->vlen));
            ARGS(hash);
            ARG(op->value ? op->value : "", op->vlen > SAMPLE_MAX ? SAMPLE_MAX : op->vlen);
        }
        break;
    case RL_ORDERED:
    case RL_TEMPORAL:
        split(p->window_ns, num[5], num[6]);
        sprintf(num[7], "%" PRIu32, p->nsteps);
        sprintf(num[8], "%" PRIu32, op->step);
        ARGS(num[5]);
        ARGS(num[6]);
        ARGS(num[7]);
        ARGS(num[8]);
        ARG(op->info ? op->info : "", op->info ? op->infolen : 0);
        break;
    case RL_NEW_VALUE:
        split(p->learn_ns, num[5], num[6]);
        split(p->forget_ns, num[7], num[8]);
        sprintf(hash, "%016" PRIx64, corr_hash(op->value ? op->value : "", op->vlen) | 1);
        sprintf(num[9], "%" PRIu32, r->max_values);
        for (int i = 5; i < 9; i++)
            ARGS(num[i]);
        ARGS(hash);
        ARGS(num[9]);
        break;
    }
#undef ARG
#undef ARGS
    return redis_conn_append(r->c, n, argv, lens);
}

static int64_t join(long long s, long long n)
{
    return (int64_t)s * NS + (int64_t)n;
}

/* Read one script's reply into op; false when it is not one (an error). */
static bool take_reply(redis_store *r, store_op *op, const redisReply *x, buf *out)
{
    if (op->kind == SOP_CANCEL)
        return x->type == REDIS_REPLY_INTEGER;
    if (x->type != REDIS_REPLY_ARRAY || x->elements != 11)
        return false;
    for (int i = 0; i < 10; i++)
        if (x->element[i]->type != REDIS_REPLY_INTEGER)
            return false;
    const redisReply *pl = x->element[10];
    if (pl->type != REDIS_REPLY_STRING)
        return false;
    long long v[10];
    for (int i = 0; i < 10; i++)
        v[i] = x->element[i]->integer;
    op->fire = v[0] != 0;
    op->count = (uint64_t)v[1];
    op->distinct = (uint64_t)v[2];
    op->suppressed = (uint64_t)v[3];
    op->first_ts = join(v[4], v[5]);
    op->last_ts = join(v[6], v[7]);
    stat_slot *st = stat_for(r, op->p->id, true);
    if (st) {
        atomic_fetch_add(&st->alerts, op->fire);
        atomic_fetch_add(&st->suppressed, v[8] != 0);
        atomic_fetch_add(&st->evictions, v[9] != 0);
    }
    if (!op->fire)
        return true;
    const corr_type t = op->p->type;
    if (t == CORR_TEMPORAL || t == CORR_TEMPORAL_ORDERED) {
        op->steps_off = out->len;
        buf_put(out, pl->str, pl->len);
        op->steps_len = pl->len;
    } else if (t == CORR_NEW_VALUE) {
        op->values_off = out->len;
        if (op->value) {
            buf_put(out, op->value, op->vlen > SAMPLE_MAX ? SAMPLE_MAX : op->vlen);
            buf_putc(out, 0);
        }
        op->values_len = out->len - op->values_off;
    } else if (t != CORR_SUPPRESS_ONLY) {
        op->values_off = out->len;
        buf_put(out, pl->str, pl->len);
        op->values_len = pl->len;
    }
    return true;
}

static int reserve(redis_store *r, size_t n)
{
    if (n <= r->caprep)
        return 0;
    size_t cap = r->caprep ? r->caprep : 256;
    while (cap < n)
        cap *= 2;
    redisReply **rep = pg_realloc(r->rep, cap * sizeof *rep);
    if (!rep)
        return -ENOMEM;
    r->rep = rep;
    size_t *pend = pg_realloc(r->pend, cap * sizeof *pend);
    if (!pend)
        return -ENOMEM;
    r->pend = pend;
    r->caprep = cap;
    return 0;
}

static bool is_noscript(const redisReply *x)
{
    return x->type == REDIS_REPLY_ERROR && !strncmp(x->str, "NOSCRIPT", 8);
}

/* An error that this server will keep giving (it became a replica in a
 * failover, is loading its data, lost its primary): connect again, and
 * the address may lead to the new primary. */
static bool is_wrong_server(const redisReply *x)
{
    return x->type == REDIS_REPLY_ERROR &&
           (!strncmp(x->str, "READONLY", 8) || !strncmp(x->str, "LOADING", 7) || !strncmp(x->str, "MASTERDOWN", 10));
}

/* One pipelined exchange of the ops listed in pend[0..np); those Redis
 * decided are removed from the list, the others stay (in order).  Sets
 * *noscript when Redis had lost the scripts. */
static int exchange(redis_store *r, store_op *ops, size_t *np, buf *out, bool *noscript)
{
    size_t n = *np, got = 0;
    int rc = 0;
    for (size_t k = 0; k < n && !rc; k++)
        rc = queue_op(r, &ops[r->pend[k]]);
    char err[512] = "";
    if (rc) {
        snprintf(err, sizeof err, "out of memory");
        redis_conn_close(r->c);
    } else {
        rc = redis_conn_exchange(r->c, r->rep, n, &got, redis_now_ms() + r->timeout_ms, r->timeout_ms, err,
                                 sizeof err);
    }
    atomic_fetch_add(&r->round_trips, 1);
    size_t keep = 0;
    bool wrong = false;
    *noscript = false;
    for (size_t k = 0; k < n; k++) {
        store_op *op = &ops[r->pend[k]];
        op->fire = false;
        op->count = op->distinct = op->suppressed = 0;
        op->values_len = op->steps_len = 0;
        bool ok = false;
        if (k < got) {
            if (is_noscript(r->rep[k]))
                *noscript = true;
            else if (!(ok = take_reply(r, op, r->rep[k], out)))
                snprintf(err, sizeof err, "%s", r->rep[k]->type == REDIS_REPLY_ERROR ? r->rep[k]->str : "bad reply");
            wrong = wrong || is_wrong_server(r->rep[k]);
            freeReplyObject(r->rep[k]);
        }
        if (!ok)
            r->pend[keep++] = r->pend[k];
    }
    *np = keep;
    if (!rc && wrong)
        rc = -EIO;
    if (rc)
        failed(r, err);
    else if (keep && !*noscript)
        say(r, "correlations: Redis store refused updates (%s); they went to this process", err);
    return rc;
}

static int redis_apply(corr_store *s, store_op *ops, size_t n, buf *out)
{
    redis_store *r = (redis_store *)s;
    if (reserve(r, n))
        return -ENOMEM;
    size_t np = n;
    for (size_t i = 0; i < n; i++)
        r->pend[i] = i;
    for (int attempt = 0; np && attempt < 2 && usable(r); attempt++) {
        bool noscript;
        if (exchange(r, ops, &np, out, &noscript) || !noscript)
            break;
        char err[512];
        if (load_scripts(r, redis_now_ms() + r->timeout_ms, err, sizeof err)) {
            failed(r, err);
            break;
        }
    }
    /* what Redis did not decide, this process does */
    for (size_t k = 0; k < np; k++) {
        int rc = store_apply(r->mem, &ops[r->pend[k]], 1, out);
        if (rc)
            return rc;
    }
    atomic_fetch_add(&r->fallbacks, np);
    return out->oom ? -ENOMEM : 0;
}

static void redis_retain(corr_store *s, const uint64_t *ids, size_t n)
{
    redis_store *r = (redis_store *)s;
    /* Redis keys of dropped correlations expire by themselves */
    r->mem->vt->retain(r->mem, ids, n);
}

static void redis_get_stats(corr_store *s, uint32_t slot, uint64_t id, corr_stats *out)
{
    redis_store *r = (redis_store *)s;
    r->mem->vt->get_stats(r->mem, slot, id, out);
    stat_slot *st = stat_for(r, id, false);
    if (st) {
        out->alerts += atomic_load(&st->alerts);
        out->suppressed += atomic_load(&st->suppressed);
        out->evictions += atomic_load(&st->evictions);
    }
}

static uint64_t redis_bytes(corr_store *s)
{
    redis_store *r = (redis_store *)s;
    return r->mem->vt->bytes(r->mem);
}

static void redis_free(corr_store *s)
{
    redis_store *r = (redis_store *)s;
    if (!r)
        return;
    redis_conn_free(r->c);
    if (r->mem)
        r->mem->vt->free(r->mem);
    pg_free(r->rep);
    pg_free(r->pend);
    pg_free(r->prefix);
    buf_free(&r->key);
    pg_free(r);
}

static const corr_store_vt redis_vt = {redis_apply, redis_retain, redis_get_stats, redis_bytes, redis_free};

int redis_store_new(const redis_store_opts *o, corr_store **out, char *err, size_t errlen)
{
    *out = NULL;
    err[0] = 0;
    redis_url u;
    int rc = redis_url_parse(o->url, &u, err, errlen);
    if (rc)
        return rc;
    redis_store *r = pg_calloc(1, sizeof *r);
    if (!r || !(r->prefix = pg_strdup(o->key_prefix ? o->key_prefix : "peregrine:")) ||
        !(r->c = redis_conn_new(&u, o->ca_file)) || !(r->mem = mem_store_new(&o->mem))) {
        redis_free(r ? &r->base : NULL);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r->base.vt = &redis_vt;
    r->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 200;
    r->lateness_ns = o->lateness_ns > 0 ? o->lateness_ns : 60 * NS;
    r->max_values = o->mem.max_values ? o->mem.max_values : 10000;
    /* the first connection may take longer than one chunk's answer */
    int64_t t = r->timeout_ms < 2000 ? 2000 : r->timeout_ms;
    int64_t saved = r->timeout_ms;
    r->timeout_ms = t;
    rc = connect_now(r, err, errlen);
    r->timeout_ms = saved;
    if (rc == -EACCES || rc == -EPROTO || rc == -ENOMEM) {
        redis_free(&r->base);
        return rc;
    }
    if (rc) {
        char why[600];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "Redis store not reachable yet (%s): state updates stay in this process until it answers",
                 why);
        r->down_logged = true;
        r->backoff_ms = BACKOFF_MIN_MS;
        r->retry_at = redis_now_ms() + r->backoff_ms;
        r->last_log_ms = redis_now_ms();
    }
    *out = &r->base;
    return 0;
}

bool redis_store_health_get(corr_store *s, redis_store_health *out)
{
    memset(out, 0, sizeof *out);
    if (!s || s->vt != &redis_vt)
        return false;
    redis_store *r = (redis_store *)s;
    *out = (redis_store_health){atomic_load(&r->connected), atomic_load(&r->fallbacks), atomic_load(&r->round_trips)};
    return true;
}
