/* Unit tests for models/os/lru and models/os/vmscan: LRU lists, inactive_is_low, get_scan_count,
 * second chance, active-list deactivation, dirty pages in reclaim, kswapd waking and stopping,
 * direct reclaim stalls. Expected values are worked by hand from Linux v6.1 mm/vmscan.c and
 * mm/swap.c (classic LRU); each test says how. The machines are real mm_phys zones with the pcp
 * lists off, the page tables a fake facade (reclaim_test_util.h). */
#include "reclaim_test_util.h"

#include "models/common/rng.h"
#include "models/common/stats.h"
#include "models/os/swap.h"
#include "models/os/workingset.h"

/* Linux's orientation: new pages at the head, reclaim from the tail; folio_rotate_reclaimable to
 * the tail; folio_mark_accessed needs two calls to activate; mlock moves to the unevictable list.
 * Counts are kept per zone and per node, and the meminfo gauges read them in kB. */
START_TEST(lru_lists_basics)
{
    mm_phys *pm = test_phys(64 * MiB); /* DMA 0..4095, DMA32 above */
    stats_registry *reg = stats_create();
    mm_lru *lru = mm_lru_create(pm, reg);
    for (uint64_t p = 5000; p < 5004; p++) {
        lru_page_init(lru, p, p + 1, 0);
        folio_add_lru(lru, p);
    }
    lru_page_init(lru, 100, 101, 0); /* a DMA page */
    folio_add_lru(lru, 100);
    ck_assert_uint_eq(lru_list_tail(lru, 0, LRU_INACTIVE_FILE), 5000);
    ck_assert_uint_eq(lru_list_head(lru, 0, LRU_INACTIVE_FILE), 100);
    ck_assert_uint_eq(lruvec_page_state(lru, 0, LRU_INACTIVE_FILE), 5);
    ck_assert_uint_eq(lruvec_lru_size(lru, 0, LRU_INACTIVE_FILE, ZONE_DMA), 1);
    ck_assert_uint_eq(lruvec_lru_size(lru, 0, LRU_INACTIVE_FILE, ZONE_DMA32), 5);
    /* mark accessed twice: referenced, then active (and the nonresident clock ages) */
    folio_mark_accessed(lru, 5001);
    ck_assert(folio_test(lru, 5001, PG_referenced));
    ck_assert_int_eq(folio_lru_list(lru, 5001), LRU_INACTIVE_FILE);
    folio_mark_accessed(lru, 5001);
    ck_assert_int_eq(folio_lru_list(lru, 5001), LRU_ACTIVE_FILE);
    ck_assert(!folio_test(lru, 5001, PG_referenced));
    ck_assert_uint_eq(lruvec_nonresident_age(lru, 0), 1);
    ck_assert_uint_eq(mm_lru_events(lru)->pgactivate, 1);
    /* rotate the head to the tail (it is clean and on the LRU) */
    folio_rotate_reclaimable(lru, 100);
    ck_assert_uint_eq(lru_list_tail(lru, 0, LRU_INACTIVE_FILE), 100);
    ck_assert_uint_eq(mm_lru_events(lru)->pgrotated, 1);
    /* mlock / munlock */
    folio_mlock(lru, 5002);
    ck_assert_int_eq(folio_lru_list(lru, 5002), LRU_UNEVICTABLE);
    ck_assert_uint_eq(global_nr_mlock(lru), 1);
    folio_munlock(lru, 5002);
    ck_assert_int_eq(folio_lru_list(lru, 5002), LRU_INACTIVE_FILE);
    ck_assert_uint_eq(mm_lru_events(lru)->unevictable_pgs_rescued, 1);
    /* anon pages */
    lru_page_init(lru, 6000, 7, PG_swapbacked);
    folio_add_lru(lru, 6000);
    ck_assert_int_eq(folio_lru_list(lru, 6000), LRU_INACTIVE_ANON);
    /* meminfo in kB */
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.Inactive(file)")), 4 * 4);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.Active(file)")), 4);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.Inactive(anon)")), 4);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.Inactive")), 5 * 4);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.nr_inactive_file")), 4);
    lru_page_free(lru, 5001);
    ck_assert_uint_eq(lruvec_page_state(lru, 0, LRU_ACTIVE_FILE), 0);
    mm_lru_destroy(lru);
    stats_destroy(reg);
    mm_phys_destroy(pm);
}
END_TEST

static void fill_lists(mm_lru *lru, uint64_t *next, uint64_t ia, uint64_t aa, uint64_t inf,
                       uint64_t af)
{
    const uint64_t n[4] = {ia, aa, inf, af};
    const unsigned fl[4] = {PG_swapbacked, PG_swapbacked | PG_active, 0, PG_active};
    for (int l = 0; l < 4; l++)
        for (uint64_t i = 0; i < n[l]; i++) {
            lru_page_init(lru, *next, *next + 1, fl[l]);
            folio_add_lru(lru, (*next)++);
        }
}

/* inactive_is_low(): gb = (inactive + active) >> 18 (4 KiB pages); ratio = gb ? int_sqrt(10 * gb)
 * : 1; low when inactive * ratio < active.
 *  - below 1 GiB, ratio 1: 100 vs 101 is low, 101 vs 101 is not.
 *  - 1 GiB (262144 pages), ratio int_sqrt(10) = 3: 65535 * 3 = 196605 < 196609 low;
 *    65536 * 3 = 196608 < 196608 not low.
 *  - 3 GiB (786432 pages), ratio int_sqrt(30) = 5: 131071 * 5 = 655355 < 655361 low;
 *    131072 * 5 = 655360 < 655360 not low. */
START_TEST(inactive_is_low_ratios)
{
    mm_phys *pm = test_phys(4 * GiB);
    struct {
        uint64_t inactive, active;
        bool low;
    } cases[] = {{100, 101, true},          {101, 101, false},        {65535, 196609, true},
                 {65536, 196608, false},    {131071, 655361, true},   {131072, 655360, false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mm_lru *lru = mm_lru_create(pm, NULL);
        uint64_t next = 0;
        fill_lists(lru, &next, 0, 0, cases[i].inactive, cases[i].active);
        ck_assert_msg(inactive_is_low(lru, 0, LRU_INACTIVE_FILE) == cases[i].low, "case %zu", i);
        ck_assert(!inactive_is_low(lru, 0, LRU_INACTIVE_ANON)); /* empty: 0 < 0 is false */
        mm_lru_destroy(lru);
    }
    mm_phys_destroy(pm);
}
END_TEST

/* get_scan_count() on a 1 GiB node with swap, lists IA 32000, AA 48000, IF 16000, AF 64000 and
 * costs anon 100, file 300, at priority 4 (sizes >> 4: 2000, 3000, 1000, 4000). Inactive file is
 * low (16000 < 64000, ratio 1 below 1 GiB of file pages) so DEACTIVATE_FILE is set and
 * cache_trim_mode stays off; free memory is plentiful so file_is_tiny is off: SCAN_FRACT.
 *   total = 400; anon_cost = 400 + 100 = 500; file_cost = 400 + 300 = 700; total = 1200.
 *   swappiness 60:  ap = 60 * 1201 / 501 = 143;  fp = 140 * 1201 / 701 = 239; denominator 382
 *                   nr = 2000*143/382 = 748, 3000*143/382 = 1123, 1000*239/382 = 625,
 *                        4000*239/382 = 2502
 *   swappiness 200: ap = 200 * 1201 / 501 = 479, fp = 0: anon 2000, 3000; file 0, 0
 *   swappiness 0:   ap = 0, fp = 200 * 1201 / 701 = 342: anon 0, 0; file 1000, 4000
 * Without may_swap: SCAN_FILE (1000, 4000 and no anon). Priority 0 with swappiness: SCAN_EQUAL
 * (the full sizes). With IF and AF swapped (inactive file not low, no refaults) and IF >> 4 != 0:
 * cache_trim_mode, SCAN_FILE. */
START_TEST(get_scan_count_fractions)
{
    mm_phys *pm = test_phys(1 * GiB);
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 1;
    swap_device_config_init(&cfg.swap[0], BDEV_SSD, 256 * MiB);
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, NULL, &err);
    ck_assert_msg(rc != NULL, "%s", err.msg);
    mm_vmscan *vs = reclaim_vmscan(rc);
    mm_lru *lru = reclaim_lru(rc);
    uint64_t next = 0;
    fill_lists(lru, &next, 32000, 48000, 16000, 64000);
    lruvec_set_costs(lru, 0, 100, 300);

    uint64_t nr[4], frac[2], den;
    enum scan_balance bal;
    struct {
        int swappiness;
        uint64_t fa, ff, den, nr[4];
    } want[] = {{60, 143, 239, 382, {748, 1123, 625, 2502}},
                {200, 479, 0, 479, {2000, 3000, 0, 0}},
                {0, 0, 342, 342, {0, 0, 1000, 4000}}};
    for (int i = 0; i < 3; i++) {
        vmscan_set_swappiness(vs, want[i].swappiness);
        vmscan_get_scan_count(vs, 0, 4, ZONE_MOVABLE, true, nr, &bal, frac, &den);
        ck_assert_int_eq(bal, SCAN_FRACT);
        ck_assert_uint_eq(frac[0], want[i].fa);
        ck_assert_uint_eq(frac[1], want[i].ff);
        ck_assert_uint_eq(den, want[i].den);
        for (int l = 0; l < 4; l++)
            ck_assert_msg(nr[l] == want[i].nr[l], "swappiness %d list %d: %llu, expected %llu",
                          want[i].swappiness, l, (unsigned long long)nr[l],
                          (unsigned long long)want[i].nr[l]);
    }
    vmscan_set_swappiness(vs, 60);
    vmscan_get_scan_count(vs, 0, 4, ZONE_MOVABLE, false, nr, &bal, NULL, NULL);
    ck_assert_int_eq(bal, SCAN_FILE);
    ck_assert_uint_eq(nr[LRU_INACTIVE_ANON] + nr[LRU_ACTIVE_ANON], 0);
    ck_assert_uint_eq(nr[LRU_INACTIVE_FILE], 1000);
    ck_assert_uint_eq(nr[LRU_ACTIVE_FILE], 4000);
    vmscan_get_scan_count(vs, 0, 0, ZONE_MOVABLE, true, nr, &bal, NULL, NULL);
    ck_assert_int_eq(bal, SCAN_EQUAL);
    ck_assert_uint_eq(nr[LRU_INACTIVE_ANON], 32000);
    ck_assert_uint_eq(nr[LRU_ACTIVE_FILE], 64000);
    mm_reclaim_destroy(rc);

    /* the cache trim: plenty of inactive file, not thrashing */
    rc = mm_reclaim_create(pm, &cfg, NULL, NULL, &err);
    vs = reclaim_vmscan(rc);
    lru = reclaim_lru(rc);
    next = 0;
    fill_lists(lru, &next, 32000, 48000, 64000, 16000);
    vmscan_get_scan_count(vs, 0, 4, ZONE_MOVABLE, true, nr, &bal, NULL, NULL);
    ck_assert_int_eq(bal, SCAN_FILE);
    ck_assert_uint_eq(nr[LRU_INACTIVE_FILE], 4000);
    ck_assert_uint_eq(nr[LRU_ACTIVE_FILE], 1000);
    ck_assert_uint_eq(nr[LRU_INACTIVE_ANON], 0);
    mm_reclaim_destroy(rc);
    mm_phys_destroy(pm);
}
END_TEST

static mm_reclaim *zram_machine(mm_phys *pm, struct fake_mm *f, stats_registry *reg)
{
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 1;
    swap_device_config_init(&cfg.swap[0], BDEV_ZRAM, 64 * MiB);
    struct reclaim_ops ops = fake_ops(f);
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, &ops, reg, &err);
    ck_assert_msg(rc != NULL, "%s", err.msg);
    return rc;
}

/* Second chance (folio_check_references): two mapped anon pages on the inactive list, A's PTE
 * accessed, B's not. One pass: A has a referenced PTE and no PG_referenced -> PG_referenced set,
 * FOLIOREF_KEEP (back to the inactive head); B is unreferenced -> FOLIOREF_RECLAIM: add_to_swap
 * (slot 1, the first after the header), try_to_unmap installs the swap entry in its one PTE
 * (swap_map 1 + cache), pageout to zram completes at once, __remove_mapping leaves a shadow in the
 * swap cache slot and drops the cache reference (swap_map 1), the page is freed.
 * Second pass: A unreferenced but PG_referenced -> anon pages are reclaimed (only file pages get
 * FOLIOREF_RECLAIM_CLEAN). A third page C referenced on both passes is activated on the second.
 * zram keeps what it stores in RAM: one compressed page (ratio 3) needs a pool frame, so the first
 * reclaim frees a page and the pool takes one; two stored pages still fit in that frame. */
START_TEST(second_chance)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct fake_mm f;
    fake_init(&f, mm_phys_max_pfn(pm));
    mm_reclaim *rc = zram_machine(pm, &f, NULL);
    mm_lru *lru = reclaim_lru(rc);
    mm_vmscan *vs = reclaim_vmscan(rc);
    mm_swap *sw = reclaim_swap(rc);
    uint64_t a = add_anon_page(rc, pm, &f);
    uint64_t b = add_anon_page(rc, pm, &f);
    uint64_t c = add_anon_page(rc, pm, &f);
    f.young[a] = 1;
    f.young[c] = 1;
    uint64_t free0 = node_free_pages(pm);
    uint64_t cycles = 0;
    ck_assert_uint_eq(vmscan_shrink_inactive(vs, 0, LRU_INACTIVE_ANON, 32, false, 0, &cycles), 1);
    ck_assert_uint_eq(swap_zram_pool_pages(sw, 0), 1);
    ck_assert_uint_eq(node_free_pages(pm), free0 + 1 - 1);
    uint32_t e = swp_entry(0, 1);
    ck_assert_uint_eq(f.swpte[b], e);
    ck_assert_uint_eq(swap_map(sw, e), 1); /* one PTE, no cache */
    ck_assert(get_shadow_from_swap_cache(reclaim_pagecache(rc), e) != 0);
    ck_assert(folio_test(lru, a, PG_referenced));
    ck_assert_int_eq(folio_lru_list(lru, a), LRU_INACTIVE_ANON);
    const struct vmscan_events *ev = vmscan_events(vs);
    ck_assert_uint_eq(ev->pgscan_direct, 3);
    ck_assert_uint_eq(ev->pgsteal_direct, 1);
    ck_assert_uint_eq(ev->pgsteal_anon, 1);
    ck_assert_uint_eq(lruvec_page_state(lru, 0, LRU_INACTIVE_ANON), 2);

    f.young[c] = 1;
    ck_assert_uint_eq(vmscan_shrink_inactive(vs, 0, LRU_INACTIVE_ANON, 32, false, 0, &cycles), 1);
    ck_assert_uint_eq(f.swpte[a], swp_entry(0, 2));
    ck_assert_int_eq(folio_lru_list(lru, c), LRU_ACTIVE_ANON);
    ck_assert_uint_eq(mm_lru_events(lru)->pgactivate, 1);
    ck_assert_uint_eq(swap_zram_pool_pages(sw, 0), 1);
    ck_assert_uint_eq(node_free_pages(pm), free0 + 2 - 1);
    ck_assert_uint_eq(get_nr_swap_pages(sw), swap_device_pages(sw, 0) - 2);
    mm_reclaim_destroy(rc);
    fake_free(&f);
    mm_phys_destroy(pm);
}
END_TEST

/* File pages: read() once (PG_referenced) and unmapped -> FOLIOREF_RECLAIM_CLEAN, clean, so
 * reclaimed with a shadow left in the page cache; a mapped executable page used once ->
 * FOLIOREF_ACTIVATE ("activate file-backed executable folios after first usage"); a mapped
 * non-executable page used once -> kept; an mlocked mapping -> the unevictable list. */
START_TEST(file_references)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct fake_mm f;
    fake_init(&f, mm_phys_max_pfn(pm));
    mm_reclaim *rc = zram_machine(pm, &f, NULL);
    mm_lru *lru = reclaim_lru(rc);
    mm_vmscan *vs = reclaim_vmscan(rc);
    mm_pagecache *pc = reclaim_pagecache(rc);
    uint64_t p_read = add_file_page(rc, pm, 3, 0);
    folio_mark_accessed(lru, p_read);
    uint64_t p_exec = add_file_page(rc, pm, 3, 1);
    uint64_t p_data = add_file_page(rc, pm, 3, 2);
    uint64_t p_lock = add_file_page(rc, pm, 3, 3);
    for (uint64_t p = p_exec; p <= p_lock; p++) {
        f.mapped[p] = 1;
        f.young[p] = 1;
    }
    f.vmflags[p_exec] = VM_EXEC;
    f.vmflags[p_lock] = VM_LOCKED;
    uint64_t cycles = 0;
    ck_assert_uint_eq(vmscan_shrink_inactive(vs, 0, LRU_INACTIVE_FILE, 32, false, 0, &cycles), 1);
    ck_assert(mapping_entry_is_shadow(mapping_load(pc, 3, 0)));
    ck_assert_int_eq(folio_lru_list(lru, p_exec), LRU_ACTIVE_FILE);
    ck_assert_int_eq(folio_lru_list(lru, p_data), LRU_INACTIVE_FILE);
    ck_assert(folio_test(lru, p_data, PG_referenced));
    ck_assert_int_eq(folio_lru_list(lru, p_lock), LRU_UNEVICTABLE);
    ck_assert(folio_test(lru, p_lock, PG_mlocked));
    ck_assert_uint_eq(mm_lru_events(lru)->pgactivate, 1);
    ck_assert_uint_eq(pagecache_nr_pages(pc), 3);
    mm_reclaim_destroy(rc);
    fake_free(&f);
    mm_phys_destroy(pm);
}
END_TEST

/* shrink_active_list(): referenced executable file pages get another trip around the active list;
 * every other page (referenced anon included) is deactivated with PG_workingset set (pgrefill
 * counts the scanned, pgdeactivate the moved). */
START_TEST(active_list_deactivation)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct fake_mm f;
    fake_init(&f, mm_phys_max_pfn(pm));
    mm_reclaim *rc = zram_machine(pm, &f, NULL);
    mm_lru *lru = reclaim_lru(rc);
    mm_vmscan *vs = reclaim_vmscan(rc);
    uint64_t fx = add_file_page(rc, pm, 1, 0), fd = add_file_page(rc, pm, 1, 1);
    folio_activate(lru, fx);
    folio_activate(lru, fd);
    f.mapped[fx] = f.mapped[fd] = 1;
    f.young[fx] = f.young[fd] = 1;
    f.vmflags[fx] = f.vmflags[fd] = VM_EXEC;
    f.vmflags[fd] = 0;
    uint64_t an = add_anon_page(rc, pm, &f);
    folio_activate(lru, an);
    f.young[an] = 1;
    f.vmflags[an] = VM_EXEC;
    uint64_t cycles = 0;
    vmscan_shrink_active(vs, 0, LRU_ACTIVE_FILE, 32, false, 0, &cycles);
    vmscan_shrink_active(vs, 0, LRU_ACTIVE_ANON, 32, false, 0, &cycles);
    ck_assert_int_eq(folio_lru_list(lru, fx), LRU_ACTIVE_FILE);
    ck_assert_int_eq(folio_lru_list(lru, fd), LRU_INACTIVE_FILE);
    ck_assert(folio_test(lru, fd, PG_workingset));
    ck_assert_int_eq(folio_lru_list(lru, an), LRU_INACTIVE_ANON);
    ck_assert(folio_test(lru, an, PG_workingset));
    const struct vmscan_events *ev = vmscan_events(vs);
    ck_assert_uint_eq(ev->pgrefill, 3);
    ck_assert_uint_eq(mm_lru_events(lru)->pgdeactivate, 2);
    mm_reclaim_destroy(rc);
    fake_free(&f);
    mm_phys_destroy(pm);
}
END_TEST

/* A 16 MiB machine has one zone, DMA, 4096 managed pages: min_free_kbytes = int_sqrt(16384 * 16)
 * = 512 -> min 128 pages; low = 128 + max(128 / 4, 4096 * 10 / 10000) = 160; high = 192.
 * Filled with clean inactive file pages down to 161 free pages. An allocation at 161 passes the
 * fast path's low check (161 > 160) and leaves 160: no wakeup. The next one fails it (160 is not >
 * 160), takes the slow path, wakes kswapd (free 160 <= high: not balanced) and allocates at the
 * min watermark (159 left). IF = 4096 - 161 = 3935 pages.
 * balance_pgdat (no swap: SCAN_FILE; nr_to_reclaim = max(192, 32) = 192, never reached, so the
 * priority drops after every pass):
 *   p12: 3935 >> 12 = 0 scanned -> free 159
 *   p11: 3935 >> 11 = 1 -> 160;   p10: 3934 >> 10 = 3 -> 163;   p9: 3931 >> 9 = 7 -> 170
 *   p8:  3924 >> 8 = 15 -> 185;   p7:  3909 >> 7 = 30 -> 215
 *   p6 starts with pgdat_balanced(): 215 > 192 + lowmem_reserve 0 -> out.
 * 56 pages reclaimed by kswapd in one pageoutrun, priority left at 6; it naps HZ / 10 (100 ms)
 * and then sleeps, the node still balanced. */
START_TEST(kswapd_wakes_below_low_stops_above_high)
{
    mm_phys *pm = test_phys(16 * MiB);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    ck_assert_uint_eq(wmark_pages(dma, WMARK_MIN), 128);
    ck_assert_uint_eq(wmark_pages(dma, WMARK_LOW), 160);
    ck_assert_uint_eq(wmark_pages(dma, WMARK_HIGH), 192);
    struct mm_reclaim_config cfg = test_config();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, NULL, &err);
    mm_vmscan *vs = reclaim_vmscan(rc);
    uint64_t idx = 0;
    while (zone_free_pages(dma) > 161)
        add_file_page(rc, pm, 1, idx++);
    ck_assert_uint_eq(idx, 3935);
    uint64_t stall;
    ck_assert(vmscan_alloc_pages(vs, 0, MM_GFP_HIGHUSER_MOVABLE, 0, 0, 0, &stall, NULL) !=
              MM_PFN_NONE);
    ck_assert_uint_eq(zone_free_pages(dma), 160);
    ck_assert_uint_eq(vmscan_events(vs)->kswapd_wakeups, 0);
    ck_assert(vmscan_alloc_pages(vs, 0, MM_GFP_HIGHUSER_MOVABLE, 0, 0, 0, &stall, NULL) !=
              MM_PFN_NONE);
    ck_assert_uint_eq(stall, 0);
    ck_assert_uint_eq(zone_free_pages(dma), 159);
    ck_assert_uint_eq(vmscan_events(vs)->kswapd_wakeups, 1);
    ck_assert_int_eq(kswapd_state(vs, 0), KSWAPD_SLEEPING); /* woken, not yet run */
    ck_assert(!pgdat_balanced(vs, 0, 0, ZONE_MOVABLE));

    uint64_t used = kswapd_run(vs, 0, 1000, 1ull << 40);
    ck_assert(used > 0);
    const struct vmscan_events *ev = vmscan_events(vs);
    ck_assert_uint_eq(ev->pageoutrun, 1);
    ck_assert_uint_eq(ev->pgsteal_kswapd, 56);
    ck_assert_uint_eq(ev->pgscan_kswapd, 56);
    ck_assert_uint_eq(zone_free_pages(dma), 215);
    ck_assert_int_eq(kswapd_priority(vs, 0), 6);
    ck_assert(pgdat_balanced(vs, 0, 0, ZONE_MOVABLE));
    ck_assert_int_eq(kswapd_state(vs, 0), KSWAPD_NAPPING);
    /* 100 ms later at 1000 MHz: the nap is over and the node still balanced: full sleep */
    kswapd_run(vs, 0, 1000 + 100000000ull, 1000);
    ck_assert_int_eq(kswapd_state(vs, 0), KSWAPD_SLEEPING);
    ck_assert_uint_eq(ev->kswapd_low_wmark_hit_quickly + ev->kswapd_high_wmark_hit_quickly, 0);
    mm_reclaim_destroy(rc);
    mm_phys_destroy(pm);
}
END_TEST

/* The same run with budgets of 200 cycles per call: kswapd works in batches (a step may overrun
 * its budget, the debt is paid by the next calls), never uses more than the budgets allow plus
 * one step, and ends in the same state. */
START_TEST(kswapd_budgeted)
{
    mm_phys *pm = test_phys(16 * MiB);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    struct mm_reclaim_config cfg = test_config();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, NULL, &err);
    mm_vmscan *vs = reclaim_vmscan(rc);
    uint64_t idx = 0;
    while (zone_free_pages(dma) > 159)
        add_file_page(rc, pm, 1, idx++);
    wakeup_kswapd(vs, dma, MM_GFP_HIGHUSER_MOVABLE, 0, ZONE_MOVABLE);
    uint64_t total = 0, calls = 0, now = 0;
    while (kswapd_state(vs, 0) != KSWAPD_NAPPING && calls < 100000) {
        total += kswapd_run(vs, 0, now, 200);
        now += 200;
        calls++;
    }
    ck_assert_int_eq(kswapd_state(vs, 0), KSWAPD_NAPPING);
    ck_assert_uint_eq(vmscan_events(vs)->pgsteal_kswapd, 56);
    ck_assert_uint_eq(zone_free_pages(dma), 215);
    /* the work: per batch 500 + 50 per page isolated; per page 150 scan + 100 free; 5 batches */
    ck_assert_uint_eq(total, 5 * 500 + 56 * 300);
    ck_assert(total <= calls * 200 + 500 + 32 * 300);
    mm_reclaim_destroy(rc);
    mm_phys_destroy(pm);
}
END_TEST

/* Direct reclaim on the 16 MiB machine filled to 100 free pages (below min 128), kswapd not run:
 * the allocation fails the low and min watermarks, so try_to_free_pages runs (allocstall_movable:
 * GFP_HIGHUSER_MOVABLE's highest zone is Movable) for SWAP_CLUSTER_MAX pages. IF = 3996.
 *   p12: 0;  p11: 3996 >> 11 = 1;  p10: 3995 >> 10 = 3;  p9: 3992 >> 9 = 7;  p8: 3985 >> 8 = 15
 *   (26 < 32, go on);  p7: 3970 >> 7 = 31 -> 57 >= 32: stop.
 * The allocation then succeeds at the min watermark (157 > 128). The stall at 1000 MHz with the
 * default costs (all pages unmapped, no callbacks): 5 batches * 500 + 57 pages * (50 isolate +
 * 150 scan + 100 free) = 19600 cycles, counted as direct-reclaim and memory-stall cycles. */
START_TEST(direct_reclaim_stall)
{
    mm_phys *pm = test_phys(16 * MiB);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    struct mm_reclaim_config cfg = test_config();
    stats_registry *reg = stats_create();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, reg, &err);
    mm_vmscan *vs = reclaim_vmscan(rc);
    uint64_t idx = 0;
    while (zone_free_pages(dma) > 100)
        add_file_page(rc, pm, 1, idx++);
    ck_assert_uint_eq(idx, 3996);
    uint64_t stall = 0;
    uint64_t pfn = vmscan_alloc_pages(vs, 0, MM_GFP_HIGHUSER_MOVABLE, 0, 0, 0, &stall, NULL);
    ck_assert(pfn != MM_PFN_NONE);
    const struct vmscan_events *ev = vmscan_events(vs);
    ck_assert_uint_eq(ev->allocstall[ZONE_MOVABLE], 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.allocstall_movable")), 1);
    ck_assert_uint_eq(ev->pgscan_direct, 57);
    ck_assert_uint_eq(ev->pgsteal_direct, 57);
    ck_assert_uint_eq(ev->pgsteal_file, 57);
    ck_assert_uint_eq(zone_free_pages(dma), 100 + 57 - 1);
    ck_assert_uint_eq(stall, 19600);
    ck_assert_uint_eq(ev->direct_reclaim_cycles, 19600);
    ck_assert_uint_eq(ev->memstall_cycles, 19600);
    ck_assert_uint_eq(ev->kswapd_wakeups, 1); /* the slow path woke it first */
    /* every reclaimed page left a shadow */
    ck_assert_uint_eq(pagecache_nr_shadows(reclaim_pagecache(rc)), 57);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    mm_phys_destroy(pm);
}
END_TEST

/* Dirty file pages at the inactive tail in direct reclaim (shrink_folio_list): not written by the
 * reclaimer but marked PG_reclaim and activated to get them out of the way
 * (nr_vmscan_immediate_reclaim); all taken pages unqueued dirty, so the flushers are woken for all
 * dirty pages (WB_REASON_VMSCAN). The flusher writes them to the ssd (100 us per write, 8 in
 * parallel: a new write starts every 100 / 8 = 12.5 us, so write k completes at 100 + 12.5 k us,
 * kept to the microsecond above: one done at 100 us, eight at 188 us, all sixteen at 288 us); when
 * each write completes folio_end_writeback rotates the PG_reclaim page to the inactive tail
 * (pgrotated, no longer active), and the next scan reclaims them, clean. */
START_TEST(dirty_pages_rotate_after_writeback)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct mm_reclaim_config cfg = test_config();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, NULL, &err);
    mm_vmscan *vs = reclaim_vmscan(rc);
    mm_lru *lru = reclaim_lru(rc);
    mm_writeback *wb = reclaim_writeback(rc);
    uint64_t pages[16];
    for (int i = 0; i < 16; i++) {
        pages[i] = add_file_page(rc, pm, 4, (uint64_t)i);
        ck_assert(folio_mark_dirty(wb, pages[i], 0));
    }
    ck_assert_uint_eq(wb_nr_dirty(wb), 16);
    uint64_t cycles = 0;
    ck_assert_uint_eq(vmscan_shrink_inactive(vs, 0, LRU_INACTIVE_FILE, 32, false, 0, &cycles), 0);
    ck_assert_uint_eq(vmscan_events(vs)->nr_vmscan_immediate_reclaim, 16);
    ck_assert_uint_eq(lruvec_page_state(lru, 0, LRU_ACTIVE_FILE), 16);
    for (int i = 0; i < 16; i++)
        ck_assert(folio_test(lru, pages[i], PG_reclaim));
    /* the flusher, woken for all dirty pages, submits them at once */
    wb_run(wb, 0);
    ck_assert_uint_eq(wb_nr_dirty(wb), 0);
    ck_assert_uint_eq(wb_nr_writeback(wb), 16);
    wb_run(wb, 99999);
    ck_assert_uint_eq(wb_nr_writeback(wb), 16);
    wb_run(wb, 100000); /* 100 us: the first one done */
    ck_assert_uint_eq(wb_nr_writeback(wb), 15);
    wb_run(wb, 187999);
    ck_assert_uint_eq(wb_nr_writeback(wb), 9);
    wb_run(wb, 188000);
    ck_assert_uint_eq(wb_nr_writeback(wb), 8);
    ck_assert_uint_eq(mm_lru_events(lru)->pgrotated, 8);
    ck_assert_uint_eq(lruvec_page_state(lru, 0, LRU_ACTIVE_FILE), 8);
    wb_run(wb, 288000);
    ck_assert_uint_eq(wb_nr_writeback(wb), 0);
    ck_assert_uint_eq(lruvec_page_state(lru, 0, LRU_INACTIVE_FILE), 16);
    ck_assert_uint_eq(vmscan_shrink_inactive(vs, 0, LRU_INACTIVE_FILE, 32, false, 200000, &cycles),
                      16);
    ck_assert_uint_eq(pagecache_nr_pages(reclaim_pagecache(rc)), 0);
    mm_reclaim_destroy(rc);
    mm_phys_destroy(pm);
}
END_TEST

/* Swappiness end to end on mixed lists (64 MiB, zram swap, both costs 0 so SCAN_FRACT weighs only
 * swappiness: ap = swappiness * 1 / 1, fp = (200 - swappiness) * 1 / 1): inactive anon and file of
 * 2048 pages each with larger active lists (3000) so both inactive lists are low (no cache trim),
 * the rest of memory held outside the LRU down to 100 free pages. Direct reclaim for one
 * allocation at swappiness 0 takes only file pages (ap = 0); at 200 only anon pages (fp = 0); at 60
 * both. */
START_TEST(swappiness_mixed_lists)
{
    const int sw[3] = {0, 200, 60};
    for (int k = 0; k < 3; k++) {
        mm_phys *pm = test_phys(64 * MiB);
        struct fake_mm f;
        fake_init(&f, mm_phys_max_pfn(pm));
        mm_reclaim *rc = zram_machine(pm, &f, NULL);
        mm_vmscan *vs = reclaim_vmscan(rc);
        mm_lru *lru = reclaim_lru(rc);
        vmscan_set_swappiness(vs, sw[k]);
        for (int i = 0; i < 3000; i++) {
            folio_activate(lru, add_anon_page(rc, pm, &f));
            folio_activate(lru, add_file_page(rc, pm, 2, (uint64_t)i + 100000));
        }
        for (int i = 0; i < 2048; i++) {
            add_anon_page(rc, pm, &f);
            add_file_page(rc, pm, 2, (uint64_t)i);
        }
        uint64_t stall;
        while (node_free_pages(pm) > 100)
            grab_frame(pm);
        vmscan_alloc_pages(vs, 0, MM_GFP_HIGHUSER_MOVABLE, 0, 0, 0, &stall, NULL);
        const struct vmscan_events *ev = vmscan_events(vs);
        ck_assert(ev->pgsteal_direct > 0);
        if (sw[k] == 0) {
            ck_assert_uint_eq(ev->pgsteal_anon, 0);
        } else if (sw[k] == 200) {
            ck_assert_uint_eq(ev->pgsteal_file, 0);
            ck_assert(ev->pgsteal_anon > 0);
        } else {
            ck_assert(ev->pgsteal_anon > 0 && ev->pgsteal_file > 0);
        }
        mm_reclaim_destroy(rc);
        fake_free(&f);
        mm_phys_destroy(pm);
    }
}
END_TEST


/* pgdat_balanced() as Linux: ONE eligible zone above its high watermark balances the node. On a
 * 64 MiB machine (DMA 4096 pages: high 96, lowmem_reserve[Movable] 48; DMA32 12288: high 288) a
 * Movable request's node is balanced while DMA has more than 96 + 48 = 144 free pages, even with
 * DMA32 empty; with DMA at 144 and DMA32 at 288 it is not (both checks are strict: free > mark +
 * reserve); one more free page in DMA32 balances it. */
START_TEST(pgdat_balanced_one_zone_suffices)
{
    mm_phys *pm = test_phys(64 * MiB);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA), *dma32 = mm_node_zone(pm, 0, ZONE_DMA32);
    ck_assert_uint_eq(wmark_pages(dma, WMARK_HIGH), 96);
    ck_assert_uint_eq(zone_lowmem_reserve(dma, ZONE_MOVABLE), 48);
    ck_assert_uint_eq(wmark_pages(dma32, WMARK_HIGH), 288);
    struct mm_reclaim_config cfg = test_config();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, NULL, &err);
    mm_vmscan *vs = reclaim_vmscan(rc);
    /* NO_WATERMARKS allocations drain DMA32 first, then DMA */
    while (zone_free_pages(dma32))
        grab_frame(pm);
    ck_assert(pgdat_balanced(vs, 0, 0, ZONE_MOVABLE));
    uint64_t last = MM_PFN_NONE;
    while (zone_free_pages(dma) > 144)
        last = grab_frame(pm);
    ck_assert(!pgdat_balanced(vs, 0, 0, ZONE_MOVABLE));
    ck_assert(pgdat_balanced(vs, 0, 0, ZONE_DMA)); /* DMA alone: 144 > 96 + 0 */
    /* give DMA32 289 pages back: above its high watermark */
    mm_err e2;
    uint64_t given = 0;
    for (uint64_t pfn = zone_start_pfn(dma32); given < 288; pfn++)
        if (mm_page_state(pm, pfn, NULL) == MM_PAGE_ALLOCATED && !buddy_free_pages(pm, pfn, 0, 0, &e2))
            given++;
    ck_assert_uint_eq(zone_free_pages(dma32), 288);
    ck_assert(!pgdat_balanced(vs, 0, 0, ZONE_MOVABLE));
    ck_assert_int_eq(buddy_free_pages(pm, last, 0, 0, &e2), 0); /* a DMA page: 145 > 144 */
    ck_assert(pgdat_balanced(vs, 0, 0, ZONE_MOVABLE));
    mm_reclaim_destroy(rc);
    mm_phys_destroy(pm);
}
END_TEST

/* ---- a random workload against the invariant checkers ---------------------------------------- */

struct vpage {
    uint64_t pfn;   /* resident page, or MM_PFN_NONE */
    uint32_t entry; /* swap entry when swapped out */
    bool live;
};

struct stress {
    struct vpage *vp;
    uint8_t *young, *dirty; /* per pfn */
};

static int st_referenced(void *ctx, uint64_t owner, uint64_t pfn, unsigned *vm_flags,
                         uint64_t *cycles)
{
    struct stress *st = ctx;
    (void)vm_flags;
    *cycles += 100;
    if (owner >> 63)
        return 0; /* a page-cache page: never mapped in this workload */
    ck_assert_uint_eq(st->vp[owner - 1].pfn, pfn);
    int n = st->young[pfn];
    st->young[pfn] = 0;
    return n;
}

static int st_unmap(void *ctx, uint64_t owner, uint64_t pfn, uint32_t entry, bool *dirty,
                    uint64_t *cycles)
{
    struct stress *st = ctx;
    *cycles += 200;
    if (owner >> 63)
        return 0;
    struct vpage *v = &st->vp[owner - 1];
    ck_assert_uint_eq(v->pfn, pfn);
    ck_assert(entry != 0);
    v->pfn = MM_PFN_NONE;
    v->entry = entry;
    if (st->dirty[pfn])
        *dirty = true;
    st->dirty[pfn] = st->young[pfn] = 0;
    return 1;
}

static void check_all(mm_reclaim *rc, mm_phys *pm)
{
    mm_err err = {{0}};
    ck_assert_msg(lru_check(reclaim_lru(rc), &err) == 0, "%s", err.msg);
    ck_assert_msg(swap_check(reclaim_swap(rc), &err) == 0, "%s", err.msg);
    ck_assert_msg(buddy_check(pm, &err) == 0, "%s", err.msg);
}

/* Anonymous faults, accesses, swap-ins and frees, file reads, writes and truncations, and kswapd
 * with the flusher running between them, on a 64 MiB machine with zram and ssd swap and about
 * twice its memory in use: every few thousand steps the LRU, swap and buddy invariants hold; at
 * the end, with everything freed and reclaimed, every page, slot, shadow and tree node is back. */
START_TEST(random_workload_invariants)
{
    mm_phys *pm = test_phys(64 * MiB);
    const uint64_t free_boot = node_free_pages(pm);
    enum { NVP = 20000, FILES = 4, FILE_PAGES = 2000, STEPS = 200000 };
    struct stress st;
    st.vp = calloc(NVP, sizeof *st.vp);
    st.young = calloc(mm_phys_max_pfn(pm), 1);
    st.dirty = calloc(mm_phys_max_pfn(pm), 1);
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 2;
    swap_device_config_init(&cfg.swap[0], BDEV_ZRAM, 16 * MiB);
    cfg.swap[0].priority = 10;
    swap_device_config_init(&cfg.swap[1], BDEV_SSD, 32 * MiB);
    struct reclaim_ops ops = {&st, st_referenced, st_unmap, NULL};
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, &ops, NULL, &err);
    ck_assert_msg(rc != NULL, "%s", err.msg);
    rng r;
    rng_seed(&r, 7);
    uint64_t now = 0;
    struct fault_result fr;
    for (int step = 0; step < STEPS; step++) {
        uint64_t op = rng_below(&r, 100);
        if (op < 45) {
            uint64_t i = rng_below(&r, NVP);
            struct vpage *v = &st.vp[i];
            bool write = rng_below(&r, 2);
            if (!v->live) {
                uint64_t stall = 0;
                uint64_t pfn = reclaim_alloc_pages(rc, -1, MM_GFP_HIGHUSER_MOVABLE, 0, 0, now,
                                                   &stall);
                if (pfn != MM_PFN_NONE) {
                    reclaim_anon_add(rc, pfn, i + 1, false);
                    *v = (struct vpage){pfn, 0, true};
                    st.young[pfn] = 1;
                    st.dirty[pfn] = 1;
                }
                now += stall;
            } else if (v->pfn != MM_PFN_NONE) {
                st.young[v->pfn] = 1;
                st.dirty[v->pfn] |= write;
            } else if (reclaim_swap_in(rc, v->entry, i + 1, write, 0, now, &fr)) {
                v->pfn = fr.pfn;
                v->entry = 0;
                st.young[fr.pfn] = 1;
                st.dirty[fr.pfn] = write;
                now += fr.cycles;
            }
        } else if (op < 50) {
            struct vpage *v = &st.vp[rng_below(&r, NVP)];
            if (v->live && v->pfn != MM_PFN_NONE) {
                st.young[v->pfn] = st.dirty[v->pfn] = 0;
                reclaim_anon_release(rc, v->pfn, 0, now);
            } else if (v->live) {
                reclaim_swap_entry_free(rc, v->entry, 0, now);
            }
            v->live = false;
        } else if (op < 80) {
            if (reclaim_file_read(rc, 1 + (uint32_t)rng_below(&r, FILES),
                                  rng_below(&r, FILE_PAGES), true, 0, now, &fr))
                now += fr.cycles;
        } else if (op < 99) {
            if (reclaim_file_write(rc, 1 + (uint32_t)rng_below(&r, FILES),
                                   rng_below(&r, FILE_PAGES), rng_below(&r, 2), 0, now, &fr))
                now += fr.cycles;
        } else if (rng_below(&r, 20) == 0) {
            now += reclaim_file_truncate(rc, 1 + (uint32_t)rng_below(&r, FILES), 0, FILE_PAGES, 0,
                                         now);
        }
        uint64_t dt = 1000 + rng_below(&r, 20000);
        now += dt;
        reclaim_run(rc, now, dt / 16); /* kswapd falls behind: direct reclaim too */
        if (step % 20000 == 0)
            check_all(rc, pm);
    }
    check_all(rc, pm);
    const struct vmscan_events *ev = vmscan_events(reclaim_vmscan(rc));
    ck_assert(ev->pgsteal_kswapd > 0);
    ck_assert(ev->pgscan_anon > 0 && ev->pgscan_file > 0);
    ck_assert(ev->pgsteal_direct > 0 && ev->allocstall[ZONE_MOVABLE] > 0);
    ck_assert(ev->pgsteal_anon > 0 && ev->pgsteal_file > 0);
    ck_assert(mm_lru_events(reclaim_lru(rc))->workingset_refault[0] > 0);
    ck_assert(mm_lru_events(reclaim_lru(rc))->workingset_refault[1] > 0);

    /* tear down: every process page, every file, then reclaim what the swap cache still holds */
    for (uint64_t i = 0; i < NVP; i++) {
        struct vpage *v = &st.vp[i];
        if (!v->live)
            continue;
        if (v->pfn != MM_PFN_NONE) {
            st.young[v->pfn] = st.dirty[v->pfn] = 0;
            reclaim_anon_release(rc, v->pfn, 0, now);
        } else {
            reclaim_swap_entry_free(rc, v->entry, 0, now);
        }
        v->live = false;
    }
    for (uint32_t f = 1; f <= FILES; f++)
        now += reclaim_file_truncate(rc, f, 0, FILE_PAGES, 0, now);
    now += 10000000000ull;
    reclaim_run(rc, now, 0);
    for (int k = 0; k < 1000 && global_lru_pages(reclaim_lru(rc), LRU_INACTIVE_ANON) +
                                        global_lru_pages(reclaim_lru(rc), LRU_ACTIVE_ANON);
         k++) {
        uint64_t c;
        try_to_free_pages(reclaim_vmscan(rc), 0, MM_GFP_HIGHUSER_MOVABLE, 0, 0, now, &c);
        now += c + 1000000000ull;
        reclaim_run(rc, now, 0);
    }
    check_all(rc, pm);
    for (int l = 0; l < NR_LRU_LISTS; l++)
        ck_assert_uint_eq(global_lru_pages(reclaim_lru(rc), (enum lru_list)l), 0);
    mm_swap *sw = reclaim_swap(rc);
    ck_assert_uint_eq(get_nr_swap_pages(sw), total_swap_pages(sw));
    ck_assert_uint_eq(swap_zram_pool_pages(sw, 0), 0);
    mm_pagecache *pc = reclaim_pagecache(rc);
    ck_assert_uint_eq(pagecache_nr_pages(pc) + pagecache_nr_swapcache(pc), 0);
    ck_assert_uint_eq(pagecache_nr_shadows(pc), 0);
    ck_assert_uint_eq(pagecache_nr_xa_nodes(pc), 0);
    ck_assert_uint_eq(wb_nr_dirty(reclaim_writeback(rc)) + wb_nr_writeback(reclaim_writeback(rc)), 0);
    ck_assert_uint_eq(node_free_pages(pm), free_boot);
    mm_reclaim_destroy(rc);
    free(st.vp);
    free(st.young);
    free(st.dirty);
    mm_phys_destroy(pm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vmscan");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, lru_lists_basics);
    tcase_add_test(tc, inactive_is_low_ratios);
    tcase_add_test(tc, get_scan_count_fractions);
    tcase_add_test(tc, second_chance);
    tcase_add_test(tc, file_references);
    tcase_add_test(tc, active_list_deactivation);
    tcase_add_test(tc, kswapd_wakes_below_low_stops_above_high);
    tcase_add_test(tc, kswapd_budgeted);
    tcase_add_test(tc, direct_reclaim_stall);
    tcase_add_test(tc, dirty_pages_rotate_after_writeback);
    tcase_add_test(tc, swappiness_mixed_lists);
    tcase_add_test(tc, pgdat_balanced_one_zone_suffices);
    tcase_add_test(tc, random_workload_invariants);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
