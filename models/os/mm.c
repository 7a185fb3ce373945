/* Processes, address spaces and VMAs of the kernel model, written from an understanding of Linux
 * v6.12 (see mm.h); each function names the kernel function it mirrors. */
#include "models/os/mm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"
#include "models/os/idmap.h"
#include "traces/event.h"

#define PAGE_SHIFT MM_PAGE_SHIFT
#define PAGE_SIZE MM_PAGE_SIZE
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)
#define NIL 0u

/* ------------------------------------------------------------------------------------------ */
/* structures                                                                                   */

struct vma_node {
    uint64_t start, end, flags, pgoff;
    uint32_t file, anon_vma;
    uint8_t kind, avc, hpage_shift;
    /* treap links and the subtree augmentation */
    uint32_t left, right, prio;
    uint64_t sub_first; /* start of the subtree's first VMA */
    uint64_t sub_last;  /* end of its last VMA */
    uint64_t sub_gap;   /* largest gap between two neighbouring VMAs of the subtree */
};

struct mm_struct {
    struct task_table *tt;
    struct mm_task *owner;
    struct vma_node *n; /* pool; n[0] is the nil node */
    uint32_t cap, used, free_head, root;
    unsigned map_count;
    uint64_t total_vm, data_vm, exec_vm, stack_vm, locked_vm, hiwater_vm;
    int64_t rss[MM_NR_RSS];
    uint64_t hiwater_rss;
    int64_t pgtables_bytes;
    uint64_t start_brk, brk, start_stack;
    uint64_t mmap_base, mmap_legacy_base;
};

struct mm_task {
    uint32_t pid;
    enum task_state state;
    int oom_score_adj;
    uint32_t cgroup;
    bool cap_sys_admin, unkillable;
    char comm[16];
    struct mm_struct *mm;
    struct mm_task *prev, *next; /* the live-task list, creation order */
};

struct task_table {
    mm_layout layout;
    uint64_t task_size_max;
    overcommit *oc;
    idmap pids; /* pid -> mm_task* */
    struct mm_task *head, *tail;
    size_t nr_live;
    uint32_t next_object;   /* shmem / anonymous hugetlb object ids */
    uint32_t next_anon_vma; /* anon_vma ids */
    uint64_t prio_seq;
    mm_range *ranges;
    size_t nr_ranges, cap_ranges;
    /* aggregates for the gauges */
    uint64_t nr_vmas, total_vm;
    /* counters */
    uint64_t c_mmap, c_mmap_failed, c_munmap, c_mprotect, c_brk, c_madvise, c_fork, c_exit;
    uint64_t c_merges, c_splits, c_stack_growths, c_maperr, c_accerr;
    uint64_t c_mmap_refused, c_brk_refused, c_stack_refused, c_fork_refused;
};

#define N(mm, i) ((mm)->n[(i)])

/* ------------------------------------------------------------------------------------------ */
/* the treap                                                                                    */

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static void pull(struct mm_struct *mm, uint32_t t)
{
    struct vma_node *x = &N(mm, t);
    uint64_t gap = 0;
    x->sub_first = x->start;
    x->sub_last = x->end;
    if (x->left) {
        const struct vma_node *l = &N(mm, x->left);
        x->sub_first = l->sub_first;
        gap = max_u64(l->sub_gap, x->start - l->sub_last);
    }
    if (x->right) {
        const struct vma_node *r = &N(mm, x->right);
        x->sub_last = r->sub_last;
        gap = max_u64(gap, max_u64(r->sub_gap, r->sub_first - x->end));
    }
    x->sub_gap = gap;
}

/* l: the nodes starting below key; r: the others */
static void tsplit(struct mm_struct *mm, uint32_t t, uint64_t key, uint32_t *l, uint32_t *r)
{
    if (!t) {
        *l = *r = NIL;
        return;
    }
    if (N(mm, t).start < key) {
        uint32_t rl, rr;
        tsplit(mm, N(mm, t).right, key, &rl, &rr);
        N(mm, t).right = rl;
        *l = t;
        *r = rr;
    } else {
        uint32_t ll, lr;
        tsplit(mm, N(mm, t).left, key, &ll, &lr);
        N(mm, t).left = lr;
        *l = ll;
        *r = t;
    }
    pull(mm, t);
}

static uint32_t tmerge(struct mm_struct *mm, uint32_t a, uint32_t b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (N(mm, a).prio > N(mm, b).prio) {
        uint32_t m = tmerge(mm, N(mm, a).right, b);
        N(mm, a).right = m;
        pull(mm, a);
        return a;
    }
    uint32_t m = tmerge(mm, a, N(mm, b).left);
    N(mm, b).left = m;
    pull(mm, b);
    return b;
}

/* Recomputes the augmentation on the path to the node starting at key, after its fields changed
 * in place (its order among the others never changes: VMAs never overlap). */
static void fix_path(struct mm_struct *mm, uint32_t t, uint64_t key)
{
    if (!t)
        return;
    if (key < N(mm, t).start)
        fix_path(mm, N(mm, t).left, key);
    else if (key > N(mm, t).start)
        fix_path(mm, N(mm, t).right, key);
    pull(mm, t);
}

static uint32_t node_alloc(struct mm_struct *mm)
{
    if (mm->free_head) {
        uint32_t i = mm->free_head;
        mm->free_head = N(mm, i).left;
        return i;
    }
    if (mm->used == mm->cap) {
        mm->cap = mm->cap ? mm->cap * 2 : 16;
        mm->n = xrealloc(mm->n, (size_t)mm->cap * sizeof *mm->n);
    }
    return mm->used++;
}

static void node_release(struct mm_struct *mm, uint32_t i)
{
    memset(&N(mm, i), 0, sizeof N(mm, i));
    N(mm, i).left = mm->free_head;
    mm->free_head = i;
}

static void tinsert(struct mm_struct *mm, uint32_t i)
{
    struct task_table *tt = mm->tt;
    N(mm, i).left = N(mm, i).right = NIL;
    N(mm, i).prio = (uint32_t)mix64(++tt->prio_seq);
    pull(mm, i);
    uint32_t l, r;
    tsplit(mm, mm->root, N(mm, i).start, &l, &r);
    mm->root = tmerge(mm, tmerge(mm, l, i), r);
}

static void terase(struct mm_struct *mm, uint32_t i)
{
    uint64_t key = N(mm, i).start;
    uint32_t l, m, r;
    tsplit(mm, mm->root, key, &l, &m);
    tsplit(mm, m, key + 1, &m, &r);
    mm->root = tmerge(mm, l, r);
}

/* first VMA ending above addr (find_vma) */
static uint32_t vfind(const struct mm_struct *mm, uint64_t addr)
{
    uint32_t t = mm->root, best = NIL;
    while (t) {
        if (N(mm, t).end > addr) {
            best = t;
            t = N(mm, t).left;
        } else {
            t = N(mm, t).right;
        }
    }
    return best;
}

/* last VMA starting below addr */
static uint32_t vbefore(const struct mm_struct *mm, uint64_t addr)
{
    uint32_t t = mm->root, best = NIL;
    while (t) {
        if (N(mm, t).start < addr) {
            best = t;
            t = N(mm, t).right;
        } else {
            t = N(mm, t).left;
        }
    }
    return best;
}

static uint32_t vnext(const struct mm_struct *mm, uint32_t i)
{
    return vfind(mm, N(mm, i).end);
}

static uint32_t vprev(const struct mm_struct *mm, uint32_t i)
{
    return vbefore(mm, N(mm, i).start);
}

/* The highest (top_down) or lowest free range of at least len bytes inside [lo, hi), among the
 * gaps between the VMAs of subtree t, which lie between lo_b (the end of the VMA before the
 * subtree, or 0) and hi_b (the start of the one after it, or the top of the address space).
 * This is mas_empty_area_rev / mas_empty_area. On success *gap_lo, *gap_hi is the free range
 * clipped to [lo, hi). */
static bool gap_search(const struct mm_struct *mm, uint32_t t, uint64_t lo_b, uint64_t hi_b,
                       uint64_t lo, uint64_t hi, uint64_t len, bool top_down, uint64_t *gap_lo,
                       uint64_t *gap_hi)
{
    if (hi_b <= lo || lo_b >= hi || hi_b - lo_b < len)
        return false;
    if (!t) {
        uint64_t a = max_u64(lo_b, lo), b = min_u64(hi_b, hi);
        if (b <= a || b - a < len)
            return false;
        *gap_lo = a;
        *gap_hi = b;
        return true;
    }
    const struct vma_node *x = &N(mm, t);
    /* the largest gap anywhere in this region */
    uint64_t best = max_u64(x->sub_gap, max_u64(x->sub_first - lo_b, hi_b - x->sub_last));
    if (best < len)
        return false;
    if (top_down)
        return gap_search(mm, x->right, x->end, hi_b, lo, hi, len, true, gap_lo, gap_hi) ||
               gap_search(mm, x->left, lo_b, x->start, lo, hi, len, true, gap_lo, gap_hi);
    return gap_search(mm, x->left, lo_b, x->start, lo, hi, len, false, gap_lo, gap_hi) ||
           gap_search(mm, x->right, x->end, hi_b, lo, hi, len, false, gap_lo, gap_hi);
}

static void vma_to_public(const struct vma_node *x, mm_vma *out)
{
    out->start = x->start;
    out->end = x->end;
    out->flags = x->flags;
    out->pgoff = x->pgoff;
    out->file = x->file;
    out->anon_vma = x->anon_vma;
    out->kind = x->kind;
    out->anon_vma_chain = x->avc;
    out->hpage_shift = x->hpage_shift;
}

/* ------------------------------------------------------------------------------------------ */
/* results and counters                                                                         */

static void res_begin(struct task_table *tt, mm_result *res)
{
    tt->nr_ranges = 0;
    if (res) {
        memset(res, 0, sizeof *res);
        res->ranges = tt->ranges;
    }
}

static void res_end(struct task_table *tt, mm_result *res, int error)
{
    if (res) {
        res->error = error;
        res->nr_ranges = tt->nr_ranges;
        res->ranges = tt->ranges;
    }
}

static void res_add(struct task_table *tt, enum mm_range_op op, const struct vma_node *x,
                    uint64_t start, uint64_t end, uint64_t old_flags, uint64_t new_flags)
{
    if (tt->nr_ranges == tt->cap_ranges) {
        tt->cap_ranges = tt->cap_ranges ? tt->cap_ranges * 2 : 64;
        tt->ranges = xrealloc(tt->ranges, tt->cap_ranges * sizeof *tt->ranges);
    }
    mm_range *r = &tt->ranges[tt->nr_ranges++];
    r->start = start;
    r->end = end;
    r->old_flags = old_flags;
    r->new_flags = new_flags;
    r->pgoff = x->pgoff + ((start - x->start) >> PAGE_SHIFT);
    r->file = x->file;
    r->anon_vma = x->anon_vma;
    r->op = (uint8_t)op;
    r->kind = x->kind;
}

static uint64_t vma_pages(const struct vma_node *x)
{
    return (x->end - x->start) >> PAGE_SHIFT;
}

/* vm_stat_account(): total_vm and its exec / stack / data split */
static void vm_stat_account(struct mm_struct *mm, uint64_t flags, int64_t npages)
{
    mm->total_vm += (uint64_t)npages;
    mm->tt->total_vm += (uint64_t)npages;
    if (mm->total_vm > mm->hiwater_vm)
        mm->hiwater_vm = mm->total_vm;
    if ((flags & (VM_WRITE | VM_GROWSDOWN | VM_EXEC)) == VM_EXEC) /* is_exec_mapping */
        mm->exec_vm += (uint64_t)npages;
    else if ((flags & VM_GROWSDOWN) == VM_GROWSDOWN) /* is_stack_mapping */
        mm->stack_vm += (uint64_t)npages;
    else if ((flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) == VM_WRITE) /* is_data_mapping */
        mm->data_vm += (uint64_t)npages;
}

static bool task_is_root(const struct mm_struct *mm)
{
    return mm->owner && mm->owner->cap_sys_admin;
}

/* security_vm_enough_memory_mm() */
static int vm_enough_memory_mm(struct mm_struct *mm, int64_t pages)
{
    if (!mm->tt->oc || pages <= 0)
        return 0;
    return __vm_enough_memory(mm->tt->oc, pages, task_is_root(mm), &mm->total_vm);
}

static void unacct(struct mm_struct *mm, int64_t pages)
{
    if (mm->tt->oc && pages)
        vm_unacct_memory(mm->tt->oc, pages);
}

/* ------------------------------------------------------------------------------------------ */
/* VMA creation, split, merge                                                                   */

static void map_count_add(struct mm_struct *mm, int d)
{
    mm->map_count += (unsigned)d;
    mm->tt->nr_vmas += (uint64_t)(int64_t)d;
}

static uint32_t vma_new(struct mm_struct *mm, uint64_t start, uint64_t end, uint64_t flags,
                        uint8_t kind, uint32_t file, uint64_t pgoff, uint8_t hpage_shift)
{
    uint32_t i = node_alloc(mm);
    struct vma_node *x = &N(mm, i);
    memset(x, 0, sizeof *x);
    x->start = start;
    x->end = end;
    x->flags = flags;
    x->kind = kind;
    x->file = file;
    x->pgoff = pgoff;
    x->hpage_shift = hpage_shift;
    tinsert(mm, i);
    map_count_add(mm, 1);
    return i;
}

static void vma_remove(struct mm_struct *mm, uint32_t i)
{
    terase(mm, i);
    node_release(mm, i);
    map_count_add(mm, -1);
}

static void vma_set_range(struct mm_struct *mm, uint32_t i, uint64_t start, uint64_t end,
                          uint64_t pgoff)
{
    N(mm, i).start = start;
    N(mm, i).end = end;
    N(mm, i).pgoff = pgoff;
}

/* __split_vma(): splits VMA i at addr. The new node takes the lower part when new_below, else
 * the upper part; returns it through *new_out. Hugetlb VMAs split only on their page size
 * (hugetlb_vm_op_split). */
static int __split_vma(struct mm_struct *mm, uint32_t i, uint64_t addr, bool new_below,
                       uint32_t *new_out)
{
    if (N(mm, i).hpage_shift && (addr & ((1ull << N(mm, i).hpage_shift) - 1)))
        return -EINVAL;
    struct vma_node old = N(mm, i);
    uint32_t k;
    if (new_below) {
        vma_set_range(mm, i, addr, old.end, old.pgoff + ((addr - old.start) >> PAGE_SHIFT));
        fix_path(mm, mm->root, addr);
        k = vma_new(mm, old.start, addr, old.flags, old.kind, old.file, old.pgoff,
                    old.hpage_shift);
    } else {
        vma_set_range(mm, i, old.start, addr, old.pgoff);
        fix_path(mm, mm->root, old.start);
        k = vma_new(mm, addr, old.end, old.flags, old.kind, old.file,
                    old.pgoff + ((addr - old.start) >> PAGE_SHIFT), old.hpage_shift);
    }
    /* anon_vma_clone(): the new VMA shares the anon_vma and its whole chain */
    N(mm, k).anon_vma = old.anon_vma;
    N(mm, k).avc = old.avc;
    mm->tt->c_splits++;
    if (new_out)
        *new_out = k;
    return 0;
}

/* split_vma(): __split_vma after the vm.max_map_count check */
static int split_vma(struct mm_struct *mm, uint32_t i, uint64_t addr, bool new_below,
                     uint32_t *new_out)
{
    if (mm->map_count >= mm->tt->layout.max_map_count)
        return -ENOMEM;
    return __split_vma(mm, i, addr, new_below, new_out);
}

/* What a merge compares (struct vma_merge_struct). */
struct vmg {
    uint64_t start, end, flags, pgoff;
    uint8_t kind;
    uint32_t file;
    uint32_t anon_vma;
};

/* is_mergeable_vma(): same flags but VM_SOFTDIRTY, same backing object */
static bool is_mergeable_vma(const struct vma_node *v, const struct vmg *g)
{
    if ((v->flags ^ g->flags) & ~VM_SOFTDIRTY)
        return false;
    if (v->kind != g->kind)
        return false;
    return g->kind == MM_VMA_ANON || v->file == g->file;
}

/* is_mergeable_anon_vma(): a VMA without an anon_vma merges with one whose chain is singular (not
 * a VMA inherited through fork); two with anon_vmas only when they are the same. chain_of is the
 * VMA whose anon_vma_chain is tested (avc_of < 0: none). */
static bool is_mergeable_anon_vma(uint32_t a1, uint32_t a2, int avc_of)
{
    if ((!a1 || !a2) && (avc_of < 0 || avc_of == 1))
        return true;
    return a1 == a2;
}

/* can_vma_merge_before(): g merges in front of next */
static bool can_vma_merge_before(const struct vma_node *next, const struct vmg *g)
{
    uint64_t pglen = (g->end - g->start) >> PAGE_SHIFT;
    return is_mergeable_vma(next, g) &&
           is_mergeable_anon_vma(g->anon_vma, next->anon_vma, next->avc) &&
           next->pgoff == g->pgoff + pglen;
}

/* can_vma_merge_after(): g merges behind prev */
static bool can_vma_merge_after(const struct vma_node *prev, const struct vmg *g)
{
    return is_mergeable_vma(prev, g) &&
           is_mergeable_anon_vma(g->anon_vma, prev->anon_vma, prev->avc) &&
           prev->pgoff + vma_pages(prev) == g->pgoff;
}

/* dup_anon_vma(): the VMA that grows takes the anon_vma of the one that goes */
static void dup_anon_vma(struct mm_struct *mm, uint32_t dst, uint32_t src)
{
    if (N(mm, src).anon_vma && !N(mm, dst).anon_vma) {
        N(mm, dst).anon_vma = N(mm, src).anon_vma;
        N(mm, dst).avc = N(mm, src).avc;
    }
}

/* vma_merge_new_range(): a new area [g->start, g->end) between prev and next (either may be NIL)
 * joins the neighbours it is compatible with. Returns the VMA that now covers it, or NIL. */
static uint32_t vma_merge_new_range(struct mm_struct *mm, uint32_t prev, uint32_t next,
                                    const struct vmg *g)
{
    if (!prev && !next)
        return NIL;
    bool left = prev && N(mm, prev).end == g->start && can_vma_merge_after(&N(mm, prev), g);
    bool right = next && g->end == N(mm, next).start && can_vma_merge_before(&N(mm, next), g);
    if (right && left) /* are_anon_vmas_compatible(prev, next) */
        right = is_mergeable_anon_vma(N(mm, prev).anon_vma, N(mm, next).anon_vma, -1);
    if (!left && !right)
        return NIL;
    mm->tt->c_merges++;
    if (left && right) { /* prev grows over the new range and next; next goes */
        uint64_t end = N(mm, next).end;
        dup_anon_vma(mm, prev, next);
        vma_remove(mm, next);
        N(mm, prev).end = end;
        fix_path(mm, mm->root, N(mm, prev).start);
        return prev;
    }
    if (left) {
        N(mm, prev).end = g->end;
        fix_path(mm, mm->root, N(mm, prev).start);
        return prev;
    }
    uint64_t pglen = (g->end - g->start) >> PAGE_SHIFT;
    vma_set_range(mm, next, g->start, N(mm, next).end, N(mm, next).pgoff - pglen);
    fix_path(mm, mm->root, g->start);
    return next;
}

/* vma_merge_existing_range(): [start, end) of VMA i (touching at least one of its edges) gets
 * new flags; if a neighbour has them already the range joins it. Returns the VMA now holding the
 * range, or NIL when no merge was possible. */
static uint32_t vma_merge_existing_range(struct mm_struct *mm, uint32_t i, uint64_t start,
                                         uint64_t end, uint64_t newflags)
{
    struct vma_node v = N(mm, i);
    bool left_side = start == v.start, right_side = end == v.end;
    if (!left_side && !right_side)
        return NIL;
    struct vmg g = {start, end, newflags, v.pgoff + ((start - v.start) >> PAGE_SHIFT),
                    v.kind, v.file, v.anon_vma};
    uint32_t prev = left_side ? vprev(mm, i) : NIL;
    uint32_t next = right_side ? vnext(mm, i) : NIL;
    bool merge_left = prev && N(mm, prev).end == start && can_vma_merge_after(&N(mm, prev), &g);
    bool merge_right = next && end == N(mm, next).start && can_vma_merge_before(&N(mm, next), &g);
    if (merge_left && merge_right)
        merge_right = is_mergeable_anon_vma(N(mm, prev).anon_vma, N(mm, next).anon_vma, -1);
    if (!merge_left && !merge_right)
        return NIL;
    mm->tt->c_merges++;
    if (merge_left && merge_right) {
        /* prev grows over vma and next, which both go */
        uint64_t nend = N(mm, next).end;
        dup_anon_vma(mm, prev, N(mm, next).anon_vma ? next : i);
        vma_remove(mm, next);
        vma_remove(mm, i);
        N(mm, prev).end = nend;
        fix_path(mm, mm->root, N(mm, prev).start);
        return prev;
    }
    if (merge_left) {
        /* prev grows to end; vma shrinks from the left or goes */
        dup_anon_vma(mm, prev, i);
        if (right_side) {
            vma_remove(mm, i);
        } else {
            vma_set_range(mm, i, end, v.end, v.pgoff + ((end - v.start) >> PAGE_SHIFT));
            fix_path(mm, mm->root, end);
        }
        N(mm, prev).end = end;
        fix_path(mm, mm->root, N(mm, prev).start);
        return prev;
    }
    /* merge_right: next grows down to start; vma shrinks from the right or goes */
    uint64_t pglen = (end - start) >> PAGE_SHIFT;
    dup_anon_vma(mm, next, i);
    if (left_side) {
        vma_remove(mm, i);
    } else {
        N(mm, i).end = start;
        fix_path(mm, mm->root, v.start);
    }
    vma_set_range(mm, next, start, N(mm, next).end, N(mm, next).pgoff - pglen);
    fix_path(mm, mm->root, start);
    return next;
}

/* vma_modify() + vma_modify_flags(): merge when a neighbour matches, else split off the parts of
 * VMA i outside [start, end); then the VMA holding exactly the range (or more, when merged) gets
 * newflags. Returns it through *out. */
static int vma_modify_flags(struct mm_struct *mm, uint32_t i, uint64_t start, uint64_t end,
                            uint64_t newflags, uint32_t *out)
{
    uint32_t m = vma_merge_existing_range(mm, i, start, end, newflags);
    if (m) {
        N(mm, m).flags = newflags;
        *out = m;
        return 0;
    }
    if (N(mm, i).start < start) {
        int err = split_vma(mm, i, start, true, NULL);
        if (err)
            return err;
    }
    if (N(mm, i).end > end) {
        int err = split_vma(mm, i, end, false, NULL);
        if (err)
            return err;
    }
    N(mm, i).flags = newflags;
    *out = i;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* unmapping                                                                                    */

/* Pages, and pages carrying VM_ACCOUNT, of the VMAs intersecting [start, end) (what
 * vms_gather_munmap_vmas counts in nr_pages and nr_accounted). */
static void range_pages(const struct mm_struct *mm, uint64_t start, uint64_t end,
                        uint64_t *nr_pages, uint64_t *nr_accounted)
{
    *nr_pages = *nr_accounted = 0;
    for (uint32_t v = vfind(mm, start); v && N(mm, v).start < end; v = vnext(mm, v)) {
        uint64_t n = (min_u64(N(mm, v).end, end) - max_u64(N(mm, v).start, start)) >> PAGE_SHIFT;
        *nr_pages += n;
        if (N(mm, v).flags & VM_ACCOUNT)
            *nr_accounted += n;
    }
}

/* do_vmi_munmap() / do_vmi_align_munmap(): vms_gather_munmap_vmas splits the VMAs at start and
 * end, vms_complete_munmap_vmas takes them out, lowers map_count, total_vm and its split and
 * locked_vm, and releases the VM_ACCOUNT pages (unless keep_accounted: mmap_region replacing a
 * mapping hands them to the new one). Each piece removed becomes an UNMAP range. */
static int munmap_range(struct mm_struct *mm, uint64_t start, uint64_t end, bool keep_accounted,
                        mm_result *res)
{
    struct task_table *tt = mm->tt;
    uint32_t v = vfind(mm, start);
    if (!v || N(mm, v).start >= end)
        return 0;
    if (start > N(mm, v).start) {
        /* a split in the middle adds a VMA: the map count limit applies */
        if (end < N(mm, v).end && mm->map_count >= tt->layout.max_map_count)
            return -ENOMEM;
        int err = __split_vma(mm, v, start, true, NULL);
        if (err)
            return err;
    }
    uint32_t last = vbefore(mm, end);
    if (N(mm, last).end > end) {
        int err = __split_vma(mm, last, end, false, NULL);
        if (err)
            return err;
    }
    uint64_t nr_accounted = 0;
    for (uint32_t i = vfind(mm, start); i && N(mm, i).start < end;) {
        struct vma_node x = N(mm, i);
        uint32_t next = vnext(mm, i);
        uint64_t pages = vma_pages(&x);
        res_add(tt, MM_RANGE_UNMAP, &x, x.start, x.end, x.flags, 0);
        if (x.flags & VM_ACCOUNT)
            nr_accounted += pages;
        if (x.flags & VM_LOCKED)
            mm->locked_vm -= pages;
        vm_stat_account(mm, x.flags, -(int64_t)pages);
        vma_remove(mm, i);
        i = next;
    }
    if (!keep_accounted && nr_accounted) {
        unacct(mm, (int64_t)nr_accounted);
        res->committed -= (int64_t)nr_accounted;
    }
    /* unmap_region / free_pgtables bounds: the neighbours after the removal */
    uint32_t p = vbefore(mm, start), n = vfind(mm, end);
    res->pt_floor = p ? N(mm, p).end : 0;
    res->pt_ceiling = n ? N(mm, n).start : 0;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* placement                                                                                    */

uint64_t mm_task_size_max(const mm_layout *l)
{
    return l->la57 ? MM_TASK_SIZE_MAX_5L : MM_TASK_SIZE_MAX_4L;
}

/* mmap_base() of arch/x86/mm/mmap.c */
uint64_t mm_mmap_base(uint64_t task_size, uint64_t stack_rlimit, uint64_t stack_guard_gap,
                      uint64_t rnd)
{
    uint64_t gap = stack_rlimit;
    uint64_t pad = stack_guard_gap; /* + stack_maxrandom_size(): 0 without randomisation */
    if (gap + pad > gap)
        gap += pad;
    uint64_t gap_min = 128ull << 20, gap_max = (task_size / 6) * 5;
    if (gap < gap_min)
        gap = gap_min;
    else if (gap > gap_max)
        gap = gap_max;
    return PAGE_ALIGN(task_size - gap - rnd);
}

/* vm_start_gap(): a stack's start less its guard gap */
static uint64_t vm_start_gap(const struct mm_struct *mm, uint32_t v)
{
    uint64_t s = N(mm, v).start;
    if (!(N(mm, v).flags & VM_GROWSDOWN))
        return s;
    uint64_t g = s - mm->tt->layout.stack_guard_gap;
    return g > s ? 0 : g;
}

/* unmapped_area_topdown(): the highest free range of len bytes (plus alignment slack) below
 * high, moved down while it would sit in a stack's guard gap. */
static int unmapped_area_topdown(const struct mm_struct *mm, uint64_t len, uint64_t low,
                                 uint64_t high, uint64_t align_mask, uint64_t align_offset,
                                 uint64_t *out)
{
    uint64_t length = len + align_mask;
    if (length < len)
        return -ENOMEM;
    if (low < mm->tt->layout.mmap_min_addr)
        low = mm->tt->layout.mmap_min_addr;
    for (;;) {
        uint64_t glo, ghi;
        if (!gap_search(mm, mm->root, 0, UINT64_MAX, low, high, length, true, &glo, &ghi))
            return -ENOMEM;
        uint64_t gap = ghi - len;
        gap -= (gap - align_offset) & align_mask;
        uint32_t next = vfind(mm, ghi);
        if (next && (N(mm, next).flags & VM_GROWSDOWN)) {
            if (vm_start_gap(mm, next) < ghi) {
                high = vm_start_gap(mm, next);
                continue;
            }
        } else {
            uint32_t prev = vbefore(mm, glo);
            if (prev && N(mm, prev).end > gap) { /* vm_end_gap: no VM_GROWSUP on x86 */
                high = N(mm, prev).start;
                continue;
            }
        }
        *out = gap;
        return 0;
    }
}

/* unmapped_area(): the lowest free range of len bytes at or above low */
static int unmapped_area(const struct mm_struct *mm, uint64_t len, uint64_t low, uint64_t high,
                         uint64_t align_mask, uint64_t align_offset, uint64_t *out)
{
    uint64_t length = len + align_mask;
    if (length < len)
        return -ENOMEM;
    if (low < mm->tt->layout.mmap_min_addr)
        low = mm->tt->layout.mmap_min_addr;
    for (;;) {
        uint64_t glo, ghi;
        if (!gap_search(mm, mm->root, 0, UINT64_MAX, low, high, length, false, &glo, &ghi))
            return -ENOMEM;
        uint64_t gap = glo;
        gap += (align_offset - gap) & align_mask;
        uint32_t next = vfind(mm, glo);
        if (next && (N(mm, next).flags & VM_GROWSDOWN)) {
            if (vm_start_gap(mm, next) < gap + length - 1) {
                low = N(mm, next).end;
                continue;
            }
        } else {
            uint32_t prev = vbefore(mm, glo + 1);
            if (prev && N(mm, prev).end > gap) {
                low = N(mm, prev).end;
                continue;
            }
        }
        *out = gap;
        return 0;
    }
}

/* mmap_address_hint_valid() (arch/x86/kernel/sys_x86_64.c) */
static bool mmap_address_hint_valid(const struct task_table *tt, uint64_t addr, uint64_t len)
{
    if (tt->task_size_max - len < addr)
        return false;
    return (addr > MM_DEFAULT_MAP_WINDOW) == (addr + len > MM_DEFAULT_MAP_WINDOW);
}

/* arch_get_unmapped_area() (x86, bottom-up) */
static int arch_get_unmapped_area(const struct mm_struct *mm, uint64_t addr, uint64_t len,
                                  uint32_t flags, uint64_t align_mask, uint64_t align_offset,
                                  uint64_t *out)
{
    const struct task_table *tt = mm->tt;
    if (flags & MM_MAP_FIXED) {
        *out = addr;
        return 0;
    }
    uint64_t begin = mm->mmap_legacy_base;
    uint64_t end = addr > MM_DEFAULT_MAP_WINDOW ? tt->task_size_max : MM_DEFAULT_MAP_WINDOW;
    if (len > end)
        return -ENOMEM;
    if (addr) {
        addr = PAGE_ALIGN(addr);
        uint32_t v = vfind(mm, addr);
        if (end - len >= addr && (!v || addr + len <= vm_start_gap(mm, v))) {
            *out = addr;
            return 0;
        }
    }
    return unmapped_area(mm, len, begin, end, align_mask, align_offset, out);
}

/* arch_get_unmapped_area_topdown() (x86): the hint when it fits, else top-down from mmap_base
 * (from mmap_base plus the 56-bit extension for a hint above the 47-bit window), else the
 * bottom-up search. */
static int arch_get_unmapped_area_topdown(const struct mm_struct *mm, uint64_t addr0,
                                          uint64_t len, uint32_t flags, uint64_t align_mask,
                                          uint64_t align_offset, uint64_t *out)
{
    const struct task_table *tt = mm->tt;
    uint64_t addr = addr0;
    if (len > tt->task_size_max)
        return -ENOMEM;
    if (flags & MM_MAP_FIXED) {
        *out = addr;
        return 0;
    }
    if (addr) {
        addr &= PAGE_MASK;
        if (mmap_address_hint_valid(tt, addr, len)) {
            uint32_t v = vfind(mm, addr);
            if (!v || addr + len <= vm_start_gap(mm, v)) {
                *out = addr;
                return 0;
            }
        }
    }
    uint64_t high = mm->mmap_base;
    if (addr > MM_DEFAULT_MAP_WINDOW)
        high += tt->task_size_max - MM_DEFAULT_MAP_WINDOW;
    if (unmapped_area_topdown(mm, len, PAGE_SIZE, high, align_mask, align_offset, out) == 0)
        return 0;
    /* a failed mmap very likely kills the application: fall back to bottom-up */
    return arch_get_unmapped_area(mm, addr0, len, flags, align_mask, align_offset, out);
}

static int mm_get_unmapped_area(const struct mm_struct *mm, uint64_t addr, uint64_t len,
                                uint32_t flags, uint64_t align_mask, uint64_t align_offset,
                                uint64_t *out)
{
    if (mm->tt->layout.legacy_va_layout)
        return arch_get_unmapped_area(mm, addr, len, flags, align_mask, align_offset, out);
    return arch_get_unmapped_area_topdown(mm, addr, len, flags, align_mask, align_offset, out);
}

/* __get_unmapped_area(): the per-kind choice (hugetlb alignment, the THP alignment of large
 * private anonymous mappings) and the final checks. */
static int get_unmapped_area(const struct mm_struct *mm, uint8_t kind, uint64_t addr,
                             uint64_t len, uint64_t pgoff, uint32_t flags, uint8_t hpage_shift,
                             uint64_t *out)
{
    const struct task_table *tt = mm->tt;
    int err;
    uint64_t a = 0;
    if (len > tt->task_size_max)
        return -ENOMEM;
    if (kind == MM_VMA_HUGETLB) {
        /* hugetlb_get_unmapped_area(): whole huge pages, aligned (x86 get_align_mask) */
        uint64_t hsize = 1ull << hpage_shift;
        if (len & (hsize - 1))
            return -EINVAL;
        if (flags & MM_MAP_FIXED) {
            if (addr & (hsize - 1))
                return -EINVAL;
            a = addr;
        } else {
            if (addr)
                addr = (addr + hsize - 1) & ~(hsize - 1);
            err = mm_get_unmapped_area(mm, addr, len, flags, hsize - PAGE_SIZE,
                                       pgoff << PAGE_SHIFT, &a);
            if (err)
                return err;
        }
    } else if (tt->layout.thp_align && kind == MM_VMA_ANON && !addr &&
               !(flags & MM_MAP_FIXED) && (len & (MM_PMD_SIZE - 1)) == 0) {
        /* thp_get_unmapped_area_vmflags() -> __thp_get_unmapped_area(): ask for len + 2 MiB and
         * keep the aligned part (top-down: the upper one when the padded area is aligned) */
        uint64_t len_pad = len + MM_PMD_SIZE, ret;
        if (len_pad > len && mm_get_unmapped_area(mm, 0, len_pad, flags, 0, 0, &ret) == 0) {
            uint64_t off_sub = (0 - ret) & (MM_PMD_SIZE - 1);
            if (!tt->layout.legacy_va_layout && !off_sub)
                a = ret + MM_PMD_SIZE;
            else
                a = ret + off_sub;
        } else {
            err = mm_get_unmapped_area(mm, 0, len, flags, 0, 0, &a);
            if (err)
                return err;
        }
    } else {
        /* anonymous memory has no file offset to align to */
        uint64_t off = kind == MM_VMA_FILE ? pgoff << PAGE_SHIFT : 0;
        err = mm_get_unmapped_area(mm, addr, len, flags, 0, off, &a);
        if (err)
            return err;
    }
    if (a > tt->task_size_max - len)
        return -ENOMEM;
    if (a & ~PAGE_MASK)
        return -EINVAL;
    /* security_mmap_addr() -> cap_mmap_addr(): below mmap_min_addr needs CAP_SYS_RAWIO */
    if (a < tt->layout.mmap_min_addr && !task_is_root(mm))
        return -EPERM;
    *out = a;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* mmap                                                                                         */

/* mmap_region() / __mmap_region() of v6.12: charge what is new (a MAP_FIXED mapping over
 * accounted pages takes their charge over), unmap what the new range covers, join a compatible
 * neighbour or insert a new VMA, account. */
static int mmap_region(struct mm_struct *mm, uint64_t addr, uint64_t len, uint64_t vm_flags,
                       uint8_t kind, uint32_t file, uint64_t pgoff, uint8_t hpage_shift,
                       mm_result *res)
{
    struct task_table *tt = mm->tt;
    uint64_t end = addr + len, pglen = len >> PAGE_SHIFT;
    uint64_t nr_pages, nr_accounted;
    range_pages(mm, addr, end, &nr_pages, &nr_accounted);
    /* may_expand_vm(): RLIMIT_AS and RLIMIT_DATA are unlimited in the model */
    int64_t charged = 0;
    bool accountable = accountable_mapping(vm_flags);
    if (accountable) {
        charged = (int64_t)(pglen - nr_accounted);
        if (charged && vm_enough_memory_mm(mm, charged)) {
            res->overcommit_refused = true;
            tt->c_mmap_refused++;
            return -ENOMEM;
        }
        vm_flags |= VM_ACCOUNT;
    }
    if (nr_pages) {
        int err = munmap_range(mm, addr, end, accountable, res);
        if (err) {
            unacct(mm, charged);
            return err;
        }
    }
    uint32_t prev = vbefore(mm, addr), next = vfind(mm, end);
    struct vmg g = {addr, end, vm_flags, pgoff, kind, file, 0};
    uint32_t v = NIL;
    /* a shared anonymous or hugetlb mapping has an object of its own: nothing to merge with */
    if (kind == MM_VMA_ANON || kind == MM_VMA_FILE)
        v = vma_merge_new_range(mm, prev, next, &g);
    if (!v)
        v = vma_new(mm, addr, end, vm_flags, kind, file, pgoff, hpage_shift);
    vm_stat_account(mm, vm_flags, (int64_t)pglen);
    if (vm_flags & VM_LOCKED) {
        if (kind == MM_VMA_HUGETLB)
            N(mm, v).flags &= ~VM_LOCKED;
        else
            mm->locked_vm += pglen;
    }
    res->committed += charged;
    return 0;
}

/* do_mmap() (with ksys_mmap_pgoff's MAP_HUGETLB set-up and sys_mmap's offset check) */
int do_mmap(mm_struct *mm, uint64_t addr, uint64_t len, uint32_t flags, uint32_t file,
            uint64_t off, mm_result *res)
{
    struct task_table *tt = mm->tt;
    mm_result local;
    if (!res)
        res = &local;
    res_begin(tt, res);
    tt->c_mmap++;
    int err = 0;
    uint32_t prot = flags & (MM_PROT_READ | MM_PROT_WRITE | MM_PROT_EXEC);
    bool shared = flags & MM_MAP_SHARED, private = flags & MM_MAP_PRIVATE;
    bool anon = flags & MM_MAP_ANONYMOUS;
    uint8_t kind = anon ? MM_VMA_ANON : MM_VMA_FILE, hpage_shift = 0;

    if (off & ~PAGE_MASK) {
        err = -EINVAL;
        goto out;
    }
    if (!len || shared == private) { /* MAP_TYPE must be one of the two */
        err = -EINVAL;
        goto out;
    }
    if (flags & MM_MAP_FIXED_NOREPLACE)
        flags |= MM_MAP_FIXED;
    if (!(flags & MM_MAP_FIXED)) { /* round_hint_to_min() */
        addr &= PAGE_MASK;
        if (addr && addr < tt->layout.mmap_min_addr)
            addr = PAGE_ALIGN(tt->layout.mmap_min_addr);
    }
    if (anon && (flags & MM_MAP_HUGETLB)) {
        /* ksys_mmap_pgoff(): a hugetlbfs object of its own, the length in whole huge pages */
        kind = MM_VMA_HUGETLB;
        hpage_shift = (flags & MM_MAP_HUGE_1GB) ? 30 : 21;
        uint64_t hsize = 1ull << hpage_shift;
        if (len > UINT64_MAX - hsize) {
            err = -ENOMEM;
            goto out;
        }
        len = (len + hsize - 1) & ~(hsize - 1);
        file = ++tt->next_object;
        off = 0;
    }
    if (len > UINT64_MAX - PAGE_SIZE) {
        err = -ENOMEM;
        goto out;
    }
    len = PAGE_ALIGN(len);
    uint64_t pgoff = off >> PAGE_SHIFT;
    if (pgoff + (len >> PAGE_SHIFT) < pgoff) {
        err = -EOVERFLOW;
        goto out;
    }
    if (mm->map_count > tt->layout.max_map_count) {
        err = -ENOMEM;
        goto out;
    }

    /* calc_vm_prot_bits() | calc_vm_flag_bits() | VM_MAY* */
    uint64_t vm_flags = (uint64_t)prot | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    if (flags & MM_MAP_GROWSDOWN)
        vm_flags |= VM_GROWSDOWN;
    if (flags & MM_MAP_LOCKED)
        vm_flags |= VM_LOCKED;
    if (flags & MM_MAP_STACK) /* v6.7+: MAP_STACK implies VM_NOHUGEPAGE */
        vm_flags |= VM_NOHUGEPAGE;

    if ((vm_flags & VM_LOCKED) && !task_is_root(mm)) { /* mlock_future_ok() */
        uint64_t locked = (len >> PAGE_SHIFT) + mm->locked_vm;
        if (locked > (tt->layout.memlock_rlimit >> PAGE_SHIFT)) {
            err = -EAGAIN;
            goto out;
        }
    }

    if (kind == MM_VMA_FILE) {
        if (vm_flags & VM_GROWSDOWN) {
            err = -EINVAL;
            goto out;
        }
        if (shared)
            vm_flags |= VM_SHARED | VM_MAYSHARE; /* the file is open for writing */
    } else if (kind == MM_VMA_HUGETLB) {
        vm_flags |= VM_HUGETLB | VM_DONTEXPAND;
        if (shared)
            vm_flags |= VM_SHARED | VM_MAYSHARE;
        pgoff = 0;
    } else if (shared) {
        if (vm_flags & VM_GROWSDOWN) {
            err = -EINVAL;
            goto out;
        }
        /* shmem_zero_setup(): an object of its own */
        vm_flags |= VM_SHARED | VM_MAYSHARE;
        kind = MM_VMA_SHMEM;
        file = ++tt->next_object;
        pgoff = 0;
    }
    if (kind == MM_VMA_ANON)
        file = 0;

    err = get_unmapped_area(mm, kind, addr, len, pgoff, flags, hpage_shift, &addr);
    if (err)
        goto out;
    if (flags & MM_MAP_FIXED_NOREPLACE) {
        uint32_t v = vfind(mm, addr);
        if (v && N(mm, v).start < addr + len) {
            err = -EEXIST;
            goto out;
        }
    }
    if (kind == MM_VMA_ANON)
        pgoff = addr >> PAGE_SHIFT; /* a private anonymous VMA's pgoff is its start page */

    if (flags & MM_MAP_NORESERVE) {
        /* MAP_NORESERVE is ignored in strict overcommit mode */
        if (!tt->oc || overcommit_memory(tt->oc) != OVERCOMMIT_NEVER)
            vm_flags |= VM_NORESERVE;
        if (kind == MM_VMA_HUGETLB)
            vm_flags |= VM_NORESERVE;
    }

    err = mmap_region(mm, addr, len, vm_flags, kind, file, pgoff, hpage_shift, res);
    if (err)
        goto out;
    res->addr = addr;
    res->populate = (vm_flags & VM_LOCKED) || (flags & MM_MAP_POPULATE);
out:
    if (err)
        tt->c_mmap_failed++;
    res_end(tt, res, err);
    return err;
}

/* __vm_munmap() -> do_vmi_munmap() */
int do_munmap(mm_struct *mm, uint64_t start, uint64_t len, mm_result *res)
{
    struct task_table *tt = mm->tt;
    mm_result local;
    if (!res)
        res = &local;
    res_begin(tt, res);
    tt->c_munmap++;
    int err = 0;
    if ((start & ~PAGE_MASK) || start > tt->task_size_max || len > tt->task_size_max - start) {
        err = -EINVAL;
        goto out;
    }
    len = PAGE_ALIGN(len);
    if (!len) {
        err = -EINVAL;
        goto out;
    }
    err = munmap_range(mm, start, start + len, false, res);
out:
    res_end(tt, res, err);
    return err;
}

/* ------------------------------------------------------------------------------------------ */
/* mprotect                                                                                     */

/* mprotect_fixup(): new flags on [start, end) of VMA v. Making a private mapping writable
 * charges it (VM_ACCOUNT); making an anonymous one that never faulted read-only drops the charge.
 * *cont is where the caller continues: the end of the VMA now holding the range. */
static int mprotect_fixup(struct mm_struct *mm, uint32_t v, uint64_t start, uint64_t end,
                          uint64_t newflags, uint64_t *cont, mm_result *res)
{
    struct task_table *tt = mm->tt;
    uint64_t oldflags = N(mm, v).flags;
    if (newflags == oldflags) {
        *cont = N(mm, v).end;
        return 0;
    }
    uint64_t nrpages = (end - start) >> PAGE_SHIFT;
    int64_t charged = 0;
    if (newflags & VM_WRITE) {
        if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
            charged = (int64_t)nrpages;
            if (vm_enough_memory_mm(mm, charged)) {
                res->overcommit_refused = true;
                return -ENOMEM;
            }
            newflags |= VM_ACCOUNT;
        }
    } else if ((oldflags & VM_ACCOUNT) && N(mm, v).kind == MM_VMA_ANON && !N(mm, v).anon_vma) {
        newflags &= ~VM_ACCOUNT;
    }
    uint32_t m;
    int err = vma_modify_flags(mm, v, start, end, newflags, &m);
    if (err) {
        unacct(mm, charged);
        return err;
    }
    res_add(tt, MM_RANGE_PROTECT, &N(mm, m), start, end, oldflags, newflags);
    if ((oldflags & VM_ACCOUNT) && !(newflags & VM_ACCOUNT)) {
        unacct(mm, (int64_t)nrpages);
        res->committed -= (int64_t)nrpages;
    }
    res->committed += charged;
    vm_stat_account(mm, oldflags, -(int64_t)nrpages);
    vm_stat_account(mm, newflags, (int64_t)nrpages);
    *cont = N(mm, m).end;
    return 0;
}

/* do_mprotect_pkey() */
int do_mprotect(mm_struct *mm, uint64_t start, uint64_t len, uint32_t prot, mm_result *res)
{
    struct task_table *tt = mm->tt;
    mm_result local;
    if (!res)
        res = &local;
    res_begin(tt, res);
    tt->c_mprotect++;
    int err = 0;
    const uint32_t prot_sem = 0x8; /* PROT_SEM: accepted, means nothing here */
    if (start & ~PAGE_MASK) {
        err = -EINVAL;
        goto out;
    }
    if (!len)
        goto out;
    if (prot & ~(MM_PROT_READ | MM_PROT_WRITE | MM_PROT_EXEC | prot_sem)) {
        err = -EINVAL;
        goto out;
    }
    len = PAGE_ALIGN(len);
    uint64_t end = start + len;
    if (end <= start) {
        err = -ENOMEM;
        goto out;
    }
    uint64_t reqflags = prot & (MM_PROT_READ | MM_PROT_WRITE | MM_PROT_EXEC); /* same bits */
    uint32_t v = vfind(mm, start);
    err = -ENOMEM;
    if (!v || N(mm, v).start >= end || N(mm, v).start > start)
        goto out;
    err = 0;
    uint64_t nstart = start, tmp = N(mm, v).start;
    while (v && N(mm, v).start < end) {
        if (N(mm, v).start != tmp) {
            err = -ENOMEM;
            break;
        }
        uint64_t newflags = reqflags | (N(mm, v).flags & ~VM_ACCESS_FLAGS);
        /* the new protection must be allowed by VM_MAY* */
        if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) {
            err = -EACCES;
            break;
        }
        tmp = min_u64(N(mm, v).end, end);
        err = mprotect_fixup(mm, v, nstart, tmp, newflags, &tmp, res);
        if (err)
            break;
        nstart = tmp;
        v = vfind(mm, tmp);
    }
    if (!err && tmp < end)
        err = -ENOMEM;
out:
    res_end(tt, res, err);
    return err;
}

/* ------------------------------------------------------------------------------------------ */
/* brk                                                                                          */

/* do_brk_flags(): grow the heap by [addr, addr + len): extend vma (the VMA ending at addr, when
 * compatible) or make a new anonymous VMA; charged to Committed_AS. */
static int do_brk_flags(struct mm_struct *mm, uint32_t vma, uint64_t addr, uint64_t len,
                        mm_result *res)
{
    struct task_table *tt = mm->tt;
    /* VM_DATA_DEFAULT_FLAGS (x86: VM_DATA_FLAGS_TSK_EXEC without READ_IMPLIES_EXEC) | VM_ACCOUNT */
    uint64_t flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
    uint64_t pages = len >> PAGE_SHIFT;
    if (mm->map_count > tt->layout.max_map_count)
        return -ENOMEM;
    if (vm_enough_memory_mm(mm, (int64_t)pages)) {
        res->overcommit_refused = true;
        tt->c_brk_refused++;
        return -ENOMEM;
    }
    struct vmg g = {addr, addr + len, flags, addr >> PAGE_SHIFT, MM_VMA_ANON, 0, 0};
    /* VMG_FLAG_JUST_EXPAND: only the VMA below is considered */
    uint32_t v = NIL;
    if (vma && N(mm, vma).end == addr)
        v = vma_merge_new_range(mm, vma, NIL, &g);
    if (!v)
        vma_new(mm, addr, addr + len, flags, MM_VMA_ANON, 0, addr >> PAGE_SHIFT, 0);
    vm_stat_account(mm, flags, (int64_t)pages);
    res->committed += (int64_t)pages;
    return 0;
}

/* SYSCALL_DEFINE1(brk) */
int sys_brk(mm_struct *mm, uint64_t brk, mm_result *res)
{
    struct task_table *tt = mm->tt;
    mm_result local;
    if (!res)
        res = &local;
    res_begin(tt, res);
    tt->c_brk++;
    int err = 0;
    uint64_t origbrk = mm->brk;
    if (brk < mm->start_brk) {
        err = -EINVAL;
        goto out;
    }
    if (brk > tt->task_size_max) {
        err = -ENOMEM;
        goto out;
    }
    uint64_t newbrk = PAGE_ALIGN(brk), oldbrk = PAGE_ALIGN(mm->brk);
    if (oldbrk == newbrk) {
        mm->brk = brk;
        goto out;
    }
    if (brk <= mm->brk) {
        /* always allow shrinking brk, if the area there is the heap's */
        uint32_t v = vfind(mm, newbrk);
        if (!v || N(mm, v).start >= oldbrk) {
            err = -ENOMEM;
            goto out;
        }
        mm->brk = brk;
        err = munmap_range(mm, newbrk, oldbrk, false, res);
        if (err)
            mm->brk = origbrk;
        goto out;
    }
    /* check against existing mappings: one page and a stack's guard gap must stay free */
    uint32_t next = vfind(mm, oldbrk);
    if (next && N(mm, next).start < newbrk + PAGE_SIZE + tt->layout.stack_guard_gap &&
        newbrk + PAGE_SIZE > vm_start_gap(mm, next)) {
        err = -ENOMEM;
        goto out;
    }
    /* vma_prev_limit(&vmi, mm->start_brk): the VMA below oldbrk, if it reaches above start_brk */
    uint32_t brkvma = vbefore(mm, oldbrk);
    if (brkvma && N(mm, brkvma).end <= mm->start_brk)
        brkvma = NIL;
    err = do_brk_flags(mm, brkvma, oldbrk, newbrk - oldbrk, res);
    if (!err)
        mm->brk = brk;
out:
    res->addr = mm->brk;
    res_end(tt, res, err);
    return err;
}

/* ------------------------------------------------------------------------------------------ */
/* madvise                                                                                      */

/* madvise_vma_behavior() for one VMA: *cont is where madvise_walk_vmas goes on. */
static int madvise_vma(struct mm_struct *mm, uint32_t v, uint64_t start, uint64_t end,
                       uint32_t advice, uint64_t *cont)
{
    struct task_table *tt = mm->tt;
    struct vma_node x = N(mm, v);
    *cont = x.end;
    if (advice == MM_MADV_DONTNEED || advice == MM_MADV_FREE) {
        /* madvise_dontneed_free_valid_vma() */
        if (x.flags & VM_HUGETLB) {
            uint64_t hsize = 1ull << x.hpage_shift;
            if (advice != MM_MADV_DONTNEED || (start & (hsize - 1)))
                return -EINVAL;
            end &= ~(hsize - 1); /* whole huge pages only, rounded down */
        } else if (x.flags & VM_LOCKED) {
            return -EINVAL;
        }
        if (advice == MM_MADV_FREE && x.kind != MM_VMA_ANON) /* madvise_free_single_vma() */
            return -EINVAL;
        if (end > start)
            res_add(tt, advice == MM_MADV_DONTNEED ? MM_RANGE_DONTNEED : MM_RANGE_FREE, &x, start,
                    end, x.flags, x.flags);
        return 0;
    }
    /* hugepage_madvise() then madvise_update_vma() */
    uint64_t newflags = x.flags;
    if (advice == MM_MADV_HUGEPAGE) {
        newflags &= ~VM_NOHUGEPAGE;
        newflags |= VM_HUGEPAGE;
    } else {
        newflags &= ~VM_HUGEPAGE;
        newflags |= VM_NOHUGEPAGE;
    }
    if (newflags == x.flags)
        return 0;
    uint32_t m;
    int err = vma_modify_flags(mm, v, start, end, newflags, &m);
    if (err)
        return err;
    res_add(tt, MM_RANGE_FLAGS, &N(mm, m), start, end, x.flags, newflags);
    *cont = N(mm, m).end;
    return 0;
}

/* do_madvise() and madvise_walk_vmas(): holes in the range give -ENOMEM after the VMAs around
 * them were advised, as Linux. */
int do_madvise(mm_struct *mm, uint64_t start, uint64_t len_in, uint32_t advice, mm_result *res)
{
    struct task_table *tt = mm->tt;
    mm_result local;
    if (!res)
        res = &local;
    res_begin(tt, res);
    tt->c_madvise++;
    int err = 0;
    if (advice != MM_MADV_DONTNEED && advice != MM_MADV_FREE && advice != MM_MADV_HUGEPAGE &&
        advice != MM_MADV_NOHUGEPAGE) {
        err = -EINVAL;
        goto out;
    }
    if (start & ~PAGE_MASK) {
        err = -EINVAL;
        goto out;
    }
    uint64_t len = PAGE_ALIGN(len_in);
    if (len_in && !len) {
        err = -EINVAL;
        goto out;
    }
    uint64_t end = start + len;
    if (end < start) {
        err = -EINVAL;
        goto out;
    }
    if (end == start)
        goto out;
    int unmapped_error = 0;
    uint32_t v = vfind(mm, start);
    for (;;) {
        if (!v) {
            err = -ENOMEM;
            goto out;
        }
        if (start < N(mm, v).start) {
            unmapped_error = -ENOMEM;
            start = N(mm, v).start;
            if (start >= end)
                break;
        }
        uint64_t tmp = min_u64(N(mm, v).end, end), cont;
        err = madvise_vma(mm, v, start, tmp, advice, &cont);
        if (err)
            goto out;
        start = max_u64(tmp, cont);
        if (start >= end)
            break;
        v = vfind(mm, start);
    }
    err = unmapped_error;
out:
    res_end(tt, res, err);
    return err;
}

/* ------------------------------------------------------------------------------------------ */
/* address spaces and processes                                                                 */

static struct mm_struct *mm_alloc(struct task_table *tt, struct mm_task *owner)
{
    struct mm_struct *mm = xcalloc(1, sizeof *mm);
    mm->tt = tt;
    mm->owner = owner;
    mm->used = 1; /* node 0 is nil */
    mm->cap = 16;
    mm->n = xcalloc(mm->cap, sizeof *mm->n);
    return mm;
}

static void mm_free(struct mm_struct *mm)
{
    if (!mm)
        return;
    mm->tt->nr_vmas -= mm->map_count;
    mm->tt->total_vm -= mm->total_vm;
    free(mm->n);
    free(mm);
}

static void list_append(struct task_table *tt, struct mm_task *t)
{
    t->prev = tt->tail;
    t->next = NULL;
    if (tt->tail)
        tt->tail->next = t;
    else
        tt->head = t;
    tt->tail = t;
    tt->nr_live++;
}

static void list_unlink(struct task_table *tt, struct mm_task *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        tt->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        tt->tail = t->prev;
    t->prev = t->next = NULL;
    tt->nr_live--;
}

/* A task struct for pid: a new one, or the exited one reused. NULL when pid is still live. */
static struct mm_task *task_slot(struct task_table *tt, uint32_t pid)
{
    uint64_t p;
    struct mm_task *t;
    if (idmap_get(&tt->pids, pid, &p)) {
        t = (struct mm_task *)(uintptr_t)p;
        if (t->state != TASK_EXITED)
            return NULL;
    } else {
        t = xcalloc(1, sizeof *t);
        idmap_put(&tt->pids, pid, (uint64_t)(uintptr_t)t);
    }
    memset(t, 0, sizeof *t);
    t->pid = pid;
    t->state = TASK_EXITED; /* until it gets an mm */
    snprintf(t->comm, sizeof t->comm, "task");
    return t;
}

static void mm_init_layout(struct task_table *tt, struct mm_struct *mm)
{
    const mm_layout *l = &tt->layout;
    mm->mmap_base = l->mmap_base;
    /* mmap_legacy_base: TASK_UNMAPPED_BASE = PAGE_ALIGN(task_size / 3) */
    mm->mmap_legacy_base = PAGE_ALIGN(MM_DEFAULT_MAP_WINDOW / 3);
    mm->start_brk = mm->brk = l->start_brk;
}

/* What exec leaves (__bprm_mm_init, setup_arg_pages): the stack VMA and an empty heap. */
int task_create(task_table *tt, uint32_t pid, mm_result *res)
{
    mm_result local;
    if (!res)
        res = &local;
    res_begin(tt, res);
    struct mm_task *t = task_slot(tt, pid);
    if (!t) {
        res_end(tt, res, -EEXIST);
        return -EEXIST;
    }
    struct mm_struct *mm = mm_alloc(tt, t);
    mm_init_layout(tt, mm);
    const mm_layout *l = &tt->layout;
    uint64_t top = l->stack_top, pages = l->stack_init_pages;
    /* VM_STACK_FLAGS: VM_GROWSDOWN | VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT */
    uint64_t flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_GROWSDOWN |
                     VM_ACCOUNT;
    if (vm_enough_memory_mm(mm, (int64_t)pages)) {
        res->overcommit_refused = true;
        mm_free(mm);
        res_end(tt, res, -ENOMEM);
        return -ENOMEM;
    }
    uint64_t start = top - pages * PAGE_SIZE;
    vma_new(mm, start, top, flags, MM_VMA_ANON, 0, start >> PAGE_SHIFT, 0);
    vm_stat_account(mm, flags, (int64_t)pages);
    mm->start_stack = top - PAGE_SIZE;
    res->committed = (int64_t)pages;
    t->mm = mm;
    t->state = TASK_ALIVE;
    list_append(tt, t);
    res_end(tt, res, 0);
    return 0;
}

/* exit_mmap(): every VMA goes; the VM_ACCOUNT pages are released. */
static void exit_mmap(struct mm_struct *mm, mm_result *res)
{
    struct task_table *tt = mm->tt;
    uint64_t nr_accounted = 0;
    for (uint32_t v = vfind(mm, 0); v; v = vnext(mm, v)) {
        const struct vma_node *x = &N(mm, v);
        res_add(tt, MM_RANGE_UNMAP, x, x->start, x->end, x->flags, 0);
        if (x->flags & VM_ACCOUNT)
            nr_accounted += vma_pages(x);
    }
    unacct(mm, (int64_t)nr_accounted);
    res->committed = -(int64_t)nr_accounted;
    res->pt_floor = 0;   /* FIRST_USER_ADDRESS */
    res->pt_ceiling = 0; /* USER_PGTABLES_CEILING */
}

int task_exit(task_table *tt, uint32_t pid, mm_result *res)
{
    mm_result local;
    if (!res)
        res = &local;
    res_begin(tt, res);
    struct mm_task *t = task_find(tt, pid);
    if (!t || !t->mm) {
        res_end(tt, res, -ESRCH);
        return -ESRCH;
    }
    tt->c_exit++;
    exit_mmap(t->mm, res);
    mm_free(t->mm);
    t->mm = NULL;
    t->state = TASK_EXITED;
    list_unlink(tt, t);
    res_end(tt, res, 0);
    return 0;
}

/* copy_process() -> dup_mm() -> dup_mmap() */
int task_fork(task_table *tt, uint32_t parent, uint32_t child, mm_result *res)
{
    mm_result local;
    if (!res)
        res = &local;
    res_begin(tt, res);
    struct mm_task *pt = task_find(tt, parent);
    int err = 0;
    if (!pt || pt->state != TASK_ALIVE) {
        err = -ESRCH;
        goto out;
    }
    if (parent == child) {
        err = -EEXIST;
        goto out;
    }
    struct mm_task *ct = task_slot(tt, child);
    if (!ct) {
        err = -EEXIST;
        goto out;
    }
    struct mm_struct *old = pt->mm;
    struct mm_struct *mm = mm_alloc(tt, ct);
    /* dup_mm's copy of the mm: layout, brk, the vm counters; not locked_vm, RSS, page tables */
    mm->mmap_base = old->mmap_base;
    mm->mmap_legacy_base = old->mmap_legacy_base;
    mm->start_brk = old->start_brk;
    mm->brk = old->brk;
    mm->start_stack = old->start_stack;
    mm->total_vm = old->total_vm;
    mm->data_vm = old->data_vm;
    mm->exec_vm = old->exec_vm;
    mm->stack_vm = old->stack_vm;
    mm->hiwater_vm = old->total_vm;
    tt->total_vm += old->total_vm;
    ct->oom_score_adj = pt->oom_score_adj; /* the signal struct is copied */
    ct->cgroup = pt->cgroup;
    ct->cap_sys_admin = pt->cap_sys_admin;
    memcpy(ct->comm, pt->comm, sizeof ct->comm);

    int64_t charged = 0;
    for (uint32_t v = vfind(old, 0); v; v = vnext(old, v)) {
        struct vma_node x = N(old, v);
        if (x.flags & VM_ACCOUNT) {
            /* security_vm_enough_memory_mm(oldmm, len): charged against the parent */
            if (vm_enough_memory_mm(old, (int64_t)vma_pages(&x))) {
                res->overcommit_refused = true;
                tt->c_fork_refused++;
                unacct(old, charged);
                tt->nr_ranges = 0;
                mm_free(mm);
                err = -ENOMEM;
                goto out;
            }
            charged += (int64_t)vma_pages(&x);
        }
        uint64_t cflags = x.flags & ~VM_LOCKED; /* VM_LOCKED_MASK is not inherited */
        uint32_t c = vma_new(mm, x.start, x.end, cflags, x.kind, x.file, x.pgoff, x.hpage_shift);
        if (x.anon_vma) {
            /* anon_vma_fork(): the parent's chain plus a new anon_vma of the child's own */
            N(mm, c).anon_vma = ++tt->next_anon_vma;
            N(mm, c).avc = (uint8_t)(x.avc < UINT8_MAX ? x.avc + 1 : UINT8_MAX);
        }
        /* copy_page_range() when vma_needs_copy(): only areas with anonymous pages (or hugetlb)
         * have PTEs the child cannot fault in again; COW ones are write-protected in both */
        if (x.anon_vma || (x.flags & VM_HUGETLB))
            res_add(tt, is_cow_mapping(x.flags) ? MM_RANGE_FORK_COW : MM_RANGE_FORK_COPY, &x,
                    x.start, x.end, x.flags, cflags);
    }
    res->committed = charged;
    ct->mm = mm;
    ct->state = TASK_ALIVE;
    list_append(tt, ct);
    tt->c_fork++;
out:
    res_end(tt, res, err);
    return err;
}

mm_task *task_find(const task_table *tt, uint32_t pid)
{
    uint64_t p;
    if (!idmap_get(&tt->pids, pid, &p))
        return NULL;
    return (mm_task *)(uintptr_t)p;
}

mm_task *task_first(const task_table *tt)
{
    return tt->head;
}

mm_task *task_next(const task_table *tt, const mm_task *t)
{
    (void)tt;
    return t->next;
}

size_t task_count(const task_table *tt)
{
    return tt->nr_live;
}

uint32_t task_pid(const mm_task *t)
{
    return t->pid;
}

enum task_state task_state(const mm_task *t)
{
    return t->state;
}

mm_struct *task_mm(const mm_task *t)
{
    return t->mm;
}

int task_oom_score_adj(const mm_task *t)
{
    return t->oom_score_adj;
}

int task_set_oom_score_adj(mm_task *t, int adj)
{
    if (adj < OOM_SCORE_ADJ_MIN || adj > OOM_SCORE_ADJ_MAX)
        return -EINVAL;
    t->oom_score_adj = adj;
    return 0;
}

uint32_t task_cgroup(const mm_task *t)
{
    return t->cgroup;
}

void task_set_cgroup(mm_task *t, uint32_t cgroup)
{
    t->cgroup = cgroup;
}

bool task_cap_sys_admin(const mm_task *t)
{
    return t->cap_sys_admin;
}

void task_set_cap_sys_admin(mm_task *t, bool cap)
{
    t->cap_sys_admin = cap;
}

bool task_unkillable(const mm_task *t)
{
    return t->unkillable;
}

void task_set_unkillable(mm_task *t, bool unkillable)
{
    t->unkillable = unkillable;
}

const char *task_comm(const mm_task *t)
{
    return t->comm;
}

void task_set_comm(mm_task *t, const char *comm)
{
    snprintf(t->comm, sizeof t->comm, "%s", comm);
}

void task_mark_oom_victim(mm_task *t)
{
    if (t->state == TASK_ALIVE)
        t->state = TASK_OOM_VICTIM;
}

/* ------------------------------------------------------------------------------------------ */
/* faults and lookups                                                                           */

static bool vma_is_accessible(uint64_t flags)
{
    return flags & VM_ACCESS_FLAGS;
}

/* expand_downwards() with acct_stack_growth() */
static bool expand_downwards(struct mm_struct *mm, uint32_t v, uint64_t address)
{
    struct task_table *tt = mm->tt;
    address &= PAGE_MASK;
    if (address < tt->layout.mmap_min_addr)
        return false;
    /* enforce the guard gap against the VMA below (unless it is a stack too, or inaccessible) */
    uint32_t prev = vprev(mm, v);
    if (prev && !(N(mm, prev).flags & VM_GROWSDOWN) && vma_is_accessible(N(mm, prev).flags) &&
        address - N(mm, prev).end < tt->layout.stack_guard_gap)
        return false;
    uint64_t size = N(mm, v).end - address;
    uint64_t grow = (N(mm, v).start - address) >> PAGE_SHIFT;
    if (grow > N(mm, v).pgoff)
        return false;
    if (size > tt->layout.stack_rlimit)
        return false;
    if (vm_enough_memory_mm(mm, (int64_t)grow)) {
        tt->c_stack_refused++;
        return false;
    }
    if (N(mm, v).flags & VM_LOCKED)
        mm->locked_vm += grow;
    vm_stat_account(mm, N(mm, v).flags, (int64_t)grow);
    vma_set_range(mm, v, address, N(mm, v).end, N(mm, v).pgoff - grow);
    fix_path(mm, mm->root, address);
    tt->c_stack_growths++;
    return true;
}

/* access_error() of arch/x86/mm/fault.c */
static bool access_error(uint64_t flags, unsigned access)
{
    if (access == 1 || access == 3) /* write, read-modify-write */
        return !(flags & VM_WRITE);
    if (access == 2) /* instruction fetch: NX makes a non-VM_EXEC page fault again */
        return !(flags & VM_EXEC);
    return !vma_is_accessible(flags);
}

enum mm_access_result mm_access_ok(mm_struct *mm, uint64_t vaddr, unsigned access)
{
    struct task_table *tt = mm->tt;
    if (vaddr >= tt->task_size_max) { /* a kernel address from user mode */
        tt->c_maperr++;
        return MM_ACCESS_SEGV_MAPERR;
    }
    enum mm_access_result ok = MM_ACCESS_OK;
    uint32_t v = vfind(mm, vaddr);
    if (!v || N(mm, v).start > vaddr) {
        /* lock_mm_and_find_vma(): below a stack, try to grow it */
        if (!v || !(N(mm, v).flags & VM_GROWSDOWN) || !expand_downwards(mm, v, vaddr)) {
            tt->c_maperr++;
            return MM_ACCESS_SEGV_MAPERR;
        }
        ok = MM_ACCESS_OK_STACK_GREW;
    }
    if (access_error(N(mm, v).flags, access)) {
        tt->c_accerr++;
        return MM_ACCESS_SEGV_ACCERR;
    }
    return ok;
}

bool find_vma(const mm_struct *mm, uint64_t addr, mm_vma *out)
{
    uint32_t v = vfind(mm, addr);
    if (!v)
        return false;
    if (out)
        vma_to_public(&N(mm, v), out);
    return true;
}

bool vma_lookup(const mm_struct *mm, uint64_t addr, mm_vma *out)
{
    uint32_t v = vfind(mm, addr);
    if (!v || N(mm, v).start > addr)
        return false;
    if (out)
        vma_to_public(&N(mm, v), out);
    return true;
}

bool find_vma_intersection(const mm_struct *mm, uint64_t start, uint64_t end, mm_vma *out)
{
    uint32_t v = vfind(mm, start);
    if (!v || N(mm, v).start >= end)
        return false;
    if (out)
        vma_to_public(&N(mm, v), out);
    return true;
}

bool find_vma_prev(const mm_struct *mm, uint64_t addr, mm_vma *vma, mm_vma *prev,
                   bool *has_prev)
{
    uint32_t v = vfind(mm, addr);
    /* the previous VMA: before v, or the last one when nothing ends above addr */
    uint32_t p = v ? vprev(mm, v) : vbefore(mm, UINT64_MAX);
    if (has_prev)
        *has_prev = p != NIL;
    if (p && prev)
        vma_to_public(&N(mm, p), prev);
    if (v && vma)
        vma_to_public(&N(mm, v), vma);
    return v != NIL;
}

/* anon_vma_compatible(): a and b adjacent, same object, flags equal but for access bits, linear
 * offsets */
static bool anon_vma_compatible(const struct vma_node *a, const struct vma_node *b)
{
    return a->end == b->start && a->kind == b->kind && a->file == b->file &&
           !((a->flags ^ b->flags) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY)) &&
           b->pgoff == a->pgoff + ((b->start - a->start) >> PAGE_SHIFT);
}

/* anon_vma_prepare() -> find_mergeable_anon_vma() -> reusable_anon_vma(): the next VMA's
 * anon_vma first, then the previous one's, when compatible and not inherited through fork. */
uint32_t anon_vma_prepare(mm_struct *mm, uint64_t addr)
{
    uint32_t v = vfind(mm, addr);
    if (!v || N(mm, v).start > addr)
        return 0;
    if (N(mm, v).anon_vma)
        return N(mm, v).anon_vma;
    uint32_t id = 0;
    uint32_t next = vnext(mm, v), prev = vprev(mm, v);
    if (next && anon_vma_compatible(&N(mm, v), &N(mm, next)) && N(mm, next).anon_vma &&
        N(mm, next).avc == 1)
        id = N(mm, next).anon_vma;
    else if (prev && anon_vma_compatible(&N(mm, prev), &N(mm, v)) && N(mm, prev).anon_vma &&
             N(mm, prev).avc == 1)
        id = N(mm, prev).anon_vma;
    if (!id)
        id = ++mm->tt->next_anon_vma;
    N(mm, v).anon_vma = id;
    N(mm, v).avc = 1;
    return id;
}

/* ------------------------------------------------------------------------------------------ */
/* counters and views                                                                           */

void mm_add_rss(mm_struct *mm, enum mm_rss_type type, int64_t delta)
{
    if ((unsigned)type >= MM_NR_RSS)
        return;
    mm->rss[type] += delta;
    uint64_t rss = get_mm_rss(mm);
    if (rss > mm->hiwater_rss)
        mm->hiwater_rss = rss;
}

int64_t get_mm_counter(const mm_struct *mm, enum mm_rss_type type)
{
    if ((unsigned)type >= MM_NR_RSS)
        return 0;
    return mm->rss[type];
}

uint64_t get_mm_rss(const mm_struct *mm)
{
    int64_t r = mm->rss[MM_FILEPAGES] + mm->rss[MM_ANONPAGES] + mm->rss[MM_SHMEMPAGES];
    return r > 0 ? (uint64_t)r : 0;
}

void mm_pgtables_bytes_add(mm_struct *mm, int64_t delta)
{
    mm->pgtables_bytes += delta;
}

uint64_t mm_pgtables_bytes(const mm_struct *mm)
{
    return mm->pgtables_bytes > 0 ? (uint64_t)mm->pgtables_bytes : 0;
}

void mm_get_stat(const mm_struct *mm, mm_stat *st)
{
    memset(st, 0, sizeof *st);
    st->total_vm = mm->total_vm;
    st->data_vm = mm->data_vm;
    st->exec_vm = mm->exec_vm;
    st->stack_vm = mm->stack_vm;
    st->locked_vm = mm->locked_vm;
    st->hiwater_vm = mm->hiwater_vm;
    st->hiwater_rss = mm->hiwater_rss;
    for (int i = 0; i < MM_NR_RSS; i++)
        st->rss[i] = mm->rss[i] > 0 ? (uint64_t)mm->rss[i] : 0;
    st->pgtables_bytes = mm_pgtables_bytes(mm);
    st->map_count = mm->map_count;
    st->start_brk = mm->start_brk;
    st->brk = mm->brk;
    st->start_stack = mm->start_stack;
    st->mmap_base = mm->mmap_base;
}

unsigned mm_map_count(const mm_struct *mm)
{
    return mm->map_count;
}

uint64_t mm_total_vm(const mm_struct *mm)
{
    return mm->total_vm;
}

mm_task *mm_owner(const mm_struct *mm)
{
    return mm->owner;
}

/* show_map_vma() of fs/proc/task_mmu.c: the header ends with a space; a name is padded to
 * column 73 (seq_setwidth(25 + 6 * sizeof(void *) - 1), then seq_pad(' ')). */
size_t mm_format_maps(const mm_struct *mm, char *buf, size_t len)
{
    size_t n = 0;
    if (len)
        buf[0] = '\0';
    for (uint32_t v = vfind(mm, 0); v; v = vnext(mm, v)) {
        const struct vma_node *x = &N(mm, v);
        char name[64] = "";
        uint64_t off = 0, ino = 0;
        if (x->kind == MM_VMA_FILE) {
            snprintf(name, sizeof name, "file:%" PRIu32, x->file);
            off = x->pgoff << PAGE_SHIFT;
            ino = x->file;
        } else if (x->kind == MM_VMA_SHMEM) {
            snprintf(name, sizeof name, "/dev/zero (deleted)");
            ino = x->file;
        } else if (x->kind == MM_VMA_HUGETLB) {
            snprintf(name, sizeof name, "/anon_hugepage (deleted)");
            ino = x->file;
        } else if (x->start <= mm->brk && x->end >= mm->start_brk) { /* vma_is_initial_heap */
            snprintf(name, sizeof name, "[heap]");
        } else if (x->start <= mm->start_stack && x->end >= mm->start_stack) {
            snprintf(name, sizeof name, "[stack]");
        }
        char line[192];
        int w = snprintf(line, sizeof line,
                         "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " 00:00 %" PRIu64 " ",
                         x->start, x->end, (x->flags & VM_READ) ? 'r' : '-',
                         (x->flags & VM_WRITE) ? 'w' : '-', (x->flags & VM_EXEC) ? 'x' : '-',
                         (x->flags & VM_MAYSHARE) ? 's' : 'p', off, ino);
        if (name[0])
            snprintf(line + w, sizeof line - (size_t)w, "%*s %s\n", w < 72 ? 72 - w : 0, "",
                     name);
        else
            snprintf(line + w, sizeof line - (size_t)w, "\n");
        size_t l = strlen(line);
        if (n + 1 < len)
            snprintf(buf + n, len - n, "%s", line);
        n += l;
    }
    return n;
}

static int check_subtree(const struct mm_struct *mm, uint32_t t, uint64_t *count, uint64_t *pages,
                         uint64_t *last_end, mm_err *err)
{
    if (!t)
        return 0;
    const struct vma_node *x = &N(mm, t);
    if (x->left && N(mm, x->left).prio > x->prio)
        return mm_errf(err, "treap heap order broken at %#" PRIx64, x->start);
    if (x->right && N(mm, x->right).prio > x->prio)
        return mm_errf(err, "treap heap order broken at %#" PRIx64, x->start);
    if (check_subtree(mm, x->left, count, pages, last_end, err))
        return -1;
    if (x->start >= x->end || (x->start & ~PAGE_MASK) || (x->end & ~PAGE_MASK))
        return mm_errf(err, "VMA %#" PRIx64 "-%#" PRIx64 " empty or not page aligned", x->start,
                       x->end);
    if (*count && x->start < *last_end)
        return mm_errf(err, "VMA %#" PRIx64 " overlaps the one before (ending %#" PRIx64 ")",
                       x->start, *last_end);
    *last_end = x->end;
    (*count)++;
    *pages += vma_pages(x);
    if (check_subtree(mm, x->right, count, pages, last_end, err))
        return -1;
    /* recompute the augmentation and compare */
    uint64_t first = x->start, last = x->end, gap = 0;
    if (x->left) {
        first = N(mm, x->left).sub_first;
        gap = max_u64(N(mm, x->left).sub_gap, x->start - N(mm, x->left).sub_last);
    }
    if (x->right) {
        last = N(mm, x->right).sub_last;
        gap = max_u64(gap, max_u64(N(mm, x->right).sub_gap, N(mm, x->right).sub_first - x->end));
    }
    if (x->sub_first != first || x->sub_last != last || x->sub_gap != gap)
        return mm_errf(err, "stale augmentation at VMA %#" PRIx64, x->start);
    return 0;
}

int mm_check(const mm_struct *mm, mm_err *err)
{
    uint64_t count = 0, pages = 0, last_end = 0;
    if (check_subtree(mm, mm->root, &count, &pages, &last_end, err))
        return -1;
    if (count != mm->map_count)
        return mm_errf(err, "map_count %u but %" PRIu64 " VMAs", mm->map_count, count);
    if (pages != mm->total_vm)
        return mm_errf(err, "total_vm %" PRIu64 " but the VMAs hold %" PRIu64 " pages",
                       mm->total_vm, pages);
    if (mm->data_vm + mm->exec_vm + mm->stack_vm > mm->total_vm)
        return mm_errf(err, "data_vm + exec_vm + stack_vm exceed total_vm");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* the table                                                                                    */

void mm_layout_init(mm_layout *l)
{
    memset(l, 0, sizeof *l);
    l->stack_init_pages = 33;
    l->stack_rlimit = 8ull << 20;
    l->stack_guard_gap = 256ull << PAGE_SHIFT;
    l->start_brk = 0x555555559000ull;
    l->mmap_min_addr = 65536;
    l->memlock_rlimit = 8ull << 20;
    l->max_map_count = 65530; /* DEFAULT_MAX_MAP_COUNT = USHRT_MAX - MAPCOUNT_ELF_CORE_MARGIN */
    l->thp_align = true;
}

const mm_layout *task_table_layout(const task_table *tt)
{
    return &tt->layout;
}

static uint64_t g_tasks(const void *ctx)
{
    return ((const struct task_table *)ctx)->nr_live;
}

static uint64_t g_vmas(const void *ctx)
{
    return ((const struct task_table *)ctx)->nr_vmas;
}

static uint64_t g_total_vm(const void *ctx)
{
    return ((const struct task_table *)ctx)->total_vm;
}

task_table *task_table_create(const mm_layout *layout, overcommit *oc, stats_registry *reg,
                              mm_err *err)
{
    mm_layout l = *layout;
    uint64_t tsm = mm_task_size_max(&l);
    if (!l.stack_top)
        l.stack_top = MM_DEFAULT_MAP_WINDOW;
    if (!l.mmap_base)
        l.mmap_base = mm_mmap_base(MM_DEFAULT_MAP_WINDOW, l.stack_rlimit, l.stack_guard_gap, 0);
    if ((l.stack_top & ~PAGE_MASK) || (l.mmap_base & ~PAGE_MASK) || (l.start_brk & ~PAGE_MASK) ||
        (l.stack_guard_gap & ~PAGE_MASK)) {
        mm_errf(err, "mm layout: stack_top, mmap_base, start_brk and stack_guard_gap must be page "
                     "aligned");
        return NULL;
    }
    if (l.stack_top > tsm || l.mmap_base > tsm || l.start_brk >= tsm) {
        mm_errf(err, "mm layout: stack_top, mmap_base and start_brk must lie below %#" PRIx64,
                tsm);
        return NULL;
    }
    if (!l.stack_init_pages || l.stack_init_pages * PAGE_SIZE > l.stack_top ||
        l.stack_init_pages * PAGE_SIZE > l.stack_rlimit) {
        mm_errf(err, "mm layout: the initial stack (%" PRIu64 " pages) must be non-empty, fit "
                     "below stack_top and within the stack rlimit", l.stack_init_pages);
        return NULL;
    }
    if (!l.max_map_count) {
        mm_errf(err, "mm layout: max_map_count must be positive");
        return NULL;
    }
    struct task_table *tt = xcalloc(1, sizeof *tt);
    tt->layout = l;
    tt->task_size_max = tsm;
    tt->oc = oc;
    idmap_init(&tt->pids);
    if (reg) {
        const char *p = "os.mm";
        stats_counter(reg, p, "mmap", &tt->c_mmap, "mmap calls");
        stats_counter(reg, p, "mmap_failed", &tt->c_mmap_failed, "mmap calls that failed");
        stats_counter(reg, p, "mmap_refused_overcommit", &tt->c_mmap_refused,
                      "mmap calls refused by overcommit accounting");
        stats_counter(reg, p, "munmap", &tt->c_munmap, "munmap calls");
        stats_counter(reg, p, "mprotect", &tt->c_mprotect, "mprotect calls");
        stats_counter(reg, p, "brk", &tt->c_brk, "brk calls");
        stats_counter(reg, p, "brk_refused_overcommit", &tt->c_brk_refused,
                      "brk calls refused by overcommit accounting");
        stats_counter(reg, p, "madvise", &tt->c_madvise, "madvise calls");
        stats_counter(reg, p, "fork", &tt->c_fork, "successful forks");
        stats_counter(reg, p, "fork_refused_overcommit", &tt->c_fork_refused,
                      "forks refused by overcommit accounting");
        stats_counter(reg, p, "exit", &tt->c_exit, "address spaces torn down");
        stats_counter(reg, p, "vma_merges", &tt->c_merges, "VMA merges (vma_merge)");
        stats_counter(reg, p, "vma_splits", &tt->c_splits, "VMA splits (__split_vma)");
        stats_counter(reg, p, "stack_growths", &tt->c_stack_growths,
                      "stack VMA expansions on a fault below it");
        stats_counter(reg, p, "stack_refused_overcommit", &tt->c_stack_refused,
                      "stack expansions refused by overcommit accounting");
        stats_counter(reg, p, "segv_maperr", &tt->c_maperr, "accesses to no VMA (SEGV_MAPERR)");
        stats_counter(reg, p, "segv_accerr", &tt->c_accerr,
                      "accesses the VMA's protection forbids (SEGV_ACCERR)");
        stats_gauge(reg, p, "tasks", g_tasks, tt, "processes with an address space");
        stats_gauge(reg, p, "vmas", g_vmas, tt, "VMAs over all address spaces");
        stats_gauge(reg, p, "total_vm_pages", g_total_vm, tt,
                    "mapped pages over all address spaces (sum of VmSize)");
    }
    return tt;
}

void task_table_destroy(task_table *tt)
{
    if (!tt)
        return;
    for (size_t i = 0; i < tt->pids.cap; i++) {
        if (!tt->pids.used[i])
            continue;
        struct mm_task *t = (struct mm_task *)(uintptr_t)tt->pids.vals[i];
        mm_free(t->mm);
        free(t);
    }
    idmap_free(&tt->pids);
    free(tt->ranges);
    free(tt);
}
