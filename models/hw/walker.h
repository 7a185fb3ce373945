/* The page walker of one CPU (Intel SDM vol. 3, 4.5 and 4.10; 29.3 for EPT).
 *
 * A walk starts at CR3 (or at the deepest page-walk-cache hit) and loads one entry per level until
 * a leaf: a PTE, a PDE with PS (2 MiB) or a PDPTE with PS (1 GiB). Every entry load is a read of
 * 8 bytes at the entry's physical address that enters the data-cache hierarchy at `cache_level`
 * (L1D, L2 or the LLC) like any other access, so its latency depends on what the caches hold and
 * page-table lines compete with data. The walker reads the entries' values through `walker_mem`
 * (the kernel model's page tables: memory that holds no table reads as 0) and sets Accessed on
 * every entry it uses, and Dirty on the leaf for a store; each such update is a locked write of
 * the entry's line (a write access through the caches, counted as an A/D update).
 *
 * Nested (two-dimensional) walks, when `nested`: the guest's tables live at guest-physical
 * addresses, so every guest entry's address and the final guest-physical address are translated
 * through the host tables first (up to 4 x 5 + 4 = 24 loads with 4+4 levels). Guest levels use
 * their own page-walk caches (keyed by guest-virtual address), host levels theirs (keyed by
 * guest-physical address); statistics split guest and host loads.
 *
 * The walker changes no TLB and never handles a fault: it reports the fault (not present or
 * protection, with an x86 error code), and the MMU calls the kernel model and walks again. */
#ifndef MMUSIM_HW_WALKER_H
#define MMUSIM_HW_WALKER_H

#include <stdint.h>

#include "models/common/stats.h"
#include "models/hw/cache.h"
#include "models/hw/pwc.h"

/* Paging-entry bits the walker interprets (x86 layout; EPT entries are read with the same bits in
 * this model: P = readable, RW = writable, NX = not executable). */
#define WALK_PTE_P (1ull << 0)
#define WALK_PTE_RW (1ull << 1)
#define WALK_PTE_US (1ull << 2)
#define WALK_PTE_A (1ull << 5)
#define WALK_PTE_D (1ull << 6)
#define WALK_PTE_PS (1ull << 7)
#define WALK_PTE_G (1ull << 8)
#define WALK_PTE_NX (1ull << 63)
#define WALK_PTE_ADDR 0x000ffffffffff000ull

/* x86 page-fault error code bits (SDM 4.7). */
#define WALK_ERR_P 0x1u /* 0: not present; 1: protection */
#define WALK_ERR_W 0x2u /* a write */
#define WALK_ERR_U 0x4u /* a user-mode access */
#define WALK_ERR_I 0x10u /* an instruction fetch */

/* How the walker reads paging entries: physical memory holding the kernel model's tables. */
struct walker_mem {
    uint64_t (*read)(void *ctx, uint64_t paddr);
    void (*set_bits)(void *ctx, uint64_t paddr, uint64_t bits);
    void *ctx;
    /* optional (may be NULL): a hint that the entry at paddr is read next, so the host can bring
     * it in while the current level's load is simulated */
    void (*prefetch)(void *ctx, uint64_t paddr);
};

struct walker_params {
    unsigned levels;            /* 4 or 5 (guest levels when nested) */
    unsigned host_levels;       /* nested: the host's (EPT) levels, 4 or 5 */
    int nested;
    enum mem_level cache_level; /* LEVEL_L1 (the L1D), LEVEL_L2 or LEVEL_LLC */
    struct pwc_params pwc;      /* the same geometry for guest and host page-walk caches */
};

typedef struct walker walker;

/* Statistics under wprefix ("walker" or "walker.cpuN") and pwc_prefix ("pwc"; host caches under
 * "<pwc_prefix>.host"). mem: the tables (the guest's when nested); host_mem: the host's (nested). */
walker *walker_create(const struct walker_params *p, cache_hier *caches, unsigned cpu,
                      const struct walker_mem *mem, const struct walker_mem *host_mem,
                      stats_registry *reg, const char *wprefix, const char *pwc_prefix);
void walker_destroy(walker *w);

struct walk_req {
    uint64_t va;        /* virtual address (bits above the paging width are ignored) */
    uint64_t root;      /* CR3: the root table's pfn (a guest-physical pfn when nested) */
    uint64_t host_root; /* nested: the host root's pfn (EPTP) */
    uint64_t tag;       /* PCID of the guest-level page-walk-cache entries */
    unsigned type;      /* MM_EV_READ, _WRITE, _IFETCH or _RMW */
    int user;           /* a user-mode access (checks US) */
};

enum walk_status { WALK_OK = 0, WALK_FAULT = 1 };
enum walk_stage { WALK_STAGE_GUEST = 0, WALK_STAGE_HOST = 1 }; /* guest = the only stage when not nested */

struct walk_result {
    enum walk_status status;
    /* WALK_OK: the translation for the TLB */
    uint64_t pa;       /* physical (host) address of the first byte of the page */
    unsigned size;     /* 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB (nested: the smaller of guest and host) */
    uint64_t perms;    /* TLB_W | TLB_U | TLB_X | TLB_D | TLB_G */
    /* WALK_FAULT */
    enum walk_stage fault_stage;
    uint64_t fault_addr; /* the virtual address, or the guest-physical one for a host fault */
    uint32_t fault_err;  /* WALK_ERR_* */
    /* both */
    uint32_t cycles;     /* page-walk-cache lookup + loads + A/D updates */
    unsigned refs;       /* entry loads (guest + host) */
};

/* One walk. Counts walks, loads, cycles and faults. No allocation. */
void walker_walk(walker *w, const struct walk_req *rq, struct walk_result *res);

/* Page-walk-cache maintenance: every guest-level entry (all of them without nesting), the guest
 * entries of one PCID, the guest entries that would serve va, the host entries (INVEPT). */
void walker_flush(walker *w);
void walker_flush_tag(walker *w, uint64_t tag);
void walker_invalidate_va(walker *w, uint64_t va, uint64_t tag);
void walker_flush_host(walker *w);

#endif
