/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_api.c — the contract of the table API (merutable.h), through the
 * public API only: create versus open, schema checks and additive schema
 * evolution, the write lock (same process and another process), read-only
 * handles beside a writer, close semantics, rejected input changing
 * nothing, stats (struct and JSON), and an observable effect of each
 * option the engine reads.
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

#include "test.h"
#include "test_db_common.h"

#define COLS "id int64 not null, name string, score double"

static meru_schema *mk_schema(const char *cols, const char *pk)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "t", cols, pk) != MERU_OK)
        return NULL;
    return s;
}

static int put_row(meru_db *db, const meru_schema *s, int64_t id,
                   const char *name)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, s);
    if (rc)
        return rc;
    rc = meru_row_set_int64(r, 0, id);
    if (!rc)
        rc = name ? meru_row_set_string(r, 1, name, strlen(name))
                  : meru_row_set_null(r, 1);
    if (!rc)
        rc = meru_put(db, r, NULL);
    meru_row_free(r);
    return rc;
}

/* meru_get of key `id`: MERU_OK with the name copied into name[64] ("" for
 * null), or the status. */
static int get_name(meru_db *db, const meru_snapshot *snap, int64_t id,
                    char *name)
{
    const meru_schema *s = meru_db_schema(db);
    meru_row *k = NULL, *out = NULL;
    int rc = meru_row_new(&k, s);
    if (!rc)
        rc = meru_row_new(&out, s);
    if (!rc)
        rc = meru_row_set_int64(k, 0, id);
    if (!rc)
        rc = meru_get(db, snap, k, out);
    if (!rc && name) {
        const char *v;
        size_t len;
        name[0] = 0;
        if (meru_row_get_string(out, 1, &v, &len) == MERU_OK) {
            if (len > 63)
                len = 63;
            memcpy(name, v, len);
            name[len] = 0;
        }
    }
    meru_row_free(k);
    meru_row_free(out);
    return rc;
}

/* Rows a full scan returns, or a negative status. */
static long count_rows(meru_db *db)
{
    meru_iter *it = NULL;
    int rc = meru_scan(db, NULL, &it);
    if (rc)
        return rc;
    long n = 0;
    const meru_row *r;
    while ((rc = meru_iter_next(it, &r)) == MERU_OK)
        n++;
    meru_iter_free(it);
    return rc == MERU_NOT_FOUND ? n : rc;
}

/* ------------------------------------------------------ a tiny JSON check */

static const char *js_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

/* Parses one JSON value at p; returns the position after it, or NULL. */
static const char *js_value(const char *p, int depth)
{
    p = js_ws(p);
    if (depth > 32)
        return NULL;
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = js_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                if (*p != '"')
                    return NULL;
                p = js_value(p, depth + 1);
                if (!p)
                    return NULL;
                p = js_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            p = js_value(p, depth + 1);
            if (!p)
                return NULL;
            p = js_ws(p);
            if (*p == ',') {
                p = js_ws(p + 1);
                continue;
            }
            return *p == close ? p + 1 : NULL;
        }
    }
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && !*++p)
                return NULL;
        return *p == '"' ? p + 1 : NULL;
    }
    if (!strncmp(p, "true", 4))
        return p + 4;
    if (!strncmp(p, "false", 5))
        return p + 5;
    if (!strncmp(p, "null", 4))
        return p + 4;
    char *end;
    strtod(p, &end);
    return end == p ? NULL : end;
}

static int js_is_object(const char *s)
{
    s = js_ws(s);
    if (*s != '{')
        return 0;
    const char *e = js_value(s, 0);
    return e && *js_ws(e) == 0;
}

/* The number after the first "name": in the text, or -1. */
static long long js_num(const char *s, const char *name)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", name);
    const char *p = strstr(s, pat);
    if (!p)
        return -1;
    p = js_ws(p + strlen(pat));
    if (*p != ':')
        return -1;
    return strtoll(p + 1, NULL, 10);
}

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
        {"id int64 not null, name int64, score double", "id"},   /* type */
        {"id int32 not null, name string, score double", "id"},  /* key type */
        {"id int64 not null, name string", "id"},                 /* dropped */
        {"id int64 not null, name string not null, score double", "id,name"},
        {"id int64 not null, score double, name string", "id"},   /* order */
        {"id int64 not null, name string, score double, "
         "w int64 not null", "id"},         /* new NOT NULL, no default */
    };
    for (size_t i = 0; i < sizeof incompatible / sizeof incompatible[0];
         i++) {
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

static void test_db_stats_move(void)
{
    const char *dir = meru_test_tmpdir("api_stats");
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    meru_options o;
    tdb_small_options(&o);
    o.memtable_bytes = (size_t)16 << 20; /* no automatic flush */
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.puts, 0);
    CHECK_EQ_U64(st.flushes, 0);
    CHECK_EQ_U64(st.total_files, 0);
    CHECK_EQ_INT(st.read_only, 0);
    CHECK_EQ_INT(st.closed, 0);
    /* the default row cache's share is the page cache's loss */
    CHECK_EQ_U64(st.cache_capacity,
                 o.cache_bytes - o.cache_bytes / MERU_ROW_CACHE_AUTO_DIVISOR);

    for (int i = 0; i < 100; i++)
        CHECK_OK(put_row(db, s, i, "abc"));
    meru_row *k = NULL;
    CHECK_OK(meru_row_new(&k, s));
    for (int i = 0; i < 10; i++) {
        CHECK_OK(meru_row_set_int64(k, 0, i));
        CHECK_OK(meru_delete(db, k, NULL));
    }
    meru_write_batch *b = NULL;
    CHECK_OK(meru_write_batch_new(&b, s));
    CHECK_OK(meru_write_batch_delete(b, k));
    CHECK_OK(meru_write_batch_delete(b, k));
    CHECK_OK(meru_write(db, b, NULL));
    char name[64];
    CHECK_OK(get_name(db, NULL, 50, name));
    CHECK_RC(get_name(db, NULL, 5, name), MERU_NOT_FOUND);
    CHECK_EQ_INT(count_rows(db), 90);
    meru_snapshot *snap = NULL;
    CHECK_OK(meru_snapshot_new(db, &snap));

    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.puts, 100);
    CHECK(st.deletes >= 10);
    CHECK(st.batches >= 1);
    CHECK_EQ_U64(st.last_sequence, 112);
    CHECK(st.memtable_entries >= 100);
    CHECK(st.memtable_bytes > 0);
    CHECK(st.wal_records >= 111);
    CHECK(st.wal_bytes > 0);
    CHECK_EQ_U64(st.gets, 2);
    CHECK_EQ_U64(st.gets_found, 1);
    CHECK(st.scans >= 1);
    CHECK_EQ_U64(st.snapshots, 1);
    CHECK_EQ_U64(st.flushes, 0);

    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.flushes, 1);
    CHECK(st.flush_bytes > 0);
    CHECK_EQ_U64(st.total_files, 1);
    CHECK_EQ_U64(st.level[0].files, 1);
    CHECK(st.level[0].bytes > 0);
    CHECK(st.total_bytes >= st.level[0].bytes);
    CHECK(st.levels >= 1);
    CHECK_EQ_U64(st.immutable_memtables, 0);
    CHECK(st.metadata_version >= 1);
    CHECK(st.total_rows >= 90);
    CHECK_EQ_U64(st.memtable_entries, 0);
    meru_snapshot_free(snap);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.snapshots, 0);
    /* Reads from the file move the read counters. */
    CHECK_OK(get_name(db, NULL, 50, name));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.gets, 3);
    CHECK(st.cache_hits + st.cache_misses > 0);
    CHECK(st.open_files >= 1 || st.cache_bytes > 0);

    char *js = NULL;
    CHECK_OK(meru_stats_json(db, &js));
    CHECK_MSG(js_is_object(js), "stats JSON is not an object: %s", js);
    static const char *const names[] = {"puts", "deletes", "flushes",
                                        "last_sequence", "wal_syncs",
                                        "gets", "scans", "snapshots"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_MSG(js_num(js, names[i]) >= 0, "stats JSON lacks \"%s\": %s",
                  names[i], js);
    CHECK_EQ_INT(js_num(js, "puts"), 100);
    CHECK_EQ_INT(js_num(js, "flushes"), 1);
    CHECK_EQ_INT(js_num(js, "last_sequence"), 112);
    CHECK_MSG(strstr(js, "files") != NULL, "stats JSON lacks files: %s", js);
    meru_free(js);
    meru_write_batch_free(b);
    meru_row_free(k);
    meru_db_free(db);
    meru_schema_free(s);
}

/* Writes n rows of ~200 bytes. */
static int write_rows(meru_db *db, const meru_schema *s, int n, int start)
{
    char name[200];
    memset(name, 'q', sizeof name - 1);
    name[sizeof name - 1] = 0;
    for (int i = 0; i < n; i++) {
        int rc = put_row(db, s, start + i, name);
        if (rc)
            return rc;
    }
    return 0;
}

static void test_db_option_memtable_bytes(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    /* At the 64 KiB minimum, 100 rows (~25 KB) fit in one memtable: one
     * flush (the explicit one), not one per write. */
    const char *dir = meru_test_tmpdir("api_mt_min");
    meru_options o;
    tdb_small_options(&o);
    o.memtable_bytes = (size_t)64 << 10;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(write_rows(db, s, 100, 0));
    CHECK_OK(meru_flush(db));
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    uint64_t fl = st.flushes;
    meru_db_free(db);
    db = NULL;
    CHECK_MSG(fl <= 3, "64 KiB memtable: 100 rows of ~230 bytes took %llu "
                       "flushes",
              (unsigned long long)fl);

    /* A small memtable flushes many times, a large one once. */
    uint64_t flushes[2];
    for (int big = 0; big < 2; big++) {
        dir = meru_test_tmpdir(big ? "api_mt_big" : "api_mt_small");
        tdb_small_options(&o);
        o.memtable_bytes = big ? (size_t)32 << 20 : TDB_MEMTABLE_BYTES;
        o.max_immutable_memtables = 4;
        CHECK_OK(meru_open(dir, &o, s, &db));
        CHECK_OK(write_rows(db, s, 3000, 0)); /* ~700 KB */
        CHECK_OK(meru_flush(db));
        CHECK_OK(meru_stats_get(db, &st));
        flushes[big] = st.flushes;
        CHECK_EQ_INT(count_rows(db), 3000);
        meru_db_free(db);
        db = NULL;
    }
    CHECK_MSG(flushes[1] == 1, "32 MiB memtable: %llu flushes, expected 1",
              (unsigned long long)flushes[1]);
    CHECK_MSG(flushes[0] >= 4, "64 KiB memtable: %llu flushes, expected >= 4",
              (unsigned long long)flushes[0]);
    meru_schema_free(s);
}

static void test_db_option_sync_mode(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    static const meru_sync_mode modes[] = {MERU_SYNC_NONE, MERU_SYNC_GROUP,
                                           MERU_SYNC_EVERY};
    for (size_t m = 0; m < 3; m++) {
        const char *dir = meru_test_tmpdir("api_sync");
        meru_options o;
        tdb_small_options(&o);
        o.sync_mode = modes[m];
        meru_db *db = NULL;
        CHECK_OK(meru_open(dir, &o, s, &db));
        meru_stats st0, st;
        CHECK_OK(meru_stats_get(db, &st0));
        CHECK_OK(write_rows(db, s, 20, 0));
        CHECK_OK(meru_stats_get(db, &st));
        uint64_t syncs = st.wal_syncs - st0.wal_syncs;
        if (modes[m] == MERU_SYNC_NONE)
            CHECK_MSG(syncs == 0, "SYNC_NONE: %llu WAL syncs",
                      (unsigned long long)syncs);
        else
            /* One writer thread: every write is its own group. */
            CHECK_MSG(syncs >= 20, "sync mode %d: %llu WAL syncs for 20 puts",
                      (int)modes[m], (unsigned long long)syncs);
        CHECK(st.wal_groups >= 1);
        meru_db_free(db);
    }
    meru_schema_free(s);
}

static void test_db_option_max_immutable_memtables(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    const char *dir = meru_test_tmpdir("api_maximm");
    meru_options o;
    tdb_small_options(&o);
    o.max_immutable_memtables = 1;
    o.background_threads = 1;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    uint64_t max_seen = 0;
    for (int i = 0; i < 40; i++) {
        CHECK_OK(write_rows(db, s, 100, i * 100));
        meru_stats st;
        CHECK_OK(meru_stats_get(db, &st));
        if (st.immutable_memtables > max_seen)
            max_seen = st.immutable_memtables;
    }
    CHECK_MSG(max_seen <= 1, "%llu immutable memtables with max 1",
              (unsigned long long)max_seen);
    CHECK_EQ_INT(count_rows(db), 4000);
    meru_db_free(db);
    meru_schema_free(s);
}

/* Waits (bounded) until compactions have run and L0 is below `below`. */
static int wait_compacted(meru_db *db, uint64_t below, meru_stats *st)
{
    for (int i = 0; i < 2000; i++) {
        if (meru_stats_get(db, st))
            return -1;
        if (st->compactions > 0 && st->level[0].files < below)
            return 0;
        usleep(10000);
    }
    return -1;
}

static void test_db_option_l0_triggers(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    /* No compaction before the trigger: 6 flushes, trigger 100. */
    const char *dir = meru_test_tmpdir("api_l0_off");
    meru_options o;
    tdb_small_options(&o);
    o.memtable_bytes = (size_t)8 << 20;
    o.l0_compaction_trigger = 100;
    o.l0_slowdown_trigger = 100;
    o.l0_stop_trigger = 100;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    for (int f = 0; f < 6; f++) {
        CHECK_OK(write_rows(db, s, 50, f * 30)); /* overlapping keys */
        CHECK_OK(meru_flush(db));
    }
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.flushes, 6);
    CHECK_EQ_U64(st.level[0].files, 6);
    CHECK_EQ_U64(st.compactions, 0);
    int64_t nrows = 5 * 30 + 50;
    CHECK_EQ_INT(count_rows(db), nrows);
    meru_db_free(db);

    /* Trigger 2: compaction runs and L0 shrinks. */
    db = NULL;
    o.l0_compaction_trigger = 2;
    o.l0_slowdown_trigger = 4;
    o.l0_stop_trigger = 6;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(write_rows(db, s, 10, 1000));
    CHECK_OK(meru_flush(db));
    CHECK_MSG(wait_compacted(db, 2, &st) == 0,
              "no compaction with l0_compaction_trigger 2: L0 %llu files, "
              "%llu compactions",
              (unsigned long long)st.level[0].files,
              (unsigned long long)st.compactions);
    CHECK(st.levels >= 2);
    CHECK(st.compaction_bytes_read > 0 && st.compaction_bytes_written > 0);
    CHECK_EQ_INT(count_rows(db), nrows + 10);

    /* The stop trigger bounds L0 while writes keep coming. */
    uint64_t max_l0 = 0;
    for (int f = 0; f < 12; f++) {
        CHECK_OK(write_rows(db, s, 20, 2000 + f * 20));
        CHECK_OK(meru_flush(db));
        CHECK_OK(meru_stats_get(db, &st));
        if (st.level[0].files > max_l0)
            max_l0 = st.level[0].files;
    }
    CHECK_MSG(max_l0 <= (uint64_t)o.l0_stop_trigger + 1,
              "L0 reached %llu files with stop trigger %d",
              (unsigned long long)max_l0, o.l0_stop_trigger);
    CHECK_EQ_INT(count_rows(db), nrows + 10 + 240);
    meru_db_free(db);
    meru_schema_free(s);
}

/* mode 0: off (row_cache_bytes 0), 1: its own 1 MiB budget, 2: the
 * default (MERU_ROW_CACHE_AUTO, a share of cache_bytes). Repeated gets of
 * one key in a file hit the row cache unless it is off (stored at the
 * first read while the row cache has room); the page cache gives up the row cache's
 * share only in the default mode. */
static void test_db_option_row_cache(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    for (int mode = 0; mode < 3; mode++) {
        const char *dir = meru_test_tmpdir("api_rowcache");
        meru_options o;
        tdb_small_options(&o);
        CHECK(o.row_cache_bytes == MERU_ROW_CACHE_AUTO);
        if (mode < 2)
            o.row_cache_bytes = mode ? (size_t)1 << 20 : 0;
        meru_db *db = NULL;
        CHECK_OK(meru_open(dir, &o, s, &db));
        CHECK_OK(write_rows(db, s, 100, 0));
        CHECK_OK(put_row(db, s, 1000, "far")); /* keys 100..999: absent */
        CHECK_OK(meru_flush(db));
        char name[64];
        for (int i = 0; i < 10; i++)
            CHECK_OK(get_name(db, NULL, 42, name));
        meru_stats st;
        CHECK_OK(meru_stats_get(db, &st));
        if (mode)
            CHECK_MSG(st.row_cache_hits >= 9, "row cache mode %d: %llu hits",
                      mode, (unsigned long long)st.row_cache_hits);
        else
            CHECK_EQ_U64(st.row_cache_hits + st.row_cache_misses, 0);
        /* A key the file does not hold is not stored: asking again is
         * another miss, never a hit. */
        uint64_t hits = st.row_cache_hits, misses = st.row_cache_misses;
        for (int i = 0; i < 3; i++)
            CHECK_RC(get_name(db, NULL, 500 + i % 2, name), MERU_NOT_FOUND);
        CHECK_OK(meru_stats_get(db, &st));
        CHECK_EQ_U64(st.row_cache_hits, hits);
        if (mode)
            CHECK_EQ_U64(st.row_cache_misses, misses + 3);
        CHECK_EQ_U64(st.cache_capacity,
                     mode == 2 ? o.cache_bytes - o.cache_bytes /
                                                     MERU_ROW_CACHE_AUTO_DIVISOR
                               : o.cache_bytes);
        meru_db_free(db);
    }
    meru_schema_free(s);
}

static int del_id(meru_db *db, const meru_schema *s, int64_t id)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, s);
    if (!rc)
        rc = meru_row_set_int64(r, 0, id);
    if (!rc)
        rc = meru_delete(db, r, NULL);
    meru_row_free(r);
    return rc;
}

/* Checks that key 7 reads as `want` (NULL: absent) now and twice again
 * (where it is in a file, the answer is stored in the row cache by the
 * first get while the row cache has room, by the second once it is full,
 * and a later get is served by it). */
static void expect_7(meru_db *db, const meru_snapshot *snap, const char *want)
{
    for (int i = 0; i < 3; i++) {
        char name[64] = "";
        int rc = get_name(db, snap, 7, name);
        if (!want) {
            CHECK_RC(rc, MERU_NOT_FOUND);
        } else {
            CHECK_OK(rc);
            CHECK_MSG(!strcmp(name, want), "key 7: got '%s', want '%s'",
                      name, want);
        }
    }
}

/* The row cache never answers with a version a later write replaced:
 * overwrites and deletes in the memtable, after a flush, after a
 * compaction, and a snapshot still reads the version of its time. */
static void test_db_row_cache_writes(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    const char *dir = meru_test_tmpdir("api_rowcache_w");
    meru_options o;
    tdb_small_options(&o);
    o.row_cache_bytes = (size_t)1 << 20;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(put_row(db, s, 7, "a"));
    CHECK_OK(put_row(db, s, 8, "x"));
    CHECK_OK(meru_flush(db));
    expect_7(db, NULL, "a"); /* cached from the file */
    meru_snapshot *snap = NULL;
    CHECK_OK(meru_snapshot_new(db, &snap));
    CHECK_OK(put_row(db, s, 7, "b"));
    expect_7(db, NULL, "b"); /* memtable */
    expect_7(db, snap, "a");
    CHECK_OK(meru_flush(db));
    expect_7(db, NULL, "b"); /* newer file */
    expect_7(db, snap, "a");
    /* One file with both versions (the snapshot keeps "a"): the row cache
     * holds the file's newest, which the snapshot must not be served. */
    CHECK_OK(meru_compact(db));
    expect_7(db, NULL, "b");
    expect_7(db, snap, "a");
    CHECK_OK(del_id(db, s, 7));
    expect_7(db, NULL, NULL);
    CHECK_OK(meru_flush(db));
    expect_7(db, NULL, NULL); /* tombstone in the newest file */
    expect_7(db, snap, "a");
    meru_snapshot_free(snap);
    CHECK_OK(meru_compact(db));
    expect_7(db, NULL, NULL);
    CHECK_OK(put_row(db, s, 7, "c"));
    CHECK_OK(meru_flush(db));
    expect_7(db, NULL, "c");
    CHECK_OK(meru_compact(db));
    expect_7(db, NULL, "c");
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_MSG(st.row_cache_hits >= 5, "%llu row cache hits",
              (unsigned long long)st.row_cache_hits);
    meru_db_free(db);
    meru_schema_free(s);
}

/* Admission (cache/admit.h, db_read.c admit_row): while the row cache has
 * room a row read from a file is stored at once; once it is full, a key
 * read once is not stored, read twice it is, and the third read is a hit,
 * so keys read once each (uniform gets) take no one's place. An overwrite
 * or a delete after admission is read, not the stored row. */
static void test_db_row_cache_admits_second_use(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    const char *dir = meru_test_tmpdir("api_rowcache_admit");
    meru_options o;
    tdb_small_options(&o);
    o.row_cache_bytes = (size_t)256 << 10;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    /* 4000 rows of a 200-byte name overfill 256 KiB */
    CHECK_OK(write_rows(db, s, 4000, 0));
    CHECK_OK(meru_flush(db));
    /* one file from here on: a background compaction would give the rows
     * a new file (cache key) and empty the row cache under the test */
    CHECK_OK(meru_compact(db));
    char name[64];
    meru_stats st;
    /* room: stored at the first read, the second hits */
    CHECK_OK(get_name(db, NULL, 3999, name));
    CHECK_OK(get_name(db, NULL, 3999, name));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.row_cache_hits, 1);
    /* fill it with keys 300..3999 (stored while it has room, then, once
     * it has evicted, only on a second read): keys 0..299 were never
     * read */
    for (int64_t id = 300; id < 4000; id++)
        CHECK_OK(get_name(db, NULL, id, name));
    CHECK_OK(meru_stats_get(db, &st));
    uint64_t hits = st.row_cache_hits, misses = st.row_cache_misses;
    /* 200 keys read once: 200 misses, nothing stored, so reading them
     * again misses again (and stores them), and a third time hits (a few
     * may share a tag bucket and wait a round) */
    for (int round = 0; round < 3; round++) {
        for (int64_t id = 0; id < 200; id++)
            CHECK_OK(get_name(db, NULL, id, name));
        CHECK_OK(meru_stats_get(db, &st));
        if (round < 2) {
            CHECK_EQ_U64(st.row_cache_hits, hits);
            CHECK_EQ_U64(st.row_cache_misses, misses + 200 * (round + 1));
        } else {
            CHECK_MSG(st.row_cache_hits >= hits + 190, "%llu of 200 hits",
                      (unsigned long long)(st.row_cache_hits - hits));
        }
    }
    /* key 250: the first read marks it, the second stores it, the third
     * hits */
    hits = st.row_cache_hits;
    CHECK_OK(get_name(db, NULL, 250, name));
    CHECK_OK(get_name(db, NULL, 250, name));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.row_cache_hits, hits);
    CHECK_OK(get_name(db, NULL, 250, name));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.row_cache_hits, hits + 1);
    /* the stored row never answers after an overwrite or a delete */
    CHECK_OK(put_row(db, s, 250, "new"));
    CHECK_OK(get_name(db, NULL, 250, name));
    CHECK_STR(name, "new");
    CHECK_OK(meru_flush(db));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(get_name(db, NULL, 250, name));
        CHECK_STR(name, "new");
    }
    CHECK_OK(del_id(db, s, 250));
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_compact(db));
    for (int i = 0; i < 3; i++)
        CHECK_RC(get_name(db, NULL, 250, name), MERU_NOT_FOUND);
    meru_db_free(db);
    meru_schema_free(s);
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
    static const int64_t keys[] = {INT64_MIN, INT64_MIN + 1, -256, -1, 0, 1,
                                   255, 256, INT64_MAX - 1, INT64_MAX};
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
    meru_schema *s = mk_schema("id int64 not null, name string, b binary",
                               "id");
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
    MERU_TEST_RUN(test_db_stats_move);
    MERU_TEST_RUN(test_db_large_values);
    MERU_TEST_RUN(test_db_extreme_keys_order);
    MERU_TEST_RUN(test_db_option_memtable_bytes);
    MERU_TEST_RUN(test_db_option_sync_mode);
    MERU_TEST_RUN(test_db_option_max_immutable_memtables);
    MERU_TEST_RUN(test_db_option_l0_triggers);
    MERU_TEST_RUN(test_db_option_row_cache);
    MERU_TEST_RUN(test_db_row_cache_writes);
    MERU_TEST_RUN(test_db_row_cache_admits_second_use);
    return meru_test_finish();
}
