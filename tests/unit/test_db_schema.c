/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_schema.c — schema evolution on an open table (meru_add_column and
 * the additive schema of meru_open): new schema ids, snapshots keeping
 * theirs, the format-version rules, initial defaults for rows written
 * before a column, write defaults for rows written after (also rows and
 * batches made on the previous schema), reads through flush, compaction
 * and reopen, scans begun before a change, read-only handles following
 * the writer. Threads racing a change are test_db_schema_concurrent.c.
 *
 * Tables of a given Iceberg format version are created through the
 * catalog (meru_catalog_create with format_version), then opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "test.h"
#include "test_db_common.h"
#include "util/fs.h"

#define COLS "id int64 not null, name string"

/* CHECK_OK for helpers that return a value: `ret` on failure. */
#define REQUIRE(expr, ret)                                                     \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_) {                                                             \
            meru_test_fail(__FILE__, __LINE__, "%s returned %d: %s", #expr,    \
                           rc_, meru_errmsg());                                \
            return ret;                                                        \
        }                                                                      \
    } while (0)

/* A new table of Iceberg format version `fv` with schema COLS. */
static void create_table(const char *dir, int fv)
{
    meru_schema *s = NULL;
    meru_catalog *cat = NULL;
    meru_catalog_options co = {.format_version = fv};
    CHECK_OK(meru_schema_parse(&s, "t", COLS, "id"));
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, &co, &cat));
    meru_catalog_free(cat);
    meru_schema_free(s);
}

static meru_db *open_table(const char *dir, int read_only)
{
    meru_options o;
    meru_db *db = NULL;
    tdb_small_options(&o);
    o.read_only = read_only;
    REQUIRE(meru_open(dir, &o, NULL, &db), NULL);
    return db;
}

/* Puts (id, name) through a row made on schema `s`. */
static int put_on(meru_db *db, const meru_schema *s, int64_t id,
                  const char *name)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, s);
    if (!rc)
        rc = meru_row_set_int64(r, 0, id);
    if (!rc)
        rc = meru_row_set_string(r, 1, name, strlen(name));
    if (!rc)
        rc = meru_put(db, r, NULL);
    meru_row_free(r);
    return rc;
}

/* The int32 column `col` of row `id` read with a row of the current
 * schema: its value, -1 when null, -2 when the row is missing. */
static int32_t get_i32(meru_db *db, int64_t id, size_t col)
{
    meru_row *k = NULL, *out = NULL;
    int32_t v = -2;
    REQUIRE(meru_row_new(&k, meru_db_schema(db)), -3);
    REQUIRE(meru_row_new(&out, meru_db_schema(db)), -3);
    REQUIRE(meru_row_set_int64(k, 0, id), -3);
    int rc = meru_get(db, NULL, k, out);
    if (rc == MERU_OK)
        v = meru_row_is_null(out, col) ? -1 : 0;
    if (rc == MERU_OK && v == 0)
        rc = meru_row_get_int32(out, col, &v);
    else if (rc == MERU_NOT_FOUND)
        rc = MERU_OK;
    meru_row_free(k);
    meru_row_free(out);
    REQUIRE(rc, -3);
    return v;
}

/* Scans the whole table: want[id] is the expected int32 in column `col`
 * (rows 0 .. n-1 all present). */
static void check_scan(meru_db *db, const int32_t *want, int64_t n, size_t col,
                       const char *when)
{
    meru_iter *it = NULL;
    const meru_row *r;
    int64_t seen = 0;
    CHECK_OK(meru_scan(db, NULL, &it));
    while (meru_iter_next(it, &r) == MERU_OK) {
        int64_t id = -1;
        int32_t v = -1;
        CHECK_OK(meru_row_get_int64(r, 0, &id));
        CHECK_MSG(id == seen, "%s: row %lld where %lld was due", when,
                  (long long)id, (long long)seen);
        if (!meru_row_is_null(r, col))
            CHECK_OK(meru_row_get_int32(r, col, &v));
        CHECK_MSG(v == want[id], "%s: row %lld has %d, want %d", when,
                  (long long)id, v, want[id]);
        seen++;
    }
    CHECK_EQ_INT(seen, n);
    meru_iter_free(it);
}

static int add_int_column(meru_db *db, const char *name, int nullable,
                          const char *initial, const char *wdefault)
{
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    d.name = name;
    d.type = MERU_TYPE_INT32;
    d.nullable = nullable;
    d.initial_default = initial;
    d.write_default = wdefault;
    return meru_add_column(db, &d);
}

/* The schema-id of each snapshot in the table's newest metadata. */
/* The schema-id of the current snapshot of metadata version `version`
 * (each version lists its current snapshot; the older ones are older
 * versions), or -2 when it cannot be read or has no snapshot. */
static int32_t snapshot_schema_id(const char *dir, uint64_t version)
{
    char path[4200];
    size_t len = 0;
    meru_catalog *cat = NULL;
    int32_t id = -2;
    snprintf(path, sizeof path, "%s/metadata/v%llu.metadata.json", dir,
             (unsigned long long)version);
    uint8_t *text = meru_test_read_file(path, &len);
    if (text && meru_catalog_parse_metadata((const char *)text, len, &cat) ==
                    MERU_OK) {
        size_t n;
        const meru_catalog_snapshot *s = meru_catalog_snapshots(cat, &n);
        for (size_t i = 0; i < n; i++)
            if (s[i].id == meru_catalog_current_snapshot_id(cat))
                id = s[i].schema_id;
    }
    meru_catalog_free(cat);
    free(text);
    return id;
}

/* v3: a NOT NULL column with an initial default (1) and a write default
 * (2). Rows in the memtable and in L0 before the change read 1; rows
 * written after without the column (new rows, rows of the old schema,
 * old keys overwritten, a batch built before the change) store 2; set
 * values stay; all of it through flush, compaction and reopen. */
static void test_add_column_defaults_through_flush_compact_reopen(void)
{
    const char *dir = meru_test_tmpdir("schema_defaults");
    enum { N = 60 };
    int32_t want[N];
    create_table(dir, 3);
    meru_db *db = open_table(dir, 0);
    const meru_schema *s0 = meru_db_schema(db);
    CHECK_EQ_INT(meru_schema_id(s0), 0);
    for (int64_t i = 0; i < 20; i++)
        CHECK_OK(put_on(db, s0, i, "l0"));
    CHECK_OK(meru_flush(db));
    for (int64_t i = 20; i < 40; i++)
        CHECK_OK(put_on(db, s0, i, "mem"));
    /* Prepared before the change, committed after. */
    meru_write_batch *wb = NULL;
    meru_row *r = NULL;
    CHECK_OK(meru_write_batch_new(&wb, s0));
    CHECK_OK(meru_row_new(&r, s0));
    for (int64_t i = 50; i < 55; i++) {
        CHECK_OK(meru_row_set_int64(r, 0, i));
        CHECK_OK(meru_row_set_string(r, 1, "batch", 5));
        CHECK_OK(meru_write_batch_put(wb, r));
    }
    meru_iter *before = NULL;
    CHECK_OK(meru_scan(db, NULL, &before));
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    uint64_t version = st.metadata_version;
    CHECK_EQ_INT(snapshot_schema_id(dir, version), 0);

    CHECK_OK(add_int_column(db, "tier", 0, "1", "2"));
    const meru_schema *s1 = meru_db_schema(db);
    CHECK(s1 != s0);
    CHECK_EQ_INT(meru_schema_id(s1), 1);
    CHECK_EQ_INT(meru_schema_column_count(s1), 3);
    CHECK_EQ_INT(meru_schema_column_count(s0), 2); /* still valid */
    CHECK_EQ_INT(meru_schema_column_field_id(s1, 2), 3);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.metadata_version, version + 1); /* one version */

    /* The scan begun before keeps the old schema's rows. */
    const meru_row *br;
    int64_t nb = 0;
    while (meru_iter_next(before, &br) == MERU_OK) {
        CHECK(meru_row_schema(br) == s0);
        nb++;
    }
    CHECK_EQ_INT(nb, 40);
    meru_iter_free(before);

    for (int64_t i = 0; i < 40; i++)
        want[i] = 1;
    CHECK_EQ_INT(get_i32(db, 5, 2), 1);  /* L0 */
    CHECK_EQ_INT(get_i32(db, 25, 2), 1); /* memtable */
    /* After the change: old-schema rows and new rows without the column
     * take the write default; an overwrite of an old key too. */
    CHECK_OK(meru_write(db, wb, NULL));
    for (int64_t i = 50; i < 55; i++)
        want[i] = 2;
    for (int64_t i = 40; i < 45; i++) {
        CHECK_OK(put_on(db, s0, i, "old-schema row"));
        want[i] = 2;
    }
    for (int64_t i = 45; i < 50; i++) {
        CHECK_OK(put_on(db, s1, i, "new row"));
        want[i] = 2;
    }
    CHECK_OK(put_on(db, s0, 3, "overwritten"));
    want[3] = 2;
    meru_row *r1 = NULL;
    CHECK_OK(meru_row_new(&r1, s1));
    for (int64_t i = 55; i < N; i++) {
        CHECK_OK(meru_row_set_int64(r1, 0, i));
        CHECK_OK(meru_row_set_string(r1, 1, "set", 3));
        CHECK_OK(meru_row_set_int32(r1, 2, (int32_t)(100 + i)));
        CHECK_OK(meru_put(db, r1, NULL));
        want[i] = (int32_t)(100 + i);
    }
    CHECK_EQ_INT(get_i32(db, 42, 2), 2);
    check_scan(db, want, N, 2, "memtable + L0");

    /* A get into a row of the old schema fills the columns it has. */
    meru_row *k0 = NULL, *o0 = NULL;
    CHECK_OK(meru_row_new(&k0, s0));
    CHECK_OK(meru_row_new(&o0, s0));
    CHECK_OK(meru_row_set_int64(k0, 0, 57));
    CHECK_OK(meru_get(db, NULL, k0, o0));
    const char *nm = NULL;
    size_t nl = 0;
    CHECK_OK(meru_row_get_string(o0, 1, &nm, &nl));
    CHECK(nl == 3 && !memcmp(nm, "set", 3));

    CHECK_OK(meru_flush(db));
    check_scan(db, want, N, 2, "after flush");
    CHECK_OK(meru_compact(db));
    check_scan(db, want, N, 2, "after compaction");
    CHECK_EQ_INT(get_i32(db, 7, 2), 1);
    meru_row_free(k0);
    meru_row_free(o0);
    meru_row_free(r);
    meru_row_free(r1);
    meru_write_batch_free(wb);
    meru_db_free(db);

    db = open_table(dir, 0);
    CHECK_EQ_INT(meru_schema_id(meru_db_schema(db)), 1);
    check_scan(db, want, N, 2, "after reopen");

    /* The snapshot made before the change keeps schema 0 (in its metadata
     * version, still kept), the current one is on schema 1. */
    CHECK_EQ_INT(snapshot_schema_id(dir, version), 0);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_INT(snapshot_schema_id(dir, st.metadata_version), 1);
    meru_db_free(db);
}

/* Refusals change nothing: the format-version 2 rules, a duplicate name,
 * a default that does not parse, a used field id, read-only and closed
 * handles. */
static void test_add_column_refusals(void)
{
    const char *dir = meru_test_tmpdir("schema_refusals");
    create_table(dir, 2);
    meru_db *db = open_table(dir, 0);
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    uint64_t version = st.metadata_version;
    CHECK_RC(add_int_column(db, "n", 0, "1", "1"), MERU_ESCHEMA);
    CHECK(strstr(meru_errmsg(), "format-version 2"));
    CHECK_RC(add_int_column(db, "n", 0, NULL, NULL), MERU_ESCHEMA);
    CHECK_RC(add_int_column(db, "n", 1, "1", NULL), MERU_ESCHEMA);
    CHECK(strstr(meru_errmsg(), "default"));
    CHECK_RC(add_int_column(db, "n", 1, NULL, "1"), MERU_ESCHEMA);
    CHECK_RC(add_int_column(db, "name", 1, NULL, NULL), MERU_ESCHEMA);
    CHECK_RC(meru_add_column(db, NULL), MERU_EINVAL);
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    d.name = "used_id";
    d.type = MERU_TYPE_INT64;
    d.field_id = 2;
    CHECK_RC(meru_add_column(db, &d), MERU_ESCHEMA);
    d.type = MERU_TYPE_DECIMAL; /* precision 0 */
    d.field_id = 0;
    CHECK_RC(meru_add_column(db, &d), MERU_ESCHEMA);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.metadata_version, version);
    CHECK_EQ_INT(meru_schema_id(meru_db_schema(db)), 0);

    /* A nullable column without defaults is what v2 takes. */
    CHECK_OK(add_int_column(db, "n", 1, NULL, NULL));
    CHECK_EQ_INT(meru_schema_id(meru_db_schema(db)), 1);
    CHECK_OK(put_on(db, meru_db_schema(db), 1, "a"));
    CHECK_EQ_INT(get_i32(db, 1, 2), -1);
    meru_db *ro = open_table(dir, 1);
    CHECK_RC(add_int_column(ro, "m", 1, NULL, NULL), MERU_EREADONLY);
    meru_db_free(ro);
    CHECK_OK(meru_close(db));
    CHECK_RC(add_int_column(db, "m", 1, NULL, NULL), MERU_ECLOSED);
    meru_db_free(db);

    /* v3: defaults must parse for the type; NOT NULL needs an initial
     * default. */
    const char *dir3 = meru_test_tmpdir("schema_refusals_v3");
    create_table(dir3, 3);
    db = open_table(dir3, 0);
    CHECK_RC(add_int_column(db, "n", 1, "\"x\"", NULL), MERU_ESCHEMA);
    CHECK_RC(add_int_column(db, "n", 1, NULL, "1.5"), MERU_ESCHEMA);
    CHECK_RC(add_int_column(db, "n", 0, NULL, "1"), MERU_ESCHEMA);
    CHECK(strstr(meru_errmsg(), "initial default"));
    CHECK_EQ_INT(meru_schema_id(meru_db_schema(db)), 0);
    meru_db_free(db);
}

/* A NOT NULL column with an initial default but no write default: rows
 * written after it must set it (a row of the old schema cannot). */
static void test_not_null_without_write_default(void)
{
    const char *dir = meru_test_tmpdir("schema_no_wdefault");
    create_table(dir, 3);
    meru_db *db = open_table(dir, 0);
    const meru_schema *s0 = meru_db_schema(db);
    CHECK_OK(put_on(db, s0, 1, "before"));
    CHECK_OK(add_int_column(db, "n", 0, "5", NULL));
    const meru_schema *s1 = meru_db_schema(db);
    CHECK_RC(put_on(db, s0, 2, "old"), MERU_EINVAL);
    CHECK(strstr(meru_errmsg(), "no write default"));
    CHECK_RC(put_on(db, s1, 2, "unset"), MERU_EINVAL);
    meru_write_batch *wb = NULL;
    meru_row *r = NULL;
    CHECK_OK(meru_write_batch_new(&wb, s0));
    CHECK_OK(meru_row_new(&r, s0));
    CHECK_OK(meru_row_set_int64(r, 0, 3));
    CHECK_OK(meru_write_batch_put(wb, r));
    CHECK_RC(meru_write(db, wb, NULL), MERU_EINVAL);
    meru_row_free(r);
    CHECK_OK(meru_row_new(&r, s1));
    CHECK_OK(meru_row_set_int64(r, 0, 2));
    CHECK_OK(meru_row_set_int32(r, 2, 9));
    CHECK_OK(meru_put(db, r, NULL));
    CHECK_EQ_INT(get_i32(db, 1, 2), 5);
    CHECK_EQ_INT(get_i32(db, 2, 2), 9);
    CHECK_EQ_INT(get_i32(db, 3, 2), -2);
    meru_row_free(r);
    meru_write_batch_free(wb);
    meru_db_free(db);
}

/* meru_open with a wider schema is the same change (v3 defaults, new
 * schema id); the previous schema still opens the table. */
static void test_open_with_additive_schema(void)
{
    const char *dir = meru_test_tmpdir("schema_open_additive");
    create_table(dir, 3);
    meru_db *db = open_table(dir, 0);
    CHECK_OK(put_on(db, meru_db_schema(db), 1, "a"));
    meru_db_free(db);
    meru_schema *s0 = NULL, *s1 = NULL;
    CHECK_OK(meru_schema_parse(&s0, "t", COLS, "id"));
    CHECK_OK(meru_schema_parse(&s1, "t", COLS ", n int32 not null", "id"));
    meru_options o;
    tdb_small_options(&o);
    CHECK_RC(meru_open(dir, &o, s1, &db), MERU_ESCHEMA);
    meru_schema_free(s1);
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    CHECK_OK(meru_schema_clone(&s1, s0));
    d.name = "n";
    d.type = MERU_TYPE_INT32;
    d.nullable = 0;
    d.initial_default = "4";
    d.write_default = "6";
    CHECK_OK(meru_schema_add_column_def(s1, &d));
    CHECK_OK(meru_open(dir, &o, s1, &db));
    CHECK_EQ_INT(meru_schema_id(meru_db_schema(db)), 1);
    CHECK_EQ_INT(get_i32(db, 1, 2), 4);
    CHECK_OK(put_on(db, s0, 2, "b"));
    CHECK_EQ_INT(get_i32(db, 2, 2), 6);
    meru_db_free(db);
    CHECK_OK(meru_open(dir, &o, s0, &db)); /* the previous schema */
    CHECK_EQ_INT(meru_schema_id(meru_db_schema(db)), 1);
    CHECK_EQ_INT(get_i32(db, 2, 2), 6);
    meru_db_free(db);
    CHECK_OK(meru_open(dir, &o, s1, &db)); /* the current one: no change */
    CHECK_EQ_INT(meru_schema_id(meru_db_schema(db)), 1);
    meru_db_free(db);
    meru_schema_free(s0);
    meru_schema_free(s1);
}

/* A read-only handle follows the writer's new schema at refresh; its
 * snapshots taken before keep reading rows of the old one. */
static void test_read_only_follows_schema(void)
{
    const char *dir = meru_test_tmpdir("schema_read_only");
    create_table(dir, 3);
    meru_db *db = open_table(dir, 0);
    CHECK_OK(put_on(db, meru_db_schema(db), 1, "a"));
    CHECK_OK(meru_flush(db));
    meru_db *ro = open_table(dir, 1);
    const meru_schema *ro0 = meru_db_schema(ro);
    meru_snapshot *snap = NULL;
    CHECK_OK(meru_snapshot_new(ro, &snap));
    CHECK_OK(add_int_column(db, "n", 1, "8", "9"));
    CHECK_OK(put_on(db, meru_db_schema(db), 2, "b"));
    CHECK_OK(meru_flush(db));
    CHECK_OK(put_on(db, meru_db_schema(db), 3, "c")); /* WAL only */
    CHECK_OK(meru_refresh(ro));
    CHECK(meru_db_schema(ro) != ro0);
    CHECK_EQ_INT(meru_schema_id(meru_db_schema(ro)), 1);
    CHECK_EQ_INT(get_i32(ro, 1, 2), 8);
    CHECK_EQ_INT(get_i32(ro, 2, 2), 9);
    CHECK_EQ_INT(get_i32(ro, 3, 2), 9);
    meru_scan_options so = MERU_SCAN_OPTIONS_INIT;
    so.snapshot = snap;
    meru_iter *it = NULL;
    const meru_row *row;
    CHECK_OK(meru_scan(ro, &so, &it));
    int n = 0;
    while (meru_iter_next(it, &row) == MERU_OK) {
        CHECK_EQ_INT(meru_schema_column_count(meru_row_schema(row)), 2);
        n++;
    }
    CHECK_EQ_INT(n, 1);
    meru_iter_free(it);
    meru_snapshot_free(snap);
    meru_db_free(ro);
    meru_db_free(db);
}

int main(void)
{
    MERU_TEST_RUN(test_add_column_defaults_through_flush_compact_reopen);
    MERU_TEST_RUN(test_add_column_refusals);
    MERU_TEST_RUN(test_not_null_without_write_default);
    MERU_TEST_RUN(test_open_with_additive_schema);
    MERU_TEST_RUN(test_read_only_follows_schema);
    return meru_test_finish();
}
