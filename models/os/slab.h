/* The slab allocator of the kernel model (SLUB), modelled on Linux v6.12 mm/slub.c
 * (calculate_sizes, calculate_order / calc_slab_order as reworked in v6.8, set_min_partial,
 * allocate_slab with its order fallback, __slab_free, discard_slab, __kmem_cache_do_shrink,
 * get_slabinfo) and mm/slab_common.c (calculate_alignment, create_kmalloc_caches,
 * kmalloc_size_index / __kmalloc_index, __kmalloc_large_node, cache_show).
 *
 * Caches hand out objects from slabs of 2^order frames taken from a frame source (the facade
 * passes the buddy allocator); a slab's pages count in NR_SLAB_RECLAIMABLE_B when the cache has
 * SLAB_RECLAIM_ACCOUNT, else in NR_SLAB_UNRECLAIMABLE_B, as do the pages of kmalloc requests
 * larger than KMALLOC_MAX_CACHE_SIZE (8 KiB). Each cache has a partial list (slabs with free
 * objects, allocation from its head, slabs that were full go to its tail) and a full list; a slab
 * that empties is freed when the partial list already holds min_partial slabs, else kept.
 *
 * Not modelled: per-CPU slabs and per-CPU partial lists (the slab at the head of the partial list
 * plays the CPU slab; so /proc/slabinfo's active_objs is the exact number of objects in use,
 * where SLUB counts the free objects of CPU slabs as active), NUMA nodes (one node), cache
 * merging (aliases), debugging, memcg accounting (kmalloc-cg-*), kmalloc-rcl-* and dma-kmalloc-*,
 * the kmalloc random caches of CONFIG_RANDOM_KMALLOC_CACHES, sheaves. */
#ifndef MMUSIM_OS_SLAB_H
#define MMUSIM_OS_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"

/* kmem_cache_create() flags, Linux's values */
#define SLAB_HWCACHE_ALIGN 0x00002000u   /* align objects on cache lines */
#define SLAB_RECLAIM_ACCOUNT 0x00020000u /* pages count as SReclaimable; __GFP_RECLAIMABLE */
#define SLAB_TYPESAFE_BY_RCU 0x00080000u /* the free pointer lives after the object */
#define SLAB_HAS_CTOR 0x80000000u        /* the model's stand-in for a constructor (same effect) */

#define KMALLOC_MAX_CACHE_SIZE 8192u                  /* 2 * PAGE_SIZE with SLUB */
#define KMALLOC_MAX_SIZE (1ull << (10 + 12))          /* MAX_PAGE_ORDER 10 pages */

/* Where slabs come from: alloc_pages returns the first pfn of 2^order frames or MM_PFN_NONE
 * (zone.h); gfp is made of the MM_GFP_* bits of buddy.h (MM_GFP_KERNEL, | MM_GFP_RECLAIMABLE
 * for SLAB_RECLAIM_ACCOUNT caches; the first try at an order above the cache's minimum goes
 * without MM_GFP_KSWAPD_RECLAIM / MM_GFP_DIRECT_RECLAIM, as allocate_slab strips __GFP_RECLAIM). */
typedef struct slab_frame_source {
    uint64_t (*alloc_pages)(void *ctx, unsigned gfp, unsigned order);
    void (*free_pages)(void *ctx, uint64_t pfn, unsigned order);
    void *ctx;
} slab_frame_source;

typedef struct slab_config {
    unsigned nr_cpus;          /* num_present_cpus() */
    unsigned nr_cpu_ids;       /* possible CPUs; used by calculate_order when nr_cpus <= 1 */
    unsigned slub_min_order;   /* slab_min_order= : 0 */
    unsigned slub_max_order;   /* slab_max_order= : PAGE_ALLOC_COSTLY_ORDER = 3 */
    unsigned slub_min_objects; /* slab_min_objects= : 0, i.e. 4 * (fls(nr_cpus) + 1) */
    unsigned max_page_order;   /* MAX_PAGE_ORDER: 10 */
    unsigned cache_line_size;  /* 64 */
} slab_config;

void slab_config_init(slab_config *cfg, unsigned nr_cpus);

typedef struct slab_allocator slab_allocator;
typedef struct kmem_cache kmem_cache;

/* Creates the kmalloc caches (kmalloc-96, kmalloc-192, then kmalloc-8 .. kmalloc-8k, the order
 * of create_kmalloc_caches) and the model's own caches (below). Registers under "os.slab" when
 * reg is non-NULL: gauges slab_kb, sreclaimable_kb, sunreclaim_kb; counters alloc, free,
 * slabs_allocated, slabs_freed, order_fallback, alloc_failed, kmalloc_large; per cache
 * os.slab.cache.<name>.{active_objs,num_objs,slabs}. */
slab_allocator *slab_create(const slab_config *cfg, const slab_frame_source *src,
                            stats_registry *reg, mm_err *err);
/* Gives every slab page back to the frame source. */
void slab_destroy(slab_allocator *sa);

/* The kernel objects the model allocates. Sizes are the slot sizes (s->size, the objsize column)
 * of /proc/slabinfo of a v6.11-v6.14 x86_64 kernel as published in the repository
 * Frodo-Web/eBPF, Knowledges/Memory.md (kmalloc_buckets present, so v6.11+; vma_lock still a
 * cache of its own, so before v6.15): mm_struct 1408, vm_area_struct 176, maple_node 256,
 * task_struct 6656, anon_vma 104, anon_vma_chain 64, radix_tree_node 584, dentry 192,
 * inode_cache 616. radix_tree_node (the page cache's xarray nodes), dentry and inode_cache are
 * SLAB_RECLAIM_ACCOUNT (SReclaimable), as in Linux; the others are unreclaimable. */
enum slab_model_cache {
    SLAB_MM_STRUCT,
    SLAB_VM_AREA_STRUCT,
    SLAB_MAPLE_NODE,
    SLAB_TASK_STRUCT,
    SLAB_ANON_VMA,
    SLAB_ANON_VMA_CHAIN,
    SLAB_RADIX_TREE_NODE,
    SLAB_DENTRY,
    SLAB_INODE_CACHE,
    SLAB_NR_MODEL_CACHES
};
kmem_cache *slab_model_cache(slab_allocator *sa, enum slab_model_cache which);

/* kmem_cache_create(): object_size bytes aligned to align (0: none beyond the word) with
 * SLAB_* flags. NULL with err set when the size cannot be placed (above MAX_PAGE_ORDER pages) or
 * the name is taken. */
kmem_cache *kmem_cache_create(slab_allocator *sa, const char *name, unsigned object_size,
                              unsigned align, unsigned flags, mm_err *err);
kmem_cache *kmem_cache_find(slab_allocator *sa, const char *name);

/* An object: an opaque non-zero handle (slab and generation). 0 means the allocation failed (the
 * frame source had no pages). */
typedef uint64_t slab_obj;
slab_obj kmem_cache_alloc(kmem_cache *s);
/* Returns -EINVAL for a handle that is not a live object of s. */
int kmem_cache_free(kmem_cache *s, slab_obj obj);
/* __kmem_cache_do_shrink(): frees every empty slab; returns the pages freed. */
uint64_t kmem_cache_shrink(kmem_cache *s);
uint64_t slab_shrink_all(slab_allocator *sa);

/* kmalloc_slab(): the cache a request of size bytes uses (kmalloc-8 .. kmalloc-8k via the
 * size_index table up to 192 bytes, fls() above); NULL for 0 bytes and above 8 KiB. */
kmem_cache *kmalloc_slab(slab_allocator *sa, size_t size);
/* The KMALLOC / KFREE trace events: object ids name allocations. kmalloc_id returns 0, -EEXIST
 * for an id that is live, -ENOMEM when there are no pages (or size > KMALLOC_MAX_SIZE). Size 0
 * gives ZERO_SIZE_PTR: the id is live and holds no memory. Above 8 KiB the pages come straight
 * from the frame source (order get_order(size), unreclaimable slab memory, as
 * __kmalloc_large_node). kfree_id returns 0 or -ENOENT. */
int kmalloc_id(slab_allocator *sa, uint64_t id, size_t size);
int kfree_id(slab_allocator *sa, uint64_t id);
size_t kmalloc_live(const slab_allocator *sa); /* ids allocated and not freed */

/* Per-cache facts. */
const char *kmem_cache_name(const kmem_cache *s);
unsigned kmem_cache_size(const kmem_cache *s);        /* s->size: the slot */
unsigned kmem_cache_object_size(const kmem_cache *s); /* s->object_size */
unsigned kmem_cache_align(const kmem_cache *s);
unsigned kmem_cache_order(const kmem_cache *s);       /* oo_order(s->oo) */
unsigned kmem_cache_objects(const kmem_cache *s);     /* oo_objects(s->oo) */
unsigned kmem_cache_min_partial(const kmem_cache *s);
bool kmem_cache_reclaimable(const kmem_cache *s);

typedef struct slabinfo {
    uint64_t active_objs, num_objs, active_slabs, num_slabs, nr_partial, pages;
    unsigned objsize, objperslab, pagesperslab;
} slabinfo;
void kmem_cache_info(const kmem_cache *s, slabinfo *out);

/* /proc/meminfo's Slab, SReclaimable, SUnreclaim lines, in kB. */
typedef struct slab_meminfo {
    uint64_t slab_kb, sreclaimable_kb, sunreclaim_kb;
} slab_meminfo;
void slab_get_meminfo(const slab_allocator *sa, slab_meminfo *out);

/* /proc/slabinfo (version 2.1), newest cache first as the kernel lists them; returns the length
 * needed, snprintf-style. */
size_t slab_format_slabinfo(const slab_allocator *sa, char *buf, size_t len);

/* calculate_order() alone, for a slot size and the config's CPUs: the slab order. */
int slab_calculate_order(const slab_config *cfg, unsigned size);

#endif
