/* Swap devices of the kernel model, modelled on Linux v6.1 mm/swapfile.c (swapon's priorities,
 * get_swap_pages over the priority-ordered avail list with round-robin among equal priorities,
 * scan_swap_map_slots, swap_range_alloc / swap_range_free, swap_duplicate, swap_free,
 * put_swap_folio, folio_free_swap, vm_swap_full) and mm/page_io.c (swap_writepage, swap_readpage,
 * pswpin / pswpout).
 *
 * What is modelled of scan_swap_map_slots: one slot at a time, a linear scan from the device's
 * cluster_next pointer inside [lowest_bit, highest_bit], wrapping once; cluster_next moves to the
 * slot after the one taken. Not modelled: the SSD per-CPU cluster allocator and the free-cluster
 * search of rotating devices (SWAPFILE_CLUSTER), the per-CPU swap slot caches (swap_slots.c),
 * swap readahead (as page_cluster = 0), discard, THP swap-out, swapoff.
 *
 * A device is a size, a priority and a bdev.h latency preset. zram keeps its compressed pages in
 * RAM: each stored slot takes 1 / compress_ratio of a page, and the pool grows and shrinks in whole
 * frames taken from and returned to the buddy allocator (zsmalloc without fragmentation); when the
 * pool cannot grow the write fails and the page stays dirty. */
#ifndef MMUSIM_OS_SWAP_H
#define MMUSIM_OS_SWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "models/os/bdev.h"
#include "models/os/lru.h"
#include "models/os/pagecache.h"
#include "models/os/writeback.h"

#define MAX_SWAPFILES 32
#define SWAP_HAS_CACHE 0x40 /* swap_map: a page is in the swap cache for this slot */
#define SWAP_MAP_MAX 0x3e   /* most PTE references a slot counts (no continuation pages) */
#define SWAP_MAP_BAD 0x3f   /* the header slot */
#define SWAP_PRIO_AUTO INT32_MIN

struct swap_device_config {
    uint64_t size_bytes;   /* including the header page */
    int priority;          /* SWAP_PRIO_AUTO: -2, -3, ... in swapon order, as without -p */
    struct bdev_config dev;
};
/* size_bytes of a kind's preset device ("ssd", "nvme", "hdd", "zram"), automatic priority */
void swap_device_config_init(struct swap_device_config *c, enum bdev_kind kind, uint64_t size);

typedef struct mm_swap mm_swap;

/* reg may be NULL; with it meminfo SwapTotal, SwapFree (kB), vmstat pswpin, pswpout and
 * os.swap.{zram_pool_pages,write_failures} are registered. */
mm_swap *mm_swap_create(mm_lru *lru, mm_pagecache *pc, mm_writeback *wb, double freq_mhz,
                        stats_registry *reg);
void mm_swap_destroy(mm_swap *s);

/* swapon(): adds a device; returns its type (0..31), or -1 with err set. */
int swapon(mm_swap *s, const struct swap_device_config *cfg, mm_err *err);
unsigned swap_nr_devices(const mm_swap *s);
int swap_device_priority(const mm_swap *s, unsigned type);
mm_bdev *swap_device_bdev(const mm_swap *s, unsigned type);
uint64_t swap_device_pages(const mm_swap *s, unsigned type);  /* usable slots (header excluded) */
uint64_t swap_device_inuse(const mm_swap *s, unsigned type);
uint64_t swap_zram_pool_pages(const mm_swap *s, unsigned type);

uint64_t total_swap_pages(const mm_swap *s);
uint64_t get_nr_swap_pages(const mm_swap *s); /* free slots (nr_swap_pages) */
bool vm_swap_full(const mm_swap *s);          /* more than half the swap space in use */

/* ---- slots ----------------------------------------------------------------------------------- */

/* get_swap_pages() for one slot: the highest-priority device with free slots (equal priorities in
 * turn); the slot's swap_map is SWAP_HAS_CACHE. Returns the entry, 0 when swap is full. */
uint32_t get_swap_page(mm_swap *s);
/* folio_alloc_swap() + add_to_swap_cache() + folio_mark_dirty(): what reclaim does to an anon
 * page without a slot (add_to_swap). Returns false when no slot is free. */
bool add_to_swap(mm_swap *s, uint64_t pfn, uint64_t now);
unsigned swap_map(const mm_swap *s, uint32_t entry); /* the raw swap_map byte */
unsigned __swap_count(const mm_swap *s, uint32_t entry); /* PTE references */
/* swap_duplicate(): one more PTE holds the entry (try_to_unmap, fork). -1 when at SWAP_MAP_MAX or
 * the slot is free. */
int swap_duplicate(mm_swap *s, uint32_t entry);
/* swap_free(): a PTE reference dropped (swap-in mapped it, or zap); the slot is freed when no
 * reference and no cache remain. */
void swap_free(mm_swap *s, uint32_t entry);
/* swapcache_prepare(): a page is about to be read into the swap cache for entry (SWAP_HAS_CACHE
 * set). -1: the slot is free; -2: a page is already cached there. */
int swapcache_prepare(mm_swap *s, uint32_t entry);
/* put_swap_folio(): the swap cache's hold dropped (SWAP_HAS_CACHE cleared), same freeing rule. */
void put_swap_folio(mm_swap *s, uint32_t entry);
/* folio_free_swap(): a swap-cache page no PTE references anymore and not under writeback leaves the
 * swap cache and gives its slot back; the page becomes dirty (its only copy is in memory). */
bool folio_free_swap(mm_swap *s, uint64_t pfn, uint64_t now);

/* ---- I/O ------------------------------------------------------------------------------------- */

/* swap_writepage(): writes a swap-cache page to its slot (folio_start_writeback on the device;
 * pswpout). A zram write completes at once; returns false (the page stays dirty) when the zram pool
 * cannot grow. *done gets the completion time. */
bool swap_writepage(mm_swap *s, uint64_t pfn, uint64_t now, uint64_t *done);
/* swap_readpage(): reads entry's slot into pfn at now (pswpin); returns the completion time. */
uint64_t swap_readpage(mm_swap *s, uint64_t pfn, uint32_t entry, uint64_t now);

/* Consistency check (O(swap slots)): per device the in-use count, lowest/highest bounds and
 * free-slot totals match swap_map, every SWAP_HAS_CACHE slot has its page in the swap cache (and
 * the page its entry), and the zram pool holds ceil(stored / ratio) frames. */
int swap_check(const mm_swap *s, mm_err *err);

#endif
