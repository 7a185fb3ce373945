/* mmusim gen: writes a synthetic native trace (traces/gen.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/errors.h"
#include "models/common/xalloc.h"
#include "sim/commands.h"
#include "traces/gen.h"
#include "traces/trace.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mmusim gen KIND [options] -o OUT\n"
            "Writes a synthetic trace in the native format; the same options and seed give a\n"
            "byte-identical file.\n\n"
            "kinds:\n"
            "  stream   sequential over the footprint in steps of --stride (default: --size)\n"
            "  stride   like stream with --stride default 4096; each pass starts one access later\n"
            "  random   uniform over the footprint, size-aligned (GUPS-like)\n"
            "  hot      uniform over a small hot set (default footprint 256K)\n"
            "  chase    pointer chase over a random cyclic permutation of 64-byte nodes\n"
            "  zipf     size-aligned slots drawn with Zipf-distributed popularity\n"
            "  mix      weighted mix, each part over its own region: --mix KIND:WEIGHT[:FOOTPRINT],...\n"
            "           e.g. --mix stream:50:64M,random:30:1G,hot:20:256K\n\n"
            "options:\n"
            "  -o, --output FILE      output trace ('-' for standard output) (required)\n"
            "  -n, --count N          records to generate (default 1000000)\n"
            "  -f, --footprint SIZE   bytes covered, e.g. 64M, 1G (default 64M; hot 256K)\n"
            "  -b, --base ADDR        lowest address (default 0x10000000)\n"
            "  -s, --size N           bytes per access, 1..4096 (default 8)\n"
            "  -r, --read-ratio F     fraction of reads, the rest writes (default 0.7; chase 1.0)\n"
            "      --stride N         step of stream/stride in bytes\n"
            "      --zipf S           Zipf exponent (default 0.99)\n"
            "      --mix SPEC         parts of a mix (see above)\n"
            "      --seed N           random seed (default 1)\n"
            "      --cpus N           spread records over N cpus, --quantum records at a time\n"
            "      --pids N           process ids 1000.. per cpu modulo N\n"
            "      --quantum N        records per cpu turn (default 10000)\n"
            "      --gap N            instructions between records (default 0)\n"
            "  -c, --compress C       gzip, xz, zstd or none (default zstd)\n"
            "  -l, --level N          compression level (default: the codec's)\n"
            "      --chunk-records N  records per chunk (default 131072)\n"
            "  -h, --help             this help\n"
            "Counts take K, M, G (decimal: 20M = 20000000); sizes K, M, G (binary: 64M = 64 MiB).\n");
}

static int bad(const char *what, const char *arg)
{
    fprintf(stderr, "mmusim gen: bad %s '%s'\n", what, arg);
    return MMUSIM_EXIT_USAGE;
}

int cmd_gen(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},   {"count", required_argument, NULL, 'n'},
        {"footprint", required_argument, NULL, 'f'}, {"base", required_argument, NULL, 'b'},
        {"size", required_argument, NULL, 's'},     {"read-ratio", required_argument, NULL, 'r'},
        {"stride", required_argument, NULL, 1},     {"zipf", required_argument, NULL, 2},
        {"mix", required_argument, NULL, 3},        {"seed", required_argument, NULL, 4},
        {"cpus", required_argument, NULL, 5},       {"pids", required_argument, NULL, 6},
        {"quantum", required_argument, NULL, 7},    {"gap", required_argument, NULL, 8},
        {"compress", required_argument, NULL, 'c'}, {"level", required_argument, NULL, 'l'},
        {"chunk-records", required_argument, NULL, 9}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* the kind comes first; peek at it so its defaults apply before the options */
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return MMUSIM_EXIT_OK;
    }
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "mmusim gen: expected a KIND (stream, stride, random, hot, chase, zipf, mix)\n");
        usage(stderr);
        return MMUSIM_EXIT_USAGE;
    }
    int kind = gen_kind_from_name(argv[1]);
    if (kind < 0)
        return bad("kind", argv[1]);
    struct gen_options o;
    gen_options_default(&o, (enum gen_kind)kind);
    const char *out = NULL, *mix = NULL;
    int comp = TRACE_COMP_ZSTD, level = 0;
    uint64_t chunk_records = 0;
    int have_footprint = 0;
    argv[0] = (char *)"mmusim gen"; /* getopt's own messages carry the prefix */
    optind = 2;
    int c;
    uint64_t v;
    char *end;
    while ((c = getopt_long(argc, argv, "o:n:f:b:s:r:c:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'n':
            if (gen_parse_count(optarg, &o.count))
                return bad("count", optarg);
            break;
        case 'f':
            if (gen_parse_size(optarg, &o.footprint) || o.footprint == 0)
                return bad("footprint", optarg);
            have_footprint = 1;
            break;
        case 'b':
            if (gen_parse_size(optarg, &o.base))
                return bad("base address", optarg);
            break;
        case 's':
            if (gen_parse_size(optarg, &v) || v == 0 || v > MM_ACCESS_MAX_SIZE)
                return bad("access size (1..4096)", optarg);
            o.size = (uint32_t)v;
            break;
        case 'r':
            o.read_ratio = strtod(optarg, &end);
            if (*end || o.read_ratio < 0 || o.read_ratio > 1)
                return bad("read ratio (0..1)", optarg);
            break;
        case 1:
            if (gen_parse_size(optarg, &o.stride) || o.stride == 0)
                return bad("stride", optarg);
            break;
        case 2:
            o.zipf_s = strtod(optarg, &end);
            if (*end || !(o.zipf_s > 0))
                return bad("zipf exponent", optarg);
            break;
        case 3:
            mix = optarg;
            break;
        case 4:
            o.seed = strtoull(optarg, &end, 0);
            if (*end || !*optarg)
                return bad("seed", optarg);
            break;
        case 5:
            if (gen_parse_size(optarg, &v) || v == 0 || v > MM_MAX_CPUS)
                return bad("cpu count", optarg);
            o.cpus = (unsigned)v;
            break;
        case 6:
            if (gen_parse_size(optarg, &v) || v == 0 || v > 1000000)
                return bad("pid count", optarg);
            o.pids = (unsigned)v;
            break;
        case 7:
            if (gen_parse_count(optarg, &o.quantum) || o.quantum == 0)
                return bad("quantum", optarg);
            break;
        case 8:
            if (gen_parse_size(optarg, &v) || v > UINT32_MAX)
                return bad("gap", optarg);
            o.gap = (uint32_t)v;
            break;
        case 9:
            if (gen_parse_count(optarg, &chunk_records) || chunk_records == 0 ||
                chunk_records > (16u << 20))
                return bad("chunk records (1..16M)", optarg);
            break;
        case 'c':
            comp = trace_compression_from_name(optarg);
            if (comp < 0)
                return bad("compression (gzip, xz, zstd, none)", optarg);
            break;
        case 'l':
            level = (int)strtol(optarg, &end, 10);
            if (*end || !*optarg)
                return bad("level", optarg);
            break;
        case 'h':
            usage(stdout);
            return MMUSIM_EXIT_OK;
        default:
            fprintf(stderr, "usage: mmusim gen KIND [options] -o OUT (mmusim gen --help lists the options)\n");
            return MMUSIM_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mmusim gen: unexpected argument '%s'\n", argv[optind]);
        return MMUSIM_EXIT_USAGE;
    }
    if (!out) {
        fprintf(stderr, "mmusim gen: missing -o OUT\n");
        return MMUSIM_EXIT_USAGE;
    }
    mm_err err;
    if (kind == GEN_MIX) {
        if (!mix) {
            fprintf(stderr, "mmusim gen: mix needs --mix KIND:WEIGHT[:FOOTPRINT],...\n");
            return MMUSIM_EXIT_USAGE;
        }
        if (gen_parse_mix(mix, &o, &err) < 0) {
            fprintf(stderr, "mmusim gen: %s\n", err.msg);
            return MMUSIM_EXIT_USAGE;
        }
        (void)have_footprint;
    } else if (mix) {
        fprintf(stderr, "mmusim gen: --mix applies to the mix kind only\n");
        return MMUSIM_EXIT_USAGE;
    }
    gen *g = gen_create(&o, &err);
    if (!g) {
        fprintf(stderr, "mmusim gen: %s\n", err.msg);
        return MMUSIM_EXIT_USAGE;
    }
    /* metadata: what made this trace, so it can be made again; without the output name, so the
     * same options give the same bytes wherever they are written */
    size_t cmdlen = 16;
    for (int i = 0; i < argc; i++)
        cmdlen += strlen(argv[i]) + 1;
    char *cmdline = xmalloc(cmdlen);
    strcpy(cmdline, argv[0]); /* "mmusim CMD" */
    for (int i = 1; i < argc; i++) {
        if (i > 1 && (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output"))) {
            i++;
            continue;
        }
        if (i > 1 && (!strncmp(argv[i], "-o", 2) || !strncmp(argv[i], "--output=", 9)))
            continue;
        strcat(cmdline, " ");
        strcat(cmdline, argv[i]);
    }
    char seed[32], count[32], page[16];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o.seed);
    snprintf(count, sizeof count, "%llu", (unsigned long long)o.count);
    snprintf(page, sizeof page, "4096");
    struct trace_kv meta[] = {
        {"tool", "mmusim gen"}, {"cmdline", cmdline}, {"generator", gen_kind_name(o.kind)},
        {"seed", seed},         {"records", count},   {"page_size", page},
    };
    trace_writer *w = trace_writer_open(out, (enum trace_compression)comp, level, meta,
                                        sizeof meta / sizeof *meta, &err);
    free(cmdline);
    if (!w) {
        fprintf(stderr, "mmusim gen: %s\n", err.msg);
        gen_destroy(g);
        return MMUSIM_EXIT_FAILURE;
    }
    if (chunk_records)
        trace_writer_set_chunk_records(w, (uint32_t)chunk_records);
    static struct mm_event ev[4096];
    size_t k;
    int rc = MMUSIM_EXIT_OK;
    while ((k = gen_fill(g, ev, 4096)) > 0) {
        if (trace_writer_put(w, ev, k, &err) < 0) {
            rc = MMUSIM_EXIT_FAILURE;
            break;
        }
    }
    gen_destroy(g);
    if (trace_writer_close(w, rc ? NULL : &err) < 0 || rc) {
        fprintf(stderr, "mmusim gen: %s\n", err.msg);
        return MMUSIM_EXIT_FAILURE;
    }
    return MMUSIM_EXIT_OK;
}
