/* mmusim info: what a trace holds: format, compression, records by type, pids, cpus,
 * instructions, footprint (distinct 4 KiB pages and 2 MiB regions), first and last address,
 * metadata, content hash. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/common/bits.h"
#include "models/common/errors.h"
#include "models/common/xalloc.h"
#include "sim/commands.h"
#include "traces/trace.h"

/* Open-addressing set of 64-bit keys (key + 1 stored so 0 marks an empty bucket). Memory grows
 * with the number of distinct keys, never with the address range. */
struct u64set {
    uint64_t *slot;
    size_t cap, count;
};

static void set_init(struct u64set *s)
{
    s->cap = 1024;
    s->count = 0;
    s->slot = xcalloc(s->cap, sizeof *s->slot);
}

static void set_insert(struct u64set *s, uint64_t key);

static void set_grow(struct u64set *s)
{
    struct u64set bigger = {xcalloc(s->cap * 2, sizeof *s->slot), s->cap * 2, 0};
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i])
            set_insert(&bigger, s->slot[i] - 1);
    free(s->slot);
    *s = bigger;
}

static void set_insert(struct u64set *s, uint64_t key)
{
    if (2 * (s->count + 1) > s->cap)
        set_grow(s);
    size_t mask = s->cap - 1, i = (size_t)mix64(key) & mask;
    while (s->slot[i]) {
        if (s->slot[i] == key + 1)
            return;
        i = (i + 1) & mask;
    }
    s->slot[i] = key + 1;
    s->count++;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: mmusim info [--format F] [--keep-going] TRACE\n"
                 "Describes a trace ('-' reads standard input): format, compression, records by\n"
                 "type, pids, cpus, instructions, footprint, first and last address, metadata and\n"
                 "content hash. Formats: auto (default), native, lackey, din, text, champsim.\n");
}

int cmd_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'F'},
        {"keep-going", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int fmt = TRACE_FMT_AUTO, keep_going = 0, c;
    argv[0] = (char *)"mmusim info"; /* getopt's own messages carry the prefix */
    optind = 1;
    while ((c = getopt_long(argc, argv, "F:kh", longopts, NULL)) != -1) {
        switch (c) {
        case 'F':
            fmt = trace_format_from_name(optarg);
            if (fmt < 0) {
                fprintf(stderr, "mmusim info: unknown format '%s' (auto, native, lackey, din, "
                                "text, champsim)\n", optarg);
                return MMUSIM_EXIT_USAGE;
            }
            break;
        case 'k':
            keep_going = 1;
            break;
        case 'h':
            usage(stdout);
            return MMUSIM_EXIT_OK;
        default:
            usage(stderr);
            return MMUSIM_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "mmusim info: expected one TRACE\n");
        usage(stderr);
        return MMUSIM_EXIT_USAGE;
    }
    const char *path = argv[optind];
    if (strcmp(path, "-") && access(path, R_OK) != 0) {
        fprintf(stderr, "mmusim info: %s: cannot open: %m\n", path);
        return MMUSIM_EXIT_USAGE;
    }
    mm_err err;
    trace_reader *r = trace_open(path, (enum trace_format)fmt, &err);
    if (!r) {
        fprintf(stderr, "mmusim info: %s\n", err.msg);
        return MMUSIM_EXIT_DATA;
    }
    trace_set_keep_going(r, keep_going);

    uint64_t by_type[256] = {0};
    uint64_t first_addr = 0, last_addr = 0, lo = UINT64_MAX, hi = 0, accesses = 0;
    struct u64set pages, regions, pids;
    set_init(&pages);
    set_init(&regions);
    set_init(&pids);
    static uint8_t cpu_seen[65536];
    memset(cpu_seen, 0, sizeof cpu_seen);
    uint64_t last_page = UINT64_MAX, last_region = UINT64_MAX;
    uint32_t last_pid = UINT32_MAX;
    static struct mm_event ev[4096];
    long n;
    while ((n = trace_read(r, ev, 4096, &err)) > 0) {
        for (long i = 0; i < n; i++) {
            const struct mm_event *e = &ev[i];
            by_type[e->type]++;
            cpu_seen[e->cpu] = 1;
            if (e->pid != last_pid) {
                set_insert(&pids, e->pid);
                last_pid = e->pid;
            }
            if (!mm_event_is_access(e))
                continue;
            if (accesses++ == 0)
                first_addr = e->addr;
            last_addr = e->addr;
            uint64_t end = e->addr + (e->size ? e->size - 1 : 0);
            if (end < e->addr)
                end = UINT64_MAX;
            if (e->addr < lo)
                lo = e->addr;
            if (end > hi)
                hi = end;
            /* an access may straddle a page or region boundary; most repeat the previous page */
            for (uint64_t p = e->addr >> 12; p <= end >> 12; p++) {
                if (p != last_page) {
                    set_insert(&pages, p);
                    last_page = p;
                }
            }
            for (uint64_t g = e->addr >> 21; g <= end >> 21; g++) {
                if (g != last_region) {
                    set_insert(&regions, g);
                    last_region = g;
                }
            }
        }
    }
    int rc = MMUSIM_EXIT_OK;
    if (n < 0) {
        fprintf(stderr, "mmusim info: %s\n", err.msg);
        rc = MMUSIM_EXIT_DATA;
    }

    struct trace_info info;
    trace_get_info(r, &info);
    printf("path: %s\n", info.path);
    printf("format: %s\n", trace_format_name(info.format));
    printf("compression: %s\n", trace_compression_name(info.compression));
    if (trace_chunk_compression(r) >= 0)
        printf("chunk compression: %s\n",
               trace_compression_name((enum trace_compression)trace_chunk_compression(r)));
    if (info.bytes_total)
        printf("size: %" PRIu64 " bytes\n", info.bytes_total);
    else
        printf("size: %" PRIu64 " bytes read (a pipe)\n", info.bytes_in);
    printf("records: %" PRIu64 "%s\n", info.records, rc ? " (up to the error)" : "");
    for (unsigned t = 0; t < 256; t++)
        if (by_type[t])
            printf("  %s: %" PRIu64 "\n", mm_event_type_name(t), by_type[t]);
    if (info.bad_records)
        printf("bad records skipped: %" PRIu64 "\n", info.bad_records);
    if (trace_ignored_records(r))
        printf("records ignored (escapes, flushes): %" PRIu64 "\n", trace_ignored_records(r));
    printf("instructions: %" PRIu64 "\n", info.instructions);

    /* pids and cpus: counts, and the ids when few */
    uint64_t *pl = xmalloc((pids.count ? pids.count : 1) * sizeof *pl);
    size_t np = 0;
    for (size_t i = 0; i < pids.cap; i++)
        if (pids.slot[i])
            pl[np++] = pids.slot[i] - 1;
    qsort(pl, np, sizeof *pl, cmp_u64);
    printf("pids: %zu", np);
    if (np && np <= 16) {
        printf(" (");
        for (size_t i = 0; i < np; i++)
            printf("%s%" PRIu64, i ? " " : "", pl[i]);
        printf(")");
    }
    printf("\n");
    free(pl);
    unsigned ncpu = 0;
    for (unsigned i = 0; i < 65536; i++)
        ncpu += cpu_seen[i];
    printf("cpus: %u", ncpu);
    if (ncpu && ncpu <= 16) {
        printf(" (");
        for (unsigned i = 0, k = 0; i < 65536; i++)
            if (cpu_seen[i])
                printf("%s%u", k++ ? " " : "", i);
        printf(")");
    }
    printf("\n");
    printf("footprint: %zu pages of 4 KiB (%.1f MiB), %zu regions of 2 MiB\n", pages.count,
           (double)pages.count * 4096.0 / 1048576.0, regions.count);
    if (accesses) {
        printf("first address: 0x%" PRIx64 "\n", first_addr);
        printf("last address: 0x%" PRIx64 "\n", last_addr);
        printf("lowest address: 0x%" PRIx64 "\n", lo);
        printf("highest address: 0x%" PRIx64 "\n", hi);
    }
    printf("content hash: xxh3-128:%s%s\n", info.content_hash,
           info.hash_complete ? "" : " (partial: input not read to its end)");
    size_t nm = trace_meta_count(r);
    if (nm) {
        printf("metadata:\n");
        for (size_t i = 0; i < nm; i++) {
            const struct trace_kv *kv = trace_meta_at(r, i);
            printf("  %s: %s\n", kv->key, kv->value);
        }
    }
    free(pages.slot);
    free(regions.slot);
    free(pids.slot);
    trace_close(r);
    return rc;
}
