/* Page-walk caches (Intel's paging-structure caches, SDM vol. 3, 4.10.3): one small cache per
 * upper paging level, on the set-associative core. The cache of level L holds entries of level-L
 * tables that point to a table (never leaves), keyed by the virtual-address bits that select them
 * (va >> (12 + 9 * (L - 1))) and the PCID tag; the payload is the next table's pfn and the
 * permissions accumulated down to that entry. A hit in the PDE cache (L = 2) leaves only the PT
 * load; a hit in the PDPTE cache (L = 3) leaves the PD and PT loads, and so on. The walker uses the
 * deepest hit.
 *
 * Levels: 5 = PML5E (5-level paging only), 4 = PML4E, 3 = PDPTE, 2 = PDE. A level with no entries
 * is absent. Statistics per level under `<prefix>.pml5`, `.pml4`, `.pdpt`, `.pde`: accesses, hits,
 * misses (a level is consulted only when every deeper one missed). */
#ifndef MMUSIM_HW_PWC_H
#define MMUSIM_HW_PWC_H

#include <stdint.h>

#include "models/common/errors.h"
#include "models/common/stats.h"
#include "models/hw/cache.h"

#define PWC_LEVELS 6 /* indexed by paging level; 2..5 used */

struct pwc_params {
    unsigned entries[PWC_LEVELS]; /* 0: no cache for that level */
    unsigned assoc[PWC_LEVELS];
    unsigned latency[PWC_LEVELS]; /* cycles for a lookup that this level answers */
    enum cache_repl repl;
    uint64_t seed;
};

/* Geometry per level as for TLB arrays. 0, or -1 with err naming the level ("pde", ...). */
int pwc_params_check(const struct pwc_params *p, mm_err *err);
const char *pwc_level_name(unsigned level); /* "pde", "pdpt", "pml4", "pml5" */

typedef struct pwc pwc;

/* levels: the paging levels walked (4 or 5); caches above levels are not built. */
pwc *pwc_create(const struct pwc_params *p, unsigned levels, stats_registry *reg, const char *prefix);
void pwc_destroy(pwc *c);

/* The deepest level L whose cache holds va's entry for tag: returns L and its payload in *pay;
 * 0 when none holds it. *latency: the cycles the lookup took (the answering level's latency, or the
 * largest latency among the levels present when none hit). */
unsigned pwc_lookup(pwc *c, uint64_t va, uint64_t tag, uint64_t *pay, unsigned *latency);
/* Installs va's level-L entry; it must not be present (the walker fills only levels that missed
 * in this walk, which is what a lookup that stops at the deepest hit guarantees). */
void pwc_fill(pwc *c, unsigned level, uint64_t va, uint64_t tag, uint64_t pay);

/* Drop everything; the entries of one tag; the entries that would serve va for tag. */
void pwc_flush(pwc *c);
void pwc_flush_tag(pwc *c, uint64_t tag);
void pwc_invalidate_va(pwc *c, uint64_t va, uint64_t tag);

/* 1 if the cache of level exists. */
int pwc_has_level(const pwc *c, unsigned level);

#endif
