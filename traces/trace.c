/* The reader front end: names, format detection, the per-call bookkeeping every format shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "traces/native_format.h"
#include "traces/reader.h"

static const char *const format_names[] = {
    [TRACE_FMT_AUTO] = "auto",     [TRACE_FMT_NATIVE] = "native", [TRACE_FMT_LACKEY] = "lackey",
    [TRACE_FMT_DIN] = "din",       [TRACE_FMT_TEXT] = "text",     [TRACE_FMT_CHAMPSIM] = "champsim",
};
static const char *const comp_names[] = {
    [TRACE_COMP_NONE] = "none", [TRACE_COMP_GZIP] = "gzip", [TRACE_COMP_XZ] = "xz",
    [TRACE_COMP_ZSTD] = "zstd",
};

const char *trace_format_name(enum trace_format f)
{
    if ((unsigned)f < sizeof format_names / sizeof *format_names)
        return format_names[f];
    return "unknown";
}

int trace_format_from_name(const char *name)
{
    for (unsigned i = 0; i < sizeof format_names / sizeof *format_names; i++)
        if (!strcmp(name, format_names[i]))
            return (int)i;
    if (!strcmp(name, "dinero"))
        return TRACE_FMT_DIN;
    return -1;
}

const char *trace_compression_name(enum trace_compression c)
{
    if ((unsigned)c < sizeof comp_names / sizeof *comp_names)
        return comp_names[c];
    return "unknown";
}

int trace_compression_from_name(const char *name)
{
    for (unsigned i = 0; i < sizeof comp_names / sizeof *comp_names; i++)
        if (!strcmp(name, comp_names[i]))
            return (int)i;
    if (!strcmp(name, "gz"))
        return TRACE_COMP_GZIP;
    if (!strcmp(name, "zst"))
        return TRACE_COMP_ZSTD;
    return -1;
}

/* ---- line splitting shared by the text formats ---- */

int line_next(struct line_src *ls, const char **line, size_t *len, mm_err *err)
{
    if (ls->pending) {
        cio_consume(ls->in, ls->pending);
        ls->pending = 0;
    }
    size_t avail;
    const unsigned char *p = cio_peek(ls->in, 4096, &avail, err);
    if (!p)
        return -1;
    if (avail == 0)
        return 0;
    const unsigned char *nl = memchr(p, '\n', avail);
    while (!nl) {
        size_t before = avail;
        if (before >= CIO_PEEK_MAX)
            return mm_errf(err, "%s: line %llu: line longer than %u bytes", cio_path(ls->in),
                           (unsigned long long)ls->lineno + 1, CIO_PEEK_MAX);
        p = cio_peek(ls->in, before * 2 < CIO_PEEK_MAX ? before * 2 : CIO_PEEK_MAX, &avail, err);
        if (!p)
            return -1;
        if (avail == before) { /* last line without a newline */
            nl = p + avail;
            break;
        }
        nl = memchr(p + before, '\n', avail - before);
    }
    size_t n = (size_t)(nl - p);
    ls->pending = n < avail ? n + 1 : n;
    if (n && p[n - 1] == '\r')
        n--;
    ls->lineno++;
    *line = (const char *)p;
    *len = n;
    return 1;
}

const char *line_excerpt(const char *line, size_t len)
{
    static _Thread_local char buf[64];
    size_t n = len > 40 ? 40 : len;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)line[i];
        buf[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    if (len > n) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j] = 0;
    return buf;
}

/* ---- detection ---- */

static int looks_binary(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t' && ch != '\f' && ch != '\v')
            return 1;
    }
    return 0;
}

static int detect(cio_reader *in, enum trace_format *out, mm_err *err)
{
    size_t n;
    const unsigned char *p = cio_peek(in, 64 * 1024, &n, err);
    if (!p)
        return -1;
    if (n >= NATIVE_MAGIC_LEN && !memcmp(p, NATIVE_MAGIC, NATIVE_MAGIC_LEN)) {
        *out = TRACE_FMT_NATIVE;
        return 0;
    }
    if (n == 0)
        return mm_errf(err, "%s: empty input: cannot detect the trace format (use --format)",
                       cio_path(in));
    size_t more;
    int at_end = cio_peek(in, n + 1, &more, err) != NULL && more == n;
    if (looks_binary(p, n)) {
        if (champsim_plausible(p, n, at_end) &&
            (cio_compression(in) != TRACE_COMP_NONE || cio_bytes_total(in) == 0 ||
             cio_bytes_total(in) % 64 == 0)) {
            *out = TRACE_FMT_CHAMPSIM;
            return 0;
        }
        return mm_errf(err, "%s: offset 0: unrecognised binary data (not a native trace, not "
                            "64-byte ChampSim records)", cio_path(in));
    }
    /* text: score up to 64 complete lines */
    int lackey = 0, lackey_chatter = 0, din = 0, text = 0, lines = 0, neutral = 0;
    const char *s = (const char *)p, *end = s + n;
    while (s < end && lines < 64) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl && !at_end)
            break;
        if (!nl)
            nl = end;
        size_t len = (size_t)(nl - s);
        if (len && s[len - 1] == '\r')
            len--;
        int lk = lackey_line_score(s, len);
        int dn = din_line_score(s, len);
        int tx = text_line_score(s, len);
        lackey += lk == 2;
        lackey_chatter += lk == 1;
        din += dn == 2;
        text += tx == 2;
        neutral += tx == 1;
        lines++;
        s = nl + 1;
    }
    if (lackey > 0 && lackey >= din && lackey >= text) {
        *out = TRACE_FMT_LACKEY;
        return 0;
    }
    if (din > 0 && din >= text) {
        *out = TRACE_FMT_DIN;
        return 0;
    }
    if (text > 0) {
        *out = TRACE_FMT_TEXT;
        return 0;
    }
    if (lackey_chatter > 0) {
        *out = TRACE_FMT_LACKEY; /* valgrind's banner but no access yet */
        return 0;
    }
    if (neutral == lines && lines > 0) {
        *out = TRACE_FMT_TEXT; /* only comments and blank lines */
        return 0;
    }
    return mm_errf(err, "%s: line 1: cannot detect the trace format: expected native, lackey, din, "
                        "text or ChampSim data, got '%s' (use --format)",
                   cio_path(in), line_excerpt((const char *)p, (size_t)(memchr(p, '\n', n) ?
                       (const unsigned char *)memchr(p, '\n', n) - p : (ptrdiff_t)n)));
}

/* ---- the reader ---- */

trace_reader *trace_open(const char *path, enum trace_format fmt, mm_err *err)
{
    cio_reader *in = cio_open(path, err);
    if (!in)
        return NULL;
    if (fmt == TRACE_FMT_AUTO && detect(in, &fmt, err) < 0) {
        cio_close(in);
        return NULL;
    }
    trace_reader *r = xcalloc(1, sizeof *r);
    r->in = in;
    r->format = fmt;
    r->chunk_comp = -1;
    int rc;
    switch (fmt) {
    case TRACE_FMT_NATIVE:
        rc = native_reader_init(r, err);
        break;
    case TRACE_FMT_LACKEY:
        rc = lackey_reader_init(r, err);
        break;
    case TRACE_FMT_DIN:
        rc = din_reader_init(r, err);
        break;
    case TRACE_FMT_TEXT:
        rc = text_reader_init(r, err);
        break;
    case TRACE_FMT_CHAMPSIM:
        rc = champsim_reader_init(r, err);
        break;
    default:
        rc = mm_errf(err, "%s: unknown trace format %d", path, (int)fmt);
        break;
    }
    if (rc < 0) {
        r->ops = NULL;
        trace_close(r);
        return NULL;
    }
    return r;
}

long trace_read(trace_reader *r, struct mm_event *ev, size_t max, mm_err *err)
{
    if (r->failed) {
        if (err)
            *err = r->last_err;
        return -1;
    }
    if (max == 0)
        return 0;
    long n = r->fail_next ? -1 : r->ops->read(r, ev, max, &r->last_err);
    if (n < 0) {
        r->failed = 1;
        if (err)
            *err = r->last_err;
        return -1;
    }
    r->records += (uint64_t)n;
    return n;
}

void trace_set_keep_going(trace_reader *r, int on)
{
    r->keep_going = on;
}

long long trace_skip(trace_reader *r, unsigned long long n, mm_err *err)
{
    if (r->failed) {
        if (err)
            *err = r->last_err;
        return -1;
    }
    long long done;
    if (r->ops->skip) {
        done = r->ops->skip(r, n, &r->last_err);
    } else {
        struct mm_event buf[256];
        done = 0;
        while ((unsigned long long)done < n) {
            unsigned long long left = n - (unsigned long long)done;
            long k = r->fail_next ? -1
                                  : r->ops->read(r, buf, left < 256 ? (size_t)left : 256,
                                                 &r->last_err);
            if (k < 0) {
                done = -1;
                break;
            }
            if (k == 0)
                break;
            done += k;
        }
    }
    if (done < 0) {
        r->failed = 1;
        if (err)
            *err = r->last_err;
        return -1;
    }
    r->records += (uint64_t)done;
    return done;
}

void trace_close(trace_reader *r)
{
    if (!r)
        return;
    if (r->ops && r->ops->close)
        r->ops->close(r);
    for (size_t i = 0; i < r->nmeta; i++) {
        free((char *)r->meta[i].key);
        free((char *)r->meta[i].value);
    }
    free(r->meta);
    cio_close(r->in);
    free(r);
}

void trace_get_info(const trace_reader *r, struct trace_info *info)
{
    memset(info, 0, sizeof *info);
    info->path = cio_path(r->in);
    info->format = r->format;
    info->compression = cio_compression(r->in);
    info->records = r->records;
    info->bad_records = r->bad_records;
    info->bytes_in = cio_bytes_in(r->in);
    info->bytes_total = cio_bytes_total(r->in);
    info->instructions = r->instructions;
    cio_hash(r->in, info->content_hash, &info->hash_complete);
}

uint64_t trace_ignored_records(const trace_reader *r)
{
    return r->ignored;
}

uint64_t trace_total_records(const trace_reader *r)
{
    return r->total_records;
}

int trace_chunk_compression(const trace_reader *r)
{
    return r->chunk_comp;
}

void reader_add_meta(trace_reader *r, const char *key, size_t klen, const char *value, size_t vlen)
{
    r->meta = xrealloc(r->meta, (r->nmeta + 1) * sizeof *r->meta);
    char *k = xmalloc(klen + 1), *v = xmalloc(vlen + 1);
    memcpy(k, key, klen);
    k[klen] = 0;
    memcpy(v, value, vlen);
    v[vlen] = 0;
    r->meta[r->nmeta].key = k;
    r->meta[r->nmeta].value = v;
    r->nmeta++;
}

size_t trace_meta_count(const trace_reader *r)
{
    return r->nmeta;
}

const struct trace_kv *trace_meta_at(const trace_reader *r, size_t i)
{
    return i < r->nmeta ? &r->meta[i] : NULL;
}

const char *trace_meta_get(const trace_reader *r, const char *key)
{
    for (size_t i = 0; i < r->nmeta; i++)
        if (!strcmp(r->meta[i].key, key))
            return r->meta[i].value;
    return NULL;
}

/* ---------- line-oriented formats ---------- */

struct line_format {
    struct line_src ls;
    line_parse_fn parse;
    int skip_csv_header;
};

static int has_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9')
            return 1;
    return 0;
}

static long line_format_read(trace_reader *r, struct mm_event *ev, size_t max, mm_err *err)
{
    struct line_format *st = r->state;
    size_t n = 0;
    while (n < max) {
        const char *line;
        size_t len;
        int rc = line_next(&st->ls, &line, &len, err);
        if (rc < 0)
            return reader_fail(r, n);
        if (rc == 0)
            break;
        rc = st->parse(cio_path(r->in), st->ls.lineno, line, len, &ev[n], err);
        if (rc < 0 && st->skip_csv_header && st->ls.lineno == 1 && !has_digit(line, len))
            continue; /* a CSV header such as "type,address,size" */
        if (rc < 0) {
            if (!r->keep_going)
                return reader_fail(r, n);
            r->bad_records++;
        } else if (rc == 2) {
            r->ignored++;
        } else if (rc == 1) {
            r->instructions += ev[n].gap;
            n++;
        }
    }
    return (long)n;
}

static void line_format_close(trace_reader *r)
{
    free(r->state);
}

static const struct trace_reader_ops line_format_ops = {line_format_read, NULL, line_format_close};

int line_format_init(trace_reader *r, line_parse_fn parse, int skip_csv_header)
{
    struct line_format *st = xcalloc(1, sizeof *st);
    st->ls.in = r->in;
    st->parse = parse;
    st->skip_csv_header = skip_csv_header;
    r->state = st;
    r->ops = &line_format_ops;
    return 0;
}
