/* The engine's translate path: the MMU model (models/hw/mmu.h) wired to page tables
 * (models/os/pgtable.h) and to a stand-in kernel that the kernel-model issue replaces:
 *  - one address space per pid, created at its first access, with its own PCID;
 *  - first-touch faults: a not-present fault maps the page ([mmu] first_touch_page: 4 KiB, 2 MiB
 *    or 1 GiB) with a frame of the first-touch allocator and costs [mmu] first_touch_cost cycles;
 *    a protection fault grants the access (there are no VMAs yet);
 *  - OS events: MM_EV_SWITCH (the cpu loads the pid's address space: with PCIDs the entries are
 *    kept unless the PCID was used by another address space or missed a shootdown since),
 *    MM_EV_MUNMAP (unmap from the page tables, free the frames, shoot the range down on every
 *    CPU running the address space), MM_EV_EXIT (tear the address space down).
 *  - nested mode ([walker] nested): the tables above are the guest's, in guest-physical memory
 *    (a first-touch allocator of its own); a host address space maps guest-physical memory to
 *    host frames on first touch ([mmu] host_page), its faults costing first_touch_cost too. */
#ifndef MMUSIM_SIM_TRANSLATE_H
#define MMUSIM_SIM_TRANSLATE_H

#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "models/hw/cache.h"
#include "models/hw/mmu.h"
#include "sim/config.h"
#include "traces/event.h"

#define XLATE_NO_PID UINT64_MAX

typedef struct xlate_priv xlate_priv;

typedef struct xlate {
    mmu *mmu;
    uint64_t *cur_pid; /* per cpu: the pid whose address space is loaded, or XLATE_NO_PID */
    xlate_priv *priv;
} xlate;

/* Reads [mmu], [tlb*], [walker], [pwc] (errors name the config line) and builds the machine's
 * MMU, page tables and frame allocators. */
xlate *xlate_create(const sim_config *cfg, unsigned ncpus, cache_hier *caches, uint64_t seed,
                    stats_registry *reg, mm_err *err);
void xlate_destroy(xlate *x);

/* Loads pid's address space on cpu (creating it on first use). */
void xlate_switch(xlate *x, unsigned cpu, uint32_t pid);

/* What the page tables say (a software walk, nothing simulated or counted): 1 and *pa when va
 * is mapped in pid's address space (through the host tables too when nested), else 0. */
int xlate_lookup(const xlate *x, uint32_t pid, uint64_t va, uint64_t *pa);

/* Handles an OS event (the ones listed above; others are ignored). */
void xlate_os_event(xlate *x, const struct mm_event *ev);

/* Translates an access by pid on cpu: 0 with *pa, -1 when its fault could not be handled. The
 * latency (TLB, walk, fault) is added to *cycles. */
static inline __attribute__((always_inline)) int
xlate_access(xlate *x, unsigned cpu, uint32_t pid, uint64_t va, unsigned type, uint64_t *pa,
             uint32_t *cycles)
{
    if (__builtin_expect(x->cur_pid[cpu] != (uint64_t)pid, 0))
        xlate_switch(x, cpu, pid);
    return mmu_translate(x->mmu, cpu, va, type, pa, cycles);
}

#endif
