/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_types.c — schema column types <-> Parquet columns (the mapping is
 * documented in sst_internal.h), and the small conversions the reader and
 * writer share: batch element -> meru_value, key value -> PLAIN bytes for
 * the bloom filter, placeholders.
 */
#include <string.h>

#include "sst/sst_internal.h"
#include "util/endian.h"
#include "util/error.h"

int32_t sst_decimal_bytes(int32_t precision)
{
    /* The fewest bytes n with 10^p - 1 <= 2^(8n-1) - 1 (Iceberg's
     * decimalRequiredBytes): p * log2(10) + 1 sign bit, rounded up. */
    if (precision < 1)
        precision = 1;
    if (precision > 38)
        precision = 38;
    double bits = (double)precision * 3.321928094887362 + 1.0;
    int32_t n = (int32_t)(bits / 8.0);
    if ((double)n * 8.0 < bits)
        n++;
    return n;
}

void sst_column_spec(const meru_column *c, pq_column_spec *out)
{
    memset(out, 0, sizeof *out);
    out->name = c->name;
    out->has_field_id = true;
    out->field_id = c->field_id;
    bool key = c->key_position >= 0;
    out->repetition = key ? PQ_REQUIRED : PQ_OPTIONAL;
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        out->type = PQ_BOOLEAN;
        break;
    case MERU_TYPE_INT32:
        out->type = PQ_INT32;
        break;
    case MERU_TYPE_INT64:
        out->type = PQ_INT64;
        break;
    case MERU_TYPE_FLOAT:
        out->type = PQ_FLOAT;
        break;
    case MERU_TYPE_DOUBLE:
        out->type = PQ_DOUBLE;
        break;
    case MERU_TYPE_STRING:
        out->type = PQ_BYTE_ARRAY;
        out->logical.kind = PQ_LT_STRING;
        break;
    case MERU_TYPE_BINARY:
        out->type = PQ_BYTE_ARRAY;
        break;
    case MERU_TYPE_FIXED:
        out->type = PQ_FIXED_LEN_BYTE_ARRAY;
        out->type_length = c->fixed_length;
        break;
    case MERU_TYPE_DATE:
        out->type = PQ_INT32;
        out->logical.kind = PQ_LT_DATE;
        break;
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        out->type = PQ_INT64;
        out->logical.kind = PQ_LT_TIMESTAMP;
        out->logical.unit = PQ_UNIT_MICROS;
        out->logical.is_adjusted_to_utc = c->type == MERU_TYPE_TIMESTAMPTZ;
        break;
    case MERU_TYPE_DECIMAL:
        if (c->precision <= 9) {
            out->type = PQ_INT32;
        } else if (c->precision <= 18) {
            out->type = PQ_INT64;
        } else {
            out->type = PQ_FIXED_LEN_BYTE_ARRAY;
            out->type_length = sst_decimal_bytes(c->precision);
        }
        out->logical.kind = PQ_LT_DECIMAL;
        out->logical.decimal_precision = c->precision;
        out->logical.decimal_scale = c->scale;
        break;
    }
    /* The standard split-block filter on every key column (Parquet defines
     * none for BOOLEAN, which has two values anyway). */
    out->bloom_filter = key && out->type != PQ_BOOLEAN;
}

bool sst_column_compatible(const meru_column *c, const pq_column_info *fi,
                           const char **why)
{
    *why = "the file column's physical type does not match";
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        return fi->type == PQ_BOOLEAN;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        return fi->type == PQ_INT32;
    case MERU_TYPE_INT64:
        return fi->type == PQ_INT64 || fi->type == PQ_INT32;
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        return fi->type == PQ_INT64;
    case MERU_TYPE_FLOAT:
        return fi->type == PQ_FLOAT;
    case MERU_TYPE_DOUBLE:
        return fi->type == PQ_DOUBLE || fi->type == PQ_FLOAT;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
        return fi->type == PQ_BYTE_ARRAY;
    case MERU_TYPE_FIXED:
        if (fi->type != PQ_FIXED_LEN_BYTE_ARRAY)
            return false;
        *why = "the file column's fixed length differs";
        return fi->type_length == c->fixed_length;
    case MERU_TYPE_DECIMAL:
        if (fi->type == PQ_FIXED_LEN_BYTE_ARRAY &&
            (fi->type_length < 1 || fi->type_length > 16)) {
            *why = "the file's decimal is wider than 16 bytes";
            return false;
        }
        if (fi->type != PQ_INT32 && fi->type != PQ_INT64 &&
            fi->type != PQ_FIXED_LEN_BYTE_ARRAY && fi->type != PQ_BYTE_ARRAY)
            return false;
        if (fi->logical.kind == PQ_LT_DECIMAL &&
            fi->logical.decimal_scale != c->scale) {
            *why = "the file's decimal scale differs";
            return false;
        }
        return true;
    }
    *why = "the column has an unknown type";
    return false;
}

/* Big-endian two's complement of `n` (1..16) bytes, sign-extended. */
static meru_i128 be_to_i128(const uint8_t *p, size_t n)
{
    uint8_t b[16];
    memset(b, n && (p[0] & 0x80) ? 0xff : 0x00, sizeof b);
    if (n > 16) { /* the reader checks; never reached */
        p += n - 16;
        n = 16;
    }
    memcpy(b + 16 - n, p, n);
    meru_i128 v;
    v.hi = (int64_t)meru_load_be64(b);
    v.lo = meru_load_be64(b + 8);
    return v;
}

void sst_value_from_batch(const meru_column *c, const pq_column_info *fi,
                          const pq_batch *b, size_t i, meru_value *out)
{
    memset(out, 0, sizeof *out);
    out->state = MERU_VALUE_PRESENT;
    const uint8_t *base = b->values;
    int32_t i32 = 0;
    int64_t i64 = 0;
    float f = 0;
    pq_bytes by = {0};
    switch (fi->type) {
    case PQ_BOOLEAN:
        out->u.b = base[i] ? 1 : 0;
        return;
    case PQ_INT32:
        memcpy(&i32, base + 4 * i, 4);
        i64 = i32;
        break;
    case PQ_INT64:
        memcpy(&i64, base + 8 * i, 8);
        break;
    case PQ_FLOAT:
        memcpy(&f, base + 4 * i, 4);
        break;
    case PQ_DOUBLE:
        memcpy(&out->u.f64, base + 8 * i, 8);
        return;
    case PQ_BYTE_ARRAY:
    case PQ_FIXED_LEN_BYTE_ARRAY:
        memcpy(&by, base + sizeof(pq_bytes) * i, sizeof by);
        break;
    default:
        break;
    }
    switch (c->type) {
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        out->u.i32 = i32;
        break;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        out->u.i64 = i64;
        break;
    case MERU_TYPE_FLOAT:
        out->u.f32 = f;
        break;
    case MERU_TYPE_DOUBLE: /* a FLOAT file column promoted */
        out->u.f64 = (double)f;
        break;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
        out->u.bytes.ptr = by.ptr;
        out->u.bytes.len = by.len;
        break;
    case MERU_TYPE_DECIMAL:
        if (fi->type == PQ_INT32 || fi->type == PQ_INT64) {
            out->u.dec.lo = (uint64_t)i64;
            out->u.dec.hi = i64 < 0 ? -1 : 0;
        } else {
            out->u.dec = be_to_i128(by.ptr, by.len);
        }
        break;
    default:
        break;
    }
}

bool sst_plain_key(const meru_column *c, const pq_column_info *fi,
                   const meru_value *v, uint8_t out[16], const uint8_t **p,
                   size_t *len)
{
    *p = out;
    switch (c->type) {
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        if (fi->type != PQ_INT32)
            return false;
        meru_store_le32(out, (uint32_t)v->u.i32);
        *len = 4;
        return true;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        if (fi->type != PQ_INT64)
            return false;
        meru_store_le64(out, (uint64_t)v->u.i64);
        *len = 8;
        return true;
    case MERU_TYPE_FLOAT:
        if (fi->type != PQ_FLOAT)
            return false;
        memcpy(out, &v->u.f32, 4);
        *len = 4;
        return true;
    case MERU_TYPE_DOUBLE:
        if (fi->type != PQ_DOUBLE)
            return false;
        memcpy(out, &v->u.f64, 8);
        *len = 8;
        return true;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
        *p = v->u.bytes.ptr;
        *len = v->u.bytes.len;
        return true;
    case MERU_TYPE_DECIMAL:
        if (fi->type == PQ_INT32) {
            meru_store_le32(out, (uint32_t)v->u.dec.lo);
            *len = 4;
        } else if (fi->type == PQ_INT64) {
            meru_store_le64(out, v->u.dec.lo);
            *len = 8;
        } else if (fi->type == PQ_FIXED_LEN_BYTE_ARRAY &&
                   fi->type_length >= 1 && fi->type_length <= 16) {
            uint8_t b[16];
            meru_store_be64(b, (uint64_t)v->u.dec.hi);
            meru_store_be64(b + 8, v->u.dec.lo);
            size_t n = (size_t)fi->type_length;
            memcpy(out, b + 16 - n, n);
            *len = n;
        } else {
            return false;
        }
        return true;
    default:
        return false;
    }
}

void sst_placeholder(const meru_column *c, const uint8_t *zeros,
                     meru_value *out)
{
    memset(out, 0, sizeof *out);
    out->state = MERU_VALUE_PRESENT;
    if (c->type == MERU_TYPE_FIXED) {
        out->u.bytes.ptr = zeros;
        out->u.bytes.len = (uint32_t)c->fixed_length;
    } else if (c->type == MERU_TYPE_STRING || c->type == MERU_TYPE_BINARY) {
        out->u.bytes.ptr = zeros;
        out->u.bytes.len = 0;
    }
}

int sst_read_rc(int rc)
{
    if (rc == MERU_ENOTSUP || rc == MERU_EINVAL)
        return meru_err_wrap(MERU_ECORRUPT, "damaged SST");
    return rc;
}
