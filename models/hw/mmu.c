/* The MMU: per-CPU TLBs and walkers, translation, and TLB maintenance (see mmu.h). */
#include "models/hw/mmu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"

int mmu_params_check(const struct mmu_params *p, mm_err *err)
{
    struct {
        const char *name;
        const struct tlb_params *t;
    } lv[] = {{"tlb.l1i", &p->l1i}, {"tlb.l1d", &p->l1d}, {"tlb.stlb", &p->stlb}};
    mm_err e;
    for (unsigned i = 0; i < 3; i++)
        if (tlb_params_check(lv[i].t, &e))
            return mm_errf(err, "[%s] %s", lv[i].name, e.msg);
    if (pwc_params_check(&p->walker.pwc, &e))
        return mm_errf(err, "[pwc] %s", e.msg);
    if (p->walker.levels != 4 && p->walker.levels != 5)
        return mm_errf(err, "[walker] levels must be 4 or 5, not %u", p->walker.levels);
    if (p->walker.nested && p->walker.host_levels != 4 && p->walker.host_levels != 5)
        return mm_errf(err, "[walker] host_levels must be 4 or 5, not %u", p->walker.host_levels);
    if (p->ncpus == 0 || p->ncpus > MM_MAX_CPUS)
        return mm_errf(err, "cpu count %u out of range 1..%u", p->ncpus, MM_MAX_CPUS);
    return 0;
}

static char *name_for(unsigned ncpus, unsigned cpu, const char *base, const char *leaf)
{
    if (ncpus == 1)
        return leaf ? xasprintf("%s.%s", base, leaf) : xasprintf("%s", base);
    return leaf ? xasprintf("%s.cpu%u.%s", base, cpu, leaf) : xasprintf("%s.cpu%u", base, cpu);
}

mmu *mmu_create(const struct mmu_params *p, cache_hier *caches, const struct walker_mem *mem,
                const struct walker_mem *host_mem, mmu_fault_fn fault, void *fault_ctx,
                stats_registry *reg, mm_err *err)
{
    if (mmu_params_check(p, err))
        return NULL;
    mmu *m = xcalloc(1, sizeof *m);
    m->ncpus = p->ncpus;
    m->va_mask = ((uint64_t)1 << (12u + 9u * p->walker.levels)) - 1;
    m->half_shift = 12u + 9u * p->walker.levels - 1u;
    m->pcid = p->pcid;
    m->shootdown_cost = p->shootdown_cost;
    m->flush_ceiling = p->flush_ceiling;
    m->host_root = MMU_NO_ROOT;
    m->need[MM_EV_READ] = 0;
    m->need[MM_EV_WRITE] = TLB_W | TLB_D;
    m->need[MM_EV_IFETCH] = TLB_X;
    m->need[MM_EV_RMW] = TLB_W | TLB_D;
    for (unsigned t = 0; t < 4; t++) {
        m->need_half[0][t] = m->need[t] | TLB_U;
        m->need_half[1][t] = m->need[t];
    }
    m->fault = fault;
    m->fault_ctx = fault_ctx;
    m->cpu = xcalloc(p->ncpus, sizeof *m->cpu);
    for (unsigned i = 0; i < p->ncpus; i++) {
        struct mmu_cpu *c = &m->cpu[i];
        char *n;
        n = name_for(p->ncpus, i, "tlb", "l1i");
        c->l1i = tlb_create(&p->l1i, reg, n);
        free(n);
        n = name_for(p->ncpus, i, "tlb", "l1d");
        c->l1d = tlb_create(&p->l1d, reg, n);
        free(n);
        n = name_for(p->ncpus, i, "tlb", "stlb");
        c->stlb = tlb_create(&p->stlb, reg, n);
        free(n);
        c->fast_i = c->l1i && c->l1i->arr[TLB_4K].c ? &c->l1i->arr[TLB_4K] : NULL;
        c->fast_d = c->l1d && c->l1d->arr[TLB_4K].c ? &c->l1d->arr[TLB_4K] : NULL;
        char *wn = name_for(p->ncpus, i, "walker", NULL);
        char *pn = name_for(p->ncpus, i, "pwc", NULL);
        c->w = walker_create(&p->walker, caches, i, mem, host_mem, reg, wn, pn);
        free(wn);
        free(pn);
        c->root = MMU_NO_ROOT;
    }
    if (reg) {
        struct mmu_stats *s = &m->s;
        stats_counter(reg, "mmu", "cycles", &s->cycles,
                      "translation cycles: TLB lookups, walks and fault handling");
        stats_counter(reg, "mmu", "faults", &s->faults, "page faults handed to the kernel model");
        stats_counter(reg, "mmu", "fault_cycles", &s->fault_cycles, "cycles spent handling them");
        stats_counter(reg, "mmu", "protection_faults", &s->protection_faults,
                      "faults raised by a TLB hit whose cached rights deny the access");
        stats_counter(reg, "mmu", "dirty_assists", &s->dirty_assists,
                      "stores through a TLB entry cached clean (a walk sets the Dirty bit)");
        stats_counter(reg, "mmu", "unresolved_faults", &s->unresolved,
                      "accesses given up because their fault could not be handled");
        stats_counter(reg, "tlb", "context_switches", &s->switches, "CR3 loads");
        stats_counter(reg, "tlb", "flushes", &s->flushes,
                      "flushes of every (non-global) entry of a CPU: CR3 loads without PCIDs, "
                      "flushes of everything");
        stats_counter(reg, "tlb", "pcid_flushes", &s->pcid_flushes,
                      "flushes of one PCID's entries on a CPU");
        stats_counter(reg, "tlb", "invlpg", &s->invlpgs, "single-page invalidations (INVLPG)");
        stats_counter(reg, "tlb", "shootdowns", &s->shootdowns,
                      "range invalidations of an address space across CPUs");
        stats_counter(reg, "tlb", "shootdown_ipis", &s->shootdown_ipis,
                      "other CPUs interrupted by shootdowns");
        stats_counter(reg, "tlb", "shootdown_cycles", &s->shootdown_cycles,
                      "cycles the initiators paid for shootdown interrupts");
    }
    return m;
}

void mmu_destroy(mmu *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->ncpus; i++) {
        tlb_destroy(m->cpu[i].l1i);
        tlb_destroy(m->cpu[i].l1d);
        tlb_destroy(m->cpu[i].stlb);
        walker_destroy(m->cpu[i].w);
    }
    free(m->cpu);
    free(m);
}

void mmu_set_host_root(mmu *m, uint64_t host_root)
{
    m->host_root = host_root;
    for (unsigned i = 0; i < m->ncpus; i++)
        walker_flush_host(m->cpu[i].w);
}

const tlb *mmu_tlb(const mmu *m, unsigned cpu, enum mmu_tlb_which which)
{
    if (cpu >= m->ncpus)
        return NULL;
    const struct mmu_cpu *c = &m->cpu[cpu];
    return which == MMU_L1I ? c->l1i : which == MMU_L1D ? c->l1d : c->stlb;
}

uint64_t mmu_current_root(const mmu *m, unsigned cpu)
{
    return cpu < m->ncpus ? m->cpu[cpu].root : MMU_NO_ROOT;
}

static void flush_cpu(mmu *m, struct mmu_cpu *c, enum tlb_flush_kind kind, uint64_t tag)
{
    tlb *levels[3] = {c->l1i, c->l1d, c->stlb};
    for (unsigned i = 0; i < 3; i++)
        if (levels[i])
            tlb_flush(levels[i], kind, tag);
    if (kind == TLB_FLUSH_TAG) {
        walker_flush_tag(c->w, tag);
        m->s.pcid_flushes++;
    } else {
        /* every guest-level entry of every PCID (host-level ones stay: the host tables did not
         * change) */
        walker_flush(c->w);
        m->s.flushes++;
    }
}

void mmu_switch(mmu *m, unsigned cpu, uint64_t root, unsigned pcid, int noflush)
{
    struct mmu_cpu *c = &m->cpu[cpu];
    c->root = root;
    m->s.switches++;
    if (!m->pcid) {
        c->tag = 0;
        c->tagbits = 0;
        flush_cpu(m, c, TLB_FLUSH_NON_GLOBAL, 0);
        return;
    }
    c->tag = pcid & TLB_MAX_PCID;
    c->tagbits = c->tag << TLB_TAG_SHIFT;
    if (!noflush)
        flush_cpu(m, c, TLB_FLUSH_TAG, c->tag);
}

static void invlpg_cpu(mmu *m, struct mmu_cpu *c, uint64_t va)
{
    uint64_t vm = va & m->va_mask;
    tlb *levels[3] = {c->l1i, c->l1d, c->stlb};
    for (unsigned i = 0; i < 3; i++)
        if (levels[i])
            tlb_invalidate_page(levels[i], vm, c->tag);
    m->s.invlpgs++;
}

void mmu_invlpg(mmu *m, unsigned cpu, uint64_t va)
{
    struct mmu_cpu *c = &m->cpu[cpu];
    invlpg_cpu(m, c, va);
    walker_flush_tag(c->w, c->tag);
}

void mmu_flush(mmu *m, unsigned cpu, enum tlb_flush_kind kind)
{
    struct mmu_cpu *c = &m->cpu[cpu];
    flush_cpu(m, c, kind, c->tag);
}

void mmu_flush_pcid(mmu *m, unsigned cpu, unsigned pcid)
{
    flush_cpu(m, &m->cpu[cpu], TLB_FLUSH_TAG, pcid & TLB_MAX_PCID);
}

uint64_t mmu_shootdown(mmu *m, unsigned initiator, uint64_t root, uint64_t va, uint64_t len,
                       unsigned stride_shift)
{
    m->s.shootdowns++;
    uint64_t stride = (uint64_t)1 << stride_shift;
    uint64_t first = va & ~(stride - 1);
    uint64_t last = len ? (va + len - 1) & ~(stride - 1) : first;
    uint64_t pages = len ? ((last - first) >> stride_shift) + 1 : 0;
    uint64_t cost = 0;
    for (unsigned i = 0; i < m->ncpus; i++) {
        struct mmu_cpu *c = &m->cpu[i];
        if (c->root != root || !pages)
            continue;
        if (pages > m->flush_ceiling) {
            flush_cpu(m, c, m->pcid ? TLB_FLUSH_TAG : TLB_FLUSH_NON_GLOBAL, c->tag);
        } else {
            for (uint64_t p = 0; p < pages; p++)
                invlpg_cpu(m, c, first + p * stride);
            walker_flush_tag(c->w, c->tag);
        }
        if (i != initiator) {
            cost += m->shootdown_cost;
            m->s.shootdown_ipis++;
        }
    }
    m->s.shootdown_cycles += cost;
    return cost;
}

uint64_t mmu_shootdown_kernel(mmu *m, unsigned initiator, uint64_t va, uint64_t len,
                              unsigned stride_shift, int tables_changed)
{
    m->s.shootdowns++;
    uint64_t stride = (uint64_t)1 << stride_shift;
    uint64_t first = va & ~(stride - 1);
    uint64_t last = len ? (va + len - 1) & ~(stride - 1) : first;
    uint64_t pages = len ? ((last - first) >> stride_shift) + 1 : 0;
    uint64_t cost = 0;
    if (!pages)
        return 0;
    for (unsigned i = 0; i < m->ncpus; i++) {
        struct mmu_cpu *c = &m->cpu[i];
        if (tables_changed || pages > m->flush_ceiling) {
            flush_cpu(m, c, TLB_FLUSH_ALL, 0); /* page-walk caches of every PCID too */
        } else {
            for (uint64_t p = 0; p < pages; p++)
                invlpg_cpu(m, c, first + p * stride);
            walker_flush_tag(c->w, c->tag);
        }
        if (i != initiator) {
            cost += m->shootdown_cost;
            m->s.shootdown_ipis++;
        }
    }
    m->s.shootdown_cycles += cost;
    return cost;
}

/* Drops what a CPU caches for va (a page fault does so, SDM 4.10.4.1). `missed`: the TLB the
 * access used and the STLB were just looked up without finding va, so hold nothing to drop. */
static void drop_va(struct mmu_cpu *c, uint64_t vm, const tlb *used, int missed)
{
    tlb *levels[3] = {c->l1i, c->l1d, c->stlb};
    for (unsigned i = 0; i < 3; i++)
        if (levels[i] && !(missed && (levels[i] == used || levels[i] == c->stlb)))
            tlb_invalidate_page(levels[i], vm, c->tag);
    walker_invalidate_va(c->w, vm, c->tag);
}

/* Calls the kernel model; 0 when handled. */
static int take_fault(mmu *m, unsigned cpu, enum walk_stage stage, uint64_t addr, uint64_t root,
                      uint32_t err, unsigned type, uint32_t *lat)
{
    struct mmu_fault f = {cpu, stage, addr, root, err, type};
    uint32_t fc = 0;
    int rc = m->fault ? m->fault(m->fault_ctx, &f, &fc) : -1;
    m->s.faults++;
    m->s.fault_cycles += fc;
    *lat += fc;
    return rc;
}

int mmu_translate_slow(mmu *m, unsigned cpu, uint64_t va, unsigned type, uint64_t *pa,
                       uint32_t *cycles, int probed_4k)
{
    struct mmu_cpu *c = &m->cpu[cpu];
    tlb *t1 = type == MM_EV_IFETCH ? c->l1i : c->l1d;
    tlb *t2 = c->stlb;
    uint64_t vm = va & m->va_mask;
    int user = !((vm >> m->half_shift) & 1);
    uint64_t need = m->need[type] | (user ? TLB_U : 0);
    uint32_t lat = 0;
    uint64_t pay = 0;
    unsigned size = 0;
    int found = 0; /* 1: in the L1, 2: in the STLB */
    int l1_missed = 0, l2_missed = 0;

    if (t1) {
        lat += t1->latency;
        t1->s.accesses++;
        uint64_t *p = tlb_lookup(t1, vm, c->tag, &size, probed_4k);
        if (p) {
            t1->s.hits++;
            t1->s.hits_size[size]++;
            pay = *p;
            found = 1;
        } else {
            t1->s.misses++;
            l1_missed = 1;
        }
    }
    if (!found && t2) {
        lat += t2->latency;
        t2->s.accesses++;
        uint64_t *p = tlb_lookup(t2, vm, c->tag, &size, 0);
        if (p) {
            t2->s.hits++;
            t2->s.hits_size[size]++;
            pay = *p;
            found = 2;
        } else {
            t2->s.misses++;
            l2_missed = 1;
        }
    }
    if (found && (pay & need) == need) {
        if (found == 2 && t1) {
            tlb_fill(t1, vm, size, c->tag, pay);
            t1->s.misses_size[size]++;
        }
        goto done;
    }
    int refresh = 0; /* the entries may be present: update them in place */
    if (found) {
        if (((pay | TLB_D) & need) == need) {
            refresh = 1;
            m->s.dirty_assists++; /* the walk below sets D and refreshes the entries */
        } else {
            /* the cached rights deny the access: #PF without a walk */
            m->s.protection_faults++;
            uint32_t err = WALK_ERR_P | (need & TLB_W ? WALK_ERR_W : 0) | (user ? WALK_ERR_U : 0) |
                           (type == MM_EV_IFETCH ? WALK_ERR_I : 0);
            drop_va(c, vm, t1, 0);
            if (take_fault(m, cpu, WALK_STAGE_GUEST, va, c->root, err, type, &lat))
                goto unresolved;
        }
    }
    for (int faults = 0;; faults++) {
        struct walk_req rq = {va, c->root, m->host_root, c->tag, type, user};
        struct walk_result r;
        walker_walk(c->w, &rq, &r);
        lat += r.cycles;
        if (r.status == WALK_OK) {
            pay = r.pa | r.perms;
            size = r.size;
            break;
        }
        if (faults == MMU_MAX_FAULTS)
            goto unresolved;
        if (r.fault_stage == WALK_STAGE_GUEST)
            drop_va(c, vm, t1, !found);
        if (take_fault(m, cpu, r.fault_stage, r.fault_addr,
                       r.fault_stage == WALK_STAGE_HOST ? m->host_root : c->root, r.fault_err, type,
                       &lat))
            goto unresolved;
    }
    if (t2) {
        (refresh ? tlb_refill : tlb_fill)(t2, vm, size, c->tag, pay);
        if (l2_missed)
            t2->s.misses_size[size]++;
    }
    if (t1) {
        (refresh ? tlb_refill : tlb_fill)(t1, vm, size, c->tag, pay);
        if (l1_missed)
            t1->s.misses_size[size]++;
    }
done:
    *pa = (pay & TLB_ADDR_MASK) | (va & (((uint64_t)1 << tlb_page_shift(size)) - 1));
    *cycles += lat;
    m->s.cycles += lat;
    return 0;
unresolved:
    m->s.unresolved++;
    *cycles += lat;
    m->s.cycles += lat;
    return -1;
}
