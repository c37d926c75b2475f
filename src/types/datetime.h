/* SPDX-License-Identifier: Apache-2.0 */
/*
 * datetime.h — DATE (days since 1970-01-01) and TIMESTAMP (microseconds
 * since 1970-01-01T00:00:00) <-> ISO-8601 text, proleptic Gregorian.
 *
 * Text forms:
 *   date         YYYY-MM-DD
 *   timestamp    YYYY-MM-DDTHH:MM:SS[.ffffff]
 *   timestamptz  the same followed by an offset: Z or +HH:MM / -HH:MM
 * Years outside 0000..9999 are written with a sign and at least four digits
 * ("+10000-01-01", "-0001-12-31"; year 0 is 1 BC), as java.time does, so
 * every int32 date and int64 timestamp has a text form that reads back.
 * Input also accepts a space or 't' instead of 'T', up to 9 fractional
 * digits when those past the 6th are zeros, and a lowercase 'z'. Seconds are
 * required; leap seconds (:60) are not accepted.
 */
#ifndef MERU_TYPES_DATETIME_H
#define MERU_TYPES_DATETIME_H

#include <stddef.h>
#include <stdint.h>

#define MERU_DATE_TEXT_MAX      16
#define MERU_TIMESTAMP_TEXT_MAX 40

/* How a timestamp's zone is written. */
typedef enum meru_ts_style {
    MERU_TS_LOCAL = 0,  /* no offset (timestamp without time zone) */
    MERU_TS_OFFSET = 1, /* "+00:00" (Iceberg single-value JSON) */
    MERU_TS_ZULU = 2    /* "Z" */
} meru_ts_style;

/* Days since 1970-01-01 of a proleptic Gregorian date (any int64 year that
 * does not overflow: |year| < 10^12). */
int64_t meru_days_from_civil(int64_t y, int m, int d);
void meru_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Parse the whole span; MERU_EINVAL for malformed text or an impossible
 * date, MERU_ERANGE when the result does not fit the type. `with_tz`:
 * 1 = an offset is required and the result is converted to UTC, 0 = an
 * offset is refused. */
int meru_date_parse(const char *p, size_t n, int32_t *out);
int meru_timestamp_parse(const char *p, size_t n, int with_tz, int64_t *out);

/* NUL-terminated text into `buf` (the _TEXT_MAX sizes); returns length. */
size_t meru_date_format(int32_t days, char *buf);
size_t meru_timestamp_format(int64_t micros, meru_ts_style style, char *buf);

#endif
