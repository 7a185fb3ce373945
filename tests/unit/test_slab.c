/* Unit tests for models/os/slab: SLUB's slab orders and objects per slab for given object sizes
 * and CPU counts (calculate_order of v6.8+), alignment and slot sizes (calculate_alignment,
 * calculate_sizes), min_partial, the kmalloc size classes, Slab / SReclaimable / SUnreclaim after
 * sequences of allocations and frees (partial list handling of __slab_free, shrinking, large
 * kmalloc), the order fallback, /proc/slabinfo text, and slabs taken from the real buddy
 * allocator. Numbers are worked by hand from Linux v6.12 mm/slub.c and mm/slab_common.c.
 *
 * calculate_order with 4 CPUs: min_objects = 4 * (fls(4) + 1) = 16, capped by the objects an
 * order-3 slab (32 KiB) holds; min_order = get_order(min_objects * size); then the smallest
 * order from min_order up to 3 whose leftover is at most 1/16 of the slab (then 1/8, 1/4, 1/2). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/stats.h"
#include "models/os/buddy.h"
#include "models/os/slab.h"
#include "models/os/zone.h"

/* A frame source handing out made-up pfns: counts the pages it has out and remembers the
 * requests; refuses orders above max_order. */
struct mock {
    uint64_t next_pfn, pages_out;
    int max_order;
    unsigned nr_req;
    unsigned req_gfp[64], req_order[64];
};

static uint64_t mock_alloc(void *ctx, unsigned gfp, unsigned order)
{
    struct mock *m = ctx;
    if (m->nr_req < 64) {
        m->req_gfp[m->nr_req] = gfp;
        m->req_order[m->nr_req] = order;
    }
    m->nr_req++;
    if ((int)order > m->max_order)
        return MM_PFN_NONE;
    uint64_t pfn = m->next_pfn;
    m->next_pfn += 1ull << order;
    m->pages_out += 1ull << order;
    return pfn;
}

static void mock_free(void *ctx, uint64_t pfn, unsigned order)
{
    struct mock *m = ctx;
    (void)pfn;
    m->pages_out -= 1ull << order;
}

static slab_allocator *make(struct mock *m, unsigned cpus, stats_registry *reg)
{
    memset(m, 0, sizeof *m);
    m->next_pfn = 4096;
    m->max_order = 10;
    slab_config cfg;
    slab_config_init(&cfg, cpus);
    slab_frame_source src = {mock_alloc, mock_free, m};
    mm_err err = {{0}};
    slab_allocator *sa = slab_create(&cfg, &src, reg, &err);
    ck_assert_msg(sa != NULL, "%s", err.msg);
    return sa;
}

static void assert_geometry(slab_allocator *sa, const char *name, unsigned size, unsigned objs,
                            unsigned pages)
{
    kmem_cache *s = kmem_cache_find(sa, name);
    ck_assert_msg(s != NULL, "no cache %s", name);
    ck_assert_msg(kmem_cache_size(s) == size, "%s: size %u, expected %u", name,
                  kmem_cache_size(s), size);
    ck_assert_msg(kmem_cache_objects(s) == objs && (1u << kmem_cache_order(s)) == pages,
                  "%s: %u objects per %u pages, expected %u per %u", name, kmem_cache_objects(s),
                  1u << kmem_cache_order(s), objs, pages);
}

/* With 4 CPUs (min_objects 16) the model reproduces the objperslab / pagesperslab columns of the
 * /proc/slabinfo it cites (Frodo-Web/eBPF Knowledges/Memory.md; a machine with 2-7 CPUs gives
 * the same), e.g.:
 *   kmalloc-256: get_order(16 * 256 = 4096) = 0, leftover 0: 16 objects, 1 page
 *   kmalloc-512: get_order(8192) = 1: 16 per 2 pages; kmalloc-1k 16 per 4; kmalloc-2k 16 per 8
 *   kmalloc-4k: at most 8 fit in 32 KiB, min_objects 8, order 3: 8 per 8; kmalloc-8k 4 per 8
 *   kmalloc-96: order 0, leftover 4096 % 96 = 64 <= 256: 42 per page; kmalloc-192 21 per page
 *   vm_area_struct 176: order 0, 4096 - 23 * 176 = 48 <= 256: 23 per page
 *   mm_struct 1408: 23 fit in 32 KiB (min_objects 16): get_order(22528) = 3: 23 per 8 pages
 *   task_struct 6656: 4 fit in 32 KiB: order 3, leftover 6144 > 2048 and > 4096 but <= 8192
 *     (fraction 4): 4 per 8 pages
 *   anon_vma 104: 39 per page; radix_tree_node 584: get_order(9344) = 2, 28 per 4 pages;
 *   dentry 192: 21 per page; inode_cache 616: 26 per 4 pages; maple_node 256: 16 per page;
 *   anon_vma_chain 64: 64 per page. */
START_TEST(geometry_4_cpus)
{
    struct mock m;
    slab_allocator *sa = make(&m, 4, NULL);
    assert_geometry(sa, "kmalloc-8", 8, 512, 1);
    assert_geometry(sa, "kmalloc-16", 16, 256, 1);
    assert_geometry(sa, "kmalloc-32", 32, 128, 1);
    assert_geometry(sa, "kmalloc-64", 64, 64, 1);
    assert_geometry(sa, "kmalloc-96", 96, 42, 1);
    assert_geometry(sa, "kmalloc-128", 128, 32, 1);
    assert_geometry(sa, "kmalloc-192", 192, 21, 1);
    assert_geometry(sa, "kmalloc-256", 256, 16, 1);
    assert_geometry(sa, "kmalloc-512", 512, 16, 2);
    assert_geometry(sa, "kmalloc-1k", 1024, 16, 4);
    assert_geometry(sa, "kmalloc-2k", 2048, 16, 8);
    assert_geometry(sa, "kmalloc-4k", 4096, 8, 8);
    assert_geometry(sa, "kmalloc-8k", 8192, 4, 8);
    assert_geometry(sa, "vm_area_struct", 176, 23, 1);
    assert_geometry(sa, "mm_struct", 1408, 23, 8);
    assert_geometry(sa, "task_struct", 6656, 4, 8);
    assert_geometry(sa, "anon_vma", 104, 39, 1);
    assert_geometry(sa, "anon_vma_chain", 64, 64, 1);
    assert_geometry(sa, "maple_node", 256, 16, 1);
    assert_geometry(sa, "radix_tree_node", 584, 28, 4);
    assert_geometry(sa, "dentry", 192, 21, 1);
    assert_geometry(sa, "inode_cache", 616, 26, 4);
    ck_assert(kmem_cache_reclaimable(slab_model_cache(sa, SLAB_DENTRY)));
    ck_assert(kmem_cache_reclaimable(slab_model_cache(sa, SLAB_RADIX_TREE_NODE)));
    ck_assert(kmem_cache_reclaimable(slab_model_cache(sa, SLAB_INODE_CACHE)));
    ck_assert(!kmem_cache_reclaimable(slab_model_cache(sa, SLAB_VM_AREA_STRUCT)));
    ck_assert(!kmem_cache_reclaimable(slab_model_cache(sa, SLAB_TASK_STRUCT)));
    slab_destroy(sa);
}
END_TEST

/* Other CPU counts:
 *   16 CPUs: min_objects 4 * (fls(16) + 1) = 24. kmalloc-256: get_order(6144) = 1: 32 per 2
 *     pages. vm_area_struct: get_order(4224) = 1, 8192 % 176 = 96 <= 512: 46 per 2 pages.
 *     kmalloc-96: get_order(2304) = 0: still 42 per page. mm_struct: capped at the 23 that fit:
 *     23 per 8 pages.
 *   1 present CPU, 64 possible: nr_cpu_ids is used: fls(64) = 7, min_objects 32. kmalloc-512:
 *     get_order(16384) = 2: 32 per 4 pages.
 *   1 CPU only: min_objects 8. kmalloc-1k: get_order(8192) = 1: 8 per 2 pages; kmalloc-2k 8 per 4.
 * Sizes beyond slub_max_order: 40000 bytes fit no order-3 slab: max_objects = max(0, 1) = 1,
 * min_order = get_order(40000) = 4 > 3, every fraction fails, so order = get_order(40000) = 4.
 * 3000 bytes with 4 CPUs: 10 fit in 32 KiB, min_order get_order(30000) = 3; leftover 2768 is
 * above 1/16 (2048) but within 1/8: order 3. */
START_TEST(geometry_other_cpus)
{
    struct mock m;
    slab_allocator *sa = make(&m, 16, NULL);
    assert_geometry(sa, "kmalloc-256", 256, 32, 2);
    assert_geometry(sa, "vm_area_struct", 176, 46, 2);
    assert_geometry(sa, "kmalloc-96", 96, 42, 1);
    assert_geometry(sa, "mm_struct", 1408, 23, 8);
    slab_destroy(sa);

    slab_config cfg;
    slab_config_init(&cfg, 1);
    cfg.nr_cpu_ids = 64;
    ck_assert_int_eq(slab_calculate_order(&cfg, 512), 2);
    cfg.nr_cpu_ids = 1;
    ck_assert_int_eq(slab_calculate_order(&cfg, 1024), 1);
    ck_assert_int_eq(slab_calculate_order(&cfg, 2048), 2);
    slab_config_init(&cfg, 4);
    ck_assert_int_eq(slab_calculate_order(&cfg, 40000), 4);
    ck_assert_int_eq(slab_calculate_order(&cfg, 3000), 3);
    cfg.max_page_order = 3;
    ck_assert_int_eq(slab_calculate_order(&cfg, 40000), -ENOSYS);
}
END_TEST

/* calculate_alignment / calculate_sizes: 20 bytes: ALIGN(20, 8) = 24, the free pointer inside.
 * SLAB_HWCACHE_ALIGN halves the 64-byte line while the object fits in half: 20 -> 32; 100 -> 64,
 * slot 128. SLAB_TYPESAFE_BY_RCU (or a constructor) moves the free pointer after the object:
 * 104 + 8 = 112. kmalloc power-of-two caches are naturally aligned (4096 for kmalloc-4k).
 * min_partial = clamp(ilog2(size) / 2, 5, 10): 5 for kmalloc-8 (1), 6 for kmalloc-4k and
 * task_struct (ilog2 12), 10 for 1 MiB objects (ilog2 20). */
START_TEST(sizes_and_alignment)
{
    struct mock m;
    slab_allocator *sa = make(&m, 4, NULL);
    mm_err err = {{0}};
    kmem_cache *a = kmem_cache_create(sa, "a", 20, 0, 0, &err);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(kmem_cache_size(a), 24);
    ck_assert_uint_eq(kmem_cache_align(a), 8);
    kmem_cache *b = kmem_cache_create(sa, "b", 20, 0, SLAB_HWCACHE_ALIGN, &err);
    ck_assert_uint_eq(kmem_cache_size(b), 32);
    kmem_cache *c = kmem_cache_create(sa, "c", 100, 0, SLAB_HWCACHE_ALIGN, &err);
    ck_assert_uint_eq(kmem_cache_size(c), 128);
    ck_assert_uint_eq(kmem_cache_align(c), 64);
    kmem_cache *d = kmem_cache_create(sa, "d", 100, 0, SLAB_TYPESAFE_BY_RCU, &err);
    ck_assert_uint_eq(kmem_cache_size(d), 112);
    ck_assert_uint_eq(kmem_cache_object_size(d), 100);
    kmem_cache *e = kmem_cache_create(sa, "e", 1u << 20, 0, 0, &err);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(kmem_cache_order(e), 8);
    ck_assert_uint_eq(kmem_cache_objects(e), 1);
    ck_assert_uint_eq(kmem_cache_min_partial(e), 10);
    ck_assert_uint_eq(kmem_cache_align(kmem_cache_find(sa, "kmalloc-4k")), 4096);
    ck_assert_uint_eq(kmem_cache_align(kmem_cache_find(sa, "kmalloc-96")), 8);
    ck_assert_uint_eq(kmem_cache_min_partial(kmem_cache_find(sa, "kmalloc-8")), 5);
    ck_assert_uint_eq(kmem_cache_min_partial(kmem_cache_find(sa, "kmalloc-4k")), 6);
    ck_assert_uint_eq(kmem_cache_min_partial(slab_model_cache(sa, SLAB_TASK_STRUCT)), 6);
    ck_assert_ptr_null(kmem_cache_create(sa, "a", 20, 0, 0, &err));
    ck_assert_str_eq(err.msg, "kmem_cache_create(a): the name is taken");
    ck_assert_ptr_null(kmem_cache_create(sa, "huge", 8u << 20, 0, 0, &err));
    slab_destroy(sa);
}
END_TEST

/* kmalloc size classes: size_index[] up to 192 bytes (so 65..96 use kmalloc-96, 129..192
 * kmalloc-192, 17..32 kmalloc-32), fls(size - 1) above; nothing for 0 or above 8 KiB. */
START_TEST(kmalloc_classes)
{
    struct mock m;
    slab_allocator *sa = make(&m, 4, NULL);
    const struct {
        size_t size;
        const char *cache;
    } cases[] = {{1, "kmalloc-8"},     {8, "kmalloc-8"},     {9, "kmalloc-16"},
                 {24, "kmalloc-32"},   {33, "kmalloc-64"},   {64, "kmalloc-64"},
                 {65, "kmalloc-96"},   {96, "kmalloc-96"},   {97, "kmalloc-128"},
                 {129, "kmalloc-192"}, {192, "kmalloc-192"}, {193, "kmalloc-256"},
                 {1025, "kmalloc-2k"}, {4096, "kmalloc-4k"}, {8192, "kmalloc-8k"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kmem_cache *s = kmalloc_slab(sa, cases[i].size);
        ck_assert_msg(s && !strcmp(kmem_cache_name(s), cases[i].cache), "kmalloc(%zu): %s",
                      cases[i].size, s ? kmem_cache_name(s) : "none");
    }
    ck_assert_ptr_null(kmalloc_slab(sa, 0));
    ck_assert_ptr_null(kmalloc_slab(sa, 8193));
    slab_destroy(sa);
}
END_TEST

/* Slab / SReclaimable / SUnreclaim (pages of slabs, 4 kB each):
 *   23 vm_area_structs fill one order-0 slab: SUnreclaim 4 kB; the 24th opens a second: 8 kB.
 *   one dentry: SReclaimable 4 kB. one task_struct: an order-3 slab, SUnreclaim 8 + 32 = 40 kB,
 *   Slab 44 kB.
 *   Freeing the 24th vm_area_struct empties its slab, but the cache has 1 partial slab < its
 *   min_partial (5): kept, still 40 kB; shrinking frees it: 36 kB. Same for the task_struct
 *   (1 < 6): kept until slab_shrink_all: 4 kB left, and the dentry's 4 kB reclaimable.
 *   kmalloc of 20000 bytes is a large kmalloc: order get_order(20000) = 3, +32 kB unreclaimable;
 *   kfree gives it back. */
START_TEST(meminfo_sequence)
{
    struct mock m;
    stats_registry *reg = stats_create();
    slab_allocator *sa = make(&m, 4, reg);
    kmem_cache *vma = slab_model_cache(sa, SLAB_VM_AREA_STRUCT);
    slab_obj o[24];
    slab_meminfo mi;
    for (int i = 0; i < 23; i++)
        ck_assert_uint_ne(o[i] = kmem_cache_alloc(vma), 0);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 4);
    o[23] = kmem_cache_alloc(vma);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 8);
    slab_obj d = kmem_cache_alloc(slab_model_cache(sa, SLAB_DENTRY));
    slab_obj t = kmem_cache_alloc(slab_model_cache(sa, SLAB_TASK_STRUCT));
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sreclaimable_kb, 4);
    ck_assert_uint_eq(mi.sunreclaim_kb, 40);
    ck_assert_uint_eq(mi.slab_kb, 44);
    ck_assert_uint_eq(m.pages_out, 11);

    ck_assert_int_eq(kmem_cache_free(vma, o[23]), 0);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 40);
    slabinfo si;
    kmem_cache_info(vma, &si);
    ck_assert_uint_eq(si.active_objs, 23);
    ck_assert_uint_eq(si.num_objs, 46);
    ck_assert_uint_eq(si.nr_partial, 1);
    ck_assert_uint_eq(kmem_cache_shrink(vma), 1);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 36);
    ck_assert_int_eq(kmem_cache_free(slab_model_cache(sa, SLAB_TASK_STRUCT), t), 0);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 36);
    ck_assert_uint_eq(slab_shrink_all(sa), 8);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 4);
    ck_assert_uint_eq(mi.sreclaimable_kb, 4);

    ck_assert_int_eq(kmalloc_id(sa, 100, 20000), 0);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 36);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.slab.sunreclaim_kb")), 36);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.slab.kmalloc_large")), 1);
    ck_assert_int_eq(kfree_id(sa, 100), 0);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 4);
    ck_assert_uint_eq(m.pages_out, 2);
    ck_assert_int_eq(kmem_cache_free(slab_model_cache(sa, SLAB_DENTRY), d), 0);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.slab.cache.vm_area_struct.active_objs")),
                      23);
    slab_destroy(sa);
    ck_assert_uint_eq(m.pages_out, 0);
    stats_destroy(reg);
}
END_TEST

/* min_partial in action, kmalloc-4k (8 objects per order-3 slab, min_partial 6), ids 0..55 fill
 * slabs 1..7 in turn. Freeing ids 0, 8, 16, 24, 32, 40 moves slabs 1..6 from full to the
 * partial list's tail: 6 partial. Freeing all of slab 7 (ids 48..55): its first free makes it
 * partial (7), its last empties it while 7 >= 6 partial slabs exist: discarded, 6 slabs left
 * (192 kB). Emptying slab 1 (ids 1..7): 6 >= 6, discarded (160 kB). Emptying slab 2 (ids 9..15):
 * now 5 < 6, kept: still 160 kB, 5 slabs, 28 objects in use of 40. */
START_TEST(min_partial_discard)
{
    struct mock m;
    slab_allocator *sa = make(&m, 4, NULL);
    kmem_cache *s = kmem_cache_find(sa, "kmalloc-4k");
    for (uint64_t id = 0; id < 56; id++)
        ck_assert_int_eq(kmalloc_id(sa, id, 4096), 0);
    slab_meminfo mi;
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 7 * 32);
    for (uint64_t id = 0; id < 48; id += 8)
        ck_assert_int_eq(kfree_id(sa, id), 0);
    slabinfo si;
    kmem_cache_info(s, &si);
    ck_assert_uint_eq(si.nr_partial, 6);
    for (uint64_t id = 48; id < 56; id++)
        ck_assert_int_eq(kfree_id(sa, id), 0);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 6 * 32);
    for (uint64_t id = 1; id < 8; id++)
        ck_assert_int_eq(kfree_id(sa, id), 0);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 5 * 32);
    for (uint64_t id = 9; id < 16; id++)
        ck_assert_int_eq(kfree_id(sa, id), 0);
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.sunreclaim_kb, 5 * 32);
    kmem_cache_info(s, &si);
    ck_assert_uint_eq(si.num_slabs, 5);
    ck_assert_uint_eq(si.active_objs, 28);
    ck_assert_uint_eq(si.num_objs, 40);
    ck_assert_uint_eq(kmalloc_live(sa), 28);
    slab_destroy(sa);
    ck_assert_uint_eq(m.pages_out, 0);
}
END_TEST

/* allocate_slab: the preferred order (1 for kmalloc-512) is asked without __GFP_RECLAIM; when it
 * fails the minimum order (get_order(512) = 0, 8 objects) is asked with the full GFP_KERNEL, and
 * counted as ORDER_FALLBACK: 9 objects take 2 one-page slabs. A reclaimable cache's slabs are
 * asked with __GFP_RECLAIMABLE; at its minimum order the first try keeps __GFP_RECLAIM. With no
 * pages at all, allocations fail. */
START_TEST(order_fallback_and_gfp)
{
    struct mock m;
    stats_registry *reg = stats_create();
    slab_allocator *sa = make(&m, 4, reg);
    m.max_order = 0;
    kmem_cache *s = kmem_cache_find(sa, "kmalloc-512");
    for (int i = 0; i < 9; i++)
        ck_assert_uint_ne(kmem_cache_alloc(s), 0);
    slabinfo si;
    kmem_cache_info(s, &si);
    ck_assert_uint_eq(si.num_slabs, 2);
    ck_assert_uint_eq(si.num_objs, 16);
    ck_assert_uint_eq(si.pages, 2);
    ck_assert_uint_eq(m.nr_req, 4);
    ck_assert_uint_eq(m.req_order[0], 1);
    ck_assert_uint_eq(m.req_gfp[0], 0);
    ck_assert_uint_eq(m.req_order[1], 0);
    ck_assert_uint_eq(m.req_gfp[1], MM_GFP_KERNEL);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.slab.order_fallback")), 2);
    m.nr_req = 0;
    ck_assert_uint_ne(kmem_cache_alloc(slab_model_cache(sa, SLAB_DENTRY)), 0);
    ck_assert_uint_eq(m.nr_req, 1);
    ck_assert_uint_eq(m.req_gfp[0], MM_GFP_KERNEL | MM_GFP_RECLAIMABLE);

    m.max_order = -1;
    ck_assert_uint_eq(kmem_cache_alloc(slab_model_cache(sa, SLAB_TASK_STRUCT)), 0);
    ck_assert_int_eq(kmalloc_id(sa, 1, 100), -ENOMEM);
    ck_assert_int_eq(kmalloc_id(sa, 2, 100000), -ENOMEM);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.slab.alloc_failed")), 3);
    slab_destroy(sa);
    stats_destroy(reg);
}
END_TEST

/* The id interface: a live id cannot be allocated again, an unknown id cannot be freed, size 0 is
 * ZERO_SIZE_PTR (live, no memory), above KMALLOC_MAX_SIZE (4 MiB) fails; a stale handle is
 * refused. */
START_TEST(kmalloc_ids)
{
    struct mock m;
    slab_allocator *sa = make(&m, 4, NULL);
    ck_assert_int_eq(kmalloc_id(sa, 7, 100), 0);
    ck_assert_int_eq(kmalloc_id(sa, 7, 100), -EEXIST);
    ck_assert_int_eq(kfree_id(sa, 8), -ENOENT);
    ck_assert_int_eq(kmalloc_id(sa, 9, 0), 0);
    ck_assert_uint_eq(m.pages_out, 1);
    ck_assert_int_eq(kfree_id(sa, 9), 0);
    ck_assert_int_eq(kfree_id(sa, 9), -ENOENT);
    ck_assert_int_eq(kmalloc_id(sa, 10, (4u << 20) + 1), -ENOMEM);
    ck_assert_int_eq(kmalloc_id(sa, 10, 4u << 20), 0);
    ck_assert_uint_eq(m.pages_out, 1 + 1024);
    kmem_cache *vma = slab_model_cache(sa, SLAB_VM_AREA_STRUCT);
    slab_obj o = kmem_cache_alloc(vma);
    ck_assert_int_eq(kmem_cache_free(slab_model_cache(sa, SLAB_ANON_VMA), o), -EINVAL);
    ck_assert_int_eq(kmem_cache_free(vma, o), 0);
    ck_assert_uint_eq(kmem_cache_shrink(vma), 1);
    ck_assert_int_eq(kmem_cache_free(vma, o), -EINVAL); /* its slab is gone */
    ck_assert_int_eq(kmem_cache_free(vma, 0), -EINVAL);
    slab_destroy(sa); /* frees the live ids' memory too */
    ck_assert_uint_eq(m.pages_out, 0);
}
END_TEST

/* /proc/slabinfo: the 2.1 header, then the caches newest first (inode_cache ... kmalloc-8,
 * kmalloc-192, kmalloc-96 last, the order of the cited dump), each
 * "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu". */
START_TEST(slabinfo_text)
{
    struct mock m;
    slab_allocator *sa = make(&m, 4, NULL);
    kmem_cache_alloc(slab_model_cache(sa, SLAB_VM_AREA_STRUCT));
    kmem_cache_alloc(slab_model_cache(sa, SLAB_VM_AREA_STRUCT));
    char buf[8192];
    size_t n = slab_format_slabinfo(sa, buf, sizeof buf);
    ck_assert_uint_eq(n, strlen(buf));
    const char *head = "slabinfo - version: 2.1\n# name            <active_objs> <num_objs> "
                       "<objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> "
                       "<sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
                       "inode_cache            0      0    616   26    4 : tunables    0    0    "
                       "0 : slabdata      0      0      0\n";
    ck_assert_msg(!strncmp(buf, head, strlen(head)), "%s", buf);
    ck_assert_ptr_nonnull(strstr(buf, "\nvm_area_struct         2     23    176   23    1 : "
                                      "tunables    0    0    0 : slabdata      1      1      0\n"));
    const char *tail = "kmalloc-8              0      0      8  512    1 : tunables    0    0    "
                       "0 : slabdata      0      0      0\n"
                       "kmalloc-192            0      0    192   21    1 : tunables    0    0    "
                       "0 : slabdata      0      0      0\n"
                       "kmalloc-96             0      0     96   42    1 : tunables    0    0    "
                       "0 : slabdata      0      0      0\n";
    ck_assert_str_eq(buf + strlen(buf) - strlen(tail), tail);
    char small[16];
    ck_assert_uint_eq(slab_format_slabinfo(sa, small, sizeof small), n);
    ck_assert_uint_eq(strlen(small), 15);
    slab_destroy(sa);
}
END_TEST

/* Slabs from the real buddy allocator (64 MiB x86_64, per-CPU lists off so NR_FREE_PAGES moves
 * page for page): a dentry slab lands in a pageblock of the RECLAIMABLE migratetype (the first
 * reclaimable request steals a whole free pageblock), a vm_area_struct slab in an UNMOVABLE one;
 * the zone's free pages drop by exactly the slab pages and come back when the allocator goes. */
struct buddy_src {
    mm_phys *pm;
    uint64_t last_pfn;
};

static uint64_t buddy_alloc(void *ctx, unsigned gfp, unsigned order)
{
    struct buddy_src *b = ctx;
    uint64_t pfn = alloc_pages_node(b->pm, 0, gfp, order, 0, NULL);
    b->last_pfn = pfn;
    return pfn;
}

static void buddy_free(void *ctx, uint64_t pfn, unsigned order)
{
    struct buddy_src *b = ctx;
    mm_err err = {{0}};
    ck_assert_msg(buddy_free_pages(b->pm, pfn, order, 0, &err) == 0, "%s", err.msg);
}

START_TEST(with_buddy)
{
    mm_phys_config pc;
    mm_phys_config_init(&pc, MM_ARCH_X86_64, 64ull << 20, 4);
    pc.pcp_disabled = true;
    mm_err err = {{0}};
    mm_phys *pm = mm_phys_create(&pc, NULL, &err);
    ck_assert_msg(pm != NULL, "%s", err.msg);
    mm_zone *z = mm_node_zone(pm, 0, ZONE_DMA32);
    uint64_t free0 = zone_free_pages(z);
    struct buddy_src b = {pm, 0};
    slab_config cfg;
    slab_config_init(&cfg, 4);
    slab_frame_source src = {buddy_alloc, buddy_free, &b};
    slab_allocator *sa = slab_create(&cfg, &src, NULL, &err);
    ck_assert_msg(sa != NULL, "%s", err.msg);
    ck_assert_uint_ne(kmem_cache_alloc(slab_model_cache(sa, SLAB_DENTRY)), 0);
    ck_assert_int_eq(get_pageblock_migratetype(pm, b.last_pfn), MIGRATE_RECLAIMABLE);
    ck_assert_uint_ne(kmem_cache_alloc(slab_model_cache(sa, SLAB_VM_AREA_STRUCT)), 0);
    ck_assert_int_eq(get_pageblock_migratetype(pm, b.last_pfn), MIGRATE_UNMOVABLE);
    ck_assert_uint_ne(kmem_cache_alloc(slab_model_cache(sa, SLAB_TASK_STRUCT)), 0);
    ck_assert_uint_eq(free0 - zone_free_pages(z), 1 + 1 + 8);
    slab_meminfo mi;
    slab_get_meminfo(sa, &mi);
    ck_assert_uint_eq(mi.slab_kb, 40);
    slab_destroy(sa);
    ck_assert_uint_eq(zone_free_pages(z), free0);
    ck_assert_msg(buddy_check(pm, &err) == 0, "%s", err.msg);
    mm_phys_destroy(pm);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("slab");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, geometry_4_cpus);
    tcase_add_test(tc, geometry_other_cpus);
    tcase_add_test(tc, sizes_and_alignment);
    tcase_add_test(tc, kmalloc_classes);
    tcase_add_test(tc, meminfo_sequence);
    tcase_add_test(tc, min_partial_discard);
    tcase_add_test(tc, order_fallback_and_gfp);
    tcase_add_test(tc, kmalloc_ids);
    tcase_add_test(tc, slabinfo_text);
    tcase_add_test(tc, with_buddy);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
