/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv_sqlite.c — bench_kv driver for SQLite: a table with typed columns
 *   CREATE TABLE t(k INTEGER PRIMARY KEY, i INTEGER NOT NULL,
 *                  d REAL NOT NULL, s TEXT NOT NULL)
 * (k is the rowid: the table's B-tree is keyed by it), WAL journal,
 * synchronous=NORMAL (FULL for the sync pass), one transaction per batch.
 * locking_mode=EXCLUSIVE: the table belongs to one process, as with the
 * other engines (their LOCK files); without it every autocommit read
 * takes and drops POSIX locks, which cost SQLite 4x on point reads here.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv.h"

typedef struct sdb {
    sqlite3 *db;
    sqlite3_stmt *ins, *get, *scan, *scan_all, *proj, *proj_all;
    sqlite3_stmt *begin, *commit;
} sdb;

static int failed(sdb *s, const char *what)
{
    fprintf(stderr, "sqlite: %s: %s\n", what,
            s && s->db ? sqlite3_errmsg(s->db) : "out of memory");
    return -1;
}

static void s_describe(const kv_conf *c, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "SQLite %s: table (k INTEGER PRIMARY KEY, i INTEGER, d REAL, s "
             "TEXT), journal_mode=WAL, synchronous=%s, locking_mode=EXCLUSIVE "
             "(one process, as for the others), cache_size %zu MiB, page_size "
             "4096, one transaction per batch, prepared statements",
             sqlite3_libversion(), c->sync ? "FULL" : "NORMAL",
             c->cache_bytes >> 20);
}

static int s_close(void *h)
{
    sdb *s = h;
    if (!s)
        return 0;
    sqlite3_stmt *st[] = {s->ins,  s->get,      s->scan,  s->scan_all,
                          s->proj, s->proj_all, s->begin, s->commit};
    for (size_t j = 0; j < sizeof st / sizeof *st; j++)
        sqlite3_finalize(st[j]);
    int rc = sqlite3_close(s->db) == SQLITE_OK ? 0 : failed(s, "close");
    free(s);
    return rc;
}

static int exec(sdb *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int prep(sdb *s, const char *sql, sqlite3_stmt **st)
{
    return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK
               ? 0
               : failed(s, sql);
}

static int s_open(void **out, const char *dir, const kv_conf *c)
{
    sdb *s = calloc(1, sizeof *s);
    char path[4096], sql[128];
    if (!s)
        return -1;
    snprintf(path, sizeof path, "%s/db.sqlite", dir);
    if (sqlite3_open(path, &s->db) != SQLITE_OK) {
        failed(s, "open");
        s_close(s);
        return -1;
    }
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%zu", c->cache_bytes >> 10);
    int rc = exec(s, "PRAGMA locking_mode=EXCLUSIVE");
    if (!rc)
        rc = exec(s, "PRAGMA journal_mode=WAL");
    if (!rc)
        rc = exec(s, c->sync ? "PRAGMA synchronous=FULL"
                             : "PRAGMA synchronous=NORMAL");
    if (!rc)
        rc = exec(s, sql);
    if (!rc)
        rc = exec(s, "CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, "
                     "i INTEGER NOT NULL, d REAL NOT NULL, s TEXT NOT NULL)");
    if (!rc)
        rc = prep(s, "INSERT OR REPLACE INTO t(k,i,d,s) VALUES(?,?,?,?)",
                  &s->ins);
    if (!rc)
        rc = prep(s, "SELECT i,d,s FROM t WHERE k=?", &s->get);
    if (!rc)
        rc = prep(s, "SELECT k,i,d,s FROM t WHERE k>=? AND k<? ORDER BY k",
                  &s->scan);
    if (!rc)
        rc = prep(s, "SELECT k,i,d,s FROM t WHERE k>=? ORDER BY k",
                  &s->scan_all);
    if (!rc)
        rc = prep(s, "SELECT k,i FROM t WHERE k>=? AND k<? ORDER BY k",
                  &s->proj);
    if (!rc)
        rc = prep(s, "SELECT k,i FROM t WHERE k>=? ORDER BY k", &s->proj_all);
    if (!rc)
        rc = prep(s, "BEGIN", &s->begin);
    if (!rc)
        rc = prep(s, "COMMIT", &s->commit);
    if (rc) {
        s_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

static int step_done(sdb *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : failed(s, what);
}

static int s_write(void *h, const kv_row *rows, size_t n)
{
    sdb *s = h;
    if (n > 1 && step_done(s, s->begin, "begin"))
        return -1;
    for (size_t j = 0; j < n; j++) {
        sqlite3_bind_int64(s->ins, 1, rows[j].k);
        sqlite3_bind_int(s->ins, 2, rows[j].i);
        sqlite3_bind_double(s->ins, 3, rows[j].d);
        sqlite3_bind_text(s->ins, 4, rows[j].s, (int)rows[j].slen,
                          SQLITE_STATIC);
        if (step_done(s, s->ins, "insert"))
            return -1;
    }
    return n > 1 ? step_done(s, s->commit, "commit") : 0;
}

/* A get through prepared statement st ("SELECT i,d,s FROM t WHERE k=?"). */
static int get_stmt(sdb *s, sqlite3_stmt *st, int64_t k, kv_row *out)
{
    sqlite3_bind_int64(st, 1, k);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->k = k;
        out->i = sqlite3_column_int(st, 0);
        out->d = sqlite3_column_double(st, 1);
        const unsigned char *t = sqlite3_column_text(st, 2);
        int len = sqlite3_column_bytes(st, 2);
        if (!t || len < 0 || len > KV_STR_MAX) {
            sqlite3_reset(st);
            return -1;
        }
        out->slen = (uint32_t)len;
        memcpy(out->s, t, (size_t)len);
        sqlite3_reset(st);
        return 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : failed(s, "get");
}

static int s_get(void *h, int64_t k, kv_row *out)
{
    sdb *s = h;
    return get_stmt(s, s->get, k, out);
}

/* A client thread's reader: its own prepared statement on the one
 * connection. locking_mode=EXCLUSIVE keeps a second connection out, so the
 * threads share this one, which SQLite's serialized threading mode (the
 * default build's) guards with a mutex per connection: gets from two
 * threads take turns. */
typedef struct sdb_reader {
    sdb *s;
    sqlite3_stmt *get;
} sdb_reader;

static void s_reader_close(void *r)
{
    sdb_reader *x = r;
    if (!x)
        return;
    sqlite3_finalize(x->get);
    free(x);
}

static int s_reader_open(void *h, void **out)
{
    sdb_reader *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    x->s = h;
    if (sqlite3_threadsafe() != 1) {
        free(x);
        fprintf(stderr, "sqlite: not built in serialized threading mode\n");
        return -1;
    }
    if (prep(x->s, "SELECT i,d,s FROM t WHERE k=?", &x->get)) {
        free(x);
        return -1;
    }
    *out = x;
    return 0;
}

static int s_reader_get(void *r, int64_t k, kv_row *out)
{
    sdb_reader *x = r;
    return get_stmt(x->s, x->get, k, out);
}

static int s_scan(void *h, int64_t lo, int64_t hi, int has_hi, int project,
                  kv_scan_acc *acc)
{
    sdb *s = h;
    sqlite3_stmt *st = project ? (has_hi ? s->proj : s->proj_all)
                               : (has_hi ? s->scan : s->scan_all);
    sqlite3_bind_int64(st, 1, lo);
    if (has_hi)
        sqlite3_bind_int64(st, 2, hi);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t k = sqlite3_column_int64(st, 0);
        int32_t i = sqlite3_column_int(st, 1);
        uint64_t bytes = 0;
        if (!project) {
            (void)sqlite3_column_double(st, 2);
            (void)sqlite3_column_text(st, 3);
            bytes = 8 + 4 + 8 + (uint64_t)sqlite3_column_bytes(st, 3);
        }
        kv_acc_row(acc, k, i, bytes);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : failed(s, "scan");
}

/* Settled = the WAL checkpointed into the database file and truncated. */
static int s_settle(void *h, double *idle_at)
{
    return exec(h, "PRAGMA wal_checkpoint(TRUNCATE)");
}

const kv_driver kv_driver_sqlite = {
    "sqlite", s_describe, s_open, s_close, s_write, s_get, s_scan, s_settle,
    s_reader_open, s_reader_get, s_reader_close, NULL,
};
