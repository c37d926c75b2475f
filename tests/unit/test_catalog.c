/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_catalog.c — the version set: commits round-trip through reopen, the
 * written metadata is Iceberg table metadata (v2; v3 schemas and their
 * ids), schema changes follow the evolution rules, a crash at any step of a
 * commit leaves the old or the new version (never an error, never a mix),
 * a damaged newest version fails the open (only a repair rolls back), each
 * file's checksum catches damage that is still valid JSON, old versions are
 * trimmed to K, and the orphan sweep finds exactly the unreferenced files.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog.h"
#include "catalog/catalog_internal.h"
#include "test.h"
#include "util/fs.h"
#include "support/fs_fault.h"

/* These tests are about the version set: the data files they list do not
 * exist, so commits write no Iceberg view (test_catalog_view covers it). */
static const meru_catalog_options noview_opts = {0, 0, 0, 1, NULL, 0};
#define NOVIEW (&noview_opts)

static char g_dir[1024];

static const char *tmpdir(const char *name)
{
    snprintf(g_dir, sizeof g_dir, "%s", meru_test_tmpdir(name));
    return g_dir;
}

static meru_schema *make_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "orders",
                          "id int64 not null, region string not null, "
                          "price decimal(10,2), note string",
                          "region, id"))
        return NULL;
    return s;
}

static meru_catalog_file mkfile(int level, const char *path, uint64_t minseq,
                                uint64_t maxseq, const char *lo, const char *hi)
{
    meru_catalog_file f;
    memset(&f, 0, sizeof f);
    f.level = level;
    f.path = (char *)path;
    f.file_size = 1000 + maxseq;
    f.row_count = maxseq - minseq + 1;
    f.min_seq = minseq;
    f.max_seq = maxseq;
    f.smallest = (uint8_t *)lo;
    f.smallest_len = strlen(lo);
    f.largest = (uint8_t *)hi;
    f.largest_len = strlen(hi);
    return f;
}

static void path_in(char *out, size_t cap, const char *dir, const char *rel)
{
    snprintf(out, cap, "%s/%s", dir, rel);
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Returns 1 when every observable part of the two states agrees. */
static int same_state(const meru_catalog *a, const meru_catalog *b, char *why,
                      size_t cap)
{
#define DIFF(...)                                                              \
    do {                                                                       \
        snprintf(why, cap, __VA_ARGS__);                                       \
        return 0;                                                              \
    } while (0)
    if (meru_catalog_version(a) != meru_catalog_version(b))
        DIFF("version");
    if (strcmp(meru_catalog_uuid(a), meru_catalog_uuid(b)))
        DIFF("uuid");
    if (strcmp(meru_catalog_location(a), meru_catalog_location(b)))
        DIFF("location");
    if (meru_catalog_last_sequence(a) != meru_catalog_last_sequence(b))
        DIFF("last sequence");
    if (meru_catalog_next_file_number(a) != meru_catalog_next_file_number(b))
        DIFF("next file number");
    uint64_t ao, an, bo, bn;
    meru_catalog_wal(a, &ao, &an);
    meru_catalog_wal(b, &bo, &bn);
    if (ao != bo || an != bn)
        DIFF("wal");
    size_t na, nb;
    const meru_catalog_file *fa = meru_catalog_files(a, &na);
    const meru_catalog_file *fb = meru_catalog_files(b, &nb);
    if (na != nb)
        DIFF("file count %zu vs %zu", na, nb);
    for (size_t i = 0; i < na; i++) {
        const meru_catalog_file *x = &fa[i], *y = &fb[i];
        if (x->level != y->level || strcmp(x->path, y->path) ||
            x->file_size != y->file_size || x->row_count != y->row_count ||
            x->min_seq != y->min_seq || x->max_seq != y->max_seq ||
            x->smallest_len != y->smallest_len ||
            x->largest_len != y->largest_len ||
            memcmp(x->smallest, y->smallest, x->smallest_len) ||
            memcmp(x->largest, y->largest, x->largest_len) ||
            !x->dv_path != !y->dv_path ||
            (x->dv_path && strcmp(x->dv_path, y->dv_path)) ||
            x->dv_cardinality != y->dv_cardinality)
            DIFF("file %zu (%s)", i, x->path);
    }
    const meru_catalog_snapshot *sa = meru_catalog_snapshots(a, &na);
    const meru_catalog_snapshot *sb = meru_catalog_snapshots(b, &nb);
    if (na != nb)
        DIFF("snapshot count");
    for (size_t i = 0; i < na; i++) {
        if (sa[i].id != sb[i].id || sa[i].parent_id != sb[i].parent_id ||
            sa[i].sequence_number != sb[i].sequence_number ||
            sa[i].timestamp_ms != sb[i].timestamp_ms ||
            strcmp(sa[i].manifest_list, sb[i].manifest_list) ||
            sa[i].nsummary != sb[i].nsummary)
            DIFF("snapshot %zu", i);
        for (size_t k = 0; k < sa[i].nsummary; k++) {
            /* Order may differ after a JSON round trip: look keys up. */
            size_t j = 0;
            while (j < sb[i].nsummary &&
                   strcmp(sa[i].summary[k].key, sb[i].summary[j].key))
                j++;
            if (j == sb[i].nsummary ||
                strcmp(sa[i].summary[k].value, sb[i].summary[j].value))
                DIFF("snapshot %zu summary %s", i, sa[i].summary[k].key);
        }
    }
    if (meru_catalog_current_snapshot_id(a) !=
        meru_catalog_current_snapshot_id(b))
        DIFF("current snapshot");
    for (size_t i = 0; i < na; i++)
        if (sa[i].schema_id != sb[i].schema_id)
            DIFF("snapshot %zu schema-id", i);
    if (meru_catalog_current_schema_id(a) != meru_catalog_current_schema_id(b) ||
        meru_catalog_last_column_id(a) != meru_catalog_last_column_id(b) ||
        meru_catalog_iceberg_format_version(a) !=
            meru_catalog_iceberg_format_version(b))
        DIFF("current schema id, last-column-id or format version");
    const meru_schema *const *xa = meru_catalog_schemas(a, &na);
    const meru_schema *const *xb = meru_catalog_schemas(b, &nb);
    if (na != nb)
        DIFF("schema count %zu vs %zu", na, nb);
    for (size_t i = 0; i < na; i++) {
        char *ja = NULL, *jb = NULL;
        int same_schema = !meru_schema_to_json(xa[i], &ja) &&
                          !meru_schema_to_json(xb[i], &jb) && !strcmp(ja, jb);
        meru_free(ja);
        meru_free(jb);
        if (!same_schema)
            DIFF("schema %zu", i);
    }
    return 1;
#undef DIFF
}

/* A flush of `n` L0 files then a compaction of them into L1. */
static int commit_flush(meru_catalog *cat, int round)
{
    meru_catalog_edit *e = NULL;
    char path[64], lo[16], hi[16];
    uint64_t base = meru_catalog_last_sequence(cat);
    int rc = meru_catalog_edit_new(cat, &e);
    snprintf(path, sizeof path, "data/L0/flush-%03d.parquet", round);
    snprintf(lo, sizeof lo, "k%03d", round);
    snprintf(hi, sizeof hi, "k%03d~", round);
    meru_catalog_file f = mkfile(0, path, base + 1, base + 10, lo, hi);
    if (!rc)
        rc = meru_catalog_edit_add_file(e, &f);
    meru_catalog_edit_set_last_sequence(e, base + 10);
    meru_catalog_edit_set_wal(e, (uint64_t)round + 1, (uint64_t)round + 2);
    meru_catalog_edit_set_next_file_number(e, (uint64_t)round * 3 + 7);
    if (!rc)
        rc = meru_catalog_commit(cat, e);
    meru_catalog_edit_free(e);
    return rc;
}

static int commit_compact(meru_catalog *cat, int round)
{
    meru_catalog_edit *e = NULL;
    size_t n;
    const meru_catalog_file *fs = meru_catalog_files(cat, &n);
    uint64_t minseq = UINT64_MAX, maxseq = 0, rows = 0;
    int rc = meru_catalog_edit_new(cat, &e);
    for (size_t i = 0; !rc && i < n; i++) {
        if (fs[i].level != 0)
            continue;
        if (fs[i].min_seq < minseq)
            minseq = fs[i].min_seq;
        if (fs[i].max_seq > maxseq)
            maxseq = fs[i].max_seq;
        rows += fs[i].row_count;
        rc = meru_catalog_edit_remove_file(e, fs[i].path);
    }
    char path[64], lo[16], hi[16];
    snprintf(path, sizeof path, "data/L1/compact-%03d.parquet", round);
    snprintf(lo, sizeof lo, "m%03d", round);
    snprintf(hi, sizeof hi, "m%03d~", round);
    meru_catalog_file f = mkfile(1, path, minseq, maxseq, lo, hi);
    f.row_count = rows;
    if (!rc)
        rc = meru_catalog_edit_add_file(e, &f);
    if (!rc)
        rc = meru_catalog_edit_set_operation(e, "replace");
    if (!rc)
        rc = meru_catalog_commit(cat, e);
    meru_catalog_edit_free(e);
    return rc;
}

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

static json_t *load_version(const char *dir, uint64_t v)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/metadata/v%llu.metadata.json", dir,
             (unsigned long long)v);
    return json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
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

/* A table at version 4 (v1 create, three commits). */
static int make_v4(const char *dir, meru_catalog **out)
{
    meru_schema *s = make_schema();
    meru_catalog *cat = NULL;
    int rc = s ? meru_catalog_create(meru_fs_posix(), dir, s, NOVIEW, &cat)
               : MERU_ENOMEM;
    meru_schema_free(s);
    if (!rc)
        rc = commit_flush(cat, 1);
    if (!rc)
        rc = commit_flush(cat, 2);
    if (!rc)
        rc = commit_flush(cat, 3);
    if (rc)
        meru_catalog_free(cat);
    else
        *out = cat;
    return rc;
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
    CHECK_RC(meru_catalog_open(meru_fs_posix(), dir, NULL, &re),
             MERU_ECORRUPT);
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
    CHECK_RC(meru_catalog_open(meru_fs_posix(), dir, NOVIEW, &re), MERU_ECORRUPT);
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
        {"\"schema-id\": 0,\n   \"identifier", "\"schema-id\": 5,\n   \"identifier"},
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
    CHECK_EQ_INT(
        json_integer_value(json_object_get(root, "current-schema-id")), 2);
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
    } v2bad[] = {{0, NULL, NULL}, {0, "1", "1"}, {1, "1", NULL}, {1, NULL, "1"}};
    for (size_t i = 0; i < sizeof v2bad / sizeof v2bad[0]; i++) {
        meru_schema *x = plus_column(cat, "qty", MERU_TYPE_INT32,
                                     v2bad[i].nullable, v2bad[i].init,
                                     v2bad[i].wr);
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
    CHECK_OK(meru_schema_parse(&wd, "t", "id int64 not null, n int32 not "
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

int main(void)
{
    MERU_TEST_RUN(test_catalog_commits_survive_reopen);
    MERU_TEST_RUN(test_catalog_metadata_is_iceberg_v2);
    MERU_TEST_RUN(test_catalog_crash_at_every_step_gives_old_or_new);
    MERU_TEST_RUN(test_catalog_crash_during_flush_commit_with_torn_writeback);
    MERU_TEST_RUN(test_catalog_damaged_newest_version_fails_the_open);
    MERU_TEST_RUN(test_catalog_checksum_catches_valid_json_damage);
    MERU_TEST_RUN(test_catalog_ignores_bad_version_hint);
    MERU_TEST_RUN(test_catalog_all_versions_corrupt_is_ecorrupt);
    MERU_TEST_RUN(test_catalog_keeps_k_versions);
    MERU_TEST_RUN(test_catalog_snapshot_history_is_bounded);
    MERU_TEST_RUN(test_catalog_rejects_bad_edits_and_changes_nothing);
    MERU_TEST_RUN(test_catalog_create_with_properties);
    MERU_TEST_RUN(test_catalog_failed_metadata_write_is_sticky);
    MERU_TEST_RUN(test_catalog_orphan_sweep_finds_unreferenced_files);
    MERU_TEST_RUN(test_catalog_parse_survives_mutations);
    MERU_TEST_RUN(test_catalog_reads_golden_metadata);
    MERU_TEST_RUN(test_catalog_deletion_vectors_follow_commits);
    MERU_TEST_RUN(test_catalog_schema_changes_get_new_ids);
    MERU_TEST_RUN(test_catalog_schema_rules);
    MERU_TEST_RUN(test_catalog_reads_old_and_v3_schema_metadata);
    return meru_test_finish();
}
