/* valgrind --tool=lackey --trace-mem=yes output:
 *   "I  04001290,3"   instruction fetch (two spaces), hex address without 0x, decimal size
 *   " L 1ffefffd40,8" load;  " S ..." store;  " M ..." modify (one read-modify-write access)
 * valgrind's own "==PID== ..." lines, --trace-superblocks "SB ..." lines and blank lines are
 * skipped. Each fetch is one instruction (gap 1); data accesses have gap 0; pid 0, cpu 0. */
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "traces/parse.h"
#include "traces/reader.h"

static int is_chatter(const char *s, size_t n)
{
    if (n == 0)
        return 1;
    if (n >= 2 && s[0] == '=' && s[1] == '=')
        return 1;
    if (n >= 3 && s[0] == 'S' && s[1] == 'B' && s[2] == ' ')
        return 1;
    return 0;
}

/* Parses one record line into e. 1 ok, 0 chatter to skip, -1 bad (err filled). */
int lackey_parse_line(const char *path, uint64_t lineno, const char *s, size_t n,
                      struct mm_event *e, mm_err *err)
{
    if (is_chatter(s, n))
        return 0;
    const char *end = s + n;
    unsigned type;
    if (n >= 3 && s[0] == 'I' && s[1] == ' ' && s[2] == ' ')
        type = MM_EV_IFETCH;
    else if (n >= 3 && s[0] == ' ' && s[2] == ' ' && s[1] == 'L')
        type = MM_EV_READ;
    else if (n >= 3 && s[0] == ' ' && s[2] == ' ' && s[1] == 'S')
        type = MM_EV_WRITE;
    else if (n >= 3 && s[0] == ' ' && s[2] == ' ' && s[1] == 'M')
        type = MM_EV_RMW;
    else
        return mm_errf(err, "%s: line %llu: expected 'I  ADDR,SIZE', ' L|S|M ADDR,SIZE' or a "
                            "valgrind '==PID==' line, got '%s'",
                       path, (unsigned long long)lineno, line_excerpt(s, n));
    const char *p = s + 3;
    uint64_t addr = 0, size = 0;
    int rc = scan_hex(&p, end, &addr);
    if (rc <= 0)
        return mm_errf(err, "%s: line %llu: expected a hex address, got '%s'", path,
                       (unsigned long long)lineno, line_excerpt(s + 3, n - 3));
    if (p == end || *p != ',')
        return mm_errf(err, "%s: line %llu: expected ',SIZE' after the address, got '%s'", path,
                       (unsigned long long)lineno, line_excerpt(p, (size_t)(end - p)));
    p++;
    rc = scan_dec(&p, end, &size);
    p = skip_blanks(p, end);
    if (rc <= 0 || p != end)
        return mm_errf(err, "%s: line %llu: expected a decimal size, got '%s'", path,
                       (unsigned long long)lineno, line_excerpt(s, n));
    if (size == 0 || size > MM_ACCESS_MAX_SIZE)
        return mm_errf(err, "%s: line %llu: expected an access size of 1..%u bytes, got '%llu'",
                       path, (unsigned long long)lineno, MM_ACCESS_MAX_SIZE,
                       (unsigned long long)size);
    memset(e, 0, sizeof *e);
    e->addr = addr;
    e->size = (uint32_t)size;
    e->type = (uint8_t)type;
    e->gap = type == MM_EV_IFETCH;
    return 1;
}

int lackey_reader_init(trace_reader *r, mm_err *err)
{
    (void)err;
    return line_format_init(r, lackey_parse_line, 0);
}

int lackey_line_score(const char *line, size_t len)
{
    struct mm_event e;
    if (len >= 2 && line[0] == '=' && line[1] == '=')
        return 1;
    if (len == 0)
        return 0;
    return lackey_parse_line("", 0, line, len, &e, NULL) > 0 ? 2 : 0;
}
