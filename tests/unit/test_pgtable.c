/* Unit tests for the page tables (models/os/pgtable.h): the x86 entry layout, tables built on
 * demand at real physical addresses, huge leaves, unmap (freeing emptied tables, splitting huge
 * leaves), protection changes, the shared kernel half, teardown returning every frame, and the
 * pfn -> table map under churn against a reference. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "models/common/rng.h"
#include "models/common/stats.h"
#include "models/os/pgtable.h"

#include "mmu_test_util.h"

static struct tframes F;
static pgtable *PT;

static pgtable *mk(unsigned levels)
{
    memset(&F, 0, sizeof F);
    F.next = 100;
    struct pgtable_frames src = {tframes_alloc, tframes_free, &F};
    PT = pgtable_create(levels, &src, NULL, NULL);
    return PT;
}

static void done(void)
{
    pgtable_destroy(PT);
    PT = NULL;
}

START_TEST(entry_bits_follow_the_sdm)
{
    /* Intel SDM vol. 3, table 4-19 (a 4-level PTE mapping a 4 KiB page) */
    ck_assert_uint_eq(PTE_P, 1ull << 0);
    ck_assert_uint_eq(PTE_RW, 1ull << 1);
    ck_assert_uint_eq(PTE_US, 1ull << 2);
    ck_assert_uint_eq(PTE_A, 1ull << 5);
    ck_assert_uint_eq(PTE_D, 1ull << 6);
    ck_assert_uint_eq(PTE_PS, 1ull << 7);
    ck_assert_uint_eq(PTE_G, 1ull << 8);
    ck_assert_uint_eq(PTE_NX, 1ull << 63);
    ck_assert_uint_eq(PTE_ADDR_MASK, 0x000ffffffffff000ull);
    ck_assert_uint_eq(pgtable_index(0x00007fffffffffffull, 4), 255);
    ck_assert_uint_eq(pgtable_index(0xffff800000000000ull, 4), 256);
    ck_assert_uint_eq(pgtable_index(0x0000000000201000ull, 2), 1);
    ck_assert_uint_eq(pgtable_index(0x0000000000201000ull, 1), 1);
}
END_TEST

/* Follows the tree by hand with pgtable_entry: the entry addresses are table pfn * 4096 + 8 * index. */
START_TEST(map_4k_builds_four_tables_at_real_addresses)
{
    mk(4);
    uint64_t root = pgtable_mm_create(PT);
    ck_assert_uint_eq(root, 100);
    ck_assert_uint_eq(pgtable_pages(PT), 1);
    uint64_t va = 0x00007f1234567000ull;
    ck_assert_int_eq(pgtable_map(PT, root, va, 0x5555, PG_4K, PTE_RW | PTE_US | PTE_NX), PGTABLE_OK);
    ck_assert_uint_eq(pgtable_pages(PT), 4);
    ck_assert_uint_eq(pgtable_mm_pages(PT, root), 4);
    uint64_t table = root, e = 0, epa = 0;
    for (unsigned level = 4; level >= 1; level--) {
        unsigned idx = pgtable_index(va, level);
        e = pgtable_entry(PT, table, idx);
        epa = table * 4096 + idx * 8;
        ck_assert_uint_eq(pgtable_read_phys(PT, epa), e);
        ck_assert_msg(e & PTE_P, "level %u not present", level);
        if (level > 1) {
            /* Linux's _PAGE_TABLE: P|RW|US|A|D */
            ck_assert_uint_eq(e & 0xfff, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
            table = (e & PTE_ADDR_MASK) >> 12;
            ck_assert(pgtable_is_table(PT, table));
        }
    }
    ck_assert_uint_eq(e, (0x5555ull << 12) | PTE_P | PTE_RW | PTE_US | PTE_NX);
    struct pgtable_leaf l;
    ck_assert_int_eq(pgtable_lookup(PT, root, va + 0x123, &l), 1);
    ck_assert_uint_eq(l.pfn, 0x5555);
    ck_assert_uint_eq(l.size, PG_4K);
    ck_assert_uint_eq(l.level, 1);
    ck_assert_uint_eq(l.pte, e);
    ck_assert_uint_eq(l.pte_paddr, epa);
    ck_assert_int_eq(pgtable_lookup(PT, root, va + 4096, NULL), 0);
    /* the same page again, and a second page in the same table: no new tables */
    ck_assert_int_eq(pgtable_map(PT, root, va, 0x6666, PG_4K, PTE_RW), PGTABLE_EEXIST);
    ck_assert_int_eq(pgtable_map(PT, root, va + 4096, 0x6666, PG_4K, PTE_RW), PGTABLE_OK);
    ck_assert_uint_eq(pgtable_pages(PT), 4);
    /* memory without a table reads as not present */
    ck_assert_uint_eq(pgtable_read_phys(PT, 0x5555ull << 12), 0);
    ck_assert_uint_eq(pgtable_entry(PT, 12345, 0), 0);
    done();
}
END_TEST

START_TEST(five_levels_take_one_more_table)
{
    mk(5);
    uint64_t root = pgtable_mm_create(PT);
    uint64_t va = 0x00ff123456789000ull; /* above 48 bits: only LA57 maps it */
    ck_assert_int_eq(pgtable_map(PT, root, va, 0x777, PG_4K, PTE_RW | PTE_US), PGTABLE_OK);
    ck_assert_uint_eq(pgtable_pages(PT), 5);
    struct pgtable_leaf l;
    ck_assert_int_eq(pgtable_lookup(PT, root, va, &l), 1);
    ck_assert_uint_eq(l.pfn, 0x777);
    ck_assert_uint_eq(pgtable_index(va, 5), (va >> 48) & 511);
    done();
}
END_TEST

START_TEST(huge_leaves_at_pd_and_pdpt)
{
    mk(4);
    uint64_t root = pgtable_mm_create(PT);
    /* 2 MiB: root, PDPT, PD */
    ck_assert_int_eq(pgtable_map(PT, root, 0x40000000, 0x200, PG_2M, PTE_RW | PTE_US), PGTABLE_OK);
    ck_assert_uint_eq(pgtable_pages(PT), 3);
    struct pgtable_leaf l;
    ck_assert_int_eq(pgtable_lookup(PT, root, 0x40000000 + 0x12345, &l), 1);
    ck_assert_uint_eq(l.size, PG_2M);
    ck_assert_uint_eq(l.level, 2);
    ck_assert_uint_eq(l.pfn, 0x200);
    ck_assert(l.pte & PTE_PS);
    /* 1 GiB: shares the PDPT */
    ck_assert_int_eq(pgtable_map(PT, root, 0x80000000, 0x40000, PG_1G, PTE_RW | PTE_US), PGTABLE_OK);
    ck_assert_uint_eq(pgtable_pages(PT), 3);
    ck_assert_int_eq(pgtable_lookup(PT, root, 0x80000000 + 0x3fffffff, &l), 1);
    ck_assert_uint_eq(l.size, PG_1G);
    ck_assert_uint_eq(l.level, 3);
    /* misaligned virtual address or frame */
    ck_assert_int_eq(pgtable_map(PT, root, 0x40201000, 0x400, PG_2M, 0), PGTABLE_EINVAL);
    ck_assert_int_eq(pgtable_map(PT, root, 0x40400000, 0x401, PG_2M, 0), PGTABLE_EINVAL);
    /* a 4K page under a huge leaf, a huge page over a table */
    ck_assert_int_eq(pgtable_map(PT, root, 0x40001000, 1, PG_4K, 0), PGTABLE_EEXIST);
    ck_assert_int_eq(pgtable_map(PT, root, 0x81000000, 1, PG_4K, 0), PGTABLE_EEXIST);
    ck_assert_int_eq(pgtable_map(PT, root, 0x600000, 1, PG_4K, 0), PGTABLE_OK);
    ck_assert_int_eq(pgtable_map(PT, root, 0x600000, 0x600, PG_2M, 0), PGTABLE_EEXIST);
    ck_assert_int_eq(pgtable_map(PT, root, 0x0, 0x0, PG_1G, 0), PGTABLE_EEXIST);
    /* an unknown root */
    ck_assert_int_eq(pgtable_map(PT, 99999, 0x1000, 1, PG_4K, 0), PGTABLE_EINVAL);
    done();
}
END_TEST

struct leaves {
    uint64_t n, pages4k, last_pfn;
    enum pg_size last_size;
};

static void count_leaf(void *ctx, uint64_t va, uint64_t pfn, enum pg_size size, uint64_t pte)
{
    (void)va;
    (void)pte;
    struct leaves *l = ctx;
    l->n++;
    l->pages4k += (uint64_t)1 << (9 * size);
    l->last_pfn = pfn;
    l->last_size = size;
}

START_TEST(unmap_frees_emptied_tables)
{
    mk(4);
    uint64_t root = pgtable_mm_create(PT);
    ck_assert_int_eq(pgtable_map(PT, root, 0x1000, 0x10, PG_4K, PTE_RW), PGTABLE_OK);
    ck_assert_int_eq(pgtable_map(PT, root, 0x2000, 0x11, PG_4K, PTE_RW), PGTABLE_OK);
    struct leaves lv = {0};
    struct pgtable_change ch;
    ck_assert_int_eq(pgtable_unmap(PT, root, 0x1000, 4096, count_leaf, &lv, &ch), PGTABLE_OK);
    ck_assert_uint_eq(lv.n, 1);
    ck_assert_uint_eq(lv.last_pfn, 0x10);
    ck_assert_uint_eq(ch.leaves, 1);
    ck_assert_uint_eq(ch.pages_4k, 1);
    ck_assert_uint_eq(ch.tables_freed, 0);
    ck_assert_int_eq(ch.upper_changed, 0);
    ck_assert_uint_eq(pgtable_pages(PT), 4);
    ck_assert_int_eq(pgtable_lookup(PT, root, 0x1000, NULL), 0);
    ck_assert_int_eq(pgtable_lookup(PT, root, 0x2000, NULL), 1);
    /* the last page: PT, PD and PDPT go back to the source, the root stays */
    ck_assert_int_eq(pgtable_unmap(PT, root, 0, 1ull << 30, count_leaf, &lv, &ch), PGTABLE_OK);
    ck_assert_uint_eq(ch.tables_freed, 3);
    ck_assert_int_eq(ch.upper_changed, 1);
    ck_assert_uint_eq(pgtable_pages(PT), 1);
    ck_assert_uint_eq(F.frees, 3);
    /* unmapping nothing changes nothing */
    ck_assert_int_eq(pgtable_unmap(PT, root, 0x5000, 4096, NULL, NULL, &ch), PGTABLE_OK);
    ck_assert_uint_eq(ch.leaves, 0);
    done();
}
END_TEST

START_TEST(unmap_in_a_huge_page_splits_it)
{
    mk(4);
    uint64_t root = pgtable_mm_create(PT);
    ck_assert_int_eq(pgtable_map(PT, root, 0x200000, 0x400, PG_2M, PTE_RW | PTE_US | PTE_D),
                     PGTABLE_OK);
    struct leaves lv = {0};
    struct pgtable_change ch;
    ck_assert_int_eq(pgtable_unmap(PT, root, 0x201000, 4096, count_leaf, &lv, &ch), PGTABLE_OK);
    ck_assert_uint_eq(ch.splits, 1);
    ck_assert_int_eq(ch.upper_changed, 1);
    ck_assert_uint_eq(ch.pages_4k, 1);
    ck_assert_uint_eq(lv.last_pfn, 0x401);
    ck_assert_uint_eq(lv.last_size, PG_4K);
    ck_assert_uint_eq(pgtable_pages(PT), 4); /* a PT now */
    struct pgtable_leaf l;
    ck_assert_int_eq(pgtable_lookup(PT, root, 0x200000, &l), 1);
    ck_assert_uint_eq(l.size, PG_4K);
    ck_assert_uint_eq(l.pfn, 0x400);
    ck_assert_uint_eq(l.pte & (PTE_RW | PTE_US | PTE_D | PTE_PS), PTE_RW | PTE_US | PTE_D);
    ck_assert_int_eq(pgtable_lookup(PT, root, 0x201000, NULL), 0);
    ck_assert_int_eq(pgtable_lookup(PT, root, 0x3ff000, &l), 1);
    ck_assert_uint_eq(l.pfn, 0x5ff);
    /* a 1 GiB page split in part becomes 2 MiB pages */
    ck_assert_int_eq(pgtable_map(PT, root, 0x40000000, 0x40000, PG_1G, PTE_RW), PGTABLE_OK);
    ck_assert_int_eq(pgtable_unmap(PT, root, 0x40000000, 2 << 20, count_leaf, &lv, &ch), PGTABLE_OK);
    ck_assert_uint_eq(ch.splits, 1);
    ck_assert_uint_eq(ch.pages_4k, 512);
    ck_assert_int_eq(pgtable_lookup(PT, root, 0x40200000, &l), 1);
    ck_assert_uint_eq(l.size, PG_2M);
    ck_assert_uint_eq(l.pfn, 0x40200);
    done();
}
END_TEST

START_TEST(protect_changes_leaves_in_range)
{
    mk(4);
    uint64_t root = pgtable_mm_create(PT);
    for (uint64_t i = 0; i < 4; i++)
        ck_assert_int_eq(pgtable_map(PT, root, 0x10000 + i * 4096, 0x20 + i, PG_4K, PTE_RW | PTE_US),
                         PGTABLE_OK);
    struct pgtable_change ch;
    ck_assert_int_eq(pgtable_protect(PT, root, 0x11000, 2 * 4096, PTE_NX, PTE_RW, &ch), PGTABLE_OK);
    ck_assert_uint_eq(ch.leaves, 2);
    struct pgtable_leaf l;
    pgtable_lookup(PT, root, 0x10000, &l);
    ck_assert_uint_eq(l.pte & (PTE_RW | PTE_NX), PTE_RW);
    pgtable_lookup(PT, root, 0x11000, &l);
    ck_assert_uint_eq(l.pte & (PTE_RW | PTE_NX), PTE_NX);
    pgtable_lookup(PT, root, 0x12000, &l);
    ck_assert_uint_eq(l.pte & (PTE_RW | PTE_NX), PTE_NX);
    ck_assert_uint_eq(l.pfn, 0x22); /* the frame and P are never touched */
    pgtable_lookup(PT, root, 0x13000, &l);
    ck_assert_uint_eq(l.pte & (PTE_RW | PTE_NX), PTE_RW);
    /* A and D for the kernel model */
    ck_assert_uint_eq(pgtable_update(PT, root, 0x13000, PTE_A | PTE_D, 0) & (PTE_A | PTE_D), 0);
    ck_assert_uint_eq(pgtable_update(PT, root, 0x13000, 0, PTE_D) & (PTE_A | PTE_D), PTE_A | PTE_D);
    pgtable_lookup(PT, root, 0x13000, &l);
    ck_assert_uint_eq(l.pte & (PTE_A | PTE_D), PTE_A);
    ck_assert_uint_eq(pgtable_update(PT, root, 0x99000, PTE_A, 0), 0);
    /* the walker's path: OR bits in by physical address */
    pgtable_set_bits_phys(PT, l.pte_paddr, PTE_D);
    pgtable_lookup(PT, root, 0x13000, &l);
    ck_assert(l.pte & PTE_D);
    done();
}
END_TEST

START_TEST(kernel_half_is_shared)
{
    mk(4);
    uint64_t a = pgtable_mm_create(PT);
    uint64_t b = pgtable_mm_create(PT);
    uint64_t kva = 0xffff888000001000ull;
    ck_assert_int_eq(pgtable_map(PT, a, kva, 0x99, PG_4K, PTE_RW | PTE_G), PGTABLE_OK);
    struct pgtable_leaf l;
    ck_assert_int_eq(pgtable_lookup(PT, b, kva, &l), 1);
    ck_assert_uint_eq(l.pfn, 0x99);
    /* supervisor-only intermediate entries (_KERNPG_TABLE) */
    uint64_t top = pgtable_entry(PT, b, pgtable_index(kva, 4));
    ck_assert_uint_eq(top & (PTE_P | PTE_US), PTE_P);
    ck_assert_uint_eq(pgtable_entry(PT, a, pgtable_index(kva, 4)), top);
    /* kernel tables belong to no address space */
    ck_assert_uint_eq(pgtable_mm_pages(PT, a), 1);
    ck_assert_uint_eq(pgtable_pages(PT), 2 + 3);
    uint64_t c = pgtable_mm_create(PT);
    ck_assert_int_eq(pgtable_lookup(PT, c, kva, NULL), 1);
    /* a process going away leaves the kernel mappings */
    pgtable_mm_destroy(PT, a, NULL, NULL);
    ck_assert_int_eq(pgtable_lookup(PT, b, kva, NULL), 1);
    ck_assert_uint_eq(pgtable_pages(PT), 2 + 3);
    /* unmapping the kernel page frees its PT and PD, not the shared PDPT */
    struct pgtable_change ch;
    pgtable_unmap(PT, b, kva, 4096, NULL, NULL, &ch);
    ck_assert_uint_eq(ch.tables_freed, 2);
    ck_assert_int_eq(pgtable_lookup(PT, c, kva, NULL), 0);
    ck_assert_uint_eq(pgtable_pages(PT), 2 + 1);
    done();
}
END_TEST

START_TEST(teardown_returns_every_frame)
{
    mk(4);
    uint64_t r1 = pgtable_mm_create(PT), r2 = pgtable_mm_create(PT);
    for (uint64_t i = 0; i < 300; i++)
        ck_assert_int_eq(pgtable_map(PT, r1, i << 21, 0x1000 + i, PG_4K, PTE_RW | PTE_US), PGTABLE_OK);
    ck_assert_int_eq(pgtable_map(PT, r2, 1ull << 39, 0x40000, PG_1G, PTE_RW | PTE_US), PGTABLE_OK);
    ck_assert_int_eq(pgtable_map(PT, r1, 0xffffc90000000000ull, 0x5, PG_4K, PTE_RW | PTE_G), PGTABLE_OK);
    /* r1: root + 1 PDPT + 1 PD (300 x 2 MiB < 1 GiB) + 300 PTs */
    ck_assert_uint_eq(pgtable_mm_pages(PT, r1), 1 + 1 + 1 + 300);
    ck_assert_uint_eq(pgtable_mm_pages(PT, r2), 2);
    struct leaves lv = {0};
    pgtable_mm_destroy(PT, r1, count_leaf, &lv);
    ck_assert_uint_eq(lv.n, 300); /* the kernel page is not the process's */
    ck_assert_uint_eq(pgtable_pages(PT), 2 + 3);
    ck_assert_uint_eq(F.frees, 303);
    pgtable_destroy(PT);
    ck_assert_uint_eq(F.frees, F.allocs);
}
END_TEST

START_TEST(out_of_frames_is_reported)
{
    mk(4);
    F.limit = 3;
    uint64_t root = pgtable_mm_create(PT);
    ck_assert_int_eq(pgtable_map(PT, root, 0x1000, 1, PG_4K, 0), PGTABLE_ENOMEM);
    ck_assert_int_eq(pgtable_lookup(PT, root, 0x1000, NULL), 0);
    F.limit = 0;
    ck_assert_int_eq(pgtable_map(PT, root, 0x1000, 1, PG_4K, 0), PGTABLE_OK);
    ck_assert_uint_eq(pgtable_pages(PT), 4);
    done();
}
END_TEST

/* Many tables created and freed in random order: the pfn -> table map (with deletions) must agree
 * with a reference, and every lookup must find the right frame. */
START_TEST(reverse_map_survives_churn)
{
    mk(4);
    uint64_t root = pgtable_mm_create(PT);
    enum { N = 3000 };
    static uint8_t mapped[N];
    memset(mapped, 0, sizeof mapped);
    rng r;
    rng_seed(&r, 5);
    for (int step = 0; step < 20000; step++) {
        unsigned i = (unsigned)rng_below(&r, N);
        uint64_t va = (uint64_t)i << 21; /* one PT per slot */
        if (mapped[i]) {
            struct pgtable_change ch;
            ck_assert_int_eq(pgtable_unmap(PT, root, va, 4096, NULL, NULL, &ch), PGTABLE_OK);
            ck_assert_uint_eq(ch.leaves, 1);
            mapped[i] = 0;
        } else {
            ck_assert_int_eq(pgtable_map(PT, root, va, 7000000 + i, PG_4K, PTE_RW), PGTABLE_OK);
            mapped[i] = 1;
        }
    }
    uint64_t live = 0;
    for (unsigned i = 0; i < N; i++) {
        struct pgtable_leaf l;
        int m = pgtable_lookup(PT, root, (uint64_t)i << 21, &l);
        ck_assert_int_eq(m, mapped[i]);
        if (m) {
            live++;
            ck_assert_uint_eq(l.pfn, 7000000 + i);
            ck_assert(pgtable_is_table(PT, l.pte_paddr >> 12));
            ck_assert_uint_eq(pgtable_read_phys(PT, l.pte_paddr), l.pte);
        }
    }
    ck_assert_uint_eq(F.allocs - F.frees, pgtable_pages(PT));
    ck_assert(pgtable_pages(PT) >= 1 + live);
    done();
}
END_TEST

START_TEST(statistics_are_registered)
{
    stats_registry *reg = stats_create();
    memset(&F, 0, sizeof F);
    struct pgtable_frames src = {tframes_alloc, tframes_free, &F};
    pgtable *pt = pgtable_create(4, &src, reg, "os.pgtable");
    uint64_t root = pgtable_mm_create(pt);
    pgtable_map(pt, root, 0x1000, 1, PG_4K, 0);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.pgtable.pages")), 4);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.pgtable.tables_allocated")), 4);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.pgtable.maps")), 1);
    pgtable_unmap(pt, root, 0x1000, 4096, NULL, NULL, NULL);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.pgtable.unmaps")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.pgtable.tables_freed")), 3);
    pgtable_destroy(pt);
    stats_destroy(reg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pgtable");
    TCase *tc = tcase_create("pgtable");
    tcase_add_test(tc, entry_bits_follow_the_sdm);
    tcase_add_test(tc, map_4k_builds_four_tables_at_real_addresses);
    tcase_add_test(tc, five_levels_take_one_more_table);
    tcase_add_test(tc, huge_leaves_at_pd_and_pdpt);
    tcase_add_test(tc, unmap_frees_emptied_tables);
    tcase_add_test(tc, unmap_in_a_huge_page_splits_it);
    tcase_add_test(tc, protect_changes_leaves_in_range);
    tcase_add_test(tc, kernel_half_is_shared);
    tcase_add_test(tc, teardown_returns_every_frame);
    tcase_add_test(tc, out_of_frames_is_reported);
    tcase_add_test(tc, reverse_map_survives_churn);
    tcase_add_test(tc, statistics_are_registered);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
