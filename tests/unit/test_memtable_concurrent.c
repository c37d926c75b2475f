/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_memtable_concurrent.c — one writer and several lock-free readers on
 * one memtable (MERU_TEST_CONCURRENT: also run under ThreadSanitizer).
 *
 * The writer adds 100k+ versions (unique seqs; user keys in random order
 * with several versions each, or ascending, or ascending with one add in 8
 * a new version of an earlier key: the skip list's append path alone and
 * interleaved with searched inserts) and after each add publishes "i entries are in" through an
 * atomic counter, as the engine publishes its visible sequence. Readers
 * check, while the writer runs:
 *   - a get of any published version at its own seq finds exactly it, and
 *     a get at "latest" finds that version or a newer one;
 *   - every forward or backward walk is strictly ordered;
 *   - a full scan sees at least every published entry, and an entry seen
 *     once is seen by every later seek.
 * A failing reader records its first complaint; the main thread checks.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memtable/memtable.h"
#include "test.h"
#include "types/keycodec.h"
#include "util/endian.h"

#define NREADERS 3
#define UK_LEN   12

typedef struct entry {
    uint8_t uk[UK_LEN];
    uint64_t seq;
    int op;
} entry;

typedef struct shared {
    meru_memtable *m;
    const entry *e;
    size_t n;
    atomic_size_t published; /* entries 0 .. published-1 are in */
    atomic_bool done;
    atomic_int failed;
    char why[256]; /* written once, by the reader that set failed */
} shared;

typedef struct reader_arg {
    shared *s;
    uint64_t rng;
    uint64_t gets, scans, walks;
} reader_arg;

static uint64_t xrand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(2685821657736338717);
}

static void fail(shared *s, const char *what, uint64_t a, uint64_t b)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&s->failed, &expected, 1))
        snprintf(s->why, sizeof s->why, "%s (%llu, %llu)", what,
                 (unsigned long long)a, (unsigned long long)b);
}

/* The value of version `seq`: 8 bytes of seq then a seq-dependent tail. */
static size_t make_value(uint8_t *v, uint64_t seq)
{
    size_t n = 8 + (size_t)(seq % 24);
    meru_store_be64(v, seq);
    for (size_t i = 8; i < n; i++)
        v[i] = (uint8_t)(seq + i);
    return n;
}

static void *writer_main(void *p)
{
    shared *s = p;
    uint8_t v[32];
    for (size_t i = 0; i < s->n; i++) {
        const entry *e = &s->e[i];
        size_t vl = make_value(v, e->seq);
        int rc = meru_memtable_add(s->m, e->seq, e->op, e->uk, UK_LEN, v,
                                   e->op == MERU_OP_PUT ? vl : 0);
        if (rc) {
            fail(s, "writer: add failed at", i, (uint64_t)-rc);
            break;
        }
        atomic_store_explicit(&s->published, i + 1, memory_order_release);
    }
    atomic_store_explicit(&s->done, true, memory_order_release);
    return NULL;
}

static int check_get(shared *s, const entry *e)
{
    meru_mt_result r;
    meru_memtable_get(s->m, e->uk, UK_LEN, e->seq, &r);
    if (e->op == MERU_OP_DELETE) {
        if (r.state != MERU_MT_DELETED || r.seq != e->seq) {
            fail(s, "get of a published delete: state, seq", r.state, r.seq);
            return -1;
        }
    } else {
        uint8_t v[32];
        size_t vl = make_value(v, e->seq);
        if (r.state != MERU_MT_FOUND || r.seq != e->seq || r.vlen != vl ||
            memcmp(r.value, v, vl)) {
            fail(s, "get of a published put: state, seq", r.state, r.seq);
            return -1;
        }
    }
    meru_memtable_get(s->m, e->uk, UK_LEN, UINT64_MAX, &r);
    if (r.state == MERU_MT_NOT_FOUND || r.seq < e->seq) {
        fail(s, "latest get older than a published version", r.seq, e->seq);
        return -1;
    }
    return 0;
}

/* Walks up to `steps` entries from a seek to a random key or to a
 * published user key, forward or backward, checking strict order. */
static int check_walk(shared *s, reader_arg *ra, size_t steps, bool back)
{
    uint8_t t[UK_LEN];
    size_t pub = atomic_load_explicit(&s->published, memory_order_acquire);
    /* Half the walks start at a published key: random bytes land past
     * every ascending key (they all start with zero bytes). */
    if (pub && xrand(&ra->rng) % 2)
        memcpy(t, s->e[xrand(&ra->rng) % pub].uk, UK_LEN);
    else
        for (size_t i = 0; i < UK_LEN; i++)
            t[i] = (uint8_t)xrand(&ra->rng);
    meru_memtable_iter it;
    meru_memtable_iter_init(&it, s->m);
    meru_memtable_iter_seek_ikey(&it, t, UK_LEN);
    if (back && !meru_memtable_iter_valid(&it))
        meru_memtable_iter_seek_to_last(&it);
    const uint8_t *pk = NULL;
    size_t pl = 0;
    for (size_t i = 0; i < steps && meru_memtable_iter_valid(&it); i++) {
        size_t kl;
        const uint8_t *k = meru_memtable_iter_ikey(&it, &kl);
        if (pk) {
            int c = meru_ikey_cmp(pk, pl, k, kl);
            if (back ? c <= 0 : c >= 0) {
                fail(s,
                     back ? "backward walk out of order"
                          : "forward walk out of order",
                     i, steps);
                return -1;
            }
        }
        pk = k;
        pl = kl;
        if (back)
            meru_memtable_iter_prev(&it);
        else
            meru_memtable_iter_next(&it);
    }
    return 0;
}

/* Full scan: ordered, and at least `published` entries. Remembers one
 * entry seen (its ikey, borrowed: valid while the memtable lives). */
static int check_scan(shared *s, size_t *last_count, const uint8_t **seen,
                      size_t *seen_len, uint64_t pick)
{
    size_t p = atomic_load_explicit(&s->published, memory_order_acquire);
    meru_memtable_iter it;
    meru_memtable_iter_init(&it, s->m);
    size_t count = 0;
    const uint8_t *pk = NULL;
    size_t pl = 0;
    for (meru_memtable_iter_seek_to_first(&it); meru_memtable_iter_valid(&it);
         meru_memtable_iter_next(&it)) {
        size_t kl;
        const uint8_t *k = meru_memtable_iter_ikey(&it, &kl);
        if (pk && meru_ikey_cmp(pk, pl, k, kl) >= 0) {
            fail(s, "scan out of order at", count, 0);
            return -1;
        }
        if (count == pick % (p + 1)) {
            *seen = k;
            *seen_len = kl;
        }
        pk = k;
        pl = kl;
        count++;
    }
    if (count < p || count < *last_count) {
        fail(s, "scan saw fewer entries than published / before", count,
             count < p ? p : *last_count);
        return -1;
    }
    *last_count = count;
    return 0;
}

static void *reader_main(void *p)
{
    reader_arg *ra = p;
    shared *s = ra->s;
    meru_memtable_ref(s->m); /* as an engine reader pins its memtables */
    size_t last_count = 0;
    const uint8_t *seen = NULL;
    size_t seen_len = 0;
    bool last_round = false;
    for (uint64_t round = 0; !atomic_load(&s->failed); round++) {
        if (last_round)
            break;
        last_round = atomic_load_explicit(&s->done, memory_order_acquire);
        size_t pub = atomic_load_explicit(&s->published, memory_order_acquire);
        for (int g = 0; g < 64 && pub; g++, ra->gets++)
            if (check_get(s, &s->e[xrand(&ra->rng) % pub]))
                goto out;
        if (check_walk(s, ra, 200, round % 2 == 1))
            goto out;
        ra->walks++;
        if (seen) { /* seen before: must still be found by a seek */
            meru_memtable_iter it;
            meru_memtable_iter_init(&it, s->m);
            meru_memtable_iter_seek_ikey(&it, seen, seen_len);
            size_t kl;
            const uint8_t *k = meru_memtable_iter_valid(&it)
                                   ? meru_memtable_iter_ikey(&it, &kl)
                                   : NULL;
            if (!k || kl != seen_len || memcmp(k, seen, kl)) {
                fail(s, "an entry seen before is gone", seen_len, 0);
                goto out;
            }
        }
        if (round % 32 == 0 || last_round) {
            if (check_scan(s, &last_count, &seen, &seen_len, xrand(&ra->rng)))
                goto out;
            ra->scans++;
        }
    }
out:
    meru_memtable_unref(s->m);
    return NULL;
}

/* The order the writer adds user keys in. */
typedef enum key_order {
    RANDOM,    /* keys from a pool, several versions each */
    ASCENDING, /* each key greater than the last: every add appends */
    /* ascending, but one add in 8 is a new version of an earlier key
     * (a smaller internal key): appends interleaved with searches */
    MOSTLY_ASCENDING
} key_order;

static void make_entries(entry *e, size_t n, key_order order)
{
    size_t npool = n / 4;
    uint8_t(*pool)[UK_LEN] = order == RANDOM ? calloc(npool, UK_LEN) : NULL;
    CHECK(order != RANDOM || pool);
    for (size_t i = 0; i < npool && pool; i++)
        for (size_t j = 0; j < UK_LEN; j++)
            pool[i][j] = (uint8_t)meru_test_rand();
    size_t next = 0; /* ascending keys given so far */
    for (size_t i = 0; i < n; i++) {
        if (order == RANDOM) {
            memcpy(e[i].uk, pool[meru_test_rand() % npool], UK_LEN);
        } else if (order == MOSTLY_ASCENDING && next &&
                   meru_test_rand() % 8 == 0) {
            memcpy(e[i].uk, e[meru_test_rand() % i].uk, UK_LEN);
        } else {
            /* 4 zero bytes, then a big-endian counter: byte order is
             * numeric order */
            memset(e[i].uk, 0, 4);
            meru_store_be64(e[i].uk + 4, ++next * 3);
        }
        e[i].seq = i + 1;
        e[i].op = meru_test_rand() % 8 ? MERU_OP_PUT : MERU_OP_DELETE;
    }
    free(pool);
}

static void readers_during_inserts(key_order order)
{
    shared s;
    memset(&s, 0, sizeof s);
    s.n = 100000 + (size_t)(20000 * meru_test_scale());
    entry *e = calloc(s.n, sizeof *e);
    CHECK(e);
    make_entries(e, s.n, order);
    s.e = e;
    atomic_init(&s.published, 0);
    atomic_init(&s.done, false);
    atomic_init(&s.failed, 0);
    int rc = meru_memtable_new(&s.m, 0);
    if (rc) {
        free(e);
        CHECK_OK(rc);
    }
    reader_arg ra[NREADERS];
    pthread_t rt[NREADERS], wt;
    for (int i = 0; i < NREADERS; i++) {
        ra[i] = (reader_arg){.s = &s, .rng = meru_test_rand() | 1};
        pthread_create(&rt[i], NULL, reader_main, &ra[i]);
    }
    pthread_create(&wt, NULL, writer_main, &s);
    pthread_join(wt, NULL);
    for (int i = 0; i < NREADERS; i++)
        pthread_join(rt[i], NULL);
    uint64_t count = meru_memtable_count(s.m);
    uint64_t lo = meru_memtable_min_seq(s.m), hi = meru_memtable_max_seq(s.m);
    meru_memtable_unref(s.m);
    free(e);
    uint64_t gets = 0, scans = 0, walks = 0;
    for (int i = 0; i < NREADERS; i++) {
        gets += ra[i].gets;
        scans += ra[i].scans;
        walks += ra[i].walks;
    }
    CHECK_MSG(!atomic_load(&s.failed), "%s", s.why);
    CHECK_EQ_U64(count, s.n);
    CHECK_EQ_U64(lo, 1);
    CHECK_EQ_U64(hi, s.n);
    /* The readers really ran alongside (each does a final full round). */
    CHECK(scans >= NREADERS && gets > 0 && walks > 0);
    printf("    %zu adds; readers: %llu gets, %llu walks, %llu scans\n", s.n,
           (unsigned long long)gets, (unsigned long long)walks,
           (unsigned long long)scans);
}

static void test_readers_see_consistent_memtable_while_writer_inserts(void)
{
    readers_during_inserts(RANDOM);
}

/* Every add takes the skip list's append path (links after the tails). */
static void test_readers_see_consistent_memtable_while_writer_appends(void)
{
    readers_during_inserts(ASCENDING);
}

/* Appends and searched inserts interleaved: the tails must follow both. */
static void test_readers_see_consistent_memtable_while_writer_mostly_appends(
    void)
{
    readers_during_inserts(MOSTLY_ASCENDING);
}

typedef struct ref_arg {
    meru_memtable *m;
    int rounds;
} ref_arg;

static void *ref_main(void *p)
{
    ref_arg *a = p;
    for (int i = 0; i < a->rounds; i++) {
        meru_memtable_ref(a->m);
        meru_mt_result r;
        meru_memtable_get(a->m, (const uint8_t *)"k", 1, UINT64_MAX, &r);
        meru_memtable_unref(a->m);
    }
    /* Each thread owned one reference handed to it; the last one out frees
     * (ASan: leak if nobody does, use after free if too early). */
    meru_memtable_unref(a->m);
    return NULL;
}

static void test_last_unref_from_any_thread_frees_once(void)
{
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 0));
    CHECK_OK(
        meru_memtable_add(m, 1, MERU_OP_PUT, (const uint8_t *)"k", 1, "v", 1));
    enum { T = 4 };
    pthread_t t[T];
    ref_arg a = {.m = m, .rounds = 20000};
    for (int i = 0; i < T; i++)
        meru_memtable_ref(m);
    for (int i = 0; i < T; i++)
        pthread_create(&t[i], NULL, ref_main, &a);
    meru_memtable_unref(m); /* the creator's reference */
    for (int i = 0; i < T; i++)
        pthread_join(t[i], NULL);
}

int main(void)
{
    MERU_TEST_RUN(test_readers_see_consistent_memtable_while_writer_inserts);
    MERU_TEST_RUN(test_readers_see_consistent_memtable_while_writer_appends);
    MERU_TEST_RUN(
        test_readers_see_consistent_memtable_while_writer_mostly_appends);
    MERU_TEST_RUN(test_last_unref_from_any_thread_frees_once);
    return meru_test_finish();
}
