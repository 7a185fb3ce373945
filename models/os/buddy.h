/* The buddy frame allocator of the kernel model, per zone of mm_phys (zone.h), modelled on
 * Linux's mm/page_alloc.c (v6.1 era): free lists per order 0..max_order and per migratetype,
 * expand() splitting, __free_one_page() coalescing, pageblocks with a migratetype each and
 * __rmqueue_fallback() stealing, high-order atomic reserves, and the per-CPU page lists (pcp) for
 * orders 0..PAGE_ALLOC_COSTLY_ORDER (and pageblock_order with thp_pcp).
 *
 * Frames are named by pfn. A block handed out by an allocation must be freed with the same pfn and
 * order. Metadata is 16 bytes per frame in one flat array; list operations are O(1) (intrusive
 * doubly-linked lists through pfn indices); nothing is allocated per page operation. */
#ifndef MMUSIM_OS_BUDDY_H
#define MMUSIM_OS_BUDDY_H

#include <stdbool.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "models/os/zone.h"

#define PAGE_ALLOC_COSTLY_ORDER 3

/* gfp-like request flags (the bits are this model's own). Zone modifiers pick the highest zone
 * (gfp_zone), mobility bits the migratetype (gfp_migratetype). */
enum {
    MM_GFP_DMA = 1u << 0,
    MM_GFP_DMA32 = 1u << 1,
    MM_GFP_HIGHMEM = 1u << 2,
    MM_GFP_MOVABLE = 1u << 3,     /* with HIGHMEM: may use ZONE_MOVABLE; migratetype movable */
    MM_GFP_RECLAIMABLE = 1u << 4, /* migratetype reclaimable */
    MM_GFP_HIGH = 1u << 5,        /* may dip below min by half (ALLOC_HIGH) */
    MM_GFP_ATOMIC = 1u << 6,      /* cannot sleep: ALLOC_HARDER in the slow path */
    MM_GFP_KSWAPD_RECLAIM = 1u << 7,
    MM_GFP_DIRECT_RECLAIM = 1u << 8,
    MM_GFP_THISNODE = 1u << 9,    /* no fallback to other nodes */
};
#define MM_GFP_KERNEL (MM_GFP_KSWAPD_RECLAIM | MM_GFP_DIRECT_RECLAIM)
#define MM_GFP_ATOMIC_ALLOC (MM_GFP_HIGH | MM_GFP_ATOMIC | MM_GFP_KSWAPD_RECLAIM)
#define MM_GFP_NOWAIT (MM_GFP_KSWAPD_RECLAIM)
#define MM_GFP_USER MM_GFP_KERNEL
#define MM_GFP_HIGHUSER (MM_GFP_USER | MM_GFP_HIGHMEM)
#define MM_GFP_HIGHUSER_MOVABLE (MM_GFP_HIGHUSER | MM_GFP_MOVABLE)

/* Allocation flags, as ALLOC_* of mm/internal.h. The low two bits select the watermark. */
enum {
    ALLOC_WMARK_MIN = WMARK_MIN,
    ALLOC_WMARK_LOW = WMARK_LOW,
    ALLOC_WMARK_HIGH = WMARK_HIGH,
    ALLOC_NO_WATERMARKS = 0x04,
    ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1,
    ALLOC_OOM = 0x08,
    ALLOC_HARDER = 0x10,
    ALLOC_HIGH = 0x20,
    ALLOC_KSWAPD = 0x40,
    ALLOC_NOFRAGMENT = 0x80,
};

enum zone_type gfp_zone(const mm_phys *pm, unsigned gfp);
int gfp_migratetype(unsigned gfp);
/* The alloc_flags the slow path would use for gfp (gfp_to_alloc_flags): WMARK_MIN plus HIGH,
 * HARDER and KSWAPD as the gfp bits ask. */
unsigned gfp_to_alloc_flags(unsigned gfp);

/* rmqueue(): one block of 2^order pages from zone z for a request of migratetype mt, through
 * cpu's pcp lists for pcp orders, else from the buddy lists (HIGHATOMIC first for ALLOC_HARDER
 * high-order requests). No watermark check. Returns the first pfn or MM_PFN_NONE. */
uint64_t buddy_alloc_pages(mm_zone *z, unsigned order, int mt, unsigned alloc_flags, unsigned cpu);

/* Frees a block given out by an allocation (free_the_page: pcp orders go to cpu's pcp list, others
 * straight to __free_one_page). Returns -1 with err set when pfn/order is not an allocated block. */
int buddy_free_pages(mm_phys *pm, uint64_t pfn, unsigned order, unsigned cpu, mm_err *err);

/* get_page_from_freelist(): walks node nid's zonelist for gfp and takes from the first zone whose
 * watermark (the mark alloc_flags selects; ALLOC_NO_WATERMARKS skips the check) is OK, honouring
 * ALLOC_NOFRAGMENT as Linux does. No reclaim or compaction: returns MM_PFN_NONE when no zone
 * passes. *zone_out (may be NULL) receives the zone allocated from. */
uint64_t get_page_from_freelist(mm_phys *pm, int nid, unsigned gfp, unsigned order,
                                unsigned alloc_flags, unsigned cpu, mm_zone **zone_out);

/* The fast path of __alloc_pages(): ALLOC_WMARK_LOW plus alloc_flags_nofragment(), on node nid
 * (the local node of cpu when nid < 0). */
uint64_t alloc_pages_node(mm_phys *pm, int nid, unsigned gfp, unsigned order, unsigned cpu,
                          mm_zone **zone_out);

/* Spill pcp pages back into the buddy: one CPU's list of one zone (z NULL: every zone), or every
 * CPU when cpu < 0 (drain_all_pages). */
void buddy_drain_pages(mm_phys *pm, int cpu, mm_zone *z);

/* Hand a high-order atomic reserve pageblock back (unreserve_highatomic_pageblock) on the zones
 * of nid's zonelist for gfp. Returns true when free pages were moved. */
bool buddy_unreserve_highatomic(mm_phys *pm, int nid, unsigned gfp, bool force);

/* ZONE_RECLAIM_ACTIVE: while set, pcp lists hold at most 4 * batch pages (nr_pcp_high). */
void zone_set_reclaim_active(mm_zone *z, bool active);
/* ZONE_BOOSTED_WATERMARK: set when a fallback boosted the watermark with ALLOC_KSWAPD; the caller
 * (kswapd model) clears it. */
bool zone_test_and_clear_boosted(mm_zone *z);

/* Counts and iteration for views and tests. */
uint64_t zone_nr_free_blocks(const mm_zone *z, unsigned order); /* free_area[order].nr_free */
uint64_t zone_nr_free_blocks_mt(const mm_zone *z, unsigned order, int mt);
uint64_t zone_nr_pageblocks(const mm_zone *z, int mt); /* pageblocks of the zone with that type */
int get_pageblock_migratetype(const mm_phys *pm, uint64_t pfn);
/* Free list order: first block (head) and the one after pfn; MM_PFN_NONE at the end. */
uint64_t zone_free_list_first(const mm_zone *z, unsigned order, int mt);
uint64_t zone_free_list_next(const mm_zone *z, uint64_t pfn);
/* The pcp state of (cpu, zone): pages held, high, batch. */
unsigned zone_pcp_count(const mm_zone *z, unsigned cpu);
unsigned zone_pcp_high(const mm_zone *z, unsigned cpu);
unsigned zone_pcp_batch(const mm_zone *z, unsigned cpu);
uint64_t zone_pcp_total(const mm_zone *z); /* pages on every CPU's pcp lists of the zone */
/* First pfn on (cpu, zone)'s pcp list for (order, mt), then the next; MM_PFN_NONE at the end. */
uint64_t zone_pcp_list_first(const mm_zone *z, unsigned cpu, unsigned order, int mt);
uint64_t zone_pcp_list_next(const mm_zone *z, uint64_t pfn);

/* Page state for a pfn. */
enum mm_page_state {
    MM_PAGE_ABSENT,    /* not in any zone */
    MM_PAGE_RESERVED,  /* never managed by the buddy */
    MM_PAGE_FREE,      /* head of a free buddy block */
    MM_PAGE_PCP,       /* head of a block on a pcp list */
    MM_PAGE_ALLOCATED, /* head of an allocated block */
    MM_PAGE_TAIL,      /* inside a block headed elsewhere */
};
enum mm_page_state mm_page_state(const mm_phys *pm, uint64_t pfn, unsigned *order);

/* Full consistency check (O(memory)): every managed page in exactly one free, pcp or allocated
 * block; list links, orders, alignment and zone membership right; the per-order, per-migratetype,
 * per-zone and pcp counts equal what the lists hold; no two free buddies below pageblock_order
 * left unmerged (above it a merge may rightly have been refused while the pageblock types
 * differed). Returns 0, or -1 with the first inconsistency in err. */
int buddy_check(const mm_phys *pm, mm_err *err);

#endif
