/* The page cache and swap cache store; see pagecache.h. */
#include "models/os/pagecache.h"

#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "models/os/reclaim_internal.h"
#include "models/os/workingset.h"

#define KEY_EMPTY UINT64_MAX
#define XA_CHUNK_SHIFT 6
#define XA_CHUNK_SIZE (1u << XA_CHUNK_SHIFT)
#define NODE_NIL UINT32_MAX
#define SHRINK_BATCH 128

struct hslot {
    uint64_t key, val;
};

/* open addressing, linear probing, backward-shift deletion */
struct htab {
    struct hslot *s;
    uint64_t mask, n;
};

struct xnode {
    uint64_t key;
    uint32_t count;     /* entries (leaf) or child nodes (interior) */
    uint32_t nr_values; /* shadow entries (leaf) */
    uint32_t lnext, lprev; /* shadow-node LRU links, or the free list (lnext) */
    uint8_t on_lru;
};

struct pc_gauge {
    const mm_pagecache *pc;
    int what;
};

struct mm_pagecache {
    mm_lru *lru;
    struct htab ent;   /* (space, index) -> entry */
    struct htab nodes; /* node key -> node index */
    struct xnode *node;
    uint32_t node_cap, node_free;
    uint64_t nr_nodes;
    uint32_t shadow_head, shadow_tail;
    uint64_t nr_shadow_nodes;
    uint64_t nr_pages, nr_buffers, nr_swapcache, nr_shadows;
    uint64_t shadow_deferred; /* do_shrink_slab nr_deferred of the shadow shrinker */
    struct pc_gauge g[8];
};

static inline uint64_t mix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

static void htab_init(struct htab *t, uint64_t cap)
{
    t->s = xmalloc(cap * sizeof *t->s);
    for (uint64_t i = 0; i < cap; i++)
        t->s[i].key = KEY_EMPTY;
    t->mask = cap - 1;
    t->n = 0;
}

static uint64_t htab_find(const struct htab *t, uint64_t key)
{
    uint64_t i = mix64(key) & t->mask;
    while (t->s[i].key != KEY_EMPTY) {
        if (t->s[i].key == key)
            return i;
        i = (i + 1) & t->mask;
    }
    return UINT64_MAX;
}

static void htab_grow(struct htab *t);

/* insert a key known to be absent */
static void htab_insert(struct htab *t, uint64_t key, uint64_t val)
{
    if ((t->n + 1) * 4 > (t->mask + 1) * 3)
        htab_grow(t);
    uint64_t i = mix64(key) & t->mask;
    while (t->s[i].key != KEY_EMPTY)
        i = (i + 1) & t->mask;
    t->s[i].key = key;
    t->s[i].val = val;
    t->n++;
}

static void htab_grow(struct htab *t)
{
    struct htab old = *t;
    htab_init(t, (old.mask + 1) * 2);
    for (uint64_t i = 0; i <= old.mask; i++)
        if (old.s[i].key != KEY_EMPTY)
            htab_insert(t, old.s[i].key, old.s[i].val);
    free(old.s);
}

static void htab_delete_at(struct htab *t, uint64_t i)
{
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        if (t->s[j].key == KEY_EMPTY)
            break;
        uint64_t k = mix64(t->s[j].key) & t->mask;
        /* move j back to i unless its home k lies cyclically in (i, j] */
        bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
        if (!stays) {
            t->s[i] = t->s[j];
            i = j;
        }
    }
    t->s[i].key = KEY_EMPTY;
    t->n--;
}

/* ---- node accounting ------------------------------------------------------------------------- */

static inline uint64_t node_key(uint32_t space, unsigned level, uint64_t prefix)
{
    return ((uint64_t)space << MAPPING_INDEX_BITS) | ((uint64_t)level << 34) | prefix;
}
static inline uint64_t ent_key(uint32_t space, uint64_t index)
{
    return ((uint64_t)space << MAPPING_INDEX_BITS) | (index & MAPPING_MAX_INDEX);
}
static inline uint32_t nkey_space(uint64_t k) { return (uint32_t)(k >> MAPPING_INDEX_BITS); }
static inline unsigned nkey_level(uint64_t k) { return (unsigned)((k >> 34) & 31); }
static inline uint64_t nkey_prefix(uint64_t k) { return k & ((1ull << 34) - 1); }

static uint32_t node_alloc(mm_pagecache *pc, uint64_t key)
{
    if (pc->node_free == NODE_NIL) {
        uint32_t old = pc->node_cap;
        pc->node_cap = old ? old * 2 : 1024;
        pc->node = xrealloc(pc->node, (size_t)pc->node_cap * sizeof *pc->node);
        for (uint32_t i = old; i < pc->node_cap; i++)
            pc->node[i].lnext = i + 1 < pc->node_cap ? i + 1 : NODE_NIL;
        pc->node_free = old;
    }
    uint32_t x = pc->node_free;
    pc->node_free = pc->node[x].lnext;
    pc->node[x] = (struct xnode){key, 0, 0, NODE_NIL, NODE_NIL, 0};
    htab_insert(&pc->nodes, key, x);
    pc->nr_nodes++;
    return x;
}

static void shadow_lru_del(mm_pagecache *pc, uint32_t x)
{
    struct xnode *n = &pc->node[x];
    if (n->lprev != NODE_NIL)
        pc->node[n->lprev].lnext = n->lnext;
    else
        pc->shadow_head = n->lnext;
    if (n->lnext != NODE_NIL)
        pc->node[n->lnext].lprev = n->lprev;
    else
        pc->shadow_tail = n->lprev;
    n->lnext = n->lprev = NODE_NIL;
    n->on_lru = 0;
    pc->nr_shadow_nodes--;
}

static void shadow_lru_add_tail(mm_pagecache *pc, uint32_t x)
{
    struct xnode *n = &pc->node[x];
    n->lnext = NODE_NIL;
    n->lprev = pc->shadow_tail;
    if (pc->shadow_tail != NODE_NIL)
        pc->node[pc->shadow_tail].lnext = x;
    else
        pc->shadow_head = x;
    pc->shadow_tail = x;
    n->on_lru = 1;
    pc->nr_shadow_nodes++;
}

/* workingset_update_node(): a leaf holding only shadows is on the shadow-node LRU */
static void update_node(mm_pagecache *pc, uint32_t x)
{
    struct xnode *n = &pc->node[x];
    bool want = n->count && n->count == n->nr_values;
    if (want && !n->on_lru)
        shadow_lru_add_tail(pc, x);
    else if (!want && n->on_lru)
        shadow_lru_del(pc, x);
}

static void node_free(mm_pagecache *pc, uint32_t x)
{
    if (pc->node[x].on_lru)
        shadow_lru_del(pc, x);
    htab_delete_at(&pc->nodes, htab_find(&pc->nodes, pc->node[x].key));
    pc->node[x].lnext = pc->node_free;
    pc->node_free = x;
    pc->nr_nodes--;
}

/* one more child under node (space, level, prefix), creating it (and its parents) as needed */
static uint32_t node_get(mm_pagecache *pc, uint32_t space, unsigned level, uint64_t prefix)
{
    uint64_t key = node_key(space, level, prefix);
    uint64_t i = htab_find(&pc->nodes, key);
    uint32_t x;
    if (i != UINT64_MAX) {
        x = (uint32_t)pc->nodes.s[i].val;
    } else {
        if (prefix)
            node_get(pc, space, level + 1, prefix >> XA_CHUNK_SHIFT);
        x = node_alloc(pc, key);
    }
    pc->node[x].count++;
    return x;
}

static void node_put(mm_pagecache *pc, uint32_t x)
{
    uint64_t key = pc->node[x].key;
    if (--pc->node[x].count)
        return;
    node_free(pc, x);
    uint64_t prefix = nkey_prefix(key);
    if (prefix) {
        uint64_t pkey = node_key(nkey_space(key), nkey_level(key) + 1, prefix >> XA_CHUNK_SHIFT);
        node_put(pc, (uint32_t)pc->nodes.s[htab_find(&pc->nodes, pkey)].val);
    }
}

static uint32_t leaf_of(const mm_pagecache *pc, uint32_t space, uint64_t index)
{
    uint64_t i = htab_find(&pc->nodes, node_key(space, 1, index >> XA_CHUNK_SHIFT));
    return i == UINT64_MAX ? NODE_NIL : (uint32_t)pc->nodes.s[i].val;
}

/* ---- entry accounting ------------------------------------------------------------------------ */

static void count_entry(mm_pagecache *pc, uint32_t space, uint64_t e, int d)
{
    if (e == MAPPING_EMPTY)
        return;
    if (e & 1) {
        pc->nr_shadows += (uint64_t)(int64_t)d;
    } else if (space >= MAPPING_SWAP_SPACE(0)) {
        pc->nr_swapcache += (uint64_t)(int64_t)d;
    } else {
        pc->nr_pages += (uint64_t)(int64_t)d;
        if (space == BDEV_FILE)
            pc->nr_buffers += (uint64_t)(int64_t)d;
    }
}

uint64_t mapping_load(const mm_pagecache *pc, uint32_t space, uint64_t index)
{
    uint64_t i = htab_find(&pc->ent, ent_key(space, index));
    return i == UINT64_MAX ? MAPPING_EMPTY : pc->ent.s[i].val;
}

uint64_t mapping_store(mm_pagecache *pc, uint32_t space, uint64_t index, uint64_t entry)
{
    uint64_t key = ent_key(space, index);
    uint64_t i = htab_find(&pc->ent, key);
    uint64_t old = MAPPING_EMPTY;
    uint32_t x;
    if (i != UINT64_MAX) {
        old = pc->ent.s[i].val;
        pc->ent.s[i].val = entry;
        x = leaf_of(pc, space, index);
        pc->node[x].nr_values += (uint32_t)(entry & 1) - (uint32_t)(old & 1);
    } else {
        htab_insert(&pc->ent, key, entry);
        x = node_get(pc, space, 1, index >> XA_CHUNK_SHIFT);
        pc->node[x].nr_values += (uint32_t)(entry & 1);
    }
    update_node(pc, x);
    count_entry(pc, space, old, -1);
    count_entry(pc, space, entry, 1);
    return old;
}

uint64_t mapping_erase(mm_pagecache *pc, uint32_t space, uint64_t index)
{
    uint64_t i = htab_find(&pc->ent, ent_key(space, index));
    if (i == UINT64_MAX)
        return MAPPING_EMPTY;
    uint64_t old = pc->ent.s[i].val;
    htab_delete_at(&pc->ent, i);
    uint32_t x = leaf_of(pc, space, index);
    pc->node[x].nr_values -= (uint32_t)(old & 1);
    if (pc->node[x].count > 1) {
        pc->node[x].count--;
        update_node(pc, x);
    } else {
        node_put(pc, x);
    }
    count_entry(pc, space, old, -1);
    return old;
}

uint64_t mapping_find(const mm_pagecache *pc, uint32_t space, uint64_t *index, uint64_t end)
{
    uint64_t idx = *index;
    while (idx < end) {
        if (leaf_of(pc, space, idx) == NODE_NIL) {
            idx = ((idx >> XA_CHUNK_SHIFT) + 1) << XA_CHUNK_SHIFT;
            continue;
        }
        uint64_t chunk_end = ((idx >> XA_CHUNK_SHIFT) + 1) << XA_CHUNK_SHIFT;
        for (; idx < chunk_end && idx < end; idx++) {
            uint64_t e = mapping_load(pc, space, idx);
            if (e != MAPPING_EMPTY) {
                *index = idx;
                return e;
            }
        }
    }
    *index = end;
    return MAPPING_EMPTY;
}

/* ---- page cache ------------------------------------------------------------------------------ */

uint64_t filemap_get_folio(const mm_pagecache *pc, uint32_t file, uint64_t index)
{
    uint64_t e = mapping_load(pc, file, index);
    return mapping_entry_is_page(e) ? mapping_entry_pfn(e) : MM_PFN_NONE;
}

bool filemap_add_folio(mm_pagecache *pc, uint32_t file, uint64_t index, uint64_t pfn,
                       uint64_t *shadowp)
{
    uint64_t old = mapping_load(pc, file, index);
    if (mapping_entry_is_page(old))
        return false;
    mapping_store(pc, file, index, mapping_page_entry(pfn));
    folio_set_flags(pc->lru, pfn, PG_pagecache);
    folio_set_owner(pc->lru, pfn, PAGECACHE_OWNER(file, index));
    if (shadowp)
        *shadowp = mapping_entry_is_shadow(old) ? old : 0;
    return true;
}

void filemap_remove_folio(mm_pagecache *pc, uint64_t pfn, uint64_t shadow)
{
    uint64_t owner = folio_owner(pc->lru, pfn);
    uint32_t file = pagecache_owner_file(owner);
    uint64_t index = pagecache_owner_index(owner);
    if (shadow)
        mapping_store(pc, file, index, shadow);
    else
        mapping_erase(pc, file, index);
    folio_clear_flags(pc->lru, pfn, PG_pagecache);
}

/* ---- swap cache ------------------------------------------------------------------------------ */

bool add_to_swap_cache(mm_pagecache *pc, uint64_t pfn, uint32_t entry, uint64_t *shadowp)
{
    uint32_t space = MAPPING_SWAP_SPACE(swp_type(entry));
    uint64_t old = mapping_load(pc, space, swp_offset(entry));
    if (mapping_entry_is_page(old))
        return false;
    mapping_store(pc, space, swp_offset(entry), mapping_page_entry(pfn));
    folio_set_flags(pc->lru, pfn, PG_swapcache);
    folio_set_swap_entry(pc->lru, pfn, entry);
    if (shadowp)
        *shadowp = mapping_entry_is_shadow(old) ? old : 0;
    return true;
}

void delete_from_swap_cache(mm_pagecache *pc, uint64_t pfn, uint64_t shadow)
{
    uint32_t entry = folio_swap_entry(pc->lru, pfn);
    uint32_t space = MAPPING_SWAP_SPACE(swp_type(entry));
    if (shadow)
        mapping_store(pc, space, swp_offset(entry), shadow);
    else
        mapping_erase(pc, space, swp_offset(entry));
    folio_clear_flags(pc->lru, pfn, PG_swapcache);
    folio_set_swap_entry(pc->lru, pfn, 0);
}

uint64_t swap_cache_get_folio(const mm_pagecache *pc, uint32_t entry)
{
    uint64_t e = mapping_load(pc, MAPPING_SWAP_SPACE(swp_type(entry)), swp_offset(entry));
    return mapping_entry_is_page(e) ? mapping_entry_pfn(e) : MM_PFN_NONE;
}

uint64_t get_shadow_from_swap_cache(const mm_pagecache *pc, uint32_t entry)
{
    uint64_t e = mapping_load(pc, MAPPING_SWAP_SPACE(swp_type(entry)), swp_offset(entry));
    return mapping_entry_is_shadow(e) ? e : 0;
}

void clear_shadow_from_swap_cache(mm_pagecache *pc, unsigned type, uint32_t begin, uint32_t end)
{
    uint32_t space = MAPPING_SWAP_SPACE(type);
    uint64_t idx = begin;
    for (;;) {
        uint64_t e = mapping_find(pc, space, &idx, (uint64_t)end + 1);
        if (e == MAPPING_EMPTY)
            break;
        if (e & 1)
            mapping_erase(pc, space, idx);
        idx++;
    }
}

/* ---- shadow nodes ---------------------------------------------------------------------------- */

uint64_t pagecache_nr_shadow_nodes(const mm_pagecache *pc) { return pc->nr_shadow_nodes; }

uint64_t pagecache_reclaim_shadow_nodes(mm_pagecache *pc, uint64_t nr)
{
    uint64_t done = 0;
    while (done < nr && pc->shadow_head != NODE_NIL) {
        uint64_t key = pc->node[pc->shadow_head].key;
        uint32_t space = nkey_space(key);
        uint64_t base = nkey_prefix(key) << XA_CHUNK_SHIFT;
        for (uint64_t i = 0; i < XA_CHUNK_SIZE; i++) {
            uint64_t e = mapping_load(pc, space, base + i);
            if (mapping_entry_is_shadow(e))
                mapping_erase(pc, space, base + i);
        }
        pc->lru->ev.workingset_nodereclaim++;
        done++;
    }
    return done;
}

/* do_shrink_slab() for a shrinker with seeks == 0: delta = freeable / 2 */
uint64_t pagecache_shrink_shadow_nodes(mm_pagecache *pc, uint64_t present_pages, int priority)
{
    uint64_t max_nodes = workingset_max_shadow_nodes(present_pages);
    uint64_t nodes = pc->nr_shadow_nodes;
    if (nodes <= max_nodes)
        return 0;
    uint64_t freeable = nodes - max_nodes;
    uint64_t nr = pc->shadow_deferred;
    pc->shadow_deferred = 0;
    uint64_t delta = freeable / 2;
    uint64_t total_scan = (nr >> priority) + delta;
    if (total_scan > 2 * freeable)
        total_scan = 2 * freeable;
    uint64_t scanned = 0, freed = 0;
    while (total_scan >= SHRINK_BATCH || total_scan >= freeable) {
        uint64_t nr_to_scan = total_scan < SHRINK_BATCH ? total_scan : SHRINK_BATCH;
        freed += pagecache_reclaim_shadow_nodes(pc, nr_to_scan);
        total_scan -= nr_to_scan;
        scanned += nr_to_scan;
        if (!pc->nr_shadow_nodes)
            break;
    }
    uint64_t next = nr + delta > scanned ? nr + delta - scanned : 0;
    pc->shadow_deferred = next < 2 * freeable ? next : 2 * freeable;
    return freed;
}

/* ---- counts and stats ------------------------------------------------------------------------ */

uint64_t pagecache_nr_pages(const mm_pagecache *pc) { return pc->nr_pages; }
uint64_t pagecache_nr_buffers(const mm_pagecache *pc) { return pc->nr_buffers; }
uint64_t pagecache_nr_swapcache(const mm_pagecache *pc) { return pc->nr_swapcache; }
uint64_t pagecache_nr_shadows(const mm_pagecache *pc) { return pc->nr_shadows; }
uint64_t pagecache_nr_xa_nodes(const mm_pagecache *pc) { return pc->nr_nodes; }

enum { G_CACHED, G_BUFFERS, G_SWAPCACHED, G_FILE_PAGES, G_SWAPCACHE_PAGES, G_WS_NODES, G_NODES,
       G_NODE_BYTES };

static uint64_t g_pc(const void *c)
{
    const struct pc_gauge *g = c;
    const mm_pagecache *pc = g->pc;
    unsigned kb_shift = mm_phys_config_of(pc->lru->pm)->page_shift - 10;
    switch (g->what) {
    case G_CACHED:
        return (pc->nr_pages - pc->nr_buffers) << kb_shift;
    case G_BUFFERS:
        return pc->nr_buffers << kb_shift;
    case G_SWAPCACHED:
        return pc->nr_swapcache << kb_shift;
    case G_FILE_PAGES:
        return pc->nr_pages + pc->nr_swapcache;
    case G_SWAPCACHE_PAGES:
        return pc->nr_swapcache;
    case G_WS_NODES:
        return pc->nr_shadow_nodes;
    case G_NODES:
        return pc->nr_nodes;
    case G_NODE_BYTES:
    default:
        return pc->nr_nodes * XA_NODE_BYTES;
    }
}

mm_pagecache *mm_pagecache_create(mm_lru *lru, stats_registry *reg)
{
    mm_pagecache *pc = xcalloc(1, sizeof *pc);
    pc->lru = lru;
    uint64_t cap = 1024;
    while (cap < lru->max_pfn)
        cap <<= 1;
    htab_init(&pc->ent, cap);
    htab_init(&pc->nodes, cap / 16 > 1024 ? cap / 16 : 1024);
    pc->node_free = NODE_NIL;
    pc->shadow_head = pc->shadow_tail = NODE_NIL;
    if (reg) {
        static const struct {
            const char *prefix, *leaf, *desc;
        } gs[] = {
            {"os.meminfo", "Cached", "kB of file pages (not block device, not swap cache)"},
            {"os.meminfo", "Buffers", "kB of block-device pages (file 0)"},
            {"os.meminfo", "SwapCached", "kB of pages in the swap cache"},
            {"os.vmstat", "nr_file_pages", "page cache plus swap cache pages (NR_FILE_PAGES)"},
            {"os.vmstat", "nr_swapcached", "pages in the swap cache (NR_SWAPCACHE)"},
            {"os.vmstat", "workingset_nodes", "page-cache tree nodes holding only shadows"},
            {"os.pagecache", "xa_nodes", "page-cache and swap-cache tree nodes (xa_node)"},
            {"os.pagecache", "xa_node_bytes", "bytes of those nodes in the radix_tree_node slab"},
        };
        for (int k = 0; k < 8; k++) {
            pc->g[k] = (struct pc_gauge){pc, k};
            stats_gauge(reg, gs[k].prefix, gs[k].leaf, g_pc, &pc->g[k], gs[k].desc);
        }
    }
    return pc;
}

void mm_pagecache_destroy(mm_pagecache *pc)
{
    if (!pc)
        return;
    free(pc->ent.s);
    free(pc->nodes.s);
    free(pc->node);
    free(pc);
}
