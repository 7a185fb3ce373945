/* Helpers shared by the trace unit tests: scratch files, whole-file reads, event builders. */
#ifndef MMUSIM_TESTS_TRACES_TEST_UTIL_H
#define MMUSIM_TESTS_TRACES_TEST_UTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traces/trace.h"

static char tu_dir[256];

/* A fresh scratch directory per process (Check forks per test). */
static inline const char *tu_path(const char *name)
{
    static char buf[512];
    if (!tu_dir[0] || access(tu_dir, F_OK) != 0) {
        const char *t = getenv("TMPDIR");
        snprintf(tu_dir, sizeof tu_dir, "%s/mmusim-traces-XXXXXX", t && *t ? t : "/tmp");
        ck_assert_ptr_nonnull(mkdtemp(tu_dir));
    }
    snprintf(buf, sizeof buf, "%s/%s", tu_dir, name);
    return buf;
}

static inline void tu_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

static inline unsigned char *tu_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return buf;
}

/* Runs a shell command; returns its exit status. */
static inline int tu_sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Reads a whole trace into a malloc'd array; asserts success. */
static inline struct mm_event *tu_read_all(const char *path, enum trace_format fmt, size_t *n)
{
    mm_err err = {{0}};
    trace_reader *r = trace_open(path, fmt, &err);
    if (!r)
        ck_abort_msg("trace_open(%s): %s", path, err.msg);
    size_t cap = 1024, len = 0;
    struct mm_event *ev = malloc(cap * sizeof *ev);
    for (;;) {
        if (len + 100 > cap) {
            cap *= 2;
            ev = realloc(ev, cap * sizeof *ev);
        }
        long k = trace_read(r, ev + len, 100, &err);
        if (k < 0)
            ck_abort_msg("trace_read(%s): %s", path, err.msg);
        if (k == 0)
            break;
        len += (size_t)k;
    }
    trace_close(r);
    *n = len;
    return ev;
}

/* Reads until error or end; returns -1 and fills err on error, else the record count. */
static inline long long tu_read_until_error(const char *path, enum trace_format fmt, mm_err *err)
{
    trace_reader *r = trace_open(path, fmt, err);
    if (!r)
        return -1;
    struct mm_event ev[512];
    long long total = 0;
    for (;;) {
        long k = trace_read(r, ev, 512, err);
        if (k < 0) {
            trace_close(r);
            return -1;
        }
        if (k == 0)
            break;
        total += k;
    }
    trace_close(r);
    return total;
}

static inline struct mm_event tu_access(unsigned type, uint64_t addr, uint32_t size)
{
    struct mm_event e;
    memset(&e, 0, sizeof e);
    e.type = (uint8_t)type;
    e.addr = addr;
    e.size = size;
    return e;
}

static inline void tu_assert_event_eq(const struct mm_event *a, const struct mm_event *b, size_t i)
{
    if (memcmp(a, b, sizeof *a) != 0)
        ck_abort_msg("event %zu differs: type %u/%u addr %llx/%llx len %llu/%llu arg %llu/%llu "
                     "pid %u/%u gap %u/%u size %u/%u flags %u/%u file %u/%u cpu %u/%u res %u/%u",
                     i, a->type, b->type, (unsigned long long)a->addr, (unsigned long long)b->addr,
                     (unsigned long long)a->len, (unsigned long long)b->len,
                     (unsigned long long)a->arg, (unsigned long long)b->arg, a->pid, b->pid,
                     a->gap, b->gap, a->size, b->size, a->flags, b->flags, a->file, b->file,
                     a->cpu, b->cpu, a->reserved, b->reserved);
}

#endif
