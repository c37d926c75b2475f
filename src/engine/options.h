/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options.h — what the engine adds to the public option structs: reading a
 * caller's struct of any supported version (merutable.h, "ABI").
 */
#ifndef MERU_ENGINE_OPTIONS_H
#define MERU_ENGINE_OPTIONS_H

#include "merutable.h"

/* *out = the caller's options of any version 1..MERU_OPTIONS_VERSION, the
 * fields its version lacks at their defaults; out->version is the
 * current one. MERU_EINVAL for an unknown version (nothing read past it). */
int meru_options_upgrade(const meru_options *in, meru_options *out);

/* MERU_OK when 1 <= version <= current, else MERU_EINVAL naming `what`
 * (for the structs whose every version so far has the same size). */
int meru_struct_version(unsigned version, unsigned current, const char *what);

/* The byte budgets of the decoded-page cache and of the row cache that
 * the options ask for: with row_cache_bytes == MERU_ROW_CACHE_AUTO the
 * row cache is carved out of cache_bytes (1/MERU_ROW_CACHE_AUTO_DIVISOR of
 * it, the pages keep the rest); otherwise the page cache is cache_bytes
 * and the row cache row_cache_bytes (0: none). */
void meru_options_cache_split(const meru_options *o, size_t *page_bytes,
                              size_t *row_bytes);

#endif
