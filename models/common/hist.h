/* Log-linear (HDR-style) histogram of unsigned 64-bit values.
 * Values below 2^HIST_SUB_BITS are counted exactly; above, each power-of-two range is split into
 * 2^(HIST_SUB_BITS-1) equal buckets, so a reported quantile is within HIST_REL_ERROR of the true
 * value. Recording is a few shifts and one increment: fit for the per-access path. */
#ifndef MMUSIM_COMMON_HIST_H
#define MMUSIM_COMMON_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 8
#define HIST_BUCKETS ((1u << HIST_SUB_BITS) + (64u - HIST_SUB_BITS) * (1u << (HIST_SUB_BITS - 1)))
/* Largest relative distance between a value and the value reported for its bucket. */
#define HIST_REL_ERROR (1.0 / (double)(1u << (HIST_SUB_BITS - 1)))

typedef struct hist {
    uint64_t count;
    uint64_t sum_lo; /* 128-bit sum so means of long runs stay exact */
    uint64_t sum_hi;
    uint64_t max;
    uint64_t min;
    uint64_t buckets[HIST_BUCKETS];
} hist;

void hist_init(hist *h);
void hist_reset(hist *h);

static inline unsigned hist_bucket_of(uint64_t v)
{
    if (v < (1u << HIST_SUB_BITS))
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned e = msb - HIST_SUB_BITS + 1u;
    return (e << (HIST_SUB_BITS - 1)) + (unsigned)(v >> e);
}

static inline void hist_record(hist *h, uint64_t v)
{
    h->buckets[hist_bucket_of(v)]++;
    h->count++;
    uint64_t lo = h->sum_lo + v;
    h->sum_hi += lo < h->sum_lo;
    h->sum_lo = lo;
    if (v > h->max)
        h->max = v;
    if (v < h->min)
        h->min = v;
}

/* Lowest and highest value that fall into bucket b. */
uint64_t hist_bucket_low(unsigned b);
uint64_t hist_bucket_high(unsigned b);

double hist_mean(const hist *h);
/* Value at quantile q in [0,1]: the midpoint of the bucket holding the ceil(q*count)-th value
 * (exact below 2^HIST_SUB_BITS), never above max. 0 for an empty histogram. */
uint64_t hist_quantile(const hist *h, double q);
/* Adds src into dst. */
void hist_merge(hist *dst, const hist *src);

#endif
