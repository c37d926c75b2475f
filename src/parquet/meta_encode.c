/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta_encode.c — encoders for the Parquet metadata structs (see meta.h).
 *
 * Fields are written in increasing id order, which keeps every field header
 * in the one-byte short form. Optional fields are written only when their
 * has_* flag is set; optional lists only when they have elements (the
 * decoder turns an absent list into n = 0, so the round trip is exact);
 * required fields always. Two deliberate exceptions:
 *
 *   - FileMetaData.column_orders is always written, TypeDefinedOrder for
 *     each column: n_column_orders entries when has_column_orders is set,
 *     else one per leaf of the schema (every element after the root that
 *     has a physical type). Without it readers must ignore min_value /
 *     max_value (parquet.thrift, FileMetaData field 7).
 *   - DataPageHeaderV2.is_compressed is always written (its default is
 *     true; stating it costs one byte and spares readers the default).
 *
 * The writer's errors are sticky (thrift.h); each public encoder validates
 * what the Thrift IDL requires of its input (non-NULL required strings,
 * arrays present when their count is non-zero), then writes, then returns
 * tc_writer_finish(). On failure `out` is truncated back to its length on
 * entry, so a caller never sees half a struct.
 */
#include "parquet/meta.h"

#include <string.h>

#include "parquet/thrift.h"
#include "util/error.h"

static int bad_arg(const char *what)
{
    return meru_err(MERU_EINVAL, "encoding Parquet metadata: %s", what);
}

/* An array of n elements must exist when n > 0. */
#define NEED_ARRAY(arr, n, what)                                               \
    do {                                                                       \
        if ((n) > 0 && !(arr))                                                 \
            return bad_arg(what " is NULL with a non-zero count");             \
    } while (0)

static void put_bytes(tc_writer *w, int16_t id, pq_bytes b)
{
    tc_w_field_binary(w, id, b.ptr, b.len);
}

static void put_str(tc_writer *w, int16_t id, const char *s)
{
    tc_w_field_binary(w, id, s, strlen(s));
}

/* ------------------------------------------------------------ structs */

static int check_statistics(const pq_statistics *s)
{
    if ((s->has_max && !s->max.ptr && s->max.len) ||
        (s->has_min && !s->min.ptr && s->min.len) ||
        (s->has_max_value && !s->max_value.ptr && s->max_value.len) ||
        (s->has_min_value && !s->min_value.ptr && s->min_value.len))
        return bad_arg("Statistics value is NULL with a non-zero length");
    return MERU_OK;
}

static void enc_statistics(tc_writer *w, const pq_statistics *s)
{
    tc_w_struct_begin(w);
    if (s->has_max)
        put_bytes(w, 1, s->max);
    if (s->has_min)
        put_bytes(w, 2, s->min);
    if (s->has_null_count)
        tc_w_field_i64(w, 3, s->null_count);
    if (s->has_distinct_count)
        tc_w_field_i64(w, 4, s->distinct_count);
    if (s->has_max_value)
        put_bytes(w, 5, s->max_value);
    if (s->has_min_value)
        put_bytes(w, 6, s->min_value);
    if (s->has_is_max_value_exact)
        tc_w_field_bool(w, 7, s->is_max_value_exact);
    if (s->has_is_min_value_exact)
        tc_w_field_bool(w, 8, s->is_min_value_exact);
    tc_w_struct_end(w);
}

static void enc_time_unit(tc_writer *w, pq_time_unit u)
{
    tc_w_struct_begin(w);
    tc_w_field_empty_struct(w, (int16_t)u);
    tc_w_struct_end(w);
}

static int enc_logical_type(tc_writer *w, const pq_logical_type *lt)
{
    tc_w_field(w, 10, TC_STRUCT);
    tc_w_struct_begin(w);
    switch (lt->kind) {
    case PQ_LT_DECIMAL:
        tc_w_field(w, PQ_LT_DECIMAL, TC_STRUCT);
        tc_w_struct_begin(w);
        tc_w_field_i32(w, 1, lt->decimal_scale);
        tc_w_field_i32(w, 2, lt->decimal_precision);
        tc_w_struct_end(w);
        break;
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        if (lt->unit < PQ_UNIT_MILLIS || lt->unit > PQ_UNIT_NANOS)
            return bad_arg("TIME/TIMESTAMP logical type without a unit");
        tc_w_field(w, (int16_t)lt->kind, TC_STRUCT);
        tc_w_struct_begin(w);
        tc_w_field_bool(w, 1, lt->is_adjusted_to_utc);
        tc_w_field(w, 2, TC_STRUCT);
        enc_time_unit(w, lt->unit);
        tc_w_struct_end(w);
        break;
    case PQ_LT_INTEGER:
        tc_w_field(w, PQ_LT_INTEGER, TC_STRUCT);
        tc_w_struct_begin(w);
        tc_w_field_i8(w, 1, lt->int_bit_width);
        tc_w_field_bool(w, 2, lt->int_is_signed);
        tc_w_struct_end(w);
        break;
    case PQ_LT_STRING:
    case PQ_LT_MAP:
    case PQ_LT_LIST:
    case PQ_LT_ENUM:
    case PQ_LT_DATE:
    case PQ_LT_UNKNOWN:
    case PQ_LT_JSON:
    case PQ_LT_BSON:
    case PQ_LT_UUID:
    case PQ_LT_FLOAT16:
        tc_w_field_empty_struct(w, (int16_t)lt->kind);
        break;
    default:
        /* PQ_LT_OTHER: a member we could not decode cannot be re-encoded. */
        return bad_arg("logical type of unknown kind");
    }
    tc_w_struct_end(w);
    return MERU_OK;
}

static int enc_schema_element(tc_writer *w, const pq_schema_element *e)
{
    if (!e->name)
        return bad_arg("SchemaElement.name is NULL");
    tc_w_struct_begin(w);
    if (e->has_type)
        tc_w_field_i32(w, 1, (int32_t)e->type);
    if (e->has_type_length)
        tc_w_field_i32(w, 2, e->type_length);
    if (e->has_repetition)
        tc_w_field_i32(w, 3, (int32_t)e->repetition_type);
    put_str(w, 4, e->name);
    if (e->has_num_children)
        tc_w_field_i32(w, 5, e->num_children);
    if (e->has_converted_type)
        tc_w_field_i32(w, 6, (int32_t)e->converted_type);
    if (e->has_scale)
        tc_w_field_i32(w, 7, e->scale);
    if (e->has_precision)
        tc_w_field_i32(w, 8, e->precision);
    if (e->has_field_id)
        tc_w_field_i32(w, 9, e->field_id);
    if (e->logical_type.kind != PQ_LT_NONE) {
        int rc = enc_logical_type(w, &e->logical_type);
        if (rc)
            return rc;
    }
    tc_w_struct_end(w);
    return MERU_OK;
}

static int enc_kv_list(tc_writer *w, int16_t id, const pq_key_value *kv,
                       uint32_t n)
{
    NEED_ARRAY(kv, n, "key_value_metadata");
    tc_w_field(w, id, TC_LIST);
    tc_w_list(w, TC_STRUCT, n);
    for (uint32_t i = 0; i < n; i++) {
        if (!kv[i].key)
            return bad_arg("KeyValue.key is NULL");
        if (kv[i].has_value && !kv[i].value.ptr && kv[i].value.len)
            return bad_arg("KeyValue.value is NULL with a non-zero length");
        tc_w_struct_begin(w);
        put_str(w, 1, kv[i].key);
        if (kv[i].has_value)
            put_bytes(w, 2, kv[i].value);
        tc_w_struct_end(w);
    }
    return MERU_OK;
}

static int enc_column_meta(tc_writer *w, const pq_column_meta *m)
{
    int rc;
    NEED_ARRAY(m->encodings, m->n_encodings, "ColumnMetaData.encodings");
    NEED_ARRAY(m->path_in_schema, m->n_path, "ColumnMetaData.path_in_schema");
    NEED_ARRAY(m->encoding_stats, m->n_encoding_stats,
               "ColumnMetaData.encoding_stats");
    tc_w_struct_begin(w);
    tc_w_field_i32(w, 1, (int32_t)m->type);
    tc_w_field(w, 2, TC_LIST);
    tc_w_list(w, TC_I32, m->n_encodings);
    for (uint32_t i = 0; i < m->n_encodings; i++)
        tc_w_i32(w, (int32_t)m->encodings[i]);
    tc_w_field(w, 3, TC_LIST);
    tc_w_list(w, TC_BINARY, m->n_path);
    for (uint32_t i = 0; i < m->n_path; i++) {
        if (!m->path_in_schema[i])
            return bad_arg("ColumnMetaData.path_in_schema element is NULL");
        tc_w_binary(w, m->path_in_schema[i], strlen(m->path_in_schema[i]));
    }
    tc_w_field_i32(w, 4, (int32_t)m->codec);
    tc_w_field_i64(w, 5, m->num_values);
    tc_w_field_i64(w, 6, m->total_uncompressed_size);
    tc_w_field_i64(w, 7, m->total_compressed_size);
    if (m->n_key_value_metadata > 0) {
        rc = enc_kv_list(w, 8, m->key_value_metadata, m->n_key_value_metadata);
        if (rc)
            return rc;
    }
    tc_w_field_i64(w, 9, m->data_page_offset);
    if (m->has_index_page_offset)
        tc_w_field_i64(w, 10, m->index_page_offset);
    if (m->has_dictionary_page_offset)
        tc_w_field_i64(w, 11, m->dictionary_page_offset);
    if (m->has_statistics) {
        rc = check_statistics(&m->statistics);
        if (rc)
            return rc;
        tc_w_field(w, 12, TC_STRUCT);
        enc_statistics(w, &m->statistics);
    }
    if (m->n_encoding_stats > 0) {
        tc_w_field(w, 13, TC_LIST);
        tc_w_list(w, TC_STRUCT, m->n_encoding_stats);
        for (uint32_t i = 0; i < m->n_encoding_stats; i++) {
            const pq_page_encoding_stats *s = &m->encoding_stats[i];
            tc_w_struct_begin(w);
            tc_w_field_i32(w, 1, (int32_t)s->page_type);
            tc_w_field_i32(w, 2, (int32_t)s->encoding);
            tc_w_field_i32(w, 3, s->count);
            tc_w_struct_end(w);
        }
    }
    if (m->has_bloom_filter_offset)
        tc_w_field_i64(w, 14, m->bloom_filter_offset);
    if (m->has_bloom_filter_length)
        tc_w_field_i32(w, 15, m->bloom_filter_length);
    tc_w_struct_end(w);
    return MERU_OK;
}

static int enc_column_chunk(tc_writer *w, const pq_column_chunk *c)
{
    tc_w_struct_begin(w);
    if (c->file_path)
        put_str(w, 1, c->file_path);
    tc_w_field_i64(w, 2, c->file_offset);
    if (c->has_meta_data) {
        tc_w_field(w, 3, TC_STRUCT);
        int rc = enc_column_meta(w, &c->meta_data);
        if (rc)
            return rc;
    }
    if (c->has_offset_index) {
        tc_w_field_i64(w, 4, c->offset_index_offset);
        tc_w_field_i32(w, 5, c->offset_index_length);
    }
    if (c->has_column_index) {
        tc_w_field_i64(w, 6, c->column_index_offset);
        tc_w_field_i32(w, 7, c->column_index_length);
    }
    tc_w_struct_end(w);
    return MERU_OK;
}

static int enc_row_group(tc_writer *w, const pq_row_group *g)
{
    NEED_ARRAY(g->columns, g->n_columns, "RowGroup.columns");
    NEED_ARRAY(g->sorting_columns, g->n_sorting_columns,
               "RowGroup.sorting_columns");
    tc_w_struct_begin(w);
    tc_w_field(w, 1, TC_LIST);
    tc_w_list(w, TC_STRUCT, g->n_columns);
    for (uint32_t i = 0; i < g->n_columns; i++) {
        int rc = enc_column_chunk(w, &g->columns[i]);
        if (rc)
            return rc;
    }
    tc_w_field_i64(w, 2, g->total_byte_size);
    tc_w_field_i64(w, 3, g->num_rows);
    if (g->n_sorting_columns > 0) {
        tc_w_field(w, 4, TC_LIST);
        tc_w_list(w, TC_STRUCT, g->n_sorting_columns);
        for (uint32_t i = 0; i < g->n_sorting_columns; i++) {
            const pq_sorting_column *s = &g->sorting_columns[i];
            tc_w_struct_begin(w);
            tc_w_field_i32(w, 1, s->column_idx);
            tc_w_field_bool(w, 2, s->descending);
            tc_w_field_bool(w, 3, s->nulls_first);
            tc_w_struct_end(w);
        }
    }
    if (g->has_file_offset)
        tc_w_field_i64(w, 5, g->file_offset);
    if (g->has_total_compressed_size)
        tc_w_field_i64(w, 6, g->total_compressed_size);
    if (g->has_ordinal)
        tc_w_field_i16(w, 7, g->ordinal);
    tc_w_struct_end(w);
    return MERU_OK;
}

/* ------------------------------------------------------ whole structs */

static int enc_file_meta(tc_writer *w, const pq_file_meta *m)
{
    int rc;
    if (m->n_schema == 0 || !m->schema)
        return bad_arg("FileMetaData.schema is empty");
    NEED_ARRAY(m->row_groups, m->n_row_groups, "FileMetaData.row_groups");
    tc_w_struct_begin(w);
    tc_w_field_i32(w, 1, m->version);
    tc_w_field(w, 2, TC_LIST);
    tc_w_list(w, TC_STRUCT, m->n_schema);
    for (uint32_t i = 0; i < m->n_schema; i++) {
        rc = enc_schema_element(w, &m->schema[i]);
        if (rc)
            return rc;
    }
    tc_w_field_i64(w, 3, m->num_rows);
    tc_w_field(w, 4, TC_LIST);
    tc_w_list(w, TC_STRUCT, m->n_row_groups);
    for (uint32_t i = 0; i < m->n_row_groups; i++) {
        rc = enc_row_group(w, &m->row_groups[i]);
        if (rc)
            return rc;
    }
    if (m->n_key_value_metadata > 0) {
        rc = enc_kv_list(w, 5, m->key_value_metadata, m->n_key_value_metadata);
        if (rc)
            return rc;
    }
    if (m->created_by)
        put_str(w, 6, m->created_by);
    uint32_t n_orders = 0;
    if (m->has_column_orders) {
        n_orders = m->n_column_orders;
    } else {
        for (uint32_t i = 1; i < m->n_schema; i++)
            n_orders += m->schema[i].has_type;
    }
    tc_w_field(w, 7, TC_LIST);
    tc_w_list(w, TC_STRUCT, n_orders);
    for (uint32_t i = 0; i < n_orders; i++) {
        tc_w_struct_begin(w);          /* ColumnOrder union */
        tc_w_field_empty_struct(w, 1); /* TYPE_ORDER: TypeDefinedOrder */
        tc_w_struct_end(w);
    }
    tc_w_struct_end(w);
    return MERU_OK;
}

static int enc_page_header(tc_writer *w, const pq_page_header *h)
{
    int rc;
    tc_w_struct_begin(w);
    tc_w_field_i32(w, 1, (int32_t)h->type);
    tc_w_field_i32(w, 2, h->uncompressed_page_size);
    tc_w_field_i32(w, 3, h->compressed_page_size);
    if (h->has_crc)
        tc_w_field_i32(w, 4, h->crc);
    if (h->has_data_page_header) {
        const pq_data_page_header *d = &h->data_page_header;
        tc_w_field(w, 5, TC_STRUCT);
        tc_w_struct_begin(w);
        tc_w_field_i32(w, 1, d->num_values);
        tc_w_field_i32(w, 2, (int32_t)d->encoding);
        tc_w_field_i32(w, 3, (int32_t)d->definition_level_encoding);
        tc_w_field_i32(w, 4, (int32_t)d->repetition_level_encoding);
        if (d->has_statistics) {
            rc = check_statistics(&d->statistics);
            if (rc)
                return rc;
            tc_w_field(w, 5, TC_STRUCT);
            enc_statistics(w, &d->statistics);
        }
        tc_w_struct_end(w);
    }
    if (h->has_dictionary_page_header) {
        const pq_dictionary_page_header *d = &h->dictionary_page_header;
        tc_w_field(w, 7, TC_STRUCT);
        tc_w_struct_begin(w);
        tc_w_field_i32(w, 1, d->num_values);
        tc_w_field_i32(w, 2, (int32_t)d->encoding);
        if (d->has_is_sorted)
            tc_w_field_bool(w, 3, d->is_sorted);
        tc_w_struct_end(w);
    }
    if (h->has_data_page_header_v2) {
        const pq_data_page_header_v2 *d = &h->data_page_header_v2;
        tc_w_field(w, 8, TC_STRUCT);
        tc_w_struct_begin(w);
        tc_w_field_i32(w, 1, d->num_values);
        tc_w_field_i32(w, 2, d->num_nulls);
        tc_w_field_i32(w, 3, d->num_rows);
        tc_w_field_i32(w, 4, (int32_t)d->encoding);
        tc_w_field_i32(w, 5, d->definition_levels_byte_length);
        tc_w_field_i32(w, 6, d->repetition_levels_byte_length);
        tc_w_field_bool(w, 7, d->is_compressed);
        if (d->has_statistics) {
            rc = check_statistics(&d->statistics);
            if (rc)
                return rc;
            tc_w_field(w, 8, TC_STRUCT);
            enc_statistics(w, &d->statistics);
        }
        tc_w_struct_end(w);
    }
    tc_w_struct_end(w);
    return MERU_OK;
}

static int enc_column_index(tc_writer *w, const pq_column_index *ci)
{
    uint32_t n = ci->n_pages;
    NEED_ARRAY(ci->null_pages, n, "ColumnIndex.null_pages");
    NEED_ARRAY(ci->min_values, n, "ColumnIndex.min_values");
    NEED_ARRAY(ci->max_values, n, "ColumnIndex.max_values");
    for (uint32_t i = 0; i < n; i++) {
        if ((!ci->min_values[i].ptr && ci->min_values[i].len) ||
            (!ci->max_values[i].ptr && ci->max_values[i].len))
            return bad_arg("ColumnIndex value is NULL with a non-zero length");
    }
    tc_w_struct_begin(w);
    tc_w_field(w, 1, TC_LIST);
    tc_w_list(w, TC_BOOL_ELEM, n);
    for (uint32_t i = 0; i < n; i++)
        tc_w_bool_elem(w, ci->null_pages[i]);
    for (int16_t id = 2; id <= 3; id++) {
        const pq_bytes *v = id == 2 ? ci->min_values : ci->max_values;
        tc_w_field(w, id, TC_LIST);
        tc_w_list(w, TC_BINARY, n);
        for (uint32_t i = 0; i < n; i++)
            tc_w_binary(w, v[i].ptr, v[i].len);
    }
    tc_w_field_i32(w, 4, (int32_t)ci->boundary_order);
    if (ci->null_counts) {
        tc_w_field(w, 5, TC_LIST);
        tc_w_list(w, TC_I64, n);
        for (uint32_t i = 0; i < n; i++)
            tc_w_i64(w, ci->null_counts[i]);
    }
    tc_w_struct_end(w);
    return MERU_OK;
}

static int enc_offset_index(tc_writer *w, const pq_offset_index *oi)
{
    NEED_ARRAY(oi->page_locations, oi->n_pages, "OffsetIndex.page_locations");
    tc_w_struct_begin(w);
    tc_w_field(w, 1, TC_LIST);
    tc_w_list(w, TC_STRUCT, oi->n_pages);
    for (uint32_t i = 0; i < oi->n_pages; i++) {
        const pq_page_location *l = &oi->page_locations[i];
        tc_w_struct_begin(w);
        tc_w_field_i64(w, 1, l->offset);
        tc_w_field_i32(w, 2, l->compressed_page_size);
        tc_w_field_i64(w, 3, l->first_row_index);
        tc_w_struct_end(w);
    }
    tc_w_struct_end(w);
    return MERU_OK;
}

static int enc_bloom_header(tc_writer *w, const pq_bloom_filter_header *h)
{
    tc_w_struct_begin(w);
    tc_w_field_i32(w, 1, h->num_bytes);
    /* algorithm BLOCK, hash XXHASH, compression UNCOMPRESSED: each a union
     * whose member 1 is an empty struct. */
    for (int16_t id = 2; id <= 4; id++) {
        tc_w_field(w, id, TC_STRUCT);
        tc_w_struct_begin(w);
        tc_w_field_empty_struct(w, 1);
        tc_w_struct_end(w);
    }
    tc_w_struct_end(w);
    return MERU_OK;
}

/* ------------------------------------------------------------- public */

/* Every public encoder: the writer over `out`, then the struct, then the
 * writer's own verdict; on any failure `out` returns to its entry length. */
static int finish(tc_writer *w, size_t mark, int rc)
{
    if (!rc)
        rc = tc_writer_finish(w);
    if (rc)
        w->out->len = mark;
    return rc;
}

int pq_encode_file_meta(meru_buf *out, const pq_file_meta *m)
{
    tc_writer w;
    size_t mark = out->len;
    tc_writer_init(&w, out);
    return finish(&w, mark, enc_file_meta(&w, m));
}

int pq_encode_page_header(meru_buf *out, const pq_page_header *h)
{
    tc_writer w;
    size_t mark = out->len;
    tc_writer_init(&w, out);
    return finish(&w, mark, enc_page_header(&w, h));
}

int pq_encode_column_index(meru_buf *out, const pq_column_index *ci)
{
    tc_writer w;
    size_t mark = out->len;
    tc_writer_init(&w, out);
    return finish(&w, mark, enc_column_index(&w, ci));
}

int pq_encode_offset_index(meru_buf *out, const pq_offset_index *oi)
{
    tc_writer w;
    size_t mark = out->len;
    tc_writer_init(&w, out);
    return finish(&w, mark, enc_offset_index(&w, oi));
}

int pq_encode_bloom_header(meru_buf *out, const pq_bloom_filter_header *h)
{
    tc_writer w;
    size_t mark = out->len;
    tc_writer_init(&w, out);
    return finish(&w, mark, enc_bloom_header(&w, h));
}
