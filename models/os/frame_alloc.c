#include "models/os/frame_alloc.h"

#include <stdlib.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"

/* Open-addressing hash table keyed by (pid, virtual page number); the last-hit page is cached in
 * front of it because consecutive accesses mostly fall in the same page. */
struct fa_slot {
    uint64_t key; /* (vpn << 20 | pid) + 1; 0 = empty */
    uint64_t pfn;
};

struct frame_alloc {
    unsigned page_shift;
    uint64_t nframes;
    uint64_t next_pfn;
    struct fa_slot *slots;
    uint64_t mask; /* capacity - 1 */
    uint64_t used;
    uint64_t last_key, last_pfn;
    uint64_t faults;  /* pages mapped by first touch */
    uint64_t aliased; /* frames handed out again after memory ran out */
};

frame_alloc *frame_alloc_create(unsigned page_shift, uint64_t mem_bytes, stats_registry *reg)
{
    frame_alloc *fa = xcalloc(1, sizeof *fa);
    fa->page_shift = page_shift;
    fa->nframes = mem_bytes >> page_shift;
    if (fa->nframes == 0)
        fa->nframes = 1;
    fa->mask = (1u << 16) - 1;
    fa->slots = xcalloc(fa->mask + 1, sizeof *fa->slots);
    if (reg) {
        stats_counter(reg, "os", "first_touch_faults", &fa->faults,
                      "pages mapped on first touch by the minimal frame allocator");
        stats_counter(reg, "os", "first_touch_aliased", &fa->aliased,
                      "frames reused because the footprint exceeded physical memory");
    }
    return fa;
}

void frame_alloc_destroy(frame_alloc *fa)
{
    if (!fa)
        return;
    free(fa->slots);
    free(fa);
}

static void fa_grow(frame_alloc *fa)
{
    uint64_t old_cap = fa->mask + 1;
    struct fa_slot *old = fa->slots;
    fa->mask = old_cap * 2 - 1;
    fa->slots = xcalloc(old_cap * 2, sizeof *fa->slots);
    for (uint64_t i = 0; i < old_cap; i++) {
        if (!old[i].key)
            continue;
        uint64_t h = mix64(old[i].key) & fa->mask;
        while (fa->slots[h].key)
            h = (h + 1) & fa->mask;
        fa->slots[h] = old[i];
    }
    free(old);
}

uint64_t frame_alloc_translate(frame_alloc *fa, uint32_t pid, uint64_t vaddr, int *faulted)
{
    uint64_t vpn = vaddr >> fa->page_shift;
    uint64_t key = ((vpn << 20) | (pid & 0xfffffu)) + 1;
    uint64_t offset = vaddr & (((uint64_t)1 << fa->page_shift) - 1);
    *faulted = 0;
    if (key == fa->last_key)
        return (fa->last_pfn << fa->page_shift) | offset;
    uint64_t h = mix64(key) & fa->mask;
    for (;;) {
        struct fa_slot *s = &fa->slots[h];
        if (s->key == key) {
            fa->last_key = key;
            fa->last_pfn = s->pfn;
            return (s->pfn << fa->page_shift) | offset;
        }
        if (!s->key)
            break;
        h = (h + 1) & fa->mask;
    }
    /* first touch: take the next frame */
    uint64_t pfn = fa->next_pfn;
    if (++fa->next_pfn == fa->nframes) {
        fa->next_pfn = 0;
    }
    if (fa->used >= fa->nframes)
        fa->aliased++;
    fa->faults++;
    fa->slots[h].key = key;
    fa->slots[h].pfn = pfn;
    fa->used++;
    *faulted = 1;
    if (fa->used * 2 > fa->mask + 1)
        fa_grow(fa);
    fa->last_key = key;
    fa->last_pfn = pfn;
    return (pfn << fa->page_shift) | offset;
}

uint64_t frame_alloc_mapped_pages(const frame_alloc *fa)
{
    return fa->used;
}
