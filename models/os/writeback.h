/* Dirty page accounting, writeback and dirty throttling of the kernel model, modelled on Linux
 * v6.1 mm/page-writeback.c (folio_account_dirtied, folio_clear_dirty_for_io,
 * folio_start_writeback / folio_end_writeback, global_dirtyable_memory, domain_dirty_limits,
 * dirty_freerun_ceiling, pos_ratio_polynom, wb_max_pause, balance_dirty_pages, wb_over_bg_thresh)
 * and fs/fs-writeback.c (the flusher: wb_check_start_all for reclaim's wakeups,
 * wb_check_background_flush, wb_check_old_data_flush every dirty_writeback_centisecs writing what
 * is older than dirty_expire_centisecs).
 *
 * Time: every entry point takes the current simulated time in cycles; the module converts with
 * the core frequency given at creation (HZ is 250 for jiffy-based figures). Device completions
 * happen at their times and are processed lazily by whichever call comes next.
 *
 * What is simplified, and how:
 *  - One bdi_writeback for all files (one backing device, the page cache's), one global dirty
 *    domain (no memcg domains, no per-wb share: wb_thresh = thresh).
 *  - Dirty pages are written in the order they were dirtied (a FIFO of pages), not inode by inode;
 *    kupdate writes the pages dirtied at least dirty_expire_centisecs ago, not whole inodes.
 *  - The flusher's periodic pass runs at fixed multiples of dirty_writeback_centisecs from time 0
 *    (Linux arms the timer when the first page is dirtied).
 *  - dirty_ratelimit is the device's write bandwidth (its preset throughput) instead of the
 *    estimate Linux adapts; pauses below min_pause are taken rather than accumulated.
 *  - All writers share one nr_dirtied / nr_dirtied_pause (one task). */
#ifndef MMUSIM_OS_WRITEBACK_H
#define MMUSIM_OS_WRITEBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "models/common/stats.h"
#include "models/os/bdev.h"
#include "models/os/lru.h"
#include "models/os/pagecache.h"

#define WB_HZ 250 /* CONFIG_HZ of Debian's kernels: one jiffy is 4 ms */

struct wb_config {
    unsigned dirty_background_ratio;    /* 10 */
    unsigned dirty_ratio;               /* 20 */
    uint64_t dirty_background_bytes;    /* 0 = use the ratio */
    uint64_t dirty_bytes;               /* 0 = use the ratio */
    unsigned dirty_expire_centisecs;    /* 3000 */
    unsigned dirty_writeback_centisecs; /* 500; 0 disables the periodic flush */
};
void wb_config_init(struct wb_config *cfg); /* Linux's defaults */

enum wb_reason { WB_REASON_BACKGROUND, WB_REASON_VMSCAN, WB_REASON_PERIODIC };

typedef struct mm_writeback mm_writeback;

/* file_bdev: the device behind every file (the caller keeps it; it must outlive wb). reg may be
 * NULL; with it meminfo Dirty, Writeback (kB), vmstat nr_dirty, nr_writeback,
 * nr_dirty_threshold, nr_dirty_background_threshold, nr_dirtied, nr_written, pgpgin, pgpgout and
 * os.writeback.{throttled_writes,throttle_cycles} are registered. */
mm_writeback *mm_writeback_create(mm_lru *lru, mm_pagecache *pc, mm_bdev *file_bdev,
                                  const struct wb_config *cfg, double freq_mhz,
                                  stats_registry *reg);
void mm_writeback_destroy(mm_writeback *wb);
const struct wb_config *wb_config_of(const mm_writeback *wb);
void wb_set_config(mm_writeback *wb, const struct wb_config *cfg); /* the sysctls */
mm_bdev *wb_file_bdev(const mm_writeback *wb);
/* Swap devices register so their writeback completions are processed here too. */
void writeback_register_bdev(mm_writeback *wb, mm_bdev *b);

/* ---- time ------------------------------------------------------------------------------------ */
uint64_t wb_us_to_cycles(const mm_writeback *wb, uint64_t us);
uint64_t wb_cycles_to_us(const mm_writeback *wb, uint64_t cycles);
uint64_t wb_jiffies_to_cycles(const mm_writeback *wb, uint64_t jiffies);

/* ---- dirty state ----------------------------------------------------------------------------- */

/* folio_mark_dirty(): sets PG_dirty; a page-cache page newly dirtied is accounted (NR_FILE_DIRTY,
 * nr_dirtied) and queued for the flusher with its dirtying time. Returns true when newly dirty. */
bool folio_mark_dirty(mm_writeback *wb, uint64_t pfn, uint64_t now);
/* folio_clear_dirty_for_io(): clears PG_dirty and the accounting; true when it was dirty. */
bool folio_clear_dirty_for_io(mm_writeback *wb, uint64_t pfn);
/* folio_cancel_dirty() (truncation): the same, without I/O. */
void folio_cancel_dirty(mm_writeback *wb, uint64_t pfn);

/* ---- writeback I/O --------------------------------------------------------------------------- */

/* folio_start_writeback() + submission: PG_writeback, NR_WRITEBACK, one 4 KiB write to b
 * (pgpgout, unless zram); the page is queued until its completion time. On a synchronous device
 * the write completes at once (folio_end_writeback runs before return). Returns the completion
 * time. */
uint64_t folio_start_writeback(mm_writeback *wb, uint64_t pfn, mm_bdev *b, uint64_t now);
/* folio_end_writeback(): clears PG_writeback (nr_written); a PG_reclaim page is rotated to the
 * inactive tail; a page dirtied again meanwhile goes back on the flusher's list. */
void folio_end_writeback(mm_writeback *wb, uint64_t pfn);
/* Completes every write whose time has come (<= now); returns how many. */
uint64_t writeback_complete(mm_writeback *wb, uint64_t now);
/* folio_wait_writeback(): completes writes in time order up to pfn's; returns the wait in cycles
 * (0 when pfn is not under writeback). */
uint64_t folio_wait_writeback(mm_writeback *wb, uint64_t pfn, uint64_t now);
/* When reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK) started at now would wake: the completion time
 * of the nr-th write of a node-nid page still queued (in time order over all devices), or deadline
 * if that comes first. Nothing is completed (the caller processes completions as its clock
 * reaches them). */
uint64_t writeback_node_wait_time(const mm_writeback *wb, int nid, uint64_t nr, uint64_t now,
                                  uint64_t deadline);
/* A synchronous 4 KiB read from b at now (pgpgin unless zram); returns its completion time. */
uint64_t writeback_read(mm_writeback *wb, mm_bdev *b, uint64_t now);

/* ---- the flusher ----------------------------------------------------------------------------- */

/* wakeup_flusher_threads(): WB_REASON_VMSCAN writes every page dirty now (wb_check_start_all);
 * WB_REASON_BACKGROUND starts background writeback. */
void wakeup_flusher_threads(mm_writeback *wb, enum wb_reason reason);
/* The flusher thread up to time now: completions, the periodic kupdate pass, background writeback
 * while over the background threshold, reclaim's start-all requests; it keeps at most the file
 * device's max_inflight writes queued. Runs in the background (costs no access anything). */
void wb_run(mm_writeback *wb, uint64_t now);

/* ---- limits and throttling ------------------------------------------------------------------- */

/* global_dirtyable_memory(): free pages minus totalreserve_pages, plus the file LRU pages, + 1. */
uint64_t global_dirtyable_memory(const mm_writeback *wb);
/* domain_dirty_limits() of the global domain for a given dirtyable size. */
void domain_dirty_limits(const mm_writeback *wb, uint64_t avail, uint64_t *bg_thresh,
                         uint64_t *thresh);
void global_dirty_limits(const mm_writeback *wb, uint64_t *bg_thresh, uint64_t *thresh);
/* pos_ratio_polynom(): the global control line, fixed point << 10, in [0, 2 << 10]. */
int64_t pos_ratio_polynom(uint64_t setpoint, uint64_t dirty, uint64_t limit);
/* wb_over_bg_thresh(): NR_FILE_DIRTY above the background threshold. */
bool wb_over_bg_thresh(const mm_writeback *wb);
/* balance_dirty_pages_ratelimited(): a writer dirtied nr pages at now; returns the cycles it is
 * paused (0 in free run). Every nr_dirtied_pause pages balance_dirty_pages() runs: above the
 * freerun ceiling the pause follows the global control line; at or above the hard limit the writer
 * sleeps max_pause at a time (the flusher running meanwhile) until dirty pages drop below it. */
uint64_t balance_dirty_pages_ratelimited(mm_writeback *wb, uint64_t nr, uint64_t now);

uint64_t wb_nr_dirty(const mm_writeback *wb);     /* NR_FILE_DIRTY */
uint64_t wb_nr_writeback(const mm_writeback *wb); /* NR_WRITEBACK (file and swap) */
uint64_t wb_node_write_pending(const mm_writeback *wb, int nid); /* dirty + writeback on nid */

#endif
