/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_catalog_changes.c — the change feed's part of a metadata version:
 * changelog files and the floor committed, read back after reopen, their
 * invariants refused at commit (nothing written) and as corruption when
 * parsed, the floor of a version written before the feed, and the orphan
 * sweep of changes/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog.h"
#include "test.h"
#include "util/fs.h"

static meru_schema *make_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "t", "id int64 not null, v string", "id"))
        return NULL;
    return s;
}

static meru_catalog_changelog cl(const char *path, uint64_t lo, uint64_t hi)
{
    meru_catalog_changelog c = {(char *)path, 1000, hi - lo + 1,
                                lo,           hi,   1765000000000LL};
    return c;
}

/* One commit: last sequence `last`, the changelogs added, removed, the
 * floor (0: unchanged). */
static int commit(meru_catalog *cat, uint64_t last,
                  const meru_catalog_changelog *add, size_t nadd,
                  const char *const *rm, size_t nrm, uint64_t floor)
{
    meru_catalog_edit *e = NULL;
    int rc = meru_catalog_edit_new(cat, &e);
    if (rc)
        return rc;
    meru_catalog_edit_set_last_sequence(e, last);
    for (size_t i = 0; !rc && i < nadd; i++)
        rc = meru_catalog_edit_add_changelog(e, &add[i]);
    for (size_t i = 0; !rc && i < nrm; i++)
        rc = meru_catalog_edit_remove_changelog(e, rm[i]);
    if (floor)
        meru_catalog_edit_set_changes_floor(e, floor);
    if (!rc)
        rc = meru_catalog_commit(cat, e);
    meru_catalog_edit_free(e);
    return rc;
}

static void test_changelogs_and_floor_survive_reopen(void)
{
    const char *dir = meru_test_tmpdir("catchg_reopen");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL;
    size_t n;
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, NULL, &cat));
    CHECK_EQ_U64(meru_catalog_changes_floor(cat), 0);
    meru_catalog_changelog a[2] = {cl("changes/b.parquet", 11, 20),
                                   cl("changes/a.parquet", 1, 10)};
    CHECK_OK(commit(cat, 20, a, 2, NULL, 0, 0));
    const meru_catalog_changelog *c = meru_catalog_changelogs(cat, &n);
    CHECK_EQ_INT(n, 2);
    CHECK_STR(c[0].path, "changes/a.parquet"); /* sorted by sequence */
    CHECK_EQ_U64(c[1].max_seq, 20);
    const char *rm[] = {"changes/a.parquet"};
    CHECK_OK(commit(cat, 20, NULL, 0, rm, 1, 10));
    meru_catalog_free(cat);
    CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, NULL, &cat));
    c = meru_catalog_changelogs(cat, &n);
    CHECK_EQ_INT(n, 1);
    CHECK_STR(c[0].path, "changes/b.parquet");
    CHECK_EQ_U64(c[0].min_seq, 11);
    CHECK_EQ_U64(c[0].row_count, 10);
    CHECK_EQ_U64(c[0].file_size, 1000);
    CHECK_EQ_INT(c[0].created_ms, 1765000000000LL);
    CHECK_EQ_U64(meru_catalog_changes_floor(cat), 10);
    {
        char **p = NULL;
        size_t np = 0;
        CHECK_OK(meru_catalog_referenced_files(cat, &p, &np));
        CHECK_EQ_INT(np, 1);
        CHECK_STR(p[0], "changes/b.parquet");
        meru_catalog_paths_free(p, np);
    }
    meru_catalog_free(cat);
    meru_schema_free(s);
}

static void test_changelog_invariants_refused_at_commit(void)
{
    const char *dir = meru_test_tmpdir("catchg_bad");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL;
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, NULL, &cat));
    meru_catalog_changelog ok = cl("changes/ok.parquet", 1, 10);
    CHECK_OK(commit(cat, 10, &ok, 1, NULL, 0, 0));
    uint64_t v = meru_catalog_version(cat);
    struct {
        meru_catalog_changelog c;
        uint64_t last, floor;
        const char *what;
    } bad[] = {
        {cl("changes/x.parquet", 5, 12), 20, 0, "overlap"},
        {cl("changes/x.parquet", 11, 30), 20, 0, "above last sequence"},
        {cl("changes/ok.parquet", 11, 12), 20, 0, "same path twice"},
        {cl("/abs.parquet", 11, 12), 20, 0, "absolute path"},
        {cl("changes/../x.parquet", 11, 12), 20, 0, ".. in path"},
        {cl("changes/x.parquet", 12, 11), 20, 0, "min above max"},
        {cl("changes/x.parquet", 11, 12), 20, 25, "floor above last"},
        {cl("changes/x.parquet", 11, 12), 20, 11, "file at the floor"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = commit(cat, bad[i].last, &bad[i].c, 1, NULL, 0, bad[i].floor);
        CHECK_MSG(rc == MERU_EINVAL, "%s: %d", bad[i].what, rc);
        CHECK_EQ_U64(meru_catalog_version(cat), v); /* nothing written */
    }
    const char *rm[] = {"changes/none.parquet"};
    CHECK_RC(commit(cat, 10, NULL, 0, rm, 1, 0), MERU_EINVAL);
    /* The floor may not leave part of a file below it. */
    CHECK_RC(commit(cat, 10, NULL, 0, NULL, 0, 5), MERU_EINVAL);
    const char *rm_ok[] = {"changes/ok.parquet"};
    CHECK_OK(commit(cat, 10, NULL, 0, rm_ok, 1, 10));
    CHECK_RC(commit(cat, 10, NULL, 0, NULL, 0, 4), MERU_EINVAL); /* back */
    meru_catalog_free(cat);
    meru_schema_free(s);
}

/* The written JSON, edited, parses as corruption. */
static void test_changes_section_damage_is_corrupt(void)
{
    const char *dir = meru_test_tmpdir("catchg_json");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL, *p = NULL;
    char path[4200];
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, NULL, &cat));
    meru_catalog_changelog a[2] = {cl("changes/a.parquet", 1, 10),
                                   cl("changes/b.parquet", 11, 20)};
    CHECK_OK(commit(cat, 20, a, 2, NULL, 0, 0));
    snprintf(path, sizeof path, "%s/metadata/v%llu.metadata.json", dir,
             (unsigned long long)meru_catalog_version(cat));
    meru_catalog_free(cat);
    size_t len = 0;
    char *text = (char *)meru_test_read_file(path, &len);
    CHECK(text);
    CHECK_OK(meru_catalog_parse_metadata(text, len, &p));
    meru_catalog_free(p);
    static const char *const edits[][2] = {
        {"\"floor\": 0", "\"floor\": -1"},
        {"\"floor\": 0", "\"floor\": 5"},
        {"\"floor\": 0", "\"floor\": \"0\""},
        {"\"min-seq\": 11", "\"min-seq\": 9"},
        {"\"created-ms\": 1765000000000", "\"created-ms\": -3"},
        {"\"path\": \"changes/b.parquet\"", "\"path\": \"changes/a.parquet\""},
        {"\"files\": [", "\"files\": {\"x\": ["},
    };
    for (size_t t = 0; t < sizeof edits / sizeof edits[0]; t++) {
        const char *at = strstr(text, edits[t][0]);
        CHECK_MSG(at, "edit %zu: '%s' not in the metadata", t, edits[t][0]);
        size_t pre = (size_t)(at - text), ol = strlen(edits[t][0]),
               nl = strlen(edits[t][1]);
        char *m = malloc(len - ol + nl + 1);
        memcpy(m, text, pre);
        memcpy(m + pre, edits[t][1], nl);
        memcpy(m + pre + nl, at + ol, len - pre - ol + 1);
        int rc = meru_catalog_parse_metadata(m, strlen(m), &p);
        free(m);
        meru_catalog_free(p);
        p = NULL;
        CHECK_MSG(rc == MERU_ECORRUPT, "edit %zu gave %d", t, rc);
    }
    free(text);
    meru_schema_free(s);
}

/* A version written before the feed: its history is unknown. */
static void test_version_without_changes_has_floor_at_last_sequence(void)
{
    size_t len = 0;
    uint8_t *text = meru_test_read_file(
        MERU_SOURCE_DIR "/fuzz/corpus/fuzz_catalog/v8_levels_props", &len);
    meru_catalog *cat = NULL;
    size_t n = 9;
    CHECK(text);
    CHECK(!strstr((const char *)text, "\"changes\""));
    CHECK_OK(meru_catalog_parse_metadata((const char *)text, len, &cat));
    free(text);
    CHECK_EQ_U64(meru_catalog_changes_floor(cat), 40);
    meru_catalog_changelogs(cat, &n);
    CHECK_EQ_INT(n, 0);
    meru_catalog_free(cat);
}

static void test_sweep_removes_orphan_changelogs(void)
{
    const char *dir = meru_test_tmpdir("catchg_sweep");
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL;
    char p[4200];
    char **orph = NULL;
    size_t n = 0;
    FILE *f;
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, NULL, &cat));
    meru_catalog_changelog a = cl("changes/kept.parquet", 1, 10);
    CHECK_OK(commit(cat, 10, &a, 1, NULL, 0, 0));
    snprintf(p, sizeof p, "%s/changes", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/changes/kept.parquet", dir);
    CHECK((f = fopen(p, "w")) && fclose(f) == 0);
    snprintf(p, sizeof p, "%s/changes/orphan.parquet", dir);
    CHECK((f = fopen(p, "w")) && fclose(f) == 0);
    CHECK_OK(meru_catalog_sweep_orphans(cat, 1, &orph, &n));
    CHECK_EQ_INT(n, 1);
    CHECK_STR(orph[0], "changes/orphan.parquet");
    meru_catalog_paths_free(orph, n);
    struct stat st;
    CHECK(stat(p, &st) != 0);
    snprintf(p, sizeof p, "%s/changes/kept.parquet", dir);
    CHECK(stat(p, &st) == 0);
    meru_catalog_free(cat);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_changelogs_and_floor_survive_reopen);
    MERU_TEST_RUN(test_changelog_invariants_refused_at_commit);
    MERU_TEST_RUN(test_changes_section_damage_is_corrupt);
    MERU_TEST_RUN(test_version_without_changes_has_floor_at_last_sequence);
    MERU_TEST_RUN(test_sweep_removes_orphan_changelogs);
    return meru_test_finish();
}
