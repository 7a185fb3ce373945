/* Names of the cache enums and validation of a cache's geometry. */
#include "models/hw/cache.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "models/common/bits.h"
#include "models/hw/setassoc.h"

static const char *const repl_names[] = {"lru", "plru", "random", "srrip", "brrip", "drrip"};
static const char *const wp_names[] = {"writeback", "writethrough", "reference"};
static const char *const incl_names[] = {"non-inclusive", "inclusive", "exclusive"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int index_of(const char *const *names, size_t n, const char *s)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

const char *cache_repl_name(enum cache_repl r)
{
    return (unsigned)r < COUNT(repl_names) ? repl_names[r] : "?";
}

int cache_repl_from_name(const char *s)
{
    return index_of(repl_names, COUNT(repl_names), s);
}

const char *cache_write_policy_name(enum cache_write_policy w)
{
    return (unsigned)w < COUNT(wp_names) ? wp_names[w] : "?";
}

int cache_write_policy_from_name(const char *s)
{
    return index_of(wp_names, COUNT(wp_names), s);
}

const char *cache_inclusion_name(enum cache_inclusion i)
{
    return (unsigned)i < COUNT(incl_names) ? incl_names[i] : "?";
}

int cache_inclusion_from_name(const char *s)
{
    return index_of(incl_names, COUNT(incl_names), s);
}

/* "48K", "8M", "1G" when the size is a whole number of those units, else plain bytes. */
static const char *fmt_size(char *buf, size_t n, uint64_t v)
{
    if (v && v % (1ull << 30) == 0)
        snprintf(buf, n, "%" PRIu64 "G", v >> 30);
    else if (v && v % (1ull << 20) == 0)
        snprintf(buf, n, "%" PRIu64 "M", v >> 20);
    else if (v && v % 1024 == 0)
        snprintf(buf, n, "%" PRIu64 "K", v >> 10);
    else
        snprintf(buf, n, "%" PRIu64, v);
    return buf;
}

int cache_params_check(const struct cache_params *p, mm_err *err)
{
    char sz[32];
    if (p->size == 0)
        return mm_errf(err, "size must be non-zero");
    if (p->assoc == 0)
        return mm_errf(err, "assoc must be non-zero");
    if (p->line == 0)
        return mm_errf(err, "line must be non-zero");
    if (!is_pow2_u64(p->line))
        return mm_errf(err, "line %u is not a power of two", p->line);
    uint64_t way_bytes = (uint64_t)p->assoc * p->line;
    if (p->size % way_bytes != 0)
        return mm_errf(err, "size %s is not a multiple of assoc %u x line %u",
                       fmt_size(sz, sizeof sz, p->size), p->assoc, p->line);
    uint64_t sets = p->size / way_bytes;
    if (!is_pow2_u64(sets))
        return mm_errf(err, "set count %" PRIu64 " is not a power of two (size %s / (assoc %u x line %u))",
                       sets, fmt_size(sz, sizeof sz, p->size), p->assoc, p->line);
    if (p->assoc > CACHE_MAX_WAYS)
        return mm_errf(err, "assoc %u is above the maximum %u", p->assoc, CACHE_MAX_WAYS);
    if ((unsigned)p->repl >= COUNT(repl_names))
        return mm_errf(err, "replacement policy %d is unknown", (int)p->repl);
    if (p->repl == REPL_PLRU && !is_pow2_u64(p->assoc))
        return mm_errf(err, "plru replacement needs a power-of-two assoc, not %u", p->assoc);
    if ((unsigned)p->write_policy >= COUNT(wp_names))
        return mm_errf(err, "write policy %d is unknown", (int)p->write_policy);
    if ((unsigned)p->inclusion >= COUNT(incl_names))
        return mm_errf(err, "inclusion %d is unknown", (int)p->inclusion);
    return 0;
}
