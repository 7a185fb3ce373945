/* Per-frame reclaim state and per-node LRU lists; see lru.h. Mirrors Linux v6.1
 * include/linux/mm_inline.h, mm/swap.c and mm/mlock.c (written from an understanding of them). */
#include "models/os/lru.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "models/os/reclaim_internal.h"
#include "models/os/workingset.h"

static const char *const lru_names[NR_LRU_LISTS] = {"inactive_anon", "active_anon",
                                                     "inactive_file", "active_file",
                                                     "unevictable"};

const char *lru_list_name(enum lru_list l)
{
    return (unsigned)l < NR_LRU_LISTS ? lru_names[l] : "?";
}

/* ---- gauges ---------------------------------------------------------------------------------- */

struct lru_gauge {
    const mm_lru *lru;
    unsigned mask; /* bit l: list l is summed */
    unsigned kb;   /* 1: report in kB (meminfo) */
};

static uint64_t g_lists(const void *c)
{
    const struct lru_gauge *g = c;
    uint64_t n = 0;
    for (int l = 0; l < NR_LRU_LISTS; l++)
        if (g->mask & (1u << l))
            n += global_lru_pages(g->lru, (enum lru_list)l);
    return g->kb ? n << (mm_phys_config_of(g->lru->pm)->page_shift - 10) : n;
}

static uint64_t g_mlock(const void *c)
{
    const struct lru_gauge *g = c;
    uint64_t n = global_nr_mlock(g->lru);
    return g->kb ? n << (mm_phys_config_of(g->lru->pm)->page_shift - 10) : n;
}

/* gauge contexts live after the mm_lru in one allocation */
#define NR_LRU_GAUGES 16

struct mm_lru_alloc {
    struct mm_lru lru;
    struct lru_gauge g[NR_LRU_GAUGES];
};

static void register_stats(struct mm_lru_alloc *a, stats_registry *reg)
{
    mm_lru *lru = &a->lru;
    struct lru_vm_events *e = &lru->ev;
    const char *v = "os.vmstat", *m = "os.meminfo";
    int i = 0;
    for (int l = 0; l < NR_LRU_LISTS; l++) {
        char leaf[32];
        snprintf(leaf, sizeof leaf, "nr_%s", lru_names[l]);
        a->g[i] = (struct lru_gauge){lru, 1u << l, 0};
        stats_gauge(reg, v, leaf, g_lists, &a->g[i++], "pages on this LRU list (all nodes)");
    }
    a->g[i] = (struct lru_gauge){lru, 0, 0};
    stats_gauge(reg, v, "nr_mlock", g_mlock, &a->g[i++], "mlocked pages (NR_MLOCK)");
    static const struct {
        const char *name;
        unsigned mask;
    } mi[] = {
        {"Active", (1u << LRU_ACTIVE_ANON) | (1u << LRU_ACTIVE_FILE)},
        {"Inactive", (1u << LRU_INACTIVE_ANON) | (1u << LRU_INACTIVE_FILE)},
        {"Active(anon)", 1u << LRU_ACTIVE_ANON},
        {"Inactive(anon)", 1u << LRU_INACTIVE_ANON},
        {"Active(file)", 1u << LRU_ACTIVE_FILE},
        {"Inactive(file)", 1u << LRU_INACTIVE_FILE},
        {"Unevictable", 1u << LRU_UNEVICTABLE},
    };
    for (size_t k = 0; k < sizeof mi / sizeof mi[0]; k++) {
        a->g[i] = (struct lru_gauge){lru, mi[k].mask, 1};
        stats_gauge(reg, m, mi[k].name, g_lists, &a->g[i++], "kB, as /proc/meminfo");
    }
    a->g[i] = (struct lru_gauge){lru, 0, 1};
    stats_gauge(reg, m, "Mlocked", g_mlock, &a->g[i++], "kB, as /proc/meminfo");

    stats_counter(reg, v, "pgactivate", &e->pgactivate, "pages moved to an active list");
    stats_counter(reg, v, "pgdeactivate", &e->pgdeactivate, "pages moved to an inactive list");
    stats_counter(reg, v, "pgrotated", &e->pgrotated,
                  "pages rotated to the inactive tail after writeback (PG_reclaim)");
    stats_counter(reg, v, "unevictable_pgs_culled", &e->unevictable_pgs_culled,
                  "pages put on the unevictable list");
    stats_counter(reg, v, "unevictable_pgs_mlocked", &e->unevictable_pgs_mlocked,
                  "pages mlocked");
    stats_counter(reg, v, "unevictable_pgs_munlocked", &e->unevictable_pgs_munlocked,
                  "pages munlocked");
    stats_counter(reg, v, "unevictable_pgs_rescued", &e->unevictable_pgs_rescued,
                  "pages moved back from the unevictable list");
    stats_counter(reg, v, "workingset_refault_anon", &e->workingset_refault[0],
                  "anon pages faulted back in with a shadow entry");
    stats_counter(reg, v, "workingset_refault_file", &e->workingset_refault[1],
                  "file pages read back in with a shadow entry");
    stats_counter(reg, v, "workingset_activate_anon", &e->workingset_activate[0],
                  "anon refaults activated (refault distance within the workingset)");
    stats_counter(reg, v, "workingset_activate_file", &e->workingset_activate[1],
                  "file refaults activated (refault distance within the workingset)");
    stats_counter(reg, v, "workingset_restore_anon", &e->workingset_restore[0],
                  "anon refaults of pages that were active before eviction (thrashing)");
    stats_counter(reg, v, "workingset_restore_file", &e->workingset_restore[1],
                  "file refaults of pages that were active before eviction (thrashing)");
    stats_counter(reg, v, "workingset_nodereclaim", &e->workingset_nodereclaim,
                  "shadow-only page-cache tree nodes reclaimed by the shadow shrinker");
}

/* ---- create / destroy ------------------------------------------------------------------------ */

mm_lru *mm_lru_create(mm_phys *pm, stats_registry *reg)
{
    struct mm_lru_alloc *a = xcalloc(1, sizeof *a);
    mm_lru *lru = &a->lru;
    lru->pm = pm;
    lru->max_pfn = mm_phys_max_pfn(pm);
    lru->nr_nodes = mm_phys_nr_nodes(pm);
    uint64_t managed = 0;
    for (unsigned n = 0; n < lru->nr_nodes; n++)
        for (int t = 0; t < MM_NR_ZONE_TYPES; t++) {
            const mm_zone *z = mm_node_zone(pm, (int)n, (enum zone_type)t);
            if (z)
                managed += zone_managed_pages(z);
        }
    lru->bucket_order = workingset_bucket_order(managed);
    lru->pg = xmalloc((size_t)lru->max_pfn * sizeof *lru->pg);
    for (uint64_t p = 0; p < lru->max_pfn; p++)
        lru->pg[p] = (struct lru_page){LRU_NIL, LRU_NIL, LRU_NIL, LRU_NIL, OWNER_NONE, 0, 0};
    lru->flags = xcalloc(lru->max_pfn ? lru->max_pfn : 1, sizeof *lru->flags);
    for (unsigned n = 0; n < MM_MAX_NUMNODES; n++)
        for (int l = 0; l < NR_LRU_LISTS; l++)
            lru->vec[n].lists[l] = (struct lru_head){LRU_NIL, LRU_NIL};
    if (reg)
        register_stats(a, reg);
    return lru;
}

void mm_lru_destroy(mm_lru *lru)
{
    if (!lru)
        return;
    free(lru->pg);
    free(lru->flags);
    free(lru); /* lru is the first member of its mm_lru_alloc */
}

mm_phys *mm_lru_phys(const mm_lru *lru) { return lru->pm; }
struct lru_vm_events *mm_lru_events(mm_lru *lru) { return &lru->ev; }

/* ---- per-page state -------------------------------------------------------------------------- */

void lru_page_init(mm_lru *lru, uint64_t pfn, uint64_t owner, unsigned flags)
{
    lru->pg[pfn] = (struct lru_page){LRU_NIL, LRU_NIL, LRU_NIL, LRU_NIL, owner, 0, 0};
    lru->flags[pfn] = (uint16_t)((flags & ~(unsigned)PG_lru) | PG_inuse);
}

void lru_page_free(mm_lru *lru, uint64_t pfn)
{
    unsigned f = lru->flags[pfn];
    if (f & PG_lru)
        lruvec_del_folio(lru, pfn);
    if (f & PG_mlocked)
        lru->vec[folio_nid(lru, pfn)].nr_mlock--;
    lru->pg[pfn] = (struct lru_page){LRU_NIL, LRU_NIL, LRU_NIL, LRU_NIL, OWNER_NONE, 0, 0};
    lru->flags[pfn] = 0;
}

unsigned folio_flags(const mm_lru *lru, uint64_t pfn) { return lru->flags[pfn]; }
void folio_set_flags(mm_lru *lru, uint64_t pfn, unsigned f) { lru->flags[pfn] |= (uint16_t)f; }
void folio_clear_flags(mm_lru *lru, uint64_t pfn, unsigned f) { lru->flags[pfn] &= (uint16_t)~f; }

bool folio_test_clear(mm_lru *lru, uint64_t pfn, unsigned flag)
{
    bool was = (lru->flags[pfn] & flag) != 0;
    lru->flags[pfn] &= (uint16_t)~flag;
    return was;
}

bool folio_evictable(const mm_lru *lru, uint64_t pfn)
{
    return !(lru->flags[pfn] & PG_mlocked);
}

uint64_t folio_owner(const mm_lru *lru, uint64_t pfn) { return lru->pg[pfn].owner; }
void folio_set_owner(mm_lru *lru, uint64_t pfn, uint64_t owner) { lru->pg[pfn].owner = owner; }
uint32_t folio_swap_entry(const mm_lru *lru, uint64_t pfn) { return lru->pg[pfn].swap; }
void folio_set_swap_entry(mm_lru *lru, uint64_t pfn, uint32_t e) { lru->pg[pfn].swap = e; }
uint32_t folio_stamp(const mm_lru *lru, uint64_t pfn) { return lru->pg[pfn].stamp; }
void folio_set_stamp(mm_lru *lru, uint64_t pfn, uint32_t s) { lru->pg[pfn].stamp = s; }

int folio_nid(const mm_lru *lru, uint64_t pfn)
{
    const mm_zone *z = mm_pfn_zone(lru->pm, pfn);
    return z ? zone_to_nid(z) : 0;
}

enum zone_type folio_zonenum(const mm_lru *lru, uint64_t pfn)
{
    const mm_zone *z = mm_pfn_zone(lru->pm, pfn);
    return z ? zone_idx(z) : ZONE_DMA;
}

/* ---- lists ----------------------------------------------------------------------------------- */

enum lru_list folio_lru_list(const mm_lru *lru, uint64_t pfn)
{
    unsigned f = lru->flags[pfn];
    if (f & PG_unevictable)
        return LRU_UNEVICTABLE;
    int l = (f & PG_swapbacked) ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
    if (f & PG_active)
        l += LRU_ACTIVE;
    return (enum lru_list)l;
}

static void account(mm_lru *lru, uint64_t pfn, enum lru_list l, int64_t d)
{
    const mm_zone *z = mm_pfn_zone(lru->pm, pfn);
    struct lruvec *v = &lru->vec[z ? zone_to_nid(z) : 0];
    v->nr[l] += (uint64_t)d;
    v->nr_zone[z ? zone_idx(z) : 0][l] += (uint64_t)d;
}

static void add(mm_lru *lru, uint64_t pfn, bool tail)
{
    enum lru_list l = folio_lru_list(lru, pfn);
    struct lruvec *v = &lru->vec[folio_nid(lru, pfn)];
    struct lru_head *h = &v->lists[l];
    struct lru_page *p = &lru->pg[pfn];
    uint32_t x = (uint32_t)pfn;
    if (tail) {
        p->next = LRU_NIL;
        p->prev = h->tail;
        if (h->tail != LRU_NIL)
            lru->pg[h->tail].next = x;
        else
            h->head = x;
        h->tail = x;
    } else {
        p->prev = LRU_NIL;
        p->next = h->head;
        if (h->head != LRU_NIL)
            lru->pg[h->head].prev = x;
        else
            h->tail = x;
        h->head = x;
    }
    lru->flags[pfn] |= PG_lru;
    account(lru, pfn, l, 1);
}

void lruvec_add_folio(mm_lru *lru, uint64_t pfn) { add(lru, pfn, false); }
void lruvec_add_folio_tail(mm_lru *lru, uint64_t pfn) { add(lru, pfn, true); }

void lruvec_del_folio(mm_lru *lru, uint64_t pfn)
{
    enum lru_list l = folio_lru_list(lru, pfn);
    struct lruvec *v = &lru->vec[folio_nid(lru, pfn)];
    struct lru_head *h = &v->lists[l];
    struct lru_page *p = &lru->pg[pfn];
    if (p->prev != LRU_NIL)
        lru->pg[p->prev].next = p->next;
    else
        h->head = p->next;
    if (p->next != LRU_NIL)
        lru->pg[p->next].prev = p->prev;
    else
        h->tail = p->prev;
    p->next = p->prev = LRU_NIL;
    lru->flags[pfn] &= (uint16_t)~PG_lru;
    account(lru, pfn, l, -1);
}

/* lru_add_fn() */
void folio_add_lru(mm_lru *lru, uint64_t pfn)
{
    bool was_unevictable = folio_test_clear(lru, pfn, PG_unevictable);
    if (folio_evictable(lru, pfn)) {
        if (was_unevictable)
            lru->ev.unevictable_pgs_rescued++;
    } else {
        folio_clear_flags(lru, pfn, PG_active);
        folio_set_flags(lru, pfn, PG_unevictable);
        if (!was_unevictable)
            lru->ev.unevictable_pgs_culled++;
    }
    lruvec_add_folio(lru, pfn);
}

/* folio_activate_fn() */
void folio_activate(mm_lru *lru, uint64_t pfn)
{
    unsigned f = lru->flags[pfn];
    if (!(f & PG_lru) || (f & (PG_active | PG_unevictable)))
        return;
    lruvec_del_folio(lru, pfn);
    folio_set_flags(lru, pfn, PG_active);
    lruvec_add_folio(lru, pfn);
    lru->ev.pgactivate++;
}

/* folio_mark_accessed(): inactive,unreferenced -> inactive,referenced; inactive,referenced ->
 * active,unreferenced (workingset_activation ages the node's nonresident clock) */
void folio_mark_accessed(mm_lru *lru, uint64_t pfn)
{
    unsigned f = lru->flags[pfn];
    if (!(f & PG_referenced)) {
        folio_set_flags(lru, pfn, PG_referenced);
    } else if (f & PG_unevictable) {
        /* unevictable pages stay where they are */
    } else if (!(f & PG_active)) {
        if (f & PG_lru) {
            folio_activate(lru, pfn);
        } else {
            /* not on a list yet (__lru_cache_activate_folio): it goes active when added */
            folio_set_flags(lru, pfn, PG_active);
        }
        folio_clear_flags(lru, pfn, PG_referenced);
        workingset_age_nonresident(lru, folio_nid(lru, pfn), 1); /* workingset_activation() */
    }
}

/* folio_rotate_reclaimable() + lru_move_tail_fn() */
void folio_rotate_reclaimable(mm_lru *lru, uint64_t pfn)
{
    unsigned f = lru->flags[pfn];
    if ((f & (PG_dirty | PG_unevictable)) || !(f & PG_lru))
        return;
    lruvec_del_folio(lru, pfn);
    folio_clear_flags(lru, pfn, PG_active);
    lruvec_add_folio_tail(lru, pfn);
    lru->ev.pgrotated++;
}

/* mlock_folio() + __mlock_page(), with one mlock per page (no mlock_count) */
void folio_mlock(mm_lru *lru, uint64_t pfn)
{
    if (!(lru->flags[pfn] & PG_mlocked)) {
        folio_set_flags(lru, pfn, PG_mlocked);
        lru->vec[folio_nid(lru, pfn)].nr_mlock++;
        lru->ev.unevictable_pgs_mlocked++;
    }
    unsigned f = lru->flags[pfn];
    if (!(f & PG_lru) || (f & PG_unevictable))
        return;
    lruvec_del_folio(lru, pfn);
    folio_clear_flags(lru, pfn, PG_active);
    folio_set_flags(lru, pfn, PG_unevictable);
    lruvec_add_folio(lru, pfn);
    lru->ev.unevictable_pgs_culled++;
}

/* munlock_folio() + __munlock_page() */
void folio_munlock(mm_lru *lru, uint64_t pfn)
{
    if (folio_test_clear(lru, pfn, PG_mlocked)) {
        lru->vec[folio_nid(lru, pfn)].nr_mlock--;
        lru->ev.unevictable_pgs_munlocked++;
    }
    unsigned f = lru->flags[pfn];
    if ((f & PG_lru) && (f & PG_unevictable) && folio_evictable(lru, pfn)) {
        lruvec_del_folio(lru, pfn);
        folio_clear_flags(lru, pfn, PG_unevictable);
        lruvec_add_folio(lru, pfn);
        lru->ev.unevictable_pgs_rescued++;
    }
}

static uint64_t to_pfn(uint32_t x) { return x == LRU_NIL ? MM_PFN_NONE : x; }

uint64_t lru_list_tail(const mm_lru *lru, int nid, enum lru_list l)
{
    return to_pfn(lru->vec[nid].lists[l].tail);
}
uint64_t lru_list_head(const mm_lru *lru, int nid, enum lru_list l)
{
    return to_pfn(lru->vec[nid].lists[l].head);
}
uint64_t lru_list_prev(const mm_lru *lru, uint64_t pfn) { return to_pfn(lru->pg[pfn].prev); }
uint64_t lru_list_next(const mm_lru *lru, uint64_t pfn) { return to_pfn(lru->pg[pfn].next); }

/* ---- counts ---------------------------------------------------------------------------------- */

uint64_t lruvec_page_state(const mm_lru *lru, int nid, enum lru_list l)
{
    return lru->vec[nid].nr[l];
}

uint64_t lruvec_lru_size(const mm_lru *lru, int nid, enum lru_list l, enum zone_type zone_idx)
{
    uint64_t n = 0;
    for (int z = 0; z <= (int)zone_idx && z < MM_NR_ZONE_TYPES; z++)
        n += lru->vec[nid].nr_zone[z][l];
    return n;
}

uint64_t zone_lru_pages(const mm_lru *lru, const mm_zone *z, enum lru_list l)
{
    return lru->vec[zone_to_nid(z)].nr_zone[zone_idx(z)][l];
}

uint64_t global_lru_pages(const mm_lru *lru, enum lru_list l)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < lru->nr_nodes; i++)
        n += lru->vec[i].nr[l];
    return n;
}

uint64_t node_nr_mlock(const mm_lru *lru, int nid) { return lru->vec[nid].nr_mlock; }

uint64_t global_nr_mlock(const mm_lru *lru)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < lru->nr_nodes; i++)
        n += lru->vec[i].nr_mlock;
    return n;
}

/* ---- per-node reclaim state ------------------------------------------------------------------ */

void lru_note_cost(mm_lru *lru, int nid, bool file, uint64_t nr_pages)
{
    struct lruvec *v = &lru->vec[nid];
    if (file)
        v->file_cost += nr_pages;
    else
        v->anon_cost += nr_pages;
    uint64_t lrusize = v->nr[LRU_INACTIVE_ANON] + v->nr[LRU_ACTIVE_ANON] +
                       v->nr[LRU_INACTIVE_FILE] + v->nr[LRU_ACTIVE_FILE];
    if (v->file_cost + v->anon_cost > lrusize / 4) {
        v->file_cost /= 2;
        v->anon_cost /= 2;
    }
}

uint64_t lruvec_anon_cost(const mm_lru *lru, int nid) { return lru->vec[nid].anon_cost; }
uint64_t lruvec_file_cost(const mm_lru *lru, int nid) { return lru->vec[nid].file_cost; }

void lruvec_set_costs(mm_lru *lru, int nid, uint64_t anon_cost, uint64_t file_cost)
{
    lru->vec[nid].anon_cost = anon_cost;
    lru->vec[nid].file_cost = file_cost;
}

uint64_t lruvec_nonresident_age(const mm_lru *lru, int nid) { return lru->vec[nid].nonresident_age; }

void workingset_age_nonresident(mm_lru *lru, int nid, uint64_t nr_pages)
{
    lru->vec[nid].nonresident_age += nr_pages;
}

uint64_t lruvec_workingset_activate(const mm_lru *lru, int nid, bool file)
{
    return lru->vec[nid].workingset_activate[file];
}

void lruvec_count_workingset_activate(mm_lru *lru, int nid, bool file, uint64_t nr)
{
    lru->vec[nid].workingset_activate[file] += nr;
    lru->ev.workingset_activate[file] += nr;
}

uint64_t lruvec_refaults_snapshot(const mm_lru *lru, int nid, bool file)
{
    return lru->vec[nid].refaults[file];
}

void snapshot_refaults(mm_lru *lru, int nid)
{
    lru->vec[nid].refaults[0] = lru->vec[nid].workingset_activate[0];
    lru->vec[nid].refaults[1] = lru->vec[nid].workingset_activate[1];
}

/* ---- consistency ----------------------------------------------------------------------------- */

int lru_check(const mm_lru *lru, mm_err *err)
{
    uint64_t on_lists = 0;
    for (unsigned n = 0; n < lru->nr_nodes; n++) {
        const struct lruvec *v = &lru->vec[n];
        for (int l = 0; l < NR_LRU_LISTS; l++) {
            uint64_t count = 0, zc[MM_NR_ZONE_TYPES] = {0};
            uint32_t prev = LRU_NIL;
            for (uint32_t x = v->lists[l].head; x != LRU_NIL; x = lru->pg[x].next) {
                if (x >= lru->max_pfn)
                    return mm_errf(err, "lru: node %u %s: pfn %u out of range", n, lru_names[l], x);
                if (lru->pg[x].prev != prev)
                    return mm_errf(err, "lru: node %u %s: pfn %u prev link broken", n,
                                   lru_names[l], x);
                if (!(lru->flags[x] & PG_lru) || folio_lru_list(lru, x) != (enum lru_list)l)
                    return mm_errf(err, "lru: node %u %s: pfn %u has flags %#x", n, lru_names[l],
                                   x, lru->flags[x]);
                if (folio_nid(lru, x) != (int)n)
                    return mm_errf(err, "lru: pfn %u of node %d on node %u's list", x,
                                   folio_nid(lru, x), n);
                zc[folio_zonenum(lru, x)]++;
                prev = x;
                if (++count > lru->max_pfn)
                    return mm_errf(err, "lru: node %u %s: a cycle", n, lru_names[l]);
            }
            if (v->lists[l].tail != prev)
                return mm_errf(err, "lru: node %u %s: tail %u, last %u", n, lru_names[l],
                               v->lists[l].tail, prev);
            if (count != v->nr[l])
                return mm_errf(err, "lru: node %u %s: %llu pages listed, count %llu", n,
                               lru_names[l], (unsigned long long)count,
                               (unsigned long long)v->nr[l]);
            for (int z = 0; z < MM_NR_ZONE_TYPES; z++)
                if (zc[z] != v->nr_zone[z][l])
                    return mm_errf(err, "lru: node %u zone %d %s: %llu listed, count %llu", n, z,
                                   lru_names[l], (unsigned long long)zc[z],
                                   (unsigned long long)v->nr_zone[z][l]);
            on_lists += count;
        }
    }
    uint64_t flagged = 0, mlocked = 0;
    for (uint64_t p = 0; p < lru->max_pfn; p++) {
        flagged += (lru->flags[p] & PG_lru) != 0;
        mlocked += (lru->flags[p] & PG_mlocked) != 0;
    }
    if (flagged != on_lists)
        return mm_errf(err, "lru: %llu pages flagged PG_lru, %llu on lists",
                       (unsigned long long)flagged, (unsigned long long)on_lists);
    if (mlocked != global_nr_mlock(lru))
        return mm_errf(err, "lru: %llu pages mlocked, NR_MLOCK %llu", (unsigned long long)mlocked,
                       (unsigned long long)global_nr_mlock(lru));
    return 0;
}
