/* Unit tests for models/os/workingset: shadow entries, the nonresident age, refault distances and
 * activation against the workingset size (file and anon, as Linux v6.1 mm/workingset.c
 * computes it), restores of pages that were active before eviction, and the memory-stall count of
 * their refault reads. Each test works its numbers by hand in a comment. */
#include "reclaim_test_util.h"

#include "models/os/swap.h"
#include "models/os/workingset.h"

/* workingset_init(): max_order = fls_long(totalram_pages - 1); bucket_order = max_order - 36 when
 * larger (EVICTION_BITS 36 on x86_64): 2^36 pages -> fls(2^36 - 1) = 36 -> 0; 2^36 + 1 -> 37 -> 1;
 * 2^40 -> 40 -> 4. */
START_TEST(bucket_order)
{
    ck_assert_uint_eq(workingset_bucket_order(1), 0);
    ck_assert_uint_eq(workingset_bucket_order(1ull << 22), 0);
    ck_assert_uint_eq(workingset_bucket_order(1ull << 36), 0);
    ck_assert_uint_eq(workingset_bucket_order((1ull << 36) + 1), 1);
    ck_assert_uint_eq(workingset_bucket_order(1ull << 40), 4);
}
END_TEST

static uint64_t shrink(mm_reclaim *rc, enum lru_list l, uint64_t n)
{
    uint64_t c = 0;
    return vmscan_shrink_inactive(reclaim_vmscan(rc), 0, l, n, false, 0, &c);
}

/* File refaults on a machine without swap (the workingset is the active file list):
 *   8 active file pages (AF = 8); inactive pages P0..P9 of file 2, P0 at the tail.
 *   evict P0: shadow stamp 0, the nonresident age becomes 1; evict P1..P5: age 6.
 *   refault P0 (read fault): distance 6 - 0 = 6 <= AF 8 -> activated (workingset_activate_file),
 *   the age 7; not PG_workingset before eviction: no restore.
 *   20 more pages evicted (file 3) and P6..P9: age 7 + 24 = 31; refault P6, evicted at 7:
 *   distance 24 > AF 9 -> stays inactive (refault counted, not activated). */
START_TEST(file_refault_distance)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct mm_reclaim_config cfg = test_config();
    stats_registry *reg = stats_create();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, reg, &err);
    mm_lru *lru = reclaim_lru(rc);
    mm_pagecache *pc = reclaim_pagecache(rc);
    for (uint64_t i = 0; i < 8; i++)
        folio_activate(lru, add_file_page(rc, pm, 1, 100 + i));
    for (uint64_t i = 0; i < 10; i++)
        add_file_page(rc, pm, 2, i);
    ck_assert_uint_eq(shrink(rc, LRU_INACTIVE_FILE, 1), 1);
    uint64_t sh0 = mapping_load(pc, 2, 0);
    ck_assert(workingset_is_shadow(sh0));
    int nid;
    uint64_t ev;
    bool ws;
    workingset_unpack_shadow(lru, sh0, &nid, &ev, &ws);
    ck_assert_int_eq(nid, 0);
    ck_assert_uint_eq(ev, 0);
    ck_assert(!ws);
    ck_assert_uint_eq(lruvec_nonresident_age(lru, 0), 1);
    ck_assert_uint_eq(shrink(rc, LRU_INACTIVE_FILE, 5), 5);
    ck_assert_uint_eq(workingset_refault_distance(lru, sh0), 6);

    struct fault_result r;
    ck_assert(reclaim_file_read(rc, 2, 0, false, 0, 0, &r));
    ck_assert(r.major);
    ck_assert_int_eq(folio_lru_list(lru, r.pfn), LRU_ACTIVE_FILE);
    ck_assert_uint_eq(lruvec_nonresident_age(lru, 0), 7);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.workingset_refault_file")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.workingset_activate_file")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.workingset_restore_file")), 0);
    ck_assert_uint_eq(lruvec_workingset_activate(lru, 0, true), 1);

    /* P6 is the tail now */
    ck_assert_uint_eq(shrink(rc, LRU_INACTIVE_FILE, 1), 1);
    uint64_t sh6 = mapping_load(pc, 2, 6);
    ck_assert(workingset_is_shadow(sh6));
    for (uint64_t i = 0; i < 20; i++)
        add_file_page(rc, pm, 3, i);
    ck_assert_uint_eq(shrink(rc, LRU_INACTIVE_FILE, 32), 23);
    ck_assert_uint_eq(lruvec_nonresident_age(lru, 0), 31);
    ck_assert_uint_eq(workingset_refault_distance(lru, sh6), 24);
    ck_assert(reclaim_file_read(rc, 2, 6, false, 0, 0, &r));
    ck_assert_int_eq(folio_lru_list(lru, r.pfn), LRU_INACTIVE_FILE);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.workingset_refault_file")), 2);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.workingset_activate_file")), 1);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    mm_phys_destroy(pm);
}
END_TEST

/* A page that was active (deactivated by shrink_active_list, so PG_workingset) and refaults within
 * the workingset is restored: PG_workingset on the new page, workingset_restore_file, the file
 * reclaim cost noted (lru_note_cost: file_cost 1), and its read wait (an ssd read, 80 us = 80000
 * cycles at 1000 MHz, after 50 lookup + 200 insert) counts as a memory stall: thrashing. */
START_TEST(restore_counts_memstall)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct mm_reclaim_config cfg = test_config();
    stats_registry *reg = stats_create();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, reg, &err);
    mm_lru *lru = reclaim_lru(rc);
    uint64_t p = add_file_page(rc, pm, 2, 0);
    folio_activate(lru, p); /* first: the tail of the active list */
    for (uint64_t i = 0; i < 8; i++)
        folio_activate(lru, add_file_page(rc, pm, 1, i));
    uint64_t c = 0;
    vmscan_shrink_active(reclaim_vmscan(rc), 0, LRU_ACTIVE_FILE, 1, false, 0, &c);
    ck_assert(folio_test(lru, p, PG_workingset));
    ck_assert_int_eq(folio_lru_list(lru, p), LRU_INACTIVE_FILE);
    ck_assert_uint_eq(shrink(rc, LRU_INACTIVE_FILE, 1), 1);
    ck_assert_uint_eq(lruvec_file_cost(lru, 0), 0);
    struct fault_result r;
    ck_assert(reclaim_file_read(rc, 2, 0, true, 0, 0, &r));
    ck_assert(folio_test(lru, r.pfn, PG_workingset));
    ck_assert_int_eq(folio_lru_list(lru, r.pfn), LRU_ACTIVE_FILE);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.workingset_restore_file")), 1);
    ck_assert_uint_eq(lruvec_file_cost(lru, 0), 1);
    ck_assert_uint_eq(r.cycles, 50 + 200 + 80000);
    ck_assert_uint_eq(vmscan_events(reclaim_vmscan(rc))->memstall_cycles, 80000);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    mm_phys_destroy(pm);
}
END_TEST

/* Anon refaults with free swap: the workingset is active file + inactive file + active anon
 * (Linux 6.1: anon pages compete with the whole file cache and the active anon list).
 *   AF 2, IF 3, AA 4: workingset size 9. Anon pages Q0..Q9 inactive (zram swap), Q0 at the tail.
 *   evict Q0 (stamp 0), Q1 (stamp 1), then Q2..Q9: age 10.
 *   refault Q1: distance 10 - 1 = 9 <= 9 -> activated (age 11, AA 5, workingset size 10).
 *   refault Q0: distance 11 - 0 = 11 > 10 -> not activated. */
START_TEST(anon_refault_workingset_size)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct fake_mm f;
    fake_init(&f, mm_phys_max_pfn(pm));
    struct mm_reclaim_config cfg = test_config();
    cfg.nr_swap = 1;
    swap_device_config_init(&cfg.swap[0], BDEV_ZRAM, 16 * MiB);
    struct reclaim_ops ops = fake_ops(&f);
    stats_registry *reg = stats_create();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, &ops, reg, &err);
    mm_lru *lru = reclaim_lru(rc);
    for (uint64_t i = 0; i < 2; i++)
        folio_activate(lru, add_file_page(rc, pm, 1, i));
    for (uint64_t i = 0; i < 3; i++)
        add_file_page(rc, pm, 1, 10 + i);
    for (int i = 0; i < 4; i++)
        folio_activate(lru, add_anon_page(rc, pm, &f));
    uint64_t q[10];
    for (int i = 0; i < 10; i++)
        q[i] = add_anon_page(rc, pm, &f);
    ck_assert_uint_eq(shrink(rc, LRU_INACTIVE_ANON, 1), 1);
    ck_assert_uint_eq(shrink(rc, LRU_INACTIVE_ANON, 1), 1);
    ck_assert_uint_eq(shrink(rc, LRU_INACTIVE_ANON, 32), 8);
    ck_assert_uint_eq(lruvec_nonresident_age(lru, 0), 10);
    struct fault_result r;
    ck_assert(reclaim_swap_in(rc, f.swpte[q[1]], 1, false, 0, 0, &r));
    ck_assert_int_eq(folio_lru_list(lru, r.pfn), LRU_ACTIVE_ANON);
    ck_assert_uint_eq(lruvec_nonresident_age(lru, 0), 11);
    ck_assert(reclaim_swap_in(rc, f.swpte[q[0]], 2, false, 0, 0, &r));
    ck_assert_int_eq(folio_lru_list(lru, r.pfn), LRU_INACTIVE_ANON);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.workingset_refault_anon")), 2);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.workingset_activate_anon")), 1);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    fake_free(&f);
    mm_phys_destroy(pm);
}
END_TEST

/* Activations age the clock too: folio_mark_accessed activating a page (workingset_activation)
 * and pages put back active by reclaim (move_folios_to_lru) count like evictions. */
START_TEST(activations_age_the_clock)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct fake_mm f;
    fake_init(&f, mm_phys_max_pfn(pm));
    struct mm_reclaim_config cfg = test_config();
    struct reclaim_ops ops = fake_ops(&f);
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, &ops, NULL, &err);
    mm_lru *lru = reclaim_lru(rc);
    uint64_t a = add_file_page(rc, pm, 1, 0);
    folio_mark_accessed(lru, a);
    folio_mark_accessed(lru, a);
    ck_assert_uint_eq(lruvec_nonresident_age(lru, 0), 1);
    uint64_t b = add_file_page(rc, pm, 1, 1); /* mapped, referenced twice -> activated by reclaim */
    f.mapped[b] = 1;
    f.young[b] = 2;
    ck_assert_uint_eq(shrink(rc, LRU_INACTIVE_FILE, 1), 0);
    ck_assert_int_eq(folio_lru_list(lru, b), LRU_ACTIVE_FILE);
    ck_assert_uint_eq(lruvec_nonresident_age(lru, 0), 2);
    mm_reclaim_destroy(rc);
    fake_free(&f);
    mm_phys_destroy(pm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("workingset");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bucket_order);
    tcase_add_test(tc, file_refault_distance);
    tcase_add_test(tc, restore_counts_memstall);
    tcase_add_test(tc, anon_refault_workingset_size);
    tcase_add_test(tc, activations_age_the_clock);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
