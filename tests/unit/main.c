/* The unit-test runner: see test.h. */
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_TESTS 4096

static struct {
    const char *name;
    test_fn fn;
} tests[MAX_TESTS];
static int ntests, overflow;
static int current_failed;
static const char *current_skipped;

/* Past MAX_TESTS the run fails rather than dropping tests unseen. */
void test_register(const char *name, test_fn fn)
{
    if (ntests == MAX_TESTS) {
        overflow++;
        return;
    }
    tests[ntests].name = name;
    tests[ntests].fn = fn;
    ntests++;
}

void test_skip(const char *reason) { current_skipped = reason; }

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    current_failed = 1;
}

const char *test_shared_dir(void)
{
    const char *s = getenv("PEREGRINE_SHARED");
    return s && *s ? s : "../shared";
}

const char *test_need_shared(void)
{
    const char *dir = test_shared_dir();
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/conformance/data", dir);
    if (access(probe, R_OK) == 0)
        return dir;
    const char *req = getenv("PEREGRINE_REQUIRE_SHARED");
    if (req && !strcmp(req, "1"))
        test_fail(__FILE__, __LINE__, "no conformance kit at %s (PEREGRINE_REQUIRE_SHARED=1)", dir);
    else {
        static char reason[4200];
        snprintf(reason, sizeof reason, "no conformance kit at %s (clone without it; PEREGRINE_SHARED=DIR)", dir);
        test_skip(reason);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (overflow) {
        fprintf(stderr, "unit: %d tests registered past the registry's capacity (MAX_TESTS %d in %s)\n", overflow,
                MAX_TESTS, __FILE__);
        return 1;
    }
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < ntests; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1]))
            continue;
        current_failed = 0;
        current_skipped = NULL;
        tests[i].fn();
        if (current_failed) {
            fprintf(stderr, "FAIL %s\n", tests[i].name);
            failed++;
        } else if (current_skipped) {
            printf("skipped: %s: %s\n", tests[i].name, current_skipped);
            skipped++;
        } else {
            passed++;
        }
        /* before the next test forks: a child's exit would flush a copy */
        fflush(stdout);
    }
    printf("unit: %d passed, %d failed", passed, failed);
    printf(skipped ? ", %d skipped (named above)\n" : "\n", skipped);
    return failed ? 1 : 0;
}
