/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta.c — decoders for the Parquet metadata structs (see meta.h), on top of
 * the compact-protocol reader in thrift.c. Encoders are in meta_encode.c,
 * enum names in meta_names.c.
 *
 * One driver, dec_struct(), reads the field headers of any struct. Each
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

#include "parquet/thrift.h"
#include "util/error.h"
#include "util/varint.h"

typedef struct dec {
    tc_reader r;
    meru_arena *a;
    long idx; /* element index while decoding a list field, else -1 */
} dec;

typedef struct fdesc {
    const char *name; /* NULL: not a field this code reads */
    uint8_t type;     /* wire type; TC_TRUE stands for a bool of either value */
    bool required;
} fdesc;

#define NFIELDS(table) (sizeof table / sizeof table[0])

/* Stores field `id` (wire type `t`, already checked) into `obj`. */
typedef int (*field_fn)(dec *d, void *obj, int16_t id, int t);

/* ------------------------------------------------------------- driver */

static int dec_struct(dec *d, const char *st, const fdesc *f, size_t nf,
                      field_fn fn, void *obj)
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

static int corrupt_value(const dec *d, const char *what, long long v)
{
    return meru_err(MERU_ECORRUPT, "%s (%lld) at offset %zu", what, v,
                    d->r.pos);
}

static int rd_i32_nonneg(dec *d, int32_t *out)
{
    int rc = tc_read_i32(&d->r, out);
    if (!rc && *out < 0)
        rc = corrupt_value(d, "negative", *out);
    return rc;
}

static int rd_i64_nonneg(dec *d, int64_t *out)
{
    int rc = tc_read_i64(&d->r, out);
    if (!rc && *out < 0)
        rc = corrupt_value(d, "negative", (long long)*out);
    return rc;
}

static int rd_enum(dec *d, int *out)
{
    int32_t v = 0;
    int rc = tc_read_i32(&d->r, &v);
    *out = v;
    return rc;
}

static int rd_bytes(dec *d, pq_bytes *out)
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

static int rd_str(dec *d, const char **out)
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
static int rd_list(dec *d, int want, size_t min_bytes, size_t size, void **arr,
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

/* Decodes one struct element; `elem` points at zeroed storage. */
typedef int (*elem_fn)(dec *d, void *elem);

/* list<struct>: header, array, then each element, with d->idx naming the
 * element for error messages. */
static int rd_struct_list(dec *d, size_t min_bytes, size_t size, elem_fn fn,
                          void **arr, uint32_t *n)
{
    int rc = rd_list(d, TC_STRUCT, min_bytes, size, arr, n);
    for (uint32_t i = 0; !rc && i < *n; i++) {
        d->idx = i;
        rc = fn(d, (char *)*arr + (size_t)i * size);
    }
    if (!rc)
        d->idx = -1;
    return rc;
}

/* --------------------------------------------------------- Statistics */

static const fdesc STATS_F[] = {{0},
                                {"max", TC_BINARY, false},
                                {"min", TC_BINARY, false},
                                {"null_count", TC_I64, false},
                                {"distinct_count", TC_I64, false},
                                {"max_value", TC_BINARY, false},
                                {"min_value", TC_BINARY, false},
                                {"is_max_value_exact", TC_TRUE, false},
                                {"is_min_value_exact", TC_TRUE, false}};

static int stats_field(dec *d, void *obj, int16_t id, int t)
{
    pq_statistics *s = obj;
    switch (id) {
    case 1:
        s->has_max = true;
        return rd_bytes(d, &s->max);
    case 2:
        s->has_min = true;
        return rd_bytes(d, &s->min);
    case 3:
        s->has_null_count = true;
        return tc_read_i64(&d->r, &s->null_count);
    case 4:
        s->has_distinct_count = true;
        return tc_read_i64(&d->r, &s->distinct_count);
    case 5:
        s->has_max_value = true;
        return rd_bytes(d, &s->max_value);
    case 6:
        s->has_min_value = true;
        return rd_bytes(d, &s->min_value);
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

static int dec_statistics(dec *d, pq_statistics *s)
{
    memset(s, 0, sizeof *s);
    int rc =
        dec_struct(d, "Statistics", STATS_F, NFIELDS(STATS_F), stats_field, s);
    /* -1 is some writers' "unknown"; unknown is what absent means. */
    if (s->null_count < 0)
        s->has_null_count = false;
    if (s->distinct_count < 0)
        s->has_distinct_count = false;
    return rc;
}

/* -------------------------------------------------------- LogicalType */

static const fdesc DECIMAL_F[] = {
    {0}, {"scale", TC_I32, true}, {"precision", TC_I32, true}};

static int decimal_field(dec *d, void *obj, int16_t id, int t)
{
    pq_logical_type *lt = obj;
    return tc_read_i32(&d->r,
                       id == 1 ? &lt->decimal_scale : &lt->decimal_precision);
}

static const fdesc UNIT_F[] = {{0},
                               {"MILLIS", TC_STRUCT, false},
                               {"MICROS", TC_STRUCT, false},
                               {"NANOS", TC_STRUCT, false}};

static int unit_field(dec *d, void *obj, int16_t id, int t)
{
    *(pq_time_unit *)obj = (pq_time_unit)id;
    return tc_skip(&d->r, t); /* an empty struct */
}

static const fdesc TIME_F[] = {
    {0}, {"isAdjustedToUTC", TC_TRUE, true}, {"unit", TC_STRUCT, true}};

static int time_field(dec *d, void *obj, int16_t id, int t)
{
    pq_logical_type *lt = obj;
    if (id == 1) {
        lt->is_adjusted_to_utc = t == TC_TRUE;
        return MERU_OK;
    }
    lt->unit = 0; /* stays 0 when no member is known */
    return dec_struct(d, "TimeUnit", UNIT_F, NFIELDS(UNIT_F), unit_field,
                      &lt->unit);
}

static const fdesc INT_F[] = {
    {0}, {"bitWidth", TC_I8, true}, {"isSigned", TC_TRUE, true}};

static int int_field(dec *d, void *obj, int16_t id, int t)
{
    pq_logical_type *lt = obj;
    if (id == 1)
        return tc_read_i8(&d->r, &lt->int_bit_width);
    lt->int_is_signed = t == TC_TRUE;
    return MERU_OK;
}

static const fdesc LT_F[] = {{0},
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

static int lt_field(dec *d, void *obj, int16_t id, int t)
{
    pq_logical_type *lt = obj;
    int rc;
    lt->kind = (pq_logical_kind)id;
    switch (id) {
    case PQ_LT_DECIMAL:
        return dec_struct(d, "DecimalType", DECIMAL_F, NFIELDS(DECIMAL_F),
                          decimal_field, lt);
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        rc = dec_struct(d, id == PQ_LT_TIME ? "TimeType" : "TimestampType",
                        TIME_F, NFIELDS(TIME_F), time_field, lt);
        if (!rc && lt->unit == 0)
            lt->kind = PQ_LT_OTHER; /* a unit newer than this code */
        return rc;
    case PQ_LT_INTEGER:
        return dec_struct(d, "IntType", INT_F, NFIELDS(INT_F), int_field, lt);
    default:
        return tc_skip(&d->r, t); /* an empty struct */
    }
}

/* LogicalType union: the member present sets `kind`. An empty union, or
 * one holding only members this code does not know, is PQ_LT_OTHER. */
static int dec_logical_type(dec *d, pq_logical_type *lt)
{
    memset(lt, 0, sizeof *lt);
    lt->kind = PQ_LT_OTHER;
    return dec_struct(d, "LogicalType", LT_F, NFIELDS(LT_F), lt_field, lt);
}

/* ------------------------------------------------------ SchemaElement */

static const fdesc SE_F[] = {{0},
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

static int se_field(dec *d, void *obj, int16_t id, int t)
{
    pq_schema_element *e = obj;
    int v, rc;
    switch (id) {
    case 1:
        e->has_type = true;
        rc = rd_enum(d, &v);
        if (!rc && (v < PQ_BOOLEAN || v > PQ_FIXED_LEN_BYTE_ARRAY))
            rc = corrupt_value(d, "unknown physical type", v);
        e->type = (pq_type)v;
        return rc;
    case 2:
        e->has_type_length = true;
        return rd_i32_nonneg(d, &e->type_length);
    case 3:
        e->has_repetition = true;
        rc = rd_enum(d, &v);
        if (!rc && (v < 0 || v > 3))
            rc = corrupt_value(d, "unknown repetition type", v);
        e->repetition_type = (pq_repetition)v;
        return rc;
    case 4:
        return rd_str(d, &e->name);
    case 5:
        e->has_num_children = true;
        return rd_i32_nonneg(d, &e->num_children);
    case 6:
        e->has_converted_type = true;
        rc = rd_enum(d, &v);
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

static int dec_schema_element(dec *d, void *e)
{
    return dec_struct(d, "SchemaElement", SE_F, NFIELDS(SE_F), se_field, e);
}

/* ----------------------------------------------------------- KeyValue */

static const fdesc KV_F[] = {
    {0}, {"key", TC_BINARY, true}, {"value", TC_BINARY, false}};

static int kv_field(dec *d, void *obj, int16_t id, int t)
{
    pq_key_value *kv = obj;
    if (id == 1)
        return rd_str(d, &kv->key);
    kv->has_value = true;
    return rd_bytes(d, &kv->value);
}

static int dec_key_value(dec *d, void *kv)
{
    return dec_struct(d, "KeyValue", KV_F, NFIELDS(KV_F), kv_field, kv);
}

/* list<KeyValue>, in FileMetaData and ColumnMetaData. */
static int rd_kv_list(dec *d, pq_key_value **out, uint32_t *n)
{
    void *arr;
    /* key: field header + length + stop */
    int rc = rd_struct_list(d, 3, sizeof(pq_key_value), dec_key_value, &arr, n);
    *out = arr;
    return rc;
}

/* -------------------------------------------------- PageEncodingStats */

static const fdesc PES_F[] = {{0},
                              {"page_type", TC_I32, true},
                              {"encoding", TC_I32, true},
                              {"count", TC_I32, true}};

static int pes_field(dec *d, void *obj, int16_t id, int t)
{
    pq_page_encoding_stats *s = obj;
    int v, rc;
    switch (id) {
    case 1:
        rc = rd_enum(d, &v);
        s->page_type = (pq_page_type)v;
        return rc;
    case 2:
        rc = rd_enum(d, &v);
        s->encoding = (pq_encoding)v;
        return rc;
    default: /* 3 */
        return rd_i32_nonneg(d, &s->count);
    }
}

static int dec_page_encoding_stats(dec *d, void *s)
{
    return dec_struct(d, "PageEncodingStats", PES_F, NFIELDS(PES_F), pes_field,
                      s);
}

/* ----------------------------------------------------- ColumnMetaData */

static const fdesc CMD_F[] = {{0},
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

static int cmd_field(dec *d, void *obj, int16_t id, int t)
{
    pq_column_meta *m = obj;
    int v, rc;
    void *arr;
    switch (id) {
    case 1:
        rc = rd_enum(d, &v);
        if (!rc && (v < PQ_BOOLEAN || v > PQ_FIXED_LEN_BYTE_ARRAY))
            rc = corrupt_value(d, "unknown physical type", v);
        m->type = (pq_type)v;
        return rc;
    case 2:
        rc = rd_list(d, TC_I32, 1, sizeof(pq_encoding), &arr, &m->n_encodings);
        m->encodings = arr;
        for (uint32_t i = 0; !rc && i < m->n_encodings; i++) {
            d->idx = i;
            rc = rd_enum(d, &v);
            m->encodings[i] = (pq_encoding)v;
        }
        return rc;
    case 3:
        rc = rd_list(d, TC_BINARY, 1, sizeof(const char *), &arr, &m->n_path);
        m->path_in_schema = arr;
        for (uint32_t i = 0; !rc && i < m->n_path; i++) {
            d->idx = i;
            rc = rd_str(d, &m->path_in_schema[i]);
        }
        return rc;
    case 4:
        rc = rd_enum(d, &v);
        m->codec = (pq_codec)v;
        return rc;
    case 5:
        return rd_i64_nonneg(d, &m->num_values);
    case 6:
        return rd_i64_nonneg(d, &m->total_uncompressed_size);
    case 7:
        return rd_i64_nonneg(d, &m->total_compressed_size);
    case 8:
        return rd_kv_list(d, &m->key_value_metadata, &m->n_key_value_metadata);
    case 9:
        return rd_i64_nonneg(d, &m->data_page_offset);
    case 10:
        m->has_index_page_offset = true;
        return rd_i64_nonneg(d, &m->index_page_offset);
    case 11:
        m->has_dictionary_page_offset = true;
        return rd_i64_nonneg(d, &m->dictionary_page_offset);
    case 12:
        m->has_statistics = true;
        return dec_statistics(d, &m->statistics);
    case 13:
        /* page_type, encoding, count: three headers + values + stop */
        rc =
            rd_struct_list(d, 7, sizeof(pq_page_encoding_stats),
                           dec_page_encoding_stats, &arr, &m->n_encoding_stats);
        m->encoding_stats = arr;
        return rc;
    case 14:
        m->has_bloom_filter_offset = true;
        return rd_i64_nonneg(d, &m->bloom_filter_offset);
    default: /* 15 */
        m->has_bloom_filter_length = true;
        return rd_i32_nonneg(d, &m->bloom_filter_length);
    }
}

/* -------------------------------------------------------- ColumnChunk */

/* file_offset is "required i64 file_offset = 0" in the IDL; it is
 * deprecated and written inconsistently, so a missing one is just 0. */
static const fdesc CC_F[] = {{0},
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

static int cc_field(dec *d, void *obj, int16_t id, int t)
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
        return dec_struct(d, "ColumnMetaData", CMD_F, NFIELDS(CMD_F), cmd_field,
                          &c->meta_data);
    case 4:
        return rd_i64_nonneg(d, &c->offset_index_offset);
    case 5:
        return rd_i32_nonneg(d, &c->offset_index_length);
    case 6:
        return rd_i64_nonneg(d, &c->column_index_offset);
    default: /* 7 */
        return rd_i32_nonneg(d, &c->column_index_length);
    }
}

static int dec_column_chunk(dec *d, void *obj)
{
    cc_ctx x = {.c = obj};
    int rc = dec_struct(d, "ColumnChunk", CC_F, NFIELDS(CC_F), cc_field, &x);
    /* An index is usable only with both its offset and its length. */
    x.c->has_offset_index = x.have[4] && x.have[5];
    x.c->has_column_index = x.have[6] && x.have[7];
    return rc;
}

/* ----------------------------------------------------------- RowGroup */

static const fdesc SC_F[] = {{0},
                             {"column_idx", TC_I32, true},
                             {"descending", TC_TRUE, true},
                             {"nulls_first", TC_TRUE, true}};

static int sc_field(dec *d, void *obj, int16_t id, int t)
{
    pq_sorting_column *s = obj;
    if (id == 1)
        return rd_i32_nonneg(d, &s->column_idx);
    if (id == 2)
        s->descending = t == TC_TRUE;
    else
        s->nulls_first = t == TC_TRUE;
    return MERU_OK;
}

static int dec_sorting_column(dec *d, void *s)
{
    return dec_struct(d, "SortingColumn", SC_F, NFIELDS(SC_F), sc_field, s);
}

static const fdesc RG_F[] = {{0},
                             {"columns", TC_LIST, true},
                             {"total_byte_size", TC_I64, true},
                             {"num_rows", TC_I64, true},
                             {"sorting_columns", TC_LIST, false},
                             {"file_offset", TC_I64, false},
                             {"total_compressed_size", TC_I64, false},
                             {"ordinal", TC_I16, false}};

static int rg_field(dec *d, void *obj, int16_t id, int t)
{
    pq_row_group *g = obj;
    void *arr;
    int rc;
    switch (id) {
    case 1:
        rc = rd_struct_list(d, 1, sizeof(pq_column_chunk), dec_column_chunk,
                            &arr, &g->n_columns);
        g->columns = arr;
        return rc;
    case 2:
        return rd_i64_nonneg(d, &g->total_byte_size);
    case 3:
        return rd_i64_nonneg(d, &g->num_rows);
    case 4:
        /* column_idx header + value, two bool headers, stop */
        rc = rd_struct_list(d, 5, sizeof(pq_sorting_column), dec_sorting_column,
                            &arr, &g->n_sorting_columns);
        g->sorting_columns = arr;
        return rc;
    case 5:
        g->has_file_offset = true;
        return rd_i64_nonneg(d, &g->file_offset);
    case 6:
        g->has_total_compressed_size = true;
        return rd_i64_nonneg(d, &g->total_compressed_size);
    default: /* 7 */
        g->has_ordinal = true;
        return tc_read_i16(&d->r, &g->ordinal);
    }
}

static int dec_row_group(dec *d, void *g)
{
    return dec_struct(d, "RowGroup", RG_F, NFIELDS(RG_F), rg_field, g);
}

/* ------------------------------------------------------- FileMetaData */

static const fdesc CO_F[] = {{0}, {"TYPE_ORDER", TC_STRUCT, false}};

static int co_field(dec *d, void *obj, int16_t id, int t)
{
    *(bool *)obj = true;
    return tc_skip(&d->r, t); /* TypeDefinedOrder: an empty struct */
}

static const fdesc FMD_F[] = {{0},
                              {"version", TC_I32, true},
                              {"schema", TC_LIST, true},
                              {"num_rows", TC_I64, true},
                              {"row_groups", TC_LIST, true},
                              {"key_value_metadata", TC_LIST, false},
                              {"created_by", TC_BINARY, false},
                              {"column_orders", TC_LIST, false}};

static int fmd_field(dec *d, void *obj, int16_t id, int t)
{
    pq_file_meta *m = obj;
    void *arr;
    int rc;
    switch (id) {
    case 1:
        return tc_read_i32(&d->r, &m->version);
    case 2:
        /* name: field header + length + stop */
        rc = rd_struct_list(d, 3, sizeof(pq_schema_element), dec_schema_element,
                            &arr, &m->n_schema);
        m->schema = arr;
        return rc;
    case 3:
        return rd_i64_nonneg(d, &m->num_rows);
    case 4:
        /* columns list + two i64 fields + stop */
        rc = rd_struct_list(d, 6, sizeof(pq_row_group), dec_row_group, &arr,
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
            rc = dec_struct(d, "ColumnOrder", CO_F, NFIELDS(CO_F), co_field,
                            &type_order);
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
    dec d = {.a = arena, .idx = -1};
    tc_reader_init(&d.r, p, len);
    memset(out, 0, sizeof *out);
    int rc =
        dec_struct(&d, "FileMetaData", FMD_F, NFIELDS(FMD_F), fmd_field, out);
    if (rc)
        return rc;
    if (out->n_schema == 0)
        return meru_err(MERU_ECORRUPT,
                        "FileMetaData.schema: empty (no root element)");
    return MERU_OK;
}

/* --------------------------------------------------------- PageHeader */

static const fdesc DPH_F[] = {{0},
                              {"num_values", TC_I32, true},
                              {"encoding", TC_I32, true},
                              {"definition_level_encoding", TC_I32, true},
                              {"repetition_level_encoding", TC_I32, true},
                              {"statistics", TC_STRUCT, false}};

static int dph_field(dec *d, void *obj, int16_t id, int t)
{
    pq_data_page_header *h = obj;
    int v, rc;
    switch (id) {
    case 1:
        return rd_i32_nonneg(d, &h->num_values);
    case 2:
        rc = rd_enum(d, &v);
        h->encoding = (pq_encoding)v;
        return rc;
    case 3:
        rc = rd_enum(d, &v);
        h->definition_level_encoding = (pq_encoding)v;
        return rc;
    case 4:
        rc = rd_enum(d, &v);
        h->repetition_level_encoding = (pq_encoding)v;
        return rc;
    default: /* 5 */
        h->has_statistics = true;
        return dec_statistics(d, &h->statistics);
    }
}

static const fdesc DICT_F[] = {{0},
                               {"num_values", TC_I32, true},
                               {"encoding", TC_I32, true},
                               {"is_sorted", TC_TRUE, false}};

static int dict_field(dec *d, void *obj, int16_t id, int t)
{
    pq_dictionary_page_header *h = obj;
    int v, rc;
    switch (id) {
    case 1:
        return rd_i32_nonneg(d, &h->num_values);
    case 2:
        rc = rd_enum(d, &v);
        h->encoding = (pq_encoding)v;
        return rc;
    default: /* 3 */
        h->has_is_sorted = true;
        h->is_sorted = t == TC_TRUE;
        return MERU_OK;
    }
}

static const fdesc DPH2_F[] = {{0},
                               {"num_values", TC_I32, true},
                               {"num_nulls", TC_I32, true},
                               {"num_rows", TC_I32, true},
                               {"encoding", TC_I32, true},
                               {"definition_levels_byte_length", TC_I32, true},
                               {"repetition_levels_byte_length", TC_I32, true},
                               {"is_compressed", TC_TRUE, false},
                               {"statistics", TC_STRUCT, false}};

static int dph2_field(dec *d, void *obj, int16_t id, int t)
{
    pq_data_page_header_v2 *h = obj;
    int v, rc;
    switch (id) {
    case 1:
        return rd_i32_nonneg(d, &h->num_values);
    case 2:
        return rd_i32_nonneg(d, &h->num_nulls);
    case 3:
        return rd_i32_nonneg(d, &h->num_rows);
    case 4:
        rc = rd_enum(d, &v);
        h->encoding = (pq_encoding)v;
        return rc;
    case 5:
        return rd_i32_nonneg(d, &h->definition_levels_byte_length);
    case 6:
        return rd_i32_nonneg(d, &h->repetition_levels_byte_length);
    case 7:
        h->is_compressed = t == TC_TRUE;
        return MERU_OK;
    default: /* 8 */
        h->has_statistics = true;
        return dec_statistics(d, &h->statistics);
    }
}

static int dec_data_page_header_v2(dec *d, pq_data_page_header_v2 *h)
{
    h->is_compressed = true; /* the IDL default */
    int rc = dec_struct(d, "DataPageHeaderV2", DPH2_F, NFIELDS(DPH2_F),
                        dph2_field, h);
    if (rc)
        return rc;
    /* Nulls are values, and every row has at least one value (a null or
     * an empty list still has a level). */
    if (h->num_nulls > h->num_values || h->num_rows > h->num_values)
        return meru_err(MERU_ECORRUPT,
                        "DataPageHeaderV2: num_nulls %d / num_rows %d exceed "
                        "num_values %d (offset %zu)",
                        (int)h->num_nulls, (int)h->num_rows, (int)h->num_values,
                        d->r.pos);
    return MERU_OK;
}

static const fdesc PH_F[] = {{0},
                             {"type", TC_I32, true},
                             {"uncompressed_page_size", TC_I32, true},
                             {"compressed_page_size", TC_I32, true},
                             {"crc", TC_I32, false},
                             {"data_page_header", TC_STRUCT, false},
                             {0}, /* 6: index_page_header, an empty struct */
                             {"dictionary_page_header", TC_STRUCT, false},
                             {"data_page_header_v2", TC_STRUCT, false}};

static int ph_field(dec *d, void *obj, int16_t id, int t)
{
    pq_page_header *h = obj;
    int v, rc;
    switch (id) {
    case 1:
        rc = rd_enum(d, &v);
        h->type = (pq_page_type)v;
        return rc;
    case 2:
        return rd_i32_nonneg(d, &h->uncompressed_page_size);
    case 3:
        return rd_i32_nonneg(d, &h->compressed_page_size);
    case 4:
        h->has_crc = true;
        return tc_read_i32(&d->r, &h->crc);
    case 5:
        h->has_data_page_header = true;
        return dec_struct(d, "DataPageHeader", DPH_F, NFIELDS(DPH_F), dph_field,
                          &h->data_page_header);
    case 7:
        h->has_dictionary_page_header = true;
        return dec_struct(d, "DictionaryPageHeader", DICT_F, NFIELDS(DICT_F),
                          dict_field, &h->dictionary_page_header);
    default: /* 8 */
        h->has_data_page_header_v2 = true;
        return dec_data_page_header_v2(d, &h->data_page_header_v2);
    }
}

/* One i32 field of the fast path: header byte `h` (delta 1, type i32
 * unless said), then a zigzag varint; false on anything else. */
static bool fast_i32(const uint8_t *p, size_t len, size_t *at, uint8_t h,
                     int32_t *out)
{
    if (*at >= len || p[*at] != h)
        return false;
    uint32_t v;
    size_t n = meru_varint_get32(p + *at + 1, len - *at - 1, &v);
    if (n == 0)
        return false;
    *out = meru_zigzag_dec32(v);
    *at += 1 + n;
    return true;
}

/* The data page v2 header every writer of ours emits: PageHeader fields
 * 1-3 (type DATA_PAGE_V2), 4 (crc) or not, 8 (DataPageHeaderV2: fields 1-6,
 * 7 (is_compressed) or not, 8 (Statistics holding only a null count) or
 * not), each field's header one byte, then the stops. A point read that
 * misses the page cache and a scan both decode one per page, and the
 * generic field loop cost ~2k instructions a header (bench/RESULTS.md,
 * "page decodes into their cache entries"); this shape is ~10 varints.
 * Any other shape or value the generic path would refuse (a negative
 * size, nulls over the values) goes to the generic path, which then
 * decodes or reports exactly as it always did: the fast path takes only
 * inputs the generic one decodes to the same values. */
static bool page_header_v2_fast(const uint8_t *p, size_t len,
                                pq_page_header *out, size_t *consumed)
{
    size_t at = 0;
    int32_t type, usize, csize;
    if (!fast_i32(p, len, &at, 0x15, &type) || type != PQ_PAGE_DATA_V2 ||
        !fast_i32(p, len, &at, 0x15, &usize) || usize < 0 ||
        !fast_i32(p, len, &at, 0x15, &csize) || csize < 0)
        return false;
    out->type = PQ_PAGE_DATA_V2;
    out->uncompressed_page_size = usize;
    out->compressed_page_size = csize;
    uint8_t v2hdr = 0x5C; /* field 8 after 3: delta 5, struct */
    if (at < len && p[at] == 0x15) {
        if (!fast_i32(p, len, &at, 0x15, &out->crc))
            return false;
        out->has_crc = true;
        v2hdr = 0x4C; /* after 4: delta 4 */
    }
    if (at >= len || p[at] != v2hdr)
        return false;
    at++;
    pq_data_page_header_v2 *h = &out->data_page_header_v2;
    int32_t f[6]; /* values, nulls, rows, encoding, dl, rl */
    for (int i = 0; i < 6; i++)
        if (!fast_i32(p, len, &at, 0x15, &f[i]) || (i != 3 && f[i] < 0))
            return false;
    if (f[1] > f[0] || f[2] > f[0])
        return false; /* the generic path says what is wrong */
    h->num_values = f[0];
    h->num_nulls = f[1];
    h->num_rows = f[2];
    h->encoding = (pq_encoding)f[3];
    h->definition_levels_byte_length = f[4];
    h->repetition_levels_byte_length = f[5];
    h->is_compressed = true; /* the IDL default */
    if (at < len && (p[at] == 0x11 || p[at] == 0x12)) {
        h->is_compressed = p[at] == 0x11;
        at++;
        if (at < len && p[at] == 0x1C) { /* statistics: field 8 after 7 */
            uint64_t nc;
            size_t n;
            if (at + 2 >= len || p[at + 1] != 0x36)
                return false; /* other statistics: the generic path */
            n = meru_varint_get64(p + at + 2, len - at - 2, &nc);
            if (n == 0 || at + 2 + n >= len || p[at + 2 + n] != 0)
                return false;
            int64_t v = meru_zigzag_dec64(nc);
            if (v < 0)
                return false;
            h->has_statistics = true;
            h->statistics.has_null_count = true;
            h->statistics.null_count = v;
            at += 2 + n + 1;
        }
    }
    if (at + 1 >= len || p[at] != 0 || p[at + 1] != 0)
        return false;
    out->has_data_page_header_v2 = true;
    *consumed = at + 2;
    return true;
}

int pq_decode_page_header(const uint8_t *p, size_t len, meru_arena *arena,
                          pq_page_header *out, size_t *consumed)
{
    size_t used = 0;
    memset(out, 0, sizeof *out);
    if (page_header_v2_fast(p, len, out, &used)) {
        /* the level bytes check below, as for the generic path */
        const pq_data_page_header_v2 *h = &out->data_page_header_v2;
        int64_t levels = (int64_t)h->definition_levels_byte_length +
                         h->repetition_levels_byte_length;
        if (levels <= out->compressed_page_size &&
            levels <= out->uncompressed_page_size) {
            if (consumed)
                *consumed = used;
            return MERU_OK;
        }
    }
    /* The fast path may have filled part of *out before it gave up (or
     * before the level check refused it): the generic decoder starts from
     * zero, so what it returns never depends on how far the fast path got. */
    memset(out, 0, sizeof *out);
    dec d = {.a = arena, .idx = -1};
    tc_reader_init(&d.r, p, len);
    int rc = dec_struct(&d, "PageHeader", PH_F, NFIELDS(PH_F), ph_field, out);
    if (rc)
        return rc;
    /* The header that goes with the type must be there; other page types
     * (INDEX_PAGE, newer ones) are the reader's to skip by size. */
    if ((out->type == PQ_PAGE_DATA && !out->has_data_page_header) ||
        (out->type == PQ_PAGE_DICTIONARY && !out->has_dictionary_page_header) ||
        (out->type == PQ_PAGE_DATA_V2 && !out->has_data_page_header_v2))
        return meru_err(MERU_ECORRUPT,
                        "PageHeader: page of type %s lacks its header "
                        "(offset %zu)",
                        pq_page_type_name(out->type), d.r.pos);
    if (out->has_data_page_header_v2) {
        const pq_data_page_header_v2 *h = &out->data_page_header_v2;
        int64_t levels = (int64_t)h->definition_levels_byte_length +
                         h->repetition_levels_byte_length;
        if (levels > out->compressed_page_size ||
            levels > out->uncompressed_page_size)
            return meru_err(MERU_ECORRUPT,
                            "PageHeader: v2 level bytes (%lld) exceed the "
                            "page size (%d compressed, %d uncompressed)",
                            (long long)levels, (int)out->compressed_page_size,
                            (int)out->uncompressed_page_size);
    }
    if (consumed)
        *consumed = d.r.pos;
    return MERU_OK;
}

/* -------------------------------------------------------- ColumnIndex */

static const fdesc CI_F[] = {{0},
                             {"null_pages", TC_LIST, true},
                             {"min_values", TC_LIST, true},
                             {"max_values", TC_LIST, true},
                             {"boundary_order", TC_I32, true},
                             {"null_counts", TC_LIST, false}};

typedef struct ci_ctx {
    pq_column_index *ci;
    uint32_t n[6]; /* list lengths by field id */
} ci_ctx;

static int ci_field(dec *d, void *obj, int16_t id, int t)
{
    ci_ctx *x = obj;
    pq_column_index *ci = x->ci;
    void *arr;
    int v, rc;
    switch (id) {
    case 1:
        rc = rd_list(d, TC_TRUE, 1, sizeof(bool), &arr, &x->n[1]);
        ci->null_pages = arr;
        for (uint32_t i = 0; !rc && i < x->n[1]; i++) {
            d->idx = i;
            rc = tc_read_bool_elem(&d->r, &ci->null_pages[i]);
        }
        return rc;
    case 2:
    case 3: {
        rc = rd_list(d, TC_BINARY, 1, sizeof(pq_bytes), &arr, &x->n[id]);
        pq_bytes *vals = arr;
        if (id == 2)
            ci->min_values = vals;
        else
            ci->max_values = vals;
        for (uint32_t i = 0; !rc && i < x->n[id]; i++) {
            d->idx = i;
            rc = rd_bytes(d, &vals[i]);
        }
        return rc;
    }
    case 4:
        rc = rd_enum(d, &v);
        ci->boundary_order = (pq_boundary_order)v;
        return rc;
    default: /* 5 */
        rc = rd_list(d, TC_I64, 1, sizeof(int64_t), &arr, &x->n[5]);
        ci->null_counts = arr;
        for (uint32_t i = 0; !rc && i < x->n[5]; i++) {
            d->idx = i;
            rc = tc_read_i64(&d->r, &ci->null_counts[i]);
        }
        return rc;
    }
}

int pq_decode_column_index(const uint8_t *p, size_t len, meru_arena *arena,
                           pq_column_index *out)
{
    dec d = {.a = arena, .idx = -1};
    ci_ctx x = {.ci = out};
    tc_reader_init(&d.r, p, len);
    memset(out, 0, sizeof *out);
    int rc = dec_struct(&d, "ColumnIndex", CI_F, NFIELDS(CI_F), ci_field, &x);
    if (rc)
        return rc;
    out->n_pages = x.n[1];
    for (int id = 2; id <= 5; id++) {
        if (id == 4 || (id == 5 && !out->null_counts && x.n[5] == 0))
            continue;
        if (x.n[id] != x.n[1])
            return meru_err(MERU_ECORRUPT,
                            "ColumnIndex.%s: %u entries for %u pages",
                            CI_F[id].name, x.n[id], x.n[1]);
    }
    /* -1 is parquet-mr's "unknown"; an absent list says exactly that. */
    for (uint32_t i = 0; out->null_counts && i < out->n_pages; i++) {
        if (out->null_counts[i] < 0)
            out->null_counts = NULL;
    }
    return MERU_OK;
}

/* -------------------------------------------------------- OffsetIndex */

static const fdesc PL_F[] = {{0},
                             {"offset", TC_I64, true},
                             {"compressed_page_size", TC_I32, true},
                             {"first_row_index", TC_I64, true}};

static int pl_field(dec *d, void *obj, int16_t id, int t)
{
    pq_page_location *l = obj;
    if (id == 1)
        return rd_i64_nonneg(d, &l->offset);
    if (id == 2)
        return rd_i32_nonneg(d, &l->compressed_page_size);
    return rd_i64_nonneg(d, &l->first_row_index);
}

/* The shape every writer emits: fields 1, 2, 3 in order as one-byte
 * headers (i64, i32, i64), then the stop byte. A chunk of small pages has
 * thousands of entries and a cold point read decodes them on its path, so
 * this shape skips the generic field loop (a fifth of the instructions).
 * Any other encoding, and every error, takes the generic path, which
 * accepts and reports exactly what it always did: the fast path takes
 * only inputs the generic one decodes to the same values. */
static bool page_location_fast(tc_reader *r, pq_page_location *l)
{
    static const uint8_t hdr[3] = {0x16, 0x15, 0x16};
    const uint8_t *p = r->p;
    size_t at = r->pos, len = r->len;
    uint64_t v[3];
    for (int f = 0; f < 3; f++) {
        if (at >= len || p[at] != hdr[f])
            return false;
        at++;
        size_t n;
        if (f == 1) {
            uint32_t v32;
            n = meru_varint_get32(p + at, len - at, &v32);
            v[f] = v32;
        } else {
            n = meru_varint_get64(p + at, len - at, &v[f]);
        }
        if (n == 0)
            return false;
        at += n;
    }
    if (at >= len || p[at] != 0)
        return false;
    int64_t off = meru_zigzag_dec64(v[0]), row = meru_zigzag_dec64(v[2]);
    int32_t size = meru_zigzag_dec32((uint32_t)v[1]);
    if (off < 0 || size < 0 || row < 0)
        return false;
    l->offset = off;
    l->compressed_page_size = size;
    l->first_row_index = row;
    r->pos = at + 1;
    return true;
}

static int dec_page_location(dec *d, void *l)
{
    if (page_location_fast(&d->r, l))
        return MERU_OK;
    return dec_struct(d, "PageLocation", PL_F, NFIELDS(PL_F), pl_field, l);
}

static const fdesc OI_F[] = {{0}, {"page_locations", TC_LIST, true}};

static int oi_field(dec *d, void *obj, int16_t id, int t)
{
    pq_offset_index *oi = obj;
    void *arr;
    /* three field headers with values + stop */
    int rc = rd_struct_list(d, 7, sizeof(pq_page_location), dec_page_location,
                            &arr, &oi->n_pages);
    oi->page_locations = arr;
    return rc;
}

int pq_decode_offset_index(const uint8_t *p, size_t len, meru_arena *arena,
                           pq_offset_index *out)
{
    dec d = {.a = arena, .idx = -1};
    tc_reader_init(&d.r, p, len);
    memset(out, 0, sizeof *out);
    return dec_struct(&d, "OffsetIndex", OI_F, NFIELDS(OI_F), oi_field, out);
}

/* --------------------------------------------------- BloomFilterHeader */

/* The algorithm, hash and compression unions each have one member so far,
 * number 1, an empty struct. Another member is a newer algorithm, hash or
 * compression: valid, but not something this code can use (MERU_ENOTSUP). */
static const fdesc BU_F[] = {{0}, {"1", TC_STRUCT, false}};

static int bu_field(dec *d, void *obj, int16_t id, int t)
{
    *(bool *)obj = true;
    return tc_skip(&d->r, t);
}

static int dec_bloom_union(dec *d, const char *st, const char *member)
{
    bool known = false;
    size_t start = d->r.pos;
    int rc = dec_struct(d, st, BU_F, NFIELDS(BU_F), bu_field, &known);
    if (rc)
        return rc;
    if (d->r.pos - start == 1) /* just the stop byte */
        return meru_err(MERU_ECORRUPT, "%s: empty union (offset %zu)", st,
                        start);
    if (!known)
        return meru_err(MERU_ENOTSUP, "%s: only %s is supported (offset %zu)",
                        st, member, start);
    return MERU_OK;
}

static const fdesc BF_F[] = {{0},
                             {"numBytes", TC_I32, true},
                             {"algorithm", TC_STRUCT, true},
                             {"hash", TC_STRUCT, true},
                             {"compression", TC_STRUCT, true}};

static int bf_field(dec *d, void *obj, int16_t id, int t)
{
    pq_bloom_filter_header *h = obj;
    int rc;
    switch (id) {
    case 1:
        rc = tc_read_i32(&d->r, &h->num_bytes);
        /* The bitset is whole 32-byte blocks. */
        if (!rc && (h->num_bytes <= 0 || h->num_bytes % 32 != 0))
            rc =
                corrupt_value(d, "not a positive multiple of 32", h->num_bytes);
        return rc;
    case 2:
        return dec_bloom_union(d, "BloomFilterAlgorithm", "BLOCK");
    case 3:
        return dec_bloom_union(d, "BloomFilterHash", "XXHASH");
    default: /* 4 */
        return dec_bloom_union(d, "BloomFilterCompression", "UNCOMPRESSED");
    }
}

int pq_decode_bloom_header(const uint8_t *p, size_t len,
                           pq_bloom_filter_header *out, size_t *consumed)
{
    dec d = {.a = NULL, .idx = -1};
    tc_reader_init(&d.r, p, len);
    memset(out, 0, sizeof *out);
    int rc =
        dec_struct(&d, "BloomFilterHeader", BF_F, NFIELDS(BF_F), bf_field, out);
    if (!rc && consumed)
        *consumed = d.r.pos;
    return rc;
}
