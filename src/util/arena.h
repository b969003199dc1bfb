/*
 * arena — bump allocator for per-payload and per-event scratch memory.
 *
 * Ownership: the caller owns the arena struct; the arena owns its blocks.
 * Memory handed out lives until arena_reset() (which keeps the first block
 * for reuse, so a steady-state pipeline does no malloc at all) or
 * arena_free().  Allocation returns NULL only when malloc fails.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_ARENA_H
#define PEREGRINE_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct arena {
    arena_block *head;      /* current block (newest) */
    size_t block_size;      /* default size of new blocks */
} arena;

void  arena_init(arena *a, size_t block_size);
void *arena_alloc(arena *a, size_t n);              /* 8-byte aligned */
char *arena_strndup(arena *a, const char *s, size_t n); /* NUL-terminated copy */
void  arena_reset(arena *a);                        /* drop all but one block */
void  arena_free(arena *a);

#endif
