/* Processes and address spaces of the kernel model: a process table, each process's mm with its
 * VMAs, and the system calls that change them -- mmap, munmap, mprotect, brk, madvise, fork and
 * exit -- modelled on Linux v6.12 (mm/mmap.c, mm/vma.c, mm/mprotect.c, mm/madvise.c,
 * kernel/fork.c dup_mmap, arch/x86/mm/mmap.c and arch/x86/kernel/sys_x86_64.c for the x86_64
 * layout). Each function in mm.c names the kernel function it mirrors.
 *
 * The model keeps what decides counts and placement: VMA boundaries, flags, file offsets, the
 * anon_vma identity (for vma_merge's anon_vma rules), map_count, total_vm and its
 * data/exec/stack split, locked_vm, Committed_AS charges. It owns no page tables, pages or
 * TLBs: every operation reports what the rest of the kernel must do as an mm_result -- the
 * ranges to unmap (zap PTEs, release pages, flush TLBs), to change protection, to drop
 * (MADV_DONTNEED), to copy or write-protect at fork -- and the facade applies it. RSS and
 * page-table bytes are counted by the facade through mm_add_rss / mm_pgtables_bytes_add.
 *
 * VMAs live in a treap keyed by start address and augmented with each subtree's first start,
 * last end and largest gap between neighbours, so find_vma and the unmapped-area searches are
 * O(log n) (Linux uses a maple tree; before v6.1 an rbtree augmented the same way,
 * rb_subtree_gap). Nodes sit in one flat pool per mm, reused through a free list.
 *
 * Assumptions: files are opened read-write (so MAP_SHARED file mappings get VM_SHARED |
 * VM_MAYSHARE | VM_MAYWRITE); no ASLR (the layout defaults are those of a process with
 * randomisation off); no mremap, mlock, userfaultfd or memory policies. */
#ifndef MMUSIM_OS_MM_H
#define MMUSIM_OS_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "models/os/overcommit.h"

#define MM_PAGE_SHIFT 12
#define MM_PAGE_SIZE (1ull << MM_PAGE_SHIFT)
#define MM_PMD_SIZE (1ull << 21)
#define MM_PUD_SIZE (1ull << 30)

/* x86_64 user address space: DEFAULT_MAP_WINDOW (47 bits, minus the guard page) is TASK_SIZE_MAX
 * with 4-level paging; with 5-level paging (LA57) TASK_SIZE_MAX is 56 bits and mmap hands out
 * addresses above the 47-bit window only when the hint asks for them. */
#define MM_DEFAULT_MAP_WINDOW 0x00007ffffffff000ull
#define MM_TASK_SIZE_MAX_4L MM_DEFAULT_MAP_WINDOW
#define MM_TASK_SIZE_MAX_5L 0x00fffffffffff000ull

/* vm_flags, with Linux's bit values (include/linux/mm.h). */
#define VM_NONE 0x00000000ull
#define VM_READ 0x00000001ull
#define VM_WRITE 0x00000002ull
#define VM_EXEC 0x00000004ull
#define VM_SHARED 0x00000008ull
#define VM_MAYREAD 0x00000010ull
#define VM_MAYWRITE 0x00000020ull
#define VM_MAYEXEC 0x00000040ull
#define VM_MAYSHARE 0x00000080ull
#define VM_GROWSDOWN 0x00000100ull
#define VM_LOCKED 0x00002000ull
#define VM_DONTCOPY 0x00020000ull
#define VM_DONTEXPAND 0x00040000ull
#define VM_ACCOUNT 0x00100000ull
#define VM_NORESERVE 0x00200000ull
#define VM_HUGETLB 0x00400000ull
#define VM_SOFTDIRTY 0x08000000ull /* ignored by the merge rules, as in Linux */
#define VM_HUGEPAGE 0x20000000ull
#define VM_NOHUGEPAGE 0x40000000ull
#define VM_ACCESS_FLAGS (VM_READ | VM_WRITE | VM_EXEC)

/* mmap flags beyond those of traces/event.h (MM_PROT_*, MM_MAP_SHARED/PRIVATE/ANONYMOUS/FIXED/
 * HUGETLB/HUGE_1GB), in bits event.h leaves free. */
#define MM_MAP_NORESERVE 0x4000u
#define MM_MAP_GROWSDOWN 0x8000u
#define MM_MAP_LOCKED 0x10000u
#define MM_MAP_STACK 0x20000u
#define MM_MAP_POPULATE 0x40000u
#define MM_MAP_FIXED_NOREPLACE 0x100000u

/* accountable_mapping() (mm/vma.h): private writable memory without MAP_NORESERVE is charged to
 * Committed_AS; hugetlb has its own reservations. */
static inline bool accountable_mapping(uint64_t vm_flags)
{
    if (vm_flags & VM_HUGETLB)
        return false;
    return (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE;
}

/* is_cow_mapping(): private mappings that may be written get COW pages after fork */
static inline bool is_cow_mapping(uint64_t vm_flags)
{
    return (vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

/* What backs a VMA. SHMEM is MAP_SHARED|MAP_ANONYMOUS (shmem_zero_setup: an object of its own,
 * shared with children); HUGETLB a hugetlbfs object. SHMEM and anonymous HUGETLB objects get ids
 * from a counter of the process table, distinct per mapping, so they never merge with others. */
enum mm_vma_kind { MM_VMA_ANON, MM_VMA_FILE, MM_VMA_SHMEM, MM_VMA_HUGETLB };

/* A copy of one VMA (the model's own nodes move when the pool grows). */
typedef struct mm_vma {
    uint64_t start, end; /* [start, end), page aligned */
    uint64_t flags;      /* VM_* */
    uint64_t pgoff;      /* vm_pgoff: file page of start; private anonymous: start >> 12 when made */
    uint32_t file;       /* FILE: the trace's file id; SHMEM, HUGETLB: the object id; ANON: 0 */
    uint32_t anon_vma;   /* anon_vma id, 0 until the first anonymous fault (anon_vma_prepare) */
    uint8_t kind;        /* enum mm_vma_kind */
    uint8_t anon_vma_chain; /* length of the anon_vma chain: 0, 1, more in a forked child */
    uint8_t hpage_shift;    /* HUGETLB: 21 or 30; else 0 */
} mm_vma;

/* What an operation asks of the rest of the kernel, one range at a time. */
enum mm_range_op {
    MM_RANGE_UNMAP,     /* zap PTEs, release the pages, flush TLBs; the range is no longer mapped
                         * (munmap, MAP_FIXED replacing a mapping, brk shrinking, exit) */
    MM_RANGE_PROTECT,   /* change_protection() from old_flags to new_flags (mprotect) */
    MM_RANGE_DONTNEED,  /* MADV_DONTNEED: zap the PTEs; the mapping stays */
    MM_RANGE_FREE,      /* MADV_FREE: the anonymous pages may be freed lazily */
    MM_RANGE_FLAGS,     /* flags changed, PTEs untouched (MADV_HUGEPAGE/NOHUGEPAGE) */
    MM_RANGE_FORK_COPY, /* fork: copy the parent's PTEs to the child as they are */
    MM_RANGE_FORK_COW,  /* fork: copy the PTEs and write-protect them in parent and child */
};

typedef struct mm_range {
    uint64_t start, end;
    uint64_t old_flags, new_flags; /* vm_flags before and after (UNMAP: new_flags 0) */
    uint64_t pgoff;                /* vm_pgoff of start */
    uint32_t file, anon_vma;
    uint8_t op;                    /* enum mm_range_op */
    uint8_t kind;                  /* enum mm_vma_kind */
} mm_range;

typedef struct mm_result {
    int error;               /* 0 or -errno: what the system call returns */
    uint64_t addr;           /* mmap: the mapping's start; brk: the break after the call */
    int64_t committed;       /* pages charged (+) or released (-) on Committed_AS */
    bool overcommit_refused; /* error is -ENOMEM because __vm_enough_memory said no */
    bool populate;           /* mmap: VM_LOCKED or MAP_POPULATE: fault the range in now */
    /* After unmapping: page-table pages wholly inside [pt_floor, pt_ceiling) may be freed
     * (free_pgtables' floor and ceiling: the neighbouring VMAs' edges; pt_ceiling 0 means no
     * ceiling, as Linux's USER_PGTABLES_CEILING). Both 0 when nothing was unmapped. */
    uint64_t pt_floor, pt_ceiling;
    size_t nr_ranges;
    const mm_range *ranges; /* owned by the process table; valid until its next operation */
} mm_result;

/* The layout every new process gets. */
typedef struct mm_layout {
    bool la57;                /* 5-level paging: TASK_SIZE_MAX = 2^56 - 4 KiB */
    bool legacy_va_layout;    /* vm.legacy_va_layout: bottom-up mmap from TASK_UNMAPPED_BASE */
    uint64_t mmap_base;       /* top of the top-down mmap area; 0: mmap_base() below */
    uint64_t stack_top;       /* 0: STACK_TOP = DEFAULT_MAP_WINDOW */
    uint64_t stack_init_pages;/* the stack VMA a new process starts with: 33 pages (one page of
                               * arguments, then setup_arg_pages' 128 KiB expansion) */
    uint64_t stack_rlimit;    /* RLIMIT_STACK: 8 MiB; the stack grows at most to this */
    uint64_t stack_guard_gap; /* stack_guard_gap: 256 pages */
    uint64_t start_brk;       /* where the heap starts: 0x555555559000 (the break of a small
                               * PIE program loaded at ELF_ET_DYN_BASE without ASLR) */
    uint64_t mmap_min_addr;   /* vm.mmap_min_addr: 65536 */
    uint64_t memlock_rlimit;  /* RLIMIT_MEMLOCK: 8 MiB (MAP_LOCKED beyond it: -EAGAIN) */
    unsigned max_map_count;   /* vm.max_map_count: 65530 */
    bool thp_align;           /* v6.7+ (CONFIG_TRANSPARENT_HUGEPAGE): private anonymous mmaps
                               * without a hint whose length is a multiple of 2 MiB are placed
                               * on a 2 MiB boundary (thp_get_unmapped_area_vmflags) */
} mm_layout;

void mm_layout_init(mm_layout *l);
uint64_t mm_task_size_max(const mm_layout *l);
/* mmap_base() of arch/x86/mm/mmap.c: task_size - clamp(stack_rlimit + stack randomisation +
 * stack_guard_gap, 128 MiB, task_size / 6 * 5) - rnd, page aligned. Without randomisation on
 * 4-level paging: 0x7ffff7fff000. */
uint64_t mm_mmap_base(uint64_t task_size, uint64_t stack_rlimit, uint64_t stack_guard_gap,
                      uint64_t rnd);

typedef struct task_table task_table;
typedef struct mm_task mm_task;
typedef struct mm_struct mm_struct;

/* Registers under "os.mm" when reg is non-NULL. oc may be NULL (no overcommit accounting: every
 * charge succeeds and nothing is counted). */
task_table *task_table_create(const mm_layout *layout, overcommit *oc, stats_registry *reg,
                              mm_err *err);
void task_table_destroy(task_table *tt);
const mm_layout *task_table_layout(const task_table *tt);

/* ---- processes ---- */

enum task_state {
    TASK_ALIVE,
    TASK_OOM_VICTIM, /* killed by the OOM killer; its memory is freed when task_exit runs */
    TASK_EXITED,     /* exit_mmap has run: no mm */
};

#define OOM_SCORE_ADJ_MIN (-1000)
#define OOM_SCORE_ADJ_MAX 1000

/* A new process as exec leaves it: an mm with the stack VMA (charged to Committed_AS), an empty
 * heap at start_brk. -EEXIST when pid is alive, -ENOMEM when the stack cannot be charged. A pid
 * that exited may be created again. */
int task_create(task_table *tt, uint32_t pid, mm_result *res);
/* fork (copy_process -> dup_mm -> dup_mmap): child gets copies of the parent's VMAs (VM_LOCKED
 * dropped), a new anon_vma under each of the parent's, the parent's counters except locked_vm,
 * RSS and page tables; VM_ACCOUNT areas are charged again. Ranges: FORK_COW (private writable
 * areas with pages, to write-protect in both) and FORK_COPY (other areas whose PTEs are copied);
 * areas without an anon_vma are not copied (the child faults them in), as vma_needs_copy.
 * -ESRCH without a live parent, -EEXIST when child is alive, -ENOMEM on overcommit refusal. */
int task_fork(task_table *tt, uint32_t parent, uint32_t child, mm_result *res);
/* exit (exit_mmap): every VMA as an UNMAP range, VM_ACCOUNT pages released; the task becomes
 * TASK_EXITED. -ESRCH when pid has no mm. */
int task_exit(task_table *tt, uint32_t pid, mm_result *res);

mm_task *task_find(const task_table *tt, uint32_t pid); /* any state; NULL if never created */
/* Tasks that have an mm (alive and OOM victims) in creation order, as the kernel's task list. */
mm_task *task_first(const task_table *tt);
mm_task *task_next(const task_table *tt, const mm_task *t);
size_t task_count(const task_table *tt); /* tasks with an mm */

uint32_t task_pid(const mm_task *t);
enum task_state task_state(const mm_task *t);
mm_struct *task_mm(const mm_task *t); /* NULL once exited */
int task_oom_score_adj(const mm_task *t);
int task_set_oom_score_adj(mm_task *t, int adj); /* -EINVAL outside [-1000, 1000] */
uint32_t task_cgroup(const mm_task *t);         /* placeholder for the memcg: 0 = root */
void task_set_cgroup(mm_task *t, uint32_t cgroup);
bool task_cap_sys_admin(const mm_task *t);      /* root: no admin reserve, mmap_min_addr waived */
void task_set_cap_sys_admin(mm_task *t, bool cap);
bool task_unkillable(const mm_task *t);         /* init or a kernel thread (oom_unkillable_task) */
void task_set_unkillable(mm_task *t, bool unkillable);
const char *task_comm(const mm_task *t);        /* 15 characters at most, "task" by default */
void task_set_comm(mm_task *t, const char *comm);
void task_mark_oom_victim(mm_task *t);          /* mark_oom_victim(): TASK_OOM_VICTIM */

/* ---- system calls on an address space; each returns res->error (res may be NULL) ---- */

/* do_mmap(): flags = MM_PROT_* | MM_MAP_* (traces/event.h, plus the extras above), file the
 * trace's file id (ignored for MAP_ANONYMOUS), off the file offset. res->addr is the mapping's
 * address; ranges are the UNMAP ranges of a MAP_FIXED mapping replaced. */
int do_mmap(mm_struct *mm, uint64_t addr, uint64_t len, uint32_t flags, uint32_t file,
            uint64_t off, mm_result *res);
/* munmap (__vm_munmap -> do_vmi_munmap): splits VMAs at the edges. */
int do_munmap(mm_struct *mm, uint64_t start, uint64_t len, mm_result *res);
/* mprotect (do_mprotect_pkey, mprotect_fixup): prot = MM_PROT_* bits. Stops at the first hole
 * with -ENOMEM, the VMAs before it changed, as Linux. */
int do_mprotect(mm_struct *mm, uint64_t start, uint64_t len, uint32_t prot, mm_result *res);
/* brk (SYSCALL brk, do_brk_flags): res->addr is the break after the call (the old one when
 * refused; brk returns that rather than an error, and res->error says why). */
int sys_brk(mm_struct *mm, uint64_t brk, mm_result *res);
/* madvise (do_madvise): MM_MADV_DONTNEED, MM_MADV_FREE, MM_MADV_HUGEPAGE, MM_MADV_NOHUGEPAGE. */
int do_madvise(mm_struct *mm, uint64_t start, uint64_t len, uint32_t advice, mm_result *res);

/* ---- faults and lookups ---- */

/* The access kinds of a trace record: 0 read, 1 write, 2 instruction fetch, 3 read-modify-write
 * (the values of MM_EV_READ .. MM_EV_RMW). */
enum mm_access_result {
    MM_ACCESS_OK,
    MM_ACCESS_OK_STACK_GREW, /* below a VM_GROWSDOWN VMA: the stack was expanded to cover it */
    MM_ACCESS_SEGV_MAPERR,   /* no VMA (or a stack that may not grow there), or a kernel address */
    MM_ACCESS_SEGV_ACCERR,   /* a VMA whose protection forbids the access */
};
/* The VMA checks of the x86 fault path (lock_mm_and_find_vma, expand_stack, access_error): a
 * write needs VM_WRITE, an instruction fetch VM_EXEC, a read any of VM_READ/WRITE/EXEC. A miss
 * just below a VM_GROWSDOWN VMA grows it (expand_downwards: not closer than stack_guard_gap to the
 * VMA below, not beyond RLIMIT_STACK, charged to Committed_AS). */
enum mm_access_result mm_access_ok(mm_struct *mm, uint64_t vaddr, unsigned access);

/* find_vma(): the first VMA ending above addr. */
bool find_vma(const mm_struct *mm, uint64_t addr, mm_vma *out);
/* vma_lookup(): the VMA containing addr. */
bool vma_lookup(const mm_struct *mm, uint64_t addr, mm_vma *out);
/* find_vma_intersection(): the first VMA intersecting [start, end). */
bool find_vma_intersection(const mm_struct *mm, uint64_t start, uint64_t end, mm_vma *out);
/* find_vma_prev(): find_vma()'s VMA (returns whether there is one) and, in *prev, the VMA
 * before it -- the last one ending at or below addr (*has_prev says whether there is one). */
bool find_vma_prev(const mm_struct *mm, uint64_t addr, mm_vma *vma, mm_vma *prev,
                   bool *has_prev);

/* anon_vma_prepare() at the first anonymous fault in the VMA containing addr: reuses a
 * neighbour's anon_vma when find_mergeable_anon_vma allows, else makes one. Returns its id (0
 * when addr is not mapped). */
uint32_t anon_vma_prepare(mm_struct *mm, uint64_t addr);

/* ---- counters ---- */

/* RSS counters, in Linux's order (enum in mm_types_task.h). */
enum mm_rss_type { MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES, MM_NR_RSS };
void mm_add_rss(mm_struct *mm, enum mm_rss_type type, int64_t delta);
int64_t get_mm_counter(const mm_struct *mm, enum mm_rss_type type);
uint64_t get_mm_rss(const mm_struct *mm); /* FILEPAGES + ANONPAGES + SHMEMPAGES */
void mm_pgtables_bytes_add(mm_struct *mm, int64_t delta);
uint64_t mm_pgtables_bytes(const mm_struct *mm);

/* /proc/PID/status-like numbers, in pages. */
typedef struct mm_stat {
    uint64_t total_vm, data_vm, exec_vm, stack_vm, locked_vm; /* VmSize, VmData, ..., VmLck */
    uint64_t hiwater_vm, hiwater_rss;                         /* VmPeak, VmHWM (exact maxima) */
    uint64_t rss[MM_NR_RSS];
    uint64_t pgtables_bytes;
    unsigned map_count;
    uint64_t start_brk, brk, start_stack, mmap_base;
} mm_stat;
void mm_get_stat(const mm_struct *mm, mm_stat *st);
unsigned mm_map_count(const mm_struct *mm);
uint64_t mm_total_vm(const mm_struct *mm);
mm_task *mm_owner(const mm_struct *mm);

/* /proc/PID/maps lines ("start-end perms offset 00:00 inode name"); returns the length the text
 * needs (snprintf-style). Names: [heap], [stack], file:<id>, /dev/zero (deleted) for shared
 * anonymous memory, /anon_hugepage (deleted) for anonymous hugetlb. */
size_t mm_format_maps(const mm_struct *mm, char *buf, size_t len);

/* Invariant check, O(n): tree order and augmentation, no overlap, page alignment, map_count and
 * total_vm equal to what the VMAs add up to. Returns 0 or -1 with err set. */
int mm_check(const mm_struct *mm, mm_err *err);

#endif
