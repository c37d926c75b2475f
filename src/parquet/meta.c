/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta.c — decoders for the Parquet metadata structs (see meta.h), on top of
 * the compact-protocol reader in thrift.c: the decoding machinery every
 * struct shares (declared in meta_dec.h), Statistics, and FileMetaData with
 * everything in it. The structs a reader meets page by page (PageHeader,
 * ColumnIndex, OffsetIndex, BloomFilterHeader) are in meta_page.c, the
 * encoders in meta_encode.c, enum names in meta_names.c. The rules below
 * hold for the decoders of both files.
 *
 * One driver, md_dec_struct(), reads the field headers of any struct. Each
 * struct has a table giving, per field id, its IDL name, wire type and
 * whether it is required, and a small function that stores one field. The
 * rules therefore hold the same way everywhere:
 *
 *   - Unknown field ids are skipped (forward compatibility). So is a known
 *     id arriving with another wire type, as Thrift-generated readers do:
 *     such files exist (dict-page-offset-zero.parquet has a list in
 *     ColumnMetaData field 15, an i32 in the IDL). A required field skipped
 *     that way is then reported missing.
 *   - Required fields are checked at the struct's stop byte; a missing one
 *     is MERU_ECORRUPT naming struct and field.
 *   - Sizes, counts and offsets that cannot be negative are rejected when
 *     negative. Null counts are the exception: parquet-mr writes -1 for
 *     "unknown" (the datapage_v1-*-checksum.parquet column indexes), so a
 *     negative Statistics.null_count / distinct_count is dropped (has_* =
 *     false) and a ColumnIndex.null_counts list holding one is dropped
 *     (NULL): absent is exactly what "unknown" means to a reader.
 *   - Enums: a physical type outside 0..7 is rejected (a reader would
 *     mis-size every value); a repetition type outside 0..3 is rejected
 *     (3 = VECTOR is kept: it is valid, and a reader refuses it as
 *     unsupported). Encodings, codecs, page types, converted types and
 *     boundary orders are kept whatever their value: consumers switch over
 *     the values they know and report the rest as unsupported, which is the
 *     honest answer for a newer writer. An unknown LogicalType member
 *     becomes PQ_LT_OTHER, and so does TIME/TIMESTAMP with an unknown unit.
 *   - Every element count is checked against the bytes left before its
 *     array is allocated (thrift.c, plus a larger per-element minimum for
 *     structs with required fields), so the decoded size stays within a
 *     few hundred times the input size whatever the input says.
 *
 * Strings are copied NUL-terminated into the arena and binaries copied too:
 * the decoded tree never points into the input, so the caller may free the
 * input as soon as the decoder returns. On failure *out is unspecified
 * (partly filled) and must not be used.
 *
 * Error messages are built inside out: the place that finds the problem
 * states it with the offset, and each enclosing struct prepends
 * "Struct.field[index]", e.g. "FileMetaData.row_groups[0]:
 * RowGroup.columns[3]: ColumnChunk.meta_data: ColumnMetaData.num_values:
 * negative (-1) at offset 812".
 */
#include "parquet/meta.h"

#include <string.h>

#include "parquet/meta_dec.h"
#include "parquet/thrift.h"
#include "util/error.h"

/* ------------------------------------------------------------- driver */

int md_dec_struct(md_dec *d, const char *st, const md_fdesc *f, size_t nf,
                  md_field_fn fn, void *obj)
{
    int16_t last = 0, id;
    int t, rc;
    uint32_t seen = 0; /* tables have fewer than 32 entries */
    long outer_idx = d->idx;
    for (;;) {
        id = 0;
        d->idx = -1;
        rc = tc_read_field(&d->r, &last, &t, &id);
        if (rc) {
            rc = meru_err_wrap(rc, "%s", st);
            goto out;
        }
        if (t == TC_STOP)
            break;
        bool known = id > 0 && (size_t)id < nf && f[id].name &&
                     (f[id].type == TC_TRUE ? tc_is_bool(t) : t == f[id].type);
        rc = known ? fn(d, obj, id, t) : tc_skip(&d->r, t);
        if (rc) {
            if (!known)
                rc = meru_err_wrap(rc, "%s field %d", st, (int)id);
            else if (d->idx >= 0)
                rc = meru_err_wrap(rc, "%s.%s[%ld]", st, f[id].name, d->idx);
            else
                rc = meru_err_wrap(rc, "%s.%s", st, f[id].name);
            goto out;
        }
        if (known)
            seen |= 1u << id;
    }
    for (size_t i = 1; i < nf; i++) {
        if (f[i].required && !(seen & (1u << i))) {
            rc = meru_err(MERU_ECORRUPT,
                          "%s: required field %s missing (struct ends at "
                          "offset %zu)",
                          st, f[i].name, d->r.pos);
            goto out;
        }
    }
out:
    d->idx = outer_idx;
    return rc;
}

/* ------------------------------------------------------------ helpers */

int md_corrupt_value(const md_dec *d, const char *what, long long v)
{
    return meru_err(MERU_ECORRUPT, "%s (%lld) at offset %zu", what, v,
                    d->r.pos);
}

int md_rd_i32_nonneg(md_dec *d, int32_t *out)
{
    int rc = tc_read_i32(&d->r, out);
    if (!rc && *out < 0)
        rc = md_corrupt_value(d, "negative", *out);
    return rc;
}

int md_rd_i64_nonneg(md_dec *d, int64_t *out)
{
    int rc = tc_read_i64(&d->r, out);
    if (!rc && *out < 0)
        rc = md_corrupt_value(d, "negative", (long long)*out);
    return rc;
}

int md_rd_enum(md_dec *d, int *out)
{
    int32_t v = 0;
    int rc = tc_read_i32(&d->r, &v);
    *out = v;
    return rc;
}

int md_rd_bytes(md_dec *d, pq_bytes *out)
{
    const uint8_t *p;
    uint32_t n;
    int rc = tc_read_binary(&d->r, &p, &n);
    if (rc)
        return rc;
    uint8_t *copy = meru_arena_dup(d->a, p, n);
    if (!copy)
        return MERU_ENOMEM;
    out->ptr = copy;
    out->len = n;
    return MERU_OK;
}

static int rd_str(md_dec *d, const char **out)
{
    const uint8_t *p;
    uint32_t n;
    int rc = tc_read_binary(&d->r, &p, &n);
    if (rc)
        return rc;
    char *s = meru_arena_strndup(d->a, (const char *)p, n);
    if (!s)
        return MERU_ENOMEM;
    *out = s;
    return MERU_OK;
}

static const char *wire_name(int t)
{
    static const char *const names[] = {
        "stop",   "bool",   "bool", "i8",  "i16", "i32",    "i64",
        "double", "binary", "list", "set", "map", "struct", "uuid"};
    return t >= 0 && t <= TC_UUID ? names[t] : "invalid";
}

/* List header (the field's wire type is already TC_LIST) with elements of
 * type `want`, each at least min_bytes long; allocates a zeroed array of n
 * elements of `size` bytes (NULL when n == 0). */
int md_rd_list(md_dec *d, int want, size_t min_bytes, size_t size, void **arr,
               uint32_t *n)
{
    *arr = NULL;
    *n = 0;
    int et;
    uint32_t count;
    int rc = tc_read_list(&d->r, &et, &count);
    if (rc || count == 0)
        return rc;
    if (et != want)
        return meru_err(MERU_ECORRUPT,
                        "list of %s where %s elements were expected "
                        "(offset %zu)",
                        wire_name(et), wire_name(want), d->r.pos);
    rc = tc_check_count(&d->r, count, min_bytes, "list");
    if (rc)
        return rc;
    if (count > SIZE_MAX / size)
        return meru_err(MERU_ECORRUPT, "list of %u elements is too large",
                        count);
    *arr = meru_arena_zalloc(d->a, (size_t)count * size);
    if (!*arr)
        return MERU_ENOMEM;
    *n = count;
    return MERU_OK;
}

/* list<struct>: header, array, then each element, with d->idx naming the
 * element for error messages. */
int md_rd_struct_list(md_dec *d, size_t min_bytes, size_t size, md_elem_fn fn,
                      void **arr, uint32_t *n)
{
    int rc = md_rd_list(d, TC_STRUCT, min_bytes, size, arr, n);
    for (uint32_t i = 0; !rc && i < *n; i++) {
        d->idx = i;
        rc = fn(d, (char *)*arr + (size_t)i * size);
    }
    if (!rc)
        d->idx = -1;
    return rc;
}

/* --------------------------------------------------------- Statistics */

static const md_fdesc STATS_F[] = {{0},
                                   {"max", TC_BINARY, false},
                                   {"min", TC_BINARY, false},
                                   {"null_count", TC_I64, false},
                                   {"distinct_count", TC_I64, false},
                                   {"max_value", TC_BINARY, false},
                                   {"min_value", TC_BINARY, false},
                                   {"is_max_value_exact", TC_TRUE, false},
                                   {"is_min_value_exact", TC_TRUE, false}};

static int stats_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_statistics *s = obj;
    switch (id) {
    case 1:
        s->has_max = true;
        return md_rd_bytes(d, &s->max);
    case 2:
        s->has_min = true;
        return md_rd_bytes(d, &s->min);
    case 3:
        s->has_null_count = true;
        return tc_read_i64(&d->r, &s->null_count);
    case 4:
        s->has_distinct_count = true;
        return tc_read_i64(&d->r, &s->distinct_count);
    case 5:
        s->has_max_value = true;
        return md_rd_bytes(d, &s->max_value);
    case 6:
        s->has_min_value = true;
        return md_rd_bytes(d, &s->min_value);
    case 7:
        s->has_is_max_value_exact = true;
        s->is_max_value_exact = t == TC_TRUE;
        return MERU_OK;
    default: /* 8 */
        s->has_is_min_value_exact = true;
        s->is_min_value_exact = t == TC_TRUE;
        return MERU_OK;
    }
}

int md_dec_statistics(md_dec *d, pq_statistics *s)
{
    memset(s, 0, sizeof *s);
    int rc = md_dec_struct(d, "Statistics", STATS_F, MD_NFIELDS(STATS_F),
                           stats_field, s);
    /* -1 is some writers' "unknown"; unknown is what absent means. */
    if (s->null_count < 0)
        s->has_null_count = false;
    if (s->distinct_count < 0)
        s->has_distinct_count = false;
    return rc;
}

/* -------------------------------------------------------- LogicalType */

static const md_fdesc DECIMAL_F[] = {
    {0}, {"scale", TC_I32, true}, {"precision", TC_I32, true}};

static int decimal_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_logical_type *lt = obj;
    return tc_read_i32(&d->r,
                       id == 1 ? &lt->decimal_scale : &lt->decimal_precision);
}

static const md_fdesc UNIT_F[] = {{0},
                                  {"MILLIS", TC_STRUCT, false},
                                  {"MICROS", TC_STRUCT, false},
                                  {"NANOS", TC_STRUCT, false}};

static int unit_field(md_dec *d, void *obj, int16_t id, int t)
{
    *(pq_time_unit *)obj = (pq_time_unit)id;
    return tc_skip(&d->r, t); /* an empty struct */
}

static const md_fdesc TIME_F[] = {
    {0}, {"isAdjustedToUTC", TC_TRUE, true}, {"unit", TC_STRUCT, true}};

static int time_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_logical_type *lt = obj;
    if (id == 1) {
        lt->is_adjusted_to_utc = t == TC_TRUE;
        return MERU_OK;
    }
    lt->unit = 0; /* stays 0 when no member is known */
    return md_dec_struct(d, "TimeUnit", UNIT_F, MD_NFIELDS(UNIT_F), unit_field,
                         &lt->unit);
}

static const md_fdesc INT_F[] = {
    {0}, {"bitWidth", TC_I8, true}, {"isSigned", TC_TRUE, true}};

static int int_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_logical_type *lt = obj;
    if (id == 1)
        return tc_read_i8(&d->r, &lt->int_bit_width);
    lt->int_is_signed = t == TC_TRUE;
    return MERU_OK;
}

static const md_fdesc LT_F[] = {{0},
                                {"STRING", TC_STRUCT, false},
                                {"MAP", TC_STRUCT, false},
                                {"LIST", TC_STRUCT, false},
                                {"ENUM", TC_STRUCT, false},
                                {"DECIMAL", TC_STRUCT, false},
                                {"DATE", TC_STRUCT, false},
                                {"TIME", TC_STRUCT, false},
                                {"TIMESTAMP", TC_STRUCT, false},
                                {0}, /* 9: reserved for INTERVAL */
                                {"INTEGER", TC_STRUCT, false},
                                {"UNKNOWN", TC_STRUCT, false},
                                {"JSON", TC_STRUCT, false},
                                {"BSON", TC_STRUCT, false},
                                {"UUID", TC_STRUCT, false},
                                {"FLOAT16", TC_STRUCT, false}};

static int lt_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_logical_type *lt = obj;
    int rc;
    lt->kind = (pq_logical_kind)id;
    switch (id) {
    case PQ_LT_DECIMAL:
        return md_dec_struct(d, "DecimalType", DECIMAL_F, MD_NFIELDS(DECIMAL_F),
                             decimal_field, lt);
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        rc = md_dec_struct(d, id == PQ_LT_TIME ? "TimeType" : "TimestampType",
                           TIME_F, MD_NFIELDS(TIME_F), time_field, lt);
        if (!rc && lt->unit == 0)
            lt->kind = PQ_LT_OTHER; /* a unit newer than this code */
        return rc;
    case PQ_LT_INTEGER:
        return md_dec_struct(d, "IntType", INT_F, MD_NFIELDS(INT_F), int_field,
                             lt);
    default:
        return tc_skip(&d->r, t); /* an empty struct */
    }
}

/* LogicalType union: the member present sets `kind`. An empty union, or
 * one holding only members this code does not know, is PQ_LT_OTHER. */
static int dec_logical_type(md_dec *d, pq_logical_type *lt)
{
    memset(lt, 0, sizeof *lt);
    lt->kind = PQ_LT_OTHER;
    return md_dec_struct(d, "LogicalType", LT_F, MD_NFIELDS(LT_F), lt_field,
                         lt);
}

/* ------------------------------------------------------ SchemaElement */

static const md_fdesc SE_F[] = {{0},
                                {"type", TC_I32, false},
                                {"type_length", TC_I32, false},
                                {"repetition_type", TC_I32, false},
                                {"name", TC_BINARY, true},
                                {"num_children", TC_I32, false},
                                {"converted_type", TC_I32, false},
                                {"scale", TC_I32, false},
                                {"precision", TC_I32, false},
                                {"field_id", TC_I32, false},
                                {"logicalType", TC_STRUCT, false}};

static int se_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_schema_element *e = obj;
    int v, rc;
    switch (id) {
    case 1:
        e->has_type = true;
        rc = md_rd_enum(d, &v);
        if (!rc && (v < PQ_BOOLEAN || v > PQ_FIXED_LEN_BYTE_ARRAY))
            rc = md_corrupt_value(d, "unknown physical type", v);
        e->type = (pq_type)v;
        return rc;
    case 2:
        e->has_type_length = true;
        return md_rd_i32_nonneg(d, &e->type_length);
    case 3:
        e->has_repetition = true;
        rc = md_rd_enum(d, &v);
        if (!rc && (v < 0 || v > 3))
            rc = md_corrupt_value(d, "unknown repetition type", v);
        e->repetition_type = (pq_repetition)v;
        return rc;
    case 4:
        return rd_str(d, &e->name);
    case 5:
        e->has_num_children = true;
        return md_rd_i32_nonneg(d, &e->num_children);
    case 6:
        e->has_converted_type = true;
        rc = md_rd_enum(d, &v);
        e->converted_type = (pq_converted_type)v;
        return rc;
    case 7:
        e->has_scale = true;
        return tc_read_i32(&d->r, &e->scale);
    case 8:
        e->has_precision = true;
        return tc_read_i32(&d->r, &e->precision);
    case 9:
        e->has_field_id = true;
        return tc_read_i32(&d->r, &e->field_id);
    default: /* 10 */
        return dec_logical_type(d, &e->logical_type);
    }
}

static int dec_schema_element(md_dec *d, void *e)
{
    return md_dec_struct(d, "SchemaElement", SE_F, MD_NFIELDS(SE_F), se_field,
                         e);
}

/* ----------------------------------------------------------- KeyValue */

static const md_fdesc KV_F[] = {
    {0}, {"key", TC_BINARY, true}, {"value", TC_BINARY, false}};

static int kv_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_key_value *kv = obj;
    if (id == 1)
        return rd_str(d, &kv->key);
    kv->has_value = true;
    return md_rd_bytes(d, &kv->value);
}

static int dec_key_value(md_dec *d, void *kv)
{
    return md_dec_struct(d, "KeyValue", KV_F, MD_NFIELDS(KV_F), kv_field, kv);
}

/* list<KeyValue>, in FileMetaData and ColumnMetaData. */
static int rd_kv_list(md_dec *d, pq_key_value **out, uint32_t *n)
{
    void *arr;
    /* key: field header + length + stop */
    int rc =
        md_rd_struct_list(d, 3, sizeof(pq_key_value), dec_key_value, &arr, n);
    *out = arr;
    return rc;
}

/* -------------------------------------------------- PageEncodingStats */

static const md_fdesc PES_F[] = {{0},
                                 {"page_type", TC_I32, true},
                                 {"encoding", TC_I32, true},
                                 {"count", TC_I32, true}};

static int pes_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_page_encoding_stats *s = obj;
    int v, rc;
    switch (id) {
    case 1:
        rc = md_rd_enum(d, &v);
        s->page_type = (pq_page_type)v;
        return rc;
    case 2:
        rc = md_rd_enum(d, &v);
        s->encoding = (pq_encoding)v;
        return rc;
    default: /* 3 */
        return md_rd_i32_nonneg(d, &s->count);
    }
}

static int dec_page_encoding_stats(md_dec *d, void *s)
{
    return md_dec_struct(d, "PageEncodingStats", PES_F, MD_NFIELDS(PES_F),
                         pes_field, s);
}

/* ----------------------------------------------------- ColumnMetaData */

static const md_fdesc CMD_F[] = {{0},
                                 {"type", TC_I32, true},
                                 {"encodings", TC_LIST, true},
                                 {"path_in_schema", TC_LIST, true},
                                 {"codec", TC_I32, true},
                                 {"num_values", TC_I64, true},
                                 {"total_uncompressed_size", TC_I64, true},
                                 {"total_compressed_size", TC_I64, true},
                                 {"key_value_metadata", TC_LIST, false},
                                 {"data_page_offset", TC_I64, true},
                                 {"index_page_offset", TC_I64, false},
                                 {"dictionary_page_offset", TC_I64, false},
                                 {"statistics", TC_STRUCT, false},
                                 {"encoding_stats", TC_LIST, false},
                                 {"bloom_filter_offset", TC_I64, false},
                                 {"bloom_filter_length", TC_I32, false}};

static int cmd_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_column_meta *m = obj;
    int v, rc;
    void *arr;
    switch (id) {
    case 1:
        rc = md_rd_enum(d, &v);
        if (!rc && (v < PQ_BOOLEAN || v > PQ_FIXED_LEN_BYTE_ARRAY))
            rc = md_corrupt_value(d, "unknown physical type", v);
        m->type = (pq_type)v;
        return rc;
    case 2:
        rc = md_rd_list(d, TC_I32, 1, sizeof(pq_encoding), &arr,
                        &m->n_encodings);
        m->encodings = arr;
        for (uint32_t i = 0; !rc && i < m->n_encodings; i++) {
            d->idx = i;
            rc = md_rd_enum(d, &v);
            m->encodings[i] = (pq_encoding)v;
        }
        return rc;
    case 3:
        rc =
            md_rd_list(d, TC_BINARY, 1, sizeof(const char *), &arr, &m->n_path);
        m->path_in_schema = arr;
        for (uint32_t i = 0; !rc && i < m->n_path; i++) {
            d->idx = i;
            rc = rd_str(d, &m->path_in_schema[i]);
        }
        return rc;
    case 4:
        rc = md_rd_enum(d, &v);
        m->codec = (pq_codec)v;
        return rc;
    case 5:
        return md_rd_i64_nonneg(d, &m->num_values);
    case 6:
        return md_rd_i64_nonneg(d, &m->total_uncompressed_size);
    case 7:
        return md_rd_i64_nonneg(d, &m->total_compressed_size);
    case 8:
        return rd_kv_list(d, &m->key_value_metadata, &m->n_key_value_metadata);
    case 9:
        return md_rd_i64_nonneg(d, &m->data_page_offset);
    case 10:
        m->has_index_page_offset = true;
        return md_rd_i64_nonneg(d, &m->index_page_offset);
    case 11:
        m->has_dictionary_page_offset = true;
        return md_rd_i64_nonneg(d, &m->dictionary_page_offset);
    case 12:
        m->has_statistics = true;
        return md_dec_statistics(d, &m->statistics);
    case 13:
        /* page_type, encoding, count: three headers + values + stop */
        rc = md_rd_struct_list(d, 7, sizeof(pq_page_encoding_stats),
                               dec_page_encoding_stats, &arr,
                               &m->n_encoding_stats);
        m->encoding_stats = arr;
        return rc;
    case 14:
        m->has_bloom_filter_offset = true;
        return md_rd_i64_nonneg(d, &m->bloom_filter_offset);
    default: /* 15 */
        m->has_bloom_filter_length = true;
        return md_rd_i32_nonneg(d, &m->bloom_filter_length);
    }
}

/* -------------------------------------------------------- ColumnChunk */

/* file_offset is "required i64 file_offset = 0" in the IDL; it is
 * deprecated and written inconsistently, so a missing one is just 0. */
static const md_fdesc CC_F[] = {{0},
                                {"file_path", TC_BINARY, false},
                                {"file_offset", TC_I64, false},
                                {"meta_data", TC_STRUCT, false},
                                {"offset_index_offset", TC_I64, false},
                                {"offset_index_length", TC_I32, false},
                                {"column_index_offset", TC_I64, false},
                                {"column_index_length", TC_I32, false}};

typedef struct cc_ctx {
    pq_column_chunk *c;
    bool have[8];
} cc_ctx;

static int cc_field(md_dec *d, void *obj, int16_t id, int t)
{
    cc_ctx *x = obj;
    pq_column_chunk *c = x->c;
    x->have[id] = true;
    switch (id) {
    case 1:
        return rd_str(d, &c->file_path);
    case 2:
        return tc_read_i64(&d->r, &c->file_offset);
    case 3:
        c->has_meta_data = true;
        return md_dec_struct(d, "ColumnMetaData", CMD_F, MD_NFIELDS(CMD_F),
                             cmd_field, &c->meta_data);
    case 4:
        return md_rd_i64_nonneg(d, &c->offset_index_offset);
    case 5:
        return md_rd_i32_nonneg(d, &c->offset_index_length);
    case 6:
        return md_rd_i64_nonneg(d, &c->column_index_offset);
    default: /* 7 */
        return md_rd_i32_nonneg(d, &c->column_index_length);
    }
}

static int dec_column_chunk(md_dec *d, void *obj)
{
    cc_ctx x = {.c = obj};
    int rc =
        md_dec_struct(d, "ColumnChunk", CC_F, MD_NFIELDS(CC_F), cc_field, &x);
    /* An index is usable only with both its offset and its length. */
    x.c->has_offset_index = x.have[4] && x.have[5];
    x.c->has_column_index = x.have[6] && x.have[7];
    return rc;
}

/* ----------------------------------------------------------- RowGroup */

static const md_fdesc SC_F[] = {{0},
                                {"column_idx", TC_I32, true},
                                {"descending", TC_TRUE, true},
                                {"nulls_first", TC_TRUE, true}};

static int sc_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_sorting_column *s = obj;
    if (id == 1)
        return md_rd_i32_nonneg(d, &s->column_idx);
    if (id == 2)
        s->descending = t == TC_TRUE;
    else
        s->nulls_first = t == TC_TRUE;
    return MERU_OK;
}

static int dec_sorting_column(md_dec *d, void *s)
{
    return md_dec_struct(d, "SortingColumn", SC_F, MD_NFIELDS(SC_F), sc_field,
                         s);
}

static const md_fdesc RG_F[] = {{0},
                                {"columns", TC_LIST, true},
                                {"total_byte_size", TC_I64, true},
                                {"num_rows", TC_I64, true},
                                {"sorting_columns", TC_LIST, false},
                                {"file_offset", TC_I64, false},
                                {"total_compressed_size", TC_I64, false},
                                {"ordinal", TC_I16, false}};

static int rg_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_row_group *g = obj;
    void *arr;
    int rc;
    switch (id) {
    case 1:
        rc = md_rd_struct_list(d, 1, sizeof(pq_column_chunk), dec_column_chunk,
                               &arr, &g->n_columns);
        g->columns = arr;
        return rc;
    case 2:
        return md_rd_i64_nonneg(d, &g->total_byte_size);
    case 3:
        return md_rd_i64_nonneg(d, &g->num_rows);
    case 4:
        /* column_idx header + value, two bool headers, stop */
        rc = md_rd_struct_list(d, 5, sizeof(pq_sorting_column),
                               dec_sorting_column, &arr, &g->n_sorting_columns);
        g->sorting_columns = arr;
        return rc;
    case 5:
        g->has_file_offset = true;
        return md_rd_i64_nonneg(d, &g->file_offset);
    case 6:
        g->has_total_compressed_size = true;
        return md_rd_i64_nonneg(d, &g->total_compressed_size);
    default: /* 7 */
        g->has_ordinal = true;
        return tc_read_i16(&d->r, &g->ordinal);
    }
}

static int dec_row_group(md_dec *d, void *g)
{
    return md_dec_struct(d, "RowGroup", RG_F, MD_NFIELDS(RG_F), rg_field, g);
}

/* ------------------------------------------------------- FileMetaData */

static const md_fdesc CO_F[] = {{0}, {"TYPE_ORDER", TC_STRUCT, false}};

static int co_field(md_dec *d, void *obj, int16_t id, int t)
{
    *(bool *)obj = true;
    return tc_skip(&d->r, t); /* TypeDefinedOrder: an empty struct */
}

static const md_fdesc FMD_F[] = {{0},
                                 {"version", TC_I32, true},
                                 {"schema", TC_LIST, true},
                                 {"num_rows", TC_I64, true},
                                 {"row_groups", TC_LIST, true},
                                 {"key_value_metadata", TC_LIST, false},
                                 {"created_by", TC_BINARY, false},
                                 {"column_orders", TC_LIST, false}};

static int fmd_field(md_dec *d, void *obj, int16_t id, int t)
{
    pq_file_meta *m = obj;
    void *arr;
    int rc;
    switch (id) {
    case 1:
        return tc_read_i32(&d->r, &m->version);
    case 2:
        /* name: field header + length + stop */
        rc = md_rd_struct_list(d, 3, sizeof(pq_schema_element),
                               dec_schema_element, &arr, &m->n_schema);
        m->schema = arr;
        return rc;
    case 3:
        return md_rd_i64_nonneg(d, &m->num_rows);
    case 4:
        /* columns list + two i64 fields + stop */
        rc = md_rd_struct_list(d, 6, sizeof(pq_row_group), dec_row_group, &arr,
                               &m->n_row_groups);
        m->row_groups = arr;
        return rc;
    case 5:
        return rd_kv_list(d, &m->key_value_metadata, &m->n_key_value_metadata);
    case 6:
        return rd_str(d, &m->created_by);
    default: { /* 7: list<ColumnOrder>, counted */
        int et;
        uint32_t n;
        bool all = true;
        rc = tc_read_list(&d->r, &et, &n);
        if (!rc && n > 0 && et != TC_STRUCT)
            rc = meru_err(MERU_ECORRUPT,
                          "list of %s where struct elements were expected "
                          "(offset %zu)",
                          wire_name(et), d->r.pos);
        for (uint32_t i = 0; !rc && i < n; i++) {
            bool type_order = false;
            d->idx = i;
            rc = md_dec_struct(d, "ColumnOrder", CO_F, MD_NFIELDS(CO_F),
                               co_field, &type_order);
            all = all && type_order;
        }
        m->n_column_orders = n;
        m->has_column_orders = all;
        return rc;
    }
    }
}

int pq_decode_file_meta(const uint8_t *p, size_t len, meru_arena *arena,
                        pq_file_meta *out)
{
    md_dec d = {.a = arena, .idx = -1};
    tc_reader_init(&d.r, p, len);
    memset(out, 0, sizeof *out);
    int rc = md_dec_struct(&d, "FileMetaData", FMD_F, MD_NFIELDS(FMD_F),
                           fmd_field, out);
    if (rc)
        return rc;
    if (out->n_schema == 0)
        return meru_err(MERU_ECORRUPT,
                        "FileMetaData.schema: empty (no root element)");
    return MERU_OK;
}
