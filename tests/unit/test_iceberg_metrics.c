/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_iceberg_metrics.c — bounds in Iceberg's binary single-value form
 * (iceberg/metrics.h), per type against hand-computed bytes, and the
 * truncate(N) metrics mode: prefixes by code point and by byte, upper
 * bounds with the last incrementable code point / byte incremented, the
 * surrogate gap, U+10FFFF and 0xFF runs that leave no upper bound.
 */
#include <math.h>

#include "iceberg/metrics.h"
#include "test.h"

static meru_value present(void)
{
    meru_value v;
    memset(&v, 0, sizeof v);
    v.state = MERU_VALUE_PRESENT;
    return v;
}

static meru_value bytes_val(const char *s, size_t n)
{
    meru_value v = present();
    v.u.bytes.ptr = (const uint8_t *)s;
    v.u.bytes.len = (uint32_t)n;
    return v;
}

/* Bytes of `v` as meru_ice_value_bytes gives them equal want[0..n). */
#define CHECK_BYTES(type, v, want, n)                                          \
    do {                                                                       \
        meru_buf bb_ = {0};                                                    \
        meru_value vv_ = (v);                                                  \
        CHECK_OK(meru_ice_value_bytes(&bb_, (type), &vv_));                    \
        CHECK_EQ_U64(bb_.len, (n));                                            \
        CHECK_MEM(bb_.data, (want), (n));                                      \
        meru_buf_free(&bb_);                                                   \
    } while (0)

static void test_bounds_fixed_width_types(void)
{
    meru_value v = present();
    v.u.b = 1;
    CHECK_BYTES(MERU_TYPE_BOOLEAN, v, "\x01", 1);
    v.u.b = 0;
    CHECK_BYTES(MERU_TYPE_BOOLEAN, v, "\x00", 1);
    v.u.i32 = -2;
    CHECK_BYTES(MERU_TYPE_INT32, v, "\xfe\xff\xff\xff", 4);
    v.u.i32 = 17000; /* a date: 2016-07-19 */
    CHECK_BYTES(MERU_TYPE_DATE, v, "\x68\x42\x00\x00", 4);
    v.u.i64 = 0x0102030405060708;
    CHECK_BYTES(MERU_TYPE_INT64, v, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
    v.u.i64 = -1;
    CHECK_BYTES(MERU_TYPE_TIMESTAMP, v, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    v.u.i64 = 1000000;
    CHECK_BYTES(MERU_TYPE_TIMESTAMPTZ, v, "\x40\x42\x0f\x00\x00\x00\x00\x00",
                8);
    v.u.f32 = 1.0f; /* 0x3f800000 */
    CHECK_BYTES(MERU_TYPE_FLOAT, v, "\x00\x00\x80\x3f", 4);
    v.u.f32 = -0.0f;
    CHECK_BYTES(MERU_TYPE_FLOAT, v, "\x00\x00\x00\x80", 4);
    v.u.f64 = -2.0; /* 0xc000000000000000 */
    CHECK_BYTES(MERU_TYPE_DOUBLE, v, "\x00\x00\x00\x00\x00\x00\x00\xc0", 8);
    meru_buf b = {0};
    v.u.f64 = NAN;
    CHECK_RC(meru_ice_value_bytes(&b, MERU_TYPE_DOUBLE, &v), MERU_EINVAL);
    v.u.f32 = NAN;
    CHECK_RC(meru_ice_value_bytes(&b, MERU_TYPE_FLOAT, &v), MERU_EINVAL);
    v.state = MERU_VALUE_NULL;
    CHECK_RC(meru_ice_value_bytes(&b, MERU_TYPE_INT32, &v), MERU_EINVAL);
    CHECK_EQ_U64(b.len, 0);
}

static meru_value dec(int64_t hi, uint64_t lo)
{
    meru_value v = present();
    v.u.dec.hi = hi;
    v.u.dec.lo = lo;
    return v;
}

static void test_bounds_decimal_minimal_twos_complement(void)
{
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(0, 0), "\x00", 1);
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(0, 1), "\x01", 1);
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(0, 127), "\x7f", 1);
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(0, 128), "\x00\x80", 2);
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(0, 1420), "\x05\x8c", 2);    /* 14.20 */
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(-1, UINT64_MAX), "\xff", 1); /* -1 */
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(-1, (uint64_t)-128), "\x80", 1);
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(-1, (uint64_t)-129), "\xff\x7f", 2);
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(0, (uint64_t)1 << 63),
                "\x00\x80\x00\x00\x00\x00\x00\x00\x00", 9);
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(1, 0),
                "\x01\x00\x00\x00\x00\x00\x00\x00\x00", 9);
    CHECK_BYTES(MERU_TYPE_DECIMAL, dec(INT64_MIN, 0),
                "\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                "\x00\x00",
                16);
}

static void test_bounds_bytes_types_as_they_are(void)
{
    CHECK_BYTES(MERU_TYPE_STRING, bytes_val("héllo", 6), "héllo", 6);
    CHECK_BYTES(MERU_TYPE_BINARY, bytes_val("\x00\xff", 2), "\x00\xff", 2);
    CHECK_BYTES(MERU_TYPE_FIXED, bytes_val("abc", 3), "abc", 3);
    CHECK_BYTES(MERU_TYPE_STRING, bytes_val("", 0), "", 0);
}

/* lower bound, upper bound (or NULL for none) of one value at `width`. */
static void check_trunc(meru_type t, const char *val, size_t n, uint32_t width,
                        const char *lo, size_t lon, const char *hi, size_t hin,
                        int line)
{
    meru_buf b = {0};
    bool has;
    meru_value v = bytes_val(val, n);
    CHECK_OK(meru_ice_lower_bound(&b, t, &v, width));
    CHECK_MSG(b.len == lon && memcmp(b.data, lo, lon) == 0,
              "line %d: lower bound (%zu bytes)", line, b.len);
    meru_buf_reset(&b);
    CHECK_OK(meru_ice_upper_bound(&b, t, &v, width, &has));
    if (!hi) {
        CHECK_MSG(!has && b.len == 0, "line %d: upper bound should be absent",
                  line);
    } else {
        CHECK_MSG(has && b.len == hin && memcmp(b.data, hi, hin) == 0,
                  "line %d: upper bound (%zu bytes, present %d)", line, b.len,
                  has);
    }
    meru_buf_free(&b);
}

#define TRUNC(t, val, w, lo, hi)                                               \
    check_trunc(t, val, sizeof val - 1, w, lo, sizeof lo - 1, hi,              \
                hi ? sizeof hi - 1 : 0, __LINE__)
#define TRUNC_NO_UPPER(t, val, w, lo)                                          \
    check_trunc(t, val, sizeof val - 1, w, lo, sizeof lo - 1, NULL, 0, __LINE__)

static void test_bounds_string_truncation(void)
{
    const meru_type S = MERU_TYPE_STRING;
    /* short values stay whole */
    TRUNC(S, "abc", 16, "abc", "abc");
    TRUNC(S, "abcdefghijklmnop", 16, "abcdefghijklmnop", "abcdefghijklmnop");
    /* 17 code points: the 16th is incremented */
    TRUNC(S, "abcdefghijklmnopq", 16, "abcdefghijklmnop", "abcdefghijklmnoq");
    /* width counts code points, not bytes: 3 two-byte chars fit width 3 */
    TRUNC(S, "\xc3\xa9\xc3\xa9\xc3\xa9", 3, "\xc3\xa9\xc3\xa9\xc3\xa9",
          "\xc3\xa9\xc3\xa9\xc3\xa9");
    TRUNC(S, "\xc3\xa9\xc3\xa9\xc3\xa9z", 2, "\xc3\xa9\xc3\xa9",
          "\xc3\xa9\xc3\xaa");
    /* U+007F + 1 = U+0080 changes the encoded length */
    TRUNC(S,
          "a\x7f"
          "b",
          2, "a\x7f", "a\xc2\x80");
    /* U+D7FF + 1 is a surrogate: skipped to U+E000 */
    TRUNC(S,
          "\xed\x9f\xbf"
          "x",
          1, "\xed\x9f\xbf", "\xee\x80\x80");
    /* U+FFFF + 1 = U+10000 (four bytes) */
    TRUNC(S,
          "\xef\xbf\xbf"
          "x",
          1, "\xef\xbf\xbf", "\xf0\x90\x80\x80");
    /* U+10FFFF cannot grow: the code point before it is incremented */
    TRUNC(S,
          "a\xf4\x8f\xbf\xbf"
          "b",
          2, "a\xf4\x8f\xbf\xbf", "b");
    /* nothing can grow: no upper bound */
    TRUNC_NO_UPPER(S,
                   "\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf"
                   "c",
                   2, "\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf");
    /* width 0: never truncated */
    TRUNC(S, "abcdefghijklmnopqrstuvwxyz", 0, "abcdefghijklmnopqrstuvwxyz",
          "abcdefghijklmnopqrstuvwxyz");
}

static void test_bounds_long_width_string_upper(void)
{
    char big[200], want[100];
    memset(big, 'q', sizeof big);
    memcpy(want, big, 100);
    want[99] = 'r';
    check_trunc(MERU_TYPE_STRING, big, 200, 100, big, 100, want, 100, __LINE__);
}

static void test_bounds_binary_truncation_and_fixed(void)
{
    const meru_type B = MERU_TYPE_BINARY;
    TRUNC(B, "\x01\x02\x03", 2, "\x01\x02", "\x01\x03");
    TRUNC(B, "\x01\xff\x03", 2, "\x01\xff", "\x02");
    TRUNC_NO_UPPER(B, "\xff\xff\x00", 2, "\xff\xff");
    TRUNC(B, "\x00\x00", 2, "\x00\x00", "\x00\x00");
    /* FIXED is never truncated */
    TRUNC(MERU_TYPE_FIXED, "\xff\xff\xff", 2, "\xff\xff\xff", "\xff\xff\xff");
    /* numbers are never truncated */
    meru_buf b = {0};
    bool has;
    meru_value v = present();
    v.u.i64 = 5;
    CHECK_OK(meru_ice_upper_bound(&b, MERU_TYPE_INT64, &v, 1, &has));
    CHECK(has && b.len == 8);
    meru_buf_free(&b);
}

int main(void)
{
    MERU_TEST_RUN(test_bounds_fixed_width_types);
    MERU_TEST_RUN(test_bounds_decimal_minimal_twos_complement);
    MERU_TEST_RUN(test_bounds_bytes_types_as_they_are);
    MERU_TEST_RUN(test_bounds_string_truncation);
    MERU_TEST_RUN(test_bounds_long_width_string_upper);
    MERU_TEST_RUN(test_bounds_binary_truncation_and_fixed);
    return meru_test_finish();
}
