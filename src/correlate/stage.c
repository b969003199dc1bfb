/*
 * stage — ordered correlation updates (see stage.h).
 */
#include "correlate/stage.h"
#include "correlate/store_mem.h"
#include "rules/correlation.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NS_PER_S 1000000000ll

typedef struct dedup_slot {
    uint64_t h;
    int64_t ts;
} dedup_slot;

typedef struct slot_info {          /* one stateful rule of the current ruleset */
    uint32_t rule;
    uint64_t id;
    char *name;                     /* a copy: stats readers outlive rulesets */
    uint64_t late;
} slot_info;

struct corr_stage {
    corr_stage_opts o;
    corr_store *store;
    /* the ruleset the parameters were built for */
    uint64_t rs_serial;
    const ruleset *rs;
    corr_params *params;            /* per rule of rs (only stateful ones filled) */
    size_t nparams;
    slot_info *slots;
    size_t nslots;
    int64_t horizon_ns;             /* how long a request id is remembered */
    /* per chunk */
    store_op *ops;
    size_t capops;
    corr_decision *dec;
    size_t capdec;
    uint32_t *op_hit;
    buf opdata;
    /* ordering */
    int64_t max_ts;
    bool have_ts;
    dedup_slot *dedup;              /* 4-way sets */
    size_t dedup_sets;
    _Atomic uint64_t late, duplicates, skipped, errors;
    /* held by corr_stage_run and by the stats readers (the admin thread):
     * the store and the slots change under it */
    pthread_mutex_t mu;
};

corr_stage *corr_stage_new(const corr_stage_opts *o, corr_store *store)
{
    corr_stage *st = pg_calloc(1, sizeof *st);
    if (!st) {
        if (store)
            store->vt->free(store);
        return NULL;
    }
    st->o = *o;
    pthread_mutex_init(&st->mu, NULL);
    if (st->o.lateness_ns <= 0)
        st->o.lateness_ns = 60 * NS_PER_S;
    if (!st->o.dedup_slots)
        st->o.dedup_slots = 262144;
    st->store = store;
    st->dedup_sets = 1;
    while (st->dedup_sets * 4 < st->o.dedup_slots)
        st->dedup_sets *= 2;
    st->dedup = pg_calloc(st->dedup_sets * 4, sizeof *st->dedup);
    if (!st->dedup) {
        corr_stage_free(st);
        return NULL;
    }
    return st;
}

void corr_stage_free(corr_stage *st)
{
    if (!st)
        return;
    if (st->store)
        st->store->vt->free(st->store);
    pg_free(st->params);
    for (size_t i = 0; i < st->nslots; i++)
        pg_free(st->slots[i].name);
    pg_free(st->slots);
    pthread_mutex_destroy(&st->mu);
    pg_free(st->ops);
    pg_free(st->dec);
    pg_free(st->op_hit);
    pg_free(st->dedup);
    buf_free(&st->opdata);
    pg_free(st);
}

static const corr_type type_map[] = {
    [CC_EVENT_COUNT] = CORR_EVENT_COUNT, [CC_VALUE_COUNT] = CORR_VALUE_COUNT, [CC_TEMPORAL] = CORR_TEMPORAL,
    [CC_TEMPORAL_ORDERED] = CORR_TEMPORAL_ORDERED, [CC_NEW_VALUE] = CORR_NEW_VALUE,
};

/* Parameters for rs's stateful rules; the store keeps only their state. */
static int use_ruleset(corr_stage *st, const ruleset *rs)
{
    if (st->rs == rs && st->rs_serial == rs->serial)
        return 0;
    corr_params *p = pg_calloc(rs->nrules ? rs->nrules : 1, sizeof *p);
    slot_info *slots = pg_calloc(rs->nrules ? rs->nrules : 1, sizeof *slots);
    uint64_t *ids = pg_calloc(rs->nrules ? rs->nrules : 1, sizeof *ids);
    if (!p || !slots || !ids) {
        pg_free(p);
        pg_free(slots);
        pg_free(ids);
        return -ENOMEM;
    }
    size_t n = 0;
    int64_t horizon = 0;
    for (size_t i = 0; i < rs->nrules; i++) {
        const crule *r = &rs->rules[i];
        if (r->corr) {
            const ccorr *c = r->corr;
            p[i] = (corr_params){
                .id = c->id, .name = r->info.name, .type = type_map[c->type], .window_ns = c->window_ns,
                .threshold = c->threshold, .suppress_ns = c->suppress_ns, .nsteps = (uint32_t)c->nsteps,
                .learn_ns = c->learn_ns, .forget_ns = c->forget_ns, .slot = (uint32_t)n,
            };
            if (c->type != CC_NEW_VALUE && c->window_ns > horizon)
                horizon = c->window_ns;
        } else if (r->sup) {
            p[i] = (corr_params){.id = r->sup->id, .name = r->info.name, .type = CORR_SUPPRESS_ONLY,
                                 .suppress_ns = r->sup->for_ns, .slot = (uint32_t)n};
        } else {
            continue;
        }
        slots[n].rule = (uint32_t)i;
        slots[n].id = p[i].id;
        if (!(slots[n].name = pg_strdup(r->info.name))) {
            for (size_t k = 0; k < n; k++)
                pg_free(slots[k].name);
            pg_free(p);
            pg_free(slots);
            pg_free(ids);
            return -ENOMEM;
        }
        ids[n++] = p[i].id;
    }
    st->store->vt->retain(st->store, ids, n);
    pg_free(ids);
    pg_free(st->params);
    for (size_t i = 0; i < st->nslots; i++)
        pg_free(st->slots[i].name);
    pg_free(st->slots);
    st->params = p;
    st->nparams = rs->nrules;
    st->slots = slots;
    st->nslots = n;
    st->rs = rs;
    st->rs_serial = rs->serial;
    st->horizon_ns = horizon ? horizon : 60 * NS_PER_S;
    return 0;
}

const buf *corr_stage_opdata(const corr_stage *st)
{
    return &st->opdata;
}

/* Whether request h at ts was already counted (and remember it). */
static bool seen_before(corr_stage *st, uint64_t h, int64_t ts)
{
    dedup_slot *set = &st->dedup[(h >> 7 & (st->dedup_sets - 1)) * 4];
    int victim = 0;
    for (int i = 0; i < 4; i++) {
        if (set[i].h == h) {
            bool dup = ts - set[i].ts < st->horizon_ns && set[i].ts - ts < st->horizon_ns;
            set[i].ts = ts;
            return dup;
        }
        if (set[i].ts < set[victim].ts || !set[i].h)
            victim = set[victim].h ? i : victim;
    }
    set[victim] = (dedup_slot){h, ts};
    return false;
}

static int reserve(corr_stage *st, size_t n)
{
    if (n <= st->capops)
        return 0;
    size_t cap = st->capops ? st->capops : 256;
    while (cap < n)
        cap *= 2;
    store_op *ops = pg_realloc(st->ops, cap * sizeof *ops);
    if (ops)
        st->ops = ops;
    corr_decision *dec = ops ? pg_realloc(st->dec, cap * sizeof *dec) : NULL;
    if (dec)
        st->dec = dec;
    uint32_t *oh = dec ? pg_realloc(st->op_hit, cap * sizeof *oh) : NULL;
    if (!oh)
        return -ENOMEM;
    st->op_hit = oh;
    st->capops = cap;
    return 0;
}

static int run_locked(corr_stage *st, const ruleset *rs, const corr_hits *h, const corr_decision **out);

int corr_stage_run(corr_stage *st, const ruleset *rs, const corr_hits *h, const corr_decision **out)
{
    *out = st->dec;
    if (!h->n && !h->skipped)
        return 0;
    pthread_mutex_lock(&st->mu);
    int rc = run_locked(st, rs, h, out);
    pthread_mutex_unlock(&st->mu);
    return rc;
}

static int run_locked(corr_stage *st, const ruleset *rs, const corr_hits *h, const corr_decision **out)
{
    atomic_fetch_add_explicit(&st->skipped, h->skipped, memory_order_relaxed);
    int rc = use_ruleset(st, rs);
    if (!rc)
        rc = reserve(st, h->n);
    if (rc) {
        atomic_fetch_add_explicit(&st->errors, h->n, memory_order_relaxed);
        return rc;
    }
    *out = st->dec;
    if (h->n)
        memset(st->dec, 0, h->n * sizeof *st->dec);
    size_t nops = 0;
    uint32_t cur_event = UINT32_MAX;
    bool dup = false;
    for (size_t i = 0; i < h->n; i++) {
        const corr_hit *x = &h->v[i];
        const corr_params *p = &st->params[x->rule];
        if (x->step != CORR_HIT_ALERT) {
            if (st->have_ts && x->ts < st->max_ts - st->o.lateness_ns) {
                atomic_fetch_add_explicit(&st->late, 1, memory_order_relaxed);
                st->slots[p->slot].late++;
                continue;
            }
            if (x->event != cur_event) {
                cur_event = x->event;
                dup = x->dedup && seen_before(st, x->dedup, x->ts);
                if (dup)
                    atomic_fetch_add_explicit(&st->duplicates, 1, memory_order_relaxed);
            }
            if (dup)
                continue;
        }
        if (!st->have_ts || x->ts > st->max_ts) {
            st->max_ts = x->ts;
            st->have_ts = true;
        }
        const char *d = h->data.data;
        st->ops[nops] = (store_op){
            .kind = x->step == CORR_HIT_UNTIL ? SOP_CANCEL : SOP_HIT, .p = p,
            .key = d + x->key, .keylen = x->keylen, .keyhash = x->keyhash, .ts = x->ts,
            .value = x->vallen ? d + x->val : NULL, .vlen = x->vallen,
            .step = x->step > 0 ? (uint32_t)x->step : 0,
            .info = d + x->info, .infolen = x->infolen,
        };
        st->op_hit[nops++] = (uint32_t)i;
    }
    buf_clear(&st->opdata);
    rc = store_apply(st->store, st->ops, nops, &st->opdata);
    if (rc) {
        atomic_fetch_add_explicit(&st->errors, nops, memory_order_relaxed);
        return rc;
    }
    for (size_t k = 0; k < nops; k++) {
        const store_op *op = &st->ops[k];
        corr_decision *dd = &st->dec[st->op_hit[k]];
        if (h->v[st->op_hit[k]].step == CORR_HIT_ALERT)
            dd->drop = !op->fire;
        else if (op->kind == SOP_HIT && op->fire)
            *dd = (corr_decision){.fire = true, .op = op};
    }
    return 0;
}

static void totals_locked(corr_stage *st, corr_stage_totals *out)
{
    *out = (corr_stage_totals){
        .late = atomic_load(&st->late), .duplicates = atomic_load(&st->duplicates),
        .skipped = atomic_load(&st->skipped), .errors = atomic_load(&st->errors),
    };
    for (size_t i = 0; i < st->nslots; i++) {
        corr_stats cs;
        st->store->vt->get_stats(st->store, (uint32_t)i, st->slots[i].id, &cs);
        out->evictions += cs.evictions;
    }
    out->bytes = st->store->vt->bytes(st->store);
}

void corr_stage_totals_get(corr_stage *st, corr_stage_totals *out)
{
    pthread_mutex_lock(&st->mu);
    totals_locked(st, out);
    pthread_mutex_unlock(&st->mu);
}

size_t corr_stage_rule_stats(corr_stage *st, corr_rule_stats *out, size_t max, char *names, size_t nameslen)
{
    pthread_mutex_lock(&st->mu);
    size_t used = 0;
    for (size_t i = 0; i < st->nslots && i < max; i++) {
        const slot_info *sl = &st->slots[i];
        corr_stats cs;
        st->store->vt->get_stats(st->store, (uint32_t)i, sl->id, &cs);
        size_t len = strlen(sl->name) + 1;
        const char *name = "";
        if (used + len <= nameslen) {
            memcpy(names + used, sl->name, len);
            name = names + used;
            used += len;
        }
        out[i] = (corr_rule_stats){name, cs.keys, cs.evictions, sl->late, cs.alerts, cs.suppressed};
    }
    size_t n = st->nslots;
    pthread_mutex_unlock(&st->mu);
    return n;
}

void corr_stage_print_stats(corr_stage *st, FILE *out)
{
    pthread_mutex_lock(&st->mu);
    if (st->nslots) {
        corr_stage_totals t;
        totals_locked(st, &t);
        fprintf(out, "Stateful detection: %llu late, %llu duplicate requests, %llu without key, %llu evicted\n",
                (unsigned long long)t.late, (unsigned long long)t.duplicates, (unsigned long long)t.skipped,
                (unsigned long long)t.evictions);
        for (size_t i = 0; i < st->nslots; i++) {
            corr_stats cs;
            st->store->vt->get_stats(st->store, (uint32_t)i, st->slots[i].id, &cs);
            fprintf(out, "   %s: %llu alerts, %llu suppressed, %llu keys, %llu evicted, %llu late\n", st->slots[i].name,
                    (unsigned long long)cs.alerts, (unsigned long long)cs.suppressed, (unsigned long long)cs.keys,
                    (unsigned long long)cs.evictions, (unsigned long long)st->slots[i].late);
        }
    }
    pthread_mutex_unlock(&st->mu);
}

/* ------------------------------------------------------------ persistence */

int corr_stage_save(corr_stage *st, const char *path, char *err, size_t errlen)
{
    buf b = BUF_INIT;
    pthread_mutex_lock(&st->mu);
    int rc = mem_store_save(st->store, &b);
    pthread_mutex_unlock(&st->mu);
    if (rc) {
        buf_free(&b);
        snprintf(err, errlen, "%s: out of memory", path);
        return rc;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        buf_free(&b);
        return rc;
    }
    size_t off = 0;
    while (off < b.len) {
        ssize_t w = write(fd, b.data + off, b.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = w < 0 ? -errno : -EIO;
            break;
        }
        off += (size_t)w;
    }
    if (!rc && fsync(fd))
        rc = -errno;
    if (close(fd) && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path))
        rc = -errno;
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        unlink(tmp);
    }
    buf_free(&b);
    return rc;
}

int corr_stage_load(corr_stage *st, const char *path, char *err, size_t errlen)
{
    buf b = BUF_INIT;
    int rc = buf_read_file(&b, path, SIZE_MAX / 2);
    if (rc) {
        snprintf(err, errlen, "%s: %s", path, strerror(rc < 0 ? -rc : rc));
        buf_free(&b);
        return rc < 0 ? rc : -rc;
    }
    char why[256];
    pthread_mutex_lock(&st->mu);
    rc = mem_store_load(st->store, b.data, b.len, why, sizeof why);
    pthread_mutex_unlock(&st->mu);
    if (rc)
        snprintf(err, errlen, "%s: %s", path, why);
    buf_free(&b);
    return rc;
}
