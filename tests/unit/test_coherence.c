/* Coherence between the private caches of several cpus (models/hw/cache_hier.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "models/hw/cache.h"
#include "traces/event.h"

static struct cache_params level(const char *name, uint64_t size, unsigned assoc, unsigned lat)
{
    struct cache_params p;
    memset(&p, 0, sizeof p);
    p.name = name;
    p.size = size;
    p.assoc = assoc;
    p.line = 64;
    p.latency = lat;
    p.repl = REPL_LRU;
    p.write_policy = WP_WRITEBACK_ALLOCATE;
    p.inclusion = INCL_NON_INCLUSIVE;
    return p;
}

static cache_hier *two_cpus(stats_registry *reg, int specialised)
{
    struct cache_hier_params hp;
    memset(&hp, 0, sizeof hp);
    hp.ncpus = 2;
    hp.l1i = level("l1i", 32768, 8, 4);
    hp.l1d = level("l1d", 32768, 8, 4);
    hp.l2 = level("l2", 262144, 8, 12);
    hp.llc = level("llc", 1 << 20, 16, 40);
    hp.l2_enabled = hp.llc_enabled = 1;
    hp.mem_latency = 200;
    hp.coherence = 1;
    cache_hier *h = cache_hier_create(&hp, reg, NULL);
    ck_assert_ptr_nonnull(h);
    cache_hier_set_specialised(h, specialised);
    return h;
}

static uint64_t stat(stats_registry *reg, const char *name)
{
    const stats_entry *e = stats_find(reg, name);
    ck_assert_msg(e != NULL, "no statistic %s", name);
    return stats_value(e);
}

static void check_protocol(int specialised)
{
    stats_registry *reg = stats_create();
    cache_hier *h = two_cpus(reg, specialised);
    const uint64_t x = 0x40000;
    /* cpu0 reads x: its L1D and L2 hold it */
    cache_hier_access(h, 0, x, 8, MM_EV_READ);
    ck_assert(cache_hier_contains(h, 0, CACHE_L1D, x));
    ck_assert(cache_hier_contains(h, 0, CACHE_L2, x));
    /* cpu1 writes x: cpu0's two copies go, nothing was dirty there */
    cache_hier_access(h, 1, x, 8, MM_EV_WRITE);
    ck_assert(!cache_hier_contains(h, 0, CACHE_L1D, x));
    ck_assert(!cache_hier_contains(h, 0, CACHE_L2, x));
    ck_assert(cache_hier_contains(h, 1, CACHE_L1D, x));
    ck_assert_uint_eq(stat(reg, "coherence.invalidations"), 2);
    ck_assert_uint_eq(stat(reg, "coherence.c2c_transfers"), 0);
    /* cpu0 reads x again: misses privately, cpu1's dirty copy supplies it and turns clean */
    struct mem_result r = cache_hier_access(h, 0, x, 8, MM_EV_READ);
    ck_assert_uint_ge(r.level, LEVEL_LLC);
    ck_assert_uint_eq(stat(reg, "coherence.c2c_transfers"), 1);
    ck_assert_uint_eq(stat(reg, "coherence.downgrades"), 1);
    ck_assert(cache_hier_contains(h, 1, CACHE_L1D, x)); /* shared now */
    /* a second read by cpu0 hits its own L1: no snoop */
    cache_hier_access(h, 0, x, 8, MM_EV_READ);
    ck_assert_uint_eq(stat(reg, "coherence.c2c_transfers"), 1);
    /* cpu1 writes x again (a hit in its L1, even its last line): cpu0's copies go again */
    cache_hier_access(h, 1, x, 8, MM_EV_WRITE);
    ck_assert(!cache_hier_contains(h, 0, CACHE_L1D, x));
    ck_assert_uint_eq(stat(reg, "coherence.invalidations"), 4);
    /* cpu0 writes x: cpu1's copies (dirty) go, and their data came across */
    cache_hier_access(h, 0, x, 8, MM_EV_RMW);
    ck_assert(!cache_hier_contains(h, 1, CACHE_L1D, x));
    ck_assert_uint_eq(stat(reg, "coherence.c2c_transfers"), 2);
    cache_hier_destroy(h);
    stats_destroy(reg);
}

START_TEST(write_invalidates_other_cpus_specialised)
{
    check_protocol(1);
}
END_TEST

START_TEST(write_invalidates_other_cpus_general)
{
    check_protocol(0);
}
END_TEST

START_TEST(one_cpu_registers_no_coherence)
{
    stats_registry *reg = stats_create();
    struct cache_hier_params hp;
    memset(&hp, 0, sizeof hp);
    hp.ncpus = 1;
    hp.l1i = level("l1i", 32768, 8, 4);
    hp.l1d = level("l1d", 32768, 8, 4);
    hp.mem_latency = 100;
    cache_hier *h = cache_hier_create(&hp, reg, NULL);
    ck_assert_ptr_null(stats_find(reg, "coherence.invalidations"));
    cache_hier_destroy(h);
    stats_destroy(reg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("coherence");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, write_invalidates_other_cpus_specialised);
    tcase_add_test(tc, write_invalidates_other_cpus_general);
    tcase_add_test(tc, one_cpu_registers_no_coherence);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
