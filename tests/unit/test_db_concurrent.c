/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_concurrent.c — the table under concurrent writers, readers and
 * flushes, through the public API only. MERU_TEST_CONCURRENT: also run
 * under ThreadSanitizer.
 *
 * Writers update key groups: one batch writes the same version number to
 * the K keys of a group (each group has one writer, versions go 1, 2, ...)
 * and publishes the version once acknowledged. Other keys are "doomed":
 * put once, deleted once, never written again. A flusher thread calls
 * meru_flush in a loop; the memtable is the minimum and the L0 trigger
 * low, so flushes and compactions run all the time. Readers check:
 *   - a scan, or gets through one snapshot, never see mixed versions of a
 *     group (batches are atomic) nor part of a group;
 *   - what they see is at least the version acknowledged before the read
 *     started, and never older than what this reader saw before;
 *   - a key whose delete was acknowledged before the read never shows up;
 *   - scans are strictly ordered (forward and reverse);
 *   - two scans through one snapshot return the same rows.
 * At the end the handle is closed while readers hold open iterators and
 * other threads keep reading and writing: iterators keep reading their
 * view, calls get ECLOSED cleanly, and a reopen holds exactly the
 * acknowledged versions.
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "test_db_common.h"

#define NW 3         /* writers */
#define NR 3         /* readers */
#define NG 24        /* key groups */
#define K 4          /* keys per group */
#define ND 240       /* doomed keys */
#define DOOM_BASE 100000
#define COLS "id int64 not null, ver int64 not null, pad string"

static int64_t gkey(int g, int i) { return (int64_t)g * 100 + i; }

typedef struct shared {
    meru_db *db;
    const meru_schema *schema;
    atomic_llong acked[NG];   /* last acknowledged version of each group */
    atomic_int doomed[ND];    /* 0 unwritten, 1 put acked, 2 delete acked */
    atomic_int stop_readers;
    atomic_int stop_flusher;
    atomic_int failed;
    atomic_int holders_ready;
    atomic_int closed;
    atomic_llong reads, scans, flushes, flush_max_us;
    int batches_per_writer;
    pthread_mutex_t mu;
    char msg[1024];
} shared;

static shared S;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    pthread_mutex_lock(&S.mu);
    if (!atomic_load(&S.failed)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(S.msg, sizeof S.msg, fmt, ap);
        va_end(ap);
        atomic_store(&S.failed, 1);
    }
    pthread_mutex_unlock(&S.mu);
}

static uint64_t xrand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

/* ------------------------------------------------------------ writers */

typedef struct wctx {
    int w;
    uint64_t rng;
    int until_closed; /* keep writing until ECLOSED (the close race) */
} wctx;

static int fill(meru_row *r, int64_t id, int64_t ver, uint64_t *rng)
{
    char pad[400];
    size_t len = (size_t)(xrand(rng) % sizeof pad);
    for (size_t i = 0; i < len; i++)
        pad[i] = (char)('a' + (char)(xrand(rng) % 26));
    int rc = meru_row_set_int64(r, 0, id);
    if (!rc)
        rc = meru_row_set_int64(r, 1, ver);
    if (!rc)
        rc = meru_row_set_string(r, 2, pad, len);
    return rc;
}

static void *writer(void *arg)
{
    wctx *c = arg;
    meru_row *r = NULL;
    meru_write_batch *b = NULL;
    if (meru_row_new(&r, S.schema) || meru_write_batch_new(&b, S.schema)) {
        fail("writer %d: setup", c->w);
        return NULL;
    }
    int next_doom = c->w;
    while (next_doom < ND && atomic_load(&S.doomed[next_doom]) == 2)
        next_doom += NW;
    for (int i = 0; c->until_closed || i < S.batches_per_writer; i++) {
        if (atomic_load(&S.failed))
            break;
        int rc;
        if (xrand(&c->rng) % 5 || next_doom >= ND) {
            /* A group of this writer: g = w, w + NW, ... */
            int g = c->w + NW * (int)(xrand(&c->rng) % (NG / NW));
            int64_t v = atomic_load(&S.acked[g]) + 1;
            meru_write_batch_clear(b);
            rc = 0;
            for (int k = 0; k < K && !rc; k++) {
                rc = fill(r, gkey(g, k), v, &c->rng);
                if (!rc)
                    rc = meru_write_batch_put(b, r);
            }
            if (rc) {
                fail("writer %d: batch build %d %s", c->w, rc, meru_errmsg());
                break;
            }
            rc = meru_write(S.db, b, NULL);
            if (rc == MERU_OK)
                atomic_store(&S.acked[g], v);
        } else {
            int j = next_doom;
            int st = atomic_load(&S.doomed[j]);
            meru_row_clear(r);
            if (st == 0) {
                rc = fill(r, DOOM_BASE + j, 1, &c->rng);
                if (!rc)
                    rc = meru_put(S.db, r, NULL);
            } else {
                rc = meru_row_set_int64(r, 0, DOOM_BASE + j);
                if (!rc)
                    rc = meru_delete(S.db, r, NULL);
            }
            if (rc == MERU_OK) {
                atomic_store(&S.doomed[j], st + 1);
                if (st == 1)
                    do
                        next_doom += NW;
                    while (next_doom < ND &&
                           atomic_load(&S.doomed[next_doom]) == 2);
            }
        }
        if (rc == MERU_ECLOSED && c->until_closed)
            break;
        if (rc) {
            fail("writer %d: write -> %d (%s) %s", c->w, rc,
                 meru_strerror(rc), meru_errmsg());
            break;
        }
    }
    meru_row_free(r);
    meru_write_batch_free(b);
    return NULL;
}

static void *flusher(void *arg)
{
    (void)arg;
    while (!atomic_load(&S.stop_flusher) && !atomic_load(&S.failed)) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = meru_flush(S.db);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long long us = (t1.tv_sec - t0.tv_sec) * 1000000LL +
                       (t1.tv_nsec - t0.tv_nsec) / 1000;
        if (us > atomic_load(&S.flush_max_us))
            atomic_store(&S.flush_max_us, us); /* reported, never asserted */
        if (rc == MERU_ECLOSED)
            break;
        if (rc) {
            fail("flush -> %d (%s) %s", rc, meru_strerror(rc), meru_errmsg());
            break;
        }
        atomic_fetch_add(&S.flushes, 1);
        usleep(3000);
    }
    return NULL;
}

/* ------------------------------------------------------------ readers */

typedef struct rctx {
    int r;
    uint64_t rng;
    int64_t seen[NG]; /* newest version this reader has seen per group */
    meru_row *key, *out;
} rctx;

/* What a read must at least show, loaded before the read starts. */
typedef struct before {
    int64_t acked[NG];
    int deleted[ND];
} before;

static void load_before(before *b)
{
    for (int g = 0; g < NG; g++)
        b->acked[g] = atomic_load(&S.acked[g]);
    for (int j = 0; j < ND; j++)
        b->deleted[j] = atomic_load(&S.doomed[j]) == 2;
}

/* Per-group tally of one read. */
typedef struct tally {
    int count[NG];
    int64_t ver[NG];
} tally;

/* Checks one row of a read; 0 ok. */
static int see_row(rctx *c, const before *b, tally *t, const meru_row *row,
                   const char *what)
{
    int64_t id, ver;
    if (meru_row_get_int64(row, 0, &id) || meru_row_get_int64(row, 1, &ver)) {
        fail("reader %d %s: row without id/ver: %s", c->r, what,
             tdb_row_str(row));
        return -1;
    }
    if (id >= DOOM_BASE) {
        int j = (int)(id - DOOM_BASE);
        if (j >= ND || (b && b->deleted[j])) {
            fail("reader %d %s: deleted key %lld is back", c->r, what,
                 (long long)id);
            return -1;
        }
        return 0;
    }
    int g = (int)(id / 100), i = (int)(id % 100);
    if (g >= NG || i >= K) {
        fail("reader %d %s: unknown key %lld", c->r, what, (long long)id);
        return -1;
    }
    if (t->count[g] && t->ver[g] != ver) {
        fail("reader %d %s: group %d mixes versions %lld and %lld (torn "
             "batch)",
             c->r, what, g, (long long)t->ver[g], (long long)ver);
        return -1;
    }
    t->count[g]++;
    t->ver[g] = ver;
    return 0;
}

/* After a read of groups [g1, g2): each group whole, new enough. */
static int check_tally(rctx *c, const before *b, const tally *t, int g1,
                       int g2, const char *what, int update_seen)
{
    for (int g = g1; g < g2; g++) {
        if (t->count[g] == 0) {
            if (b && b->acked[g] > 0) {
                fail("reader %d %s: group %d missing, version %lld was "
                     "acknowledged",
                     c->r, what, g, (long long)b->acked[g]);
                return -1;
            }
            continue;
        }
        if (t->count[g] != K) {
            fail("reader %d %s: group %d has %d of %d keys (torn batch)",
                 c->r, what, g, t->count[g], K);
            return -1;
        }
        if (b && t->ver[g] < b->acked[g]) {
            fail("reader %d %s: group %d at version %lld, %lld was "
                 "acknowledged before the read",
                 c->r, what, g, (long long)t->ver[g], (long long)b->acked[g]);
            return -1;
        }
        if (update_seen) {
            if (t->ver[g] < c->seen[g]) {
                fail("reader %d %s: group %d went back from version %lld to "
                     "%lld",
                     c->r, what, g, (long long)c->seen[g],
                     (long long)t->ver[g]);
                return -1;
            }
            c->seen[g] = t->ver[g];
        }
    }
    return 0;
}

/* A scan over whole groups [g1, g2) (or everything), forward or reverse,
 * latest or through `snap`. Returns 0, -1 on failure, or MERU_ECLOSED. */
static int scan_groups(rctx *c, const meru_snapshot *snap, int g1, int g2,
                       int all, int reverse, tally *t, int64_t *ids,
                       size_t *nids, const before *b)
{
    meru_row *lo = NULL, *hi = NULL;
    meru_scan_options o;
    meru_scan_options_init(&o);
    o.snapshot = snap;
    o.reverse = reverse;
    if (!all) {
        if (meru_row_new(&lo, S.schema) || meru_row_new(&hi, S.schema) ||
            meru_row_set_int64(lo, 0, gkey(g1, 0)) ||
            meru_row_set_int64(hi, 0, gkey(g2, 0))) {
            fail("scan setup");
            meru_row_free(lo);
            meru_row_free(hi);
            return -1;
        }
        o.lower = lo;
        o.upper = hi;
        o.lower_inclusive = 1;
        o.upper_inclusive = 0;
    }
    memset(t, 0, sizeof *t);
    meru_iter *it = NULL;
    int rc = meru_scan(S.db, &o, &it);
    int ret = 0;
    if (rc) {
        meru_row_free(lo);
        meru_row_free(hi);
        if (rc == MERU_ECLOSED && atomic_load(&S.closed))
            return MERU_ECLOSED;
        fail("reader %d: scan -> %d (%s) %s", c->r, rc, meru_strerror(rc),
             meru_errmsg());
        return -1;
    }
    const meru_row *row;
    int64_t prev = 0;
    int have = 0;
    *nids = 0;
    while (!ret && (rc = meru_iter_next(it, &row)) == MERU_OK) {
        int64_t id = 0;
        meru_row_get_int64(row, 0, &id);
        if (have && (reverse ? id >= prev : id <= prev)) {
            fail("reader %d: scan out of order: %lld after %lld (reverse "
                 "%d)",
                 c->r, (long long)id, (long long)prev, reverse);
            ret = -1;
            break;
        }
        if (!all && (id < gkey(g1, 0) || id >= gkey(g2, 0))) {
            fail("reader %d: scan returned %lld outside its bounds", c->r,
                 (long long)id);
            ret = -1;
            break;
        }
        prev = id;
        have = 1;
        if (ids)
            ids[(*nids)++] = id;
        if (see_row(c, b, t, row, snap ? "snapshot scan" : "scan")) {
            ret = -1;
            break;
        }
    }
    if (!ret && rc != MERU_NOT_FOUND) {
        fail("reader %d: iter_next -> %d (%s) %s", c->r, rc,
             meru_strerror(rc), meru_errmsg());
        ret = -1;
    }
    meru_iter_free(it);
    meru_row_free(lo);
    meru_row_free(hi);
    return ret;
}

static void *reader(void *arg)
{
    rctx *c = arg;
    before *b = malloc(sizeof *b);
    tally *t = malloc(sizeof *t), *t2 = malloc(sizeof *t2);
    int64_t *ids1 = malloc(sizeof(int64_t) * (NG * K + ND));
    int64_t *ids2 = malloc(sizeof(int64_t) * (NG * K + ND));
    if (!b || !t || !t2 || !ids1 || !ids2 || meru_row_new(&c->key, S.schema) ||
        meru_row_new(&c->out, S.schema)) {
        fail("reader setup");
        goto out;
    }
    while (!atomic_load(&S.stop_readers) && !atomic_load(&S.failed)) {
        int op = (int)(xrand(&c->rng) % 10);
        load_before(b);
        if (op < 4) {
            /* A scan, whole table or a run of groups. */
            int all = (int)(xrand(&c->rng) % 3 == 0);
            int g1 = (int)(xrand(&c->rng) % NG);
            int g2 = g1 + 1 + (int)(xrand(&c->rng) % (NG - g1));
            size_t n;
            int rc = scan_groups(c, NULL, g1, g2, all,
                                 (int)(xrand(&c->rng) % 2), t, NULL, &n, b);
            if (rc || check_tally(c, b, t, all ? 0 : g1, all ? NG : g2,
                                  "scan", 1))
                break;
            atomic_fetch_add(&S.scans, 1);
        } else if (op < 7) {
            /* Gets of one group through a snapshot, then a scan of it
             * through the same snapshot, twice. */
            meru_snapshot *snap = NULL;
            int rc = meru_snapshot_new(S.db, &snap);
            if (rc) {
                fail("snapshot_new -> %d %s", rc, meru_errmsg());
                break;
            }
            int g = (int)(xrand(&c->rng) % NG);
            memset(t, 0, sizeof *t);
            for (int i = 0; i < K && !atomic_load(&S.failed); i++) {
                meru_row_clear(c->key);
                meru_row_set_int64(c->key, 0, gkey(g, i));
                rc = meru_get(S.db, snap, c->key, c->out);
                if (rc == MERU_OK)
                    see_row(c, b, t, c->out, "snapshot get");
                else if (rc != MERU_NOT_FOUND)
                    fail("get -> %d (%s) %s", rc, meru_strerror(rc),
                         meru_errmsg());
                /* Let writers and flushes move on between the gets. */
                if (xrand(&c->rng) % 2)
                    sched_yield();
            }
            if (!atomic_load(&S.failed) &&
                !check_tally(c, b, t, g, g + 1, "snapshot gets", 1)) {
                size_t n1, n2;
                if (!scan_groups(c, snap, g, g + 1, 0, 0, t2, ids1, &n1,
                                 b) &&
                    !scan_groups(c, snap, 0, NG, 1, 0, t2, ids2, &n2, b)) {
                    if (t2->count[g] != t->count[g] ||
                        (t->count[g] && t2->ver[g] != t->ver[g]))
                        fail("reader %d: snapshot scan of group %d differs "
                             "from snapshot gets",
                             c->r, g);
                    if (!check_tally(c, b, t2, 0, NG, "snapshot scan", 0)) {
                        size_t n3;
                        scan_groups(c, snap, 0, NG, 1, 1, t2, ids1, &n3, b);
                        if (n3 != n2)
                            fail("reader %d: snapshot scans return %zu "
                                 "then %zu rows",
                                 c->r, n2, n3);
                        for (size_t i = 0; i < n2 && i < n3; i++)
                            if (ids2[i] != ids1[n3 - 1 - i]) {
                                fail("reader %d: snapshot forward and "
                                     "reverse scans differ",
                                     c->r);
                                break;
                            }
                    }
                }
            }
            meru_snapshot_free(snap);
        } else {
            /* Gets of doomed keys and of group keys. */
            int j = (int)(xrand(&c->rng) % ND);
            meru_row_clear(c->key);
            meru_row_set_int64(c->key, 0, DOOM_BASE + j);
            int rc = meru_get(S.db, NULL, c->key, c->out);
            if (rc == MERU_OK && b->deleted[j])
                fail("reader %d: get of deleted key %d found it", c->r,
                     DOOM_BASE + j);
            else if (rc != MERU_OK && rc != MERU_NOT_FOUND)
                fail("get -> %d (%s) %s", rc, meru_strerror(rc),
                     meru_errmsg());
            int g = (int)(xrand(&c->rng) % NG);
            meru_row_clear(c->key);
            meru_row_set_int64(c->key, 0, gkey(g, (int)(xrand(&c->rng) % K)));
            rc = meru_get(S.db, NULL, c->key, c->out);
            int64_t ver = 0;
            if (rc == MERU_OK) {
                meru_row_get_int64(c->out, 1, &ver);
                if (ver < b->acked[g])
                    fail("reader %d: get of group %d: version %lld, %lld "
                         "acknowledged",
                         c->r, g, (long long)ver, (long long)b->acked[g]);
            } else if (rc == MERU_NOT_FOUND && b->acked[g] > 0) {
                fail("reader %d: get of group %d: not found, version %lld "
                     "acknowledged",
                     c->r, g, (long long)b->acked[g]);
            } else if (rc != MERU_OK && rc != MERU_NOT_FOUND) {
                fail("get -> %d (%s) %s", rc, meru_strerror(rc),
                     meru_errmsg());
            }
        }
        atomic_fetch_add(&S.reads, 1);
    }
out:
    meru_row_free(c->key);
    meru_row_free(c->out);
    free(b);
    free(t);
    free(t2);
    free(ids1);
    free(ids2);
    return NULL;
}

/* -------------------------------------------------- the close race */

/* Holds an iterator across the close, then reads it to the end. */
static void *holder(void *arg)
{
    rctx *c = arg;
    meru_scan_options o;
    meru_scan_options_init(&o);
    o.reverse = c->r % 2;
    meru_iter *it = NULL;
    int rc = meru_scan(S.db, &o, &it);
    atomic_fetch_add(&S.holders_ready, 1);
    if (rc) {
        fail("holder: scan -> %d %s", rc, meru_errmsg());
        return NULL;
    }
    const meru_row *row;
    tally t;
    memset(&t, 0, sizeof t);
    rc = meru_iter_next(it, &row);
    int64_t prev = 0;
    size_t n = 0;
    while (!atomic_load(&S.closed))
        usleep(500);
    while (rc == MERU_OK) {
        int64_t id = 0;
        meru_row_get_int64(row, 0, &id);
        if (n && (o.reverse ? id >= prev : id <= prev)) {
            fail("holder: out of order after close");
            break;
        }
        if (see_row(c, NULL, &t, row, "held iterator"))
            break;
        prev = id;
        n++;
        rc = meru_iter_next(it, &row);
    }
    if (rc != MERU_NOT_FOUND && rc != MERU_ECLOSED && rc != MERU_OK)
        fail("holder: iter_next after close -> %d (%s) %s", rc,
             meru_strerror(rc), meru_errmsg());
    if (rc == MERU_NOT_FOUND)
        check_tally(c, NULL, &t, 0, NG, "held iterator", 0);
    meru_iter_free(it);
    return NULL;
}

/* Gets and scans in a loop until ECLOSED; nothing else is acceptable. */
static void *closer_reader(void *arg)
{
    rctx *c = arg;
    meru_row *k = NULL, *out = NULL;
    if (meru_row_new(&k, S.schema) || meru_row_new(&out, S.schema)) {
        fail("setup");
        return NULL;
    }
    for (;;) {
        meru_row_set_int64(k, 0, gkey((int)(xrand(&c->rng) % NG), 0));
        int rc = meru_get(S.db, NULL, k, out);
        if (rc == MERU_ECLOSED)
            break;
        if (rc != MERU_OK && rc != MERU_NOT_FOUND) {
            fail("get racing close -> %d (%s) %s", rc, meru_strerror(rc),
                 meru_errmsg());
            break;
        }
        meru_iter *it = NULL;
        rc = meru_scan(S.db, NULL, &it);
        if (rc == MERU_ECLOSED)
            break;
        if (rc) {
            fail("scan racing close -> %d (%s)", rc, meru_strerror(rc));
            break;
        }
        const meru_row *row;
        for (int i = 0; i < 20 && (rc = meru_iter_next(it, &row)) == MERU_OK;
             i++) {
        }
        meru_iter_free(it);
        if (rc != MERU_OK && rc != MERU_NOT_FOUND && rc != MERU_ECLOSED) {
            fail("iter racing close -> %d (%s)", rc, meru_strerror(rc));
            break;
        }
        meru_snapshot *snap = NULL;
        rc = meru_snapshot_new(S.db, &snap);
        if (rc == MERU_OK)
            meru_snapshot_free(snap);
        else if (rc != MERU_ECLOSED)
            fail("snapshot racing close -> %d", rc);
        else
            break;
    }
    meru_row_free(k);
    meru_row_free(out);
    return NULL;
}

static void test_db_concurrent_readers_writers_flush(void)
{
    memset(&S, 0, sizeof S);
    pthread_mutex_init(&S.mu, NULL);
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "conc", COLS, "id"));
    S.schema = s;
    S.batches_per_writer = (int)(1500 * meru_test_scale());
    if (S.batches_per_writer < 100)
        S.batches_per_writer = 100;
    const char *dir0 = meru_test_tmpdir("conc");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", dir0);
    meru_options o;
    tdb_small_options(&o);
    o.l0_compaction_trigger = 2;
    o.background_threads = 2;
    CHECK_OK(meru_open(dir, &o, s, &S.db));

    pthread_t wt[NW], rt[NR], ft;
    wctx wc[NW];
    rctx *rcx = calloc(NR + 4, sizeof *rcx);
    CHECK(rcx);
    for (int w = 0; w < NW; w++) {
        wc[w].w = w;
        wc[w].rng = meru_test_rand() | 1;
        wc[w].until_closed = 0;
        CHECK(pthread_create(&wt[w], NULL, writer, &wc[w]) == 0);
    }
    for (int r = 0; r < NR; r++) {
        rcx[r].r = r;
        rcx[r].rng = meru_test_rand() | 1;
        CHECK(pthread_create(&rt[r], NULL, reader, &rcx[r]) == 0);
    }
    CHECK(pthread_create(&ft, NULL, flusher, NULL) == 0);
    for (int w = 0; w < NW; w++)
        pthread_join(wt[w], NULL);
    atomic_store(&S.stop_readers, 1);
    for (int r = 0; r < NR; r++)
        pthread_join(rt[r], NULL);
    atomic_store(&S.stop_flusher, 1);
    pthread_join(ft, NULL);
    CHECK_MSG(!atomic_load(&S.failed), "%s (seed %llu)", S.msg,
              (unsigned long long)meru_test_seed());

    meru_stats st;
    CHECK_OK(meru_stats_get(S.db, &st));
    fprintf(stderr,
            "  %lld reads, %lld scans, %lld explicit flushes (longest %lld "
            "ms); engine: %llu "
            "flushes, %llu compactions, %llu files, %llu stalls\n",
            (long long)atomic_load(&S.reads), (long long)atomic_load(&S.scans),
            (long long)atomic_load(&S.flushes),
            (long long)atomic_load(&S.flush_max_us) / 1000,
            (unsigned long long)st.flushes,
            (unsigned long long)st.compactions,
            (unsigned long long)st.total_files,
            (unsigned long long)st.stall_count);

    /* The close race: iterator holders, readers and writers running. */
    enum { NH = 2, NC = 2, NWC = 2 };
    pthread_t ht[NH], ct[NC], wct[NWC];
    wctx wcc[NWC];
    atomic_store(&S.stop_flusher, 0);
    for (int h = 0; h < NH; h++) {
        rcx[h].r = 100 + h;
        CHECK(pthread_create(&ht[h], NULL, holder, &rcx[h]) == 0);
    }
    while (atomic_load(&S.holders_ready) < NH)
        usleep(200);
    for (int w = 0; w < NWC; w++) {
        wcc[w].w = w;
        wcc[w].rng = meru_test_rand() | 1;
        wcc[w].until_closed = 1;
        CHECK(pthread_create(&wct[w], NULL, writer, &wcc[w]) == 0);
    }
    for (int i = 0; i < NC; i++) {
        rcx[NH + i].r = 200 + i;
        rcx[NH + i].rng = meru_test_rand() | 1;
        CHECK(pthread_create(&ct[i], NULL, closer_reader, &rcx[NH + i]) == 0);
    }
    CHECK(pthread_create(&ft, NULL, flusher, NULL) == 0);
    usleep(20000);
    CHECK_OK(meru_close(S.db));
    atomic_store(&S.closed, 1);
    for (int h = 0; h < NH; h++)
        pthread_join(ht[h], NULL);
    for (int i = 0; i < NC; i++)
        pthread_join(ct[i], NULL);
    for (int w = 0; w < NWC; w++)
        pthread_join(wct[w], NULL);
    pthread_join(ft, NULL);
    CHECK_MSG(!atomic_load(&S.failed), "%s (seed %llu)", S.msg,
              (unsigned long long)meru_test_seed());
    meru_db_free(S.db);
    S.db = NULL;

    /* Reopen: exactly the acknowledged versions, deleted keys gone. */
    CHECK_OK(meru_open(dir, &o, NULL, &S.db));
    meru_row *k = NULL, *out = NULL;
    CHECK_OK(meru_row_new(&k, s));
    CHECK_OK(meru_row_new(&out, meru_db_schema(S.db)));
    for (int g = 0; g < NG; g++) {
        for (int i = 0; i < K; i++) {
            CHECK_OK(meru_row_set_int64(k, 0, gkey(g, i)));
            int64_t want = atomic_load(&S.acked[g]);
            int r = meru_get(S.db, NULL, k, out);
            if (want == 0) {
                CHECK_RC(r, MERU_NOT_FOUND);
                continue;
            }
            CHECK_RC(r, MERU_OK);
            int64_t v = 0;
            CHECK_OK(meru_row_get_int64(out, 1, &v));
            CHECK_MSG(v == want, "group %d key %d: version %lld after reopen, "
                                 "%lld acknowledged",
                      g, i, (long long)v, (long long)want);
        }
    }
    for (int j = 0; j < ND; j++) {
        CHECK_OK(meru_row_set_int64(k, 0, DOOM_BASE + j));
        int r = meru_get(S.db, NULL, k, out);
        int stt = atomic_load(&S.doomed[j]);
        if (stt == 1)
            CHECK_RC(r, MERU_OK);
        else
            CHECK_RC(r, MERU_NOT_FOUND);
    }
    meru_row_free(k);
    meru_row_free(out);
    meru_db_free(S.db);
    free(rcx);
    meru_schema_free(s);
    pthread_mutex_destroy(&S.mu);
}

/*
 * meru_flush under a steady write load returns once the memtables that
 * held data at the call are flushed: it must not wait for memtables that
 * later writes fill. At the call at most max_immutable_memtables + 1
 * memtables hold data, so the engine's flush counter may advance by about
 * that much during the call, not by dozens. Not a timing check: the bound
 * is in flushes, whatever the machine's speed. Writers stop when the flush
 * returns (or after FL_CAP rows, so a starved flush still ends).
 */
#define FL_WRITERS 3
#define FL_CAP 30000
static atomic_int fl_done;
static atomic_long fl_rows;

static void *fl_writer(void *arg)
{
    int w = (int)(intptr_t)arg;
    meru_row *r = NULL;
    if (meru_row_new(&r, S.schema)) {
        fail("setup");
        return NULL;
    }
    uint64_t rng = (uint64_t)w * 77 + 1;
    for (int64_t i = 0; !atomic_load(&fl_done); i++) {
        if (atomic_fetch_add(&fl_rows, 1) >= FL_CAP)
            break;
        int rc = fill(r, (int64_t)w * 10000000 + i, 1, &rng);
        if (!rc)
            rc = meru_put(S.db, r, NULL);
        if (rc) {
            fail("flush-load writer: put -> %d (%s)", rc, meru_strerror(rc));
            break;
        }
    }
    meru_row_free(r);
    return NULL;
}

static void test_db_flush_returns_under_write_load(void)
{
    memset(&S, 0, sizeof S);
    pthread_mutex_init(&S.mu, NULL);
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "fl", COLS, "id"));
    S.schema = s;
    const char *dir0 = meru_test_tmpdir("conc_flush");
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", dir0);
    meru_options o;
    tdb_small_options(&o);
    o.l0_compaction_trigger = 2;
    CHECK_OK(meru_open(dir, &o, s, &S.db));
    int trials = meru_test_scale() >= 1 ? 6 : 3;
    for (int t = 0; t < trials; t++) {
        atomic_store(&fl_done, 0);
        atomic_store(&fl_rows, 0);
        pthread_t th[FL_WRITERS];
        for (int w = 0; w < FL_WRITERS; w++)
            CHECK(pthread_create(&th[w], NULL, fl_writer,
                                 (void *)(intptr_t)(t * FL_WRITERS + w)) == 0);
        /* Let the writers fill a few memtables first. */
        while (atomic_load(&fl_rows) < 1500 && !atomic_load(&S.failed))
            usleep(1000);
        long rows0 = atomic_load(&fl_rows);
        meru_stats st0, st1;
        CHECK_OK(meru_stats_get(S.db, &st0));
        int rc = meru_flush(S.db);
        long during = atomic_load(&fl_rows) - rows0;
        CHECK_OK(meru_stats_get(S.db, &st1));
        uint64_t nflush = st1.flushes - st0.flushes;
        atomic_store(&fl_done, 1);
        for (int w = 0; w < FL_WRITERS; w++)
            pthread_join(th[w], NULL);
        CHECK_OK(rc);
        fprintf(stderr,
                "  trial %d: %ld rows written, %llu flushes during meru_flush\n",
                t, during, (unsigned long long)nflush);
        CHECK_MSG(!atomic_load(&S.failed), "%s", S.msg);
        /* At the call at most max_immutable_memtables + 1 memtables hold
         * data; allow a few more that finish before the stats are read. */
        uint64_t bound = (uint64_t)o.max_immutable_memtables + 1 + 6;
        CHECK_MSG(nflush <= bound && rows0 + during < FL_CAP,
                  "trial %d: one meru_flush call lasted %llu background "
                  "flushes (%ld rows written meanwhile; at most %llu "
                  "memtables held data at the call): it waits for memtables "
                  "filled after the call",
                  t, (unsigned long long)nflush, during,
                  (unsigned long long)o.max_immutable_memtables + 1);
    }
    meru_db_free(S.db);
    S.db = NULL;
    meru_schema_free(s);
    pthread_mutex_destroy(&S.mu);
}

int main(void)
{
    MERU_TEST_RUN(test_db_concurrent_readers_writers_flush);
    MERU_TEST_RUN(test_db_flush_returns_under_write_load);
    return meru_test_finish();
}
