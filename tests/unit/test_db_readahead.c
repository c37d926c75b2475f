/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_readahead.c — the engine bounds the decode-ahead workers of a
 * read over many files at once: a scan of a table whose files are all in
 * L0 (they overlap, so every one is open at once) and the export that
 * rebuilds the deletion vectors from all files merged start no worker;
 * once the rows are compacted into L1 the same scan starts workers again
 * (one level's files are read one at a time), which shows the counter
 * sees them (pq_readahead_workers_started).
 *
 * MERU_TEST_CONCURRENT: a scan of L1 runs a decode-ahead worker.
 */
#include <stdio.h>
#include <string.h>

#include "merutable.h"
#include "parquet/pq.h"
#include "test.h"

enum { NFILES = 8, ROWS = 6000 };

/* ROWS rows of file f: keys interleaved with the other files' (so the L0
 * files overlap), strings the codec has work on. */
static int put_file(meru_db *db, int f)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, meru_db_schema(db));
    char s[48];
    uint64_t x = 88172645463325252ull + (uint64_t)f;
    for (int i = 0; i < ROWS && !rc; i++) {
        for (size_t j = 0; j + 1 < sizeof s; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s[j] = (char)('a' + x % 4);
        }
        s[sizeof s - 1] = 0;
        meru_row_clear(r);
        if (!(rc = meru_row_set_int64(r, 0, (int64_t)i * NFILES + f)) &&
            !(rc = meru_row_set_string(r, 1, s, strlen(s))))
            rc = meru_put(db, r, NULL);
    }
    meru_row_free(r);
    return rc ? rc : meru_flush(db);
}

/* A full scan: its rows, and the workers it started. */
static int scan_all(meru_db *db, uint64_t *rows, uint64_t *workers)
{
    uint64_t w0 = pq_readahead_workers_started();
    meru_iter *it = NULL;
    const meru_row *row;
    int rc = meru_scan(db, NULL, &it);
    *rows = 0;
    while (!rc && (rc = meru_iter_next(it, &row)) == MERU_OK)
        (*rows)++;
    meru_iter_free(it);
    *workers = pq_readahead_workers_started() - w0;
    return rc == MERU_NOT_FOUND ? MERU_OK : rc;
}

static void test_many_files_bounded_workers(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "ra", "id int64 not null, v string", "id"));
    meru_options o;
    meru_options_init(&o);
    o.iceberg_view = MERU_ICEBERG_VIEW_OFF; /* the export rebuilds */
    o.background_threads = 1;
    o.sync_mode = MERU_SYNC_NONE;
    o.l0_compaction_trigger = 32; /* the flushes stay in L0 */
    o.l0_slowdown_trigger = 48;
    o.l0_stop_trigger = 64;
    /* small pages: each file's key and value chunks are long runs of
     * compressed pages, what starts a worker */
    o.l0_page_bytes = 1024;
    o.page_bytes = 1024;
    o.string_page_bytes = 1024;
    o.number_page_bytes = 1024;
    o.compression = MERU_COMPRESSION_ZSTD;
    const char *dir = meru_test_tmpdir("db-readahead");
    char target[4200];
    snprintf(target, sizeof target, "%s-copy", dir);
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    for (int f = 0; f < NFILES; f++)
        CHECK_OK(put_file(db, f));

    uint64_t rows = 0, workers = 0;
    CHECK_OK(scan_all(db, &rows, &workers));
    CHECK_EQ_U64(rows, (uint64_t)NFILES * ROWS);
    CHECK_EQ_U64(workers, 0); /* 8 overlapping L0 files: none */

    uint64_t w0 = pq_readahead_workers_started();
    CHECK_OK(meru_export_iceberg(db, target));
    CHECK_EQ_U64(pq_readahead_workers_started() - w0, 0);

    /* the same rows in L1, read a file at a time: workers again */
    CHECK_OK(meru_compact(db));
    CHECK_OK(scan_all(db, &rows, &workers));
    CHECK_EQ_U64(rows, (uint64_t)NFILES * ROWS);
    CHECK(workers >= 1);

    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_many_files_bounded_workers);
    return meru_test_finish();
}
