/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reader.c — opening a Parquet file: the footer, the schema (flat only),
 * column lookup, chunk statistics for row-group skipping, and the lazily
 * loaded page index and bloom filters (API in pq.h). Column cursors live
 * in reader_page.c.
 *
 * Invariants:
 *  - Nothing read from the file is trusted: the footer length is bounded
 *    by the file, every offset/length pair (chunks, indexes, bloom
 *    filters) is checked against the bytes before the footer before it is
 *    read, and allocation sizes derived from the file are capped.
 *  - The decoded footer lives in one arena for the reader's lifetime;
 *    indexes and bloom filters decoded later go to a second arena under
 *    the reader mutex, so concurrent cursors may share the reader.
 *
 * It does not: read encrypted files (MERU_ENOTSUP), nested or repeated
 * schemas (MERU_ENOTSUP naming the column), or column chunks in other
 * files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/reader_int.h"
#include "parquet/stats.h"
#include "util/endian.h"
#include "util/crc32c.h"
#include "util/error.h"

int pqr_source_read(const pq_source *src, uint64_t off, size_t n,
                    uint8_t *dst)
{
    if (off > src->size || n > src->size - off)
        return meru_err(MERU_ECORRUPT,
                        "parquet: read of %zu bytes at offset %llu is past "
                        "the end of the file (%llu bytes)",
                        n, (unsigned long long)off,
                        (unsigned long long)src->size);
    if (!n)
        return MERU_OK;
    return src->read_at(src->ctx, off, dst, n);
}

int pqr_read(const pq_reader *r, uint64_t off, size_t n, uint8_t *dst)
{
    return pqr_source_read(&r->src, off, n, dst);
}

static bool old_parquet_mr(const char *created_by);

/* ---------------------------------------------------------------- schema */

static void logical_from_converted(const pq_schema_element *e,
                                   pq_logical_type *l)
{
    memset(l, 0, sizeof *l);
    if (!e->has_converted_type)
        return;
    switch (e->converted_type) {
    case PQ_CT_UTF8:
        l->kind = PQ_LT_STRING;
        break;
    case PQ_CT_ENUM:
        l->kind = PQ_LT_ENUM;
        break;
    case PQ_CT_JSON:
        l->kind = PQ_LT_JSON;
        break;
    case PQ_CT_BSON:
        l->kind = PQ_LT_BSON;
        break;
    case PQ_CT_DECIMAL:
        l->kind = PQ_LT_DECIMAL;
        l->decimal_scale = e->has_scale ? e->scale : 0;
        l->decimal_precision = e->has_precision ? e->precision : 0;
        break;
    case PQ_CT_DATE:
        l->kind = PQ_LT_DATE;
        break;
    case PQ_CT_TIME_MILLIS:
    case PQ_CT_TIME_MICROS:
        l->kind = PQ_LT_TIME;
        l->is_adjusted_to_utc = true;
        l->unit = e->converted_type == PQ_CT_TIME_MILLIS ? PQ_UNIT_MILLIS
                                                         : PQ_UNIT_MICROS;
        break;
    case PQ_CT_TIMESTAMP_MILLIS:
    case PQ_CT_TIMESTAMP_MICROS:
        l->kind = PQ_LT_TIMESTAMP;
        l->is_adjusted_to_utc = true;
        l->unit = e->converted_type == PQ_CT_TIMESTAMP_MILLIS ? PQ_UNIT_MILLIS
                                                              : PQ_UNIT_MICROS;
        break;
    case PQ_CT_INT_8:
    case PQ_CT_INT_16:
    case PQ_CT_INT_32:
    case PQ_CT_INT_64:
    case PQ_CT_UINT_8:
    case PQ_CT_UINT_16:
    case PQ_CT_UINT_32:
    case PQ_CT_UINT_64: {
        static const int8_t bw[] = {8, 16, 32, 64};
        int k = (int)e->converted_type;
        bool uns = k <= PQ_CT_UINT_64;
        l->kind = PQ_LT_INTEGER;
        l->int_is_signed = !uns;
        l->int_bit_width = bw[uns ? k - PQ_CT_UINT_8 : k - PQ_CT_INT_8];
        break;
    }
    default:
        break;
    }
}

/* Path of the first leaf below group element i, "a.b.c", for messages. */
static void first_leaf_path(const pq_file_meta *m, uint32_t i, char *buf,
                            size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (uint32_t j = i; j < m->n_schema; j++) {
        const char *nm = m->schema[j].name ? m->schema[j].name : "?";
        int k = snprintf(buf + n, cap - n, "%s%s", n ? "." : "", nm);
        if (k < 0 || (size_t)k >= cap - n)
            break;
        n += (size_t)k;
        if (!(m->schema[j].has_num_children && m->schema[j].num_children > 0))
            break;
    }
}

static int check_schema(pq_reader *r)
{
    const pq_file_meta *m = &r->meta;
    if (m->n_schema < 1)
        return meru_err(MERU_ECORRUPT, "parquet: footer has an empty schema");
    const pq_schema_element *root = &m->schema[0];
    if (!root->has_num_children || root->num_children < 0)
        return meru_err(MERU_ECORRUPT,
                        "parquet: schema root has no children count");
    /* Walk the root's children; a group or a repeated leaf is nested. */
    uint32_t i = 1;
    for (int32_t k = 0; k < root->num_children; k++) {
        if (i >= m->n_schema)
            return meru_err(MERU_ECORRUPT,
                            "parquet: schema declares %d top-level fields but "
                            "has %u elements",
                            root->num_children, m->n_schema);
        const pq_schema_element *e = &m->schema[i];
        char path[256];
        if ((e->has_num_children && e->num_children > 0) || !e->has_type) {
            first_leaf_path(m, i, path, sizeof path);
            if (!e->has_num_children && !e->has_type)
                return meru_err(MERU_ECORRUPT,
                                "parquet: schema element %s has neither a type "
                                "nor children",
                                path);
            return meru_err(MERU_ENOTSUP,
                            "nested schemas are not supported (column %s)",
                            path);
        }
        if (e->has_repetition && e->repetition_type == PQ_REPEATED) {
            first_leaf_path(m, i, path, sizeof path);
            return meru_err(MERU_ENOTSUP,
                            "nested schemas are not supported (column %s is "
                            "repeated)",
                            path);
        }
        i++;
    }
    if (i != m->n_schema)
        return meru_err(MERU_ECORRUPT,
                        "parquet: schema has %u elements but its tree uses %u",
                        m->n_schema, i);
    r->ncols = m->n_schema - 1;
    r->cols = meru_arena_zalloc(r->arena, (r->ncols + 1) * sizeof *r->cols);
    if (!r->cols)
        return MERU_ENOMEM;
    for (uint32_t c = 0; c < r->ncols; c++) {
        const pq_schema_element *e = &m->schema[c + 1];
        pq_column_info *ci = &r->cols[c];
        ci->name = e->name ? e->name : "";
        ci->type = e->type;
        if ((unsigned)e->type > PQ_FIXED_LEN_BYTE_ARRAY)
            return meru_err(MERU_ECORRUPT,
                            "parquet: column %s has unknown physical type %d",
                            ci->name, (int)e->type);
        if (e->type == PQ_FIXED_LEN_BYTE_ARRAY) {
            if (!e->has_type_length || e->type_length <= 0 ||
                e->type_length > (1 << 24))
                return meru_err(MERU_ECORRUPT,
                                "parquet: FIXED_LEN_BYTE_ARRAY column %s has a "
                                "bad length",
                                ci->name);
            ci->type_length = e->type_length;
        }
        ci->repetition = e->has_repetition ? e->repetition_type : PQ_REQUIRED;
        ci->has_field_id = e->has_field_id;
        ci->field_id = e->field_id;
        ci->has_converted = e->has_converted_type;
        ci->converted = e->converted_type;
        if (e->logical_type.kind != PQ_LT_NONE)
            ci->logical = e->logical_type;
        else
            logical_from_converted(e, &ci->logical);
        if (ci->logical.kind == PQ_LT_DECIMAL &&
            ci->logical.decimal_precision == 0 && e->has_precision) {
            ci->logical.decimal_precision = e->precision;
            ci->logical.decimal_scale = e->has_scale ? e->scale : 0;
        }
        ci->order = pq_sort_order_of(
            ci->type, &ci->logical,
            e->has_converted_type ? (int)e->converted_type : -1);
    }
    return MERU_OK;
}

static int check_row_groups(pq_reader *r)
{
    const pq_file_meta *m = &r->meta;
    int64_t total = 0;
    for (uint32_t g = 0; g < m->n_row_groups; g++) {
        const pq_row_group *rg = &m->row_groups[g];
        if (rg->n_columns != r->ncols)
            return meru_err(MERU_ECORRUPT,
                            "parquet: row group %u has %u columns, the schema "
                            "%u",
                            g, rg->n_columns, r->ncols);
        if (rg->num_rows < 0 || rg->num_rows > INT64_MAX - total)
            return meru_err(MERU_ECORRUPT,
                            "parquet: row group %u has a bad row count %lld", g,
                            (long long)rg->num_rows);
        total += rg->num_rows;
        for (uint32_t c = 0; c < r->ncols; c++) {
            const pq_column_chunk *cc = &rg->columns[c];
            if (cc->file_path)
                return meru_err(MERU_ENOTSUP,
                                "parquet: column %s of row group %u is in "
                                "another file (%s)",
                                r->cols[c].name, g, cc->file_path);
            if (!cc->has_meta_data)
                return meru_err(MERU_ECORRUPT,
                                "parquet: column %s of row group %u has no "
                                "metadata",
                                r->cols[c].name, g);
            if (cc->meta_data.type != r->cols[c].type)
                return meru_err(MERU_ECORRUPT,
                                "parquet: column %s of row group %u is %s, "
                                "the schema says %s",
                                r->cols[c].name, g,
                                pq_type_name(cc->meta_data.type),
                                pq_type_name(r->cols[c].type));
        }
    }
    r->num_rows = total;
    return MERU_OK;
}

static int hexdig(uint8_t c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

/* Parses the bloom checksum entry `key` of the footer, if the file has
 * one, into the chunk caches ("<rg>:<col>:<8 hex>" items, commas between):
 * every item names a chunk that has a filter, once. */
static int load_bloom_crcs(pq_reader *r, const char *key)
{
    const pq_key_value *kv = NULL;
    for (uint32_t i = 0; i < r->meta.n_key_value_metadata && !kv; i++)
        if (!strcmp(r->meta.key_value_metadata[i].key, key))
            kv = &r->meta.key_value_metadata[i];
    if (!kv)
        return MERU_OK;
    /* (a key without a value has no bytes: no pointer arithmetic on it) */
    if (!kv->has_value || !kv->value.len || !kv->value.ptr)
        goto bad;
    const uint8_t *p = kv->value.ptr, *end = p + kv->value.len;
    while (p < end) {
        uint64_t f[3] = {0, 0, 0};
        for (int k = 0; k < 3; k++) {
            const uint8_t *s = p;
            int base = k == 2 ? 16 : 10;
            while (p < end && p - s < 10 &&
                   (k == 2 ? hexdig(*p) >= 0 : (*p >= '0' && *p <= '9'))) {
                f[k] = f[k] * (uint64_t)base + (uint64_t)hexdig(*p);
                p++;
            }
            if (p == s || (k == 2 && p - s != 8))
                goto bad;
            if (k < 2 && (p == end || *p++ != ':'))
                goto bad;
        }
        if (p < end && (*p++ != ',' || p == end))
            goto bad;
        if (f[0] >= r->meta.n_row_groups || f[1] >= r->ncols)
            goto bad;
        pqr_chunk_cache *c = &r->cache[f[0] * r->ncols + f[1]];
        if (c->has_bloom_crc || !pq_reader_has_bloom(r, (uint32_t)f[0],
                                                     (uint32_t)f[1]))
            goto bad;
        c->has_bloom_crc = true;
        c->bloom_crc = (uint32_t)f[2];
    }
    r->bloom_crcs = true;
    return MERU_OK;
bad:
    return meru_err(MERU_ECORRUPT,
                    "parquet: footer entry %s (bloom filter checksums) is "
                    "malformed",
                    key);
}

int pq_reader_open(pq_reader **out, const pq_source *src,
                   const pq_reader_options *opts)
{
    *out = NULL;
    pq_reader *r = calloc(1, sizeof *r);
    if (!r)
        return meru_err(MERU_ENOMEM, "parquet reader: out of memory");
    r->src = *src;
    if (opts)
        r->o = *opts;
    pthread_mutex_init(&r->mu, NULL);
    uint8_t *footer = NULL;
    int rc = meru_arena_new(&r->arena, 0);
    if (rc)
        goto fail;
    uint64_t size = src->size;
    if (size < 12) {
        rc = meru_err(MERU_ECORRUPT,
                      "parquet: file of %llu bytes is too small to be Parquet",
                      (unsigned long long)size);
        goto fail;
    }
    uint8_t tail[8], head[4];
    rc = pqr_read(r, size - 8, 8, tail);
    if (!rc)
        rc = pqr_read(r, 0, 4, head);
    if (rc)
        goto fail;
    if (!memcmp(tail + 4, "PARE", 4)) {
        rc = meru_err(MERU_ENOTSUP,
                      "parquet: encrypted files are not supported");
        goto fail;
    }
    if (memcmp(tail + 4, "PAR1", 4) || memcmp(head, "PAR1", 4)) {
        rc = meru_err(MERU_ECORRUPT,
                      "parquet: not a Parquet file (magic bytes missing)");
        goto fail;
    }
    uint32_t flen = meru_load_le32(tail);
    if (flen == 0 || flen > size - 12 || flen > PQR_MAX_FOOTER) {
        rc = meru_err(MERU_ECORRUPT,
                      "parquet: footer length %u does not fit the file "
                      "(%llu bytes)",
                      flen, (unsigned long long)size);
        goto fail;
    }
    r->data_end = size - 8 - flen;
    const uint8_t *fbytes = src->base ? src->base + r->data_end : NULL;
    if (!fbytes) {
        footer = malloc(flen);
        if (!footer) {
            rc = meru_err(MERU_ENOMEM, "parquet: footer of %u bytes", flen);
            goto fail;
        }
        rc = pqr_read(r, r->data_end, flen, footer);
        if (rc)
            goto fail;
        fbytes = footer;
    }
    rc = pq_decode_file_meta(fbytes, flen, r->arena, &r->meta);
    if (rc) {
        meru_err_wrap(rc, "parquet: footer");
        goto fail;
    }
    r->pad_chunks = old_parquet_mr(r->meta.created_by);
    rc = check_schema(r);
    if (!rc)
        rc = check_row_groups(r);
    if (rc)
        goto fail;
    size_t nc = (size_t)r->meta.n_row_groups * r->ncols;
    r->cache = calloc(nc ? nc : 1, sizeof *r->cache);
    if (!r->cache) {
        rc = meru_err(MERU_ENOMEM, "parquet reader: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nc; i++) {
        atomic_init(&r->cache[i].ci_done, false);
        atomic_init(&r->cache[i].oi_done, false);
        atomic_init(&r->cache[i].bloom_done, false);
    }
    rc = meru_arena_new(&r->cache_arena, 0);
    if (!rc && r->o.bloom_crc_key)
        rc = load_bloom_crcs(r, r->o.bloom_crc_key);
    r->o.bloom_crc_key = NULL; /* the caller's string: used only here */
    if (rc)
        goto fail;
    free(footer);
    *out = r;
    return MERU_OK;
fail:
    free(footer);
    pq_reader_close(r);
    return rc;
}

void pq_reader_close(pq_reader *r)
{
    if (!r)
        return;
    if (r->cache) {
        size_t nc = (size_t)r->meta.n_row_groups * r->ncols;
        for (size_t i = 0; i < nc; i++) {
            free(r->cache[i].bloom_bits);
            free((void *)r->cache[i].crc_ok);
        }
        free(r->cache);
    }
    meru_arena_free(r->cache_arena);
    meru_arena_free(r->arena);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ------------------------------------------------------------ accessors */

const pq_file_meta *pq_reader_meta(const pq_reader *r)
{
    return &r->meta;
}
uint32_t pq_reader_num_columns(const pq_reader *r)
{
    return r->ncols;
}
uint32_t pq_reader_num_row_groups(const pq_reader *r)
{
    return r->meta.n_row_groups;
}
int64_t pq_reader_num_rows(const pq_reader *r)
{
    return r->num_rows;
}

const pq_column_info *pq_reader_column(const pq_reader *r, uint32_t col)
{
    return col < r->ncols ? &r->cols[col] : NULL;
}

int pq_reader_find_column(const pq_reader *r, const char *name)
{
    for (uint32_t i = 0; i < r->ncols; i++)
        if (!strcmp(r->cols[i].name, name))
            return (int)i;
    return -1;
}

int pq_reader_find_field_id(const pq_reader *r, int32_t field_id)
{
    for (uint32_t i = 0; i < r->ncols; i++)
        if (r->cols[i].has_field_id && r->cols[i].field_id == field_id)
            return (int)i;
    return -1;
}

int64_t pq_reader_row_group_rows(const pq_reader *r, uint32_t rg)
{
    return rg < r->meta.n_row_groups ? r->meta.row_groups[rg].num_rows : 0;
}

const pq_column_meta *pq_reader_chunk(const pq_reader *r, uint32_t rg,
                                      uint32_t col)
{
    if (rg >= r->meta.n_row_groups || col >= r->ncols)
        return NULL;
    return &r->meta.row_groups[rg].columns[col].meta_data;
}

int pqr_chunk_range(const pq_reader *r, uint32_t rg, uint32_t col,
                    uint64_t *start, uint64_t *end)
{
    const pq_column_meta *m = pq_reader_chunk(r, rg, col);
    const char *name = r->cols[col].name;
    int64_t s = m->data_page_offset;
    if (m->has_dictionary_page_offset && m->dictionary_page_offset > 0 &&
        m->dictionary_page_offset < s)
        s = m->dictionary_page_offset;
    int64_t len = m->total_compressed_size;
    if (s < 4 || len <= 0 || (uint64_t)s > r->data_end ||
        (uint64_t)len > r->data_end - (uint64_t)s)
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u: chunk [%lld, +%lld) "
                        "lies outside the data area of the file",
                        name, rg, (long long)s, (long long)len);
    *start = (uint64_t)s;
    *end = (uint64_t)s + (uint64_t)len;
    if (r->pad_chunks) {
        /* parquet-mr <= 1.2.8 left the dictionary page header out of
         * total_compressed_size (PARQUET-816); readers pad like arrow */
        uint64_t room = r->data_end - *end;
        *end += room < 100 ? room : 100;
    }
    return MERU_OK;
}

/* True for files written by parquet-mr before 1.2.9 (or with no version),
 * whose chunk sizes miss the dictionary page header. */
static bool old_parquet_mr(const char *created_by)
{
    static const char pfx[] = "parquet-mr";
    if (!created_by || strncmp(created_by, pfx, sizeof pfx - 1))
        return false;
    const char *v = strstr(created_by, "version ");
    if (!v)
        return true;
    int a = 0, b = 0, c = 0;
    if (sscanf(v + 8, "%d.%d.%d", &a, &b, &c) < 1)
        return true;
    if (a != 1)
        return a < 1;
    if (b != 2)
        return b < 2;
    return c < 9;
}

/* ----------------------------------------------------------- statistics */

bool pq_reader_chunk_minmax(const pq_reader *r, uint32_t rg, uint32_t col,
                            pq_bytes *min, pq_bytes *max)
{
    const pq_column_meta *m = pq_reader_chunk(r, rg, col);
    if (!m || !m->has_statistics)
        return false;
    pq_sort_order o = r->cols[col].order;
    const pq_statistics *s = &m->statistics;
    if (s->has_min_value && s->has_max_value) {
        *min = s->min_value;
        *max = s->max_value;
    } else if (s->has_min && s->has_max && pq_sort_order_legacy_ok(o)) {
        *min = s->min;
        *max = s->max;
    } else {
        return false;
    }
    return pq_stats_value_ok(o, min->ptr, min->len) &&
           pq_stats_value_ok(o, max->ptr, max->len) &&
           pq_stats_compare(o, min->ptr, min->len, max->ptr, max->len) <= 0;
}

int64_t pq_reader_chunk_null_count(const pq_reader *r, uint32_t rg,
                                   uint32_t col)
{
    const pq_column_meta *m = pq_reader_chunk(r, rg, col);
    if (!m || !m->has_statistics || !m->statistics.has_null_count)
        return -1;
    return m->statistics.null_count;
}

static bool value_in(pq_sort_order o, const void *v, size_t len, pq_bytes lo,
                     pq_bytes hi)
{
    return pq_stats_compare(o, v, len, lo.ptr, lo.len) >= 0 &&
           pq_stats_compare(o, v, len, hi.ptr, hi.len) <= 0;
}

bool pq_reader_chunk_may_contain(const pq_reader *r, uint32_t rg, uint32_t col,
                                 const void *value, size_t len)
{
    const pq_column_meta *m = pq_reader_chunk(r, rg, col);
    if (!m)
        return false;
    pq_sort_order o = r->cols[col].order;
    if (!pq_stats_value_ok(o, value, len))
        return true;
    int64_t nulls = pq_reader_chunk_null_count(r, rg, col);
    if (nulls >= 0 && nulls == m->num_values)
        return false;
    pq_bytes lo, hi;
    if (!pq_reader_chunk_minmax(r, rg, col, &lo, &hi))
        return true;
    return value_in(o, value, len, lo, hi);
}

/* ----------------------------------------------------------- page index */

static pqr_chunk_cache *cache_of(pq_reader *r, uint32_t rg, uint32_t col)
{
    return &r->cache[(size_t)rg * r->ncols + col];
}

/* The index bytes: in place when the source has a base (*owned NULL),
 * else read into *owned (the caller frees it). */
static int read_index_blob(pq_reader *r, uint32_t rg, uint32_t col,
                           const char *what, int64_t off, int32_t len,
                           const uint8_t **out, uint8_t **owned)
{
    *out = NULL;
    *owned = NULL;
    if (off < 4 || len <= 0 || (uint32_t)len > PQR_MAX_INDEX ||
        (uint64_t)off > r->src.size ||
        (uint64_t)len > r->src.size - (uint64_t)off)
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u: %s at [%lld, +%d) "
                        "lies outside the file",
                        r->cols[col].name, rg, what, (long long)off, len);
    if (r->src.base) {
        *out = r->src.base + off;
        return MERU_OK;
    }
    uint8_t *b = malloc((size_t)len);
    if (!b)
        return meru_err(MERU_ENOMEM, "parquet: %s of %d bytes", what, len);
    int rc = pqr_read(r, (uint64_t)off, (size_t)len, b);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    *owned = b;
    return MERU_OK;
}

static int check_offset_index(pq_reader *r, uint32_t rg, uint32_t col,
                              const pq_offset_index *oi)
{
    uint64_t start, end;
    int rc = pqr_chunk_range(r, rg, col, &start, &end);
    if (rc)
        return rc;
    int64_t rows = r->meta.row_groups[rg].num_rows;
    for (uint32_t i = 0; i < oi->n_pages; i++) {
        const pq_page_location *p = &oi->page_locations[i];
        bool ok =
            p->offset >= (int64_t)start && p->compressed_page_size > 0 &&
            (uint64_t)p->offset + (uint64_t)p->compressed_page_size <= end &&
            p->first_row_index >= 0 && p->first_row_index <= rows;
        if (ok && i == 0)
            ok = p->first_row_index == 0;
        if (ok && i > 0)
            ok = p->first_row_index >=
                     oi->page_locations[i - 1].first_row_index &&
                 p->offset > oi->page_locations[i - 1].offset;
        if (!ok)
            return meru_err(MERU_ECORRUPT,
                            "parquet: column %s row group %u: offset index "
                            "entry %u is inconsistent with the chunk",
                            r->cols[col].name, rg, i);
    }
    if (oi->n_pages == 0 && rows > 0)
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u: empty offset index",
                        r->cols[col].name, rg);
    return MERU_OK;
}

/* Loads the offset index (`offset`) or column index of a chunk once and
 * caches it under r->mu; a chunk without one gives *out NULL. A failed load
 * is not cached, so a later call tries again and reports again. Once
 * loaded, the index is read without the mutex: the done flag is set
 * (release) after the pointer, and read (acquire) before it. */
static int load_index(pq_reader *r, uint32_t rg, uint32_t col, bool offset,
                      const void **out)
{
    *out = NULL;
    if (rg >= r->meta.n_row_groups || col >= r->ncols)
        return meru_err(MERU_EINVAL, "parquet: no chunk (%u, %u)", rg, col);
    pqr_chunk_cache *k = cache_of(r, rg, col);
    atomic_bool *done = offset ? &k->oi_done : &k->ci_done;
    if (atomic_load_explicit(done, memory_order_acquire)) {
        *out = offset ? (const void *)k->oi : (const void *)k->ci;
        return MERU_OK;
    }
    const pq_column_chunk *cc = &r->meta.row_groups[rg].columns[col];
    const char *what = offset ? "offset index" : "column index";
    bool present = offset ? cc->has_offset_index : cc->has_column_index;
    int64_t at = offset ? cc->offset_index_offset : cc->column_index_offset;
    int32_t len = offset ? cc->offset_index_length : cc->column_index_length;
    pthread_mutex_lock(&r->mu);
    int rc = MERU_OK;
    uint8_t *owned = NULL;
    if (!atomic_load_explicit(done, memory_order_relaxed) && present) {
        void *idx = NULL;
        const uint8_t *blob = NULL;
        rc = read_index_blob(r, rg, col, what, at, len, &blob, &owned);
        if (!rc) {
            idx = meru_arena_zalloc(r->cache_arena,
                                    offset ? sizeof(pq_offset_index)
                                           : sizeof(pq_column_index));
            if (!idx)
                rc = MERU_ENOMEM;
        }
        if (!rc) {
            rc = offset ? pq_decode_offset_index(blob, (size_t)len,
                                                 r->cache_arena, idx)
                        : pq_decode_column_index(blob, (size_t)len,
                                                 r->cache_arena, idx);
            if (rc)
                meru_err_wrap(rc, "parquet: column %s row group %u",
                              r->cols[col].name, rg);
        }
        if (!rc && offset)
            rc = check_offset_index(r, rg, col, idx);
        if (!rc && offset && r->src.base && !r->o.skip_crc) {
            /* bytes read in place are the same bytes every time: a page's
             * CRC needs checking once, not on every decode */
            const pq_offset_index *oi = idx;
            k->crc_ok = calloc(oi->n_pages ? oi->n_pages : 1, 1);
            if (!k->crc_ok)
                rc = meru_err(MERU_ENOMEM, "parquet: out of memory");
            for (uint32_t i = 0; !rc && i < oi->n_pages; i++)
                atomic_init(&k->crc_ok[i], 0);
        }
        if (!rc) {
            if (offset)
                k->oi = idx;
            else
                k->ci = idx;
        }
    }
    if (!rc)
        atomic_store_explicit(done, true, memory_order_release);
    *out = offset ? (const void *)k->oi : (const void *)k->ci;
    pthread_mutex_unlock(&r->mu);
    free(owned);
    return rc;
}

int pq_reader_offset_index(pq_reader *r, uint32_t rg, uint32_t col,
                           const pq_offset_index **out)
{
    const void *p;
    int rc = load_index(r, rg, col, true, &p);
    *out = p;
    return rc;
}

int pq_reader_column_index(pq_reader *r, uint32_t rg, uint32_t col,
                           const pq_column_index **out)
{
    const void *p;
    int rc = load_index(r, rg, col, false, &p);
    *out = p;
    return rc;
}

int pq_reader_pages_for_value(pq_reader *r, uint32_t rg, uint32_t col,
                              const void *value, size_t len, int64_t *row_begin,
                              int64_t *row_end)
{
    int64_t rows = pq_reader_row_group_rows(r, rg);
    *row_begin = 0;
    *row_end = rows;
    const pq_column_index *ci;
    const pq_offset_index *oi;
    int rc = pq_reader_column_index(r, rg, col, &ci);
    if (!rc)
        rc = pq_reader_offset_index(r, rg, col, &oi);
    if (rc)
        return rc;
    pq_sort_order o = r->cols[col].order;
    if (!ci || !oi || ci->n_pages != oi->n_pages ||
        !pq_stats_value_ok(o, value, len))
        return MERU_OK;
    int64_t first = -1, last = -1;
    for (uint32_t i = 0; i < ci->n_pages; i++) {
        if (ci->null_pages[i])
            continue;
        pq_bytes lo = ci->min_values[i], hi = ci->max_values[i];
        if (pq_stats_value_ok(o, lo.ptr, lo.len) &&
            pq_stats_value_ok(o, hi.ptr, hi.len) &&
            !value_in(o, value, len, lo, hi))
            continue;
        if (first < 0)
            first = i;
        last = i;
    }
    if (first < 0) {
        *row_begin = *row_end = 0;
        return MERU_OK;
    }
    *row_begin = oi->page_locations[first].first_row_index;
    *row_end = pq_offset_index_page_end(oi, (uint32_t)last, rows);
    return MERU_OK;
}

/* --------------------------------------------------------- bloom filter */

bool pq_reader_has_bloom(const pq_reader *r, uint32_t rg, uint32_t col)
{
    const pq_column_meta *m = pq_reader_chunk(r, rg, col);
    return m && m->has_bloom_filter_offset;
}

static int load_bloom(pq_reader *r, uint32_t rg, uint32_t col,
                      pqr_chunk_cache *k)
{
    const pq_column_meta *m = pq_reader_chunk(r, rg, col);
    const char *name = r->cols[col].name;
    int64_t off = m->bloom_filter_offset;
    if (off < 4 || (uint64_t)off >= r->src.size)
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u: bloom filter offset "
                        "%lld outside the file",
                        name, rg, (long long)off);
    uint64_t avail = r->src.size - (uint64_t)off;
    if (m->has_bloom_filter_length) {
        if (m->bloom_filter_length <= 0 ||
            (uint64_t)m->bloom_filter_length > avail)
            return meru_err(MERU_ECORRUPT,
                            "parquet: column %s row group %u: bloom filter "
                            "length %d does not fit the file",
                            name, rg, m->bloom_filter_length);
        avail = (uint64_t)m->bloom_filter_length;
    }
    uint8_t hb[256];
    size_t hn = avail < sizeof hb ? (size_t)avail : sizeof hb;
    const uint8_t *hp = r->src.base ? r->src.base + off : hb;
    int rc = r->src.base ? MERU_OK : pqr_read(r, (uint64_t)off, hn, hb);
    if (rc)
        return rc;
    pq_bloom_filter_header h;
    size_t used;
    rc = pq_decode_bloom_header(hp, hn, &h, &used);
    if (rc)
        return meru_err_wrap(rc, "parquet: column %s row group %u", name, rg);
    if (h.num_bytes <= 0 || (uint32_t)h.num_bytes > PQ_BLOOM_MAX_BYTES ||
        (uint64_t)h.num_bytes > avail - used)
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u: bloom filter of %d "
                        "bytes does not fit",
                        name, rg, h.num_bytes);
    /* the filter's bits in place when the source has a base, else read
     * into memory kept until close */
    const uint8_t *bits = r->src.base ? r->src.base + off + used : NULL;
    uint8_t *owned = NULL;
    if (!bits) {
        owned = malloc((size_t)h.num_bytes);
        if (!owned)
            return meru_err(MERU_ENOMEM, "parquet: bloom filter of %d bytes",
                            h.num_bytes);
        rc = pqr_read(r, (uint64_t)off + used, (size_t)h.num_bytes, owned);
        bits = owned;
    }
    if (!rc && r->bloom_crcs) {
        /* zeroed or flipped bits read as "absent": a wrong answer, so a
         * file that records checksums must match them */
        uint32_t crc = meru_crc32c_extend(meru_crc32c(hp, used), bits,
                                          (size_t)h.num_bytes);
        if (!k->has_bloom_crc)
            rc = meru_err(MERU_ECORRUPT,
                          "parquet: column %s row group %u: bloom filter "
                          "without a checksum entry",
                          name, rg);
        else if (crc != k->bloom_crc)
            rc = meru_err(MERU_ECORRUPT,
                          "parquet: column %s row group %u: bloom filter "
                          "checksum mismatch (%08x, expected %08x)",
                          name, rg, crc, k->bloom_crc);
    }
    if (!rc) {
        rc = pq_bloom_view(&k->bloom, bits, (size_t)h.num_bytes);
        if (rc)
            meru_err_wrap(rc, "parquet: column %s row group %u", name, rg);
    }
    if (rc) {
        free(owned);
        return rc;
    }
    k->bloom_bits = owned;
    k->has_bloom = true;
    return MERU_OK;
}

static uint64_t hash_value(const pq_column_info *c, const void *v, size_t len,
                           bool *ok)
{
    *ok = true;
    switch (c->type) {
    case PQ_INT32:
        if (len == 4)
            return pq_bloom_hash_i32((int32_t)meru_load_le32(v));
        break;
    case PQ_INT64:
        if (len == 8)
            return pq_bloom_hash_i64((int64_t)meru_load_le64(v));
        break;
    case PQ_FLOAT:
        if (len == 4) {
            float f;
            memcpy(&f, v, 4);
            return pq_bloom_hash_float(f);
        }
        break;
    case PQ_DOUBLE:
        if (len == 8) {
            double d;
            memcpy(&d, v, 8);
            return pq_bloom_hash_double(d);
        }
        break;
    case PQ_BYTE_ARRAY:
        return pq_bloom_hash_bytes(v, len);
    case PQ_FIXED_LEN_BYTE_ARRAY:
        if (len == (size_t)c->type_length)
            return pq_bloom_hash_bytes(v, len);
        break;
    case PQ_INT96:
        if (len == 12)
            return pq_bloom_hash_bytes(v, len);
        break;
    default:
        break;
    }
    *ok = false;
    return 0;
}

bool pq_reader_bloom_hash(const pq_reader *r, uint32_t col, const void *value,
                          size_t len, uint64_t *hash)
{
    bool ok = false;
    *hash = 0;
    if (col < r->ncols)
        *hash = hash_value(&r->cols[col], value, len, &ok);
    return ok;
}

/* The chunk's filter, loaded once under r->mu; after that read without
 * the mutex (done is stored with release after the filter is set up). */
int pq_reader_bloom_check_hash(pq_reader *r, uint32_t rg, uint32_t col,
                               uint64_t hash, bool *maybe)
{
    *maybe = true;
    if (rg >= r->meta.n_row_groups || col >= r->ncols)
        return meru_err(MERU_EINVAL, "parquet: no chunk (%u, %u)", rg, col);
    if (!pq_reader_has_bloom(r, rg, col))
        return MERU_OK;
    pqr_chunk_cache *k = cache_of(r, rg, col);
    int rc = MERU_OK;
    if (!atomic_load_explicit(&k->bloom_done, memory_order_acquire)) {
        pthread_mutex_lock(&r->mu);
        if (!atomic_load_explicit(&k->bloom_done, memory_order_relaxed)) {
            rc = load_bloom(r, rg, col, k);
            if (!rc)
                atomic_store_explicit(&k->bloom_done, true,
                                      memory_order_release);
        }
        pthread_mutex_unlock(&r->mu);
    }
    if (!rc && k->has_bloom)
        *maybe = pq_bloom_check(&k->bloom, hash);
    return rc;
}

int pq_reader_bloom_check(pq_reader *r, uint32_t rg, uint32_t col,
                          const void *value, size_t len, bool *maybe)
{
    *maybe = true;
    if (rg >= r->meta.n_row_groups || col >= r->ncols)
        return meru_err(MERU_EINVAL, "parquet: no chunk (%u, %u)", rg, col);
    if (!pq_reader_has_bloom(r, rg, col))
        return MERU_OK;
    uint64_t h;
    if (!pq_reader_bloom_hash(r, col, value, len, &h))
        return MERU_OK;
    return pq_reader_bloom_check_hash(r, rg, col, h, maybe);
}
