/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meru_soak.c — the long soak (scripts/soak.sh; not part of ctest): writers,
 * readers and maintenance (flush, compaction, snapshot scans) on one table
 * for a random while, checked continuously against a model, then kill -9
 * at a random moment; the parent reopens the table, checks every key
 * against what was acknowledged, checks the table's integrity, and starts
 * the next cycle on the same table.
 *
 * The model. Key k belongs to one writer thread, which applies operations
 * 1, 2, 3, ... to it in order; operation v is a delete when is_delete(k, v)
 * (about one in six), else a put of a row carrying v. A write is one put,
 * one delete or an atomic batch of up to 8 operations on distinct keys of
 * the thread. Before a write the child appends ATTEMPT records to a side
 * log (O_APPEND: a SIGKILL loses nothing write(2) returned), after it
 * returns OK an ACK record. So after a kill, for every key:
 *     acked(k) <= recovered(k) <= attempted(k)
 * (v = 0: never written, which reads as absent like a delete), and the one
 * write a thread may have had in flight is all or nothing.
 * While running, readers check the same bounds live: a get of k that began
 * after acked(k) = lo and ended before attempted(k) = hi must return a
 * version in [lo, hi] (absent only if a delete, or v = 0, is in there).
 * Snapshot scans check that rows come in key order and that each row's
 * version is within its key's bounds at the time.
 *
 * Between cycles the parent writes the recovered versions to a state file
 * that the next child starts from. Any violation stops the run with a
 * message and exit status 1. The last line printed is a summary.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "merutable.h"

#define MAX_WRITERS   8
#define KEYS_PER_W    2000
#define MAX_BATCH     8
#define COLS "id int64 not null, ver int64 not null, w int32, pad binary"

static int g_writers = 4, g_readers = 2;
static uint64_t g_seed = 1;
static const char *g_dir, *g_log, *g_state;

/* -------------------------------------------------------------- model */

static int nkeys(void)
{
    return g_writers * KEYS_PER_W;
}

static int64_t key_id(int k)
{
    return (int64_t)(k / KEYS_PER_W) * 1000000 + k % KEYS_PER_W;
}

static int key_index(int64_t id)
{
    int w = (int)(id / 1000000), j = (int)(id % 1000000);
    if (id < 0 || w >= g_writers || j >= KEYS_PER_W)
        return -1;
    return w * KEYS_PER_W + j;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* Version 0 (never written) reads as absent, like a delete. */
static int is_delete(int k, int64_t v)
{
    return v == 0 || mix((uint64_t)k * 1000003u + (uint64_t)v) % 6 == 0;
}

static size_t pad_len(int k, int64_t v)
{
    return 20 + mix((uint64_t)k ^ ((uint64_t)v << 20)) % 600;
}

static void pad_fill(uint8_t *p, int k, int64_t v)
{
    size_t n = pad_len(k, v);
    uint64_t x = mix((uint64_t)k * 31 + (uint64_t)v);
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(x >> 56);
    }
}

/* Whether the row read for key k is exactly the row of version v. */
static int row_is(const meru_row *r, int k, int64_t v)
{
    int64_t id = -1, ver = -1;
    int32_t w = -1;
    const void *pad = NULL;
    size_t n = 0;
    uint8_t want[700];
    if (meru_row_get_int64(r, 0, &id) || meru_row_get_int64(r, 1, &ver) ||
        meru_row_get_int32(r, 2, &w) || meru_row_get_binary(r, 3, &pad, &n))
        return 0;
    pad_fill(want, k, v);
    return id == key_id(k) && ver == v && w == k / KEYS_PER_W &&
           n == pad_len(k, v) && !memcmp(pad, want, n);
}

/* A version in [lo, hi] whose outcome (a row, or absent) is `found`. */
static int consistent(int k, int64_t lo, int64_t hi, int found, int64_t got)
{
    if (found)
        return got >= lo && got <= hi && !is_delete(k, got);
    for (int64_t v = lo; v <= hi; v++)
        if (is_delete(k, v))
            return 1;
    return 0;
}

/* ------------------------------------------------------------ side log */

enum { REC_ATTEMPT = 'A', REC_ACK = 'K', REC_BAD = 'X' };

typedef struct logrec {
    uint8_t kind, writer;
    uint16_t nops;   /* ops of the write this record belongs to */
    int32_t key;     /* key index */
    int64_t ver;
    uint64_t write;  /* per-writer write number */
} logrec;

static int g_logfd = -1;

static void log_append(const logrec *r, size_t n)
{
    if (write(g_logfd, r, n * sizeof *r) != (ssize_t)(n * sizeof *r))
        _exit(20);
}

static void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void child_fail(const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "soak child: %s\n", msg);
    logrec r = {REC_BAD, 0, 0, 0, 0, 0};
    log_append(&r, 1);
    _exit(3);
}

/* ------------------------------------------------------------- child */

typedef struct child {
    meru_db *db;
    const meru_schema *schema;
    atomic_int_fast64_t *acked, *attempted;
    atomic_int stop;
} child;

static child g_c;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void set_row(meru_row *r, int k, int64_t v)
{
    uint8_t pad[700];
    pad_fill(pad, k, v);
    meru_row_clear(r);
    if (meru_row_set_int64(r, 0, key_id(k)) || meru_row_set_int64(r, 1, v) ||
        meru_row_set_int32(r, 2, k / KEYS_PER_W) ||
        meru_row_set_binary(r, 3, pad, pad_len(k, v)))
        child_fail("building a row: %s", meru_errmsg());
}

static void *writer_main(void *arg)
{
    int w = (int)(intptr_t)arg;
    uint64_t s = mix(g_seed * 77 + (uint64_t)w) | 1;
    meru_row *r = NULL;
    meru_write_batch *b = NULL;
    if (meru_row_new(&r, g_c.schema) || meru_write_batch_new(&b, g_c.schema))
        child_fail("allocation");
    for (uint64_t n = 1; !atomic_load(&g_c.stop); n++) {
        int nops = rnd(&s) % 4 == 0 ? 1 + (int)(rnd(&s) % MAX_BATCH) : 1;
        logrec recs[MAX_BATCH];
        int keys[MAX_BATCH];
        int64_t vers[MAX_BATCH];
        int got = 0;
        while (got < nops) {
            int k = w * KEYS_PER_W + (int)(rnd(&s) % KEYS_PER_W);
            int dup = 0;
            for (int i = 0; i < got; i++)
                dup |= keys[i] == k;
            if (dup)
                continue;
            keys[got] = k;
            vers[got] = atomic_load(&g_c.attempted[k]) + 1;
            recs[got] = (logrec){REC_ATTEMPT, (uint8_t)w, (uint16_t)nops, k,
                                 vers[got], n};
            got++;
        }
        log_append(recs, (size_t)nops);
        for (int i = 0; i < nops; i++)
            atomic_store(&g_c.attempted[keys[i]], vers[i]);
        int rc;
        if (nops == 1) {
            set_row(r, keys[0], vers[0]);
            rc = is_delete(keys[0], vers[0]) ? meru_delete(g_c.db, r, NULL)
                                             : meru_put(g_c.db, r, NULL);
        } else {
            meru_write_batch_clear(b);
            rc = MERU_OK;
            for (int i = 0; rc == MERU_OK && i < nops; i++) {
                set_row(r, keys[i], vers[i]);
                rc = is_delete(keys[i], vers[i])
                         ? meru_write_batch_delete(b, r)
                         : meru_write_batch_put(b, r);
            }
            if (rc == MERU_OK)
                rc = meru_write(g_c.db, b, NULL);
        }
        if (rc)
            child_fail("writer %d: write failed: %s: %s", w, meru_strerror(rc),
                       meru_errmsg());
        for (int i = 0; i < nops; i++) {
            recs[i].kind = REC_ACK;
            atomic_store(&g_c.acked[keys[i]], vers[i]);
        }
        log_append(recs, (size_t)nops);
    }
    meru_row_free(r);
    meru_write_batch_free(b);
    return NULL;
}

static int64_t row_version(const meru_row *r)
{
    int64_t v = -1;
    (void)meru_row_get_int64(r, 1, &v);
    return v;
}

static void *reader_main(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t s = mix(g_seed * 131 + (uint64_t)id) | 1;
    meru_row *key = NULL, *out = NULL;
    if (meru_row_new(&key, g_c.schema) || meru_row_new(&out, g_c.schema))
        child_fail("allocation");
    while (!atomic_load(&g_c.stop)) {
        if (rnd(&s) % 50 == 0) {
            /* a scan of a key range through a snapshot */
            int k0 = (int)(rnd(&s) % (uint64_t)nkeys());
            meru_snapshot *snap = NULL;
            meru_iter *it = NULL;
            meru_scan_options so = MERU_SCAN_OPTIONS_INIT;
            int64_t prev = INT64_MIN;
            const meru_row *row;
            int rc;
            meru_row_clear(key);
            meru_row_set_int64(key, 0, key_id(k0));
            /* lower bounds of every key before the snapshot */
            int64_t *lo = malloc((size_t)nkeys() * sizeof *lo);
            if (!lo)
                child_fail("allocation");
            for (int k = 0; k < nkeys(); k++)
                lo[k] = atomic_load(&g_c.acked[k]);
            if ((rc = meru_snapshot_new(g_c.db, &snap)))
                child_fail("snapshot: %s", meru_errmsg());
            so.snapshot = snap;
            so.lower = key;
            so.limit = 500;
            if ((rc = meru_scan(g_c.db, &so, &it)))
                child_fail("scan: %s", meru_errmsg());
            while ((rc = meru_iter_next(it, &row)) == MERU_OK) {
                int64_t rid = -1;
                meru_row_get_int64(row, 0, &rid);
                int k = key_index(rid);
                if (k < 0 || rid <= prev)
                    child_fail("scan: key %lld out of order or unknown",
                               (long long)rid);
                prev = rid;
                int64_t v = row_version(row);
                int64_t hi = atomic_load(&g_c.attempted[k]);
                if (!row_is(row, k, v) || !consistent(k, lo[k], hi, 1, v))
                    child_fail("scan: key %lld version %lld outside "
                               "[%lld, %lld] or damaged",
                               (long long)rid, (long long)v, (long long)lo[k],
                               (long long)hi);
            }
            if (rc != MERU_NOT_FOUND)
                child_fail("scan: %s: %s", meru_strerror(rc), meru_errmsg());
            meru_iter_free(it);
            meru_snapshot_free(snap);
            free(lo);
            continue;
        }
        int k = (int)(rnd(&s) % (uint64_t)nkeys());
        int64_t lo = atomic_load(&g_c.acked[k]);
        meru_row_clear(key);
        meru_row_set_int64(key, 0, key_id(k));
        int rc = meru_get(g_c.db, NULL, key, out);
        int64_t hi = atomic_load(&g_c.attempted[k]);
        if (rc != MERU_OK && rc != MERU_NOT_FOUND)
            child_fail("get: %s: %s", meru_strerror(rc), meru_errmsg());
        int64_t v = rc == MERU_OK ? row_version(out) : 0;
        if ((rc == MERU_OK && !row_is(out, k, v)) ||
            !consistent(k, lo, hi, rc == MERU_OK, v))
            child_fail("get: key %lld gave %s version %lld, outside "
                       "[%lld, %lld]",
                       (long long)key_id(k),
                       rc == MERU_OK ? "row" : "nothing", (long long)v,
                       (long long)lo, (long long)hi);
    }
    meru_row_free(key);
    meru_row_free(out);
    return NULL;
}

static void *maint_main(void *arg)
{
    uint64_t s = mix(g_seed * 997) | 1;
    (void)arg;
    while (!atomic_load(&g_c.stop)) {
        usleep((useconds_t)(20000 + rnd(&s) % 200000));
        int what = (int)(rnd(&s) % 10);
        int rc = MERU_OK;
        if (what == 0)
            rc = meru_compact(g_c.db);
        else if (what < 4)
            rc = meru_flush(g_c.db);
        if (rc)
            child_fail("maintenance: %s: %s", meru_strerror(rc),
                       meru_errmsg());
    }
    return NULL;
}

static int load_state(int64_t *ver)
{
    FILE *f = fopen(g_state, "rb");
    if (!f) {
        memset(ver, 0, (size_t)nkeys() * sizeof *ver);
        return 0;
    }
    size_t n = fread(ver, sizeof *ver, (size_t)nkeys(), f);
    fclose(f);
    return n == (size_t)nkeys() ? 0 : -1;
}

static int save_state(const int64_t *ver)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", g_state);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(ver, sizeof *ver, (size_t)nkeys(), f);
    if (fclose(f) || n != (size_t)nkeys())
        return -1;
    return rename(tmp, g_state);
}

static void small_options(meru_options *o, int cycle)
{
    meru_options_init(o);
    o->memtable_bytes = (size_t)256 << 10;
    o->l0_compaction_trigger = 3;
    o->l1_target_bytes = (uint64_t)2 << 20;
    o->target_file_bytes = (uint64_t)512 << 10;
    o->cache_bytes = (size_t)4 << 20;
    o->sync_mode = (meru_sync_mode)(cycle % 3);
    o->mmap_reads = cycle % 2;
}

static void child_main(int cycle)
{
    static int64_t base[MAX_WRITERS * KEYS_PER_W];
    meru_schema *schema = NULL;
    meru_options o;
    pthread_t th[MAX_WRITERS * 2 + 1];
    int nth = 0;
    g_logfd = open(g_log, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
    if (g_logfd < 0 || load_state(base))
        _exit(21);
    if (meru_schema_parse(&schema, "soak", COLS, "id"))
        _exit(22);
    small_options(&o, cycle);
    if (meru_open(g_dir, &o, schema, &g_c.db)) {
        fprintf(stderr, "soak child: open: %s\n", meru_errmsg());
        _exit(23);
    }
    g_c.schema = meru_db_schema(g_c.db);
    g_c.acked = calloc((size_t)nkeys(), sizeof *g_c.acked);
    g_c.attempted = calloc((size_t)nkeys(), sizeof *g_c.attempted);
    if (!g_c.acked || !g_c.attempted)
        _exit(24);
    for (int k = 0; k < nkeys(); k++) {
        atomic_init(&g_c.acked[k], base[k]);
        atomic_init(&g_c.attempted[k], base[k]);
    }
    for (int i = 0; i < g_writers; i++)
        pthread_create(&th[nth++], NULL, writer_main, (void *)(intptr_t)i);
    for (int i = 0; i < g_readers; i++)
        pthread_create(&th[nth++], NULL, reader_main, (void *)(intptr_t)i);
    pthread_create(&th[nth++], NULL, maint_main, NULL);
    for (;;)
        pause(); /* until the parent's SIGKILL */
}

/* ------------------------------------------------------------ parent */

typedef struct totals {
    uint64_t cycles, acked_writes, acked_ops, attempted_ops, inflight_ops;
    uint64_t keys_checked, recovered_in_flight, verify_runs;
    double open_s_max;
} totals;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "soak: FAILED: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Reopens the table after a kill and checks every key against the log;
 * *ver gets the recovered versions. */
static int verify_cycle(int cycle, int64_t *ver, totals *t)
{
    static int64_t acked[MAX_WRITERS * KEYS_PER_W],
        attempted[MAX_WRITERS * KEYS_PER_W];
    static int64_t found[MAX_WRITERS * KEYS_PER_W]; /* version read, or -1 */
    /* per writer: its last attempted write, and whether it was acked */
    uint64_t last_write[MAX_WRITERS] = {0};
    int last_acked[MAX_WRITERS] = {0};
    memcpy(acked, ver, (size_t)nkeys() * sizeof *ver);
    memcpy(attempted, ver, (size_t)nkeys() * sizeof *ver);
    FILE *f = fopen(g_log, "rb");
    if (!f)
        return fail("cycle %d: no side log", cycle);
    logrec r;
    while (fread(&r, sizeof r, 1, f) == 1) {
        if (r.kind == REC_BAD) {
            fclose(f);
            return fail("cycle %d: the child found a violation (above)",
                        cycle);
        }
        if (r.key < 0 || r.key >= nkeys() || r.writer >= g_writers) {
            fclose(f);
            return fail("cycle %d: bad log record", cycle);
        }
        if (r.kind == REC_ATTEMPT) {
            attempted[r.key] = r.ver;
            t->attempted_ops++;
            if (r.write != last_write[r.writer]) {
                last_write[r.writer] = r.write;
                last_acked[r.writer] = 0;
            }
        } else if (r.kind == REC_ACK) {
            acked[r.key] = r.ver;
            t->acked_ops++;
            if (!last_acked[r.writer])
                t->acked_writes++;
            last_acked[r.writer] = 1;
        }
    }
    fclose(f);

    meru_schema *schema = NULL;
    meru_db *db = NULL;
    meru_options o;
    small_options(&o, cycle + 1);
    if (meru_schema_parse(&schema, "soak", COLS, "id"))
        return fail("schema");
    double t0 = now_s();
    int rc = meru_open(g_dir, &o, schema, &db);
    double dt = now_s() - t0;
    if (dt > t->open_s_max)
        t->open_s_max = dt;
    if (rc) {
        meru_schema_free(schema);
        return fail("cycle %d: reopen after kill -9: %s", cycle,
                    meru_errmsg());
    }
    meru_row *key = NULL, *out = NULL;
    int bad = 0;
    meru_row_new(&key, schema);
    meru_row_new(&out, schema);
    for (int k = 0; k < nkeys() && !bad; k++) {
        meru_row_clear(key);
        meru_row_set_int64(key, 0, key_id(k));
        rc = meru_get(db, NULL, key, out);
        if (rc != MERU_OK && rc != MERU_NOT_FOUND) {
            bad = fail("cycle %d: get of key %lld: %s", cycle,
                       (long long)key_id(k), meru_errmsg());
            break;
        }
        int64_t v = rc == MERU_OK ? row_version(out) : 0;
        found[k] = rc == MERU_OK ? v : -1;
        if (rc == MERU_OK && !row_is(out, k, v)) {
            bad = fail("cycle %d: key %lld: damaged row", cycle,
                       (long long)key_id(k));
            break;
        }
        if (!consistent(k, acked[k], attempted[k], rc == MERU_OK, v)) {
            bad = fail("cycle %d: key %lld recovered %s (version %lld); "
                       "acknowledged %lld, attempted %lld",
                       cycle, (long long)key_id(k),
                       rc == MERU_OK ? "a row" : "nothing", (long long)v,
                       (long long)acked[k], (long long)attempted[k]);
            break;
        }
        /* what the key holds now, for the next cycle: the version found,
         * else the newest delete in range (absent) */
        if (rc == MERU_OK) {
            ver[k] = v;
        } else {
            int64_t d = acked[k];
            for (int64_t x = attempted[k]; x >= acked[k]; x--)
                if (is_delete(k, x)) {
                    d = x;
                    break;
                }
            ver[k] = d;
        }
        if (ver[k] > acked[k])
            t->recovered_in_flight++;
        t->keys_checked++;
    }
    /* the in-flight write of each thread: all of it or none */
    for (int w = 0; !bad && w < g_writers; w++) {
        if (!last_write[w] || last_acked[w])
            continue;
        f = fopen(g_log, "rb");
        int applied = 0, missing = 0;
        while (f && fread(&r, sizeof r, 1, f) == 1)
            if (r.kind == REC_ATTEMPT && r.writer == w &&
                r.write == last_write[w]) {
                /* Applied: the key holds this op's row, or is absent
                 * where it held a row before this delete. Absent both
                 * before and after a delete says nothing. */
                int k = r.key;
                t->inflight_ops++;
                if (found[k] >= 0)
                    found[k] == r.ver ? applied++ : missing++;
                else if (!is_delete(k, r.ver))
                    missing++;
                else if (!is_delete(k, acked[k]))
                    applied++;
            }
        if (f)
            fclose(f);
        if (applied && missing)
            bad = fail("cycle %d: writer %d's last batch is half applied "
                       "(%d of %d ops)",
                       cycle, w, applied, applied + missing);
    }
    /* the whole table: key order, nothing but the model's keys */
    if (!bad) {
        meru_iter *it = NULL;
        const meru_row *row;
        long n = 0, want = 0;
        int64_t prev = INT64_MIN;
        for (int k = 0; k < nkeys(); k++)
            want += !is_delete(k, ver[k]);
        rc = meru_scan(db, NULL, &it);
        while (rc == MERU_OK && (rc = meru_iter_next(it, &row)) == MERU_OK) {
            int64_t id = -1;
            meru_row_get_int64(row, 0, &id);
            int k = key_index(id);
            if (k < 0 || id <= prev || row_version(row) != ver[k]) {
                bad = fail("cycle %d: scan disagrees with gets at key %lld",
                           cycle, (long long)id);
                break;
            }
            prev = id;
            n++;
        }
        meru_iter_free(it);
        if (!bad && (rc != MERU_NOT_FOUND || n != want))
            bad = fail("cycle %d: scan: %ld rows of %ld: %s", cycle, n, want,
                       rc == MERU_NOT_FOUND ? "" : meru_errmsg());
    }
    if (!bad && cycle % 25 == 0) {
        meru_verify_report vr;
        t->verify_runs++;
        if ((rc = meru_verify(db, cycle % 100 ? MERU_VERIFY_QUICK : 0, &vr)))
            bad = fail("cycle %d: meru_verify: %s", cycle, meru_errmsg());
    }
    meru_row_free(key);
    meru_row_free(out);
    rc = meru_close(db);
    meru_db_free(db);
    meru_schema_free(schema);
    if (!bad && rc)
        bad = fail("cycle %d: close: %s", cycle, meru_errmsg());
    return bad;
}

int main(int argc, char **argv)
{
    int cycles = 100, max_ms = 1500;
    char log[4200], state[4200];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
            cycles = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--max-ms") && i + 1 < argc)
            max_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--writers") && i + 1 < argc)
            g_writers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--readers") && i + 1 < argc)
            g_readers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            g_seed = strtoull(argv[++i], NULL, 0);
        else if (argv[i][0] != '-' && !g_dir)
            g_dir = argv[i];
        else {
            fprintf(stderr,
                    "usage: meru_soak DIR [--cycles N] [--max-ms MS] "
                    "[--writers W] [--readers R] [--seed S]\n");
            return 2;
        }
    }
    if (!g_dir || cycles < 1 || max_ms < 10 || g_writers < 1 ||
        g_writers > MAX_WRITERS || g_readers < 0 || g_readers > MAX_WRITERS) {
        fprintf(stderr, "meru_soak: bad arguments\n");
        return 2;
    }
    snprintf(log, sizeof log, "%s.log", g_dir);
    snprintf(state, sizeof state, "%s.state", g_dir);
    g_log = log;
    g_state = state;
    int64_t *ver = calloc((size_t)nkeys(), sizeof *ver);
    if (!ver)
        return 1;
    unlink(state);
    totals t;
    memset(&t, 0, sizeof t);
    uint64_t s = mix(g_seed) | 1;
    double start = now_s();
    for (int c = 1; c <= cycles; c++) {
        pid_t pid = fork();
        if (pid < 0)
            return fail("fork: %s", strerror(errno));
        if (pid == 0)
            child_main(c);
        unsigned ms = 10 + (unsigned)(rnd(&s) % (uint64_t)max_ms);
        usleep(ms * 1000u);
        kill(pid, SIGKILL);
        int st = 0;
        waitpid(pid, &st, 0);
        if (!WIFSIGNALED(st))
            return fail("cycle %d: the child exited by itself (status %d)", c,
                        WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        if (verify_cycle(c, ver, &t))
            return 1;
        if (save_state(ver))
            return fail("writing the state file");
        t.cycles++;
        if (c % 50 == 0 || c == cycles)
            printf("cycle %d: %" PRIu64 " acknowledged writes (%" PRIu64
                   " ops) so far, 0 lost, %.0f s\n",
                   c, t.acked_writes, t.acked_ops, now_s() - start);
        fflush(stdout);
    }
    printf("soak OK: %" PRIu64 " kill -9 cycles in %.0f s; %" PRIu64
           " acknowledged writes (%" PRIu64 " operations) of %" PRIu64
           " attempted operations, none lost; %" PRIu64
           " in-flight operations (%" PRIu64
           " keys ahead of their last ack, all or nothing per batch); %" PRIu64
           " key checks; %" PRIu64 " verify runs; longest reopen %.2f s\n",
           t.cycles, now_s() - start, t.acked_writes, t.acked_ops,
           t.attempted_ops, t.inflight_ops, t.recovered_in_flight,
           t.keys_checked, t.verify_runs, t.open_s_max);
    free(ver);
    return 0;
}
