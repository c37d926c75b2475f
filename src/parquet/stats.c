/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats.c — statistics orders and the min/max accumulator (see stats.h).
 *
 * Typed loops keep the writer's per-value cost to a compare or two; byte
 * arrays copy a new bound only when it changes. Floats skip NaN, so an
 * accumulator that saw only NaN reports no min/max.
 */
#include "parquet/stats.h"

#include <math.h>
#include <string.h>

#include "util/endian.h"
#include "util/error.h"

pq_sort_order pq_sort_order_of(pq_type type, const pq_logical_type *lt, int ct)
{
    pq_logical_kind k = lt ? lt->kind : PQ_LT_NONE;
    switch (type) {
    case PQ_BOOLEAN:
        return PQ_ORDER_BOOL;
    case PQ_INT32:
    case PQ_INT64: {
        bool uns = false;
        if (k == PQ_LT_INTEGER)
            uns = !lt->int_is_signed;
        else if (k == PQ_LT_NONE)
            uns = ct == PQ_CT_UINT_8 || ct == PQ_CT_UINT_16 ||
                  ct == PQ_CT_UINT_32 || ct == PQ_CT_UINT_64;
        if (k == PQ_LT_NONE && ct == PQ_CT_INTERVAL)
            return PQ_ORDER_NONE;
        if (type == PQ_INT32)
            return uns ? PQ_ORDER_UINT32 : PQ_ORDER_INT32;
        return uns ? PQ_ORDER_UINT64 : PQ_ORDER_INT64;
    }
    case PQ_INT96:
        return PQ_ORDER_NONE;
    case PQ_FLOAT:
        return PQ_ORDER_FLOAT;
    case PQ_DOUBLE:
        return PQ_ORDER_DOUBLE;
    case PQ_BYTE_ARRAY:
    case PQ_FIXED_LEN_BYTE_ARRAY:
        if (k == PQ_LT_DECIMAL || (k == PQ_LT_NONE && ct == PQ_CT_DECIMAL))
            return PQ_ORDER_DECIMAL_BE;
        if (k == PQ_LT_FLOAT16)
            return PQ_ORDER_FLOAT16;
        if (k == PQ_LT_NONE && ct == PQ_CT_INTERVAL)
            return PQ_ORDER_NONE;
        if (k == PQ_LT_OTHER || k == PQ_LT_UNKNOWN)
            return PQ_ORDER_NONE;
        return PQ_ORDER_BYTES;
    }
    return PQ_ORDER_NONE;
}

bool pq_sort_order_legacy_ok(pq_sort_order o)
{
    return o == PQ_ORDER_BOOL || o == PQ_ORDER_INT32 || o == PQ_ORDER_INT64 ||
           o == PQ_ORDER_FLOAT || o == PQ_ORDER_DOUBLE;
}

static size_t fixed_width(pq_sort_order o)
{
    switch (o) {
    case PQ_ORDER_BOOL:
        return 1;
    case PQ_ORDER_INT32:
    case PQ_ORDER_UINT32:
    case PQ_ORDER_FLOAT:
        return 4;
    case PQ_ORDER_INT64:
    case PQ_ORDER_UINT64:
    case PQ_ORDER_DOUBLE:
        return 8;
    case PQ_ORDER_FLOAT16:
        return 2;
    default:
        return 0;
    }
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float f;
    if (exp == 0) {
        f = ldexpf((float)mant, -24);
    } else if (exp == 31) {
        f = mant ? NAN : INFINITY;
    } else {
        f = ldexpf((float)(mant | 0x400), (int)exp - 25);
    }
    return sign ? -f : f;
}

bool pq_stats_value_ok(pq_sort_order o, const uint8_t *v, size_t len)
{
    size_t w = fixed_width(o);
    if (o == PQ_ORDER_NONE)
        return false;
    if (w && len != w)
        return false;
    if (o == PQ_ORDER_FLOAT) {
        float f;
        memcpy(&f, v, 4);
        return !isnan(f);
    }
    if (o == PQ_ORDER_DOUBLE) {
        double d;
        memcpy(&d, v, 8);
        return !isnan(d);
    }
    if (o == PQ_ORDER_FLOAT16)
        return !isnan(half_to_float(meru_load_le16(v)));
    return true;
}

static int cmp_bytes(const uint8_t *a, size_t alen, const uint8_t *b,
                     size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* Two's complement big-endian of any lengths: sign first, then the value
 * sign-extended to the longer length, byte by byte. */
static int cmp_decimal(const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen)
{
    bool an = alen && (a[0] & 0x80), bn = blen && (b[0] & 0x80);
    if (an != bn)
        return an ? -1 : 1;
    size_t n = alen > blen ? alen : blen;
    uint8_t ext = an ? 0xff : 0x00;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = i + alen < n ? ext : a[i + alen - n];
        uint8_t y = i + blen < n ? ext : b[i + blen - n];
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}

#define CMP3(x, y) ((x) < (y) ? -1 : (x) > (y))

int pq_stats_compare(pq_sort_order o, const uint8_t *a, size_t alen,
                     const uint8_t *b, size_t blen)
{
    size_t w = fixed_width(o);
    if (w && (alen != w || blen != w))
        return 0;
    switch (o) {
    case PQ_ORDER_BOOL:
        return CMP3(a[0] != 0, b[0] != 0);
    case PQ_ORDER_INT32:
        return CMP3((int32_t)meru_load_le32(a), (int32_t)meru_load_le32(b));
    case PQ_ORDER_UINT32:
        return CMP3(meru_load_le32(a), meru_load_le32(b));
    case PQ_ORDER_INT64:
        return CMP3((int64_t)meru_load_le64(a), (int64_t)meru_load_le64(b));
    case PQ_ORDER_UINT64:
        return CMP3(meru_load_le64(a), meru_load_le64(b));
    case PQ_ORDER_FLOAT: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return CMP3(x, y);
    }
    case PQ_ORDER_DOUBLE: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return CMP3(x, y);
    }
    case PQ_ORDER_FLOAT16: {
        float x = half_to_float(meru_load_le16(a));
        float y = half_to_float(meru_load_le16(b));
        return CMP3(x, y);
    }
    case PQ_ORDER_BYTES:
        return cmp_bytes(a, alen, b, blen);
    case PQ_ORDER_DECIMAL_BE:
        return cmp_decimal(a, alen, b, blen);
    case PQ_ORDER_NONE:
        break;
    }
    return 0;
}

/* ---------------------------------------------------------- accumulator */

void pq_stats_init(pq_stats_acc *a, pq_sort_order o)
{
    memset(a, 0, sizeof *a);
    a->order = o;
}

void pq_stats_reset(pq_stats_acc *a)
{
    a->has_minmax = false;
    a->null_count = 0;
    a->value_count = 0;
    meru_buf_reset(&a->bmin);
    meru_buf_reset(&a->bmax);
}

void pq_stats_free(pq_stats_acc *a)
{
    meru_buf_free(&a->bmin);
    meru_buf_free(&a->bmax);
}

void pq_stats_add_bool(pq_stats_acc *a, const uint8_t *v, size_t n)
{
    if (!n)
        return;
    a->value_count += (int64_t)n;
    uint8_t lo = 1, hi = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = v[i] != 0;
        lo &= x;
        hi |= x;
    }
    if (!a->has_minmax) {
        a->min.b = lo;
        a->max.b = hi;
        a->has_minmax = true;
        return;
    }
    if (lo < a->min.b)
        a->min.b = lo;
    if (hi > a->max.b)
        a->max.b = hi;
}

#define ADD_INT(fname, ctype, field, utype, isuns)                             \
    void fname(pq_stats_acc *a, const ctype *v, size_t n)                      \
    {                                                                          \
        if (!n)                                                                \
            return;                                                            \
        a->value_count += (int64_t)n;                                          \
        if (a->order == (isuns)) {                                             \
            utype lo = (utype)v[0], hi = (utype)v[0];                          \
            for (size_t i = 1; i < n; i++) {                                   \
                utype x = (utype)v[i];                                         \
                lo = x < lo ? x : lo;                                          \
                hi = x > hi ? x : hi;                                          \
            }                                                                  \
            if (!a->has_minmax || lo < (utype)a->min.field)                    \
                a->min.field = (ctype)lo;                                      \
            if (!a->has_minmax || hi > (utype)a->max.field)                    \
                a->max.field = (ctype)hi;                                      \
        } else {                                                               \
            ctype lo = v[0], hi = v[0];                                        \
            for (size_t i = 1; i < n; i++) {                                   \
                ctype x = v[i];                                                \
                lo = x < lo ? x : lo;                                          \
                hi = x > hi ? x : hi;                                          \
            }                                                                  \
            if (!a->has_minmax || lo < a->min.field)                           \
                a->min.field = lo;                                             \
            if (!a->has_minmax || hi > a->max.field)                           \
                a->max.field = hi;                                             \
        }                                                                      \
        a->has_minmax = true;                                                  \
    }

ADD_INT(pq_stats_add_i32, int32_t, i32, uint32_t, PQ_ORDER_UINT32)
ADD_INT(pq_stats_add_i64, int64_t, i64, uint64_t, PQ_ORDER_UINT64)

#define ADD_FLOAT(fname, ctype, field)                                         \
    void fname(pq_stats_acc *a, const ctype *v, size_t n)                      \
    {                                                                          \
        a->value_count += (int64_t)n;                                          \
        size_t i = 0;                                                          \
        while (i < n && isnan(v[i]))                                           \
            i++;                                                               \
        if (i == n)                                                            \
            return;                                                            \
        ctype lo = v[i], hi = v[i];                                            \
        for (i++; i < n; i++) {                                                \
            ctype x = v[i];                                                    \
            /* NaN fails both compares and so is skipped */                    \
            if (x < lo)                                                        \
                lo = x;                                                        \
            if (x > hi)                                                        \
                hi = x;                                                        \
        }                                                                      \
        if (!a->has_minmax || lo < a->min.field)                               \
            a->min.field = lo;                                                 \
        if (!a->has_minmax || hi > a->max.field)                               \
            a->max.field = hi;                                                 \
        a->has_minmax = true;                                                  \
    }

ADD_FLOAT(pq_stats_add_float, float, f)
ADD_FLOAT(pq_stats_add_double, double, d)

static int set_buf(meru_buf *b, const uint8_t *p, size_t n)
{
    meru_buf_reset(b);
    return meru_buf_append(b, p, n);
}

int pq_stats_add_bytes(pq_stats_acc *a, const pq_bytes *v, size_t n)
{
    if (!n)
        return MERU_OK;
    a->value_count += (int64_t)n;
    if (a->order == PQ_ORDER_NONE)
        return MERU_OK;
    /* Find the batch's bounds first: one copy per batch at most. */
    size_t lo = 0, hi = 0;
    if (a->order == PQ_ORDER_BYTES) {
        /* the common order: cmp_bytes called directly (and inlined)
         * instead of through the order switch for every value */
        for (size_t i = 1; i < n; i++) {
            if (cmp_bytes(v[i].ptr, v[i].len, v[lo].ptr, v[lo].len) < 0)
                lo = i;
            else if (cmp_bytes(v[i].ptr, v[i].len, v[hi].ptr, v[hi].len) > 0)
                hi = i;
        }
    } else {
        for (size_t i = 1; i < n; i++) {
            if (pq_stats_compare(a->order, v[i].ptr, v[i].len, v[lo].ptr,
                                 v[lo].len) < 0)
                lo = i;
            if (pq_stats_compare(a->order, v[i].ptr, v[i].len, v[hi].ptr,
                                 v[hi].len) > 0)
                hi = i;
        }
    }
    int rc;
    if (!a->has_minmax || pq_stats_compare(a->order, v[lo].ptr, v[lo].len,
                                           a->bmin.data, a->bmin.len) < 0) {
        rc = set_buf(&a->bmin, v[lo].ptr, v[lo].len);
        if (rc)
            return rc;
    }
    if (!a->has_minmax || pq_stats_compare(a->order, v[hi].ptr, v[hi].len,
                                           a->bmax.data, a->bmax.len) > 0) {
        rc = set_buf(&a->bmax, v[hi].ptr, v[hi].len);
        if (rc)
            return rc;
    }
    a->has_minmax = true;
    return MERU_OK;
}

int pq_stats_merge(pq_stats_acc *dst, const pq_stats_acc *src)
{
    dst->null_count += src->null_count;
    dst->value_count += src->value_count;
    if (!src->has_minmax)
        return MERU_OK;
    bool first = !dst->has_minmax;
    switch (dst->order) {
    case PQ_ORDER_BOOL:
        if (first || src->min.b < dst->min.b)
            dst->min.b = src->min.b;
        if (first || src->max.b > dst->max.b)
            dst->max.b = src->max.b;
        break;
    case PQ_ORDER_INT32:
        if (first || src->min.i32 < dst->min.i32)
            dst->min.i32 = src->min.i32;
        if (first || src->max.i32 > dst->max.i32)
            dst->max.i32 = src->max.i32;
        break;
    case PQ_ORDER_UINT32:
        if (first || (uint32_t)src->min.i32 < (uint32_t)dst->min.i32)
            dst->min.i32 = src->min.i32;
        if (first || (uint32_t)src->max.i32 > (uint32_t)dst->max.i32)
            dst->max.i32 = src->max.i32;
        break;
    case PQ_ORDER_INT64:
        if (first || src->min.i64 < dst->min.i64)
            dst->min.i64 = src->min.i64;
        if (first || src->max.i64 > dst->max.i64)
            dst->max.i64 = src->max.i64;
        break;
    case PQ_ORDER_UINT64:
        if (first || (uint64_t)src->min.i64 < (uint64_t)dst->min.i64)
            dst->min.i64 = src->min.i64;
        if (first || (uint64_t)src->max.i64 > (uint64_t)dst->max.i64)
            dst->max.i64 = src->max.i64;
        break;
    case PQ_ORDER_FLOAT:
        if (first || src->min.f < dst->min.f)
            dst->min.f = src->min.f;
        if (first || src->max.f > dst->max.f)
            dst->max.f = src->max.f;
        break;
    case PQ_ORDER_DOUBLE:
        if (first || src->min.d < dst->min.d)
            dst->min.d = src->min.d;
        if (first || src->max.d > dst->max.d)
            dst->max.d = src->max.d;
        break;
    case PQ_ORDER_BYTES:
    case PQ_ORDER_DECIMAL_BE: {
        int rc;
        if (first || pq_stats_compare(dst->order, src->bmin.data, src->bmin.len,
                                      dst->bmin.data, dst->bmin.len) < 0) {
            rc = set_buf(&dst->bmin, src->bmin.data, src->bmin.len);
            if (rc)
                return rc;
        }
        if (first || pq_stats_compare(dst->order, src->bmax.data, src->bmax.len,
                                      dst->bmax.data, dst->bmax.len) > 0) {
            rc = set_buf(&dst->bmax, src->bmax.data, src->bmax.len);
            if (rc)
                return rc;
        }
        break;
    }
    default:
        return MERU_OK;
    }
    dst->has_minmax = true;
    return MERU_OK;
}

bool pq_stats_get(pq_stats_acc *a, pq_bytes *min, pq_bytes *max)
{
    if (!a->has_minmax || a->order == PQ_ORDER_NONE)
        return false;
    uint32_t w = 0;
    switch (a->order) {
    case PQ_ORDER_BOOL:
        a->enc_min[0] = a->min.b;
        a->enc_max[0] = a->max.b;
        w = 1;
        break;
    case PQ_ORDER_INT32:
    case PQ_ORDER_UINT32:
        meru_store_le32(a->enc_min, (uint32_t)a->min.i32);
        meru_store_le32(a->enc_max, (uint32_t)a->max.i32);
        w = 4;
        break;
    case PQ_ORDER_INT64:
    case PQ_ORDER_UINT64:
        meru_store_le64(a->enc_min, (uint64_t)a->min.i64);
        meru_store_le64(a->enc_max, (uint64_t)a->max.i64);
        w = 8;
        break;
    case PQ_ORDER_FLOAT: {
        /* Zero bounds: -0.0 as min, +0.0 as max (parquet-format). */
        float lo = a->min.f == 0.0f ? -0.0f : a->min.f;
        float hi = a->max.f == 0.0f ? 0.0f : a->max.f;
        memcpy(a->enc_min, &lo, 4);
        memcpy(a->enc_max, &hi, 4);
        w = 4;
        break;
    }
    case PQ_ORDER_DOUBLE: {
        double lo = a->min.d == 0.0 ? -0.0 : a->min.d;
        double hi = a->max.d == 0.0 ? 0.0 : a->max.d;
        memcpy(a->enc_min, &lo, 8);
        memcpy(a->enc_max, &hi, 8);
        w = 8;
        break;
    }
    case PQ_ORDER_BYTES:
    case PQ_ORDER_DECIMAL_BE:
        min->ptr = a->bmin.data;
        min->len = (uint32_t)a->bmin.len;
        max->ptr = a->bmax.data;
        max->len = (uint32_t)a->bmax.len;
        return true;
    default:
        return false;
    }
    min->ptr = a->enc_min;
    min->len = w;
    max->ptr = a->enc_max;
    max->len = w;
    return true;
}

void pq_stats_truncate_min(pq_bytes *v, uint32_t cap)
{
    if (cap && v->len > cap)
        v->len = cap;
}

bool pq_stats_truncate_max(const pq_bytes *v, uint32_t cap, uint8_t *out,
                           uint32_t *out_len)
{
    if (!cap || v->len <= cap)
        return false;
    for (uint32_t n = cap; n > 0; n--) {
        if (v->ptr[n - 1] != 0xff) {
            memcpy(out, v->ptr, n);
            out[n - 1]++;
            *out_len = n;
            return true;
        }
    }
    return false;
}

/* Length of the longest prefix of v of at most cap bytes that ends on a
 * UTF-8 character boundary (a cut before a continuation byte moves back). */
static uint32_t utf8_cut(const uint8_t *v, uint32_t len, uint32_t cap)
{
    uint32_t n = cap < len ? cap : len;
    while (n > 0 && n < len && (v[n] & 0xC0) == 0x80)
        n--;
    return n;
}

bool pq_stats_cut_min(pq_bytes *v, uint32_t cap, bool utf8)
{
    if (!cap || v->len <= cap)
        return false;
    v->len = utf8 ? utf8_cut(v->ptr, v->len, cap) : cap;
    return true;
}

/* The code point of the UTF-8 character at v[s, e), or -1 when those bytes
 * are not one well-formed character. */
static int32_t utf8_decode(const uint8_t *v, uint32_t s, uint32_t e)
{
    uint32_t n = e - s;
    uint8_t b = v[s];
    int32_t cp;
    uint32_t want;
    if (b < 0x80)
        return n == 1 ? b : -1;
    if ((b & 0xE0) == 0xC0)
        cp = b & 0x1F, want = 2;
    else if ((b & 0xF0) == 0xE0)
        cp = b & 0x0F, want = 3;
    else if ((b & 0xF8) == 0xF0)
        cp = b & 0x07, want = 4;
    else
        return -1;
    if (n != want)
        return -1;
    for (uint32_t i = 1; i < n; i++) {
        if ((v[s + i] & 0xC0) != 0x80)
            return -1;
        cp = cp << 6 | (v[s + i] & 0x3F);
    }
    return cp;
}

static uint32_t utf8_encode(int32_t cp, uint8_t *o)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

int pq_stats_cut_max(const pq_bytes *v, uint32_t cap, bool utf8, uint8_t *out,
                     uint32_t *out_len)
{
    if (!cap || v->len <= cap)
        return 0;
    if (!utf8)
        return pq_stats_truncate_max(v, cap, out, out_len) ? 1 : -1;
    uint32_t n = utf8_cut(v->ptr, v->len, cap);
    while (n > 0) {
        uint32_t s = n - 1;
        while (s > 0 && (v->ptr[s] & 0xC0) == 0x80)
            s--;
        int32_t cp = utf8_decode(v->ptr, s, n);
        if (cp < 0) /* not UTF-8 after all: the byte-wise bound */
            return pq_stats_truncate_max(v, cap, out, out_len) ? 1 : -1;
        cp++;
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xE000;
        if (cp <= 0x10FFFF) {
            uint8_t enc[4];
            uint32_t k = utf8_encode(cp, enc);
            if (s + k <= cap) {
                memcpy(out, v->ptr, s);
                memcpy(out + s, enc, k);
                *out_len = s + k;
                return 1;
            }
        }
        n = s;
    }
    return -1;
}
