/* Workingset detection; see workingset.h. Mirrors Linux v6.1 mm/workingset.c (written from an
 * understanding of it): pack_shadow/unpack_shadow, workingset_eviction, workingset_refault,
 * workingset_activation, count_shadow_nodes' limit. */
#include "models/os/workingset.h"

#include "models/os/reclaim_internal.h"

#define EVICTION_MASK ((1ull << WORKINGSET_EVICTION_BITS) - 1)
#define SHADOW_NID_SHIFT 2
#define SHADOW_NID_BITS 4 /* MM_MAX_NUMNODES 16 */
#define SHADOW_EVICTION_SHIFT (SHADOW_NID_SHIFT + SHADOW_NID_BITS)

static unsigned bucket_order_of(const mm_lru *lru) { return lru->bucket_order; }

/* workingset_init(): max_order = fls_long(totalram_pages - 1) */
unsigned workingset_bucket_order(uint64_t totalram_pages)
{
    unsigned max_order = 0;
    uint64_t x = totalram_pages ? totalram_pages - 1 : 0;
    while (x) {
        max_order++;
        x >>= 1;
    }
    return max_order > WORKINGSET_EVICTION_BITS ? max_order - WORKINGSET_EVICTION_BITS : 0;
}

/* pack_shadow(): eviction stamp, node, workingset bit, value tag */
static uint64_t pack_shadow(int nid, uint64_t eviction, bool workingset)
{
    return ((eviction & EVICTION_MASK) << SHADOW_EVICTION_SHIFT) |
           ((uint64_t)nid << SHADOW_NID_SHIFT) | ((uint64_t)workingset << 1) | 1u;
}

void workingset_unpack_shadow(const mm_lru *lru, uint64_t shadow, int *nid, uint64_t *eviction,
                              bool *workingset)
{
    *workingset = (shadow >> 1) & 1;
    *nid = (int)((shadow >> SHADOW_NID_SHIFT) & ((1u << SHADOW_NID_BITS) - 1));
    *eviction = ((shadow >> SHADOW_EVICTION_SHIFT) & EVICTION_MASK) << bucket_order_of(lru);
}

uint64_t workingset_eviction(mm_lru *lru, uint64_t pfn)
{
    int nid = folio_nid(lru, pfn);
    uint64_t eviction = lru->vec[nid].nonresident_age >> bucket_order_of(lru);
    workingset_age_nonresident(lru, nid, 1);
    return pack_shadow(nid, eviction, folio_test(lru, pfn, PG_workingset));
}

uint64_t workingset_refault_distance(const mm_lru *lru, uint64_t shadow)
{
    int nid;
    uint64_t eviction;
    bool ws;
    workingset_unpack_shadow(lru, shadow, &nid, &eviction, &ws);
    uint64_t refault = lru->vec[nid].nonresident_age;
    /* as Linux: the mask applies to the difference of the (bucket-scaled) stamps */
    return (refault - eviction) & EVICTION_MASK;
}

bool workingset_refault(mm_lru *lru, uint64_t pfn, uint64_t shadow, bool swap_available)
{
    bool file = folio_is_file_lru(lru, pfn);
    int ev_nid;
    uint64_t eviction;
    bool workingset;
    workingset_unpack_shadow(lru, shadow, &ev_nid, &eviction, &workingset);
    uint64_t refault_distance = workingset_refault_distance(lru, shadow);

    int nid = folio_nid(lru, pfn);
    lru->ev.workingset_refault[file]++;

    /* Compare the distance to the workingset size of the node the page was evicted from: pages
     * that could not stay resident even with all that memory are not activated. */
    const struct lruvec *v = &lru->vec[ev_nid];
    uint64_t workingset_size = v->nr[LRU_ACTIVE_FILE];
    if (!file)
        workingset_size += v->nr[LRU_INACTIVE_FILE];
    if (swap_available) {
        workingset_size += v->nr[LRU_ACTIVE_ANON];
        if (file)
            workingset_size += v->nr[LRU_INACTIVE_ANON];
    }
    if (refault_distance > workingset_size)
        return false;

    folio_set_flags(lru, pfn, PG_active);
    workingset_age_nonresident(lru, nid, 1);
    lruvec_count_workingset_activate(lru, nid, file, 1);

    /* the page was active prior to eviction: a thrashing workingset page */
    if (workingset) {
        folio_set_flags(lru, pfn, PG_workingset);
        lru_note_cost(lru, nid, file, 1); /* lru_note_cost_folio() */
        lru->ev.workingset_restore[file]++;
    }
    return true;
}

void workingset_activation(mm_lru *lru, uint64_t pfn)
{
    workingset_age_nonresident(lru, folio_nid(lru, pfn), 1);
}

/* XA_CHUNK_SHIFT 6: max_nodes = pages >> (6 - 3) */
uint64_t workingset_max_shadow_nodes(uint64_t present_pages) { return present_pages >> 3; }
