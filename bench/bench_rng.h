/*
 * bench_rng — the generators' deterministic randomness (gen_corpus.c,
 * gen_rules.c, gen_big.c): splitmix64 over one global state, so that the
 * same seed writes the same bytes on every machine and compiler.
 */
#ifndef PEREGRINE_BENCH_RNG_H
#define PEREGRINE_BENCH_RNG_H

#include <stdint.h>

static uint64_t rng;

static inline uint64_t rnd64(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* 0 .. n-1 */
static inline unsigned rn(unsigned n) { return (unsigned)(rnd64() % n); }
/* true with probability percent / 100 */
static inline int chance(unsigned percent) { return rn(1000) < percent * 10; }

#endif
