/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_keydir.c — the engine's key directory builder (db_keydir.c).
 *
 * - After a reopen the builder gives every L1+ file of the view its
 *   directory without any get (the test waits for it, then reads), and
 *   gets are then answered without the page path (the budget's page_gets
 *   stays put), without building (built stays put), and agree with what
 *   was written.
 * - A read-only handle runs no builder: no file has a directory until its
 *   gets build them.
 * - The builder's first pass after an open also warms the number pages of
 *   the files it found (the page cache holds them before any get, with no
 *   lookup counted); its passes after later commits do not; a read-only
 *   handle warms nothing.
 * - The builder races compactions and file deletions: a writer overwrites,
 *   flushes and compacts while readers get, right after a reopen (so the
 *   builder works on files that compactions replace under it); every get
 *   returns the acknowledged version or a newer one, and the close joins
 *   the builder. MERU_TEST_CONCURRENT: also run under ThreadSanitizer.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/db_internal.h"
#include "test.h"
#include "test_db_common.h"

#define NKEYS 3000
#define COLS  "id int64 not null, ver int64 not null, pad string"

static int put_version(meru_db *db, meru_row *r, int64_t key, int64_t ver)
{
    char pad[64];
    int n = snprintf(pad, sizeof pad, "key=%lld ver=%lld", (long long)key,
                     (long long)ver);
    int rc = meru_row_set_int64(r, 0, key);
    if (!rc)
        rc = meru_row_set_int64(r, 1, ver);
    if (!rc)
        rc = meru_row_set_string(r, 2, pad, (size_t)n);
    if (!rc)
        rc = meru_put(db, r, NULL);
    return rc;
}

/* The version key reads at (-1: absent or failed). */
static int64_t get_version(meru_db *db, meru_row *k, meru_row *out,
                           int64_t key)
{
    int64_t ver = -1;
    if (meru_row_set_int64(k, 0, key) || meru_get(db, NULL, k, out) ||
        meru_row_get_int64(out, 1, &ver))
        return -1;
    return ver;
}

/* L1+ files of db's current view, and how many have a directory. */
static void count_dirs(meru_db *db, size_t *files, size_t *built)
{
    meru_view *v = meru_db_view_get(db);
    *files = *built = 0;
    for (size_t i = v->level_start[1]; i < v->nfiles; i++) {
        meru_sst *t = NULL;
        (*files)++;
        if (meru_db_file_sst_for(v->files[i], v->schema, &t) == MERU_OK &&
            meru_sst_keydir_bytes(t) > 0)
            (*built)++;
    }
    meru_db_view_unref(v);
}

/* Waits (up to a minute: a wait, not a measure) until every L1+ file of
 * the view has its directory. */
static void wait_all_built(meru_db *db, size_t *files)
{
    size_t built = 0;
    for (int i = 0; i < 6000; i++) {
        count_dirs(db, files, &built);
        if (built == *files)
            break;
        usleep(10000);
    }
    CHECK_EQ_U64(built, *files);
}

static void load(const char **dirp, meru_schema **s, meru_options *o)
{
    const char *dir = meru_test_tmpdir("db_keydir");
    *dirp = dir;
    CHECK_OK(meru_schema_parse(s, "t", COLS, "id"));
    tdb_small_options(o);
    o->cache_bytes = (size_t)8 << 20;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, o, *s, &db));
    meru_row *r = NULL;
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    for (int64_t key = 0; key < NKEYS; key += 2)
        CHECK_OK(put_version(db, r, key, 0));
    meru_row_free(r);
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_compact(db));
    CHECK_OK(meru_close(db));
    meru_db_free(db);
}

static void test_db_keydir_built_in_background(void)
{
    meru_schema *s = NULL;
    meru_options o;
    const char *dir = NULL;
    load(&dir, &s, &o);
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    size_t files = 0;
    wait_all_built(db, &files);
    CHECK(files > 1);
    CHECK(atomic_load(&db->keydir.built) >= files);
    uint64_t pg = atomic_load(&db->keydir.page_gets);
    uint64_t nb = atomic_load(&db->keydir.built);
    meru_row *k = NULL, *out = NULL;
    CHECK_OK(meru_row_new(&k, meru_db_schema(db)));
    CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
    for (int64_t key = 0; key < NKEYS; key++)
        CHECK_EQ_INT((int)get_version(db, k, out, key), key % 2 ? -1 : 0);
    /* Every get was answered by a directory. */
    CHECK_EQ_U64(atomic_load(&db->keydir.page_gets), pg);
    CHECK_EQ_U64(atomic_load(&db->keydir.built), nb);
    meru_row_free(k);
    meru_row_free(out);
    CHECK_OK(meru_close(db));
    meru_db_free(db);

    /* Read-only: no builder; the gets build. */
    o.read_only = 1;
    CHECK_OK(meru_open(dir, &o, s, &db));
    size_t built = 0;
    count_dirs(db, &files, &built);
    CHECK_EQ_U64(built, 0);
    CHECK_OK(meru_row_new(&k, meru_db_schema(db)));
    CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
    for (int64_t key = 0; key < NKEYS; key += 2)
        CHECK_EQ_INT((int)get_version(db, k, out, key), 0);
    count_dirs(db, &files, &built);
    CHECK_EQ_U64(built, files);
    meru_row_free(k);
    meru_row_free(out);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

/* Waits (up to a minute) for the end of the builder's first pass. */
static void wait_warm_done(meru_db *db)
{
    for (int i = 0; i < 6000 && !atomic_load(&db->warm_done); i++)
        usleep(10000);
    CHECK(atomic_load(&db->warm_done));
}

/* The builder's first pass warms the number pages of the files the open
 * found (meru_sst_warm_pages): the cache holds them before any get; the
 * passes after a commit warm nothing; a read-only handle warms nothing. */
static void test_db_keydir_warms_pages_at_open(void)
{
    meru_schema *s = NULL;
    meru_options o;
    const char *dir = NULL;
    load(&dir, &s, &o);
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    wait_warm_done(db);
    uint64_t warmed = atomic_load(&db->warmed_pages);
    CHECK(warmed > 0);
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    /* the directories' charge plus the pages */
    CHECK(st.cache_bytes > meru_sst_keydir_budget_used(&db->keydir));
    CHECK_EQ_U64(st.cache_misses, 0);

    /* New files from a commit: directories, no warming. */
    meru_row *r = NULL, *k = NULL, *out = NULL;
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    CHECK_OK(meru_row_new(&k, meru_db_schema(db)));
    CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
    for (int64_t key = 0; key < NKEYS; key += 3)
        CHECK_OK(put_version(db, r, key, 1));
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_compact(db));
    size_t files = 0;
    wait_all_built(db, &files);
    CHECK_EQ_U64(atomic_load(&db->warmed_pages), warmed);
    for (int64_t key = 0; key < NKEYS; key++)
        CHECK_EQ_INT((int)get_version(db, k, out, key),
                     key % 3 == 0 ? 1 : key % 2 ? -1 : 0);
    meru_row_free(r);
    meru_row_free(k);
    meru_row_free(out);
    CHECK_OK(meru_close(db));
    meru_db_free(db);

    /* Read-only: no builder, so nothing enters the cache until a get
     * asks (given the time a warming pass takes after an open). */
    o.read_only = 1;
    CHECK_OK(meru_open(dir, &o, s, &db));
    usleep(200000);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.cache_bytes, 0);
    CHECK_OK(meru_row_new(&k, meru_db_schema(db)));
    CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
    for (int64_t key = 0; key < NKEYS; key += 2)
        CHECK(get_version(db, k, out, key) >= 0);
    CHECK_EQ_U64(atomic_load(&db->warmed_pages), 0);
    meru_row_free(k);
    meru_row_free(out);
    CHECK_OK(meru_close(db));
    meru_db_free(db);

    /* warm_cache_at_open 0: the first pass builds the directories only. */
    o.read_only = 0;
    o.warm_cache_at_open = 0;
    CHECK_OK(meru_open(dir, &o, s, &db));
    wait_warm_done(db);
    CHECK_EQ_U64(atomic_load(&db->warmed_pages), 0);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.cache_bytes, meru_sst_keydir_budget_used(&db->keydir));
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

/* ----------------------------------------------- racing compactions */

typedef struct shared {
    meru_db *db;
    atomic_llong acked[NKEYS];
    atomic_int stop, failed;
    atomic_llong gets;
} shared;

static shared S;

static void *reader(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    meru_row *k = NULL, *out = NULL;
    if (meru_row_new(&k, meru_db_schema(S.db)) ||
        meru_row_new(&out, meru_db_schema(S.db))) {
        atomic_store(&S.failed, 1);
        goto done;
    }
    while (!atomic_load(&S.stop) && !atomic_load(&S.failed)) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t key = (int64_t)(x % NKEYS) & ~(int64_t)1;
        int64_t lo = atomic_load(&S.acked[key]);
        if (get_version(S.db, k, out, key) < lo)
            atomic_store(&S.failed, 1);
        atomic_fetch_add(&S.gets, 1);
    }
done:
    meru_row_free(k);
    meru_row_free(out);
    return NULL;
}

static void test_db_keydir_races_compaction(void)
{
    meru_schema *s = NULL;
    meru_options o;
    const char *dir = NULL;
    load(&dir, &s, &o);
    memset(&S, 0, sizeof S);
    CHECK_OK(meru_open(dir, &o, s, &S.db));
    pthread_t rt[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&rt[i], NULL, reader, (void *)(uintptr_t)(i + 1)) ==
              0);
    meru_row *r = NULL;
    CHECK_OK(meru_row_new(&r, meru_db_schema(S.db)));
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (int round = 0; round < 4 && !atomic_load(&S.failed); round++) {
        for (int i = 0; i < 600; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            int64_t key = (int64_t)(x % NKEYS) & ~(int64_t)1;
            int64_t ver = atomic_load(&S.acked[key]) + 1;
            CHECK_OK(put_version(S.db, r, key, ver));
            atomic_store(&S.acked[key], ver);
        }
        CHECK_OK(meru_flush(S.db));
        CHECK_OK(meru_compact(S.db));
    }
    meru_row_free(r);
    atomic_store(&S.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(rt[i], NULL);
    CHECK_EQ_INT(atomic_load(&S.failed), 0);
    CHECK(atomic_load(&S.gets) > 0);
    CHECK(atomic_load(&S.db->keydir.built) > 0);
    CHECK_OK(meru_close(S.db));
    meru_db_free(S.db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_db_keydir_built_in_background);
    MERU_TEST_RUN(test_db_keydir_warms_pages_at_open);
    MERU_TEST_RUN(test_db_keydir_races_compaction);
    return meru_test_finish();
}
