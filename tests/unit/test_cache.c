/* Unit tests for the cache hierarchy (models/hw/cache.h): analytic outcomes, write policies,
 * inclusion, latency, statistics names, geometry checks, and a comparison against a small
 * reference model written here. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/rng.h"
#include "models/common/stats.h"
#include "models/hw/cache.h"
#include "traces/event.h"

static stats_registry *REG;
static cache_hier *H;

static uint64_t st(const char *name)
{
    const stats_entry *e = stats_find(REG, name);
    ck_assert_msg(e != NULL, "no statistic %s", name);
    return stats_value(e);
}

static struct cache_params P(const char *name, uint64_t size, unsigned assoc, unsigned lat,
                             enum cache_write_policy wp)
{
    struct cache_params p = {name, size, assoc, 64, lat, REPL_LRU, wp, INCL_NON_INCLUSIVE, 1};
    return p;
}

/* l1i/l1d 1K 2-way (8 sets), l2 4K 4-way (16 sets), llc 16K 4-way (64 sets); 1/10/30/100 cycles */
static struct cache_hier_params small(enum cache_write_policy wp)
{
    struct cache_hier_params hp = {
        .ncpus = 1,
        .l1i = P("l1i", 1024, 2, 1, wp),
        .l1d = P("l1d", 1024, 2, 1, wp),
        .l2 = P("l2", 4096, 4, 10, wp),
        .llc = P("llc", 16384, 4, 30, wp),
        .l2_enabled = 1,
        .llc_enabled = 1,
        .mem_latency = 100,
    };
    return hp;
}

static cache_hier *mkh(const struct cache_hier_params *hp)
{
    REG = stats_create();
    mm_err err;
    H = cache_hier_create(hp, REG, &err);
    ck_assert_msg(H != NULL, "%s", err.msg);
    return H;
}

static void done(void)
{
    cache_hier_destroy(H);
    stats_destroy(REG);
    H = NULL;
    REG = NULL;
}

static struct mem_result rd(uint64_t addr)
{
    return cache_hier_access(H, 0, addr, 8, MM_EV_READ);
}

static struct mem_result wr(uint64_t addr)
{
    return cache_hier_access(H, 0, addr, 8, MM_EV_WRITE);
}

START_TEST(stream_gives_compulsory_misses)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    hp.l1d = P("l1d", 32 << 10, 8, 1, WP_WRITEBACK_ALLOCATE);
    hp.l2 = P("l2", 256 << 10, 8, 10, WP_WRITEBACK_ALLOCATE);
    hp.llc = P("llc", 1 << 20, 16, 30, WP_WRITEBACK_ALLOCATE);
    mkh(&hp);
    uint64_t n = 512 << 10;
    for (int pass = 0; pass < 2; pass++)
        for (uint64_t a = 0; a < n; a += 8)
            rd(a);
    ck_assert_uint_eq(st("cache.l1d.accesses"), 2 * n / 8);
    ck_assert_uint_eq(st("cache.l1d.misses"), 2 * n / 64); /* bigger than L1: misses twice */
    ck_assert_uint_eq(st("cache.l1d.hits"), 2 * n / 8 - 2 * n / 64);
    ck_assert_uint_eq(st("cache.l2.accesses"), 2 * n / 64);
    ck_assert_uint_eq(st("cache.l2.misses"), 2 * n / 64);  /* LRU streaming beyond capacity */
    ck_assert_uint_eq(st("cache.llc.accesses"), 2 * n / 64);
    ck_assert_uint_eq(st("cache.llc.misses"), n / 64);     /* fits: compulsory only */
    ck_assert_uint_eq(st("cache.llc.read_misses"), n / 64);
    ck_assert_uint_eq(st("cache.l1d.evictions"), 2 * n / 64 - (32 << 10) / 64);
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 0);
    done();
}
END_TEST

START_TEST(working_set_smaller_than_cache_hits_on_second_pass)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    mkh(&hp);
    for (uint64_t a = 0; a < 1024; a += 8)
        rd(a);
    ck_assert_uint_eq(st("cache.l1d.misses"), 16);
    for (uint64_t a = 0; a < 1024; a += 8)
        rd(a);
    ck_assert_uint_eq(st("cache.l1d.misses"), 16);
    ck_assert_uint_eq(st("cache.l1d.accesses"), 256);
    ck_assert_uint_eq(st("cache.l2.accesses"), 16);
    done();
}
END_TEST

START_TEST(straddling_access_counts_once)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    mkh(&hp);
    struct mem_result r = cache_hier_access(H, 0, 60, 8, MM_EV_READ); /* lines 0 and 1 */
    ck_assert_uint_eq(r.level, LEVEL_MEM);
    ck_assert_uint_eq(st("cache.l1d.accesses"), 1);
    ck_assert_uint_eq(st("cache.l1d.misses"), 1);
    ck_assert_uint_eq(st("cache.l2.accesses"), 1);
    ck_assert_uint_eq(st("cache.llc.misses"), 1);
    ck_assert(cache_hier_contains(H, 0, CACHE_L1D, 0));
    ck_assert(cache_hier_contains(H, 0, CACHE_L1D, 64));
    ck_assert(cache_hier_contains(H, 0, CACHE_LLC, 64));
    r = cache_hier_access(H, 0, 60, 8, MM_EV_READ);
    ck_assert_uint_eq(r.level, LEVEL_L1);
    ck_assert_uint_eq(st("cache.l1d.misses"), 1);
    /* line 1 hits, line 2 misses: one miss; L2 sees the whole access and misses (line 2) */
    r = cache_hier_access(H, 0, 124, 8, MM_EV_READ);
    ck_assert_uint_eq(st("cache.l1d.accesses"), 3);
    ck_assert_uint_eq(st("cache.l1d.misses"), 2);
    ck_assert_uint_eq(st("cache.l2.accesses"), 2);
    ck_assert_uint_eq(st("cache.l2.misses"), 2);
    ck_assert_uint_eq(r.level, LEVEL_MEM);
    done();
}
END_TEST

START_TEST(rmw_counts_as_read_and_dirties)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    mkh(&hp);
    cache_hier_access(H, 0, 0, 8, MM_EV_RMW);
    ck_assert_uint_eq(st("cache.l1d.reads"), 1);
    ck_assert_uint_eq(st("cache.l1d.read_misses"), 1);
    ck_assert_uint_eq(st("cache.l1d.writes"), 0);
    ck_assert_uint_eq(st("cache.l2.read_misses"), 1);
    rd(512); /* same L1 set (8 sets of 64 B): 0, 512, 1024 */
    rd(1024);
    ck_assert_uint_eq(st("cache.l1d.evictions"), 1);
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 1);
    ck_assert_uint_eq(st("cache.l2.writes"), 1); /* the writeback, a hit there */
    ck_assert_uint_eq(st("cache.l2.write_misses"), 0);
    done();
}
END_TEST

START_TEST(writeback_counts_exactly)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    mkh(&hp);
    for (uint64_t i = 0; i < 16; i++) /* fill the L1D with 16 dirty lines */
        wr(i * 64);
    for (uint64_t i = 16; i < 32; i++) /* 16 clean lines over the same sets */
        rd(i * 64);
    ck_assert_uint_eq(st("cache.l1d.evictions"), 16);
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 16);
    ck_assert_uint_eq(st("cache.l1d.write_misses"), 16);
    /* L2: 16 write-allocate fetches (misses, counted as writes as cachegrind's DLmw) and
     * 16 writebacks (hits: L2 holds 64 lines) */
    ck_assert_uint_eq(st("cache.l2.writes"), 32);
    ck_assert_uint_eq(st("cache.l2.write_misses"), 16);
    ck_assert_uint_eq(st("cache.l2.writebacks"), 0);
    ck_assert_uint_eq(st("cache.llc.writes"), 16);
    /* evicting the clean lines writes nothing back */
    for (uint64_t i = 32; i < 48; i++)
        rd(i * 64);
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 16);
    done();
}
END_TEST

START_TEST(reference_only_never_writes_back)
{
    struct cache_hier_params hp = small(WP_REFERENCE_ONLY);
    mkh(&hp);
    for (uint64_t i = 0; i < 16; i++)
        wr(i * 64);
    for (uint64_t i = 16; i < 32; i++)
        rd(i * 64);
    ck_assert_uint_eq(st("cache.l1d.evictions"), 16);
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 0);
    ck_assert_uint_eq(st("cache.l2.writes"), 16); /* the store misses only */
    ck_assert_uint_eq(st("cache.l2.accesses"), 32);
    ck_assert(cache_hier_contains(H, 0, CACHE_L1D, 16 * 64));
    done();
}
END_TEST

START_TEST(writethrough_noallocate)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    hp.l1d.write_policy = WP_WRITETHROUGH_NOALLOCATE;
    mkh(&hp);
    for (uint64_t i = 0; i < 8; i++) {
        struct mem_result r = wr(i * 64);
        ck_assert_uint_eq(r.level, LEVEL_MEM);
        ck_assert_uint_eq(r.latency, 1 + 10 + 30 + 100);
    }
    ck_assert_uint_eq(st("cache.l1d.write_misses"), 8);
    for (uint64_t i = 0; i < 8; i++) {
        ck_assert(!cache_hier_contains(H, 0, CACHE_L1D, i * 64)); /* store misses: L1 empty */
        ck_assert(cache_hier_contains(H, 0, CACHE_L2, i * 64));
    }
    ck_assert_uint_eq(st("cache.l2.writes"), 8);
    ck_assert_uint_eq(st("cache.l2.write_misses"), 8);
    /* a load allocates; then a store hits L1 and is still forwarded, posted */
    rd(0);
    ck_assert(cache_hier_contains(H, 0, CACHE_L1D, 0));
    struct mem_result r = wr(0);
    ck_assert_uint_eq(r.level, LEVEL_L1);
    ck_assert_uint_eq(r.latency, 1);
    ck_assert_uint_eq(st("cache.l1d.writes"), 9);
    ck_assert_uint_eq(st("cache.l1d.write_misses"), 8);
    ck_assert_uint_eq(st("cache.l2.writes"), 9);
    ck_assert_uint_eq(st("cache.l2.write_misses"), 8);
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 0);
    /* L2 absorbed the data: evicting the lines from L2 writes them back */
    for (uint64_t i = 64; i < 64 + 128; i++)
        rd(i * 64);
    ck_assert_uint_eq(st("cache.l2.writebacks"), 8);
    done();
}
END_TEST

static struct cache_hier_params tiny_inclusive(enum cache_inclusion incl)
{
    /* L1D: 4 lines, 1 set. No L2. LLC: direct-mapped, 4 sets: lines 0 and 4 collide. */
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    hp.l1d = P("l1d", 256, 4, 1, WP_WRITEBACK_ALLOCATE);
    hp.l2_enabled = 0;
    hp.llc = P("llc", 256, 1, 30, WP_WRITEBACK_ALLOCATE);
    hp.llc.inclusion = incl;
    return hp;
}

START_TEST(inclusive_llc_back_invalidates)
{
    struct cache_hier_params hp = tiny_inclusive(INCL_INCLUSIVE);
    mkh(&hp);
    wr(0);
    rd(256); /* LLC set 0: evicts line 0, which leaves L1D too, dirty -> memory */
    ck_assert_uint_eq(st("cache.llc.evictions"), 1);
    ck_assert_uint_eq(st("cache.llc.back_invalidations"), 1);
    ck_assert_uint_eq(st("cache.l1d.back_invalidations"), 1);
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 1);
    ck_assert_uint_eq(st("cache.l1d.evictions"), 0);
    ck_assert(!cache_hier_contains(H, 0, CACHE_L1D, 0));
    ck_assert(cache_hier_contains(H, 0, CACHE_L1D, 256));
    ck_assert_uint_eq(rd(0).level, LEVEL_MEM);
    done();

    hp = tiny_inclusive(INCL_NON_INCLUSIVE);
    mkh(&hp);
    wr(0);
    rd(256);
    ck_assert_uint_eq(st("cache.llc.back_invalidations"), 0);
    ck_assert(cache_hier_contains(H, 0, CACHE_L1D, 0));
    ck_assert_uint_eq(rd(0).level, LEVEL_L1);
    done();
}
END_TEST

START_TEST(inclusive_llc_catches_victim_in_flight)
{
    /* L1D one line, LLC two lines direct-mapped. A dirty line 0 leaves L1D (for line 2) while the
     * LLC evicts line 0 (also for line 2): its data goes to memory, it is not written back into
     * the LLC (which would push line 2 out under the L1D's feet). */
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    hp.l1d = P("l1d", 64, 1, 1, WP_WRITEBACK_ALLOCATE);
    hp.l2_enabled = 0;
    hp.llc = P("llc", 128, 1, 30, WP_WRITEBACK_ALLOCATE);
    hp.llc.inclusion = INCL_INCLUSIVE;
    mkh(&hp);
    wr(0);
    rd(128);
    ck_assert_uint_eq(st("cache.l1d.evictions"), 1);
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 1);
    ck_assert_uint_eq(st("cache.llc.writes"), 1); /* the store's fetch only */
    ck_assert(cache_hier_contains(H, 0, CACHE_L1D, 128));
    ck_assert(cache_hier_contains(H, 0, CACHE_LLC, 128));
    ck_assert(!cache_hier_contains(H, 0, CACHE_LLC, 0));
    done();
}
END_TEST

START_TEST(exclusive_llc_holds_victims_only)
{
    /* L1D 2 lines (1 set), L2 4 lines (1 set), LLC 16 lines, exclusive */
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    hp.l1d = P("l1d", 128, 2, 1, WP_WRITEBACK_ALLOCATE);
    hp.l2 = P("l2", 256, 4, 10, WP_WRITEBACK_ALLOCATE);
    hp.llc = P("llc", 1024, 4, 30, WP_WRITEBACK_ALLOCATE);
    hp.llc.inclusion = INCL_EXCLUSIVE;
    mkh(&hp);
    rd(0);
    ck_assert(cache_hier_contains(H, 0, CACHE_L2, 0));
    ck_assert(!cache_hier_contains(H, 0, CACHE_LLC, 0)); /* memory fills skip the LLC */
    ck_assert_uint_eq(st("cache.llc.misses"), 1);
    for (uint64_t i = 1; i <= 4; i++)
        rd(i * 64); /* the fifth line pushes line 0 out of L2, into the LLC */
    ck_assert(!cache_hier_contains(H, 0, CACHE_L2, 0));
    ck_assert(cache_hier_contains(H, 0, CACHE_LLC, 0));
    ck_assert_uint_eq(st("cache.l2.evictions"), 1);
    ck_assert_uint_eq(st("cache.llc.accesses"), 5);
    struct mem_result r = rd(0);
    ck_assert_uint_eq(r.level, LEVEL_LLC);
    ck_assert_uint_eq(r.latency, 1 + 10 + 30);
    ck_assert(!cache_hier_contains(H, 0, CACHE_LLC, 0)); /* moved up */
    ck_assert(cache_hier_contains(H, 0, CACHE_L2, 0));
    ck_assert(cache_hier_contains(H, 0, CACHE_LLC, 64)); /* L2's victim for it */
    ck_assert_uint_eq(st("cache.llc.hits"), 1);
    done();
}
END_TEST

START_TEST(exclusive_llc_moves_dirty_state_up)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    hp.l1d = P("l1d", 64, 1, 1, WP_WRITEBACK_ALLOCATE);
    hp.l2_enabled = 0;
    hp.llc = P("llc", 1024, 4, 30, WP_WRITEBACK_ALLOCATE);
    hp.llc.inclusion = INCL_EXCLUSIVE;
    mkh(&hp);
    wr(0);
    rd(64); /* dirty line 0 leaves L1D for the LLC */
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 1);
    ck_assert(cache_hier_contains(H, 0, CACHE_LLC, 0));
    ck_assert_uint_eq(rd(0).level, LEVEL_LLC); /* back up, still dirty: line 1 goes down clean */
    ck_assert(!cache_hier_contains(H, 0, CACHE_LLC, 0));
    ck_assert(cache_hier_contains(H, 0, CACHE_LLC, 64));
    rd(64);
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 2);
    ck_assert_uint_eq(st("cache.llc.writebacks"), 0);
    done();
}
END_TEST

START_TEST(latency_sums_levels_looked_up)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    mkh(&hp);
    struct mem_result r = rd(0);
    ck_assert_uint_eq(r.level, LEVEL_MEM);
    ck_assert_uint_eq(r.latency, 141);
    r = rd(0);
    ck_assert_uint_eq(r.level, LEVEL_L1);
    ck_assert_uint_eq(r.latency, 1);
    rd(512);
    rd(1024); /* line 0 leaves the L1D */
    r = rd(0);
    ck_assert_uint_eq(r.level, LEVEL_L2);
    ck_assert_uint_eq(r.latency, 11);
    r = cache_hier_access(H, 0, 1 << 20, 4, MM_EV_IFETCH);
    ck_assert_uint_eq(r.level, LEVEL_MEM);
    ck_assert_uint_eq(st("cache.l1i.ifetch_misses"), 1);
    ck_assert_uint_eq(st("cache.l1d.accesses"), 5);
    r = cache_hier_access(H, 0, 1 << 20, 4, MM_EV_READ); /* data side: found in L2 */
    ck_assert_uint_eq(r.level, LEVEL_L2);
    done();
}
END_TEST

START_TEST(access_from_enters_below_l1)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    mkh(&hp);
    struct mem_result r = cache_hier_access_from(H, 0, LEVEL_L2, 0, 8, MM_EV_READ);
    ck_assert_uint_eq(r.level, LEVEL_MEM);
    ck_assert_uint_eq(r.latency, 10 + 30 + 100);
    ck_assert_uint_eq(st("cache.l1d.accesses"), 0);
    ck_assert_uint_eq(st("cache.l2.accesses"), 1);
    r = cache_hier_access_from(H, 0, LEVEL_L2, 0, 8, MM_EV_READ);
    ck_assert_uint_eq(r.level, LEVEL_L2);
    ck_assert_uint_eq(r.latency, 10);
    r = cache_hier_access_from(H, 0, LEVEL_LLC, 4096, 8, MM_EV_READ);
    ck_assert_uint_eq(r.latency, 30 + 100);
    ck_assert_uint_eq(st("cache.llc.accesses"), 2);
    r = cache_hier_access_from(H, 0, LEVEL_L1, 4096, 8, MM_EV_READ);
    ck_assert_uint_eq(r.level, LEVEL_LLC);
    ck_assert_uint_eq(st("cache.l1d.accesses"), 1);
    r = cache_hier_access_from(H, 0, LEVEL_MEM, 4096, 8, MM_EV_READ);
    ck_assert_uint_eq(r.level, LEVEL_MEM);
    ck_assert_uint_eq(r.latency, 100);
    done();
    /* no L2: entering at L2 means the LLC */
    hp.l2_enabled = 0;
    mkh(&hp);
    r = cache_hier_access_from(H, 0, LEVEL_L2, 0, 8, MM_EV_READ);
    ck_assert_uint_eq(r.latency, 30 + 100);
    ck_assert_uint_eq(st("cache.llc.accesses"), 1);
    ck_assert_ptr_null(stats_find(REG, "cache.l2.accesses"));
    done();
}
END_TEST

START_TEST(params_check_messages)
{
    mm_err err;
    struct cache_params p = P("l1d", 48 << 10, 8, 1, WP_WRITEBACK_ALLOCATE);
    ck_assert_int_eq(cache_params_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, "set count 96 is not a power of two (size 48K / (assoc 8 x line 64))");
    p.assoc = 7;
    ck_assert_int_eq(cache_params_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, "size 48K is not a multiple of assoc 7 x line 64");
    p = P("l1d", 32 << 10, 8, 1, WP_WRITEBACK_ALLOCATE);
    p.line = 48;
    ck_assert_int_eq(cache_params_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, "line 48 is not a power of two");
    p.line = 0;
    ck_assert_int_eq(cache_params_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, "line must be non-zero");
    p = P("l1d", 0, 8, 1, WP_WRITEBACK_ALLOCATE);
    ck_assert_int_eq(cache_params_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, "size must be non-zero");
    p = P("l1d", 32 << 10, 0, 1, WP_WRITEBACK_ALLOCATE);
    ck_assert_int_eq(cache_params_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, "assoc must be non-zero");
    p = P("l1d", 1000, 1, 1, WP_WRITEBACK_ALLOCATE);
    ck_assert_int_eq(cache_params_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, "size 1000 is not a multiple of assoc 1 x line 64");
    /* 12 ways: fine for LRU while the set count is a power of two, not for PLRU */
    p = P("llc", 12 << 20, 12, 1, WP_WRITEBACK_ALLOCATE);
    ck_assert_int_eq(cache_params_check(&p, &err), 0);
    p.repl = REPL_PLRU;
    ck_assert_int_eq(cache_params_check(&p, &err), -1);
    ck_assert_str_eq(err.msg, "plru replacement needs a power-of-two assoc, not 12");
    p = P("llc", 6 << 20, 12, 1, WP_WRITEBACK_ALLOCATE); /* 8192 sets */
    ck_assert_int_eq(cache_params_check(&p, &err), 0);
    /* fully associative */
    p = P("tlb", 64 * 64, 64, 1, WP_WRITEBACK_ALLOCATE);
    ck_assert_int_eq(cache_params_check(&p, &err), 0);

    /* the hierarchy names the cache */
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    hp.l2.size = 48 << 10;
    hp.l2.assoc = 8;
    stats_registry *reg = stats_create();
    ck_assert_ptr_null(cache_hier_create(&hp, reg, &err));
    ck_assert_str_eq(err.msg, "l2: set count 96 is not a power of two (size 48K / (assoc 8 x line 64))");
    ck_assert_uint_eq(stats_count(reg), 0);
    hp = small(WP_WRITEBACK_ALLOCATE);
    hp.ncpus = 0;
    ck_assert_ptr_null(cache_hier_create(&hp, reg, &err));
    ck_assert_str_eq(err.msg, "ncpus 0 is not between 1 and 256");
    stats_destroy(reg);
}
END_TEST

START_TEST(names_of_enums_round_trip)
{
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(cache_repl_from_name(cache_repl_name((enum cache_repl)i)), i);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(cache_write_policy_from_name(
                             cache_write_policy_name((enum cache_write_policy)i)), i);
        ck_assert_int_eq(cache_inclusion_from_name(cache_inclusion_name((enum cache_inclusion)i)), i);
    }
    ck_assert_int_eq(cache_repl_from_name("lfu"), -1);
    ck_assert_str_eq(cache_repl_name(REPL_DRRIP), "drrip");
    ck_assert_str_eq(cache_write_policy_name(WP_REFERENCE_ONLY), "reference");
    ck_assert_str_eq(cache_inclusion_name(INCL_NON_INCLUSIVE), "non-inclusive");
}
END_TEST

START_TEST(per_cpu_statistics_and_shared_llc)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    hp.ncpus = 2;
    mkh(&hp);
    ck_assert_ptr_null(stats_find(REG, "cache.l1d.misses"));
    ck_assert_ptr_nonnull(stats_find(REG, "cache.cpu0.l1d.miss_rate"));
    cache_hier_access(H, 1, 0, 8, MM_EV_READ);
    ck_assert_uint_eq(st("cache.cpu1.l1d.misses"), 1);
    ck_assert_uint_eq(st("cache.cpu0.l1d.accesses"), 0);
    ck_assert_uint_eq(st("cache.llc.misses"), 1);
    struct mem_result r = cache_hier_access(H, 0, 0, 8, MM_EV_READ);
    ck_assert_uint_eq(r.level, LEVEL_LLC);
    ck_assert_uint_eq(st("cache.cpu0.l2.misses"), 1);
    ck_assert_uint_eq(st("cache.llc.hits"), 1);
    double mr = stats_ratio_value(stats_find(REG, "cache.llc.miss_rate"));
    ck_assert(mr > 0.49 && mr < 0.51);
    done();
}
END_TEST

START_TEST(flush_and_invalidate_range)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    mkh(&hp);
    for (uint64_t i = 0; i < 4; i++)
        wr(i * 64);
    rd(4096);
    cache_hier_invalidate_range(H, 64, 128); /* lines 1 and 2: dirty in L1D only */
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 2);
    ck_assert(!cache_hier_contains(H, 0, CACHE_L1D, 64));
    ck_assert(!cache_hier_contains(H, 0, CACHE_L2, 128));
    ck_assert(cache_hier_contains(H, 0, CACHE_L1D, 0));
    cache_hier_flush(H);
    ck_assert_uint_eq(st("cache.l1d.writebacks"), 4);
    ck_assert(!cache_hier_contains(H, 0, CACHE_L1D, 0));
    ck_assert(!cache_hier_contains(H, 0, CACHE_LLC, 4096));
    ck_assert_uint_eq(rd(0).level, LEVEL_MEM);
    done();
}
END_TEST

START_TEST(random_replacement_is_deterministic)
{
    uint64_t misses[2][3];
    for (int run = 0; run < 2; run++) {
        struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
        hp.l1d.repl = hp.l2.repl = hp.llc.repl = REPL_RANDOM;
        hp.l1d.seed = hp.l2.seed = hp.llc.seed = 1234;
        mkh(&hp);
        rng r;
        rng_seed(&r, 5);
        for (int i = 0; i < 20000; i++)
            cache_hier_access(H, 0, rng_below(&r, 64 << 10), 8,
                              rng_below(&r, 2) ? MM_EV_READ : MM_EV_WRITE);
        misses[run][0] = st("cache.l1d.misses");
        misses[run][1] = st("cache.l2.misses");
        misses[run][2] = st("cache.llc.misses");
        done();
    }
    ck_assert_mem_eq(misses[0], misses[1], sizeof misses[0]);
}
END_TEST

/* Random traffic with write-back caches; every few hundred accesses, check the inclusion
 * property line by line over the whole address range used. */
static void stress_inclusion(enum cache_inclusion incl, unsigned ncpus, int l2)
{
    struct cache_hier_params hp = small(WP_WRITEBACK_ALLOCATE);
    hp.ncpus = ncpus;
    hp.l2_enabled = l2;
    hp.llc.inclusion = incl;
    hp.llc.size = 8192;
    mkh(&hp);
    rng r;
    rng_seed(&r, 31 + incl);
    const uint64_t range = 32 << 10;
    for (int i = 0; i < 30000; i++) {
        unsigned type = (unsigned)rng_below(&r, 4);
        cache_hier_access(H, (unsigned)rng_below(&r, ncpus), rng_below(&r, range),
                          (uint32_t)(1 + rng_below(&r, 16)), type);
        if (i % 500 != 499)
            continue;
        for (uint64_t a = 0; a < range + 64; a += 64) {
            int in_llc = cache_hier_contains(H, 0, CACHE_LLC, a);
            for (unsigned c = 0; c < ncpus; c++) {
                int up = cache_hier_contains(H, c, CACHE_L1I, a) ||
                         cache_hier_contains(H, c, CACHE_L1D, a) ||
                         cache_hier_contains(H, c, CACHE_L2, a);
                if (incl == INCL_INCLUSIVE)
                    ck_assert_msg(!up || in_llc, "line %llx above but not in the inclusive LLC",
                                  (unsigned long long)a);
                /* disjoint from the one cache above it; with split L1s straight above, a line
                 * L1D evicts may rightly sit in the LLC while L1I still holds it */
                if (incl == INCL_EXCLUSIVE && ncpus == 1 && l2)
                    ck_assert_msg(!(cache_hier_contains(H, c, CACHE_L2, a) && in_llc),
                                  "line %llx both in the exclusive LLC and in L2",
                                  (unsigned long long)a);
            }
        }
    }
    ck_assert_uint_gt(st("cache.llc.evictions"), 1000);
    done();
}

START_TEST(inclusion_invariants_under_random_traffic)
{
    stress_inclusion(INCL_INCLUSIVE, 1, 1);
    stress_inclusion(INCL_INCLUSIVE, 2, 1);
    stress_inclusion(INCL_INCLUSIVE, 2, 0);
    stress_inclusion(INCL_EXCLUSIVE, 1, 1);
    stress_inclusion(INCL_EXCLUSIVE, 1, 0);
    stress_inclusion(INCL_EXCLUSIVE, 2, 1);
}
END_TEST

/* --- reference model ------------------------------------------------------------------------
 * Written to be obviously right rather than fast: per set an array of line numbers in recency
 * order (most recent first); a reference moves its line to the front, shifting the others back;
 * a miss drops the last. Reference-only writes, LRU. Optionally an inclusive LLC, which on
 * dropping a line removes it from every cache above. */

struct refc {
    unsigned sets, assoc, line_bits;
    uint64_t *row; /* sets * assoc, UINT64_MAX = empty */
    uint64_t acc[4], miss[4]; /* per event type: read, write, ifetch, rmw */
};

static void refc_init(struct refc *c, const struct cache_params *p)
{
    memset(c, 0, sizeof *c);
    c->assoc = p->assoc;
    c->sets = (unsigned)(p->size / p->line / p->assoc);
    c->line_bits = (unsigned)__builtin_ctz(p->line);
    c->row = malloc(sizeof(uint64_t) * c->sets * c->assoc);
    for (unsigned i = 0; i < c->sets * c->assoc; i++)
        c->row[i] = UINT64_MAX;
}

/* returns 1 on a miss; *dropped = the line pushed out, or UINT64_MAX */
static int refc_line(struct refc *c, uint64_t line, uint64_t *dropped)
{
    uint64_t *r = &c->row[(line % c->sets) * c->assoc];
    *dropped = UINT64_MAX;
    for (unsigned i = 0; i < c->assoc; i++)
        if (r[i] == line) {
            memmove(r + 1, r, i * sizeof *r);
            r[0] = line;
            return 0;
        }
    *dropped = r[c->assoc - 1];
    memmove(r + 1, r, (c->assoc - 1) * sizeof *r);
    r[0] = line;
    return 1;
}

static void refc_remove(struct refc *c, uint64_t line)
{
    uint64_t *r = &c->row[(line % c->sets) * c->assoc];
    for (unsigned i = 0; i < c->assoc; i++)
        if (r[i] == line) {
            memmove(r + i, r + i + 1, (c->assoc - 1 - i) * sizeof *r);
            r[c->assoc - 1] = UINT64_MAX;
            return;
        }
}

struct refh {
    unsigned ncpus;
    int l2, llc, inclusive;
    struct refc l1i[2], l1d[2], l2c[2], llcc;
};

static void refh_access(struct refh *m, unsigned cpu, uint64_t addr, uint32_t size, unsigned type)
{
    struct refc *chain[3];
    unsigned n = 0;
    chain[n++] = type == MM_EV_IFETCH ? &m->l1i[cpu] : &m->l1d[cpu];
    if (m->l2)
        chain[n++] = &m->l2c[cpu];
    if (m->llc)
        chain[n++] = &m->llcc;
    for (unsigned k = 0; k < n; k++) {
        struct refc *c = chain[k];
        int missed = 0;
        for (uint64_t line = addr >> c->line_bits; line <= (addr + size - 1) >> c->line_bits;
             line++) {
            uint64_t dropped;
            missed |= refc_line(c, line, &dropped);
            if (c == &m->llcc && m->inclusive && dropped != UINT64_MAX)
                for (unsigned p = 0; p < m->ncpus; p++) {
                    refc_remove(&m->l1i[p], dropped);
                    refc_remove(&m->l1d[p], dropped);
                    if (m->l2)
                        refc_remove(&m->l2c[p], dropped);
                }
        }
        c->acc[type]++;
        c->miss[type] += (uint64_t)missed;
        if (!missed)
            break;
    }
}

static void compare_level(const struct refc *c, const char *prefix)
{
    char name[128];
    const char *leaf[] = {"accesses", "misses", "reads", "read_misses", "writes", "write_misses",
                          "ifetches", "ifetch_misses"};
    uint64_t want[8];
    want[0] = c->acc[0] + c->acc[1] + c->acc[2] + c->acc[3];
    want[1] = c->miss[0] + c->miss[1] + c->miss[2] + c->miss[3];
    want[2] = c->acc[MM_EV_READ] + c->acc[MM_EV_RMW];
    want[3] = c->miss[MM_EV_READ] + c->miss[MM_EV_RMW];
    want[4] = c->acc[MM_EV_WRITE];
    want[5] = c->miss[MM_EV_WRITE];
    want[6] = c->acc[MM_EV_IFETCH];
    want[7] = c->miss[MM_EV_IFETCH];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "%s.%s", prefix, leaf[i]);
        ck_assert_msg(st(name) == want[i], "%s: model %llu, reference %llu", name,
                      (unsigned long long)st(name), (unsigned long long)want[i]);
    }
}

static void run_against_reference(unsigned ncpus, int l2, int inclusive, unsigned llc_assoc)
{
    struct cache_hier_params hp = small(WP_REFERENCE_ONLY);
    hp.ncpus = ncpus;
    hp.l2_enabled = l2;
    hp.llc.assoc = llc_assoc;
    hp.llc.size = 64ull * llc_assoc * 64; /* 64 sets */
    hp.llc.inclusion = inclusive ? INCL_INCLUSIVE : INCL_NON_INCLUSIVE;
    hp.l1i = P("l1i", 2048, 4, 1, WP_REFERENCE_ONLY);
    mkh(&hp);
    struct refh m = {.ncpus = ncpus, .l2 = l2, .llc = 1, .inclusive = inclusive};
    for (unsigned c = 0; c < ncpus; c++) {
        refc_init(&m.l1i[c], &hp.l1i);
        refc_init(&m.l1d[c], &hp.l1d);
        refc_init(&m.l2c[c], &hp.l2);
    }
    refc_init(&m.llcc, &hp.llc);

    rng r;
    rng_seed(&r, 77 + ncpus * 10 + (unsigned)l2 + 2u * (unsigned)inclusive);
    uint64_t prev = 0;
    static const uint32_t sizes[] = {1, 2, 4, 8, 16, 32};
    for (int i = 0; i < 200000; i++) {
        uint64_t a;
        if (rng_below(&r, 2))
            a = rng_below(&r, 96 << 10);
        else
            a = prev + rng_below(&r, 512) - 256;
        a &= (1 << 20) - 1;
        prev = a;
        uint32_t size = sizes[rng_below(&r, 6)];
        unsigned type = (unsigned)rng_below(&r, 4);
        unsigned cpu = (unsigned)rng_below(&r, ncpus);
        cache_hier_access(H, cpu, a, size, type);
        refh_access(&m, cpu, a, size, type);
    }
    char prefix[64];
    for (unsigned c = 0; c < ncpus; c++) {
        const char *fmt = ncpus == 1 ? "cache.%s" : "cache.cpu%u.%s";
        if (ncpus == 1) {
            snprintf(prefix, sizeof prefix, fmt, "l1i");
            compare_level(&m.l1i[c], prefix);
            snprintf(prefix, sizeof prefix, fmt, "l1d");
            compare_level(&m.l1d[c], prefix);
            if (l2) {
                snprintf(prefix, sizeof prefix, fmt, "l2");
                compare_level(&m.l2c[c], prefix);
            }
        } else {
            snprintf(prefix, sizeof prefix, fmt, c, "l1i");
            compare_level(&m.l1i[c], prefix);
            snprintf(prefix, sizeof prefix, fmt, c, "l1d");
            compare_level(&m.l1d[c], prefix);
            if (l2) {
                snprintf(prefix, sizeof prefix, fmt, c, "l2");
                compare_level(&m.l2c[c], prefix);
            }
        }
        free(m.l1i[c].row);
        free(m.l1d[c].row);
        free(m.l2c[c].row);
    }
    compare_level(&m.llcc, "cache.llc");
    ck_assert_uint_gt(st("cache.llc.misses"), 1000); /* the stream exercises every level */
    ck_assert_uint_gt(st("cache.llc.hits"), 1000);
    free(m.llcc.row);
    done();
}

START_TEST(matches_reference_cachegrind_shape)
{
    run_against_reference(1, 0, 0, 4);  /* I1, D1, LL: cachegrind's hierarchy */
    run_against_reference(1, 0, 0, 12); /* a 12-way LL, as cachegrind allows */
}
END_TEST

START_TEST(matches_reference_three_levels)
{
    run_against_reference(1, 1, 0, 4);
    run_against_reference(2, 1, 0, 8);
}
END_TEST

START_TEST(matches_reference_inclusive)
{
    run_against_reference(1, 1, 1, 4);
    run_against_reference(2, 0, 1, 4);
}
END_TEST

/* --- the specialised path against the general one --------------------------------------------
 * The plain configurations (uniform lines, non-inclusive, write-back or reference) take a
 * specialised path; two hierarchies fed the same traffic, one forced onto the general path, must
 * agree on every result, every counter after every access, and every line held. */

static void lockstep(const struct cache_hier_params *hp, unsigned seed, int n)
{
    mm_err err;
    stats_registry *ra = stats_create(), *rb = stats_create();
    cache_hier *a = cache_hier_create(hp, ra, &err), *b = cache_hier_create(hp, rb, &err);
    ck_assert_msg(a && b, "%s", err.msg);
    cache_hier_set_specialised(b, 0);
    rng r;
    rng_seed(&r, seed);
    uint64_t prev = 0, seq = 0;
    static const uint32_t sizes[] = {1, 4, 8, 8, 8, 16, 64, 100};
    for (int i = 0; i < n; i++) {
        uint64_t x = rng_below(&r, 100), addr;
        if (x < 35)
            addr = seq += 8;
        else if (x < 65)
            addr = rng_below(&r, 1 << 20);
        else if (x < 95)
            addr = prev + rng_below(&r, 2048) - 1024;
        else
            addr = UINT64_MAX - rng_below(&r, 1 << 12); /* the top of the address space */
        prev = addr;
        uint32_t size = sizes[rng_below(&r, 8)];
        unsigned type = (unsigned)rng_below(&r, 4), cpu = (unsigned)rng_below(&r, hp->ncpus);
        struct mem_result ma, mb;
        if (rng_below(&r, 50) == 0) {
            enum mem_level lv = (enum mem_level)(1 + rng_below(&r, 3));
            if (type == MM_EV_IFETCH)
                type = MM_EV_READ;
            ma = cache_hier_access_from(a, cpu, lv, addr, size, type);
            mb = cache_hier_access_from(b, cpu, lv, addr, size, type);
        } else {
            ma = cache_hier_access(a, cpu, addr, size, type);
            mb = cache_hier_access(b, cpu, addr, size, type);
        }
        ck_assert_uint_eq(ma.latency, mb.latency);
        ck_assert_uint_eq(ma.level, mb.level);
        if (rng_below(&r, 2000) == 0) {
            cache_hier_invalidate_range(a, addr, 4096);
            cache_hier_invalidate_range(b, addr, 4096);
        }
        if (i % 211 == 0 || i == n - 1) {
            for (size_t k = 0; k < stats_count(ra); k++) {
                const stats_entry *ea = stats_at(ra, k), *eb = stats_at(rb, k);
                ck_assert_str_eq(ea->name, eb->name);
                ck_assert_msg(stats_value(ea) == stats_value(eb), "access %d: %s %llu, general %llu",
                              i, ea->name, (unsigned long long)stats_value(ea),
                              (unsigned long long)stats_value(eb));
            }
            for (unsigned c = 0; c < hp->ncpus; c++)
                for (unsigned w = CACHE_L1I; w <= CACHE_LLC; w++)
                    ck_assert_int_eq(cache_hier_contains(a, c, (enum cache_which)w, prev),
                                     cache_hier_contains(b, c, (enum cache_which)w, prev));
        }
    }
    ck_assert_uint_gt(stats_value(stats_find(ra, hp->ncpus > 1 ? "cache.cpu0.l1d.evictions"
                                                                : "cache.l1d.evictions")), 1000);
    cache_hier_destroy(a);
    cache_hier_destroy(b);
    stats_destroy(ra);
    stats_destroy(rb);
}

static void lockstep_policy(enum cache_repl repl)
{
    static const enum cache_write_policy wps[] = {WP_WRITEBACK_ALLOCATE, WP_REFERENCE_ONLY};
    unsigned seed = 900 + 20 * (unsigned)repl;
    for (unsigned wi = 0; wi < 3; wi++)
        for (unsigned shape = 0; shape < 4; shape++) {
            struct cache_hier_params hp = small(wi < 2 ? wps[wi] : WP_WRITEBACK_ALLOCATE);
            if (wi == 2) /* mixed: a reference-only L2 between write-back levels */
                hp.l2.write_policy = WP_REFERENCE_ONLY;
            hp.ncpus = shape & 1 ? 2 : 1;
            hp.l2_enabled = shape < 2;
            /* the geometries the fast cases specialise (8 and 16 ways) and others */
            hp.l1d.assoc = repl == REPL_PLRU ? 8 : (shape == 3 ? 3 : 8);
            hp.l1d.size = 512ull * hp.l1d.assoc;
            hp.l2.size = 16384, hp.l2.assoc = 16;
            hp.llc.assoc = shape == 2 ? 1024 : (shape == 3 ? 12 : 16);
            if (repl == REPL_PLRU && shape == 3)
                hp.llc.assoc = 32;
            hp.llc.size = hp.llc.assoc == 1024 ? 65536 : 4096ull * hp.llc.assoc;
            hp.l1d.repl = hp.l1i.repl = hp.l2.repl = hp.llc.repl = repl;
            lockstep(&hp, seed++, 12000);
        }
}

START_TEST(specialised_path_matches_general_path_lru)
{
    lockstep_policy(REPL_LRU);
}
END_TEST

START_TEST(specialised_path_matches_general_path_other_policies)
{
    lockstep_policy(REPL_PLRU);
    lockstep_policy(REPL_RANDOM);
    lockstep_policy(REPL_SRRIP);
    lockstep_policy(REPL_BRRIP);
    lockstep_policy(REPL_DRRIP);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("hierarchy");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, stream_gives_compulsory_misses);
    tcase_add_test(tc, working_set_smaller_than_cache_hits_on_second_pass);
    tcase_add_test(tc, straddling_access_counts_once);
    tcase_add_test(tc, rmw_counts_as_read_and_dirties);
    tcase_add_test(tc, writeback_counts_exactly);
    tcase_add_test(tc, reference_only_never_writes_back);
    tcase_add_test(tc, writethrough_noallocate);
    tcase_add_test(tc, inclusive_llc_back_invalidates);
    tcase_add_test(tc, inclusive_llc_catches_victim_in_flight);
    tcase_add_test(tc, exclusive_llc_holds_victims_only);
    tcase_add_test(tc, exclusive_llc_moves_dirty_state_up);
    tcase_add_test(tc, latency_sums_levels_looked_up);
    tcase_add_test(tc, access_from_enters_below_l1);
    tcase_add_test(tc, params_check_messages);
    tcase_add_test(tc, names_of_enums_round_trip);
    tcase_add_test(tc, per_cpu_statistics_and_shared_llc);
    tcase_add_test(tc, flush_and_invalidate_range);
    tcase_add_test(tc, random_replacement_is_deterministic);
    tcase_add_test(tc, inclusion_invariants_under_random_traffic);
    tcase_add_test(tc, matches_reference_cachegrind_shape);
    tcase_add_test(tc, matches_reference_three_levels);
    tcase_add_test(tc, matches_reference_inclusive);
    suite_add_tcase(s, tc);
    /* long under the sanitizers on a busy machine: a case of its own with a larger timeout */
    TCase *sp = tcase_create("specialised");
    tcase_set_timeout(sp, 600);
    tcase_add_test(sp, specialised_path_matches_general_path_lru);
    tcase_add_test(sp, specialised_path_matches_general_path_other_policies);
    suite_add_tcase(s, sp);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
