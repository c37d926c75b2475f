/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats.h — Parquet min/max statistics: the sort order of each column type
 * and an accumulator that the writer feeds with values.
 *
 * Orders (parquet-format LogicalTypes.md, "Sort order"):
 *  - signed integers for INT32/INT64 (plain, DATE, TIMESTAMP, TIME,
 *    DECIMAL on ints, signed INTEGER), unsigned for unsigned INTEGER /
 *    UINT_* converted types;
 *  - unsigned lexicographic bytes for BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY
 *    (strings, binary, UUID);
 *  - two's complement big-endian for DECIMAL on BYTE_ARRAY / FLBA;
 *  - IEEE floats with NaN excluded: an all-NaN page has no min/max, and
 *    a zero min is written as -0.0, a zero max as +0.0, so readers that
 *    compare either zero get the right answer;
 *  - booleans false < true;
 *  - INT96 and INTERVAL have no defined order: no min/max.
 *
 * Statistic values are PLAIN bytes without a length prefix (fixed-width
 * little-endian, or the raw bytes of a byte array).
 *
 * Decision on the deprecated Statistics.min/max (fields 1 and 2): the
 * writer sets them, equal to min_value/max_value, only where the legacy
 * signed comparison agrees with the type order (signed INT32/INT64, FLOAT,
 * DOUBLE, BOOLEAN); never for byte arrays, unsigned integers or decimals
 * on bytes, whose legacy order was wrong.
 */
#ifndef MERU_PARQUET_STATS_H
#define MERU_PARQUET_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parquet/meta.h"
#include "util/buf.h"

typedef enum pq_sort_order {
    PQ_ORDER_NONE = 0, /* undefined: no statistics */
    PQ_ORDER_BOOL,
    PQ_ORDER_INT32, /* signed */
    PQ_ORDER_INT64,
    PQ_ORDER_UINT32, /* unsigned INTEGER / UINT_* on INT32 */
    PQ_ORDER_UINT64,
    PQ_ORDER_FLOAT,
    PQ_ORDER_DOUBLE,
    PQ_ORDER_FLOAT16,   /* FLBA(2) FLOAT16, compared as half floats */
    PQ_ORDER_BYTES,     /* unsigned lexicographic */
    PQ_ORDER_DECIMAL_BE /* two's complement big-endian, any length */
} pq_sort_order;

/* Order of a column from its physical type and annotations (`ct` < 0:
 * no converted type). */
pq_sort_order pq_sort_order_of(pq_type type, const pq_logical_type *lt, int ct);
/* True when the legacy (signed) min/max fields may be written and read for
 * this order. */
bool pq_sort_order_legacy_ok(pq_sort_order o);
/* Compares two statistic values of this order: <0, 0, >0. Values of an
 * impossible size for a fixed-width order compare as equal (callers check
 * sizes with pq_stats_value_ok first). NaN compares equal to everything. */
int pq_stats_compare(pq_sort_order o, const uint8_t *a, size_t alen,
                     const uint8_t *b, size_t blen);
/* True when a statistic value has the right size for the order and is not
 * NaN (a NaN bound is useless: old writers put them there). */
bool pq_stats_value_ok(pq_sort_order o, const uint8_t *v, size_t len);

/* Accumulates min, max and null count of one page or chunk. */
typedef struct pq_stats_acc {
    pq_sort_order order;
    bool has_minmax;
    int64_t null_count;
    int64_t value_count; /* non-null values seen (NaN included) */
    union {
        int32_t i32;
        int64_t i64;
        float f;
        double d;
        uint8_t b;
    } min, max;
    meru_buf bmin, bmax;            /* byte-array orders */
    uint8_t enc_min[8], enc_max[8]; /* encoded fixed-width output */
} pq_stats_acc;

void pq_stats_init(pq_stats_acc *a, pq_sort_order o);
void pq_stats_reset(pq_stats_acc *a);
void pq_stats_free(pq_stats_acc *a);

/* Values (non-null only). Byte-array variants may allocate. */
void pq_stats_add_bool(pq_stats_acc *a, const uint8_t *v, size_t n);
void pq_stats_add_i32(pq_stats_acc *a, const int32_t *v, size_t n);
void pq_stats_add_i64(pq_stats_acc *a, const int64_t *v, size_t n);
void pq_stats_add_float(pq_stats_acc *a, const float *v, size_t n);
void pq_stats_add_double(pq_stats_acc *a, const double *v, size_t n);
int pq_stats_add_bytes(pq_stats_acc *a, const pq_bytes *v, size_t n);
static inline void pq_stats_add_nulls(pq_stats_acc *a, size_t n)
{
    a->null_count += (int64_t)n;
}
/* dst += src (same order). */
int pq_stats_merge(pq_stats_acc *dst, const pq_stats_acc *src);

/* The encoded min and max (views into the accumulator, valid until it
 * changes); false when there are none (no value, all NaN, no order). */
bool pq_stats_get(pq_stats_acc *a, pq_bytes *min, pq_bytes *max);

/* Truncation of byte-array bounds for the column index: a lower bound of
 * at most `cap` bytes (a prefix) and an upper bound (the prefix with its
 * last non-0xFF byte incremented). Returns false for the max when no
 * shorter upper bound exists (all 0xFF): keep it whole. */
void pq_stats_truncate_min(pq_bytes *v, uint32_t cap);
bool pq_stats_truncate_max(const pq_bytes *v, uint32_t cap, uint8_t *out,
                           uint32_t *out_len);

/* The same cuts for any byte-array bound (statistics and the column index),
 * keeping a STRING's bounds valid UTF-8 when `utf8` (the spec asks that cut
 * bounds stay values of the logical type): the min is cut at a character
 * boundary at or before `cap` bytes; the max is the longest such prefix
 * with its last character replaced by the next code point (skipping the
 * surrogates; a character that has no successor, or whose successor would
 * not fit, is dropped and the one before it tried). Both bounds stay valid
 * in unsigned byte order, which is UTF-8's code point order. A value of at
 * most `cap` bytes (or cap 0) is left whole: cut_min returns false and
 * cut_max returns 0. cut_max returns 1 with the bound in out (at most cap
 * bytes), or -1 when no upper bound of at most cap bytes exists (every
 * byte 0xFF, every character U+10FFFF). */
bool pq_stats_cut_min(pq_bytes *v, uint32_t cap, bool utf8);
int pq_stats_cut_max(const pq_bytes *v, uint32_t cap, bool utf8, uint8_t *out,
                     uint32_t *out_len);

#endif
