/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enc_rle.c — the RLE / bit-packed hybrid encoding (Parquet "RLE = 3"),
 * used for repetition and definition levels, RLE booleans and dictionary
 * indexes, plus the dictionary-index page body (1-byte bit width + hybrid).
 *
 * Stream: a sequence of runs, each introduced by a ULEB128 header h.
 *   h & 1 == 0: RLE run of h >> 1 copies of one value, stored in
 *               ceil(bit_width / 8) little-endian bytes.
 *   h & 1 == 1: bit-packed run of (h >> 1) groups of 8 values, each group
 *               bit_width bytes (see enc_bits.h for the bit order).
 *
 * Decoder: decodes exactly n values. A bit-packed run may hold more values
 * than are still needed (the writer pads the last group); the surplus is
 * skipped and counted in *consumed. A run whose needed values lie past the
 * end of the input is MERU_ECORRUPT. One leniency: when the final run's
 * needed values are present but its zero padding was cut short, the run is
 * accepted and *consumed is the whole input (some writers trim it). An RLE
 * run value wider than bit_width is corrupt. The hot loops unpack 8 values
 * per step through a per-width function chosen once per run.
 *
 * Encoder: runs of at least 8 equal values become RLE runs; everything else
 * goes into bit-packed groups of 8. A repeat that starts while a literal
 * group is half full first completes that group (literal groups cannot be
 * padded mid-stream), and becomes an RLE run only if 8 or more copies are
 * left. Only the very last group is zero-padded. Run lengths stay below
 * 2^31 as the spec requires.
 */
#include <limits.h>
#include <string.h>

#include "parquet/enc_bits.h"
#include "parquet/encoding.h"
#include "util/error.h"
#include "util/varint.h"

/* Longest run either kind of run may describe (spec: [1, 2^31 - 1]). */
#define RLE_MAX_RUN    ((size_t)INT32_MAX)
#define RLE_MAX_GROUPS (RLE_MAX_RUN / 8)

int pq_bit_width(uint64_t max)
{
    return max ? 64 - __builtin_clzll(max) : 0;
}

/* ------------------------------------------------------------ unpacking */

typedef void (*unpack32_fn)(const uint8_t *in, uint32_t *out, size_t groups);

#define PQ_DEF_UNPACK32(W)                                                     \
    static void unpack32_w##W(const uint8_t *in, uint32_t *out, size_t groups) \
    {                                                                          \
        for (size_t g = 0; g < groups; g++) {                                  \
            pq_unpack8_u32(in, out, W);                                        \
            in += W;                                                           \
            out += 8;                                                          \
        }                                                                      \
    }
PQ_DEF_UNPACK32(1)
PQ_DEF_UNPACK32(2)
PQ_DEF_UNPACK32(3)
PQ_DEF_UNPACK32(4)
PQ_DEF_UNPACK32(5)
PQ_DEF_UNPACK32(6)
PQ_DEF_UNPACK32(7)
PQ_DEF_UNPACK32(8)
PQ_DEF_UNPACK32(9)
PQ_DEF_UNPACK32(10)
PQ_DEF_UNPACK32(11)
PQ_DEF_UNPACK32(12)
PQ_DEF_UNPACK32(13)
PQ_DEF_UNPACK32(14)
PQ_DEF_UNPACK32(15)
PQ_DEF_UNPACK32(16)
PQ_DEF_UNPACK32(17)
PQ_DEF_UNPACK32(18)
PQ_DEF_UNPACK32(19)
PQ_DEF_UNPACK32(20)
PQ_DEF_UNPACK32(21)
PQ_DEF_UNPACK32(22)
PQ_DEF_UNPACK32(23)
PQ_DEF_UNPACK32(24)
PQ_DEF_UNPACK32(25)
PQ_DEF_UNPACK32(26)
PQ_DEF_UNPACK32(27)
PQ_DEF_UNPACK32(28)
PQ_DEF_UNPACK32(29)
PQ_DEF_UNPACK32(30)
PQ_DEF_UNPACK32(31)
PQ_DEF_UNPACK32(32)

static const unpack32_fn unpack32_tab[33] = {
    NULL,         unpack32_w1,  unpack32_w2,  unpack32_w3,  unpack32_w4,
    unpack32_w5,  unpack32_w6,  unpack32_w7,  unpack32_w8,  unpack32_w9,
    unpack32_w10, unpack32_w11, unpack32_w12, unpack32_w13, unpack32_w14,
    unpack32_w15, unpack32_w16, unpack32_w17, unpack32_w18, unpack32_w19,
    unpack32_w20, unpack32_w21, unpack32_w22, unpack32_w23, unpack32_w24,
    unpack32_w25, unpack32_w26, unpack32_w27, unpack32_w28, unpack32_w29,
    unpack32_w30, unpack32_w31, unpack32_w32,
};

/*
 * Unpacks `groups` whole groups from `in`, which has `avail` readable bytes
 * (at least groups * w). Groups with PQ_UNPACK_SLACK bytes after them go
 * through the fast path directly; the last few are copied into a padded
 * buffer first.
 */
static void unpack_groups(const uint8_t *in, size_t avail, unsigned w,
                          uint32_t *out, size_t groups)
{
    if (w == 0) {
        memset(out, 0, groups * 8 * sizeof *out);
        return;
    }
    size_t fast = 0;
    if (avail >= PQ_UNPACK_SLACK) {
        fast = (avail - PQ_UNPACK_SLACK) / w;
        if (fast > groups)
            fast = groups;
    }
    unpack32_tab[w](in, out, fast);
    for (size_t g = fast; g < groups; g++) {
        uint8_t tmp[32 + PQ_UNPACK_SLACK] = {0};
        memcpy(tmp, in + g * w, w);
        unpack32_tab[w](tmp, out + g * 8, 1);
    }
}

/* ------------------------------------------------------------- decoding */

int pq_rle_decode(const uint8_t *p, size_t len, int bit_width, uint32_t *out,
                  size_t n, size_t *consumed)
{
    if (bit_width < 0 || bit_width > 32)
        return meru_err(MERU_EINVAL,
                        "RLE/bit-packed hybrid: bit width %d is not in 0..32",
                        bit_width);
    const unsigned w = (unsigned)bit_width;
    const size_t vbytes = (w + 7) / 8;
    size_t pos = 0, i = 0;

    while (i < n) {
        uint64_t h;
        size_t hl = meru_varint_get64(p + pos, len - pos, &h);
        if (hl == 0)
            return meru_err(MERU_ECORRUPT,
                            "RLE/bit-packed hybrid: truncated or invalid run "
                            "header at offset %zu (%zu of %zu values decoded)",
                            pos, i, n);
        pos += hl;
        const size_t left = n - i;
        const size_t avail = len - pos;

        if (h & 1) {
            uint64_t groups = h >> 1;
            size_t take = groups > left / 8 ? left : (size_t)groups * 8;
            size_t full = take / 8, rem = take % 8;
            size_t need = full * w + (rem * w + 7) / 8;
            size_t run_bytes;
            if (w == 0 || groups <= avail / w) {
                run_bytes = (size_t)groups * w;
            } else if (take == left && need <= avail) {
                run_bytes = avail; /* final run, padding trimmed */
            } else {
                return meru_err(MERU_ECORRUPT,
                                "RLE/bit-packed hybrid: bit-packed run of "
                                "%llu groups at offset %zu needs more than "
                                "the %zu bytes left",
                                (unsigned long long)groups, pos, avail);
            }
            unpack_groups(p + pos, avail, w, out + i, full);
            if (rem) {
                uint8_t tmp[32 + PQ_UNPACK_SLACK] = {0};
                uint32_t vals[8];
                size_t have = avail - full * w;
                if (w) {
                    memcpy(tmp, p + pos + full * w, have < w ? have : w);
                    unpack32_tab[w](tmp, vals, 1);
                } else {
                    memset(vals, 0, sizeof vals);
                }
                memcpy(out + i + full * 8, vals, rem * sizeof *vals);
            }
            pos += run_bytes;
            i += take;
        } else {
            uint64_t count = h >> 1;
            if (vbytes > avail)
                return meru_err(MERU_ECORRUPT,
                                "RLE/bit-packed hybrid: RLE run value at "
                                "offset %zu truncated (%zu of %zu bytes)",
                                pos, avail, vbytes);
            uint32_t v = 0;
            for (size_t b = 0; b < vbytes; b++)
                v |= (uint32_t)p[pos + b] << (8 * b);
            if (w < 32 && (v >> w) != 0)
                return meru_err(MERU_ECORRUPT,
                                "RLE/bit-packed hybrid: RLE run value %u at "
                                "offset %zu is wider than bit width %u",
                                v, pos, w);
            pos += vbytes;
            size_t take = count < left ? (size_t)count : left;
            uint32_t *o = out + i;
            for (size_t k = 0; k < take; k++)
                o[k] = v;
            i += take;
        }
    }
    if (consumed)
        *consumed = pos;
    return MERU_OK;
}

/* ------------------------------------------------------------- encoding */

static int put_varint(meru_buf *out, uint64_t v)
{
    uint8_t tmp[MERU_VARINT64_MAX];
    return meru_buf_append(out, tmp, meru_varint_put64(tmp, v));
}

/* Emits `cnt` literal values as bit-packed runs; the last group is padded
 * with zeros (only legal at the end of the stream or when cnt % 8 == 0). */
static int put_literals(meru_buf *out, const uint32_t *v, size_t cnt,
                        unsigned w)
{
    while (cnt > 0) {
        size_t groups = (cnt + 7) / 8;
        if (groups > RLE_MAX_GROUPS)
            groups = RLE_MAX_GROUPS;
        size_t k = groups * 8 < cnt ? groups * 8 : cnt;
        int rc = put_varint(out, ((uint64_t)groups << 1) | 1);
        if (rc)
            return rc;
        size_t bytes = groups * w;
        rc = meru_buf_reserve(out, bytes);
        if (rc)
            return rc;
        pq_bitwriter bw = {out->data + out->len, 0, 0};
        for (size_t j = 0; j < k; j++)
            pq_bw_put(&bw, v[j], w);
        for (size_t j = k; j < groups * 8; j++)
            pq_bw_put(&bw, 0, w);
        pq_bw_flush(&bw);
        out->len += bytes;
        v += k;
        cnt -= k;
    }
    return MERU_OK;
}

static int put_repeat(meru_buf *out, uint32_t v, size_t count, unsigned w)
{
    const size_t vbytes = (w + 7) / 8;
    while (count > 0) {
        size_t k = count < RLE_MAX_RUN ? count : RLE_MAX_RUN;
        int rc = put_varint(out, (uint64_t)k << 1);
        if (rc)
            return rc;
        uint8_t b[4];
        for (size_t j = 0; j < vbytes; j++)
            b[j] = (uint8_t)(v >> (8 * j));
        rc = meru_buf_append(out, b, vbytes);
        if (rc)
            return rc;
        count -= k;
    }
    return MERU_OK;
}

int pq_rle_encode(meru_buf *out, const uint32_t *vals, size_t n, int bit_width)
{
    if (bit_width < 0 || bit_width > 32)
        return meru_err(MERU_EINVAL,
                        "RLE/bit-packed hybrid: bit width %d is not in 0..32",
                        bit_width);
    const unsigned w = (unsigned)bit_width;
    if (w < 32) {
        uint32_t all = 0;
        for (size_t i = 0; i < n; i++)
            all |= vals[i];
        if (all >> w)
            return meru_err(MERU_EINVAL,
                            "RLE/bit-packed hybrid: a value is wider than "
                            "bit width %u",
                            w);
    }
    const size_t start_len = out->len;
    size_t lit = 0, i = 0; /* literals pending: vals[lit, i) */
    int rc = MERU_OK;
    while (i < n) {
        size_t r = 1;
        while (i + r < n && vals[i + r] == vals[i])
            r++;
        if (r >= 8) {
            size_t fill = (8 - (i - lit) % 8) % 8;
            if (r - fill >= 8) {
                rc = put_literals(out, vals + lit, i + fill - lit, w);
                if (rc)
                    goto fail;
                rc = put_repeat(out, vals[i], r - fill, w);
                if (rc)
                    goto fail;
                i += r;
                lit = i;
                continue;
            }
        }
        i += r;
    }
    rc = put_literals(out, vals + lit, n - lit, w);
    if (rc)
        goto fail;
    return MERU_OK;
fail:
    out->len = start_len;
    return rc;
}

/* ----------------------------------------------------- dictionary indexes */

int pq_dict_indices_encode(meru_buf *out, const uint32_t *idx, size_t n,
                           uint32_t dict_count)
{
    for (size_t i = 0; i < n; i++) {
        if (idx[i] >= dict_count)
            return meru_err(MERU_EINVAL,
                            "dictionary indexes: index %u at %zu is not "
                            "below the dictionary size %u",
                            idx[i], i, dict_count);
    }
    int w = dict_count ? pq_bit_width(dict_count - 1) : 0;
    size_t start_len = out->len;
    int rc = meru_buf_push(out, (uint8_t)w);
    if (rc)
        return rc;
    rc = pq_rle_encode(out, idx, n, w);
    if (rc)
        out->len = start_len;
    return rc;
}

int pq_dict_indices_decode(const uint8_t *p, size_t len, uint32_t *idx,
                           size_t n, uint32_t dict_count)
{
    if (n == 0)
        return MERU_OK;
    if (len < 1)
        return meru_err(MERU_ECORRUPT,
                        "dictionary indexes: page body is empty but %zu "
                        "values are expected",
                        n);
    if (dict_count == 0)
        return meru_err(MERU_ECORRUPT,
                        "dictionary indexes: %zu values refer to an empty "
                        "dictionary",
                        n);
    unsigned w = p[0];
    if (w > 32)
        return meru_err(MERU_ECORRUPT,
                        "dictionary indexes: bit width %u is above 32", w);
    int rc = pq_rle_decode(p + 1, len - 1, (int)w, idx, n, NULL);
    if (rc)
        return rc;
    /* Every w-bit value is below 2^w; no check is needed when the
     * dictionary is at least that large. */
    if (w < 32 && ((uint64_t)1 << w) <= dict_count)
        return MERU_OK;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad |= idx[i] >= dict_count;
    if (bad) {
        for (size_t i = 0; i < n; i++) {
            if (idx[i] >= dict_count)
                return meru_err(MERU_ECORRUPT,
                                "dictionary indexes: index %u at value %zu "
                                "is not below the dictionary size %u",
                                idx[i], i, dict_count);
        }
    }
    return MERU_OK;
}
