/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jtext.h — the small pieces of JSON text handling that the types module
 * needs beyond jansson: scanning one scalar token while keeping its raw
 * text (decimals and floats must be converted from the digits as written,
 * not from a double), unescaping and escaping strings, and locale-proof
 * shortest round-trip formatting of floating-point numbers.
 *
 * Everything here works on (pointer, length) input that is not
 * NUL-terminated and never reads outside it. Failures set the thread's error
 * message (without any column context: callers add that with
 * meru_err_wrap()).
 */
#ifndef MERU_TYPES_JTEXT_H
#define MERU_TYPES_JTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Value of one hex digit (either case), or -1. */
int meru_hexval(int c);

typedef enum meru_jkind {
    MERU_J_STRING = 1, /* start/len cover the quotes */
    MERU_J_NUMBER,
    MERU_J_TRUE,
    MERU_J_FALSE,
    MERU_J_NULL
} meru_jkind;

typedef struct meru_jtok {
    meru_jkind kind;
    size_t start; /* offset of the token's first byte */
    size_t len;   /* bytes of the token */
} meru_jtok;

/* Offset of the first non-whitespace byte at or after `pos` (JSON
 * whitespace: space, tab, CR, LF). */
size_t meru_json_skip_ws(const char *p, size_t n, size_t pos);

/*
 * Scans one JSON scalar starting exactly at `pos` (no whitespace skipping).
 * Strings are checked completely: escapes well-formed, \u surrogates paired,
 * raw bytes valid UTF-8, no raw control characters. Objects and arrays are
 * rejected (MERU_EINVAL "... nested ... not supported"). Numbers follow the
 * JSON grammar and must not run into letters or digits ("12abc", "01").
 */
int meru_json_scan_scalar(const char *p, size_t n, size_t pos, meru_jtok *tok);

/* Appends the decoded contents of a string token's inner text (between the
 * quotes; already checked by meru_json_scan_scalar). */
int meru_json_unescape(const char *p, size_t n, meru_buf *out);

/* Appends `s` as a quoted JSON string. `s` must be valid UTF-8 (checked by
 * the caller); quotes, backslashes and control characters are escaped. */
int meru_json_put_string(meru_buf *out, const void *s, size_t n);

/*
 * The one number format of merutable's JSON (rows, defaults, the meru
 * tool): the shortest decimal that reads back as exactly `v`, written as
 * ECMAScript (and so JSON.stringify, DuckDB's JSON, the interop harness)
 * writes numbers: integral values as integers ("100", not "1e+02" or
 * "100.0"), plain notation from 1e-7 up to 1e21 ("0.001", "123456.5"),
 * exponent form outside it ("1e+21", "5e-324"); negative zero is "-0".
 * meru_fmt_float gives the shortest text that reads back as the same
 * float. NaN and infinities give "NaN", "Infinity", "-Infinity" (callers
 * quote them: JSON has no literal for them).
 * `buf` must hold MERU_FLOAT_TEXT_MAX bytes; returns the length.
 */
#define MERU_FLOAT_TEXT_MAX 40
size_t meru_fmt_double(double v, char *buf);
size_t meru_fmt_float(float v, char *buf);

/*
 * Converts a JSON number token (already checked by meru_json_scan_scalar)
 * independently of the process locale. A finite number too large for the
 * type is MERU_ERANGE; tiny numbers round to zero or a subnormal.
 */
int meru_parse_double(const char *p, size_t n, double *out);
int meru_parse_float(const char *p, size_t n, float *out);

/* Copies at most `cap - 1` bytes of `s` into `buf` for an error message,
 * escaping non-printable bytes as \xNN and marking truncation with "...".
 * Returns `buf`. */
const char *meru_msg_text(char *buf, size_t cap, const void *s, size_t n);

#endif
