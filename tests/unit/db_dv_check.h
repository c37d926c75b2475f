/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_dv_check.h — what the Iceberg-view tests (test_db_dv*.c) share: the
 * check of a table's view at a quiet point, key spaces and workload steps.
 *
 * The view is read the way an external Iceberg reader would: every row of
 * every file of the current version through the SST iterator, skipping the
 * positions in the file's vector. check_view() flushes (so the files hold
 * every row meru_scan returns), takes the file set and its vectors in one
 * critical section of cat_mu (a compaction may commit afterwards: it
 * changes no row the scan returns), then checks that the maintained vectors
 * equal meru_db_rebuild_dvs's, that the visible rows are puts, one per
 * user key, and that they equal meru_scan's rows. It reaches into the
 * engine (db_internal.h) for the file list and the catalog's vectors.
 *
 * Everything is static: each test program includes this once.
 */
#ifndef MERU_TEST_DB_DV_CHECK_H
#define MERU_TEST_DB_DV_CHECK_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/db_internal.h"
#include "engine/db_lookup.h"
#include "test.h"
#include "test_db_common.h"
#include "types/keycodec.h"
#include "types/rowcodec.h"

#define VFAIL(...)                                                             \
    do {                                                                       \
        meru_test_fail(__FILE__, __LINE__, __VA_ARGS__);                       \
        fprintf(stderr, "  (seed %llu)\n",                                     \
                (unsigned long long)meru_test_seed());                         \
        goto fail;                                                             \
    } while (0)
#define VCHECK(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond))                                                           \
            VFAIL(__VA_ARGS__);                                                \
    } while (0)
#define VOK(expr)                                                              \
    do {                                                                       \
        int _rc = (expr);                                                      \
        if (_rc != MERU_OK)                                                    \
            VFAIL("%s -> %d (%s): %s", #expr, _rc, meru_strerror(_rc),         \
                  meru_errmsg());                                              \
    } while (0)

static inline uint64_t rnd(uint64_t n) { return n ? meru_test_rand() % n : 0; }

/* ------------------------------------------------------------ the check */

/* Waits until nothing is left to flush and no compaction runs. (Idle
 * work, which compactions_pending also counts, may still start later: the
 * checks below do not need it to be done, only a consistent file set,
 * which they take under cat_mu.) */
static inline int wait_idle(meru_db *db)
{
    for (long i = 0; i < 600000; i++) {
        meru_stats s;
        if (meru_stats_get(db, &s))
            return -1;
        if (s.background_errors)
            return -1;
        if (!s.immutable_memtables && !s.compactions_running)
            return 0;
        usleep(500);
    }
    return -1;
}

/* The current files with a reference each, their maintained vectors and
 * the vectors rebuilt from the data. */
typedef struct fileset {
    meru_db_file **f;
    meru_dv **kept, **rebuilt;
    size_t n;
} fileset;

static inline void fileset_free(fileset *fs)
{
    for (size_t i = 0; i < fs->n; i++) {
        meru_db_file_unref(fs->f[i]);
        meru_dv_free(fs->kept[i]);
        if (fs->rebuilt)
            meru_dv_free(fs->rebuilt[i]);
    }
    free(fs->f);
    free(fs->kept);
    free(fs->rebuilt);
    memset(fs, 0, sizeof *fs);
}

static inline int fileset_get(meru_db *db, fileset *fs)
{
    int rc = MERU_OK;
    memset(fs, 0, sizeof *fs);
    pthread_mutex_lock(&db->cat_mu);
    size_t n = db->nfiles;
    fs->f = calloc(n ? n : 1, sizeof *fs->f);
    fs->kept = calloc(n ? n : 1, sizeof *fs->kept);
    fs->rebuilt = calloc(n ? n : 1, sizeof *fs->rebuilt);
    if (!fs->f || !fs->kept || !fs->rebuilt)
        rc = MERU_ENOMEM;
    for (size_t i = 0; rc == MERU_OK && i < n; i++) {
        fs->f[i] = db->files[i];
        meru_db_file_ref(fs->f[i]);
        fs->n++;
        rc = meru_catalog_file_dv(db->cat, fs->f[i]->meta.path, &fs->kept[i]);
    }
    pthread_mutex_unlock(&db->cat_mu);
    if (rc == MERU_OK)
        rc = meru_db_rebuild_dvs(fs->f, fs->n, fs->rebuilt);
    return rc;
}

static inline bool dv_same(const meru_dv *a, const meru_dv *b)
{
    if (!a || !b)
        return (!a || meru_dv_is_empty(a)) && (!b || meru_dv_is_empty(b));
    return meru_dv_equal(a, b);
}

typedef struct vrow {
    meru_buf ukey;
    meru_row *row;
    size_t file;
    uint64_t pos;
} vrow;

static inline int vrow_cmp(const void *a, const void *b)
{
    const vrow *x = a, *y = b;
    return meru_ikey_cmp(x->ukey.data, x->ukey.len, y->ukey.data,
                         y->ukey.len);
}

typedef struct vstats {
    uint64_t checks, files, rows, hidden, levels;
} vstats;

/*
 * Flushes, waits for quiet, then checks the view: maintained vectors ==
 * rebuilt ones; the rows no vector hides are puts, one per user key, and
 * equal meru_scan's rows in order. *nvisible (optional) gets their count.
 */
static inline int check_view(meru_db *db, const char *what, vstats *vs,
                      uint64_t *nvisible)
{
    fileset fs = {0};
    vrow *v = NULL;
    size_t nv = 0, cap = 0;
    meru_iter *it = NULL;
    meru_iiter *si = NULL;
    const meru_schema *s = meru_db_schema(db);
    int ret = -1;

    VOK(meru_flush(db));
    VCHECK(wait_idle(db) == 0, "%s: the table never became idle", what);
    VOK(fileset_get(db, &fs));
    for (size_t i = 0; i < fs.n; i++)
        VCHECK(dv_same(fs.kept[i], fs.rebuilt[i]),
               "%s: file %zu (L%d, %llu rows) keeps %llu hidden rows, the "
               "data says %llu",
               what, i, fs.f[i]->meta.level,
               (unsigned long long)fs.f[i]->meta.row_count,
               (unsigned long long)(fs.kept[i] ? meru_dv_cardinality(fs.kept[i])
                                               : 0),
               (unsigned long long)(fs.rebuilt[i]
                                        ? meru_dv_cardinality(fs.rebuilt[i])
                                        : 0));
    /* The rows an Iceberg reader sees. */
    for (size_t i = 0; i < fs.n; i++) {
        meru_sst *t;
        VOK(meru_db_file_sst(fs.f[i], &t));
        VOK(meru_sst_iter_new(t, NULL, &si));
        for (si->ops->seek_to_first(si); si->ops->valid(si);
             si->ops->next(si)) {
            uint64_t pos = meru_sst_iter_pos(si);
            if (fs.kept[i] && meru_dv_contains(fs.kept[i], pos)) {
                vs->hidden++;
                continue;
            }
            size_t kl, vl, ul;
            int op;
            const uint8_t *k = si->ops->key(si, &kl);
            VOK(meru_ikey_parse(k, kl, &ul, NULL, &op));
            VCHECK(op == MERU_OP_PUT,
                   "%s: file %zu row %llu: a delete row is visible", what, i,
                   (unsigned long long)pos);
            const uint8_t *val = si->ops->value(si, &vl);
            if (nv == cap) {
                size_t c = cap ? cap * 2 : 256;
                vrow *p = realloc(v, c * sizeof *p);
                VCHECK(p, "out of memory");
                memset(p + cap, 0, (c - cap) * sizeof *p);
                v = p;
                cap = c;
            }
            vrow *r = &v[nv++];
            r->file = i;
            r->pos = pos;
            VOK(meru_buf_append(&r->ukey, k, ul));
            VOK(meru_row_new(&r->row, s));
            VOK(meru_row_decode(s, k, ul, val, vl, r->row));
        }
        VOK(si->ops->status(si));
        meru_iiter_destroy(si);
        si = NULL;
    }
    if (nv)
        qsort(v, nv, sizeof *v, vrow_cmp);
    for (size_t i = 1; i < nv; i++)
        VCHECK(vrow_cmp(&v[i - 1], &v[i]) != 0,
               "%s: two visible rows of one key (file %zu row %llu, file %zu "
               "row %llu): %s",
               what, v[i - 1].file, (unsigned long long)v[i - 1].pos,
               v[i].file, (unsigned long long)v[i].pos,
               tdb_row_str(v[i].row));
    /* ... and they are the table's rows. */
    VOK(meru_scan(db, NULL, &it));
    for (size_t i = 0;; i++) {
        const meru_row *row = NULL;
        int rc = meru_iter_next(it, &row);
        if (rc == MERU_NOT_FOUND) {
            VCHECK(i == nv, "%s: the view shows %zu rows, the scan %zu", what,
                   nv, i);
            break;
        }
        VOK(rc);
        VCHECK(i < nv, "%s: the scan has more rows than the view's %zu: %s",
               what, nv, tdb_row_str(row));
        int d = tdb_row_diff(row, v[i].row);
        VCHECK(d < 0, "%s: row %zu column %d: scan %s, view %s", what, i, d,
               tdb_row_str(row), tdb_row_str(v[i].row));
    }
    {
        int top = 0;
        for (size_t i = 0; i < fs.n; i++)
            if (fs.f[i]->meta.level > top)
                top = fs.f[i]->meta.level;
        if ((uint64_t)top > vs->levels)
            vs->levels = (uint64_t)top;
    }
    vs->checks++;
    vs->files += fs.n;
    vs->rows += nv;
    if (nvisible)
        *nvisible = nv;
    ret = 0;
fail:
    meru_iiter_destroy(si);
    meru_iter_free(it);
    for (size_t i = 0; i < nv; i++) {
        meru_buf_free(&v[i].ukey);
        meru_row_free(v[i].row);
    }
    if (v && nv < cap) { /* a row being filled when a check failed */
        meru_buf_free(&v[nv].ukey);
        meru_row_free(v[nv].row);
    }
    free(v);
    fileset_free(&fs);
    return ret;
}

/* ------------------------------------------------------------ key spaces */

typedef struct space {
    int composite; /* (k1 string, k2 int64) instead of (id int64) */
    size_t nkeys;
} space;

static const char *const K1[] = {"", "\0", "a", "a\0", "ab", "b", "zz"};
static const size_t K1LEN[] = {0, 1, 1, 2, 2, 1, 2};
#define NK1 (sizeof K1 / sizeof K1[0])

static inline int set_key(const space *sp, meru_row *r, size_t idx)
{
    if (!sp->composite)
        return meru_row_set_int64(r, 0, (int64_t)idx * 7 - 1000);
    int rc = meru_row_set_string(r, 0, K1[idx % NK1], K1LEN[idx % NK1]);
    return rc ? rc : meru_row_set_int64(r, 1, (int64_t)(idx / NK1) - 50);
}

/* A row for key idx: random values, `big` makes the string long. */
static inline int fill(const space *sp, meru_row *r, size_t idx, int big)
{
    char buf[900];
    size_t n = big ? 300 + rnd(500) : rnd(40);
    int vcol = sp->composite ? 2 : 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + rnd(26));
    meru_row_clear(r);
    int rc = set_key(sp, r, idx);
    if (!rc)
        rc = rnd(6) ? meru_row_set_int64(r, (size_t)vcol,
                                         (int64_t)meru_test_rand())
                    : meru_row_set_null(r, (size_t)vcol);
    if (!rc)
        rc = meru_row_set_string(r, (size_t)vcol + 1, buf, n);
    return rc;
}

static inline meru_schema *space_schema(const space *sp)
{
    meru_schema *s = NULL;
    if (sp->composite)
        meru_schema_parse(&s, "dvc",
                          "k1 string not null, k2 int64 not null, v int64, "
                          "s string",
                          "k1, k2");
    else
        meru_schema_parse(&s, "dv", "id int64 not null, v int64, s string",
                          "id");
    return s;
}

static inline void dv_options(meru_options *o)
{
    tdb_small_options(o);
    o->l0_compaction_trigger = 2;
    o->l0_slowdown_trigger = 8;
    o->l0_stop_trigger = 12;
    o->target_file_bytes = (uint64_t)64 << 10;
    o->l1_target_bytes = (uint64_t)1 << 20;
    o->level_multiplier = 2;
    o->background_threads = 3;
    /* Uncompressed: the level sizes, and so the levels, follow the data. */
    o->compression = MERU_COMPRESSION_NONE;
}

/* --------------------------------------------------------- the workload */

typedef struct wl {
    space sp;
    meru_db *db;
    meru_row *row, *key, *lo, *hi;
    meru_snapshot *snaps[3];
    int nsnaps;
    vstats vs;
    uint64_t puts, dels, compactions;
} wl;

static inline int w_put(wl *w, size_t idx, int big)
{
    int rc = fill(&w->sp, w->row, idx, big);
    if (!rc)
        rc = meru_put(w->db, w->row, NULL);
    w->puts++;
    return rc;
}

static inline int w_del(wl *w, size_t idx)
{
    meru_row_clear(w->key);
    int rc = set_key(&w->sp, w->key, idx);
    if (!rc)
        rc = meru_delete(w->db, w->key, NULL);
    w->dels++;
    return rc;
}

/* A batch over a window of keys: the same key often several times. */
static inline int w_batch(wl *w, size_t n, size_t window, int big)
{
    meru_write_batch *b = NULL;
    size_t base = (size_t)rnd(w->sp.nkeys - window);
    int rc = meru_write_batch_new(&b, meru_db_schema(w->db));
    for (size_t i = 0; i < n && rc == MERU_OK; i++) {
        size_t idx = base + (size_t)rnd(window);
        if (rnd(4)) {
            rc = fill(&w->sp, w->row, idx, big);
            if (!rc)
                rc = meru_write_batch_put(b, w->row);
        } else {
            meru_row_clear(w->key);
            rc = set_key(&w->sp, w->key, idx);
            if (!rc)
                rc = meru_write_batch_delete(b, w->key);
        }
    }
    if (rc == MERU_OK)
        rc = meru_write(w->db, b, NULL);
    meru_write_batch_free(b);
    return rc;
}

static inline int w_compact_range(wl *w)
{
    size_t a = (size_t)rnd(w->sp.nkeys), b = (size_t)rnd(w->sp.nkeys);
    if (a > b) {
        size_t t = a;
        a = b;
        b = t;
    }
    meru_row_clear(w->lo);
    meru_row_clear(w->hi);
    int rc = set_key(&w->sp, w->lo, a);
    if (!rc)
        rc = set_key(&w->sp, w->hi, b);
    if (!rc)
        rc = meru_compact_range(w->db, rnd(4) ? w->lo : NULL,
                                rnd(4) ? w->hi : NULL);
    return rc;
}

#endif
