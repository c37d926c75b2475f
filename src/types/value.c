/* SPDX-License-Identifier: Apache-2.0 */
/*
 * value.c — the typed total order of values (meru_value_cmp).
 *
 * This is the order the key codec (keycodec.h) preserves and the one used
 * wherever values are compared by type (statistics, bounds). It is written
 * from the semantics of each type, not from the key bytes, so the two can
 * check each other in tests.
 *
 * Floats follow IEEE-754 totalOrder: numbers by value, -0.0 before +0.0,
 * and NaNs (never in keys, possible in other columns) at the ends: negative
 * NaNs first, positive NaNs last, ordered by payload.
 */
#include <math.h>
#include <string.h>

#include "types/schema.h"

#define CMP(a, b) (((a) > (b)) - ((a) < (b)))

/* totalOrder on raw bits: flip negatives entirely, positives' sign bit. */
static int cmp_f64_bits(double a, double b)
{
    uint64_t x, y;
    memcpy(&x, &a, 8);
    memcpy(&y, &b, 8);
    x = (x >> 63) ? ~x : x | UINT64_C(0x8000000000000000);
    y = (y >> 63) ? ~y : y | UINT64_C(0x8000000000000000);
    return CMP(x, y);
}

static int cmp_f32_bits(float a, float b)
{
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    x = (x >> 31) ? ~x : x | UINT32_C(0x80000000);
    y = (y >> 31) ? ~y : y | UINT32_C(0x80000000);
    return CMP(x, y);
}

static int cmp_f64(double a, double b)
{
    if (isnan(a) || isnan(b))
        return cmp_f64_bits(a, b);
    if (a < b)
        return -1;
    if (a > b)
        return 1;
    /* Equal numbers: only zeros of different signs still differ. */
    return CMP(!signbit(a), !signbit(b));
}

static int cmp_f32(float a, float b)
{
    if (isnan(a) || isnan(b))
        return cmp_f32_bits(a, b);
    if (a < b)
        return -1;
    if (a > b)
        return 1;
    return CMP(!signbit(a), !signbit(b));
}

static int cmp_bytes(const meru_value *a, const meru_value *b)
{
    size_t al = a->u.bytes.len, bl = b->u.bytes.len;
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a->u.bytes.ptr, b->u.bytes.ptr, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return CMP(al, bl);
}

int meru_value_cmp(meru_type type, const meru_value *a, const meru_value *b)
{
    switch (type) {
    case MERU_TYPE_BOOLEAN:
        return CMP(a->u.b != 0, b->u.b != 0);
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        return CMP(a->u.i32, b->u.i32);
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        return CMP(a->u.i64, b->u.i64);
    case MERU_TYPE_FLOAT:
        return cmp_f32(a->u.f32, b->u.f32);
    case MERU_TYPE_DOUBLE:
        return cmp_f64(a->u.f64, b->u.f64);
    case MERU_TYPE_DECIMAL:
        if (a->u.dec.hi != b->u.dec.hi)
            return CMP(a->u.dec.hi, b->u.dec.hi);
        return CMP(a->u.dec.lo, b->u.dec.lo);
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
        return cmp_bytes(a, b);
    }
    return 0;
}
