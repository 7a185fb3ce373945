/* Deterministic random numbers: xoshiro256** seeded through splitmix64. Same seed, same stream,
 * on every platform. Each model that needs randomness owns its own rng, seeded from the run's
 * seed and the model's name, so adding a model never shifts another model's stream. */
#ifndef MMUSIM_COMMON_RNG_H
#define MMUSIM_COMMON_RNG_H

#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
} rng;

void rng_seed(rng *r, uint64_t seed);
/* Seed from a run seed and a stream name (e.g. "cache.llc.replacement"). */
void rng_seed_named(rng *r, uint64_t seed, const char *name);

static inline uint64_t rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n), n > 0, without modulo bias (Lemire's multiply-shift with rejection). */
uint64_t rng_below(rng *r, uint64_t n);
/* Uniform double in [0, 1). */
static inline double rng_double(rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
