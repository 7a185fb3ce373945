/* Unit tests for models/os/oom: oom_badness for given rss / swap / page tables / oom_score_adj,
 * /proc/PID/oom_score, victim selection (unkillable tasks, -1000, ties, memcg scope,
 * oom_kill_allocating_task, waiting for an earlier victim), the kill line and dump_tasks text.
 * Numbers are worked by hand from Linux v6.12 mm/oom_kill.c and fs/proc/base.c.
 *
 * The machine: 4 GiB RAM (1048576 pages) and 1 GiB swap (262144): totalpages = 1310720, so one
 * oom_score_adj point is totalpages / 1000 = 1310 pages (the kernel divides first). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/stats.h"
#include "models/os/mm.h"
#include "models/os/oom.h"
#include "traces/event.h"

#define TOTALPAGES 1310720ull

static task_table *make_table(void)
{
    mm_layout l;
    mm_layout_init(&l);
    mm_err err = {{0}};
    task_table *tt = task_table_create(&l, NULL, NULL, &err);
    ck_assert_msg(tt != NULL, "%s", err.msg);
    return tt;
}

static mm_task *add_task(task_table *tt, uint32_t pid, int64_t anon, int64_t file, int64_t shmem,
                         int64_t swap, int64_t pgtables_bytes, int adj)
{
    ck_assert_int_eq(task_create(tt, pid, NULL), 0);
    mm_task *t = task_find(tt, pid);
    mm_struct *mm = task_mm(t);
    mm_add_rss(mm, MM_ANONPAGES, anon);
    mm_add_rss(mm, MM_FILEPAGES, file);
    mm_add_rss(mm, MM_SHMEMPAGES, shmem);
    mm_add_rss(mm, MM_SWAPENTS, swap);
    mm_pgtables_bytes_add(mm, pgtables_bytes);
    ck_assert_int_eq(task_set_oom_score_adj(t, adj), 0);
    return t;
}

/* A task with anon 100000, file 20000, shmem 5000 pages, 3000 swap entries and 819200 bytes of
 * page tables (200 pages): 125000 + 3000 + 200 = 128200 points. oom_score_adj +1000 adds 1000 *
 * 1310 = 1310000 (1438200); -500 subtracts 655000 (-526800: negative, not clamped since v5.9);
 * -1000 makes it LONG_MIN. Page-table bytes count in whole pages: 8191 bytes is 1 page. */
START_TEST(badness_values)
{
    task_table *tt = make_table();
    mm_task *t = add_task(tt, 3, 100000, 20000, 5000, 3000, 819200, 0);
    ck_assert_int_eq(oom_badness(t, TOTALPAGES), 128200);
    ck_assert_int_eq(task_set_oom_score_adj(t, 1000), 0);
    ck_assert_int_eq(oom_badness(t, TOTALPAGES), 1438200);
    ck_assert_int_eq(task_set_oom_score_adj(t, -500), 0);
    ck_assert_int_eq(oom_badness(t, TOTALPAGES), -526800);
    ck_assert_int_eq(task_set_oom_score_adj(t, -1000), 0);
    ck_assert(oom_badness(t, TOTALPAGES) == OOM_BADNESS_MIN);
    ck_assert_int_eq(task_set_oom_score_adj(t, 1001), -EINVAL);
    ck_assert_int_eq(task_set_oom_score_adj(t, -1001), -EINVAL);

    mm_task *u = add_task(tt, 4, 10, 0, 0, 0, 8191, 0);
    ck_assert_int_eq(oom_badness(u, TOTALPAGES), 11);
    /* totalpages / 1000 truncates: 999 total pages make oom_score_adj worthless */
    ck_assert_int_eq(task_set_oom_score_adj(u, 1000), 0);
    ck_assert_int_eq(oom_badness(u, 999), 11);
    /* an unkillable task (init, kernel thread) and one without an mm */
    task_set_unkillable(u, true);
    ck_assert(oom_badness(u, TOTALPAGES) == OOM_BADNESS_MIN);
    ck_assert_int_eq(task_exit(tt, 3, NULL), 0);
    ck_assert(oom_badness(t, TOTALPAGES) == OOM_BADNESS_MIN);
    task_table_destroy(tt);
}
END_TEST

/* /proc/PID/oom_score = (1000 + badness * 1000 / totalpages) * 2 / 3 with RAM + swap:
 *   128200: 128200000 / 1310720 = 97, (1097 * 2) / 3 = 731
 *   -526800: -526800000 / 1310720 = -401 (C truncates towards 0), 599 * 2 / 3 = 399
 *   1438200: 1438200000 / 1310720 = 1097, 2097 * 2 / 3 = 1398
 *   -1000: 0 */
START_TEST(proc_oom_score_values)
{
    task_table *tt = make_table();
    mm_task *t = add_task(tt, 3, 100000, 20000, 5000, 3000, 819200, 0);
    ck_assert_uint_eq(proc_oom_score(t, 1048576, 262144), 731);
    task_set_oom_score_adj(t, -500);
    ck_assert_uint_eq(proc_oom_score(t, 1048576, 262144), 399);
    task_set_oom_score_adj(t, 1000);
    ck_assert_uint_eq(proc_oom_score(t, 1048576, 262144), 1398);
    task_set_oom_score_adj(t, -1000);
    ck_assert_uint_eq(proc_oom_score(t, 1048576, 262144), 0);
    ck_assert_uint_eq(oom_totalpages(1048576, 262144), TOTALPAGES);
    ck_assert_uint_eq(oom_totalpages_memcg(25000), 25000);
    ck_assert_uint_eq(oom_totalpages_memcg(0), 1);
    task_table_destroy(tt);
}
END_TEST

/* Selection among: pid 1 (init, unkillable, 900000 pages), pid 2 (50000), pid 3 (120000), pid 4
 * (10000, oom_score_adj +100: 10000 + 100 * 1310 = 141000), pid 5 (500000, -1000). The victim is
 * pid 4 with 141000 points. A pid 6 created later with exactly 141000 points wins the tie
 * (oom_evaluate_task replaces on equal points: the last in list order). Once a victim is marked
 * and not yet reaped, the next OOM waits (OOM_WAIT); after its exit the next OOM takes pid 4. */
START_TEST(select_victim)
{
    task_table *tt = make_table();
    stats_registry *reg = stats_create();
    oom_killer *ok = oom_killer_create(tt, reg);
    task_set_unkillable(add_task(tt, 1, 900000, 0, 0, 0, 0, 0), true);
    add_task(tt, 2, 50000, 0, 0, 0, 0, 0);
    add_task(tt, 3, 120000, 0, 0, 0, 0, 0);
    add_task(tt, 4, 10000, 0, 0, 0, 0, 100);
    add_task(tt, 5, 500000, 0, 0, 0, 0, -1000);
    oom_control oc = {.totalpages = TOTALPAGES};
    mm_task *v;
    int64_t pts;
    ck_assert_int_eq(select_bad_process(tt, &oc, &v, &pts), OOM_KILLED);
    ck_assert_uint_eq(task_pid(v), 4);
    ck_assert_int_eq(pts, 141000);

    add_task(tt, 6, 141000, 0, 0, 0, 0, 0);
    oom_report r;
    ck_assert_int_eq(out_of_memory(ok, &oc, &r), OOM_KILLED);
    ck_assert_uint_eq(r.pid, 6);
    ck_assert_int_eq(r.points, 141000);
    ck_assert_uint_eq(r.anon_rss, 141000);
    ck_assert_uint_eq(task_state(task_find(tt, 6)), TASK_OOM_VICTIM);
    ck_assert_int_eq(out_of_memory(ok, &oc, &r), OOM_WAIT);
    ck_assert_int_eq(task_exit(tt, 6, NULL), 0);
    ck_assert_int_eq(out_of_memory(ok, &oc, &r), OOM_KILLED);
    ck_assert_uint_eq(r.pid, 4);
    ck_assert_int_eq(r.oom_score_adj, 100);
    ck_assert_uint_eq(oom_nr_kills(ok), 2);
    ck_assert_uint_eq(oom_kill_at(ok, 0)->pid, 6);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.oom.kills")), 2);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.oom.aborted")), 1);
    oom_killer_destroy(ok);
    stats_destroy(reg);
    task_table_destroy(tt);
}
END_TEST

/* Negative points still make a victim: with every task at -500 the least negative one goes. With
 * nothing killable (init and -1000 only), OOM_NO_VICTIM. */
START_TEST(negative_and_none)
{
    task_table *tt = make_table();
    oom_killer *ok = oom_killer_create(tt, NULL);
    task_set_unkillable(add_task(tt, 1, 900000, 0, 0, 0, 0, 0), true);
    add_task(tt, 2, 500000, 0, 0, 0, 0, -1000);
    oom_control oc = {.totalpages = TOTALPAGES};
    oom_report r;
    ck_assert_int_eq(out_of_memory(ok, &oc, &r), OOM_NO_VICTIM);
    add_task(tt, 3, 1000, 0, 0, 0, 0, -500);  /* 1000 - 655000 = -654000 */
    add_task(tt, 4, 2000, 0, 0, 0, 0, -500);  /* -653000: the victim */
    ck_assert_int_eq(out_of_memory(ok, &oc, &r), OOM_KILLED);
    ck_assert_uint_eq(r.pid, 4);
    ck_assert_int_eq(r.points, -653000);
    oom_killer_destroy(ok);
    task_table_destroy(tt);
}
END_TEST

/* A memcg OOM looks only at the cgroup's tasks and normalises by its limit: 25000 pages, 25 per
 * oom_score_adj point. In cgroup 5: pid 2 (3000 pages) then pid 3 (2000 pages, +40: 2000 + 1000 =
 * 3000): a tie, the later one goes. The much larger pid 4 outside the cgroup is not considered.
 * The kill line says "Memory cgroup out of memory". */
START_TEST(memcg_scope)
{
    task_table *tt = make_table();
    oom_killer *ok = oom_killer_create(tt, NULL);
    task_set_cgroup(add_task(tt, 2, 3000, 0, 0, 0, 0, 0), 5);
    task_set_cgroup(add_task(tt, 3, 2000, 0, 0, 0, 0, 40), 5);
    add_task(tt, 4, 900000, 0, 0, 0, 0, 0);
    oom_control oc = {.totalpages = oom_totalpages_memcg(25000), .memcg_oom = true, .memcg = 5};
    oom_report r;
    ck_assert_int_eq(out_of_memory(ok, &oc, &r), OOM_KILLED);
    ck_assert_uint_eq(r.pid, 3);
    ck_assert_int_eq(r.points, 3000);
    ck_assert_int_eq(r.constraint, CONSTRAINT_MEMCG);
    char buf[256];
    oom_format_kill(&r, buf, sizeof buf);
    ck_assert_str_eq(buf, "Memory cgroup out of memory: Killed process 3 (task) total-vm:132kB, "
                          "anon-rss:8000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:0kB "
                          "oom_score_adj:40");
    oom_killer_destroy(ok);
    task_table_destroy(tt);
}
END_TEST

/* vm.oom_kill_allocating_task: the allocating task is killed if it may be, whatever its score;
 * an allocating task with -1000 falls back to the scan. */
START_TEST(kill_allocating_task)
{
    task_table *tt = make_table();
    oom_killer *ok = oom_killer_create(tt, NULL);
    add_task(tt, 2, 100, 0, 0, 0, 0, 0);
    add_task(tt, 3, 90000, 0, 0, 0, 0, 0);
    add_task(tt, 4, 10, 0, 0, 0, 0, -1000);
    oom_set_kill_allocating_task(ok, true);
    oom_control oc = {.totalpages = TOTALPAGES, .current_pid = 2};
    oom_report r;
    ck_assert_int_eq(out_of_memory(ok, &oc, &r), OOM_KILLED);
    ck_assert_uint_eq(r.pid, 2);
    ck_assert_int_eq(task_exit(tt, 2, NULL), 0);
    oc.current_pid = 4;
    ck_assert_int_eq(out_of_memory(ok, &oc, &r), OOM_KILLED);
    ck_assert_uint_eq(r.pid, 3);
    oom_killer_destroy(ok);
    task_table_destroy(tt);
}
END_TEST

/* The kill line: total-vm is the stack (33 pages) plus a 1 GiB anonymous mapping (262144 pages):
 * 262177 pages = 1048708 kB; anon-rss 10000 pages = 40000 kB; pgtables 40960 bytes = 40 kB.
 * dump_tasks: the header and one row per candidate, formatted as
 * "[%7d] %5d %5d %8lu %8lu %8lu %8lu %9lu %8ld %8lu         %5hd %s". */
START_TEST(report_text)
{
    task_table *tt = make_table();
    oom_killer *ok = oom_killer_create(tt, NULL);
    mm_task *t = add_task(tt, 4, 10000, 0, 0, 0, 40960, 100);
    task_set_comm(t, "stress");
    ck_assert_int_eq(do_mmap(task_mm(t), 0, 1ull << 30, MM_PROT_READ | MM_PROT_WRITE |
                             MM_MAP_PRIVATE | MM_MAP_ANONYMOUS, 0, 0, NULL), 0);
    oom_control oc = {.totalpages = TOTALPAGES};
    oom_report r;
    ck_assert_int_eq(out_of_memory(ok, &oc, &r), OOM_KILLED);
    char buf[512];
    size_t n = oom_format_kill(&r, buf, sizeof buf);
    const char *want = "Out of memory: Killed process 4 (stress) total-vm:1048708kB, "
                       "anon-rss:40000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB "
                       "oom_score_adj:100";
    ck_assert_str_eq(buf, want);
    ck_assert_uint_eq(n, strlen(want));
    oom_killer_destroy(ok);
    task_table_destroy(tt);

    tt = make_table();
    task_set_unkillable(add_task(tt, 1, 5, 0, 0, 0, 0, 0), true);
    add_task(tt, 2, 50000, 0, 0, 0, 0, 0);
    task_set_comm(add_task(tt, 3, 100000, 20000, 5000, 3000, 819200, -500), "db");
    oom_control all = {.totalpages = TOTALPAGES};
    char dump[1024];
    oom_dump_tasks(tt, &all, dump, sizeof dump);
    ck_assert_str_eq(dump,
                     "Tasks state (memory values in pages):\n"
                     "[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem "
                     "pgtables_bytes swapents oom_score_adj name\n"
                     "[      2]     0     2       33    50000    50000        0         0        "
                     "0        0             0 task\n"
                     "[      3]     0     3       33   125000   100000    20000      5000   819200"
                     "     3000          -500 db\n");
    task_table_destroy(tt);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("oom");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, badness_values);
    tcase_add_test(tc, proc_oom_score_values);
    tcase_add_test(tc, select_victim);
    tcase_add_test(tc, negative_and_none);
    tcase_add_test(tc, memcg_scope);
    tcase_add_test(tc, kill_allocating_task);
    tcase_add_test(tc, report_text);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
