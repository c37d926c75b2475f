/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv_rocksdb.c — bench_kv driver for RocksDB through its C API
 * (rocksdb/c.h). Packed values, order-preserving 8-byte keys (kv.h).
 */
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv.h"

/* From pkg-config at configure time (rocksdb/version.h is C++ only). */
#ifndef MERU_BENCH_ROCKSDB_VERSION
#define MERU_BENCH_ROCKSDB_VERSION "(version unknown)"
#endif

typedef struct rdb {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *bbo;
    rocksdb_cache_t *cache;
    rocksdb_writeoptions_t *wo;
    rocksdb_readoptions_t *ro;
    rocksdb_writebatch_t *wb;
} rdb;

static int failed(const char *what, char *err)
{
    fprintf(stderr, "rocksdb: %s: %s\n", what, err ? err : "?");
    free(err);
    return -1;
}

static void r_describe(const kv_conf *c, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "RocksDB %s: LRU block cache %zu MiB, 4 KiB blocks, bloom 10 "
             "bits/key, write_buffer %zu MiB, max_background_jobs 2, "
             "compression LZ4 (bottommost ZSTD), WAL on, %s",
             MERU_BENCH_ROCKSDB_VERSION, c->cache_bytes >> 20,
             c->write_buffer >> 20,
             c->sync ? "sync=true per write batch" : "sync=false");
}

static int r_close(void *h)
{
    rdb *r = h;
    if (!r)
        return 0;
    if (r->db)
        rocksdb_close(r->db);
    if (r->wb)
        rocksdb_writebatch_destroy(r->wb);
    if (r->ro)
        rocksdb_readoptions_destroy(r->ro);
    if (r->wo)
        rocksdb_writeoptions_destroy(r->wo);
    if (r->opts)
        rocksdb_options_destroy(r->opts);
    if (r->bbo)
        rocksdb_block_based_options_destroy(r->bbo);
    if (r->cache)
        rocksdb_cache_destroy(r->cache);
    free(r);
    return 0;
}

static int r_open(void **out, const char *dir, const kv_conf *c)
{
    rdb *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(r->opts, 1);
    rocksdb_options_increase_parallelism(r->opts, 2);
    rocksdb_options_set_max_background_jobs(r->opts, 2);
    rocksdb_options_set_write_buffer_size(r->opts, c->write_buffer);
    rocksdb_options_set_compression(r->opts, rocksdb_lz4_compression);
    rocksdb_options_set_bottommost_compression(r->opts,
                                               rocksdb_zstd_compression);
    r->bbo = rocksdb_block_based_options_create();
    r->cache = rocksdb_cache_create_lru(c->cache_bytes);
    rocksdb_block_based_options_set_block_cache(r->bbo, r->cache);
    rocksdb_block_based_options_set_filter_policy(
        r->bbo, rocksdb_filterpolicy_create_bloom(10));
    rocksdb_options_set_block_based_table_factory(r->opts, r->bbo);
    r->wo = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(r->wo, c->sync ? 1 : 0);
    r->ro = rocksdb_readoptions_create();
    r->wb = rocksdb_writebatch_create();
    char *err = NULL;
    r->db = rocksdb_open(r->opts, dir, &err);
    if (err) {
        r_close(r);
        return failed("open", err);
    }
    *out = r;
    return 0;
}

static int r_write(void *h, const kv_row *rows, size_t n)
{
    rdb *r = h;
    unsigned char key[8], val[KV_VALUE_MAX];
    char *err = NULL;
    if (n == 1) {
        kv_key_encode(rows[0].k, key);
        size_t vl = kv_value_encode(&rows[0], val);
        rocksdb_put(r->db, r->wo, (const char *)key, 8, (const char *)val, vl,
                    &err);
    } else {
        rocksdb_writebatch_clear(r->wb);
        for (size_t j = 0; j < n; j++) {
            kv_key_encode(rows[j].k, key);
            size_t vl = kv_value_encode(&rows[j], val);
            rocksdb_writebatch_put(r->wb, (const char *)key, 8,
                                   (const char *)val, vl);
        }
        rocksdb_write(r->db, r->wo, r->wb, &err);
    }
    return err ? failed("write", err) : 0;
}

static int r_get(void *h, int64_t k, kv_row *out)
{
    rdb *r = h;
    unsigned char key[8];
    kv_key_encode(k, key);
    char *err = NULL;
    rocksdb_pinnableslice_t *ps =
        rocksdb_get_pinned(r->db, r->ro, (const char *)key, 8, &err);
    if (err)
        return failed("get", err);
    if (!ps)
        return 0;
    size_t vl;
    const char *v = rocksdb_pinnableslice_value(ps, &vl);
    int rc = v ? kv_value_decode((const unsigned char *)v, vl, out) : -1;
    rocksdb_pinnableslice_destroy(ps);
    if (rc)
        return -1;
    out->k = k;
    return 1;
}

static int r_scan(void *h, int64_t lo, int64_t hi, int has_hi, int project,
                  kv_scan_acc *acc)
{
    rdb *r = h;
    unsigned char lk[8], hk[8];
    kv_key_encode(lo, lk);
    kv_key_encode(hi, hk);
    rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
    if (has_hi)
        rocksdb_readoptions_set_iterate_upper_bound(ro, (const char *)hk, 8);
    rocksdb_iterator_t *it = rocksdb_create_iterator(r->db, ro);
    kv_row row;
    int rc = 0;
    for (rocksdb_iter_seek(it, (const char *)lk, 8); rocksdb_iter_valid(it);
         rocksdb_iter_next(it)) {
        size_t kl, vl;
        const char *key = rocksdb_iter_key(it, &kl);
        const char *v = rocksdb_iter_value(it, &vl);
        if (kl != 8 || kv_value_decode((const unsigned char *)v, vl, &row)) {
            rc = -1;
            break;
        }
        kv_acc_row(acc, kv_key_decode((const unsigned char *)key), row.i,
                   project ? 0 : kl + vl);
    }
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    rocksdb_iter_destroy(it);
    rocksdb_readoptions_destroy(ro);
    if (err)
        return failed("scan", err);
    return rc;
}

static int r_settle(void *h, double *idle_at)
{
    rdb *r = h;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 1);
    char *err = NULL;
    rocksdb_flush(r->db, fo, &err);
    rocksdb_flushoptions_destroy(fo);
    if (err)
        return failed("flush", err);
    /* Idle = no flush or compaction pending or running. */
    for (;;) {
        uint64_t pend = 0, run = 0, fl = 0, fpend = 0;
        rocksdb_property_int(r->db, "rocksdb.compaction-pending", &pend);
        rocksdb_property_int(r->db, "rocksdb.num-running-compactions", &run);
        rocksdb_property_int(r->db, "rocksdb.num-running-flushes", &fl);
        rocksdb_property_int(r->db, "rocksdb.mem-table-flush-pending", &fpend);
        if (!pend && !run && !fl && !fpend)
            return 0;
        kv_sleep_ms(10);
    }
}

/* Gets on one handle are thread-safe (the read options are only read):
 * a reader is the handle. */
static int r_reader_open(void *h, void **out)
{
    *out = h;
    return 0;
}

static void r_reader_close(void *r)
{
    (void)r;
}

/* Memtables: the size of all of them (active, immutable, pinned);
 * cache: the block cache's usage. */
static int r_mem(void *h, kv_mem *out)
{
    rdb *r = h;
    char *v = rocksdb_property_value(r->db, "rocksdb.size-all-mem-tables");
    if (!v)
        return -1;
    out->memtables = strtod(v, NULL);
    rocksdb_free(v);
    out->cache = (double)rocksdb_cache_get_usage(r->cache);
    return 0;
}

const kv_driver kv_driver_rocksdb = {
    "rocksdb", r_describe, r_open, r_close, r_write, r_get, r_scan, r_settle,
    r_reader_open, r_get, r_reader_close, r_mem,
};
