/*
 * The in-process correlation store: each type's firing rule, suppression,
 * eviction at the caps, and the snapshot round trip (corrupt files refused).
 */
#include "correlate/store.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#define S 1000000000ll

static store_op hit(const corr_params *p, const char *key, int64_t ts, const char *val)
{
    return (store_op){.kind = SOP_HIT, .p = p, .key = key, .keylen = strlen(key), .ts = ts,
                      .value = val, .vlen = val ? strlen(val) : 0, .info = "id\x1f" "0\x1fget\x1fpods", .infolen = 13};
}

static bool apply1(corr_store *s, store_op *op, buf *out)
{
    CHECK(store_apply(s, op, 1, out) == 0);
    return op->fire;
}

TEST(corr_event_count_fires_at_threshold_not_below)
{
    corr_store *s = mem_store_new(&(mem_store_opts){0});
    corr_params p = {.id = 1, .type = CORR_EVENT_COUNT, .window_ns = 60 * S, .threshold = 5, .suppress_ns = 60 * S};
    buf out = BUF_INIT;
    for (int i = 0; i < 4; i++) {
        store_op op = hit(&p, "alice", i * S, NULL);
        CHECK(!apply1(s, &op, &out));
    }
    store_op op = hit(&p, "alice", 10 * S, NULL);
    CHECK(apply1(s, &op, &out));
    CHECK(op.count == 5 && op.first_ts == 0 && op.last_ts == 10 * S);
    /* suppressed for a minute: counted, then reported with the next alert */
    for (int i = 0; i < 3; i++) {
        store_op o2 = hit(&p, "alice", (20 + i) * S, NULL);
        CHECK(!apply1(s, &o2, &out));
    }
    store_op o3 = hit(&p, "alice", 75 * S, NULL);
    CHECK(!apply1(s, &o3, &out));   /* 4 events in (15, 75] */
    for (int i = 0; i < 1; i++) {
        store_op o4 = hit(&p, "alice", 76 * S, NULL);
        CHECK(apply1(s, &o4, &out));
        CHECK(o4.suppressed == 3);   /* the hits inside the suppression period */
    }
    /* another key is independent */
    store_op ob = hit(&p, "bob", 76 * S, NULL);
    CHECK(!apply1(s, &ob, &out));
    s->vt->free(s);
    buf_free(&out);
}

TEST(corr_event_count_spread_wider_than_window_does_not_fire)
{
    corr_store *s = mem_store_new(&(mem_store_opts){0});
    corr_params p = {.id = 1, .type = CORR_EVENT_COUNT, .window_ns = 60 * S, .threshold = 3};
    buf out = BUF_INIT;
    int64_t t[] = {0, 40 * S, 80 * S, 120 * S, 160 * S};
    for (size_t i = 0; i < 5; i++) {
        store_op op = hit(&p, "k", t[i], NULL);
        CHECK(!apply1(s, &op, &out));
    }
    /* a late event inside the newest window completes it */
    store_op op = hit(&p, "k", 130 * S, NULL);
    CHECK(apply1(s, &op, &out));
    s->vt->free(s);
    buf_free(&out);
}

TEST(corr_value_count_counts_distinct_values)
{
    corr_store *s = mem_store_new(&(mem_store_opts){0});
    corr_params p = {.id = 2, .type = CORR_VALUE_COUNT, .window_ns = 300 * S, .threshold = 3};
    buf out = BUF_INIT;
    for (int i = 0; i < 10; i++) {
        store_op op = hit(&p, "alice", i * S, "same-secret");
        CHECK(!apply1(s, &op, &out));
    }
    store_op a = hit(&p, "alice", 11 * S, "s2");
    CHECK(!apply1(s, &a, &out));
    store_op b = hit(&p, "alice", 12 * S, "s3");
    CHECK(apply1(s, &b, &out));
    CHECK(b.distinct == 3);
    CHECK(b.values_len > 0);
    s->vt->free(s);
    buf_free(&out);
}

TEST(corr_ordered_sequence)
{
    corr_store *s = mem_store_new(&(mem_store_opts){0});
    corr_params p = {.id = 3, .type = CORR_TEMPORAL_ORDERED, .window_ns = 600 * S, .nsteps = 2};
    buf out = BUF_INIT;
    /* step 1 before step 0: no match */
    store_op a = hit(&p, "alice", 0, NULL);
    a.step = 1;
    CHECK(!apply1(s, &a, &out));
    store_op b = hit(&p, "alice", 10 * S, NULL);
    CHECK(!apply1(s, &b, &out));
    /* too late */
    store_op c = hit(&p, "alice", 700 * S, NULL);
    c.step = 1;
    CHECK(!apply1(s, &c, &out));
    store_op d = hit(&p, "alice", 800 * S, NULL);
    CHECK(!apply1(s, &d, &out));
    /* cancelled by until */
    store_op u = {.kind = SOP_CANCEL, .p = &p, .key = "alice", .keylen = 5, .ts = 801 * S};
    CHECK(!apply1(s, &u, &out));
    store_op e = hit(&p, "alice", 802 * S, NULL);
    e.step = 1;
    CHECK(!apply1(s, &e, &out));
    /* in order, in time */
    store_op f = hit(&p, "alice", 900 * S, NULL);
    CHECK(!apply1(s, &f, &out));
    store_op g = hit(&p, "alice", 960 * S, NULL);
    g.step = 1;
    CHECK(apply1(s, &g, &out));
    CHECK(g.steps_len > 0);
    /* consumed */
    store_op h = hit(&p, "alice", 961 * S, NULL);
    h.step = 1;
    CHECK(!apply1(s, &h, &out));
    s->vt->free(s);
    buf_free(&out);
}

TEST(corr_temporal_any_order)
{
    corr_store *s = mem_store_new(&(mem_store_opts){0});
    corr_params p = {.id = 4, .type = CORR_TEMPORAL, .window_ns = 60 * S, .nsteps = 2};
    buf out = BUF_INIT;
    store_op a = hit(&p, "k", 10 * S, NULL);
    a.step = 1;
    CHECK(!apply1(s, &a, &out));
    store_op b = hit(&p, "k", 20 * S, NULL);
    CHECK(apply1(s, &b, &out));
    s->vt->free(s);
    buf_free(&out);
}

TEST(corr_new_value_learns_then_fires_once_per_tuple)
{
    corr_store *s = mem_store_new(&(mem_store_opts){0});
    corr_params p = {.id = 5, .type = CORR_NEW_VALUE, .learn_ns = 3600 * S, .forget_ns = 86400 * S};
    buf out = BUF_INIT;
    store_op a = hit(&p, "sa", 0, "10.0.0.1");
    CHECK(!apply1(s, &a, &out));
    store_op b = hit(&p, "sa", 60 * S, "10.0.0.2");     /* still learning */
    CHECK(!apply1(s, &b, &out));
    store_op c = hit(&p, "sa", 7200 * S, "10.0.0.1");   /* known */
    CHECK(!apply1(s, &c, &out));
    store_op d = hit(&p, "sa", 7300 * S, "10.9.9.9");   /* new */
    CHECK(apply1(s, &d, &out));
    store_op e = hit(&p, "sa", 7400 * S, "10.9.9.9");   /* now known */
    CHECK(!apply1(s, &e, &out));
    /* forgotten after a day unseen */
    store_op f = hit(&p, "sa", 7300 * S + 86401 * S, "10.0.0.2");
    CHECK(apply1(s, &f, &out));
    s->vt->free(s);
    buf_free(&out);
}

TEST(corr_max_groups_evicts_least_recently_updated)
{
    corr_store *s = mem_store_new(&(mem_store_opts){.max_groups = 100});
    corr_params p = {.id = 6, .type = CORR_EVENT_COUNT, .window_ns = 60 * S, .threshold = 2};
    buf out = BUF_INIT;
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        store_op op = hit(&p, key, i, NULL);
        CHECK(!apply1(s, &op, &out));
    }
    corr_stats st;
    s->vt->get_stats(s, 0, 6, &st);
    CHECK(st.keys == 100);
    CHECK(st.evictions == 900);
    s->vt->free(s);
    buf_free(&out);
}

TEST(corr_snapshot_round_trip_and_corruption)
{
    corr_store *s = mem_store_new(&(mem_store_opts){0});
    corr_params p = {.id = 7, .type = CORR_NEW_VALUE, .learn_ns = 0};
    corr_params q = {.id = 8, .type = CORR_TEMPORAL_ORDERED, .window_ns = 60 * S, .nsteps = 2};
    buf out = BUF_INIT, snap = BUF_INIT;
    store_op a = hit(&p, "sa", 0, "1.1.1.1");
    apply1(s, &a, &out);
    store_op b = hit(&q, "alice", 0, NULL);
    apply1(s, &b, &out);
    CHECK(mem_store_save(s, &snap) == 0);
    s->vt->free(s);

    corr_store *t = mem_store_new(&(mem_store_opts){0});
    char err[256];
    CHECK(mem_store_load(t, snap.data, snap.len, err, sizeof err) == 0);
    store_op c = hit(&p, "sa", 10 * S, "1.1.1.1");      /* learnt in the first life */
    CHECK(!apply1(t, &c, &out));
    store_op d = hit(&q, "alice", 10 * S, NULL);
    d.step = 1;
    CHECK(apply1(t, &d, &out));
    t->vt->free(t);

    /* every truncation and every flipped byte is refused, never a crash */
    for (size_t n = 0; n < snap.len; n++) {
        corr_store *u = mem_store_new(&(mem_store_opts){0});
        CHECK(mem_store_load(u, snap.data, n, err, sizeof err) == -EINVAL);
        u->vt->free(u);
    }
    for (size_t i = 0; i < snap.len; i++) {
        corr_store *u = mem_store_new(&(mem_store_opts){0});
        snap.data[i] ^= 0x40;
        CHECK(mem_store_load(u, snap.data, snap.len, err, sizeof err) == -EINVAL);
        snap.data[i] ^= 0x40;
        u->vt->free(u);
    }
    buf_free(&out);
    buf_free(&snap);
}

/* fuzz_state: a state file's correlation read as another shape under the
 * same id (a file from elsewhere), and an until on a non-sequence: the
 * state is dropped, never read as the wrong type. */
TEST(corr_state_of_another_shape_is_dropped)
{
    corr_store *s = mem_store_new(&(mem_store_opts){0});
    corr_params count = {.id = 9, .type = CORR_EVENT_COUNT, .window_ns = 60 * S, .threshold = 2};
    buf out = BUF_INIT, snap = BUF_INIT;
    store_op a = hit(&count, "k", 0, NULL);
    apply1(s, &a, &out);
    CHECK(mem_store_save(s, &snap) == 0);
    s->vt->free(s);
    corr_store *t = mem_store_new(&(mem_store_opts){0});
    char err[128];
    CHECK(mem_store_load(t, snap.data, snap.len, err, sizeof err) == 0);
    corr_params seq = {.id = 9, .type = CORR_TEMPORAL_ORDERED, .window_ns = 60 * S, .nsteps = 2};
    store_op c = {.kind = SOP_CANCEL, .p = &seq, .key = "k", .keylen = 1, .ts = S};
    CHECK(!apply1(t, &c, &out));
    store_op b = hit(&seq, "k", 2 * S, NULL);
    CHECK(!apply1(t, &b, &out));
    b = hit(&seq, "k", 3 * S, NULL);
    b.step = 1;
    CHECK(apply1(t, &b, &out));
    t->vt->free(t);
    buf_free(&out);
    buf_free(&snap);
}
