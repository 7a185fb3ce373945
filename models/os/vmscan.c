/* Page reclaim: the LRU scanners, kswapd, direct reclaim and the allocation slow path; see
 * vmscan.h. Mirrors Linux v6.1 mm/vmscan.c and the reclaim part of mm/page_alloc.c with the
 * classic LRU (written from an understanding of them, not copied). */
#include "models/os/vmscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "models/os/reclaim_internal.h"
#include "models/os/workingset.h"

#define DEACTIVATE_ANON 1u
#define DEACTIVATE_FILE 2u
#define NO_ZONE MM_NR_ZONE_TYPES /* kswapd_highest_zoneidx "MAX_NR_ZONES": no request */

enum folio_references { FOLIOREF_RECLAIM, FOLIOREF_RECLAIM_CLEAN, FOLIOREF_KEEP, FOLIOREF_ACTIVATE };

struct scan_control {
    uint64_t nr_to_reclaim;
    uint64_t anon_cost, file_cost;
    unsigned may_deactivate;
    bool force_deactivate, skipped_deactivate;
    bool may_writepage, may_unmap, may_swap;
    bool cache_trim_mode, file_is_tiny;
    unsigned order;
    int priority;
    enum zone_type reclaim_idx;
    unsigned gfp;
    uint64_t nr_scanned, nr_reclaimed;
    struct {
        uint64_t dirty, unqueued_dirty, congested, writeback, immediate, file_taken, taken;
    } nr;
    bool kswapd;
    unsigned cpu;
    uint64_t start;  /* when this piece of reclaim started (cycles) */
    uint64_t cycles; /* CPU time and waits since start */
};

static inline uint64_t sc_now(const struct scan_control *sc) { return sc->start + sc->cycles; }

struct reclaim_stat {
    uint64_t nr_dirty, nr_unqueued_dirty, nr_congested, nr_writeback, nr_immediate, nr_pageout;
    uint64_t nr_activate[2], nr_ref_keep, nr_unmap_fail;
};

/* one shrink_node() call in progress; kswapd resumes it batch by batch */
enum { SN_START, SN_LRUVEC, SN_AGE_ANON, SN_END, SN_AFTER_THROTTLE, SN_DONE };
enum ns_result { NS_CONTINUE, NS_DONE, NS_WAIT };

struct node_scan {
    int phase;
    uint64_t nr_reclaimed0, nr_scanned0;
    uint64_t nr[NR_EVICTABLE_LRU_LISTS], targets[NR_EVICTABLE_LRU_LISTS], reclaimed;
    bool proportional, in_round;
    int next_lru;
    uint64_t wait_until;
};

/* balance_pgdat() phases */
enum { BP_START, BP_RESTART, BP_ITER, BP_SHRINK, BP_ITER_END, BP_AFTER_LOOP, BP_OUT };

struct kswapd {
    enum kswapd_state state;
    int phase;
    bool wake_pending;
    /* pgdat->kswapd_order / kswapd_highest_zoneidx: the wakers' requests */
    unsigned req_order;
    enum zone_type req_zoneidx;
    /* the kswapd thread's locals */
    unsigned alloc_order, reclaim_order;
    enum zone_type highest_zoneidx;
    uint64_t nap_end, wait_until;
    int64_t credit;
    unsigned failures;
    /* balance_pgdat locals */
    struct scan_control sc;
    struct node_scan ns;
    uint64_t nr_boost_reclaim, zone_boosts[MM_NR_ZONE_TYPES];
    bool boosted, raise_priority;
    uint64_t iter_reclaimed0;
};

struct pgdat_flags {
    bool dirty, writeback, congested; /* PGDAT_DIRTY, PGDAT_WRITEBACK, LRUVEC_CONGESTED */
};

struct mm_vmscan {
    mm_phys *pm;
    mm_lru *lru;
    mm_pagecache *pc;
    mm_writeback *wb;
    mm_swap *swap;
    struct reclaim_ops ops;
    struct vmscan_config cfg;
    double freq_mhz;
    struct {
        uint64_t isolate, scan, swap_add, submit, free, batch;
    } cost;
    unsigned nr_nodes;
    struct kswapd kswapd[MM_MAX_NUMNODES];
    struct pgdat_flags pgdat[MM_MAX_NUMNODES];
    struct vmscan_events ev;
};

void vmscan_config_init(struct vmscan_config *c)
{
    memset(c, 0, sizeof *c);
    c->swappiness = 60;
    c->costs.isolate_ns = 50;
    c->costs.scan_ns = 150;
    c->costs.swap_add_ns = 400;
    c->costs.submit_ns = 1000;
    c->costs.free_ns = 100;
    c->costs.batch_ns = 500;
}

static uint64_t ns_cycles(const mm_vmscan *vs, double ns)
{
    return (uint64_t)(ns * vs->freq_mhz / 1000.0 + 0.5);
}

static uint64_t us_cycles(const mm_vmscan *vs, uint64_t us)
{
    return (uint64_t)((double)us * vs->freq_mhz + 0.5);
}

static uint64_t jiffies_cycles(const mm_vmscan *vs, uint64_t j)
{
    return us_cycles(vs, j * (1000000 / WB_HZ));
}

static int first_cpu_of_node(const mm_phys *pm, int nid)
{
    for (unsigned c = 0; c < mm_phys_nr_cpus(pm); c++)
        if (mm_cpu_to_node(pm, c) == nid)
            return (int)c;
    return 0;
}

static const mm_zone *node_zone(const mm_vmscan *vs, int nid, int t)
{
    const mm_zone *z = mm_node_zone(vs->pm, nid, (enum zone_type)t);
    return z && zone_managed_pages(z) ? z : NULL; /* managed_zone() */
}

/* ---- create ---------------------------------------------------------------------------------- */

static void register_stats(mm_vmscan *vs, stats_registry *reg)
{
    struct vmscan_events *e = &vs->ev;
    const char *v = "os.vmstat", *r = "os.reclaim";
    stats_counter(reg, v, "pgscan_kswapd", &e->pgscan_kswapd, "pages scanned by kswapd");
    stats_counter(reg, v, "pgscan_direct", &e->pgscan_direct, "pages scanned by direct reclaim");
    stats_counter(reg, v, "pgscan_direct_throttle", &e->pgscan_direct_throttle,
                  "direct reclaimers throttled waiting for kswapd (pfmemalloc reserves)");
    stats_counter(reg, v, "pgscan_anon", &e->pgscan_anon, "anon pages scanned (inactive list)");
    stats_counter(reg, v, "pgscan_file", &e->pgscan_file, "file pages scanned (inactive list)");
    stats_counter(reg, v, "pgsteal_kswapd", &e->pgsteal_kswapd, "pages reclaimed by kswapd");
    stats_counter(reg, v, "pgsteal_direct", &e->pgsteal_direct,
                  "pages reclaimed by direct reclaim");
    stats_counter(reg, v, "pgsteal_anon", &e->pgsteal_anon, "anon pages reclaimed");
    stats_counter(reg, v, "pgsteal_file", &e->pgsteal_file, "file pages reclaimed");
    stats_counter(reg, v, "pgrefill", &e->pgrefill, "active-list pages scanned");
    stats_counter(reg, v, "pageoutrun", &e->pageoutrun, "kswapd balance_pgdat runs");
    stats_counter(reg, v, "kswapd_low_wmark_hit_quickly", &e->kswapd_low_wmark_hit_quickly,
                  "kswapd woken again during its short nap");
    stats_counter(reg, v, "kswapd_high_wmark_hit_quickly", &e->kswapd_high_wmark_hit_quickly,
                  "kswapd found its node unbalanced when about to sleep");
    for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
        if (!mm_zone_type_configured(vs->pm, (enum zone_type)t) || t == ZONE_DEVICE)
            continue;
        char leaf[48], lower[16];
        const mm_zone *z = mm_node_zone(vs->pm, 0, (enum zone_type)t);
        const char *name = z ? zone_name(z) : "?";
        size_t i = 0;
        for (; name[i] && i + 1 < sizeof lower; i++)
            lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
        lower[i] = 0;
        snprintf(leaf, sizeof leaf, "allocstall_%s", lower);
        stats_counter(reg, v, leaf, &e->allocstall[t],
                      "direct reclaim entries for allocations whose highest zone is this one");
    }
    stats_counter(reg, v, "nr_vmscan_write", &e->nr_vmscan_write, "pages written by reclaim");
    stats_counter(reg, v, "nr_vmscan_immediate_reclaim", &e->nr_vmscan_immediate_reclaim,
                  "dirty pages marked for reclaim as soon as written (PG_reclaim)");
    stats_counter(reg, r, "kswapd_wakeups", &e->kswapd_wakeups, "kswapd woken from sleep");
    stats_counter(reg, r, "kswapd_cycles", &e->kswapd_cycles, "cycles kswapd worked");
    stats_counter(reg, r, "direct_reclaim_cycles", &e->direct_reclaim_cycles,
                  "cycles allocations stalled in direct reclaim");
    stats_counter(reg, r, "memstall_cycles", &e->memstall_cycles,
                  "cycles tasks stalled on memory (direct reclaim, throttling, workingset "
                  "refaults): the thrashing indicator");
    stats_counter(reg, r, "alloc_failures", &e->alloc_failures,
                  "allocations that failed after reclaim (OOM candidates)");
}

mm_vmscan *mm_vmscan_create(mm_phys *pm, mm_lru *lru, mm_pagecache *pc, mm_writeback *wb,
                            mm_swap *swap, const struct reclaim_ops *ops,
                            const struct vmscan_config *cfg, double freq_mhz,
                            stats_registry *reg)
{
    mm_vmscan *vs = xcalloc(1, sizeof *vs);
    vs->pm = pm;
    vs->lru = lru;
    vs->pc = pc;
    vs->wb = wb;
    vs->swap = swap;
    if (ops)
        vs->ops = *ops;
    if (cfg)
        vs->cfg = *cfg;
    else
        vmscan_config_init(&vs->cfg);
    vmscan_set_swappiness(vs, vs->cfg.swappiness);
    vs->freq_mhz = freq_mhz > 0 ? freq_mhz : 1000;
    vs->cost.isolate = ns_cycles(vs, vs->cfg.costs.isolate_ns);
    vs->cost.scan = ns_cycles(vs, vs->cfg.costs.scan_ns);
    vs->cost.swap_add = ns_cycles(vs, vs->cfg.costs.swap_add_ns);
    vs->cost.submit = ns_cycles(vs, vs->cfg.costs.submit_ns);
    vs->cost.free = ns_cycles(vs, vs->cfg.costs.free_ns);
    vs->cost.batch = ns_cycles(vs, vs->cfg.costs.batch_ns);
    vs->nr_nodes = mm_phys_nr_nodes(pm);
    for (unsigned n = 0; n < vs->nr_nodes; n++) {
        struct kswapd *k = &vs->kswapd[n];
        k->state = KSWAPD_SLEEPING;
        k->req_zoneidx = NO_ZONE;
        k->highest_zoneidx = MM_NR_ZONE_TYPES - 1;
    }
    if (reg)
        register_stats(vs, reg);
    return vs;
}

void mm_vmscan_destroy(mm_vmscan *vs) { free(vs); }

void vmscan_set_swappiness(mm_vmscan *vs, int s)
{
    vs->cfg.swappiness = s < 0 ? 0 : s > 200 ? 200 : s;
}
int vmscan_swappiness(const mm_vmscan *vs) { return vs->cfg.swappiness; }
const struct vmscan_events *vmscan_events(const mm_vmscan *vs) { return &vs->ev; }
void vmscan_add_memstall(mm_vmscan *vs, uint64_t cycles) { vs->ev.memstall_cycles += cycles; }
enum kswapd_state kswapd_state(const mm_vmscan *vs, int nid) { return vs->kswapd[nid].state; }
unsigned kswapd_failures(const mm_vmscan *vs, int nid) { return vs->kswapd[nid].failures; }
int kswapd_priority(const mm_vmscan *vs, int nid) { return vs->kswapd[nid].sc.priority; }

/* ---- helpers --------------------------------------------------------------------------------- */

static uint64_t nr_swap_free(const mm_vmscan *vs) { return vs->swap ? get_nr_swap_pages(vs->swap) : 0; }

/* can_reclaim_anon_pages(): free swap (no demotion targets in the model) */
static bool can_reclaim_anon_pages(const mm_vmscan *vs) { return nr_swap_free(vs) > 0; }

/* can_age_anon_pages(): swap configured */
static bool can_age_anon_pages(const mm_vmscan *vs)
{
    return vs->swap && total_swap_pages(vs->swap) > 0;
}

uint64_t zone_reclaimable_pages(const mm_vmscan *vs, const mm_zone *z)
{
    uint64_t nr = zone_lru_pages(vs->lru, z, LRU_INACTIVE_FILE) +
                  zone_lru_pages(vs->lru, z, LRU_ACTIVE_FILE);
    if (can_reclaim_anon_pages(vs))
        nr += zone_lru_pages(vs->lru, z, LRU_INACTIVE_ANON) +
              zone_lru_pages(vs->lru, z, LRU_ACTIVE_ANON);
    return nr;
}

bool inactive_is_low(const mm_lru *lru, int nid, enum lru_list inactive_lru)
{
    uint64_t inactive = lruvec_page_state(lru, nid, inactive_lru);
    uint64_t active = lruvec_page_state(lru, nid, (enum lru_list)(inactive_lru + LRU_ACTIVE));
    unsigned shift = 30 - mm_phys_config_of(mm_lru_phys(lru))->page_shift;
    uint64_t gb = (inactive + active) >> shift;
    uint64_t ratio = gb ? mm_int_sqrt(10 * gb) : 1;
    return inactive * ratio < active;
}

static void free_reclaimed_page(mm_vmscan *vs, uint64_t pfn, unsigned cpu)
{
    lru_page_free(vs->lru, pfn);
    mm_err err;
    buddy_free_pages(vs->pm, pfn, 0, cpu, &err);
}

/* ---- isolation and putback ------------------------------------------------------------------- */

static void raw_unlink(mm_lru *lru, struct lru_head *h, uint64_t pfn)
{
    struct lru_page *p = lru_pg(lru, pfn);
    if (p->prev != LRU_NIL)
        lru_pg(lru, p->prev)->next = p->next;
    else
        h->head = p->next;
    if (p->next != LRU_NIL)
        lru_pg(lru, p->next)->prev = p->prev;
    else
        h->tail = p->prev;
    p->next = p->prev = LRU_NIL;
}

static void raw_push_head(mm_lru *lru, struct lru_head *h, uint64_t pfn)
{
    struct lru_page *p = lru_pg(lru, pfn);
    p->prev = LRU_NIL;
    p->next = h->head;
    if (h->head != LRU_NIL)
        lru_pg(lru, h->head)->prev = (uint32_t)pfn;
    else
        h->tail = (uint32_t)pfn;
    h->head = (uint32_t)pfn;
}

/* list_splice(src, dst): src's pages, in order, before dst's head */
static void raw_splice_head(mm_lru *lru, struct lru_head *src, struct lru_head *dst)
{
    if (src->head == LRU_NIL)
        return;
    lru_pg(lru, src->tail)->next = dst->head;
    if (dst->head != LRU_NIL)
        lru_pg(lru, dst->head)->prev = src->tail;
    else
        dst->tail = src->tail;
    dst->head = src->head;
    src->head = src->tail = LRU_NIL;
}

/* isolate_lru_folios(): up to nr_to_scan eligible pages from the tail of list l into out[];
 * pages of zones above reclaim_idx are skipped (moved to the head, not counted against
 * nr_to_scan, but counted in *nr_scanned as Linux does). */
static uint64_t isolate_lru_folios(mm_vmscan *vs, int nid, struct scan_control *sc,
                                   enum lru_list l, uint64_t nr_to_scan, uint64_t *out,
                                   uint64_t *nr_scanned)
{
    mm_lru *lru = vs->lru;
    struct lru_head *src = &lru->vec[nid].lists[l];
    struct lru_head skipped = {LRU_NIL, LRU_NIL};
    uint64_t total_scan = 0, scan = 0, taken = 0;
    while (scan < nr_to_scan && src->tail != LRU_NIL) {
        uint64_t pfn = src->tail;
        total_scan++;
        if (folio_zonenum(lru, pfn) > sc->reclaim_idx) {
            raw_unlink(lru, src, pfn);
            raw_push_head(lru, &skipped, pfn);
            continue;
        }
        scan++;
        lruvec_del_folio(lru, pfn);
        out[taken++] = pfn;
    }
    raw_splice_head(lru, &skipped, src);
    *nr_scanned = total_scan;
    return taken;
}

/* move_folios_to_lru(): put the pages still in pages[] (not MM_PFN_NONE) back, in order, each at
 * the head of its list; an active page ages the nonresident clock. */
static uint64_t move_folios_to_lru(mm_vmscan *vs, int nid, const uint64_t *pages, uint64_t n)
{
    uint64_t moved = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pfn = pages[i];
        if (pfn == MM_PFN_NONE)
            continue;
        if (!folio_evictable(vs->lru, pfn)) {
            folio_add_lru(vs->lru, pfn); /* folio_putback_lru(): to the unevictable list */
            continue;
        }
        lruvec_add_folio(vs->lru, pfn);
        moved++;
        if (folio_test(vs->lru, pfn, PG_active))
            workingset_age_nonresident(vs->lru, nid, 1);
    }
    return moved;
}

/* ---- shrink_folio_list ----------------------------------------------------------------------- */

static enum folio_references folio_check_references(mm_vmscan *vs, struct scan_control *sc,
                                                    uint64_t pfn)
{
    mm_lru *lru = vs->lru;
    uint64_t owner = folio_owner(lru, pfn);
    unsigned vm_flags = 0;
    int referenced_ptes = 0;
    if (owner != OWNER_NONE && vs->ops.folio_referenced)
        referenced_ptes = vs->ops.folio_referenced(vs->ops.ctx, owner, pfn, &vm_flags,
                                                   &sc->cycles);
    bool referenced_folio = folio_test_clear(lru, pfn, PG_referenced);

    /* found in a VM_LOCKED vma: mlocked, it goes to the unevictable list */
    if (vm_flags & VM_LOCKED) {
        folio_mlock(lru, pfn);
        return FOLIOREF_ACTIVATE;
    }
    if (referenced_ptes == -1) /* rmap lock contention: rotate */
        return FOLIOREF_KEEP;
    if (referenced_ptes) {
        /* mapped pages start with a reference from the faulting access: look twice. Mark it and
         * spare it for another trip; another reference activates it. */
        folio_set_flags(lru, pfn, PG_referenced);
        if (referenced_folio || referenced_ptes > 1)
            return FOLIOREF_ACTIVATE;
        if ((vm_flags & VM_EXEC) && folio_is_file_lru(lru, pfn))
            return FOLIOREF_ACTIVATE; /* file-backed executable pages after first use */
        return FOLIOREF_KEEP;
    }
    if (referenced_folio && folio_is_file_lru(lru, pfn))
        return FOLIOREF_RECLAIM_CLEAN; /* reclaim if clean, defer dirty pages to writeback */
    return FOLIOREF_RECLAIM;
}

/* __remove_mapping(): out of the swap cache or page cache with a shadow entry. false: keep. */
static bool remove_mapping(mm_vmscan *vs, uint64_t pfn)
{
    mm_lru *lru = vs->lru;
    if (folio_test(lru, pfn, PG_dirty))
        return false;
    if (folio_test(lru, pfn, PG_swapcache)) {
        uint32_t entry = folio_swap_entry(lru, pfn);
        uint64_t shadow = workingset_eviction(lru, pfn);
        delete_from_swap_cache(vs->pc, pfn, shadow);
        if (vs->swap)
            put_swap_folio(vs->swap, entry);
        return true;
    }
    if (folio_test(lru, pfn, PG_pagecache)) {
        uint64_t shadow = workingset_eviction(lru, pfn);
        filemap_remove_folio(vs->pc, pfn, shadow);
        return true;
    }
    return false; /* no mapping */
}

/* pageout(): start writing a dirty page. Returns true when the page is clean and not under
 * writeback afterwards (a synchronous write: go on and free it). */
static bool pageout(mm_vmscan *vs, struct scan_control *sc, uint64_t pfn,
                    struct reclaim_stat *stat, bool *keep)
{
    mm_lru *lru = vs->lru;
    uint64_t now = sc_now(sc);
    *keep = false;
    folio_clear_dirty_for_io(vs->wb, pfn);
    folio_set_flags(lru, pfn, PG_reclaim);
    uint64_t done = now;
    if (folio_test(lru, pfn, PG_swapcache)) {
        if (!vs->swap || !swap_writepage(vs->swap, pfn, now, &done)) {
            /* the write failed (zram pool full): the page stays dirty */
            folio_clear_flags(lru, pfn, PG_reclaim);
            folio_mark_dirty(vs->wb, pfn, now);
            *keep = true;
            return false;
        }
    } else {
        done = folio_start_writeback(vs->wb, pfn, wb_file_bdev(vs->wb), now);
    }
    stat->nr_pageout++;
    vs->ev.nr_vmscan_write++;
    sc->cycles += vs->cost.submit;
    if (folio_test(lru, pfn, PG_writeback))
        return false; /* asynchronous: keep it; it rotates to the tail when written */
    /* a synchronous write (zram): the reclaimer did the work */
    folio_clear_flags(lru, pfn, PG_reclaim);
    if (done > now)
        sc->cycles += done - now;
    return !folio_test(lru, pfn, PG_dirty);
}

/* shrink_folio_list(): pages[] isolated from node nid's inactive lists. Freed pages become
 * MM_PFN_NONE in pages[]; the rest are to be put back. Returns pages reclaimed. */
static uint64_t shrink_folio_list(mm_vmscan *vs, int nid, struct scan_control *sc,
                                  uint64_t *pages, uint64_t n, struct reclaim_stat *stat)
{
    mm_lru *lru = vs->lru;
    struct pgdat_flags *pg = &vs->pgdat[nid];
    uint64_t nr_reclaimed = 0;
    memset(stat, 0, sizeof *stat);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pfn = pages[i];
        enum folio_references references = FOLIOREF_RECLAIM;
        sc->nr_scanned++;
        sc->cycles += vs->cost.scan;

        if (!folio_evictable(lru, pfn))
            goto activate_locked;

        /* folio_check_dirty_writeback(): anon pages are not the flushers' business */
        bool file = folio_is_file_lru(lru, pfn);
        bool dirty = file && folio_test(lru, pfn, PG_dirty);
        bool writeback = file && folio_test(lru, pfn, PG_writeback);
        if (dirty || writeback)
            stat->nr_dirty++;
        if (dirty && !writeback)
            stat->nr_unqueued_dirty++;
        if (writeback && folio_test(lru, pfn, PG_reclaim))
            stat->nr_congested++;

        if (folio_test(lru, pfn, PG_writeback)) {
            if (sc->kswapd && folio_test(lru, pfn, PG_reclaim) && pg->writeback) {
                /* case 1: pages cycle through the LRU faster than they are written */
                stat->nr_immediate++;
                goto activate_locked;
            }
            /* case 2: mark it for immediate reclaim and get it out of the way */
            folio_set_flags(lru, pfn, PG_reclaim);
            stat->nr_writeback++;
            goto activate_locked;
        }

        references = folio_check_references(vs, sc, pfn);
        switch (references) {
        case FOLIOREF_ACTIVATE:
            goto activate_locked;
        case FOLIOREF_KEEP:
            stat->nr_ref_keep++;
            goto keep;
        case FOLIOREF_RECLAIM:
        case FOLIOREF_RECLAIM_CLEAN:
            break;
        }

        /* anonymous memory needs swap space: add_to_swap() */
        if (folio_test(lru, pfn, PG_swapbacked) && !folio_test(lru, pfn, PG_swapcache)) {
            if (!vs->swap || !add_to_swap(vs->swap, pfn, sc_now(sc)))
                goto activate_locked; /* activate_locked_split */
            sc->cycles += vs->cost.swap_add;
        }

        /* mapped into page tables: try_to_unmap() */
        uint64_t owner = folio_owner(lru, pfn);
        if (owner != OWNER_NONE && vs->ops.try_to_unmap) {
            bool pte_dirty = false;
            uint32_t entry = folio_test(lru, pfn, PG_swapcache) ? folio_swap_entry(lru, pfn) : 0;
            int unmapped = vs->ops.try_to_unmap(vs->ops.ctx, owner, pfn, entry, &pte_dirty,
                                                &sc->cycles);
            if (unmapped < 0) {
                stat->nr_unmap_fail++;
                goto activate_locked;
            }
            for (int k = 0; k < unmapped && entry && vs->swap; k++)
                swap_duplicate(vs->swap, entry);
            if (pte_dirty)
                folio_mark_dirty(vs->wb, pfn, sc_now(sc));
            if (!folio_test(lru, pfn, PG_pagecache))
                folio_set_owner(lru, pfn, OWNER_NONE); /* anon: only swap PTEs refer to it now */
        } else if (owner != OWNER_NONE && !folio_test(lru, pfn, PG_pagecache)) {
            folio_set_owner(lru, pfn, OWNER_NONE);
        }

        if (folio_test(lru, pfn, PG_dirty)) {
            /* Only kswapd writes file pages, and only once it has seen them again with
             * PG_reclaim while the node is flagged dirty; otherwise get them out of the way. */
            if (folio_is_file_lru(lru, pfn) &&
                (!sc->kswapd || !folio_test(lru, pfn, PG_reclaim) || !pg->dirty)) {
                vs->ev.nr_vmscan_immediate_reclaim++;
                folio_set_flags(lru, pfn, PG_reclaim);
                goto activate_locked;
            }
            if (references == FOLIOREF_RECLAIM_CLEAN)
                goto keep;
            if (!sc->may_writepage)
                goto keep;
            bool keep;
            if (!pageout(vs, sc, pfn, stat, &keep))
                goto keep;
        }

        if (!remove_mapping(vs, pfn))
            goto keep;
        nr_reclaimed++;
        sc->cycles += vs->cost.free;
        free_reclaimed_page(vs, pfn, sc->cpu);
        pages[i] = MM_PFN_NONE;
        continue;

    activate_locked:
        /* not a candidate for swapping: give the swap space back */
        if (folio_test(lru, pfn, PG_swapcache) && vs->swap &&
            (vm_swap_full(vs->swap) || folio_test(lru, pfn, PG_mlocked)))
            folio_free_swap(vs->swap, pfn, sc_now(sc));
        if (!folio_test(lru, pfn, PG_mlocked)) {
            folio_set_flags(lru, pfn, PG_active);
            stat->nr_activate[folio_is_file_lru(lru, pfn)]++;
        }
    keep:;
    }
    lru->ev.pgactivate += stat->nr_activate[0] + stat->nr_activate[1];
    return nr_reclaimed;
}

/* ---- the list scanners ----------------------------------------------------------------------- */

static uint64_t shrink_inactive_list(mm_vmscan *vs, int nid, uint64_t nr_to_scan,
                                     struct scan_control *sc, enum lru_list l)
{
    uint64_t pages[SWAP_CLUSTER_MAX];
    bool file = is_file_lru(l);
    if (nr_to_scan > SWAP_CLUSTER_MAX)
        nr_to_scan = SWAP_CLUSTER_MAX;
    uint64_t nr_scanned;
    uint64_t nr_taken = isolate_lru_folios(vs, nid, sc, l, nr_to_scan, pages, &nr_scanned);
    if (sc->kswapd)
        vs->ev.pgscan_kswapd += nr_scanned;
    else
        vs->ev.pgscan_direct += nr_scanned;
    if (file)
        vs->ev.pgscan_file += nr_scanned;
    else
        vs->ev.pgscan_anon += nr_scanned;
    sc->cycles += vs->cost.batch + vs->cost.isolate * nr_scanned;
    if (!nr_taken)
        return 0;

    struct reclaim_stat stat;
    uint64_t nr_reclaimed = shrink_folio_list(vs, nid, sc, pages, nr_taken, &stat);
    move_folios_to_lru(vs, nid, pages, nr_taken);
    if (sc->kswapd)
        vs->ev.pgsteal_kswapd += nr_reclaimed;
    else
        vs->ev.pgsteal_direct += nr_reclaimed;
    if (file)
        vs->ev.pgsteal_file += nr_reclaimed;
    else
        vs->ev.pgsteal_anon += nr_reclaimed;
    lru_note_cost(vs->lru, nid, file, stat.nr_pageout);

    /* dirty pages not queued for I/O: the flushers are not keeping up, nudge them */
    if (stat.nr_unqueued_dirty == nr_taken)
        wakeup_flusher_threads(vs->wb, WB_REASON_VMSCAN);

    sc->nr.dirty += stat.nr_dirty;
    sc->nr.congested += stat.nr_congested;
    sc->nr.unqueued_dirty += stat.nr_unqueued_dirty;
    sc->nr.writeback += stat.nr_writeback;
    sc->nr.immediate += stat.nr_immediate;
    sc->nr.taken += nr_taken;
    if (file)
        sc->nr.file_taken += nr_taken;
    return nr_reclaimed;
}

static void shrink_active_list(mm_vmscan *vs, int nid, uint64_t nr_to_scan,
                               struct scan_control *sc, enum lru_list l)
{
    mm_lru *lru = vs->lru;
    uint64_t pages[SWAP_CLUSTER_MAX], l_active[SWAP_CLUSTER_MAX] = {0}, l_inactive[SWAP_CLUSTER_MAX] = {0};
    uint64_t na = 0, ni = 0;
    if (nr_to_scan > SWAP_CLUSTER_MAX)
        nr_to_scan = SWAP_CLUSTER_MAX;
    uint64_t nr_scanned;
    uint64_t nr_taken = isolate_lru_folios(vs, nid, sc, l, nr_to_scan, pages, &nr_scanned);
    vs->ev.pgrefill += nr_scanned;
    sc->cycles += vs->cost.batch + vs->cost.isolate * nr_scanned;
    for (uint64_t i = 0; i < nr_taken; i++) {
        uint64_t pfn = pages[i];
        sc->cycles += vs->cost.scan;
        if (!folio_evictable(lru, pfn)) {
            folio_add_lru(lru, pfn); /* folio_putback_lru() */
            continue;
        }
        uint64_t owner = folio_owner(lru, pfn);
        unsigned vm_flags = 0;
        int referenced = 0;
        if (owner != OWNER_NONE && vs->ops.folio_referenced)
            referenced = vs->ops.folio_referenced(vs->ops.ctx, owner, pfn, &vm_flags,
                                                  &sc->cycles);
        if (vm_flags & VM_LOCKED)
            folio_mlock(lru, pfn);
        /* referenced (or rmap contention): executable file pages get another trip around the
         * active list; anon pages do not (JVMs map lots of anon VM_EXEC memory) */
        if (referenced != 0 && (vm_flags & VM_EXEC) && folio_is_file_lru(lru, pfn)) {
            l_active[na++] = pfn;
            continue;
        }
        folio_clear_flags(lru, pfn, PG_active); /* deactivating */
        folio_set_flags(lru, pfn, PG_workingset);
        l_inactive[ni++] = pfn;
    }
    move_folios_to_lru(vs, nid, l_active, na);
    uint64_t nr_deactivate = move_folios_to_lru(vs, nid, l_inactive, ni);
    lru->ev.pgdeactivate += nr_deactivate;
}

static uint64_t shrink_list(mm_vmscan *vs, int nid, enum lru_list l, uint64_t nr_to_scan,
                            struct scan_control *sc)
{
    if (is_active_lru(l)) {
        if (sc->may_deactivate & (1u << is_file_lru(l)))
            shrink_active_list(vs, nid, nr_to_scan, sc, l);
        else
            sc->skipped_deactivate = true;
        return 0;
    }
    return shrink_inactive_list(vs, nid, nr_to_scan, sc, l);
}

/* ---- scan balance ---------------------------------------------------------------------------- */

static void prepare_scan_count(mm_vmscan *vs, int nid, struct scan_control *sc)
{
    mm_lru *lru = vs->lru;
    sc->anon_cost = lruvec_anon_cost(lru, nid);
    sc->file_cost = lruvec_file_cost(lru, nid);

    /* target inactive:active ratios; refaults mean a new workingset: deactivate quickly */
    if (!sc->force_deactivate) {
        if (lruvec_workingset_activate(lru, nid, false) != lruvec_refaults_snapshot(lru, nid, false) ||
            inactive_is_low(lru, nid, LRU_INACTIVE_ANON))
            sc->may_deactivate |= DEACTIVATE_ANON;
        else
            sc->may_deactivate &= ~DEACTIVATE_ANON;
        if (lruvec_workingset_activate(lru, nid, true) != lruvec_refaults_snapshot(lru, nid, true) ||
            inactive_is_low(lru, nid, LRU_INACTIVE_FILE))
            sc->may_deactivate |= DEACTIVATE_FILE;
        else
            sc->may_deactivate &= ~DEACTIVATE_FILE;
    } else {
        sc->may_deactivate = DEACTIVATE_ANON | DEACTIVATE_FILE;
    }

    /* plenty of inactive file pages that are not thrashing: reclaim those first */
    uint64_t file = lruvec_page_state(lru, nid, LRU_INACTIVE_FILE);
    sc->cache_trim_mode = (file >> sc->priority) && !(sc->may_deactivate & DEACTIVATE_FILE);

    /* the cache trap: a tiny, thrashing file LRU must not look infinitely attractive */
    uint64_t total_high_wmark = 0, free = 0;
    for (int z = 0; z < MM_NR_ZONE_TYPES; z++) {
        const mm_zone *zone = mm_node_zone(vs->pm, nid, (enum zone_type)z);
        if (!zone)
            continue;
        free += zone_free_pages(zone);
        if (zone_managed_pages(zone))
            total_high_wmark += wmark_pages(zone, WMARK_HIGH);
    }
    file = lruvec_page_state(lru, nid, LRU_ACTIVE_FILE) + lruvec_page_state(lru, nid, LRU_INACTIVE_FILE);
    uint64_t anon = lruvec_page_state(lru, nid, LRU_INACTIVE_ANON);
    sc->file_is_tiny = file + free <= total_high_wmark && !(sc->may_deactivate & DEACTIVATE_ANON) &&
                       (anon >> sc->priority);
}

static void get_scan_count(mm_vmscan *vs, int nid, struct scan_control *sc,
                           uint64_t nr[NR_EVICTABLE_LRU_LISTS], enum scan_balance *balance_out,
                           uint64_t fraction_out[2], uint64_t *denominator_out)
{
    int swappiness = vs->cfg.swappiness;
    uint64_t fraction[2] = {0, 0}, denominator = 0;
    enum scan_balance scan_balance;

    if (!sc->may_swap || !can_reclaim_anon_pages(vs)) {
        scan_balance = SCAN_FILE; /* no swap space: do not bother scanning anon */
    } else if (!sc->priority && swappiness) {
        scan_balance = SCAN_EQUAL; /* close to OOM: scan both equally */
    } else if (sc->file_is_tiny) {
        scan_balance = SCAN_ANON;
    } else if (sc->cache_trim_mode) {
        scan_balance = SCAN_FILE;
    } else {
        /* pressure inversely proportional to each type's reclaim cost (refaults, I/O), times
         * the relative I/O cost swappiness expresses; at least a third each before swappiness */
        scan_balance = SCAN_FRACT;
        uint64_t total_cost = sc->anon_cost + sc->file_cost;
        uint64_t anon_cost = total_cost + sc->anon_cost;
        uint64_t file_cost = total_cost + sc->file_cost;
        total_cost = anon_cost + file_cost;
        uint64_t ap = (uint64_t)swappiness * (total_cost + 1) / (anon_cost + 1);
        uint64_t fp = (uint64_t)(200 - swappiness) * (total_cost + 1) / (file_cost + 1);
        fraction[0] = ap;
        fraction[1] = fp;
        denominator = ap + fp;
    }
    for (int l = 0; l < NR_EVICTABLE_LRU_LISTS; l++) {
        bool file = is_file_lru((enum lru_list)l);
        uint64_t scan = lruvec_lru_size(vs->lru, nid, (enum lru_list)l, sc->reclaim_idx);
        scan >>= sc->priority;
        switch (scan_balance) {
        case SCAN_EQUAL:
            break;
        case SCAN_FRACT:
            scan = denominator ? scan * fraction[file] / denominator : 0;
            break;
        case SCAN_FILE:
        case SCAN_ANON:
            if ((scan_balance == SCAN_FILE) != file)
                scan = 0;
            break;
        }
        nr[l] = scan;
    }
    if (balance_out)
        *balance_out = scan_balance;
    if (fraction_out) {
        fraction_out[0] = fraction[0];
        fraction_out[1] = fraction[1];
    }
    if (denominator_out)
        *denominator_out = denominator;
}

void vmscan_get_scan_count(mm_vmscan *vs, int nid, int priority, enum zone_type reclaim_idx,
                           bool may_swap, uint64_t nr[NR_EVICTABLE_LRU_LISTS],
                           enum scan_balance *balance, uint64_t fraction[2],
                           uint64_t *denominator)
{
    struct scan_control sc = {.priority = priority, .reclaim_idx = reclaim_idx,
                              .may_swap = may_swap, .may_unmap = true, .may_writepage = true,
                              .nr_to_reclaim = SWAP_CLUSTER_MAX};
    prepare_scan_count(vs, nid, &sc);
    get_scan_count(vs, nid, &sc, nr, balance, fraction, denominator);
}

static void test_sc_init(struct scan_control *sc, bool kswapd, unsigned cpu, uint64_t now)
{
    memset(sc, 0, sizeof *sc);
    sc->reclaim_idx = MM_NR_ZONE_TYPES - 1;
    sc->priority = DEF_PRIORITY;
    sc->may_swap = sc->may_unmap = sc->may_writepage = true;
    sc->may_deactivate = DEACTIVATE_ANON | DEACTIVATE_FILE;
    sc->kswapd = kswapd;
    sc->cpu = cpu;
    sc->start = now;
    sc->gfp = MM_GFP_KERNEL;
}

uint64_t vmscan_shrink_inactive(mm_vmscan *vs, int nid, enum lru_list l, uint64_t nr_to_scan,
                                bool kswapd, uint64_t now, uint64_t *cycles)
{
    struct scan_control sc;
    test_sc_init(&sc, kswapd, (unsigned)first_cpu_of_node(vs->pm, nid), now);
    uint64_t r = shrink_inactive_list(vs, nid, nr_to_scan, &sc, l);
    if (cycles)
        *cycles += sc.cycles;
    return r;
}

void vmscan_shrink_active(mm_vmscan *vs, int nid, enum lru_list l, uint64_t nr_to_scan,
                          bool kswapd, uint64_t now, uint64_t *cycles)
{
    struct scan_control sc;
    test_sc_init(&sc, kswapd, (unsigned)first_cpu_of_node(vs->pm, nid), now);
    shrink_active_list(vs, nid, nr_to_scan, &sc, l);
    if (cycles)
        *cycles += sc.cycles;
}

/* ---- shrink_node, as a resumable step machine ------------------------------------------------ */

/* compaction is not modelled: reclaim for order > 0 continues while nothing could be allocated at
 * that order yet and the inactive lists hold more than compact_gap(order) = 2 << order pages */
static bool should_continue_reclaim(mm_vmscan *vs, int nid, uint64_t nr_reclaimed,
                                    struct scan_control *sc)
{
    if (!(sc->order && (sc->order > PAGE_ALLOC_COSTLY_ORDER || sc->priority < DEF_PRIORITY - 2)))
        return false; /* in_reclaim_compaction() */
    if (!nr_reclaimed)
        return false;
    for (int z = 0; z <= (int)sc->reclaim_idx; z++) {
        const mm_zone *zone = node_zone(vs, nid, z);
        if (zone && zone_watermark_ok(zone, sc->order, wmark_pages(zone, WMARK_MIN),
                                      sc->reclaim_idx, 0))
            return false;
    }
    uint64_t inactive = lruvec_page_state(vs->lru, nid, LRU_INACTIVE_FILE);
    if (can_reclaim_anon_pages(vs))
        inactive += lruvec_page_state(vs->lru, nid, LRU_INACTIVE_ANON);
    return inactive > (2ull << sc->order);
}

/* skip_throttle_noprogress() */
static bool skip_throttle_noprogress(const mm_vmscan *vs, int nid)
{
    if (vs->kswapd[nid].failures >= MAX_RECLAIM_RETRIES)
        return true;
    uint64_t reclaimable = 0;
    for (int z = 0; z < MM_NR_ZONE_TYPES; z++) {
        const mm_zone *zone = node_zone(vs, nid, z);
        if (zone)
            reclaimable += zone_reclaimable_pages(vs, zone);
    }
    return 2 * wb_node_write_pending(vs->wb, nid) <= reclaimable;
}

/* total present pages: the shadow-node limit (count_shadow_nodes' node_present_pages over the
 * model's one global shadow-node list) */
static uint64_t total_present_pages(const mm_vmscan *vs)
{
    uint64_t n = 0;
    for (unsigned nid = 0; nid < vs->nr_nodes; nid++)
        for (int z = 0; z < MM_NR_ZONE_TYPES; z++) {
            const mm_zone *zone = mm_node_zone(vs->pm, (int)nid, (enum zone_type)z);
            if (zone)
                n += zone_present_pages(zone);
        }
    return n;
}

static void lruvec_start(mm_vmscan *vs, int nid, struct scan_control *sc, struct node_scan *ns)
{
    get_scan_count(vs, nid, sc, ns->nr, NULL, NULL, NULL);
    memcpy(ns->targets, ns->nr, sizeof ns->nr);
    /* direct reclaim at DEF_PRIORITY does a batch of work at once: no early abort */
    ns->proportional = !sc->kswapd && sc->priority == DEF_PRIORITY;
    ns->reclaimed = 0;
    ns->next_lru = 0;
    ns->in_round = false;
}

/* shrink_lruvec(): one shrink_list batch per call; true when the lruvec pass is over */
static bool lruvec_step(mm_vmscan *vs, int nid, struct scan_control *sc, struct node_scan *ns)
{
    uint64_t *nr = ns->nr;
    if (!ns->in_round) {
        if (!(nr[LRU_INACTIVE_ANON] || nr[LRU_ACTIVE_FILE] || nr[LRU_INACTIVE_FILE]))
            return true;
        ns->in_round = true;
        ns->next_lru = 0;
    }
    while (ns->next_lru < NR_EVICTABLE_LRU_LISTS && !nr[ns->next_lru])
        ns->next_lru++;
    if (ns->next_lru < NR_EVICTABLE_LRU_LISTS) {
        enum lru_list l = (enum lru_list)ns->next_lru++;
        uint64_t nr_to_scan = nr[l] < SWAP_CLUSTER_MAX ? nr[l] : SWAP_CLUSTER_MAX;
        nr[l] -= nr_to_scan;
        ns->reclaimed += shrink_list(vs, nid, l, nr_to_scan, sc);
        return false;
    }
    /* the end of a round over the four lists */
    ns->in_round = false;
    if (ns->reclaimed < sc->nr_to_reclaim || ns->proportional)
        return false;
    /* kswapd: reclaimed enough; scan anon and file in proportion to the original targets */
    uint64_t nr_file = nr[LRU_INACTIVE_FILE] + nr[LRU_ACTIVE_FILE];
    uint64_t nr_anon = nr[LRU_INACTIVE_ANON] + nr[LRU_ACTIVE_ANON];
    if (!nr_file || !nr_anon)
        return true;
    int lru;
    uint64_t percentage;
    if (nr_file > nr_anon) {
        uint64_t scan_target = ns->targets[LRU_INACTIVE_ANON] + ns->targets[LRU_ACTIVE_ANON] + 1;
        lru = LRU_BASE;
        percentage = nr_anon * 100 / scan_target;
    } else {
        uint64_t scan_target = ns->targets[LRU_INACTIVE_FILE] + ns->targets[LRU_ACTIVE_FILE] + 1;
        lru = LRU_FILE;
        percentage = nr_file * 100 / scan_target;
    }
    nr[lru] = 0; /* stop scanning the smaller */
    nr[lru + LRU_ACTIVE] = 0;
    lru = lru == LRU_FILE ? LRU_BASE : LRU_FILE;
    for (int k = 0; k < 2; k++, lru += LRU_ACTIVE) {
        uint64_t scanned = ns->targets[lru] - nr[lru];
        nr[lru] = ns->targets[lru] * (100 - percentage) / 100;
        nr[lru] -= nr[lru] < scanned ? nr[lru] : scanned;
    }
    return false;
}

static enum ns_result shrink_node_step(mm_vmscan *vs, int nid, struct scan_control *sc,
                                       struct node_scan *ns)
{
    struct pgdat_flags *pg = &vs->pgdat[nid];
    switch (ns->phase) {
    case SN_START:
        memset(&sc->nr, 0, sizeof sc->nr);
        ns->nr_reclaimed0 = sc->nr_reclaimed;
        ns->nr_scanned0 = sc->nr_scanned;
        prepare_scan_count(vs, nid, sc);
        lruvec_start(vs, nid, sc, ns);
        ns->phase = SN_LRUVEC;
        return NS_CONTINUE;
    case SN_LRUVEC:
        if (lruvec_step(vs, nid, sc, ns)) {
            sc->nr_reclaimed += ns->reclaimed;
            ns->phase = SN_AGE_ANON;
        }
        return NS_CONTINUE;
    case SN_AGE_ANON:
        /* rebalance the anon active/inactive ratio even if anon was not scanned */
        if (can_age_anon_pages(vs) && inactive_is_low(vs->lru, nid, LRU_INACTIVE_ANON))
            shrink_active_list(vs, nid, SWAP_CLUSTER_MAX, sc, LRU_ACTIVE_ANON);
        ns->phase = SN_END;
        return NS_CONTINUE;
    case SN_END: {
        /* shrink_slab(): the workingset shadow shrinker, then the facade's caches */
        pagecache_shrink_shadow_nodes(vs->pc, total_present_pages(vs), sc->priority);
        if (vs->ops.shrink_slab)
            sc->nr_reclaimed += vs->ops.shrink_slab(vs->ops.ctx, nid, sc->priority, &sc->cycles);
        if (sc->kswapd) {
            if (sc->nr.writeback && sc->nr.writeback == sc->nr.taken)
                pg->writeback = true;
            if (sc->nr.unqueued_dirty == sc->nr.file_taken)
                pg->dirty = true; /* allow kswapd to write file pages */
            if (sc->nr.immediate) {
                /* pages cycle faster than they are written: reclaim_throttle(WRITEBACK) */
                uint64_t now = sc_now(sc);
                ns->wait_until = writeback_node_wait_time(vs->wb, nid, SWAP_CLUSTER_MAX + 1, now,
                                                          now + jiffies_cycles(vs, WB_HZ / 10));
                ns->phase = SN_AFTER_THROTTLE;
                return NS_WAIT;
            }
        }
        ns->phase = SN_AFTER_THROTTLE;
        return NS_CONTINUE;
    }
    case SN_AFTER_THROTTLE:
    default: {
        if (sc->kswapd && sc->nr.dirty && sc->nr.dirty == sc->nr.congested)
            pg->congested = true;
        if (!sc->kswapd && pg->congested && !skip_throttle_noprogress(vs, nid)) {
            /* reclaim_throttle(VMSCAN_THROTTLE_CONGESTED): one jiffy */
            uint64_t wait = jiffies_cycles(vs, 1);
            sc->cycles += wait;
            writeback_complete(vs->wb, sc_now(sc));
        }
        bool reclaimable = sc->nr_reclaimed > ns->nr_reclaimed0;
        if (should_continue_reclaim(vs, nid, sc->nr_reclaimed - ns->nr_reclaimed0, sc)) {
            ns->phase = SN_START;
            return NS_CONTINUE;
        }
        if (reclaimable)
            vs->kswapd[nid].failures = 0;
        ns->phase = SN_DONE;
        return NS_DONE;
    }
    }
}

/* shrink_node() run to the end (direct reclaim): waits are spent in the caller's time */
static void shrink_node(mm_vmscan *vs, int nid, struct scan_control *sc)
{
    struct node_scan ns;
    memset(&ns, 0, sizeof ns);
    for (;;) {
        enum ns_result r = shrink_node_step(vs, nid, sc, &ns);
        if (r == NS_DONE)
            break;
        if (r == NS_WAIT) {
            if (ns.wait_until > sc_now(sc))
                sc->cycles = ns.wait_until - sc->start;
            writeback_complete(vs->wb, sc_now(sc));
        }
    }
}

/* ---- balance checks -------------------------------------------------------------------------- */

bool pgdat_balanced(const mm_vmscan *vs, int nid, unsigned order, enum zone_type highest_zoneidx)
{
    bool any = false;
    for (int i = 0; i <= (int)highest_zoneidx && i < MM_NR_ZONE_TYPES; i++) {
        const mm_zone *z = node_zone(vs, nid, i);
        if (!z)
            continue;
        any = true;
        if (zone_watermark_ok(z, order, wmark_pages(z, WMARK_HIGH), highest_zoneidx, 0))
            return true;
    }
    return !any;
}

static bool pgdat_watermark_boosted(const mm_vmscan *vs, int nid, enum zone_type highest)
{
    for (int i = (int)highest; i >= 0; i--) {
        const mm_zone *z = node_zone(vs, nid, i);
        if (z && zone_watermark_boost(z))
            return true;
    }
    return false;
}

/* allow_direct_reclaim(): the pfmemalloc reserves of zones up to Normal are not depleted */
static bool allow_direct_reclaim(mm_vmscan *vs, int nid)
{
    if (vs->kswapd[nid].failures >= MAX_RECLAIM_RETRIES)
        return true;
    uint64_t reserve = 0, free = 0;
    for (int i = 0; i <= ZONE_NORMAL; i++) {
        const mm_zone *z = node_zone(vs, nid, i);
        if (!z || !zone_reclaimable_pages(vs, z))
            continue;
        reserve += wmark_pages(z, WMARK_MIN);
        free += zone_free_pages(z);
    }
    if (!reserve)
        return true;
    bool ok = free > reserve / 2;
    struct kswapd *k = &vs->kswapd[nid];
    if (!ok && (k->state == KSWAPD_SLEEPING || k->state == KSWAPD_NAPPING)) {
        if (k->req_zoneidx != NO_ZONE && k->req_zoneidx > ZONE_NORMAL)
            k->req_zoneidx = ZONE_NORMAL;
        k->wake_pending = true;
    }
    return ok;
}

/* ---- kswapd ---------------------------------------------------------------------------------- */

void wakeup_kswapd(mm_vmscan *vs, const mm_zone *zone, unsigned gfp, unsigned order,
                   enum zone_type highest_zoneidx)
{
    (void)gfp;
    if (!zone || !zone_managed_pages(zone))
        return;
    int nid = zone_to_nid(zone);
    struct kswapd *k = &vs->kswapd[nid];
    if (k->req_zoneidx == NO_ZONE || k->req_zoneidx < highest_zoneidx)
        k->req_zoneidx = highest_zoneidx;
    if (k->req_order < order)
        k->req_order = order;
    if (k->state != KSWAPD_SLEEPING && k->state != KSWAPD_NAPPING)
        return; /* already awake */
    /* hopeless node, or nothing to do: leave it to direct reclaim / kcompactd */
    if (k->failures >= MAX_RECLAIM_RETRIES ||
        (pgdat_balanced(vs, nid, order, highest_zoneidx) &&
         !pgdat_watermark_boosted(vs, nid, highest_zoneidx)))
        return;
    if (!k->wake_pending && k->state == KSWAPD_SLEEPING)
        vs->ev.kswapd_wakeups++;
    k->wake_pending = true;
}

/* kswapd_highest_zoneidx() */
static enum zone_type kswapd_highest(const struct kswapd *k, enum zone_type prev)
{
    return k->req_zoneidx == NO_ZONE ? prev : k->req_zoneidx;
}

/* prepare_kswapd_sleep() */
static bool prepare_kswapd_sleep(mm_vmscan *vs, int nid, unsigned order, enum zone_type highest)
{
    if (vs->kswapd[nid].failures >= MAX_RECLAIM_RETRIES)
        return true; /* hopeless node: leave it to direct reclaim */
    if (pgdat_balanced(vs, nid, order, highest)) {
        vs->pgdat[nid].congested = vs->pgdat[nid].dirty = vs->pgdat[nid].writeback = false;
        return true;
    }
    return false;
}

static void update_reclaim_active(mm_vmscan *vs, int nid, enum zone_type highest, bool active)
{
    for (int i = 0; i <= (int)highest && i < MM_NR_ZONE_TYPES; i++) {
        mm_zone *z = (mm_zone *)node_zone(vs, nid, i);
        if (z)
            zone_set_reclaim_active(z, active);
    }
}

/* the top of the kswapd loop: read (and reset) the wakers' order and zone, enter balance_pgdat */
static void kswapd_begin_balance(mm_vmscan *vs, int nid)
{
    struct kswapd *k = &vs->kswapd[nid];
    k->alloc_order = k->req_order;
    k->highest_zoneidx = kswapd_highest(k, k->highest_zoneidx);
    k->req_order = 0;
    k->req_zoneidx = NO_ZONE;
    k->wake_pending = false;
    k->state = KSWAPD_RUNNING;
    k->phase = BP_START;
}

/* kswapd_try_to_sleep(), entered with the orders balance_pgdat was run for */
static void kswapd_try_sleep(mm_vmscan *vs, int nid, uint64_t now)
{
    struct kswapd *k = &vs->kswapd[nid];
    if (prepare_kswapd_sleep(vs, nid, k->reclaim_order, k->highest_zoneidx)) {
        k->state = KSWAPD_NAPPING;
        k->nap_end = now + jiffies_cycles(vs, WB_HZ / 10);
        return;
    }
    /* not balanced (no nap, remaining = 0, the second check fails): reclaim again */
    vs->ev.kswapd_high_wmark_hit_quickly++;
    kswapd_begin_balance(vs, nid);
}

/* after balance_pgdat returned reclaim_order */
static void kswapd_after_balance(mm_vmscan *vs, int nid, uint64_t now)
{
    struct kswapd *k = &vs->kswapd[nid];
    if (k->reclaim_order >= k->alloc_order) {
        /* back to the top of the loop: the orders from the current requests */
        k->alloc_order = k->reclaim_order = k->req_order;
        k->highest_zoneidx = kswapd_highest(k, k->highest_zoneidx);
    }
    kswapd_try_sleep(vs, nid, now);
}

/* one step of balance_pgdat(); returns false when kswapd blocks (throttled) */
static bool balance_pgdat_step(mm_vmscan *vs, int nid, uint64_t now)
{
    struct kswapd *k = &vs->kswapd[nid];
    struct scan_control *sc = &k->sc;
    enum zone_type highest = k->highest_zoneidx;
    switch (k->phase) {
    case BP_START: {
        unsigned order = k->alloc_order;
        memset(sc, 0, sizeof *sc);
        sc->gfp = MM_GFP_KERNEL;
        sc->order = order;
        sc->may_unmap = true;
        sc->kswapd = true;
        sc->cpu = (unsigned)first_cpu_of_node(vs->pm, nid);
        vs->ev.pageoutrun++;
        /* the reclaim boost (the zone boosts stay until balancing ends) */
        k->nr_boost_reclaim = 0;
        for (int i = 0; i <= (int)highest && i < MM_NR_ZONE_TYPES; i++) {
            const mm_zone *z = node_zone(vs, nid, i);
            k->zone_boosts[i] = z ? zone_watermark_boost(z) : 0;
            k->nr_boost_reclaim += k->zone_boosts[i];
        }
        k->boosted = k->nr_boost_reclaim != 0;
        k->phase = BP_RESTART;
        return true;
    }
    case BP_RESTART:
        update_reclaim_active(vs, nid, highest, true);
        sc->priority = DEF_PRIORITY;
        k->phase = BP_ITER;
        return true;
    case BP_ITER: {
        sc->reclaim_idx = highest;
        bool balanced = pgdat_balanced(vs, nid, sc->order, highest);
        if (!balanced && k->nr_boost_reclaim) {
            /* imbalanced: forget the boost for now and reclaim for real */
            k->nr_boost_reclaim = 0;
            k->phase = BP_RESTART;
            return true;
        }
        if (!k->nr_boost_reclaim && balanced) {
            k->phase = BP_OUT;
            return true;
        }
        k->raise_priority = true;
        if (k->nr_boost_reclaim && sc->priority == DEF_PRIORITY - 2)
            k->raise_priority = false;
        /* boosted reclaim neither writes nor swaps */
        sc->may_writepage = !k->nr_boost_reclaim;
        sc->may_swap = !k->nr_boost_reclaim;
        /* kswapd_age_node(): background aging of the anon lists */
        sc->start = now;
        sc->cycles = 0;
        if (can_age_anon_pages(vs) && inactive_is_low(vs->lru, nid, LRU_INACTIVE_ANON))
            shrink_active_list(vs, nid, SWAP_CLUSTER_MAX, sc, LRU_ACTIVE_ANON);
        if (sc->priority < DEF_PRIORITY - 2)
            sc->may_writepage = true;
        sc->nr_scanned = 0;
        k->iter_reclaimed0 = sc->nr_reclaimed;
        /* kswapd_shrink_node(): reclaim in proportion to the zones' high watermarks */
        sc->nr_to_reclaim = 0;
        for (int z = 0; z <= (int)sc->reclaim_idx && z < MM_NR_ZONE_TYPES; z++) {
            const mm_zone *zone = node_zone(vs, nid, z);
            if (zone) {
                uint64_t h = wmark_pages(zone, WMARK_HIGH);
                sc->nr_to_reclaim += h > SWAP_CLUSTER_MAX ? h : SWAP_CLUSTER_MAX;
            }
        }
        memset(&k->ns, 0, sizeof k->ns);
        k->phase = BP_SHRINK;
        return true;
    }
    case BP_SHRINK: {
        sc->start = now;
        sc->cycles = 0;
        enum ns_result r = shrink_node_step(vs, nid, sc, &k->ns);
        if (r == NS_WAIT) {
            k->state = KSWAPD_THROTTLED;
            k->wait_until = k->ns.wait_until;
            return false;
        }
        if (r == NS_DONE)
            k->phase = BP_ITER_END;
        return true;
    }
    case BP_ITER_END: {
        /* kswapd_shrink_node()'s tail */
        if (sc->order && sc->nr_reclaimed >= (2ull << sc->order))
            sc->order = 0;
        if (sc->nr_scanned >= sc->nr_to_reclaim)
            k->raise_priority = false;
        uint64_t nr_reclaimed = sc->nr_reclaimed - k->iter_reclaimed0;
        k->nr_boost_reclaim -= k->nr_boost_reclaim < nr_reclaimed ? k->nr_boost_reclaim
                                                                   : nr_reclaimed;
        if (k->nr_boost_reclaim && !nr_reclaimed) {
            k->phase = BP_AFTER_LOOP; /* boosted reclaim made no progress: stop */
            return true;
        }
        if (k->raise_priority || !nr_reclaimed)
            sc->priority--;
        k->phase = sc->priority >= 1 ? BP_ITER : BP_AFTER_LOOP;
        return true;
    }
    case BP_AFTER_LOOP:
        if (!sc->nr_reclaimed)
            k->failures++;
        k->phase = BP_OUT;
        return true;
    case BP_OUT:
    default:
        update_reclaim_active(vs, nid, highest, false);
        if (k->boosted) {
            /* the boost kswapd started with is paid back (buddy.h can only clear a boost: one
             * that grew meanwhile is left for the next run) */
            for (int i = 0; i <= (int)highest && i < MM_NR_ZONE_TYPES; i++) {
                mm_zone *z = (mm_zone *)node_zone(vs, nid, i);
                if (z && k->zone_boosts[i] && zone_watermark_boost(z) <= k->zone_boosts[i])
                    zone_clear_watermark_boost(z);
            }
        }
        snapshot_refaults(vs->lru, nid);
        k->reclaim_order = sc->order;
        kswapd_after_balance(vs, nid, now);
        return true;
    }
}

uint64_t kswapd_run(mm_vmscan *vs, int nid, uint64_t now, uint64_t budget)
{
    struct kswapd *k = &vs->kswapd[nid];
    if (k->credit > 0)
        k->credit = 0; /* idle time is not banked */
    k->credit += (int64_t)budget;
    uint64_t used = 0;
    writeback_complete(vs->wb, now);
    for (int guard = 0; guard < 1000000 && k->credit > 0; guard++) {
        switch (k->state) {
        case KSWAPD_SLEEPING:
            if (!k->wake_pending)
                goto out;
            kswapd_begin_balance(vs, nid);
            continue;
        case KSWAPD_NAPPING:
            if (k->wake_pending) {
                /* woken during the short sleep: remember what was being balanced */
                k->req_zoneidx = kswapd_highest(k, k->highest_zoneidx);
                if (k->req_order < k->reclaim_order)
                    k->req_order = k->reclaim_order;
                vs->ev.kswapd_low_wmark_hit_quickly++;
                kswapd_begin_balance(vs, nid);
                continue;
            }
            if (now < k->nap_end)
                goto out;
            if (prepare_kswapd_sleep(vs, nid, k->reclaim_order, k->highest_zoneidx)) {
                k->state = KSWAPD_SLEEPING;
                goto out;
            }
            vs->ev.kswapd_high_wmark_hit_quickly++;
            kswapd_begin_balance(vs, nid);
            continue;
        case KSWAPD_THROTTLED:
            if (now < k->wait_until)
                goto out;
            k->state = KSWAPD_RUNNING;
            continue;
        case KSWAPD_RUNNING: {
            bool go = balance_pgdat_step(vs, nid, now);
            uint64_t c = k->sc.cycles;
            k->sc.cycles = 0;
            k->credit -= (int64_t)c;
            used += c;
            if (!go)
                goto out;
            continue;
        }
        }
    }
out:
    vs->ev.kswapd_cycles += used;
    return used;
}

/* ---- direct reclaim -------------------------------------------------------------------------- */

/* consider_reclaim_throttle() */
static void consider_reclaim_throttle(mm_vmscan *vs, int nid, struct scan_control *sc)
{
    if (sc->nr_reclaimed > (sc->nr_scanned >> 3))
        return; /* > 12% efficiency: no throttling */
    if (sc->priority == 1 && !sc->nr_reclaimed && !skip_throttle_noprogress(vs, nid)) {
        sc->cycles += jiffies_cycles(vs, 1); /* reclaim_throttle(VMSCAN_THROTTLE_NOPROGRESS) */
        writeback_complete(vs->wb, sc_now(sc));
    }
}

/* shrink_zones(): each node of the zonelist once */
static void shrink_zones(mm_vmscan *vs, int nid, struct scan_control *sc)
{
    mm_zone *zones[MM_MAX_NUMNODES * MM_NR_ZONE_TYPES];
    size_t n = zonelist_walk(vs->pm, nid, false, sc->reclaim_idx, zones,
                             MM_MAX_NUMNODES * MM_NR_ZONE_TYPES);
    int first = -1, last = -1;
    bool done[MM_MAX_NUMNODES] = {false};
    for (size_t i = 0; i < n; i++) {
        int znid = zone_to_nid(zones[i]);
        if (first < 0)
            first = znid;
        if (znid == last || done[znid])
            continue;
        last = znid;
        done[znid] = true;
        shrink_node(vs, znid, sc);
    }
    if (first >= 0)
        consider_reclaim_throttle(vs, first, sc);
}

static uint64_t do_try_to_free_pages(mm_vmscan *vs, int nid, struct scan_control *sc)
{
    int initial_priority = sc->priority;
retry:
    vs->ev.allocstall[sc->reclaim_idx]++;
    do {
        sc->nr_scanned = 0;
        shrink_zones(vs, nid, sc);
        if (sc->nr_reclaimed >= sc->nr_to_reclaim)
            break;
        if (sc->priority < DEF_PRIORITY - 2)
            sc->may_writepage = true;
    } while (--sc->priority >= 0);

    mm_zone *zones[MM_MAX_NUMNODES * MM_NR_ZONE_TYPES];
    size_t n = zonelist_walk(vs->pm, nid, false, sc->reclaim_idx, zones,
                             MM_MAX_NUMNODES * MM_NR_ZONE_TYPES);
    int last = -1;
    for (size_t i = 0; i < n; i++) {
        int znid = zone_to_nid(zones[i]);
        if (znid != last)
            snapshot_refaults(vs->lru, znid);
        last = znid;
    }
    if (sc->nr_reclaimed)
        return sc->nr_reclaimed;
    /* the inactive:active estimates may have exempted too much: retry, deactivating by force */
    if (sc->skipped_deactivate) {
        sc->priority = initial_priority;
        sc->force_deactivate = true;
        sc->skipped_deactivate = false;
        goto retry;
    }
    return 0;
}

/* throttle_direct_reclaim(): with the pfmemalloc reserves of the first usable node depleted, wait
 * until kswapd restores them. kswapd runs meanwhile (on its own CPU); the wait is its work time. */
static uint64_t throttle_direct_reclaim(mm_vmscan *vs, int nid, unsigned gfp, uint64_t now)
{
    mm_zone *zones[MM_MAX_NUMNODES * MM_NR_ZONE_TYPES];
    size_t n = zonelist_walk(vs->pm, nid, false, gfp_zone(vs->pm, gfp), zones,
                             MM_MAX_NUMNODES * MM_NR_ZONE_TYPES);
    int pnid = -1;
    for (size_t i = 0; i < n; i++)
        if (zone_idx(zones[i]) <= ZONE_NORMAL) {
            pnid = zone_to_nid(zones[i]);
            break;
        }
    if (pnid < 0 || allow_direct_reclaim(vs, pnid))
        return 0;
    vs->ev.pgscan_direct_throttle++;
    uint64_t waited = 0;
    const uint64_t slice = us_cycles(vs, 100);
    for (int guard = 0; guard < 100000 && !allow_direct_reclaim(vs, pnid); guard++) {
        struct kswapd *k = &vs->kswapd[pnid];
        if (k->state == KSWAPD_THROTTLED && k->wait_until > now + waited)
            waited = k->wait_until - now;
        else if (k->state == KSWAPD_NAPPING && !k->wake_pending && k->nap_end > now + waited)
            waited = k->nap_end - now;
        uint64_t used = kswapd_run(vs, pnid, now + waited, slice);
        waited += used;
        if (!used && k->state == KSWAPD_SLEEPING && !k->wake_pending)
            break; /* kswapd will not help (balanced or hopeless) */
    }
    writeback_complete(vs->wb, now + waited);
    return waited;
}

uint64_t try_to_free_pages(mm_vmscan *vs, int nid, unsigned gfp, unsigned order, unsigned cpu,
                           uint64_t now, uint64_t *cycles)
{
    uint64_t waited = throttle_direct_reclaim(vs, nid, gfp, now);
    struct scan_control sc;
    memset(&sc, 0, sizeof sc);
    sc.nr_to_reclaim = SWAP_CLUSTER_MAX;
    sc.gfp = gfp;
    sc.reclaim_idx = gfp_zone(vs->pm, gfp);
    sc.order = order;
    sc.priority = DEF_PRIORITY;
    sc.may_writepage = true; /* !laptop_mode */
    sc.may_unmap = true;
    sc.may_swap = true;
    sc.cpu = cpu;
    sc.start = now + waited;
    uint64_t nr = do_try_to_free_pages(vs, nid, &sc);
    uint64_t stall = waited + sc.cycles;
    vs->ev.direct_reclaim_cycles += stall;
    vs->ev.memstall_cycles += stall;
    if (cycles)
        *cycles = stall;
    return nr;
}

/* ---- the allocation slow path ---------------------------------------------------------------- */

static void wake_all_kswapds(mm_vmscan *vs, int nid, unsigned gfp, unsigned order)
{
    enum zone_type highest = gfp_zone(vs->pm, gfp);
    mm_zone *zones[MM_MAX_NUMNODES * MM_NR_ZONE_TYPES];
    size_t n = zonelist_walk(vs->pm, nid, (gfp & MM_GFP_THISNODE) != 0, highest, zones,
                             MM_MAX_NUMNODES * MM_NR_ZONE_TYPES);
    int last = -1;
    for (size_t i = 0; i < n; i++) {
        if (zone_to_nid(zones[i]) == last)
            continue;
        last = zone_to_nid(zones[i]);
        wakeup_kswapd(vs, zones[i], gfp, order, highest);
    }
}

/* should_reclaim_retry() */
static bool should_reclaim_retry(mm_vmscan *vs, int nid, unsigned gfp, unsigned order,
                                 unsigned alloc_flags, bool did_some_progress,
                                 int *no_progress_loops)
{
    if (did_some_progress && order <= PAGE_ALLOC_COSTLY_ORDER)
        *no_progress_loops = 0;
    else
        (*no_progress_loops)++;
    if (*no_progress_loops > MAX_RECLAIM_RETRIES)
        return false;
    enum zone_type highest = gfp_zone(vs->pm, gfp);
    mm_zone *zones[MM_MAX_NUMNODES * MM_NR_ZONE_TYPES];
    size_t n = zonelist_walk(vs->pm, nid, (gfp & MM_GFP_THISNODE) != 0, highest, zones,
                             MM_MAX_NUMNODES * MM_NR_ZONE_TYPES);
    for (size_t i = 0; i < n; i++) {
        const mm_zone *z = zones[i];
        uint64_t available = zone_reclaimable_pages(vs, z);
        available -= available * (uint64_t)*no_progress_loops / MAX_RECLAIM_RETRIES;
        available += zone_free_pages(z);
        if (__zone_watermark_ok(z, order, wmark_pages(z, WMARK_MIN), highest, alloc_flags,
                                (int64_t)available))
            return true;
    }
    return false;
}

static uint64_t after_alloc(mm_vmscan *vs, uint64_t pfn, mm_zone *zone, mm_zone **zone_out)
{
    /* rmqueue(): a fallback boosted the zone's watermark: wake kswapd to pay it back */
    if (zone && zone_test_and_clear_boosted(zone))
        wakeup_kswapd(vs, zone, 0, 0, zone_idx(zone));
    if (zone_out)
        *zone_out = zone;
    return pfn;
}

uint64_t vmscan_alloc_pages(mm_vmscan *vs, int nid, unsigned gfp, unsigned order, unsigned cpu,
                            uint64_t now, uint64_t *stall, mm_zone **zone_out)
{
    if (nid < 0)
        nid = mm_cpu_to_node(vs->pm, cpu);
    if (stall)
        *stall = 0;
    mm_zone *zone = NULL;
    uint64_t pfn = alloc_pages_node(vs->pm, nid, gfp, order, cpu, &zone);
    if (pfn != MM_PFN_NONE)
        return after_alloc(vs, pfn, zone, zone_out);

    unsigned alloc_flags = gfp_to_alloc_flags(gfp);
    if (gfp & MM_GFP_KSWAPD_RECLAIM)
        wake_all_kswapds(vs, nid, gfp, order);
    pfn = get_page_from_freelist(vs->pm, nid, gfp, order, alloc_flags, cpu, &zone);
    if (pfn != MM_PFN_NONE)
        return after_alloc(vs, pfn, zone, zone_out);
    if (!(gfp & MM_GFP_DIRECT_RECLAIM)) {
        vs->ev.alloc_failures++;
        return MM_PFN_NONE;
    }

    uint64_t t = now;
    int no_progress_loops = 0;
    for (int loops = 0; loops < 1000; loops++) {
        if (gfp & MM_GFP_KSWAPD_RECLAIM)
            wake_all_kswapds(vs, nid, gfp, order);
        /* __alloc_pages_direct_reclaim() */
        uint64_t c = 0;
        uint64_t progress = try_to_free_pages(vs, nid, gfp, order, cpu, t, &c);
        t += c;
        if (stall)
            *stall = t - now;
        pfn = get_page_from_freelist(vs->pm, nid, gfp, order, alloc_flags, cpu, &zone);
        if (pfn == MM_PFN_NONE && progress) {
            /* pages may be pinned on the per-cpu lists or in highatomic reserves */
            buddy_unreserve_highatomic(vs->pm, nid, gfp, false);
            buddy_drain_pages(vs->pm, -1, NULL);
            pfn = get_page_from_freelist(vs->pm, nid, gfp, order, alloc_flags, cpu, &zone);
        }
        if (pfn != MM_PFN_NONE)
            return after_alloc(vs, pfn, zone, zone_out);
        if (!should_reclaim_retry(vs, nid, gfp, order, alloc_flags, progress != 0,
                                  &no_progress_loops))
            break;
    }
    buddy_unreserve_highatomic(vs->pm, nid, gfp, true);
    pfn = get_page_from_freelist(vs->pm, nid, gfp, order, alloc_flags, cpu, &zone);
    if (pfn != MM_PFN_NONE)
        return after_alloc(vs, pfn, zone, zone_out);
    vs->ev.alloc_failures++;
    return MM_PFN_NONE;
}
