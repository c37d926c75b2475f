/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_export.c — meru_export_iceberg on a table that keeps no deletion
 * vectors (iceberg_view off): the export rebuilds them from the data, so
 * the copy reads as exactly the live rows (without the rebuild it would
 * show every overwritten version and every tombstone row). The copy is
 * read back with the catalog's view reader (metadata -> manifest list ->
 * manifests -> deletion files) and then opened as a table and verified
 * against its own scan.
 */
#include <stdio.h>
#include <string.h>

#include "catalog/catalog_view.h"
#include "engine/db_internal.h"
#include "test.h"

static int put_range(meru_db *db, int64_t lo, int64_t hi, int64_t v)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, meru_db_schema(db));
    for (int64_t k = lo; !rc && k < hi; k++) {
        meru_row_clear(r);
        if (!(rc = meru_row_set_int64(r, 0, k)) &&
            !(rc = meru_row_set_int64(r, 1, v)))
            rc = meru_put(db, r, NULL);
    }
    meru_row_free(r);
    return rc;
}

static int delete_range(meru_db *db, int64_t lo, int64_t hi)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, meru_db_schema(db));
    for (int64_t k = lo; !rc && k < hi; k++) {
        meru_row_clear(r);
        if (!(rc = meru_row_set_int64(r, 0, k)))
            rc = meru_delete(db, r, NULL);
    }
    meru_row_free(r);
    return rc;
}

static void export_of(int format_version)
{
    char name[64], target[4200];
    snprintf(name, sizeof name, "export-off-v%d", format_version);
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "exp", "id int64 not null, v int64", "id"));
    meru_options o;
    meru_options_init(&o);
    o.iceberg_view = MERU_ICEBERG_VIEW_OFF;
    o.iceberg_format_version = format_version;
    o.background_threads = 1;
    o.l0_compaction_trigger = 8; /* the three flushes stay in L0 */
    o.l0_slowdown_trigger = 16;
    o.l0_stop_trigger = 32;
    meru_db *db = NULL;
    const char *dir = meru_test_tmpdir(name);
    char src[4096];
    snprintf(src, sizeof src, "%s", dir);
    snprintf(target, sizeof target, "%s-copy", src);
    CHECK_OK(meru_open(src, &o, s, &db));
    CHECK_OK(put_range(db, 0, 200, 1));
    CHECK_OK(meru_flush(db));
    CHECK_OK(put_range(db, 0, 100, 2)); /* overwrites */
    CHECK_OK(meru_flush(db));
    CHECK_OK(delete_range(db, 150, 200)); /* tombstones */
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_export_iceberg(db, target));
    CHECK_OK(meru_close(db));
    meru_db_free(db);

    meru_catalog_view *v = NULL;
    CHECK_OK(meru_catalog_view_load(meru_fs_posix(), target, &v));
    CHECK_EQ_INT(v->format_version, format_version);
    CHECK(v->nfiles >= 1);
    CHECK_EQ_U64(v->live_rows, 150);
    meru_catalog_view_free(v);

    /* The copy is a table of its own whose view equals its scan. */
    meru_options_init(&o);
    CHECK_OK(meru_open(target, &o, NULL, &db));
    uint64_t rows = 0;
    char err[512] = "";
    CHECK_MSG(meru_db_check_iceberg(db, &rows, err, sizeof err) == MERU_OK,
              "%s", err);
    CHECK_EQ_U64(rows, 150);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_export_rebuilds_vectors_v3(void) { export_of(3); }
static void test_export_rebuilds_vectors_v2(void) { export_of(2); }

int main(void)
{
    MERU_TEST_RUN(test_export_rebuilds_vectors_v3);
    MERU_TEST_RUN(test_export_rebuilds_vectors_v2);
    return meru_test_finish();
}
