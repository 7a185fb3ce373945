/* Views of zones and free lists, in the formats of Linux's mm/vmstat.c (frag_show_print,
 * pagetypeinfo_showfree_print, pagetypeinfo_showblockcount_print, zoneinfo_show_print,
 * unusable_show_print, extfrag_show_print). */
#include "models/os/vmstat.h"

#include <stdlib.h>
#include <string.h>

#include "models/os/buddy.h"
#include "models/os/mm_internal.h"

struct contig_page_info {
    uint64_t free_pages;
    uint64_t free_blocks_total;
    uint64_t free_blocks_suitable;
};

/* fill_contig_page_info(): free pages, free blocks, and blocks large enough for the order
 * (counted in units of that order) */
static void fill_contig_page_info(const mm_zone *z, unsigned suitable_order,
                                  struct contig_page_info *info)
{
    memset(info, 0, sizeof *info);
    for (unsigned o = 0; o <= z->pm->max_order; o++) {
        uint64_t blocks = z->free_area[o].nr_free;
        info->free_blocks_total += blocks;
        info->free_pages += blocks << o;
        if (o >= suitable_order)
            info->free_blocks_suitable += blocks << (o - suitable_order);
    }
}

int unusable_free_index(const mm_zone *z, unsigned order)
{
    struct contig_page_info info;
    fill_contig_page_info(z, order, &info);
    if (info.free_pages == 0)
        return 1000;
    return (int)((info.free_pages - (info.free_blocks_suitable << order)) * 1000 /
                 info.free_pages);
}

/* __fragmentation_index() */
int fragmentation_index(const mm_zone *z, unsigned order)
{
    struct contig_page_info info;
    if (order > z->pm->max_order)
        return 0;
    fill_contig_page_info(z, order, &info);
    if (!info.free_blocks_total)
        return 0;
    if (info.free_blocks_suitable)
        return -1000;
    uint64_t requested = 1ull << order;
    return 1000 - (int)((1000 + info.free_pages * 1000 / requested) / info.free_blocks_total);
}

unsigned extfrag_for_order(const mm_zone *z, unsigned order)
{
    struct contig_page_info info;
    fill_contig_page_info(z, order, &info);
    if (info.free_pages == 0)
        return 0;
    return (unsigned)((info.free_pages - (info.free_blocks_suitable << order)) * 100 /
                      info.free_pages);
}

static bool mt_shown(const mm_phys *pm, int mt)
{
    return mt != MIGRATE_CMA || pm->cfg.cma_type;
}

static void show_buddyinfo(const mm_phys *pm, FILE *out)
{
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            const struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (!z->configured || !populated_zone(z))
                continue;
            fprintf(out, "Node %u, zone %8s ", n, zone_name(z));
            for (unsigned o = 0; o <= pm->max_order; o++)
                fprintf(out, "%6lu ", (unsigned long)z->free_area[o].nr_free);
            fputc('\n', out);
        }
}

static void show_pagetypeinfo(const mm_phys *pm, FILE *out)
{
    for (unsigned n = 0; n < pm->nr_nodes; n++) {
        fprintf(out, "Page block order: %u\n", pm->pageblock_order);
        fprintf(out, "Pages per block:  %lu\n", (unsigned long)pm->pageblock_nr_pages);
        fputc('\n', out);
        fprintf(out, "%-43s ", "Free pages count per migrate type at order");
        for (unsigned o = 0; o <= pm->max_order; o++)
            fprintf(out, "%6u ", o);
        fputc('\n', out);
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            const struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (!z->configured || !populated_zone(z))
                continue;
            for (int mt = 0; mt < MIGRATE_TYPES; mt++) {
                if (!mt_shown(pm, mt))
                    continue;
                fprintf(out, "Node %4u, zone %8s, type %12s ", n, zone_name(z),
                        migratetype_name(mt));
                for (unsigned o = 0; o <= pm->max_order; o++) {
                    /* the kernel stops counting a list at 100000 entries */
                    uint64_t c = z->free_area[o].nr_mt[mt];
                    bool overflow = c >= 100000;
                    fprintf(out, "%s%6lu ", overflow ? ">" : "",
                            (unsigned long)(overflow ? 100000 : c));
                }
                fputc('\n', out);
            }
        }
        fprintf(out, "\n%-23s", "Number of blocks type ");
        for (int mt = 0; mt < MIGRATE_TYPES; mt++)
            if (mt_shown(pm, mt))
                fprintf(out, "%12s ", migratetype_name(mt));
        fputc('\n', out);
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            const struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (!z->configured || !populated_zone(z))
                continue;
            fprintf(out, "Node %u, zone %8s ", n, zone_name(z));
            for (int mt = 0; mt < MIGRATE_TYPES; mt++)
                if (mt_shown(pm, mt))
                    fprintf(out, "%12lu ", (unsigned long)z->nr_pageblocks[mt]);
            fputc('\n', out);
        }
    }
}

/* zoneinfo_show_print(), limited to what the model has: no per-node LRU/vmstat items, no
 * "vm stats threshold" */
static void show_zoneinfo(const mm_phys *pm, FILE *out)
{
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            const struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (!z->configured)
                continue;
            fprintf(out, "Node %u, zone %8s", n, zone_name(z));
            fprintf(out,
                    "\n  pages free     %lu"
                    "\n        boost    %lu"
                    "\n        min      %lu"
                    "\n        low      %lu"
                    "\n        high     %lu"
                    "\n        promo    %lu"
                    "\n        spanned  %lu"
                    "\n        present  %lu"
                    "\n        managed  %lu"
                    "\n        cma      %lu",
                    (unsigned long)z->nr_free_pages, (unsigned long)z->watermark_boost,
                    (unsigned long)wmark_pages(z, WMARK_MIN), (unsigned long)wmark_pages(z, WMARK_LOW),
                    (unsigned long)wmark_pages(z, WMARK_HIGH),
                    (unsigned long)wmark_pages(z, WMARK_PROMO), (unsigned long)z->spanned,
                    (unsigned long)z->present, (unsigned long)z->managed, 0ul);
            bool first = true;
            for (int j = 0; j < MM_NR_ZONE_TYPES; j++) {
                if (!mm_zone_type_configured(pm, (enum zone_type)j))
                    continue;
                fprintf(out, first ? "\n        protection: (%ld" : ", %ld",
                        (long)z->lowmem_reserve[j]);
                first = false;
            }
            fputc(')', out);
            if (!populated_zone(z)) {
                fputc('\n', out);
                continue;
            }
            fprintf(out, "\n      %-12s %lu", "nr_free_pages", (unsigned long)z->nr_free_pages);
            fprintf(out, "\n      %-12s %lu", "numa_hit", (unsigned long)z->numa_hit);
            fprintf(out, "\n      %-12s %lu", "numa_miss", (unsigned long)z->numa_miss);
            fprintf(out, "\n      %-12s %lu", "numa_foreign", (unsigned long)z->numa_foreign);
            fprintf(out, "\n      %-12s %lu", "numa_interleave", 0ul);
            fprintf(out, "\n      %-12s %lu", "numa_local", (unsigned long)z->numa_local);
            fprintf(out, "\n      %-12s %lu", "numa_other", (unsigned long)z->numa_other);
            fprintf(out, "\n  pagesets");
            for (unsigned c = 0; c < pm->nr_cpus; c++)
                fprintf(out,
                        "\n    cpu: %u"
                        "\n              count: %d"
                        "\n              high:  %d"
                        "\n              batch: %d",
                        c, z->pcp[c].count, z->pcp[c].high, z->pcp[c].batch);
            fprintf(out,
                    "\n  node_unreclaimable:  %u"
                    "\n  start_pfn:           %lu",
                    0u, (unsigned long)z->start_pfn);
            fputc('\n', out);
        }
}

static void show_index(const mm_phys *pm, FILE *out, bool extfrag)
{
    for (unsigned n = 0; n < pm->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            const struct mm_zone *z = mm_zone_at(pm, (int)n, (enum zone_type)t);
            if (!z->configured || !populated_zone(z))
                continue;
            fprintf(out, "Node %u, zone %8s ", n, zone_name(z));
            for (unsigned o = 0; o <= pm->max_order; o++) {
                int index = extfrag ? fragmentation_index(z, o) : unusable_free_index(z, o);
                /* C division truncates toward zero like the kernel's: -1000 prints -1.000 */
                fprintf(out, extfrag ? "%2d.%03d " : "%d.%03d ", index / 1000,
                        abs(index % 1000));
            }
            fputc('\n', out);
        }
}

void mm_show(const mm_phys *pm, enum mm_view view, FILE *out)
{
    switch (view) {
    case MM_VIEW_BUDDYINFO:
        show_buddyinfo(pm, out);
        break;
    case MM_VIEW_PAGETYPEINFO:
        show_pagetypeinfo(pm, out);
        break;
    case MM_VIEW_ZONEINFO:
        show_zoneinfo(pm, out);
        break;
    case MM_VIEW_UNUSABLE_INDEX:
        show_index(pm, out, false);
        break;
    case MM_VIEW_EXTFRAG_INDEX:
        show_index(pm, out, true);
        break;
    }
}

size_t mm_format(const mm_phys *pm, enum mm_view view, char *buf, size_t len)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f) {
        if (len)
            buf[0] = '\0';
        return 0;
    }
    mm_show(pm, view, f);
    fclose(f);
    if (len) {
        size_t n = size < len - 1 ? size : len - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
    }
    free(text);
    return size;
}
