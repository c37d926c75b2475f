/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_test.h — helpers shared by the catalog's test programs
 * (test_catalog.c, test_catalog_recovery.c, test_catalog_schema.c): a
 * scratch directory, the test schema, a file entry, small file-system
 * helpers, a comparison of two catalog states, the flush and compaction
 * commits the tests replay, and a table at version 4.
 *
 * Everything is static: each test program includes this once.
 */
#ifndef MERU_CATALOG_TEST_H
#define MERU_CATALOG_TEST_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog/catalog.h"
#include "test.h"

/* These tests are about the version set: the data files they list do not
 * exist, so commits write no Iceberg view (test_catalog_view covers it). */
static const meru_catalog_options noview_opts = {0, 0, 0, 1, NULL, 0};
#define NOVIEW (&noview_opts)

static char g_dir[1024];

static inline const char *tmpdir(const char *name)
{
    snprintf(g_dir, sizeof g_dir, "%s", meru_test_tmpdir(name));
    return g_dir;
}

static inline meru_schema *make_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "orders",
                          "id int64 not null, region string not null, "
                          "price decimal(10,2), note string",
                          "region, id"))
        return NULL;
    return s;
}

static inline meru_catalog_file mkfile(int level, const char *path,
                                       uint64_t minseq, uint64_t maxseq,
                                       const char *lo, const char *hi)
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

static inline void path_in(char *out, size_t cap, const char *dir,
                           const char *rel)
{
    snprintf(out, cap, "%s/%s", dir, rel);
}

static inline int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

static inline int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Returns 1 when every observable part of the two states agrees. */
static inline int same_state(const meru_catalog *a, const meru_catalog *b,
                             char *why, size_t cap)
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
    if (meru_catalog_current_schema_id(a) !=
            meru_catalog_current_schema_id(b) ||
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
static inline int commit_flush(meru_catalog *cat, int round)
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

static inline int commit_compact(meru_catalog *cat, int round)
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

static inline json_t *load_version(const char *dir, uint64_t v)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/metadata/v%llu.metadata.json", dir,
             (unsigned long long)v);
    return json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
}

/* A table at version 4 (v1 create, three commits). */
static inline int make_v4(const char *dir, meru_catalog **out)
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

#endif
