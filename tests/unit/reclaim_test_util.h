/* A small fake kernel facade for the reclaim tests: per-pfn arrays stand for the page tables
 * (how many PTEs map the page, how many of them have the accessed bit, a dirty bit, the VMA flags,
 * the swap entry try_to_unmap installed), and helpers to build machines and fill their LRU lists
 * with pages taken from the real buddy allocator. */
#ifndef MMUSIM_TESTS_RECLAIM_TEST_UTIL_H
#define MMUSIM_TESTS_RECLAIM_TEST_UTIL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "models/os/buddy.h"
#include "models/os/lru.h"
#include "models/os/pagecache.h"
#include "models/os/reclaim.h"
#include "models/os/vmscan.h"
#include "models/os/zone.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

struct fake_mm {
    uint64_t n;
    uint8_t *mapped;   /* PTEs mapping the page */
    uint8_t *young;    /* of which have the accessed bit */
    uint8_t *dirty;    /* a PTE dirty bit */
    unsigned *vmflags; /* VM_EXEC / VM_LOCKED of the mapping */
    uint32_t *swpte;   /* the swap entry try_to_unmap installed */
    uint64_t referenced_calls, unmap_calls;
    uint64_t rmap_cycles; /* charged per callback */
};

static inline void fake_init(struct fake_mm *f, uint64_t n)
{
    memset(f, 0, sizeof *f);
    f->n = n;
    f->mapped = calloc(n, 1);
    f->young = calloc(n, 1);
    f->dirty = calloc(n, 1);
    f->vmflags = calloc(n, sizeof *f->vmflags);
    f->swpte = calloc(n, sizeof *f->swpte);
}

static inline void fake_free(struct fake_mm *f)
{
    free(f->mapped);
    free(f->young);
    free(f->dirty);
    free(f->vmflags);
    free(f->swpte);
}

/* owners are pfn + 1 for anonymous pages in these tests */
static inline int fake_referenced(void *ctx, uint64_t owner, uint64_t pfn, unsigned *vm_flags,
                                  uint64_t *cycles)
{
    struct fake_mm *f = ctx;
    (void)owner;
    f->referenced_calls++;
    *cycles += f->rmap_cycles;
    if (!f->mapped[pfn])
        return 0;
    *vm_flags |= f->vmflags[pfn];
    int n = f->young[pfn];
    f->young[pfn] = 0; /* test and clear */
    return n;
}

static inline int fake_unmap(void *ctx, uint64_t owner, uint64_t pfn, uint32_t entry,
                             bool *dirty, uint64_t *cycles)
{
    struct fake_mm *f = ctx;
    (void)owner;
    f->unmap_calls++;
    *cycles += f->rmap_cycles;
    int n = f->mapped[pfn];
    if (f->dirty[pfn])
        *dirty = true;
    f->mapped[pfn] = 0;
    f->dirty[pfn] = 0;
    if (n)
        f->swpte[pfn] = entry;
    return n;
}

static inline struct reclaim_ops fake_ops(struct fake_mm *f)
{
    struct reclaim_ops ops = {f, fake_referenced, fake_unmap, NULL};
    return ops;
}

/* one node of bytes, x86_64, pcp lists off (every free goes straight to the buddy lists, so free
 * page counts are exact) */
static inline mm_phys *test_phys(uint64_t bytes)
{
    mm_phys_config cfg;
    mm_phys_config_init(&cfg, MM_ARCH_X86_64, bytes, 1);
    cfg.pcp_disabled = true;
    mm_err err = {{0}};
    mm_phys *pm = mm_phys_create(&cfg, NULL, &err);
    ck_assert_msg(pm != NULL, "%s", err.msg);
    return pm;
}

/* a frame taken from the buddy allocator regardless of watermarks */
static inline uint64_t grab_frame(mm_phys *pm)
{
    uint64_t pfn = get_page_from_freelist(pm, 0, MM_GFP_HIGHUSER_MOVABLE, 0, ALLOC_NO_WATERMARKS,
                                          0, NULL);
    ck_assert(pfn != MM_PFN_NONE);
    return pfn;
}

static inline uint64_t node_free_pages(const mm_phys *pm)
{
    uint64_t n = 0;
    for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
        const mm_zone *z = mm_node_zone(pm, 0, (enum zone_type)t);
        if (z && populated_zone(z))
            n += zone_free_pages(z);
    }
    return n;
}

/* a clean, unmapped page-cache page of file at index, on the inactive file list */
static inline uint64_t add_file_page(mm_reclaim *rc, mm_phys *pm, uint32_t file, uint64_t index)
{
    uint64_t pfn = grab_frame(pm);
    lru_page_init(reclaim_lru(rc), pfn, OWNER_NONE, 0);
    ck_assert(filemap_add_folio(reclaim_pagecache(rc), file, index, pfn, NULL));
    folio_add_lru(reclaim_lru(rc), pfn);
    return pfn;
}

/* an anonymous page mapped by one PTE (owner pfn + 1), on the inactive anon list */
static inline uint64_t add_anon_page(mm_reclaim *rc, mm_phys *pm, struct fake_mm *f)
{
    uint64_t pfn = grab_frame(pm);
    reclaim_anon_add(rc, pfn, pfn + 1, false);
    if (f)
        f->mapped[pfn] = 1;
    return pfn;
}

/* the config every test starts from: 1000 MHz (one cycle per ns), defaults otherwise */
static inline struct mm_reclaim_config test_config(void)
{
    struct mm_reclaim_config c;
    mm_reclaim_config_init(&c);
    c.freq_mhz = 1000;
    return c;
}

#endif
