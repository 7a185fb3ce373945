#include "sim/config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"

#define CONFIG_MAX_INCLUDE_DEPTH 16

struct cfg_entry {
    char *section, *key, *value;
    char *where; /* "FILE:LINE" */
    const struct cfg_key_def *def;
};

struct sim_config {
    struct cfg_entry *entries;
    size_t count, cap;
    size_t *order; /* presentation order, rebuilt when stale */
    int order_stale;
    char where_buf[1024];
};

/* ---------- parsing of values ---------- */

int config_parse_uint(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (end == s || *end)
        return -1;
    if (errno == ERANGE)
        return -2;
    *out = v;
    return 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (end == s)
        return -1;
    if (errno == ERANGE)
        return -2;
    unsigned shift = 0;
    if (*end) {
        switch (toupper((unsigned char)*end)) {
        case 'K': shift = 10; break;
        case 'M': shift = 20; break;
        case 'G': shift = 30; break;
        case 'T': shift = 40; break;
        default: return -1;
        }
        end++;
        if (toupper((unsigned char)*end) == 'I')
            end++; /* KiB */
        if (toupper((unsigned char)*end) == 'B')
            end++;
        if (*end)
            return -1;
    }
    if (shift && v > (UINT64_MAX >> shift))
        return -2; /* overflow */
    *out = (uint64_t)v << shift;
    return 0;
}

int config_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcasecmp(s, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* index of name within a '|'-separated list, or -1 */
static int list_index(const char *list, const char *name)
{
    size_t n = strlen(name);
    int idx = 0;
    for (const char *p = list; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return idx;
        idx++;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

/* ---------- schema lookup and suggestions ---------- */

static int is_open_section(const char *section)
{
    for (size_t i = 0; config_open_sections[i]; i++) {
        size_t n = strlen(config_open_sections[i]);
        if (!strncmp(section, config_open_sections[i], n) && section[n])
            return (int)i + 1;
    }
    return 0;
}

/* The schema name for a section: open sections map "cgroup.web" to "cgroup.*". */
static void schema_section(const char *section, char *buf, size_t bufsz)
{
    int open = is_open_section(section);
    if (open)
        snprintf(buf, bufsz, "%s*", config_open_sections[open - 1]);
    else
        snprintf(buf, bufsz, "%s", section);
}

static const struct cfg_key_def *schema_find(const char *section, const char *key)
{
    char sec[256];
    schema_section(section, sec, sizeof sec);
    for (const struct cfg_key_def *d = config_schema; d->key; d++)
        if (!strcmp(d->key, key) && list_index(d->sections, sec) >= 0)
            return d;
    return NULL;
}

static int schema_has_section(const char *section)
{
    char sec[256];
    schema_section(section, sec, sizeof sec);
    for (const struct cfg_key_def *d = config_schema; d->key; d++)
        if (list_index(d->sections, sec) >= 0)
            return 1;
    return 0;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof *prev);
    }
    return prev[lb];
}

/* Nearest candidate within a '|'-list, written to best (empty when none is close). */
static void nearest_in_list(const char *list, const char *name, char *best, size_t bestsz,
                            size_t *best_d)
{
    for (const char *p = list; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        char cand[128];
        if (len < sizeof cand) {
            memcpy(cand, p, len);
            cand[len] = 0;
            size_t d = edit_distance(name, cand);
            if (d < *best_d) {
                *best_d = d;
                snprintf(best, bestsz, "%s", cand);
            }
        }
        if (!bar)
            break;
        p = bar + 1;
    }
}

static void suggest_section(const char *section, char *out, size_t outsz)
{
    size_t best_d = 99;
    char best[128] = "";
    for (const struct cfg_key_def *d = config_schema; d->key; d++)
        nearest_in_list(d->sections, section, best, sizeof best, &best_d);
    if (best[0] && best_d <= 3)
        snprintf(out, outsz, " (did you mean [%s]?)", best);
    else
        out[0] = 0;
}

static void suggest_key(const char *section, const char *key, char *out, size_t outsz)
{
    char sec[256];
    schema_section(section, sec, sizeof sec);
    size_t best_d = 99;
    char best[128] = "";
    for (const struct cfg_key_def *d = config_schema; d->key; d++)
        if (list_index(d->sections, sec) >= 0)
            nearest_in_list(d->key, key, best, sizeof best, &best_d);
    if (best[0] && best_d <= 3)
        snprintf(out, outsz, " (did you mean '%s'?)", best);
    else
        out[0] = 0;
}

/* Checks a value against its definition; fills err with the rule broken. */
static int check_value(const struct cfg_key_def *d, const char *value, const char *where,
                       const char *section, mm_err *err)
{
    uint64_t u;
    int b, rc;
    char *end;
    switch (d->type) {
    case CFG_BOOL:
        if (config_parse_bool(value, &b))
            return mm_errf(err, "%s: [%s] %s = '%s': expected true or false", where, section,
                           d->key, value);
        return 0;
    case CFG_UINT:
    case CFG_SIZE:
        rc = d->type == CFG_SIZE ? config_parse_size(value, &u) : config_parse_uint(value, &u);
        if (rc == -2)
            return mm_errf(err, "%s: [%s] %s = '%s': value overflows 64 bits", where, section,
                           d->key, value);
        if (rc)
            return mm_errf(err, "%s: [%s] %s = '%s': expected %s", where, section, d->key, value,
                           d->type == CFG_SIZE
                               ? "a non-negative size (a number with optional K, M, G or T suffix)"
                               : "a non-negative whole number");
        if (u < d->min || u > d->max)
            return mm_errf(err, "%s: [%s] %s = '%s': must be between %llu and %llu", where,
                           section, d->key, value, (unsigned long long)d->min,
                           (unsigned long long)d->max);
        return 0;
    case CFG_DOUBLE: {
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end || errno == ERANGE)
            return mm_errf(err, "%s: [%s] %s = '%s': expected a number", where, section, d->key,
                           value);
        if (v < (double)d->min || v > (double)d->max)
            return mm_errf(err, "%s: [%s] %s = '%s': must be between %llu and %llu", where,
                           section, d->key, value, (unsigned long long)d->min,
                           (unsigned long long)d->max);
        return 0;
    }
    case CFG_ENUM:
        if (list_index(d->choices, value) < 0)
            return mm_errf(err, "%s: [%s] %s = '%s': expected one of %s", where, section, d->key,
                           value, d->choices);
        return 0;
    case CFG_STRING:
        return 0;
    }
    return 0;
}

/* ---------- the store ---------- */

static struct cfg_entry *find_entry(const sim_config *cfg, const char *section, const char *key)
{
    for (size_t i = 0; i < cfg->count; i++)
        if (!strcmp(cfg->entries[i].section, section) && !strcmp(cfg->entries[i].key, key))
            return &cfg->entries[i];
    return NULL;
}

static int config_set(sim_config *cfg, const char *section, const char *key, const char *value,
                      const char *file, int line, mm_err *err)
{
    char where[1024];
    if (line > 0)
        snprintf(where, sizeof where, "%s:%d", file, line);
    else
        snprintf(where, sizeof where, "%s", file);
    char hint[160];
    if (!*section)
        return mm_errf(err, "%s: key '%s' outside any [section]", where, key);
    if (!schema_has_section(section)) {
        suggest_section(section, hint, sizeof hint);
        return mm_errf(err, "%s: unknown section [%s]%s", where, section, hint);
    }
    const struct cfg_key_def *d = schema_find(section, key);
    if (!d) {
        suggest_key(section, key, hint, sizeof hint);
        return mm_errf(err, "%s: unknown key '%s' in [%s]%s", where, key, section, hint);
    }
    if (check_value(d, value, where, section, err))
        return -1;
    struct cfg_entry *e = find_entry(cfg, section, key);
    if (!e) {
        if (cfg->count == cfg->cap) {
            cfg->cap = cfg->cap ? cfg->cap * 2 : 64;
            cfg->entries = xrealloc(cfg->entries, cfg->cap * sizeof *cfg->entries);
        }
        e = &cfg->entries[cfg->count++];
        e->section = xstrdup(section);
        e->key = xstrdup(key);
        e->value = NULL;
        e->where = NULL;
        cfg->order_stale = 1;
    }
    free(e->value);
    free(e->where);
    e->value = xstrdup(value);
    e->where = xstrdup(where);
    e->def = d;
    return 0;
}

sim_config *config_create_empty(void)
{
    sim_config *cfg = xcalloc(1, sizeof *cfg);
    cfg->order_stale = 1;
    return cfg;
}

sim_config *config_create_default(mm_err *err)
{
    sim_config *cfg = config_create_empty();
    if (config_load_string(cfg, mmusim_default_config, "<embedded default>", err)) {
        config_destroy(cfg);
        return NULL;
    }
    return cfg;
}

void config_destroy(sim_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->count; i++) {
        free(cfg->entries[i].section);
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
        free(cfg->entries[i].where);
    }
    free(cfg->entries);
    free(cfg->order);
    free(cfg);
}

/* ---------- INI loading through inih, with line numbers and includes ---------- */

struct ini_source {
    const char *text; /* whole file in memory */
    size_t pos;
    int line;
};

/* inih reads one line a call; counting calls gives the line number the handler is at. */
static char *ini_source_reader(char *str, int num, void *stream)
{
    struct ini_source *src = stream;
    if (!src->text[src->pos])
        return NULL;
    int i = 0;
    while (i < num - 1 && src->text[src->pos]) {
        char c = src->text[src->pos++];
        str[i++] = c;
        if (c == '\n')
            break;
    }
    /* a line longer than the buffer: skip its rest so the line count stays right */
    if (i == num - 1 && str[i - 1] != '\n') {
        while (src->text[src->pos] && src->text[src->pos] != '\n')
            src->pos++;
        if (src->text[src->pos])
            src->pos++;
    }
    str[i] = 0;
    src->line++;
    return str;
}

struct ini_ctx {
    sim_config *cfg;
    const char *name;
    struct ini_source *src;
    mm_err *err;
    int failed;
    int depth;
    int seen_key; /* include must come before any other key */
    int fail_line;
};

static int load_text(sim_config *cfg, const char *text, const char *name, int depth, mm_err *err);

static char *read_whole_file(const char *path, mm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        mm_errf(err, "%s: cannot open config file: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = xmalloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        mm_errf(err, "%s: read error", path);
        return NULL;
    }
    buf[len] = 0;
    if (strlen(buf) != len) {
        free(buf);
        mm_errf(err, "%s: not a text file (contains a NUL byte)", path);
        return NULL;
    }
    return buf;
}

static int load_path(sim_config *cfg, const char *path, int depth, mm_err *err)
{
    if (depth > CONFIG_MAX_INCLUDE_DEPTH)
        return mm_errf(err, "%s: includes nested deeper than %d (an include cycle?)", path,
                       CONFIG_MAX_INCLUDE_DEPTH);
    char *text = read_whole_file(path, err);
    if (!text)
        return -1;
    int rc = load_text(cfg, text, path, depth, err);
    free(text);
    return rc;
}

static int config_ini_handler(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *ctx = user;
    if (ctx->failed)
        return 0;
    ctx->fail_line = ctx->src->line; /* meaningful only if this call fails */
    if (!strcmp(name, "include") && !*section) {
        if (ctx->seen_key) {
            mm_errf(ctx->err, "%s:%d: include must come before any section or key", ctx->name,
                    ctx->src->line);
            ctx->failed = 1;
            return 0;
        }
        /* relative to the including file */
        char *path;
        const char *slash = strrchr(ctx->name, '/');
        if (value[0] != '/' && slash)
            path = xasprintf("%.*s/%s", (int)(slash - ctx->name), ctx->name, value);
        else
            path = xstrdup(value);
        int rc = load_path(ctx->cfg, path, ctx->depth + 1, ctx->err);
        free(path);
        if (rc) {
            ctx->failed = 1;
            return 0;
        }
        return 1;
    }
    ctx->seen_key = 1;
    if (config_set(ctx->cfg, section, name, value, ctx->name, ctx->src->line, ctx->err)) {
        ctx->failed = 1;
        return 0;
    }
    return 1;
}

static int load_text(sim_config *cfg, const char *text, const char *name, int depth, mm_err *err)
{
    struct ini_source src = {text, 0, 0};
    struct ini_ctx ctx = {cfg, name, &src, err, 0, depth, 0, 0};
    int rc = ini_parse_stream(ini_source_reader, &src, config_ini_handler, &ctx);
    /* inih reports the first bad line; a syntax error before our own error is the real cause */
    if (ctx.failed && !(rc > 0 && rc < ctx.fail_line))
        return -1;
    if (rc > 0)
        return mm_errf(err, "%s:%d: not valid INI (expected [section], key = value, or a comment)",
                       name, rc);
    if (rc < 0)
        return mm_errf(err, "%s: cannot parse", name);
    return 0;
}

int config_load_file(sim_config *cfg, const char *path, mm_err *err)
{
    return load_path(cfg, path, 0, err);
}

int config_load_string(sim_config *cfg, const char *text, const char *name, mm_err *err)
{
    return load_text(cfg, text, name, 0, err);
}

int config_override(sim_config *cfg, const char *assignment, mm_err *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return mm_errf(err, "-o %s: expected section.key=value", assignment);
    size_t lhs_len = (size_t)(eq - assignment);
    char lhs[512];
    if (lhs_len >= sizeof lhs)
        return mm_errf(err, "-o %s: name too long", assignment);
    memcpy(lhs, assignment, lhs_len);
    lhs[lhs_len] = 0;
    char *dot = strrchr(lhs, '.');
    if (!dot || dot == lhs || !dot[1])
        return mm_errf(err, "-o %s: expected section.key=value (e.g. cache.l1d.size=64K)",
                       assignment);
    *dot = 0;
    char where[600];
    snprintf(where, sizeof where, "-o %s", assignment);
    return config_set(cfg, lhs, dot + 1, eq + 1, where, 0, err);
}

/* ---------- typed access ---------- */

static const struct cfg_entry *get_entry(const sim_config *cfg, const char *section,
                                         const char *key, mm_err *err)
{
    const struct cfg_entry *e = find_entry(cfg, section, key);
    if (!e)
        mm_errf(err, "no value for [%s] %s in the configuration", section, key);
    return e;
}

int config_has(const sim_config *cfg, const char *section, const char *key)
{
    return find_entry(cfg, section, key) != NULL;
}

int config_get_bool(const sim_config *cfg, const char *section, const char *key, int *out,
                    mm_err *err)
{
    const struct cfg_entry *e = get_entry(cfg, section, key, err);
    if (!e)
        return -1;
    if (config_parse_bool(e->value, out))
        return mm_errf(err, "%s: [%s] %s: expected true or false", e->where, section, key);
    return 0;
}

int config_get_u64(const sim_config *cfg, const char *section, const char *key, uint64_t *out,
                   mm_err *err)
{
    const struct cfg_entry *e = get_entry(cfg, section, key, err);
    if (!e)
        return -1;
    int rc = e->def->type == CFG_SIZE ? config_parse_size(e->value, out)
                                      : config_parse_uint(e->value, out);
    if (rc)
        return mm_errf(err, "%s: [%s] %s: expected a number", e->where, section, key);
    return 0;
}

int config_get_double(const sim_config *cfg, const char *section, const char *key, double *out,
                      mm_err *err)
{
    const struct cfg_entry *e = get_entry(cfg, section, key, err);
    if (!e)
        return -1;
    char *end;
    *out = strtod(e->value, &end);
    if (end == e->value || *end)
        return mm_errf(err, "%s: [%s] %s: expected a number", e->where, section, key);
    return 0;
}

int config_get_enum(const sim_config *cfg, const char *section, const char *key, int *out,
                    mm_err *err)
{
    const struct cfg_entry *e = get_entry(cfg, section, key, err);
    if (!e)
        return -1;
    int idx = e->def->choices ? list_index(e->def->choices, e->value) : -1;
    if (idx < 0)
        return mm_errf(err, "%s: [%s] %s: unexpected value '%s'", e->where, section, key, e->value);
    *out = idx;
    return 0;
}

const char *config_get_string(const sim_config *cfg, const char *section, const char *key)
{
    const struct cfg_entry *e = find_entry(cfg, section, key);
    return e ? e->value : NULL;
}

const char *config_where(const sim_config *cfg, const char *section, const char *key)
{
    sim_config *mut = (sim_config *)cfg;
    const struct cfg_entry *e = find_entry(cfg, section, key);
    if (!e)
        snprintf(mut->where_buf, sizeof mut->where_buf, "[%s] %s", section, key);
    else
        snprintf(mut->where_buf, sizeof mut->where_buf, "%s: [%s] %s = %s", e->where, section, key,
                 e->value);
    return mut->where_buf;
}

/* ---------- presentation ---------- */

/* rank of a section: position of its first appearance in the schema; open sections after */
static size_t section_rank(const char *section)
{
    char sec[256];
    schema_section(section, sec, sizeof sec);
    size_t rank = 0;
    for (const struct cfg_key_def *d = config_schema; d->key; d++, rank++)
        if (list_index(d->sections, sec) >= 0)
            return rank;
    return rank;
}

static size_t key_rank(const struct cfg_key_def *d)
{
    return (size_t)(d - config_schema);
}

static const sim_config *sort_cfg;
static int cmp_order(const void *a, const void *b)
{
    const struct cfg_entry *x = &sort_cfg->entries[*(const size_t *)a];
    const struct cfg_entry *y = &sort_cfg->entries[*(const size_t *)b];
    size_t rx = section_rank(x->section), ry = section_rank(y->section);
    if (rx != ry)
        return rx < ry ? -1 : 1;
    int c = strcmp(x->section, y->section);
    if (c)
        return c;
    size_t kx = key_rank(x->def), ky = key_rank(y->def);
    return kx < ky ? -1 : kx > ky;
}

static void ensure_order(const sim_config *cfg)
{
    sim_config *mut = (sim_config *)cfg;
    if (!mut->order_stale)
        return;
    free(mut->order);
    mut->order = xmalloc((cfg->count ? cfg->count : 1) * sizeof *mut->order);
    for (size_t i = 0; i < cfg->count; i++)
        mut->order[i] = i;
    sort_cfg = cfg;
    qsort(mut->order, cfg->count, sizeof *mut->order, cmp_order);
    mut->order_stale = 0;
}

size_t config_count(const sim_config *cfg)
{
    return cfg->count;
}

void config_entry_at(const sim_config *cfg, size_t i, const char **section, const char **key,
                     const char **value)
{
    ensure_order(cfg);
    const struct cfg_entry *e = &cfg->entries[cfg->order[i]];
    *section = e->section;
    *key = e->key;
    *value = e->value;
}

void config_print_ini(const sim_config *cfg, FILE *out)
{
    const char *prev = NULL;
    for (size_t i = 0; i < config_count(cfg); i++) {
        const char *s, *k, *v;
        config_entry_at(cfg, i, &s, &k, &v);
        if (!prev || strcmp(prev, s)) {
            fprintf(out, "%s[%s]\n", prev ? "\n" : "", s);
            prev = s;
        }
        fprintf(out, "%s = %s\n", k, v);
    }
}

uint64_t config_hash(const sim_config *cfg)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < config_count(cfg); i++) {
        const char *parts[3];
        config_entry_at(cfg, i, &parts[0], &parts[1], &parts[2]);
        for (int p = 0; p < 3; p++) {
            for (const unsigned char *c = (const unsigned char *)parts[p]; *c; c++) {
                h ^= *c;
                h *= 0x100000001b3ULL;
            }
            h ^= 0xff;
            h *= 0x100000001b3ULL;
        }
    }
    return h;
}
