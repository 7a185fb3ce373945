/* Unit tests for models/common: histogram, stats registry, rng. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "models/common/hist.h"
#include "models/common/rng.h"
#include "models/common/stats.h"

static hist H; /* too big for the stack of a forked check test in debug builds */

START_TEST(hist_exact_below_sub_range)
{
    hist_init(&H);
    for (uint64_t v = 1; v <= 100; v++)
        hist_record(&H, v);
    ck_assert_uint_eq(H.count, 100);
    ck_assert_uint_eq(hist_quantile(&H, 0.5), 50);
    ck_assert_uint_eq(hist_quantile(&H, 0.9), 90);
    ck_assert_uint_eq(hist_quantile(&H, 0.99), 99);
    ck_assert_uint_eq(hist_quantile(&H, 1.0), 100);
    ck_assert_uint_eq(H.max, 100);
    ck_assert(fabs(hist_mean(&H) - 50.5) < 1e-9);
}
END_TEST

START_TEST(hist_relative_error_bound)
{
    /* every bucket: low <= v <= high, and the reported midpoint within HIST_REL_ERROR of v */
    for (uint64_t v = 1; v < ((uint64_t)1 << 40); v = v * 3 + 7) {
        unsigned b = hist_bucket_of(v);
        ck_assert_uint_le(hist_bucket_low(b), v);
        ck_assert_uint_ge(hist_bucket_high(b), v);
        uint64_t mid = hist_bucket_low(b) + (hist_bucket_high(b) - hist_bucket_low(b)) / 2;
        double rel = fabs((double)mid - (double)v) / (double)v;
        ck_assert(rel <= HIST_REL_ERROR);
    }
    ck_assert_uint_lt(hist_bucket_of(UINT64_MAX), HIST_BUCKETS);
    ck_assert_uint_eq(hist_bucket_high(HIST_BUCKETS - 1), UINT64_MAX);
    /* buckets tile the number line: each starts one past the previous one's end */
    for (unsigned b = 1; b < HIST_BUCKETS; b++)
        ck_assert_uint_eq(hist_bucket_low(b), hist_bucket_high(b - 1) + 1);
}
END_TEST

START_TEST(hist_quantiles_of_large_values)
{
    hist_init(&H);
    /* 1000 values 1000, 10 values 1000000: p99 is 1000 (rank 990), p999 is 1e6 */
    for (int i = 0; i < 1000; i++)
        hist_record(&H, 1000);
    for (int i = 0; i < 10; i++)
        hist_record(&H, 1000000);
    double p99 = (double)hist_quantile(&H, 0.99);
    double p999 = (double)hist_quantile(&H, 0.999);
    ck_assert(fabs(p99 - 1000) / 1000 <= HIST_REL_ERROR);
    ck_assert(fabs(p999 - 1e6) / 1e6 <= HIST_REL_ERROR);
    ck_assert_uint_eq(H.max, 1000000);
}
END_TEST

static uint64_t gauge_seven(const void *ctx)
{
    (void)ctx;
    return 7;
}

START_TEST(stats_register_walk_reset)
{
    stats_registry *reg = stats_create();
    uint64_t hits = 3, misses = 1, acc = 4;
    stats_counter(reg, "cache.l1d", "accesses", &acc, "accesses");
    stats_counter(reg, "cache.l1d", "hits", &hits, "hits");
    stats_counter(reg, "cache.l1d", "misses", &misses, "misses");
    stats_ratio(reg, "cache.l1d", "miss_rate", &misses, &acc, 1.0, "misses / accesses");
    stats_gauge(reg, "os.meminfo", "MemFree", gauge_seven, NULL, "free");
    ck_assert_uint_eq(stats_count(reg), 5);
    ck_assert_str_eq(stats_at(reg, 1)->name, "cache.l1d.hits");
    const stats_entry *r = stats_find(reg, "cache.l1d.miss_rate");
    ck_assert_ptr_nonnull(r);
    ck_assert(fabs(stats_ratio_value(r) - 0.25) < 1e-12);
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.MemFree")), 7);
    stats_reset(reg);
    ck_assert_uint_eq(hits, 0);
    ck_assert_uint_eq(acc, 0);
    ck_assert(stats_ratio_value(r) == 0.0); /* den 0 gives 0, not NaN */
    ck_assert_uint_eq(stats_value(stats_find(reg, "os.meminfo.MemFree")), 7);
    stats_destroy(reg);
}
END_TEST

START_TEST(rng_deterministic_and_bounded)
{
    rng a, b;
    rng_seed_named(&a, 42, "x");
    rng_seed_named(&b, 42, "x");
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(rng_next(&a), rng_next(&b));
    rng_seed_named(&b, 42, "y");
    ck_assert_uint_ne(rng_next(&a), rng_next(&b));
    /* rng_below: in range and roughly uniform over 10 bins */
    unsigned bins[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t v = rng_below(&a, 10);
        ck_assert_uint_lt(v, 10);
        bins[v]++;
    }
    for (int i = 0; i < 10; i++)
        ck_assert(bins[i] > 9000 && bins[i] < 11000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, hist_exact_below_sub_range);
    tcase_add_test(tc, hist_relative_error_bound);
    tcase_add_test(tc, hist_quantiles_of_large_values);
    tcase_add_test(tc, stats_register_walk_reset);
    tcase_add_test(tc, rng_deterministic_and_bounded);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
