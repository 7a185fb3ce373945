/* Unit tests for models/os/overcommit: CommitLimit, the three overcommit modes, the admin and
 * user reserves and the sysctl quirks, with numbers worked by hand from Linux v6.12
 * mm/util.c (__vm_enough_memory, vm_commit_limit) and mm/mmap.c (init_admin_reserve,
 * init_user_reserve). Pages are 4 KiB. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "models/common/stats.h"
#include "models/os/overcommit.h"

#define GIB_PAGES (262144ull) /* 1 GiB in 4 KiB pages */

static overcommit *make(uint64_t ram, uint64_t swap, uint64_t free_pages, int mode)
{
    overcommit_config cfg;
    overcommit_config_init(&cfg, ram, swap, free_pages);
    cfg.overcommit_memory = mode;
    mm_err err = {{0}};
    overcommit *oc = overcommit_create(&cfg, NULL, &err);
    ck_assert_msg(oc != NULL, "%s", err.msg);
    return oc;
}

/* CommitLimit = (totalram - hugetlb) * ratio / 100 + swap:
 *   4 GiB RAM (1048576 pages), 1 GiB swap (262144), ratio 50: 524288 + 262144 = 786432 pages,
 *   3145728 kB.
 *   With 256 2 MiB hugetlb pages (131072 base pages): (1048576 - 131072) * 50 / 100 = 458752,
 *   plus swap = 720896.
 *   Integer truncation: 1000003 pages at ratio 33 = 33000099 / 100 = 330000 (not 330001).
 *   overcommit_kbytes = 1048577 kB is 1048577 >> 2 = 262144 pages, plus swap = 524288. */
START_TEST(commit_limit)
{
    overcommit *oc = make(4 * GIB_PAGES, GIB_PAGES, 4 * GIB_PAGES, OVERCOMMIT_NEVER);
    ck_assert_uint_eq(vm_commit_limit(oc), 786432);
    overcommit_set_totals(oc, 4 * GIB_PAGES, 131072, GIB_PAGES);
    ck_assert_uint_eq(vm_commit_limit(oc), 720896);
    overcommit_set_totals(oc, 1000003, 0, 0);
    ck_assert_int_eq(overcommit_set_ratio(oc, 33), 0);
    ck_assert_uint_eq(vm_commit_limit(oc), 330000);
    overcommit_set_totals(oc, 4 * GIB_PAGES, 0, GIB_PAGES);
    ck_assert_int_eq(overcommit_set_kbytes(oc, 1048577), 0);
    ck_assert_uint_eq(vm_commit_limit(oc), 262144 + 262144);
    overcommit_destroy(oc);
}
END_TEST

/* The sysctl handlers clear the other knob: writing kbytes sets ratio to 0, so writing kbytes = 0
 * afterwards leaves CommitLimit = 0 * RAM + swap = swap only (as on Linux). Writing the ratio
 * again clears kbytes. Out-of-range values are refused with EINVAL. */
START_TEST(sysctl_handlers)
{
    overcommit *oc = make(4 * GIB_PAGES, GIB_PAGES, 4 * GIB_PAGES, OVERCOMMIT_NEVER);
    ck_assert_int_eq(overcommit_set_kbytes(oc, 2 * 1048576), 0);
    ck_assert_int_eq(overcommit_ratio(oc), 0);
    ck_assert_uint_eq(vm_commit_limit(oc), 524288 + 262144);
    ck_assert_int_eq(overcommit_set_kbytes(oc, 0), 0);
    ck_assert_uint_eq(vm_commit_limit(oc), 262144);
    ck_assert_int_eq(overcommit_set_ratio(oc, 100), 0);
    ck_assert_uint_eq(overcommit_kbytes(oc), 0);
    ck_assert_uint_eq(vm_commit_limit(oc), 1048576 + 262144);
    ck_assert_int_eq(overcommit_set_ratio(oc, -1), -EINVAL);
    ck_assert_int_eq(overcommit_set_memory(oc, 3), -EINVAL);
    ck_assert_int_eq(overcommit_set_memory(oc, OVERCOMMIT_ALWAYS), 0);
    ck_assert_int_eq(overcommit_memory(oc), OVERCOMMIT_ALWAYS);
    overcommit_destroy(oc);

    overcommit_config cfg;
    overcommit_config_init(&cfg, 100, 0, 100);
    cfg.overcommit_memory = 7;
    mm_err err = {{0}};
    ck_assert_ptr_null(overcommit_create(&cfg, NULL, &err));
    ck_assert_str_eq(err.msg, "overcommit_memory 7: must be 0, 1 or 2");
}
END_TEST

/* Reserves at boot: free_kbytes / 32 capped.
 *   1000000 free pages = 4000000 kB; /32 = 125000 kB: admin = min(125000, 8192) = 8192,
 *   user = min(125000, 131072) = 125000.
 *   50000 free pages = 200000 kB; /32 = 6250: admin = user = 6250.
 * Memory online recomputes only reserves above their caps; offline only those above free. */
START_TEST(reserves)
{
    overcommit *oc = make(4 * GIB_PAGES, 0, 1000000, OVERCOMMIT_NEVER);
    ck_assert_uint_eq(admin_reserve_kbytes(oc), 8192);
    ck_assert_uint_eq(user_reserve_kbytes(oc), 125000);
    overcommit_destroy(oc);
    oc = make(4 * GIB_PAGES, 0, 50000, OVERCOMMIT_NEVER);
    ck_assert_uint_eq(admin_reserve_kbytes(oc), 6250);
    ck_assert_uint_eq(user_reserve_kbytes(oc), 6250);

    overcommit_memory_online(oc, 1000000); /* both at or below their caps: unchanged */
    ck_assert_uint_eq(admin_reserve_kbytes(oc), 6250);
    overcommit_set_admin_reserve_kbytes(oc, 10000);
    overcommit_set_user_reserve_kbytes(oc, 200000);
    overcommit_memory_online(oc, 1000000); /* above the caps: recomputed */
    ck_assert_uint_eq(admin_reserve_kbytes(oc), 8192);
    ck_assert_uint_eq(user_reserve_kbytes(oc), 125000);
    overcommit_memory_offline(oc, 1000);   /* 4000 kB free: both exceed it, recomputed: 125 */
    ck_assert_uint_eq(admin_reserve_kbytes(oc), 125);
    ck_assert_uint_eq(user_reserve_kbytes(oc), 125);
    overcommit_destroy(oc);
}
END_TEST

/* Strict mode (2). CommitLimit 786432 pages (4 GiB RAM, 1 GiB swap, ratio 50). A non-root
 * process with total_vm = 64000 pages; 1000000 free pages at boot give admin_reserve 8192 kB =
 * 2048 pages and user_reserve 125000 kB = 31250 pages. allowed = 786432 - 2048
 * - min(64000 / 32 = 2000, 31250) = 782384. With 100000 pages already committed, a request
 * passes while 100000 + pages < 782384: 682383 pages is accepted (Committed_AS becomes 782383),
 * 682384 -- the one that reaches the limit -- is refused and Committed_AS is unchanged.
 * Root skips the admin reserve (allowed = 786432 - 2000 = 784432); without an mm there is no
 * user reserve (allowed = 786432 - 2048 = 784384). */
START_TEST(strict_mode)
{
    overcommit *oc = make(4 * GIB_PAGES, GIB_PAGES, 1000000, OVERCOMMIT_NEVER);
    uint64_t total_vm = 64000;
    vm_acct_memory(oc, 100000);
    ck_assert_int_eq(__vm_enough_memory(oc, 682384, false, &total_vm), -ENOMEM);
    ck_assert_uint_eq(vm_memory_committed(oc), 100000);
    ck_assert_uint_eq(overcommit_refused(oc), 1);
    ck_assert_int_eq(__vm_enough_memory(oc, 682383, false, &total_vm), 0);
    ck_assert_uint_eq(vm_memory_committed(oc), 782383);
    vm_unacct_memory(oc, 682383);

    /* root: allowed = 786432 - 2000 = 784432: 684431 passes, 684432 does not */
    ck_assert_int_eq(__vm_enough_memory(oc, 684432, true, &total_vm), -ENOMEM);
    ck_assert_int_eq(__vm_enough_memory(oc, 684431, true, &total_vm), 0);
    vm_unacct_memory(oc, 684431);
    /* no mm, not root: allowed = 786432 - 2048 = 784384 */
    ck_assert_int_eq(__vm_enough_memory(oc, 684384, false, NULL), -ENOMEM);
    ck_assert_int_eq(__vm_enough_memory(oc, 684383, false, NULL), 0);
    vm_unacct_memory(oc, 684383);
    /* a large process: total_vm / 32 = 1250000 is capped by the user reserve, 31250 pages:
     * allowed = 786432 - 2048 - 31250 = 753134 */
    total_vm = 40000000;
    ck_assert_int_eq(__vm_enough_memory(oc, 653134, false, &total_vm), -ENOMEM);
    ck_assert_int_eq(__vm_enough_memory(oc, 653133, false, &total_vm), 0);
    ck_assert_uint_eq(overcommit_refused(oc), 4);
    overcommit_destroy(oc);
}
END_TEST

/* Heuristic mode (0, v5.2+): only a single request above totalram + swap = 1048576 + 262144 =
 * 1310720 pages is refused, whatever is committed already. Mode 1 accepts anything. */
START_TEST(guess_and_always)
{
    overcommit *oc = make(4 * GIB_PAGES, GIB_PAGES, 1000000, OVERCOMMIT_GUESS);
    vm_acct_memory(oc, 5000000); /* far beyond CommitLimit: irrelevant in mode 0 */
    ck_assert_int_eq(__vm_enough_memory(oc, 1310720, false, NULL), 0);
    ck_assert_uint_eq(vm_memory_committed(oc), 6310720);
    ck_assert_int_eq(__vm_enough_memory(oc, 1310721, true, NULL), -ENOMEM);
    ck_assert_uint_eq(vm_memory_committed(oc), 6310720);
    ck_assert_int_eq(overcommit_set_memory(oc, OVERCOMMIT_ALWAYS), 0);
    ck_assert_int_eq(__vm_enough_memory(oc, 100000000, false, NULL), 0);
    ck_assert_uint_eq(overcommit_refused(oc), 1);
    overcommit_destroy(oc);
}
END_TEST

/* Stats: the refusals and the meminfo lines in kB. */
START_TEST(stats_registered)
{
    stats_registry *reg = stats_create();
    overcommit_config cfg;
    overcommit_config_init(&cfg, 4 * GIB_PAGES, GIB_PAGES, 1000000);
    cfg.overcommit_memory = OVERCOMMIT_NEVER;
    mm_err err = {{0}};
    overcommit *oc = overcommit_create(&cfg, reg, &err);
    ck_assert_ptr_nonnull(oc);
    vm_acct_memory(oc, 1000);
    ck_assert_int_eq(__vm_enough_memory(oc, 800000, false, NULL), -ENOMEM);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.overcommit.refused")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.overcommit.refused_pages")), 800000);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.overcommit.committed_as_kb")), 4000);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.overcommit.commit_limit_kb")), 3145728);
    overcommit_destroy(oc);
    stats_destroy(reg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("overcommit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, commit_limit);
    tcase_add_test(tc, sysctl_handlers);
    tcase_add_test(tc, reserves);
    tcase_add_test(tc, strict_mode);
    tcase_add_test(tc, guess_and_always);
    tcase_add_test(tc, stats_registered);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
