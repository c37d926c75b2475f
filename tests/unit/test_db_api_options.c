/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_api_options.c — what the table API (merutable.h) lets a caller
 * observe and tune, through the public API only: the stats (struct and
 * JSON) move with puts, deletes, gets, scans, snapshots and flushes, and
 * each option the engine reads (memtable_bytes, sync_mode,
 * max_immutable_memtables, the L0 triggers, row_cache_bytes) has an
 * observable effect; the row cache never answers with a replaced version
 * and admits a key on its second use once full. The rest of the API
 * contract is in test_db_api.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db_api_test.h"
#include "test.h"
#include "test_db_common.h"

/* The number after the first "name": in the text, or -1. */
static long long js_num(const char *s, const char *name)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", name);
    const char *p = strstr(s, pat);
    if (!p)
        return -1;
    p = js_ws(p + strlen(pat));
    if (*p != ':')
        return -1;
    return strtoll(p + 1, NULL, 10);
}

static void test_db_stats_move(void)
{
    const char *dir = meru_test_tmpdir("api_stats");
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    meru_options o;
    tdb_small_options(&o);
    o.memtable_bytes = (size_t)16 << 20; /* no automatic flush */
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.puts, 0);
    CHECK_EQ_U64(st.flushes, 0);
    CHECK_EQ_U64(st.total_files, 0);
    CHECK_EQ_INT(st.read_only, 0);
    CHECK_EQ_INT(st.closed, 0);
    /* the default row cache's share is the page cache's loss */
    CHECK_EQ_U64(st.cache_capacity,
                 o.cache_bytes - o.cache_bytes / MERU_ROW_CACHE_AUTO_DIVISOR);

    for (int i = 0; i < 100; i++)
        CHECK_OK(put_row(db, s, i, "abc"));
    meru_row *k = NULL;
    CHECK_OK(meru_row_new(&k, s));
    for (int i = 0; i < 10; i++) {
        CHECK_OK(meru_row_set_int64(k, 0, i));
        CHECK_OK(meru_delete(db, k, NULL));
    }
    meru_write_batch *b = NULL;
    CHECK_OK(meru_write_batch_new(&b, s));
    CHECK_OK(meru_write_batch_delete(b, k));
    CHECK_OK(meru_write_batch_delete(b, k));
    CHECK_OK(meru_write(db, b, NULL));
    char name[64];
    CHECK_OK(get_name(db, NULL, 50, name));
    CHECK_RC(get_name(db, NULL, 5, name), MERU_NOT_FOUND);
    CHECK_EQ_INT(count_rows(db), 90);
    meru_snapshot *snap = NULL;
    CHECK_OK(meru_snapshot_new(db, &snap));

    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.puts, 100);
    CHECK(st.deletes >= 10);
    CHECK(st.batches >= 1);
    CHECK_EQ_U64(st.last_sequence, 112);
    CHECK(st.memtable_entries >= 100);
    CHECK(st.memtable_bytes > 0);
    CHECK(st.wal_records >= 111);
    CHECK(st.wal_bytes > 0);
    CHECK_EQ_U64(st.gets, 2);
    CHECK_EQ_U64(st.gets_found, 1);
    CHECK(st.scans >= 1);
    CHECK_EQ_U64(st.snapshots, 1);
    CHECK_EQ_U64(st.flushes, 0);

    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.flushes, 1);
    CHECK(st.flush_bytes > 0);
    CHECK_EQ_U64(st.total_files, 1);
    CHECK_EQ_U64(st.level[0].files, 1);
    CHECK(st.level[0].bytes > 0);
    CHECK(st.total_bytes >= st.level[0].bytes);
    CHECK(st.levels >= 1);
    CHECK_EQ_U64(st.immutable_memtables, 0);
    CHECK(st.metadata_version >= 1);
    CHECK(st.total_rows >= 90);
    CHECK_EQ_U64(st.memtable_entries, 0);
    meru_snapshot_free(snap);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.snapshots, 0);
    /* Reads from the file move the read counters. */
    CHECK_OK(get_name(db, NULL, 50, name));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.gets, 3);
    CHECK(st.cache_hits + st.cache_misses > 0);
    CHECK(st.open_files >= 1 || st.cache_bytes > 0);

    char *js = NULL;
    CHECK_OK(meru_stats_json(db, &js));
    CHECK_MSG(js_is_object(js), "stats JSON is not an object: %s", js);
    static const char *const names[] = {"puts",          "deletes",   "flushes",
                                        "last_sequence", "wal_syncs", "gets",
                                        "scans",         "snapshots"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_MSG(js_num(js, names[i]) >= 0, "stats JSON lacks \"%s\": %s",
                  names[i], js);
    CHECK_EQ_INT(js_num(js, "puts"), 100);
    CHECK_EQ_INT(js_num(js, "flushes"), 1);
    CHECK_EQ_INT(js_num(js, "last_sequence"), 112);
    CHECK_MSG(strstr(js, "files") != NULL, "stats JSON lacks files: %s", js);
    meru_free(js);
    meru_write_batch_free(b);
    meru_row_free(k);
    meru_db_free(db);
    meru_schema_free(s);
}

/* Writes n rows of ~200 bytes. */
static int write_rows(meru_db *db, const meru_schema *s, int n, int start)
{
    char name[200];
    memset(name, 'q', sizeof name - 1);
    name[sizeof name - 1] = 0;
    for (int i = 0; i < n; i++) {
        int rc = put_row(db, s, start + i, name);
        if (rc)
            return rc;
    }
    return 0;
}

static void test_db_option_memtable_bytes(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    /* At the 64 KiB minimum, 100 rows (~25 KB) fit in one memtable: one
     * flush (the explicit one), not one per write. */
    const char *dir = meru_test_tmpdir("api_mt_min");
    meru_options o;
    tdb_small_options(&o);
    o.memtable_bytes = (size_t)64 << 10;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(write_rows(db, s, 100, 0));
    CHECK_OK(meru_flush(db));
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    uint64_t fl = st.flushes;
    meru_db_free(db);
    db = NULL;
    CHECK_MSG(fl <= 3,
              "64 KiB memtable: 100 rows of ~230 bytes took %llu "
              "flushes",
              (unsigned long long)fl);

    /* A small memtable flushes many times, a large one once. */
    uint64_t flushes[2];
    for (int big = 0; big < 2; big++) {
        dir = meru_test_tmpdir(big ? "api_mt_big" : "api_mt_small");
        tdb_small_options(&o);
        o.memtable_bytes = big ? (size_t)32 << 20 : TDB_MEMTABLE_BYTES;
        o.max_immutable_memtables = 4;
        CHECK_OK(meru_open(dir, &o, s, &db));
        CHECK_OK(write_rows(db, s, 3000, 0)); /* ~700 KB */
        CHECK_OK(meru_flush(db));
        CHECK_OK(meru_stats_get(db, &st));
        flushes[big] = st.flushes;
        CHECK_EQ_INT(count_rows(db), 3000);
        meru_db_free(db);
        db = NULL;
    }
    CHECK_MSG(flushes[1] == 1, "32 MiB memtable: %llu flushes, expected 1",
              (unsigned long long)flushes[1]);
    CHECK_MSG(flushes[0] >= 4, "64 KiB memtable: %llu flushes, expected >= 4",
              (unsigned long long)flushes[0]);
    meru_schema_free(s);
}

static void test_db_option_sync_mode(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    static const meru_sync_mode modes[] = {MERU_SYNC_NONE, MERU_SYNC_GROUP,
                                           MERU_SYNC_EVERY};
    for (size_t m = 0; m < 3; m++) {
        const char *dir = meru_test_tmpdir("api_sync");
        meru_options o;
        tdb_small_options(&o);
        o.sync_mode = modes[m];
        meru_db *db = NULL;
        CHECK_OK(meru_open(dir, &o, s, &db));
        meru_stats st0, st;
        CHECK_OK(meru_stats_get(db, &st0));
        CHECK_OK(write_rows(db, s, 20, 0));
        CHECK_OK(meru_stats_get(db, &st));
        uint64_t syncs = st.wal_syncs - st0.wal_syncs;
        if (modes[m] == MERU_SYNC_NONE)
            CHECK_MSG(syncs == 0, "SYNC_NONE: %llu WAL syncs",
                      (unsigned long long)syncs);
        else
            /* One writer thread: every write is its own group. */
            CHECK_MSG(syncs >= 20, "sync mode %d: %llu WAL syncs for 20 puts",
                      (int)modes[m], (unsigned long long)syncs);
        CHECK(st.wal_groups >= 1);
        meru_db_free(db);
    }
    meru_schema_free(s);
}

static void test_db_option_max_immutable_memtables(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    const char *dir = meru_test_tmpdir("api_maximm");
    meru_options o;
    tdb_small_options(&o);
    o.max_immutable_memtables = 1;
    o.background_threads = 1;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    uint64_t max_seen = 0;
    for (int i = 0; i < 40; i++) {
        CHECK_OK(write_rows(db, s, 100, i * 100));
        meru_stats st;
        CHECK_OK(meru_stats_get(db, &st));
        if (st.immutable_memtables > max_seen)
            max_seen = st.immutable_memtables;
    }
    CHECK_MSG(max_seen <= 1, "%llu immutable memtables with max 1",
              (unsigned long long)max_seen);
    CHECK_EQ_INT(count_rows(db), 4000);
    meru_db_free(db);
    meru_schema_free(s);
}

/* Waits (bounded) until compactions have run and L0 is below `below`. */
static int wait_compacted(meru_db *db, uint64_t below, meru_stats *st)
{
    for (int i = 0; i < 2000; i++) {
        if (meru_stats_get(db, st))
            return -1;
        if (st->compactions > 0 && st->level[0].files < below)
            return 0;
        usleep(10000);
    }
    return -1;
}

static void test_db_option_l0_triggers(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    /* No compaction before the trigger: 6 flushes, trigger 100. */
    const char *dir = meru_test_tmpdir("api_l0_off");
    meru_options o;
    tdb_small_options(&o);
    o.memtable_bytes = (size_t)8 << 20;
    o.l0_compaction_trigger = 100;
    o.l0_slowdown_trigger = 100;
    o.l0_stop_trigger = 100;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    for (int f = 0; f < 6; f++) {
        CHECK_OK(write_rows(db, s, 50, f * 30)); /* overlapping keys */
        CHECK_OK(meru_flush(db));
    }
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.flushes, 6);
    CHECK_EQ_U64(st.level[0].files, 6);
    CHECK_EQ_U64(st.compactions, 0);
    int64_t nrows = 5 * 30 + 50;
    CHECK_EQ_INT(count_rows(db), nrows);
    meru_db_free(db);

    /* Trigger 2: compaction runs and L0 shrinks. */
    db = NULL;
    o.l0_compaction_trigger = 2;
    o.l0_slowdown_trigger = 4;
    o.l0_stop_trigger = 6;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(write_rows(db, s, 10, 1000));
    CHECK_OK(meru_flush(db));
    CHECK_MSG(wait_compacted(db, 2, &st) == 0,
              "no compaction with l0_compaction_trigger 2: L0 %llu files, "
              "%llu compactions",
              (unsigned long long)st.level[0].files,
              (unsigned long long)st.compactions);
    CHECK(st.levels >= 2);
    CHECK(st.compaction_bytes_read > 0 && st.compaction_bytes_written > 0);
    CHECK_EQ_INT(count_rows(db), nrows + 10);

    /* The stop trigger bounds L0 while writes keep coming. */
    uint64_t max_l0 = 0;
    for (int f = 0; f < 12; f++) {
        CHECK_OK(write_rows(db, s, 20, 2000 + f * 20));
        CHECK_OK(meru_flush(db));
        CHECK_OK(meru_stats_get(db, &st));
        if (st.level[0].files > max_l0)
            max_l0 = st.level[0].files;
    }
    CHECK_MSG(max_l0 <= (uint64_t)o.l0_stop_trigger + 1,
              "L0 reached %llu files with stop trigger %d",
              (unsigned long long)max_l0, o.l0_stop_trigger);
    CHECK_EQ_INT(count_rows(db), nrows + 10 + 240);
    meru_db_free(db);
    meru_schema_free(s);
}

/* mode 0: off (row_cache_bytes 0), 1: its own 1 MiB budget, 2: the
 * default (MERU_ROW_CACHE_AUTO, a share of cache_bytes). Repeated gets of
 * one key in a file hit the row cache unless it is off (stored at the
 * first read while the row cache has room); the page cache gives up the row
 * cache's share only in the default mode. */
static void test_db_option_row_cache(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    for (int mode = 0; mode < 3; mode++) {
        const char *dir = meru_test_tmpdir("api_rowcache");
        meru_options o;
        tdb_small_options(&o);
        CHECK(o.row_cache_bytes == MERU_ROW_CACHE_AUTO);
        if (mode < 2)
            o.row_cache_bytes = mode ? (size_t)1 << 20 : 0;
        meru_db *db = NULL;
        CHECK_OK(meru_open(dir, &o, s, &db));
        CHECK_OK(write_rows(db, s, 100, 0));
        CHECK_OK(put_row(db, s, 1000, "far")); /* keys 100..999: absent */
        CHECK_OK(meru_flush(db));
        char name[64];
        for (int i = 0; i < 10; i++)
            CHECK_OK(get_name(db, NULL, 42, name));
        meru_stats st;
        CHECK_OK(meru_stats_get(db, &st));
        if (mode)
            CHECK_MSG(st.row_cache_hits >= 9, "row cache mode %d: %llu hits",
                      mode, (unsigned long long)st.row_cache_hits);
        else
            CHECK_EQ_U64(st.row_cache_hits + st.row_cache_misses, 0);
        /* A key the file does not hold is not stored: asking again is
         * another miss, never a hit. */
        uint64_t hits = st.row_cache_hits, misses = st.row_cache_misses;
        for (int i = 0; i < 3; i++)
            CHECK_RC(get_name(db, NULL, 500 + i % 2, name), MERU_NOT_FOUND);
        CHECK_OK(meru_stats_get(db, &st));
        CHECK_EQ_U64(st.row_cache_hits, hits);
        if (mode)
            CHECK_EQ_U64(st.row_cache_misses, misses + 3);
        CHECK_EQ_U64(st.cache_capacity,
                     mode == 2 ? o.cache_bytes -
                                     o.cache_bytes / MERU_ROW_CACHE_AUTO_DIVISOR
                               : o.cache_bytes);
        meru_db_free(db);
    }
    meru_schema_free(s);
}

static int del_id(meru_db *db, const meru_schema *s, int64_t id)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, s);
    if (!rc)
        rc = meru_row_set_int64(r, 0, id);
    if (!rc)
        rc = meru_delete(db, r, NULL);
    meru_row_free(r);
    return rc;
}

/* Checks that key 7 reads as `want` (NULL: absent) now and twice again
 * (where it is in a file, the answer is stored in the row cache by the
 * first get while the row cache has room, by the second once it is full,
 * and a later get is served by it). */
static void expect_7(meru_db *db, const meru_snapshot *snap, const char *want)
{
    for (int i = 0; i < 3; i++) {
        char name[64] = "";
        int rc = get_name(db, snap, 7, name);
        if (!want) {
            CHECK_RC(rc, MERU_NOT_FOUND);
        } else {
            CHECK_OK(rc);
            CHECK_MSG(!strcmp(name, want), "key 7: got '%s', want '%s'", name,
                      want);
        }
    }
}

/* The row cache never answers with a version a later write replaced:
 * overwrites and deletes in the memtable, after a flush, after a
 * compaction, and a snapshot still reads the version of its time. */
static void test_db_row_cache_writes(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    const char *dir = meru_test_tmpdir("api_rowcache_w");
    meru_options o;
    tdb_small_options(&o);
    o.row_cache_bytes = (size_t)1 << 20;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(put_row(db, s, 7, "a"));
    CHECK_OK(put_row(db, s, 8, "x"));
    CHECK_OK(meru_flush(db));
    expect_7(db, NULL, "a"); /* cached from the file */
    meru_snapshot *snap = NULL;
    CHECK_OK(meru_snapshot_new(db, &snap));
    CHECK_OK(put_row(db, s, 7, "b"));
    expect_7(db, NULL, "b"); /* memtable */
    expect_7(db, snap, "a");
    CHECK_OK(meru_flush(db));
    expect_7(db, NULL, "b"); /* newer file */
    expect_7(db, snap, "a");
    /* One file with both versions (the snapshot keeps "a"): the row cache
     * holds the file's newest, which the snapshot must not be served. */
    CHECK_OK(meru_compact(db));
    expect_7(db, NULL, "b");
    expect_7(db, snap, "a");
    CHECK_OK(del_id(db, s, 7));
    expect_7(db, NULL, NULL);
    CHECK_OK(meru_flush(db));
    expect_7(db, NULL, NULL); /* tombstone in the newest file */
    expect_7(db, snap, "a");
    meru_snapshot_free(snap);
    CHECK_OK(meru_compact(db));
    expect_7(db, NULL, NULL);
    CHECK_OK(put_row(db, s, 7, "c"));
    CHECK_OK(meru_flush(db));
    expect_7(db, NULL, "c");
    CHECK_OK(meru_compact(db));
    expect_7(db, NULL, "c");
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_MSG(st.row_cache_hits >= 5, "%llu row cache hits",
              (unsigned long long)st.row_cache_hits);
    meru_db_free(db);
    meru_schema_free(s);
}

/* Admission (cache/admit.h, db_read.c admit_row): while the row cache has
 * room a row read from a file is stored at once; once it is full, a key
 * read once is not stored, read twice it is, and the third read is a hit,
 * so keys read once each (uniform gets) take no one's place. An overwrite
 * or a delete after admission is read, not the stored row. */
static void test_db_row_cache_admits_second_use(void)
{
    meru_schema *s = mk_schema(COLS, "id");
    CHECK(s);
    const char *dir = meru_test_tmpdir("api_rowcache_admit");
    meru_options o;
    tdb_small_options(&o);
    o.row_cache_bytes = (size_t)256 << 10;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    /* 4000 rows of a 200-byte name overfill 256 KiB */
    CHECK_OK(write_rows(db, s, 4000, 0));
    CHECK_OK(meru_flush(db));
    /* one file from here on: a background compaction would give the rows
     * a new file (cache key) and empty the row cache under the test */
    CHECK_OK(meru_compact(db));
    char name[64];
    meru_stats st;
    /* room: stored at the first read, the second hits */
    CHECK_OK(get_name(db, NULL, 3999, name));
    CHECK_OK(get_name(db, NULL, 3999, name));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.row_cache_hits, 1);
    /* fill it with keys 300..3999 (stored while it has room, then, once
     * it has evicted, only on a second read): keys 0..299 were never
     * read */
    for (int64_t id = 300; id < 4000; id++)
        CHECK_OK(get_name(db, NULL, id, name));
    CHECK_OK(meru_stats_get(db, &st));
    uint64_t hits = st.row_cache_hits, misses = st.row_cache_misses;
    /* 200 keys read once: 200 misses, nothing stored, so reading them
     * again misses again (and stores them), and a third time hits (a few
     * may share a tag bucket and wait a round) */
    for (int round = 0; round < 3; round++) {
        for (int64_t id = 0; id < 200; id++)
            CHECK_OK(get_name(db, NULL, id, name));
        CHECK_OK(meru_stats_get(db, &st));
        if (round < 2) {
            CHECK_EQ_U64(st.row_cache_hits, hits);
            CHECK_EQ_U64(st.row_cache_misses, misses + 200 * (round + 1));
        } else {
            CHECK_MSG(st.row_cache_hits >= hits + 190, "%llu of 200 hits",
                      (unsigned long long)(st.row_cache_hits - hits));
        }
    }
    /* key 250: the first read marks it, the second stores it, the third
     * hits */
    hits = st.row_cache_hits;
    CHECK_OK(get_name(db, NULL, 250, name));
    CHECK_OK(get_name(db, NULL, 250, name));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.row_cache_hits, hits);
    CHECK_OK(get_name(db, NULL, 250, name));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.row_cache_hits, hits + 1);
    /* the stored row never answers after an overwrite or a delete */
    CHECK_OK(put_row(db, s, 250, "new"));
    CHECK_OK(get_name(db, NULL, 250, name));
    CHECK_STR(name, "new");
    CHECK_OK(meru_flush(db));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(get_name(db, NULL, 250, name));
        CHECK_STR(name, "new");
    }
    CHECK_OK(del_id(db, s, 250));
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_compact(db));
    for (int i = 0; i < 3; i++)
        CHECK_RC(get_name(db, NULL, 250, name), MERU_NOT_FOUND);
    meru_db_free(db);
    meru_schema_free(s);
}
int main(void)
{
    MERU_TEST_RUN(test_db_stats_move);
    MERU_TEST_RUN(test_db_option_memtable_bytes);
    MERU_TEST_RUN(test_db_option_sync_mode);
    MERU_TEST_RUN(test_db_option_max_immutable_memtables);
    MERU_TEST_RUN(test_db_option_l0_triggers);
    MERU_TEST_RUN(test_db_option_row_cache);
    MERU_TEST_RUN(test_db_row_cache_writes);
    MERU_TEST_RUN(test_db_row_cache_admits_second_use);
    return meru_test_finish();
}
