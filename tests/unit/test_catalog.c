/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_catalog.c — the version set: commits round-trip through reopen, the
 * written metadata is Iceberg table metadata (v2) and a golden file still
 * reads the same, bad edits are refused and change nothing, properties are
 * kept, old versions are trimmed to K, deletion vectors follow commits, and
 * the orphan sweep finds exactly the unreferenced files. Crashes, damage and
 * failed writes are in test_catalog_recovery.c; schema changes and their
 * ids in test_catalog_schema.c.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog.h"
#include "catalog/catalog_internal.h"
#include "catalog_test.h"
#include "test.h"
#include "util/fs.h"

static void test_catalog_commits_survive_reopen(void)
{
    const char *dir = tmpdir("cat-roundtrip");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL, *re = NULL;
    meru_catalog_edit *e = NULL;
    CHECK(s);
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, NOVIEW, &cat));
    meru_schema_free(s);
    CHECK_EQ_U64(meru_catalog_version(cat), 1);
    CHECK_EQ_INT(meru_catalog_current_snapshot_id(cat), -1);
    CHECK_OK(commit_flush(cat, 1));
    CHECK_OK(commit_flush(cat, 2));
    CHECK_OK(commit_compact(cat, 3));
    CHECK_OK(commit_flush(cat, 4));

    /* A deletion vector, binary keys with NUL and 0xff bytes, a property. */
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    static const uint8_t lo[] = {0x00, 0x01, 0xff}, hi[] = {0xff, 0x00};
    meru_catalog_file f = mkfile(2, "data/L2/bin.parquet", 1, 5, "", "");
    f.smallest = (uint8_t *)lo;
    f.smallest_len = sizeof lo;
    f.largest = (uint8_t *)hi;
    f.largest_len = sizeof hi;
    f.dv_path = "data/L2/bin-7.puffin";
    f.dv_cardinality = 3;
    CHECK_OK(meru_catalog_edit_add_file(e, &f));
    CHECK_OK(meru_catalog_edit_set_property(e, "owner", "tests"));
    CHECK_OK(meru_catalog_commit(cat, e));
    meru_catalog_edit_free(e);
    e = NULL;
    /* An edit without file changes: new version, same snapshot. */
    int64_t snap = meru_catalog_current_snapshot_id(cat);
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    meru_catalog_edit_set_wal(e, 9, 12);
    CHECK_OK(meru_catalog_commit(cat, e));
    meru_catalog_edit_free(e);
    CHECK_EQ_U64(meru_catalog_version(cat), 7);
    CHECK_EQ_INT(meru_catalog_current_snapshot_id(cat), snap);

    size_t n;
    const meru_catalog_file *files = meru_catalog_files(cat, &n);
    CHECK_EQ_INT(n, 3);
    CHECK_STR(files[0].path, "data/L0/flush-004.parquet");
    CHECK_STR(files[1].path, "data/L1/compact-003.parquet");
    CHECK_EQ_U64(files[1].min_seq, 1);
    CHECK_EQ_U64(files[1].max_seq, 20);
    CHECK_EQ_U64(files[1].row_count, 20);
    /* The view's fields are the catalog's: an added file's are cleared. */
    CHECK(files[2].dv_path == NULL);
    /* With the view off there is no Iceberg snapshot (test_catalog_view). */
    meru_catalog_snapshots(cat, &n);
    CHECK_EQ_INT(n, 0);

    CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &re));
    char why[128] = "";
    CHECK_MSG(same_state(cat, re, why, sizeof why), "reopen differs: %s", why);
    CHECK_STR(meru_catalog_property(re, "owner"), "tests");
    CHECK_EQ_INT(meru_catalog_get_stats(re)->versions_skipped, 0);
    CHECK_EQ_INT(meru_catalog_get_stats(re)->hint_version, 7);
    uint64_t o, nx;
    meru_catalog_wal(re, &o, &nx);
    CHECK_EQ_U64(o, 9);
    CHECK_EQ_U64(nx, 12);
    /* The reopened handle keeps committing. */
    CHECK_OK(commit_flush(re, 11));
    CHECK_EQ_U64(meru_catalog_version(re), 8);
    meru_catalog_free(re);
    re = NULL;
    CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &re));
    CHECK_EQ_U64(meru_catalog_version(re), 8);
    meru_catalog_files(re, &n);
    CHECK_EQ_INT(n, 4);
    meru_catalog_free(re);
    meru_catalog_free(cat);
}

static void test_catalog_metadata_is_iceberg_v2(void)
{
    const char *dir = tmpdir("cat-iceberg");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL;
    meru_catalog_options v2 = {0, 0, 2, 1, NULL, 0};
    CHECK(s);
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, &v2, &cat));
    meru_schema_free(s);
    CHECK_OK(commit_flush(cat, 1));
    CHECK_OK(commit_flush(cat, 2));
    CHECK_OK(commit_compact(cat, 3));
    json_t *m = load_version(dir, 4);
    CHECK(m);
#define FAIL_JSON(cond)                                                        \
    do {                                                                       \
        if (!(cond)) {                                                         \
            json_decref(m);                                                    \
            meru_catalog_free(cat);                                            \
            CHECK(cond);                                                       \
        }                                                                      \
    } while (0)
    FAIL_JSON(json_integer_value(json_object_get(m, "format-version")) == 2);
    const char *uuid = json_string_value(json_object_get(m, "table-uuid"));
    FAIL_JSON(uuid && strlen(uuid) == 36 && uuid[8] == '-' && uuid[14] == '4');
    FAIL_JSON(!strcmp(uuid, meru_catalog_uuid(cat)));
    const char *loc = json_string_value(json_object_get(m, "location"));
    FAIL_JSON(loc && loc[0] == '/' && strstr(loc, "cat-iceberg"));
    FAIL_JSON(json_is_integer(json_object_get(m, "last-sequence-number")));
    FAIL_JSON(json_integer_value(json_object_get(m, "last-sequence-number")) ==
              0);
    FAIL_JSON(json_integer_value(json_object_get(m, "last-updated-ms")) >
              1600000000000LL);
    FAIL_JSON(json_integer_value(json_object_get(m, "last-column-id")) == 4);
    json_t *schemas = json_object_get(m, "schemas");
    FAIL_JSON(json_array_size(schemas) == 1);
    json_t *s0 = json_array_get(schemas, 0);
    FAIL_JSON(json_integer_value(json_object_get(s0, "schema-id")) == 0);
    FAIL_JSON(
        !strcmp(json_string_value(json_object_get(s0, "type")), "struct"));
    json_t *ids = json_object_get(s0, "identifier-field-ids");
    FAIL_JSON(json_array_size(ids) == 2);
    FAIL_JSON(json_integer_value(json_array_get(ids, 0)) == 2);
    FAIL_JSON(json_integer_value(json_array_get(ids, 1)) == 1);
    FAIL_JSON(json_integer_value(json_object_get(m, "current-schema-id")) == 0);
    json_t *spec = json_array_get(json_object_get(m, "partition-specs"), 0);
    FAIL_JSON(json_integer_value(json_object_get(spec, "spec-id")) == 0);
    FAIL_JSON(json_array_size(json_object_get(spec, "fields")) == 0);
    FAIL_JSON(json_integer_value(json_object_get(m, "default-spec-id")) == 0);
    FAIL_JSON(json_integer_value(json_object_get(m, "last-partition-id")) ==
              999);
    json_t *order = json_array_get(json_object_get(m, "sort-orders"), 0);
    FAIL_JSON(json_integer_value(json_object_get(order, "order-id")) == 1);
    FAIL_JSON(json_integer_value(json_object_get(m, "default-sort-order-id")) ==
              1);
    json_t *ofields = json_object_get(order, "fields");
    FAIL_JSON(json_array_size(ofields) == 2);
    json_t *of0 = json_array_get(ofields, 0);
    FAIL_JSON(json_integer_value(json_object_get(of0, "source-id")) == 2);
    FAIL_JSON(!strcmp(json_string_value(json_object_get(of0, "transform")),
                      "identity"));
    FAIL_JSON(
        !strcmp(json_string_value(json_object_get(of0, "direction")), "asc"));
    FAIL_JSON(!strcmp(json_string_value(json_object_get(of0, "null-order")),
                      "nulls-first"));
    json_t *props = json_object_get(m, "properties");
    FAIL_JSON(
        json_is_string(json_object_get(props, "merutable.format-version")));

    /* The view is off: no snapshot, so nothing names a missing file. */
    FAIL_JSON(json_array_size(json_object_get(m, "snapshots")) == 0);
    FAIL_JSON(json_integer_value(json_object_get(m, "current-snapshot-id")) ==
              -1);
    FAIL_JSON(json_object_get(m, "next-row-id") == NULL); /* v3 only */
    json_t *mlog = json_object_get(m, "metadata-log");
    FAIL_JSON(json_array_size(mlog) == 3);
    const char *mf = json_string_value(
        json_object_get(json_array_get(mlog, 2), "metadata-file"));
    FAIL_JSON(mf && strstr(mf, "/metadata/v3.metadata.json"));

    /* The engine section. */
    json_t *eng = json_object_get(m, "merutable");
    FAIL_JSON(json_integer_value(json_object_get(eng, "last-sequence")) == 20);
    json_t *wal = json_object_get(eng, "wal");
    FAIL_JSON(json_integer_value(json_object_get(wal, "oldest-live-segment")) ==
              3);
    json_t *levels = json_object_get(eng, "levels");
    FAIL_JSON(json_array_size(levels) == 1);
    json_t *l1 = json_array_get(levels, 0);
    FAIL_JSON(json_integer_value(json_object_get(l1, "level")) == 1);
    json_t *f0 = json_array_get(json_object_get(l1, "files"), 0);
    FAIL_JSON(!strcmp(json_string_value(json_object_get(f0, "smallest-key")),
                      "6d303033")); /* "m003" */
    json_decref(m);
#undef FAIL_JSON

    /* The hint names the newest version. */
    char path[1200];
    path_in(path, sizeof path, dir, "metadata/version-hint.text");
    size_t len = 0;
    uint8_t *hint = meru_test_read_file(path, &len);
    CHECK(hint);
    int hint_ok = len == 1 && hint[0] == '4';
    free(hint);
    CHECK(hint_ok);
    meru_catalog_free(cat);
}

static void test_catalog_keeps_k_versions(void)
{
    const char *dir = tmpdir("cat-keep");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL, *re = NULL;
    meru_catalog_options opts = {.keep_versions = 3, .view_off = 1};
    CHECK(s);
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, &opts, &cat));
    meru_schema_free(s);
    for (int i = 1; i <= 6; i++)
        CHECK_OK(commit_flush(cat, i));
    CHECK_EQ_U64(meru_catalog_version(cat), 7);
    char path[1200];
    for (int v = 1; v <= 7; v++) {
        char rel[64];
        snprintf(rel, sizeof rel, "metadata/v%d.metadata.json", v);
        path_in(path, sizeof path, dir, rel);
        CHECK_MSG(file_exists(path) == (v >= 5), "v%d exists=%d", v,
                  file_exists(path));
    }
    CHECK_EQ_U64(meru_catalog_get_stats(cat)->versions_removed, 4);
    json_t *m = load_version(dir, 7);
    CHECK(m);
    json_t *mlog = json_object_get(m, "metadata-log");
    int ok = json_array_size(mlog) == 2 &&
             strstr(json_string_value(json_object_get(json_array_get(mlog, 0),
                                                      "metadata-file")),
                    "/v5.metadata.json") &&
             strstr(json_string_value(json_object_get(json_array_get(mlog, 1),
                                                      "metadata-file")),
                    "/v6.metadata.json");
    json_decref(m);
    CHECK(ok);
    /* K = 1: only the current version stays. */
    meru_catalog_options one = {.keep_versions = 1, .view_off = 1};
    CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, &one, &re));
    CHECK_OK(commit_flush(re, 7));
    for (int v = 5; v <= 8; v++) {
        char rel[64];
        snprintf(rel, sizeof rel, "metadata/v%d.metadata.json", v);
        path_in(path, sizeof path, dir, rel);
        CHECK_MSG(file_exists(path) == (v == 8), "K=1: v%d", v);
    }
    meru_catalog_free(re);
    meru_catalog_free(cat);
}

static void test_catalog_snapshot_history_is_bounded(void)
{
    const char *dir = tmpdir("cat-snaps");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL, *re = NULL;
    meru_catalog_options opts = {.keep_snapshots = 3, .view_off = 1};
    CHECK(s);
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, &opts, &cat));
    meru_schema_free(s);
    for (int i = 1; i <= 5; i++)
        CHECK_OK(commit_flush(cat, i));
    size_t n;
    meru_catalog_snapshots(cat, &n);
    CHECK_EQ_INT(n, 0); /* view off: none (test_catalog_view has them) */
    CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, &opts, &re));
    char why[128] = "";
    CHECK_MSG(same_state(cat, re, why, sizeof why), "differs: %s", why);
    meru_catalog_free(re);
    meru_catalog_free(cat);
}

static void test_catalog_rejects_bad_edits_and_changes_nothing(void)
{
    const char *dir = tmpdir("cat-badedit");
    meru_catalog *cat = NULL;
    meru_catalog_edit *e = NULL;
    CHECK_OK(make_v4(dir, &cat));
    size_t n;
    const meru_catalog_file *cur = meru_catalog_files(cat, &n);
    char existing[64];
    snprintf(existing, sizeof existing, "%s", cur[0].path);
    for (int t = 0; t < 10; t++) {
        CHECK_OK(meru_catalog_edit_new(cat, &e));
        meru_catalog_file f = mkfile(1, "data/L1/x.parquet", 1, 2, "a", "b");
        meru_catalog_file g = mkfile(1, "data/L1/y.parquet", 1, 2, "ab", "c");
        switch (t) {
        case 0:
            f.path = existing;
            f.level = 0;
            break; /* duplicate path */
        case 1:
            CHECK_OK(meru_catalog_edit_remove_file(e, "data/L0/no"));
            break;
        case 2:
            CHECK_OK(meru_catalog_edit_add_file(e, &g));
            break; /* overlap */
        case 3:
            f.min_seq = 5;
            f.max_seq = 4;
            break;
        case 4:
            f.smallest = (uint8_t *)"z";
            break;
        case 5:
            f.path = "../escape.parquet";
            break;
        case 6:
            meru_catalog_edit_set_last_sequence(e, 1);
            break;
        case 7:
            f.max_seq = 1000;
            break; /* beyond the last sequence */
        case 8:
        case 9: /* the same file removed twice */
            CHECK_OK(meru_catalog_edit_remove_file(e, existing));
            CHECK_OK(meru_catalog_edit_remove_file(e, existing));
            break;
            meru_catalog_edit_set_wal(e, 10, 2);
            break;
        }
        CHECK_OK(meru_catalog_edit_add_file(e, &f));
        CHECK_RC(meru_catalog_commit(cat, e), MERU_EINVAL);
        meru_catalog_edit_free(e);
        e = NULL;
        CHECK_EQ_U64(meru_catalog_version(cat), 4);
        meru_catalog_files(cat, &n);
        CHECK_EQ_INT(n, 3);
    }
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    /* The keys the catalog writes itself are not for edits. */
    CHECK_RC(meru_catalog_edit_set_property(e, "merutable.format-version", "1"),
             MERU_EINVAL);
    CHECK_RC(meru_catalog_edit_set_property(
                 e, "write.metadata.previous-versions-max", "3"),
             MERU_EINVAL);
    CHECK_RC(meru_catalog_edit_set_operation(e, "truncate"), MERU_EINVAL);
    meru_catalog_edit_free(e);
    /* Still commits fine afterwards. */
    CHECK_OK(commit_flush(cat, 5));
    CHECK_EQ_U64(meru_catalog_version(cat), 5);
    /* Properties: set, then removed with NULL; both survive reopen. */
    meru_catalog *re = NULL;
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    CHECK_OK(meru_catalog_edit_set_property(e, "a", "1"));
    CHECK_OK(meru_catalog_edit_set_property(e, "b", "2"));
    /* Other engine keys are the engine's to store. */
    CHECK_OK(meru_catalog_edit_set_property(e, "merutable.l0.page-size-bytes",
                                            "4096"));
    CHECK_OK(meru_catalog_commit(cat, e));
    meru_catalog_edit_free(e);
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    CHECK_OK(meru_catalog_edit_set_property(e, "a", NULL));
    CHECK_OK(meru_catalog_commit(cat, e));
    meru_catalog_edit_free(e);
    CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &re));
    CHECK(meru_catalog_property(re, "a") == NULL);
    CHECK_STR(meru_catalog_property(re, "b"), "2");
    CHECK_STR(meru_catalog_property(re, "merutable.l0.page-size-bytes"),
              "4096");
    CHECK(meru_catalog_property(re, "merutable.format-version") == NULL);
    size_t np = 0;
    meru_catalog_properties(re, &np);
    CHECK_EQ_INT(np, 2);
    meru_catalog_free(re);
    meru_catalog_free(cat);
}

static void test_catalog_create_with_properties(void)
{
    const char *dir = tmpdir("cat-create-props");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL, *re = NULL;
    meru_catalog_kv kv[2] = {{"owner", "tests"},
                             {"write.parquet.compression-codec", "snappy"}};
    meru_catalog_options o = {0, 0, 0, 1, kv, 2};
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, &o, &cat));
    CHECK_EQ_U64(meru_catalog_version(cat), 1);
    CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &re));
    CHECK_STR(meru_catalog_property(re, "owner"), "tests");
    CHECK_STR(meru_catalog_property(re, "write.parquet.compression-codec"),
              "snappy");
    meru_catalog_free(re);
    meru_catalog_free(cat);
    /* A key the catalog writes itself is refused, and nothing is made. */
    const char *dir2 = tmpdir("cat-create-props2");
    meru_catalog_kv bad[1] = {{"write.metadata.previous-versions-max", "1"}};
    meru_catalog_options o2 = {0, 0, 0, 1, bad, 1};
    CHECK_RC(meru_catalog_create(meru_fs_posix(), dir2, s, &o2, &cat),
             MERU_EINVAL);
    CHECK(cat == NULL);
    meru_schema_free(s);
}

static void test_catalog_orphan_sweep_finds_unreferenced_files(void)
{
    const char *dir = tmpdir("cat-orphans");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL;
    meru_catalog_edit *e = NULL;
    char path[1200];
    CHECK(s);
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, NOVIEW, &cat));
    meru_schema_free(s);
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    meru_catalog_file a = mkfile(0, "data/L0/a.parquet", 1, 2, "a", "b");
    meru_catalog_file b = mkfile(1, "data/L1/b.parquet", 1, 2, "a", "b");
    b.dv_path = "data/L1/b-1.puffin";
    meru_catalog_edit_set_last_sequence(e, 2);
    CHECK_OK(meru_catalog_edit_add_file(e, &a));
    CHECK_OK(meru_catalog_edit_add_file(e, &b));
    CHECK_OK(meru_catalog_commit(cat, e));
    meru_catalog_edit_free(e);

    static const char *dirs[] = {"data/L0", "data/L1", "data/L2", "data/other",
                                 "data/L0/sub"};
    for (size_t i = 0; i < 5; i++) {
        path_in(path, sizeof path, dir, dirs[i]);
        CHECK_EQ_INT(mkdir(path, 0755), 0);
    }
    static const char *files[] = {
        "data/L0/a.parquet",      "data/L1/b.parquet", "data/L1/b-1.puffin",
        "data/L0/orphan.parquet", "data/L1/x.tmp",     "data/L2/c.parquet",
        "data/other/y.parquet"};
    for (size_t i = 0; i < 7; i++) {
        path_in(path, sizeof path, dir, files[i]);
        CHECK_EQ_INT(write_file(path, "x", 1), 0);
    }
    char **refs = NULL;
    size_t nrefs = 0;
    CHECK_OK(meru_catalog_referenced_files(cat, &refs, &nrefs));
    CHECK_EQ_INT(nrefs, 2); /* an added file's dv_path is not kept */
    CHECK_STR(refs[0], "data/L0/a.parquet");
    CHECK_STR(refs[1], "data/L1/b.parquet");
    meru_catalog_paths_free(refs, nrefs);

    char **orph = NULL;
    size_t norph = 0;
    CHECK_OK(meru_catalog_sweep_orphans(cat, 0, &orph, &norph));
    CHECK_EQ_INT(norph, 4);
    CHECK_STR(orph[0], "data/L0/orphan.parquet");
    CHECK_STR(orph[1], "data/L1/b-1.puffin");
    CHECK_STR(orph[2], "data/L1/x.tmp");
    CHECK_STR(orph[3], "data/L2/c.parquet");
    meru_catalog_paths_free(orph, norph);
    for (size_t i = 0; i < 7; i++) {
        path_in(path, sizeof path, dir, files[i]);
        CHECK_MSG(file_exists(path), "listing removed %s", files[i]);
    }
    CHECK_OK(meru_catalog_sweep_orphans(cat, 1, NULL, NULL));
    for (size_t i = 0; i < 7; i++) {
        path_in(path, sizeof path, dir, files[i]);
        int orphan = i >= 2 && i <= 5;
        CHECK_MSG(file_exists(path) == !orphan, "%s exists=%d", files[i],
                  file_exists(path));
    }
    CHECK_OK(meru_catalog_sweep_orphans(cat, 0, &orph, &norph));
    CHECK_EQ_INT(norph, 0);
    meru_catalog_paths_free(orph, norph);
    meru_catalog_free(cat);
}

/* A metadata file written by this module (kept as a fuzz seed) still reads
 * the same: the on-disk format does not drift silently. */
static void test_catalog_reads_golden_metadata(void)
{
    size_t len = 0;
    uint8_t *text = meru_test_read_file(
        MERU_SOURCE_DIR "/fuzz/corpus/fuzz_catalog/v8_levels_props", &len);
    meru_catalog *cat = NULL;
    CHECK(text);
    int rc = meru_catalog_parse_metadata((const char *)text, len, &cat);
    free(text);
    CHECK_OK(rc);
    CHECK_STR(meru_catalog_uuid(cat), "e9ae708e-ddd9-4131-9f4e-0281b51cd41c");
    CHECK_STR(meru_catalog_location(cat), "/tables/orders");
    CHECK_EQ_U64(meru_catalog_last_sequence(cat), 40);
    CHECK_EQ_U64(meru_catalog_next_file_number(cat), 40);
    uint64_t o, n;
    meru_catalog_wal(cat, &o, &n);
    CHECK_EQ_U64(o, 12);
    CHECK_EQ_U64(n, 13);
    CHECK_EQ_INT(meru_catalog_current_snapshot_id(cat), 198967288512497835LL);
    size_t nf, ns;
    const meru_catalog_file *f = meru_catalog_files(cat, &nf);
    meru_catalog_snapshots(cat, &ns);
    CHECK_EQ_INT(ns, 6);
    CHECK_EQ_INT(nf, 4);
    CHECK_STR(f[0].path, "data/L0/flush-011.parquet");
    CHECK_STR(f[1].path, "data/L0/flush-004.parquet");
    CHECK_EQ_INT(f[2].level, 1);
    CHECK_EQ_U64(f[2].row_count, 20);
    CHECK_EQ_INT(f[3].level, 2);
    CHECK_EQ_INT(f[3].smallest_len, 3);
    CHECK_MEM(f[3].smallest, "\x00\x01\xff", 3);
    CHECK_STR(f[3].dv_path, "data/L2/bin-7.puffin");
    CHECK_EQ_U64(f[3].dv_cardinality, 3);
    CHECK_STR(meru_catalog_property(cat, "owner"), "tests");
    CHECK(meru_catalog_property(cat, "merutable.format-version") == NULL);
    const meru_schema *s = meru_catalog_schema(cat);
    CHECK_EQ_INT(meru_schema_column_count(s), 4);
    CHECK_EQ_INT(meru_schema_key_count(s), 2);
    CHECK_STR(meru_schema_column_name(s, (size_t)meru_schema_key_column(s, 0)),
              "region");
    meru_catalog_free(cat);
}

/* Deletion vectors: set with a commit, checked (unknown file, position
 * past the rows, shrinking), replaced, dropped with the file. */
static void test_catalog_deletion_vectors_follow_commits(void)
{
    const char *dir = tmpdir("catalog_dv");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL;
    meru_catalog_edit *e = NULL;
    meru_dv *dv = NULL, *got = NULL;
    meru_catalog_file a = mkfile(0, "data/L0/a.parquet", 1, 10, "a", "m");
    meru_catalog_file b = mkfile(0, "data/L0/b.parquet", 11, 20, "b", "z");
    CHECK(s);
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, NOVIEW, &cat));
    CHECK_OK(meru_dv_new(&dv));
    CHECK_OK(meru_dv_add(dv, 3));
    /* A vector for a file added by the same edit. */
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    meru_catalog_edit_set_last_sequence(e, 100);
    CHECK_OK(meru_catalog_edit_add_file(e, &a));
    CHECK_OK(meru_catalog_edit_set_dv(e, a.path, dv));
    CHECK_RC(meru_catalog_edit_set_dv(e, a.path, dv), MERU_EINVAL);
    CHECK_OK(meru_catalog_commit(cat, e));
    meru_catalog_edit_free(e);
    CHECK_EQ_U64(meru_catalog_file_dv_cardinality(cat, a.path), 1);
    CHECK_OK(meru_catalog_file_dv(cat, b.path, &got));
    CHECK(got == NULL);
    /* Unknown file, a position past the rows, a vector that shrinks: each
     * refused, nothing committed. */
    uint64_t v = meru_catalog_version(cat);
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    CHECK_OK(meru_catalog_edit_set_dv(e, b.path, dv));
    CHECK_RC(meru_catalog_commit(cat, e), MERU_EINVAL);
    meru_catalog_edit_free(e);
    meru_dv *big = NULL;
    CHECK_OK(meru_dv_new(&big));
    CHECK_OK(meru_dv_add(big, a.row_count));
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    CHECK_OK(meru_catalog_edit_set_dv(e, a.path, big));
    CHECK_RC(meru_catalog_commit(cat, e), MERU_EINVAL);
    CHECK_ERRMSG("holds position 10 of a 10-row file");
    meru_catalog_edit_free(e);
    meru_dv_free(big);
    meru_dv *other = NULL;
    CHECK_OK(meru_dv_new(&other));
    CHECK_OK(meru_dv_add(other, 4));
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    CHECK_OK(meru_catalog_edit_set_dv(e, a.path, other));
    CHECK_RC(meru_catalog_commit(cat, e), MERU_EINVAL);
    CHECK_ERRMSG("drops positions");
    meru_catalog_edit_free(e);
    CHECK_EQ_U64(meru_catalog_version(cat), v);
    CHECK_EQ_U64(meru_catalog_file_dv_cardinality(cat, a.path), 1);
    /* A growing vector replaces the old one; a second file gets its own. */
    CHECK_OK(meru_dv_add(other, 3));
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    CHECK_OK(meru_catalog_edit_add_file(e, &b));
    CHECK_OK(meru_catalog_edit_set_dv(e, a.path, other));
    CHECK_OK(meru_catalog_edit_set_dv(e, b.path, dv));
    CHECK_OK(meru_catalog_commit(cat, e));
    meru_catalog_edit_free(e);
    CHECK_OK(meru_catalog_file_dv(cat, a.path, &got));
    CHECK(got && meru_dv_equal(got, other));
    meru_dv_free(got);
    CHECK_EQ_U64(meru_catalog_file_dv_cardinality(cat, b.path), 1);
    /* Removing a file drops its vector; the other stays. */
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    CHECK_OK(meru_catalog_edit_remove_file(e, a.path));
    CHECK_OK(meru_catalog_commit(cat, e));
    meru_catalog_edit_free(e);
    CHECK_EQ_U64(meru_catalog_file_dv_cardinality(cat, a.path), 0);
    CHECK_EQ_U64(meru_catalog_file_dv_cardinality(cat, b.path), 1);
    meru_dv_free(other);
    meru_dv_free(dv);
    meru_catalog_free(cat);
    meru_schema_free(s);
}

/* A move gives a file another level and keeps the rest of its entry (its
 * path, its deletion vector); each bad move is refused and changes
 * nothing. (That a move writes no Iceberg snapshot needs the view:
 * test_db_move.) */
static void test_catalog_move_changes_only_the_level(void)
{
    const char *dir = tmpdir("catalog_move");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL, *re = NULL;
    meru_catalog_edit *e = NULL;
    meru_dv *dv = NULL;
    meru_catalog_file a = mkfile(1, "data/L1/a.parquet", 1, 10, "a", "f");
    meru_catalog_file b = mkfile(1, "data/L1/b.parquet", 11, 20, "n", "z");
    meru_catalog_file c = mkfile(2, "data/L2/c.parquet", 21, 30, "e", "g");
    CHECK(s);
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, NOVIEW, &cat));
    CHECK_OK(meru_dv_new(&dv));
    CHECK_OK(meru_dv_add(dv, 2));
    CHECK_OK(meru_catalog_edit_new(cat, &e));
    meru_catalog_edit_set_last_sequence(e, 100);
    CHECK_OK(meru_catalog_edit_add_file(e, &a));
    CHECK_OK(meru_catalog_edit_add_file(e, &b));
    CHECK_OK(meru_catalog_edit_add_file(e, &c));
    CHECK_OK(meru_catalog_edit_set_dv(e, b.path, dv));
    CHECK_OK(meru_catalog_commit(cat, e));
    meru_catalog_edit_free(e);
    uint64_t v = meru_catalog_version(cat);
    size_t n = 0;

    /* Refused: a file not in the table, a file removed by the same edit,
     * one moved twice, a level out of range, an overlap in the new level
     * (a's keys meet c's). */
    static const char *const why[5] = {"is not in the table",
                                       "is not in the table", "moved twice",
                                       "out of range", "overlap"};
    for (int t = 0; t < 5; t++) {
        CHECK_OK(meru_catalog_edit_new(cat, &e));
        switch (t) {
        case 0:
            CHECK_OK(meru_catalog_edit_move_file(e, "data/L1/no.parquet", 2));
            break;
        case 1:
            CHECK_OK(meru_catalog_edit_remove_file(e, b.path));
            CHECK_OK(meru_catalog_edit_move_file(e, b.path, 2));
            break;
        case 2:
            CHECK_OK(meru_catalog_edit_move_file(e, b.path, 2));
            CHECK_OK(meru_catalog_edit_move_file(e, b.path, 3));
            break;
        case 3:
            CHECK_OK(meru_catalog_edit_move_file(e, b.path,
                                                 MERU_CATALOG_MAX_LEVELS));
            break;
        case 4:
            CHECK_OK(meru_catalog_edit_move_file(e, a.path, 2));
            break;
        }
        CHECK_RC(meru_catalog_commit(cat, e), MERU_EINVAL);
        CHECK_ERRMSG(why[t]);
        meru_catalog_edit_free(e);
        CHECK_EQ_U64(meru_catalog_version(cat), v);
    }

    CHECK_OK(meru_catalog_edit_new(cat, &e));
    CHECK_OK(meru_catalog_edit_move_file(e, b.path, 2));
    CHECK_OK(meru_catalog_commit(cat, e));
    meru_catalog_edit_free(e);
    CHECK_EQ_U64(meru_catalog_version(cat), v + 1);
    for (int pass = 0; pass < 2; pass++) {
        meru_catalog *k = pass ? re : cat;
        const meru_catalog_file *f = meru_catalog_files(k, &n);
        CHECK_EQ_INT(n, 3);
        /* Sorted by level, then key: a (L1), then c and b (L2). */
        CHECK_STR(f[0].path, a.path);
        CHECK_EQ_INT(f[0].level, 1);
        CHECK_STR(f[1].path, c.path);
        CHECK_STR(f[2].path, b.path);
        CHECK_EQ_INT(f[2].level, 2);
        CHECK_EQ_U64(f[2].row_count, b.row_count);
        /* (Without the view vectors live in memory only: not reopened.) */
        if (!pass)
            CHECK_EQ_U64(meru_catalog_file_dv_cardinality(k, b.path), 1);
        if (!pass)
            CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &re));
    }
    meru_catalog_free(re);
    meru_dv_free(dv);
    meru_catalog_free(cat);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_catalog_commits_survive_reopen);
    MERU_TEST_RUN(test_catalog_metadata_is_iceberg_v2);
    MERU_TEST_RUN(test_catalog_keeps_k_versions);
    MERU_TEST_RUN(test_catalog_snapshot_history_is_bounded);
    MERU_TEST_RUN(test_catalog_rejects_bad_edits_and_changes_nothing);
    MERU_TEST_RUN(test_catalog_create_with_properties);
    MERU_TEST_RUN(test_catalog_orphan_sweep_finds_unreferenced_files);
    MERU_TEST_RUN(test_catalog_reads_golden_metadata);
    MERU_TEST_RUN(test_catalog_deletion_vectors_follow_commits);
    MERU_TEST_RUN(test_catalog_move_changes_only_the_level);
    return meru_test_finish();
}
