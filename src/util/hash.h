/*
 * hash — a fast byte-string hash for open-addressing tables (rule `in`
 * sets, the compiler's field and check tables).  Header only.
 */
#ifndef PEREGRINE_HASH_H
#define PEREGRINE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Set lookups run for every `in` check of every candidate rule, on values
 * like "system:serviceaccount:kube-system:generic-garbage-collector": a
 * byte-at-a-time hash was the evaluator's largest cost.  This one takes 8
 * bytes per step (the last step overlapping the previous one), still over
 * every byte, so a rules file cannot make all items of a big list collide
 * more easily than before. */
static inline uint64_t hash_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 31);
}

static inline uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = hash_mix(0x243F6A8885A308D3ULL, n);
    if (n >= 8) {
        size_t i = 0;
        uint64_t w;
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, p + i, 8);
            h = hash_mix(h, w);
        }
        if (i < n) {
            memcpy(&w, p + n - 8, 8);
            h = hash_mix(h, w);
        }
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, p, 4);
        memcpy(&y, p + n - 4, 4);
        h = hash_mix(h, (uint64_t)x << 32 | y);
    } else if (n) {
        h = hash_mix(h, (unsigned char)p[0] | (uint64_t)(unsigned char)p[n / 2] << 8 |
                            (uint64_t)(unsigned char)p[n - 1] << 16);
    }
    h *= 0xC2B2AE3D27D4EB4FULL;
    return h ^ (h >> 32); /* the table index takes the low bits */
}

#endif
