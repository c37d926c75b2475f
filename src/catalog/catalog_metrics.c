/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_metrics.c — the column metrics of a data file's manifest entry
 * (value, null counts, lower/upper bounds), taken from the statistics the
 * file's own Parquet footer carries.
 *
 * Why the footer and not the SST writer: the footer is the same for a file
 * written a minute ago, one written before the view existed and one an
 * export re-lists, so one code path serves commits, rebuilds and exports,
 * and reading it costs one footer read per added file (the page cache
 * still holds it right after the flush). Only user columns get metrics;
 * the hidden _merutable_* columns (reserved field ids) never appear.
 *
 * What the numbers mean: they describe the file as stored, hidden rows
 * included (deletes are applied by readers on top), so bounds are a
 * superset of the live rows' range and null counts include tombstones'
 * empty columns: both stay safe for pruning. NaN counts are not in
 * Parquet statistics, so nan_value_counts is left out (readers then assume
 * NaN may be present); bounds never hold NaN (Parquet excludes it), and a
 * zero lower bound of a float column is -0.0, a zero upper bound +0.0, as
 * the Iceberg spec orders them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_metrics.h"
#include "iceberg/metrics.h"
#include "parquet/pq.h"
#include "types/schema.h"
#include "util/error.h"

static int src_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    return meru_file_read_exact(ctx, off, buf, n);
}

void meru_catalog_metrics_free(meru_catalog_metrics *m)
{
    free(m->values);
    free(m->nulls);
    free(m->lower);
    free(m->upper);
    meru_buf_free(&m->bytes);
    memset(m, 0, sizeof *m);
}

static int64_t le_i64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    if (n == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

/* A decimal's unscaled value from big-endian two's complement bytes. */
static meru_i128 be_i128(const uint8_t *p, size_t n)
{
    meru_i128 r;
    uint64_t hi = (n && (p[0] & 0x80)) ? ~(uint64_t)0 : 0, lo = hi;
    for (size_t i = 0; i < n; i++) {
        hi = (hi << 8) | (lo >> 56);
        lo = (lo << 8) | p[i];
    }
    r.hi = (int64_t)hi;
    r.lo = lo;
    return r;
}

static int i128_cmp(meru_i128 a, meru_i128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    return a.lo < b.lo ? -1 : a.lo > b.lo;
}

/* The value of PLAIN statistics bytes `b` of a column of `col`'s type
 * stored as Parquet type `pt` (sst_internal.h's mapping); false when the
 * bytes do not fit the type. */
static bool plain_value(const meru_column *col, pq_type pt, pq_bytes b,
                        meru_value *v)
{
    memset(v, 0, sizeof *v);
    v->state = MERU_VALUE_PRESENT;
    switch (col->type) {
    case MERU_TYPE_BOOLEAN:
        if (b.len != 1)
            return false;
        v->u.b = b.ptr[0] != 0;
        return true;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        if (b.len != 4)
            return false;
        v->u.i32 = (int32_t)le_i64(b.ptr, 4);
        return true;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        if (b.len != 8)
            return false;
        v->u.i64 = le_i64(b.ptr, 8);
        return true;
    case MERU_TYPE_FLOAT:
        if (b.len != 4)
            return false;
        memcpy(&v->u.f32, b.ptr, 4);
        return !isnan(v->u.f32);
    case MERU_TYPE_DOUBLE:
        if (b.len != 8)
            return false;
        memcpy(&v->u.f64, b.ptr, 8);
        return !isnan(v->u.f64);
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
        v->u.bytes.ptr = b.ptr;
        v->u.bytes.len = b.len;
        return col->type != MERU_TYPE_FIXED ||
               b.len == (uint32_t)col->fixed_length;
    case MERU_TYPE_DECIMAL:
        if (pt == PQ_INT32 && b.len == 4) {
            int64_t x = le_i64(b.ptr, 4);
            v->u.dec.hi = x < 0 ? -1 : 0;
            v->u.dec.lo = (uint64_t)x;
        } else if (pt == PQ_INT64 && b.len == 8) {
            int64_t x = le_i64(b.ptr, 8);
            v->u.dec.hi = x < 0 ? -1 : 0;
            v->u.dec.lo = (uint64_t)x;
        } else if (pt == PQ_FIXED_LEN_BYTE_ARRAY && b.len >= 1 &&
                   b.len <= 16) {
            v->u.dec = be_i128(b.ptr, b.len);
        } else {
            return false;
        }
        return true;
    }
    return false;
}

static int value_cmp(meru_type t, const meru_value *a, const meru_value *b)
{
    switch (t) {
    case MERU_TYPE_BOOLEAN:
        return (a->u.b > b->u.b) - (a->u.b < b->u.b);
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        return (a->u.i32 > b->u.i32) - (a->u.i32 < b->u.i32);
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        return (a->u.i64 > b->u.i64) - (a->u.i64 < b->u.i64);
    case MERU_TYPE_FLOAT:
        return (a->u.f32 > b->u.f32) - (a->u.f32 < b->u.f32);
    case MERU_TYPE_DOUBLE:
        return (a->u.f64 > b->u.f64) - (a->u.f64 < b->u.f64);
    case MERU_TYPE_DECIMAL:
        return i128_cmp(a->u.dec, b->u.dec);
    default: {
        uint32_t n = a->u.bytes.len < b->u.bytes.len ? a->u.bytes.len
                                                     : b->u.bytes.len;
        int c = n ? memcmp(a->u.bytes.ptr, b->u.bytes.ptr, n) : 0;
        if (c)
            return c;
        return (a->u.bytes.len > b->u.bytes.len) -
               (a->u.bytes.len < b->u.bytes.len);
    }
    }
}

/* A bound's bytes are appended to m->bytes; their offsets are kept in the
 * data pointer until every append is done (the buffer may move). */
static int add_bound(meru_catalog_metrics *m, int upper, int32_t id,
                     const meru_column *col, const meru_value *v)
{
    size_t off = m->bytes.len;
    bool present = true;
    meru_value x = *v;
    int rc;
    if (col->type == MERU_TYPE_FLOAT && x.u.f32 == 0)
        x.u.f32 = upper ? 0.0f : -0.0f;
    if (col->type == MERU_TYPE_DOUBLE && x.u.f64 == 0)
        x.u.f64 = upper ? 0.0 : -0.0;
    if (upper)
        rc = meru_ice_upper_bound(&m->bytes, col->type, &x,
                                  MERU_ICE_TRUNCATE_DEFAULT, &present);
    else
        rc = meru_ice_lower_bound(&m->bytes, col->type, &x,
                                  MERU_ICE_TRUNCATE_DEFAULT);
    if (rc || !present)
        return rc;
    meru_ice_bound *b = upper ? &m->upper[m->n_upper++] : &m->lower[m->n_lower++];
    b->field_id = id;
    b->data = (const uint8_t *)(uintptr_t)off;
    b->len = m->bytes.len - off;
    return MERU_OK;
}

int meru_catalog_data_metrics(meru_fs *fs, const char *path,
                              const meru_schema *schema,
                              meru_catalog_metrics *m)
{
    meru_file *file = NULL;
    pq_reader *r = NULL;
    pq_source src = {src_read, 0, NULL, NULL};
    size_t nc = schema->ncols;
    int rc;
    memset(m, 0, sizeof *m);
    if ((rc = meru_fs_open(fs, path, MERU_FS_READ, &file)) ||
        (rc = meru_file_size(file, &src.size)))
        goto done;
    src.ctx = file;
    if ((rc = pq_reader_open(&r, &src, NULL)))
        goto done;
    m->values = calloc(nc + 1, sizeof *m->values);
    m->nulls = calloc(nc + 1, sizeof *m->nulls);
    m->lower = calloc(nc + 1, sizeof *m->lower);
    m->upper = calloc(nc + 1, sizeof *m->upper);
    if (!m->values || !m->nulls || !m->lower || !m->upper) {
        rc = meru_err(MERU_ENOMEM, "metrics of %s: out of memory", path);
        goto done;
    }
    int64_t rows = pq_reader_num_rows(r);
    uint32_t nrg = pq_reader_num_row_groups(r);
    for (size_t c = 0; c < nc; c++) {
        const meru_column *col = &schema->cols[c];
        int pc = pq_reader_find_field_id(r, col->field_id);
        if (pc < 0)
            continue; /* a column added after the file: no metrics */
        const pq_column_info *info = pq_reader_column(r, (uint32_t)pc);
        int64_t nulls = 0;
        bool have = true, any = false;
        meru_value lo, hi;
        for (uint32_t g = 0; g < nrg; g++) {
            int64_t n = pq_reader_chunk_null_count(r, g, (uint32_t)pc);
            if (n < 0 || nulls < 0)
                nulls = -1;
            else
                nulls += n;
            pq_bytes mn, mx;
            meru_value a, b;
            if (pq_reader_row_group_rows(r, g) == 0)
                continue;
            if (!pq_reader_chunk_minmax(r, g, (uint32_t)pc, &mn, &mx)) {
                /* An all-null chunk has no bounds and changes none. */
                if (n >= 0 && n == pq_reader_row_group_rows(r, g))
                    continue;
                have = false;
                continue;
            }
            if (!plain_value(col, info->type, mn, &a) ||
                !plain_value(col, info->type, mx, &b)) {
                have = false;
                continue;
            }
            if (!any || value_cmp(col->type, &a, &lo) < 0)
                lo = a;
            if (!any || value_cmp(col->type, &b, &hi) > 0)
                hi = b;
            any = true;
        }
        m->values[m->n_values].field_id = col->field_id;
        m->values[m->n_values++].value = rows;
        if (nulls >= 0) {
            m->nulls[m->n_nulls].field_id = col->field_id;
            m->nulls[m->n_nulls++].value = nulls;
        }
        if (have && any) {
            /* The values point into the reader's footer: encode now. */
            if ((rc = add_bound(m, 0, col->field_id, col, &lo)) ||
                (rc = add_bound(m, 1, col->field_id, col, &hi)))
                goto done;
        }
    }
    for (size_t i = 0; i < m->n_lower; i++)
        m->lower[i].data = m->bytes.data + (uintptr_t)m->lower[i].data;
    for (size_t i = 0; i < m->n_upper; i++)
        m->upper[i].data = m->bytes.data + (uintptr_t)m->upper[i].data;
done:
    if (rc) {
        meru_err_wrap(rc, "column metrics of %s", path);
        meru_catalog_metrics_free(m);
    }
    pq_reader_close(r);
    meru_file_close(file);
    return rc;
}
