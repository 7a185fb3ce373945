/* A small machine for MMU unit tests: a cache hierarchy with round latencies, page tables over a
 * counting frame source, an MMU whose fault handler maps pages on first touch (or refuses, or
 * grants write access), and helpers to read statistics. Header-only, one machine at a time. */
#ifndef MMUSIM_TESTS_MMU_TEST_UTIL_H
#define MMUSIM_TESTS_MMU_TEST_UTIL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/stats.h"
#include "models/hw/cache.h"
#include "models/hw/mmu.h"
#include "models/os/pgtable.h"
#include "traces/event.h"

/* A frame source handing out pfns from `next`, counting frees. */
struct tframes {
    uint64_t next, allocs, frees;
    uint64_t limit; /* 0: none; else alloc fails once allocs reaches it */
};

static inline uint64_t tframes_alloc(void *ctx)
{
    struct tframes *f = ctx;
    if (f->limit && f->allocs >= f->limit)
        return PGTABLE_NO_FRAME;
    f->allocs++;
    return f->next++;
}

static inline void tframes_free(void *ctx, uint64_t pfn)
{
    (void)pfn;
    ((struct tframes *)ctx)->frees++;
}

static inline uint64_t tmem_read(void *ctx, uint64_t pa)
{
    return pgtable_read_phys(ctx, pa);
}

static inline void tmem_set_bits(void *ctx, uint64_t pa, uint64_t bits)
{
    pgtable_set_bits_phys(ctx, pa, bits);
}

enum tfault_mode { TF_MAP, TF_REFUSE };

struct tmachine {
    stats_registry *reg;
    cache_hier *h;
    struct tframes tables, data, hframes;
    pgtable *pt, *hpt;
    uint64_t hroot;
    mmu *m;
    enum tfault_mode mode;
    enum pg_size map_size, host_size;
    uint64_t faults, host_faults, prot_faults;
    uint32_t last_err;
    uint64_t last_fault_addr;
};

static struct tmachine TM;

/* Latencies: L1 1, L2 10, LLC 30, memory 100 cycles; 1K 2-way L1s, 4K 4-way L2, 16K 4-way LLC. */
static inline struct cache_hier_params tm_caches(void)
{
    struct cache_hier_params hp;
    memset(&hp, 0, sizeof hp);
    hp.ncpus = 1;
    struct cache_params l1 = {"l1d", 1024, 2, 64, 1, REPL_LRU, WP_WRITEBACK_ALLOCATE, INCL_NON_INCLUSIVE, 1};
    hp.l1d = l1;
    hp.l1i = l1;
    hp.l1i.name = "l1i";
    struct cache_params l2 = {"l2", 4096, 4, 64, 10, REPL_LRU, WP_WRITEBACK_ALLOCATE, INCL_NON_INCLUSIVE, 1};
    struct cache_params llc = {"llc", 16384, 4, 64, 30, REPL_LRU, WP_WRITEBACK_ALLOCATE, INCL_NON_INCLUSIVE, 1};
    hp.l2 = l2;
    hp.llc = llc;
    hp.l2_enabled = 1;
    hp.llc_enabled = 1;
    hp.mem_latency = 100;
    return hp;
}

/* Skylake-like defaults, PWCs off, 4 levels, one cpu, PCIDs on. Tests change what they need. */
static inline struct mmu_params tm_params(void)
{
    struct mmu_params p;
    memset(&p, 0, sizeof p);
    p.ncpus = 1;
    p.l1d = (struct tlb_params){{64, 32, 4}, {4, 4, 4}, TLB_SHARE_NONE, 0, REPL_LRU, 1};
    p.l1i = (struct tlb_params){{128, 8, 0}, {8, 8, 0}, TLB_SHARE_NONE, 0, REPL_LRU, 1};
    p.stlb = (struct tlb_params){{1536, 0, 16}, {12, 0, 4}, TLB_SHARE_4K2M, 9, REPL_LRU, 1};
    p.pcid = 1;
    p.shootdown_cost = 1000;
    p.flush_ceiling = 33;
    p.walker.levels = 4;
    p.walker.host_levels = 4;
    p.walker.cache_level = LEVEL_L1;
    p.walker.pwc.repl = REPL_LRU;
    for (unsigned l = 2; l <= 5; l++)
        p.walker.pwc.latency[l] = 1;
    return p;
}

/* The Skylake-like page-walk caches of the default config. */
static inline void tm_pwc_on(struct mmu_params *p)
{
    unsigned e[6] = {0, 0, 32, 8, 4, 2}, a[6] = {0, 0, 8, 4, 4, 2};
    for (unsigned l = 2; l <= 5; l++) {
        p->walker.pwc.entries[l] = e[l];
        p->walker.pwc.assoc[l] = a[l];
    }
}

static inline int tm_fault(void *ctx, const struct mmu_fault *f, uint32_t *cycles)
{
    struct tmachine *t = ctx;
    *cycles = 1000;
    t->last_err = f->err;
    t->last_fault_addr = f->addr;
    if (t->mode == TF_REFUSE)
        return -1;
    int store = f->type == MM_EV_WRITE || f->type == MM_EV_RMW;
    if (f->stage == WALK_STAGE_HOST) {
        t->host_faults++;
        enum pg_size s = t->host_size;
        uint64_t base = f->addr & ~(((uint64_t)1 << pg_shift(s)) - 1);
        uint64_t n = (uint64_t)1 << (9 * s);
        uint64_t pfn = (t->hframes.next + n - 1) & ~(n - 1);
        t->hframes.next = pfn + n;
        return pgtable_map(t->hpt, t->hroot, base, pfn, s, PTE_RW | PTE_US) ? -1 : 0;
    }
    if (f->err & WALK_ERR_P) {
        t->prot_faults++;
        pgtable_update(t->pt, f->root, f->addr, PTE_RW | PTE_US, PTE_NX);
        return 0;
    }
    t->faults++;
    enum pg_size s = t->map_size;
    uint64_t base = f->addr & ~(((uint64_t)1 << pg_shift(s)) - 1);
    uint64_t n = (uint64_t)1 << (9 * s);
    uint64_t pfn = (t->data.next + n - 1) & ~(n - 1);
    t->data.next = pfn + n;
    int kernel = (f->addr >> 47) & 1;
    return pgtable_map(t->pt, f->root, base, pfn, s,
                       PTE_RW | (kernel ? PTE_G : PTE_US) | (store ? PTE_D : 0))
               ? -1
               : 0;
}

/* Builds the machine: page tables at pfns from 0x1000 up, data frames from 0x100000 up (host
 * frames from 0x800000 when nested). */
static inline void tm_create(const struct mmu_params *p)
{
    memset(&TM, 0, sizeof TM);
    TM.reg = stats_create();
    mm_err err;
    struct cache_hier_params hp = tm_caches();
    hp.ncpus = p->ncpus;
    TM.h = cache_hier_create(&hp, TM.reg, &err);
    ck_assert_msg(TM.h != NULL, "%s", err.msg);
    TM.tables.next = 0x1000;
    TM.data.next = 0x100000;
    TM.hframes.next = 0x800000;
    struct pgtable_frames src = {tframes_alloc, tframes_free, &TM.tables};
    TM.pt = pgtable_create(p->walker.levels, &src, TM.reg, "os.pgtable");
    struct walker_mem mem = {tmem_read, tmem_set_bits, TM.pt, NULL};
    struct walker_mem hmem = {tmem_read, tmem_set_bits, NULL, NULL};
    if (p->walker.nested) {
        struct pgtable_frames hsrc = {tframes_alloc, tframes_free, &TM.hframes};
        TM.hpt = pgtable_create(p->walker.host_levels, &hsrc, TM.reg, "os.host_pgtable");
        TM.hroot = pgtable_mm_create(TM.hpt);
        hmem.ctx = TM.hpt;
    }
    TM.m = mmu_create(p, TM.h, &mem, p->walker.nested ? &hmem : NULL, tm_fault, &TM, TM.reg, &err);
    ck_assert_msg(TM.m != NULL, "%s", err.msg);
    if (p->walker.nested)
        mmu_set_host_root(TM.m, TM.hroot);
}

static inline void tm_destroy(void)
{
    mmu_destroy(TM.m);
    pgtable_destroy(TM.pt);
    pgtable_destroy(TM.hpt);
    cache_hier_destroy(TM.h);
    stats_destroy(TM.reg);
    memset(&TM, 0, sizeof TM);
}

static inline uint64_t tm_stat(const char *name)
{
    const stats_entry *e = stats_find(TM.reg, name);
    ck_assert_msg(e != NULL, "no statistic %s", name);
    return stats_value(e);
}

static inline const hist *tm_hist(const char *name)
{
    const stats_entry *e = stats_find(TM.reg, name);
    ck_assert_msg(e != NULL && e->kind == STATS_HISTOGRAM, "no histogram %s", name);
    return e->histogram;
}

/* One access on cpu: returns the physical address; the latency in *lat when non-NULL. */
static inline uint64_t tm_access(unsigned cpu, uint64_t va, unsigned type, uint32_t *lat)
{
    uint64_t pa = 0;
    uint32_t cycles = 0;
    int rc = mmu_translate(TM.m, cpu, va, type, &pa, &cycles);
    ck_assert_int_eq(rc, 0);
    if (lat)
        *lat = cycles;
    return pa;
}

static inline uint64_t tm_read(uint64_t va)
{
    return tm_access(0, va, MM_EV_READ, NULL);
}

static inline uint64_t tm_write(uint64_t va)
{
    return tm_access(0, va, MM_EV_WRITE, NULL);
}

#endif
