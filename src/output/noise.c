/*
 * noise — per-rule token buckets and the dedup window (see noise.h).
 */
#include "output/noise.h"
#include "util/alloc.h"

#include <string.h>

#define DEDUP_SLOTS 4096

typedef struct bucket {
    char *rule;                 /* NULL: free slot */
    uint64_t hash;
    double tokens;
    int64_t last_ns;
} bucket;

typedef struct seen {
    uint64_t hash;              /* 0: free */
    int64_t at_ns;
} seen;

struct noise {
    noise_opts o;
    bucket *b;
    size_t nb, cap;             /* rules in the table, slots (power of two) */
    seen *d;
};

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV0 0xcbf29ce484222325ULL

noise *noise_new(const noise_opts *o)
{
    noise *n = pg_calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->o = *o;
    if (o->dedup && !(n->d = pg_calloc(DEDUP_SLOTS, sizeof *n->d))) {
        pg_free(n);
        return NULL;
    }
    return n;
}

void noise_free(noise *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->cap; i++)
        pg_free(n->b[i].rule);
    pg_free(n->b);
    pg_free(n->d);
    pg_free(n);
}

static bool starts(const char *p, const char *end, const char *lit)
{
    size_t l = strlen(lit);
    return (size_t)(end - p) >= l && !memcmp(p, lit, l);
}

/* Skip a JSON value that holds a time: a string (no escapes in times) or a number. */
static const char *skip_value(const char *p, const char *end)
{
    if (p < end && *p == '"') {
        for (p++; p < end && *p != '"'; p++) {
        }
        return p < end ? p + 1 : p;
    }
    while (p < end && *p != ',' && *p != '}')
        p++;
    return p;
}

uint64_t noise_alert_hash(const char *rule, const char *text, size_t len)
{
    uint64_t h = fnv(FNV0, rule, strlen(rule) + 1);
    const char *p = text, *end = text + len;
    if (p < end && *p != '{') {
        /* text line: "<time>: <Priority> <output>" — drop the time */
        const char *c = memmem(p, len, ": ", 2);
        return fnv(h, c ? c : p, (size_t)(end - (c ? c : p)));
    }
    const char *run = p; /* start of the bytes not hashed yet */
    while (p < end) {
        if (*p != '"') {
            p++;
            continue;
        }
        const char *skip_from = NULL, *resume = NULL;
        if (starts(p, end, "\"output\":\"")) {
            skip_from = p + 10;
            const char *c = memmem(skip_from, (size_t)(end - skip_from), ": ", 2);
            resume = c ? c : skip_from;
        } else if (starts(p, end, "\"time\":")) {
            skip_from = p + 7;
            resume = skip_value(skip_from, end);
        } else if (starts(p, end, "\"evt.time") || starts(p, end, "\"evt.rawtime") ||
                   starts(p, end, "\"evt.datetime")) {
            const char *c = memmem(p + 1, (size_t)(end - p - 1), "\":", 2);
            if (c) {
                skip_from = c + 2;
                resume = skip_value(skip_from, end);
            }
        }
        if (!skip_from) {
            p++;
            continue;
        }
        h = fnv(h, run, (size_t)(skip_from - run));
        run = p = resume;
    }
    return fnv(h, run, (size_t)(end - run));
}

static bucket *find_bucket(noise *n, const char *rule)
{
    if (2 * (n->nb + 1) > n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 64;
        bucket *b = pg_calloc(cap, sizeof *b);
        if (!b)
            return NULL;
        for (size_t i = 0; i < n->cap; i++) {
            if (!n->b[i].rule)
                continue;
            size_t k = n->b[i].hash & (cap - 1);
            while (b[k].rule)
                k = (k + 1) & (cap - 1);
            b[k] = n->b[i];
        }
        pg_free(n->b);
        n->b = b;
        n->cap = cap;
    }
    uint64_t h = fnv(FNV0, rule, strlen(rule));
    size_t k = h & (n->cap - 1);
    while (n->b[k].rule) {
        if (n->b[k].hash == h && !strcmp(n->b[k].rule, rule))
            return &n->b[k];
        k = (k + 1) & (n->cap - 1);
    }
    if (!(n->b[k].rule = pg_strdup(rule)))
        return NULL;
    n->b[k].hash = h;
    n->b[k].tokens = n->o.max_burst < 1 ? 1 : n->o.max_burst;
    n->b[k].last_ns = -1;
    n->nb++;
    return &n->b[k];
}

static bool take_token(const noise *n, bucket *b, int64_t now_ns)
{
    double burst = n->o.max_burst < 1 ? 1 : n->o.max_burst;
    if (b->last_ns >= 0 && now_ns > b->last_ns) {
        b->tokens += (double)(now_ns - b->last_ns) / 1e9 * n->o.rate;
        if (b->tokens > burst)
            b->tokens = burst;
    }
    b->last_ns = now_ns;
    if (b->tokens < 1)
        return false;
    b->tokens -= 1;
    return true;
}

bool noise_pass(noise *n, const char *rule, const char *text, size_t len, int64_t now_ns)
{
    if (!rule)
        rule = "";
    seen *s = NULL;
    uint64_t h = 0;
    if (n->o.dedup) {
        h = noise_alert_hash(rule, text, len);
        h |= !h; /* 0 marks a free slot */
        s = &n->d[h % DEDUP_SLOTS];
        if (s->hash == h && now_ns - s->at_ns < (int64_t)(n->o.window_s * 1e9))
            return false;
    }
    if (n->o.rate_limit) {
        bucket *b = find_bucket(n, rule);
        if (b && !take_token(n, b, now_ns))
            return false;
    }
    /* let through: the dedup window starts now */
    if (s) {
        s->hash = h;
        s->at_ns = now_ns;
    }
    return true;
}
