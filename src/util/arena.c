#include "util/arena.h"
#include "util/alloc.h"

#include <stdint.h>
#include <string.h>

struct arena_block {
    arena_block *prev;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void arena_init(arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
}

static arena_block *block_new(size_t size, arena_block *prev)
{
    arena_block *b = pg_malloc(sizeof *b + size);
    if (!b)
        return NULL;
    b->prev = prev;
    b->size = size;
    b->used = 0;
    return b;
}

void *arena_alloc(arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = n > a->block_size ? n : a->block_size;
        b = block_new(size, a->head);
        if (!b)
            return NULL;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

void arena_reset(arena *a)
{
    /* Keep the oldest block: it is the steady-state working set.  Blocks
     * bigger than the default (one huge event) are released. */
    arena_block *b = a->head;
    while (b && b->prev) {
        arena_block *prev = b->prev;
        pg_free(b);
        b = prev;
    }
    if (b && b->size > a->block_size) {
        pg_free(b);
        b = NULL;
    }
    if (b)
        b->used = 0;
    a->head = b;
}

void arena_free(arena *a)
{
    arena_block *b = a->head;
    while (b) {
        arena_block *prev = b->prev;
        pg_free(b);
        b = prev;
    }
    a->head = NULL;
}
