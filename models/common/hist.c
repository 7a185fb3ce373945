#include "hist.h"

#include <string.h>

void hist_init(hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

void hist_reset(hist *h)
{
    hist_init(h);
}

uint64_t hist_bucket_low(unsigned b)
{
    if (b < (1u << HIST_SUB_BITS))
        return b;
    unsigned half = 1u << (HIST_SUB_BITS - 1);
    unsigned e = b / half - 1u;         /* buckets [2^S, 2^S + half) have e = 1 */
    uint64_t mant = half + (b % half); /* in [half, 2*half) */
    return mant << e;
}

uint64_t hist_bucket_high(unsigned b)
{
    if (b < (1u << HIST_SUB_BITS))
        return b;
    unsigned half = 1u << (HIST_SUB_BITS - 1);
    unsigned e = b / half - 1u;
    return hist_bucket_low(b) + ((uint64_t)1 << e) - 1u;
}

double hist_mean(const hist *h)
{
    if (!h->count)
        return 0.0;
    double sum = (double)h->sum_hi * 18446744073709551616.0 + (double)h->sum_lo;
    return sum / (double)h->count;
}

uint64_t hist_quantile(const hist *h, double q)
{
    if (!h->count)
        return 0;
    if (q <= 0.0)
        return h->min;
    if (q > 1.0)
        q = 1.0;
    /* rank of the wanted value, 1-based: the smallest r with r >= q*count */
    double want = q * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        seen += h->buckets[b];
        if (seen >= rank) {
            uint64_t lo = hist_bucket_low(b), hi = hist_bucket_high(b);
            uint64_t v = lo + (hi - lo) / 2;
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;
}

void hist_merge(hist *dst, const hist *src)
{
    for (unsigned b = 0; b < HIST_BUCKETS; b++)
        dst->buckets[b] += src->buckets[b];
    dst->count += src->count;
    uint64_t lo = dst->sum_lo + src->sum_lo;
    dst->sum_hi += src->sum_hi + (lo < dst->sum_lo);
    dst->sum_lo = lo;
    if (src->max > dst->max)
        dst->max = src->max;
    if (src->min < dst->min)
        dst->min = src->min;
}
