/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_api.c — the contract of the table API (merutable.h), through the
 * public API only: create versus open, schema checks and additive schema
 * evolution, the write lock (same process and another process), read-only
 * handles beside a writer, close semantics, rejected input changing
 * nothing, extreme keys keeping their order, and values far larger than a
 * memtable or a page. The stats (struct and JSON) and an observable
 * effect of each option the engine reads are in test_db_api_options.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db_api_test.h"
#include "test.h"
#include "test_db_common.h"

/* --------------------------------------------------------------- tests */

static void test_db_create_vs_open(void)
{
    const char *dir = meru_test_tmpdir("api_create");
    char path[4200], missing[4200];
    snprintf(path, sizeof path, "%s/t", dir);
    snprintf(missing, sizeof missing, "%s/nope", dir);
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    meru_options o;
    tdb_small_options(&o);
    meru_db *db = NULL;

    /* No table, create_if_missing = 0: not found, nothing created. */
    o.create_if_missing = 0;
    CHECK_RC(meru_open(missing, &o, s, &db), MERU_NOT_FOUND);
    CHECK(db == NULL);
    CHECK_RC(meru_open(dir, &o, s, &db), MERU_NOT_FOUND); /* empty dir */
    o.create_if_missing = 1;
    /* Creating needs a schema. */
    CHECK_RC(meru_open(path, &o, NULL, &db), MERU_EINVAL);
    CHECK(db == NULL);
    /* An invalid schema (no primary key) is refused. */
    meru_schema *nopk = mk_schema(COLS, NULL);
    CHECK(nopk);
    CHECK_RC(meru_open(path, &o, nopk, &db), MERU_ESCHEMA);
    meru_schema_free(nopk);
    /* Invalid options are refused before anything happens. */
    meru_options bad = o;
    bad.memtable_bytes = 1000;
    CHECK_RC(meru_open(path, &bad, s, &db), MERU_EINVAL);
    CHECK_ERRMSG("memtable_bytes");
    CHECK_RC(meru_open(NULL, &o, s, &db), MERU_EINVAL);

    /* Create (the directory is made), write, close. */
    CHECK_OK(meru_open(path, &o, s, &db));
    CHECK(db);
    CHECK_OK(put_row(db, s, 1, "one"));
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    db = NULL;

    /* error_if_exists on an existing table. */
    o.error_if_exists = 1;
    CHECK_RC(meru_open(path, &o, s, &db), MERU_EEXIST);
    CHECK(db == NULL);
    o.error_if_exists = 0;

    /* Open without a schema: the stored one is used. */
    o.create_if_missing = 0;
    CHECK_OK(meru_open(path, &o, NULL, &db));
    const meru_schema *ds = meru_db_schema(db);
    CHECK(ds);
    CHECK_EQ_INT(meru_schema_column_count(ds), 3);
    CHECK_EQ_INT(meru_schema_key_count(ds), 1);
    CHECK_STR(meru_schema_column_name(ds, 1), "name");
    char name[64];
    CHECK_OK(get_name(db, NULL, 1, name));
    CHECK_STR(name, "one");
    CHECK_RC(get_name(db, NULL, 2, name), MERU_NOT_FOUND);
    meru_db_free(db); /* closes too */
    /* With all-default options (NULL). */
    db = NULL;
    CHECK_OK(meru_open(path, NULL, s, &db));
    CHECK_OK(get_name(db, NULL, 1, name));
    meru_db_free(db);
    meru_db_free(NULL);
    meru_schema_free(s);
}

static void test_db_schema_checked_on_reopen(void)
{
    const char *dir = meru_test_tmpdir("api_schema");
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    meru_options o;
    tdb_small_options(&o);
    o.iceberg_format_version = 2; /* the v2 rules below */
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(put_row(db, s, 1, "old"));
    meru_db_free(db);
    db = NULL;

    static const char *const incompatible[][2] = {
        {"id int64 not null, name int64, score double", "id"},  /* type */
        {"id int32 not null, name string, score double", "id"}, /* key type */
        {"id int64 not null, name string", "id"},               /* dropped */
        {"id int64 not null, name string not null, score double", "id,name"},
        {"id int64 not null, score double, name string", "id"}, /* order */
        {"id int64 not null, name string, score double, "
         "w int64 not null",
         "id"}, /* new NOT NULL, no default */
    };
    for (size_t i = 0; i < sizeof incompatible / sizeof incompatible[0]; i++) {
        meru_schema *x = mk_schema(incompatible[i][0], incompatible[i][1]);
        CHECK(x);
        int rc = meru_open(dir, &o, x, &db);
        meru_schema_free(x);
        CHECK_MSG(rc == MERU_ESCHEMA,
                  "schema %zu (%s) opened with %d (%s), expected ESCHEMA", i,
                  incompatible[i][0], rc, meru_strerror(rc));
        CHECK(db == NULL);
    }

    /* Additive on this format-version 2 table: a new nullable column is
     * accepted; one with a default is refused (defaults are Iceberg v3;
     * test_db_schema covers v3 tables). */
    meru_schema *s2 = NULL, *s3 = NULL;
    CHECK_OK(meru_schema_clone(&s2, s));
    CHECK_OK(meru_schema_add_column(s2, "w", MERU_TYPE_INT64, 1));
    CHECK_OK(meru_schema_clone(&s3, s2));
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    d.name = "z";
    d.type = MERU_TYPE_INT32;
    d.initial_default = "7";
    CHECK_OK(meru_schema_add_column_def(s3, &d));
    CHECK_RC(meru_open(dir, &o, s3, &db), MERU_ESCHEMA);
    CHECK(strstr(meru_errmsg(), "format-version 2"));
    CHECK(db == NULL);
    CHECK_OK(meru_open(dir, &o, s2, &db));
    CHECK_EQ_INT(meru_schema_column_count(meru_db_schema(db)), 4);
    CHECK_EQ_INT(meru_schema_id(meru_db_schema(db)), 1);
    meru_row *k = NULL, *out = NULL;
    CHECK_OK(meru_row_new(&k, s2));
    CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
    CHECK_OK(meru_row_set_int64(k, 0, 1));
    CHECK_OK(meru_get(db, NULL, k, out));
    CHECK(meru_row_is_null(out, 3)); /* w: null for the old row */
    /* A new row with w set. */
    meru_row *r = NULL;
    CHECK_OK(meru_row_new(&r, s2));
    CHECK_OK(meru_row_set_int64(r, 0, 2));
    CHECK_OK(meru_row_set_int64(r, 3, 99));
    CHECK_OK(meru_put(db, r, NULL));
    /* A row of the table's previous schema still fits: w is null. */
    CHECK_OK(put_row(db, s, 3, "x"));
    meru_db_free(db);
    db = NULL;

    /* Reopen from disk without a schema: the new schema is current. */
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_EQ_INT(meru_schema_column_count(meru_db_schema(db)), 4);
    meru_row_free(out);
    CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
    CHECK_OK(meru_get(db, NULL, k, out));
    CHECK(meru_row_is_null(out, 3));
    CHECK_OK(meru_row_set_int64(k, 0, 2));
    int64_t w = 0;
    CHECK_OK(meru_get(db, NULL, k, out));
    CHECK_OK(meru_row_get_int64(out, 3, &w));
    CHECK_EQ_INT(w, 99);
    CHECK_OK(meru_row_set_int64(k, 0, 3));
    CHECK_OK(meru_get(db, NULL, k, out));
    CHECK(meru_row_is_null(out, 3));
    meru_db_free(db);
    db = NULL;
    /* The table's previous schema opens it too (an application from
     * before the column was added): the current schema is used. */
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_EQ_INT(meru_schema_column_count(meru_db_schema(db)), 4);
    meru_db_free(db);
    db = NULL;
    meru_row_free(k);
    meru_row_free(out);
    meru_row_free(r);
    meru_schema_free(s);
    meru_schema_free(s2);
    meru_schema_free(s3);
}

/* Child side of the lock test: waits for a byte, tries to open, reports the
 * status, twice. Started before the parent has threads. */
static void lock_child(const char *dir, int rfd, int wfd)
{
    for (int round = 0; round < 2; round++) {
        char c;
        if (read(rfd, &c, 1) != 1)
            _exit(2);
        meru_options o;
        tdb_small_options(&o);
        o.create_if_missing = 0;
        meru_db *db = NULL;
        int rc = meru_open(dir, &o, NULL, &db);
        if (rc == MERU_OK)
            rc = meru_close(db) == MERU_OK ? MERU_OK : -100;
        meru_db_free(db);
        if (write(wfd, &rc, sizeof rc) != (ssize_t)sizeof rc)
            _exit(3);
    }
    _exit(0);
}

static void test_db_write_lock(void)
{
    const char *dir0 = meru_test_tmpdir("api_lock");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", dir0);
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    meru_options o;
    tdb_small_options(&o);
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    meru_db_free(db);
    db = NULL;

    int to_child[2], from_child[2];
    CHECK(pipe(to_child) == 0 && pipe(from_child) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(to_child[1]);
        close(from_child[0]);
        lock_child(dir, to_child[0], from_child[1]);
    }
    close(to_child[0]);
    close(from_child[1]);

    CHECK_OK(meru_open(dir, &o, s, &db));
    /* A second writer in this process. */
    meru_db *db2 = NULL;
    CHECK_RC(meru_open(dir, &o, s, &db2), MERU_ELOCKED);
    CHECK(db2 == NULL);
    /* A writer in another process. */
    int rc = 1;
    CHECK(write(to_child[1], "g", 1) == 1);
    CHECK(read(from_child[0], &rc, sizeof rc) == (ssize_t)sizeof rc);
    CHECK_MSG(rc == MERU_ELOCKED, "child open returned %d (%s)", rc,
              meru_strerror(rc));
    /* After close the lock is free again, for both. */
    CHECK_OK(meru_close(db));
    CHECK(write(to_child[1], "g", 1) == 1);
    CHECK(read(from_child[0], &rc, sizeof rc) == (ssize_t)sizeof rc);
    CHECK_MSG(rc == MERU_OK, "child open after close returned %d (%s)", rc,
              meru_strerror(rc));
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(to_child[1]);
    close(from_child[0]);
    CHECK_OK(meru_open(dir, &o, s, &db2));
    meru_db_free(db2);
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_db_read_only_beside_writer(void)
{
    const char *dir0 = meru_test_tmpdir("api_ro");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", dir0);
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    meru_options o, ro;
    tdb_small_options(&o);
    /* Files the writer's compactions replace stay for the reader's views
     * (a grace period for readers in other handles). */
    o.gc_grace_seconds = 3600;
    ro = o;
    ro.read_only = 1;
    ro.create_if_missing = 0;
    meru_db *w = NULL, *r = NULL;

    /* No table: a read-only open does not create one. */
    ro.create_if_missing = 1;
    CHECK(meru_open(dir, &ro, s, &r) != MERU_OK);
    CHECK(r == NULL);
    ro.create_if_missing = 0;

    CHECK_OK(meru_open(dir, &o, s, &w));
    for (int i = 0; i < 50; i++)
        CHECK_OK(put_row(w, s, i, "a"));
    CHECK_OK(meru_flush(w));
    CHECK_OK(put_row(w, s, 50, "in-wal"));

    CHECK_OK(meru_open(dir, &ro, NULL, &r));
    meru_stats st;
    CHECK_OK(meru_stats_get(r, &st));
    CHECK_EQ_INT(st.read_only, 1);
    char name[64];
    CHECK_OK(get_name(r, NULL, 7, name));
    CHECK_STR(name, "a");
    /* What the WAL holds at open is seen too. */
    CHECK_OK(get_name(r, NULL, 50, name));
    CHECK_STR(name, "in-wal");
    CHECK_EQ_INT(count_rows(r), 51);

    /* Writes are refused and change nothing. */
    CHECK_RC(put_row(r, s, 100, "x"), MERU_EREADONLY);
    meru_row *k = NULL;
    CHECK_OK(meru_row_new(&k, s));
    CHECK_OK(meru_row_set_int64(k, 0, 7));
    CHECK_RC(meru_delete(r, k, NULL), MERU_EREADONLY);
    meru_write_batch *b = NULL;
    CHECK_OK(meru_write_batch_new(&b, s));
    CHECK_OK(meru_write_batch_delete(b, k));
    CHECK_RC(meru_write(r, b, NULL), MERU_EREADONLY);
    CHECK_RC(meru_flush(r), MERU_EREADONLY);
    CHECK_OK(get_name(r, NULL, 7, name));

    /* Newer commits: invisible until refresh. */
    meru_snapshot *snap = NULL;
    CHECK_OK(meru_snapshot_new(r, &snap));
    /* An iterator opened before the refresh reads its own view after. */
    meru_iter *held = NULL;
    CHECK_OK(meru_scan(r, NULL, &held));
    CHECK_OK(put_row(w, s, 7, "b"));
    CHECK_OK(put_row(w, s, 60, "new"));
    CHECK_OK(meru_delete(w, k, NULL)); /* deletes 7 again */
    CHECK_OK(put_row(w, s, 61, "new"));
    CHECK_OK(meru_flush(w));
    CHECK_OK(put_row(w, s, 62, "wal-only"));
    CHECK_RC(get_name(r, NULL, 60, name), MERU_NOT_FOUND);
    CHECK_OK(meru_refresh(r));
    CHECK_OK(get_name(r, NULL, 60, name));
    CHECK_STR(name, "new");
    CHECK_OK(get_name(r, NULL, 62, name));
    CHECK_STR(name, "wal-only");
    CHECK_RC(get_name(r, NULL, 7, name), MERU_NOT_FOUND);
    /* The snapshot taken before the refresh still sees the old state. */
    CHECK_OK(get_name(r, snap, 7, name));
    CHECK_STR(name, "a");
    CHECK_RC(get_name(r, snap, 60, name), MERU_NOT_FOUND);
    meru_snapshot_free(snap);
    {
        const meru_row *hr;
        long hn = 0;
        int hrc;
        while ((hrc = meru_iter_next(held, &hr)) == MERU_OK)
            hn++;
        meru_iter_free(held);
        CHECK_RC(hrc, MERU_NOT_FOUND);
        CHECK_EQ_INT(hn, 51);
    }
    CHECK_EQ_INT(count_rows(r), 51 + 3 - 1);
    /* Refresh on a writer is a no-op. */
    CHECK_OK(meru_refresh(w));

    /* Several refreshes with nothing new are harmless. */
    CHECK_OK(meru_refresh(r));
    CHECK_OK(meru_refresh(r));
    CHECK_EQ_INT(count_rows(r), 53);
    /* The writer closes (flushes); the reader refreshes and still reads. */
    CHECK_OK(meru_close(w));
    CHECK_OK(meru_refresh(r));
    CHECK_EQ_INT(count_rows(r), 53);
    CHECK_OK(get_name(r, NULL, 62, name));
    /* A second read-only handle at the same time. */
    meru_db *r2 = NULL;
    CHECK_OK(meru_open(dir, &ro, NULL, &r2));
    CHECK_EQ_INT(count_rows(r2), 53);
    meru_db_free(r2);
    /* A writer can open while a reader is open. */
    meru_db *w2 = NULL;
    CHECK_OK(meru_open(dir, &o, NULL, &w2));
    meru_db_free(w2);
    CHECK_OK(meru_close(r));
    meru_write_batch_free(b);
    meru_row_free(k);
    meru_db_free(r);
    meru_db_free(w);
    meru_schema_free(s);
}

/* Parquet files directly in `dir` (0 if it cannot be read). */
static int count_parquet(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".parquet") != NULL;
    closedir(d);
    return n;
}

/*
 * Without a grace period, a writer's compaction removes files a read-only
 * handle still lists. Its reads may then fail, but must never answer
 * "not found" for a row that exists; after meru_refresh they work.
 */
static void test_db_read_only_after_writer_compaction(void)
{
    const char *dir0 = meru_test_tmpdir("api_ro_gc");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", dir0);
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    meru_options o, ro;
    tdb_small_options(&o);
    o.gc_grace_seconds = 0;
    ro = o;
    ro.read_only = 1;
    ro.create_if_missing = 0;
    meru_db *w = NULL, *r = NULL;
    CHECK_OK(meru_open(dir, &o, s, &w));
    for (int i = 0; i < 10; i++)
        CHECK_OK(put_row(w, s, i, "a"));
    CHECK_OK(meru_flush(w));
    CHECK_OK(meru_open(dir, &ro, NULL, &r));
    CHECK_OK(put_row(w, s, 7, "b"));
    CHECK_OK(meru_compact(w));
    /* Wait (bounded) until the replaced L0 file is gone from the disk. */
    char l0[4300];
    snprintf(l0, sizeof l0, "%s/data/L0", dir);
    for (int i = 0; i < 500 && count_parquet(l0) > 0; i++)
        usleep(10000);
    char name[64];
    int rc = get_name(r, NULL, 3, name);
    CHECK_MSG(rc != MERU_NOT_FOUND,
              "read-only get of an existing key after the writer compacted "
              "its file away: NOT_FOUND (%s)",
              meru_errmsg());
    long n = count_rows(r);
    CHECK_MSG(n == 10 || n < 0, "read-only scan: %ld rows of 10", n);
    CHECK_OK(meru_refresh(r));
    CHECK_OK(get_name(r, NULL, 3, name));
    CHECK_OK(get_name(r, NULL, 7, name));
    CHECK_STR(name, "b");
    CHECK_EQ_INT(count_rows(r), 10);
    meru_db_free(r);
    meru_db_free(w);
    meru_schema_free(s);
}

static void test_db_close_semantics(void)
{
    const char *dir = meru_test_tmpdir("api_close");
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    meru_options o;
    tdb_small_options(&o);
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    for (int i = 0; i < 20; i++)
        CHECK_OK(put_row(db, s, i, "v"));
    meru_snapshot *snap = NULL;
    CHECK_OK(meru_snapshot_new(db, &snap));
    meru_iter *it = NULL;
    CHECK_OK(meru_scan(db, NULL, &it));
    const meru_row *row;
    CHECK_OK(meru_iter_next(it, &row));

    CHECK_OK(meru_close(db));
    CHECK_OK(meru_close(db)); /* idempotent */

    /* The iterator opened before close still reads everything. */
    int n = 1;
    int rc;
    while ((rc = meru_iter_next(it, &row)) == MERU_OK)
        n++;
    CHECK_RC(rc, MERU_NOT_FOUND);
    CHECK_EQ_INT(n, 20);
    meru_iter_free(it);

    CHECK_RC(put_row(db, s, 100, "x"), MERU_ECLOSED);
    meru_row *k = NULL, *out = NULL;
    CHECK_OK(meru_row_new(&k, s));
    CHECK_OK(meru_row_new(&out, s));
    CHECK_OK(meru_row_set_int64(k, 0, 1));
    CHECK_RC(meru_delete(db, k, NULL), MERU_ECLOSED);
    CHECK_RC(meru_get(db, NULL, k, out), MERU_ECLOSED);
    CHECK_RC(meru_get(db, snap, k, out), MERU_ECLOSED);
    meru_write_batch *b = NULL;
    CHECK_OK(meru_write_batch_new(&b, s));
    CHECK_OK(meru_write_batch_delete(b, k));
    CHECK_RC(meru_write(db, b, NULL), MERU_ECLOSED);
    meru_iter *it2 = NULL;
    CHECK_RC(meru_scan(db, NULL, &it2), MERU_ECLOSED);
    CHECK(it2 == NULL);
    meru_snapshot *snap2 = NULL;
    CHECK_RC(meru_snapshot_new(db, &snap2), MERU_ECLOSED);
    CHECK_RC(meru_flush(db), MERU_ECLOSED);
    CHECK_RC(meru_refresh(db), MERU_ECLOSED);
    /* Schema and stats still answer. */
    CHECK(meru_db_schema(db) != NULL);
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_INT(st.closed, 1);
    CHECK_EQ_U64(st.puts, 20);
    char *js = NULL;
    CHECK_OK(meru_stats_json(db, &js));
    CHECK(js_is_object(js));
    meru_free(js);
    meru_snapshot_free(snap); /* after close */
    meru_snapshot_free(NULL);
    meru_iter_free(NULL);
    meru_write_batch_free(b);
    meru_row_free(k);
    meru_row_free(out);
    meru_db_free(db);

    /* Close flushed everything: reopening replays nothing, the rows are
     * in files. */
    db = NULL;
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.memtable_entries, 0);
    CHECK(st.total_files >= 1);
    CHECK_EQ_U64(st.total_rows, 20);
    CHECK_EQ_INT(count_rows(db), 20);
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_db_rejected_rows_change_nothing(void)
{
    const char *dir = meru_test_tmpdir("api_reject");
    meru_schema *s =
        mk_schema("id int64 not null, d double not null, name string not "
                  "null, x int64",
                  "id,d");
    CHECK(s);
    meru_schema *other = mk_schema("a int64 not null, b string", "a");
    CHECK(other);
    meru_options o;
    tdb_small_options(&o);
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    meru_row *r = NULL, *g = NULL;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_new(&g, other));
    CHECK_OK(meru_row_set_int64(r, 0, 1));
    CHECK_OK(meru_row_set_double(r, 1, 0.5));
    CHECK_OK(meru_row_set_string(r, 2, "good", 4));
    uint64_t seq0 = 0;
    CHECK_OK(meru_put(db, r, &seq0));
    meru_stats before, after;
    CHECK_OK(meru_stats_get(db, &before));
    CHECK_EQ_U64(before.last_sequence, seq0);

    /* Null in a NOT NULL column. */
    CHECK_OK(meru_row_set_int64(r, 0, 2));
    CHECK_OK(meru_row_set_null(r, 2));
    CHECK_RC(meru_put(db, r, NULL), MERU_EINVAL);
    CHECK_ERRMSG("name");
    /* NaN in a key column. */
    CHECK_OK(meru_row_set_string(r, 2, "x", 1));
    CHECK_OK(meru_row_set_double(r, 1, NAN));
    CHECK_RC(meru_put(db, r, NULL), MERU_EINVAL);
    CHECK_RC(meru_delete(db, r, NULL), MERU_EINVAL);
    /* Invalid UTF-8 in a string. */
    CHECK_OK(meru_row_set_double(r, 1, 2.0));
    CHECK_OK(meru_row_set_string(r, 2, "\xff\xfe", 2));
    CHECK_RC(meru_put(db, r, NULL), MERU_EINVAL);
    /* A key column left unset. */
    meru_row_clear(r);
    CHECK_OK(meru_row_set_int64(r, 0, 3));
    CHECK_OK(meru_row_set_string(r, 2, "k", 1));
    CHECK_RC(meru_put(db, r, NULL), MERU_EINVAL);
    CHECK_RC(meru_delete(db, r, NULL), MERU_EINVAL);
    meru_row *out = NULL;
    CHECK_OK(meru_row_new(&out, s));
    CHECK_RC(meru_get(db, NULL, r, out), MERU_EINVAL);
    /* A row of another schema. */
    CHECK_OK(meru_row_set_int64(g, 0, 4));
    CHECK_OK(meru_row_set_string(g, 1, "g", 1));
    int rc = meru_put(db, g, NULL);
    CHECK_MSG(rc == MERU_EINVAL || rc == MERU_ESCHEMA,
              "foreign row put -> %d (%s)", rc, meru_strerror(rc));
    rc = meru_delete(db, g, NULL);
    CHECK_MSG(rc == MERU_EINVAL || rc == MERU_ESCHEMA,
              "foreign row delete -> %d (%s)", rc, meru_strerror(rc));
    /* NULL arguments. */
    CHECK_RC(meru_put(db, NULL, NULL), MERU_EINVAL);
    CHECK_RC(meru_put(NULL, r, NULL), MERU_EINVAL);

    /* Batches: a rejected entry leaves the batch as it was. */
    meru_write_batch *b = NULL;
    CHECK_OK(meru_write_batch_new(&b, s));
    CHECK_OK(meru_row_set_double(r, 1, 3.0));
    CHECK_OK(meru_row_set_int64(r, 0, 5));
    CHECK_OK(meru_write_batch_put(b, r));
    CHECK_EQ_INT(meru_write_batch_count(b), 1);
    CHECK_OK(meru_row_set_null(r, 2));
    CHECK_RC(meru_write_batch_put(b, r), MERU_EINVAL);
    CHECK_EQ_INT(meru_write_batch_count(b), 1);
    /* An empty batch writes nothing. */
    meru_write_batch *e = NULL;
    CHECK_OK(meru_write_batch_new(&e, s));
    uint64_t first = 99;
    CHECK_OK(meru_write(db, e, &first));
    CHECK_EQ_U64(first, 0);
    /* A batch built on another schema. */
    meru_write_batch *gb = NULL;
    CHECK_OK(meru_write_batch_new(&gb, other));
    CHECK_OK(meru_write_batch_put(gb, g));
    rc = meru_write(db, gb, NULL);
    CHECK_MSG(rc == MERU_EINVAL || rc == MERU_ESCHEMA,
              "foreign batch -> %d (%s)", rc, meru_strerror(rc));

    CHECK_OK(meru_stats_get(db, &after));
    CHECK_EQ_U64(after.last_sequence, before.last_sequence);
    CHECK_EQ_U64(after.puts, before.puts);
    CHECK_EQ_U64(after.deletes, before.deletes);
    CHECK_EQ_INT(count_rows(db), 1);

    /* The valid batch entry is still there and applies. */
    CHECK_OK(meru_write(db, b, &first));
    CHECK_EQ_U64(first, before.last_sequence + 1);
    CHECK_EQ_INT(count_rows(db), 2);
    /* A batch can be reused after clear. */
    meru_write_batch_clear(b);
    CHECK_EQ_INT(meru_write_batch_count(b), 0);
    meru_db_free(db);
    /* And nothing rejected shows up after a reopen. */
    db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_EQ_INT(count_rows(db), 2);
    meru_db_free(db);
    meru_write_batch_free(b);
    meru_write_batch_free(e);
    meru_write_batch_free(gb);
    meru_row_free(r);
    meru_row_free(g);
    meru_row_free(out);
    meru_schema_free(s);
    meru_schema_free(other);
}

/* Extreme int64 keys keep their order in the memtable, in files and
 * across both together, forward and reverse. */
static void test_db_extreme_keys_order(void)
{
    const char *dir = meru_test_tmpdir("api_extreme");
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    meru_options o;
    tdb_small_options(&o);
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    static const int64_t keys[] = {
        INT64_MIN, INT64_MIN + 1, -256,          -1,       0, 1,
        255,       256,           INT64_MAX - 1, INT64_MAX};
    const size_t n = sizeof keys / sizeof keys[0];
    /* Half in a file, half in the memtable. */
    for (size_t i = 0; i < n; i += 2)
        CHECK_OK(put_row(db, s, keys[i], "f"));
    CHECK_OK(meru_flush(db));
    for (size_t i = 1; i < n; i += 2)
        CHECK_OK(put_row(db, s, keys[i], "m"));
    for (int rev = 0; rev < 2; rev++) {
        meru_scan_options so;
        meru_scan_options_init(&so);
        so.reverse = rev;
        meru_iter *it = NULL;
        CHECK_OK(meru_scan(db, &so, &it));
        const meru_row *row;
        size_t i = 0;
        int rc;
        while ((rc = meru_iter_next(it, &row)) == MERU_OK) {
            int64_t id;
            CHECK_OK(meru_row_get_int64(row, 0, &id));
            CHECK(i < n);
            CHECK_MSG(id == keys[rev ? n - 1 - i : i],
                      "reverse %d: row %zu has key %lld", rev, i,
                      (long long)id);
            i++;
        }
        meru_iter_free(it);
        CHECK_RC(rc, MERU_NOT_FOUND);
        CHECK_EQ_INT(i, n);
    }
    /* Bounds at the extremes. */
    meru_row *lo = NULL;
    CHECK_OK(meru_row_new(&lo, s));
    CHECK_OK(meru_row_set_int64(lo, 0, INT64_MAX));
    meru_scan_options so;
    meru_scan_options_init(&so);
    so.lower = lo;
    so.lower_inclusive = 0;
    meru_iter *it = NULL;
    CHECK_OK(meru_scan(db, &so, &it));
    const meru_row *row;
    CHECK_RC(meru_iter_next(it, &row), MERU_NOT_FOUND);
    meru_iter_free(it);
    so.lower_inclusive = 1;
    CHECK_OK(meru_scan(db, &so, &it));
    CHECK_OK(meru_iter_next(it, &row));
    CHECK_RC(meru_iter_next(it, &row), MERU_NOT_FOUND);
    meru_iter_free(it);
    meru_row_free(lo);
    meru_db_free(db);
    meru_schema_free(s);
}

/* Values far larger than the memtable and a page: put, read from the
 * memtable, from L0 after a flush, after compaction and a reopen. */
static void test_db_large_values(void)
{
    const char *dir = meru_test_tmpdir("api_large");
    meru_schema *s =
        mk_schema("id int64 not null, name string, b binary", "id");
    CHECK(s);
    meru_options o;
    tdb_small_options(&o);
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    static const size_t sizes[] = {0, 1, 8191, 65536, 300000, 1u << 20};
    const size_t n = sizeof sizes / sizeof sizes[0];
    uint8_t *buf = malloc(sizes[n - 1]);
    CHECK(buf);
    for (size_t i = 0; i < sizes[n - 1]; i++)
        buf[i] = (uint8_t)(i * 7 + (i >> 9));
    meru_row *r = NULL, *out = NULL;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_new(&out, s));
    for (size_t i = 0; i < n; i++) {
        CHECK_OK(meru_row_set_int64(r, 0, (int64_t)i));
        CHECK_OK(meru_row_set_string(r, 1, "x", 1));
        CHECK_OK(meru_row_set_binary(r, 2, buf, sizes[i]));
        CHECK_OK(meru_put(db, r, NULL));
    }
    for (int phase = 0; phase < 4; phase++) {
        if (phase == 1)
            CHECK_OK(meru_flush(db));
        if (phase == 2)
            CHECK_OK(meru_compact(db));
        if (phase == 3) {
            meru_db_free(db);
            db = NULL;
            CHECK_OK(meru_open(dir, &o, NULL, &db));
        }
        for (size_t i = 0; i < n; i++) {
            CHECK_OK(meru_row_set_int64(r, 0, (int64_t)i));
            CHECK_OK(meru_get(db, NULL, r, out));
            const void *p;
            size_t len;
            CHECK_OK(meru_row_get_binary(out, 2, &p, &len));
            CHECK_MSG(len == sizes[i] && (len == 0 || !memcmp(p, buf, len)),
                      "phase %d: value %zu: %zu bytes back, wrote %zu", phase,
                      i, len, sizes[i]);
        }
        CHECK_EQ_INT(count_rows(db), (long)n);
    }
    /* Over the limit: refused. */
    uint8_t *big = calloc(1, MERU_MAX_VALUE_BYTES + 1);
    CHECK(big);
    CHECK_OK(meru_row_set_int64(r, 0, 99));
    int rc = meru_row_set_binary(r, 2, big, MERU_MAX_VALUE_BYTES + 1);
    if (rc == MERU_OK)
        rc = meru_put(db, r, NULL);
    CHECK_MSG(rc != MERU_OK, "a value over MERU_MAX_VALUE_BYTES was stored");
    free(big);
    CHECK_EQ_INT(count_rows(db), (long)n);
    free(buf);
    meru_row_free(r);
    meru_row_free(out);
    meru_db_free(db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_db_create_vs_open);
    MERU_TEST_RUN(test_db_schema_checked_on_reopen);
    MERU_TEST_RUN(test_db_write_lock);
    MERU_TEST_RUN(test_db_read_only_beside_writer);
    MERU_TEST_RUN(test_db_read_only_after_writer_compaction);
    MERU_TEST_RUN(test_db_close_semantics);
    MERU_TEST_RUN(test_db_rejected_rows_change_nothing);
    MERU_TEST_RUN(test_db_large_values);
    MERU_TEST_RUN(test_db_extreme_keys_order);
    return meru_test_finish();
}
