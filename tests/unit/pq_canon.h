/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pq_canon.h — the canonical text of Parquet values that
 * tests/interop/canon.mjs prints (README "Canonical row format"), written
 * in C so a test can print the rows it expects from the data it generated,
 * without our reader: numbers in ECMAScript's shortest round-trip form,
 * JSON.stringify strings, hex binaries, proleptic Gregorian dates,
 * timestamps and times in their unit, decimals with exactly `scale`
 * fraction digits. Appends to a meru_buf; allocation failures show up as
 * short text (tests compare the text). Functions are static inline so each
 * test program takes only what it uses.
 */
#ifndef MERU_TESTS_PQ_CANON_H
#define MERU_TESTS_PQ_CANON_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static inline void put(meru_buf *o, const char *s)
{
    (void)meru_buf_append(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(meru_buf *o,
                                                       const char *fmt, ...)
{
    char b[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (n > 0)
        (void)meru_buf_append(o, b,
                              (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

/* ECMAScript Number::toString of the shortest decimal that reads back to
 * x: the nearest p-digit decimal for the smallest p that round-trips,
 * printed plain from 1e-6 up to 1e21 and with an exponent outside. Exact
 * ties: a double goes to the even digit (Number::toString, note 2), a
 * float32 up (fmtF32 takes Number.prototype.toPrecision, which rounds
 * half up), and a float must read back through a double as fmtF32's
 * Math.fround(Number(s)) does. */
static inline void put_number(meru_buf *o, double x, bool is_float)
{
    if (isnan(x)) {
        put(o, "\"NaN\"");
        return;
    }
    if (isinf(x)) {
        put(o, x > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    if (x == 0) {
        put(o, signbit(x) ? "\"-0\"" : "0");
        return;
    }
    /* 48 correctly rounded digits: a tie at p <= 17 digits is exact */
    char exact[80];
    snprintf(exact, sizeof exact, "%.47e", fabs(x));
    char all[50];
    int na = 0;
    const char *q = exact;
    for (; *q && *q != 'e'; q++)
        if (*q != '.')
            all[na++] = *q;
    all[na] = 0;
    int e10 = atoi(q + 1);
    char dg[24];
    int k = 0, n = 0;
    for (int p = 1; p <= 17; p++) {
        memcpy(dg, all, (size_t)p);
        n = e10 + 1; /* value = 0.dg x 10^n */
        bool tie =
            all[p] == '5' && strspn(all + p + 1, "0") == (size_t)(na - p - 1);
        bool up = all[p] > '5' || (all[p] == '5' && !tie) ||
                  (tie && (is_float || (dg[p - 1] - '0') % 2 == 1));
        if (up) {
            int j = p - 1;
            while (j >= 0 && dg[j] == '9')
                dg[j--] = '0';
            if (j >= 0) {
                dg[j]++;
            } else {
                memmove(dg + 1, dg, (size_t)p - 1);
                dg[0] = '1';
                n++;
            }
        }
        k = p;
        char txt[48];
        snprintf(txt, sizeof txt, "0.%.*se%d", p, dg, n);
        double back = strtod(txt, NULL);
        if (is_float ? (float)back == (float)fabs(x) : back == fabs(x))
            break;
    }
    while (k > 1 && dg[k - 1] == '0')
        k--;
    if (x < 0)
        put(o, "-");
    if (k <= n && n <= 21) {
        (void)meru_buf_append(o, dg, (size_t)k);
        for (int i = k; i < n; i++)
            put(o, "0");
    } else if (0 < n && n <= 21) {
        (void)meru_buf_append(o, dg, (size_t)n);
        put(o, ".");
        (void)meru_buf_append(o, dg + n, (size_t)(k - n));
    } else if (-6 < n && n <= 0) {
        put(o, "0.");
        for (int i = 0; i < -n; i++)
            put(o, "0");
        (void)meru_buf_append(o, dg, (size_t)k);
    } else {
        (void)meru_buf_append(o, dg, 1);
        if (k > 1) {
            put(o, ".");
            (void)meru_buf_append(o, dg + 1, (size_t)(k - 1));
        }
        putf(o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
}

/* JSON.stringify of a (valid UTF-8) string. */
static inline void put_json_string(meru_buf *o, const uint8_t *p, size_t n)
{
    put(o, "\"");
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        switch (ch) {
        case '"':
            put(o, "\\\"");
            break;
        case '\\':
            put(o, "\\\\");
            break;
        case '\b':
            put(o, "\\b");
            break;
        case '\f':
            put(o, "\\f");
            break;
        case '\n':
            put(o, "\\n");
            break;
        case '\r':
            put(o, "\\r");
            break;
        case '\t':
            put(o, "\\t");
            break;
        default:
            if (ch < 0x20)
                putf(o, "\\u%04x", ch);
            else
                (void)meru_buf_push(o, ch);
        }
    }
    put(o, "\"");
}

static inline void put_hex(meru_buf *o, const uint8_t *p, size_t n)
{
    put(o, "\"hex:");
    for (size_t i = 0; i < n; i++)
        putf(o, "%02x", p[i]);
    put(o, "\"");
}

static inline int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Proleptic Gregorian date of a day count (H. Hinnant's civil_from_days). */
static inline void put_ymd(meru_buf *o, int64_t days)
{
    int64_t z = days + 719468;
    int64_t era = floordiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 0)
        putf(o, "-%04lld", (long long)-y);
    else if (y > 9999)
        putf(o, "+%lld", (long long)y);
    else
        putf(o, "%04lld", (long long)y);
    putf(o, "-%02lld-%02lld", (long long)m, (long long)d);
}

/* Timestamp (days_too) or time of day, v counted in 1/per_sec seconds. */
static inline void put_clock(meru_buf *o, int64_t v, int64_t per_sec, bool date,
                             bool utc)
{
    int64_t sec = floordiv(v, per_sec);
    int64_t sub = v - sec * per_sec;
    int64_t frac = per_sec == 1000 ? sub * 1000 : sub;
    int digits = per_sec == 1000000000 ? 9 : 6;
    int64_t days = floordiv(sec, 86400);
    int64_t sod = sec - days * 86400;
    put(o, "\"");
    if (date) {
        put_ymd(o, days);
        put(o, "T");
    }
    putf(o, "%02lld:%02lld:%02lld.%0*lld", (long long)(sod / 3600),
         (long long)(sod / 60 % 60), (long long)(sod % 60), digits,
         (long long)frac);
    put(o, utc ? "Z\"" : "\"");
}

/* Decimal text of a magnitude's digits with `scale` fraction digits. */
static inline void put_decimal_digits(meru_buf *o, bool neg, const char *digits,
                                      int scale)
{
    char pad[96];
    size_t nd = strlen(digits);
    size_t want = (size_t)scale + 1;
    size_t z = nd < want ? want - nd : 0;
    memset(pad, '0', z);
    memcpy(pad + z, digits, nd + 1);
    size_t len = z + nd;
    put(o, neg ? "\"-" : "\"");
    (void)meru_buf_append(o, pad, len - (size_t)scale);
    if (scale > 0) {
        put(o, ".");
        (void)meru_buf_append(o, pad + len - (size_t)scale, (size_t)scale);
    }
    put(o, "\"");
}

static inline void put_decimal_i64(meru_buf *o, int64_t v, int scale)
{
    char d[32];
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    snprintf(d, sizeof d, "%llu", (unsigned long long)mag);
    put_decimal_digits(o, v < 0, d, scale);
}

/* Big-endian two's complement (FLBA / BYTE_ARRAY decimal). */
static inline void put_decimal_be(meru_buf *o, const uint8_t *p, size_t n,
                                  int scale)
{
    uint8_t m[64] = {0};
    if (n > sizeof m) {
        put(o, "\"too long\"");
        return;
    }
    memcpy(m, p, n);
    bool neg = n && (m[0] & 0x80);
    if (neg) {
        int carry = 1;
        for (size_t j = n; j-- > 0;) {
            int v = (uint8_t)~m[j] + carry;
            m[j] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    char rev[160];
    size_t nd = 0;
    bool nonzero = true;
    while (nonzero) {
        int rem = 0;
        nonzero = false;
        for (size_t j = 0; j < n; j++) {
            int cur = rem * 256 + m[j];
            m[j] = (uint8_t)(cur / 10);
            rem = cur % 10;
            nonzero |= m[j] != 0;
        }
        rev[nd++] = (char)('0' + rem);
    }
    char d[160];
    for (size_t i = 0; i < nd; i++)
        d[i] = rev[nd - 1 - i];
    d[nd] = 0;
    put_decimal_digits(o, neg, d, scale);
}

#endif
