/* Workingset detection, modelled on Linux v6.1 mm/workingset.c (classic LRU, no MGLRU): when a
 * page is reclaimed a shadow entry records the node's nonresident age (evictions plus activations,
 * lruvec->nonresident_age) at that moment; when the page is faulted or read back in, the refault
 * distance (the age now minus the age then) tells how many slots the page would have needed to
 * stay resident. A refault whose distance is within the workingset (the active file list, plus the
 * inactive file list for anon, plus the anon lists when swap has room) is activated at once.
 *
 * Shadows are 64-bit values with bit 0 set (xa_value-like), stored by pagecache.c in the slot the
 * page left (file page cache or swap cache), so they never collide with page entries. */
#ifndef MMUSIM_OS_WORKINGSET_H
#define MMUSIM_OS_WORKINGSET_H

#include <stdbool.h>
#include <stdint.h>

#include "models/os/lru.h"

/* EVICTION_BITS: bits of the eviction stamp kept in a shadow, as on x86_64 with NODES_SHIFT 10 and
 * MEM_CGROUP_ID_SHIFT 16 (BITS_PER_LONG - EVICTION_SHIFT = 64 - 28). */
#define WORKINGSET_EVICTION_BITS 36

static inline bool workingset_is_shadow(uint64_t entry) { return (entry & 1) != 0; }

/* bucket_order as workingset_init() computes it from the number of pages: 0 unless the machine has
 * more than 2^36 pages. */
unsigned workingset_bucket_order(uint64_t totalram_pages);

/* workingset_eviction(): the shadow for a page being reclaimed from node nid's LRU (its
 * PG_workingset flag is recorded); ages the node's nonresident clock by one. */
uint64_t workingset_eviction(mm_lru *lru, uint64_t pfn);

/* workingset_refault(): evaluates the shadow of a page being brought back into pfn (a fresh page,
 * PG_swapbacked set for anon, not yet on an LRU list). Counts workingset_refault_{anon,file}; when
 * the refault distance is within the workingset the page gets PG_active (and PG_workingset plus
 * lru_note_cost() and workingset_restore when it was active before eviction) and true is
 * returned. swap_available: free swap space exists (mem_cgroup_get_nr_swap_pages() > 0), which
 * lets anon pages compete in the workingset size. */
bool workingset_refault(mm_lru *lru, uint64_t pfn, uint64_t shadow, bool swap_available);

/* The parts of a shadow, and the refault distance a refault at this moment would see. */
void workingset_unpack_shadow(const mm_lru *lru, uint64_t shadow, int *nid, uint64_t *eviction,
                              bool *workingset);
uint64_t workingset_refault_distance(const mm_lru *lru, uint64_t shadow);

/* workingset_activation(): a page was activated by folio_mark_accessed (ages the nonresident
 * clock); folio_mark_accessed() in lru.c already does this. */
void workingset_activation(mm_lru *lru, uint64_t pfn);

/* count_shadow_nodes() limit: shadow-only tree nodes above pages >> (XA_CHUNK_SHIFT - 3) are
 * reclaimed (about 1.8% of memory on 64-bit). pages = present pages (node_present_pages). */
uint64_t workingset_max_shadow_nodes(uint64_t present_pages);

#endif
