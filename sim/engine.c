#include "sim/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"
#include "models/hw/cache.h"
#include "models/hw/dram.h"
#include "sim/translate.h"

#define ENGINE_BATCH 4096

/* A cpu's simulated time. With several traces, each runs on its own cpu and the engine always
 * advances the cpu that is furthest behind, as multi-core trace simulators interleave. */
struct cpu_time {
    uint64_t cycles_fx;    /* x 1024 */
    uint64_t cycles;       /* cycles_fx / 1024, refreshed after each batch */
    uint64_t instructions;
    uint64_t stall_cycles; /* latency beyond an L1 hit, summed over accesses */
};

struct engine {
    stats_registry *reg;
    cache_hier *caches;
    xlate *xl; /* the translate path when [mmu] translate */
    dram *memory; /* the row-buffer DRAM model ([dram] model = rowbuffer), else NULL */
    int translate;
    unsigned ncpus;
    uint32_t clip_size; /* data accesses are cut to this many bytes (cachegrind's rule) */

    /* counters; the hot loop increments them directly */
    uint64_t records;
    uint64_t accesses;
    uint64_t by_type[4]; /* indexed by MM_EV_READ .. MM_EV_RMW */
    uint64_t os_events;
    uint64_t instructions;
    uint64_t access_cycles;
    uint64_t bad_records;
    uint64_t page_splits;   /* accesses that straddle two pages (two translations) */
    uint64_t failed;        /* accesses whose fault could not be handled */
    /* the core model: cycles = instructions x CPI + stall cycles x (1 - overlap), kept in fixed
     * point (1/1024 cycle) so that the hot loop only adds integers */
    uint32_t l1_latency;    /* the part of an access's latency the base CPI already covers */
    uint64_t cpi_fx, exposed_fx; /* CPI and (1 - overlap), x 1024 */
    struct cpu_time *cpus;  /* one per cpu */
    hist latency_data;
    hist latency_ifetch;
    hist *latency_of_type[4]; /* by access type: ifetches apart from data */

    struct mm_event *batch;

    /* --symbols: the observer, and the walker's walk counters it reads around each access */
    const struct engine_observer *obs;
    const uint64_t **walk_counters;
    size_t nwalk_counters;
    uint64_t walks_seen;
};

void engine_set_observer(engine *e, const struct engine_observer *obs)
{
    e->obs = obs;
    free(e->walk_counters);
    e->walk_counters = NULL;
    e->nwalk_counters = 0;
    size_t n = stats_count(e->reg);
    for (size_t i = 0; i < n; i++) {
        const stats_entry *s = stats_at(e->reg, i);
        const char *dot = strrchr(s->name, '.');
        if (s->kind == STATS_COUNTER && dot && !strcmp(dot, ".walks") && !strncmp(s->name, "walker", 6)) {
            e->walk_counters = xrealloc(e->walk_counters, (e->nwalk_counters + 1) * sizeof *e->walk_counters);
            e->walk_counters[e->nwalk_counters++] = s->counter;
        }
    }
    e->walks_seen = 0;
    for (size_t i = 0; i < e->nwalk_counters; i++)
        e->walks_seen += *e->walk_counters[i];
}

/* the observer's share of an access: off the hot path */
static __attribute__((noinline)) void observe_access(engine *e, const struct mm_event *ev, unsigned level)
{
    uint64_t walks = 0;
    for (size_t i = 0; i < e->nwalk_counters; i++)
        walks += *e->walk_counters[i];
    uint64_t delta = walks >= e->walks_seen ? walks - e->walks_seen : walks;
    e->walks_seen = walks;
    e->obs->access(e->obs->ctx, ev, level, delta);
}

/* statistics were reset: the observer's counts too */
static void observe_reset(engine *e)
{
    e->walks_seen = 0;
    if (e->obs && e->obs->reset)
        e->obs->reset(e->obs->ctx);
}

unsigned engine_ncpus(const engine *e)
{
    return e->ncpus;
}

const char *engine_end_name(enum engine_end end)
{
    switch (end) {
    case ENGINE_END_COMPLETE: return "complete";
    case ENGINE_END_MAX: return "max";
    case ENGINE_END_INTERRUPTED: return "interrupted";
    case ENGINE_END_ERROR: return "error";
    }
    return "?";
}

/* Reads [cache.NAME] into params and checks its geometry; errors name the config line. */
static int cache_params_from_config(const sim_config *cfg, const char *name,
                                    struct cache_params *p, int *enabled, uint64_t seed,
                                    mm_err *err)
{
    char section[64];
    snprintf(section, sizeof section, "cache.%s", name);
    uint64_t size, assoc, line, latency;
    int repl, wp, incl;
    if (config_get_bool(cfg, section, "enabled", enabled, err) ||
        config_get_u64(cfg, section, "size", &size, err) ||
        config_get_u64(cfg, section, "assoc", &assoc, err) ||
        config_get_u64(cfg, section, "line", &line, err) ||
        config_get_u64(cfg, section, "latency", &latency, err) ||
        config_get_enum(cfg, section, "replacement", &repl, err) ||
        config_get_enum(cfg, section, "write_policy", &wp, err) ||
        config_get_enum(cfg, section, "inclusion", &incl, err))
        return -1;
    memset(p, 0, sizeof *p);
    p->name = name;
    p->size = size;
    p->assoc = (unsigned)assoc;
    p->line = (unsigned)line;
    p->latency = (unsigned)latency;
    /* the schema's choices are listed in the enums' order */
    p->repl = (enum cache_repl)repl;
    p->write_policy = (enum cache_write_policy)wp;
    p->inclusion = (enum cache_inclusion)incl;
    p->seed = seed;
    if (!*enabled)
        return 0;
    if (strcmp(name, "llc") && incl != INCL_NON_INCLUSIVE)
        return mm_errf(err, "%s: only the LLC takes an inclusion policy",
                       config_where(cfg, section, "inclusion"));
    mm_err geom;
    if (cache_params_check(p, &geom))
        return mm_errf(err, "%s: [%s] %s", config_where(cfg, section, "size"), section, geom.msg);
    return 0;
}

/* Refuses up front a machine whose models would not fit in this host's memory, with the figure,
 * rather than failing an allocation part way (the tag stores are the large part: about 24 bytes
 * per line with tag, replacement state and dirty bits). */
static int check_host_memory(const struct cache_hier_params *hp, mm_err *err)
{
    const struct cache_params *levels[4] = {&hp->l1i, &hp->l1d, hp->l2_enabled ? &hp->l2 : NULL,
                                            hp->llc_enabled ? &hp->llc : NULL};
    double need = 0;
    for (int i = 0; i < 4; i++) {
        if (!levels[i])
            continue;
        double copies = i < 3 ? (double)hp->ncpus : 1.0;
        need += copies * (double)(levels[i]->size / levels[i]->line) * 24.0;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double have = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    if (have > 0 && need > 0.75 * have)
        return mm_errf(err, "the configured caches need about %.1f GiB of host memory for their tag "
                            "stores; this machine has %.1f GiB (at most 75%% may be used)",
                       need / (1u << 30), have / (1u << 30));
    return 0;
}

static uint32_t engine_dram_read(void *ctx, uint64_t addr)
{
    return dram_access(ctx, addr, 0);
}

/* [dram] model = rowbuffer: the memory controller behind the LLC (one node for now). */
static int dram_from_config(engine *e, const sim_config *cfg, unsigned line, stats_registry *reg,
                            mm_err *err)
{
    int model;
    if (config_get_enum(cfg, "dram", "model", &model, err))
        return -1;
    if (model != DRAM_ROWBUFFER)
        return 0;
    uint64_t channels, ranks, banks, row, trcd, tcas, trp, clock, ctl, freq;
    int policy;
    if (config_get_u64(cfg, "dram", "channels", &channels, err) ||
        config_get_u64(cfg, "dram", "ranks", &ranks, err) ||
        config_get_u64(cfg, "dram", "banks", &banks, err) ||
        config_get_u64(cfg, "dram", "row_size", &row, err) ||
        config_get_u64(cfg, "dram", "tRCD", &trcd, err) ||
        config_get_u64(cfg, "dram", "tCAS", &tcas, err) ||
        config_get_u64(cfg, "dram", "tRP", &trp, err) ||
        config_get_u64(cfg, "dram", "clock_mhz", &clock, err) ||
        config_get_u64(cfg, "dram", "controller_latency", &ctl, err) ||
        config_get_u64(cfg, "core", "frequency_mhz", &freq, err) ||
        config_get_enum(cfg, "dram", "page_policy", &policy, err))
        return -1;
    struct dram_params p = {
        .name = "dram", .model = DRAM_ROWBUFFER, .channels = (unsigned)channels,
        .ranks = (unsigned)ranks, .banks = (unsigned)banks, .row_size = row, .line = line,
        .mapping = config_get_string(cfg, "dram", "mapping"),
        .page_policy = policy ? DRAM_CLOSED_PAGE : DRAM_OPEN_PAGE, .tRCD = (unsigned)trcd,
        .tCAS = (unsigned)tcas, .tRP = (unsigned)trp, .dram_mhz = (double)clock,
        .cpu_mhz = (double)freq, .controller_latency = (unsigned)ctl,
    };
    mm_err why;
    if (dram_params_check(&p, &why))
        return mm_errf(err, "%s: [dram] %s", config_where(cfg, "dram", "model"), why.msg);
    e->memory = dram_create(&p, reg, err);
    if (!e->memory)
        return -1;
    cache_hier_set_memory(e->caches, engine_dram_read, e->memory);
    return 0;
}

engine *engine_create(const sim_config *cfg, uint64_t seed, stats_registry *reg, mm_err *err)
{
    engine *e = xcalloc(1, sizeof *e);
    e->reg = reg;
    uint64_t ncpus;
    if (config_get_u64(cfg, "system", "cpus", &ncpus, err))
        goto fail;
    e->ncpus = (unsigned)ncpus;
    e->cpus = xcalloc(e->ncpus, sizeof *e->cpus);
    hist_init(&e->latency_data);
    hist_init(&e->latency_ifetch);
    e->latency_of_type[MM_EV_READ] = e->latency_of_type[MM_EV_WRITE] = &e->latency_data;
    e->latency_of_type[MM_EV_RMW] = &e->latency_data;
    e->latency_of_type[MM_EV_IFETCH] = &e->latency_ifetch;
    e->batch = xmalloc(ENGINE_BATCH * sizeof *e->batch);

    struct cache_hier_params hp;
    memset(&hp, 0, sizeof hp);
    hp.ncpus = e->ncpus;
    if (config_get_bool(cfg, "system", "coherence", &hp.coherence, err))
        goto fail;
    int l1i_on, l1d_on;
    uint64_t dram_latency, page_size;
    if (cache_params_from_config(cfg, "l1i", &hp.l1i, &l1i_on, seed, err) ||
        cache_params_from_config(cfg, "l1d", &hp.l1d, &l1d_on, seed, err) ||
        cache_params_from_config(cfg, "l2", &hp.l2, &hp.l2_enabled, seed, err) ||
        cache_params_from_config(cfg, "llc", &hp.llc, &hp.llc_enabled, seed, err) ||
        config_get_u64(cfg, "dram", "latency", &dram_latency, err) ||
        config_get_u64(cfg, "mmu", "page_size", &page_size, err) ||
        config_get_bool(cfg, "mmu", "translate", &e->translate, err))
        goto fail;
    if (!l1i_on || !l1d_on) {
        mm_errf(err, "%s: the L1 caches cannot be disabled",
                config_where(cfg, l1i_on ? "cache.l1d" : "cache.l1i", "enabled"));
        goto fail;
    }
    if (!is_pow2_u64(page_size)) {
        mm_errf(err, "%s: page size must be a power of two", config_where(cfg, "mmu", "page_size"));
        goto fail;
    }
    hp.mem_latency = (unsigned)dram_latency;
    if (check_host_memory(&hp, err))
        goto fail;
    int clip;
    if (config_get_bool(cfg, "cache", "clip_to_line", &clip, err))
        goto fail;
    e->clip_size = MM_ACCESS_MAX_SIZE;
    if (clip) {
        const struct cache_params *levels[4] = {&hp.l1i, &hp.l1d, hp.l2_enabled ? &hp.l2 : NULL,
                                                hp.llc_enabled ? &hp.llc : NULL};
        for (int i = 0; i < 4; i++)
            if (levels[i] && levels[i]->line < e->clip_size)
                e->clip_size = levels[i]->line;
    }
    e->caches = cache_hier_create(&hp, reg, err);
    if (!e->caches)
        goto fail;
    if (dram_from_config(e, cfg, hp.llc_enabled ? hp.llc.line : hp.l2_enabled ? hp.l2.line : hp.l1d.line,
                         reg, err))
        goto fail;
    if (e->translate) {
        e->xl = xlate_create(cfg, e->ncpus, e->caches, seed, reg, err);
        if (!e->xl)
            goto fail;
        stats_counter(reg, "mmu", "page_splits", &e->page_splits,
                      "accesses that straddle two pages: two translations and two cache accesses");
        stats_counter(reg, "mmu", "failed_accesses", &e->failed,
                      "accesses not performed because their page fault could not be handled");
    }

    double cpi, overlap;
    if (config_get_double(cfg, "core", "cpi", &cpi, err) ||
        config_get_double(cfg, "core", "overlap", &overlap, err))
        goto fail;
    e->cpi_fx = (uint64_t)(cpi * 1024.0 + 0.5);
    e->exposed_fx = (uint64_t)((1.0 - overlap) * 1024.0 + 0.5);
    e->l1_latency = hp.l1d.latency;
    for (unsigned c = 0; c < e->ncpus; c++) {
        char prefix[32];
        if (e->ncpus == 1)
            snprintf(prefix, sizeof prefix, "cpu");
        else
            snprintf(prefix, sizeof prefix, "cpu.cpu%u", c);
        struct cpu_time *t = &e->cpus[c];
        stats_counter(reg, prefix, "cycles", &t->cycles,
                      "core cycles: instructions x [core] cpi + stall cycles x (1 - [core] overlap)");
        stats_counter(reg, prefix, "instructions", &t->instructions, "instructions retired");
        stats_counter(reg, prefix, "stall_cycles", &t->stall_cycles,
                      "access latency beyond an L1 hit, summed (before the overlap factor)");
        stats_ratio(reg, prefix, "ipc", &t->instructions, &t->cycles, 1.0, "instructions per cycle");
    }
    stats_counter(reg, "sim", "records", &e->records, "trace records simulated (accesses and OS events)");
    stats_counter(reg, "sim", "accesses", &e->accesses, "memory accesses simulated");
    stats_counter(reg, "sim", "reads", &e->by_type[MM_EV_READ], "data loads");
    stats_counter(reg, "sim", "writes", &e->by_type[MM_EV_WRITE], "data stores");
    stats_counter(reg, "sim", "ifetches", &e->by_type[MM_EV_IFETCH], "instruction fetches");
    stats_counter(reg, "sim", "rmws", &e->by_type[MM_EV_RMW], "read-modify-write accesses");
    stats_counter(reg, "sim", "os_events", &e->os_events, "OS events in the traces");
    stats_counter(reg, "sim", "instructions", &e->instructions,
                  "instructions retired (from the traces' instruction counts; 0 if unknown)");
    stats_counter(reg, "sim", "access_cycles", &e->access_cycles,
                  "cycles spent in memory accesses (sum of access latencies)");
    stats_counter(reg, "sim", "bad_records", &e->bad_records, "bad records skipped (--keep-going)");
    stats_ratio(reg, "sim", "amat", &e->access_cycles, &e->accesses, 1.0,
                "average memory access time in cycles");
    stats_histogram(reg, NULL, "latency", &e->latency_data, "data access latency in cycles");
    stats_histogram(reg, NULL, "ifetch_latency", &e->latency_ifetch,
                    "instruction fetch latency in cycles");

    /* MPKI for every cache and TLB: misses per thousand instructions (reported only when known) */
    size_t n = stats_count(reg);
    for (size_t i = 0; i < n; i++) {
        const stats_entry *s = stats_at(reg, i);
        size_t len = strlen(s->name);
        if (s->kind == STATS_COUNTER &&
            (!strncmp(s->name, "cache.", 6) || !strncmp(s->name, "tlb.", 4)) && len > 7 &&
            !strcmp(s->name + len - 7, ".misses")) {
            char prefix[256];
            snprintf(prefix, sizeof prefix, "%.*s", (int)(len - 7), s->name);
            stats_ratio(reg, prefix, "mpki", s->counter, &e->instructions, 1000.0,
                        "misses per thousand instructions");
        }
    }
    return e;
fail:
    engine_destroy(e);
    return NULL;
}

void engine_destroy(engine *e)
{
    if (!e)
        return;
    dram_destroy(e->memory);
    xlate_destroy(e->xl);
    cache_hier_destroy(e->caches);
    free(e->batch);
    free(e->walk_counters);
    free(e->cpus);
    free(e);
}

/* Where the run stands against --warmup, --interval and --max, checked once per access by a
 * single comparison with `next_mark`. */
struct run_marks {
    uint64_t done;      /* accesses simulated since the run started (after skip) */
    uint64_t next_mark; /* the next value of `done` at which something happens */
    int warm;           /* warmup over: statistics on */
    uint64_t bad;       /* index in the batch of a bad record */
};

static uint64_t next_mark_after(const struct engine_opts *o, const struct run_marks *m)
{
    uint64_t next = UINT64_MAX;
    if (!m->warm)
        return o->warmup;
    uint64_t measured = m->done - o->warmup;
    if (o->interval) {
        uint64_t t = o->warmup + (measured / o->interval + 1) * o->interval;
        if (t < next)
            next = t;
    }
    if (o->max && o->warmup + o->max < next)
        next = o->warmup + o->max;
    return next;
}

/* The per-cpu cycle counters and the machine's instruction count, from the hot loop's state:
 * called after each batch and before anything reads the counters. */
static void refresh_cycles(engine *e)
{
    uint64_t instructions = 0;
    for (unsigned c = 0; c < e->ncpus; c++) {
        e->cpus[c].cycles = e->cpus[c].cycles_fx >> 10;
        instructions += e->cpus[c].instructions;
    }
    e->instructions = instructions;
}

/* Returns 1 when the run must stop (max reached). */
static int at_mark(engine *e, const struct engine_opts *o, struct run_marks *m)
{
    if (!m->warm) {
        stats_reset(e->reg);
        observe_reset(e);
        for (unsigned c = 0; c < e->ncpus; c++)
            e->cpus[c].cycles_fx = 0;
        m->warm = 1;
    } else {
        uint64_t measured = m->done - o->warmup;
        refresh_cycles(e);
        if (o->interval && measured % o->interval == 0 && o->on_interval)
            o->on_interval(o->interval_ctx, measured);
        if (o->max && measured >= o->max) {
            m->next_mark = UINT64_MAX;
            return 1;
        }
    }
    m->next_mark = next_mark_after(o, m);
    return 0;
}

/* An access that straddles two pages: each page translated, each piece a cache access of its own
 * (the hierarchy takes one physically contiguous range); the slower piece sets the latency. */
static __attribute__((noinline)) struct mem_result split_access(engine *e, const struct mm_event *ev,
                                                                uint32_t size, uint64_t pa,
                                                                uint32_t tlat)
{
    e->page_splits++;
    uint32_t first = 4096u - (uint32_t)(ev->addr & 0xfff);
    uint64_t pa2;
    struct mem_result r = {tlat, LEVEL_L1};
    if (xlate_access(e->xl, ev->cpu, ev->pid, ev->addr + first, ev->type, &pa2, &r.latency)) {
        e->failed++;
        return r;
    }
    struct mem_result a = cache_hier_access(e->caches, ev->cpu, pa, first, ev->type);
    struct mem_result b = cache_hier_access(e->caches, ev->cpu, pa2, size - first, ev->type);
    r.latency += a.latency > b.latency ? a.latency : b.latency;
    r.level = a.level > b.level ? a.level : b.level;
    return r;
}

/* translate (TLB, walk, fault) then the caches; the latency is the sum */
static inline struct mem_result translated_access(engine *e, const struct mm_event *ev, uint32_t size)
{
    uint64_t pa;
    uint32_t tlat = 0;
    if (__builtin_expect(xlate_access(e->xl, ev->cpu, ev->pid, ev->addr, ev->type, &pa, &tlat), 0)) {
        e->failed++;
        struct mem_result r = {tlat, LEVEL_L1};
        return r;
    }
    if (__builtin_expect((ev->addr & 0xfff) + size > 4096u, 0))
        return split_access(e, ev, size, pa, tlat);
    struct mem_result r = cache_hier_access(e->caches, ev->cpu, pa, size, ev->type);
    r.latency += tlat;
    return r;
}

static int check_access(const struct mm_event *ev, const engine *e, size_t ti, uint64_t index,
                        mm_err *err)
{
    if (ev->size == 0 || ev->size > MM_ACCESS_MAX_SIZE)
        return mm_errf(err, "trace %zu: record %llu: access size %u (expected 1..%u)", ti,
                       (unsigned long long)index, ev->size, MM_ACCESS_MAX_SIZE);
    if (ev->cpu >= e->ncpus)
        return mm_errf(err, "trace %zu: record %llu: cpu %u, but the machine has %u cpu(s)", ti,
                       (unsigned long long)index, ev->cpu, e->ncpus);
    return 0;
}

/* RECORD_ACCESS: an access was simulated (the caller counts it against the run's marks) */
enum record_end { RECORD_OK, RECORD_ACCESS, RECORD_BAD };

/* One record: an OS event to the kernel model, or an access through translation and the caches,
 * then the counters and the core's time. Inlined into both loops with translate constant. */
static inline __attribute__((always_inline)) enum record_end
simulate_record(engine *e, const struct engine_opts *o, struct engine_result *res,
                const struct mm_event *ev, const int translate)
{
    e->records++;
    res->records++;
    if (__builtin_expect(!mm_event_is_access(ev), 0)) {
        e->os_events++;
        if (ev->cpu < e->ncpus) {
            e->cpus[ev->cpu].instructions += ev->gap;
            e->cpus[ev->cpu].cycles_fx += (uint64_t)ev->gap * e->cpi_fx;
        }
        if (translate)
            xlate_os_event(e->xl, ev);
        if (e->obs && e->obs->os_event)
            e->obs->os_event(e->obs->ctx, ev);
        return RECORD_OK;
    }
    if (__builtin_expect(ev->size == 0 || ev->size > MM_ACCESS_MAX_SIZE || ev->cpu >= e->ncpus, 0)) {
        if (o->keep_going) {
            e->bad_records++;
            return RECORD_OK;
        }
        return RECORD_BAD;
    }
    uint32_t size = ev->size;
    if (ev->type != MM_EV_IFETCH && size > e->clip_size)
        size = e->clip_size;
    struct mem_result r;
    if (translate)
        r = translated_access(e, ev, size);
    else
        r = cache_hier_access(e->caches, ev->cpu, ev->addr, size, ev->type);
    struct cpu_time *t = &e->cpus[ev->cpu];
    e->accesses++;
    e->by_type[ev->type]++;
    e->access_cycles += r.latency;
    uint32_t stall = r.latency > e->l1_latency ? r.latency - e->l1_latency : 0;
    t->instructions += ev->gap;
    t->stall_cycles += stall;
    t->cycles_fx += (uint64_t)ev->gap * e->cpi_fx + (uint64_t)stall * e->exposed_fx;
    hist_record(e->latency_of_type[ev->type], r.latency);
    if (__builtin_expect(e->obs != NULL, 0))
        observe_access(e, ev, r.level);
    return RECORD_ACCESS;
}

enum batch_end { BATCH_DONE, BATCH_MAX, BATCH_BAD };

/* The records of one batch of one trace. Specialised for translate off and on (the call sites
 * pass a constant), so the cache-only loop carries nothing of the translate path. */
static inline __attribute__((always_inline)) enum batch_end
run_batch(engine *e, const struct engine_opts *o, struct engine_result *res, struct run_marks *m,
          long n, const int translate)
{
    enum batch_end end = BATCH_DONE;
    uint64_t done = m->done, next_mark = m->next_mark; /* in registers */
    for (long i = 0; i < n; i++) {
        enum record_end re = simulate_record(e, o, res, &e->batch[i], translate);
        if (__builtin_expect(re == RECORD_ACCESS, 1)) {
            if (__builtin_expect(++done == next_mark, 0)) {
                m->done = done;
                if (at_mark(e, o, m)) {
                    end = BATCH_MAX;
                    break;
                }
                next_mark = m->next_mark;
            }
        } else if (__builtin_expect(re == RECORD_BAD, 0)) {
            m->bad = (uint64_t)i;
            end = BATCH_BAD;
            break;
        }
    }
    m->done = done;
    refresh_cycles(e);
    return end;
}

/* Several traces, trace i on cpu i: always advance the cpu whose simulated time is least (ties to
 * the lower cpu), one record at a time. Returns 0 (res->end says how it ended) or -1 (err). */
static int run_interleaved(engine *e, trace_reader *const *traces, size_t ntraces,
                           const struct engine_opts *o, struct engine_result *res,
                           struct run_marks *m, mm_err *err)
{
    struct lane {
        struct mm_event *batch;
        long n, pos;
        uint64_t index; /* records of this trace consumed, for messages */
        int live;
    } *lanes = xcalloc(ntraces, sizeof *lanes);
    int rc = 0;
    for (size_t t = 0; t < ntraces; t++) {
        lanes[t].batch = xmalloc(ENGINE_BATCH * sizeof *lanes[t].batch);
        lanes[t].live = 1;
        trace_set_keep_going(traces[t], o->keep_going);
        if (o->skip) { /* in this mode --skip fast-forwards each trace */
            long long skipped = trace_skip(traces[t], o->skip, err);
            if (skipped < 0) {
                res->end = ENGINE_END_ERROR;
                rc = -1;
                goto out;
            }
            res->records += (uint64_t)skipped;
            lanes[t].index = (uint64_t)skipped;
        }
    }
    uint64_t since_progress = 0;
    for (;;) {
        size_t best = ntraces;
        for (size_t t = 0; t < ntraces; t++)
            if (lanes[t].live && (best == ntraces || e->cpus[t].cycles_fx < e->cpus[best].cycles_fx))
                best = t;
        if (best == ntraces)
            break; /* every trace ended */
        struct lane *l = &lanes[best];
        if (l->pos == l->n) {
            if (o->stop && *o->stop) {
                res->end = ENGINE_END_INTERRUPTED;
                goto out;
            }
            l->n = trace_read(traces[best], l->batch, ENGINE_BATCH, err);
            l->pos = 0;
            if (l->n < 0) {
                res->end = ENGINE_END_ERROR;
                rc = -1;
                goto out;
            }
            if (l->n == 0)
                l->live = 0;
            continue;
        }
        struct mm_event *ev = &l->batch[l->pos++];
        ev->cpu = (uint16_t)best;
        l->index++;
        enum record_end re = e->translate ? simulate_record(e, o, res, ev, 1)
                                          : simulate_record(e, o, res, ev, 0);
        if (re == RECORD_ACCESS && ++m->done == m->next_mark && at_mark(e, o, m)) {
            res->end = ENGINE_END_MAX;
            goto out;
        }
        if (re == RECORD_BAD) {
            check_access(ev, e, best, l->index - 1, err);
            res->end = ENGINE_END_ERROR;
            rc = -1;
            goto out;
        }
        if (++since_progress == ENGINE_BATCH) {
            since_progress = 0;
            refresh_cycles(e);
            if (o->on_progress)
                o->on_progress(o->progress_ctx, res->records, best);
        }
    }
out:
    refresh_cycles(e);
    for (size_t t = 0; t < ntraces; t++)
        free(lanes[t].batch);
    free(lanes);
    return rc;
}

int engine_run(engine *e, trace_reader *const *traces, size_t ntraces,
               const struct engine_opts *o, struct engine_result *res, mm_err *err)
{
    memset(res, 0, sizeof *res);
    res->end = ENGINE_END_COMPLETE;
    struct run_marks m = {0, 0, 0, 0};
    m.warm = o->warmup == 0;
    m.next_mark = next_mark_after(o, &m);
    if (m.warm) {
        stats_reset(e->reg);
        observe_reset(e);
    }
    if (ntraces > 1) {
        if (ntraces > e->ncpus)
            return mm_errf(err, "%zu traces, but the machine has %u cpu(s): each trace runs on a cpu "
                                "of its own (set [system] cpus)", ntraces, e->ncpus);
        int rc = run_interleaved(e, traces, ntraces, o, res, &m, err);
        res->measured = m.warm ? m.done - o->warmup : 0;
        return rc;
    }
    uint64_t skip_left = o->skip;

    for (size_t ti = 0; ti < ntraces; ti++) {
        trace_reader *tr = traces[ti];
        trace_set_keep_going(tr, o->keep_going);
        uint64_t index = 0; /* record index within this trace, for messages */
        if (skip_left) {
            long long skipped = trace_skip(tr, skip_left, err);
            if (skipped < 0) {
                res->end = ENGINE_END_ERROR;
                return -1;
            }
            skip_left -= (uint64_t)skipped;
            res->records += (uint64_t)skipped;
            index += (uint64_t)skipped;
            if (skip_left)
                continue; /* this trace ended inside the skip */
        }
        for (;;) {
            if (o->stop && *o->stop) {
                res->end = ENGINE_END_INTERRUPTED;
                goto out;
            }
            long n = trace_read(tr, e->batch, ENGINE_BATCH, err);
            if (n < 0) {
                res->end = ENGINE_END_ERROR;
                res->measured = m.warm ? m.done - o->warmup : 0;
                return -1;
            }
            if (n == 0)
                break;
            enum batch_end be = e->translate ? run_batch(e, o, res, &m, n, 1)
                                             : run_batch(e, o, res, &m, n, 0);
            if (__builtin_expect(be != BATCH_DONE, 0)) {
                if (be == BATCH_MAX) {
                    res->end = ENGINE_END_MAX;
                    goto out;
                }
                check_access(&e->batch[m.bad], e, ti, index + m.bad, err);
                res->end = ENGINE_END_ERROR;
                res->measured = m.warm ? m.done - o->warmup : 0;
                return -1;
            }
            index += (uint64_t)n;
            if (o->on_progress)
                o->on_progress(o->progress_ctx, res->records, ti);
        }
    }
out:
    res->measured = m.warm ? m.done - o->warmup : 0;
    return 0;
}
