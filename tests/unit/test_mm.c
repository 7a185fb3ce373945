/* Unit tests for models/os/mm: VMA split and merge sequences, find_vma, top-down placement (with
 * the stack guard gap, hints, 5-level paging and the THP alignment of v6.7+), brk, madvise
 * results, fork's COW ranges, segfault detection and stack growth, overcommit charges of mmap,
 * brk, mprotect and fork, /proc/PID/maps text, and a random stress against a page-level
 * reference. Expected values are worked by hand from Linux v6.12 (mm/vma.c, mm/mmap.c,
 * mm/mprotect.c, mm/madvise.c, kernel/fork.c, arch/x86/mm/mmap.c); each test says how.
 *
 * Layout numbers used throughout (x86_64, 4-level paging, no randomisation):
 *   TASK_SIZE = DEFAULT_MAP_WINDOW = 0x7ffffffff000
 *   mmap_base = TASK_SIZE - clamp(8 MiB stack rlimit + 1 MiB guard gap, 128 MiB, ...) =
 *               0x7ffffffff000 - 0x8000000 = 0x7ffff7fff000
 *   the stack VMA = 33 pages below STACK_TOP: [0x7ffffffde000, 0x7ffffffff000)
 *   start_brk = 0x555555559000 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/rng.h"
#include "models/common/stats.h"
#include "models/os/mm.h"
#include "models/os/overcommit.h"
#include "traces/event.h"

#define KiB 1024ull
#define MiB (1024ull * 1024)
#define PG 4096ull
#define BASE 0x7ffff7fff000ull
#define STACK_LO 0x7ffffffde000ull
#define STACK_HI 0x7ffffffff000ull

#define RW (MM_PROT_READ | MM_PROT_WRITE)
#define ANON_PRIV (MM_MAP_PRIVATE | MM_MAP_ANONYMOUS)
/* the flags of a private anonymous read-write mapping: VM_READ|VM_WRITE|VM_MAY*|VM_ACCOUNT */
#define ANON_RW_FLAGS (VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT)

struct env {
    overcommit *oc;
    task_table *tt;
    stats_registry *reg;
    mm_struct *mm;
};

static void env_make(struct env *e, const mm_layout *l, int mode, uint64_t ram_pages)
{
    memset(e, 0, sizeof *e);
    e->reg = stats_create();
    overcommit_config oc;
    overcommit_config_init(&oc, ram_pages, 0, ram_pages);
    oc.overcommit_memory = mode;
    mm_err err = {{0}};
    e->oc = overcommit_create(&oc, e->reg, &err);
    ck_assert_msg(e->oc != NULL, "%s", err.msg);
    mm_layout def;
    if (!l) {
        mm_layout_init(&def);
        l = &def;
    }
    e->tt = task_table_create(l, e->oc, e->reg, &err);
    ck_assert_msg(e->tt != NULL, "%s", err.msg);
    ck_assert_int_eq(task_create(e->tt, 1, NULL), 0);
    e->mm = task_mm(task_find(e->tt, 1));
}

static void env_free(struct env *e)
{
    task_table_destroy(e->tt);
    overcommit_destroy(e->oc);
    stats_destroy(e->reg);
}

static void check_mm(const mm_struct *mm)
{
    mm_err err = {{0}};
    ck_assert_msg(mm_check(mm, &err) == 0, "%s", err.msg);
}

static uint64_t stat_of(const struct env *e, const char *name)
{
    const stats_entry *s = stats_find(e->reg, name);
    ck_assert_msg(s != NULL, "no stat %s", name);
    return stats_value(s);
}

static uint64_t mmap_ok(mm_struct *mm, uint64_t addr, uint64_t len, uint32_t flags, uint32_t file,
                        uint64_t off)
{
    mm_result r;
    int e = do_mmap(mm, addr, len, flags, file, off, &r);
    ck_assert_msg(e == 0, "mmap(%#llx, %#llx, %#x) = %d", (unsigned long long)addr,
                  (unsigned long long)len, flags, e);
    check_mm(mm);
    return r.addr;
}

/* the VMA containing addr must be exactly [start, end) with these flags */
static void assert_vma(const mm_struct *mm, uint64_t addr, uint64_t start, uint64_t end,
                       uint64_t flags)
{
    mm_vma v;
    ck_assert_msg(vma_lookup(mm, addr, &v), "no VMA at %#llx", (unsigned long long)addr);
    ck_assert_msg(v.start == start && v.end == end, "VMA at %#llx is %#llx-%#llx, expected %#llx-%#llx",
                  (unsigned long long)addr, (unsigned long long)v.start,
                  (unsigned long long)v.end, (unsigned long long)start,
                  (unsigned long long)end);
    ck_assert_msg(v.flags == flags, "VMA at %#llx has flags %#llx, expected %#llx",
                  (unsigned long long)addr, (unsigned long long)v.flags,
                  (unsigned long long)flags);
}

/* mmap_base() of arch/x86/mm/mmap.c: gap = rlimit + guard gap, clamped to [128 MiB, TASK_SIZE /
 * 6 * 5]. 8 MiB + 1 MiB < 128 MiB: base = 0x7ffff7fff000. A 1 GiB rlimit: 0x7ffffffff000 -
 * 0x40100000 = 0x7fffbfeff000. A 2^47 rlimit is above the cap: gap = 0x7ffffffff000 / 6 * 5 =
 * 0x6aaaaaaa9d52, base = PAGE_ALIGN(0x1555555552ae) = 0x155555556000. The task starts with the
 * 33-page stack [0x7ffffffde000, 0x7ffffffff000), charged: Committed_AS 33 pages, VmStk 33. */
START_TEST(layout_defaults)
{
    ck_assert_uint_eq(mm_mmap_base(STACK_HI, 8 * MiB, MiB, 0), BASE);
    ck_assert_uint_eq(mm_mmap_base(STACK_HI, 1024 * MiB, MiB, 0), 0x7fffbfeff000ull);
    ck_assert_uint_eq(mm_mmap_base(STACK_HI, 1ull << 47, MiB, 0), 0x155555556000ull);
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    mm_stat st;
    mm_get_stat(e.mm, &st);
    ck_assert_uint_eq(st.mmap_base, BASE);
    ck_assert_uint_eq(st.total_vm, 33);
    ck_assert_uint_eq(st.stack_vm, 33);
    ck_assert_uint_eq(st.map_count, 1);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33);
    assert_vma(e.mm, STACK_HI - 1, STACK_LO, STACK_HI,
               ANON_RW_FLAGS | VM_GROWSDOWN);
    env_free(&e);
}
END_TEST

/* Three adjacent private anonymous read-write mappings become one VMA (vma_merge_new_range: same
 * flags, no file, anon pgoff = start >> 12 so the offsets are contiguous); unmapping the middle
 * leaves two (__split_vma at both edges of the hole); mprotect of one page inside one of them
 * makes three, and mprotect back makes one again (vma_merge_existing_range merges both sides).
 *
 * Accounting: 12 pages RW anon charge 12. The munmap releases 4. The middle page made read-only
 * is anonymous with no anon_vma, so mprotect_fixup drops its VM_ACCOUNT (-1); making it
 * writable again charges it (+1) and sets VM_ACCOUNT, so its flags equal its neighbours'. */
START_TEST(merge_split_sequence)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t A = 0x10000000;
    mm_result r;
    mmap_ok(e.mm, A, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    mmap_ok(e.mm, A + 4 * PG, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    mmap_ok(e.mm, A + 8 * PG, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_uint_eq(mm_map_count(e.mm), 2); /* the stack and one VMA */
    assert_vma(e.mm, A, A, A + 12 * PG, ANON_RW_FLAGS);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33 + 12);
    ck_assert_uint_eq(stat_of(&e, "os.mm.vma_merges"), 2);

    ck_assert_int_eq(do_munmap(e.mm, A + 4 * PG, 4 * PG, &r), 0);
    check_mm(e.mm);
    ck_assert_uint_eq(mm_map_count(e.mm), 3);
    assert_vma(e.mm, A, A, A + 4 * PG, ANON_RW_FLAGS);
    assert_vma(e.mm, A + 8 * PG, A + 8 * PG, A + 12 * PG, ANON_RW_FLAGS);
    ck_assert(!vma_lookup(e.mm, A + 4 * PG, NULL));
    ck_assert_uint_eq(r.nr_ranges, 1);
    ck_assert_uint_eq(r.ranges[0].op, MM_RANGE_UNMAP);
    ck_assert_uint_eq(r.ranges[0].start, A + 4 * PG);
    ck_assert_uint_eq(r.ranges[0].end, A + 8 * PG);
    ck_assert_uint_eq(r.ranges[0].pgoff, (A + 4 * PG) >> 12);
    ck_assert_uint_eq(r.pt_floor, A + 4 * PG);   /* free_pgtables between the neighbours */
    ck_assert_uint_eq(r.pt_ceiling, A + 8 * PG);
    ck_assert_int_eq(r.committed, -4);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33 + 8);

    ck_assert_int_eq(do_mprotect(e.mm, A + PG, PG, MM_PROT_READ, &r), 0);
    check_mm(e.mm);
    ck_assert_uint_eq(mm_map_count(e.mm), 5);
    assert_vma(e.mm, A, A, A + PG, ANON_RW_FLAGS);
    assert_vma(e.mm, A + PG, A + PG, A + 2 * PG,
               VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
    assert_vma(e.mm, A + 2 * PG, A + 2 * PG, A + 4 * PG, ANON_RW_FLAGS);
    ck_assert_uint_eq(r.nr_ranges, 1);
    ck_assert_uint_eq(r.ranges[0].op, MM_RANGE_PROTECT);
    ck_assert_uint_eq(r.ranges[0].old_flags, ANON_RW_FLAGS);
    ck_assert_uint_eq(r.ranges[0].new_flags, VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
    ck_assert_int_eq(r.committed, -1);

    ck_assert_int_eq(do_mprotect(e.mm, A + PG, PG, RW, &r), 0);
    check_mm(e.mm);
    ck_assert_uint_eq(mm_map_count(e.mm), 3);
    assert_vma(e.mm, A, A, A + 4 * PG, ANON_RW_FLAGS);
    ck_assert_int_eq(r.committed, 1);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33 + 8);
    mm_stat st;
    mm_get_stat(e.mm, &st);
    ck_assert_uint_eq(st.total_vm, 33 + 8);
    ck_assert_uint_eq(st.data_vm, 8);
    env_free(&e);
}
END_TEST

/* After a fault (anon_vma_prepare) the pieces of a split share the anon_vma (anon_vma_clone), so
 * they merge back; and a read-only anonymous range that has pages keeps VM_ACCOUNT (no charge
 * change either way). */
START_TEST(merge_back_with_anon_vma)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t A = 0x10000000;
    mm_result r;
    mmap_ok(e.mm, A, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    uint32_t av = anon_vma_prepare(e.mm, A);
    ck_assert_uint_ne(av, 0);
    ck_assert_int_eq(do_mprotect(e.mm, A + PG, 2 * PG, MM_PROT_READ, &r), 0);
    ck_assert_int_eq(r.committed, 0);
    assert_vma(e.mm, A + PG, A + PG, A + 3 * PG,
               VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT);
    mm_vma v;
    ck_assert(vma_lookup(e.mm, A + 3 * PG, &v));
    ck_assert_uint_eq(v.anon_vma, av);
    ck_assert_uint_eq(v.anon_vma_chain, 1);
    ck_assert_int_eq(do_mprotect(e.mm, A + PG, 2 * PG, RW, &r), 0);
    ck_assert_int_eq(r.committed, 0);
    assert_vma(e.mm, A, A, A + 4 * PG, ANON_RW_FLAGS);
    ck_assert_uint_eq(mm_map_count(e.mm), 2);
    check_mm(e.mm);

    /* a VMA next to a faulted one reuses its anon_vma (find_mergeable_anon_vma) when compatible:
     * a read-only anonymous neighbour (flags differ only in access bits; VM_ACCOUNT differs too,
     * so it is not compatible: a fresh anon_vma) */
    mmap_ok(e.mm, A + 4 * PG, PG, MM_PROT_READ | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_uint_ne(anon_vma_prepare(e.mm, A + 4 * PG), av);
    env_free(&e);
}
END_TEST

/* File VMAs merge only when the file offsets run on: file 7 at offset 0 (pgoff 0-1), then at
 * offset 0x4000 (pgoff 4) right after it: 0 + 2 != 4, two VMAs; then offset 0x6000 (pgoff 6)
 * after that: 4 + 2 == 6, merged. Another file at the right offset does not merge. A private
 * read-only file mapping is not charged. */
START_TEST(file_vmas_pgoff)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t B = 0x20000000;
    const uint32_t ro_priv = MM_PROT_READ | MM_MAP_PRIVATE | MM_MAP_FIXED;
    const uint64_t fl = VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    mmap_ok(e.mm, B, 2 * PG, ro_priv, 7, 0);
    mmap_ok(e.mm, B + 2 * PG, 2 * PG, ro_priv, 7, 0x4000);
    ck_assert_uint_eq(mm_map_count(e.mm), 3);
    mmap_ok(e.mm, B + 4 * PG, 2 * PG, ro_priv, 7, 0x6000);
    ck_assert_uint_eq(mm_map_count(e.mm), 3);
    assert_vma(e.mm, B, B, B + 2 * PG, fl);
    assert_vma(e.mm, B + 5 * PG, B + 2 * PG, B + 6 * PG, fl);
    mm_vma v;
    ck_assert(vma_lookup(e.mm, B + 5 * PG, &v));
    ck_assert_uint_eq(v.pgoff, 4);
    ck_assert_uint_eq(v.kind, MM_VMA_FILE);
    ck_assert_uint_eq(v.file, 7);
    mmap_ok(e.mm, B + 6 * PG, 2 * PG, ro_priv, 8, 0x8000);
    ck_assert_uint_eq(mm_map_count(e.mm), 4);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33);
    /* a shared writable file mapping: VM_SHARED|VM_MAYSHARE, not charged */
    uint64_t a = mmap_ok(e.mm, 0, PG, RW | MM_MAP_SHARED, 9, 0);
    ck_assert(vma_lookup(e.mm, a, &v));
    ck_assert_uint_eq(v.flags, VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE |
                                   VM_MAYEXEC | VM_MAYSHARE);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33);
    /* an unaligned file offset, or neither or both of MAP_SHARED/MAP_PRIVATE: EINVAL */
    ck_assert_int_eq(do_mmap(e.mm, 0, PG, MM_PROT_READ | MM_MAP_PRIVATE, 9, 100, NULL), -EINVAL);
    ck_assert_int_eq(do_mmap(e.mm, 0, PG, MM_PROT_READ, 9, 0, NULL), -EINVAL);
    ck_assert_int_eq(do_mmap(e.mm, 0, PG, MM_PROT_READ | MM_MAP_SHARED | MM_MAP_PRIVATE, 9, 0,
                             NULL), -EINVAL);
    ck_assert_int_eq(do_mmap(e.mm, 0, 0, MM_PROT_READ | MM_MAP_PRIVATE, 9, 0, NULL), -EINVAL);
    env_free(&e);
}
END_TEST

/* MAP_FIXED over an existing range: a 12-page anonymous VMA, then a shared file mapping over
 * pages 2-5: the old VMA is split and its middle reported as UNMAP, its 4 accounted pages
 * released (the new mapping is not accountable). An anonymous RW MAP_FIXED over the file
 * mapping again: charged 4 - 0 pages; its pgoff 0x10002 continues the left piece (0x10000 + 2)
 * and the right one continues it (0x10002 + 4 = 0x10006): one VMA again. MAP_FIXED_NOREPLACE
 * over anything mapped: EEXIST. MAP_FIXED over accounted memory with accounted memory keeps the
 * charge (v6.12 takes vms.nr_accounted over): committed unchanged. */
START_TEST(map_fixed_replaces)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t A = 0x10000000;
    mm_result r;
    mmap_ok(e.mm, A, 12 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_int_eq(do_mmap(e.mm, A + 2 * PG, 4 * PG, MM_PROT_READ | MM_MAP_SHARED |
                             MM_MAP_FIXED, 9, 0, &r), 0);
    check_mm(e.mm);
    ck_assert_uint_eq(r.addr, A + 2 * PG);
    ck_assert_uint_eq(mm_map_count(e.mm), 4);
    ck_assert_uint_eq(r.nr_ranges, 1);
    ck_assert_uint_eq(r.ranges[0].op, MM_RANGE_UNMAP);
    ck_assert_uint_eq(r.ranges[0].start, A + 2 * PG);
    ck_assert_uint_eq(r.ranges[0].end, A + 6 * PG);
    ck_assert_uint_eq(r.ranges[0].kind, MM_VMA_ANON);
    ck_assert_int_eq(r.committed, -4);
    assert_vma(e.mm, A, A, A + 2 * PG, ANON_RW_FLAGS);
    assert_vma(e.mm, A + 6 * PG, A + 6 * PG, A + 12 * PG, ANON_RW_FLAGS);

    ck_assert_int_eq(do_mmap(e.mm, A + 2 * PG, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0, &r),
                     0);
    check_mm(e.mm);
    ck_assert_int_eq(r.committed, 4);
    ck_assert_uint_eq(r.ranges[0].kind, MM_VMA_FILE);
    ck_assert_uint_eq(mm_map_count(e.mm), 2);
    assert_vma(e.mm, A, A, A + 12 * PG, ANON_RW_FLAGS);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33 + 12);

    ck_assert_int_eq(do_mmap(e.mm, A + 2 * PG, PG, RW | ANON_PRIV | MM_MAP_FIXED_NOREPLACE, 0, 0,
                             &r), -EEXIST);
    ck_assert_int_eq(do_mmap(e.mm, A + 2 * PG, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0, &r),
                     0);
    ck_assert_int_eq(r.committed, 0);
    ck_assert_uint_eq(mm_map_count(e.mm), 2);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33 + 12);
    /* MAP_FIXED needs a page-aligned address, below TASK_SIZE, at or above mmap_min_addr */
    ck_assert_int_eq(do_mmap(e.mm, A + 1, PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0, &r), -EINVAL);
    ck_assert_int_eq(do_mmap(e.mm, STACK_HI, 2 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0, &r),
                     -ENOMEM);
    ck_assert_int_eq(do_mmap(e.mm, 0x1000, PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0, &r), -EPERM);
    task_set_cap_sys_admin(task_find(e.tt, 1), true);
    ck_assert_int_eq(do_mmap(e.mm, 0x1000, PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0, &r), 0);
    env_free(&e);
}
END_TEST

/* find_vma returns the first VMA ending above the address: the one containing it, or the next;
 * vma_lookup only the containing one; find_vma_prev also the VMA before find_vma's (the last
 * ending at or below the address). */
START_TEST(find_vma_lookups)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t A = 0x10000000;
    mmap_ok(e.mm, A, 2 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    mmap_ok(e.mm, A + 8 * PG, 2 * PG, MM_PROT_READ | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    mm_vma v;
    ck_assert(find_vma(e.mm, 0, &v) && v.start == A);
    ck_assert(find_vma(e.mm, A + PG + 5, &v) && v.start == A);
    ck_assert(find_vma(e.mm, A + 2 * PG, &v) && v.start == A + 8 * PG);
    ck_assert(find_vma(e.mm, A + 10 * PG, &v) && v.start == STACK_LO);
    ck_assert(!find_vma(e.mm, STACK_HI, &v));
    ck_assert(!vma_lookup(e.mm, A + 2 * PG, &v));
    ck_assert(find_vma_intersection(e.mm, A + 2 * PG, A + 9 * PG, &v) && v.start == A + 8 * PG);
    ck_assert(!find_vma_intersection(e.mm, A + 2 * PG, A + 8 * PG, &v));
    mm_vma pv;
    bool has_prev;
    /* inside the second VMA: it, and the first before it */
    ck_assert(find_vma_prev(e.mm, A + 9 * PG, &v, &pv, &has_prev));
    ck_assert(v.start == A + 8 * PG && has_prev && pv.start == A);
    /* in the hole between them: the same pair */
    ck_assert(find_vma_prev(e.mm, A + 4 * PG, &v, &pv, &has_prev));
    ck_assert(v.start == A + 8 * PG && has_prev && pv.start == A);
    /* inside the first: nothing before it */
    ck_assert(find_vma_prev(e.mm, A + PG, &v, &pv, &has_prev));
    ck_assert(v.start == A && !has_prev);
    /* above everything: no VMA, the stack before */
    ck_assert(!find_vma_prev(e.mm, STACK_HI, &v, &pv, &has_prev));
    ck_assert(has_prev && pv.start == STACK_LO);
    env_free(&e);
}
END_TEST

/* Top-down placement (arch_get_unmapped_area_topdown -> unmapped_area_topdown): the first mapping
 * ends at mmap_base, 3 pages -> 0x7ffff7ffc000; the next 2 pages go just below, 0x7ffff7ffa000,
 * and merge (pgoff 0x7ffff7ffa + 2 = 0x7ffff7ffc); a read-only page below them does not merge.
 * A hint that is free is taken as is; one that overlaps falls back to the search. After
 * unmapping a hole the search takes the highest hole that fits. */
START_TEST(topdown_placement)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, 3 * PG, RW | ANON_PRIV, 0, 0), BASE - 3 * PG);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, 2 * PG, RW | ANON_PRIV, 0, 0), BASE - 5 * PG);
    assert_vma(e.mm, BASE - 1, BASE - 5 * PG, BASE, ANON_RW_FLAGS);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, PG, MM_PROT_READ | ANON_PRIV, 0, 0), BASE - 6 * PG);
    ck_assert_uint_eq(mm_map_count(e.mm), 3);
    /* a free hint */
    ck_assert_uint_eq(mmap_ok(e.mm, 0x30000000, 2 * PG, RW | ANON_PRIV, 0, 0), 0x30000000);
    /* an occupied hint: the search again, below the read-only page */
    ck_assert_uint_eq(mmap_ok(e.mm, 0x30000000, PG, MM_PROT_EXEC | ANON_PRIV, 0, 0),
                      BASE - 7 * PG);
    /* an unaligned hint is rounded down */
    ck_assert_uint_eq(mmap_ok(e.mm, 0x40000123, PG, MM_PROT_EXEC | ANON_PRIV, 0, 0), 0x40000000);
    /* a hole of 2 pages at BASE-4..BASE-2 pages: a 2-page request takes it, a 3-page one goes
     * below everything */
    ck_assert_int_eq(do_munmap(e.mm, BASE - 4 * PG, 2 * PG, NULL), 0);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, 3 * PG, MM_PROT_READ | MM_MAP_PRIVATE, 3, 0),
                      BASE - 10 * PG);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, 2 * PG, MM_PROT_READ | MM_MAP_PRIVATE, 3, 0),
                      BASE - 4 * PG);
    env_free(&e);
}
END_TEST

/* The stack guard gap: with mmap_base moved up to the stack's start, the highest gap ends at
 * 0x7ffffffde000, but vm_start_gap(stack) = 0x7ffffffde000 - 1 MiB lies below that end, so the
 * search retries below it: a page at 0x7fffffedd000. A hint inside the guard gap is refused for
 * the same reason (addr + len > vm_start_gap). */
START_TEST(stack_guard_gap_placement)
{
    mm_layout l;
    mm_layout_init(&l);
    l.mmap_base = STACK_LO;
    struct env e;
    env_make(&e, &l, OVERCOMMIT_GUESS, 1 << 20);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, PG, RW | ANON_PRIV, 0, 0), STACK_LO - MiB - PG);
    ck_assert_uint_eq(mmap_ok(e.mm, STACK_LO - 2 * PG, PG, MM_PROT_READ | ANON_PRIV, 0, 0),
                      STACK_LO - MiB - 2 * PG);
    env_free(&e);
}
END_TEST

/* 5-level paging: a hint above the 47-bit window is honoured (mmap_address_hint_valid: both ends
 * above DEFAULT_MAP_WINDOW); without LA57 the same hint is invalid (above TASK_SIZE) and the
 * mapping lands below mmap_base. A search for a high hint that is taken continues from
 * mmap_base + (TASK_SIZE_MAX - DEFAULT_MAP_WINDOW) = 0xfffffff7fff000. Addresses above 47 bits
 * are kernel addresses (SEGV) without LA57. */
START_TEST(la57_hints)
{
    const uint64_t H = 1ull << 55;
    mm_layout l;
    mm_layout_init(&l);
    l.la57 = true;
    struct env e;
    env_make(&e, &l, OVERCOMMIT_GUESS, 1 << 20);
    ck_assert_uint_eq(mmap_ok(e.mm, H, PG, RW | ANON_PRIV, 0, 0), H);
    ck_assert_uint_eq(mmap_ok(e.mm, H, PG, RW | ANON_PRIV, 0, 0), 0xfffffff7fff000ull - PG);
    ck_assert_int_eq(mm_access_ok(e.mm, H + 8, 1), MM_ACCESS_OK);
    env_free(&e);

    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    ck_assert_uint_eq(mmap_ok(e.mm, H, PG, RW | ANON_PRIV, 0, 0), BASE - PG);
    ck_assert_int_eq(mm_access_ok(e.mm, H, 0), MM_ACCESS_SEGV_MAPERR);
    env_free(&e);
}
END_TEST

/* THP alignment (v6.7+, limited to PMD-multiple lengths since v6.12): a 2 MiB private anonymous
 * mapping without a hint asks for 4 MiB: ret = 0x7ffff7fff000 - 0x400000 = 0x7ffff7bff000,
 * off_sub = -ret & (2 MiB - 1) = 0x1000, so it lands at 0x7ffff7c00000. A page then takes the
 * top of the gap above it (0x7ffff7ffe000). A second 2 MiB mapping: 4 MiB below 0x7ffff7c00000
 * starts at 0x7ffff7800000, already aligned, so top-down takes the upper half 0x7ffff7a00000,
 * adjacent to the first: they merge. Without the alignment the first would sit at
 * 0x7ffff7dff000. A 3 MiB mapping is not aligned (not a PMD multiple). */
START_TEST(thp_alignment)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, 2 * MiB, RW | ANON_PRIV, 0, 0), 0x7ffff7c00000ull);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, PG, RW | ANON_PRIV, 0, 0), BASE - PG);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, 2 * MiB, RW | ANON_PRIV, 0, 0), 0x7ffff7a00000ull);
    assert_vma(e.mm, 0x7ffff7a00000ull, 0x7ffff7a00000ull, 0x7ffff7e00000ull, ANON_RW_FLAGS);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, 3 * MiB, RW | ANON_PRIV, 0, 0),
                      0x7ffff7a00000ull - 3 * MiB);
    env_free(&e);

    mm_layout l;
    mm_layout_init(&l);
    l.thp_align = false;
    env_make(&e, &l, OVERCOMMIT_GUESS, 1 << 20);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, 2 * MiB, RW | ANON_PRIV, 0, 0), 0x7ffff7dff000ull);
    env_free(&e);
}
END_TEST

/* Legacy layout (vm.legacy_va_layout = 1): bottom-up from TASK_UNMAPPED_BASE =
 * PAGE_ALIGN(0x7ffffffff000 / 3) = 0x2aaaaaaab000. */
START_TEST(legacy_bottom_up)
{
    mm_layout l;
    mm_layout_init(&l);
    l.legacy_va_layout = true;
    struct env e;
    env_make(&e, &l, OVERCOMMIT_GUESS, 1 << 20);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, 3 * PG, RW | ANON_PRIV, 0, 0), 0x2aaaaaaab000ull);
    ck_assert_uint_eq(mmap_ok(e.mm, 0, PG, RW | ANON_PRIV, 0, 0), 0x2aaaaaaab000ull + 3 * PG);
    ck_assert_uint_eq(mm_map_count(e.mm), 2);
    env_free(&e);
}
END_TEST

/* brk: start_brk = 0x555555559000. brk(start + 0x100) rounds the new end up: a one-page heap
 * [0x555555559000, 0x55555555a000), returns 0x555555559100. brk(0x55555555c000) expands the same
 * VMA (do_brk_flags: can_vma_merge_after). brk(0x55555555a800) shrinks to the page end
 * 0x55555555b000, unmapping [0x55555555b000, 0x55555555c000). Below start_brk: refused, the break
 * unchanged. Growth must leave a page free below the next mapping: with a mapping at
 * 0x555555600000, brk(0x5555555ff000) is allowed (0x5555555ff000 + 4 KiB is not above it) but
 * brk(0x5555555ff001) (new end 0x555555600000) is not. */
START_TEST(brk_grow_shrink)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t S = 0x555555559000ull;
    mm_result r;
    ck_assert_int_eq(sys_brk(e.mm, S + 0x100, &r), 0);
    ck_assert_uint_eq(r.addr, S + 0x100);
    ck_assert_int_eq(r.committed, 1);
    assert_vma(e.mm, S, S, S + PG, ANON_RW_FLAGS);
    ck_assert_int_eq(sys_brk(e.mm, 0x55555555c000ull, &r), 0);
    assert_vma(e.mm, S, S, 0x55555555c000ull, ANON_RW_FLAGS);
    ck_assert_uint_eq(mm_map_count(e.mm), 2);
    ck_assert_int_eq(sys_brk(e.mm, 0x55555555a800ull, &r), 0);
    ck_assert_uint_eq(r.addr, 0x55555555a800ull);
    ck_assert_uint_eq(r.nr_ranges, 1);
    ck_assert_uint_eq(r.ranges[0].start, 0x55555555b000ull);
    ck_assert_uint_eq(r.ranges[0].end, 0x55555555c000ull);
    ck_assert_int_eq(r.committed, -1);
    assert_vma(e.mm, S, S, 0x55555555b000ull, ANON_RW_FLAGS);
    ck_assert_int_eq(sys_brk(e.mm, S - PG, &r), -EINVAL);
    ck_assert_uint_eq(r.addr, 0x55555555a800ull);
    /* within the same page: only the break moves */
    ck_assert_int_eq(sys_brk(e.mm, 0x55555555a900ull, &r), 0);
    ck_assert_uint_eq(r.nr_ranges, 0);
    mmap_ok(e.mm, 0x555555600000ull, PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_int_eq(sys_brk(e.mm, 0x5555555ff001ull, &r), -ENOMEM);
    ck_assert_uint_eq(r.addr, 0x55555555a900ull);
    ck_assert_int_eq(sys_brk(e.mm, 0x5555555ff000ull, &r), 0);
    assert_vma(e.mm, S, S, 0x5555555ff000ull, ANON_RW_FLAGS);
    mm_stat st;
    mm_get_stat(e.mm, &st);
    ck_assert_uint_eq(st.brk, 0x5555555ff000ull);
    ck_assert_uint_eq(st.data_vm, (0x5555555ff000ull - S) / PG + 1);
    check_mm(e.mm);
    env_free(&e);
}
END_TEST

/* madvise: DONTNEED reports the range to zap and leaves the VMA; across a hole it advises the
 * mapped parts and returns ENOMEM (madvise_walk_vmas' unmapped_error); FREE on a file mapping is
 * EINVAL; DONTNEED on a VM_LOCKED VMA is EINVAL. HUGEPAGE on the middle page of 4 splits the VMA
 * in three (FLAGS range, VM_HUGEPAGE set); HUGEPAGE on all 4 pages then merges the first page
 * into the middle one (merge right) and the last two into it (merge left): one VMA. */
START_TEST(madvise_results)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t A = 0x10000000;
    mm_result r;
    mmap_ok(e.mm, A, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    mmap_ok(e.mm, A + 8 * PG, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_int_eq(do_madvise(e.mm, A + PG, 2 * PG, MM_MADV_DONTNEED, &r), 0);
    ck_assert_uint_eq(r.nr_ranges, 1);
    ck_assert_uint_eq(r.ranges[0].op, MM_RANGE_DONTNEED);
    ck_assert_uint_eq(r.ranges[0].start, A + PG);
    ck_assert_uint_eq(r.ranges[0].end, A + 3 * PG);
    ck_assert_uint_eq(mm_map_count(e.mm), 3);
    ck_assert_int_eq(do_madvise(e.mm, A, 12 * PG, MM_MADV_FREE, &r), -ENOMEM);
    ck_assert_uint_eq(r.nr_ranges, 2);
    ck_assert_uint_eq(r.ranges[0].op, MM_RANGE_FREE);
    ck_assert_uint_eq(r.ranges[1].start, A + 8 * PG);
    ck_assert_uint_eq(r.ranges[1].end, A + 12 * PG);
    /* beyond the last VMA of the range, into nothing: ENOMEM at once */
    ck_assert_int_eq(do_madvise(e.mm, A + 12 * PG, PG, MM_MADV_DONTNEED, &r), -ENOMEM);
    ck_assert_int_eq(do_madvise(e.mm, A + 1, PG, MM_MADV_DONTNEED, &r), -EINVAL);
    ck_assert_int_eq(do_madvise(e.mm, A, PG, 99, &r), -EINVAL);
    ck_assert_int_eq(do_madvise(e.mm, A, 0, MM_MADV_DONTNEED, &r), 0);

    uint64_t f = mmap_ok(e.mm, 0, PG, MM_PROT_READ | MM_MAP_PRIVATE, 3, 0);
    ck_assert_int_eq(do_madvise(e.mm, f, PG, MM_MADV_FREE, &r), -EINVAL);
    uint64_t lk = mmap_ok(e.mm, 0, PG, RW | ANON_PRIV | MM_MAP_LOCKED, 0, 0);
    ck_assert_int_eq(do_madvise(e.mm, lk, PG, MM_MADV_DONTNEED, &r), -EINVAL);

    ck_assert_int_eq(do_madvise(e.mm, A + PG, PG, MM_MADV_HUGEPAGE, &r), 0);
    ck_assert_uint_eq(r.nr_ranges, 1);
    ck_assert_uint_eq(r.ranges[0].op, MM_RANGE_FLAGS);
    ck_assert_uint_eq(r.ranges[0].new_flags, ANON_RW_FLAGS | VM_HUGEPAGE);
    assert_vma(e.mm, A + PG, A + PG, A + 2 * PG, ANON_RW_FLAGS | VM_HUGEPAGE);
    ck_assert_int_eq(do_madvise(e.mm, A, 4 * PG, MM_MADV_HUGEPAGE, &r), 0);
    ck_assert_uint_eq(r.nr_ranges, 2);
    assert_vma(e.mm, A, A, A + 4 * PG, ANON_RW_FLAGS | VM_HUGEPAGE);
    ck_assert_int_eq(do_madvise(e.mm, A, 4 * PG, MM_MADV_NOHUGEPAGE, &r), 0);
    assert_vma(e.mm, A, A, A + 4 * PG, ANON_RW_FLAGS | VM_NOHUGEPAGE);
    /* MAP_STACK implies VM_NOHUGEPAGE (v6.7+) */
    uint64_t s = mmap_ok(e.mm, 0, PG, RW | ANON_PRIV | MM_MAP_STACK, 0, 0);
    assert_vma(e.mm, s, s, s + PG, ANON_RW_FLAGS | VM_NOHUGEPAGE);
    check_mm(e.mm);
    env_free(&e);
}
END_TEST

/* fork: VMAs with an anon_vma have PTEs to copy (vma_needs_copy); private writable ones are COW
 * (write-protected in both), shared ones are copied as they are; VMAs without pages are left for
 * the child to fault. The child's VMAs get anon_vma chains one longer than the parent's, so a new
 * anonymous mapping next to one of them does not merge (is_mergeable_anon_vma wants a singular
 * chain), while the same mapping in the parent merges. VM_ACCOUNT areas are charged again;
 * VM_LOCKED is not inherited. */
START_TEST(fork_cow_ranges)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t A = 0x10000000, B = 0x20000000, C = 0x30000000, D = 0x40000000;
    mm_result r;
    mmap_ok(e.mm, A, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);            /* faulted */
    anon_vma_prepare(e.mm, A);
    mmap_ok(e.mm, B, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED | MM_MAP_LOCKED, 0, 0); /* not */
    mmap_ok(e.mm, C, 2 * PG, RW | MM_MAP_SHARED | MM_MAP_ANONYMOUS | MM_MAP_FIXED, 0, 0);
    mmap_ok(e.mm, D, 2 * PG, RW | MM_MAP_PRIVATE | MM_MAP_FIXED, 5, 0);       /* written */
    anon_vma_prepare(e.mm, D);
    uint64_t before = vm_memory_committed(e.oc); /* 33 + 4 + 4 + 2 */
    ck_assert_uint_eq(before, 43);

    ck_assert_int_eq(task_fork(e.tt, 1, 2, &r), 0);
    mm_struct *child = task_mm(task_find(e.tt, 2));
    check_mm(child);
    ck_assert_uint_eq(r.nr_ranges, 2);
    ck_assert_uint_eq(r.ranges[0].op, MM_RANGE_FORK_COW);
    ck_assert_uint_eq(r.ranges[0].start, A);
    ck_assert_uint_eq(r.ranges[0].end, A + 4 * PG);
    ck_assert_uint_eq(r.ranges[1].op, MM_RANGE_FORK_COW);
    ck_assert_uint_eq(r.ranges[1].start, D);
    ck_assert_int_eq(r.committed, 43);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 86);
    ck_assert_uint_eq(mm_map_count(child), mm_map_count(e.mm));
    ck_assert_uint_eq(mm_total_vm(child), mm_total_vm(e.mm));
    mm_vma v;
    ck_assert(vma_lookup(child, B, &v));
    ck_assert_uint_eq(v.flags & VM_LOCKED, 0);
    ck_assert(vma_lookup(child, A, &v));
    ck_assert_uint_eq(v.anon_vma_chain, 2);
    ck_assert(vma_lookup(child, C, &v));
    ck_assert_uint_eq(v.kind, MM_VMA_SHMEM);
    mm_vma pv;
    ck_assert(vma_lookup(e.mm, C, &pv));
    ck_assert_uint_eq(v.file, pv.file); /* the same shmem object */
    mm_stat st;
    mm_get_stat(child, &st);
    ck_assert_uint_eq(st.locked_vm, 0);
    ck_assert_uint_eq(st.rss[MM_ANONPAGES], 0);

    mmap_ok(child, A + 4 * PG, PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_uint_eq(mm_map_count(child), 6);
    mmap_ok(e.mm, A + 4 * PG, PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_uint_eq(mm_map_count(e.mm), 5);
    assert_vma(e.mm, A, A, A + 5 * PG, ANON_RW_FLAGS);

    /* a pid that is alive cannot be forked onto; an unknown parent is ESRCH */
    ck_assert_int_eq(task_fork(e.tt, 1, 2, &r), -EEXIST);
    ck_assert_int_eq(task_fork(e.tt, 9, 3, &r), -ESRCH);
    /* exit releases the child's charge and reports every VMA */
    ck_assert_int_eq(task_exit(e.tt, 2, &r), 0);
    ck_assert_uint_eq(r.nr_ranges, 6);
    ck_assert_int_eq(r.committed, -44);
    ck_assert_uint_eq(task_state(task_find(e.tt, 2)), TASK_EXITED);
    ck_assert_ptr_null(task_mm(task_find(e.tt, 2)));
    ck_assert_uint_eq(task_count(e.tt), 1);
    ck_assert_int_eq(task_exit(e.tt, 2, &r), -ESRCH);
    ck_assert_int_eq(task_create(e.tt, 2, &r), 0); /* the pid is free again */
    ck_assert_int_eq(task_create(e.tt, 2, &r), -EEXIST);
    ck_assert_uint_eq(stat_of(&e, "os.mm.fork"), 1);
    env_free(&e);
}
END_TEST

/* Faults: below every VMA, SEGV_MAPERR; a write to a read-only VMA, an instruction fetch from a
 * non-executable one, a read of a PROT_NONE one, SEGV_ACCERR; a kernel address, MAPERR. Just below
 * the stack it grows: 8 bytes below 0x7ffffffde000 -> one page, VmStk 34, one more page charged.
 * It grows up to RLIMIT_STACK: an access at 0x7ffffffff000 - 8 MiB = 0x7fffff7ff000 (size exactly
 * 8 MiB) is allowed, one page lower is not. A mapping closer than the guard gap (1 MiB) below the
 * stack stops it growing. */
START_TEST(segv_and_stack_growth)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t A = 0x10000000;
    mmap_ok(e.mm, A, PG, MM_PROT_READ | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    mmap_ok(e.mm, A + 2 * PG, PG, ANON_PRIV | MM_MAP_FIXED, 0, 0); /* PROT_NONE */
    mmap_ok(e.mm, A + 4 * PG, PG, MM_PROT_EXEC | MM_PROT_READ | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_int_eq(mm_access_ok(e.mm, A - 1, 0), MM_ACCESS_SEGV_MAPERR);
    ck_assert_int_eq(mm_access_ok(e.mm, A + 8, 0), MM_ACCESS_OK);
    ck_assert_int_eq(mm_access_ok(e.mm, A + 8, 1), MM_ACCESS_SEGV_ACCERR);
    ck_assert_int_eq(mm_access_ok(e.mm, A + 8, 3), MM_ACCESS_SEGV_ACCERR);
    ck_assert_int_eq(mm_access_ok(e.mm, A + 8, 2), MM_ACCESS_SEGV_ACCERR);
    ck_assert_int_eq(mm_access_ok(e.mm, A + 2 * PG, 0), MM_ACCESS_SEGV_ACCERR);
    ck_assert_int_eq(mm_access_ok(e.mm, A + 4 * PG, 2), MM_ACCESS_OK);
    ck_assert_int_eq(mm_access_ok(e.mm, A + PG, 0), MM_ACCESS_SEGV_MAPERR);
    ck_assert_int_eq(mm_access_ok(e.mm, 0xffffffff81000000ull, 0), MM_ACCESS_SEGV_MAPERR);
    ck_assert_uint_eq(stat_of(&e, "os.mm.segv_accerr"), 4);

    ck_assert_int_eq(mm_access_ok(e.mm, STACK_LO - 8, 1), MM_ACCESS_OK_STACK_GREW);
    assert_vma(e.mm, STACK_HI - 1, STACK_LO - PG, STACK_HI, ANON_RW_FLAGS | VM_GROWSDOWN);
    mm_stat st;
    mm_get_stat(e.mm, &st);
    ck_assert_uint_eq(st.stack_vm, 34);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 34); /* the mappings are not writable */
    check_mm(e.mm);
    ck_assert_int_eq(mm_access_ok(e.mm, 0x7fffff7ff000ull - PG, 0), MM_ACCESS_SEGV_MAPERR);
    ck_assert_int_eq(mm_access_ok(e.mm, 0x7fffff7ff000ull, 0), MM_ACCESS_OK_STACK_GREW);
    mm_get_stat(e.mm, &st);
    ck_assert_uint_eq(st.stack_vm, 2048);
    ck_assert_uint_eq(stat_of(&e, "os.mm.stack_growths"), 2);
    env_free(&e);

    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    mmap_ok(e.mm, STACK_LO - 0x80000 - PG, PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_int_eq(mm_access_ok(e.mm, STACK_LO - 8, 0), MM_ACCESS_SEGV_MAPERR);
    env_free(&e);
}
END_TEST

/* Strict overcommit through the address space. RAM 10000 pages, no swap, ratio 50: CommitLimit
 * 5000. 10000 free pages = 40000 kB: admin and user reserves 40000 / 32 = 1250 kB = 312 pages.
 * The task (not root) has total_vm 33 and 33 pages committed (its stack): allowed = 5000 - 312 -
 * min(33 / 32, 312) = 4687; a RW mapping of p pages passes while 33 + p < 4687: 4654 pages is
 * refused, 4653 accepted (committed 4686). Then brk by one page: total_vm 4686, allowed = 5000 -
 * 312 - 146 = 4542 < 4687: refused, the break unchanged. MAP_NORESERVE is ignored in mode 2. A
 * read-only mapping is not charged at all; making it writable charges it, and is refused. */
START_TEST(strict_overcommit_mm)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_NEVER, 10000);
    mm_result r;
    ck_assert_int_eq(vm_commit_limit(e.oc), 5000);
    ck_assert_int_eq(do_mmap(e.mm, 0, 4654 * PG, RW | ANON_PRIV, 0, 0, &r), -ENOMEM);
    ck_assert(r.overcommit_refused);
    ck_assert_uint_eq(mm_map_count(e.mm), 1);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33);
    ck_assert_uint_eq(stat_of(&e, "os.mm.mmap_refused_overcommit"), 1);
    ck_assert_int_eq(do_mmap(e.mm, 0, 4653 * PG, RW | ANON_PRIV, 0, 0, &r), 0);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 4686);
    ck_assert_int_eq(sys_brk(e.mm, 0x555555559000ull + 1, &r), -ENOMEM);
    ck_assert(r.overcommit_refused);
    ck_assert_uint_eq(r.addr, 0x555555559000ull);
    ck_assert_uint_eq(stat_of(&e, "os.mm.brk_refused_overcommit"), 1);
    ck_assert_int_eq(do_mmap(e.mm, 0, PG, RW | ANON_PRIV | MM_MAP_NORESERVE, 0, 0, &r), -ENOMEM);
    uint64_t ro = mmap_ok(e.mm, 0, 100000 * PG, MM_PROT_READ | ANON_PRIV, 0, 0);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 4686);
    ck_assert_int_eq(do_mprotect(e.mm, ro, PG, RW, &r), -ENOMEM);
    ck_assert(r.overcommit_refused);
    assert_vma(e.mm, ro, ro, ro + 100000 * PG, VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
    ck_assert_uint_eq(stat_of(&e, "os.overcommit.refused"), 4);
    /* a fork charges the 4686 accounted pages again: refused */
    ck_assert_int_eq(task_fork(e.tt, 1, 2, &r), -ENOMEM);
    ck_assert(r.overcommit_refused);
    ck_assert_ptr_null(task_mm(task_find(e.tt, 2)));
    ck_assert_uint_eq(vm_memory_committed(e.oc), 4686);
    ck_assert_int_eq(task_exit(e.tt, 1, &r), 0);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 0);
    env_free(&e);

    /* mode 0 honours MAP_NORESERVE: VM_NORESERVE, nothing charged */
    env_make(&e, NULL, OVERCOMMIT_GUESS, 10000);
    uint64_t a = mmap_ok(e.mm, 0, 8 * PG, RW | ANON_PRIV | MM_MAP_NORESERVE, 0, 0);
    assert_vma(e.mm, a, a, a + 8 * PG,
               VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_NORESERVE);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33);
    env_free(&e);
}
END_TEST

/* Hugetlb: 3 MiB rounds up to two 2 MiB pages, aligned to 2 MiB (x86 get_align_mask), not charged
 * (accountable_mapping excludes hugetlb); a split off a huge page boundary is EINVAL
 * (hugetlb_vm_op_split); unmapping one whole huge page is fine. */
START_TEST(hugetlb_mappings)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_NEVER, 1 << 20);
    mm_result r;
    ck_assert_int_eq(do_mmap(e.mm, 0, 3 * MiB, RW | ANON_PRIV | MM_MAP_HUGETLB, 0, 0, &r), 0);
    uint64_t h = r.addr;
    ck_assert_uint_eq(h & (2 * MiB - 1), 0);
    ck_assert_uint_eq(h, 0x7ffff7c00000ull - 2 * MiB); /* 4 MiB below base, aligned down */
    mm_vma v;
    ck_assert(vma_lookup(e.mm, h, &v));
    ck_assert_uint_eq(v.end - v.start, 4 * MiB);
    ck_assert_uint_eq(v.kind, MM_VMA_HUGETLB);
    ck_assert_uint_eq(v.hpage_shift, 21);
    ck_assert(v.flags & VM_HUGETLB);
    ck_assert_uint_eq(vm_memory_committed(e.oc), 33);
    ck_assert_int_eq(do_munmap(e.mm, h, PG, &r), -EINVAL);
    ck_assert_int_eq(do_munmap(e.mm, h, 2 * MiB, &r), 0);
    ck_assert(vma_lookup(e.mm, h + 2 * MiB, &v));
    ck_assert_uint_eq(v.start, h + 2 * MiB);
    ck_assert_int_eq(do_mmap(e.mm, h + PG, 2 * MiB, RW | ANON_PRIV | MM_MAP_HUGETLB |
                             MM_MAP_FIXED, 0, 0, &r), -EINVAL);
    check_mm(e.mm);
    env_free(&e);
}
END_TEST

/* vm.max_map_count: mmap refuses only once map_count is above the limit (so it may reach limit
 * + 1), a split that needs a new VMA refuses at the limit. Limit 4: stack + 3 mappings = 4; a
 * 5th mapping is allowed (4 is not above 4), a 6th is not; punching a hole needs a split: ENOMEM. */
START_TEST(max_map_count)
{
    mm_layout l;
    mm_layout_init(&l);
    l.max_map_count = 4;
    struct env e;
    env_make(&e, &l, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t A = 0x10000000;
    for (int i = 0; i < 4; i++)
        mmap_ok(e.mm, A + (uint64_t)i * 8 * PG, 4 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_uint_eq(mm_map_count(e.mm), 5);
    ck_assert_int_eq(do_mmap(e.mm, A + 64 * PG, PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0, NULL),
                     -ENOMEM);
    ck_assert_int_eq(do_munmap(e.mm, A + PG, PG, NULL), -ENOMEM);
    ck_assert_int_eq(do_munmap(e.mm, A, PG, NULL), 0); /* an edge: no new VMA */
    ck_assert_int_eq(do_mprotect(e.mm, A + 9 * PG, PG, MM_PROT_READ, NULL), -ENOMEM);
    check_mm(e.mm);
    env_free(&e);
}
END_TEST

/* mprotect semantics: a hole stops it with ENOMEM after the VMAs before it changed (they merged
 * on the way); a start inside a hole is ENOMEM at once; unknown PROT bits or an unaligned start
 * are EINVAL; a length of 0 does nothing. (EACCES needs a VMA without VM_MAYWRITE, i.e. a shared
 * mapping of a file opened read-only, which the model does not have.) */
START_TEST(mprotect_holes)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    const uint64_t A = 0x10000000;
    mm_result r;
    mmap_ok(e.mm, A, 2 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    mmap_ok(e.mm, A + 2 * PG, 2 * PG, MM_PROT_READ | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    mmap_ok(e.mm, A + 6 * PG, 2 * PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    ck_assert_int_eq(do_mprotect(e.mm, A, 8 * PG, MM_PROT_READ, &r), -ENOMEM);
    /* the first two VMAs are read-only now and merged */
    assert_vma(e.mm, A, A, A + 4 * PG, VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
    assert_vma(e.mm, A + 6 * PG, A + 6 * PG, A + 8 * PG, ANON_RW_FLAGS);
    ck_assert_int_eq(do_mprotect(e.mm, A + 4 * PG, PG, MM_PROT_READ, &r), -ENOMEM);
    ck_assert_int_eq(do_mprotect(e.mm, A, PG, 0x40, &r), -EINVAL);
    ck_assert_int_eq(do_mprotect(e.mm, A + 1, PG, MM_PROT_READ, &r), -EINVAL);
    ck_assert_int_eq(do_mprotect(e.mm, A, 0, MM_PROT_READ, &r), 0);
    /* an mprotect that changes nothing reports nothing */
    ck_assert_int_eq(do_mprotect(e.mm, A, 4 * PG, MM_PROT_READ, &r), 0);
    ck_assert_uint_eq(r.nr_ranges, 0);
    check_mm(e.mm);
    env_free(&e);
}
END_TEST

/* /proc/PID/maps: the header is "start-end perms offset 00:00 inode " and a name is padded to
 * column 73. Heap from brk, a private file mapping at offset 0x2000, shared anonymous memory, the
 * stack. */
START_TEST(maps_text)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 20);
    ck_assert_int_eq(sys_brk(e.mm, 0x55555555b000ull, NULL), 0);
    mmap_ok(e.mm, 0x7ffff7ffd000ull, 2 * PG, MM_PROT_READ | MM_PROT_EXEC | MM_MAP_PRIVATE |
            MM_MAP_FIXED, 12, 0x2000);
    mmap_ok(e.mm, 0x7ffff7ff0000ull, PG, RW | MM_MAP_SHARED | MM_MAP_ANONYMOUS | MM_MAP_FIXED, 0,
            0);
    mmap_ok(e.mm, 0x7ffff7fe0000ull, PG, RW | ANON_PRIV | MM_MAP_FIXED, 0, 0);
    char buf[1024];
    size_t n = mm_format_maps(e.mm, buf, sizeof buf);
    const char *want =
        "555555559000-55555555b000 rw-p 00000000 00:00 0                          [heap]\n"
        "7ffff7fe0000-7ffff7fe1000 rw-p 00000000 00:00 0 \n"
        "7ffff7ff0000-7ffff7ff1000 rw-s 00000000 00:00 1                          "
        "/dev/zero (deleted)\n"
        "7ffff7ffd000-7ffff7fff000 r-xp 00002000 00:00 12                         file:12\n"
        "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n";
    ck_assert_str_eq(buf, want);
    ck_assert_uint_eq(n, strlen(want));
    char small[10];
    ck_assert_uint_eq(mm_format_maps(e.mm, small, sizeof small), n);
    ck_assert_uint_eq(strlen(small), 9);
    env_free(&e);
}
END_TEST

/* Random operations in a 256-page window, compared page by page with a reference that applies the
 * same operations to an array: protection and THP advice must match, every page's VM_ACCOUNT must
 * equal its VM_WRITE (no page faults, so read-only anonymous pages always drop the charge),
 * Committed_AS must equal the accounted pages plus the stack, neighbouring VMAs with equal flags
 * must have been merged (anonymous memory without anon_vmas always merges), and the invariant
 * checker must pass. */
START_TEST(random_stress)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 22);
    const uint64_t W = 0x10000000, NP = 256;
    uint8_t mapped[256] = {0}, prot[256] = {0}, thp[256] = {0};
    rng g;
    rng_seed(&g, 42);
    for (int step = 0; step < 4000; step++) {
        uint64_t a = rng_below(&g, NP), n = 1 + rng_below(&g, 24);
        if (a + n > NP)
            n = NP - a;
        uint64_t start = W + a * PG, len = n * PG;
        uint32_t p = (uint32_t)rng_below(&g, 8);
        mm_result r;
        switch (rng_below(&g, 5)) {
        case 0:
        case 1:
            ck_assert_int_eq(do_mmap(e.mm, start, len, p | ANON_PRIV | MM_MAP_FIXED, 0, 0, &r), 0);
            for (uint64_t i = a; i < a + n; i++)
                mapped[i] = 1, prot[i] = (uint8_t)p, thp[i] = 0;
            break;
        case 2:
            ck_assert_int_eq(do_munmap(e.mm, start, len, &r), 0);
            for (uint64_t i = a; i < a + n; i++)
                mapped[i] = 0;
            break;
        case 3: {
            int err = do_mprotect(e.mm, start, len, p, &r);
            /* Linux stops at the first hole: pages before it change */
            uint64_t i = a;
            bool hole = !mapped[a];
            for (; i < a + n && mapped[i]; i++)
                prot[i] = (uint8_t)p;
            if (i < a + n)
                hole = true;
            ck_assert_int_eq(err, hole ? -ENOMEM : 0);
            if (!mapped[a]) /* ENOMEM at once: nothing changed */
                ck_assert_uint_eq(r.nr_ranges, 0);
            break;
        }
        default: {
            uint32_t adv = rng_below(&g, 2) ? MM_MADV_HUGEPAGE : MM_MADV_NOHUGEPAGE;
            do_madvise(e.mm, start, len, adv, &r);
            for (uint64_t i = a; i < a + n; i++)
                if (mapped[i])
                    thp[i] = adv == MM_MADV_HUGEPAGE ? 1 : 2;
            break;
        }
        }
        check_mm(e.mm);
        uint64_t accounted = 0;
        for (uint64_t i = 0; i < NP; i++) {
            mm_vma v;
            bool m = vma_lookup(e.mm, W + i * PG, &v);
            ck_assert_msg(m == mapped[i], "step %d page %llu: mapped %d, expected %d", step,
                          (unsigned long long)i, m, mapped[i]);
            if (!m)
                continue;
            ck_assert_uint_eq(v.flags & VM_ACCESS_FLAGS, prot[i]);
            uint64_t t = thp[i] == 1 ? VM_HUGEPAGE : thp[i] == 2 ? VM_NOHUGEPAGE : 0;
            ck_assert_uint_eq(v.flags & (VM_HUGEPAGE | VM_NOHUGEPAGE), t);
            ck_assert_uint_eq(!!(v.flags & VM_ACCOUNT), !!(v.flags & VM_WRITE));
            ck_assert_uint_eq(v.pgoff, v.start >> 12);
            accounted += !!(v.flags & VM_ACCOUNT);
            mm_vma next;
            if (v.end < W + NP * PG && vma_lookup(e.mm, v.end, &next))
                ck_assert_msg(next.flags != v.flags, "step %d: unmerged neighbours at %#llx", step,
                              (unsigned long long)v.end);
        }
        ck_assert_uint_eq(vm_memory_committed(e.oc), 33 + accounted);
    }
    env_free(&e);
}
END_TEST

/* The same stress with page faults (anon_vma_prepare), fork and exit mixed in: the invariant
 * checker and Committed_AS = sum over live processes of their VM_ACCOUNT pages. */
START_TEST(random_stress_processes)
{
    struct env e;
    env_make(&e, NULL, OVERCOMMIT_GUESS, 1 << 22);
    rng g;
    rng_seed(&g, 7);
    uint32_t next_pid = 2;
    for (int step = 0; step < 3000; step++) {
        /* pick a live task */
        size_t k = rng_below(&g, task_count(e.tt)), i = 0;
        mm_task *t = task_first(e.tt);
        for (; i < k; i++)
            t = task_next(e.tt, t);
        mm_struct *mm = task_mm(t);
        uint64_t a = 0x10000000 + rng_below(&g, 512) * PG, len = (1 + rng_below(&g, 16)) * PG;
        uint32_t p = (uint32_t)rng_below(&g, 8);
        switch (rng_below(&g, 9)) {
        case 0:
        case 1:
            do_mmap(mm, a, len, p | ANON_PRIV | (rng_below(&g, 2) ? MM_MAP_FIXED : 0), 0, 0,
                    NULL);
            break;
        case 2:
            do_munmap(mm, a, len, NULL);
            break;
        case 3:
            do_mprotect(mm, a, len, p, NULL);
            break;
        case 4:
            anon_vma_prepare(mm, a);
            mm_access_ok(mm, a, p & 3);
            break;
        case 5:
            sys_brk(mm, 0x555555559000ull + rng_below(&g, 64) * PG, NULL);
            break;
        case 6:
            do_madvise(mm, a, len, rng_below(&g, 2) ? MM_MADV_HUGEPAGE : MM_MADV_DONTNEED, NULL);
            break;
        case 7:
            if (task_count(e.tt) < 8)
                ck_assert_int_eq(task_fork(e.tt, task_pid(t), next_pid++, NULL), 0);
            break;
        default:
            if (task_count(e.tt) > 1)
                ck_assert_int_eq(task_exit(e.tt, task_pid(t), NULL), 0);
            break;
        }
        uint64_t accounted = 0;
        for (mm_task *u = task_first(e.tt); u; u = task_next(e.tt, u)) {
            mm_struct *m = task_mm(u);
            check_mm(m);
            mm_vma v;
            for (uint64_t x = 0; find_vma(m, x, &v); x = v.end)
                if (v.flags & VM_ACCOUNT)
                    accounted += (v.end - v.start) / PG;
        }
        ck_assert_uint_eq(vm_memory_committed(e.oc), accounted);
    }
    ck_assert_uint_eq(stat_of(&e, "os.mm.tasks"), task_count(e.tt));
    env_free(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mm");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, layout_defaults);
    tcase_add_test(tc, merge_split_sequence);
    tcase_add_test(tc, merge_back_with_anon_vma);
    tcase_add_test(tc, file_vmas_pgoff);
    tcase_add_test(tc, map_fixed_replaces);
    tcase_add_test(tc, find_vma_lookups);
    tcase_add_test(tc, topdown_placement);
    tcase_add_test(tc, stack_guard_gap_placement);
    tcase_add_test(tc, la57_hints);
    tcase_add_test(tc, thp_alignment);
    tcase_add_test(tc, legacy_bottom_up);
    tcase_add_test(tc, brk_grow_shrink);
    tcase_add_test(tc, madvise_results);
    tcase_add_test(tc, fork_cow_ranges);
    tcase_add_test(tc, segv_and_stack_growth);
    tcase_add_test(tc, strict_overcommit_mm);
    tcase_add_test(tc, hugetlb_mappings);
    tcase_add_test(tc, max_map_count);
    tcase_add_test(tc, mprotect_holes);
    tcase_add_test(tc, maps_text);
    tcase_add_test(tc, random_stress);
    tcase_add_test(tc, random_stress_processes);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
