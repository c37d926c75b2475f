/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_catalog_recovery.c — the version set under crashes, damage and
 * failed writes: a crash at any step of a commit leaves the old or the new
 * version (never an error, never a mix), a damaged newest version fails the
 * open (only a repair rolls back), each file's checksum catches damage that
 * is still valid JSON, a bad version hint or stray temp file is ignored, a
 * failed metadata write is sticky, and mutated metadata parses to OK or
 * ECORRUPT, never a crash. (test_catalog.c covers commits and the metadata
 * format, test_catalog_schema.c schema changes.)
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "catalog/catalog_internal.h"
#include "catalog_test.h"
#include "test.h"
#include "util/fs.h"
#include "support/fs_fault.h"

/* The files of a catalog as one comparable string. */
static void files_sig(const meru_catalog *cat, char *out, size_t cap)
{
    size_t n, used = 0;
    const meru_catalog_file *f = meru_catalog_files(cat, &n);
    out[0] = 0;
    used += (size_t)snprintf(
        out, cap,
        "v%llu seq%llu:", (unsigned long long)meru_catalog_version(cat),
        (unsigned long long)meru_catalog_last_sequence(cat));
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s,", f[i].path);
}

static void test_catalog_crash_at_every_step_gives_old_or_new(void)
{
    int done = 0, saw_old = 0, saw_new = 0;
    for (uint64_t k = 0; !done && k < 500; k++) {
        const char *dir = tmpdir("cat-crash");
        meru_fs *fs = NULL;
        meru_catalog *cat = NULL, *re = NULL;
        meru_schema *s = make_schema();
        meru_catalog_options opts = {.keep_versions = 2, .view_off = 1};
        CHECK(s);
        CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
        CHECK_OK(meru_catalog_create(fs, dir, s, &opts, &cat));
        meru_schema_free(s);
        CHECK_OK(commit_flush(cat, 1));
        CHECK_OK(commit_flush(cat, 2));
        char old_sig[512], new_sig[512], got[512];
        files_sig(cat, old_sig, sizeof old_sig);
        /* The compaction under test, crashed after k operations. */
        meru_fs_fault_reset_counts(fs);
        meru_fs_fault_die_after(fs, k);
        int rc = commit_compact(cat, 3);
        uint64_t used = meru_fs_fault_total(fs);
        if (rc == MERU_OK && used <= k)
            done = 1; /* the whole commit ran: last step */
        if (rc == MERU_OK)
            files_sig(cat, new_sig, sizeof new_sig);
        else
            snprintf(new_sig, sizeof new_sig,
                     "v4 seq20:data/L1/compact-003.parquet,");
        meru_catalog_free(cat);
        CHECK_OK(meru_fs_fault_crash(fs));

        CHECK_OK(meru_catalog_open(fs, dir, &opts, &re));
        files_sig(re, got, sizeof got);
        CHECK_MSG(!strcmp(got, old_sig) || !strcmp(got, new_sig),
                  "k=%llu: reopened as \"%s\", expected \"%s\" or \"%s\"",
                  (unsigned long long)k, got, old_sig, new_sig);
        if (rc == MERU_OK)
            CHECK_MSG(!strcmp(got, new_sig),
                      "k=%llu: a successful commit "
                      "was lost",
                      (unsigned long long)k);
        /* The real files say the same without the fault layer. */
        meru_catalog *plain = NULL;
        char got2[512];
        CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, &opts, &plain));
        files_sig(plain, got2, sizeof got2);
        meru_catalog_free(plain);
        CHECK_STR(got2, got);
        saw_old |= !strcmp(got, old_sig);
        saw_new |= !strcmp(got, new_sig);
        /* Still writable after the crash. */
        CHECK_OK(commit_flush(re, 9));
        meru_catalog_free(re);
        re = NULL;
        CHECK_OK(meru_catalog_open(fs, dir, &opts, &re));
        files_sig(re, got, sizeof got);
        CHECK(strstr(got, "flush-009"));
        meru_catalog_free(re);
        meru_fs_free(fs);
    }
    CHECK(done);
    CHECK(saw_old && saw_new);
}

static void test_catalog_crash_during_flush_commit_with_torn_writeback(void)
{
    /* Same property with partial writeback of unsynced appends. */
    for (uint64_t k = 0; k < 60; k++) {
        const char *dir = tmpdir("cat-torn");
        meru_fs *fs = NULL;
        meru_catalog *cat = NULL, *re = NULL;
        meru_schema *s = make_schema();
        CHECK(s);
        CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
        CHECK_OK(meru_catalog_create(fs, dir, s, NOVIEW, &cat));
        meru_schema_free(s);
        CHECK_OK(commit_flush(cat, 1));
        meru_fs_fault_die_after(fs, k);
        int rc = commit_flush(cat, 2);
        meru_catalog_free(cat);
        CHECK_OK(meru_fs_fault_crash_torn(fs, k * 7919 + 1));
        CHECK_OK(meru_catalog_open(fs, dir, NOVIEW, &re));
        uint64_t v = meru_catalog_version(re);
        size_t n;
        meru_catalog_files(re, &n);
        CHECK_MSG((v == 2 && n == 1) || (v == 3 && n == 2),
                  "k=%llu: version %llu with %zu files", (unsigned long long)k,
                  (unsigned long long)v, n);
        if (rc == MERU_OK)
            CHECK_EQ_U64(v, 3);
        meru_catalog_free(re);
        meru_fs_free(fs);
    }
}

/* The names and contents of metadata/ as one string (to show an open
 * changed nothing). */
static char *metadata_listing(const char *dir)
{
    char path[1200], cmd[1400];
    path_in(path, sizeof path, dir, "metadata");
    snprintf(cmd, sizeof cmd, "cd '%s' && ls -1 && cat *", path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    size_t k;
    while (out && (k = fread(out + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (n + 1 == cap) {
            char *o = realloc(out, cap *= 2);
            if (!o) {
                free(out);
                out = NULL;
            } else {
                out = o;
            }
        }
    }
    pclose(p);
    if (out)
        out[n] = 0;
    return out;
}

/* A damaged newest version fails the open, naming the file, and changes
 * nothing: the commit protocol never leaves a torn version in place, so
 * falling back silently would roll acknowledged commits back (and the next
 * write would sweep their data files as orphans). Only the repair's open
 * rolls back. */
static void test_catalog_damaged_newest_version_fails_the_open(void)
{
    static const char *bad[] = {
        NULL, /* truncated: filled below */
        "garbage \x01\x02 not json",
        "{}",
        "[1,2,3]",
        "{\"format-version\":2}",
    };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        const char *dir = tmpdir("cat-corrupt");
        meru_catalog *cat = NULL, *re = NULL;
        char path[1200];
        CHECK_OK(make_v4(dir, &cat));
        path_in(path, sizeof path, dir, "metadata/v4.metadata.json");
        size_t len = 0;
        uint8_t *orig = meru_test_read_file(path, &len);
        CHECK(orig);
        int w = bad[t] ? write_file(path, bad[t], strlen(bad[t]))
                       : write_file(path, orig, len / 2);
        free(orig);
        CHECK_EQ_INT(w, 0);
        char *before = metadata_listing(dir);
        CHECK(before);
        CHECK_RC(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &re),
                 MERU_ECORRUPT);
        CHECK_ERRMSG("v4.metadata.json");
        CHECK_ERRMSG("nothing was changed");
        CHECK(re == NULL);
        char *after = metadata_listing(dir);
        CHECK(after && !strcmp(before, after));
        free(before);
        free(after);

        CHECK_OK(meru_catalog_open_rollback(meru_fs_posix(), dir, NOVIEW, &re));
        CHECK_EQ_U64(meru_catalog_version(re), 3);
        CHECK_EQ_INT(meru_catalog_get_stats(re)->versions_skipped, 1);
        CHECK_EQ_INT(meru_catalog_get_stats(re)->hint_version, 4);
        size_t n;
        meru_catalog_files(re, &n);
        CHECK_EQ_INT(n, 2);
        /* The next commit goes above the damaged file, and wins. */
        CHECK_OK(commit_flush(re, 4));
        CHECK_EQ_U64(meru_catalog_version(re), 5);
        meru_catalog_free(re);
        re = NULL;
        CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &re));
        CHECK_EQ_U64(meru_catalog_version(re), 5);
        meru_catalog_files(re, &n);
        CHECK_EQ_INT(n, 3);
        meru_catalog_free(re);
        meru_catalog_free(cat);
    }
}

/* A change that leaves valid JSON (a row count, a key bound) is caught by
 * the file's checksum; a file without one (an older writer) is read. */
static void test_catalog_checksum_catches_valid_json_damage(void)
{
    const char *dir = tmpdir("cat-crc");
    meru_catalog *cat = NULL, *re = NULL;
    char path[1200];
    CHECK_OK(make_v4(dir, &cat));
    path_in(path, sizeof path, dir, "metadata/v4.metadata.json");
    size_t len = 0;
    char *orig = (char *)meru_test_read_file(path, &len);
    CHECK(orig);
    CHECK(strstr(orig, "\"merutable.checksum\": \"crc32c:"));
    /* one digit of the first row count, +1 */
    char *rc = strstr(orig, "\"row-count\": ");
    CHECK(rc);
    rc += strlen("\"row-count\": ");
    *rc = *rc == '9' ? '1' : (char)(*rc + 1);
    CHECK_EQ_INT(write_file(path, orig, len), 0);
    CHECK_RC(meru_catalog_open(meru_fs_posix(), dir, NULL, &re), MERU_ECORRUPT);
    CHECK_ERRMSG("checksum mismatch");
    free(orig);
    meru_catalog_free(cat);

    /* without the property: not checked */
    dir = tmpdir("cat-nocrc");
    CHECK_OK(make_v4(dir, &cat));
    json_t *m = load_version(dir, 4);
    CHECK(m);
    CHECK(!json_object_del(json_object_get(m, "properties"),
                           "merutable.checksum"));
    char *text = json_dumps(m, JSON_INDENT(1));
    json_decref(m);
    CHECK(text);
    path_in(path, sizeof path, dir, "metadata/v4.metadata.json");
    CHECK_EQ_INT(write_file(path, text, strlen(text)), 0);
    free(text);
    CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, NULL, &re));
    CHECK_EQ_U64(meru_catalog_version(re), 4);
    char why[128] = "";
    CHECK_MSG(same_state(cat, re, why, sizeof why), "differs: %s", why);
    meru_catalog_free(re);
    meru_catalog_free(cat);
}

static void test_catalog_ignores_bad_version_hint(void)
{
    static const char *hints[] = {"9", "junk", "", "4\n", "-1"};
    for (size_t t = 0; t < 5; t++) {
        const char *dir = tmpdir("cat-hint");
        meru_catalog *cat = NULL, *re = NULL;
        char path[1200];
        CHECK_OK(make_v4(dir, &cat));
        path_in(path, sizeof path, dir, "metadata/version-hint.text");
        CHECK_EQ_INT(write_file(path, hints[t], strlen(hints[t])), 0);
        /* A stray temp file of an interrupted commit is ignored too. */
        path_in(path, sizeof path, dir, "metadata/v5.metadata.json.tmp");
        CHECK_EQ_INT(write_file(path, "{\"trunc", 7), 0);
        CHECK_OK(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &re));
        CHECK_EQ_U64(meru_catalog_version(re), 4);
        CHECK_EQ_INT(meru_catalog_get_stats(re)->versions_skipped, 0);
        int64_t expect = t == 0 ? 9 : t == 3 ? 4 : -1;
        CHECK_EQ_INT(meru_catalog_get_stats(re)->hint_version, expect);
        char why[128] = "";
        CHECK_MSG(same_state(cat, re, why, sizeof why), "differs: %s", why);
        meru_catalog_free(re);
        meru_catalog_free(cat);
    }
}

static void test_catalog_all_versions_corrupt_is_ecorrupt(void)
{
    const char *dir = tmpdir("cat-allbad");
    meru_catalog *cat = NULL, *re = NULL;
    char path[1200];
    CHECK_OK(make_v4(dir, &cat));
    for (int v = 1; v <= 4; v++) {
        char rel[64];
        snprintf(rel, sizeof rel, "metadata/v%d.metadata.json", v);
        path_in(path, sizeof path, dir, rel);
        if (file_exists(path))
            CHECK_EQ_INT(write_file(path, "{\"format-version\":", 18), 0);
    }
    CHECK_RC(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &re),
             MERU_ECORRUPT);
    CHECK_ERRMSG("v4.metadata.json");
    CHECK(re == NULL);
    CHECK_RC(meru_catalog_open_rollback(meru_fs_posix(), dir, NOVIEW, &re),
             MERU_ECORRUPT);
    CHECK_ERRMSG("none of the 4 metadata versions is valid");
    CHECK_ERRMSG("v4.metadata.json");
    CHECK(re == NULL);
    meru_catalog_free(cat);

    /* No version at all is "not found", and create refuses an existing
     * table. */
    const char *empty = tmpdir("cat-empty");
    CHECK_RC(meru_catalog_open(meru_fs_posix(), empty, NOVIEW, &re),
             MERU_NOT_FOUND);
    meru_schema *s = make_schema();
    CHECK(s);
    CHECK_OK(meru_catalog_create(meru_fs_posix(), empty, s, NOVIEW, &cat));
    meru_catalog_free(cat);
    cat = NULL;
    CHECK_RC(meru_catalog_create(meru_fs_posix(), empty, s, NOVIEW, &cat),
             MERU_EEXIST);
    meru_schema_free(s);
}

static void test_catalog_failed_metadata_write_is_sticky(void)
{
    const char *dir = tmpdir("cat-sticky");
    meru_fs *fs = NULL;
    meru_catalog *cat = NULL, *re = NULL;
    meru_schema *s = make_schema();
    CHECK(s);
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_catalog_create(fs, dir, s, NOVIEW, &cat));
    meru_schema_free(s);
    CHECK_OK(
        meru_fs_fault_inject(fs, MERU_FS_OP_SYNC_FULL, "v2.metadata", 1, 0));
    CHECK_RC(commit_flush(cat, 1), MERU_EIO);
    CHECK_EQ_U64(meru_catalog_version(cat), 1);
    CHECK_RC(commit_flush(cat, 2), MERU_EFAILED);
    /* A failed hint write does not fail the commit. */
    CHECK_OK(meru_catalog_open(fs, dir, NOVIEW, &re));
    CHECK_OK(
        meru_fs_fault_inject(fs, MERU_FS_OP_SYNC_FULL, "version-hint", 1, 0));
    CHECK_OK(commit_flush(re, 3));
    CHECK_EQ_U64(meru_catalog_get_stats(re)->hint_errors, 1);
    meru_catalog_free(re);
    re = NULL;
    CHECK_OK(meru_catalog_open(fs, dir, NOVIEW, &re));
    CHECK_EQ_U64(meru_catalog_version(re), 2);
    meru_catalog_free(re);
    meru_catalog_free(cat);
    meru_fs_free(fs);
}

/* Mutations of a valid file: every result is OK or ECORRUPT, never a crash
 * (the fuzz target does this at scale). */
static void test_catalog_parse_survives_mutations(void)
{
    const char *dir = tmpdir("cat-mutate");
    meru_catalog *cat = NULL, *p = NULL;
    char path[1200];
    CHECK_OK(make_v4(dir, &cat));
    meru_catalog_free(cat);
    path_in(path, sizeof path, dir, "metadata/v4.metadata.json");
    size_t len = 0;
    uint8_t *orig = meru_test_read_file(path, &len);
    CHECK(orig);
    CHECK_OK(meru_catalog_parse_metadata((const char *)orig, len, &p));
    meru_catalog_free(p);
    p = NULL;
    uint8_t *buf = malloc(len);
    CHECK(buf);
    int iters = (int)(3000 * meru_test_scale());
    int ok = 1;
    for (int i = 0; i < iters && ok; i++) {
        memcpy(buf, orig, len);
        int flips = 1 + (int)(meru_test_rand() % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = (size_t)(meru_test_rand() % len);
            static const char pick[] = "0123456789-\"{}[],:ntfx ";
            buf[at] = (uint8_t)pick[meru_test_rand() % (sizeof pick - 1)];
        }
        size_t n =
            meru_test_rand() % 8 ? len : (size_t)(meru_test_rand() % len);
        int rc = meru_catalog_parse_metadata((const char *)buf, n, &p);
        ok = rc == MERU_OK || rc == MERU_ECORRUPT;
        meru_catalog_free(p);
        p = NULL;
    }
    free(buf);
    free(orig);
    CHECK(ok);

    /* Specific semantic breakages are caught. */
    static const char *edits[][2] = {
        {"\"file-size\": 1010", "\"file-size\": -1"},
        {"\"file-size\": 1010", "\"file-size\": \"1010\""},
        {"\"path\": \"data/L0/flush-002.parquet\"",
         "\"path\": \"data/L0/flush-001.parquet\""},
        {"\"identifier-field-ids\"", "\"identifier-field-idz\""},
        {"\"smallest-key\": \"6b303031\"", "\"smallest-key\": \"6b30303\""},
        {"\"smallest-key\": \"6b303031\"", "\"smallest-key\": \"zz\""},
        {"\"format-version\": 3", "\"format-version\": 4"},
        {"\"format-version\": 3", "\"format-version\": 1"},
        {"\"current-schema-id\": 0", "\"current-schema-id\": 1"},
        {"\"schema-id\": 0,\n   \"identifier",
         "\"schema-id\": 5,\n   \"identifier"},
        {"\"last-column-id\": 4", "\"last-column-id\": 3"},
        {"\"level\": 0", "\"level\": 99"},
        {"\"last-sequence\": 30", "\"last-sequence\": 3"},
    };
    uint8_t *text = meru_test_read_file(path, &len);
    CHECK(text);
    for (size_t t = 0; t < sizeof edits / sizeof edits[0]; t++) {
        char *at = strstr((char *)text, edits[t][0]);
        CHECK_MSG(at, "pattern %s not in the file", edits[t][0]);
        size_t pre = (size_t)(at - (char *)text);
        size_t ol = strlen(edits[t][0]), nl = strlen(edits[t][1]);
        char *m = malloc(len - ol + nl + 1);
        CHECK(m);
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
}

int main(void)
{
    MERU_TEST_RUN(test_catalog_crash_at_every_step_gives_old_or_new);
    MERU_TEST_RUN(test_catalog_crash_during_flush_commit_with_torn_writeback);
    MERU_TEST_RUN(test_catalog_damaged_newest_version_fails_the_open);
    MERU_TEST_RUN(test_catalog_checksum_catches_valid_json_damage);
    MERU_TEST_RUN(test_catalog_ignores_bad_version_hint);
    MERU_TEST_RUN(test_catalog_all_versions_corrupt_is_ecorrupt);
    MERU_TEST_RUN(test_catalog_failed_metadata_write_is_sticky);
    MERU_TEST_RUN(test_catalog_parse_survives_mutations);
    return meru_test_finish();
}
