/* Every configuration key mmusim understands: its section(s), type, range and meaning.
 * A key that is not here is refused with a suggestion; README.md lists them for users. */
#include "sim/config.h"

#define CACHES "cache.l1i|cache.l1d|cache.l2|cache.llc"
#define TLBS "tlb.l1i|tlb.l1d|tlb.stlb"
#define KiB 1024ULL
#define GiB (1024ULL * 1024 * 1024)
#define TiB (1024ULL * GiB)

const struct cfg_key_def config_schema[] = {
    {"mmu", "translate", CFG_BOOL, 0, 0, NULL,
     "true: translate virtual to physical addresses before the caches; false: simulate the caches "
     "on virtual addresses, as cachegrind and Dinero IV do"},
    {"mmu", "page_size", CFG_SIZE, 4 * KiB, GiB, NULL,
     "base page size (a power of two; 4K when translate is on: x86-64 paging)"},
    {"mmu", "first_touch_page", CFG_SIZE, 4 * KiB, GiB, NULL,
     "translate: page size the first-touch fault handler maps with (4K, 2M or 1G); a huge page "
     "that a finer mapping is in the way of falls back to a smaller one"},
    {"mmu", "first_touch_cost", CFG_UINT, 0, 100000000, NULL,
     "translate: cycles a page fault served by the first-touch handler costs (the kernel model "
     "replaces this handler)"},
    {"mmu", "host_page", CFG_SIZE, 4 * KiB, GiB, NULL,
     "translate, [walker] nested: page size the host maps guest-physical memory with on first "
     "touch (4K, 2M or 1G)"},

    {TLBS, "entries_4k", CFG_UINT, 0, 1u << 20, NULL,
     "entries of the 4 KiB array (0: none); it also holds the sizes named by `shared`"},
    {TLBS, "assoc_4k", CFG_UINT, 0, 1u << 16, NULL, "ways of the 4 KiB array (= entries: fully associative)"},
    {TLBS, "entries_2m", CFG_UINT, 0, 1u << 20, NULL, "entries of the 2 MiB array (0: none)"},
    {TLBS, "assoc_2m", CFG_UINT, 0, 1u << 16, NULL, "ways of the 2 MiB array"},
    {TLBS, "entries_1g", CFG_UINT, 0, 1u << 20, NULL, "entries of the 1 GiB array (0: none)"},
    {TLBS, "assoc_1g", CFG_UINT, 0, 1u << 16, NULL, "ways of the 1 GiB array"},
    {TLBS, "shared", CFG_ENUM, 0, 0, "none|4k+2m|4k+2m+1g",
     "page sizes held by the 4 KiB array (their own entries_* must be 0): none, 4k+2m (Intel's "
     "STLB since Haswell), 4k+2m+1g (one unified array)"},
    {TLBS, "latency", CFG_UINT, 0, 100000, NULL,
     "cycles a lookup at this level adds (L1: 0 when it overlaps the L1 cache access)"},
    {TLBS, "replacement", CFG_ENUM, 0, 0, "lru|plru|random|srrip|brrip|drrip", "replacement policy"},
    {"tlb", "pcid", CFG_BOOL, 0, 0, NULL,
     "entries tagged with the address space's PCID: a context switch keeps them (false: it "
     "flushes every non-global entry and the page-walk caches)"},
    {"tlb", "shootdown_cost", CFG_UINT, 0, 100000000, NULL,
     "cycles the initiator of a TLB shootdown pays per other CPU it interrupts"},

    {"walker", "levels", CFG_UINT, 4, 5, NULL, "paging levels: 4 (48-bit) or 5 (LA57, 57-bit)"},
    {"walker", "host_levels", CFG_UINT, 4, 5, NULL, "nested: the host (EPT) paging levels"},
    {"walker", "cache_level", CFG_ENUM, 0, 0, "l1d|l2|llc",
     "where page-walk loads enter the cache hierarchy (a disabled level: the next one)"},
    {"walker", "nested", CFG_BOOL, 0, 0, NULL,
     "two-dimensional walks: guest tables in guest-physical memory, translated through host "
     "tables (up to 24 loads with 4+4 levels)"},

    {"pwc", "pml5_entries", CFG_UINT, 0, 1u << 16, NULL, "PML5E cache entries (5-level paging; 0: none)"},
    {"pwc", "pml5_assoc", CFG_UINT, 0, 1u << 16, NULL, "PML5E cache ways"},
    {"pwc", "pml5_latency", CFG_UINT, 0, 10000, NULL, "cycles of a walk that starts from a PML5E hit"},
    {"pwc", "pml4_entries", CFG_UINT, 0, 1u << 16, NULL, "PML4E cache entries (0: none)"},
    {"pwc", "pml4_assoc", CFG_UINT, 0, 1u << 16, NULL, "PML4E cache ways"},
    {"pwc", "pml4_latency", CFG_UINT, 0, 10000, NULL, "cycles of a walk that starts from a PML4E hit"},
    {"pwc", "pdpt_entries", CFG_UINT, 0, 1u << 16, NULL, "PDPTE cache entries (0: none)"},
    {"pwc", "pdpt_assoc", CFG_UINT, 0, 1u << 16, NULL, "PDPTE cache ways"},
    {"pwc", "pdpt_latency", CFG_UINT, 0, 10000, NULL, "cycles of a walk that starts from a PDPTE hit"},
    {"pwc", "pde_entries", CFG_UINT, 0, 1u << 16, NULL, "PDE cache entries (0: none)"},
    {"pwc", "pde_assoc", CFG_UINT, 0, 1u << 16, NULL, "PDE cache ways"},
    {"pwc", "pde_latency", CFG_UINT, 0, 10000, NULL,
     "cycles of a walk that starts from a PDE hit (a walk that hits nowhere pays the largest "
     "latency of the caches present)"},
    {"pwc", "replacement", CFG_ENUM, 0, 0, "lru|plru|random|srrip|brrip|drrip",
     "replacement policy of every page-walk cache"},

    {"cache", "clip_to_line", CFG_BOOL, 0, 0, NULL,
     "cut data accesses longer than the smallest line size of the enabled caches to that size, as "
     "cachegrind does (cg_main.c); false: an access touches every line it covers"},
    {CACHES, "enabled", CFG_BOOL, 0, 0, NULL, "whether this level exists (L1s must)"},
    {CACHES, "size", CFG_SIZE, 1, TiB, NULL, "capacity in bytes"},
    {CACHES, "assoc", CFG_UINT, 1, 1u << 20, NULL, "ways per set (assoc = size/line: fully associative)"},
    {CACHES, "line", CFG_SIZE, 4, 64 * KiB, NULL, "line size in bytes (a power of two)"},
    {CACHES, "latency", CFG_UINT, 0, 100000, NULL, "cycles for a hit at this level"},
    {CACHES, "replacement", CFG_ENUM, 0, 0, "lru|plru|random|srrip|brrip|drrip",
     "replacement policy"},
    {CACHES, "write_policy", CFG_ENUM, 0, 0, "writeback|writethrough|reference",
     "writeback: write-back + write-allocate; writethrough: write-through + no-write-allocate; "
     "reference: cachegrind's model (a store is a plain reference, nothing written back)"},
    {CACHES, "inclusion", CFG_ENUM, 0, 0, "non-inclusive|inclusive|exclusive",
     "the LLC's inclusion of the levels above (only the LLC may set it)"},

    {"system", "cpus", CFG_UINT, 1, 256, NULL,
     "cpus of the machine, each with its own TLBs, L1s and L2; several traces run one per cpu"},
    {"system", "coherence", CFG_BOOL, 0, 0, NULL,
     "with several cpus: a store removes the line from the other cpus' private caches and a read "
     "takes a dirty copy from another cpu (an invalidation protocol like MESI)"},
    {"core", "cpi", CFG_DOUBLE, 0, 1000, NULL,
     "cycles per instruction when every access hits in the L1 (the core's own work)"},
    {"core", "overlap", CFG_DOUBLE, 0, 1, NULL,
     "share of the stall cycles beyond an L1 hit that memory-level parallelism hides (0: none)"},
    {"core", "frequency_mhz", CFG_UINT, 1, 100000, NULL,
     "core clock in MHz: converts DRAM timings (in DRAM clocks) into core cycles"},

    {"kernel", "model", CFG_ENUM, 0, 0, "first-touch|linux",
     "translate: first-touch (a fault maps a frame of the first-touch allocator, no VMAs) or "
     "linux (the kernel model: buddy allocator, VMAs, overcommit, reclaim, swap, OOM)"},
    {"kernel", "fault_cost", CFG_UINT, 0, 100000000, NULL,
     "linux: cycles of a minor fault's kernel path (allocation and reclaim stalls are added)"},
    {"kernel", "major_fault_cost", CFG_UINT, 0, 100000000, NULL,
     "linux: cycles of a major fault's kernel path (the I/O wait is added)"},
    {"kernel", "overcommit_memory", CFG_UINT, 0, 2, NULL,
     "linux: vm.overcommit_memory (0 heuristic, 1 always, 2 never)"},
    {"kernel", "overcommit_ratio", CFG_UINT, 0, 1000, NULL, "linux: vm.overcommit_ratio, percent"},
    {"kernel", "swappiness", CFG_UINT, 0, 200, NULL, "linux: vm.swappiness"},
    {"kernel", "min_free_kbytes", CFG_UINT, 0, 1u << 30, NULL,
     "linux: vm.min_free_kbytes (0: computed from memory as Linux does)"},
    {"swap", "size", CFG_SIZE, 0, 64 * TiB, NULL, "linux: swap device size (0: no swap)"},
    {"swap", "device", CFG_ENUM, 0, 0, "ssd|nvme|hdd|zram", "linux: swap device latency preset"},

    {"dram", "model", CFG_ENUM, 0, 0, "fixed|rowbuffer",
     "fixed: every access costs latency; rowbuffer: banks with open rows and DDR timings"},
    {"dram", "latency", CFG_UINT, 0, 1000000, NULL,
     "fixed model: core cycles for an access served by memory"},
    {"dram", "size", CFG_SIZE, 4 * KiB, 64 * TiB, NULL, "physical memory"},
    {"dram", "channels", CFG_UINT, 1, 64, NULL, "rowbuffer: memory channels (a power of two)"},
    {"dram", "ranks", CFG_UINT, 1, 64, NULL, "rowbuffer: ranks per channel (a power of two)"},
    {"dram", "banks", CFG_UINT, 1, 256, NULL, "rowbuffer: banks per rank (a power of two)"},
    {"dram", "row_size", CFG_SIZE, 64, 1024 * KiB, NULL,
     "rowbuffer: bytes in one row of a bank across the rank's chips (a power of two)"},
    {"dram", "mapping", CFG_STRING, 0, 0, NULL,
     "rowbuffer: physical address fields from most to least significant, e.g. "
     "row,rank,bank,channel,column (row first; the line offset is always lowest)"},
    {"dram", "page_policy", CFG_ENUM, 0, 0, "open|closed",
     "rowbuffer: keep the row open after an access, or precharge at once"},
    {"dram", "tRCD", CFG_UINT, 0, 1000, NULL, "rowbuffer: activate to read/write, DRAM clocks"},
    {"dram", "tCAS", CFG_UINT, 0, 1000, NULL, "rowbuffer: read/write to data (CL), DRAM clocks"},
    {"dram", "tRP", CFG_UINT, 0, 1000, NULL, "rowbuffer: precharge, DRAM clocks"},
    {"dram", "clock_mhz", CFG_UINT, 1, 100000, NULL,
     "rowbuffer: DRAM command clock in MHz (half the MT/s rate: DDR4-3200 is 1600)"},
    {"dram", "controller_latency", CFG_UINT, 0, 100000, NULL,
     "rowbuffer: core cycles added to every access (queues, interconnect, PHY)"},

    {NULL, NULL, 0, 0, 0, NULL, NULL},
};

const char *const config_open_sections[] = {"cgroup.", NULL};
