/* Unit tests for traces/capture: valgrind lackey + --trace-syscalls log lines into events. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "traces/capture.h"

static int parse(capture_parser *p, const char *line, struct mm_event *ev)
{
    mm_err err;
    return capture_parse_line(p, line, strlen(line), ev, &err);
}

START_TEST(accesses_and_pid)
{
    capture_parser *p = capture_parser_create("t");
    struct mm_event ev[2];
    ck_assert_int_eq(parse(p, "==4242== Lackey, an example Valgrind tool", ev), 0);
    ck_assert_int_eq(parse(p, "I  04001290,3", ev), 1);
    ck_assert_uint_eq(ev[0].type, MM_EV_IFETCH);
    ck_assert_uint_eq(ev[0].addr, 0x4001290);
    ck_assert_uint_eq(ev[0].size, 3);
    ck_assert_uint_eq(ev[0].pid, 4242);
    ck_assert_int_eq(parse(p, " M 1ffefffd40,8", ev), 1);
    ck_assert_uint_eq(ev[0].type, MM_EV_RMW);
    capture_parser_destroy(p);
}
END_TEST

START_TEST(mmap_of_an_opened_file)
{
    capture_parser *p = capture_parser_create("t");
    struct mm_event ev[2];
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](257) sys_openat ( 4294967196, 0x4034bb0(/lib/libc.so.6), 524288 ) --> [async] ... ", ev), 0);
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](257) ... [async] --> Success(0x4) ", ev), 0);
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](9) sys_mmap ( 0x4838000, 4096, 5, 2066, 4, 4096 ) --> [pre-success] Success(0x4838000) ", ev), 1);
    ck_assert_uint_eq(ev[0].type, MM_EV_MMAP);
    ck_assert_uint_eq(ev[0].addr, 0x4838000);
    ck_assert_uint_eq(ev[0].len, 4096);
    ck_assert_uint_eq(ev[0].arg, 4096);
    /* prot 5 = read|exec; flags 2066 = 0x812 = MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE */
    ck_assert_uint_eq(ev[0].flags, MM_PROT_READ | MM_PROT_EXEC | MM_MAP_PRIVATE | MM_MAP_FIXED);
    ck_assert_uint_eq(ev[0].file, 1);
    ck_assert_uint_eq(capture_file_count(p), 1);
    ck_assert_str_eq(capture_file_at(p, 0).key, "file.1");
    ck_assert_str_eq(capture_file_at(p, 0).value, "/lib/libc.so.6");
    /* after close, the fd no longer names the file: an anonymous mapping */
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](3) sys_close ( 4 )[sync] --> Success(0x0) ", ev), 0);
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](9) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-success] Success(0x4835000) ", ev), 1);
    ck_assert_uint_eq(ev[0].file, 0);
    ck_assert_uint_eq(ev[0].flags, MM_PROT_READ | MM_PROT_WRITE | MM_MAP_PRIVATE | MM_MAP_ANONYMOUS);
    capture_parser_destroy(p);
}
END_TEST

START_TEST(other_memory_calls)
{
    capture_parser *p = capture_parser_create("t");
    struct mm_event ev[2];
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](12) sys_brk ( 0x0 ) --> [pre-success] Success(0x4035000) ", ev), 1);
    ck_assert_uint_eq(ev[0].type, MM_EV_BRK);
    ck_assert_uint_eq(ev[0].addr, 0x4035000);
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](10) sys_mprotect ( 0x4a16000, 16384, 1 )[sync] --> Success(0x0) ", ev), 1);
    ck_assert_uint_eq(ev[0].type, MM_EV_MPROTECT);
    ck_assert_uint_eq(ev[0].len, 16384);
    ck_assert_uint_eq(ev[0].flags, MM_PROT_READ);
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](11) sys_munmap ( 0x483c000, 42095 )[sync] --> Success(0x0) ", ev), 1);
    ck_assert_uint_eq(ev[0].type, MM_EV_MUNMAP);
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](28) sys_madvise ( 0x5000000, 8192, 4 )[sync] --> Success(0x0) ", ev), 1);
    ck_assert_uint_eq(ev[0].type, MM_EV_MADVISE);
    ck_assert_uint_eq(ev[0].flags, MM_MADV_DONTNEED);
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](25) sys_mremap ( 0x5000000, 8192, 16384, 1, 0x0 ) --> [pre-success] Success(0x6000000) ", ev), 2);
    ck_assert_uint_eq(ev[0].type, MM_EV_MUNMAP);
    ck_assert_uint_eq(ev[1].type, MM_EV_MMAP);
    ck_assert_uint_eq(ev[1].addr, 0x6000000);
    ck_assert_uint_eq(ev[1].len, 16384);
    /* a failed call makes no event */
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](9) sys_mmap ( 0x0, 8192, 3, 34, 4294967295, 0 ) --> [pre-fail] Failure(0xc) ", ev), 0);
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](58) sys_fork ( )   fork: process 7 created child 8", ev), 1);
    ck_assert_uint_eq(ev[0].type, MM_EV_FORK);
    ck_assert_uint_eq(ev[0].arg, 8);
    ck_assert_int_eq(parse(p, "SYSCALL[7,1](231) exit_group( 0 ) --> [pre-success] Success(0x0) ", ev), 1);
    ck_assert_uint_eq(ev[0].type, MM_EV_EXIT);
    ck_assert_uint_eq(ev[0].pid, 7);
    ck_assert_uint_eq(capture_syscalls_seen(p), 8);
    capture_parser_destroy(p);
}
END_TEST

START_TEST(malformed_lines)
{
    capture_parser *p = capture_parser_create("log");
    struct mm_event ev[2];
    mm_err err;
    const char *bad = "SYSCALL[x,1](9) sys_mmap ( )";
    ck_assert_int_eq(capture_parse_line(p, bad, strlen(bad), ev, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "log: line 1: expected 'SYSCALL[pid,tid](nr)"));
    const char *badacc = " L zzzz,8";
    ck_assert_int_eq(capture_parse_line(p, badacc, strlen(badacc), ev, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "log: line 2"));
    /* valgrind chatter is no error */
    ck_assert_int_eq(parse(p, "--12345-- some note", ev), 0);
    capture_parser_destroy(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("capture");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, accesses_and_pid);
    tcase_add_test(tc, mmap_of_an_opened_file);
    tcase_add_test(tc, other_memory_calls);
    tcase_add_test(tc, malformed_lines);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
