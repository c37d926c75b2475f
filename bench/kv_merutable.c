/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kv_merutable.c — bench_kv driver for merutable through the public API
 * only (include/merutable.h): a table (k int64 key, i int32, d double,
 * s string), writes through meru_write_batch_* / meru_write (meru_put for a
 * single row), point reads with meru_get, scans with meru_scan (the
 * projected scan asks for column i only), settle with meru_flush and
 * meru_stats_get (compactions_pending / compactions_running).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "merutable.h"

enum { C_K, C_I, C_D, C_S };

typedef struct mt {
    meru_db *db;
    meru_write_batch *wb;
    meru_row *row, *key, *out, *lo, *hi;
} mt;

static int failed(const char *what, int rc)
{
    fprintf(stderr, "merutable: %s: %s (%s)\n", what, meru_strerror(rc),
            meru_errmsg());
    return -1;
}

static void options(const kv_conf *c, meru_options *o)
{
    meru_options_init(o);
    o->sync_mode = c->sync ? MERU_SYNC_EVERY : MERU_SYNC_NONE;
    o->memtable_bytes = c->write_buffer;
    o->cache_bytes = c->cache_bytes;
    o->properties = c->meru_props;
    if (c->meru_max_imm > 0)
        o->max_immutable_memtables = c->meru_max_imm;
    if (c->meru_mmap >= 0)
        o->mmap_reads = c->meru_mmap;
    if (c->iceberg_view >= 0)
        o->iceberg_view = c->iceberg_view ? MERU_ICEBERG_VIEW_CONTINUOUS
                                          : MERU_ICEBERG_VIEW_OFF;
}

/* The page shape a --meru-property sets, shown in the settings line as
 * the table gets it (a property given at creation overrides the option;
 * docs: meru_options' table-shaping keys). Other keys are listed as
 * they are. */
static void shape_from_props(const kv_conf *c, meru_options *o)
{
    static const char *const keys[] = {
        "write.parquet.page-size-bytes", "write.parquet.page-row-limit",
        "merutable.string-page-size-bytes", "merutable.number-page-size-bytes"};
    uint32_t *fields[] = {&o->page_bytes, &o->page_rows, &o->string_page_bytes,
                          &o->number_page_bytes};
    for (const char *const *p = c->meru_props; p && p[0] && p[1]; p += 2)
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            char *end;
            unsigned long v = strtoul(p[1], &end, 10);
            if (!strcmp(p[0], keys[k]) && *p[1] && !*end && v <= UINT32_MAX)
                *fields[k] = (uint32_t)v;
        }
}

static void t_describe(const kv_conf *c, char *buf, size_t cap)
{
    meru_options o;
    options(c, &o);
    shape_from_props(c, &o);
    static const char *const codec[] = {"uncompressed", "snappy", "gzip",
                                        "zstd", "lz4_raw"};
    char props[600] = "";
    size_t used = 0;
    for (const char *const *p = c->meru_props; p && p[0] && p[1]; p += 2)
        used += (size_t)snprintf(props + used,
                                 used < sizeof props ? sizeof props - used : 0,
                                 ", property %s=%s", p[0], p[1]);
    char rowc[96];
    if (o.row_cache_bytes == MERU_ROW_CACHE_AUTO)
        snprintf(rowc, sizeof rowc, "%zu KiB of it for the row cache",
                 (o.cache_bytes / MERU_ROW_CACHE_AUTO_DIVISOR) >> 10);
    else if (o.row_cache_bytes)
        snprintf(rowc, sizeof rowc, "row cache %zu KiB on top",
                 o.row_cache_bytes >> 10);
    else
        snprintf(rowc, sizeof rowc, "row cache off");
    snprintf(buf, cap,
             "merutable %s: decoded-page cache %zu MiB (%s), files %s, "
             "memtable %zu MiB (%d immutable at most), background_threads "
             "%d, L0 %s, "
             "L1+ ZSTD %d (pages of %u KiB or %u rows, %u KiB for string "
             "value columns, %u KiB for number value columns), WAL on, "
             "sync_mode "
             "%s, Iceberg view %s%s",
             meru_version(), o.cache_bytes >> 20, rowc,
             o.mmap_reads ? "memory-mapped (mmap_reads)" : "read with pread",
             o.memtable_bytes >> 20, o.max_immutable_memtables,
             o.background_threads,
             (unsigned)o.l0_compression < 5 ? codec[o.l0_compression] : "?",
             o.zstd_level, (unsigned)(o.page_bytes >> 10),
             (unsigned)o.page_rows, (unsigned)(o.string_page_bytes >> 10),
             (unsigned)(o.number_page_bytes >> 10),
             c->sync ? "EVERY (fdatasync per write batch)" : "NONE",
             o.iceberg_view == MERU_ICEBERG_VIEW_CONTINUOUS
                 ? "continuous (deletion vectors at every flush and "
                   "compaction)"
                 : "off",
             props);
}

static int t_close(void *h)
{
    mt *t = h;
    if (!t)
        return 0;
    int rc = 0;
    if (t->db) {
        int crc = meru_close(t->db);
        if (crc)
            rc = failed("close", crc);
        meru_db_free(t->db);
    }
    meru_write_batch_free(t->wb);
    meru_row_free(t->row);
    meru_row_free(t->key);
    meru_row_free(t->out);
    meru_row_free(t->lo);
    meru_row_free(t->hi);
    free(t);
    return rc;
}

static int t_open(void **out, const char *dir, const kv_conf *c)
{
    mt *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    meru_options o;
    options(c, &o);
    meru_schema *s = NULL;
    int rc = meru_schema_parse(&s, "bench",
                               "k int64 not null, i int32 not null, "
                               "d double not null, s string not null",
                               "k");
    if (rc) {
        free(t);
        return failed("schema", rc);
    }
    rc = meru_open(dir, &o, s, &t->db);
    meru_schema_free(s);
    if (rc) {
        free(t);
        return failed("open", rc);
    }
    const meru_schema *ts = meru_db_schema(t->db);
    if (!rc)
        rc = meru_write_batch_new(&t->wb, ts);
    if (!rc)
        rc = meru_row_new(&t->row, ts);
    if (!rc)
        rc = meru_row_new(&t->key, ts);
    if (!rc)
        rc = meru_row_new(&t->out, ts);
    if (!rc)
        rc = meru_row_new(&t->lo, ts);
    if (!rc)
        rc = meru_row_new(&t->hi, ts);
    if (rc) {
        t_close(t);
        return failed("open", rc);
    }
    *out = t;
    return 0;
}

static int fill(mt *t, const kv_row *r)
{
    int rc = meru_row_set_int64(t->row, C_K, r->k);
    if (!rc)
        rc = meru_row_set_int32(t->row, C_I, r->i);
    if (!rc)
        rc = meru_row_set_double(t->row, C_D, r->d);
    if (!rc)
        rc = meru_row_set_string(t->row, C_S, r->s, r->slen);
    return rc;
}

static int t_write(void *h, const kv_row *rows, size_t n)
{
    mt *t = h;
    int rc;
    if (n == 1) {
        rc = fill(t, &rows[0]);
        if (!rc)
            rc = meru_put(t->db, t->row, NULL);
        return rc ? failed("put", rc) : 0;
    }
    meru_write_batch_clear(t->wb);
    for (size_t j = 0; j < n; j++) {
        rc = fill(t, &rows[j]);
        if (!rc)
            rc = meru_write_batch_put(t->wb, t->row);
        if (rc)
            return failed("batch_put", rc);
    }
    rc = meru_write(t->db, t->wb, NULL);
    return rc ? failed("write", rc) : 0;
}

/* One get into a caller's key and out rows (the handle's, or a reader's). */
static int get_rows(meru_db *db, meru_row *key, meru_row *res, int64_t k,
                    kv_row *out)
{
    int rc = meru_row_set_int64(key, C_K, k);
    if (!rc)
        rc = meru_get(db, NULL, key, res);
    if (rc == MERU_NOT_FOUND)
        return 0;
    if (rc)
        return failed("get", rc);
    const char *s;
    size_t len;
    out->k = k;
    rc = meru_row_get_int32(res, C_I, &out->i);
    if (!rc)
        rc = meru_row_get_double(res, C_D, &out->d);
    if (!rc)
        rc = meru_row_get_string(res, C_S, &s, &len);
    if (rc || len > KV_STR_MAX)
        return failed("get: row", rc ? rc : MERU_ERANGE);
    out->slen = (uint32_t)len;
    memcpy(out->s, s, len);
    return 1;
}

static int t_get(void *h, int64_t k, kv_row *out)
{
    mt *t = h;
    return get_rows(t->db, t->key, t->out, k, out);
}

/* A client thread's reader: meru_get is thread-safe; rows are not shared. */
typedef struct mt_reader {
    meru_db *db;
    meru_row *key, *out;
} mt_reader;

static void t_reader_close(void *r)
{
    mt_reader *m = r;
    if (!m)
        return;
    meru_row_free(m->key);
    meru_row_free(m->out);
    free(m);
}

static int t_reader_open(void *h, void **out)
{
    mt *t = h;
    mt_reader *m = calloc(1, sizeof *m);
    if (!m)
        return -1;
    m->db = t->db;
    const meru_schema *ts = meru_db_schema(t->db);
    int rc = meru_row_new(&m->key, ts);
    if (!rc)
        rc = meru_row_new(&m->out, ts);
    if (rc) {
        t_reader_close(m);
        return failed("reader", rc);
    }
    *out = m;
    return 0;
}

static int t_reader_get(void *r, int64_t k, kv_row *out)
{
    mt_reader *m = r;
    return get_rows(m->db, m->key, m->out, k, out);
}

static int t_scan(void *h, int64_t lo, int64_t hi, int has_hi, int project,
                  kv_scan_acc *acc)
{
    mt *t = h;
    static const char *const proj[] = {"i"};
    meru_scan_options so;
    meru_scan_options_init(&so);
    int rc = meru_row_set_int64(t->lo, C_K, lo);
    so.lower = t->lo;
    if (!rc && has_hi) {
        rc = meru_row_set_int64(t->hi, C_K, hi);
        so.upper = t->hi;
    }
    if (project) {
        so.columns = proj;
        so.ncolumns = 1;
    }
    meru_iter *it = NULL;
    if (!rc)
        rc = meru_scan(t->db, &so, &it);
    if (rc)
        return failed("scan", rc);
    const meru_row *r;
    while ((rc = meru_iter_next(it, &r)) == MERU_OK) {
        int64_t k;
        int32_t i;
        rc = meru_row_get_int64(r, C_K, &k);
        if (!rc)
            rc = meru_row_get_int32(r, C_I, &i);
        if (rc)
            break;
        uint64_t bytes = 0;
        if (!project) {
            double d;
            const char *s;
            size_t len;
            rc = meru_row_get_double(r, C_D, &d);
            if (!rc)
                rc = meru_row_get_string(r, C_S, &s, &len);
            if (rc)
                break;
            bytes = 8 + 4 + 8 + len;
        }
        kv_acc_row(acc, k, i, bytes);
    }
    meru_iter_free(it);
    return rc == MERU_NOT_FOUND ? 0 : failed("scan: next", rc);
}

/*
 * meru_flush writes every memtable to L0; compaction then runs in the
 * background. Settled = no memtable waiting for flush, no compaction
 * running and none due (meru_stats compactions_pending: no level over its
 * trigger or target) and no compacted file waiting to be deleted, polled
 * every 2 ms.
 */
static int t_settle(void *h, double *idle_at)
{
    mt *t = h;
    int rc = meru_flush(t->db);
    if (rc)
        return failed("flush", rc);
    for (;;) {
        meru_stats st;
        rc = meru_stats_get(t->db, &st);
        if (rc)
            return failed("stats", rc);
        if (st.background_errors)
            return failed("background error", MERU_EFAILED);
        if (!st.immutable_memtables && !st.compactions_running &&
            !st.compactions_pending && !st.gc_pending_files)
            break;
        kv_sleep_ms(2);
    }
    *idle_at = kv_now();
    return 0;
}

/* Memtables: arena bytes of the mutable and immutable ones; cache: the
 * page cache's bytes (the row cache's share is not counted). */
static int t_mem(void *h, kv_mem *out)
{
    mt *t = h;
    meru_stats st;
    if (meru_stats_get(t->db, &st) != MERU_OK)
        return -1;
    out->memtables = (double)(st.memtable_bytes + st.immutable_bytes);
    out->cache = (double)st.cache_bytes;
    return 0;
}

const kv_driver kv_driver_merutable = {
    "merutable",   t_describe,    t_open,        t_close,
    t_write,       t_get,         t_scan,        t_settle,
    t_reader_open, t_reader_get, t_reader_close, t_mem,
};
