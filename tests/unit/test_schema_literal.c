/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_schema_literal.c — the value-level pieces under schemas and rows:
 * strict UTF-8, dates and timestamps, decimals, float text, and Iceberg
 * single-value JSON literals (parse, print, round trip).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "types/datetime.h"
#include "types/decimal.h"
#include "types/jtext.h"
#include "types/schema.h"
#include "types/utf8.h"

/* ----------------------------------------------------------------- utf8 */

static int valid(const char *s, size_t n)
{
    return meru_utf8_valid((const uint8_t *)s, n);
}

static void test_utf8_accepts_well_formed_sequences(void)
{
    CHECK(valid("", 0));
    CHECK(valid("plain ascii", 11));
    CHECK(valid("\0nul inside", 11));
    CHECK(valid("\xC3\xA9", 2));         /* U+00E9 */
    CHECK(valid("\xC2\x80", 2));         /* U+0080, smallest 2-byte */
    CHECK(valid("\xDF\xBF", 2));         /* U+07FF */
    CHECK(valid("\xE0\xA0\x80", 3));     /* U+0800, smallest 3-byte */
    CHECK(valid("\xE2\x82\xAC", 3));     /* U+20AC euro */
    CHECK(valid("\xED\x9F\xBF", 3));     /* U+D7FF, below surrogates */
    CHECK(valid("\xEE\x80\x80", 3));     /* U+E000, above surrogates */
    CHECK(valid("\xEF\xBF\xBF", 3));     /* U+FFFF */
    CHECK(valid("\xF0\x90\x80\x80", 4)); /* U+10000 */
    CHECK(valid("\xF0\x9D\x84\x9E", 4)); /* U+1D11E G clef */
    CHECK(valid("\xF4\x8F\xBF\xBF", 4)); /* U+10FFFF, the last */
}

static void test_utf8_rejects_overlongs_surrogates_and_truncation(void)
{
    CHECK(!valid("\xC0\x80", 2));         /* overlong NUL */
    CHECK(!valid("\xC1\xBF", 2));         /* overlong U+007F */
    CHECK(!valid("\xE0\x80\x80", 3));     /* overlong */
    CHECK(!valid("\xE0\x9F\xBF", 3));     /* overlong U+07FF */
    CHECK(!valid("\xED\xA0\x80", 3));     /* U+D800 surrogate */
    CHECK(!valid("\xED\xBF\xBF", 3));     /* U+DFFF surrogate */
    CHECK(!valid("\xF0\x80\x80\x80", 4)); /* overlong */
    CHECK(!valid("\xF0\x8F\xBF\xBF", 4)); /* overlong U+FFFF */
    CHECK(!valid("\xF4\x90\x80\x80", 4)); /* U+110000 */
    CHECK(!valid("\xF5\x80\x80\x80", 4)); /* lead byte beyond range */
    CHECK(!valid("\xFF", 1));
    CHECK(!valid("\xFE", 1));
    CHECK(!valid("\x80", 1)); /* lone continuation */
    CHECK(!valid("\xBF", 1));
    CHECK(!valid("\xC3", 1));         /* truncated 2-byte */
    CHECK(!valid("\xE2\x82", 2));     /* truncated 3-byte */
    CHECK(!valid("\xF0\x9D\x84", 3)); /* truncated 4-byte */
    CHECK(!valid("\xE2\x28\xA1", 3)); /* bad continuation */
    CHECK(!valid("\xC3\xA9\xA9", 3)); /* extra continuation */
}

static void test_utf8_check_reports_offset_of_first_bad_byte(void)
{
    CHECK_EQ_U64(meru_utf8_check((const uint8_t *)"abc\xE2\x82", 5), 3);
    /* A long ASCII run goes through the 8-byte fast path first. */
    char buf[64];
    memset(buf, 'a', sizeof buf);
    buf[37] = (char)0xFF;
    CHECK_EQ_U64(meru_utf8_check((const uint8_t *)buf, sizeof buf), 37);
    buf[37] = 'a';
    CHECK_EQ_U64(meru_utf8_check((const uint8_t *)buf, sizeof buf), 64);
    buf[63] = (char)0xC3; /* truncated at the very end */
    CHECK_EQ_U64(meru_utf8_check((const uint8_t *)buf, sizeof buf), 63);
}

/* Every code point encodes to bytes the validator accepts; every
 * surrogate encoding is refused. Independent encoder below. */
static size_t encode(uint32_t cp, uint8_t *b)
{
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | (cp >> 6 & 63));
        b[2] = (uint8_t)(0x80 | (cp & 63));
        return 3;
    }
    b[0] = (uint8_t)(0xF0 | cp >> 18);
    b[1] = (uint8_t)(0x80 | (cp >> 12 & 63));
    b[2] = (uint8_t)(0x80 | (cp >> 6 & 63));
    b[3] = (uint8_t)(0x80 | (cp & 63));
    return 4;
}

static void test_utf8_matches_an_independent_encoder_for_all_code_points(void)
{
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        uint8_t b[4];
        size_t n = encode(cp, b);
        int surrogate = cp >= 0xD800 && cp <= 0xDFFF;
        CHECK_MSG(meru_utf8_valid(b, n) == !surrogate, "code point U+%04X",
                  (unsigned)cp);
        if (!surrogate) {
            uint32_t back = 0;
            CHECK_EQ_U64(meru_utf8_decode(b, n, &back), n);
            CHECK_EQ_U64(back, cp);
        }
    }
}

/* ------------------------------------------------------------ datetime */

static void test_date_text_known_values(void)
{
    static const struct {
        const char *text;
        int32_t days;
    } v[] = {
        {"1970-01-01", 0},       {"1969-12-31", -1},
        {"2000-03-01", 11017},   {"1900-01-01", -25567},
        {"2024-02-29", 19782},   {"0001-01-01", -719162},
        {"0000-01-01", -719528}, {"9999-12-31", 2932896},
        {"1600-02-29", -135081},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        int32_t d;
        char buf[MERU_DATE_TEXT_MAX];
        CHECK_OK(meru_date_parse(v[i].text, strlen(v[i].text), &d));
        CHECK_EQ_INT(d, v[i].days);
        meru_date_format(v[i].days, buf);
        CHECK_STR(buf, v[i].text);
    }
}

static void test_date_text_round_trips_the_whole_int32_range(void)
{
    int32_t probes[] = {INT32_MIN, INT32_MIN + 1, -1000000000,   -719529,
                        2932897,   1000000000,    INT32_MAX - 1, INT32_MAX};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        char buf[MERU_DATE_TEXT_MAX];
        int32_t back;
        size_t n = meru_date_format(probes[i], buf);
        CHECK_OK(meru_date_parse(buf, n, &back));
        CHECK_EQ_INT(back, probes[i]);
    }
    for (int i = 0; i < 20000; i++) {
        int32_t d = (int32_t)(uint32_t)meru_test_rand();
        char buf[MERU_DATE_TEXT_MAX];
        int32_t back;
        size_t n = meru_date_format(d, buf);
        CHECK_OK(meru_date_parse(buf, n, &back));
        CHECK_EQ_INT(back, d);
    }
    char buf[MERU_DATE_TEXT_MAX];
    meru_date_format(-719529, buf);
    CHECK_STR(buf, "-0001-12-31");
    meru_date_format(2932897, buf);
    CHECK_STR(buf, "+10000-01-01");
}

static void test_date_text_rejects_impossible_dates_with_reason(void)
{
    int32_t d;
    CHECK_RC(meru_date_parse("2023-02-29", 10, &d), MERU_EINVAL);
    CHECK_ERRMSG("February 2023 has 28 days, not 29");
    CHECK_RC(meru_date_parse("2023-13-01", 10, &d), MERU_EINVAL);
    CHECK_ERRMSG("month 13 is out of range 01..12");
    CHECK_RC(meru_date_parse("2023-04-31", 10, &d), MERU_EINVAL);
    CHECK_ERRMSG("April 2023 has 30 days");
    CHECK_RC(meru_date_parse("1900-02-29", 10, &d), MERU_EINVAL);
    CHECK_RC(meru_date_parse("2023-1-5", 8, &d), MERU_EINVAL);
    CHECK_ERRMSG("expected YYYY-MM-DD");
    CHECK_RC(meru_date_parse("2023-01-05T00:00:00", 19, &d), MERU_EINVAL);
    CHECK_ERRMSG("unexpected text after");
    CHECK_RC(meru_date_parse("", 0, &d), MERU_EINVAL);
    CHECK_RC(meru_date_parse("+9999999-01-01", 14, &d), MERU_ERANGE);
}

static void test_timestamp_text_known_values_and_offsets(void)
{
    int64_t t;
    char buf[MERU_TIMESTAMP_TEXT_MAX];
    CHECK_OK(meru_timestamp_parse("2017-11-16T22:31:08", 19, 0, &t));
    CHECK_EQ_INT(t, INT64_C(1510871468000000));
    meru_timestamp_format(t, MERU_TS_LOCAL, buf);
    CHECK_STR(buf, "2017-11-16T22:31:08");
    CHECK_OK(meru_timestamp_parse("2017-11-16T22:31:08.000001", 26, 0, &t));
    CHECK_EQ_INT(t, INT64_C(1510871468000001));
    meru_timestamp_format(t, MERU_TS_OFFSET, buf);
    CHECK_STR(buf, "2017-11-16T22:31:08.000001+00:00");
    meru_timestamp_format(t, MERU_TS_ZULU, buf);
    CHECK_STR(buf, "2017-11-16T22:31:08.000001Z");
    /* fewer fractional digits are scaled; a space separator is accepted */
    CHECK_OK(meru_timestamp_parse("2017-11-16 22:31:08.5", 21, 0, &t));
    CHECK_EQ_INT(t, INT64_C(1510871468500000));
    /* nanosecond text with zero tail is fine, a non-zero tail is not */
    CHECK_OK(meru_timestamp_parse("2017-11-16T22:31:08.123456000", 29, 0, &t));
    CHECK_EQ_INT(t, INT64_C(1510871468123456));
    CHECK_RC(meru_timestamp_parse("2017-11-16T22:31:08.1234567", 27, 0, &t),
             MERU_EINVAL);
    CHECK_ERRMSG("microsecond precision");
    /* offsets convert to UTC */
    CHECK_OK(meru_timestamp_parse("2017-11-16T23:31:08+01:00", 25, 1, &t));
    CHECK_EQ_INT(t, INT64_C(1510871468000000));
    CHECK_OK(meru_timestamp_parse("2017-11-16T17:01:08-05:30", 25, 1, &t));
    CHECK_EQ_INT(t, INT64_C(1510871468000000));
    CHECK_OK(meru_timestamp_parse("2017-11-16T22:31:08Z", 20, 1, &t));
    CHECK_EQ_INT(t, INT64_C(1510871468000000));
    /* before the epoch */
    CHECK_OK(meru_timestamp_parse("1969-12-31T23:59:59.999999", 26, 0, &t));
    CHECK_EQ_INT(t, -1);
    meru_timestamp_format(-1, MERU_TS_LOCAL, buf);
    CHECK_STR(buf, "1969-12-31T23:59:59.999999");
    CHECK_OK(meru_timestamp_parse("1900-01-01T12:00:00", 19, 0, &t));
    CHECK_EQ_INT(t, INT64_C(-2208945600000000));
}

static void test_timestamp_text_rejects_bad_input_with_reason(void)
{
    int64_t t;
    CHECK_RC(meru_timestamp_parse("2017-11-16T22:31:08+00:00", 25, 0, &t),
             MERU_EINVAL);
    CHECK_ERRMSG("offset is not allowed for timestamp without time zone");
    CHECK_RC(meru_timestamp_parse("2017-11-16T22:31:08", 19, 1, &t),
             MERU_EINVAL);
    CHECK_ERRMSG("a UTC offset is required");
    CHECK_RC(meru_timestamp_parse("2017-11-16T24:00:00", 19, 0, &t),
             MERU_EINVAL);
    CHECK_ERRMSG("time 24:00:00 is out of range");
    CHECK_RC(meru_timestamp_parse("2017-11-16T22:31", 16, 0, &t), MERU_EINVAL);
    CHECK_ERRMSG("expected YYYY-MM-DDTHH:MM:SS[.ffffff]");
    CHECK_RC(meru_timestamp_parse("2017-11-16T22:31:08.", 20, 0, &t),
             MERU_EINVAL);
    CHECK_RC(meru_timestamp_parse("+300000-01-01T00:00:00", 22, 0, &t),
             MERU_ERANGE);
}

static void test_timestamp_text_round_trips_the_int64_range(void)
{
    int64_t probes[] = {INT64_MIN, INT64_MIN + 1, -1,       0,
                        1,         INT64_MAX - 1, INT64_MAX};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        char buf[MERU_TIMESTAMP_TEXT_MAX];
        int64_t back;
        size_t n = meru_timestamp_format(probes[i], MERU_TS_ZULU, buf);
        CHECK_OK(meru_timestamp_parse(buf, n, 1, &back));
        CHECK_EQ_INT(back, probes[i]);
    }
    for (int i = 0; i < 20000; i++) {
        int64_t v = (int64_t)meru_test_rand();
        char buf[MERU_TIMESTAMP_TEXT_MAX];
        int64_t back;
        size_t n = meru_timestamp_format(v, MERU_TS_LOCAL, buf);
        CHECK_OK(meru_timestamp_parse(buf, n, 0, &back));
        CHECK_EQ_INT(back, v);
    }
}

/* ------------------------------------------------------------- decimal */

static meru_i128 i128(int64_t v)
{
    meru_i128 r = {v < 0 ? -1 : 0, (uint64_t)v};
    return r;
}

static void test_decimal_parse_known_values(void)
{
    meru_i128 d;
    CHECK_OK(meru_decimal_parse("14.20", 5, 10, 2, &d));
    CHECK(d.hi == 0 && d.lo == 1420);
    CHECK_OK(meru_decimal_parse("-0.05", 5, 10, 2, &d));
    CHECK(d.hi == -1 && d.lo == (uint64_t)-5);
    CHECK_OK(meru_decimal_parse("1.5", 3, 10, 2, &d)); /* padded */
    CHECK(d.hi == 0 && d.lo == 150);
    CHECK_OK(meru_decimal_parse("+7", 2, 3, 0, &d));
    CHECK(d.lo == 7);
    CHECK_OK(meru_decimal_parse("1E+2", 4, 3, 0, &d));
    CHECK(d.lo == 100);
    CHECK_OK(meru_decimal_parse("1.25E-1", 7, 5, 3, &d));
    CHECK(d.lo == 125);
    CHECK_OK(meru_decimal_parse(".5", 2, 2, 1, &d));
    CHECK(d.lo == 5);
    CHECK_OK(meru_decimal_parse("-0", 2, 2, 1, &d));
    CHECK(d.hi == 0 && d.lo == 0);
    /* 38 nines: the largest decimal(38,0) */
    const char *max = "99999999999999999999999999999999999999";
    CHECK_OK(meru_decimal_parse(max, 38, 38, 0, &d));
    char buf[MERU_DECIMAL_TEXT_MAX];
    meru_decimal_format(d, 0, buf);
    CHECK_STR(buf, max);
    CHECK_EQ_INT(meru_decimal_digits(d), 38);
    CHECK(meru_decimal_fits(d, 38));
    CHECK(!meru_decimal_fits(d, 37));
}

static void test_decimal_parse_refuses_rounding_and_overflow(void)
{
    meru_i128 d;
    CHECK_RC(meru_decimal_parse("1.234", 5, 10, 2, &d), MERU_ERANGE);
    CHECK_ERRMSG("has 3 fractional digits, more than the scale 2 allows");
    CHECK_RC(meru_decimal_parse("12345.6", 7, 5, 1, &d), MERU_ERANGE);
    CHECK_ERRMSG("needs 6 digits, more than the precision of decimal(5,1)");
    CHECK_RC(meru_decimal_parse("123456789012345678901234567890123456789", 39,
                                38, 0, &d),
             MERU_ERANGE);
    CHECK_ERRMSG("more than 38 significant digits");
    CHECK_RC(meru_decimal_parse("1E+40", 5, 38, 0, &d), MERU_ERANGE);
    CHECK_RC(meru_decimal_parse("12a", 3, 10, 0, &d), MERU_EINVAL);
    CHECK_ERRMSG("invalid decimal '12a'");
    CHECK_RC(meru_decimal_parse("", 0, 10, 0, &d), MERU_EINVAL);
    CHECK_RC(meru_decimal_parse("-", 1, 10, 0, &d), MERU_EINVAL);
    CHECK_RC(meru_decimal_parse("1.2.3", 5, 10, 2, &d), MERU_EINVAL);
    CHECK_RC(meru_decimal_parse("1e", 2, 10, 2, &d), MERU_EINVAL);
}

static void test_decimal_format_places_point_and_sign(void)
{
    char buf[MERU_DECIMAL_TEXT_MAX];
    meru_decimal_format(i128(1420), 2, buf);
    CHECK_STR(buf, "14.20");
    meru_decimal_format(i128(-5), 2, buf);
    CHECK_STR(buf, "-0.05");
    meru_decimal_format(i128(0), 3, buf);
    CHECK_STR(buf, "0.000");
    meru_decimal_format(i128(0), 0, buf);
    CHECK_STR(buf, "0");
    meru_decimal_format(i128(-123), 0, buf);
    CHECK_STR(buf, "-123");
    /* the most negative 128-bit value at scale 38: 42 bytes with the NUL */
    meru_i128 min = {INT64_MIN, 0};
    size_t n = meru_decimal_format(min, 38, buf);
    CHECK_EQ_U64(n, 41);
    CHECK_STR(buf, "-1.70141183460469231731687303715884105728");
    CHECK_EQ_INT(meru_decimal_digits(min), 39);
}

static void test_decimal_text_round_trips_random_values(void)
{
    for (int i = 0; i < 5000; i++) {
        int32_t p = (int32_t)(meru_test_rand() % 38) + 1;
        int32_t s = (int32_t)(meru_test_rand() % (uint64_t)(p + 1));
        /* a random value with at most p digits */
        char text[64];
        size_t o = 0;
        if (meru_test_rand() & 1)
            text[o++] = '-';
        int nd = (int)(meru_test_rand() % (uint64_t)p) + 1;
        for (int k = 0; k < nd; k++)
            text[o++] = (char)('0' + meru_test_rand() % 10);
        meru_i128 d, back;
        CHECK_OK(meru_decimal_parse(text, o, 38, 0, &d)); /* unscaled */
        char out[MERU_DECIMAL_TEXT_MAX];
        size_t n = meru_decimal_format(d, s, out);
        CHECK_OK(meru_decimal_parse(out, n, p, s, &back));
        CHECK(back.hi == d.hi && back.lo == d.lo);
    }
}

/* ------------------------------------------------------------- floats */

static void test_float_text_is_shortest_round_trip(void)
{
    char buf[MERU_FLOAT_TEXT_MAX];
    meru_fmt_double(0.1, buf);
    CHECK_STR(buf, "0.1");
    meru_fmt_double(1.0, buf);
    CHECK_STR(buf, "1");
    meru_fmt_double(-0.0, buf);
    CHECK_STR(buf, "-0");
    meru_fmt_double(1e300, buf);
    CHECK_STR(buf, "1e+300");
    /* One number format: integers as integers, plain up to 1e21. */
    meru_fmt_double(100.0, buf);
    CHECK_STR(buf, "100");
    meru_fmt_double(1000.0, buf);
    CHECK_STR(buf, "1000");
    meru_fmt_double(123456.0, buf);
    CHECK_STR(buf, "123456");
    meru_fmt_double(-2.5e20, buf);
    CHECK_STR(buf, "-250000000000000000000");
    meru_fmt_double(1e21, buf);
    CHECK_STR(buf, "1e+21");
    meru_fmt_double(0.000001, buf);
    CHECK_STR(buf, "0.000001");
    meru_fmt_double(1.5e-7, buf);
    CHECK_STR(buf, "1.5e-7");
    meru_fmt_double(123.456, buf);
    CHECK_STR(buf, "123.456");
    meru_fmt_double(5e-324, buf);
    CHECK_STR(buf, "5e-324");
    meru_fmt_float(100.0f, buf);
    CHECK_STR(buf, "100");
    meru_fmt_float(-0.0f, buf);
    CHECK_STR(buf, "-0");
    meru_fmt_double(DBL_MAX, buf);
    CHECK_STR(buf, "1.7976931348623157e+308");
    meru_fmt_double(NAN, buf);
    CHECK_STR(buf, "NaN");
    meru_fmt_double(-INFINITY, buf);
    CHECK_STR(buf, "-Infinity");
    meru_fmt_float(0.1f, buf);
    CHECK_STR(buf, "0.1");
    meru_fmt_float(FLT_MAX, buf);
    CHECK_STR(buf, "3.4028235e+38");
    meru_fmt_float(1.4e-45f, buf);
    CHECK_STR(buf, "1e-45");
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = meru_test_rand();
        double d;
        memcpy(&d, &bits, 8);
        if (!isfinite(d))
            continue;
        size_t n = meru_fmt_double(d, buf);
        double back;
        CHECK_OK(meru_parse_double(buf, n, &back));
        CHECK_MEM(&back, &d, 8);
        uint32_t fb = (uint32_t)bits;
        float f;
        memcpy(&f, &fb, 4);
        if (!isfinite(f))
            continue;
        n = meru_fmt_float(f, buf);
        float fback;
        CHECK_OK(meru_parse_float(buf, n, &fback));
        CHECK_MEM(&fback, &f, 4);
    }
}

/* ------------------------------------------------------------ literals */

static meru_column column(meru_type t)
{
    meru_column c;
    memset(&c, 0, sizeof c);
    c.name = (char *)"c";
    c.type = t;
    c.nullable = 1;
    c.key_position = -1;
    if (t == MERU_TYPE_FIXED)
        c.fixed_length = 4;
    if (t == MERU_TYPE_DECIMAL) {
        c.precision = 10;
        c.scale = 2;
    }
    return c;
}

/* Parses `in`, prints it, expects `canon`, parses that and compares. */
static int round_trip(meru_type t, const char *in, const char *canon)
{
    meru_column c = column(t);
    meru_value v, v2;
    uint8_t *st = NULL, *st2 = NULL;
    meru_buf out = {0};
    int ok = 0;
    if (meru_value_from_literal(&c, in, &v, &st) != MERU_OK) {
        fprintf(stderr, "    parse of %s failed: %s\n", in, meru_errmsg());
        goto done;
    }
    if (meru_value_to_literal(&c, &v, &out) || meru_buf_push(&out, 0))
        goto done;
    if (strcmp((char *)out.data, canon) != 0) {
        fprintf(stderr, "    %s printed as %s, expected %s\n", in,
                (char *)out.data, canon);
        goto done;
    }
    if (meru_value_from_literal(&c, canon, &v2, &st2) != MERU_OK)
        goto done;
    if (v.state != v2.state)
        goto done;
    if (v.state == MERU_VALUE_PRESENT) {
        switch (t) {
        case MERU_TYPE_STRING:
        case MERU_TYPE_BINARY:
        case MERU_TYPE_FIXED:
            ok = v.u.bytes.len == v2.u.bytes.len &&
                 memcmp(v.u.bytes.ptr, v2.u.bytes.ptr, v.u.bytes.len) == 0;
            goto done;
        case MERU_TYPE_FLOAT:
            ok = memcmp(&v.u.f32, &v2.u.f32, 4) == 0 ||
                 (isnan(v.u.f32) && isnan(v2.u.f32));
            goto done;
        case MERU_TYPE_DOUBLE:
            ok = memcmp(&v.u.f64, &v2.u.f64, 8) == 0 ||
                 (isnan(v.u.f64) && isnan(v2.u.f64));
            goto done;
        default:
            ok = memcmp(&v.u, &v2.u, sizeof v.u) == 0;
            goto done;
        }
    }
    ok = 1;
done:
    free(st);
    free(st2);
    meru_buf_free(&out);
    return ok;
}

static void test_literal_round_trips_every_type(void)
{
    static const struct {
        meru_type t;
        const char *in, *canon;
    } v[] = {
        {MERU_TYPE_BOOLEAN, "true", "true"},
        {MERU_TYPE_BOOLEAN, " false ", "false"},
        {MERU_TYPE_INT32, "34", "34"},
        {MERU_TYPE_INT32, "-2147483648", "-2147483648"},
        {MERU_TYPE_INT32, "2147483647", "2147483647"},
        {MERU_TYPE_INT64, "-9223372036854775808", "-9223372036854775808"},
        {MERU_TYPE_INT64, "9223372036854775807", "9223372036854775807"},
        {MERU_TYPE_FLOAT, "1.5", "1.5"},
        {MERU_TYPE_FLOAT, "0.1", "0.1"},
        {MERU_TYPE_FLOAT, "3", "3"},
        {MERU_TYPE_FLOAT, "\"NaN\"", "\"NaN\""},
        {MERU_TYPE_DOUBLE, "1e-7", "1e-7"},
        {MERU_TYPE_DOUBLE, "1e2", "100"},
        {MERU_TYPE_DOUBLE, "123456.0", "123456"},
        {MERU_TYPE_DOUBLE, "-0.0", "-0"},
        {MERU_TYPE_DOUBLE, "\"-Infinity\"", "\"-Infinity\""},
        {MERU_TYPE_DOUBLE, "\"Infinity\"", "\"Infinity\""},
        {MERU_TYPE_STRING, "\"text\"", "\"text\""},
        {MERU_TYPE_STRING, "\"\"", "\"\""},
        {MERU_TYPE_STRING, "\"a\\\"b\\\\c\\n\\t\\u0000\\u001f\"",
         "\"a\\\"b\\\\c\\n\\t\\u0000\\u001f\""},
        {MERU_TYPE_STRING, "\"caf\\u00e9 \\ud834\\udd1e\"",
         "\"caf\xC3\xA9 \xF0\x9D\x84\x9E\""},
        {MERU_TYPE_STRING, "\"\\/\"", "\"/\""},
        {MERU_TYPE_BINARY, "\"000102ff\"", "\"000102ff\""},
        {MERU_TYPE_BINARY, "\"DEADbeef\"", "\"deadbeef\""},
        {MERU_TYPE_BINARY, "\"\"", "\"\""},
        {MERU_TYPE_FIXED, "\"00010203\"", "\"00010203\""},
        {MERU_TYPE_DATE, "\"2017-11-16\"", "\"2017-11-16\""},
        {MERU_TYPE_DATE, "\"1066-10-14\"", "\"1066-10-14\""},
        {MERU_TYPE_TIMESTAMP, "\"2017-11-16T22:31:08\"",
         "\"2017-11-16T22:31:08\""},
        {MERU_TYPE_TIMESTAMP, "\"2017-11-16T22:31:08.123456\"",
         "\"2017-11-16T22:31:08.123456\""},
        {MERU_TYPE_TIMESTAMPTZ, "\"2017-11-16T22:31:08.123456+00:00\"",
         "\"2017-11-16T22:31:08.123456+00:00\""},
        {MERU_TYPE_TIMESTAMPTZ, "\"2017-11-16T23:31:08Z\"",
         "\"2017-11-16T23:31:08+00:00\""},
        {MERU_TYPE_TIMESTAMPTZ, "\"2017-11-16T23:31:08+01:00\"",
         "\"2017-11-16T22:31:08+00:00\""},
        {MERU_TYPE_DECIMAL, "\"14.20\"", "\"14.20\""},
        {MERU_TYPE_DECIMAL, "\"-14.2\"", "\"-14.20\""},
        {MERU_TYPE_DECIMAL, "0", "\"0.00\""},
        {MERU_TYPE_DECIMAL, "0.1", "\"0.10\""},
        {MERU_TYPE_DECIMAL, "\"12345678.99\"", "\"12345678.99\""},
        {MERU_TYPE_INT32, "null", "null"},
        {MERU_TYPE_STRING, "null", "null"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        CHECK_MSG(round_trip(v[i].t, v[i].in, v[i].canon), "literal %s (%s)",
                  v[i].in, meru_type_name(v[i].t));
}

static int lit_rc(meru_type t, const char *lit)
{
    meru_column c = column(t);
    meru_value v;
    uint8_t *st = NULL;
    int rc = meru_value_from_literal(&c, lit, &v, &st);
    free(st);
    return rc;
}

static void test_literal_errors_name_type_and_problem(void)
{
    CHECK_RC(lit_rc(MERU_TYPE_INT32, "2147483648"), MERU_ERANGE);
    CHECK_ERRMSG("int literal 2147483648 is out of range "
                 "(-2147483648..2147483647)");
    CHECK_RC(lit_rc(MERU_TYPE_INT64, "9223372036854775808"), MERU_ERANGE);
    CHECK_RC(lit_rc(MERU_TYPE_INT32, "1.5"), MERU_EINVAL);
    CHECK_ERRMSG("expected an integer");
    CHECK_RC(lit_rc(MERU_TYPE_INT32, "\"12\""), MERU_EINVAL);
    CHECK_ERRMSG("expected an integer, got a string (numbers are written "
                 "without quotes)");
    CHECK_RC(lit_rc(MERU_TYPE_BOOLEAN, "1"), MERU_EINVAL);
    CHECK_ERRMSG("boolean literal 1: expected true or false, got a number");
    CHECK_RC(lit_rc(MERU_TYPE_BOOLEAN, "True"), MERU_EINVAL);
    CHECK_RC(lit_rc(MERU_TYPE_STRING, "text"), MERU_EINVAL);
    CHECK_ERRMSG("unexpected 'text'");
    CHECK_RC(lit_rc(MERU_TYPE_STRING, "12"), MERU_EINVAL);
    CHECK_ERRMSG("strings are written in double quotes");
    CHECK_RC(lit_rc(MERU_TYPE_STRING, "\"unterminated"), MERU_EINVAL);
    CHECK_ERRMSG("unterminated string");
    CHECK_RC(lit_rc(MERU_TYPE_STRING, "\"\\ud800\""), MERU_EINVAL);
    CHECK_ERRMSG("unpaired surrogate");
    CHECK_RC(lit_rc(MERU_TYPE_STRING, "\"\\x41\""), MERU_EINVAL);
    CHECK_ERRMSG("invalid escape");
    CHECK_RC(lit_rc(MERU_TYPE_STRING, "\"a\nb\""), MERU_EINVAL);
    CHECK_ERRMSG("raw control character 0x0A");
    CHECK_RC(lit_rc(MERU_TYPE_STRING, "\"\xC3\""), MERU_EINVAL);
    CHECK_ERRMSG("invalid UTF-8");
    CHECK_RC(lit_rc(MERU_TYPE_STRING, "\"a\" \"b\""), MERU_EINVAL);
    CHECK_ERRMSG("unexpected text");
    CHECK_RC(lit_rc(MERU_TYPE_STRING, "[\"a\"]"), MERU_EINVAL);
    CHECK_ERRMSG("nested values are not supported");
    CHECK_RC(lit_rc(MERU_TYPE_STRING, "   "), MERU_EINVAL);
    CHECK_ERRMSG("empty string literal");
    CHECK_RC(lit_rc(MERU_TYPE_FLOAT, "1e39"), MERU_ERANGE);
    CHECK_ERRMSG("too large for a float");
    CHECK_RC(lit_rc(MERU_TYPE_DOUBLE, "\"nan\""), MERU_EINVAL);
    CHECK_RC(lit_rc(MERU_TYPE_DOUBLE, "01"), MERU_EINVAL);
    CHECK_ERRMSG("invalid number '01'");
    CHECK_RC(lit_rc(MERU_TYPE_BINARY, "\"abc\""), MERU_EINVAL);
    CHECK_ERRMSG("odd number of hex digits");
    CHECK_RC(lit_rc(MERU_TYPE_BINARY, "\"zz\""), MERU_EINVAL);
    CHECK_ERRMSG("'z' at position 0 is not a hex digit");
    CHECK_RC(lit_rc(MERU_TYPE_FIXED, "\"0001\""), MERU_EINVAL);
    CHECK_ERRMSG("fixed[4] literal \"0001\": 2 bytes, expected exactly 4");
    CHECK_RC(lit_rc(MERU_TYPE_DATE, "20171116"), MERU_EINVAL);
    CHECK_ERRMSG("date literal 20171116: expected a \"YYYY-MM-DD\" string");
    CHECK_RC(lit_rc(MERU_TYPE_DATE, "\"2017-02-30\""), MERU_EINVAL);
    CHECK_ERRMSG("February 2017 has 28 days");
    CHECK_RC(lit_rc(MERU_TYPE_TIMESTAMPTZ, "\"2017-11-16T22:31:08\""),
             MERU_EINVAL);
    CHECK_ERRMSG("a UTC offset is required");
    CHECK_RC(lit_rc(MERU_TYPE_DECIMAL, "\"1.234\""), MERU_ERANGE);
    CHECK_ERRMSG("more than the scale 2 allows");
    CHECK_RC(lit_rc(MERU_TYPE_DECIMAL, "\"123456789.00\""), MERU_ERANGE);
    CHECK_ERRMSG("needs 11 digits");
    CHECK_RC(lit_rc(MERU_TYPE_DECIMAL, "true"), MERU_EINVAL);
}

static void test_literal_to_text_refuses_invalid_utf8_strings(void)
{
    meru_column c = column(MERU_TYPE_STRING);
    meru_value v;
    memset(&v, 0, sizeof v);
    v.state = MERU_VALUE_PRESENT;
    v.u.bytes.ptr = (const uint8_t *)"ok\xFF";
    v.u.bytes.len = 3;
    meru_buf out = {0};
    CHECK_RC(meru_value_to_literal(&c, &v, &out), MERU_EINVAL);
    CHECK_ERRMSG("not valid UTF-8 (byte 0xFF at offset 2)");
    meru_buf_free(&out);
}

int main(void)
{
    MERU_TEST_RUN(test_utf8_accepts_well_formed_sequences);
    MERU_TEST_RUN(test_utf8_rejects_overlongs_surrogates_and_truncation);
    MERU_TEST_RUN(test_utf8_check_reports_offset_of_first_bad_byte);
    MERU_TEST_RUN(test_utf8_matches_an_independent_encoder_for_all_code_points);
    MERU_TEST_RUN(test_date_text_known_values);
    MERU_TEST_RUN(test_date_text_round_trips_the_whole_int32_range);
    MERU_TEST_RUN(test_date_text_rejects_impossible_dates_with_reason);
    MERU_TEST_RUN(test_timestamp_text_known_values_and_offsets);
    MERU_TEST_RUN(test_timestamp_text_rejects_bad_input_with_reason);
    MERU_TEST_RUN(test_timestamp_text_round_trips_the_int64_range);
    MERU_TEST_RUN(test_decimal_parse_known_values);
    MERU_TEST_RUN(test_decimal_parse_refuses_rounding_and_overflow);
    MERU_TEST_RUN(test_decimal_format_places_point_and_sign);
    MERU_TEST_RUN(test_decimal_text_round_trips_random_values);
    MERU_TEST_RUN(test_float_text_is_shortest_round_trip);
    MERU_TEST_RUN(test_literal_round_trips_every_type);
    MERU_TEST_RUN(test_literal_errors_name_type_and_problem);
    MERU_TEST_RUN(test_literal_to_text_refuses_invalid_utf8_strings);
    return meru_test_finish();
}
