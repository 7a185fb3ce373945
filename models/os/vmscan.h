/* Page reclaim of the kernel model, modelled on Linux v6.1 mm/vmscan.c with the classic two-list
 * LRU (CONFIG_LRU_GEN off): shrink_node / shrink_lruvec / get_scan_count / prepare_scan_count /
 * shrink_active_list / shrink_inactive_list / shrink_folio_list / folio_check_references /
 * inactive_is_low, kswapd (balance_pgdat, pgdat_balanced, kswapd_try_to_sleep, wakeup_kswapd),
 * direct reclaim (try_to_free_pages, do_try_to_free_pages, shrink_zones, throttle_direct_reclaim,
 * consider_reclaim_throttle, reclaim_throttle), and the slow path of mm/page_alloc.c that calls
 * them (__alloc_pages_slowpath without compaction and OOM: wake_all_kswapds,
 * __alloc_pages_direct_reclaim, should_reclaim_retry).
 *
 * What the kernel facade provides (struct reclaim_ops): the reverse-map operations this module
 * cannot do itself because page tables live elsewhere. Pages are handed to the callbacks by pfn
 * and owner cookie (lru.h); a page whose owner is OWNER_NONE is taken as unmapped and the
 * callbacks are skipped.
 *
 * Time and cost: entry points take the current time in cycles. Reclaim charges CPU cycles per
 * page from struct reclaim_costs plus what the callbacks report, and waits (throttling, writeback)
 * in simulated time; direct reclaim returns the total as the allocating access's stall, kswapd
 * spends it from the budget the engine gives it.
 *
 * Counters (os.vmstat, /proc/vmstat names): pgscan_kswapd, pgscan_direct,
 * pgscan_direct_throttle, pgscan_anon, pgscan_file, pgsteal_kswapd, pgsteal_direct, pgsteal_anon,
 * pgsteal_file, pgrefill, pageoutrun, kswapd_low_wmark_hit_quickly,
 * kswapd_high_wmark_hit_quickly, allocstall_<zone>, nr_vmscan_write,
 * nr_vmscan_immediate_reclaim (pgactivate, pgdeactivate, workingset_* come from lru.h, pswpin /
 * pswpout from swap.h). os.reclaim: kswapd_wakeups, kswapd_cycles, direct_reclaim_cycles,
 * memstall_cycles (the thrashing indicator: cycles tasks stalled on memory -- direct reclaim,
 * reclaim throttling and workingset refault reads -- as /proc/pressure/memory "some" totals them),
 * alloc_failures. */
#ifndef MMUSIM_OS_VMSCAN_H
#define MMUSIM_OS_VMSCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "models/common/stats.h"
#include "models/os/buddy.h"
#include "models/os/lru.h"
#include "models/os/pagecache.h"
#include "models/os/swap.h"
#include "models/os/writeback.h"
#include "models/os/zone.h"

#define DEF_PRIORITY 12
#define SWAP_CLUSTER_MAX 32
#define MAX_RECLAIM_RETRIES 16

/* vm_flags a folio_referenced callback reports (Linux's values) */
#define VM_EXEC 0x00000004u
#define VM_LOCKED 0x00002000u

struct reclaim_ops {
    void *ctx;
    /* folio_referenced(): test and clear the accessed bit of every PTE mapping the page; returns
     * how many were set (-1: rmap lock contention, the page is kept). *vm_flags gets the union of
     * VM_EXEC / VM_LOCKED of the mapping VMAs. May be NULL: no page is ever referenced. */
    int (*folio_referenced)(void *ctx, uint64_t owner, uint64_t pfn, unsigned *vm_flags,
                            uint64_t *cycles);
    /* try_to_unmap(): remove the page from every address space. For an anonymous page in the swap
     * cache, swap_entry is its swap entry and each PTE is replaced by it (this module counts the
     * references, swap_duplicate, from the return value); for other pages swap_entry is 0 and
     * the PTEs are cleared. *dirty |= any PTE's dirty bit. Returns the number of PTEs removed, or
     * -1 when the page could not be unmapped (it stays mapped and is activated). May be NULL:
     * pages are taken as unmapped. */
    int (*try_to_unmap)(void *ctx, uint64_t owner, uint64_t pfn, uint32_t swap_entry, bool *dirty,
                        uint64_t *cycles);
    /* shrink_slab(): optional; slab caches of node nid at a priority, returns pages freed. */
    uint64_t (*shrink_slab)(void *ctx, int nid, int priority, uint64_t *cycles);
};

/* CPU cost of reclaim work, nanoseconds (typical figures of a few-GHz x86 core, from profiles of
 * shrink_inactive_list; assumptions, not measurements). */
struct reclaim_costs {
    double isolate_ns;  /* isolate + put back one page (lru_lock, list moves) */
    double scan_ns;     /* shrink_folio_list / shrink_active_list per page, rmap excluded */
    double swap_add_ns; /* add_to_swap: slot + swap cache insertion */
    double submit_ns;   /* building and submitting one write (bio) */
    double free_ns;     /* freeing one page back to the allocator */
    double batch_ns;    /* fixed cost of one shrink_list batch (lru_add_drain, plugging) */
};

struct vmscan_config {
    int swappiness; /* vm.swappiness, 0..200, default 60 */
    struct reclaim_costs costs;
};
void vmscan_config_init(struct vmscan_config *cfg);

typedef struct mm_vmscan mm_vmscan;

/* swap may be NULL (no swap). ops may be NULL (no callbacks). reg may be NULL. */
mm_vmscan *mm_vmscan_create(mm_phys *pm, mm_lru *lru, mm_pagecache *pc, mm_writeback *wb,
                            mm_swap *swap, const struct reclaim_ops *ops,
                            const struct vmscan_config *cfg, double freq_mhz,
                            stats_registry *reg);
void mm_vmscan_destroy(mm_vmscan *vs);
void vmscan_set_swappiness(mm_vmscan *vs, int swappiness);
int vmscan_swappiness(const mm_vmscan *vs);

/* ---- the pieces, for tests and the facade ---------------------------------------------------- */

/* inactive_is_low(): inactive * int_sqrt(10 * GiB of the pair) < active (ratio 1 below 1 GiB). */
bool inactive_is_low(const mm_lru *lru, int nid, enum lru_list inactive_lru);

enum scan_balance { SCAN_EQUAL, SCAN_FRACT, SCAN_ANON, SCAN_FILE };
/* prepare_scan_count() + get_scan_count() of global reclaim on node nid at a priority, with the
 * node's current lists and costs: nr[l] for the four evictable lists; *balance (may be NULL) gets
 * the mode chosen and fraction[2] / *denominator (may be NULL) the SCAN_FRACT weights. */
void vmscan_get_scan_count(mm_vmscan *vs, int nid, int priority, enum zone_type reclaim_idx,
                           bool may_swap, uint64_t nr[NR_EVICTABLE_LRU_LISTS],
                           enum scan_balance *balance, uint64_t fraction[2],
                           uint64_t *denominator);

/* One shrink_inactive_list() / shrink_active_list() batch of global reclaim on node nid (as
 * kswapd when kswapd is true, else as direct reclaim), at time now. Returns pages reclaimed;
 * *cycles += the CPU cost. */
uint64_t vmscan_shrink_inactive(mm_vmscan *vs, int nid, enum lru_list lru, uint64_t nr_to_scan,
                                bool kswapd, uint64_t now, uint64_t *cycles);
void vmscan_shrink_active(mm_vmscan *vs, int nid, enum lru_list lru, uint64_t nr_to_scan,
                          bool kswapd, uint64_t now, uint64_t *cycles);

/* pgdat_balanced(): an eligible zone (0..highest_zoneidx, bottom up) meets its high watermark for
 * the order (zone_watermark_ok with lowmem_reserve[highest_zoneidx]); a node with no managed zone
 * in range is balanced. */
bool pgdat_balanced(const mm_vmscan *vs, int nid, unsigned order, enum zone_type highest_zoneidx);
/* zone_reclaimable_pages(): file LRU pages of the zone, plus anon when swap has free slots. */
uint64_t zone_reclaimable_pages(const mm_vmscan *vs, const mm_zone *z);

/* ---- direct reclaim -------------------------------------------------------------------------- */

/* try_to_free_pages(): direct reclaim for an allocation of order on node nid's zonelist (gfp's
 * highest zone), by cpu, at now: SWAP_CLUSTER_MAX pages from priority 12 down. Counts
 * allocstall_<zone of gfp>, may throttle (throttle_direct_reclaim waits for kswapd). Returns pages
 * reclaimed; *cycles (may be NULL) gets the stall. */
uint64_t try_to_free_pages(mm_vmscan *vs, int nid, unsigned gfp, unsigned order, unsigned cpu,
                           uint64_t now, uint64_t *cycles);

/* __alloc_pages(): the fast path (low watermark), then the slow path: wake kswapd, min watermark,
 * direct reclaim with retries (should_reclaim_retry), drain pcp lists and unreserve highatomic
 * before failing. No compaction, no OOM: returns MM_PFN_NONE when reclaim cannot help (the facade
 * decides about OOM). *stall (may be NULL) gets the cycles the caller is stalled; *zone_out (may
 * be NULL) the zone. Wakes kswapd after an allocation that boosted a watermark. */
uint64_t vmscan_alloc_pages(mm_vmscan *vs, int nid, unsigned gfp, unsigned order, unsigned cpu,
                            uint64_t now, uint64_t *stall, mm_zone **zone_out);

/* ---- kswapd ---------------------------------------------------------------------------------- */

enum kswapd_state {
    KSWAPD_SLEEPING,  /* waiting for wakeup_kswapd */
    KSWAPD_NAPPING,   /* the HZ/10 short sleep of kswapd_try_to_sleep */
    KSWAPD_RUNNING,   /* in balance_pgdat */
    KSWAPD_THROTTLED, /* reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK) */
};

/* wakeup_kswapd(): records order and highest_zoneidx for node(zone)'s kswapd and wakes it unless
 * the node is hopeless (kswapd_failures >= MAX_RECLAIM_RETRIES) or balanced and not boosted. */
void wakeup_kswapd(mm_vmscan *vs, const mm_zone *zone, unsigned gfp, unsigned order,
                   enum zone_type highest_zoneidx);
/* The engine's clock for node nid's kswapd: run it at time now for at most budget cycles of its
 * own CPU time (a step may overrun by one batch; the debt is paid from the next budgets). Returns
 * the cycles used. Background: the caller's accesses are not stalled. */
uint64_t kswapd_run(mm_vmscan *vs, int nid, uint64_t now, uint64_t budget);
enum kswapd_state kswapd_state(const mm_vmscan *vs, int nid);
unsigned kswapd_failures(const mm_vmscan *vs, int nid);
int kswapd_priority(const mm_vmscan *vs, int nid); /* the balance_pgdat priority in progress */

/* ---- counters -------------------------------------------------------------------------------- */

struct vmscan_events {
    uint64_t pgscan_kswapd, pgscan_direct, pgscan_direct_throttle, pgscan_anon, pgscan_file;
    uint64_t pgsteal_kswapd, pgsteal_direct, pgsteal_anon, pgsteal_file;
    uint64_t pgrefill, pageoutrun, kswapd_low_wmark_hit_quickly, kswapd_high_wmark_hit_quickly;
    uint64_t allocstall[MM_NR_ZONE_TYPES];
    uint64_t nr_vmscan_write, nr_vmscan_immediate_reclaim;
    uint64_t kswapd_wakeups, kswapd_cycles, direct_reclaim_cycles, memstall_cycles;
    uint64_t alloc_failures;
};
const struct vmscan_events *vmscan_events(const mm_vmscan *vs);
/* adds to the memory-stall total (the fault paths count workingset refault waits here) */
void vmscan_add_memstall(mm_vmscan *vs, uint64_t cycles);

#endif
