/* SPDX-License-Identifier: Apache-2.0 */
/*
 * literal.c — Iceberg single-value JSON literals (Iceberg spec, Appendix D)
 * <-> meru_value, for defaults, meru_row_set_json() and row JSON.
 *
 * Per type (input; output is the first form):
 *   boolean      true / false
 *   int, long    a JSON integer, range-checked ("1.0" and "1e3" refused)
 *   float/double a JSON number; "NaN", "Infinity", "-Infinity" as JSON
 *                strings (an extension: JSON has no literal for them, and
 *                Jackson writes them this way)
 *   string       a JSON string (escapes decoded; \u0000 allowed)
 *   binary       a JSON string of hex digits, either case (written lower)
 *   fixed[L]     the same with exactly 2*L digits
 *   date         "YYYY-MM-DD"
 *   timestamp    "YYYY-MM-DDTHH:MM:SS[.ffffff]" (no offset)
 *   timestamptz  the same with an offset, converted to UTC; written with
 *                "+00:00" as Iceberg requires
 *   decimal(P,S) a JSON string like "14.20"; fewer fractional digits than S
 *                are zero-padded, more are refused (never rounded); a bare
 *                JSON number is accepted too and converted from its digits
 *   any type     null (a value in state NULL)
 * See datetime.h and decimal.h for the details of those texts.
 *
 * What this file does not do: add the column name to messages (callers know
 * whether they are parsing a default, a row field or a CLI argument).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/datetime.h"
#include "types/decimal.h"
#include "types/jtext.h"
#include "types/schema.h"
#include "types/utf8.h"
#include "util/error.h"

/* Describes a token for "expected X, got Y" messages. */
static const char *tok_desc(const meru_jtok *t)
{
    switch (t->kind) {
    case MERU_J_STRING:
        return "a string";
    case MERU_J_NUMBER:
        return "a number";
    case MERU_J_TRUE:
    case MERU_J_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int expected(const meru_column *col, const char *what,
                    const meru_jtok *t, const char *lit, const char *hint)
{
    char tt[MERU_TYPE_TEXT_MAX], m[64];
    return meru_err(MERU_EINVAL, "%s literal %s: expected %s, got %s%s",
                    meru_column_type_text(col, tt),
                    meru_msg_text(m, sizeof m, lit + t->start, t->len), what,
                    tok_desc(t), hint ? hint : "");
}

/* Integer JSON number -> int64 with the type's range. */
static int parse_integer(const meru_column *col, const char *p, size_t n,
                         int64_t lo, int64_t hi, int64_t *out)
{
    char tt[MERU_TYPE_TEXT_MAX], m[64];
    size_t i = 0;
    int neg = 0;
    if (i < n && p[i] == '-') {
        neg = 1;
        i++;
    }
    uint64_t acc = 0, lim = neg ? (uint64_t)0 - (uint64_t)lo : (uint64_t)hi;
    int over = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return meru_err(MERU_EINVAL,
                            "%s literal %s: expected an integer, got a "
                            "number with a fraction or exponent",
                            meru_column_type_text(col, tt),
                            meru_msg_text(m, sizeof m, p, n));
        unsigned d = (unsigned)(p[i] - '0');
        if (acc > (lim - d) / 10)
            over = 1;
        else
            acc = acc * 10 + d;
    }
    if (over)
        return meru_err(
            MERU_ERANGE, "%s literal %s is out of range (%lld..%lld)",
            meru_column_type_text(col, tt), meru_msg_text(m, sizeof m, p, n),
            (long long)lo, (long long)hi);
    *out = neg ? (int64_t)((uint64_t)0 - acc) : (int64_t)acc;
    return MERU_OK;
}

static int parse_hex(const meru_column *col, const char *p, size_t n,
                     meru_buf *scratch)
{
    char tt[MERU_TYPE_TEXT_MAX], m[64];
    if (n % 2)
        return meru_err(MERU_EINVAL,
                        "%s literal \"%s\": odd number of hex digits (%zu); "
                        "binary values are written as hex, two digits a byte",
                        meru_column_type_text(col, tt),
                        meru_msg_text(m, sizeof m, p, n), n);
    if (col->type == MERU_TYPE_FIXED && n / 2 != (size_t)col->fixed_length)
        return meru_err(MERU_EINVAL,
                        "%s literal \"%s\": %zu byte%s, expected exactly %d "
                        "(%d hex digits)",
                        meru_column_type_text(col, tt),
                        meru_msg_text(m, sizeof m, p, n), n / 2,
                        n / 2 == 1 ? "" : "s", (int)col->fixed_length,
                        (int)col->fixed_length * 2);
    if (n / 2 > MERU_MAX_VALUE_BYTES)
        return meru_err(MERU_ERANGE,
                        "%s literal of %zu bytes exceeds the limit of %u "
                        "bytes",
                        meru_column_type_text(col, tt), n / 2,
                        MERU_MAX_VALUE_BYTES);
    if (n == 0)
        return MERU_OK;
    uint8_t *dst;
    int rc = meru_buf_extend(scratch, n / 2, &dst);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i += 2) {
        int h = meru_hexval((uint8_t)p[i]), l = meru_hexval((uint8_t)p[i + 1]);
        if (h < 0 || l < 0) {
            size_t bad = h < 0 ? i : i + 1;
            char c[16];
            scratch->len -= n / 2;
            return meru_err(MERU_EINVAL,
                            "%s literal \"%s\": '%s' at position %zu is not "
                            "a hex digit",
                            meru_column_type_text(col, tt),
                            meru_msg_text(m, sizeof m, p, n),
                            meru_msg_text(c, sizeof c, p + bad, 1), bad);
        }
        dst[i / 2] = (uint8_t)(h << 4 | l);
    }
    return MERU_OK;
}

int meru_literal_parse(const meru_column *col, const char *lit, size_t len,
                       meru_value *out, meru_buf *scratch, size_t *bytes_off)
{
    char tt[MERU_TYPE_TEXT_MAX], m[64];
    meru_jtok t;
    meru_buf tmp = {0};
    int rc;
    size_t pos = meru_json_skip_ws(lit, len, 0);
    if (pos >= len)
        return meru_err(MERU_EINVAL,
                        "empty %s literal (expected a JSON value, or null)",
                        meru_column_type_text(col, tt));
    rc = meru_json_scan_scalar(lit, len, pos, &t);
    if (rc)
        return meru_err_wrap(rc, "%s literal", meru_column_type_text(col, tt));
    size_t end = meru_json_skip_ws(lit, len, t.start + t.len);
    if (end != len)
        return meru_err(MERU_EINVAL,
                        "%s literal: unexpected text '%s' after the value at "
                        "offset %zu",
                        meru_column_type_text(col, tt),
                        meru_msg_text(m, sizeof m, lit + end, len - end), end);

    memset(out, 0, sizeof *out);
    if (t.kind == MERU_J_NULL) {
        out->state = MERU_VALUE_NULL;
        return MERU_OK;
    }
    out->state = MERU_VALUE_PRESENT;
    const char *tp = lit + t.start;
    /* For strings: the inner text, unescaped only when it has escapes. */
    const char *sp = tp + 1;
    size_t sn = t.len >= 2 ? t.len - 2 : 0;
    if (t.kind == MERU_J_STRING && memchr(sp, '\\', sn) &&
        col->type != MERU_TYPE_STRING) {
        rc = meru_json_unescape(sp, sn, &tmp);
        if (rc)
            goto done;
        sp = (const char *)tmp.data;
        sn = tmp.len;
    }

    switch (col->type) {
    case MERU_TYPE_BOOLEAN:
        if (t.kind != MERU_J_TRUE && t.kind != MERU_J_FALSE) {
            rc = expected(col, "true or false", &t, lit, NULL);
            break;
        }
        out->u.b = t.kind == MERU_J_TRUE;
        break;
    case MERU_TYPE_INT32:
    case MERU_TYPE_INT64: {
        if (t.kind != MERU_J_NUMBER) {
            rc = expected(col, "an integer", &t, lit,
                          t.kind == MERU_J_STRING
                              ? " (numbers are written without quotes)"
                              : NULL);
            break;
        }
        int64_t v;
        if (col->type == MERU_TYPE_INT32) {
            rc = parse_integer(col, tp, t.len, INT32_MIN, INT32_MAX, &v);
            out->u.i32 = (int32_t)v;
        } else {
            rc = parse_integer(col, tp, t.len, INT64_MIN, INT64_MAX, &v);
            out->u.i64 = v;
        }
        break;
    }
    case MERU_TYPE_FLOAT:
    case MERU_TYPE_DOUBLE: {
        int is_float = col->type == MERU_TYPE_FLOAT;
        if (t.kind == MERU_J_STRING) {
            double special;
            if (sn == 3 && memcmp(sp, "NaN", 3) == 0)
                special = (double)NAN;
            else if (sn == 8 && memcmp(sp, "Infinity", 8) == 0)
                special = (double)INFINITY;
            else if (sn == 9 && memcmp(sp, "-Infinity", 9) == 0)
                special = -(double)INFINITY;
            else {
                rc = expected(col, "a number", &t, lit,
                              " (only \"NaN\", \"Infinity\" and \"-Infinity\" "
                              "are accepted as strings)");
                break;
            }
            if (is_float)
                out->u.f32 = (float)special;
            else
                out->u.f64 = special;
            break;
        }
        if (t.kind != MERU_J_NUMBER) {
            rc = expected(col, "a number", &t, lit, NULL);
            break;
        }
        rc = is_float ? meru_parse_float(tp, t.len, &out->u.f32)
                      : meru_parse_double(tp, t.len, &out->u.f64);
        if (rc)
            rc =
                meru_err_wrap(rc, "%s literal", meru_column_type_text(col, tt));
        break;
    }
    case MERU_TYPE_STRING: {
        if (t.kind != MERU_J_STRING) {
            rc = expected(col, "a \"string\"", &t, lit,
                          " (strings are written in double quotes)");
            break;
        }
        size_t off = scratch->len;
        rc = meru_json_unescape(tp + 1, t.len - 2, scratch);
        if (rc)
            break;
        size_t n = scratch->len - off;
        if (n > MERU_MAX_VALUE_BYTES) {
            scratch->len = off;
            rc = meru_err(MERU_ERANGE,
                          "string literal of %zu bytes exceeds the limit of "
                          "%u bytes",
                          n, MERU_MAX_VALUE_BYTES);
            break;
        }
        out->u.bytes.ptr = NULL;
        out->u.bytes.len = (uint32_t)n;
        *bytes_off = off;
        break;
    }
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED: {
        if (t.kind != MERU_J_STRING) {
            rc = expected(col, "a string of hex digits", &t, lit, NULL);
            break;
        }
        size_t off = scratch->len;
        rc = parse_hex(col, sp, sn, scratch);
        if (rc)
            break;
        out->u.bytes.ptr = NULL;
        out->u.bytes.len = (uint32_t)(scratch->len - off);
        *bytes_off = off;
        break;
    }
    case MERU_TYPE_DATE:
        if (t.kind != MERU_J_STRING) {
            rc = expected(col, "a \"YYYY-MM-DD\" string", &t, lit, NULL);
            break;
        }
        rc = meru_date_parse(sp, sn, &out->u.i32);
        break;
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ: {
        int tz = col->type == MERU_TYPE_TIMESTAMPTZ;
        if (t.kind != MERU_J_STRING) {
            rc = expected(col,
                          tz ? "a \"YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00\" "
                               "string"
                             : "a \"YYYY-MM-DDTHH:MM:SS[.ffffff]\" string",
                          &t, lit, NULL);
            break;
        }
        rc = meru_timestamp_parse(sp, sn, tz, &out->u.i64);
        break;
    }
    case MERU_TYPE_DECIMAL:
        if (t.kind == MERU_J_NUMBER) {
            sp = tp;
            sn = t.len;
        } else if (t.kind != MERU_J_STRING) {
            rc =
                expected(col, "a decimal string like \"14.20\"", &t, lit, NULL);
            break;
        }
        rc =
            meru_decimal_parse(sp, sn, col->precision, col->scale, &out->u.dec);
        break;
    default:
        rc = meru_err(MERU_EINVAL, "literal for a column of unknown type %d",
                      (int)col->type);
        break;
    }
done:
    meru_buf_free(&tmp);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int meru_value_from_literal(const meru_column *col, const char *literal,
                            meru_value *out, uint8_t **storage)
{
    meru_buf scratch = {0};
    size_t off = 0;
    *storage = NULL;
    if (!col || !literal || !out)
        return meru_err(MERU_EINVAL, "meru_value_from_literal: NULL argument");
    int rc =
        meru_literal_parse(col, literal, strlen(literal), out, &scratch, &off);
    if (rc) {
        meru_buf_free(&scratch);
        return rc;
    }
    if (out->state == MERU_VALUE_PRESENT &&
        (col->type == MERU_TYPE_STRING || col->type == MERU_TYPE_BINARY ||
         col->type == MERU_TYPE_FIXED)) {
        static const uint8_t empty[1];
        if (scratch.len == 0) {
            out->u.bytes.ptr = empty;
        } else {
            *storage = meru_buf_detach(&scratch, NULL);
            out->u.bytes.ptr = *storage + off;
        }
    }
    meru_buf_free(&scratch);
    return MERU_OK;
}

/* ---------------------------------------------------------------- output */

static int put_quoted_ascii(meru_buf *out, const char *s, size_t n)
{
    int rc = meru_buf_reserve(out, n + 2);
    if (rc)
        return rc;
    out->data[out->len++] = '"';
    memcpy(out->data + out->len, s, n);
    out->len += n;
    out->data[out->len++] = '"';
    return MERU_OK;
}

static int put_hex(meru_buf *out, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t *dst;
    int rc = meru_buf_extend(out, 2 * n + 2, &dst);
    if (rc)
        return rc;
    *dst++ = '"';
    for (size_t i = 0; i < n; i++) {
        *dst++ = (uint8_t)hex[p[i] >> 4];
        *dst++ = (uint8_t)hex[p[i] & 15];
    }
    *dst = '"';
    return MERU_OK;
}

static int put_float_text(meru_buf *out, const char *s, size_t n)
{
    /* Non-finite values have no JSON number form: quote them. */
    if (s[0] == 'N' || s[0] == 'I' || (s[0] == '-' && s[1] == 'I'))
        return put_quoted_ascii(out, s, n);
    return meru_buf_append(out, s, n);
}

int meru_value_to_json(const meru_column *col, const meru_value *v, int flags,
                       meru_buf *out)
{
    char tmp[64];
    int n;
    if (v->state != MERU_VALUE_PRESENT)
        return meru_buf_append(out, "null", 4);
    switch (col->type) {
    case MERU_TYPE_BOOLEAN:
        return v->u.b ? meru_buf_append(out, "true", 4)
                      : meru_buf_append(out, "false", 5);
    case MERU_TYPE_INT32:
        n = snprintf(tmp, sizeof tmp, "%d", (int)v->u.i32);
        return meru_buf_append(out, tmp, (size_t)n);
    case MERU_TYPE_INT64:
        n = snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i64);
        return meru_buf_append(out, tmp, (size_t)n);
    case MERU_TYPE_FLOAT:
        return put_float_text(out, tmp, meru_fmt_float(v->u.f32, tmp));
    case MERU_TYPE_DOUBLE:
        return put_float_text(out, tmp, meru_fmt_double(v->u.f64, tmp));
    case MERU_TYPE_STRING: {
        size_t bad = meru_utf8_check(v->u.bytes.ptr, v->u.bytes.len);
        if (bad != v->u.bytes.len)
            return meru_err(MERU_EINVAL,
                            "string value is not valid UTF-8 (byte 0x%02X at "
                            "offset %zu)",
                            v->u.bytes.ptr[bad], bad);
        return meru_json_put_string(out, v->u.bytes.ptr, v->u.bytes.len);
    }
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
        return put_hex(out, v->u.bytes.ptr, v->u.bytes.len);
    case MERU_TYPE_DATE:
        return put_quoted_ascii(out, tmp, meru_date_format(v->u.i32, tmp));
    case MERU_TYPE_TIMESTAMP:
        return put_quoted_ascii(
            out, tmp, meru_timestamp_format(v->u.i64, MERU_TS_LOCAL, tmp));
    case MERU_TYPE_TIMESTAMPTZ:
        return put_quoted_ascii(out, tmp,
                                meru_timestamp_format(v->u.i64,
                                                      (flags & MERU_LIT_TZ_ZULU)
                                                          ? MERU_TS_ZULU
                                                          : MERU_TS_OFFSET,
                                                      tmp));
    case MERU_TYPE_DECIMAL:
        return put_quoted_ascii(out, tmp,
                                meru_decimal_format(v->u.dec, col->scale, tmp));
    default:
        return meru_err(MERU_EINVAL, "value of unknown type %d",
                        (int)col->type);
    }
}

int meru_value_to_literal(const meru_column *col, const meru_value *v,
                          meru_buf *out)
{
    return meru_value_to_json(col, v, 0, out);
}
