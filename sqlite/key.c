/* SPDX-License-Identifier: Apache-2.0 */
/*
 * key.c — the key bytes the module orders and identifies rows by.
 *
 * They order like the engine's keys (SPEC §3): big endian integers with
 * the sign bit flipped, IEEE total order for floats (-0.0 before +0.0; NaN
 * never reaches a key), strings and bytes (fixed ones too) with 0x00
 * escaped as 00 FF and ended by 00 00, so that no encoding is a prefix of
 * another and a leading run of columns encodes as a byte prefix of the
 * whole key. They are the module's own: the hidden _merutable_key column
 * of a composite key, the index and the sorted view of a transaction's
 * pending writes, the merge of those with the engine's rows. The engine
 * never sees them. The decoder checks every length: it only ever meets
 * bytes this module wrote, but the values travel through SQL.
 */
#include <string.h>

#include "msq.h"

static void put_be(uint8_t *o, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        o[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Total order of IEEE bits: negatives reversed below positives. */
static uint64_t float_order(uint64_t bits, uint64_t sign)
{
    return (bits & sign) ? ~bits : bits | sign;
}

static uint64_t float_unorder(uint64_t u, uint64_t sign)
{
    return (u & sign) ? u & ~sign : ~u; /* callers keep the low bits */
}

/* Bytes with 00 -> 00 FF, then the 00 00 terminator. */
static int put_escaped(msq_buf *b, const uint8_t *p, size_t n)
{
    size_t zeros = 0;
    for (size_t i = 0; i < n; i++)
        zeros += p[i] == 0;
    if (msq_buf_reserve(b, n + zeros + 2))
        return MERU_ENOMEM;
    uint8_t *o = b->p + b->n;
    for (size_t i = 0; i < n; i++) {
        *o++ = p[i];
        if (p[i] == 0)
            *o++ = 0xff;
    }
    *o++ = 0;
    *o++ = 0;
    b->n = (size_t)(o - b->p);
    return MERU_OK;
}

static int encode_column(const meru_schema *s, const meru_row *row, size_t col,
                         msq_buf *b)
{
    uint8_t w[16];
    int n = 0;
    if (!meru_row_is_set(row, col) || meru_row_is_null(row, col))
        return MERU_EINVAL;
    switch (meru_schema_column_type(s, col)) {
    case MERU_TYPE_BOOLEAN: {
        int v = 0;
        meru_row_get_bool(row, col, &v);
        w[0] = (uint8_t)(v != 0);
        n = 1;
        break;
    }
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE: {
        int32_t v = 0;
        if (meru_schema_column_type(s, col) == MERU_TYPE_DATE)
            meru_row_get_date(row, col, &v);
        else
            meru_row_get_int32(row, col, &v);
        put_be(w, (uint32_t)v ^ UINT32_C(0x80000000), 4);
        n = 4;
        break;
    }
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ: {
        int64_t v = 0;
        if (meru_schema_column_type(s, col) == MERU_TYPE_INT64)
            meru_row_get_int64(row, col, &v);
        else
            meru_row_get_timestamp(row, col, &v);
        put_be(w, (uint64_t)v ^ UINT64_C(0x8000000000000000), 8);
        n = 8;
        break;
    }
    case MERU_TYPE_FLOAT: {
        float f = 0;
        uint32_t u;
        meru_row_get_float(row, col, &f);
        memcpy(&u, &f, 4);
        put_be(w, float_order(u, UINT32_C(0x80000000)) & 0xffffffffu, 4);
        n = 4;
        break;
    }
    case MERU_TYPE_DOUBLE: {
        double d = 0;
        uint64_t u;
        meru_row_get_double(row, col, &d);
        memcpy(&u, &d, 8);
        put_be(w, float_order(u, UINT64_C(0x8000000000000000)), 8);
        n = 8;
        break;
    }
    case MERU_TYPE_DECIMAL: {
        int64_t hi = 0;
        uint64_t lo = 0;
        meru_row_get_decimal(row, col, &hi, &lo);
        put_be(w, (uint64_t)hi ^ UINT64_C(0x8000000000000000), 8);
        put_be(w + 8, lo, 8);
        n = 16;
        break;
    }
    case MERU_TYPE_STRING: {
        const char *p = NULL;
        size_t len = 0;
        meru_row_get_string(row, col, &p, &len);
        return put_escaped(b, (const uint8_t *)p, len);
    }
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED: {
        const void *p = NULL;
        size_t len = 0;
        meru_row_get_binary(row, col, &p, &len);
        return put_escaped(b, p, len);
    }
    }
    return msq_buf_put(b, w, (size_t)n);
}

int msq_key_encode(const meru_schema *s, const meru_row *row, size_t nkey,
                   msq_buf *out)
{
    for (size_t i = 0; i < nkey; i++) {
        int rc =
            encode_column(s, row, (size_t)meru_schema_key_column(s, i), out);
        if (rc)
            return rc;
    }
    return MERU_OK;
}

/* Unescapes one byte string at p[*i..n) into `tmp`; MERU_EINVAL when the
 * terminator is missing or an escape is malformed. */
static int get_escaped(const uint8_t *p, size_t n, size_t *i, msq_buf *tmp)
{
    tmp->n = 0;
    size_t k = *i;
    while (k < n) {
        if (p[k] != 0) {
            if (msq_buf_put(tmp, p + k, 1))
                return MERU_ENOMEM;
            k++;
            continue;
        }
        if (k + 1 >= n)
            return MERU_EINVAL;
        if (p[k + 1] == 0) {
            *i = k + 2;
            return MERU_OK;
        }
        if (p[k + 1] != 0xff)
            return MERU_EINVAL;
        if (msq_buf_put(tmp, p + k, 1))
            return MERU_ENOMEM;
        k += 2;
    }
    return MERU_EINVAL;
}

int msq_key_decode(const meru_schema *s, const uint8_t *p, size_t n,
                   meru_row *row)
{
    msq_buf tmp = {0};
    size_t i = 0;
    int rc = MERU_OK;
    for (size_t k = 0; k < meru_schema_key_count(s) && !rc; k++) {
        size_t col = (size_t)meru_schema_key_column(s, k);
        meru_type t = meru_schema_column_type(s, col);
        int w = t == MERU_TYPE_BOOLEAN ? 1
                : t == MERU_TYPE_INT32 || t == MERU_TYPE_DATE ||
                        t == MERU_TYPE_FLOAT
                    ? 4
                : t == MERU_TYPE_DECIMAL ? 16
                : t == MERU_TYPE_STRING || t == MERU_TYPE_BINARY ||
                        t == MERU_TYPE_FIXED
                    ? 0
                    : 8;
        if (w == 0) {
            rc = get_escaped(p, n, &i, &tmp);
            if (!rc)
                rc = t == MERU_TYPE_STRING
                         ? meru_row_set_string(
                               row, col, tmp.p ? (char *)tmp.p : "", tmp.n)
                         : meru_row_set_binary(row, col, tmp.p ? tmp.p : p,
                                               tmp.n);
            continue;
        }
        if (n - i < (size_t)w) {
            rc = MERU_EINVAL;
            break;
        }
        uint64_t u = get_be(p + i, w > 8 ? 8 : w);
        switch (t) {
        case MERU_TYPE_BOOLEAN:
            rc = u > 1 ? MERU_EINVAL : meru_row_set_bool(row, col, (int)u);
            break;
        case MERU_TYPE_INT32:
        case MERU_TYPE_DATE: {
            int32_t v = (int32_t)(uint32_t)(u ^ UINT32_C(0x80000000));
            rc = t == MERU_TYPE_DATE ? meru_row_set_date(row, col, v)
                                     : meru_row_set_int32(row, col, v);
            break;
        }
        case MERU_TYPE_FLOAT: {
            uint32_t b = (uint32_t)float_unorder(u, UINT32_C(0x80000000));
            float f;
            memcpy(&f, &b, 4);
            rc = meru_row_set_float(row, col, f);
            break;
        }
        case MERU_TYPE_DOUBLE: {
            uint64_t b = float_unorder(u, UINT64_C(0x8000000000000000));
            double d;
            memcpy(&d, &b, 8);
            rc = meru_row_set_double(row, col, d);
            break;
        }
        case MERU_TYPE_DECIMAL:
            rc = meru_row_set_decimal(
                row, col, (int64_t)(u ^ UINT64_C(0x8000000000000000)),
                get_be(p + i + 8, 8));
            break;
        default: {
            int64_t v = (int64_t)(u ^ UINT64_C(0x8000000000000000));
            rc = t == MERU_TYPE_INT64 ? meru_row_set_int64(row, col, v)
                                      : meru_row_set_timestamp(row, col, v);
            break;
        }
        }
        i += (size_t)w;
    }
    msq_buf_free(&tmp);
    if (!rc && i != n)
        rc = MERU_EINVAL;
    return rc;
}

int msq_bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return an < bn ? -1 : an > bn;
}

int msq_key_cmp_prefix(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return msq_bytes_cmp(a, an < bn ? an : bn, b, bn);
}
