/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_worker.c — the background worker's timed wait (db_flush.c): a
 * grace period that ends while the worker is busy with a step is honoured
 * at once, and the wait runs on the monotonic clock.
 *
 * The end-to-end test replaces two functions the library calls, at link
 * time:
 * MERU_TEST_WRAP: meru_clock_ns pthread_cond_timedwait
 *  - meru_clock_ns jumps 3 s forward at every call from a thread other than
 *    the test's, so with a 5 s grace period the deadline of a file queued
 *    by the test thread falls between the worker's "is anything due?" check
 *    and its computation of how long to sleep: a deadline that passed
 *    mid-step. (The engine's old unsigned `next - now` wrapped there and
 *    was clamped to a 60 s sleep.)
 *  - pthread_cond_timedwait, for the worker's condition variable, checks
 *    the absolute time it is asked to wait until against the monotonic
 *    clock and the earliest grace-period end: it must not be later. A
 *    CLOCK_REALTIME deadline (the old code) or a clamped minute fails it.
 * No assertion is about how long anything took: the waits are checked by
 * what they ask for.
 *
 * MERU_TEST_CONCURRENT (the workers are threads).
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "engine/db_internal.h"
#include "test.h"
#include "test_db_common.h"

/* ------------------------------------------------------ wrapped functions */

uint64_t __real_meru_clock_ns(void);
uint64_t __wrap_meru_clock_ns(void);
int __real_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                  const struct timespec *t);
int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                  const struct timespec *t);

static pthread_t g_main;
static atomic_int g_jump;           /* other threads' calls jump the clock */
static atomic_uint_fast64_t g_off;  /* ns added to the real clock */
static _Atomic(meru_db *) g_db;     /* the table whose worker is watched */
static atomic_int g_waits;          /* timed waits checked */
static atomic_int g_bad;            /* ... asking for too late a time */
static char g_bad_msg[256];

#define JUMP_NS (3000000000ull)

uint64_t __wrap_meru_clock_ns(void)
{
    if (atomic_load(&g_jump) && !pthread_equal(pthread_self(), g_main))
        atomic_fetch_add(&g_off, JUMP_NS);
    return __real_meru_clock_ns() + atomic_load(&g_off);
}

static int64_t ts_ms(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                  const struct timespec *t)
{
    meru_db *db = atomic_load(&g_db);
    if (db && c == &db->cv_work && db->ngc > 0) {
        /* The caller holds db->mu (the wait's mutex): db->gc is stable. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t fake_now =
            (__real_meru_clock_ns() + atomic_load(&g_off)) / 1000000u;
        uint64_t due = UINT64_MAX;
        for (size_t i = 0; i < db->ngc; i++)
            if (db->gc[i].due_ms < due)
                due = db->gc[i].due_ms;
        int64_t allowed = due > fake_now ? (int64_t)(due - fake_now) : 0;
        int64_t asked = ts_ms(t) - ts_ms(&now);
        atomic_fetch_add(&g_waits, 1);
        /* 1 s of slack for the real time between the worker's computation
         * and this check (the difference is microseconds). */
        if (asked > allowed + 1000 && atomic_fetch_add(&g_bad, 1) == 0)
            snprintf(g_bad_msg, sizeof g_bad_msg,
                     "the worker waits %lld ms on the monotonic clock while "
                     "a file is due in %lld ms",
                     (long long)asked, (long long)allowed);
    }
    return __real_pthread_cond_timedwait(c, m, t);
}

/* ------------------------------------------------------------ the helper */

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return ts_ms(&t);
}

/* The deadline computation alone: passed, near, far. */
static void test_worker_deadline_signed_and_capped(void)
{
    struct timespec ts;
    uint64_t now = 1000000;
    int64_t before = mono_ms();
    meru_db_worker_deadline(now - 250, now, &ts); /* passed 250 ms ago */
    int64_t after = mono_ms();
    CHECK_MSG(ts_ms(&ts) <= after,
              "a passed deadline must be now, not %lld ms ahead",
              (long long)(ts_ms(&ts) - after));
    CHECK(ts_ms(&ts) >= before);

    before = mono_ms();
    meru_db_worker_deadline(now + 1500, now, &ts);
    after = mono_ms();
    CHECK(ts_ms(&ts) >= before + 1500 && ts_ms(&ts) <= after + 1500);

    before = mono_ms();
    meru_db_worker_deadline(UINT64_MAX - 5, now, &ts);
    after = mono_ms();
    CHECK(ts_ms(&ts) >= before + MERU_DB_WORKER_MAX_WAIT_MS &&
          ts_ms(&ts) <= after + MERU_DB_WORKER_MAX_WAIT_MS);
}

/* ---------------------------------------------------------- end to end */

/* .parquet files under data/L0..L3. */
static int data_files(const char *dir)
{
    char sub[4200];
    int n = 0;
    for (int level = 0; level < 4; level++) {
        snprintf(sub, sizeof sub, "%s/data/L%d", dir, level);
        DIR *d = opendir(sub);
        struct dirent *e;
        while (d && (e = readdir(d)))
            n += strstr(e->d_name, ".parquet") != NULL;
        if (d)
            closedir(d);
    }
    return n;
}

static void test_worker_grace_period_ending_mid_step(void)
{
    const char *dir = meru_test_tmpdir("worker_grace");
    meru_schema *s = NULL;
    meru_db *db = NULL;
    meru_row *r = NULL;
    meru_options o;
    tdb_small_options(&o);
    o.gc_grace_seconds = 5;
    o.background_threads = 1;
    o.l0_compaction_trigger = 12; /* only the manual compaction runs */
    CHECK_OK(meru_schema_parse(&s, "t", "id int64 not null, v string", "id"));
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    /* Other threads read the clock too (the change feed's flush job, the
     * worker's own steps), and each call jumps it: now and then the grace
     * period has already passed when the worker first looks, so it deletes
     * the files without a timed wait and the round checks nothing. Rounds
     * repeat until one has made the worker wait (a worker that never waits
     * fails them all). */
    int n = 0;
    for (int round = 0; round < 5 && atomic_load(&g_waits) == 0; round++) {
        int before = data_files(dir);
        for (int f = 0; f < 3; f++) {
            for (int i = 0; i < 50; i++) {
                meru_row_clear(r);
                CHECK_OK(meru_row_set_int64(r, 0, i));
                CHECK_OK(meru_row_set_string(r, 1, "x", 1));
                CHECK_OK(meru_put(db, r, NULL));
            }
            CHECK_OK(meru_flush(db));
        }
        CHECK_EQ_INT(data_files(dir), before + 3);
        atomic_store(&g_db, db);
        atomic_store(&g_jump, 1);
        /* The L0 files become obsolete in this thread (a 5 s grace on
         * the fake clock); the worker's next steps each see 3 s pass. */
        CHECK_OK(meru_compact(db));
        for (int i = 0; i < 1200 && (n = data_files(dir)) != 1; i++)
            usleep(50000);
        atomic_store(&g_jump, 0);
        atomic_store(&g_db, NULL);
        CHECK_EQ_INT(n, 1);
    }
    CHECK_MSG(atomic_load(&g_bad) == 0, "%s", g_bad_msg);
    CHECK_MSG(atomic_load(&g_waits) > 0,
              "the worker never waited for a grace period (5 rounds)");
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_row_free(r);
    meru_schema_free(s);
}

int main(void)
{
    g_main = pthread_self();
    MERU_TEST_RUN(test_worker_deadline_signed_and_capped);
    MERU_TEST_RUN(test_worker_grace_period_ending_mid_step);
    return meru_test_finish();
}
