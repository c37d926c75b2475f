/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_verify.c — meru_verify: a table check that does not trust what it
 * checks (the engine behind `meru verify`).
 *
 * In order, stopping at the first problem (MERU_ECORRUPT or the I/O error,
 * meru_errmsg() naming the file, key or record):
 *  1. the newest metadata version on disk opens (its checksum and every
 *     invariant of the catalog);
 *  2. every WAL segment the metadata lists as live exists, and every
 *     record of the live log reads back with good checksums and is a
 *     well-formed batch (a torn tail of the newest segment is a write cut
 *     by a crash: allowed);
 *  3. every data file of the current version: its footer against its
 *     metadata entry (id, size, rows, sequence and key range: db_check.c);
 *     then, in a full check, every entry read back (page checksums, value
 *     decoding), keys strictly increasing within the file's range,
 *     sequence numbers within its range, as many rows as it claims, and
 *     for each key the file holds a point lookup in that file alone,
 *     which must find the key's newest version there: that is the key
 *     through its bloom filters (whose checksums are verified when they
 *     load) and through the page index to its page;
 *  4. the table as the application sees it: a forward scan of valid rows
 *     in strictly increasing key order, a reverse scan that agrees with
 *     it, and a get of every row (of about MERU_VERIFY_QUICK_GETS rows with
 *     MERU_VERIFY_QUICK) returning the same row;
 *  5. the Iceberg view's deletion vectors, in a full check: each file's
 *     vector (as persisted, loaded from its deletion file) must hide
 *     exactly the rows the data hides (not its user key's newest version
 *     across the table, or a delete), as meru_db_rebuild_dvs computes from
 *     the files alone: a vector hiding a live row makes an Iceberg reader
 *     miss it, one missing a hidden row makes it see an old version or a
 *     deleted row. Only the first direction is checked when the version
 *     carries no complete view (iceberg_view off: no vectors are kept);
 *  6. the Iceberg view as an external reader sees it, in a full check:
 *     the metadata, manifest list, manifests and deletion files read back
 *     from disk hold exactly the rows of a scan at the last commit
 *     (meru_db_check_iceberg); a table that keeps no view is reported as
 *     such, not as damage.
 * MERU_VERIFY_QUICK keeps 1, 2 (segments present), the footer checks of 3
 * and 4 with sampled gets: what `meru verify --quick` did before.
 *
 * It reads through the handle's own view and snapshot-free reads, so it
 * runs beside writers: a file compacted away while it is read stays
 * readable (views pin their files).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "engine/db_lookup.h"
#include "types/keycodec.h"
#include "types/row.h"
#include "util/error.h"

#define MERU_VERIFY_QUICK_GETS 256

/* ------------------------------------------------------------- metadata */

static int verify_metadata(meru_db *db)
{
    meru_catalog_options co;
    memset(&co, 0, sizeof co);
    co.keep_versions = (uint32_t)db->opts.keep_metadata_versions;
    co.view_off = db->opts.iceberg_view == MERU_ICEBERG_VIEW_OFF;
    meru_catalog *cat = NULL;
    int rc = meru_catalog_open(db->fs, db->path, &co, &cat);
    meru_catalog_free(cat);
    return rc ? meru_err_wrap(rc, "verify: metadata") : MERU_OK;
}

/* ------------------------------------------------------------------ WAL */

typedef struct wal_count {
    uint64_t records;
} wal_count;

static int count_record(void *arg, uint64_t segment, const uint8_t *rec,
                        size_t len)
{
    wal_count *c = arg;
    uint32_t n = 0;
    uint64_t seq = 0;
    int rc = meru_batch_check(rec, len, &n, &seq);
    if (rc)
        return meru_err_wrap(rc, "verify: WAL segment %llu, record %llu",
                             (unsigned long long)segment,
                             (unsigned long long)c->records + 1);
    c->records++;
    return MERU_OK;
}

static int verify_wal(meru_db *db, bool quick, meru_verify_report *out)
{
    uint64_t oldest, next;
    int rc = MERU_OK;
    /* A writer deletes segments once a flush commits them: a segment gone
     * between the listing and the read means the live range moved on. */
    for (int attempt = 0; attempt < 5; attempt++) {
        pthread_mutex_lock(&db->cat_mu);
        meru_catalog_wal(db->cat, &oldest, &next);
        pthread_mutex_unlock(&db->cat_mu);
        if ((rc = meru_db_check_wal_segments(db->fs, db->wal_dir, oldest,
                                             next)))
            break;
        if (quick)
            return MERU_OK;
        wal_count c = {0};
        meru_wal_replay_stats st;
        rc = meru_wal_replay(db->fs, db->wal_dir, oldest, 0, count_record, &c,
                             &st);
        if (rc == MERU_NOT_FOUND && !db->read_only) {
            uint64_t o2, n2;
            pthread_mutex_lock(&db->cat_mu);
            meru_catalog_wal(db->cat, &o2, &n2);
            pthread_mutex_unlock(&db->cat_mu);
            if (o2 != oldest)
                continue;
        }
        if (rc == MERU_NOT_FOUND && st.segments == 0)
            rc = MERU_OK; /* no log directory */
        if (rc == MERU_OK) {
            out->wal_segments = st.segments;
            out->wal_records = c.records;
        }
        break;
    }
    return rc ? meru_err_wrap(rc, "verify") : MERU_OK;
}

/* ----------------------------------------------------------- data files */

static int file_bad(const meru_db_file *f, const char *what, uint64_t entry)
{
    return meru_err(MERU_ECORRUPT, "verify: data file %s: entry %llu: %s",
                    f->meta.path, (unsigned long long)entry, what);
}

/* Every entry of one file, and a lookup of each key it holds. */
static int verify_file_entries(meru_db *db, meru_db_file *f, meru_sst *t,
                               meru_verify_report *out)
{
    meru_iiter *it = NULL;
    meru_buf prev = {0}, val = {0};
    uint64_t n = 0;
    int rc = meru_sst_iter_new(t, NULL, &it);
    if (rc)
        return rc;
    const meru_catalog_file *m = &f->meta;
    for (it->ops->seek_to_first(it); it->ops->valid(it); it->ops->next(it)) {
        size_t ilen, ulen, vlen;
        uint64_t seq;
        int op;
        const uint8_t *ik = it->ops->key(it, &ilen);
        (void)it->ops->value(it, &vlen);
        n++;
        if (meru_ikey_parse(ik, ilen, &ulen, &seq, &op)) {
            rc = file_bad(f, "bad internal key", n);
            break;
        }
        if (seq < m->min_seq || seq > m->max_seq) {
            rc = file_bad(f, "sequence number outside the file's range", n);
            break;
        }
        if (n > 1 && meru_ikey_cmp(prev.data, prev.len, ik, ilen) >= 0) {
            rc = file_bad(f, "keys out of order", n);
            break;
        }
        size_t plen = prev.len >= MERU_IKEY_TRAILER_LEN
                          ? prev.len - MERU_IKEY_TRAILER_LEN
                          : 0;
        bool new_key = n == 1 || meru_ikey_cmp(prev.data, plen, ik, ulen);
        if (n == 1 && meru_ikey_cmp(ik, ulen, m->smallest, m->smallest_len)) {
            rc = file_bad(f, "the first key is not the file's smallest", n);
            break;
        }
        if (meru_ikey_cmp(ik, ulen, m->largest, m->largest_len) > 0) {
            rc = file_bad(f, "key above the file's largest", n);
            break;
        }
        if (new_key) {
            /* the newest version of this key in the file: a point lookup
             * in this file must land on it */
            meru_sst_state state;
            uint64_t got = 0;
            out->file_lookups++;
            rc = meru_sst_get(t, ik, ulen, MERU_SEQ_MAX, &state, &got, &val,
                              NULL);
            if (rc)
                break;
            if (state == MERU_SST_NOT_FOUND || got != seq ||
                (state == MERU_SST_DELETED) != (op == MERU_OP_DELETE)) {
                rc = file_bad(f,
                              state == MERU_SST_NOT_FOUND
                                  ? "a lookup of its key does not find it "
                                    "(bloom filter or page index)"
                                  : "a lookup of its key finds another "
                                    "version",
                              n);
                break;
            }
        }
        prev.len = 0;
        if (meru_buf_append(&prev, ik, ilen)) {
            rc = meru_err(MERU_ENOMEM, "out of memory (verify)");
            break;
        }
    }
    if (rc == MERU_OK && (rc = it->ops->status(it)))
        meru_err_wrap(rc, "verify: data file %s", m->path);
    if (rc == MERU_OK && n != m->row_count)
        rc = file_bad(f, "fewer rows than the metadata says", n);
    if (rc == MERU_OK && n &&
        meru_ikey_cmp(prev.data, prev.len - MERU_IKEY_TRAILER_LEN, m->largest,
                      m->largest_len))
        rc = file_bad(f, "the last key is not the file's largest", n);
    out->file_entries += n;
    meru_buf_free(&prev);
    meru_buf_free(&val);
    meru_iiter_destroy(it);
    (void)db;
    return rc;
}

static int verify_files(meru_db *db, meru_view *v, bool quick,
                        meru_verify_report *out)
{
    for (size_t i = 0; i < v->nfiles; i++) {
        meru_db_file *f = v->files[i];
        meru_sst *t;
        int rc = meru_db_file_sst(f, &t);
        if (rc == MERU_OK && !quick)
            rc = verify_file_entries(db, f, t, out);
        if (rc)
            return rc;
        out->files++;
    }
    return MERU_OK;
}

/* ------------------------------------------------------------------ rows */

static int row_text(const meru_row *r, char **out)
{
    return meru_row_to_json(r, out);
}

static int verify_get(meru_db *db, const meru_row *row, meru_row *got)
{
    char *a = NULL, *b = NULL;
    int rc = meru_get(db, NULL, row, got);
    if (rc == MERU_NOT_FOUND)
        return meru_err(MERU_ECORRUPT,
                        "verify: a row the scan returns is not found by get");
    if (rc)
        return meru_err_wrap(rc, "verify: get of a scanned row");
    if ((rc = row_text(row, &a)) || (rc = row_text(got, &b))) {
        meru_free(a);
        return rc;
    }
    if (strcmp(a, b))
        rc = meru_err(MERU_ECORRUPT,
                      "verify: the scan gives %.300s but get gives %.300s", a,
                      b);
    meru_free(a);
    meru_free(b);
    return rc;
}

/* Keys of two rows of the table's schema: <0, 0, >0. */
static int key_cmp(meru_db *db, const meru_row *a, const meru_row *b,
                   meru_buf *ka, meru_buf *kb)
{
    ka->len = kb->len = 0;
    if (meru_key_encode_row(db->schema, a, ka) ||
        meru_key_encode_row(db->schema, b, kb))
        return 0;
    return meru_ikey_cmp(ka->data, ka->len, kb->data, kb->len);
}

static int copy_key(meru_db *db, meru_row *dst, const meru_row *src)
{
    meru_row_clear(dst);
    for (size_t k = 0; k < db->schema->nkey; k++) {
        size_t c = (size_t)db->schema->key_cols[k];
        int rc = meru_row_put_value(dst, c, &src->vals[c]);
        if (rc)
            return rc;
    }
    return MERU_OK;
}

static int verify_rows(meru_db *db, bool quick, meru_verify_report *out)
{
    meru_row *prev = NULL, *got = NULL;
    meru_iter *it = NULL;
    meru_buf ka = {0}, kb = {0};
    const meru_row *row;
    uint64_t n = 0, nrev = 0, every = 1;
    int rc;
    if (quick) {
        meru_stats st;
        every = 997;
        if (meru_stats_get(db, &st) == MERU_OK &&
            (st.total_rows + st.memtable_entries) / MERU_VERIFY_QUICK_GETS >
                every)
            every = (st.total_rows + st.memtable_entries) /
                    MERU_VERIFY_QUICK_GETS;
    }
    if ((rc = meru_row_new(&prev, db->schema)) ||
        (rc = meru_row_new(&got, db->schema)) ||
        (rc = meru_scan(db, NULL, &it)))
        goto out;
    while ((rc = meru_iter_next(it, &row)) == MERU_OK) {
        if ((rc = meru_row_validate(row))) {
            rc = meru_err(MERU_ECORRUPT, "verify: row %llu is invalid: %s",
                          (unsigned long long)n + 1, meru_errmsg());
            goto out;
        }
        if (n > 0 && key_cmp(db, prev, row, &ka, &kb) >= 0) {
            rc = meru_err(MERU_ECORRUPT,
                          "verify: key order broken at row %llu",
                          (unsigned long long)n + 1);
            goto out;
        }
        if (n % every == 0) {
            if ((rc = verify_get(db, row, got)))
                goto out;
            out->gets++;
        }
        if ((rc = copy_key(db, prev, row)))
            goto out;
        n++;
    }
    if (rc != MERU_NOT_FOUND)
        goto out;
    meru_iter_free(it);
    it = NULL;
    /* the end of the key space is where merge bugs show */
    if (n > 0 && every > 1) {
        if ((rc = meru_get(db, NULL, prev, got))) {
            rc = rc == MERU_NOT_FOUND
                     ? meru_err(MERU_ECORRUPT,
                                "verify: the last row the scan returns is "
                                "not found by get")
                     : rc;
            goto out;
        }
        out->gets++;
    }
    meru_scan_options so = MERU_SCAN_OPTIONS_INIT;
    so.reverse = 1;
    if ((rc = meru_scan(db, &so, &it)))
        goto out;
    while ((rc = meru_iter_next(it, &row)) == MERU_OK) {
        if (nrev > 0 && key_cmp(db, prev, row, &ka, &kb) <= 0) {
            rc = meru_err(MERU_ECORRUPT,
                          "verify: reverse scan: key order broken at row %llu",
                          (unsigned long long)nrev + 1);
            goto out;
        }
        if ((rc = copy_key(db, prev, row)))
            goto out;
        nrev++;
    }
    if (rc != MERU_NOT_FOUND)
        goto out;
    rc = MERU_OK;
    /* Rows written meanwhile (a writer handle) change the count; only a
     * read-only handle sees one state. */
    if (db->read_only && nrev != n)
        rc = meru_err(MERU_ECORRUPT,
                      "verify: the forward scan sees %llu rows, the reverse "
                      "scan %llu",
                      (unsigned long long)n, (unsigned long long)nrev);
    out->rows = n;
out:
    if (rc && rc != MERU_ECORRUPT && rc != MERU_NOT_FOUND)
        meru_err_wrap(rc, "verify: scan");
    meru_iter_free(it);
    meru_row_free(prev);
    meru_row_free(got);
    meru_buf_free(&ka);
    meru_buf_free(&kb);
    return rc;
}

/* -------------------------------------------------------- Iceberg view */

/* The first position of `kept` that `rebuilt` (NULL: hides nothing) does
 * not hide. */
typedef struct dv_diff {
    const meru_dv *rebuilt;
    uint64_t pos;
} dv_diff;

static int dv_not_hidden(uint64_t pos, void *arg)
{
    dv_diff *d = arg;
    if (d->rebuilt && meru_dv_contains(d->rebuilt, pos))
        return 0;
    d->pos = pos;
    return 1;
}

static int verify_dvs(meru_db *db)
{
    meru_db_file **files = NULL;
    meru_dv **kept = NULL, **rebuilt = NULL;
    size_t n = 0, got = 0;
    bool any = false, exact = false;
    int rc = MERU_OK;

    /* One version's files and vectors: commits change both under cat_mu. */
    pthread_mutex_lock(&db->cat_mu);
    n = db->nfiles;
    exact = meru_catalog_has_view(db->cat);
    files = calloc(n ? n : 1, sizeof *files);
    kept = calloc(n ? n : 1, sizeof *kept);
    rebuilt = calloc(n ? n : 1, sizeof *rebuilt);
    if (!files || !kept || !rebuilt)
        rc = meru_err(MERU_ENOMEM, "verify: out of memory");
    for (; rc == MERU_OK && got < n; got++) {
        files[got] = db->files[got];
        meru_db_file_ref(files[got]);
        rc = meru_catalog_file_dv(db->cat, files[got]->meta.path, &kept[got]);
        any |= kept[got] && !meru_dv_is_empty(kept[got]);
    }
    pthread_mutex_unlock(&db->cat_mu);
    any |= exact;
    if (rc == MERU_OK && any)
        rc = meru_db_rebuild_dvs(files, got, rebuilt);
    for (size_t i = 0; rc == MERU_OK && any && i < got; i++) {
        dv_diff d = {rebuilt[i], 0};
        dv_diff m = {kept[i], 0};
        if (kept[i] && meru_dv_foreach(kept[i], dv_not_hidden, &d))
            rc = meru_err(MERU_ECORRUPT,
                          "%s: its deletion vector hides row %llu, which "
                          "the data says is visible (an Iceberg reader "
                          "would miss it)",
                          files[i]->meta.path, (unsigned long long)d.pos);
        else if (exact && rebuilt[i] &&
                 meru_dv_foreach(rebuilt[i], dv_not_hidden, &m))
            rc = meru_err(MERU_ECORRUPT,
                          "%s: its deletion vector does not hide row %llu, "
                          "which the data hides (an Iceberg reader would "
                          "see it)",
                          files[i]->meta.path, (unsigned long long)m.pos);
    }
    for (size_t i = 0; i < got; i++) {
        meru_db_file_unref(files[i]);
        meru_dv_free(kept[i]);
        if (any && rebuilt)
            meru_dv_free(rebuilt[i]);
    }
    free(files);
    free(kept);
    free(rebuilt);
    return rc ? meru_err_wrap(rc, "verify: Iceberg view") : MERU_OK;
}

/* The view read back from disk against a scan (meru_db_check_iceberg). */
static int verify_iceberg_read_back(meru_db *db, meru_verify_report *rep)
{
    char err[1024];
    uint64_t rows = 0;
    int rc = meru_db_check_iceberg(db, &rows, err, sizeof err);
    if (rc == MERU_NOT_FOUND) /* keeps no view: nothing to check */
        return MERU_OK;
    if (rc)
        return meru_err(rc, "verify: Iceberg view: %s", err);
    rep->iceberg_view = 1;
    rep->iceberg_rows = rows;
    return MERU_OK;
}

/* ---------------------------------------------------------------- entry */

int meru_verify(meru_db *db, unsigned flags, meru_verify_report *out)
{
    meru_verify_report rep;
    bool quick = (flags & MERU_VERIFY_QUICK) != 0;
    int rc;
    if (out)
        memset(out, 0, sizeof *out);
    if (flags & ~(unsigned)MERU_VERIFY_QUICK)
        return meru_err(MERU_EINVAL, "meru_verify: unknown flags %#x", flags);
    if ((rc = meru_db_check_open(db)))
        return rc;
    memset(&rep, 0, sizeof rep);
    if ((rc = verify_metadata(db)) || (rc = verify_wal(db, quick, &rep)))
        return rc;
    meru_view *v = meru_db_view_get(db);
    rc = verify_files(db, v, quick, &rep);
    meru_db_view_unref(v);
    if (rc == MERU_OK)
        rc = verify_rows(db, quick, &rep);
    if (rc == MERU_OK && !quick)
        rc = verify_dvs(db);
    if (rc == MERU_OK && !quick)
        rc = verify_iceberg_read_back(db, &rep);
    if (out)
        *out = rep;
    return rc;
}
