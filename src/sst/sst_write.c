/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_write.c — writing an SST (format in sst.h, type mapping in
 * sst_internal.h).
 *
 * Entries arrive one by one in internal-key order. Each is split into the
 * file's columns right away: the hidden columns from the internal key, the
 * key columns from the decoded user key, the other columns from the decoded
 * rowcodec value (null for a delete). Rows are buffered column-wise for
 * batch_rows rows (or ~8 MiB of byte values), then handed to the Parquet
 * writer, which streams row groups to the file through the meru_fs (so the
 * fault-injecting fs sees every byte).
 *
 * Invariants:
 *  - The file exists from open until finish succeeds or the writer is
 *    aborted; any failure of finish removes it, so a partial SST never
 *    survives its writer.
 *  - Buffered byte-array values live in one heap buffer; the pq_bytes of a
 *    batch are pointed into it only at flush time (the heap may move while
 *    it grows).
 *  - Bad input (keys out of order, an undecodable value) is MERU_EINVAL and
 *    leaves the writer usable; an I/O error makes it failed for good.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sst/sst_internal.h"
#include "types/keycodec.h"
#include "util/error.h"

#define HEAP_FLUSH_BYTES (8u << 20)

typedef struct wcol {
    meru_buf vals;  /* dense values, pq_value_width bytes each */
    meru_buf valid; /* one byte per row */
    meru_buf offs;  /* byte arrays: size_t offset of each value in heap */
    size_t width;
    bool bytes;
} wcol;

struct meru_sst_writer {
    meru_fs *fs;
    meru_file *file;
    char *path;
    meru_schema *schema;
    meru_sst_options o;
    pq_writer *pw;
    pq_sink sink;
    uint64_t written; /* bytes appended to the file */
    int failed;       /* first I/O failure */

    uint32_t npq; /* 3 hidden + the schema's columns */
    wcol *cols;
    meru_buf heap;
    size_t nbuf; /* rows buffered */
    uint64_t rows;
    uint64_t min_seq, max_seq;
    meru_buf last_ikey;
    meru_buf smallest; /* first user key */

    meru_colset nonkey;
    meru_value *vals;
    meru_value kvals[MERU_MAX_KEY_COLUMNS];
    meru_buf scratch;
    pq_column_data *cd;
};

static int reserve_batch(meru_sst_writer *w);

static int sink_write(void *ctx, const void *p, size_t n)
{
    meru_sst_writer *w = ctx;
    int rc = meru_file_append(w->file, p, n);
    if (!rc)
        w->written += n;
    return rc;
}

static void free_writer(meru_sst_writer *w, bool remove_file)
{
    if (!w)
        return;
    pq_writer_abort(w->pw);
    if (w->file)
        meru_file_close(w->file);
    if (remove_file && w->path) {
        meru_err_saved e;
        meru_err_save(&e);
        meru_fs_remove(w->fs, w->path); /* best effort: already failing */
        meru_err_restore(&e);
    }
    if (w->cols)
        for (uint32_t i = 0; i < w->npq; i++) {
            meru_buf_free(&w->cols[i].vals);
            meru_buf_free(&w->cols[i].valid);
            meru_buf_free(&w->cols[i].offs);
        }
    free(w->cols);
    free(w->cd);
    free(w->vals);
    meru_buf_free(&w->heap);
    meru_buf_free(&w->last_ikey);
    meru_buf_free(&w->smallest);
    meru_buf_free(&w->scratch);
    meru_schema_free(w->schema);
    free(w->path);
    free(w);
}

void meru_sst_writer_abort(meru_sst_writer *w)
{
    free_writer(w, true);
}

int meru_sst_writer_open(meru_sst_writer **out, meru_fs *fs, const char *path,
                         const meru_schema *schema, const meru_sst_options *o)
{
    *out = NULL;
    if (!fs || !path || !schema)
        return meru_err(MERU_EINVAL, "meru_sst_writer_open: NULL argument");
    if (schema->nkey == 0 || schema->nkey > MERU_MAX_KEY_COLUMNS ||
        schema->ncols == 0 || schema->ncols > MERU_MAX_COLUMNS)
        return meru_err(MERU_EINVAL,
                        "writing SST %s: the schema needs a primary key", path);
    meru_sst_writer *w = calloc(1, sizeof *w);
    if (!w)
        return meru_err(MERU_ENOMEM, "writing SST %s: out of memory", path);
    w->fs = fs;
    int rc;
    pq_column_spec *specs = NULL;
    char *json = NULL;
    if (o)
        w->o = *o;
    else
        meru_sst_options_for_level(&w->o, 0, NULL);
    if (w->o.batch_rows == 0)
        w->o.batch_rows = 4096;
    w->path = strdup(path);
    if (!w->path) {
        rc = meru_err(MERU_ENOMEM, "writing SST %s: out of memory", path);
        goto fail;
    }
    rc = meru_schema_clone(&w->schema, schema);
    if (rc)
        goto fail;
    const meru_schema *s = w->schema;
    w->npq = 3 + (uint32_t)s->ncols;
    w->cols = calloc(w->npq, sizeof *w->cols);
    w->cd = calloc(w->npq, sizeof *w->cd);
    w->vals = calloc(s->ncols, sizeof *w->vals);
    specs = calloc(w->npq, sizeof *specs);
    if (!w->cols || !w->cd || !w->vals || !specs) {
        rc = meru_err(MERU_ENOMEM, "writing SST %s: out of memory", path);
        goto fail;
    }
    for (size_t i = 0; i < s->ncols; i++)
        if (s->cols[i].key_position < 0)
            meru_colset_add(&w->nonkey, i);

    /* Column specs: hidden columns first. The internal key is unique and
     * sorted: no dictionary; at L1+ DELTA_BYTE_ARRAY shares the prefixes
     * of neighbouring keys. */
    specs[0].name = MERU_SST_COL_IKEY;
    specs[0].type = PQ_BYTE_ARRAY;
    specs[0].has_field_id = true;
    specs[0].field_id = MERU_SST_FIELD_ID_IKEY;
    specs[0].dictionary = PQ_OPT_OFF;
    /* Readers take each row group's exact key range from these statistics
     * (sst_read.c); keys are small enough (MERU_SST_MAX_IKEY) for a page
     * header to hold two of them. */
    specs[0].exact_statistics = true;
    if (w->o.pq.profile == PQ_PROFILE_COLUMN) {
        specs[0].has_encoding = true;
        specs[0].encoding = PQ_ENC_DELTA_BYTE_ARRAY;
    }
    specs[1].name = MERU_SST_COL_SEQ;
    specs[1].type = PQ_INT64;
    specs[1].has_field_id = true;
    specs[1].field_id = MERU_SST_FIELD_ID_SEQ;
    specs[2].name = MERU_SST_COL_OP;
    specs[2].type = PQ_INT32;
    specs[2].has_field_id = true;
    specs[2].field_id = MERU_SST_FIELD_ID_OP;
    for (size_t i = 0; i < s->ncols; i++) {
        pq_column_spec *cs = &specs[3 + i];
        sst_column_spec(&s->cols[i], cs);
        /* Short pages for wide values; their bounds are cut shorter too,
         * or the column index of many short pages of long strings would
         * outgrow what the shorter pages cost (a 16-byte prefix still
         * prunes as well as any prefix of a non-key column does). */
        if (s->cols[i].key_position < 0 && cs->type == PQ_BYTE_ARRAY &&
            w->o.string_page_bytes) {
            cs->page_size = w->o.string_page_bytes;
            cs->column_index_truncate = SST_STRING_CI_TRUNCATE;
        }
        /* Long pages for numbers: scanners pay per page, and a get's
         * page of numbers (8 bytes a row at most) stays cached. The row
         * cap goes with the length (page_rows, 20000 by default, would
         * end a page of doubles at 160 KiB): number_page_bytes of 8-byte
         * values, so a page of doubles or int64s ends at its length and
         * one of int32s at half of it. */
        if (s->cols[i].key_position < 0 && w->o.number_page_bytes &&
            (cs->type == PQ_INT32 || cs->type == PQ_INT64 ||
             cs->type == PQ_FLOAT || cs->type == PQ_DOUBLE)) {
            cs->page_size = w->o.number_page_bytes;
            cs->page_rows = w->o.number_page_bytes / 8;
        }
    }
    for (uint32_t i = 0; i < w->npq; i++) {
        w->cols[i].width = pq_value_width(specs[i].type);
        w->cols[i].bytes = specs[i].type == PQ_BYTE_ARRAY ||
                           specs[i].type == PQ_FIXED_LEN_BYTE_ARRAY;
    }
    rc = reserve_batch(w);
    if (rc) {
        meru_err_wrap(rc, "writing SST %s", path);
        goto fail;
    }

    rc = meru_schema_to_json(s, &json);
    if (rc)
        goto fail;
    char level[16];
    snprintf(level, sizeof level, "%d", w->o.level);
    /* The file's id: its name without the directory and ".parquet". */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t idlen = strlen(base);
    if (idlen > 8 && !strcmp(base + idlen - 8, ".parquet"))
        idlen -= 8;
    /* "iceberg.schema" is the key Iceberg's own writers put the file's
     * schema under; readers that find no name mapping in the table use it
     * to project the file's columns by field id (icebird does, and
     * without it reads a column added later by name and fails on files
     * that predate it). "merutable.schema" is what our reader reads. */
    pq_kv kv[5] = {
        {"merutable.format", "1", 1},
        {"merutable.level", level, strlen(level)},
        {"merutable.schema", json, strlen(json)},
        {"iceberg.schema", json, strlen(json)},
        {SST_KV_FILE_ID, base, idlen},
    };
    pq_writer_options po = w->o.pq;
    po.kv = kv;
    po.n_kv = idlen ? 5 : 4;
    po.bloom_crc_key = SST_KV_BLOOM_CRC;

    rc = meru_fs_open(fs, path, MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_EXCL,
                      &w->file);
    if (rc) {
        free(w->path); /* not ours: must not be removed */
        w->path = NULL;
        goto fail;
    }
    w->sink.write = sink_write;
    w->sink.ctx = w;
    rc = pq_writer_open(&w->pw, &w->sink, specs, w->npq, &po);
    if (rc) {
        meru_err_wrap(rc, "writing SST %s", path);
        goto fail;
    }
    free(specs);
    meru_free(json);
    *out = w;
    return MERU_OK;
fail:
    free(specs);
    meru_free(json);
    free_writer(w, true);
    return rc;
}

uint64_t meru_sst_writer_rows(const meru_sst_writer *w)
{
    return w ? w->rows : 0;
}

uint64_t meru_sst_writer_bytes(const meru_sst_writer *w)
{
    if (!w)
        return 0;
    uint64_t n = (w->pw ? pq_writer_bytes(w->pw) : w->written) + w->heap.len;
    for (uint32_t i = 0; i < w->npq; i++)
        if (!w->cols[i].bytes)
            n += w->cols[i].vals.len;
    return n;
}

/* Appends one value (PRESENT or not) of file column i. The per-row
 * buffers were sized for a whole batch at open (reserve_batch), so this
 * is a few stores; only the heap of byte values still grows. */
static int put_col(meru_sst_writer *w, uint32_t i, const void *v, size_t n,
                   bool present)
{
    wcol *c = &w->cols[i];
    int rc;
    if (c->vals.cap - c->vals.len < c->width ||
        c->valid.cap == c->valid.len ||
        (c->bytes && c->offs.cap - c->offs.len < sizeof(size_t))) {
        if ((rc = meru_buf_reserve(&c->vals, c->width)) ||
            (rc = meru_buf_reserve(&c->valid, 1)) ||
            (c->bytes && (rc = meru_buf_reserve(&c->offs, sizeof(size_t)))))
            return rc;
    }
    uint8_t *p = c->vals.data + c->vals.len;
    if (c->bytes) {
        size_t off = w->heap.len;
        if (present && n) {
            rc = meru_buf_append(&w->heap, v, n);
            if (rc)
                return rc;
        }
        memcpy(c->offs.data + c->offs.len, &off, sizeof off);
        c->offs.len += sizeof off;
        pq_bytes b = {NULL, present ? (uint32_t)n : 0};
        memcpy(p, &b, sizeof b);
    } else if (present) {
        memcpy(p, v, c->width);
    } else {
        memset(p, 0, c->width);
    }
    c->vals.len += c->width;
    c->valid.data[c->valid.len++] = present ? 1 : 0;
    return MERU_OK;
}

/* Sizes the per-row column buffers for batch_rows rows, once. A wide
 * schema buffers fewer rows, so the buffers stay near HEAP_FLUSH_BYTES
 * (4096 rows of 4096 columns would be ~200 MiB per writer). */
static int reserve_batch(meru_sst_writer *w)
{
    size_t row_bytes = 0;
    for (uint32_t i = 0; i < w->npq; i++)
        row_bytes += w->cols[i].width + 1 +
                     (w->cols[i].bytes ? sizeof(size_t) : 0);
    if (row_bytes && w->o.batch_rows > HEAP_FLUSH_BYTES / row_bytes)
        w->o.batch_rows = (uint32_t)(HEAP_FLUSH_BYTES / row_bytes);
    if (w->o.batch_rows < 16)
        w->o.batch_rows = 16;
    size_t n = w->o.batch_rows;
    for (uint32_t i = 0; i < w->npq; i++) {
        wcol *c = &w->cols[i];
        int rc;
        if ((rc = meru_buf_reserve(&c->vals, n * c->width)) ||
            (rc = meru_buf_reserve(&c->valid, n)) ||
            (c->bytes && (rc = meru_buf_reserve(&c->offs, n * sizeof(size_t)))))
            return rc;
    }
    return MERU_OK;
}

/* Appends the value of schema column `col` to its file column. */
static int put_value(meru_sst_writer *w, size_t col, const meru_value *v)
{
    const meru_column *c = &w->schema->cols[col];
    uint32_t i = 3 + (uint32_t)col;
    if (v->state != MERU_VALUE_PRESENT)
        return put_col(w, i, NULL, 0, false);
    uint8_t b = 0;
    uint8_t be[16];
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        b = v->u.b ? 1 : 0;
        return put_col(w, i, &b, 1, true);
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        return put_col(w, i, &v->u.i32, 4, true);
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        return put_col(w, i, &v->u.i64, 8, true);
    case MERU_TYPE_FLOAT:
        return put_col(w, i, &v->u.f32, 4, true);
    case MERU_TYPE_DOUBLE:
        return put_col(w, i, &v->u.f64, 8, true);
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
        return put_col(w, i, v->u.bytes.ptr, v->u.bytes.len, true);
    case MERU_TYPE_DECIMAL:
        if (c->precision <= 9) {
            int32_t x = (int32_t)v->u.dec.lo;
            return put_col(w, i, &x, 4, true);
        }
        if (c->precision <= 18) {
            int64_t x = (int64_t)v->u.dec.lo;
            return put_col(w, i, &x, 8, true);
        }
        meru_store_be64(be, (uint64_t)v->u.dec.hi);
        meru_store_be64(be + 8, v->u.dec.lo);
        size_t n = (size_t)sst_decimal_bytes(c->precision);
        return put_col(w, i, be + 16 - n, n, true);
    }
    return meru_err(MERU_EINTERNAL, "writing SST: column %zu of unknown type",
                    col);
}

/* Drops the rows appended after `keep` rows (a failed add). */
static void truncate_rows(meru_sst_writer *w, size_t keep, size_t heap_len)
{
    for (uint32_t i = 0; i < w->npq; i++) {
        wcol *c = &w->cols[i];
        if (c->valid.len > keep) {
            c->valid.len = keep;
            c->vals.len = keep * c->width;
            if (c->bytes)
                c->offs.len = keep * sizeof(size_t);
        }
    }
    w->heap.len = heap_len;
}

static int flush_batch(meru_sst_writer *w)
{
    static const uint8_t empty[1] = {0};
    if (w->nbuf == 0)
        return MERU_OK;
    for (uint32_t i = 0; i < w->npq; i++) {
        wcol *c = &w->cols[i];
        if (c->bytes) {
            pq_bytes *b = (pq_bytes *)(void *)c->vals.data;
            const size_t *off = (const size_t *)(void *)c->offs.data;
            for (size_t r = 0; r < w->nbuf; r++)
                b[r].ptr = w->heap.data ? w->heap.data + off[r] : empty;
        }
        w->cd[i].values = c->vals.data;
        w->cd[i].valid = c->valid.data;
    }
    int rc = pq_writer_write(w->pw, w->nbuf, w->cd);
    if (rc) {
        w->failed = rc;
        return meru_err_wrap(rc, "writing SST %s", w->path);
    }
    truncate_rows(w, 0, 0);
    w->nbuf = 0;
    return MERU_OK;
}

static int add_entry(meru_sst_writer *w, const uint8_t *ikey, size_t ilen,
                     const uint8_t *value, size_t vlen,
                     const meru_value *vals);

int meru_sst_writer_add(meru_sst_writer *w, const uint8_t *ikey, size_t ilen,
                        const uint8_t *value, size_t vlen)
{
    return add_entry(w, ikey, ilen, value, vlen, NULL);
}

int meru_sst_writer_add_values(meru_sst_writer *w, const uint8_t *ikey,
                               size_t ilen, const meru_value *vals)
{
    if (!vals)
        return meru_err(MERU_EINVAL, "meru_sst_writer_add_values: NULL "
                                     "values");
    return add_entry(w, ikey, ilen, NULL, 0, vals);
}

/* One entry: its non-key values from `vals` when given, else decoded from
 * the rowcodec `value`. */
static int add_entry(meru_sst_writer *w, const uint8_t *ikey, size_t ilen,
                     const uint8_t *value, size_t vlen,
                     const meru_value *vals)
{
    if (!w || (!ikey && ilen))
        return meru_err(MERU_EINVAL, "meru_sst_writer_add: NULL argument");
    if (w->failed)
        return meru_err(MERU_EFAILED, "writing SST %s: an earlier write "
                                      "failed",
                        w->path);
    size_t ulen;
    uint64_t seq;
    int op;
    if (meru_ikey_parse(ikey, ilen, &ulen, &seq, &op))
        return meru_err(MERU_EINVAL, "writing SST %s: bad internal key of %zu "
                                     "bytes",
                        w->path, ilen);
    if (ilen > MERU_SST_MAX_IKEY)
        return meru_err(MERU_ERANGE,
                        "writing SST %s: internal key of %zu bytes (at most "
                        "%u: a page header holds two as exact bounds)",
                        w->path, ilen, (unsigned)MERU_SST_MAX_IKEY);
    if (w->rows && meru_ikey_cmp(ikey, ilen, w->last_ikey.data,
                                 w->last_ikey.len) <= 0)
        return meru_err(MERU_EINVAL,
                        "writing SST %s: internal keys must be strictly "
                        "increasing (entry %llu)",
                        w->path, (unsigned long long)w->rows);
    const meru_schema *s = w->schema;
    meru_buf_reset(&w->scratch);
    size_t nk = 0;
    int rc = meru_key_decode(s, ikey, ulen, w->kvals, &nk, &w->scratch);
    if (rc)
        return meru_err_wrap(MERU_EINVAL,
                             "writing SST %s: entry %llu: bad user key",
                             w->path, (unsigned long long)w->rows);
    if (nk != s->nkey)
        return meru_err(MERU_EINVAL,
                        "writing SST %s: entry %llu: the user key has %zu of "
                        "%zu key columns",
                        w->path, (unsigned long long)w->rows, nk, s->nkey);
    if (op == MERU_OP_PUT && vals) {
        for (size_t i = 0; i < s->ncols; i++) {
            w->vals[i] = vals[i];
            if (w->vals[i].state != MERU_VALUE_PRESENT)
                w->vals[i].state = MERU_VALUE_NULL;
        }
    } else if (op == MERU_OP_PUT) {
        rc = meru_row_decode_view(s, NULL, 0, value, vlen, &w->nonkey, w->vals,
                                  NULL);
        if (rc)
            return meru_err_wrap(MERU_EINVAL,
                                 "writing SST %s: entry %llu: bad row value",
                                 w->path, (unsigned long long)w->rows);
    } else {
        for (size_t i = 0; i < s->ncols; i++) {
            memset(&w->vals[i], 0, sizeof w->vals[i]);
            w->vals[i].state = MERU_VALUE_NULL;
        }
    }
    for (size_t k = 0; k < nk; k++)
        w->vals[s->key_cols[k]] = w->kvals[k];

    /* From here on a failure (only ENOMEM) undoes this row. */
    size_t heap_len = w->heap.len;
    int64_t sq = (int64_t)seq;
    int32_t o32 = op;
    rc = put_col(w, 0, ikey, ilen, true);
    if (!rc)
        rc = put_col(w, 1, &sq, 8, true);
    if (!rc)
        rc = put_col(w, 2, &o32, 4, true);
    for (size_t i = 0; !rc && i < s->ncols; i++)
        rc = put_value(w, i, &w->vals[i]);
    if (!rc) {
        meru_buf_reset(&w->last_ikey);
        rc = meru_buf_append(&w->last_ikey, ikey, ilen);
    }
    if (!rc && w->rows == 0)
        rc = meru_buf_append(&w->smallest, ikey, ulen);
    if (rc) {
        truncate_rows(w, w->nbuf, heap_len);
        if (w->rows == 0)
            meru_buf_reset(&w->last_ikey);
        return rc;
    }
    if (w->rows == 0 || seq < w->min_seq)
        w->min_seq = seq;
    if (w->rows == 0 || seq > w->max_seq)
        w->max_seq = seq;
    w->rows++;
    w->nbuf++;
    if (w->nbuf >= w->o.batch_rows || w->heap.len >= HEAP_FLUSH_BYTES)
        return flush_batch(w);
    return MERU_OK;
}

void meru_sst_meta_free(meru_sst_meta *m)
{
    if (!m)
        return;
    meru_buf_free(&m->smallest);
    meru_buf_free(&m->largest);
}

static int set_kv_u64(pq_writer *pw, const char *key, uint64_t v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    return pq_writer_set_kv(pw, key, b, (size_t)n);
}

static int set_kv_hex(pq_writer *pw, const char *key, const uint8_t *p,
                      size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char *h = malloc(2 * n + 1);
    if (!h)
        return meru_err(MERU_ENOMEM, "writing SST: out of memory");
    for (size_t i = 0; i < n; i++) {
        h[2 * i] = hx[p[i] >> 4];
        h[2 * i + 1] = hx[p[i] & 15];
    }
    int rc = pq_writer_set_kv(pw, key, h, 2 * n);
    free(h);
    return rc;
}

int meru_sst_writer_finish(meru_sst_writer *w, meru_sst_meta *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!w)
        return meru_err(MERU_EINVAL, "meru_sst_writer_finish: NULL writer");
    int rc;
    if (w->failed) {
        rc = meru_err(MERU_EFAILED, "writing SST %s: an earlier write failed",
                      w->path);
        goto fail;
    }
    if (w->rows == 0) {
        rc = meru_err(MERU_EINVAL, "writing SST %s: no entries", w->path);
        goto fail;
    }
    rc = flush_batch(w);
    if (rc)
        goto fail;
    size_t llen = w->last_ikey.len - MERU_IKEY_TRAILER_LEN;
    rc = set_kv_u64(w->pw, "merutable.min-seq", w->min_seq);
    if (!rc)
        rc = set_kv_u64(w->pw, "merutable.max-seq", w->max_seq);
    if (!rc)
        rc = set_kv_u64(w->pw, "merutable.row-count", w->rows);
    if (!rc)
        rc = set_kv_hex(w->pw, "merutable.smallest-key", w->smallest.data,
                        w->smallest.len);
    if (!rc)
        rc = set_kv_hex(w->pw, "merutable.largest-key", w->last_ikey.data,
                        llen);
    if (rc)
        goto fail;
    uint64_t size = 0;
    pq_writer *pw = w->pw;
    w->pw = NULL;
    rc = pq_writer_close(pw, &size);
    if (rc) {
        meru_err_wrap(rc, "writing SST %s", w->path);
        goto fail;
    }
    rc = meru_file_sync(w->file);
    if (rc)
        goto fail;
    meru_file *f = w->file;
    w->file = NULL;
    rc = meru_file_close(f);
    if (rc)
        goto fail;
    if (out) {
        out->file_size = size;
        out->row_count = w->rows;
        out->min_seq = w->min_seq;
        out->max_seq = w->max_seq;
        rc = meru_buf_append(&out->smallest, w->smallest.data,
                             w->smallest.len);
        if (!rc)
            rc = meru_buf_append(&out->largest, w->last_ikey.data, llen);
        if (rc) {
            meru_sst_meta_free(out);
            goto fail;
        }
    }
    free_writer(w, false);
    return MERU_OK;
fail:
    free_writer(w, true);
    return rc;
}
