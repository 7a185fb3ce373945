/* Compressed input: a byte stream over a file or standard input ("-") that detects gzip, xz, zstd
 * or no compression from the first bytes (never from the name), decompresses as it goes with
 * bounded memory, counts the compressed bytes consumed and hashes the raw file bytes (XXH3-128).
 * Every trace reader sits on one of these. */
#ifndef MMUSIM_TRACES_CIO_H
#define MMUSIM_TRACES_CIO_H

#include <stddef.h>
#include <stdint.h>

#include "models/common/errors.h"
#include "traces/trace.h"

typedef struct cio_reader cio_reader;

/* Largest window cio_peek can guarantee. */
#define CIO_PEEK_MAX (1u << 20)

cio_reader *cio_open(const char *path, mm_err *err);
void cio_close(cio_reader *c);

/* Makes at least min(want, CIO_PEEK_MAX) decompressed bytes visible unless the stream ends first;
 * returns them (possibly more) with *avail set. NULL on a read or decompression error. At the end
 * of the stream *avail is what is left (0 when all is consumed). */
const unsigned char *cio_peek(cio_reader *c, size_t want, size_t *avail, mm_err *err);
/* Marks n bytes of the last peek as used (n <= *avail). */
void cio_consume(cio_reader *c, size_t n);
/* Copies up to n decompressed bytes into dst; fewer only at the end of the stream. -1 on error. */
long long cio_read(cio_reader *c, void *dst, size_t n, mm_err *err);
/* Discards n decompressed bytes (seeks over uncompressed regular files). Returns the count
 * discarded (fewer only at the end of the stream) or -1 on error. */
long long cio_skip(cio_reader *c, uint64_t n, mm_err *err);

const char *cio_path(const cio_reader *c);
enum trace_compression cio_compression(const cio_reader *c);
/* Offset in the decompressed stream of the next byte to be consumed. */
uint64_t cio_offset(const cio_reader *c);
/* Compressed (file) bytes consumed so far, and the file size (0 for a pipe). */
uint64_t cio_bytes_in(const cio_reader *c);
uint64_t cio_bytes_total(const cio_reader *c);
/* Whole-file XXH3-128 as 32 hex digits for a regular file; for a pipe the bytes read so far,
 * with *complete set once the end was reached. */
void cio_hash(const cio_reader *c, char out[33], int *complete);

/* Reads the last n bytes of an uncompressed regular file without moving the stream (the native
 * trailer). 0 on success, -1 when not possible (pipe, compressed, too short, read error). */
int cio_read_tail(const cio_reader *c, void *buf, size_t n);

/* Compression helpers shared with the native format's chunk codec. */
enum trace_compression cio_detect_magic(const unsigned char *p, size_t n);

#endif
