/* Unit tests for models/os/pagecache (the address-space store, page cache, swap cache and the
 * shadow-node accounting) and models/os/writeback (dirty limits, flusher, throttling). Expected
 * values are worked by hand from Linux v6.1 (mm/filemap.c, mm/workingset.c, lib/xarray.c's node
 * shape, mm/page-writeback.c); each test says how. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/rng.h"
#include "models/common/stats.h"
#include "reclaim_test_util.h"

#include "models/os/workingset.h"
#include "models/os/writeback.h"

static mm_phys *make_phys(uint64_t bytes)
{
    mm_phys_config cfg;
    mm_phys_config_init(&cfg, MM_ARCH_X86_64, bytes, 1);
    mm_err err = {{0}};
    mm_phys *pm = mm_phys_create(&cfg, NULL, &err);
    ck_assert_msg(pm != NULL, "%s", err.msg);
    return pm;
}

/* Tree shape: a leaf node per 64 indices; node (level, prefix) has a parent (level + 1, prefix >> 6)
 * when prefix != 0 -- the shape an xarray grows to.
 *  - indices 0..63 of one file: one leaf (the xarray's single root node) -> 1 node.
 *  - plus index 64: leaf 1 appears, and with it the level-2 root over leaves 0 and 1 -> 3.
 *  - plus index 4096: leaf 64, its level-2 parent 1 and the level-3 root over both -> 6 (Linux:
 *    root(3) -> {l2(0) -> {leaf 0, leaf 1}, l2(1) -> leaf 64} = 6 nodes).
 *  Erasing everything frees every node. */
START_TEST(store_node_shape)
{
    mm_phys *pm = make_phys(64 * MiB);
    mm_lru *lru = mm_lru_create(pm, NULL);
    mm_pagecache *pc = mm_pagecache_create(lru, NULL);
    for (uint64_t i = 0; i < 64; i++)
        ck_assert_uint_eq(mapping_store(pc, 5, i, mapping_page_entry(100 + i)), MAPPING_EMPTY);
    ck_assert_uint_eq(pagecache_nr_xa_nodes(pc), 1);
    ck_assert_uint_eq(pagecache_nr_pages(pc), 64);
    mapping_store(pc, 5, 64, mapping_page_entry(7));
    ck_assert_uint_eq(pagecache_nr_xa_nodes(pc), 3);
    mapping_store(pc, 5, 4096, mapping_page_entry(8));
    ck_assert_uint_eq(pagecache_nr_xa_nodes(pc), 6);
    /* another file has its own tree */
    mapping_store(pc, 6, 0, mapping_page_entry(9));
    ck_assert_uint_eq(pagecache_nr_xa_nodes(pc), 7);
    ck_assert_uint_eq(filemap_get_folio(pc, 5, 63), 163);
    ck_assert_uint_eq(filemap_get_folio(pc, 5, 65), MM_PFN_NONE);
    uint64_t idx = 65;
    ck_assert_uint_eq(mapping_find(pc, 5, &idx, 1ull << 20), mapping_page_entry(8));
    ck_assert_uint_eq(idx, 4096);
    idx = 4097;
    ck_assert_uint_eq(mapping_find(pc, 5, &idx, 1ull << 30), MAPPING_EMPTY);
    ck_assert_uint_eq(mapping_erase(pc, 5, 4096), mapping_page_entry(8));
    ck_assert_uint_eq(pagecache_nr_xa_nodes(pc), 4);
    for (uint64_t i = 0; i <= 64; i++)
        mapping_erase(pc, 5, i);
    mapping_erase(pc, 6, 0);
    ck_assert_uint_eq(pagecache_nr_xa_nodes(pc), 0);
    ck_assert_uint_eq(pagecache_nr_pages(pc), 0);
    mm_pagecache_destroy(pc);
    mm_lru_destroy(lru);
    mm_phys_destroy(pm);
}
END_TEST

/* Shadow-only leaves join the shadow-node LRU in the order they become shadow-only
 * (workingset_update_node adds at the tail; the shrinker isolates from the head), and leave it when
 * a page is stored in them again. Reclaiming a node drops all its shadows. */
START_TEST(shadow_node_lru)
{
    mm_phys *pm = make_phys(64 * MiB);
    mm_lru *lru = mm_lru_create(pm, NULL);
    mm_pagecache *pc = mm_pagecache_create(lru, NULL);
    const uint64_t sh = 0x1001; /* any odd value is a shadow to the store */
    /* leaf A = file 3 indices 0..1, leaf B = file 3 indices 64..65 */
    mapping_store(pc, 3, 0, mapping_page_entry(10));
    mapping_store(pc, 3, 1, mapping_page_entry(11));
    mapping_store(pc, 3, 64, mapping_page_entry(12));
    mapping_store(pc, 3, 65, sh);
    ck_assert_uint_eq(pagecache_nr_shadow_nodes(pc), 0);
    mapping_store(pc, 3, 64, sh); /* B becomes shadow-only first */
    ck_assert_uint_eq(pagecache_nr_shadow_nodes(pc), 1);
    mapping_store(pc, 3, 0, sh);
    mapping_store(pc, 3, 1, sh); /* then A */
    ck_assert_uint_eq(pagecache_nr_shadow_nodes(pc), 2);
    ck_assert_uint_eq(pagecache_nr_shadows(pc), 4);
    /* the oldest shadow-only node is B */
    ck_assert_uint_eq(pagecache_reclaim_shadow_nodes(pc, 1), 1);
    ck_assert_uint_eq(mapping_load(pc, 3, 64), MAPPING_EMPTY);
    ck_assert_uint_eq(mapping_load(pc, 3, 65), MAPPING_EMPTY);
    ck_assert_uint_eq(mapping_load(pc, 3, 0), sh);
    ck_assert_uint_eq(mm_lru_events(lru)->workingset_nodereclaim, 1);
    /* a page back in A takes it off the list */
    mapping_store(pc, 3, 0, mapping_page_entry(10));
    ck_assert_uint_eq(pagecache_nr_shadow_nodes(pc), 0);
    ck_assert_uint_eq(pagecache_reclaim_shadow_nodes(pc, 5), 0);
    mapping_erase(pc, 3, 0);
    ck_assert_uint_eq(pagecache_nr_shadow_nodes(pc), 1); /* only index 1's shadow left in A */
    mm_pagecache_destroy(pc);
    mm_lru_destroy(lru);
    mm_phys_destroy(pm);
}
END_TEST

/* The shadow shrinker as do_shrink_slab() runs a seeks == 0 shrinker: on a 64 MiB machine (16384
 * present pages) max_nodes = 16384 >> 3 = 2048. With 2048 + 300 shadow-only nodes, at priority 12:
 * freeable = 300, delta = 150, total_scan = (0 >> 12) + 150 = 150 >= 128: one batch of 128, then
 * 22 < 128 and < 300 stops; next_deferred = 0 + 150 - 128 = 22. Again at priority 12 with 2220
 * nodes: freeable 172, delta 86, total_scan = (22 >> 12) + 86 = 86: nothing scanned, deferred =
 * 22 + 86 = 108. At priority 0: total_scan = 108 + 86 = 194 >= 128: 128 more reclaimed, 66 left
 * (< 128, < 172), deferred 108 + 86 - 128 = 66. */
START_TEST(shadow_shrinker_batches)
{
    mm_phys *pm = make_phys(64 * MiB);
    mm_lru *lru = mm_lru_create(pm, NULL);
    mm_pagecache *pc = mm_pagecache_create(lru, NULL);
    for (uint64_t n = 0; n < 2048 + 300; n++)
        mapping_store(pc, 9, n * 64, 0x11);
    ck_assert_uint_eq(pagecache_nr_shadow_nodes(pc), 2348);
    ck_assert_uint_eq(workingset_max_shadow_nodes(16384), 2048);
    ck_assert_uint_eq(pagecache_shrink_shadow_nodes(pc, 16384, 12), 128);
    ck_assert_uint_eq(pagecache_nr_shadow_nodes(pc), 2220);
    ck_assert_uint_eq(pagecache_shrink_shadow_nodes(pc, 16384, 12), 0);
    ck_assert_uint_eq(pagecache_shrink_shadow_nodes(pc, 16384, 0), 128);
    ck_assert_uint_eq(pagecache_nr_shadow_nodes(pc), 2092);
    ck_assert_uint_eq(mm_lru_events(lru)->workingset_nodereclaim, 256);
    mm_pagecache_destroy(pc);
    mm_lru_destroy(lru);
    mm_phys_destroy(pm);
}
END_TEST

/* A random mix of stores and erases over a few files compared with a plain array, through table
 * growth and backward-shift deletions; every node count returns to 0 at the end. */
START_TEST(store_random_against_reference)
{
    mm_phys *pm = make_phys(16 * MiB);
    mm_lru *lru = mm_lru_create(pm, NULL);
    mm_pagecache *pc = mm_pagecache_create(lru, NULL);
    enum { FILES = 4, RANGE = 20000 };
    uint64_t *ref = malloc(sizeof(uint64_t) * FILES * RANGE);
    for (size_t i = 0; i < (size_t)FILES * RANGE; i++)
        ref[i] = MAPPING_EMPTY;
    rng r;
    rng_seed(&r, 42);
    uint64_t live = 0;
    for (int step = 0; step < 400000; step++) {
        uint32_t f = (uint32_t)rng_below(&r, FILES);
        uint64_t i = rng_below(&r, RANGE);
        uint64_t *slot = &ref[f * RANGE + i];
        if (rng_below(&r, 3) == 0) {
            ck_assert_uint_eq(mapping_erase(pc, f + 1, i), *slot);
            if (*slot != MAPPING_EMPTY)
                live--;
            *slot = MAPPING_EMPTY;
        } else {
            uint64_t e = rng_below(&r, 1u << 20);
            ck_assert_uint_eq(mapping_store(pc, f + 1, i, e), *slot);
            if (*slot == MAPPING_EMPTY)
                live++;
            *slot = e;
        }
        if (step % 50000 == 0)
            for (size_t k = 0; k < (size_t)FILES * RANGE; k += 7)
                ck_assert_uint_eq(mapping_load(pc, (uint32_t)(k / RANGE) + 1, k % RANGE), ref[k]);
    }
    ck_assert_uint_eq(pagecache_nr_pages(pc) + pagecache_nr_shadows(pc), live);
    for (uint32_t f = 0; f < FILES; f++)
        for (uint64_t i = 0; i < RANGE; i++)
            mapping_erase(pc, f + 1, i);
    ck_assert_uint_eq(pagecache_nr_xa_nodes(pc), 0);
    ck_assert_uint_eq(pagecache_nr_shadow_nodes(pc), 0);
    free(ref);
    mm_pagecache_destroy(pc);
    mm_lru_destroy(lru);
    mm_phys_destroy(pm);
}
END_TEST

/* Page cache and swap cache entry points set and clear the page's identity. */
START_TEST(filemap_and_swap_cache)
{
    mm_phys *pm = make_phys(16 * MiB);
    mm_lru *lru = mm_lru_create(pm, NULL);
    mm_pagecache *pc = mm_pagecache_create(lru, NULL);
    uint64_t shadow = 99;
    lru_page_init(lru, 200, OWNER_NONE, 0);
    ck_assert(filemap_add_folio(pc, 7, 3, 200, &shadow));
    ck_assert_uint_eq(shadow, 0);
    ck_assert(folio_test(lru, 200, PG_pagecache));
    ck_assert_uint_eq(folio_owner(lru, 200), PAGECACHE_OWNER(7, 3));
    ck_assert_uint_eq(pagecache_owner_file(folio_owner(lru, 200)), 7);
    ck_assert_uint_eq(pagecache_owner_index(folio_owner(lru, 200)), 3);
    lru_page_init(lru, 201, OWNER_NONE, 0);
    ck_assert(!filemap_add_folio(pc, 7, 3, 201, &shadow));
    filemap_remove_folio(pc, 200, 0x55);
    ck_assert(!folio_test(lru, 200, PG_pagecache));
    ck_assert(filemap_add_folio(pc, 7, 3, 201, &shadow));
    ck_assert_uint_eq(shadow, 0x55);
    /* block-device pages are Buffers */
    lru_page_init(lru, 202, OWNER_NONE, PG_swapbacked);
    ck_assert(filemap_add_folio(pc, BDEV_FILE, 0, 202, NULL));
    ck_assert_uint_eq(pagecache_nr_buffers(pc), 1);
    ck_assert_uint_eq(pagecache_nr_pages(pc), 2);
    /* swap cache */
    uint32_t e = swp_entry(2, 77);
    lru_page_init(lru, 300, 1234, PG_swapbacked);
    ck_assert(add_to_swap_cache(pc, 300, e, &shadow));
    ck_assert_uint_eq(shadow, 0);
    ck_assert_uint_eq(swap_cache_get_folio(pc, e), 300);
    ck_assert_uint_eq(folio_swap_entry(lru, 300), e);
    ck_assert_uint_eq(pagecache_nr_swapcache(pc), 1);
    delete_from_swap_cache(pc, 300, 0x77);
    ck_assert(!folio_test(lru, 300, PG_swapcache));
    ck_assert_uint_eq(swap_cache_get_folio(pc, e), MM_PFN_NONE);
    ck_assert_uint_eq(get_shadow_from_swap_cache(pc, e), 0x77);
    clear_shadow_from_swap_cache(pc, 2, 70, 80);
    ck_assert_uint_eq(get_shadow_from_swap_cache(pc, e), 0);
    ck_assert_uint_eq(pagecache_nr_swapcache(pc), 0);
    mm_pagecache_destroy(pc);
    mm_lru_destroy(lru);
    mm_phys_destroy(pm);
}
END_TEST


/* ---- writeback ------------------------------------------------------------------------------- */

/* global_dirtyable_memory() and domain_dirty_limits() on a fresh 16 GiB machine: free pages
 * 4194304 minus totalreserve_pages 28854 (test_zone's derivation) plus no file LRU pages, + 1 =
 * 4165451. Ratios in per-PAGE_SIZE units: dirty_ratio 20 -> 20 * 4096 / 100 = 819, background 10
 * -> 409. thresh = 819 * 4165451 / 4096 = 832886 pages (19.995%, not 20%), bg_thresh = 409 *
 * 4165451 / 4096 = 415934. With vm.dirty_bytes = 1 GiB: thresh = 262144 and bg_thresh (415934)
 * is not below it, so bg_thresh = thresh / 2 = 131072. */
START_TEST(dirty_limits_16g)
{
    mm_phys *pm = test_phys(16 * GiB);
    ck_assert_uint_eq(mm_totalreserve_pages(pm), 28854);
    struct mm_reclaim_config cfg = test_config();
    stats_registry *reg = stats_create();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, reg, &err);
    mm_writeback *wb = reclaim_writeback(rc);
    ck_assert_uint_eq(global_dirtyable_memory(wb), 4165451);
    uint64_t bg, th;
    global_dirty_limits(wb, &bg, &th);
    ck_assert_uint_eq(th, 832886);
    ck_assert_uint_eq(bg, 415934);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.nr_dirty_threshold")), 832886);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.nr_dirty_background_threshold")),
                      415934);
    struct wb_config c = *wb_config_of(wb);
    c.dirty_bytes = 1 * GiB;
    wb_set_config(wb, &c);
    global_dirty_limits(wb, &bg, &th);
    ck_assert_uint_eq(th, 262144);
    ck_assert_uint_eq(bg, 131072);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    mm_phys_destroy(pm);
}
END_TEST

/* The flusher's periodic pass (wb_check_old_data_flush) every dirty_writeback_centisecs = 5 s
 * writes what was dirtied at least dirty_expire_centisecs = 30 s ago (64 MiB, ssd, 1000 MHz, far
 * below the background threshold): P dirtied at 0 s is not written by the passes at 5..25 s nor
 * at 29.999 s, but at the 30 s pass (its age is 30 s), completing 100 us later; Q dirtied at 1 s
 * waits for the 35 s pass. nr_dirtied 2, nr_written 2, pgpgout 8 kB. */
START_TEST(kupdate_writes_expired_pages)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct mm_reclaim_config cfg = test_config();
    stats_registry *reg = stats_create();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, reg, &err);
    mm_writeback *wb = reclaim_writeback(rc);
    const uint64_t s = 1000000000ull; /* one second in cycles */
    uint64_t p = add_file_page(rc, pm, 1, 0), q = add_file_page(rc, pm, 1, 1);
    ck_assert(folio_mark_dirty(wb, p, 0));
    ck_assert(!folio_mark_dirty(wb, p, 0));
    ck_assert(folio_mark_dirty(wb, q, 1 * s));
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.Dirty")), 8);
    wb_run(wb, 30 * s - 1000);
    ck_assert_uint_eq(wb_nr_dirty(wb), 2);
    wb_run(wb, 30 * s);
    ck_assert_uint_eq(wb_nr_dirty(wb), 1);
    ck_assert_uint_eq(wb_nr_writeback(wb), 1);
    ck_assert(folio_test(reclaim_lru(rc), p, PG_writeback));
    wb_run(wb, 30 * s + 100000);
    ck_assert_uint_eq(wb_nr_writeback(wb), 0);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.nr_written")), 1);
    wb_run(wb, 35 * s - 1);
    ck_assert_uint_eq(wb_nr_dirty(wb), 1);
    wb_run(wb, 36 * s);
    ck_assert_uint_eq(wb_nr_dirty(wb), 0);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.nr_dirtied")), 2);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.nr_written")), 2);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.pgpgout")), 8);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    mm_phys_destroy(pm);
}
END_TEST

/* Background writeback: a 64 MiB machine (16384 pages, totalreserve 432) has dirtyable memory
 * 16384 - 432 + 1 = 15953 however its pages are split between free and file LRU, so bg_thresh =
 * 409 * 15953 / 4096 = 1592 and thresh = 819 * 15953 / 4096 = 3189. 1642 dirty pages are 50 over
 * the background threshold: the flusher writes the 50 oldest at once and stops at 1592
 * (wb_over_bg_thresh compares NR_FILE_DIRTY only). */
START_TEST(background_writeback)
{
    mm_phys *pm = test_phys(64 * MiB);
    ck_assert_uint_eq(mm_totalreserve_pages(pm), 432);
    struct mm_reclaim_config cfg = test_config();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, NULL, &err);
    mm_writeback *wb = reclaim_writeback(rc);
    uint64_t first = 0;
    for (uint64_t i = 0; i < 1642; i++) {
        uint64_t pfn = add_file_page(rc, pm, 1, i);
        if (!i)
            first = pfn;
        folio_mark_dirty(wb, pfn, 0);
    }
    ck_assert_uint_eq(global_dirtyable_memory(wb), 15953);
    uint64_t bg, th;
    global_dirty_limits(wb, &bg, &th);
    ck_assert_uint_eq(bg, 1592);
    ck_assert_uint_eq(th, 3189);
    ck_assert(wb_over_bg_thresh(wb));
    wb_run(wb, 0);
    ck_assert_uint_eq(wb_nr_dirty(wb), 1592);
    ck_assert_uint_eq(wb_nr_writeback(wb), 50);
    ck_assert(folio_test(reclaim_lru(rc), first, PG_writeback)); /* oldest first */
    ck_assert(!wb_over_bg_thresh(wb));
    mm_reclaim_destroy(rc);
    mm_phys_destroy(pm);
}
END_TEST

/* balance_dirty_pages() on the 64 MiB machine (thresh 3189, bg_thresh 1592, freerun ceiling
 * (3189 + 1592) / 2 = 2390) with an hdd behind the files (8 ms a write, one at a time: write_bw
 * 125 pages/s):
 *  - 10 dirty pages: free run, no pause.
 *  - 3199 dirty pages (10 over the limit) and a writer who dirtied 32 (nr_dirtied_pause): the
 *    flusher starts (128 writes queued) but dirty + writeback = 3199 >= 3189: task_ratelimit 0,
 *    pause = wb_max_pause(3199) = min(3199 / (1 + 125 / 32) + 1 = 800, HZ / 5 = 50) jiffies =
 *    200 ms. Meanwhile writes complete at 8, 16, ..., 200 ms: 25 pages, dirty = 3174 < 3189.
 *    Second round: setpoint = (2390 + 3189) / 2 = 2789; x = (2789 - 3174) * 1024 / 401 = -983;
 *    pos_ratio = ((-983)^2 >> 10 = 943) * -983 >> 10 = -906, + 1024 = 118; task_ratelimit = 125 *
 *    118 >> 10 = 14 pages/s; pause = 250 * 32 / 14 = 571 jiffies, capped at 50: 200 ms more.
 *    Total 400 ms (4e8 cycles at 1000 MHz), two throttled rounds. */
START_TEST(writer_throttled_above_limit)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct mm_reclaim_config cfg = test_config();
    bdev_config_preset(&cfg.file_bdev, BDEV_HDD);
    stats_registry *reg = stats_create();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, reg, &err);
    mm_writeback *wb = reclaim_writeback(rc);
    for (uint64_t i = 0; i < 10; i++)
        folio_mark_dirty(wb, add_file_page(rc, pm, 1, i), 0);
    ck_assert_uint_eq(balance_dirty_pages_ratelimited(wb, 32, 0), 0);
    for (uint64_t i = 10; i < 3199; i++)
        folio_mark_dirty(wb, add_file_page(rc, pm, 1, i), 0);
    ck_assert_int_eq(pos_ratio_polynom(2789, 3174, 3189), 118);
    ck_assert_int_eq(pos_ratio_polynom(2789, 2789, 3189), 1024);
    /* at the limit the "| 1" of the divisor leaves 8, not 0; wb_position_ratio() returns 0 there
     * before calling the polynomial, as balance_dirty_pages() here does */
    ck_assert_int_eq(pos_ratio_polynom(2789, 3189, 3189), 8);
    uint64_t pause = balance_dirty_pages_ratelimited(wb, 32, 0);
    ck_assert_uint_eq(pause, 400000000ull);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.writeback.throttled_writes")), 2);
    ck_assert_uint_eq(wb_nr_dirty(wb) + wb_nr_writeback(wb), 3174);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    mm_phys_destroy(pm);
}
END_TEST

/* A write() through the facade path: a missing page overwritten whole needs no read (not major:
 * 50 lookup + 200 insert cycles), a partial write of a missing page reads it first (major, pgpgin,
 * + 80 us); the page is dirty either way and truncation drops pages and shadows, waiting for
 * writeback. */
START_TEST(file_write_and_truncate)
{
    mm_phys *pm = test_phys(64 * MiB);
    struct mm_reclaim_config cfg = test_config();
    stats_registry *reg = stats_create();
    mm_err err = {{0}};
    mm_reclaim *rc = mm_reclaim_create(pm, &cfg, NULL, reg, &err);
    mm_writeback *wb = reclaim_writeback(rc);
    struct fault_result r;
    ck_assert(reclaim_file_write(rc, 5, 0, true, 0, 0, &r));
    ck_assert(!r.major);
    ck_assert_uint_eq(r.cycles, 50 + 200);
    ck_assert(reclaim_file_write(rc, 5, 1, false, 0, 0, &r));
    ck_assert(r.major);
    ck_assert_uint_eq(r.cycles, 50 + 200 + 80000);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.vmstat.pgpgin")), 4);
    ck_assert_uint_eq(wb_nr_dirty(wb), 2);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.Cached")), 8);
    /* both pages under writeback, truncate waits for them: the partial write's read at 250 cycles
     * left the ssd's next free slot at 250 + 80000 / 8 = 10250, so the writes submitted at 0 start
     * at 10250 and 22750 and end at 110250 and 122750 (-> 123 us) */
    wakeup_flusher_threads(wb, WB_REASON_VMSCAN);
    wb_run(wb, 0);
    ck_assert_uint_eq(wb_nr_writeback(wb), 2);
    mapping_store(reclaim_pagecache(rc), 5, 7, 0x99); /* a shadow beyond */
    uint64_t free0 = node_free_pages(pm);
    uint64_t wait = reclaim_file_truncate(rc, 5, 0, 100, 0, 50000);
    ck_assert_uint_eq(wait, 123000 - 50000);
    ck_assert_uint_eq(pagecache_nr_pages(reclaim_pagecache(rc)), 0);
    ck_assert_uint_eq(pagecache_nr_shadows(reclaim_pagecache(rc)), 0);
    ck_assert_uint_eq(node_free_pages(pm), free0 + 2);
    ck_assert_uint_eq(wb_nr_dirty(wb) + wb_nr_writeback(wb), 0);
    mm_reclaim_destroy(rc);
    stats_destroy(reg);
    mm_phys_destroy(pm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pagecache");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, store_node_shape);
    tcase_add_test(tc, shadow_node_lru);
    tcase_add_test(tc, shadow_shrinker_batches);
    tcase_add_test(tc, store_random_against_reference);
    tcase_add_test(tc, filemap_and_swap_cache);
    tcase_add_test(tc, dirty_limits_16g);
    tcase_add_test(tc, kupdate_writes_expired_pages);
    tcase_add_test(tc, background_writeback);
    tcase_add_test(tc, writer_throttled_above_limit);
    tcase_add_test(tc, file_write_and_truncate);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
