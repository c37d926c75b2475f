/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv_leveldb.c — bench_kv driver for LevelDB through its C API
 * (leveldb/c.h). Packed values, order-preserving 8-byte keys (kv.h).
 */
#include <leveldb/c.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv.h"

typedef struct ldb {
    leveldb_t *db;
    leveldb_options_t *opts;
    leveldb_cache_t *cache;
    leveldb_filterpolicy_t *bloom;
    leveldb_writeoptions_t *wo;
    leveldb_readoptions_t *ro;
    leveldb_writebatch_t *wb;
} ldb;

static int failed(const char *what, char *err)
{
    fprintf(stderr, "leveldb: %s: %s\n", what, err ? err : "?");
    leveldb_free(err);
    return -1;
}

static void l_describe(const kv_conf *c, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "LevelDB %d.%d: LRU block cache %zu MiB, 4 KiB blocks, bloom 10 "
             "bits/key, write_buffer %zu MiB, Snappy, WAL (log) on, %s",
             leveldb_major_version(), leveldb_minor_version(),
             c->cache_bytes >> 20, c->write_buffer >> 20,
             c->sync ? "sync=true per write batch" : "sync=false");
}

static int l_close(void *h)
{
    ldb *l = h;
    if (!l)
        return 0;
    if (l->db)
        leveldb_close(l->db);
    if (l->wb)
        leveldb_writebatch_destroy(l->wb);
    if (l->ro)
        leveldb_readoptions_destroy(l->ro);
    if (l->wo)
        leveldb_writeoptions_destroy(l->wo);
    if (l->opts)
        leveldb_options_destroy(l->opts);
    if (l->bloom)
        leveldb_filterpolicy_destroy(l->bloom);
    if (l->cache)
        leveldb_cache_destroy(l->cache);
    free(l);
    return 0;
}

static int l_open(void **out, const char *dir, const kv_conf *c)
{
    ldb *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->opts = leveldb_options_create();
    leveldb_options_set_create_if_missing(l->opts, 1);
    leveldb_options_set_write_buffer_size(l->opts, c->write_buffer);
    l->cache = leveldb_cache_create_lru(c->cache_bytes);
    leveldb_options_set_cache(l->opts, l->cache);
    l->bloom = leveldb_filterpolicy_create_bloom(10);
    leveldb_options_set_filter_policy(l->opts, l->bloom);
    leveldb_options_set_compression(l->opts, leveldb_snappy_compression);
    l->wo = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(l->wo, c->sync ? 1 : 0);
    l->ro = leveldb_readoptions_create();
    l->wb = leveldb_writebatch_create();
    char *err = NULL;
    l->db = leveldb_open(l->opts, dir, &err);
    if (err) {
        l_close(l);
        return failed("open", err);
    }
    *out = l;
    return 0;
}

static int l_write(void *h, const kv_row *rows, size_t n)
{
    ldb *l = h;
    unsigned char key[8], val[KV_VALUE_MAX];
    char *err = NULL;
    if (n == 1) {
        kv_key_encode(rows[0].k, key);
        size_t vl = kv_value_encode(&rows[0], val);
        leveldb_put(l->db, l->wo, (const char *)key, 8, (const char *)val, vl,
                    &err);
    } else {
        leveldb_writebatch_clear(l->wb);
        for (size_t j = 0; j < n; j++) {
            kv_key_encode(rows[j].k, key);
            size_t vl = kv_value_encode(&rows[j], val);
            leveldb_writebatch_put(l->wb, (const char *)key, 8,
                                   (const char *)val, vl);
        }
        leveldb_write(l->db, l->wo, l->wb, &err);
    }
    return err ? failed("write", err) : 0;
}

static int l_get(void *h, int64_t k, kv_row *out)
{
    ldb *l = h;
    unsigned char key[8];
    kv_key_encode(k, key);
    char *err = NULL;
    size_t vl = 0;
    char *v = leveldb_get(l->db, l->ro, (const char *)key, 8, &vl, &err);
    if (err)
        return failed("get", err);
    if (!v)
        return 0;
    int rc = kv_value_decode((const unsigned char *)v, vl, out);
    leveldb_free(v);
    if (rc)
        return -1;
    out->k = k;
    return 1;
}

static int l_scan(void *h, int64_t lo, int64_t hi, int has_hi, int project,
                  kv_scan_acc *acc)
{
    ldb *l = h;
    unsigned char lk[8], hk[8];
    kv_key_encode(lo, lk);
    kv_key_encode(hi, hk);
    leveldb_iterator_t *it = leveldb_create_iterator(l->db, l->ro);
    kv_row row;
    int rc = 0;
    for (leveldb_iter_seek(it, (const char *)lk, 8); leveldb_iter_valid(it);
         leveldb_iter_next(it)) {
        size_t kl, vl;
        const char *key = leveldb_iter_key(it, &kl);
        if (kl != 8) {
            rc = -1;
            break;
        }
        if (has_hi && memcmp(key, hk, 8) >= 0)
            break;
        const char *v = leveldb_iter_value(it, &vl);
        if (kv_value_decode((const unsigned char *)v, vl, &row)) {
            rc = -1;
            break;
        }
        kv_acc_row(acc, kv_key_decode((const unsigned char *)key), row.i,
                   project ? 0 : kl + vl);
    }
    char *err = NULL;
    leveldb_iter_get_error(it, &err);
    leveldb_iter_destroy(it);
    if (err)
        return failed("scan", err);
    return rc;
}

static long level0_files(ldb *l)
{
    char *v = leveldb_property_value(l->db, "leveldb.num-files-at-level0");
    long n = v ? strtol(v, NULL, 10) : 0;
    leveldb_free(v);
    return n;
}

/*
 * LevelDB's C API has neither a flush nor a "compaction pending" property
 * (CompactRange would force a full compaction, which the others do not do).
 * Settled here = L0 below its compaction trigger (4 files) and the
 * per-level stats unchanged for 200 ms (not counted: *idle_at is when the
 * quiet period began); the memtable stays in memory and in the log.
 */
static int l_settle(void *h, double *idle_at)
{
    ldb *l = h;
    char *prev = NULL;
    int stable = 0;
    while (stable < 20) {
        char *cur = leveldb_property_value(l->db, "leveldb.stats");
        if (level0_files(l) < 4 && prev && cur && strcmp(prev, cur) == 0)
            stable++;
        else {
            stable = 0;
            *idle_at = kv_now();
        }
        leveldb_free(prev);
        prev = cur;
        kv_sleep_ms(10);
    }
    leveldb_free(prev);
    return 0;
}

/* Gets on one handle are thread-safe (the read options are only read):
 * a reader is the handle. */
static int l_reader_open(void *h, void **out)
{
    *out = h;
    return 0;
}

static void l_reader_close(void *r)
{
    (void)r;
}

const kv_driver kv_driver_leveldb = {
    "leveldb", l_describe, l_open, l_close, l_write, l_get, l_scan, l_settle,
    l_reader_open, l_get, l_reader_close, NULL,
};
