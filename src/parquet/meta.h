/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta.h — Parquet file metadata as C structs, and their Thrift compact
 * encode/decode (apache/parquet-format `parquet.thrift`).
 *
 * Only the fields merutable reads or writes are modelled; every other field
 * is skipped on decode, as the compact protocol requires. Names follow the
 * Thrift definitions (snake_case). An `has_*` flag marks each optional field.
 *
 * Memory: a decoded structure lives in a meru_arena owned by the caller; every
 * pointer inside it (strings, binary statistics, arrays) points into that
 * arena, so freeing the arena frees the whole tree at once. Decoders treat
 * the input as hostile: every length and count is checked against the bytes
 * left and against sane caps, nesting depth is bounded, and a failure
 * returns MERU_ECORRUPT with the structure and field named in meru_errmsg().
 * Encoders append to a meru_buf.
 */
#ifndef MERU_PARQUET_META_H
#define MERU_PARQUET_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/buf.h"

/* --------------------------------------------------------------- enums */

typedef enum pq_type {
    PQ_BOOLEAN = 0,
    PQ_INT32 = 1,
    PQ_INT64 = 2,
    PQ_INT96 = 3,
    PQ_FLOAT = 4,
    PQ_DOUBLE = 5,
    PQ_BYTE_ARRAY = 6,
    PQ_FIXED_LEN_BYTE_ARRAY = 7
} pq_type;

typedef enum pq_converted_type {
    PQ_CT_UTF8 = 0,
    PQ_CT_MAP = 1,
    PQ_CT_MAP_KEY_VALUE = 2,
    PQ_CT_LIST = 3,
    PQ_CT_ENUM = 4,
    PQ_CT_DECIMAL = 5,
    PQ_CT_DATE = 6,
    PQ_CT_TIME_MILLIS = 7,
    PQ_CT_TIME_MICROS = 8,
    PQ_CT_TIMESTAMP_MILLIS = 9,
    PQ_CT_TIMESTAMP_MICROS = 10,
    PQ_CT_UINT_8 = 11,
    PQ_CT_UINT_16 = 12,
    PQ_CT_UINT_32 = 13,
    PQ_CT_UINT_64 = 14,
    PQ_CT_INT_8 = 15,
    PQ_CT_INT_16 = 16,
    PQ_CT_INT_32 = 17,
    PQ_CT_INT_64 = 18,
    PQ_CT_JSON = 19,
    PQ_CT_BSON = 20,
    PQ_CT_INTERVAL = 21
} pq_converted_type;

typedef enum pq_repetition {
    PQ_REQUIRED = 0,
    PQ_OPTIONAL = 1,
    PQ_REPEATED = 2
} pq_repetition;

typedef enum pq_encoding {
    PQ_ENC_PLAIN = 0,
    PQ_ENC_PLAIN_DICTIONARY = 2,
    PQ_ENC_RLE = 3,
    PQ_ENC_BIT_PACKED = 4,
    PQ_ENC_DELTA_BINARY_PACKED = 5,
    PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    PQ_ENC_DELTA_BYTE_ARRAY = 7,
    PQ_ENC_RLE_DICTIONARY = 8,
    PQ_ENC_BYTE_STREAM_SPLIT = 9
} pq_encoding;

typedef enum pq_codec {
    PQ_CODEC_UNCOMPRESSED = 0,
    PQ_CODEC_SNAPPY = 1,
    PQ_CODEC_GZIP = 2,
    PQ_CODEC_LZO = 3,
    PQ_CODEC_BROTLI = 4,
    PQ_CODEC_LZ4 = 5, /* Hadoop-framed LZ4 (deprecated) */
    PQ_CODEC_ZSTD = 6,
    PQ_CODEC_LZ4_RAW = 7
} pq_codec;

typedef enum pq_page_type {
    PQ_PAGE_DATA = 0,
    PQ_PAGE_INDEX = 1,
    PQ_PAGE_DICTIONARY = 2,
    PQ_PAGE_DATA_V2 = 3
} pq_page_type;

typedef enum pq_boundary_order {
    PQ_BOUNDARY_UNORDERED = 0,
    PQ_BOUNDARY_ASCENDING = 1,
    PQ_BOUNDARY_DESCENDING = 2
} pq_boundary_order;

typedef enum pq_time_unit {
    PQ_UNIT_MILLIS = 1,
    PQ_UNIT_MICROS = 2,
    PQ_UNIT_NANOS = 3
} pq_time_unit;

/* LogicalType union member that is set (0 = none). */
typedef enum pq_logical_kind {
    PQ_LT_NONE = 0,
    PQ_LT_STRING = 1,
    PQ_LT_MAP = 2,
    PQ_LT_LIST = 3,
    PQ_LT_ENUM = 4,
    PQ_LT_DECIMAL = 5,
    PQ_LT_DATE = 6,
    PQ_LT_TIME = 7,
    PQ_LT_TIMESTAMP = 8,
    /* 9 is reserved in the spec */
    PQ_LT_INTEGER = 10,
    PQ_LT_UNKNOWN = 11, /* "NullType" */
    PQ_LT_JSON = 12,
    PQ_LT_BSON = 13,
    PQ_LT_UUID = 14,
    PQ_LT_FLOAT16 = 15,
    PQ_LT_OTHER = 255 /* a union member this code does not know */
} pq_logical_kind;

typedef struct pq_logical_type {
    pq_logical_kind kind;
    int32_t decimal_scale, decimal_precision; /* DECIMAL */
    bool is_adjusted_to_utc;                  /* TIME, TIMESTAMP */
    pq_time_unit unit;                        /* TIME, TIMESTAMP */
    int8_t int_bit_width;                     /* INTEGER */
    bool int_is_signed;                       /* INTEGER */
} pq_logical_type;

/* -------------------------------------------------------------- structs */

typedef struct pq_bytes {
    const uint8_t *ptr;
    uint32_t len;
} pq_bytes;

typedef struct pq_statistics {
    bool has_max, has_min, has_null_count, has_distinct_count;
    bool has_max_value, has_min_value;
    pq_bytes max, min; /* deprecated fields 1 and 2 (signed order) */
    int64_t null_count;
    int64_t distinct_count;
    pq_bytes max_value, min_value; /* fields 5 and 6 */
    bool has_is_max_value_exact, has_is_min_value_exact;
    bool is_max_value_exact, is_min_value_exact;
} pq_statistics;

typedef struct pq_schema_element {
    bool has_type, has_type_length, has_repetition, has_num_children;
    bool has_converted_type, has_scale, has_precision, has_field_id;
    pq_type type;
    int32_t type_length;
    pq_repetition repetition_type;
    const char *name; /* NUL-terminated copy in the arena */
    int32_t num_children;
    pq_converted_type converted_type;
    int32_t scale, precision;
    int32_t field_id;
    pq_logical_type logical_type; /* kind PQ_LT_NONE when absent */
} pq_schema_element;

typedef struct pq_key_value {
    const char *key;
    bool has_value;
    pq_bytes value; /* may contain any bytes */
} pq_key_value;

typedef struct pq_page_encoding_stats {
    pq_page_type page_type;
    pq_encoding encoding;
    int32_t count;
} pq_page_encoding_stats;

typedef struct pq_column_meta {
    pq_type type;
    pq_encoding *encodings;
    uint32_t n_encodings;
    const char **path_in_schema;
    uint32_t n_path;
    pq_codec codec;
    int64_t num_values;
    int64_t total_uncompressed_size;
    int64_t total_compressed_size;
    pq_key_value *key_value_metadata;
    uint32_t n_key_value_metadata;
    int64_t data_page_offset;
    bool has_index_page_offset, has_dictionary_page_offset;
    int64_t index_page_offset;
    int64_t dictionary_page_offset;
    bool has_statistics;
    pq_statistics statistics;
    pq_page_encoding_stats *encoding_stats;
    uint32_t n_encoding_stats;
    bool has_bloom_filter_offset, has_bloom_filter_length;
    int64_t bloom_filter_offset;
    int32_t bloom_filter_length;
} pq_column_meta;

typedef struct pq_column_chunk {
    const char *file_path; /* NULL when absent (data in this file) */
    int64_t file_offset;
    bool has_meta_data;
    pq_column_meta meta_data;
    bool has_offset_index, has_column_index;
    int64_t offset_index_offset;
    int32_t offset_index_length;
    int64_t column_index_offset;
    int32_t column_index_length;
} pq_column_chunk;

typedef struct pq_sorting_column {
    int32_t column_idx;
    bool descending;
    bool nulls_first;
} pq_sorting_column;

typedef struct pq_row_group {
    pq_column_chunk *columns;
    uint32_t n_columns;
    int64_t total_byte_size;
    int64_t num_rows;
    pq_sorting_column *sorting_columns;
    uint32_t n_sorting_columns;
    bool has_file_offset, has_total_compressed_size, has_ordinal;
    int64_t file_offset;
    int64_t total_compressed_size;
    int16_t ordinal;
} pq_row_group;

typedef struct pq_file_meta {
    int32_t version;
    pq_schema_element *schema;
    uint32_t n_schema;
    int64_t num_rows;
    pq_row_group *row_groups;
    uint32_t n_row_groups;
    pq_key_value *key_value_metadata;
    uint32_t n_key_value_metadata;
    const char *created_by; /* NULL when absent */
    /* column_orders: true when the file declares TypeDefinedOrder for every
     * column (the writer always does); readers use it to trust min_value /
     * max_value. */
    bool has_column_orders;
    uint32_t n_column_orders;
} pq_file_meta;

typedef struct pq_data_page_header {
    int32_t num_values;
    pq_encoding encoding;
    pq_encoding definition_level_encoding;
    pq_encoding repetition_level_encoding;
    bool has_statistics;
    pq_statistics statistics;
} pq_data_page_header;

typedef struct pq_dictionary_page_header {
    int32_t num_values;
    pq_encoding encoding;
    bool has_is_sorted;
    bool is_sorted;
} pq_dictionary_page_header;

typedef struct pq_data_page_header_v2 {
    int32_t num_values;
    int32_t num_nulls;
    int32_t num_rows;
    pq_encoding encoding;
    int32_t definition_levels_byte_length;
    int32_t repetition_levels_byte_length;
    bool is_compressed; /* default true when absent */
    bool has_statistics;
    pq_statistics statistics;
} pq_data_page_header_v2;

typedef struct pq_page_header {
    pq_page_type type;
    int32_t uncompressed_page_size;
    int32_t compressed_page_size;
    bool has_crc;
    int32_t crc; /* CRC-32 (zlib polynomial) of the page data after the header */
    bool has_data_page_header, has_dictionary_page_header;
    bool has_data_page_header_v2;
    pq_data_page_header data_page_header;
    pq_dictionary_page_header dictionary_page_header;
    pq_data_page_header_v2 data_page_header_v2;
} pq_page_header;

typedef struct pq_column_index {
    bool *null_pages;
    uint32_t n_pages; /* length of null_pages, min_values, max_values */
    pq_bytes *min_values;
    pq_bytes *max_values;
    pq_boundary_order boundary_order;
    int64_t *null_counts; /* NULL when absent, else n_pages entries */
} pq_column_index;

typedef struct pq_page_location {
    int64_t offset;
    int32_t compressed_page_size;
    int64_t first_row_index;
} pq_page_location;

typedef struct pq_offset_index {
    pq_page_location *page_locations;
    uint32_t n_pages;
} pq_offset_index;

typedef struct pq_bloom_filter_header {
    int32_t num_bytes;
    /* algorithm BLOCK, hash XXHASH, compression UNCOMPRESSED are the only
     * members the spec defines; decode fails on anything else. */
} pq_bloom_filter_header;

/* --------------------------------------------------------- encode/decode */

/*
 * Decoders: parse one struct from (p, len); *consumed (when not NULL)
 * receives the bytes used (page headers and bloom headers are followed by
 * data, so callers need it). Allocations come from `arena`; nothing in *out
 * points into `p`. Returns MERU_ECORRUPT on malformed input (*out is then
 * unspecified); pq_decode_bloom_header returns MERU_ENOTSUP for a valid
 * header naming another algorithm, hash or compression. Normalisations a
 * reader can rely on (details in meta.c):
 *   - a negative Statistics.null_count / distinct_count reads as absent,
 *     and a ColumnIndex.null_counts list holding a negative entry as NULL
 *     (parquet-mr writes -1 for "unknown");
 *   - has_offset_index / has_column_index need both offset and length;
 *   - a page header of type DATA_PAGE / DICTIONARY_PAGE / DATA_PAGE_V2 has
 *     its matching *_header; v2 level lengths fit in the page sizes;
 *   - physical types are within 0..7; other enums are kept as found.
 */
int pq_decode_file_meta(const uint8_t *p, size_t len, meru_arena *arena,
                        pq_file_meta *out);
int pq_decode_page_header(const uint8_t *p, size_t len, meru_arena *arena,
                          pq_page_header *out, size_t *consumed);
int pq_decode_column_index(const uint8_t *p, size_t len, meru_arena *arena,
                           pq_column_index *out);
int pq_decode_offset_index(const uint8_t *p, size_t len, meru_arena *arena,
                           pq_offset_index *out);
int pq_decode_bloom_header(const uint8_t *p, size_t len,
                           pq_bloom_filter_header *out, size_t *consumed);

/* Encoders: append the compact-protocol struct to `out`. Only fields whose
 * has_* flag is set (or that are required) are written; optional lists only
 * when non-empty. pq_encode_file_meta always writes column_orders with
 * TypeDefinedOrder: n_column_orders entries when has_column_orders is set,
 * else one per schema element (after the root) that has a type. On failure
 * (MERU_EINVAL for a NULL required string or array, or a logical type of
 * kind PQ_LT_OTHER) `out` is left at its length on entry. */
int pq_encode_file_meta(meru_buf *out, const pq_file_meta *m);
int pq_encode_page_header(meru_buf *out, const pq_page_header *h);
int pq_encode_column_index(meru_buf *out, const pq_column_index *ci);
int pq_encode_offset_index(meru_buf *out, const pq_offset_index *oi);
int pq_encode_bloom_header(meru_buf *out, const pq_bloom_filter_header *h);

/* Names for inspect output and error messages ("PLAIN", "ZSTD", ...). */
const char *pq_type_name(pq_type t);
const char *pq_encoding_name(pq_encoding e);
const char *pq_codec_name(pq_codec c);
const char *pq_page_type_name(pq_page_type t);
const char *pq_converted_type_name(pq_converted_type t);

#endif
