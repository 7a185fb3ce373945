/* Physical memory of the kernel model: NUMA nodes, their zones, zonelists, lowmem reserves and
 * watermarks, modelled on Linux (mm/page_alloc.c, include/linux/mmzone.h, read at a v6.1-era
 * tree). The buddy allocator that hands out the zones' pages is in buddy.h; the procfs-style views
 * are in vmstat.h. All three share one opaque object, mm_phys, created here.
 *
 * Conventions:
 *  - max_order is the highest order a free block can have, inclusive, as Linux >= 6.4 spells it
 *    (MAX_PAGE_ORDER since 6.8). The default 10 means orders 0..10 (11 free lists), which is
 *    MAX_ORDER == 11 in the exclusive spelling of the v6.1 code the model was written from.
 *  - Zones are contiguous pfn ranges inside a node; present == spanned (no holes), and the
 *    reserved pages of a zone (never handed to the buddy: kernel image, memmap, firmware) are its
 *    lowest pfns. managed = present - reserved.
 *  - Counts are in pages unless the name says kbytes. */
#ifndef MMUSIM_OS_ZONE_H
#define MMUSIM_OS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"

/* Zone types in Linux's order. An architecture uses a subset: x86_64 has DMA, DMA32, Normal and
 * Movable; x86_32 has DMA, Normal, HighMem and Movable. ZONE_DEVICE is never populated; it exists so
 * the views can show the empty zone a CONFIG_ZONE_DEVICE kernel prints. */
enum zone_type {
    ZONE_DMA,
    ZONE_DMA32,
    ZONE_NORMAL,
    ZONE_HIGHMEM,
    ZONE_MOVABLE,
    ZONE_DEVICE,
    MM_NR_ZONE_TYPES
};

/* Migrate types, as enum migratetype. CMA and ISOLATE are listed for the views; the model creates no
 * CMA or isolated pageblocks (yet). */
enum migratetype {
    MIGRATE_UNMOVABLE,
    MIGRATE_MOVABLE,
    MIGRATE_RECLAIMABLE,
    MIGRATE_PCPTYPES, /* the number of types on the per-cpu lists */
    MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,
    MIGRATE_CMA,
    MIGRATE_ISOLATE,
    MIGRATE_TYPES
};

enum zone_watermarks { WMARK_MIN, WMARK_LOW, WMARK_HIGH, WMARK_PROMO, NR_WMARK };

enum mm_arch {
    MM_ARCH_X86_64, /* DMA < 16 MiB, DMA32 < 4 GiB, Normal above */
    MM_ARCH_X86_32, /* DMA < 16 MiB, Normal < lowmem limit (896 MiB), HighMem above */
};

#define MM_MAX_NUMNODES 16
#define MM_MAX_CPUS 256
#define MM_MAX_ORDER_LIMIT 16 /* largest accepted max_order */
#define MM_PFN_NONE UINT64_MAX

struct mm_node_config {
    uint64_t start_pfn;    /* must be a multiple of the pageblock size */
    uint64_t nr_pages;     /* ditto; > 0 */
    uint64_t movable_pages; /* ZONE_MOVABLE at the top of the node (movablecore=); 0 = none */
    uint64_t reserved_pages[MM_NR_ZONE_TYPES]; /* per zone type, taken from the zone's lowest pfns */
    unsigned nr_cpus;      /* CPUs on this node; CPU ids are handed out node after node */
    /* Zonelist fallback order: node ids, the local node first. node_order_len 0 = the local node,
     * then the next ids round-robin (build_zonelists of a !CONFIG_NUMA kernel). */
    int node_order[MM_MAX_NUMNODES];
    unsigned node_order_len;
};

typedef struct mm_phys_config {
    enum mm_arch arch;
    unsigned page_shift;        /* 12 */
    unsigned max_order;         /* 10: highest free order, inclusive (MAX_PAGE_ORDER) */
    unsigned pageblock_order;   /* 9 */
    uint64_t lowmem_limit_bytes; /* x86_32 only: end of ZONE_NORMAL, 896 MiB */
    unsigned nr_nodes;
    struct mm_node_config node[MM_MAX_NUMNODES];
    int min_free_kbytes;        /* 0 = computed as calculate_min_free_kbytes() does */
    int watermark_scale_factor; /* 10, range 1..3000 */
    int watermark_boost_factor; /* 15000; 0 disables boosting */
    int lowmem_reserve_ratio[MM_NR_ZONE_TYPES]; /* DMA 256, DMA32 256, Normal 32, others 0 */
    int percpu_pagelist_high_fraction;          /* 0 = pcp high from the low watermark */
    bool pcp_disabled; /* boot pagesets everywhere: high 0, batch 1 (every free goes to the buddy) */
    bool thp_pcp;      /* CONFIG_TRANSPARENT_HUGEPAGE: a pcp list for pageblock_order pages */
    bool zone_device;  /* CONFIG_ZONE_DEVICE: an empty Device zone in the views */
    bool cma_type;     /* CONFIG_CMA: the CMA migratetype column in the views */
} mm_phys_config;

/* Defaults of an x86_64 (or x86_32) distribution kernel for one node of mem_bytes starting at
 * physical address 0, with nr_cpus CPUs and no reserved pages. */
void mm_phys_config_init(mm_phys_config *cfg, enum mm_arch arch, uint64_t mem_bytes,
                         unsigned nr_cpus);

typedef struct mm_phys mm_phys;
typedef struct mm_zone mm_zone;

/* Builds nodes and zones, frees every managed page into the buddy allocator, then computes
 * min_free_kbytes, watermarks, pcp batch/high and lowmem reserves (init_per_zone_wmark_min).
 * reg may be NULL; when given, per-zone gauges and counters are registered and the registry must
 * not be read after mm_phys_destroy. Returns NULL with err set on a bad configuration. */
mm_phys *mm_phys_create(const mm_phys_config *cfg, stats_registry *reg, mm_err *err);
void mm_phys_destroy(mm_phys *pm);

const mm_phys_config *mm_phys_config_of(const mm_phys *pm);
unsigned mm_phys_nr_nodes(const mm_phys *pm);
unsigned mm_phys_nr_cpus(const mm_phys *pm);
int mm_cpu_to_node(const mm_phys *pm, unsigned cpu);
uint64_t mm_phys_max_pfn(const mm_phys *pm); /* one past the highest pfn of any node */
bool mm_zone_type_configured(const mm_phys *pm, enum zone_type t); /* exists on this arch */
bool mm_page_group_by_mobility_disabled(const mm_phys *pm);
uint64_t mm_totalreserve_pages(const mm_phys *pm); /* calculate_totalreserve_pages() */

/* The zone of a node and type (NULL when the type is not configured on this arch), and the zone
 * a pfn belongs to (NULL outside every zone). */
mm_zone *mm_node_zone(const mm_phys *pm, int nid, enum zone_type t);
mm_zone *mm_pfn_zone(const mm_phys *pm, uint64_t pfn);

const char *zone_name(const mm_zone *z); /* "DMA", "DMA32", "Normal", "HighMem", "Movable", "Device" */
const char *migratetype_name(int mt);    /* "Unmovable", "Movable", ... */
int zone_to_nid(const mm_zone *z);
enum zone_type zone_idx(const mm_zone *z);
bool populated_zone(const mm_zone *z); /* present pages > 0 */
bool is_highmem(const mm_zone *z);     /* HighMem, or Movable carved from HighMem */
uint64_t zone_start_pfn(const mm_zone *z);
uint64_t zone_end_pfn(const mm_zone *z);
uint64_t zone_spanned_pages(const mm_zone *z);
uint64_t zone_present_pages(const mm_zone *z);
uint64_t zone_managed_pages(const mm_zone *z);
uint64_t zone_free_pages(const mm_zone *z); /* NR_FREE_PAGES: buddy free pages, pcp pages excluded */

/* Watermarks. wmark_pages includes the current boost, as Linux's wmark_pages() does. */
uint64_t wmark_pages(const mm_zone *z, enum zone_watermarks w);
uint64_t zone_watermark_raw(const mm_zone *z, enum zone_watermarks w); /* _watermark[w] */
uint64_t zone_watermark_boost(const mm_zone *z);
void zone_clear_watermark_boost(mm_zone *z); /* what kswapd does once the zone is balanced */
uint64_t zone_lowmem_reserve(const mm_zone *z, enum zone_type classzone);
uint64_t zone_nr_reserved_highatomic(const mm_zone *z);

int mm_min_free_kbytes(const mm_phys *pm);
int mm_watermark_scale_factor(const mm_phys *pm);

/* Tunables, applied as the sysctl handlers do: setting min_free_kbytes or the scale factor reruns
 * setup_per_zone_wmarks (which also updates pcp high/batch); a new ratio array reruns
 * setup_per_zone_lowmem_reserve. Return -1 with err set when out of the sysctl range. */
int mm_set_min_free_kbytes(mm_phys *pm, int kbytes, mm_err *err);
int mm_set_watermark_scale_factor(mm_phys *pm, int factor, mm_err *err);
int mm_set_lowmem_reserve_ratio(mm_phys *pm, const int ratio[MM_NR_ZONE_TYPES], mm_err *err);

/* The computations, callable again (they are idempotent given the current managed pages). */
int calculate_min_free_kbytes(const mm_phys *pm); /* int_sqrt(lowmem_kbytes * 16) clamped */
void setup_per_zone_wmarks(mm_phys *pm);
void setup_per_zone_lowmem_reserve(mm_phys *pm);

/* Zonelists (build_zonelists): for node nid the populated zones of every node in the node's
 * fallback order, each node's zones from the highest type down. this_node = the no-fallback list
 * (__GFP_THISNODE). zonelist_walk writes, in order, the zones a request whose highest allowed zone
 * is `highest` may use, and returns their number (at most max are written). */
size_t zonelist_walk(const mm_phys *pm, int nid, bool this_node, enum zone_type highest,
                     mm_zone **out, size_t max);

/* Watermark checks (__zone_watermark_ok / zone_watermark_ok): free pages minus the pages unusable
 * for this order and flags, against mark plus lowmem_reserve[highest]; for order > 0 a free block
 * of at least that order on a list the request may use must exist. alloc_flags: ALLOC_* of
 * buddy.h (ALLOC_HIGH, ALLOC_HARDER, ALLOC_OOM matter here). */
bool zone_watermark_ok(const mm_zone *z, unsigned order, uint64_t mark, enum zone_type highest,
                       unsigned alloc_flags);
bool __zone_watermark_ok(const mm_zone *z, unsigned order, uint64_t mark, enum zone_type highest,
                         unsigned alloc_flags, int64_t free_pages);

/* Floor of the square root, as the kernel's int_sqrt(). */
uint64_t mm_int_sqrt(uint64_t x);

#endif
