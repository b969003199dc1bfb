/*
 * alloc — the one place the program gets heap memory from.
 *
 * Every module allocates through pg_malloc/pg_realloc/pg_free so tests can
 * inject allocation failures (pg_alloc_fail_after) and check that each
 * caller turns NULL into a clean error instead of a crash or a leak.
 */
#ifndef PEREGRINE_ALLOC_H
#define PEREGRINE_ALLOC_H

#include <stddef.h>

void *pg_malloc(size_t n);
void *pg_calloc(size_t n, size_t size);
void *pg_realloc(void *p, size_t n);
char *pg_strdup(const char *s);
char *pg_strndup(const char *s, size_t n);
void  pg_free(void *p);

/* Test hook: the (n+1)-th allocation from now on fails (that one only);
 * -1 disables. */
void pg_alloc_fail_after(long n);
/* Test hook: allocation calls so far (pg_malloc, pg_calloc, pg_realloc and
 * what calls them), so a test can fail each one of a scenario in turn. */
unsigned long pg_alloc_calls(void);

#endif
