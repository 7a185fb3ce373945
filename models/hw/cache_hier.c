/* The cache hierarchy: per-cpu L1I, L1D and optional L2, an optional shared LLC, built on the
 * set-associative core (setassoc.h).
 *
 * Counting follows cachegrind where the two overlap: an access counts once per level it reaches;
 * it is a miss there if any of its lines missed; on a miss the next level sees the whole access
 * (every line, hit or not), and the category (read, write, ifetch) travels with it, so the LLC's
 * write_misses are cachegrind's DLmw. RMW counts as a read.
 *
 * Order of events for one demand access, chosen so that inclusion and exclusion stay exact:
 *  1. top-down, each level looks up and fills its lines one after another (as cachegrind does:
 *     a straddling access updates the first line before looking up the second); lines displaced
 *     by these fills wait in a per-level pending list;
 *  2. once the level that serves the access is reached, the pending victims are handled bottom-up:
 *     a dirty victim is written into the next level (a write access there) or to memory; a victim
 *     of the level above an exclusive LLC goes into the LLC. Waiting means an exclusive LLC is
 *     looked up before the victims of the same access can displace the line being looked up;
 *  3. an LLC eviction in an inclusive hierarchy removes the line from every cache above, in every
 *     cpu, and from the pending lists (the data of a dirty one goes to memory);
 *  4. a store that hit a write-through level is then posted to the level below.
 * Writebacks and posted write-throughs add no latency: they leave through write buffers.
 *
 * The plain configurations (see "the plain hierarchy" below) take a specialised path that makes
 * the same decisions in the same order without the pending lists. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"
#include "models/hw/cache.h"
#include "models/hw/setassoc.h"
#include "traces/event.h"

/* Access categories: cachegrind's Dr (reads and RMW), Dw, Ir. Counted through arrays indexed by
 * category, so counting takes no branch. */
enum { CAT_READ, CAT_WRITE, CAT_IFETCH };

struct level_stats {
    uint64_t accesses, hits, misses;
    uint64_t cat[3], cat_misses[3]; /* reads, writes, ifetches and their misses */
    uint64_t writebacks, evictions, back_invalidations;
};

struct level {
    cache *c;
    unsigned line_bits;
    unsigned latency;
    enum cache_write_policy wp;
    uint8_t wb, wt;    /* wp is write-back / write-through (flags for the hot path) */
    uint8_t excl;      /* this is an exclusive LLC */
    uint8_t mem_level; /* enum mem_level */
    struct level_stats s;
};

/* The caches an access goes through, top to bottom. */
struct chain {
    struct level *lv[3];
    unsigned n;
};

struct pend_ent {
    uint64_t line; /* in the owner's line units */
    uint8_t dirty, live;
};

struct pending {
    struct level *owner;
    unsigned n;
    struct pend_ent *e;
};

struct cache_hier {
    unsigned ncpus;
    unsigned mem_latency;
    int coherent;               /* several cpus and [system] coherence */
    uint64_t coh_invalidations; /* private copies removed by other cpus' stores */
    uint64_t coh_c2c;           /* accesses whose data came from another cpu's dirty copy */
    uint64_t coh_downgrades;    /* dirty copies made clean (shared) by another cpu's read */
    cache_mem_read_fn mem_fn; /* NULL: every memory access costs mem_latency */
    void *mem_ctx;
    enum cache_inclusion incl;
    unsigned per_cpu;     /* private caches per cpu: l1i, l1d[, l2] */
    struct level *levels; /* ncpus * per_cpu private levels, then the LLC */
    struct level *llc;    /* NULL when there is none */
    int llc_exclusive, llc_inclusive;
    struct chain *ichain, *dchain; /* per cpu */
    struct pending pend[3];        /* per depth of the access in flight */
    int uniform;                   /* every cache has the same line size */
    unsigned line_bits;            /* that size, when uniform */
    int fast;                      /* the plain case: fast_access serves every one-line access */
    int fast_ok;                   /* the configuration allows it */
};

/* The latency of a line read from memory. */
static inline uint32_t mem_read(const cache_hier *h, uint64_t addr)
{
    return h->mem_fn ? h->mem_fn(h->mem_ctx, addr) : h->mem_latency;
}

static inline int is_store(unsigned type)
{
    return type == MM_EV_WRITE || type == MM_EV_RMW;
}

static inline unsigned category(unsigned type)
{
    return type == MM_EV_IFETCH ? CAT_IFETCH : type == MM_EV_WRITE ? CAT_WRITE : CAT_READ;
}

static inline void count_access(struct level *L, unsigned type, int missed)
{
    uint64_t m = (uint64_t)(missed != 0);
    unsigned cat = category(type);
    L->s.accesses++;
    L->s.misses += m;
    L->s.hits += m ^ 1;
    L->s.cat[cat]++;
    L->s.cat_misses[cat] += m;
}

/* Last byte of [addr, addr + size), saturated at the top of the address space. */
static inline uint64_t last_byte(uint64_t addr, uint64_t size)
{
    uint64_t end = addr + size - 1;
    return end < addr ? UINT64_MAX : end;
}

static void handle_victim(cache_hier *h, const struct chain *ch, unsigned depth, uint64_t line,
                          int dirty);

/* --- inclusive LLC: back-invalidation ------------------------------------------------------ */

struct drop_ctx {
    struct level *L;
    uint64_t *llc_count; /* NULL: a plain invalidation, not a back-invalidation */
};

static void count_drop(void *vctx, uint64_t key, int dirty)
{
    (void)key;
    struct drop_ctx *d = vctx;
    if (d->llc_count) {
        d->L->s.back_invalidations++;
        (*d->llc_count)++;
    }
    if (dirty)
        d->L->s.writebacks++; /* the data goes to memory */
}

static void drop_range(struct level *L, uint64_t first_byte, uint64_t last, uint64_t *llc_count)
{
    struct drop_ctx d = {L, llc_count};
    cache_invalidate_range(L->c, first_byte >> L->line_bits, last >> L->line_bits, count_drop, &d);
}

/* The LLC evicted [addr, addr + len): remove it from every cache above, in every cpu. */
static void back_invalidate(cache_hier *h, uint64_t addr, uint64_t len)
{
    uint64_t last = last_byte(addr, len);
    for (unsigned i = 0; i < h->ncpus * h->per_cpu; i++)
        drop_range(&h->levels[i], addr, last, &h->llc->s.back_invalidations);
    /* victims of the access in flight that have left their cache but not yet been handled */
    for (unsigned k = 0; k < 3; k++) {
        struct pending *P = &h->pend[k];
        if (!P->n || P->owner == h->llc)
            continue;
        unsigned lb = P->owner->line_bits;
        for (unsigned i = 0; i < P->n; i++) {
            struct pend_ent *e = &P->e[i];
            if (e->live && e->line >= addr >> lb && e->line <= last >> lb) {
                e->live = 0;
                if (e->dirty)
                    P->owner->s.writebacks++;
            }
        }
    }
}

/* --- writebacks and exclusive-LLC victims -------------------------------------------------- */

/* A line evicted from the level above an exclusive LLC moves into the LLC: a fill, not an access. */
static void llc_take_victim(cache_hier *h, uint64_t line, int dirty)
{
    struct level *L = h->llc;
    int w = cache_lookup(L->c, line);
    int keep_dirty = dirty && L->wp == WP_WRITEBACK_ALLOCATE;
    if (w >= 0) { /* another cpu's copy came down first */
        if (keep_dirty)
            cache_mark_dirty(L->c, line, (unsigned)w);
        return;
    }
    struct cache_victim v;
    cache_fill(L->c, line, keep_dirty, &v);
    if (v.key != CACHE_KEY_INVALID) {
        L->s.evictions++;
        if (v.dirty)
            L->s.writebacks++;
    }
}

static void write_into(cache_hier *h, const struct chain *ch, unsigned depth, uint64_t addr,
                       uint64_t size);

/* Dirty data leaving the level at `depth` goes to the level below it, or to memory. */
static void send_down(cache_hier *h, const struct chain *ch, unsigned depth, uint64_t addr,
                      uint64_t size)
{
    unsigned below = depth + 1;
    if (below >= ch->n)
        return; /* memory */
    if (ch->lv[below] == h->llc && h->llc_exclusive) {
        struct level *L = h->llc;
        uint64_t last = last_byte(addr, size) >> L->line_bits;
        for (uint64_t line = addr >> L->line_bits; line <= last; line++)
            llc_take_victim(h, line, 1);
        return;
    }
    write_into(h, ch, below, addr, size);
}

/* A writeback allocated `line` at the level at `depth`: if that level sits on an exclusive LLC,
 * the line leaves the LLC (it now lives above; the newer data came with the writeback). */
static void exclusive_moved_up(cache_hier *h, const struct chain *ch, unsigned depth, uint64_t line)
{
    int dirty;
    if (depth + 1 < ch->n && ch->lv[depth + 1]->excl && cache_invalidate(h->llc->c, line, &dirty) &&
        dirty && !ch->lv[depth]->wb)
        h->llc->s.writebacks++;
}

/* A writeback (or a posted write-through of a victim) arriving at the level at `depth`: a write
 * access there. It carries whole lines, so a miss allocates without fetching from below. */
static void write_into(cache_hier *h, const struct chain *ch, unsigned depth, uint64_t addr,
                       uint64_t size)
{
    struct level *L = ch->lv[depth];
    uint64_t last = last_byte(addr, size) >> L->line_bits;
    int missed = 0;
    for (uint64_t line = addr >> L->line_bits; line <= last; line++) {
        int w = cache_lookup(L->c, line);
        if (w >= 0) {
            if (L->wp == WP_WRITEBACK_ALLOCATE)
                cache_mark_dirty(L->c, line, (unsigned)w);
            continue;
        }
        missed = 1;
        if (L->wp == WP_WRITETHROUGH_NOALLOCATE)
            continue;
        struct cache_victim v;
        cache_fill(L->c, line, L->wp == WP_WRITEBACK_ALLOCATE, &v);
        if (h->llc_exclusive)
            exclusive_moved_up(h, ch, depth, line);
        if (v.key != CACHE_KEY_INVALID) {
            L->s.evictions++;
            handle_victim(h, ch, depth, v.key, v.dirty);
        }
    }
    count_access(L, MM_EV_WRITE, missed);
    if (L->wp == WP_WRITETHROUGH_NOALLOCATE)
        send_down(h, ch, depth, addr, size);
}

/* write_into for one line when every cache has the same line size. */
static void write_line(cache_hier *h, const struct chain *ch, unsigned depth, uint64_t line)
{
    for (;;) {
        struct level *L = ch->lv[depth];
        int w = cache_lookup(L->c, line);
        L->s.accesses++;
        L->s.cat[CAT_WRITE]++;
        if (w >= 0) {
            L->s.hits++;
            if (L->wb)
                cache_mark_dirty(L->c, line, (unsigned)w);
        } else {
            L->s.misses++;
            L->s.cat_misses[CAT_WRITE]++;
            if (!L->wt) {
                struct cache_victim v;
                cache_fill(L->c, line, L->wb, &v);
                if (h->llc_exclusive)
                    exclusive_moved_up(h, ch, depth, line);
                if (v.key != CACHE_KEY_INVALID) {
                    L->s.evictions++;
                    handle_victim(h, ch, depth, v.key, v.dirty);
                }
            }
        }
        if (!L->wt)
            return;
        /* write-through: the data goes on down */
        if (++depth >= ch->n)
            return;
        if (ch->lv[depth]->excl) {
            llc_take_victim(h, line, 1);
            return;
        }
    }
}

/* A line displaced from the level at `depth` (already counted as an eviction there). */
static void handle_victim(cache_hier *h, const struct chain *ch, unsigned depth, uint64_t line,
                          int dirty)
{
    struct level *L = ch->lv[depth];
    uint64_t addr = line << L->line_bits, size = (uint64_t)1 << L->line_bits;
    if (L == h->llc) {
        if (h->llc_inclusive)
            back_invalidate(h, addr, size);
        if (dirty)
            L->s.writebacks++;
        return;
    }
    if (depth + 1 < ch->n && ch->lv[depth + 1] == h->llc && h->llc_exclusive) {
        if (dirty)
            L->s.writebacks++;
        llc_take_victim(h, line, dirty); /* same line size: checked at create */
        return;
    }
    if (dirty) {
        L->s.writebacks++;
        if (h->uniform) {
            if (depth + 1 < ch->n)
                write_line(h, ch, depth + 1, line); /* (an exclusive LLC was handled above) */
        } else {
            send_down(h, ch, depth, addr, size);
        }
    }
}

static void drain_pending(cache_hier *h, const struct chain *ch, unsigned depth)
{
    struct pending *P = &h->pend[depth];
    /* re-read each entry: handling one victim may back-invalidate a later one */
    for (unsigned i = 0; i < P->n; i++) {
        struct pend_ent *e = &P->e[i];
        if (!e->live)
            continue;
        e->live = 0;
        handle_victim(h, ch, depth, e->line, e->dirty);
    }
    P->n = 0;
}

/* --- the demand path ----------------------------------------------------------------------- */

/* An exclusive LLC hit: the line moves to the level above if that level took it. */
static void exclusive_hit(cache_hier *h, const struct chain *ch, unsigned depth, uint64_t line,
                          unsigned way)
{
    struct level *L = h->llc, *U = ch->lv[depth - 1];
    int uw = cache_find(U->c, line);
    if (uw < 0)
        return; /* the level above did not allocate (write-around): the line stays here */
    int dirty = cache_is_dirty(L->c, line, way);
    cache_invalidate(L->c, line, NULL);
    if (dirty) {
        if (U->wp == WP_WRITEBACK_ALLOCATE)
            cache_mark_dirty(U->c, line, (unsigned)uw);
        else
            L->s.writebacks++;
    }
}

/* Look up and fill every line of the access at the level at `depth` (entered at depth d0).
 * `data`: the access carries store data this level must absorb. Returns 1 if any line missed. */
static inline int level_demand(cache_hier *h, const struct chain *ch, unsigned depth, unsigned d0,
                               uint64_t addr, uint64_t last, unsigned type, int data)
{
    struct level *L = ch->lv[depth];
    int store = data && is_store(type);
    int dirtying = store && L->wp == WP_WRITEBACK_ALLOCATE;
    int allocate = !(store && type == MM_EV_WRITE && L->wp == WP_WRITETHROUGH_NOALLOCATE);
    int excl = L == h->llc && h->llc_exclusive && depth > d0;
    if (excl)
        allocate = 0; /* an exclusive LLC is filled by victims from above only */
    int missed = 0;
    uint64_t line = addr >> L->line_bits, last_line = last >> L->line_bits;
    for (;; line++) {
        int w = cache_lookup(L->c, line);
        if (w >= 0) {
            if (dirtying)
                cache_mark_dirty(L->c, line, (unsigned)w);
            if (excl)
                exclusive_hit(h, ch, depth, line, (unsigned)w);
        } else {
            missed = 1;
            if (allocate) {
                struct cache_victim v;
                cache_fill(L->c, line, dirtying, &v);
                if (v.key != CACHE_KEY_INVALID) {
                    struct pending *P = &h->pend[depth];
                    if (v.dirty && depth + 1 < ch->n) /* its writeback will look there */
                        cache_prefetch(ch->lv[depth + 1]->c, v.key);
                    L->s.evictions++;
                    P->owner = L;
                    P->e[P->n++] = (struct pend_ent){v.key, (uint8_t)v.dirty, 1};
                }
            }
        }
        if (line == last_line)
            break;
    }
    count_access(L, type, missed);
    return missed;
}

/* walk() for an access inside one line when every cache has the same line size: the same steps
 * with the line computed once and no loop over lines. */
static struct mem_result walk_line(cache_hier *h, const struct chain *ch, unsigned d0,
                                   uint64_t line, unsigned type, int data)
{
    struct mem_result r = {0, LEVEL_MEM};
    unsigned cat = category(type);
    int store = is_store(type);
    unsigned d = d0;
    int posted = 0;
    for (;;) {
        struct level *L = ch->lv[d];
        r.latency += L->latency;
        L->s.accesses++;
        L->s.cat[cat]++;
        int w = cache_lookup(L->c, line);
        if (w >= 0) {
            L->s.hits++;
            if (data && store && L->wb)
                cache_mark_dirty(L->c, line, (unsigned)w);
            if (L->excl && d > d0)
                exclusive_hit(h, ch, d, line, (unsigned)w);
            r.level = L->mem_level;
            posted = data && store && L->wt;
            break;
        }
        L->s.misses++;
        L->s.cat_misses[cat]++;
        int alloc = !(data && type == MM_EV_WRITE && L->wt) && !(L->excl && d > d0);
        if (alloc) {
            struct cache_victim v;
            cache_fill(L->c, line, data && store && L->wb, &v);
            if (v.key != CACHE_KEY_INVALID) {
                struct pending *P = &h->pend[d];
                L->s.evictions++;
                P->owner = L;
                P->e[P->n++] = (struct pend_ent){v.key, (uint8_t)v.dirty, 1};
            }
        }
        data = data && store && L->wt; /* store data goes on only through write-through */
        if (d + 1 == ch->n) {
            r.latency += mem_read(h, line << h->line_bits);
            break;
        }
        d++;
    }
    for (unsigned k = d + 1; k-- > d0;)
        if (h->pend[k].n)
            drain_pending(h, ch, k);
    if (posted && d + 1 < ch->n)
        (void)walk_line(h, ch, d + 1, line, type, 1);
    return r;
}

/* --- the plain hierarchy ------------------------------------------------------------------- *
 * Uniform line size, a non-inclusive LLC (or none), every level write-back or reference-only.
 * Then an access inside one line displaces at most one line per level, nothing ever invalidates a
 * displaced line before its writeback, and store data stops at the level it enters. The victims
 * wait in locals instead of the pending lists and are handled bottom-up in the same order as
 * walk_line's drain, so every count and every replacement decision is the same. */

/* A dirty line written from the level above into the level at `depth` (write_line, plain case):
 * the cascade when it misses there and displaces a dirty line in turn. */
static __attribute__((noinline)) void fast_writeback_miss(const struct chain *ch, unsigned depth,
                                                          struct cache_victim v)
{
    for (;;) {
        struct level *L = ch->lv[depth];
        L->s.misses++;
        L->s.cat_misses[CAT_WRITE]++;
        if (v.key == CACHE_KEY_INVALID)
            return;
        L->s.evictions++;
        if (!v.dirty)
            return;
        L->s.writebacks++;
        if (++depth >= ch->n)
            return;
        L = ch->lv[depth];
        L->s.accesses++;
        L->s.cat[CAT_WRITE]++;
        if (cache_access(L->c, v.key, L->wb, &v)) {
            L->s.hits++;
            return;
        }
    }
}

static inline __attribute__((always_inline)) void fast_writeback(const struct chain *ch,
                                                                 unsigned depth, uint64_t line)
{
    struct level *L = ch->lv[depth];
    struct cache_victim v;
    L->s.accesses++;
    L->s.cat[CAT_WRITE]++;
    if (__builtin_expect(cache_access(L->c, line, L->wb, &v), 1))
        L->s.hits++;
    else
        fast_writeback_miss(ch, depth, v);
}

/* Count the line level L displaced (if any); returns its key if it is dirty (it must be written
 * back), else CACHE_KEY_INVALID. No branch on the dirty bit: it is a coin toss. */
static inline uint64_t fast_victim(struct level *L, uint64_t vkey, int vdirty)
{
    L->s.evictions += vkey != CACHE_KEY_INVALID;
    L->s.writebacks += (uint64_t)(vdirty != 0);
    return vdirty ? vkey : CACHE_KEY_INVALID;
}

/* The level below `d` looks the line up: returns 1 on a hit (counted, r->level set), else 0 with
 * the line filled there and its dirty victim's key in *wkey (CACHE_KEY_INVALID if none). */
static inline __attribute__((always_inline)) int fast_below(const struct chain *ch, unsigned d, uint64_t line, unsigned cat,
                             struct mem_result *r, uint64_t *wkey)
{
    struct level *L = ch->lv[d];
    struct cache_victim v;
    r->latency += L->latency;
    L->s.accesses++;
    L->s.cat[cat]++;
    if (cache_access(L->c, line, 0, &v)) {
        L->s.hits++;
        r->level = L->mem_level;
        return 1;
    }
    L->s.misses++;
    L->s.cat_misses[cat]++;
    *wkey = fast_victim(L, v.key, v.dirty);
    if (d + 1 < ch->n)
        cache_prefetch(ch->lv[d + 1]->c, *wkey); /* its writeback will look there */
    return 0;
}

/* The entry level d0 missed, displacing v0key (dirty or not): go down while the line misses, then
 * write the dirty victims back bottom-up: the victim of a level goes into the level below it once
 * that level has been looked up (walk_line's order). A chain has at most three levels. */
static __attribute__((noinline)) struct mem_result fast_miss(cache_hier *h, const struct chain *ch,
                                                            unsigned d0, uint64_t line,
                                                            unsigned cat, uint32_t latency,
                                                            uint64_t v0key, int v0dirty)
{
    struct mem_result r = {latency, LEVEL_MEM};
    struct level *L = ch->lv[d0];
    unsigned n = ch->n;
    L->s.misses++;
    L->s.cat_misses[cat]++;
    uint64_t w0 = fast_victim(L, v0key, v0dirty), w1 = CACHE_KEY_INVALID, w2 = CACHE_KEY_INVALID;
    if (d0 + 1 < n) {
        cache_prefetch(ch->lv[d0 + 1]->c, w0);
        if (!fast_below(ch, d0 + 1, line, cat, &r, &w1)) {
            if (d0 + 2 < n) {
                if (!fast_below(ch, d0 + 2, line, cat, &r, &w2))
                    r.latency += mem_read(h, line << h->line_bits); /* (the last level: w2 went to memory) */
                if (w1 != CACHE_KEY_INVALID)
                    fast_writeback(ch, d0 + 2, w1);
            } else {
                r.latency += mem_read(h, line << h->line_bits);
            }
        }
        if (w0 != CACHE_KEY_INVALID)
            fast_writeback(ch, d0 + 1, w0);
    } else {
        r.latency += mem_read(h, line << h->line_bits);
    }
    return r;
}

/* An access inside one line of the plain hierarchy entering at level d0, after the memo check. */
static __attribute__((noinline)) struct mem_result fast_access(cache_hier *h,
                                                              const struct chain *ch, unsigned d0,
                                                              uint64_t line, unsigned type)
{
    struct level *L = ch->lv[d0];
    unsigned cat = category(type);
    unsigned dirtying = ((type == MM_EV_WRITE) | (type == MM_EV_RMW)) & L->wb; /* no branch */
    struct cache_victim v;
    L->s.accesses++;
    L->s.cat[cat]++;
    if (cache_access(L->c, line, (int)dirtying, &v)) {
        L->s.hits++;
        return (struct mem_result){L->latency, L->mem_level};
    }
    return fast_miss(h, ch, d0, line, cat, L->latency, v.key, v.dirty);
}

/* The line the entry level referenced last is already its most recent: a hit that changes no
 * replacement state (the memo of setassoc.h), only the dirty bit. Returns 0 if line is not it. */
static inline int fast_memo_hit(const struct chain *ch, unsigned d0, uint64_t line, unsigned type,
                                struct mem_result *r)
{
    struct level *L = ch->lv[d0];
    cache *c = L->c;
    if (line != c->memo_key)
        return 0;
    unsigned cat = category(type);
    unsigned dirtying = ((type == MM_EV_WRITE) | (type == MM_EV_RMW)) & L->wb;
    L->s.accesses++;
    L->s.cat[cat]++;
    L->s.hits++;
    cache_set_block(c, cache_set_of(c, line))[c->dirty_off + (c->memo_way >> 6)] |=
        (uint64_t)dirtying << (c->memo_way & 63);
    *r = (struct mem_result){L->latency, L->mem_level};
    return 1;
}

static __attribute__((noinline)) struct mem_result walk(cache_hier *h, const struct chain *ch,
                                                         unsigned d0, uint64_t addr, uint32_t size,
                                                         unsigned type, int data)
{
    if (h->uniform && d0 < ch->n && size - 1 < ((uint32_t)1 << h->line_bits) &&
        (addr >> h->line_bits) == ((addr + size - 1) >> h->line_bits) && size)
        return walk_line(h, ch, d0, addr >> h->line_bits, type, data);

    struct mem_result r = {0, LEVEL_MEM};
    if (d0 >= ch->n) {
        r.latency = mem_read(h, addr);
        return r;
    }
    if (size == 0)
        size = 1;
    else if (size > MM_ACCESS_MAX_SIZE)
        size = MM_ACCESS_MAX_SIZE; /* keeps the pending lists bounded */
    uint64_t last = last_byte(addr, size);
    unsigned d = d0;
    int posted = 0;
    for (;;) {
        struct level *L = ch->lv[d];
        r.latency += L->latency;
        int missed = level_demand(h, ch, d, d0, addr, last, type, data);
        /* store data goes on only through a write-through level */
        int through = data && is_store(type) && L->wp == WP_WRITETHROUGH_NOALLOCATE;
        if (!missed) {
            r.level = L->mem_level;
            posted = through;
            break;
        }
        if (d == d0) /* overlap the host misses of the levels below */
            for (unsigned k = d + 1; k < ch->n; k++)
                cache_prefetch(ch->lv[k]->c, addr >> ch->lv[k]->line_bits);
        data = through;
        if (d + 1 == ch->n) {
            r.latency += mem_read(h, addr & ~(((uint64_t)1 << ch->lv[d]->line_bits) - 1));
            break;
        }
        d++;
    }
    for (unsigned k = d + 1; k-- > d0;)
        if (h->pend[k].n)
            drain_pending(h, ch, k);
    if (posted)
        (void)walk(h, ch, d + 1, addr, size, type, 1);
    return r;
}

/* --- coherence between the cpus' private caches ------------------------------------------------
 * An invalidation protocol in the spirit of MESI, on the private levels (L1I, L1D, L2) of several
 * cpus: a store (or RMW, or a walker's A/D update) removes the line from every other cpu's private
 * caches; a read that missed every private level of its cpu finds a dirty copy in another cpu,
 * which supplies it (a cache-to-cache transfer) and keeps it clean (M -> S, its data written back).
 * Counts are exact; the transfer costs what the access cost anyway (the LLC or memory latency),
 * and the written-back data does not change the LLC's contents. */
static void coherence_after(cache_hier *h, unsigned cpu, uint64_t addr, uint32_t size,
                            unsigned type, enum mem_level served)
{
    int store = is_store(type);
    if (!store && served < LEVEL_LLC)
        return; /* a read served by its own cpu's caches snoops nobody */
    uint64_t last = last_byte(addr, size ? size : 1);
    int transferred = 0;
    for (unsigned o = 0; o < h->ncpus; o++) {
        if (o == cpu)
            continue;
        for (unsigned k = 0; k < h->per_cpu; k++) {
            struct level *L = &h->levels[o * h->per_cpu + k];
            for (uint64_t line = addr >> L->line_bits; line <= last >> L->line_bits; line++) {
                if (store) {
                    int dirty = 0;
                    if (cache_invalidate(L->c, line, &dirty)) {
                        h->coh_invalidations++;
                        transferred |= dirty;
                    }
                } else if (cache_clear_dirty(L->c, line)) {
                    h->coh_downgrades++;
                    L->s.writebacks++;
                    transferred = 1;
                }
            }
        }
    }
    h->coh_c2c += (uint64_t)transferred;
}

static struct mem_result hier_access(cache_hier *h, unsigned cpu, uint64_t addr, uint32_t size,
                                     unsigned type);

struct mem_result cache_hier_access(cache_hier *h, unsigned cpu, uint64_t addr, uint32_t size,
                                    unsigned type)
{
    if (__builtin_expect(!h->coherent, 1))
        return hier_access(h, cpu, addr, size, type);
    struct mem_result r = hier_access(h, cpu, addr, size, type);
    coherence_after(h, cpu, addr, size, type, (enum mem_level)r.level);
    return r;
}

static inline __attribute__((always_inline)) struct mem_result
hier_access(cache_hier *h, unsigned cpu, uint64_t addr, uint32_t size, unsigned type)
{
    assert(cpu < h->ncpus);
    const struct chain *ch = type == MM_EV_IFETCH ? &h->ichain[cpu] : &h->dchain[cpu];
    /* inside one line (an access that wraps past the top of the address space is not) */
    uint64_t line = addr >> h->line_bits;
    if (h->fast && size && line == (addr + size - 1) >> h->line_bits) {
        struct mem_result r;
        if (fast_memo_hit(ch, 0, line, type, &r))
            return r;
        return fast_access(h, ch, 0, line, type);
    }
    return walk(h, ch, 0, addr, size, type, is_store(type));
}

struct mem_result cache_hier_access_from(cache_hier *h, unsigned cpu, enum mem_level level,
                                         uint64_t addr, uint32_t size, unsigned type)
{
    assert(cpu < h->ncpus);
    const struct chain *ch = &h->dchain[cpu];
    unsigned d = 0;
    while (d < ch->n && ch->lv[d]->mem_level < (unsigned)level)
        d++;
    struct mem_result r;
    if (h->fast && d < ch->n && size && (addr >> h->line_bits) == ((addr + size - 1) >> h->line_bits))
        r = fast_access(h, ch, d, addr >> h->line_bits, type);
    else
        r = walk(h, ch, d, addr, size, type, is_store(type));
    if (h->coherent)
        coherence_after(h, cpu, addr, size, type, (enum mem_level)r.level);
    return r;
}

void cache_hier_prefetch(const cache_hier *h, unsigned cpu, uint64_t addr, unsigned type)
{
    const struct chain *ch = type == MM_EV_IFETCH ? &h->ichain[cpu % h->ncpus]
                                                  : &h->dchain[cpu % h->ncpus];
    for (unsigned k = 0; k < ch->n; k++)
        cache_prefetch(ch->lv[k]->c, addr >> ch->lv[k]->line_bits);
}

void cache_hier_set_specialised(cache_hier *h, int on)
{
    h->fast = on && h->fast_ok;
}

/* --- maintenance and probes ---------------------------------------------------------------- */

static struct level *level_of(const cache_hier *h, unsigned cpu, enum cache_which which)
{
    if (which == CACHE_LLC)
        return h->llc;
    if (cpu >= h->ncpus || (unsigned)which >= h->per_cpu)
        return NULL;
    return &h->levels[cpu * h->per_cpu + (unsigned)which];
}

int cache_hier_contains(const cache_hier *h, unsigned cpu, enum cache_which which, uint64_t addr)
{
    const struct level *L = level_of(h, cpu, which);
    return L && cache_find(L->c, addr >> L->line_bits) >= 0;
}

void cache_hier_flush(cache_hier *h)
{
    unsigned n = h->ncpus * h->per_cpu + (h->llc ? 1 : 0);
    for (unsigned i = 0; i < n; i++) {
        struct drop_ctx d = {&h->levels[i], NULL};
        cache_flush(h->levels[i].c, count_drop, &d);
    }
}

void cache_hier_invalidate_range(cache_hier *h, uint64_t addr, uint64_t len)
{
    if (len == 0)
        return;
    uint64_t last = last_byte(addr, len);
    unsigned n = h->ncpus * h->per_cpu + (h->llc ? 1 : 0);
    for (unsigned i = 0; i < n; i++)
        drop_range(&h->levels[i], addr, last, NULL);
}

/* --- set-up -------------------------------------------------------------------------------- */

static const char *const default_names[] = {"l1i", "l1d", "l2", "llc"};

static void register_stats(struct level *L, stats_registry *reg, const char *prefix)
{
    struct level_stats *s = &L->s;
    stats_counter(reg, prefix, "accesses", &s->accesses, "accesses that reached this cache");
    stats_counter(reg, prefix, "hits", &s->hits, "accesses whose every line hit");
    stats_counter(reg, prefix, "misses", &s->misses, "accesses with at least one line missing");
    stats_counter(reg, prefix, "reads", &s->cat[CAT_READ], "data reads (and read-modify-writes)");
    stats_counter(reg, prefix, "read_misses", &s->cat_misses[CAT_READ], "data reads that missed");
    stats_counter(reg, prefix, "writes", &s->cat[CAT_WRITE],
                  "data writes, writebacks from above included");
    stats_counter(reg, prefix, "write_misses", &s->cat_misses[CAT_WRITE], "data writes that missed");
    stats_counter(reg, prefix, "ifetches", &s->cat[CAT_IFETCH], "instruction fetches");
    stats_counter(reg, prefix, "ifetch_misses", &s->cat_misses[CAT_IFETCH],
                  "instruction fetches that missed");
    stats_counter(reg, prefix, "writebacks", &s->writebacks, "dirty lines sent down or to memory");
    stats_counter(reg, prefix, "evictions", &s->evictions, "valid lines displaced by a fill");
    stats_counter(reg, prefix, "back_invalidations", &s->back_invalidations,
                  "lines removed because an inclusive LLC evicted them (at the LLC: copies removed)");
    stats_ratio(reg, prefix, "miss_rate", &s->misses, &s->accesses, 1.0, "misses / accesses");
}

/* p has been checked. */
static void init_level(struct level *L, const struct cache_params *p, enum cache_which which,
                       unsigned ncpus, unsigned cpu, stats_registry *reg)
{
    const char *name = p->name && *p->name ? p->name : default_names[which];
    char *prefix = which == CACHE_LLC || ncpus == 1 ? xasprintf("cache.%s", name)
                                                    : xasprintf("cache.cpu%u.%s", cpu, name);
    struct cache_geom g = {
        .sets = p->size / ((uint64_t)p->assoc * p->line),
        .ways = p->assoc,
        .repl = p->repl,
        .seed = p->seed,
        .rng_name = prefix,
    };
    L->c = cache_create(&g);
    L->line_bits = log2_u64(p->line);
    L->latency = p->latency;
    L->wp = p->write_policy;
    L->wb = p->write_policy == WP_WRITEBACK_ALLOCATE;
    L->wt = p->write_policy == WP_WRITETHROUGH_NOALLOCATE;
    L->mem_level = which == CACHE_LLC ? LEVEL_LLC : which == CACHE_L2 ? LEVEL_L2 : LEVEL_L1;
    if (reg)
        register_stats(L, reg, prefix);
    free(prefix);
}

cache_hier *cache_hier_create(const struct cache_hier_params *p, stats_registry *reg, mm_err *err)
{
    mm_err local;
    if (!err)
        err = &local;
    if (p->ncpus < 1 || p->ncpus > MM_MAX_CPUS) {
        mm_errf(err, "ncpus %u is not between 1 and %u", p->ncpus, MM_MAX_CPUS);
        return NULL;
    }
    /* check every geometry before creating anything, so a bad one registers no statistics */
    const struct cache_params *all[4] = {&p->l1i, &p->l1d, p->l2_enabled ? &p->l2 : NULL,
                                         p->llc_enabled ? &p->llc : NULL};
    for (unsigned i = 0; i < 4; i++) {
        if (all[i] && cache_params_check(all[i], err) < 0) {
            mm_err inner = *err;
            mm_errf(err, "%s: %s", all[i]->name && *all[i]->name ? all[i]->name : default_names[i],
                    inner.msg);
            return NULL;
        }
    }
    if (p->llc_enabled && p->llc.inclusion == INCL_EXCLUSIVE) {
        unsigned above[2] = {p->l2_enabled ? p->l2.line : p->l1i.line, p->l1d.line};
        for (unsigned i = 0; i < (p->l2_enabled ? 1u : 2u); i++)
            if (above[i] != p->llc.line) {
                mm_errf(err, "an exclusive llc needs the line size of the caches above it "
                             "(llc line %u, above %u)", p->llc.line, above[i]);
                return NULL;
            }
    }

    cache_hier *h = xcalloc(1, sizeof *h);
    h->ncpus = p->ncpus;
    h->mem_latency = p->mem_latency;
    h->per_cpu = p->l2_enabled ? 3 : 2;
    h->levels = xcalloc(h->ncpus * h->per_cpu + 1, sizeof *h->levels);
    h->ichain = xcalloc(h->ncpus, sizeof *h->ichain);
    h->dchain = xcalloc(h->ncpus, sizeof *h->dchain);
    if (p->llc_enabled) {
        h->llc = &h->levels[h->ncpus * h->per_cpu];
        h->incl = p->llc.inclusion;
        h->llc_inclusive = h->incl == INCL_INCLUSIVE;
        h->llc_exclusive = h->incl == INCL_EXCLUSIVE;
    }
    unsigned min_line = UINT32_MAX;
    for (unsigned cpu = 0; cpu < h->ncpus; cpu++) {
        struct level *base = &h->levels[cpu * h->per_cpu];
        for (unsigned w = 0; w < h->per_cpu; w++) {
            init_level(&base[w], all[w], (enum cache_which)w, h->ncpus, cpu, reg);
            if (all[w]->line < min_line)
                min_line = all[w]->line;
        }
        struct chain *ic = &h->ichain[cpu], *dc = &h->dchain[cpu];
        ic->lv[ic->n++] = &base[CACHE_L1I];
        dc->lv[dc->n++] = &base[CACHE_L1D];
        if (p->l2_enabled) {
            ic->lv[ic->n++] = &base[CACHE_L2];
            dc->lv[dc->n++] = &base[CACHE_L2];
        }
        if (h->llc) {
            ic->lv[ic->n++] = h->llc;
            dc->lv[dc->n++] = h->llc;
        }
    }
    if (h->llc) {
        init_level(h->llc, &p->llc, CACHE_LLC, h->ncpus, 0, reg);
        h->llc->excl = (uint8_t)h->llc_exclusive;
        if (p->llc.line < min_line)
            min_line = p->llc.line;
    }
    h->uniform = 1;
    h->line_bits = log2_u64(min_line);
    for (unsigned i = 0; i < h->ncpus * h->per_cpu + (h->llc ? 1 : 0); i++)
        if (h->levels[i].line_bits != h->line_bits)
            h->uniform = 0;
    h->fast_ok = h->uniform && !h->llc_inclusive && !h->llc_exclusive;
    for (unsigned i = 0; i < h->ncpus * h->per_cpu + (h->llc ? 1 : 0); i++)
        if (h->levels[i].wt)
            h->fast_ok = 0;
    h->fast = h->fast_ok;
    /* one victim per line of one access per level */
    unsigned cap = MM_ACCESS_MAX_SIZE / min_line + 2;
    for (unsigned k = 0; k < 3; k++)
        h->pend[k].e = xcalloc(cap, sizeof *h->pend[k].e);
    h->coherent = h->ncpus > 1 && p->coherence;
    if (h->coherent && reg) {
        stats_counter(reg, "coherence", "invalidations", &h->coh_invalidations,
                      "private copies (L1I, L1D, L2) removed because another cpu wrote the line");
        stats_counter(reg, "coherence", "c2c_transfers", &h->coh_c2c,
                      "accesses whose line came from another cpu's dirty copy");
        stats_counter(reg, "coherence", "downgrades", &h->coh_downgrades,
                      "dirty copies made clean (M -> S) by another cpu's read");
    }
    return h;
}

void cache_hier_destroy(cache_hier *h)
{
    if (!h)
        return;
    unsigned n = h->ncpus * h->per_cpu + (h->llc ? 1 : 0);
    for (unsigned i = 0; i < n; i++)
        cache_destroy(h->levels[i].c);
    for (unsigned k = 0; k < 3; k++)
        free(h->pend[k].e);
    free(h->levels);
    free(h->ichain);
    free(h->dchain);
    free(h);
}

void cache_hier_set_memory(cache_hier *h, cache_mem_read_fn fn, void *ctx)
{
    h->mem_fn = fn;
    h->mem_ctx = ctx;
}
