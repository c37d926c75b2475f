/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_read.c — opening an SST and point lookups (SPEC §7).
 *
 * Open reads the Parquet footer once and checks everything later reads
 * rely on, so the read paths can trust it: the hidden columns (found by
 * their reserved field ids) with their types, every key column of the
 * reader's schema, the footer metadata (format, level, sequence range,
 * row count, key range), and per row group the exact bounds of
 * _merutable_ikey from the chunk statistics, which must be ordered across
 * row groups. Anything else is MERU_ECORRUPT with the file named.
 *
 * Get: key range, then the one row group that can hold the first internal
 * key >= ukey || seek-trailer(read_seq) (from the chunk bounds), then that
 * row group's bloom filters on the key columns, then the ikey page index
 * to read only the page(s) holding that internal key, and for a put one
 * row of each other column (each cursor seeks straight to its page through
 * the offset index). Cursors and scratch are per call: a meru_sst is
 * shared by any number of threads. An L1+ file with a key directory
 * (sst_keydir.c) finds the row there instead (after the filters, which
 * answer most absent keys with a cache line or two where the directory's
 * binary search takes ~20) and reads only the value columns' pages; a long
 * key matching a row's 8 bytes falls back to the page index.
 *
 * Bytes: the file is mapped read-only at open when the fs can, and the
 * Parquet reader decodes from the map in place (pq_source.base). Else they
 * come through a pq_source over the meru_fs file; with a cache they go
 * through fixed 32 KiB blocks cached under a per-file id (sst_cache.c).
 */
#include <stdlib.h>
#include <string.h>

#include "sst/sst_internal.h"
#include "sst/sst_keydir.h"
#include "types/jtext.h"
#include "types/keycodec.h"
#include "util/error.h"

/* sst_cache.c */
int sst_cache_read(meru_sst *t, uint64_t off, void *buf, size_t n);
void sst_cache_attach(meru_sst *t);

static int source_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    meru_sst *t = ctx;
    if (t->map) {
        if (off > t->file_size || n > t->file_size - off)
            return meru_err(MERU_ECORRUPT,
                            "SST %s: read of %zu bytes at %llu past the end",
                            t->path, n, (unsigned long long)off);
        memcpy(buf, t->map + off, n);
        return MERU_OK;
    }
    if (t->cache)
        return sst_cache_read(t, off, buf, n);
    return meru_file_read_exact(t->file, off, buf, n);
}

/* Reads of t->fsrc: the file itself, never the map nor the block cache
 * (a mapped file caches no blocks). */
static int file_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    meru_sst *t = ctx;
    return meru_file_read_exact(t->file, off, buf, n);
}

/* ---------------------------------------------------------------- helpers */

uint32_t sst_rg_of(const meru_sst *t, int64_t row)
{
    uint32_t lo = 0, hi = t->nrg; /* last rg with start <= row */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->rg_start[mid] <= row)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* First row group whose largest ikey is >= key, or t->nrg. */
static uint32_t rg_for_key(const meru_sst *t, const uint8_t *key, size_t len)
{
    uint32_t lo = 0, hi = t->nrg;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (meru_ikey_cmp(t->rg_max[mid].ptr, t->rg_max[mid].len, key, len) <
            0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int sst_find_page(meru_sst *t, uint32_t rg, const uint8_t *key, size_t len,
                  int64_t *pbeg, int64_t *pend)
{
    int64_t rows = sst_rg_rows(t, rg);
    *pbeg = 0;
    *pend = rows;
    const pq_column_index *ci;
    const pq_offset_index *oi;
    int rc = pq_reader_column_index(t->r, rg, (uint32_t)t->col_ikey, &ci);
    if (!rc)
        rc = pq_reader_offset_index(t->r, rg, (uint32_t)t->col_ikey, &oi);
    if (rc)
        return sst_read_rc(rc);
    if (!ci || !oi || ci->n_pages != oi->n_pages || oi->n_pages == 0)
        return MERU_OK;
    /* Maxima are ascending (sorted keys; a cut maximum is rounded up, which
     * keeps the order): the first page whose maximum is >= key. */
    uint32_t lo = 0, hi = ci->n_pages;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const pq_bytes *m = &ci->max_values[mid];
        if (!ci->null_pages[mid] &&
            meru_ikey_cmp(m->ptr, m->len, key, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == ci->n_pages) /* bounds disagree with the chunk's: be safe */
        lo = 0;
    *pbeg = oi->page_locations[lo].first_row_index;
    *pend = pq_offset_index_page_end(oi, lo, rows);
    return MERU_OK;
}

int sst_page_of_row(meru_sst *t, uint32_t rg, int64_t row, int64_t *pbeg,
                    int64_t *pend)
{
    int64_t rows = sst_rg_rows(t, rg);
    *pbeg = 0;
    *pend = rows;
    const pq_offset_index *oi;
    int rc = pq_reader_offset_index(t->r, rg, (uint32_t)t->col_ikey, &oi);
    if (rc)
        return sst_read_rc(rc);
    if (!oi || oi->n_pages == 0)
        return MERU_OK;
    uint32_t lo = pq_offset_index_page_of(oi, row);
    *pbeg = oi->page_locations[lo].first_row_index;
    *pend = pq_offset_index_page_end(oi, lo, rows);
    if (*pbeg > row || *pend <= row || *pend > rows)
        return meru_err(MERU_ECORRUPT,
                        "SST %s: offset index of %s does not cover row %lld "
                        "of row group %u",
                        t->path, MERU_SST_COL_IKEY, (long long)row, rg);
    return MERU_OK;
}

/* ------------------------------------------------------------------ open */

static const pq_key_value *find_kv(const pq_file_meta *m, const char *key)
{
    for (uint32_t i = 0; i < m->n_key_value_metadata; i++)
        if (m->key_value_metadata[i].key &&
            strcmp(m->key_value_metadata[i].key, key) == 0 &&
            m->key_value_metadata[i].has_value)
            return &m->key_value_metadata[i];
    return NULL;
}

static int bad(const meru_sst *t, const char *what)
{
    return meru_err(MERU_ECORRUPT, "SST %s: %s", t->path, what);
}

static int kv_u64(const meru_sst *t, const char *key, uint64_t *out)
{
    const pq_key_value *kv = find_kv(pq_reader_meta(t->r), key);
    if (!kv || kv->value.len == 0 || kv->value.len > 20)
        return meru_err(MERU_ECORRUPT, "SST %s: footer lacks a valid %s",
                        t->path, key);
    uint64_t v = 0;
    for (uint32_t i = 0; i < kv->value.len; i++) {
        uint8_t c = kv->value.ptr[i];
        if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10)
            return meru_err(MERU_ECORRUPT, "SST %s: footer %s is not a number",
                            t->path, key);
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return MERU_OK;
}

static int kv_hex(const meru_sst *t, const char *key, meru_buf *out)
{
    const pq_key_value *kv = find_kv(pq_reader_meta(t->r), key);
    if (!kv || kv->value.len % 2)
        return meru_err(MERU_ECORRUPT, "SST %s: footer lacks a valid %s",
                        t->path, key);
    uint8_t *p;
    int rc = meru_buf_extend(out, kv->value.len / 2, &p);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < kv->value.len; i += 2) {
        int hi = meru_hexval(kv->value.ptr[i]);
        int lo = meru_hexval(kv->value.ptr[i + 1]);
        if (hi < 0 || lo < 0)
            return meru_err(MERU_ECORRUPT, "SST %s: footer %s is not hex",
                            t->path, key);
        p[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return MERU_OK;
}

static int hidden_col(meru_sst *t, int32_t fid, const char *name, pq_type type,
                      int *out)
{
    int c = pq_reader_find_field_id(t->r, fid);
    if (c < 0)
        return meru_err(MERU_ECORRUPT, "SST %s: no %s column (field id %d)",
                        t->path, name, (int)fid);
    const pq_column_info *ci = pq_reader_column(t->r, (uint32_t)c);
    if (ci->type != type || ci->repetition != PQ_REQUIRED)
        return meru_err(MERU_ECORRUPT,
                        "SST %s: column %s has the wrong type or is not "
                        "required",
                        t->path, name);
    *out = c;
    return MERU_OK;
}

/* Compares the user-key part of an internal key with `uk`. */
static int ukey_cmp(const pq_bytes *ik, const meru_buf *uk)
{
    size_t ul = ik->len >= MERU_IKEY_TRAILER_LEN
                    ? ik->len - MERU_IKEY_TRAILER_LEN
                    : 0;
    return meru_ikey_cmp(ik->ptr, ul, uk->data, uk->len);
}

static int check_file(meru_sst *t)
{
    const meru_schema *s = t->schema;
    int rc = hidden_col(t, MERU_SST_FIELD_ID_IKEY, MERU_SST_COL_IKEY,
                        PQ_BYTE_ARRAY, &t->col_ikey);
    if (!rc)
        rc = hidden_col(t, MERU_SST_FIELD_ID_SEQ, MERU_SST_COL_SEQ, PQ_INT64,
                        &t->col_seq);
    if (!rc)
        rc = hidden_col(t, MERU_SST_FIELD_ID_OP, MERU_SST_COL_OP, PQ_INT32,
                        &t->col_op);
    if (rc)
        return rc;
    char lb[MERU_LABEL_MAX];
    for (size_t i = 0; i < s->ncols; i++) {
        const meru_column *c = &s->cols[i];
        int pc = pq_reader_find_field_id(t->r, c->field_id);
        t->pcol[i] = pc;
        if (c->type == MERU_TYPE_FIXED && (size_t)c->fixed_length > t->max_fixed)
            t->max_fixed = (size_t)c->fixed_length;
        if (pc < 0) {
            if (c->key_position >= 0)
                return meru_err(MERU_ECORRUPT,
                                "SST %s: key %s (field id %d) is missing",
                                t->path, meru_column_label(c, lb),
                                (int)c->field_id);
            if (!c->nullable &&
                c->initial_default.state != MERU_VALUE_PRESENT)
                /* Iceberg adds a required column only with an initial
                 * default, so a file of the table lacking one is damaged
                 * (or not of this table). */
                return meru_err(MERU_ECORRUPT,
                                "SST %s: %s is NOT NULL without an initial "
                                "default and the file lacks it",
                                t->path, meru_column_label(c, lb));
            continue;
        }
        const pq_column_info *fi = pq_reader_column(t->r, (uint32_t)pc);
        const char *why;
        if (!sst_column_compatible(c, fi, &why))
            return meru_err(MERU_ECORRUPT, "SST %s: %s (field id %d): %s",
                            t->path, meru_column_label(c, lb),
                            (int)c->field_id, why);
    }

    /* Footer metadata. */
    const pq_key_value *fmt = find_kv(pq_reader_meta(t->r), "merutable.format");
    if (!fmt || fmt->value.len != 1 || fmt->value.ptr[0] != '1')
        return bad(t, "not an SST of format 1 (footer merutable.format)");
    uint64_t lvl, rows;
    rc = kv_u64(t, "merutable.level", &lvl);
    if (!rc)
        rc = kv_u64(t, "merutable.min-seq", &t->min_seq);
    if (!rc)
        rc = kv_u64(t, "merutable.max-seq", &t->max_seq);
    if (!rc)
        rc = kv_u64(t, "merutable.row-count", &rows);
    if (!rc)
        rc = kv_hex(t, "merutable.smallest-key", &t->smallest);
    if (!rc)
        rc = kv_hex(t, "merutable.largest-key", &t->largest);
    if (rc)
        return rc;
    if (lvl > 1000)
        return bad(t, "footer merutable.level out of range");
    t->level = (int)lvl;
    if (t->min_seq > t->max_seq || t->max_seq > MERU_SEQ_MAX)
        return bad(t, "footer sequence range is invalid");
    int64_t n = pq_reader_num_rows(t->r);
    if (n <= 0 || (uint64_t)n != rows)
        return bad(t, "row count disagrees with the footer");
    t->rows = rows;
    if (meru_ikey_cmp(t->smallest.data, t->smallest.len, t->largest.data,
                      t->largest.len) > 0)
        return bad(t, "smallest key is above the largest");
    const pq_key_value *id = find_kv(pq_reader_meta(t->r), SST_KV_FILE_ID);
    if (id) {
        if (!id->has_value || id->value.len == 0 || id->value.len > 200 ||
            memchr(id->value.ptr, 0, id->value.len))
            return bad(t, "footer " SST_KV_FILE_ID " is malformed");
        if (!(t->file_id = strndup((const char *)id->value.ptr,
                                   id->value.len)))
            return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    }

    /* Row groups and their ikey bounds. */
    t->nrg = pq_reader_num_row_groups(t->r);
    t->rg_start = calloc((size_t)t->nrg + 1, sizeof *t->rg_start);
    t->rg_min = calloc(t->nrg ? t->nrg : 1, sizeof *t->rg_min);
    t->rg_max = calloc(t->nrg ? t->nrg : 1, sizeof *t->rg_max);
    if (!t->rg_start || !t->rg_min || !t->rg_max)
        return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    for (uint32_t g = 0; g < t->nrg; g++) {
        int64_t k = pq_reader_row_group_rows(t->r, g);
        if (k <= 0)
            return bad(t, "empty row group");
        t->rg_start[g + 1] = t->rg_start[g] + k;
        if (!pq_reader_chunk_minmax(t->r, g, (uint32_t)t->col_ikey,
                                    &t->rg_min[g], &t->rg_max[g]) ||
            t->rg_min[g].len < MERU_IKEY_TRAILER_LEN ||
            t->rg_max[g].len < MERU_IKEY_TRAILER_LEN ||
            meru_ikey_cmp(t->rg_min[g].ptr, t->rg_min[g].len, t->rg_max[g].ptr,
                          t->rg_max[g].len) > 0)
            return meru_err(MERU_ECORRUPT,
                            "SST %s: row group %u lacks valid %s bounds",
                            t->path, g, MERU_SST_COL_IKEY);
        if (g > 0 && meru_ikey_cmp(t->rg_max[g - 1].ptr, t->rg_max[g - 1].len,
                                   t->rg_min[g].ptr, t->rg_min[g].len) >= 0)
            return meru_err(MERU_ECORRUPT,
                            "SST %s: row groups %u and %u overlap", t->path,
                            g - 1, g);
    }
    if (t->rg_start[t->nrg] != n)
        return bad(t, "row groups disagree with the row count");
    if (ukey_cmp(&t->rg_min[0], &t->smallest) != 0 ||
        ukey_cmp(&t->rg_max[t->nrg - 1], &t->largest) != 0)
        return bad(t, "key range disagrees with the footer");
    return MERU_OK;
}

void meru_sst_close(meru_sst *t)
{
    if (!t)
        return;
    sst_keydir_drop(t);
    pq_reader_close(t->r);
    meru_fs_unmap(t->fs, t->map, t->file_size);
    meru_file_close(t->file);
    meru_schema_free(t->schema);
    meru_buf_free(&t->smallest);
    meru_buf_free(&t->largest);
    free(t->file_id);
    free(t->rg_start);
    free(t->rg_min);
    free(t->rg_max);
    free(t->pcol);
    free(t->zeros);
    free(t->path);
    free(t);
}

int meru_sst_open(meru_sst **out, meru_fs *fs, const char *path,
                  const meru_schema *schema, meru_cache *cache)
{
    return meru_sst_open_ex(out, fs, path, schema, cache, NULL);
}

bool meru_sst_mapped(const meru_sst *t)
{
    return t && t->map;
}

void meru_sst_release_pages(const meru_sst *t)
{
    if (t && t->map)
        meru_fs_release_map(t->fs, t->map, 0, t->file_size);
}

void meru_sst_release_row_group(const meru_sst *t, uint32_t rg)
{
    if (!t || !t->map || rg >= pq_reader_num_row_groups(t->r))
        return;
    /* The row group's bytes: from its first chunk's first page to its
     * last chunk's end (a footer's offsets that do not fit the file are
     * skipped: this is advice, never a read). */
    uint64_t lo = UINT64_MAX, hi = 0;
    for (uint32_t c = 0; c < pq_reader_num_columns(t->r); c++) {
        const pq_column_meta *m = pq_reader_chunk(t->r, rg, c);
        if (!m)
            continue;
        int64_t start = m->data_page_offset;
        if (m->has_dictionary_page_offset && m->dictionary_page_offset > 0 &&
            m->dictionary_page_offset < start)
            start = m->dictionary_page_offset;
        if (start < 0 || m->total_compressed_size < 0 ||
            (uint64_t)start > t->file_size ||
            (uint64_t)m->total_compressed_size > t->file_size - (uint64_t)start)
            continue;
        uint64_t end = (uint64_t)start + (uint64_t)m->total_compressed_size;
        if ((uint64_t)start < lo)
            lo = (uint64_t)start;
        if (end > hi)
            hi = end;
    }
    if (hi > lo)
        meru_fs_release_map(t->fs, t->map, lo, hi - lo);
}

int meru_sst_open_ex(meru_sst **out, meru_fs *fs, const char *path,
                     const meru_schema *schema, meru_cache *cache,
                     const meru_sst_read_options *ro)
{
    *out = NULL;
    if (!fs || !path || !schema)
        return meru_err(MERU_EINVAL, "meru_sst_open: NULL argument");
    if (schema->nkey == 0 || schema->nkey > MERU_MAX_KEY_COLUMNS)
        return meru_err(MERU_EINVAL, "opening SST %s: the schema needs a "
                                     "primary key",
                        path);
    meru_sst *t = calloc(1, sizeof *t);
    if (!t)
        return meru_err(MERU_ENOMEM, "opening SST %s: out of memory", path);
    int rc;
    t->fs = fs;
    t->cache = cache;
    t->kd_budget = ro ? ro->keydir : NULL;
    t->path = strdup(path);
    if (!t->path) {
        rc = meru_err(MERU_ENOMEM, "opening SST %s: out of memory", path);
        goto fail;
    }
    rc = meru_schema_clone(&t->schema, schema);
    if (rc)
        goto fail;
    t->pcol = calloc(schema->ncols ? schema->ncols : 1, sizeof *t->pcol);
    if (!t->pcol) {
        rc = meru_err(MERU_ENOMEM, "opening SST %s: out of memory", path);
        goto fail;
    }
    rc = meru_fs_open(fs, path, MERU_FS_READ, &t->file);
    if (rc)
        goto fail;
    rc = meru_file_size(t->file, &t->file_size);
    if (rc)
        goto fail;
    if ((!ro || ro->mmap) && t->file_size > 0) {
        const void *m = NULL;
        /* Any failure (no map offered, too large, ENOMEM) just means
         * reading through pread: not an error of the open. */
        if (meru_file_map(t->file, t->file_size, &m) == MERU_OK)
            t->map = m;
    }
    sst_cache_attach(t);
    t->src.read_at = source_read;
    t->src.size = t->file_size;
    t->src.ctx = t;
    t->src.base = t->map;
    t->fsrc.read_at = file_read;
    t->fsrc.size = t->file_size;
    t->fsrc.ctx = t;
    t->fsrc.base = NULL;
    pq_reader_options po = {.bloom_crc_key = SST_KV_BLOOM_CRC};
    rc = pq_reader_open(&t->r, &t->src, &po);
    if (rc) {
        rc = sst_read_rc(rc);
        meru_err_wrap(rc, "opening SST %s", path);
        goto fail;
    }
    rc = check_file(t);
    if (rc)
        goto fail;
    t->zeros = calloc(t->max_fixed + 1, 1);
    if (!t->zeros) {
        rc = meru_err(MERU_ENOMEM, "opening SST %s: out of memory", path);
        goto fail;
    }
    *out = t;
    return MERU_OK;
fail:
    meru_sst_close(t);
    return rc;
}

uint64_t meru_sst_row_count(const meru_sst *t)
{
    return t ? t->rows : 0;
}

uint64_t meru_sst_file_size(const meru_sst *t)
{
    return t ? t->file_size : 0;
}

int meru_sst_level(const meru_sst *t)
{
    return t ? t->level : 0;
}

void meru_sst_get_info(const meru_sst *t, meru_sst_info *out)
{
    out->file_id = t->file_id;
    out->level = t->level;
    out->rows = t->rows;
    out->file_size = t->file_size;
    out->min_seq = t->min_seq;
    out->max_seq = t->max_seq;
    out->smallest = t->smallest.data;
    out->smallest_len = t->smallest.len;
    out->largest = t->largest.data;
    out->largest_len = t->largest.len;
    out->row_groups = t->nrg;
}

/* ------------------------------------------------------------------- get */

/* A byte string kept on the stack when short (the common case: no
 * allocation per get), on the heap when not. */
#define SBUF_INLINE 256
typedef struct sbuf {
    uint8_t *p;
    size_t len;
    uint8_t *heap;
    uint8_t inl[SBUF_INLINE];
} sbuf;

static int sbuf_set(sbuf *b, const void *a, size_t alen, const void *c,
                    size_t clen)
{
    size_t n = alen + clen;
    if (n <= SBUF_INLINE) {
        b->p = b->inl;
    } else {
        uint8_t *h = realloc(b->heap, n);
        if (!h)
            return meru_err(MERU_ENOMEM, "out of memory (get)");
        b->heap = b->p = h;
    }
    if (alen)
        memcpy(b->p, a, alen);
    if (clen)
        memcpy(b->p + alen, c, clen);
    b->len = n;
    return MERU_OK;
}

/* Per-get state. The per-column arrays live on the stack for schemas of
 * up to GET_STACK_COLS columns. */
#define GET_STACK_COLS 32
typedef struct get_ctx {
    sbuf seek;
    sbuf ikey;       /* copy of the internal key found */
    meru_buf parked; /* pq_cursor *: cursors whose batch is still in use */
    pq_cursor *cur;
    meru_value *vals;
    meru_cache_handle **held; /* per column: cached page in use, or NULL */
    uint64_t pages;
    unsigned flags; /* the key's MERU_SST_* read flags */
    meru_value vals_inl[GET_STACK_COLS];
    meru_cache_handle *held_inl[GET_STACK_COLS];
} get_ctx;

static void cursor_done(get_ctx *g)
{
    if (!g->cur)
        return;
    pq_cursor_stats st;
    pq_cursor_get_stats(g->cur, &st);
    g->pages += st.pages_read;
    pq_cursor_close(g->cur);
    g->cur = NULL;
}

void meru_sst_key_init(meru_sst_key *k, const uint8_t *ukey, size_t klen)
{
    k->ukey = ukey;
    k->klen = klen;
    k->state = 0;
    k->nk = 0;
    memset(&k->scratch, 0, sizeof k->scratch);
    memset(k->bh, 0, sizeof k->bh);
    k->flags = 0;
}

void meru_sst_key_free(meru_sst_key *k)
{
    meru_buf_free(&k->scratch);
}

/* The key's column values, decoded on first use. */
static int key_decode(meru_sst *t, meru_sst_key *k)
{
    const meru_schema *s = t->schema;
    if (k->state == 0) {
        meru_buf_reset(&k->scratch);
        k->state = meru_key_decode(s, k->ukey, k->klen, k->kv, &k->nk,
                                   &k->scratch) == MERU_OK &&
                           k->nk == s->nkey
                       ? 1
                       : -1;
    }
    if (k->state < 0)
        return meru_err(MERU_EINVAL,
                        "SST %s: get: the key does not decode into the "
                        "schema's %zu key columns",
                        t->path, s->nkey);
    return MERU_OK;
}

/* Bloom filters of the key columns in row group rg: *absent when one of
 * them proves the key is not there; *checked when any was consulted. The
 * hash of a key column depends only on the file column's physical type, so
 * it is computed once per get (k->bh) and reused by every file. */
static int bloom_probe(meru_sst *t, uint32_t rg, meru_sst_key *key,
                       bool *checked, bool *absent)
{
    const meru_schema *s = t->schema;
    int rc = key_decode(t, key);
    if (rc)
        return rc;
    for (size_t k = 0; k < key->nk && !*absent; k++) {
        const meru_column *c = &s->cols[s->key_cols[k]];
        int pc = t->pcol[s->key_cols[k]];
        if (!pq_reader_has_bloom(t->r, rg, (uint32_t)pc))
            continue;
        const pq_column_info *fi = pq_reader_column(t->r, (uint32_t)pc);
        meru_sst_key_hash *bh = &key->bh[k];
        if (!bh->set || bh->type != (int)fi->type ||
            bh->type_length != fi->type_length) {
            uint8_t b[16];
            const uint8_t *p;
            size_t len;
            bh->ok = sst_plain_key(c, fi, &key->kv[k], b, &p, &len) &&
                     pq_reader_bloom_hash(t->r, (uint32_t)pc, p, len,
                                          &bh->hash);
            bh->type = (int)fi->type;
            bh->type_length = fi->type_length;
            bh->set = true;
        }
        if (!bh->ok)
            continue;
        bool maybe = true;
        rc = pq_reader_bloom_check_hash(t->r, rg, (uint32_t)pc, bh->hash,
                                        &maybe);
        if (rc)
            return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
        *checked = true;
        if (!maybe)
            *absent = true;
    }
    return MERU_OK;
}

/* Reads row `row` of row group `rg` of every non-key column into g->vals
 * and encodes the value. */
static int read_row_value(meru_sst *t, get_ctx *g, uint32_t rg, int64_t row,
                          meru_buf *value)
{
    const meru_schema *s = t->schema;
    char lb[MERU_LABEL_MAX];
    for (size_t i = 0; i < s->ncols; i++) {
        const meru_column *c = &s->cols[i];
        meru_value *v = &g->vals[i];
        memset(v, 0, sizeof *v);
        if (c->key_position >= 0)
            continue;
        int pc = t->pcol[i];
        if (pc < 0) {
            if (c->initial_default.state == MERU_VALUE_PRESENT)
                *v = c->initial_default;
            else
                v->state = MERU_VALUE_NULL;
            continue;
        }
        /* From the page cache when on: the handle is kept until the
         * value is encoded (the value's bytes live in the page). */
        const sst_page *pg;
        int rc = sst_page_get(t, rg, (uint32_t)pc, row, g->flags, &pg,
                              &g->held[i], &g->pages);
        if (rc)
            return rc;
        if (pg) {
            size_t at = (size_t)(row - pg->first);
            if (!sst_page_is_valid(pg, at)) {
                if (!c->nullable)
                    return meru_err(MERU_ECORRUPT,
                                    "SST %s: null in NOT NULL %s of a put",
                                    t->path, meru_column_label(c, lb));
                v->state = MERU_VALUE_NULL;
            } else {
                const pq_column_info *fi =
                    pq_reader_column(t->r, (uint32_t)pc);
                pq_bytes one;
                uint8_t ok;
                pq_batch pb = sst_page_row(pg, at, pq_value_width(fi->type),
                                           &one, &ok);
                sst_value_from_batch(c, fi, &pb, 0, v);
            }
            continue;
        }
        /* One cursor per column, each kept until the value is encoded:
         * the bytes of its batch live in the cursor. */
        pq_cursor *cur;
        rc = pq_cursor_open(t->r, rg, (uint32_t)pc, &cur);
        if (rc)
            return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
        pq_cursor_set_skip_crc(cur, (g->flags & MERU_SST_SKIP_CRC) != 0);
        g->cur = cur; /* so the caller's cleanup closes it on error */
        pq_batch b;
        rc = pq_cursor_seek(cur, row);
        if (!rc)
            rc = pq_cursor_next(cur, 1, &b);
        if (!rc && b.n != 1)
            rc = meru_err(MERU_ECORRUPT, "column %s ends early",
                          meru_column_label(c, lb));
        if (rc)
            return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
        if (!b.valid[0]) {
            if (!c->nullable)
                return meru_err(MERU_ECORRUPT,
                                "SST %s: null in NOT NULL %s of a put",
                                t->path, meru_column_label(c, lb));
            v->state = MERU_VALUE_NULL;
        } else {
            sst_value_from_batch(c, pq_reader_column(t->r, (uint32_t)pc), &b,
                                 0, v);
        }
        /* The value's bytes live in the cursor's batch: park it until
         * the value is encoded. */
        rc = meru_buf_append(&g->parked, &cur, sizeof cur);
        if (rc)
            return rc; /* g->cur still holds it */
        g->cur = NULL;
    }
    meru_buf_reset(value);
    int rc = meru_row_encode_values(s, g->vals, value);
    /* only values out of bounds (a damaged length) are refused here */
    return rc == MERU_EINVAL ? meru_err_wrap(MERU_ECORRUPT, "SST %s", t->path)
                             : rc;
}

/* Binary search of a batch of ikeys: the first >= seek, or n. */
static size_t first_at_or_after(const pq_bytes *v, size_t n, const sbuf *seek)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (meru_ikey_cmp(v[mid].ptr, v[mid].len, seek->p, seek->len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Finds the first ikey >= g->seek in row group rg from local row pbeg on
 * (the page the index points at ends at pend): *hit its row (-1 when
 * none) and g->ikey a copy of it. Through cached pages when the page cache
 * is on, else through a cursor. */
static int find_ikey(meru_sst *t, get_ctx *g, uint32_t rg, int64_t pbeg,
                     int64_t pend, int64_t *hit)
{
    int64_t rows = sst_rg_rows(t, rg), row = pbeg;
    const pq_bytes *found = NULL;
    meru_cache_handle *h = NULL;
    int rc = MERU_OK;
    while (row < rows && !found) {
        const sst_page *pg;
        rc = sst_page_get(t, rg, (uint32_t)t->col_ikey, row, g->flags, &pg,
                          &h, &g->pages);
        if (rc)
            return rc;
        if (!pg)
            break; /* no page cache or no offset index: the cursor */
        const pq_bytes *v = pg->values;
        size_t at = (size_t)(row - pg->first);
        size_t lo = at + first_at_or_after(v + at, pg->n - at, &g->seek);
        if (lo < pg->n) {
            *hit = pg->first + (int64_t)lo;
            found = &v[lo];
            break;
        }
        row = pg->first + (int64_t)pg->n;
        meru_cache_release(t->cache, h);
        h = NULL;
    }
    if (!found && row < rows) {
        rc = pq_cursor_open(t->r, rg, (uint32_t)t->col_ikey, &g->cur);
        pq_cursor_set_skip_crc(g->cur, (g->flags & MERU_SST_SKIP_CRC) != 0);
        if (!rc)
            rc = pq_cursor_seek(g->cur, row);
        if (rc)
            return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
        pend = pend > row ? pend : row + 256;
        while (row < rows && !found) {
            pq_batch b;
            size_t want = (size_t)(pend > row ? pend - row : 256);
            rc = pq_cursor_next(g->cur, want, &b);
            if (!rc && b.n == 0)
                rc = meru_err(MERU_ECORRUPT, "%s ends early",
                              MERU_SST_COL_IKEY);
            if (rc)
                return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
            const pq_bytes *v = b.values;
            size_t lo = first_at_or_after(v, b.n, &g->seek);
            if (lo < b.n) {
                *hit = row + (int64_t)lo;
                found = &v[lo];
            }
            row += (int64_t)b.n;
            pend = row + 256;
        }
    }
    if (found)
        rc = sbuf_set(&g->ikey, found->ptr, found->len, NULL, 0);
    meru_cache_release(t->cache, h);
    cursor_done(g);
    return rc;
}

int meru_sst_get(meru_sst *t, const uint8_t *ukey, size_t klen,
                 uint64_t read_seq, meru_sst_state *state, uint64_t *seq,
                 meru_buf *value, meru_sst_read_stats *stats)
{
    meru_sst_key k;
    meru_sst_key_init(&k, ukey, klen);
    int rc = meru_sst_get_key(t, &k, read_seq, state, seq, value, stats);
    meru_sst_key_free(&k);
    return rc;
}

static int get_key(meru_sst *t, meru_sst_key *key, uint64_t read_seq,
                   meru_sst_state *state, uint64_t *seq, meru_buf *value,
                   meru_sst_read_stats *stats);

int meru_sst_get_key(meru_sst *t, meru_sst_key *key, uint64_t read_seq,
                     meru_sst_state *state, uint64_t *seq, meru_buf *value,
                     meru_sst_read_stats *stats)
{
    unsigned saved = sst_read_flags_set(key ? key->flags : 0);
    int rc = get_key(t, key, read_seq, state, seq, value, stats);
    sst_read_flags_restore(saved);
    return rc;
}

/* The newest version of ukey with seq <= read_seq from the file's key
 * directory, searched from row group rg (the one the first internal key
 * >= (ukey, read_seq) is in): 1 with its global row, seq and op; 0 when
 * the file has none; -1 when there is no directory (or not for the row
 * groups needed yet), or the key is long and matches a row (then the
 * pages decide). */
static int kd_find(meru_sst *t, uint32_t rg, const uint8_t *ukey,
                   size_t klen, uint64_t read_seq, uint64_t *pages,
                   int64_t *row, uint64_t *seq, int *op)
{
    const sst_keydir *d = sst_keydir_for_get(t, rg, pages);
    sst_kdkey k;
    if (!d)
        return -1;
    if (!sst_keydir_project(d, ukey, klen, &k))
        return 0;
    /* Row group by row group (a directory may be in only for some): the
     * key's versions newer than read_seq may run into the next ones. */
    for (uint32_t g = rg; g < t->nrg; g++) {
        if (g > rg && !sst_keydir_rg_ready(t, d, g, pages))
            return -1;
        uint64_t hi = (uint64_t)t->rg_start[g + 1];
        uint64_t r = sst_keydir_lower_in(d, (uint64_t)t->rg_start[g], hi, k);
        if (r == hi)
            continue;
        if (sst_kd_cmp(d, r, k) != 0)
            return 0;
        if (sst_kd_long(d, k))
            return -1;
        /* Equal projections, exact: every version of the key, newest
         * first. */
        while (r < hi && sst_kd_cmp(d, r, k) == 0 &&
               sst_kd_seq(d, r) > read_seq)
            r++;
        if (r == hi)
            continue;
        if (sst_kd_cmp(d, r, k) != 0)
            return 0;
        *row = (int64_t)r;
        *seq = sst_kd_seq(d, r);
        *op = sst_kd_op(d, r);
        return 1;
    }
    return 0;
}

static int get_key(meru_sst *t, meru_sst_key *key, uint64_t read_seq,
                   meru_sst_state *state, uint64_t *seq, meru_buf *value,
                   meru_sst_read_stats *stats)
{
    if (state)
        *state = MERU_SST_NOT_FOUND;
    if (!t || !state || !key || (!key->ukey && key->klen))
        return meru_err(MERU_EINVAL, "meru_sst_get: NULL argument");
    const uint8_t *ukey = key->ukey;
    size_t klen = key->klen;
    if (read_seq > MERU_SEQ_MAX)
        read_seq = MERU_SEQ_MAX;
    if (read_seq < t->min_seq ||
        meru_ikey_cmp(ukey, klen, t->smallest.data, t->smallest.len) < 0 ||
        meru_ikey_cmp(ukey, klen, t->largest.data, t->largest.len) > 0)
        return MERU_OK;
    /* Field by field, not memset: the inline arrays (several KiB) need no
     * zeroing, and this runs once per file probed by every get. A field
     * added to get_ctx must be set here. */
    get_ctx g;
    g.seek.heap = g.ikey.heap = NULL;
    g.seek.len = g.ikey.len = 0;
    g.seek.p = g.ikey.p = NULL;
    memset(&g.parked, 0, sizeof g.parked);
    g.cur = NULL;
    g.vals = NULL;
    g.held = NULL;
    g.pages = 0;
    g.flags = key->flags;
    size_t ncols = t->schema->ncols;
    uint8_t trailer[MERU_IKEY_TRAILER_LEN];
    meru_ikey_trailer_encode(trailer, read_seq, MERU_OP_MAX);
    int rc = sbuf_set(&g.seek, ukey, klen, trailer, sizeof trailer);
    if (rc)
        goto out;
    uint32_t rg = rg_for_key(t, g.seek.p, g.seek.len);
    if (rg == t->nrg)
        goto out;
    int64_t hit = -1;
    uint64_t s;
    int op;
    /* The filters first, also when the file has a key directory: a get of
     * an absent key (most probes of a get that misses the newer files)
     * then costs one or two cache lines of the filter, not a binary search
     * over a directory of several MB (~20 cache misses). */
    bool checked = false, absent = false;
    rc = bloom_probe(t, rg, key, &checked, &absent);
    if (rc)
        goto out;
    if (stats) {
        stats->bloom_checks += checked;
        stats->bloom_negatives += absent;
    }
    if (absent)
        goto out;
    /* The key directory answers without pages, but for a long key it
     * matches (then the pages decide, from the page index as without). */
    int kd = kd_find(t, rg, ukey, klen, read_seq, &g.pages, &hit, &s, &op);
    if (kd >= 0 && (rc = key_decode(t, key)))
        goto out;
    if (kd == 0)
        goto out;
    if (kd > 0) {
        rg = sst_rg_of(t, hit);
        hit -= t->rg_start[rg];
        goto found;
    }

    /* The first ikey >= seek: from the page the index points at, on. */
    int64_t pbeg, pend;
    rc = sst_find_page(t, rg, g.seek.p, g.seek.len, &pbeg, &pend);
    if (!rc)
        rc = find_ikey(t, &g, rg, pbeg, pend, &hit);
    if (rc)
        goto out;
    if (hit < 0)
        goto out;
    pq_bytes ik = {g.ikey.p, (uint32_t)g.ikey.len};
    size_t ulen;
    if (meru_ikey_parse(ik.ptr, ik.len, &ulen, &s, &op)) {
        rc = meru_err(MERU_ECORRUPT, "SST %s: bad internal key at row %lld",
                      t->path, (long long)(t->rg_start[rg] + hit));
        goto out;
    }
    if (meru_ikey_cmp(ik.ptr, ulen, ukey, klen) != 0)
        goto out;
    if (s > read_seq) {
        rc = meru_err(MERU_ECORRUPT, "SST %s: internal keys out of order",
                      t->path);
        goto out;
    }
found:
    cursor_done(&g);
    if (seq)
        *seq = s;
    if (op == MERU_OP_DELETE) {
        *state = MERU_SST_DELETED;
        goto out;
    }
    if (value) {
        if (ncols <= GET_STACK_COLS) {
            g.vals = g.vals_inl;
            g.held = g.held_inl;
        } else {
            g.vals = calloc(ncols, sizeof *g.vals);
            g.held = calloc(ncols, sizeof *g.held);
            if (!g.vals || !g.held) {
                rc = meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
                goto out;
            }
        }
        memset(g.held, 0, ncols * sizeof *g.held);
        rc = read_row_value(t, &g, rg, hit, value);
        if (rc)
            goto out;
    }
    *state = MERU_SST_FOUND;
out:
    cursor_done(&g);
    for (size_t i = 0; i < g.parked.len / sizeof(pq_cursor *); i++) {
        memcpy(&g.cur, g.parked.data + i * sizeof(pq_cursor *),
               sizeof(pq_cursor *));
        cursor_done(&g);
    }
    if (g.held)
        for (size_t i = 0; i < ncols; i++)
            meru_cache_release(t->cache, g.held[i]);
    if (stats)
        stats->pages_read += g.pages;
    if (rc)
        *state = MERU_SST_NOT_FOUND;
    if (g.vals != g.vals_inl)
        free(g.vals);
    if (g.held != g.held_inl)
        free(g.held);
    free(g.seek.heap);
    free(g.ikey.heap);
    meru_buf_free(&g.parked);
    return rc;
}
