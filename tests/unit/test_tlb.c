/* Unit tests for the TLBs (models/hw/tlb.h) and their use by the MMU (models/hw/mmu.h): exact
 * hit/miss counts for cyclic page sets against LRU and PLRU, arrays by page size and shared arrays,
 * PCID tags and global entries, INVLPG and flushes, context switches with and without PCIDs, the
 * D-bit assist, and shootdowns across CPUs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/common/stats.h"
#include "models/hw/mmu.h"
#include "models/hw/tlb.h"

#include "mmu_test_util.h"

#define KIB 1024ull
#define MIB (1024ull * 1024)

static struct tlb_params one_array(unsigned entries, unsigned assoc, enum cache_repl repl)
{
    struct tlb_params p = {{entries, 0, 0}, {assoc, 0, 0}, TLB_SHARE_NONE, 0, repl, 1};
    return p;
}

/* ---------- the TLB alone ---------- */

/* looks va up, fills on a miss; returns 1 on a hit */
static int touch(tlb *t, uint64_t va, unsigned size, uint64_t tag)
{
    unsigned s;
    if (tlb_lookup(t, va, tag, &s, 0))
        return 1;
    tlb_fill(t, va, size, tag, (va & ~0xfffull) | TLB_W);
    return 0;
}

START_TEST(cyclic_pages_against_fully_associative_lru)
{
    for (unsigned entries = 4; entries <= 64; entries *= 2) {
        struct tlb_params p = one_array(entries, entries, REPL_LRU);
        tlb *t = tlb_create(&p, NULL, "t");
        /* P = entries + 1 pages cycled: LRU evicts each just before its reuse */
        unsigned hits = 0;
        for (int r = 0; r < 10; r++)
            for (uint64_t i = 0; i <= entries; i++)
                hits += (unsigned)touch(t, i << 12, TLB_4K, 0);
        ck_assert_uint_eq(hits, 0);
        tlb_destroy(t);
        /* P = entries: only the first round misses */
        t = tlb_create(&p, NULL, "t");
        hits = 0;
        for (int r = 0; r < 10; r++)
            for (uint64_t i = 0; i < entries; i++)
                hits += (unsigned)touch(t, i << 12, TLB_4K, 0);
        ck_assert_uint_eq(hits, 9 * entries);
        ck_assert_uint_eq(tlb_valid_entries(t), entries);
        tlb_destroy(t);
    }
}
END_TEST

START_TEST(plru_keeps_a_set_that_fits)
{
    struct tlb_params p = one_array(16, 8, REPL_PLRU); /* 2 sets x 8 ways */
    tlb *t = tlb_create(&p, NULL, "t");
    unsigned hits = 0;
    for (int r = 0; r < 5; r++)
        for (uint64_t i = 0; i < 16; i++)
            hits += (unsigned)touch(t, i << 12, TLB_4K, 0);
    ck_assert_uint_eq(hits, 4 * 16);
    tlb_destroy(t);
    /* the tree's victim is the way it points away from: after ways 0..7 filled in order and
     * way 0 touched, a new page replaces the one in way 4 */
    p = one_array(8, 8, REPL_PLRU);
    t = tlb_create(&p, NULL, "t");
    for (uint64_t i = 0; i < 8; i++)
        touch(t, i << 12, TLB_4K, 0);
    touch(t, 0, TLB_4K, 0);
    touch(t, 8 << 12, TLB_4K, 0);
    unsigned s;
    ck_assert_ptr_null(tlb_lookup(t, 4 << 12, 0, &s, 0));
    for (uint64_t i = 0; i < 8; i++)
        if (i != 4)
            ck_assert_ptr_nonnull(tlb_lookup(t, i << 12, 0, &s, 0));
    tlb_destroy(t);
}
END_TEST

START_TEST(arrays_by_page_size)
{
    struct tlb_params p = {{64, 32, 4}, {4, 4, 4}, TLB_SHARE_NONE, 0, REPL_LRU, 1};
    tlb *t = tlb_create(&p, NULL, "t");
    tlb_fill(t, 0x40000000, TLB_2M, 3, 0x80000000 | TLB_W);
    tlb_fill(t, 0x80000000, TLB_1G, 3, 0xc0000000 | TLB_W);
    tlb_fill(t, 0x1000, TLB_4K, 3, 0x5000 | TLB_W);
    unsigned s = 99;
    uint64_t *pay = tlb_lookup(t, 0x40000000 + 0x1fffff, 3, &s, 0);
    ck_assert_ptr_nonnull(pay);
    ck_assert_uint_eq(s, TLB_2M);
    ck_assert_uint_eq(*pay & TLB_ADDR_MASK, 0x80000000);
    ck_assert_ptr_null(tlb_lookup(t, 0x40200000, 3, &s, 0));
    pay = tlb_lookup(t, 0x80000000 + 0x3ffff000, 3, &s, 0);
    ck_assert_ptr_nonnull(pay);
    ck_assert_uint_eq(s, TLB_1G);
    ck_assert_ptr_nonnull(tlb_lookup(t, 0x1fff, 3, &s, 0));
    ck_assert_uint_eq(s, TLB_4K);
    ck_assert_ptr_null(tlb_lookup(t, 0x2000, 3, &s, 0));
    /* each array holds its own size: 4 x 1G entries fill without touching the others */
    for (uint64_t g = 2; g < 8; g++)
        tlb_fill(t, g << 30, TLB_1G, 3, (g << 30) | TLB_W);
    ck_assert_uint_eq(tlb_valid_entries(t), 1 + 1 + 4);
    ck_assert_ptr_nonnull(tlb_lookup(t, 0x40000000, 3, &s, 0));
    tlb_destroy(t);
    /* absent arrays: a fill of that size is dropped */
    struct tlb_params q = one_array(16, 4, REPL_LRU);
    t = tlb_create(&q, NULL, "t");
    tlb_fill(t, 0x200000, TLB_2M, 0, 0x200000);
    ck_assert_uint_eq(tlb_valid_entries(t), 0);
    tlb_destroy(t);
    struct tlb_params none = one_array(0, 0, REPL_LRU);
    ck_assert_ptr_null(tlb_create(&none, NULL, "t"));
}
END_TEST

START_TEST(shared_array_holds_4k_and_2m)
{
    /* 8 sets x 2 ways, 4K and 2M entries competing */
    struct tlb_params p = {{16, 0, 0}, {2, 0, 0}, TLB_SHARE_4K2M, 0, REPL_LRU, 1};
    tlb *t = tlb_create(&p, NULL, "t");
    tlb_fill(t, 0x200000, TLB_2M, 0, 0x600000);
    tlb_fill(t, 0x1000, TLB_4K, 0, 0x9000);
    unsigned s;
    ck_assert_ptr_nonnull(tlb_lookup(t, 0x3ff000, 0, &s, 0));
    ck_assert_uint_eq(s, TLB_2M);
    ck_assert_ptr_nonnull(tlb_lookup(t, 0x1000, 0, &s, 0));
    ck_assert_uint_eq(s, TLB_4K);
    ck_assert_uint_eq(tlb_valid_entries(t), 2);
    /* 1G is not held */
    tlb_fill(t, 1ull << 30, TLB_1G, 0, 1ull << 30);
    ck_assert_uint_eq(tlb_valid_entries(t), 2);
    tlb_destroy(t);
}
END_TEST

START_TEST(pcid_tags_and_global_entries)
{
    struct tlb_params p = one_array(16, 4, REPL_LRU);
    tlb *t = tlb_create(&p, NULL, "t");
    tlb_fill(t, 0x1000, TLB_4K, 1, 0x1000);
    unsigned s;
    ck_assert_ptr_nonnull(tlb_lookup(t, 0x1000, 1, &s, 0));
    ck_assert_ptr_null(tlb_lookup(t, 0x1000, 2, &s, 0));
    /* a global entry matches every PCID */
    tlb_fill(t, 0xffff800000000000ull & ((1ull << 48) - 1), TLB_4K, 1, 0x7000 | TLB_G);
    ck_assert_ptr_nonnull(tlb_lookup(t, 0x800000000000ull, 2, &s, 0));
    ck_assert_ptr_nonnull(tlb_lookup(t, 0x800000000000ull, 4095, &s, 0));
    /* flushing a PCID or every non-global entry keeps it */
    tlb_fill(t, 0x2000, TLB_4K, 2, 0x2000);
    ck_assert_uint_eq(tlb_flush(t, TLB_FLUSH_TAG, 1), 1);
    ck_assert_ptr_null(tlb_lookup(t, 0x1000, 1, &s, 0));
    ck_assert_ptr_nonnull(tlb_lookup(t, 0x2000, 2, &s, 0));
    ck_assert_uint_eq(tlb_flush(t, TLB_FLUSH_NON_GLOBAL, 0), 1);
    ck_assert_ptr_nonnull(tlb_lookup(t, 0x800000000000ull, 7, &s, 0));
    ck_assert_uint_eq(tlb_flush(t, TLB_FLUSH_ALL, 0), 1);
    ck_assert_uint_eq(tlb_valid_entries(t), 0);
    ck_assert_uint_eq(t->s.invalidations, 3);
    tlb_destroy(t);
}
END_TEST

START_TEST(invalidate_page_drops_exactly_one)
{
    struct tlb_params p = {{64, 32, 4}, {4, 4, 4}, TLB_SHARE_NONE, 0, REPL_LRU, 1};
    tlb *t = tlb_create(&p, NULL, "t");
    for (uint64_t i = 0; i < 8; i++)
        tlb_fill(t, i << 12, TLB_4K, 5, (0x100 + i) << 12);
    ck_assert_uint_eq(tlb_invalidate_page(t, 3 << 12, 5), 1);
    unsigned s;
    for (uint64_t i = 0; i < 8; i++)
        ck_assert_int_eq(tlb_lookup(t, i << 12, 5, &s, 0) != NULL, i != 3);
    /* another PCID's copy of the page stays */
    tlb_fill(t, 0x5000, TLB_4K, 6, 0x5000);
    ck_assert_uint_eq(tlb_invalidate_page(t, 0x5000, 5), 1);
    ck_assert_ptr_nonnull(tlb_lookup(t, 0x5000, 6, &s, 0));
    /* any size covering the address goes, global too */
    tlb_fill(t, 0x400000, TLB_2M, 5, 0x400000);
    tlb_fill(t, 0x40000000, TLB_1G, 0, 0x40000000 | TLB_G);
    ck_assert_uint_eq(tlb_invalidate_page(t, 0x4ff000, 5), 1);
    ck_assert_uint_eq(tlb_invalidate_page(t, 0x7ffff000, 5), 1);
    ck_assert_uint_eq(tlb_invalidate_page(t, 0x7ffff000, 5), 0);
    tlb_destroy(t);
}
END_TEST

START_TEST(geometry_checks)
{
    mm_err err;
    struct tlb_params p = {{1536, 0, 16}, {12, 0, 4}, TLB_SHARE_4K2M, 9, REPL_LRU, 1};
    ck_assert_int_eq(tlb_params_check(&p, &err), 0); /* 128 sets */
    p.assoc[0] = 16;                                   /* 96 sets */
    ck_assert_int_eq(tlb_params_check(&p, &err), -1);
    ck_assert_msg(strstr(err.msg, "not a power of two"), "%s", err.msg);
    p.assoc[0] = 12;
    p.repl = REPL_PLRU;
    ck_assert_int_eq(tlb_params_check(&p, &err), -1);
    ck_assert_msg(strstr(err.msg, "plru"), "%s", err.msg);
    p.repl = REPL_LRU;
    p.entries[1] = 32;
    p.assoc[1] = 4;
    ck_assert_int_eq(tlb_params_check(&p, &err), -1);
    ck_assert_msg(strstr(err.msg, "entries_2m must be 0"), "%s", err.msg);
    p.entries[1] = 0;
    p.assoc[2] = 0;
    ck_assert_int_eq(tlb_params_check(&p, &err), -1);
    ck_assert_msg(strstr(err.msg, "assoc_1g"), "%s", err.msg);
}
END_TEST

/* ---------- through the MMU ---------- */

/* dTLB: 4K array only, fully associative `entries`; no STLB; PWCs off */
static struct mmu_params dtlb_only(unsigned entries)
{
    struct mmu_params p = tm_params();
    p.l1d = one_array(entries, entries, REPL_LRU);
    memset(&p.stlb, 0, sizeof p.stlb);
    return p;
}

START_TEST(mmu_cyclic_pages_miss_every_time_or_never)
{
    struct mmu_params p = dtlb_only(8);
    tm_create(&p);
    mmu_switch(TM.m, 0, pgtable_mm_create(TM.pt), 1, 1);
    for (int r = 0; r < 100; r++)
        for (uint64_t i = 0; i < 9; i++)
            tm_read(0x10000000 + (i << 12) + 8 * (uint64_t)r);
    ck_assert_uint_eq(tm_stat("tlb.l1d.accesses"), 900);
    ck_assert_uint_eq(tm_stat("tlb.l1d.misses"), 900);
    ck_assert_uint_eq(tm_stat("tlb.l1d.misses_4k"), 900);
    ck_assert_uint_eq(tm_stat("walker.walks"), 900 + 9); /* + the first touches' faulting walks */
    tm_destroy();

    tm_create(&p);
    mmu_switch(TM.m, 0, pgtable_mm_create(TM.pt), 1, 1);
    for (int r = 0; r < 100; r++)
        for (uint64_t i = 0; i < 8; i++)
            tm_read(0x10000000 + (i << 12));
    ck_assert_uint_eq(tm_stat("tlb.l1d.misses"), 8);
    ck_assert_uint_eq(tm_stat("tlb.l1d.hits"), 792);
    ck_assert_uint_eq(tm_stat("tlb.l1d.hits_4k"), 792);
    tm_destroy();
}
END_TEST

START_TEST(mmu_stlb_backs_the_l1)
{
    struct mmu_params p = tm_params();
    p.l1d = one_array(4, 4, REPL_LRU);
    p.stlb = one_array(64, 4, REPL_LRU);
    p.stlb.latency = 9;
    tm_create(&p);
    mmu_switch(TM.m, 0, pgtable_mm_create(TM.pt), 1, 1);
    for (uint64_t i = 0; i < 16; i++) /* first touches: both miss */
        tm_read(i << 12);
    uint32_t lat;
    tm_access(0, 0, MM_EV_READ, &lat); /* evicted from the 4-entry L1, in the STLB */
    ck_assert_uint_eq(lat, 9);
    ck_assert_uint_eq(tm_stat("tlb.stlb.hits"), 1);
    ck_assert_uint_eq(tm_stat("tlb.stlb.misses"), 16);
    tm_access(0, 8, MM_EV_READ, &lat); /* refilled into the L1 */
    ck_assert_uint_eq(lat, 0);
    ck_assert_uint_eq(tm_stat("tlb.l1d.misses"), 17);
    ck_assert_uint_eq(tm_stat("tlb.l1d.misses_4k"), 17);
    tm_destroy();
}
END_TEST

/* A stream over 64 MiB, one access per 4 KiB: 4 KiB pages miss 16384 times, 2 MiB pages 32. */
START_TEST(mmu_huge_pages_take_512x_fewer_misses)
{
    uint64_t misses[2];
    for (int huge = 0; huge < 2; huge++) {
        struct mmu_params p = tm_params();
        tm_create(&p);
        TM.map_size = huge ? PG_2M : PG_4K;
        mmu_switch(TM.m, 0, pgtable_mm_create(TM.pt), 1, 1);
        for (uint64_t a = 0; a < 64 * MIB; a += 4 * KIB)
            tm_read(0x40000000 + a);
        misses[huge] = tm_stat("tlb.l1d.misses");
        ck_assert_uint_eq(tm_stat(huge ? "tlb.l1d.misses_2m" : "tlb.l1d.misses_4k"), misses[huge]);
        ck_assert_uint_eq(TM.faults, huge ? 32 : 16384);
        tm_destroy();
    }
    ck_assert_uint_eq(misses[0], 16384);
    ck_assert_uint_eq(misses[1], 32);
    ck_assert_uint_eq(misses[0] / misses[1], 512);
}
END_TEST

START_TEST(mmu_1g_pages_hit_the_1g_arrays)
{
    struct mmu_params p = tm_params();
    tm_create(&p);
    TM.map_size = PG_1G;
    mmu_switch(TM.m, 0, pgtable_mm_create(TM.pt), 1, 1);
    uint64_t pa = tm_read(0x40000000 + 0x12345678);
    ck_assert_uint_eq(pa & ((1ull << 30) - 1), 0x12345678);
    for (uint64_t a = 0; a < (1ull << 30); a += 2 * MIB)
        tm_read(0x40000000 + a);
    ck_assert_uint_eq(tm_stat("tlb.l1d.misses_1g"), 1);
    ck_assert_uint_eq(tm_stat("tlb.l1d.hits_1g"), 512);
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 1 + 2); /* fault at the PML4E, then 2 loads */
    tm_destroy();
}
END_TEST

/* Two address spaces alternate. With PCIDs the entries of both stay; without, each switch flushes
 * them but global (kernel) entries stay. */
START_TEST(mmu_context_switch_with_and_without_pcid)
{
    for (int pcid = 0; pcid < 2; pcid++) {
        struct mmu_params p = tm_params();
        p.pcid = pcid;
        tm_create(&p);
        uint64_t a = pgtable_mm_create(TM.pt), b = pgtable_mm_create(TM.pt);
        uint64_t kva = 0xffff888000000000ull;
        mmu_switch(TM.m, 0, a, 1, 1);
        for (uint64_t i = 0; i < 8; i++)
            tm_read(0x1000000 + (i << 12));
        tm_read(kva); /* a kernel page: mapped global */
        mmu_switch(TM.m, 0, b, 2, 1);
        for (uint64_t i = 0; i < 8; i++)
            tm_read(0x1000000 + (i << 12));
        uint64_t before = tm_stat("tlb.l1d.misses");
        ck_assert_uint_eq(before, 17);
        mmu_switch(TM.m, 0, a, 1, 1);
        for (uint64_t i = 0; i < 8; i++)
            tm_read(0x1000000 + (i << 12));
        tm_read(kva);
        ck_assert_uint_eq(tm_stat("tlb.l1d.misses") - before, pcid ? 0 : 8);
        ck_assert_uint_eq(tm_stat("tlb.context_switches"), 3);
        ck_assert_uint_eq(tm_stat("tlb.flushes"), pcid ? 0 : 3);
        /* the no-flush bit clear: the PCID's entries go, not the other's */
        if (pcid) {
            mmu_switch(TM.m, 0, b, 2, 0);
            tm_read(0x1000000);
            mmu_switch(TM.m, 0, a, 1, 1);
            tm_read(0x1000000);
            ck_assert_uint_eq(tm_stat("tlb.l1d.misses") - before, 1);
            ck_assert_uint_eq(tm_stat("tlb.pcid_flushes"), 1);
        }
        tm_destroy();
    }
}
END_TEST

START_TEST(mmu_invlpg_drops_one_page)
{
    struct mmu_params p = tm_params();
    tm_create(&p);
    mmu_switch(TM.m, 0, pgtable_mm_create(TM.pt), 1, 1);
    for (uint64_t i = 0; i < 8; i++)
        tm_read(i << 12);
    uint64_t m0 = tm_stat("tlb.l1d.misses");
    mmu_invlpg(TM.m, 0, 3 << 12);
    for (uint64_t i = 0; i < 8; i++)
        tm_read(i << 12);
    ck_assert_uint_eq(tm_stat("tlb.l1d.misses") - m0, 1);
    ck_assert_uint_eq(tm_stat("tlb.l1d.invalidations"), 1);
    ck_assert_uint_eq(tm_stat("tlb.stlb.invalidations"), 1);
    ck_assert_uint_eq(tm_stat("tlb.invlpg"), 1);
    tm_destroy();
}
END_TEST

/* A store through an entry cached clean walks again to set D, once; later stores do not. */
START_TEST(mmu_dirty_assist_once_per_clean_page)
{
    struct mmu_params p = tm_params();
    tm_create(&p);
    uint64_t root = pgtable_mm_create(TM.pt);
    mmu_switch(TM.m, 0, root, 1, 1);
    tm_read(0x5000); /* first touch by a read: mapped clean */
    struct pgtable_leaf l;
    pgtable_lookup(TM.pt, root, 0x5000, &l);
    ck_assert_uint_eq(l.pte & (PTE_A | PTE_D), PTE_A);
    uint64_t walks = tm_stat("walker.walks"), ad = tm_stat("walker.ad_updates");
    tm_write(0x5008);
    pgtable_lookup(TM.pt, root, 0x5000, &l);
    ck_assert_uint_eq(l.pte & (PTE_A | PTE_D), PTE_A | PTE_D);
    ck_assert_uint_eq(tm_stat("walker.walks") - walks, 1);
    ck_assert_uint_eq(tm_stat("walker.ad_updates") - ad, 1);
    ck_assert_uint_eq(tm_stat("mmu.dirty_assists"), 1);
    ck_assert_uint_eq(tm_stat("tlb.l1d.hits"), 1); /* the store found the entry */
    for (int i = 0; i < 10; i++)
        tm_write(0x5010);
    ck_assert_uint_eq(tm_stat("walker.walks") - walks, 1);
    ck_assert_uint_eq(tm_stat("walker.ad_updates") - ad, 1);
    ck_assert_uint_eq(tm_stat("mmu.dirty_assists"), 1);
    tm_destroy();
}
END_TEST

/* Cached rights that deny the access raise the fault without a walk; the handler grants it. */
START_TEST(mmu_protection_fault_from_a_tlb_hit)
{
    struct mmu_params p = tm_params();
    tm_create(&p);
    uint64_t root = pgtable_mm_create(TM.pt);
    mmu_switch(TM.m, 0, root, 1, 1);
    ck_assert_int_eq(pgtable_map(TM.pt, root, 0x9000, 0x9999, PG_4K, PTE_US | PTE_A), PGTABLE_OK);
    tm_read(0x9000);
    uint64_t walks = tm_stat("walker.walks");
    uint64_t pa = tm_write(0x9004);
    ck_assert_uint_eq(pa, (0x9999ull << 12) | 4);
    ck_assert_uint_eq(tm_stat("mmu.protection_faults"), 1);
    ck_assert_uint_eq(TM.prot_faults, 1);
    ck_assert_uint_eq(TM.last_err, WALK_ERR_P | WALK_ERR_W | WALK_ERR_U);
    ck_assert_uint_eq(tm_stat("walker.walks") - walks, 1); /* the retry */
    /* a handler that refuses: the access is given up */
    TM.mode = TF_REFUSE;
    uint64_t pa2;
    uint32_t cyc = 0;
    ck_assert_int_eq(mmu_translate(TM.m, 0, 0x7000000, MM_EV_READ, &pa2, &cyc), -1);
    ck_assert_uint_eq(tm_stat("mmu.unresolved_faults"), 1);
    ck_assert_uint_eq(TM.last_err, WALK_ERR_U);
    tm_destroy();
}
END_TEST

/* Four CPUs: 0, 1 and 2 run A, 3 runs B. A shootdown of one page of A from CPU 0 interrupts CPUs
 * 1 and 2 (paying the cost twice) and drops the page on 0, 1, 2 but not B's on 3. */
START_TEST(mmu_shootdown_pays_once_per_remote_cpu)
{
    struct mmu_params p = tm_params();
    p.ncpus = 4;
    p.shootdown_cost = 1000;
    tm_create(&p);
    uint64_t a = pgtable_mm_create(TM.pt), b = pgtable_mm_create(TM.pt);
    for (unsigned c = 0; c < 4; c++) {
        mmu_switch(TM.m, c, c < 3 ? a : b, c < 3 ? 1 : 2, 1);
        tm_access(c, 0x1000, MM_EV_READ, NULL);
        tm_access(c, 0x2000, MM_EV_READ, NULL);
    }
    ck_assert_uint_eq(mmu_current_root(TM.m, 3), b);
    uint64_t cost = mmu_shootdown(TM.m, 0, a, 0x1000, 4096, 12);
    ck_assert_uint_eq(cost, 2000);
    ck_assert_uint_eq(tm_stat("tlb.shootdowns"), 1);
    ck_assert_uint_eq(tm_stat("tlb.shootdown_ipis"), 2);
    ck_assert_uint_eq(tm_stat("tlb.shootdown_cycles"), 2000);
    unsigned s;
    for (unsigned c = 0; c < 4; c++) {
        const tlb *t = mmu_tlb(TM.m, c, MMU_L1D);
        uint64_t tag = c < 3 ? 1 : 2;
        ck_assert_int_eq(tlb_lookup((tlb *)t, 0x1000, tag, &s, 0) != NULL, c == 3);
        ck_assert_ptr_nonnull(tlb_lookup((tlb *)t, 0x2000, tag, &s, 0));
        ck_assert_ptr_null(tlb_lookup((tlb *)mmu_tlb(TM.m, c, MMU_STLB), 0x1000, 1, &s, 0));
    }
    ck_assert_uint_eq(tm_stat("tlb.cpu1.l1d.invalidations"), 1);
    ck_assert_uint_eq(tm_stat("tlb.cpu3.l1d.invalidations"), 0);
    /* a range above the flush ceiling flushes the whole PCID */
    cost = mmu_shootdown(TM.m, 3, a, 0, 64 << 12, 12);
    ck_assert_uint_eq(cost, 3000);
    ck_assert_ptr_null(tlb_lookup((tlb *)mmu_tlb(TM.m, 1, MMU_L1D), 0x2000, 1, &s, 0));
    ck_assert_uint_eq(tm_stat("tlb.pcid_flushes"), 3);
    tm_destroy();
}
END_TEST

START_TEST(mmu_ifetch_uses_the_itlb)
{
    struct mmu_params p = tm_params();
    tm_create(&p);
    mmu_switch(TM.m, 0, pgtable_mm_create(TM.pt), 1, 1);
    for (int i = 0; i < 10; i++)
        tm_access(0, 0x400000 + 4 * (uint64_t)i, MM_EV_IFETCH, NULL);
    ck_assert_uint_eq(tm_stat("tlb.l1i.accesses"), 10);
    ck_assert_uint_eq(tm_stat("tlb.l1i.misses"), 1);
    ck_assert_uint_eq(tm_stat("tlb.l1d.accesses"), 0);
    /* the STLB is shared: the data side finds the code page there */
    tm_read(0x400000);
    ck_assert_uint_eq(tm_stat("tlb.stlb.hits"), 1);
    tm_destroy();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tlb");
    TCase *tc = tcase_create("tlb");
    tcase_add_test(tc, cyclic_pages_against_fully_associative_lru);
    tcase_add_test(tc, plru_keeps_a_set_that_fits);
    tcase_add_test(tc, arrays_by_page_size);
    tcase_add_test(tc, shared_array_holds_4k_and_2m);
    tcase_add_test(tc, pcid_tags_and_global_entries);
    tcase_add_test(tc, invalidate_page_drops_exactly_one);
    tcase_add_test(tc, geometry_checks);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("mmu");
    tcase_set_timeout(tm, 60);
    tcase_add_test(tm, mmu_cyclic_pages_miss_every_time_or_never);
    tcase_add_test(tm, mmu_stlb_backs_the_l1);
    tcase_add_test(tm, mmu_huge_pages_take_512x_fewer_misses);
    tcase_add_test(tm, mmu_1g_pages_hit_the_1g_arrays);
    tcase_add_test(tm, mmu_context_switch_with_and_without_pcid);
    tcase_add_test(tm, mmu_invlpg_drops_one_page);
    tcase_add_test(tm, mmu_dirty_assist_once_per_clean_page);
    tcase_add_test(tm, mmu_protection_fault_from_a_tlb_hit);
    tcase_add_test(tm, mmu_shootdown_pays_once_per_remote_cpu);
    tcase_add_test(tm, mmu_ifetch_uses_the_itlb);
    suite_add_tcase(s, tm);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
