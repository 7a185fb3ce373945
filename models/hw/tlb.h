/* TLBs: one level of a translation lookaside buffer (an L1 iTLB, an L1 dTLB, or the unified L2
 * STLB), made of up to three arrays on the set-associative core (setassoc.h), one per page size
 * (4 KiB, 2 MiB, 1 GiB), as on Intel and AMD cores; an array may be absent (entries = 0) or hold
 * more than one size (`shared`: the Skylake STLB keeps 4 KiB and 2 MiB entries in one array).
 *
 * Key of an entry: the virtual page number at the entry's size, the size, and a 13-bit tag:
 *   bits  0..44  VPN (va >> 12, >> 21 or >> 30; va masked to the 48- or 57-bit width)
 *   bits 45..46  page size (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB)
 *   bits 48..60  tag: the PCID (0..4095; 0 for all when PCIDs are off), or TLB_TAG_GLOBAL for a
 *                global entry, which matches every PCID (Intel SDM vol. 3, 4.10.2.4)
 * The set is the key's low bits, i.e. the VPN's.
 *
 * Payload of an entry (one 64-bit word beside each way): the physical address of the page's first
 * byte (bits 12..51) and the permissions the walk found (TLB_W, TLB_U, TLB_X: the AND of RW and
 * US, and the NOR of NX, over every level), TLB_D (the leaf's dirty bit as it was when cached: a
 * store through an entry without it must walk to set D, SDM 4.8), TLB_G.
 *
 * The structs are visible so that the engine's L1 hit path inlines (mmu.h); use the functions. */
#ifndef MMUSIM_HW_TLB_H
#define MMUSIM_HW_TLB_H

#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "models/hw/cache.h"
#include "models/hw/setassoc.h"

enum tlb_page_size { TLB_4K = 0, TLB_2M = 1, TLB_1G = 2 };
#define TLB_SIZES 3

#define TLB_KEY_SIZE_SHIFT 45
#define TLB_TAG_SHIFT 48
#define TLB_TAG_GLOBAL 4096u
#define TLB_MAX_PCID 4095u

/* payload bits */
#define TLB_W (1ull << 1)
#define TLB_U (1ull << 2)
#define TLB_X (1ull << 3)
#define TLB_D (1ull << 6)
#define TLB_G (1ull << 8)
#define TLB_ADDR_MASK 0x000ffffffffff000ull

static inline unsigned tlb_page_shift(unsigned size)
{
    return 12u + 9u * size;
}

static inline uint64_t tlb_key(uint64_t va, unsigned size, uint64_t tag)
{
    return (va >> tlb_page_shift(size)) | ((uint64_t)size << TLB_KEY_SIZE_SHIFT) |
           (tag << TLB_TAG_SHIFT);
}

/* Which sizes the 4 KiB array also holds. */
enum tlb_sharing {
    TLB_SHARE_NONE,  /* one array per size */
    TLB_SHARE_4K2M,  /* 4 KiB and 2 MiB share the 4 KiB array (Intel STLB since Haswell) */
    TLB_SHARE_ALL,   /* every size in the 4 KiB array (a unified L2 TLB, as AMD's) */
};

struct tlb_params {
    unsigned entries[TLB_SIZES]; /* 0: no array for that size */
    unsigned assoc[TLB_SIZES];   /* ways; = entries: fully associative */
    enum tlb_sharing sharing;    /* entries/assoc of a shared size must be 0 */
    unsigned latency;            /* cycles for a lookup at this level (arrays probed in parallel) */
    enum cache_repl repl;
    uint64_t seed;
};

/* Geometry rules: entries a multiple of assoc with a power-of-two set count, PLRU only with
 * power-of-two ways, shared sizes without their own array. 0, or -1 with err. */
int tlb_params_check(const struct tlb_params *p, mm_err *err);

struct tlb_array {
    cache *c;       /* NULL: absent */
    uint64_t *pay;  /* payload per (set, way) */
    unsigned ways;
    unsigned sizes; /* bit s: holds entries of size s */
    uint64_t count[TLB_SIZES]; /* valid entries of each size: a size with none is not probed */
};

struct tlb_stats {
    uint64_t accesses, hits, misses;
    uint64_t hits_size[TLB_SIZES];   /* hits by the page size of the entry that hit */
    uint64_t misses_size[TLB_SIZES]; /* misses by the page size the translation turned out to have */
    uint64_t fills, evictions, invalidations;
};

typedef struct tlb {
    struct tlb_array arr[TLB_SIZES];
    int holder[TLB_SIZES]; /* index of the array holding size s, or -1 */
    unsigned latency;
    int has_global;        /* a global entry may be present: lookups also try TLB_TAG_GLOBAL */
    struct tlb_stats s;
} tlb;

/* NULL when every array is absent (the level does not exist). Statistics under prefix
 * (e.g. "tlb.l1d"): accesses, hits, misses, hits_4k/2m/1g, misses_4k/2m/1g, fills, evictions,
 * invalidations, miss_rate. */
tlb *tlb_create(const struct tlb_params *p, stats_registry *reg, const char *prefix);
void tlb_destroy(tlb *t);

/* Probe one array for a key: a pointer to the payload (its replacement state promoted) or NULL. */
static inline uint64_t *tlb_array_lookup(struct tlb_array *a, uint64_t key)
{
    int w = cache_lookup(a->c, key);
    if (w < 0)
        return NULL;
    return &a->pay[cache_set_of(a->c, key) * a->ways + (unsigned)w];
}

/* Looks va (masked to the address width) up for tag in every array and size that holds entries,
 * then as a global entry. Returns the payload (and *size) or NULL. skip_4k: the 4 KiB key for tag
 * was probed already (the MMU's inline path) and missed. Counts nothing: the caller counts
 * accesses, hits and misses. */
uint64_t *tlb_lookup(tlb *t, uint64_t va, uint64_t tag, unsigned *size, int skip_4k);

/* Installs the translation of va's page of `size` (pay: TLB_ADDR_MASK bits and flags), which must
 * not be present; a no-op when no array holds that size. Counts fills, evictions. */
void tlb_fill(tlb *t, uint64_t va, unsigned size, uint64_t tag, uint64_t pay);
/* The same when an entry for the page may be present: it is updated in place. */
void tlb_refill(tlb *t, uint64_t va, unsigned size, uint64_t tag, uint64_t pay);

/* INVLPG: drops every entry (of any size) that maps va for tag, and global ones. Returns how
 * many were dropped (counted as invalidations). */
unsigned tlb_invalidate_page(tlb *t, uint64_t va, uint64_t tag);

enum tlb_flush_kind {
    TLB_FLUSH_ALL,        /* everything, global entries too (CR4.PGE toggle, INVPCID all) */
    TLB_FLUSH_NON_GLOBAL, /* every non-global entry (MOV CR3 without PCIDs) */
    TLB_FLUSH_TAG,        /* the non-global entries of one PCID (INVPCID single-context) */
};
/* Returns the number of entries dropped (counted as invalidations). */
uint64_t tlb_flush(tlb *t, enum tlb_flush_kind kind, uint64_t tag);

/* Valid entries over all arrays (tests). */
uint64_t tlb_valid_entries(const tlb *t);

#endif
