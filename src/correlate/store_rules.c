/*
 * store_rules — what each correlation type keeps per key and when an
 * update fires: the in-process store's decisions (store_mem.c finds the
 * key's group and calls these; see its header for the bounds).
 */
#include "correlate/store_mem.h"
#include "util/alloc.h"

#include <errno.h>
#include <string.h>

static void put_values(buf *out, store_op *op, char *const *vals, size_t n)
{
    op->values_off = out->len;
    for (size_t i = 0; i < n && i < CORR_MAX_SAMPLES; i++) {
        buf_puts(out, vals[i]);
        buf_putc(out, 0);
    }
    op->values_len = out->len - op->values_off;
}

/* Suppression after a decision to fire: returns whether it really fires. */
bool mem_gate(cstate *cs, group *g, store_op *op)
{
    const corr_params *p = op->p;
    if (g->supp_set && op->ts < g->supp_until) {
        g->suppressed++;
        cs->suppressed++;
        return false;
    }
    op->suppressed = g->suppressed;
    g->suppressed = 0;
    g->supp_set = p->suppress_ns > 0;
    g->supp_until = op->ts + p->suppress_ns;
    cs->alerts++;
    return true;
}

/* A hit that does not fire while the key is suppressed is still a hit
 * "not alerted since the last alert". */
static void note_quiet_hit(cstate *cs, group *g, int64_t ts)
{
    if (g->supp_set && ts < g->supp_until) {
        g->suppressed++;
        cs->suppressed++;
    }
}

static char *sample_dup(group *g, const char *s, size_t n)
{
    return gstr_dup(g, s, n > SAMPLE_MAX ? SAMPLE_MAX : n);
}

static void add_sample(group *g, const char *v, size_t n)
{
    if (!v || g->nsamples >= CORR_MAX_SAMPLES)
        return;
    size_t k = n > SAMPLE_MAX ? SAMPLE_MAX : n;
    for (uint32_t i = 0; i < g->nsamples; i++)
        if (strlen(g->samples[i]) == k && !memcmp(g->samples[i], v, k))
            return;
    char *s = sample_dup(g, v, n);
    if (s)
        g->samples[g->nsamples++] = s;
}

void mem_hit_event_count(cstate *cs, group *g, store_op *op, buf *out)
{
    int64_t t = op->ts, w = op->p->window_ns;
    uint32_t n = g->n;
    /* insert in time order, keeping the newest `cap` */
    if (n == g->cap) {
        if (t < g->ts[0]) {
            note_quiet_hit(cs, g, t);
            return;
        }
        memmove(g->ts, g->ts + 1, (n - 1) * sizeof *g->ts);
        n--;
    }
    uint32_t i = n;
    while (i > 0 && g->ts[i - 1] > t) {
        g->ts[i] = g->ts[i - 1];
        i--;
    }
    g->ts[i] = t;
    g->n = ++n;
    add_sample(g, op->value, op->vlen);
    /* events in (newest - window, newest] */
    uint32_t first = 0;
    while (first < n && g->ts[first] <= g->ts[n - 1] - w)
        first++;
    op->count = n - first;
    op->first_ts = g->ts[first];
    op->last_ts = g->ts[n - 1];
    if (op->count < op->p->threshold) {
        note_quiet_hit(cs, g, t);
        return;
    }
    if ((op->fire = mem_gate(cs, g, op))) {
        put_values(out, op, g->samples, g->nsamples);
        for (uint32_t k = 0; k < g->nsamples; k++)
            gstr_free(g, g->samples[k]);
        g->nsamples = 0;
    }
}

void mem_hit_value_count(cstate *cs, group *g, store_op *op, buf *out)
{
    int64_t t = op->ts, w = op->p->window_ns;
    uint64_t h = corr_hash(op->value, op->vlen);
    uint32_t at = g->n;
    for (uint32_t i = 0; i < g->n; i++)
        if (g->vals[i].h == h)
            at = i;
    if (at < g->n) {
        if (t > g->vals[at].last)
            g->vals[at].last = t;
    } else {
        char *s = sample_dup(g, op->value, op->vlen);
        if (!s)
            return;
        if (g->n == g->cap) {     /* replace the value seen longest ago */
            at = 0;
            for (uint32_t i = 1; i < g->n; i++)
                if (g->vals[i].last < g->vals[at].last)
                    at = i;
            gstr_free(g, g->vals[at].s);
        } else {
            at = g->n++;
        }
        g->vals[at] = (gval){h, t, t, s};
    }
    int64_t newest = INT64_MIN, oldest = INT64_MAX;
    for (uint32_t i = 0; i < g->n; i++)
        if (g->vals[i].last > newest)
            newest = g->vals[i].last;
    char *in[CORR_MAX_SAMPLES];
    size_t nin = 0;
    op->distinct = 0;
    for (uint32_t i = 0; i < g->n; i++)
        if (g->vals[i].last > newest - w) {
            op->distinct++;
            if (g->vals[i].first < oldest)
                oldest = g->vals[i].first;
            if (nin < CORR_MAX_SAMPLES)
                in[nin++] = g->vals[i].s;
        }
    op->count = op->distinct;
    op->first_ts = oldest > newest - w ? oldest : newest - w + 1;
    op->last_ts = newest;
    if (op->distinct < op->p->threshold) {
        note_quiet_hit(cs, g, t);
        return;
    }
    if ((op->fire = mem_gate(cs, g, op)))
        put_values(out, op, in, nin);
}

void mem_consume_steps(cstate *cs, group *g)
{
    for (uint32_t i = 0; g->steps && i < cs->nsteps; i++) {
        gstr_free(g, g->steps[i].info);
        g->steps[i] = (gstep){0};
    }
}

static void fire_steps(cstate *cs, group *g, store_op *op, buf *out, const char *last_info, size_t last_len)
{
    op->steps_off = out->len;
    if (cs->type == CORR_TEMPORAL_ORDERED) {
        if (op->step > 0 && g->steps[op->step - 1].info) {
            buf_puts(out, g->steps[op->step - 1].info);
            buf_putc(out, '\n');
        }
    } else {
        for (uint32_t i = 0; i < cs->nsteps; i++)
            if (i != op->step && g->steps[i].info) {
                buf_puts(out, g->steps[i].info);
                buf_putc(out, '\n');
            }
    }
    buf_put(out, last_info, last_len);
    op->steps_len = out->len - op->steps_off;
    op->count = cs->nsteps;
    if (!(op->fire = mem_gate(cs, g, op)))
        op->steps_len = 0;
    mem_consume_steps(cs, g);
}

/* Ordered: step k extends the newest partial match of step k-1 when it
 * does not precede it and stays within the window of its start. */
void mem_hit_ordered(cstate *cs, group *g, store_op *op, buf *out)
{
    uint32_t k = op->step, last = cs->nsteps - 1;
    int64_t t = op->ts;
    gstep *prev = k ? &g->steps[k - 1] : NULL;
    if (k && (!prev->set || prev->end > t || t - prev->start >= op->p->window_ns)) {
        note_quiet_hit(cs, g, t);
        return;
    }
    int64_t start = k ? prev->start : t;
    op->first_ts = start;
    op->last_ts = t;
    if (k == last) {
        fire_steps(cs, g, op, out, op->info, op->infolen);
        return;
    }
    gstep *s = &g->steps[k];
    if (s->set && s->start > start) {       /* keep the later-starting match */
        note_quiet_hit(cs, g, t);
        return;
    }
    size_t len = (prev && prev->info ? strlen(prev->info) + 1 : 0) + op->infolen;
    char *info = pg_malloc(len + 1);
    if (!info)
        return;
    g->strbytes += (uint32_t)len + 1;
    size_t o = 0;
    if (prev && prev->info) {
        o = strlen(prev->info);
        memcpy(info, prev->info, o);
        info[o++] = '\n';
    }
    memcpy(info + o, op->info, op->infolen);
    info[o + op->infolen] = 0;
    gstr_free(g, s->info);
    *s = (gstep){true, start, t, info};
    note_quiet_hit(cs, g, t);
}

/* Unordered: each step keeps its newest occurrence; all steps within one
 * window complete the match. */
void mem_hit_temporal(cstate *cs, group *g, store_op *op, buf *out)
{
    gstep *s = &g->steps[op->step];
    int64_t t = op->ts;
    int64_t lo = t, hi = t;
    bool all = true;
    for (uint32_t i = 0; i < cs->nsteps; i++) {
        if (i == op->step)
            continue;
        gstep *o = &g->steps[i];
        if (!o->set || o->end <= t - op->p->window_ns || o->end >= t + op->p->window_ns) {
            all = false;
            continue;
        }
        lo = o->end < lo ? o->end : lo;
        hi = o->end > hi ? o->end : hi;
    }
    if (all && hi - lo < op->p->window_ns) {
        op->first_ts = lo;
        op->last_ts = hi;
        fire_steps(cs, g, op, out, op->info, op->infolen);
        return;
    }
    if (!s->set || t >= s->end) {
        char *info = gstr_dup(g, op->info, op->infolen);
        if (!info)
            return;
        gstr_free(g, s->info);
        *s = (gstep){true, t, t, info};
    }
    note_quiet_hit(cs, g, t);
}

static int tuples_grow(group *g)
{
    uint32_t ncap = g->cap * 2;
    gtuple *nt = pg_calloc(ncap, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    for (uint32_t i = 0; i < g->cap; i++)
        if (g->tuples[i].h) {
            uint32_t j = (uint32_t)g->tuples[i].h & (ncap - 1);
            while (nt[j].h)
                j = (j + 1) & (ncap - 1);
            nt[j] = g->tuples[i];
        }
    pg_free(g->tuples);
    g->tuples = nt;
    g->cap = ncap;
    return 0;
}

void mem_hit_new_value(mem_store *m, cstate *cs, group *g, store_op *op, buf *out)
{
    const corr_params *p = op->p;
    int64_t t = op->ts;
    uint64_t h = corr_hash(op->value, op->vlen) | 1;    /* 0 marks a free slot */
    if (!g->learn_set || t < g->learn_from) {
        g->learn_from = t;
        g->learn_set = true;
    }
    uint32_t j = (uint32_t)h & (g->cap - 1);
    while (g->tuples[j].h && g->tuples[j].h != h)
        j = (j + 1) & (g->cap - 1);
    op->first_ts = g->learn_from;
    op->last_ts = t;
    if (g->tuples[j].h) {
        bool forgotten = p->forget_ns > 0 && g->tuples[j].last <= t - p->forget_ns;
        if (t > g->tuples[j].last)
            g->tuples[j].last = t;
        if (!forgotten) {
            note_quiet_hit(cs, g, t);
            return;
        }
    } else {
        if (g->n >= m->o.max_values) {
            /* too many tuples for one key: start it over (it learns again,
             * so this can only lose alerts) */
            cs->evictions++;
            m->evictions++;
            group_clear(cs, g);
            g->learn_from = t;
            j = (uint32_t)h & (g->cap - 1);
        }
        if ((g->n + 1) * 4 > g->cap * 3) {
            if (tuples_grow(g))
                return;
            j = (uint32_t)h & (g->cap - 1);
            while (g->tuples[j].h)
                j = (j + 1) & (g->cap - 1);
        }
        g->tuples[j] = (gtuple){h, t};
        g->n++;
    }
    op->count = g->n;
    op->distinct = g->n;
    if (t - g->learn_from < p->learn_ns) {
        note_quiet_hit(cs, g, t);
        return;
    }
    if ((op->fire = mem_gate(cs, g, op))) {
        char *v = pg_strndup(op->value, op->vlen > SAMPLE_MAX ? SAMPLE_MAX : op->vlen);
        if (v) {
            put_values(out, op, &v, 1);
            pg_free(v);
        }
    }
}
