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

static void *keydir_main(void *arg)
{
    meru_db *db = arg;
    pthread_mutex_lock(&db->mu);
    uint64_t seen = db->work_gen - 1; /* a first pass over the open view */
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
