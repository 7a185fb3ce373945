/* The MMU of a machine: per CPU an L1 iTLB, an L1 dTLB, a unified STLB (tlb.h) and a page walker
 * with its page-walk caches (walker.h), plus what each CPU has loaded in CR3 (root and PCID).
 *
 * Translation of one access: the L1 TLB of its kind (every page-size array) -> the STLB -> a walk
 * (page-walk caches, entry loads through the caches) -> on a fault, the kernel model's handler
 * (a callback) and the walk again -> fill the STLB and the L1. A store through an entry cached
 * clean walks again to set the leaf's Dirty bit (SDM 4.8). The latency is the sum of the TLB
 * lookups, the walks and the fault handling.
 *
 * The hit path of the L1 (its 4 KiB array) is inline below and costs one set-associative lookup;
 * the structs are visible for that reason only.
 *
 * TLB maintenance mirrors the instructions and the kernel's use of them: mmu_switch is a MOV to
 * CR3 (with PCIDs, the no-flush bit keeps the PCID's entries; without, every non-global entry and
 * every page-walk-cache entry goes), mmu_invlpg is INVLPG (the page's entries of every size, global
 * ones included, and every page-walk-cache entry of the current PCID, SDM 4.10.4.1), mmu_flush is
 * INVPCID/CR4.PGE, mmu_shootdown is the kernel's flush_tlb_mm_range: each CPU that has the address
 * space loaded drops the range (one INVLPG per page up to flush_ceiling pages, else the whole
 * PCID), and the initiator pays shootdown_cost cycles per other CPU it interrupts. */
#ifndef MMUSIM_HW_MMU_H
#define MMUSIM_HW_MMU_H

#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "models/hw/cache.h"
#include "models/hw/tlb.h"
#include "models/hw/walker.h"
#include "traces/event.h"

#define MMU_NO_ROOT UINT64_MAX
#define MMU_MAX_FAULTS 32 /* faults one access may take before it is given up */

struct mmu_params {
    unsigned ncpus;
    struct tlb_params l1i, l1d, stlb; /* a level whose arrays all have 0 entries is absent */
    int pcid;                          /* CR4.PCIDE: entries tagged with the PCID */
    unsigned shootdown_cost;           /* cycles the initiator pays per other CPU interrupted */
    unsigned flush_ceiling;            /* larger ranges are flushed whole (Linux: 33 pages) */
    struct walker_params walker;
};

/* A page fault for the kernel model (or the hypervisor for a host fault). */
struct mmu_fault {
    unsigned cpu;
    enum walk_stage stage; /* WALK_STAGE_GUEST (the only one without nesting) or WALK_STAGE_HOST */
    uint64_t addr;         /* the faulting virtual address, or guest-physical for a host fault */
    uint64_t root;         /* the CR3 root (guest stage) or the host root (host stage) */
    uint32_t err;          /* WALK_ERR_*: not present (P clear) or protection, W, U, I */
    unsigned type;         /* the access type */
};

/* Returns 0 when the fault was handled (the access is retried), -1 when it cannot be (the access
 * is given up: a SIGSEGV). *cycles: what the handling cost. */
typedef int (*mmu_fault_fn)(void *ctx, const struct mmu_fault *f, uint32_t *cycles);

typedef struct mmu mmu;

/* Geometry checks of every part; err names the part ("[tlb.l1d] ..."). */
int mmu_params_check(const struct mmu_params *p, mm_err *err);

/* mem: how the walker reads page tables (the guest's when nested); host_mem: the host's (nested
 * only, else NULL). Statistics: tlb.l1i, tlb.l1d, tlb.stlb (tlb.cpuN.* with several CPUs), tlb.*
 * (switches, flushes, shootdowns), walker.*, pwc.*, mmu.*. */
mmu *mmu_create(const struct mmu_params *p, cache_hier *caches, const struct walker_mem *mem,
                const struct walker_mem *host_mem, mmu_fault_fn fault, void *fault_ctx,
                stats_registry *reg, mm_err *err);
void mmu_destroy(mmu *m);

/* Nested mode: the host root (EPTP) every walk translates guest-physical addresses through. */
void mmu_set_host_root(mmu *m, uint64_t host_root);

/* MOV CR3 on cpu: root = the address space's root pfn, pcid its PCID (ignored without PCIDs),
 * noflush = CR3 bit 63 (keep the PCID's entries; ignored without PCIDs). */
void mmu_switch(mmu *m, unsigned cpu, uint64_t root, unsigned pcid, int noflush);
uint64_t mmu_current_root(const mmu *m, unsigned cpu);

/* INVLPG va on cpu (for its current PCID). */
void mmu_invlpg(mmu *m, unsigned cpu, uint64_t va);
/* TLB_FLUSH_ALL, TLB_FLUSH_NON_GLOBAL, or TLB_FLUSH_TAG for the current PCID; page-walk caches
 * go with it (all of them, or the current PCID's). */
void mmu_flush(mmu *m, unsigned cpu, enum tlb_flush_kind kind);
/* Drops a PCID's non-global entries and page-walk-cache entries on cpu (INVPCID single-context),
 * e.g. before a PCID is given to another address space. */
void mmu_flush_pcid(mmu *m, unsigned cpu, unsigned pcid);

/* The translations of [va, va + len) in the address space `root` changed (unmap, migration,
 * protection): every CPU that has root loaded drops them, one INVLPG per 2^stride_shift bytes
 * (12 for 4 KiB pages, 21 for 2 MiB ones) up to flush_ceiling pages, else a flush of the PCID.
 * Returns the cycles the initiator pays: shootdown_cost per other CPU interrupted. */
uint64_t mmu_shootdown(mmu *m, unsigned initiator, uint64_t root, uint64_t va, uint64_t len,
                       unsigned stride_shift);

/* The same for the kernel half, whose translations are global and shared by every address space
 * (Linux's flush_tlb_kernel_range): every CPU drops the range, global entries included; when
 * tables_changed (an upper-level entry changed), or the range is above flush_ceiling pages, every
 * CPU flushes everything, page-walk caches of every PCID too. Returns the initiator's cycles. */
uint64_t mmu_shootdown_kernel(mmu *m, unsigned initiator, uint64_t va, uint64_t len,
                              unsigned stride_shift, int tables_changed);

enum mmu_tlb_which { MMU_L1I, MMU_L1D, MMU_STLB };
/* A CPU's TLB (NULL when absent), for tests and probes. */
const tlb *mmu_tlb(const mmu *m, unsigned cpu, enum mmu_tlb_which which);

/* ---- translation ---- */

struct mmu_cpu {
    tlb *l1i, *l1d, *stlb;
    struct tlb_array *fast_i, *fast_d; /* the L1s' 4 KiB arrays, NULL when absent */
    walker *w;
    uint64_t root;    /* CR3, MMU_NO_ROOT before the first switch */
    uint64_t tag;     /* the current PCID (0 without PCIDs) */
    uint64_t tagbits; /* tag << TLB_TAG_SHIFT */
};

struct mmu_stats {
    uint64_t cycles, faults, fault_cycles, protection_faults, dirty_assists, unresolved;
    uint64_t switches, flushes, pcid_flushes, invlpgs, shootdowns, shootdown_ipis, shootdown_cycles;
};

struct mmu {
    unsigned ncpus;
    uint64_t va_mask;   /* the paging width: 48 or 57 bits */
    unsigned half_shift;/* the bit that selects the kernel half: 47 or 56 */
    int pcid;
    unsigned shootdown_cost, flush_ceiling;
    uint64_t host_root;
    uint64_t need[4];   /* payload bits an access of each type requires (TLB_U added for user) */
    uint64_t need_half[2][4]; /* the same by half: [0] user (TLB_U added), [1] kernel */
    mmu_fault_fn fault;
    void *fault_ctx;
    struct mmu_cpu *cpu;
    struct mmu_stats s;
};

/* probed_4k: the inline path probed the L1's 4 KiB key and missed */
int mmu_translate_slow(mmu *m, unsigned cpu, uint64_t va, unsigned type, uint64_t *pa,
                       uint32_t *cycles, int probed_4k);

/* Translates va for an access of `type` on cpu (which must have an address space loaded): 0 with
 * *pa, or -1 when a fault could not be handled. Adds the translation's latency to *cycles. */
static inline __attribute__((always_inline)) int
mmu_translate(mmu *m, unsigned cpu, uint64_t va, unsigned type, uint64_t *pa, uint32_t *cycles)
{
    struct mmu_cpu *c = &m->cpu[cpu];
    struct tlb_array *a = type == MM_EV_IFETCH ? c->fast_i : c->fast_d;
    int probed = 0;
    if (__builtin_expect(a != NULL, 1)) {
        uint64_t vm = va & m->va_mask;
        uint64_t key = (vm >> 12) | c->tagbits;
        int w = cache_lookup(a->c, key);
        probed = w < 0;
        if (__builtin_expect(w >= 0, 1)) {
            uint64_t p = a->pay[cache_set_of(a->c, key) * a->ways + (unsigned)w];
            /* a user access (the lower half) needs TLB_U */
            uint64_t need = m->need_half[(vm >> m->half_shift) & 1][type];
            if (__builtin_expect((p & need) == need, 1)) {
                tlb *t = type == MM_EV_IFETCH ? c->l1i : c->l1d;
                t->s.accesses++;
                t->s.hits++;
                t->s.hits_size[TLB_4K]++;
                *pa = (p & TLB_ADDR_MASK) | (va & 0xfff);
                *cycles += t->latency;
                m->s.cycles += t->latency;
                return 0;
            }
        }
    }
    return mmu_translate_slow(m, cpu, va, type, pa, cycles, probed);
}

#endif
