/* Unit tests for models/os/buddy: split and merge sequences, fallback stealing, pcp batch/high,
 * watermark-driven zonelist allocation, views for known states, and a random stress against the
 * invariant checker. Expected values are worked by hand from Linux's mm/page_alloc.c and
 * mm/vmstat.c (v6.1 era); each test says how. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/rng.h"
#include "models/common/stats.h"
#include "models/os/buddy.h"
#include "models/os/vmstat.h"
#include "models/os/zone.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static mm_phys *make(uint64_t bytes, unsigned cpus, bool pcp_disabled)
{
    mm_phys_config cfg;
    mm_phys_config_init(&cfg, MM_ARCH_X86_64, bytes, cpus);
    cfg.pcp_disabled = pcp_disabled;
    mm_err err = {{0}};
    mm_phys *pm = mm_phys_create(&cfg, NULL, &err);
    ck_assert_msg(pm != NULL, "%s", err.msg);
    return pm;
}

static void assert_consistent(const mm_phys *pm)
{
    mm_err err = {{0}};
    ck_assert_msg(buddy_check(pm, &err) == 0, "%s", err.msg);
}

/* The pfns on a free list, in list order, compared with want[] (n entries). */
static void assert_list(const mm_zone *z, unsigned order, int mt, const uint64_t *want, size_t n)
{
    size_t i = 0;
    for (uint64_t p = zone_free_list_first(z, order, mt); p != MM_PFN_NONE;
         p = zone_free_list_next(z, p), i++) {
        ck_assert_msg(i < n, "order %u %s: more than %zu entries (extra %llu)", order,
                      migratetype_name(mt), n, (unsigned long long)p);
        ck_assert_msg(p == want[i], "order %u %s entry %zu: %llu, expected %llu", order,
                      migratetype_name(mt), i, (unsigned long long)p,
                      (unsigned long long)want[i]);
    }
    ck_assert_msg(i == n, "order %u %s: %zu entries, expected %zu", order, migratetype_name(mt), i,
                  n);
}

static void assert_free(mm_phys *pm, uint64_t pfn, unsigned order)
{
    mm_err err = {{0}};
    ck_assert_msg(buddy_free_pages(pm, pfn, order, 0, &err) == 0, "%s", err.msg);
}

/* A 16 MiB x86_64 machine has one zone, DMA: pfns 0..4095, four order-10 blocks. Booting frees
 * them ascending with FPI_TO_TAIL, so the MOVABLE order-10 list is 0, 1024, 2048, 3072.
 * Allocating one order-0 MOVABLE page takes the head (0) and expand() halves it down, pushing the
 * upper halves: 512 at order 9, 256 at 8, ... 1 at order 0. */
START_TEST(split_from_fresh_block)
{
    mm_phys *pm = make(16 * MiB, 1, true);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    ck_assert(populated_zone(dma));
    ck_assert(!populated_zone(mm_node_zone(pm, 0, ZONE_DMA32)));
    const uint64_t fresh[] = {0, 1024, 2048, 3072};
    assert_list(dma, 10, MIGRATE_MOVABLE, fresh, 4);
    ck_assert_uint_eq(zone_free_pages(dma), 4096);

    uint64_t pfn = buddy_alloc_pages(dma, 0, MIGRATE_MOVABLE, 0, 0);
    ck_assert_uint_eq(pfn, 0);
    const uint64_t rest[] = {1024, 2048, 3072};
    assert_list(dma, 10, MIGRATE_MOVABLE, rest, 3);
    for (unsigned o = 0; o < 10; o++) {
        uint64_t want = 1ull << o;
        assert_list(dma, o, MIGRATE_MOVABLE, &want, 1);
        ck_assert_uint_eq(zone_nr_free_blocks(dma, o), 1);
    }
    ck_assert_uint_eq(zone_free_pages(dma), 4095);
    /* the next three: 1 (order-0 list), then 2 (order-1 block split, 3 left at order 0), then 3 */
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_MOVABLE, 0, 0), 1);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_MOVABLE, 0, 0), 2);
    {
        const uint64_t three = 3;
        assert_list(dma, 0, MIGRATE_MOVABLE, &three, 1);
        assert_list(dma, 1, MIGRATE_MOVABLE, NULL, 0);
    }
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_MOVABLE, 0, 0), 3);
    /* an order-2 request now takes 4 whole; an order-3 one splits nothing (8 is free at 3) */
    ck_assert_uint_eq(buddy_alloc_pages(dma, 2, MIGRATE_MOVABLE, 0, 0), 4);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 3, MIGRATE_MOVABLE, 0, 0), 8);
    /* order 1 with lists 0..3 empty: the order-4 block 16 splits: 16 kept, 24 (o3), 20 (o2),
     * 18 (o1) pushed */
    ck_assert_uint_eq(buddy_alloc_pages(dma, 1, MIGRATE_MOVABLE, 0, 0), 16);
    const uint64_t w18 = 18, w20 = 20, w24 = 24;
    assert_list(dma, 1, MIGRATE_MOVABLE, &w18, 1);
    assert_list(dma, 2, MIGRATE_MOVABLE, &w20, 1);
    assert_list(dma, 3, MIGRATE_MOVABLE, &w24, 1);
    assert_list(dma, 4, MIGRATE_MOVABLE, NULL, 0);
    assert_consistent(pm);
    mm_phys_destroy(pm);
}
END_TEST

/* Frees in another order than the allocations, with every list checked after each free:
 * allocate 0, 1, 2, 3 (lists then: order 2: 4, order 3: 8, ... order 9: 512). Free 2: buddy 3 is
 * in use, so 2 goes to the order-0 list; buddy_merge_likely looks at the order-1 block 0 (in use)
 * and says no, so head. Free 0: buddy 1 in use; merge_likely: is 2 free at order 1? no -> head:
 * order 0 = [0, 2]. Free 3: merges with 2 into 2/order 1; buddy 0 is not free at order 1; merge
 * likely: the order-2 buddy of 0 (4) is free at order 2 -> tail of order 1: [2]. Free 1: merges
 * with 0, then 2 (o1), then 4 (o2), 8, 16, ... 512 (o9): one order-10 block at 0 again, added at
 * the head (orders >= max_order - 1 never go to the tail). */
START_TEST(merge_back_in_another_order)
{
    mm_phys *pm = make(16 * MiB, 1, true);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    for (uint64_t i = 0; i < 4; i++)
        ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_MOVABLE, 0, 0), i);
    for (unsigned o = 0; o < 2; o++)
        assert_list(dma, o, MIGRATE_MOVABLE, NULL, 0);
    for (unsigned o = 2; o < 10; o++) {
        uint64_t want = 1ull << o;
        assert_list(dma, o, MIGRATE_MOVABLE, &want, 1);
    }
    assert_free(pm, 2, 0);
    const uint64_t l2[] = {2};
    assert_list(dma, 0, MIGRATE_MOVABLE, l2, 1);
    assert_free(pm, 0, 0);
    const uint64_t l02[] = {0, 2};
    assert_list(dma, 0, MIGRATE_MOVABLE, l02, 2);
    assert_consistent(pm);
    assert_free(pm, 3, 0);
    const uint64_t l0[] = {0};
    assert_list(dma, 0, MIGRATE_MOVABLE, l0, 1);
    assert_list(dma, 1, MIGRATE_MOVABLE, l2, 1);
    ck_assert_uint_eq(zone_free_pages(dma), 4095);
    assert_free(pm, 1, 0);
    for (unsigned o = 0; o < 10; o++)
        assert_list(dma, o, MIGRATE_MOVABLE, NULL, 0);
    const uint64_t all[] = {0, 1024, 2048, 3072};
    assert_list(dma, 10, MIGRATE_MOVABLE, all, 4);
    ck_assert_uint_eq(zone_free_pages(dma), 4096);
    assert_consistent(pm);
    /* freeing again is refused */
    mm_err err = {{0}};
    ck_assert_int_eq(buddy_free_pages(pm, 1, 0, 0, &err), -1);
    ck_assert(strstr(err.msg, "not an allocated block") != NULL);
    mm_phys_destroy(pm);
}
END_TEST

/* A larger mixed sequence: allocate orders 3, 0, 5, 0, 1 and free them in reverse-shuffled order;
 * every state passes the checker and the end state is the boot state. */
START_TEST(merge_mixed_orders)
{
    mm_phys *pm = make(16 * MiB, 1, true);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    const unsigned orders[] = {3, 0, 5, 0, 1, 10, 2, 9};
    uint64_t pfns[8];
    for (int i = 0; i < 8; i++) {
        pfns[i] = buddy_alloc_pages(dma, orders[i], MIGRATE_MOVABLE, 0, 0);
        ck_assert(pfns[i] != MM_PFN_NONE);
        ck_assert_uint_eq(pfns[i] & ((1ull << orders[i]) - 1), 0);
        assert_consistent(pm);
    }
    const int free_order[] = {4, 0, 7, 2, 6, 1, 5, 3};
    for (int i = 0; i < 8; i++) {
        assert_free(pm, pfns[free_order[i]], orders[free_order[i]]);
        assert_consistent(pm);
    }
    ck_assert_uint_eq(zone_nr_free_blocks(dma, 10), 4);
    ck_assert_uint_eq(zone_free_pages(dma), 4096);
    mm_phys_destroy(pm);
}
END_TEST

/* Fallback stealing. On the fresh 16 MiB machine every pageblock is MOVABLE. An UNMOVABLE order-0
 * request finds no unmovable page; __rmqueue_fallback takes the largest MOVABLE block (order 10 at
 * pfn 0); being >= pageblock_order, steal_suitable_fallback retypes both its pageblocks
 * (change_pageblock_range) and __rmqueue_smallest then splits it as UNMOVABLE. */
START_TEST(fallback_steals_whole_max_order_block)
{
    mm_phys *pm = make(16 * MiB, 1, true);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    ck_assert_uint_eq(zone_nr_pageblocks(dma, MIGRATE_MOVABLE), 8);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_UNMOVABLE, 0, 0), 0);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 0), MIGRATE_UNMOVABLE);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 512), MIGRATE_UNMOVABLE);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 1024), MIGRATE_MOVABLE);
    ck_assert_uint_eq(zone_nr_pageblocks(dma, MIGRATE_UNMOVABLE), 2);
    ck_assert_uint_eq(zone_nr_pageblocks(dma, MIGRATE_MOVABLE), 6);
    const uint64_t w512 = 512;
    assert_list(dma, 9, MIGRATE_UNMOVABLE, &w512, 1);
    assert_list(dma, 9, MIGRATE_MOVABLE, NULL, 0);
    const uint64_t rest[] = {1024, 2048, 3072};
    assert_list(dma, 10, MIGRATE_MOVABLE, rest, 3);
    /* a RECLAIMABLE request: no reclaimable page. The search goes by order first, from the top:
     * at order 10 fallbacks[RECLAIMABLE] = {UNMOVABLE (empty there), MOVABLE (1024)}, so the
     * MOVABLE order-10 block is taken whole, not the order-9 UNMOVABLE block 512 */
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_RECLAIMABLE, 0, 0), 1024);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 1024), MIGRATE_RECLAIMABLE);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 1536), MIGRATE_RECLAIMABLE);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 512), MIGRATE_UNMOVABLE);
    assert_consistent(pm);
    mm_phys_destroy(pm);
}
END_TEST

/* Partial pageblock steal, claim and no claim. Fill pfns 0..3583 with MOVABLE allocations (three
 * order-10 blocks and the order-9 block 3072), then in the last pageblock [3584, 4096):
 *  case A: allocate 3584/order 8 (movable); free 3840/order 8 remains.
 *  An UNMOVABLE order-0 request falls back to the largest MOVABLE block, 3840 (order 8, below
 *  pageblock_order): move_freepages_block moves the free pages of the pageblock (256) and counts
 *  movable in-use pages (256); an unmovable request in a MOVABLE block counts the rest as alike:
 *  512 - (256 + 256) = 0. free + alike = 256 >= 2^(9-1) = 256: the pageblock is claimed.
 *  case B: allocate 3584/order 8 and 3840/order 7; free 3968/order 7 (128 pages):
 *  free 128 + alike 0 < 256: the free pages move to UNMOVABLE lists but the pageblock stays
 *  MOVABLE. */
static mm_phys *fill_but_last_block(bool case_b)
{
    mm_phys *pm = make(16 * MiB, 1, true);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    for (int i = 0; i < 3; i++)
        ck_assert(buddy_alloc_pages(dma, 10, MIGRATE_MOVABLE, 0, 0) != MM_PFN_NONE);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 9, MIGRATE_MOVABLE, 0, 0), 3072);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 8, MIGRATE_MOVABLE, 0, 0), 3584);
    if (case_b)
        ck_assert_uint_eq(buddy_alloc_pages(dma, 7, MIGRATE_MOVABLE, 0, 0), 3840);
    return pm;
}

START_TEST(fallback_claims_half_free_pageblock)
{
    mm_phys *pm = fill_but_last_block(false);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    ck_assert_uint_eq(zone_free_pages(dma), 256);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_UNMOVABLE, 0, 0), 3840);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 3584), MIGRATE_UNMOVABLE);
    ck_assert_uint_eq(zone_nr_pageblocks(dma, MIGRATE_UNMOVABLE), 1);
    /* the rest of the split block is on UNMOVABLE lists: 3841 (o0) .. 3968 (o7) */
    for (unsigned o = 0; o < 8; o++) {
        uint64_t want = 3840 + (1ull << o);
        assert_list(dma, o, MIGRATE_UNMOVABLE, &want, 1);
    }
    assert_consistent(pm);
    /* boost_watermark ran (the block was below pageblock_order, zone >= 4 pageblocks) */
    ck_assert_uint_gt(zone_watermark_boost(dma), 0);
    mm_phys_destroy(pm);
}
END_TEST

START_TEST(fallback_without_claim)
{
    mm_phys *pm = fill_but_last_block(true);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_UNMOVABLE, 0, 0), 3968);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 3584), MIGRATE_MOVABLE);
    ck_assert_uint_eq(zone_nr_pageblocks(dma, MIGRATE_UNMOVABLE), 0);
    for (unsigned o = 0; o < 7; o++) {
        uint64_t want = 3968 + (1ull << o);
        assert_list(dma, o, MIGRATE_UNMOVABLE, &want, 1);
    }
    assert_consistent(pm);
    /* freeing goes by the pageblock's type (MOVABLE); the free buddies 3969 (o0), 3970 (o1) ...
     * 4032 (o6) sit on UNMOVABLE lists but merge all the same below pageblock_order: the result
     * is 3968/order 7 on the MOVABLE list */
    assert_free(pm, 3968, 0);
    const uint64_t w = 3968;
    assert_list(dma, 7, MIGRATE_MOVABLE, &w, 1);
    assert_consistent(pm);
    mm_phys_destroy(pm);
}
END_TEST

/* A MOVABLE request that cannot steal a whole pageblock takes the smallest fallback block, not
 * the largest (find_smallest in __rmqueue_fallback). Make all memory UNMOVABLE (four order-10
 * unmovable allocations, each stealing its block), free block 0, allocate from it unmovable
 * orders 0, 9, 8, 7, 6, 5, 4, 0, 1: free are only 4 (order 2) and 8 (order 3). A MOVABLE order-0
 * request: the largest fallback is 8/order 3, but can_steal_fallback(3, MOVABLE) is false (3 < 9
 * and 3 < 9/2), so the search restarts from order 0 and finds 4/order 2, which is moved alone to
 * the MOVABLE list (single_page) and split: 4 is returned, 6 (o1) and 5 (o0) are left MOVABLE, and
 * the pageblock stays UNMOVABLE. */
START_TEST(movable_fallback_takes_smallest)
{
    mm_phys *pm = make(16 * MiB, 1, true);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    for (uint64_t i = 0; i < 4; i++)
        ck_assert_uint_eq(buddy_alloc_pages(dma, 10, MIGRATE_UNMOVABLE, 0, 0), i * 1024);
    ck_assert_uint_eq(zone_nr_pageblocks(dma, MIGRATE_UNMOVABLE), 8);
    assert_free(pm, 0, 10);
    const unsigned seq[] = {0, 9, 8, 7, 6, 5, 4, 0, 1};
    const uint64_t want[] = {0, 512, 256, 128, 64, 32, 16, 1, 2};
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(buddy_alloc_pages(dma, seq[i], MIGRATE_UNMOVABLE, 0, 0), want[i]);
    const uint64_t w4 = 4, w8 = 8, w5 = 5, w6 = 6;
    assert_list(dma, 2, MIGRATE_UNMOVABLE, &w4, 1);
    assert_list(dma, 3, MIGRATE_UNMOVABLE, &w8, 1);
    ck_assert_uint_eq(zone_free_pages(dma), 12);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_MOVABLE, 0, 0), 4);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 4), MIGRATE_UNMOVABLE);
    assert_list(dma, 0, MIGRATE_MOVABLE, &w5, 1);
    assert_list(dma, 1, MIGRATE_MOVABLE, &w6, 1);
    assert_list(dma, 3, MIGRATE_UNMOVABLE, &w8, 1);
    assert_consistent(pm);
    mm_phys_destroy(pm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("buddy");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, split_from_fresh_block);
    tcase_add_test(tc, merge_back_in_another_order);
    tcase_add_test(tc, merge_mixed_orders);
    tcase_add_test(tc, fallback_steals_whole_max_order_block);
    tcase_add_test(tc, fallback_claims_half_free_pageblock);
    tcase_add_test(tc, fallback_without_claim);
    tcase_add_test(tc, movable_fallback_takes_smallest);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
