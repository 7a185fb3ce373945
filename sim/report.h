/* Reports walk the stats registry: a text table for people, JSON (jansson) and flat CSV for
 * scripts, and the --interval time series. Files are written to a temporary name and renamed,
 * so no reader ever sees half a report. */
#ifndef MMUSIM_SIM_REPORT_H
#define MMUSIM_SIM_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "sim/config.h"
#include "traces/trace.h"

struct report_run {
    const char *version;
    const sim_config *cfg;
    const struct trace_info *traces; /* one per trace, as of the end of the run */
    size_t ntraces;
    uint64_t seed, skip, warmup, max;
    uint64_t records;  /* records consumed */
    uint64_t measured; /* accesses in the statistics */
    int complete;      /* every trace read to its end, not interrupted, not cut by --max */
    const char *end;   /* "complete", "max", "interrupted", "error" */
    /* host figures: excluded from determinism comparisons (JSON "host" only) */
    double wall_seconds;
    long peak_rss_kib;
    /* --symbols: the attribution (NULL when off) and how many rows the text table shows */
    const struct symbols *symbols;
    unsigned symbols_top;
};

void report_text(FILE *out, const stats_registry *reg, const struct report_run *run);
int report_json(const char *path, const stats_registry *reg, const struct report_run *run,
                mm_err *err);
int report_csv(const char *path, const stats_registry *reg, const struct report_run *run,
               mm_err *err);

/* The kernel model's os.meminfo.* gauges (kB) as /proc/meminfo prints them, in Linux's order,
 * then a `free`-style summary. Prints a note instead when the model registers no meminfo. */
void report_meminfo(FILE *out, const stats_registry *reg);

/* --interval: a CSV with a header row of counter names and one row of deltas per interval. */
typedef struct interval_writer interval_writer;
interval_writer *interval_open(const char *path, const stats_registry *reg, mm_err *err);
void interval_row(interval_writer *iw, uint64_t measured_accesses);
/* Writes the final partial row (if any accesses since the last), commits the file. */
int interval_close(interval_writer *iw, uint64_t measured_accesses, mm_err *err);

/* Atomic output: write into a temporary file beside path, then rename over it. "-" is stdout. */
typedef struct outfile {
    FILE *f;
    char *path, *tmp;
} outfile;
int outfile_open(outfile *o, const char *path, mm_err *err);
int outfile_commit(outfile *o, mm_err *err);
void outfile_abort(outfile *o);

#endif
