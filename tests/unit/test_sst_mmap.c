/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sst_mmap.c — reading SSTs through a memory map (meru_sst_read_options
 * mmap, meru_options.mmap_reads) against reading them through pread and the
 * block cache: the same answers for gets and scans, and an observable
 * difference — a mapped file puts no raw file blocks in the cache (only
 * decoded pages), a file system without maps (fs_fault) falls back to pread;
 * meru_sst_release_pages takes a map's pages out of the process's RSS and
 * leaves them readable. What stays out of the RSS of a mapped file: the
 * pages a get's page-cache miss decodes (read with pread, not the map),
 * the row group an iterator read on in when it ends, and the key columns
 * a key directory build passed over.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "test_db_common.h"

#include "cache/cache.h"
#include "engine/iter.h"
#include "sst/sst.h"
#include "sst/sst_keydir.h"
#include "sst_model.h"
#include "types/keycodec.h"
#include "support/fs_fault.h"

#define COLS "id int64 not null, name string, score double"

static meru_schema *mk_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "t", COLS, "id") != MERU_OK)
        return NULL;
    return s;
}

static int nrows(void)
{
    int n = (int)(4000 * meru_test_scale());
    return n < 600 ? 600 : n;
}

/* Rows with some null names; every 7th deleted again after a compaction,
 * so the table has L1 files (ZSTD, dictionaries) under an L0 file. */
static void fill(const char *dir)
{
    meru_schema *s = mk_schema();
    CHECK(s);
    meru_options o;
    tdb_small_options(&o);
    meru_db *db;
    CHECK_OK(meru_open(dir, &o, s, &db));
    meru_row *r;
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    int n = nrows();
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "name-%d-%llu", i,
                 (unsigned long long)(meru_test_rand() % 100000));
        meru_row_clear(r);
        CHECK_OK(meru_row_set_int64(r, 0, (int64_t)i * 3));
        if (i % 5 == 0)
            CHECK_OK(meru_row_set_null(r, 1));
        else
            CHECK_OK(meru_row_set_string(r, 1, name, strlen(name)));
        CHECK_OK(meru_row_set_double(r, 2, i * 0.25));
        CHECK_OK(meru_put(db, r, NULL));
    }
    CHECK_OK(meru_compact(db));
    for (int i = 0; i < n; i += 7) {
        meru_row_clear(r);
        CHECK_OK(meru_row_set_int64(r, 0, (int64_t)i * 3));
        CHECK_OK(meru_delete(db, r, NULL));
    }
    CHECK_OK(meru_flush(db));
    meru_row_free(r);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void text_add(text *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = realloc(t->p, cap);
        CHECK(p);
        if (!p)
            return;
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n + 1);
    t->len += n;
}

/* Every get (present, deleted and missing keys) and a full scan, as text;
 * the engine's stats after them. */
static void read_all(const char *dir, int mmap_reads, text *out,
                     meru_stats *st)
{
    meru_options o;
    tdb_small_options(&o);
    o.mmap_reads = mmap_reads;
    o.cache_bytes = (size_t)8 << 20;
    meru_db *db;
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    const meru_schema *s = meru_db_schema(db);
    meru_row *k, *row;
    CHECK_OK(meru_row_new(&k, s));
    CHECK_OK(meru_row_new(&row, s));
    int n = nrows();
    char line[64];
    for (int i = -2; i < 3 * n + 2; i++) {
        CHECK_OK(meru_row_set_int64(k, 0, i));
        int rc = meru_get(db, NULL, k, row);
        snprintf(line, sizeof line, "get %d: %d ", i, rc);
        text_add(out, line);
        if (rc == MERU_OK)
            text_add(out, tdb_row_str(row));
        text_add(out, "\n");
    }
    meru_iter *it;
    CHECK_OK(meru_scan(db, NULL, &it));
    const meru_row *sr;
    int rc;
    while ((rc = meru_iter_next(it, &sr)) == MERU_OK) {
        text_add(out, tdb_row_str(sr));
        text_add(out, "\n");
    }
    CHECK_RC(rc, MERU_NOT_FOUND);
    meru_iter_free(it);
    CHECK_OK(meru_stats_get(db, st));
    meru_row_free(k);
    meru_row_free(row);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

/* The same answers both ways; mapped, the cache holds decoded pages only,
 * so it misses less and holds fewer bytes than with file blocks too. */
static void test_mmap_reads_same_answers(void)
{
    const char *dir = meru_test_tmpdir("mmap_db");
    fill(dir);
    text on = {0}, off = {0};
    meru_stats son, soff;
    read_all(dir, 1, &on, &son);
    read_all(dir, 0, &off, &soff);
    CHECK(on.len > 0);
    CHECK_EQ_U64(on.len, off.len);
    CHECK(on.p && off.p && strcmp(on.p, off.p) == 0);
    CHECK_MSG(son.cache_misses < soff.cache_misses,
              "cache misses mapped %llu, pread %llu",
              (unsigned long long)son.cache_misses,
              (unsigned long long)soff.cache_misses);
    CHECK_MSG(son.cache_bytes < soff.cache_bytes,
              "cache bytes mapped %llu, pread %llu",
              (unsigned long long)son.cache_bytes,
              (unsigned long long)soff.cache_bytes);
    free(on.p);
    free(off.p);
}

static void test_mmap_reads_option(void)
{
    meru_options o;
    meru_options_init(&o);
    CHECK_EQ_INT(o.mmap_reads, 1);
    o.mmap_reads = 2;
    CHECK_RC(meru_options_validate(&o), MERU_EINVAL);
    CHECK_ERRMSG("mmap_reads");
    o.mmap_reads = 0;
    CHECK_OK(meru_options_validate(&o));
}

/* The first .parquet file under dir/data/<level>, into path[cap]. */
static int find_file(const char *dir, const char *level, char *path,
                     size_t cap)
{
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/data/%s", dir, level);
    DIR *d = opendir(sub);
    if (!d)
        return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 8 && !strcmp(e->d_name + n - 8, ".parquet")) {
            snprintf(path, cap, "%s/%s", sub, e->d_name);
            found = 1;
        }
    }
    closedir(d);
    return found;
}

/* Gets of keys 0, 3, 6, ... of one file: how many answered FOUND and the
 * pages decoded. */
static void sst_gets(meru_sst *t, const meru_schema *s, int *found_out,
                     uint64_t *pages)
{
    meru_row *k;
    CHECK_OK(meru_row_new(&k, s));
    meru_buf key = {0}, val = {0};
    meru_sst_read_stats st = {0, 0, 0};
    int found = 0;
    for (int i = 0; i < 3 * nrows(); i += 3) {
        CHECK_OK(meru_row_set_int64(k, 0, i));
        meru_buf_reset(&key);
        CHECK_OK(meru_key_encode_row(s, k, &key));
        meru_sst_state state;
        CHECK_OK(meru_sst_get(t, key.data, key.len, MERU_SEQ_MAX, &state,
                              NULL, &val, &st));
        found += state == MERU_SST_FOUND;
    }
    *pages = st.pages_read;
    *found_out = found;
    meru_buf_free(&key);
    meru_buf_free(&val);
    meru_row_free(k);
}

/* At the SST level: a mapped file caches nothing at open (the footer is
 * decoded in place) and exactly one entry per decoded page; through pread
 * the file's blocks are cached too. A fault fs has no maps: the
 * same file then reads through pread, with the same answers. */
static void test_sst_mapped_caches_pages_only(void)
{
    const char *dir = meru_test_tmpdir("mmap_sst");
    fill(dir);
    char path[1200];
    CHECK(find_file(dir, "L1", path, sizeof path));
    meru_schema *s = mk_schema();
    CHECK(s);
    meru_fs *ffs;
    CHECK_OK(meru_fs_fault_new(&ffs, meru_fs_posix()));
    int found[3];
    for (int mode = 0; mode < 3; mode++) {
        /* 0: mapped, 1: pread, 2: mapping asked on a fault fs */
        meru_fs *fs = mode == 2 ? ffs : meru_fs_posix();
        meru_sst_read_options ro = {mode != 1, NULL};
        meru_cache *c;
        CHECK_OK(meru_cache_new(&c, (size_t)16 << 20));
        meru_sst *t;
        CHECK_OK(meru_sst_open_ex(&t, fs, path, s, c, &ro));
        CHECK_EQ_INT(meru_sst_mapped(t), mode == 0);
        meru_cache_stats cs;
        meru_cache_stats_get(c, &cs);
        if (mode == 0)
            CHECK_EQ_U64(cs.inserts, 0);
        else
            CHECK(cs.inserts > 0);
        uint64_t pages = 0;
        sst_gets(t, s, &found[mode], &pages);
        meru_cache_stats_get(c, &cs);
        CHECK(pages > 0);
        /* mapped: one entry per decoded page and nothing else */
        if (mode == 0)
            CHECK_EQ_U64(cs.inserts, pages);
        else
            CHECK(cs.inserts > pages);
        meru_sst_close(t);
        meru_cache_free(c);
    }
    CHECK(found[0] > 0);
    CHECK_EQ_INT(found[0], found[1]);
    CHECK_EQ_INT(found[0], found[2]);
    meru_fs_free(ffs);
    meru_schema_free(s);
}

/* A mapped file's pages are in the RSS once read; released, they leave it
 * (all but a partial last page) and the file still reads the same. Through
 * pread, or on a file system without maps, releasing does nothing. */
static void test_sst_release_pages_leaves_rss(void)
{
    const char *dir = meru_test_tmpdir("mmap_release");
    fill(dir);
    char path[1200];
    CHECK(find_file(dir, "L1", path, sizeof path));
    meru_schema *s = mk_schema();
    CHECK(s);
    meru_sst_read_options ro = {true, NULL};
    meru_sst *t;
    CHECK_OK(meru_sst_open_ex(&t, meru_fs_posix(), path, s, NULL, &ro));
    CHECK(meru_sst_mapped(t));
    int found0, found1;
    uint64_t pages;
    sst_gets(t, s, &found0, &pages);
    long before = meru_test_map_rss_kib(path);
    meru_sst_release_pages(t);
    long after = meru_test_map_rss_kib(path);
    CHECK_MSG(before >= 8 && after >= 0 && after <= 4,
              "resident KiB of the map: %ld read, %ld released", before,
              after);
    sst_gets(t, s, &found1, &pages);
    CHECK(found0 > 0);
    CHECK_EQ_INT(found0, found1);
    CHECK(meru_test_map_rss_kib(path) >= 8); /* read again: back in */
    meru_sst_close(t);

    ro.mmap = false;
    CHECK_OK(meru_sst_open_ex(&t, meru_fs_posix(), path, s, NULL, &ro));
    meru_sst_release_pages(t);
    sst_gets(t, s, &found1, &pages);
    CHECK_EQ_INT(found0, found1);
    meru_sst_close(t);
    meru_schema_free(s);
}

/* ------------------------------------- what stays out of a map's RSS */

#define BIG_COLS "id int64 not null, b binary, x int64, d double"
#define BIG_KEYS 40000

/* An L1 file of BIG_KEYS keys (one version each) with random binary
 * values (incompressible: ~2 MB), row groups of 20000 rows; *m its
 * model. */
static void write_big(const char *name, const meru_schema *s, char *path,
                      size_t plen, sst_model **m)
{
    snprintf(path, plen, "%s/big.parquet", meru_test_tmpdir(name));
    *m = sst_model_make(s, BIG_KEYS, 1, 0, 0);
    CHECK(*m);
    meru_sst_options o;
    meru_sst_options_for_level(&o, 1, NULL);
    o.pq.row_group_rows = 20000;
    CHECK_OK(sst_model_write(*m, meru_fs_posix(), path, s, &o, NULL));
}

/* Gets of every step-th key of the model (entry key k is index 2k): the
 * found count and the pages decoded. */
static void big_gets(meru_sst *t, const meru_schema *s, int step,
                     int *found_out, uint64_t *pages)
{
    meru_buf uk = {0}, val = {0};
    meru_sst_read_stats st = {0, 0, 0};
    int found = 0;
    for (uint64_t k = 0; k < BIG_KEYS; k += (uint64_t)step) {
        meru_buf_reset(&uk);
        CHECK_OK(sst_ukey(s, 2 * k, &uk));
        meru_sst_state state;
        CHECK_OK(meru_sst_get(t, uk.data, uk.len, MERU_SEQ_MAX, &state, NULL,
                              &val, &st));
        found += state == MERU_SST_FOUND;
    }
    *pages = st.pages_read;
    *found_out = found;
    meru_buf_free(&uk);
    meru_buf_free(&val);
}

/* KiB of the file's map resident after the gets of big_gets, starting
 * from none (the pages open touched released): with a page cache the
 * misses decode their pages from a pread of each (sst_cache.c), without
 * one the get reads through a cursor on the map. */
static void big_gets_rss(const char *path, const meru_schema *s,
                         size_t cache_bytes, int step, int *found,
                         uint64_t *pages, long *kib)
{
    meru_cache *c = NULL;
    if (cache_bytes)
        CHECK_OK(meru_cache_new(&c, cache_bytes));
    meru_sst_read_options ro = {true, NULL};
    meru_sst *t;
    CHECK_OK(meru_sst_open_ex(&t, meru_fs_posix(), path, s, c, &ro));
    CHECK(meru_sst_mapped(t));
    meru_sst_release_pages(t);
    big_gets(t, s, step, found, pages);
    *kib = meru_test_map_rss_kib(path);
    meru_sst_close(t);
    meru_cache_free(c);
}

/* The gets' misses decode every page of the file, yet leave almost none
 * of its map resident (what stays is the bloom filters and indexes the
 * gets read in place, and the neighbours the kernel maps with them); the
 * same gets through a cursor on the map leave most of the file resident.
 * Every key is found both ways. */
static void test_sst_get_misses_read_pages_through_the_file(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t", BIG_COLS, "id"));
    char path[1200];
    sst_model *m;
    write_big("mmap_pread", s, path, sizeof path, &m);
    uint64_t size = 0;
    {
        meru_sst *t;
        CHECK_OK(meru_sst_open(&t, meru_fs_posix(), path, s, NULL));
        size = meru_sst_file_size(t);
        meru_sst_close(t);
    }
    int found_pc, found_cur;
    uint64_t pages_pc, pages_cur;
    long pc, cur;
    big_gets_rss(path, s, (size_t)64 << 20, 4, &found_pc, &pages_pc, &pc);
    /* every 4th / 16th key: a page holds far more rows, so both read
     * every page (the cursor's gets decode theirs afresh: slow) */
    big_gets_rss(path, s, 0, 16, &found_cur, &pages_cur, &cur);
    CHECK_EQ_INT(found_pc, BIG_KEYS / 4);
    CHECK_EQ_INT(found_cur, BIG_KEYS / 16);
    CHECK(pages_pc > 20); /* every page decoded once, from a pread */
    long file_kib = (long)(size >> 10);
    /* pc: ~200-250 KiB (the bloom filters and indexes, and the 64 KiB
     * the kernel maps around each fault in them) */
    CHECK_MSG(file_kib >= 1024 && cur >= file_kib / 2 && pc >= 0 &&
                  pc <= file_kib / 4,
              "file %ld KiB; resident after gets: %ld KiB (page cache), "
              "%ld KiB (cursor on the map)",
              file_kib, pc, cur);
    sst_model_free(m);
    meru_schema_free(s);
}

/* An iterator that read 4096 rows or more of its last row group
 * releases that row group's mapped pages when it ends; one that read a
 * window only keeps them. */
static void test_sst_iter_end_releases_its_row_group(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t", BIG_COLS, "id"));
    char path[1200];
    sst_model *m;
    write_big("mmap_iter", s, path, sizeof path, &m);
    meru_sst_read_options ro = {true, NULL};
    meru_sst *t;
    CHECK_OK(meru_sst_open_ex(&t, meru_fs_posix(), path, s, NULL, &ro));
    CHECK(meru_sst_mapped(t));
    for (int rows = 100; rows <= 6000; rows += 5900) {
        meru_sst_release_pages(t);
        meru_iiter *it;
        CHECK_OK(meru_sst_iter_new(t, NULL, &it));
        it->ops->seek_to_first(it);
        int n = 0;
        while (n < rows && it->ops->valid(it)) {
            it->ops->next(it);
            n++;
        }
        CHECK_EQ_INT(n, rows);
        long during = meru_test_map_rss_kib(path);
        meru_iiter_destroy(it);
        long after = meru_test_map_rss_kib(path);
        if (rows < 4096)
            CHECK_MSG(during >= 8 && after == during,
                      "%d rows: %ld KiB resident while read, %ld after",
                      rows, during, after);
        else
            /* what stays: the indexes the seek read in place */
            CHECK_MSG(during >= 256 && after >= 0 && after <= during / 4,
                      "%d rows: %ld KiB resident while read, %ld after",
                      rows, during, after);
    }
    /* One iterator reused for six short seeks (a window of 1024 rows
     * each, 6144 loaded in all) is no long scan: its end keeps them. */
    meru_sst_release_pages(t);
    meru_iiter *it;
    CHECK_OK(meru_sst_iter_new(t, NULL, &it));
    for (int seek = 0; seek < 6; seek++) {
        it->ops->seek_to_first(it);
        for (int n = 0; n < 10 && it->ops->valid(it); n++)
            it->ops->next(it);
        CHECK(it->ops->valid(it));
    }
    long during = meru_test_map_rss_kib(path);
    meru_iiter_destroy(it);
    long after = meru_test_map_rss_kib(path);
    CHECK_MSG(during >= 8 && after == during,
              "six short seeks: %ld KiB resident while read, %ld after",
              during, after);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
}

/* A key directory build reads the key columns of every row group
 * through the map and leaves none of them resident. */
static void test_sst_keydir_build_leaves_no_pages(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t", BIG_COLS, "id"));
    char path[1200];
    sst_model *m;
    write_big("mmap_keydir", s, path, sizeof path, &m);
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, (size_t)64 << 20));
    meru_sst_keydir_budget b;
    meru_sst_keydir_budget_init(&b, c, (uint64_t)32 << 20);
    meru_sst_read_options ro = {true, &b};
    meru_sst *t;
    CHECK_OK(meru_sst_open_ex(&t, meru_fs_posix(), path, s, c, &ro));
    CHECK(meru_sst_mapped(t));
    meru_sst_release_pages(t);
    CHECK(meru_sst_keydir_build(t, NULL));
    CHECK(meru_sst_keydir_bytes(t) > 0);
    /* What may stay: the pages the kernel mapped around the first fault
     * in row group 1 (up to 64 KiB, some of them row group 0's, released
     * before); without the releases ~190 KiB stay. */
    long after = meru_test_map_rss_kib(path);
    CHECK_MSG(after >= 0 && after <= 64,
              "%ld KiB of the map resident after the build", after);
    meru_sst_close(t);
    meru_cache_free(c);
    sst_model_free(m);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_mmap_reads_option);
    MERU_TEST_RUN(test_mmap_reads_same_answers);
    MERU_TEST_RUN(test_sst_mapped_caches_pages_only);
    MERU_TEST_RUN(test_sst_release_pages_leaves_rss);
    MERU_TEST_RUN(test_sst_get_misses_read_pages_through_the_file);
    MERU_TEST_RUN(test_sst_iter_end_releases_its_row_group);
    MERU_TEST_RUN(test_sst_keydir_build_leaves_no_pages);
    return meru_test_finish();
}
