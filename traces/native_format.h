/* Private to traces/: byte-level constants of the native format (traces/FORMAT.md) and the
 * little-endian and varint helpers its reader and writer share. */
#ifndef MMUSIM_TRACES_NATIVE_FORMAT_H
#define MMUSIM_TRACES_NATIVE_FORMAT_H

#include <stdint.h>
#include <string.h>

#define NATIVE_MAGIC "MMUTRACE"
#define NATIVE_MAGIC_LEN 8
#define NATIVE_VERSION 1
#define NATIVE_FILE_HDR 24 /* magic, version, flags, meta length, meta hash */
#define NATIVE_META_MAX (16u << 20)

#define NATIVE_CHUNK_MAGIC "MMCK"
#define NATIVE_CHUNK_HDR 48
#define NATIVE_INDEX_MAGIC "MMIX"
#define NATIVE_INDEX_ENTRY 24
#define NATIVE_TRAILER_MAGIC "MMTREND1"
#define NATIVE_TRAILER 40
#define NATIVE_RAW_MAGIC "MMRW" /* prefix of a stored (uncompressed) chunk payload */

/* Limits a reader enforces so a damaged header cannot ask for absurd memory. */
#define NATIVE_CHUNK_RAW_MAX (64u << 20)
#define NATIVE_CHUNK_RECORDS_MAX (16u << 20)
/* The writer closes a chunk at this many payload bytes even below its record count. */
#define NATIVE_CHUNK_RAW_TARGET (8u << 20)
/* Longest encoding of one record: header, type, mask and ten 10-byte varints. */
#define NATIVE_RECORD_MAX 112
/* Zero bytes after a decoded payload, so varint reads may run past the end and be caught by one
 * bounds check per record. */
#define NATIVE_PAD 128

/* Record header byte: type (2 bits), size code (3 bits), address slot (2 bits), extension flag. */
#define REC_TYPE_MASK 0x03u
#define REC_SIZE_SHIFT 2
#define REC_SIZE_EXPLICIT 7u
#define REC_SLOT_SHIFT 5
#define REC_SLOTS 4
#define REC_EXT 0x80u
/* Extension byte, present when the header has REC_EXT. */
#define EXT_GAP 0x01u    /* a new gap for this record's stream follows */
#define EXT_CTX 0x02u    /* a new cpu and pid follow */
#define EXT_TAGGED 0x80u /* the whole record is tagged (header byte exactly REC_EXT) */

/* Field bits of a tagged record's mask, in encoding order. */
enum {
    TF_ADDR = 1u << 0, TF_LEN = 1u << 1, TF_ARG = 1u << 2, TF_PID = 1u << 3, TF_GAP = 1u << 4,
    TF_SIZE = 1u << 5, TF_FLAGS = 1u << 6, TF_FILE = 1u << 7, TF_CPU = 1u << 8,
    TF_RESERVED = 1u << 9, TF_ALL = (1u << 10) - 1
};

static inline void put_le16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static inline void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint16_t get_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t get_le32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4); /* x86 and every little-endian target */
    return v;
}
static inline uint64_t get_le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static inline uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63));
}
static inline uint64_t unzigzag(uint64_t v)
{
    return (v >> 1) ^ (0 - (v & 1));
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the native trace reader assumes a little-endian host"
#endif

#endif
