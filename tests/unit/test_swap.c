/* Unit tests for models/os/swap (swapon priorities, slot allocation as scan_swap_map_slots'
 * linear scan, the avail list by priority with round-robin, swap counts and the swap cache, the
 * zram pool) and the swap paths of models/os/reclaim (swap-out in reclaim, do_swap_page).
 * Expected values are worked by hand from Linux v6.1 mm/swapfile.c, mm/swap_state.c and
 * mm/memory.c; each test says how. */
#include "reclaim_test_util.h"

#include "models/common/stats.h"
#include "models/os/swap.h"

static mm_reclaim *machine(mm_phys *pm, struct mm_reclaim_config *cfg, struct fake_mm *f,
                           stats_registry *reg)
{
    struct reclaim_ops ops = fake_ops(f);
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, cfg, f ? &ops : NULL, reg, &err);
    ck_assert_msg(rc != NULL, "%s", err.msg);
    return rc;
}

/* swapon without -p gives -2, -3, ... (least_priority starts at -1 and is pre-decremented);
 * usable slots are the size in pages minus the header; SwapTotal / SwapFree in kB. */
START_TEST(swapon_priorities)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 3;
    swap_device_config_init(&cfg.swap[0], BDEV_SSD, 1 * MiB);
    swap_device_config_init(&cfg.swap[1], BDEV_HDD, 2 * MiB);
    swap_device_config_init(&cfg.swap[2], BDEV_ZRAM, 4 * MiB);
    cfg.swap[2].priority = 5;
    stats_registry *reg = stats_create();
    mm_reclaim *rc = machine(pm, &cfg, NULL, reg);
    mm_swap *s = reclaim_swap(rc);
    ck_assert_uint_eq(swap_nr_devices(s), 3);
    ck_assert_int_eq(swap_device_priority(s, 0), -2);
    ck_assert_int_eq(swap_device_priority(s, 1), -3);
    ck_assert_int_eq(swap_device_priority(s, 2), 5);
    ck_assert_uint_eq(swap_device_pages(s, 0), 255);
    ck_assert_uint_eq(total_swap_pages(s), 255 + 511 + 1023);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.SwapTotal")), (255 + 511 + 1023) * 4);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.SwapFree")), (255 + 511 + 1023) * 4);
    /* the highest priority first */
    ck_assert_uint_eq(swp_type(get_swap_page(s)), 2);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.SwapFree")), (255 + 511 + 1022) * 4);
    /* a device too small for one page after its header */
    struct swap_device_config tiny;
    swap_device_config_init(&tiny, BDEV_SSD, 4096);
    mm_err err = {{0}};
    ck_assert_int_eq(swapon(s, &tiny, &err), -1);
    ck_assert(strstr(err.msg, "header") != NULL);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    mm_phys_destroy(pm);
}
END_TEST

/* scan_swap_map_slots() in its simple form on a 1 MiB device (256 slots, slot 0 the header:
 * lowest_bit 1, highest_bit 255, cluster_next 1):
 *   three allocations take 1, 2, 3 (lowest_bit follows: 4); cluster_next 4.
 *   freeing 2 (swap_range_free) lowers lowest_bit to 2, but the next allocation continues at
 *   cluster_next: 4. Then 5..255 (taking 255 lowers highest_bit to 254); cluster_next 256 is past
 *   highest_bit, so the scan restarts at lowest_bit 2: the last free slot. Now full: lowest_bit =
 *   max, highest_bit = 0, off the avail list, get_swap_page() fails.
 *   freeing 100 puts the device back (highest_bit 0 -> 100, lowest_bit 100); the scan from
 *   cluster_next 3 is below lowest_bit, so it starts at 100 and takes it. */
START_TEST(slot_allocation_linear)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 1;
    swap_device_config_init(&cfg.swap[0], BDEV_SSD, 1 * MiB);
    mm_reclaim *rc = machine(pm, &cfg, NULL, NULL);
    mm_swap *s = reclaim_swap(rc);
    ck_assert_uint_eq(get_swap_page(s), swp_entry(0, 1));
    ck_assert_uint_eq(get_swap_page(s), swp_entry(0, 2));
    ck_assert_uint_eq(get_swap_page(s), swp_entry(0, 3));
    ck_assert_uint_eq(swap_map(s, swp_entry(0, 2)), SWAP_HAS_CACHE);
    put_swap_folio(s, swp_entry(0, 2));
    ck_assert_uint_eq(swap_map(s, swp_entry(0, 2)), 0);
    ck_assert_uint_eq(get_swap_page(s), swp_entry(0, 4));
    for (uint32_t off = 5; off <= 255; off++)
        ck_assert_uint_eq(get_swap_page(s), swp_entry(0, off));
    ck_assert_uint_eq(get_nr_swap_pages(s), 1);
    ck_assert_uint_eq(get_swap_page(s), swp_entry(0, 2));
    ck_assert_uint_eq(get_nr_swap_pages(s), 0);
    ck_assert_uint_eq(get_swap_page(s), 0);
    ck_assert(vm_swap_full(s));
    put_swap_folio(s, swp_entry(0, 100));
    ck_assert_uint_eq(get_swap_page(s), swp_entry(0, 100));
    mm_reclaim_destroy(rc);
    mm_phys_destroy(pm);
}
END_TEST

/* get_swap_pages(): the avail list is a plist by descending priority; a device is requeued behind
 * the others of its priority before it is used (plist_requeue). A (prio 10, 3 slots) is used
 * until full; then B and C (both prio 1, swapon order B, C) take turns: B, C, B, C. */
START_TEST(priorities_round_robin)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 3;
    swap_device_config_init(&cfg.swap[0], BDEV_SSD, 16 * 1024);
    cfg.swap[0].priority = 10;
    swap_device_config_init(&cfg.swap[1], BDEV_SSD, 64 * 1024);
    cfg.swap[1].priority = 1;
    swap_device_config_init(&cfg.swap[2], BDEV_SSD, 64 * 1024);
    cfg.swap[2].priority = 1;
    mm_reclaim *rc = machine(pm, &cfg, NULL, NULL);
    mm_swap *s = reclaim_swap(rc);
    const uint32_t want[] = {swp_entry(0, 1), swp_entry(0, 2), swp_entry(0, 3), swp_entry(1, 1),
                             swp_entry(2, 1), swp_entry(1, 2), swp_entry(2, 2)};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(get_swap_page(s) == want[i], "allocation %zu", i);
    mm_reclaim_destroy(rc);
    mm_phys_destroy(pm);
}
END_TEST

/* swap_map counts: add_to_swap gives the slot SWAP_HAS_CACHE and the page PG_swapcache + dirty;
 * each swap PTE adds one (swap_duplicate); the cache's hold and the PTEs' go independently and the
 * slot is freed (its shadow with it) when both are gone. */
START_TEST(swap_counts_and_cache)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 1;
    swap_device_config_init(&cfg.swap[0], BDEV_SSD, 1 * MiB);
    mm_reclaim *rc = machine(pm, &cfg, NULL, NULL);
    mm_swap *s = reclaim_swap(rc);
    mm_lru *lru = reclaim_lru(rc);
    mm_pagecache *pc = reclaim_pagecache(rc);
    uint64_t pfn = add_anon_page(rc, pm, NULL);
    ck_assert(add_to_swap(s, pfn, 0));
    uint32_t e = folio_swap_entry(lru, pfn);
    ck_assert_uint_eq(e, swp_entry(0, 1));
    ck_assert(folio_test(lru, pfn, PG_swapcache));
    ck_assert(folio_test(lru, pfn, PG_dirty));
    ck_assert_uint_eq(swap_cache_get_folio(pc, e), pfn);
    ck_assert_int_eq(swap_duplicate(s, e), 0);
    ck_assert_int_eq(swap_duplicate(s, e), 0);
    ck_assert_uint_eq(swap_map(s, e), SWAP_HAS_CACHE | 2);
    ck_assert_uint_eq(__swap_count(s, e), 2);
    ck_assert(!folio_free_swap(s, pfn, 0)); /* PTEs still refer to the slot */
    swap_free(s, e);
    ck_assert_uint_eq(swap_map(s, e), SWAP_HAS_CACHE | 1);
    delete_from_swap_cache(pc, pfn, 0x123);
    put_swap_folio(s, e);
    ck_assert_uint_eq(swap_map(s, e), 1);
    ck_assert_uint_eq(get_shadow_from_swap_cache(pc, e), 0x123);
    swap_free(s, e);
    ck_assert_uint_eq(swap_map(s, e), 0);
    ck_assert_uint_eq(get_shadow_from_swap_cache(pc, e), 0); /* swap_range_free cleared it */
    ck_assert_int_eq(swap_duplicate(s, e), -1);
    ck_assert_uint_eq(get_nr_swap_pages(s), 255);
    mm_reclaim_destroy(rc);
    mm_phys_destroy(pm);
}
END_TEST

/* Swap-out to an ssd and back (1000 MHz: 1 cycle = 1 ns):
 *  - reclaim of a mapped anon page: add_to_swap (slot 1), try_to_unmap installs the entry
 *    (swap_map 1 + cache), pageout submits the write (pswpout 1, pgpgout 4 kB): asynchronous, so
 *    the page is kept under writeback with PG_reclaim;
 *  - the write completes 100 us after it was submitted (at the reclaimer's clock, which runs on
 *    with its CPU cost): folio_end_writeback rotates it to the inactive tail;
 *  - the next pass frees it, leaving a shadow in the swap cache (swap_map 1).
 *  - a read fault (at 1 ms, device idle): a new page into the swap cache (insert 200 cycles), the
 *    80 us read (pswpin 1, pgpgin 4 kB): 80200 cycles, major. The PTE's reference is dropped
 *    (swap_map = SWAP_HAS_CACHE) and, as swap is not half full and the fault is a read, the slot
 *    stays: SwapCached 4 kB.
 *  - a write fault on a second entry whose only PTE faults: the slot is freed
 *    (should_try_to_free_swap: write and exclusive) and the page dirtied. */
START_TEST(swap_out_and_in_ssd)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct fake_mm f;
    fake_init(&f, mm_phys_max_pfn(pm));
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 1;
    swap_device_config_init(&cfg.swap[0], BDEV_SSD, 16 * MiB);
    stats_registry *reg = stats_create();
    mm_reclaim *rc = machine(pm, &cfg, &f, reg);
    mm_swap *s = reclaim_swap(rc);
    mm_lru *lru = reclaim_lru(rc);
    mm_vmscan *vs = reclaim_vmscan(rc);
    uint64_t a = add_anon_page(rc, pm, &f);
    uint64_t b = add_anon_page(rc, pm, &f);
    uint64_t c = 0;
    ck_assert_uint_eq(vmscan_shrink_inactive(vs, 0, LRU_INACTIVE_ANON, 32, false, 0, &c), 0);
    uint32_t ea = f.swpte[a], eb = f.swpte[b];
    ck_assert_uint_eq(ea, swp_entry(0, 1));
    ck_assert_uint_eq(eb, swp_entry(0, 2));
    ck_assert(folio_test(lru, a, PG_writeback));
    ck_assert(folio_test(lru, a, PG_reclaim));
    ck_assert_uint_eq(swap_map(s, ea), SWAP_HAS_CACHE | 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.pswpout")), 2);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.pgpgout")), 8);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.Writeback")), 8);
    /* completions 100 us after each submission (the reclaimer's clock, so a little after 0) and
     * 12.5 us apart: both done by 120 us */
    reclaim_run(rc, 120000, 0);
    ck_assert(!folio_test(lru, a, PG_writeback));
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.pgrotated")), 2);
    ck_assert_uint_eq(lru_list_tail(lru, 0, LRU_INACTIVE_ANON), b);
    uint64_t free0 = node_free_pages(pm);
    ck_assert_uint_eq(vmscan_shrink_inactive(vs, 0, LRU_INACTIVE_ANON, 32, false, 120000, &c), 2);
    ck_assert_uint_eq(node_free_pages(pm), free0 + 2);
    ck_assert_uint_eq(swap_map(s, ea), 1);
    ck_assert(get_shadow_from_swap_cache(reclaim_pagecache(rc), ea) != 0);

    struct fault_result r;
    ck_assert(reclaim_swap_in(rc, ea, 77, false, 0, 1000000, &r));
    ck_assert(r.major);
    ck_assert_uint_eq(r.cycles, 80200);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.pswpin")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.pgpgin")), 4);
    ck_assert_uint_eq(swap_map(s, ea), SWAP_HAS_CACHE);
    ck_assert(folio_test(lru, r.pfn, PG_swapcache));
    ck_assert_uint_eq(folio_owner(lru, r.pfn), 77);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.SwapCached")), 4);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.workingset_refault_anon")), 1);

    ck_assert(reclaim_swap_in(rc, eb, 78, true, 0, 2000000, &r));
    ck_assert_uint_eq(swap_map(s, eb), 0);
    ck_assert(!folio_test(lru, r.pfn, PG_swapcache));
    ck_assert(folio_test(lru, r.pfn, PG_dirty));
    ck_assert_uint_eq(get_nr_swap_pages(s), swap_device_pages(s, 0) - 1);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    fake_free(&f);
    mm_phys_destroy(pm);
}
END_TEST

/* A second PTE faulting on a slot whose page is still in the swap cache is a minor fault (a
 * lookup: 50 cycles), the swap cache keeping the slot until no PTE needs it; a swap PTE zapped
 * while only the unmapped cached page holds the slot frees both (free_swap_and_cache). */
START_TEST(swap_cache_hit_and_zap)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct fake_mm f;
    fake_init(&f, mm_phys_max_pfn(pm));
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 1;
    swap_device_config_init(&cfg.swap[0], BDEV_SSD, 16 * MiB);
    mm_reclaim *rc = machine(pm, &cfg, &f, NULL);
    mm_swap *s = reclaim_swap(rc);
    mm_lru *lru = reclaim_lru(rc);
    uint64_t a = add_anon_page(rc, pm, &f);
    f.mapped[a] = 2; /* shared after fork: two PTEs */
    uint64_t c = 0;
    vmscan_shrink_inactive(reclaim_vmscan(rc), 0, LRU_INACTIVE_ANON, 32, false, 0, &c);
    uint32_t e = f.swpte[a];
    ck_assert_uint_eq(swap_map(s, e), SWAP_HAS_CACHE | 2);
    struct fault_result r;
    ck_assert(reclaim_swap_in(rc, e, 5, true, 0, 10, &r)); /* still under writeback: in cache */
    ck_assert(!r.major);
    ck_assert_uint_eq(r.cycles, 50);
    ck_assert_uint_eq(r.pfn, a);
    ck_assert_uint_eq(swap_map(s, e), SWAP_HAS_CACHE | 1); /* not exclusive: the slot stays */
    /* the faulting process exits: the page is released, the other PTE is zapped */
    reclaim_anon_release(rc, a, 0, 1000000);
    ck_assert(folio_test(lru, a, PG_swapcache)); /* a PTE still refers to the slot */
    ck_assert_uint_eq(folio_owner(lru, a), OWNER_NONE);
    uint64_t free0 = node_free_pages(pm);
    reclaim_run(rc, 1000000, 0); /* the write completed long ago */
    reclaim_swap_entry_free(rc, e, 0, 1000000);
    ck_assert_uint_eq(swap_map(s, e), 0);
    ck_assert_uint_eq(node_free_pages(pm), free0 + 1);
    ck_assert_uint_eq(get_nr_swap_pages(s), swap_device_pages(s, 0));
    mm_reclaim_destroy(rc);
    fake_free(&f);
    mm_phys_destroy(pm);
}
END_TEST

/* zram: writes are synchronous (3 us of the reclaimer's CPU each), so reclaim frees the page in
 * the same pass; the pool holds ceil(stored / 3) frames (3.0 ratio): 4 stored -> 2 frames; a swap-in
 * of a slot with one reference skips the swap cache (SWP_SYNCHRONOUS_IO): 1.5 us, no pgpgin, the
 * slot freed at once (3 stored -> 1 frame). */
START_TEST(zram_pool_and_skip_swapcache)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct fake_mm f;
    fake_init(&f, mm_phys_max_pfn(pm));
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 1;
    swap_device_config_init(&cfg.swap[0], BDEV_ZRAM, 16 * MiB);
    stats_registry *reg = stats_create();
    mm_reclaim *rc = machine(pm, &cfg, &f, reg);
    mm_swap *s = reclaim_swap(rc);
    uint64_t p[4];
    for (int i = 0; i < 4; i++)
        p[i] = add_anon_page(rc, pm, &f);
    uint64_t free0 = node_free_pages(pm), c = 0;
    ck_assert_uint_eq(vmscan_shrink_inactive(reclaim_vmscan(rc), 0, LRU_INACTIVE_ANON, 32, false,
                                             0, &c),
                      4);
    ck_assert_uint_eq(swap_zram_pool_pages(s, 0), 2);
    ck_assert_uint_eq(node_free_pages(pm), free0 + 4 - 2);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.pgpgout")), 0);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.swap.zram_pool_pages")), 2);
    /* 4 pages: batch 500 + 4 * (50 + 150 + 400 swap + 1000 submit + 3000 compress + 100 free) */
    ck_assert_uint_eq(c, 500 + 4 * 4700);
    struct fault_result r;
    ck_assert(reclaim_swap_in(rc, f.swpte[p[0]], 9, false, 0, 1000, &r));
    ck_assert_uint_eq(r.cycles, 1500);
    ck_assert(r.major);
    ck_assert_uint_eq(swap_map(s, f.swpte[p[0]]), 0);
    ck_assert(!folio_test(reclaim_lru(rc), r.pfn, PG_swapcache));
    ck_assert_uint_eq(swap_zram_pool_pages(s, 0), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.pgpgin")), 0);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.pswpin")), 1);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    fake_free(&f);
    mm_phys_destroy(pm);
}
END_TEST

/* With swap more than half full (vm_swap_full: nr_swap_pages * 2 < total), a read fault frees the
 * slot too (should_try_to_free_swap), the page leaving the swap cache dirty. 16 KiB ssd: 3 slots,
 * 2 taken: 1 * 2 < 3. */
START_TEST(swap_full_frees_on_read_fault)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct fake_mm f;
    fake_init(&f, mm_phys_max_pfn(pm));
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 1;
    swap_device_config_init(&cfg.swap[0], BDEV_SSD, 16 * 1024);
    mm_reclaim *rc = machine(pm, &cfg, &f, NULL);
    mm_swap *s = reclaim_swap(rc);
    uint64_t a = add_anon_page(rc, pm, &f);
    add_anon_page(rc, pm, &f);
    uint64_t c = 0;
    vmscan_shrink_inactive(reclaim_vmscan(rc), 0, LRU_INACTIVE_ANON, 32, false, 0, &c);
    reclaim_run(rc, 1000000, 0);
    ck_assert_uint_eq(
        vmscan_shrink_inactive(reclaim_vmscan(rc), 0, LRU_INACTIVE_ANON, 32, false, 1000000, &c),
        2);
    ck_assert(vm_swap_full(s));
    struct fault_result r;
    ck_assert(reclaim_swap_in(rc, f.swpte[a], 9, false, 0, 2000000, &r));
    ck_assert(!folio_test(reclaim_lru(rc), r.pfn, PG_swapcache));
    ck_assert(folio_test(reclaim_lru(rc), r.pfn, PG_dirty));
    ck_assert_uint_eq(swap_map(s, f.swpte[a]), 0);
    ck_assert_uint_eq(get_nr_swap_pages(s), 2);
    mm_reclaim_destroy(rc);
    fake_free(&f);
    mm_phys_destroy(pm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("swap");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, swapon_priorities);
    tcase_add_test(tc, slot_allocation_linear);
    tcase_add_test(tc, priorities_round_robin);
    tcase_add_test(tc, swap_counts_and_cache);
    tcase_add_test(tc, swap_out_and_in_ssd);
    tcase_add_test(tc, swap_cache_hit_and_zap);
    tcase_add_test(tc, zram_pool_and_skip_swapcache);
    tcase_add_test(tc, swap_full_frees_on_read_fault);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
