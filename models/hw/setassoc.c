#include "models/hw/setassoc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"

#define CACHE_HUGE ((size_t)2 << 20)   /* the host's large page */
#define CACHE_HUGE_MIN ((size_t)256 << 10) /* tag stores from this size go on large pages */

#define B16(x) {x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}
const uint8_t cache_bytes_bcast[16][16] = {B16(0), B16(1), B16(2), B16(3), B16(4), B16(5),
                                           B16(6), B16(7), B16(8), B16(9), B16(10), B16(11),
                                           B16(12), B16(13), B16(14), B16(15)};
#define H(i) [i][i] = 0xff
const uint8_t cache_bytes_onehot[16][16] = {H(0), H(1), H(2), H(3), H(4), H(5), H(6), H(7),
                                            H(8), H(9), H(10), H(11), H(12), H(13), H(14), H(15)};

/* The kind the unrolled access may use now: the cache's own once it has no empty way. */
static void update_full_kind(cache *c)
{
    c->full_kind = c->valid == c->entries ? c->kind : CACHE_KIND_GENERAL;
}

/* Words of replacement metadata per set. */
static unsigned repl_words(enum cache_repl r, unsigned ways)
{
    switch (r) {
    case REPL_LRU:
        if (ways <= 128)
            return (ways + 7) / 8; /* one rank byte per way */
        return ways;               /* one 64-bit stamp per way: never wraps */
    case REPL_PLRU:
        return ways > 1 ? (ways - 1 + 63) / 64 : 0; /* ways - 1 tree bits */
    case REPL_RANDOM:
        return 0;
    case REPL_SRRIP:
    case REPL_BRRIP:
    case REPL_DRRIP:
        return (ways + 7) / 8; /* one RRPV byte per way */
    }
    return 0;
}

static void set_init_meta(cache *c, uint64_t *blk)
{
    for (unsigned w = 0; w < c->ways; w++)
        blk[w] = CACHE_KEY_INVALID;
    if (c->repl == REPL_SRRIP || c->repl == REPL_BRRIP || c->repl == REPL_DRRIP)
        memset(blk + c->ways, RRPV_MAX, c->ways);
    if (c->repl == REPL_LRU && c->lru_ranks) { /* ranks are always a permutation of 0..ways-1 */
        uint8_t *rank = (uint8_t *)(blk + c->ways);
        for (unsigned w = 0; w < c->ways; w++)
            rank[w] = (uint8_t)w;
    }
}

static void lru_rank_remove(cache *c, uint64_t *blk, unsigned way)
{
    uint64_t *rw = blk + c->ways;
    unsigned r = ((const uint8_t *)rw)[way];
    uint64_t add = CACHE_BYTES(0x7fu - r); /* a byte's top bit sets iff its rank is above r */
    for (unsigned i = 0; i < c->rank_words; i++) {
        uint64_t m = i + 1 == c->rank_words ? c->rank_tail : UINT64_MAX;
        rw[i] -= (((rw[i] + add) & CACHE_BYTES(0x80u)) & m) >> 7;
    }
    ((uint8_t *)rw)[way] = (uint8_t)(c->ways - 1);
}

/* The way whose rank is ways-1 (the least recent). */
static unsigned lru_rank_victim(const cache *c, const uint64_t *blk)
{
    const uint64_t *rw = blk + c->ways;
    uint64_t want = CACHE_BYTES(c->ways - 1);
    for (unsigned i = 0;; i++) {
        uint64_t m = i + 1 == c->rank_words ? c->rank_tail : UINT64_MAX;
        uint64_t y = rw[i] ^ want; /* zero byte where the rank matches; bytes stay < 128 */
        uint64_t zero = ~((y + CACHE_BYTES(0x7fu)) | y) & CACHE_BYTES(0x80u) & m;
        if (zero)
            return i * 8 + (unsigned)__builtin_ctzll(zero) / 8;
    }
}

cache *cache_create(const struct cache_geom *g)
{
    if (!g || !is_pow2_u64(g->sets) || g->ways == 0 || g->ways > CACHE_MAX_WAYS ||
        (g->repl == REPL_PLRU && !is_pow2_u64(g->ways))) {
        fprintf(stderr, "mmusim: internal error: bad cache geometry\n");
        abort();
    }
    cache *c = xcalloc(1, sizeof *c);
    c->ways = g->ways;
    c->repl = g->repl;
    c->lru_ranks = g->repl == REPL_LRU && g->ways <= 128;
    c->rank_words = (g->ways + 7) / 8;
    c->rank_tail = g->ways % 8 ? ((uint64_t)1 << (8 * (g->ways % 8))) - 1 : UINT64_MAX;
    c->memo_key = CACHE_KEY_INVALID;
    c->set_mask = g->sets - 1;
    c->entries = g->sets * g->ways;
    c->dirty_off = g->ways + repl_words(g->repl, g->ways);
    c->stride = c->dirty_off + (g->ways + 63) / 64;
    if (g->ways >= 8) /* whole host lines per set: a set visit touches no line of a neighbour */
        c->stride = (c->stride + 7) & ~7u;
    if (g->repl == REPL_LRU && (g->ways == 8 || g->ways == 16))
        c->kind = g->ways == 16 ? CACHE_KIND_LRU16 : CACHE_KIND_LRU8;
    assert(c->kind == CACHE_KIND_GENERAL ||
           (c->dirty_off == c->ways + c->ways / 8 && c->stride == (c->ways == 16 ? 24u : 16u)));
    size_t bytes = (size_t)(g->sets * c->stride * sizeof(uint64_t));
    if (bytes >= CACHE_HUGE_MIN) {
        /* a large tag store is visited at random: on 2 MiB pages the host's TLB covers it */
        bytes = (bytes + CACHE_HUGE - 1) & ~(size_t)(CACHE_HUGE - 1);
        c->data = aligned_alloc(CACHE_HUGE, bytes);
        if (c->data)
            (void)madvise(c->data, bytes, MADV_HUGEPAGE);
    } else {
        c->data = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    }
    if (!c->data) {
        fprintf(stderr, "mmusim: out of memory (asked for %zu bytes)\n", bytes);
        exit(71);
    }
    memset(c->data, 0, bytes);
    for (uint64_t s = 0; s < g->sets; s++)
        set_init_meta(c, cache_set_block(c, s));
    rng_seed_named(&c->rng, g->seed, g->rng_name ? g->rng_name : "cache");
    /* DRRIP set dueling: the sets are cut into DRRIP_LEADERS constituencies of `stride` sets;
     * the first set of each leads SRRIP and the last leads BRRIP, the rest follow the selector. */
    if (g->sets >= 2) {
        uint64_t stride = g->sets / DRRIP_LEADERS;
        if (stride < 2)
            stride = 2;
        c->leader_mask = (unsigned)(stride - 1);
    }
    /* just below the midpoint: with no evidence yet, followers use SRRIP */
    c->psel = (1u << (DRRIP_PSEL_BITS - 1)) - 1;
    return c;
}

void cache_destroy(cache *c)
{
    if (!c)
        return;
    free(c->data);
    free(c);
}

/* PLRU tree in heap order: node n has children 2n+1 and 2n+2; way w is leaf (ways-1)+w.
 * A node bit of 1 means "the victim is on the right". */
static inline int plru_bit(const uint64_t *bits, unsigned n)
{
    return (int)((bits[n >> 6] >> (n & 63)) & 1);
}

void cache_plru_touch(uint64_t *bits, unsigned ways, unsigned way)
{
    unsigned n = ways - 1 + way;
    while (n > 0) {
        unsigned p = (n - 1) / 2;
        /* a left child has an odd index: coming from the left points the victim right (1) */
        uint64_t m = (uint64_t)1 << (p & 63);
        bits[p >> 6] = (bits[p >> 6] & ~m) | ((uint64_t)(n & 1) << (p & 63));
        n = p;
    }
}

static unsigned plru_victim(const uint64_t *bits, unsigned ways)
{
    unsigned n = 0;
    while (n < ways - 1)
        n = 2 * n + 1 + (unsigned)plru_bit(bits, n);
    return n - (ways - 1);
}

static unsigned rrip_victim(uint8_t *rrpv, unsigned ways)
{
    /* equivalent to "age every line by one until some line reaches RRPV_MAX" */
    uint8_t max = 0;
    for (unsigned w = 0; w < ways; w++)
        if (rrpv[w] > max)
            max = rrpv[w];
    if (max < RRPV_MAX) {
        uint8_t add = (uint8_t)(RRPV_MAX - max);
        for (unsigned w = 0; w < ways; w++)
            rrpv[w] = (uint8_t)(rrpv[w] + add);
    }
    for (unsigned w = 0; w < ways; w++)
        if (rrpv[w] == RRPV_MAX)
            return w;
    return 0; /* not reached */
}

static uint8_t brrip_insert(cache *c)
{
    return (rng_next(&c->rng) % BRRIP_LONG_ONE_IN) == 0 ? (uint8_t)RRPV_LONG : (uint8_t)RRPV_MAX;
}

/* RRPV for a new line in set; a DRRIP leader set also records the miss in the selector. */
static uint8_t rrip_insert(cache *c, uint64_t set)
{
    switch (c->repl) {
    case REPL_SRRIP:
        return RRPV_LONG;
    case REPL_BRRIP:
        return brrip_insert(c);
    default:
        break;
    }
    unsigned pmax = (1u << DRRIP_PSEL_BITS) - 1;
    if (c->leader_mask) {
        unsigned pos = (unsigned)set & c->leader_mask;
        if (pos == 0) { /* SRRIP leader missed: evidence for BRRIP */
            if (c->psel < pmax)
                c->psel++;
            return RRPV_LONG;
        }
        if (pos == c->leader_mask) { /* BRRIP leader missed: evidence for SRRIP */
            if (c->psel > 0)
                c->psel--;
            return brrip_insert(c);
        }
    }
    return c->psel > pmax / 2 ? brrip_insert(c) : (uint8_t)RRPV_LONG;
}

unsigned cache_fill_general(cache *c, uint64_t key, int dirty, struct cache_victim *victim)
{
    uint64_t set = cache_set_of(c, key);
    uint64_t *blk = cache_set_block(c, set);
    uint64_t *dbits = blk + c->dirty_off;
    unsigned way = c->ways;

    if (c->valid < c->entries) { /* an empty way anywhere: look for one here first */
        for (unsigned w = 0; w < c->ways; w++)
            if (blk[w] == CACHE_KEY_INVALID) {
                way = w;
                break;
            }
    }
    if (way == c->ways) {
        switch (c->repl) {
        case REPL_LRU:
            if (c->lru_ranks) {
                way = lru_rank_victim(c, blk);
            } else {
                const uint64_t *stamp = blk + c->ways;
                way = 0;
                for (unsigned w = 1; w < c->ways; w++)
                    if (stamp[w] < stamp[way])
                        way = w;
            }
            break;
        case REPL_PLRU:
            way = c->ways > 1 ? plru_victim(blk + c->ways, c->ways) : 0;
            break;
        case REPL_RANDOM:
            way = (unsigned)rng_below(&c->rng, c->ways);
            break;
        case REPL_SRRIP:
        case REPL_BRRIP:
        case REPL_DRRIP:
            way = rrip_victim((uint8_t *)(blk + c->ways), c->ways);
            break;
        }
        victim->key = blk[way];
        victim->dirty = (int)((dbits[way >> 6] >> (way & 63)) & 1);
    } else {
        victim->key = CACHE_KEY_INVALID;
        victim->dirty = 0;
        c->valid++;
        update_full_kind(c);
    }

    if (victim->key == c->memo_key)
        c->memo_key = CACHE_KEY_INVALID;
    blk[way] = key;
    uint64_t m = (uint64_t)1 << (way & 63);
    if (dirty)
        dbits[way >> 6] |= m;
    else
        dbits[way >> 6] &= ~m;
    switch (c->repl) {
    case REPL_LRU:
        cache_touch(c, set, way);
        break;
    case REPL_PLRU:
        if (c->ways > 1)
            cache_plru_touch(blk + c->ways, c->ways, way);
        break;
    case REPL_RANDOM:
        break;
    case REPL_SRRIP:
    case REPL_BRRIP:
    case REPL_DRRIP:
        ((uint8_t *)(blk + c->ways))[way] = rrip_insert(c, set);
        break;
    }
    /* the memo promises "already promoted", which RRIP insertion does not give */
    if (c->repl != REPL_SRRIP && c->repl != REPL_BRRIP && c->repl != REPL_DRRIP) {
        c->memo_key = key;
        c->memo_way = way;
    }
    return way;
}

/* cache_access for the other policies and shapes, and for a cache with empty ways. */
int cache_access_general(cache *c, uint64_t key, int dirty, struct cache_victim *victim)
{
    int w = cache_lookup(c, key);
    if (w >= 0) {
        if (dirty)
            cache_mark_dirty(c, key, (unsigned)w);
        return 1;
    }
    cache_fill(c, key, dirty, victim);
    return 0;
}

static void invalidate_way(cache *c, uint64_t *blk, unsigned way)
{
    if (blk[way] == c->memo_key)
        c->memo_key = CACHE_KEY_INVALID;
    blk[way] = CACHE_KEY_INVALID;
    blk[c->dirty_off + (way >> 6)] &= ~((uint64_t)1 << (way & 63));
    if (c->repl == REPL_LRU && c->lru_ranks)
        lru_rank_remove(c, blk, way); /* the empty way becomes the least recent */
    else if (c->repl == REPL_LRU)
        blk[c->ways + way] = 0;
    else if (c->repl == REPL_SRRIP || c->repl == REPL_BRRIP || c->repl == REPL_DRRIP)
        ((uint8_t *)(blk + c->ways))[way] = RRPV_MAX;
    c->valid--;
    update_full_kind(c);
}

int cache_invalidate(cache *c, uint64_t key, int *dirty)
{
    int w = cache_find(c, key);
    if (w < 0)
        return 0;
    uint64_t *blk = cache_set_block(c, cache_set_of(c, key));
    if (dirty)
        *dirty = cache_is_dirty(c, key, (unsigned)w);
    invalidate_way(c, blk, (unsigned)w);
    return 1;
}

static void drop_matching(cache *c, uint64_t first, uint64_t last, cache_drop_fn fn, void *ctx)
{
    for (uint64_t s = 0; s <= c->set_mask && c->valid; s++) {
        uint64_t *blk = cache_set_block(c, s);
        for (unsigned w = 0; w < c->ways; w++) {
            uint64_t key = blk[w];
            if (key == CACHE_KEY_INVALID || key < first || key > last)
                continue;
            int dirty = cache_is_dirty(c, key, w);
            invalidate_way(c, blk, w);
            if (fn)
                fn(ctx, key, dirty);
        }
    }
}

void cache_flush(cache *c, cache_drop_fn fn, void *ctx)
{
    drop_matching(c, 0, CACHE_KEY_INVALID - 1, fn, ctx);
}

void cache_invalidate_range(cache *c, uint64_t first, uint64_t last, cache_drop_fn fn, void *ctx)
{
    if (first > last)
        return;
    if (last - first >= c->entries) {
        drop_matching(c, first, last, fn, ctx);
        return;
    }
    for (uint64_t k = first;; k++) {
        int dirty;
        if (k != CACHE_KEY_INVALID && cache_invalidate(c, k, &dirty) && fn)
            fn(ctx, k, dirty);
        if (k == last)
            break;
    }
}

uint64_t cache_valid_count(const cache *c)
{
    return c->valid;
}

unsigned cache_drrip_psel(const cache *c)
{
    return c->psel;
}

int cache_key_at(const cache *c, uint64_t set, unsigned way, uint64_t *key)
{
    if (set > c->set_mask || way >= c->ways)
        return 0;
    uint64_t k = cache_set_block(c, set)[way];
    if (k == CACHE_KEY_INVALID)
        return 0;
    if (key)
        *key = k;
    return 1;
}
