/* Unit tests for models/os/pagecache (the address-space store, page cache, swap cache and the
 * shadow-node accounting) and models/os/writeback (dirty limits, flusher, throttling). Expected
 * values are worked by hand from Linux v6.1 (mm/filemap.c, mm/workingset.c, lib/xarray.c's node
 * shape, mm/page-writeback.c); each test says how. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/rng.h"
#include "models/common/stats.h"
#include "models/os/lru.h"
#include "models/os/pagecache.h"
#include "models/os/workingset.h"
#include "models/os/zone.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

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
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
