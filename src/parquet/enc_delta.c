/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enc_delta.c — DELTA_BINARY_PACKED (INT32, INT64), DELTA_LENGTH_BYTE_ARRAY
 * and DELTA_BYTE_ARRAY (front coding), both directions.
 *
 * DELTA_BINARY_PACKED layout:
 *   header: <block size> <miniblocks per block> <total count> <first value>
 *           (ULEB128 x3, then zigzag ULEB128)
 *   blocks: <min delta (zigzag ULEB128)> <one bit-width byte per miniblock>
 *           <miniblocks: (block size / miniblocks) values each, bit-packed>
 * A value is the previous one plus min delta plus the packed number. All of
 * it is wrap-around arithmetic: the reader works in uint64_t, and an INT32
 * value is the low 32 bits of the sum (truncation commutes with addition,
 * so data written with 32-bit or 64-bit deltas reads the same).
 *
 * Reader invariants (hostile input): block size a positive multiple of 128
 * and at most 2^31; miniblock count divides it into multiples of 32; the
 * header's total count must equal the n the caller asks for (for a v1 data
 * page with nulls, n is the number of non-null values); a miniblock that
 * holds values must be wholly present (the last one is padded to full size
 * by conforming writers); bit widths are checked (<= 64) only for the
 * miniblocks actually read, since the spec lets the unused ones of the last
 * block hold anything. The stream ends after the last miniblock that holds
 * a value; *consumed says where, which DELTA_LENGTH_BYTE_ARRAY needs to
 * find its byte data. Values are produced 32 at a time (a miniblock is a
 * multiple of 32), unpacked with a per-width function and no per-bit loop.
 *
 * Writer: block size 128, 4 miniblocks of 32, a bit width per miniblock,
 * INT32 deltas computed in 32-bit wrap-around so no width exceeds 32.
 *
 * The byte-array decoders allocate nothing: DELTA_LENGTH_BYTE_ARRAY keeps
 * each length in out[i].len until the data offset is known, and
 * DELTA_BYTE_ARRAY decodes its (cheap) prefix-length stream twice instead
 * of buffering it, then materialises every value into `storage` after one
 * up-front, overflow-checked and capped reservation.
 */
#include <string.h>

#include "parquet/enc_bits.h"
#include "parquet/encoding.h"
#include "util/error.h"
#include "util/varint.h"

#define DELTA_BLOCK      128
#define DELTA_MINIBLOCKS 4
#define DELTA_MB_VALUES  32
#define DELTA_MAX_BLOCK  ((uint64_t)1 << 31)

/* Bytes DELTA_BYTE_ARRAY may materialise for one call. */
#define DELTA_BYTES_MAX_OUTPUT ((uint64_t)1 << 30)

/* ------------------------------------------------------------ unpacking */

typedef void (*unpack32v_fn)(const uint8_t *in, uint64_t *out);

/* 32 values (4 groups of 8) of constant width W. */
#define PQ_DEF_UNPACK64(W)                                                     \
    static void unpack64_w##W(const uint8_t *in, uint64_t *out)                \
    {                                                                          \
        for (unsigned g = 0; g < 4; g++)                                       \
            pq_unpack8_u64(in + g * W, out + g * 8, W);                        \
    }
PQ_DEF_UNPACK64(1)
PQ_DEF_UNPACK64(2)
PQ_DEF_UNPACK64(3)
PQ_DEF_UNPACK64(4)
PQ_DEF_UNPACK64(5)
PQ_DEF_UNPACK64(6)
PQ_DEF_UNPACK64(7)
PQ_DEF_UNPACK64(8)
PQ_DEF_UNPACK64(9)
PQ_DEF_UNPACK64(10)
PQ_DEF_UNPACK64(11)
PQ_DEF_UNPACK64(12)
PQ_DEF_UNPACK64(13)
PQ_DEF_UNPACK64(14)
PQ_DEF_UNPACK64(15)
PQ_DEF_UNPACK64(16)
PQ_DEF_UNPACK64(17)
PQ_DEF_UNPACK64(18)
PQ_DEF_UNPACK64(19)
PQ_DEF_UNPACK64(20)
PQ_DEF_UNPACK64(21)
PQ_DEF_UNPACK64(22)
PQ_DEF_UNPACK64(23)
PQ_DEF_UNPACK64(24)
PQ_DEF_UNPACK64(25)
PQ_DEF_UNPACK64(26)
PQ_DEF_UNPACK64(27)
PQ_DEF_UNPACK64(28)
PQ_DEF_UNPACK64(29)
PQ_DEF_UNPACK64(30)
PQ_DEF_UNPACK64(31)
PQ_DEF_UNPACK64(32)
PQ_DEF_UNPACK64(33)
PQ_DEF_UNPACK64(34)
PQ_DEF_UNPACK64(35)
PQ_DEF_UNPACK64(36)
PQ_DEF_UNPACK64(37)
PQ_DEF_UNPACK64(38)
PQ_DEF_UNPACK64(39)
PQ_DEF_UNPACK64(40)
PQ_DEF_UNPACK64(41)
PQ_DEF_UNPACK64(42)
PQ_DEF_UNPACK64(43)
PQ_DEF_UNPACK64(44)
PQ_DEF_UNPACK64(45)
PQ_DEF_UNPACK64(46)
PQ_DEF_UNPACK64(47)
PQ_DEF_UNPACK64(48)
PQ_DEF_UNPACK64(49)
PQ_DEF_UNPACK64(50)
PQ_DEF_UNPACK64(51)
PQ_DEF_UNPACK64(52)
PQ_DEF_UNPACK64(53)
PQ_DEF_UNPACK64(54)
PQ_DEF_UNPACK64(55)
PQ_DEF_UNPACK64(56)
PQ_DEF_UNPACK64(57)
PQ_DEF_UNPACK64(58)
PQ_DEF_UNPACK64(59)
PQ_DEF_UNPACK64(60)
PQ_DEF_UNPACK64(61)
PQ_DEF_UNPACK64(62)
PQ_DEF_UNPACK64(63)
PQ_DEF_UNPACK64(64)

static const unpack32v_fn unpack64_tab[65] = {
    NULL,         unpack64_w1,  unpack64_w2,  unpack64_w3,  unpack64_w4,
    unpack64_w5,  unpack64_w6,  unpack64_w7,  unpack64_w8,  unpack64_w9,
    unpack64_w10, unpack64_w11, unpack64_w12, unpack64_w13, unpack64_w14,
    unpack64_w15, unpack64_w16, unpack64_w17, unpack64_w18, unpack64_w19,
    unpack64_w20, unpack64_w21, unpack64_w22, unpack64_w23, unpack64_w24,
    unpack64_w25, unpack64_w26, unpack64_w27, unpack64_w28, unpack64_w29,
    unpack64_w30, unpack64_w31, unpack64_w32, unpack64_w33, unpack64_w34,
    unpack64_w35, unpack64_w36, unpack64_w37, unpack64_w38, unpack64_w39,
    unpack64_w40, unpack64_w41, unpack64_w42, unpack64_w43, unpack64_w44,
    unpack64_w45, unpack64_w46, unpack64_w47, unpack64_w48, unpack64_w49,
    unpack64_w50, unpack64_w51, unpack64_w52, unpack64_w53, unpack64_w54,
    unpack64_w55, unpack64_w56, unpack64_w57, unpack64_w58, unpack64_w59,
    unpack64_w60, unpack64_w61, unpack64_w62, unpack64_w63, unpack64_w64,
};

/* --------------------------------------------------------------- reader */

typedef struct delta_reader {
    const uint8_t *p;
    size_t len, pos;
    const char *what;   /* names the stream in error messages */
    uint64_t mb_count;  /* miniblocks per block */
    uint64_t mb_values; /* values per miniblock, a multiple of 32 */
    uint64_t first;     /* first value, raw bits */
    uint64_t left;      /* deltas not yet produced */
    uint64_t min_delta; /* this block's, raw bits */
    const uint8_t *widths;
    uint64_t mb_next; /* next miniblock of this block */
    uint64_t mb_left; /* values not yet unpacked in this miniblock */
    unsigned w;       /* bit width of this miniblock */
} delta_reader;

static int dr_varint(delta_reader *r, uint64_t *v, const char *field)
{
    size_t k = meru_varint_get64(r->p + r->pos, r->len - r->pos, v);
    if (k == 0)
        return meru_err(MERU_ECORRUPT,
                        "%s: %s at offset %zu is truncated or "
                        "too long",
                        r->what, field, r->pos);
    r->pos += k;
    return MERU_OK;
}

static int dr_init(delta_reader *r, const uint8_t *p, size_t len, size_t n,
                   const char *what)
{
    memset(r, 0, sizeof *r);
    r->p = p;
    r->len = len;
    r->what = what;
    uint64_t block, mbs, total, first;
    int rc = dr_varint(r, &block, "block size");
    if (rc)
        return rc;
    rc = dr_varint(r, &mbs, "miniblock count");
    if (rc)
        return rc;
    rc = dr_varint(r, &total, "total value count");
    if (rc)
        return rc;
    rc = dr_varint(r, &first, "first value");
    if (rc)
        return rc;
    if (block == 0 || block % 128 != 0 || block > DELTA_MAX_BLOCK)
        return meru_err(MERU_ECORRUPT,
                        "%s: block size %llu is not a positive multiple of "
                        "128 (at most 2^31)",
                        what, (unsigned long long)block);
    if (mbs == 0 || block % mbs != 0 || (block / mbs) % 32 != 0)
        return meru_err(MERU_ECORRUPT,
                        "%s: %llu miniblocks do not split a block of %llu "
                        "values into multiples of 32",
                        what, (unsigned long long)mbs,
                        (unsigned long long)block);
    if (total != n)
        return meru_err(MERU_ECORRUPT,
                        "%s: header holds %llu values, %zu expected", what,
                        (unsigned long long)total, n);
    r->mb_count = mbs;
    r->mb_values = block / mbs;
    r->first = (uint64_t)meru_zigzag_dec64(first);
    r->left = total ? total - 1 : 0;
    r->mb_next = mbs; /* the first delta opens a block */
    return MERU_OK;
}

/*
 * Unpacks the next min(32, left) packed deltas into rel[0..*got); the
 * caller adds r->min_delta (of the block they came from: read it after the
 * call). Only called while r->left > 0. *zero: the miniblock has width 0
 * and rel is left as it was (every delta is 0: constant steps, as in
 * sequences, dense keys and ops); dr_next fills it.
 */
static int dr_next_z(delta_reader *r, uint64_t rel[32], size_t *got,
                     bool *zero)
{
    if (r->mb_left == 0) {
        if (r->mb_next == r->mb_count) {
            uint64_t zz;
            int rc = dr_varint(r, &zz, "block min delta");
            if (rc)
                return rc;
            r->min_delta = (uint64_t)meru_zigzag_dec64(zz);
            if (r->mb_count > r->len - r->pos)
                return meru_err(MERU_ECORRUPT,
                                "%s: bit widths of %llu miniblocks at offset "
                                "%zu are truncated",
                                r->what, (unsigned long long)r->mb_count,
                                r->pos);
            r->widths = r->p + r->pos;
            r->pos += (size_t)r->mb_count;
            r->mb_next = 0;
        }
        unsigned w = r->widths[r->mb_next++];
        if (w > 64)
            return meru_err(MERU_ECORRUPT,
                            "%s: miniblock bit width %u is above 64", r->what,
                            w);
        uint64_t bytes = r->mb_values / 8 * w;
        if (bytes > r->len - r->pos)
            return meru_err(MERU_ECORRUPT,
                            "%s: miniblock at offset %zu needs %llu bytes, "
                            "only %zu left",
                            r->what, r->pos, (unsigned long long)bytes,
                            r->len - r->pos);
        r->w = w;
        r->mb_left = r->mb_values;
    }

    const unsigned w = r->w;
    *zero = w == 0;
    if (w == 0) {
        /* nothing to unpack */
    } else if (r->len - r->pos >= 4 * (size_t)w + PQ_UNPACK_SLACK) {
        unpack64_tab[w](r->p + r->pos, rel);
    } else {
        uint8_t tmp[4 * 64 + PQ_UNPACK_SLACK] = {0};
        memcpy(tmp, r->p + r->pos, 4 * (size_t)w);
        unpack64_tab[w](tmp, rel);
    }
    r->pos += 4 * (size_t)w;
    r->mb_left -= 32;

    size_t k = r->left < 32 ? (size_t)r->left : 32;
    r->left -= k;
    if (r->left == 0) {
        /* Skip the padding of the last miniblock (present in full, checked
         * when it was opened); later miniblocks have no bytes. */
        r->pos += (size_t)(r->mb_left / 8 * w);
        r->mb_left = 0;
    }
    *got = k;
    return MERU_OK;
}

static int dr_next(delta_reader *r, uint64_t rel[32], size_t *got)
{
    bool zero;
    int rc = dr_next_z(r, rel, got, &zero);
    if (rc == MERU_OK && zero)
        memset(rel, 0, 32 * sizeof *rel);
    return rc;
}

static int delta_decode(const uint8_t *p, size_t len, void *out, bool is32,
                        size_t n, size_t *consumed)
{
    if (n == 0 && len == 0) {
        if (consumed)
            *consumed = 0;
        return MERU_OK;
    }
    delta_reader r;
    int rc = dr_init(&r, p, len, n, "DELTA_BINARY_PACKED");
    if (rc)
        return rc;
    uint64_t acc = r.first, d[32];
    if (n > 0) {
        if (is32)
            ((int32_t *)out)[0] = (int32_t)(uint32_t)acc;
        else
            ((int64_t *)out)[0] = (int64_t)acc;
    }
    size_t i = 1;
    while (i < n) {
        size_t got = 0;
        bool zero;
        rc = dr_next_z(&r, d, &got, &zero);
        if (rc)
            return rc;
        const uint64_t m = r.min_delta;
        if (zero && is32) {
            int32_t *o = (int32_t *)out + i;
            for (size_t j = 0; j < got; j++)
                o[j] = (int32_t)(uint32_t)(acc += m);
        } else if (zero) {
            int64_t *o = (int64_t *)out + i;
            for (size_t j = 0; j < got; j++)
                o[j] = (int64_t)(acc += m);
        } else if (is32) {
            int32_t *o = (int32_t *)out + i;
            for (size_t j = 0; j < got; j++) {
                acc += d[j] + m;
                o[j] = (int32_t)(uint32_t)acc;
            }
        } else {
            int64_t *o = (int64_t *)out + i;
            for (size_t j = 0; j < got; j++) {
                acc += d[j] + m;
                o[j] = (int64_t)acc;
            }
        }
        i += got;
    }
    if (consumed)
        *consumed = r.pos;
    return MERU_OK;
}

int pq_delta_decode_i64(const uint8_t *p, size_t len, int64_t *out, size_t n,
                        size_t *consumed)
{
    return delta_decode(p, len, out, false, n, consumed);
}

int pq_delta_decode_i32(const uint8_t *p, size_t len, int32_t *out, size_t n,
                        size_t *consumed)
{
    return delta_decode(p, len, out, true, n, consumed);
}

/*
 * Reads the lengths of a DELTA_LENGTH_BYTE_ARRAY or DELTA_BYTE_ARRAY
 * section in chunks of up to 32 INT32 lengths, each checked to be
 * non-negative.
 */
typedef struct len_stream {
    delta_reader r;
    uint64_t acc;
    size_t i, n;
} len_stream;

static int ls_init(len_stream *s, const uint8_t *p, size_t len, size_t n,
                   const char *what)
{
    s->i = 0;
    s->n = n;
    int rc = dr_init(&s->r, p, len, n, what);
    s->acc = s->r.first;
    return rc;
}

/* Next up to 32 lengths into l[]; *got is 0 at the end. */
static int ls_next(len_stream *s, uint32_t l[32], size_t *got)
{
    size_t k = 0;
    if (s->i == 0 && s->n > 0) {
        int32_t v = (int32_t)(uint32_t)s->acc;
        if (v < 0)
            return meru_err(MERU_ECORRUPT,
                            "%s: length %d of value 0 is "
                            "negative",
                            s->r.what, v);
        l[0] = (uint32_t)v;
        k = 1;
    } else if (s->i < s->n) {
        uint64_t d[32];
        int rc = dr_next(&s->r, d, &k);
        if (rc)
            return rc;
        for (size_t j = 0; j < k; j++) {
            s->acc += d[j] + s->r.min_delta;
            int32_t v = (int32_t)(uint32_t)s->acc;
            if (v < 0)
                return meru_err(MERU_ECORRUPT,
                                "%s: length %d of value %zu is negative",
                                s->r.what, v, s->i + j);
            l[j] = (uint32_t)v;
        }
    }
    s->i += k;
    *got = k;
    return MERU_OK;
}

/* ---------------------------------------------------------------- writer */

static int put_varint(meru_buf *out, uint64_t v)
{
    uint8_t tmp[MERU_VARINT64_MAX];
    return meru_buf_append(out, tmp, meru_varint_put64(tmp, v));
}

static int delta_put_header(meru_buf *out, size_t n, int64_t first)
{
    uint8_t tmp[4 * MERU_VARINT64_MAX];
    size_t k = meru_varint_put64(tmp, DELTA_BLOCK);
    k += meru_varint_put64(tmp + k, DELTA_MINIBLOCKS);
    k += meru_varint_put64(tmp + k, n);
    k += meru_varint_put64(tmp + k, meru_zigzag_enc64(first));
    return meru_buf_append(out, tmp, k);
}

/*
 * Writes one block of k (1..128) deltas. Each d[j] holds a signed delta's
 * bits (INT32 callers sign-extend a 32-bit wrap-around difference, so
 * d - min fits 32 bits; INT64 callers pass the 64-bit wrap-around one).
 */
static int delta_put_block(meru_buf *out, const uint64_t *d, size_t k)
{
    int64_t min = (int64_t)d[0];
    for (size_t j = 1; j < k; j++) {
        if ((int64_t)d[j] < min)
            min = (int64_t)d[j];
    }
    uint64_t rel[DELTA_BLOCK] = {0};
    uint8_t widths[DELTA_MINIBLOCKS] = {0};
    for (size_t m = 0; m * DELTA_MB_VALUES < k; m++) {
        size_t end = (m + 1) * DELTA_MB_VALUES;
        if (end > k)
            end = k;
        uint64_t all = 0;
        for (size_t j = m * DELTA_MB_VALUES; j < end; j++) {
            rel[j] = d[j] - (uint64_t)min;
            all |= rel[j];
        }
        widths[m] = (uint8_t)pq_bit_width(all);
    }
    int rc = put_varint(out, meru_zigzag_enc64(min));
    if (rc)
        return rc;
    rc = meru_buf_append(out, widths, sizeof widths);
    if (rc)
        return rc;
    for (size_t m = 0; m * DELTA_MB_VALUES < k; m++) {
        unsigned w = widths[m];
        size_t bytes = DELTA_MB_VALUES / 8 * w;
        rc = meru_buf_reserve(out, bytes);
        if (rc)
            return rc;
        pq_bitwriter bw = {out->data + out->len, 0, 0};
        const uint64_t *v = rel + m * DELTA_MB_VALUES;
        for (size_t j = 0; j < DELTA_MB_VALUES; j++)
            pq_bw_put(&bw, v[j], w);
        pq_bw_flush(&bw);
        out->len += bytes;
    }
    return MERU_OK;
}

int pq_delta_encode_i64(meru_buf *out, const int64_t *vals, size_t n)
{
    size_t start_len = out->len;
    int rc = delta_put_header(out, n, n ? vals[0] : 0);
    uint64_t d[DELTA_BLOCK];
    for (size_t i = 1; !rc && i < n;) {
        size_t k = n - i < DELTA_BLOCK ? n - i : DELTA_BLOCK;
        for (size_t j = 0; j < k; j++)
            d[j] = (uint64_t)vals[i + j] - (uint64_t)vals[i + j - 1];
        rc = delta_put_block(out, d, k);
        i += k;
    }
    if (rc)
        out->len = start_len;
    return rc;
}

/* Sign-extended 32-bit wrap-around difference b - a. */
static inline uint64_t delta32(uint32_t a, uint32_t b)
{
    return (uint64_t)(int64_t)(int32_t)(b - a);
}

int pq_delta_encode_i32(meru_buf *out, const int32_t *vals, size_t n)
{
    size_t start_len = out->len;
    int rc = delta_put_header(out, n, n ? vals[0] : 0);
    uint64_t d[DELTA_BLOCK];
    for (size_t i = 1; !rc && i < n;) {
        size_t k = n - i < DELTA_BLOCK ? n - i : DELTA_BLOCK;
        for (size_t j = 0; j < k; j++)
            d[j] = delta32((uint32_t)vals[i + j - 1], (uint32_t)vals[i + j]);
        rc = delta_put_block(out, d, k);
        i += k;
    }
    if (rc)
        out->len = start_len;
    return rc;
}

/* ---------------------------------------------- DELTA_LENGTH_BYTE_ARRAY */

static int check_lengths(const pq_bytes *vals, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (vals[i].len > INT32_MAX)
            return meru_err(MERU_ERANGE,
                            "%s: value %zu is %u bytes, above the INT32 "
                            "length limit",
                            what, i, vals[i].len);
    }
    return MERU_OK;
}

/* DELTA_BINARY_PACKED of the lengths. */
static int put_lengths(meru_buf *out, const pq_bytes *vals, size_t n)
{
    uint32_t prev = n ? vals[0].len : 0;
    int rc = delta_put_header(out, n, prev);
    uint64_t d[DELTA_BLOCK];
    for (size_t i = 1; !rc && i < n;) {
        size_t k = n - i < DELTA_BLOCK ? n - i : DELTA_BLOCK;
        for (size_t j = 0; j < k; j++) {
            uint32_t cur = vals[i + j].len;
            d[j] = delta32(prev, cur);
            prev = cur;
        }
        rc = delta_put_block(out, d, k);
        i += k;
    }
    return rc;
}

int pq_delta_length_encode(meru_buf *out, const pq_bytes *vals, size_t n)
{
    size_t start_len = out->len;
    int rc = check_lengths(vals, n, "DELTA_LENGTH_BYTE_ARRAY");
    if (rc)
        return rc;
    rc = put_lengths(out, vals, n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = meru_buf_append(out, vals[i].ptr, vals[i].len);
    if (rc)
        out->len = start_len;
    return rc;
}

int pq_delta_length_decode(const uint8_t *p, size_t len, pq_bytes *out,
                           size_t n, size_t *consumed)
{
    if (n == 0 && len == 0) {
        if (consumed)
            *consumed = 0;
        return MERU_OK;
    }
    len_stream s;
    int rc = ls_init(&s, p, len, n, "DELTA_LENGTH_BYTE_ARRAY lengths");
    if (rc)
        return rc;
    uint64_t total = 0;
    size_t i = 0, got = 0;
    uint32_t l[32];
    for (;;) {
        rc = ls_next(&s, l, &got);
        if (rc)
            return rc;
        if (got == 0)
            break;
        for (size_t j = 0; j < got; j++) {
            out[i + j].ptr = NULL;
            out[i + j].len = l[j];
            total += l[j];
        }
        i += got;
        if (total > len)
            break; /* reported below */
    }
    size_t data = s.r.pos;
    if (total > len - data)
        return meru_err(MERU_ECORRUPT,
                        "DELTA_LENGTH_BYTE_ARRAY: lengths add up to more "
                        "than the %zu data bytes after offset %zu",
                        len - data, data);
    const uint8_t *q = p + data;
    for (i = 0; i < n; i++) {
        out[i].ptr = q;
        q += out[i].len;
    }
    if (consumed)
        *consumed = data + (size_t)total;
    return MERU_OK;
}

/* ---------------------------------------------------- DELTA_BYTE_ARRAY */

static uint32_t common_prefix(const pq_bytes *a, const pq_bytes *b)
{
    uint32_t max = a->len < b->len ? a->len : b->len, k = 0;
    while (k + 8 <= max) {
        uint64_t x = meru_load_le64(a->ptr + k) ^ meru_load_le64(b->ptr + k);
        if (x)
            return k + (uint32_t)(__builtin_ctzll(x) / 8);
        k += 8;
    }
    while (k < max && a->ptr[k] == b->ptr[k])
        k++;
    return k;
}

int pq_delta_bytes_encode(meru_buf *out, const pq_bytes *vals, size_t n)
{
    size_t start_len = out->len;
    int rc = check_lengths(vals, n, "DELTA_BYTE_ARRAY");
    if (rc)
        return rc;

    /* Prefix lengths, computed again below rather than buffered. */
    rc = delta_put_header(out, n, 0);
    uint64_t d[DELTA_BLOCK];
    uint32_t prev = 0;
    for (size_t i = 1; !rc && i < n;) {
        size_t k = n - i < DELTA_BLOCK ? n - i : DELTA_BLOCK;
        for (size_t j = 0; j < k; j++) {
            uint32_t cur = common_prefix(&vals[i + j - 1], &vals[i + j]);
            d[j] = delta32(prev, cur);
            prev = cur;
        }
        rc = delta_put_block(out, d, k);
        i += k;
    }

    /* Suffix lengths. */
    if (!rc)
        rc = delta_put_header(out, n, n ? vals[0].len : 0);
    prev = n ? vals[0].len : 0;
    for (size_t i = 1; !rc && i < n;) {
        size_t k = n - i < DELTA_BLOCK ? n - i : DELTA_BLOCK;
        for (size_t j = 0; j < k; j++) {
            const pq_bytes *v = &vals[i + j];
            uint32_t cur = v->len - common_prefix(&vals[i + j - 1], v);
            d[j] = delta32(prev, cur);
            prev = cur;
        }
        rc = delta_put_block(out, d, k);
        i += k;
    }

    /* Suffix bytes. */
    for (size_t i = 0; !rc && i < n; i++) {
        uint32_t pre = i ? common_prefix(&vals[i - 1], &vals[i]) : 0;
        if (vals[i].len > pre)
            rc = meru_buf_append(out, vals[i].ptr + pre, vals[i].len - pre);
    }
    if (rc)
        out->len = start_len;
    return rc;
}

int pq_delta_bytes_decode(const uint8_t *p, size_t len, pq_bytes *out, size_t n,
                          meru_buf *storage, size_t *consumed)
{
    if (n == 0 && len == 0) {
        if (consumed)
            *consumed = 0;
        return MERU_OK;
    }
    static const char pre_what[] = "DELTA_BYTE_ARRAY prefix lengths";
    static const char suf_what[] = "DELTA_BYTE_ARRAY suffix lengths";
    uint32_t l[32];
    size_t got = 0, i;

    /* Pass 1: prefix lengths into out[].len; find where they end. */
    len_stream s;
    int rc = ls_init(&s, p, len, n, pre_what);
    if (rc)
        return rc;
    for (i = 0;; i += got) {
        rc = ls_next(&s, l, &got);
        if (rc)
            return rc;
        if (got == 0)
            break;
        for (size_t j = 0; j < got; j++)
            out[i + j].len = l[j];
    }
    const size_t suf_start = s.r.pos;

    /* Pass 2: suffix lengths; check each prefix against the previous
     * value's length and total the bytes to materialise. */
    rc = ls_init(&s, p + suf_start, len - suf_start, n, suf_what);
    if (rc)
        return rc;
    uint64_t total = 0, suffix_total = 0, prev_len = 0;
    for (i = 0;; i += got) {
        rc = ls_next(&s, l, &got);
        if (rc)
            return rc;
        if (got == 0)
            break;
        for (size_t j = 0; j < got; j++) {
            uint64_t pre = out[i + j].len;
            if (pre > prev_len)
                return meru_err(MERU_ECORRUPT,
                                "DELTA_BYTE_ARRAY: prefix length %llu of "
                                "value %zu exceeds the previous value's "
                                "length %llu",
                                (unsigned long long)pre, i + j,
                                (unsigned long long)prev_len);
            uint64_t vlen = pre + l[j];
            if (vlen > UINT32_MAX)
                return meru_err(MERU_ECORRUPT,
                                "DELTA_BYTE_ARRAY: value %zu would be %llu "
                                "bytes long",
                                i + j, (unsigned long long)vlen);
            total += vlen;
            suffix_total += l[j];
            out[i + j].ptr = NULL;
            out[i + j].len = (uint32_t)vlen;
            prev_len = vlen;
        }
        if (total > DELTA_BYTES_MAX_OUTPUT)
            return meru_err(MERU_ERANGE,
                            "DELTA_BYTE_ARRAY: values would take more than "
                            "%llu bytes",
                            (unsigned long long)DELTA_BYTES_MAX_OUTPUT);
        if (suffix_total > len)
            break; /* reported below */
    }
    const size_t data = suf_start + s.r.pos;
    if (suffix_total > len - data)
        return meru_err(MERU_ECORRUPT,
                        "DELTA_BYTE_ARRAY: suffix lengths add up to more "
                        "than the %zu data bytes after offset %zu",
                        len - data, data);

    /* One reservation (at least a byte, so the base pointer is real);
     * nothing below reallocates, so earlier values stay put. */
    rc = meru_buf_reserve(storage, total ? (size_t)total : 1);
    if (rc)
        return rc;

    /* Pass 3: prefix lengths again; copy prefix + suffix into storage. */
    rc = ls_init(&s, p, len, n, pre_what);
    if (rc)
        return rc;
    const uint8_t *suf = p + data, *prev = NULL;
    for (i = 0;; i += got) {
        rc = ls_next(&s, l, &got);
        if (rc)
            return rc;
        if (got == 0)
            break;
        for (size_t j = 0; j < got; j++) {
            uint32_t pre = l[j], vlen = out[i + j].len, sl = vlen - pre;
            uint8_t *dst = storage->data + storage->len;
            if (pre)
                memcpy(dst, prev, pre);
            if (sl)
                memcpy(dst + pre, suf, sl);
            suf += sl;
            storage->len += vlen;
            out[i + j].ptr = dst;
            prev = dst;
        }
    }
    if (consumed)
        *consumed = data + (size_t)suffix_total;
    return MERU_OK;
}
