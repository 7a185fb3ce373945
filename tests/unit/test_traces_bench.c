/* Decode-speed measurement of the native format on the benchmark mix (50% stream over 64 MiB in
 * 8-byte steps, 30% uniform over 1 GiB, 20% hot 256 KiB; 70% reads).
 * By default a small run that only checks counts (keeps ctest fast). With MMUSIM_TRACE_BENCH=N
 * (millions of records, e.g. 20) it writes the trace once per codec under $TMPDIR, times decoding
 * and prints records/s; MMUSIM_TRACE_BENCH_MIN_ZSTD / _MIN_GZIP (M records/s) turn the targets
 * into assertions. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "traces/gen.h"
#include "traces/trace.h"
#include "traces_test_util.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void write_mix(const char *path, enum trace_compression comp, int level, uint64_t count,
                      double *secs)
{
    struct gen_options o;
    gen_options_default(&o, GEN_MIX);
    mm_err err;
    ck_assert_int_eq(gen_parse_mix("stream:50:64M,random:30:1G,hot:20:256K", &o, &err), 0);
    o.count = count;
    o.read_ratio = 0.7;
    o.seed = 42;
    gen *g = gen_create(&o, &err);
    ck_assert_ptr_nonnull(g);
    trace_writer *w = trace_writer_open(path, comp, level, NULL, 0, &err);
    ck_assert_ptr_nonnull(w);
    static struct mm_event ev[4096];
    double t0 = now();
    size_t k;
    while ((k = gen_fill(g, ev, 4096)) > 0)
        ck_assert_int_eq(trace_writer_put(w, ev, k, &err), 0);
    ck_assert_int_eq(trace_writer_close(w, &err), 0);
    *secs = now() - t0;
    gen_destroy(g);
}

static double cpu_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct timing {
    double wall, caller_cpu, helper_cpu; /* best wall time of three, and the CPU of that run */
};

static struct timing decode(const char *path, uint64_t expect)
{
    mm_err err;
    struct timing best = {1e9, 0, 0};
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now(), c0 = cpu_clock(CLOCK_THREAD_CPUTIME_ID),
               p0 = cpu_clock(CLOCK_PROCESS_CPUTIME_ID);
        trace_reader *r = trace_open(path, TRACE_FMT_AUTO, &err);
        ck_assert_ptr_nonnull(r);
        static struct mm_event ev[4096];
        uint64_t n = 0, sum = 0;
        long k;
        while ((k = trace_read(r, ev, 4096, &err)) > 0) {
            for (long i = 0; i < k; i++)
                sum += ev[i].addr;
            n += (uint64_t)k;
        }
        ck_assert_int_eq(k, 0);
        trace_close(r);
        double dt = now() - t0, dc = cpu_clock(CLOCK_THREAD_CPUTIME_ID) - c0,
               dp = cpu_clock(CLOCK_PROCESS_CPUTIME_ID) - p0;
        ck_assert_uint_eq(n, expect);
        ck_assert_uint_ne(sum, 0);
        if (dt < best.wall)
            best = (struct timing){dt, dc, dp - dc};
    }
    return best;
}

START_TEST(decode_speed)
{
    const char *env = getenv("MMUSIM_TRACE_BENCH");
    uint64_t count = env && atoi(env) > 0 ? (uint64_t)atoi(env) * 1000000u : 200000u;
    static const struct {
        enum trace_compression comp;
        int level;
        const char *min_env;
    } runs[] = {{TRACE_COMP_ZSTD, 0, "MMUSIM_TRACE_BENCH_MIN_ZSTD"},
                {TRACE_COMP_GZIP, 0, "MMUSIM_TRACE_BENCH_MIN_GZIP"},
                {TRACE_COMP_XZ, 0, NULL},
                {TRACE_COMP_NONE, 0, NULL}};
    for (unsigned i = 0; i < sizeof runs / sizeof *runs; i++) {
        if (!env && runs[i].comp == TRACE_COMP_XZ)
            continue;
        char name[64];
        snprintf(name, sizeof name, "bench-%s.mmt", trace_compression_name(runs[i].comp));
        const char *path = tu_path(name);
        double wsecs;
        write_mix(path, runs[i].comp, runs[i].level, count, &wsecs);
        size_t len;
        free(tu_read_file(path, &len));
        struct timing t = decode(path, count);
        double mrs = (double)count / t.wall / 1e6;
        /* CPU time says what the machine can do when other processes hold a core */
        if (env)
            printf("%-5s: %6.1f MB (%.2f bytes/record), write %5.2f s, decode %.3f s = %6.1f M "
                   "records/s (cpu: caller %.3f s = %.0f M/s, helpers %.3f s)\n",
                   trace_compression_name(runs[i].comp), (double)len / 1e6,
                   (double)len / (double)count, wsecs, t.wall, mrs, t.caller_cpu,
                   (double)count / t.caller_cpu / 1e6, t.helper_cpu);
        const char *min = runs[i].min_env ? getenv(runs[i].min_env) : NULL;
        if (min && mrs < atof(min))
            ck_abort_msg("%s decode %.1f M records/s below the %s M/s target",
                         trace_compression_name(runs[i].comp), mrs, min);
        remove(path);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("traces_bench");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, getenv("MMUSIM_TRACE_BENCH") ? 600 : 60);
    tcase_add_test(tc, decode_speed);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
