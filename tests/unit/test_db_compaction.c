/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_compaction.c — compaction and garbage collection through the
 * public API: each knob changes what happens (l0_compaction_trigger,
 * target_file_bytes, l1_target_bytes / level_multiplier, gc_grace_seconds,
 * max_compaction_bytes,
 * keep_metadata_versions, background_threads), deletes never come back
 * when older versions sit in deeper levels, snapshots and long scans keep
 * reading exactly their rows while compactions replace files, and
 * meru_compact leaves one level holding only live rows (meru_compact_range
 * only the files of its range), and compactions_pending tells when the
 * background work is done.
 *
 * One test reaches inside (engine/db_internal.h): a background job held
 * before its commit (test_before_compaction_commit) while another job
 * commits, for the race of a job widened with a small neighbour over a
 * file of its input level that it left out.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/db_internal.h"
#include "test.h"
#include "test_db_common.h"

static void options(meru_options *o)
{
    tdb_small_options(o);
    o->memtable_bytes = (size_t)64 << 10;
    o->l0_compaction_trigger = 2;
    o->l0_slowdown_trigger = 8;
    o->l0_stop_trigger = 12;
    o->target_file_bytes = (uint64_t)64 << 10;
    o->l1_target_bytes = (uint64_t)1 << 20;
}

static int del(meru_db *db, const meru_schema *s, int64_t id)
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

/* v of key id through snap (or latest): MERU_NOT_FOUND if absent. */
static int get_v(meru_db *db, const meru_snapshot *snap, const meru_schema *s,
                 int64_t id, int64_t *v)
{
    meru_row *k = NULL, *o = NULL;
    int rc = meru_row_new(&k, s);
    if (!rc)
        rc = meru_row_new(&o, s);
    if (!rc)
        rc = meru_row_set_int64(k, 0, id);
    if (!rc)
        rc = meru_get(db, snap, k, o);
    if (!rc)
        rc = meru_row_get_int64(o, 1, v);
    meru_row_free(k);
    meru_row_free(o);
    return rc;
}

/* Waits (bounded) until background work is idle: no immutable memtable
 * and the L0 count below the trigger. */
static void settle(meru_db *db, int trigger)
{
    meru_stats st;
    for (int i = 0; i < 2000; i++) {
        CHECK_OK(meru_stats_get(db, &st));
        if (st.immutable_memtables == 0 &&
            st.level[0].files < (uint64_t)trigger)
            return;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static size_t count_files(const char *dir, const char *suffix)
{
    char path[4200];
    size_t n = 0;
    for (int level = 0; level < 8; level++) {
        DIR *d;
        struct dirent *e;
        snprintf(path, sizeof path, "%s/data/L%d", dir, level);
        if (!(d = opendir(path)))
            continue;
        while ((e = readdir(d)))
            if (strstr(e->d_name, suffix))
                n++;
        closedir(d);
    }
    return n;
}

/* Obsolete files are deleted by a background worker: wait (bounded) until
 * the data files on disk are exactly the live ones. */
static size_t files_on_disk_settled(const char *dir, uint64_t live)
{
    size_t n = count_files(dir, ".parquet");
    for (int i = 0; i < 500 && n != live; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        n = count_files(dir, ".parquet");
    }
    return n;
}

static size_t count_metadata(const char *dir)
{
    char path[4200];
    DIR *d;
    struct dirent *e;
    size_t n = 0;
    snprintf(path, sizeof path, "%s/metadata", dir);
    if (!(d = opendir(path)))
        return 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".metadata.json"))
            n++;
    closedir(d);
    return n;
}

/* Writes n keys (ids 0..n-1) with value base + id, flushing every `per`. */
static void fill(meru_db *db, const meru_schema *s, int n, int64_t base,
                 int per)
{
    for (int i = 0; i < n; i++) {
        CHECK_OK(tdb_put_pad(db, s, i, base + i));
        if (per && (i + 1) % per == 0)
            CHECK_OK(meru_flush(db));
    }
}

/* Writes keys first..first+n-1 (value = key + add) and flushes: one L0
 * file. */
static void fill_range(meru_db *db, const meru_schema *s, int first, int n,
                       int64_t add)
{
    for (int i = first; i < first + n; i++)
        CHECK_OK(tdb_put_pad(db, s, i, i + add));
    CHECK_OK(meru_flush(db));
}

static void test_l0_trigger_starts_compaction(void)
{
    const char *dir = meru_test_tmpdir("cmp_trigger");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_stats st;
    options(&o);
    o.l0_compaction_trigger = 3;
    CHECK_OK(meru_open(dir, &o, s, &db));
    /* Two flushes: below the trigger, nothing moves to L1. */
    fill(db, s, 200, 0, 100);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.level[0].files, 2);
    CHECK_EQ_U64(st.compactions, 0);
    /* The third reaches it: L0 is merged into L1. */
    fill(db, s, 100, 1000, 100);
    settle(db, 3);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK(st.compactions >= 1);
    CHECK(st.level[1].files >= 1);
    CHECK(st.level[0].files < 3);
    for (int i = 0; i < 200; i++) {
        int64_t v;
        CHECK_OK(get_v(db, NULL, s, i, &v));
        CHECK_EQ_INT((int)v, i < 100 ? 1000 + i : i);
    }
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_target_file_bytes_splits_outputs(void)
{
    meru_schema *s = tdb_pad_schema();
    uint64_t files[2];
    for (int t = 0; t < 2; t++) {
        char name[32];
        meru_options o;
        meru_db *db = NULL;
        meru_stats st;
        snprintf(name, sizeof name, "cmp_target%d", t);
        options(&o);
        o.target_file_bytes = t ? (uint64_t)64 << 10 : (uint64_t)64 << 20;
        CHECK_OK(meru_open(meru_test_tmpdir(name), &o, s, &db));
        fill(db, s, 6000, 0, 0);
        CHECK_OK(meru_compact(db));
        CHECK_OK(meru_stats_get(db, &st));
        CHECK_EQ_U64(st.level[0].files, 0);
        files[t] = st.level[1].files;
        CHECK_EQ_U64(st.level[1].rows, 6000);
        CHECK_OK(meru_close(db));
        meru_db_free(db);
    }
    CHECK_MSG(files[1] > files[0] && files[1] > 1,
              "a 64 KiB target gave %llu file(s), 64 MiB %llu",
              (unsigned long long)files[1], (unsigned long long)files[0]);
    meru_schema_free(s);
}

static void test_level_targets_push_data_deeper(void)
{
    const char *dir = meru_test_tmpdir("cmp_levels");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_stats st;
    options(&o);
    o.l1_target_bytes = (uint64_t)1 << 20; /* the smallest allowed */
    o.level_multiplier = 2;
    o.compression = MERU_COMPRESSION_NONE; /* sizes follow the row count */
    o.target_file_bytes = (uint64_t)128 << 10;
    CHECK_OK(meru_open(dir, &o, s, &db));
    /* Distinct keys, so compaction cannot shrink the data away. */
    int n = (int)(20000 * meru_test_scale()) + 22000;
    for (int i = 0; i < n; i++)
        CHECK_OK(tdb_put_pad(
            db, s, (int64_t)(((uint64_t)i * 2654435761u) % 1000003u), i));
    CHECK_OK(meru_flush(db));
    settle(db, o.l0_compaction_trigger);
    /* Let the level scores settle: compactions run in the background. */
    for (int i = 0; i < 400; i++) {
        CHECK_OK(meru_stats_get(db, &st));
        if (st.level[2].files > 0)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK_MSG(st.level[2].files > 0,
              "L1 holds %llu bytes (target 1 MiB) and L2 is empty",
              (unsigned long long)st.level[1].bytes);
    /* Levels >= 1 hold each key once here (distinct keys). */
    CHECK(st.total_rows >= (uint64_t)n);

    /* The classic bug: deletes compacted from L0 into L1 while the old
     * versions sit in L2. That compaction is not the bottom: it must keep
     * the tombstones, or the L2 rows come back. */
    for (int round = 0; round < 2; round++) {
        for (int i = round; i < n; i += 10)
            CHECK_OK(del(db, s, (int64_t)(((uint64_t)i * 2654435761u) %
                                          1000003u)));
        CHECK_OK(meru_flush(db));
    }
    settle(db, o.l0_compaction_trigger);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK(st.compactions >= 1);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i += 29) {
            int64_t v;
            int rc = get_v(db, NULL, s,
                           (int64_t)(((uint64_t)i * 2654435761u) % 1000003u),
                           &v);
            if (i % 10 < 2) {
                CHECK_RC(rc, MERU_NOT_FOUND);
            } else {
                CHECK_OK(rc);
                CHECK_EQ_INT((int)v, i);
            }
        }
        if (pass == 0) { /* and after a reopen */
            CHECK_OK(meru_close(db));
            meru_db_free(db);
            CHECK_OK(meru_open(dir, &o, NULL, &db));
        }
    }
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_deletes_stay_deleted_over_deeper_versions(void)
{
    const char *dir = meru_test_tmpdir("cmp_tomb");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_stats st;
    options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    fill(db, s, 1000, 0, 0);
    CHECK_OK(meru_compact(db)); /* the old versions are now in L1 */
    for (int i = 0; i < 1000; i += 3)
        CHECK_OK(del(db, s, i));
    CHECK_OK(meru_flush(db));
    for (int i = 2000; i < 2010; i++) /* more L0 data: the trigger fires */
        CHECK_OK(tdb_put_pad(db, s, i, i));
    CHECK_OK(meru_flush(db));
    settle(db, o.l0_compaction_trigger);
    for (int i = 0; i < 1000; i++) {
        int64_t v;
        int rc = get_v(db, NULL, s, i, &v);
        if (i % 3 == 0) {
            CHECK_RC(rc, MERU_NOT_FOUND);
        } else {
            CHECK_OK(rc);
            CHECK_EQ_INT((int)v, i);
        }
    }
    /* A full compaction drops the tombstones and the rows they hide. */
    CHECK_OK(meru_compact(db));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.total_rows, 1000 - 334 + 10);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    for (int i = 0; i < 1000; i += 3) {
        int64_t v;
        CHECK_RC(get_v(db, NULL, s, i, &v), MERU_NOT_FOUND);
    }
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_snapshot_and_long_scan_survive_compactions(void)
{
    const char *dir = meru_test_tmpdir("cmp_snap");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_snapshot *snap = NULL;
    meru_iter *it = NULL;
    const meru_row *row;
    options(&o);
    o.gc_grace_seconds = 0;
    CHECK_OK(meru_open(dir, &o, s, &db));
    fill(db, s, 500, 0, 100);
    CHECK_OK(meru_snapshot_new(db, &snap));
    meru_scan_options so;
    meru_scan_options_init(&so);
    so.snapshot = snap;
    CHECK_OK(meru_scan(db, &so, &it));
    /* Read a little, then churn: overwrite and delete everything, many
     * flushes and compactions, obsolete files deleted. */
    int64_t expect = 0;
    for (int i = 0; i < 50; i++) {
        int64_t id, v;
        CHECK_OK(meru_iter_next(it, &row));
        CHECK_OK(meru_row_get_int64(row, 0, &id));
        CHECK_OK(meru_row_get_int64(row, 1, &v));
        CHECK_EQ_INT((int)id, (int)expect);
        CHECK_EQ_INT((int)v, (int)expect);
        expect++;
    }
    for (int round = 0; round < 5; round++) {
        fill(db, s, 500, 10000 * (round + 1), 100);
        CHECK_OK(meru_compact(db));
    }
    for (int i = 0; i < 500; i += 2)
        CHECK_OK(del(db, s, i));
    CHECK_OK(meru_compact(db));
    /* The scan goes on with exactly the snapshot's rows. */
    for (;;) {
        int64_t id, v;
        int rc = meru_iter_next(it, &row);
        if (rc == MERU_NOT_FOUND)
            break;
        CHECK_OK(rc);
        CHECK_OK(meru_row_get_int64(row, 0, &id));
        CHECK_OK(meru_row_get_int64(row, 1, &v));
        CHECK_EQ_INT((int)id, (int)expect);
        CHECK_EQ_INT((int)v, (int)expect);
        expect++;
    }
    CHECK_EQ_INT((int)expect, 500);
    /* Gets through the snapshot too, deleted or overwritten since. */
    for (int i = 0; i < 500; i += 7) {
        int64_t v;
        CHECK_OK(get_v(db, snap, s, i, &v));
        CHECK_EQ_INT((int)v, i);
    }
    meru_iter_free(it);
    meru_snapshot_free(snap);
    /* With no reader left, the files on disk are the table's files. */
    meru_stats st;
    CHECK_OK(meru_compact(db));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(files_on_disk_settled(dir, st.total_files), st.total_files);
    CHECK_EQ_U64(st.total_rows, 250);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_max_compaction_bytes_caps_l0_jobs(void)
{
    meru_schema *s = tdb_pad_schema();
    uint64_t l0_left[2];
    for (int t = 0; t < 2; t++) {
        char name[32];
        meru_options o;
        meru_db *db = NULL;
        meru_stats st;
        snprintf(name, sizeof name, "cmp_cap%d", t);
        options(&o);
        o.background_threads = 1;
        o.l0_compaction_trigger = 6;
        o.l0_slowdown_trigger = 12;
        o.l0_stop_trigger = 20;
        /* 64 KiB: a job takes about one L0 file instead of all six. */
        o.max_compaction_bytes = t ? (uint64_t)64 << 10 : (uint64_t)1 << 30;
        CHECK_OK(meru_open(meru_test_tmpdir(name), &o, s, &db));
        for (int f = 0; f < 6; f++) /* six L0 files of distinct keys */
            fill_range(db, s, f * 300, 300, 0);
        settle(db, o.l0_compaction_trigger);
        CHECK_OK(meru_stats_get(db, &st));
        CHECK(st.compactions >= 1);
        l0_left[t] = st.level[0].files;
        for (int i = 0; i < 1800; i += 17) {
            int64_t v;
            CHECK_OK(get_v(db, NULL, s, i, &v));
            CHECK_EQ_INT((int)v, i);
        }
        CHECK_OK(meru_close(db));
        meru_db_free(db);
    }
    /* Uncapped, the job takes all six files; capped, it takes the oldest
     * and L0 drops below the trigger with the rest still there. */
    CHECK_EQ_U64(l0_left[0], 0);
    CHECK_MSG(l0_left[1] > 0 && l0_left[1] < 6,
              "a 64 KiB cap left %llu L0 file(s) of six",
              (unsigned long long)l0_left[1]);
    meru_schema_free(s);
}

static void test_gc_grace_keeps_obsolete_files(void)
{
    meru_schema *s = tdb_pad_schema();
    size_t on_disk[2];
    uint64_t live[2], pending = 0;
    for (int t = 0; t < 2; t++) {
        char name[32];
        meru_options o;
        meru_db *db = NULL;
        meru_stats st;
        snprintf(name, sizeof name, "cmp_grace%d", t);
        const char *dir = meru_test_tmpdir(name);
        options(&o);
        o.gc_grace_seconds = t ? 3600 : 0;
        CHECK_OK(meru_open(dir, &o, s, &db));
        fill(db, s, 400, 0, 100);
        CHECK_OK(meru_compact(db));
        /* A background job may still be letting go of its inputs (it
         * finishes after its commit woke meru_compact up): wait for it. */
        do {
            CHECK_OK(meru_stats_get(db, &st));
        } while (st.compactions_running || st.compactions_pending);
        live[t] = st.total_files;
        if (t) /* kept for the grace period: queued, not yet deleted */
            pending = st.gc_pending_files;
        on_disk[t] = t ? count_files(dir, ".parquet")
                       : files_on_disk_settled(dir, live[t]);
        CHECK_OK(meru_close(db));
        meru_db_free(db);
        if (t) {
            /* The next open sweeps what the grace period kept. */
            CHECK_OK(meru_open(dir, &o, NULL, &db));
            CHECK_OK(meru_stats_get(db, &st));
            CHECK_EQ_U64(count_files(dir, ".parquet"), st.total_files);
            CHECK_OK(meru_close(db));
            meru_db_free(db);
        }
    }
    CHECK_EQ_U64(on_disk[0], live[0]);
    CHECK_EQ_U64(on_disk[1], live[1] + pending);
    CHECK_MSG(on_disk[1] > live[1],
              "grace 3600 s: %zu files on disk, %llu live", on_disk[1],
              (unsigned long long)live[1]);
    meru_schema_free(s);
}

static void test_keep_metadata_versions(void)
{
    meru_schema *s = tdb_pad_schema();
    for (int k = 2; k <= 5; k += 3) {
        char name[32];
        meru_options o;
        meru_db *db = NULL;
        snprintf(name, sizeof name, "cmp_keep%d", k);
        const char *dir = meru_test_tmpdir(name);
        options(&o);
        o.keep_metadata_versions = k;
        CHECK_OK(meru_open(dir, &o, s, &db));
        fill(db, s, 300, 0, 30); /* ten flushes: ten commits at least */
        CHECK_OK(meru_close(db));
        meru_db_free(db);
        CHECK_EQ_U64(count_metadata(dir), (uint64_t)k);
    }
    meru_schema_free(s);
}

static void test_one_background_thread_still_flushes_and_compacts(void)
{
    const char *dir = meru_test_tmpdir("cmp_threads");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_stats st;
    options(&o);
    o.background_threads = 1;
    CHECK_OK(meru_open(dir, &o, s, &db));
    fill(db, s, 3000, 0, 0);
    CHECK_OK(meru_flush(db));
    settle(db, o.l0_compaction_trigger);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK(st.flushes >= 2);
    CHECK(st.compactions >= 1);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_compact_range_rewrites_only_the_range(void)
{
    const char *dir = meru_test_tmpdir("cmp_range");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_snapshot *snap = NULL;
    meru_row *lo = NULL, *hi = NULL;
    meru_stats st;
    options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    fill(db, s, 4000, 0, 0);
    /* A snapshot keeps the first versions through a full compaction, so
     * the bottom level holds two versions of every key. */
    CHECK_OK(meru_snapshot_new(db, &snap));
    fill(db, s, 4000, 100000, 0);
    CHECK_OK(meru_compact(db));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.total_rows, 8000);
    uint64_t files_before = st.total_files;
    meru_snapshot_free(snap);
    /* Only the files holding keys 1000..1999 are rewritten: their old
     * versions go, the others stay. */
    CHECK_OK(meru_row_new(&lo, s));
    CHECK_OK(meru_row_new(&hi, s));
    CHECK_OK(meru_row_set_int64(lo, 0, 1000));
    CHECK_OK(meru_row_set_int64(hi, 0, 1999));
    CHECK_OK(meru_compact_range(db, lo, hi));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_MSG(st.total_rows <= 8000 - 1000 && st.total_rows > 4000 + 1000,
              "%llu rows after compacting 1000..1999 (%llu files before)",
              (unsigned long long)st.total_rows,
              (unsigned long long)files_before);
    for (int i = 0; i < 4000; i += 13) {
        int64_t v;
        CHECK_OK(get_v(db, NULL, s, i, &v));
        CHECK_EQ_INT((int)v, 100000 + i);
    }
    /* Bad bounds are refused. */
    meru_row_clear(lo);
    CHECK_RC(meru_compact_range(db, lo, NULL), MERU_EINVAL);
    CHECK_OK(meru_compact(db));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.total_rows, 4000);
    meru_row_free(lo);
    meru_row_free(hi);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

/* compactions_pending: 1 while every level is under its trigger but L0
 * holds files (idle work: they settle into L1 once the table is quiet);
 * after a reopen with a lower trigger, "no memtable waiting, none running,
 * none pending" is reached only once L0 is empty. A stat stuck at 0 would
 * report idle at once with all five files still in L0. */
static void test_compactions_pending_says_when_idle(void)
{
    const char *dir = meru_test_tmpdir("cmp_pending");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_stats st;
    options(&o);
    o.l0_compaction_trigger = 100;
    o.l0_slowdown_trigger = 100;
    o.l0_stop_trigger = 100;
    CHECK_OK(meru_open(dir, &o, s, &db));
    fill(db, s, 500, 0, 100);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.level[0].files, 5);
    CHECK_EQ_U64(st.compactions_pending, 1);
    CHECK_EQ_U64(st.compactions_running, 0);
    CHECK_OK(meru_close(db));
    meru_db_free(db);

    o.l0_compaction_trigger = 3;
    o.l0_slowdown_trigger = 8;
    o.l0_stop_trigger = 12;
    CHECK_OK(meru_open(dir, &o, s, &db));
    bool idle = false;
    for (int i = 0; i < 4000 && !idle; i++) {
        CHECK_OK(meru_stats_get(db, &st));
        idle = !st.immutable_memtables && !st.compactions_running &&
               !st.compactions_pending;
        if (!idle) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    CHECK(idle);
    CHECK_EQ_U64(st.level[0].files, 0);
    CHECK(st.compactions >= 1);
    CHECK(st.level[1].files >= 1);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

/* ------------------------------- a widened job and a job of a file it left */

/* Waits (up to a minute) until L0..L2 hold exactly n0, n1, n2 files with
 * nothing to flush and no job running; 0 when they do. */
static int wait_shape(meru_db *db, uint64_t n0, uint64_t n1, uint64_t n2)
{
    meru_stats st;
    for (int i = 0; i < 60000; i++) {
        if (meru_stats_get(db, &st))
            return -1;
        if (st.level[0].files == n0 && st.level[1].files == n1 &&
            st.level[2].files == n2 && !st.immutable_memtables &&
            !st.compactions_running)
            return 0;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* Sets L1's size target (mu: workers read the options while picking),
 * L2's a million times larger (never due), and wakes the workers. */
static void set_l1_target(meru_db *db, uint64_t l1_target)
{
    pthread_mutex_lock(&db->mu);
    db->opts.l1_target_bytes = l1_target;
    db->opts.level_multiplier = 1000000;
    meru_db_wake_workers_locked(db);
    pthread_mutex_unlock(&db->mu);
}

/* The sizes of the files of `level` in key order (at most 2); how many. */
static size_t level_sizes(meru_db *db, int level, uint64_t size[2])
{
    size_t n = 0;
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->nfiles; i++)
        if (db->files[i]->meta.level == level && n < 2)
            size[n++] = db->files[i]->meta.file_size;
    pthread_mutex_unlock(&db->mu);
    return n;
}

/* Holds the first background job at its commit; jobs run by the test's
 * own thread (a manual compaction), other workers' jobs while one is held
 * and any job after the release pass. */
typedef struct holder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t test_thread;
    int held, released, passed;
} holder;

static void hold_first_background_job(meru_db *db, void *arg)
{
    holder *h = arg;
    (void)db;
    pthread_mutex_lock(&h->mu);
    if (pthread_equal(pthread_self(), h->test_thread) || h->released ||
        h->held) {
        h->passed++;
    } else {
        h->held++;
        pthread_cond_broadcast(&h->cv);
        while (!h->released)
            pthread_cond_wait(&h->cv, &h->mu);
    }
    pthread_mutex_unlock(&h->mu);
}

/* Waits (up to a minute) until a background job waits at its commit. */
static int wait_held(holder *h)
{
    struct timespec until;
    int rc = 0;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&h->mu);
    while (!h->held && rc == 0)
        rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
    rc = h->held ? 0 : -1;
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* h's counts, read under its lock (the worker writes them). */
static void holder_counts(holder *h, int *held, int *passed)
{
    pthread_mutex_lock(&h->mu);
    *held = h->held;
    *passed = h->passed;
    pthread_mutex_unlock(&h->mu);
}

static void release_held(holder *h)
{
    pthread_mutex_lock(&h->mu);
    h->released = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

/* A holder for jobs of other threads than the caller's. */
static void holder_init(holder *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->test_thread = pthread_self();
}

static void holder_destroy(holder *h)
{
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
}

/* Key ranges of the layout: L1 A (over the end of X) and B; L2 X, then S,
 * small, right of B. Nothing in L2 overlaps B. */
#define RACE_X_LO 1000
#define RACE_X_N  1500
#define RACE_A_LO 2490
#define RACE_A_N  20
#define RACE_B_LO 3000
#define RACE_B_N  1500
#define RACE_S_LO 5000
#define RACE_S_N  10
#define RACE_A_V  100000 /* A's rows overwrite X's: v = id + this */

/* The race tests' table: `threads` workers, one flush a range, sizes
 * that follow the rows, each flushed range into L1 of its own. */
static void race_options(meru_options *o, int threads)
{
    options(o);
    o->background_threads = threads;
    o->memtable_bytes = (size_t)1 << 20;    /* one range, one flush */
    o->compression = MERU_COMPRESSION_NONE; /* sizes follow the rows */
    o->target_file_bytes = (uint64_t)256 << 10;
    o->l0_compaction_trigger = 1;
}

/* Builds the layout through the background: each flushed range becomes an
 * L1 file of its own (L0 trigger 1; its neighbour, not small, is not
 * merged), X and S move to L2 while L1 is over a 1-byte target. This
 * part: X and S in L2, L1 empty again. */
static void race_layout_l2(meru_db *db, const meru_schema *s)
{
    set_l1_target(db, (uint64_t)1 << 20);
    fill_range(db, s, RACE_X_LO, RACE_X_N, 0);
    CHECK_EQ_INT(wait_shape(db, 0, 1, 0), 0);
    fill_range(db, s, RACE_S_LO, RACE_S_N, 0);
    CHECK_EQ_INT(wait_shape(db, 0, 2, 0), 0);
    set_l1_target(db, 1);
    CHECK_EQ_INT(wait_shape(db, 0, 0, 2), 0);
    set_l1_target(db, (uint64_t)1 << 20);
}

/* Then B and A in L1, with the sizes that make the race checked. */
static void race_layout(meru_db *db, const meru_schema *s)
{
    uint64_t size[2];
    race_layout_l2(db, s); /* X and S */
    fill_range(db, s, RACE_B_LO, RACE_B_N, 0);
    CHECK_EQ_INT(wait_shape(db, 0, 1, 2), 0);
    fill_range(db, s, RACE_A_LO, RACE_A_N, RACE_A_V);
    CHECK_EQ_INT(wait_shape(db, 0, 2, 2), 0);
    /* What makes the race: S small (a job of A takes it as a neighbour),
     * X and B not (nothing merges them), A, X and S one output file. */
    uint64_t quarter = db->opts.target_file_bytes / 4;
    CHECK_EQ_INT(level_sizes(db, 2, size), 2);
    uint64_t x = size[0], sz = size[1];
    CHECK_MSG(x >= quarter && sz < quarter,
              "L2 files of %llu and %llu bytes (a quarter of the target: "
              "%llu)",
              (unsigned long long)x, (unsigned long long)sz,
              (unsigned long long)quarter);
    CHECK_EQ_INT(level_sizes(db, 1, size), 2);
    CHECK_MSG(size[1] >= quarter && size[0] + x + sz < 4 * quarter,
              "L1 files of %llu and %llu bytes (a quarter of the target: "
              "%llu)",
              (unsigned long long)size[0], (unsigned long long)size[1],
              (unsigned long long)quarter);
    fprintf(stderr,
            "  L1: A %llu, B %llu bytes; L2: X %llu, S %llu bytes; small "
            "below %llu\n",
            (unsigned long long)size[0], (unsigned long long)size[1],
            (unsigned long long)x, (unsigned long long)sz,
            (unsigned long long)quarter);
}

/* With A's job waiting before its commit, B's range compacted (a job of
 * B alone: nothing of L2 overlaps it), then A's job released. */
static void race_b_under_held_a(meru_db *db, const meru_schema *s, holder *h)
{
    meru_row *lo = NULL, *hi = NULL;
    set_l1_target(db, 1); /* L1 due: the round robin picks A first */
    CHECK_MSG(wait_held(h) == 0, "no background job reached its commit");
    CHECK_OK(meru_row_new(&lo, s));
    CHECK_OK(meru_row_new(&hi, s));
    int rc = meru_row_set_int64(lo, 0, RACE_B_LO);
    if (rc == MERU_OK)
        rc = meru_row_set_int64(hi, 0, RACE_B_LO + RACE_B_N - 1);
    if (rc == MERU_OK)
        rc = meru_compact_range(db, lo, hi);
    meru_row_free(lo);
    meru_row_free(hi);
    CHECK_MSG(rc == MERU_OK, "B's compaction: %s", meru_errmsg());
    int held, passed;
    holder_counts(h, &held, &passed);
    CHECK_EQ_INT(held, 1);
    CHECK_MSG(passed >= 1, "B's job did not reach its commit");
}

/* Waits (up to a minute) until L1 is empty and no job runs, or a
 * background error stopped the table; 0 then. */
static int wait_l1_empty_or_error(meru_db *db)
{
    meru_stats st;
    for (int i = 0; i < 60000; i++) {
        if (meru_stats_get(db, &st))
            return -1;
        if (st.background_errors ||
            (st.level[1].files == 0 && !st.compactions_running))
            return 0;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* After A's job was released: it committed (no background error), L1 is
 * empty, and every key reads its newest value (A's over X's). */
static void race_check(meru_db *db, const meru_schema *s, holder *h)
{
    meru_stats st;
    int held, passed;
    CHECK_EQ_INT(wait_l1_empty_or_error(db), 0);
    CHECK_OK(meru_stats_get(db, &st));
    /* a background error comes back, with its message, from a flush */
    int rc = meru_flush(db);
    CHECK_MSG(st.background_errors == 0 && rc == MERU_OK,
              "a compaction failed: %s", meru_errmsg());
    holder_counts(h, &held, &passed);
    CHECK_EQ_INT(held, 1);
    CHECK_EQ_U64(st.level[1].files, 0);
    for (int i = RACE_X_LO; i < RACE_S_LO + RACE_S_N; i++) {
        int a = i >= RACE_A_LO && i < RACE_A_LO + RACE_A_N;
        int in = i < RACE_X_LO + RACE_X_N || a ||
                 (i >= RACE_B_LO && i < RACE_B_LO + RACE_B_N) || i >= RACE_S_LO;
        int64_t v;
        rc = get_v(db, NULL, s, i, &v);
        if (!in) {
            CHECK_RC(rc, MERU_NOT_FOUND);
            continue;
        }
        CHECK_OK(rc);
        CHECK_EQ_INT((int)v, i + (a ? RACE_A_V : 0));
    }
}

/* A background L1 -> L2 job of file A (with X, the L2 file under it) used
 * to take S too, the small L2 file past L1 file B, and so to write an
 * output spanning B's keys; a job of B, run meanwhile (nothing of L2
 * overlaps B, so nothing made it wait), wrote its L2 file into that span
 * and the later commit failed: "L2 files ... overlap" (test_db_dv at
 * scale 1 under load, 2 of 7 runs). Here A's job waits before its commit
 * while a compaction of B's range commits; then both must have committed
 * and every row read back. */
static void test_widened_job_and_a_job_of_a_file_it_left_out(void)
{
    const char *dir = meru_test_tmpdir("cmp_widen_race");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    holder h;
    race_options(&o, 1); /* the held job is the only background one */
    CHECK_OK(meru_open(dir, &o, s, &db));
    race_layout(db, s);
    holder_init(&h);
    if (!meru_test_failed_current) {
        db->test_arg = &h;
        db->test_before_compaction_commit = hold_first_background_job;
        race_b_under_held_a(db, s, &h);
        release_held(&h); /* whatever failed: the worker must not wait */
        set_l1_target(db, (uint64_t)1 << 20);
    }
    if (!meru_test_failed_current)
        race_check(db, s, &h);
    /* The hook stays set (jobs may still run): every job after the release
     * passes it, and h outlives the handle. */
    (void)meru_close(db);
    meru_db_free(db);
    holder_destroy(&h);
    meru_schema_free(s);
}

/* Waits (up to a minute) until L0 is empty and L1 holds n1 files, while
 * jobs may be running (one is held). 0 then. */
static int wait_l1_files(meru_db *db, uint64_t n1)
{
    meru_stats st;
    for (int i = 0; i < 60000; i++) {
        if (meru_stats_get(db, &st))
            return -1;
        if (st.level[0].files == 0 && st.level[1].files == n1 &&
            !st.immutable_memtables)
            return 0;
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* The same race with B arriving late: when A's job is picked L1 holds A
 * alone, so the job takes S (no file of L1 lies in the gap: 6057d93's
 * check passes) and writes over B's range. B is then written and moved
 * to L1 by a second worker while A's job waits at its commit; B's own
 * L1 -> L2 job finds nothing of L2 over B and used to commit into the
 * span, so A's commit failed (5 of 5 runs). A running job's key range now
 * holds its output level (meets_running_job): B's job waits for A's. */
static void test_job_of_a_file_that_lands_in_a_running_jobs_span(void)
{
    const char *dir = meru_test_tmpdir("cmp_widen_late");
    meru_schema *s = tdb_pad_schema();
    meru_options o;
    meru_db *db = NULL;
    holder h;
    race_options(&o, 2); /* one held, one to move B meanwhile */
    CHECK_OK(meru_open(dir, &o, s, &db));
    race_layout_l2(db, s); /* X and S */
    fill_range(db, s, RACE_A_LO, RACE_A_N, RACE_A_V);
    CHECK_EQ_INT(wait_shape(db, 0, 1, 2), 0);
    holder_init(&h);
    if (!meru_test_failed_current) {
        db->test_arg = &h;
        db->test_before_compaction_commit = hold_first_background_job;
        set_l1_target(db, 1); /* A's job: A, X and S */
        CHECK_MSG(wait_held(&h) == 0, "no background job reached its commit");
        fill_range(db, s, RACE_B_LO, RACE_B_N, 0);
        CHECK_EQ_INT(wait_l1_files(db, 2), 0); /* B in L1 beside A */
        /* Time for a job of B to reach its commit if it may run: the L0
         * job passed the hook; a second pass would be B's L1 job. */
        int held = 0, passed = 0;
        for (int i = 0; i < 500 && passed < 2; i++) {
            struct timespec ts = {0, 1000 * 1000};
            nanosleep(&ts, NULL);
            holder_counts(&h, &held, &passed);
        }
        CHECK_MSG(passed < 2, "a job of B committed beside A's running job");
        release_held(&h);
        set_l1_target(db, 1);
    }
    if (!meru_test_failed_current)
        race_check(db, s, &h);
    release_held(&h);
    (void)meru_close(db);
    meru_db_free(db);
    holder_destroy(&h);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_l0_trigger_starts_compaction);
    MERU_TEST_RUN(test_compactions_pending_says_when_idle);
    MERU_TEST_RUN(test_target_file_bytes_splits_outputs);
    MERU_TEST_RUN(test_level_targets_push_data_deeper);
    MERU_TEST_RUN(test_deletes_stay_deleted_over_deeper_versions);
    MERU_TEST_RUN(test_snapshot_and_long_scan_survive_compactions);
    MERU_TEST_RUN(test_compact_range_rewrites_only_the_range);
    MERU_TEST_RUN(test_max_compaction_bytes_caps_l0_jobs);
    MERU_TEST_RUN(test_gc_grace_keeps_obsolete_files);
    MERU_TEST_RUN(test_keep_metadata_versions);
    MERU_TEST_RUN(test_one_background_thread_still_flushes_and_compacts);
    MERU_TEST_RUN(test_widened_job_and_a_job_of_a_file_it_left_out);
    MERU_TEST_RUN(test_job_of_a_file_that_lands_in_a_running_jobs_span);
    return meru_test_finish();
}
