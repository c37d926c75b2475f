/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.h — column bounds in Iceberg's binary single-value form (Iceberg
 * spec, Appendix D), for the lower_bounds / upper_bounds maps of a manifest
 * entry, with the `truncate(N)` metrics mode for strings and binary.
 *
 * Bytes per type (meru_type -> Iceberg type):
 *   BOOLEAN                     1 byte, 0x00 or 0x01
 *   INT32, DATE                 4-byte little-endian
 *   INT64, TIMESTAMP(TZ)        8-byte little-endian (microseconds)
 *   FLOAT, DOUBLE               4/8-byte little-endian IEEE 754
 *   STRING                      UTF-8 bytes, no length
 *   BINARY, FIXED               the bytes as they are
 *   DECIMAL                     the unscaled value as big-endian two's
 *                               complement in the fewest bytes (0 -> 00,
 *                               128 -> 00 80, -129 -> FF 7F)
 * NaN is never a bound (MERU_EINVAL); choosing -0.0 over +0.0 for a lower
 * bound (and +0.0 for an upper one) is the caller's job, as is computing
 * the min and max.
 *
 * Truncation (the spec's recommended default is truncate(16)): a lower
 * bound is the prefix of `width` code points (STRING) or bytes (BINARY);
 * an upper bound is that prefix with its last code point / byte that can
 * be incremented incremented and what follows dropped (U+10FFFF and 0xFF
 * cannot be; a surrogate is skipped to U+E000). When nothing can be
 * incremented there is no upper bound, and the caller omits it. Values no
 * longer than the width are kept whole. FIXED values are never truncated
 * (Iceberg truncates only string and binary).
 */
#ifndef MERU_ICEBERG_METRICS_H
#define MERU_ICEBERG_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "merutable.h"
#include "types/value.h"
#include "util/buf.h"

#define MERU_ICE_TRUNCATE_DEFAULT 16

/* Appends the single-value bytes of `v` (which must be PRESENT). */
int meru_ice_value_bytes(meru_buf *out, meru_type type, const meru_value *v);

/* Appends the lower bound for a column whose smallest value is `min`;
 * width 0 = never truncate. */
int meru_ice_lower_bound(meru_buf *out, meru_type type, const meru_value *min,
                         uint32_t width);

/* Appends the upper bound for a column whose largest value is `max`, or
 * nothing with *present false when no upper bound of that width exists. */
int meru_ice_upper_bound(meru_buf *out, meru_type type, const meru_value *max,
                         uint32_t width, bool *present);

#endif
