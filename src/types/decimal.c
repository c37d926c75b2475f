/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decimal.c — DECIMAL text <-> 128-bit unscaled integer (see decimal.h).
 *
 * Arithmetic uses the compiler's 128-bit integers (gcc and clang on 64-bit
 * targets); they never leave this file: the shared representation is the
 * portable meru_i128 {hi, lo} pair.
 */
#include "types/decimal.h"

#include <string.h>

#include "types/jtext.h"
#include "util/error.h"

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 i128;

static u128 pow10_u128(int e)
{
    u128 v = 1;
    while (e-- > 0)
        v *= 10;
    return v;
}

static i128 from_pair(meru_i128 v)
{
    return (i128)(((u128)(uint64_t)v.hi << 64) | v.lo);
}

static meru_i128 to_pair(i128 v)
{
    meru_i128 r;
    r.hi = (int64_t)(v >> 64);
    r.lo = (uint64_t)((u128)v);
    return r;
}

static u128 magnitude(i128 v)
{
    return v < 0 ? (u128)0 - (u128)v : (u128)v;
}

int meru_decimal_digits(meru_i128 v)
{
    u128 m = magnitude(from_pair(v));
    int d = 1;
    while (m >= 10) {
        m /= 10;
        d++;
    }
    return d;
}

int meru_decimal_fits(meru_i128 v, int32_t precision)
{
    if (precision < 1 || precision > MERU_DECIMAL_MAX_PRECISION)
        return 0;
    return magnitude(from_pair(v)) < pow10_u128(precision);
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int meru_decimal_parse(const char *p, size_t n, int32_t precision,
                       int32_t scale, meru_i128 *out)
{
    char m[64];
    size_t i = 0;
    int neg = 0;
    u128 acc = 0;
    int sig = 0;     /* significant digits accumulated (leading zeros not) */
    long nfrac = 0;  /* digits after the point */
    int ndigits = 0; /* mantissa digits seen */
    long exp = 0;

    if (i < n && (p[i] == '+' || p[i] == '-'))
        neg = p[i++] == '-';
    for (int frac = 0; i < n; i++) {
        if (p[i] == '.' && !frac) {
            frac = 1;
            continue;
        }
        if (!is_digit(p[i]))
            break;
        ndigits++;
        if (frac)
            nfrac++;
        if (sig == 0 && p[i] == '0')
            continue;
        if (++sig > MERU_DECIMAL_MAX_PRECISION)
            return meru_err(
                MERU_ERANGE, "decimal '%s' has more than %d significant digits",
                meru_msg_text(m, sizeof m, p, n), MERU_DECIMAL_MAX_PRECISION);
        acc = acc * 10 + (u128)(p[i] - '0');
    }
    if (ndigits == 0)
        goto bad;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        int eneg = 0;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            eneg = p[i++] == '-';
        if (i >= n || !is_digit(p[i]))
            goto bad;
        for (; i < n && is_digit(p[i]); i++) {
            if (exp > 100000)
                goto range;
            exp = exp * 10 + (p[i] - '0');
        }
        if (eneg)
            exp = -exp;
    }
    if (i != n)
        goto bad;
    /* value = acc * 10^-(nfrac - exp); unscaled = acc * 10^(scale - eff) */
    long eff = nfrac - exp;
    if (precision > MERU_DECIMAL_MAX_PRECISION)
        precision = MERU_DECIMAL_MAX_PRECISION;
    if (eff > scale)
        return meru_err(MERU_ERANGE,
                        "decimal '%s' has %ld fractional digits, more than "
                        "the scale %d allows (values are never rounded)",
                        meru_msg_text(m, sizeof m, p, n), eff, (int)scale);
    if (acc != 0) {
        long shift = scale - eff;
        if (shift + sig > MERU_DECIMAL_MAX_PRECISION)
            goto range;
        acc *= pow10_u128((int)shift);
    }
    if (acc >= pow10_u128(precision)) {
        meru_i128 tmp = to_pair((i128)acc);
        return meru_err(MERU_ERANGE,
                        "decimal '%s' needs %d digits, more than the "
                        "precision of decimal(%d,%d)",
                        meru_msg_text(m, sizeof m, p, n),
                        meru_decimal_digits(tmp), (int)precision, (int)scale);
    }
    *out = to_pair(neg ? -(i128)acc : (i128)acc);
    return MERU_OK;
range:
    return meru_err(
        MERU_ERANGE, "decimal '%s' is out of range for decimal(%d,%d)",
        meru_msg_text(m, sizeof m, p, n), (int)precision, (int)scale);
bad:
    return meru_err(MERU_EINVAL,
                    "invalid decimal '%s' (expected digits with an optional "
                    "sign and decimal point, like \"-12.50\")",
                    meru_msg_text(m, sizeof m, p, n));
}

size_t meru_decimal_format(meru_i128 v, int32_t scale, char *buf)
{
    i128 x = from_pair(v);
    u128 mag = magnitude(x);
    char digits[48];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + (int)(mag % 10));
        mag /= 10;
    } while (mag);
    if (scale < 0)
        scale = 0;
    if (scale > MERU_DECIMAL_MAX_PRECISION)
        scale = MERU_DECIMAL_MAX_PRECISION;
    /* Pad so that there is at least one digit before the point. */
    while (nd <= scale)
        digits[nd++] = '0';
    size_t o = 0;
    if (x < 0)
        buf[o++] = '-';
    for (int k = nd - 1; k >= 0; k--) {
        buf[o++] = digits[k];
        if (k == scale && k != 0)
            buf[o++] = '.';
    }
    buf[o] = '\0';
    return o;
}
