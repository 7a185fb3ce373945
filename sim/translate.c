/* The translate path: MMU, page tables and the stand-in first-touch kernel (see translate.h). */
#include "sim/translate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"
#include "models/os/frame_alloc.h"
#include "models/os/kernel.h"
#include "models/os/pgtable.h"

/* Linux's tlb_single_page_flush_ceiling (arch/x86/mm/tlb.c): a flush of more pages than this
 * flushes the whole address space instead of one INVLPG per page. */
#define LINUX_FLUSH_CEILING 33u

struct aspace {
    uint32_t pid;
    uint64_t root;  /* root table pfn in priv->pt */
    unsigned pcid;
    uint64_t id;    /* unique over the run: PCID ownership */
    uint64_t gen;   /* bumped by each change of its translations (Linux's tlb_gen) */
    struct aspace *next;
};

/* What a CPU knows of each PCID (Linux's cpu_tlbstate.ctxs[]): which address space last used it
 * there and which generation of that address space its entries reflect. */
struct cpu_pcids {
    uint64_t owner[TLB_MAX_PCID + 1];
    uint64_t gen[TLB_MAX_PCID + 1];
};

struct xlate_priv {
    unsigned ncpus;
    int nested, pcid;
    unsigned half_shift; /* the bit that selects the kernel half */
    enum pg_size ft_size, host_size;
    uint32_t fault_cost;
    frame_alloc *frames;       /* host frames (the only ones without nesting) */
    frame_alloc *guest_frames; /* nested: guest-physical frames */
    pgtable *pt;               /* the tables the walker walks first (the guest's when nested) */
    pgtable *host_pt;
    uint64_t host_root;
    struct aspace **buckets;   /* pid -> address space, chained */
    uint64_t nbuckets, naspaces;
    struct aspace **cur;       /* per cpu */
    struct cpu_pcids *pcids;   /* per cpu, with PCIDs */
    uint64_t next_id;
    unsigned next_pcid;
    /* statistics */
    kernel *k;       /* [kernel] model = linux: the kernel model owns the page tables */
    uint64_t kclock; /* linux: the kernel's clock, the fault cycles summed (no engine time yet) */
    unsigned ev_cpu; /* linux: the CPU of the kernel operation in progress */
    uint64_t host_faults, prot_upgrades, smaller_pages, munmaps, unmapped_pages, exits,
        lazy_flushes;
};

/* ---------- frame sources and memory views ---------- */

static uint64_t frames_alloc(void *ctx)
{
    return frame_alloc_block(ctx, 0);
}

static void frames_free(void *ctx, uint64_t pfn)
{
    frame_alloc_free_block(ctx, pfn, 0);
}

static uint64_t mem_read(void *ctx, uint64_t pa)
{
    return pgtable_read_phys(ctx, pa);
}

static void mem_set_bits(void *ctx, uint64_t pa, uint64_t bits)
{
    pgtable_set_bits_phys(ctx, pa, bits);
}

static void mem_prefetch(void *ctx, uint64_t pa)
{
    pgtable_prefetch_phys(ctx, pa);
}

/* A leaf unmapped or torn down: its frames go back to the allocator. */
static void free_leaf(void *ctx, uint64_t vaddr, uint64_t pfn, enum pg_size size, uint64_t pte)
{
    (void)vaddr;
    (void)pte;
    frame_alloc_free_block(ctx, pfn, 9u * (unsigned)size);
}

/* ---------- address spaces ---------- */

static struct aspace *as_find(const xlate_priv *p, uint32_t pid)
{
    for (struct aspace *a = p->buckets[mix64(pid) & (p->nbuckets - 1)]; a; a = a->next)
        if (a->pid == pid)
            return a;
    return NULL;
}

static struct aspace *as_new(xlate_priv *p, uint32_t pid)
{
    if (p->naspaces >= p->nbuckets * 2) {
        uint64_t nb = p->nbuckets * 2;
        struct aspace **b = xcalloc(nb, sizeof *b);
        for (uint64_t i = 0; i < p->nbuckets; i++)
            for (struct aspace *a = p->buckets[i], *n; a; a = n) {
                n = a->next;
                uint64_t h = mix64(a->pid) & (nb - 1);
                a->next = b[h];
                b[h] = a;
            }
        free(p->buckets);
        p->buckets = b;
        p->nbuckets = nb;
    }
    struct aspace *a = xcalloc(1, sizeof *a);
    a->pid = pid;
    a->root = p->k ? kernel_mm_root(p->k, pid) : pgtable_mm_create(p->pt);
    if (a->root == PGTABLE_NO_FRAME) { /* the first-touch allocator never runs dry */
        fprintf(stderr, "mmusim: internal error: no frame for a page-table root\n");
        abort();
    }
    a->pcid = 1 + p->next_pcid++ % TLB_MAX_PCID; /* 1..4095; ownership is checked per CPU */
    a->id = ++p->next_id;
    uint64_t h = mix64(pid) & (p->nbuckets - 1);
    a->next = p->buckets[h];
    p->buckets[h] = a;
    p->naspaces++;
    return a;
}

static void as_remove(xlate_priv *p, struct aspace *a)
{
    struct aspace **pp = &p->buckets[mix64(a->pid) & (p->nbuckets - 1)];
    while (*pp != a)
        pp = &(*pp)->next;
    *pp = a->next;
    p->naspaces--;
    free(a);
}

static uint64_t naspaces_gauge(const void *ctx)
{
    return ((const xlate_priv *)ctx)->naspaces;
}

void xlate_switch(xlate *x, unsigned cpu, uint32_t pid)
{
    xlate_priv *p = x->priv;
    struct aspace *a = as_find(p, pid);
    if (!a)
        a = as_new(p, pid);
    int noflush = 0;
    if (p->pcid) {
        struct cpu_pcids *cp = &p->pcids[cpu];
        int owned = cp->owner[a->pcid] == a->id;
        /* a PCID this CPU never used holds nothing to flush */
        noflush = (owned && cp->gen[a->pcid] == a->gen) || cp->owner[a->pcid] == 0;
        if (owned && !noflush)
            p->lazy_flushes++; /* a shootdown happened while this CPU ran something else */
        cp->owner[a->pcid] = a->id;
        cp->gen[a->pcid] = a->gen;
    }
    mmu_switch(x->mmu, cpu, a->root, a->pcid, noflush);
    p->cur[cpu] = a;
    x->cur_pid[cpu] = pid;
}

int xlate_lookup(const xlate *x, uint32_t pid, uint64_t va, uint64_t *pa)
{
    const xlate_priv *p = x->priv;
    const struct aspace *a = as_find(p, pid);
    struct pgtable_leaf l;
    if (!a || !pgtable_lookup(p->pt, a->root, va, &l))
        return 0;
    uint64_t mask = ((uint64_t)1 << pg_shift(l.size)) - 1;
    uint64_t addr = (l.pfn << 12) + (va & mask);
    if (p->nested) {
        struct pgtable_leaf h;
        if (!pgtable_lookup(p->host_pt, p->host_root, addr, &h))
            return 0;
        addr = (h.pfn << 12) + (addr & (((uint64_t)1 << pg_shift(h.size)) - 1));
    }
    *pa = addr;
    return 1;
}

/* ---------- first-touch faults ---------- */

/* Maps va's page of `size` with a new frame block; falls back to smaller pages when a finer
 * mapping is in the way. 0, or -1. */
static int map_first_touch(xlate_priv *p, pgtable *pt, uint64_t root, frame_alloc *fa, uint64_t va,
                           enum pg_size size, uint64_t flags)
{
    for (int s = (int)size; s >= 0; s--) {
        unsigned order = 9u * (unsigned)s;
        uint64_t base = va & ~(((uint64_t)1 << pg_shift((enum pg_size)s)) - 1);
        uint64_t pfn = frame_alloc_block(fa, order);
        int rc = pgtable_map(pt, root, base, pfn, (enum pg_size)s, flags);
        if (rc == PGTABLE_OK) {
            if (s != (int)size)
                p->smaller_pages++;
            return 0;
        }
        frame_alloc_free_block(fa, pfn, order);
        if (rc != PGTABLE_EEXIST)
            return -1;
    }
    return -1;
}

static int on_fault(void *ctx, const struct mmu_fault *f, uint32_t *cycles)
{
    xlate *x = ctx;
    xlate_priv *p = x->priv;
    if (p->k) {
        struct kernel_fault_result r;
        p->ev_cpu = f->cpu;
        kernel_fault(p->k, f->cpu, (uint32_t)x->cur_pid[f->cpu], f->addr, f->type,
                     (f->err & WALK_ERR_P) != 0, &r);
        *cycles = r.cycles > UINT32_MAX ? UINT32_MAX : (uint32_t)r.cycles;
        p->kclock += r.cycles;
        kernel_tick(p->k, p->kclock, r.cycles);
        return r.status == KFAULT_OK ? 0 : -1;
    }
    *cycles = p->fault_cost;
    int store = f->type == MM_EV_WRITE || f->type == MM_EV_RMW;
    if (f->stage == WALK_STAGE_HOST) {
        if (f->err & WALK_ERR_P) {
            pgtable_update(p->host_pt, p->host_root, f->addr, PTE_RW, 0);
            p->prot_upgrades++;
            return 0;
        }
        p->host_faults++;
        return map_first_touch(p, p->host_pt, p->host_root, p->frames, f->addr, p->host_size,
                               PTE_RW | PTE_US | (store ? PTE_D : 0));
    }
    int kernel = (int)((f->addr >> p->half_shift) & 1);
    if (f->err & WALK_ERR_P) {
        /* no VMAs yet: every access is allowed, so a protection fault grants it */
        pgtable_update(p->pt, f->root, f->addr, PTE_RW | (kernel ? 0 : PTE_US), PTE_NX);
        p->prot_upgrades++;
        return 0;
    }
    frame_alloc *fa = p->nested ? p->guest_frames : p->frames;
    /* as Linux's do_anonymous_page on x86: Accessed left to the walker, Dirty set for a write
     * fault; kernel-half pages global and supervisor-only */
    uint64_t flags = PTE_RW | (kernel ? PTE_G : PTE_US) | (store ? PTE_D : 0);
    if (map_first_touch(p, p->pt, f->root, fa, f->addr, p->ft_size, flags))
        return -1;
    frame_alloc_count_fault(fa);
    return 0;
}

/* ---------- OS events ---------- */

static void on_munmap(xlate *x, const struct mm_event *ev)
{
    xlate_priv *p = x->priv;
    unsigned cpu = ev->cpu;
    if (x->cur_pid[cpu] != (uint64_t)ev->pid)
        xlate_switch(x, cpu, ev->pid); /* the syscall runs in the process, on that cpu */
    struct aspace *a = p->cur[cpu];
    uint64_t start = ev->addr & ~0xfffull;
    uint64_t len = ev->len + (ev->addr & 0xfff);
    if (!len)
        return;
    struct pgtable_change ch;
    frame_alloc *fa = p->nested ? p->guest_frames : p->frames;
    pgtable_unmap(p->pt, a->root, start, len, free_leaf, fa, &ch);
    p->munmaps++;
    p->unmapped_pages += ch.pages_4k;
    if (!ch.leaves && !ch.upper_changed)
        return;
    if ((start >> p->half_shift) & 1) {
        /* the kernel half: shared, global translations on every CPU */
        mmu_shootdown_kernel(x->mmu, cpu, start, len, 12, ch.upper_changed);
        return;
    }
    a->gen++;
    mmu_shootdown(x->mmu, cpu, a->root, start, len, 12);
    /* the CPUs running it dropped the range now; the others flush the PCID when they switch back */
    if (p->pcid)
        for (unsigned c = 0; c < p->ncpus; c++)
            if (p->cur[c] == a)
                p->pcids[c].gen[a->pcid] = a->gen;
}

static void on_process_exit(xlate *x, const struct mm_event *ev)
{
    xlate_priv *p = x->priv;
    struct aspace *a = as_find(p, ev->pid);
    if (!a)
        return;
    for (unsigned c = 0; c < p->ncpus; c++)
        if (p->cur[c] == a) {
            p->cur[c] = NULL;
            x->cur_pid[c] = XLATE_NO_PID;
        }
    if (!p->k) /* linux: the kernel tore it down */
        pgtable_mm_destroy(p->pt, a->root, free_leaf, p->nested ? p->guest_frames : p->frames);
    as_remove(p, a);
    p->exits++;
}

void xlate_os_event(xlate *x, const struct mm_event *ev)
{
    if (ev->cpu >= x->priv->ncpus)
        return;
    if (x->priv->k) {
        x->priv->ev_cpu = ev->cpu;
        kernel_event(x->priv->k, ev, NULL); /* its TLB invalidations come back through kflush */
        if (ev->type == MM_EV_SWITCH && x->cur_pid[ev->cpu] != (uint64_t)ev->pid)
            xlate_switch(x, ev->cpu, ev->pid);
        else if (ev->type == MM_EV_EXIT)
            on_process_exit(x, ev);
        return;
    }
    switch (ev->type) {
    case MM_EV_SWITCH:
        if (x->cur_pid[ev->cpu] != (uint64_t)ev->pid)
            xlate_switch(x, ev->cpu, ev->pid);
        break;
    case MM_EV_MUNMAP:
        on_munmap(x, ev);
        break;
    case MM_EV_EXIT:
        on_process_exit(x, ev);
        break;
    default:
        break;
    }
}

/* The kernel model changed [start, start + len) of pid's address space: every CPU running it
 * drops the range now, the others flush the PCID when they switch back (as on_munmap). */
static void kflush(void *ctx, uint32_t pid, uint64_t start, uint64_t len, bool upper)
{
    xlate *x = ctx;
    xlate_priv *p = x->priv;
    (void)upper;
    struct aspace *a = as_find(p, pid);
    if (!a)
        return;
    a->gen++;
    mmu_shootdown(x->mmu, p->ev_cpu, a->root, start, len, 12);
    if (p->pcid)
        for (unsigned c = 0; c < p->ncpus; c++)
            if (p->cur[c] == a)
                p->pcids[c].gen[a->pcid] = a->gen;
}

/* [kernel] and [swap]: the kernel model's configuration. */
static kernel *kernel_from_config(const sim_config *cfg, xlate *x, unsigned ncpus,
                                  uint64_t dram_size, unsigned levels, stats_registry *reg,
                                  mm_err *err)
{
    uint64_t fc, mfc, ocm, ocr, swp, mfk, swap_size;
    int dev;
    if (config_get_u64(cfg, "kernel", "fault_cost", &fc, err) ||
        config_get_u64(cfg, "kernel", "major_fault_cost", &mfc, err) ||
        config_get_u64(cfg, "kernel", "overcommit_memory", &ocm, err) ||
        config_get_u64(cfg, "kernel", "overcommit_ratio", &ocr, err) ||
        config_get_u64(cfg, "kernel", "swappiness", &swp, err) ||
        config_get_u64(cfg, "kernel", "min_free_kbytes", &mfk, err) ||
        config_get_u64(cfg, "swap", "size", &swap_size, err) ||
        config_get_enum(cfg, "swap", "device", &dev, err))
        return NULL;
    struct kernel_config kc;
    kernel_config_init(&kc, dram_size, ncpus);
    kc.levels = levels;
    kc.fault_cost = (uint32_t)fc;
    kc.major_fault_cost = (uint32_t)(mfc > fc ? mfc : fc);
    kc.overcommit_memory = (int)ocm;
    kc.overcommit_ratio = (int)ocr;
    kc.swappiness = (int)swp;
    kc.min_free_kbytes = (int)mfk;
    kc.swap_bytes = swap_size;
    kc.swap_device = dev; /* the schema lists the presets in enum bdev_kind's order */
    struct kernel_tlb_ops t = {x, kflush};
    return kernel_create(&kc, &t, reg, err);
}

/* ---------- configuration ---------- */

static const char *const size_keys[TLB_SIZES] = {"4k", "2m", "1g"};

static int tlb_from_config(const sim_config *cfg, const char *section, struct tlb_params *t,
                           uint64_t seed, mm_err *err)
{
    memset(t, 0, sizeof *t);
    for (unsigned s = 0; s < TLB_SIZES; s++) {
        char ek[32], ak[32];
        uint64_t n, a;
        snprintf(ek, sizeof ek, "entries_%s", size_keys[s]);
        snprintf(ak, sizeof ak, "assoc_%s", size_keys[s]);
        if (config_get_u64(cfg, section, ek, &n, err) || config_get_u64(cfg, section, ak, &a, err))
            return -1;
        t->entries[s] = (unsigned)n;
        t->assoc[s] = (unsigned)a;
    }
    uint64_t lat;
    int repl, shared;
    if (config_get_u64(cfg, section, "latency", &lat, err) ||
        config_get_enum(cfg, section, "replacement", &repl, err) ||
        config_get_enum(cfg, section, "shared", &shared, err))
        return -1;
    t->latency = (unsigned)lat;
    t->repl = (enum cache_repl)repl; /* the schema lists the policies in the enum's order */
    t->sharing = (enum tlb_sharing)shared;
    t->seed = seed;
    /* check size by size so the message points at the offending line */
    for (unsigned s = 0; s < TLB_SIZES; s++) {
        struct tlb_params one = *t;
        for (unsigned o = 0; o < TLB_SIZES; o++)
            if (o != s)
                one.entries[o] = 0;
        one.sharing = s == TLB_4K ? TLB_SHARE_NONE : t->sharing;
        mm_err e;
        if (tlb_params_check(&one, &e)) {
            char ek[32];
            snprintf(ek, sizeof ek, "entries_%s", size_keys[s]);
            return mm_errf(err, "%s: [%s] %s", config_where(cfg, section, ek), section, e.msg);
        }
    }
    return 0;
}

static int pwc_from_config(const sim_config *cfg, struct pwc_params *pw, uint64_t seed, mm_err *err)
{
    memset(pw, 0, sizeof *pw);
    for (unsigned l = 2; l <= 5; l++) {
        char k[32];
        uint64_t n, a, lat;
        const char *nm = pwc_level_name(l);
        snprintf(k, sizeof k, "%s_entries", nm);
        if (config_get_u64(cfg, "pwc", k, &n, err))
            return -1;
        snprintf(k, sizeof k, "%s_assoc", nm);
        if (config_get_u64(cfg, "pwc", k, &a, err))
            return -1;
        snprintf(k, sizeof k, "%s_latency", nm);
        if (config_get_u64(cfg, "pwc", k, &lat, err))
            return -1;
        pw->entries[l] = (unsigned)n;
        pw->assoc[l] = (unsigned)a;
        pw->latency[l] = (unsigned)lat;
    }
    int repl;
    if (config_get_enum(cfg, "pwc", "replacement", &repl, err))
        return -1;
    pw->repl = (enum cache_repl)repl;
    pw->seed = seed;
    for (unsigned l = 2; l <= 5; l++) {
        struct pwc_params one = *pw;
        for (unsigned o = 2; o <= 5; o++)
            if (o != l)
                one.entries[o] = 0;
        mm_err e;
        if (pwc_params_check(&one, &e)) {
            char k[32];
            snprintf(k, sizeof k, "%s_entries", pwc_level_name(l));
            return mm_errf(err, "%s: [pwc] %s", config_where(cfg, "pwc", k), e.msg);
        }
    }
    return 0;
}

/* [mmu] first_touch_page / host_page: 4K, 2M or 1G. */
static int page_size_from_config(const sim_config *cfg, const char *key, enum pg_size *out,
                                 mm_err *err)
{
    uint64_t v;
    if (config_get_u64(cfg, "mmu", key, &v, err))
        return -1;
    for (unsigned s = 0; s < PG_SIZES; s++)
        if (v == (uint64_t)1 << pg_shift((enum pg_size)s)) {
            *out = (enum pg_size)s;
            return 0;
        }
    return mm_errf(err, "%s: x86-64 pages are 4K, 2M or 1G", config_where(cfg, "mmu", key));
}

xlate *xlate_create(const sim_config *cfg, unsigned ncpus, cache_hier *caches, uint64_t seed,
                    stats_registry *reg, mm_err *err)
{
    struct mmu_params mp;
    memset(&mp, 0, sizeof mp);
    mp.ncpus = ncpus;
    uint64_t page_size, dram_size, levels, host_levels, shootdown, fault_cost;
    int cache_level, nested, pcid, kmodel;
    enum pg_size ft_size = PG_4K, host_size = PG_4K;
    if (config_get_u64(cfg, "mmu", "page_size", &page_size, err) ||
        config_get_u64(cfg, "dram", "size", &dram_size, err) ||
        config_get_u64(cfg, "mmu", "first_touch_cost", &fault_cost, err) ||
        page_size_from_config(cfg, "first_touch_page", &ft_size, err) ||
        page_size_from_config(cfg, "host_page", &host_size, err) ||
        tlb_from_config(cfg, "tlb.l1i", &mp.l1i, seed, err) ||
        tlb_from_config(cfg, "tlb.l1d", &mp.l1d, seed, err) ||
        tlb_from_config(cfg, "tlb.stlb", &mp.stlb, seed, err) ||
        config_get_bool(cfg, "tlb", "pcid", &pcid, err) ||
        config_get_u64(cfg, "tlb", "shootdown_cost", &shootdown, err) ||
        config_get_u64(cfg, "walker", "levels", &levels, err) ||
        config_get_u64(cfg, "walker", "host_levels", &host_levels, err) ||
        config_get_enum(cfg, "walker", "cache_level", &cache_level, err) ||
        config_get_bool(cfg, "walker", "nested", &nested, err) ||
        config_get_enum(cfg, "kernel", "model", &kmodel, err) ||
        pwc_from_config(cfg, &mp.walker.pwc, seed, err))
        return NULL;
    if (page_size != 4096) {
        mm_errf(err, "%s: x86-64 paging translates 4K base pages (huge pages: first_touch_page)",
                config_where(cfg, "mmu", "page_size"));
        return NULL;
    }
    if (levels != 4 && levels != 5) {
        mm_errf(err, "%s: 4 (48-bit) or 5 (LA57, 57-bit)", config_where(cfg, "walker", "levels"));
        return NULL;
    }
    if (host_levels != 4 && host_levels != 5) {
        mm_errf(err, "%s: 4 or 5", config_where(cfg, "walker", "host_levels"));
        return NULL;
    }
    if (kmodel == 1 && nested) {
        mm_errf(err, "%s: the linux kernel model does not run nested (yet)",
                config_where(cfg, "kernel", "model"));
        return NULL;
    }
    mp.pcid = pcid;
    mp.shootdown_cost = (unsigned)shootdown;
    mp.flush_ceiling = LINUX_FLUSH_CEILING;
    mp.walker.levels = (unsigned)levels;
    mp.walker.host_levels = (unsigned)host_levels;
    mp.walker.nested = nested;
    static const enum mem_level entry_levels[] = {LEVEL_L1, LEVEL_L2, LEVEL_LLC};
    mp.walker.cache_level = entry_levels[cache_level];

    xlate *x = xcalloc(1, sizeof *x);
    xlate_priv *p = x->priv = xcalloc(1, sizeof *p);
    p->ncpus = ncpus;
    p->nested = nested;
    p->pcid = pcid;
    p->half_shift = 12u + 9u * (unsigned)levels - 1u;
    p->ft_size = ft_size;
    p->host_size = host_size;
    p->fault_cost = (uint32_t)fault_cost;
    p->nbuckets = 64;
    p->buckets = xcalloc(p->nbuckets, sizeof *p->buckets);
    p->cur = xcalloc(ncpus, sizeof *p->cur);
    if (pcid)
        p->pcids = xcalloc(ncpus, sizeof *p->pcids);
    x->cur_pid = xmalloc(ncpus * sizeof *x->cur_pid);
    for (unsigned c = 0; c < ncpus; c++)
        x->cur_pid[c] = XLATE_NO_PID;

    /* frames: the machine's; in nested mode also the guest's physical memory (same size) */
    p->frames = frame_alloc_create(12, dram_size, nested ? NULL : reg);
    struct walker_mem mem, host_mem;
    if (nested) {
        p->guest_frames = frame_alloc_create(12, dram_size, reg);
        struct pgtable_frames gsrc = {frames_alloc, frames_free, p->guest_frames};
        struct pgtable_frames hsrc = {frames_alloc, frames_free, p->frames};
        p->pt = pgtable_create((unsigned)levels, &gsrc, reg, "os.pgtable");
        p->host_pt = pgtable_create((unsigned)host_levels, &hsrc, reg, "os.host_pgtable");
        p->host_root = pgtable_mm_create(p->host_pt);
        host_mem = (struct walker_mem){mem_read, mem_set_bits, p->host_pt, mem_prefetch};
        if (reg)
            stats_counter(reg, "os", "host_first_touch_faults", &p->host_faults,
                          "guest-physical pages mapped to host frames on first touch");
    } else if (kmodel == 1) {
        p->k = kernel_from_config(cfg, x, ncpus, dram_size, (unsigned)levels, reg, err);
        if (!p->k) {
            xlate_destroy(x);
            return NULL;
        }
        p->pt = kernel_pgtable(p->k);
    } else {
        struct pgtable_frames src = {frames_alloc, frames_free, p->frames};
        p->pt = pgtable_create((unsigned)levels, &src, reg, "os.pgtable");
    }
    mem = (struct walker_mem){mem_read, mem_set_bits, p->pt, mem_prefetch};
    if (reg) {
        stats_counter(reg, "os", "protection_upgrades", &p->prot_upgrades,
                      "protection faults granted by the first-touch kernel (no VMAs yet)");
        stats_counter(reg, "os", "first_touch_smaller_pages", &p->smaller_pages,
                      "first touches mapped with a smaller page than first_touch_page because a "
                      "finer mapping was in the way");
        stats_counter(reg, "os", "munmaps", &p->munmaps, "munmap events applied");
        stats_counter(reg, "os", "unmapped_pages", &p->unmapped_pages,
                      "4 KiB pages unmapped by munmap");
        stats_counter(reg, "os", "exits", &p->exits, "address spaces torn down at exit");
        stats_counter(reg, "tlb", "lazy_flushes", &p->lazy_flushes,
                      "PCID flushes at a switch because the address space changed while the CPU "
                      "ran another");
        stats_gauge(reg, "os", "address_spaces", naspaces_gauge, p, "live address spaces");
    }
    x->mmu = mmu_create(&mp, caches, &mem, nested ? &host_mem : NULL, on_fault, x, reg, err);
    if (!x->mmu) {
        xlate_destroy(x);
        return NULL;
    }
    if (nested)
        mmu_set_host_root(x->mmu, p->host_root);
    return x;
}

void xlate_destroy(xlate *x)
{
    if (!x)
        return;
    xlate_priv *p = x->priv;
    mmu_destroy(x->mmu);
    for (uint64_t i = 0; i < p->nbuckets; i++)
        for (struct aspace *a = p->buckets[i], *n; a; a = n) {
            n = a->next;
            free(a);
        }
    free(p->buckets);
    if (p->k)
        kernel_destroy(p->k); /* owns p->pt */
    else
        pgtable_destroy(p->pt);
    pgtable_destroy(p->host_pt);
    frame_alloc_destroy(p->guest_frames);
    frame_alloc_destroy(p->frames);
    free(p->cur);
    free(p->pcids);
    free(x->cur_pid);
    free(p);
    free(x);
}
