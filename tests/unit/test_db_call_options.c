/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_call_options.c — per-call read and write options:
 *  - meru_write_options.sync makes one write durable (an fdatasync) on a
 *    table whose sync mode is NONE, and only that write;
 *  - meru_read_options.fill_cache = 0 reads through the caches without
 *    adding to them (decoded pages, file blocks without mmap, row cache);
 *  - verify_checksums = 0 skips the page CRC check (a page whose bytes were
 *    changed on disk reads as it is now), 1 catches the change, for gets
 *    and scans; a page read unchecked is not cached for a checking read.
 */
#include <stdlib.h>

#include "test.h"
#include "test_db_common.h"

static meru_schema *opt_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "opts", "id int64 not null, v string", "id"))
        return NULL;
    return s;
}

static int put_kv(meru_db *db, const meru_write_options *wo, meru_row *r,
                  int64_t id, const char *v)
{
    meru_row_clear(r);
    int rc = meru_row_set_int64(r, 0, id);
    if (!rc)
        rc = meru_row_set_string(r, 1, v, strlen(v));
    return rc ? rc : meru_put_ex(db, wo, r, NULL);
}

static void test_write_option_sync_syncs_that_write(void)
{
    const char *dir = meru_test_tmpdir("callopt-sync");
    meru_schema *s = opt_schema();
    meru_db *db = NULL;
    meru_row *r = NULL;
    meru_options o;
    meru_stats st;
    CHECK(s);
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    CHECK_OK(put_kv(db, NULL, r, 1, "a"));
    CHECK_OK(meru_stats_get(db, &st));
    uint64_t syncs = st.wal_syncs;
    meru_write_options wo = MERU_WRITE_OPTIONS_INIT;
    CHECK_OK(put_kv(db, &wo, r, 2, "b")); /* sync 0: the table's mode */
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.wal_syncs, syncs);
    wo.sync = 1;
    CHECK_OK(put_kv(db, &wo, r, 3, "c"));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.wal_syncs, syncs + 1);
    meru_row_clear(r);
    CHECK_OK(meru_row_set_int64(r, 0, 1));
    CHECK_OK(meru_delete_ex(db, &wo, r, NULL));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.wal_syncs, syncs + 2);
    meru_write_batch *b = NULL;
    CHECK_OK(meru_write_batch_new(&b, meru_db_schema(db)));
    CHECK_OK(meru_row_set_string(r, 1, "d", 1));
    CHECK_OK(meru_write_batch_put(b, r));
    uint64_t first = 0;
    CHECK_OK(meru_write_ex(db, &wo, b, &first));
    CHECK(first > 0);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.wal_syncs, syncs + 3);
    CHECK_OK(meru_write_ex(db, NULL, b, NULL)); /* NULL: no sync */
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.wal_syncs, syncs + 3);
    meru_write_batch_free(b);
    meru_row_free(r);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

/* A table of `n` rows flushed to one L0 file, reopened with `mmap` and a
 * row cache, so its caches start empty. */
static meru_db *flushed_table(const char *dir, meru_schema *s, int n, int mmap)
{
    meru_db *db = NULL;
    meru_row *r = NULL;
    meru_options o;
    tdb_small_options(&o);
    o.memtable_bytes = (size_t)1 << 20;
    o.l0_compression = MERU_COMPRESSION_NONE;
    o.mmap_reads = mmap;
    o.row_cache_bytes = (size_t)1 << 20;
    if (meru_open(dir, &o, s, &db) || meru_row_new(&r, meru_db_schema(db)))
        return NULL;
    char v[64];
    for (int i = 0; i < n; i++) {
        snprintf(v, sizeof v, "value-%06d-MARKER", i);
        if (put_kv(db, NULL, r, i, v))
            return NULL;
    }
    meru_row_free(r);
    if (meru_close(db))
        return NULL;
    meru_db_free(db);
    db = NULL;
    if (meru_open(dir, &o, NULL, &db))
        return NULL;
    return db;
}

static void test_read_option_fill_cache_adds_nothing(void)
{
    meru_schema *s = opt_schema();
    CHECK(s);
    for (int mmap = 0; mmap <= 1; mmap++) {
        meru_db *db =
            flushed_table(meru_test_tmpdir(mmap ? "callopt-fill-m"
                                                : "callopt-fill-p"),
                          s, 2000, mmap);
        CHECK(db);
        meru_row *k = NULL, *out = NULL;
        meru_stats st;
        CHECK_OK(meru_row_new(&k, meru_db_schema(db)));
        CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
        meru_read_options ro = MERU_READ_OPTIONS_INIT;
        CHECK_EQ_INT(ro.fill_cache, 1);
        ro.fill_cache = 0;
        /* The first read opens the file, whose footer is cached whatever
         * the read's options. */
        CHECK_OK(meru_row_set_int64(k, 0, 1));
        CHECK_OK(meru_get_ex(db, &ro, k, out));
        CHECK_OK(meru_stats_get(db, &st));
        uint64_t base = st.cache_bytes;
        for (int i = 0; i < 2000; i += 97) {
            CHECK_OK(meru_row_set_int64(k, 0, i));
            CHECK_OK(meru_get_ex(db, &ro, k, out));
            const char *v;
            size_t vl;
            CHECK_OK(meru_row_get_string(out, 1, &v, &vl));
            char want[64];
            snprintf(want, sizeof want, "value-%06d-MARKER", i);
            CHECK(vl == strlen(want) && !memcmp(v, want, vl));
        }
        CHECK_OK(meru_stats_get(db, &st));
        CHECK_MSG(st.cache_bytes == base,
                  "mmap %d: fill_cache 0 grew the cache %llu -> %llu", mmap,
                  (unsigned long long)base,
                  (unsigned long long)st.cache_bytes);
        /* ... nor the row cache: the same key misses again */
        uint64_t hits = st.row_cache_hits;
        CHECK_OK(meru_row_set_int64(k, 0, 5));
        CHECK_OK(meru_get_ex(db, &ro, k, out));
        CHECK_OK(meru_get_ex(db, &ro, k, out));
        CHECK_OK(meru_stats_get(db, &st));
        CHECK_EQ_U64(st.row_cache_hits, hits);
        /* A scan that does not fill leaves the cache as it was too. */
        meru_scan_options so = MERU_SCAN_OPTIONS_INIT;
        so.fill_cache = 0;
        meru_iter *it = NULL;
        const meru_row *row;
        uint64_t n = 0;
        CHECK_OK(meru_scan(db, &so, &it));
        while (meru_iter_next(it, &row) == MERU_OK)
            n++;
        meru_iter_free(it);
        CHECK_EQ_U64(n, 2000);
        CHECK_OK(meru_stats_get(db, &st));
        CHECK_EQ_U64(st.cache_bytes, base);
        /* The default fills: the cache grows, the row cache then hits
         * (the second get stores the row: admission on second use). */
        CHECK_OK(meru_get(db, NULL, k, out));
        CHECK_OK(meru_get(db, NULL, k, out));
        CHECK_OK(meru_get(db, NULL, k, out));
        CHECK_OK(meru_stats_get(db, &st));
        CHECK(st.cache_bytes > base);
        CHECK(st.row_cache_hits > hits);
        meru_row_free(k);
        meru_row_free(out);
        CHECK_OK(meru_close(db));
        meru_db_free(db);
    }
    meru_schema_free(s);
}

/* Flips one byte of row 0's value in the data page of the table's L0 file:
 * the PLAIN value is its 4-byte length then the bytes (page statistics,
 * outside the CRC, hold the same text without that prefix). */
static int corrupt_marker(const char *dir)
{
    char l0[1100], path[1400];
    snprintf(l0, sizeof l0, "%s/data/L0", dir);
    FILE *ls = NULL;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls %s", l0);
    ls = popen(cmd, "r");
    if (!ls)
        return -1;
    char name[256] = "";
    int got = fgets(name, sizeof name, ls) != NULL;
    pclose(ls);
    if (!got)
        return -1;
    name[strcspn(name, "\n")] = '\0';
    snprintf(path, sizeof path, "%s/%s", l0, name);
    size_t len = 0;
    uint8_t *data = meru_test_read_file(path, &len);
    if (!data)
        return -1;
    uint8_t *hit = NULL;
    static const char pat[] = "\x13\0\0\0value-000000-MARKER";
    size_t pn = sizeof pat - 1;
    for (size_t i = 0; i + pn <= len && !hit; i++)
        if (!memcmp(data + i, pat, pn))
            hit = data + i + pn - 6;
    int rc = -1;
    if (hit) {
        FILE *f = fopen(path, "r+b");
        if (f && fseek(f, (long)(hit - data), SEEK_SET) == 0 &&
            fputc('X', f) != EOF)
            rc = 0;
        if (f)
            fclose(f);
    }
    free(data);
    return rc;
}

static void test_read_option_verify_checksums(void)
{
    meru_schema *s = opt_schema();
    CHECK(s);
    for (int mmap = 0; mmap <= 1; mmap++) {
        const char *d =
            meru_test_tmpdir(mmap ? "callopt-crc-m" : "callopt-crc-p");
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", d);
        meru_db *db = flushed_table(dir, s, 50, mmap);
        CHECK(db);
        CHECK_OK(meru_close(db));
        meru_db_free(db);
        CHECK(corrupt_marker(dir) == 0);
        meru_options o;
        tdb_small_options(&o);
        o.mmap_reads = mmap;
        db = NULL;
        CHECK_OK(meru_open(dir, &o, NULL, &db));
        meru_row *k = NULL, *out = NULL;
        CHECK_OK(meru_row_new(&k, meru_db_schema(db)));
        CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
        CHECK_OK(meru_row_set_int64(k, 0, 0));
        meru_read_options ro = MERU_READ_OPTIONS_INIT;
        CHECK_EQ_INT(ro.verify_checksums, 1);
        ro.verify_checksums = 0;
        CHECK_OK(meru_get_ex(db, &ro, k, out));
        const char *v;
        size_t vl;
        CHECK_OK(meru_row_get_string(out, 1, &v, &vl));
        CHECK(vl == 19 && !memcmp(v, "value-000000-XARKER", 19));
        /* A checking read is not served the page read unchecked. */
        CHECK_RC(meru_get(db, NULL, k, out), MERU_ECORRUPT);
        CHECK_ERRMSG("CRC");
        CHECK_OK(meru_get_ex(db, &ro, k, out));
        /* Scans the same way. */
        meru_scan_options so = MERU_SCAN_OPTIONS_INIT;
        so.verify_checksums = 0;
        meru_iter *it = NULL;
        const meru_row *row;
        CHECK_OK(meru_scan(db, &so, &it));
        CHECK_OK(meru_iter_next(it, &row));
        CHECK_OK(meru_row_get_string(row, 1, &v, &vl));
        CHECK(vl == 19 && !memcmp(v, "value-000000-XARKER", 19));
        meru_iter_free(it);
        meru_scan_options_init(&so);
        CHECK_OK(meru_scan(db, &so, &it));
        CHECK_RC(meru_iter_next(it, &row), MERU_ECORRUPT);
        meru_iter_free(it);
        meru_row_free(k);
        meru_row_free(out);
        CHECK_OK(meru_close(db));
        meru_db_free(db);
    }
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_write_option_sync_syncs_that_write);
    MERU_TEST_RUN(test_read_option_fill_cache_adds_nothing);
    MERU_TEST_RUN(test_read_option_verify_checksums);
    return meru_test_finish();
}
