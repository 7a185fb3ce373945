/* Stack distances and miss-ratio curves: see mrc.h for the method.
 *
 * reuse_stack: an open-addressing hash map (linear probing, 12-byte slots, load at most 3/4)
 * from key to the time of the key's last reference; over times 0..cap-1 a bitmap with a 1 at
 * every time that is some key's last reference ("mark"), and a Fenwick tree of mark counts per
 * 512-time block (a block of the bitmap is one 64-byte cache line). A reference to a key last
 * referenced at t has distance (marks at times >= t) = count - (marks before t); then t is
 * cleared and the next time is marked. When the times run out the marks are renumbered 0..count-1
 * in order (each key's new time is its rank), the bitmap and tree are rebuilt in O(cap), and cap
 * becomes about four times the keys. Bounded stacks (reuse_set_limit) also keep owner[time] = slot to
 * find the least recent key.
 *
 * mrc, exact mode: distances are counted per distance (grid_points 0) or per interval of the
 * report grid (exact at its sizes).
 *
 * Sampled mode (SHARDS) records, for a tracked reference at rate R with sampled distance d, the
 * weight 1/R at the estimated distance 1 + (d - 1)/R: the key itself is always in its own sample,
 * each of the d - 1 others stands for 1/R keys (the paper scales d/R; this estimator is the same
 * for large d and does not turn an immediate re-reference into a miss of a 1/R-entry cache).
 * Weights go into log-linear buckets (models/common/hist.h layout: exact below 256, 1/128
 * relative width above). SHARDS_adj divides by the number of references the sample stands for in
 * expectation (the trace's references), which is the paper's "add E[Ns] - Ns to the first
 * bucket"; without it, by the sampled weight. In fixed-size mode every weight uses the rate at the
 * time of its reference.
 *
 * SHARDS cannot tell distances apart below about 1/R entries (at R = 0.01 that is an L1 cache),
 * so sampled mode can also keep a bounded exact stack (exact_below = K entries, every key, O(K)
 * memory): it gives the exact distance of every reference up to K, hence exact misses for every
 * size up to K, and counts exactly the references deeper than K ("beyond"). Sampled references
 * the small stack held are not weighted again. For a size C > K the estimate is the sampled
 * weight of the beyond references deeper than C, with SHARDS_adj: the difference between the
 * exact beyond count and its sampled weight goes to the shallowest deep bucket (K + 1), the
 * paper's correction moved past the exact part; or, without it, beyond times the sampled share
 * of those deeper than C. A sampled reference the small stack missed is known to be deeper than
 * K, so its estimated distance is raised to K + 1 at least. */
#include "sim/mrc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "models/common/bits.h"
#include "models/common/hist.h"
#include "models/common/xalloc.h"

/* ---------- reuse_stack ---------- */

#define RU_EMPTY UINT64_MAX
#define RU_FREE UINT32_MAX
#define RU_BLOCK_SHIFT 9u /* times per Fenwick leaf: 512 bits, 8 words, one cache line */
#define RU_BLOCK (1u << RU_BLOCK_SHIFT)
#define RU_MIN_CAP 4096u
#define ALWAYS_INLINE inline __attribute__((always_inline))

/* The per-reference path is compiled twice on x86-64, with and without the popcnt instruction,
 * and the loader picks one (GCC function multiversioning). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MRC_HOT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define MRC_HOT_CLONES
#endif
#define RU_MAX_KEYS (1u << 30)

struct ru_slot { /* 12 bytes: the key split so that no padding is needed */
    uint32_t klo, khi;
    uint32_t time;
};

struct reuse_stack {
    struct ru_slot *slots;
    uint64_t mask;   /* slots - 1 */
    uint64_t count;  /* keys held (= marks) */
    uint64_t *bits;  /* cap bits */
    uint32_t *fen;   /* Fenwick tree over blocks, 1-based: nblocks + 1 entries */
    uint32_t nblocks;
    uint32_t cap;    /* a multiple of RU_BLOCK */
    uint32_t now;    /* next time to hand out */
    uint32_t *owner; /* bounded stacks: time -> slot (RU_FREE if unmarked) */
    uint32_t oldest; /* bounded stacks: no mark below it */
    uint64_t limit, evicted;
    uint64_t last; /* the most recent key (RU_EMPTY if none): its next reference has distance 1
                      and changes nothing, so it needs no lookup */
};

static inline uint64_t slot_key(const struct ru_slot *s)
{
    return (uint64_t)s->khi << 32 | s->klo;
}

static inline void slot_set_key(struct ru_slot *s, uint64_t key)
{
    s->klo = (uint32_t)key;
    s->khi = (uint32_t)(key >> 32);
}

/* __builtin_popcountll is one instruction in the popcnt clone of mrc_ref_batch (below) and a
 * libgcc call elsewhere. */
static ALWAYS_INLINE unsigned pop64(uint64_t x)
{
    return (unsigned)__builtin_popcountll(x);
}

/* Marks at times before t. */
static ALWAYS_INLINE uint32_t ru_rank(const reuse_stack *r, uint32_t t)
{
    uint32_t b = t >> RU_BLOCK_SHIFT, s = 0;
    for (uint32_t i = b; i; i &= i - 1)
        s += r->fen[i];
    const uint64_t *w = r->bits + ((size_t)b << (RU_BLOCK_SHIFT - 6));
    unsigned wi = (t >> 6) & ((RU_BLOCK >> 6) - 1);
    for (unsigned i = 0; i < wi; i++)
        s += pop64(w[i]);
    return s + pop64(w[wi] & ((UINT64_C(1) << (t & 63)) - 1));
}

static ALWAYS_INLINE void ru_mark(reuse_stack *r, uint32_t t)
{
    r->bits[t >> 6] |= UINT64_C(1) << (t & 63);
    for (uint32_t i = (t >> RU_BLOCK_SHIFT) + 1; i <= r->nblocks; i += i & (0u - i))
        r->fen[i]++;
}

static ALWAYS_INLINE void ru_unmark(reuse_stack *r, uint32_t t)
{
    r->bits[t >> 6] &= ~(UINT64_C(1) << (t & 63));
    for (uint32_t i = (t >> RU_BLOCK_SHIFT) + 1; i <= r->nblocks; i += i & (0u - i))
        r->fen[i]--;
}

/* Large tables are looked up at random: ask for transparent huge pages, so that a lookup is not
 * also a TLB miss (a page walk). Freed with free(). */
static void *big_alloc(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    if (n < 2 * huge)
        return xmalloc(n);
    void *p = NULL;
    size_t rounded = (n + huge - 1) / huge * huge;
    if (posix_memalign(&p, huge, rounded)) {
        fprintf(stderr, "mmusim: out of memory (asked for %zu bytes)\n", rounded);
        exit(71);
    }
#ifdef MADV_HUGEPAGE
    madvise(p, rounded, MADV_HUGEPAGE); /* advice only: fine if refused */
#endif
    return p;
}

static void ru_alloc_slots(reuse_stack *r, uint64_t n)
{
    r->slots = big_alloc(n * sizeof *r->slots);
    memset(r->slots, 0xff, n * sizeof *r->slots); /* every key RU_EMPTY */
    r->mask = n - 1;
}

/* Sizes the time axis for cap times with marks at 0..live-1. */
static void ru_rebuild_times(reuse_stack *r, uint32_t cap, uint32_t live)
{
    if (cap != r->cap || !r->bits) {
        free(r->bits);
        free(r->fen);
        r->bits = big_alloc(((size_t)cap / 64) * sizeof *r->bits);
        r->nblocks = cap / RU_BLOCK;
        r->fen = xmalloc(((size_t)r->nblocks + 1) * sizeof *r->fen);
        if (r->limit) {
            free(r->owner);
            r->owner = xmalloc((size_t)cap * sizeof *r->owner);
        }
        r->cap = cap;
    }
    size_t words = cap / 64;
    for (size_t i = 0; i < words; i++) {
        uint64_t lo = (uint64_t)i * 64;
        r->bits[i] = live >= lo + 64 ? UINT64_MAX
                     : live > lo    ? (UINT64_C(1) << (live - lo)) - 1
                                    : 0;
    }
    r->fen[0] = 0;
    for (uint32_t i = 1; i <= r->nblocks; i++) {
        /* node i covers blocks i - lowbit(i) .. i - 1 (0-based): times [lo, hi) */
        uint64_t lo = (uint64_t)(i - (i & (0u - i))) * RU_BLOCK, hi = (uint64_t)i * RU_BLOCK;
        uint64_t a = lo < live ? lo : live, b = hi < live ? hi : live;
        r->fen[i] = (uint32_t)(b - a);
    }
    r->now = live;
    r->oldest = 0;
}

reuse_stack *reuse_create(void)
{
    reuse_stack *r = xcalloc(1, sizeof *r);
    ru_alloc_slots(r, 1024);
    ru_rebuild_times(r, RU_MIN_CAP, 0);
    r->last = RU_EMPTY;
    return r;
}

void reuse_set_limit(reuse_stack *r, uint64_t limit)
{
    /* before the first access: the owner array is kept from now on */
    r->limit = limit;
    free(r->owner);
    r->owner = NULL;
    if (limit) {
        r->owner = xmalloc((size_t)r->cap * sizeof *r->owner);
        for (uint32_t t = 0; t < r->cap; t++)
            r->owner[t] = RU_FREE;
    }
}

void reuse_destroy(reuse_stack *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r->bits);
    free(r->fen);
    free(r->owner);
    free(r);
}

uint64_t reuse_count(const reuse_stack *r)
{
    return r->count;
}

uint64_t reuse_evictions(const reuse_stack *r)
{
    return r->evicted;
}

size_t reuse_bytes(const reuse_stack *r)
{
    return sizeof *r + (size_t)(r->mask + 1) * sizeof *r->slots + (size_t)r->cap / 8 +
           ((size_t)r->nblocks + 1) * sizeof *r->fen + (r->owner ? (size_t)r->cap * sizeof *r->owner : 0);
}

static void ru_grow_table(reuse_stack *r)
{
    uint64_t oldn = r->mask + 1;
    struct ru_slot *old = r->slots;
    ru_alloc_slots(r, oldn * 2);
    for (uint64_t i = 0; i < oldn; i++) {
        uint64_t key = slot_key(&old[i]);
        if (key == RU_EMPTY)
            continue;
        uint64_t j = mix64(key) & r->mask;
        while (slot_key(&r->slots[j]) != RU_EMPTY)
            j = (j + 1) & r->mask;
        r->slots[j] = old[i];
        if (r->owner)
            r->owner[old[i].time] = (uint32_t)j;
    }
    free(old);
}

/* The times ran out: every key's new time is its rank, so the marks become 0..count-1. */
MRC_HOT_CLONES static void ru_compact(reuse_stack *r)
{
    if (r->count >= RU_MAX_KEYS) {
        fprintf(stderr, "mmusim: more than %u distinct keys in one reuse stack\n", RU_MAX_KEYS);
        abort();
    }
    /* the tree becomes plain prefix counts per block (fen[b] = marks before block b), so a
     * rank costs no tree walk; it is rebuilt below */
    const unsigned wpb = RU_BLOCK / 64;
    uint32_t sum = 0;
    for (uint32_t b = 0; b < r->nblocks; b++) {
        r->fen[b] = sum;
        for (unsigned i = 0; i < wpb; i++)
            sum += pop64(r->bits[(size_t)b * wpb + i]);
    }
    for (uint64_t j = 0; j <= r->mask; j++) {
        if (slot_key(&r->slots[j]) == RU_EMPTY)
            continue;
        uint32_t t = r->slots[j].time, b = t >> RU_BLOCK_SHIFT, rank = r->fen[b];
        const uint64_t *w = r->bits + (size_t)b * wpb;
        unsigned wi = (t >> 6) & (wpb - 1);
        for (unsigned i = 0; i < wi; i++)
            rank += pop64(w[i]);
        r->slots[j].time = rank + pop64(w[wi] & ((UINT64_C(1) << (t & 63)) - 1));
    }
    /* a bit per time is cheap: compact rarely */
    uint64_t want = (r->limit ? 16 * r->limit : 4 * r->count) + RU_MIN_CAP;
    uint32_t cap = (uint32_t)((want + RU_BLOCK - 1) / RU_BLOCK * RU_BLOCK);
    ru_rebuild_times(r, cap, (uint32_t)r->count);
    if (r->owner) {
        for (uint32_t t = 0; t < r->cap; t++)
            r->owner[t] = RU_FREE;
        for (uint64_t j = 0; j <= r->mask; j++)
            if (slot_key(&r->slots[j]) != RU_EMPTY)
                r->owner[r->slots[j].time] = (uint32_t)j;
    }
}

static void ru_evict_oldest(reuse_stack *r);
static void ru_remove_slot(reuse_stack *r, uint64_t i);

static ALWAYS_INLINE uint64_t ru_access_h(reuse_stack *r, uint64_t key, uint64_t h)
{
    if (key == r->last)
        return 1;
    r->last = key;
    if (__builtin_expect((r->count + 1) * 4 > (r->mask + 1) * 3, 0))
        ru_grow_table(r);
    if (__builtin_expect(r->now == r->cap, 0))
        ru_compact(r);
    uint64_t j = h & r->mask;
    uint64_t d;
    for (;;) {
        struct ru_slot *s = &r->slots[j];
        uint64_t k = slot_key(s);
        if (k == key) {
            uint32_t t = s->time;
            d = r->count - ru_rank(r, t);
            ru_unmark(r, t);
            if (r->owner)
                r->owner[t] = RU_FREE;
            break;
        }
        if (k == RU_EMPTY) {
            slot_set_key(s, key);
            r->count++;
            d = MRC_COLD;
            break;
        }
        j = (j + 1) & r->mask;
    }
    uint32_t t = r->now++;
    r->slots[j].time = t;
    ru_mark(r, t);
    if (r->owner) {
        r->owner[t] = (uint32_t)j;
        if (r->count > r->limit)
            ru_evict_oldest(r);
    }
    return d;
}

static inline void ru_prefetch(const reuse_stack *r, uint64_t h)
{
    __builtin_prefetch(&r->slots[h & r->mask]);
}

/* Second stage: the slot is (likely) in cache; fetch the bitmap line of its time. */
static inline void ru_prefetch_time(const reuse_stack *r, uint64_t key, uint64_t h)
{
    const struct ru_slot *s = &r->slots[h & r->mask];
    if (slot_key(s) == key && s->time < r->cap)
        __builtin_prefetch(&r->bits[s->time >> 6]);
}

uint64_t reuse_access(reuse_stack *r, uint64_t key)
{
    return ru_access_h(r, key, mix64(key));
}

/* Empties slot i (a key's): unmark its time, then backward-shift deletion: pull later entries of
 * the probe run into the hole when their home slot does not lie cyclically in (hole, their slot]. */
static void ru_remove_slot(reuse_stack *r, uint64_t i)
{
    if (slot_key(&r->slots[i]) == r->last)
        r->last = RU_EMPTY;
    uint32_t t = r->slots[i].time;
    ru_unmark(r, t);
    if (r->owner)
        r->owner[t] = RU_FREE;
    r->count--;
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & r->mask;
        uint64_t k = slot_key(&r->slots[j]);
        if (k == RU_EMPTY)
            break;
        uint64_t home = mix64(k) & r->mask;
        int stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        r->slots[i] = r->slots[j];
        if (r->owner)
            r->owner[r->slots[i].time] = (uint32_t)i;
        i = j;
    }
    slot_set_key(&r->slots[i], RU_EMPTY);
}

void reuse_remove(reuse_stack *r, uint64_t key)
{
    uint64_t i = mix64(key) & r->mask;
    while (slot_key(&r->slots[i]) != key) {
        if (slot_key(&r->slots[i]) == RU_EMPTY)
            return;
        i = (i + 1) & r->mask;
    }
    ru_remove_slot(r, i);
}

/* Bounded stacks: drop the least recently referenced key. */
static void ru_evict_oldest(reuse_stack *r)
{
    for (;;) {
        uint64_t w = r->bits[r->oldest >> 6] >> (r->oldest & 63);
        if (w) {
            r->oldest += (uint32_t)__builtin_ctzll(w);
            break;
        }
        r->oldest = (r->oldest | 63) + 1;
    }
    ru_remove_slot(r, r->owner[r->oldest]);
    r->evicted++;
}

/* ---------- mrc ---------- */

struct heap_ent {
    uint64_t key;
    uint32_t hv; /* SHARDS hash value, 0..P-1 */
};

struct mrc {
    struct mrc_params p;
    reuse_stack *rs;
    int sampled;
    uint32_t threshold; /* keep a key iff its hash value < threshold */
    double weight;      /* 1/R */
    uint64_t refs, sampled_refs;
    int finished;
    /* exact counts (exact mode, and the small stack of sampled mode): counts[i] references at
     * distance i, or, with a grid, at a distance in (grid[i-1], grid[i]]; after finish, the
     * cumulative sums */
    uint64_t *counts;
    size_t ncounts;
    uint64_t *grid; /* ngrid sizes, ascending, the last one 2^63 */
    size_t ngrid;
    uint64_t cold;
    uint64_t maxd;
    /* sampled */
    double *w;       /* HIST_BUCKETS weights by estimated distance */
    double cold_w, sum_w;
    struct heap_ent *heap; /* fixed size: max-heap of tracked keys by hash value */
    size_t nheap;
    reuse_stack *small; /* exact_below > 0: every key, at most exact_below of them */
    uint64_t beyond;    /* references the small stack did not hold (deeper, or first) */
};

void mrc_params_default(struct mrc_params *p)
{
    memset(p, 0, sizeof *p);
    p->rate = 1.0;
    p->adjust = 1;
}

mrc *mrc_create(const struct mrc_params *p, mm_err *err)
{
    double rate = p->rate == 0 ? 1.0 : p->rate;
    if (!(rate > 0 && rate <= 1.0)) {
        mm_errf(err, "sampling rate %g: expected a number in (0, 1]", p->rate);
        return NULL;
    }
    uint32_t threshold = (uint32_t)llround(rate * MRC_SHARDS_P);
    if (threshold == 0) {
        mm_errf(err, "sampling rate %g: expected at least 1/%u", p->rate, MRC_SHARDS_P);
        return NULL;
    }
    int sampled = threshold < MRC_SHARDS_P || p->smax > 0;
    if (sampled && p->count_accesses) {
        mm_errf(err, "counting accesses (one reference per access) needs exact mode, not sampling");
        return NULL;
    }
    if (p->smax > RU_MAX_KEYS || p->exact_below > RU_MAX_KEYS) {
        mm_errf(err, "smax %llu / exact_below %llu: expected at most %u keys",
                (unsigned long long)p->smax, (unsigned long long)p->exact_below, RU_MAX_KEYS);
        return NULL;
    }
    if (p->grid_points > 256) {
        mm_errf(err, "grid points %u: expected at most 256 per power of two", p->grid_points);
        return NULL;
    }
    mrc *m = xcalloc(1, sizeof *m);
    m->p = *p;
    m->p.rate = rate;
    m->rs = reuse_create();
    m->sampled = sampled;
    m->threshold = threshold;
    m->weight = (double)MRC_SHARDS_P / (double)threshold;
    if (sampled) {
        m->w = xcalloc(HIST_BUCKETS, sizeof *m->w);
        if (p->smax)
            m->heap = xmalloc(((size_t)p->smax + 2) * sizeof *m->heap);
        if (p->exact_below) {
            m->small = reuse_create();
            reuse_set_limit(m->small, p->exact_below);
            m->ncounts = (size_t)p->exact_below + 1;
            m->counts = xcalloc(m->ncounts, sizeof *m->counts);
        }
    } else if (p->grid_points) {
        size_t cap = 16 + 59 * (size_t)p->grid_points + 1;
        m->grid = xmalloc(cap * sizeof *m->grid);
        m->ngrid = mrc_grid(UINT64_C(1) << 63, p->grid_points, m->grid, cap);
        m->ncounts = m->ngrid;
        m->counts = xcalloc(m->ncounts, sizeof *m->counts);
    } else {
        m->ncounts = 1024;
        m->counts = xcalloc(m->ncounts, sizeof *m->counts);
    }
    return m;
}

void mrc_destroy(mrc *m)
{
    if (!m)
        return;
    reuse_destroy(m->rs);
    reuse_destroy(m->small);
    free(m->counts);
    free(m->grid);
    free(m->w);
    free(m->heap);
    free(m);
}

/* Index of the first grid size >= d. */
static ALWAYS_INLINE size_t grid_index(const mrc *m, uint64_t d)
{
    if (d <= 16)
        return (size_t)d - 1; /* the grid starts 1, 2, .., 16 */
    size_t lo = 16, hi = m->ngrid - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->grid[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static ALWAYS_INLINE void exact_record(mrc *m, uint64_t d)
{
    if (d == MRC_COLD) {
        m->cold++;
        return;
    }
    if (d > m->maxd)
        m->maxd = d;
    if (m->grid) {
        m->counts[grid_index(m, d)]++;
        return;
    }
    if (__builtin_expect(d >= m->ncounts, 0)) {
        size_t n = m->ncounts;
        while (n <= d)
            n *= 2;
        m->counts = xrealloc(m->counts, n * sizeof *m->counts);
        memset(m->counts + m->ncounts, 0, (n - m->ncounts) * sizeof *m->counts);
        m->ncounts = n;
    }
    m->counts[d]++;
}

static void heap_push(mrc *m, uint64_t key, uint32_t hv)
{
    size_t i = m->nheap++;
    while (i) {
        size_t parent = (i - 1) / 2;
        if (m->heap[parent].hv >= hv)
            break;
        m->heap[i] = m->heap[parent];
        i = parent;
    }
    m->heap[i].key = key;
    m->heap[i].hv = hv;
}

static struct heap_ent heap_pop(mrc *m)
{
    struct heap_ent top = m->heap[0];
    struct heap_ent last = m->heap[--m->nheap];
    size_t i = 0, n = m->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && m->heap[c + 1].hv > m->heap[c].hv)
            c++;
        if (m->heap[c].hv <= last.hv)
            break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (n)
        m->heap[i] = last;
    return top;
}

/* Fixed-size SHARDS: lower the threshold to the largest tracked hash value, dropping every key
 * that has it, until at most smax keys are tracked. */
static void shards_evict(mrc *m)
{
    while (reuse_count(m->rs) > m->p.smax && m->nheap) {
        uint32_t hv = m->heap[0].hv;
        while (m->nheap && m->heap[0].hv == hv)
            reuse_remove(m->rs, heap_pop(m).key);
        m->threshold = hv;
        m->weight = (double)MRC_SHARDS_P / (double)hv;
    }
}

static ALWAYS_INLINE void sampled_ref_h(mrc *m, uint64_t key, uint64_t h)
{
    m->refs++;
    int beyond = 1;
    if (m->small) {
        uint64_t ds = ru_access_h(m->small, key, h);
        if (ds != MRC_COLD) {
            m->counts[ds]++;
            beyond = 0;
        } else {
            m->beyond++;
        }
    }
    uint32_t hv = (uint32_t)(h >> 40);
    if (hv >= m->threshold)
        return;
    m->sampled_refs++;
    uint64_t d = ru_access_h(m->rs, key, h);
    double wt = m->weight;
    if (d == MRC_COLD) {
        m->cold++;
        if (beyond)
            m->cold_w += wt;
        if (m->heap) {
            heap_push(m, key, hv);
            shards_evict(m);
        }
        return;
    }
    if (!beyond)
        return; /* the small stack has its exact distance */
    double est = 1.0 + (double)(d - 1) * wt;
    if (m->small && est < (double)m->p.exact_below + 1)
        est = (double)m->p.exact_below + 1; /* known to be deeper than the small stack */
    uint64_t e = est >= 1.8e19 ? UINT64_MAX : (uint64_t)llround(est);
    m->w[hist_bucket_of(e)] += wt;
    m->sum_w += wt;
}

static ALWAYS_INLINE void exact_range(mrc *m, uint64_t first, uint64_t last)
{
    if (first == last) {
        m->refs++;
        exact_record(m, ru_access_h(m->rs, first, mix64(first)));
        return;
    }
    if (m->p.count_accesses) {
        uint64_t dmax = 0;
        for (uint64_t k = first;; k++) {
            uint64_t d = ru_access_h(m->rs, k, mix64(k));
            if (d > dmax)
                dmax = d;
            if (k == last)
                break;
        }
        m->refs++;
        exact_record(m, dmax);
        return;
    }
    for (uint64_t k = first;; k++) {
        m->refs++;
        exact_record(m, ru_access_h(m->rs, k, mix64(k)));
        if (k == last)
            break;
    }
}

void mrc_ref_range(mrc *m, uint64_t first, uint64_t last)
{
    if (!m->sampled) {
        exact_range(m, first, last);
        return;
    }
    for (uint64_t k = first;; k++) {
        sampled_ref_h(m, k, mix64(k));
        if (k == last)
            break;
    }
}

#define PREFETCH_FAR 16
#define PREFETCH_NEAR 6

MRC_HOT_CLONES
void mrc_ref_batch(mrc *m, const uint64_t *lo, const uint64_t *hi, size_t n, unsigned shift)
{
    if (!m->sampled) {
        for (size_t i = 0; i < n; i++) {
            if (i + PREFETCH_FAR < n)
                ru_prefetch(m->rs, mix64(lo[i + PREFETCH_FAR] >> shift));
            if (i + PREFETCH_NEAR < n) {
                uint64_t k = lo[i + PREFETCH_NEAR] >> shift;
                ru_prefetch_time(m->rs, k, mix64(k));
            }
            exact_range(m, lo[i] >> shift, hi[i] >> shift);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i + PREFETCH_FAR < n) {
            uint64_t h = mix64(lo[i + PREFETCH_FAR] >> shift);
            if ((uint32_t)(h >> 40) < m->threshold)
                ru_prefetch(m->rs, h);
        }
        uint64_t first = lo[i] >> shift, last = hi[i] >> shift;
        for (uint64_t k = first;; k++) {
            sampled_ref_h(m, k, mix64(k));
            if (k == last)
                break;
        }
    }
}

void mrc_finish(mrc *m)
{
    if (m->finished)
        return;
    m->finished = 1;
    uint64_t sum = 0;
    for (size_t d = 0; d < m->ncounts; d++) {
        if (!m->grid && m->counts[d] && d > m->maxd)
            m->maxd = d;
        sum += m->counts[d];
        m->counts[d] = sum;
    }
    if (m->sampled && (!m->small || reuse_evictions(m->small))) {
        for (unsigned b = HIST_BUCKETS; b-- > 0;) {
            if (m->w[b] > 0) {
                if (hist_bucket_high(b) > m->maxd)
                    m->maxd = hist_bucket_high(b);
                break;
            }
        }
    }
}

static double sampled_misses_w(const mrc *m, uint64_t c)
{
    double miss = m->cold_w;
    unsigned bc = hist_bucket_of(c);
    for (unsigned b = bc + 1; b < HIST_BUCKETS; b++)
        miss += m->w[b];
    /* the part of c's own bucket above c, spread evenly over the bucket */
    uint64_t lo = hist_bucket_low(bc), hi = hist_bucket_high(bc);
    if (hi > c)
        miss += m->w[bc] * (double)(hi - c) / ((double)(hi - lo) + 1.0);
    return miss;
}

/* References at distance <= c (not cold) from the cumulative exact counts. */
static double exact_hits(const mrc *m, uint64_t c)
{
    if (!m->grid) {
        size_t i = c < m->ncounts ? (size_t)c : m->ncounts - 1;
        return (double)m->counts[i];
    }
    size_t i = c >= m->maxd ? m->ngrid - 1 : grid_index(m, c);
    if (m->grid[i] == c || i == 0 || c >= m->maxd)
        return (double)m->counts[i];
    /* between two grid sizes: linear between their exact values */
    uint64_t g0 = m->grid[i - 1], g1 = m->grid[i];
    double h0 = (double)m->counts[i - 1], h1 = (double)m->counts[i];
    return h0 + (h1 - h0) * (double)(c - g0) / (double)(g1 - g0);
}

double mrc_misses(const mrc *m, uint64_t entries)
{
    if (!m->finished || m->refs == 0)
        return 0;
    if (entries == 0)
        return (double)m->refs;
    if (!m->sampled || (m->small && entries <= m->p.exact_below))
        return (double)m->refs - exact_hits(m, entries);
    if (m->small && !reuse_evictions(m->small))
        return (double)m->beyond; /* the small stack held every key: only first references miss */
    double miss = sampled_misses_w(m, entries), v;
    if (m->small) {
        double tail = m->sum_w + m->cold_w;
        if (m->p.adjust)
            v = miss < (double)m->beyond ? miss : (double)m->beyond;
        else
            v = tail > 0 ? (double)m->beyond * miss / tail : (double)m->beyond;
    } else {
        double total = m->p.adjust ? (double)m->refs : m->sum_w + m->cold_w;
        v = total > 0 ? miss / total * (double)m->refs : 0;
    }
    return v > (double)m->refs ? (double)m->refs : v;
}

double mrc_miss_ratio(const mrc *m, uint64_t entries)
{
    return m->refs ? mrc_misses(m, entries) / (double)m->refs : 0;
}

uint64_t mrc_max_distance(const mrc *m)
{
    return m->maxd;
}

void mrc_get_stats(const mrc *m, struct mrc_stats *s)
{
    memset(s, 0, sizeof *s);
    s->references = m->refs;
    s->sampled = m->sampled ? m->sampled_refs : m->refs;
    s->tracked = reuse_count(m->rs);
    s->cold = m->cold;
    s->rate = m->sampled ? (double)m->threshold / (double)MRC_SHARDS_P : 1.0;
    s->bytes = sizeof *m + reuse_bytes(m->rs) + (m->small ? reuse_bytes(m->small) : 0) +
               m->ncounts * sizeof *m->counts + m->ngrid * sizeof *m->grid +
               (m->w ? HIST_BUCKETS * sizeof *m->w : 0) +
               (m->heap ? ((size_t)m->p.smax + 2) * sizeof *m->heap : 0);
}

size_t mrc_grid(uint64_t max_distance, unsigned per_octave, uint64_t *out, size_t cap)
{
    if (per_octave == 0)
        per_octave = 1;
    uint64_t top = round_up_pow2_u64(max_distance ? max_distance : 1);
    size_t n = 0;
    uint64_t last = 0;
    for (uint64_t v = 1; v <= 16 && v <= top && n < cap; v++)
        out[n++] = last = v;
    for (unsigned k = 4; k < 63 && ((uint64_t)1 << k) < top && n < cap; k++) {
        for (unsigned j = 1; j <= per_octave && n < cap; j++) {
            uint64_t v = (uint64_t)llround(ldexp(exp2((double)j / per_octave), (int)k));
            if (j == per_octave)
                v = (uint64_t)1 << (k + 1);
            if (v > last)
                out[n++] = last = v;
        }
    }
    return n;
}
