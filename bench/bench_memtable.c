/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_memtable.c — memtable throughput: N (default 1M) random 16-byte
 * user keys with 100-byte values.
 *   1. one writer alone: inserts/s;
 *   2. one reader alone on the full memtable: gets/s (random present keys);
 *   3. one writer inserting into a fresh memtable while 2 reader threads do
 *      gets of already published keys: inserts/s and total gets/s.
 * Usage: bench_memtable [n] [chunk_bytes]: chunk_bytes is the arena chunk
 * (default 2 MiB, what a 64 MiB-memtable table uses; chunks of 2 MiB and
 * more are backed by transparent huge pages). Not a test: nothing is asserted except that
 * every get finds its key.
 */
#include "bench_util.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memtable/memtable.h"
#include "merutable.h"
#include "types/keycodec.h"

#define KLEN    16
#define VLEN    100
#define READERS 2

static uint64_t xrand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(2685821657736338717);
}

typedef struct ctx {
    meru_memtable *m;
    const uint8_t *keys;
    size_t n;
    atomic_size_t published;
    atomic_bool done;
    atomic_ulong misses;
} ctx;

typedef struct rarg {
    ctx *c;
    uint64_t rng;
    uint64_t gets;
} rarg;

static int insert_all(ctx *c, const uint8_t *val)
{
    for (size_t i = 0; i < c->n; i++) {
        int rc = meru_memtable_add(c->m, i + 1, MERU_OP_PUT, c->keys + i * KLEN,
                                   KLEN, val, VLEN);
        if (rc)
            return rc;
        atomic_store_explicit(&c->published, i + 1, memory_order_release);
    }
    atomic_store_explicit(&c->done, true, memory_order_release);
    return 0;
}

static void *reader(void *p)
{
    rarg *a = p;
    ctx *c = a->c;
    unsigned long miss = 0;
    while (!atomic_load_explicit(&c->done, memory_order_acquire)) {
        size_t pub = atomic_load_explicit(&c->published, memory_order_acquire);
        if (!pub)
            continue;
        for (int i = 0; i < 256; i++) {
            size_t j = (size_t)(xrand(&a->rng) % pub);
            meru_mt_result r;
            meru_memtable_get(c->m, c->keys + j * KLEN, KLEN, UINT64_MAX, &r);
            miss += r.state != MERU_MT_FOUND;
        }
        a->gets += 256;
    }
    atomic_fetch_add(&c->misses, miss);
    return NULL;
}

int main(int argc, char **argv)
{
    /* `make bench BENCH_ARGS=--quick` hands --quick to every bench. */
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    size_t n = quick      ? 20000
               : argc > 1 ? (size_t)strtoull(argv[1], NULL, 10)
                          : 1000000;
    if (n == 0)
        n = 1;
    size_t chunk = !quick && argc > 2 ? (size_t)strtoull(argv[2], NULL, 10)
                                      : (size_t)2 << 20;
    uint8_t *keys = malloc(n * KLEN);
    uint8_t val[VLEN];
    memset(val, 'v', sizeof val);
    uint64_t rng = 0x1234567;
    if (!keys)
        return 1;
    for (size_t i = 0; i < n * KLEN; i += 8) {
        uint64_t x = xrand(&rng);
        memcpy(keys + i, &x, 8);
    }

    /* 1. writer alone */
    ctx c = {.keys = keys, .n = n};
    if (meru_memtable_new(&c.m, chunk))
        return 1;
    double t0 = bench_now();
    if (insert_all(&c, val)) {
        fprintf(stderr, "insert: %s\n", meru_errmsg());
        return 1;
    }
    double t1 = bench_now();
    printf("memtable %zu x (%d B key, %d B value): %.2f MiB arena in %zu KiB "
           "chunks\n",
           n, KLEN, VLEN, (double)meru_memtable_bytes(c.m) / (1024.0 * 1024.0),
           chunk >> 10);
    printf("  insert, 1 writer alone:      %10.0f inserts/s\n",
           (double)n / (t1 - t0));

    /* 2. reader alone */
    unsigned long miss = 0;
    t0 = bench_now();
    for (size_t i = 0; i < n; i++) {
        size_t j = (size_t)(xrand(&rng) % n);
        meru_mt_result r;
        meru_memtable_get(c.m, keys + j * KLEN, KLEN, UINT64_MAX, &r);
        miss += r.state != MERU_MT_FOUND;
    }
    t1 = bench_now();
    printf("  get, 1 reader alone:         %10.0f gets/s\n",
           (double)n / (t1 - t0));
    meru_memtable_unref(c.m);

    /* 3. writer with 2 concurrent readers */
    ctx c2 = {.keys = keys, .n = n};
    atomic_init(&c2.published, 0);
    atomic_init(&c2.done, false);
    atomic_init(&c2.misses, 0);
    if (meru_memtable_new(&c2.m, chunk))
        return 1;
    rarg ra[READERS];
    pthread_t th[READERS];
    t0 = bench_now();
    for (int i = 0; i < READERS; i++) {
        ra[i] = (rarg){.c = &c2, .rng = 99 + (uint64_t)i};
        pthread_create(&th[i], NULL, reader, &ra[i]);
    }
    int rc = insert_all(&c2, val);
    t1 = bench_now();
    uint64_t gets = 0;
    for (int i = 0; i < READERS; i++) {
        pthread_join(th[i], NULL);
        gets += ra[i].gets;
    }
    if (rc) {
        fprintf(stderr, "insert: %s\n", meru_errmsg());
        return 1;
    }
    printf("  insert, with %d readers:      %10.0f inserts/s\n", READERS,
           (double)n / (t1 - t0));
    printf("  get, %d readers with writer:  %10.0f gets/s (total)\n", READERS,
           (double)gets / (t1 - t0));
    miss += atomic_load(&c2.misses);
    meru_memtable_unref(c2.m);
    free(keys);
    if (miss) {
        fprintf(stderr, "%lu gets missed\n", miss);
        return 1;
    }
    return 0;
}
