/*
 * store_mem — the in-process correlation store (see store.h).
 *
 * Per correlation a hash table of groups (one per key); every group is on
 * two least-recently-updated lists, its correlation's (max_groups) and the
 * store's (max_bytes), so either cap evicts the key that has waited
 * longest.  Evicting a key can only lose an alert, never make one: counts
 * restart from zero, a sequence from its first step, and new_value's key
 * learns again before it may alert.
 *
 * What a key holds, bounded by its correlation's definition:
 *   event_count   the newest `threshold` event times, sorted
 *   value_count   at most `threshold` (value, last seen) pairs
 *   temporal*     per step the newest partial match (start, end, records)
 *   new_value     the set of tuple hashes with their last sighting
 * Within the lateness, an event older than the ones held is inserted in
 * time order; a count that crossed the threshold with events that arrived
 * late fires as it would have in order (windows are no shorter than the
 * lateness in any sensible configuration; see README "Stateful detection").
 */
#include "correlate/store.h"
#include "correlate/store_mem.h"
#include "util/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t corr_hash(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

static uint64_t key_seed;
static pthread_once_t key_seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
        s = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
    key_seed = s | 1;
}

static inline uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

uint64_t corr_key_hash(const void *p, size_t n)
{
    pthread_once(&key_seed_once, seed_init);
    const unsigned char *s = p;
    uint64_t h = key_seed ^ (n * 0x9e3779b97f4a7c15ull);
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = mix(h ^ w) * 0x9e3779b97f4a7c15ull;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    return mix(h ^ w) | 1;
}

/* ------------------------------------------------------------ groups */

size_t mem_group_bytes(const cstate *cs, const group *g)
{
    size_t b = sizeof *g + g->keycap + g->strbytes;
    switch (cs->type) {
    case CORR_EVENT_COUNT: b += g->cap * sizeof(int64_t); break;
    case CORR_VALUE_COUNT: b += g->cap * sizeof(gval); break;
    case CORR_TEMPORAL:
    case CORR_TEMPORAL_ORDERED: b += cs->nsteps * sizeof(gstep); break;
    case CORR_NEW_VALUE: b += g->cap * sizeof(gtuple); break;
    case CORR_SUPPRESS_ONLY: break;
    }
    return b;
}

/* Strings a group owns, their bytes counted in g->strbytes. */
char *gstr_dup(group *g, const char *s, size_t n)
{
    char *p = pg_strndup(s, n);
    if (p)
        g->strbytes += (uint32_t)n + 1;
    return p;
}

void gstr_free(group *g, char *p)
{
    if (!p)
        return;
    g->strbytes -= (uint32_t)strlen(p) + 1;
    pg_free(p);
}

void group_clear(cstate *cs, group *g)
{
    for (uint32_t i = 0; i < g->nsamples; i++)
        gstr_free(g, g->samples[i]);
    g->nsamples = 0;
    if (cs->type == CORR_VALUE_COUNT)
        for (uint32_t i = 0; i < g->n; i++)
            gstr_free(g, g->vals[i].s);
    if (g->steps)
        for (uint32_t i = 0; i < cs->nsteps; i++) {
            gstr_free(g, g->steps[i].info);
            g->steps[i] = (gstep){0};
        }
    g->n = 0;
    if (cs->type == CORR_NEW_VALUE && g->tuples)
        memset(g->tuples, 0, g->cap * sizeof *g->tuples);
}

static void group_free(cstate *cs, group *g)
{
    group_clear(cs, g);
    pg_free(g->ts);
    pg_free(g->vals);
    pg_free(g->steps);
    pg_free(g->tuples);
    pg_free(g);
}

static void lru_unlink(group **head, group **tail, group *g, int w)
{
    group *p = g->lru[w].prev, *n = g->lru[w].next;
    if (p)
        p->lru[w].next = n;
    else
        *head = n;
    if (n)
        n->lru[w].prev = p;
    else
        *tail = p;
    g->lru[w].prev = g->lru[w].next = NULL;
}

static void lru_push(group **head, group **tail, group *g, int w)
{
    g->lru[w].prev = NULL;
    g->lru[w].next = *head;
    if (*head)
        (*head)->lru[w].prev = g;
    *head = g;
    if (!*tail)
        *tail = g;
}

static void touch(mem_store *m, cstate *cs, group *g)
{
    lru_unlink(&cs->lru_head, &cs->lru_tail, g, 0);
    lru_push(&cs->lru_head, &cs->lru_tail, g, 0);
    lru_unlink(&m->lru_head, &m->lru_tail, g, 1);
    lru_push(&m->lru_head, &m->lru_tail, g, 1);
}

static void account(mem_store *m, group *g, size_t before)
{
    size_t now = mem_group_bytes(g->cs, g);
    m->bytes += now;
    m->bytes -= before;
}

/* Take g out of its table and lists (its memory stays). */
static void group_unlink(mem_store *m, group *g)
{
    cstate *cs = g->cs;
    group **pp = &cs->tab[g->hash & cs->mask];
    while (*pp != g)
        pp = &(*pp)->hnext;
    *pp = g->hnext;
    lru_unlink(&cs->lru_head, &cs->lru_tail, g, 0);
    lru_unlink(&m->lru_head, &m->lru_tail, g, 1);
    m->bytes -= mem_group_bytes(cs, g);
    cs->nkeys--;
}

static void group_remove(mem_store *m, group *g)
{
    group_unlink(m, g);
    group_free(g->cs, g);
}

static void evict(mem_store *m, group *g)
{
    cstate *cs = g->cs;
    cs->evictions++;
    m->evictions++;
    group_unlink(m, g);
    if (cs->spare) {
        group_free(cs, g);
        return;
    }
    group_clear(cs, g);
    cs->spare = g;
}

/* The spare group made ready for a new key, or NULL. */
static group *reuse_spare(cstate *cs, size_t keylen)
{
    group *g = cs->spare;
    if (!g || g->keycap < keylen)
        return NULL;
    cs->spare = NULL;
    if (g->tuples && g->cap > 64) {     /* a big new_value set: start small again */
        pg_free(g->tuples);
        g->tuples = NULL;
    }
    group keep = *g;
    memset(g, 0, sizeof *g);
    g->keycap = keep.keycap;
    g->cap = keep.cap;
    g->ts = keep.ts;
    g->vals = keep.vals;
    g->steps = keep.steps;
    g->tuples = keep.tuples;
    if (cs->type == CORR_NEW_VALUE && !g->tuples)
        g->cap = 0;
    return g;
}

static int grow_table(cstate *cs)
{
    size_t ncap = (cs->mask + 1) * 2;
    group **nt = pg_calloc(ncap, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i <= cs->mask; i++)
        for (group *g = cs->tab[i], *next; g; g = next) {
            next = g->hnext;
            g->hnext = nt[g->hash & (ncap - 1)];
            nt[g->hash & (ncap - 1)] = g;
        }
    pg_free(cs->tab);
    cs->tab = nt;
    cs->mask = ncap - 1;
    return 0;
}

/* The type's arrays (kept when g is a recycled group). */
static int group_init(cstate *cs, group *g)
{
    switch (cs->type) {
    case CORR_EVENT_COUNT:
        g->cap = cs->threshold ? (uint32_t)cs->threshold : 1;
        return g->ts || (g->ts = pg_calloc(g->cap, sizeof *g->ts)) ? 0 : -ENOMEM;
    case CORR_VALUE_COUNT:
        g->cap = cs->threshold ? (uint32_t)cs->threshold : 1;
        return g->vals || (g->vals = pg_calloc(g->cap, sizeof *g->vals)) ? 0 : -ENOMEM;
    case CORR_TEMPORAL:
    case CORR_TEMPORAL_ORDERED:
        return g->steps || (g->steps = pg_calloc(cs->nsteps ? cs->nsteps : 1, sizeof *g->steps)) ? 0 : -ENOMEM;
    case CORR_NEW_VALUE:
        if (g->tuples)
            return 0;
        g->cap = 8;
        return (g->tuples = pg_calloc(g->cap, sizeof *g->tuples)) ? 0 : -ENOMEM;
    case CORR_SUPPRESS_ONLY:
        return 0;
    }
    return 0;
}

/* The group of key in cs, created (evicting as the caps require) when
 * absent.  NULL only when out of memory. */
group *mem_group(mem_store *m, cstate *cs, const char *key, size_t keylen, uint64_t h, bool create)
{
    if (!h)
        h = corr_key_hash(key, keylen);
    for (group *g = cs->tab[h & cs->mask]; g; g = g->hnext)
        if (g->hash == h && g->keylen == keylen && !memcmp(g->key, key, keylen))
            return g;
    if (!create)
        return NULL;
    while (cs->nkeys >= m->o.max_groups && cs->lru_tail)
        evict(m, cs->lru_tail);
    while (m->bytes > m->o.max_bytes && m->lru_tail)
        evict(m, m->lru_tail);
    if (cs->nkeys >= (cs->mask + 1) && grow_table(cs))
        return NULL;
    group *g = reuse_spare(cs, keylen);
    if (!g) {
        size_t keycap = keylen < 48 ? 48 : keylen;
        if (!(g = pg_calloc(1, sizeof *g + keycap + 1)))
            return NULL;
        g->keycap = (uint32_t)keycap;
    }
    g->cs = cs;
    g->hash = h;
    g->keylen = (uint32_t)keylen;
    memcpy(g->key, key, keylen);
    g->key[keylen] = 0;
    if (group_init(cs, g)) {
        group_free(cs, g);
        return NULL;
    }
    g->hnext = cs->tab[h & cs->mask];
    cs->tab[h & cs->mask] = g;
    lru_push(&cs->lru_head, &cs->lru_tail, g, 0);
    lru_push(&m->lru_head, &m->lru_tail, g, 1);
    cs->nkeys++;
    m->bytes += mem_group_bytes(cs, g);
    return g;
}

/* ------------------------------------------------------------ states */

cstate *mem_cstate(mem_store *m, uint64_t id, corr_type type, uint32_t nsteps, uint64_t threshold, bool create)
{
    for (cstate *cs = m->states; cs; cs = cs->next)
        if (cs->id == id)
            return cs;
    if (!create)
        return NULL;
    cstate *cs = pg_calloc(1, sizeof *cs);
    if (!cs || !(cs->tab = pg_calloc(64, sizeof *cs->tab))) {
        pg_free(cs);
        return NULL;
    }
    cs->mask = 63;
    cs->id = id;
    cs->type = type;
    cs->nsteps = nsteps;
    cs->threshold = threshold;
    cs->next = m->states;
    m->states = cs;
    return cs;
}

static void cstate_free(mem_store *m, cstate *cs)
{
    while (cs->lru_head)
        group_remove(m, cs->lru_head);
    if (cs->spare)
        group_free(cs, cs->spare);
    pg_free(cs->tab);
    pg_free(cs);
}

static void drop_cstate(mem_store *m, cstate *cs)
{
    for (cstate **pp = &m->states; *pp; pp = &(*pp)->next)
        if (*pp == cs) {
            *pp = cs->next;
            break;
        }
    memset(m->by_slot, 0, sizeof m->by_slot);
    cstate_free(m, cs);
}

static int mem_apply(corr_store *s, store_op *ops, size_t n, buf *out)
{
    mem_store *m = (mem_store *)s;
    for (size_t i = 0; i < n; i++) {
        store_op *op = &ops[i];
        const corr_params *p = op->p;
        op->fire = false;
        op->count = op->distinct = op->suppressed = 0;
        op->values_len = op->steps_len = 0;
        cstate *cs = p->slot < 256 ? m->by_slot[p->slot] : NULL;
        if (!cs || cs->id != p->id) {
            if (!(cs = mem_cstate(m, p->id, p->type, p->nsteps, p->threshold, true)))
                return -ENOMEM;
            if (cs->type != p->type || cs->nsteps != p->nsteps || cs->threshold != p->threshold) {
                /* a state of another shape under this id (a state file
                 * from elsewhere): dropped, never read as this one */
                drop_cstate(m, cs);
                if (!(cs = mem_cstate(m, p->id, p->type, p->nsteps, p->threshold, true)))
                    return -ENOMEM;
            }
            if (p->slot < 256)
                m->by_slot[p->slot] = cs;
        }
        cs->slot = p->slot;
        group *g = mem_group(m, cs, op->key, op->keylen, op->keyhash, op->kind == SOP_HIT);
        if (!g) {
            if (op->kind == SOP_HIT)
                return -ENOMEM;
            continue;
        }
        size_t before = mem_group_bytes(cs, g);
        if (op->kind == SOP_CANCEL) {
            mem_consume_steps(cs, g);
            account(m, g, before);
            continue;
        }
        touch(m, cs, g);
        switch (p->type) {
        case CORR_EVENT_COUNT: mem_hit_event_count(cs, g, op, out); break;
        case CORR_VALUE_COUNT: mem_hit_value_count(cs, g, op, out); break;
        case CORR_TEMPORAL: mem_hit_temporal(cs, g, op, out); break;
        case CORR_TEMPORAL_ORDERED: mem_hit_ordered(cs, g, op, out); break;
        case CORR_NEW_VALUE: mem_hit_new_value(m, cs, g, op, out); break;
        case CORR_SUPPRESS_ONLY:
            op->first_ts = op->last_ts = op->ts;
            op->count = 1;
            op->fire = mem_gate(cs, g, op);
            break;
        }
        account(m, g, before);
    }
    return out->oom ? -ENOMEM : 0;
}

static void mem_retain(corr_store *s, const uint64_t *ids, size_t n)
{
    mem_store *m = (mem_store *)s;
    for (cstate **pp = &m->states; *pp;) {
        cstate *cs = *pp;
        bool keep = false;
        for (size_t i = 0; i < n && !keep; i++)
            keep = ids[i] == cs->id;
        if (keep) {
            pp = &cs->next;
            continue;
        }
        *pp = cs->next;
        cstate_free(m, cs);
    }
    memset(m->by_slot, 0, sizeof m->by_slot);
}

static void mem_get_stats(corr_store *s, uint32_t slot, uint64_t id, corr_stats *out)
{
    (void)slot;
    mem_store *m = (mem_store *)s;
    memset(out, 0, sizeof *out);
    cstate *cs = mem_cstate(m, id, 0, 0, 0, false);
    if (!cs)
        return;
    *out = (corr_stats){cs->nkeys, cs->evictions, cs->alerts, cs->suppressed};
}

static uint64_t mem_bytes(corr_store *s)
{
    return ((mem_store *)s)->bytes;
}

static void mem_free(corr_store *s)
{
    mem_store *m = (mem_store *)s;
    if (!m)
        return;
    while (m->states) {
        cstate *cs = m->states;
        m->states = cs->next;
        cstate_free(m, cs);
    }
    pg_free(m);
}

static const corr_store_vt mem_vt = {mem_apply, mem_retain, mem_get_stats, mem_bytes, mem_free};

corr_store *mem_store_new(const mem_store_opts *o)
{
    mem_store *m = pg_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->base.vt = &mem_vt;
    m->o = *o;
    if (!m->o.max_groups)
        m->o.max_groups = 100000;
    if (!m->o.max_bytes)
        m->o.max_bytes = 64ull << 20;
    if (!m->o.max_values)
        m->o.max_values = 10000;
    return &m->base;
}
