/* SPDX-License-Identifier: Apache-2.0 */
/*
 * utf8.h — strict UTF-8 validation (RFC 3629).
 *
 * "Strict" means what Unicode calls well-formed: no overlong encodings, no
 * UTF-16 surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no stray
 * continuation bytes, no truncated sequences. NUL bytes are valid UTF-8
 * (callers that forbid them check separately).
 */
#ifndef MERU_TYPES_UTF8_H
#define MERU_TYPES_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 if the `n` bytes at `p` are well-formed UTF-8, else 0. */
int meru_utf8_valid(const uint8_t *p, size_t n);

/* Offset of the first byte that starts an ill-formed sequence, or `n` when
 * the whole input is valid (for error messages that point at the byte). */
size_t meru_utf8_check(const uint8_t *p, size_t n);

/*
 * Decodes one code point of valid UTF-8 at p[0..n) (n > 0): returns its
 * length in bytes (1..4) and stores the code point in *cp, or returns 0 for
 * an ill-formed sequence.
 */
size_t meru_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);

#endif
