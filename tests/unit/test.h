/*
 * The unit-test registry: every test file registers its cases with TEST();
 * tests/unit/main.c runs them all (or those whose name contains argv[1])
 * and prints "unit: N passed, M failed".
 *
 *   TEST(json_rejects_trailing_garbage) {
 *       CHECK(json_parse(&d, "{} x", 4) == -EINVAL);
 *       CHECK_STR(got, "expected");
 *   }
 *
 * Data files are found relative to the repository root, which is the
 * working directory of `make test`.  The external conformance kit is at
 * test_shared_dir() (default ../shared, overridden by PEREGRINE_SHARED); a
 * test that needs it starts with
 *
 *   const char *shared = test_need_shared();
 *   if (!shared)
 *       return;         // skipped (a clone without ../shared), said so
 *
 * With PEREGRINE_REQUIRE_SHARED=1 (CI) a missing kit fails instead.
 * test_skip(reason) marks the running test skipped: it is counted and
 * named in the summary, never silently passed.
 */
#ifndef PEREGRINE_TEST_H
#define PEREGRINE_TEST_H

#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *test_shared_dir(void);
const char *test_need_shared(void);
void test_skip(const char *reason);

#define TEST(name)                                                        \
    static void test_##name(void);                                        \
    __attribute__((constructor)) static void register_##name(void)       \
    {                                                                     \
        test_register(#name, test_##name);                                \
    }                                                                     \
    static void test_##name(void)

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond))                                                      \
            test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);            \
    } while (0)

#define CHECK_STR(got, want)                                              \
    do {                                                                  \
        const char *g_ = (got), *w_ = (want);                             \
        if (!g_ || strcmp(g_, w_) != 0)                                   \
            test_fail(__FILE__, __LINE__, "got \"%s\", want \"%s\"",      \
                      g_ ? g_ : "(null)", w_);                            \
    } while (0)

#endif
