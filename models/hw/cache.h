/* Set-associative cache model. One core serves caches now and TLBs and page-walk caches later:
 * sets of ways with tags, replacement policies behind a switch the compiler can inline.
 * This header is the contract between the cache model and the engine (sim/). */
#ifndef MMUSIM_HW_CACHE_H
#define MMUSIM_HW_CACHE_H

#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"

enum cache_repl { REPL_LRU, REPL_PLRU, REPL_RANDOM, REPL_SRRIP, REPL_BRRIP, REPL_DRRIP };
enum cache_write_policy {
    WP_WRITEBACK_ALLOCATE,     /* write-back + write-allocate: dirty lines written back on eviction */
    WP_WRITETHROUGH_NOALLOCATE,/* write-through + no-write-allocate: every store goes down */
    WP_REFERENCE_ONLY,         /* cachegrind's model: a store is a reference that allocates like a
                                  load; no dirty state, nothing sent down on eviction */
};
enum cache_inclusion { INCL_NON_INCLUSIVE, INCL_INCLUSIVE, INCL_EXCLUSIVE };

const char *cache_repl_name(enum cache_repl r);           /* "lru", "plru", "random", "srrip", "brrip", "drrip" */
int cache_repl_from_name(const char *s);                  /* -1 if unknown */
const char *cache_write_policy_name(enum cache_write_policy w); /* "writeback", "writethrough", "reference" */
int cache_write_policy_from_name(const char *s);
const char *cache_inclusion_name(enum cache_inclusion i);  /* "non-inclusive", "inclusive", "exclusive" */
int cache_inclusion_from_name(const char *s);

struct cache_params {
    const char *name;        /* "l1d": stats go under "cache.<name>." */
    uint64_t size;           /* bytes */
    unsigned assoc;          /* ways; assoc == size/line means fully associative */
    unsigned line;           /* bytes, power of two */
    unsigned latency;        /* cycles for a hit at this level */
    enum cache_repl repl;
    enum cache_write_policy write_policy;
    enum cache_inclusion inclusion; /* meaningful for the LLC (relative to the levels above) */
    uint64_t seed;           /* for random replacement and BRRIP/DRRIP */
};

/* Validates geometry (size multiple of assoc*line, power-of-two line and set count, non-zero)
 * and returns 0, or -1 with err naming the rule broken. */
int cache_params_check(const struct cache_params *p, mm_err *err);

/* Levels a memory access can be served from. */
enum mem_level { LEVEL_L1 = 1, LEVEL_L2 = 2, LEVEL_LLC = 3, LEVEL_MEM = 4 };

/* The hierarchy of one machine: per-CPU L1I, L1D and optional L2, an optional shared LLC.
 * Statistics are registered in reg under cache.l1i, cache.l1d, cache.l2, cache.llc (with per-CPU
 * instances named cache.cpuN.l1d when ncpus > 1). */
typedef struct cache_hier cache_hier;

struct cache_hier_params {
    unsigned ncpus;
    struct cache_params l1i, l1d, l2, llc;
    int l2_enabled, llc_enabled;
    unsigned mem_latency;    /* cycles for an access that misses every level */
    int coherence;           /* ncpus > 1: stores invalidate other cpus' private copies (below) */
};

cache_hier *cache_hier_create(const struct cache_hier_params *p, stats_registry *reg, mm_err *err);
void cache_hier_destroy(cache_hier *h);

/* Memory behind the last level: by default an access that misses every level costs
 * mem_latency; with a reader set, the reader is asked for the line's latency instead (a DRAM
 * model with row buffers and banks). addr is the first byte of the access's line. */
typedef uint32_t (*cache_mem_read_fn)(void *ctx, uint64_t addr);
void cache_hier_set_memory(cache_hier *h, cache_mem_read_fn fn, void *ctx);

struct mem_result {
    uint32_t latency;  /* cycles: the sum of the latencies of the levels looked up, plus memory */
    uint8_t level;     /* enum mem_level that served the access (the worst line if it straddles) */
};

/* One access of `size` bytes at `addr` (physical, or virtual when translate=false) by cpu.
 * type is MM_EV_READ, MM_EV_WRITE, MM_EV_IFETCH or MM_EV_RMW (traces/event.h). Straddling accesses
 * touch both lines and count once (a miss if either line missed), as cachegrind does. No allocation. */
struct mem_result cache_hier_access(cache_hier *h, unsigned cpu, uint64_t addr, uint32_t size,
                                    unsigned type);

/* An access that enters the hierarchy at `level` (LEVEL_L1 = the cpu's L1D, LEVEL_L2, LEVEL_LLC):
 * how page-walker loads reach the caches. Counted in that level's stats like any access. */
struct mem_result cache_hier_access_from(cache_hier *h, unsigned cpu, enum mem_level level,
                                         uint64_t addr, uint32_t size, unsigned type);

/* A hint, no state change and nothing counted: ask the host to bring in the sets that an access
 * to addr would look up at every level. The tag stores of large caches do not fit in the host's
 * caches; an engine that calls this a few records ahead of cache_hier_access hides that latency. */
void cache_hier_prefetch(const cache_hier *h, unsigned cpu, uint64_t addr, unsigned type);

/* For tests: 0 makes every access take the general path, which handles every configuration;
 * 1 (the default) lets the plain configurations take the specialised one. Counts are the same. */
void cache_hier_set_specialised(cache_hier *h, int on);

/* The caches of one cpu, for probes and maintenance. */
enum cache_which { CACHE_L1I, CACHE_L1D, CACHE_L2, CACHE_LLC };

/* 1 if the line holding addr is in that cache (cpu is ignored for the LLC), 0 if it is not or the
 * cache is not configured. Changes no state and counts nothing. */
int cache_hier_contains(const cache_hier *h, unsigned cpu, enum cache_which which, uint64_t addr);

/* Empty every cache of every cpu; dirty lines are written to memory and counted as writebacks
 * of the cache that held them (wbinvd). */
void cache_hier_flush(cache_hier *h);

/* Remove every line overlapping [addr, addr + len) from every cache of every cpu (page freed,
 * migrated or written by a device); dirty lines are written to memory and counted as writebacks. */
void cache_hier_invalidate_range(cache_hier *h, uint64_t addr, uint64_t len);

#endif
