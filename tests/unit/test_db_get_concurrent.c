/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_get_concurrent.c — point reads from several threads at once
 * (the two-thread get workload of bench_kv) through the public API, with
 * the default row cache and the page cache in play. MERU_TEST_CONCURRENT:
 * also run under ThreadSanitizer.
 *
 * The table is loaded, compacted and reopened, so the first gets of the
 * reader threads race to open its files (meru_db_file_sst's unlocked fast
 * path) and to fill both caches. Meanwhile one writer overwrites random
 * keys with higher versions, flushing and compacting now and then, so row
 * cache entries of older files are shadowed by newer files. Each value
 * carries its key and version in a padding string, so a reader checks:
 *   - the row belongs to the key it asked for (a cache entry of another
 *     key or file would show);
 *   - its version is at least the one acknowledged before the get began,
 *     and never above the highest version ever written to that key.
 * After the writer stops, every key reads exactly its acknowledged
 * version, and the row cache has served hits.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "test_db_common.h"

#define NKEYS  1500
#define NR     3    /* reader threads */
#define NWRITE 1500 /* overwrites by the writer */
#define COLS   "id int64 not null, ver int64 not null, pad string"

typedef struct shared {
    meru_db *db;
    atomic_llong acked[NKEYS];   /* version acknowledged to the writer */
    atomic_llong started[NKEYS]; /* highest version a write has begun */
    atomic_int stop;
    atomic_int failed;
    atomic_llong gets;
    pthread_mutex_t mu;
    char msg[512];
} shared;

static shared S;

static void fail(const char *what, int64_t key, int64_t a, int64_t b)
{
    pthread_mutex_lock(&S.mu);
    if (!atomic_load(&S.failed)) {
        snprintf(S.msg, sizeof S.msg, "%s: key %lld (%lld, %lld)", what,
                 (long long)key, (long long)a, (long long)b);
        atomic_store(&S.failed, 1);
    }
    pthread_mutex_unlock(&S.mu);
}

/* The padding of (key, version): names both, and is long enough that
 * L1 string pages hold a few rows each. */
static size_t make_pad(int64_t key, int64_t ver, char *out, size_t cap)
{
    int n = snprintf(out, cap, "key=%lld ver=%lld ", (long long)key,
                     (long long)ver);
    size_t len = (size_t)n;
    for (; len + 1 < cap && len < 120; len++)
        out[len] = (char)('a' + (key + ver + (int64_t)len) % 26);
    out[len] = 0;
    return len;
}

static int put_version(meru_db *db, meru_row *r, int64_t key, int64_t ver)
{
    char pad[160];
    size_t len = make_pad(key, ver, pad, sizeof pad);
    int rc = meru_row_set_int64(r, 0, key);
    if (!rc)
        rc = meru_row_set_int64(r, 1, ver);
    if (!rc)
        rc = meru_row_set_string(r, 2, pad, len);
    if (!rc)
        rc = meru_put(db, r, NULL);
    return rc;
}

/* Reads key; checks the row against [lo, hi] and its padding; returns
 * its version (-1 on failure). */
static int64_t check_get(meru_row *k, meru_row *out, int64_t key, int64_t lo,
                      int64_t hi)
{
    int64_t ver = -1;
    const char *pad;
    size_t len;
    char want[160];
    int rc = meru_row_set_int64(k, 0, key);
    if (!rc)
        rc = meru_get(S.db, NULL, k, out);
    if (rc) {
        fail("get failed", key, rc, 0);
        return -1;
    }
    if (meru_row_get_int64(out, 1, &ver) ||
        meru_row_get_string(out, 2, &pad, &len)) {
        fail("row without its columns", key, 0, 0);
        return -1;
    }
    size_t wl = make_pad(key, ver, want, sizeof want);
    if (len != wl || memcmp(pad, want, len) != 0)
        fail("padding of another key or version", key, ver, 0);
    else if (ver < lo || ver > hi)
        fail("version out of range", key, ver, ver < lo ? lo : hi);
    return ver;
}

static void *reader(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    meru_row *k = NULL, *out = NULL;
    const meru_schema *s = meru_db_schema(S.db);
    if (meru_row_new(&k, s) || meru_row_new(&out, s)) {
        fail("reader setup", 0, 0, 0);
        goto done;
    }
    while (!atomic_load(&S.stop) && !atomic_load(&S.failed)) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* a hot tenth of the keys gets half the reads (row cache hits) */
        int64_t key = (int64_t)(x % (x & 1 ? NKEYS / 10 : NKEYS));
        int64_t lo = atomic_load(&S.acked[key]);
        int64_t ver = check_get(k, out, key, lo, INT64_MAX);
        /* no version newer than any write begun by the time it returned */
        int64_t hi = atomic_load(&S.started[key]);
        if (ver > hi)
            fail("version never written", key, ver, hi);
        atomic_fetch_add(&S.gets, 1);
    }
done:
    meru_row_free(k);
    meru_row_free(out);
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    uint64_t x = 0x2545F4914F6CDD1Dull;
    meru_row *r = NULL;
    if (meru_row_new(&r, meru_db_schema(S.db))) {
        fail("writer setup", 0, 0, 0);
        return NULL;
    }
    for (int i = 0; i < NWRITE && !atomic_load(&S.failed); i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t key = (int64_t)(x % (x & 1 ? NKEYS / 10 : NKEYS));
        int64_t ver = atomic_load(&S.acked[key]) + 1;
        atomic_store(&S.started[key], ver);
        int rc = put_version(S.db, r, key, ver);
        if (rc) {
            fail("put", key, ver, rc);
            break;
        }
        atomic_store(&S.acked[key], ver);
        if (i % 300 == 299 && (rc = meru_flush(S.db)))
            fail("flush", 0, rc, 0);
        if (i == NWRITE / 2 && (rc = meru_compact(S.db)))
            fail("compact", 0, rc, 0);
    }
    meru_row_free(r);
    return NULL;
}

static void test_db_gets_from_threads(void)
{
    const char *dir = meru_test_tmpdir("get_concurrent");
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t", COLS, "id"));
    meru_options o;
    tdb_small_options(&o);
    o.cache_bytes = (size_t)2 << 20; /* default split: a 64 KiB row cache */
    o.string_page_bytes = 1024;
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, s, &db));
    meru_row *r = NULL;
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    for (int64_t key = 0; key < NKEYS; key++)
        CHECK_OK(put_version(db, r, key, 0));
    meru_row_free(r);
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_compact(db));
    CHECK_OK(meru_close(db));
    meru_db_free(db);

    memset(&S, 0, sizeof S);
    pthread_mutex_init(&S.mu, NULL);
    CHECK_OK(meru_open(dir, &o, s, &S.db));
    pthread_t rt[NR], wt;
    for (int i = 0; i < NR; i++)
        CHECK(pthread_create(&rt[i], NULL, reader, (void *)(uintptr_t)(i + 1)) ==
              0);
    CHECK(pthread_create(&wt, NULL, writer, NULL) == 0);
    pthread_join(wt, NULL);
    atomic_store(&S.stop, 1);
    for (int i = 0; i < NR; i++)
        pthread_join(rt[i], NULL);
    CHECK_MSG(!atomic_load(&S.failed), "%s", S.msg);

    /* Quiet now: every key reads exactly its acknowledged version, twice
     * (the second from the row cache where the answer is in a file). */
    meru_row *k = NULL, *out = NULL;
    CHECK_OK(meru_row_new(&k, meru_db_schema(S.db)));
    CHECK_OK(meru_row_new(&out, meru_db_schema(S.db)));
    for (int pass = 0; pass < 2; pass++)
        for (int64_t key = 0; key < NKEYS; key++) {
            int64_t v = atomic_load(&S.acked[key]);
            check_get(k, out, key, v, v);
        }
    CHECK_MSG(!atomic_load(&S.failed), "%s", S.msg);
    meru_stats st;
    CHECK_OK(meru_stats_get(S.db, &st));
    CHECK_MSG(st.row_cache_hits > 0, "row cache: %llu hits, %llu misses",
              (unsigned long long)st.row_cache_hits,
              (unsigned long long)st.row_cache_misses);
    CHECK(atomic_load(&S.gets) > 0);
    meru_row_free(k);
    meru_row_free(out);
    CHECK_OK(meru_close(S.db));
    meru_db_free(S.db);
    pthread_mutex_destroy(&S.mu);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_db_gets_from_threads);
    return meru_test_finish();
}
