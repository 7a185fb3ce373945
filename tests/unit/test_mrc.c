/* Unit tests for sim/mrc: stack distances against a naive LRU stack, exact miss-ratio curves
 * against plain fully associative LRU caches simulated here at every size, the analytic cases,
 * the report grid, and SHARDS sampling (fixed rate, fixed size, with and without the exact small
 * stack) against exact curves. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/rng.h"
#include "sim/mrc.h"

/* ---------- references: a naive LRU stack and a naive LRU cache ---------- */

/* Most recent first. Distance = position + 1, MRC_COLD if absent. */
struct naive_stack {
    uint64_t *keys;
    size_t n, cap, limit;
};

static void ns_init(struct naive_stack *s, size_t cap, size_t limit)
{
    s->keys = malloc(cap * sizeof *s->keys);
    s->n = 0;
    s->cap = cap;
    s->limit = limit;
}

static uint64_t ns_access(struct naive_stack *s, uint64_t key)
{
    size_t p = 0;
    while (p < s->n && s->keys[p] != key)
        p++;
    uint64_t d = p < s->n ? p + 1 : MRC_COLD;
    if (p == s->n) {
        ck_assert_uint_lt(s->n, s->cap);
        s->n++;
    }
    memmove(s->keys + 1, s->keys, p * sizeof *s->keys);
    s->keys[0] = key;
    if (s->limit && s->n > s->limit)
        s->n = s->limit;
    return d;
}

static void ns_remove(struct naive_stack *s, uint64_t key)
{
    for (size_t p = 0; p < s->n; p++) {
        if (s->keys[p] == key) {
            memmove(s->keys + p, s->keys + p + 1, (s->n - p - 1) * sizeof *s->keys);
            s->n--;
            return;
        }
    }
}

/* A fully associative LRU cache of `size` entries; returns 1 on a hit. */
struct lru_cache {
    uint64_t *keys;
    size_t n, size;
};

static int lru_access(struct lru_cache *c, uint64_t key)
{
    size_t p = 0;
    while (p < c->n && c->keys[p] != key)
        p++;
    int hit = p < c->n;
    if (!hit) {
        if (c->n < c->size)
            c->n++;
        p = c->n - 1; /* the least recent entry (or the new free one) is overwritten */
    }
    memmove(c->keys + 1, c->keys, p * sizeof *c->keys);
    c->keys[0] = key;
    return hit;
}

/* ---------- traces ---------- */

enum shape { UNIFORM, SKEWED, LOOPS, RANGES };

/* n accesses; each covers keys first[i]..last[i] (one key except for RANGES). */
static void make_trace(enum shape sh, uint64_t seed, size_t n, uint64_t universe, uint64_t *first,
                       uint64_t *last)
{
    rng r;
    rng_seed(&r, seed);
    uint64_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t k;
        switch (sh) {
        case UNIFORM:
            k = rng_below(&r, universe);
            break;
        case SKEWED: {
            double u = rng_double(&r);
            k = (uint64_t)((double)universe * u * u * u);
            break;
        }
        case LOOPS:
            /* runs through a loop of a random length, now and then jumping elsewhere */
            if (rng_below(&r, 50) == 0)
                pos = rng_below(&r, universe);
            k = 1000 + (pos++ % (1 + universe / 3));
            break;
        default:
            k = rng_below(&r, universe);
            break;
        }
        first[i] = k * 7 + 3; /* keys need not be small or dense */
        last[i] = first[i] + (sh == RANGES ? rng_below(&r, 3) : 0);
    }
}

/* ---------- tests ---------- */

START_TEST(distances_match_naive_stack)
{
    const size_t n = 30000;
    for (int sh = UNIFORM; sh <= LOOPS; sh++) {
        uint64_t *f = malloc(n * sizeof *f), *l = malloc(n * sizeof *l);
        make_trace((enum shape)sh, 11 + (uint64_t)sh, n, 3000, f, l);
        struct naive_stack ns;
        ns_init(&ns, 4000, 0);
        reuse_stack *r = reuse_create();
        for (size_t i = 0; i < n; i++) {
            uint64_t want = ns_access(&ns, f[i]);
            uint64_t got = reuse_access(r, f[i]);
            if (want != got)
                ck_abort_msg("shape %d ref %zu key %llu: distance %llu, expected %llu", sh, i,
                             (unsigned long long)f[i], (unsigned long long)got, (unsigned long long)want);
        }
        ck_assert_uint_eq(reuse_count(r), ns.n);
        reuse_destroy(r);
        free(ns.keys);
        free(f);
        free(l);
    }
}
END_TEST

START_TEST(extreme_keys_and_long_runs_of_one_key)
{
    reuse_stack *r = reuse_create();
    uint64_t keys[] = {0, UINT64_MAX - 1, 1, (uint64_t)1 << 63, 0xffffffffu, 0x100000000u};
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(reuse_access(r, keys[i]), MRC_COLD);
    for (int i = 0; i < 6; i++)
        ck_assert_uint_eq(reuse_access(r, keys[i]), 6);
    /* many references to one key: the times wrap many times (compaction) */
    for (int i = 0; i < 100000; i++)
        ck_assert_uint_eq(reuse_access(r, 42) , i == 0 ? MRC_COLD : 1);
    ck_assert_uint_eq(reuse_access(r, keys[0]), 7);
    reuse_destroy(r);
}
END_TEST

START_TEST(bounded_stack_and_removal_match_naive)
{
    const size_t n = 40000;
    uint64_t *f = malloc(n * sizeof *f), *l = malloc(n * sizeof *l);
    make_trace(SKEWED, 5, n, 2000, f, l);
    /* bounded: distances up to the limit exact, deeper ones cold */
    struct naive_stack ns;
    ns_init(&ns, 2100, 0);
    reuse_stack *r = reuse_create();
    reuse_set_limit(r, 100);
    for (size_t i = 0; i < n; i++) {
        uint64_t want = ns_access(&ns, f[i]);
        if (want != MRC_COLD && want > 100)
            want = MRC_COLD;
        ck_assert_uint_eq(reuse_access(r, f[i]), want);
        ck_assert_uint_le(reuse_count(r), 100);
    }
    ck_assert_uint_gt(reuse_evictions(r), 0);
    reuse_destroy(r);
    free(ns.keys);
    /* removal: remove every 5th key referenced, in both */
    ns_init(&ns, 2100, 0);
    r = reuse_create();
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(reuse_access(r, f[i]), ns_access(&ns, f[i]));
        if (i % 5 == 4) {
            uint64_t victim = f[i - 2];
            ns_remove(&ns, victim);
            reuse_remove(r, victim);
            reuse_remove(r, 999999999); /* unknown: no-op */
        }
        ck_assert_uint_eq(reuse_count(r), ns.n);
    }
    reuse_destroy(r);
    free(ns.keys);
    free(f);
    free(l);
}
END_TEST

/* Exact mode: at every size C from 1 to past the distinct keys, the misses equal those the naive
 * LRU stack's distances give (d > C); at sizes 1..64 and every 5th one above, also those of a
 * fully associative LRU cache of C entries simulated directly. With count_accesses an access
 * looks up every key it covers and misses if any missed (cachegrind's rule). */
static void check_exact_against_caches(enum shape sh, int count_accesses, unsigned grid)
{
    const size_t n = 6000;
    const uint64_t universe = 150;
    uint64_t *f = malloc(n * sizeof *f), *l = malloc(n * sizeof *l);
    make_trace(sh, 100 + (uint64_t)sh, n, universe, f, l);
    struct mrc_params p;
    mrc_params_default(&p);
    p.count_accesses = count_accesses;
    p.grid_points = grid;
    mm_err err;
    mrc *m = mrc_create(&p, &err);
    ck_assert_ptr_nonnull(m);
    for (size_t i = 0; i < n; i++)
        mrc_ref_range(m, f[i], l[i]);
    mrc_finish(m);
    struct mrc_stats st;
    mrc_get_stats(m, &st);

    /* the naive stack: misses at size C = references at distance > C (cold included) */
    struct naive_stack ns;
    ns_init(&ns, 4 * universe, 0);
    uint64_t refs = 0, *hist = calloc(4 * universe + 2, sizeof *hist); /* hist[d], 0 = cold */
    for (size_t i = 0; i < n; i++) {
        uint64_t dmax = 0;
        for (uint64_t k = f[i]; k <= l[i]; k++) {
            uint64_t d = ns_access(&ns, k);
            if (!count_accesses) {
                hist[d == MRC_COLD ? 0 : d]++;
                refs++;
            } else if (d > dmax) {
                dmax = d;
            }
        }
        if (count_accesses) {
            hist[dmax == MRC_COLD ? 0 : dmax]++;
            refs++;
        }
    }
    ck_assert_uint_eq(st.references, refs);
    ck_assert_uint_eq(st.tracked, ns.n);

    uint64_t top = st.tracked + 8;
    uint64_t *sizes = malloc(2048 * sizeof *sizes);
    size_t nsizes = 0;
    if (grid) {
        nsizes = mrc_grid(UINT64_C(1) << 40, grid, sizes, 2048);
        while (nsizes && sizes[nsizes - 1] > 2 * top)
            nsizes--;
    } else {
        for (uint64_t c = 1; c <= top; c++)
            sizes[nsizes++] = c;
    }
    uint64_t *buf = malloc(2 * top * sizeof *buf);
    for (size_t si = 0; si < nsizes; si++) {
        uint64_t size = sizes[si], misses = hist[0];
        for (uint64_t d = size + 1; d <= ns.n; d++)
            misses += hist[d];
        double got = mrc_misses(m, size);
        if (got != (double)misses)
            ck_abort_msg("shape %d count_accesses %d grid %u size %llu: %.1f misses, the naive stack gives %llu",
                         sh, count_accesses, grid, (unsigned long long)size, got, (unsigned long long)misses);
        ck_assert(fabs(mrc_miss_ratio(m, size) - (double)misses / (double)refs) < 1e-12);
        if (size > 64 && size % 5 && !grid)
            continue;
        struct lru_cache c = {buf, 0, size};
        uint64_t cmisses = 0;
        for (size_t i = 0; i < n; i++) {
            int miss = 0;
            for (uint64_t k = f[i]; k <= l[i]; k++) {
                int hit = lru_access(&c, k);
                if (!count_accesses)
                    cmisses += (uint64_t)!hit;
                miss |= !hit;
            }
            if (count_accesses)
                cmisses += (uint64_t)miss;
        }
        if (got != (double)cmisses)
            ck_abort_msg("shape %d count_accesses %d grid %u size %llu: %.1f misses, the LRU cache has %llu",
                         sh, count_accesses, grid, (unsigned long long)size, got, (unsigned long long)cmisses);
    }
    /* past the largest distance, only first references miss */
    uint64_t md = mrc_max_distance(m);
    ck_assert_uint_gt(md, 0);
    ck_assert(mrc_misses(m, md) == (double)st.cold);
    ck_assert(mrc_misses(m, md - 1) > (double)st.cold);
    free(hist);
    free(ns.keys);
    free(buf);
    free(sizes);
    mrc_destroy(m);
    free(f);
    free(l);
}

START_TEST(exact_equals_lru_caches_every_size)
{
    for (int sh = UNIFORM; sh <= RANGES; sh++)
        check_exact_against_caches((enum shape)sh, 0, 0);
}
END_TEST

START_TEST(exact_counting_accesses_equals_cachegrind_rule)
{
    check_exact_against_caches(RANGES, 1, 0);
    check_exact_against_caches(SKEWED, 1, 0);
}
END_TEST

START_TEST(grid_mode_is_exact_at_grid_sizes)
{
    for (int sh = UNIFORM; sh <= RANGES; sh++)
        check_exact_against_caches((enum shape)sh, 0, 8);
    check_exact_against_caches(RANGES, 1, 3);
}
END_TEST

static mrc *exact_curve(unsigned grid)
{
    struct mrc_params p;
    mrc_params_default(&p);
    p.grid_points = grid;
    mm_err err;
    mrc *m = mrc_create(&p, &err);
    ck_assert_ptr_nonnull(m);
    return m;
}

START_TEST(cyclic_scan_misses_below_its_size)
{
    /* K lines read round and round: LRU misses everything below K lines, only the K cold misses
     * from K on */
    const uint64_t k = 1000, rounds = 20;
    for (unsigned grid = 0; grid <= 8; grid += 8) {
        mrc *m = exact_curve(grid);
        for (uint64_t r = 0; r < rounds; r++)
            for (uint64_t i = 0; i < k; i++)
                mrc_ref(m, 0x40000 + i);
        mrc_finish(m);
        uint64_t sizes[] = {1, 2, 16, 512, 999, 1000, 1001, 4096};
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            double want = sizes[i] < k ? 1.0 : (double)k / (double)(k * rounds);
            if (grid && sizes[i] == 999)
                continue; /* not a grid size */
            ck_assert_msg(fabs(mrc_miss_ratio(m, sizes[i]) - want) < 1e-12, "size %llu: %g",
                          (unsigned long long)sizes[i], mrc_miss_ratio(m, sizes[i]));
        }
        ck_assert_uint_eq(mrc_max_distance(m), k);
        mrc_destroy(m);
    }
}
END_TEST

START_TEST(stream_misses_at_every_size)
{
    mrc *m = exact_curve(8);
    for (uint64_t i = 0; i < 50000; i++)
        mrc_ref(m, i);
    mrc_finish(m);
    for (uint64_t c = 1; c < (UINT64_C(1) << 40); c *= 3)
        ck_assert(mrc_miss_ratio(m, c) == 1.0);
    ck_assert_uint_eq(mrc_max_distance(m), 0);
    mrc_destroy(m);
    /* nothing at all */
    m = exact_curve(0);
    mrc_finish(m);
    ck_assert(mrc_miss_ratio(m, 1) == 0.0);
    mrc_destroy(m);
}
END_TEST

START_TEST(grid_sizes)
{
    uint64_t g[2048];
    size_t n = mrc_grid(1, 8, g, 2048);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(g[0], 1);
    n = mrc_grid(1000, 8, g, 2048);
    ck_assert_uint_eq(g[n - 1], 1024);
    for (size_t i = 0; i < 16; i++)
        ck_assert_uint_eq(g[i], i + 1);
    for (size_t i = 1; i < n; i++)
        ck_assert_uint_gt(g[i], g[i - 1]);
    /* every power of two is there, and 8 sizes per octave above 16 */
    for (uint64_t p = 1; p <= 1024; p *= 2) {
        int found = 0;
        for (size_t i = 0; i < n; i++)
            found |= g[i] == p;
        ck_assert_msg(found, "%llu missing", (unsigned long long)p);
    }
    ck_assert_uint_eq(n, 16 + 6 * 8);
    n = mrc_grid(UINT64_C(1) << 63, 256, g, 2048);
    ck_assert_uint_eq(n, 2048); /* capped */
}
END_TEST

START_TEST(bad_parameters)
{
    struct mrc_params p;
    mm_err err;
    mrc_params_default(&p);
    p.rate = 1.5;
    ck_assert_ptr_null(mrc_create(&p, &err));
    ck_assert(strstr(err.msg, "(0, 1]"));
    mrc_params_default(&p);
    p.rate = 1e-9;
    ck_assert_ptr_null(mrc_create(&p, &err));
    mrc_params_default(&p);
    p.rate = 0.1;
    p.count_accesses = 1;
    ck_assert_ptr_null(mrc_create(&p, &err));
    ck_assert(strstr(err.msg, "exact mode"));
}
END_TEST

/* A trace with a hot set, a reused middle set and a cold stream, over many keys. */
static void make_big_trace(uint64_t *keys, size_t n)
{
    rng r;
    rng_seed(&r, 77);
    uint64_t stream = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t w = rng_below(&r, 100);
        if (w < 40)
            keys[i] = rng_below(&r, 2000);
        else if (w < 80)
            keys[i] = 100000 + rng_below(&r, 60000);
        else
            keys[i] = 10000000 + stream++;
    }
}

static double mae_against(const mrc *exact, const mrc *est)
{
    uint64_t g[1024];
    size_t n = mrc_grid(mrc_max_distance(exact), 8, g, 1024);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += fabs(mrc_miss_ratio(exact, g[i]) - mrc_miss_ratio(est, g[i]));
    return sum / (double)n;
}

START_TEST(shards_close_to_exact)
{
    const size_t n = 600000;
    uint64_t *keys = malloc(n * sizeof *keys);
    make_big_trace(keys, n);
    mrc *ex = exact_curve(8);
    struct mrc_params pa[4];
    const char *what[4] = {"fixed rate 0.01 with exact small stack", "plain SHARDS_adj 0.1",
                           "fixed size 4096", "fixed rate 0.01, no adjust"};
    for (int i = 0; i < 4; i++)
        mrc_params_default(&pa[i]);
    pa[0].rate = 0.01;
    pa[0].exact_below = 4096;
    pa[1].rate = 0.1;
    pa[2].smax = 4096;
    pa[2].exact_below = 1024;
    pa[3].rate = 0.01;
    pa[3].exact_below = 4096;
    pa[3].adjust = 0;
    mrc *s[4];
    mm_err err;
    for (int i = 0; i < 4; i++) {
        s[i] = mrc_create(&pa[i], &err);
        ck_assert_ptr_nonnull(s[i]);
    }
    for (size_t i = 0; i < n; i += 1000) {
        size_t k = n - i < 1000 ? n - i : 1000;
        mrc_ref_batch(ex, keys + i, keys + i, k, 0);
        for (int j = 0; j < 4; j++)
            mrc_ref_batch(s[j], keys + i, keys + i, k, 0);
    }
    mrc_finish(ex);
    for (int i = 0; i < 4; i++) {
        mrc_finish(s[i]);
        double mae = mae_against(ex, s[i]);
        fprintf(stderr, "%s: MAE %.4f\n", what[i], mae);
        ck_assert_msg(mae < 0.02, "%s: mean absolute error %.4f", what[i], mae);
        struct mrc_stats st;
        mrc_get_stats(s[i], &st);
        ck_assert_uint_eq(st.references, n);
        ck_assert_uint_lt(st.sampled, n);
    }
    /* the exact small stack makes every size up to it exact */
    for (uint64_t c = 1; c <= 4096; c *= 2)
        ck_assert(fabs(mrc_miss_ratio(s[0], c) - mrc_miss_ratio(ex, c)) < 1e-12);
    /* fixed size: never more than smax keys, the rate went down from 1 */
    struct mrc_stats st;
    mrc_get_stats(s[2], &st);
    ck_assert_uint_le(st.tracked, 4096);
    ck_assert(st.rate < 0.1);
    for (int i = 0; i < 4; i++)
        mrc_destroy(s[i]);
    mrc_destroy(ex);
    free(keys);
}
END_TEST

START_TEST(sampling_everything_is_exact)
{
    /* fixed size with room for every key at rate 1: the sampled path, no key dropped, gives the
     * exact curve (sizes below 256 are exact buckets of the sampled histogram) */
    const size_t n = 20000;
    uint64_t *f = malloc(n * sizeof *f), *l = malloc(n * sizeof *l);
    make_trace(SKEWED, 3, n, 200, f, l);
    mrc *ex = exact_curve(0);
    struct mrc_params p;
    mrc_params_default(&p);
    p.smax = 100000;
    mm_err err;
    mrc *s = mrc_create(&p, &err);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++) {
        mrc_ref(ex, f[i]);
        mrc_ref(s, f[i]);
    }
    mrc_finish(ex);
    mrc_finish(s);
    for (uint64_t c = 1; c < 256; c++)
        ck_assert_msg(fabs(mrc_misses(s, c) - mrc_misses(ex, c)) < 1e-6, "size %llu: %g vs %g",
                      (unsigned long long)c, mrc_misses(s, c), mrc_misses(ex, c));
    mrc_destroy(s);
    mrc_destroy(ex);
    free(f);
    free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mrc");
    TCase *tc = tcase_create("mrc");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, distances_match_naive_stack);
    tcase_add_test(tc, extreme_keys_and_long_runs_of_one_key);
    tcase_add_test(tc, bounded_stack_and_removal_match_naive);
    tcase_add_test(tc, exact_equals_lru_caches_every_size);
    tcase_add_test(tc, exact_counting_accesses_equals_cachegrind_rule);
    tcase_add_test(tc, grid_mode_is_exact_at_grid_sizes);
    tcase_add_test(tc, cyclic_scan_misses_below_its_size);
    tcase_add_test(tc, stream_misses_at_every_size);
    tcase_add_test(tc, grid_sizes);
    tcase_add_test(tc, bad_parameters);
    tcase_add_test(tc, shards_close_to_exact);
    tcase_add_test(tc, sampling_everything_is_exact);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
