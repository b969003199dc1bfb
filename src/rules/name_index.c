/*
 * name_index — positions of named items by hashed name (name_index.h).
 */
#include "rules/name_index.h"
#include "util/alloc.h"
#include "util/hash.h"

#include <errno.h>
#include <string.h>

static const char *name_at(const void *arr, size_t elem, size_t pos)
{
    const char *name;
    memcpy(&name, (const char *)arr + pos * elem, sizeof name);
    return name;
}

long name_index_find(const name_index *ix, const void *arr, size_t elem, const char *name, size_t len)
{
    if (!ix->cap)
        return -1;
    for (size_t i = hash_bytes(name, len) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        uint32_t k = ix->slot[i];
        if (!k)
            return -1;
        const char *s = name_at(arr, elem, k - 1);
        if (!strncmp(s, name, len) && !s[len])
            return (long)k - 1;
    }
}

/* Put position pos in the first free slot of its chain. */
static void put(uint32_t *slot, size_t cap, const void *arr, size_t elem, size_t pos)
{
    const char *s = name_at(arr, elem, pos);
    size_t i = hash_bytes(s, strlen(s)) & (cap - 1);
    while (slot[i])
        i = (i + 1) & (cap - 1);
    slot[i] = (uint32_t)pos + 1;
}

int name_index_reserve(name_index *ix, const void *arr, size_t elem)
{
    if (ix->n + 1 >= UINT32_MAX)
        return -ENOMEM;
    if (2 * (ix->n + 1) >= ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        uint32_t *slot = pg_calloc(cap, sizeof *slot);
        if (!slot)
            return -ENOMEM;
        for (size_t i = 0; i < ix->cap; i++)
            if (ix->slot[i])
                put(slot, cap, arr, elem, ix->slot[i] - 1);
        pg_free(ix->slot);
        ix->slot = slot;
        ix->cap = cap;
    }
    return 0;
}

int name_index_add(name_index *ix, const void *arr, size_t elem, size_t pos)
{
    int rc = name_index_reserve(ix, arr, elem);
    if (rc)
        return rc;
    put(ix->slot, ix->cap, arr, elem, pos);
    ix->n++;
    return 0;
}

void name_index_free(name_index *ix)
{
    pg_free(ix->slot);
    *ix = (name_index){0};
}
