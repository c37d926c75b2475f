/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta_names.c — printable names of the Parquet enums (meta.h), spelled as
 * in parquet.thrift, for `meru parquet inspect` and error messages.
 *
 * Decoded metadata may hold values newer than this code (meta.c keeps them),
 * so every function answers "UNKNOWN" for a value it does not know instead
 * of indexing out of a table.
 */
#include "parquet/meta.h"

#define NAME_OF(table, v)                                                      \
    ((v) >= 0 && (size_t)(v) < sizeof table / sizeof table[0] && table[v]      \
         ? table[v]                                                            \
         : "UNKNOWN")

const char *pq_type_name(pq_type t)
{
    static const char *const names[] = {
        "BOOLEAN", "INT32",  "INT64",      "INT96",
        "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    int v = (int)t;
    return NAME_OF(names, v);
}

const char *pq_encoding_name(pq_encoding e)
{
    static const char *const names[] = {"PLAIN",
                                        NULL, /* GROUP_VAR_INT, never used */
                                        "PLAIN_DICTIONARY",
                                        "RLE",
                                        "BIT_PACKED",
                                        "DELTA_BINARY_PACKED",
                                        "DELTA_LENGTH_BYTE_ARRAY",
                                        "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY",
                                        "BYTE_STREAM_SPLIT"};
    int v = (int)e;
    return NAME_OF(names, v);
}

const char *pq_codec_name(pq_codec c)
{
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP",
                                        "LZO",          "BROTLI", "LZ4",
                                        "ZSTD",         "LZ4_RAW"};
    int v = (int)c;
    return NAME_OF(names, v);
}

const char *pq_page_type_name(pq_page_type t)
{
    static const char *const names[] = {"DATA_PAGE", "INDEX_PAGE",
                                        "DICTIONARY_PAGE", "DATA_PAGE_V2"};
    int v = (int)t;
    return NAME_OF(names, v);
}

const char *pq_converted_type_name(pq_converted_type t)
{
    static const char *const names[] = {"UTF8",
                                        "MAP",
                                        "MAP_KEY_VALUE",
                                        "LIST",
                                        "ENUM",
                                        "DECIMAL",
                                        "DATE",
                                        "TIME_MILLIS",
                                        "TIME_MICROS",
                                        "TIMESTAMP_MILLIS",
                                        "TIMESTAMP_MICROS",
                                        "UINT_8",
                                        "UINT_16",
                                        "UINT_32",
                                        "UINT_64",
                                        "INT_8",
                                        "INT_16",
                                        "INT_32",
                                        "INT_64",
                                        "JSON",
                                        "BSON",
                                        "INTERVAL"};
    int v = (int)t;
    return NAME_OF(names, v);
}
