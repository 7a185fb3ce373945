/* The kernel facade (models/os/kernel.h) driven directly: plain-trace demand faults, mmap +
 * munmap, segfaults, COW after fork, swap and the OOM killer. */
#include <check.h>
#include <string.h>

#include "models/common/stats.h"
#include "models/os/kernel.h"

#define MiB (1ull << 20)

struct flushes {
    uint64_t n, last_start, last_len;
    uint32_t last_pid;
};

static void rec_flush(void *ctx, uint32_t pid, uint64_t start, uint64_t len, bool upper)
{
    struct flushes *f = ctx;
    (void)upper;
    f->n++;
    f->last_pid = pid;
    f->last_start = start;
    f->last_len = len;
}

static struct flushes fl;

static kernel *mk(uint64_t ram, uint64_t swap, stats_registry *reg)
{
    struct kernel_config c;
    kernel_config_init(&c, ram, 1);
    c.pcp_disabled = true;
    c.swap_bytes = swap;
    memset(&fl, 0, sizeof fl);
    struct kernel_tlb_ops t = {&fl, rec_flush};
    mm_err err = {{0}};
    kernel *k = kernel_create(&c, &t, reg, &err);
    ck_assert_msg(k != NULL, "%s", err.msg);
    return k;
}

static enum kernel_fault_status touch(kernel *k, uint32_t pid, uint64_t va, unsigned type,
                                      bool prot)
{
    struct kernel_fault_result r;
    kernel_fault(k, 0, pid, va, type, prot, &r);
    kernel_tick(k, kernel_now(k) + r.cycles, r.cycles);
    return r.status;
}

static struct mm_event ev(unsigned type, uint32_t pid, uint64_t addr, uint64_t len, uint32_t flags,
                          uint64_t arg)
{
    struct mm_event e;
    memset(&e, 0, sizeof e);
    e.type = (uint8_t)type;
    e.pid = pid;
    e.addr = addr;
    e.len = len;
    e.flags = flags;
    e.arg = arg;
    return e;
}

START_TEST(plain_demand_faults)
{
    kernel *k = mk(64 * MiB, 0, NULL);
    struct kernel_stats s0, s;
    kernel_get_stats(k, &s0);
    const unsigned n = 100;
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(touch(k, 1, 0x10000000ull + i * 4096ull, 1, false), KFAULT_OK);
    kernel_get_stats(k, &s);
    ck_assert_uint_eq(s.pgfault, n);
    ck_assert_uint_eq(s.anon_pages, n);
    /* root, PDPT, PD, one PT: the 100 pages sit in one 2 MiB region */
    ck_assert_uint_eq(s.pgtable_pages, 4);
    ck_assert_uint_eq(s0.mem_free - s.mem_free, n + 4);
    uint64_t pa = 0;
    struct pgtable_leaf l;
    ck_assert(pgtable_lookup(kernel_pgtable(k), kernel_mm_root(k, 1), 0x10000000ull, &l));
    (void)pa;
    /* a second access to a mapped page does not fault (the walker would find it) */
    kernel_destroy(k);
}
END_TEST

START_TEST(mmap_touch_munmap)
{
    kernel *k = mk(64 * MiB, 0, NULL);
    uint64_t addr = 0;
    struct mm_event e = ev(MM_EV_MMAP, 1, 0, 1 * MiB,
                           MM_PROT_READ | MM_PROT_WRITE | MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, 0);
    ck_assert_int_eq(kernel_event(k, &e, &addr), 0);
    ck_assert(addr != 0);
    struct kernel_stats s0, s1, s2;
    kernel_get_stats(k, &s0);
    for (unsigned i = 0; i < 256; i++)
        ck_assert_int_eq(touch(k, 1, addr + i * 4096ull, 1, false), KFAULT_OK);
    kernel_get_stats(k, &s1);
    ck_assert_uint_eq(s1.anon_pages, 256);
    ck_assert(s1.mem_free < s0.mem_free - 256);
    fl.n = 0;
    e = ev(MM_EV_MUNMAP, 1, addr, 1 * MiB, 0, 0);
    ck_assert_int_eq(kernel_event(k, &e, NULL), 0);
    kernel_get_stats(k, &s2);
    ck_assert_uint_eq(s2.anon_pages, 0);
    ck_assert_uint_eq(s2.mem_free, s0.mem_free); /* frames and emptied tables back */
    ck_assert_uint_eq(fl.n, 1);                  /* the range shot down */
    ck_assert_uint_eq(fl.last_start, addr);
    ck_assert_uint_eq(fl.last_len, 1 * MiB);
    struct pgtable_leaf l;
    ck_assert(!pgtable_lookup(kernel_pgtable(k), kernel_mm_root(k, 1), addr, &l));
    kernel_destroy(k);
}
END_TEST

START_TEST(segfault_kills)
{
    kernel *k = mk(64 * MiB, 0, NULL);
    uint64_t addr;
    struct mm_event e = ev(MM_EV_MMAP, 1, 0, 64 * 1024,
                           MM_PROT_READ | MM_PROT_WRITE | MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, 0);
    ck_assert_int_eq(kernel_event(k, &e, &addr), 0);
    ck_assert_int_eq(touch(k, 1, addr, 1, false), KFAULT_OK);
    ck_assert_int_eq(touch(k, 1, 0x20000000ull, 0, false), KFAULT_SEGV);
    ck_assert(!kernel_pid_alive(k, 1));
    ck_assert_int_eq(touch(k, 1, addr, 0, false), KFAULT_KILLED);
    struct kernel_stats s;
    kernel_get_stats(k, &s);
    ck_assert_uint_eq(s.segfaults, 1);
    ck_assert_uint_eq(s.skipped, 1);
    ck_assert_uint_eq(s.anon_pages, 0); /* its memory freed */
    kernel_destroy(k);
}
END_TEST

START_TEST(fork_cow)
{
    kernel *k = mk(64 * MiB, 0, NULL);
    uint64_t addr;
    struct mm_event e = ev(MM_EV_MMAP, 1, 0, 10 * 4096,
                           MM_PROT_READ | MM_PROT_WRITE | MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, 0);
    ck_assert_int_eq(kernel_event(k, &e, &addr), 0);
    for (unsigned i = 0; i < 10; i++)
        ck_assert_int_eq(touch(k, 1, addr + i * 4096ull, 1, false), KFAULT_OK);
    e = ev(MM_EV_FORK, 1, 0, 0, 0, 2);
    ck_assert_int_eq(kernel_event(k, &e, NULL), 0);
    struct pgtable_leaf l;
    ck_assert(pgtable_lookup(kernel_pgtable(k), kernel_mm_root(k, 2), addr, &l));
    ck_assert(!(l.pte & PTE_RW));
    struct kernel_stats s;
    kernel_get_stats(k, &s);
    ck_assert_uint_eq(s.anon_pages, 10); /* shared */
    ck_assert_int_eq(touch(k, 2, addr, 1, true), KFAULT_OK);          /* child copies page 0 */
    ck_assert_int_eq(touch(k, 1, addr + 4096, 1, true), KFAULT_OK);   /* parent copies page 1 */
    ck_assert_int_eq(touch(k, 2, addr + 4096, 1, true), KFAULT_OK);   /* child reuses page 1 */
    kernel_get_stats(k, &s);
    ck_assert_uint_eq(s.cow, 2);
    ck_assert_uint_eq(s.anon_pages, 12);
    ck_assert(pgtable_lookup(kernel_pgtable(k), kernel_mm_root(k, 2), addr + 4096, &l));
    ck_assert(l.pte & PTE_RW);
    kernel_destroy(k);
}
END_TEST

START_TEST(hog_swaps)
{
    stats_registry *reg = stats_create();
    kernel *k = mk(64 * MiB, 128 * MiB, reg);
    const unsigned n = 24000; /* ~94 MiB: beyond RAM */
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(touch(k, 1, 0x10000000ull + i * 4096ull, 1, false), KFAULT_OK);
    ck_assert_uint_gt(stats_value(stats_find(reg, "os.reclaim.kswapd_wakeups")), 0);
    ck_assert_uint_gt(stats_value(stats_find(reg, "os.vmstat.pswpout")), 0);
    struct kernel_stats s;
    kernel_get_stats(k, &s);
    ck_assert_uint_gt(s.swap_ptes, 0);
    for (unsigned i = 0; i < 1000; i++)
        ck_assert_int_eq(touch(k, 1, 0x10000000ull + i * 4096ull, 0, false), KFAULT_OK);
    kernel_get_stats(k, &s);
    ck_assert_uint_gt(stats_value(stats_find(reg, "os.vmstat.pswpin")), 0);
    ck_assert_uint_gt(s.pgmajfault, 0);
    ck_assert_uint_eq(s.oom_kills, 0);
    kernel_destroy(k);
    stats_destroy(reg);
}
END_TEST

START_TEST(hog_oom)
{
    kernel *k = mk(64 * MiB, 0, NULL);
    for (unsigned i = 0; i < 1000; i++)
        ck_assert_int_eq(touch(k, 1, 0x10000000ull + i * 4096ull, 1, false), KFAULT_OK);
    enum kernel_fault_status st = KFAULT_OK;
    unsigned i;
    for (i = 0; i < 20000 && st == KFAULT_OK; i++)
        st = touch(k, 2, 0x10000000ull + i * 4096ull, 1, false);
    ck_assert_int_eq(st, KFAULT_KILLED); /* the hog, the largest, is the victim */
    struct kernel_stats s;
    kernel_get_stats(k, &s);
    ck_assert_uint_eq(s.oom_kills, 1);
    ck_assert_uint_eq(kernel_last_oom_victim(k), 2);
    ck_assert(kernel_pid_alive(k, 1));
    ck_assert(!kernel_pid_alive(k, 2));
    ck_assert_uint_eq(s.anon_pages, 1000);
    kernel_destroy(k);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernel");
    TCase *tc = tcase_create("facade");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, plain_demand_faults);
    tcase_add_test(tc, mmap_touch_munmap);
    tcase_add_test(tc, segfault_kills);
    tcase_add_test(tc, fork_cow);
    tcase_add_test(tc, hog_swaps);
    tcase_add_test(tc, hog_oom);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
