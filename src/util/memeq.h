/*
 * memeq — equality of two byte ranges of the same length, inline.
 *
 * Field values, member names and list items are mostly shorter than 16
 * bytes, and for those a call to memcmp costs more than the comparison:
 * the evaluator compared short strings ~7 times per event through libc
 * (2 % of a one-thread run).  Up to 16 bytes this reads two possibly
 * overlapping words from each side, never a byte outside [0, n).
 */
#ifndef PEREGRINE_MEMEQ_H
#define PEREGRINE_MEMEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Two words of each side, the second ending at byte n: equal iff all of
 * [0, n) is, for W <= n <= 2W. */
#define MEMEQ_WORDS(T)                                                                                              \
    do {                                                                                                          \
        T x0, x1, y0, y1;                                                                                         \
        memcpy(&x0, x, sizeof x0);                                                                                \
        memcpy(&y0, y, sizeof y0);                                                                                \
        memcpy(&x1, x + n - sizeof x1, sizeof x1);                                                                \
        memcpy(&y1, y + n - sizeof y1, sizeof y1);                                                                \
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;                                                                      \
    } while (0)

static inline bool memeq(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    if (n >= 8 && n <= 16)
        MEMEQ_WORDS(uint64_t);
    if (n >= 4 && n < 8)
        MEMEQ_WORDS(uint32_t);
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (x[i] != y[i])
                return false;
        return true;
    }
    return memcmp(x, y, n) == 0;
}

#endif
