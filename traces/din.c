/* Dinero IV "din" (traditional) format: one "LABEL ADDRESS [SIZE]" per line.
 *   LABEL   0 read, 1 write, 2 instruction fetch, 3 escape (misc), 4 flush cache
 *   ADDRESS hexadecimal, optional 0x prefix
 *   SIZE    optional hexadecimal byte count (as in Dinero's extended format); default 4, the size
 *           Dinero IV gives every din record
 * Dinero ignores the rest of a line, so anything after the fields that does not start with a digit
 * is taken as a comment; blank lines and lines starting with '#' are skipped. Escape and flush
 * records carry no access for mmusim: they are dropped and counted (trace_ignored_records).
 * Unlike Dinero, the address is kept as written, not rounded down to a 4-byte word.
 * Fetches count one instruction each (gap 1); data accesses have gap 0. */
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "traces/parse.h"
#include "traces/reader.h"

#define DIN_DEFAULT_SIZE 4u

/* 1 access, 2 escape/flush (dropped), 0 blank/comment, -1 bad. */
static int parse_line(const char *path, uint64_t lineno, const char *s, size_t n,
                      struct mm_event *e, mm_err *err)
{
    const char *end = s + n, *p = skip_blanks(s, end);
    if (p == end || *p == '#')
        return 0;
    uint64_t label, addr, size = DIN_DEFAULT_SIZE;
    const char *f = p;
    if (scan_hex(&p, end, &label) <= 0 || (p < end && *p != ' ' && *p != '\t'))
        return mm_errf(err, "%s: line %llu: expected a label 0-4, got '%.*s'", path,
                       (unsigned long long)lineno, field_len(f, end), f);
    if (label > 4)
        return mm_errf(err, "%s: line %llu: expected a label 0-4 (read, write, fetch, escape, "
                            "flush), got '%.*s'",
                       path, (unsigned long long)lineno, field_len(f, end), f);
    p = skip_blanks(p, end);
    f = p;
    if (scan_hex_opt0x(&p, end, &addr) <= 0 || (p < end && *p != ' ' && *p != '\t'))
        return mm_errf(err, "%s: line %llu: expected a hex address, got '%.*s'", path,
                       (unsigned long long)lineno, field_len(f, end), f);
    p = skip_blanks(p, end);
    if (p < end && *p >= '0' && *p <= '9') {
        f = p;
        if (scan_hex_opt0x(&p, end, &size) <= 0 || (p < end && *p != ' ' && *p != '\t'))
            return mm_errf(err, "%s: line %llu: expected a hex size, got '%.*s'", path,
                           (unsigned long long)lineno, field_len(f, end), f);
        if (size == 0 || size > MM_ACCESS_MAX_SIZE)
            return mm_errf(err, "%s: line %llu: expected an access size of 1..%u bytes, got "
                                "'%.*s'",
                           path, (unsigned long long)lineno, MM_ACCESS_MAX_SIZE,
                           field_len(f, end), f);
    }
    if (label >= 3)
        return 2;
    memset(e, 0, sizeof *e);
    e->addr = addr;
    e->size = (uint32_t)size;
    e->type = label == 0 ? MM_EV_READ : label == 1 ? MM_EV_WRITE : MM_EV_IFETCH;
    e->gap = label == 2;
    return 1;
}

int din_reader_init(trace_reader *r, mm_err *err)
{
    (void)err;
    return line_format_init(r, parse_line, 0);
}

int din_line_score(const char *line, size_t len)
{
    struct mm_event e;
    const char *end = line + len, *p = skip_blanks(line, end);
    if (p == end || *p == '#')
        return 1;
    /* a din label is a lone digit; anything else is some other format */
    if (!(*p >= '0' && *p <= '4') || p + 1 >= end || (p[1] != ' ' && p[1] != '\t'))
        return 0;
    return parse_line("", 0, line, len, &e, NULL) > 0 ? 2 : 0;
}
