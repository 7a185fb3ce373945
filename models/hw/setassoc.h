/* The set-associative core: one tag store with a replacement policy, shared by the data caches
 * now and by TLBs and page-walk caches later. It knows keys (a line address, a page number),
 * sets, ways, valid and dirty bits; it knows nothing about bytes, statistics or levels.
 *
 * Storage is one flat array of 64-bit words. Each set is a block of `stride` words: the tags of
 * its ways first (contiguous, so a lookup is a tight loop over them), then the replacement
 * metadata of that set, then its dirty bitmap, so everything an access touches sits together.
 * An empty way holds CACHE_KEY_INVALID. The set of a key is `key & (sets - 1)`.
 *
 * The lookup path is inline (the struct is visible for that reason only: use the functions);
 * the policy is a switch on a field that is constant for the life of the cache, which the
 * branch predictor learns at once. Nothing here allocates after cache_create. */
#ifndef MMUSIM_HW_SETASSOC_H
#define MMUSIM_HW_SETASSOC_H

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "models/common/rng.h"
#include "models/hw/cache.h"

#define CACHE_KEY_INVALID UINT64_MAX
#define CACHE_BYTES(b) ((uint64_t)(b) * 0x0101010101010101ull) /* b in every byte */
#define CACHE_MAX_WAYS 65536u
#define CACHE_INLINE static inline __attribute__((always_inline))

/* RRIP constants (Jaleel et al., ISCA 2010): 2-bit re-reference prediction values. */
#define RRPV_MAX 3u           /* "distant": the next victim */
#define RRPV_LONG (RRPV_MAX - 1u)
#define BRRIP_LONG_ONE_IN 32u /* BRRIP inserts at RRPV_LONG once in 32 fills, else at RRPV_MAX */
#define DRRIP_PSEL_BITS 10u
#define DRRIP_LEADERS 32u     /* leader sets per policy (fewer when the cache has < 64 sets) */

struct cache_geom {
    uint64_t sets;        /* power of two, >= 1; 1 = fully associative */
    unsigned ways;        /* 1 .. CACHE_MAX_WAYS; PLRU needs a power of two */
    enum cache_repl repl;
    uint64_t seed;        /* run seed: random replacement, BRRIP and DRRIP draw from it */
    const char *rng_name; /* stream name, e.g. "cache.l1d", so caches draw independent streams */
};

/* What a fill displaced: key == CACHE_KEY_INVALID when it used an empty way. */
struct cache_victim {
    uint64_t key;
    int dirty;
};

typedef struct cache cache;

/* The shapes with unrolled code: LRU rank bytes over exactly 8 ways (tags in words 0-7, the ranks
 * in word 8, the dirty bits in word 9) or 16 ways (tags 0-15, ranks 16-17, dirty bits 18). */
enum { CACHE_KIND_GENERAL, CACHE_KIND_LRU8, CACHE_KIND_LRU16 };

/* Private: visible so that the lookup inlines into its callers. */
struct cache {
    uint64_t *data;       /* sets * stride words */
    uint64_t set_mask;    /* sets - 1 */
    uint64_t entries;     /* sets * ways */
    uint64_t valid;       /* valid ways; == entries means no empty way anywhere (skip the scan) */
    uint64_t clock;       /* LRU: the stamp of the latest touch */
    unsigned ways;
    unsigned lru_ranks;   /* LRU as byte ranks (0 = MRU .. ways-1 = LRU) when ways <= 128,
                             else as 64-bit stamps: ranks keep a set's metadata in one host line
                             and are updated eight at a time in a 64-bit word, without branches */
    unsigned rank_words;  /* ceil(ways / 8) */
    uint64_t rank_tail;   /* bytes of the last rank word that hold a way */
    uint64_t memo_key;    /* the key referenced last, already most recent in its set: referencing
                             it again changes no replacement state under any policy */
    unsigned memo_way;
    unsigned stride;      /* words per set, a multiple of 8 (64 bytes) when ways >= 8 */
    unsigned kind;        /* CACHE_KIND_*: LRU over 8 or 16 ways has unrolled code */
    unsigned full_kind;   /* kind while no way is empty (valid == entries), else GENERAL: the
                             unrolled access assumes a full cache */
    unsigned dirty_off;   /* word offset of the dirty bitmap in a set block */
    enum cache_repl repl;
    unsigned psel;        /* DRRIP policy selector, 0 .. 2^DRRIP_PSEL_BITS - 1 */
    unsigned leader_mask; /* DRRIP: set & mask == 0 leads SRRIP, == mask leads BRRIP; 0: no leaders */
    rng rng;
};

/* geom must be valid (cache_params_check or equivalent); aborts on a programming error. */
cache *cache_create(const struct cache_geom *g);
void cache_destroy(cache *c);

static inline uint64_t cache_set_of(const cache *c, uint64_t key)
{
    return key & c->set_mask;
}

static inline uint64_t *cache_set_block(const cache *c, uint64_t set)
{
    return c->data + set * c->stride;
}

#if defined(__SSE2__)
/* Ways among the 8 tags at t equal to k (k in both 64-bit lanes): bit 2i set when way i matches.
 * SSE2 has no 64-bit compare: compare 32-bit halves, narrow the 8 tags' 16 halves to 16 bytes
 * and keep a way when both of its halves matched. */
CACHE_INLINE unsigned cache_match8x(const uint64_t *t, __m128i k)
{
    __m128i e0 = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)t), k);
    __m128i e1 = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(t + 2)), k);
    __m128i e2 = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(t + 4)), k);
    __m128i e3 = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(t + 6)), k);
    __m128i b = _mm_packs_epi16(_mm_packs_epi32(e0, e1), _mm_packs_epi32(e2, e3));
    unsigned m = (unsigned)_mm_movemask_epi8(b);
    return m & (m >> 1) & 0x5555u;
}
#endif

/* The way among the first 8 (16) tags at t holding key, or -1. */
CACHE_INLINE int cache_find8(const uint64_t *t, uint64_t key)
{
#if defined(__SSE2__)
    unsigned m = cache_match8x(t, _mm_set1_epi64x((long long)key));
    return m ? (int)((unsigned)__builtin_ctz(m) >> 1) : -1;
#else
    for (int w = 0; w < 8; w++)
        if (t[w] == key)
            return w;
    return -1;
#endif
}

CACHE_INLINE int cache_find16(const uint64_t *t, uint64_t key)
{
#if defined(__SSE2__)
    __m128i k = _mm_set1_epi64x((long long)key);
    unsigned m = cache_match8x(t, k) | cache_match8x(t + 8, k) << 16;
    return m ? (int)((unsigned)__builtin_ctz(m) >> 1) : -1;
#else
    for (int w = 0; w < 16; w++)
        if (t[w] == key)
            return w;
    return -1;
#endif
}

/* The way holding key, or -1. No state changes.
 * Every tag of the set is compared, without an early exit: the way that hits is random, and a
 * loop that stops there mispredicts its exit on nearly every lookup, which costs more than the
 * compares it saves. Eight tags per step; SSE2 compares two at a time. */
static inline int cache_find(const cache *c, uint64_t key)
{
    const uint64_t *tags = cache_set_block(c, cache_set_of(c, key));
    if (c->kind == CACHE_KIND_LRU16)
        return cache_find16(tags, key);
    if (c->kind == CACHE_KIND_LRU8)
        return cache_find8(tags, key);
    unsigned w = 0;
#if defined(__SSE2__)
    const __m128i k = _mm_set1_epi64x((long long)key);
    for (; w + 8 <= c->ways; w += 8) {
        unsigned m = 0;
        for (unsigned j = 0; j < 8; j += 2) {
            __m128i eq = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(tags + w + j)), k);
            /* a 64-bit lane matches when both of its 32-bit halves do */
            eq = _mm_and_si128(eq, _mm_shuffle_epi32(eq, _MM_SHUFFLE(2, 3, 0, 1)));
            m |= (unsigned)_mm_movemask_pd(_mm_castsi128_pd(eq)) << j;
        }
        if (m)
            return (int)(w + (unsigned)__builtin_ctz(m));
    }
#endif
    for (; w < c->ways; w++)
        if (tags[w] == key)
            return (int)w;
    return -1;
}

void cache_plru_touch(uint64_t *bits, unsigned ways, unsigned way);

/* LRU ranks of 8 ways in one word: the way at `way` becomes most recent, the ranks below its
 * rank move one up (bytes stay below 128, so adding 0x80 - r sets a byte's top bit iff its rank
 * is at least r). */
CACHE_INLINE uint64_t cache_rank8_touch(uint64_t rw, unsigned way)
{
    unsigned r = (unsigned)(rw >> (8 * way)) & 0xffu;
    rw += (~(rw + CACHE_BYTES(0x80u - r)) & CACHE_BYTES(0x80u)) >> 7;
    return rw & ~((uint64_t)0xff << (8 * way));
}

/* The least recent of 8 ways (rank 7). */
CACHE_INLINE unsigned cache_rank8_victim(uint64_t rw)
{
    uint64_t y = rw ^ CACHE_BYTES(7u);
    uint64_t zero = ~((y + CACHE_BYTES(0x7fu)) | y) & CACHE_BYTES(0x80u);
    return (unsigned)__builtin_ctzll(zero) / 8;
}

/* The same over 16 ways in two words (SSE2: one register). */
CACHE_INLINE void cache_rank16_touch(uint64_t *rw, unsigned way)
{
#if defined(__SSE2__)
    __m128i r = _mm_loadu_si128((const __m128i *)rw);
    __m128i x = _mm_set1_epi8((char)((const uint8_t *)rw)[way]);
    r = _mm_sub_epi8(r, _mm_cmplt_epi8(r, x)); /* -1 where the rank is below x */
    __m128i idx = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    r = _mm_andnot_si128(_mm_cmpeq_epi8(idx, _mm_set1_epi8((char)way)), r);
    _mm_storeu_si128((__m128i *)rw, r);
#else
    unsigned r = ((const uint8_t *)rw)[way];
    uint64_t add = CACHE_BYTES(0x80u - r);
    rw[0] += (~(rw[0] + add) & CACHE_BYTES(0x80u)) >> 7;
    rw[1] += (~(rw[1] + add) & CACHE_BYTES(0x80u)) >> 7;
    ((uint8_t *)rw)[way] = 0;
#endif
}

/* Evict the least recent of 16 ways (rank 15) and make it the most recent: every rank moves one
 * up and 15 wraps to 0. Returns that way. */
CACHE_INLINE unsigned cache_rank16_cycle(uint64_t *rw)
{
#if defined(__SSE2__)
    __m128i r = _mm_loadu_si128((const __m128i *)rw);
    unsigned way = (unsigned)__builtin_ctz(
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(r, _mm_set1_epi8(15))));
    r = _mm_and_si128(_mm_add_epi8(r, _mm_set1_epi8(1)), _mm_set1_epi8(15));
    _mm_storeu_si128((__m128i *)rw, r);
    return way;
#else
    unsigned way = 0;
    for (unsigned i = 0; i < 2; i++) {
        uint64_t y = rw[i] ^ CACHE_BYTES(15u);
        uint64_t zero = ~((y + CACHE_BYTES(0x7fu)) | y) & CACHE_BYTES(0x80u);
        if (zero)
            way = i * 8 + (unsigned)__builtin_ctzll(zero) / 8;
    }
    rw[0] = (rw[0] + CACHE_BYTES(1)) & CACHE_BYTES(15u);
    rw[1] = (rw[1] + CACHE_BYTES(1)) & CACHE_BYTES(15u);
    return way;
#endif
}

/* Promote a hit way in the replacement order. */
static inline void cache_touch(cache *c, uint64_t set, unsigned way)
{
    uint64_t *blk = cache_set_block(c, set);
    switch (c->repl) {
    case REPL_LRU:
        if (c->kind == CACHE_KIND_LRU16) {
            cache_rank16_touch(blk + 16, way);
        } else if (c->kind == CACHE_KIND_LRU8) {
            blk[8] = cache_rank8_touch(blk[8], way);
        } else if (c->lru_ranks) {
            uint64_t *rw = blk + c->ways;
            unsigned r = ((const uint8_t *)rw)[way];
            /* every rank below r moves one up; ranks are < 128 so a byte never carries */
            uint64_t add = CACHE_BYTES(0x80u - r);
            for (unsigned i = 0; i < c->rank_words; i++) {
                uint64_t m = i + 1 == c->rank_words ? c->rank_tail : UINT64_MAX;
                rw[i] += ((~(rw[i] + add) & CACHE_BYTES(0x80u)) & m) >> 7;
            }
            ((uint8_t *)rw)[way] = 0;
        } else {
            blk[c->ways + way] = ++c->clock;
        }
        break;
    case REPL_PLRU:
        cache_plru_touch(blk + c->ways, c->ways, way);
        break;
    case REPL_RANDOM:
        break;
    case REPL_SRRIP:
    case REPL_BRRIP:
    case REPL_DRRIP:
        /* hit priority: a re-referenced line is predicted to be re-referenced soon */
        ((uint8_t *)(blk + c->ways))[way] = 0;
        break;
    }
}

/* A reference: the way holding key (its replacement state promoted), or -1 on a miss. */
static inline int cache_lookup(cache *c, uint64_t key)
{
    if (key == c->memo_key)
        return (int)c->memo_way;
    int w = cache_find(c, key);
    if (w >= 0) {
        cache_touch(c, cache_set_of(c, key), (unsigned)w);
        c->memo_key = key;
        c->memo_way = (unsigned)w;
    }
    return w;
}

/* Ask the host to bring key's set block in: issued early, it overlaps the host cache misses
 * of several levels instead of taking them one after another. */
static inline void cache_prefetch(const cache *c, uint64_t key)
{
    const uint64_t *blk = cache_set_block(c, cache_set_of(c, key));
    unsigned n = c->stride < 32 ? c->stride : 32;
    for (unsigned i = 0; i < n; i += 8)
        __builtin_prefetch(blk + i);
}

static inline void cache_mark_dirty(cache *c, uint64_t key, unsigned way)
{
    uint64_t *d = cache_set_block(c, cache_set_of(c, key)) + c->dirty_off;
    d[way >> 6] |= (uint64_t)1 << (way & 63);
}

/* Clears the dirty bit of key's line if it is present: returns 1 when it was dirty. */
static inline int cache_clear_dirty(cache *c, uint64_t key)
{
    int w = cache_find(c, key);
    if (w < 0)
        return 0;
    uint64_t *d = cache_set_block(c, cache_set_of(c, key)) + c->dirty_off + ((unsigned)w >> 6);
    uint64_t bit = (uint64_t)1 << ((unsigned)w & 63);
    int was = (*d & bit) != 0;
    *d &= ~bit;
    return was;
}

static inline int cache_is_dirty(const cache *c, uint64_t key, unsigned way)
{
    const uint64_t *d = cache_set_block(c, cache_set_of(c, key)) + c->dirty_off;
    return (int)((d[way >> 6] >> (way & 63)) & 1);
}

unsigned cache_fill_general(cache *c, uint64_t key, int dirty, struct cache_victim *victim);

/* Install key (which must not be present) as the policy inserts a new line; returns its way and
 * describes the displaced line in *victim. A miss in a DRRIP leader set moves the selector. */
CACHE_INLINE unsigned cache_fill(cache *c, uint64_t key, int dirty, struct cache_victim *victim)
{
    if (!c->lru_ranks || c->valid < c->entries)
        return cache_fill_general(c, key, dirty, victim);
    if (c->kind != CACHE_KIND_GENERAL) {
        uint64_t *blk = cache_set_block(c, cache_set_of(c, key));
        unsigned way;
        uint64_t *dw;
        if (c->kind == CACHE_KIND_LRU16) {
            way = cache_rank16_cycle(blk + 16);
            dw = blk + 18;
        } else {
            way = cache_rank8_victim(blk[8]);
            blk[8] = (blk[8] + CACHE_BYTES(1)) & CACHE_BYTES(7u); /* 7 wraps to 0 */
            dw = blk + 9;
        }
        uint64_t bit = (uint64_t)1 << way;
        victim->key = blk[way];
        victim->dirty = (*dw & bit) != 0;
        blk[way] = key;
        *dw = (*dw & ~bit) | ((uint64_t)(dirty != 0) << way);
        c->memo_key = key;
        c->memo_way = way;
        return way;
    }
    /* the common case inline: LRU over a full cache. The victim has rank ways-1, so promoting
     * the new line to rank 0 moves every other rank up by one: no comparisons needed. */
    uint64_t *blk = cache_set_block(c, cache_set_of(c, key));
    uint64_t *rw = blk + c->ways, *dbits = blk + c->dirty_off;
    uint64_t want = CACHE_BYTES(c->ways - 1);
    unsigned way = 0;
    for (unsigned i = 0; i < c->rank_words; i++) {
        uint64_t y = rw[i] ^ want; /* zero byte where the rank matches; bytes stay < 128 */
        uint64_t zero = ~((y + CACHE_BYTES(0x7fu)) | y) & CACHE_BYTES(0x80u) &
                        (i + 1 == c->rank_words ? c->rank_tail : UINT64_MAX);
        if (zero) {
            way = i * 8 + (unsigned)__builtin_ctzll(zero) / 8;
            break;
        }
    }
    uint64_t bit = (uint64_t)1 << (way & 63), *dw = dbits + (way >> 6);
    victim->key = blk[way];
    victim->dirty = (*dw & bit) != 0;
    if (victim->key == c->memo_key)
        c->memo_key = CACHE_KEY_INVALID;
    blk[way] = key;
    *dw = dirty ? *dw | bit : *dw & ~bit;
    for (unsigned i = 0; i < c->rank_words; i++)
        rw[i] += CACHE_BYTES(1) & (i + 1 == c->rank_words ? c->rank_tail : UINT64_MAX);
    ((uint8_t *)rw)[way] = 0;
    c->memo_key = key;
    c->memo_way = way;
    return way;
}

/* m ? a : b without a branch (the compiler turns `?:` on a coin toss into one). */
CACHE_INLINE unsigned cache_select(unsigned m, unsigned a, unsigned b)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__("test %1, %1\n\tcmovne %2, %0" : "+r"(b) : "r"(m), "r"(a) : "cc");
    return b;
#else
    unsigned all = 0u - (unsigned)(m != 0);
    return (a & all) | (b & ~all);
#endif
}

/* Tables for the 16-way access: every byte i (bcast[i]); 0xff at byte i only (onehot[i]). */
extern const uint8_t cache_bytes_bcast[16][16], cache_bytes_onehot[16][16];

/* The tail shared by both shapes: the tag and dirty bit of `way` (a hit if `hit`). */
CACHE_INLINE void cache_access_tail(cache *c, uint64_t *blk, uint64_t *dw, unsigned way,
                                    uint64_t hit, uint64_t key, unsigned dirty, uint64_t *vkey,
                                    unsigned *vdirty)
{
    uint64_t old = blk[way], d = *dw;
    blk[way] = key; /* a hit rewrites its own key */
    *vkey = old | (0 - hit); /* CACHE_KEY_INVALID on a hit */
    *vdirty = (unsigned)((d >> way) & (hit ^ 1));
    /* a miss clears the way's dirty bit first; a store sets it */
    *dw = (d & ~(((uint64_t)1 << way) & (hit - 1))) | ((uint64_t)dirty << way);
    c->memo_key = key;
    c->memo_way = way;
}

/* cache_access for CACHE_KIND_LRU16 over a full cache, without a branch on the outcome: a hit
 * and a miss are one computation. The way is the matching one, or else the least recent (rank
 * 15); every rank below that way's rank moves one up and the way becomes rank 0 (for the least
 * recent way: every rank moves up and 15 wraps to 0, the fill's update); the tag is written
 * either way. The victim key is CACHE_KEY_INVALID on a hit. */
CACHE_INLINE int cache_access_lru16(cache *c, uint64_t key, unsigned dirty, uint64_t *vkey,
                                    unsigned *vdirty)
{
    uint64_t *blk = c->data + (key & c->set_mask) * 24;
#if defined(__SSE2__)
    __m128i k = _mm_set1_epi64x((long long)key);
    unsigned m = cache_match8x(blk, k) | cache_match8x(blk + 8, k) << 16;
    __m128i r = _mm_loadu_si128((const __m128i *)(blk + 16));
    unsigned lru = (unsigned)__builtin_ctz(
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(r, _mm_set1_epi8(15))));
    unsigned way = cache_select(m, (unsigned)__builtin_ctz(m | 0x80000000u) >> 1, lru);
    __m128i x = _mm_loadu_si128((const __m128i *)cache_bytes_bcast[((const uint8_t *)(blk + 16))[way]]);
    r = _mm_sub_epi8(r, _mm_cmpgt_epi8(x, r)); /* ranks below x move up */
    r = _mm_andnot_si128(_mm_loadu_si128((const __m128i *)cache_bytes_onehot[way]), r);
    _mm_storeu_si128((__m128i *)(blk + 16), r);
#else
    int w = cache_find16(blk, key);
    unsigned m = w >= 0;
    unsigned way = m ? (unsigned)w : cache_rank16_cycle(blk + 16);
    if (m)
        cache_rank16_touch(blk + 16, way);
#endif
    uint64_t hit = m != 0;
    cache_access_tail(c, blk, blk + 18, way, hit, key, dirty, vkey, vdirty);
    return (int)hit;
}

/* The same for CACHE_KIND_LRU8 (ranks in one word). */
CACHE_INLINE int cache_access_lru8(cache *c, uint64_t key, unsigned dirty, uint64_t *vkey,
                                   unsigned *vdirty)
{
    uint64_t *blk = c->data + (key & c->set_mask) * 16;
#if defined(__SSE2__)
    unsigned m = cache_match8x(blk, _mm_set1_epi64x((long long)key));
    __m128i r = _mm_loadl_epi64((const __m128i *)(blk + 8));
    unsigned lru = (unsigned)__builtin_ctz(
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(r, _mm_set1_epi8(7))) | 0x100u);
    unsigned way = cache_select(m, (unsigned)__builtin_ctz(m | 0x10000u) >> 1, lru);
    __m128i x = _mm_loadu_si128((const __m128i *)cache_bytes_bcast[((const uint8_t *)(blk + 8))[way]]);
    r = _mm_sub_epi8(r, _mm_cmpgt_epi8(x, r)); /* ranks below x move up */
    r = _mm_andnot_si128(_mm_loadu_si128((const __m128i *)cache_bytes_onehot[way]), r);
    _mm_storel_epi64((__m128i *)(blk + 8), r);
#else
    int w = cache_find8(blk, key);
    unsigned m = w >= 0;
    unsigned way = m ? (unsigned)w : cache_rank8_victim(blk[8]);
    blk[8] = cache_rank8_touch(blk[8], way); /* the least recent (rank 7): every rank moves up */
#endif
    uint64_t hit = m != 0;
    cache_access_tail(c, blk, blk + 9, way, hit, key, dirty, vkey, vdirty);
    return (int)hit;
}

int cache_access_general(cache *c, uint64_t key, int dirty, struct cache_victim *victim);

CACHE_INLINE int cache_access(cache *c, uint64_t key, int dirty, struct cache_victim *victim)
{
    unsigned vd;
    int hit;
    if (c->full_kind == CACHE_KIND_LRU16)
        hit = cache_access_lru16(c, key, dirty != 0, &victim->key, &vd);
    else if (c->full_kind == CACHE_KIND_LRU8)
        hit = cache_access_lru8(c, key, dirty != 0, &victim->key, &vd);
    else
        return cache_access_general(c, key, dirty, victim);
    victim->dirty = (int)vd;
    return hit;
}

/* Remove key if present: returns 1 and its dirty bit in *dirty (may be NULL), else 0. */
int cache_invalidate(cache *c, uint64_t key, int *dirty);

/* Called for each line a flush or a range invalidation removes. */
typedef void (*cache_drop_fn)(void *ctx, uint64_t key, int dirty);

/* Call fn (may be NULL) for every valid line, then empty the cache. */
void cache_flush(cache *c, cache_drop_fn fn, void *ctx);

/* Remove every key in [first, last], calling fn (may be NULL) for each removed line. Probes key by
 * key or scans the whole cache, whichever is fewer steps (a TLB shootdown of a huge range). */
void cache_invalidate_range(cache *c, uint64_t first, uint64_t last, cache_drop_fn fn, void *ctx);

/* Introspection for tests and reports. */
uint64_t cache_valid_count(const cache *c);
unsigned cache_drrip_psel(const cache *c);
/* The key held by (set, way): returns 1 and sets *key if the way is valid, else 0. */
int cache_key_at(const cache *c, uint64_t set, unsigned way, uint64_t *key);

#endif
