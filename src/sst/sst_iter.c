/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_iter.c — the internal iterator over an SST (engine/iter.h): every
 * entry, all versions, in file (internal-key) order, both directions.
 *
 * Streaming: the iterator holds one window of rows, decoded for the
 * internal-key column and the projected user columns only. A window lies
 * inside one page of _merutable_ikey (pages are the unit the page index
 * knows), cut further into chunks of at most SST_WINDOW_ROWS rows; each
 * column cursor returns the window as one batch, which stays valid until
 * that cursor moves again. Moving past either end of the window loads the
 * neighbouring one (seeking the cursors back for prev). Memory is a window
 * plus a few pages per projected column, whatever the file size; moving
 * forward into the next row group releases the mapped pages passed, and
 * so does the end of an iterator that read on in its last row group.
 *
 * Seeks go straight to the right row group (exact chunk bounds of the
 * ikey) and page (ColumnIndex maxima), then binary-search the window.
 *
 * A scan takes each row's values straight from the window (it_values);
 * value() re-encodes them in rowcodec form lazily, once per row asked. A
 * column outside the projection is null in the value, or a zero value of
 * its type when it is NOT NULL (the rowcodec has no null there); key
 * columns are never in a value. A delete's value is empty.
 *
 * Each window's internal keys are checked (parseable, strictly
 * increasing); errors make the iterator invalid for good (status()).
 *
 * Decode-ahead: unless MERU_SST_NO_READAHEAD, the iterator owns a
 * pq_readahead that every cursor it opens is attached to. A cursor that
 * reads on in sequence (a long scan, not a seek or a short range) has its
 * next pages decompressed on that worker thread while the iterator
 * decodes the current ones (pq.h); destroy closes the cursors, then stops
 * the thread.
 */
#include <stdlib.h>
#include <string.h>

#include "sst/sst_internal.h"
#include "types/keycodec.h"
#include "util/error.h"

#define SST_WINDOW_ROWS 1024
/* Rows of its last row group an iterator must have read for its end to
 * release that row group's mapped pages (it_destroy). */
#define SST_RELEASE_ROWS 4096

/* How it_values reads a column: the common exact type matches inline,
 * promotions and the rest through sst_value_from_batch. */
enum { VK_GENERIC = 0, VK_I32, VK_I64, VK_F64, VK_BYTES };

typedef struct icol {
    size_t col;     /* schema column */
    int kind;       /* VK_* */
    uint32_t pcol;  /* file column */
    pq_cursor *cur; /* on row group it->rg */
    const pq_column_info *fi; /* the file column's description */
    pq_batch b;     /* the window */
} icol;

typedef struct sst_iter {
    meru_iiter base;
    meru_sst *t;
    meru_colset proj;
    int status;
    bool valid;
    bool loaded;  /* a window is in place */
    uint32_t rg;  /* row group of the cursors / window */
    /* rows of windows loaded in rg since it was entered or since the last
     * seek (a seek starts a new scan: an iterator reused for many short
     * seeks is no long scan) */
    int64_t rg_read;
    int64_t wbeg; /* window rows [wbeg, wbeg + n) within rg */
    size_t n;
    size_t pos;
    icol ik;      /* the ikey column (col unused) */
    icol *cols;   /* projected, mapped, non-key user columns */
    size_t ncols;
    meru_value *vals;
    /* it_values' constant columns: UNSET outside the projection and for
     * key columns, the initial default (else null) for projected columns
     * the file lacks; `consts` lists them (the rest come from cols). */
    meru_value *tmpl;
    size_t *consts;
    size_t nconsts;
    meru_buf val;
    int64_t val_row; /* global row whose value is in `val`, or -1 */
    unsigned flags;  /* MERU_SST_* read flags, for every load */
    pq_readahead *ra; /* NULL with MERU_SST_NO_READAHEAD */
} sst_iter;

static int64_t global_row(const sst_iter *it)
{
    return it->t->rg_start[it->rg] + it->wbeg + (int64_t)it->pos;
}

static void fail(sst_iter *it, int rc)
{
    it->status = rc;
    it->valid = false;
    it->loaded = false;
}

static void close_cursors(sst_iter *it)
{
    pq_cursor_close(it->ik.cur);
    it->ik.cur = NULL;
    for (size_t i = 0; i < it->ncols; i++) {
        pq_cursor_close(it->cols[i].cur);
        it->cols[i].cur = NULL;
    }
}

static int load_col(sst_iter *it, icol *c, uint32_t rg, int64_t beg, size_t n)
{
    meru_sst *t = it->t;
    int rc;
    if (!c->cur) {
        rc = pq_cursor_open(t->r, rg, c->pcol, &c->cur);
        if (rc)
            return rc;
        pq_cursor_set_skip_crc(c->cur, (it->flags & MERU_SST_SKIP_CRC) != 0);
        pq_cursor_set_readahead(c->cur, it->ra);
    }
    if (pq_cursor_row(c->cur) != beg) {
        rc = pq_cursor_seek(c->cur, beg);
        if (rc)
            return rc;
    }
    rc = pq_cursor_next(c->cur, n, &c->b);
    if (rc)
        return rc;
    if (c->b.n != n)
        return meru_err(MERU_ECORRUPT, "column %s ends early",
                        pq_reader_column(t->r, c->pcol)->name);
    return MERU_OK;
}

/* Loads the window holding global row `row` and points at it. */
static int load_window(sst_iter *it, int64_t row)
{
    meru_sst *t = it->t;
    it->valid = false;
    it->loaded = false;
    it->val_row = -1;
    uint32_t rg = sst_rg_of(t, row);
    int64_t local = row - t->rg_start[rg];
    int64_t pbeg, pend;
    int rc = sst_page_of_row(t, rg, local, &pbeg, &pend);
    if (rc)
        return rc;
    int64_t wbeg = pbeg + (local - pbeg) / SST_WINDOW_ROWS * SST_WINDOW_ROWS;
    int64_t wend = wbeg + SST_WINDOW_ROWS < pend ? wbeg + SST_WINDOW_ROWS
                                                 : pend;
    size_t n = (size_t)(wend - wbeg);
    if (rg != it->rg) {
        /* A scan moving on into the next row group will not read the
         * one it leaves again: that row group's mapped pages leave the
         * RSS (one madvise of its bytes, ~8 MiB at L1+), so a full scan
         * holds about a row group of the map, not the table (bench_kv's
         * scans held the whole 73 MiB table resident). Other row groups'
         * pages, which gets may be using, stay; pages touched again are
         * minor faults from the page cache. */
        bool passed = it->ik.cur && rg == it->rg + 1;
        close_cursors(it); /* first: a readahead may be reading the pages */
        if (passed)
            meru_sst_release_row_group(t, it->rg);
        it->rg_read = 0;
    }
    it->rg = rg;
    it->rg_read += (int64_t)n;
    rc = load_col(it, &it->ik, rg, wbeg, n);
    for (size_t i = 0; !rc && i < it->ncols; i++)
        rc = load_col(it, &it->cols[i], rg, wbeg, n);
    if (rc) {
        close_cursors(it); /* positions unknown after a failure */
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    }
    /* Keys must parse and strictly increase. */
    const pq_bytes *k = it->ik.b.values;
    for (size_t i = 0; i < n; i++) {
        /* The op byte is the trailer's last, inverted (keycodec.h); the
         * check is meru_ikey_parse's without a call per row. */
        uint8_t op = k[i].len >= MERU_IKEY_TRAILER_LEN
                         ? (uint8_t)~k[i].ptr[k[i].len - 1]
                         : 0xff;
        if ((op != MERU_OP_DELETE && op != MERU_OP_PUT) ||
            (i && meru_ikey_cmp(k[i - 1].ptr, k[i - 1].len, k[i].ptr,
                                     k[i].len) >= 0))
            return meru_err(MERU_ECORRUPT,
                            "SST %s: bad or unordered internal key at row "
                            "%lld",
                            t->path,
                            (long long)(t->rg_start[rg] + wbeg + (int64_t)i));
    }
    it->wbeg = wbeg;
    it->n = n;
    it->pos = (size_t)(local - wbeg);
    it->loaded = true;
    it->valid = true;
    return MERU_OK;
}

static void go_to(sst_iter *it, int64_t row)
{
    unsigned saved = sst_read_flags_set(it->flags);
    int rc = load_window(it, row);
    sst_read_flags_restore(saved);
    if (rc)
        fail(it, rc);
}

/* ------------------------------------------------------------- the ops */

static bool it_valid(meru_iiter *b)
{
    return ((sst_iter *)b)->valid;
}

static void it_seek_to_first(meru_iiter *b)
{
    sst_iter *it = (sst_iter *)b;
    if (it->status)
        return;
    it->rg_read = 0;
    go_to(it, 0);
}

static void it_seek_to_last(meru_iiter *b)
{
    sst_iter *it = (sst_iter *)b;
    if (it->status)
        return;
    it->rg_read = 0;
    go_to(it, (int64_t)it->t->rows - 1);
}

static void it_next(meru_iiter *b)
{
    sst_iter *it = (sst_iter *)b;
    if (it->status || !it->valid)
        return;
    if (it->pos + 1 < it->n) {
        it->pos++;
        return;
    }
    int64_t next = global_row(it) + 1;
    if ((uint64_t)next >= it->t->rows) {
        it->valid = false;
        return;
    }
    go_to(it, next);
}

static void it_prev(meru_iiter *b)
{
    sst_iter *it = (sst_iter *)b;
    if (it->status || !it->valid)
        return;
    if (it->pos > 0) {
        it->pos--;
        return;
    }
    int64_t row = global_row(it);
    if (row == 0) {
        it->valid = false;
        return;
    }
    go_to(it, row - 1);
}

static void it_seek(meru_iiter *b, const uint8_t *key, size_t len)
{
    sst_iter *it = (sst_iter *)b;
    if (it->status)
        return;
    it->valid = false;
    it->rg_read = 0;
    meru_sst *t = it->t;
    uint32_t lo = 0, hi = t->nrg; /* first row group with max >= key */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (meru_ikey_cmp(t->rg_max[mid].ptr, t->rg_max[mid].len, key, len) <
            0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == t->nrg)
        return; /* past the end */
    int64_t pbeg, pend;
    unsigned saved = sst_read_flags_set(it->flags);
    int rc = sst_find_page(t, lo, key, len, &pbeg, &pend);
    sst_read_flags_restore(saved);
    if (rc) {
        fail(it, rc);
        return;
    }
    int64_t row = t->rg_start[lo] + pbeg;
    for (;;) {
        go_to(it, row);
        if (!it->valid)
            return;
        const pq_bytes *k = it->ik.b.values;
        size_t l = it->pos, h = it->n;
        while (l < h) {
            size_t mid = l + (h - l) / 2;
            if (meru_ikey_cmp(k[mid].ptr, k[mid].len, key, len) < 0)
                l = mid + 1;
            else
                h = mid;
        }
        if (l < it->n) {
            it->pos = l;
            return;
        }
        row = global_row(it) + (int64_t)(it->n - it->pos);
        if ((uint64_t)row >= t->rows) {
            it->valid = false;
            return;
        }
    }
}

static const uint8_t *it_key(meru_iiter *b, size_t *len)
{
    sst_iter *it = (sst_iter *)b;
    const pq_bytes *k = &((const pq_bytes *)it->ik.b.values)[it->pos];
    *len = k->len;
    return k->ptr;
}

static void it_seek_for_prev(meru_iiter *b, const uint8_t *key, size_t len)
{
    sst_iter *it = (sst_iter *)b;
    if (it->status)
        return;
    it_seek(b, key, len);
    if (it->status)
        return;
    if (!it->valid) {
        it_seek_to_last(b);
        return;
    }
    size_t kl;
    const uint8_t *k = it_key(b, &kl);
    if (meru_ikey_cmp(k, kl, key, len) > 0)
        it_prev(b);
}

static const uint8_t *it_value(meru_iiter *b, size_t *len)
{
    static const uint8_t empty[1] = {0};
    sst_iter *it = (sst_iter *)b;
    *len = 0;
    meru_sst *t = it->t;
    size_t kl;
    const uint8_t *k = it_key(b, &kl);
    int op = MERU_OP_DELETE;
    if (meru_ikey_parse(k, kl, NULL, NULL, &op) || op == MERU_OP_DELETE)
        return empty;
    int64_t row = global_row(it);
    if (it->val_row == row) {
        *len = it->val.len;
        return it->val.data;
    }
    const meru_schema *s = t->schema;
    char lb[MERU_LABEL_MAX];
    for (size_t i = 0; i < s->ncols; i++) {
        const meru_column *c = &s->cols[i];
        meru_value *v = &it->vals[i];
        memset(v, 0, sizeof *v);
        if (c->key_position >= 0)
            continue;
        if (!meru_colset_has(&it->proj, i) || t->pcol[i] < 0) {
            if (meru_colset_has(&it->proj, i) &&
                c->initial_default.state == MERU_VALUE_PRESENT)
                *v = c->initial_default;
            else if (c->nullable)
                v->state = MERU_VALUE_NULL;
            else
                sst_placeholder(c, t->zeros, v);
        }
    }
    for (size_t j = 0; j < it->ncols; j++) {
        const icol *ic = &it->cols[j];
        const meru_column *c = &s->cols[ic->col];
        meru_value *v = &it->vals[ic->col];
        if (!ic->b.valid[it->pos]) {
            if (!c->nullable) {
                fail(it, meru_err(MERU_ECORRUPT,
                                  "SST %s: null in NOT NULL %s of a put at "
                                  "row %lld",
                                  t->path, meru_column_label(c, lb),
                                  (long long)row));
                return empty;
            }
            v->state = MERU_VALUE_NULL;
        } else {
            sst_value_from_batch(c, ic->fi, &ic->b, it->pos, v);
        }
    }
    meru_buf_reset(&it->val);
    int rc = meru_row_encode_values(s, it->vals, &it->val);
    if (rc) {
        fail(it, rc == MERU_EINVAL
                     ? meru_err_wrap(MERU_ECORRUPT, "SST %s", t->path)
                     : rc);
        return empty;
    }
    it->val_row = row;
    *len = it->val.len;
    return it->val.data;
}

/* The current put's projected values, straight from the window's batches
 * (no rowcodec round trip). */
static int it_values(meru_iiter *b, meru_value *vals)
{
    sst_iter *it = (sst_iter *)b;
    meru_sst *t = it->t;
    const meru_schema *s = t->schema;
    size_t pos = it->pos;
    /* Whole-value stores of a few columns: cheaper per row than copying
     * the template over every column. */
    for (size_t j = 0; j < it->nconsts; j++)
        vals[it->consts[j]] = it->tmpl[it->consts[j]];
    for (size_t j = 0; j < it->ncols; j++) {
        const icol *ic = &it->cols[j];
        meru_value *v = &vals[ic->col];
        if (!ic->b.valid[pos]) {
            const meru_column *c = &s->cols[ic->col];
            if (!c->nullable) {
                char lb[MERU_LABEL_MAX];
                int rc = meru_err(MERU_ECORRUPT,
                                  "SST %s: null in NOT NULL %s of a put at "
                                  "row %lld",
                                  t->path, meru_column_label(c, lb),
                                  (long long)global_row(it));
                fail(it, rc);
                return rc;
            }
            meru_value nv = {.state = MERU_VALUE_NULL};
            *v = nv;
            continue;
        }
        /* Only the fields of the type are stored (the rest of the union
         * is not read for it): a whole meru_value built and copied costs
         * a scan ~40 instructions a row more. */
        switch (ic->kind) {
        case VK_I32:
            v->state = MERU_VALUE_PRESENT;
            memcpy(&v->u.i32, (const uint8_t *)ic->b.values + 4 * pos, 4);
            break;
        case VK_I64:
            v->state = MERU_VALUE_PRESENT;
            memcpy(&v->u.i64, (const uint8_t *)ic->b.values + 8 * pos, 8);
            break;
        case VK_F64:
            v->state = MERU_VALUE_PRESENT;
            memcpy(&v->u.f64, (const uint8_t *)ic->b.values + 8 * pos, 8);
            break;
        case VK_BYTES: {
            const pq_bytes *by = (const pq_bytes *)ic->b.values + pos;
            v->state = MERU_VALUE_PRESENT;
            v->u.bytes.ptr = by->ptr;
            v->u.bytes.len = by->len;
            break;
        }
        default: {
            meru_value x = {.state = MERU_VALUE_PRESENT};
            sst_value_from_batch(&s->cols[ic->col], ic->fi, &ic->b, pos, &x);
            *v = x;
            break;
        }
        }
    }
    return MERU_OK;
}

static int it_status(meru_iiter *b)
{
    return ((sst_iter *)b)->status;
}

static void it_destroy(meru_iiter *b)
{
    sst_iter *it = (sst_iter *)b;
    /* A scan that read on in its last row group (a range scan ending
     * there) leaves those pages mapped, and they would stay in the RSS
     * until a later scan passed through: bench_kv's 100 range scans of 1 %
     * left ~60 MiB of the table resident. Since gets read their pages
     * through the file (sst_cache.c), nothing but another scan would use
     * them. A short scan (a seek and a few rows) keeps its pages: a
     * madvise and the faults of the next such scan would cost more than
     * the few pages weigh. */
    bool release = it->ik.cur && it->rg_read >= SST_RELEASE_ROWS;
    close_cursors(it);
    if (release)
        meru_sst_release_row_group(it->t, it->rg);
    pq_readahead_free(it->ra); /* after the cursors attached to it */
    free(it->cols);
    free(it->vals);
    free(it->tmpl);
    free(it->consts);
    meru_buf_free(&it->val);
    free(it);
}

static const meru_iiter_ops sst_iter_ops = {
    .valid = it_valid,
    .seek_to_first = it_seek_to_first,
    .seek_to_last = it_seek_to_last,
    .seek = it_seek,
    .seek_for_prev = it_seek_for_prev,
    .next = it_next,
    .prev = it_prev,
    .key = it_key,
    .value = it_value,
    .status = it_status,
    .destroy = it_destroy,
    .values = it_values,
};

uint64_t meru_sst_iter_pos(const meru_iiter *b)
{
    const sst_iter *it = (const sst_iter *)b;
    if (!b || b->ops != &sst_iter_ops || !it->valid)
        return UINT64_MAX;
    return (uint64_t)global_row(it);
}

bool meru_sst_iter_reads_ahead(const meru_iiter *b)
{
    if (!b || b->ops != &sst_iter_ops)
        return false;
    return pq_readahead_started(((const sst_iter *)b)->ra);
}

int meru_sst_iter_new(meru_sst *t, const meru_colset *proj, meru_iiter **out)
{
    return meru_sst_iter_new_ex(t, proj, 0, out);
}

int meru_sst_iter_new_ex(meru_sst *t, const meru_colset *proj, unsigned flags,
                         meru_iiter **out)
{
    *out = NULL;
    if (!t)
        return meru_err(MERU_EINVAL, "meru_sst_iter_new: NULL table");
    sst_iter *it = calloc(1, sizeof *it);
    if (!it)
        return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    const meru_schema *s = t->schema;
    it->base.ops = &sst_iter_ops;
    it->t = t;
    it->flags = flags;
    it->val_row = -1;
    it->ik.pcol = (uint32_t)t->col_ikey;
    if (proj) {
        it->proj = *proj;
    } else {
        for (size_t i = 0; i < s->ncols; i++)
            meru_colset_add(&it->proj, i);
    }
    it->cols = calloc(s->ncols ? s->ncols : 1, sizeof *it->cols);
    it->vals = calloc(s->ncols ? s->ncols : 1, sizeof *it->vals);
    it->tmpl = calloc(s->ncols ? s->ncols : 1, sizeof *it->tmpl);
    it->consts = calloc(s->ncols ? s->ncols : 1, sizeof *it->consts);
    int rc = (flags & MERU_SST_NO_READAHEAD) ? MERU_OK
                                             : pq_readahead_new(&it->ra);
    if (rc) {
        it_destroy(&it->base);
        return rc;
    }
    if (!it->cols || !it->vals || !it->tmpl || !it->consts) {
        it_destroy(&it->base);
        return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    }
    for (size_t i = 0; i < s->ncols; i++) {
        const meru_column *c = &s->cols[i];
        if (c->key_position >= 0 || !meru_colset_has(&it->proj, i) ||
            t->pcol[i] < 0) {
            if (c->key_position < 0 && meru_colset_has(&it->proj, i)) {
                if (c->initial_default.state == MERU_VALUE_PRESENT)
                    it->tmpl[i] = c->initial_default;
                else
                    it->tmpl[i].state = MERU_VALUE_NULL;
            }
            it->consts[it->nconsts++] = i;
            continue;
        }
        icol *ic = &it->cols[it->ncols++];
        ic->col = i;
        ic->pcol = (uint32_t)t->pcol[i];
        ic->fi = pq_reader_column(t->r, ic->pcol);
        ic->kind = VK_GENERIC;
        switch (ic->fi->type) {
        case PQ_INT32:
            if (c->type == MERU_TYPE_INT32 || c->type == MERU_TYPE_DATE)
                ic->kind = VK_I32;
            break;
        case PQ_INT64:
            if (c->type == MERU_TYPE_INT64 || c->type == MERU_TYPE_TIMESTAMP ||
                c->type == MERU_TYPE_TIMESTAMPTZ)
                ic->kind = VK_I64;
            break;
        case PQ_DOUBLE:
            if (c->type == MERU_TYPE_DOUBLE)
                ic->kind = VK_F64;
            break;
        case PQ_BYTE_ARRAY:
            if (c->type == MERU_TYPE_STRING || c->type == MERU_TYPE_BINARY)
                ic->kind = VK_BYTES;
            break;
        default:
            break;
        }
    }
    *out = &it->base;
    return MERU_OK;
}
