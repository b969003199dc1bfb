/*
 * dedupe — recent-key window (see dedupe.h): a ring of the last N keys
 * (oldest evicted first) and an open-addressing set over them (linear
 * probing, deletion by backward shift, so no tombstones accumulate).
 */
#include "engine/dedupe.h"
#include "util/alloc.h"

#include <string.h>

struct dedupe {
    uint64_t *ring;             /* insertion order */
    size_t cap, n, head;        /* head: oldest */
    uint64_t *slots;            /* 0 = empty (key 0 is stored as 1) */
    size_t mask;
};

dedupe *dedupe_new(size_t window)
{
    if (!window)
        return NULL;
    dedupe *d = pg_calloc(1, sizeof *d);
    size_t nslots = 16;
    while (nslots < window * 2)
        nslots <<= 1;
    if (d) {
        d->ring = pg_calloc(window, sizeof *d->ring);
        d->slots = pg_calloc(nslots, sizeof *d->slots);
    }
    if (!d || !d->ring || !d->slots) {
        dedupe_free(d);
        return NULL;
    }
    d->cap = window;
    d->mask = nslots - 1;
    return d;
}

void dedupe_free(dedupe *d)
{
    if (!d)
        return;
    pg_free(d->ring);
    pg_free(d->slots);
    pg_free(d);
}

static size_t slot_of(const dedupe *d, uint64_t k)
{
    return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & d->mask;
}

static void remove_key(dedupe *d, uint64_t k)
{
    size_t i = slot_of(d, k);
    while (d->slots[i] && d->slots[i] != k)
        i = (i + 1) & d->mask;
    if (!d->slots[i])
        return;
    /* backward shift: move later members of the cluster into the hole
     * when their home slot does not lie between the hole and them */
    size_t hole = i;
    for (size_t j = (i + 1) & d->mask; d->slots[j]; j = (j + 1) & d->mask) {
        size_t home = slot_of(d, d->slots[j]);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            d->slots[hole] = d->slots[j];
            hole = j;
        }
    }
    d->slots[hole] = 0;
}

bool dedupe_seen(dedupe *d, uint64_t k)
{
    if (!k)
        k = 1;
    size_t i = slot_of(d, k);
    while (d->slots[i]) {
        if (d->slots[i] == k)
            return true;
        i = (i + 1) & d->mask;
    }
    if (d->n == d->cap) {       /* forget the oldest */
        uint64_t old = d->ring[d->head];
        remove_key(d, old);
        d->ring[d->head] = k;
        d->head = (d->head + 1) % d->cap;
        i = slot_of(d, k);      /* the shift may have changed the probe */
        while (d->slots[i])
            i = (i + 1) & d->mask;
    } else {
        d->ring[(d->head + d->n) % d->cap] = k;
        d->n++;
    }
    d->slots[i] = k;
    return false;
}

void dedupe_apply(dedupe *d, worker_result *r)
{
    if (!d || !r->nmarks || r->text.oom)
        return;
    size_t dups = 0;
    size_t tw = 0, tr = 0;      /* text: write and read positions */
    size_t sw = 0, sr = 0;      /* spans */
    for (size_t m = 0; m < r->nmarks; m++) {
        const event_mark *mk = &r->marks[m];
        if (!dedupe_seen(d, mk->key))
            continue;
        dups++;
        /* keep what lies before this event, shifted down */
        size_t keep = mk->text_off - tr;
        if (keep)
            memmove(r->text.data + tw, r->text.data + tr, keep);
        for (; sr < mk->span_off; sr++, sw++) {
            r->spans[sw] = r->spans[sr];
            r->spans[sw].off -= (uint32_t)(tr - tw);
        }
        tw += keep;
        tr = mk->text_end;
        r->counts.alerts -= mk->span_end - mk->span_off;
        sr = mk->span_end;
    }
    if (!dups)
        return;
    if (r->text.len > tr)
        memmove(r->text.data + tw, r->text.data + tr, r->text.len - tr);
    for (; sr < r->nspans; sr++, sw++) {
        r->spans[sw] = r->spans[sr];
        r->spans[sw].off -= (uint32_t)(tr - tw);
    }
    r->text.len = tw + (r->text.len - tr);
    r->nspans = sw;
    r->counts.events -= dups;
    r->counts.duplicates += dups;
}
