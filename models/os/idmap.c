#include "models/os/idmap.h"

#include <stdlib.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"

void idmap_init(idmap *m)
{
    m->keys = m->vals = NULL;
    m->used = NULL;
    m->cap = m->len = 0;
}

void idmap_free(idmap *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    idmap_init(m);
}

static size_t slot_of(const idmap *m, uint64_t key)
{
    return (size_t)mix64(key) & (m->cap - 1);
}

static void grow(idmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    idmap old = *m;
    m->keys = xmalloc(ncap * sizeof *m->keys);
    m->vals = xmalloc(ncap * sizeof *m->vals);
    m->used = xcalloc(ncap, 1);
    m->cap = ncap;
    m->len = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.used[i])
            idmap_put(m, old.keys[i], old.vals[i]);
    free(old.keys);
    free(old.vals);
    free(old.used);
}

bool idmap_get(const idmap *m, uint64_t key, uint64_t *val)
{
    if (!m->cap)
        return false;
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (!m->used[i])
            return false;
        if (m->keys[i] == key) {
            if (val)
                *val = m->vals[i];
            return true;
        }
    }
}

void idmap_put(idmap *m, uint64_t key, uint64_t val)
{
    if ((m->len + 1) * 4 > m->cap * 3)
        grow(m);
    size_t i = slot_of(m, key);
    while (m->used[i]) {
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->used[i] = 1;
    m->keys[i] = key;
    m->vals[i] = val;
    m->len++;
}

bool idmap_del(idmap *m, uint64_t key, uint64_t *val)
{
    if (!m->cap)
        return false;
    size_t mask = m->cap - 1, i = slot_of(m, key);
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    if (!m->used[i])
        return false;
    if (val)
        *val = m->vals[i];
    /* backward-shift: pull later members of the probe run into the hole */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->used[j]; j = (j + 1) & mask) {
        size_t home = slot_of(m, m->keys[j]);
        /* j may move to hole when home is not cyclically in (hole, j] */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            m->keys[hole] = m->keys[j];
            m->vals[hole] = m->vals[j];
            hole = j;
        }
    }
    m->used[hole] = 0;
    m->len--;
    return true;
}
