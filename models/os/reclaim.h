/* The reclaim, swap and page-cache subsystem as one object for the kernel facade: it creates the
 * LRU state (lru.h), the page and swap cache (pagecache.h), writeback (writeback.h), the swap
 * devices (swap.h) and reclaim (vmscan.h) over an mm_phys, and offers the paths the facade's page
 * fault handler and OS-event handlers need, each returning the cycles the caller is stalled:
 *
 *   anonymous pages  reclaim_anon_add() after the facade allocated and mapped one (do_anonymous_page
 *                    -> folio_add_lru_vma), reclaim_anon_release() when its last mapping goes
 *                    (free_swap_cache + free), reclaim_swap_in() for a fault on a swap PTE
 *                    (do_swap_page), reclaim_swap_entry_free() / _dup() when a swap PTE is zapped
 *                    or copied (free_swap_and_cache, swap_duplicate).
 *   file pages       reclaim_file_read() (read() or a read fault on a file mapping: filemap_read /
 *                    filemap_fault), reclaim_file_write() (write(): generic_perform_write with
 *                    balance_dirty_pages_ratelimited), reclaim_file_dirty() (a dirty file PTE
 *                    found), reclaim_file_truncate().
 *   allocation       reclaim_alloc_pages(): __alloc_pages with kswapd wakeups and direct reclaim.
 *   background       reclaim_run(): every node's kswapd for a budget, the flusher, I/O completions.
 *
 * The facade provides struct reclaim_ops (vmscan.h): folio_referenced and try_to_unmap over its
 * page tables, optionally shrink_slab. */
#ifndef MMUSIM_OS_RECLAIM_H
#define MMUSIM_OS_RECLAIM_H

#include <stdbool.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "models/os/bdev.h"
#include "models/os/lru.h"
#include "models/os/pagecache.h"
#include "models/os/swap.h"
#include "models/os/vmscan.h"
#include "models/os/writeback.h"
#include "models/os/zone.h"

struct mm_reclaim_config {
    double freq_mhz;                 /* core clock: converts every latency to cycles */
    struct vmscan_config vmscan;     /* swappiness, reclaim CPU costs */
    struct wb_config writeback;      /* dirty ratios, expire and writeback intervals */
    struct bdev_config file_bdev;    /* the disk behind every file (default: ssd) */
    unsigned nr_swap;                /* swap devices, swapped on in order */
    struct swap_device_config swap[MAX_SWAPFILES];
    double lookup_ns;                /* a page-cache or swap-cache hit */
    double insert_ns;                /* a new page into the page cache or swap cache */
};
/* 3000 MHz, Linux's defaults, an ssd behind the files, no swap. */
void mm_reclaim_config_init(struct mm_reclaim_config *cfg);

typedef struct mm_reclaim mm_reclaim;

/* ops may be NULL; reg may be NULL. Returns NULL with err set on a bad swap device. */
mm_reclaim *mm_reclaim_create(mm_phys *pm, const struct mm_reclaim_config *cfg,
                              const struct reclaim_ops *ops, stats_registry *reg, mm_err *err);
void mm_reclaim_destroy(mm_reclaim *rc);

mm_lru *reclaim_lru(const mm_reclaim *rc);
mm_pagecache *reclaim_pagecache(const mm_reclaim *rc);
mm_writeback *reclaim_writeback(const mm_reclaim *rc);
mm_swap *reclaim_swap(const mm_reclaim *rc); /* always there (no devices: SwapTotal 0) */
mm_vmscan *reclaim_vmscan(const mm_reclaim *rc);

/* What a fault or syscall path did. */
struct fault_result {
    uint64_t pfn;    /* the page, MM_PFN_NONE when no memory could be had */
    uint64_t cycles; /* stall of the caller: allocation (direct reclaim), I/O wait, throttling */
    bool major;      /* read I/O was waited for (pgmajfault is the facade's to count) */
};

/* __alloc_pages(): see vmscan_alloc_pages(). */
uint64_t reclaim_alloc_pages(mm_reclaim *rc, int nid, unsigned gfp, unsigned order, unsigned cpu,
                             uint64_t now, uint64_t *stall);

/* ---- anonymous pages ------------------------------------------------------------------------- */

/* A freshly allocated page now mapped as anonymous memory of owner: onto the inactive anon list
 * (lru_cache_add_inactive_or_unevictable; mlocked: the unevictable list). */
void reclaim_anon_add(mm_reclaim *rc, uint64_t pfn, uint64_t owner, bool mlocked);
/* The last mapping of an anonymous page went away (zap/exit). A page only its swap-cache entry
 * keeps (swap PTEs still refer to it, or it is under writeback) stays on the LRU without an owner
 * for reclaim to free later; otherwise it leaves the swap cache and is freed. */
void reclaim_anon_release(mm_reclaim *rc, uint64_t pfn, unsigned cpu, uint64_t now);
/* do_swap_page(): a fault on a swap PTE holding entry, by owner, a write when write. A swap-cache
 * hit is minor; otherwise a page is allocated (maybe reclaiming), its shadow evaluated
 * (workingset_refault) and the slot read (major; pswpin). Synchronous devices (zram) whose slot
 * has one reference skip the swap cache. The PTE's reference is dropped (swap_free) and the slot
 * freed as Linux does: always when the swap cache was skipped, else when swap is more than half
 * full, the page is mlocked, or a write fault holds the only reference (the page then is dirty).
 * Returns false (pfn MM_PFN_NONE) when no page could be allocated. */
bool reclaim_swap_in(mm_reclaim *rc, uint32_t entry, uint64_t owner, bool write, unsigned cpu,
                     uint64_t now, struct fault_result *out);
/* free_swap_and_cache(): a swap PTE was zapped. */
void reclaim_swap_entry_free(mm_reclaim *rc, uint32_t entry, unsigned cpu, uint64_t now);
/* swap_duplicate(): a swap PTE was copied (fork). -1 when the entry is not in use. */
int reclaim_swap_entry_dup(mm_reclaim *rc, uint32_t entry);

/* ---- file pages ------------------------------------------------------------------------------ */

/* A read of page index of file: read() when syscall (folio_mark_accessed, as filemap_read), else
 * a read fault on a file mapping (the PTE's accessed bit does the rest). A miss allocates a page,
 * evaluates the slot's shadow and waits for the read (major; pgpgin). */
bool reclaim_file_read(mm_reclaim *rc, uint32_t file, uint64_t index, bool syscall, unsigned cpu,
                       uint64_t now, struct fault_result *out);
/* write() to page index of file; full_page: the whole page is overwritten (no read needed).
 * Dirties the page (nr_dirtied) and runs balance_dirty_pages_ratelimited: above the freerun
 * ceiling the writer is paused, at the hard limit until writeback brings dirty pages below it. */
bool reclaim_file_write(mm_reclaim *rc, uint32_t file, uint64_t index, bool full_page,
                        unsigned cpu, uint64_t now, struct fault_result *out);
/* A dirty PTE of a file page was found (unmap, msync): folio_mark_dirty. */
void reclaim_file_dirty(mm_reclaim *rc, uint64_t pfn, uint64_t now);
/* truncate_inode_pages_range(): drops pages [start, end) of file and their shadows, waiting for
 * writeback; mapped pages are unmapped through try_to_unmap. Returns the caller's wait. */
uint64_t reclaim_file_truncate(mm_reclaim *rc, uint32_t file, uint64_t start, uint64_t end,
                               unsigned cpu, uint64_t now);

/* ---- background ------------------------------------------------------------------------------ */

/* Runs I/O completions and the flusher up to now, and every node's kswapd for up to budget cycles
 * of its own CPU. Returns the kswapd cycles used (summed over nodes). */
uint64_t reclaim_run(mm_reclaim *rc, uint64_t now, uint64_t budget);

#endif
