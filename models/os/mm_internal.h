/* Private layout of mm_phys and mm_zone, shared by zone.c, buddy.c and vmstat.c only. */
#ifndef MMUSIM_OS_MM_INTERNAL_H
#define MMUSIM_OS_MM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "models/os/buddy.h"
#include "models/os/zone.h"

#define PFN_NIL UINT32_MAX

/* Per-frame metadata, 16 bytes. Only the first frame of a block (free, on a pcp list, allocated)
 * carries flags and the order; the frames inside a block have flags 0. */
enum {
    PG_BUDDY = 1u << 0,    /* head of a free block on a free list (PageBuddy) */
    PG_PCP = 1u << 1,      /* head of a block on a pcp list */
    PG_ALLOC = 1u << 2,    /* head of an allocated block */
    PG_RESERVED = 1u << 3, /* never given to the buddy */
    PG_ABSENT = 1u << 4,   /* no memory here (gap between nodes) */
};

struct page_meta {
    uint32_t next, prev; /* free-list or pcp-list links, pfn indices, PFN_NIL at the ends */
    uint8_t flags;
    uint8_t order;  /* block order for BUDDY, PCP and ALLOC heads */
    uint8_t mt;     /* PCP: get_pcppage_migratetype(); ALLOC: the migratetype asked for */
    uint8_t spare;
    uint32_t cpu;   /* PCP: the CPU whose list holds it */
};
_Static_assert(sizeof(struct page_meta) == 16, "16 bytes of metadata per frame");

struct pfn_list {
    uint32_t head, tail;
};

struct free_area {
    struct pfn_list list[MIGRATE_TYPES];
    uint64_t nr_free;              /* blocks of this order on all lists */
    uint64_t nr_mt[MIGRATE_TYPES]; /* blocks per list */
};

/* pcp lists: one per (order <= PAGE_ALLOC_COSTLY_ORDER, pcp migratetype), plus one for
 * pageblock_order (THP) pages, as order_to_pindex() lays them out */
#define NR_LOWORDER_PCP_LISTS (MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1))
#define NR_PCP_LISTS (NR_LOWORDER_PCP_LISTS + 1)

struct per_cpu_pages {
    int count; /* pages on the lists (a block of order k counts 2^k) */
    int high;
    int batch;
    int free_factor;
    struct pfn_list lists[NR_PCP_LISTS];
};

struct zone_gauge_ctx {
    const struct mm_zone *zone;
    unsigned order;
};

struct mm_zone {
    struct mm_phys *pm;
    int nid;
    enum zone_type type;
    uint8_t gidx; /* global index: nid * MM_NR_ZONE_TYPES + type */
    bool configured;
    uint64_t start_pfn, spanned, present, reserved, managed;

    uint64_t watermark[NR_WMARK];
    uint64_t watermark_boost;
    uint64_t lowmem_reserve[MM_NR_ZONE_TYPES];
    uint64_t nr_reserved_highatomic;
    bool reclaim_active, boosted;

    struct free_area free_area[MM_MAX_ORDER_LIMIT + 1];
    uint64_t nr_free_pages; /* NR_FREE_PAGES */
    uint64_t nr_pageblocks[MIGRATE_TYPES];

    int pageset_high, pageset_batch;
    struct per_cpu_pages *pcp; /* [nr_cpus] */

    /* event counters (stats registry) */
    uint64_t pgalloc, pgfree, alloc_fallback, pageblock_steal, pcp_refill, pcp_drained;
    uint64_t numa_hit, numa_miss, numa_foreign, numa_local, numa_other;
    uint64_t highatomic_reserved;

    struct zone_gauge_ctx gctx[MM_MAX_ORDER_LIMIT + 1];
    char prefix_zone[48], prefix_buddy[48];
};

struct mm_phys {
    mm_phys_config cfg;
    unsigned nr_nodes, nr_cpus;
    int cpu_node[MM_MAX_CPUS];
    unsigned max_order, pageblock_order;
    uint64_t pageblock_nr_pages;
    uint64_t node_start[MM_MAX_NUMNODES], node_end[MM_MAX_NUMNODES];
    uint64_t max_pfn;
    enum zone_type movable_zone; /* the zone ZONE_MOVABLE is carved from */

    struct mm_zone *zones; /* [nr_nodes * MM_NR_ZONE_TYPES] */
    struct page_meta *meta; /* [max_pfn] */
    uint8_t *pb_mt;   /* [max_pfn >> pageblock_order] migratetype of each pageblock */
    uint8_t *pb_zone; /* [...] global zone index, 0xff outside every zone */

    /* zonelists: per node, fallback and no-fallback, lists of zone pointers */
    struct mm_zone **zl_fallback[MM_MAX_NUMNODES];
    unsigned zl_fallback_len[MM_MAX_NUMNODES];
    struct mm_zone **zl_thisnode[MM_MAX_NUMNODES];
    unsigned zl_thisnode_len[MM_MAX_NUMNODES];

    int min_free_kbytes, user_min_free_kbytes;
    int watermark_scale_factor, watermark_boost_factor;
    int lowmem_reserve_ratio[MM_NR_ZONE_TYPES];
    bool mobility_disabled;
    unsigned nr_migratetypes_shown; /* MIGRATE_TYPES as the configured kernel counts them */
    uint64_t totalreserve_pages;

    uint64_t alloc_failures;
};

static inline struct mm_zone *mm_zone_at(const struct mm_phys *pm, int nid, enum zone_type t)
{
    return &pm->zones[nid * MM_NR_ZONE_TYPES + (int)t];
}

/* buddy.c internals used by zone.c at set-up */
void buddy_init_zone(struct mm_zone *z);
void buddy_free_boot_range(struct mm_zone *z, uint64_t start, uint64_t end);
void zone_set_pageset_high_and_batch(struct mm_zone *z);
void set_pageblock_migratetype(struct mm_phys *pm, uint64_t pfn, int mt);

#endif
