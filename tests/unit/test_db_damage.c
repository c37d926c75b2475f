/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_damage.c — damaged tables give errors, never wrong answers and
 * never silent rollbacks (issue 16, defects 2, 3 and 5). Each test damages
 * a table the way the reproductions did and checks what the engine
 * says:
 *  - a damaged newest metadata version: the open fails naming the file,
 *    and nothing is deleted (the data file that version added survives);
 *  - zeroed bloom filter bytes: gets of present keys fail with a checksum
 *    error instead of answering "not found";
 *  - a wrong key range in otherwise valid metadata (its checksum made to
 *    match): the file's own footer contradicts it, and reads say so;
 *  - two data files swapped: each carries its id, reads say so;
 *  - a deleted live WAL segment: the open fails naming it instead of
 *    dropping its rows;
 *  - one unreadable data file: read-only and read-write opens both
 *    succeed, reads that need the file fail naming it, the others work;
 *  - a log larger than the free disk: the open recovers it into memory
 *    without writing data files first;
 *  - damage in the middle of the log: the open fails, and with the
 *    wal_salvage option recovers what is intact and says what it dropped;
 *  - damage no read meets (a shadowed file's bloom filter): the quick
 *    check passes, the full meru_verify names it;
 *  - a deletion vector hiding a live row (an Iceberg reader would miss
 *    it): meru_verify names the file and the row;
 *  - and meru_repair, the explicit way out of each: a rollback that keeps
 *    the lost commits' rows, an unreadable file set aside, a salvaged log,
 *    nothing done to a sound table.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/db_internal.h"
#include "iceberg/dv.h"
#include "parquet/pq.h"
#include "support/fs_fault.h"
#include "test.h"
#include "test_db_common.h"
#include "util/crc32c.h"

#define COLS "id int64 not null, v string"

static meru_schema *g_schema;

static int put_rows(meru_db *db, int64_t from, int64_t to)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, g_schema);
    for (int64_t i = from; rc == MERU_OK && i < to; i++) {
        char v[32];
        int n = snprintf(v, sizeof v, "value-%lld", (long long)i);
        meru_row_clear(r);
        rc = meru_row_set_int64(r, 0, i);
        if (!rc)
            rc = meru_row_set_string(r, 1, v, (size_t)n);
        if (!rc)
            rc = meru_put(db, r, NULL);
    }
    meru_row_free(r);
    return rc;
}

/* meru_get of key i: its status, and *ok = the row holds the right value. */
static int get_row(meru_db *db, int64_t i, int *ok)
{
    meru_row *k = NULL, *out = NULL;
    *ok = 0;
    int rc = meru_row_new(&k, g_schema);
    if (!rc)
        rc = meru_row_new(&out, g_schema);
    if (!rc)
        rc = meru_row_set_int64(k, 0, i);
    if (!rc)
        rc = meru_get(db, NULL, k, out);
    if (rc == MERU_OK) {
        const char *v = NULL;
        size_t n = 0;
        char want[32];
        int wn = snprintf(want, sizeof want, "value-%lld", (long long)i);
        *ok = meru_row_get_string(out, 1, &v, &n) == MERU_OK &&
              n == (size_t)wn && !memcmp(v, want, n);
    }
    meru_row_free(k);
    meru_row_free(out);
    return rc;
}

/* Rows a full scan returns, or a negative status. */
static long scan_count(meru_db *db)
{
    meru_iter *it = NULL;
    const meru_row *r;
    long n = 0;
    int rc = meru_scan(db, NULL, &it);
    while (rc == MERU_OK && (rc = meru_iter_next(it, &r)) == MERU_OK)
        n++;
    meru_iter_free(it);
    return rc == MERU_NOT_FOUND ? n : rc;
}

static void small_opts(meru_options *o)
{
    tdb_small_options(o);
    o->memtable_bytes = (size_t)1 << 20; /* flushes only when asked */
    o->l0_compaction_trigger = 12;
}

/* A table with one L0 file per range [starts[i], starts[i + 1]). */
static int make_files(const char *dir, const int64_t *starts, int nfiles)
{
    meru_db *db = NULL;
    meru_options o;
    small_opts(&o);
    int rc = meru_open(dir, &o, g_schema, &db);
    for (int f = 0; rc == MERU_OK && f < nfiles; f++) {
        rc = put_rows(db, starts[f], starts[f + 1]);
        if (!rc)
            rc = meru_flush(db);
    }
    if (db) {
        int rc2 = meru_close(db);
        if (!rc)
            rc = rc2;
        meru_db_free(db);
    }
    return rc;
}

/* The data files of data/L<level>/ (sorted names), as full paths. */
static int list_files(const char *dir, int level, char out[][512], int max)
{
    char sub[200];
    snprintf(sub, sizeof sub, "%s/data/L%d", dir, level);
    DIR *d = opendir(sub);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) && n < max)
        if (strstr(e->d_name, ".parquet"))
            snprintf(out[n++], 512, "%.200s/%.200s", sub, e->d_name);
    if (d)
        closedir(d);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(out[j - 1], out[j]) > 0; j--) {
            char t[512];
            memcpy(t, out[j], 512);
            memcpy(out[j], out[j - 1], 512);
            memcpy(out[j - 1], t, 512);
        }
    return n;
}

static uint64_t newest_version(const char *dir)
{
    char sub[512];
    snprintf(sub, sizeof sub, "%s/metadata", dir);
    DIR *d = opendir(sub);
    struct dirent *e;
    uint64_t best = 0;
    while (d && (e = readdir(d))) {
        unsigned long long v;
        char tail[64];
        if (sscanf(e->d_name, "v%llu%63s", &v, tail) == 2 &&
            !strcmp(tail, ".metadata.json") && v > best)
            best = v;
    }
    if (d)
        closedir(d);
    return best;
}

static int write_all(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Rewrites metadata version v through edit(root) with a checksum that
 * matches (the way the library writes it), so only the engine's own
 * cross-checks can tell the content is wrong. */
static int rewrite_metadata(const char *dir, uint64_t v,
                            void (*edit)(json_t *root))
{
    char path[600];
    snprintf(path, sizeof path, "%s/metadata/v%llu.metadata.json", dir,
             (unsigned long long)v);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return -1;
    edit(root);
    json_object_set_new(json_object_get(root, "properties"),
                        "merutable.checksum", json_string("crc32c:00000000"));
    char *text = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    if (!text)
        return -1;
    size_t n = strlen(text);
    char *file = malloc(n + 2);
    memcpy(file, text, n);
    file[n++] = '\n';
    free(text);
    char *at = strstr(file, "crc32c:00000000");
    char hex[9];
    snprintf(hex, sizeof hex, "%08x", meru_crc32c(file, n));
    memcpy(at + 7, hex, 8);
    int rc = write_all(path, file, n);
    free(file);
    return rc;
}

/* ------------------------------------------------------------- defect 2 */

static void test_damaged_newest_metadata_fails_open_and_deletes_nothing(void)
{
    const char *dir = meru_test_tmpdir("damage_meta");
    const int64_t starts[] = {0, 100, 200};
    char files[8][512], path[600];
    meru_db *db = NULL;
    CHECK_OK(make_files(dir, starts, 2));
    int n = list_files(dir, 0, files, 8);
    CHECK_EQ_INT(n, 2);
    uint64_t v = newest_version(dir);
    snprintf(path, sizeof path, "%s/metadata/v%llu.metadata.json", dir,
             (unsigned long long)v);
    size_t len = 0;
    uint8_t *b = meru_test_read_file(path, &len);
    CHECK(b && len > 100);
    b[len / 2] ^= 0x20; /* one flipped bit, anywhere */
    CHECK_EQ_INT(write_all(path, b, len), 0);
    free(b);

    for (int ro = 0; ro < 2; ro++) {
        meru_options o;
        small_opts(&o);
        o.read_only = ro;
        CHECK(meru_open(dir, &o, NULL, &db) == MERU_ECORRUPT);
        CHECK(db == NULL);
        char name[64];
        snprintf(name, sizeof name, "v%llu.metadata.json",
                 (unsigned long long)v);
        CHECK_ERRMSG(name);
    }
    /* every data file is still there */
    char again[8][512];
    CHECK_EQ_INT(list_files(dir, 0, again, 8), 2);
    for (int i = 0; i < n; i++)
        CHECK_STR(again[i], files[i]);
}

/* ------------------------------------------------------------- defect 3 */

/* Zeroes the bloom filter bitset of column `col` in row group 0. */
static int zero_bloom(const char *path, const char *col)
{
    size_t len = 0;
    uint8_t *b = meru_test_read_file(path, &len);
    if (!b)
        return -1;
    pq_mem m;
    pq_source src;
    pq_reader *r = NULL;
    pq_source_mem(&src, &m, b, len);
    int rc = pq_reader_open(&r, &src, NULL);
    int c = rc ? -1 : pq_reader_find_column(r, col);
    const pq_column_meta *cm = c < 0 ? NULL : pq_reader_chunk(r, 0, (uint32_t)c);
    if (!cm || !cm->has_bloom_filter_offset || !cm->has_bloom_filter_length) {
        pq_reader_close(r);
        free(b);
        return -1;
    }
    /* keep the header (the first bytes), zero the bits after it */
    int64_t off = cm->bloom_filter_offset, n = cm->bloom_filter_length;
    pq_reader_close(r);
    memset(b + off + 16, 0, (size_t)(n - 16));
    rc = write_all(path, b, len);
    free(b);
    return rc;
}

static void test_zeroed_bloom_filter_is_an_error_not_not_found(void)
{
    const char *dir = meru_test_tmpdir("damage_bloom");
    const int64_t starts[] = {0, 300};
    char files[4][512];
    meru_db *db = NULL;
    meru_options o;
    CHECK_OK(make_files(dir, starts, 1));
    CHECK_EQ_INT(list_files(dir, 0, files, 4), 1);
    CHECK_EQ_INT(zero_bloom(files[0], "id"), 0);
    small_opts(&o);
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    int not_found = 0, errors = 0, right = 0;
    for (int64_t i = 0; i < 300; i++) {
        int ok = 0, rc = get_row(db, i, &ok);
        not_found += rc == MERU_NOT_FOUND;
        errors += rc == MERU_ECORRUPT;
        right += rc == MERU_OK && ok;
    }
    CHECK_MSG(not_found == 0, "%d of 300 present keys answered not found",
              not_found);
    CHECK_EQ_INT(errors + right, 300);
    CHECK(errors > 0);
    int ok;
    CHECK_RC(get_row(db, 7, &ok), MERU_ECORRUPT);
    CHECK_ERRMSG("bloom filter checksum mismatch");
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

static void shift_first_key_range(json_t *root)
{
    json_t *levels = json_object_get(json_object_get(root, "merutable"),
                                     "levels");
    json_t *f = json_array_get(
        json_object_get(json_array_get(levels, 0), "files"), 0);
    /* the smallest key of a one-column int64 key, made larger: the file
     * seems to start later than it does */
    const char *k = json_string_value(json_object_get(f, "smallest-key"));
    char *nk = strdup(k);
    size_t n = strlen(nk);
    nk[n - 2] = '7';
    json_object_set_new(f, "smallest-key", json_string(nk));
    free(nk);
}

static void test_wrong_key_range_in_valid_metadata_is_caught(void)
{
    const char *dir = meru_test_tmpdir("damage_range");
    const int64_t starts[] = {0, 200};
    meru_db *db = NULL;
    meru_options o;
    CHECK_OK(make_files(dir, starts, 1));
    CHECK_EQ_INT(rewrite_metadata(dir, newest_version(dir),
                                  shift_first_key_range),
                 0);
    small_opts(&o);
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    int not_found = 0, errors = 0;
    for (int64_t i = 0; i < 200; i++) {
        int ok = 0, rc = get_row(db, i, &ok);
        not_found += rc == MERU_NOT_FOUND;
        errors += rc == MERU_ECORRUPT;
        CHECK(rc != MERU_OK || ok);
    }
    CHECK_MSG(not_found == 0, "%d of 200 present keys answered not found",
              not_found);
    CHECK(errors > 0);
    int ok;
    CHECK_RC(get_row(db, 150, &ok), MERU_ECORRUPT);
    CHECK_ERRMSG("key range");
    CHECK(scan_count(db) == MERU_ECORRUPT);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

static void test_swapped_data_files_are_caught(void)
{
    const char *dir = meru_test_tmpdir("damage_swap");
    const int64_t starts[] = {0, 100, 200};
    char files[4][512], tmp[600];
    meru_db *db = NULL;
    meru_options o;
    CHECK_OK(make_files(dir, starts, 2));
    CHECK_EQ_INT(list_files(dir, 0, files, 4), 2);
    snprintf(tmp, sizeof tmp, "%s.swap", files[0]);
    CHECK_EQ_INT(rename(files[0], tmp), 0);
    CHECK_EQ_INT(rename(files[1], files[0]), 0);
    CHECK_EQ_INT(rename(tmp, files[1]), 0);
    small_opts(&o);
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    for (int64_t i = 0; i < 200; i += 7) {
        int ok = 0, rc = get_row(db, i, &ok);
        CHECK_MSG(rc == MERU_ECORRUPT, "get %lld: %s", (long long)i,
                  meru_strerror(rc));
    }
    CHECK_ERRMSG("is not the file the table lists there");
    CHECK(scan_count(db) == MERU_ECORRUPT);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

/* Rows written with MERU_SYNC_EVERY over the fault fs, then a power cut:
 * they are only in the WAL. */
static int make_wal_only(const char *dir, int64_t nrows)
{
    meru_fs *fs = NULL;
    meru_db *db = NULL;
    meru_options o;
    small_opts(&o);
    o.sync_mode = MERU_SYNC_EVERY;
    int rc = meru_fs_fault_new(&fs, meru_fs_posix());
    if (!rc)
        rc = meru_db_open_fs(dir, &o, g_schema, fs, &db);
    if (!rc)
        rc = put_rows(db, 0, nrows);
    meru_fs_fault_die_after(fs, 0); /* the process dies here */
    meru_db_free(db);
    int rc2 = meru_fs_fault_crash(fs);
    meru_fs_free(fs);
    return rc ? rc : rc2;
}

static void test_deleted_live_wal_segment_fails_the_open(void)
{
    const char *dir = meru_test_tmpdir("damage_wal");
    char path[600];
    meru_db *db = NULL;
    meru_options o;
    CHECK_OK(make_wal_only(dir, 261));
    /* the rows are there */
    small_opts(&o);
    o.read_only = 1;
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_EQ_INT(scan_count(db), 261);
    meru_close(db);
    meru_db_free(db);
    db = NULL;
    /* delete every segment */
    snprintf(path, sizeof path, "%s/wal", dir);
    DIR *d = opendir(path);
    struct dirent *e;
    int removed = 0;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".log")) {
            char p[1200];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            removed += unlink(p) == 0;
        }
    if (d)
        closedir(d);
    CHECK(removed >= 1);
    for (int ro = 0; ro < 2; ro++) {
        small_opts(&o);
        o.read_only = ro;
        CHECK_RC(meru_open(dir, &o, NULL, &db), MERU_ECORRUPT);
        CHECK_ERRMSG("is missing");
    }
}

/* The segment check itself: gaps anywhere from the oldest live segment to
 * the newest present are damage; segments below it or none at all are
 * fine. */
static void test_wal_segment_check_finds_gaps(void)
{
    const char *dir = meru_test_tmpdir("damage_walgap");
    char path[600];
    uint64_t have[] = {2, 3, 4, 6};
    for (size_t i = 0; i < 4; i++) {
        CHECK_OK(meru_wal_segment_path(path, sizeof path, dir, have[i]));
        CHECK_EQ_INT(write_all(path, "", 0), 0);
    }
    meru_fs *fs = meru_fs_posix();
    CHECK_OK(meru_db_check_wal_segments(fs, dir, 6, 7)); /* 6 live */
    CHECK_OK(meru_db_check_wal_segments(fs, dir, 6, 6)); /* 6: after a crash */
    CHECK_OK(meru_db_check_wal_segments(fs, dir, 7, 7)); /* none live */
    CHECK_RC(meru_db_check_wal_segments(fs, dir, 3, 7), MERU_ECORRUPT);
    CHECK_ERRMSG("00000000000000000005.log is missing");
    CHECK_RC(meru_db_check_wal_segments(fs, dir, 1, 3), MERU_ECORRUPT);
    /* segment numbers are handed out in order: 6 without 5 means 5 went */
    CHECK_RC(meru_db_check_wal_segments(fs, dir, 3, 5), MERU_ECORRUPT);
    CHECK_ERRMSG("later segments exist");
    CHECK_OK(meru_wal_segment_path(path, sizeof path, dir, 6));
    CHECK_EQ_INT(unlink(path), 0);
    CHECK_OK(meru_db_check_wal_segments(fs, dir, 3, 5)); /* 3, 4 live */
    CHECK_OK(meru_db_check_wal_segments(fs, dir, 2, 4));
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s/none", dir);
    CHECK_OK(meru_db_check_wal_segments(fs, nodir, 5, 5));
    CHECK_RC(meru_db_check_wal_segments(fs, nodir, 5, 6), MERU_ECORRUPT);
}

/* ------------------------------------------------------------- defect 5 */

/* The WAL's rows are recovered into memory and the open writes no data
 * file: with every data file write failing (a disk too full for the log's
 * contents), a read-write open still succeeds and reads everything. */
static void test_open_recovers_without_flushing_the_log(void)
{
    const char *dir = meru_test_tmpdir("damage_nospace");
    meru_fs *fs = NULL;
    meru_db *db = NULL;
    meru_options o;
    CHECK_OK(make_wal_only(dir, 500));
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_OPEN, "/data/", 0, ENOSPC));
    small_opts(&o);
    CHECK_OK(meru_db_open_fs(dir, &o, NULL, fs, &db));
    CHECK_EQ_INT(scan_count(db), 500);
    int ok;
    CHECK_OK(get_row(db, 499, &ok));
    CHECK(ok);
    /* The flush that follows cannot write: it fails, for good, and says
     * why; what was read stays readable. */
    CHECK_RC(meru_flush(db), MERU_EFAILED);
    CHECK_ERRMSG("No space");
    CHECK_OK(get_row(db, 3, &ok));
    CHECK(ok);
    meru_close(db);
    meru_db_free(db);
    meru_fs_free(fs);
    /* nothing was lost: a normal open has it all */
    small_opts(&o);
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_EQ_INT(scan_count(db), 500);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

/* The change feed claims no history it lacks: from meru_changes_oldest
 * on, every sequence up to the last one is there, one change each (the
 * rows of these tests are inserts of distinct keys), and below it the feed
 * says MERU_EEXPIRED. *floor gets the oldest. */
static void check_feed_is_whole(meru_db *db, uint64_t *floor)
{
    meru_stats st;
    meru_changes_iter *it = NULL;
    meru_change c;
    uint64_t oldest = meru_changes_oldest(db), want, n = 0;
    CHECK_OK(meru_stats_get(db, &st));
    if (floor)
        *floor = oldest;
    if (oldest)
        CHECK_RC(meru_changes(db, oldest - 1, NULL, &it), MERU_EEXPIRED);
    CHECK_OK(meru_changes(db, oldest, NULL, &it));
    for (want = oldest + 1; meru_change_next(it, &c) == MERU_OK; want++, n++)
        CHECK_MSG(c.seq == want, "change %llu where %llu was expected: a "
                  "hole in the history above the floor %llu",
                  (unsigned long long)c.seq, (unsigned long long)want,
                  (unsigned long long)oldest);
    meru_changes_free(it);
    CHECK_EQ_U64(oldest + n, st.last_sequence);
}

/* Damage in the middle of the log fails the open; wal_salvage recovers
 * what is intact, says how much it dropped, and flushes, so the next open
 * needs no salvage. */
static void test_wal_salvage_option_recovers_around_damage(void)
{
    const char *dir = meru_test_tmpdir("damage_salvage");
    char path[600];
    meru_db *db = NULL;
    meru_options o;
    CHECK_OK(make_wal_only(dir, 1500)); /* two 32 KiB log blocks and more */
    snprintf(path, sizeof path, "%s/wal", dir);
    DIR *d = opendir(path);
    struct dirent *e;
    char seg[1200] = "";
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".log"))
            snprintf(seg, sizeof seg, "%s/%s", path, e->d_name);
    if (d)
        closedir(d);
    CHECK(seg[0]);
    size_t len = 0;
    uint8_t *b = meru_test_read_file(seg, &len);
    CHECK(b && len > 40000);
    b[len / 3] ^= 0x55;
    CHECK_EQ_INT(write_all(seg, b, len), 0);
    free(b);
    small_opts(&o);
    CHECK_RC(meru_open(dir, &o, NULL, &db), MERU_ECORRUPT);
    o.wal_salvage = 1;
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_MSG(st.wal_salvaged_bytes > 0 && st.wal_salvaged_regions >= 1,
              "salvaged %llu bytes in %llu regions",
              (unsigned long long)st.wal_salvaged_bytes,
              (unsigned long long)st.wal_salvaged_regions);
    long n = scan_count(db);
    CHECK(n > 500 && n < 1500);
    int ok;
    CHECK_OK(get_row(db, 1499, &ok)); /* after the damage */
    CHECK(ok);
    /* the lost writes leave no hole in the change feed: it starts after
     * them (rows 0..1499 are sequences 1..1500, 1500 - n of them lost) */
    uint64_t floor = 0, floor2 = 0;
    check_feed_is_whole(db, &floor);
    CHECK_MSG(floor >= (uint64_t)(1500 - n) && floor < 1500,
              "floor %llu with %ld rows left", (unsigned long long)floor, n);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    o.wal_salvage = 0;
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_EQ_INT(scan_count(db), n);
    check_feed_is_whole(db, &floor2); /* the catalog's floor */
    CHECK_EQ_U64(floor2, floor);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.wal_salvaged_bytes, 0);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

static void test_one_unreadable_file_fails_only_the_reads_that_need_it(void)
{
    const char *dir = meru_test_tmpdir("damage_lazy");
    const int64_t starts[] = {0, 100, 200};
    char files[4][512];
    CHECK_OK(make_files(dir, starts, 2));
    CHECK_EQ_INT(list_files(dir, 0, files, 4), 2);
    /* find which file holds keys 0..99: the one whose damage breaks them */
    size_t len = 0;
    uint8_t *b = meru_test_read_file(files[0], &len);
    CHECK(b);
    memset(b + len - 64, 0xA5, 56); /* the footer's tail: unreadable */
    CHECK_EQ_INT(write_all(files[0], b, len), 0);
    free(b);
    for (int ro = 0; ro < 2; ro++) {
        meru_db *db = NULL;
        meru_options o;
        small_opts(&o);
        o.read_only = ro;
        CHECK_OK(meru_open(dir, &o, NULL, &db));
        int good = 0, bad = 0;
        for (int64_t i = 0; i < 200; i++) {
            int ok = 0, rc = get_row(db, i, &ok);
            if (rc == MERU_OK && ok)
                good++;
            else if (rc == MERU_ECORRUPT && strstr(meru_errmsg(), files[0]))
                bad++;
        }
        /* the other file's keys read; the damaged file's fail naming it */
        CHECK_MSG(good == 100 && bad == 100, "%s: %d good, %d naming the file",
                  ro ? "read-only" : "read-write", good, bad);
        CHECK(scan_count(db) == MERU_ECORRUPT);
        meru_close(db);
        meru_db_free(db);
    }
}

/* ------------------------------------------------------------- defect 4 */

/* Damage no read meets: a file whose every key a newer file shadows, its
 * bloom filter zeroed. Gets stop at the newer file and scans do not read
 * filters, so the quick check passes; the full one looks every key up in
 * its own file and names the damage. */
static void test_full_verify_finds_damage_reads_do_not_meet(void)
{
    const char *dir = meru_test_tmpdir("verify_latent");
    const int64_t starts[] = {0, 300};
    char files[4][512];
    meru_db *db = NULL;
    meru_options o;
    meru_verify_report vr;
    CHECK_OK(make_files(dir, starts, 1));
    CHECK_EQ_INT(list_files(dir, 0, files, 4), 1);
    CHECK_EQ_INT(zero_bloom(files[0], "id"), 0);
    small_opts(&o);
    o.iceberg_view = MERU_ICEBERG_VIEW_OFF; /* no flush lookup reads it */
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_OK(put_rows(db, 0, 300));
    CHECK_OK(meru_flush(db));
    for (int64_t i = 0; i < 300; i += 37) {
        int ok = 0;
        CHECK_OK(get_row(db, i, &ok));
        CHECK(ok);
    }
    CHECK_EQ_INT(scan_count(db), 300);
    CHECK_OK(meru_verify(db, MERU_VERIFY_QUICK, &vr));
    CHECK_EQ_U64(vr.files, 2);
    CHECK_RC(meru_verify(db, 0, &vr), MERU_ECORRUPT);
    CHECK_ERRMSG("bloom filter checksum mismatch");
    CHECK(strstr(meru_errmsg(), strrchr(files[0], '/') + 1));
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

/* ------------------------------------------------------- Iceberg view */

/* The view's vectors are sound after overwrites; one hiding a row that is
 * its key's newest version makes meru_verify fail naming the file. */
static void test_verify_finds_a_vector_hiding_a_live_row(void)
{
    const char *dir = meru_test_tmpdir("verify_dv");
    meru_db *db = NULL;
    meru_options o;
    meru_verify_report vr;
    small_opts(&o);
    o.iceberg_view = MERU_ICEBERG_VIEW_CONTINUOUS;
    CHECK_OK(meru_open(dir, &o, g_schema, &db));
    CHECK_OK(put_rows(db, 0, 100));
    CHECK_OK(meru_flush(db));
    CHECK_OK(put_rows(db, 50, 150)); /* hides rows 50..99 of the first */
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_verify(db, 0, &vr));

    pthread_mutex_lock(&db->cat_mu);
    CHECK_EQ_U64(db->nfiles, 2);
    char path[512];
    snprintf(path, sizeof path, "%s", db->files[1]->meta.path); /* older */
    meru_dv *dv = NULL;
    meru_catalog_edit *e = NULL;
    CHECK_OK(meru_catalog_file_dv(db->cat, path, &dv));
    CHECK(dv && meru_dv_cardinality(dv) == 50);
    CHECK_OK(meru_dv_add(dv, 7)); /* key 7: only in this file, live */
    CHECK_OK(meru_catalog_edit_new(db->cat, &e));
    CHECK_OK(meru_catalog_edit_set_dv(e, path, dv));
    CHECK_OK(meru_catalog_commit(db->cat, e));
    meru_catalog_edit_free(e);
    meru_dv_free(dv);
    pthread_mutex_unlock(&db->cat_mu);

    CHECK_RC(meru_verify(db, 0, &vr), MERU_ECORRUPT);
    CHECK(strstr(meru_errmsg(), path) && strstr(meru_errmsg(), "row 7"));
    /* the quick check reads no vectors */
    CHECK_OK(meru_verify(db, MERU_VERIFY_QUICK, &vr));
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

/* -------------------------------------------------------------- repair */

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* A damaged newest version: repair rolls back and puts the file of the
 * lost commit back, so no row is lost; the log says so. */
static void test_repair_rolls_back_and_keeps_the_lost_commits_rows(void)
{
    const char *dir = meru_test_tmpdir("repair_meta");
    const int64_t starts[] = {0, 100, 200};
    char path[600];
    meru_db *db = NULL;
    meru_options o;
    CHECK_OK(make_files(dir, starts, 2));
    uint64_t v = newest_version(dir);
    snprintf(path, sizeof path, "%s/metadata/v%llu.metadata.json", dir,
             (unsigned long long)v);
    size_t len = 0;
    uint8_t *b = meru_test_read_file(path, &len);
    CHECK(b);
    b[len / 2] ^= 0x20;
    CHECK_EQ_INT(write_all(path, b, len), 0);
    free(b);
    small_opts(&o);
    CHECK_RC(meru_open(dir, &o, NULL, &db), MERU_ECORRUPT);
    meru_repair_report rep;
    CHECK_OK(meru_repair(dir, &o, &rep));
    CHECK(rep.versions_rolled_back >= 1);
    CHECK_EQ_U64(rep.files_dropped, 0);
    strcat(path, ".damaged");
    CHECK(file_exists(path));
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_EQ_INT(scan_count(db), 200);
    int ok;
    CHECK_OK(get_row(db, 150, &ok));
    CHECK(ok);
    /* the rows put back have no changelog: the feed starts after them */
    uint64_t floor = 0;
    check_feed_is_whole(db, &floor);
    CHECK_EQ_U64(floor, 200);
    meru_verify_report vr;
    CHECK_OK(meru_verify(db, 0, &vr));
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    snprintf(path, sizeof path, "%s/repair.log", dir);
    size_t ll = 0;
    char *log = (char *)meru_test_read_file(path, &ll);
    CHECK(log && strstr(log, "rolling back to metadata version"));
    free(log);
}

/* An unreadable file leaves the table for lost/; the rest reads. */
static void test_repair_sets_an_unreadable_file_aside(void)
{
    const char *dir = meru_test_tmpdir("repair_file");
    const int64_t starts[] = {0, 100, 200};
    char files[4][512], path[600];
    meru_db *db = NULL;
    meru_options o;
    CHECK_OK(make_files(dir, starts, 2));
    CHECK_EQ_INT(list_files(dir, 0, files, 4), 2);
    size_t len = 0;
    uint8_t *b = meru_test_read_file(files[0], &len);
    CHECK(b);
    memset(b + len - 64, 0xA5, 56);
    CHECK_EQ_INT(write_all(files[0], b, len), 0);
    free(b);
    small_opts(&o);
    meru_repair_report rep;
    CHECK_OK(meru_repair(dir, &o, &rep));
    CHECK_EQ_U64(rep.files_dropped, 1);
    CHECK_EQ_U64(rep.rows_dropped, 100);
    CHECK_EQ_U64(rep.files_set_aside, 1);
    CHECK(!file_exists(files[0]));
    snprintf(path, sizeof path, "%s/lost", dir);
    CHECK(file_exists(path));
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_EQ_INT(scan_count(db), 100);
    meru_verify_report vr;
    CHECK_OK(meru_verify(db, 0, &vr));
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

/* A log damaged in the middle, and one with its live segment gone. */
static void test_repair_salvages_the_log(void)
{
    const char *dir = meru_test_tmpdir("repair_wal");
    char path[600], seg[1200] = "";
    meru_db *db = NULL;
    meru_options o;
    CHECK_OK(make_wal_only(dir, 1500));
    snprintf(path, sizeof path, "%s/wal", dir);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".log"))
            snprintf(seg, sizeof seg, "%s/%s", path, e->d_name);
    if (d)
        closedir(d);
    size_t len = 0;
    uint8_t *b = meru_test_read_file(seg, &len);
    CHECK(b && len > 40000);
    b[len / 3] ^= 0x55;
    CHECK_EQ_INT(write_all(seg, b, len), 0);
    free(b);
    small_opts(&o);
    meru_repair_report rep;
    CHECK_OK(meru_repair(dir, &o, &rep));
    CHECK(rep.wal_salvaged_bytes > 0);
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    long n = scan_count(db);
    CHECK(n > 500 && n < 1500);
    CHECK_OK(meru_close(db));
    meru_db_free(db);

    dir = meru_test_tmpdir("repair_walgone");
    CHECK_OK(make_wal_only(dir, 50));
    snprintf(path, sizeof path, "%s/wal", dir);
    d = opendir(path);
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".log")) {
            snprintf(seg, sizeof seg, "%s/%s", path, e->d_name);
            unlink(seg);
        }
    if (d)
        closedir(d);
    CHECK_RC(meru_open(dir, &o, NULL, &db), MERU_ECORRUPT);
    CHECK_OK(meru_repair(dir, &o, &rep));
    CHECK(rep.wal_segments_skipped >= 1);
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_EQ_INT(scan_count(db), 0);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

/* A sound table: repair changes nothing; an open writer: refused. */
static void test_repair_of_a_sound_table_changes_nothing(void)
{
    const char *dir = meru_test_tmpdir("repair_sound");
    const int64_t starts[] = {0, 100, 200};
    meru_db *db = NULL;
    meru_options o;
    CHECK_OK(make_files(dir, starts, 2));
    uint64_t v = newest_version(dir);
    small_opts(&o);
    meru_repair_report rep;
    CHECK_OK(meru_repair(dir, &o, &rep));
    CHECK(!rep.versions_rolled_back && !rep.files_readded &&
          !rep.files_set_aside && !rep.files_dropped &&
          !rep.wal_segments_skipped && !rep.wal_salvaged_bytes);
    char path[600];
    snprintf(path, sizeof path, "%s/lost", dir);
    CHECK(!file_exists(path));
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_EQ_INT(scan_count(db), 200);
    /* the open and close of the repair's recovery commit; data unchanged */
    CHECK(newest_version(dir) >= v);
    CHECK_RC(meru_repair(dir, &o, &rep), MERU_ELOCKED);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

int main(void)
{
    if (meru_schema_parse(&g_schema, "t", COLS, "id"))
        return 1;
    MERU_TEST_RUN(test_damaged_newest_metadata_fails_open_and_deletes_nothing);
    MERU_TEST_RUN(test_zeroed_bloom_filter_is_an_error_not_not_found);
    MERU_TEST_RUN(test_wrong_key_range_in_valid_metadata_is_caught);
    MERU_TEST_RUN(test_swapped_data_files_are_caught);
    MERU_TEST_RUN(test_deleted_live_wal_segment_fails_the_open);
    MERU_TEST_RUN(test_wal_segment_check_finds_gaps);
    MERU_TEST_RUN(test_one_unreadable_file_fails_only_the_reads_that_need_it);
    MERU_TEST_RUN(test_open_recovers_without_flushing_the_log);
    MERU_TEST_RUN(test_wal_salvage_option_recovers_around_damage);
    MERU_TEST_RUN(test_full_verify_finds_damage_reads_do_not_meet);
    MERU_TEST_RUN(test_verify_finds_a_vector_hiding_a_live_row);
    MERU_TEST_RUN(test_repair_rolls_back_and_keeps_the_lost_commits_rows);
    MERU_TEST_RUN(test_repair_sets_an_unreadable_file_aside);
    MERU_TEST_RUN(test_repair_salvages_the_log);
    MERU_TEST_RUN(test_repair_of_a_sound_table_changes_nothing);
    meru_schema_free(g_schema);
    return meru_test_finish();
}
