#include "sim/report.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/common/xalloc.h"
#include "sim/symbols.h"

/* ---------- atomic output ---------- */

int outfile_open(outfile *o, const char *path, mm_err *err)
{
    memset(o, 0, sizeof *o);
    if (!strcmp(path, "-")) {
        o->f = stdout;
        return 0;
    }
    o->path = xstrdup(path);
    o->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "wb");
    if (!o->f) {
        int e = errno;
        free(o->path);
        free(o->tmp);
        memset(o, 0, sizeof *o);
        return mm_errf(err, "%s: cannot write: %s", path, strerror(e));
    }
    return 0;
}

int outfile_commit(outfile *o, mm_err *err)
{
    if (o->f == stdout) {
        fflush(stdout);
        o->f = NULL;
        return 0;
    }
    int bad = ferror(o->f);
    if (fclose(o->f))
        bad = 1;
    o->f = NULL;
    int rc = 0;
    if (bad) {
        rc = mm_errf(err, "%s: write error", o->path);
        unlink(o->tmp);
    } else if (rename(o->tmp, o->path)) {
        rc = mm_errf(err, "%s: cannot rename %s into place: %s", o->path, o->tmp, strerror(errno));
        unlink(o->tmp);
    }
    free(o->path);
    free(o->tmp);
    o->path = o->tmp = NULL;
    return rc;
}

void outfile_abort(outfile *o)
{
    if (o->f && o->f != stdout) {
        fclose(o->f);
        unlink(o->tmp);
    }
    free(o->path);
    free(o->tmp);
    memset(o, 0, sizeof *o);
}

/* ---------- helpers ---------- */

static const char *leaf_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

static size_t prefix_len(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot ? (size_t)(dot - name) : 0;
}

static const stats_entry *find_sibling(const stats_registry *reg, const char *prefix, size_t plen,
                                       const char *leaf)
{
    char name[512];
    snprintf(name, sizeof name, "%.*s.%s", (int)plen, prefix, leaf);
    return stats_find(reg, name);
}

/* A "table group" is a prefix with accesses, hits and misses counters: a cache or a TLB. */
static int is_table_group(const stats_registry *reg, const char *name, size_t plen)
{
    return plen && find_sibling(reg, name, plen, "accesses") && find_sibling(reg, name, plen, "hits") &&
           find_sibling(reg, name, plen, "misses");
}

static const char *table_leaves[] = {"accesses", "hits", "misses", "miss_rate", "mpki", NULL};

static int is_table_leaf(const char *leaf)
{
    for (size_t i = 0; table_leaves[i]; i++)
        if (!strcmp(leaf, table_leaves[i]))
            return 1;
    return 0;
}

static void fmt_count(char *buf, size_t n, uint64_t v)
{
    /* thousands separators for people */
    char digits[32];
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t len = strlen(digits), j = 0;
    for (size_t i = 0; i < len && j + 2 < n; i++) {
        buf[j++] = digits[i];
        size_t left = len - i - 1;
        if (left && left % 3 == 0)
            buf[j++] = ',';
    }
    buf[j] = 0;
}

/* ---------- text ---------- */

void report_text(FILE *out, const stats_registry *reg, const struct report_run *run)
{
    fprintf(out, "mmusim %s  run %s%s\n", run->version, run->end,
            run->complete ? "" : " (INCOMPLETE: statistics cover only what was simulated)");
    for (size_t i = 0; i < run->ntraces; i++) {
        const struct trace_info *t = &run->traces[i];
        char recs[40];
        fmt_count(recs, sizeof recs, t->records);
        fprintf(out, "trace   %s  [%s, %s]  %s records  xxh128 %s%s\n", t->path,
                trace_format_name(t->format), trace_compression_name(t->compression), recs,
                t->content_hash, t->hash_complete ? "" : " (partial)");
        if (t->bad_records)
            fprintf(out, "        %llu bad records skipped (--keep-going)\n",
                    (unsigned long long)t->bad_records);
    }
    fprintf(out, "config  %016llx (--print-config shows it)  seed %llu", (unsigned long long)config_hash(run->cfg),
            (unsigned long long)run->seed);
    if (run->skip)
        fprintf(out, "  skip %llu", (unsigned long long)run->skip);
    if (run->warmup)
        fprintf(out, "  warmup %llu", (unsigned long long)run->warmup);
    if (run->max)
        fprintf(out, "  max %llu", (unsigned long long)run->max);
    fprintf(out, "\n\n");

    size_t n = stats_count(reg);
    const stats_entry *instr = stats_find(reg, "sim.instructions");
    int have_instr = instr && stats_value(instr) > 0;

    /* caches and TLBs as one table */
    int header = 0;
    for (size_t i = 0; i < n; i++) {
        const stats_entry *e = stats_at(reg, i);
        size_t plen = prefix_len(e->name);
        if (strcmp(leaf_of(e->name), "accesses") || !is_table_group(reg, e->name, plen))
            continue;
        if (!header) {
            fprintf(out, "%-24s %16s %16s %16s %10s %10s\n", "level", "accesses", "hits", "misses",
                    "miss rate", have_instr ? "MPKI" : "");
            header = 1;
        }
        char a[32], h[32], m[32];
        uint64_t acc = stats_value(e);
        uint64_t hits = stats_value(find_sibling(reg, e->name, plen, "hits"));
        uint64_t miss = stats_value(find_sibling(reg, e->name, plen, "misses"));
        fmt_count(a, sizeof a, acc);
        fmt_count(h, sizeof h, hits);
        fmt_count(m, sizeof m, miss);
        fprintf(out, "%-24.*s %16s %16s %16s", (int)plen, e->name, a, h, m);
        if (acc)
            fprintf(out, " %9.4f%%", 100.0 * (double)miss / (double)acc);
        else
            fprintf(out, " %10s", "-");
        if (have_instr)
            fprintf(out, " %10.3f", 1000.0 * (double)miss / (double)stats_value(instr));
        fprintf(out, "\n");
    }
    if (header)
        fprintf(out, "\n");

    /* latency histograms */
    header = 0;
    for (size_t i = 0; i < n; i++) {
        const stats_entry *e = stats_at(reg, i);
        if (e->kind != STATS_HISTOGRAM)
            continue;
        if (!header) {
            fprintf(out, "%-24s %14s %10s %8s %8s %8s %8s %10s   (cycles; quantiles within %.2f%%)\n",
                    "histogram", "count", "mean", "p50", "p90", "p99", "p99.9", "max",
                    100.0 * HIST_REL_ERROR);
            header = 1;
        }
        const hist *hg = e->histogram;
        char c[32];
        fmt_count(c, sizeof c, hg->count);
        fprintf(out, "%-24s %14s %10.2f %8llu %8llu %8llu %8llu %10llu\n", e->name, c, hist_mean(hg),
                (unsigned long long)hist_quantile(hg, 0.5), (unsigned long long)hist_quantile(hg, 0.9),
                (unsigned long long)hist_quantile(hg, 0.99),
                (unsigned long long)hist_quantile(hg, 0.999), (unsigned long long)hg->max);
    }
    if (header)
        fprintf(out, "\n");

    /* everything else, one per line; zero counters are left to JSON and CSV, which have all */
    int omitted = 0;
    for (size_t i = 0; i < n; i++) {
        const stats_entry *e = stats_at(reg, i);
        if (e->kind == STATS_HISTOGRAM)
            continue;
        size_t plen = prefix_len(e->name);
        if (is_table_leaf(leaf_of(e->name)) && is_table_group(reg, e->name, plen))
            continue;
        if (e->kind == STATS_RATIO) {
            if (*e->den == 0)
                continue; /* undefined: e.g. MPKI without instruction counts */
            fprintf(out, "%-40s %20.4f\n", e->name, stats_ratio_value(e));
        } else {
            uint64_t value = stats_value(e);
            if (!value) {
                omitted++;
                continue;
            }
            char v[32];
            fmt_count(v, sizeof v, value);
            fprintf(out, "%-40s %20s\n", e->name, v);
        }
    }
    if (omitted)
        fprintf(out, "(%d counters at zero not shown; --json and --csv list every counter)\n", omitted);
    if (run->symbols)
        symbols_report_text(out, run->symbols, run->symbols_top);
}

/* ---------- JSON ---------- */

static json_t *hist_json(const hist *h)
{
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer((json_int_t)h->count));
    json_object_set_new(o, "mean", json_real(hist_mean(h)));
    json_object_set_new(o, "min", json_integer((json_int_t)(h->count ? h->min : 0)));
    json_object_set_new(o, "p50", json_integer((json_int_t)hist_quantile(h, 0.5)));
    json_object_set_new(o, "p90", json_integer((json_int_t)hist_quantile(h, 0.9)));
    json_object_set_new(o, "p99", json_integer((json_int_t)hist_quantile(h, 0.99)));
    json_object_set_new(o, "p999", json_integer((json_int_t)hist_quantile(h, 0.999)));
    json_object_set_new(o, "max", json_integer((json_int_t)h->max));
    json_object_set_new(o, "relative_error", json_real(HIST_REL_ERROR));
    /* the non-empty buckets, [[low, high, count], ...] ascending: enough for a histogram or a CDF */
    json_t *buckets = json_array();
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        if (!h->buckets[b])
            continue;
        json_t *row = json_array();
        json_array_append_new(row, json_integer((json_int_t)hist_bucket_low(b)));
        json_array_append_new(row, json_integer((json_int_t)hist_bucket_high(b)));
        json_array_append_new(row, json_integer((json_int_t)h->buckets[b]));
        json_array_append_new(buckets, row);
    }
    json_object_set_new(o, "buckets", buckets);
    return o;
}

static json_t *entry_json(const stats_entry *e)
{
    switch (e->kind) {
    case STATS_COUNTER:
    case STATS_GAUGE:
        return json_integer((json_int_t)stats_value(e));
    case STATS_RATIO:
        return *e->den ? json_real(stats_ratio_value(e)) : json_null();
    case STATS_HISTOGRAM:
        return hist_json(e->histogram);
    }
    return json_null();
}

/* Places value at the dotted path under root, creating objects on the way. */
static void json_put_path(json_t *root, const char *name, json_t *value)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", name);
    json_t *node = root;
    char *part = buf;
    for (char *dot; (dot = strchr(part, '.'));) {
        *dot = 0;
        json_t *child = json_object_get(node, part);
        if (!child) {
            child = json_object();
            json_object_set_new(node, part, child);
        } else if (!json_is_object(child)) {
            *dot = '.'; /* a leaf already holds this name: keep the rest flat */
            break;
        }
        node = child;
        part = dot + 1;
    }
    json_object_set_new(node, part, value);
}

static json_t *config_json(const sim_config *cfg)
{
    json_t *o = json_object();
    for (size_t i = 0; i < config_count(cfg); i++) {
        const char *s, *k, *v;
        config_entry_at(cfg, i, &s, &k, &v);
        json_t *sec = json_object_get(o, s);
        if (!sec) {
            sec = json_object();
            json_object_set_new(o, s, sec);
        }
        json_object_set_new(sec, k, json_string(v));
    }
    return o;
}

static json_t *traces_json(const struct report_run *run)
{
    json_t *a = json_array();
    for (size_t i = 0; i < run->ntraces; i++) {
        const struct trace_info *t = &run->traces[i];
        json_t *o = json_object();
        json_object_set_new(o, "path", json_string(t->path));
        json_object_set_new(o, "format", json_string(trace_format_name(t->format)));
        json_object_set_new(o, "compression", json_string(trace_compression_name(t->compression)));
        json_object_set_new(o, "records", json_integer((json_int_t)t->records));
        json_object_set_new(o, "bad_records", json_integer((json_int_t)t->bad_records));
        json_object_set_new(o, "content_hash", json_string(t->content_hash));
        json_object_set_new(o, "hash_algorithm", json_string("xxh3-128"));
        json_object_set_new(o, "hash_complete", json_boolean(t->hash_complete));
        json_array_append_new(a, o);
    }
    return a;
}

int report_json(const char *path, const stats_registry *reg, const struct report_run *run,
                mm_err *err)
{
    json_t *root = json_object();
    json_object_set_new(root, "mmusim", json_string(run->version));
    json_object_set_new(root, "complete", json_boolean(run->complete));
    json_object_set_new(root, "end", json_string(run->end));
    json_t *r = json_object();
    json_object_set_new(r, "seed", json_integer((json_int_t)run->seed));
    json_object_set_new(r, "skip", json_integer((json_int_t)run->skip));
    json_object_set_new(r, "warmup", json_integer((json_int_t)run->warmup));
    json_object_set_new(r, "max", json_integer((json_int_t)run->max));
    json_object_set_new(r, "records", json_integer((json_int_t)run->records));
    json_object_set_new(r, "measured_accesses", json_integer((json_int_t)run->measured));
    json_object_set_new(root, "run", r);
    json_object_set_new(root, "config", config_json(run->cfg));
    json_object_set_new(root, "traces", traces_json(run));
    json_t *stats = json_object();
    for (size_t i = 0; i < stats_count(reg); i++) {
        const stats_entry *e = stats_at(reg, i);
        json_put_path(stats, e->name, entry_json(e));
    }
    json_object_set_new(root, "stats", stats);
    if (run->symbols)
        json_object_set_new(root, "symbols", symbols_json(run->symbols));
    json_t *host = json_object();
    json_object_set_new(host, "wall_seconds", json_real(run->wall_seconds));
    json_object_set_new(host, "peak_rss_kib", json_integer(run->peak_rss_kib));
    json_object_set_new(root, "host", host);

    outfile o;
    if (outfile_open(&o, path, err)) {
        json_decref(root);
        return -1;
    }
    int rc = json_dumpf(root, o.f, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    fputc('\n', o.f);
    json_decref(root);
    if (rc) {
        outfile_abort(&o);
        return mm_errf(err, "%s: cannot write JSON", path);
    }
    return outfile_commit(&o, err);
}

/* ---------- CSV ---------- */

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_row(FILE *f, const char *name, const char *value)
{
    csv_field(f, name);
    fputc(',', f);
    csv_field(f, value);
    fputc('\n', f);
}

static void csv_row_u64(FILE *f, const char *name, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    csv_row(f, name, buf);
}

static void csv_row_double(FILE *f, const char *name, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.12g", v);
    csv_row(f, name, buf);
}

int report_csv(const char *path, const stats_registry *reg, const struct report_run *run,
               mm_err *err)
{
    outfile o;
    if (outfile_open(&o, path, err))
        return -1;
    FILE *f = o.f;
    char name[600];
    csv_row(f, "name", "value");
    csv_row(f, "mmusim", run->version);
    csv_row(f, "complete", run->complete ? "true" : "false");
    csv_row(f, "end", run->end);
    csv_row_u64(f, "run.seed", run->seed);
    csv_row_u64(f, "run.skip", run->skip);
    csv_row_u64(f, "run.warmup", run->warmup);
    csv_row_u64(f, "run.max", run->max);
    csv_row_u64(f, "run.records", run->records);
    csv_row_u64(f, "run.measured_accesses", run->measured);
    for (size_t i = 0; i < run->ntraces; i++) {
        const struct trace_info *t = &run->traces[i];
        snprintf(name, sizeof name, "traces.%zu.path", i);
        csv_row(f, name, t->path);
        snprintf(name, sizeof name, "traces.%zu.format", i);
        csv_row(f, name, trace_format_name(t->format));
        snprintf(name, sizeof name, "traces.%zu.compression", i);
        csv_row(f, name, trace_compression_name(t->compression));
        snprintf(name, sizeof name, "traces.%zu.records", i);
        csv_row_u64(f, name, t->records);
        snprintf(name, sizeof name, "traces.%zu.bad_records", i);
        csv_row_u64(f, name, t->bad_records);
        snprintf(name, sizeof name, "traces.%zu.content_hash", i);
        csv_row(f, name, t->content_hash);
    }
    for (size_t i = 0; i < config_count(run->cfg); i++) {
        const char *s, *k, *v;
        config_entry_at(run->cfg, i, &s, &k, &v);
        snprintf(name, sizeof name, "config.%s.%s", s, k);
        csv_row(f, name, v);
    }
    for (size_t i = 0; i < stats_count(reg); i++) {
        const stats_entry *e = stats_at(reg, i);
        switch (e->kind) {
        case STATS_COUNTER:
        case STATS_GAUGE:
            csv_row_u64(f, e->name, stats_value(e));
            break;
        case STATS_RATIO:
            if (*e->den) {
                csv_row_double(f, e->name, stats_ratio_value(e));
            } else {
                csv_row(f, e->name, "");
            }
            break;
        case STATS_HISTOGRAM: {
            const hist *h = e->histogram;
            static const struct {
                const char *leaf;
                double q;
            } qs[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}};
            snprintf(name, sizeof name, "%s.count", e->name);
            csv_row_u64(f, name, h->count);
            snprintf(name, sizeof name, "%s.mean", e->name);
            csv_row_double(f, name, hist_mean(h));
            for (size_t q = 0; q < 4; q++) {
                snprintf(name, sizeof name, "%s.%s", e->name, qs[q].leaf);
                csv_row_u64(f, name, hist_quantile(h, qs[q].q));
            }
            snprintf(name, sizeof name, "%s.max", e->name);
            csv_row_u64(f, name, h->max);
            break;
        }
        }
    }
    return outfile_commit(&o, err);
}

/* ---------- interval series ---------- */

struct interval_writer {
    outfile out;
    const stats_registry *reg;
    size_t n;          /* counters tracked */
    const stats_entry **entries;
    uint64_t *last;
    uint64_t last_measured;
};

interval_writer *interval_open(const char *path, const stats_registry *reg, mm_err *err)
{
    interval_writer *iw = xcalloc(1, sizeof *iw);
    if (outfile_open(&iw->out, path, err)) {
        free(iw);
        return NULL;
    }
    iw->reg = reg;
    size_t total = stats_count(reg);
    iw->entries = xcalloc(total ? total : 1, sizeof *iw->entries);
    iw->last = xcalloc(total ? total : 1, sizeof *iw->last);
    fputs("accesses", iw->out.f);
    for (size_t i = 0; i < total; i++) {
        const stats_entry *e = stats_at(reg, i);
        if (e->kind != STATS_COUNTER && e->kind != STATS_GAUGE)
            continue;
        iw->entries[iw->n++] = e;
        fputc(',', iw->out.f);
        csv_field(iw->out.f, e->name);
    }
    fputc('\n', iw->out.f);
    return iw;
}

/* Counters are written as deltas since the previous row; gauges (levels) as their value. */
void interval_row(interval_writer *iw, uint64_t measured)
{
    FILE *f = iw->out.f;
    fprintf(f, "%llu", (unsigned long long)measured);
    for (size_t i = 0; i < iw->n; i++) {
        const stats_entry *e = iw->entries[i];
        uint64_t v = stats_value(e);
        if (e->kind == STATS_COUNTER) {
            fprintf(f, ",%llu", (unsigned long long)(v - iw->last[i]));
            iw->last[i] = v;
        } else {
            fprintf(f, ",%llu", (unsigned long long)v);
        }
    }
    fputc('\n', f);
    iw->last_measured = measured;
}

int interval_close(interval_writer *iw, uint64_t measured, mm_err *err)
{
    if (measured > iw->last_measured)
        interval_row(iw, measured);
    int rc = outfile_commit(&iw->out, err);
    free(iw->entries);
    free(iw->last);
    free(iw);
    return rc;
}

/* ---------- /proc/meminfo and free ---------- */

/* fs/proc/meminfo.c's order for the fields the model has */
static const char *const meminfo_order[] = {
    "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active",
    "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)", "Unevictable",
    "Mlocked", "HighTotal", "HighFree", "LowTotal", "LowFree", "SwapTotal", "SwapFree", "Dirty",
    "Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable",
    "SUnreclaim", "KernelStack", "PageTables", "NFS_Unstable", "Bounce", "WritebackTmp",
    "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed", "VmallocChunk", "Percpu",
    "HardwareCorrupted", "AnonHugePages", "ShmemHugePages", "ShmemPmdMapped", "FileHugePages",
    "FilePmdMapped", "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp",
    "Hugepagesize", "Hugetlb", "DirectMap4k", "DirectMap2M", "DirectMap1G", NULL};

static int meminfo_get(const stats_registry *reg, const char *field, uint64_t *kb)
{
    char name[128];
    snprintf(name, sizeof name, "os.meminfo.%s", field);
    const stats_entry *e = stats_find(reg, name);
    if (!e || (e->kind != STATS_COUNTER && e->kind != STATS_GAUGE))
        return 0;
    *kb = stats_value(e);
    return 1;
}

static int is_huge_count(const char *field)
{
    return !strncmp(field, "HugePages_", 10);
}

void report_meminfo(FILE *out, const stats_registry *reg)
{
    uint64_t v;
    if (!meminfo_get(reg, "MemTotal", &v)) {
        fprintf(out, "(no meminfo: the kernel model is off; run with -o kernel.model=linux)\n");
        return;
    }
    /* the fields in Linux's order, then any the model adds that Linux's list above lacks */
    for (size_t i = 0; meminfo_order[i]; i++)
        if (meminfo_get(reg, meminfo_order[i], &v)) {
            char label[64];
            snprintf(label, sizeof label, "%s:", meminfo_order[i]);
            if (is_huge_count(meminfo_order[i]))
                fprintf(out, "%-15s %8llu\n", label, (unsigned long long)v);
            else
                fprintf(out, "%-15s %8llu kB\n", label, (unsigned long long)v);
        }
    for (size_t i = 0; i < stats_count(reg); i++) {
        const stats_entry *e = stats_at(reg, i);
        if (strncmp(e->name, "os.meminfo.", 11))
            continue;
        const char *field = e->name + 11;
        int known = 0;
        for (size_t k = 0; meminfo_order[k] && !known; k++)
            known = !strcmp(meminfo_order[k], field);
        if (!known) {
            char label[64];
            snprintf(label, sizeof label, "%s:", field);
            fprintf(out, "%-15s %8llu kB\n", label, (unsigned long long)stats_value(e));
        }
    }
    /* free(1): used = total - free - buffers - cache (procps-ng's definition) */
    uint64_t total = 0, mfree = 0, avail = 0, buffers = 0, cached = 0, sreclaim = 0, stotal = 0,
             sfree = 0, shmem = 0;
    meminfo_get(reg, "MemTotal", &total);
    meminfo_get(reg, "MemFree", &mfree);
    meminfo_get(reg, "MemAvailable", &avail);
    meminfo_get(reg, "Buffers", &buffers);
    meminfo_get(reg, "Cached", &cached);
    meminfo_get(reg, "SReclaimable", &sreclaim);
    meminfo_get(reg, "SwapTotal", &stotal);
    meminfo_get(reg, "SwapFree", &sfree);
    meminfo_get(reg, "Shmem", &shmem);
    uint64_t cache = cached + sreclaim;
    uint64_t used = total > mfree + buffers + cache ? total - mfree - buffers - cache : 0;
    fprintf(out, "\n%-6s %12s %12s %12s %12s %12s %12s\n", "", "total", "used", "free", "shared",
            "buff/cache", "available");
    fprintf(out, "%-6s %12llu %12llu %12llu %12llu %12llu %12llu\n", "Mem:", (unsigned long long)total,
            (unsigned long long)used, (unsigned long long)mfree, (unsigned long long)shmem,
            (unsigned long long)(buffers + cache), (unsigned long long)avail);
    fprintf(out, "%-6s %12llu %12llu %12llu\n", "Swap:", (unsigned long long)stotal,
            (unsigned long long)(stotal - sfree), (unsigned long long)sfree);
}
