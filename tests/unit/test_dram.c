/* Unit tests for models/hw/dram: fixed latency and the row-buffer model. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "models/hw/dram.h"

static struct dram_params rowbuf_params(void)
{
    struct dram_params p;
    memset(&p, 0, sizeof p);
    p.name = "dram";
    p.model = DRAM_ROWBUFFER;
    p.channels = 2;
    p.ranks = 2;
    p.banks = 16;
    p.row_size = 8192;
    p.line = 64;
    p.mapping = "row,rank,bank,channel,column";
    p.page_policy = DRAM_OPEN_PAGE;
    p.tRCD = 22;
    p.tCAS = 22;
    p.tRP = 22;
    p.dram_mhz = 1600; /* DDR4-3200 command clock */
    p.cpu_mhz = 3200;
    p.controller_latency = 10;
    return p;
}

START_TEST(fixed_latency_counts_reads_and_writes)
{
    stats_registry *reg = stats_create();
    struct dram_params p = {.name = "dram", .model = DRAM_FIXED, .latency = 200};
    dram *d = dram_create(&p, reg, NULL);
    ck_assert_uint_eq(dram_access(d, 0x1000, 0), 200);
    ck_assert_uint_eq(dram_access(d, 0x2000, 1), 200);
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.reads")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.writes")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.cycles")), 400);
    dram_destroy(d);
    stats_destroy(reg);
}
END_TEST

START_TEST(sequential_stream_within_one_row_hits)
{
    stats_registry *reg = stats_create();
    struct dram_params p = rowbuf_params();
    dram *d = dram_create(&p, reg, NULL);
    /* column bits are the lowest above the line: 8 KiB / 64 B = 128 lines share one row */
    uint32_t first = dram_access(d, 0, 0);
    ck_assert_uint_eq(first, 2 * (22 + 22) + 10); /* activate + CAS, DRAM clocks x 2, + controller */
    for (uint64_t a = 64; a < 8192; a += 64)
        ck_assert_uint_eq(dram_access(d, a, 0), 2 * 22 + 10);
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.row_hits")), 127);
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.row_misses")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.row_conflicts")), 0);
    dram_destroy(d);
    stats_destroy(reg);
}
END_TEST

START_TEST(two_rows_of_one_bank_conflict)
{
    stats_registry *reg = stats_create();
    struct dram_params p = rowbuf_params();
    dram *d = dram_create(&p, reg, NULL);
    /* row stride: 8 KiB x 2 channels x 16 banks x 2 ranks = 512 KiB; same bank, next row */
    uint64_t a = 0, b = 512 * 1024;
    struct dram_coord ca, cb;
    dram_decode(d, a, &ca);
    dram_decode(d, b, &cb);
    ck_assert_uint_eq(ca.bank, cb.bank);
    ck_assert_uint_eq(ca.channel, cb.channel);
    ck_assert_uint_eq(ca.rank, cb.rank);
    ck_assert_uint_eq(cb.row, ca.row + 1);
    for (int i = 0; i < 10; i++) {
        dram_access(d, a, 0);
        dram_access(d, b, 1);
    }
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.row_misses")), 1);
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.row_conflicts")), 19);
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.writes")), 10);
    dram_destroy(d);
    stats_destroy(reg);
}
END_TEST

START_TEST(closed_page_always_activates)
{
    stats_registry *reg = stats_create();
    struct dram_params p = rowbuf_params();
    p.page_policy = DRAM_CLOSED_PAGE;
    dram *d = dram_create(&p, reg, NULL);
    for (uint64_t a = 0; a < 8192; a += 64)
        ck_assert_uint_eq(dram_access(d, a, 0), 2 * (22 + 22) + 10);
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.row_misses")), 128);
    ck_assert_uint_eq(stats_value(stats_find(reg, "dram.row_hits")), 0);
    dram_destroy(d);
    stats_destroy(reg);
}
END_TEST

START_TEST(channel_interleaving_by_mapping)
{
    stats_registry *reg = stats_create();
    struct dram_params p = rowbuf_params();
    p.mapping = "row,rank,bank,column,channel";
    dram *d = dram_create(&p, reg, NULL);
    struct dram_coord c0, c1, c2;
    dram_decode(d, 0, &c0);
    dram_decode(d, 64, &c1);
    dram_decode(d, 128, &c2);
    ck_assert_uint_eq(c0.channel, 0);
    ck_assert_uint_eq(c1.channel, 1);
    ck_assert_uint_eq(c2.channel, 0);
    ck_assert_uint_eq(c2.column, 1);
    dram_destroy(d);
    stats_destroy(reg);
}
END_TEST

START_TEST(bad_params_refused)
{
    mm_err err;
    struct dram_params p = rowbuf_params();
    p.banks = 12;
    ck_assert_int_eq(dram_params_check(&p, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "powers of two"));
    p = rowbuf_params();
    p.mapping = "rank,row,bank,channel,column";
    ck_assert_int_eq(dram_params_check(&p, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "row must be the most significant"));
    p.mapping = "row,bank,bank,channel,column";
    ck_assert_int_eq(dram_params_check(&p, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "named twice"));
    p.mapping = "row,rank,bank,chanel,column";
    ck_assert_int_eq(dram_params_check(&p, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown field 'chanel'"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dram");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, fixed_latency_counts_reads_and_writes);
    tcase_add_test(tc, sequential_stream_within_one_row_hits);
    tcase_add_test(tc, two_rows_of_one_bank_conflict);
    tcase_add_test(tc, closed_page_always_activates);
    tcase_add_test(tc, channel_interleaving_by_mapping);
    tcase_add_test(tc, bad_params_refused);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
