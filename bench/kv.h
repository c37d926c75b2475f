/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv.h — the engine-driver interface of bench_kv (bench/bench_kv.c) and
 * the row model every driver stores.
 *
 * A row is (k int64, i int32, d double, s ~100-byte string). merutable
 * stores it as four typed columns; SQLite as a table with typed columns;
 * the key-value peers (RocksDB, LevelDB, LMDB) as an 8-byte order-preserving
 * key and a packed value of the same bytes: i (4, LE), d (8), s (the rest).
 *
 * Drivers print their own error (to stderr) and return -1; the harness then
 * abandons that engine for the run. Nothing here is library code.
 */
#ifndef MERU_BENCH_KV_H
#define MERU_BENCH_KV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define KV_STR_MAX 128
/* Packed value: i32 + double + string. */
#define KV_VALUE_MAX (4 + 8 + KV_STR_MAX)

typedef struct kv_row {
    int64_t k;
    int32_t i;
    double d;
    uint32_t slen;
    char s[KV_STR_MAX];
} kv_row;

/* Settings every engine gets (written into the report). */
typedef struct kv_conf {
    size_t cache_bytes;  /* block/page cache budget */
    size_t write_buffer; /* memtable size where the engine has one */
    int sync;            /* 1: fsync/fdatasync before each batch returns */
    uint64_t rows;       /* rows the run will load (sizes LMDB's map) */
    /* merutable only: table properties to create the table with (key,
     * value, ..., NULL; from --meru-property), or NULL. */
    const char *const *meru_props;
    /* merutable only: its iceberg_view option, 1 continuous, 0 off, -1
     * its default (the other engines have no such thing). */
    int iceberg_view;
    /* merutable only: its max_immutable_memtables option (0: its default;
     * --meru-max-immutable), to measure the memtable budget's trade-off. */
    int meru_max_imm;
    /* merutable only: its mmap_reads option (-1: its default;
     * --meru-mmap-reads), to weigh mapped file pages against pread. */
    int meru_mmap;
} kv_conf;

/* What a scan accumulates: enough to check the engine returned the rows. */
/* What an engine says it holds in its budgeted parts (kv_driver.mem). */
typedef struct kv_mem {
    double memtables; /* bytes of memtables, mutable and immutable */
    double cache;     /* bytes in the block/page cache (and row cache) */
} kv_mem;

typedef struct kv_scan_acc {
    uint64_t rows;
    uint64_t sum_i;
    uint64_t bytes; /* key + value bytes seen (0 for projected scans) */
    int64_t last_k;
    int order_errors;
} kv_scan_acc;

static inline void kv_acc_row(kv_scan_acc *a, int64_t k, int32_t i,
                              uint64_t bytes)
{
    if (a->rows && k <= a->last_k)
        a->order_errors++;
    a->last_k = k;
    a->rows++;
    a->sum_i += (uint64_t)(uint32_t)i;
    a->bytes += bytes;
}

typedef struct kv_driver {
    const char *name;
    /* One line of engine settings for the report. */
    void (*describe)(const kv_conf *c, char *buf, size_t cap);
    int (*open)(void **out, const char *dir, const kv_conf *c);
    /* Closes and frees; 0 or -1. */
    int (*close)(void *h);
    /* Writes n rows atomically (n == 1: a single put). */
    int (*write)(void *h, const kv_row *rows, size_t n);
    /* 1 found (out filled), 0 absent, -1 error. */
    int (*get)(void *h, int64_t k, kv_row *out);
    /* Rows with lo <= k < hi in key order (has_hi 0: to the end). project:
     * read only column i (merutable/SQLite read only that column; the
     * key-value peers must still decode the packed value). */
    int (*scan)(void *h, int64_t lo, int64_t hi, int has_hi, int project,
                kv_scan_acc *acc);
    /* Flushes what the engine buffers and waits until its background work
     * is idle; the harness times it up to *idle_at (kv_now() when the
     * engine was seen idle) if the driver sets it, else to its return: a
     * driver that must watch for a quiet period does not count it. */
    int (*settle)(void *h, double *idle_at);
    /* Readers for client threads (the "2 threads" read workload): each
     * reader is used by one thread while the others use theirs, and gets
     * through it return what get() would. reader_open gives a reader of
     * the open handle h (its own rows, statement or read transaction;
     * the handle itself where the engine's get is thread-safe as is);
     * reader_close frees it (before h is closed). */
    int (*reader_open)(void *h, void **out);
    int (*reader_get)(void *r, int64_t k, kv_row *out);
    void (*reader_close)(void *r);
    /* Optional (NULL: the engine does not say). The engine's own count of
     * the memory it budgets, in bytes: its memtables (mutable and
     * immutable) and its block/page cache; 0 when filled. Called by the
     * RSS sampler's thread while the workload runs on others. */
    int (*mem)(void *h, kv_mem *out);
} kv_driver;

/* Monotonic seconds. */
static inline double kv_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void kv_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- shared helpers for the key-value peers ---------------------------- */

/* Big-endian with the sign bit flipped: byte order == integer order. */
static inline void kv_key_encode(int64_t k, unsigned char out[8])
{
    uint64_t u = (uint64_t)k ^ (UINT64_C(1) << 63);
    for (int b = 7; b >= 0; b--) {
        out[b] = (unsigned char)u;
        u >>= 8;
    }
}

static inline int64_t kv_key_decode(const unsigned char in[8])
{
    uint64_t u = 0;
    for (int b = 0; b < 8; b++)
        u = u << 8 | in[b];
    return (int64_t)(u ^ (UINT64_C(1) << 63));
}

static inline size_t kv_value_encode(const kv_row *r, unsigned char *out)
{
    memcpy(out, &r->i, 4);
    memcpy(out + 4, &r->d, 8);
    memcpy(out + 12, r->s, r->slen);
    return 12 + (size_t)r->slen;
}

/* Decodes the whole packed value (what a row-store reader has to do). */
static inline int kv_value_decode(const unsigned char *v, size_t len,
                                  kv_row *out)
{
    if (len < 12 || len - 12 > KV_STR_MAX)
        return -1;
    memcpy(&out->i, v, 4);
    memcpy(&out->d, v + 4, 8);
    out->slen = (uint32_t)(len - 12);
    memcpy(out->s, v + 12, out->slen);
    return 0;
}

/* Drivers, defined in bench/kv_<engine>.c when that peer was found. */
extern const kv_driver kv_driver_merutable;
extern const kv_driver kv_driver_rocksdb;
extern const kv_driver kv_driver_leveldb;
extern const kv_driver kv_driver_sqlite;
extern const kv_driver kv_driver_lmdb;

#endif
