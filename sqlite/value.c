/* SPDX-License-Identifier: Apache-2.0 */
/*
 * value.c — SQL values and row columns, and the key bytes the module
 * orders by.
 *
 * Column types as SQL sees them (docs/sqlite.md has the table):
 *   boolean, int32, int64      INTEGER (a boolean is 0 or 1)
 *   float, double              REAL
 *   string                     TEXT
 *   binary, fixed              BLOB
 *   date, timestamp(tz),       TEXT in the form `meru scan` prints:
 *   decimal                    2026-01-31, 2026-01-31T12:00:00[.ffffff],
 *                              the same + "Z", "12.50"
 * Writes convert the way SQLite's column affinity would (numbers into text
 * columns become text, numeric text into number columns becomes a number)
 * and leave every judgement about the value itself (range, precision,
 * UTF-8, date validity, NOT NULL, NaN in a key) to the engine, so a
 * rejected value carries the engine's own message. An INSERT's NULL into a
 * column with a write default gives the default (SQLite cannot tell a
 * virtual table an omitted column from an explicit NULL); an UPDATE's
 * NULL is NULL (SQLite passes every column, changed or not). Dates, timestamps
 * and decimals go through meru_row_set_json / meru_row_set_decimal_str, the
 * engine's parsers.
 *
 * Bounds: a WHERE constraint's value becomes a key bound only when that
 * keeps every row SQLite would accept (msq_value_to_bound); anything
 * SQLite compares by rules the engine's key order does not share (text
 * against a number column, a blob against text...) is dropped and left to
 * SQLite's own check, or, where SQLite's answer is "no row", the scan is
 * empty.

 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "msq.h"

msq_kind msq_type_kind(meru_type t)
{
    switch (t) {
    case MERU_TYPE_BOOLEAN:
    case MERU_TYPE_INT32:
    case MERU_TYPE_INT64:
        return MSQ_KIND_INT;
    case MERU_TYPE_FLOAT:
    case MERU_TYPE_DOUBLE:
        return MSQ_KIND_FLOAT;
    case MERU_TYPE_STRING:
        return MSQ_KIND_TEXT;
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
        return MSQ_KIND_BLOB;
    default:
        return MSQ_KIND_TIME;
    }
}

const char *msq_type_sql(meru_type t)
{
    switch (msq_type_kind(t)) {
    case MSQ_KIND_INT:
        return "INTEGER";
    case MSQ_KIND_FLOAT:
        return "REAL";
    case MSQ_KIND_BLOB:
        return "BLOB";
    default:
        return "TEXT";
    }
}

/* ------------------------------------------------------------- buffers */

int msq_buf_reserve(msq_buf *b, size_t more)
{
    if (b->cap - b->n >= more)
        return MERU_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->n < more)
        cap *= 2;
    uint8_t *p = sqlite3_realloc64(b->p, cap);
    if (!p)
        return MERU_ENOMEM;
    b->p = p;
    b->cap = cap;
    return MERU_OK;
}

void msq_buf_free(msq_buf *b)
{
    sqlite3_free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

int msq_buf_put(msq_buf *b, const void *p, size_t n)
{
    if (msq_buf_reserve(b, n))
        return MERU_ENOMEM;
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return MERU_OK;
}

/* `text` as a NUL-terminated JSON string literal in `b` (from offset 0). */
static int json_quote(msq_buf *b, const unsigned char *text, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    b->n = 0;
    if (msq_buf_reserve(b, n * 6 + 3))
        return MERU_ENOMEM;
    uint8_t *o = b->p;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = text[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = c;
        } else if (c < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = (uint8_t)hex[c >> 4];
            o[5] = (uint8_t)hex[c & 15];
            o += 6;
        } else {
            *o++ = c;
        }
    }
    *o++ = '"';
    *o = 0;
    b->n = (size_t)(o - b->p);
    return MERU_OK;
}

/* ---------------------------------------------------------------- writes */

/* A SQL value as a JSON literal for meru_row_set_json: the engine then
 * judges it and words the error. */
static int set_via_json(meru_row *row, size_t col, sqlite3_value *v)
{
    char num[64];
    msq_buf b = {0};
    int rc;
    switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
        snprintf(num, sizeof num, "%lld", (long long)sqlite3_value_int64(v));
        return meru_row_set_json(row, col, num);
    case SQLITE_FLOAT: {
        double d = sqlite3_value_double(v);
        if (isnan(d))
            return meru_row_set_json(row, col, "\"NaN\"");
        if (isinf(d))
            return meru_row_set_json(row, col,
                                     d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        snprintf(num, sizeof num, "%.17g", d);
        return meru_row_set_json(row, col, num);
    }
    default: {
        const unsigned char *t = sqlite3_value_text(v);
        int n = sqlite3_value_bytes(v);
        if (!t)
            return MERU_ENOMEM;
        if (json_quote(&b, t, (size_t)n))
            return MERU_ENOMEM;
        rc = meru_row_set_json(row, col, (const char *)b.p);
        msq_buf_free(&b);
        return rc;
    }
    }
}

/* The numeric value SQLite's NUMERIC affinity gives `v` (a copy: argv
 * values are not ours to change); NULL when out of memory. Free with
 * sqlite3_value_free. */
static sqlite3_value *numeric_copy(sqlite3_value *v)
{
    sqlite3_value *c = sqlite3_value_dup(v);
    if (c)
        sqlite3_value_numeric_type(c);
    return c;
}

static int set_integer(meru_row *row, size_t col, meru_type t, int64_t i)
{
    if (t == MERU_TYPE_INT64)
        return meru_row_set_int64(row, col, i);
    if (t == MERU_TYPE_INT32 && i >= INT32_MIN && i <= INT32_MAX)
        return meru_row_set_int32(row, col, (int32_t)i);
    if (t == MERU_TYPE_BOOLEAN && (i == 0 || i == 1))
        return meru_row_set_bool(row, col, (int)i);
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)i);
    return meru_row_set_json(row, col, num); /* the engine's range error */
}

static int set_number(meru_row *row, size_t col, meru_type t, sqlite3_value *v)
{
    if (sqlite3_value_type(v) == SQLITE_INTEGER) {
        int64_t i = sqlite3_value_int64(v);
        if (msq_type_kind(t) == MSQ_KIND_INT)
            return set_integer(row, col, t, i);
        return t == MERU_TYPE_FLOAT ? meru_row_set_float(row, col, (float)i)
                                    : meru_row_set_double(row, col, (double)i);
    }
    double d = sqlite3_value_double(v);
    if (t == MERU_TYPE_FLOAT)
        return meru_row_set_float(row, col, (float)d);
    if (t == MERU_TYPE_DOUBLE)
        return meru_row_set_double(row, col, d);
    /* A real into an integer column: whole values in range are taken, as
     * INTEGER affinity would; anything else gets the engine's message. */
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
        d == (double)(int64_t)d)
        return set_integer(row, col, t, (int64_t)d);
    return set_via_json(row, col, v);
}

/* The engine's message for a failed call, as the SQL error. */
static int engine(int rc, char **errmsg)
{
    if (rc) {
        *errmsg =
            rc == MERU_ENOMEM ? NULL : sqlite3_mprintf("%s", meru_errmsg());
    }
    return rc;
}

static int to_column(meru_row *row, size_t col, sqlite3_value *v, int defaults,
                     char **errmsg)
{
    const meru_schema *s = meru_row_schema(row);
    meru_type t = meru_schema_column_type(s, col);
    int vt = sqlite3_value_type(v);
    if (vt == SQLITE_NULL) {
        /* SQLite passes a column an INSERT leaves out as NULL (a virtual
         * table's declaration keeps no DEFAULT): a column with a write
         * default is left unset, so the engine writes its default. */
        if (defaults && !meru_row_is_set(row, col) &&
            !meru_row_is_null(row, col))
            return MERU_OK;
        return meru_row_set_null(row, col);
    }
    switch (msq_type_kind(t)) {
    case MSQ_KIND_INT:
    case MSQ_KIND_FLOAT: {
        if (vt == SQLITE_INTEGER || vt == SQLITE_FLOAT)
            return set_number(row, col, t, v);
        sqlite3_value *n = numeric_copy(v);
        if (!n)
            return MERU_ENOMEM;
        int nt = sqlite3_value_type(n);
        int rc = (nt == SQLITE_INTEGER || nt == SQLITE_FLOAT)
                     ? set_number(row, col, t, n)
                     : set_via_json(row, col, v);
        sqlite3_value_free(n);
        return rc;
    }
    case MSQ_KIND_TEXT: {
        /* TEXT affinity: numbers become their text; blobs are taken as
         * bytes (the engine checks they are UTF-8). */
        const void *p = vt == SQLITE_BLOB ? sqlite3_value_blob(v)
                                          : (const void *)sqlite3_value_text(v);
        int n = sqlite3_value_bytes(v);
        if (!p && n > 0)
            return MERU_ENOMEM;
        return meru_row_set_string(row, col, p ? p : "", (size_t)n);
    }
    case MSQ_KIND_BLOB: {
        if (vt != SQLITE_BLOB) {
            /* SQL text or a number where bytes belong: SQLite would store
             * it as it is, and the engine has no SQL type to judge. */
            *errmsg = sqlite3_mprintf(
                "column '%s' (%s) takes a blob (X'...'), not %s",
                meru_schema_column_name(s, col), meru_type_name(t),
                vt == SQLITE_TEXT      ? "text"
                : vt == SQLITE_INTEGER ? "an integer"
                                       : "a real");
            return MERU_EINVAL;
        }
        const void *p = sqlite3_value_blob(v);
        int n = sqlite3_value_bytes(v);
        return meru_row_set_binary(row, col, p ? p : "", (size_t)n);
    }
    case MSQ_KIND_TIME:
        if (t == MERU_TYPE_DECIMAL) {
            const unsigned char *txt = sqlite3_value_text(v);
            if (!txt)
                return MERU_ENOMEM;
            return meru_row_set_decimal_str(row, col, (const char *)txt);
        }
        return set_via_json(row, col, v);
    }
    return MERU_EINVAL;
}

int msq_value_to_column(meru_row *row, size_t col, sqlite3_value *v,
                        int defaults, char **errmsg)
{
    *errmsg = NULL;
    int rc = to_column(row, col, v, defaults, errmsg);
    if (rc && !*errmsg)
        engine(rc, errmsg);
    return rc;
}

/* ----------------------------------------------------------------- reads */

/*
 * Dates as `meru scan` prints them (the engine's datetime.h forms):
 * YYYY-MM-DD for years 0000..9999, a sign and at least four digits
 * outside. The civil-from-days step is the usual era/day-of-era
 * arithmetic of the proleptic Gregorian calendar.
 */
static int format_date(int64_t days, char *buf, size_t cap)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y >= 0 && y <= 9999)
        return snprintf(buf, cap, "%04d-%02d-%02d", (int)y, m, d);
    return snprintf(buf, cap, "%c%04lld-%02d-%02d", y < 0 ? '-' : '+',
                    (long long)(y < 0 ? -y : y), m, d);
}

static int format_timestamp(int64_t micros, int zulu, char *buf, size_t cap)
{
    const int64_t per_day = INT64_C(86400000000);
    int64_t days = micros / per_day, rem = micros % per_day;
    if (rem < 0) {
        rem += per_day;
        days--;
    }
    int n = format_date(days, buf, cap);
    int64_t secs = rem / 1000000;
    int frac = (int)(rem % 1000000);
    n += snprintf(buf + n, cap - (size_t)n, "T%02d:%02d:%02d",
                  (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    if (frac)
        n += snprintf(buf + n, cap - (size_t)n, ".%06d", frac);
    if (zulu)
        n += snprintf(buf + n, cap - (size_t)n, "Z");
    return n;
}

void msq_column_result(sqlite3_context *ctx, const meru_row *row, size_t col)
{
    const meru_schema *s = meru_row_schema(row);
    char buf[64];
    if (!meru_row_is_set(row, col) || meru_row_is_null(row, col)) {
        sqlite3_result_null(ctx);
        return;
    }
    switch (meru_schema_column_type(s, col)) {
    case MERU_TYPE_BOOLEAN: {
        int b = 0;
        meru_row_get_bool(row, col, &b);
        sqlite3_result_int(ctx, b);
        return;
    }
    case MERU_TYPE_INT32: {
        int32_t i = 0;
        meru_row_get_int32(row, col, &i);
        sqlite3_result_int(ctx, i);
        return;
    }
    case MERU_TYPE_INT64: {
        int64_t i = 0;
        meru_row_get_int64(row, col, &i);
        sqlite3_result_int64(ctx, i);
        return;
    }
    case MERU_TYPE_FLOAT: {
        float f = 0;
        meru_row_get_float(row, col, &f);
        sqlite3_result_double(ctx, f);
        return;
    }
    case MERU_TYPE_DOUBLE: {
        double d = 0;
        meru_row_get_double(row, col, &d);
        sqlite3_result_double(ctx, d);
        return;
    }
    case MERU_TYPE_STRING: {
        const char *p = NULL;
        size_t n = 0;
        meru_row_get_string(row, col, &p, &n);
        sqlite3_result_text64(ctx, p ? p : "", n, SQLITE_TRANSIENT,
                              SQLITE_UTF8);
        return;
    }
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED: {
        const void *p = NULL;
        size_t n = 0;
        meru_row_get_binary(row, col, &p, &n);
        sqlite3_result_blob64(ctx, p ? p : "", n, SQLITE_TRANSIENT);
        return;
    }
    case MERU_TYPE_DATE: {
        int32_t d = 0;
        meru_row_get_date(row, col, &d);
        sqlite3_result_text(ctx, buf, format_date(d, buf, sizeof buf),
                            SQLITE_TRANSIENT);
        return;
    }
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ: {
        int64_t us = 0;
        meru_row_get_timestamp(row, col, &us);
        int zulu = meru_schema_column_type(s, col) == MERU_TYPE_TIMESTAMPTZ;
        sqlite3_result_text(ctx, buf,
                            format_timestamp(us, zulu, buf, sizeof buf),
                            SQLITE_TRANSIENT);
        return;
    }
    case MERU_TYPE_DECIMAL:
        if (meru_row_get_decimal_str(row, col, buf, sizeof buf) == MERU_OK)
            sqlite3_result_text(ctx, buf, -1, SQLITE_TRANSIENT);
        else
            sqlite3_result_error(ctx, meru_errmsg(), -1);
        return;
    }
    sqlite3_result_null(ctx);
}

int msq_copy_column(meru_row *dst, const meru_row *src, size_t col)
{
    const meru_schema *s = meru_row_schema(src);
    if (!meru_row_is_set(src, col))
        return MERU_OK;
    if (meru_row_is_null(src, col))
        return meru_row_set_null(dst, col);
    switch (meru_schema_column_type(s, col)) {
    case MERU_TYPE_BOOLEAN: {
        int v = 0;
        meru_row_get_bool(src, col, &v);
        return meru_row_set_bool(dst, col, v);
    }
    case MERU_TYPE_INT32: {
        int32_t v = 0;
        meru_row_get_int32(src, col, &v);
        return meru_row_set_int32(dst, col, v);
    }
    case MERU_TYPE_DATE: {
        int32_t v = 0;
        meru_row_get_date(src, col, &v);
        return meru_row_set_date(dst, col, v);
    }
    case MERU_TYPE_INT64: {
        int64_t v = 0;
        meru_row_get_int64(src, col, &v);
        return meru_row_set_int64(dst, col, v);
    }
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ: {
        int64_t v = 0;
        meru_row_get_timestamp(src, col, &v);
        return meru_row_set_timestamp(dst, col, v);
    }
    case MERU_TYPE_FLOAT: {
        float v = 0;
        meru_row_get_float(src, col, &v);
        return meru_row_set_float(dst, col, v);
    }
    case MERU_TYPE_DOUBLE: {
        double v = 0;
        meru_row_get_double(src, col, &v);
        return meru_row_set_double(dst, col, v);
    }
    case MERU_TYPE_DECIMAL: {
        int64_t hi = 0;
        uint64_t lo = 0;
        meru_row_get_decimal(src, col, &hi, &lo);
        return meru_row_set_decimal(dst, col, hi, lo);
    }
    case MERU_TYPE_STRING: {
        const char *p = NULL;
        size_t n = 0;
        meru_row_get_string(src, col, &p, &n);
        return meru_row_set_string(dst, col, p ? p : "", n);
    }
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED: {
        const void *p = NULL;
        size_t n = 0;
        meru_row_get_binary(src, col, &p, &n);
        return meru_row_set_binary(dst, col, p ? p : "", n);
    }
    }
    return MERU_EINVAL;
}

/* ---------------------------------------------------------------- bounds */

/*
 * SQLite's comparison of a key column with a constraint value, as far as
 * it matters here: NULL matches nothing; numbers sort before text, text
 * before blobs; a numeric column applies NUMERIC affinity to a text value
 * first. So a value of a "later" class than the column is above every key
 * (= and > match nothing, < matches everything), an "earlier" one below.
 */
enum { CLASS_NUM = 0, CLASS_TEXT = 1, CLASS_BLOB = 2 };

static int value_class(int vt)
{
    return vt == SQLITE_TEXT   ? CLASS_TEXT
           : vt == SQLITE_BLOB ? CLASS_BLOB
                               : CLASS_NUM;
}

/* The answer when value and column are of different classes: the value is
 * above (or below) every key. */
static int class_mismatch(int side, int value_above)
{
    if (side == MSQ_SIDE_EQ)
        return MSQ_CONV_EMPTY;
    if (side == MSQ_SIDE_LOWER)
        return value_above ? MSQ_CONV_EMPTY : MSQ_CONV_NONE;
    return value_above ? MSQ_CONV_NONE : MSQ_CONV_EMPTY;
}

/* An integer bound on an integer column of range [lo, hi]. */
static int int_bound(meru_row *row, size_t col, meru_type t, int64_t i,
                     int side, int *incl)
{
    int64_t lo = t == MERU_TYPE_INT64   ? INT64_MIN
                 : t == MERU_TYPE_INT32 ? INT32_MIN
                                        : 0;
    int64_t hi = t == MERU_TYPE_INT64   ? INT64_MAX
                 : t == MERU_TYPE_INT32 ? INT32_MAX
                                        : 1;
    if (side == MSQ_SIDE_EQ) {
        if (i < lo || i > hi)
            return MSQ_CONV_EMPTY;
    } else if (side == MSQ_SIDE_LOWER) {
        if (i > hi || (i == hi && !*incl))
            return MSQ_CONV_EMPTY;
        if (i < lo)
            return MSQ_CONV_NONE;
    } else {
        if (i < lo || (i == lo && !*incl))
            return MSQ_CONV_EMPTY;
        if (i > hi)
            return MSQ_CONV_NONE;
    }
    return set_integer(row, col, t, i) ? MSQ_CONV_NONE : MSQ_CONV_OK;
}

/* A real bound on an integer column: rounded inwards, then inclusive. */
static int real_on_int(meru_row *row, size_t col, meru_type t, double d,
                       int side, int *incl)
{
    if (isnan(d))
        return MSQ_CONV_EMPTY;
    double r = side == MSQ_SIDE_LOWER   ? ceil(d)
               : side == MSQ_SIDE_UPPER ? floor(d)
                                        : d;
    if (side == MSQ_SIDE_EQ && r != floor(r))
        return MSQ_CONV_EMPTY;
    if (r != d)
        *incl = 1; /* k > 2.5 is k >= 3 */
    if (r < -9223372036854775808.0)
        return class_mismatch(side, 0);
    if (r >= 9223372036854775808.0)
        return class_mismatch(side, 1);
    return int_bound(row, col, t, (int64_t)r, side, incl);
}

/* A number bound on a float column. Widened outwards where the column's
 * precision cannot hold it, and zero covers both -0.0 and +0.0 (equal in
 * SQL, two keys in the engine). Inexact: SQLite keeps the constraint. */
static int float_bound(meru_row *row, size_t col, meru_type t, double d,
                       int side, int *incl)
{
    if (isnan(d))
        return MSQ_CONV_EMPTY;
    if (d == 0) {
        /* >= 0 starts at -0.0, > 0 after +0.0, <= 0 ends at +0.0, < 0
         * before -0.0. */
        int neg = side == MSQ_SIDE_LOWER ? *incl : !*incl;
        d = neg ? -0.0 : 0.0;
    }
    if (t == MERU_TYPE_FLOAT) {
        float f = (float)d;
        if (side == MSQ_SIDE_LOWER && (double)f > d) {
            f = nextafterf(f, -INFINITY);
            *incl = 1;
        } else if (side == MSQ_SIDE_UPPER && (double)f < d) {
            f = nextafterf(f, INFINITY);
            *incl = 1;
        } else if ((double)f != d) {
            *incl = 1;
        }
        return meru_row_set_float(row, col, f) ? MSQ_CONV_NONE : MSQ_CONV_OK;
    }
    return meru_row_set_double(row, col, d) ? MSQ_CONV_NONE : MSQ_CONV_OK;
}

/* A blob bound. On a fixed column a blob of another length equals no key
 * and is dropped as a range bound (SQLite keeps checking it). */
static int bytes_bound(meru_row *row, size_t col, const void *p, size_t n,
                       int side, int fixed_len)
{
    if (fixed_len > 0 && n != (size_t)fixed_len)
        return side == MSQ_SIDE_EQ ? MSQ_CONV_EMPTY : MSQ_CONV_NONE;
    if (meru_row_set_binary(row, col, p ? p : "", n))
        return side == MSQ_SIDE_EQ ? MSQ_CONV_EMPTY : MSQ_CONV_NONE;
    return MSQ_CONV_OK;
}

int msq_value_to_bound(meru_row *row, size_t col, sqlite3_value *v, int side,
                       int *incl, int fixed_len)
{
    const meru_schema *s = meru_row_schema(row);
    meru_type t = meru_schema_column_type(s, col);
    int vt = sqlite3_value_type(v), rc;
    if (vt == SQLITE_NULL)
        return MSQ_CONV_EMPTY;
    switch (msq_type_kind(t)) {
    case MSQ_KIND_INT:
    case MSQ_KIND_FLOAT: {
        sqlite3_value *n = NULL;
        if (vt == SQLITE_TEXT) { /* NUMERIC affinity first */
            n = numeric_copy(v);
            if (!n)
                return MSQ_CONV_NONE;
            v = n;
            vt = sqlite3_value_type(v);
        }
        if (vt == SQLITE_TEXT || vt == SQLITE_BLOB)
            rc = class_mismatch(side, 1);
        else if (msq_type_kind(t) == MSQ_KIND_FLOAT)
            rc = float_bound(row, col, t, sqlite3_value_double(v), side, incl);
        else if (vt == SQLITE_INTEGER)
            rc = int_bound(row, col, t, sqlite3_value_int64(v), side, incl);
        else
            rc = real_on_int(row, col, t, sqlite3_value_double(v), side, incl);
        sqlite3_value_free(n);
        return rc;
    }
    case MSQ_KIND_TEXT:
        if (vt == SQLITE_BLOB)
            return class_mismatch(side, 1);
        if (vt != SQLITE_TEXT) /* the affinity SQLite applies is its own */
            return MSQ_CONV_NONE;
        {
            const unsigned char *p = sqlite3_value_text(v);
            int n = sqlite3_value_bytes(v);
            if (!p || meru_row_set_string(row, col, (const char *)p, (size_t)n))
                return MSQ_CONV_NONE;
            return MSQ_CONV_OK;
        }
    case MSQ_KIND_BLOB:
        if (vt != SQLITE_BLOB)
            return class_mismatch(side, 0);
        return bytes_bound(row, col, sqlite3_value_blob(v),
                           (size_t)sqlite3_value_bytes(v), side, fixed_len);
    case MSQ_KIND_TIME: {
        /* Equality only: parsed by the engine. A text that does not parse
         * equals no stored value (each prints as text that parses). */
        if (side != MSQ_SIDE_EQ)
            return MSQ_CONV_NONE;
        if (value_class(vt) == CLASS_BLOB)
            return MSQ_CONV_EMPTY;
        char *msg = NULL;
        rc = to_column(row, col, v, 0, &msg);
        sqlite3_free(msg);
        if (rc)
            return vt == SQLITE_TEXT ? MSQ_CONV_EMPTY : MSQ_CONV_NONE;
        return MSQ_CONV_OK;
    }
    }
    return MSQ_CONV_NONE;
}

int msq_value_exact(const meru_schema *s, size_t col, sqlite3_value *v)
{
    int vt = sqlite3_value_type(v);
    switch (msq_type_kind(meru_schema_column_type(s, col))) {
    case MSQ_KIND_INT:
        return vt == SQLITE_INTEGER;
    case MSQ_KIND_TEXT:
        return vt == SQLITE_TEXT;
    case MSQ_KIND_BLOB:
        return vt == SQLITE_BLOB &&
               meru_schema_column_type(s, col) == MERU_TYPE_BINARY;
    default:
        return 0;
    }
}
