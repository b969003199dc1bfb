#include "util/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic long fail_countdown = -1;
static _Atomic unsigned long calls;

void pg_alloc_fail_after(long n) { atomic_store(&fail_countdown, n); }
unsigned long pg_alloc_calls(void) { return atomic_load(&calls); }

static int should_fail(void)
{
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    long c = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (c < 0)
        return 0;
    return atomic_fetch_sub(&fail_countdown, 1) == 0;
}

void *pg_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }
void *pg_calloc(size_t n, size_t size) { return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1); }
void *pg_realloc(void *p, size_t n) { return should_fail() ? NULL : realloc(p, n ? n : 1); }
void pg_free(void *p) { free(p); }

char *pg_strndup(const char *s, size_t n)
{
    char *p = pg_malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

char *pg_strdup(const char *s) { return pg_strndup(s, strlen(s)); }
