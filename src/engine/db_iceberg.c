/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_iceberg.c — the table's Iceberg view seen from the engine: its export
 * to another directory (meru_export_iceberg; a table that keeps no vectors,
 * iceberg_view off, has them rebuilt from the data for the copy) and the check that the view
 * on disk holds exactly the rows a scan returns (meru_db_check_iceberg,
 * for `meru verify`, the demo and tests).
 *
 * The check reads the view the way an external engine does
 * (meru_catalog_view_load: metadata -> snapshot -> manifest list ->
 * manifests -> deletion files), reads every data file's rows in file order
 * (the row position is the Iceberg `_pos`), skips the hidden positions, and
 * compares the multiset of the visible rows (as JSON) with a scan at the
 * catalog's last committed sequence, so rows still only in the memtables
 * (not yet in any file, hence in no view) do not count. Rows are compared
 * through two independent 64-bit hash sums and a count: O(1) memory for
 * any table size. A visible row that is a delete is a failure by itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_view.h"
#include "engine/db_internal.h"
#include "engine/db_lookup.h"
#include "sst/sst.h"
#include "types/keycodec.h"
#include "types/rowcodec.h"
#include "util/error.h"

int meru_export_iceberg(meru_db *db, const char *target_dir)
{
    int rc;
    if (!db || !target_dir)
        return meru_err(MERU_EINVAL, "meru_export_iceberg: NULL argument");
    if ((rc = meru_db_check_open(db)))
        return rc;
    pthread_mutex_lock(&db->cat_mu);
    if (meru_catalog_has_view(db->cat)) {
        rc = meru_catalog_export(db->cat, target_dir, NULL);
        pthread_mutex_unlock(&db->cat_mu);
        return rc;
    }
    /* No vectors kept (iceberg_view off, or a table not yet brought up to
     * date): rebuild them from the data for the copy. */
    meru_catalog_edit *e = NULL;
    meru_dv **dvs = calloc(db->nfiles + 1, sizeof *dvs);
    if (!dvs)
        rc = meru_err(MERU_ENOMEM, "export: out of memory");
    else if (!(rc = meru_db_rebuild_dvs(db->files, db->nfiles, dvs)) &&
             !(rc = meru_catalog_edit_new(db->cat, &e))) {
        for (size_t i = 0; i < db->nfiles && !rc; i++)
            if (dvs[i])
                rc = meru_catalog_edit_set_dv(e, db->files[i]->meta.path,
                                              dvs[i]);
        if (!rc)
            rc = meru_catalog_export(db->cat, target_dir, e);
    }
    pthread_mutex_unlock(&db->cat_mu);
    if (dvs)
        for (size_t i = 0; i < db->nfiles; i++)
            meru_dv_free(dvs[i]);
    free(dvs);
    meru_catalog_edit_free(e);
    return rc;
}

typedef struct rowsum {
    uint64_t n, h1, h2;
} rowsum;

static void sum_text(rowsum *s, const char *t)
{
    uint64_t a = 1469598103934665603ULL, b = 0x9e3779b97f4a7c15ULL;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        a = (a ^ *p) * 1099511628211ULL;
        b = (b + *p) * 0xff51afd7ed558ccdULL;
        b ^= b >> 29;
    }
    s->n++;
    s->h1 += a;
    s->h2 += b;
}

static int sum_row(rowsum *s, const meru_row *row)
{
    char *json = NULL;
    int rc = meru_row_to_json(row, &json);
    if (!rc)
        sum_text(s, json);
    meru_free(json);
    return rc;
}

/* The visible rows of one view data file. */
static int sum_file(meru_db *db, const meru_catalog_view_file *vf,
                    meru_row *row, rowsum *s, char *err, size_t errcap)
{
    char path[MERU_DB_PATH_MAX];
    meru_sst *t = NULL;
    meru_iiter *it = NULL;
    uint64_t pos = 0;
    int rc;
    if ((rc = meru_path_join(path, sizeof path, db->path, vf->rel)) ||
        (rc = meru_sst_open(&t, db->fs, path, db->schema, NULL)) ||
        (rc = meru_sst_iter_new(t, NULL, &it)))
        goto done;
    for (it->ops->seek_to_first(it); it->ops->valid(it);
         it->ops->next(it), pos++) {
        if (vf->dv && meru_dv_contains(vf->dv, pos))
            continue;
        size_t klen, vlen;
        const uint8_t *k = it->ops->key(it, &klen);
        const uint8_t *v = it->ops->value(it, &vlen);
        if (klen < MERU_IKEY_TRAILER_LEN) {
            rc = meru_err(MERU_ECORRUPT, "%s: row %llu: short key", vf->rel,
                          (unsigned long long)pos);
            goto done;
        }
        uint64_t tr = ~meru_load_be64(k + klen - MERU_IKEY_TRAILER_LEN);
        if ((tr & 0xff) != MERU_OP_PUT) {
            snprintf(err, errcap,
                     "the Iceberg view shows row %llu of %s, a delete",
                     (unsigned long long)pos, vf->rel);
            rc = MERU_ECORRUPT;
            goto done;
        }
        if ((rc = meru_row_decode(db->schema, k, klen - MERU_IKEY_TRAILER_LEN,
                                  v, vlen, row)) ||
            (rc = sum_row(s, row)))
            goto done;
    }
    rc = it->ops->status(it);
    if (!rc && pos != (uint64_t)vf->record_count) {
        snprintf(err, errcap, "%s has %llu rows, its manifest entry says %lld",
                 vf->rel, (unsigned long long)pos,
                 (long long)vf->record_count);
        rc = MERU_ECORRUPT;
    }
done:
    meru_iiter_destroy(it);
    meru_sst_close(t);
    return rc;
}

int meru_db_check_iceberg(meru_db *db, uint64_t *rows, char *err,
                          size_t errcap)
{
    meru_catalog_view *v = NULL;
    meru_snapshot *snap = NULL;
    meru_iter *it = NULL;
    meru_row *row = NULL;
    meru_view *pin = NULL;
    rowsum a = {0, 0, 0}, b = {0, 0, 0};
    int rc;
    err[0] = 0;
    *rows = 0;
    if ((rc = meru_row_new(&row, db->schema)) ||
        (rc = meru_snapshot_new(db, &snap)))
        goto done;
    /* The committed state, and the view of exactly that version. Its data
     * files are pinned (a read view taken under cat_mu lists exactly the
     * catalog's current files), so a compaction committing meanwhile
     * cannot delete them before they are read. */
    pthread_mutex_lock(&db->cat_mu);
    pin = meru_db_read_view(db, NULL);
    snap->seq = meru_catalog_last_sequence(db->cat);
    if (!meru_catalog_has_view(db->cat))
        rc = MERU_NOT_FOUND;
    else
        rc = meru_catalog_view_load(db->fs, db->path, &v);
    pthread_mutex_unlock(&db->cat_mu);
    if (rc == MERU_NOT_FOUND) {
        snprintf(err, errcap, "the table keeps no Iceberg view (iceberg_view "
                              "off, or not committed since)");
        goto done;
    }
    if (rc)
        goto done;
    for (size_t i = 0; i < v->nfiles && !rc && !err[0]; i++)
        rc = sum_file(db, &v->files[i], row, &a, err, errcap);
    if (rc || err[0])
        goto done;
    meru_scan_options o;
    meru_scan_options_init(&o);
    o.snapshot = snap;
    if ((rc = meru_scan(db, &o, &it)))
        goto done;
    const meru_row *r;
    while ((rc = meru_iter_next(it, &r)) == MERU_OK)
        if ((rc = sum_row(&b, r)))
            goto done;
    if (rc != MERU_NOT_FOUND)
        goto done;
    rc = MERU_OK;
    if (a.n != b.n || a.h1 != b.h1 || a.h2 != b.h2)
        snprintf(err, errcap,
                 "the Iceberg view (snapshot %lld, %zu data files) holds "
                 "%llu rows, the scan %llu%s",
                 (long long)v->snapshot_id, v->nfiles,
                 (unsigned long long)a.n, (unsigned long long)b.n,
                 a.n == b.n ? " (different rows)" : "");
    *rows = a.n;
done:
    if (rc && rc != MERU_NOT_FOUND && !err[0])
        snprintf(err, errcap, "%s", meru_errmsg());
    meru_iter_free(it);
    meru_snapshot_free(snap);
    meru_row_free(row);
    meru_catalog_view_free(v);
    if (pin)
        meru_db_view_unref(pin);
    return rc ? rc : err[0] ? MERU_ECORRUPT : MERU_OK; /* NOT_FOUND: none */
}
