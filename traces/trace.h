/* Reading and writing traces: the one interface the engine and the commands use.
 * A reader decodes any supported format (auto-detected) under any supported compression
 * (detected from magic bytes) into batches of struct mm_event. */
#ifndef MMUSIM_TRACES_TRACE_H
#define MMUSIM_TRACES_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "traces/event.h"

enum trace_format {
    TRACE_FMT_AUTO = 0,
    TRACE_FMT_NATIVE,   /* mmusim's own chunked format, traces/FORMAT.md */
    TRACE_FMT_LACKEY,   /* valgrind --tool=lackey --trace-mem=yes */
    TRACE_FMT_DIN,      /* Dinero IV din: "label address [size]" */
    TRACE_FMT_TEXT,     /* "R 0x7ffd1234 8" one access a line, or CSV "R,0x7ffd1234,8" */
    TRACE_FMT_CHAMPSIM, /* ChampSim 64-byte input_instr records */
};

enum trace_compression {
    TRACE_COMP_NONE = 0,
    TRACE_COMP_GZIP,
    TRACE_COMP_XZ,
    TRACE_COMP_ZSTD,
};

const char *trace_format_name(enum trace_format f);          /* "native", "lackey", ... */
int trace_format_from_name(const char *name);                /* -1 if unknown */
const char *trace_compression_name(enum trace_compression c); /* "none", "gzip", "xz", "zstd" */
int trace_compression_from_name(const char *name);           /* -1 if unknown */

typedef struct trace_reader trace_reader;

struct trace_kv {
    const char *key;
    const char *value;
};

/* Open PATH ("-" is standard input). fmt TRACE_FMT_AUTO detects the format from content.
 * NULL with err filled ("FILE: what is wrong") on failure. */
trace_reader *trace_open(const char *path, enum trace_format fmt, mm_err *err);

/* Decode up to max events into ev. Returns the count (> 0), 0 at a clean end of trace, or -1 on
 * bad or truncated input with err naming the file, the byte offset (or line) and what was
 * expected. With keep_going set (trace_set_keep_going), bad records are skipped and counted
 * instead, where the format allows resynchronising. */
long trace_read(trace_reader *r, struct mm_event *ev, size_t max, mm_err *err);

void trace_set_keep_going(trace_reader *r, int on);
/* Skip the next n records without handing them out (fast for the native format: whole chunks are
 * skipped by their headers without decompressing). Returns records skipped (fewer than n only at
 * the end of the trace), -1 on error. */
long long trace_skip(trace_reader *r, unsigned long long n, mm_err *err);

void trace_close(trace_reader *r);

struct trace_info {
    const char *path;
    enum trace_format format;
    enum trace_compression compression;
    uint64_t records;        /* records handed out so far (accesses + OS events) */
    uint64_t bad_records;    /* skipped under keep_going */
    uint64_t bytes_in;       /* bytes of the (compressed) input consumed so far */
    uint64_t bytes_total;    /* size of the input file, 0 when unknown (a pipe) */
    uint64_t instructions;   /* instructions counted so far (gaps, ChampSim records), 0 if unknown */
    /* XXH3-128 of the whole input file's bytes as 32 hex digits. For a regular file it is computed
     * at open over the whole file; for a pipe it covers the bytes read so far and hash_complete
     * says whether the input has been read to its end. */
    char content_hash[33];
    int hash_complete;
};
void trace_get_info(const trace_reader *r, struct trace_info *info);

/* Key/value metadata from the native header (command line, tool, executable, build-id, page
 * size, cpus ...); empty for other formats. Valid until trace_close. */
size_t trace_meta_count(const trace_reader *r);
const struct trace_kv *trace_meta_at(const trace_reader *r, size_t i);
const char *trace_meta_get(const trace_reader *r, const char *key);

/* Records the format defines but mmusim drops on purpose (din escape and flush records). */
uint64_t trace_ignored_records(const trace_reader *r);
/* Total records in the trace when known: native traces in an uncompressed regular file say it in
 * their trailer (read at open), others once their index was reached; else 0. */
uint64_t trace_total_records(const trace_reader *r);
/* Native traces: the codec of the chunk payloads decoded so far (-1 before the first chunk and
 * for other formats). */
int trace_chunk_compression(const trace_reader *r);

/* Native writer. comp chooses the compression of each chunk; level 0 means the codec default.
 * meta is copied into the header. Events are buffered into chunks; close writes the index. */
typedef struct trace_writer trace_writer;
trace_writer *trace_writer_open(const char *path, enum trace_compression comp, int level,
                                const struct trace_kv *meta, size_t nmeta, mm_err *err);
int trace_writer_put(trace_writer *w, const struct mm_event *ev, size_t n, mm_err *err);
/* Flushes, writes the index and trailer, closes. Returns 0 or -1 (err filled). Always frees w. */
int trace_writer_close(trace_writer *w, mm_err *err);
/* Records per chunk (default TRACE_CHUNK_RECORDS); call before the first put. For tests. */
void trace_writer_set_chunk_records(trace_writer *w, uint32_t records);
#define TRACE_CHUNK_RECORDS (128u * 1024u)

#endif
