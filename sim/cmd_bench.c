/* mmusim bench: the speed benchmark of issue #2's spine. Generates a mixed trace once (50% stream
 * over 64 MiB, 30% uniform random over 1 GiB, 20% hot set of 256 KiB; 70% reads), then measures:
 * decoding alone (zstd and gzip), cache-only simulation (translate=false, L1D 32K/8, L2 1M/16,
 * LLC 8M/16) and full simulation with the default machine. Each phase runs in its own child
 * process, so its peak memory is its own. Prints figures; asserts nothing. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "models/common/errors.h"
#include "models/common/xalloc.h"
#include "sim/commands.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "traces/gen.h"
#include "traces/trace.h"

#define BENCH_BATCH 4096

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int bench_generate(const char *path, uint64_t records, enum trace_compression comp)
{
    struct gen_options o;
    gen_options_default(&o, GEN_MIX);
    o.count = records;
    o.read_ratio = 0.7;
    o.seed = 42;
    mm_err err;
    if (gen_parse_mix("stream:50:64M,random:30:1G,hot:20:256K", &o, &err)) {
        fprintf(stderr, "mmusim bench: %s\n", err.msg);
        return -1;
    }
    gen *g = gen_create(&o, &err);
    if (!g) {
        fprintf(stderr, "mmusim bench: %s\n", err.msg);
        return -1;
    }
    struct trace_kv meta[] = {{"tool", "mmusim bench"},
                              {"generator", "mix stream:50:64M,random:30:1G,hot:20:256K seed 42"}};
    char *tmp = xasprintf("%s.tmp", path);
    trace_writer *w = trace_writer_open(tmp, comp, 0, meta, 2, &err);
    if (!w) {
        fprintf(stderr, "mmusim bench: %s\n", err.msg);
        gen_destroy(g);
        free(tmp);
        return -1;
    }
    struct mm_event *buf = xmalloc(BENCH_BATCH * sizeof *buf);
    size_t n;
    int rc = 0;
    while ((n = gen_fill(g, buf, BENCH_BATCH)) > 0)
        if (trace_writer_put(w, buf, n, &err)) {
            rc = -1;
            break;
        }
    if (trace_writer_close(w, rc ? NULL : &err) || rc) {
        fprintf(stderr, "mmusim bench: %s\n", err.msg);
        rc = -1;
    }
    if (!rc && rename(tmp, path))
        rc = -1;
    free(buf);
    free(tmp);
    gen_destroy(g);
    return rc;
}

/* Phase bodies: run in a child; print "records seconds" on the pipe. */
static int phase_decode(const char *path, FILE *out)
{
    mm_err err;
    trace_reader *r = trace_open(path, TRACE_FMT_AUTO, &err);
    if (!r) {
        fprintf(stderr, "mmusim bench: %s\n", err.msg);
        return 1;
    }
    struct mm_event *buf = xmalloc(BENCH_BATCH * sizeof *buf);
    uint64_t total = 0, sum = 0;
    double t0 = now_seconds();
    long n;
    while ((n = trace_read(r, buf, BENCH_BATCH, &err)) > 0) {
        total += (uint64_t)n;
        sum += buf[n - 1].addr; /* keep the decode from being optimised away */
    }
    double t = now_seconds() - t0;
    if (n < 0) {
        fprintf(stderr, "mmusim bench: %s\n", err.msg);
        return 1;
    }
    fprintf(out, "%llu %.6f %llu\n", (unsigned long long)total, t, (unsigned long long)(sum & 1));
    free(buf);
    trace_close(r);
    return 0;
}

static int phase_simulate(const char *path, const char *const *overrides, FILE *out)
{
    mm_err err;
    sim_config *cfg = config_create_default(&err);
    for (size_t i = 0; cfg && overrides[i]; i++)
        if (config_override(cfg, overrides[i], &err)) {
            config_destroy(cfg);
            cfg = NULL;
        }
    if (!cfg) {
        fprintf(stderr, "mmusim bench: %s\n", err.msg);
        return 1;
    }
    stats_registry *reg = stats_create();
    engine *e = engine_create(cfg, 1, reg, &err);
    trace_reader *r = e ? trace_open(path, TRACE_FMT_AUTO, &err) : NULL;
    if (!r) {
        fprintf(stderr, "mmusim bench: %s\n", err.msg);
        return 1;
    }
    struct engine_opts opts;
    memset(&opts, 0, sizeof opts);
    struct engine_result res;
    double t0 = now_seconds();
    int rc = engine_run(e, &r, 1, &opts, &res, &err);
    double t = now_seconds() - t0;
    if (rc) {
        fprintf(stderr, "mmusim bench: %s\n", err.msg);
        return 1;
    }
    fprintf(out, "%llu %.6f 0\n", (unsigned long long)res.measured, t);
    trace_close(r);
    engine_destroy(e);
    stats_destroy(reg);
    config_destroy(cfg);
    return 0;
}

struct phase_result {
    uint64_t records;
    double seconds;     /* wall clock of the measured part */
    double cpu_seconds; /* user + system time of the whole child (all its threads) */
    long peak_kib;
};

/* Runs fn in a child process; collects its figures and peak RSS. */
static int run_phase(int (*body)(const char *, const char *const *, FILE *), const char *path,
                     const char *const *overrides, struct phase_result *res)
{
    int fds[2];
    if (pipe(fds))
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        FILE *out = fdopen(fds[1], "w");
        int rc = body(path, overrides, out);
        fclose(out);
        _exit(rc);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    unsigned long long recs = 0, dummy = 0;
    double secs = 0;
    int got = fscanf(in, "%llu %lf %llu", &recs, &secs, &dummy);
    fclose(in);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) || got != 3)
        return -1;
    res->records = recs;
    res->seconds = secs;
    res->peak_kib = ru.ru_maxrss;
    res->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    return 0;
}

static int decode_body(const char *path, const char *const *overrides, FILE *out)
{
    (void)overrides;
    return phase_decode(path, out);
}

static int simulate_body(const char *path, const char *const *overrides, FILE *out)
{
    return phase_simulate(path, overrides, out);
}

static void print_row(const char *what, const struct phase_result *r, double target)
{
    double rate = r->seconds > 0 ? (double)r->records / r->seconds / 1e6 : 0;
    printf("%-44s %12llu %9.3f s %9.1f M/s %9.3f s %9.1f MiB", what, (unsigned long long)r->records,
           r->seconds, rate, r->cpu_seconds, (double)r->peak_kib / 1024.0);
    if (target > 0)
        printf("   target >= %.0f M/s: %s", target, rate >= target ? "met" : "NOT met");
    printf("\n");
}

int cmd_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"records", required_argument, NULL, 'n'},
        {"dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t records = 20000000;
    const char *dir = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "n:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (config_parse_uint(optarg, &records) || records == 0) {
                fprintf(stderr, "mmusim bench: --records '%s': expected a positive whole number\n", optarg);
                return MMUSIM_EXIT_USAGE;
            }
            break;
        case 'd': dir = optarg; break;
        case 'h':
            printf("usage: mmusim bench [--records N (20000000)] [--dir DIR (build/bench)]\n"
                   "Generates the mixed trace once into DIR, then prints decode and simulation speed\n"
                   "and each phase's peak memory.\n");
            return 0;
        default:
            return MMUSIM_EXIT_USAGE;
        }
    }
    if (!dir)
        dir = "build/bench";
    mkdir(dir, 0777);
    char *zst = xasprintf("%s/mix-%llu.zstd.mmt", dir, (unsigned long long)records);
    char *gz = xasprintf("%s/mix-%llu.gzip.mmt", dir, (unsigned long long)records);
    struct stat st;
    if (stat(zst, &st) && bench_generate(zst, records, TRACE_COMP_ZSTD))
        return MMUSIM_EXIT_FAILURE;
    if (stat(gz, &st) && bench_generate(gz, records, TRACE_COMP_GZIP))
        return MMUSIM_EXIT_FAILURE;

    printf("mmusim %s bench: %llu-record mix (50%% stream 64 MiB, 30%% random 1 GiB, 20%% hot 256 KiB; "
           "70%% reads)\n", MMUSIM_VERSION, (unsigned long long)records);
    printf("%-44s %12s %11s %13s %11s %13s\n", "phase", "records", "time", "rate", "cpu time",
           "peak RSS");
    static const char *const none[] = {NULL};
    static const char *const cache_only[] = {
        "mmu.translate=false", "cache.l1d.size=32K", "cache.l1d.assoc=8", "cache.l2.size=1M",
        "cache.l2.assoc=16", "cache.llc.size=8M", "cache.llc.assoc=16", NULL};
    struct phase_result r;
    int failed = 0;
    if (!run_phase(decode_body, zst, none, &r))
        print_row("decode native, zstd", &r, 100);
    else
        failed = 1;
    if (!run_phase(decode_body, gz, none, &r))
        print_row("decode native, gzip", &r, 60);
    else
        failed = 1;
    if (!run_phase(simulate_body, zst, cache_only, &r))
        print_row("simulate caches only (translate=false)", &r, 50);
    else
        failed = 1;
    if (!run_phase(simulate_body, zst, none, &r))
        print_row("simulate default machine (translate=true)", &r, 30);
    else
        failed = 1;
    printf("(time and rate: wall clock of the measured part; cpu time: the whole phase's process,\n"
           " set-up and decode threads included: on a loaded machine compare records / cpu time)\n");
    free(zst);
    free(gz);
    return failed ? MMUSIM_EXIT_FAILURE : MMUSIM_EXIT_OK;
}
