/* Page tables: x86-64 radix trees in simulated physical memory, owned by the kernel model.
 *
 * One `pgtable` holds every table of one physical address space (the machine's, or a guest's in
 * nested mode): 4-level (PML4, PDPT, PD, PT; 48-bit virtual addresses) or 5-level (LA57: PML5 on
 * top; 57-bit). Each table is a 4 KiB frame taken from a frame source (the first-touch allocator
 * today, the buddy allocator later) and its 512 entries are kept in host memory with the real x86
 * PTE bit layout (Intel SDM vol. 3, 4.5 "4-level paging and 5-level paging"), so every entry has a
 * physical address, table_pfn * 4096 + index * 8, that the page walker loads through the caches.
 *
 * An address space is named by its root table's pfn (what CR3 holds). The kernel half (top-level
 * indices 256..511) is shared: its top-level entries are the same in every address space, as
 * Linux copies the kernel's PGD entries into each new PGD, so a kernel page mapped through one
 * address space is mapped in all of them and its lower tables are never freed with a process.
 *
 * The walker reads entries by physical address (pgtable_read_phys) and sets A/D bits through
 * pgtable_set_bits_phys; a pfn -> table lookup is O(1) (a hash map with a small memo in front).
 * Nothing here touches caches or TLBs: after changing an entry, the caller invalidates what the
 * hardware may have cached (pgtable_unmap and pgtable_protect say when an upper-level entry
 * changed, which page-walk caches hold). */
#ifndef MMUSIM_OS_PGTABLE_H
#define MMUSIM_OS_PGTABLE_H

#include <stdint.h>

#include "models/common/stats.h"

/* x86 paging-entry bits (Intel SDM vol. 3, tables 4-15 .. 4-20). */
#define PTE_P (1ull << 0)   /* present */
#define PTE_RW (1ull << 1)  /* writable */
#define PTE_US (1ull << 2)  /* user-accessible */
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)   /* accessed */
#define PTE_D (1ull << 6)   /* dirty (leaf entries) */
#define PTE_PS (1ull << 7)  /* page size: a leaf in a PDPT (1 GiB) or PD (2 MiB) */
#define PTE_G (1ull << 8)   /* global (leaf entries) */
#define PTE_NX (1ull << 63) /* execute-disable */
#define PTE_ADDR_MASK 0x000ffffffffff000ull /* bits 51:12: the frame (table or page) address */
#define PTE_LEAF_FLAGS (PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_A | PTE_D | PTE_G | PTE_NX)

#define PGTABLE_ENTRIES 512u
#define PGTABLE_NO_FRAME UINT64_MAX

/* Page sizes a leaf can map, and their shifts. */
enum pg_size { PG_4K = 0, PG_2M = 1, PG_1G = 2 };
#define PG_SIZES 3
static inline unsigned pg_shift(enum pg_size s)
{
    return 12u + 9u * (unsigned)s;
}

/* Index of vaddr's entry in a table of `level` (1 = PT, 2 = PD, 3 = PDPT, 4 = PML4, 5 = PML5). */
static inline unsigned pgtable_index(uint64_t vaddr, unsigned level)
{
    return (unsigned)(vaddr >> (12u + 9u * (level - 1u))) & 511u;
}

/* Where tables come from and go back to: one 4 KiB frame at a time. alloc returns a pfn or
 * PGTABLE_NO_FRAME. */
struct pgtable_frames {
    uint64_t (*alloc)(void *ctx);
    void (*free)(void *ctx, uint64_t pfn);
    void *ctx;
};

typedef struct pgtable pgtable;

/* levels: 4 or 5. Statistics (when reg is non-NULL) go under `prefix` (e.g. "os.pgtable"):
 * gauge `pages` (table pages in use: the PageTables line of /proc/meminfo, in pages), counters
 * `tables_allocated`, `tables_freed`, `maps`, `unmaps`, `splits`. */
pgtable *pgtable_create(unsigned levels, const struct pgtable_frames *frames, stats_registry *reg,
                        const char *prefix);
/* Frees every table of every address space (and the shared kernel tables) back to the source. */
void pgtable_destroy(pgtable *pt);

unsigned pgtable_levels(const pgtable *pt);

/* A new address space: its root table (the kernel half copied in). Returns the root pfn (CR3), or
 * PGTABLE_NO_FRAME when the frame source is empty. */
uint64_t pgtable_mm_create(pgtable *pt);
/* Tears down the address space: every user-half table freed to the source. Leaves are not
 * freed (the frames they map belong to the caller); `leaf_fn`, when non-NULL, is told each. */
typedef void (*pgtable_leaf_fn)(void *ctx, uint64_t vaddr, uint64_t pfn, enum pg_size size,
                                uint64_t pte);
void pgtable_mm_destroy(pgtable *pt, uint64_t root, pgtable_leaf_fn leaf_fn, void *ctx);

/* Status codes. */
enum {
    PGTABLE_OK = 0,
    PGTABLE_ENOMEM = -1, /* the frame source had no frame for a table */
    PGTABLE_EEXIST = -2, /* something is mapped there already (a page, or a table under a huge one) */
    PGTABLE_EINVAL = -3, /* unaligned address or frame, or an unknown root */
};

/* Maps the page of `size` at vaddr (aligned to size) to the frame pfn (aligned to size, in 4 KiB
 * frames), building intermediate tables on demand (their entries get P|RW|US|A|D, as Linux's
 * _PAGE_TABLE). flags: any of PTE_RW, PTE_US, PTE_A, PTE_D, PTE_G, PTE_NX, PTE_PWT, PTE_PCD;
 * P (and PS for huge pages) are added. */
int pgtable_map(pgtable *pt, uint64_t root, uint64_t vaddr, uint64_t pfn, enum pg_size size,
                uint64_t flags);

struct pgtable_change {
    uint64_t leaves;        /* leaf entries cleared or changed */
    uint64_t pages_4k;      /* 4 KiB frames no longer mapped (unmap) */
    uint64_t tables_freed;  /* tables that became empty and were freed (unmap) */
    uint64_t splits;        /* huge leaves split because the range covered them only in part */
    int upper_changed;      /* an entry above the leaves changed (table freed, huge page split):
                               page-walk caches may hold it */
};

/* Unmaps every page overlapping [vaddr, vaddr + len) (page-aligned); a huge leaf covered in part is
 * split first (2 MiB -> 512 x 4 KiB, 1 GiB -> 512 x 2 MiB), as split_huge_pmd does. leaf_fn
 * (may be NULL) is told each unmapped piece so the caller can free its frames. Tables left empty
 * are freed, except the root and the kernel half's second level. *out may be NULL. */
int pgtable_unmap(pgtable *pt, uint64_t root, uint64_t vaddr, uint64_t len, pgtable_leaf_fn leaf_fn,
                  void *ctx, struct pgtable_change *out);

/* Sets then clears leaf flags (PTE_RW, PTE_US, PTE_NX, PTE_A, PTE_D, PTE_G, PTE_PWT, PTE_PCD) on
 * every mapped page in [vaddr, vaddr + len); huge leaves covered in part are split. */
int pgtable_protect(pgtable *pt, uint64_t root, uint64_t vaddr, uint64_t len, uint64_t set,
                    uint64_t clear, struct pgtable_change *out);

/* What maps vaddr. */
struct pgtable_leaf {
    uint64_t pte;       /* the leaf entry */
    uint64_t pte_paddr; /* its physical address */
    uint64_t pfn;       /* first 4 KiB frame of the page */
    enum pg_size size;
    unsigned level;     /* 1 (PT), 2 (PD: 2 MiB) or 3 (PDPT: 1 GiB) */
};
/* 1 and *out when vaddr is mapped, 0 when not. */
int pgtable_lookup(const pgtable *pt, uint64_t root, uint64_t vaddr, struct pgtable_leaf *out);

/* Sets then clears bits of vaddr's leaf entry (A and D for the kernel's reclaim and writeback).
 * Returns the old entry, or 0 when vaddr is not mapped. */
uint64_t pgtable_update(pgtable *pt, uint64_t root, uint64_t vaddr, uint64_t set, uint64_t clear);

/* The walker's view: the entry at (table pfn, index), or at a physical address. Memory that holds
 * no table reads as 0 (not present). */
uint64_t pgtable_entry(const pgtable *pt, uint64_t table_pfn, unsigned index);
uint64_t pgtable_read_phys(const pgtable *pt, uint64_t paddr);
/* ORs bits into the entry at paddr (the walker setting A and D); no-op where there is no table. */
void pgtable_set_bits_phys(pgtable *pt, uint64_t paddr, uint64_t bits);
/* Asks the host to bring in the entry at paddr (a hint: no state changes). */
void pgtable_prefetch_phys(const pgtable *pt, uint64_t paddr);

/* 1 if pfn holds a page table of this pgtable. */
int pgtable_is_table(const pgtable *pt, uint64_t pfn);

/* Table pages in use: all of them, and those of one address space (its user half and root). */
uint64_t pgtable_pages(const pgtable *pt);
uint64_t pgtable_mm_pages(const pgtable *pt, uint64_t root);

#endif
