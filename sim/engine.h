/* The engine: builds the machine from a config, wires the models and replays traces through
 * them. Accesses go translate (when [mmu] translate) -> caches -> memory; OS events go to the
 * kernel model. Statistics live in the registry the caller passes in. */
#ifndef MMUSIM_SIM_ENGINE_H
#define MMUSIM_SIM_ENGINE_H

#include <signal.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "sim/config.h"
#include "traces/trace.h"

typedef struct engine engine;

/* Called every few thousand records so the command can show progress; may be NULL. */
typedef void (*engine_progress_fn)(void *ctx, uint64_t records, size_t trace_index);
/* Called every `interval` measured accesses (after warmup); may be NULL. */
typedef void (*engine_interval_fn)(void *ctx, uint64_t measured_accesses);

struct engine_opts {
    uint64_t skip;     /* records fast-forwarded before anything is simulated */
    uint64_t warmup;   /* accesses that warm the models with statistics off */
    uint64_t max;      /* stop after this many measured accesses (0: no limit) */
    uint64_t interval; /* call on_interval every this many measured accesses (0: never) */
    int keep_going;    /* skip bad records instead of stopping */
    volatile sig_atomic_t *stop; /* set asynchronously (SIGINT/SIGTERM) to stop at a record boundary */
    engine_progress_fn on_progress;
    void *progress_ctx;
    engine_interval_fn on_interval;
    void *interval_ctx;
};

enum engine_end {
    ENGINE_END_COMPLETE,    /* every trace read to its end */
    ENGINE_END_MAX,         /* --max reached */
    ENGINE_END_INTERRUPTED, /* stop flag raised */
    ENGINE_END_ERROR,       /* bad input; err says where */
};

struct engine_result {
    enum engine_end end;
    uint64_t records;          /* records consumed (all traces, skipped ones included) */
    uint64_t measured;         /* accesses counted in the statistics */
};

/* Builds the machine. seed feeds every model's random stream. NULL with err on a bad config
 * (the message names the config file, line and rule). */
engine *engine_create(const sim_config *cfg, uint64_t seed, stats_registry *reg, mm_err *err);
void engine_destroy(engine *e);

/* Replays the traces: one trace in its own order (records name their cpu); several traces each on
 * a cpu of its own (trace i on cpu i, at most [system] cpus of them), interleaved by the cpus'
 * simulated time. Returns 0 (see res->end) or -1 with err on bad input. */
int engine_run(engine *e, trace_reader *const *traces, size_t ntraces,
               const struct engine_opts *opts, struct engine_result *res, mm_err *err);

/* Sees every measured access with the cache level that served it (enum mem_level) and the page
 * walks it started, every OS event, and the reset when warmup ends (mmusim run --symbols). Costs
 * the hot loop one predictable branch when none is set. */
struct engine_observer {
    void (*access)(void *ctx, const struct mm_event *ev, unsigned level, uint64_t walks);
    void (*os_event)(void *ctx, const struct mm_event *ev);
    void (*reset)(void *ctx);
    void *ctx;
};
/* obs must outlive the runs; NULL removes it. */
void engine_set_observer(engine *e, const struct engine_observer *obs);

const char *engine_end_name(enum engine_end end);
unsigned engine_ncpus(const engine *e);

#endif
