/* The kernel facade (see kernel.h). Written from an understanding of Linux's mm/memory.c
 * (handle_mm_fault, do_anonymous_page, do_wp_page, do_swap_page, zap_pte_range, copy_pte_range)
 * and mm/rmap.c (folio_referenced, try_to_unmap), not copied. */
#include "models/os/kernel.h"

#include <stdlib.h>
#include <string.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"
#include "models/os/mm.h"
#include "models/os/oom.h"
#include "models/os/overcommit.h"
/* mm.h and vmscan.h both define VM_EXEC / VM_LOCKED with the same values */
#undef VM_EXEC
#undef VM_LOCKED
#undef MM_MAX_CPUS /* traces/event.h and zone.h: both 256 */
#include "models/os/buddy.h"
#include "models/os/reclaim.h"
#include "models/os/zone.h"

#define ANON_OWNER 1 /* every anonymous page's owner cookie: the rmap below is by pfn */

enum { PK_NONE, PK_ANON, PK_KERNEL };

struct kproc {
    uint32_t pid;
    uint64_t id; /* unique over the run */
    uint64_t root;
    mm_task *task;
    bool killed;
    uint64_t nswap; /* swap PTEs in the side table */
    struct kproc *next;
};

/* reverse map: the (process, vaddr) pairs mapping an anonymous frame */
struct rmap_node {
    struct kproc *kp;
    uint64_t va;
    uint32_t next; /* index + 1; 0 = end */
};

/* swap PTEs: (process id, vpn) -> swap entry, open addressing with tombstones */
struct swslot {
    uint64_t id, vpn;
    uint32_t entry;
    uint8_t state; /* 0 empty, 1 used, 2 deleted */
};

struct kernel {
    struct kernel_config cfg;
    struct kernel_tlb_ops tlb;
    mm_phys *pm;
    pgtable *pt;
    task_table *tt;
    overcommit *oc;
    oom_killer *ok;
    mm_reclaim *rc;
    uint64_t max_pfn;
    uint8_t *pkind;
    uint32_t *rhead;
    struct rmap_node *rnodes;
    uint32_t nrnodes, caprnodes, rfree;
    struct swslot *sw;
    uint64_t swcap, swused; /* used includes tombstones */
    struct kproc **buckets;
    uint64_t nbuckets, nprocs, next_id;
    bool vma_events; /* the trace has VMA events: accesses outside VMAs are segfaults */
    uint64_t now;
    unsigned cpu; /* the CPU of the operation in progress */
    uint64_t half;  /* first kernel-half address */
    uint64_t user_top;
    uint32_t last_victim;
    /* statistics */
    uint64_t pgfault, pgmajfault, cow, segfaults, skipped, oom_kill, oom_failures, anon_pages,
        swap_ptes, kernel_pages;
};

/* ---------- frames ---------- */

static uint64_t table_alloc(void *ctx)
{
    kernel *k = ctx;
    uint64_t pfn = get_page_from_freelist(k->pm, 0, MM_GFP_KERNEL, 0, ALLOC_WMARK_MIN, k->cpu, NULL);
    if (pfn == MM_PFN_NONE) /* PF_MEMALLOC-like: page tables for reclaim's own progress */
        pfn = get_page_from_freelist(k->pm, 0, MM_GFP_KERNEL, 0, ALLOC_NO_WATERMARKS, k->cpu, NULL);
    return pfn == MM_PFN_NONE ? PGTABLE_NO_FRAME : pfn;
}

static void table_free(void *ctx, uint64_t pfn)
{
    kernel *k = ctx;
    buddy_free_pages(k->pm, pfn, 0, k->cpu, NULL);
}

/* ---------- rmap ---------- */

static void rmap_add(kernel *k, uint64_t pfn, struct kproc *kp, uint64_t va)
{
    uint32_t i;
    if (k->rfree) {
        i = k->rfree - 1;
        k->rfree = k->rnodes[i].next;
    } else {
        if (k->nrnodes == k->caprnodes) {
            k->caprnodes = k->caprnodes ? k->caprnodes * 2 : 1024;
            k->rnodes = xrealloc(k->rnodes, k->caprnodes * sizeof *k->rnodes);
        }
        i = k->nrnodes++;
    }
    k->rnodes[i] = (struct rmap_node){kp, va, k->rhead[pfn]};
    k->rhead[pfn] = i + 1;
}

static void rmap_remove(kernel *k, uint64_t pfn, const struct kproc *kp, uint64_t va)
{
    for (uint32_t *pp = &k->rhead[pfn]; *pp; pp = &k->rnodes[*pp - 1].next) {
        struct rmap_node *n = &k->rnodes[*pp - 1];
        if (n->kp == kp && n->va == va) {
            uint32_t i = *pp;
            *pp = n->next;
            n->next = k->rfree;
            k->rfree = i;
            return;
        }
    }
}

static unsigned rmap_count(const kernel *k, uint64_t pfn)
{
    unsigned n = 0;
    for (uint32_t i = k->rhead[pfn]; i; i = k->rnodes[i - 1].next)
        n++;
    return n;
}

/* ---------- swap PTE side table ---------- */

static uint64_t sw_hash(uint64_t id, uint64_t vpn)
{
    return mix64(id * 0x9e3779b97f4a7c15ull ^ vpn);
}

static struct swslot *sw_find(const kernel *k, uint64_t id, uint64_t vpn)
{
    if (!k->swcap)
        return NULL;
    for (uint64_t h = sw_hash(id, vpn) & (k->swcap - 1);; h = (h + 1) & (k->swcap - 1)) {
        struct swslot *s = &k->sw[h];
        if (s->state == 0)
            return NULL;
        if (s->state == 1 && s->id == id && s->vpn == vpn)
            return s;
    }
}

static void sw_insert(kernel *k, uint64_t id, uint64_t vpn, uint32_t entry)
{
    if ((k->swused + 1) * 2 > k->swcap) {
        struct swslot *old = k->sw;
        uint64_t oc = k->swcap;
        k->swcap = oc ? oc * 2 : 1024;
        k->sw = xcalloc(k->swcap, sizeof *k->sw);
        k->swused = 0;
        for (uint64_t i = 0; i < oc; i++)
            if (old[i].state == 1)
                sw_insert(k, old[i].id, old[i].vpn, old[i].entry);
        free(old);
    }
    for (uint64_t h = sw_hash(id, vpn) & (k->swcap - 1);; h = (h + 1) & (k->swcap - 1)) {
        struct swslot *s = &k->sw[h];
        if (s->state != 1) {
            if (s->state == 0)
                k->swused++;
            *s = (struct swslot){id, vpn, entry, 1};
            return;
        }
    }
}

/* ---------- processes ---------- */

static struct kproc *kp_find(const kernel *k, uint32_t pid)
{
    for (struct kproc *p = k->buckets[mix64(pid) & (k->nbuckets - 1)]; p; p = p->next)
        if (p->pid == pid)
            return p;
    return NULL;
}

static void kp_unlink(kernel *k, struct kproc *kp)
{
    struct kproc **pp = &k->buckets[mix64(kp->pid) & (k->nbuckets - 1)];
    while (*pp != kp)
        pp = &(*pp)->next;
    *pp = kp->next;
    k->nprocs--;
}

static struct kproc *kp_insert(kernel *k, uint32_t pid, mm_task *t, uint64_t root)
{
    if (k->nprocs >= k->nbuckets * 2) {
        uint64_t nb = k->nbuckets * 2;
        struct kproc **b = xcalloc(nb, sizeof *b);
        for (uint64_t i = 0; i < k->nbuckets; i++)
            for (struct kproc *p = k->buckets[i], *n; p; p = n) {
                n = p->next;
                uint64_t h = mix64(p->pid) & (nb - 1);
                p->next = b[h];
                b[h] = p;
            }
        free(k->buckets);
        k->buckets = b;
        k->nbuckets = nb;
    }
    struct kproc *kp = xcalloc(1, sizeof *kp);
    kp->pid = pid;
    kp->id = ++k->next_id;
    kp->task = t;
    kp->root = root;
    uint64_t h = mix64(pid) & (k->nbuckets - 1);
    kp->next = k->buckets[h];
    k->buckets[h] = kp;
    k->nprocs++;
    return kp;
}

/* A process as exec leaves it; in a plain trace also the anonymous VMA covering the user half
 * below the stack (MAP_NORESERVE: not charged, except with overcommit_memory 2, where a refusal
 * just leaves the process without it: plain traces do not check VMAs anyway). */
static struct kproc *kp_create(kernel *k, uint32_t pid)
{
    mm_result res;
    if (task_create(k->tt, pid, &res))
        return NULL;
    mm_task *t = task_find(k->tt, pid);
    uint64_t root = pgtable_mm_create(k->pt);
    struct kproc *kp = kp_insert(k, pid, t, root);
    if (!k->vma_events) {
        mm_vma stack;
        if (find_vma(task_mm(t), 0, &stack)) {
            const mm_layout *l = task_table_layout(k->tt);
            uint64_t lo = l->mmap_min_addr, hi = stack.start - l->stack_guard_gap * MM_PAGE_SIZE;
            if (hi > lo)
                do_mmap(task_mm(t), lo, hi - lo,
                        MM_PROT_READ | MM_PROT_WRITE | MM_MAP_PRIVATE | MM_MAP_ANONYMOUS |
                            MM_MAP_FIXED | MM_MAP_NORESERVE,
                        0, 0, NULL);
        }
    }
    return kp;
}

uint64_t kernel_mm_root(kernel *k, uint32_t pid)
{
    struct kproc *kp = kp_find(k, pid);
    if (!kp)
        kp = kp_create(k, pid);
    return kp ? kp->root : PGTABLE_NO_FRAME;
}

/* ---------- zapping ---------- */

struct zap_ctx {
    kernel *k;
    struct kproc *kp;
};

/* zap_pte_range for one leaf: the rmap entry goes; a page no longer mapped is released. */
static void zap_leaf(void *ctx, uint64_t va, uint64_t pfn, enum pg_size size, uint64_t pte)
{
    struct zap_ctx *z = ctx;
    kernel *k = z->k;
    (void)size;
    (void)pte;
    if (pfn >= k->max_pfn)
        return;
    if (k->pkind[pfn] == PK_ANON) {
        rmap_remove(k, pfn, z->kp, va);
        if (z->kp->task && task_mm(z->kp->task))
            mm_add_rss(task_mm(z->kp->task), MM_ANONPAGES, -1);
        if (!k->rhead[pfn]) {
            k->pkind[pfn] = PK_NONE;
            k->anon_pages--;
            reclaim_anon_release(k->rc, pfn, k->cpu, k->now);
        }
    }
}

/* Swap PTEs of kp in [start, end): dropped (free_swap_and_cache). */
static void zap_swap(kernel *k, struct kproc *kp, uint64_t start, uint64_t end)
{
    if (!kp->nswap)
        return;
    for (uint64_t i = 0; i < k->swcap; i++) {
        struct swslot *s = &k->sw[i];
        if (s->state == 1 && s->id == kp->id && (s->vpn << 12) >= start && (s->vpn << 12) < end) {
            reclaim_swap_entry_free(k->rc, s->entry, k->cpu, k->now);
            s->state = 2;
            kp->nswap--;
            k->swap_ptes--;
            if (kp->task && task_mm(kp->task))
                mm_add_rss(task_mm(kp->task), MM_SWAPENTS, -1);
        }
    }
}

static void zap_range(kernel *k, struct kproc *kp, uint64_t start, uint64_t end)
{
    if (end <= start)
        return;
    struct zap_ctx z = {k, kp};
    struct pgtable_change ch;
    pgtable_unmap(k->pt, kp->root, start, end - start, zap_leaf, &z, &ch);
    zap_swap(k, kp, start, end);
    if ((ch.leaves || ch.upper_changed) && k->tlb.flush_range)
        k->tlb.flush_range(k->tlb.ctx, kp->pid, start, end - start, ch.upper_changed != 0);
}

/* The process dies (segfault, OOM kill): its memory is freed, its mm exits; the (empty) root
 * stays until its EXIT event so the translate path's later records of it fault and are skipped. */
static void kill_process(kernel *k, struct kproc *kp)
{
    zap_range(k, kp, 0, k->user_top);
    mm_result res;
    if (kp->task && task_mm(kp->task))
        task_exit(k->tt, kp->pid, &res);
    kp->task = NULL;
    kp->killed = true;
}

/* ---------- allocation with the OOM killer ---------- */

/* An anonymous page for kp (the allocating process). MM_PFN_NONE: kp itself was killed, or
 * nothing was killable. */
static uint64_t alloc_user_page(kernel *k, struct kproc *kp, unsigned cpu, uint64_t *cycles)
{
    for (int tries = 0; tries < 8; tries++) {
        uint64_t stall = 0;
        uint64_t pfn = reclaim_alloc_pages(k->rc, 0, MM_GFP_HIGHUSER_MOVABLE, 0, cpu,
                                           k->now + *cycles, &stall);
        *cycles += stall;
        if (pfn != MM_PFN_NONE)
            return pfn;
        uint64_t totalram = 0;
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            mm_zone *z = mm_node_zone(k->pm, 0, (enum zone_type)t);
            if (z)
                totalram += zone_managed_pages(z);
        }
        oom_control oc = {oom_totalpages(totalram, total_swap_pages(reclaim_swap(k->rc))), false,
                          0, kp->pid};
        oom_report rep;
        if (out_of_memory(k->ok, &oc, &rep) != OOM_KILLED) {
            k->oom_failures++;
            return MM_PFN_NONE;
        }
        k->oom_kill++;
        k->last_victim = rep.pid;
        struct kproc *v = kp_find(k, rep.pid);
        if (v)
            kill_process(k, v);
        if (v == kp)
            return MM_PFN_NONE;
    }
    k->oom_failures++;
    return MM_PFN_NONE;
}

/* ---------- faults ---------- */

static uint64_t pte_flags(uint64_t vm_flags, bool write)
{
    uint64_t f = PTE_US | PTE_A;
    if ((vm_flags & VM_WRITE) && write)
        f |= PTE_RW | PTE_D;
    if (!(vm_flags & 0x4ull /* VM_EXEC */))
        f |= PTE_NX;
    return f;
}

void kernel_fault(kernel *k, unsigned cpu, uint32_t pid, uint64_t vaddr, unsigned access,
                  bool protection, struct kernel_fault_result *res)
{
    memset(res, 0, sizeof *res);
    k->cpu = cpu;
    struct kproc *kp = kp_find(k, pid);
    if (!kp && !(kp = kp_create(k, pid))) {
        res->status = KFAULT_OOM;
        return;
    }
    if (kp->killed) {
        k->skipped++;
        res->status = KFAULT_KILLED;
        return;
    }
    bool write = access == MM_EV_WRITE || access == MM_EV_RMW;
    uint64_t va = vaddr & ~0xfffull;
    k->pgfault++;
    res->cycles = k->cfg.fault_cost;

    if (vaddr >= k->half) {
        if (k->vma_events) {
            k->segfaults++;
            kill_process(k, kp);
            res->status = KFAULT_SEGV;
            return;
        }
        if (protection) { /* a plain trace: grant it */
            pgtable_update(k->pt, kp->root, va, PTE_RW, PTE_NX);
            return;
        }
        uint64_t pfn = table_alloc(k);
        if (pfn == PGTABLE_NO_FRAME) {
            res->status = KFAULT_OOM;
            k->oom_failures++;
            return;
        }
        k->pkind[pfn] = PK_KERNEL;
        k->kernel_pages++;
        pgtable_map(k->pt, kp->root, va, pfn, PG_4K, PTE_RW | PTE_G | (write ? PTE_D : 0));
        return;
    }

    mm_struct *mm = task_mm(kp->task);
    enum mm_access_result ar = mm_access_ok(mm, vaddr, access);
    mm_vma vma;
    bool have_vma = vma_lookup(mm, vaddr, &vma);
    if (ar == MM_ACCESS_SEGV_MAPERR || ar == MM_ACCESS_SEGV_ACCERR) {
        if (k->vma_events) {
            k->segfaults++;
            kill_process(k, kp);
            res->status = KFAULT_SEGV;
            return;
        }
        have_vma = false; /* plain trace: anonymous memory wherever it is touched */
    }
    uint64_t vmf = have_vma ? vma.flags : (VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE);
    if (have_vma && !vma.anon_vma)
        anon_vma_prepare(mm, vaddr);

    struct pgtable_leaf leaf;
    if (protection && pgtable_lookup(k->pt, kp->root, va, &leaf)) {
        uint64_t old = leaf.pfn;
        if (write && !(leaf.pte & PTE_RW) && (vmf & VM_WRITE) && old < k->max_pfn &&
            k->pkind[old] == PK_ANON && rmap_count(k, old) > 1) {
            /* do_wp_page -> wp_page_copy: a private copy for this process */
            uint64_t pfn = alloc_user_page(k, kp, cpu, &res->cycles);
            if (pfn == MM_PFN_NONE) {
                res->status = kp->killed ? KFAULT_KILLED : KFAULT_OOM;
                return;
            }
            rmap_remove(k, old, kp, va);
            pgtable_unmap(k->pt, kp->root, va, MM_PAGE_SIZE, NULL, NULL, NULL);
            k->pkind[pfn] = PK_ANON;
            k->anon_pages++;
            reclaim_anon_add(k->rc, pfn, ANON_OWNER, false);
            rmap_add(k, pfn, kp, va);
            pgtable_map(k->pt, kp->root, va, pfn, PG_4K, pte_flags(vmf, true));
            if (k->tlb.flush_range)
                k->tlb.flush_range(k->tlb.ctx, pid, va, MM_PAGE_SIZE, false);
            k->cow++;
            res->cow = true;
            return;
        }
        /* wp_page_reuse (the only mapping), or a plain trace granting the access */
        uint64_t set = PTE_A | (write ? PTE_RW | PTE_D : 0);
        if (!k->vma_events)
            set |= PTE_RW | PTE_US;
        pgtable_update(k->pt, kp->root, va, set, k->vma_events ? 0 : PTE_NX);
        if (k->tlb.flush_range)
            k->tlb.flush_range(k->tlb.ctx, pid, va, MM_PAGE_SIZE, false);
        return;
    }

    struct swslot *s = sw_find(k, kp->id, va >> 12);
    if (s) { /* do_swap_page */
        uint32_t entry = s->entry;
        struct fault_result fr;
        if (!reclaim_swap_in(k->rc, entry, ANON_OWNER, write, cpu, k->now, &fr)) {
            res->cycles += fr.cycles;
            res->status = KFAULT_OOM;
            k->oom_failures++;
            return;
        }
        s->state = 2;
        kp->nswap--;
        k->swap_ptes--;
        mm_add_rss(mm, MM_SWAPENTS, -1);
        res->cycles += fr.cycles;
        if (fr.major) {
            res->major = true;
            k->pgmajfault++;
            res->cycles += k->cfg.major_fault_cost - (uint64_t)k->cfg.fault_cost;
        }
        if (k->pkind[fr.pfn] != PK_ANON) {
            k->pkind[fr.pfn] = PK_ANON;
            k->anon_pages++;
        }
        bool exclusive = !k->rhead[fr.pfn];
        rmap_add(k, fr.pfn, kp, va);
        mm_add_rss(mm, MM_ANONPAGES, 1);
        pgtable_map(k->pt, kp->root, va, fr.pfn, PG_4K, pte_flags(vmf, write && exclusive));
        return;
    }

    /* do_anonymous_page (no shared zero page: a read fault allocates too) */
    uint64_t pfn = alloc_user_page(k, kp, cpu, &res->cycles);
    if (pfn == MM_PFN_NONE) {
        res->status = kp->killed ? KFAULT_KILLED : KFAULT_OOM;
        return;
    }
    k->pkind[pfn] = PK_ANON;
    k->anon_pages++;
    reclaim_anon_add(k->rc, pfn, ANON_OWNER, false);
    rmap_add(k, pfn, kp, va);
    mm_add_rss(mm, MM_ANONPAGES, 1);
    if (pgtable_map(k->pt, kp->root, va, pfn, PG_4K, pte_flags(vmf, write || !k->vma_events)) !=
        PGTABLE_OK)
        res->status = KFAULT_OOM;
}

/* ---------- rmap callbacks for reclaim ---------- */

static int cb_referenced(void *ctx, uint64_t owner, uint64_t pfn, unsigned *vm_flags,
                         uint64_t *cycles)
{
    kernel *k = ctx;
    (void)owner;
    (void)vm_flags;
    (void)cycles;
    if (pfn >= k->max_pfn || k->pkind[pfn] != PK_ANON)
        return 0;
    int n = 0;
    for (uint32_t i = k->rhead[pfn]; i; i = k->rnodes[i - 1].next) {
        struct rmap_node *r = &k->rnodes[i - 1];
        if (pgtable_update(k->pt, r->kp->root, r->va, 0, PTE_A) & PTE_A)
            n++;
    }
    return n;
}

static int cb_unmap(void *ctx, uint64_t owner, uint64_t pfn, uint32_t swap_entry, bool *dirty,
                    uint64_t *cycles)
{
    kernel *k = ctx;
    (void)owner;
    (void)cycles;
    if (pfn >= k->max_pfn || k->pkind[pfn] != PK_ANON)
        return 0;
    int n = 0;
    while (k->rhead[pfn]) {
        uint32_t i = k->rhead[pfn];
        struct rmap_node r = k->rnodes[i - 1];
        struct pgtable_leaf l;
        if (pgtable_lookup(k->pt, r.kp->root, r.va, &l) && (l.pte & PTE_D))
            *dirty = true;
        pgtable_unmap(k->pt, r.kp->root, r.va, MM_PAGE_SIZE, NULL, NULL, NULL);
        if (k->tlb.flush_range)
            k->tlb.flush_range(k->tlb.ctx, r.kp->pid, r.va, MM_PAGE_SIZE, false);
        mm_struct *mm = r.kp->task ? task_mm(r.kp->task) : NULL;
        if (mm)
            mm_add_rss(mm, MM_ANONPAGES, -1);
        if (swap_entry) {
            sw_insert(k, r.kp->id, r.va >> 12, swap_entry);
            r.kp->nswap++;
            k->swap_ptes++;
            if (mm)
                mm_add_rss(mm, MM_SWAPENTS, 1);
        }
        k->rhead[pfn] = r.next;
        k->rnodes[i - 1].next = k->rfree;
        k->rfree = i;
        n++;
    }
    k->pkind[pfn] = PK_NONE;
    k->anon_pages--;
    return n;
}

/* ---------- OS events ---------- */

static void apply_ranges(kernel *k, struct kproc *kp, const mm_result *res)
{
    for (size_t i = 0; i < res->nr_ranges; i++) {
        const mm_range *r = &res->ranges[i];
        switch (r->op) {
        case MM_RANGE_UNMAP:
        case MM_RANGE_DONTNEED:
        case MM_RANGE_FREE: /* MADV_FREE taken as DONTNEED */
            zap_range(k, kp, r->start, r->end);
            break;
        case MM_RANGE_PROTECT: {
            uint64_t set = 0, clear = 0;
            if (!(r->new_flags & VM_WRITE))
                clear |= PTE_RW;
            if (!(r->new_flags & 0x4ull))
                set |= PTE_NX;
            else
                clear |= PTE_NX;
            /* write permission comes back through faults (reuse or COW), as Linux without
             * MM_CP_TRY_CHANGE_WRITABLE's shortcut */
            struct pgtable_change ch;
            pgtable_protect(k->pt, kp->root, r->start, r->end - r->start, set, clear, &ch);
            if ((ch.leaves || ch.upper_changed) && k->tlb.flush_range)
                k->tlb.flush_range(k->tlb.ctx, kp->pid, r->start, r->end - r->start,
                                   ch.upper_changed != 0);
            break;
        }
        default:
            break;
        }
    }
}

/* dup_mmap's copy_page_range for the ranges task_fork reported: every anonymous page and swap
 * PTE of the parent in them is shared with the child; COW ranges are write-protected in both. */
static void fork_copy(kernel *k, struct kproc *parent, struct kproc *child, const mm_result *res)
{
    mm_struct *cmm = task_mm(child->task);
    for (size_t i = 0; i < res->nr_ranges; i++) {
        const mm_range *r = &res->ranges[i];
        if (r->op != MM_RANGE_FORK_COW && r->op != MM_RANGE_FORK_COPY)
            continue;
        bool cow = r->op == MM_RANGE_FORK_COW;
        for (uint64_t pfn = 0; pfn < k->max_pfn; pfn++) {
            if (k->pkind[pfn] != PK_ANON)
                continue;
            for (uint32_t j = k->rhead[pfn]; j; j = k->rnodes[j - 1].next) {
                struct rmap_node *n = &k->rnodes[j - 1];
                if (n->kp != parent || n->va < r->start || n->va >= r->end)
                    continue;
                uint64_t va = n->va;
                uint64_t old = pgtable_update(k->pt, parent->root, va, 0, cow ? PTE_RW : 0);
                uint64_t flags = old & (PTE_US | PTE_NX | PTE_A | PTE_D | PTE_RW);
                if (cow)
                    flags &= ~PTE_RW;
                pgtable_map(k->pt, child->root, va, pfn, PG_4K, flags);
                rmap_add(k, pfn, child, va); /* at the head: the walk goes on from j */
                mm_add_rss(cmm, MM_ANONPAGES, 1);
                break;
            }
        }
        if (parent->nswap)
            for (uint64_t s = 0; s < k->swcap; s++) {
                struct swslot sl = k->sw[s];
                if (sl.state == 1 && sl.id == parent->id && (sl.vpn << 12) >= r->start &&
                    (sl.vpn << 12) < r->end && reclaim_swap_entry_dup(k->rc, sl.entry) == 0) {
                    sw_insert(k, child->id, sl.vpn, sl.entry);
                    child->nswap++;
                    k->swap_ptes++;
                    mm_add_rss(cmm, MM_SWAPENTS, 1);
                }
            }
        if (cow && k->tlb.flush_range)
            k->tlb.flush_range(k->tlb.ctx, parent->pid, r->start, r->end - r->start, false);
    }
}

int kernel_event(kernel *k, const struct mm_event *ev, uint64_t *addr_out)
{
    k->cpu = ev->cpu;
    mm_result res;
    memset(&res, 0, sizeof res);
    bool vma_event = ev->type == MM_EV_MMAP || ev->type == MM_EV_BRK ||
                     ev->type == MM_EV_MPROTECT || ev->type == MM_EV_MADVISE;
    if (vma_event)
        k->vma_events = true;
    if (ev->type == MM_EV_SWITCH) {
        if (!kp_find(k, ev->pid))
            kp_create(k, ev->pid);
        return 0;
    }
    struct kproc *kp = kp_find(k, ev->pid);
    if (ev->type == MM_EV_EXIT) {
        if (!kp)
            return -3; /* -ESRCH */
        kill_process(k, kp);
        pgtable_mm_destroy(k->pt, kp->root, NULL, NULL);
        kp_unlink(k, kp);
        free(kp);
        return 0;
    }
    if (ev->type != MM_EV_MMAP && ev->type != MM_EV_MUNMAP && ev->type != MM_EV_BRK &&
        ev->type != MM_EV_MPROTECT && ev->type != MM_EV_MADVISE && ev->type != MM_EV_FORK)
        return 0;
    if (!kp && !(kp = kp_create(k, ev->pid)))
        return -12;
    if (kp->killed) {
        k->skipped++;
        return -3;
    }
    mm_struct *mm = task_mm(kp->task);
    int rc = 0;
    switch (ev->type) {
    case MM_EV_MMAP:
        rc = do_mmap(mm, ev->addr, ev->len, ev->flags, ev->file, ev->arg, &res);
        if (addr_out)
            *addr_out = res.addr;
        break;
    case MM_EV_MUNMAP:
        rc = do_munmap(mm, ev->addr, ev->len, &res);
        break;
    case MM_EV_BRK:
        rc = sys_brk(mm, ev->addr, &res);
        if (addr_out)
            *addr_out = res.addr;
        break;
    case MM_EV_MPROTECT:
        rc = do_mprotect(mm, ev->addr, ev->len, ev->flags, &res);
        break;
    case MM_EV_MADVISE:
        rc = do_madvise(mm, ev->addr, ev->len, ev->flags, &res);
        break;
    case MM_EV_FORK: {
        uint32_t cpid = (uint32_t)ev->arg;
        struct kproc *old = kp_find(k, cpid);
        if (old) { /* a pid reused after its exit was missed: drop the stale one */
            kill_process(k, old);
            pgtable_mm_destroy(k->pt, old->root, NULL, NULL);
            kp_unlink(k, old);
            free(old);
        }
        rc = task_fork(k->tt, ev->pid, cpid, &res);
        if (rc)
            break;
        uint64_t root = pgtable_mm_create(k->pt);
        struct kproc *child = kp_insert(k, cpid, task_find(k->tt, cpid), root);
        fork_copy(k, kp, child, &res);
        return 0;
    }
    default:
        break;
    }
    if (rc == 0 || res.nr_ranges)
        apply_ranges(k, kp, &res);
    return rc;
}

uint64_t kernel_tick(kernel *k, uint64_t now, uint64_t budget)
{
    if (now > k->now)
        k->now = now;
    return reclaim_run(k->rc, k->now, budget);
}

uint64_t kernel_now(const kernel *k)
{
    return k->now;
}

/* ---------- statistics ---------- */

static uint64_t sum_zones(const kernel *k, uint64_t (*fn)(const mm_zone *))
{
    uint64_t n = 0;
    for (unsigned nid = 0; nid < mm_phys_nr_nodes(k->pm); nid++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            mm_zone *z = mm_node_zone(k->pm, (int)nid, (enum zone_type)t);
            if (z && populated_zone(z))
                n += fn(z);
        }
    return n;
}

static uint64_t wmark_low(const mm_zone *z)
{
    return wmark_pages(z, WMARK_LOW);
}

static uint64_t g_memtotal(const void *c)
{
    return sum_zones(c, zone_managed_pages) * 4;
}
static uint64_t g_memfree(const void *c)
{
    return sum_zones(c, zone_free_pages) * 4;
}
/* si_mem_available(): free above the reserves, plus the page cache and reclaimable slab that can
 * go without pushing the zones below their low watermarks (no slab here yet) */
static uint64_t g_memavail(const void *c)
{
    const kernel *k = c;
    int64_t avail = (int64_t)sum_zones(k, zone_free_pages) - (int64_t)mm_totalreserve_pages(k->pm);
    const mm_lru *lru = reclaim_lru(k->rc);
    uint64_t pagecache =
        global_lru_pages(lru, LRU_ACTIVE_FILE) + global_lru_pages(lru, LRU_INACTIVE_FILE);
    uint64_t low = sum_zones(k, wmark_low);
    avail += (int64_t)(pagecache - (pagecache / 2 < low ? pagecache / 2 : low));
    return avail < 0 ? 0 : (uint64_t)avail * 4;
}
static uint64_t g_anon(const void *c)
{
    return ((const kernel *)c)->anon_pages * 4;
}
static uint64_t g_pagetables(const void *c)
{
    return pgtable_pages(((const kernel *)c)->pt) * 4;
}
static uint64_t g_committed(const void *c)
{
    return vm_memory_committed(((const kernel *)c)->oc) * 4;
}
static uint64_t g_commitlimit(const void *c)
{
    return vm_commit_limit(((const kernel *)c)->oc) * 4;
}

void kernel_get_stats(const kernel *k, struct kernel_stats *st)
{
    memset(st, 0, sizeof *st);
    st->pgfault = k->pgfault;
    st->pgmajfault = k->pgmajfault;
    st->cow = k->cow;
    st->segfaults = k->segfaults;
    st->skipped = k->skipped;
    st->oom_kills = k->oom_kill;
    st->oom_failures = k->oom_failures;
    st->mem_total = sum_zones(k, zone_managed_pages);
    st->mem_free = sum_zones(k, zone_free_pages);
    st->anon_pages = k->anon_pages;
    st->pgtable_pages = pgtable_pages(k->pt);
    st->swap_ptes = k->swap_ptes;
}

bool kernel_pid_alive(const kernel *k, uint32_t pid)
{
    const struct kproc *kp = kp_find(k, pid);
    return kp && !kp->killed;
}

uint32_t kernel_last_oom_victim(const kernel *k)
{
    return k->last_victim;
}

pgtable *kernel_pgtable(const kernel *k)
{
    return k->pt;
}

/* ---------- create / destroy ---------- */

void kernel_config_init(struct kernel_config *c, uint64_t dram_bytes, unsigned ncpus)
{
    memset(c, 0, sizeof *c);
    c->dram_bytes = dram_bytes;
    c->ncpus = ncpus;
    c->levels = 4;
    c->freq_mhz = 3000;
    c->fault_cost = 2500;
    c->major_fault_cost = 25000;
    c->overcommit_memory = OVERCOMMIT_GUESS;
    c->overcommit_ratio = 50;
    c->swappiness = 60;
    c->swap_device = BDEV_SSD;
}

kernel *kernel_create(const struct kernel_config *cfg, const struct kernel_tlb_ops *tlb,
                      stats_registry *reg, mm_err *err)
{
    kernel *k = xcalloc(1, sizeof *k);
    k->cfg = *cfg;
    if (tlb)
        k->tlb = *tlb;
    mm_phys_config pc;
    mm_phys_config_init(&pc, MM_ARCH_X86_64, cfg->dram_bytes, cfg->ncpus ? cfg->ncpus : 1);
    pc.min_free_kbytes = cfg->min_free_kbytes;
    pc.pcp_disabled = cfg->pcp_disabled;
    if (!(k->pm = mm_phys_create(&pc, reg, err)))
        goto fail;
    k->max_pfn = mm_phys_max_pfn(k->pm);
    k->pkind = xcalloc(k->max_pfn, 1);
    k->rhead = xcalloc(k->max_pfn, sizeof *k->rhead);
    struct pgtable_frames src = {table_alloc, table_free, k};
    k->pt = pgtable_create(cfg->levels, &src, reg, "os.pgtable");
    k->half = 1ull << (12u + 9u * cfg->levels - 1u);
    k->user_top = cfg->levels == 5 ? MM_TASK_SIZE_MAX_5L : MM_TASK_SIZE_MAX_4L;

    struct mm_reclaim_config rcfg;
    mm_reclaim_config_init(&rcfg);
    rcfg.freq_mhz = cfg->freq_mhz;
    rcfg.vmscan.swappiness = cfg->swappiness;
    if (cfg->swap_bytes) {
        rcfg.nr_swap = 1;
        swap_device_config_init(&rcfg.swap[0], (enum bdev_kind)cfg->swap_device, cfg->swap_bytes);
    }
    struct reclaim_ops ops = {k, cb_referenced, cb_unmap, NULL};
    if (!(k->rc = mm_reclaim_create(k->pm, &rcfg, &ops, reg, err)))
        goto fail;

    overcommit_config oc;
    uint64_t managed = sum_zones(k, zone_managed_pages);
    overcommit_config_init(&oc, managed, total_swap_pages(reclaim_swap(k->rc)),
                           sum_zones(k, zone_free_pages));
    oc.overcommit_memory = cfg->overcommit_memory;
    oc.overcommit_ratio = cfg->overcommit_ratio;
    if (!(k->oc = overcommit_create(&oc, reg, err)))
        goto fail;
    mm_layout lay;
    mm_layout_init(&lay);
    lay.la57 = cfg->levels == 5;
    if (!(k->tt = task_table_create(&lay, k->oc, reg, err)))
        goto fail;
    k->ok = oom_killer_create(k->tt, reg);
    k->nbuckets = 64;
    k->buckets = xcalloc(k->nbuckets, sizeof *k->buckets);

    if (reg) {
        const char *m = "os.meminfo", *v = "os.vmstat", *o = "os.kernel";
        stats_gauge(reg, m, "MemTotal", g_memtotal, k, "kB managed by the buddy allocator");
        stats_gauge(reg, m, "MemFree", g_memfree, k, "kB free in the buddy allocator");
        stats_gauge(reg, m, "MemAvailable", g_memavail, k, "kB, as si_mem_available estimates");
        stats_gauge(reg, m, "AnonPages", g_anon, k, "kB of mapped anonymous pages");
        stats_gauge(reg, m, "PageTables", g_pagetables, k, "kB of page-table pages");
        stats_gauge(reg, m, "Committed_AS", g_committed, k, "kB charged to Committed_AS");
        stats_gauge(reg, m, "CommitLimit", g_commitlimit, k, "kB, vm_commit_limit()");
        stats_counter(reg, v, "pgfault", &k->pgfault, "page faults handled by the kernel model");
        stats_counter(reg, v, "pgmajfault", &k->pgmajfault, "faults that waited for a read");
        stats_counter(reg, v, "oom_kill", &k->oom_kill, "processes killed by the OOM killer");
        stats_counter(reg, o, "segfaults", &k->segfaults,
                      "accesses outside the VMAs or against their protection (process killed)");
        stats_counter(reg, o, "skipped_records", &k->skipped,
                      "records of processes killed earlier (segfault, OOM), skipped");
        stats_counter(reg, o, "cow_faults", &k->cow, "copy-on-write copies after fork");
        stats_counter(reg, o, "oom_failures", &k->oom_failures,
                      "faults that found no memory and nothing to kill");
        stats_counter(reg, o, "kernel_pages", &k->kernel_pages,
                      "kernel-half pages a plain trace touched (unmovable, never freed)");
    }
    return k;
fail:
    kernel_destroy(k);
    return NULL;
}

void kernel_destroy(kernel *k)
{
    if (!k)
        return;
    for (uint64_t i = 0; i < k->nbuckets; i++)
        for (struct kproc *p = k->buckets[i], *n; p; p = n) {
            n = p->next;
            free(p);
        }
    free(k->buckets);
    oom_killer_destroy(k->ok);
    task_table_destroy(k->tt);
    overcommit_destroy(k->oc);
    pgtable_destroy(k->pt);
    mm_reclaim_destroy(k->rc);
    mm_phys_destroy(k->pm);
    free(k->pkind);
    free(k->rhead);
    free(k->rnodes);
    free(k->sw);
    free(k);
}
