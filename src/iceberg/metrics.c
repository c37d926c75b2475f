/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c — Appendix D single-value bytes and truncated bounds (see
 * metrics.h). Pure functions over one value; no allocation but the output
 * buffer's.
 */
#include "iceberg/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "types/utf8.h"
#include "util/endian.h"
#include "util/error.h"

/* The unscaled decimal as the fewest big-endian two's complement bytes:
 * drop a leading byte while it only repeats the sign of the next one. */
static int decimal_bytes(meru_buf *out, meru_i128 v)
{
    uint8_t b[16];
    size_t i = 0;
    meru_store_be64(b, (uint64_t)v.hi);
    meru_store_be64(b + 8, v.lo);
    while (i < 15 && ((b[i] == 0x00 && !(b[i + 1] & 0x80)) ||
                      (b[i] == 0xff && (b[i + 1] & 0x80))))
        i++;
    return meru_buf_append(out, b + i, 16 - i);
}

int meru_ice_value_bytes(meru_buf *out, meru_type type, const meru_value *v)
{
    uint8_t b[8];
    uint32_t u32;
    uint64_t u64;
    if (v->state != MERU_VALUE_PRESENT)
        return meru_err(MERU_EINVAL, "bound of a null or unset value");
    switch (type) {
    case MERU_TYPE_BOOLEAN:
        return meru_buf_push(out, v->u.b ? 1 : 0);
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        meru_store_le32(b, (uint32_t)v->u.i32);
        return meru_buf_append(out, b, 4);
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        meru_store_le64(b, (uint64_t)v->u.i64);
        return meru_buf_append(out, b, 8);
    case MERU_TYPE_FLOAT:
        if (isnan(v->u.f32))
            return meru_err(MERU_EINVAL, "NaN is never a bound");
        memcpy(&u32, &v->u.f32, 4);
        meru_store_le32(b, u32);
        return meru_buf_append(out, b, 4);
    case MERU_TYPE_DOUBLE:
        if (isnan(v->u.f64))
            return meru_err(MERU_EINVAL, "NaN is never a bound");
        memcpy(&u64, &v->u.f64, 8);
        meru_store_le64(b, u64);
        return meru_buf_append(out, b, 8);
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
        return meru_buf_append(out, v->u.bytes.ptr, v->u.bytes.len);
    case MERU_TYPE_DECIMAL:
        return decimal_bytes(out, v->u.dec);
    }
    return meru_err(MERU_EINVAL, "no single-value form for type %d", (int)type);
}

/* Byte length of the first `width` code points of p[0..n) (all of it when
 * shorter); 0 with *ok false for ill-formed UTF-8. */
static size_t utf8_prefix(const uint8_t *p, size_t n, uint32_t width, bool *ok)
{
    size_t at = 0;
    *ok = true;
    for (uint32_t k = 0; k < width && at < n; k++) {
        uint32_t cp;
        size_t l = meru_utf8_decode(p + at, n - at, &cp);
        if (l == 0) {
            *ok = false;
            return 0;
        }
        at += l;
    }
    return at;
}

static size_t utf8_encode(uint32_t cp, uint8_t *o)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xc0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xe0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

static bool truncatable(meru_type type)
{
    return type == MERU_TYPE_STRING || type == MERU_TYPE_BINARY;
}

static int bad_utf8(void)
{
    return meru_err(MERU_EINVAL, "bound of a string that is not UTF-8");
}

int meru_ice_lower_bound(meru_buf *out, meru_type type, const meru_value *min,
                         uint32_t width)
{
    if (!truncatable(type) || width == 0 || min->state != MERU_VALUE_PRESENT ||
        min->u.bytes.len <= width)
        return meru_ice_value_bytes(out, type, min);
    const uint8_t *p = min->u.bytes.ptr;
    size_t n = width;
    if (type == MERU_TYPE_STRING) {
        bool ok;
        n = utf8_prefix(p, min->u.bytes.len, width, &ok);
        if (!ok)
            return bad_utf8();
    }
    return meru_buf_append(out, p, n);
}

/* The upper bound of a string longer than `width` code points. */
static int string_upper(meru_buf *out, const uint8_t *p, size_t n,
                        uint32_t width, bool *present)
{
    bool ok;
    size_t cut = utf8_prefix(p, n, width, &ok);
    size_t starts[64], *st = starts;
    uint32_t cps[64], *cp = cps;
    int rc = MERU_OK;
    if (!ok)
        return bad_utf8();
    if (cut == n) { /* fits: the value itself */
        *present = true;
        return meru_buf_append(out, p, n);
    }
    if (width > 64) {
        st = malloc(width * sizeof *st);
        cp = malloc(width * sizeof *cp);
        if (!st || !cp) {
            rc = meru_err(MERU_ENOMEM, "out of memory truncating a bound");
            goto done;
        }
    }
    size_t k = 0;
    for (size_t at = 0; at < cut; k++) {
        st[k] = at;
        at += meru_utf8_decode(p + at, cut - at, &cp[k]);
    }
    *present = false;
    while (k-- > 0) {
        uint32_t next = cp[k] + 1;
        if (next >= 0xd800 && next <= 0xdfff)
            next = 0xe000;
        if (next > 0x10ffff)
            continue; /* cannot grow: drop it, try the one before */
        uint8_t enc[4];
        size_t el = utf8_encode(next, enc);
        if ((rc = meru_buf_append(out, p, st[k])) ||
            (rc = meru_buf_append(out, enc, el)))
            goto done;
        *present = true;
        break;
    }
done:
    if (st != starts)
        free(st);
    if (cp != cps)
        free(cp);
    return rc;
}

int meru_ice_upper_bound(meru_buf *out, meru_type type, const meru_value *max,
                         uint32_t width, bool *present)
{
    *present = false;
    if (!truncatable(type) || width == 0 || max->state != MERU_VALUE_PRESENT ||
        max->u.bytes.len <= width) {
        int rc = meru_ice_value_bytes(out, type, max);
        *present = rc == MERU_OK;
        return rc;
    }
    const uint8_t *p = max->u.bytes.ptr;
    if (type == MERU_TYPE_STRING)
        return string_upper(out, p, max->u.bytes.len, width, present);
    for (size_t k = width; k-- > 0;) {
        if (p[k] == 0xff)
            continue;
        int rc = meru_buf_append(out, p, k);
        if (!rc)
            rc = meru_buf_push(out, (uint8_t)(p[k] + 1));
        *present = rc == MERU_OK;
        return rc;
    }
    return MERU_OK;
}
