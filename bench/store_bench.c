/*
 * store_bench — correlation updates per second through the in-process
 * store and the Redis store (a redis-server started here on a free
 * loopback port), in chunks as the ordered stage sends them: one
 * store_apply per chunk, which for Redis is one pipelined round trip.
 *
 *   store_bench [UPDATES [CHUNK]]     (defaults 200000, 256)
 *
 * The updates: an event_count (gte 20 in 2 m), a value_count (gte 10 in
 * 5 m) and a new_value (learn 1 h), spread over 5,000 keys, event times
 * advancing 10 ms per update.  Prints one line per store and type mix.
 */
#include "correlate/redis_conn.h"
#include "correlate/store.h"
#include "correlate/store_redis.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S 1000000000ll

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static pid_t start_redis(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &l))
        return -1;
    close(fd);
    *port = ntohs(a.sin_port);
    char ps[16];
    snprintf(ps, sizeof ps, "%d", *port);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the test, even a crashed one */
        int null = open("/dev/null", O_WRONLY);     /* not freopen: it would flush the parent's buffer */
        if (null < 0 || dup2(null, 1) < 0)
            _exit(127);
        execlp("redis-server", "redis-server", "--port", ps, "--bind", "127.0.0.1", "--save", "", "--appendonly",
               "no", "--dir", "/tmp", (char *)NULL);
        _exit(127);
    }
    redis_url u;
    char url[64], err[256];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", *port);
    redis_url_parse(url, &u, err, sizeof err);
    redis_conn *c = redis_conn_new(&u, NULL);
    for (int i = 0; i < 1000 && redis_conn_open(c, redis_now_ms() + 500, err, sizeof err); i++)
        usleep(20000);
    bool up = redis_conn_is_open(c);
    redis_conn_free(c);
    return up ? pid : -1;
}

static double run(corr_store *s, const corr_params *ps, size_t nps, long n, int chunk, long *fires)
{
    store_op *ops = calloc((size_t)chunk, sizeof *ops);
    char (*keys)[32] = calloc((size_t)chunk, 32), (*vals)[32] = calloc((size_t)chunk, 32);
    buf out = BUF_INIT;
    unsigned long long x = 42;
    int64_t t = 1764930000 * S;
    *fires = 0;
    double t0 = now();
    for (long done = 0; done < n; done += chunk) {
        int m = n - done < chunk ? (int)(n - done) : chunk;
        for (int i = 0; i < m; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            snprintf(keys[i], 32, "user-%llu", (x >> 33) % 5000);
            snprintf(vals[i], 32, "value-%llu", (x >> 17) % 40);
            t += S / 100;
            ops[i] = (store_op){.kind = SOP_HIT, .p = &ps[(done + i) % (long)nps], .key = keys[i],
                                .keylen = strlen(keys[i]), .ts = t, .value = vals[i], .vlen = strlen(vals[i])};
        }
        buf_clear(&out);
        if (store_apply(s, ops, (size_t)m, &out)) {
            fprintf(stderr, "store_apply failed\n");
            exit(1);
        }
        for (int i = 0; i < m; i++)
            *fires += ops[i].fire;
    }
    double el = now() - t0;
    buf_free(&out);
    free(ops);
    free(keys);
    free(vals);
    return el;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int chunk = argc > 2 ? atoi(argv[2]) : 256;
    const corr_params ps[] = {
        {.id = 1, .type = CORR_EVENT_COUNT, .window_ns = 120 * S, .threshold = 20, .suppress_ns = 120 * S},
        {.id = 2, .type = CORR_VALUE_COUNT, .window_ns = 300 * S, .threshold = 10, .suppress_ns = 300 * S},
        {.id = 3, .type = CORR_NEW_VALUE, .learn_ns = 3600 * S},
    };
    int port;
    pid_t pid = start_redis(&port);
    if (pid < 0) {
        fprintf(stderr, "store_bench: redis-server did not start\n");
        return 1;
    }
    char url[64], err[512];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    printf("%ld updates (event_count, value_count, new_value in turn; 5000 keys), chunks of %d\n", n, chunk);
    for (int r = 0; r < 2; r++) {
        corr_store *s = NULL;
        if (r == 0)
            s = mem_store_new(&(mem_store_opts){0});
        else if (redis_store_new(&(redis_store_opts){.url = url, .timeout_ms = 5000}, &s, err, sizeof err) || err[0]) {
            fprintf(stderr, "store_bench: %s\n", err);
            kill(pid, SIGKILL);
            return 1;
        }
        long fires;
        double el = run(s, ps, 3, n, chunk, &fires);
        redis_store_health h;
        bool red = redis_store_health_get(s, &h);
        printf("%-12s %10.0f updates/s  %7.3f s  %ld alerts", r ? "redis store" : "in-process", n / el, el, fires);
        if (red)
            printf("  %llu round trips, %llu fallbacks", (unsigned long long)h.round_trips,
                   (unsigned long long)h.fallbacks);
        printf("\n");
        s->vt->free(s);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 0;
}
