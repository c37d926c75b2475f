/* SPDX-License-Identifier: Apache-2.0 */
/*
 * datetime.c — civil calendar arithmetic and ISO-8601 text (datetime.h).
 *
 * The day-count conversions are Howard Hinnant's era-based algorithms
 * (http://howardhinnant.github.io/date_algorithms.html): exact for the
 * proleptic Gregorian calendar over the whole range, no tables, no libc
 * time functions (which depend on TZ and cannot represent year 0).
 */
#include "types/datetime.h"

#include <stdio.h>
#include <string.h>

#include "types/jtext.h"
#include "util/error.h"

#define MICROS_PER_DAY INT64_C(86400000000)

int64_t meru_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void meru_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly `w` digits at p[*i]; -1 if they are not all there. */
static long fixed_digits(const char *p, size_t n, size_t *i, int w)
{
    long v = 0;
    for (int k = 0; k < w; k++) {
        if (*i >= n || !is_digit(p[*i]))
            return -1;
        v = v * 10 + (p[(*i)++] - '0');
    }
    return v;
}

static const char *const month_names[12] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

/*
 * Parses "[+-]YYYY-MM-DD" at p[*i]; leaves *i after the day. `what` is
 * "date" or "timestamp" for messages.
 */
static int parse_ymd(const char *p, size_t n, size_t *i, const char *what,
                     int64_t *days)
{
    char m[80];
    size_t s = *i;
    int neg = 0, sign = 0;
    if (s < n && (p[s] == '+' || p[s] == '-')) {
        neg = p[s] == '-';
        sign = 1;
        s++;
    }
    size_t ys = s;
    int64_t y = 0;
    while (s < n && is_digit(p[s]) && s - ys < 8)
        y = y * 10 + (p[s++] - '0');
    size_t yd = s - ys;
    if (yd < 4 || (!sign && yd != 4) || yd > 7)
        goto bad;
    if (neg)
        y = -y;
    if (s >= n || p[s] != '-')
        goto bad;
    s++;
    long mo = fixed_digits(p, n, &s, 2);
    if (mo < 0 || s >= n || p[s] != '-')
        goto bad;
    s++;
    long d = fixed_digits(p, n, &s, 2);
    if (d < 0)
        goto bad;
    if (mo < 1 || mo > 12)
        return meru_err(MERU_EINVAL,
                        "invalid %s '%s': month %02ld is out of range 01..12",
                        what, meru_msg_text(m, sizeof m, p, n), mo);
    if (d < 1 || d > month_days(y, (int)mo))
        return meru_err(MERU_EINVAL,
                        "invalid %s '%s': %s %lld has %d days, not %ld", what,
                        meru_msg_text(m, sizeof m, p, n), month_names[mo - 1],
                        (long long)y, month_days(y, (int)mo), d);
    *days = meru_days_from_civil(y, (int)mo, (int)d);
    *i = s;
    return MERU_OK;
bad:
    return meru_err(MERU_EINVAL, "invalid %s '%s': expected YYYY-MM-DD%s", what,
                    meru_msg_text(m, sizeof m, p, n),
                    what[0] == 'd' ? "" : "THH:MM:SS[.ffffff]");
}

int meru_date_parse(const char *p, size_t n, int32_t *out)
{
    size_t i = 0;
    int64_t days;
    int rc = parse_ymd(p, n, &i, "date", &days);
    if (rc)
        return rc;
    char m[80];
    if (i != n)
        return meru_err(MERU_EINVAL,
                        "invalid date '%s': unexpected text after "
                        "YYYY-MM-DD",
                        meru_msg_text(m, sizeof m, p, n));
    if (days < INT32_MIN || days > INT32_MAX)
        return meru_err(MERU_ERANGE,
                        "date '%s' is out of range (more than 2^31 days "
                        "from 1970-01-01)",
                        meru_msg_text(m, sizeof m, p, n));
    *out = (int32_t)days;
    return MERU_OK;
}

int meru_timestamp_parse(const char *p, size_t n, int with_tz, int64_t *out)
{
    char m[80];
    const char *what = with_tz ? "timestamptz" : "timestamp";
    const char *shape = with_tz ? "YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM (or Z)"
                                : "YYYY-MM-DDTHH:MM:SS[.ffffff]";
    size_t i = 0;
    int64_t days;
    int rc = parse_ymd(p, n, &i, what, &days);
    if (rc)
        return rc;
    if (i >= n || (p[i] != 'T' && p[i] != 't' && p[i] != ' '))
        goto bad;
    i++;
    long hh = fixed_digits(p, n, &i, 2);
    if (hh < 0 || i >= n || p[i] != ':')
        goto bad;
    i++;
    long mi = fixed_digits(p, n, &i, 2);
    if (mi < 0 || i >= n || p[i] != ':')
        goto bad;
    i++;
    long ss = fixed_digits(p, n, &i, 2);
    if (ss < 0)
        goto bad;
    if (hh > 23 || mi > 59 || ss > 59)
        return meru_err(MERU_EINVAL,
                        "invalid %s '%s': time %02ld:%02ld:%02ld is out of "
                        "range (00:00:00..23:59:59)",
                        what, meru_msg_text(m, sizeof m, p, n), hh, mi, ss);
    int64_t frac = 0;
    if (i < n && p[i] == '.') {
        i++;
        int nd = 0;
        while (i < n && is_digit(p[i])) {
            if (nd < 6) {
                frac = frac * 10 + (p[i] - '0');
            } else if (p[i] != '0' || nd >= 9) {
                return meru_err(MERU_EINVAL,
                                "invalid %s '%s': more than 6 fractional "
                                "digits (timestamps have microsecond "
                                "precision)",
                                what, meru_msg_text(m, sizeof m, p, n));
            }
            nd++;
            i++;
        }
        if (nd == 0)
            goto bad;
        for (; nd < 6; nd++)
            frac *= 10;
    }
    int64_t offset_s = 0;
    int has_offset = 0;
    if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
        has_offset = 1;
        i++;
    } else if (i < n && (p[i] == '+' || p[i] == '-')) {
        int neg = p[i] == '-';
        i++;
        long oh = fixed_digits(p, n, &i, 2);
        if (oh < 0 || i >= n || p[i] != ':')
            goto bad;
        i++;
        long om = fixed_digits(p, n, &i, 2);
        if (om < 0)
            goto bad;
        if (oh > 23 || om > 59)
            return meru_err(MERU_EINVAL,
                            "invalid %s '%s': offset %02ld:%02ld is out of "
                            "range",
                            what, meru_msg_text(m, sizeof m, p, n), oh, om);
        offset_s = (oh * 3600 + om * 60) * (neg ? -1 : 1);
        has_offset = 1;
    }
    if (i != n)
        goto bad;
    if (has_offset && !with_tz)
        return meru_err(MERU_EINVAL,
                        "invalid timestamp '%s': a time zone offset is not "
                        "allowed for timestamp without time zone (use a "
                        "timestamptz column to store instants)",
                        meru_msg_text(m, sizeof m, p, n));
    if (!has_offset && with_tz)
        return meru_err(MERU_EINVAL,
                        "invalid timestamptz '%s': a UTC offset is required "
                        "(append Z or +HH:MM)",
                        meru_msg_text(m, sizeof m, p, n));
    /* |days| <= ~3.65e9 here (7-digit years), so seconds cannot overflow;
     * the micros multiplication can. */
    int64_t secs = days * 86400 + hh * 3600 + mi * 60 + ss - offset_s;
    int64_t micros;
    if (secs < 0 && frac > 0) { /* keep the product in range near INT64_MIN */
        secs += 1;
        frac -= 1000000;
    }
    if (__builtin_mul_overflow(secs, INT64_C(1000000), &micros) ||
        __builtin_add_overflow(micros, frac, &micros))
        return meru_err(MERU_ERANGE,
                        "%s '%s' is out of range (the limit is about "
                        "292277 years from 1970)",
                        what, meru_msg_text(m, sizeof m, p, n));
    *out = micros;
    return MERU_OK;
bad:
    return meru_err(MERU_EINVAL, "invalid %s '%s': expected %s", what,
                    meru_msg_text(m, sizeof m, p, n), shape);
}

static size_t format_ymd(int64_t days, char *buf)
{
    int64_t y;
    int mo, d;
    meru_civil_from_days(days, &y, &mo, &d);
    int n;
    if (y >= 0 && y <= 9999)
        n = snprintf(buf, MERU_DATE_TEXT_MAX, "%04d-%02d-%02d", (int)y, mo, d);
    else
        n = snprintf(buf, MERU_DATE_TEXT_MAX, "%c%04lld-%02d-%02d",
                     y < 0 ? '-' : '+', (long long)(y < 0 ? -y : y), mo, d);
    return (size_t)n;
}

size_t meru_date_format(int32_t days, char *buf)
{
    return format_ymd(days, buf);
}

size_t meru_timestamp_format(int64_t micros, meru_ts_style style, char *buf)
{
    int64_t days = micros / MICROS_PER_DAY;
    int64_t rem = micros % MICROS_PER_DAY;
    if (rem < 0) {
        rem += MICROS_PER_DAY;
        days--;
    }
    size_t o = format_ymd(days, buf);
    int64_t secs = rem / 1000000;
    int frac = (int)(rem % 1000000);
    o += (size_t)snprintf(buf + o, MERU_TIMESTAMP_TEXT_MAX - o,
                          "T%02d:%02d:%02d", (int)(secs / 3600),
                          (int)(secs / 60 % 60), (int)(secs % 60));
    if (frac)
        o += (size_t)snprintf(buf + o, MERU_TIMESTAMP_TEXT_MAX - o, ".%06d",
                              frac);
    if (style == MERU_TS_OFFSET) {
        memcpy(buf + o, "+00:00", 7);
        o += 6;
    } else if (style == MERU_TS_ZULU) {
        memcpy(buf + o, "Z", 2);
        o += 1;
    }
    return o;
}
