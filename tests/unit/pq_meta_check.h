/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pq_meta_check.h — helpers shared by the Parquet metadata tests: locating
 * and loading parquet-testing files (footer found from the PAR1 trailer),
 * and field-by-field equality of decoded structs (a round trip must give
 * back exactly what was encoded). Functions are static inline so each test
 * program takes only what it uses.
 */
#ifndef MERU_TESTS_PQ_META_CHECK_H
#define MERU_TESTS_PQ_META_CHECK_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "parquet/meta.h"
#include "test.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/endian.h"

/* ------------------------------------------------------------ helpers */

static inline const char *shared_dir(void)
{
    const char *e = getenv("MERU_SHARED_DIR");
    if (e && *e)
        return e;
#ifdef MERU_SHARED_DIR
    return MERU_SHARED_DIR;
#else
    return "../shared";
#endif
}

typedef struct file {
    uint8_t *data;
    size_t len;
    const uint8_t *footer;
    uint32_t footer_len;
} file;

/* Reads a whole file; locates the footer (PAR1 trailer, length before it).
 * Returns 0 on success; footer is NULL when the trailer is not valid. */
static inline int load(const char *path, file *f)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    if (fseek(fp, 0, SEEK_END) != 0) {
        fclose(fp);
        return -1;
    }
    long n = ftell(fp);
    rewind(fp);
    f->data = malloc(n > 0 ? (size_t)n : 1);
    if (!f->data || (n > 0 && fread(f->data, 1, (size_t)n, fp) != (size_t)n)) {
        fclose(fp);
        free(f->data);
        f->data = NULL;
        return -1;
    }
    fclose(fp);
    f->len = (size_t)n;
    if (f->len >= 12 && memcmp(f->data + f->len - 4, "PAR1", 4) == 0) {
        uint32_t fl = meru_load_le32(f->data + f->len - 8);
        if (fl <= f->len - 12) {
            f->footer = f->data + f->len - 8 - fl;
            f->footer_len = fl;
        }
    }
    return 0;
}

static inline void unload(file *f)
{
    free(f->data);
    memset(f, 0, sizeof *f);
}

static inline int load_data(const char *name, file *f)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/parquet-testing/data/%s", shared_dir(),
             name);
    return load(path, f);
}

/* Names of the *.parquet files in a folder (sorted), NULL-terminated. */
static inline char **list_parquet(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    size_t n = 0, cap = 16;
    char **v = calloc(cap, sizeof *v);
    if (!d || !v) {
        if (d)
            closedir(d);
        free(v);
        *count = 0;
        return NULL;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 8 || strcmp(e->d_name + l - 8, ".parquet") != 0)
            continue;
        if (n + 2 > cap) {
            cap *= 2;
            char **nv = realloc(v, cap * sizeof *v);
            if (!nv)
                break;
            v = nv;
        }
        char *p = malloc(strlen(dir) + l + 2);
        if (!p)
            break;
        sprintf(p, "%s/%s", dir, e->d_name);
        v[n++] = p;
        v[n] = NULL;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* insertion sort: tiny lists */
        for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    *count = n;
    return v;
}

static inline void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static inline meru_arena *new_arena(void)
{
    meru_arena *a = NULL;
    if (meru_arena_new(&a, 0) != MERU_OK)
        return NULL;
    return a;
}

/* ------------------------------------------------- structural equality */

#define SAME(field)                                                            \
    do {                                                                       \
        if ((x)->field != (y)->field) {                                        \
            fprintf(stderr, "  differs: %s\n", #field);                        \
            return false;                                                      \
        }                                                                      \
    } while (0)

#define SAME_BYTES(field)                                                      \
    do {                                                                       \
        if (!same_bytes((x)->field, (y)->field)) {                             \
            fprintf(stderr, "  differs: %s\n", #field);                        \
            return false;                                                      \
        }                                                                      \
    } while (0)

#define SAME_STR(field)                                                        \
    do {                                                                       \
        if (!same_str((x)->field, (y)->field)) {                               \
            fprintf(stderr, "  differs: %s\n", #field);                        \
            return false;                                                      \
        }                                                                      \
    } while (0)

static inline bool same_bytes(pq_bytes a, pq_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool same_str(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

static inline bool same_stats(const pq_statistics *x, const pq_statistics *y)
{
    SAME(has_max);
    SAME(has_min);
    SAME(has_null_count);
    SAME(has_distinct_count);
    SAME(has_max_value);
    SAME(has_min_value);
    SAME(has_is_max_value_exact);
    SAME(has_is_min_value_exact);
    if (x->has_max)
        SAME_BYTES(max);
    if (x->has_min)
        SAME_BYTES(min);
    if (x->has_null_count)
        SAME(null_count);
    if (x->has_distinct_count)
        SAME(distinct_count);
    if (x->has_max_value)
        SAME_BYTES(max_value);
    if (x->has_min_value)
        SAME_BYTES(min_value);
    if (x->has_is_max_value_exact)
        SAME(is_max_value_exact);
    if (x->has_is_min_value_exact)
        SAME(is_min_value_exact);
    return true;
}

static inline bool same_lt(const pq_logical_type *x, const pq_logical_type *y)
{
    SAME(kind);
    switch (x->kind) {
    case PQ_LT_DECIMAL:
        SAME(decimal_scale);
        SAME(decimal_precision);
        break;
    case PQ_LT_TIME:
    case PQ_LT_TIMESTAMP:
        SAME(is_adjusted_to_utc);
        SAME(unit);
        break;
    case PQ_LT_INTEGER:
        SAME(int_bit_width);
        SAME(int_is_signed);
        break;
    default:
        break;
    }
    return true;
}

static inline bool same_schema(const pq_schema_element *x,
                               const pq_schema_element *y)
{
    SAME(has_type);
    SAME(has_type_length);
    SAME(has_repetition);
    SAME(has_num_children);
    SAME(has_converted_type);
    SAME(has_scale);
    SAME(has_precision);
    SAME(has_field_id);
    SAME_STR(name);
    if (x->has_type)
        SAME(type);
    if (x->has_type_length)
        SAME(type_length);
    if (x->has_repetition)
        SAME(repetition_type);
    if (x->has_num_children)
        SAME(num_children);
    if (x->has_converted_type)
        SAME(converted_type);
    if (x->has_scale)
        SAME(scale);
    if (x->has_precision)
        SAME(precision);
    if (x->has_field_id)
        SAME(field_id);
    return same_lt(&x->logical_type, &y->logical_type);
}

static inline bool same_kvs(const pq_key_value *x, const pq_key_value *y,
                            uint32_t n)
{
    for (uint32_t i = 0; i < n; i++, x++, y++) {
        SAME_STR(key);
        SAME(has_value);
        if (x->has_value)
            SAME_BYTES(value);
    }
    return true;
}

static inline bool same_column_meta(const pq_column_meta *x,
                                    const pq_column_meta *y)
{
    SAME(type);
    SAME(n_encodings);
    for (uint32_t i = 0; i < x->n_encodings; i++)
        SAME(encodings[i]);
    SAME(n_path);
    for (uint32_t i = 0; i < x->n_path; i++)
        SAME_STR(path_in_schema[i]);
    SAME(codec);
    SAME(num_values);
    SAME(total_uncompressed_size);
    SAME(total_compressed_size);
    SAME(n_key_value_metadata);
    if (!same_kvs(x->key_value_metadata, y->key_value_metadata,
                  x->n_key_value_metadata))
        return false;
    SAME(data_page_offset);
    SAME(has_index_page_offset);
    SAME(has_dictionary_page_offset);
    if (x->has_index_page_offset)
        SAME(index_page_offset);
    if (x->has_dictionary_page_offset)
        SAME(dictionary_page_offset);
    SAME(has_statistics);
    if (x->has_statistics && !same_stats(&x->statistics, &y->statistics))
        return false;
    SAME(n_encoding_stats);
    for (uint32_t i = 0; i < x->n_encoding_stats; i++) {
        SAME(encoding_stats[i].page_type);
        SAME(encoding_stats[i].encoding);
        SAME(encoding_stats[i].count);
    }
    SAME(has_bloom_filter_offset);
    SAME(has_bloom_filter_length);
    if (x->has_bloom_filter_offset)
        SAME(bloom_filter_offset);
    if (x->has_bloom_filter_length)
        SAME(bloom_filter_length);
    return true;
}

static inline bool same_chunk(const pq_column_chunk *x,
                              const pq_column_chunk *y)
{
    SAME_STR(file_path);
    SAME(file_offset);
    SAME(has_meta_data);
    if (x->has_meta_data && !same_column_meta(&x->meta_data, &y->meta_data))
        return false;
    SAME(has_offset_index);
    SAME(has_column_index);
    if (x->has_offset_index) {
        SAME(offset_index_offset);
        SAME(offset_index_length);
    }
    if (x->has_column_index) {
        SAME(column_index_offset);
        SAME(column_index_length);
    }
    return true;
}

static inline bool same_row_group(const pq_row_group *x, const pq_row_group *y)
{
    SAME(n_columns);
    for (uint32_t i = 0; i < x->n_columns; i++)
        if (!same_chunk(&x->columns[i], &y->columns[i]))
            return false;
    SAME(total_byte_size);
    SAME(num_rows);
    SAME(n_sorting_columns);
    for (uint32_t i = 0; i < x->n_sorting_columns; i++) {
        SAME(sorting_columns[i].column_idx);
        SAME(sorting_columns[i].descending);
        SAME(sorting_columns[i].nulls_first);
    }
    SAME(has_file_offset);
    SAME(has_total_compressed_size);
    SAME(has_ordinal);
    if (x->has_file_offset)
        SAME(file_offset);
    if (x->has_total_compressed_size)
        SAME(total_compressed_size);
    if (x->has_ordinal)
        SAME(ordinal);
    return true;
}

/* Column orders are compared by the caller: the encoder always writes them. */
static inline bool same_file_meta(const pq_file_meta *x, const pq_file_meta *y)
{
    SAME(version);
    SAME(n_schema);
    for (uint32_t i = 0; i < x->n_schema; i++)
        if (!same_schema(&x->schema[i], &y->schema[i]))
            return false;
    SAME(num_rows);
    SAME(n_row_groups);
    for (uint32_t i = 0; i < x->n_row_groups; i++)
        if (!same_row_group(&x->row_groups[i], &y->row_groups[i]))
            return false;
    SAME(n_key_value_metadata);
    if (!same_kvs(x->key_value_metadata, y->key_value_metadata,
                  x->n_key_value_metadata))
        return false;
    SAME_STR(created_by);
    return true;
}

static inline bool same_page_header(const pq_page_header *x,
                                    const pq_page_header *y)
{
    SAME(type);
    SAME(uncompressed_page_size);
    SAME(compressed_page_size);
    SAME(has_crc);
    if (x->has_crc)
        SAME(crc);
    SAME(has_data_page_header);
    SAME(has_dictionary_page_header);
    SAME(has_data_page_header_v2);
    if (x->has_data_page_header) {
        SAME(data_page_header.num_values);
        SAME(data_page_header.encoding);
        SAME(data_page_header.definition_level_encoding);
        SAME(data_page_header.repetition_level_encoding);
        SAME(data_page_header.has_statistics);
        if (x->data_page_header.has_statistics &&
            !same_stats(&x->data_page_header.statistics,
                        &y->data_page_header.statistics))
            return false;
    }
    if (x->has_dictionary_page_header) {
        SAME(dictionary_page_header.num_values);
        SAME(dictionary_page_header.encoding);
        SAME(dictionary_page_header.has_is_sorted);
        if (x->dictionary_page_header.has_is_sorted)
            SAME(dictionary_page_header.is_sorted);
    }
    if (x->has_data_page_header_v2) {
        SAME(data_page_header_v2.num_values);
        SAME(data_page_header_v2.num_nulls);
        SAME(data_page_header_v2.num_rows);
        SAME(data_page_header_v2.encoding);
        SAME(data_page_header_v2.definition_levels_byte_length);
        SAME(data_page_header_v2.repetition_levels_byte_length);
        SAME(data_page_header_v2.is_compressed);
        SAME(data_page_header_v2.has_statistics);
        if (x->data_page_header_v2.has_statistics &&
            !same_stats(&x->data_page_header_v2.statistics,
                        &y->data_page_header_v2.statistics))
            return false;
    }
    return true;
}

#define BYTES(s) ((pq_bytes){(const uint8_t *)(s), (uint32_t)(sizeof(s) - 1)})

static inline pq_statistics full_stats(void)
{
    pq_statistics s = {0};
    s.has_max = s.has_min = s.has_null_count = s.has_distinct_count = true;
    s.has_max_value = s.has_min_value = true;
    s.has_is_max_value_exact = s.has_is_min_value_exact = true;
    s.max = BYTES("\x7f\xff");
    s.min = BYTES("\x00");
    s.null_count = 12345678901LL;
    s.distinct_count = 0;
    s.max_value = BYTES("zzz\0zz");
    s.min_value = BYTES("");
    s.is_max_value_exact = true;
    s.is_min_value_exact = false;
    return s;
}

#endif
