/* Helpers shared by the trace unit tests: scratch files, whole-file reads, event builders. */
#ifndef MMUSIM_TESTS_TRACES_TEST_UTIL_H
#define MMUSIM_TESTS_TRACES_TEST_UTIL_H

#include <check.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

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

/* Compresses a buffer the way the command-line tools do (one gzip member, one xz stream with a
 * CRC64 check, one zstd frame without a content size, as `zstd` writes from a pipe), or copies it
 * for TRACE_COMP_NONE. Done in-process so the tests need no compressor programs. */
static inline unsigned char *tu_compress(const void *in, size_t n, enum trace_compression c,
                                         size_t *out_n)
{
    unsigned char *o = NULL;
    switch (c) {
    case TRACE_COMP_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof z);
        ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
        size_t cap = deflateBound(&z, (uLong)n) + 64;
        o = malloc(cap);
        z.next_in = (unsigned char *)(uintptr_t)in;
        z.avail_in = (uInt)n;
        z.next_out = o;
        z.avail_out = (uInt)cap;
        ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
        *out_n = cap - z.avail_out;
        deflateEnd(&z);
        break;
    }
    case TRACE_COMP_XZ: {
        size_t cap = lzma_stream_buffer_bound(n), pos = 0;
        o = malloc(cap);
        ck_assert_int_eq(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, in, n, o, &pos, cap),
                         LZMA_OK);
        *out_n = pos;
        break;
    }
    case TRACE_COMP_ZSTD: {
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
        ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
        size_t cap = ZSTD_compressBound(n) + 64;
        o = malloc(cap);
        ZSTD_inBuffer ib = {in, n, 0};
        ZSTD_outBuffer ob = {o, cap, 0};
        ck_assert_uint_eq(ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end), 0);
        *out_n = ob.pos;
        ZSTD_freeCCtx(cc);
        break;
    }
    case TRACE_COMP_NONE:
        o = malloc(n ? n : 1);
        memcpy(o, in, n);
        *out_n = n;
        break;
    }
    return o;
}

static inline void tu_write_compressed(const char *path, const void *in, size_t n,
                                       enum trace_compression c)
{
    size_t len;
    unsigned char *b = tu_compress(in, n, c, &len);
    tu_write_file(path, b, len);
    free(b);
}

/* "PREFIX 1\nPREFIX 2\n..." for from..to: text-trace lines with decimal addresses. */
static inline char *tu_lines(const char *prefix, unsigned from, unsigned to, size_t *n)
{
    size_t cap = (size_t)(to - from + 1) * (strlen(prefix) + 16) + 1, len = 0;
    char *t = malloc(cap);
    for (unsigned i = from; i <= to; i++)
        len += (size_t)snprintf(t + len, cap - len, "%s %u\n", prefix, i);
    *n = len;
    return t;
}

/* Standard input becomes a pipe fed with data by a child process, until tu_stdin_restore. */
struct tu_stdin {
    int saved;
    pid_t child;
};

static inline struct tu_stdin tu_stdin_feed(const void *data, size_t n)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        const unsigned char *p = data;
        while (n) {
            ssize_t k = write(fds[1], p, n);
            if (k <= 0)
                _exit(1);
            p += k;
            n -= (size_t)k;
        }
        _exit(0);
    }
    close(fds[1]);
    struct tu_stdin s = {dup(0), pid};
    dup2(fds[0], 0);
    close(fds[0]);
    return s;
}

static inline void tu_stdin_restore(struct tu_stdin s)
{
    dup2(s.saved, 0); /* closes our end of the pipe, so a blocked writer ends too */
    close(s.saved);
    waitpid(s.child, NULL, 0);
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
