/*
 * name_index — the loader's items (lists, macros, rules) found by name in
 * constant time: an open-addressing table of positions into an item array
 * whose elements each begin with their name (a char *).  The table holds
 * positions, not pointers, so the array may move (realloc) freely; it
 * never holds the names either, it reads them from the array.
 *
 * Ownership: the table is owned by whoever embeds it (the collection) and
 * released with name_index_free; a zeroed name_index is empty and valid.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_NAME_INDEX_H
#define PEREGRINE_NAME_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct name_index {
    uint32_t *slot;         /* position + 1; 0 = empty */
    size_t cap;             /* power of two (0 before the first add) */
    size_t n;               /* positions held */
} name_index;

/* The position of the element named `name` among the items at arr
 * (elements of elem bytes), or -1. */
long name_index_find(const name_index *ix, const void *arr, size_t elem, const char *name, size_t len);
/* Room for one more position (the table grows before it is half full;
 * the positions it holds are rehashed from arr).  0, or -ENOMEM (the
 * table unchanged). */
int name_index_reserve(name_index *ix, const void *arr, size_t elem);
/* Record the element at position pos (its name already set).  0, or
 * -ENOMEM; never fails after name_index_reserve. */
int name_index_add(name_index *ix, const void *arr, size_t elem, size_t pos);
void name_index_free(name_index *ix);

#endif
