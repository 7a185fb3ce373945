/* Unit tests for the page walker and page-walk caches (models/hw/walker.h, pwc.h), through the
 * MMU: loads per walk (levels, PWC hits, huge leaves, 5 levels, nested 2D walks), the physical
 * addresses of the loads and the caches that serve them, walk latency, Accessed/Dirty updates,
 * faults and their error codes, and PWC invalidation. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/common/hist.h"
#include "models/common/stats.h"
#include "models/hw/mmu.h"
#include "models/hw/pwc.h"
#include "models/os/pgtable.h"

#include "mmu_test_util.h"

/* Each access below is to a page not in any TLB: TLBs of one 4K entry, no STLB. */
static struct mmu_params tiny_tlbs(void)
{
    struct mmu_params p = tm_params();
    p.l1d = (struct tlb_params){{1, 0, 0}, {1, 0, 0}, TLB_SHARE_NONE, 0, REPL_LRU, 1};
    memset(&p.stlb, 0, sizeof p.stlb);
    return p;
}

/* Maps n pages from va (4K each, frames from 0x100000) without faults; returns the root. */
static uint64_t premap(uint64_t root, uint64_t va, uint64_t n, enum pg_size size, uint64_t flags)
{
    uint64_t step = (uint64_t)1 << pg_shift(size), frames = step >> 12;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pfn = (TM.data.next + frames - 1) & ~(frames - 1);
        TM.data.next = pfn + frames;
        ck_assert_int_eq(pgtable_map(TM.pt, root, va + i * step, pfn, size, flags), PGTABLE_OK);
    }
    return root;
}

/* Nested: maps the guest frame that backs va in the host tables, if it is not yet. */
static void host_premap(uint64_t root, uint64_t va)
{
    struct pgtable_leaf gl;
    ck_assert_int_eq(pgtable_lookup(TM.pt, root, va, &gl), 1);
    if (pgtable_lookup(TM.hpt, TM.hroot, gl.pfn << 12, NULL))
        return;
    ck_assert_int_eq(pgtable_map(TM.hpt, TM.hroot, gl.pfn << 12, TM.hframes.next++, PG_4K,
                                 PTE_RW | PTE_US | PTE_A),
                     PGTABLE_OK);
}

static uint64_t setup(const struct mmu_params *p)
{
    tm_create(p);
    uint64_t root = pgtable_mm_create(TM.pt);
    mmu_switch(TM.m, 0, root, 1, 1);
    return root;
}

START_TEST(refs_per_walk_equal_levels_without_pwcs)
{
    for (unsigned levels = 4; levels <= 5; levels++) {
        struct mmu_params p = tiny_tlbs();
        p.walker.levels = levels;
        uint64_t root = setup(&p);
        premap(root, 0x10000000, 64, PG_4K, PTE_RW | PTE_US | PTE_A);
        for (uint64_t i = 0; i < 64; i++)
            tm_read(0x10000000 + (i << 12));
        ck_assert_uint_eq(tm_stat("walker.walks"), 64);
        ck_assert_uint_eq(tm_stat("walker.memory_refs"), 64 * levels);
        const hist *h = tm_hist("walker.refs_per_walk");
        ck_assert_uint_eq(h->min, levels);
        ck_assert_uint_eq(h->max, levels);
        ck_assert_uint_eq(tm_stat("walker.faults"), 0);
        ck_assert_uint_eq(tm_stat("walker.ad_updates"), 0);
        tm_destroy();
    }
}
END_TEST

/* Pages in one 2 MiB region: after the first walk the PDE cache leaves one load. A page in another
 * 2 MiB region of the same 1 GiB: the PDPTE cache leaves two; another 1 GiB: the PML4E cache
 * leaves three. */
START_TEST(pwc_hits_skip_levels)
{
    struct mmu_params p = tiny_tlbs();
    tm_pwc_on(&p);
    uint64_t root = setup(&p);
    uint64_t base = 0x7f0000000000ull;
    premap(root, base, 8, PG_4K, PTE_RW | PTE_US | PTE_A);
    premap(root, base + (2ull << 20), 1, PG_4K, PTE_RW | PTE_US | PTE_A);
    premap(root, base + (1ull << 30), 1, PG_4K, PTE_RW | PTE_US | PTE_A);
    tm_read(base);
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 4);
    for (uint64_t i = 1; i < 8; i++)
        tm_read(base + (i << 12));
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 4 + 7);
    ck_assert_uint_eq(tm_stat("pwc.pde.hits"), 7);
    tm_read(base + (2ull << 20));
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 4 + 7 + 2);
    ck_assert_uint_eq(tm_stat("pwc.pdpt.hits"), 1);
    tm_read(base + (1ull << 30));
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 4 + 7 + 2 + 3);
    ck_assert_uint_eq(tm_stat("pwc.pml4.hits"), 1);
    /* a level is consulted only when every deeper one missed */
    ck_assert_uint_eq(tm_stat("pwc.pde.accesses"), 10);
    ck_assert_uint_eq(tm_stat("pwc.pdpt.accesses"), 3);
    ck_assert_uint_eq(tm_stat("pwc.pml4.accesses"), 2);
    ck_assert_ptr_null(stats_find(TM.reg, "pwc.pml5.accesses")); /* 4-level: no PML5E cache */
    tm_destroy();

    /* 5 levels: one more load on a cold walk, the PML5E cache consulted last */
    p.walker.levels = 5;
    root = setup(&p);
    premap(root, base, 1, PG_4K, PTE_RW | PTE_US | PTE_A);
    premap(root, base + (1ull << 39), 1, PG_4K, PTE_RW | PTE_US | PTE_A);
    tm_read(base);
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 5);
    tm_read(base + (1ull << 39)); /* another PML4 entry, same PML5 entry */
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 5 + 4);
    ck_assert_uint_eq(tm_stat("pwc.pml5.hits"), 1);
    tm_destroy();
}
END_TEST

START_TEST(huge_leaves_end_the_walk_early)
{
    struct mmu_params p = tiny_tlbs();
    uint64_t root = setup(&p);
    premap(root, 0x40000000, 2, PG_2M, PTE_RW | PTE_US | PTE_A);
    premap(root, 0x80000000, 1, PG_1G, PTE_RW | PTE_US | PTE_A);
    uint64_t pa = tm_read(0x40000000 + 0x12345);
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 3);
    ck_assert_uint_eq(pa & 0x1fffff, 0x12345);
    pa = tm_read(0x80000000 + 0x2345678);
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 3 + 2);
    ck_assert_uint_eq(pa & 0x3fffffff, 0x2345678);
    tm_destroy();
}
END_TEST

/* The loads go to the entries' physical addresses, through the L1D: the lines of the four
 * entries are in the L1D afterwards, and a cold walk's loads all come from memory. */
START_TEST(loads_are_real_physical_addresses)
{
    struct mmu_params p = tiny_tlbs();
    uint64_t root = setup(&p);
    uint64_t va = 0x00007f5555555000ull;
    premap(root, va, 1, PG_4K, PTE_RW | PTE_US | PTE_A);
    uint64_t epa[5], table = root;
    for (unsigned level = 4; level >= 1; level--) {
        unsigned idx = pgtable_index(va, level);
        epa[level] = table * 4096 + idx * 8;
        table = (pgtable_entry(TM.pt, table, idx) & PTE_ADDR_MASK) >> 12;
        ck_assert_int_eq(cache_hier_contains(TM.h, 0, CACHE_L1D, epa[level]), 0);
    }
    struct pgtable_leaf l;
    pgtable_lookup(TM.pt, root, va, &l);
    ck_assert_uint_eq(l.pte_paddr, epa[1]);
    uint32_t lat;
    tm_access(0, va, MM_EV_READ, &lat);
    for (unsigned level = 4; level >= 1; level--)
        ck_assert_msg(cache_hier_contains(TM.h, 0, CACHE_L1D, epa[level]), "level %u", level);
    ck_assert_uint_eq(tm_stat("walker.loads_mem"), 4);
    ck_assert_uint_eq(tm_stat("cache.l1d.accesses"), 4);
    ck_assert_uint_eq(tm_stat("cache.l1d.misses"), 4);
    /* every load missed L1 (1), L2 (10), LLC (30) and came from memory (100) */
    ck_assert_uint_eq(lat, 4 * 141);
    ck_assert_uint_eq(tm_stat("walker.cycles"), 4 * 141);
    ck_assert_uint_eq(tm_hist("walker.walk_latency")->max, 4 * 141);
    /* the next page's walk: the upper lines hit in the L1D, its PTE shares the line */
    tm_access(0, va + 4096, MM_EV_READ, &lat);
    /* not premapped: a walk that faults at the PTE and its retry, 8 loads from the L1D */
    ck_assert_uint_eq(tm_stat("walker.loads_l1d"), 8);
    ck_assert_uint_eq(tm_stat("walker.loads_mem"), 4);
    tm_destroy();
}
END_TEST

START_TEST(loads_can_enter_at_l2_or_llc)
{
    enum mem_level lv[2] = {LEVEL_L2, LEVEL_LLC};
    for (int i = 0; i < 2; i++) {
        struct mmu_params p = tiny_tlbs();
        p.walker.cache_level = lv[i];
        uint64_t root = setup(&p);
        premap(root, 0x10000000, 2, PG_4K, PTE_RW | PTE_US | PTE_A);
        uint32_t lat;
        tm_access(0, 0x10000000, MM_EV_READ, &lat);
        ck_assert_uint_eq(lat, 4 * (i == 0 ? 140 : 130));
        struct pgtable_leaf l;
        pgtable_lookup(TM.pt, root, 0x10000000, &l);
        ck_assert_int_eq(cache_hier_contains(TM.h, 0, CACHE_L1D, l.pte_paddr), 0);
        ck_assert_int_eq(cache_hier_contains(TM.h, 0, i == 0 ? CACHE_L2 : CACHE_LLC, l.pte_paddr), 1);
        ck_assert_uint_eq(tm_stat("cache.l1d.accesses"), 0);
        tm_access(0, 0x10001000, MM_EV_READ, &lat); /* the same lines again */
        ck_assert_uint_eq(lat, 4 * (i == 0 ? 10 : 30));
        ck_assert_uint_eq(tm_stat(i == 0 ? "walker.loads_l2" : "walker.loads_llc"), 4);
        tm_destroy();
    }
}
END_TEST

/* A walk sets Accessed (one write of the entry's line); a store to a clean page sets Dirty, once;
 * a first access that is a store sets both in one update. */
START_TEST(accessed_and_dirty_bits)
{
    struct mmu_params p = tiny_tlbs();
    uint64_t root = setup(&p);
    premap(root, 0x10000000, 3, PG_4K, PTE_RW | PTE_US);
    tm_read(0x10000000);
    struct pgtable_leaf l;
    pgtable_lookup(TM.pt, root, 0x10000000, &l);
    ck_assert_uint_eq(l.pte & (PTE_A | PTE_D), PTE_A);
    ck_assert_uint_eq(tm_stat("walker.ad_updates"), 1);
    ck_assert_uint_eq(tm_stat("cache.l1d.writes"), 1);
    tm_read(0x10001000);
    tm_read(0x10000000); /* A already set: no update */
    ck_assert_uint_eq(tm_stat("walker.ad_updates"), 2);
    tm_write(0x10000000);
    pgtable_lookup(TM.pt, root, 0x10000000, &l);
    ck_assert_uint_eq(l.pte & (PTE_A | PTE_D), PTE_A | PTE_D);
    ck_assert_uint_eq(tm_stat("walker.ad_updates"), 3);
    tm_write(0x10002000); /* clean and not accessed: A and D in one update */
    pgtable_lookup(TM.pt, root, 0x10002000, &l);
    ck_assert_uint_eq(l.pte & (PTE_A | PTE_D), PTE_A | PTE_D);
    ck_assert_uint_eq(tm_stat("walker.ad_updates"), 4);
    /* the upper entries were made with A set (Linux's _PAGE_TABLE): never updated */
    tm_write(0x10000000);
    tm_write(0x10002000);
    ck_assert_uint_eq(tm_stat("walker.ad_updates"), 4);
    tm_destroy();
}
END_TEST

START_TEST(faults_carry_x86_error_codes)
{
    struct mmu_params p = tiny_tlbs();
    uint64_t root = setup(&p);
    tm_write(0x5000);
    ck_assert_uint_eq(TM.last_err, WALK_ERR_W | WALK_ERR_U);
    ck_assert_uint_eq(TM.last_fault_addr, 0x5000);
    tm_access(0, 0x6000, MM_EV_IFETCH, NULL);
    ck_assert_uint_eq(TM.last_err, WALK_ERR_I | WALK_ERR_U);
    tm_read(0xffff888000000000ull); /* a supervisor access */
    ck_assert_uint_eq(TM.last_err, 0);
    ck_assert_uint_eq(TM.faults, 3);
    /* not executable: a protection fault for a fetch */
    premap(root, 0x20000000, 1, PG_4K, PTE_RW | PTE_US | PTE_NX | PTE_A);
    tm_access(0, 0x20000000, MM_EV_IFETCH, NULL);
    ck_assert_uint_eq(TM.last_err, WALK_ERR_P | WALK_ERR_I | WALK_ERR_U);
    ck_assert_uint_eq(TM.prot_faults, 1);
    /* a user access to a supervisor page */
    premap(root, 0x30000000, 1, PG_4K, PTE_RW | PTE_A);
    tm_read(0x30000000);
    ck_assert_uint_eq(TM.last_err, WALK_ERR_P | WALK_ERR_U);
    ck_assert_uint_eq(tm_stat("mmu.faults"), 5);
    ck_assert_uint_eq(tm_stat("mmu.fault_cycles"), 5000);
    tm_destroy();
}
END_TEST

/* A fault drops the page-walk-cache entries that served the faulting address (SDM 4.10.4.1), so
 * the retry walks every level; INVLPG drops the PCID's entries. */
START_TEST(faults_and_invlpg_invalidate_pwcs)
{
    struct mmu_params p = tiny_tlbs();
    tm_pwc_on(&p);
    uint64_t root = setup(&p);
    premap(root, 0x10000000, 1, PG_4K, PTE_RW | PTE_US | PTE_A);
    tm_read(0x10000000);
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 4);
    tm_read(0x10001000); /* not mapped: PDE hit (1 load), fault, retry of 4 loads */
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 4 + 1 + 4);
    tm_read(0x10002000); /* the PWCs were refilled by the retry */
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 4 + 1 + 4 + 1 + 4);
    mmu_invlpg(TM.m, 0, 0x10000000);
    tm_read(0x10000000);
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 4 + 1 + 4 + 1 + 4 + 4);
    /* without PCIDs a context switch drops every entry too */
    tm_destroy();
    p.pcid = 0;
    root = setup(&p);
    premap(root, 0x10000000, 2, PG_4K, PTE_RW | PTE_US | PTE_A);
    tm_read(0x10000000);
    mmu_switch(TM.m, 0, root, 0, 0);
    tm_read(0x10001000);
    ck_assert_uint_eq(tm_stat("walker.memory_refs"), 8);
    tm_destroy();
}
END_TEST

/* Nested paging, 4+4 levels, no PWCs: each of the 4 guest entries needs a host walk of 4 loads
 * and its own load, and the guest-physical page another host walk: 4 x 5 + 4 = 24. */
START_TEST(nested_walk_takes_24_loads)
{
    struct {
        unsigned g, h;
        enum pg_size hs;
        unsigned refs;
    } cases[] = {{4, 4, PG_4K, 24}, {5, 5, PG_4K, 35}, {4, 5, PG_4K, 29}, {4, 4, PG_2M, 19}};
    for (unsigned c = 0; c < sizeof cases / sizeof *cases; c++) {
        struct mmu_params p = tiny_tlbs();
        p.walker.nested = 1;
        p.walker.levels = cases[c].g;
        p.walker.host_levels = cases[c].h;
        tm_create(&p);
        TM.host_size = cases[c].hs;
        uint64_t root = pgtable_mm_create(TM.pt);
        mmu_switch(TM.m, 0, root, 1, 1);
        /* first touches map the guest page and every guest-physical page on the way */
        uint64_t pa1 = tm_read(0x10000000);
        ck_assert_uint_eq(TM.faults, 1);
        /* 4K host pages: the guest root, each new guest table and the data page; 2M: the tables'
         * region and the data's */
        ck_assert_uint_eq(TM.host_faults, cases[c].hs == PG_4K ? cases[c].g + 1 : 2);
        /* the next page of the same guest table: a full 2D walk with no faults */
        uint64_t refs = tm_stat("walker.memory_refs");
        uint64_t guest = tm_stat("walker.guest_refs"), host = tm_stat("walker.host_refs");
        premap(root, 0x10001000, 1, PG_4K, PTE_RW | PTE_US | PTE_A);
        host_premap(root, 0x10001000);
        uint64_t pa2 = tm_read(0x10001000);
        ck_assert_uint_eq(tm_stat("walker.memory_refs") - refs, cases[c].refs);
        ck_assert_uint_eq(tm_stat("walker.guest_refs") - guest, cases[c].g);
        ck_assert_uint_eq(tm_stat("walker.host_refs") - host, cases[c].refs - cases[c].g);
        ck_assert_uint_eq(tm_hist("walker.refs_per_walk")->max, cases[c].refs);
        ck_assert_uint_ne(pa1 >> 12, pa2 >> 12);
        /* the host tables map the guest frame of the data page */
        struct pgtable_leaf gl, hl;
        ck_assert_int_eq(pgtable_lookup(TM.pt, root, 0x10001000, &gl), 1);
        ck_assert_int_eq(pgtable_lookup(TM.hpt, TM.hroot, gl.pfn << 12, &hl), 1);
        uint64_t hmask = ((uint64_t)1 << pg_shift(hl.size)) - 1;
        ck_assert_uint_eq(pa2, (hl.pfn << 12) + ((gl.pfn << 12) & hmask));
        tm_destroy();
    }
}
END_TEST

/* Nested with page-walk caches: guest and host levels have their own, split in the statistics. */
START_TEST(nested_pwcs_are_separate)
{
    struct mmu_params p = tiny_tlbs();
    p.walker.nested = 1;
    tm_pwc_on(&p);
    tm_create(&p);
    uint64_t root = pgtable_mm_create(TM.pt);
    mmu_switch(TM.m, 0, root, 1, 1);
    tm_read(0x10000000);
    premap(root, 0x10001000, 1, PG_4K, PTE_RW | PTE_US | PTE_A);
    host_premap(root, 0x10001000);
    uint64_t refs = tm_stat("walker.memory_refs");
    tm_read(0x10001000);
    /* guest PDE hit: one guest load; its guest-physical address shares the host PDE of the guest
     * tables (1 host load), and the data page's too (1 host load) */
    ck_assert_uint_eq(tm_stat("walker.memory_refs") - refs, 3);
    ck_assert(tm_stat("pwc.pde.hits") >= 1);
    ck_assert(tm_stat("pwc.host.pde.hits") >= 2);
    ck_assert_uint_eq(tm_stat("walker.host_faults"), TM.host_faults);
    tm_destroy();
}
END_TEST

START_TEST(pwc_geometry_checks)
{
    mm_err err;
    struct pwc_params p;
    memset(&p, 0, sizeof p);
    p.entries[2] = 32;
    p.assoc[2] = 8;
    ck_assert_int_eq(pwc_params_check(&p, &err), 0);
    p.assoc[2] = 6;
    ck_assert_int_eq(pwc_params_check(&p, &err), -1);
    ck_assert_msg(strstr(err.msg, "pde_entries 32 is not a multiple of pde_assoc 6"), "%s", err.msg);
    p.assoc[2] = 8;
    p.entries[4] = 12;
    p.assoc[4] = 4;
    ck_assert_int_eq(pwc_params_check(&p, &err), -1);
    ck_assert_msg(strstr(err.msg, "pml4"), "%s", err.msg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("walker");
    TCase *tc = tcase_create("walker");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, refs_per_walk_equal_levels_without_pwcs);
    tcase_add_test(tc, pwc_hits_skip_levels);
    tcase_add_test(tc, huge_leaves_end_the_walk_early);
    tcase_add_test(tc, loads_are_real_physical_addresses);
    tcase_add_test(tc, loads_can_enter_at_l2_or_llc);
    tcase_add_test(tc, accessed_and_dirty_bits);
    tcase_add_test(tc, faults_carry_x86_error_codes);
    tcase_add_test(tc, faults_and_invlpg_invalidate_pwcs);
    tcase_add_test(tc, nested_walk_takes_24_loads);
    tcase_add_test(tc, nested_pwcs_are_separate);
    tcase_add_test(tc, pwc_geometry_checks);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
