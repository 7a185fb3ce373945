/* What the long-running commands (`run`, `mrc`) share: the stop flag of SIGINT/SIGTERM, and the
 * progress line they show on a terminal: records, rate, share of the (compressed)
 * input read and an ETA, at most four updates a second, on stderr; nothing when stderr is not a
 * terminal or the user asked for quiet. */
#ifndef MMUSIM_SIM_PROGRESS_H
#define MMUSIM_SIM_PROGRESS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "traces/trace.h"

struct progress {
    trace_reader *const *traces;
    size_t ntraces;
    struct timespec start, last;
    int enabled;
};

void progress_start(struct progress *p, trace_reader *const *traces, size_t ntraces, int quiet);
/* records consumed so far, ti the trace being read */
void progress_show(struct progress *p, uint64_t records, size_t ti);
/* Erases the line (when one was shown) and returns the seconds since progress_start. */
double progress_finish(struct progress *p);

double seconds_between(const struct timespec *a, const struct timespec *b);

/* SIGINT and SIGTERM set the returned flag instead of killing the process, so a long command
 * stops at a record boundary and still writes what it has. */
volatile sig_atomic_t *stop_on_signals(void);

#endif
