/* mmusim run: load the config, open the traces, replay them through the engine, report. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "models/common/errors.h"
#include "models/common/xalloc.h"
#include "sim/commands.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/progress.h"
#include "sim/report.h"
#include "sim/symbols.h"
#include "traces/trace.h"


static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: mmusim run [options] TRACE...\n\n"
            "  -c, --config FILE       machine config (INI), layered over the embedded default\n"
            "  -o SECTION.KEY=VALUE    override one config key (repeatable)\n"
            "      --print-config      print the effective config as INI and exit\n"
            "      --json FILE         write the JSON report (- for stdout)\n"
            "      --csv FILE          write the flat name,value CSV report (- for stdout)\n"
            "      --interval N        every N measured accesses, one CSV row of counter deltas\n"
            "      --interval-csv FILE where the interval rows go (default: mmusim-interval.csv)\n"
            "      --skip N            fast-forward N records first (models untouched)\n"
            "      --warmup N          N accesses warm the models with statistics off\n"
            "      --max N             stop after N measured accesses (report marked incomplete)\n"
            "      --seed S            seed for every random choice (default 1)\n"
            "      --format F          force the trace format: native, lackey, din, text, champsim\n"
            "      --keep-going        skip bad records, count and report them\n"
            "      --meminfo           also print /proc/meminfo and a free-style summary (kB) of the\n"
            "                          kernel model at the end (-o kernel.model=linux)\n"
            "      --symbols           attribute misses to functions (ifetches) and data objects or\n"
            "                          regions (loads/stores) from the ELF symbol tables\n"
            "      --elf PATH          the executable (default: the trace's `executable` metadata)\n"
            "      --elf-base ADDR     load address of a PIE executable (default 0x108000, valgrind's)\n"
            "      --top N             rows of the --symbols text table (default 20)\n"
            "  -q, --quiet             no progress line\n"
            "  -h, --help              this help\n\n"
            "Exit codes: 0 done, 2 bad usage or config, 3 bad trace data, 4 interrupted.\n");
}

/* the engine's progress callback */
static void show_progress(void *ctx, uint64_t records, size_t ti)
{
    progress_show(ctx, records, ti);
}

static void write_interval(void *ctx, uint64_t measured)
{
    interval_row(ctx, measured);
}

/* --symbols: the engine's observer hands accesses and OS events to the attribution */
static void obs_access(void *ctx, const struct mm_event *ev, unsigned level, uint64_t walks)
{
    symbols_access(ctx, ev, level, walks);
}

static void obs_os_event(void *ctx, const struct mm_event *ev)
{
    symbols_os_event(ctx, ev);
}

static void obs_reset(void *ctx)
{
    symbols_reset(ctx);
}

struct run_args {
    const char *config_path;
    char **overrides;
    size_t noverrides;
    const char *json, *csv, *interval_csv;
    uint64_t interval, skip, warmup, max, seed;
    int print_config, quiet, keep_going, meminfo;
    enum trace_format format;
    int symbols, have_elf_base;
    const char *elf;
    uint64_t elf_base, top;
};

static int parse_count(const char *opt, const char *s, uint64_t *out)
{
    if (config_parse_uint(s, out)) {
        fprintf(stderr, "mmusim run: %s '%s': expected a non-negative whole number\n", opt, s);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
    enum { OPT_JSON = 256, OPT_CSV, OPT_INTERVAL, OPT_INTERVAL_CSV, OPT_SKIP, OPT_WARMUP, OPT_MAX,
           OPT_SEED, OPT_FORMAT, OPT_PRINT_CONFIG, OPT_KEEP_GOING, OPT_MEMINFO, OPT_SYMBOLS,
           OPT_ELF, OPT_ELF_BASE, OPT_TOP };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", required_argument, NULL, OPT_JSON},
        {"csv", required_argument, NULL, OPT_CSV},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"interval-csv", required_argument, NULL, OPT_INTERVAL_CSV},
        {"skip", required_argument, NULL, OPT_SKIP},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"max", required_argument, NULL, OPT_MAX},
        {"seed", required_argument, NULL, OPT_SEED},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
        {"keep-going", no_argument, NULL, OPT_KEEP_GOING},
        {"meminfo", no_argument, NULL, OPT_MEMINFO},
        {"symbols", no_argument, NULL, OPT_SYMBOLS},
        {"elf", required_argument, NULL, OPT_ELF},
        {"elf-base", required_argument, NULL, OPT_ELF_BASE},
        {"top", required_argument, NULL, OPT_TOP},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    a->seed = 1;
    a->top = 20;
    a->interval_csv = "mmusim-interval.csv";
    a->overrides = xcalloc((size_t)argc, sizeof *a->overrides);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': a->config_path = optarg; break;
        case 'o': a->overrides[a->noverrides++] = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h': run_usage(stdout); return 1;
        case OPT_JSON: a->json = optarg; break;
        case OPT_CSV: a->csv = optarg; break;
        case OPT_INTERVAL_CSV: a->interval_csv = optarg; break;
        case OPT_INTERVAL: if (parse_count("--interval", optarg, &a->interval)) return -1; break;
        case OPT_SKIP: if (parse_count("--skip", optarg, &a->skip)) return -1; break;
        case OPT_WARMUP: if (parse_count("--warmup", optarg, &a->warmup)) return -1; break;
        case OPT_MAX: if (parse_count("--max", optarg, &a->max)) return -1; break;
        case OPT_SEED: if (parse_count("--seed", optarg, &a->seed)) return -1; break;
        case OPT_PRINT_CONFIG: a->print_config = 1; break;
        case OPT_KEEP_GOING: a->keep_going = 1; break;
        case OPT_MEMINFO: a->meminfo = 1; break;
        case OPT_SYMBOLS: a->symbols = 1; break;
        case OPT_ELF: a->elf = optarg; a->symbols = 1; break;
        case OPT_ELF_BASE: {
            char *end;
            errno = 0;
            a->elf_base = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "mmusim run: --elf-base '%s': expected an address (0x...)\n", optarg);
                return -1;
            }
            a->have_elf_base = 1;
            a->symbols = 1;
            break;
        }
        case OPT_TOP: if (parse_count("--top", optarg, &a->top)) return -1; a->symbols = 1; break;
        case OPT_FORMAT: {
            int f = trace_format_from_name(optarg);
            if (f < 0) {
                fprintf(stderr, "mmusim run: --format '%s': expected native, lackey, din, text or champsim\n", optarg);
                return -1;
            }
            a->format = (enum trace_format)f;
            break;
        }
        case ':':
            fprintf(stderr, "mmusim run: option '%s' needs a value\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "mmusim run: unknown option '%s' (see mmusim run --help)\n", argv[optind - 1]);
            return -1;
        }
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    struct run_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc) {
        free(a.overrides);
        return prc > 0 ? MMUSIM_EXIT_OK : MMUSIM_EXIT_USAGE;
    }
    int rc = MMUSIM_EXIT_OK;
    mm_err err;
    sim_config *cfg = NULL;
    stats_registry *reg = NULL;
    engine *eng = NULL;
    trace_reader **traces = NULL;
    struct trace_info *infos = NULL;
    size_t ntraces = 0;
    interval_writer *iw = NULL;
    symbols *syms = NULL;
    struct engine_observer obs;

    cfg = config_create_default(&err);
    if (!cfg || (a.config_path && config_load_file(cfg, a.config_path, &err))) {
        fprintf(stderr, "mmusim run: %s\n", err.msg);
        rc = MMUSIM_EXIT_USAGE;
        goto done;
    }
    for (size_t i = 0; i < a.noverrides; i++) {
        if (config_override(cfg, a.overrides[i], &err)) {
            fprintf(stderr, "mmusim run: %s\n", err.msg);
            rc = MMUSIM_EXIT_USAGE;
            goto done;
        }
    }
    reg = stats_create();
    eng = engine_create(cfg, a.seed, reg, &err);
    if (!eng) {
        fprintf(stderr, "mmusim run: %s\n", err.msg);
        rc = MMUSIM_EXIT_USAGE;
        goto done;
    }
    if (a.print_config) {
        config_print_ini(cfg, stdout);
        goto done;
    }
    ntraces = (size_t)(argc - optind);
    if (ntraces == 0) {
        fprintf(stderr, "mmusim run: no trace given (see mmusim run --help)\n");
        rc = MMUSIM_EXIT_USAGE;
        goto done;
    }
    if (ntraces > 1 && ntraces > engine_ncpus(eng)) {
        fprintf(stderr, "mmusim run: %zu traces, but the machine has %u cpu(s): each trace runs on a "
                        "cpu of its own (-o system.cpus=%zu)\n", ntraces, engine_ncpus(eng), ntraces);
        rc = MMUSIM_EXIT_USAGE;
        goto done;
    }
    traces = xcalloc(ntraces, sizeof *traces);
    infos = xcalloc(ntraces, sizeof *infos);
    for (size_t i = 0; i < ntraces; i++) {
        traces[i] = trace_open(argv[optind + (int)i], a.format, &err);
        if (!traces[i]) {
            fprintf(stderr, "mmusim run: %s\n", err.msg);
            rc = MMUSIM_EXIT_DATA;
            goto done;
        }
    }
    if (a.symbols) {
        if (ntraces > 1) {
            fprintf(stderr, "mmusim run: --symbols takes one trace (file ids and addresses are per trace)\n");
            rc = MMUSIM_EXIT_USAGE;
            goto done;
        }
        struct symbols_opts so = {a.elf, a.elf_base, a.have_elf_base};
        syms = symbols_create(&so, traces[0], &err);
        if (!syms) {
            fprintf(stderr, "mmusim run: %s\n", err.msg);
            rc = MMUSIM_EXIT_USAGE;
            goto done;
        }
        obs = (struct engine_observer){obs_access, obs_os_event, obs_reset, syms};
        engine_set_observer(eng, &obs);
    }
    if (a.interval) {
        iw = interval_open(a.interval_csv, reg, &err);
        if (!iw) {
            fprintf(stderr, "mmusim run: %s\n", err.msg);
            rc = MMUSIM_EXIT_FAILURE;
            goto done;
        }
    }


    struct progress prog;
    progress_start(&prog, traces, ntraces, a.quiet);
    struct engine_opts opts = {
        .skip = a.skip, .warmup = a.warmup, .max = a.max, .interval = a.interval,
        .keep_going = a.keep_going, .stop = stop_on_signals(),
        .on_progress = show_progress, .progress_ctx = &prog,
        .on_interval = iw ? write_interval : NULL, .interval_ctx = iw,
    };
    struct engine_result res;
    int erc = engine_run(eng, traces, ntraces, &opts, &res, &err);
    double wall = progress_finish(&prog);
    if (erc) {
        /* bad input: say where, then still write what was simulated, marked incomplete */
        fprintf(stderr, "mmusim run: %s\n", err.msg);
        rc = MMUSIM_EXIT_DATA;
    } else if (res.end == ENGINE_END_INTERRUPTED) {
        fprintf(stderr, "mmusim run: interrupted after %llu records; reports marked incomplete\n",
                (unsigned long long)res.records);
        rc = MMUSIM_EXIT_INTERRUPTED;
    }

    for (size_t i = 0; i < ntraces; i++)
        trace_get_info(traces[i], &infos[i]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct report_run run = {
        .version = MMUSIM_VERSION, .cfg = cfg, .traces = infos, .ntraces = ntraces,
        .seed = a.seed, .skip = a.skip, .warmup = a.warmup, .max = a.max,
        .records = res.records, .measured = res.measured,
        .complete = res.end == ENGINE_END_COMPLETE, .end = engine_end_name(res.end),
        .wall_seconds = wall, .peak_rss_kib = ru.ru_maxrss,
        .symbols = syms, .symbols_top = a.top > 1000000 ? 1000000 : (unsigned)a.top,
    };
    if (iw) {
        if (interval_close(iw, res.measured, &err)) {
            fprintf(stderr, "mmusim run: %s\n", err.msg);
            rc = rc ? rc : MMUSIM_EXIT_FAILURE;
        }
        iw = NULL;
    }
    if (a.json && report_json(a.json, reg, &run, &err)) {
        fprintf(stderr, "mmusim run: %s\n", err.msg);
        rc = rc ? rc : MMUSIM_EXIT_FAILURE;
    }
    if (a.csv && report_csv(a.csv, reg, &run, &err)) {
        fprintf(stderr, "mmusim run: %s\n", err.msg);
        rc = rc ? rc : MMUSIM_EXIT_FAILURE;
    }
    /* the text report goes to stdout unless a machine-readable report already does */
    int stdout_taken = (a.json && !strcmp(a.json, "-")) || (a.csv && !strcmp(a.csv, "-"));
    if (!stdout_taken)
        report_text(stdout, reg, &run);
    if (a.meminfo) {
        FILE *mout = stdout_taken ? stderr : stdout;
        fprintf(mout, "\n");
        report_meminfo(mout, reg);
    }
    fflush(stdout);

done:
    if (iw)
        interval_close(iw, 0, &err);
    for (size_t i = 0; i < ntraces && traces; i++)
        trace_close(traces[i]);
    free(traces);
    free(infos);
    engine_destroy(eng);
    symbols_destroy(syms);
    stats_destroy(reg);
    config_destroy(cfg);
    free(a.overrides);
    return rc;
}
