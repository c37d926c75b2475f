/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv_lmdb.c — bench_kv driver for LMDB (lmdb.h): one B+tree in a memory
 * map, packed values and order-preserving 8-byte keys (kv.h). LMDB has no
 * WAL and no cache of its own (it reads through the OS page cache), so the
 * cache budget does not apply; MDB_NOSYNC is the "no fsync per write"
 * setting, the default (fsync at each commit) the sync pass.
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv.h"

typedef struct mdb {
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *rtxn; /* a read transaction kept reset between gets */
} mdb;

static int failed(const char *what, int rc)
{
    fprintf(stderr, "lmdb: %s: %s\n", what, mdb_strerror(rc));
    return -1;
}

static size_t map_bytes(const kv_conf *c)
{
    /* Room for the rows several times over (B-tree pages are at most half
     * full after random inserts, plus free pages of old versions). */
    uint64_t want = c->rows * 600 + ((uint64_t)1 << 30);
    return (size_t)want;
}

static void m_describe(const kv_conf *c, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "LMDB %d.%d.%d: map %zu MiB, no own cache (OS page cache), no WAL "
             "(copy-on-write B+tree), %s, one write txn per batch, read txn "
             "renewed per get",
             MDB_VERSION_MAJOR, MDB_VERSION_MINOR, MDB_VERSION_PATCH,
             map_bytes(c) >> 20, c->sync ? "fsync per commit" : "MDB_NOSYNC");
}

static int m_close(void *h)
{
    mdb *m = h;
    if (!m)
        return 0;
    if (m->rtxn)
        mdb_txn_abort(m->rtxn);
    if (m->env)
        mdb_env_close(m->env);
    free(m);
    return 0;
}

static int m_open(void **out, const char *dir, const kv_conf *c)
{
    mdb *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    int rc = mdb_env_create(&m->env);
    if (!rc)
        rc = mdb_env_set_mapsize(m->env, map_bytes(c));
    if (!rc)
        rc = mdb_env_open(m->env, dir, (c->sync ? 0 : MDB_NOSYNC) | MDB_NOTLS,
                          0644);
    MDB_txn *txn = NULL;
    if (!rc)
        rc = mdb_txn_begin(m->env, NULL, 0, &txn);
    if (!rc)
        rc = mdb_dbi_open(txn, NULL, 0, &m->dbi);
    if (!rc) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
    }
    if (!rc) {
        rc = mdb_txn_begin(m->env, NULL, MDB_RDONLY, &m->rtxn);
        if (!rc)
            mdb_txn_reset(m->rtxn);
    }
    if (rc) {
        if (txn)
            mdb_txn_abort(txn);
        m_close(m);
        return failed("open", rc);
    }
    *out = m;
    return 0;
}

static int m_write(void *h, const kv_row *rows, size_t n)
{
    mdb *m = h;
    MDB_txn *txn;
    int rc = mdb_txn_begin(m->env, NULL, 0, &txn);
    if (rc)
        return failed("txn_begin", rc);
    unsigned char key[8], val[KV_VALUE_MAX];
    for (size_t j = 0; j < n && !rc; j++) {
        kv_key_encode(rows[j].k, key);
        MDB_val k = {8, key};
        MDB_val v = {kv_value_encode(&rows[j], val), val};
        rc = mdb_put(txn, m->dbi, &k, &v, 0);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return failed("put", rc);
    }
    rc = mdb_txn_commit(txn);
    return rc ? failed("commit", rc) : 0;
}

/* A get in read transaction txn (kept reset between gets). */
static int get_txn(mdb *m, MDB_txn *txn, int64_t k, kv_row *out)
{
    int rc = mdb_txn_renew(txn);
    if (rc)
        return failed("txn_renew", rc);
    unsigned char key[8];
    kv_key_encode(k, key);
    MDB_val kv = {8, key}, v;
    rc = mdb_get(txn, m->dbi, &kv, &v);
    int res;
    if (rc == MDB_NOTFOUND)
        res = 0;
    else if (rc)
        res = failed("get", rc);
    else if (kv_value_decode(v.mv_data, v.mv_size, out))
        res = -1;
    else {
        out->k = k;
        res = 1;
    }
    mdb_txn_reset(txn);
    return res;
}

static int m_get(void *h, int64_t k, kv_row *out)
{
    mdb *m = h;
    return get_txn(m, m->rtxn, k, out);
}

/* A client thread's reader: its own read transaction (the environment is
 * opened MDB_NOTLS, so a transaction is not tied to a thread's slot). */
typedef struct mdb_reader {
    mdb *m;
    MDB_txn *txn;
} mdb_reader;

static void m_reader_close(void *r)
{
    mdb_reader *x = r;
    if (!x)
        return;
    if (x->txn)
        mdb_txn_abort(x->txn);
    free(x);
}

static int m_reader_open(void *h, void **out)
{
    mdb_reader *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    x->m = h;
    int rc = mdb_txn_begin(x->m->env, NULL, MDB_RDONLY, &x->txn);
    if (rc) {
        free(x);
        return failed("reader txn_begin", rc);
    }
    mdb_txn_reset(x->txn);
    *out = x;
    return 0;
}

static int m_reader_get(void *r, int64_t k, kv_row *out)
{
    mdb_reader *x = r;
    return get_txn(x->m, x->txn, k, out);
}

static int m_scan(void *h, int64_t lo, int64_t hi, int has_hi, int project,
                  kv_scan_acc *acc)
{
    mdb *m = h;
    int rc = mdb_txn_renew(m->rtxn);
    if (rc)
        return failed("txn_renew", rc);
    MDB_cursor *cur;
    rc = mdb_cursor_open(m->rtxn, m->dbi, &cur);
    if (rc) {
        mdb_txn_reset(m->rtxn);
        return failed("cursor_open", rc);
    }
    unsigned char lk[8], hk[8];
    kv_key_encode(lo, lk);
    kv_key_encode(hi, hk);
    MDB_val k = {8, lk}, v;
    kv_row row;
    int res = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || (has_hi && memcmp(k.mv_data, hk, 8) >= 0))
            break;
        if (kv_value_decode(v.mv_data, v.mv_size, &row)) {
            res = -1;
            break;
        }
        kv_acc_row(acc, kv_key_decode(k.mv_data), row.i,
                   project ? 0 : 8 + v.mv_size);
    }
    if (rc && rc != MDB_NOTFOUND)
        res = failed("cursor_get", rc);
    mdb_cursor_close(cur);
    mdb_txn_reset(m->rtxn);
    return res;
}

/* Nothing runs in the background; with MDB_NOSYNC a settle is a sync of
 * the map so the on-disk size is final. */
static int m_settle(void *h, double *idle_at)
{
    mdb *m = h;
    int rc = mdb_env_sync(m->env, 1);
    return rc ? failed("sync", rc) : 0;
}

const kv_driver kv_driver_lmdb = {
    "lmdb", m_describe, m_open, m_close, m_write, m_get, m_scan, m_settle,
    m_reader_open, m_reader_get, m_reader_close, NULL,
};
