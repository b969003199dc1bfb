/*
 * The interface between the JSON benchmark driver (json_bench.c) and its
 * simdjson side (simdjson_bench.cpp).
 *
 * The corpus is loaded once; every line is copied to a 64-byte aligned
 * slot followed by BENCH_PADDING zero bytes (simdjson's DOM parser reads
 * up to SIMDJSON_PADDING past the end).  Both parsers parse the same
 * padded copies, so neither pays for copying inside the timed loop.
 */
#ifndef PEREGRINE_BENCH_COMMON_H
#define PEREGRINE_BENCH_COMMON_H

#include <stddef.h>

#define BENCH_PADDING 64

typedef struct bench_corpus {
    const char *base;   /* the padded copies */
    const size_t *off;  /* line i is base[off[i] .. off[i] + len[i]) */
    const size_t *len;
    size_t n;           /* lines */
    size_t bytes;       /* sum of len[] (newlines not counted) */
    size_t maxlen;
} bench_corpus;

#ifdef __cplusplus
extern "C" {
#endif

/* simdjson side: set up a DOM parser for documents up to maxlen bytes
 * (outside the timed loop); returns a label with the version and the
 * active (runtime-dispatched) implementation, or NULL on failure. */
const char *simdjson_bench_init(size_t maxlen);
/* One timed-by-the-caller pass over every line: returns the number of
 * lines that failed to parse and adds a value that depends on each parse
 * to *check. */
size_t simdjson_bench_pass(const bench_corpus *c, unsigned long long *check);
void simdjson_bench_fini(void);

#ifdef __cplusplus
}
#endif

#endif
