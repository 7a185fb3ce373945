/* Page tables in simulated physical memory (see pgtable.h).
 *
 * Each table is a node: its 512 entries (host memory standing for the frame's contents), its pfn,
 * its level, how many entries are present and which address space owns it. A hash map from pfn to
 * node (linear probing, backward-shift deletion) gives the O(1) reverse lookup the walker needs; a
 * direct-mapped memo of recent pfns sits in front of it. */
#include "models/os/pgtable.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"

#define KERNEL_OWNER UINT64_MAX /* owner of the shared kernel-half tables */
#define MEMO_SLOTS 256u
#define KERNEL_FIRST_INDEX 256u /* top-level indices 256..511 map the kernel half */

struct pt_node {
    uint64_t e[PGTABLE_ENTRIES];
    uint64_t pfn;
    uint64_t owner;    /* root pfn of the address space, or KERNEL_OWNER */
    uint64_t mm_pages; /* root nodes only: tables owned by this address space, the root included */
    uint32_t present;  /* present entries */
    uint32_t level;
};

struct pt_slot {
    uint64_t key; /* pfn + 1; 0 = empty */
    struct pt_node *node;
};

struct pgtable {
    unsigned levels;
    uint64_t va_mask; /* the bits translated: 48 or 57 */
    struct pgtable_frames frames;

    struct pt_slot *slots;
    uint64_t mask; /* capacity - 1 */
    uint64_t count;
    struct pt_slot memo[MEMO_SLOTS]; /* recent pfns: the key is here, so a hit touches no node */

    uint64_t *roots; /* every address space's root pfn */
    size_t nroots, roots_cap;
    uint64_t ktop[PGTABLE_ENTRIES - KERNEL_FIRST_INDEX]; /* the shared kernel-half top entries */

    uint64_t pages;  /* tables in use */
    uint64_t allocated, freed, maps, unmaps, splits;
};

/* ---------- pfn -> node map ---------- */

static struct pt_node *find_node(const pgtable *pt, uint64_t pfn)
{
    uint64_t key = pfn + 1;
    const struct pt_slot *m = &pt->memo[pfn & (MEMO_SLOTS - 1)];
    if (m->key == key)
        return m->node;
    for (uint64_t h = mix64(key) & pt->mask;; h = (h + 1) & pt->mask) {
        const struct pt_slot *s = &pt->slots[h];
        if (s->key == key) {
            /* the memo is a cache of the map, not part of its state */
            ((pgtable *)pt)->memo[pfn & (MEMO_SLOTS - 1)] = *s;
            return s->node;
        }
        if (!s->key)
            return NULL;
    }
}

static void insert_slot(struct pt_slot *slots, uint64_t mask, uint64_t key, struct pt_node *n)
{
    uint64_t h = mix64(key) & mask;
    while (slots[h].key)
        h = (h + 1) & mask;
    slots[h].key = key;
    slots[h].node = n;
}

static void map_insert(pgtable *pt, struct pt_node *n)
{
    if ((pt->count + 1) * 2 > pt->mask + 1) {
        uint64_t cap = (pt->mask + 1) * 2;
        struct pt_slot *ns = xcalloc(cap, sizeof *ns);
        for (uint64_t i = 0; i <= pt->mask; i++)
            if (pt->slots[i].key)
                insert_slot(ns, cap - 1, pt->slots[i].key, pt->slots[i].node);
        free(pt->slots);
        pt->slots = ns;
        pt->mask = cap - 1;
    }
    insert_slot(pt->slots, pt->mask, n->pfn + 1, n);
    pt->count++;
}

static void map_remove(pgtable *pt, uint64_t pfn)
{
    uint64_t key = pfn + 1;
    uint64_t h = mix64(key) & pt->mask;
    while (pt->slots[h].key != key) {
        if (!pt->slots[h].key)
            return;
        h = (h + 1) & pt->mask;
    }
    /* backward-shift deletion: move later members of the probe run into the hole */
    uint64_t hole = h;
    for (uint64_t j = (h + 1) & pt->mask; pt->slots[j].key; j = (j + 1) & pt->mask) {
        uint64_t home = mix64(pt->slots[j].key) & pt->mask;
        /* j may move to the hole when its home is not in the cyclic range (hole, j] */
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            pt->slots[hole] = pt->slots[j];
            hole = j;
        }
    }
    pt->slots[hole].key = 0;
    pt->slots[hole].node = NULL;
    pt->count--;
    if (pt->memo[pfn & (MEMO_SLOTS - 1)].key == key) {
        pt->memo[pfn & (MEMO_SLOTS - 1)].key = 0;
        pt->memo[pfn & (MEMO_SLOTS - 1)].node = NULL;
    }
}

/* ---------- tables ---------- */

static struct pt_node *root_node(const pgtable *pt, uint64_t root)
{
    struct pt_node *n = find_node(pt, root);
    if (!n || n->level != pt->levels || n->owner != root)
        return NULL;
    return n;
}

/* A new empty table, or NULL when the frame source is empty. A frame that already holds one of our
 * tables (a source that wraps around) is refused and another one asked for. */
static struct pt_node *new_table(pgtable *pt, unsigned level, uint64_t owner)
{
    uint64_t pfn = PGTABLE_NO_FRAME;
    for (int tries = 0; tries < 64; tries++) {
        pfn = pt->frames.alloc(pt->frames.ctx);
        if (pfn == PGTABLE_NO_FRAME || !find_node(pt, pfn))
            break;
        pfn = PGTABLE_NO_FRAME; /* leaked to the source's aliasing: it handed out a live table */
    }
    if (pfn == PGTABLE_NO_FRAME)
        return NULL;
    struct pt_node *n = aligned_alloc(64, (sizeof *n + 63) & ~(size_t)63);
    if (!n) {
        fprintf(stderr, "mmusim: out of memory (page table)\n");
        exit(71);
    }
    memset(n, 0, sizeof *n);
    n->pfn = pfn;
    n->level = level;
    n->owner = owner;
    map_insert(pt, n);
    pt->pages++;
    pt->allocated++;
    if (owner != KERNEL_OWNER) {
        struct pt_node *r = find_node(pt, owner);
        if (r)
            r->mm_pages++;
    }
    return n;
}

static void free_table(pgtable *pt, struct pt_node *n)
{
    if (n->owner != KERNEL_OWNER && n->owner != n->pfn) {
        struct pt_node *r = find_node(pt, n->owner);
        if (r)
            r->mm_pages--;
    }
    map_remove(pt, n->pfn);
    if (pt->frames.free)
        pt->frames.free(pt->frames.ctx, n->pfn);
    free(n);
    pt->pages--;
    pt->freed++;
}

/* An entry pointing to table n: P|RW|A|D as Linux's _KERNPG_TABLE; user tables add US
 * (_PAGE_TABLE). */
static uint64_t table_entry(const struct pt_node *n, int kernel)
{
    return (n->pfn << 12) | PTE_P | PTE_RW | PTE_A | PTE_D | (kernel ? 0 : PTE_US);
}

static struct pt_node *child_of(const pgtable *pt, uint64_t e)
{
    return find_node(pt, (e & PTE_ADDR_MASK) >> 12);
}

static int is_leaf(uint64_t e, unsigned level)
{
    return level == 1 || (e & PTE_PS);
}

static uint64_t span_of(unsigned level)
{
    return (uint64_t)1 << (12u + 9u * (level - 1u));
}

static void set_kernel_top(pgtable *pt, unsigned idx, uint64_t e)
{
    pt->ktop[idx - KERNEL_FIRST_INDEX] = e;
    for (size_t i = 0; i < pt->nroots; i++) {
        struct pt_node *r = find_node(pt, pt->roots[i]);
        if (!(r->e[idx] & PTE_P) && (e & PTE_P))
            r->present++;
        else if ((r->e[idx] & PTE_P) && !(e & PTE_P))
            r->present--;
        r->e[idx] = e;
    }
}

/* ---------- life cycle ---------- */

static uint64_t pages_gauge(const void *ctx)
{
    return ((const pgtable *)ctx)->pages;
}

pgtable *pgtable_create(unsigned levels, const struct pgtable_frames *frames, stats_registry *reg,
                        const char *prefix)
{
    if ((levels != 4 && levels != 5) || !frames || !frames->alloc) {
        fprintf(stderr, "mmusim: internal error: pgtable_create(levels %u)\n", levels);
        abort();
    }
    pgtable *pt = xcalloc(1, sizeof *pt);
    pt->levels = levels;
    pt->va_mask = ((uint64_t)1 << (12u + 9u * levels)) - 1;
    pt->frames = *frames;
    pt->mask = 1023;
    pt->slots = xcalloc(pt->mask + 1, sizeof *pt->slots);
    if (reg) {
        const char *p = prefix ? prefix : "os.pgtable";
        stats_gauge(reg, p, "pages", pages_gauge, pt,
                    "page-table pages in use (the PageTables line of /proc/meminfo, in pages)");
        stats_counter(reg, p, "tables_allocated", &pt->allocated, "page-table pages allocated");
        stats_counter(reg, p, "tables_freed", &pt->freed, "page-table pages freed");
        stats_counter(reg, p, "maps", &pt->maps, "pages mapped");
        stats_counter(reg, p, "unmaps", &pt->unmaps, "leaf entries cleared by unmap");
        stats_counter(reg, p, "splits", &pt->splits, "huge leaves split into smaller ones");
    }
    return pt;
}

void pgtable_destroy(pgtable *pt)
{
    if (!pt)
        return;
    for (uint64_t i = 0; i <= pt->mask; i++) {
        struct pt_node *n = pt->slots[i].node;
        if (!n)
            continue;
        if (pt->frames.free)
            pt->frames.free(pt->frames.ctx, n->pfn);
        free(n);
    }
    free(pt->slots);
    free(pt->roots);
    free(pt);
}

unsigned pgtable_levels(const pgtable *pt)
{
    return pt->levels;
}

uint64_t pgtable_mm_create(pgtable *pt)
{
    /* the owner is the table's own pfn, known only once the frame is: fixed up below */
    struct pt_node *r = new_table(pt, pt->levels, KERNEL_OWNER);
    if (!r)
        return PGTABLE_NO_FRAME;
    r->owner = r->pfn;
    r->mm_pages = 1;
    for (unsigned i = KERNEL_FIRST_INDEX; i < PGTABLE_ENTRIES; i++) {
        r->e[i] = pt->ktop[i - KERNEL_FIRST_INDEX];
        if (r->e[i] & PTE_P)
            r->present++;
    }
    if (pt->nroots == pt->roots_cap) {
        pt->roots_cap = pt->roots_cap ? pt->roots_cap * 2 : 16;
        pt->roots = xrealloc(pt->roots, pt->roots_cap * sizeof *pt->roots);
    }
    pt->roots[pt->nroots++] = r->pfn;
    return r->pfn;
}

/* Frees the subtree under n (not n itself), telling leaf_fn of each leaf. base: vaddr of n's first
 * entry. */
static void free_subtree(pgtable *pt, struct pt_node *n, uint64_t base, pgtable_leaf_fn leaf_fn,
                         void *ctx)
{
    uint64_t span = span_of(n->level);
    for (unsigned i = 0; i < PGTABLE_ENTRIES; i++) {
        uint64_t e = n->e[i];
        if (!(e & PTE_P))
            continue;
        uint64_t va = base + (uint64_t)i * span;
        if (is_leaf(e, n->level)) {
            if (leaf_fn)
                leaf_fn(ctx, va, (e & PTE_ADDR_MASK) >> 12, (enum pg_size)(n->level - 1), e);
            continue;
        }
        struct pt_node *c = child_of(pt, e);
        if (c) {
            free_subtree(pt, c, va, leaf_fn, ctx);
            free_table(pt, c);
        }
    }
}

void pgtable_mm_destroy(pgtable *pt, uint64_t root, pgtable_leaf_fn leaf_fn, void *ctx)
{
    struct pt_node *r = root_node(pt, root);
    if (!r)
        return;
    uint64_t span = span_of(pt->levels);
    for (unsigned i = 0; i < KERNEL_FIRST_INDEX; i++) {
        uint64_t e = r->e[i];
        if (!(e & PTE_P))
            continue;
        if (is_leaf(e, pt->levels)) {
            continue; /* not made by pgtable_map */
        }
        struct pt_node *c = child_of(pt, e);
        if (c) {
            free_subtree(pt, c, (uint64_t)i * span, leaf_fn, ctx);
            free_table(pt, c);
        }
    }
    for (size_t i = 0; i < pt->nroots; i++)
        if (pt->roots[i] == root) {
            pt->roots[i] = pt->roots[--pt->nroots];
            break;
        }
    free_table(pt, r);
}

/* ---------- map ---------- */

int pgtable_map(pgtable *pt, uint64_t root, uint64_t vaddr, uint64_t pfn, enum pg_size size,
                uint64_t flags)
{
    struct pt_node *n = root_node(pt, root);
    uint64_t pages = (uint64_t)1 << (9u * (unsigned)size);
    if (!n || (unsigned)size >= PG_SIZES || (vaddr & ((pages << 12) - 1)) || (pfn & (pages - 1)))
        return PGTABLE_EINVAL;
    vaddr &= pt->va_mask;
    unsigned leaf_level = (unsigned)size + 1;
    int kernel = pgtable_index(vaddr, pt->levels) >= KERNEL_FIRST_INDEX;
    for (unsigned level = pt->levels; level > leaf_level; level--) {
        unsigned idx = pgtable_index(vaddr, level);
        uint64_t e = n->e[idx];
        if (!(e & PTE_P)) {
            struct pt_node *c = new_table(pt, level - 1, kernel ? KERNEL_OWNER : n->owner);
            if (!c)
                return PGTABLE_ENOMEM;
            e = table_entry(c, kernel);
            if (level == pt->levels && kernel) {
                set_kernel_top(pt, idx, e);
            } else {
                n->e[idx] = e;
                n->present++;
            }
            n = c;
            continue;
        }
        if (e & PTE_PS)
            return PGTABLE_EEXIST;
        n = child_of(pt, e);
        if (!n)
            return PGTABLE_EINVAL; /* an entry that points to no table of ours */
    }
    unsigned idx = pgtable_index(vaddr, leaf_level);
    if (n->e[idx] & PTE_P)
        return PGTABLE_EEXIST;
    flags &= PTE_LEAF_FLAGS;
    n->e[idx] = (pfn << 12) | flags | PTE_P | (size != PG_4K ? PTE_PS : 0);
    n->present++;
    pt->maps++;
    return PGTABLE_OK;
}

/* ---------- range operations: unmap and protect ---------- */

struct range_op {
    pgtable *pt;
    uint64_t start, end; /* masked, end exclusive (may be 1 << vabits) */
    int unmap;
    uint64_t set, clear;
    pgtable_leaf_fn leaf_fn;
    void *ctx;
    struct pgtable_change ch;
    int status;
};

/* Replaces the huge leaf at n->e[idx] by a table of 512 leaves one size down. */
static struct pt_node *split_leaf(struct range_op *op, struct pt_node *n, unsigned idx)
{
    uint64_t e = n->e[idx];
    unsigned level = n->level;
    int kernel = n->owner == KERNEL_OWNER;
    struct pt_node *c = new_table(op->pt, level - 1, n->owner);
    if (!c) {
        op->status = PGTABLE_ENOMEM;
        return NULL;
    }
    uint64_t pfn = (e & PTE_ADDR_MASK) >> 12;
    uint64_t step = span_of(level - 1) >> 12; /* frames per smaller page */
    uint64_t keep = e & PTE_LEAF_FLAGS;
    for (unsigned i = 0; i < PGTABLE_ENTRIES; i++)
        c->e[i] = ((pfn + i * step) << 12) | keep | PTE_P | (level - 1 > 1 ? PTE_PS : 0);
    c->present = PGTABLE_ENTRIES;
    n->e[idx] = table_entry(c, kernel);
    op->ch.splits++;
    op->pt->splits++;
    op->ch.upper_changed = 1;
    return c;
}

static void range_walk(struct range_op *op, struct pt_node *n, uint64_t base, int is_root)
{
    unsigned level = n->level;
    uint64_t span = span_of(level);
    uint64_t lo = op->start > base ? op->start : base;
    uint64_t table_end = base + span * PGTABLE_ENTRIES;
    uint64_t hi = op->end < table_end ? op->end : table_end;
    for (uint64_t i = (lo - base) / span; i < PGTABLE_ENTRIES && base + i * span < hi; i++) {
        if (op->status)
            return;
        uint64_t e = n->e[i];
        if (!(e & PTE_P))
            continue;
        uint64_t va = base + i * span;
        int whole = va >= op->start && va + span <= op->end;
        struct pt_node *c;
        if (is_leaf(e, level)) {
            if (whole) {
                op->ch.leaves++;
                if (op->unmap) {
                    n->e[i] = 0;
                    n->present--;
                    op->ch.pages_4k += span >> 12;
                    op->pt->unmaps++;
                    if (op->leaf_fn)
                        op->leaf_fn(op->ctx, va, (e & PTE_ADDR_MASK) >> 12, (enum pg_size)(level - 1),
                                    e);
                } else {
                    uint64_t set = op->set & PTE_LEAF_FLAGS, clear = op->clear & PTE_LEAF_FLAGS;
                    n->e[i] = (e | set) & ~clear;
                }
                continue;
            }
            c = split_leaf(op, n, (unsigned)i);
            if (!c)
                return;
        } else {
            c = child_of(op->pt, e);
            if (!c)
                continue;
        }
        range_walk(op, c, va, 0);
        /* an emptied table goes, except the kernel half's shared second level */
        int shared = is_root && i >= KERNEL_FIRST_INDEX;
        if (op->unmap && c->present == 0 && !shared) {
            free_table(op->pt, c);
            n->e[i] = 0;
            n->present--;
            op->ch.tables_freed++;
            op->ch.upper_changed = 1;
        }
    }
}

static int range_op_run(pgtable *pt, uint64_t root, uint64_t vaddr, uint64_t len,
                        struct range_op *op, struct pgtable_change *out)
{
    struct pt_node *r = root_node(pt, root);
    if (out)
        memset(out, 0, sizeof *out);
    if (!r || (vaddr & 0xfff))
        return PGTABLE_EINVAL;
    uint64_t limit = pt->va_mask + 1;
    op->pt = pt;
    op->start = vaddr & pt->va_mask;
    op->end = len > limit - op->start ? limit : op->start + ((len + 0xfff) & ~0xfffull);
    if (op->end > limit)
        op->end = limit;
    if (op->start < op->end)
        range_walk(op, r, 0, 1);
    if (out)
        *out = op->ch;
    return op->status;
}

int pgtable_unmap(pgtable *pt, uint64_t root, uint64_t vaddr, uint64_t len, pgtable_leaf_fn leaf_fn,
                  void *ctx, struct pgtable_change *out)
{
    struct range_op op;
    memset(&op, 0, sizeof op);
    op.unmap = 1;
    op.leaf_fn = leaf_fn;
    op.ctx = ctx;
    return range_op_run(pt, root, vaddr, len, &op, out);
}

int pgtable_protect(pgtable *pt, uint64_t root, uint64_t vaddr, uint64_t len, uint64_t set,
                    uint64_t clear, struct pgtable_change *out)
{
    struct range_op op;
    memset(&op, 0, sizeof op);
    op.set = set;
    op.clear = clear;
    return range_op_run(pt, root, vaddr, len, &op, out);
}

/* ---------- lookups ---------- */

static uint64_t *leaf_slot(const pgtable *pt, uint64_t root, uint64_t vaddr, unsigned *level_out,
                           uint64_t *table_pfn)
{
    struct pt_node *n = root_node(pt, root);
    if (!n)
        return NULL;
    for (unsigned level = pt->levels; level >= 1; level--) {
        unsigned idx = pgtable_index(vaddr, level);
        uint64_t e = n->e[idx];
        if (!(e & PTE_P))
            return NULL;
        if (is_leaf(e, level)) {
            if (level > 3)
                return NULL; /* PS is reserved above the PDPT */
            *level_out = level;
            *table_pfn = n->pfn;
            return &n->e[idx];
        }
        n = child_of(pt, e);
        if (!n)
            return NULL;
    }
    return NULL;
}

int pgtable_lookup(const pgtable *pt, uint64_t root, uint64_t vaddr, struct pgtable_leaf *out)
{
    unsigned level;
    uint64_t tpfn;
    uint64_t *slot = leaf_slot(pt, root, vaddr, &level, &tpfn);
    if (!slot)
        return 0;
    if (out) {
        out->pte = *slot;
        out->pte_paddr = (tpfn << 12) | (uint64_t)pgtable_index(vaddr, level) * 8;
        out->pfn = (*slot & PTE_ADDR_MASK) >> 12;
        out->size = (enum pg_size)(level - 1);
        out->level = level;
    }
    return 1;
}

uint64_t pgtable_update(pgtable *pt, uint64_t root, uint64_t vaddr, uint64_t set, uint64_t clear)
{
    unsigned level;
    uint64_t tpfn;
    uint64_t *slot = leaf_slot(pt, root, vaddr, &level, &tpfn);
    if (!slot)
        return 0;
    uint64_t old = *slot;
    *slot = (old | (set & PTE_LEAF_FLAGS)) & ~(clear & PTE_LEAF_FLAGS);
    return old;
}

uint64_t pgtable_entry(const pgtable *pt, uint64_t table_pfn, unsigned index)
{
    const struct pt_node *n = find_node(pt, table_pfn);
    return n && index < PGTABLE_ENTRIES ? n->e[index] : 0;
}

uint64_t pgtable_read_phys(const pgtable *pt, uint64_t paddr)
{
    const struct pt_node *n = find_node(pt, paddr >> 12);
    return n ? n->e[(paddr >> 3) & 511] : 0;
}

void pgtable_set_bits_phys(pgtable *pt, uint64_t paddr, uint64_t bits)
{
    struct pt_node *n = find_node(pt, paddr >> 12);
    if (n)
        n->e[(paddr >> 3) & 511] |= bits;
}

void pgtable_prefetch_phys(const pgtable *pt, uint64_t paddr)
{
    const struct pt_node *n = find_node(pt, paddr >> 12);
    if (n)
        __builtin_prefetch(&n->e[(paddr >> 3) & 511]);
}

int pgtable_is_table(const pgtable *pt, uint64_t pfn)
{
    return find_node(pt, pfn) != NULL;
}

uint64_t pgtable_pages(const pgtable *pt)
{
    return pt->pages;
}

uint64_t pgtable_mm_pages(const pgtable *pt, uint64_t root)
{
    const struct pt_node *r = root_node(pt, root);
    return r ? r->mm_pages : 0;
}
