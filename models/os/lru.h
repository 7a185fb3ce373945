/* Per-frame reclaim state and the per-node LRU lists of the kernel model, modelled on Linux v6.1
 * with the classic two-list LRU (CONFIG_LRU_GEN off, as many distribution kernels ship it):
 * include/linux/mm_inline.h (lruvec_add_folio, folio_lru_list), mm/swap.c (folio_add_lru,
 * folio_mark_accessed, folio_rotate_reclaimable, lru_note_cost) and mm/mlock.c.
 *
 * Frames are named by pfn. Each frame has a small record in one flat array (34 bytes: LRU links,
 * dirty/writeback links, an owner cookie, the swap entry, a time stamp and 16 flag bits); the five
 * lists of each node (pgdat->__lruvec) are intrusive doubly-linked lists through pfn indices, so
 * add, remove and rotate are O(1) and nothing is allocated per page operation.
 *
 * List orientation is Linux's: lruvec_add_folio() puts a page at the head, reclaim scans from the
 * tail, folio_rotate_reclaimable() puts a page at the tail (next to be reclaimed).
 *
 * The owner cookie is opaque to this module: the kernel facade sets it (for anonymous pages e.g. an
 * mm id and virtual address) and receives it back in the rmap callbacks of vmscan.h. Page-cache
 * pages carry PAGECACHE_OWNER(file, index), set by pagecache.c (page->mapping + page->index). */
#ifndef MMUSIM_OS_LRU_H
#define MMUSIM_OS_LRU_H

#include <stdbool.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "models/os/zone.h"

enum lru_list {
    LRU_INACTIVE_ANON,
    LRU_ACTIVE_ANON,
    LRU_INACTIVE_FILE,
    LRU_ACTIVE_FILE,
    LRU_UNEVICTABLE,
    NR_LRU_LISTS
};
#define LRU_BASE 0
#define LRU_ACTIVE 1
#define LRU_FILE 2
#define NR_EVICTABLE_LRU_LISTS 4

static inline bool is_file_lru(enum lru_list l) { return l == LRU_INACTIVE_FILE || l == LRU_ACTIVE_FILE; }
static inline bool is_active_lru(enum lru_list l) { return l == LRU_ACTIVE_ANON || l == LRU_ACTIVE_FILE; }
const char *lru_list_name(enum lru_list l); /* "inactive_anon", ... as /proc/zoneinfo names them */

/* Page flags (the subset of enum pageflags reclaim needs). */
enum {
    PG_lru = 1u << 0,        /* on an LRU list */
    PG_active = 1u << 1,
    PG_referenced = 1u << 2, /* software referenced bit (folio_mark_accessed) */
    PG_workingset = 1u << 3, /* was active before (deactivated or refaulted as workingset) */
    PG_dirty = 1u << 4,
    PG_writeback = 1u << 5,
    PG_swapbacked = 1u << 6, /* anonymous: lives on the anon lists, swap is its backing store */
    PG_unevictable = 1u << 7,
    PG_mlocked = 1u << 8,
    PG_swapcache = 1u << 9,  /* in the swap cache; the entry is folio_swap_entry() */
    PG_reclaim = 1u << 10,   /* rotate to the inactive tail when writeback ends */
    PG_pagecache = 1u << 11, /* in a file's page cache; owner = PAGECACHE_OWNER(file, index) */
    PG_dirty_listed = 1u << 12, /* internal to writeback.c: on its dirty or writeback list */
    PG_inuse = 1u << 13,     /* given to the LRU layer (between lru_page_init and lru_page_free) */
};

/* Swap entries: type (device index) in the top 5 bits, offset in the low 27 (swp_entry_t). 0 is
 * never a valid entry (offset 0 is the swap header). */
#define SWP_TYPE_SHIFT 27
#define SWP_OFFSET_MASK ((1u << SWP_TYPE_SHIFT) - 1)
static inline uint32_t swp_entry(unsigned type, uint32_t offset)
{
    return ((uint32_t)type << SWP_TYPE_SHIFT) | (offset & SWP_OFFSET_MASK);
}
static inline unsigned swp_type(uint32_t e) { return e >> SWP_TYPE_SHIFT; }
static inline uint32_t swp_offset(uint32_t e) { return e & SWP_OFFSET_MASK; }

#define OWNER_NONE 0 /* no owner: an orphaned page (its process exited); rmap callbacks skipped */

/* Vm events and node counters kept by the LRU layer, shared with vmscan/workingset (their
 * /proc/vmstat names in comments). The struct is public so the reclaim modules can count into it;
 * only the registry reads it from outside. */
struct lru_vm_events {
    uint64_t pgactivate, pgdeactivate, pgrotated;
    uint64_t unevictable_pgs_culled, unevictable_pgs_mlocked, unevictable_pgs_munlocked,
        unevictable_pgs_rescued;
    uint64_t workingset_refault[2]; /* [0] anon, [1] file */
    uint64_t workingset_activate[2];
    uint64_t workingset_restore[2];
    uint64_t workingset_nodereclaim;
};

typedef struct mm_lru mm_lru;

/* One record per pfn of pm (mm_phys_max_pfn), all lists empty. reg may be NULL; with it the
 * /proc/vmstat-style counters and gauges are registered under "os.vmstat" and the meminfo ones
 * under "os.meminfo" (kB). */
mm_lru *mm_lru_create(mm_phys *pm, stats_registry *reg);
void mm_lru_destroy(mm_lru *lru);
mm_phys *mm_lru_phys(const mm_lru *lru);
struct lru_vm_events *mm_lru_events(mm_lru *lru);

/* ---- per-page state -------------------------------------------------------------------------- */

/* Prepares the record of a freshly allocated page (flags cleared, owner set, not on a list). Every
 * page handed to the LRU layer starts here; lru_page_free() is its end: the caller makes sure the
 * page is out of the page and swap caches, clean and not under writeback (writeback.h). */
void lru_page_init(mm_lru *lru, uint64_t pfn, uint64_t owner, unsigned flags);
/* Takes the page off its list (if any) and clears the record. The caller frees the frame. */
void lru_page_free(mm_lru *lru, uint64_t pfn);

unsigned folio_flags(const mm_lru *lru, uint64_t pfn);
static inline bool folio_test(const mm_lru *lru, uint64_t pfn, unsigned flag)
{
    return (folio_flags(lru, pfn) & flag) != 0;
}
void folio_set_flags(mm_lru *lru, uint64_t pfn, unsigned flags);
void folio_clear_flags(mm_lru *lru, uint64_t pfn, unsigned flags);
bool folio_test_clear(mm_lru *lru, uint64_t pfn, unsigned flag); /* test and clear one flag */
static inline bool folio_is_file_lru(const mm_lru *lru, uint64_t pfn)
{
    return !folio_test(lru, pfn, PG_swapbacked);
}
bool folio_evictable(const mm_lru *lru, uint64_t pfn); /* !PG_mlocked (no unevictable mappings) */

uint64_t folio_owner(const mm_lru *lru, uint64_t pfn);
void folio_set_owner(mm_lru *lru, uint64_t pfn, uint64_t owner);
uint32_t folio_swap_entry(const mm_lru *lru, uint64_t pfn); /* folio->swap: 0 unless swapcache */
void folio_set_swap_entry(mm_lru *lru, uint64_t pfn, uint32_t entry);
/* A 32-bit time stamp in microseconds (mod 2^32) for writeback.c: the dirtying time of a dirty
 * page, the completion time of a page under writeback. */
uint32_t folio_stamp(const mm_lru *lru, uint64_t pfn);
void folio_set_stamp(mm_lru *lru, uint64_t pfn, uint32_t stamp);

int folio_nid(const mm_lru *lru, uint64_t pfn);
enum zone_type folio_zonenum(const mm_lru *lru, uint64_t pfn);

/* ---- lists ----------------------------------------------------------------------------------- */

enum lru_list folio_lru_list(const mm_lru *lru, uint64_t pfn); /* from the flags, as Linux */
/* lruvec_add_folio / _tail: onto the list the flags select; sets PG_lru. */
void lruvec_add_folio(mm_lru *lru, uint64_t pfn);
void lruvec_add_folio_tail(mm_lru *lru, uint64_t pfn);
/* lruvec_del_folio: off its list, clears PG_lru. */
void lruvec_del_folio(mm_lru *lru, uint64_t pfn);

/* folio_add_lru(): a new (or putback) page onto its list; an mlocked page goes to the unevictable
 * list (unevictable_pgs_culled counted), PG_active is honoured (workingset_refault may set it). */
void folio_add_lru(mm_lru *lru, uint64_t pfn);
/* folio_mark_accessed(): referenced -> activate (pgactivate, workingset_activation), else set
 * PG_referenced. What read() / buffered access does; PTE accessed bits go through the facade. */
void folio_mark_accessed(mm_lru *lru, uint64_t pfn);
/* folio_activate(): straight to the active list (pgactivate). */
void folio_activate(mm_lru *lru, uint64_t pfn);
/* folio_rotate_reclaimable(): after writeback of a PG_reclaim page, move it to the inactive tail
 * (active cleared, pgrotated), unless dirty, unevictable or off the LRU. */
void folio_rotate_reclaimable(mm_lru *lru, uint64_t pfn);
/* mlock_folio() / munlock_folio(): to and from the unevictable list. */
void folio_mlock(mm_lru *lru, uint64_t pfn);
void folio_munlock(mm_lru *lru, uint64_t pfn);

/* The list a page is on is walked from the tail (reclaim order). MM_PFN_NONE at the end. */
uint64_t lru_list_tail(const mm_lru *lru, int nid, enum lru_list l);
uint64_t lru_list_prev(const mm_lru *lru, uint64_t pfn); /* towards the head */
uint64_t lru_list_head(const mm_lru *lru, int nid, enum lru_list l);
uint64_t lru_list_next(const mm_lru *lru, uint64_t pfn); /* towards the tail */

/* ---- counts ---------------------------------------------------------------------------------- */

/* lruvec_page_state(lruvec, NR_LRU_BASE + l): pages on node nid's list l. */
uint64_t lruvec_page_state(const mm_lru *lru, int nid, enum lru_list l);
/* lruvec_lru_size(): pages of list l in the node's zones 0..zone_idx. */
uint64_t lruvec_lru_size(const mm_lru *lru, int nid, enum lru_list l, enum zone_type zone_idx);
uint64_t zone_lru_pages(const mm_lru *lru, const mm_zone *z, enum lru_list l); /* NR_ZONE_LRU */
uint64_t global_lru_pages(const mm_lru *lru, enum lru_list l);
uint64_t node_nr_mlock(const mm_lru *lru, int nid); /* NR_MLOCK */
uint64_t global_nr_mlock(const mm_lru *lru);

/* ---- per-node reclaim state kept with the lruvec --------------------------------------------- */

/* lru_note_cost(): reclaim cost of a list type (file or anon), decayed by half whenever the sum
 * exceeds a quarter of the node's LRU pages. */
void lru_note_cost(mm_lru *lru, int nid, bool file, uint64_t nr_pages);
uint64_t lruvec_anon_cost(const mm_lru *lru, int nid);
uint64_t lruvec_file_cost(const mm_lru *lru, int nid);
void lruvec_set_costs(mm_lru *lru, int nid, uint64_t anon_cost, uint64_t file_cost); /* tests */

/* lruvec->nonresident_age: evictions plus activations (workingset.c) */
uint64_t lruvec_nonresident_age(const mm_lru *lru, int nid);
void workingset_age_nonresident(mm_lru *lru, int nid, uint64_t nr_pages);

/* WORKINGSET_ACTIVATE_{ANON,FILE} per node, and the snapshot vmscan takes of it
 * (lruvec->refaults[], snapshot_refaults). */
uint64_t lruvec_workingset_activate(const mm_lru *lru, int nid, bool file);
void lruvec_count_workingset_activate(mm_lru *lru, int nid, bool file, uint64_t nr);
uint64_t lruvec_refaults_snapshot(const mm_lru *lru, int nid, bool file);
void snapshot_refaults(mm_lru *lru, int nid);

/* Consistency check (O(memory)): every list's links, flags, node and zone match, the counts equal
 * what the lists hold, and no page outside a list has PG_lru. Returns 0, or -1 with the first
 * problem in err. */
int lru_check(const mm_lru *lru, mm_err *err);

#endif
