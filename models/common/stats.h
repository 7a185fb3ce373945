/* The one statistics registry. Models own their counters (plain uint64_t fields that the hot path
 * increments directly) and register each by a dotted name, e.g. "cache.l1d.misses". Reports, interval
 * series, warmup resets and checkpoints walk the registry, so a new counter shows up everywhere
 * without touching the report code.
 *
 * Kinds:
 *  - counter:   an event count the model increments; zeroed at the end of warmup.
 *  - gauge:     a level read at report time through a callback (MemFree, free pages); never reset.
 *  - ratio:     derived at report time, scale * num / den (miss_rate, MPKI); never stored.
 *  - histogram: a hist the model records into; reported as mean, p50, p90, p99, p999, max.
 */
#ifndef MMUSIM_COMMON_STATS_H
#define MMUSIM_COMMON_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "hist.h"

typedef struct stats_registry stats_registry;

enum stats_kind { STATS_COUNTER, STATS_GAUGE, STATS_RATIO, STATS_HISTOGRAM };

typedef uint64_t (*stats_gauge_fn)(const void *ctx);

typedef struct stats_entry {
    const char *name; /* full dotted name */
    const char *desc; /* one line: what it counts */
    enum stats_kind kind;
    uint64_t *counter;           /* STATS_COUNTER */
    stats_gauge_fn gauge;        /* STATS_GAUGE */
    const void *gauge_ctx;
    const uint64_t *num, *den;   /* STATS_RATIO */
    double scale;
    hist *histogram;             /* STATS_HISTOGRAM */
} stats_entry;

stats_registry *stats_create(void);
void stats_destroy(stats_registry *reg);

/* Registration. The full name is prefix + "." + leaf (just leaf when prefix is NULL or empty).
 * Names must be unique; a duplicate aborts the program (a programming error, not an input error).
 * The registry copies the strings; it does not own the counters. */
void stats_counter(stats_registry *reg, const char *prefix, const char *leaf, uint64_t *value,
                   const char *desc);
void stats_gauge(stats_registry *reg, const char *prefix, const char *leaf, stats_gauge_fn fn,
                 const void *ctx, const char *desc);
void stats_ratio(stats_registry *reg, const char *prefix, const char *leaf, const uint64_t *num,
                 const uint64_t *den, double scale, const char *desc);
void stats_histogram(stats_registry *reg, const char *prefix, const char *leaf, hist *h,
                     const char *desc);

/* Walk in registration order. */
size_t stats_count(const stats_registry *reg);
const stats_entry *stats_at(const stats_registry *reg, size_t i);
const stats_entry *stats_find(const stats_registry *reg, const char *name);

/* Current value of a counter or gauge (0 for other kinds); ratio value (0 when den is 0). */
uint64_t stats_value(const stats_entry *e);
double stats_ratio_value(const stats_entry *e);

/* Zero every counter and histogram (end of warmup). Gauges and ratios are untouched. */
void stats_reset(stats_registry *reg);

#endif
