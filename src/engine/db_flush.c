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
 * then the memtable leaves the view and the dead segments are deleted.
 * A crash at any point leaves either the old state (memtable replayed from
 * the WAL; the half-written file is an orphan swept at open) or the new.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
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

int meru_db_write_l0(meru_db *db, meru_memtable *mem, meru_catalog_file *out)
{
    char uuid[MERU_UUID_TEXT], rel[128], abs[MERU_DB_PATH_MAX],
        dir[MERU_DB_PATH_MAX];
    meru_sst_options so;
    meru_sst_writer *w = NULL;
    meru_sst_meta meta;
    meru_memtable_iter it;
    int rc;

    memset(out, 0, sizeof *out);
    memset(&meta, 0, sizeof meta);
    if ((rc = meru_catalog_new_uuid(uuid)))
        return rc;
    snprintf(rel, sizeof rel, "data/L0/%s.parquet", uuid);
    if ((rc = meru_path_join(abs, sizeof abs, db->path, rel)) ||
        (rc = meru_path_parent(dir, sizeof dir, abs)))
        return rc;
    meru_sst_options_for_level(&so, 0, &db->opts);
    /* The current schema, loaded after `mem` stopped taking writes: it has
     * every column of every row in it (db_schema.c). */
    if ((rc = meru_sst_writer_open(&w, db->fs, abs, meru_db_cur_schema(db),
                                   &so)))
        return meru_err_wrap(rc, "flush");
    meru_memtable_iter_init(&it, mem);
    for (meru_memtable_iter_seek_to_first(&it); meru_memtable_iter_valid(&it);
         meru_memtable_iter_next(&it)) {
        size_t ilen, vlen;
        const uint8_t *ikey = meru_memtable_iter_ikey(&it, &ilen);
        const uint8_t *val = meru_memtable_iter_value(&it, &vlen);
        if ((rc = meru_sst_writer_add(w, ikey, ilen, val, vlen))) {
            meru_sst_writer_abort(w);
            return meru_err_wrap(rc, "flush");
        }
    }
    if ((rc = meru_sst_writer_finish(w, &meta)))
        return meru_err_wrap(rc, "flush");
    if ((rc = meru_fs_sync_dir(db->fs, dir))) {
        meru_sst_meta_free(&meta);
        (void)meru_fs_remove(db->fs, abs);
        return meru_err_wrap(rc, "flush: sync %s", dir);
    }
    out->level = 0;
    out->path = strdup(rel);
    out->file_size = meta.file_size;
    out->row_count = meta.row_count;
    out->min_seq = meta.min_seq;
    out->max_seq = meta.max_seq;
    out->smallest = meru_buf_detach(&meta.smallest, &out->smallest_len);
    out->largest = meru_buf_detach(&meta.largest, &out->largest_len);
    meru_sst_meta_free(&meta);
    if (!out->path || !out->smallest || !out->largest) {
        meru_catalog_file_clear(out);
        (void)meru_fs_remove(db->fs, abs);
        return meru_err(MERU_ENOMEM, "out of memory (flush)");
    }
    return MERU_OK;
}

/* Drops the flushed memtable (under mu, with the new view). */
static void drop_flushed(meru_db *db, void *arg)
{
    (void)arg;
    meru_memtable_unref(db->imm[0].mem);
    memmove(db->imm, db->imm + 1, (db->nimm - 1) * sizeof *db->imm);
    db->nimm--;
    db->flushed++;
}

/* Flushes db->imm[0] (the caller set flush_running). */
int meru_db_commit_l0(meru_db *db, const meru_catalog_file *add,
                      uint64_t last_seq, bool set_wal, uint64_t oldest,
                      uint64_t next)
{
    meru_catalog_edit *e = NULL;
    int rc;
    pthread_mutex_lock(&db->cat_mu);
    if (last_seq < meru_catalog_last_sequence(db->cat))
        last_seq = meru_catalog_last_sequence(db->cat);
    rc = meru_catalog_edit_new(db->cat, &e);
    if (rc == MERU_OK && add && add->path)
        rc = meru_catalog_edit_add_file(e, add);
    if (rc == MERU_OK) {
        meru_catalog_edit_set_last_sequence(e, last_seq);
        if (set_wal)
            meru_catalog_edit_set_wal(e, oldest, next);
        rc = meru_catalog_commit(db->cat, e);
    }
    meru_catalog_edit_free(e);
    pthread_mutex_unlock(&db->cat_mu);
    if (rc && add && add->path) {
        /* Not part of the table: remove it now rather than at next open. */
        char abs[MERU_DB_PATH_MAX];
        if (!meru_path_join(abs, sizeof abs, db->path, add->path))
            (void)meru_fs_remove(db->fs, abs);
    }
    return rc;
}

static int flush_oldest(meru_db *db)
{
    meru_catalog_file f;
    meru_memtable *mem;
    uint64_t segment, next_segment;
    int rc;

    pthread_mutex_lock(&db->mu);
    mem = db->imm[0].mem;
    segment = db->imm[0].segment;
    next_segment = db->next_segment;
    pthread_mutex_unlock(&db->mu);

    memset(&f, 0, sizeof f);
    if (meru_memtable_count(mem) > 0 && (rc = meru_db_write_l0(db, mem, &f)))
        return rc;
    /* Segments below the next memtable's hold nothing unflushed. */
    rc = meru_db_commit_l0(db, &f, meru_memtable_max_seq(mem), true,
                           segment + 1, next_segment);
    if (rc) {
        meru_catalog_file_clear(&f);
        return meru_err_wrap(rc, "flush: commit");
    }
    atomic_fetch_add_explicit(&db->st_flushes, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_flush_bytes, f.file_size,
                              memory_order_relaxed);
    meru_catalog_file_clear(&f);
    /* The committed catalog no longer lists these segments (their rows are
     * in the L0 file, and readers read the memtable until the publish), so
     * they go now: before the publish that lets meru_flush return, so a
     * flushed table holds no dead log. Best effort: a segment that stays
     * is deleted at the next open. */
    (void)meru_wal_delete_below(db->fs, db->wal_dir, segment + 1);
    return meru_db_publish(db, drop_flushed, NULL);
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
        if (next_ms != UINT64_MAX) {
            /* Sleep until the next grace period ends (or a signal). */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            uint64_t wait_ms = next_ms - meru_clock_ns() / 1000000u;
            if (wait_ms > 60000)
                wait_ms = 60000;
            ts.tv_sec += (time_t)(wait_ms / 1000);
            ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
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
