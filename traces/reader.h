/* Private to traces/: the reader object every format plugs into, and the line splitter the text
 * formats share. Nothing outside traces/ includes this. */
#ifndef MMUSIM_TRACES_READER_H
#define MMUSIM_TRACES_READER_H

#include <stddef.h>
#include <stdint.h>

#include "traces/cio.h"
#include "traces/trace.h"

struct trace_reader_ops {
    /* Fill up to max events; > 0 count, 0 clean end, -1 error (err filled). Must keep
     * r->instructions (sum of gaps) and r->bad_records up to date; r->records is kept by trace.c. */
    long (*read)(trace_reader *r, struct mm_event *ev, size_t max, mm_err *err);
    /* Optional fast skip; NULL means decode and drop. Must keep r->instructions up to date. */
    long long (*skip)(trace_reader *r, unsigned long long n, mm_err *err);
    void (*close)(trace_reader *r);
};

struct trace_reader {
    const struct trace_reader_ops *ops;
    void *state;
    cio_reader *in;
    enum trace_format format;
    int keep_going;
    uint64_t records;      /* handed out (or skipped over) */
    uint64_t bad_records;  /* dropped under keep_going */
    uint64_t ignored;      /* records the format defines but mmusim drops (din escapes, flushes) */
    uint64_t instructions; /* sum of gaps handed out */
    uint64_t total_records; /* known from the native trailer, else 0 */
    int chunk_comp;         /* native: codec of the chunks decoded so far, -1 unknown */
    struct trace_kv *meta;
    size_t nmeta;
    int failed;      /* an error is sticky: later reads repeat it */
    int fail_next;   /* last_err is set, but this read still hands out the records before it */
    mm_err last_err;
};

/* For a format's read: an error after n good records of this call. The records go out now and
 * the error (already in err, which is r->last_err) on the next call. */
static inline long reader_fail(trace_reader *r, size_t n)
{
    if (n == 0)
        return -1;
    r->fail_next = 1;
    return (long)n;
}

/* Each format's opener installs ops and state; returns 0 or -1 (err filled). */
int native_reader_init(trace_reader *r, mm_err *err);
int lackey_reader_init(trace_reader *r, mm_err *err);
int din_reader_init(trace_reader *r, mm_err *err);
int text_reader_init(trace_reader *r, mm_err *err);
int champsim_reader_init(trace_reader *r, mm_err *err);

/* Adds a metadata pair (copied). */
void reader_add_meta(trace_reader *r, const char *key, size_t klen, const char *value, size_t vlen);

/* Line splitter over a cio stream: hands out one line at a time (without the newline and any
 * trailing '\r'), numbered from 1. A line stays valid until the next call. */
struct line_src {
    cio_reader *in;
    uint64_t lineno;
    size_t pending; /* bytes of the last line (with its newline) still to consume */
};
/* 1 with the line and its length set, 0 at the end, -1 on error. */
int line_next(struct line_src *ls, const char **line, size_t *len, mm_err *err);

/* A line-oriented format (lackey, din, text) supplies only its line parser; the read loop, the
 * keep-going bookkeeping and the state are shared. parse returns 1 (a record in *e), 2 (a record
 * the format defines but mmusim drops, counted as ignored), 0 (not a record: blank, comment,
 * chatter) or -1 (a bad line; err names the file, the line and what was expected). */
typedef int (*line_parse_fn)(const char *path, uint64_t lineno, const char *s, size_t n,
                             struct mm_event *e, mm_err *err);
/* skip_csv_header: a bad first line without any digit is a CSV header and is skipped. */
int line_format_init(trace_reader *r, line_parse_fn parse, int skip_csv_header);

/* lackey's line parser (a line_parse_fn), also used by the capture converter. */
int lackey_parse_line(const char *path, uint64_t lineno, const char *s, size_t n,
                      struct mm_event *e, mm_err *err);

/* Quotes at most 40 characters of a line for an error message (static buffer). */
const char *line_excerpt(const char *line, size_t len);

/* Format-detection probes on a peeked window (whole lines only). */
int lackey_line_score(const char *line, size_t len); /* 2 record, 1 valgrind chatter, 0 no */
int din_line_score(const char *line, size_t len);
int text_line_score(const char *line, size_t len);   /* 2 record, 1 comment/blank, 0 no */
int champsim_plausible(const unsigned char *p, size_t n, int at_end);

#endif
