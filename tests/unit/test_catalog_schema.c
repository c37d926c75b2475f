/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_catalog_schema.c — schemas in the version set: a schema change
 * appends a schema with the next id (Iceberg v3 schemas and their ids),
 * changes follow the evolution rules of the table's format version (a
 * refused one writes nothing), and metadata written before schema ids or
 * with several v3 schemas reads as written. (test_catalog.c covers commits
 * and the metadata format, test_catalog_recovery.c crashes and damage.)
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/catalog_internal.h"
#include "catalog_test.h"
#include "test.h"

/* The schema of `cat` plus one column (field id: last-column-id + 1). */
static meru_schema *plus_column(const meru_catalog *cat, const char *name,
                                meru_type type, int nullable,
                                const char *initial, const char *wdefault)
{
    meru_schema *s = NULL;
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    d.name = name;
    d.type = type;
    d.nullable = nullable;
    d.field_id = meru_catalog_last_column_id(cat) + 1;
    d.initial_default = initial;
    d.write_default = wdefault;
    if (meru_schema_clone(&s, meru_catalog_schema(cat)) ||
        meru_schema_add_column_def(s, &d)) {
        meru_schema_free(s);
        return NULL;
    }
    return s;
}

static int commit_schema(meru_catalog *cat, const meru_schema *s)
{
    meru_catalog_edit *e = NULL;
    int rc = meru_catalog_edit_new(cat, &e);
    if (!rc)
        rc = meru_catalog_edit_add_schema(e, s);
    if (!rc)
        rc = meru_catalog_commit(cat, e);
    meru_catalog_edit_free(e);
    return rc;
}

/* A schema change appends a schema with the next id and moves the current
 * id, without a snapshot; all of it survives reopen and is what the JSON
 * says. (The view is off here: these commits name files that do not
 * exist. That snapshots keep the schema they were made under is checked
 * with real files by test_db_schema and cli_test_iceberg_view.) */
static void test_catalog_schema_changes_get_new_ids(void)
{
    const char *dir = tmpdir("cat-schema-ids");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL, *again = NULL;
    meru_catalog_options co = {.format_version = 3, .view_off = 1};
    CHECK(s);
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, &co, &cat));
    CHECK_EQ_INT(meru_catalog_iceberg_format_version(cat), 3);
    CHECK_EQ_INT(meru_catalog_current_schema_id(cat), 0);
    CHECK_EQ_INT(meru_catalog_last_column_id(cat), 4);
    CHECK_OK(commit_flush(cat, 1));
    uint64_t before = meru_catalog_version(cat);

    meru_schema *s1 = plus_column(cat, "qty", MERU_TYPE_INT32, 0, "7", "8");
    CHECK(s1);
    CHECK_OK(commit_schema(cat, s1));
    CHECK_EQ_U64(meru_catalog_version(cat), before + 1);
    size_t n;
    CHECK_EQ_INT(meru_catalog_current_schema_id(cat), 1);
    CHECK_EQ_INT(meru_catalog_last_column_id(cat), 5);
    const meru_schema *const *all = meru_catalog_schemas(cat, &n);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(meru_schema_id(all[0]), 0);
    CHECK_EQ_INT(meru_schema_column_count(all[0]), 4); /* unchanged */
    CHECK_EQ_INT(meru_schema_column_count(all[1]), 5);
    CHECK(meru_catalog_schema(cat) == all[1]);
    CHECK(meru_catalog_schema_by_id(cat, 0) == all[0]);
    CHECK(meru_catalog_schema_by_id(cat, 2) == NULL);
    CHECK_OK(commit_flush(cat, 2));

    meru_schema *s2 =
        plus_column(cat, "tag", MERU_TYPE_STRING, 1, NULL, "\"x\"");
    CHECK(s2);
    CHECK_OK(commit_schema(cat, s2));
    CHECK_OK(commit_flush(cat, 3));

    CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &again));
    char why[200];
    CHECK_MSG(same_state(cat, again, why, sizeof why), "reopen: %s", why);
    const meru_schema *q = meru_catalog_schema_by_id(again, 1);
    CHECK(q);
    meru_column_def d;
    CHECK_OK(meru_schema_column_def(q, 4, &d));
    CHECK_STR(d.name, "qty");
    CHECK_STR(d.initial_default, "7");
    CHECK_STR(d.write_default, "8");
    CHECK_EQ_INT(d.field_id, 5);

    json_t *root = load_version(dir, meru_catalog_version(cat));
    CHECK(root);
    CHECK_EQ_INT(json_integer_value(json_object_get(root, "format-version")),
                 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(root, "current-schema-id")),
                 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(root, "last-column-id")),
                 6);
    json_t *schemas = json_object_get(root, "schemas");
    CHECK_EQ_INT(json_array_size(schemas), 3);
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ_INT(json_integer_value(json_object_get(
                         json_array_get(schemas, i), "schema-id")),
                     (long long)i);
    json_t *f4 = json_array_get(
        json_object_get(json_array_get(schemas, 1), "fields"), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(f4, "initial-default")), 7);
    CHECK_EQ_INT(json_integer_value(json_object_get(f4, "write-default")), 8);
    json_decref(root);

    meru_schema_free(s);
    meru_schema_free(s1);
    meru_schema_free(s2);
    meru_catalog_free(cat);
    meru_catalog_free(again);
}

/* The evolution rules: a refused schema writes nothing. Format version 2
 * takes only nullable columns without defaults; version 3 needs an initial
 * default for a NOT NULL column; ids, names, types, key are kept. */
static void test_catalog_schema_rules(void)
{
    const char *dir = tmpdir("cat-schema-rules");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL;
    CHECK(s);
    meru_catalog_options bad = {.format_version = 4};
    CHECK_RC(meru_catalog_create(meru_fs_posix(), dir, s, &bad, &cat),
             MERU_EINVAL);
    meru_catalog_options v2 = {.format_version = 2, .view_off = 1};
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, &v2, &cat));
    CHECK_EQ_INT(meru_catalog_iceberg_format_version(cat), 2);
    uint64_t v = meru_catalog_version(cat);

    /* v2: NOT NULL (even with an initial default) and defaults refused. */
    struct {
        int nullable;
        const char *init, *wr;
    } v2bad[] = {
        {0, NULL, NULL}, {0, "1", "1"}, {1, "1", NULL}, {1, NULL, "1"}};
    for (size_t i = 0; i < sizeof v2bad / sizeof v2bad[0]; i++) {
        meru_schema *x =
            plus_column(cat, "qty", MERU_TYPE_INT32, v2bad[i].nullable,
                        v2bad[i].init, v2bad[i].wr);
        CHECK(x);
        CHECK_RC(meru_catalog_check_schema_change(cat, x), MERU_ESCHEMA);
        CHECK(strstr(meru_errmsg(), "format-version 2"));
        CHECK_RC(commit_schema(cat, x), MERU_ESCHEMA);
        meru_schema_free(x);
    }
    CHECK_EQ_U64(meru_catalog_version(cat), v);

    /* Same columns: no change to commit. A wrong id, a changed or dropped
     * column, another key: refused. */
    meru_schema *same = NULL;
    CHECK_OK(meru_schema_clone(&same, meru_catalog_schema(cat)));
    CHECK_EQ_INT(meru_catalog_check_schema_change(cat, same), 0);
    CHECK_RC(commit_schema(cat, same), MERU_EINVAL);
    meru_schema_free(same);
    static const char *const bad_cols[] = {
        "id int64 not null, region string not null, price decimal(10,3), "
        "note string, x int",
        "id int64 not null, region string not null, price decimal(10,2)",
        "id int64 not null, region string not null, price decimal(10,2), "
        "note string not null, x int",
        "id int64 not null, region string not null, price decimal(10,2), "
        "notes string, x int",
    };
    for (size_t i = 0; i < sizeof bad_cols / sizeof bad_cols[0]; i++) {
        meru_schema *x = NULL;
        CHECK_OK(meru_schema_parse(&x, "orders", bad_cols[i], "region, id"));
        CHECK_RC(meru_catalog_check_schema_change(cat, x), MERU_ESCHEMA);
        meru_schema_free(x);
    }
    meru_schema *other_key = NULL;
    CHECK_OK(meru_schema_parse(&other_key, "orders",
                               "id int64 not null, region string not null, "
                               "price decimal(10,2), note string, x int",
                               "id"));
    CHECK_RC(meru_catalog_check_schema_change(cat, other_key), MERU_ESCHEMA);
    meru_schema_free(other_key);
    CHECK_EQ_U64(meru_catalog_version(cat), v);

    /* v2 accepts a nullable column without defaults. */
    meru_schema *x = plus_column(cat, "x", MERU_TYPE_INT32, 1, NULL, NULL);
    CHECK(x);
    CHECK_OK(commit_schema(cat, x));
    CHECK_EQ_INT(meru_catalog_current_schema_id(cat), 1);
    meru_schema_free(x);
    meru_catalog_free(cat);
    cat = NULL;

    /* A new field id must be above last-column-id, even when unused (an
     * id some writer assigned and dropped). */
    size_t len = 0;
    uint8_t *gold = meru_test_read_file(
        MERU_SOURCE_DIR "/fuzz/corpus/fuzz_catalog/v8_levels_props", &len);
    CHECK(gold);
    char *hi = strstr((char *)gold, "\"last-column-id\": 4");
    CHECK(hi);
    hi[strlen("\"last-column-id\": ")] = '9';
    CHECK_OK(meru_catalog_parse_metadata((char *)gold, len, &cat));
    free(gold);
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    CHECK_OK(meru_schema_clone(&x, meru_catalog_schema(cat)));
    d.name = "y";
    d.type = MERU_TYPE_INT32;
    d.field_id = 7;
    CHECK_OK(meru_schema_add_column_def(x, &d));
    CHECK_RC(meru_catalog_check_schema_change(cat, x), MERU_ESCHEMA);
    CHECK(strstr(meru_errmsg(), "last-column-id 9"));
    meru_schema_free(x);
    meru_catalog_free(cat);
    cat = NULL;

    /* A v2 table created with a write default keeps it, in merutable's own
     * key (v2 has no defaults); it reads back. */
    const char *dir2 = tmpdir("cat-schema-v2-default");
    meru_schema *wd = NULL;
    CHECK_OK(meru_schema_parse(&wd, "t",
                               "id int64 not null, n int32 not "
                               "null default 5",
                               "id"));
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir2, wd, &v2, &cat));
    json_t *root = load_version(dir2, 1);
    CHECK(root);
    char *text = json_dumps(root, JSON_COMPACT);
    CHECK(text);
    CHECK(!strstr(text, "\"write-default\""));
    CHECK(!strstr(text, "\"initial-default\""));
    CHECK(strstr(text, "\"merutable.write-default\":5"));
    free(text);
    json_decref(root);
    meru_catalog *re = NULL;
    CHECK_OK(meru_catalog_open(meru_fs_posix(), dir2, NOVIEW, &re));
    CHECK_OK(meru_schema_column_def(meru_catalog_schema(re), 1, &d));
    CHECK_STR(d.write_default, "5");
    meru_catalog_free(re);
    meru_catalog_free(cat);
    cat = NULL;

    /* v3: a NOT NULL column needs an initial default. */
    const char *dir3 = tmpdir("cat-schema-v3");
    meru_catalog_options v3 = {.format_version = 3, .view_off = 1};
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir3, s, &v3, &cat));
    x = plus_column(cat, "qty", MERU_TYPE_INT32, 0, NULL, "1");
    CHECK(x);
    CHECK_RC(commit_schema(cat, x), MERU_ESCHEMA);
    CHECK(strstr(meru_errmsg(), "initial"));
    meru_schema_free(x);
    x = plus_column(cat, "qty", MERU_TYPE_INT32, 0, "1", NULL);
    CHECK(x);
    CHECK_OK(commit_schema(cat, x));
    meru_schema_free(x);
    x = plus_column(cat, "tag", MERU_TYPE_STRING, 1, NULL, "\"t\"");
    CHECK(x);
    CHECK_OK(commit_schema(cat, x));
    meru_schema_free(x);
    CHECK_EQ_INT(meru_catalog_current_schema_id(cat), 2);
    meru_catalog_free(cat);
    meru_schema_free(wd);
    meru_schema_free(s);
}

/* Metadata written before schema ids (format-version 2, one schema with
 * id 0 widened in place, Iceberg v3 default keys in it) still opens with
 * its defaults; a commit writes it back as clean v2. And a golden v3 file
 * with three schemas reads as written. */
static void test_catalog_reads_old_and_v3_schema_metadata(void)
{
    size_t len = 0;
    meru_catalog *cat = NULL;
    meru_column_def d;
    uint8_t *text = meru_test_read_file(
        MERU_SOURCE_DIR "/fuzz/corpus/fuzz_catalog/v9_widened_in_place", &len);
    CHECK(text);
    CHECK_OK(meru_catalog_parse_metadata((const char *)text, len, &cat));
    free(text);
    size_t n;
    meru_catalog_schemas(cat, &n);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(meru_catalog_iceberg_format_version(cat), 2);
    CHECK_EQ_INT(meru_catalog_current_schema_id(cat), 0);
    CHECK_EQ_INT(meru_catalog_last_column_id(cat), 5);
    CHECK_OK(meru_schema_column_def(meru_catalog_schema(cat), 4, &d));
    CHECK_STR(d.initial_default, "7");
    const meru_catalog_snapshot *sn = meru_catalog_snapshots(cat, &n);
    CHECK_EQ_INT(sn[n - 1].schema_id, 0);
    meru_buf b = {0};
    CHECK_OK(meru_catalog_to_json(cat, &b));
    CHECK(meru_buf_push(&b, 0) == MERU_OK);
    CHECK(!strstr((char *)b.data, "\"initial-default\""));
    CHECK(strstr((char *)b.data, "\"merutable.initial-default\": 7"));
    meru_catalog *back = NULL;
    CHECK_OK(meru_catalog_parse_metadata((char *)b.data, b.len - 1, &back));
    CHECK_OK(meru_schema_column_def(meru_catalog_schema(back), 4, &d));
    CHECK_STR(d.initial_default, "7");
    CHECK_STR(d.write_default, "7");
    meru_catalog_free(back);
    meru_buf_free(&b);
    meru_catalog_free(cat);

    text = meru_test_read_file(
        MERU_SOURCE_DIR "/fuzz/corpus/fuzz_catalog/v9_three_schemas_v3", &len);
    CHECK(text);
    CHECK_OK(meru_catalog_parse_metadata((const char *)text, len, &cat));
    free(text);
    const meru_schema *const *all = meru_catalog_schemas(cat, &n);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(meru_catalog_iceberg_format_version(cat), 3);
    CHECK_EQ_INT(meru_catalog_current_schema_id(cat), 2);
    CHECK_EQ_INT(meru_catalog_last_column_id(cat), 6);
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(meru_schema_id(all[i]), (int)i);
        CHECK_EQ_INT(meru_schema_column_count(all[i]), 4 + i);
    }
    CHECK_OK(meru_schema_column_def(all[2], 5, &d));
    CHECK_STR(d.name, "tag");
    CHECK(d.initial_default == NULL);
    CHECK_STR(d.write_default, "\"x\"");
    sn = meru_catalog_snapshots(cat, &n);
    CHECK_EQ_INT(n, 6);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_INT(sn[i].schema_id, (int)(i / 2));
    meru_catalog_free(cat);
}

int main(void)
{
    MERU_TEST_RUN(test_catalog_schema_changes_get_new_ids);
    MERU_TEST_RUN(test_catalog_schema_rules);
    MERU_TEST_RUN(test_catalog_reads_old_and_v3_schema_metadata);
    return meru_test_finish();
}
