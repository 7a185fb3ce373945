#include "sim/progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

double seconds_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

void progress_start(struct progress *p, trace_reader *const *traces, size_t ntraces, int quiet)
{
    p->traces = traces;
    p->ntraces = ntraces;
    p->enabled = !quiet && isatty(2);
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    p->last = p->start;
}

void progress_show(struct progress *p, uint64_t records, size_t ti)
{
    if (!p->enabled)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (seconds_between(&p->last, &now) < 0.25)
        return;
    p->last = now;
    double el = seconds_between(&p->start, &now);
    struct trace_info info;
    trace_get_info(p->traces[ti], &info);
    double rate = el > 0 ? (double)records / el : 0;
    fprintf(stderr, "\r  trace %zu/%zu  %.1fM records  %.1f M/s", ti + 1, p->ntraces,
            (double)records / 1e6, rate / 1e6);
    if (info.bytes_total) {
        double share = (double)info.bytes_in / (double)info.bytes_total;
        fprintf(stderr, "  %5.1f%% of input", 100.0 * share);
        if (share > 0.01 && p->ntraces == 1) {
            double eta = el / share - el;
            fprintf(stderr, "  ETA %02d:%02d", (int)(eta / 60), (int)eta % 60);
        }
    }
    fprintf(stderr, "   ");
    fflush(stderr);
}

double progress_finish(struct progress *p)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (p->enabled)
        fprintf(stderr, "\r%*s\r", 100, "");
    return seconds_between(&p->start, &end);
}

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

volatile sig_atomic_t *stop_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return &stop_requested;
}
