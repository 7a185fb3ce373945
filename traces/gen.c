/* Synthetic traces: see gen.h. */
#include "traces/gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/bits.h"
#include "models/common/rng.h"
#include "models/common/xalloc.h"

#define CHASE_NODE 64u
#define MIX_REGION_ALIGN (1ULL << 30) /* each mix part starts on its own GiB */

static const char *const kind_names[GEN_KIND_COUNT] = {
    [GEN_STREAM] = "stream", [GEN_STRIDE] = "stride", [GEN_RANDOM] = "random", [GEN_HOT] = "hot",
    [GEN_CHASE] = "chase",   [GEN_ZIPF] = "zipf",     [GEN_MIX] = "mix",
};

const char *gen_kind_name(enum gen_kind k)
{
    return (unsigned)k < GEN_KIND_COUNT ? kind_names[k] : "unknown";
}

int gen_kind_from_name(const char *name)
{
    for (int i = 0; i < GEN_KIND_COUNT; i++)
        if (!strcmp(name, kind_names[i]))
            return i;
    if (!strcmp(name, "gups"))
        return GEN_RANDOM;
    return -1;
}

static uint64_t default_footprint(enum gen_kind k)
{
    switch (k) {
    case GEN_HOT:
        return 256u << 10;
    case GEN_RANDOM:
        return 1ULL << 30;
    default:
        return 64u << 20;
    }
}

void gen_options_default(struct gen_options *o, enum gen_kind kind)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->count = 1000000;
    o->footprint = kind == GEN_HOT ? default_footprint(GEN_HOT) : 64u << 20;
    o->base = 0x10000000;
    o->size = 8;
    o->read_ratio = -1;
    o->zipf_s = 0.99;
    o->seed = 1;
    o->cpus = 1;
    o->pids = 1;
    o->quantum = 10000;
}

int gen_parse_size(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10, end++;
    else if (*end == 'm' || *end == 'M')
        shift = 20, end++;
    else if (*end == 'g' || *end == 'G')
        shift = 30, end++;
    else if (*end == 't' || *end == 'T')
        shift = 40, end++;
    if (*end == 'i' || *end == 'B')
        end += *end == 'i' && end[1] == 'B' ? 2 : 1;
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

int gen_parse_count(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    uint64_t mult = 1;
    if (*end == 'k' || *end == 'K')
        mult = 1000, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1000000, end++;
    else if (*end == 'g' || *end == 'G')
        mult = 1000000000, end++;
    if (*end || v > UINT64_MAX / mult)
        return -1;
    *out = (uint64_t)v * mult;
    return 0;
}

int gen_parse_mix(const char *spec, struct gen_options *o, mm_err *err)
{
    char *copy = xstrdup(spec), *save = NULL;
    o->nmix = 0;
    int rc = 0;
    for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        char *name = part, *w = strchr(part, ':'), *fp = NULL;
        if (w) {
            *w++ = 0;
            fp = strchr(w, ':');
            if (fp)
                *fp++ = 0;
        }
        int k = gen_kind_from_name(name);
        char *end = NULL;
        unsigned long weight = w ? strtoul(w, &end, 10) : 1;
        uint64_t foot = 0;
        if (k < 0 || k == GEN_MIX) {
            rc = mm_errf(err, "unknown mix part '%s' (stream, stride, random, hot, chase, zipf)",
                         name);
            break;
        }
        if ((w && (*end || weight == 0 || weight > 1000000)) || (fp && gen_parse_size(fp, &foot))) {
            rc = mm_errf(err, "bad mix part '%s': expected KIND[:WEIGHT[:FOOTPRINT]]", spec);
            break;
        }
        if (o->nmix == GEN_MAX_MIX) {
            rc = mm_errf(err, "a mix takes at most %d parts", GEN_MAX_MIX);
            break;
        }
        o->mix[o->nmix++] = (struct gen_component){(enum gen_kind)k, (unsigned)weight, foot};
    }
    if (rc == 0 && o->nmix == 0)
        rc = mm_errf(err, "empty mix");
    free(copy);
    return rc;
}

/* Zipf ranks 1..n with P(k) ~ k^-s by rejection-inversion (Hoermann & Derflinger): O(1) per
 * sample, no table. */
struct zipf {
    double s, h_x1, h_n, cut;
    uint64_t n;
};

static double zh_helper_log(double x) /* log1p(x)/x, 1 near 0 */
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1.0 - x / 2.0;
}
static double zh_helper_exp(double x) /* (exp(x)-1)/x, 1 near 0 */
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1.0 + x / 2.0;
}
static double zipf_h(const struct zipf *z, double x)
{
    return exp(-z->s * log(x));
}
static double zipf_hint(const struct zipf *z, double x) /* integral of h */
{
    double lx = log(x);
    return zh_helper_exp((1.0 - z->s) * lx) * lx;
}
static double zipf_hint_inv(const struct zipf *z, double y)
{
    double t = y * (1.0 - z->s);
    if (t < -1.0)
        t = -1.0;
    return exp(zh_helper_log(t) * y);
}

static void zipf_init(struct zipf *z, uint64_t n, double s)
{
    z->n = n;
    z->s = s;
    z->h_x1 = zipf_hint(z, 1.5) - 1.0;
    z->h_n = zipf_hint(z, (double)n + 0.5);
    z->cut = 2.0 - zipf_hint_inv(z, zipf_hint(z, 2.5) - zipf_h(z, 2.0));
}

static uint64_t zipf_sample(const struct zipf *z, rng *r)
{
    for (;;) {
        double u = z->h_n + rng_double(r) * (z->h_x1 - z->h_n);
        double x = zipf_hint_inv(z, u);
        double kd = floor(x + 0.5);
        if (kd < 1)
            kd = 1;
        if (kd > (double)z->n)
            kd = (double)z->n;
        if (kd - x <= z->cut || u >= zipf_hint(z, kd + 0.5) - zipf_h(z, kd))
            return (uint64_t)kd;
    }
}

struct part {
    enum gen_kind kind;
    uint64_t base, footprint, slots; /* slots: footprint / size (or chase nodes) */
    uint64_t step, pos, pass_shift;
    uint32_t *next; /* chase permutation */
    uint64_t cur;
    struct zipf z;
    uint64_t mult; /* odd multiplier scattering zipf ranks over slots */
    double read_ratio;
};

struct gen {
    struct gen_options o;
    rng r;
    struct part parts[GEN_MAX_MIX];
    unsigned nparts;
    unsigned weight_total;
    uint64_t produced;
};

static int part_init(struct part *p, enum gen_kind kind, uint64_t base, uint64_t footprint,
                     const struct gen_options *o, rng *r, mm_err *err)
{
    p->kind = kind;
    p->base = base;
    p->footprint = footprint;
    p->read_ratio = o->read_ratio >= 0 ? o->read_ratio : kind == GEN_CHASE ? 1.0 : 0.7;
    if (footprint < o->size)
        return mm_errf(err, "footprint %llu is smaller than one %u-byte access",
                       (unsigned long long)footprint, o->size);
    p->slots = footprint / o->size;
    switch (kind) {
    case GEN_STREAM:
    case GEN_STRIDE:
        p->step = o->stride ? o->stride : kind == GEN_STREAM ? o->size : 4096;
        if (p->step >= footprint)
            return mm_errf(err, "stride %llu must be below the footprint %llu",
                           (unsigned long long)p->step, (unsigned long long)footprint);
        break;
    case GEN_CHASE: {
        uint64_t nodes = footprint / CHASE_NODE;
        if (nodes < 2 || nodes > UINT32_MAX)
            return mm_errf(err, "chase needs between 2 and 2^32 nodes of %u bytes", CHASE_NODE);
        p->slots = nodes;
        p->next = xmalloc(nodes * sizeof *p->next);
        for (uint64_t i = 0; i < nodes; i++)
            p->next[i] = (uint32_t)i;
        /* Sattolo: a uniformly random single cycle through every node */
        for (uint64_t i = nodes - 1; i > 0; i--) {
            uint64_t j = rng_below(r, i);
            uint32_t t = p->next[i];
            p->next[i] = p->next[j];
            p->next[j] = t;
        }
        break;
    }
    case GEN_ZIPF:
        if (o->zipf_s <= 0)
            return mm_errf(err, "zipf exponent must be > 0");
        zipf_init(&p->z, p->slots, o->zipf_s);
        /* multiplying by an odd number is a bijection modulo a power of two; other slot counts
         * use the largest power of two below them */
        p->mult = (rng_next(r) | 1);
        break;
    default:
        break;
    }
    return 0;
}

gen *gen_create(const struct gen_options *o, mm_err *err)
{
    if (o->size == 0 || o->size > MM_ACCESS_MAX_SIZE) {
        mm_errf(err, "access size must be 1..%u", MM_ACCESS_MAX_SIZE);
        return NULL;
    }
    if (o->read_ratio > 1) {
        mm_errf(err, "read ratio must be within 0..1");
        return NULL;
    }
    if (o->cpus == 0 || o->cpus > MM_MAX_CPUS || o->pids == 0 || o->quantum == 0) {
        mm_errf(err, "cpus must be 1..%u, pids and quantum at least 1", MM_MAX_CPUS);
        return NULL;
    }
    gen *g = xcalloc(1, sizeof *g);
    g->o = *o;
    rng_seed_named(&g->r, o->seed, "gen");
    int rc = 0;
    if (o->kind == GEN_MIX) {
        if (o->nmix == 0) {
            mm_errf(err, "mix needs parts (--mix stream:50,random:30,hot:20)");
            gen_destroy(g);
            return NULL;
        }
        uint64_t base = o->base;
        for (unsigned i = 0; i < o->nmix && rc == 0; i++) {
            uint64_t fp = o->mix[i].footprint ? o->mix[i].footprint
                                              : default_footprint(o->mix[i].kind);
            rc = part_init(&g->parts[i], o->mix[i].kind, base, fp, o, &g->r, err);
            base += (fp + MIX_REGION_ALIGN - 1) / MIX_REGION_ALIGN * MIX_REGION_ALIGN;
            g->weight_total += o->mix[i].weight;
            g->nparts++;
        }
    } else {
        rc = part_init(&g->parts[0], o->kind, o->base, o->footprint, o, &g->r, err);
        g->nparts = 1;
        g->weight_total = 1;
    }
    if (rc < 0) {
        gen_destroy(g);
        return NULL;
    }
    return g;
}

static uint64_t part_next(struct part *p, rng *r, uint32_t size)
{
    uint64_t off;
    switch (p->kind) {
    case GEN_STREAM:
    case GEN_STRIDE:
        off = p->pos;
        p->pos += p->step;
        if (p->pos + size > p->footprint) {
            p->pass_shift = p->kind == GEN_STRIDE ? (p->pass_shift + size) % p->step : 0;
            p->pos = p->pass_shift;
        }
        return p->base + off;
    case GEN_RANDOM:
    case GEN_HOT:
        return p->base + rng_below(r, p->slots) * size;
    case GEN_CHASE:
        p->cur = p->next[p->cur];
        return p->base + p->cur * CHASE_NODE;
    case GEN_ZIPF: {
        uint64_t rank = zipf_sample(&p->z, r) - 1;
        uint64_t span = (uint64_t)1 << log2_u64(p->slots);
        uint64_t slot = rank < span ? (rank * p->mult) & (span - 1) : rank;
        return p->base + slot * size;
    }
    default:
        return p->base;
    }
}

size_t gen_fill(gen *g, struct mm_event *ev, size_t max)
{
    const struct gen_options *o = &g->o;
    size_t n = 0;
    while (n < max && g->produced < o->count) {
        struct part *p = &g->parts[0];
        if (g->nparts > 1) {
            uint64_t w = rng_below(&g->r, g->weight_total);
            unsigned i = 0;
            while (w >= o->mix[i].weight) {
                w -= o->mix[i].weight;
                i++;
            }
            p = &g->parts[i];
        }
        struct mm_event *e = &ev[n++];
        memset(e, 0, sizeof *e);
        e->addr = part_next(p, &g->r, o->size);
        e->size = o->size;
        e->type = rng_double(&g->r) < p->read_ratio ? MM_EV_READ : MM_EV_WRITE;
        e->gap = o->gap;
        unsigned cpu = (unsigned)((g->produced / o->quantum) % o->cpus);
        e->cpu = (uint16_t)cpu;
        e->pid = o->pids > 1 || o->cpus > 1 ? 1000 + cpu % o->pids : 0;
        g->produced++;
    }
    return n;
}

void gen_destroy(gen *g)
{
    if (!g)
        return;
    for (unsigned i = 0; i < GEN_MAX_MIX; i++)
        free(g->parts[i].next);
    free(g);
}
