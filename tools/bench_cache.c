/* Speed of cache_hier_access alone on a synthetic mix: 50% sequential 8-byte steps over 64 MiB,
 * 30% uniform random over 1 GiB (missing everywhere), 20% random within a hot 256 KiB, 70% reads.
 * Hierarchy: L1I/L1D 32K 8-way, L2 1M 16-way, LLC 8M 16-way, 64 B lines.
 * Not a test: prints M accesses/s. Usage: bench_cache [repl] [write-policy] [inclusion] [M accesses]
 * Environment: MIX=seq,rand (percent), AHEAD=n (prefetch n ahead), RUNS=k (draw the component once
 * per k accesses), SMALL (a 16K L2 and a 64K LLC). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "models/common/rng.h"
#include "models/common/stats.h"
#include "models/common/xalloc.h"
#include "models/hw/cache.h"
#include "traces/event.h"

struct acc {
    uint64_t addr;
    uint32_t type;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of this process: on a shared machine, time spent descheduled does not count. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static struct cache_params mk(const char *name, uint64_t size, unsigned assoc, unsigned lat,
                              enum cache_repl r, enum cache_write_policy wp, enum cache_inclusion in)
{
    struct cache_params p = {name, size, assoc, 64, lat, r, wp, in, 1};
    return p;
}

/* The measured part, a function of its own so that a profiler can collect it alone
 * (valgrind --tool=callgrind --toggle-collect=timed_loop). */
static __attribute__((noinline)) uint64_t timed_loop(cache_hier *h, const struct acc *a, size_t n,
                                                     uint64_t total, unsigned ahead)
{
    uint64_t sink = 0;
    for (uint64_t done = 0; done < total;) {
        for (size_t i = 0; i < n && done < total; i++, done++) {
            if (ahead)
                cache_hier_prefetch(h, 0, a[(i + ahead) & (n - 1)].addr, a[(i + ahead) & (n - 1)].type);
            sink += cache_hier_access(h, 0, a[i].addr, 8, a[i].type).latency;
        }
    }
    return sink;
}

int main(int argc, char **argv)
{
    int repl = argc > 1 ? cache_repl_from_name(argv[1]) : REPL_LRU;
    int wp = argc > 2 ? cache_write_policy_from_name(argv[2]) : WP_WRITEBACK_ALLOCATE;
    int incl = argc > 3 ? cache_inclusion_from_name(argv[3]) : INCL_NON_INCLUSIVE;
    uint64_t total = (argc > 4 ? strtoull(argv[4], NULL, 10) : 50) * 1000000ull;
    if (repl < 0 || wp < 0 || incl < 0) {
        fprintf(stderr, "usage: bench_cache [lru|plru|random|srrip|brrip|drrip] "
                        "[writeback|writethrough|reference] [non-inclusive|inclusive|exclusive] [M]\n");
        return 2;
    }
    struct cache_hier_params hp = {
        .ncpus = 1,
        .l1i = mk("l1i", 32 << 10, 8, 4, repl, wp, INCL_NON_INCLUSIVE),
        .l1d = mk("l1d", 32 << 10, 8, 4, repl, wp, INCL_NON_INCLUSIVE),
        .l2 = mk("l2", getenv("SMALL") ? 16 << 10 : 1 << 20, 16, 12, repl, wp, INCL_NON_INCLUSIVE),
        .llc = mk("llc", getenv("SMALL") ? 64 << 10 : 8 << 20, 16, 40, repl, wp, incl),
        .l2_enabled = 1,
        .llc_enabled = 1,
        .mem_latency = 200,
    };
    stats_registry *reg = stats_create();
    mm_err err;
    cache_hier *h = cache_hier_create(&hp, reg, &err);
    if (!h) {
        fprintf(stderr, "bench_cache: %s\n", err.msg);
        return 2;
    }

    enum { N = 1 << 21 };
    struct acc *a = xmalloc(N * sizeof *a);
    rng r;
    rng_seed(&r, 7);
    uint64_t seq = 0;
    unsigned pseq = 50, prand = 30; /* MIX=seq,random (percent; the rest is hot) */
    if (getenv("MIX"))
        sscanf(getenv("MIX"), "%u,%u", &pseq, &prand);
    /* RUNS=k: the component (sequential, random, hot) is drawn once per k accesses instead of
     * per access: the same proportions with predictable hits and misses */
    unsigned runs = getenv("RUNS") ? (unsigned)atoi(getenv("RUNS")) : 1;
    uint64_t x = 0;
    for (size_t i = 0; i < N; i++) {
        if (runs <= 1 || i % runs == 0)
            x = rng_below(&r, 100);
        if (x < pseq) {
            a[i].addr = seq;
            seq = (seq + 8) & ((64ull << 20) - 1);
        } else if (x < pseq + prand) {
            a[i].addr = (4ull << 30) + (rng_below(&r, 1ull << 30) & ~7ull);
        } else {
            a[i].addr = (8ull << 30) + (rng_below(&r, 256ull << 10) & ~7ull);
        }
        a[i].type = rng_below(&r, 100) < 70 ? MM_EV_READ : MM_EV_WRITE;
    }

    /* warm up once, then time */
    uint64_t sink = 0;
    for (size_t i = 0; i < N; i++)
        sink += cache_hier_access(h, 0, a[i].addr, 8, a[i].type).latency;
    stats_reset(reg);
    unsigned ahead = getenv("AHEAD") ? (unsigned)atoi(getenv("AHEAD")) : 0;
    double t0 = now(), c0 = cpu_now();
    sink += timed_loop(h, a, N, total, ahead);
    double dt = now() - t0, ct = cpu_now() - c0;
    printf("%s/%s/%s: %.1f M accesses/s (%.2f ns/access, %llu accesses; cpu time %.1f M/s)\n",
           cache_repl_name((enum cache_repl)repl), cache_write_policy_name((enum cache_write_policy)wp),
           cache_inclusion_name((enum cache_inclusion)incl), (double)total / dt / 1e6,
           dt * 1e9 / (double)total, (unsigned long long)total, (double)total / ct / 1e6);
    const char *names[] = {"cache.l1d.miss_rate", "cache.l2.miss_rate", "cache.llc.miss_rate"};
    for (int i = 0; i < 3; i++)
        printf("  %s = %.4f\n", names[i], stats_ratio_value(stats_find(reg, names[i])));
    printf("  mean latency %.1f cycles\n", (double)sink / (double)(total + N));
    cache_hier_destroy(h);
    stats_destroy(reg);
    free(a);
    return 0;
}
