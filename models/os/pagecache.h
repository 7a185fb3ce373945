/* The page cache and the swap cache of the kernel model, modelled on Linux v6.1 mm/filemap.c
 * (filemap_get_folio, filemap_add_folio, __filemap_remove_folio), mm/swap_state.c
 * (add_to_swap_cache, __delete_from_swap_cache, swap_cache_get_folio, clear_shadow_from_swap_cache)
 * and the shadow-node side of mm/workingset.c (workingset_update_node, count_shadow_nodes,
 * shadow_lru_isolate).
 *
 * Every address space (a file's i_pages, or a swap device's swapper space) maps an index to an
 * entry: a page (its pfn) or a shadow (workingset.h) left by a reclaimed page. All spaces share one
 * open-addressing hash table keyed by (space, index) -- 16 bytes a slot, grown by doubling, never
 * allocated per page. The radix-tree nodes Linux would need are counted, not stored as such: a leaf
 * node per 64 consecutive indices holding an entry, and above it one interior node per 64 children
 * where the tree needs one (a node (level, prefix) has a parent (level + 1, prefix >> 6) when its
 * prefix is not 0). Leaf nodes whose every entry is a shadow are kept on an LRU of shadow nodes, the
 * list the workingset shadow shrinker reclaims from (workingset_nodes, workingset_nodereclaim).
 *
 * File ids: 0 is the raw block device (its pages are Buffers in meminfo); 1 .. MAPPING_MAX_FILE are
 * files; the spaces above are the swapper spaces of swap types 0..31. Page-cache pages carry
 * PG_pagecache and the owner PAGECACHE_OWNER(file, index). */
#ifndef MMUSIM_OS_PAGECACHE_H
#define MMUSIM_OS_PAGECACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "models/common/stats.h"
#include "models/os/lru.h"

#define MAPPING_SPACE_BITS 24
#define MAPPING_INDEX_BITS 39
#define MAPPING_MAX_INDEX ((1ull << MAPPING_INDEX_BITS) - 1)
#define MAPPING_NR_SWAP_SPACES 32
#define MAPPING_MAX_FILE ((1u << MAPPING_SPACE_BITS) - MAPPING_NR_SWAP_SPACES - 1)
#define MAPPING_SWAP_SPACE(type) ((1u << MAPPING_SPACE_BITS) - MAPPING_NR_SWAP_SPACES + (type))
#define BDEV_FILE 0u

#define MAPPING_EMPTY UINT64_MAX
static inline bool mapping_entry_is_page(uint64_t e) { return e != MAPPING_EMPTY && !(e & 1); }
static inline bool mapping_entry_is_shadow(uint64_t e) { return e != MAPPING_EMPTY && (e & 1); }
static inline uint64_t mapping_entry_pfn(uint64_t e) { return e >> 1; }
static inline uint64_t mapping_page_entry(uint64_t pfn) { return pfn << 1; }

/* page->mapping + page->index of a page-cache page, as the owner cookie (never OWNER_NONE) */
#define PAGECACHE_OWNER(file, index)                                                              \
    ((1ull << 63) | ((uint64_t)(file) << MAPPING_INDEX_BITS) | ((uint64_t)(index) & MAPPING_MAX_INDEX))
static inline uint32_t pagecache_owner_file(uint64_t owner)
{
    return (uint32_t)((owner >> MAPPING_INDEX_BITS) & ((1u << MAPPING_SPACE_BITS) - 1));
}
static inline uint64_t pagecache_owner_index(uint64_t owner) { return owner & MAPPING_MAX_INDEX; }

/* sizeof(struct xa_node) on 64-bit: what a tree node costs in the radix_tree_node slab */
#define XA_NODE_BYTES 576

typedef struct mm_pagecache mm_pagecache;

/* reg may be NULL; with it meminfo Cached, Buffers, SwapCached (kB), vmstat nr_file_pages,
 * nr_swapcached, workingset_nodes and os.pagecache.{xa_nodes,xa_node_bytes,shadows} gauges are
 * registered. */
mm_pagecache *mm_pagecache_create(mm_lru *lru, stats_registry *reg);
void mm_pagecache_destroy(mm_pagecache *pc);

/* ---- the raw store (address_space->i_pages) -------------------------------------------------- */

uint64_t mapping_load(const mm_pagecache *pc, uint32_t space, uint64_t index);
/* Stores entry (a page or a shadow) at (space, index); returns the previous entry or
 * MAPPING_EMPTY. */
uint64_t mapping_store(mm_pagecache *pc, uint32_t space, uint64_t index, uint64_t entry);
uint64_t mapping_erase(mm_pagecache *pc, uint32_t space, uint64_t index);
/* The first entry at an index in [*index, end) of space (MAPPING_EMPTY when none); *index is set
 * to where it is. Walks leaf nodes, so a sparse range costs its number of 64-index chunks. */
uint64_t mapping_find(const mm_pagecache *pc, uint32_t space, uint64_t *index, uint64_t end);

/* ---- page cache ------------------------------------------------------------------------------ */

/* filemap_get_folio(): the page at (file, index), or MM_PFN_NONE. No accessed marking. */
uint64_t filemap_get_folio(const mm_pagecache *pc, uint32_t file, uint64_t index);
/* filemap_add_folio(): inserts pfn (a fresh page) at (file, index): PG_pagecache and the owner
 * set. Returns false when a page is already there. *shadowp gets the shadow the slot held (0
 * when none); the caller hands it to workingset_refault() before folio_add_lru(). */
bool filemap_add_folio(mm_pagecache *pc, uint32_t file, uint64_t index, uint64_t pfn,
                       uint64_t *shadowp);
/* __filemap_remove_folio(): takes a page-cache page out of its file, leaving shadow (0: nothing)
 * in the slot; clears PG_pagecache. The page itself is the caller's. */
void filemap_remove_folio(mm_pagecache *pc, uint64_t pfn, uint64_t shadow);

/* ---- swap cache ------------------------------------------------------------------------------ */

/* add_to_swap_cache(): pfn into the swapper space of entry; PG_swapcache and the entry set.
 * Returns false when a page is already cached there. *shadowp gets the old shadow (0: none). */
bool add_to_swap_cache(mm_pagecache *pc, uint64_t pfn, uint32_t entry, uint64_t *shadowp);
/* __delete_from_swap_cache(): out of the swap cache, leaving shadow (0: nothing); clears
 * PG_swapcache and the entry. */
void delete_from_swap_cache(mm_pagecache *pc, uint64_t pfn, uint64_t shadow);
uint64_t swap_cache_get_folio(const mm_pagecache *pc, uint32_t entry); /* pfn or MM_PFN_NONE */
uint64_t get_shadow_from_swap_cache(const mm_pagecache *pc, uint32_t entry); /* 0: none */
/* clear_shadow_from_swap_cache(): drops the shadows of offsets [begin, end] of swap type */
void clear_shadow_from_swap_cache(mm_pagecache *pc, unsigned type, uint32_t begin, uint32_t end);

/* ---- shadow nodes ---------------------------------------------------------------------------- */

uint64_t pagecache_nr_shadow_nodes(const mm_pagecache *pc); /* WORKINGSET_NODES */
/* shadow_lru_isolate() on up to nr nodes from the head (oldest) of the shadow-node LRU: each
 * node's shadows are dropped and the node freed; returns the nodes reclaimed. */
uint64_t pagecache_reclaim_shadow_nodes(mm_pagecache *pc, uint64_t nr);
/* The workingset shadow shrinker as do_shrink_slab() runs it at a reclaim priority (seeks 0:
 * delta = freeable / 2; total_scan = (deferred >> priority) + delta, at most 2 * freeable; batches
 * of 128 while total_scan >= 128 or >= freeable; the unscanned rest deferred): freeable = shadow
 * nodes above workingset_max_shadow_nodes(present_pages). Returns the nodes reclaimed. */
uint64_t pagecache_shrink_shadow_nodes(mm_pagecache *pc, uint64_t present_pages, int priority);

/* ---- counts ---------------------------------------------------------------------------------- */

uint64_t pagecache_nr_pages(const mm_pagecache *pc);   /* file pages, block device included */
uint64_t pagecache_nr_buffers(const mm_pagecache *pc); /* pages of file 0 (the block device) */
uint64_t pagecache_nr_swapcache(const mm_pagecache *pc);
uint64_t pagecache_nr_shadows(const mm_pagecache *pc);
uint64_t pagecache_nr_xa_nodes(const mm_pagecache *pc); /* leaf plus interior nodes */

#endif
