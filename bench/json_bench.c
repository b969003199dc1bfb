/*
 * json_bench — parse-only throughput of Peregrine's JSON parser against
 * simdjson's DOM parser on a JSONL corpus (one document per line).
 *
 *   json_bench CORPUS.jsonl [ROUNDS] [MIN_SECONDS]
 *
 * The whole file is loaded and each line copied to a padded slot before
 * timing (see bench_common.h); both parsers then parse exactly the same
 * bytes, one document per call, reusing their parser state (json_doc /
 * dom::parser) across documents as the engine does.  Rounds alternate
 * between the parsers to spread machine noise evenly; each parser runs at
 * least ROUNDS passes (default 7) and at least MIN_SECONDS (default 1)
 * in total.  The table shows the best pass (and the median) as MB/s of
 * JSON text and events/s, events per second of CPU time (best pass by
 * process CPU time: steadier on a shared machine), and the ratio
 * ours/simdjson.
 */
#include "bench_common.h"
#include "json/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU time of this process: on a shared machine, time spent preempted does
 * not count, so the best CPU-time pass is steadier than the best wall pass. */
static double cpu_s(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long sz = ftell(f);
    rewind(f);
    char *data = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
    if (!data || fread(data, 1, (size_t)sz, f) != (size_t)sz) {
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)sz;
    return data;
}

static json_doc doc;

static size_t ours_pass(const bench_corpus *c, unsigned long long *check)
{
    size_t failures = 0;
    unsigned long long sum = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (json_parse(&doc, c->base + c->off[i], c->len[i]) != 0) {
            failures++;
            continue;
        }
        sum += doc.count;
    }
    *check += sum;
    return failures;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define MAX_ROUNDS 1000

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: json_bench CORPUS.jsonl [ROUNDS] [MIN_SECONDS]\n");
        return 2;
    }
    unsigned rounds = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 7;
    double min_s = argc > 3 ? strtod(argv[3], NULL) : 1.0;
    if (rounds < 1)
        rounds = 1;

    size_t flen;
    char *file = slurp(argv[1], &flen);
    if (!file) {
        fprintf(stderr, "json_bench: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }

    /* split lines; copy each into a 64-byte aligned slot + padding */
    size_t n = 0;
    for (size_t i = 0; i < flen; i++)
        n += file[i] == '\n';
    if (flen && file[flen - 1] != '\n')
        n++;
    size_t *off = malloc((n ? n : 1) * sizeof *off), *len = malloc((n ? n : 1) * sizeof *len);
    size_t cap = flen + n * (BENCH_PADDING + 64) + 64;
    char *base = aligned_alloc(64, (cap + 63) / 64 * 64);
    if (!off || !len || !base) {
        fprintf(stderr, "json_bench: out of memory\n");
        return 1;
    }
    memset(base, 0, (cap + 63) / 64 * 64);
    size_t k = 0, pos = 0, bytes = 0, maxlen = 0;
    for (size_t s = 0; s < flen;) {
        const char *nl = memchr(file + s, '\n', flen - s);
        size_t e = nl ? (size_t)(nl - file) : flen;
        if (e > s) {
            off[k] = pos;
            len[k] = e - s;
            memcpy(base + pos, file + s, e - s);
            bytes += e - s;
            if (e - s > maxlen)
                maxlen = e - s;
            pos = (pos + (e - s) + BENCH_PADDING + 63) / 64 * 64;
            k++;
        }
        s = e + 1;
    }
    free(file);
    bench_corpus c = {base, off, len, k, bytes, maxlen};

    json_doc_init(&doc);
    const char *impl = simdjson_bench_init(maxlen);
    if (!impl) {
        fprintf(stderr, "json_bench: simdjson parser setup failed\n");
        return 1;
    }

    /* warm-up pass each (page faults, node array growth), checks acceptance */
    unsigned long long ck_ours = 0, ck_simd = 0;
    size_t f_ours = ours_pass(&c, &ck_ours), f_simd = simdjson_bench_pass(&c, &ck_simd);

    static double t_ours[MAX_ROUNDS], t_simd[MAX_ROUNDS], c_ours[MAX_ROUNDS], c_simd[MAX_ROUNDS];
    unsigned r_ours = 0, r_simd = 0;
    double tot_ours = 0, tot_simd = 0;
    while ((r_ours < rounds || r_simd < rounds || tot_ours < min_s || tot_simd < min_s) && r_ours < MAX_ROUNDS) {
        double t = now_s(), u = cpu_s();
        ours_pass(&c, &ck_ours);
        t_ours[r_ours] = now_s() - t;
        c_ours[r_ours] = cpu_s() - u;
        tot_ours += t_ours[r_ours++];
        t = now_s(), u = cpu_s();
        simdjson_bench_pass(&c, &ck_simd);
        t_simd[r_simd] = now_s() - t;
        c_simd[r_simd] = cpu_s() - u;
        tot_simd += t_simd[r_simd++];
    }
    qsort(t_ours, r_ours, sizeof t_ours[0], cmp_double);
    qsort(t_simd, r_simd, sizeof t_simd[0], cmp_double);
    qsort(c_ours, r_ours, sizeof c_ours[0], cmp_double);
    qsort(c_simd, r_simd, sizeof c_simd[0], cmp_double);

    double mb = (double)bytes / 1e6;
    printf("corpus %s: %zu events, %.1f MB, mean %.0f B/event; %u passes each\n", argv[1], k, mb,
           (double)bytes / (double)(k ? k : 1), r_ours);
    printf("%-32s %10s %12s %10s %12s %12s %8s\n", "parser", "best MB/s", "best ev/s", "med MB/s", "med ev/s",
           "ev/CPU-s", "rejects");
    printf("%-32s %10.1f %12.0f %10.1f %12.0f %12.0f %8zu\n", "peregrine json_parse", mb / t_ours[0],
           (double)k / t_ours[0], mb / t_ours[r_ours / 2], (double)k / t_ours[r_ours / 2], (double)k / c_ours[0], f_ours);
    printf("%-32s %10.1f %12.0f %10.1f %12.0f %12.0f %8zu\n", impl, mb / t_simd[0], (double)k / t_simd[0],
           mb / t_simd[r_simd / 2], (double)k / t_simd[r_simd / 2], (double)k / c_simd[0], f_simd);
    printf("ratio ours/simdjson: best %.2f, median %.2f\n", t_simd[0] / t_ours[0], t_simd[r_simd / 2] / t_ours[r_ours / 2]);
    if (ck_ours == 0 || ck_simd == 0)
        printf("(no document parsed)\n");

    simdjson_bench_fini();
    json_doc_free(&doc);
    free(base);
    free(off);
    free(len);
    return f_ours || f_simd ? 1 : 0;
}
