/* Dirty accounting, writeback and dirty throttling; see writeback.h. Mirrors Linux v6.1
 * mm/page-writeback.c and fs/fs-writeback.c (written from an understanding of them). */
#include "models/os/writeback.h"

#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "models/os/buddy.h"
#include "models/os/reclaim_internal.h"

#define MAX_BDEVS (1 + MAPPING_NR_SWAP_SPACES)
#define RATELIMIT_CALC_SHIFT 10
#define MAX_PAUSE_JIFFIES (WB_HZ / 5)

struct wb_gauge {
    const mm_writeback *wb;
    int what;
};

struct mm_writeback {
    mm_lru *lru;
    mm_pagecache *pc;
    mm_phys *pm;
    struct wb_config cfg;
    double freq_mhz;
    unsigned kb_shift;
    mm_bdev *file_bdev;
    mm_bdev *bdev[MAX_BDEVS];
    unsigned nr_bdevs;

    uint32_t dirty_head, dirty_tail; /* dirty page-cache pages, oldest first */
    uint64_t nr_dirty, nr_writeback;
    uint64_t node_dirty[MM_MAX_NUMNODES], node_writeback[MM_MAX_NUMNODES];
    uint64_t node_written[MM_MAX_NUMNODES];

    /* flusher */
    uint64_t flusher_time;  /* cycles: how far the flusher has run */
    uint64_t next_kupdate;  /* cycles */
    bool kupdate_pending;
    uint64_t start_all;     /* pages reclaim's wakeups still want written */

    /* balance_dirty_pages: one task */
    uint64_t task_nr_dirtied, nr_dirtied_pause;

    /* counters */
    uint64_t nr_dirtied, nr_written, pgpgin, pgpgout, throttled, throttle_cycles;
    struct wb_gauge g[6];
};

void wb_config_init(struct wb_config *c)
{
    memset(c, 0, sizeof *c);
    c->dirty_background_ratio = 10;
    c->dirty_ratio = 20;
    c->dirty_expire_centisecs = 3000;
    c->dirty_writeback_centisecs = 500;
}

/* ---- time ------------------------------------------------------------------------------------ */

uint64_t wb_us_to_cycles(const mm_writeback *wb, uint64_t us)
{
    return (uint64_t)((double)us * wb->freq_mhz + 0.5);
}
uint64_t wb_cycles_to_us(const mm_writeback *wb, uint64_t cycles)
{
    return (uint64_t)((double)cycles / wb->freq_mhz);
}
uint64_t wb_jiffies_to_cycles(const mm_writeback *wb, uint64_t jiffies)
{
    return wb_us_to_cycles(wb, jiffies * (1000000 / WB_HZ));
}
static uint32_t stamp_of(const mm_writeback *wb, uint64_t cycles)
{
    return (uint32_t)wb_cycles_to_us(wb, cycles);
}
/* the full time (cycles) of a stamp, relative to a reference time */
static uint64_t stamp_cycles(const mm_writeback *wb, uint32_t stamp, uint64_t ref)
{
    int64_t d = stamp_diff(stamp, stamp_of(wb, ref));
    int64_t us = (int64_t)wb_cycles_to_us(wb, ref) + d;
    if (us <= 0)
        return 0;
    /* rounded up, so that the stamp of the time returned is never before the stamp */
    uint64_t c = (uint64_t)((double)us * wb->freq_mhz);
    while ((uint64_t)((double)c / wb->freq_mhz) < (uint64_t)us)
        c++;
    return c;
}

/* ---- intrusive FIFOs through lru_page.wnext/wprev -------------------------------------------- */

static void fifo_add_tail(mm_lru *lru, uint32_t *head, uint32_t *tail, uint64_t pfn)
{
    struct lru_page *p = lru_pg(lru, pfn);
    p->wnext = LRU_NIL;
    p->wprev = *tail;
    if (*tail != LRU_NIL)
        lru_pg(lru, *tail)->wnext = (uint32_t)pfn;
    else
        *head = (uint32_t)pfn;
    *tail = (uint32_t)pfn;
}

static void fifo_del(mm_lru *lru, uint32_t *head, uint32_t *tail, uint64_t pfn)
{
    struct lru_page *p = lru_pg(lru, pfn);
    if (p->wprev != LRU_NIL)
        lru_pg(lru, p->wprev)->wnext = p->wnext;
    else
        *head = p->wnext;
    if (p->wnext != LRU_NIL)
        lru_pg(lru, p->wnext)->wprev = p->wprev;
    else
        *tail = p->wprev;
    p->wnext = p->wprev = LRU_NIL;
}

/* ---- create ---------------------------------------------------------------------------------- */

enum { G_DIRTY_KB, G_WB_KB, G_DIRTY, G_WB, G_THRESH, G_BG_THRESH };

static uint64_t g_wb(const void *c)
{
    const struct wb_gauge *g = c;
    const mm_writeback *wb = g->wb;
    uint64_t bg, th;
    switch (g->what) {
    case G_DIRTY_KB:
        return wb->nr_dirty << wb->kb_shift;
    case G_WB_KB:
        return wb->nr_writeback << wb->kb_shift;
    case G_DIRTY:
        return wb->nr_dirty;
    case G_WB:
        return wb->nr_writeback;
    case G_THRESH:
        global_dirty_limits(wb, &bg, &th);
        return th;
    case G_BG_THRESH:
    default:
        global_dirty_limits(wb, &bg, &th);
        return bg;
    }
}

mm_writeback *mm_writeback_create(mm_lru *lru, mm_pagecache *pc, mm_bdev *file_bdev,
                                  const struct wb_config *cfg, double freq_mhz,
                                  stats_registry *reg)
{
    mm_writeback *wb = xcalloc(1, sizeof *wb);
    wb->lru = lru;
    wb->pc = pc;
    wb->pm = mm_lru_phys(lru);
    if (cfg)
        wb->cfg = *cfg;
    else
        wb_config_init(&wb->cfg);
    wb->freq_mhz = freq_mhz > 0 ? freq_mhz : 1000;
    wb->kb_shift = mm_phys_config_of(wb->pm)->page_shift - 10;
    wb->file_bdev = file_bdev;
    wb->dirty_head = wb->dirty_tail = LRU_NIL;
    wb->next_kupdate = wb_us_to_cycles(wb, (uint64_t)wb->cfg.dirty_writeback_centisecs * 10000);
    wb->nr_dirtied_pause = 32; /* 128 >> (PAGE_SHIFT - 10) */
    if (file_bdev)
        writeback_register_bdev(wb, file_bdev);
    if (reg) {
        static const struct {
            const char *prefix, *leaf, *desc;
        } gs[] = {
            {"os.meminfo", "Dirty", "kB of dirty page-cache pages"},
            {"os.meminfo", "Writeback", "kB of pages under writeback (file and swap)"},
            {"os.vmstat", "nr_dirty", "dirty page-cache pages (NR_FILE_DIRTY)"},
            {"os.vmstat", "nr_writeback", "pages under writeback (NR_WRITEBACK)"},
            {"os.vmstat", "nr_dirty_threshold", "dirty limit in pages (vm.dirty_ratio)"},
            {"os.vmstat", "nr_dirty_background_threshold",
             "background writeback threshold in pages (vm.dirty_background_ratio)"},
        };
        for (int k = 0; k < 6; k++) {
            wb->g[k] = (struct wb_gauge){wb, k};
            stats_gauge(reg, gs[k].prefix, gs[k].leaf, g_wb, &wb->g[k], gs[k].desc);
        }
        stats_counter(reg, "os.vmstat", "nr_dirtied", &wb->nr_dirtied,
                      "page-cache pages dirtied");
        stats_counter(reg, "os.vmstat", "nr_written", &wb->nr_written,
                      "pages whose writeback completed");
        stats_counter(reg, "os.vmstat", "pgpgin", &wb->pgpgin, "kB read from block devices");
        stats_counter(reg, "os.vmstat", "pgpgout", &wb->pgpgout, "kB written to block devices");
        stats_counter(reg, "os.writeback", "throttled_writes", &wb->throttled,
                      "balance_dirty_pages calls that paused the writer");
        stats_counter(reg, "os.writeback", "throttle_cycles", &wb->throttle_cycles,
                      "cycles writers were paused by balance_dirty_pages");
    }
    return wb;
}

void mm_writeback_destroy(mm_writeback *wb) { free(wb); }
const struct wb_config *wb_config_of(const mm_writeback *wb) { return &wb->cfg; }
void wb_set_config(mm_writeback *wb, const struct wb_config *cfg) { wb->cfg = *cfg; }
mm_bdev *wb_file_bdev(const mm_writeback *wb) { return wb->file_bdev; }

void writeback_register_bdev(mm_writeback *wb, mm_bdev *b)
{
    for (unsigned i = 0; i < wb->nr_bdevs; i++)
        if (wb->bdev[i] == b)
            return;
    if (wb->nr_bdevs < MAX_BDEVS)
        wb->bdev[wb->nr_bdevs++] = b;
}

uint64_t wb_nr_dirty(const mm_writeback *wb) { return wb->nr_dirty; }
uint64_t wb_nr_writeback(const mm_writeback *wb) { return wb->nr_writeback; }
uint64_t wb_node_write_pending(const mm_writeback *wb, int nid)
{
    return wb->node_dirty[nid] + wb->node_writeback[nid];
}

/* ---- dirty state ----------------------------------------------------------------------------- */

bool folio_mark_dirty(mm_writeback *wb, uint64_t pfn, uint64_t now)
{
    mm_lru *lru = wb->lru;
    if (folio_test(lru, pfn, PG_dirty))
        return false;
    folio_set_flags(lru, pfn, PG_dirty);
    if (folio_test(lru, pfn, PG_pagecache)) {
        /* folio_account_dirtied() */
        wb->nr_dirty++;
        wb->node_dirty[folio_nid(lru, pfn)]++;
        wb->nr_dirtied++;
        if (!folio_test(lru, pfn, PG_writeback)) {
            folio_set_stamp(lru, pfn, stamp_of(wb, now));
            fifo_add_tail(lru, &wb->dirty_head, &wb->dirty_tail, pfn);
            folio_set_flags(lru, pfn, PG_dirty_listed);
        }
    }
    return true;
}

bool folio_clear_dirty_for_io(mm_writeback *wb, uint64_t pfn)
{
    mm_lru *lru = wb->lru;
    if (!folio_test_clear(lru, pfn, PG_dirty))
        return false;
    if (folio_test(lru, pfn, PG_pagecache)) {
        wb->nr_dirty--;
        wb->node_dirty[folio_nid(lru, pfn)]--;
        if (!folio_test(lru, pfn, PG_writeback) && folio_test_clear(lru, pfn, PG_dirty_listed))
            fifo_del(lru, &wb->dirty_head, &wb->dirty_tail, pfn);
    }
    return true;
}

void folio_cancel_dirty(mm_writeback *wb, uint64_t pfn) { folio_clear_dirty_for_io(wb, pfn); }

/* ---- writeback I/O --------------------------------------------------------------------------- */

uint64_t folio_start_writeback(mm_writeback *wb, uint64_t pfn, mm_bdev *b, uint64_t now)
{
    mm_lru *lru = wb->lru;
    folio_set_flags(lru, pfn, PG_writeback);
    wb->nr_writeback++;
    wb->node_writeback[folio_nid(lru, pfn)]++;
    uint64_t done = bdev_submit(b, now, true);
    if (b->cfg.synchronous) {
        folio_end_writeback(wb, pfn);
        return done;
    }
    wb->pgpgout += 1ull << wb->kb_shift;
    /* round the completion up to the microsecond the stamp holds */
    uint64_t us = wb_cycles_to_us(wb, done);
    if (wb_us_to_cycles(wb, us) < done)
        us++;
    folio_set_stamp(lru, pfn, (uint32_t)us);
    fifo_add_tail(lru, &b->wb_head, &b->wb_tail, pfn);
    folio_set_flags(lru, pfn, PG_dirty_listed);
    b->nr_inflight++;
    return done;
}

void folio_end_writeback(mm_writeback *wb, uint64_t pfn)
{
    mm_lru *lru = wb->lru;
    int nid = folio_nid(lru, pfn);
    folio_clear_flags(lru, pfn, PG_writeback | PG_dirty_listed);
    wb->nr_writeback--;
    wb->node_writeback[nid]--;
    wb->nr_written++;
    wb->node_written[nid]++;
    if (folio_test_clear(lru, pfn, PG_reclaim))
        folio_rotate_reclaimable(lru, pfn);
    if (folio_test(lru, pfn, PG_dirty) && folio_test(lru, pfn, PG_pagecache)) {
        /* dirtied again while under writeback: back to the flusher, dirtied "now" */
        fifo_add_tail(lru, &wb->dirty_head, &wb->dirty_tail, pfn);
        folio_set_flags(lru, pfn, PG_dirty_listed);
    }
}

static uint64_t complete_head(mm_writeback *wb, mm_bdev *b)
{
    uint64_t pfn = b->wb_head;
    fifo_del(wb->lru, &b->wb_head, &b->wb_tail, pfn);
    b->nr_inflight--;
    folio_end_writeback(wb, pfn);
    return pfn;
}

static uint64_t complete_bdev(mm_writeback *wb, mm_bdev *b, uint64_t now)
{
    uint32_t now_us = stamp_of(wb, now);
    uint64_t n = 0;
    while (b->wb_head != LRU_NIL && stamp_diff(lru_pg(wb->lru, b->wb_head)->stamp, now_us) <= 0) {
        complete_head(wb, b);
        n++;
    }
    return n;
}

uint64_t writeback_complete(mm_writeback *wb, uint64_t now)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < wb->nr_bdevs; i++)
        n += complete_bdev(wb, wb->bdev[i], now);
    return n;
}

/* the device whose queue head completes first; NULL when nothing is in flight */
static mm_bdev *earliest(const mm_writeback *wb, uint64_t ref, uint64_t *when)
{
    mm_bdev *best = NULL;
    uint64_t t = UINT64_MAX;
    for (unsigned i = 0; i < wb->nr_bdevs; i++) {
        mm_bdev *b = wb->bdev[i];
        if (b->wb_head == LRU_NIL)
            continue;
        uint64_t c = stamp_cycles(wb, lru_pg(wb->lru, b->wb_head)->stamp, ref);
        if (c < t) {
            t = c;
            best = b;
        }
    }
    *when = t;
    return best;
}

uint64_t folio_wait_writeback(mm_writeback *wb, uint64_t pfn, uint64_t now)
{
    uint64_t t = now;
    while (folio_test(wb->lru, pfn, PG_writeback)) {
        uint64_t when;
        mm_bdev *b = earliest(wb, now, &when);
        if (!b)
            break;
        if (when > t)
            t = when;
        complete_head(wb, b);
    }
    return t - now;
}

uint64_t writeback_node_wait_time(const mm_writeback *wb, int nid, uint64_t nr, uint64_t now,
                                  uint64_t deadline)
{
    /* a k-way merge over the device queues, by completion time, without completing anything */
    uint32_t cur[MAX_BDEVS];
    for (unsigned i = 0; i < wb->nr_bdevs; i++)
        cur[i] = wb->bdev[i]->wb_head;
    uint64_t seen = 0;
    for (;;) {
        int best = -1;
        uint64_t t = UINT64_MAX;
        for (unsigned i = 0; i < wb->nr_bdevs; i++) {
            if (cur[i] == LRU_NIL)
                continue;
            uint64_t c = stamp_cycles(wb, lru_pg(wb->lru, cur[i])->stamp, now);
            if (c < t) {
                t = c;
                best = (int)i;
            }
        }
        if (best < 0 || t > deadline)
            return deadline;
        uint32_t pfn = cur[best];
        cur[best] = lru_pg(wb->lru, pfn)->wnext;
        if (folio_nid(wb->lru, pfn) == nid && ++seen >= nr)
            return t > now ? t : now;
    }
}

uint64_t writeback_read(mm_writeback *wb, mm_bdev *b, uint64_t now)
{
    if (!b->cfg.synchronous)
        wb->pgpgin += 1ull << wb->kb_shift;
    return bdev_submit(b, now, false);
}

/* ---- limits ---------------------------------------------------------------------------------- */

uint64_t global_dirtyable_memory(const mm_writeback *wb)
{
    const mm_phys *pm = wb->pm;
    uint64_t x = 0;
    for (unsigned n = 0; n < mm_phys_nr_nodes(pm); n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            const mm_zone *z = mm_node_zone(pm, (int)n, (enum zone_type)t);
            if (z && populated_zone(z))
                x += zone_free_pages(z);
        }
    uint64_t reserve = mm_totalreserve_pages(pm);
    x -= x < reserve ? x : reserve;
    x += global_lru_pages(wb->lru, LRU_INACTIVE_FILE);
    x += global_lru_pages(wb->lru, LRU_ACTIVE_FILE);
    /* vm_highmem_is_dirtyable = 0: highmem_dirtyable_memory() is not subtracted here, the model
     * keeps x86_32 highmem dirtyable (a documented simplification) */
    return x + 1;
}

void domain_dirty_limits(const mm_writeback *wb, uint64_t avail, uint64_t *bg_thresh,
                         uint64_t *thresh)
{
    const uint64_t page_size = 1ull << mm_phys_config_of(wb->pm)->page_shift;
    /* ratios in per-PAGE_SIZE units for precision, as Linux */
    uint64_t ratio = (wb->cfg.dirty_ratio * page_size) / 100;
    uint64_t bg_ratio = (wb->cfg.dirty_background_ratio * page_size) / 100;
    uint64_t t, bg;
    if (wb->cfg.dirty_bytes)
        t = (wb->cfg.dirty_bytes + page_size - 1) / page_size;
    else
        t = (ratio * avail) / page_size;
    if (wb->cfg.dirty_background_bytes)
        bg = (wb->cfg.dirty_background_bytes + page_size - 1) / page_size;
    else
        bg = (bg_ratio * avail) / page_size;
    if (bg >= t)
        bg = t / 2;
    *bg_thresh = bg;
    *thresh = t;
}

void global_dirty_limits(const mm_writeback *wb, uint64_t *bg_thresh, uint64_t *thresh)
{
    domain_dirty_limits(wb, global_dirtyable_memory(wb), bg_thresh, thresh);
}

bool wb_over_bg_thresh(const mm_writeback *wb)
{
    uint64_t bg, th;
    global_dirty_limits(wb, &bg, &th);
    return wb->nr_dirty > bg;
}

int64_t pos_ratio_polynom(uint64_t setpoint, uint64_t dirty, uint64_t limit)
{
    int64_t x = (((int64_t)setpoint - (int64_t)dirty) * (1 << RATELIMIT_CALC_SHIFT)) /
                (int64_t)((limit - setpoint) | 1);
    int64_t pos = x;
    pos = pos * x >> RATELIMIT_CALC_SHIFT;
    pos = pos * x >> RATELIMIT_CALC_SHIFT;
    pos += 1 << RATELIMIT_CALC_SHIFT;
    if (pos < 0)
        pos = 0;
    if (pos > 2 << RATELIMIT_CALC_SHIFT)
        pos = 2 << RATELIMIT_CALC_SHIFT;
    return pos;
}

/* ---- the flusher ----------------------------------------------------------------------------- */

void wakeup_flusher_threads(mm_writeback *wb, enum wb_reason reason)
{
    if (reason == WB_REASON_VMSCAN)
        wb->start_all = wb->nr_dirty; /* wb_start_writeback(wb, WB_REASON_VMSCAN): all dirty */
    /* background work needs no flag: the flusher checks wb_over_bg_thresh() whenever it runs */
}

static bool flusher_wants(mm_writeback *wb, uint64_t pfn, uint64_t t)
{
    if (wb->start_all)
        return true;
    if (wb_over_bg_thresh(wb))
        return true;
    if (wb->kupdate_pending) {
        uint64_t expire_us = (uint64_t)wb->cfg.dirty_expire_centisecs * 10000;
        int64_t age = -stamp_diff(lru_pg(wb->lru, pfn)->stamp, stamp_of(wb, t));
        if (age >= (int64_t)expire_us)
            return true;
        wb->kupdate_pending = false; /* nothing older left: this kupdate pass is done */
    }
    return false;
}

static void flusher_submit(mm_writeback *wb, uint64_t t)
{
    mm_bdev *b = wb->file_bdev;
    while (b && wb->dirty_head != LRU_NIL && b->nr_inflight < b->cfg.max_inflight) {
        uint64_t pfn = wb->dirty_head;
        if (!flusher_wants(wb, pfn, t))
            break;
        if (wb->start_all)
            wb->start_all--;
        folio_clear_dirty_for_io(wb, pfn);
        folio_start_writeback(wb, pfn, b, t);
    }
    if (wb->dirty_head == LRU_NIL) {
        wb->start_all = 0;
        wb->kupdate_pending = false;
    }
}

void wb_run(mm_writeback *wb, uint64_t now)
{
    uint64_t t = wb->flusher_time > now ? now : wb->flusher_time;
    uint64_t interval =
        wb_us_to_cycles(wb, (uint64_t)wb->cfg.dirty_writeback_centisecs * 10000);
    mm_bdev *b = wb->file_bdev;
    for (;;) {
        if (interval && t >= wb->next_kupdate) {
            wb->kupdate_pending = true;
            while (wb->next_kupdate <= t)
                wb->next_kupdate += interval;
        }
        flusher_submit(wb, t);
        /* next event: a completion on the file device or a kupdate tick, up to now */
        uint64_t next = UINT64_MAX;
        if (b && b->wb_head != LRU_NIL)
            next = stamp_cycles(wb, lru_pg(wb->lru, b->wb_head)->stamp, now);
        if (interval && wb->dirty_head != LRU_NIL && wb->next_kupdate < next)
            next = wb->next_kupdate;
        if (next > now)
            break;
        if (next > t)
            t = next;
        if (b)
            complete_bdev(wb, b, t);
    }
    if (interval && now >= wb->next_kupdate) {
        wb->kupdate_pending = wb->dirty_head != LRU_NIL;
        while (wb->next_kupdate <= now)
            wb->next_kupdate += interval;
    }
    writeback_complete(wb, now);
    wb->flusher_time = now;
}

/* ---- throttling ------------------------------------------------------------------------------ */

static uint64_t ilog2_u64(uint64_t x)
{
    uint64_t r = 0;
    while (x >>= 1)
        r++;
    return r;
}

/* dirty_poll_interval() */
static uint64_t dirty_poll_interval(uint64_t dirty, uint64_t thresh)
{
    if (thresh > dirty)
        return 1ull << (ilog2_u64(thresh - dirty) >> 1);
    return 1;
}

/* the device's throughput in pages per second: parallel / write latency */
static uint64_t write_bandwidth(const mm_writeback *wb)
{
    const mm_bdev *b = wb->file_bdev;
    if (!b || b->cfg.write_us <= 0)
        return 25600; /* INIT_BW: 100 MB/s in 4 KiB pages */
    double bw = (double)b->cfg.parallel * 1e6 / b->cfg.write_us;
    return bw < 1 ? 1 : (uint64_t)bw;
}

/* wb_max_pause(): t = wb_dirty / (1 + bw / roundup_pow_of_two(1 + HZ / 8)) + 1, at most HZ / 5 */
static uint64_t wb_max_pause(const mm_writeback *wb, uint64_t wb_dirty)
{
    uint64_t r = 1;
    while (r < 1 + WB_HZ / 8)
        r <<= 1;
    uint64_t t = wb_dirty / (1 + write_bandwidth(wb) / r) + 1;
    return t < MAX_PAUSE_JIFFIES ? t : MAX_PAUSE_JIFFIES;
}

static uint64_t balance_dirty_pages(mm_writeback *wb, uint64_t pages_dirtied, uint64_t now)
{
    uint64_t paused = 0;
    for (int iter = 0; iter < 100000; iter++) {
        uint64_t t = now + paused;
        wb_run(wb, t);
        uint64_t dirty = wb->nr_dirty + wb->nr_writeback;
        uint64_t bg, thresh;
        global_dirty_limits(wb, &bg, &thresh);
        uint64_t freerun = (thresh + bg) / 2; /* dirty_freerun_ceiling() */
        if (dirty <= freerun) {
            wb->nr_dirtied_pause = dirty_poll_interval(dirty, freerun);
            break;
        }
        uint64_t limit = thresh; /* hard_dirty_limit(): the model's dirty_limit is thresh */
        uint64_t max_pause = wb_max_pause(wb, dirty);
        uint64_t task_ratelimit, pause;
        if (dirty >= limit) {
            task_ratelimit = 0;
            pause = max_pause;
        } else {
            uint64_t setpoint = (freerun + limit) / 2;
            int64_t pos = pos_ratio_polynom(setpoint, dirty, limit);
            task_ratelimit = (write_bandwidth(wb) * (uint64_t)pos) >> RATELIMIT_CALC_SHIFT;
            if (!task_ratelimit)
                task_ratelimit = 1;
            pause = (WB_HZ * pages_dirtied) / task_ratelimit;
            if (pause > max_pause)
                pause = max_pause;
        }
        wb->nr_dirtied_pause = dirty_poll_interval(dirty, thresh);
        if (pause) {
            paused += wb_jiffies_to_cycles(wb, pause);
            wb->throttled++;
        }
        if (task_ratelimit)
            break;
    }
    wb->throttle_cycles += paused;
    return paused;
}

uint64_t balance_dirty_pages_ratelimited(mm_writeback *wb, uint64_t nr, uint64_t now)
{
    wb->task_nr_dirtied += nr;
    if (wb->task_nr_dirtied < wb->nr_dirtied_pause)
        return 0;
    uint64_t pages = wb->task_nr_dirtied;
    wb->task_nr_dirtied = 0;
    return balance_dirty_pages(wb, pages, now);
}
