/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jtext.c — JSON scalar scanning, string escaping and locale-proof
 * floating-point text (see jtext.h).
 *
 * Why not jansson for these: a decimal written as 0.1 must become the
 * unscaled integer 1 at scale 1, which needs the digits as written; jansson
 * only hands out the double. Structure-level parsing (schema JSON) still uses
 * jansson.
 *
 * Locale: strtod() and printf("%g") follow LC_NUMERIC, which an application
 * may have changed (a decimal comma). Numbers are therefore converted on a
 * private copy whose '.' is replaced by the locale's decimal point, and
 * formatted text gets its decimal point replaced by '.'.
 */
#include "types/jtext.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/utf8.h"
#include "util/error.h"

/* Longest number token converted; longer ones are refused (no JSON writer
 * produces a 400-digit float, and it bounds the stack copy). */
#define NUM_MAX 400

size_t meru_json_skip_ws(const char *p, size_t n, size_t pos)
{
    while (pos < n && (p[pos] == ' ' || p[pos] == '\t' || p[pos] == '\n' ||
                       p[pos] == '\r'))
        pos++;
    return pos;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           c == '_' || c == '.' || c == '+' || c == '-';
}

int meru_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits of a \u escape at p[0..4). -1 if malformed. */
static long hex4(const char *p, size_t avail)
{
    if (avail < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = meru_hexval((unsigned char)p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the run of "word" bytes at p[pos..] (for error messages). */
static size_t word_len(const char *p, size_t n, size_t pos)
{
    size_t e = pos;
    while (e < n && e - pos < 40 && (is_word(p[e]) || (uint8_t)p[e] >= 0x80))
        e++;
    return e > pos ? e - pos : 1;
}

static int scan_string(const char *p, size_t n, size_t pos, meru_jtok *tok)
{
    size_t i = pos + 1;
    while (i < n) {
        uint8_t c = (uint8_t)p[i];
        if (c == '"') {
            tok->kind = MERU_J_STRING;
            tok->start = pos;
            tok->len = i + 1 - pos;
            return MERU_OK;
        }
        if (c == '\\') {
            if (i + 1 >= n)
                break;
            char e = p[i + 1];
            if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' ||
                e == 'n' || e == 'r' || e == 't') {
                i += 2;
                continue;
            }
            if (e != 'u') {
                char m[16];
                return meru_err(MERU_EINVAL,
                                "invalid escape '\\%s' in string at offset %zu",
                                meru_msg_text(m, sizeof m, &p[i + 1], 1), i);
            }
            long u = hex4(p + i + 2, n - (i + 2));
            if (u < 0)
                return meru_err(MERU_EINVAL,
                                "invalid \\u escape in string at offset %zu "
                                "(needs 4 hex digits)",
                                i);
            if (u >= 0xDC00 && u <= 0xDFFF)
                return meru_err(MERU_EINVAL,
                                "unpaired surrogate \\u%04lX in string at "
                                "offset %zu",
                                u, i);
            if (u >= 0xD800 && u <= 0xDBFF) {
                long lo = -1;
                if (i + 7 < n && p[i + 6] == '\\' && p[i + 7] == 'u')
                    lo = hex4(p + i + 8, n - (i + 8));
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return meru_err(MERU_EINVAL,
                                    "unpaired surrogate \\u%04lX in string at "
                                    "offset %zu",
                                    u, i);
                i += 12;
                continue;
            }
            i += 6;
            continue;
        }
        if (c < 0x20)
            return meru_err(MERU_EINVAL,
                            "raw control character 0x%02X in string at "
                            "offset %zu (escape it, e.g. \\n or \\u%04X)",
                            c, i, c);
        if (c < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = meru_utf8_decode((const uint8_t *)p + i, n - i, &cp);
        if (len == 0)
            return meru_err(MERU_EINVAL,
                            "invalid UTF-8 in string at offset %zu (byte "
                            "0x%02X)",
                            i, c);
        i += len;
    }
    return meru_err(MERU_EINVAL, "unterminated string starting at offset %zu",
                    pos);
}

static int scan_number(const char *p, size_t n, size_t pos, meru_jtok *tok)
{
    size_t i = pos;
    if (i < n && p[i] == '-')
        i++;
    if (i >= n || !is_digit(p[i]))
        goto bad;
    if (p[i] == '0') {
        i++;
    } else {
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && p[i] == '.') {
        i++;
        if (i >= n || !is_digit(p[i]))
            goto bad;
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || !is_digit(p[i]))
            goto bad;
        while (i < n && is_digit(p[i]))
            i++;
    }
    if (i < n && (is_word(p[i]) || (uint8_t)p[i] >= 0x80))
        goto bad;
    tok->kind = MERU_J_NUMBER;
    tok->start = pos;
    tok->len = i - pos;
    return MERU_OK;
bad:;
    char m[64];
    return meru_err(MERU_EINVAL, "invalid number '%s' at offset %zu",
                    meru_msg_text(m, sizeof m, p + pos, word_len(p, n, pos)),
                    pos);
}

static int unexpected(const char *p, size_t n, size_t pos)
{
    char m[64];
    return meru_err(MERU_EINVAL,
                    "unexpected '%s' at offset %zu (expected a JSON value: a "
                    "number, a \"string\", true, false or null)",
                    meru_msg_text(m, sizeof m, p + pos, word_len(p, n, pos)),
                    pos);
}

static int scan_word(const char *p, size_t n, size_t pos, const char *w,
                     meru_jkind kind, meru_jtok *tok)
{
    size_t wl = strlen(w);
    if (n - pos >= wl && memcmp(p + pos, w, wl) == 0 &&
        (pos + wl == n ||
         !(is_word(p[pos + wl]) || (uint8_t)p[pos + wl] >= 0x80))) {
        tok->kind = kind;
        tok->start = pos;
        tok->len = wl;
        return MERU_OK;
    }
    return unexpected(p, n, pos);
}

int meru_json_scan_scalar(const char *p, size_t n, size_t pos, meru_jtok *tok)
{
    if (pos >= n)
        return meru_err(MERU_EINVAL,
                        "expected a JSON value at offset %zu, "
                        "found the end of the text",
                        pos);
    char c = p[pos];
    switch (c) {
    case '"':
        return scan_string(p, n, pos, tok);
    case 't':
        return scan_word(p, n, pos, "true", MERU_J_TRUE, tok);
    case 'f':
        return scan_word(p, n, pos, "false", MERU_J_FALSE, tok);
    case 'n':
        return scan_word(p, n, pos, "null", MERU_J_NULL, tok);
    case '{':
    case '[':
        return meru_err(MERU_EINVAL,
                        "JSON %s at offset %zu: nested values are not "
                        "supported (expected a number, string, true, false "
                        "or null)",
                        c == '{' ? "object" : "array", pos);
    default:
        if (c == '-' || is_digit(c))
            return scan_number(p, n, pos, tok);
        return unexpected(p, n, pos);
    }
}

static int put_utf8(meru_buf *out, uint32_t cp)
{
    uint8_t b[4];
    size_t len;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        len = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3F));
        len = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp & 0x3F));
        len = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (uint8_t)(0x80 | (cp & 0x3F));
        len = 4;
    }
    return meru_buf_append(out, b, len);
}

int meru_json_unescape(const char *p, size_t n, meru_buf *out)
{
    int rc = meru_buf_reserve(out, n);
    if (rc)
        return rc;
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] != '\\')
            run++;
        rc = meru_buf_append(out, p + i, run - i);
        if (rc)
            return rc;
        i = run;
        if (i >= n)
            break;
        if (i + 1 >= n)
            return meru_err(MERU_EINTERNAL, "unescape: truncated escape");
        char e = p[i + 1];
        char c;
        switch (e) {
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 't':
            c = '\t';
            break;
        case 'u': {
            long u = hex4(p + i + 2, n - (i + 2));
            if (u < 0)
                return meru_err(MERU_EINTERNAL, "unescape: bad \\u escape");
            i += 6;
            uint32_t cp = (uint32_t)u;
            if (u >= 0xD800 && u <= 0xDBFF) {
                long lo = -1;
                if (i + 1 < n && p[i] == '\\' && p[i + 1] == 'u')
                    lo = hex4(p + i + 2, n - (i + 2));
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return meru_err(MERU_EINTERNAL, "unescape: lone surrogate");
                cp = 0x10000u + (((uint32_t)u - 0xD800u) << 10) +
                     ((uint32_t)lo - 0xDC00u);
                i += 6;
            }
            rc = put_utf8(out, cp);
            if (rc)
                return rc;
            continue;
        }
        default:
            c = e;
            break; /* " \ / */
        }
        rc = meru_buf_push(out, (uint8_t)c);
        if (rc)
            return rc;
        i += 2;
    }
    return MERU_OK;
}

int meru_json_put_string(meru_buf *out, const void *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = s;
    int rc = meru_buf_reserve(out, n + 2);
    if (rc)
        return rc;
    rc = meru_buf_push(out, '"');
    size_t i = 0;
    while (!rc && i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
            run++;
        rc = meru_buf_append(out, p + i, run - i);
        i = run;
        if (rc || i >= n)
            break;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t el = 2;
        switch (p[i]) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[p[i] >> 4];
            esc[5] = hex[p[i] & 15];
            el = 6;
            break;
        }
        rc = meru_buf_append(out, esc, el);
        i++;
    }
    if (!rc)
        rc = meru_buf_push(out, '"');
    return rc;
}

/* ---------------------------------------------------- floating-point text */

/* Rewrites the C text `s` (with '.') for the current locale into `dst`. */
static int to_locale(const char *p, size_t n, char *dst, size_t cap)
{
    const char *dp = localeconv()->decimal_point;
    size_t dpl = dp && *dp ? strlen(dp) : 1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.' && dpl > 0 && dp && *dp) {
            if (o + dpl >= cap)
                return -1;
            memcpy(dst + o, dp, dpl);
            o += dpl;
        } else {
            if (o + 1 >= cap)
                return -1;
            dst[o++] = p[i];
        }
    }
    dst[o] = '\0';
    return 0;
}

/* Rewrites locale-formatted number text in place to use '.'. */
static size_t from_locale(char *s)
{
    const char *dp = localeconv()->decimal_point;
    size_t len = strlen(s);
    if (!dp || !*dp || (dp[0] == '.' && dp[1] == '\0'))
        return len;
    size_t dpl = strlen(dp);
    char *at = strstr(s, dp);
    if (at) {
        *at = '.';
        memmove(at + 1, at + dpl, strlen(at + dpl) + 1);
        len -= dpl - 1;
    }
    return len;
}

static int number_copy(const char *p, size_t n, char *dst, size_t cap)
{
    if (n > NUM_MAX || to_locale(p, n, dst, cap) != 0) {
        char m[48];
        return meru_err(MERU_EINVAL, "number '%s' is too long (%zu characters)",
                        meru_msg_text(m, sizeof m, p, n), n);
    }
    return MERU_OK;
}

int meru_parse_double(const char *p, size_t n, double *out)
{
    char tmp[NUM_MAX * 2 + 8];
    int rc = number_copy(p, n, tmp, sizeof tmp);
    if (rc)
        return rc;
    errno = 0;
    double v = strtod(tmp, NULL);
    if (isinf(v)) {
        char m[48];
        return meru_err(MERU_ERANGE, "number '%s' is too large for a double",
                        meru_msg_text(m, sizeof m, p, n));
    }
    *out = v;
    return MERU_OK;
}

int meru_parse_float(const char *p, size_t n, float *out)
{
    char tmp[NUM_MAX * 2 + 8];
    int rc = number_copy(p, n, tmp, sizeof tmp);
    if (rc)
        return rc;
    float v = strtof(tmp, NULL);
    if (isinf(v)) {
        char m[48];
        return meru_err(MERU_ERANGE,
                        "number '%s' is too large for a float (max %g)",
                        meru_msg_text(m, sizeof m, p, n), (double)FLT_MAX);
    }
    *out = v;
    return MERU_OK;
}

static size_t fmt_special(double v, char *buf)
{
    const char *s = isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
    size_t l = strlen(s);
    memcpy(buf, s, l + 1);
    return l;
}

/*
 * Writes the value whose shortest round-trip digits are in `sci` (the
 * output of "%.*e": D[.DDD]e[+-]XX, locale already undone) the way
 * ECMAScript's Number.prototype.toString does: plain notation from 1e-7 to
 * 1e21 ("100", "0.001", "123456.5"), exponent form outside ("1e+21",
 * "1.5e-7"). Returns the length written to buf.
 */
static size_t es_form(const char *sci, int neg, char *buf)
{
    char digits[24];
    int k = 0;
    const char *q = sci;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && k < 20)
            digits[k++] = *q;
    int e = *q == 'e' ? atoi(q + 1) : 0;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    int n = e + 1; /* the decimal point goes after n digits */
    char *o = buf;
    if (neg)
        *o++ = '-';
    if (k <= n && n <= 21) {
        memcpy(o, digits, (size_t)k);
        o += k;
        for (int i = k; i < n; i++)
            *o++ = '0';
    } else if (0 < n && n <= 21) {
        memcpy(o, digits, (size_t)n);
        o += n;
        *o++ = '.';
        memcpy(o, digits + n, (size_t)(k - n));
        o += k - n;
    } else if (-6 < n && n <= 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -n; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)k);
        o += k;
    } else {
        *o++ = digits[0];
        if (k > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)(k - 1));
            o += k - 1;
        }
        o += sprintf(o, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    *o = '\0';
    return (size_t)(o - buf);
}

size_t meru_fmt_double(double v, char *buf)
{
    if (!isfinite(v))
        return fmt_special(v, buf);
    if (v == 0) {
        strcpy(buf, signbit(v) ? "-0" : "0");
        return strlen(buf);
    }
    char tmp[64];
    double a = fabs(v);
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, a);
        if (strtod(tmp, NULL) == a) /* locale text -> locale strtod */
            break;
    }
    from_locale(tmp);
    return es_form(tmp, v < 0, buf);
}

size_t meru_fmt_float(float v, char *buf)
{
    if (!isfinite(v))
        return fmt_special((double)v, buf);
    if (v == 0) {
        strcpy(buf, signbit(v) ? "-0" : "0");
        return strlen(buf);
    }
    char tmp[64];
    float a = fabsf(v);
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, (double)a);
        if (strtof(tmp, NULL) == a)
            break;
    }
    from_locale(tmp);
    return es_form(tmp, v < 0, buf);
}

/* ------------------------------------------------------- message helper */

const char *meru_msg_text(char *buf, size_t cap, const void *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const uint8_t *p = s;
    size_t o = 0;
    if (cap == 0)
        return buf;
    int utf8 = p ? meru_utf8_valid(p, n) : 0;
    size_t i = 0;
    while (p && i < n) {
        size_t clen = 1;
        uint32_t cp;
        if (p[i] >= 0x80 && utf8)
            clen = meru_utf8_decode(p + i, n - i, &cp);
        int esc = p[i] < 0x20 || p[i] == 0x7F || (p[i] >= 0x80 && !utf8);
        size_t need = esc ? 4 : clen;
        if (o + need + 4 > cap) { /* keep room for "..." and the NUL */
            if (o + 4 <= cap) {
                memcpy(buf + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (esc) {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[p[i] >> 4];
            buf[o++] = hex[p[i] & 15];
        } else {
            memcpy(buf + o, p + i, clen);
            o += clen;
        }
        i += clen;
    }
    buf[o] = '\0';
    return buf;
}
