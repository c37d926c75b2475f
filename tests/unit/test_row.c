/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_row.c — rows: every setter/getter pair, by-name variants, type
 * mismatches, defaults, meru_row_validate() rules, and row JSON.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "types/row.h"

/* Column indexes of the all-types schema below. */
enum { ID, B, I, L, F, D, S, BIN, FX, DT, TS, TZ, DEC, NCOLS };

static meru_schema *all_types(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "every",
                          "id int64, b boolean, i int32, l int64, f float, "
                          "d double, s string, bin binary, fx fixed(4), "
                          "dt date, ts timestamp, tz timestamptz, "
                          "dec decimal(10,2)",
                          "id") != MERU_OK)
        return NULL;
    return s;
}

static void test_every_setter_getter_pair_round_trips(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK(meru_row_schema(r) == s);
    CHECK_OK(meru_row_set_int64(r, ID, INT64_MIN));
    CHECK_OK(meru_row_set_bool(r, B, 42)); /* any non-zero is true */
    CHECK_OK(meru_row_set_int32(r, I, INT32_MIN));
    CHECK_OK(meru_row_set_int64(r, L, INT64_MAX));
    CHECK_OK(meru_row_set_float(r, F, -1.5f));
    CHECK_OK(meru_row_set_double(r, D, 1e-300));
    CHECK_OK(meru_row_set_string(r, S, "h\0llo", 5));
    CHECK_OK(meru_row_set_binary(r, BIN, "\0\1\2", 3));
    CHECK_OK(meru_row_set_binary(r, FX, "abcd", 4));
    CHECK_OK(meru_row_set_date(r, DT, -25567));
    CHECK_OK(meru_row_set_timestamp(r, TS, -1));
    CHECK_OK(meru_row_set_timestamp(r, TZ, INT64_C(1510871468123456)));
    CHECK_OK(meru_row_set_decimal(r, DEC, -1, (uint64_t)-1250));

    int b;
    int32_t i32;
    int64_t i64;
    float f;
    double d;
    const char *str;
    const void *bin;
    size_t len;
    uint64_t lo;
    char dec[64];
    CHECK_OK(meru_row_get_int64(r, ID, &i64));
    CHECK_EQ_INT(i64, INT64_MIN);
    CHECK_OK(meru_row_get_bool(r, B, &b));
    CHECK_EQ_INT(b, 1);
    CHECK_OK(meru_row_get_int32(r, I, &i32));
    CHECK_EQ_INT(i32, INT32_MIN);
    CHECK_OK(meru_row_get_int64(r, L, &i64));
    CHECK_EQ_INT(i64, INT64_MAX);
    CHECK_OK(meru_row_get_float(r, F, &f));
    CHECK(f == -1.5f);
    CHECK_OK(meru_row_get_double(r, D, &d));
    CHECK(d == 1e-300);
    CHECK_OK(meru_row_get_string(r, S, &str, &len));
    CHECK_EQ_U64(len, 5);
    CHECK_MEM(str, "h\0llo", 5);
    CHECK_OK(meru_row_get_binary(r, BIN, &bin, &len));
    CHECK_EQ_U64(len, 3);
    CHECK_MEM(bin, "\0\1\2", 3);
    CHECK_OK(meru_row_get_binary(r, FX, &bin, &len));
    CHECK_EQ_U64(len, 4);
    CHECK_MEM(bin, "abcd", 4);
    CHECK_OK(meru_row_get_date(r, DT, &i32));
    CHECK_EQ_INT(i32, -25567);
    CHECK_OK(meru_row_get_timestamp(r, TS, &i64));
    CHECK_EQ_INT(i64, -1);
    CHECK_OK(meru_row_get_timestamp(r, TZ, &i64));
    CHECK_EQ_INT(i64, INT64_C(1510871468123456));
    CHECK_OK(meru_row_get_decimal(r, DEC, &i64, &lo));
    CHECK_EQ_INT(i64, -1);
    CHECK(lo == (uint64_t)-1250);
    CHECK_OK(meru_row_get_decimal_str(r, DEC, dec, sizeof dec));
    CHECK_STR(dec, "-12.50");
    CHECK_OK(meru_row_validate(r));
    for (size_t c = 0; c < NCOLS; c++) {
        CHECK_EQ_INT(meru_row_is_set(r, c), 1);
        CHECK_EQ_INT(meru_row_is_null(r, c), 0);
    }
    /* values are copies: changing the source changes nothing */
    char src[] = "abcd";
    CHECK_OK(meru_row_set_binary(r, FX, src, 4));
    src[0] = 'X';
    CHECK_OK(meru_row_get_binary(r, FX, &bin, &len));
    CHECK_MEM(bin, "abcd", 4);
    /* empty strings and binary are values, not null */
    CHECK_OK(meru_row_set_string(r, S, NULL, 0));
    CHECK_OK(meru_row_get_string(r, S, &str, &len));
    CHECK(str != NULL);
    CHECK_EQ_U64(len, 0);
    CHECK_EQ_INT(meru_row_is_null(r, S), 0);

    meru_row_clear(r);
    for (size_t c = 0; c < NCOLS; c++) {
        CHECK_EQ_INT(meru_row_is_set(r, c), 0);
        CHECK_EQ_INT(meru_row_is_null(r, c), 1);
    }
    CHECK_RC(meru_row_get_int64(r, ID, &i64), MERU_NOT_FOUND);
    CHECK_ERRMSG("meru_row_get_int64: column 'id' is null");
    CHECK_OK(meru_row_set_null(r, S));
    CHECK_EQ_INT(meru_row_is_set(r, S), 1);
    CHECK_EQ_INT(meru_row_is_null(r, S), 1);
    CHECK_RC(meru_row_get_string(r, S, &str, &len), MERU_NOT_FOUND);
    meru_row_free(r);
    meru_row_free(NULL);
    meru_schema_free(s);
}

static void test_type_mismatches_name_both_types(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_RC(meru_row_set_int32(r, L, 1), MERU_EINVAL);
    CHECK_ERRMSG("meru_row_set_int32: type mismatch: column 'l' is long, not "
                 "int");
    CHECK_RC(meru_row_set_int32(r, DT, 1), MERU_EINVAL);
    CHECK_ERRMSG("column 'dt' is date, not int");
    CHECK_RC(meru_row_set_double(r, F, 1), MERU_EINVAL);
    CHECK_ERRMSG("column 'f' is float, not double");
    CHECK_RC(meru_row_set_string(r, BIN, "x", 1), MERU_EINVAL);
    CHECK_ERRMSG("column 'bin' is binary, not string");
    CHECK_RC(meru_row_set_binary(r, S, "x", 1), MERU_EINVAL);
    CHECK_ERRMSG("column 's' is string, not binary");
    CHECK_RC(meru_row_set_decimal_str(r, D, "1"), MERU_EINVAL);
    CHECK_ERRMSG("column 'd' is double, not decimal");
    CHECK_RC(meru_row_set_timestamp(r, DT, 1), MERU_EINVAL);
    CHECK_RC(meru_row_set_bool(r, I, 1), MERU_EINVAL);
    CHECK_RC(meru_row_set_date(r, TS, 1), MERU_EINVAL);
    CHECK_RC(meru_row_set_decimal(r, FX, 0, 1), MERU_EINVAL);
    CHECK_ERRMSG("column 'fx' is fixed[4], not decimal");
    int64_t i64;
    double d;
    CHECK_RC(meru_row_get_int64(r, I, &i64), MERU_EINVAL);
    CHECK_ERRMSG("meru_row_get_int64: type mismatch: column 'i' is int, not "
                 "long");
    CHECK_RC(meru_row_get_double(r, DEC, &d), MERU_EINVAL);
    CHECK_ERRMSG("column 'dec' is decimal(10, 2), not double");
    CHECK_RC(meru_row_set_int64(r, NCOLS, 1), MERU_EINVAL);
    CHECK_ERRMSG("column index 13 is out of range (table 'every' has 13 "
                 "columns)");
    CHECK_RC(meru_row_set_null(r, 99), MERU_EINVAL);
    CHECK_RC(meru_row_get_int64(r, 99, &i64), MERU_EINVAL);
    CHECK_RC(meru_row_is_set(r, 99), MERU_EINVAL);
    CHECK_RC(meru_row_get_int64(r, ID, NULL), MERU_EINVAL);
    CHECK_RC(meru_row_set_binary(r, BIN, NULL, 3), MERU_EINVAL);
    /* nothing was changed by the failures */
    for (size_t c = 0; c < NCOLS; c++)
        CHECK_EQ_INT(meru_row_is_set(r, c), 0);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_by_name_variants_match_by_index(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int64_by_name(r, "id", 7));
    CHECK_OK(meru_row_set_bool_by_name(r, "b", 0));
    CHECK_OK(meru_row_set_int32_by_name(r, "i", -3));
    CHECK_OK(meru_row_set_int64_by_name(r, "l", 1LL << 40));
    CHECK_OK(meru_row_set_float_by_name(r, "f", 0.25f));
    CHECK_OK(meru_row_set_double_by_name(r, "d", -2.5));
    CHECK_OK(meru_row_set_string_by_name(r, "s", "str", 3));
    CHECK_OK(meru_row_set_binary_by_name(r, "bin", "\xff", 1));
    CHECK_OK(meru_row_set_binary_by_name(r, "fx", "wxyz", 4));
    CHECK_OK(meru_row_set_date_by_name(r, "dt", 19782));
    CHECK_OK(meru_row_set_timestamp_by_name(r, "ts", 5));
    CHECK_OK(meru_row_set_timestamp_by_name(r, "tz", 6));
    CHECK_OK(meru_row_set_decimal_str_by_name(r, "dec", "99999999.99"));
    int b;
    int32_t i32;
    int64_t i64;
    float f;
    double d;
    const char *str;
    const void *bin;
    size_t len;
    char dec[16];
    CHECK_OK(meru_row_get_int64_by_name(r, "id", &i64));
    CHECK_EQ_INT(i64, 7);
    CHECK_OK(meru_row_get_bool_by_name(r, "b", &b));
    CHECK_EQ_INT(b, 0);
    CHECK_OK(meru_row_get_int32_by_name(r, "i", &i32));
    CHECK_EQ_INT(i32, -3);
    CHECK_OK(meru_row_get_int64_by_name(r, "l", &i64));
    CHECK_EQ_INT(i64, 1LL << 40);
    CHECK_OK(meru_row_get_float_by_name(r, "f", &f));
    CHECK(f == 0.25f);
    CHECK_OK(meru_row_get_double_by_name(r, "d", &d));
    CHECK(d == -2.5);
    CHECK_OK(meru_row_get_string_by_name(r, "s", &str, &len));
    CHECK(len == 3 && memcmp(str, "str", 3) == 0);
    CHECK_OK(meru_row_get_binary_by_name(r, "bin", &bin, &len));
    CHECK(len == 1 && memcmp(bin, "\xff", 1) == 0);
    CHECK_OK(meru_row_get_binary_by_name(r, "fx", &bin, &len));
    CHECK(len == 4);
    CHECK_OK(meru_row_get_date_by_name(r, "dt", &i32));
    CHECK_EQ_INT(i32, 19782);
    CHECK_OK(meru_row_get_timestamp_by_name(r, "ts", &i64));
    CHECK_EQ_INT(i64, 5);
    CHECK_OK(meru_row_get_timestamp_by_name(r, "tz", &i64));
    CHECK_EQ_INT(i64, 6);
    CHECK_OK(meru_row_get_decimal_str_by_name(r, "dec", dec, sizeof dec));
    CHECK_STR(dec, "99999999.99");
    CHECK_OK(meru_row_set_null_by_name(r, "s"));
    CHECK_RC(meru_row_get_string_by_name(r, "s", &str, &len), MERU_NOT_FOUND);
    CHECK_ERRMSG("column 's' is null");
    /* An unknown column is its own error, never the null answer. */
    CHECK_RC(meru_row_set_int64_by_name(r, "nope", 1), MERU_ENOCOLUMN);
    CHECK_ERRMSG("meru_row_set_int64_by_name: table 'every' has no column "
                 "'nope'");
    CHECK_RC(meru_row_get_double_by_name(r, "ID", &d), MERU_ENOCOLUMN);
    CHECK_RC(meru_row_get_string_by_name(r, "nope", &str, &len),
             MERU_ENOCOLUMN);
    CHECK_RC(meru_row_set_null_by_name(r, "nope"), MERU_ENOCOLUMN);
    CHECK_STR(meru_strerror(MERU_ENOCOLUMN), "no such column");
    CHECK_RC(meru_row_set_int32_by_name(r, "id", 1), MERU_EINVAL);
    CHECK_ERRMSG("meru_row_set_int32: type mismatch: column 'id' is long");
    CHECK_RC(meru_row_set_null_by_name(r, NULL), MERU_EINVAL);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_decimal_text_setter_checks_scale_and_precision(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    char buf[64];
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_decimal_str(r, DEC, "-0.5"));
    CHECK_OK(meru_row_get_decimal_str(r, DEC, buf, sizeof buf));
    CHECK_STR(buf, "-0.50");
    CHECK_RC(meru_row_set_decimal_str(r, DEC, "1.234"), MERU_ERANGE);
    CHECK_ERRMSG("meru_row_set_decimal_str: column 'dec': decimal '1.234' has "
                 "3 fractional digits, more than the scale 2 allows");
    CHECK_RC(meru_row_set_decimal_str(r, DEC, "123456789.00"), MERU_ERANGE);
    CHECK_ERRMSG("needs 11 digits, more than the precision of "
                 "decimal(10,2)");
    CHECK_RC(meru_row_set_decimal_str(r, DEC, "12,5"), MERU_EINVAL);
    CHECK_ERRMSG("invalid decimal '12,5'");
    CHECK_RC(meru_row_set_decimal_str(r, DEC, NULL), MERU_EINVAL);
    /* the failures kept the earlier value */
    CHECK_OK(meru_row_get_decimal_str(r, DEC, buf, sizeof buf));
    CHECK_STR(buf, "-0.50");
    CHECK_RC(meru_row_get_decimal_str(r, DEC, buf, 5), MERU_ERANGE);
    CHECK_ERRMSG("buffer of 5 bytes is too small for '-0.50' (6 bytes");
    CHECK_OK(meru_row_get_decimal_str(r, DEC, buf, 6));
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_byte_storage_is_reused_and_self_copies_are_safe(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    size_t big = 100000;
    char *data = malloc(big);
    CHECK(data);
    for (size_t k = 0; k < big; k++)
        data[k] = (char)('a' + k % 26);
    CHECK_OK(meru_row_set_string(r, S, data, big));
    const char *p1, *p2;
    size_t len;
    CHECK_OK(meru_row_get_string(r, S, &p1, &len));
    CHECK_OK(meru_row_set_string(r, S, "short", 5));
    CHECK_OK(meru_row_get_string(r, S, &p2, &len));
    CHECK(p1 == p2); /* same buffer, no new allocation */
    meru_row_clear(r);
    CHECK_OK(meru_row_set_string(r, S, "again", 5));
    CHECK_OK(meru_row_get_string(r, S, &p2, &len));
    CHECK(p1 == p2);
    /* setting a column from its own bytes (a tail, then a grow) */
    CHECK_OK(meru_row_set_string(r, S, data, 1000));
    CHECK_OK(meru_row_get_string(r, S, &p1, &len));
    CHECK_OK(meru_row_set_string(r, S, p1 + 10, 990));
    CHECK_OK(meru_row_get_string(r, S, &p2, &len));
    CHECK_EQ_U64(len, 990);
    CHECK_MEM(p2, data + 10, 990);
    /* oversize values are refused before anything is read */
    CHECK_RC(meru_row_set_binary(r, BIN, data, MERU_MAX_VALUE_BYTES + 1),
             MERU_ERANGE);
    CHECK_ERRMSG("column 'bin': value of 16777217 bytes exceeds the limit of "
                 "16777216 bytes");
    CHECK_EQ_INT(meru_row_is_set(r, BIN), 0);
    free(data);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_write_defaults_fill_unset_columns(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_parse(&s, "t",
                               "id int64, n int32 not null default 5, "
                               "name string default \"anon\", x double",
                               "id"));
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    int32_t n;
    const char *str;
    size_t len;
    CHECK_OK(meru_row_get_int32(r, 1, &n));
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(meru_row_is_set(r, 1), 0);
    CHECK_EQ_INT(meru_row_is_null(r, 1), 0);
    CHECK_OK(meru_row_get_string(r, 2, &str, &len));
    CHECK(len == 4 && memcmp(str, "anon", 4) == 0);
    CHECK_EQ_INT(meru_row_is_null(r, 3), 1);
    meru_value tmp;
    CHECK_EQ_INT(meru_row_effective(r, 1, &tmp)->u.i32, 5);
    CHECK_EQ_INT(meru_row_effective(r, 3, &tmp)->state, MERU_VALUE_NULL);
    /* an explicit null is not replaced by the default */
    CHECK_OK(meru_row_set_null(r, 2));
    CHECK_RC(meru_row_get_string(r, 2, &str, &len), MERU_NOT_FOUND);
    char *json;
    CHECK_OK(meru_row_to_json(r, &json));
    CHECK_STR(json, "{\"id\":null,\"n\":5,\"name\":null,\"x\":null}");
    meru_free(json);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_validate_rules_name_the_column(void)
{
    meru_schema *s;
    CHECK_OK(meru_schema_parse(&s, "t",
                               "id int64, k2 double, w int32 not null "
                               "default 1, v int32 not null, f fixed(2), "
                               "dec decimal(3,1), s string, nan_ok float",
                               "id, k2"));
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_RC(meru_row_validate(r), MERU_EINVAL);
    CHECK_ERRMSG("column 'id' is NOT NULL but has no value and no write "
                 "default");
    CHECK_OK(meru_row_set_int64(r, 0, 1));
    CHECK_OK(meru_row_set_double(r, 1, NAN));
    CHECK_OK(meru_row_set_int32(r, 3, 1));
    CHECK_RC(meru_row_validate(r), MERU_EINVAL);
    CHECK_ERRMSG("column 'k2': NaN is not allowed in a primary-key column");
    CHECK_OK(meru_row_set_double(r, 1, -0.0));
    CHECK_OK(meru_row_set_float(r, 7, NAN)); /* not a key column: fine */
    CHECK_OK(meru_row_validate(r)); /* w comes from its write default */
    CHECK_OK(meru_row_set_null(r, 3));
    CHECK_RC(meru_row_validate(r), MERU_EINVAL);
    CHECK_ERRMSG("column 'v' is NOT NULL but was set to null");
    CHECK_OK(meru_row_set_int32(r, 3, 2));
    CHECK_OK(meru_row_set_binary(r, 4, "abc", 3));
    CHECK_RC(meru_row_validate(r), MERU_EINVAL);
    CHECK_ERRMSG("column 'f': fixed[2] value has 3 bytes, expected exactly 2");
    CHECK_OK(meru_row_set_binary(r, 4, "ab", 2));
    CHECK_OK(meru_row_set_decimal(r, 5, 0, 1000)); /* 100.0 in decimal(3,1) */
    CHECK_RC(meru_row_validate(r), MERU_EINVAL);
    CHECK_ERRMSG("column 'dec': decimal 100.0 has 4 digits, more than the "
                 "precision of decimal(3, 1) allows");
    CHECK_OK(meru_row_set_decimal(r, 5, -1, (uint64_t)-999));
    CHECK_OK(meru_row_set_string(r, 6, "ok\xED\xA0\x80", 5));
    CHECK_RC(meru_row_validate(r), MERU_EINVAL);
    CHECK_ERRMSG("column 's': string is not valid UTF-8 (byte 0xED at offset "
                 "2)");
    CHECK_OK(meru_row_set_string(r, 6, "ok", 2));
    CHECK_OK(meru_row_validate(r));
    CHECK_RC(meru_row_validate(NULL), MERU_EINVAL);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_set_json_parses_literals_for_each_type(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    static const char *lits[NCOLS] = {"-5",
                                      "true",
                                      "12",
                                      "9007199254740993",
                                      "0.5",
                                      "\"-Infinity\"",
                                      "\"caf\\u00e9\"",
                                      "\"00ff\"",
                                      "\"01020304\"",
                                      "\"1969-07-20\"",
                                      "\"1969-07-20T20:17:40\"",
                                      "\"1969-07-20T20:17:40Z\"",
                                      "\"-3.1\""};
    for (size_t c = 0; c < NCOLS; c++)
        CHECK_OK(meru_row_set_json(r, c, lits[c]));
    int64_t i64;
    double d;
    int32_t days;
    char dec[16];
    const char *str;
    size_t len;
    CHECK_OK(meru_row_get_int64(r, L, &i64));
    CHECK_EQ_INT(i64, INT64_C(9007199254740993)); /* not via a double */
    CHECK_OK(meru_row_get_double(r, D, &d));
    CHECK(isinf(d) && d < 0);
    CHECK_OK(meru_row_get_string(r, S, &str, &len));
    CHECK(len == 5 && memcmp(str, "caf\xC3\xA9", 5) == 0);
    CHECK_OK(meru_row_get_date(r, DT, &days));
    CHECK_EQ_INT(days, -165);
    CHECK_OK(meru_row_get_timestamp(r, TZ, &i64));
    CHECK_EQ_INT(i64, INT64_C(-14182940000000));
    CHECK_OK(meru_row_get_decimal_str(r, DEC, dec, sizeof dec));
    CHECK_STR(dec, "-3.10");
    CHECK_OK(meru_row_set_json(r, S, "null"));
    CHECK_EQ_INT(meru_row_is_null(r, S), 1);
    CHECK_EQ_INT(meru_row_is_set(r, S), 1);
    CHECK_RC(meru_row_set_json(r, I, "\"12\""), MERU_EINVAL);
    CHECK_ERRMSG("meru_row_set_json: column 'i': int literal \"12\": expected "
                 "an integer, got a string");
    CHECK_RC(meru_row_set_json(r, FX, "\"0102\""), MERU_EINVAL);
    CHECK_ERRMSG("column 'fx': fixed[4] literal \"0102\": 2 bytes");
    meru_row_free(r);
    meru_schema_free(s);
}

/* ---------------------------------------------------------------- JSON */

static void test_row_json_text_for_every_type(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int64(r, ID, -42));
    CHECK_OK(meru_row_set_bool(r, B, 1));
    CHECK_OK(meru_row_set_int32(r, I, 7));
    CHECK_OK(meru_row_set_float(r, F, 0.1f));
    CHECK_OK(meru_row_set_double(r, D, NAN));
    CHECK_OK(meru_row_set_string(r, S, "q\"\\\n\x01\xC3\xA9", 7));
    CHECK_OK(meru_row_set_binary(r, BIN, "\0\xAB", 2));
    CHECK_OK(meru_row_set_binary(r, FX, "\0\0\0\1", 4));
    CHECK_OK(meru_row_set_date(r, DT, -1));
    CHECK_OK(meru_row_set_timestamp(r, TS, INT64_C(-2208988800000000)));
    CHECK_OK(meru_row_set_timestamp(r, TZ, INT64_C(1510871468000001)));
    CHECK_OK(meru_row_set_decimal_str(r, DEC, "-0.07"));
    char *json;
    CHECK_OK(meru_row_to_json(r, &json));
    CHECK_STR(json, "{\"id\":-42,\"b\":true,\"i\":7,\"l\":null,\"f\":0.1,"
                    "\"d\":\"NaN\",\"s\":\"q\\\"\\\\\\n\\u0001\xC3\xA9\","
                    "\"bin\":\"00ab\",\"fx\":\"00000001\","
                    "\"dt\":\"1969-12-31\",\"ts\":\"1900-01-01T00:00:00\","
                    "\"tz\":\"2017-11-16T22:31:08.000001Z\","
                    "\"dec\":\"-0.07\"}");
    /* and back, into a fresh row */
    meru_row *r2;
    char *json2;
    CHECK_OK(meru_row_new(&r2, s));
    CHECK_OK(meru_row_from_json(r2, json, strlen(json)));
    CHECK_OK(meru_row_to_json(r2, &json2));
    CHECK_STR(json2, json);
    CHECK_EQ_INT(meru_row_is_set(r2, L), 1); /* explicit null */
    CHECK_EQ_INT(meru_row_is_null(r2, L), 1);
    const void *bin;
    size_t len;
    CHECK_OK(meru_row_get_binary(r2, BIN, &bin, &len));
    CHECK(len == 2 && memcmp(bin, "\0\xAB", 2) == 0);
    meru_free(json);
    meru_free(json2);

    /* a string that is not UTF-8 cannot be written as JSON */
    CHECK_OK(meru_row_set_string(r, S, "\xFF", 1));
    CHECK_RC(meru_row_to_json(r, &json), MERU_EINVAL);
    CHECK_ERRMSG("meru_row_to_json: column 's': string value is not valid "
                 "UTF-8");
    meru_row_free(r);
    meru_row_free(r2);
    meru_schema_free(s);
}

static void test_row_json_round_trips_random_rows(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *a, *b;
    CHECK_OK(meru_row_new(&a, s));
    CHECK_OK(meru_row_new(&b, s));
    int iters = (int)(3000 * meru_test_scale());
    for (int it = 0; it < iters; it++) {
        meru_row_clear(a);
        meru_row_clear(b);
        uint64_t x = meru_test_rand();
        CHECK_OK(meru_row_set_int64(a, ID, (int64_t)x));
        CHECK_OK(meru_row_set_bool(a, B, (int)(x & 1)));
        CHECK_OK(meru_row_set_int32(a, I, (int32_t)(x >> 7)));
        if (x & 2)
            CHECK_OK(meru_row_set_int64(a, L, (int64_t)meru_test_rand()));
        uint64_t bits = meru_test_rand();
        float f;
        double d;
        uint32_t fb = (uint32_t)bits;
        memcpy(&f, &fb, 4);
        memcpy(&d, &bits, 8);
        CHECK_OK(meru_row_set_float(a, F, f));
        CHECK_OK(meru_row_set_double(a, D, d));
        char str[32];
        size_t n = meru_test_rand() % sizeof str;
        for (size_t k = 0; k < n; k++)
            str[k] = (char)(meru_test_rand() % 128); /* ASCII incl. controls */
        CHECK_OK(meru_row_set_string(a, S, str, n));
        uint8_t raw[16];
        for (size_t k = 0; k < sizeof raw; k++)
            raw[k] = (uint8_t)meru_test_rand();
        CHECK_OK(meru_row_set_binary(a, BIN, raw, meru_test_rand() % 16));
        CHECK_OK(meru_row_set_binary(a, FX, raw, 4));
        CHECK_OK(meru_row_set_date(a, DT, (int32_t)meru_test_rand()));
        CHECK_OK(meru_row_set_timestamp(a, TS, (int64_t)meru_test_rand()));
        CHECK_OK(meru_row_set_timestamp(a, TZ, (int64_t)meru_test_rand()));
        int64_t v = (int64_t)(meru_test_rand() % 19999999999ULL) - 9999999999LL;
        CHECK_OK(meru_row_set_decimal(a, DEC, v < 0 ? -1 : 0, (uint64_t)v));
        char *j1, *j2;
        CHECK_OK(meru_row_to_json(a, &j1));
        CHECK_OK(meru_row_from_json(b, j1, strlen(j1)));
        CHECK_OK(meru_row_to_json(b, &j2));
        CHECK_STR(j2, j1);
        for (size_t c = 0; c < NCOLS; c++) {
            meru_value t1, t2;
            const meru_value *v1 = meru_row_effective(a, c, &t1);
            const meru_value *v2 = meru_row_effective(b, c, &t2);
            CHECK_EQ_INT(v1->state, v2->state);
            if (v1->state != MERU_VALUE_PRESENT)
                continue;
            if (c == S || c == BIN || c == FX) {
                CHECK_EQ_U64(v1->u.bytes.len, v2->u.bytes.len);
                CHECK_MEM(v1->u.bytes.ptr, v2->u.bytes.ptr, v1->u.bytes.len);
            } else if (c == F && isnan(v1->u.f32)) {
                CHECK(isnan(v2->u.f32)); /* payload bits are not kept */
            } else if (c == D && isnan(v1->u.f64)) {
                CHECK(isnan(v2->u.f64));
            } else if (c == F) {
                CHECK_MEM(&v1->u.f32, &v2->u.f32, 4);
            } else if (c == D) {
                CHECK_MEM(&v1->u.f64, &v2->u.f64, 8);
            } else if (c == B) {
                CHECK_EQ_INT(v1->u.b, v2->u.b);
            } else if (c == I || c == DT) {
                CHECK_EQ_INT(v1->u.i32, v2->u.i32);
            } else if (c == DEC) {
                CHECK(v1->u.dec.hi == v2->u.dec.hi &&
                      v1->u.dec.lo == v2->u.dec.lo);
            } else {
                CHECK_EQ_INT(v1->u.i64, v2->u.i64);
            }
        }
        meru_free(j1);
        meru_free(j2);
    }
    meru_row_free(a);
    meru_row_free(b);
    meru_schema_free(s);
}

static void test_row_from_json_is_all_or_nothing(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int64(r, ID, 1));
    CHECK_OK(meru_row_set_string(r, S, "keep", 4));
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"id\":2,\"s\":\"new\",\"nope\":1}",
         "meru_row_from_json: table 'every' has no column 'nope' (offset 18)"},
        {"{\"id\":2,\"s\":\"new\",\"i\":1.5}",
         "meru_row_from_json: column 'i' (offset 22): int literal 1.5: "
         "expected an integer"},
        {"{\"id\":2,\"id\":3}", "column 'id' appears twice (offset 8)"},
        {"{\"id\":2,\"s\":[\"x\"]}", "column 's': JSON array at offset 12: "
                                     "nested values are not supported"},
        {"{\"id\":2,\"s\":{}}", "nested values are not supported"},
        {"{\"id\":2} x", "unexpected text after the object at offset 9"},
        {"{\"id\":2,}", "expected a column name in double quotes at offset 8"},
        {"{\"id\" 2}", "expected ':' after the column name at offset 6"},
        {"{\"id\":2 \"s\":\"x\"}", "expected ',' or '}' at offset 8"},
        {"{\"id\":2", "expected ',' or '}' at offset 7"},
        {"[1]", "expected a JSON object ('{') at offset 0"},
        {"", "expected a JSON object ('{') at offset 0"},
        {"{\"id\":\"2\"}", "column 'id' (offset 6): long literal \"2\""},
        {"{\"dt\":\"2023-02-29\"}",
         "column 'dt' (offset 6): invalid date '2023-02-29'"},
        {"{\"s\":\"\\ud800\"}", "unpaired surrogate"},
        {"{\"s\":\"\xC3\x28\"}", "invalid UTF-8 in string"},
        {"{\"i\":99999999999}", "column 'i' (offset 5): int literal "
                                "99999999999 is out of range"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int want = strstr(bad[k].msg, "out of range")  ? MERU_ERANGE
                   : strstr(bad[k].msg, "has no column") ? MERU_ENOCOLUMN
                                                         : MERU_EINVAL;
        CHECK_RC(meru_row_from_json(r, bad[k].json, strlen(bad[k].json)), want);
        CHECK_ERRMSG(bad[k].msg);
        int64_t id;
        const char *str;
        size_t len;
        CHECK_OK(meru_row_get_int64(r, ID, &id));
        CHECK_EQ_INT(id, 1);
        CHECK_OK(meru_row_get_string(r, S, &str, &len));
        CHECK(len == 4 && memcmp(str, "keep", 4) == 0);
    }
    /* members absent from the object stay as they were */
    CHECK_OK(meru_row_from_json(r, " { \"id\" : 9 , \"i\":null } ", 25));
    int64_t id;
    CHECK_OK(meru_row_get_int64(r, ID, &id));
    CHECK_EQ_INT(id, 9);
    CHECK_EQ_INT(meru_row_is_set(r, S), 1);
    CHECK_EQ_INT(meru_row_is_null(r, I), 1);
    CHECK_OK(meru_row_from_json(r, "{}", 2));
    /* a name with an escaped NUL cannot match a column */
    CHECK_RC(meru_row_from_json(r, "{\"i\\u0000\":1}", 13), MERU_ENOCOLUMN);
    CHECK_ERRMSG("has no column 'i\\x00'");
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_row_survives_mutated_json(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    const char *good =
        "{\"id\":-42,\"b\":true,\"i\":7,\"l\":null,\"f\":0.1,\"d\":\"NaN\","
        "\"s\":\"q\\\"\\u00e9\",\"bin\":\"00ab\",\"fx\":\"00000001\","
        "\"dt\":\"1969-12-31\",\"ts\":\"1900-01-01T00:00:00\","
        "\"tz\":\"2017-11-16T22:31:08.000001Z\",\"dec\":\"-0.07\"}";
    size_t n = strlen(good);
    char *m = malloc(n);
    CHECK(m);
    int iters = (int)(20000 * meru_test_scale());
    for (int it = 0; it < iters; it++) {
        memcpy(m, good, n);
        int flips = 1 + (int)(meru_test_rand() % 3);
        for (int k = 0; k < flips; k++)
            m[meru_test_rand() % n] = (char)(meru_test_rand() & 0xFF);
        size_t len = (meru_test_rand() & 3) ? n : meru_test_rand() % n;
        int rc = meru_row_from_json(r, m, len);
        CHECK_MSG(rc == MERU_OK || rc == MERU_EINVAL || rc == MERU_ERANGE ||
                      rc == MERU_ENOCOLUMN,
                  "rc %d: %s", rc, meru_errmsg());
    }
    free(m);
    meru_row_free(r);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_every_setter_getter_pair_round_trips);
    MERU_TEST_RUN(test_type_mismatches_name_both_types);
    MERU_TEST_RUN(test_by_name_variants_match_by_index);
    MERU_TEST_RUN(test_decimal_text_setter_checks_scale_and_precision);
    MERU_TEST_RUN(test_byte_storage_is_reused_and_self_copies_are_safe);
    MERU_TEST_RUN(test_write_defaults_fill_unset_columns);
    MERU_TEST_RUN(test_validate_rules_name_the_column);
    MERU_TEST_RUN(test_set_json_parses_literals_for_each_type);
    MERU_TEST_RUN(test_row_json_text_for_every_type);
    MERU_TEST_RUN(test_row_json_round_trips_random_rows);
    MERU_TEST_RUN(test_row_from_json_is_all_or_nothing);
    MERU_TEST_RUN(test_row_survives_mutated_json);
    return meru_test_finish();
}
