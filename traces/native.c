/* The native format (traces/FORMAT.md): chunked, each chunk compressed on its own and checksummed,
 * records delta- and varint-encoded. The reader decompresses chunks ahead on worker threads while
 * the caller's thread turns payload bytes into events. */
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include "models/common/xalloc.h"
#include "traces/native_format.h"
#include "traces/reader.h"

/* ===================== record codec ===================== */

/* Encoder and decoder state; reset at the start of every chunk so chunks decode independently.
 * Each stream (data, instruction fetch) keeps REC_SLOTS previous addresses; a record names the
 * slot its delta is taken from and replaces it, so interleaved regions (stack, heap, a streaming
 * array, a hot table) each keep a near base. */
struct codec_state {
    uint64_t prev[2][REC_SLOTS]; /* [0] data, [1] instruction fetches */
    uint32_t gap[2];
    uint32_t pid;
    uint16_t cpu;
    /* encoder only: how useful each slot has been, to pick which one a far access replaces */
    uint8_t score[2][REC_SLOTS];
    uint32_t far[2];
};

static void codec_reset(struct codec_state *s)
{
    memset(s, 0, sizeof *s);
}

static int size_code(uint32_t size)
{
    if (size && size <= 64 && !(size & (size - 1)))
        return __builtin_ctz(size);
    return REC_SIZE_EXPLICIT;
}

static unsigned varint_len(uint64_t v)
{
    return v < 0x80 ? 1u : (63u - (unsigned)__builtin_clzll(v)) / 7u + 1u;
}

/* Encoder policy (the decoder just follows the slot numbers): the slot giving the shortest delta
 * if that is at most 3 bytes; otherwise the least useful slot, so one-off far jumps do not evict
 * the bases of busy regions. Scores are halved now and then so stale regions age out. */
static unsigned pick_slot(struct codec_state *s, unsigned st, uint64_t addr)
{
    unsigned best = 0, best_len = 99;
    for (unsigned k = 0; k < REC_SLOTS; k++) {
        unsigned len = varint_len(zigzag((int64_t)(addr - s->prev[st][k])));
        if (len < best_len) {
            best_len = len;
            best = k;
        }
    }
    uint8_t *score = s->score[st];
    if (best_len <= 3) {
        if (score[best] < 255)
            score[best]++;
        return best;
    }
    unsigned victim = 0;
    for (unsigned k = 1; k < REC_SLOTS; k++)
        if (score[k] < score[victim])
            victim = k;
    score[victim] = 0;
    if ((++s->far[st] & 255) == 0)
        for (unsigned k = 0; k < REC_SLOTS; k++)
            score[k] >>= 1;
    return victim;
}

/* Appends one record; returns the new end. */
static unsigned char *encode_record(unsigned char *o, const struct mm_event *e, struct codec_state *s)
{
    if (e->type < 4 && !e->len && !e->arg && !e->flags && !e->file && !e->reserved) {
        unsigned st = e->type == MM_EV_IFETCH;
        int sc = size_code(e->size);
        unsigned slot = pick_slot(s, st, e->addr);
        unsigned h = e->type | ((unsigned)sc << REC_SIZE_SHIFT) | (slot << REC_SLOT_SHIFT);
        unsigned x = (e->cpu != s->cpu || e->pid != s->pid ? EXT_CTX : 0) |
                     (e->gap != s->gap[st] ? EXT_GAP : 0);
        if (x) {
            *o++ = (unsigned char)(h | REC_EXT);
            *o++ = (unsigned char)x;
        } else {
            *o++ = (unsigned char)h;
        }
        if (x & EXT_CTX) {
            o = put_varint(o, e->cpu);
            o = put_varint(o, e->pid);
            s->cpu = e->cpu;
            s->pid = e->pid;
        }
        if (sc == REC_SIZE_EXPLICIT)
            o = put_varint(o, e->size);
        if (x & EXT_GAP) {
            o = put_varint(o, e->gap);
            s->gap[st] = e->gap;
        }
        o = put_varint(o, zigzag((int64_t)(e->addr - s->prev[st][slot])));
        s->prev[st][slot] = e->addr;
        return o;
    }
    /* tagged: every non-zero field, absolute; touches no codec state */
    unsigned mask = (e->addr ? TF_ADDR : 0) | (e->len ? TF_LEN : 0) | (e->arg ? TF_ARG : 0) |
                    (e->pid ? TF_PID : 0) | (e->gap ? TF_GAP : 0) | (e->size ? TF_SIZE : 0) |
                    (e->flags ? TF_FLAGS : 0) | (e->file ? TF_FILE : 0) | (e->cpu ? TF_CPU : 0) |
                    (e->reserved ? TF_RESERVED : 0);
    *o++ = REC_EXT;
    *o++ = EXT_TAGGED;
    *o++ = e->type;
    o = put_varint(o, mask);
    if (mask & TF_ADDR)
        o = put_varint(o, e->addr);
    if (mask & TF_LEN)
        o = put_varint(o, e->len);
    if (mask & TF_ARG)
        o = put_varint(o, e->arg);
    if (mask & TF_PID)
        o = put_varint(o, e->pid);
    if (mask & TF_GAP)
        o = put_varint(o, e->gap);
    if (mask & TF_SIZE)
        o = put_varint(o, e->size);
    if (mask & TF_FLAGS)
        o = put_varint(o, e->flags);
    if (mask & TF_FILE)
        o = put_varint(o, e->file);
    if (mask & TF_CPU)
        o = put_varint(o, e->cpu);
    if (mask & TF_RESERVED)
        o = put_varint(o, e->reserved);
    return o;
}

/* Varint decode, the slow general path: up to 10 bytes; an over-long or over-large varint sets
 * *bad. The payload is padded with zeros so reads past its end stop within a byte and are caught
 * by the caller's bounds check. */
static uint64_t get_varint_slow(const unsigned char **pp, int *bad)
{
    const unsigned char *p = *pp;
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint64_t b = *p++;
        if (shift == 63 && b > 1) {
            *bad = 1;
            break;
        }
        v |= (b & 0x7f) << shift;
        if (b < 0x80)
            break;
        if (shift == 63) {
            *bad = 1;
            break;
        }
    }
    *pp = p;
    return v;
}

/* Varint decode without data-dependent branches for values of up to 8 bytes (56 bits): the length
 * comes from the first byte whose top bit is clear, and the 7-bit groups are squeezed together
 * with three mask-and-shift steps. Needs 8 readable bytes at *pp (the payload padding). */
static inline uint64_t get_varint(const unsigned char **pp, int *bad)
{
    uint64_t w;
    memcpy(&w, *pp, 8);
    uint64_t stops = ~w & 0x8080808080808080ULL;
    if (__builtin_expect(stops == 0, 0))
        return get_varint_slow(pp, bad);
    unsigned bits = (unsigned)__builtin_ctzll(stops) + 1; /* 8 * length */
    *pp += bits >> 3;
    uint64_t x = bits == 64 ? w : w & ((1ULL << bits) - 1);
    x = (x & 0x007f007f007f007fULL) | ((x & 0x7f007f007f007f00ULL) >> 1);
    x = (x & 0x00003fff00003fffULL) | ((x & 0x3fff00003fff0000ULL) >> 2);
    x = (x & 0x000000000fffffffULL) | ((x & 0x0fffffff00000000ULL) >> 4);
    return x;
}

/* ===================== reader ===================== */

enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_WORKING, SLOT_DONE, SLOT_FAILED, SLOT_READ_FAILED };

struct chunk_hdr {
    uint32_t records;
    uint64_t first_record;
    uint64_t first_instr;
    uint64_t instr;
    uint32_t raw_size;
    uint32_t stored_size;
    uint64_t checksum;
};

struct slot {
    struct chunk_hdr h;
    uint64_t chunk_no;
    uint64_t offset; /* of the chunk header in the (decompressed) file stream */
    unsigned char *stored;
    size_t stored_cap;
    unsigned char *raw;
    size_t raw_cap;
    enum slot_state state;
    mm_err err;
};

struct dctx { /* one per decompressing thread */
    ZSTD_DCtx *zstd;
    z_stream z;
    int z_ready;
};

#define NSLOTS 4
#define MAX_WORKERS 4

struct native_reader {
    trace_reader *r;
    const char *path;
    struct slot slots[NSLOTS];
    unsigned head;     /* slot being decoded (or next to decode) */
    unsigned inflight; /* slots read and not yet released, starting at head */
    unsigned work_next; /* next slot (absolute sequence number) for the workers */
    unsigned submitted; /* absolute sequence number of slots submitted */
    uint64_t chunks_read;
    uint64_t next_first_record; /* what the next chunk header must say */
    uint64_t next_first_instr;
    int at_index; /* the index was reached: no more chunks */
    unsigned char *seen; /* an index entry per chunk read, to check the index against */
    size_t seen_cap;
    int end_failed;
    mm_err end_err;

    /* decode cursor over slots[head] */
    int cursor_live;
    const unsigned char *p, *end;
    uint32_t left; /* records left in the current chunk */
    struct codec_state cs;
    uint64_t instr_base; /* instructions before the current chunk */

    /* threads */
    int nworkers;
    pthread_t workers[MAX_WORKERS];
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    int stop;
    struct dctx inline_ctx;
};

static void dctx_init(struct dctx *d)
{
    d->zstd = ZSTD_createDCtx();
    memset(&d->z, 0, sizeof d->z);
    d->z_ready = inflateInit2(&d->z, 15 + 16) == Z_OK;
}

static void dctx_free(struct dctx *d)
{
    if (d->zstd)
        ZSTD_freeDCtx(d->zstd);
    if (d->z_ready)
        inflateEnd(&d->z);
}

static const char *hex64(uint64_t v, char buf[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, v >>= 4)
        buf[i] = hex[v & 15];
    buf[16] = 0;
    return buf;
}

/* Decompresses and verifies one chunk's payload (any thread); returns SLOT_DONE or SLOT_FAILED for
 * the caller to store (under the lock when threads run). */
static enum slot_state decompress_slot(struct native_reader *nr, struct slot *s, struct dctx *d)
{
    const struct chunk_hdr *h = &s->h;
    size_t raw = h->raw_size;
    enum trace_compression codec = cio_detect_magic(s->stored, h->stored_size);
    const char *what = NULL;
    switch (codec) {
    case TRACE_COMP_NONE:
        if (h->stored_size != raw + 4 || memcmp(s->stored, NATIVE_RAW_MAGIC, 4)) {
            what = "unknown payload codec (no gzip, xz, zstd or stored magic)";
            break;
        }
        memcpy(s->raw, s->stored + 4, raw);
        break;
    case TRACE_COMP_ZSTD: {
        size_t got = ZSTD_decompressDCtx(d->zstd, s->raw, raw, s->stored, h->stored_size);
        if (ZSTD_isError(got))
            what = ZSTD_getErrorName(got);
        else if (got != raw)
            what = "payload shorter than its header says";
        break;
    }
    case TRACE_COMP_GZIP: {
        if (!d->z_ready) {
            what = "no gzip decoder";
            break;
        }
        inflateReset(&d->z);
        d->z.next_in = s->stored;
        d->z.avail_in = h->stored_size;
        d->z.next_out = s->raw;
        d->z.avail_out = (uInt)raw;
        int ret = inflate(&d->z, Z_FINISH);
        if (ret != Z_STREAM_END)
            what = d->z.msg ? d->z.msg : "gzip payload does not end where its header says";
        else if (d->z.avail_out != 0 || d->z.avail_in != 0)
            what = "payload size differs from its header";
        break;
    }
    case TRACE_COMP_XZ: {
        uint64_t memlimit = UINT64_MAX;
        size_t in_pos = 0, out_pos = 0;
        lzma_ret ret = lzma_stream_buffer_decode(&memlimit, 0, NULL, s->stored, &in_pos,
                                                 h->stored_size, s->raw, &out_pos, raw);
        if (ret != LZMA_OK)
            what = "xz payload damaged";
        else if (out_pos != raw || in_pos != h->stored_size)
            what = "payload size differs from its header";
        break;
    }
    }
    if (what) {
        mm_errf(&s->err, "%s: chunk %llu at offset %llu: corrupt %s payload (%s)", nr->path,
                (unsigned long long)s->chunk_no, (unsigned long long)s->offset,
                trace_compression_name(codec), what);
        return SLOT_FAILED;
    }
    uint64_t sum = XXH3_64bits(s->raw, raw);
    if (sum != h->checksum) {
        char a[17], b[17];
        mm_errf(&s->err,
                "%s: chunk %llu at offset %llu: payload checksum mismatch (header %s, data %s)",
                nr->path, (unsigned long long)s->chunk_no, (unsigned long long)s->offset,
                hex64(h->checksum, a), hex64(sum, b));
        return SLOT_FAILED;
    }
    memset(s->raw + raw, 0, NATIVE_PAD);
    return SLOT_DONE;
}

static void *worker_main(void *arg)
{
    struct native_reader *nr = arg;
    struct dctx d;
    dctx_init(&d);
    pthread_mutex_lock(&nr->mu);
    for (;;) {
        while (!nr->stop && nr->work_next == nr->submitted)
            pthread_cond_wait(&nr->work_cv, &nr->mu);
        if (nr->stop)
            break;
        struct slot *s = &nr->slots[nr->work_next % NSLOTS];
        nr->work_next++;
        if (s->state != SLOT_PENDING)
            continue; /* cancelled by a skip, or failed while being read */
        s->state = SLOT_WORKING;
        pthread_mutex_unlock(&nr->mu);
        enum slot_state done = decompress_slot(nr, s, &d);
        pthread_mutex_lock(&nr->mu);
        s->state = done;
        pthread_cond_broadcast(&nr->done_cv);
    }
    pthread_mutex_unlock(&nr->mu);
    dctx_free(&d);
    return NULL;
}

static void ensure_cap(unsigned char **buf, size_t *cap, size_t need)
{
    if (*cap < need) {
        free(*buf);
        *cap = need + need / 4;
        *buf = xmalloc(*cap);
    }
}

static int parse_chunk_hdr(struct native_reader *nr, const unsigned char *b, uint64_t off,
                           struct chunk_hdr *h, mm_err *err)
{
    unsigned long long chunk = (unsigned long long)nr->chunks_read;
    if (memcmp(b, NATIVE_CHUNK_MAGIC, 4))
        return mm_errf(err, "%s: chunk %llu at offset %llu: bad chunk magic (damaged chunk header)",
                       nr->path, chunk, (unsigned long long)off);
    h->records = get_le32(b + 4);
    h->first_record = get_le64(b + 8);
    h->first_instr = get_le64(b + 16);
    h->instr = get_le64(b + 24);
    h->raw_size = get_le32(b + 32);
    h->stored_size = get_le32(b + 36);
    h->checksum = get_le64(b + 40);
    if (h->records == 0 || h->records > NATIVE_CHUNK_RECORDS_MAX || h->raw_size > NATIVE_CHUNK_RAW_MAX ||
        h->stored_size > NATIVE_CHUNK_RAW_MAX + (NATIVE_CHUNK_RAW_MAX >> 4) || h->stored_size < 4 ||
        h->raw_size < h->records)
        return mm_errf(err, "%s: chunk %llu at offset %llu: damaged chunk header (records %u, sizes "
                            "%u/%u out of range)",
                       nr->path, chunk, (unsigned long long)off, h->records, h->raw_size,
                       h->stored_size);
    if (h->first_record != nr->next_first_record || h->first_instr != nr->next_first_instr)
        return mm_errf(err, "%s: chunk %llu at offset %llu: chunk header says it starts at record "
                            "%llu, instruction %llu; expected %llu, %llu (damaged or chunks out of "
                            "order)",
                       nr->path, chunk, (unsigned long long)off,
                       (unsigned long long)h->first_record, (unsigned long long)h->first_instr,
                       (unsigned long long)nr->next_first_record,
                       (unsigned long long)nr->next_first_instr);
    return 0;
}

/* Reads and checks the index and trailer after the last chunk; ib holds the index's first 4 bytes
 * (already read). Problems become a deferred error, reported once the records before are used. */
static void read_index(struct native_reader *nr, uint64_t off)
{
    cio_reader *in = nr->r->in;
    mm_err *err = &nr->end_err;
    unsigned char b[NATIVE_TRAILER];
    nr->at_index = 1;
    long long got = cio_read(in, b, 4, err);
    if (got < 0)
        goto failed;
    if (got < 4) {
        mm_errf(err, "%s: offset %llu: truncated index (the file ends inside it)", nr->path,
                (unsigned long long)cio_offset(in));
        goto failed;
    }
    uint32_t n = get_le32(b);
    if (n != nr->chunks_read) {
        mm_errf(err, "%s: offset %llu: index lists %u chunks but the file holds %llu", nr->path,
                (unsigned long long)off, n, (unsigned long long)nr->chunks_read);
        goto failed;
    }
    XXH3_state_t *st = XXH3_createState();
    XXH3_64bits_reset(st);
    for (uint32_t i = 0; i < n; i++) {
        unsigned char e[NATIVE_INDEX_ENTRY];
        got = cio_read(in, e, sizeof e, err);
        if (got >= 0 && got < (long long)sizeof e)
            mm_errf(err, "%s: offset %llu: truncated index (the file ends inside it)", nr->path,
                    (unsigned long long)cio_offset(in));
        if (got < (long long)sizeof e) {
            XXH3_freeState(st);
            goto failed;
        }
        XXH3_64bits_update(st, e, sizeof e);
        if (memcmp(e, nr->seen + (size_t)i * NATIVE_INDEX_ENTRY, sizeof e)) {
            mm_errf(err, "%s: offset %llu: index entry %u does not match chunk %u (damaged index)",
                    nr->path, (unsigned long long)off, i, i);
            XXH3_freeState(st);
            goto failed;
        }
    }
    uint64_t sum = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    got = cio_read(in, b, 8, err);
    if (got >= 0 && got < 8)
        mm_errf(err, "%s: offset %llu: truncated index (the file ends inside it)", nr->path,
                (unsigned long long)cio_offset(in));
    if (got < 8)
        goto failed;
    if (get_le64(b) != sum) {
        mm_errf(err, "%s: offset %llu: index checksum mismatch (damaged index)", nr->path,
                (unsigned long long)off);
        goto failed;
    }
    uint64_t toff = cio_offset(in);
    got = cio_read(in, b, NATIVE_TRAILER, err);
    if (got >= 0 && got < NATIVE_TRAILER)
        mm_errf(err, "%s: offset %llu: truncated trailer (the file ends inside it)", nr->path,
                (unsigned long long)toff);
    if (got < NATIVE_TRAILER)
        goto failed;
    if (memcmp(b + 32, NATIVE_TRAILER_MAGIC, 8) || get_le64(b) != off ||
        get_le64(b + 8) != nr->next_first_record || get_le64(b + 16) != nr->next_first_instr ||
        get_le64(b + 24) != nr->chunks_read) {
        mm_errf(err, "%s: offset %llu: damaged trailer (it does not match the chunks read)",
                nr->path, (unsigned long long)toff);
        goto failed;
    }
    nr->r->total_records = nr->next_first_record;
    size_t avail;
    if (!cio_peek(in, 1, &avail, err))
        goto failed;
    if (avail) {
        mm_errf(err, "%s: offset %llu: unexpected data after the trailer", nr->path,
                (unsigned long long)cio_offset(in));
        goto failed;
    }
    return;
failed:
    nr->end_failed = 1;
}

/* Reads the next chunk header into h; 1 chunk, 0 reached the index, -1 error. */
static int read_chunk_hdr(struct native_reader *nr, struct chunk_hdr *h, uint64_t *off, mm_err *err)
{
    cio_reader *in = nr->r->in;
    unsigned char b[NATIVE_CHUNK_HDR];
    *off = cio_offset(in);
    long long got = cio_read(in, b, 4, err);
    if (got < 0)
        return -1;
    if (got < 4)
        return mm_errf(err, "%s: offset %llu: truncated trace: expected chunk %llu or the index, "
                            "the file ends (was it cut short?)",
                       nr->path, (unsigned long long)*off, (unsigned long long)nr->chunks_read);
    if (!memcmp(b, NATIVE_INDEX_MAGIC, 4)) {
        read_index(nr, *off);
        return 0;
    }
    got = cio_read(in, b + 4, NATIVE_CHUNK_HDR - 4, err);
    if (got < 0)
        return -1;
    if (got < NATIVE_CHUNK_HDR - 4)
        return mm_errf(err, "%s: chunk %llu at offset %llu: truncated chunk header", nr->path,
                       (unsigned long long)nr->chunks_read, (unsigned long long)*off);
    if (parse_chunk_hdr(nr, b, *off, h, err) < 0)
        return -1;
    size_t at = (size_t)nr->chunks_read * NATIVE_INDEX_ENTRY;
    if (at + NATIVE_INDEX_ENTRY > nr->seen_cap) {
        nr->seen_cap = nr->seen_cap ? 2 * nr->seen_cap : 64 * NATIVE_INDEX_ENTRY;
        nr->seen = xrealloc(nr->seen, nr->seen_cap);
    }
    put_le64(nr->seen + at, *off);
    put_le64(nr->seen + at + 8, h->first_record);
    put_le64(nr->seen + at + 16, h->first_instr);
    nr->next_first_record += h->records;
    nr->next_first_instr += h->instr;
    return 1;
}

/* Hands a read slot to the workers (or to settle_head when there are none). */
static void submit_slot(struct native_reader *nr, struct slot *s, enum slot_state state)
{
    nr->inflight++;
    if (nr->nworkers) {
        pthread_mutex_lock(&nr->mu);
        s->state = state;
        nr->submitted++;
        pthread_cond_signal(&nr->work_cv);
        pthread_mutex_unlock(&nr->mu);
    } else {
        s->state = state;
    }
}

static void set_slot_state(struct native_reader *nr, struct slot *s, enum slot_state state)
{
    if (nr->nworkers)
        pthread_mutex_lock(&nr->mu);
    s->state = state;
    if (nr->nworkers)
        pthread_mutex_unlock(&nr->mu);
}

/* Reads one more chunk (header and stored payload) into the next free slot and hands it to the
 * workers. 1 read, 0 no more chunks. Read errors are parked in the slot. */
static int fill_one(struct native_reader *nr)
{
    if (nr->at_index)
        return 0;
    struct slot *s = &nr->slots[(nr->head + nr->inflight) % NSLOTS];
    uint64_t off;
    int rc = read_chunk_hdr(nr, &s->h, &off, &s->err);
    if (rc == 0)
        return 0;
    s->chunk_no = nr->chunks_read++;
    s->offset = off;
    if (rc > 0) {
        ensure_cap(&s->stored, &s->stored_cap, s->h.stored_size);
        ensure_cap(&s->raw, &s->raw_cap, (size_t)s->h.raw_size + NATIVE_PAD);
        long long got = cio_read(nr->r->in, s->stored, s->h.stored_size, &s->err);
        if (got >= 0 && got < s->h.stored_size) {
            mm_errf(&s->err, "%s: chunk %llu at offset %llu: truncated payload (%lld of %u bytes; "
                             "the file ends inside the chunk)",
                    nr->path, (unsigned long long)s->chunk_no, (unsigned long long)off, got,
                    s->h.stored_size);
            got = -1;
        }
        if (got < 0)
            rc = -1;
    }
    if (rc < 0)
        nr->at_index = 1; /* nothing can be read after a broken chunk */
    submit_slot(nr, s, rc < 0 ? SLOT_READ_FAILED : SLOT_PENDING);
    return 1;
}

static void fill_ahead(struct native_reader *nr)
{
    unsigned depth = nr->nworkers ? NSLOTS : 1;
    while (nr->inflight < depth && fill_one(nr))
        ;
}

/* Waits until the head slot is no longer being worked on (or decompresses it here). */
static void settle_head(struct native_reader *nr)
{
    struct slot *s = &nr->slots[nr->head];
    if (!nr->nworkers) {
        if (s->state == SLOT_PENDING)
            s->state = decompress_slot(nr, s, &nr->inline_ctx);
        return;
    }
    pthread_mutex_lock(&nr->mu);
    while (s->state == SLOT_PENDING || s->state == SLOT_WORKING)
        pthread_cond_wait(&nr->done_cv, &nr->mu);
    pthread_mutex_unlock(&nr->mu);
}

static void release_head(struct native_reader *nr)
{
    set_slot_state(nr, &nr->slots[nr->head], SLOT_FREE);
    nr->head = (nr->head + 1) % NSLOTS;
    nr->inflight--;
    nr->cursor_live = 0;
}

/* Makes the cursor point at the next chunk. 1 ready, 0 clean end, -1 error. */
static int next_chunk(struct native_reader *nr, mm_err *err)
{
    if (nr->cursor_live)
        release_head(nr);
    fill_ahead(nr);
    if (nr->inflight == 0) {
        if (nr->end_failed) {
            *err = nr->end_err;
            return -1;
        }
        return 0;
    }
    settle_head(nr);
    struct slot *s = &nr->slots[nr->head];
    if (s->state != SLOT_DONE) {
        *err = s->err;
        return -1;
    }
    nr->cursor_live = 1;
    nr->r->chunk_comp = (int)cio_detect_magic(s->stored, s->h.stored_size);
    nr->p = s->raw;
    nr->end = s->raw + s->h.raw_size;
    nr->left = s->h.records;
    nr->instr_base = s->h.first_instr;
    codec_reset(&nr->cs);
    return 1;
}

static int decode_error(struct native_reader *nr, const char *what, mm_err *err)
{
    const struct slot *s = &nr->slots[nr->head];
    return mm_errf(err, "%s: chunk %llu at offset %llu: record %llu: %s", nr->path,
                   (unsigned long long)s->chunk_no, (unsigned long long)s->offset,
                   (unsigned long long)(s->h.first_record + s->h.records - nr->left), what);
}

/* Decodes up to max records of the current chunk. */
static long decode_batch(struct native_reader *nr, struct mm_event *ev, size_t max, mm_err *err)
{
    size_t n = max < nr->left ? max : nr->left;
    const unsigned char *p = nr->p, *end = nr->end;
    struct codec_state cs = nr->cs;
    uint64_t instr = 0;
    int bad = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        struct mm_event *e = &ev[i];
        uint64_t w;
        memcpy(&w, p, 8);
        unsigned h = (unsigned)(w & 0xff);
        /* Common case: no extension, implicit size, delta of at most 7 bytes. Header and delta
         * come from one load, which keeps the serial load-length-advance chain short. */
        uint64_t v = w >> 8;
        uint64_t stops = ~v & 0x0080808080808080ULL;
        if (__builtin_expect((h & (REC_EXT | (REC_SIZE_EXPLICIT << REC_SIZE_SHIFT))) !=
                                     (REC_SIZE_EXPLICIT << REC_SIZE_SHIFT) &&
                                 !(h & REC_EXT) && stops != 0,
                             1)) {
            unsigned bits = (unsigned)__builtin_ctzll(stops) + 1;
            p += 1 + (bits >> 3);
            uint64_t d = v & ((1ULL << bits) - 1);
            d = (d & 0x007f007f007f007fULL) | ((d & 0x7f007f007f007f00ULL) >> 1);
            d = (d & 0x00003fff00003fffULL) | ((d & 0x3fff00003fff0000ULL) >> 2);
            d = (d & 0x000000000fffffffULL) | ((d & 0x0fffffff00000000ULL) >> 4);
            unsigned t = h & REC_TYPE_MASK;
            unsigned st = t == MM_EV_IFETCH;
            unsigned slot = (h >> REC_SLOT_SHIFT) & (REC_SLOTS - 1);
            uint64_t addr = cs.prev[st][slot] + unzigzag(d);
            cs.prev[st][slot] = addr;
            e->addr = addr;
            e->len = 0;
            e->arg = 0;
            e->pid = cs.pid;
            e->gap = cs.gap[st];
            e->size = 1u << ((h >> REC_SIZE_SHIFT) & 7u);
            e->flags = 0;
            e->file = 0;
            e->cpu = cs.cpu;
            e->type = (uint8_t)t;
            e->reserved = 0;
            instr += cs.gap[st];
            if (__builtin_expect(p > end, 0))
                break;
            continue;
        }
        p++;
        unsigned x = 0;
        if (__builtin_expect(h & REC_EXT, 0)) {
            x = *p++;
            if (x & EXT_TAGGED) {
                if (h != REC_EXT || x != EXT_TAGGED) {
                    bad = 1;
                    break;
                }
                unsigned type = *p++;
                uint64_t mask = get_varint(&p, &bad);
                uint64_t f[10];
                for (unsigned k = 0; k < 10; k++)
                    f[k] = (mask >> k) & 1 ? get_varint(&p, &bad) : 0;
                bad |= mask > TF_ALL || f[3] > UINT32_MAX || f[4] > UINT32_MAX ||
                       f[5] > UINT32_MAX || f[6] > UINT32_MAX || f[7] > UINT32_MAX ||
                       f[8] > UINT16_MAX || f[9] > UINT8_MAX;
                e->addr = f[0];
                e->len = f[1];
                e->arg = f[2];
                e->pid = (uint32_t)f[3];
                e->gap = (uint32_t)f[4];
                e->size = (uint32_t)f[5];
                e->flags = (uint32_t)f[6];
                e->file = (uint32_t)f[7];
                e->cpu = (uint16_t)f[8];
                e->type = (uint8_t)type;
                e->reserved = (uint8_t)f[9];
                instr += e->gap;
                if (__builtin_expect(p > end || bad, 0))
                    break;
                continue;
            }
            if (x & ~(EXT_GAP | EXT_CTX)) {
                bad = 1;
                break;
            }
            if (x & EXT_CTX) {
                uint64_t cpu = get_varint(&p, &bad);
                uint64_t pid = get_varint(&p, &bad);
                bad |= cpu > UINT16_MAX || pid > UINT32_MAX;
                cs.cpu = (uint16_t)cpu;
                cs.pid = (uint32_t)pid;
            }
        }
        unsigned t = h & REC_TYPE_MASK;
        unsigned st = t == MM_EV_IFETCH;
        unsigned sc = (h >> REC_SIZE_SHIFT) & 7u;
        unsigned slot = (h >> REC_SLOT_SHIFT) & (REC_SLOTS - 1);
        uint32_t size = 1u << sc;
        if (__builtin_expect(sc == REC_SIZE_EXPLICIT, 0)) {
            uint64_t v = get_varint(&p, &bad);
            bad |= v > UINT32_MAX;
            size = (uint32_t)v;
        }
        if (__builtin_expect(x & EXT_GAP, 0)) {
            uint64_t v = get_varint(&p, &bad);
            bad |= v > UINT32_MAX;
            cs.gap[st] = (uint32_t)v;
        }
        uint64_t addr = cs.prev[st][slot] + unzigzag(get_varint(&p, &bad));
        cs.prev[st][slot] = addr;
        e->addr = addr;
        e->len = 0;
        e->arg = 0;
        e->pid = cs.pid;
        e->gap = cs.gap[st];
        e->size = size;
        e->flags = 0;
        e->file = 0;
        e->cpu = cs.cpu;
        e->type = (uint8_t)t;
        e->reserved = 0;
        instr += cs.gap[st];
        if (__builtin_expect(p > end || bad, 0))
            break;
    }
    if (__builtin_expect(i < n, 0)) {
        nr->left -= (uint32_t)i;
        return decode_error(nr, bad ? "malformed record" : "record runs past the chunk payload",
                            err);
    }
    nr->p = p;
    nr->cs = cs;
    nr->left -= (uint32_t)n;
    nr->r->instructions += instr;
    if (nr->left == 0 && p != end)
        return decode_error(nr, "payload has bytes after the last record", err);
    return (long)n;
}

static long native_read(trace_reader *r, struct mm_event *ev, size_t max, mm_err *err)
{
    struct native_reader *nr = r->state;
    size_t done = 0;
    while (done < max) {
        if (!nr->cursor_live || nr->left == 0) {
            if (done)
                break; /* hand out what we have before blocking on the next chunk */
            int rc = next_chunk(nr, err);
            if (rc <= 0)
                return rc;
        }
        long k = decode_batch(nr, ev + done, max - done, err);
        if (k < 0)
            return -1;
        done += (size_t)k;
    }
    return (long)done;
}

static long long native_skip(trace_reader *r, unsigned long long n, mm_err *err)
{
    struct native_reader *nr = r->state;
    unsigned long long done = 0;
    /* the rest of the chunk being decoded */
    if (nr->cursor_live && nr->left && n - done >= nr->left) {
        done += nr->left;
        r->instructions = nr->slots[nr->head].h.first_instr + nr->slots[nr->head].h.instr;
        nr->left = 0;
    }
    if (nr->cursor_live && nr->left == 0)
        release_head(nr);
    /* whole chunks: those already read ahead, then header by header without decompressing */
    while (!nr->cursor_live && done < n) {
        if (nr->inflight) {
            struct slot *s = &nr->slots[nr->head];
            /* read failures are set by this thread and never touched by workers */
            if (nr->nworkers)
                pthread_mutex_lock(&nr->mu);
            int read_failed = s->state == SLOT_READ_FAILED;
            if (nr->nworkers)
                pthread_mutex_unlock(&nr->mu);
            if (read_failed) {
                *err = s->err;
                return -1;
            }
            if (s->h.records > n - done)
                break;
            if (nr->nworkers) {
                pthread_mutex_lock(&nr->mu);
                if (s->state == SLOT_PENDING)
                    s->state = SLOT_FREE; /* cancel: the worker passes over it */
                while (s->state == SLOT_WORKING)
                    pthread_cond_wait(&nr->done_cv, &nr->mu);
                pthread_mutex_unlock(&nr->mu);
            }
            done += s->h.records;
            r->instructions = s->h.first_instr + s->h.instr;
            release_head(nr);
            continue;
        }
        if (nr->at_index)
            break;
        /* peek at the next header; skip its payload if the whole chunk goes */
        struct chunk_hdr h;
        uint64_t off;
        int rc = read_chunk_hdr(nr, &h, &off, err);
        if (rc < 0)
            return -1;
        if (rc == 0)
            break;
        if (h.records > n - done) {
            /* needed in part: read its payload into a slot and decode from there */
            struct slot *s = &nr->slots[nr->head];
            s->h = h;
            s->chunk_no = nr->chunks_read++;
            s->offset = off;
            ensure_cap(&s->stored, &s->stored_cap, h.stored_size);
            ensure_cap(&s->raw, &s->raw_cap, (size_t)h.raw_size + NATIVE_PAD);
            long long got = cio_read(r->in, s->stored, h.stored_size, err);
            if (got >= 0 && got < h.stored_size)
                mm_errf(err, "%s: chunk %llu at offset %llu: truncated payload", nr->path,
                        (unsigned long long)s->chunk_no, (unsigned long long)off);
            if (got < h.stored_size)
                return -1;
            submit_slot(nr, s, SLOT_PENDING);
            break;
        }
        long long sk = cio_skip(r->in, h.stored_size, err);
        if (sk < 0)
            return -1;
        if ((uint64_t)sk < h.stored_size)
            return mm_errf(err, "%s: chunk %llu at offset %llu: truncated payload (the file ends "
                                "inside the chunk)",
                           nr->path, (unsigned long long)nr->chunks_read, (unsigned long long)off);
        nr->chunks_read++;
        done += h.records;
        r->instructions = h.first_instr + h.instr;
    }
    /* what is left falls inside one chunk: decode and drop */
    struct mm_event buf[256];
    while (done < n) {
        unsigned long long want = n - done;
        long k = native_read(r, buf, want < 256 ? (size_t)want : 256, err);
        if (k < 0)
            return -1;
        if (k == 0)
            break;
        done += (unsigned long long)k;
    }
    if (done < n && nr->end_failed && nr->inflight == 0) {
        *err = nr->end_err;
        return -1;
    }
    return (long long)done;
}

static void native_close(trace_reader *r)
{
    struct native_reader *nr = r->state;
    if (!nr)
        return;
    if (nr->nworkers) {
        pthread_mutex_lock(&nr->mu);
        nr->stop = 1;
        pthread_cond_broadcast(&nr->work_cv);
        pthread_mutex_unlock(&nr->mu);
        for (int i = 0; i < nr->nworkers; i++)
            pthread_join(nr->workers[i], NULL);
        pthread_mutex_destroy(&nr->mu);
        pthread_cond_destroy(&nr->work_cv);
        pthread_cond_destroy(&nr->done_cv);
    }
    dctx_free(&nr->inline_ctx);
    free(nr->seen);
    for (int i = 0; i < NSLOTS; i++) {
        free(nr->slots[i].stored);
        free(nr->slots[i].raw);
    }
    free(nr);
    r->state = NULL;
}

static const struct trace_reader_ops native_ops = {native_read, native_skip, native_close};

static int read_header(trace_reader *r, mm_err *err)
{
    const char *path = cio_path(r->in);
    unsigned char b[NATIVE_FILE_HDR];
    long long got = cio_read(r->in, b, sizeof b, err);
    if (got < 0)
        return -1;
    if (got < NATIVE_MAGIC_LEN || memcmp(b, NATIVE_MAGIC, NATIVE_MAGIC_LEN))
        return mm_errf(err, "%s: offset 0: not a native mmusim trace (bad magic)", path);
    if (got < (long long)sizeof b)
        return mm_errf(err, "%s: offset %lld: truncated native header", path, got);
    unsigned version = get_le16(b + 8);
    if (version != NATIVE_VERSION)
        return mm_errf(err, "%s: offset 8: unsupported native trace version %u (this build reads "
                            "version %u)",
                       path, version, NATIVE_VERSION);
    uint32_t mlen = get_le32(b + 12);
    uint64_t mhash = get_le64(b + 16);
    if (mlen < 4 || mlen > NATIVE_META_MAX)
        return mm_errf(err, "%s: offset 12: damaged native header (metadata length %u)", path, mlen);
    unsigned char *m = xcalloc(mlen + 16, 1); /* zero padding: varint reads look 8 bytes ahead */
    got = cio_read(r->in, m, mlen, err);
    int rc = 0;
    if (got < 0) {
        rc = -1;
    } else if (got < mlen) {
        rc = mm_errf(err, "%s: offset %lld: truncated native header metadata", path,
                     (long long)NATIVE_FILE_HDR + got);
    } else if (XXH3_64bits(m, mlen) != mhash) {
        rc = mm_errf(err, "%s: offset %u: native header metadata checksum mismatch", path,
                     NATIVE_FILE_HDR);
    } else {
        uint32_t count = get_le32(m);
        const unsigned char *p = m + 4, *end = m + mlen;
        for (uint32_t i = 0; i < count && rc == 0; i++) {
            int bad = 0;
            uint64_t kl = p < end ? get_varint(&p, &bad) : 0;
            if (bad || p > end || kl > (uint64_t)(end - p)) {
                rc = -1;
                break;
            }
            const unsigned char *k = p;
            p += kl;
            uint64_t vl = p < end ? get_varint(&p, &bad) : (bad = 1, 0);
            if (bad || p > end || vl > (uint64_t)(end - p)) {
                rc = -1;
                break;
            }
            reader_add_meta(r, (const char *)k, kl, (const char *)p, vl);
            p += vl;
        }
        if (rc < 0)
            mm_errf(err, "%s: offset %u: damaged native header metadata", path, NATIVE_FILE_HDR);
    }
    free(m);
    return rc;
}

/* Decompression helpers: two by default. One keeps up with zstd; gzip inflates at about 65 M
 * records/s per core, so a second helper is what lifts it past the caller's decode on a two-core
 * machine. MMUSIM_TRACE_THREADS=0 decompresses on the caller's thread. */
static int worker_count(void)
{
    const char *e = getenv("MMUSIM_TRACE_THREADS");
    if (e && *e) {
        int n = atoi(e);
        return n < 0 ? 0 : n > MAX_WORKERS ? MAX_WORKERS : n;
    }
    return 2;
}

int native_reader_init(trace_reader *r, mm_err *err)
{
    if (read_header(r, err) < 0)
        return -1;
    /* the trailer up front, when the file allows it: the total for progress reports (checked
     * against the chunks when the reader gets there) */
    unsigned char t[NATIVE_TRAILER];
    if (cio_read_tail(r->in, t, sizeof t) == 0 && !memcmp(t + 32, NATIVE_TRAILER_MAGIC, 8))
        r->total_records = get_le64(t + 8);
    struct native_reader *nr = xcalloc(1, sizeof *nr);
    nr->r = r;
    nr->path = cio_path(r->in);
    r->state = nr;
    r->ops = &native_ops;
    dctx_init(&nr->inline_ctx);
    nr->nworkers = worker_count();
    if (nr->nworkers) {
        pthread_mutex_init(&nr->mu, NULL);
        pthread_cond_init(&nr->work_cv, NULL);
        pthread_cond_init(&nr->done_cv, NULL);
        for (int i = 0; i < nr->nworkers; i++) {
            if (pthread_create(&nr->workers[i], NULL, worker_main, nr) != 0) {
                nr->nworkers = i; /* fewer helpers; 0 means decompress inline */
                break;
            }
        }
    }
    return 0;
}

/* ===================== writer ===================== */

struct trace_writer {
    char *path;
    int fd;
    int close_fd;
    enum trace_compression comp;
    int level;
    uint32_t chunk_records;
    uint64_t written; /* bytes written so far: the next chunk's offset */

    unsigned char *raw; /* encoded records of the open chunk */
    size_t raw_len, raw_cap;
    uint32_t records; /* in the open chunk */
    uint64_t instr;   /* in the open chunk */
    struct codec_state cs;

    uint64_t total_records, total_instr;
    unsigned char *out; /* compressed chunk */
    size_t out_cap;

    unsigned char *index; /* NATIVE_INDEX_ENTRY per chunk */
    size_t nchunks, index_cap;

    ZSTD_CCtx *zstd;
    z_stream z;
    int z_ready;
    int failed;
};

static int write_all(trace_writer *w, const void *buf, size_t n, mm_err *err)
{
    const unsigned char *p = buf;
    while (n) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            w->failed = 1;
            return mm_errf(err, "%s: write error: %s", w->path, strerror(errno));
        }
        p += k;
        n -= (size_t)k;
        w->written += (uint64_t)k;
    }
    return 0;
}

trace_writer *trace_writer_open(const char *path, enum trace_compression comp, int level,
                                const struct trace_kv *meta, size_t nmeta, mm_err *err)
{
    if ((unsigned)comp > TRACE_COMP_ZSTD) {
        mm_errf(err, "%s: unknown compression %d", path, (int)comp);
        return NULL;
    }
    trace_writer *w = xcalloc(1, sizeof *w);
    w->path = xstrdup(path);
    w->comp = comp;
    w->level = level;
    w->chunk_records = TRACE_CHUNK_RECORDS;
    if (!strcmp(path, "-")) {
        w->fd = 1;
    } else {
        w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (w->fd < 0) {
            mm_errf(err, "%s: cannot create: %s", path, strerror(errno));
            free(w->path);
            free(w);
            return NULL;
        }
        w->close_fd = 1;
    }
    switch (comp) {
    case TRACE_COMP_ZSTD:
        w->zstd = ZSTD_createCCtx();
        if (!w->level)
            w->level = 3;
        break;
    case TRACE_COMP_GZIP:
        if (!w->level)
            w->level = 6;
        if (w->level < 1 || w->level > 9 ||
            deflateInit2(&w->z, w->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            mm_errf(err, "%s: gzip level must be 1..9", path);
            trace_writer_close(w, NULL);
            return NULL;
        }
        w->z_ready = 1;
        break;
    case TRACE_COMP_XZ:
        if (!w->level)
            w->level = 6;
        if (w->level < 0 || w->level > 9) {
            mm_errf(err, "%s: xz level must be 0..9", path);
            trace_writer_close(w, NULL);
            return NULL;
        }
        break;
    case TRACE_COMP_NONE:
        break;
    }
    if (comp == TRACE_COMP_ZSTD && (w->level < 1 || w->level > ZSTD_maxCLevel())) {
        mm_errf(err, "%s: zstd level must be 1..%d", path, ZSTD_maxCLevel());
        trace_writer_close(w, NULL);
        return NULL;
    }
    /* header: fixed part, then the metadata block */
    size_t mcap = 4;
    for (size_t i = 0; i < nmeta; i++)
        mcap += strlen(meta[i].key) + strlen(meta[i].value) + 20;
    unsigned char *m = xmalloc(mcap), *p = m + 4;
    put_le32(m, (uint32_t)nmeta);
    for (size_t i = 0; i < nmeta; i++) {
        size_t kl = strlen(meta[i].key), vl = strlen(meta[i].value);
        p = put_varint(p, kl);
        memcpy(p, meta[i].key, kl);
        p += kl;
        p = put_varint(p, vl);
        memcpy(p, meta[i].value, vl);
        p += vl;
    }
    size_t mlen = (size_t)(p - m);
    if (mlen > NATIVE_META_MAX) {
        free(m);
        mm_errf(err, "%s: metadata too large (%zu bytes)", path, mlen);
        trace_writer_close(w, NULL);
        return NULL;
    }
    unsigned char h[NATIVE_FILE_HDR];
    memcpy(h, NATIVE_MAGIC, NATIVE_MAGIC_LEN);
    put_le16(h + 8, NATIVE_VERSION);
    put_le16(h + 10, 0);
    put_le32(h + 12, (uint32_t)mlen);
    put_le64(h + 16, XXH3_64bits(m, mlen));
    int rc = write_all(w, h, sizeof h, err);
    if (rc == 0)
        rc = write_all(w, m, mlen, err);
    free(m);
    if (rc < 0) {
        trace_writer_close(w, NULL);
        return NULL;
    }
    w->raw_cap = NATIVE_CHUNK_RAW_TARGET + NATIVE_RECORD_MAX;
    w->raw = xmalloc(w->raw_cap);
    return w;
}

void trace_writer_set_chunk_records(trace_writer *w, uint32_t records)
{
    if (records == 0)
        records = 1;
    if (records > NATIVE_CHUNK_RECORDS_MAX)
        records = NATIVE_CHUNK_RECORDS_MAX;
    w->chunk_records = records;
}

static int flush_chunk(trace_writer *w, mm_err *err)
{
    if (w->records == 0)
        return 0;
    size_t raw = w->raw_len;
    size_t cap;
    switch (w->comp) {
    case TRACE_COMP_ZSTD:
        cap = ZSTD_compressBound(raw);
        break;
    case TRACE_COMP_GZIP:
        cap = deflateBound(&w->z, (uLong)raw);
        break;
    case TRACE_COMP_XZ:
        cap = lzma_stream_buffer_bound(raw);
        break;
    default:
        cap = raw + 4;
        break;
    }
    ensure_cap(&w->out, &w->out_cap, cap);
    size_t stored = 0;
    switch (w->comp) {
    case TRACE_COMP_ZSTD: {
        size_t k = ZSTD_compressCCtx(w->zstd, w->out, cap, w->raw, raw, w->level);
        if (ZSTD_isError(k))
            return mm_errf(err, "%s: zstd compression failed: %s", w->path, ZSTD_getErrorName(k));
        stored = k;
        break;
    }
    case TRACE_COMP_GZIP:
        deflateReset(&w->z);
        w->z.next_in = w->raw;
        w->z.avail_in = (uInt)raw;
        w->z.next_out = w->out;
        w->z.avail_out = (uInt)cap;
        if (deflate(&w->z, Z_FINISH) != Z_STREAM_END)
            return mm_errf(err, "%s: gzip compression failed", w->path);
        stored = cap - w->z.avail_out;
        break;
    case TRACE_COMP_XZ: {
        size_t pos = 0;
        if (lzma_easy_buffer_encode((uint32_t)w->level, LZMA_CHECK_NONE, NULL, w->raw, raw, w->out,
                                    &pos, cap) != LZMA_OK)
            return mm_errf(err, "%s: xz compression failed", w->path);
        stored = pos;
        break;
    }
    case TRACE_COMP_NONE:
        memcpy(w->out, NATIVE_RAW_MAGIC, 4);
        memcpy(w->out + 4, w->raw, raw);
        stored = raw + 4;
        break;
    }
    /* index entry */
    if (w->nchunks == w->index_cap) {
        w->index_cap = w->index_cap ? 2 * w->index_cap : 64;
        w->index = xrealloc(w->index, w->index_cap * NATIVE_INDEX_ENTRY);
    }
    unsigned char *ie = w->index + w->nchunks * NATIVE_INDEX_ENTRY;
    put_le64(ie, w->written);
    put_le64(ie + 8, w->total_records);
    put_le64(ie + 16, w->total_instr);
    w->nchunks++;

    unsigned char h[NATIVE_CHUNK_HDR];
    memcpy(h, NATIVE_CHUNK_MAGIC, 4);
    put_le32(h + 4, w->records);
    put_le64(h + 8, w->total_records);
    put_le64(h + 16, w->total_instr);
    put_le64(h + 24, w->instr);
    put_le32(h + 32, (uint32_t)raw);
    put_le32(h + 36, (uint32_t)stored);
    put_le64(h + 40, XXH3_64bits(w->raw, raw));
    if (write_all(w, h, sizeof h, err) < 0 || write_all(w, w->out, stored, err) < 0)
        return -1;
    w->total_records += w->records;
    w->total_instr += w->instr;
    w->records = 0;
    w->instr = 0;
    w->raw_len = 0;
    codec_reset(&w->cs);
    return 0;
}

int trace_writer_put(trace_writer *w, const struct mm_event *ev, size_t n, mm_err *err)
{
    if (w->failed)
        return mm_errf(err, "%s: the writer already failed", w->path);
    for (size_t i = 0; i < n; i++) {
        unsigned char *end = encode_record(w->raw + w->raw_len, &ev[i], &w->cs);
        w->raw_len = (size_t)(end - w->raw);
        w->records++;
        w->instr += ev[i].gap;
        if (w->records >= w->chunk_records || w->raw_len >= NATIVE_CHUNK_RAW_TARGET) {
            if (flush_chunk(w, err) < 0) {
                w->failed = 1;
                return -1;
            }
        }
    }
    return 0;
}

int trace_writer_close(trace_writer *w, mm_err *err)
{
    int rc = w->failed ? -1 : 0;
    if (rc == 0 && w->raw)
        rc = flush_chunk(w, err);
    if (rc == 0 && w->raw) {
        uint64_t index_off = w->written;
        unsigned char b[NATIVE_TRAILER];
        memcpy(b, NATIVE_INDEX_MAGIC, 4);
        put_le32(b + 4, (uint32_t)w->nchunks);
        rc = write_all(w, b, 8, err);
        size_t ilen = w->nchunks * NATIVE_INDEX_ENTRY;
        if (rc == 0 && ilen)
            rc = write_all(w, w->index, ilen, err);
        put_le64(b, XXH3_64bits(w->index, ilen));
        if (rc == 0)
            rc = write_all(w, b, 8, err);
        put_le64(b, index_off);
        put_le64(b + 8, w->total_records);
        put_le64(b + 16, w->total_instr);
        put_le64(b + 24, w->nchunks);
        memcpy(b + 32, NATIVE_TRAILER_MAGIC, 8);
        if (rc == 0)
            rc = write_all(w, b, NATIVE_TRAILER, err);
    }
    if (w->close_fd && close(w->fd) < 0 && rc == 0)
        rc = mm_errf(err, "%s: write error: %s", w->path, strerror(errno));
    if (w->zstd)
        ZSTD_freeCCtx(w->zstd);
    if (w->z_ready)
        deflateEnd(&w->z);
    free(w->raw);
    free(w->out);
    free(w->index);
    free(w->path);
    free(w);
    return rc;
}
