/* The reclaim, swap and page-cache subsystem as one object; see reclaim.h. The fault paths mirror
 * Linux v6.1 mm/memory.c do_swap_page (with should_try_to_free_swap), mm/swapfile.c
 * free_swap_and_cache, mm/swap.c free_swap_cache, mm/filemap.c filemap_read / filemap_fault /
 * generic_perform_write and mm/truncate.c truncate_inode_pages_range. */
#include "models/os/reclaim.h"

#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "models/os/buddy.h"
#include "models/os/workingset.h"

struct mm_reclaim {
    mm_phys *pm;
    struct mm_reclaim_config cfg;
    struct reclaim_ops ops;
    mm_lru *lru;
    mm_pagecache *pc;
    mm_bdev *file_bdev;
    mm_writeback *wb;
    mm_swap *swap;
    mm_vmscan *vs;
    uint64_t lookup_cycles, insert_cycles;
};

void mm_reclaim_config_init(struct mm_reclaim_config *c)
{
    memset(c, 0, sizeof *c);
    c->freq_mhz = 3000;
    vmscan_config_init(&c->vmscan);
    wb_config_init(&c->writeback);
    bdev_config_preset(&c->file_bdev, BDEV_SSD);
    c->lookup_ns = 50;
    c->insert_ns = 200;
}

mm_reclaim *mm_reclaim_create(mm_phys *pm, const struct mm_reclaim_config *cfg,
                              const struct reclaim_ops *ops, stats_registry *reg, mm_err *err)
{
    struct mm_reclaim_config def;
    if (!cfg) {
        mm_reclaim_config_init(&def);
        cfg = &def;
    }
    if (cfg->nr_swap > MAX_SWAPFILES) {
        mm_errf(err, "swap: at most %d swap devices", MAX_SWAPFILES);
        return NULL;
    }
    mm_reclaim *rc = xcalloc(1, sizeof *rc);
    rc->pm = pm;
    rc->cfg = *cfg;
    if (rc->cfg.freq_mhz <= 0)
        rc->cfg.freq_mhz = 3000;
    if (ops)
        rc->ops = *ops;
    double f = rc->cfg.freq_mhz;
    rc->lookup_cycles = (uint64_t)(rc->cfg.lookup_ns * f / 1000.0 + 0.5);
    rc->insert_cycles = (uint64_t)(rc->cfg.insert_ns * f / 1000.0 + 0.5);
    rc->lru = mm_lru_create(pm, reg);
    rc->pc = mm_pagecache_create(rc->lru, reg);
    rc->file_bdev = mm_bdev_create(&rc->cfg.file_bdev, f);
    rc->wb = mm_writeback_create(rc->lru, rc->pc, rc->file_bdev, &rc->cfg.writeback, f, reg);
    rc->swap = mm_swap_create(rc->lru, rc->pc, rc->wb, f, reg);
    for (unsigned i = 0; i < rc->cfg.nr_swap; i++)
        if (swapon(rc->swap, &rc->cfg.swap[i], err) < 0) {
            mm_reclaim_destroy(rc);
            return NULL;
        }
    rc->vs = mm_vmscan_create(pm, rc->lru, rc->pc, rc->wb, rc->swap, ops, &rc->cfg.vmscan, f, reg);
    return rc;
}

void mm_reclaim_destroy(mm_reclaim *rc)
{
    if (!rc)
        return;
    mm_vmscan_destroy(rc->vs);
    mm_swap_destroy(rc->swap);
    mm_writeback_destroy(rc->wb);
    mm_bdev_destroy(rc->file_bdev);
    mm_pagecache_destroy(rc->pc);
    mm_lru_destroy(rc->lru);
    free(rc);
}

mm_lru *reclaim_lru(const mm_reclaim *rc) { return rc->lru; }
mm_pagecache *reclaim_pagecache(const mm_reclaim *rc) { return rc->pc; }
mm_writeback *reclaim_writeback(const mm_reclaim *rc) { return rc->wb; }
mm_swap *reclaim_swap(const mm_reclaim *rc) { return rc->swap; }
mm_vmscan *reclaim_vmscan(const mm_reclaim *rc) { return rc->vs; }

uint64_t reclaim_alloc_pages(mm_reclaim *rc, int nid, unsigned gfp, unsigned order, unsigned cpu,
                             uint64_t now, uint64_t *stall)
{
    return vmscan_alloc_pages(rc->vs, nid, gfp, order, cpu, now, stall, NULL);
}

static void free_page(mm_reclaim *rc, uint64_t pfn, unsigned cpu)
{
    lru_page_free(rc->lru, pfn);
    buddy_free_pages(rc->pm, pfn, 0, cpu, NULL);
}

static bool swap_available(const mm_reclaim *rc) { return get_nr_swap_pages(rc->swap) > 0; }

/* a new page for a fault at time t: the caller's stall grows by the allocation's */
static uint64_t fault_alloc(mm_reclaim *rc, unsigned cpu, uint64_t t, struct fault_result *out)
{
    uint64_t stall = 0;
    uint64_t pfn = vmscan_alloc_pages(rc->vs, -1, MM_GFP_HIGHUSER_MOVABLE, 0, cpu, t, &stall,
                                      NULL);
    out->cycles += stall;
    return pfn;
}

/* the read I/O of a fault: the wait, counted as a memory stall when a workingset page refaults
 * (psi_memstall_enter in swap_readpage / filemap_read_folio) */
static void fault_wait(mm_reclaim *rc, uint64_t pfn, uint64_t t, uint64_t done,
                       struct fault_result *out)
{
    uint64_t w = done > t ? done - t : 0;
    out->cycles += w;
    out->major = true;
    if (folio_test(rc->lru, pfn, PG_workingset))
        vmscan_add_memstall(rc->vs, w);
}

/* ---- anonymous pages ------------------------------------------------------------------------- */

void reclaim_anon_add(mm_reclaim *rc, uint64_t pfn, uint64_t owner, bool mlocked)
{
    lru_page_init(rc->lru, pfn, owner, PG_swapbacked);
    if (mlocked)
        folio_mlock(rc->lru, pfn);
    folio_add_lru(rc->lru, pfn);
}

void reclaim_anon_release(mm_reclaim *rc, uint64_t pfn, unsigned cpu, uint64_t now)
{
    if (folio_test(rc->lru, pfn, PG_swapcache)) {
        folio_set_owner(rc->lru, pfn, OWNER_NONE);
        if (!folio_free_swap(rc->swap, pfn, now))
            return; /* the swap cache keeps it: reclaim frees it later */
    }
    free_page(rc, pfn, cpu);
}

bool reclaim_swap_in(mm_reclaim *rc, uint32_t entry, uint64_t owner, bool write, unsigned cpu,
                     uint64_t now, struct fault_result *out)
{
    mm_lru *lru = rc->lru;
    memset(out, 0, sizeof *out);
    out->pfn = MM_PFN_NONE;
    bool swapcache = true;
    uint64_t pfn = swap_cache_get_folio(rc->pc, entry);
    if (pfn != MM_PFN_NONE) {
        out->cycles += rc->lookup_cycles;
        folio_set_owner(lru, pfn, owner);
    } else {
        if (swp_type(entry) >= swap_nr_devices(rc->swap) || !__swap_count(rc->swap, entry))
            return false; /* not a swap entry in use */
        const struct bdev_config *dc = bdev_config_of(swap_device_bdev(rc->swap, swp_type(entry)));
        if (dc->synchronous && __swap_count(rc->swap, entry) == 1) {
            /* SWP_SYNCHRONOUS_IO with one reference: read straight into a new page */
            pfn = fault_alloc(rc, cpu, now, out);
            if (pfn == MM_PFN_NONE)
                return false;
            lru_page_init(lru, pfn, owner, PG_swapbacked);
            uint64_t shadow = get_shadow_from_swap_cache(rc->pc, entry);
            if (shadow)
                workingset_refault(lru, pfn, shadow, swap_available(rc));
            folio_add_lru(lru, pfn);
            uint64_t t = now + out->cycles;
            fault_wait(rc, pfn, t, swap_readpage(rc->swap, pfn, entry, t), out);
            swapcache = false;
        } else {
            if (swapcache_prepare(rc->swap, entry))
                return false;
            pfn = fault_alloc(rc, cpu, now, out);
            if (pfn == MM_PFN_NONE) {
                put_swap_folio(rc->swap, entry);
                return false;
            }
            lru_page_init(lru, pfn, owner, PG_swapbacked);
            uint64_t shadow = 0;
            add_to_swap_cache(rc->pc, pfn, entry, &shadow);
            out->cycles += rc->insert_cycles;
            if (shadow)
                workingset_refault(lru, pfn, shadow, swap_available(rc));
            folio_add_lru(lru, pfn);
            uint64_t t = now + out->cycles;
            fault_wait(rc, pfn, t, swap_readpage(rc->swap, pfn, entry, t), out);
        }
    }
    uint64_t t = now + out->cycles;
    /* the PTE maps the page now: its reference to the slot goes */
    swap_free(rc->swap, entry);
    if (swapcache) {
        /* should_try_to_free_swap() */
        bool exclusive = __swap_count(rc->swap, entry) == 0;
        if (vm_swap_full(rc->swap) || folio_test(lru, pfn, PG_mlocked) || (write && exclusive))
            folio_free_swap(rc->swap, pfn, t);
    }
    if (write)
        folio_mark_dirty(rc->wb, pfn, t);
    out->pfn = pfn;
    return true;
}

void reclaim_swap_entry_free(mm_reclaim *rc, uint32_t entry, unsigned cpu, uint64_t now)
{
    swap_free(rc->swap, entry);
    if (swap_map(rc->swap, entry) != SWAP_HAS_CACHE)
        return;
    /* __try_to_reclaim_swap(TTRS_UNMAPPED | TTRS_FULL): only the swap cache holds the slot */
    uint64_t pfn = swap_cache_get_folio(rc->pc, entry);
    if (pfn == MM_PFN_NONE)
        return;
    bool unmapped = folio_owner(rc->lru, pfn) == OWNER_NONE;
    if (!unmapped && !vm_swap_full(rc->swap))
        return;
    if (folio_free_swap(rc->swap, pfn, now) && unmapped)
        free_page(rc, pfn, cpu);
}

int reclaim_swap_entry_dup(mm_reclaim *rc, uint32_t entry)
{
    return swap_duplicate(rc->swap, entry);
}

/* ---- file pages ------------------------------------------------------------------------------ */

/* the page at (file, index), brought in when missing: read says whether its content is read */
static uint64_t file_get_page(mm_reclaim *rc, uint32_t file, uint64_t index, bool read,
                              unsigned cpu, uint64_t now, struct fault_result *out)
{
    uint64_t pfn = filemap_get_folio(rc->pc, file, index);
    out->cycles += rc->lookup_cycles;
    if (pfn != MM_PFN_NONE)
        return pfn;
    pfn = fault_alloc(rc, cpu, now + out->cycles, out);
    if (pfn == MM_PFN_NONE)
        return MM_PFN_NONE;
    lru_page_init(rc->lru, pfn, OWNER_NONE, 0);
    uint64_t shadow = 0;
    filemap_add_folio(rc->pc, file, index, pfn, &shadow);
    out->cycles += rc->insert_cycles;
    if (shadow)
        workingset_refault(rc->lru, pfn, shadow, swap_available(rc));
    folio_add_lru(rc->lru, pfn);
    if (read) {
        uint64_t t = now + out->cycles;
        fault_wait(rc, pfn, t, writeback_read(rc->wb, rc->file_bdev, t), out);
    }
    return pfn;
}

bool reclaim_file_read(mm_reclaim *rc, uint32_t file, uint64_t index, bool syscall, unsigned cpu,
                       uint64_t now, struct fault_result *out)
{
    memset(out, 0, sizeof *out);
    out->pfn = file_get_page(rc, file, index, true, cpu, now, out);
    if (out->pfn == MM_PFN_NONE)
        return false;
    if (syscall)
        folio_mark_accessed(rc->lru, out->pfn);
    return true;
}

bool reclaim_file_write(mm_reclaim *rc, uint32_t file, uint64_t index, bool full_page,
                        unsigned cpu, uint64_t now, struct fault_result *out)
{
    memset(out, 0, sizeof *out);
    out->pfn = file_get_page(rc, file, index, !full_page, cpu, now, out);
    if (out->pfn == MM_PFN_NONE)
        return false;
    uint64_t t = now + out->cycles;
    bool newly = folio_mark_dirty(rc->wb, out->pfn, t);
    out->cycles += balance_dirty_pages_ratelimited(rc->wb, newly ? 1 : 0, t);
    return true;
}

void reclaim_file_dirty(mm_reclaim *rc, uint64_t pfn, uint64_t now)
{
    folio_mark_dirty(rc->wb, pfn, now);
}

uint64_t reclaim_file_truncate(mm_reclaim *rc, uint32_t file, uint64_t start, uint64_t end,
                               unsigned cpu, uint64_t now)
{
    uint64_t t = now, idx = start;
    for (;;) {
        uint64_t e = mapping_find(rc->pc, file, &idx, end);
        if (e == MAPPING_EMPTY)
            break;
        if (mapping_entry_is_shadow(e)) {
            mapping_erase(rc->pc, file, idx++);
            continue;
        }
        uint64_t pfn = mapping_entry_pfn(e);
        if (rc->ops.try_to_unmap) {
            bool dirty = false;
            uint64_t c = 0;
            rc->ops.try_to_unmap(rc->ops.ctx, folio_owner(rc->lru, pfn), pfn, 0, &dirty, &c);
            t += c;
        }
        if (folio_test(rc->lru, pfn, PG_writeback))
            t += folio_wait_writeback(rc->wb, pfn, t);
        folio_cancel_dirty(rc->wb, pfn);
        filemap_remove_folio(rc->pc, pfn, 0);
        free_page(rc, pfn, cpu);
        idx++;
    }
    return t - now;
}

/* ---- background ------------------------------------------------------------------------------ */

uint64_t reclaim_run(mm_reclaim *rc, uint64_t now, uint64_t budget)
{
    wb_run(rc->wb, now);
    uint64_t used = 0;
    for (unsigned n = 0; n < mm_phys_nr_nodes(rc->pm); n++)
        used += kswapd_run(rc->vs, (int)n, now, budget);
    return used;
}
