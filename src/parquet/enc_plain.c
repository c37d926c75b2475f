/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enc_plain.c — the PLAIN encoding for every physical type, and
 * BYTE_STREAM_SPLIT for any fixed width.
 *
 * PLAIN: BOOLEAN is bit-packed LSB first; INT32/INT64/INT96/FLOAT/DOUBLE and
 * FIXED_LEN_BYTE_ARRAY are their little-endian bytes back to back (decoded
 * with one memcpy: output keeps the file's byte order, which is the host's
 * on every little-endian machine); BYTE_ARRAY is a 4-byte little-endian
 * length then the bytes. Byte-array decoders return views into the input.
 *
 * BYTE_STREAM_SPLIT: K = width streams of N bytes each; byte k of value i is
 * at k * N + i. The input must be exactly N * K bytes (the encoding has no
 * header, so its end is the end of the page).
 *
 * Encoders of fixed-width PLAIN values are not here: a writer appends the
 * value array itself.
 */
#include <string.h>

#include "parquet/encoding.h"
#include "util/endian.h"
#include "util/error.h"

#define BSS_BLOCK 256 /* values per cache-friendly transpose step */

/* ---------------------------------------------------------------- BOOLEAN */

int pq_plain_encode_bool(meru_buf *out, const uint8_t *vals, size_t n)
{
    size_t bytes = n / 8 + (n % 8 != 0);
    int rc = meru_buf_reserve(out, bytes);
    if (rc)
        return rc;
    uint8_t *o = out->data + out->len;
    size_t full = n / 8;
    for (size_t k = 0; k < full; k++) {
        /* Turn each nonzero byte into 1, then gather bit 0 of the 8 bytes
         * into the top byte: each source bit lands on its own product
         * bit, so no carries mix. */
        uint64_t x = meru_load_le64(vals + 8 * k);
        x = ((((x & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) | x) >> 7) &
            0x0101010101010101ull;
        o[k] = (uint8_t)((x * 0x0102040810204080ull) >> 56);
    }
    if (n % 8) {
        uint8_t b = 0;
        for (size_t j = 0; j < n % 8; j++)
            b |= (uint8_t)((vals[8 * full + j] != 0) << j);
        o[full] = b;
    }
    out->len += bytes;
    return MERU_OK;
}

int pq_plain_decode_bool(const uint8_t *p, size_t len, uint8_t *out, size_t n,
                         size_t *consumed)
{
    size_t bytes = n / 8 + (n % 8 != 0);
    if (bytes > len)
        return meru_err(MERU_ECORRUPT,
                        "PLAIN BOOLEAN: %zu values need %zu bytes, only %zu "
                        "present",
                        n, bytes, len);
    size_t full = n / 8;
    for (size_t k = 0; k < full; k++) {
        /* Spread the 8 bits of a byte into 8 bytes of 0/1: replicate the
         * byte, keep bit j in byte j, then turn "nonzero" into 1. */
        uint64_t x = p[k] * 0x0101010101010101ull;
        x &= 0x8040201008040201ull;
        x = ((x + 0x7f7f7f7f7f7f7f7full) >> 7) & 0x0101010101010101ull;
        meru_store_le64(out + 8 * k, x);
    }
    for (size_t j = 0; j < n % 8; j++)
        out[8 * full + j] = (uint8_t)((p[full] >> j) & 1);
    if (consumed)
        *consumed = bytes;
    return MERU_OK;
}

/* ------------------------------------------------------------ fixed width */

int pq_plain_decode_fixed(const uint8_t *p, size_t len, size_t width, void *out,
                          size_t n, size_t *consumed)
{
    if (width != 0 && n > len / width)
        return meru_err(MERU_ECORRUPT,
                        "PLAIN: %zu values of %zu bytes need more than the "
                        "%zu bytes present",
                        n, width, len);
    size_t bytes = n * width;
    if (bytes)
        memcpy(out, p, bytes);
    if (consumed)
        *consumed = bytes;
    return MERU_OK;
}

int pq_plain_decode_flba(const uint8_t *p, size_t len, uint32_t width,
                         pq_bytes *out, size_t n, size_t *consumed)
{
    if (width != 0 && n > len / width)
        return meru_err(MERU_ECORRUPT,
                        "PLAIN FIXED_LEN_BYTE_ARRAY: %zu values of %u bytes "
                        "need more than the %zu bytes present",
                        n, width, len);
    for (size_t i = 0; i < n; i++) {
        out[i].ptr = p + i * width;
        out[i].len = width;
    }
    if (consumed)
        *consumed = n * width;
    return MERU_OK;
}

/* ------------------------------------------------------------- BYTE_ARRAY */

int pq_plain_encode_bytes(meru_buf *out, const pq_bytes *vals, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t add = 4 + (size_t)vals[i].len;
        if (add > SIZE_MAX - total)
            return meru_err(MERU_ERANGE, "PLAIN BYTE_ARRAY: size overflow");
        total += add;
    }
    int rc = meru_buf_reserve(out, total);
    if (rc)
        return rc;
    uint8_t *o = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        meru_store_le32(o, vals[i].len);
        if (vals[i].len)
            memcpy(o + 4, vals[i].ptr, vals[i].len);
        o += 4 + (size_t)vals[i].len;
    }
    out->len += total;
    return MERU_OK;
}

/* The 4-byte length of value i at *pos of a PLAIN BYTE_ARRAY run of len
 * bytes, checked against what is left; *pos moves past the length. */
static int plain_length(const uint8_t *p, size_t len, size_t i, size_t *pos,
                        uint32_t *l)
{
    if (len - *pos < 4)
        return meru_err(MERU_ECORRUPT,
                        "PLAIN BYTE_ARRAY: length of value %zu at offset %zu "
                        "is truncated",
                        i, *pos);
    *l = meru_load_le32(p + *pos);
    *pos += 4;
    if (*l > len - *pos)
        return meru_err(MERU_ECORRUPT,
                        "PLAIN BYTE_ARRAY: value %zu at offset %zu is %u "
                        "bytes, only %zu left",
                        i, *pos - 4, *l, len - *pos);
    return MERU_OK;
}

int pq_plain_decode_bytes(const uint8_t *p, size_t len, pq_bytes *out, size_t n,
                          size_t *consumed)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t l = 0;
        int rc = plain_length(p, len, i, &pos, &l);
        if (rc)
            return rc;
        out[i].ptr = p + pos;
        out[i].len = l;
        pos += l;
    }
    if (consumed)
        *consumed = pos;
    return MERU_OK;
}

int pq_plain_compact_bytes(uint8_t *p, size_t len, size_t n, uint32_t *offs)
{
    if (len > UINT32_MAX)
        return meru_err(MERU_ECORRUPT,
                        "PLAIN BYTE_ARRAY: %zu bytes do not fit 32-bit offsets",
                        len);
    size_t pos = 0, at = 0; /* read and write positions; at <= pos */
    for (size_t i = 0; i < n; i++) {
        uint32_t l = 0;
        int rc = plain_length(p, len, i, &pos, &l);
        if (rc)
            return rc;
        offs[i] = (uint32_t)at;
        /* the source starts 4 (i + 1) bytes after the destination: the
         * regions overlap when a value is longer than that */
        if (l)
            memmove(p + at, p + pos, l);
        at += l;
        pos += l;
    }
    if (pos != len)
        return meru_err(MERU_ECORRUPT,
                        "PLAIN BYTE_ARRAY: %zu values used %zu of %zu bytes",
                        n, pos, len);
    offs[n] = (uint32_t)at;
    return MERU_OK;
}

/* ------------------------------------------------------ BYTE_STREAM_SPLIT */

int pq_bss_encode(meru_buf *out, const void *vals, size_t n, size_t width)
{
    if (width == 0)
        return meru_err(MERU_EINVAL, "BYTE_STREAM_SPLIT: width 0");
    if (n > SIZE_MAX / width)
        return meru_err(MERU_ERANGE, "BYTE_STREAM_SPLIT: size overflow");
    size_t bytes = n * width;
    int rc = meru_buf_reserve(out, bytes);
    if (rc)
        return rc;
    const uint8_t *v = vals;
    uint8_t *o = out->data + out->len;
    if (width == 4) {
        uint8_t *s0 = o, *s1 = o + n, *s2 = o + 2 * n, *s3 = o + 3 * n;
        for (size_t i = 0; i < n; i++) {
            s0[i] = v[4 * i];
            s1[i] = v[4 * i + 1];
            s2[i] = v[4 * i + 2];
            s3[i] = v[4 * i + 3];
        }
    } else {
        for (size_t b = 0; b < n; b += BSS_BLOCK) {
            size_t e = n - b < BSS_BLOCK ? n - b : BSS_BLOCK;
            const uint8_t *vb = v + b * width;
            for (size_t k = 0; k < width; k++) {
                uint8_t *s = o + k * n + b;
                for (size_t i = 0; i < e; i++)
                    s[i] = vb[i * width + k];
            }
        }
    }
    out->len += bytes;
    return MERU_OK;
}

/*
 * Transposes an 8 x 8 byte tile: 8 bytes (8 values) from each of 8 streams
 * `stride` apart, into 8 bytes (8 streams) of each of 8 values `width`
 * apart. Three rounds swap 4x4, 2x2 and 1x1 sub-blocks inside uint64_t
 * rows, instead of 64 single-byte moves.
 */
static inline void bss_tile8(const uint8_t *in, size_t stride, uint8_t *out,
                             size_t width)
{
    uint64_t r[8];
    for (int k = 0; k < 8; k++)
        r[k] = meru_load_le64(in + k * stride);
    for (int k = 0; k < 4; k++) {
        uint64_t t = ((r[k] >> 32) ^ r[k + 4]) & 0x00000000FFFFFFFFull;
        r[k] ^= t << 32;
        r[k + 4] ^= t;
    }
    for (int k = 0; k < 8; k += (k & 1) ? 3 : 1) { /* 0, 1, 4, 5 */
        uint64_t t = ((r[k] >> 16) ^ r[k + 2]) & 0x0000FFFF0000FFFFull;
        r[k] ^= t << 16;
        r[k + 2] ^= t;
    }
    for (int k = 0; k < 8; k += 2) {
        uint64_t t = ((r[k] >> 8) ^ r[k + 1]) & 0x00FF00FF00FF00FFull;
        r[k] ^= t << 8;
        r[k + 1] ^= t;
    }
    for (int j = 0; j < 8; j++)
        meru_store_le64(out + j * width, r[j]);
}

int pq_bss_decode(const uint8_t *p, size_t len, size_t width, void *out,
                  size_t n)
{
    if (width == 0)
        return meru_err(MERU_EINVAL, "BYTE_STREAM_SPLIT: width 0");
    if (n > SIZE_MAX / width || n * width != len)
        return meru_err(MERU_ECORRUPT,
                        "BYTE_STREAM_SPLIT: %zu values of %zu bytes do not "
                        "match the %zu bytes of data",
                        n, width, len);
    uint8_t *o = out;
    if (width == 4) {
        const uint8_t *s0 = p, *s1 = p + n, *s2 = p + 2 * n, *s3 = p + 3 * n;
        for (size_t i = 0; i < n; i++) {
            uint32_t v = (uint32_t)s0[i] | (uint32_t)s1[i] << 8 |
                         (uint32_t)s2[i] << 16 | (uint32_t)s3[i] << 24;
            meru_store_le32(o + 4 * i, v);
        }
    } else if (width % 8 == 0) {
        size_t tiled = n - n % 8;
        for (size_t k0 = 0; k0 < width; k0 += 8) {
            for (size_t i = 0; i < tiled; i += 8)
                bss_tile8(p + k0 * n + i, n, o + i * width + k0, width);
        }
        for (size_t i = tiled; i < n; i++) {
            for (size_t k = 0; k < width; k++)
                o[i * width + k] = p[k * n + i];
        }
    } else {
        /* Blocks of values keep the strided writes inside L1. */
        for (size_t b = 0; b < n; b += BSS_BLOCK) {
            size_t e = n - b < BSS_BLOCK ? n - b : BSS_BLOCK;
            uint8_t *ob = o + b * width;
            for (size_t k = 0; k < width; k++) {
                const uint8_t *s = p + k * n + b;
                for (size_t i = 0; i < e; i++)
                    ob[i * width + k] = s[i];
            }
        }
    }
    return MERU_OK;
}
