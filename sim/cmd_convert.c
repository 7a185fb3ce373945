/* mmusim convert: any supported trace to the native format, recording where it came from. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/common/errors.h"
#include "models/common/xalloc.h"
#include "sim/commands.h"
#include "traces/trace.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mmusim convert [--format F] [--compress C] [--level N] [--keep-going] IN OUT\n"
            "Converts a trace (native, lackey, din, text or ChampSim; gzip, xz, zstd or plain)\n"
            "to the native format. IN or OUT may be '-' for standard input or output.\n"
            "  -F, --format F      input format: auto (default), native, lackey, din, text, champsim\n"
            "  -c, --compress C    chunk compression: zstd (default), gzip, xz, none\n"
            "  -l, --level N       compression level (default: the codec's)\n"
            "  -k, --keep-going    skip and count bad records instead of stopping\n"
            "      --chunk-records N  records per chunk (default 131072)\n");
}

/* Metadata for the output: the source's own (native input), with this conversion's provenance
 * in place of any earlier one. */
struct meta_list {
    struct trace_kv *kv;
    size_t n, cap;
};

static void meta_set(struct meta_list *m, const char *key, const char *value)
{
    for (size_t i = 0; i < m->n; i++) {
        if (!strcmp(m->kv[i].key, key)) {
            free((char *)m->kv[i].value);
            m->kv[i].value = xstrdup(value);
            return;
        }
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 16;
        m->kv = xrealloc(m->kv, m->cap * sizeof *m->kv);
    }
    m->kv[m->n].key = xstrdup(key);
    m->kv[m->n].value = xstrdup(value);
    m->n++;
}

static void meta_free(struct meta_list *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free((char *)m->kv[i].key);
        free((char *)m->kv[i].value);
    }
    free(m->kv);
}

int cmd_convert(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'F'},   {"compress", required_argument, NULL, 'c'},
        {"level", required_argument, NULL, 'l'},    {"keep-going", no_argument, NULL, 'k'},
        {"chunk-records", required_argument, NULL, 1}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int fmt = TRACE_FMT_AUTO, comp = TRACE_COMP_ZSTD, level = 0, keep_going = 0, c;
    long chunk_records = 0;
    char *end;
    argv[0] = (char *)"mmusim convert"; /* getopt's own messages carry the prefix */
    optind = 1;
    while ((c = getopt_long(argc, argv, "F:c:l:kh", longopts, NULL)) != -1) {
        switch (c) {
        case 'F':
            fmt = trace_format_from_name(optarg);
            if (fmt < 0) {
                fprintf(stderr, "mmusim convert: unknown format '%s' (auto, native, lackey, din, "
                                "text, champsim)\n", optarg);
                return MMUSIM_EXIT_USAGE;
            }
            break;
        case 'c':
            comp = trace_compression_from_name(optarg);
            if (comp < 0) {
                fprintf(stderr, "mmusim convert: unknown compression '%s' (gzip, xz, zstd, "
                                "none)\n", optarg);
                return MMUSIM_EXIT_USAGE;
            }
            break;
        case 'l':
            level = (int)strtol(optarg, &end, 10);
            if (*end || !*optarg) {
                fprintf(stderr, "mmusim convert: bad level '%s'\n", optarg);
                return MMUSIM_EXIT_USAGE;
            }
            break;
        case 'k':
            keep_going = 1;
            break;
        case 1:
            chunk_records = strtol(optarg, &end, 10);
            if (*end || chunk_records <= 0 || chunk_records > (16L << 20)) {
                fprintf(stderr, "mmusim convert: bad chunk record count '%s'\n", optarg);
                return MMUSIM_EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            return MMUSIM_EXIT_OK;
        default:
            usage(stderr);
            return MMUSIM_EXIT_USAGE;
        }
    }
    if (optind != argc - 2) {
        fprintf(stderr, "mmusim convert: expected IN and OUT\n");
        usage(stderr);
        return MMUSIM_EXIT_USAGE;
    }
    const char *in = argv[optind], *out = argv[optind + 1];
    if (strcmp(in, "-") && access(in, R_OK) != 0) {
        fprintf(stderr, "mmusim convert: %s: cannot open: %m\n", in);
        return MMUSIM_EXIT_USAGE;
    }
    if (strcmp(in, "-") && !strcmp(in, out)) {
        fprintf(stderr, "mmusim convert: IN and OUT are the same file\n");
        return MMUSIM_EXIT_USAGE;
    }
    mm_err err;
    trace_reader *r = trace_open(in, (enum trace_format)fmt, &err);
    if (!r) {
        fprintf(stderr, "mmusim convert: %s\n", err.msg);
        return MMUSIM_EXIT_DATA;
    }
    trace_set_keep_going(r, keep_going);
    struct trace_info info;
    trace_get_info(r, &info);

    struct meta_list meta = {0};
    for (size_t i = 0; i < trace_meta_count(r); i++)
        meta_set(&meta, trace_meta_at(r, i)->key, trace_meta_at(r, i)->value);
    if (!trace_meta_get(r, "tool"))
        meta_set(&meta, "tool", "mmusim convert");
    meta_set(&meta, "source", in);
    meta_set(&meta, "source_format", trace_format_name(info.format));
    meta_set(&meta, "source_compression", trace_compression_name(info.compression));
    if (info.hash_complete) /* a pipe's hash is only known at the end */
        meta_set(&meta, "source_hash", info.content_hash);
    size_t cmdlen = 32;
    for (int i = 0; i < argc; i++)
        cmdlen += strlen(argv[i]) + 1;
    char *cmdline = xmalloc(cmdlen);
    strcpy(cmdline, argv[0]); /* "mmusim CMD" */
    for (int i = 1; i < argc; i++) {
        strcat(cmdline, " ");
        strcat(cmdline, argv[i]);
    }
    meta_set(&meta, "convert_cmdline", cmdline);
    free(cmdline);

    trace_writer *w = trace_writer_open(out, (enum trace_compression)comp, level, meta.kv, meta.n,
                                        &err);
    meta_free(&meta);
    if (!w) {
        fprintf(stderr, "mmusim convert: %s\n", err.msg);
        trace_close(r);
        return strstr(err.msg, "level") ? MMUSIM_EXIT_USAGE : MMUSIM_EXIT_FAILURE;
    }
    if (chunk_records)
        trace_writer_set_chunk_records(w, (uint32_t)chunk_records);
    static struct mm_event ev[4096];
    long n;
    int rc = MMUSIM_EXIT_OK;
    while ((n = trace_read(r, ev, 4096, &err)) > 0) {
        if (trace_writer_put(w, ev, (size_t)n, &err) < 0) {
            fprintf(stderr, "mmusim convert: %s\n", err.msg);
            rc = MMUSIM_EXIT_FAILURE;
            break;
        }
    }
    if (n < 0) {
        fprintf(stderr, "mmusim convert: %s\n", err.msg);
        rc = MMUSIM_EXIT_DATA;
    }
    trace_get_info(r, &info);
    if (trace_writer_close(w, &err) < 0 && rc == MMUSIM_EXIT_OK) {
        fprintf(stderr, "mmusim convert: %s\n", err.msg);
        rc = MMUSIM_EXIT_FAILURE;
    }
    if (rc != MMUSIM_EXIT_OK && strcmp(out, "-"))
        unlink(out); /* no half-written trace left behind */
    if (rc == MMUSIM_EXIT_OK && info.bad_records)
        fprintf(stderr, "mmusim convert: %s: skipped %llu bad records\n", in,
                (unsigned long long)info.bad_records);
    trace_close(r);
    return rc;
}
