/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keycodec.c — primary-key encoding/decoding and internal-key trailers. The
 * format is described in keycodec.h.
 *
 * Encoding runs in two passes over the key columns: the first checks every
 * value and computes the exact encoded size, the second writes into the
 * caller's buffer after a single reserve. So a failure leaves the buffer
 * untouched and there is never more than one allocation per key.
 *
 * Decoding treats the input as hostile: every component checks the bytes
 * left before reading, and only canonical encodings are accepted, so a
 * successful decode always re-encodes to the same bytes.
 */
#include "types/keycodec.h"

#include "util/error.h"

#define SIGN32 UINT32_C(0x80000000)
#define SIGN64 UINT64_C(0x8000000000000000)

/* The value of key column i: from `vals`, or from `row` (falling back to the
 * column's write default when the row leaves it unset). */
static inline const meru_value *key_value(const meru_schema *s,
                                          const meru_value *vals,
                                          const meru_row *row, size_t i)
{
    if (vals)
        return &vals[i];
    const meru_column *c = &s->cols[s->key_cols[i]];
    const meru_value *v = &row->vals[s->key_cols[i]];
    if (v->state == MERU_VALUE_UNSET &&
        c->write_default.state == MERU_VALUE_PRESENT)
        return &c->write_default;
    return v;
}

static size_t count_zeros(const uint8_t *p, size_t len)
{
    size_t n = 0;
    const uint8_t *end = p + len;
    while (p < end) {
        const uint8_t *z = memchr(p, 0, (size_t)(end - p));
        if (!z)
            break;
        n++;
        p = z + 1;
    }
    return n;
}

/* Checks one value and returns its encoded size in *size. */
static int value_size(const meru_column *c, const meru_value *v, size_t *size)
{
    if (v->state != MERU_VALUE_PRESENT)
        return meru_err(MERU_EINVAL, "key column '%s' is null%s", c->name,
                        v->state == MERU_VALUE_UNSET ? " (not set)" : "");
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        *size = 1;
        return MERU_OK;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        *size = 4;
        return MERU_OK;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        *size = 8;
        return MERU_OK;
    case MERU_TYPE_FLOAT: {
        uint32_t u;
        memcpy(&u, &v->u.f32, 4);
        if ((u & ~SIGN32) > UINT32_C(0x7f800000))
            return meru_err(MERU_EINVAL,
                            "NaN is not allowed in key column '%s'", c->name);
        *size = 4;
        return MERU_OK;
    }
    case MERU_TYPE_DOUBLE: {
        uint64_t u;
        memcpy(&u, &v->u.f64, 8);
        if ((u & ~SIGN64) > UINT64_C(0x7ff0000000000000))
            return meru_err(MERU_EINVAL,
                            "NaN is not allowed in key column '%s'", c->name);
        *size = 8;
        return MERU_OK;
    }
    case MERU_TYPE_DECIMAL:
        *size = 16;
        return MERU_OK;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY: {
        size_t len = v->u.bytes.len;
        if (len > MERU_MAX_VALUE_BYTES)
            return meru_err(MERU_ERANGE,
                            "key column '%s': value of %zu bytes exceeds the "
                            "limit of %u",
                            c->name, len, MERU_MAX_VALUE_BYTES);
        if (len && !v->u.bytes.ptr)
            return meru_err(MERU_EINVAL, "key column '%s': NULL bytes pointer",
                            c->name);
        *size = len + (len ? count_zeros(v->u.bytes.ptr, len) : 0) + 2;
        return MERU_OK;
    }
    case MERU_TYPE_FIXED: {
        size_t len = v->u.bytes.len;
        if (c->fixed_length <= 0 || len != (size_t)c->fixed_length)
            return meru_err(MERU_EINVAL,
                            "key column '%s': fixed value of %zu bytes, the "
                            "column holds %d",
                            c->name, len, (int)c->fixed_length);
        if (!v->u.bytes.ptr)
            return meru_err(MERU_EINVAL, "key column '%s': NULL bytes pointer",
                            c->name);
        *size = len;
        return MERU_OK;
    }
    }
    return meru_err(MERU_EINVAL, "key column '%s' has unknown type %d", c->name,
                    (int)c->type);
}

/* Writes one value already checked by value_size(); returns the end. */
static uint8_t *put_value(uint8_t *p, const meru_column *c, const meru_value *v)
{
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        *p = v->u.b ? 1 : 0;
        return p + 1;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        meru_store_be32(p, (uint32_t)v->u.i32 ^ SIGN32);
        return p + 4;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        meru_store_be64(p, (uint64_t)v->u.i64 ^ SIGN64);
        return p + 8;
    case MERU_TYPE_FLOAT: {
        uint32_t u;
        memcpy(&u, &v->u.f32, 4);
        meru_store_be32(p, (u & SIGN32) ? ~u : u ^ SIGN32);
        return p + 4;
    }
    case MERU_TYPE_DOUBLE: {
        uint64_t u;
        memcpy(&u, &v->u.f64, 8);
        meru_store_be64(p, (u & SIGN64) ? ~u : u ^ SIGN64);
        return p + 8;
    }
    case MERU_TYPE_DECIMAL:
        meru_store_be64(p, (uint64_t)v->u.dec.hi ^ SIGN64);
        meru_store_be64(p + 8, v->u.dec.lo);
        return p + 16;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY: {
        size_t len = v->u.bytes.len;
        if (len) {
            const uint8_t *s = v->u.bytes.ptr, *end = s + len;
            while (s < end) {
                const uint8_t *z = memchr(s, 0, (size_t)(end - s));
                size_t run = (size_t)((z ? z : end) - s);
                memcpy(p, s, run);
                p += run;
                if (!z)
                    break;
                *p++ = 0x00;
                *p++ = 0xff;
                s = z + 1;
            }
        }
        *p++ = 0x00;
        *p++ = 0x00;
        return p;
    }
    case MERU_TYPE_FIXED:
        memcpy(p, v->u.bytes.ptr, v->u.bytes.len);
        return p + v->u.bytes.len;
    }
    return p; /* unreachable: value_size() rejected the type */
}

static int encode(const meru_schema *s, const meru_value *vals,
                  const meru_row *row, size_t n, meru_buf *out)
{
    if (n > s->nkey)
        return meru_err(MERU_EINVAL,
                        "key encode: %zu values for a key of %zu columns", n,
                        s->nkey);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t sz = 0;
        int rc = value_size(&s->cols[s->key_cols[i]],
                            key_value(s, vals, row, i), &sz);
        if (rc)
            return rc;
        total += sz;
    }
    if (total == 0) /* n == 0: nothing to append (out->data may be NULL) */
        return MERU_OK;
    int rc = meru_buf_reserve(out, total);
    if (rc)
        return rc;
    uint8_t *p = out->data + out->len;
    for (size_t i = 0; i < n; i++)
        p = put_value(p, &s->cols[s->key_cols[i]], key_value(s, vals, row, i));
    out->len += total;
    return MERU_OK;
}

int meru_key_encode(const meru_schema *s, const meru_value *vals, size_t n,
                    meru_buf *out)
{
    if (n && !vals)
        return meru_err(MERU_EINVAL, "key encode: no values");
    return encode(s, vals, NULL, n, out);
}

int meru_key_encode_row(const meru_schema *s, const meru_row *row,
                        meru_buf *out)
{
    return encode(s, NULL, row, s->nkey, out);
}

/* ------------------------------------------------------------------ decode */

static int truncated(const meru_column *c, size_t off)
{
    return meru_err(MERU_ECORRUPT,
                    "key decode: column '%s' cut short (offset %zu)", c->name,
                    off);
}

/*
 * Decodes one STRING/BINARY component at key[*pos]: zero-copy when it holds
 * no escaped 0x00, else unescaped into scratch (reserved once per decode for
 * all the bytes left, which bounds every later unescaped output).
 */
static int decode_bytes(const meru_column *c, const uint8_t *key, size_t len,
                        size_t *pos, meru_value *v, meru_buf *scratch,
                        int *reserved)
{
    size_t start = *pos, i = start;
    uint8_t *dst = NULL;
    size_t outlen = 0;
    for (;;) {
        const uint8_t *z = memchr(key + i, 0, len - i);
        if (!z)
            return meru_err(MERU_ECORRUPT,
                            "key decode: column '%s' has no terminator "
                            "(offset %zu)",
                            c->name, start);
        size_t zi = (size_t)(z - key);
        if (zi + 1 >= len)
            return truncated(c, zi);
        uint8_t next = key[zi + 1];
        if (next != 0x00 && next != 0xff)
            return meru_err(MERU_ECORRUPT,
                            "key decode: column '%s' has bad escape 0x00 "
                            "0x%02x (offset %zu)",
                            c->name, next, zi);
        size_t run = zi - i;
        if (outlen + run + (next == 0xff) > MERU_MAX_VALUE_BYTES)
            return meru_err(MERU_ECORRUPT,
                            "key decode: column '%s' longer than %u bytes "
                            "(offset %zu)",
                            c->name, MERU_MAX_VALUE_BYTES, start);
        if (next == 0x00 && !dst) {
            /* No escape met: borrow the bytes straight from the key. */
            v->u.bytes.ptr = key + start;
            v->u.bytes.len = (uint32_t)run;
            *pos = zi + 2;
            return MERU_OK;
        }
        if (!dst) {
            if (!scratch)
                return meru_err(MERU_EINVAL,
                                "key decode: column '%s' needs a scratch "
                                "buffer",
                                c->name);
            if (!*reserved) {
                int rc = meru_buf_reserve(scratch, len - start);
                if (rc)
                    return rc;
                *reserved = 1;
            }
            dst = scratch->data + scratch->len;
        }
        memcpy(dst + outlen, key + i, run);
        outlen += run;
        i = zi + 2;
        if (next == 0x00)
            break;
        dst[outlen++] = 0x00;
    }
    v->u.bytes.ptr = dst;
    v->u.bytes.len = (uint32_t)outlen;
    scratch->len += outlen;
    *pos = i;
    return MERU_OK;
}

static int decode_one(const meru_column *c, const uint8_t *key, size_t len,
                      size_t *pos, meru_value *v, meru_buf *scratch,
                      int *reserved)
{
    size_t p = *pos, left = len - p;
    v->state = MERU_VALUE_PRESENT;
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        if (key[p] > 1)
            return meru_err(MERU_ECORRUPT,
                            "key decode: column '%s' boolean byte 0x%02x "
                            "(offset %zu)",
                            c->name, key[p], p);
        v->u.b = key[p];
        *pos = p + 1;
        return MERU_OK;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        if (left < 4)
            return truncated(c, p);
        v->u.i32 = (int32_t)(meru_load_be32(key + p) ^ SIGN32);
        *pos = p + 4;
        return MERU_OK;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        if (left < 8)
            return truncated(c, p);
        v->u.i64 = (int64_t)(meru_load_be64(key + p) ^ SIGN64);
        *pos = p + 8;
        return MERU_OK;
    case MERU_TYPE_FLOAT: {
        if (left < 4)
            return truncated(c, p);
        uint32_t u = meru_load_be32(key + p);
        u = (u & SIGN32) ? u ^ SIGN32 : ~u;
        if ((u & ~SIGN32) > UINT32_C(0x7f800000))
            return meru_err(MERU_ECORRUPT,
                            "key decode: column '%s' is NaN (offset %zu)",
                            c->name, p);
        memcpy(&v->u.f32, &u, 4);
        *pos = p + 4;
        return MERU_OK;
    }
    case MERU_TYPE_DOUBLE: {
        if (left < 8)
            return truncated(c, p);
        uint64_t u = meru_load_be64(key + p);
        u = (u & SIGN64) ? u ^ SIGN64 : ~u;
        if ((u & ~SIGN64) > UINT64_C(0x7ff0000000000000))
            return meru_err(MERU_ECORRUPT,
                            "key decode: column '%s' is NaN (offset %zu)",
                            c->name, p);
        memcpy(&v->u.f64, &u, 8);
        *pos = p + 8;
        return MERU_OK;
    }
    case MERU_TYPE_DECIMAL:
        if (left < 16)
            return truncated(c, p);
        v->u.dec.hi = (int64_t)(meru_load_be64(key + p) ^ SIGN64);
        v->u.dec.lo = meru_load_be64(key + p + 8);
        *pos = p + 16;
        return MERU_OK;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
        return decode_bytes(c, key, len, pos, v, scratch, reserved);
    case MERU_TYPE_FIXED:
        if (c->fixed_length <= 0 || left < (size_t)c->fixed_length)
            return truncated(c, p);
        v->u.bytes.ptr = key + p;
        v->u.bytes.len = (uint32_t)c->fixed_length;
        *pos = p + (size_t)c->fixed_length;
        return MERU_OK;
    }
    return meru_err(MERU_EINVAL, "key decode: column '%s' has unknown type %d",
                    c->name, (int)c->type);
}

int meru_key_decode(const meru_schema *s, const uint8_t *key, size_t len,
                    meru_value *vals, size_t *n_out, meru_buf *scratch)
{
    size_t pos = 0, n = 0;
    size_t scratch_len0 = scratch ? scratch->len : 0;
    int reserved = 0, rc = MERU_OK;
    *n_out = 0;
    while (pos < len) {
        if (n == s->nkey) {
            rc = meru_err(MERU_ECORRUPT,
                          "key decode: %zu bytes after the last key column "
                          "(offset %zu)",
                          len - pos, pos);
            goto fail;
        }
        rc = decode_one(&s->cols[s->key_cols[n]], key, len, &pos, &vals[n],
                        scratch, &reserved);
        if (rc)
            goto fail;
        n++;
    }
    *n_out = n;
    return MERU_OK;
fail:
    if (scratch)
        scratch->len = scratch_len0;
    return rc;
}

int meru_key_prefix_successor(meru_buf *key)
{
    while (key->len && key->data[key->len - 1] == 0xff)
        key->len--;
    if (!key->len)
        return MERU_NOT_FOUND;
    key->data[key->len - 1]++;
    return MERU_OK;
}

/* ----------------------------------------------------------- internal keys */

int meru_ikey_append_trailer(meru_buf *b, uint64_t seq, int op)
{
    if (seq > MERU_SEQ_MAX)
        return meru_err(MERU_EINVAL,
                        "internal key: sequence %llu exceeds 2^56-1",
                        (unsigned long long)seq);
    if (op != MERU_OP_DELETE && op != MERU_OP_PUT)
        return meru_err(MERU_EINVAL, "internal key: bad op %d", op);
    int rc = meru_buf_reserve(b, MERU_IKEY_TRAILER_LEN);
    if (rc)
        return rc;
    meru_ikey_trailer_encode(b->data + b->len, seq, op);
    b->len += MERU_IKEY_TRAILER_LEN;
    return MERU_OK;
}

int meru_ikey_append_seek_trailer(meru_buf *b, uint64_t seq)
{
    return meru_ikey_append_trailer(b, seq, MERU_OP_MAX);
}

int meru_ikey_parse(const uint8_t *ikey, size_t len, size_t *ukey_len,
                    uint64_t *seq, int *op)
{
    if (len < MERU_IKEY_TRAILER_LEN)
        return meru_err(MERU_ECORRUPT,
                        "internal key of %zu bytes is shorter than its "
                        "8-byte trailer",
                        len);
    size_t ulen = len - MERU_IKEY_TRAILER_LEN;
    uint64_t x = ~meru_load_be64(ikey + ulen);
    int o = (int)(x & 0xff);
    if (o != MERU_OP_DELETE && o != MERU_OP_PUT)
        return meru_err(MERU_ECORRUPT, "internal key: bad op %d (offset %zu)",
                        o, ulen + 7);
    if (ukey_len)
        *ukey_len = ulen;
    if (seq)
        *seq = x >> 8;
    if (op)
        *op = o;
    return MERU_OK;
}
