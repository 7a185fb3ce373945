#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct stats_registry {
    stats_entry *entries;
    size_t count, cap;
};

stats_registry *stats_create(void)
{
    return xcalloc(1, sizeof(stats_registry));
}

void stats_destroy(stats_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->count; i++) {
        free((char *)reg->entries[i].name);
        free((char *)reg->entries[i].desc);
    }
    free(reg->entries);
    free(reg);
}

static stats_entry *stats_add(stats_registry *reg, const char *prefix, const char *leaf,
                              enum stats_kind kind, const char *desc)
{
    char *name;
    if (prefix && *prefix)
        name = xasprintf("%s.%s", prefix, leaf);
    else
        name = xstrdup(leaf);
    if (stats_find(reg, name)) {
        fprintf(stderr, "mmusim: internal error: statistic '%s' registered twice\n", name);
        abort();
    }
    if (reg->count == reg->cap) {
        reg->cap = reg->cap ? reg->cap * 2 : 64;
        reg->entries = xrealloc(reg->entries, reg->cap * sizeof *reg->entries);
    }
    stats_entry *e = &reg->entries[reg->count++];
    memset(e, 0, sizeof *e);
    e->name = name;
    e->desc = xstrdup(desc ? desc : "");
    e->kind = kind;
    return e;
}

void stats_counter(stats_registry *reg, const char *prefix, const char *leaf, uint64_t *value,
                   const char *desc)
{
    stats_add(reg, prefix, leaf, STATS_COUNTER, desc)->counter = value;
}

void stats_gauge(stats_registry *reg, const char *prefix, const char *leaf, stats_gauge_fn fn,
                 const void *ctx, const char *desc)
{
    stats_entry *e = stats_add(reg, prefix, leaf, STATS_GAUGE, desc);
    e->gauge = fn;
    e->gauge_ctx = ctx;
}

void stats_ratio(stats_registry *reg, const char *prefix, const char *leaf, const uint64_t *num,
                 const uint64_t *den, double scale, const char *desc)
{
    stats_entry *e = stats_add(reg, prefix, leaf, STATS_RATIO, desc);
    e->num = num;
    e->den = den;
    e->scale = scale;
}

void stats_histogram(stats_registry *reg, const char *prefix, const char *leaf, hist *h,
                     const char *desc)
{
    stats_add(reg, prefix, leaf, STATS_HISTOGRAM, desc)->histogram = h;
}

size_t stats_count(const stats_registry *reg)
{
    return reg->count;
}

const stats_entry *stats_at(const stats_registry *reg, size_t i)
{
    return i < reg->count ? &reg->entries[i] : NULL;
}

const stats_entry *stats_find(const stats_registry *reg, const char *name)
{
    for (size_t i = 0; i < reg->count; i++)
        if (strcmp(reg->entries[i].name, name) == 0)
            return &reg->entries[i];
    return NULL;
}

uint64_t stats_value(const stats_entry *e)
{
    switch (e->kind) {
    case STATS_COUNTER:
        return *e->counter;
    case STATS_GAUGE:
        return e->gauge(e->gauge_ctx);
    default:
        return 0;
    }
}

double stats_ratio_value(const stats_entry *e)
{
    if (e->kind != STATS_RATIO || *e->den == 0)
        return 0.0;
    return e->scale * (double)*e->num / (double)*e->den;
}

void stats_reset(stats_registry *reg)
{
    for (size_t i = 0; i < reg->count; i++) {
        stats_entry *e = &reg->entries[i];
        if (e->kind == STATS_COUNTER)
            *e->counter = 0;
        else if (e->kind == STATS_HISTOGRAM)
            hist_reset(e->histogram);
    }
}
