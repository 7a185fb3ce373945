/* The kernel facade: wires the kernel-model pieces -- physical memory and the buddy allocator
 * (zone.h, buddy.h), page tables (pgtable.h), processes and VMAs with overcommit (mm.h,
 * overcommit.h), reclaim, swap and the page cache (reclaim.h), the OOM killer (oom.h) -- into the
 * translate path's page faults and the trace's OS events ([kernel] model = linux).
 *
 *  - kernel_fault() resolves a fault the way Linux's handle_mm_fault does: the VMA checks
 *    (mm_access_ok: a segfault kills the process, its later records are skipped), anonymous
 *    demand-zero pages (a frame from reclaim_alloc_pages: kswapd wakeups and direct reclaim stall
 *    the access), swap-in (major), copy-on-write after fork, then pgtable_map.
 *  - kernel_event() applies MMAP/MUNMAP/BRK/MPROTECT/MADVISE/FORK/EXIT through mm.h and then the
 *    mm_result ranges to the page tables (zap, free, write-protect, copy), invalidating TLBs through
 *    the callbacks the translate path gives.
 *  - kernel_tick() runs background reclaim (kswapd, the flusher, I/O completions).
 *
 * A trace without VMA events (MMAP, BRK, MPROTECT, MADVISE) is "plain": each pid's first record
 * creates its task, whose touched user-half addresses are anonymous memory (a VMA covering the
 * user half below the stack, MAP_NORESERVE) and whose kernel-half addresses are kernel pages
 * (global, supervisor, unmovable, not on the LRU). Once any VMA event is seen, accesses outside
 * the VMAs are segfaults. */
#ifndef MMUSIM_OS_KERNEL_H
#define MMUSIM_OS_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "models/os/pgtable.h"
#include "traces/event.h"

typedef struct kernel kernel;

/* TLB invalidation the facade asks of the translate path (the hardware side). */
struct kernel_tlb_ops {
    void *ctx;
    /* [start, start + len) of pid's address space changed; upper: a paging-structure entry
     * changed too (page-walk caches). */
    void (*flush_range)(void *ctx, uint32_t pid, uint64_t start, uint64_t len, bool upper);
};

struct kernel_config {
    uint64_t dram_bytes;
    unsigned ncpus;
    unsigned levels;           /* paging levels: 4 or 5 */
    double freq_mhz;           /* converts device latencies to cycles */
    uint32_t fault_cost;       /* cycles of a minor fault's kernel path */
    uint32_t major_fault_cost; /* cycles of a major fault's kernel path (I/O wait is added) */
    int overcommit_memory;     /* 0 guess, 1 always, 2 never */
    int overcommit_ratio;      /* percent, 50 */
    int swappiness;            /* 0..200, 60 */
    int min_free_kbytes;       /* 0: computed as Linux does */
    uint64_t swap_bytes;       /* 0: no swap */
    int swap_device;           /* enum bdev_kind */
    bool pcp_disabled;         /* tests: every free goes straight to the buddy lists */
};
/* Linux's defaults, 3000 MHz, 4 levels, 2500 / 25000 cycles, no swap. */
void kernel_config_init(struct kernel_config *c, uint64_t dram_bytes, unsigned ncpus);

kernel *kernel_create(const struct kernel_config *cfg, const struct kernel_tlb_ops *tlb,
                      stats_registry *reg, mm_err *err);
void kernel_destroy(kernel *k);

/* The page tables (the walker reads them). */
pgtable *kernel_pgtable(const kernel *k);
/* The root (CR3 pfn) of pid's address space, creating the task at its first use. */
uint64_t kernel_mm_root(kernel *k, uint32_t pid);

enum kernel_fault_status {
    KFAULT_OK,      /* mapped: retry the access */
    KFAULT_SEGV,    /* segfault: the process was killed */
    KFAULT_KILLED,  /* the process is dead (segfault or OOM kill earlier): record skipped */
    KFAULT_OOM,     /* no memory and nothing to kill: the access fails */
};
struct kernel_fault_result {
    enum kernel_fault_status status;
    uint64_t cycles; /* the stall: fault cost + allocation / reclaim / I/O */
    bool major;
    bool cow;
};
/* A not-present (protection = false) or protection fault of pid at vaddr; access is MM_EV_READ,
 * WRITE, IFETCH or RMW. */
void kernel_fault(kernel *k, unsigned cpu, uint32_t pid, uint64_t vaddr, unsigned access,
                  bool protection, struct kernel_fault_result *res);

/* An OS event (others than those listed above are ignored). Returns the syscall's result
 * (0 or -errno; mmap: 0 and the address in *addr_out when not NULL). */
int kernel_event(kernel *k, const struct mm_event *ev, uint64_t *addr_out);

/* Background reclaim up to now; budget: kswapd CPU cycles. Returns the cycles kswapd used. */
uint64_t kernel_tick(kernel *k, uint64_t now, uint64_t budget);
uint64_t kernel_now(const kernel *k);

/* Numbers for tests. */
struct kernel_stats {
    uint64_t pgfault, pgmajfault, cow, segfaults, skipped, oom_kills, oom_failures;
    uint64_t mem_total, mem_free; /* pages */
    uint64_t anon_pages, pgtable_pages, swap_ptes;
};
void kernel_get_stats(const kernel *k, struct kernel_stats *st);
bool kernel_pid_alive(const kernel *k, uint32_t pid);
uint32_t kernel_last_oom_victim(const kernel *k); /* 0 when none */

#endif
