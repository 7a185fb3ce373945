/* The buddy allocator and per-CPU page lists. Written from a reading of Linux's mm/page_alloc.c
 * (v6.1 era); each function names the kernel function it mirrors, and the comments say why the
 * kernel does what the model copies. */
#include "models/os/buddy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "models/os/mm_internal.h"

#define FPI_NONE 0
#define FPI_TO_TAIL 1

static inline struct page_meta *pmeta(const struct mm_phys *pm, uint64_t pfn)
{
    return &pm->meta[pfn];
}

static inline int pb_migratetype(const struct mm_phys *pm, uint64_t pfn)
{
    return pm->pb_mt[pfn >> pm->pageblock_order];
}

int get_pageblock_migratetype(const mm_phys *pm, uint64_t pfn)
{
    return pfn < pm->max_pfn ? pb_migratetype(pm, pfn) : -1;
}

static inline bool zone_spans_pfn(const struct mm_zone *z, uint64_t pfn)
{
    return pfn >= z->start_pfn && pfn < z->start_pfn + z->spanned;
}

static inline bool migratetype_is_mergeable(int mt)
{
    return mt < MIGRATE_PCPTYPES;
}

/* ---- intrusive pfn lists ---------------------------------------------------------------------- */

static void plist_init(struct pfn_list *l)
{
    l->head = l->tail = PFN_NIL;
}

static void plist_add(struct mm_phys *pm, struct pfn_list *l, uint64_t pfn)
{
    struct page_meta *m = pmeta(pm, pfn);
    m->prev = PFN_NIL;
    m->next = l->head;
    if (l->head != PFN_NIL)
        pmeta(pm, l->head)->prev = (uint32_t)pfn;
    else
        l->tail = (uint32_t)pfn;
    l->head = (uint32_t)pfn;
}

static void plist_add_tail(struct mm_phys *pm, struct pfn_list *l, uint64_t pfn)
{
    struct page_meta *m = pmeta(pm, pfn);
    m->next = PFN_NIL;
    m->prev = l->tail;
    if (l->tail != PFN_NIL)
        pmeta(pm, l->tail)->next = (uint32_t)pfn;
    else
        l->head = (uint32_t)pfn;
    l->tail = (uint32_t)pfn;
}

static void plist_del(struct mm_phys *pm, struct pfn_list *l, uint64_t pfn)
{
    struct page_meta *m = pmeta(pm, pfn);
    if (m->prev != PFN_NIL)
        pmeta(pm, m->prev)->next = m->next;
    else
        l->head = m->next;
    if (m->next != PFN_NIL)
        pmeta(pm, m->next)->prev = m->prev;
    else
        l->tail = m->prev;
    m->next = m->prev = PFN_NIL;
}

/* ---- free lists (add_to_free_list, del_page_from_free_list, move_to_free_list) ---------------- */

static void add_to_free_list(struct mm_zone *z, uint64_t pfn, unsigned order, int mt, bool tail)
{
    struct mm_phys *pm = z->pm;
    struct free_area *area = &z->free_area[order];
    if (tail)
        plist_add_tail(pm, &area->list[mt], pfn);
    else
        plist_add(pm, &area->list[mt], pfn);
    area->nr_free++;
    area->nr_mt[mt]++;
    struct page_meta *m = pmeta(pm, pfn);
    m->flags = PG_BUDDY; /* set_buddy_order() */
    m->order = (uint8_t)order;
    m->mt = (uint8_t)mt;
}

static void del_page_from_free_list(struct mm_zone *z, uint64_t pfn, unsigned order)
{
    struct mm_phys *pm = z->pm;
    struct page_meta *m = pmeta(pm, pfn);
    struct free_area *area = &z->free_area[order];
    plist_del(pm, &area->list[m->mt], pfn);
    area->nr_free--;
    area->nr_mt[m->mt]--;
    m->flags = 0;
}

/* Moved pages go to the tail so they are not picked again at once (list_move_tail). */
static void move_to_free_list(struct mm_zone *z, uint64_t pfn, unsigned order, int mt)
{
    struct mm_phys *pm = z->pm;
    struct page_meta *m = pmeta(pm, pfn);
    struct free_area *area = &z->free_area[order];
    plist_del(pm, &area->list[m->mt], pfn);
    area->nr_mt[m->mt]--;
    plist_add_tail(pm, &area->list[mt], pfn);
    area->nr_mt[mt]++;
    m->mt = (uint8_t)mt;
}

/* set_pageblock_migratetype(): with grouping by mobility off every pcp type collapses into
 * UNMOVABLE. Keeps the zone's per-type pageblock counts. */
void set_pageblock_migratetype(struct mm_phys *pm, uint64_t pfn, int mt)
{
    if (pm->mobility_disabled && mt < MIGRATE_PCPTYPES)
        mt = MIGRATE_UNMOVABLE;
    uint64_t pb = pfn >> pm->pageblock_order;
    int old = pm->pb_mt[pb];
    if (old == mt)
        return;
    uint8_t g = pm->pb_zone[pb];
    if (g != 0xff) {
        pm->zones[g].nr_pageblocks[old]--;
        pm->zones[g].nr_pageblocks[mt]++;
    }
    pm->pb_mt[pb] = (uint8_t)mt;
}

/* ---- freeing ---------------------------------------------------------------------------------- */

/* page_is_buddy() / find_buddy_page_pfn(): the buddy is the head of a free block of the same
 * order in the same zone. */
static bool page_is_buddy(const struct mm_zone *z, uint64_t buddy_pfn, unsigned order)
{
    const struct mm_phys *pm = z->pm;
    if (buddy_pfn >= pm->max_pfn || !zone_spans_pfn(z, buddy_pfn))
        return false;
    const struct page_meta *m = pmeta(pm, buddy_pfn);
    return (m->flags & PG_BUDDY) && m->order == order;
}

/* buddy_merge_likely(): when the block one order up could be completed by a free buddy, the new
 * block goes to the list tail so it is less likely to be allocated before that merge happens. */
static bool buddy_merge_likely(const struct mm_zone *z, uint64_t pfn, uint64_t buddy_pfn,
                               unsigned order)
{
    if (order + 1 >= z->pm->max_order)
        return false;
    uint64_t higher = buddy_pfn & pfn;
    return page_is_buddy(z, higher ^ (1ull << (order + 1)), order + 1);
}

/* __free_one_page(): merge with the buddy (pfn ^ 2^order) while it is free with the same order,
 * moving up one order each time, then put the block on the free list of migratetype mt. At and
 * above pageblock_order a block of a non-mergeable type (HIGHATOMIC, CMA, ISOLATE) is not merged
 * with a block of another type, so reserves and isolation stay exact. */
static void __free_one_page(struct mm_zone *z, uint64_t pfn, unsigned order, int mt, int fpi)
{
    struct mm_phys *pm = z->pm;
    uint64_t buddy_pfn = pfn;
    if (mt != MIGRATE_ISOLATE)
        z->nr_free_pages += 1ull << order;
    while (order < pm->max_order) {
        buddy_pfn = pfn ^ (1ull << order);
        if (!page_is_buddy(z, buddy_pfn, order))
            break;
        if (order >= pm->pageblock_order) {
            int buddy_mt = pb_migratetype(pm, buddy_pfn);
            if (mt != buddy_mt &&
                (!migratetype_is_mergeable(mt) || !migratetype_is_mergeable(buddy_mt)))
                break;
        }
        del_page_from_free_list(z, buddy_pfn, order);
        pfn &= buddy_pfn;
        order++;
    }
    bool to_tail = (fpi & FPI_TO_TAIL) ? true : buddy_merge_likely(z, pfn, buddy_pfn, order);
    add_to_free_list(z, pfn, order, mt, to_tail);
}

/* memblock_free_all() -> __free_pages_memory(): the largest aligned blocks that fit, ascending,
 * each through __free_pages_core() which puts fresh pages at the list tail (FPI_TO_TAIL). */
void buddy_free_boot_range(struct mm_zone *z, uint64_t start, uint64_t end)
{
    struct mm_phys *pm = z->pm;
    while (start < end) {
        unsigned order = start ? (unsigned)__builtin_ctzll(start) : pm->max_order;
        if (order > pm->max_order)
            order = pm->max_order;
        while (start + (1ull << order) > end)
            order--;
        __free_one_page(z, start, order, pb_migratetype(pm, start), FPI_TO_TAIL);
        start += 1ull << order;
    }
}

/* ---- allocation from the free lists ----------------------------------------------------------- */

/* expand(): the block at pfn of order `high` is split down to `low`; the lower half is kept each
 * time and the upper half goes to the head of its order's list. The order of subdivision decides
 * which pages later small allocations get, so it is kept exactly. */
static void expand(struct mm_zone *z, uint64_t pfn, unsigned low, unsigned high, int mt)
{
    uint64_t size = 1ull << high;
    while (high > low) {
        high--;
        size >>= 1;
        add_to_free_list(z, pfn + size, high, mt, false);
    }
}

/* __rmqueue_smallest(): the smallest block of the wanted type, split down to the order. The
 * type asked for is cached in the page (set_pcppage_migratetype). */
static uint64_t __rmqueue_smallest(struct mm_zone *z, unsigned order, int mt)
{
    struct mm_phys *pm = z->pm;
    for (unsigned co = order; co <= pm->max_order; co++) {
        uint32_t pfn = z->free_area[co].list[mt].head;
        if (pfn == PFN_NIL)
            continue;
        del_page_from_free_list(z, pfn, co);
        expand(z, pfn, order, co, mt);
        pmeta(pm, pfn)->mt = (uint8_t)mt;
        return pfn;
    }
    return MM_PFN_NONE;
}

/* The fallback table: where each type looks when its own lists are empty. */
static const int fallbacks[MIGRATE_PCPTYPES][3] = {
    [MIGRATE_UNMOVABLE] = {MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE, MIGRATE_TYPES},
    [MIGRATE_MOVABLE] = {MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, MIGRATE_TYPES},
    [MIGRATE_RECLAIMABLE] = {MIGRATE_UNMOVABLE, MIGRATE_MOVABLE, MIGRATE_TYPES},
};

/* move_freepages(): every free block in [start, end] onto mt's lists (tail). With num_movable,
 * count the allocated pages that could be migrated: in the model, blocks allocated as MOVABLE
 * (which Linux would find on the LRU or marked __PageMovable). */
static uint64_t move_freepages(struct mm_zone *z, uint64_t start, uint64_t end, int mt,
                               uint64_t *num_movable)
{
    struct mm_phys *pm = z->pm;
    uint64_t moved = 0;
    for (uint64_t pfn = start; pfn <= end;) {
        struct page_meta *m = pmeta(pm, pfn);
        if (!(m->flags & PG_BUDDY)) {
            uint64_t step = 1;
            if (m->flags & (PG_ALLOC | PG_PCP))
                step = 1ull << m->order;
            if (num_movable && (m->flags & PG_ALLOC) && m->mt == MIGRATE_MOVABLE)
                *num_movable += step;
            pfn += step;
            continue;
        }
        unsigned order = m->order;
        move_to_free_list(z, pfn, order, mt);
        pfn += 1ull << order;
        moved += 1ull << order;
    }
    return moved;
}

/* move_freepages_block(): the pageblock holding pfn, not crossing the zone's edges. */
static uint64_t move_freepages_block(struct mm_zone *z, uint64_t pfn, int mt,
                                     uint64_t *num_movable)
{
    uint64_t pbn = z->pm->pageblock_nr_pages;
    if (num_movable)
        *num_movable = 0;
    uint64_t start = pfn & ~(pbn - 1), end = start + pbn - 1;
    if (!zone_spans_pfn(z, start))
        start = pfn;
    if (!zone_spans_pfn(z, end))
        return 0;
    return move_freepages(z, start, end, mt, num_movable);
}

/* can_steal_fallback(): take the whole pageblock when the block found is large (likely more free
 * pages around it), and always for unmovable and reclaimable requests, whose pollution of movable
 * blocks fragments worse than the reverse. */
static bool can_steal_fallback(const struct mm_phys *pm, unsigned order, int start_mt)
{
    if (order >= pm->pageblock_order)
        return true;
    return order >= pm->pageblock_order / 2 || start_mt == MIGRATE_RECLAIMABLE ||
           start_mt == MIGRATE_UNMOVABLE || pm->mobility_disabled;
}

/* boost_watermark(): raise the watermarks by a pageblock per fallback, up to
 * high * watermark_boost_factor / 10000, so kswapd reclaims and later fallbacks are rarer. */
static bool boost_watermark(struct mm_zone *z)
{
    struct mm_phys *pm = z->pm;
    if (!pm->watermark_boost_factor)
        return false;
    if (pm->pageblock_nr_pages * 4 > z->managed)
        return false;
    uint64_t high = z->watermark[WMARK_HIGH];
    uint64_t max_boost = (high / 10000) * (uint64_t)pm->watermark_boost_factor +
                         ((high % 10000) * (uint64_t)pm->watermark_boost_factor) / 10000;
    if (!max_boost)
        return false;
    if (max_boost < pm->pageblock_nr_pages)
        max_boost = pm->pageblock_nr_pages;
    uint64_t b = z->watermark_boost + pm->pageblock_nr_pages;
    z->watermark_boost = b < max_boost ? b : max_boost;
    return true;
}

/* steal_suitable_fallback(): a block of max order or pageblock size changes the type of all its
 * pageblocks; a smaller one moves every free page of its pageblock to the new type and claims the
 * pageblock when at least half of it is free or already of a compatible kind. */
static void steal_suitable_fallback(struct mm_zone *z, uint64_t pfn, unsigned alloc_flags,
                                    int start_type, bool whole_block)
{
    struct mm_phys *pm = z->pm;
    unsigned current_order = pmeta(pm, pfn)->order;
    int old_block_type = pb_migratetype(pm, pfn);
    if (old_block_type == MIGRATE_HIGHATOMIC)
        goto single_page;
    if (current_order >= pm->pageblock_order) {
        /* change_pageblock_range() */
        uint64_t nr = 1ull << (current_order - pm->pageblock_order);
        for (uint64_t i = 0; i < nr; i++) {
            uint64_t p = pfn + i * pm->pageblock_nr_pages;
            if (pb_migratetype(pm, p) != start_type)
                z->pageblock_steal++;
            set_pageblock_migratetype(pm, p, start_type);
        }
        goto single_page;
    }
    if (boost_watermark(z) && (alloc_flags & ALLOC_KSWAPD))
        z->boosted = true;
    if (!whole_block)
        goto single_page;
    uint64_t movable_pages = 0;
    uint64_t free_pages = move_freepages_block(z, pfn, start_type, &movable_pages);
    uint64_t alike_pages;
    if (start_type == MIGRATE_MOVABLE) {
        alike_pages = movable_pages;
    } else if (old_block_type == MIGRATE_MOVABLE) {
        /* non-movable request in a movable block: every page not movable is compatible */
        uint64_t used = free_pages + movable_pages;
        alike_pages = used < pm->pageblock_nr_pages ? pm->pageblock_nr_pages - used : 0;
    } else {
        /* unmovable vs reclaimable: their pages cannot be told apart, be conservative */
        alike_pages = 0;
    }
    if (!free_pages)
        goto single_page;
    if (free_pages + alike_pages >= (1ull << (pm->pageblock_order - 1)) || pm->mobility_disabled) {
        if (old_block_type != start_type)
            z->pageblock_steal++;
        set_pageblock_migratetype(pm, pfn, start_type);
    }
    return;
single_page:
    move_to_free_list(z, pfn, current_order, start_type);
}

/* find_suitable_fallback(): the first type in the fallback table with a free block at order. */
static int find_suitable_fallback(const struct mm_zone *z, unsigned order, int mt, bool *can_steal)
{
    const struct free_area *area = &z->free_area[order];
    if (area->nr_free == 0)
        return -1;
    *can_steal = false;
    for (int i = 0;; i++) {
        int fmt = fallbacks[mt][i];
        if (fmt == MIGRATE_TYPES)
            break;
        if (!area->nr_mt[fmt])
            continue;
        if (can_steal_fallback(z->pm, order, mt))
            *can_steal = true;
        return fmt;
    }
    return -1;
}

/* __rmqueue_fallback(): the largest free block of a fallback type (a cheap stand-in for the
 * pageblock with most free pages), or for a movable request that cannot steal the whole block the
 * smallest one (no lasting fragmentation). ALLOC_NOFRAGMENT only takes whole pageblocks. */
static bool __rmqueue_fallback(struct mm_zone *z, unsigned order, int start_mt,
                               unsigned alloc_flags)
{
    struct mm_phys *pm = z->pm;
    int min_order = (int)order;
    if (alloc_flags & ALLOC_NOFRAGMENT)
        min_order = (int)pm->pageblock_order;
    int fallback_mt = -1, current_order;
    bool can_steal = false;
    for (current_order = (int)pm->max_order; current_order >= min_order; current_order--) {
        fallback_mt = find_suitable_fallback(z, (unsigned)current_order, start_mt, &can_steal);
        if (fallback_mt == -1)
            continue;
        if (!can_steal && start_mt == MIGRATE_MOVABLE && current_order > (int)order)
            goto find_smallest;
        goto do_steal;
    }
    return false;
find_smallest:
    for (current_order = (int)order; current_order <= (int)pm->max_order; current_order++) {
        fallback_mt = find_suitable_fallback(z, (unsigned)current_order, start_mt, &can_steal);
        if (fallback_mt != -1)
            break;
    }
do_steal:;
    uint32_t pfn = z->free_area[current_order].list[fallback_mt].head;
    steal_suitable_fallback(z, pfn, alloc_flags, start_mt, can_steal);
    z->alloc_fallback++;
    return true;
}

/* __rmqueue(): own type first; after a successful fallback steal the block is on our lists, so
 * retry the smallest search. */
static uint64_t __rmqueue(struct mm_zone *z, unsigned order, int mt, unsigned alloc_flags)
{
    for (;;) {
        uint64_t pfn = __rmqueue_smallest(z, order, mt);
        if (pfn != MM_PFN_NONE)
            return pfn;
        if (!__rmqueue_fallback(z, order, mt, alloc_flags))
            return MM_PFN_NONE;
    }
}

/* ---- per-CPU page lists ----------------------------------------------------------------------- */

static bool pcp_allowed_order(const struct mm_phys *pm, unsigned order)
{
    if (order <= PAGE_ALLOC_COSTLY_ORDER)
        return true;
    return pm->cfg.thp_pcp && order == pm->pageblock_order;
}

static unsigned order_to_pindex(int mt, unsigned order)
{
    if (order > PAGE_ALLOC_COSTLY_ORDER)
        return NR_LOWORDER_PCP_LISTS; /* the THP list */
    return MIGRATE_PCPTYPES * order + (unsigned)mt;
}

static unsigned pindex_to_order(const struct mm_phys *pm, unsigned pindex)
{
    if (pindex == NR_LOWORDER_PCP_LISTS)
        return pm->pageblock_order;
    return pindex / MIGRATE_PCPTYPES;
}

/* zone_batchsize(): about 0.1% of the zone or 1 MiB, whichever is smaller, divided by 4, then
 * rounded to 2^n - 1 (a power of two was found to alias badly in caches). */
static int zone_batchsize(const struct mm_zone *z)
{
    uint64_t limit = (1024 * 1024) >> z->pm->cfg.page_shift;
    uint64_t b = z->managed >> 10;
    if (b > limit)
        b = limit;
    b /= 4;
    if (b < 1)
        b = 1;
    uint64_t x = b + b / 2;
    uint64_t p2 = 1ull << (63 - __builtin_clzll(x));
    return (int)(p2 - 1);
}

/* zone_highsize(): the zone's low watermark (or managed / percpu_pagelist_high_fraction) split
 * over the CPUs of the zone's node, at least 4 batches, so full pcp lists alone do not wake
 * kswapd. */
static int zone_highsize(const struct mm_zone *z, int batch)
{
    const struct mm_phys *pm = z->pm;
    uint64_t total;
    if (!pm->cfg.percpu_pagelist_high_fraction)
        total = wmark_pages(z, WMARK_LOW);
    else
        total = z->managed / (uint64_t)pm->cfg.percpu_pagelist_high_fraction;
    unsigned split = 0;
    for (unsigned c = 0; c < pm->nr_cpus; c++)
        if (pm->cpu_node[c] == z->nid)
            split++;
    if (!split)
        split = pm->nr_cpus;
    uint64_t high = total / split;
    if (high < (uint64_t)batch << 2)
        high = (uint64_t)batch << 2;
    return (int)high;
}

/* zone_set_pageset_high_and_batch() (via zone_pcp_update): recomputed whenever the watermarks
 * change. With pcp_disabled every CPU keeps the boot pageset (high 0, batch 1). */
void zone_set_pageset_high_and_batch(struct mm_zone *z)
{
    if (z->pm->cfg.pcp_disabled)
        return;
    int batch = zone_batchsize(z);
    if (batch < 1)
        batch = 1;
    int high = zone_highsize(z, batch);
    z->pageset_high = high;
    z->pageset_batch = batch;
    for (unsigned c = 0; c < z->pm->nr_cpus; c++) {
        z->pcp[c].high = high;
        z->pcp[c].batch = batch;
    }
}

/* zone_init_free_lists() and per_cpu_pages_init() with the boot pageset values */
void buddy_init_zone(struct mm_zone *z)
{
    for (unsigned o = 0; o <= MM_MAX_ORDER_LIMIT; o++)
        for (int t = 0; t < MIGRATE_TYPES; t++)
            plist_init(&z->free_area[o].list[t]);
    z->pcp = xcalloc(z->pm->nr_cpus, sizeof *z->pcp);
    z->pageset_high = 0;
    z->pageset_batch = 1;
    for (unsigned c = 0; c < z->pm->nr_cpus; c++) {
        z->pcp[c].high = 0;
        z->pcp[c].batch = 1;
        for (int i = 0; i < NR_PCP_LISTS; i++)
            plist_init(&z->pcp[c].lists[i]);
    }
}

/* free_pcppages_bulk(): `count` pages back to the buddy, round-robin over the lists starting with
 * pindex, each list emptied from its tail (the coldest pages) until the count is met. */
static void free_pcppages_bulk(struct mm_zone *z, int count, struct per_cpu_pages *pcp, int pindex)
{
    struct mm_phys *pm = z->pm;
    int min_pindex = 0, max_pindex = NR_PCP_LISTS - 1;
    if (count > pcp->count)
        count = pcp->count;
    pindex = pindex - 1;
    while (count > 0) {
        struct pfn_list *list;
        for (;;) {
            if (++pindex > max_pindex)
                pindex = min_pindex;
            list = &pcp->lists[pindex];
            if (list->head != PFN_NIL)
                break;
            if (pindex == max_pindex)
                max_pindex--;
            if (pindex == min_pindex)
                min_pindex++;
        }
        unsigned order = pindex_to_order(pm, (unsigned)pindex);
        int nr_pages = 1 << order;
        do {
            uint64_t pfn = list->tail;
            struct page_meta *m = pmeta(pm, pfn);
            int mt = m->mt;
            plist_del(pm, list, pfn);
            m->flags = 0;
            count -= nr_pages;
            pcp->count -= nr_pages;
            z->pcp_drained += (uint64_t)nr_pages;
            __free_one_page(z, pfn, order, mt, FPI_NONE);
        } while (count > 0 && list->head != PFN_NIL);
    }
}

/* nr_pcp_free(): how much to give back once count reaches high. Successive frees without an
 * allocation in between double the batch (free_factor), between batch and high - batch. */
static int nr_pcp_free(struct per_cpu_pages *pcp, int high, int batch, bool free_high)
{
    if (free_high)
        return pcp->count;
    if (high < batch)
        return 1;
    int min_nr_free = batch, max_nr_free = high - batch;
    batch <<= pcp->free_factor;
    if (batch < max_nr_free)
        pcp->free_factor++;
    if (batch < min_nr_free)
        batch = min_nr_free;
    if (batch > max_nr_free)
        batch = max_nr_free;
    return batch;
}

/* nr_pcp_high(): 0 for boot pagesets and when draining high-order frees; while reclaim is active
 * at most 4 batches. */
static int nr_pcp_high(const struct per_cpu_pages *pcp, const struct mm_zone *z, bool free_high)
{
    int high = pcp->high;
    if (!high || free_high)
        return 0;
    if (!z->reclaim_active)
        return high;
    return (pcp->batch << 2) < high ? pcp->batch << 2 : high;
}

/* free_unref_page_commit(): onto the head of the list (hot), then trim when over high. */
static void free_unref_page_commit(struct mm_zone *z, struct per_cpu_pages *pcp, uint64_t pfn,
                                   int mt, unsigned order, unsigned cpu)
{
    struct mm_phys *pm = z->pm;
    unsigned pindex = order_to_pindex(mt, order);
    plist_add(pm, &pcp->lists[pindex], pfn);
    struct page_meta *m = pmeta(pm, pfn);
    m->flags = PG_PCP;
    m->order = (uint8_t)order;
    m->cpu = cpu;
    m->spare = (uint8_t)pindex;
    pcp->count += 1 << order;
    bool free_high = pcp->free_factor && order && order <= PAGE_ALLOC_COSTLY_ORDER;
    int high = nr_pcp_high(pcp, z, free_high);
    if (pcp->count >= high)
        free_pcppages_bulk(z, nr_pcp_free(pcp, high, pcp->batch, free_high), pcp, (int)pindex);
}

/* free_unref_page(): the pageblock's type is cached in the page; HIGHATOMIC (and CMA) pages sit
 * on the movable pcp list but keep their cached type for the return to the buddy; isolated pages
 * bypass the pcp. */
static void free_unref_page(struct mm_zone *z, uint64_t pfn, unsigned order, unsigned cpu)
{
    struct mm_phys *pm = z->pm;
    int mt = pb_migratetype(pm, pfn);
    pmeta(pm, pfn)->mt = (uint8_t)mt;
    int list_mt = mt;
    if (mt >= MIGRATE_PCPTYPES) {
        if (mt == MIGRATE_ISOLATE) {
            __free_one_page(z, pfn, order, mt, FPI_NONE);
            return;
        }
        list_mt = MIGRATE_MOVABLE;
    }
    free_unref_page_commit(z, &z->pcp[cpu], pfn, list_mt, order, cpu);
}

/* rmqueue_bulk(): batch blocks from the buddy onto the pcp list's tail, so the list is in
 * physical order (they come out of expand() ascending). */
static int rmqueue_bulk(struct mm_zone *z, unsigned order, int count, struct pfn_list *list,
                        unsigned pindex, int mt, unsigned alloc_flags, unsigned cpu)
{
    struct mm_phys *pm = z->pm;
    int i, allocated = 0;
    for (i = 0; i < count; i++) {
        uint64_t pfn = __rmqueue(z, order, mt, alloc_flags);
        if (pfn == MM_PFN_NONE)
            break;
        plist_add_tail(pm, list, pfn);
        struct page_meta *m = pmeta(pm, pfn);
        m->flags = PG_PCP;
        m->order = (uint8_t)order;
        m->cpu = cpu;
        m->spare = (uint8_t)pindex;
        allocated++;
    }
    z->nr_free_pages -= (uint64_t)i << order;
    return allocated;
}

/* rmqueue_pcplist() / __rmqueue_pcplist(): an allocation halves free_factor; an empty list is
 * refilled with a batch (scaled down by order, at least 2) and the head is taken. */
static uint64_t rmqueue_pcplist(struct mm_zone *z, unsigned order, int mt, unsigned alloc_flags,
                                unsigned cpu)
{
    struct mm_phys *pm = z->pm;
    struct per_cpu_pages *pcp = &z->pcp[cpu];
    pcp->free_factor >>= 1;
    unsigned pindex = order_to_pindex(mt, order);
    struct pfn_list *list = &pcp->lists[pindex];
    if (list->head == PFN_NIL) {
        int batch = pcp->batch;
        if (batch > 1) {
            batch >>= order;
            if (batch < 2)
                batch = 2;
        }
        int alloced = rmqueue_bulk(z, order, batch, list, pindex, mt, alloc_flags, cpu);
        pcp->count += alloced << order;
        z->pcp_refill++;
        if (list->head == PFN_NIL)
            return MM_PFN_NONE;
    }
    uint64_t pfn = list->head;
    plist_del(pm, list, pfn);
    pmeta(pm, pfn)->flags = 0;
    pcp->count -= 1 << order;
    return pfn;
}

/* rmqueue_buddy(): straight from the free lists; a high-order ALLOC_HARDER request may use the
 * HIGHATOMIC reserve first. */
static uint64_t rmqueue_buddy(struct mm_zone *z, unsigned order, unsigned alloc_flags, int mt)
{
    uint64_t pfn = MM_PFN_NONE;
    if (order > 0 && (alloc_flags & ALLOC_HARDER))
        pfn = __rmqueue_smallest(z, order, MIGRATE_HIGHATOMIC);
    if (pfn == MM_PFN_NONE) {
        pfn = __rmqueue(z, order, mt, alloc_flags);
        if (pfn == MM_PFN_NONE)
            return MM_PFN_NONE;
    }
    if (pmeta(z->pm, pfn)->mt != MIGRATE_ISOLATE)
        z->nr_free_pages -= 1ull << order;
    return pfn;
}

/* zone_statistics(): NUMA hit/miss against the preferred zone's node, local/other against the
 * allocating CPU's node. */
static void zone_statistics(const struct mm_zone *preferred, struct mm_zone *z, unsigned cpu)
{
    if (z->nid == z->pm->cpu_node[cpu])
        z->numa_local++;
    else
        z->numa_other++;
    if (z->nid == preferred->nid) {
        z->numa_hit++;
    } else {
        z->numa_miss++;
        ((struct mm_zone *)preferred)->numa_foreign++;
    }
}

/* prep_new_page(): mark the block allocated, remembering the type asked for */
static void prep_new_page(struct mm_phys *pm, uint64_t pfn, unsigned order, int mt)
{
    struct page_meta *m = pmeta(pm, pfn);
    m->flags = PG_ALLOC;
    m->order = (uint8_t)order;
    m->mt = (uint8_t)mt;
}

/* rmqueue(): pcp orders through the CPU's lists, the rest (or a pcp miss) from the buddy */
static uint64_t rmqueue(struct mm_zone *preferred, struct mm_zone *z, unsigned order,
                        unsigned alloc_flags, int mt, unsigned cpu)
{
    uint64_t pfn = MM_PFN_NONE;
    if (pcp_allowed_order(z->pm, order))
        pfn = rmqueue_pcplist(z, order, mt, alloc_flags, cpu);
    if (pfn == MM_PFN_NONE)
        pfn = rmqueue_buddy(z, order, alloc_flags, mt);
    if (pfn == MM_PFN_NONE)
        return MM_PFN_NONE;
    z->pgalloc += 1ull << order;
    zone_statistics(preferred, z, cpu);
    return pfn;
}

/* reserve_highatomic_pageblock(): a successful high-order atomic allocation reserves its
 * pageblock for later ones, up to about 1% of the zone plus a pageblock. */
static void reserve_highatomic_pageblock(struct mm_zone *z, uint64_t pfn)
{
    struct mm_phys *pm = z->pm;
    uint64_t max_managed = z->managed / 100 + pm->pageblock_nr_pages;
    if (z->nr_reserved_highatomic >= max_managed)
        return;
    int mt = pb_migratetype(pm, pfn);
    if (migratetype_is_mergeable(mt)) {
        z->nr_reserved_highatomic += pm->pageblock_nr_pages;
        set_pageblock_migratetype(pm, pfn, MIGRATE_HIGHATOMIC);
        move_freepages_block(z, pfn, MIGRATE_HIGHATOMIC, NULL);
        z->highatomic_reserved++;
    }
}

uint64_t buddy_alloc_pages(mm_zone *z, unsigned order, int mt, unsigned alloc_flags, unsigned cpu)
{
    if (!z || order > z->pm->max_order || cpu >= z->pm->nr_cpus || mt < 0 ||
        mt >= MIGRATE_PCPTYPES || !populated_zone(z))
        return MM_PFN_NONE;
    uint64_t pfn = rmqueue(z, z, order, alloc_flags, mt, cpu);
    if (pfn != MM_PFN_NONE)
        prep_new_page(z->pm, pfn, order, mt);
    return pfn;
}

int buddy_free_pages(mm_phys *pm, uint64_t pfn, unsigned order, unsigned cpu, mm_err *err)
{
    if (pfn >= pm->max_pfn)
        return mm_errf(err, "free: pfn %llu beyond memory", (unsigned long long)pfn);
    if (cpu >= pm->nr_cpus)
        return mm_errf(err, "free: cpu %u out of range", cpu);
    struct page_meta *m = pmeta(pm, pfn);
    if (!(m->flags & PG_ALLOC))
        return mm_errf(err, "free: pfn %llu is not an allocated block (flags 0x%x)",
                       (unsigned long long)pfn, m->flags);
    if (m->order != order)
        return mm_errf(err, "free: pfn %llu was allocated with order %u, freed with %u",
                       (unsigned long long)pfn, m->order, order);
    struct mm_zone *z = mm_pfn_zone(pm, pfn);
    m->flags = 0;
    z->pgfree += 1ull << order;
    /* free_the_page() */
    if (pcp_allowed_order(pm, order))
        free_unref_page(z, pfn, order, cpu);
    else
        __free_one_page(z, pfn, order, pb_migratetype(pm, pfn), FPI_NONE); /* __free_pages_ok */
    return 0;
}

/* ---- zonelist allocation ---------------------------------------------------------------------- */

enum zone_type gfp_zone(const mm_phys *pm, unsigned gfp)
{
    bool x64 = pm->cfg.arch == MM_ARCH_X86_64;
    if (gfp & MM_GFP_DMA)
        return ZONE_DMA;
    if (gfp & MM_GFP_DMA32)
        return x64 ? ZONE_DMA32 : ZONE_NORMAL;
    if ((gfp & MM_GFP_HIGHMEM) && (gfp & MM_GFP_MOVABLE))
        return ZONE_MOVABLE;
    if (gfp & MM_GFP_HIGHMEM)
        return x64 ? ZONE_NORMAL : ZONE_HIGHMEM;
    return ZONE_NORMAL;
}

int gfp_migratetype(unsigned gfp)
{
    if (gfp & MM_GFP_MOVABLE)
        return MIGRATE_MOVABLE;
    if (gfp & MM_GFP_RECLAIMABLE)
        return MIGRATE_RECLAIMABLE;
    return MIGRATE_UNMOVABLE;
}

unsigned gfp_to_alloc_flags(unsigned gfp)
{
    unsigned f = ALLOC_WMARK_MIN;
    if (gfp & MM_GFP_HIGH)
        f |= ALLOC_HIGH;
    if (gfp & MM_GFP_KSWAPD_RECLAIM)
        f |= ALLOC_KSWAPD;
    if (gfp & MM_GFP_ATOMIC)
        f |= ALLOC_HARDER;
    return f;
}

/* zone_watermark_fast(): a cheap order-0 test before the full one; GFP_ATOMIC order-0 requests
 * checking the min mark ignore the boost (the boost exists to wake kswapd, not to fail atomics). */
static bool zone_watermark_fast(const struct mm_zone *z, unsigned order, uint64_t mark,
                                enum zone_type highest, unsigned alloc_flags, unsigned gfp)
{
    int64_t free_pages = (int64_t)z->nr_free_pages;
    if (!order) {
        int64_t usable = free_pages;
        int64_t reserved = ((alloc_flags & (ALLOC_HARDER | ALLOC_OOM)) ? 0
                                                                      : (int64_t)z->nr_reserved_highatomic);
        usable -= usable < reserved ? usable : reserved;
        if (usable > (int64_t)(mark + z->lowmem_reserve[highest]))
            return true;
    }
    if (__zone_watermark_ok(z, order, mark, highest, alloc_flags, free_pages))
        return true;
    if (!order && (gfp & MM_GFP_ATOMIC) && z->watermark_boost &&
        (alloc_flags & ALLOC_WMARK_MASK) == ALLOC_WMARK_MIN) {
        mark = z->watermark[WMARK_MIN];
        return __zone_watermark_ok(z, order, mark, highest, alloc_flags, free_pages);
    }
    return false;
}

uint64_t get_page_from_freelist(mm_phys *pm, int nid, unsigned gfp, unsigned order,
                                unsigned alloc_flags, unsigned cpu, mm_zone **zone_out)
{
    if (zone_out)
        *zone_out = NULL;
    if (nid < 0 || nid >= (int)pm->nr_nodes || cpu >= pm->nr_cpus || order > pm->max_order) {
        pm->alloc_failures++;
        return MM_PFN_NONE;
    }
    enum zone_type highest = gfp_zone(pm, gfp);
    int mt = gfp_migratetype(gfp);
    bool thisnode = gfp & MM_GFP_THISNODE;
    struct mm_zone *const *zl = thisnode ? pm->zl_thisnode[nid] : pm->zl_fallback[nid];
    unsigned len = thisnode ? pm->zl_thisnode_len[nid] : pm->zl_fallback_len[nid];
    struct mm_zone *preferred = NULL;
    for (unsigned i = 0; i < len && !preferred; i++)
        if (zl[i]->type <= highest)
            preferred = zl[i];
    if (!preferred) {
        pm->alloc_failures++;
        return MM_PFN_NONE;
    }
retry:;
    bool no_fallback = alloc_flags & ALLOC_NOFRAGMENT;
    for (unsigned i = 0; i < len; i++) {
        struct mm_zone *z = zl[i];
        if (z->type > highest)
            continue;
        if (no_fallback && pm->nr_nodes > 1 && z != preferred && z->nid != preferred->nid) {
            /* moving to a remote node: locality beats fragmentation avoidance */
            alloc_flags &= ~(unsigned)ALLOC_NOFRAGMENT;
            goto retry;
        }
        uint64_t mark = wmark_pages(z, (enum zone_watermarks)(alloc_flags & ALLOC_WMARK_MASK));
        if (!zone_watermark_fast(z, order, mark, highest, alloc_flags, gfp)) {
            if (!(alloc_flags & ALLOC_NO_WATERMARKS))
                continue; /* node_reclaim is off (node_reclaim_mode 0) */
        }
        uint64_t pfn = rmqueue(preferred, z, order, alloc_flags, mt, cpu);
        if (pfn != MM_PFN_NONE) {
            prep_new_page(pm, pfn, order, mt);
            if (order && (alloc_flags & ALLOC_HARDER))
                reserve_highatomic_pageblock(z, pfn);
            if (zone_out)
                *zone_out = z;
            return pfn;
        }
    }
    /* every zone fragmented: try again allowing fragmenting fallbacks */
    if (no_fallback) {
        alloc_flags &= ~(unsigned)ALLOC_NOFRAGMENT;
        goto retry;
    }
    pm->alloc_failures++;
    return MM_PFN_NONE;
}

/* alloc_flags_nofragment(): with a DMA32 zone, a request preferring Normal avoids splitting
 * pageblocks of another type while DMA32 could serve it (only spreading Normal -> DMA32 helps). */
static unsigned alloc_flags_nofragment(const mm_phys *pm, const struct mm_zone *z, unsigned gfp)
{
    unsigned f = (gfp & MM_GFP_KSWAPD_RECLAIM) ? ALLOC_KSWAPD : 0;
    if (pm->cfg.arch != MM_ARCH_X86_64 || !z || z->type != ZONE_NORMAL)
        return f;
    if (pm->nr_nodes > 1 && !populated_zone(mm_zone_at(pm, z->nid, ZONE_DMA32)))
        return f;
    return f | ALLOC_NOFRAGMENT;
}

uint64_t alloc_pages_node(mm_phys *pm, int nid, unsigned gfp, unsigned order, unsigned cpu,
                          mm_zone **zone_out)
{
    if (cpu >= pm->nr_cpus)
        return MM_PFN_NONE;
    if (nid < 0)
        nid = pm->cpu_node[cpu];
    mm_zone *first = NULL;
    zonelist_walk(pm, nid, gfp & MM_GFP_THISNODE, gfp_zone(pm, gfp), &first, 1);
    unsigned flags = ALLOC_WMARK_LOW | alloc_flags_nofragment(pm, first, gfp);
    return get_page_from_freelist(pm, nid, gfp, order, flags, cpu, zone_out);
}

/* ---- drains, reserves, flags ------------------------------------------------------------------ */

void buddy_drain_pages(mm_phys *pm, int cpu, mm_zone *zone)
{
    for (unsigned c = 0; c < pm->nr_cpus; c++) {
        if (cpu >= 0 && (unsigned)cpu != c)
            continue;
        for (unsigned i = 0; i < pm->nr_nodes * MM_NR_ZONE_TYPES; i++) {
            struct mm_zone *z = &pm->zones[i];
            if (zone && zone != z)
                continue;
            if (populated_zone(z) && z->pcp[c].count) /* drain_pages_zone() */
                free_pcppages_bulk(z, z->pcp[c].count, &z->pcp[c], 0);
        }
    }
}

/* unreserve_highatomic_pageblock(): give a HIGHATOMIC pageblock back to the request's type;
 * unless forced, each zone keeps one reserved pageblock. */
bool buddy_unreserve_highatomic(mm_phys *pm, int nid, unsigned gfp, bool force)
{
    if (nid < 0 || nid >= (int)pm->nr_nodes)
        return false;
    int mt = gfp_migratetype(gfp);
    mm_zone *zl[MM_MAX_NUMNODES * MM_NR_ZONE_TYPES];
    size_t n = zonelist_walk(pm, nid, gfp & MM_GFP_THISNODE, gfp_zone(pm, gfp), zl,
                             MM_MAX_NUMNODES * MM_NR_ZONE_TYPES);
    for (size_t i = 0; i < n; i++) {
        struct mm_zone *z = zl[i];
        if (!force && z->nr_reserved_highatomic <= pm->pageblock_nr_pages)
            continue;
        for (unsigned o = 0; o <= pm->max_order; o++) {
            uint32_t pfn = z->free_area[o].list[MIGRATE_HIGHATOMIC].head;
            if (pfn == PFN_NIL)
                continue;
            if (pb_migratetype(pm, pfn) == MIGRATE_HIGHATOMIC) {
                uint64_t d = pm->pageblock_nr_pages < z->nr_reserved_highatomic
                                 ? pm->pageblock_nr_pages
                                 : z->nr_reserved_highatomic;
                z->nr_reserved_highatomic -= d;
            }
            set_pageblock_migratetype(pm, pfn, mt);
            if (move_freepages_block(z, pfn, mt, NULL))
                return true;
        }
    }
    return false;
}

void zone_set_reclaim_active(mm_zone *z, bool active)
{
    z->reclaim_active = active;
}

bool zone_test_and_clear_boosted(mm_zone *z)
{
    bool b = z->boosted;
    z->boosted = false;
    return b;
}

/* ---- counts and iteration --------------------------------------------------------------------- */

uint64_t zone_nr_free_blocks(const mm_zone *z, unsigned order)
{
    return order <= z->pm->max_order ? z->free_area[order].nr_free : 0;
}

uint64_t zone_nr_free_blocks_mt(const mm_zone *z, unsigned order, int mt)
{
    if (order > z->pm->max_order || mt < 0 || mt >= MIGRATE_TYPES)
        return 0;
    return z->free_area[order].nr_mt[mt];
}

uint64_t zone_nr_pageblocks(const mm_zone *z, int mt)
{
    return (mt >= 0 && mt < MIGRATE_TYPES) ? z->nr_pageblocks[mt] : 0;
}

static uint64_t nil_to_none(uint32_t p)
{
    return p == PFN_NIL ? MM_PFN_NONE : p;
}

uint64_t zone_free_list_first(const mm_zone *z, unsigned order, int mt)
{
    if (order > z->pm->max_order || mt < 0 || mt >= MIGRATE_TYPES)
        return MM_PFN_NONE;
    return nil_to_none(z->free_area[order].list[mt].head);
}

uint64_t zone_free_list_next(const mm_zone *z, uint64_t pfn)
{
    return pfn < z->pm->max_pfn ? nil_to_none(pmeta(z->pm, pfn)->next) : MM_PFN_NONE;
}

unsigned zone_pcp_count(const mm_zone *z, unsigned cpu)
{
    return cpu < z->pm->nr_cpus ? (unsigned)z->pcp[cpu].count : 0;
}

unsigned zone_pcp_high(const mm_zone *z, unsigned cpu)
{
    return cpu < z->pm->nr_cpus ? (unsigned)z->pcp[cpu].high : 0;
}

unsigned zone_pcp_batch(const mm_zone *z, unsigned cpu)
{
    return cpu < z->pm->nr_cpus ? (unsigned)z->pcp[cpu].batch : 0;
}

uint64_t zone_pcp_total(const mm_zone *z)
{
    uint64_t s = 0;
    for (unsigned c = 0; c < z->pm->nr_cpus; c++)
        s += (uint64_t)z->pcp[c].count;
    return s;
}

uint64_t zone_pcp_list_first(const mm_zone *z, unsigned cpu, unsigned order, int mt)
{
    if (cpu >= z->pm->nr_cpus || !pcp_allowed_order(z->pm, order) || mt < 0 ||
        mt >= MIGRATE_PCPTYPES)
        return MM_PFN_NONE;
    return nil_to_none(z->pcp[cpu].lists[order_to_pindex(mt, order)].head);
}

uint64_t zone_pcp_list_next(const mm_zone *z, uint64_t pfn)
{
    return zone_free_list_next(z, pfn);
}

enum mm_page_state mm_page_state(const mm_phys *pm, uint64_t pfn, unsigned *order)
{
    if (order)
        *order = 0;
    if (pfn >= pm->max_pfn || pm->pb_zone[pfn >> pm->pageblock_order] == 0xff)
        return MM_PAGE_ABSENT;
    const struct page_meta *m = pmeta(pm, pfn);
    if (m->flags & (PG_BUDDY | PG_PCP | PG_ALLOC)) {
        if (order)
            *order = m->order;
        return (m->flags & PG_BUDDY) ? MM_PAGE_FREE
               : (m->flags & PG_PCP) ? MM_PAGE_PCP
                                     : MM_PAGE_ALLOCATED;
    }
    if (m->flags & PG_RESERVED)
        return MM_PAGE_RESERVED;
    if (m->flags & PG_ABSENT)
        return MM_PAGE_ABSENT;
    return MM_PAGE_TAIL;
}

/* ---- invariant checker ------------------------------------------------------------------------ */

static int check_list(const struct mm_phys *pm, const struct pfn_list *l, uint64_t want,
                      uint8_t flag, unsigned order, int mt, const char *what, mm_err *err)
{
    uint64_t n = 0;
    uint32_t prev = PFN_NIL;
    for (uint32_t p = l->head; p != PFN_NIL; p = pm->meta[p].next) {
        const struct page_meta *m = &pm->meta[p];
        if (m->prev != prev)
            return mm_errf(err, "%s: pfn %u has prev %u, expected %u", what, p, m->prev, prev);
        if (!(m->flags & flag) || m->order != order)
            return mm_errf(err, "%s: pfn %u flags 0x%x order %u on an order-%u list", what, p,
                           m->flags, m->order, order);
        if (flag == PG_BUDDY && m->mt != mt)
            return mm_errf(err, "%s: pfn %u records type %u on the type-%d list", what, p, m->mt,
                           mt);
        prev = p;
        if (++n > want)
            return mm_errf(err, "%s: more than the %llu entries counted", what,
                           (unsigned long long)want);
    }
    if (l->tail != prev)
        return mm_errf(err, "%s: tail %u, last entry %u", what, l->tail, prev);
    if (n != want)
        return mm_errf(err, "%s: %llu entries, %llu counted", what, (unsigned long long)n,
                       (unsigned long long)want);
    return 0;
}

static int check_zone(const struct mm_phys *pm, const struct mm_zone *z, mm_err *err)
{
    char what[96];
    uint64_t blocks[MM_MAX_ORDER_LIMIT + 1][MIGRATE_TYPES];
    memset(blocks, 0, sizeof blocks);
    uint64_t free_pages = 0, reserved = 0, pbcount[MIGRATE_TYPES] = {0};
    uint64_t *pcp_pages = xcalloc(pm->nr_cpus, sizeof *pcp_pages);
    uint64_t end = zone_end_pfn(z);
    int rc = 0;
    for (uint64_t pb = z->start_pfn; pb < end; pb += pm->pageblock_nr_pages) {
        if (pm->pb_zone[pb >> pm->pageblock_order] != z->gidx) {
            rc = mm_errf(err, "pageblock at pfn %llu not marked as zone %s",
                         (unsigned long long)pb, zone_name(z));
            goto out;
        }
        pbcount[pb_migratetype(pm, pb)]++;
    }
    for (int t = 0; t < MIGRATE_TYPES; t++)
        if (pbcount[t] != z->nr_pageblocks[t]) {
            rc = mm_errf(err, "zone %s: %llu %s pageblocks, %llu counted", zone_name(z),
                         (unsigned long long)pbcount[t], migratetype_name(t),
                         (unsigned long long)z->nr_pageblocks[t]);
            goto out;
        }
    for (uint64_t pfn = z->start_pfn; pfn < end;) {
        const struct page_meta *m = pmeta(pm, pfn);
        if (m->flags == PG_RESERVED) {
            if (pfn >= z->start_pfn + z->reserved) {
                rc = mm_errf(err, "pfn %llu reserved outside the reserved range",
                             (unsigned long long)pfn);
                goto out;
            }
            reserved++;
            pfn++;
            continue;
        }
        unsigned o = m->order;
        if (m->flags != PG_BUDDY && m->flags != PG_PCP && m->flags != PG_ALLOC) {
            rc = mm_errf(err, "zone %s pfn %llu: flags 0x%x where a block head is expected",
                         zone_name(z), (unsigned long long)pfn, m->flags);
            goto out;
        }
        if (o > pm->max_order || (pfn & ((1ull << o) - 1)) || pfn + (1ull << o) > end) {
            rc = mm_errf(err, "pfn %llu: order %u block misaligned or past the zone",
                         (unsigned long long)pfn, o);
            goto out;
        }
        for (uint64_t t = 1; t < (1ull << o); t++)
            if (pmeta(pm, pfn + t)->flags) {
                rc = mm_errf(err, "pfn %llu inside the order-%u block at %llu has flags 0x%x "
                                  "(overlapping blocks)",
                             (unsigned long long)(pfn + t), o, (unsigned long long)pfn,
                             pmeta(pm, pfn + t)->flags);
                goto out;
            }
        if (m->flags == PG_BUDDY) {
            if (m->mt >= MIGRATE_TYPES) {
                rc = mm_errf(err, "pfn %llu: free with type %u", (unsigned long long)pfn, m->mt);
                goto out;
            }
            blocks[o][m->mt]++;
            if (m->mt != MIGRATE_ISOLATE)
                free_pages += 1ull << o;
            /* free buddies below pageblock_order are always merged; at and above it a merge
             * can have been refused while the types differed (HIGHATOMIC, ISOLATE) and nothing
             * merges free blocks later, so only the lower orders are checked */
            uint64_t b = pfn ^ (1ull << o);
            if (o < pm->pageblock_order && b < pm->max_pfn && zone_spans_pfn(z, b) &&
                (pmeta(pm, b)->flags & PG_BUDDY) && pmeta(pm, b)->order == o) {
                rc = mm_errf(err, "free buddies at pfn %llu and %llu of order %u not merged",
                             (unsigned long long)pfn, (unsigned long long)b, o);
                goto out;
            }
        } else if (m->flags == PG_PCP) {
            if (m->cpu >= pm->nr_cpus) {
                rc = mm_errf(err, "pfn %llu: pcp page of cpu %u", (unsigned long long)pfn, m->cpu);
                goto out;
            }
            pcp_pages[m->cpu] += 1ull << o;
        }
        pfn += 1ull << o;
    }
    if (reserved != z->reserved) {
        rc = mm_errf(err, "zone %s: %llu reserved pages, %llu expected", zone_name(z),
                     (unsigned long long)reserved, (unsigned long long)z->reserved);
        goto out;
    }
    if (free_pages != z->nr_free_pages) {
        rc = mm_errf(err, "node %d zone %s: %llu pages in free blocks, NR_FREE_PAGES %llu", z->nid,
                     zone_name(z), (unsigned long long)free_pages,
                     (unsigned long long)z->nr_free_pages);
        goto out;
    }
    for (unsigned o = 0; o <= pm->max_order; o++) {
        uint64_t sum = 0;
        for (int t = 0; t < MIGRATE_TYPES; t++) {
            if (blocks[o][t] != z->free_area[o].nr_mt[t]) {
                rc = mm_errf(err, "zone %s order %u %s: %llu free blocks, %llu counted",
                             zone_name(z), o, migratetype_name(t),
                             (unsigned long long)blocks[o][t],
                             (unsigned long long)z->free_area[o].nr_mt[t]);
                goto out;
            }
            sum += blocks[o][t];
            snprintf(what, sizeof what, "zone %s free list order %u %s", zone_name(z), o,
                     migratetype_name(t));
            if ((rc = check_list(pm, &z->free_area[o].list[t], blocks[o][t], PG_BUDDY, o, t, what,
                                 err)))
                goto out;
        }
        if (sum != z->free_area[o].nr_free) {
            rc = mm_errf(err, "zone %s order %u: nr_free %llu, lists hold %llu", zone_name(z), o,
                         (unsigned long long)z->free_area[o].nr_free, (unsigned long long)sum);
            goto out;
        }
    }
    for (unsigned c = 0; c < pm->nr_cpus; c++) {
        const struct per_cpu_pages *pcp = &z->pcp[c];
        if ((uint64_t)pcp->count != pcp_pages[c]) {
            rc = mm_errf(err, "zone %s cpu %u: pcp count %d, pages found %llu", zone_name(z), c,
                         pcp->count, (unsigned long long)pcp_pages[c]);
            goto out;
        }
        uint64_t listed = 0;
        for (unsigned i = 0; i < NR_PCP_LISTS; i++) {
            uint64_t n = 0;
            for (uint32_t p = pcp->lists[i].head; p != PFN_NIL; p = pm->meta[p].next) {
                const struct page_meta *m = &pm->meta[p];
                if (m->cpu != c || m->spare != i) {
                    rc = mm_errf(err, "zone %s cpu %u pcp list %u: pfn %u records cpu %u list %u",
                                 zone_name(z), c, i, p, m->cpu, m->spare);
                    goto out;
                }
                if (++n > pcp_pages[c] + 1)
                    break;
            }
            snprintf(what, sizeof what, "zone %s cpu %u pcp list %u", zone_name(z), c, i);
            if ((rc = check_list(pm, &pcp->lists[i], n, PG_PCP, pindex_to_order(pm, i), -1, what,
                                 err)))
                goto out;
            listed += n << pindex_to_order(pm, i);
        }
        if (listed != pcp_pages[c]) {
            rc = mm_errf(err, "zone %s cpu %u: pcp lists hold %llu pages, %llu found", zone_name(z),
                         c, (unsigned long long)listed, (unsigned long long)pcp_pages[c]);
            goto out;
        }
    }
out:
    free(pcp_pages);
    return rc;
}

int buddy_check(const mm_phys *pm, mm_err *err)
{
    for (unsigned i = 0; i < pm->nr_nodes * MM_NR_ZONE_TYPES; i++) {
        const struct mm_zone *z = &pm->zones[i];
        if (populated_zone(z) && check_zone(pm, z, err))
            return -1;
    }
    return 0;
}
