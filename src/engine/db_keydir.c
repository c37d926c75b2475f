/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_keydir.c — building the key directories of L1+ files in the
 * background (sst.h, meru_sst_keydir_build; docs/design.md "Key
 * directory").
 *
 * Why: a directory is one pass over a file's key columns (~90M
 * instructions for a million integer keys, several times that for other
 * keys), and the first get that reached a file used to pay it: after a
 * reopen the first gets cost ~5x a warm one. Here one thread of the handle
 * builds them ahead of the gets, as soon as a file appears in the current
 * view (at open, after every compaction or flush commit), so a get that
 * comes later finds the directory there. A get that comes first builds it
 * itself, or waits for the build under way (sst_keydir_for_get): reading
 * the pages meanwhile would cost more (a cold page-path get decodes a
 * whole ikey page, ~6M instructions for 20,000 keys, where the build of
 * the file's directory costs ~90M), and those pages would be thrown away
 * once the directory is there. For an integer key the unit is a row
 * group, not the file: a get builds or waits for its own row group only,
 * and the builder skips the row groups gets have claimed. With a spare
 * core the builder and the first gets share the builds; without one the
 * total work is the same as gets building alone.
 *
 * Warming (meru_options.warm_cache_at_open, on by default): its first
 * pass, over the view the open found, then also decodes the pages of
 * those files' number value columns into the page cache
 * (meru_sst_warm_pages, up to half the cache): a get reads one row of
 * each, and those pages are few and each shared by thousands of rows, so
 * the first gets after an open would otherwise decompress nearly all of
 * them (about half of what those gets cost: bench/RESULTS.md "Cold reads:
 * warming the number pages at open"). Only that pass: the files later
 * commits bring are read by gets as they need them (warming them would
 * spend the core and the cache room while the table is being written).
 *
 * What it builds: the files of level >= 1 of the current view, read under
 * the view's schema (the meru_sst gets use: a file older than a schema
 * change is read through another meru_sst, with its own directory). The
 * budget decides as for any build (no room: skipped, tried again at the
 * next change of the file set). L0 files are left on their pages.
 *
 * Scheduling: the builder sleeps on cv_work under mu, like the workers,
 * and wakes on every signal there (commits, memtable switches, stalls),
 * then walks the current view: a handful of files, and a file that has
 * its directory (or failed) costs an atomic load. It holds a reference on
 * the view while it builds, so the files stay open (a compaction that
 * replaced them meanwhile only delays their deletion until the builder
 * moves on); close cancels the build under way (meru_sst_keydir_build
 * reads the flag between row groups), so a short-lived handle (a CLI
 * command, a script's open/get/close) does not wait for a pass over its
 * files. Read-only handles run no builder: their gets
 * build (a reader process opened for a few gets should not pay a pass
 * over every file).
 */
#include <pthread.h>

#include "engine/db_internal.h"
#include "util/error.h"

/* Whether the builder must exit (mu held). */
static bool kd_stopping(const meru_db *db)
{
    return db->stop || db->kd_stop;
}

/* Builds the directories of v's L1+ files that have none; stops early
 * when the handle closes. */
static void build_view(meru_db *db, meru_view *v)
{
    for (size_t i = v->level_start[1]; i < v->nfiles; i++) {
        pthread_mutex_lock(&db->mu);
        bool stop = kd_stopping(db);
        pthread_mutex_unlock(&db->mu);
        if (stop)
            return;
        meru_sst *t = NULL;
        /* A file that cannot be opened (or is suspect) is its reads'
         * to report: skipped, with the error state left as it was. */
        meru_err_saved es;
        meru_err_save(&es);
        if (meru_db_file_sst_for(v->files[i], v->schema, &t) == MERU_OK)
            (void)meru_sst_keydir_build(t, &db->kd_cancel);
        meru_err_restore(&es);
    }
}

/* Warms the number columns' pages of v's L1+ files (meru_sst_warm_pages)
 * until the cache's warming share is full; stops early when the handle
 * closes. */
static void warm_view(meru_db *db, meru_view *v)
{
    uint64_t pages = 0;
    bool full = false;
    for (size_t i = v->level_start[1]; i < v->nfiles && !full; i++) {
        if (atomic_load_explicit(&db->kd_cancel, memory_order_relaxed))
            break; /* closing: the files left need not even be opened */
        meru_sst *t = NULL;
        meru_err_saved es;
        meru_err_save(&es);
        int rc = meru_db_file_sst_for(v->files[i], v->schema, &t);
        if (rc == MERU_OK)
            rc = meru_sst_warm_pages(t, &db->kd_cancel, &full, &pages);
        meru_err_restore(&es);
        if (rc == MERU_ECLOSED)
            break;
    }
    atomic_fetch_add_explicit(&db->warmed_pages, pages, memory_order_relaxed);
}

static void *keydir_main(void *arg)
{
    meru_db *db = arg;
    pthread_mutex_lock(&db->mu);
    uint64_t seen = db->work_gen - 1; /* a first pass over the open view */
    bool first = true;
    while (!kd_stopping(db)) {
        if (db->work_gen == seen) {
            pthread_cond_wait(&db->cv_work, &db->mu);
            continue;
        }
        seen = db->work_gen;
        meru_view *v = db->view;
        if (!v)
            continue;
        atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
        pthread_mutex_unlock(&db->mu);
        build_view(db, v);
        /* Only the files the open found: the pages of a file a later
         * compaction writes are read by gets as they need them (warming
         * every new file would spend a core and cache room on pages
         * while the table is being written). */
        if (first && db->opts.warm_cache_at_open)
            warm_view(db, v);
        first = false;
        atomic_store_explicit(&db->warm_done, true, memory_order_release);
        meru_db_view_unref(v);
        pthread_mutex_lock(&db->mu);
    }
    pthread_mutex_unlock(&db->mu);
    return NULL;
}

int meru_db_keydir_start(meru_db *db)
{
    if (pthread_create(&db->kd_thread, NULL, keydir_main, db))
        return meru_err(MERU_EIO, "cannot start the key directory builder");
    db->kd_running = true;
    return MERU_OK;
}

void meru_db_keydir_stop(meru_db *db)
{
    if (!db->kd_running)
        return;
    atomic_store(&db->kd_cancel, true);
    pthread_mutex_lock(&db->mu);
    db->kd_stop = true;
    pthread_cond_broadcast(&db->cv_work);
    pthread_mutex_unlock(&db->mu);
    pthread_join(db->kd_thread, NULL);
    db->kd_running = false;
}
