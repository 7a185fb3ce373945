/* procfs-style views of the physical memory model, in the formats of Linux's mm/vmstat.c:
 * /proc/buddyinfo, /proc/pagetypeinfo, /proc/zoneinfo (the zone, watermark and pageset lines the
 * model has), and debugfs extfrag/unusable_index and extfrag/extfrag_index. Each view writes to a
 * FILE*, or formats into a caller buffer with snprintf semantics (returns the full length,
 * writes at most len - 1 characters and a NUL). */
#ifndef MMUSIM_OS_VMSTAT_H
#define MMUSIM_OS_VMSTAT_H

#include <stddef.h>
#include <stdio.h>

#include "models/os/zone.h"

enum mm_view {
    MM_VIEW_BUDDYINFO,
    MM_VIEW_PAGETYPEINFO,
    MM_VIEW_ZONEINFO,
    MM_VIEW_UNUSABLE_INDEX,
    MM_VIEW_EXTFRAG_INDEX,
};

void mm_show(const mm_phys *pm, enum mm_view view, FILE *out);
size_t mm_format(const mm_phys *pm, enum mm_view view, char *buf, size_t len);

/* The indices behind the last two views, as integers scaled by 1000 (printed as N.NNN):
 * unusable_free_index: share of free memory in blocks too small for order (1000 when nothing is
 * free); fragmentation_index: -1000 when a block of the order is free, 0 when nothing is free,
 * else 1000 - (1000 + free_pages * 1000 / 2^order) / free_blocks (towards 1000: failure from
 * fragmentation, towards 0: from lack of memory). extfrag_for_order: percentage of free pages in
 * blocks smaller than order. */
int unusable_free_index(const mm_zone *z, unsigned order);
int fragmentation_index(const mm_zone *z, unsigned order);
unsigned extfrag_for_order(const mm_zone *z, unsigned order);

#endif
