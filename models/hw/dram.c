#include "models/hw/dram.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"

#define DRAM_NO_ROW UINT64_MAX

static const char *const field_names[DRAM_F_COUNT] = {"row", "rank", "bank", "channel", "column"};

struct dram {
    struct dram_params p;
    /* decode: for each field its shift and mask, from the mapping */
    unsigned shift[DRAM_F_COUNT];
    uint64_t mask[DRAM_F_COUNT];
    unsigned nbanks_total;
    uint64_t *open_row; /* per (channel, rank, bank) */
    uint32_t hit_cycles, miss_cycles, conflict_cycles;

    uint64_t reads, writes, row_hits, row_misses, row_conflicts, cycles;
    hist latency;
};

/* Parses "row,rank,bank,channel,column" into order[] (MSB first). */
static int parse_mapping(const char *mapping, int order[DRAM_F_COUNT], mm_err *err)
{
    int seen[DRAM_F_COUNT] = {0};
    int n = 0;
    const char *p = mapping;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int f = -1;
        for (int i = 0; i < DRAM_F_COUNT; i++)
            if (strlen(field_names[i]) == len && !strncmp(p, field_names[i], len))
                f = i;
        if (f < 0)
            return mm_errf(err, "address mapping '%s': unknown field '%.*s' (expected row, rank, bank, channel, column)",
                           mapping, (int)len, p);
        if (seen[f]++)
            return mm_errf(err, "address mapping '%s': field '%s' named twice", mapping, field_names[f]);
        if (n == DRAM_F_COUNT)
            return mm_errf(err, "address mapping '%s': too many fields", mapping);
        order[n++] = f;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (n != DRAM_F_COUNT)
        return mm_errf(err, "address mapping '%s': must name each of row, rank, bank, channel, column once",
                       mapping);
    if (order[0] != DRAM_F_ROW)
        return mm_errf(err, "address mapping '%s': row must be the most significant field", mapping);
    return 0;
}

int dram_params_check(const struct dram_params *p, mm_err *err)
{
    if (p->model == DRAM_FIXED)
        return 0;
    if (!is_pow2_u64(p->channels) || !is_pow2_u64(p->ranks) || !is_pow2_u64(p->banks))
        return mm_errf(err, "channels (%u), ranks (%u) and banks (%u) must be powers of two",
                       p->channels, p->ranks, p->banks);
    if (!is_pow2_u64(p->line) || !is_pow2_u64(p->row_size) || p->row_size < p->line)
        return mm_errf(err, "row size (%llu) and line (%u) must be powers of two, row >= line",
                       (unsigned long long)p->row_size, p->line);
    if (p->dram_mhz <= 0 || p->cpu_mhz <= 0)
        return mm_errf(err, "clock frequencies must be positive");
    int order[DRAM_F_COUNT];
    return parse_mapping(p->mapping ? p->mapping : "", order, err);
}

static uint32_t to_cpu_cycles(const struct dram_params *p, unsigned dram_clocks)
{
    return (uint32_t)llround((double)dram_clocks * p->cpu_mhz / p->dram_mhz) + p->controller_latency;
}

dram *dram_create(const struct dram_params *p, stats_registry *reg, mm_err *err)
{
    if (dram_params_check(p, err))
        return NULL;
    dram *d = xcalloc(1, sizeof *d);
    d->p = *p;
    d->p.mapping = NULL; /* not kept: decoded below */
    hist_init(&d->latency);
    if (p->model == DRAM_ROWBUFFER) {
        int order[DRAM_F_COUNT];
        parse_mapping(p->mapping, order, err);
        unsigned bits[DRAM_F_COUNT];
        bits[DRAM_F_CHANNEL] = log2_u64(p->channels);
        bits[DRAM_F_RANK] = log2_u64(p->ranks);
        bits[DRAM_F_BANK] = log2_u64(p->banks);
        bits[DRAM_F_COLUMN] = log2_u64(p->row_size / p->line);
        bits[DRAM_F_ROW] = 0; /* the rest of the address */
        /* walk from the LSB side (end of order) upward, above the line offset */
        unsigned shift = log2_u64(p->line);
        for (int i = DRAM_F_COUNT - 1; i >= 0; i--) {
            int f = order[i];
            d->shift[f] = shift;
            /* the row, always the most significant field, takes every bit left */
            d->mask[f] = f == DRAM_F_ROW ? UINT64_MAX : (((uint64_t)1 << bits[f]) - 1);
            shift += bits[f];
        }
        d->nbanks_total = p->channels * p->ranks * p->banks;
        d->open_row = xmalloc(d->nbanks_total * sizeof *d->open_row);
        for (unsigned i = 0; i < d->nbanks_total; i++)
            d->open_row[i] = DRAM_NO_ROW;
        d->hit_cycles = to_cpu_cycles(p, p->tCAS);
        d->miss_cycles = to_cpu_cycles(p, p->tRCD + p->tCAS);
        d->conflict_cycles = to_cpu_cycles(p, p->tRP + p->tRCD + p->tCAS);
    }
    stats_counter(reg, p->name, "reads", &d->reads, "line reads served by this memory");
    stats_counter(reg, p->name, "writes", &d->writes, "line writes (writebacks) into this memory");
    if (p->model == DRAM_ROWBUFFER) {
        stats_counter(reg, p->name, "row_hits", &d->row_hits, "accesses to the open row of their bank");
        stats_counter(reg, p->name, "row_misses", &d->row_misses,
                      "accesses to a precharged bank (activate, then read/write)");
        stats_counter(reg, p->name, "row_conflicts", &d->row_conflicts,
                      "accesses to a bank with another row open (precharge, activate, read/write)");
    }
    stats_counter(reg, p->name, "cycles", &d->cycles, "CPU cycles of all accesses to this memory");
    stats_histogram(reg, p->name, "latency", &d->latency, "memory access latency in CPU cycles");
    return d;
}

void dram_destroy(dram *d)
{
    if (!d)
        return;
    free(d->open_row);
    free(d);
}

void dram_decode(const dram *d, uint64_t addr, struct dram_coord *c)
{
    c->row = (addr >> d->shift[DRAM_F_ROW]) & d->mask[DRAM_F_ROW];
    c->channel = (unsigned)((addr >> d->shift[DRAM_F_CHANNEL]) & d->mask[DRAM_F_CHANNEL]);
    c->rank = (unsigned)((addr >> d->shift[DRAM_F_RANK]) & d->mask[DRAM_F_RANK]);
    c->bank = (unsigned)((addr >> d->shift[DRAM_F_BANK]) & d->mask[DRAM_F_BANK]);
    c->column = (addr >> d->shift[DRAM_F_COLUMN]) & d->mask[DRAM_F_COLUMN];
}

uint32_t dram_access(dram *d, uint64_t addr, int is_write)
{
    uint32_t lat;
    if (is_write)
        d->writes++;
    else
        d->reads++;
    if (d->p.model == DRAM_FIXED) {
        lat = d->p.latency;
    } else {
        struct dram_coord c;
        dram_decode(d, addr, &c);
        unsigned b = (c.channel * d->p.ranks + c.rank) * d->p.banks + c.bank;
        uint64_t *open = &d->open_row[b];
        if (*open == c.row) {
            d->row_hits++;
            lat = d->hit_cycles;
        } else if (*open == DRAM_NO_ROW) {
            d->row_misses++;
            lat = d->miss_cycles;
        } else {
            d->row_conflicts++;
            lat = d->conflict_cycles;
        }
        /* closed-page precharges right after the access: the next one always activates */
        *open = d->p.page_policy == DRAM_OPEN_PAGE ? c.row : DRAM_NO_ROW;
    }
    d->cycles += lat;
    hist_record(&d->latency, lat);
    return lat;
}
