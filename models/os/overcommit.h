/* Overcommit accounting of the kernel model: vm.overcommit_memory, vm.overcommit_ratio,
 * vm.overcommit_kbytes, the admin and user reserves, Committed_AS and CommitLimit, modelled on
 * Linux's mm/util.c (__vm_enough_memory, vm_commit_limit, vm_memory_committed, the sysctl
 * handlers) and mm/mmap.c (init_admin_reserve, init_user_reserve, reserve_mem_notifier) as of
 * v6.12.
 *
 * The heuristic mode is the one Linux has had since v5.2 ("mm: fix false-positive
 * OVERCOMMIT_GUESS failures"): it refuses only a single request larger than total RAM plus total
 * swap; the older free + page cache + reclaimable slab estimate is gone.
 *
 * Which mappings are charged is decided by the address-space code (mm.h: accountable_mapping,
 * brk, stack growth, fork of VM_ACCOUNT areas, mprotect making a private mapping writable); this
 * module only keeps the global count and answers yes or no. Counts are in 4 KiB pages unless the
 * name says kbytes. */
#ifndef MMUSIM_OS_OVERCOMMIT_H
#define MMUSIM_OS_OVERCOMMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"

/* include/uapi/linux/mman.h */
enum { OVERCOMMIT_GUESS = 0, OVERCOMMIT_ALWAYS = 1, OVERCOMMIT_NEVER = 2 };

typedef struct overcommit overcommit;

typedef struct overcommit_config {
    int overcommit_memory;       /* sysctl_overcommit_memory, default OVERCOMMIT_GUESS */
    int overcommit_ratio;        /* sysctl_overcommit_ratio, default 50 (percent) */
    uint64_t overcommit_kbytes;  /* sysctl_overcommit_kbytes, default 0 (use the ratio) */
    uint64_t totalram_pages;     /* totalram_pages(): the pages the buddy allocator manages */
    uint64_t hugetlb_pages;      /* hugetlb_total_pages(): base pages held in hugetlb pools */
    uint64_t total_swap_pages;   /* total_swap_pages */
    uint64_t free_pages;         /* NR_FREE_PAGES when the reserves are initialised */
} overcommit_config;

/* Linux's defaults; free_pages seeds the reserves as init_admin_reserve/init_user_reserve do at
 * boot: admin_reserve_kbytes = min(free_kbytes / 32, 8192), user_reserve_kbytes =
 * min(free_kbytes / 32, 131072) (free/32 is the "3%" of the documentation). */
void overcommit_config_init(overcommit_config *cfg, uint64_t totalram_pages,
                            uint64_t total_swap_pages, uint64_t free_pages);

/* Registers under "os.overcommit" when reg is non-NULL: counters refused, refused_pages; gauges
 * committed_as_kb, commit_limit_kb. Returns NULL with err set on a bad config. */
overcommit *overcommit_create(const overcommit_config *cfg, stats_registry *reg, mm_err *err);
void overcommit_destroy(overcommit *oc);

/* Tunables, as the sysctl handlers apply them; -EINVAL when out of range. Writing the ratio
 * zeroes overcommit_kbytes and writing kbytes zeroes the ratio (overcommit_ratio_handler,
 * overcommit_kbytes_handler). */
int overcommit_set_memory(overcommit *oc, int mode);
int overcommit_set_ratio(overcommit *oc, int ratio);
int overcommit_set_kbytes(overcommit *oc, uint64_t kbytes);
void overcommit_set_admin_reserve_kbytes(overcommit *oc, uint64_t kbytes);
void overcommit_set_user_reserve_kbytes(overcommit *oc, uint64_t kbytes);
int overcommit_memory(const overcommit *oc);
int overcommit_ratio(const overcommit *oc);
uint64_t overcommit_kbytes(const overcommit *oc);
uint64_t admin_reserve_kbytes(const overcommit *oc);
uint64_t user_reserve_kbytes(const overcommit *oc);

/* Memory sizes change with swapon/swapoff, hugetlb pool resizing and memory hotplug. */
void overcommit_set_totals(overcommit *oc, uint64_t totalram_pages, uint64_t hugetlb_pages,
                           uint64_t total_swap_pages);
/* reserve_mem_notifier: after memory goes online, reserves above their caps (8 MiB, 128 MiB) are
 * recomputed from free_pages; after memory goes offline, reserves larger than the free memory
 * are. */
void overcommit_memory_online(overcommit *oc, uint64_t free_pages);
void overcommit_memory_offline(overcommit *oc, uint64_t free_pages);

/* vm_commit_limit(): overcommit_kbytes / 4 if set, else (totalram - hugetlb) * ratio / 100; plus
 * total swap. Pages. */
uint64_t vm_commit_limit(const overcommit *oc);
/* vm_memory_committed(): Committed_AS in pages (never negative). */
uint64_t vm_memory_committed(const overcommit *oc);

/* __vm_enough_memory(): charges pages to Committed_AS and returns 0, or leaves the count as it
 * was and returns -ENOMEM. mm_total_vm is the requesting mm's total_vm (its pages count towards
 * the user reserve), NULL when the request has no mm. The refusal is counted. */
int __vm_enough_memory(overcommit *oc, int64_t pages, bool cap_sys_admin,
                       const uint64_t *mm_total_vm);
/* vm_acct_memory / vm_unacct_memory: unconditional charge and uncharge. */
void vm_acct_memory(overcommit *oc, int64_t pages);
void vm_unacct_memory(overcommit *oc, int64_t pages);

/* Refusals so far (the os.overcommit.refused counter). */
uint64_t overcommit_refused(const overcommit *oc);

#endif
