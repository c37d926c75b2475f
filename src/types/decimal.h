/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decimal.h — DECIMAL(P,S) values as 128-bit two's complement unscaled
 * integers (meru_i128): text conversion and precision checks.
 *
 * A decimal(P,S) value v stands for v / 10^S and fits when |v| < 10^P.
 * Text is plain notation ("-12.50"); input may also use an exponent
 * ("1.25E+2", as Java's BigDecimal.toString() writes), a leading '+', and
 * fewer fractional digits than the scale (zero-padded). More fractional
 * digits than the scale is MERU_ERANGE, never silent rounding.
 */
#ifndef MERU_TYPES_DECIMAL_H
#define MERU_TYPES_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#include "types/value.h"

#define MERU_DECIMAL_MAX_PRECISION 38
/* Enough for any 128-bit value at any scale 0..38, sign and NUL included. */
#define MERU_DECIMAL_TEXT_MAX 42

/*
 * Parses the `n` bytes at `p` (the whole span, no whitespace) for a
 * decimal(precision, scale). MERU_EINVAL for malformed text, MERU_ERANGE for
 * too many fractional digits or digits beyond the precision. The message
 * names the text and the rule, not the column.
 */
int meru_decimal_parse(const char *p, size_t n, int32_t precision,
                       int32_t scale, meru_i128 *out);

/* Writes `v` at `scale` as NUL-terminated text into `buf`
 * (MERU_DECIMAL_TEXT_MAX bytes); returns the length. */
size_t meru_decimal_format(meru_i128 v, int32_t scale, char *buf);

/* Number of decimal digits of |v| (1 for zero). */
int meru_decimal_digits(meru_i128 v);

/* 1 when |v| < 10^precision. */
int meru_decimal_fits(meru_i128 v, int32_t precision);

#endif
