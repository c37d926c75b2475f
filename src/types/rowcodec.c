/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rowcodec.c — encode / decode the non-key values of a row (layout in
 * rowcodec.h).
 *
 * Encoding makes two passes over the effective values: one to size the
 * output (so `out` grows exactly once), one to write. Decoding is one pass
 * that checks every length against the bytes left before reading; the
 * copying decode is the zero-copy one followed by a copy into the row.
 */
#include <stdlib.h>
#include <string.h>

#include "types/keycodec.h"
#include "types/rowcodec.h"
#include "util/endian.h"
#include "util/error.h"
#include "util/varint.h"

/* Effective value of column `col` for encoding: columns the row does not
 * have (the schema grew after the row was made) read as unset. */
static const meru_value *effective(const meru_schema *s, const meru_row *row,
                                   size_t col, meru_value *tmp)
{
    if (col < row->ncols)
        return meru_row_effective(row, col, tmp);
    const meru_column *c = &s->cols[col];
    if (c->write_default.state == MERU_VALUE_PRESENT)
        return &c->write_default;
    memset(tmp, 0, sizeof *tmp);
    tmp->state = MERU_VALUE_NULL;
    return tmp;
}

/* Encoded size of a PRESENT value of column `c`, or 0 with the error set. */
static size_t value_size(const meru_column *c, const meru_value *v, int *rc)
{
    char lb[MERU_LABEL_MAX];
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        return 1;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
    case MERU_TYPE_FLOAT:
        return 4;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
    case MERU_TYPE_DOUBLE:
        return 8;
    case MERU_TYPE_DECIMAL:
        return 16;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
        if (v->u.bytes.len > MERU_MAX_VALUE_BYTES ||
            (!v->u.bytes.ptr && v->u.bytes.len)) {
            *rc = meru_err(MERU_EINVAL,
                           "encoding a row: %s: bad value of %u bytes",
                           meru_column_label(c, lb), v->u.bytes.len);
            return 0;
        }
        return meru_varint_len64(v->u.bytes.len) + v->u.bytes.len;
    case MERU_TYPE_FIXED:
        if (v->u.bytes.len != (uint32_t)c->fixed_length ||
            (!v->u.bytes.ptr && v->u.bytes.len)) {
            *rc = meru_err(MERU_EINVAL,
                           "encoding a row: %s: fixed value of %u bytes, "
                           "expected %d",
                           meru_column_label(c, lb), v->u.bytes.len,
                           (int)c->fixed_length);
            return 0;
        }
        return v->u.bytes.len;
    }
    *rc = meru_err(MERU_EINTERNAL, "encoding a row: %s has unknown type %d",
                   meru_column_label(c, lb), (int)c->type);
    return 0;
}

static uint8_t *put_value(uint8_t *p, const meru_column *c,
                          const meru_value *v)
{
    uint32_t u32;
    uint64_t u64;
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        *p++ = v->u.b ? 1 : 0;
        break;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        meru_store_le32(p, (uint32_t)v->u.i32);
        p += 4;
        break;
    case MERU_TYPE_FLOAT:
        memcpy(&u32, &v->u.f32, 4);
        meru_store_le32(p, u32);
        p += 4;
        break;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        meru_store_le64(p, (uint64_t)v->u.i64);
        p += 8;
        break;
    case MERU_TYPE_DOUBLE:
        memcpy(&u64, &v->u.f64, 8);
        meru_store_le64(p, u64);
        p += 8;
        break;
    case MERU_TYPE_DECIMAL:
        meru_store_le64(p, v->u.dec.lo);
        meru_store_le64(p + 8, (uint64_t)v->u.dec.hi);
        p += 16;
        break;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
        p += meru_varint_put64(p, v->u.bytes.len);
        /* fallthrough */
    case MERU_TYPE_FIXED:
        if (v->u.bytes.len)
            memcpy(p, v->u.bytes.ptr, v->u.bytes.len);
        p += v->u.bytes.len;
        break;
    }
    return p;
}

/* The value encoding of column i comes from get(ctx, i, tmp), which never
 * returns UNSET for a non-key column (NULL state = null). */
typedef const meru_value *(*value_fn)(const void *ctx, size_t col,
                                      meru_value *tmp);

static int encode_with(const meru_schema *s, value_fn get, const void *ctx,
                       meru_buf *out)
{
    size_t n = s->ncols;
    size_t bm = (n + 7) / 8;
    size_t total = 1 + meru_varint_len64(n) + bm;
    meru_value tmp;
    int rc = MERU_OK;
    for (size_t i = 0; i < n; i++) {
        const meru_column *c = &s->cols[i];
        if (c->key_position >= 0)
            continue;
        const meru_value *v = get(ctx, i, &tmp);
        if (v->state != MERU_VALUE_PRESENT)
            continue;
        size_t sz = value_size(c, v, &rc);
        if (rc)
            return rc;
        total += sz;
    }
    rc = meru_buf_reserve(out, total);
    if (rc)
        return rc;
    uint8_t *start = out->data + out->len, *p = start;
    *p++ = MERU_ROWCODEC_VERSION;
    p += meru_varint_put64(p, n);
    uint8_t *bitmap = p;
    memset(bitmap, 0, bm);
    p += bm;
    for (size_t i = 0; i < n; i++) {
        const meru_column *c = &s->cols[i];
        if (c->key_position >= 0)
            continue;
        const meru_value *v = get(ctx, i, &tmp);
        if (v->state != MERU_VALUE_PRESENT) {
            bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
            continue;
        }
        p = put_value(p, c, v);
    }
    if ((size_t)(p - start) != total)
        return meru_err(MERU_EINTERNAL,
                        "meru_row_encode: wrote %zu bytes, sized %zu",
                        (size_t)(p - start), total);
    out->len += total;
    return MERU_OK;
}

typedef struct row_ctx {
    const meru_schema *s;
    const meru_row *row;
} row_ctx;

static const meru_value *row_value(const void *ctx, size_t col,
                                   meru_value *tmp)
{
    const row_ctx *rc = ctx;
    return effective(rc->s, rc->row, col, tmp);
}

int meru_row_encode(const meru_schema *s, const meru_row *row, meru_buf *out)
{
    if (!s || !row || !out)
        return meru_err(MERU_EINVAL, "meru_row_encode: NULL argument");
    size_t n = s->ncols;
    if (n == 0 || row->ncols > n)
        return meru_err(MERU_EINVAL,
                        "meru_row_encode: row has %zu columns, schema %zu",
                        row->ncols, n);
    row_ctx ctx = {s, row};
    return encode_with(s, row_value, &ctx, out);
}

static const meru_value *array_value(const void *ctx, size_t col,
                                     meru_value *tmp)
{
    (void)tmp;
    return &((const meru_value *)ctx)[col];
}

int meru_row_encode_values(const meru_schema *s, const meru_value *vals,
                           meru_buf *out)
{
    if (!s || !vals || !out || s->ncols == 0)
        return meru_err(MERU_EINVAL, "meru_row_encode_values: bad argument");
    return encode_with(s, array_value, vals, out);
}

/* ------------------------------------------------------------- decoding */

static int corrupt(const meru_column *c, size_t off, const char *what)
{
    char lb[MERU_LABEL_MAX];
    return meru_err(MERU_ECORRUPT, "decoding a row value: %s: %s (offset %zu)",
                    meru_column_label(c, lb), what, off);
}

/* Reads one PRESENT value of column `c` at value[*off]; fills `v` unless it
 * is NULL (skipping). */
static int get_value(const meru_column *c, const uint8_t *value, size_t vlen,
                     size_t *off, meru_value *v)
{
    size_t o = *off, left = vlen - o, need;
    const uint8_t *p = value + o;
    meru_value d;
    memset(&d, 0, sizeof d);
    d.state = MERU_VALUE_PRESENT;
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        need = 1;
        if (left < need)
            return corrupt(c, o, "boolean cut short");
        if (p[0] > 1)
            return corrupt(c, o, "boolean byte is not 0 or 1");
        d.u.b = p[0];
        break;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
    case MERU_TYPE_FLOAT:
        need = 4;
        if (left < need)
            return corrupt(c, o, "4-byte value cut short");
        if (c->type == MERU_TYPE_FLOAT) {
            uint32_t u = meru_load_le32(p);
            memcpy(&d.u.f32, &u, 4);
        } else {
            d.u.i32 = (int32_t)meru_load_le32(p);
        }
        break;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
    case MERU_TYPE_DOUBLE:
        need = 8;
        if (left < need)
            return corrupt(c, o, "8-byte value cut short");
        if (c->type == MERU_TYPE_DOUBLE) {
            uint64_t u = meru_load_le64(p);
            memcpy(&d.u.f64, &u, 8);
        } else {
            d.u.i64 = (int64_t)meru_load_le64(p);
        }
        break;
    case MERU_TYPE_DECIMAL:
        need = 16;
        if (left < need)
            return corrupt(c, o, "decimal cut short");
        d.u.dec.lo = meru_load_le64(p);
        d.u.dec.hi = (int64_t)meru_load_le64(p + 8);
        break;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY: {
        uint32_t len;
        size_t h = meru_varint_get32(p, left, &len);
        if (h == 0 || h != meru_varint_len64(len))
            return corrupt(c, o, "bad length varint");
        if (len > MERU_MAX_VALUE_BYTES)
            return corrupt(c, o, "length over the value size limit");
        if (len > left - h)
            return corrupt(c, o, "bytes cut short");
        need = h + len;
        d.u.bytes.ptr = p + h;
        d.u.bytes.len = len;
        break;
    }
    case MERU_TYPE_FIXED:
        if (c->fixed_length < 0)
            return corrupt(c, o, "bad fixed length in schema");
        need = (size_t)c->fixed_length;
        if (left < need)
            return corrupt(c, o, "fixed value cut short");
        d.u.bytes.ptr = p;
        d.u.bytes.len = (uint32_t)need;
        break;
    default:
        return corrupt(c, o, "column has an unknown type");
    }
    if (v)
        *v = d;
    *off = o + need;
    return MERU_OK;
}

static void set_null(meru_value *v)
{
    memset(v, 0, sizeof *v);
    v->state = MERU_VALUE_NULL;
}

int meru_row_decode_view(const meru_schema *s, const uint8_t *key,
                         size_t klen, const uint8_t *value, size_t vlen,
                         const meru_colset *proj, meru_value *vals,
                         meru_buf *scratch)
{
    return meru_row_decode_view_ex(s, key, klen, value, vlen, proj, vals,
                                   scratch, 0);
}

int meru_row_decode_view_ex(const meru_schema *s, const uint8_t *key,
                            size_t klen, const uint8_t *value, size_t vlen,
                            const meru_colset *proj, meru_value *vals,
                            meru_buf *scratch, unsigned flags)
{
    if (!s || !vals || (!value && vlen))
        return meru_err(MERU_EINVAL, "meru_row_decode_view: NULL argument");
    size_t n = s->ncols;
    if (n > MERU_MAX_COLUMNS)
        return meru_err(MERU_EINVAL, "meru_row_decode_view: %zu columns", n);
    if (vlen < 1)
        return meru_err(MERU_ECORRUPT, "decoding a row value: empty input");
    if (value[0] != MERU_ROWCODEC_VERSION)
        return meru_err(MERU_ECORRUPT,
                        "decoding a row value: unknown version %u (offset 0)",
                        value[0]);
    uint64_t nw;
    size_t off = 1;
    size_t h = meru_varint_get64(value + off, vlen - off, &nw);
    if (h == 0 || h != meru_varint_len64(nw))
        return meru_err(MERU_ECORRUPT,
                        "decoding a row value: bad column count (offset 1)");
    int newer = nw > n && nw <= MERU_MAX_COLUMNS &&
                (flags & MERU_ROWCODEC_SKIP_UNKNOWN);
    if (nw == 0 || (nw > n && !newer))
        return meru_err(MERU_ECORRUPT,
                        "decoding a row value: %llu columns, the schema has "
                        "%zu (offset 1)",
                        (unsigned long long)nw, n);
    off += h;
    size_t ncw = (size_t)nw, bm = (ncw + 7) / 8;
    if (vlen - off < bm)
        return meru_err(MERU_ECORRUPT,
                        "decoding a row value: null bitmap cut short "
                        "(offset %zu)",
                        off);
    const uint8_t *bitmap = value + off;
    if (ncw % 8 && (bitmap[bm - 1] >> (ncw % 8)))
        return meru_err(MERU_ECORRUPT,
                        "decoding a row value: null bits past column %zu "
                        "(offset %zu)",
                        ncw, off + bm - 1);
    off += bm;
    int want_key = 0;
    for (size_t i = 0; i < n; i++) {
        const meru_column *c = &s->cols[i];
        int want = !proj || meru_colset_has(proj, i);
        int isnull = i < ncw && ((bitmap[i / 8] >> (i % 8)) & 1);
        if (c->key_position >= 0) {
            if (isnull)
                return meru_err(MERU_ECORRUPT,
                                "decoding a row value: key column %zu marked "
                                "null (offset %zu)",
                                i, off);
            memset(&vals[i], 0, sizeof vals[i]);
            want_key |= want;
            continue;
        }
        if (i >= ncw) {
            if (!want)
                memset(&vals[i], 0, sizeof vals[i]);
            else if (c->initial_default.state == MERU_VALUE_PRESENT)
                vals[i] = c->initial_default;
            else
                set_null(&vals[i]);
            continue;
        }
        if (isnull) {
            /* Iceberg never turns an optional column into a required one,
             * and writes are validated: a null here is damage. */
            if (!c->nullable)
                return corrupt(c, off, "null in a NOT NULL column");
            if (want)
                set_null(&vals[i]);
            else
                memset(&vals[i], 0, sizeof vals[i]);
            continue;
        }
        if (!want)
            memset(&vals[i], 0, sizeof vals[i]);
        int rc = get_value(c, value, vlen, &off, want ? &vals[i] : NULL);
        if (rc)
            return rc;
    }
    /* The values of columns this schema does not know (newer) follow:
     * skipped unread, their types are unknown here. */
    if (off != vlen && !newer)
        return meru_err(MERU_ECORRUPT,
                        "decoding a row value: %zu bytes left after the last "
                        "column (offset %zu)",
                        vlen - off, off);
    if (want_key) {
        if (!key || !scratch)
            return meru_err(MERU_EINVAL, "meru_row_decode_view: key columns "
                                         "selected without key and scratch");
        meru_value kv[MERU_MAX_KEY_COLUMNS];
        size_t nk = 0;
        if (s->nkey > MERU_MAX_KEY_COLUMNS)
            return meru_err(MERU_EINVAL, "meru_row_decode_view: %zu key "
                                         "columns",
                            s->nkey);
        int rc = meru_key_decode(s, key, klen, kv, &nk, scratch);
        if (rc)
            return rc;
        if (nk != s->nkey)
            return meru_err(MERU_ECORRUPT,
                            "decoding a row: key has %zu of %zu columns", nk,
                            s->nkey);
        for (size_t k = 0; k < nk; k++) {
            size_t col = (size_t)s->key_cols[k];
            if (!proj || meru_colset_has(proj, col))
                vals[col] = kv[k];
        }
    }
    return MERU_OK;
}

int meru_row_decode(const meru_schema *s, const uint8_t *key, size_t klen,
                    const uint8_t *value, size_t vlen, meru_row *row)
{
    return meru_row_decode_ex(s, key, klen, value, vlen, row, 0);
}

int meru_row_decode_ex(const meru_schema *s, const uint8_t *key, size_t klen,
                       const uint8_t *value, size_t vlen, meru_row *row,
                       unsigned flags)
{
    if (!s || !row || !key)
        return meru_err(MERU_EINVAL, "meru_row_decode: NULL argument");
    if (row->ncols != s->ncols)
        return meru_err(MERU_EINVAL,
                        "meru_row_decode: row has %zu columns, schema %zu",
                        row->ncols, s->ncols);
    if (row->schema != s)
        for (size_t i = 0; i < s->ncols; i++)
            if (row->schema->cols[i].type != s->cols[i].type)
                return meru_err(MERU_EINVAL,
                                "meru_row_decode: column %zu of the row's "
                                "schema has another type",
                                i);
    /* Decode into the row's own value array, then copy each bytes value
     * (which still points into `value`/`key`/scratch) into row storage. */
    meru_buf scratch = {0};
    int rc = meru_row_decode_view_ex(s, key, klen, value, vlen, NULL,
                                     row->vals, &scratch, flags);
    if (rc)
        goto out;
    for (size_t i = 0; i < s->ncols; i++) {
        meru_value v = row->vals[i];
        meru_type t = s->cols[i].type;
        if (v.state != MERU_VALUE_PRESENT ||
            (t != MERU_TYPE_STRING && t != MERU_TYPE_BINARY &&
             t != MERU_TYPE_FIXED))
            continue;
        /* The pointer may alias this column's old storage only if the
         * caller decodes the row's own bytes; put_value handles that. */
        row->vals[i].state = MERU_VALUE_UNSET;
        rc = meru_row_put_value(row, i, &v);
        if (rc)
            goto out;
    }
out:
    if (rc)
        meru_row_clear(row); /* no value may point into the input */
    meru_buf_free(&scratch);
    return rc;
}
