/* SPDX-License-Identifier: Apache-2.0 */
/*
 * varint.h — unsigned LEB128 varints (as used by the Thrift compact
 * protocol, Parquet's RLE/delta encodings and our WAL) and zigzag.
 *
 * Decoders are bounds-checked: they return the number of bytes consumed, or
 * 0 if the input ends early or the varint is longer than its type allows.
 */
#ifndef MERU_UTIL_VARINT_H
#define MERU_UTIL_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define MERU_VARINT64_MAX 10
#define MERU_VARINT32_MAX 5

/* Writes v to p (room for MERU_VARINT64_MAX bytes); returns bytes written. */
static inline size_t meru_varint_put64(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline size_t meru_varint_get64(const uint8_t *p, size_t len,
                                       uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < MERU_VARINT64_MAX; i++) {
        uint64_t b = p[i];
        if (i == 9 && b > 1)
            return 0; /* would overflow 64 bits */
        v |= (b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return i + 1;
        }
    }
    return 0;
}

static inline size_t meru_varint_get32(const uint8_t *p, size_t len,
                                       uint32_t *out)
{
    uint64_t v;
    size_t n = meru_varint_get64(p, len < MERU_VARINT32_MAX ? len
                                                            : MERU_VARINT32_MAX,
                                 &v);
    if (n == 0 || v > UINT32_MAX)
        return 0;
    *out = (uint32_t)v;
    return n;
}

static inline size_t meru_varint_len64(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline uint64_t meru_zigzag_enc64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t meru_zigzag_dec64(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}
static inline uint32_t meru_zigzag_enc32(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}
static inline int32_t meru_zigzag_dec32(uint32_t v)
{
    return (int32_t)(v >> 1) ^ -(int32_t)(v & 1);
}

#endif
