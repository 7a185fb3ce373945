#include "traces/capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "traces/parse.h"
#include "traces/reader.h"

/* x86-64 system call numbers of the calls the capture follows (arch/x86/entry/syscalls). */
enum {
    NR_CLOSE = 3, NR_MMAP = 9, NR_MPROTECT = 10, NR_MUNMAP = 11, NR_BRK = 12, NR_MREMAP = 25,
    NR_MADVISE = 28, NR_CLONE = 56, NR_FORK = 57, NR_VFORK = 58, NR_EXIT = 60, NR_EXIT_GROUP = 231,
    NR_OPENAT = 257, NR_CLONE3 = 435, NR_OPEN = 2,
};

/* Linux's mmap flag bits (include/uapi/asm-generic/mman*.h) and ours */
#define LX_MAP_SHARED 0x01u
#define LX_MAP_PRIVATE 0x02u
#define LX_MAP_FIXED 0x10u
#define LX_MAP_ANONYMOUS 0x20u
#define LX_MAP_HUGETLB 0x40000u

#define CAPTURE_MAX_ARGS 6
#define CAPTURE_MAX_FDS 4096
#define CAPTURE_PENDING 64

struct pending_call { /* a call valgrind reports in two lines ([async]) */
    uint32_t tid;
    unsigned nr;
    uint64_t args[CAPTURE_MAX_ARGS];
    char *path; /* openat's file */
    int live;
};

struct capture_parser {
    char *source;
    uint64_t lineno;
    uint64_t syscalls;
    uint32_t pid;
    int fd_file[CAPTURE_MAX_FDS]; /* fd -> file id + 1 (0: none) */
    char **files;                 /* file id -> path */
    size_t nfiles;
    char **file_keys; /* "file.N", built when asked for */
    size_t nkeys;
    struct pending_call pend[CAPTURE_PENDING];
};

capture_parser *capture_parser_create(const char *source_name)
{
    capture_parser *p = xcalloc(1, sizeof *p);
    p->source = xstrdup(source_name ? source_name : "valgrind log");
    return p;
}

void capture_parser_destroy(capture_parser *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nfiles; i++)
        free(p->files[i]);
    for (size_t i = 0; i < p->nkeys; i++)
        free(p->file_keys[i]);
    for (size_t i = 0; i < CAPTURE_PENDING; i++)
        free(p->pend[i].path);
    free(p->files);
    free(p->file_keys);
    free(p->source);
    free(p);
}

static uint32_t file_id_for(capture_parser *p, const char *path)
{
    for (size_t i = 0; i < p->nfiles; i++)
        if (!strcmp(p->files[i], path))
            return (uint32_t)i + 1; /* file ids start at 1: 0 means anonymous */
    p->files = xrealloc(p->files, (p->nfiles + 1) * sizeof *p->files);
    p->files[p->nfiles++] = xstrdup(path);
    return (uint32_t)p->nfiles;
}

size_t capture_file_count(const capture_parser *p)
{
    return p->nfiles;
}

struct trace_kv capture_file_at(const capture_parser *p, size_t i)
{
    capture_parser *m = (capture_parser *)p;
    while (m->nkeys < p->nfiles) {
        m->file_keys = xrealloc(m->file_keys, (m->nkeys + 1) * sizeof *m->file_keys);
        m->file_keys[m->nkeys] = xasprintf("file.%zu", m->nkeys + 1);
        m->nkeys++;
    }
    struct trace_kv kv = {m->file_keys[i], m->files[i]};
    return kv;
}

uint64_t capture_syscalls_seen(const capture_parser *p)
{
    return p->syscalls;
}

uint64_t capture_lines(const capture_parser *p)
{
    return p->lineno;
}

uint32_t capture_pid(const capture_parser *p)
{
    return p->pid;
}

static const char *find_str(const char *s, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *q = s; q + n <= end; q++)
        if (!memcmp(q, needle, n))
            return q;
    return NULL;
}

/* "( a, b(path), c )": numbers (decimal or 0x hex), a path in parentheses after a pointer. */
static int parse_args(const char *p, const char *end, uint64_t *args, unsigned *nargs, char **path)
{
    *nargs = 0;
    p = skip_blanks(p, end);
    if (p == end || *p != '(')
        return -1;
    p++;
    for (;;) {
        p = skip_blanks(p, end);
        if (p < end && *p == ')')
            return 0;
        uint64_t v = 0;
        if (scan_num(&p, end, &v) <= 0)
            return -1;
        if (*nargs < CAPTURE_MAX_ARGS)
            args[(*nargs)++] = v;
        if (p < end && *p == '(') { /* the string valgrind shows for a pointer argument */
            const char *q = memchr(p, ')', (size_t)(end - p));
            if (!q)
                return -1;
            if (path && !*path)
                *path = strndup(p + 1, (size_t)(q - p - 1));
            p = q + 1;
        }
        p = skip_blanks(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == ')')
            return 0;
        return -1;
    }
}

/* "Success(0x4835000)" -> 1 and the value; "Failure(...)" -> 0; neither -> -1 */
static int parse_result(const char *s, const char *end, uint64_t *value)
{
    const char *q = find_str(s, end, "Success(");
    if (q) {
        q += 8;
        return scan_num(&q, end, value) > 0 ? 1 : -1;
    }
    return find_str(s, end, "Failure(") ? 0 : -1;
}

static int emit(capture_parser *p, unsigned nr, const uint64_t *a, uint64_t ret, const char *path,
                struct mm_event *out)
{
    memset(out, 0, 2 * sizeof *out);
    out[0].pid = out[1].pid = p->pid;
    switch (nr) {
    case NR_OPEN:
    case NR_OPENAT:
        if (path && ret < CAPTURE_MAX_FDS)
            p->fd_file[ret] = (int)file_id_for(p, path);
        return 0;
    case NR_CLOSE:
        if (a[0] < CAPTURE_MAX_FDS)
            p->fd_file[a[0]] = 0;
        return 0;
    case NR_MMAP: {
        unsigned lflags = (unsigned)a[3];
        out[0].type = MM_EV_MMAP;
        out[0].addr = ret;
        out[0].len = a[1];
        out[0].arg = a[5];
        out[0].flags = ((unsigned)a[2] & 7u) | (lflags & LX_MAP_SHARED ? MM_MAP_SHARED : 0) |
                       (lflags & LX_MAP_PRIVATE ? MM_MAP_PRIVATE : 0) |
                       (lflags & LX_MAP_FIXED ? MM_MAP_FIXED : 0) |
                       (lflags & LX_MAP_ANONYMOUS ? MM_MAP_ANONYMOUS : 0) |
                       (lflags & LX_MAP_HUGETLB ? MM_MAP_HUGETLB : 0);
        uint64_t fd = a[4] & 0xffffffffu;
        if (!(lflags & LX_MAP_ANONYMOUS) && fd < CAPTURE_MAX_FDS)
            out[0].file = (uint32_t)p->fd_file[fd];
        return 1;
    }
    case NR_MUNMAP:
        out[0].type = MM_EV_MUNMAP;
        out[0].addr = a[0];
        out[0].len = a[1];
        return 1;
    case NR_BRK:
        out[0].type = MM_EV_BRK;
        out[0].addr = ret;
        return 1;
    case NR_MPROTECT:
        out[0].type = MM_EV_MPROTECT;
        out[0].addr = a[0];
        out[0].len = a[1];
        out[0].flags = (unsigned)a[2] & 7u;
        return 1;
    case NR_MADVISE:
        out[0].type = MM_EV_MADVISE;
        out[0].addr = a[0];
        out[0].len = a[1];
        out[0].flags = (unsigned)a[2];
        return 1;
    case NR_MREMAP: /* old range goes, new range comes (anonymous private: what mremap mostly moves) */
        out[0].type = MM_EV_MUNMAP;
        out[0].addr = a[0];
        out[0].len = a[1];
        out[1].type = MM_EV_MMAP;
        out[1].addr = ret;
        out[1].len = a[2];
        out[1].flags = MM_PROT_READ | MM_PROT_WRITE | MM_MAP_PRIVATE | MM_MAP_ANONYMOUS;
        return 2;
    case NR_CLONE:
    case NR_FORK:
    case NR_VFORK:
    case NR_CLONE3:
        if (ret == 0)
            return 0; /* the child's side */
        out[0].type = MM_EV_FORK;
        out[0].arg = ret;
        return 1;
    default:
        return 0;
    }
}

static int followed(uint64_t nr)
{
    switch (nr) {
    case NR_OPEN: case NR_OPENAT: case NR_CLOSE: case NR_MMAP: case NR_MUNMAP: case NR_BRK:
    case NR_MPROTECT: case NR_MADVISE: case NR_MREMAP: case NR_CLONE: case NR_FORK: case NR_VFORK:
    case NR_CLONE3:
        return 1;
    default:
        return 0;
    }
}

int capture_parse_line(capture_parser *p, const char *line, size_t len,
                       struct mm_event out[CAPTURE_MAX_EVENTS_PER_LINE], mm_err *err)
{
    p->lineno++;
    const char *end = line + len;
    if (len >= 8 && !memcmp(line, "SYSCALL[", 8)) {
        const char *q = line + 8;
        uint64_t pid = 0, tid = 0, nr = 0;
        if (scan_dec(&q, end, &pid) <= 0 || q == end || *q != ',' || (q++, scan_dec(&q, end, &tid) <= 0) ||
            q + 1 >= end || q[0] != ']' || q[1] != '(' || (q += 2, scan_dec(&q, end, &nr) <= 0) ||
            q == end || *q != ')')
            return mm_errf(err, "%s: line %llu: expected 'SYSCALL[pid,tid](nr) ...', got '%s'",
                           p->source, (unsigned long long)p->lineno, line_excerpt(line, len));
        q++;
        p->syscalls++;
        if (!p->pid)
            p->pid = (uint32_t)pid;
        q = skip_blanks(q, end);
        uint64_t ret = 0;
        /* the second line of an [async] call: "... [async] --> Success(0x4)" */
        if (end - q >= 3 && !memcmp(q, "...", 3)) {
            for (unsigned i = 0; i < CAPTURE_PENDING; i++) {
                struct pending_call *pc = &p->pend[i];
                if (pc->live && pc->tid == tid && pc->nr == nr) {
                    pc->live = 0;
                    int ok = parse_result(q, end, &ret);
                    int n = ok == 1 ? emit(p, pc->nr, pc->args, ret, pc->path, out) : 0;
                    free(pc->path);
                    pc->path = NULL;
                    return n;
                }
            }
            return 0; /* the first line was not one we follow */
        }
        /* valgrind reports a fork as "sys_fork ( )   fork: process P created child C" */
        const char *created = find_str(q, end, "created child ");
        if (created) {
            const char *c = created + 14;
            uint64_t child = 0;
            if (scan_dec(&c, end, &child) <= 0)
                return 0;
            memset(out, 0, sizeof *out);
            out[0].type = MM_EV_FORK;
            out[0].pid = (uint32_t)pid;
            out[0].arg = child;
            return 1;
        }
        if (nr == NR_EXIT || nr == NR_EXIT_GROUP) {
            memset(out, 0, sizeof *out);
            out[0].type = MM_EV_EXIT;
            out[0].pid = (uint32_t)pid;
            return 1;
        }
        /* "sys_NAME ( args ) ..." */
        while (q < end && *q != '(' && *q != ' ')
            q++;
        uint64_t args[CAPTURE_MAX_ARGS] = {0};
        unsigned nargs;
        char *path = NULL;
        if (parse_args(q, end, args, &nargs, &path)) {
            free(path);
            return 0; /* argument forms of calls we do not follow vary: not an error */
        }
        if (find_str(q, end, "[async] ...")) {
            /* a thread has one call in flight: a new one replaces whatever it left pending */
            for (unsigned i = 0; i < CAPTURE_PENDING; i++) {
                struct pending_call *pc = &p->pend[i];
                if (pc->live && pc->tid == tid) {
                    pc->live = 0;
                    free(pc->path);
                    pc->path = NULL;
                }
            }
            if (!followed(nr)) {
                free(path);
                return 0;
            }
            for (unsigned i = 0; i < CAPTURE_PENDING; i++) {
                struct pending_call *pc = &p->pend[i];
                if (!pc->live) {
                    pc->live = 1;
                    pc->tid = (uint32_t)tid;
                    pc->nr = (unsigned)nr;
                    memcpy(pc->args, args, sizeof args);
                    pc->path = path;
                    return 0;
                }
            }
            free(path);
            return 0;
        }
        int ok = parse_result(q, end, &ret);
        int n = ok == 1 ? emit(p, (unsigned)nr, args, ret, path, out) : 0;
        free(path);
        return n;
    }
    if (!p->pid && len > 2 && line[0] == '=' && line[1] == '=') { /* "==PID== ..." names the process */
        const char *q = line + 2;
        uint64_t pid;
        if (scan_dec(&q, end, &pid) > 0)
            p->pid = (uint32_t)pid;
        return 0;
    }
    int rc = lackey_parse_line(p->source, p->lineno, line, len, &out[0], NULL);
    if (rc == 1) {
        out[0].pid = p->pid;
        return 1;
    }
    if (rc == 0)
        return 0;
    /* anything else valgrind prints with --trace-syscalls (e.g. signal notes) is chatter unless it
     * starts like an access line */
    if (len >= 2 && (line[0] == 'I' || (line[0] == ' ' && strchr("LSM", line[1]))))
        return lackey_parse_line(p->source, p->lineno, line, len, &out[0], err);
    return 0;
}
