/* ChampSim binary traces: a sequence of 64-byte input_instr records (little-endian):
 *    0  u64 ip
 *    8  u8  is_branch, u8 branch_taken
 *   10  u8  destination_registers[2], u8 source_registers[4]
 *   16  u64 destination_memory[2]
 *   32  u64 source_memory[4]
 * Each record becomes an instruction fetch of CHAMPSIM_FETCH_SIZE bytes at ip with gap 1 (one
 * instruction), then a read of CHAMPSIM_DATA_SIZE bytes for each non-zero source_memory, then a
 * write for each non-zero destination_memory, both with gap 0. ChampSim records carry no
 * instruction length, so the fetch size is a nominal 4 bytes; no data size either, hence 8. */
#include <stdlib.h>
#include <string.h>

#include "models/common/xalloc.h"
#include "traces/native_format.h"
#include "traces/reader.h"

#define CHAMPSIM_RECORD 64
#define CHAMPSIM_FETCH_SIZE 4u
#define CHAMPSIM_DATA_SIZE 8u
#define CHAMPSIM_BATCH 1024 /* records decoded per refill */

struct champsim_state {
    struct mm_event pending[7]; /* events of a record not yet handed out */
    unsigned npending, next_pending;
};

/* Expands one record into out (up to 7 events); returns the count or -1 if implausible. */
static int expand(const unsigned char *rec, struct mm_event *out)
{
    if (rec[8] > 1 || rec[9] > 1)
        return -1;
    int n = 0;
    memset(out, 0, sizeof *out);
    out[0].addr = get_le64(rec);
    out[0].size = CHAMPSIM_FETCH_SIZE;
    out[0].type = MM_EV_IFETCH;
    out[0].gap = 1;
    n = 1;
    for (int i = 0; i < 4; i++) {
        uint64_t a = get_le64(rec + 32 + 8 * i);
        if (a) {
            memset(&out[n], 0, sizeof out[n]);
            out[n].addr = a;
            out[n].size = CHAMPSIM_DATA_SIZE;
            out[n].type = MM_EV_READ;
            n++;
        }
    }
    for (int i = 0; i < 2; i++) {
        uint64_t a = get_le64(rec + 16 + 8 * i);
        if (a) {
            memset(&out[n], 0, sizeof out[n]);
            out[n].addr = a;
            out[n].size = CHAMPSIM_DATA_SIZE;
            out[n].type = MM_EV_WRITE;
            n++;
        }
    }
    return n;
}

static long champsim_read(trace_reader *r, struct mm_event *ev, size_t max, mm_err *err)
{
    struct champsim_state *st = r->state;
    size_t n = 0;
    while (n < max && st->next_pending < st->npending)
        ev[n++] = st->pending[st->next_pending++];
    while (n < max) {
        size_t avail;
        const unsigned char *p = cio_peek(r->in, CHAMPSIM_RECORD * CHAMPSIM_BATCH, &avail, err);
        if (!p)
            return reader_fail(r, n);
        if (avail == 0)
            break;
        if (avail < CHAMPSIM_RECORD) {
            mm_errf(err, "%s: offset %llu: truncated ChampSim record (%zu of %d bytes)",
                    cio_path(r->in), (unsigned long long)cio_offset(r->in), avail,
                    CHAMPSIM_RECORD);
            return reader_fail(r, n);
        }
        size_t used = 0;
        while (used + CHAMPSIM_RECORD <= avail && n < max) {
            const unsigned char *rec = p + used;
            uint64_t off = cio_offset(r->in) + used;
            used += CHAMPSIM_RECORD;
            int k;
            if (max - n >= 7) {
                k = expand(rec, ev + n);
                if (k > 0) {
                    n += (size_t)k;
                    r->instructions++;
                    continue;
                }
            } else {
                k = expand(rec, st->pending);
                if (k > 0) {
                    st->npending = (unsigned)k;
                    st->next_pending = 0;
                    while (n < max && st->next_pending < st->npending)
                        ev[n++] = st->pending[st->next_pending++];
                    r->instructions++;
                    continue;
                }
            }
            if (!r->keep_going) {
                cio_consume(r->in, used - CHAMPSIM_RECORD);
                mm_errf(err, "%s: offset %llu: expected is_branch and branch_taken of 0 or 1, got "
                             "%u and %u (not a ChampSim record?)",
                        cio_path(r->in), (unsigned long long)off, rec[8], rec[9]);
                return reader_fail(r, n);
            }
            r->bad_records++;
        }
        cio_consume(r->in, used);
    }
    return (long)n;
}

static void champsim_close(trace_reader *r)
{
    free(r->state);
}

static const struct trace_reader_ops champsim_ops = {champsim_read, NULL, champsim_close};

int champsim_reader_init(trace_reader *r, mm_err *err)
{
    (void)err;
    r->state = xcalloc(1, sizeof(struct champsim_state));
    r->ops = &champsim_ops;
    return 0;
}

int champsim_plausible(const unsigned char *p, size_t n, int at_end)
{
    if (n < CHAMPSIM_RECORD || (at_end && n % CHAMPSIM_RECORD))
        return 0;
    for (size_t off = 0; off + CHAMPSIM_RECORD <= n; off += CHAMPSIM_RECORD) {
        const unsigned char *rec = p + off;
        if (rec[8] > 1 || rec[9] > 1 || get_le64(rec) == 0)
            return 0;
        /* user-space addresses fit in 57 bits (5-level paging); anything above is not an address */
        for (int i = 0; i < 7; i++)
            if (get_le64(rec + (i ? 8 + 8 * i : 0)) >> 57)
                return 0;
    }
    return 1;
}
