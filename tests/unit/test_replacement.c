/* Unit tests for the set-associative core (models/hw/setassoc.h): each replacement policy on
 * hand-worked sequences with exact outcomes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/rng.h"
#include "models/hw/setassoc.h"

static cache *mk(uint64_t sets, unsigned ways, enum cache_repl r, uint64_t seed)
{
    struct cache_geom g = {sets, ways, r, seed, "test"};
    return cache_create(&g);
}

/* A reference: hit, or miss and fill. Returns 1 on a miss. */
static int ref(cache *c, uint64_t key)
{
    if (cache_lookup(c, key) >= 0)
        return 0;
    struct cache_victim v;
    cache_fill(c, key, 0, &v);
    return 1;
}

/* Misses of `rounds` passes over keys 0, sets, 2*sets, ... (n keys, all in set 0). */
static unsigned cycle_misses(cache *c, uint64_t sets, unsigned n, unsigned rounds)
{
    unsigned m = 0;
    for (unsigned r = 0; r < rounds; r++)
        for (unsigned i = 0; i < n; i++)
            m += (unsigned)ref(c, (uint64_t)i * sets);
    return m;
}

START_TEST(lru_assoc_plus_one_always_misses)
{
    /* ranks (ways <= 128) and stamps (ways > 128) must agree */
    unsigned ways_list[] = {1, 2, 4, 8, 16, 12, 128, 256};
    for (unsigned i = 0; i < sizeof ways_list / sizeof ways_list[0]; i++) {
        unsigned w = ways_list[i];
        cache *c = mk(4, w, REPL_LRU, 1);
        ck_assert_uint_eq(cycle_misses(c, 4, w + 1, 20), 20 * (w + 1));
        cache_destroy(c);
        /* exactly assoc lines: only the compulsory misses */
        c = mk(4, w, REPL_LRU, 1);
        ck_assert_uint_eq(cycle_misses(c, 4, w, 20), w);
        cache_destroy(c);
    }
}
END_TEST

START_TEST(lru_victim_is_least_recent)
{
    cache *c = mk(1, 4, REPL_LRU, 1);
    for (uint64_t k = 10; k < 14; k++)
        ref(c, k);                      /* 10 11 12 13, 10 least recent */
    ck_assert_int_eq(ref(c, 10), 0);    /* 11 now least recent */
    ck_assert_int_eq(ref(c, 12), 0);    /* order: 11 13 10 12 */
    struct cache_victim v;
    cache_fill(c, 20, 0, &v);
    ck_assert_uint_eq(v.key, 11);
    cache_fill(c, 21, 0, &v);
    ck_assert_uint_eq(v.key, 13);
    /* an invalidated way is refilled first, and ranks stay a permutation */
    ck_assert_int_eq(cache_invalidate(c, 12, NULL), 1);
    cache_fill(c, 22, 0, &v);
    ck_assert_uint_eq(v.key, CACHE_KEY_INVALID);
    cache_fill(c, 23, 0, &v);
    ck_assert_uint_eq(v.key, 10);
    cache_destroy(c);
}
END_TEST

START_TEST(plru_hand_worked_victims)
{
    /* 4 ways: root bit b0, b1 over ways 0-1, b2 over ways 2-3; a bit points to the victim side.
     * Fill A B C D (ways 0..3). Last touch 3 -> b0 left, b2 -> 2; touch 1 left b1 -> 0.
     * Victim: b0 left, b1 -> way 0 (A). E in way 0 sets b0 right, b1 -> 1.
     * Victim: b0 right, b2 -> way 2 (C): A comes back there, where LRU would have taken B. */
    cache *c = mk(1, 4, REPL_PLRU, 1);
    struct cache_victim v;
    ck_assert_uint_eq(cache_fill(c, 'A', 0, &v), 0);
    ck_assert_uint_eq(cache_fill(c, 'B', 0, &v), 1);
    ck_assert_uint_eq(cache_fill(c, 'C', 0, &v), 2);
    ck_assert_uint_eq(cache_fill(c, 'D', 0, &v), 3);
    ck_assert_int_eq(cache_lookup(c, 'E'), -1);
    ck_assert_uint_eq(cache_fill(c, 'E', 0, &v), 0);
    ck_assert_uint_eq(v.key, 'A');
    ck_assert_int_eq(cache_lookup(c, 'A'), -1);
    ck_assert_uint_eq(cache_fill(c, 'A', 0, &v), 2);
    ck_assert_uint_eq(v.key, 'C');
    ck_assert_int_eq(cache_lookup(c, 'B'), 1); /* still there: not LRU */
    /* A's touch of way 2 set b2 -> 3; B's touch of way 1 set b0 right: D goes, not E */
    cache_fill(c, 'F', 0, &v);
    ck_assert_uint_eq(v.key, 'D');
    cache_destroy(c);
}
END_TEST

START_TEST(srrip_assoc_plus_one_always_misses)
{
    cache *c = mk(4, 4, REPL_SRRIP, 1);
    ck_assert_uint_eq(cycle_misses(c, 4, 5, 50), 250);
    cache_destroy(c);
}
END_TEST

START_TEST(srrip_keeps_hot_line_through_scan)
{
    /* H, H, S1..S4, H in one 4-way set.
     * LRU: H S1 S2 S3 fill the set; S4 evicts H (least recent); H misses.
     * SRRIP: H inserted at 2, hit -> 0. S1-S3 at 2. S4: no RRPV 3, age all by 1 -> H 1,
     * S1-S3 3; S1 goes. H hits. */
    uint64_t seq[] = {100, 100, 1, 2, 3, 4, 100};
    enum cache_repl pols[] = {REPL_LRU, REPL_SRRIP};
    int last_miss[2];
    for (int p = 0; p < 2; p++) {
        cache *c = mk(1, 4, pols[p], 1);
        for (unsigned i = 0; i < 7; i++)
            last_miss[p] = ref(c, seq[i]);
        cache_destroy(c);
    }
    ck_assert_int_eq(last_miss[0], 1);
    ck_assert_int_eq(last_miss[1], 0);
}
END_TEST

START_TEST(brrip_inserts_long_one_in_32)
{
    cache *c = mk(1, 1, REPL_BRRIP, 42);
    unsigned longs = 0, n = 64000;
    for (unsigned i = 0; i < n; i++) {
        struct cache_victim v;
        unsigned w = cache_fill(c, 1000 + i, 0, &v);
        longs += ((const uint8_t *)(cache_set_block(c, 0) + 1))[w] == RRPV_LONG;
    }
    /* expected n/32 = 2000; 5 sigma is about 220 */
    ck_assert_uint_gt(longs, 1750);
    ck_assert_uint_lt(longs, 2250);
    cache_destroy(c);
}
END_TEST

START_TEST(brrip_resists_thrashing)
{
    /* 8 lines cycling through a 4-way set: LRU and SRRIP never hit; BRRIP keeps some lines */
    unsigned rounds = 1000, total = 8 * rounds;
    cache *lru = mk(1, 4, REPL_LRU, 1), *srrip = mk(1, 4, REPL_SRRIP, 1);
    cache *b1 = mk(1, 4, REPL_BRRIP, 7), *b2 = mk(1, 4, REPL_BRRIP, 7);
    ck_assert_uint_eq(cycle_misses(lru, 1, 8, rounds), total);
    ck_assert_uint_eq(cycle_misses(srrip, 1, 8, rounds), total);
    unsigned m1 = cycle_misses(b1, 1, 8, rounds), m2 = cycle_misses(b2, 1, 8, rounds);
    ck_assert_uint_eq(m1, m2); /* same seed, same outcome */
    ck_assert_uint_lt(m1, total * 3 / 4);
    cache_destroy(lru);
    cache_destroy(srrip);
    cache_destroy(b1);
    cache_destroy(b2);
}
END_TEST

START_TEST(drrip_set_dueling)
{
    /* 128 sets: constituencies of 4 sets; set%4 == 0 leads SRRIP, set%4 == 3 leads BRRIP.
     * PSEL starts at 511 (followers SRRIP); each fill in an SRRIP leader adds one, each fill in a
     * BRRIP leader takes one away; followers use BRRIP while PSEL > 511. */
    cache *c = mk(128, 4, REPL_DRRIP, 3);
    ck_assert_uint_eq(cache_drrip_psel(c), 511);
    for (uint64_t i = 0; i < 10; i++)
        ref(c, 0 + 128 * i); /* set 0: SRRIP leader */
    ck_assert_uint_eq(cache_drrip_psel(c), 521);
    for (uint64_t i = 0; i < 4; i++)
        ref(c, 1 + 128 * i); /* set 1: follower, no effect */
    ck_assert_uint_eq(cache_drrip_psel(c), 521);
    for (uint64_t i = 0; i < 30; i++)
        ref(c, 3 + 128 * i); /* set 3: BRRIP leader */
    ck_assert_uint_eq(cache_drrip_psel(c), 491);
    /* saturation */
    for (uint64_t i = 0; i < 2000; i++)
        ref(c, 4 + 128 * i);
    ck_assert_uint_eq(cache_drrip_psel(c), 1023);
    /* followers now insert like BRRIP: a thrashing loop in a follower set gets hits */
    unsigned m = 0;
    for (unsigned r = 0; r < 500; r++)
        for (uint64_t i = 0; i < 8; i++)
            m += (unsigned)ref(c, 2 + 128 * (1000 + i));
    ck_assert_uint_lt(m, 3000);
    /* drive PSEL to 0: followers behave as SRRIP, and SRRIP thrashes completely */
    for (uint64_t i = 0; i < 2000; i++)
        ref(c, 7 + 128 * (5000 + i));
    ck_assert_uint_eq(cache_drrip_psel(c), 0);
    m = 0;
    for (unsigned r = 0; r < 50; r++)
        for (uint64_t i = 0; i < 5; i++)
            m += (unsigned)ref(c, 5 + 128 * (9000 + i));
    ck_assert_uint_eq(m, 250);
    cache_destroy(c);
}
END_TEST

START_TEST(drrip_beats_srrip_on_thrash)
{
    /* all sets thrashing: leaders vote for BRRIP and followers follow */
    cache *d = mk(256, 4, REPL_DRRIP, 5), *s = mk(256, 4, REPL_SRRIP, 5);
    unsigned md = 0, ms = 0;
    for (unsigned r = 0; r < 200; r++)
        for (uint64_t set = 0; set < 256; set++)
            for (uint64_t i = 0; i < 8; i++) {
                md += (unsigned)ref(d, set + 256 * i);
                ms += (unsigned)ref(s, set + 256 * i);
            }
    ck_assert_uint_eq(ms, 200 * 256 * 8);
    ck_assert_uint_lt(md, ms * 3 / 4);
    cache_destroy(d);
    cache_destroy(s);
}
END_TEST

START_TEST(random_does_not_always_miss_and_is_seeded)
{
    cache *a = mk(4, 4, REPL_RANDOM, 99), *b = mk(4, 4, REPL_RANDOM, 99);
    unsigned ma = cycle_misses(a, 4, 5, 200), mb = cycle_misses(b, 4, 5, 200);
    ck_assert_uint_lt(ma, 1000);
    ck_assert_uint_eq(ma, mb);
    for (uint64_t s = 0; s < 4; s++)
        for (unsigned w = 0; w < 4; w++) {
            uint64_t ka = 0, kb = 0;
            ck_assert_int_eq(cache_key_at(a, s, w, &ka), cache_key_at(b, s, w, &kb));
            ck_assert_uint_eq(ka, kb);
        }
    cache_destroy(a);
    cache_destroy(b);
}
END_TEST

START_TEST(fully_associative_and_dirty)
{
    cache *c = mk(1, 64, REPL_LRU, 1);
    for (uint64_t k = 0; k < 64; k++) {
        struct cache_victim v;
        cache_fill(c, k * 4096, k & 1, &v);
        ck_assert_uint_eq(v.key, CACHE_KEY_INVALID);
    }
    ck_assert_uint_eq(cache_valid_count(c), 64);
    for (uint64_t k = 0; k < 64; k++) {
        int w = cache_lookup(c, k * 4096);
        ck_assert_int_ge(w, 0);
        ck_assert_int_eq(cache_is_dirty(c, k * 4096, (unsigned)w), (int)(k & 1));
    }
    /* k=0 was touched first: least recent, clean */
    struct cache_victim v;
    cache_fill(c, 999, 0, &v);
    ck_assert_uint_eq(v.key, 0);
    ck_assert_int_eq(v.dirty, 0);
    cache_fill(c, 998, 0, &v);
    ck_assert_uint_eq(v.key, 4096);
    ck_assert_int_eq(v.dirty, 1);
    int d = 0;
    ck_assert_int_eq(cache_invalidate(c, 3 * 4096, &d), 1);
    ck_assert_int_eq(d, 1);
    ck_assert_int_eq(cache_invalidate(c, 3 * 4096, &d), 0);
    ck_assert_int_eq(cache_find(c, 3 * 4096), -1);
    cache_destroy(c);
}
END_TEST

static void count_dirty(void *ctx, uint64_t key, int dirty)
{
    (void)key;
    ((unsigned *)ctx)[dirty]++;
}

START_TEST(flush_and_range_invalidation)
{
    cache *c = mk(16, 4, REPL_PLRU, 1);
    for (uint64_t k = 0; k < 64; k++) {
        struct cache_victim v;
        cache_fill(c, k, k < 10, &v);
    }
    unsigned n[2] = {0, 0};
    cache_invalidate_range(c, 5, 14, count_dirty, n); /* probes key by key */
    ck_assert_uint_eq(n[0], 5);
    ck_assert_uint_eq(n[1], 5);
    ck_assert_uint_eq(cache_valid_count(c), 54);
    n[0] = n[1] = 0;
    cache_invalidate_range(c, 20, 1000000, count_dirty, n); /* scans the cache */
    ck_assert_uint_eq(n[0], 44);
    ck_assert_uint_eq(cache_valid_count(c), 10);
    n[0] = n[1] = 0;
    cache_flush(c, count_dirty, n);
    ck_assert_uint_eq(n[0], 5);
    ck_assert_uint_eq(n[1], 5);
    ck_assert_uint_eq(cache_valid_count(c), 0);
    ck_assert_int_eq(cache_lookup(c, 1), -1);
    cache_destroy(c);
}
END_TEST

START_TEST(every_policy_matches_capacity)
{
    /* a working set no larger than the cache: no miss after the first pass, for every policy */
    enum cache_repl pols[] = {REPL_LRU, REPL_PLRU, REPL_RANDOM, REPL_SRRIP, REPL_BRRIP, REPL_DRRIP};
    for (unsigned p = 0; p < 6; p++) {
        cache *c = mk(64, 8, pols[p], 11);
        unsigned first = 0, second = 0;
        for (uint64_t k = 0; k < 512; k++)
            first += (unsigned)ref(c, k);
        for (uint64_t k = 0; k < 512; k++)
            second += (unsigned)ref(c, k);
        ck_assert_uint_eq(first, 512);
        ck_assert_uint_eq(second, 0);
        cache_destroy(c);
    }
}
END_TEST

/* --- LRU against a plain model ----------------------------------------------------------------
 * Per set: the key and dirty bit of each way and the ways in recency order. A fill takes the
 * lowest empty way, else the least recent; every operation of the core, at random, on shapes
 * with and without unrolled code (8 and 16 ways), must give the model's ways, victims, dirty bits
 * and contents. */

struct lru_model {
    uint64_t sets;
    unsigned ways;
    uint64_t *key;     /* sets * ways, CACHE_KEY_INVALID = empty */
    int *dirty;
    unsigned *order;   /* sets * ways: ways, most recent first */
};

static unsigned *lm_order(struct lru_model *m, uint64_t set)
{
    return m->order + set * m->ways;
}

static void lm_promote(struct lru_model *m, uint64_t set, unsigned way)
{
    unsigned *o = lm_order(m, set), i = 0;
    while (o[i] != way)
        i++;
    memmove(o + 1, o, i * sizeof *o);
    o[0] = way;
}

static void lm_demote(struct lru_model *m, uint64_t set, unsigned way)
{
    unsigned *o = lm_order(m, set), i = 0;
    while (o[i] != way)
        i++;
    memmove(o + i, o + i + 1, (m->ways - 1 - i) * sizeof *o);
    o[m->ways - 1] = way;
}

static int lm_find(struct lru_model *m, uint64_t key)
{
    uint64_t set = key % m->sets;
    for (unsigned w = 0; w < m->ways; w++)
        if (m->key[set * m->ways + w] == key)
            return (int)w;
    return -1;
}

static unsigned lm_fill(struct lru_model *m, uint64_t key, int dirty, uint64_t *vkey, int *vdirty)
{
    uint64_t set = key % m->sets;
    unsigned way = m->ways;
    for (unsigned w = 0; w < m->ways && way == m->ways; w++)
        if (m->key[set * m->ways + w] == CACHE_KEY_INVALID)
            way = w;
    if (way == m->ways)
        way = lm_order(m, set)[m->ways - 1];
    *vkey = m->key[set * m->ways + way];
    *vdirty = *vkey == CACHE_KEY_INVALID ? 0 : m->dirty[set * m->ways + way];
    m->key[set * m->ways + way] = key;
    m->dirty[set * m->ways + way] = dirty;
    lm_promote(m, set, way);
    return way;
}

static void lru_against_model(uint64_t sets, unsigned ways, unsigned seed)
{
    struct lru_model m = {sets, ways, malloc(sets * ways * sizeof(uint64_t)),
                          calloc(sets * ways, sizeof(int)), malloc(sets * ways * sizeof(unsigned))};
    for (uint64_t i = 0; i < sets * ways; i++) {
        m.key[i] = CACHE_KEY_INVALID;
        m.order[i] = (unsigned)(i % ways);
    }
    cache *c = mk(sets, ways, REPL_LRU, 1);
    rng r;
    rng_seed(&r, seed);
    uint64_t span = sets * (ways + ways / 2 + 1); /* a little more than fits */
    for (int i = 0; i < 20000; i++) {
        uint64_t key = rng_below(&r, span);
        if (rng_below(&r, 50) == 0)
            key += (uint64_t)rng_below(&r, 4) << 40; /* far keys in the same sets */
        uint64_t set = key % sets;
        unsigned op = (unsigned)rng_below(&r, 100);
        int mw = lm_find(&m, key);
        if (op < 40) { /* access: lookup, then fill on a miss */
            int d = (int)rng_below(&r, 2);
            struct cache_victim v = {0, 0};
            int hit = cache_access(c, key, d, &v);
            ck_assert_int_eq(hit, mw >= 0);
            if (hit) {
                lm_promote(&m, set, (unsigned)mw);
                m.dirty[set * ways + (unsigned)mw] |= d;
            } else {
                uint64_t vk;
                int vd;
                lm_fill(&m, key, d, &vk, &vd);
                ck_assert_uint_eq(v.key, vk);
                ck_assert_int_eq(v.dirty, vd);
            }
        } else if (op < 70) { /* lookup, fill on a miss */
            int w = cache_lookup(c, key);
            ck_assert_int_eq(w, mw);
            if (w >= 0) {
                lm_promote(&m, set, (unsigned)w);
                if (rng_below(&r, 3) == 0) {
                    cache_mark_dirty(c, key, (unsigned)w);
                    m.dirty[set * ways + (unsigned)w] = 1;
                }
            } else {
                int d = (int)rng_below(&r, 2);
                struct cache_victim v;
                uint64_t vk;
                int vd;
                unsigned fw = cache_fill(c, key, d, &v);
                ck_assert_uint_eq(fw, lm_fill(&m, key, d, &vk, &vd));
                ck_assert_uint_eq(v.key, vk);
                ck_assert_int_eq(v.dirty, vd);
            }
        } else if (op < 80) { /* probe: no state change */
            int w = cache_find(c, key);
            ck_assert_int_eq(w, mw);
            if (w >= 0)
                ck_assert_int_eq(cache_is_dirty(c, key, (unsigned)w), m.dirty[set * ways + (unsigned)w]);
        } else if (op < 95) { /* invalidate */
            int d = -1;
            ck_assert_int_eq(cache_invalidate(c, key, &d), mw >= 0);
            if (mw >= 0) {
                ck_assert_int_eq(d, m.dirty[set * ways + (unsigned)mw]);
                m.key[set * ways + (unsigned)mw] = CACHE_KEY_INVALID;
                lm_demote(&m, set, (unsigned)mw);
            }
        } else if (op < 99) { /* a range */
            uint64_t first = rng_below(&r, span), last = first + rng_below(&r, 3 * sets);
            cache_invalidate_range(c, first, last, NULL, NULL);
            for (uint64_t s2 = 0; s2 < sets; s2++)
                for (unsigned w = 0; w < ways; w++) {
                    uint64_t k = m.key[s2 * ways + w];
                    if (k != CACHE_KEY_INVALID && k >= first && k <= last) {
                        m.key[s2 * ways + w] = CACHE_KEY_INVALID;
                        lm_demote(&m, s2, w);
                    }
                }
        } else if (rng_below(&r, 10) == 0) {
            cache_flush(c, NULL, NULL);
            for (uint64_t k = 0; k < sets * ways; k++)
                m.key[k] = CACHE_KEY_INVALID;
        }
        if (i % 1000 == 999 || i == 19999) {
            uint64_t valid = 0;
            for (uint64_t s2 = 0; s2 < sets; s2++)
                for (unsigned w = 0; w < ways; w++) {
                    uint64_t k = 0, mk2 = m.key[s2 * ways + w];
                    ck_assert_int_eq(cache_key_at(c, s2, w, &k), mk2 != CACHE_KEY_INVALID);
                    if (mk2 != CACHE_KEY_INVALID) {
                        ck_assert_uint_eq(k, mk2);
                        valid++;
                    }
                }
            ck_assert_uint_eq(cache_valid_count(c), valid);
        }
    }
    cache_destroy(c);
    free(m.key);
    free(m.dirty);
    free(m.order);
}

START_TEST(lru_matches_model)
{
    static const unsigned ways[] = {1, 2, 3, 4, 7, 8, 12, 16, 17, 32};
    for (unsigned i = 0; i < sizeof ways / sizeof ways[0]; i++) {
        lru_against_model(1, ways[i], 100 + i);
        lru_against_model(4, ways[i], 200 + i);
        lru_against_model(64, ways[i], 300 + i);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("replacement");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, lru_assoc_plus_one_always_misses);
    tcase_add_test(tc, lru_victim_is_least_recent);
    tcase_add_test(tc, plru_hand_worked_victims);
    tcase_add_test(tc, srrip_assoc_plus_one_always_misses);
    tcase_add_test(tc, srrip_keeps_hot_line_through_scan);
    tcase_add_test(tc, brrip_inserts_long_one_in_32);
    tcase_add_test(tc, brrip_resists_thrashing);
    tcase_add_test(tc, drrip_set_dueling);
    tcase_add_test(tc, drrip_beats_srrip_on_thrash);
    tcase_add_test(tc, random_does_not_always_miss_and_is_seeded);
    tcase_add_test(tc, fully_associative_and_dirty);
    tcase_add_test(tc, flush_and_range_invalidation);
    tcase_add_test(tc, every_policy_matches_capacity);
    tcase_add_test(tc, lru_matches_model);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
