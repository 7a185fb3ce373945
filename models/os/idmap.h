/* A map from 64-bit ids to 64-bit values (open addressing, linear probing, backward-shift
 * deletion): pid -> task in the process table, object id -> allocation for the slab's
 * KMALLOC/KFREE trace events. Every key is allowed (occupancy is a separate byte). The table
 * doubles when it is 3/4 full, so an insert allocates only when it grows; lookups and deletes
 * never allocate. */
#ifndef MMUSIM_OS_IDMAP_H
#define MMUSIM_OS_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct idmap {
    uint64_t *keys;
    uint64_t *vals;
    uint8_t *used;
    size_t cap; /* power of two, 0 before the first insert */
    size_t len;
} idmap;

void idmap_init(idmap *m);
void idmap_free(idmap *m);
/* Returns true and sets *val when key is present. */
bool idmap_get(const idmap *m, uint64_t key, uint64_t *val);
/* Inserts or replaces. */
void idmap_put(idmap *m, uint64_t key, uint64_t val);
/* Removes key; returns true when it was present (and sets *val if val is non-NULL). */
bool idmap_del(idmap *m, uint64_t key, uint64_t *val);
static inline size_t idmap_len(const idmap *m)
{
    return m->len;
}

#endif
