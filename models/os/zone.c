/* Nodes, zones, zonelists, lowmem reserves and watermarks. Written from a reading of Linux's
 * mm/page_alloc.c (v6.1 era); each piece names the kernel function it mirrors. */
#include "models/os/zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "models/os/buddy.h"
#include "models/os/mm_internal.h"

static const char *const zone_names[MM_NR_ZONE_TYPES] = {"DMA",     "DMA32",   "Normal",
                                                         "HighMem", "Movable", "Device"};
static const char *const migratetype_names[MIGRATE_TYPES] = {
    "Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"};

const char *zone_name(const mm_zone *z)
{
    return zone_names[z->type];
}

const char *migratetype_name(int mt)
{
    return (mt >= 0 && mt < MIGRATE_TYPES) ? migratetype_names[mt] : "?";
}

void mm_phys_config_init(mm_phys_config *cfg, enum mm_arch arch, uint64_t mem_bytes,
                         unsigned nr_cpus)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->arch = arch;
    cfg->page_shift = 12;
    cfg->max_order = 10;
    cfg->pageblock_order = 9;
    cfg->lowmem_limit_bytes = 896ull << 20;
    cfg->nr_nodes = 1;
    cfg->node[0].start_pfn = 0;
    cfg->node[0].nr_pages = mem_bytes >> cfg->page_shift;
    cfg->node[0].nr_cpus = nr_cpus;
    cfg->min_free_kbytes = 0;
    cfg->watermark_scale_factor = 10;
    cfg->watermark_boost_factor = 15000;
    /* sysctl_lowmem_reserve_ratio defaults */
    cfg->lowmem_reserve_ratio[ZONE_DMA] = 256;
    cfg->lowmem_reserve_ratio[ZONE_DMA32] = 256;
    cfg->lowmem_reserve_ratio[ZONE_NORMAL] = 32;
    cfg->lowmem_reserve_ratio[ZONE_HIGHMEM] = 0;
    cfg->lowmem_reserve_ratio[ZONE_MOVABLE] = 0;
    cfg->lowmem_reserve_ratio[ZONE_DEVICE] = 0;
    cfg->thp_pcp = true;
    cfg->zone_device = arch == MM_ARCH_X86_64;
    cfg->cma_type = true;
}

/* ---- layout ---------------------------------------------------------------------------------- */

bool mm_zone_type_configured(const mm_phys *pm, enum zone_type t)
{
    switch (t) {
    case ZONE_DMA:
    case ZONE_NORMAL:
    case ZONE_MOVABLE:
        return true;
    case ZONE_DMA32:
        return pm->cfg.arch == MM_ARCH_X86_64;
    case ZONE_HIGHMEM:
        return pm->cfg.arch == MM_ARCH_X86_32;
    case ZONE_DEVICE:
        return pm->cfg.zone_device;
    default:
        return false;
    }
}

/* The architecture's zone boundaries (arch_zone_lowest/highest_possible_pfn as free_area_init
 * derives them from max_zone_pfn[]): each zone starts where the one below ends. */
static void arch_zone_limits(const mm_phys *pm, uint64_t lo[MM_NR_ZONE_TYPES],
                             uint64_t hi[MM_NR_ZONE_TYPES])
{
    unsigned ps = pm->cfg.page_shift;
    uint64_t max_zone_pfn[MM_NR_ZONE_TYPES] = {0};
    uint64_t dma = (16ull << 20) >> ps;
    max_zone_pfn[ZONE_DMA] = dma;
    if (pm->cfg.arch == MM_ARCH_X86_64) {
        max_zone_pfn[ZONE_DMA32] = (4ull << 30) >> ps;
        max_zone_pfn[ZONE_NORMAL] = pm->max_pfn;
    } else {
        max_zone_pfn[ZONE_NORMAL] = pm->cfg.lowmem_limit_bytes >> ps;
        max_zone_pfn[ZONE_HIGHMEM] = pm->max_pfn;
    }
    uint64_t start = 0;
    for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
        lo[t] = hi[t] = 0;
        if (t == ZONE_MOVABLE || t == ZONE_DEVICE || !mm_zone_type_configured(pm, (enum zone_type)t))
            continue;
        uint64_t end = max_zone_pfn[t] > start ? max_zone_pfn[t] : start;
        lo[t] = start;
        hi[t] = end;
        start = end;
    }
}

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t roundup_u64(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

static int validate_config(const mm_phys_config *c, mm_err *err)
{
    if (c->arch != MM_ARCH_X86_64 && c->arch != MM_ARCH_X86_32)
        return mm_errf(err, "physmem: unknown arch %d", (int)c->arch);
    if (c->page_shift < 10 || c->page_shift > 20)
        return mm_errf(err, "physmem: page_shift %u outside 10..20", c->page_shift);
    if (c->max_order < 1 || c->max_order > MM_MAX_ORDER_LIMIT)
        return mm_errf(err, "physmem: max_order %u outside 1..%d", c->max_order,
                       MM_MAX_ORDER_LIMIT);
    if (c->pageblock_order < 1 || c->pageblock_order > c->max_order)
        return mm_errf(err, "physmem: pageblock_order %u outside 1..max_order (%u)",
                       c->pageblock_order, c->max_order);
    if (c->nr_nodes < 1 || c->nr_nodes > MM_MAX_NUMNODES)
        return mm_errf(err, "physmem: nr_nodes %u outside 1..%d", c->nr_nodes, MM_MAX_NUMNODES);
    if (c->arch == MM_ARCH_X86_32 && (c->lowmem_limit_bytes >> c->page_shift) <=
                                         ((16ull << 20) >> c->page_shift))
        return mm_errf(err, "physmem: lowmem_limit_bytes must be above 16 MiB");
    uint64_t pb = 1ull << c->pageblock_order, prev_end = 0, cpus = 0;
    for (unsigned n = 0; n < c->nr_nodes; n++) {
        const struct mm_node_config *nc = &c->node[n];
        if (nc->nr_pages == 0)
            return mm_errf(err, "physmem: node %u has no pages", n);
        if (nc->start_pfn % pb || nc->nr_pages % pb)
            return mm_errf(err, "physmem: node %u start and size must be multiples of %llu pages",
                           n, (unsigned long long)pb);
        if (nc->start_pfn < prev_end)
            return mm_errf(err, "physmem: node %u overlaps or precedes node %u", n, n - 1);
        prev_end = nc->start_pfn + nc->nr_pages;
        if (prev_end >= (uint64_t)UINT32_MAX)
            return mm_errf(err, "physmem: node %u ends past pfn 2^32-1", n);
        if (nc->movable_pages >= nc->nr_pages)
            return mm_errf(err, "physmem: node %u movable_pages must be below its size", n);
        cpus += nc->nr_cpus;
        if (nc->node_order_len > c->nr_nodes)
            return mm_errf(err, "physmem: node %u node_order longer than nr_nodes", n);
        if (nc->node_order_len) {
            if (nc->node_order[0] != (int)n)
                return mm_errf(err, "physmem: node %u node_order must start with the node itself", n);
            for (unsigned i = 0; i < nc->node_order_len; i++) {
                int o = nc->node_order[i];
                if (o < 0 || o >= (int)c->nr_nodes)
                    return mm_errf(err, "physmem: node %u node_order names node %d", n, o);
                for (unsigned j = 0; j < i; j++)
                    if (nc->node_order[j] == o)
                        return mm_errf(err, "physmem: node %u node_order repeats node %d", n, o);
            }
        }
    }
    if (cpus > MM_MAX_CPUS)
        return mm_errf(err, "physmem: %llu CPUs, at most %d", (unsigned long long)cpus,
                       MM_MAX_CPUS);
    if (c->watermark_scale_factor < 1 || c->watermark_scale_factor > 3000)
        return mm_errf(err, "physmem: watermark_scale_factor %d outside 1..3000",
                       c->watermark_scale_factor);
    if (c->min_free_kbytes < 0)
        return mm_errf(err, "physmem: min_free_kbytes %d is negative", c->min_free_kbytes);
    if (c->watermark_boost_factor < 0)
        return mm_errf(err, "physmem: watermark_boost_factor is negative");
    if (c->percpu_pagelist_high_fraction != 0 && c->percpu_pagelist_high_fraction < 8)
        return mm_errf(err, "physmem: percpu_pagelist_high_fraction must be 0 or >= 8");
    return 0;
}

/* Zone ranges of every node (zone_spanned_pages_in_node with adjust_zone_range_for_zone_movable);
 * ZONE_MOVABLE begins where find_zone_movable_pfns_for_nodes would put it for a per-node
 * movablecore: node end minus the size rounded up to MAX_ORDER_NR_PAGES, not below the start of
 * the zone it is carved from, aligned up to MAX_ORDER_NR_PAGES. */
static int compute_layout(mm_phys *pm, mm_err *err)
{
    uint64_t lo[MM_NR_ZONE_TYPES], hi[MM_NR_ZONE_TYPES];
    arch_zone_limits(pm, lo, hi);
    /* find_usable_zone_for_movable: the highest non-empty regular zone */
    pm->movable_zone = ZONE_DMA;
    for (int t = ZONE_MOVABLE - 1; t >= 0; t--) {
        if (mm_zone_type_configured(pm, (enum zone_type)t) && hi[t] > lo[t]) {
            pm->movable_zone = (enum zone_type)t;
            break;
        }
    }
    uint64_t max_order_pages = 1ull << pm->max_order;
    for (unsigned n = 0; n < pm->nr_nodes; n++) {
        const struct mm_node_config *nc = &pm->cfg.node[n];
        uint64_t ns = pm->node_start[n], ne = pm->node_end[n];
        uint64_t zmp = 0;
        if (nc->movable_pages) {
            uint64_t sz = roundup_u64(nc->movable_pages, max_order_pages);
            uint64_t s = sz < ne - ns ? ne - sz : ns;
            uint64_t floor = lo[pm->movable_zone] > ns ? lo[pm->movable_zone] : ns;
            if (s < floor)
                s = floor;
            s = roundup_u64(s, max_order_pages);
            zmp = s < ne ? s : 0;
        }
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            uint64_t zs = 0, ze = 0;
            if (t == ZONE_MOVABLE) {
                if (zmp) {
                    zs = zmp;
                    ze = ne;
                }
            } else if (t != ZONE_DEVICE && z->configured) {
                zs = clamp_u64(ns, lo[t], hi[t]);
                ze = clamp_u64(ne, lo[t], hi[t]);
                if (zmp) {
                    if (zs < zmp && ze > zmp)
                        ze = zmp;
                    else if (zs >= zmp)
                        zs = ze;
                }
            }
            if (ze <= zs)
                zs = ze = 0;
            z->start_pfn = zs;
            z->spanned = ze - zs;
            z->present = z->spanned;
            uint64_t r = nc->reserved_pages[t];
            if (r > z->present)
                return mm_errf(err,
                               "physmem: node %u zone %s: reserved_pages %llu exceed its %llu "
                               "present pages",
                               n, zone_names[t], (unsigned long long)r,
                               (unsigned long long)z->present);
            z->reserved = r;
            z->managed = z->present - r;
        }
    }
    return 0;
}

/* build_zonelists / build_zonerefs_node: per node in fallback order, its populated zones from the
 * highest type down. */
static void build_zonelists(mm_phys *pm)
{
    for (unsigned n = 0; n < pm->nr_nodes; n++) {
        const struct mm_node_config *nc = &pm->cfg.node[n];
        int order[MM_MAX_NUMNODES];
        unsigned len = 0;
        if (nc->node_order_len) {
            for (unsigned i = 0; i < nc->node_order_len; i++)
                order[len++] = nc->node_order[i];
        } else {
            /* !CONFIG_NUMA build_zonelists: local node, then N+1.. wrapping round */
            for (unsigned i = 0; i < pm->nr_nodes; i++)
                order[len++] = (int)((n + i) % pm->nr_nodes);
        }
        pm->zl_fallback[n] = xcalloc((size_t)len * MM_NR_ZONE_TYPES, sizeof(struct mm_zone *));
        pm->zl_thisnode[n] = xcalloc(MM_NR_ZONE_TYPES, sizeof(struct mm_zone *));
        unsigned k = 0;
        for (unsigned i = 0; i < len; i++)
            for (int t = MM_NR_ZONE_TYPES - 1; t >= 0; t--) {
                struct mm_zone *z = mm_zone_at(pm, order[i], (enum zone_type)t);
                if (populated_zone(z))
                    pm->zl_fallback[n][k++] = z;
            }
        pm->zl_fallback_len[n] = k;
        k = 0;
        for (int t = MM_NR_ZONE_TYPES - 1; t >= 0; t--) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (populated_zone(z))
                pm->zl_thisnode[n][k++] = z;
        }
        pm->zl_thisnode_len[n] = k;
    }
}

size_t zonelist_walk(const mm_phys *pm, int nid, bool this_node, enum zone_type highest,
                     mm_zone **out, size_t max)
{
    if (nid < 0 || nid >= (int)pm->nr_nodes)
        return 0;
    struct mm_zone *const *zl = this_node ? pm->zl_thisnode[nid] : pm->zl_fallback[nid];
    unsigned len = this_node ? pm->zl_thisnode_len[nid] : pm->zl_fallback_len[nid];
    size_t k = 0;
    for (unsigned i = 0; i < len; i++) {
        if (zl[i]->type > highest)
            continue;
        if (k < max)
            out[k] = zl[i];
        k++;
    }
    return k;
}

/* nr_free_zone_pages(): managed pages above the high watermark of the zones up to `highest` in
 * the zonelist of the boot CPU's node. */
static uint64_t nr_free_zone_pages(const mm_phys *pm, enum zone_type highest)
{
    int nid = pm->cpu_node[0];
    uint64_t sum = 0;
    for (unsigned i = 0; i < pm->zl_fallback_len[nid]; i++) {
        const struct mm_zone *z = pm->zl_fallback[nid][i];
        if (z->type > highest)
            continue;
        uint64_t high = z->watermark[WMARK_HIGH] + z->watermark_boost;
        if (z->managed > high)
            sum += z->managed - high;
    }
    return sum;
}

uint64_t mm_int_sqrt(uint64_t x)
{
    if (x < 2)
        return x;
    /* bit-by-bit method: exact floor for every 64-bit x */
    uint64_t res = 0, bit = 1ull << 62;
    while (bit > x)
        bit >>= 2;
    while (bit) {
        if (x >= res + bit) {
            x -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return res;
}

/* calculate_min_free_kbytes(): 4 * sqrt(lowmem_kbytes), lowmem being nr_free_buffer_pages() (the
 * managed pages above the high watermark of zones up to Normal; at boot the watermarks are still
 * 0), clamped to [128, 262144]. */
int calculate_min_free_kbytes(const mm_phys *pm)
{
    uint64_t lowmem_kbytes = nr_free_zone_pages(pm, ZONE_NORMAL) << (pm->cfg.page_shift - 10);
    uint64_t v = mm_int_sqrt(lowmem_kbytes * 16);
    if (v < 128)
        v = 128;
    if (v > 262144)
        v = 262144;
    return (int)v;
}

/* mult_frac(x, n, d) without the intermediate overflow */
static uint64_t mult_frac(uint64_t x, uint64_t n, uint64_t d)
{
    return (x / d) * n + ((x % d) * n) / d;
}

/* calculate_totalreserve_pages(): per zone the largest lowmem reserve it keeps for higher zones
 * plus its high watermark, capped at its managed pages. */
static void calculate_totalreserve_pages(mm_phys *pm)
{
    uint64_t sum = 0;
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int i = 0; i < MM_NR_ZONE_TYPES; i++) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)i);
            if (!z->configured)
                continue;
            uint64_t max = 0;
            for (int j = i; j < MM_NR_ZONE_TYPES; j++)
                if (z->lowmem_reserve[j] > max)
                    max = z->lowmem_reserve[j];
            max += z->watermark[WMARK_HIGH] + z->watermark_boost;
            if (max > z->managed)
                max = z->managed;
            sum += max;
        }
    pm->totalreserve_pages = sum;
}

/* __setup_per_zone_wmarks(): min_free_kbytes split over the lowmem zones in proportion to their
 * managed pages; a highmem zone's min is managed/1024 clamped to [SWAP_CLUSTER_MAX, 128]. The
 * low-min and high-low distance is max(share/4, managed * watermark_scale_factor / 10000), the
 * share being the proportional one even for highmem. Then zone_pcp_update() for every zone. */
void setup_per_zone_wmarks(mm_phys *pm)
{
    uint64_t pages_min = (uint64_t)pm->min_free_kbytes >> (pm->cfg.page_shift - 10);
    uint64_t lowmem_pages = 0;
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (z->configured && !is_highmem(z))
                lowmem_pages += z->managed;
        }
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (!z->configured)
                continue;
            uint64_t tmp = lowmem_pages ? pages_min * z->managed / lowmem_pages : 0;
            if (is_highmem(z)) {
                uint64_t min_pages = z->managed / 1024;
                z->watermark[WMARK_MIN] = clamp_u64(min_pages, 32 /* SWAP_CLUSTER_MAX */, 128);
            } else {
                z->watermark[WMARK_MIN] = tmp;
            }
            uint64_t scaled = mult_frac(z->managed, (uint64_t)pm->watermark_scale_factor, 10000);
            tmp = (tmp >> 2) > scaled ? tmp >> 2 : scaled;
            z->watermark_boost = 0;
            z->watermark[WMARK_LOW] = z->watermark[WMARK_MIN] + tmp;
            z->watermark[WMARK_HIGH] = z->watermark[WMARK_LOW] + tmp;
            z->watermark[WMARK_PROMO] = z->watermark[WMARK_HIGH] + tmp;
        }
    calculate_totalreserve_pages(pm);
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (populated_zone(z))
                zone_set_pageset_high_and_batch(z);
        }
}

/* setup_per_zone_lowmem_reserve(): zone i keeps, against a request whose highest zone is j > i,
 * the managed pages of zones i+1..j divided by zone i's ratio; nothing when the ratio is 0 or zone
 * i manages no pages. */
void setup_per_zone_lowmem_reserve(mm_phys *pm)
{
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int i = 0; i < MM_NR_ZONE_TYPES; i++) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)i);
            if (!z->configured)
                continue;
            int ratio = pm->lowmem_reserve_ratio[i];
            bool clear = ratio <= 0 || z->managed == 0;
            uint64_t managed = 0;
            for (int j = 0; j <= i; j++)
                z->lowmem_reserve[j] = 0;
            for (int j = i + 1; j < MM_NR_ZONE_TYPES; j++) {
                struct mm_zone *up = mm_zone_at(pm, (int)n, (enum zone_type)j);
                if (!up->configured)
                    continue;
                managed += up->managed;
                z->lowmem_reserve[j] = clear ? 0 : managed / (uint64_t)ratio;
            }
        }
    calculate_totalreserve_pages(pm);
}

int mm_set_min_free_kbytes(mm_phys *pm, int kbytes, mm_err *err)
{
    if (kbytes < 0)
        return mm_errf(err, "min_free_kbytes %d is negative", kbytes);
    pm->min_free_kbytes = kbytes;
    pm->user_min_free_kbytes = kbytes; /* min_free_kbytes_sysctl_handler */
    setup_per_zone_wmarks(pm);
    return 0;
}

int mm_set_watermark_scale_factor(mm_phys *pm, int factor, mm_err *err)
{
    if (factor < 1 || factor > 3000)
        return mm_errf(err, "watermark_scale_factor %d outside 1..3000", factor);
    pm->watermark_scale_factor = factor;
    setup_per_zone_wmarks(pm);
    return 0;
}

int mm_set_lowmem_reserve_ratio(mm_phys *pm, const int ratio[MM_NR_ZONE_TYPES], mm_err *err)
{
    (void)err;
    /* lowmem_reserve_ratio_sysctl_handler: values below 1 mean 0 */
    for (int i = 0; i < MM_NR_ZONE_TYPES; i++)
        pm->lowmem_reserve_ratio[i] = ratio[i] < 1 ? 0 : ratio[i];
    setup_per_zone_lowmem_reserve(pm);
    return 0;
}

/* __zone_watermark_unusable_free(): the pages an order-`order` request cannot count on. */
static int64_t zone_watermark_unusable_free(const mm_zone *z, unsigned order, unsigned alloc_flags)
{
    bool alloc_harder = alloc_flags & (ALLOC_HARDER | ALLOC_OOM);
    int64_t unusable = ((int64_t)1 << order) - 1;
    if (!alloc_harder)
        unusable += (int64_t)z->nr_reserved_highatomic;
    return unusable;
}

bool __zone_watermark_ok(const mm_zone *z, unsigned order, uint64_t mark, enum zone_type highest,
                         unsigned alloc_flags, int64_t free_pages)
{
    int64_t min = (int64_t)mark;
    bool alloc_harder = alloc_flags & (ALLOC_HARDER | ALLOC_OOM);
    free_pages -= zone_watermark_unusable_free(z, order, alloc_flags);
    if (alloc_flags & ALLOC_HIGH)
        min -= min / 2;
    if (alloc_harder) {
        if (alloc_flags & ALLOC_OOM)
            min -= min / 2;
        else
            min -= min / 4;
    }
    /* the order-0 check first: no high-order request passes if it fails */
    if (free_pages <= min + (int64_t)z->lowmem_reserve[highest])
        return false;
    if (!order)
        return true;
    for (unsigned o = order; o <= z->pm->max_order; o++) {
        const struct free_area *area = &z->free_area[o];
        if (!area->nr_free)
            continue;
        for (int mt = 0; mt < MIGRATE_PCPTYPES; mt++)
            if (area->nr_mt[mt])
                return true;
        if (alloc_harder && area->nr_mt[MIGRATE_HIGHATOMIC])
            return true;
    }
    return false;
}

bool zone_watermark_ok(const mm_zone *z, unsigned order, uint64_t mark, enum zone_type highest,
                       unsigned alloc_flags)
{
    return __zone_watermark_ok(z, order, mark, highest, alloc_flags, (int64_t)z->nr_free_pages);
}

/* ---- accessors ------------------------------------------------------------------------------- */

const mm_phys_config *mm_phys_config_of(const mm_phys *pm) { return &pm->cfg; }
unsigned mm_phys_nr_nodes(const mm_phys *pm) { return pm->nr_nodes; }
unsigned mm_phys_nr_cpus(const mm_phys *pm) { return pm->nr_cpus; }
uint64_t mm_phys_max_pfn(const mm_phys *pm) { return pm->max_pfn; }
bool mm_page_group_by_mobility_disabled(const mm_phys *pm) { return pm->mobility_disabled; }
uint64_t mm_totalreserve_pages(const mm_phys *pm) { return pm->totalreserve_pages; }
int mm_min_free_kbytes(const mm_phys *pm) { return pm->min_free_kbytes; }
int mm_watermark_scale_factor(const mm_phys *pm) { return pm->watermark_scale_factor; }

int mm_cpu_to_node(const mm_phys *pm, unsigned cpu)
{
    return cpu < pm->nr_cpus ? pm->cpu_node[cpu] : -1;
}

mm_zone *mm_node_zone(const mm_phys *pm, int nid, enum zone_type t)
{
    if (nid < 0 || nid >= (int)pm->nr_nodes || (int)t < 0 || t >= MM_NR_ZONE_TYPES)
        return NULL;
    struct mm_zone *z = mm_zone_at(pm, nid, t);
    return z->configured ? z : NULL;
}

mm_zone *mm_pfn_zone(const mm_phys *pm, uint64_t pfn)
{
    if (pfn >= pm->max_pfn)
        return NULL;
    uint8_t g = pm->pb_zone[pfn >> pm->pageblock_order];
    return g == 0xff ? NULL : &pm->zones[g];
}

int zone_to_nid(const mm_zone *z) { return z->nid; }
enum zone_type zone_idx(const mm_zone *z) { return z->type; }
bool populated_zone(const mm_zone *z) { return z->present != 0; }
uint64_t zone_start_pfn(const mm_zone *z) { return z->start_pfn; }
uint64_t zone_end_pfn(const mm_zone *z) { return z->start_pfn + z->spanned; }
uint64_t zone_spanned_pages(const mm_zone *z) { return z->spanned; }
uint64_t zone_present_pages(const mm_zone *z) { return z->present; }
uint64_t zone_managed_pages(const mm_zone *z) { return z->managed; }
uint64_t zone_free_pages(const mm_zone *z) { return z->nr_free_pages; }
uint64_t zone_watermark_raw(const mm_zone *z, enum zone_watermarks w) { return z->watermark[w]; }
uint64_t zone_watermark_boost(const mm_zone *z) { return z->watermark_boost; }
void zone_clear_watermark_boost(mm_zone *z) { z->watermark_boost = 0; }
uint64_t zone_nr_reserved_highatomic(const mm_zone *z) { return z->nr_reserved_highatomic; }

uint64_t wmark_pages(const mm_zone *z, enum zone_watermarks w)
{
    return z->watermark[w] + z->watermark_boost;
}

uint64_t zone_lowmem_reserve(const mm_zone *z, enum zone_type classzone)
{
    return (int)classzone >= 0 && classzone < MM_NR_ZONE_TYPES ? z->lowmem_reserve[classzone] : 0;
}

/* is_highmem_idx(): HighMem, or Movable when it is carved from HighMem */
bool is_highmem(const mm_zone *z)
{
    return z->type == ZONE_HIGHMEM ||
           (z->type == ZONE_MOVABLE && z->pm->movable_zone == ZONE_HIGHMEM);
}

/* ---- stats ----------------------------------------------------------------------------------- */

static uint64_t g_free(const void *c) { return ((const struct mm_zone *)c)->nr_free_pages; }
static uint64_t g_min(const void *c) { return wmark_pages(c, WMARK_MIN); }
static uint64_t g_low(const void *c) { return wmark_pages(c, WMARK_LOW); }
static uint64_t g_high(const void *c) { return wmark_pages(c, WMARK_HIGH); }
static uint64_t g_boost(const void *c) { return ((const struct mm_zone *)c)->watermark_boost; }
static uint64_t g_managed(const void *c) { return ((const struct mm_zone *)c)->managed; }
static uint64_t g_pcp(const void *c) { return zone_pcp_total(c); }
static uint64_t g_hatomic(const void *c)
{
    return ((const struct mm_zone *)c)->nr_reserved_highatomic;
}
static uint64_t g_order(const void *c)
{
    const struct zone_gauge_ctx *g = c;
    return g->zone->free_area[g->order].nr_free;
}

static void register_zone_stats(struct mm_zone *z, stats_registry *reg)
{
    snprintf(z->prefix_zone, sizeof z->prefix_zone, "os.zone.node%d.%s", z->nid,
             zone_names[z->type]);
    snprintf(z->prefix_buddy, sizeof z->prefix_buddy, "os.buddy.node%d.%s", z->nid,
             zone_names[z->type]);
    const char *p = z->prefix_zone;
    stats_gauge(reg, p, "free_pages", g_free, z, "free pages in the buddy lists (NR_FREE_PAGES)");
    stats_gauge(reg, p, "min", g_min, z, "min watermark, pages (boost included)");
    stats_gauge(reg, p, "low", g_low, z, "low watermark, pages (boost included)");
    stats_gauge(reg, p, "high", g_high, z, "high watermark, pages (boost included)");
    stats_gauge(reg, p, "boost", g_boost, z, "watermark boost, pages");
    stats_gauge(reg, p, "managed", g_managed, z, "pages managed by the buddy allocator");
    stats_gauge(reg, p, "pcp_pages", g_pcp, z, "pages held on the per-CPU lists");
    stats_gauge(reg, p, "reserved_highatomic", g_hatomic, z,
                "pages in high-order atomic reserve pageblocks");
    stats_counter(reg, p, "pgalloc", &z->pgalloc, "pages allocated from the zone");
    stats_counter(reg, p, "pgfree", &z->pgfree, "pages freed to the zone");
    stats_counter(reg, p, "numa_hit", &z->numa_hit, "allocations on the preferred node");
    stats_counter(reg, p, "numa_miss", &z->numa_miss, "allocations here meant for another node");
    stats_counter(reg, p, "numa_foreign", &z->numa_foreign,
                  "allocations meant for here served by another node");
    stats_counter(reg, p, "numa_local", &z->numa_local, "allocations by a CPU of this node");
    stats_counter(reg, p, "numa_other", &z->numa_other, "allocations by a CPU of another node");
    p = z->prefix_buddy;
    for (unsigned o = 0; o <= z->pm->max_order; o++) {
        char leaf[32];
        snprintf(leaf, sizeof leaf, "free_order%u", o);
        z->gctx[o].zone = z;
        z->gctx[o].order = o;
        stats_gauge(reg, p, leaf, g_order, &z->gctx[o], "free blocks of this order");
    }
    stats_counter(reg, p, "fallbacks", &z->alloc_fallback,
                  "allocations that took a block of another migratetype (extfrag events)");
    stats_counter(reg, p, "pageblock_steals", &z->pageblock_steal,
                  "pageblocks whose migratetype a fallback changed");
    stats_counter(reg, p, "pcp_refills", &z->pcp_refill, "pcp lists refilled from the buddy");
    stats_counter(reg, p, "pcp_drained", &z->pcp_drained, "pages moved from pcp lists to the buddy");
    stats_counter(reg, p, "highatomic_reserved", &z->highatomic_reserved,
                  "pageblocks reserved for high-order atomic allocations");
}

/* ---- create / destroy ------------------------------------------------------------------------ */

mm_phys *mm_phys_create(const mm_phys_config *cfg, stats_registry *reg, mm_err *err)
{
    if (validate_config(cfg, err))
        return NULL;
    mm_phys *pm = xcalloc(1, sizeof *pm);
    pm->cfg = *cfg;
    pm->nr_nodes = cfg->nr_nodes;
    pm->max_order = cfg->max_order;
    pm->pageblock_order = cfg->pageblock_order;
    pm->pageblock_nr_pages = 1ull << cfg->pageblock_order;
    for (unsigned n = 0; n < pm->nr_nodes; n++) {
        pm->node_start[n] = cfg->node[n].start_pfn;
        pm->node_end[n] = cfg->node[n].start_pfn + cfg->node[n].nr_pages;
        for (unsigned c = 0; c < cfg->node[n].nr_cpus; c++)
            pm->cpu_node[pm->nr_cpus++] = (int)n;
    }
    if (pm->nr_cpus == 0)
        pm->cpu_node[pm->nr_cpus++] = 0;
    pm->max_pfn = pm->node_end[pm->nr_nodes - 1];
    pm->watermark_scale_factor = cfg->watermark_scale_factor;
    pm->watermark_boost_factor = cfg->watermark_boost_factor;
    for (int i = 0; i < MM_NR_ZONE_TYPES; i++)
        pm->lowmem_reserve_ratio[i] = cfg->lowmem_reserve_ratio[i] < 1 ? 0
                                                                        : cfg->lowmem_reserve_ratio[i];
    pm->nr_migratetypes_shown = MIGRATE_TYPES - (cfg->cma_type ? 0 : 1);

    pm->zones = xcalloc((size_t)pm->nr_nodes * MM_NR_ZONE_TYPES, sizeof *pm->zones);
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            z->pm = pm;
            z->nid = (int)n;
            z->type = (enum zone_type)t;
            z->gidx = (uint8_t)(n * MM_NR_ZONE_TYPES + (unsigned)t);
            z->configured = mm_zone_type_configured(pm, (enum zone_type)t);
        }
    if (compute_layout(pm, err)) {
        free(pm->zones);
        free(pm);
        return NULL;
    }

    /* memmap: flat metadata; gaps between nodes are absent */
    pm->meta = xcalloc(pm->max_pfn, sizeof *pm->meta);
    uint64_t nr_pb = pm->max_pfn >> pm->pageblock_order;
    pm->pb_mt = xcalloc(nr_pb ? nr_pb : 1, 1);
    pm->pb_zone = xmalloc(nr_pb ? nr_pb : 1);
    memset(pm->pb_zone, 0xff, nr_pb ? nr_pb : 1);
    uint64_t prev = 0;
    for (unsigned n = 0; n < pm->nr_nodes; n++) {
        for (uint64_t p = prev; p < pm->node_start[n]; p++)
            pm->meta[p].flags = PG_ABSENT;
        prev = pm->node_end[n];
    }
    /* memmap_init: every pageblock of a zone starts MIGRATE_MOVABLE */
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            buddy_init_zone(z);
            if (!populated_zone(z))
                continue;
            for (uint64_t pfn = z->start_pfn; pfn < zone_end_pfn(z); pfn += pm->pageblock_nr_pages) {
                pm->pb_zone[pfn >> pm->pageblock_order] = z->gidx;
                pm->pb_mt[pfn >> pm->pageblock_order] = MIGRATE_MOVABLE;
                z->nr_pageblocks[MIGRATE_MOVABLE]++;
            }
            for (uint64_t pfn = z->start_pfn; pfn < z->start_pfn + z->reserved; pfn++)
                pm->meta[pfn].flags = PG_RESERVED;
        }

    build_zonelists(pm);
    /* build_all_zonelists(): grouping by mobility is off when the pages above the high watermark
     * (all managed pages at boot) do not fill a pageblock per migratetype */
    pm->mobility_disabled =
        nr_free_zone_pages(pm, ZONE_MOVABLE) < pm->pageblock_nr_pages * pm->nr_migratetypes_shown;

    /* memblock_free_all(): every managed range into the buddy, ascending */
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (populated_zone(z) && z->managed)
                buddy_free_boot_range(z, z->start_pfn + z->reserved, zone_end_pfn(z));
        }
    /* setup_per_cpu_pageset(), with the watermarks still 0 */
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (populated_zone(z))
                zone_set_pageset_high_and_batch(z);
        }
    /* init_per_zone_wmark_min() */
    pm->user_min_free_kbytes = -1;
    if (cfg->min_free_kbytes > 0) {
        pm->min_free_kbytes = cfg->min_free_kbytes;
        pm->user_min_free_kbytes = cfg->min_free_kbytes;
    } else {
        pm->min_free_kbytes = calculate_min_free_kbytes(pm);
    }
    setup_per_zone_wmarks(pm);
    setup_per_zone_lowmem_reserve(pm);

    if (reg) {
        stats_counter(reg, "os.buddy", "alloc_failures", &pm->alloc_failures,
                      "get_page_from_freelist calls that found no zone");
        for (unsigned n = 0; n < pm->nr_nodes; n++)
            for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
                struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
                if (populated_zone(z))
                    register_zone_stats(z, reg);
            }
    }
    return pm;
}

void mm_phys_destroy(mm_phys *pm)
{
    if (!pm)
        return;
    for (unsigned n = 0; n < pm->nr_nodes; n++) {
        free(pm->zl_fallback[n]);
        free(pm->zl_thisnode[n]);
    }
    for (unsigned i = 0; i < pm->nr_nodes * MM_NR_ZONE_TYPES; i++)
        free(pm->zones[i].pcp);
    free(pm->zones);
    free(pm->meta);
    free(pm->pb_mt);
    free(pm->pb_zone);
    free(pm);
}
