/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rowcodec.h — the compact binary form of a row's non-key values: the value
 * bytes of a memtable entry and of a put in a WAL record.
 *
 * Choice: KEY COLUMNS ARE NOT STORED in the value. Every put is stored next
 * to its encoded primary key (the internal key), so repeating the key
 * columns would only cost space; decoding therefore takes the key as well
 * and fills key columns from it (meru_key_decode()).
 *
 * Byte layout (all fixed-width numbers little-endian):
 *   u8      version (MERU_ROWCODEC_VERSION = 1)
 *   varint  ncols_w: the schema's column count when the row was written
 *           (>= 1, <= the reader's column count)
 *   bitmap  ceil(ncols_w / 8) bytes; bit (i % 8) of byte (i / 8) set =
 *           column i is null. Bits of key columns and bits >= ncols_w are 0.
 *   values  for every column i < ncols_w that is neither a key column nor
 *           null, in schema order:
 *             BOOLEAN                 1 byte, 0 or 1
 *             INT32, DATE             4 bytes
 *             INT64, TIMESTAMP(TZ)    8 bytes
 *             FLOAT / DOUBLE          4 / 8 bytes of the IEEE bits
 *             DECIMAL                 16 bytes: the 128-bit two's complement
 *                                     unscaled value (lo 8 bytes, then hi)
 *             STRING, BINARY          varint length (<= MERU_MAX_VALUE_BYTES)
 *                                     + bytes
 *             FIXED(L)                L bytes (L from the schema)
 *   The input must end exactly after the last value, and varints must be
 *   minimal, so a value has exactly one encoding.
 *
 * Schema evolution: a column i >= ncols_w (added after the row was written)
 * reads as its initial default, else null (SPEC §3). Columns are only ever
 * appended, so column i of the writer is column i of the reader. The other
 * way round (ncols_w above the reader's column count: the row was written
 * after a column the reader does not know was added) is corruption for the
 * plain decoders, which the paths that store rows (flush, compaction) use
 * so that no column is ever dropped silently; readers that may hold an
 * older schema than a concurrent writer pass MERU_ROWCODEC_SKIP_UNKNOWN
 * and get the columns they know, as an Iceberg reader projects by id.
 *
 * The encoded values are the EFFECTIVE ones (meru_row_effective(): the set
 * value, else the write default, else null), so an unset column never
 * reaches storage. Encoding does not validate the row (meru_row_validate()
 * is the caller's job) and does not recheck UTF-8 or decimal precision on
 * decode; every length, count and bit is checked on decode (MERU_ECORRUPT
 * with the offset), and so are null bits of NOT NULL columns (a column
 * never turns from optional to required, so such a bit is damage).
 */
#ifndef MERU_TYPES_ROWCODEC_H
#define MERU_TYPES_ROWCODEC_H

#include <stddef.h>
#include <stdint.h>

#include "types/row.h"
#include "types/schema.h"
#include "types/value.h"
#include "util/buf.h"

#define MERU_ROWCODEC_VERSION 1

/* A column set for projection: bit (i % 64) of word (i / 64) = column i. */
#define MERU_COLSET_WORDS ((MERU_MAX_COLUMNS + 63) / 64)
typedef struct meru_colset {
    uint64_t w[MERU_COLSET_WORDS];
} meru_colset;

static inline void meru_colset_add(meru_colset *cs, size_t col)
{
    cs->w[col / 64] |= UINT64_C(1) << (col % 64);
}
static inline int meru_colset_has(const meru_colset *cs, size_t col)
{
    return (int)((cs->w[col / 64] >> (col % 64)) & 1);
}

/*
 * Appends the value encoding of `row` (a row of schema `s`; its schema may
 * have gained columns since the row was made: those encode as their write
 * default, else null) to `out`. Grows `out` once. MERU_EINVAL for a value
 * that cannot be encoded (a bytes value over MERU_MAX_VALUE_BYTES, a FIXED
 * value of the wrong length, a PRESENT bytes value with a NULL pointer);
 * MERU_ENOMEM. On error `out` is unchanged.
 */
int meru_row_encode(const meru_schema *s, const meru_row *row, meru_buf *out);

/*
 * Like meru_row_encode for values given as an array: vals[0 .. s->ncols),
 * one per column of `s`. Key columns are ignored (not stored); a non-key
 * value that is not PRESENT (NULL or UNSET) encodes as null: no write
 * default is applied. Used to re-encode rows read column by column (the
 * SST reader). Errors as meru_row_encode.
 */
int meru_row_encode_values(const meru_schema *s, const meru_value *vals,
                           meru_buf *out);

/*
 * Decodes the full row stored as (key, value) into `row` (made for schema
 * `s`: row->ncols == s->ncols), copying bytes into the row's own storage.
 * Every column ends PRESENT or NULL. On error the row is cleared.
 */
int meru_row_decode(const meru_schema *s, const uint8_t *key, size_t klen,
                    const uint8_t *value, size_t vlen, meru_row *row);

/* Flag of the _ex decoders: a value written with more columns than `s`
 * has (at most MERU_MAX_COLUMNS) decodes as its first s->ncols columns;
 * the bytes of the others are not looked at (so not checked). */
#define MERU_ROWCODEC_SKIP_UNKNOWN 1u

/* meru_row_decode with flags (MERU_ROWCODEC_SKIP_UNKNOWN). */
int meru_row_decode_ex(const meru_schema *s, const uint8_t *key, size_t klen,
                       const uint8_t *value, size_t vlen, meru_row *row,
                       unsigned flags);

/*
 * Zero-copy decode into vals[0 .. s->ncols): PRESENT/NULL values whose bytes
 * point into `value` (non-key columns), into `key` or `scratch` (key
 * columns, see meru_key_decode()). `proj` selects the columns to fill (NULL
 * = all); the others are skipped and left UNSET. `key` may be NULL when no
 * key column is selected. `scratch` may be NULL when no selected key column
 * is STRING/BINARY. Nothing is allocated except by growing `scratch`.
 * Initial-default values of columns added after the write point into the
 * schema (valid while it lives).
 */
int meru_row_decode_view(const meru_schema *s, const uint8_t *key,
                         size_t klen, const uint8_t *value, size_t vlen,
                         const meru_colset *proj, meru_value *vals,
                         meru_buf *scratch);
/* meru_row_decode_view with flags (MERU_ROWCODEC_SKIP_UNKNOWN). */
int meru_row_decode_view_ex(const meru_schema *s, const uint8_t *key,
                            size_t klen, const uint8_t *value, size_t vlen,
                            const meru_colset *proj, meru_value *vals,
                            meru_buf *scratch, unsigned flags);

#endif
