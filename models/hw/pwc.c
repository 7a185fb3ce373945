/* Page-walk caches (see pwc.h). Keys: va >> (12 + 9 * (L - 1)) | tag << 48 (the va is masked to
 * the paging width by the walker, so the prefix has at most 45 bits). */
#include "models/hw/pwc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/bits.h"
#include "models/common/xalloc.h"
#include "models/hw/setassoc.h"

#define PWC_TAG_SHIFT 48

struct pwc_level {
    cache *c;
    uint64_t *pay;
    unsigned ways;
    unsigned latency;
    uint64_t accesses, hits, misses;
};

struct pwc {
    struct pwc_level lv[PWC_LEVELS];
    unsigned top;          /* highest level with a cache */
    unsigned miss_latency; /* the slowest level present */
};

static const char *const level_names[PWC_LEVELS] = {"", "", "pde", "pdpt", "pml4", "pml5"};

const char *pwc_level_name(unsigned level)
{
    return level >= 2 && level < PWC_LEVELS ? level_names[level] : "?";
}

int pwc_params_check(const struct pwc_params *p, mm_err *err)
{
    for (unsigned l = 2; l < PWC_LEVELS; l++) {
        unsigned n = p->entries[l], a = p->assoc[l];
        const char *nm = level_names[l];
        if (!n)
            continue;
        if (!a)
            return mm_errf(err, "%s_assoc must be non-zero when %s_entries is %u", nm, nm, n);
        if (n % a)
            return mm_errf(err, "%s_entries %u is not a multiple of %s_assoc %u", nm, n, nm, a);
        if (!is_pow2_u64(n / a))
            return mm_errf(err, "set count %u of the %s cache is not a power of two", n / a, nm);
        if (a > CACHE_MAX_WAYS)
            return mm_errf(err, "%s_assoc %u is above the maximum %u", nm, a, CACHE_MAX_WAYS);
        if (p->repl == REPL_PLRU && !is_pow2_u64(a))
            return mm_errf(err, "plru replacement needs a power-of-two %s_assoc, not %u", nm, a);
    }
    return 0;
}

static inline uint64_t pwc_key(uint64_t va, unsigned level, uint64_t tag)
{
    return (va >> (12u + 9u * (level - 1u))) | (tag << PWC_TAG_SHIFT);
}

pwc *pwc_create(const struct pwc_params *p, unsigned levels, stats_registry *reg, const char *prefix)
{
    pwc *c = xcalloc(1, sizeof *c);
    for (unsigned l = 2; l < PWC_LEVELS && l <= levels; l++) {
        struct pwc_level *L = &c->lv[l];
        L->latency = p->latency[l];
        if (!p->entries[l])
            continue;
        char name[96];
        snprintf(name, sizeof name, "%s.%s", prefix ? prefix : "pwc", level_names[l]);
        struct cache_geom g = {p->entries[l] / p->assoc[l], p->assoc[l], p->repl, p->seed, name};
        L->c = cache_create(&g);
        L->ways = p->assoc[l];
        L->pay = xcalloc(p->entries[l], sizeof *L->pay);
        c->top = l;
        if (L->latency > c->miss_latency)
            c->miss_latency = L->latency;
        if (reg) {
            stats_counter(reg, name, "accesses", &L->accesses,
                          "lookups (made when every deeper level missed)");
            stats_counter(reg, name, "hits", &L->hits, "lookups that skipped the upper levels");
            stats_counter(reg, name, "misses", &L->misses, "lookups that did not");
        }
    }
    return c;
}

void pwc_destroy(pwc *c)
{
    if (!c)
        return;
    for (unsigned l = 0; l < PWC_LEVELS; l++) {
        cache_destroy(c->lv[l].c);
        free(c->lv[l].pay);
    }
    free(c);
}

int pwc_has_level(const pwc *c, unsigned level)
{
    return level < PWC_LEVELS && c->lv[level].c != NULL;
}

unsigned pwc_lookup(pwc *c, uint64_t va, uint64_t tag, uint64_t *pay, unsigned *latency)
{
    for (unsigned l = 2; l <= c->top; l++) {
        struct pwc_level *L = &c->lv[l];
        if (!L->c)
            continue;
        L->accesses++;
        uint64_t key = pwc_key(va, l, tag);
        int w = cache_lookup(L->c, key);
        if (w >= 0) {
            L->hits++;
            *pay = L->pay[cache_set_of(L->c, key) * L->ways + (unsigned)w];
            *latency = L->latency;
            return l;
        }
        L->misses++;
    }
    *latency = c->miss_latency;
    return 0;
}

void pwc_fill(pwc *c, unsigned level, uint64_t va, uint64_t tag, uint64_t pay)
{
    if (level >= PWC_LEVELS || !c->lv[level].c)
        return;
    struct pwc_level *L = &c->lv[level];
    uint64_t key = pwc_key(va, level, tag);
    struct cache_victim v;
    unsigned w = cache_fill(L->c, key, 0, &v);
    L->pay[cache_set_of(L->c, key) * L->ways + w] = pay;
}

void pwc_flush(pwc *c)
{
    for (unsigned l = 2; l < PWC_LEVELS; l++)
        if (c->lv[l].c)
            cache_flush(c->lv[l].c, NULL, NULL);
}

void pwc_flush_tag(pwc *c, uint64_t tag)
{
    for (unsigned l = 2; l < PWC_LEVELS; l++)
        if (c->lv[l].c)
            cache_invalidate_range(c->lv[l].c, tag << PWC_TAG_SHIFT,
                                   ((tag + 1) << PWC_TAG_SHIFT) - 1, NULL, NULL);
}

void pwc_invalidate_va(pwc *c, uint64_t va, uint64_t tag)
{
    for (unsigned l = 2; l < PWC_LEVELS; l++)
        if (c->lv[l].c)
            cache_invalidate(c->lv[l].c, pwc_key(va, l, tag), NULL);
}
