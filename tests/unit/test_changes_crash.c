/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_changes_crash.c — the change feed's history across a crash during
 * a flush, and its expiry on an idle table (issue 12).
 *
 * A flush writes and fsyncs its changelog file without the catalog lock
 * and only then commits the version that names it. Power is cut at every
 * file-system call of one flush (the table over the fault-injecting fs,
 * tests/support/fs_fault.h): whatever the cut, the reopened table's feed
 * equals the model of every acknowledged write (nothing twice, nothing
 * missing: a changelog the commit did not name is not read, and WAL replay
 * flushes its records again), and after the open no file in changes/ is
 * left that the catalog does not list (the orphans are swept). The test
 * checks that some cut did land between the changelog and the commit (an
 * unlisted changelog on disk after the crash), so the window is covered.
 *
 * Expiry: with a retention of 1 s and no writes at all, the background
 * worker drops the history once it is older than the window; the test
 * waits for that condition (bounded), it does not time it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog.h"
#include "engine/db_internal.h"
#include "support/fs_fault.h"
#include "test.h"

#include "changes_model.h"

/* Parquet files in <dir>/<sub> ("changes" or "data/L0") that the
 * catalog's current version does not list (-1 if the catalog cannot be
 * read); *listed gets how many changelogs or data files it lists. */
static int unlisted_in(const char *dir, const char *sub, size_t *listed)
{
    meru_catalog *cat = NULL;
    const meru_catalog_changelog *ch = NULL;
    const meru_catalog_file *fs = NULL;
    bool changes = !strcmp(sub, "changes");
    char p[4300];
    size_t n;
    int extra = 0;
    struct dirent *e;
    DIR *d;

    if (meru_catalog_open(meru_fs_posix(), dir, NULL, &cat))
        return -1;
    if (changes)
        ch = meru_catalog_changelogs(cat, &n);
    else
        fs = meru_catalog_files(cat, &n);
    *listed = n;
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    if ((d = opendir(p))) {
        while ((e = readdir(d))) {
            char rel[512];
            bool found = false;
            if (!strstr(e->d_name, ".parquet"))
                continue;
            snprintf(rel, sizeof rel, "%s/%s", sub, e->d_name);
            for (size_t i = 0; i < n && !found; i++)
                found = !strcmp(changes ? ch[i].path : fs[i].path, rel);
            extra += !found;
        }
        closedir(d);
    }
    meru_catalog_free(cat);
    return extra;
}

static int unlisted_changelogs(const char *dir, size_t *listed)
{
    return unlisted_in(dir, "changes", listed);
}

static void crash_options(meru_options *o)
{
    small_options(o);
    o->memtable_bytes = 8 << 20; /* flushes only when asked */
    o->background_threads = 1;
}

/* A few random writes (mostly batches: one fsync each), into the model. */
static void some_writes(meru_db *db, model *m, uint64_t *rs, meru_row *row,
                        meru_write_batch *b, int n)
{
    for (int i = 0; i < n; i++)
        CHECK_OK(random_write(db, m, rs, row, b));
}

/* Creates the table and brings it to the state a cut flush starts from:
 * one flushed history (so the next flush has pre-images to look up), then
 * more writes in the memtable. */
static void prepare(const char *dir, meru_fs *fs, const meru_schema *s,
                    model *m, meru_row *row, meru_write_batch *b,
                    meru_db **db)
{
    meru_options o;
    uint64_t rs = 0x2545f4914f6cdd1dull;
    crash_options(&o);
    *db = NULL;
    CHECK_OK(meru_db_open_fs(dir, &o, s, fs, db));
    some_writes(*db, m, &rs, row, b, 12);
    CHECK_OK(meru_flush(*db));
    some_writes(*db, m, &rs, row, b, 12);
    /* The log on disk up to here (one fsync instead of one per write):
     * a synced delete of a key the model never uses, which changes
     * nothing. */
    meru_write_options wo = MERU_WRITE_OPTIONS_INIT;
    wo.sync = 1;
    meru_row_clear(row);
    CHECK_OK(meru_row_set_int64(row, 0, NKEYS + 1));
    CHECK_OK(meru_delete_ex(*db, &wo, row, NULL));
}

static void test_cut_at_every_call_of_a_flush_leaves_no_change_or_file(void)
{
    char dir[4096];
    meru_schema *s = make_schema();
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    uint64_t flush_calls;
    int orphans_seen = 0, cuts = 0;

    CHECK(s);
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("changes_crash"));
    CHECK_OK(meru_row_new(&row, s));
    CHECK_OK(meru_write_batch_new(&b, s));
    {
        /* How many calls one flush makes, from a run without a cut. */
        meru_fs *fs = NULL;
        model m;
        memset(&m, 0, sizeof m);
        CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
        meru_db *db = NULL;
        prepare(dir, fs, s, &m, row, b, &db);
        meru_fs_fault_reset_counts(fs);
        CHECK_OK(meru_flush(db));
        flush_calls = meru_fs_fault_total(fs);
        CHECK_OK(meru_close(db));
        meru_db_free(db);
        meru_fs_free(fs);
        model_free(&m);
        CHECK(flush_calls > 4);
    }
    /* Every call with MERU_TEST_SCALE >= 3, every third by default (each
     * cut makes a table: ~0.4 s, mostly fsyncs). */
    double scale = meru_test_scale();
    uint64_t stride = scale >= 3 ? 1 : scale >= 1.5 ? 2 : 3;
    for (uint64_t cut = 0; cut <= flush_calls + 2; cut += stride) {
        meru_fs *fs = NULL;
        meru_db *db;
        model m;
        size_t listed = 0;
        memset(&m, 0, sizeof m);
        meru_test_rmtree(dir);
        CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
        prepare(dir, fs, s, &m, row, b, &db);
        /* the flush dies after `cut` calls; then the power goes */
        meru_fs_fault_die_after(fs, cut);
        (void)meru_flush(db);
        meru_fs_fault_die_after(fs, 0);
        meru_db_free(db);
        CHECK_OK(meru_fs_fault_crash(fs));
        meru_fs_free(fs);
        int extra = unlisted_changelogs(dir, &listed);
        CHECK_MSG(extra >= 0, "cut %llu: the catalog does not open",
                  (unsigned long long)cut);
        orphans_seen += extra > 0;
        cuts++;

        /* Power back: the feed is the model's, and no orphan is left. */
        meru_options o;
        crash_options(&o);
        db = NULL;
        CHECK_MSG(meru_open(dir, &o, NULL, &db) == MERU_OK,
                  "cut %llu: open: %s", (unsigned long long)cut,
                  meru_errmsg());
        check_feed(db, &m, 0, "after the cut");
        CHECK_OK(meru_flush(db));
        check_feed(db, &m, 0, "after the cut and a flush");
        CHECK_OK(meru_close(db));
        meru_db_free(db);
        CHECK_MSG(unlisted_changelogs(dir, &listed) == 0,
                  "cut %llu: a changelog file the catalog does not list "
                  "was left after the open",
                  (unsigned long long)cut);
        model_free(&m);
    }
    printf("  %d cuts over a flush of %llu calls; %d left an unlisted "
           "changelog at the crash\n",
           cuts, (unsigned long long)flush_calls, orphans_seen);
    CHECK_MSG(orphans_seen > 0, "no cut landed between the changelog and "
                                "the commit");
    meru_write_batch_free(b);
    meru_row_free(row);
    meru_schema_free(s);
    meru_test_rmtree(dir);
}

/* The changelog and the L0 file of a flush are written at once, on two
 * threads (db_flush.c, the feed's job). When either write fails the flush
 * fails as a whole: the other file, complete and durable, is removed
 * before the failure is reported (no commit names it), and after a power
 * cut on top of that (the removal not yet durable) the open sweeps it;
 * the reopened feed is the model's (WAL replay flushes the records again,
 * with their changelog). */
static void test_one_failed_write_of_a_parallel_flush_leaves_neither(void)
{
    static const char *const half[] = {"data/L0/", "changes/"};
    char dir[4096];
    meru_schema *s = make_schema();
    meru_row *row = NULL;
    meru_write_batch *b = NULL;

    CHECK(s);
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("changes_half"));
    CHECK_OK(meru_row_new(&row, s));
    CHECK_OK(meru_write_batch_new(&b, s));
    for (size_t h = 0; h < 2; h++) {
        meru_fs *fs = NULL;
        meru_db *db;
        meru_options o;
        model m;
        size_t listed = 0;
        memset(&m, 0, sizeof m);
        meru_test_rmtree(dir);
        CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
        prepare(dir, fs, s, &m, row, b, &db);
        /* every write of one of the two files fails */
        CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_APPEND, half[h], 0, EIO));
        CHECK_MSG(meru_flush(db) != MERU_OK, "%s: the flush succeeded",
                  half[h]);
        /* Before the power goes: no changelog the catalog does not list
         * (the one written beside a failed L0 file was removed). */
        CHECK_MSG(unlisted_changelogs(dir, &listed) == 0,
                  "%s failed: the flush left an unlisted changelog",
                  half[h]);
        CHECK_EQ_U64(listed, 1);
        /* nor an L0 file (the one written beside a failed changelog) */
        CHECK_MSG(unlisted_in(dir, "data/L0", &listed) == 0,
                  "%s failed: the flush left an unlisted L0 file", half[h]);
        meru_db_free(db);
        CHECK_OK(meru_fs_fault_crash(fs));
        meru_fs_free(fs);
        crash_options(&o);
        db = NULL;
        CHECK_MSG(meru_open(dir, &o, NULL, &db) == MERU_OK, "%s: open: %s",
                  half[h], meru_errmsg());
        check_feed(db, &m, 0, "after a failed half of a flush");
        CHECK_OK(meru_flush(db));
        check_feed(db, &m, 0, "after a failed half of a flush, flushed");
        CHECK_OK(meru_close(db));
        meru_db_free(db);
        CHECK_EQ_INT(unlisted_changelogs(dir, &listed), 0);
        model_free(&m);
    }
    meru_write_batch_free(b);
    meru_row_free(row);
    meru_schema_free(s);
    meru_test_rmtree(dir);
}

/* No write after the history is made: the worker expires it on its own
 * once the oldest file leaves the 1 s window (the floor rises to its last
 * sequence and the file goes). Waits for that, bounded (60 s). */
static void test_idle_table_expires_history_on_time(void)
{
    const char *dir = meru_test_tmpdir("changes_idle_expiry");
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    meru_changes_iter *it = NULL;
    model m;
    uint64_t rs = 7, last;
    size_t listed = 0;

    memset(&m, 0, sizeof m);
    CHECK(s);
    small_options(&o);
    o.memtable_bytes = 8 << 20;
    o.changes_retention_seconds = 1;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&row, s));
    CHECK_OK(meru_write_batch_new(&b, s));
    some_writes(db, &m, &rs, row, b, 40);
    last = m.seq[m.nlog - 1];
    CHECK_OK(meru_flush(db));
    /* From here on, no write, flush or reopen. */
    for (int i = 0; i < 6000 && meru_changes_oldest(db) < last; i++)
        usleep(10000);
    CHECK_MSG(meru_changes_oldest(db) >= last,
              "the idle table still holds history older than its window "
              "(oldest %llu, last change %llu)",
              (unsigned long long)meru_changes_oldest(db),
              (unsigned long long)last);
    CHECK_RC(meru_changes(db, 0, NULL, &it), MERU_EEXPIRED);
    CHECK(it == NULL);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    /* committed out and deleted: none listed, none left */
    CHECK_EQ_INT(unlisted_changelogs(dir, &listed), 0);
    CHECK_EQ_U64(listed, 0);
    model_free(&m);
    meru_write_batch_free(b);
    meru_row_free(row);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_cut_at_every_call_of_a_flush_leaves_no_change_or_file);
    MERU_TEST_RUN(test_one_failed_write_of_a_parallel_flush_leaves_neither);
    MERU_TEST_RUN(test_idle_table_expires_history_on_time);
    return meru_test_finish();
}
