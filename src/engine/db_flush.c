/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_flush.c — background workers and the flush job (SPEC §5, §8).
 *
 * Workers wait on cv_work under mu for a predicate (an immutable memtable
 * to flush, a compaction to run, a file whose grace period passed, or
 * stop) checked in a loop, and whoever changes one of those sets it under
 * the same mutex before signalling: no wake-up can be lost between the
 * check and the wait (the bug of the seed design). meru_db_stop_workers
 * sets `stop` under mu, broadcasts, and joins every thread.
 *
 * Flush: the oldest immutable memtable becomes one L0 Parquet file (row
 * profile), fsynced with its directory, then one catalog commit adds the
 * file and records that WAL segments below the next memtable's are dead;
 * then the dead segments are deleted and the memtable leaves the view in
 * the same step as the file enters it (all under cat_mu).
 * A crash at any point leaves either the old state (memtable replayed from
 * the WAL; the half-written file is an orphan swept at open) or the new.
 *
 * The Iceberg view (iceberg_view continuous, db_lookup.h): while writing,
 * the flush records its file's own deletion vector (each row that is not
 * the first of its user key, each delete: the writer knows the row index)
 * and the distinct user keys. Under cat_mu it looks up the newest version
 * of those keys in the older files and hides each that is a put, in the
 * same commit that adds the file. cat_mu is what makes the positions
 * right: a compaction commits under it too, so none can replace a file
 * between the lookup and the commit.
 */
#include <stdlib.h>
#include <string.h>

#include "changes/changelog.h"
#include "engine/db_internal.h"
#include "engine/db_lookup.h"
#include "types/keycodec.h"
#include "util/clock.h"
#include "util/error.h"

void meru_db_set_bg_error_locked(meru_db *db, int rc)
{
    if (db->bg_error || rc == MERU_OK)
        return;
    db->bg_error = rc;
    snprintf(db->bg_errmsg, sizeof db->bg_errmsg, "%s", meru_errmsg());
    pthread_cond_broadcast(&db->cv_done);
    meru_db_wake_workers_locked(db);
}

int meru_db_bg_error_locked(meru_db *db)
{
    if (!db->bg_error)
        return MERU_OK;
    return meru_err(MERU_EFAILED,
                    "writes stopped after a background failure (%s): %s",
                    meru_strerror(db->bg_error), db->bg_errmsg);
}

/* ----------------------------------------------------------- L0 files */

void meru_db_l0_clear(meru_db_l0 *l)
{
    meru_catalog_file_clear(&l->meta);
    meru_dv_free(l->dv);
    free(l->keys);
    meru_buf_free(&l->keybytes);
    memset(l, 0, sizeof *l);
}

/* The keys a flush collects for the view: each distinct user key copied
 * after the previous one into `bytes`, with its offset and length. */
typedef struct keylog {
    meru_buf bytes;
    size_t *off, *len;
    size_t n, cap;
} keylog;

static void keylog_free(keylog *k)
{
    meru_buf_free(&k->bytes);
    free(k->off);
    free(k->len);
    memset(k, 0, sizeof *k);
}

/* The view's part of writing row `row`: a row that is not the first of
 * its user key, or a delete, is hidden; each new user key is logged. */
static int l0_view_row(meru_db_l0 *out, keylog *kl, uint64_t row,
                       const uint8_t *ikey, size_t ilen)
{
    size_t ulen;
    int op, rc;
    if ((rc = meru_ikey_parse(ikey, ilen, &ulen, NULL, &op)))
        return rc;
    bool first = kl->n == 0 ||
                 meru_ikey_cmp(kl->bytes.data + kl->off[kl->n - 1],
                               kl->len[kl->n - 1], ikey, ulen) != 0;
    if (first) {
        if (kl->n == kl->cap) {
            size_t c = kl->cap ? kl->cap * 2 : 1024;
            size_t *o = realloc(kl->off, c * sizeof *o);
            if (o)
                kl->off = o;
            size_t *l = o ? realloc(kl->len, c * sizeof *l) : NULL;
            if (!l)
                return meru_err(MERU_ENOMEM, "out of memory (flush keys)");
            kl->len = l;
            kl->cap = c;
        }
        kl->off[kl->n] = kl->bytes.len;
        kl->len[kl->n] = ulen;
        if ((rc = meru_buf_append(&kl->bytes, ikey, ulen)))
            return rc;
        kl->n++;
    }
    if (out->dv && (!first || op == MERU_OP_DELETE))
        return meru_dv_add(out->dv, row);
    return MERU_OK;
}

/* Hands the logged keys to out (keys pointing into keybytes). */
static int l0_view_keys(meru_db_l0 *out, keylog *kl)
{
    if (kl->n && !(out->keys = malloc(kl->n * sizeof *out->keys)))
        return meru_err(MERU_ENOMEM, "out of memory (flush keys)");
    out->keybytes = kl->bytes;
    memset(&kl->bytes, 0, sizeof kl->bytes);
    for (size_t i = 0; i < kl->n; i++) {
        out->keys[i].ptr = out->keybytes.data + kl->off[i];
        out->keys[i].len = kl->len[i];
    }
    out->nkeys = kl->n;
    return MERU_OK;
}

int meru_db_write_l0(meru_db *db, meru_memtable *mem, meru_db_l0 *out)
{
    char uuid[MERU_UUID_TEXT], rel[128], abs[MERU_DB_PATH_MAX],
        dir[MERU_DB_PATH_MAX];
    meru_sst_options so;
    meru_sst_writer *w = NULL;
    meru_sst_meta meta;
    meru_memtable_iter it;
    bool view = db->opts.iceberg_view == MERU_ICEBERG_VIEW_CONTINUOUS;
    bool feed;
    keylog kl;
    uint64_t row = 0;
    int rc;

    memset(out, 0, sizeof *out);
    memset(&meta, 0, sizeof meta);
    memset(&kl, 0, sizeof kl);
    if ((rc = meru_catalog_new_uuid(uuid)))
        return rc;
    snprintf(rel, sizeof rel, "data/L0/%s.parquet", uuid);
    if ((rc = meru_path_join(abs, sizeof abs, db->path, rel)) ||
        (rc = meru_path_parent(dir, sizeof dir, abs)))
        return rc;
    if (view && (rc = meru_dv_new(&out->dv)))
        return rc;
    {
        meru_options o; /* the table-shaping fields may change: a copy */
        meru_db_options_copy(db, &o);
        meru_sst_options_for_level(&so, 0, &o);
        feed = meru_db_feed_on(&o);
    }
    /* The change feed needs the keys too (for the lookup of pre-images),
     * and the memtable at commit. */
    if (feed)
        out->mem = mem;
    /* The current schema, loaded after `mem` stopped taking writes: it has
     * every column of every row in it (db_schema.c). */
    if ((rc = meru_sst_writer_open(&w, db->fs, abs, meru_db_cur_schema(db),
                                   &so))) {
        meru_db_l0_clear(out);
        return meru_err_wrap(rc, "flush");
    }
    meru_memtable_iter_init(&it, mem);
    for (meru_memtable_iter_seek_to_first(&it); meru_memtable_iter_valid(&it);
         meru_memtable_iter_next(&it), row++) {
        size_t ilen, vlen;
        const uint8_t *ikey = meru_memtable_iter_ikey(&it, &ilen);
        const uint8_t *val = meru_memtable_iter_value(&it, &vlen);
        /* Rows are added in order, so `row` is the row's position. */
        if ((rc = meru_sst_writer_add(w, ikey, ilen, val, vlen)) ||
            ((view || feed) &&
             (rc = l0_view_row(out, &kl, row, ikey, ilen)))) {
            meru_sst_writer_abort(w);
            meru_db_l0_clear(out);
            keylog_free(&kl);
            return meru_err_wrap(rc, "flush");
        }
    }
    if (view || feed)
        rc = l0_view_keys(out, &kl);
    keylog_free(&kl);
    if (rc) {
        meru_sst_writer_abort(w);
        meru_db_l0_clear(out);
        return meru_err_wrap(rc, "flush");
    }
    if ((rc = meru_sst_writer_finish(w, &meta))) {
        meru_db_l0_clear(out);
        return meru_err_wrap(rc, "flush");
    }
    if ((rc = meru_fs_sync_dir(db->fs, dir))) {
        meru_err_saved e;
        meru_err_save(&e);
        meru_sst_meta_free(&meta);
        meru_db_l0_clear(out);
        (void)meru_fs_remove(db->fs, abs);
        meru_err_restore(&e);
        return meru_err_wrap(rc, "flush: sync %s", dir);
    }
    out->meta.level = 0;
    out->meta.path = strdup(rel);
    out->meta.file_size = meta.file_size;
    out->meta.row_count = meta.row_count;
    out->meta.min_seq = meta.min_seq;
    out->meta.max_seq = meta.max_seq;
    out->meta.smallest = meru_buf_detach(&meta.smallest,
                                         &out->meta.smallest_len);
    out->meta.largest = meru_buf_detach(&meta.largest, &out->meta.largest_len);
    meru_sst_meta_free(&meta);
    if (!out->meta.path || !out->meta.smallest || !out->meta.largest) {
        meru_db_l0_clear(out);
        (void)meru_fs_remove(db->fs, abs);
        return meru_err(MERU_ENOMEM, "out of memory (flush)");
    }
    if (out->dv)
        meru_dv_optimize(out->dv);
    return MERU_OK;
}

/* Collects the pre-images (values of the older puts) the lookup reads. */
typedef struct pre_log {
    meru_buf bytes;
    size_t *off, *len; /* per key */
} pre_log;

static int pre_value(void *arg, size_t key, uint64_t pos, const uint8_t *value,
                     size_t len)
{
    pre_log *p = arg;
    (void)pos;
    p->off[key] = p->bytes.len;
    p->len[key] = len;
    return len ? meru_buf_append(&p->bytes, value, len) : MERU_OK;
}

/* Adds to edit `e` what a new L0 file `add` changes besides itself (cat_mu
 * held), from one lookup of the newest older version of each of its keys
 * in the older files (db->files, which mirror the catalog under cat_mu):
 * with the continuous view, the file's own vector and, in each older file,
 * the position of each such version that is a put; with the change feed
 * (add->mem), the changelog file of the memtable's changes, whose
 * pre-images are those versions' values. Then the feed's retention.
 * *written: see meru_db_changes_commit. */
static int l0_lookup_edit(meru_db *db, const meru_options *opt,
                          const meru_db_l0 *add, uint64_t last_seq,
                          meru_catalog_edit *e, char **written)
{
    meru_db_file **files = db->files;
    size_t nfiles = db->nfiles;
    bool feed = add->mem != NULL;
    meru_db_older *older = NULL;
    meru_dv **dvs = NULL;
    meru_changelog_pre *pre = NULL;
    pre_log pl;
    meru_sst_lookup_opts lo = {pre_value, &pl, NULL};
    meru_db_lookup_stats ls;
    uint64_t t0 = meru_clock_ns(), c0 = meru_clock_thread_cpu_ns(), hidden = 0;
    int rc = MERU_OK;

    memset(&ls, 0, sizeof ls);
    memset(&pl, 0, sizeof pl);
    if (add->dv && !meru_dv_is_empty(add->dv) &&
        (rc = meru_catalog_edit_set_dv(e, add->meta.path, add->dv)))
        return rc;
    if (!add->nkeys)
        return feed ? meru_db_changes_commit(db, opt, add, NULL, last_seq, e,
                                             written)
                    : MERU_OK;
    older = malloc(add->nkeys * sizeof *older);
    dvs = calloc(nfiles + 1, sizeof *dvs);
    if (feed) {
        pre = calloc(add->nkeys, sizeof *pre);
        pl.off = calloc(add->nkeys, sizeof *pl.off);
        pl.len = calloc(add->nkeys, sizeof *pl.len);
    }
    if (!older || !dvs || (feed && (!pre || !pl.off || !pl.len))) {
        rc = meru_err(MERU_ENOMEM, "out of memory (flush lookup)");
        goto out;
    }
    if (nfiles)
        rc = meru_db_lookup_older(files, nfiles, db->schema, add->keys,
                                  add->nkeys, feed ? &lo : NULL, older, &ls);
    else
        for (size_t i = 0; i < add->nkeys; i++)
            older[i].state = MERU_SST_NOT_FOUND;
    for (size_t i = 0; add->dv && rc == MERU_OK && i < add->nkeys; i++) {
        const meru_db_older *o = &older[i];
        if (o->state != MERU_SST_FOUND)
            continue; /* a delete row is hidden already, in its own file */
        if (!dvs[o->file]) {
            rc = meru_catalog_file_dv(db->cat, files[o->file]->meta.path,
                                      &dvs[o->file]);
            if (rc == MERU_OK && !dvs[o->file])
                rc = meru_dv_new(&dvs[o->file]);
        }
        if (rc == MERU_OK)
            rc = meru_dv_add(dvs[o->file], o->pos);
        hidden++;
    }
    for (size_t f = 0; rc == MERU_OK && f < nfiles; f++)
        if (dvs[f])
            rc = meru_catalog_edit_set_dv(e, files[f]->meta.path, dvs[f]);
    if (rc == MERU_OK && nfiles && add->dv) {
        /* The view's upkeep (the feed's share is not counted here). */
        atomic_fetch_add_explicit(&db->st_view_lookups, 1,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&db->st_view_lookup_us,
                                  (meru_clock_ns() - t0) / 1000,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&db->st_view_lookup_cpu_us,
                                  (meru_clock_thread_cpu_ns() - c0) / 1000,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&db->st_view_lookup_pages, ls.pages_read,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&db->st_view_hidden, hidden,
                                  memory_order_relaxed);
    }
    if (rc == MERU_OK && feed) {
        for (size_t i = 0; i < add->nkeys; i++) {
            pre[i].live = older[i].state == MERU_SST_FOUND;
            pre[i].value = pl.bytes.data + pl.off[i];
            pre[i].vlen = pl.len[i];
        }
        rc = meru_db_changes_commit(db, opt, add, pre, last_seq, e, written);
    }
out:
    for (size_t f = 0; dvs && f < nfiles; f++)
        meru_dv_free(dvs[f]);
    free(dvs);
    free(older);
    free(pre);
    free(pl.off);
    free(pl.len);
    meru_buf_free(&pl.bytes);
    return rc ? meru_err_wrap(rc, "flush: older versions") : MERU_OK;
}

int meru_db_commit_l0(meru_db *db, const meru_db_l0 *add, uint64_t last_seq,
                      bool set_wal, uint64_t oldest, uint64_t next,
                      void (*edit)(meru_db *db, void *arg), void *arg)
{
    meru_catalog_edit *e = NULL;
    bool file = add && add->meta.path;
    char *written = NULL; /* a changelog file of this commit */
    meru_options o;
    int rc;
    meru_db_options_copy(db, &o);
    pthread_mutex_lock(&db->cat_mu);
    if (last_seq < meru_catalog_last_sequence(db->cat))
        last_seq = meru_catalog_last_sequence(db->cat);
    rc = meru_catalog_edit_new(db->cat, &e);
    if (rc == MERU_OK && file)
        rc = meru_catalog_edit_add_file(e, &add->meta);
    if (rc == MERU_OK && file && (add->dv || add->mem))
        rc = l0_lookup_edit(db, &o, add, last_seq, e, &written);
    /* Without a changelog of its own, a commit still applies the feed's
     * retention (l0_lookup_edit does when it writes one). */
    if (rc == MERU_OK && !(file && add->mem))
        rc = meru_db_changes_commit(db, &o, NULL, NULL, last_seq, e, NULL);
    if (rc == MERU_OK) {
        meru_catalog_edit_set_last_sequence(e, last_seq);
        if (set_wal)
            meru_catalog_edit_set_wal(e, oldest, next);
        rc = meru_catalog_commit(db->cat, e);
    }
    bool maybe_committed = rc && meru_catalog_failed(db->cat);
    meru_catalog_edit_free(e);
    if (rc && file && !maybe_committed) {
        /* Not part of the table: remove it now rather than at next open.
         * (A commit that failed while writing its version may be on disk:
         * then the file stays, for the next open to sweep or keep.) */
        char abs[MERU_DB_PATH_MAX];
        meru_err_saved saved;
        meru_err_save(&saved);
        if (!meru_path_join(abs, sizeof abs, db->path, add->meta.path))
            (void)meru_fs_remove(db->fs, abs);
        meru_err_restore(&saved);
    }
    if (rc && written)
        (void)meru_fs_remove(db->fs, written);
    free(written);
    if (rc == MERU_OK) {
        /* The committed catalog no longer lists these segments (their rows
         * are in files, and readers read the memtable until the publish),
         * so they go now: before the publish that lets meru_flush return,
         * so a flushed table holds no dead log. Best effort: a segment
         * that stays is deleted at the next open. */
        if (set_wal)
            (void)meru_wal_delete_below(db->fs, db->wal_dir, oldest);
        rc = meru_db_publish_locked(db, edit, arg);
    }
    pthread_mutex_unlock(&db->cat_mu);
    return rc;
}
/* Drops the flushed memtable (under mu, with the new view) and counts the
 * flush (before anyone waiting for it wakes). */
static void drop_flushed(meru_db *db, void *arg)
{
    const uint64_t *bytes = arg;
    atomic_fetch_add_explicit(&db->st_flushes, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_flush_bytes, *bytes,
                              memory_order_relaxed);
    meru_memtable_unref(db->imm[0].mem);
    memmove(db->imm, db->imm + 1, (db->nimm - 1) * sizeof *db->imm);
    db->nimm--;
    db->flushed++;
}

/* Flushes db->imm[0] (the caller set flush_running). */
static int flush_oldest(meru_db *db)
{
    meru_db_l0 f;
    meru_memtable *mem;
    uint64_t segment, next_segment, bytes;
    int rc;

    pthread_mutex_lock(&db->mu);
    mem = db->imm[0].mem;
    segment = db->imm[0].segment;
    next_segment = db->next_segment;
    pthread_mutex_unlock(&db->mu);

    memset(&f, 0, sizeof f);
    if (meru_memtable_count(mem) > 0 && (rc = meru_db_write_l0(db, mem, &f)))
        return rc;
    bytes = f.meta.file_size;
    /* Segments below the next memtable's hold nothing unflushed; the
     * publish drops the memtable from the views in the same step as the
     * file enters them. */
    rc = meru_db_commit_l0(db, &f, meru_memtable_max_seq(mem), true,
                           segment + 1, next_segment, drop_flushed, &bytes);
    meru_db_l0_clear(&f);
    return rc ? meru_err_wrap(rc, "flush: commit") : MERU_OK;
}

/* ------------------------------------------------------------- workers */

static bool gc_due_locked(meru_db *db, uint64_t now_ms, uint64_t *next_ms)
{
    bool due = false;
    *next_ms = UINT64_MAX;
    for (size_t i = 0; i < db->ngc; i++) {
        if (db->gc[i].due_ms <= now_ms)
            due = true;
        else if (db->gc[i].due_ms < *next_ms)
            *next_ms = db->gc[i].due_ms;
    }
    return due;
}

void meru_db_worker_deadline(uint64_t due_ms, uint64_t now_ms,
                             struct timespec *out)
{
    /* Signed: a deadline already behind us is a wait of 0, not a huge
     * unsigned difference (which the cap used to turn into a minute). */
    int64_t wait_ms = due_ms <= now_ms ? 0
                      : due_ms - now_ms > MERU_DB_WORKER_MAX_WAIT_MS
                          ? MERU_DB_WORKER_MAX_WAIT_MS
                          : (int64_t)(due_ms - now_ms);
    clock_gettime(CLOCK_MONOTONIC, out);
    out->tv_sec += (time_t)(wait_ms / 1000);
    out->tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}

static void *worker_main(void *arg)
{
    meru_db *db = arg;
    pthread_mutex_lock(&db->mu);
    for (;;) {
        uint64_t next_ms;
        bool flush = !db->bg_error && db->nimm > 0 && !db->flush_running;
        bool gc = gc_due_locked(db, meru_clock_ns() / 1000000u, &next_ms);
        if (flush) {
            db->flush_running = true;
            pthread_mutex_unlock(&db->mu);
            int rc = flush_oldest(db);
            pthread_mutex_lock(&db->mu);
            db->flush_running = false;
            if (rc)
                meru_db_set_bg_error_locked(db, rc);
            pthread_cond_broadcast(&db->cv_done);
            continue;
        }
        if (gc) {
            pthread_mutex_unlock(&db->mu);
            meru_db_gc_run(db, false);
            pthread_mutex_lock(&db->mu);
            continue;
        }
        if (!db->bg_error && !db->stop) {
            bool did = false;
            uint64_t gen = db->work_gen;
            pthread_mutex_unlock(&db->mu);
            int rc = meru_db_compact_step(db, &did);
            pthread_mutex_lock(&db->mu);
            if (rc)
                meru_db_set_bg_error_locked(db, rc);
            /* mu was released during the step: a signal sent meanwhile (a
             * switched memtable, a new L0 file, a file to delete) found
             * nobody waiting, so look again instead of waiting. */
            if (did || rc || db->work_gen != gen)
                continue;
        }
        if (db->stop)
            break;
        {
            /* Idle work waiting for the table to be quiet: look again
             * then (db_compact.c). */
            uint64_t wake;
            (void)meru_db_settle_due_locked(db, meru_clock_ns() / 1000000u,
                                            &wake);
            if (wake < next_ms)
                next_ms = wake;
        }
        if (next_ms != UINT64_MAX) {
            /* Sleep until the next grace period ends (or a signal). The
             * step above may have taken long enough for it to pass: then
             * the deadline is now and the wait returns at once. */
            struct timespec ts;
            meru_db_worker_deadline(next_ms, meru_clock_ns() / 1000000u, &ts);
            pthread_cond_timedwait(&db->cv_work, &db->mu, &ts);
        } else {
            pthread_cond_wait(&db->cv_work, &db->mu);
        }
    }
    pthread_mutex_unlock(&db->mu);
    return NULL;
}

int meru_db_start_workers(meru_db *db)
{
    int n = db->opts.background_threads;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&db->workers[i], NULL, worker_main, db)) {
            meru_db_stop_workers(db);
            return meru_err(MERU_EIO, "cannot start a background thread");
        }
        db->nworkers = i + 1;
    }
    return MERU_OK;
}

void meru_db_stop_workers(meru_db *db)
{
    pthread_mutex_lock(&db->mu);
    db->stop = true;
    meru_db_wake_workers_locked(db);
    pthread_cond_broadcast(&db->cv_done);
    pthread_mutex_unlock(&db->mu);
    for (int i = 0; i < db->nworkers; i++)
        pthread_join(db->workers[i], NULL);
    db->nworkers = 0;
}

int meru_db_wait_flushed(meru_db *db)
{
    int rc;
    pthread_mutex_lock(&db->mu);
    /* Wait for the memtables made immutable up to now, not for the ones
     * other writers fill meanwhile (they flush in switch order). */
    uint64_t target = db->switched;
    while (!db->bg_error && !db->stop && db->flushed < target)
        pthread_cond_wait(&db->cv_done, &db->mu);
    rc = meru_db_bg_error_locked(db);
    if (rc == MERU_OK && db->flushed < target)
        rc = meru_err(MERU_ECLOSED, "the table closed before the flush");
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int meru_flush(meru_db *db)
{
    int rc;
    if (!db)
        return meru_err(MERU_EINVAL, "meru_flush: NULL handle");
    if ((rc = meru_db_check_open(db)))
        return rc;
    if (db->read_only)
        return meru_err(MERU_EREADONLY, "meru_flush: the table is open "
                                        "read-only");
    if ((rc = meru_db_switch_memtable(db, true)))
        return rc;
    return meru_db_wait_flushed(db);
}
