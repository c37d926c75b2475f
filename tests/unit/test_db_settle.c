/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_settle.c — what a table looks like after small writes and after
 * a pause:
 *  - many tiny flushes compacted into L1 leave one small L1 file, not one
 *    per compaction (a job takes the small files next to its run);
 *  - a loaded, then idle table settles on its own: its L0 files (below the
 *    compaction trigger) go to L1, compressed and column-tuned, and runs
 *    of small adjacent L1 files are merged; compactions_pending counts
 *    that work until it is done.
 * Waits poll the statistics with a generous deadline (the state is what is
 * checked, never how long it took).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "test.h"
#include "test_db_common.h"

static meru_schema *settle_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "settle", "id int64 not null, v string", "id"))
        return NULL;
    return s;
}

static int put_range(meru_db *db, int64_t from, int64_t n)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, meru_db_schema(db));
    char v[80];
    for (int64_t i = from; !rc && i < from + n; i++) {
        meru_row_clear(r);
        snprintf(v, sizeof v, "row %lld with some text that compresses well",
                 (long long)i);
        rc = meru_row_set_int64(r, 0, i);
        if (!rc)
            rc = meru_row_set_string(r, 1, v, strlen(v));
        if (!rc)
            rc = meru_put(db, r, NULL);
    }
    meru_row_free(r);
    return rc;
}

static void nap_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Waits until no job runs and none is due (scored work only when
 * `settle` is 0; idle work too when 1). Returns 0, or -1 at the deadline. */
static int wait_idle(meru_db *db, int settle, meru_stats *st)
{
    for (int i = 0; i < 6000; i++) { /* 60 s */
        if (meru_stats_get(db, st))
            return -1;
        bool scored_idle = st->compactions_running == 0 &&
                           st->immutable_memtables == 0 &&
                           (st->compactions_pending == 0 ||
                            (!settle && st->level[0].files < 4));
        if (scored_idle && (!settle || st->compactions_pending == 0))
            return 0;
        nap_ms(10);
    }
    return -1;
}

static void test_tiny_flushes_leave_one_small_l1_file(void)
{
    const char *dir = meru_test_tmpdir("settle-tiny");
    meru_schema *s = settle_schema();
    meru_db *db = NULL;
    meru_options o;
    meru_stats st;
    CHECK(s);
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    CHECK_OK(meru_open(dir, &o, s, &db));
    /* What 40 single `meru put` calls do: one row, one flush, each time,
     * with increasing keys (so no new L0 file overlaps L1). */
    for (int i = 0; i < 40; i++) {
        CHECK_OK(put_range(db, i, 1));
        CHECK_OK(meru_flush(db));
        CHECK(wait_idle(db, 0, &st) == 0);
    }
    CHECK(wait_idle(db, 0, &st) == 0);
    CHECK_MSG(st.compactions >= 9, "only %llu compactions",
              (unsigned long long)st.compactions);
    CHECK_MSG(st.level[1].files <= 1, "%llu L1 files after 40 tiny flushes",
              (unsigned long long)st.level[1].files);
    meru_iter *it = NULL;
    const meru_row *row;
    int n = 0;
    CHECK_OK(meru_scan(db, NULL, &it));
    while (meru_iter_next(it, &row) == MERU_OK)
        n++;
    meru_iter_free(it);
    CHECK_EQ_INT(n, 40);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_idle_table_settles_into_l1(void)
{
    const char *dir = meru_test_tmpdir("settle-idle");
    meru_schema *s = settle_schema();
    meru_db *db = NULL;
    meru_options o;
    meru_stats st;
    CHECK(s);
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    o.memtable_bytes = (size_t)1 << 20;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(put_range(db, 0, 30000));
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_stats_get(db, &st));
    /* Below the trigger: no scored job, but idle work is pending. */
    CHECK_MSG(st.level[0].files >= 1 && st.level[0].files < 4,
              "%llu L0 files", (unsigned long long)st.level[0].files);
    CHECK(st.compactions_pending >= 1);
    uint64_t l0_bytes = st.level[0].bytes;
    CHECK(wait_idle(db, 1, &st) == 0);
    CHECK_EQ_U64(st.level[0].files, 0);
    CHECK(st.level[1].files >= 1);
    CHECK_MSG(st.total_bytes < l0_bytes,
              "settled to %llu bytes from %llu in L0",
              (unsigned long long)st.total_bytes,
              (unsigned long long)l0_bytes);
    CHECK_EQ_U64(st.total_rows, 30000);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_idle_table_merges_small_adjacent_files(void)
{
    const char *dir = meru_test_tmpdir("settle-runs");
    meru_schema *s = settle_schema();
    meru_db *db = NULL;
    meru_options o;
    meru_stats st;
    meru_row *lo = NULL, *hi = NULL;
    CHECK(s);
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&lo, meru_db_schema(db)));
    CHECK_OK(meru_row_new(&hi, meru_db_schema(db)));
    /* Five adjacent small L1 files: each range compacted on its own. */
    for (int k = 0; k < 5; k++) {
        CHECK_OK(put_range(db, k * 100, 100));
        CHECK_OK(meru_row_set_int64(lo, 0, k * 100));
        CHECK_OK(meru_row_set_int64(hi, 0, k * 100 + 99));
        CHECK_OK(meru_compact_range(db, lo, hi));
    }
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.level[0].files, 0);
    CHECK_MSG(st.level[1].files == 5, "%llu L1 files",
              (unsigned long long)st.level[1].files);
    CHECK(st.compactions_pending >= 1);
    CHECK(wait_idle(db, 1, &st) == 0);
    CHECK_EQ_U64(st.level[1].files, 1);
    CHECK_EQ_U64(st.total_rows, 500);
    meru_row_free(lo);
    meru_row_free(hi);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_tiny_flushes_leave_one_small_l1_file);
    MERU_TEST_RUN(test_idle_table_settles_into_l1);
    MERU_TEST_RUN(test_idle_table_merges_small_adjacent_files);
    return meru_test_finish();
}
