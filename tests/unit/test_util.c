/*
 * Unit tests of src/util helpers used on hot paths.
 */
#include "test.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"
#include "util/memeq.h"

/* fmt_u64 (two digits per step) against printf, with and without width */
TEST(util_fmt_u64_matches_printf)
{
    unsigned long long vals[200];
    size_t n = 0;
    vals[n++] = 0;
    vals[n++] = ULLONG_MAX;
    vals[n++] = ULLONG_MAX - 1;
    for (unsigned long long p = 1; n < 190; p *= 10) {
        vals[n++] = p;
        vals[n++] = p - 1;
        vals[n++] = p + 1;
        vals[n++] = p * 5 + 7;
        if (p > ULLONG_MAX / 10)
            break;
    }
    vals[n++] = 1717405447013445000ULL;
    for (size_t i = 0; i < n; i++) {
        for (int w = 0; w <= 22; w += 1) {
            char want[32], got[32];
            snprintf(want, sizeof want, "%0*llu", w, vals[i]);
            size_t len = fmt_u64(got, vals[i], w);
            got[len] = 0;
            CHECK_STR(got, want);
        }
    }
}

/* memeq against memcmp: every length up to 40, equal and with one byte
 * different at each position, on exact-size heap copies (ASan sees any
 * read outside them). */
TEST(memeq_matches_memcmp)
{
    for (size_t n = 0; n <= 40; n++) {
        char *a = malloc(n ? n : 1), *b = malloc(n ? n : 1);
        CHECK(a && b);
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = (char)('a' + i % 26);
        CHECK(memeq(a, b, n));
        for (size_t i = 0; i < n; i++) {
            b[i] ^= 0x20;
            CHECK(!memeq(a, b, n) && !memeq(b, a, n));
            b[i] ^= 0x20;
        }
        free(a);
        free(b);
    }
}
