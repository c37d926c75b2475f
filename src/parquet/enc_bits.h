/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enc_bits.h — bit packing shared by the Parquet encodings (internal to
 * src/parquet/enc_*.c; not part of the encoding contract).
 *
 * Parquet's RLE/bit-packed hybrid and DELTA_BINARY_PACKED both pack values
 * LSB first: value i of width w occupies bits [i*w, i*w + w) of a
 * little-endian bit stream. Eight values of width w therefore fill exactly
 * w bytes, which is why both encodings work in groups of 8.
 *
 * The unpackers here read one unaligned 64-bit word per value and shift;
 * with w a compile-time constant (the .c files instantiate one function per
 * width) that is a load, a shift and a mask per value, with no per-bit loop
 * and no branch. The price is that they may read up to PQ_UNPACK_SLACK bytes
 * past the end of the last group they unpack: callers either know that many
 * bytes remain in the input or copy the tail into a zero-padded buffer.
 *
 * The bit writer is for encoders; it never writes past the bytes it was
 * asked to produce (a flush at a group boundary writes whole bytes only).
 */
#ifndef MERU_PARQUET_ENC_BITS_H
#define MERU_PARQUET_ENC_BITS_H

#include <stddef.h>
#include <stdint.h>

#include "util/endian.h"

#if defined(__GNUC__)
#define PQ_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define PQ_ALWAYS_INLINE inline
#endif

/* Bytes the unpackers may read beyond the last group they decode. */
#define PQ_UNPACK_SLACK 8

/* Eight values of width w (1..32) from the w bytes at `in`. */
static PQ_ALWAYS_INLINE void pq_unpack8_u32(const uint8_t *in, uint32_t *out,
                                            unsigned w)
{
    const uint64_t mask = w >= 32 ? 0xffffffffu : ((uint64_t)1 << w) - 1;
    for (unsigned i = 0; i < 8; i++) {
        unsigned bit = i * w;
        uint64_t word = meru_load_le64(in + (bit >> 3));
        out[i] = (uint32_t)((word >> (bit & 7)) & mask);
    }
}

/* Eight values of width w (1..64) from the w bytes at `in`. A value wider
 * than 57 bits may straddle nine bytes; its top bits come from the ninth. */
static PQ_ALWAYS_INLINE void pq_unpack8_u64(const uint8_t *in, uint64_t *out,
                                            unsigned w)
{
    const uint64_t mask = w >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << w) - 1;
    for (unsigned i = 0; i < 8; i++) {
        unsigned bit = i * w, s = bit & 7;
        const uint8_t *q = in + (bit >> 3);
        uint64_t v = meru_load_le64(q) >> s;
        if (w + s > 64)
            v |= (uint64_t)q[8] << (64 - s);
        out[i] = v & mask;
    }
}

/* LSB-first bit writer over a destination the caller has sized. */
typedef struct pq_bitwriter {
    uint8_t *p;
    uint64_t acc;
    unsigned n; /* bits pending in acc, 0..63 */
} pq_bitwriter;

/* Appends the low w bits of v (w <= 64; v must be < 2^w). */
static inline void pq_bw_put(pq_bitwriter *bw, uint64_t v, unsigned w)
{
    bw->acc |= v << bw->n;
    unsigned total = bw->n + w;
    if (total >= 64) {
        meru_store_le64(bw->p, bw->acc);
        bw->p += 8;
        bw->acc = bw->n ? v >> (64 - bw->n) : 0;
        total -= 64;
    }
    bw->n = total;
}

/* Writes the pending bits, padded with zeros to a whole byte. */
static inline void pq_bw_flush(pq_bitwriter *bw)
{
    unsigned bytes = (bw->n + 7) / 8;
    for (unsigned i = 0; i < bytes; i++)
        *bw->p++ = (uint8_t)(bw->acc >> (8 * i));
    bw->acc = 0;
    bw->n = 0;
}

#endif
