/* SPDX-License-Identifier: Apache-2.0 */
/*
 * writer_check.c — the Parquet writer's options and what it accepts: the
 * two profiles' defaults (pq_writer_options_row / _column, API in pq.h)
 * and the checks pq_writer_open makes of the options and of each column
 * spec (types, encodings, logical types and the converted types old
 * readers need), so a bad spec is refused with a message before any byte
 * is written.
 */
#include <stdbool.h>
#include <string.h>

#include "parquet/codec.h"
#include "parquet/pq.h"
#include "parquet/writer_int.h"
#include "util/error.h"

/* ------------------------------------------------------------ options */

static void options_common(pq_writer_options *o)
{
    memset(o, 0, sizeof *o);
    o->page_rows = 20000;
    o->page_index = true;
    o->page_crc = true;
    o->bloom_fpp = 0.01;
    o->bloom_max_bytes = 1u << 20;
    o->dict_page_size_limit = 1u << 20;
    o->column_index_truncate = 64;
    o->statistics_truncate = 64;
    /* LZ4 saves ~5 % on random letters (bench_kv's values) and costs the
     * changelog write and L0 flush more CPU than anything else of theirs;
     * zstd saves ~40 % there, and below 10 % a column is close to random
     * bytes for zstd too (bench/RESULTS.md, "The change feed's cost on
     * writes (issue 12, fifth pass)"). */
    o->codec_min_saving = 0.10;
}

void pq_writer_options_row(pq_writer_options *o)
{
    options_common(o);
    o->profile = PQ_PROFILE_ROW;
    o->page_size = 8 * 1024;
    /* A row group's pages stay in memory until it is complete: 8 MiB
     * bounds what a flush holds (one row group of a whole 64 MiB memtable
     * held all of its L0 file, ~25-60 MiB, beside the memtable). */
    o->row_group_bytes = 8ull << 20;
    o->codec = PQ_CODEC_UNCOMPRESSED;
    o->data_page_version = 1;
}

void pq_writer_options_column(pq_writer_options *o)
{
    options_common(o);
    o->profile = PQ_PROFILE_COLUMN;
    o->page_size = 64 * 1024;
    o->row_group_bytes = 64ull << 20;
    o->codec = PQ_CODEC_ZSTD;
    o->codec_level = 3;
    o->data_page_version = 2;
}

/* --------------------------------------------------------- validation */

size_t pqw_type_width(const pq_column_spec *s)
{
    if (s->type == PQ_BYTE_ARRAY)
        return 0;
    if (s->type == PQ_FIXED_LEN_BYTE_ARRAY)
        return (size_t)s->type_length;
    return pq_value_width(s->type);
}

static bool encoding_fits(pq_type t, pq_encoding e)
{
    switch (e) {
    case PQ_ENC_PLAIN:
        return true;
    case PQ_ENC_RLE:
        return t == PQ_BOOLEAN;
    case PQ_ENC_DELTA_BINARY_PACKED:
        return t == PQ_INT32 || t == PQ_INT64;
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        return t == PQ_BYTE_ARRAY;
    case PQ_ENC_DELTA_BYTE_ARRAY:
        return t == PQ_BYTE_ARRAY || t == PQ_FIXED_LEN_BYTE_ARRAY;
    case PQ_ENC_BYTE_STREAM_SPLIT:
        return t == PQ_FLOAT || t == PQ_DOUBLE || t == PQ_INT32 ||
               t == PQ_INT64 || t == PQ_FIXED_LEN_BYTE_ARRAY;
    default:
        return false;
    }
}

static int32_t decimal_max_precision(int32_t len)
{
    /* digits that fit in `len` bytes of two's complement */
    if (len <= 0)
        return 0;
    double bits = 8.0 * len - 1;
    int32_t p = (int32_t)(bits * 0.30102999566398120);
    return p > 38 ? (len >= 16 ? p : 38) : p;
}

static int check_logical(const pq_column_spec *s)
{
    const pq_logical_type *l = &s->logical;
    pq_type t = s->type;
    bool ok = true;
    switch (l->kind) {
    case PQ_LT_NONE:
        break;
    case PQ_LT_STRING:
    case PQ_LT_JSON:
    case PQ_LT_BSON:
    case PQ_LT_ENUM:
        ok = t == PQ_BYTE_ARRAY;
        break;
    case PQ_LT_UUID:
        ok = t == PQ_FIXED_LEN_BYTE_ARRAY && s->type_length == 16;
        break;
    case PQ_LT_DATE:
        ok = t == PQ_INT32;
        break;
    case PQ_LT_TIMESTAMP:
        ok = t == PQ_INT64 && l->unit >= PQ_UNIT_MILLIS &&
             l->unit <= PQ_UNIT_NANOS;
        break;
    case PQ_LT_TIME:
        ok = (l->unit == PQ_UNIT_MILLIS && t == PQ_INT32) ||
             ((l->unit == PQ_UNIT_MICROS || l->unit == PQ_UNIT_NANOS) &&
              t == PQ_INT64);
        break;
    case PQ_LT_INTEGER:
        ok = (t == PQ_INT32 &&
              (l->int_bit_width == 8 || l->int_bit_width == 16 ||
               l->int_bit_width == 32)) ||
             (t == PQ_INT64 && l->int_bit_width == 64);
        break;
    case PQ_LT_DECIMAL: {
        int32_t p = l->decimal_precision, sc = l->decimal_scale;
        ok = p >= 1 && sc >= 0 && sc <= p;
        if (t == PQ_INT32)
            ok = ok && p <= 9;
        else if (t == PQ_INT64)
            ok = ok && p <= 18;
        else if (t == PQ_FIXED_LEN_BYTE_ARRAY)
            ok = ok && p <= decimal_max_precision(s->type_length);
        else if (t != PQ_BYTE_ARRAY)
            ok = false;
        break;
    }
    default:
        ok = false;
    }
    if (!ok)
        return meru_err(MERU_EINVAL,
                        "parquet writer: column %s: logical type %d does not "
                        "fit physical type %s",
                        s->name, (int)l->kind, pq_type_name(t));
    return MERU_OK;
}

/* Converted type for old readers, or -1. */
int pqw_converted_of(const pq_column_spec *s)
{
    const pq_logical_type *l = &s->logical;
    switch (l->kind) {
    case PQ_LT_STRING:
        return PQ_CT_UTF8;
    case PQ_LT_JSON:
        return PQ_CT_JSON;
    case PQ_LT_BSON:
        return PQ_CT_BSON;
    case PQ_LT_ENUM:
        return PQ_CT_ENUM;
    case PQ_LT_DATE:
        return PQ_CT_DATE;
    case PQ_LT_DECIMAL:
        return PQ_CT_DECIMAL;
    case PQ_LT_TIMESTAMP:
        /* converted types mean UTC-adjusted; none exists for NANOS */
        if (!l->is_adjusted_to_utc)
            return -1;
        return l->unit == PQ_UNIT_MILLIS   ? PQ_CT_TIMESTAMP_MILLIS
               : l->unit == PQ_UNIT_MICROS ? PQ_CT_TIMESTAMP_MICROS
                                           : -1;
    case PQ_LT_TIME:
        if (!l->is_adjusted_to_utc)
            return -1;
        return l->unit == PQ_UNIT_MILLIS   ? PQ_CT_TIME_MILLIS
               : l->unit == PQ_UNIT_MICROS ? PQ_CT_TIME_MICROS
                                           : -1;
    case PQ_LT_INTEGER: {
        static const int s8[] = {PQ_CT_INT_8, PQ_CT_INT_16, PQ_CT_INT_32,
                                 PQ_CT_INT_64};
        static const int u8[] = {PQ_CT_UINT_8, PQ_CT_UINT_16, PQ_CT_UINT_32,
                                 PQ_CT_UINT_64};
        int i = l->int_bit_width == 8    ? 0
                : l->int_bit_width == 16 ? 1
                : l->int_bit_width == 32 ? 2
                                         : 3;
        return l->int_is_signed ? s8[i] : u8[i];
    }
    default:
        return -1;
    }
}

int pqw_check_spec(const pq_column_spec *s, uint32_t i)
{
    if (!s->name || !*s->name)
        return meru_err(MERU_EINVAL, "parquet writer: column %u has no name",
                        i);
    if ((unsigned)s->type > PQ_FIXED_LEN_BYTE_ARRAY)
        return meru_err(MERU_EINVAL,
                        "parquet writer: column %s: bad physical type %d",
                        s->name, (int)s->type);
    if (s->type == PQ_FIXED_LEN_BYTE_ARRAY &&
        (s->type_length <= 0 || s->type_length > 65535))
        return meru_err(MERU_EINVAL,
                        "parquet writer: column %s: FIXED_LEN_BYTE_ARRAY "
                        "length %d out of range 1..65535",
                        s->name, s->type_length);
    if (s->repetition != PQ_REQUIRED && s->repetition != PQ_OPTIONAL)
        return meru_err(MERU_EINVAL,
                        "parquet writer: column %s: only REQUIRED and "
                        "OPTIONAL columns can be written",
                        s->name);
    if (s->page_size > MAX_PAGE_SIZE)
        return meru_err(MERU_EINVAL,
                        "parquet writer: column %s: page_size %u out of "
                        "range 0..%u",
                        s->name, s->page_size, MAX_PAGE_SIZE);
    if (s->has_encoding) {
        pq_encoding e = s->encoding;
        bool dict = e == PQ_ENC_RLE_DICTIONARY || e == PQ_ENC_PLAIN_DICTIONARY;
        if (dict && (s->type == PQ_BOOLEAN || s->type == PQ_INT96))
            return meru_err(MERU_EINVAL,
                            "parquet writer: column %s: %s cannot be "
                            "dictionary-encoded",
                            s->name, pq_type_name(s->type));
        if (!dict && !encoding_fits(s->type, e))
            return meru_err(MERU_EINVAL,
                            "parquet writer: column %s: encoding %s does not "
                            "apply to %s",
                            s->name, pq_encoding_name(e),
                            pq_type_name(s->type));
        if (s->type == PQ_INT96 && e != PQ_ENC_PLAIN)
            return meru_err(MERU_EINVAL,
                            "parquet writer: column %s: INT96 is PLAIN only",
                            s->name);
    }
    if (s->dictionary == PQ_OPT_ON &&
        (s->type == PQ_BOOLEAN || s->type == PQ_INT96))
        return meru_err(MERU_EINVAL,
                        "parquet writer: column %s: %s cannot be "
                        "dictionary-encoded",
                        s->name, pq_type_name(s->type));
    if (s->bloom_filter && s->type == PQ_BOOLEAN)
        return meru_err(MERU_EINVAL,
                        "parquet writer: column %s: no bloom filter for "
                        "BOOLEAN",
                        s->name);
    return check_logical(s);
}

int pqw_check_options(const pq_writer_options *o)
{
    if (o->page_size == 0 || o->page_size > MAX_PAGE_SIZE)
        return meru_err(MERU_EINVAL,
                        "parquet writer: page_size %u out of range 1..%u",
                        o->page_size, MAX_PAGE_SIZE);
    if (o->data_page_version != 1 && o->data_page_version != 2)
        return meru_err(MERU_EINVAL,
                        "parquet writer: data_page_version must be 1 or 2");
    if (!pq_codec_supported(o->codec, true))
        return meru_err(MERU_ENOTSUP,
                        "parquet writer: codec %s cannot be written",
                        pq_codec_name(o->codec));
    if (!(o->codec_min_saving >= 0.0 && o->codec_min_saving < 1.0))
        return meru_err(MERU_EINVAL,
                        "parquet writer: codec_min_saving must be in [0, 1)");
    if (!(o->bloom_fpp > 0.0 && o->bloom_fpp < 1.0))
        return meru_err(MERU_EINVAL,
                        "parquet writer: bloom_fpp must be in (0, 1)");
    if (o->row_group_bytes == 0 && o->row_group_rows == 0)
        return meru_err(MERU_EINVAL,
                        "parquet writer: row group needs a byte or row "
                        "target");
    return MERU_OK;
}
