/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cache.c — the sharded CLOCK cache (cache.h).
 *
 * Single-threaded tests pin the policy on a one-shard cache (capacities
 * under 1 MiB use one shard): CLOCK order, in-use entries surviving eviction
 * and erase, replacement, capacity 0, oversized entries, deleters running
 * exactly once, stats. A random single-threaded run checks the invariants
 * against a model of which keys may be present. The stress test runs
 * threads doing lookups, inserts, erases and releases over a 16-shard
 * cache (MERU_TEST_CONCURRENT: also run under TSan) and checks that every
 * value was deleted exactly once and never while a handle was out.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "test.h"
#include "util/error.h"

/* ------------------------------------------------------ counted values */

#define VALUE_MAGIC 0x5eedcafeu

typedef struct tval {
    unsigned magic;
    unsigned key;
    atomic_int deleted; /* a second delete would be caught here (and by ASan) */
} tval;

static atomic_long g_deleted;

static void tval_del(const void *key, size_t klen, void *value)
{
    tval *v = value;
    (void)key;
    (void)klen;
    if (atomic_fetch_add(&v->deleted, 1) != 0 || v->magic != VALUE_MAGIC)
        abort(); /* a test program may abort: a double delete is fatal */
    v->magic = 0;
    free(v);
    atomic_fetch_add(&g_deleted, 1);
}

static tval *tval_new(unsigned key)
{
    tval *v = calloc(1, sizeof *v);
    if (v) {
        v->magic = VALUE_MAGIC;
        v->key = key;
        atomic_init(&v->deleted, 0);
    }
    return v;
}

static long deleted(void)
{
    return atomic_load(&g_deleted);
}

/* Inserts key k (as 4 bytes) with a fresh value; returns the handle. */
static meru_cache_handle *put(meru_cache *c, unsigned k, size_t charge)
{
    tval *v = tval_new(k);
    if (!v)
        return NULL;
    meru_cache_handle *h;
    if (meru_cache_insert(c, &k, sizeof k, v, charge, tval_del, &h)) {
        free(v);
        return NULL;
    }
    return h;
}

static bool present(meru_cache *c, unsigned k)
{
    meru_cache_handle *h = meru_cache_lookup(c, &k, sizeof k);
    if (!h)
        return false;
    bool ok = ((tval *)meru_cache_value(h))->key == k;
    meru_cache_release(c, h);
    return ok;
}

/* ----------------------------------------------------------------- tests */

/* --------------------------------------- deleters in the inserting thread */

/* A value recording the thread its deleter ran in. */
typedef struct owned {
    pthread_t deleted_in;
    atomic_int deleted;
} owned;

static void owned_del(const void *key, size_t klen, void *value)
{
    owned *o = value;
    (void)key;
    (void)klen;
    o->deleted_in = pthread_self();
    atomic_fetch_add(&o->deleted, 1);
}

typedef struct owner_arg {
    meru_cache *c;
    pthread_barrier_t *bar;
    owned small, big;
    pthread_t self;
} owner_arg;

static void *owner_main(void *p)
{
    owner_arg *a = p;
    meru_cache_handle *h;
    unsigned k = 1;
    a->self = pthread_self();
    if (meru_cache_insert(a->c, &k, sizeof k, &a->small, 50, owned_del, &h))
        abort();
    meru_cache_release(a->c, h);
    k = 2; /* over the lists' limit (capacity / 64 = 100 bytes) */
    if (meru_cache_insert(a->c, &k, sizeof k, &a->big, 200, owned_del, &h))
        abort();
    meru_cache_release(a->c, h);
    pthread_barrier_wait(a->bar); /* the main thread evicts both */
    pthread_barrier_wait(a->bar); /* and has looked */
    k = 3; /* an insert: the thread's own evicted entries are deleted */
    if (meru_cache_insert(a->c, &k, sizeof k, NULL, 1, NULL, &h))
        abort();
    meru_cache_release(a->c, h);
    return NULL;
}

/* An entry one thread inserted and another evicted is deleted by the
 * thread that inserted it, at its next insert (its value was allocated
 * there); one larger than the waiting list's limit is deleted at once. */
static void test_cache_deleter_runs_in_inserting_thread(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 6400)); /* one shard */
    pthread_barrier_t bar;
    CHECK(pthread_barrier_init(&bar, NULL, 2) == 0);
    owner_arg a = {.c = c, .bar = &bar};
    atomic_init(&a.small.deleted, 0);
    atomic_init(&a.big.deleted, 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, owner_main, &a) == 0);
    pthread_barrier_wait(&bar);
    for (unsigned k = 10; k < 200; k++) /* evicts keys 1 and 2 */
        meru_cache_release(c, put(c, k, 50));
    CHECK(!present(c, 1) && !present(c, 2));
    CHECK_EQ_INT(atomic_load(&a.small.deleted), 0);
    CHECK_EQ_INT(atomic_load(&a.big.deleted), 1);
    CHECK(pthread_equal(a.big.deleted_in, pthread_self()));
    pthread_barrier_wait(&bar);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK_EQ_INT(atomic_load(&a.small.deleted), 1);
    CHECK(pthread_equal(a.small.deleted_in, a.self));
    pthread_barrier_destroy(&bar);
    meru_cache_free(c);
}

/* meru_cache_filled: false until the shard first evicts for room, then
 * true for good (an erase does not clear it). */
static void test_cache_filled_after_first_eviction(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 100)); /* one shard */
    uint64_t h = meru_cache_hash("x", 1);
    for (unsigned k = 0; k < 10; k++) {
        meru_cache_release(c, put(c, k, 10)); /* exactly full */
        CHECK(!meru_cache_filled(c, h));
    }
    meru_cache_release(c, put(c, 10, 10)); /* evicts one */
    CHECK(meru_cache_filled(c, h));
    for (unsigned k = 0; k <= 10; k++)
        meru_cache_erase(c, &k, sizeof k);
    CHECK(meru_cache_filled(c, h));
    meru_cache_free(c);
}

/* Entries left waiting for a thread that never inserts again are deleted
 * by meru_cache_free. */
static void *insert_once(void *p)
{
    owner_arg *a = p;
    meru_cache_handle *h;
    unsigned k = 1;
    if (meru_cache_insert(a->c, &k, sizeof k, &a->small, 50, owned_del, &h))
        abort();
    meru_cache_release(a->c, h);
    return NULL;
}

static void test_cache_free_deletes_waiting_entries(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 6400));
    owner_arg a = {.c = c};
    atomic_init(&a.small.deleted, 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, insert_once, &a) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    for (unsigned k = 10; k < 200; k++)
        meru_cache_release(c, put(c, k, 50));
    CHECK(!present(c, 1));
    CHECK_EQ_INT(atomic_load(&a.small.deleted), 0);
    meru_cache_free(c);
    CHECK_EQ_INT(atomic_load(&a.small.deleted), 1);
}

static void test_cache_insert_lookup_stats(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 1000));
    long d0 = deleted();
    CHECK(meru_cache_lookup(c, "x", 1) == NULL);
    meru_cache_handle *h = put(c, 7, 10);
    CHECK(h);
    CHECK_EQ_INT(((tval *)meru_cache_value(h))->key, 7);
    meru_cache_release(c, h);
    unsigned k = 7;
    h = meru_cache_lookup(c, &k, sizeof k);
    CHECK(h);
    CHECK_EQ_INT(((tval *)meru_cache_value(h))->key, 7);
    meru_cache_release(c, h);
    meru_cache_release(c, NULL);
    meru_cache_stats st;
    meru_cache_stats_get(c, &st);
    CHECK_EQ_U64(st.capacity, 1000);
    CHECK_EQ_U64(st.bytes, 10);
    CHECK_EQ_U64(st.entries, 1);
    CHECK_EQ_U64(st.hits, 1);
    CHECK_EQ_U64(st.misses, 1);
    CHECK_EQ_U64(st.inserts, 1);
    CHECK_EQ_U64(st.evictions, 0);
    /* Keys are byte strings: the empty key is a key like any other. */
    meru_cache_handle *he;
    CHECK_OK(meru_cache_insert(c, "", 0, tval_new(0), 1, tval_del, &he));
    meru_cache_release(c, he);
    he = meru_cache_lookup(c, "", 0);
    CHECK(he);
    meru_cache_release(c, he);
    CHECK_EQ_INT(deleted() - d0, 0);
    meru_cache_free(c); /* runs the deleters of what is left */
    CHECK_EQ_INT(deleted() - d0, 2);
    meru_cache_free(NULL);
}

static void test_cache_evicts_least_recently_used(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 100));
    long d0 = deleted();
    for (unsigned k = 0; k < 10; k++) {
        meru_cache_handle *h = put(c, k, 10);
        CHECK(h);
        meru_cache_release(c, h);
    }
    CHECK(present(c, 0)); /* 0 becomes the most recent */
    meru_cache_handle *h = put(c, 10, 10); /* evicts 1, the oldest */
    meru_cache_release(c, h);
    CHECK(!present(c, 1));
    CHECK(present(c, 0));
    CHECK(present(c, 2));
    CHECK_EQ_INT(deleted() - d0, 1);
    h = put(c, 11, 25); /* evicts 3, 4, 5 (2 was just used) */
    meru_cache_release(c, h);
    CHECK(!present(c, 3) && !present(c, 4) && !present(c, 5));
    CHECK(present(c, 2) && present(c, 6) && present(c, 11));
    meru_cache_stats st;
    meru_cache_stats_get(c, &st);
    CHECK(st.bytes <= 100);
    CHECK_EQ_U64(st.evictions, 4);
    CHECK_EQ_INT(deleted() - d0, 4);
    meru_cache_free(c);
}

/* meru_cache_contains: answers as a lookup would, but counts no hit or
 * miss and leaves the CLOCK state: the entry it asked about is evicted
 * first, where a lookup would have kept it (the test above). */
static void test_cache_contains_counts_nothing(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 100));
    for (unsigned k = 0; k < 10; k++) {
        meru_cache_handle *h = put(c, k, 10);
        CHECK(h);
        meru_cache_release(c, h);
    }
    unsigned k0 = 0, k99 = 99;
    CHECK(meru_cache_contains(c, &k0, sizeof k0));
    CHECK(!meru_cache_contains(c, &k99, sizeof k99));
    meru_cache_stats st;
    meru_cache_stats_get(c, &st);
    CHECK_EQ_U64(st.hits, 0);
    CHECK_EQ_U64(st.misses, 0);
    meru_cache_handle *h = put(c, 10, 10); /* evicts 0, the oldest */
    meru_cache_release(c, h);
    CHECK(!meru_cache_contains(c, &k0, sizeof k0));
    CHECK(present(c, 1));
    meru_cache_free(c);
}

static void test_cache_in_use_entries_survive(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 50));
    long d0 = deleted();
    meru_cache_handle *held = put(c, 1, 10);
    CHECK(held);
    for (unsigned k = 2; k < 40; k++) {
        meru_cache_handle *h = put(c, k, 10);
        meru_cache_release(c, h);
    }
    /* Still cached (never an eviction candidate while held). */
    CHECK(present(c, 1));
    CHECK_EQ_INT(((tval *)meru_cache_value(held))->key, 1);
    meru_cache_stats st;
    meru_cache_stats_get(c, &st);
    CHECK(st.bytes <= 50);
    meru_cache_release(c, held);
    CHECK(present(c, 1)); /* released, but within capacity: stays */

    /* Erase while in use: gone for lookups, alive for the holder, deleted
     * once at release. */
    held = meru_cache_lookup(c, &(unsigned){1}, sizeof(unsigned));
    CHECK(held);
    long before = deleted();
    meru_cache_erase(c, &(unsigned){1}, sizeof(unsigned));
    CHECK(!present(c, 1));
    CHECK_EQ_INT(deleted(), before);
    CHECK_EQ_INT(((tval *)meru_cache_value(held))->key, 1);
    meru_cache_release(c, held);
    CHECK_EQ_INT(deleted(), before + 1);
    meru_cache_erase(c, &(unsigned){1}, sizeof(unsigned)); /* absent: no-op */
    CHECK_EQ_INT(deleted(), before + 1);

    /* Erase of an unused entry deletes at once. */
    CHECK(present(c, 39));
    meru_cache_erase(c, &(unsigned){39}, sizeof(unsigned));
    CHECK_EQ_INT(deleted(), before + 2);
    meru_cache_free(c);
    CHECK_EQ_INT(deleted() - d0, 39);
}

static void test_cache_replace_keeps_old_handle(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 1000));
    long d0 = deleted();
    meru_cache_handle *a = put(c, 5, 10);
    tval *va = meru_cache_value(a);
    tval *vb = tval_new(5);
    meru_cache_handle *b;
    unsigned k = 5;
    CHECK_OK(meru_cache_insert(c, &k, sizeof k, vb, 20, tval_del, &b));
    meru_cache_handle *l = meru_cache_lookup(c, &k, sizeof k);
    CHECK(l && meru_cache_value(l) == vb);
    CHECK(meru_cache_value(a) == va);
    CHECK_EQ_INT(deleted() - d0, 0);
    meru_cache_stats st;
    meru_cache_stats_get(c, &st);
    CHECK_EQ_U64(st.bytes, 20); /* the replaced entry no longer counts */
    CHECK_EQ_U64(st.entries, 1);
    meru_cache_release(c, a);
    CHECK_EQ_INT(deleted() - d0, 1);
    meru_cache_release(c, l);
    meru_cache_release(c, b);
    CHECK_EQ_INT(deleted() - d0, 1);
    meru_cache_free(c);
    CHECK_EQ_INT(deleted() - d0, 2);
}

static void test_cache_capacity_zero_caches_nothing(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 0));
    long d0 = deleted();
    meru_cache_handle *h = put(c, 3, 10);
    CHECK(h);
    CHECK_EQ_INT(((tval *)meru_cache_value(h))->key, 3);
    CHECK(!present(c, 3));
    meru_cache_stats st;
    meru_cache_stats_get(c, &st);
    CHECK_EQ_U64(st.bytes, 0);
    CHECK_EQ_U64(st.entries, 0);
    CHECK_EQ_INT(deleted() - d0, 0);
    meru_cache_release(c, h);
    CHECK_EQ_INT(deleted() - d0, 1);
    meru_cache_free(c);
    CHECK_EQ_INT(deleted() - d0, 1);
}

static void test_cache_oversized_entry_leaves_on_release(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 100));
    long d0 = deleted();
    meru_cache_handle *small = put(c, 1, 10);
    meru_cache_release(c, small);
    meru_cache_handle *big = put(c, 2, 500);
    CHECK(big);
    CHECK(!present(c, 1)); /* pushed out to make room */
    CHECK_EQ_INT(((tval *)meru_cache_value(big))->key, 2);
    meru_cache_release(c, big);
    CHECK(!present(c, 2));
    CHECK_EQ_INT(deleted() - d0, 2);
    meru_cache_stats st;
    meru_cache_stats_get(c, &st);
    CHECK_EQ_U64(st.bytes, 0);
    meru_cache_free(c);
}

static void test_cache_new_id_unique_nonzero(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 10));
    uint64_t prev = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t id = meru_cache_new_id(c);
        CHECK(id != 0);
        CHECK(id > prev);
        prev = id;
    }
    meru_cache_free(c);
}

/*
 * Random operations on a one-shard cache against a model of which values
 * are alive: an entry the model says is held must stay retrievable through
 * its handle; with no handle out, bytes <= capacity; every value created is
 * deleted exactly once by the end (the deleter aborts on a second delete).
 */
static void test_cache_random_invariants(void)
{
    enum { NKEYS = 64, NHELD = 8 };
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 400));
    long d0 = deleted();
    long created = 0;
    meru_cache_handle *held[NHELD] = {0};
    unsigned held_key[NHELD];
    size_t steps = (size_t)(20000 * meru_test_scale()) + 100;
    for (size_t s = 0; s < steps; s++) {
        unsigned k = (unsigned)(meru_test_rand() % NKEYS);
        unsigned slot = (unsigned)(meru_test_rand() % NHELD);
        switch (meru_test_rand() % 4) {
        case 0: { /* insert, maybe keeping the handle */
            meru_cache_handle *h = put(c, k, 1 + meru_test_rand() % 60);
            CHECK(h);
            created++;
            if (!held[slot]) {
                held[slot] = h;
                held_key[slot] = k;
            } else {
                meru_cache_release(c, h);
            }
            break;
        }
        case 1: { /* lookup: a hit has the right value */
            meru_cache_handle *h = meru_cache_lookup(c, &k, sizeof k);
            if (h) {
                CHECK_EQ_INT(((tval *)meru_cache_value(h))->key, k);
                if (!held[slot]) {
                    held[slot] = h;
                    held_key[slot] = k;
                } else {
                    meru_cache_release(c, h);
                }
            }
            break;
        }
        case 2:
            meru_cache_erase(c, &k, sizeof k);
            break;
        default:
            if (held[slot]) {
                tval *v = meru_cache_value(held[slot]);
                CHECK_EQ_INT(v->magic, VALUE_MAGIC);
                CHECK_EQ_INT(v->key, held_key[slot]);
                meru_cache_release(c, held[slot]);
                held[slot] = NULL;
            }
        }
        bool any = false;
        for (int i = 0; i < NHELD; i++)
            any |= held[i] != NULL;
        meru_cache_stats st;
        meru_cache_stats_get(c, &st);
        if (!any)
            CHECK(st.bytes <= 400);
        CHECK(st.entries <= NKEYS);
    }
    for (int i = 0; i < NHELD; i++)
        meru_cache_release(c, held[i]);
    meru_cache_free(c);
    CHECK_EQ_INT(deleted() - d0, created);
}

/* ------------------------------------------------------------ threads */

#define STRESS_THREADS 8

typedef struct stress_arg {
    meru_cache *c;
    uint64_t seed;
    long created;
    int bad;
} stress_arg;

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *stress_thread(void *p)
{
    stress_arg *a = p;
    size_t iters = (size_t)(40000 * meru_test_scale()) + 1000;
    meru_cache_handle *kept = NULL;
    for (size_t i = 0; i < iters; i++) {
        unsigned k = (unsigned)(xs(&a->seed) % 2000);
        unsigned r = (unsigned)(xs(&a->seed) % 16);
        if (r == 0) {
            meru_cache_erase(a->c, &k, sizeof k);
            continue;
        }
        meru_cache_handle *h = meru_cache_lookup(a->c, &k, sizeof k);
        if (!h) {
            tval *v = tval_new(k);
            if (!v ||
                meru_cache_insert(a->c, &k, sizeof k, v,
                                  16 * 1024 + (size_t)(xs(&a->seed) % 8192),
                                  tval_del, &h)) {
                free(v);
                a->bad++;
                continue;
            }
            a->created++;
        }
        tval *v = meru_cache_value(h);
        if (v->magic != VALUE_MAGIC || v->key != k ||
            atomic_load(&v->deleted))
            a->bad++;
        /* Hold one handle across many operations now and then. */
        if (r == 1 && !kept) {
            kept = h;
            continue;
        }
        meru_cache_release(a->c, h);
        if (kept && r == 2) {
            tval *kv = meru_cache_value(kept);
            if (kv->magic != VALUE_MAGIC || atomic_load(&kv->deleted))
                a->bad++;
            meru_cache_release(a->c, kept);
            kept = NULL;
        }
    }
    meru_cache_release(a->c, kept);
    return NULL;
}

static void test_cache_concurrent_stress(void)
{
    meru_cache *c;
    CHECK_OK(meru_cache_new(&c, 16u << 20)); /* 16 shards */
    long d0 = deleted();
    stress_arg args[STRESS_THREADS];
    pthread_t th[STRESS_THREADS];
    for (int i = 0; i < STRESS_THREADS; i++) {
        args[i] = (stress_arg){.c = c, .seed = meru_test_rand() | 1};
        CHECK(pthread_create(&th[i], NULL, stress_thread, &args[i]) == 0);
    }
    long created = 0;
    int bad = 0;
    for (int i = 0; i < STRESS_THREADS; i++) {
        pthread_join(th[i], NULL);
        created += args[i].created;
        bad += args[i].bad;
    }
    CHECK_EQ_INT(bad, 0);
    meru_cache_stats st;
    meru_cache_stats_get(c, &st);
    CHECK(st.bytes <= st.capacity);
    CHECK(st.evictions > 0); /* the working set does not fit */
    CHECK_EQ_U64(st.inserts, (uint64_t)created);
    /* evicted entries another thread inserted may still wait for that
     * (finished) thread's next insert: meru_cache_free deletes them */
    CHECK(deleted() - d0 + (long)st.entries <= created);
    meru_cache_free(c);
    CHECK_EQ_INT(deleted() - d0, created);
}

int main(void)
{
    MERU_TEST_RUN(test_cache_insert_lookup_stats);
    MERU_TEST_RUN(test_cache_evicts_least_recently_used);
    MERU_TEST_RUN(test_cache_contains_counts_nothing);
    MERU_TEST_RUN(test_cache_in_use_entries_survive);
    MERU_TEST_RUN(test_cache_replace_keeps_old_handle);
    MERU_TEST_RUN(test_cache_capacity_zero_caches_nothing);
    MERU_TEST_RUN(test_cache_oversized_entry_leaves_on_release);
    MERU_TEST_RUN(test_cache_new_id_unique_nonzero);
    MERU_TEST_RUN(test_cache_random_invariants);
    MERU_TEST_RUN(test_cache_deleter_runs_in_inserting_thread);
    MERU_TEST_RUN(test_cache_free_deletes_waiting_entries);
    MERU_TEST_RUN(test_cache_filled_after_first_eviction);
    MERU_TEST_RUN(test_cache_concurrent_stress);
    return meru_test_finish();
}
