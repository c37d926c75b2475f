/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cache_admit.c — the row cache's doorkeeper (cache/admit.h): a key
 * is admitted on its second check, not its first; a mark is forgotten
 * once enough other keys have passed; sizing; and threads checking at
 * once (MERU_TEST_CONCURRENT: also run under TSan) see no harm.
 */
#include <pthread.h>
#include <stdint.h>

#include "cache/admit.h"
#include "cache/cache.h"
#include "test.h"
#include "util/error.h"

static uint64_t key_hash(uint64_t k)
{
    return meru_cache_hash(&k, sizeof k);
}

static void test_admit_on_second_use(void)
{
    meru_admit *a = NULL;
    CHECK_OK(meru_admit_new(&a, 1024));
    for (uint64_t k = 0; k < 100; k++)
        CHECK_MSG(!meru_admit_check(a, key_hash(k)),
                  "key %llu admitted on its first use",
                  (unsigned long long)k);
    size_t admitted = 0;
    for (uint64_t k = 0; k < 100; k++)
        admitted += meru_admit_check(a, key_hash(k));
    /* 100 keys over 256 buckets of 4 marks: a mark is lost only when
     * four later keys fall into its bucket (with one mark a slot, 84 of
     * 100 were admitted). */
    CHECK_MSG(admitted >= 98, "%zu of 100 keys admitted on second use",
              admitted);
    /* Admitted keys stay admitted while their mark stands. */
    size_t again = 0;
    for (uint64_t k = 0; k < 100; k++)
        again += meru_admit_check(a, key_hash(k));
    CHECK_MSG(again >= admitted, "%zu admitted, then %zu", admitted, again);
    meru_admit_free(a);
}

/* A mark lasts "a few slots' worth" of other first-time keys: after
 * 8 x slots others, almost nothing read once long ago is admitted. */
static void test_admit_forgets_old_marks(void)
{
    meru_admit *a = NULL;
    CHECK_OK(meru_admit_new(&a, 256));
    for (uint64_t k = 0; k < 100; k++)
        (void)meru_admit_check(a, key_hash(k));
    for (uint64_t k = 1000; k < 1000 + 8 * 256; k++)
        (void)meru_admit_check(a, key_hash(k));
    size_t admitted = 0;
    for (uint64_t k = 0; k < 100; k++)
        admitted += meru_admit_check(a, key_hash(k));
    CHECK_MSG(admitted <= 5, "%zu of 100 old marks survived", admitted);
    meru_admit_free(a);
}

static void test_admit_sizes(void)
{
    meru_admit *a = NULL;
    CHECK_OK(meru_admit_new(&a, 0));
    CHECK(meru_admit_bytes(a) >= 64 * sizeof(uint32_t));
    meru_admit_free(a);
    CHECK_OK(meru_admit_new(&a, 1000)); /* rounded up to 1024 */
    CHECK(meru_admit_bytes(a) >= 1024 * sizeof(uint32_t) &&
          meru_admit_bytes(a) < 2048 * sizeof(uint32_t));
    CHECK(meru_admit_bytes(a) % 16 == 0);
    meru_admit_free(a);
    /* four marks per entry the cache holds */
    CHECK(meru_admit_slots_for((size_t)1 << 20, 256) == 16384);
    CHECK(meru_admit_slots_for(100, 0) == 400);
    meru_admit_free(NULL);
}

/* MERU_TEST_CONCURRENT: threads check overlapping keys at once. */
typedef struct worker {
    meru_admit *a;
    uint64_t base;
    size_t admitted;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int round = 0; round < 3; round++)
        for (uint64_t k = 0; k < 2000; k++)
            w->admitted += meru_admit_check(w->a, key_hash(w->base + k));
    return NULL;
}

static void test_admit_threads(void)
{
    meru_admit *a = NULL;
    CHECK_OK(meru_admit_new(&a, 1 << 16));
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){a, (uint64_t)(i % 2) * 1000, 0};
        CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        /* each thread saw every key of its range at least twice before
         * its third round: that round is admitted almost entirely */
        CHECK_MSG(w[i].admitted >= 2000, "thread %d: %zu admitted", i,
                  w[i].admitted);
    }
    meru_admit_free(a);
}

int main(void)
{
    MERU_TEST_RUN(test_admit_on_second_use);
    MERU_TEST_RUN(test_admit_forgets_old_marks);
    MERU_TEST_RUN(test_admit_sizes);
    MERU_TEST_RUN(test_admit_threads);
    return meru_test_finish();
}
