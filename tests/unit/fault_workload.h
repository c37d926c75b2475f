/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault_workload.h — a randomized single-threaded workload over a table
 * opened on the fault-injecting fs, with a model of what it acknowledged,
 * for the fault tests (test_db_powerloss.c: power cuts; test_db_ioerr.c:
 * the Nth write/sync/rename/unlink failing).
 *
 * The workload: puts of new keys and overwrites, deletes (also of keys
 * whose old versions sit in deeper levels: compactions run often), atomic
 * batches, flushes, compactions of everything or of a key range, clean
 * close-and-reopen, and gets checked against the model. Every value is
 * derived from (key, version), so a row read back is checked exactly.
 *
 * The model. state[k] is what the acknowledged writes left for key k
 * (version 0 / deleted: absent). A write that failed, or was cut, may or
 * may not be on disk: it becomes the one "pending" write (all its
 * operations, atomic) and the workload stops writing; after recovery each
 * of its keys must hold either the old or the new state, all of them the
 * same one. Everything else must be exactly as acknowledged: an
 * acknowledged write is never lost, a deleted key never comes back.
 *
 * Everything is static: included by one test program each.
 */
#ifndef MERU_TEST_FAULT_WORKLOAD_H
#define MERU_TEST_FAULT_WORKLOAD_H

#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "support/fs_fault.h"
#include "test.h"
#include "test_db_common.h"

#define FW_KEYS      500
#define FW_MAX_BATCH 6
#define FW_COLS      "id int64 not null, ver int64 not null, pad binary"

typedef struct fw_state {
    int64_t ver;  /* 0: never written */
    int present;  /* 0: absent (deleted or never written) */
} fw_state;

typedef struct fw_model {
    fw_state state[FW_KEYS];
    /* the write that failed or was cut: may or may not have happened */
    int npending;
    int pkey[FW_MAX_BATCH];
    fw_state pnew[FW_MAX_BATCH];
    int64_t next_ver;
    uint64_t acked_writes, acked_ops;
} fw_model;

static uint64_t fw_mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    return x;
}

static size_t fw_pad_len(int k, int64_t v)
{
    return 16 + fw_mix((uint64_t)k * 7919u + (uint64_t)v) % 400;
}

static void fw_pad(uint8_t *p, int k, int64_t v)
{
    size_t n = fw_pad_len(k, v);
    uint64_t x = fw_mix((uint64_t)v * 131u + (uint64_t)k) | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

static void fw_options(meru_options *o, uint64_t r)
{
    tdb_small_options(o);
    o->sync_mode = r % 2 ? MERU_SYNC_EVERY : MERU_SYNC_GROUP;
    o->l0_compaction_trigger = 2;
    o->target_file_bytes = (uint64_t)64 << 10;
    o->l1_target_bytes = (uint64_t)1 << 20;
    o->mmap_reads = 0; /* the fault fs offers no maps anyway */
}

static int fw_set_row(meru_row *row, int k, int64_t v)
{
    uint8_t pad[512];
    fw_pad(pad, k, v);
    meru_row_clear(row);
    int rc = meru_row_set_int64(row, 0, k);
    if (!rc)
        rc = meru_row_set_int64(row, 1, v);
    if (!rc)
        rc = meru_row_set_binary(row, 2, pad, fw_pad_len(k, v));
    return rc;
}

/* 1 when `row` is exactly the row of (k, v). */
static int fw_row_is(const meru_row *row, int k, int64_t v)
{
    int64_t id = -1, ver = -1;
    const void *p = NULL;
    size_t n = 0;
    uint8_t want[512];
    if (meru_row_get_int64(row, 0, &id) || meru_row_get_int64(row, 1, &ver) ||
        meru_row_get_binary(row, 2, &p, &n))
        return 0;
    fw_pad(want, k, v);
    return id == k && ver == v && n == fw_pad_len(k, v) && !memcmp(p, want, n);
}

typedef struct fw_run {
    meru_fs *fs;
    meru_db *db;
    const char *dir;
    meru_schema *schema;
    meru_options opts;
    meru_row *row, *out;
    meru_write_batch *batch;
    uint64_t rng;
    int failed; /* a write failed: the workload stopped writing */
    int first_error;
    char first_msg[256];
} fw_run;

static uint64_t fw_rand(fw_run *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return r->rng;
}

/* Records a failed write as pending and remembers the first error. */
static void fw_failed(fw_run *r, fw_model *m, int rc)
{
    if (!r->failed) {
        r->failed = 1;
        r->first_error = rc;
        snprintf(r->first_msg, sizeof r->first_msg, "%s", meru_errmsg());
    }
    (void)m;
}

/* One write of n ops (n == 1 without a batch); keys distinct. */
static int fw_write(fw_run *r, fw_model *m, const int *keys, const int *dels,
                    int n, int as_batch)
{
    int rc = MERU_OK;
    m->npending = n;
    for (int i = 0; i < n; i++) {
        m->pkey[i] = keys[i];
        m->pnew[i].ver = ++m->next_ver;
        m->pnew[i].present = !dels[i];
    }
    if (!as_batch) {
        rc = fw_set_row(r->row, keys[0], m->pnew[0].ver);
        if (!rc)
            rc = dels[0] ? meru_delete(r->db, r->row, NULL)
                         : meru_put(r->db, r->row, NULL);
    } else {
        meru_write_batch_clear(r->batch);
        for (int i = 0; rc == MERU_OK && i < n; i++) {
            rc = fw_set_row(r->row, keys[i], m->pnew[i].ver);
            if (!rc)
                rc = dels[i] ? meru_write_batch_delete(r->batch, r->row)
                             : meru_write_batch_put(r->batch, r->row);
        }
        if (!rc)
            rc = meru_write(r->db, r->batch, NULL);
    }
    if (rc) {
        fw_failed(r, m, rc);
        return rc;
    }
    for (int i = 0; i < n; i++) {
        /* a delete keeps its version: absent either way */
        m->state[keys[i]] = m->pnew[i];
        m->acked_ops++;
    }
    m->acked_writes++;
    m->npending = 0;
    return MERU_OK;
}

static int fw_open(fw_run *r, const meru_schema *create)
{
    return meru_db_open_fs(r->dir, &r->opts, create, r->fs, &r->db);
}

/* Runs up to `nops` steps; stops at the first failed write (which the
 * model keeps as pending) and then checks that writes stay refused.
 * Returns 0, or -1 when the engine broke a rule (message printed). */
static int fw_workload(fw_run *r, fw_model *m, int nops)
{
    for (int step = 0; step < nops && !r->failed; step++) {
        uint64_t x = fw_rand(r) % 100;
        int rc = MERU_OK;
        if (x < 50 || x >= 80) {
            int keys[FW_MAX_BATCH], dels[FW_MAX_BATCH];
            int n = x < 50 ? 1 : 2 + (int)(fw_rand(r) % (FW_MAX_BATCH - 1));
            int as_batch = x >= 80;
            for (int i = 0; i < n; i++) {
                int k, dup;
                do {
                    k = (int)(fw_rand(r) % FW_KEYS);
                    dup = 0;
                    for (int j = 0; j < i; j++)
                        dup |= keys[j] == k;
                } while (dup);
                keys[i] = k;
                /* deletes mostly of present keys (their versions may sit
                 * deep by now) */
                dels[i] = m->state[k].present ? fw_rand(r) % 3 == 0
                                              : fw_rand(r) % 10 == 0;
            }
            if (x >= 80 && x < 85)
                continue; /* a short pause in the writes */
            (void)fw_write(r, m, keys, dels, n, as_batch);
            continue;
        }
        if (x < 60) {
            int k = (int)(fw_rand(r) % FW_KEYS);
            (void)fw_set_row(r->row, k, 1); /* only its key is used */
            rc = meru_get(r->db, NULL, r->row, r->out);
            if (rc != MERU_OK && rc != MERU_NOT_FOUND) {
                /* a read may fail once the fs is dead; not a rule */
                fw_failed(r, m, rc);
                m->npending = 0;
                break;
            }
            if ((rc == MERU_OK) != m->state[k].present ||
                (rc == MERU_OK && !fw_row_is(r->out, k, m->state[k].ver))) {
                fprintf(stderr, "  get of key %d: %s, the model says %s %lld\n",
                        k, rc == MERU_OK ? "a row" : "nothing",
                        m->state[k].present ? "version" : "absent",
                        (long long)m->state[k].ver);
                return -1;
            }
            continue;
        }
        if (x < 66)
            rc = meru_flush(r->db);
        else if (x < 70)
            rc = meru_compact(r->db);
        else if (x < 74) {
            meru_row *lo = NULL, *hi = NULL;
            int a = (int)(fw_rand(r) % FW_KEYS), b = (int)(fw_rand(r) % FW_KEYS);
            if (meru_row_new(&lo, r->schema) || meru_row_new(&hi, r->schema)) {
                meru_row_free(lo);
                return -1;
            }
            meru_row_set_int64(lo, 0, a < b ? a : b);
            meru_row_set_int64(hi, 0, a < b ? b : a);
            rc = meru_compact_range(r->db, lo, hi);
            meru_row_free(lo);
            meru_row_free(hi);
        } else {
            /* a clean close and reopen */
            rc = meru_close(r->db);
            meru_db_free(r->db);
            r->db = NULL;
            if (rc == MERU_OK)
                rc = fw_open(r, NULL);
            if (rc) {
                m->npending = 0;
                fw_failed(r, m, rc);
                return 0;
            }
        }
        if (rc) {
            m->npending = 0; /* maintenance writes no rows of its own */
            fw_failed(r, m, rc);
        }
    }
    if (r->failed && r->db) {
        /* Sticky: after an I/O failure the handle refuses writes (SPEC
         * §12: a failed write or sync is never retried blindly). */
        meru_row *probe = NULL;
        int rc = meru_row_new(&probe, r->schema);
        if (!rc)
            rc = fw_set_row(probe, 0, 1);
        if (!rc && meru_put(r->db, probe, NULL) == MERU_OK) {
            fprintf(stderr, "  a write was accepted after a failure: %s\n",
                    r->first_msg);
            meru_row_free(probe);
            return -1;
        }
        meru_row_free(probe);
    }
    return 0;
}

/* After recovery: every key against the model (the pending write all or
 * nothing), the row count of a full scan, and meru_verify. */
static int fw_check(meru_db *db, const meru_schema *schema, fw_model *m)
{
    meru_row *key = NULL, *out = NULL;
    int bad = 0, applied = 0, missing = 0;
    if (meru_row_new(&key, schema) || meru_row_new(&out, schema))
        return -1;
    long present = 0;
    for (int k = 0; k < FW_KEYS && !bad; k++) {
        fw_state want = m->state[k], alt = want;
        int pend = -1;
        for (int i = 0; i < m->npending; i++)
            if (m->pkey[i] == k)
                pend = i;
        if (pend >= 0)
            alt = m->pnew[pend];
        meru_row_clear(key);
        meru_row_set_int64(key, 0, k);
        int rc = meru_get(db, NULL, key, out);
        if (rc != MERU_OK && rc != MERU_NOT_FOUND) {
            fprintf(stderr, "  get of key %d: %s\n", k, meru_errmsg());
            bad = 1;
            break;
        }
        int is_want = (rc == MERU_OK) == want.present &&
                      (rc != MERU_OK || fw_row_is(out, k, want.ver));
        int is_alt = (rc == MERU_OK) == alt.present &&
                     (rc != MERU_OK || fw_row_is(out, k, alt.ver));
        if (!is_want && !is_alt) {
            int64_t got = -1;
            if (rc == MERU_OK)
                meru_row_get_int64(out, 1, &got);
            fprintf(stderr,
                    "  key %d: %s (version %lld); acknowledged: %s %lld%s\n",
                    k, rc == MERU_OK ? "a row" : "nothing", (long long)got,
                    want.present ? "version" : "absent", (long long)want.ver,
                    pend >= 0 ? " (or the pending write)" : "");
            bad = 1;
            break;
        }
        if (pend >= 0 && is_want != is_alt) {
            applied += is_alt;
            missing += is_want;
        }
        /* the outcome becomes the model */
        if (pend >= 0 && is_alt && !is_want)
            m->state[k] = alt;
        present += rc == MERU_OK;
    }
    if (!bad && applied && missing) {
        fprintf(stderr, "  the pending write is half applied (%d of %d)\n",
                applied, applied + missing);
        bad = 1;
    }
    m->npending = 0;
    if (!bad) {
        meru_iter *it = NULL;
        const meru_row *r;
        long n = 0;
        int rc = meru_scan(db, NULL, &it);
        while (rc == MERU_OK && (rc = meru_iter_next(it, &r)) == MERU_OK)
            n++;
        meru_iter_free(it);
        if (rc != MERU_NOT_FOUND || n != present) {
            fprintf(stderr, "  scan: %ld rows (%s), gets found %ld\n", n,
                    rc == MERU_NOT_FOUND ? "end" : meru_errmsg(), present);
            bad = 1;
        }
    }
    if (!bad) {
        meru_verify_report vr;
        if (meru_verify(db, 0, &vr)) {
            fprintf(stderr, "  verify: %s\n", meru_errmsg());
            bad = 1;
        }
    }
    meru_row_free(key);
    meru_row_free(out);
    return bad ? -1 : 0;
}

#endif
