/* Synthetic access streams, deterministic from a seed (models/common/rng.h): the same options give
 * the same events, hence byte-identical trace files. */
#ifndef MMUSIM_TRACES_GEN_H
#define MMUSIM_TRACES_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "traces/event.h"

enum gen_kind {
    GEN_STREAM, /* sequential over footprint in steps of `stride` (default: the access size), passes repeat */
    GEN_STRIDE, /* like stream with a larger step (default 4 KiB); each pass starts one access later */
    GEN_RANDOM, /* uniform over the footprint, size-aligned (GUPS-like) */
    GEN_HOT,    /* uniform over a small hot set (default 256 KiB); a mix component */
    GEN_CHASE,  /* pointer chase along a random cyclic permutation of 64-byte nodes */
    GEN_ZIPF,   /* size-aligned slots drawn by Zipf rank (exponent zipf_s), ranks scattered */
    GEN_MIX,    /* weighted mix of the others, each over its own region */
    GEN_KIND_COUNT
};

#define GEN_MAX_MIX 8

struct gen_component {
    enum gen_kind kind;
    unsigned weight;
    uint64_t footprint; /* 0: the kind's default inside a mix */
};

struct gen_options {
    enum gen_kind kind;
    uint64_t count;     /* records to generate */
    uint64_t footprint; /* bytes the accesses spread over */
    uint64_t base;      /* lowest address */
    uint32_t size;      /* bytes per access */
    double read_ratio;  /* fraction of reads; the rest are writes. < 0: the kind's default */
    uint64_t stride;    /* step of stream/stride; 0: the kind's default */
    double zipf_s;      /* Zipf exponent */
    uint64_t seed;
    unsigned cpus;      /* records rotate over this many cpus, `quantum` records each */
    unsigned pids;      /* process ids 1000.. assigned per cpu modulo pids */
    uint64_t quantum;
    uint32_t gap;       /* instructions between records */
    struct gen_component mix[GEN_MAX_MIX];
    unsigned nmix;
};

/* Defaults: 1M records, 64 MiB, base 0x10000000, 8-byte accesses, 70% reads, Zipf 0.99, seed 1,
 * one cpu, one pid, gap 0. */
void gen_options_default(struct gen_options *o, enum gen_kind kind);
const char *gen_kind_name(enum gen_kind k);
int gen_kind_from_name(const char *name); /* -1 if unknown */
/* "stream:50,random:30,hot:20" with an optional footprint per part ("random:30:1G").
 * Returns 0 or -1 (err filled). */
int gen_parse_mix(const char *spec, struct gen_options *o, mm_err *err);
/* "4096", "64K", "1M", "2G", "0x1000" -> bytes (binary multiples). 0 ok, -1 bad. */
int gen_parse_size(const char *s, uint64_t *out);
/* "1000", "20M", "1G" -> a count (decimal multiples: 20M is 20,000,000). 0 ok, -1 bad. */
int gen_parse_count(const char *s, uint64_t *out);

typedef struct gen gen;
gen *gen_create(const struct gen_options *o, mm_err *err);
/* Up to max next events; 0 once count records were produced. */
size_t gen_fill(gen *g, struct mm_event *ev, size_t max);
void gen_destroy(gen *g);

#endif
