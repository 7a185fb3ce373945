/* Turns the log of `valgrind --tool=lackey --trace-mem=yes --trace-syscalls=yes` into events, line
 * by line as it streams: lackey's access lines become accesses, and the memory-management system
 * calls become OS events in the order they happened (mmap, munmap, brk, mprotect, madvise,
 * mremap as munmap + mmap, fork/clone/vfork, exit/exit_group). openat/close are followed so that
 * file mappings name their file (file ids, with the paths kept as metadata). */
#ifndef MMUSIM_TRACES_CAPTURE_H
#define MMUSIM_TRACES_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "traces/event.h"
#include "traces/trace.h"

typedef struct capture_parser capture_parser;

capture_parser *capture_parser_create(const char *source_name);
void capture_parser_destroy(capture_parser *p);

/* Most events one line can produce (mremap: munmap + mmap). */
#define CAPTURE_MAX_EVENTS_PER_LINE 2

/* Parses one log line (without its newline). Returns the number of events written to out (0 for
 * a line that carries none: valgrind chatter, an uninteresting system call, a failed call), or -1
 * for a line that looks like a record but is malformed (err names the line). */
int capture_parse_line(capture_parser *p, const char *line, size_t len,
                       struct mm_event out[CAPTURE_MAX_EVENTS_PER_LINE], mm_err *err);

/* The files that mappings referred to, as metadata pairs "file.ID" = path (valid until destroy),
 * and counts of what was seen. */
size_t capture_file_count(const capture_parser *p);
struct trace_kv capture_file_at(const capture_parser *p, size_t i);
uint64_t capture_syscalls_seen(const capture_parser *p);
uint64_t capture_lines(const capture_parser *p);
/* The pid valgrind reported for the traced process (0 until a line names it). */
uint32_t capture_pid(const capture_parser *p);

#endif
