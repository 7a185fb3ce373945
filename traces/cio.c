/* Compressed input streams: see cio.h. */
#include "traces/cio.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>

#include "models/common/xalloc.h"

#define RAW_BUF (256u * 1024u)
#define DIRECT_MIN (64u * 1024u) /* reads at least this big bypass the window */

struct cio_reader {
    char *path;
    int fd;
    int close_fd;
    int is_regular;
    enum trace_compression comp;
    uint64_t total; /* file size, 0 for a pipe */

    /* raw (file) bytes not yet handed to the decompressor: in[in_pos, in_len) */
    unsigned char *in;
    size_t in_pos, in_len;
    uint64_t raw_read; /* bytes read from fd (or seeked over) */
    int raw_eof;

    /* decompressed window: out[out_pos, out_len) is visible to peek */
    unsigned char *out;
    size_t out_pos, out_len;
    uint64_t out_offset; /* stream offset of out[out_pos] */
    int stream_eof;

    /* codec state */
    z_stream z;
    int z_ready, z_member_done;
    lzma_stream lz;
    int lz_ready;
    ZSTD_DStream *zs;
    size_t zs_pending; /* 0 when between frames */

    /* content hash: whole file at open (regular) or as read (pipe) */
    XXH3_state_t *hash_state;
    XXH128_hash_t file_hash;
    int hash_from_file;
};

enum trace_compression cio_detect_magic(const unsigned char *p, size_t n)
{
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return TRACE_COMP_GZIP;
    if (n >= 6 && !memcmp(p, "\xfd\x37\x7a\x58\x5a\x00", 6))
        return TRACE_COMP_XZ;
    if (n >= 4 && !memcmp(p, "\x28\xb5\x2f\xfd", 4))
        return TRACE_COMP_ZSTD;
    return TRACE_COMP_NONE;
}

static uint64_t consumed_raw(const cio_reader *c)
{
    return c->raw_read - (c->in_len - c->in_pos);
}

/* One read(2) of the raw file into dst: the bytes are hashed and counted. Returns the count, 0 at
 * the end of the file (raw_eof set), -1 on error. */
static long long raw_read(cio_reader *c, unsigned char *dst, size_t cap, mm_err *err)
{
    for (;;) {
        ssize_t n = read(c->fd, dst, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mm_errf(err, "%s: read error: %s", c->path, strerror(errno));
        if (n == 0) {
            c->raw_eof = 1;
            return 0;
        }
        if (c->hash_state)
            XXH3_128bits_update(c->hash_state, dst, (size_t)n);
        c->raw_read += (uint64_t)n;
        return n;
    }
}

/* Reads more raw bytes into the input buffer. 0 on success (possibly setting raw_eof), -1 on error. */
static int raw_fill(cio_reader *c, mm_err *err)
{
    if (c->in_pos == c->in_len) {
        c->in_pos = c->in_len = 0;
    } else if (c->in_pos > 0) {
        memmove(c->in, c->in + c->in_pos, c->in_len - c->in_pos);
        c->in_len -= c->in_pos;
        c->in_pos = 0;
    }
    if (c->in_len < RAW_BUF) {
        long long n = raw_read(c, c->in + c->in_len, RAW_BUF - c->in_len, err);
        if (n < 0)
            return -1;
        c->in_len += (size_t)n;
    }
    return 0;
}

static int corrupt(cio_reader *c, mm_err *err, const char *what)
{
    return mm_errf(err, "%s: offset %llu: corrupt %s data (%s)", c->path,
                   (unsigned long long)consumed_raw(c), trace_compression_name(c->comp), what);
}

static int truncated(cio_reader *c, mm_err *err)
{
    return mm_errf(err, "%s: offset %llu: truncated %s stream (the file ends inside compressed data)",
                   c->path, (unsigned long long)consumed_raw(c), trace_compression_name(c->comp));
}

/* Decompresses up to cap bytes into dst. Returns the count, 0 at the end of the stream, -1 on
 * error. */
static long long produce(cio_reader *c, unsigned char *dst, size_t cap, mm_err *err)
{
    switch (c->comp) {
    case TRACE_COMP_NONE:
        if (c->in_pos < c->in_len) {
            size_t n = c->in_len - c->in_pos;
            if (n > cap)
                n = cap;
            memcpy(dst, c->in + c->in_pos, n);
            c->in_pos += n;
            return (long long)n;
        }
        return c->raw_eof ? 0 : raw_read(c, dst, cap, err);

    case TRACE_COMP_GZIP:
        for (;;) {
            if (c->in_pos == c->in_len && !c->raw_eof && raw_fill(c, err) < 0)
                return -1;
            if (c->in_pos == c->in_len) {
                if (c->z_member_done)
                    return 0;
                return truncated(c, err);
            }
            if (c->z_member_done) { /* another gzip member follows (concatenated .gz) */
                inflateReset(&c->z);
                c->z_member_done = 0;
            }
            c->z.next_in = c->in + c->in_pos;
            c->z.avail_in = (uInt)(c->in_len - c->in_pos);
            c->z.next_out = dst;
            c->z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
            uInt before = c->z.avail_out;
            int ret = inflate(&c->z, Z_NO_FLUSH);
            c->in_pos = c->in_len - c->z.avail_in;
            size_t got = before - c->z.avail_out;
            if (ret == Z_STREAM_END)
                c->z_member_done = 1;
            else if (ret == Z_NEED_DICT || ret == Z_DATA_ERROR || ret == Z_MEM_ERROR ||
                     ret == Z_STREAM_ERROR)
                return corrupt(c, err, c->z.msg ? c->z.msg : "inflate failed");
            if (got)
                return (long long)got;
        }

    case TRACE_COMP_XZ:
        for (;;) {
            if (c->in_pos == c->in_len && !c->raw_eof && raw_fill(c, err) < 0)
                return -1;
            if (!c->lz_ready)
                return 0;
            lzma_action action = (c->raw_eof && c->in_pos == c->in_len) ? LZMA_FINISH : LZMA_RUN;
            c->lz.next_in = c->in + c->in_pos;
            c->lz.avail_in = c->in_len - c->in_pos;
            c->lz.next_out = dst;
            c->lz.avail_out = cap;
            lzma_ret ret = lzma_code(&c->lz, action);
            c->in_pos = c->in_len - c->lz.avail_in;
            size_t got = cap - c->lz.avail_out;
            if (ret == LZMA_STREAM_END) {
                lzma_end(&c->lz);
                c->lz_ready = 0;
                return (long long)got;
            }
            if (ret == LZMA_BUF_ERROR && action == LZMA_FINISH)
                return truncated(c, err);
            if (ret != LZMA_OK && ret != LZMA_BUF_ERROR) {
                const char *why = ret == LZMA_FORMAT_ERROR   ? "not an xz stream"
                                  : ret == LZMA_DATA_ERROR   ? "data error"
                                  : ret == LZMA_OPTIONS_ERROR ? "unsupported options"
                                  : ret == LZMA_MEM_ERROR    ? "out of memory"
                                                             : "decoder error";
                return corrupt(c, err, why);
            }
            if (got)
                return (long long)got;
        }

    case TRACE_COMP_ZSTD:
        for (;;) {
            if (c->in_pos == c->in_len && !c->raw_eof && raw_fill(c, err) < 0)
                return -1;
            ZSTD_inBuffer ib = {c->in + c->in_pos, c->in_len - c->in_pos, 0};
            ZSTD_outBuffer ob = {dst, cap, 0};
            size_t ret = ZSTD_decompressStream(c->zs, &ob, &ib);
            c->in_pos += ib.pos;
            if (ZSTD_isError(ret))
                return corrupt(c, err, ZSTD_getErrorName(ret));
            /* 0 means a frame just ended; a call that moved nothing only returns the next
             * frame's header-size hint and says nothing about being inside a frame */
            if (ib.pos || ob.pos)
                c->zs_pending = ret;
            if (ob.pos)
                return (long long)ob.pos;
            if (c->in_pos == c->in_len && c->raw_eof) {
                if (c->zs_pending)
                    return truncated(c, err);
                return 0;
            }
        }
    }
    return 0;
}

static int hash_whole_file(cio_reader *c, mm_err *err)
{
    XXH3_state_t *st = XXH3_createState();
    XXH3_128bits_reset(st);
    size_t cap = 1u << 20;
    unsigned char *buf = xmalloc(cap);
    uint64_t off = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = pread(c->fd, buf, cap, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = mm_errf(err, "%s: read error: %s", c->path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        XXH3_128bits_update(st, buf, (size_t)n);
        off += (uint64_t)n;
    }
    c->file_hash = XXH3_128bits_digest(st);
    c->hash_from_file = 1;
    free(buf);
    XXH3_freeState(st);
    return rc;
}

cio_reader *cio_open(const char *path, mm_err *err)
{
    cio_reader *c = xcalloc(1, sizeof *c);
    c->path = xstrdup(path);
    if (!strcmp(path, "-")) {
        c->fd = 0;
    } else {
        c->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (c->fd < 0) {
            mm_errf(err, "%s: cannot open: %s", path, strerror(errno));
            free(c->path);
            free(c);
            return NULL;
        }
        c->close_fd = 1;
    }
    struct stat st;
    if (fstat(c->fd, &st) != 0)
        memset(&st, 0, sizeof st);
    if (S_ISDIR(st.st_mode)) {
        mm_errf(err, "%s: is a directory", path);
        if (c->close_fd)
            close(c->fd);
        free(c->path);
        free(c);
        return NULL;
    }
    if (S_ISREG(st.st_mode)) {
        c->is_regular = 1;
        c->total = (uint64_t)st.st_size;
        if (c->fd == 0 && lseek(0, 0, SEEK_CUR) != 0)
            c->is_regular = 0; /* a redirected file read part-way: treat like a pipe */
    }
    c->in = xmalloc(RAW_BUF);
    c->out = xmalloc(CIO_PEEK_MAX);
    if (c->is_regular) {
        if (hash_whole_file(c, err) < 0) {
            cio_close(c);
            return NULL;
        }
    } else {
        c->hash_state = XXH3_createState();
        XXH3_128bits_reset(c->hash_state);
    }
    /* enough raw bytes to recognise any magic */
    while (c->in_len < 6 && !c->raw_eof) {
        if (raw_fill(c, err) < 0) {
            cio_close(c);
            return NULL;
        }
    }
    c->comp = cio_detect_magic(c->in, c->in_len);
    switch (c->comp) {
    case TRACE_COMP_GZIP:
        if (inflateInit2(&c->z, 15 + 16) != Z_OK) {
            mm_errf(err, "%s: cannot start the gzip decoder", path);
            cio_close(c);
            return NULL;
        }
        c->z_ready = 1;
        break;
    case TRACE_COMP_XZ: {
        lzma_stream init = LZMA_STREAM_INIT;
        c->lz = init;
        if (lzma_stream_decoder(&c->lz, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
            mm_errf(err, "%s: cannot start the xz decoder", path);
            cio_close(c);
            return NULL;
        }
        c->lz_ready = 1;
        break;
    }
    case TRACE_COMP_ZSTD:
        c->zs = ZSTD_createDStream();
        ZSTD_initDStream(c->zs);
        break;
    case TRACE_COMP_NONE:
        break;
    }
    return c;
}

void cio_close(cio_reader *c)
{
    if (!c)
        return;
    if (c->z_ready)
        inflateEnd(&c->z);
    if (c->lz_ready)
        lzma_end(&c->lz);
    if (c->zs)
        ZSTD_freeDStream(c->zs);
    if (c->hash_state)
        XXH3_freeState(c->hash_state);
    if (c->close_fd)
        close(c->fd);
    free(c->in);
    free(c->out);
    free(c->path);
    free(c);
}

const unsigned char *cio_peek(cio_reader *c, size_t want, size_t *avail, mm_err *err)
{
    if (want > CIO_PEEK_MAX)
        want = CIO_PEEK_MAX;
    if (c->out_len - c->out_pos < want && !c->stream_eof) {
        if (c->out_pos > 0) {
            memmove(c->out, c->out + c->out_pos, c->out_len - c->out_pos);
            c->out_len -= c->out_pos;
            c->out_pos = 0;
        }
        while (c->out_len < want && !c->stream_eof) {
            long long n = produce(c, c->out + c->out_len, CIO_PEEK_MAX - c->out_len, err);
            if (n < 0)
                return NULL;
            if (n == 0)
                c->stream_eof = 1;
            c->out_len += (size_t)n;
        }
    }
    *avail = c->out_len - c->out_pos;
    return c->out + c->out_pos;
}

void cio_consume(cio_reader *c, size_t n)
{
    c->out_pos += n;
    c->out_offset += n;
}

long long cio_read(cio_reader *c, void *dst, size_t n, mm_err *err)
{
    unsigned char *d = dst;
    size_t done = 0;
    size_t have = c->out_len - c->out_pos;
    if (have) {
        size_t k = have < n ? have : n;
        memcpy(d, c->out + c->out_pos, k);
        cio_consume(c, k);
        done = k;
    }
    while (done < n && !c->stream_eof) {
        size_t left = n - done;
        if (left >= DIRECT_MIN) {
            long long got = produce(c, d + done, left, err);
            if (got < 0)
                return -1;
            if (got == 0)
                c->stream_eof = 1;
            done += (size_t)got;
            c->out_offset += (uint64_t)got;
        } else {
            size_t avail;
            const unsigned char *p = cio_peek(c, left, &avail, err);
            if (!p)
                return -1;
            if (avail == 0)
                break;
            size_t k = avail < left ? avail : left;
            memcpy(d + done, p, k);
            cio_consume(c, k);
            done += k;
        }
    }
    return (long long)done;
}

long long cio_skip(cio_reader *c, uint64_t n, mm_err *err)
{
    uint64_t done = 0;
    size_t have = c->out_len - c->out_pos;
    if (have) {
        size_t k = (uint64_t)have < n ? have : (size_t)n;
        cio_consume(c, k);
        done = k;
    }
    if (done < n && c->comp == TRACE_COMP_NONE && c->is_regular) {
        /* raw bytes already buffered first, then seek over the rest */
        size_t inbuf = c->in_len - c->in_pos;
        size_t k = (uint64_t)inbuf < n - done ? inbuf : (size_t)(n - done);
        c->in_pos += k;
        done += k;
        c->out_offset += k;
        if (done < n) {
            uint64_t left = c->total > c->raw_read ? c->total - c->raw_read : 0;
            uint64_t k2 = n - done < left ? n - done : left;
            if (lseek(c->fd, (off_t)(c->raw_read + k2), SEEK_SET) < 0)
                return mm_errf(err, "%s: seek error: %s", c->path, strerror(errno));
            c->raw_read += k2;
            c->out_offset += k2;
            done += k2;
        }
        return (long long)done;
    }
    while (done < n) {
        size_t avail;
        uint64_t want = n - done;
        if (cio_peek(c, want > CIO_PEEK_MAX ? CIO_PEEK_MAX : (size_t)want, &avail, err) == NULL)
            return -1;
        if (avail == 0)
            break;
        size_t k = (uint64_t)avail < want ? avail : (size_t)want;
        cio_consume(c, k);
        done += k;
    }
    return (long long)done;
}

int cio_read_tail(const cio_reader *c, void *buf, size_t n)
{
    if (!c->is_regular || c->comp != TRACE_COMP_NONE || c->total < n)
        return -1;
    ssize_t k = pread(c->fd, buf, n, (off_t)(c->total - n));
    return k == (ssize_t)n ? 0 : -1;
}

const char *cio_path(const cio_reader *c)
{
    return c->path;
}

enum trace_compression cio_compression(const cio_reader *c)
{
    return c->comp;
}

uint64_t cio_offset(const cio_reader *c)
{
    return c->out_offset;
}

uint64_t cio_bytes_in(const cio_reader *c)
{
    if (c->comp == TRACE_COMP_NONE)
        return c->out_offset;
    return consumed_raw(c);
}

uint64_t cio_bytes_total(const cio_reader *c)
{
    return c->is_regular ? c->total : 0;
}

void cio_hash(const cio_reader *c, char out[33], int *complete)
{
    XXH128_hash_t h;
    if (c->hash_from_file) {
        h = c->file_hash;
        *complete = 1;
    } else {
        h = XXH3_128bits_digest(c->hash_state);
        *complete = c->raw_eof;
    }
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, h);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[canon.digest[i] >> 4];
        out[2 * i + 1] = hex[canon.digest[i] & 15];
    }
    out[32] = 0;
}
