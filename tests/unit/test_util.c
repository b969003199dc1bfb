/*
 * Unit tests of src/util helpers used on hot paths.
 */
#include "test.h"

#include <limits.h>
#include <stdio.h>

#include "util/buf.h"

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
