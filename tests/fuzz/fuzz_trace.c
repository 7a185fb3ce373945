/* libFuzzer target: any bytes as a trace file, read to the end with the format given at build time
 * (FUZZ_FORMAT: a trace_format value; TRACE_FMT_AUTO detects). Every compression is reached
 * through the magic bytes of the input. A reader must end with records or a clear error, never a
 * crash, a hang or an out-of-bounds access; with keep_going it must also terminate. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "traces/trace.h"

#ifndef FUZZ_FORMAT
#define FUZZ_FORMAT TRACE_FMT_AUTO
#endif

static void read_all(const char *path, int keep_going)
{
    mm_err err;
    trace_reader *r = trace_open(path, FUZZ_FORMAT, &err);
    if (!r)
        return;
    trace_set_keep_going(r, keep_going);
    static struct mm_event ev[512];
    long n;
    uint64_t total = 0;
    while ((n = trace_read(r, ev, 512, &err)) > 0) {
        for (long i = 0; i < n; i++) {
            /* what a reader hands out must be within the record's rules */
            if (ev[i].type < MM_EV_OS_FIRST && (ev[i].size == 0 || ev[i].size > MM_ACCESS_MAX_SIZE))
                abort();
            if (ev[i].type >= MM_EV_TYPE_MAX)
                abort();
        }
        total += (uint64_t)n;
    }
    if (n < 0 && strlen(err.msg) == 0)
        abort(); /* an error must say what is wrong */
    struct trace_info info;
    trace_get_info(r, &info);
    if (info.records != total)
        abort();
    trace_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-trace", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    read_all(path, 0);
    read_all(path, 1);
    close(fd);
    return 0;
}
