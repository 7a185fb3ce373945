/* Plain text: one access a line, fields separated by blanks or commas (so CSV works too):
 *   TYPE ADDRESS [SIZE] [cpu=N] [pid=N] [gap=N]      e.g.  "R 0x7ffd1234 8",  "W,4096,4"
 *   TYPE     R read, W write, X or I instruction fetch, M read-modify-write (any case), or the
 *            event names read, write, ifetch, rmw
 *   ADDRESS  decimal, or hex with 0x
 *   SIZE     decimal or 0x hex, default 8
 * '#' starts a comment (whole line or after the fields); blank lines are skipped, and so is a
 * first line without digits (a CSV header such as "type,address,size"). */
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "traces/parse.h"
#include "traces/reader.h"

#define TEXT_DEFAULT_SIZE 8u

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == ',';
}

static const char *skip_seps(const char *p, const char *end)
{
    while (p < end && is_sep(*p))
        p++;
    return p;
}

static int word_is(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - p) < n || strncasecmp(p, w, n))
        return 0;
    return p + n == end || is_sep(p[n]) || p[n] == '#';
}

/* 1 access, 0 blank/comment, -1 bad. */
static int parse_line(const char *path, uint64_t lineno, const char *s, size_t n,
                      struct mm_event *e, mm_err *err)
{
    const char *end = s + n, *p = skip_seps(s, end);
    if (p == end || *p == '#')
        return 0;
    int type = -1;
    int flen = field_len(p, end);
    static const struct { const char *name; int type; } types[] = {
        {"r", MM_EV_READ},   {"w", MM_EV_WRITE},     {"x", MM_EV_IFETCH},   {"i", MM_EV_IFETCH},
        {"m", MM_EV_RMW},    {"read", MM_EV_READ},   {"write", MM_EV_WRITE}, {"ifetch", MM_EV_IFETCH},
        {"rmw", MM_EV_RMW},
    };
    for (unsigned i = 0; i < sizeof types / sizeof *types; i++) {
        if (word_is(p, end, types[i].name)) {
            type = types[i].type;
            p += strlen(types[i].name);
            break;
        }
    }
    if (type < 0)
        return mm_errf(err, "%s: line %llu: expected an access type R, W, X, I or M, got '%.*s'",
                       path, (unsigned long long)lineno, flen, p);
    p = skip_seps(p, end);
    const char *f = p;
    uint64_t addr, size = TEXT_DEFAULT_SIZE, v;
    int rc = scan_num(&p, end, &addr);
    if (rc <= 0 || (p < end && !is_sep(*p) && *p != '#'))
        return mm_errf(err, "%s: line %llu: expected an address (decimal or 0x hex), got '%.*s'",
                       path, (unsigned long long)lineno, field_len(f, end), f);
    memset(e, 0, sizeof *e);
    e->addr = addr;
    e->type = (uint8_t)type;
    p = skip_seps(p, end);
    if (p < end && *p >= '0' && *p <= '9') {
        f = p;
        rc = scan_num(&p, end, &size);
        if (rc <= 0 || (p < end && !is_sep(*p) && *p != '#'))
            return mm_errf(err, "%s: line %llu: expected a size (decimal or 0x hex), got '%.*s'",
                           path, (unsigned long long)lineno, field_len(f, end), f);
        if (size == 0 || size > MM_ACCESS_MAX_SIZE)
            return mm_errf(err, "%s: line %llu: expected an access size of 1..%u bytes, got "
                                "'%.*s'",
                           path, (unsigned long long)lineno, MM_ACCESS_MAX_SIZE,
                           field_len(f, end), f);
        p = skip_seps(p, end);
    }
    e->size = (uint32_t)size;
    while (p < end && *p != '#') {
        f = p;
        uint64_t limit;
        int which;
        if (end - p > 4 && !strncmp(p, "cpu=", 4)) {
            which = 0, limit = MM_MAX_CPUS - 1, p += 4;
        } else if (end - p > 4 && !strncmp(p, "pid=", 4)) {
            which = 1, limit = UINT32_MAX, p += 4;
        } else if (end - p > 4 && !strncmp(p, "gap=", 4)) {
            which = 2, limit = UINT32_MAX, p += 4;
        } else {
            return mm_errf(err, "%s: line %llu: expected cpu=N, pid=N, gap=N or a '#' comment, "
                                "got '%.*s'",
                           path, (unsigned long long)lineno, field_len(f, end), f);
        }
        rc = scan_num(&p, end, &v);
        if (rc <= 0 || v > limit || (p < end && !is_sep(*p) && *p != '#'))
            return mm_errf(err, "%s: line %llu: expected a number up to %llu, got '%.*s'", path,
                           (unsigned long long)lineno, (unsigned long long)limit,
                           field_len(f, end), f);
        if (which == 0)
            e->cpu = (uint16_t)v;
        else if (which == 1)
            e->pid = (uint32_t)v;
        else
            e->gap = (uint32_t)v;
        p = skip_seps(p, end);
    }
    return 1;
}

int text_reader_init(trace_reader *r, mm_err *err)
{
    (void)err;
    return line_format_init(r, parse_line, 1);
}

int text_line_score(const char *line, size_t len)
{
    struct mm_event e;
    int rc = parse_line("", 0, line, len, &e, NULL);
    return rc > 0 ? 2 : rc == 0 ? 1 : 0;
}
