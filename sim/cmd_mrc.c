/* mmusim mrc: miss-ratio curves of fully associative LRU caches of every size (one line size) and
 * of fully associative LRU TLBs of every entry count (4 KiB, 2 MiB and 1 GiB pages), in one pass
 * over the traces, from stack distances (sim/mrc.h): exact, or SHARDS-sampled. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "models/common/bits.h"
#include "models/common/errors.h"
#include "models/common/xalloc.h"
#include "sim/commands.h"
#include "sim/config.h"
#include "sim/mrc.h"
#include "sim/progress.h"
#include "sim/report.h"
#include "traces/trace.h"

static volatile sig_atomic_t *mrc_stop; /* set by SIGINT/SIGTERM (stop_on_signals) */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mmusim mrc [options] TRACE...\n"
            "LRU miss-ratio curves for every cache size (one line size) and every TLB size (4K, 2M,\n"
            "1G pages), fully associative, in one pass over the traces (stack distances).\n\n"
            "  -l, --line SIZE       cache line size in bytes, a power of two 4..64K (default 64)\n"
            "  -t, --type T          accesses: data (reads, writes, modifies; default), ifetch, all\n"
            "      --curves LIST     some of cache,4k,2m,1g (default all)\n"
            "      --sample R        SHARDS: track a hashed fraction R in (0,1] of the lines and 4K\n"
            "                        pages (2M and 1G curves stay exact); default 1 (exact)\n"
            "      --smax N          fixed-size SHARDS: track at most N lines / 4K pages, lowering\n"
            "                        the rate from --sample (default 1) as needed\n"
            "      --exact-below K   with sampling, also keep an exact LRU stack of K entries, so\n"
            "                        sizes up to K are exact (default 4096; 0: plain SHARDS)\n"
            "      --no-adjust       plain SHARDS without the SHARDS_adj sample-count correction\n"
            "      --count C         lines: each line (page) an access touches is a reference\n"
            "                        (default); accesses: one reference per access, a miss if any\n"
            "                        line it touches missed (cachegrind's counting; exact only)\n"
            "      --clip            cut data accesses longer than a line to the line size, as\n"
            "                        cachegrind does (mmusim run: cache.clip_to_line=true)\n"
            "      --points N        sizes per power of two in the CSV (default 8)\n"
            "      --csv FILE        write the curves as CSV (- for stdout):\n"
            "                        curve,size_bytes,entries,miss_ratio,misses,references\n"
            "      --skip N          skip the first N records\n"
            "      --max N           stop after N accesses of the chosen type (marked incomplete)\n"
            "      --format F        force the trace format: native, lackey, din, text, champsim\n"
            "  -q, --quiet           no progress line\n"
            "  -h, --help            this help\n\n"
            "Addresses are virtual, as traced; all cpus and processes share one stack. A first\n"
            "reference misses at every size.\n"
            "Exit codes: 0 done, 2 bad usage, 3 bad trace data, 4 interrupted.\n");
}

enum { CURVE_CACHE, CURVE_4K, CURVE_2M, CURVE_1G, NCURVES };

static const char *const curve_names[NCURVES] = {"cache", "tlb4k", "tlb2m", "tlb1g"};
static const char *const curve_short[NCURVES] = {"cache", "4k", "2m", "1g"};
static const unsigned page_shift[NCURVES] = {0, 12, 21, 30};

struct mrc_args {
    uint64_t line, skip, max, smax, exact_below;
    double rate;
    unsigned points;
    unsigned type_mask;
    const char *type_name;
    int curves[NCURVES];
    int adjust, count_accesses, clip, quiet;
    const char *csv;
    enum trace_format format;
};

static int parse_curves(const char *s, int *on)
{
    memset(on, 0, NCURVES * sizeof *on);
    char *copy = xstrdup(s), *save = NULL;
    int any = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = -1;
        for (int c = 0; c < NCURVES; c++)
            if (!strcmp(tok, curve_names[c]) || !strcmp(tok, curve_short[c]))
                found = c;
        if (found < 0) {
            fprintf(stderr, "mmusim mrc: --curves: unknown curve '%s' (expected cache, 4k, 2m, 1g)\n", tok);
            free(copy);
            return -1;
        }
        on[found] = 1;
        any = 1;
    }
    free(copy);
    if (!any) {
        fprintf(stderr, "mmusim mrc: --curves '%s': expected some of cache, 4k, 2m, 1g\n", s);
        return -1;
    }
    return 0;
}

static int parse_u64(const char *opt, const char *s, uint64_t *out)
{
    if (config_parse_uint(s, out)) {
        fprintf(stderr, "mmusim mrc: %s '%s': expected a non-negative whole number\n", opt, s);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct mrc_args *a)
{
    enum { OPT_CURVES = 256, OPT_SAMPLE, OPT_EXACT_BELOW, OPT_SMAX, OPT_NO_ADJUST, OPT_COUNT, OPT_CLIP, OPT_POINTS,
           OPT_CSV, OPT_SKIP, OPT_MAX, OPT_FORMAT };
    static const struct option longopts[] = {
        {"line", required_argument, NULL, 'l'},
        {"type", required_argument, NULL, 't'},
        {"curves", required_argument, NULL, OPT_CURVES},
        {"sample", required_argument, NULL, OPT_SAMPLE},
        {"smax", required_argument, NULL, OPT_SMAX},
        {"no-adjust", no_argument, NULL, OPT_NO_ADJUST},
        {"exact-below", required_argument, NULL, OPT_EXACT_BELOW},
        {"count", required_argument, NULL, OPT_COUNT},
        {"clip", no_argument, NULL, OPT_CLIP},
        {"points", required_argument, NULL, OPT_POINTS},
        {"csv", required_argument, NULL, OPT_CSV},
        {"skip", required_argument, NULL, OPT_SKIP},
        {"max", required_argument, NULL, OPT_MAX},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->line = 64;
    a->rate = 1.0;
    a->points = 8;
    a->adjust = 1;
    a->exact_below = 4096;
    a->type_mask = (1u << MM_EV_READ) | (1u << MM_EV_WRITE) | (1u << MM_EV_RMW);
    a->type_name = "data";
    for (int c = 0; c < NCURVES; c++)
        a->curves[c] = 1;
    optind = 1;
    opterr = 0;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, ":l:t:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (config_parse_size(optarg, &a->line) || !is_pow2_u64(a->line) || a->line < 4 ||
                a->line > 65536) {
                fprintf(stderr, "mmusim mrc: --line '%s': expected a power of two from 4 to 64K\n", optarg);
                return -1;
            }
            break;
        case 't':
            if (!strcmp(optarg, "data")) {
                a->type_mask = (1u << MM_EV_READ) | (1u << MM_EV_WRITE) | (1u << MM_EV_RMW);
            } else if (!strcmp(optarg, "ifetch")) {
                a->type_mask = 1u << MM_EV_IFETCH;
            } else if (!strcmp(optarg, "all")) {
                a->type_mask = (1u << MM_EV_READ) | (1u << MM_EV_WRITE) | (1u << MM_EV_RMW) |
                               (1u << MM_EV_IFETCH);
            } else {
                fprintf(stderr, "mmusim mrc: --type '%s': expected data, ifetch or all\n", optarg);
                return -1;
            }
            a->type_name = optarg;
            break;
        case OPT_CURVES:
            if (parse_curves(optarg, a->curves))
                return -1;
            break;
        case OPT_SAMPLE: {
            char *end;
            a->rate = strtod(optarg, &end);
            if (end == optarg || *end || !(a->rate > 0 && a->rate <= 1)) {
                fprintf(stderr, "mmusim mrc: --sample '%s': expected a rate in (0, 1], e.g. 0.01\n", optarg);
                return -1;
            }
            if (a->rate * MRC_SHARDS_P < 1) {
                fprintf(stderr, "mmusim mrc: --sample '%s': expected at least 1/%u\n", optarg, MRC_SHARDS_P);
                return -1;
            }
            break;
        }
        case OPT_SMAX:
            if (parse_u64("--smax", optarg, &a->smax))
                return -1;
            if (a->smax == 0 || a->smax > (1u << 30)) {
                fprintf(stderr, "mmusim mrc: --smax '%s': expected 1 to %u tracked keys\n", optarg, 1u << 30);
                return -1;
            }
            break;
        case OPT_NO_ADJUST: a->adjust = 0; break;
        case OPT_EXACT_BELOW:
            if (parse_u64("--exact-below", optarg, &a->exact_below))
                return -1;
            if (a->exact_below > (1u << 30)) {
                fprintf(stderr, "mmusim mrc: --exact-below '%s': expected 0 to %u entries\n", optarg, 1u << 30);
                return -1;
            }
            break;
        case OPT_COUNT:
            if (!strcmp(optarg, "lines")) {
                a->count_accesses = 0;
            } else if (!strcmp(optarg, "accesses")) {
                a->count_accesses = 1;
            } else {
                fprintf(stderr, "mmusim mrc: --count '%s': expected lines or accesses\n", optarg);
                return -1;
            }
            break;
        case OPT_CLIP: a->clip = 1; break;
        case OPT_POINTS:
            if (parse_u64("--points", optarg, &v))
                return -1;
            if (v < 1 || v > 256) {
                fprintf(stderr, "mmusim mrc: --points '%s': expected 1 to 256 sizes per power of two\n", optarg);
                return -1;
            }
            a->points = (unsigned)v;
            break;
        case OPT_CSV: a->csv = optarg; break;
        case OPT_SKIP: if (parse_u64("--skip", optarg, &a->skip)) return -1; break;
        case OPT_MAX: if (parse_u64("--max", optarg, &a->max)) return -1; break;
        case OPT_FORMAT: {
            int f = trace_format_from_name(optarg);
            if (f < 0) {
                fprintf(stderr, "mmusim mrc: --format '%s': expected native, lackey, din, text or champsim\n", optarg);
                return -1;
            }
            a->format = (enum trace_format)f;
            break;
        }
        case 'q': a->quiet = 1; break;
        case 'h': usage(stdout); return 1;
        case ':':
            fprintf(stderr, "mmusim mrc: option '%s' needs a value\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "mmusim mrc: unknown option '%s' (see mmusim mrc --help)\n", argv[optind - 1]);
            return -1;
        }
    }
    if (a->count_accesses && (a->rate < 1 || a->smax)) {
        fprintf(stderr, "mmusim mrc: --count accesses needs exact mode (no --sample, no --smax)\n");
        return -1;
    }
    return 0;
}

static void fmt_size(char *buf, size_t n, uint64_t bytes)
{
    static const char *const suffix[] = {"", "K", "M", "G", "T", "P", "E"};
    unsigned s = 0;
    while (s < 6 && bytes >= 1024 && bytes % 1024 == 0) {
        bytes /= 1024;
        s++;
    }
    snprintf(buf, n, "%llu%s", (unsigned long long)bytes, suffix[s]);
}

struct mrc_run {
    mrc *curve[NCURVES];
    unsigned shift[NCURVES];
    uint64_t unit[NCURVES]; /* bytes per entry */
    uint64_t records, accesses, skipped_types;
    int complete;
    int interrupted;
    const char *end;
};

/* Sizes of one curve: the grid up to its largest distance. Caller frees. */
static uint64_t *curve_grid(const struct mrc_run *r, int c, unsigned points, size_t *n)
{
    size_t cap = 64 + 64 * (size_t)points + 64;
    uint64_t *g = xmalloc(cap * sizeof *g);
    *n = mrc_grid(mrc_max_distance(r->curve[c]), points, g, cap);
    return g;
}

static int write_csv(const char *path, const struct mrc_run *r, unsigned points, mm_err *err)
{
    outfile o;
    if (outfile_open(&o, path, err))
        return -1;
    fputs("curve,size_bytes,entries,miss_ratio,misses,references\n", o.f);
    for (int c = 0; c < NCURVES; c++) {
        if (!r->curve[c])
            continue;
        size_t n;
        uint64_t *g = curve_grid(r, c, points, &n);
        struct mrc_stats st;
        mrc_get_stats(r->curve[c], &st);
        for (size_t i = 0; i < n; i++) {
            double miss = mrc_misses(r->curve[c], g[i]);
            fprintf(o.f, "%s,%llu,%llu,%.9f,%.0f,%llu\n", curve_names[c],
                    (unsigned long long)(g[i] * r->unit[c]), (unsigned long long)g[i],
                    mrc_miss_ratio(r->curve[c], g[i]), miss, (unsigned long long)st.references);
        }
        free(g);
    }
    return outfile_commit(&o, err);
}

static void write_text(FILE *out, const struct mrc_run *r, const struct mrc_args *a,
                       const struct trace_info *infos, size_t ntraces, double wall, long rss_kib)
{
    fprintf(out, "mmusim %s  mrc %s%s\n", MMUSIM_VERSION, r->end,
            r->complete ? "" : " (INCOMPLETE: the curves cover only what was read)");
    for (size_t i = 0; i < ntraces; i++)
        fprintf(out, "trace   %s  [%s, %s]  %llu records  xxh128 %s%s\n", infos[i].path,
                trace_format_name(infos[i].format), trace_compression_name(infos[i].compression),
                (unsigned long long)infos[i].records, infos[i].content_hash,
                infos[i].hash_complete ? "" : " (partial)");
    char line[32];
    fmt_size(line, sizeof line, a->line);
    fprintf(out, "type    %s  line %s  count %s  clip %s  ", a->type_name, line,
            a->count_accesses ? "accesses" : "lines", a->clip ? "yes" : "no");
    if (a->smax)
        fprintf(out, "SHARDS fixed-size smax %llu, initial rate %g", (unsigned long long)a->smax, a->rate);
    else if (a->rate < 1)
        fprintf(out, "SHARDS fixed-rate %g", a->rate);
    else
        fprintf(out, "exact");
    if (a->smax || a->rate < 1) {
        if (a->exact_below)
            fprintf(out, ", exact below %llu entries", (unsigned long long)a->exact_below);
        else
            fprintf(out, "%s", a->adjust ? ", adjusted" : "");
    }
    fprintf(out, "\n");
    fprintf(out, "records %llu  accesses %llu\n\n", (unsigned long long)r->records,
            (unsigned long long)r->accesses);

    fprintf(out, "%-7s %6s %14s %14s %12s %12s %10s %10s %10s\n", "curve", "entry", "references",
            "sampled", "tracked", "cold", "rate", "reach", "memory");
    uint64_t top = 1;
    for (int c = 0; c < NCURVES; c++) {
        if (!r->curve[c])
            continue;
        struct mrc_stats st;
        mrc_get_stats(r->curve[c], &st);
        char unit[32], reach[32];
        fmt_size(unit, sizeof unit, r->unit[c]);
        uint64_t md = mrc_max_distance(r->curve[c]);
        fmt_size(reach, sizeof reach, round_up_pow2_u64(md ? md : 1) * r->unit[c]);
        fprintf(out, "%-7s %6s %14llu %14llu %12llu %12llu %10.6g %10s %9.1fM\n", curve_names[c],
                unit, (unsigned long long)st.references, (unsigned long long)st.sampled,
                (unsigned long long)st.tracked, (unsigned long long)st.cold, st.rate, reach,
                (double)st.bytes / (1024.0 * 1024.0));
        uint64_t t = round_up_pow2_u64(md ? md : 1);
        if (t > top)
            top = t;
    }
    fprintf(out, "(reach: the size from which only cold misses remain; memory: MiB of tables)\n\n");

    fprintf(out, "miss ratio, fully associative LRU, by entries (lines or TLB entries)\n%10s", "entries");
    if (r->curve[CURVE_CACHE])
        fprintf(out, " %10s", "cache size");
    for (int c = 0; c < NCURVES; c++)
        if (r->curve[c])
            fprintf(out, " %9s", curve_names[c]);
    fprintf(out, "\n");
    for (uint64_t e = 1; e && e <= top; e *= 2) {
        fprintf(out, "%10llu", (unsigned long long)e);
        if (r->curve[CURVE_CACHE]) {
            char sz[32];
            fmt_size(sz, sizeof sz, e * r->unit[CURVE_CACHE]);
            fprintf(out, " %10s", sz);
        }
        for (int c = 0; c < NCURVES; c++)
            if (r->curve[c])
                fprintf(out, " %9.5f", mrc_miss_ratio(r->curve[c], e));
        fprintf(out, "\n");
    }
    fprintf(out, "\nhost    %.2f s  %.2f M records/s  peak RSS %.1f MiB\n", wall,
            wall > 0 ? (double)r->records / wall / 1e6 : 0.0, (double)rss_kib / 1024.0);
}

#define MRC_BATCH 4096

/* Replays the traces into the curves. 0, or -1 with err filled (bad data). */
static int replay(struct mrc_run *r, const struct mrc_args *a, trace_reader **traces,
                  size_t ntraces, struct progress *prog, mm_err *err)
{
    struct mm_event *ev = xmalloc(MRC_BATCH * sizeof *ev);
    uint64_t *lo = xmalloc(MRC_BATCH * sizeof *lo), *hi = xmalloc(MRC_BATCH * sizeof *hi);
    uint64_t skip_left = a->skip;
    uint32_t clip = a->clip ? (uint32_t)a->line : MM_ACCESS_MAX_SIZE;
    int rc = 0;
    r->end = "complete";
    r->complete = 1;
    for (size_t ti = 0; ti < ntraces; ti++) {
        trace_reader *tr = traces[ti];
        uint64_t index = 0;
        if (skip_left) {
            long long s = trace_skip(tr, skip_left, err);
            if (s < 0) {
                rc = -1;
                goto out;
            }
            skip_left -= (uint64_t)s;
            r->records += (uint64_t)s;
            index += (uint64_t)s;
            if (skip_left)
                continue;
        }
        for (;;) {
            if (*mrc_stop) {
                r->end = "interrupted";
                r->interrupted = 1;
                r->complete = 0;
                goto out;
            }
            long n = trace_read(tr, ev, MRC_BATCH, err);
            if (n < 0) {
                rc = -1;
                goto out;
            }
            if (n == 0)
                break;
            size_t m = 0;
            int at_max = 0;
            long i;
            for (i = 0; i < n; i++) {
                const struct mm_event *e = &ev[i];
                if (!mm_event_is_access(e) || !(a->type_mask & (1u << e->type)))
                    continue;
                uint32_t size = e->size;
                if (__builtin_expect(size == 0 || size > MM_ACCESS_MAX_SIZE, 0)) {
                    struct trace_info info;
                    trace_get_info(tr, &info);
                    mm_errf(err, "%s: record %llu: access size %u (expected 1..%u)", info.path,
                            (unsigned long long)(index + (uint64_t)i), size, MM_ACCESS_MAX_SIZE);
                    r->records += (uint64_t)i;
                    rc = -1;
                    goto out;
                }
                if (size > clip && e->type != MM_EV_IFETCH)
                    size = clip;
                lo[m] = e->addr;
                hi[m] = e->addr > UINT64_MAX - (size - 1) ? UINT64_MAX : e->addr + (size - 1);
                m++;
                if (a->max && r->accesses + m == a->max) {
                    at_max = 1;
                    i++;
                    break;
                }
            }
            for (int c = 0; c < NCURVES; c++) {
                mrc *cv = r->curve[c];
                if (!cv)
                    continue;
                mrc_ref_batch(cv, lo, hi, m, r->shift[c]);
            }
            r->accesses += m;
            r->records += (uint64_t)i;
            index += (uint64_t)i;
            if (prog->enabled)
                progress_show(prog, r->records, ti);
            if (at_max) {
                r->end = "max";
                r->complete = 0;
                goto out;
            }
        }
    }
out:
    free(ev);
    free(lo);
    free(hi);
    if (rc) {
        r->end = "error";
        r->complete = 0;
    }
    return rc;
}

int cmd_mrc(int argc, char **argv)
{
    struct mrc_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc)
        return prc > 0 ? MMUSIM_EXIT_OK : MMUSIM_EXIT_USAGE;
    size_t ntraces = (size_t)(argc - optind);
    if (ntraces == 0) {
        fprintf(stderr, "mmusim mrc: no trace given (see mmusim mrc --help)\n");
        return MMUSIM_EXIT_USAGE;
    }
    int rc = MMUSIM_EXIT_OK;
    mm_err err;
    struct mrc_run r;
    memset(&r, 0, sizeof r);
    trace_reader **traces = xcalloc(ntraces, sizeof *traces);
    struct trace_info *infos = xcalloc(ntraces, sizeof *infos);

    for (int c = 0; c < NCURVES; c++) {
        if (!a.curves[c])
            continue;
        struct mrc_params p;
        mrc_params_default(&p);
        p.adjust = a.adjust;
        p.count_accesses = a.count_accesses;
        p.grid_points = a.points;
        if (c == CURVE_CACHE || c == CURVE_4K) {
            p.rate = a.rate;
            p.smax = a.smax;
            p.exact_below = a.exact_below;
        }
        r.curve[c] = mrc_create(&p, &err);
        if (!r.curve[c]) {
            fprintf(stderr, "mmusim mrc: %s\n", err.msg);
            rc = MMUSIM_EXIT_USAGE;
            goto done;
        }
        r.shift[c] = c == CURVE_CACHE ? log2_u64(a.line) : page_shift[c];
        r.unit[c] = (uint64_t)1 << r.shift[c];
    }
    for (size_t i = 0; i < ntraces; i++) {
        traces[i] = trace_open(argv[optind + (int)i], a.format, &err);
        if (!traces[i]) {
            fprintf(stderr, "mmusim mrc: %s\n", err.msg);
            rc = MMUSIM_EXIT_DATA;
            goto done;
        }
    }

    mrc_stop = stop_on_signals();

    struct progress prog;
    progress_start(&prog, traces, ntraces, a.quiet);
    int erc = replay(&r, &a, traces, ntraces, &prog, &err);
    progress_finish(&prog);
    if (erc) {
        fprintf(stderr, "mmusim mrc: %s\n", err.msg);
        rc = MMUSIM_EXIT_DATA;
    } else if (r.interrupted) {
        fprintf(stderr, "mmusim mrc: interrupted after %llu records; curves marked incomplete\n",
                (unsigned long long)r.records);
        rc = MMUSIM_EXIT_INTERRUPTED;
    }
    for (int c = 0; c < NCURVES; c++)
        if (r.curve[c])
            mrc_finish(r.curve[c]);
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    for (size_t i = 0; i < ntraces; i++)
        trace_get_info(traces[i], &infos[i]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    if (a.csv && write_csv(a.csv, &r, a.points, &err)) {
        fprintf(stderr, "mmusim mrc: %s\n", err.msg);
        rc = rc ? rc : MMUSIM_EXIT_FAILURE;
    }
    if (!(a.csv && !strcmp(a.csv, "-")))
        write_text(stdout, &r, &a, infos, ntraces, seconds_between(&prog.start, &end), ru.ru_maxrss);
    fflush(stdout);

done:
    for (size_t i = 0; i < ntraces; i++)
        if (traces[i])
            trace_close(traces[i]);
    for (int c = 0; c < NCURVES; c++)
        mrc_destroy(r.curve[c]);
    free(traces);
    free(infos);
    return rc;
}
