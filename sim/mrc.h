/* Miss-ratio curves of fully associative LRU caches from stack (reuse) distances, for every
 * cache size at once, in one pass.
 *
 * The stack distance of a reference to key k is the number of distinct keys referenced since the
 * previous reference to k, k included (1 = k was the most recent key): an LRU cache of C entries
 * hits exactly the references whose distance is at most C (Mattson et al., 1970). First
 * references ("cold") miss at every size.
 *
 * Exact mode keeps one slot per distinct key: a hash map from key to the time of its last
 * reference, and a bitmap over times marking which times are some key's last reference, with a
 * Fenwick tree over 512-time blocks of it; the distance is the number of marks at or after the
 * key's last time: O(log n) per reference. Times are renumbered (compacted) when they run out, so
 * memory follows the distinct keys (about 16 to 32 bytes each), not the trace length.
 *
 * Sampled mode is SHARDS (Waldspurger et al., FAST 2015): a key is tracked only if its spatial
 * hash, taken modulo P = 2^24, is below a threshold T, so a fraction R = T/P of the keys (with all
 * their references) is tracked; distances among tracked keys are scaled up by 1/R. With smax > 0,
 * the fixed-size variant lowers T (evicting the keys with the largest hash values) whenever more
 * than smax keys are tracked, so memory stays near constant. See mrc.c for the estimators. */
#ifndef MMUSIM_SIM_MRC_H
#define MMUSIM_SIM_MRC_H

#include <stddef.h>
#include <stdint.h>

#include "models/common/errors.h"

#define MRC_SHARDS_P (1u << 24) /* hash modulus of the SHARDS sampling filter */
#define MRC_COLD UINT64_MAX     /* "distance" of a first reference */

struct mrc_params {
    double rate;        /* SHARDS sampling rate in (0, 1]; 1 (or 0) is exact mode */
    uint64_t smax;      /* > 0: fixed-size SHARDS, at most smax tracked keys (initial rate: rate) */
    int adjust;         /* SHARDS_adj: normalise by the expected sample count (on by default) */
    uint64_t exact_below; /* sampled modes, > 0: also keep an exact LRU stack of this depth over
                             every key, so sizes up to it are exact and SHARDS only estimates how
                             the deeper references spread (see mrc.c); 0: plain SHARDS */
    int count_accesses; /* mrc_ref_range counts one reference per call, a miss if any key of the
                           range missed (cachegrind's rule); else each key is a reference.
                           Exact mode only. */
    unsigned grid_points; /* exact mode: 0 counts every distance apart (exact misses at every
                             size, 8 bytes per distance); N > 0 counts per interval of
                             mrc_grid(.., N) (exact at those sizes, interpolated between: a few KiB
                             and no cache misses) */
};

void mrc_params_default(struct mrc_params *p); /* exact, adjust on, one reference per key */

typedef struct mrc mrc;

/* NULL with err filled when the parameters are invalid. */
mrc *mrc_create(const struct mrc_params *p, mm_err *err);
void mrc_destroy(mrc *m);

/* References keys first..last (consecutive keys: the lines or pages one access touches), in that
 * order. Keys must be below UINT64_MAX. Allocates nothing except when the distinct keys outgrow
 * the tables (they double). */
void mrc_ref_range(mrc *m, uint64_t first, uint64_t last);
static inline void mrc_ref(mrc *m, uint64_t key)
{
    mrc_ref_range(m, key, key);
}
/* The same as mrc_ref_range(m, lo[i] >> shift, hi[i] >> shift) for i = 0..n-1, but prefetching
 * the table slots of later references while earlier ones are processed. */
void mrc_ref_batch(mrc *m, const uint64_t *lo, const uint64_t *hi, size_t n, unsigned shift);

/* Ends the reference stream: queries below need it, references after it are not allowed. */
void mrc_finish(mrc *m);

/* Estimated misses of a fully associative LRU cache of `entries` entries (>= 1) over all
 * references, cold misses included. In exact mode the exact count. */
double mrc_misses(const mrc *m, uint64_t entries);
/* Miss ratio at `entries`: misses / references, within [0, 1]; 0 when there were none. */
double mrc_miss_ratio(const mrc *m, uint64_t entries);
/* Smallest size at which only cold misses remain (the largest finite distance, estimated when
 * sampled); 0 if no key was ever re-referenced. */
uint64_t mrc_max_distance(const mrc *m);

struct mrc_stats {
    uint64_t references; /* all references (accesses in count_accesses mode) */
    uint64_t sampled;    /* references that passed the filter (all of them in exact mode) */
    uint64_t tracked;    /* keys tracked at the end */
    uint64_t cold;       /* first references among the sampled ones */
    double rate;         /* sampling rate at the end (1 in exact mode) */
    size_t bytes;        /* memory held by the tables */
};
void mrc_get_stats(const mrc *m, struct mrc_stats *s);

/* The sizes a report lists for a curve whose distances reach max_distance: every integer up to
 * 16, then `per_octave` sizes per power of two (powers of two included), geometrically spaced
 * and rounded, up to the first power of two at or above max_distance (at least 1). Writes at most
 * cap sizes into out (ascending, distinct) and returns how many it wrote. */
size_t mrc_grid(uint64_t max_distance, unsigned per_octave, uint64_t *out, size_t cap);

/* The stack-distance tracker itself, exposed for tests: exact distances over arbitrary keys. */
typedef struct reuse_stack reuse_stack;
reuse_stack *reuse_create(void);
void reuse_destroy(reuse_stack *r);
/* Distance of this reference to key (1 = key was the most recent one), MRC_COLD the first time;
 * key becomes the most recent. key < UINT64_MAX. */
uint64_t reuse_access(reuse_stack *r, uint64_t key);
/* Forgets key (no-op if unknown); other keys' distances no longer count it. */
void reuse_remove(reuse_stack *r, uint64_t key);
uint64_t reuse_count(const reuse_stack *r); /* keys tracked */
/* limit > 0: keep only the `limit` most recently referenced keys (an LRU stack of that depth):
 * distances up to limit stay exact, deeper references come back as MRC_COLD. */
void reuse_set_limit(reuse_stack *r, uint64_t limit);
uint64_t reuse_evictions(const reuse_stack *r); /* keys dropped by the limit */
size_t reuse_bytes(const reuse_stack *r);

#endif
