/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_move.c — trivial moves (db_compact_pick.c, can_move): a file of
 * level >= 1 that nothing of the next level overlaps is pushed down in the
 * metadata, keeping its path, instead of being rewritten.
 *
 *  - A load of ascending keys moves files: compaction_moves counts them, a
 *    file written to data/L1/ sits at L2 or deeper (some with rows hidden
 *    by their deletion vectors: keys written twice under a snapshot),
 *    every row reads back (gets, a scan, after a reopen too), the Iceberg
 *    view still equals the rows (db_dv_check.h), and a move-only commit
 *    adds no snapshot.
 *  - A view made before a move (an open iterator) keeps reading the file
 *    at its old level, and the file is deleted only once no view lists it
 *    at any level, even after a compaction replaced it.
 *  - After a schema change, moved files are still read through their
 *    first entry's readers (no second open).
 *
 * A reader thread does gets all through the load, so the moves also run
 * beside reads (MERU_TEST_CONCURRENT: make test-tsan runs this).
 *
 * It reaches into the engine (db_internal.h, through db_dv_check.h) for
 * the file list and the catalog.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_dv_check.h"

/* Small files and levels: a few thousand rows fill L1 past its target. */
static void options(meru_options *o)
{
    tdb_small_options(o);
    o->memtable_bytes = (size_t)64 << 10;
    o->l0_compaction_trigger = 2;
    o->target_file_bytes = (uint64_t)64 << 10;
    o->l1_target_bytes = (uint64_t)1 << 20; /* the smallest allowed */
    o->level_multiplier = 2;
    o->compression = MERU_COMPRESSION_NONE; /* sizes follow the rows */
    o->gc_grace_seconds = 0;
}

/* Row id of the tests: v = 3 id (read_loop and check_rows check it). */
static int put(meru_db *db, int64_t id)
{
    return tdb_put_pad(db, meru_db_schema(db), id, id * 3);
}

/* Keys [lo, hi) ascending, then a flush. */
static void load(meru_db *db, int64_t lo, int64_t hi)
{
    for (int64_t id = lo; id < hi; id++)
        CHECK_OK(put(db, id));
    CHECK_OK(meru_flush(db));
}

/* Waits (bounded) until nothing is due, running or waiting to flush. */
static void quiesce_at(meru_db *db, int line)
{
    meru_stats st;
    for (int i = 0; i < 30000; i++) { /* 60 s: sanitizers, a busy host */
        CHECK_OK(meru_stats_get(db, &st));
        CHECK_EQ_U64(st.background_errors, 0);
        if (!st.immutable_memtables && !st.compactions_running &&
            !st.compactions_pending)
            return;
        usleep(2000);
    }
    CHECK_MSG(
        0,
        "line %d: background work did not finish: %llu pending, %llu running, "
        "L0 %llu L1 %llu L2 %llu L3 %llu files",
        line, (unsigned long long)st.compactions_pending,
        (unsigned long long)st.compactions_running,
        (unsigned long long)st.level[0].files,
        (unsigned long long)st.level[1].files,
        (unsigned long long)st.level[2].files,
        (unsigned long long)st.level[3].files);
}

#define quiesce(db) quiesce_at((db), __LINE__)

/* Every key of [0, n) reads back with its value; a scan sees n rows. */
static void check_rows(meru_db *db, int64_t n)
{
    meru_row *k = NULL, *o = NULL;
    CHECK_OK(meru_row_new(&k, meru_db_schema(db)));
    CHECK_OK(meru_row_new(&o, meru_db_schema(db)));
    for (int64_t id = 0; id < n; id += 7) {
        int64_t v = -1;
        CHECK_OK(meru_row_set_int64(k, 0, id));
        CHECK_OK(meru_get(db, NULL, k, o));
        CHECK_OK(meru_row_get_int64(o, 1, &v));
        CHECK_EQ_U64((uint64_t)v, (uint64_t)(id * 3));
    }
    meru_row_free(k);
    meru_row_free(o);
    meru_iter *it = NULL;
    const meru_row *r;
    int64_t rows = 0;
    int rc;
    CHECK_OK(meru_scan(db, NULL, &it));
    while ((rc = meru_iter_next(it, &r)) == MERU_OK)
        rows++;
    CHECK_RC(rc, MERU_NOT_FOUND);
    meru_iter_free(it);
    CHECK_EQ_U64((uint64_t)rows, (uint64_t)n);
}

/* Whether f sits at level 2 or deeper under a path written for L1: moved
 * down, never rewritten. */
static bool moved_down(const meru_db_file *f)
{
    return f->meta.level >= 2 && !strncmp(f->meta.path, "data/L1/", 8);
}

/* How many files of the current version are moved_down. */
static size_t moved_files(meru_db *db)
{
    size_t n = 0;
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->nfiles; i++)
        n += moved_down(db->files[i]);
    pthread_mutex_unlock(&db->mu);
    return n;
}

/* The reader: gets of keys already loaded (below `loaded`) until `stop`;
 * a key missing or with another value counts in `bad`. */
typedef struct reader {
    meru_db *db;
    _Atomic int64_t loaded;
    atomic_bool stop;
    uint64_t gets, bad;
    int err;
} reader;

static void *read_loop(void *arg)
{
    reader *rd = arg;
    meru_row *k = NULL, *o = NULL;
    uint64_t x = 88172645463325252ull;
    rd->err = meru_row_new(&k, meru_db_schema(rd->db));
    if (!rd->err)
        rd->err = meru_row_new(&o, meru_db_schema(rd->db));
    while (!rd->err && !atomic_load(&rd->stop)) {
        int64_t n = atomic_load(&rd->loaded);
        if (n == 0) {
            usleep(100);
            continue;
        }
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t id = (int64_t)(x % (uint64_t)n), v = -1;
        int rc = meru_row_set_int64(k, 0, id);
        if (!rc)
            rc = meru_get(rd->db, NULL, k, o);
        if (!rc)
            rc = meru_row_get_int64(o, 1, &v);
        if (rc == MERU_NOT_FOUND || (!rc && v != id * 3))
            rd->bad++;
        else if (rc)
            rd->err = rc;
        rd->gets++;
    }
    meru_row_free(k);
    meru_row_free(o);
    return NULL;
}

/* Rows the deletion vectors of moved files (see moved_files) hide. */
static uint64_t moved_hidden_rows(meru_db *db)
{
    uint64_t n = 0;
    pthread_mutex_lock(&db->cat_mu);
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->nfiles; i++)
        if (moved_down(db->files[i]))
            n += meru_catalog_file_dv_cardinality(db->cat,
                                                  db->files[i]->meta.path);
    pthread_mutex_unlock(&db->mu);
    pthread_mutex_unlock(&db->cat_mu);
    return n;
}

static void test_ascending_keys_move_files_down(void)
{
    const char *dir = meru_test_tmpdir("move_ascending");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_stats st;
    vstats vs = {0};
    uint64_t visible = 0;
    const int64_t n = 60000;
    CHECK(s);
    options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    reader rd = {.db = db};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, read_loop, &rd) == 0);
    /* The first keys are written twice under a snapshot: the files they
     * are compacted into keep both versions and hide the older in their
     * deletion vectors, and those files move down later (the vectors
     * must follow them). */
    meru_snapshot *pin = NULL;
    load(db, 0, 5000);
    CHECK_OK(meru_snapshot_new(db, &pin));
    for (int64_t id = 0; id < 5000; id += 50)
        CHECK_OK(put(db, id));
    atomic_store(&rd.loaded, 5000);
    for (int64_t lo = 5000; lo < n; lo += 5000) {
        load(db, lo, lo + 5000);
        atomic_store(&rd.loaded, lo + 5000);
    }
    quiesce(db);
    atomic_store(&rd.stop, true);
    pthread_join(th, NULL);
    CHECK_OK(rd.err);
    CHECK_EQ_U64(rd.bad, 0);
    CHECK(rd.gets > 0);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_MSG(st.compaction_moves > 0, "no move: %llu compactions, L2 %llu",
              (unsigned long long)st.compactions,
              (unsigned long long)st.level[2].files);
    CHECK(moved_files(db) > 0);
    CHECK_MSG(moved_hidden_rows(db) > 0,
              "no moved file hides a row: the vectors' move is not tested");
    check_rows(db, n);
    CHECK_EQ_INT(check_view(db, "after the load", &vs, &visible), 0);
    CHECK_EQ_U64(visible, (uint64_t)n);
    meru_snapshot_free(pin);

    /* A commit that only moves a file writes no snapshot: the Iceberg
     * view's data files did not change. Move one more file by hand (the
     * last of the deepest level, past which nothing lies). */
    pthread_mutex_lock(&db->cat_mu);
    int64_t snap = meru_catalog_current_snapshot_id(db->cat);
    uint64_t version = meru_catalog_version(db->cat);
    size_t nf = 0;
    const meru_catalog_file *cf = meru_catalog_files(db->cat, &nf);
    const meru_catalog_file *last = &cf[nf - 1];
    meru_catalog_edit *e = NULL;
    CHECK_OK(meru_catalog_edit_new(db->cat, &e));
    CHECK_OK(meru_catalog_edit_move_file(e, last->path, last->level + 1));
    CHECK_OK(meru_catalog_commit(db->cat, e));
    meru_catalog_edit_free(e);
    CHECK_OK(meru_db_publish_locked(db, NULL, NULL));
    CHECK_EQ_U64(meru_catalog_version(db->cat), version + 1);
    CHECK(meru_catalog_current_snapshot_id(db->cat) == snap);
    pthread_mutex_unlock(&db->cat_mu);
    check_rows(db, n);

    /* The levels and paths survive a reopen; so do the rows and the
     * view. */
    size_t before = moved_files(db);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_EQ_U64(moved_files(db), before);
    check_rows(db, n);
    CHECK_EQ_INT(check_view(db, "after a reopen", &vs, &visible), 0);
    CHECK_EQ_U64(visible, (uint64_t)n);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

static bool file_exists(const char *dir, const char *rel)
{
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return stat(path, &sb) == 0;
}

/* The L1 files of the current version, at most cap (paths copied). */
static size_t l1_paths(meru_db *db, char **out, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->nfiles && n < cap; i++)
        if (db->files[i]->meta.level == 1)
            out[n++] = strdup(db->files[i]->meta.path);
    pthread_mutex_unlock(&db->mu);
    return n;
}

/* Whether the current version lists path at a level other than 1. */
static bool listed_deeper(meru_db *db, const char *path)
{
    bool found = false;
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->nfiles && !found; i++)
        found = db->files[i]->meta.level > 1 &&
                !strcmp(db->files[i]->meta.path, path);
    pthread_mutex_unlock(&db->mu);
    return found;
}

static void test_old_view_keeps_reading_a_moved_file(void)
{
    const char *dir = meru_test_tmpdir("move_old_view");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_stats st;
    char *paths[64];
    const int64_t first = 12000, total = 40000;
    CHECK(s);
    options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    /* Under L1's target (about 0.75 MB of its 1 MiB): the files stay in
     * L1. */
    load(db, 0, first);
    quiesce(db);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.compaction_moves, 0);
    size_t np = l1_paths(db, paths, 64);
    CHECK(np > 0);

    /* An iterator holds the view that lists them at L1. */
    meru_iter *it = NULL;
    CHECK_OK(meru_scan(db, NULL, &it));

    /* More ascending keys push L1 past its target: its first files (the
     * iterator's) move to the empty L2. */
    for (int64_t lo = first; lo < total; lo += 4000)
        load(db, lo, lo + 4000 < total ? lo + 4000 : total);
    quiesce(db);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK(st.compaction_moves > 0);
    size_t moved = 0;
    for (size_t i = 0; i < np; i++)
        moved += listed_deeper(db, paths[i]);
    CHECK_MSG(moved > 0, "none of the iterator's %zu L1 files moved", np);

    /* Then their keys are written again and compacted down over them: the
     * moved files are rewritten and leave the table. The iterator's view
     * still lists them (at L1). */
    load(db, 0, first);
    /* (Background jobs may move a file below the level a meru_compact
     * started from while it runs: a second one merges it too.) */
    for (int round = 0; round < 4; round++) {
        bool listed = false;
        CHECK_OK(meru_compact(db));
        quiesce(db);
        for (size_t i = 0; i < np; i++)
            listed |= listed_deeper(db, paths[i]);
        if (!listed)
            break;
    }
    for (size_t i = 0; i < np; i++)
        CHECK(!listed_deeper(db, paths[i]));
    meru_db_gc_run(db, true);
    for (size_t i = 0; i < np; i++)
        CHECK_MSG(file_exists(dir, paths[i]),
                  "%s deleted while a view lists it", paths[i]);
    int64_t rows = 0, prev = -1;
    const meru_row *r;
    int rc;
    while ((rc = meru_iter_next(it, &r)) == MERU_OK) {
        int64_t id = -1;
        CHECK_OK(meru_row_get_int64(r, 0, &id));
        CHECK(id == prev + 1);
        prev = id;
        rows++;
    }
    CHECK_RC(rc, MERU_NOT_FOUND);
    CHECK_EQ_U64((uint64_t)rows, (uint64_t)first);
    meru_iter_free(it);

    /* Now no view lists them: they go (grace 0). */
    meru_db_gc_run(db, true);
    for (size_t i = 0; i < np; i++) {
        CHECK_MSG(!file_exists(dir, paths[i]), "%s left behind", paths[i]);
        free(paths[i]);
    }
    check_rows(db, total);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

/* Whether path is one of paths[0..n). */
static bool in_paths(char **paths, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(paths[i], path))
            return true;
    return false;
}

/* A file moved after a schema change is still read through one reader per
 * schema, its first entry's: the entries a move makes open nothing of
 * their own (they once opened the file again under the old schema while
 * the first entry's readers stayed open: 146 readers for 92 files). */
static void test_moves_after_a_schema_change_keep_one_reader(void)
{
    const char *dir = meru_test_tmpdir("move_schema");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_stats st;
    char *paths[64];
    CHECK(s);
    options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    load(db, 0, 12000);
    quiesce(db);
    check_rows(db, 12000); /* opens every file under the first schema */
    size_t np = l1_paths(db, paths, 64);
    CHECK(np > 0);
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    d.name = "extra";
    d.type = MERU_TYPE_INT32;
    d.nullable = 1;
    CHECK_OK(meru_add_column(db, &d));
    load(db, 12000, 40000);
    quiesce(db);
    check_rows(db, 40000); /* and under the second */
    CHECK_OK(meru_stats_get(db, &st));
    CHECK(st.compaction_moves > 0);
    /* Each file from before the change: a reader under each schema; each
     * file written after: one. */
    size_t before = 0, moved = 0;
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->nfiles; i++) {
        before += in_paths(paths, np, db->files[i]->meta.path);
        moved += db->files[i]->moved_from != NULL;
    }
    pthread_mutex_unlock(&db->mu);
    CHECK(moved > 0);
    CHECK_MSG(st.open_files <= st.total_files + before,
              "%llu readers for %llu files (%zu from before the change)",
              (unsigned long long)st.open_files,
              (unsigned long long)st.total_files, before);
    for (size_t i = 0; i < np; i++)
        free(paths[i]);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_ascending_keys_move_files_down);
    MERU_TEST_RUN(test_old_view_keeps_reading_a_moved_file);
    MERU_TEST_RUN(test_moves_after_a_schema_change_keep_one_reader);
    return meru_test_finish();
}
