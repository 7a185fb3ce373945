/* Private layout shared by the reclaim modules (lru.c, workingset.c, pagecache.c, writeback.c,
 * swap.c, vmscan.c) only. */
#ifndef MMUSIM_OS_RECLAIM_INTERNAL_H
#define MMUSIM_OS_RECLAIM_INTERNAL_H

#include <stdint.h>

#include "models/os/bdev.h"
#include "models/os/lru.h"
#include "models/os/zone.h"

#define LRU_NIL UINT32_MAX

/* 32 bytes per frame, plus the 16-bit flags in their own array (34 bytes per frame in all). */
struct lru_page {
    uint32_t next, prev;   /* LRU list links (towards the tail / towards the head) */
    uint32_t wnext, wprev; /* writeback.c: dirty list or a device's writeback queue */
    uint64_t owner;        /* facade cookie, or PAGECACHE_OWNER(file, index) */
    uint32_t swap;         /* swap entry while PG_swapcache */
    uint32_t stamp;        /* writeback.c: microseconds mod 2^32 */
};
_Static_assert(sizeof(struct lru_page) == 32, "32 bytes of reclaim state per frame");

struct lru_head {
    uint32_t head, tail;
};

struct lruvec {
    struct lru_head lists[NR_LRU_LISTS];
    uint64_t nr[NR_LRU_LISTS];                   /* node totals */
    uint64_t nr_zone[MM_NR_ZONE_TYPES][NR_LRU_LISTS];
    uint64_t nr_mlock;
    uint64_t anon_cost, file_cost;
    uint64_t nonresident_age;
    uint64_t workingset_activate[2]; /* WORKINGSET_ACTIVATE_ANON/FILE node counters */
    uint64_t refaults[2];            /* snapshot_refaults() */
};

struct mm_lru {
    mm_phys *pm;
    uint64_t max_pfn;
    unsigned nr_nodes;
    unsigned bucket_order; /* workingset_bucket_order(managed pages) */
    struct lru_page *pg;
    uint16_t *flags;
    struct lruvec vec[MM_MAX_NUMNODES];
    struct lru_vm_events ev;
};

static inline struct lru_page *lru_pg(const mm_lru *lru, uint64_t pfn) { return &lru->pg[pfn]; }

/* A backing device (bdev.h). Pages under writeback to it form a FIFO through the lru_page wnext/
 * wprev links in completion order; each page's stamp is its completion time in microseconds. */
struct mm_bdev {
    struct bdev_config cfg;
    uint64_t read_cycles, write_cycles;
    uint64_t next_free; /* cycles: when the next request can start */
    uint32_t wb_head, wb_tail;
    uint64_t nr_inflight;
    uint64_t reads, writes;
};

/* time helpers: 32-bit microsecond stamps compared modulo 2^32 */
static inline int32_t stamp_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

#endif
