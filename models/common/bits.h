/* Small bit helpers for power-of-two geometry. */
#ifndef MMUSIM_COMMON_BITS_H
#define MMUSIM_COMMON_BITS_H

#include <stdint.h>

static inline int is_pow2_u64(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* floor(log2(v)); v must be non-zero */
static inline unsigned log2_u64(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

static inline uint64_t round_up_pow2_u64(uint64_t v)
{
    if (v <= 1)
        return 1;
    return (uint64_t)1 << (64u - (unsigned)__builtin_clzll(v - 1));
}

/* A fast 64-bit mixer (the splitmix64 finaliser): spreads page numbers over hash buckets. */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

#endif
