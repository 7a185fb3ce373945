/* The frame allocator interface the engine uses to back virtual pages with physical frames.
 * Until the kernel model (zones, buddy, reclaim) fills it, frame_alloc serves first touch: the
 * first access to a (pid, virtual page) takes the next free frame of the node the accessing CPU
 * belongs to, and the mapping never changes. */
#ifndef MMUSIM_OS_FRAME_ALLOC_H
#define MMUSIM_OS_FRAME_ALLOC_H

#include <stdint.h>

#include "models/common/stats.h"

typedef struct frame_alloc frame_alloc;

/* page_shift: 12 for 4 KiB pages. mem_bytes: physical memory size (frames wrap to 0 past it:
 * first-touch has no reclaim, so a footprint larger than memory aliases frames, counted). */
frame_alloc *frame_alloc_create(unsigned page_shift, uint64_t mem_bytes, stats_registry *reg);
void frame_alloc_destroy(frame_alloc *fa);

/* Physical address for (pid, vaddr), mapping the page on first touch. *faulted is set to 1 when
 * this access mapped the page. No allocation on the hot path except table growth, which doubles. */
uint64_t frame_alloc_translate(frame_alloc *fa, uint32_t pid, uint64_t vaddr, int *faulted);

uint64_t frame_alloc_mapped_pages(const frame_alloc *fa);

/* The MMU path (page tables hold the mapping, so this allocator only hands out frames): a naturally
 * aligned block of 2^order frames (0 for a 4 KiB page or a page table, 9 for 2 MiB, 18 for 1 GiB),
 * taken from the frames freed earlier when there are some of that order, else from the next free
 * frames (the frames skipped to align the block are kept for order-0 requests). Past the end of
 * memory it wraps around to frame 0, aliasing (counted in os.first_touch_aliased). Never fails. */
uint64_t frame_alloc_block(frame_alloc *fa, unsigned order);
/* Gives a block back (any order; a part of a larger block may be freed as order-0 frames). */
void frame_alloc_free_block(frame_alloc *fa, uint64_t pfn, unsigned order);
/* Counts a first-touch fault served through frame_alloc_block (os.first_touch_faults). */
void frame_alloc_count_fault(frame_alloc *fa);
/* Frames handed out by frame_alloc_block and not freed. */
uint64_t frame_alloc_frames_in_use(const frame_alloc *fa);

#endif
