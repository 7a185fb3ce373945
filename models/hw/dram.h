/* DRAM: one memory controller (one NUMA node's memory). Two models:
 *  - fixed: every access costs `latency` CPU cycles;
 *  - rowbuffer: channels x ranks x banks, each bank with an open row (open-page policy) or always
 *    precharged (closed-page); an access is a row hit (tCAS), a row miss on a precharged bank
 *    (tRCD + tCAS) or a row conflict (tRP + tRCD + tCAS), in DRAM clocks converted to CPU cycles,
 *    plus a fixed controller latency. No queueing: cycle-approximate, like the rest of mmusim. */
#ifndef MMUSIM_HW_DRAM_H
#define MMUSIM_HW_DRAM_H

#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"

enum dram_model { DRAM_FIXED, DRAM_ROWBUFFER };
enum dram_page_policy { DRAM_OPEN_PAGE, DRAM_CLOSED_PAGE };

/* Address fields, most significant first, named in dram_params.mapping. The line offset is always
 * the lowest bits. */
enum dram_field { DRAM_F_ROW, DRAM_F_RANK, DRAM_F_BANK, DRAM_F_CHANNEL, DRAM_F_COLUMN, DRAM_F_COUNT };

struct dram_params {
    const char *name;         /* stats prefix, e.g. "dram" or "dram.node1" */
    enum dram_model model;
    unsigned latency;         /* fixed model: CPU cycles per access */
    unsigned channels, ranks, banks; /* rowbuffer: powers of two; banks per rank */
    uint64_t row_size;        /* bytes in one row of one bank (all chips of a rank), power of two */
    unsigned line;            /* bytes per access (cache line), power of two */
    const char *mapping;      /* e.g. "row,rank,bank,channel,column": fields from MSB to LSB */
    enum dram_page_policy page_policy;
    unsigned tRCD, tCAS, tRP; /* DRAM clocks */
    double dram_mhz, cpu_mhz; /* clock of the DRAM command bus and of the core */
    unsigned controller_latency; /* CPU cycles added to every access (queues, PHY, interconnect) */
};

typedef struct dram dram;

/* Checks the parameters (powers of two, a mapping naming every field once). */
int dram_params_check(const struct dram_params *p, mm_err *err);
dram *dram_create(const struct dram_params *p, stats_registry *reg, mm_err *err);
void dram_destroy(dram *d);

/* One line-sized access at physical address addr; returns its latency in CPU cycles.
 * Writes (writebacks) change bank state and are counted like reads. */
uint32_t dram_access(dram *d, uint64_t addr, int is_write);

/* Decoded coordinates of an address (for tests and for per-bank reports). */
struct dram_coord {
    uint64_t row;
    unsigned channel, rank, bank;
    uint64_t column;
};
void dram_decode(const dram *d, uint64_t addr, struct dram_coord *c);

#endif
