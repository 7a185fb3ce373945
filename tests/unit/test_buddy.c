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
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_UNMOVABLE, ALLOC_KSWAPD, 0), 3840);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 3584), MIGRATE_UNMOVABLE);
    /* with ALLOC_KSWAPD the boost flags the zone for kswapd (ZONE_BOOSTED_WATERMARK) */
    ck_assert(zone_test_and_clear_boosted(dma));
    ck_assert(!zone_test_and_clear_boosted(dma));
    ck_assert_uint_eq(zone_nr_pageblocks(dma, MIGRATE_UNMOVABLE), 1);
    /* the rest of the split block is on UNMOVABLE lists: 3841 (o0) .. 3968 (o7) */
    for (unsigned o = 0; o < 8; o++) {
        uint64_t want = 3840 + (1ull << o);
        assert_list(dma, o, MIGRATE_UNMOVABLE, &want, 1);
    }
    assert_consistent(pm);
    /* boost_watermark ran (the block was below pageblock_order, zone >= 4 pageblocks): 16 MiB
     * gives min_free_kbytes 512 -> min 128, low 160, high 192; max_boost = 192 * 15000 / 10000
     * = 288, raised to a pageblock (512); boost = min(0 + 512, 512) = 512, added to every mark */
    ck_assert_uint_eq(zone_watermark_boost(dma), 512);
    ck_assert_uint_eq(wmark_pages(dma, WMARK_LOW), 160 + 512);
    zone_clear_watermark_boost(dma);
    ck_assert_uint_eq(wmark_pages(dma, WMARK_LOW), 160);
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

/* Per-CPU lists on a 1 GiB x86_64 machine with 2 CPUs: DMA32 [4096, 262144) = 258048 pages.
 * min_free_kbytes = int_sqrt(262144 * 4 * 16) = 4096 -> pages_min 1024; DMA32 min = 1024 * 258048
 * / 262144 = 1008, delta = max(252, 250 + 8048 * 10 / 10000 = 258) = 258 -> low 1266.
 * batch: min(258048 >> 10 = 252, 256) / 4 = 63 -> rounddown_pow_of_two(94) - 1 = 63.
 * high: 1266 / 2 CPUs = 633.
 * Allocating: an empty list is refilled with 63 pages (rmqueue_bulk, physical order, from the
 * head of the first order-10 block, 4096), the head is taken. 2000 allocations = 32 refills
 * (2016 pages): 16 left on the list.
 * Freeing 2000 pages on the same CPU (free_unref_page_commit / nr_pcp_free): count 16 reaches
 * high 633 after 617 frees -> free batch 63 << free_factor 0 = 63 (factor -> 1), count 570;
 * +63 frees -> 126 freed (factor 2), 507; +126 -> 252 (factor 3), 381; +252 -> 504 (504 < high -
 * batch = 570: factor 4), 129; +504 -> 63 << 4 = 1008 clamped to 570, 63; the last 438 frees
 * leave 501. Drained 63 + 126 + 252 + 504 + 570 = 1515 = 16 + 2000 - 501. */
START_TEST(pcp_batch_and_high)
{
    stats_registry *reg = stats_create();
    mm_phys_config cfg;
    mm_phys_config_init(&cfg, MM_ARCH_X86_64, 1 * GiB, 2);
    mm_err err = {{0}};
    mm_phys *pm = mm_phys_create(&cfg, reg, &err);
    ck_assert_msg(pm != NULL, "%s", err.msg);
    mm_zone *z = mm_node_zone(pm, 0, ZONE_DMA32);
    ck_assert_uint_eq(wmark_pages(z, WMARK_LOW), 1266);
    ck_assert_uint_eq(zone_pcp_batch(z, 0), 63);
    ck_assert_uint_eq(zone_pcp_high(z, 0), 633);
    static uint64_t pfns[2000];
    for (int i = 0; i < 2000; i++) {
        pfns[i] = buddy_alloc_pages(z, 0, MIGRATE_MOVABLE, 0, 0);
        if (i == 0) {
            ck_assert_uint_eq(pfns[0], 4096);
            ck_assert_uint_eq(zone_pcp_count(z, 0), 62);
            ck_assert_uint_eq(zone_free_pages(z), 258048 - 63);
            ck_assert_uint_eq(zone_pcp_list_first(z, 0, 0, MIGRATE_MOVABLE), 4097);
            /* buddyinfo: 1024 - 63 = 961 = 512 + 256 + 128 + 64 + 1 left of block 4096 */
            char buf[512];
            mm_format(pm, MM_VIEW_BUDDYINFO, buf, sizeof buf);
            ck_assert_str_eq(buf, "Node 0, zone      DMA      0      0      0      0      0      0"
                                  "      0      0      0      0      4 \n"
                                  "Node 0, zone    DMA32      1      0      0      0      0      0"
                                  "      1      1      1      1    251 \n");
        }
        if (pfns[i] != 4096 + (uint64_t)i)
            ck_abort_msg("allocation %d: pfn %llu", i, (unsigned long long)pfns[i]);
    }
    ck_assert_uint_eq(zone_pcp_count(z, 0), 16);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.buddy.node0.DMA32.pcp_refills")), 32);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.zone.node0.DMA32.pgalloc")), 2000);
    for (int i = 0; i < 2000; i++)
        if (buddy_free_pages(pm, pfns[i], 0, 0, &err))
            ck_abort_msg("%s", err.msg);
    ck_assert_uint_eq(zone_pcp_count(z, 0), 501);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.buddy.node0.DMA32.pcp_drained")), 1515);
    ck_assert_uint_eq(zone_free_pages(z), 258048 - 501);
    ck_assert_uint_eq(zone_pcp_count(z, 1), 0);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.zone.node0.DMA32.pcp_pages")), 501);
    assert_consistent(pm);
    buddy_drain_pages(pm, -1, NULL);
    ck_assert_uint_eq(zone_pcp_count(z, 0), 0);
    ck_assert_uint_eq(zone_free_pages(z), 258048);
    ck_assert_uint_eq(zone_nr_free_blocks(z, 10), 252);
    assert_consistent(pm);

    /* higher pcp orders: order 3 refills 63 >> 3 = 7 blocks, order 9 (THP list) max(0, 2) = 2 */
    uint64_t p3 = buddy_alloc_pages(z, 3, MIGRATE_UNMOVABLE, 0, 1);
    ck_assert(p3 != MM_PFN_NONE);
    ck_assert_uint_eq(zone_pcp_count(z, 1), 6 * 8);
    uint64_t p9 = buddy_alloc_pages(z, 9, MIGRATE_MOVABLE, 0, 1);
    ck_assert(p9 != MM_PFN_NONE);
    ck_assert_uint_eq(zone_pcp_count(z, 1), 48 + 512);
    /* order 10 is not a pcp order */
    uint64_t p10 = buddy_alloc_pages(z, 10, MIGRATE_MOVABLE, 0, 1);
    ck_assert(p10 != MM_PFN_NONE);
    ck_assert_uint_eq(zone_pcp_count(z, 1), 560);
    ck_assert_int_eq(buddy_free_pages(pm, p3, 3, 1, &err), 0);
    ck_assert_uint_eq(zone_pcp_count(z, 1), 568);
    ck_assert_int_eq(buddy_free_pages(pm, p9, 9, 1, &err), 0);
    ck_assert_int_eq(buddy_free_pages(pm, p10, 10, 1, &err), 0);
    assert_consistent(pm);
    /* CPU 1 now: the order-9 free brought the count to 1080 >= 633 and freed one batch (63),
     * which the round-robin took from the THP list first: one 512-page block, count 568,
     * free_factor 1. While reclaim is active nr_pcp_high is min(4 * batch, high) = 252: an
     * allocation (free_factor back to 0, refill 63: count 630) and one free (631 >= 252) trims
     * one batch: nr_pcp_free(252, 63) = clamp(63, 63, 189) = 63 -> 568. */
    ck_assert_uint_eq(zone_pcp_count(z, 1), 568);
    zone_set_reclaim_active(z, true);
    uint64_t q = buddy_alloc_pages(z, 0, MIGRATE_MOVABLE, 0, 1);
    ck_assert_uint_eq(zone_pcp_count(z, 1), 630);
    ck_assert_int_eq(buddy_free_pages(pm, q, 0, 1, &err), 0);
    ck_assert_uint_eq(zone_pcp_count(z, 1), 568);
    zone_set_reclaim_active(z, false);
    buddy_drain_pages(pm, 1, z);
    ck_assert_uint_eq(zone_pcp_total(z), 0);
    assert_consistent(pm);
    mm_phys_destroy(pm);
    stats_destroy(reg);
}
END_TEST

/* The fragmentation indices (mm/vmstat.c) for two hand-computed states of the 16 MiB machine
 * (pcp off so every page is in the buddy).
 * State 1, one order-0 page allocated from a fresh zone: free 4095 pages in blocks of order 0..9
 * (one each) and three order 10. unusable_free_index(k) = (4095 - pages in blocks >= k) * 1000 /
 * 4095: k=3: 7000/4095 = 1, k=4: 15000/4095 = 3, k=5: 7, k=6: 15, k=7: 31, k=8: 62, k=9: 124,
 * k=10: 1023000/4095 = 249. Every order has a suitable block: extfrag -1.000 everywhere.
 * State 2, all 4096 pages allocated as order 0 and the even ones freed: 2048 free order-0
 * blocks. unusable: 0 for order 0, 1000 above. __fragmentation_index(k >= 1) = 1000 - (1000 +
 * 2048 * 1000 / 2^k) / 2048: k=1: 1000 - 1025000/2048 (500) = 500; k=2: 1000 - 513000/2048 (250)
 * = 750; k=3: 875; k=4: 1000 - 129000/2048 (62) = 938; k=5: 969; k=6: 984; k=7: 992; k=8: 996;
 * k=9: 998; k=10: 1000 - 3000/2048 (1) = 999. */
START_TEST(fragmentation_indices)
{
    mm_phys *pm = make(16 * MiB, 1, true);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_MOVABLE, 0, 0), 0);
    char buf[1024];
    mm_format(pm, MM_VIEW_UNUSABLE_INDEX, buf, sizeof buf);
    ck_assert_str_eq(buf, "Node 0, zone      DMA 0.000 0.000 0.000 0.001 0.003 0.007 0.015 0.031 "
                          "0.062 0.124 0.249 \n");
    mm_format(pm, MM_VIEW_EXTFRAG_INDEX, buf, sizeof buf);
    ck_assert_str_eq(buf, "Node 0, zone      DMA -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 "
                          "-1.000 -1.000 -1.000 -1.000 \n");
    ck_assert_int_eq(fragmentation_index(dma, 10), -1000);
    ck_assert_uint_eq(extfrag_for_order(dma, 10), 24); /* 1023 * 100 / 4095 */
    mm_phys_destroy(pm);

    pm = make(16 * MiB, 1, true);
    dma = mm_node_zone(pm, 0, ZONE_DMA);
    for (uint64_t i = 0; i < 4096; i++)
        if (buddy_alloc_pages(dma, 0, MIGRATE_MOVABLE, 0, 0) == MM_PFN_NONE)
            ck_abort_msg("allocation %llu failed", (unsigned long long)i);
    ck_assert_uint_eq(zone_free_pages(dma), 0);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_MOVABLE, 0, 0), MM_PFN_NONE);
    /* nothing free: unusable 1.000 (all), extfrag 0 (no free blocks) */
    ck_assert_int_eq(unusable_free_index(dma, 0), 1000);
    ck_assert_int_eq(fragmentation_index(dma, 3), 0);
    for (uint64_t i = 0; i < 4096; i += 2)
        assert_free(pm, i, 0);
    mm_format(pm, MM_VIEW_UNUSABLE_INDEX, buf, sizeof buf);
    ck_assert_str_eq(buf, "Node 0, zone      DMA 0.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 "
                          "1.000 1.000 1.000 \n");
    mm_format(pm, MM_VIEW_EXTFRAG_INDEX, buf, sizeof buf);
    ck_assert_str_eq(buf, "Node 0, zone      DMA -1.000  0.500  0.750  0.875  0.938  0.969  0.984 "
                          " 0.992  0.996  0.998  0.999 \n");
    mm_format(pm, MM_VIEW_BUDDYINFO, buf, sizeof buf);
    ck_assert_str_eq(buf, "Node 0, zone      DMA   2048      0      0      0      0      0      0"
                          "      0      0      0      0 \n");
    /* an order-1 request fails the high-order part of the watermark check, order 0 passes */
    ck_assert(!zone_watermark_ok(dma, 1, 0, ZONE_DMA, 0));
    ck_assert(zone_watermark_ok(dma, 0, 0, ZONE_DMA, 0));
    assert_consistent(pm);
    mm_phys_destroy(pm);
}
END_TEST

/* /proc/pagetypeinfo after the first fallback of fallback_steals_whole_max_order_block: the
 * UNMOVABLE lists hold one block of each order 0..9 (the split block 0), MOVABLE three order-10
 * blocks; pageblocks: 2 Unmovable, 6 Movable. */
START_TEST(pagetypeinfo_text)
{
    mm_phys *pm = make(16 * MiB, 1, true);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    ck_assert_uint_eq(buddy_alloc_pages(dma, 0, MIGRATE_UNMOVABLE, 0, 0), 0);
    char buf[4096];
    mm_format(pm, MM_VIEW_PAGETYPEINFO, buf, sizeof buf);
    const char *want =
        "Page block order: 9\n"
        "Pages per block:  512\n"
        "\n"
        "Free pages count per migrate type at order       0      1      2      3      4      5"
        "      6      7      8      9     10 \n"
        "Node    0, zone      DMA, type    Unmovable      1      1      1      1      1      1"
        "      1      1      1      1      0 \n"
        "Node    0, zone      DMA, type      Movable      0      0      0      0      0      0"
        "      0      0      0      0      3 \n"
        "Node    0, zone      DMA, type  Reclaimable      0      0      0      0      0      0"
        "      0      0      0      0      0 \n"
        "Node    0, zone      DMA, type   HighAtomic      0      0      0      0      0      0"
        "      0      0      0      0      0 \n"
        "Node    0, zone      DMA, type          CMA      0      0      0      0      0      0"
        "      0      0      0      0      0 \n"
        "Node    0, zone      DMA, type      Isolate      0      0      0      0      0      0"
        "      0      0      0      0      0 \n"
        "\n"
        "Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic          CMA"
        "      Isolate \n"
        "Node 0, zone      DMA            2            6            0            0            0"
        "            0 \n";
    ck_assert_str_eq(buf, want);
    mm_phys_destroy(pm);
}
END_TEST

/* get_page_from_freelist over the zonelist with watermarks, on the 1 GiB machine (pcp off so
 * every allocation moves NR_FREE_PAGES by one). GFP_HIGHUSER_MOVABLE: zonelist DMA32, DMA.
 * lowmem_reserve[Movable]: DMA32 0, DMA 258048 / 256 = 1008. Marks: DMA32 min 1008 low 1266;
 * DMA min 16 low 20.
 * Fast path (low): DMA32 serves while free > 1266: 258048 - 1266 = 256782 pages; then DMA while
 * free > 20 + 1008: 4096 - 1028 = 3068 pages; then it fails cleanly.
 * min mark: DMA32 down to 1008 (258 more), DMA down to 16 + 1008 = 1024 (4 more).
 * ALLOC_NO_WATERMARKS: the rest, 1008 + 1024 = 2032 pages; then nothing. */
START_TEST(zonelist_allocation_by_watermark)
{
    stats_registry *reg = stats_create();
    mm_phys_config cfg;
    mm_phys_config_init(&cfg, MM_ARCH_X86_64, 1 * GiB, 1);
    cfg.pcp_disabled = true;
    mm_err err = {{0}};
    mm_phys *pm = mm_phys_create(&cfg, reg, &err);
    ck_assert_msg(pm != NULL, "%s", err.msg);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA), *dma32 = mm_node_zone(pm, 0, ZONE_DMA32);
    ck_assert_uint_eq(zone_lowmem_reserve(dma, ZONE_MOVABLE), 1008);
    ck_assert_uint_eq(zone_lowmem_reserve(dma32, ZONE_MOVABLE), 0);
    uint64_t n32 = 0, n16 = 0;
    for (;;) {
        mm_zone *got = NULL;
        uint64_t pfn = alloc_pages_node(pm, 0, MM_GFP_HIGHUSER_MOVABLE, 0, 0, &got);
        if (pfn == MM_PFN_NONE)
            break;
        if (got == dma32) {
            if (n16)
                ck_abort_msg("DMA32 used after DMA"); /* DMA only once DMA32 hit its mark */
            n32++;
        } else {
            if (got != dma)
                ck_abort_msg("allocated from neither DMA32 nor DMA");
            n16++;
        }
    }
    ck_assert_uint_eq(n32, 256782);
    ck_assert_uint_eq(n16, 3068);
    ck_assert_uint_eq(zone_free_pages(dma32), 1266);
    ck_assert_uint_eq(zone_free_pages(dma), 1028);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.buddy.alloc_failures")), 1);
    n32 = n16 = 0;
    mm_zone *got;
    while (get_page_from_freelist(pm, 0, MM_GFP_HIGHUSER_MOVABLE, 0, ALLOC_WMARK_MIN, 0, &got) !=
           MM_PFN_NONE)
        *(got == dma32 ? &n32 : &n16) += 1;
    ck_assert_uint_eq(n32, 258);
    ck_assert_uint_eq(n16, 4);
    uint64_t rest = 0;
    while (get_page_from_freelist(pm, 0, MM_GFP_HIGHUSER_MOVABLE, 0, ALLOC_NO_WATERMARKS, 0,
                                  NULL) != MM_PFN_NONE)
        rest++;
    ck_assert_uint_eq(rest, 2032);
    ck_assert_uint_eq(zone_free_pages(dma32) + zone_free_pages(dma), 0);
    /* a GFP_DMA request only looks at DMA */
    ck_assert_int_eq(gfp_zone(pm, MM_GFP_DMA), ZONE_DMA);
    assert_consistent(pm);
    mm_phys_destroy(pm);
    stats_destroy(reg);
}
END_TEST

/* High-order atomic reserves on the 16 MiB machine (pcp off): a GFP_ATOMIC order-1 request
 * (ALLOC_HARDER) steals block 0 for UNMOVABLE and gets pfn 0; reserve_highatomic_pageblock then
 * reserves its pageblock (limit 4096 / 100 + 512 = 552 pages): type HIGHATOMIC, its free pages
 * (2/o1 .. 256/o8) moved to the HIGHATOMIC lists, nr_reserved_highatomic 512, which ordinary
 * watermark checks now count as unusable. Freeing pfn 0 returns it to the HIGHATOMIC lists (the
 * pcp cached type) and merges it to 0/order 9. unreserve_highatomic_pageblock (forced) gives the
 * pageblock back. */
START_TEST(highatomic_reserve)
{
    mm_phys *pm = make(16 * MiB, 1, true);
    mm_zone *dma = mm_node_zone(pm, 0, ZONE_DMA);
    unsigned flags = gfp_to_alloc_flags(MM_GFP_ATOMIC_ALLOC);
    ck_assert_uint_eq(flags, ALLOC_WMARK_MIN | ALLOC_HIGH | ALLOC_KSWAPD | ALLOC_HARDER);
    ck_assert_uint_eq(get_page_from_freelist(pm, 0, MM_GFP_ATOMIC_ALLOC, 1, flags, 0, NULL), 0);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 0), MIGRATE_HIGHATOMIC);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 512), MIGRATE_UNMOVABLE);
    ck_assert_uint_eq(zone_nr_reserved_highatomic(dma), 512);
    ck_assert_uint_eq(zone_free_list_first(dma, 1, MIGRATE_HIGHATOMIC), 2);
    ck_assert_uint_eq(zone_free_list_first(dma, 8, MIGRATE_HIGHATOMIC), 256);
    ck_assert_uint_eq(zone_free_list_first(dma, 9, MIGRATE_UNMOVABLE), 512);
    /* 4094 pages free; an ordinary order-0 check counts 4094 - 512 = 3582 usable, so it passes
     * a mark of 3581 and fails 3582; ALLOC_HARDER counts all 4094 (and lowers the mark by 1/4) */
    ck_assert_uint_eq(zone_free_pages(dma), 4094);
    ck_assert(zone_watermark_ok(dma, 0, 3581, ZONE_DMA, 0));
    ck_assert(!zone_watermark_ok(dma, 0, 3582, ZONE_DMA, 0));
    ck_assert(zone_watermark_ok(dma, 0, 4093, ZONE_DMA, ALLOC_HARDER));
    assert_consistent(pm);
    mm_err err = {{0}};
    ck_assert_int_eq(buddy_free_pages(pm, 0, 1, 0, &err), 0);
    ck_assert_uint_eq(zone_free_list_first(dma, 9, MIGRATE_HIGHATOMIC), 0);
    assert_consistent(pm);
    ck_assert(buddy_unreserve_highatomic(pm, 0, MM_GFP_KERNEL, true));
    ck_assert_uint_eq(zone_nr_reserved_highatomic(dma), 0);
    ck_assert_int_eq(get_pageblock_migratetype(pm, 0), MIGRATE_UNMOVABLE);
    ck_assert_uint_eq(zone_free_list_first(dma, 9, MIGRATE_HIGHATOMIC), MM_PFN_NONE);
    assert_consistent(pm);
    mm_phys_destroy(pm);
}
END_TEST

/* Stats: gauges and counters under os.zone.nodeN.<zone> and os.buddy.nodeN.<zone>. */
START_TEST(stats_registered)
{
    stats_registry *reg = stats_create();
    mm_phys_config cfg;
    mm_phys_config_init(&cfg, MM_ARCH_X86_64, 16 * MiB, 1);
    mm_err err = {{0}};
    mm_phys *pm = mm_phys_create(&cfg, reg, &err);
    ck_assert_msg(pm != NULL, "%s", err.msg);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.zone.node0.DMA.free_pages")), 4096);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.zone.node0.DMA.min")), 128);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.zone.node0.DMA.low")), 160);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.zone.node0.DMA.high")), 192);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.buddy.node0.DMA.free_order10")), 4);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.buddy.node0.DMA.free_order3")), 0);
    ck_assert_ptr_null(stats_find(reg, "os.zone.node0.DMA32.free_pages")); /* unpopulated */
    uint64_t pfn = alloc_pages_node(pm, -1, MM_GFP_KERNEL, 3, 0, NULL);
    ck_assert(pfn != MM_PFN_NONE);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.zone.node0.DMA.pgalloc")), 8);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.zone.node0.DMA.numa_hit")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.buddy.node0.DMA.fallbacks")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.buddy.node0.DMA.pageblock_steals")), 2);
    ck_assert_int_eq(buddy_free_pages(pm, pfn, 3, 0, &err), 0);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.zone.node0.DMA.pgfree")), 8);
    mm_phys_destroy(pm);
    stats_destroy(reg);
}
END_TEST

/* Random alloc/free against the invariant checker, on two nodes with reserved pages, a Movable
 * zone and 4 CPUs: every allocation must be aligned and disjoint from every live one; the checker
 * runs every few thousand operations; at the end everything is freed and drained, and every zone
 * must be back to its boot free-block layout. With atomic high-order requests (HIGHATOMIC
 * pageblocks block merges at and above pageblock_order) the layout below pageblock_order must
 * still match, since merging below it is never refused. */
static void stress(bool atomics, uint64_t seed)
{
    /* node 0: DMA, DMA32 and 32 MiB of Normal above 4 GiB (so GFP_KERNEL requests preferring
     * Normal use ALLOC_NOFRAGMENT); all but 32 MiB of DMA32 reserved to keep memory small.
     * node 1: 32 MiB of Normal, the top 8 MiB of it Movable. */
    mm_phys_config cfg;
    mm_phys_config_init(&cfg, MM_ARCH_X86_64, 4 * GiB + 32 * MiB, 2);
    cfg.nr_nodes = 2;
    cfg.node[1] = cfg.node[0];
    cfg.node[1].start_pfn = (4 * GiB + 32 * MiB) >> 12;
    cfg.node[1].nr_pages = (32 * MiB) >> 12;
    cfg.node[0].reserved_pages[ZONE_DMA] = 100;
    cfg.node[0].reserved_pages[ZONE_DMA32] = 1044480 - 8192;
    cfg.node[0].reserved_pages[ZONE_NORMAL] = 37;
    cfg.node[1].reserved_pages[ZONE_NORMAL] = 333;
    cfg.node[1].movable_pages = 2048;
    mm_err err = {{0}};
    mm_phys *pm = mm_phys_create(&cfg, NULL, &err);
    ck_assert_msg(pm != NULL, "%s", err.msg);
    mm_phys *fresh = mm_phys_create(&cfg, NULL, &err);
    ck_assert(populated_zone(mm_node_zone(pm, 1, ZONE_MOVABLE)));
    ck_assert_uint_eq(zone_managed_pages(mm_node_zone(pm, 0, ZONE_DMA32)), 8192);
    ck_assert_uint_eq(zone_managed_pages(mm_node_zone(pm, 1, ZONE_NORMAL)), 6144 - 333);
    uint64_t npages = mm_phys_max_pfn(pm);
    uint8_t *owned = calloc(npages, 1);
    struct live {
        uint64_t pfn;
        unsigned order;
    } *live = calloc(npages, sizeof *live);
    size_t nlive = 0;
    rng r;
    rng_seed_named(&r, seed, "buddy-stress");
    const unsigned gfps[] = {MM_GFP_KERNEL, MM_GFP_HIGHUSER_MOVABLE,
                             MM_GFP_KERNEL | MM_GFP_RECLAIMABLE, MM_GFP_KERNEL | MM_GFP_DMA,
                             MM_GFP_KERNEL | MM_GFP_DMA32, MM_GFP_ATOMIC_ALLOC,
                             MM_GFP_HIGHUSER_MOVABLE | MM_GFP_THISNODE};
    const unsigned ngfp = atomics ? 7 : 5;
    uint64_t allocs = 0, fails = 0;
    for (int op = 0; op < 120000; op++) {
        unsigned cpu = (unsigned)rng_below(&r, 4);
        uint64_t roll = rng_below(&r, 100);
        if (roll < 55 || nlive == 0) {
            uint64_t o = rng_below(&r, 100);
            unsigned order = o < 70 ? 0 : o < 80 ? 1 : o < 85 ? 2 : o < 90 ? 3
                             : o < 95 ? 4 + (unsigned)rng_below(&r, 5) : o < 98 ? 9 : 10;
            unsigned gfp = gfps[rng_below(&r, ngfp)];
            uint64_t how = rng_below(&r, 10);
            uint64_t pfn;
            if (how < 6) {
                pfn = alloc_pages_node(pm, (int)rng_below(&r, 3) - 1, gfp, order, cpu, NULL);
            } else if (how < 8) {
                pfn = get_page_from_freelist(pm, (int)rng_below(&r, 2), gfp, order,
                                             gfp_to_alloc_flags(gfp), cpu, NULL);
            } else if (how < 9) {
                pfn = get_page_from_freelist(pm, (int)rng_below(&r, 2), gfp, order,
                                             ALLOC_NO_WATERMARKS, cpu, NULL);
            } else {
                mm_zone *z = mm_node_zone(pm, (int)rng_below(&r, 2),
                                          (enum zone_type)rng_below(&r, MM_NR_ZONE_TYPES));
                pfn = z ? buddy_alloc_pages(z, order, gfp_migratetype(gfp), 0, cpu) : MM_PFN_NONE;
            }
            if (pfn == MM_PFN_NONE) {
                fails++;
                continue;
            }
            allocs++;
            if ((pfn & ((1ull << order) - 1)) || pfn + (1ull << order) > npages)
                ck_abort_msg("pfn %llu order %u misaligned or past memory",
                             (unsigned long long)pfn, order);
            for (uint64_t p = pfn; p < pfn + (1ull << order); p++) {
                /* plain ifs in the hot loops: every ck_assert writes a location record */
                if (owned[p])
                    ck_abort_msg("pfn %llu handed out twice (op %d)", (unsigned long long)p, op);
                owned[p] = 1;
            }
            live[nlive].pfn = pfn;
            live[nlive].order = order;
            nlive++;
        } else if (roll < 99) {
            size_t i = (size_t)rng_below(&r, nlive);
            struct live l = live[i];
            live[i] = live[--nlive];
            for (uint64_t p = l.pfn; p < l.pfn + (1ull << l.order); p++)
                owned[p] = 0;
            if (buddy_free_pages(pm, l.pfn, l.order, cpu, &err))
                ck_abort_msg("%s", err.msg);
        } else {
            buddy_drain_pages(pm, (int)rng_below(&r, 5) - 1, NULL);
        }
        if (op % 4000 == 0)
            ck_assert_msg(buddy_check(pm, &err) == 0, "op %d: %s", op, err.msg);
    }
    ck_assert_uint_gt(allocs, 30000);
    ck_assert_uint_gt(fails, 0); /* memory did run out at times */
    while (nlive) {
        struct live l = live[--nlive];
        ck_assert_msg(buddy_free_pages(pm, l.pfn, l.order, 0, &err) == 0, "%s", err.msg);
    }
    buddy_drain_pages(pm, -1, NULL);
    ck_assert_msg(buddy_check(pm, &err) == 0, "%s", err.msg);
    while (buddy_unreserve_highatomic(pm, 0, MM_GFP_KERNEL, true) ||
           buddy_unreserve_highatomic(pm, 1, MM_GFP_KERNEL, true))
        ;
    for (int n = 0; n < 2; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            mm_zone *z = mm_node_zone(pm, n, (enum zone_type)t), *f = mm_node_zone(fresh, n,
                                                                                   (enum zone_type)t);
            if (!z || !populated_zone(z))
                continue;
            ck_assert_uint_eq(zone_free_pages(z), zone_managed_pages(z));
            /* a reserved pageblock whose pages all came back through pcp lists with a cached
             * non-atomic type sits on ordinary lists: unreserve_highatomic_pageblock cannot find
             * it (as in Linux), so reserves may remain; without atomics there are none */
            if (!atomics)
                ck_assert_uint_eq(zone_nr_reserved_highatomic(z), 0);
            unsigned top = atomics ? 9 : 11;
            for (unsigned o = 0; o < top; o++)
                ck_assert_msg(zone_nr_free_blocks(z, o) == zone_nr_free_blocks(f, o),
                              "node %d %s order %u: %llu free blocks, boot had %llu", n,
                              zone_name(z), o, (unsigned long long)zone_nr_free_blocks(z, o),
                              (unsigned long long)zone_nr_free_blocks(f, o));
        }
    if (!atomics) {
        char a[4096], b[4096];
        mm_format(pm, MM_VIEW_BUDDYINFO, a, sizeof a);
        mm_format(fresh, MM_VIEW_BUDDYINFO, b, sizeof b);
        ck_assert_str_eq(a, b);
    }
    ck_assert_msg(buddy_check(pm, &err) == 0, "%s", err.msg);
    free(owned);
    free(live);
    mm_phys_destroy(fresh);
    mm_phys_destroy(pm);
}

START_TEST(random_stress_coalesces)
{
    stress(false, 1);
    stress(false, 2);
}
END_TEST

START_TEST(random_stress_with_atomics)
{
    stress(true, 3);
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
    tcase_add_test(tc, pcp_batch_and_high);
    tcase_add_test(tc, fragmentation_indices);
    tcase_add_test(tc, pagetypeinfo_text);
    tcase_add_test(tc, zonelist_allocation_by_watermark);
    tcase_add_test(tc, highatomic_reserve);
    tcase_add_test(tc, stats_registered);
    tcase_add_test(tc, random_stress_coalesces);
    tcase_add_test(tc, random_stress_with_atomics);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
