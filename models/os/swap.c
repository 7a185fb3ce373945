/* Swap devices; see swap.h. Mirrors Linux v6.1 mm/swapfile.c and mm/page_io.c (written from an
 * understanding of them). */
#include "models/os/swap.h"

#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "models/os/buddy.h"
#include "models/os/reclaim_internal.h"

#define SWAP_COUNT_MASK 0x3f
#define SWAP_ZRAM_STORED 0x80 /* model-private: the slot holds compressed data in the zram pool */

struct swap_info {
    int prio;
    uint64_t max;   /* slots, header included */
    uint64_t pages; /* usable slots */
    uint64_t inuse_pages;
    uint64_t lowest_bit, highest_bit, cluster_next;
    uint8_t *swap_map;
    mm_bdev *bdev;
    /* zram */
    bool zram;
    double ratio;
    uint64_t stored;
    uint64_t *pool;
    uint64_t pool_n, pool_cap;
};

struct swap_gauge {
    const mm_swap *s;
    int what;
};

struct mm_swap {
    mm_lru *lru;
    mm_pagecache *pc;
    mm_writeback *wb;
    mm_phys *pm;
    double freq_mhz;
    unsigned kb_shift;
    struct swap_info si[MAX_SWAPFILES];
    unsigned nr;
    int least_priority;
    unsigned avail[MAX_SWAPFILES]; /* devices with free slots, by descending priority */
    unsigned nr_avail;
    uint64_t nr_swap_pages, total_swap_pages;
    uint64_t pswpin, pswpout, write_failures;
    struct swap_gauge g[3];
};

void swap_device_config_init(struct swap_device_config *c, enum bdev_kind kind, uint64_t size)
{
    memset(c, 0, sizeof *c);
    c->size_bytes = size;
    c->priority = SWAP_PRIO_AUTO;
    bdev_config_preset(&c->dev, kind);
}

enum { G_TOTAL, G_FREE, G_ZRAM };

static uint64_t g_swap(const void *c)
{
    const struct swap_gauge *g = c;
    const mm_swap *s = g->s;
    switch (g->what) {
    case G_TOTAL:
        return s->total_swap_pages << s->kb_shift;
    case G_FREE:
        return s->nr_swap_pages << s->kb_shift;
    case G_ZRAM:
    default: {
        uint64_t n = 0;
        for (unsigned i = 0; i < s->nr; i++)
            n += s->si[i].pool_n;
        return n;
    }
    }
}

mm_swap *mm_swap_create(mm_lru *lru, mm_pagecache *pc, mm_writeback *wb, double freq_mhz,
                        stats_registry *reg)
{
    mm_swap *s = xcalloc(1, sizeof *s);
    s->lru = lru;
    s->pc = pc;
    s->wb = wb;
    s->pm = mm_lru_phys(lru);
    s->freq_mhz = freq_mhz > 0 ? freq_mhz : 1000;
    s->kb_shift = mm_phys_config_of(s->pm)->page_shift - 10;
    s->least_priority = -1;
    if (reg) {
        static const struct {
            const char *prefix, *leaf, *desc;
        } gs[] = {
            {"os.meminfo", "SwapTotal", "kB of swap space"},
            {"os.meminfo", "SwapFree", "kB of free swap space"},
            {"os.swap", "zram_pool_pages", "frames holding compressed zram data"},
        };
        for (int k = 0; k < 3; k++) {
            s->g[k] = (struct swap_gauge){s, k};
            stats_gauge(reg, gs[k].prefix, gs[k].leaf, g_swap, &s->g[k], gs[k].desc);
        }
        stats_counter(reg, "os.vmstat", "pswpin", &s->pswpin, "pages read from swap");
        stats_counter(reg, "os.vmstat", "pswpout", &s->pswpout, "pages written to swap");
        stats_counter(reg, "os.swap", "write_failures", &s->write_failures,
                      "swap writes that failed (zram pool could not grow)");
    }
    return s;
}

static int first_cpu_of_node(const mm_phys *pm, int nid)
{
    for (unsigned c = 0; c < mm_phys_nr_cpus(pm); c++)
        if (mm_cpu_to_node(pm, c) == nid)
            return (int)c;
    return 0;
}

void mm_swap_destroy(mm_swap *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->nr; i++) {
        struct swap_info *si = &s->si[i];
        for (uint64_t k = 0; k < si->pool_n; k++)
            buddy_free_pages(s->pm, si->pool[k], 0, 0, NULL);
        free(si->pool);
        free(si->swap_map);
        mm_bdev_destroy(si->bdev);
    }
    free(s);
}

/* ---- avail list (plist by priority, FIFO among equals) --------------------------------------- */

static void add_to_avail_list(mm_swap *s, unsigned type)
{
    int prio = s->si[type].prio;
    unsigned pos = 0;
    while (pos < s->nr_avail && s->si[s->avail[pos]].prio >= prio)
        pos++;
    memmove(&s->avail[pos + 1], &s->avail[pos], (s->nr_avail - pos) * sizeof s->avail[0]);
    s->avail[pos] = type;
    s->nr_avail++;
}

static void del_from_avail_list(mm_swap *s, unsigned type)
{
    for (unsigned i = 0; i < s->nr_avail; i++)
        if (s->avail[i] == type) {
            memmove(&s->avail[i], &s->avail[i + 1], (s->nr_avail - i - 1) * sizeof s->avail[0]);
            s->nr_avail--;
            return;
        }
}

int swapon(mm_swap *s, const struct swap_device_config *c, mm_err *err)
{
    if (s->nr >= MAX_SWAPFILES)
        return mm_errf(err, "swap: at most %d swap devices", MAX_SWAPFILES);
    uint64_t page = 1ull << mm_phys_config_of(s->pm)->page_shift;
    uint64_t max = c->size_bytes / page;
    if (max < 2)
        return mm_errf(err, "swap: device of %llu bytes holds no page after its header",
                       (unsigned long long)c->size_bytes);
    if (max - 1 > SWP_OFFSET_MASK)
        return mm_errf(err, "swap: device of %llu bytes exceeds %u slots",
                       (unsigned long long)c->size_bytes, SWP_OFFSET_MASK);
    unsigned type = s->nr++;
    struct swap_info *si = &s->si[type];
    memset(si, 0, sizeof *si);
    si->prio = c->priority == SWAP_PRIO_AUTO ? --s->least_priority : c->priority;
    si->max = max;
    si->pages = max - 1;
    si->swap_map = xcalloc(max, 1);
    si->swap_map[0] = SWAP_MAP_BAD;
    si->lowest_bit = 1;
    si->highest_bit = max - 1;
    si->cluster_next = 1;
    si->bdev = mm_bdev_create(&c->dev, s->freq_mhz);
    si->zram = c->dev.kind == BDEV_ZRAM;
    si->ratio = c->dev.compress_ratio < 1 ? 1 : c->dev.compress_ratio;
    writeback_register_bdev(s->wb, si->bdev);
    s->nr_swap_pages += si->pages;
    s->total_swap_pages += si->pages;
    add_to_avail_list(s, type);
    return (int)type;
}

unsigned swap_nr_devices(const mm_swap *s) { return s->nr; }
int swap_device_priority(const mm_swap *s, unsigned t) { return s->si[t].prio; }
mm_bdev *swap_device_bdev(const mm_swap *s, unsigned t) { return s->si[t].bdev; }
uint64_t swap_device_pages(const mm_swap *s, unsigned t) { return s->si[t].pages; }
uint64_t swap_device_inuse(const mm_swap *s, unsigned t) { return s->si[t].inuse_pages; }
uint64_t swap_zram_pool_pages(const mm_swap *s, unsigned t) { return s->si[t].pool_n; }
uint64_t total_swap_pages(const mm_swap *s) { return s->total_swap_pages; }
uint64_t get_nr_swap_pages(const mm_swap *s) { return s->nr_swap_pages; }
bool vm_swap_full(const mm_swap *s) { return s->nr_swap_pages * 2 < s->total_swap_pages; }

/* ---- zram pool ------------------------------------------------------------------------------- */

static uint64_t pool_need(const struct swap_info *si, uint64_t stored)
{
    double need = (double)stored / si->ratio;
    uint64_t n = (uint64_t)need;
    return (double)n < need ? n + 1 : n;
}

static bool zram_store(mm_swap *s, struct swap_info *si, uint64_t pfn)
{
    uint64_t need = pool_need(si, si->stored + 1);
    while (si->pool_n < need) {
        int nid = folio_nid(s->lru, pfn);
        /* zs_malloc(__GFP_KSWAPD_RECLAIM | __GFP_HIGHMEM | __GFP_MOVABLE) from reclaim, which
         * runs PF_MEMALLOC: no watermarks (gfp_pfmemalloc_allowed) */
        uint64_t f = get_page_from_freelist(s->pm, nid,
                                            MM_GFP_HIGHMEM | MM_GFP_MOVABLE |
                                                MM_GFP_KSWAPD_RECLAIM,
                                            0, ALLOC_NO_WATERMARKS,
                                            (unsigned)first_cpu_of_node(s->pm, nid), NULL);
        if (f == MM_PFN_NONE)
            return false;
        if (si->pool_n == si->pool_cap) {
            si->pool_cap = si->pool_cap ? si->pool_cap * 2 : 64;
            si->pool = xrealloc(si->pool, si->pool_cap * sizeof *si->pool);
        }
        si->pool[si->pool_n++] = f;
    }
    si->stored++;
    return true;
}

static void zram_drop(mm_swap *s, struct swap_info *si)
{
    si->stored--;
    uint64_t need = pool_need(si, si->stored);
    while (si->pool_n > need) {
        uint64_t f = si->pool[--si->pool_n];
        int nid = mm_pfn_zone(s->pm, f) ? zone_to_nid(mm_pfn_zone(s->pm, f)) : 0;
        buddy_free_pages(s->pm, f, 0, (unsigned)first_cpu_of_node(s->pm, nid), NULL);
    }
}

/* ---- slots ----------------------------------------------------------------------------------- */

static void swap_range_alloc(mm_swap *s, unsigned type, uint64_t offset)
{
    struct swap_info *si = &s->si[type];
    if (offset == si->lowest_bit)
        si->lowest_bit++;
    if (offset == si->highest_bit)
        si->highest_bit--;
    si->inuse_pages++;
    if (si->inuse_pages == si->pages) {
        si->lowest_bit = si->max;
        si->highest_bit = 0;
        del_from_avail_list(s, type);
    }
}

static void swap_range_free(mm_swap *s, unsigned type, uint64_t offset)
{
    struct swap_info *si = &s->si[type];
    if (offset < si->lowest_bit)
        si->lowest_bit = offset;
    if (offset > si->highest_bit) {
        bool was_full = !si->highest_bit;
        si->highest_bit = offset;
        if (was_full)
            add_to_avail_list(s, type);
    }
    s->nr_swap_pages++;
    si->inuse_pages--;
    if (si->swap_map[offset] & SWAP_ZRAM_STORED)
        zram_drop(s, si);
    si->swap_map[offset] = 0;
    clear_shadow_from_swap_cache(s->pc, type, (uint32_t)offset, (uint32_t)offset);
}

/* scan_swap_map_slots() for one slot, without clusters */
static uint64_t scan_swap_map_slots(mm_swap *s, unsigned type)
{
    struct swap_info *si = &s->si[type];
    if (si->inuse_pages == si->pages)
        return 0;
    uint64_t offset = si->cluster_next;
    if (offset > si->highest_bit || offset < si->lowest_bit)
        offset = si->lowest_bit;
    uint64_t scan_base = offset;
    while (si->swap_map[offset]) {
        if (++offset > si->highest_bit)
            offset = si->lowest_bit;
        if (offset == scan_base)
            return 0;
    }
    si->swap_map[offset] = SWAP_HAS_CACHE;
    swap_range_alloc(s, type, offset);
    si->cluster_next = offset + 1;
    return offset;
}

uint32_t get_swap_page(mm_swap *s)
{
    if (!s->nr_swap_pages)
        return 0;
    unsigned tried = 0, n = s->nr_avail;
    while (tried++ < n && s->nr_avail) {
        unsigned type = s->avail[0];
        /* plist_requeue(): behind the other devices of the same priority */
        unsigned last = 0;
        while (last + 1 < s->nr_avail && s->si[s->avail[last + 1]].prio == s->si[type].prio)
            last++;
        memmove(&s->avail[0], &s->avail[1], last * sizeof s->avail[0]);
        s->avail[last] = type;
        uint64_t off = scan_swap_map_slots(s, type);
        if (off) {
            s->nr_swap_pages--;
            return swp_entry(type, (uint32_t)off);
        }
    }
    return 0;
}

bool add_to_swap(mm_swap *s, uint64_t pfn, uint64_t now)
{
    uint32_t entry = get_swap_page(s);
    if (!entry)
        return false;
    add_to_swap_cache(s->pc, pfn, entry, NULL);
    folio_mark_dirty(s->wb, pfn, now);
    return true;
}

static struct swap_info *info_of(const mm_swap *s, uint32_t entry)
{
    unsigned t = swp_type(entry);
    if (t >= s->nr || !swp_offset(entry) || swp_offset(entry) >= s->si[t].max)
        return NULL;
    return (struct swap_info *)&s->si[t];
}

unsigned swap_map(const mm_swap *s, uint32_t entry)
{
    const struct swap_info *si = info_of(s, entry);
    return si ? si->swap_map[swp_offset(entry)] & (SWAP_HAS_CACHE | SWAP_COUNT_MASK) : 0;
}

unsigned __swap_count(const mm_swap *s, uint32_t entry)
{
    const struct swap_info *si = info_of(s, entry);
    return si ? si->swap_map[swp_offset(entry)] & SWAP_COUNT_MASK : 0;
}

int swap_duplicate(mm_swap *s, uint32_t entry)
{
    struct swap_info *si = info_of(s, entry);
    if (!si)
        return -1;
    uint8_t *m = &si->swap_map[swp_offset(entry)];
    unsigned count = *m & SWAP_COUNT_MASK;
    if (!(*m & (SWAP_COUNT_MASK | SWAP_HAS_CACHE)) || count >= SWAP_MAP_MAX)
        return -1;
    (*m)++;
    return 0;
}

int swapcache_prepare(mm_swap *s, uint32_t entry)
{
    struct swap_info *si = info_of(s, entry);
    if (!si)
        return -1;
    uint8_t *m = &si->swap_map[swp_offset(entry)];
    if (!(*m & (SWAP_COUNT_MASK | SWAP_HAS_CACHE)))
        return -1;
    if (*m & SWAP_HAS_CACHE)
        return -2;
    *m |= SWAP_HAS_CACHE;
    return 0;
}

/* __swap_entry_free_locked() + swap_entry_free() */
static void swap_entry_put(mm_swap *s, uint32_t entry, bool cache)
{
    struct swap_info *si = info_of(s, entry);
    if (!si)
        return;
    uint64_t off = swp_offset(entry);
    uint8_t *m = &si->swap_map[off];
    unsigned count = *m & SWAP_COUNT_MASK;
    unsigned has_cache = *m & SWAP_HAS_CACHE;
    if (cache)
        has_cache = 0;
    else if (count)
        count--;
    if (count | has_cache)
        *m = (uint8_t)((*m & SWAP_ZRAM_STORED) | count | has_cache);
    else
        swap_range_free(s, swp_type(entry), off);
}

void swap_free(mm_swap *s, uint32_t entry) { swap_entry_put(s, entry, false); }
void put_swap_folio(mm_swap *s, uint32_t entry) { swap_entry_put(s, entry, true); }

bool folio_free_swap(mm_swap *s, uint64_t pfn, uint64_t now)
{
    mm_lru *lru = s->lru;
    if (!folio_test(lru, pfn, PG_swapcache) || folio_test(lru, pfn, PG_writeback))
        return false;
    uint32_t entry = folio_swap_entry(lru, pfn);
    if (__swap_count(s, entry))
        return false;
    delete_from_swap_cache(s->pc, pfn, 0);
    put_swap_folio(s, entry);
    folio_mark_dirty(s->wb, pfn, now);
    return true;
}

/* ---- I/O ------------------------------------------------------------------------------------- */

bool swap_writepage(mm_swap *s, uint64_t pfn, uint64_t now, uint64_t *done)
{
    uint32_t entry = folio_swap_entry(s->lru, pfn);
    struct swap_info *si = info_of(s, entry);
    if (!si)
        return false;
    uint8_t *m = &si->swap_map[swp_offset(entry)];
    if (si->zram && !(*m & SWAP_ZRAM_STORED)) {
        if (!zram_store(s, si, pfn)) {
            s->write_failures++;
            return false;
        }
        *m |= SWAP_ZRAM_STORED;
    }
    s->pswpout++;
    uint64_t t = folio_start_writeback(s->wb, pfn, si->bdev, now);
    if (done)
        *done = t;
    return true;
}

uint64_t swap_readpage(mm_swap *s, uint64_t pfn, uint32_t entry, uint64_t now)
{
    (void)pfn;
    struct swap_info *si = info_of(s, entry);
    if (!si)
        return now;
    s->pswpin++;
    return writeback_read(s->wb, si->bdev, now);
}

/* ---- consistency ----------------------------------------------------------------------------- */

int swap_check(const mm_swap *s, mm_err *err)
{
    uint64_t free = 0, total = 0;
    for (unsigned t = 0; t < s->nr; t++) {
        const struct swap_info *si = &s->si[t];
        uint64_t inuse = 0, stored = 0;
        for (uint64_t off = 1; off < si->max; off++) {
            uint8_t m = si->swap_map[off];
            if (m & SWAP_ZRAM_STORED)
                stored++;
            if (!(m & (SWAP_COUNT_MASK | SWAP_HAS_CACHE))) {
                if (m)
                    return mm_errf(err, "swap %u: free slot %llu holds %#x", t,
                                   (unsigned long long)off, m);
                if (off < si->lowest_bit || off > si->highest_bit)
                    return mm_errf(err, "swap %u: free slot %llu outside [%llu, %llu]", t,
                                   (unsigned long long)off, (unsigned long long)si->lowest_bit,
                                   (unsigned long long)si->highest_bit);
                continue;
            }
            inuse++;
            uint32_t e = swp_entry(t, (uint32_t)off);
            uint64_t pfn = swap_cache_get_folio(s->pc, e);
            if (m & SWAP_HAS_CACHE) {
                if (pfn == MM_PFN_NONE)
                    return mm_errf(err, "swap %u: slot %llu has SWAP_HAS_CACHE, no cached page", t,
                                   (unsigned long long)off);
                if (!folio_test(s->lru, pfn, PG_swapcache) || folio_swap_entry(s->lru, pfn) != e)
                    return mm_errf(err, "swap %u: slot %llu's page %llu does not point back", t,
                                   (unsigned long long)off, (unsigned long long)pfn);
            } else if (pfn != MM_PFN_NONE) {
                return mm_errf(err, "swap %u: slot %llu cached without SWAP_HAS_CACHE", t,
                               (unsigned long long)off);
            }
        }
        if (inuse != si->inuse_pages)
            return mm_errf(err, "swap %u: %llu slots in use, inuse_pages %llu", t,
                           (unsigned long long)inuse, (unsigned long long)si->inuse_pages);
        if (stored != si->stored || si->pool_n != pool_need(si, stored))
            return mm_errf(err, "swap %u: %llu stored, counted %llu, pool %llu", t,
                           (unsigned long long)stored, (unsigned long long)si->stored,
                           (unsigned long long)si->pool_n);
        free += si->pages - inuse;
        total += si->pages;
    }
    if (free != s->nr_swap_pages || total != s->total_swap_pages)
        return mm_errf(err, "swap: %llu free of %llu, counted %llu of %llu",
                       (unsigned long long)free, (unsigned long long)total,
                       (unsigned long long)s->nr_swap_pages,
                       (unsigned long long)s->total_swap_pages);
    if (pagecache_nr_swapcache(s->pc) > s->total_swap_pages)
        return mm_errf(err, "swap: %llu swap-cache pages", (unsigned long long)pagecache_nr_swapcache(s->pc));
    return 0;
}
