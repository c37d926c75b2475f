/* SPDX-License-Identifier: Apache-2.0 */
/*
 * encoding.h — Parquet value and level encodings (the "Encodings" page of
 * apache/parquet-format), both directions.
 *
 * Decoders take (p, len), never read outside it, and fail with
 * MERU_ECORRUPT (message naming the encoding and what was wrong) when the
 * input is too short, a header is impossible, or a count does not match.
 * They decode exactly `n` values into caller-provided flat arrays (no
 * per-value malloc). Byte-array decoders return pq_bytes pointing into the
 * input (or into `storage` where values must be materialised).
 * Encoders append to a meru_buf.
 */
#ifndef MERU_PARQUET_ENCODING_H
#define MERU_PARQUET_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parquet/meta.h"
#include "util/buf.h"

/* Bits needed for values 0..max (0 for max == 0). */
int pq_bit_width(uint64_t max);

/* ---- RLE / bit-packed hybrid (levels, booleans, dictionary indices) ---- */

/* Encodes n values of `bit_width` bits (0..32), no length prefix. */
int pq_rle_encode(meru_buf *out, const uint32_t *vals, size_t n,
                  int bit_width);
/* Decodes exactly n values; *consumed (if not NULL) gets the bytes used.
 * Values wider than bit_width cannot occur (an RLE run value that is wider
 * is MERU_ECORRUPT); padding values in the last bit-packed run are skipped,
 * and that run's zero padding may even be cut short by the input's end. */
int pq_rle_decode(const uint8_t *p, size_t len, int bit_width, uint32_t *out,
                  size_t n, size_t *consumed);

/* ---- PLAIN ---- */

/* BOOLEAN: bit-packed, LSB first. Any nonzero vals[i] is true; decoded
 * out[i] is 0 or 1. */
int pq_plain_encode_bool(meru_buf *out, const uint8_t *vals, size_t n);
int pq_plain_decode_bool(const uint8_t *p, size_t len, uint8_t *out, size_t n,
                         size_t *consumed);
/* Fixed-width little-endian values (INT32 4, INT64 8, INT96 12, FLOAT 4,
 * DOUBLE 8, FIXED_LEN_BYTE_ARRAY width): copies n * width bytes. */
int pq_plain_decode_fixed(const uint8_t *p, size_t len, size_t width,
                          void *out, size_t n, size_t *consumed);
/* BYTE_ARRAY: 4-byte little-endian length + bytes. out[] points into p. */
int pq_plain_encode_bytes(meru_buf *out, const pq_bytes *vals, size_t n);
int pq_plain_decode_bytes(const uint8_t *p, size_t len, pq_bytes *out,
                          size_t n, size_t *consumed);
/* BYTE_ARRAY in place: the n PLAIN values in p[0, len) (each a 4-byte
 * length, then its bytes) become their bytes alone, back to back from
 * p[0]; offs[i] is where value i starts and offs[n] where the last ends
 * (len - 4n). For a reader keeping a page as offsets and bytes (a point
 * read's page cache): the page is decompressed straight into its final
 * memory and needs no pq_bytes array, no second buffer and no copy. Each
 * value moves 4 (i + 1) bytes towards the front, over lengths already
 * read. Lengths that overrun len, or values that do not fill it exactly,
 * are MERU_ECORRUPT (p is then scrambled). */
int pq_plain_compact_bytes(uint8_t *p, size_t len, size_t n, uint32_t *offs);
/* FIXED_LEN_BYTE_ARRAY as pq_bytes views (each `width` long) into p. */
int pq_plain_decode_flba(const uint8_t *p, size_t len, uint32_t width,
                         pq_bytes *out, size_t n, size_t *consumed);

/* ---- DELTA_BINARY_PACKED (INT32 and INT64) ---- */

int pq_delta_encode_i64(meru_buf *out, const int64_t *vals, size_t n);
int pq_delta_encode_i32(meru_buf *out, const int32_t *vals, size_t n);
/* Decodes exactly n values. The header's total value count must equal n,
 * else MERU_ECORRUPT (for a v1 data page with nulls the caller passes the
 * number of non-null values); n == 0 with empty input is accepted.
 * Arithmetic wraps around as the spec requires; INT32 values are the low 32
 * bits of the sums, so 32-bit and 64-bit writers' deltas both read right.
 * *consumed ends after the last miniblock that holds a value. */
int pq_delta_decode_i64(const uint8_t *p, size_t len, int64_t *out, size_t n,
                        size_t *consumed);
int pq_delta_decode_i32(const uint8_t *p, size_t len, int32_t *out, size_t n,
                        size_t *consumed);

/* ---- DELTA_LENGTH_BYTE_ARRAY ---- */

int pq_delta_length_encode(meru_buf *out, const pq_bytes *vals, size_t n);
/* out[] points into p. */
int pq_delta_length_decode(const uint8_t *p, size_t len, pq_bytes *out,
                           size_t n, size_t *consumed);

/* ---- DELTA_BYTE_ARRAY (incremental / front coding) ---- */

int pq_delta_bytes_encode(meru_buf *out, const pq_bytes *vals, size_t n);
/* Values are rebuilt into `storage` (appended; it is grown once, up front,
 * so out[] pointers stay valid until `storage` is next modified). Each
 * prefix length must not exceed the previous value's length; more than
 * 1 GiB of rebuilt values is MERU_ERANGE. */
int pq_delta_bytes_decode(const uint8_t *p, size_t len, pq_bytes *out,
                          size_t n, meru_buf *storage, size_t *consumed);

/* ---- BYTE_STREAM_SPLIT (any fixed width: FLOAT, DOUBLE, INT32, INT64,
 *      FIXED_LEN_BYTE_ARRAY) ---- */

int pq_bss_encode(meru_buf *out, const void *vals, size_t n, size_t width);
/* The input must be exactly n * width bytes. */
int pq_bss_decode(const uint8_t *p, size_t len, size_t width, void *out,
                  size_t n);

/* ---- dictionary (PLAIN_DICTIONARY / RLE_DICTIONARY) ---- */

/*
 * A dictionary builder: maps distinct values to indexes 0..count-1 in
 * insertion order (hash table; values copied). For fixed-width types
 * `len` must equal the width and `value` is the PLAIN (little-endian) bytes,
 * i.e. the host value on little-endian machines. BOOLEAN is not supported:
 * booleans are never dictionary-encoded. Values compare by their bytes.
 */
typedef struct pq_dict pq_dict;
int pq_dict_new(pq_dict **out, pq_type type, int32_t type_length);
void pq_dict_free(pq_dict *d);
void pq_dict_reset(pq_dict *d);
int pq_dict_insert(pq_dict *d, const void *value, uint32_t len,
                   uint32_t *index);
uint32_t pq_dict_count(const pq_dict *d);
/* Size of the dictionary page body in PLAIN encoding. */
size_t pq_dict_plain_bytes(const pq_dict *d);
/* Appends the PLAIN-encoded dictionary page body. */
int pq_dict_write_plain(const pq_dict *d, meru_buf *out);

/* Data-page body of indexes: 1-byte bit width + RLE hybrid. */
int pq_dict_indices_encode(meru_buf *out, const uint32_t *idx, size_t n,
                           uint32_t dict_count);
/* Every decoded index is checked to be < dict_count. */
int pq_dict_indices_decode(const uint8_t *p, size_t len, uint32_t *idx,
                           size_t n, uint32_t dict_count);

#endif
