/*
 * The Redis store against the in-process one: random op sequences of
 * every type through both must give the same decisions and figures (the
 * scripts re-state store_mem.c's rules; this is what holds them equal).
 * Runs against a real redis-server started on a free loopback port; the
 * test is skipped, saying so, when redis-server is not installed.
 * Also: the URL forms, and a store whose Redis is down falls back.
 */
#include "correlate/redis_conn.h"
#include "correlate/store.h"
#include "correlate/store_redis.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define S 1000000000ll

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &l)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static char dir[] = "/tmp/pg-redis-unit-XXXXXX";   /* the server's working directory */
static void stop_redis(pid_t pid);

/* A redis-server on a free port, answering; its pid (0: not installed). */
static pid_t start_redis(int *port)
{
    if (system("command -v redis-server >/dev/null 2>&1") != 0)
        return 0;
    if (!mkdtemp(dir))
        return 0;
    *port = free_port();
    char ps[16];
    snprintf(ps, sizeof ps, "%d", *port);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the test, even a crashed one */
        int null = open("/dev/null", O_WRONLY);     /* not freopen: it would flush the parent's buffer */
        if (null < 0 || dup2(null, 1) < 0)
            _exit(127);
        execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1", "--save", "", "--appendonly",
               "no", "--dir", dir, (char *)NULL);
        _exit(127);
    }
    redis_url u;
    char url[64], err[256];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", *port);
    redis_url_parse(url, &u, err, sizeof err);
    redis_conn *c = redis_conn_new(&u, NULL);
    int64_t end = redis_now_ms() + 20000;
    while (redis_now_ms() < end && redis_conn_open(c, redis_now_ms() + 500, err, sizeof err))
        usleep(20000);
    bool up = redis_conn_is_open(c);
    redis_conn_free(c);
    if (!up) {
        stop_redis(pid);
        test_fail(__FILE__, __LINE__, "redis-server did not answer: %s", err);
        return -1;
    }
    return pid;
}

static void stop_redis(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        rmdir(dir);     /* nothing saved in it (--save "", no AOF) */
    }
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? rng % n : 0;
}

static const char *const keys[] = {"alice", "bob", "system:serviceaccount:kube-system:x"};
static const char *const vals[] = {"s1", "s2", "s3", "s4", "s5", "s6", "a-rather-longer-value-7"};
static const char *const infos[] = {"a1\x1f" "t\x1fget\x1fpods", "a2\x1f" "t\x1f" "create\x1fsecrets",
                                    "a3\x1f" "t\x1f" "delete\x1fpods"};

static bool same_op(const store_op *a, const buf *ab, const store_op *b, const buf *bb)
{
    if (a->fire != b->fire)
        return false;
    if (!a->fire)
        return true;
    return a->count == b->count && a->distinct == b->distinct && a->suppressed == b->suppressed &&
           a->first_ts == b->first_ts && a->last_ts == b->last_ts && a->values_len == b->values_len &&
           (!a->values_len || !memcmp(ab->data + a->values_off, bb->data + b->values_off, a->values_len)) &&
           a->steps_len == b->steps_len &&
           (!a->steps_len || !memcmp(ab->data + a->steps_off, bb->data + b->steps_off, a->steps_len));
}

/* n random ops of p through both stores, in chunks; returns fires. */
static int differential(corr_store *mem, corr_store *red, const corr_params *p, int n)
{
    store_op a[64], b[64];
    buf ab = BUF_INIT, bb = BUF_INIT;
    int64_t t = 1764930000 * S + (int64_t)rnd(S);
    int fires = 0;
    for (int done = 0; done < n;) {
        int chunk = 1 + (int)rnd(40);
        for (int i = 0; i < chunk; i++) {
            /* mostly forward, sometimes back within a few seconds (late) */
            int64_t step = (int64_t)rnd(p->window_ns / 4 + 1);
            t += rnd(8) == 0 ? -(int64_t)rnd(5 * S) : step;
            const char *v = vals[rnd(p->type == CORR_EVENT_COUNT ? 8 : 7) % 7];
            bool cancel = (p->type == CORR_TEMPORAL || p->type == CORR_TEMPORAL_ORDERED) && rnd(12) == 0;
            const char *info = infos[rnd(3)];
            a[i] = (store_op){.kind = cancel ? SOP_CANCEL : SOP_HIT, .p = p, .key = keys[rnd(3)], .ts = t,
                              .value = (p->type == CORR_EVENT_COUNT && rnd(3) == 0) ? NULL : v,
                              .step = p->nsteps ? (uint32_t)rnd(p->nsteps) : 0, .info = info,
                              .infolen = strlen(info)};
            a[i].keylen = strlen(a[i].key);
            a[i].vlen = a[i].value ? strlen(a[i].value) : 0;
            b[i] = a[i];
        }
        buf_clear(&ab);
        buf_clear(&bb);
        CHECK(store_apply(mem, a, (size_t)chunk, &ab) == 0);
        CHECK(store_apply(red, b, (size_t)chunk, &bb) == 0);
        for (int i = 0; i < chunk; i++) {
            if (!same_op(&a[i], &ab, &b[i], &bb)) {
                test_fail(__FILE__, __LINE__,
                          "type %d op %d: mem fire=%d count=%llu distinct=%llu supp=%llu first=%lld last=%lld; "
                          "redis fire=%d count=%llu distinct=%llu supp=%llu first=%lld last=%lld",
                          p->type, done + i, a[i].fire, (unsigned long long)a[i].count,
                          (unsigned long long)a[i].distinct, (unsigned long long)a[i].suppressed,
                          (long long)a[i].first_ts, (long long)a[i].last_ts, b[i].fire,
                          (unsigned long long)b[i].count, (unsigned long long)b[i].distinct,
                          (unsigned long long)b[i].suppressed, (long long)b[i].first_ts, (long long)b[i].last_ts);
                buf_free(&ab);
                buf_free(&bb);
                return -1;
            }
            fires += a[i].fire;
        }
        done += chunk;
    }
    buf_free(&ab);
    buf_free(&bb);
    corr_stats x, y;
    mem->vt->get_stats(mem, p->slot, p->id, &x);
    red->vt->get_stats(red, p->slot, p->id, &y);
    CHECK(x.alerts == y.alerts && x.suppressed == y.suppressed);
    return fires;
}

TEST(corr_redis_store_decides_as_the_process_store)
{
    int port;
    pid_t pid = start_redis(&port);
    if (!pid) {
        fprintf(stderr, "corr_redis_store_decides_as_the_process_store: skipped (no redis-server)\n");
        return;
    }
    if (pid < 0)
        return;
    char url[64], err[512];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/3", port);
    const corr_params ps[] = {
        {.id = 11, .type = CORR_EVENT_COUNT, .window_ns = 60 * S, .threshold = 5, .suppress_ns = 90 * S},
        {.id = 12, .type = CORR_EVENT_COUNT, .window_ns = 20 * S, .threshold = 3},
        {.id = 13, .type = CORR_VALUE_COUNT, .window_ns = 120 * S, .threshold = 4, .suppress_ns = 30 * S},
        {.id = 14, .type = CORR_VALUE_COUNT, .window_ns = 30 * S + 123, .threshold = 2},
        {.id = 15, .type = CORR_TEMPORAL_ORDERED, .window_ns = 100 * S, .nsteps = 3, .suppress_ns = 40 * S},
        {.id = 16, .type = CORR_TEMPORAL_ORDERED, .window_ns = 50 * S, .nsteps = 2},
        {.id = 17, .type = CORR_TEMPORAL, .window_ns = 80 * S, .nsteps = 3, .suppress_ns = 20 * S},
        {.id = 18, .type = CORR_NEW_VALUE, .learn_ns = 200 * S, .forget_ns = 600 * S, .window_ns = 60 * S},
        {.id = 19, .type = CORR_NEW_VALUE, .learn_ns = 0, .suppress_ns = 30 * S, .window_ns = 60 * S},
        {.id = 20, .type = CORR_SUPPRESS_ONLY, .suppress_ns = 45 * S, .window_ns = 60 * S},
    };
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
        corr_store *mem = mem_store_new(&(mem_store_opts){.max_values = 5});
        corr_store *red = NULL;
        int rc = redis_store_new(&(redis_store_opts){.url = url, .key_prefix = "unit:", .mem.max_values = 5,
                                                     .timeout_ms = 5000},
                                 &red, err, sizeof err);
        CHECK(rc == 0 && red && !err[0]);
        if (!red)
            break;
        int fires = differential(mem, red, &ps[i], 3000);
        CHECK(fires > 0);
        redis_store_health h;
        CHECK(redis_store_health_get(red, &h) && h.connected && h.fallbacks == 0 && h.round_trips > 0);
        if (fires <= 0 || h.fallbacks)
            fprintf(stderr, "correlation type %d: %d fires, %llu fallbacks\n", ps[i].type, fires,
                    (unsigned long long)h.fallbacks);
        mem->vt->free(mem);
        red->vt->free(red);
    }
    /* Redis gone: the same store keeps deciding, in this process, counted */
    corr_store *red = NULL;
    CHECK(redis_store_new(&(redis_store_opts){.url = url, .timeout_ms = 500}, &red, err, sizeof err) == 0);
    stop_redis(pid);
    store_op op = {.kind = SOP_HIT, .p = &ps[9], .key = "k", .keylen = 1, .ts = 5 * S};
    buf out = BUF_INIT;
    CHECK(red && store_apply(red, &op, 1, &out) == 0 && op.fire);
    redis_store_health h;
    CHECK(redis_store_health_get(red, &h) && !h.connected && h.fallbacks == 1);
    if (red)
        red->vt->free(red);
    buf_free(&out);
}

TEST(corr_redis_url_forms)
{
    redis_url u;
    char err[256];
    CHECK(redis_url_parse("redis://127.0.0.1:6380/2", &u, err, sizeof err) == 0);
    CHECK(!strcmp(u.host, "127.0.0.1") && u.port == 6380 && u.db == 2 && !u.tls && !u.pass[0]);
    CHECK(redis_url_parse("rediss://app:p%40ss@redis.example:6379", &u, err, sizeof err) == 0);
    CHECK(u.tls && !strcmp(u.user, "app") && !strcmp(u.pass, "p@ss") && u.port == 6379 && u.db == 0);
    CHECK(redis_url_parse("redis://:secret@[::1]:7000/1", &u, err, sizeof err) == 0);
    CHECK(!strcmp(u.host, "::1") && u.port == 7000 && !u.user[0] && !strcmp(u.pass, "secret") && u.db == 1);
    CHECK(redis_url_parse("redis://h", &u, err, sizeof err) == 0 && u.port == 6379);
    CHECK(redis_url_parse("http://h:1", &u, err, sizeof err) == -EINVAL && strstr(err, "redis://"));
    CHECK(redis_url_parse("redis://h:99999", &u, err, sizeof err) == -EINVAL && strstr(err, "port"));
    CHECK(redis_url_parse("redis://h:1/x", &u, err, sizeof err) == -EINVAL && strstr(err, "database"));
    CHECK(redis_url_parse("redis://:1", &u, err, sizeof err) == -EINVAL);
}
