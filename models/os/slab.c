/* The SLUB model, written from an understanding of Linux v6.12 mm/slub.c and mm/slab_common.c
 * (see slab.h); each function names the kernel function it mirrors. */
#include "models/os/slab.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "models/os/buddy.h"
#include "models/os/idmap.h"
#include "models/os/zone.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1u << PAGE_SHIFT)
#define MAX_OBJS_PER_PAGE 32767u /* oo_objects() has 15 bits */
#define MIN_PARTIAL 5
#define MAX_PARTIAL 10
#define ARCH_KMALLOC_MINALIGN 8u
#define ARCH_SLAB_MINALIGN 8u
#define NIL 0u
#define GEN_MASK 0x3fffffffu

enum { LIST_NONE, LIST_PARTIAL, LIST_FULL };

struct slab {
    uint64_t pfn;
    uint32_t cache;     /* index in sa->caches */
    uint32_t gen;       /* bumped each time the slot is reused */
    uint32_t prev, next;
    uint16_t objects, inuse;
    uint8_t order, list;
};

struct kmem_cache {
    struct slab_allocator *sa;
    uint32_t index;
    char name[32];
    unsigned object_size, size, align, offset, flags;
    unsigned order, objects;         /* s->oo */
    unsigned min_order, min_objects; /* s->min */
    unsigned min_partial;
    uint32_t partial_head, partial_tail, full_head;
    uint64_t nr_partial, nr_slabs, total_objects, inuse, pages;
    char prefix[64];
};

struct slab_allocator {
    slab_config cfg;
    slab_frame_source src;
    stats_registry *reg;
    struct kmem_cache **caches;
    size_t nr_caches, cap_caches;
    struct kmem_cache *kmalloc[14]; /* kmalloc_caches[KMALLOC_NORMAL][index] */
    struct kmem_cache *model[SLAB_NR_MODEL_CACHES];
    struct slab *slabs; /* [0] is nil */
    uint32_t nr_slots, cap_slots, free_slot;
    idmap ids;
    uint64_t reclaimable_pages, unreclaimable_pages, large_pages;
    uint64_t c_alloc, c_free, c_slab_alloc, c_slab_free, c_fallback, c_failed, c_large;
};

/* ------------------------------------------------------------------------------------------ */
/* sizes and orders                                                                             */

static unsigned fls_u(unsigned x)
{
    return x ? 32u - (unsigned)__builtin_clz(x) : 0;
}

/* get_order(): the smallest order whose block holds size bytes */
static unsigned get_order(uint64_t size)
{
    unsigned order = 0;
    while (((uint64_t)PAGE_SIZE << order) < size)
        order++;
    return order;
}

static unsigned order_objects(unsigned order, unsigned size)
{
    return (unsigned)(((uint64_t)PAGE_SIZE << order) / size);
}

/* calc_slab_order() (v6.8+): the smallest order in [min_order, max_order] whose leftover is at
 * most 1/fract_leftover of the slab */
static unsigned calc_slab_order(unsigned size, unsigned min_order, unsigned max_order,
                                unsigned fract_leftover)
{
    unsigned order;
    for (order = min_order; order <= max_order; order++) {
        unsigned slab_size = PAGE_SIZE << order;
        unsigned rem = slab_size % size;
        if (rem <= slab_size / fract_leftover)
            break;
    }
    return order;
}

/* calculate_order() (v6.8+) */
int slab_calculate_order(const slab_config *cfg, unsigned size)
{
    unsigned min_objects = cfg->slub_min_objects;
    if (!min_objects) {
        /* don't trust a present-CPU count of 1: use the possible CPUs then */
        unsigned nr_cpus = cfg->nr_cpus;
        if (nr_cpus <= 1)
            nr_cpus = cfg->nr_cpu_ids;
        min_objects = 4 * (fls_u(nr_cpus) + 1);
    }
    unsigned max_objects = order_objects(cfg->slub_max_order, size);
    if (max_objects < 1)
        max_objects = 1;
    if (min_objects > max_objects)
        min_objects = max_objects;
    unsigned min_order = get_order((uint64_t)min_objects * size);
    if (min_order < cfg->slub_min_order)
        min_order = cfg->slub_min_order;
    if (order_objects(min_order, size) > MAX_OBJS_PER_PAGE)
        return (int)get_order((uint64_t)size * MAX_OBJS_PER_PAGE) - 1;
    /* accept at most 1/16 waste first, then 1/8, 1/4, 1/2 */
    for (unsigned fraction = 16; fraction > 1; fraction /= 2) {
        unsigned order = calc_slab_order(size, min_order, cfg->slub_max_order, fraction);
        if (order <= cfg->slub_max_order)
            return (int)order;
    }
    /* cannot be placed within slub_max_order: one object per slab */
    unsigned order = get_order(size);
    if (order <= cfg->max_page_order)
        return (int)order;
    return -ENOSYS;
}

/* calculate_alignment() of mm/slab_common.c */
static unsigned calculate_alignment(const slab_config *cfg, unsigned flags, unsigned align,
                                    unsigned size)
{
    if (flags & SLAB_HWCACHE_ALIGN) {
        unsigned ralign = cfg->cache_line_size;
        while (size <= ralign / 2)
            ralign /= 2;
        if (ralign > align)
            align = ralign;
    }
    if (align < ARCH_SLAB_MINALIGN)
        align = ARCH_SLAB_MINALIGN;
    return (align + 7u) & ~7u;
}

/* calculate_sizes(): the slot (object rounded to a word, plus the free pointer when it cannot
 * live inside the object, rounded to the alignment) and the orders */
static bool calculate_sizes(struct kmem_cache *s)
{
    unsigned size = (s->object_size + 7u) & ~7u;
    if ((s->flags & SLAB_TYPESAFE_BY_RCU) || (s->flags & SLAB_HAS_CTOR)) {
        s->offset = size;
        size += 8;
    } else {
        s->offset = (s->object_size / 2) & ~7u;
    }
    size = (size + s->align - 1) / s->align * s->align;
    s->size = size;
    int order = slab_calculate_order(&s->sa->cfg, size);
    if (order < 0)
        return false;
    s->order = (unsigned)order;
    s->objects = order_objects(s->order, size);
    s->min_order = get_order(size);
    s->min_objects = order_objects(s->min_order, size);
    return s->objects > 0;
}

/* set_min_partial(s, ilog2(s->size) / 2) */
static void set_min_partial(struct kmem_cache *s)
{
    unsigned m = (fls_u(s->size) - 1) / 2;
    if (m > MAX_PARTIAL)
        m = MAX_PARTIAL;
    if (m < MIN_PARTIAL)
        m = MIN_PARTIAL;
    s->min_partial = m;
}

/* ------------------------------------------------------------------------------------------ */
/* slabs                                                                                        */

#define SL(sa, i) ((sa)->slabs[(i)])

static uint32_t slot_alloc(struct slab_allocator *sa)
{
    if (sa->free_slot) {
        uint32_t i = sa->free_slot;
        sa->free_slot = SL(sa, i).next;
        return i;
    }
    if (sa->nr_slots == sa->cap_slots) {
        sa->cap_slots = sa->cap_slots ? sa->cap_slots * 2 : 64;
        sa->slabs = xrealloc(sa->slabs, (size_t)sa->cap_slots * sizeof *sa->slabs);
    }
    uint32_t i = sa->nr_slots++;
    SL(sa, i).gen = 0;
    return i;
}

static void slot_release(struct slab_allocator *sa, uint32_t i)
{
    SL(sa, i).gen = (SL(sa, i).gen + 1) & GEN_MASK;
    SL(sa, i).list = LIST_NONE;
    SL(sa, i).next = sa->free_slot;
    sa->free_slot = i;
}

static void list_del(struct kmem_cache *s, uint32_t i)
{
    struct slab_allocator *sa = s->sa;
    struct slab *sl = &SL(sa, i);
    if (sl->prev)
        SL(sa, sl->prev).next = sl->next;
    else if (sl->list == LIST_PARTIAL)
        s->partial_head = sl->next;
    else
        s->full_head = sl->next;
    if (sl->next)
        SL(sa, sl->next).prev = sl->prev;
    else if (sl->list == LIST_PARTIAL)
        s->partial_tail = sl->prev;
    if (sl->list == LIST_PARTIAL)
        s->nr_partial--;
    sl->prev = sl->next = NIL;
    sl->list = LIST_NONE;
}

/* add_partial(): DEACTIVATE_TO_HEAD or DEACTIVATE_TO_TAIL */
static void add_partial(struct kmem_cache *s, uint32_t i, bool tail)
{
    struct slab_allocator *sa = s->sa;
    struct slab *sl = &SL(sa, i);
    sl->list = LIST_PARTIAL;
    if (tail) {
        sl->prev = s->partial_tail;
        sl->next = NIL;
        if (s->partial_tail)
            SL(sa, s->partial_tail).next = i;
        else
            s->partial_head = i;
        s->partial_tail = i;
    } else {
        sl->prev = NIL;
        sl->next = s->partial_head;
        if (s->partial_head)
            SL(sa, s->partial_head).prev = i;
        else
            s->partial_tail = i;
        s->partial_head = i;
    }
    s->nr_partial++;
}

static void add_full(struct kmem_cache *s, uint32_t i)
{
    struct slab_allocator *sa = s->sa;
    struct slab *sl = &SL(sa, i);
    sl->list = LIST_FULL;
    sl->prev = NIL;
    sl->next = s->full_head;
    if (s->full_head)
        SL(sa, s->full_head).prev = i;
    s->full_head = i;
}

static void account_pages(struct kmem_cache *s, int64_t pages)
{
    struct slab_allocator *sa = s->sa;
    s->pages += (uint64_t)pages;
    if (s->flags & SLAB_RECLAIM_ACCOUNT)
        sa->reclaimable_pages += (uint64_t)pages;
    else
        sa->unreclaimable_pages += (uint64_t)pages;
}

/* allocate_slab(): the cache's order without reclaim first, then its minimum order with the
 * full gfp (ORDER_FALLBACK) */
static uint32_t allocate_slab(struct kmem_cache *s)
{
    struct slab_allocator *sa = s->sa;
    unsigned gfp = MM_GFP_KERNEL | ((s->flags & SLAB_RECLAIM_ACCOUNT) ? MM_GFP_RECLAIMABLE : 0);
    unsigned alloc_gfp = gfp, order = s->order, objects = s->objects;
    if (order > s->min_order)
        alloc_gfp &= ~(unsigned)(MM_GFP_KSWAPD_RECLAIM | MM_GFP_DIRECT_RECLAIM);
    uint64_t pfn = sa->src.alloc_pages(sa->src.ctx, alloc_gfp, order);
    if (pfn == MM_PFN_NONE) {
        order = s->min_order;
        objects = s->min_objects;
        pfn = sa->src.alloc_pages(sa->src.ctx, gfp, order);
        if (pfn == MM_PFN_NONE)
            return NIL;
        sa->c_fallback++;
    }
    uint32_t i = slot_alloc(sa);
    struct slab *sl = &SL(sa, i);
    sl->pfn = pfn;
    sl->cache = s->index;
    sl->prev = sl->next = NIL;
    sl->objects = (uint16_t)objects;
    sl->inuse = 0;
    sl->order = (uint8_t)order;
    sl->list = LIST_NONE;
    s->nr_slabs++;
    s->total_objects += objects;
    account_pages(s, (int64_t)1 << order);
    sa->c_slab_alloc++;
    return i;
}

/* discard_slab() -> free_slab() */
static void discard_slab(struct kmem_cache *s, uint32_t i)
{
    struct slab_allocator *sa = s->sa;
    struct slab *sl = &SL(sa, i);
    sa->src.free_pages(sa->src.ctx, sl->pfn, sl->order);
    s->nr_slabs--;
    s->total_objects -= sl->objects;
    account_pages(s, -((int64_t)1 << sl->order));
    sa->c_slab_free++;
    slot_release(sa, i);
}

static slab_obj make_handle(const struct slab_allocator *sa, uint32_t i)
{
    return ((uint64_t)SL(sa, i).gen << 32) | i;
}

slab_obj kmem_cache_alloc(kmem_cache *s)
{
    struct slab_allocator *sa = s->sa;
    uint32_t i = s->partial_head; /* get_partial_node(): the list's head */
    if (!i) {
        i = allocate_slab(s);
        if (!i) {
            sa->c_failed++;
            return 0;
        }
        add_partial(s, i, false);
    }
    struct slab *sl = &SL(sa, i);
    sl->inuse++;
    s->inuse++;
    if (sl->inuse == sl->objects) {
        list_del(s, i);
        add_full(s, i);
    }
    sa->c_alloc++;
    return make_handle(sa, i);
}

/* __slab_free(): a slab that was full goes to the partial list's tail; one that empties is freed
 * when the node already has min_partial partial slabs */
int kmem_cache_free(kmem_cache *s, slab_obj obj)
{
    struct slab_allocator *sa = s->sa;
    uint32_t i = (uint32_t)obj, gen = (uint32_t)(obj >> 32);
    if (!i || i >= sa->nr_slots)
        return -EINVAL;
    struct slab *sl = &SL(sa, i);
    if (sl->list == LIST_NONE || sl->gen != gen || sl->cache != s->index || !sl->inuse)
        return -EINVAL;
    bool was_full = sl->list == LIST_FULL;
    sl->inuse--;
    s->inuse--;
    sa->c_free++;
    if (!sl->inuse && s->nr_partial >= s->min_partial) {
        list_del(s, i);
        discard_slab(s, i);
        return 0;
    }
    if (was_full) {
        list_del(s, i);
        add_partial(s, i, true);
    }
    return 0;
}

uint64_t kmem_cache_shrink(kmem_cache *s)
{
    uint64_t freed = 0;
    for (uint32_t i = s->partial_head; i;) {
        uint32_t next = SL(s->sa, i).next;
        if (!SL(s->sa, i).inuse) {
            freed += 1ull << SL(s->sa, i).order;
            list_del(s, i);
            discard_slab(s, i);
        }
        i = next;
    }
    return freed;
}

uint64_t slab_shrink_all(slab_allocator *sa)
{
    uint64_t freed = 0;
    for (size_t c = 0; c < sa->nr_caches; c++)
        freed += kmem_cache_shrink(sa->caches[c]);
    return freed;
}

/* ------------------------------------------------------------------------------------------ */
/* caches                                                                                       */

static uint64_t g_active(const void *ctx)
{
    return ((const struct kmem_cache *)ctx)->inuse;
}

static uint64_t g_num(const void *ctx)
{
    return ((const struct kmem_cache *)ctx)->total_objects;
}

static uint64_t g_slabs(const void *ctx)
{
    return ((const struct kmem_cache *)ctx)->nr_slabs;
}

kmem_cache *kmem_cache_find(slab_allocator *sa, const char *name)
{
    for (size_t c = 0; c < sa->nr_caches; c++)
        if (!strcmp(sa->caches[c]->name, name))
            return sa->caches[c];
    return NULL;
}

/* __kmem_cache_create() with a given final alignment */
static struct kmem_cache *cache_new(struct slab_allocator *sa, const char *name,
                                    unsigned object_size, unsigned align, unsigned flags,
                                    mm_err *err)
{
    if (!name || !*name || strlen(name) >= sizeof ((struct kmem_cache *)0)->name) {
        mm_errf(err, "kmem_cache_create: a cache needs a name of at most 31 characters");
        return NULL;
    }
    if (kmem_cache_find(sa, name)) {
        mm_errf(err, "kmem_cache_create(%s): the name is taken", name);
        return NULL;
    }
    if (!object_size || object_size > KMALLOC_MAX_SIZE) {
        mm_errf(err, "kmem_cache_create(%s): object size %u outside 1..%llu", name, object_size,
                (unsigned long long)KMALLOC_MAX_SIZE);
        return NULL;
    }
    if (align & (align - 1)) {
        mm_errf(err, "kmem_cache_create(%s): alignment %u is not a power of two", name, align);
        return NULL;
    }
    struct kmem_cache *s = xcalloc(1, sizeof *s);
    s->sa = sa;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->object_size = object_size;
    s->flags = flags;
    s->align = align;
    if (!calculate_sizes(s)) {
        mm_errf(err, "kmem_cache_create(%s): %u-byte objects cannot be placed in a slab", name,
                object_size);
        free(s);
        return NULL;
    }
    set_min_partial(s);
    if (sa->nr_caches == sa->cap_caches) {
        sa->cap_caches = sa->cap_caches ? sa->cap_caches * 2 : 32;
        sa->caches = xrealloc(sa->caches, sa->cap_caches * sizeof *sa->caches);
    }
    s->index = (uint32_t)sa->nr_caches;
    sa->caches[sa->nr_caches++] = s;
    if (sa->reg) {
        snprintf(s->prefix, sizeof s->prefix, "os.slab.cache.%s", s->name);
        stats_gauge(sa->reg, s->prefix, "active_objs", g_active, s, "objects in use");
        stats_gauge(sa->reg, s->prefix, "num_objs", g_num, s, "objects the cache's slabs hold");
        stats_gauge(sa->reg, s->prefix, "slabs", g_slabs, s, "slabs of the cache");
    }
    return s;
}

kmem_cache *kmem_cache_create(slab_allocator *sa, const char *name, unsigned object_size,
                              unsigned align, unsigned flags, mm_err *err)
{
    unsigned a = calculate_alignment(&sa->cfg, flags, align, object_size);
    return cache_new(sa, name, object_size, a, flags, err);
}

/* create_kmalloc_cache() -> create_boot_cache(): power-of-two sizes are naturally aligned */
static struct kmem_cache *new_kmalloc_cache(struct slab_allocator *sa, unsigned idx)
{
    static const char *const names[14] = {NULL, "kmalloc-96", "kmalloc-192", "kmalloc-8",
                                          "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-128",
                                          "kmalloc-256", "kmalloc-512", "kmalloc-1k",
                                          "kmalloc-2k", "kmalloc-4k", "kmalloc-8k"};
    unsigned size = idx == 1 ? 96 : idx == 2 ? 192 : 1u << idx;
    unsigned align = ARCH_KMALLOC_MINALIGN;
    if (!(size & (size - 1)) && size > align)
        align = size;
    align = calculate_alignment(&sa->cfg, 0, align, size);
    struct kmem_cache *s = cache_new(sa, names[idx], size, align, 0, NULL);
    sa->kmalloc[idx] = s;
    return s;
}

/* __kmalloc_index() / kmalloc_size_index: sizes up to 192 through size_index[], fls() above */
static unsigned kmalloc_index(size_t size)
{
    static const uint8_t size_index[24] = {3, 4, 5, 5, 6, 6, 6, 6, 1, 1, 1, 1,
                                           7, 7, 7, 7, 2, 2, 2, 2, 2, 2, 2, 2};
    if (size <= 192)
        return size_index[(size - 1) / 8];
    return fls_u((unsigned)(size - 1));
}

kmem_cache *kmalloc_slab(slab_allocator *sa, size_t size)
{
    if (!size || size > KMALLOC_MAX_CACHE_SIZE)
        return NULL;
    return sa->kmalloc[kmalloc_index(size)];
}

void slab_config_init(slab_config *cfg, unsigned nr_cpus)
{
    cfg->nr_cpus = nr_cpus;
    cfg->nr_cpu_ids = nr_cpus;
    cfg->slub_min_order = 0;
    cfg->slub_max_order = 3; /* PAGE_ALLOC_COSTLY_ORDER */
    cfg->slub_min_objects = 0;
    cfg->max_page_order = 10;
    cfg->cache_line_size = 64;
}

static uint64_t g_slab_kb(const void *ctx)
{
    slab_meminfo m;
    slab_get_meminfo(ctx, &m);
    return m.slab_kb;
}

static uint64_t g_srec_kb(const void *ctx)
{
    slab_meminfo m;
    slab_get_meminfo(ctx, &m);
    return m.sreclaimable_kb;
}

static uint64_t g_sunrec_kb(const void *ctx)
{
    slab_meminfo m;
    slab_get_meminfo(ctx, &m);
    return m.sunreclaim_kb;
}

slab_allocator *slab_create(const slab_config *cfg, const slab_frame_source *src,
                            stats_registry *reg, mm_err *err)
{
    if (!src || !src->alloc_pages || !src->free_pages) {
        mm_errf(err, "slab: a frame source with alloc_pages and free_pages is required");
        return NULL;
    }
    if (cfg->slub_max_order > cfg->max_page_order || cfg->slub_min_order > cfg->slub_max_order ||
        !cfg->cache_line_size || (cfg->cache_line_size & (cfg->cache_line_size - 1))) {
        mm_errf(err, "slab: need slub_min_order <= slub_max_order <= max_page_order and a "
                     "power-of-two cache line");
        return NULL;
    }
    struct slab_allocator *sa = xcalloc(1, sizeof *sa);
    sa->cfg = *cfg;
    if (!sa->cfg.nr_cpu_ids)
        sa->cfg.nr_cpu_ids = sa->cfg.nr_cpus ? sa->cfg.nr_cpus : 1;
    sa->src = *src;
    sa->reg = reg;
    sa->nr_slots = 1; /* slot 0 is nil */
    sa->cap_slots = 64;
    sa->slabs = xcalloc(sa->cap_slots, sizeof *sa->slabs);
    idmap_init(&sa->ids);
    if (reg) {
        stats_gauge(reg, "os.slab", "slab_kb", g_slab_kb, sa, "Slab: slab memory, kB");
        stats_gauge(reg, "os.slab", "sreclaimable_kb", g_srec_kb, sa,
                    "SReclaimable: slab memory of SLAB_RECLAIM_ACCOUNT caches, kB");
        stats_gauge(reg, "os.slab", "sunreclaim_kb", g_sunrec_kb, sa,
                    "SUnreclaim: other slab memory and large kmalloc pages, kB");
        stats_counter(reg, "os.slab", "alloc", &sa->c_alloc, "objects allocated");
        stats_counter(reg, "os.slab", "free", &sa->c_free, "objects freed");
        stats_counter(reg, "os.slab", "slabs_allocated", &sa->c_slab_alloc,
                      "slabs taken from the frame source");
        stats_counter(reg, "os.slab", "slabs_freed", &sa->c_slab_free,
                      "slabs given back to the frame source");
        stats_counter(reg, "os.slab", "order_fallback", &sa->c_fallback,
                      "slabs allocated at the minimum order after the preferred one failed");
        stats_counter(reg, "os.slab", "alloc_failed", &sa->c_failed,
                      "allocations that found no pages");
        stats_counter(reg, "os.slab", "kmalloc_large", &sa->c_large,
                      "kmalloc requests above 8 KiB served by the page allocator");
    }
    /* create_kmalloc_caches(): kmalloc-96 and kmalloc-192, then the powers of two */
    new_kmalloc_cache(sa, 1);
    new_kmalloc_cache(sa, 2);
    for (unsigned i = 3; i <= 13; i++)
        new_kmalloc_cache(sa, i);
    static const struct {
        const char *name;
        unsigned size, flags;
    } model[SLAB_NR_MODEL_CACHES] = {
        [SLAB_MM_STRUCT] = {"mm_struct", 1408, 0},
        [SLAB_VM_AREA_STRUCT] = {"vm_area_struct", 176, 0},
        [SLAB_MAPLE_NODE] = {"maple_node", 256, 0},
        [SLAB_TASK_STRUCT] = {"task_struct", 6656, 0},
        [SLAB_ANON_VMA] = {"anon_vma", 104, 0},
        [SLAB_ANON_VMA_CHAIN] = {"anon_vma_chain", 64, 0},
        [SLAB_RADIX_TREE_NODE] = {"radix_tree_node", 584, SLAB_RECLAIM_ACCOUNT},
        [SLAB_DENTRY] = {"dentry", 192, SLAB_RECLAIM_ACCOUNT},
        [SLAB_INODE_CACHE] = {"inode_cache", 616, SLAB_RECLAIM_ACCOUNT},
    };
    for (int i = 0; i < SLAB_NR_MODEL_CACHES; i++) {
        sa->model[i] = kmem_cache_create(sa, model[i].name, model[i].size, 0, model[i].flags,
                                         err);
        if (!sa->model[i]) {
            slab_destroy(sa);
            return NULL;
        }
    }
    return sa;
}

void slab_destroy(slab_allocator *sa)
{
    if (!sa)
        return;
    for (size_t i = 0; i < sa->ids.cap; i++) {
        if (!sa->ids.used[i])
            continue;
        uint64_t v = sa->ids.vals[i];
        if ((v >> 62) == 2)
            sa->src.free_pages(sa->src.ctx, v & ((1ull << 56) - 1), (unsigned)((v >> 56) & 63));
    }
    for (size_t c = 0; c < sa->nr_caches; c++) {
        struct kmem_cache *s = sa->caches[c];
        uint32_t heads[2] = {s->partial_head, s->full_head};
        for (int h = 0; h < 2; h++)
            for (uint32_t i = heads[h]; i; i = SL(sa, i).next)
                sa->src.free_pages(sa->src.ctx, SL(sa, i).pfn, SL(sa, i).order);
        free(s);
    }
    idmap_free(&sa->ids);
    free(sa->caches);
    free(sa->slabs);
    free(sa);
}

kmem_cache *slab_model_cache(slab_allocator *sa, enum slab_model_cache which)
{
    return (unsigned)which < SLAB_NR_MODEL_CACHES ? sa->model[which] : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* kmalloc by object id                                                                         */

/* the id map's values: tag in the top two bits */
#define TAG_OBJ 1ull
#define TAG_LARGE 2ull
#define TAG_ZERO 3ull

int kmalloc_id(slab_allocator *sa, uint64_t id, size_t size)
{
    if (idmap_get(&sa->ids, id, NULL))
        return -EEXIST;
    if (!size) { /* ZERO_SIZE_PTR */
        idmap_put(&sa->ids, id, TAG_ZERO << 62);
        return 0;
    }
    if (size > KMALLOC_MAX_SIZE) {
        sa->c_failed++;
        return -ENOMEM;
    }
    if (size > KMALLOC_MAX_CACHE_SIZE) {
        /* __kmalloc_large_node(): pages straight from the page allocator, counted as
         * unreclaimable slab memory */
        unsigned order = get_order(size);
        uint64_t pfn = sa->src.alloc_pages(sa->src.ctx, MM_GFP_KERNEL, order);
        if (pfn == MM_PFN_NONE) {
            sa->c_failed++;
            return -ENOMEM;
        }
        sa->large_pages += 1ull << order;
        sa->c_large++;
        idmap_put(&sa->ids, id, (TAG_LARGE << 62) | ((uint64_t)order << 56) | pfn);
        return 0;
    }
    slab_obj o = kmem_cache_alloc(kmalloc_slab(sa, size));
    if (!o)
        return -ENOMEM;
    idmap_put(&sa->ids, id, (TAG_OBJ << 62) | o);
    return 0;
}

int kfree_id(slab_allocator *sa, uint64_t id)
{
    uint64_t v;
    if (!idmap_del(&sa->ids, id, &v))
        return -ENOENT;
    switch (v >> 62) {
    case TAG_OBJ: {
        slab_obj o = v & ~(3ull << 62);
        uint32_t i = (uint32_t)o;
        return kmem_cache_free(sa->caches[SL(sa, i).cache], o);
    }
    case TAG_LARGE: {
        unsigned order = (unsigned)((v >> 56) & 63);
        sa->src.free_pages(sa->src.ctx, v & ((1ull << 56) - 1), order);
        sa->large_pages -= 1ull << order;
        return 0;
    }
    default:
        return 0;
    }
}

size_t kmalloc_live(const slab_allocator *sa)
{
    return idmap_len(&sa->ids);
}

/* ------------------------------------------------------------------------------------------ */
/* views                                                                                        */

const char *kmem_cache_name(const kmem_cache *s)
{
    return s->name;
}

unsigned kmem_cache_size(const kmem_cache *s)
{
    return s->size;
}

unsigned kmem_cache_object_size(const kmem_cache *s)
{
    return s->object_size;
}

unsigned kmem_cache_align(const kmem_cache *s)
{
    return s->align;
}

unsigned kmem_cache_order(const kmem_cache *s)
{
    return s->order;
}

unsigned kmem_cache_objects(const kmem_cache *s)
{
    return s->objects;
}

unsigned kmem_cache_min_partial(const kmem_cache *s)
{
    return s->min_partial;
}

bool kmem_cache_reclaimable(const kmem_cache *s)
{
    return s->flags & SLAB_RECLAIM_ACCOUNT;
}

void kmem_cache_info(const kmem_cache *s, slabinfo *out)
{
    out->active_objs = s->inuse;
    out->num_objs = s->total_objects;
    out->active_slabs = out->num_slabs = s->nr_slabs;
    out->nr_partial = s->nr_partial;
    out->pages = s->pages;
    out->objsize = s->size;
    out->objperslab = s->objects;
    out->pagesperslab = 1u << s->order;
}

void slab_get_meminfo(const slab_allocator *sa, slab_meminfo *out)
{
    out->sreclaimable_kb = sa->reclaimable_pages << (PAGE_SHIFT - 10);
    out->sunreclaim_kb = (sa->unreclaimable_pages + sa->large_pages) << (PAGE_SHIFT - 10);
    out->slab_kb = out->sreclaimable_kb + out->sunreclaim_kb;
}

/* slab_show() / cache_show(), newest cache first (slab_caches is a list caches join at the
 * head) */
size_t slab_format_slabinfo(const slab_allocator *sa, char *buf, size_t len)
{
    size_t n = 0;
    char line[256];
    if (len)
        buf[0] = '\0';
    int w = snprintf(line, sizeof line,
                     "slabinfo - version: 2.1\n# name            <active_objs> <num_objs> "
                     "<objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> "
                     "<sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
    for (size_t k = 0;; k++) {
        if (w > 0) {
            if (n + 1 < len)
                snprintf(buf + n, len - n, "%s", line);
            n += (size_t)w;
        }
        if (k == sa->nr_caches)
            break;
        const struct kmem_cache *s = sa->caches[sa->nr_caches - 1 - k];
        w = snprintf(line, sizeof line,
                     "%-17s %6" PRIu64 " %6" PRIu64 " %6u %4u %4d : tunables %4u %4u %4u : "
                     "slabdata %6" PRIu64 " %6" PRIu64 " %6u\n",
                     s->name, s->inuse, s->total_objects, s->size, s->objects, 1 << s->order, 0u,
                     0u, 0u, s->nr_slabs, s->nr_slabs, 0u);
    }
    return n;
}
