/* The page walker (see walker.h). */
#include "models/hw/walker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/hist.h"
#include "models/common/xalloc.h"
#include "models/hw/tlb.h"
#include "traces/event.h"

struct walker_stats {
    uint64_t walks, refs, cycles, faults, ad_updates;
    uint64_t loads[LEVEL_MEM + 1]; /* by the level that served the load */
    uint64_t guest_refs, host_refs, host_walks, host_faults;
    hist refs_hist, latency_hist;
};

struct walker {
    cache_hier *caches;
    unsigned cpu;
    enum mem_level cache_level;
    unsigned levels, host_levels;
    int nested;
    uint64_t va_mask, gpa_mask;
    struct walker_mem mem, host_mem;
    pwc *pwc, *host_pwc;
    struct walker_stats s;
};

static inline unsigned entry_index(uint64_t va, unsigned level)
{
    return (unsigned)(va >> (12u + 9u * (level - 1u))) & 511u;
}

static inline uint64_t span_of(unsigned level)
{
    return (uint64_t)1 << (12u + 9u * (level - 1u));
}

/* TLB_W, TLB_U, TLB_X of one entry: RW and US sit on the same bits as TLB_W and TLB_U. */
static inline uint64_t entry_perms(uint64_t e)
{
    return (e & (WALK_PTE_RW | WALK_PTE_US)) | ((~e >> 63) << 3);
}

static inline int is_leaf(uint64_t e, unsigned level)
{
    return level == 1 || ((e & WALK_PTE_PS) && level <= 3);
}

static inline uint32_t load(walker *w, uint64_t pa)
{
    struct mem_result r = cache_hier_access_from(w->caches, w->cpu, w->cache_level, pa, 8, MM_EV_READ);
    w->s.loads[r.level]++;
    return r.latency;
}

/* A locked update of an entry (A/D): a write of its line. */
static inline uint32_t update(walker *w, const struct walker_mem *m, uint64_t epa_read,
                              uint64_t epa_cache, uint64_t bits)
{
    m->set_bits(m->ctx, epa_read, bits);
    w->s.ad_updates++;
    struct mem_result r =
        cache_hier_access_from(w->caches, w->cpu, w->cache_level, epa_cache, 8, MM_EV_WRITE);
    return r.latency;
}

walker *walker_create(const struct walker_params *p, cache_hier *caches, unsigned cpu,
                      const struct walker_mem *mem, const struct walker_mem *host_mem,
                      stats_registry *reg, const char *wprefix, const char *pwc_prefix)
{
    if ((p->levels != 4 && p->levels != 5) ||
        (p->nested && ((p->host_levels != 4 && p->host_levels != 5) || !host_mem))) {
        fprintf(stderr, "mmusim: internal error: walker_create(levels %u/%u)\n", p->levels,
                p->host_levels);
        abort();
    }
    walker *w = xcalloc(1, sizeof *w);
    w->caches = caches;
    w->cpu = cpu;
    w->cache_level = p->cache_level;
    w->levels = p->levels;
    w->host_levels = p->host_levels;
    w->nested = p->nested;
    w->va_mask = ((uint64_t)1 << (12u + 9u * p->levels)) - 1;
    w->gpa_mask = p->nested ? ((uint64_t)1 << (12u + 9u * p->host_levels)) - 1 : 0;
    w->mem = *mem;
    if (p->nested)
        w->host_mem = *host_mem;
    hist_init(&w->s.refs_hist);
    hist_init(&w->s.latency_hist);
    const char *pp = pwc_prefix ? pwc_prefix : "pwc";
    w->pwc = pwc_create(&p->pwc, p->levels, reg, pp);
    if (p->nested) {
        char *hp = xasprintf("%s.host", pp);
        w->host_pwc = pwc_create(&p->pwc, p->host_levels, reg, hp);
        free(hp);
    }
    if (reg) {
        const char *wp = wprefix ? wprefix : "walker";
        struct walker_stats *s = &w->s;
        stats_counter(reg, wp, "walks", &s->walks, "page walks (a fault's retry is a walk of its own)");
        stats_counter(reg, wp, "memory_refs", &s->refs,
                      "paging-entry loads through the caches (guest and host)");
        stats_counter(reg, wp, "cycles", &s->cycles, "cycles spent walking");
        stats_counter(reg, wp, "faults", &s->faults, "walks that ended in a page fault");
        stats_counter(reg, wp, "ad_updates", &s->ad_updates,
                      "Accessed/Dirty updates (each a write of the entry's line)");
        stats_counter(reg, wp, "loads_l1d", &s->loads[LEVEL_L1], "entry loads served by the L1D");
        stats_counter(reg, wp, "loads_l2", &s->loads[LEVEL_L2], "entry loads served by the L2");
        stats_counter(reg, wp, "loads_llc", &s->loads[LEVEL_LLC], "entry loads served by the LLC");
        stats_counter(reg, wp, "loads_mem", &s->loads[LEVEL_MEM], "entry loads served by memory");
        if (p->nested) {
            stats_counter(reg, wp, "guest_refs", &s->guest_refs, "guest paging-entry loads");
            stats_counter(reg, wp, "host_refs", &s->host_refs,
                          "host paging-entry loads (translating guest-physical addresses)");
            stats_counter(reg, wp, "host_walks", &s->host_walks,
                          "guest-physical to host-physical translations walked");
            stats_counter(reg, wp, "host_faults", &s->host_faults,
                          "walks that ended in a host (EPT violation) fault");
        }
        stats_histogram(reg, wp, "refs_per_walk", &s->refs_hist, "entry loads per walk");
        stats_histogram(reg, wp, "walk_latency", &s->latency_hist, "cycles per walk");
    }
    return w;
}

void walker_destroy(walker *w)
{
    if (!w)
        return;
    pwc_destroy(w->pwc);
    pwc_destroy(w->host_pwc);
    free(w);
}

static void set_fault(struct walk_result *res, enum walk_stage stage, uint64_t addr, uint32_t err)
{
    res->status = WALK_FAULT;
    res->fault_stage = stage;
    res->fault_addr = addr;
    res->fault_err = err;
}

/* Guest-physical to host-physical through the host tables. 0 with *hpa (the byte's address) and
 * *size, or 1 with the fault in res. */
static int host_translate(walker *w, const struct walk_req *rq, uint64_t gpa, int write,
                          uint64_t *hpa, unsigned *size, struct walk_result *res)
{
    w->s.host_walks++;
    uint64_t g = gpa & w->gpa_mask;
    uint64_t table = rq->host_root, acc = TLB_W | TLB_U | TLB_X, pay = 0;
    unsigned level = w->host_levels, lat = 0;
    unsigned hit = pwc_lookup(w->host_pwc, g, 0, &pay, &lat);
    res->cycles += lat;
    if (hit) {
        level = hit - 1;
        table = (pay & WALK_PTE_ADDR) >> 12;
        acc = pay & (TLB_W | TLB_U | TLB_X);
    }
    for (;; level--) {
        uint64_t epa = (table << 12) | (uint64_t)entry_index(g, level) * 8;
        /* the value first, and a hint for the next level's entry: their host-memory misses
         * overlap the simulated load */
        uint64_t e = w->host_mem.read(w->host_mem.ctx, epa);
        if (w->host_mem.prefetch && level > 1 && (e & WALK_PTE_P) && !is_leaf(e, level))
            w->host_mem.prefetch(w->host_mem.ctx, (e & WALK_PTE_ADDR) |
                                                      (uint64_t)entry_index(g, level - 1) * 8);
        res->cycles += load(w, epa);
        res->refs++;
        w->s.host_refs++;
        if (!(e & WALK_PTE_P)) {
            set_fault(res, WALK_STAGE_HOST, gpa, write ? WALK_ERR_W : 0);
            return 1;
        }
        acc &= entry_perms(e);
        if (is_leaf(e, level)) {
            if (write && !(acc & TLB_W)) {
                set_fault(res, WALK_STAGE_HOST, gpa, WALK_ERR_P | WALK_ERR_W);
                return 1;
            }
            uint64_t need = WALK_PTE_A | (write ? WALK_PTE_D : 0);
            if ((e & need) != need)
                res->cycles += update(w, &w->host_mem, epa, epa, need & ~e);
            *size = level - 1;
            *hpa = ((e & WALK_PTE_ADDR) & ~(span_of(level) - 1)) | (g & (span_of(level) - 1));
            return 0;
        }
        if (!(e & WALK_PTE_A))
            res->cycles += update(w, &w->host_mem, epa, epa, WALK_PTE_A);
        pwc_fill(w->host_pwc, level, g, 0, (e & WALK_PTE_ADDR) | acc);
        table = (e & WALK_PTE_ADDR) >> 12;
    }
}

void walker_walk(walker *w, const struct walk_req *rq, struct walk_result *res)
{
    res->status = WALK_OK;
    res->cycles = 0;
    res->refs = 0;
    w->s.walks++;
    int store = rq->type == MM_EV_WRITE || rq->type == MM_EV_RMW;
    int ifetch = rq->type == MM_EV_IFETCH;
    uint64_t va = rq->va & w->va_mask;
    uint64_t table = rq->root, acc = TLB_W | TLB_U | TLB_X, pay = 0;
    unsigned level = w->levels, lat = 0;
    unsigned hit = pwc_lookup(w->pwc, va, rq->tag, &pay, &lat);
    res->cycles += lat;
    if (hit) {
        level = hit - 1;
        table = (pay & WALK_PTE_ADDR) >> 12;
        acc = pay & (TLB_W | TLB_U | TLB_X);
    }
    uint32_t err_bits = (store ? WALK_ERR_W : 0) | (rq->user ? WALK_ERR_U : 0) |
                        (ifetch ? WALK_ERR_I : 0);
    for (;; level--) {
        uint64_t epa_g = (table << 12) | (uint64_t)entry_index(va, level) * 8;
        uint64_t epa = epa_g;
        if (w->nested) {
            unsigned hs;
            if (host_translate(w, rq, epa_g, 0, &epa, &hs, res))
                goto out;
            w->s.guest_refs++;
        }
        uint64_t e = w->mem.read(w->mem.ctx, epa_g);
        if (w->mem.prefetch && level > 1 && (e & WALK_PTE_P) && !is_leaf(e, level))
            w->mem.prefetch(w->mem.ctx,
                            (e & WALK_PTE_ADDR) | (uint64_t)entry_index(va, level - 1) * 8);
        res->cycles += load(w, epa);
        res->refs++;
        if (!(e & WALK_PTE_P)) {
            set_fault(res, WALK_STAGE_GUEST, rq->va, err_bits);
            goto out;
        }
        acc &= entry_perms(e);
        if (is_leaf(e, level)) {
            if ((store && !(acc & TLB_W)) || (rq->user && !(acc & TLB_U)) ||
                (ifetch && !(acc & TLB_X))) {
                set_fault(res, WALK_STAGE_GUEST, rq->va, err_bits | WALK_ERR_P);
                goto out;
            }
            uint64_t need = WALK_PTE_A | (store ? WALK_PTE_D : 0);
            if ((e & need) != need) {
                res->cycles += update(w, &w->mem, epa_g, epa, need & ~e);
                e |= need;
            }
            uint64_t span = span_of(level);
            uint64_t base = (e & WALK_PTE_ADDR) & ~(span - 1);
            unsigned size = level - 1;
            if (w->nested) {
                uint64_t hpa;
                unsigned hs;
                if (host_translate(w, rq, base | (va & (span - 1)), store, &hpa, &hs, res))
                    goto out;
                if (hs < size)
                    size = hs;
                base = hpa & ~(span_of(size + 1) - 1);
            }
            res->pa = base;
            res->size = size;
            res->perms = acc | ((e & WALK_PTE_D) ? TLB_D : 0) | ((e & WALK_PTE_G) ? TLB_G : 0);
            goto out;
        }
        if (!(e & WALK_PTE_A))
            res->cycles += update(w, &w->mem, epa_g, epa, WALK_PTE_A);
        pwc_fill(w->pwc, level, va, rq->tag, (e & WALK_PTE_ADDR) | acc);
        table = (e & WALK_PTE_ADDR) >> 12;
    }
out:
    if (res->status == WALK_FAULT) {
        w->s.faults++;
        if (res->fault_stage == WALK_STAGE_HOST)
            w->s.host_faults++;
    }
    w->s.refs += res->refs;
    w->s.cycles += res->cycles;
    hist_record(&w->s.refs_hist, res->refs);
    hist_record(&w->s.latency_hist, res->cycles);
}

void walker_flush(walker *w)
{
    pwc_flush(w->pwc);
}

void walker_flush_tag(walker *w, uint64_t tag)
{
    pwc_flush_tag(w->pwc, tag);
}

void walker_invalidate_va(walker *w, uint64_t va, uint64_t tag)
{
    pwc_invalidate_va(w->pwc, va & w->va_mask, tag);
}

void walker_flush_host(walker *w)
{
    if (w->host_pwc)
        pwc_flush(w->host_pwc);
}
