#include "models/os/frame_alloc.h"

#include <stdlib.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"

/* Open-addressing hash table keyed by (pid, virtual page number); the last-hit page is cached in
 * front of it because consecutive accesses mostly fall in the same page. */
#define FA_ORDERS 19 /* block orders 0 .. 18 (1 GiB of 4 KiB frames) */

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
    /* the block interface: freed blocks per order (stacks), frames in use */
    struct fa_stack {
        uint64_t *pfn;
        size_t n, cap;
    } freed[FA_ORDERS];
    uint64_t in_use;
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
    for (unsigned o = 0; o < FA_ORDERS; o++)
        free(fa->freed[o].pfn);
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

static void fa_push(struct fa_stack *s, uint64_t pfn)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->pfn = xrealloc(s->pfn, s->cap * sizeof *s->pfn);
    }
    s->pfn[s->n++] = pfn;
}

uint64_t frame_alloc_block(frame_alloc *fa, unsigned order)
{
    if (order >= FA_ORDERS)
        order = FA_ORDERS - 1;
    uint64_t n = (uint64_t)1 << order;
    fa->in_use += n;
    if (fa->freed[order].n)
        return fa->freed[order].pfn[--fa->freed[order].n];
    uint64_t pfn = (fa->next_pfn + n - 1) & ~(n - 1);
    if (pfn + n > fa->nframes) { /* memory ran out: wrap around (the frames alias) */
        fa->aliased += n;
        pfn = 0;
        fa->next_pfn = 0;
    }
    for (uint64_t skipped = fa->next_pfn; skipped < pfn; skipped++)
        fa_push(&fa->freed[0], skipped);
    fa->next_pfn = pfn + n;
    if (fa->next_pfn >= fa->nframes)
        fa->next_pfn = 0;
    return pfn;
}

void frame_alloc_free_block(frame_alloc *fa, uint64_t pfn, unsigned order)
{
    if (order >= FA_ORDERS)
        order = FA_ORDERS - 1;
    uint64_t n = (uint64_t)1 << order;
    fa->in_use = fa->in_use >= n ? fa->in_use - n : 0;
    fa_push(&fa->freed[order], pfn);
}

void frame_alloc_count_fault(frame_alloc *fa)
{
    fa->faults++;
}

uint64_t frame_alloc_frames_in_use(const frame_alloc *fa)
{
    return fa->in_use;
}
