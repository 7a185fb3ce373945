/* TLB levels on the set-associative core (see tlb.h). */
#include "models/hw/tlb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"

static const char *const size_names[TLB_SIZES] = {"4k", "2m", "1g"};

static unsigned shared_mask(enum tlb_sharing s)
{
    switch (s) {
    case TLB_SHARE_NONE: return 1u << TLB_4K;
    case TLB_SHARE_4K2M: return (1u << TLB_4K) | (1u << TLB_2M);
    case TLB_SHARE_ALL: return (1u << TLB_4K) | (1u << TLB_2M) | (1u << TLB_1G);
    }
    return 1u << TLB_4K;
}

int tlb_params_check(const struct tlb_params *p, mm_err *err)
{
    unsigned in4k = shared_mask(p->sharing);
    for (unsigned s = 0; s < TLB_SIZES; s++) {
        unsigned n = p->entries[s], a = p->assoc[s];
        if (s != TLB_4K && (in4k & (1u << s)) && n)
            return mm_errf(err, "entries_%s must be 0: %s pages share the 4k array", size_names[s],
                           size_names[s]);
        if (!n)
            continue;
        if (!a)
            return mm_errf(err, "assoc_%s must be non-zero when entries_%s is %u", size_names[s],
                           size_names[s], n);
        if (n % a)
            return mm_errf(err, "entries_%s %u is not a multiple of assoc_%s %u", size_names[s], n,
                           size_names[s], a);
        if (!is_pow2_u64(n / a))
            return mm_errf(err, "set count %u of the %s array is not a power of two (entries %u / assoc %u)",
                           n / a, size_names[s], n, a);
        if (a > CACHE_MAX_WAYS)
            return mm_errf(err, "assoc_%s %u is above the maximum %u", size_names[s], a, CACHE_MAX_WAYS);
        if (p->repl == REPL_PLRU && !is_pow2_u64(a))
            return mm_errf(err, "plru replacement needs a power-of-two assoc, not assoc_%s %u",
                           size_names[s], a);
    }
    return 0;
}

tlb *tlb_create(const struct tlb_params *p, stats_registry *reg, const char *prefix)
{
    unsigned in4k = shared_mask(p->sharing);
    int any = 0;
    for (unsigned s = 0; s < TLB_SIZES; s++)
        any |= p->entries[s] != 0;
    if (!any)
        return NULL;
    tlb *t = xcalloc(1, sizeof *t);
    t->latency = p->latency;
    for (unsigned s = 0; s < TLB_SIZES; s++) {
        t->holder[s] = -1;
        if (!p->entries[s])
            continue;
        struct tlb_array *a = &t->arr[s];
        char rng_name[96];
        snprintf(rng_name, sizeof rng_name, "%s.%s", prefix ? prefix : "tlb", size_names[s]);
        struct cache_geom g = {p->entries[s] / p->assoc[s], p->assoc[s], p->repl, p->seed, rng_name};
        a->c = cache_create(&g);
        a->ways = p->assoc[s];
        a->pay = xcalloc(p->entries[s], sizeof *a->pay);
        a->sizes = s == TLB_4K ? in4k : 1u << s;
    }
    for (unsigned s = 0; s < TLB_SIZES; s++)
        for (unsigned i = 0; i < TLB_SIZES; i++)
            if (t->arr[i].c && (t->arr[i].sizes & (1u << s)))
                t->holder[s] = (int)i;
    if (reg) {
        struct tlb_stats *st = &t->s;
        stats_counter(reg, prefix, "accesses", &st->accesses, "lookups at this level");
        stats_counter(reg, prefix, "hits", &st->hits, "lookups that found a translation");
        stats_counter(reg, prefix, "misses", &st->misses, "lookups that did not");
        stats_ratio(reg, prefix, "miss_rate", &st->misses, &st->accesses, 1.0, "misses / accesses");
        for (unsigned s = 0; s < TLB_SIZES; s++) {
            char leaf[32], desc[128];
            snprintf(leaf, sizeof leaf, "hits_%s", size_names[s]);
            snprintf(desc, sizeof desc, "hits on %s entries", size_names[s]);
            stats_counter(reg, prefix, leaf, &st->hits_size[s], desc);
        }
        for (unsigned s = 0; s < TLB_SIZES; s++) {
            char leaf[32], desc[128];
            snprintf(leaf, sizeof leaf, "misses_%s", size_names[s]);
            snprintf(desc, sizeof desc, "misses whose translation maps a %s page", size_names[s]);
            stats_counter(reg, prefix, leaf, &st->misses_size[s], desc);
        }
        stats_counter(reg, prefix, "fills", &st->fills, "translations installed");
        stats_counter(reg, prefix, "evictions", &st->evictions, "valid entries replaced by a fill");
        stats_counter(reg, prefix, "invalidations", &st->invalidations,
                      "entries dropped by invlpg, flushes and shootdowns");
    }
    return t;
}

void tlb_destroy(tlb *t)
{
    if (!t)
        return;
    for (unsigned s = 0; s < TLB_SIZES; s++) {
        cache_destroy(t->arr[s].c);
        free(t->arr[s].pay);
    }
    free(t);
}

static inline unsigned key_size(uint64_t key)
{
    return (unsigned)(key >> TLB_KEY_SIZE_SHIFT) & 3u;
}

static uint64_t *lookup_tag(tlb *t, uint64_t va, uint64_t tag, unsigned *size, int skip_4k)
{
    for (unsigned s = skip_4k ? 1 : 0; s < TLB_SIZES; s++) {
        if (t->holder[s] < 0)
            continue;
        struct tlb_array *a = &t->arr[t->holder[s]];
        if (!a->count[s])
            continue;
        uint64_t *p = tlb_array_lookup(a, tlb_key(va, s, tag));
        if (p) {
            *size = s;
            return p;
        }
    }
    return NULL;
}

uint64_t *tlb_lookup(tlb *t, uint64_t va, uint64_t tag, unsigned *size, int skip_4k)
{
    uint64_t *p = lookup_tag(t, va, tag, size, skip_4k);
    if (!p && t->has_global)
        p = lookup_tag(t, va, TLB_TAG_GLOBAL, size, 0);
    return p;
}

static void fill_key(tlb *t, struct tlb_array *a, uint64_t key, unsigned size, uint64_t pay)
{
    struct cache_victim v;
    unsigned way = cache_fill(a->c, key, 0, &v);
    a->pay[cache_set_of(a->c, key) * a->ways + way] = pay;
    a->count[size]++;
    t->s.fills++;
    if (v.key != CACHE_KEY_INVALID) {
        a->count[key_size(v.key)]--;
        t->s.evictions++;
    }
}

void tlb_fill(tlb *t, uint64_t va, unsigned size, uint64_t tag, uint64_t pay)
{
    if (size >= TLB_SIZES || t->holder[size] < 0)
        return;
    if (pay & TLB_G) {
        tag = TLB_TAG_GLOBAL;
        t->has_global = 1;
    }
    fill_key(t, &t->arr[t->holder[size]], tlb_key(va, size, tag), size, pay);
}

void tlb_refill(tlb *t, uint64_t va, unsigned size, uint64_t tag, uint64_t pay)
{
    if (size >= TLB_SIZES || t->holder[size] < 0)
        return;
    if (pay & TLB_G) {
        tag = TLB_TAG_GLOBAL;
        t->has_global = 1;
    }
    struct tlb_array *a = &t->arr[t->holder[size]];
    uint64_t key = tlb_key(va, size, tag);
    int w = cache_find(a->c, key);
    if (w < 0) {
        fill_key(t, a, key, size, pay);
        return;
    }
    a->pay[cache_set_of(a->c, key) * a->ways + (unsigned)w] = pay;
    cache_touch(a->c, cache_set_of(a->c, key), (unsigned)w);
}

unsigned tlb_invalidate_page(tlb *t, uint64_t va, uint64_t tag)
{
    unsigned dropped = 0;
    for (unsigned s = 0; s < TLB_SIZES; s++) {
        if (t->holder[s] < 0)
            continue;
        struct tlb_array *a = &t->arr[t->holder[s]];
        if (!a->count[s])
            continue;
        unsigned n = (unsigned)cache_invalidate(a->c, tlb_key(va, s, tag), NULL);
        if (t->has_global)
            n += (unsigned)cache_invalidate(a->c, tlb_key(va, s, TLB_TAG_GLOBAL), NULL);
        a->count[s] -= n;
        dropped += n;
    }
    t->s.invalidations += dropped;
    return dropped;
}

struct drop_ctx {
    struct tlb_array *a;
    uint64_t dropped;
};

static void count_drop(void *ctx, uint64_t key, int dirty)
{
    (void)dirty;
    struct drop_ctx *d = ctx;
    d->a->count[key_size(key)]--;
    d->dropped++;
}

uint64_t tlb_flush(tlb *t, enum tlb_flush_kind kind, uint64_t tag)
{
    uint64_t dropped = 0;
    for (unsigned i = 0; i < TLB_SIZES; i++) {
        struct tlb_array *a = &t->arr[i];
        if (!a->c || !(a->count[0] | a->count[1] | a->count[2]))
            continue;
        struct drop_ctx d = {a, 0};
        switch (kind) {
        case TLB_FLUSH_ALL:
            cache_flush(a->c, count_drop, &d);
            break;
        case TLB_FLUSH_NON_GLOBAL:
            cache_invalidate_range(a->c, 0, ((uint64_t)TLB_TAG_GLOBAL << TLB_TAG_SHIFT) - 1,
                                   count_drop, &d);
            break;
        case TLB_FLUSH_TAG:
            cache_invalidate_range(a->c, tag << TLB_TAG_SHIFT, ((tag + 1) << TLB_TAG_SHIFT) - 1,
                                   count_drop, &d);
            break;
        }
        dropped += d.dropped;
    }
    if (kind == TLB_FLUSH_ALL)
        t->has_global = 0;
    t->s.invalidations += dropped;
    return dropped;
}

uint64_t tlb_valid_entries(const tlb *t)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < TLB_SIZES; i++)
        if (t->arr[i].c)
            n += cache_valid_count(t->arr[i].c);
    return n;
}
