/*
 * Unit tests of src/util helpers used on hot paths.
 */
#include "test.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"
#include "util/bufpool.h"
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

/* bufpool: a kept buffer comes back for a body it holds (the smallest
 * such), else the largest grows; what exceeds the byte bound is freed. */
TEST(bufpool_reuses_within_bound)
{
    bufpool p;
    bufpool_init(&p, 3000);
    buf a = bufpool_get(&p, 1000), b = bufpool_get(&p, 2000), c = bufpool_get(&p, 100);
    CHECK(a.cap > 1000 && b.cap > 2000 && c.cap > 100 && !a.oom);
    buf_puts(&a, "x");
    char *ad = a.data;
    size_t acap = a.cap;
    bufpool_put(&p, &a);            /* kept: 1024 */
    bufpool_put(&p, &b);            /* 1024 + 2048 > 3000: freed */
    bufpool_put(&p, &c);            /* kept: 256 */
    CHECK(!a.data && !b.data && !c.data);
    CHECK(bufpool_bytes(&p) == acap + 256);
    buf x = bufpool_get(&p, 500);   /* the smallest that holds 500: a's */
    CHECK(x.data == ad && x.len == 0 && x.cap == acap);
    buf y = bufpool_get(&p, 5000);  /* none holds it: the largest left (c's), grown */
    CHECK(y.cap > 5000 && bufpool_bytes(&p) == 0);
    bufpool_put(&p, &x);
    bufpool_put(&p, &y);            /* over the bound: freed */
    CHECK(bufpool_bytes(&p) == acap);
    bufpool_free(&p);
}
