/* SPDX-License-Identifier: Apache-2.0 */
/*
 * posdel.c — position-delete files for format v2 (see posdel.h).
 *
 * Writing streams: the data files are put in path order, each one's
 * positions come ascending out of its deletion vector, and rows go to the
 * Parquet writer in batches of BATCH rows, so memory does not grow with
 * the number of positions. Reading streams too: two cursors (file_path,
 * pos) per row group, read in step, rows checked for order as they come,
 * positions added to the current data file's vector.
 */
#include "iceberg/posdel.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "iceberg/ice_io.h"
#include "merutable.h"
#include "parquet/pq.h"
#include "util/error.h"

#define BATCH 65536

/* ------------------------------------------------------------ writer --- */

typedef struct wctx {
    meru_fs *fs;
    const char *path;
    meru_file *f;
    uint64_t written;
    pq_writer *pw;
    pq_bytes path_val; /* the current data file's path, for every row */
    pq_bytes *paths;
    int64_t *pos;
    size_t n;
    uint64_t rows;
} wctx;

static int sink_write(void *ctx, const void *p, size_t n)
{
    wctx *w = ctx;
    int rc = meru_file_append(w->f, p, n);
    if (!rc)
        w->written += n;
    return rc;
}

static int flush_batch(wctx *w)
{
    pq_column_data cols[2] = {{w->paths, NULL}, {w->pos, NULL}};
    int rc = w->n ? pq_writer_write(w->pw, w->n, cols) : MERU_OK;
    w->n = 0;
    return rc;
}

static int add_pos(uint64_t pos, void *arg)
{
    wctx *w = arg;
    if (pos > INT64_MAX)
        return meru_err(MERU_EINVAL,
                        "position-delete file %s: position "
                        "%" PRIu64 " is not a long",
                        w->path, pos);
    w->paths[w->n] = w->path_val;
    w->pos[w->n++] = (int64_t)pos;
    w->rows++;
    return w->n == BATCH ? flush_batch(w) : MERU_OK;
}

static int by_path(const void *a, const void *b)
{
    const meru_posdel_input *x = a, *y = b;
    return strcmp(x->data_file, y->data_file);
}

int meru_posdel_write(meru_fs *fs, const char *path,
                      const meru_posdel_input *in, size_t n,
                      meru_posdel_summary *summary)
{
    wctx w = {.fs = fs, .path = path};
    meru_posdel_input *sorted = NULL;
    int rc;
    pq_column_spec cols[2];
    pq_writer_options o;
    memset(cols, 0, sizeof cols);
    cols[0].name = "file_path";
    cols[0].type = PQ_BYTE_ARRAY;
    cols[0].logical.kind = PQ_LT_STRING;
    cols[0].has_field_id = true;
    cols[0].field_id = MERU_POSDEL_FILE_PATH_ID;
    cols[1].name = "pos";
    cols[1].type = PQ_INT64;
    cols[1].has_field_id = true;
    cols[1].field_id = MERU_POSDEL_POS_ID;
    pq_writer_options_column(&o);

    if (n && !(sorted = malloc(n * sizeof *sorted)))
        return meru_err(MERU_ENOMEM, "position-delete file %s: out of memory",
                        path);
    if (n)
        memcpy(sorted, in, n * sizeof *sorted);
    for (size_t i = 0; i < n; i++)
        if (!sorted[i].data_file || !sorted[i].dv ||
            strlen(sorted[i].data_file) > UINT32_MAX) {
            free(sorted);
            return meru_err(MERU_EINVAL,
                            "position-delete file %s: input %zu "
                            "lacks a data file or a vector",
                            path, i);
        }
    if (n)
        qsort(sorted, n, sizeof *sorted, by_path);
    for (size_t i = 1; i < n; i++)
        if (strcmp(sorted[i - 1].data_file, sorted[i].data_file) == 0) {
            rc = meru_err(MERU_EINVAL,
                          "position-delete file %s: data file %s given twice",
                          path, sorted[i].data_file);
            free(sorted);
            return rc;
        }
    w.paths = malloc(BATCH * sizeof *w.paths);
    w.pos = malloc(BATCH * sizeof *w.pos);
    if (!w.paths || !w.pos) {
        rc = meru_err(MERU_ENOMEM, "position-delete file %s: out of memory",
                      path);
        goto done;
    }
    if ((rc = meru_fs_open(
             fs, path, MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_EXCL, &w.f)))
        goto done; /* nothing of ours to remove */
    pq_sink sink = {sink_write, &w};
    if ((rc = pq_writer_open(&w.pw, &sink, cols, 2, &o)))
        goto fail;
    for (size_t i = 0; i < n; i++) {
        w.path_val.ptr = (const uint8_t *)sorted[i].data_file;
        w.path_val.len = (uint32_t)strlen(sorted[i].data_file);
        if ((rc = meru_dv_foreach(sorted[i].dv, add_pos, &w)))
            goto fail;
    }
    if ((rc = flush_batch(&w)))
        goto fail;
    pq_writer *pw = w.pw;
    w.pw = NULL;
    if ((rc = pq_writer_close(pw, NULL)) || (rc = meru_file_sync(w.f)))
        goto fail;
    meru_file *f = w.f;
    w.f = NULL;
    if ((rc = meru_file_close(f)))
        goto fail;
    if (summary) {
        summary->file_size = w.written;
        summary->record_count = w.rows;
    }
    goto done;
fail:
    pq_writer_abort(w.pw);
    rc = meru_ice_discard(fs, w.f, path, rc);
    meru_err_wrap(rc, "writing position-delete file %s", path);
done:
    free(sorted);
    free(w.paths);
    free(w.pos);
    return rc;
}

/* ------------------------------------------------------------ reader --- */

static int source_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    return meru_file_read_exact(ctx, off, buf, n);
}

void meru_posdel_file_free(meru_posdel_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->entries[i].data_file);
        meru_dv_free(f->entries[i].dv);
    }
    free(f->entries);
    free(f);
}

static int bad(const char *path, const char *what)
{
    return meru_err(MERU_ECORRUPT, "position-delete file %s: %s", path, what);
}

/* Starts the entry of a new data file (which must sort after the last). */
static int new_entry(meru_posdel_file *f, size_t *cap, const char *path,
                     const pq_bytes *v)
{
    if (memchr(v->ptr, 0, v->len))
        return bad(path, "a file_path holds a NUL byte");
    if (f->n) {
        const char *last = f->entries[f->n - 1].data_file;
        size_t ll = strlen(last), m = ll < v->len ? ll : v->len;
        int c = memcmp(last, v->ptr, m);
        if (c > 0 || (c == 0 && ll > v->len))
            return bad(path, "rows are not sorted by file_path");
    }
    if (f->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        meru_posdel_entry *e = realloc(f->entries, nc * sizeof *e);
        if (!e)
            return meru_err(MERU_ENOMEM, "out of memory");
        f->entries = e;
        *cap = nc;
    }
    meru_posdel_entry *e = &f->entries[f->n];
    e->dv = NULL;
    if (!(e->data_file = malloc(v->len + 1)))
        return meru_err(MERU_ENOMEM, "out of memory");
    memcpy(e->data_file, v->ptr, v->len);
    e->data_file[v->len] = 0;
    int rc = meru_dv_new(&e->dv);
    if (rc) {
        free(e->data_file);
        return rc;
    }
    f->n++;
    return MERU_OK;
}

static bool same_path(const meru_posdel_file *f, const pq_bytes *v)
{
    if (!f->n)
        return false;
    const char *last = f->entries[f->n - 1].data_file;
    return strlen(last) == v->len && memcmp(last, v->ptr, v->len) == 0;
}

static int read_group(pq_reader *r, uint32_t rg, int cpath, int cpos,
                      const char *path, meru_posdel_file *f, size_t *cap,
                      int64_t *last_pos)
{
    pq_cursor *cp = NULL, *cq = NULL;
    int rc;
    if ((rc = pq_cursor_open(r, rg, (uint32_t)cpath, &cp)) ||
        (rc = pq_cursor_open(r, rg, (uint32_t)cpos, &cq)))
        goto done;
    for (;;) {
        pq_batch bp, bq;
        if ((rc = pq_cursor_next(cp, BATCH, &bp)) ||
            (rc = pq_cursor_next(cq, bp.n ? bp.n : 1, &bq)))
            goto done;
        if (bp.n != bq.n) {
            rc = bad(path, "file_path and pos have different row counts");
            goto done;
        }
        if (bp.n == 0)
            break;
        if (bp.null_count || bq.null_count) {
            rc = bad(path, "a null file_path or pos");
            goto done;
        }
        const pq_bytes *paths = bp.values;
        const int64_t *pos = bq.values;
        for (size_t i = 0; i < bp.n; i++) {
            if (!same_path(f, &paths[i])) {
                if ((rc = new_entry(f, cap, path, &paths[i])))
                    goto done;
                *last_pos = -1;
            }
            if (pos[i] < 0 || pos[i] < *last_pos) {
                rc = bad(path, pos[i] < 0 ? "a negative pos"
                                          : "rows are not sorted by pos");
                goto done;
            }
            *last_pos = pos[i];
            if ((rc = meru_dv_add(f->entries[f->n - 1].dv, (uint64_t)pos[i])))
                goto done;
            f->record_count++;
        }
    }
done:
    pq_cursor_close(cp);
    pq_cursor_close(cq);
    return rc;
}

int meru_posdel_read(meru_fs *fs, const char *path, meru_posdel_file **out)
{
    meru_file *file = NULL;
    pq_reader *r = NULL;
    meru_posdel_file *f = calloc(1, sizeof *f);
    size_t cap = 0;
    int64_t last_pos = -1;
    int rc;
    *out = NULL;
    if (!f)
        return meru_err(MERU_ENOMEM, "out of memory");
    pq_source src = {source_read, 0, NULL, NULL};
    if ((rc = meru_fs_open(fs, path, MERU_FS_READ, &file)) ||
        (rc = meru_file_size(file, &src.size)))
        goto fail;
    src.ctx = file;
    if ((rc = pq_reader_open(&r, &src, NULL)))
        goto fail;
    int cpath = pq_reader_find_field_id(r, MERU_POSDEL_FILE_PATH_ID);
    int cpos = pq_reader_find_field_id(r, MERU_POSDEL_POS_ID);
    if (cpath < 0 || cpos < 0) {
        rc = bad(path, "no file_path or pos column (by field id)");
        goto fail;
    }
    if (pq_reader_column(r, (uint32_t)cpath)->type != PQ_BYTE_ARRAY ||
        pq_reader_column(r, (uint32_t)cpos)->type != PQ_INT64) {
        rc = bad(path, "file_path is not a byte array or pos not an int64");
        goto fail;
    }
    for (uint32_t rg = 0; rg < pq_reader_num_row_groups(r); rg++)
        if ((rc = read_group(r, rg, cpath, cpos, path, f, &cap, &last_pos)))
            goto fail;
    pq_reader_close(r);
    meru_file_close(file);
    for (size_t i = 0; i < f->n; i++)
        meru_dv_optimize(f->entries[i].dv);
    *out = f;
    return MERU_OK;
fail:
    pq_reader_close(r);
    meru_file_close(file);
    meru_posdel_file_free(f);
    return meru_err_wrap(rc, "reading position-delete file %s", path);
}
