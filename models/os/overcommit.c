/* Overcommit accounting, written from an understanding of Linux v6.12 mm/util.c and mm/mmap.c
 * (see overcommit.h). */
#include "models/os/overcommit.h"

#include <errno.h>
#include <stdlib.h>

#include "models/common/xalloc.h"

#define PAGE_SHIFT 12
#define KB_SHIFT (PAGE_SHIFT - 10)
#define ADMIN_RESERVE_CAP_KB (1ull << 13) /* 8 MiB */
#define USER_RESERVE_CAP_KB (1ull << 17)  /* 128 MiB */

struct overcommit {
    int mode, ratio;
    uint64_t kbytes;
    uint64_t admin_reserve_kbytes, user_reserve_kbytes;
    uint64_t totalram, hugetlb, swap;
    int64_t committed; /* vm_committed_as, exact (Linux's is a percpu counter read approximately) */
    uint64_t refused, refused_pages;
};

void overcommit_config_init(overcommit_config *cfg, uint64_t totalram_pages,
                            uint64_t total_swap_pages, uint64_t free_pages)
{
    cfg->overcommit_memory = OVERCOMMIT_GUESS;
    cfg->overcommit_ratio = 50;
    cfg->overcommit_kbytes = 0;
    cfg->totalram_pages = totalram_pages;
    cfg->hugetlb_pages = 0;
    cfg->total_swap_pages = total_swap_pages;
    cfg->free_pages = free_pages;
}

/* init_admin_reserve(): min(3% of free memory, 8 MiB) */
static uint64_t admin_reserve_for(uint64_t free_pages)
{
    uint64_t free_kb = free_pages << KB_SHIFT;
    return free_kb / 32 < ADMIN_RESERVE_CAP_KB ? free_kb / 32 : ADMIN_RESERVE_CAP_KB;
}

/* init_user_reserve(): min(3% of free memory, 128 MiB) */
static uint64_t user_reserve_for(uint64_t free_pages)
{
    uint64_t free_kb = free_pages << KB_SHIFT;
    return free_kb / 32 < USER_RESERVE_CAP_KB ? free_kb / 32 : USER_RESERVE_CAP_KB;
}

static uint64_t g_committed_kb(const void *ctx)
{
    return vm_memory_committed(ctx) << KB_SHIFT;
}

static uint64_t g_limit_kb(const void *ctx)
{
    return vm_commit_limit(ctx) << KB_SHIFT;
}

overcommit *overcommit_create(const overcommit_config *cfg, stats_registry *reg, mm_err *err)
{
    if (cfg->overcommit_memory < OVERCOMMIT_GUESS || cfg->overcommit_memory > OVERCOMMIT_NEVER) {
        mm_errf(err, "overcommit_memory %d: must be 0, 1 or 2", cfg->overcommit_memory);
        return NULL;
    }
    if (cfg->overcommit_ratio < 0) {
        mm_errf(err, "overcommit_ratio %d: must not be negative", cfg->overcommit_ratio);
        return NULL;
    }
    if (cfg->hugetlb_pages > cfg->totalram_pages) {
        mm_errf(err, "hugetlb pages (%llu) exceed total RAM pages (%llu)",
                (unsigned long long)cfg->hugetlb_pages, (unsigned long long)cfg->totalram_pages);
        return NULL;
    }
    overcommit *oc = xcalloc(1, sizeof *oc);
    oc->mode = cfg->overcommit_memory;
    oc->ratio = cfg->overcommit_ratio;
    oc->kbytes = cfg->overcommit_kbytes;
    oc->totalram = cfg->totalram_pages;
    oc->hugetlb = cfg->hugetlb_pages;
    oc->swap = cfg->total_swap_pages;
    oc->admin_reserve_kbytes = admin_reserve_for(cfg->free_pages);
    oc->user_reserve_kbytes = user_reserve_for(cfg->free_pages);
    if (reg) {
        stats_counter(reg, "os.overcommit", "refused", &oc->refused,
                      "requests __vm_enough_memory refused (mmap, brk, mprotect, fork, stack)");
        stats_counter(reg, "os.overcommit", "refused_pages", &oc->refused_pages,
                      "pages asked for by the refused requests");
        stats_gauge(reg, "os.overcommit", "committed_as_kb", g_committed_kb, oc,
                    "Committed_AS: memory committed to accountable mappings, kB");
        stats_gauge(reg, "os.overcommit", "commit_limit_kb", g_limit_kb, oc,
                    "CommitLimit: the limit strict overcommit (mode 2) enforces, kB");
    }
    return oc;
}

void overcommit_destroy(overcommit *oc)
{
    free(oc);
}

int overcommit_set_memory(overcommit *oc, int mode)
{
    if (mode < OVERCOMMIT_GUESS || mode > OVERCOMMIT_NEVER)
        return -EINVAL;
    oc->mode = mode;
    return 0;
}

/* overcommit_ratio_handler: a successful write of the ratio clears overcommit_kbytes */
int overcommit_set_ratio(overcommit *oc, int ratio)
{
    if (ratio < 0)
        return -EINVAL;
    oc->ratio = ratio;
    oc->kbytes = 0;
    return 0;
}

/* overcommit_kbytes_handler: a successful write of kbytes clears the ratio */
int overcommit_set_kbytes(overcommit *oc, uint64_t kbytes)
{
    oc->kbytes = kbytes;
    oc->ratio = 0;
    return 0;
}

void overcommit_set_admin_reserve_kbytes(overcommit *oc, uint64_t kbytes)
{
    oc->admin_reserve_kbytes = kbytes;
}

void overcommit_set_user_reserve_kbytes(overcommit *oc, uint64_t kbytes)
{
    oc->user_reserve_kbytes = kbytes;
}

int overcommit_memory(const overcommit *oc)
{
    return oc->mode;
}

int overcommit_ratio(const overcommit *oc)
{
    return oc->ratio;
}

uint64_t overcommit_kbytes(const overcommit *oc)
{
    return oc->kbytes;
}

uint64_t admin_reserve_kbytes(const overcommit *oc)
{
    return oc->admin_reserve_kbytes;
}

uint64_t user_reserve_kbytes(const overcommit *oc)
{
    return oc->user_reserve_kbytes;
}

void overcommit_set_totals(overcommit *oc, uint64_t totalram_pages, uint64_t hugetlb_pages,
                           uint64_t total_swap_pages)
{
    oc->totalram = totalram_pages;
    oc->hugetlb = hugetlb_pages <= totalram_pages ? hugetlb_pages : totalram_pages;
    oc->swap = total_swap_pages;
}

/* reserve_mem_notifier(MEM_ONLINE): only reserves above their default caps are recomputed */
void overcommit_memory_online(overcommit *oc, uint64_t free_pages)
{
    if (oc->user_reserve_kbytes > USER_RESERVE_CAP_KB)
        oc->user_reserve_kbytes = user_reserve_for(free_pages);
    if (oc->admin_reserve_kbytes > ADMIN_RESERVE_CAP_KB)
        oc->admin_reserve_kbytes = admin_reserve_for(free_pages);
}

/* reserve_mem_notifier(MEM_OFFLINE): a reserve larger than free memory is recomputed */
void overcommit_memory_offline(overcommit *oc, uint64_t free_pages)
{
    uint64_t free_kb = free_pages << KB_SHIFT;
    if (oc->user_reserve_kbytes > free_kb)
        oc->user_reserve_kbytes = user_reserve_for(free_pages);
    if (oc->admin_reserve_kbytes > free_kb)
        oc->admin_reserve_kbytes = admin_reserve_for(free_pages);
}

/* vm_commit_limit() */
uint64_t vm_commit_limit(const overcommit *oc)
{
    uint64_t allowed;
    if (oc->kbytes)
        allowed = oc->kbytes >> KB_SHIFT;
    else
        allowed = (oc->totalram - oc->hugetlb) * (uint64_t)oc->ratio / 100;
    return allowed + oc->swap;
}

/* vm_memory_committed(): percpu_counter_read_positive(&vm_committed_as) */
uint64_t vm_memory_committed(const overcommit *oc)
{
    return oc->committed > 0 ? (uint64_t)oc->committed : 0;
}

void vm_acct_memory(overcommit *oc, int64_t pages)
{
    oc->committed += pages;
}

void vm_unacct_memory(overcommit *oc, int64_t pages)
{
    oc->committed -= pages;
}

/* __vm_enough_memory() of v6.12: the charge is taken first (vm_acct_memory) and the test is made
 * on the count that includes it, so strict mode accepts while committed + pages < allowed. */
int __vm_enough_memory(overcommit *oc, int64_t pages, bool cap_sys_admin,
                       const uint64_t *mm_total_vm)
{
    vm_acct_memory(oc, pages);

    if (oc->mode == OVERCOMMIT_ALWAYS)
        return 0;

    if (oc->mode == OVERCOMMIT_GUESS) {
        /* only a single request larger than RAM plus swap is obviously bogus */
        if (pages > (int64_t)(oc->totalram + oc->swap))
            goto error;
        return 0;
    }

    int64_t allowed = (int64_t)vm_commit_limit(oc);
    /* reserve some for root */
    if (!cap_sys_admin)
        allowed -= (int64_t)(oc->admin_reserve_kbytes >> KB_SHIFT);
    /* don't let a single process grow so big a user can't recover */
    if (mm_total_vm) {
        int64_t reserve = (int64_t)(oc->user_reserve_kbytes >> KB_SHIFT);
        int64_t share = (int64_t)(*mm_total_vm / 32);
        allowed -= share < reserve ? share : reserve;
    }
    if ((int64_t)vm_memory_committed(oc) < allowed)
        return 0;
error:
    oc->refused++;
    oc->refused_pages += pages > 0 ? (uint64_t)pages : 0;
    vm_unacct_memory(oc, pages);
    return -ENOMEM;
}

uint64_t overcommit_refused(const overcommit *oc)
{
    return oc->refused;
}
