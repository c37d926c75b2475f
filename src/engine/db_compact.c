/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_compact.c — leveled compaction: picking, the job, manual compaction
 * (SPEC §8).
 *
 * Shape: L0 files overlap (each is one flushed memtable); L1.. hold
 * non-overlapping files sorted by key. Level L >= 1 has a size target:
 * l1_target_bytes * level_multiplier^(L-1).
 *
 * Picking (under mu): L0 scores files / l0_compaction_trigger; L >= 1
 * scores bytes / target. The highest score >= 1 wins. An L0 job takes
 * the oldest L0 files up to max_compaction_bytes plus every L1 file
 * overlapping their key range; an L >= 1
 * job takes one file (the next after the level's last compacted key, round
 * robin) plus the overlapping files of L+1. Files taken are marked
 * `compacting`, so several workers run disjoint jobs at once with no
 * global compaction lock; a job whose files are busy is not picked.
 *
 * The job streams a k-way merge of its inputs through compact_iter (which
 * keeps the newest version per key plus what live snapshots still read,
 * and drops tombstones only when no older data can exist below: no file of
 * a deeper level overlaps the job), writes column-tuned Parquet files cut
 * at target_file_bytes (only between different user keys), fsyncs them and
 * their directory, then commits one catalog version that removes the
 * inputs and adds the outputs. Inputs stay on disk while any view holds
 * them (db_view.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/compact_iter.h"
#include "engine/db_internal.h"
#include "engine/merge.h"
#include "types/keycodec.h"
#include "util/error.h"

typedef struct job {
    int level;     /* input level */
    int out_level; /* level + 1, or level itself (rewriting the bottom) */
    meru_db_file **in;
    size_t nin;
    bool bottommost;
    uint64_t *snaps;
    size_t nsnaps;
} job;

static uint64_t level_target(const meru_db *db, int level)
{
    uint64_t t = db->opts.l1_target_bytes;
    for (int i = 1; i < level; i++)
        t = t > UINT64_MAX / (uint64_t)db->opts.level_multiplier
                ? UINT64_MAX
                : t * (uint64_t)db->opts.level_multiplier;
    return t;
}

static int kcmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    return meru_ikey_cmp(a, al, b, bl);
}

static bool overlaps(const meru_catalog_file *m, const uint8_t *lo, size_t lol,
                     const uint8_t *hi, size_t hil)
{
    return kcmp(m->largest, m->largest_len, lo, lol) >= 0 &&
           kcmp(m->smallest, m->smallest_len, hi, hil) <= 0;
}

static void level_range(meru_db *db, int level, size_t *b, size_t *e)
{
    size_t i = 0;
    while (i < db->nfiles && db->files[i]->meta.level < level)
        i++;
    *b = i;
    while (i < db->nfiles && db->files[i]->meta.level == level)
        i++;
    *e = i;
}

static int add_input(job *j, meru_db_file *f, size_t cap)
{
    if (j->nin == cap)
        return -1;
    j->in[j->nin++] = f;
    return 0;
}

/* Adds the files of `level` overlapping [lo, hi]; false if one is busy. */
static bool add_overlapping(meru_db *db, job *j, int level, const uint8_t *lo,
                            size_t lol, const uint8_t *hi, size_t hil,
                            size_t cap)
{
    size_t b, e;
    level_range(db, level, &b, &e);
    for (size_t i = b; i < e; i++) {
        const meru_catalog_file *m = &db->files[i]->meta;
        if (!overlaps(m, lo, lol, hi, hil))
            continue;
        if (db->files[i]->compacting || add_input(j, db->files[i], cap))
            return false;
    }
    return true;
}

/* The key range of the job's inputs. */
static void job_range(const job *j, const uint8_t **lo, size_t *lol,
                      const uint8_t **hi, size_t *hil)
{
    *lo = *hi = NULL;
    *lol = *hil = 0;
    for (size_t i = 0; i < j->nin; i++) {
        const meru_catalog_file *m = &j->in[i]->meta;
        if (!*lo || kcmp(m->smallest, m->smallest_len, *lo, *lol) < 0)
            *lo = m->smallest, *lol = m->smallest_len;
        if (!*hi || kcmp(m->largest, m->largest_len, *hi, *hil) > 0)
            *hi = m->largest, *hil = m->largest_len;
    }
}

/* A key range for manual compaction; NULL bounds are open. */
typedef struct krange {
    const uint8_t *lo, *hi;
    size_t lol, hil;
} krange;

static bool in_krange(const meru_catalog_file *m, const krange *r)
{
    return (!r->lo || kcmp(m->largest, m->largest_len, r->lo, r->lol) >= 0) &&
           (!r->hi || kcmp(m->smallest, m->smallest_len, r->hi, r->hil) <= 0);
}

#define JOB_READY 1
#define JOB_EMPTY 0    /* the level has no file */
#define JOB_BUSY  (-1) /* a file it needs is in another job */

/* Fills the job for `level` (mu held). `manual` (meru_compact_range):
 * every file of the level that overlaps the range (all of L0: taking only
 * some L0 files could put newer versions below older ones left in L0). */
static int fill_job(meru_db *db, job *j, int level, const krange *manual)
{
    size_t b, e, cap = db->nfiles;
    const uint8_t *lo, *hi;
    size_t lol, hil;
    j->level = level;
    j->out_level = level + 1;
    j->nin = 0;
    level_range(db, level, &b, &e);
    if (b == e)
        return JOB_EMPTY;
    if (level == 0 && !manual) {
        /* The oldest L0 files (the end of the newest-first run) up to
         * max_compaction_bytes: the newer ones left in L0 still shadow
         * what moves below them. */
        uint64_t bytes = 0;
        /* One L0 job at a time: two could write overlapping L1 files. */
        for (size_t i = b; i < e; i++)
            if (db->files[i]->compacting)
                return JOB_BUSY;
        for (size_t i = e; i > b; i--) {
            meru_db_file *f = db->files[i - 1];
            if (j->nin &&
                bytes + f->meta.file_size > db->opts.max_compaction_bytes)
                break;
            if (f->compacting || add_input(j, f, cap))
                return JOB_BUSY;
            bytes += f->meta.file_size;
        }
    } else if (level == 0 || manual) {
        for (size_t i = b; i < e; i++) {
            if (level > 0 && !in_krange(&db->files[i]->meta, manual))
                continue;
            if (db->files[i]->compacting || add_input(j, db->files[i], cap))
                return JOB_BUSY;
        }
        if (j->nin == 0)
            return JOB_EMPTY;
    } else {
        /* Round robin: the first file after the last compacted key. */
        size_t pick = b;
        meru_buf *ptr = &db->compact_ptr[level];
        if (ptr->len) {
            while (pick < e && kcmp(db->files[pick]->meta.smallest,
                                    db->files[pick]->meta.smallest_len,
                                    ptr->data, ptr->len) <= 0)
                pick++;
            if (pick == e)
                pick = b;
        }
        for (size_t tries = 0; tries < e - b; tries++) {
            size_t i = b + (pick - b + tries) % (e - b);
            if (!db->files[i]->compacting) {
                add_input(j, db->files[i], cap);
                break;
            }
        }
        if (j->nin == 0)
            return JOB_BUSY;
    }
    job_range(j, &lo, &lol, &hi, &hil);
    if (!add_overlapping(db, j, level + 1, lo, lol, hi, hil, cap))
        return JOB_BUSY;
    /* Bottommost: nothing deeper overlaps, so no older version of any key
     * in the range can exist below the output. */
    j->bottommost = true;
    for (size_t i = 0; i < db->nfiles && j->bottommost; i++) {
        const meru_catalog_file *m = &db->files[i]->meta;
        if (m->level > level + 1 && overlaps(m, lo, lol, hi, hil))
            j->bottommost = false;
    }
    return JOB_READY;
}

/* Manual compaction's last step: rewrite the files of the deepest level
 * in the range into that level, dropping what no snapshot reads (mu
 * held). */
static int fill_bottom(meru_db *db, job *j, int level, const krange *r)
{
    size_t b, e;
    j->level = j->out_level = level;
    j->nin = 0;
    j->bottommost = true;
    level_range(db, level, &b, &e);
    if (b == e)
        return JOB_EMPTY;
    for (size_t i = b; i < e; i++) {
        if (!in_krange(&db->files[i]->meta, r))
            continue;
        if (db->files[i]->compacting || add_input(j, db->files[i], db->nfiles))
            return JOB_BUSY;
    }
    return j->nin ? JOB_READY : JOB_EMPTY;
}

static void mark(job *j, bool on)
{
    for (size_t i = 0; i < j->nin; i++)
        j->in[i]->compacting = on;
}

/* The deepest level holding a file (mu held). */
static int deepest_level(const meru_db *db)
{
    int deepest = 0;
    for (size_t i = 0; i < db->nfiles; i++)
        if (db->files[i]->meta.level > deepest)
            deepest = db->files[i]->meta.level;
    return deepest;
}

/* How urgently `level` needs compaction (mu held): L0 by file count
 * against the trigger, deeper levels by bytes against their target; due
 * at >= 1. The last catalog level has nowhere to go and scores 0. */
static double level_score(meru_db *db, int level)
{
    if (level + 1 >= MERU_CATALOG_MAX_LEVELS)
        return 0;
    size_t b, e;
    level_range(db, level, &b, &e);
    if (level == 0)
        return (double)(e - b) / (double)db->opts.l0_compaction_trigger;
    uint64_t bytes = 0;
    for (size_t i = b; i < e; i++)
        bytes += db->files[i]->meta.file_size;
    return (double)bytes / (double)level_target(db, level);
}

int meru_db_compactions_pending_locked(meru_db *db)
{
    int n = 0, deepest = deepest_level(db);
    for (int level = 0; level <= deepest; level++)
        n += level_score(db, level) >= 1.0;
    return n;
}

/* Picks the most urgent job (mu held); false when none is due. */
static bool pick_job(meru_db *db, job *j)
{
    double best = 0;
    int best_level = -1;
    int deepest = deepest_level(db);
    for (int level = 0; level <= deepest; level++) {
        double score = level_score(db, level);
        if (score >= 1.0 && score > best) {
            job probe = *j;
            if (fill_job(db, &probe, level, NULL) == JOB_READY) {
                best = score;
                best_level = level;
            }
        }
    }
    if (best_level < 0)
        return false;
    return fill_job(db, j, best_level, NULL) == JOB_READY;
}

/* ------------------------------------------------------------------ job */

typedef struct outputs {
    meru_catalog_file *files;
    size_t n, cap;
} outputs;

static void outputs_free(meru_db *db, outputs *o, bool remove)
{
    for (size_t i = 0; i < o->n; i++) {
        if (remove) {
            char abs[MERU_DB_PATH_MAX];
            if (!meru_path_join(abs, sizeof abs, db->path, o->files[i].path))
                (void)meru_fs_remove(db->fs, abs);
        }
        meru_catalog_file_clear(&o->files[i]);
    }
    free(o->files);
    memset(o, 0, sizeof *o);
}

/* "<table>/data/L<level>" */
static int level_dir(const meru_db *db, int level, char *out, size_t cap)
{
    char rel[32];
    snprintf(rel, sizeof rel, "data/L%d", level);
    return meru_path_join(out, cap, db->path, rel);
}

static int open_output(meru_db *db, int level, meru_sst_writer **w, char *rel,
                       size_t relcap)
{
    char uuid[MERU_UUID_TEXT], abs[MERU_DB_PATH_MAX], dir[MERU_DB_PATH_MAX];
    meru_sst_options so;
    int rc;
    if ((rc = meru_catalog_new_uuid(uuid)))
        return rc;
    snprintf(rel, relcap, "data/L%d/%s.parquet", level, uuid);
    if ((rc = level_dir(db, level, dir, sizeof dir)) ||
        (rc = meru_fs_mkdir_p(db->fs, dir)) ||
        (rc = meru_path_join(abs, sizeof abs, db->path, rel)))
        return rc;
    meru_sst_options_for_level(&so, level, &db->opts);
    /* The current schema: at least as new as any input's (file entries
     * keep the schema current when they were made), so no column of an
     * input is dropped; a column an input lacks is written as its initial
     * default, which is what reading it gives. */
    return meru_sst_writer_open(w, db->fs, abs, meru_db_cur_schema(db), &so);
}

static int close_output(meru_db *db, int level, meru_sst_writer *w,
                        const char *rel, outputs *o)
{
    meru_sst_meta meta;
    meru_catalog_file *f;
    int rc;
    memset(&meta, 0, sizeof meta);
    if ((rc = meru_sst_writer_finish(w, &meta)))
        return rc;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4;
        meru_catalog_file *p = realloc(o->files, cap * sizeof *p);
        if (!p) {
            meru_sst_meta_free(&meta);
            return meru_err(MERU_ENOMEM, "out of memory (compaction)");
        }
        o->files = p;
        o->cap = cap;
    }
    f = &o->files[o->n];
    memset(f, 0, sizeof *f);
    f->level = level;
    f->path = strdup(rel);
    f->file_size = meta.file_size;
    f->row_count = meta.row_count;
    f->min_seq = meta.min_seq;
    f->max_seq = meta.max_seq;
    f->smallest = meru_buf_detach(&meta.smallest, &f->smallest_len);
    f->largest = meru_buf_detach(&meta.largest, &f->largest_len);
    meru_sst_meta_free(&meta);
    o->n++;
    if (!f->path || !f->smallest || !f->largest)
        return meru_err(MERU_ENOMEM, "out of memory (compaction)");
    return MERU_OK;
}

static int merged_inputs(meru_db *db, job *j, meru_iiter **out)
{
    meru_iiter **kids = calloc(j->nin ? j->nin : 1, sizeof *kids);
    size_t n = 0;
    int rc = MERU_OK;
    (void)db;
    if (!kids)
        return meru_err(MERU_ENOMEM, "out of memory (compaction)");
    for (size_t i = 0; i < j->nin && rc == MERU_OK; i++) {
        meru_sst *t;
        if ((rc = meru_db_file_sst(j->in[i], &t)) == MERU_OK &&
            (rc = meru_sst_iter_new(t, NULL, &kids[n])) == MERU_OK)
            n++;
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            meru_iiter_destroy(kids[i]);
        free(kids);
        return rc;
    }
    rc = meru_merge_iter_new(kids, n, out);
    free(kids);
    return rc;
}

/* Streams the merge into output files of the next level. */
static int write_outputs(meru_db *db, job *j, outputs *o)
{
    meru_iiter *merged = NULL;
    meru_compact_iter *ci = NULL;
    meru_sst_writer *w = NULL;
    meru_buf last_user = {0};
    char rel[128];
    int out_level = j->out_level;
    int rc;

    if ((rc = merged_inputs(db, j, &merged)))
        return rc;
    if ((rc = meru_compact_iter_new(merged, j->snaps, j->nsnaps, j->bottommost,
                                    &ci)))
        return rc;
    for (;;) {
        const uint8_t *ikey, *val;
        size_t ilen, vlen, ulen;
        uint64_t seq;
        int op;
        rc = meru_compact_iter_next(ci, &ikey, &ilen, &val, &vlen);
        if (rc == MERU_NOT_FOUND) {
            rc = MERU_OK;
            break;
        }
        if (rc)
            break;
        if ((rc = meru_ikey_parse(ikey, ilen, &ulen, &seq, &op)))
            break;
        /* Cut only between user keys, so a key's versions stay together
         * and level files never overlap. */
        if (w && meru_sst_writer_bytes(w) >= db->opts.target_file_bytes &&
            kcmp(ikey, ulen, last_user.data, last_user.len) != 0) {
            rc = close_output(db, out_level, w, rel, o);
            w = NULL;
            if (rc)
                break;
        }
        if (!w && (rc = open_output(db, out_level, &w, rel, sizeof rel)))
            break;
        if ((rc = meru_sst_writer_add(w, ikey, ilen, val, vlen)))
            break;
        last_user.len = 0;
        if (meru_buf_append(&last_user, ikey, ulen)) {
            rc = meru_err(MERU_ENOMEM, "out of memory (compaction)");
            break;
        }
    }
    if (rc == MERU_OK && w) {
        rc = close_output(db, out_level, w, rel, o);
        w = NULL;
    }
    meru_sst_writer_abort(w);
    meru_compact_iter_free(ci);
    meru_buf_free(&last_user);
    if (rc == MERU_OK && o->n) {
        char dir[MERU_DB_PATH_MAX];
        if ((rc = level_dir(db, out_level, dir, sizeof dir)) == MERU_OK)
            rc = meru_fs_sync_dir(db->fs, dir);
    }
    return rc;
}

static int commit_job(meru_db *db, job *j, outputs *o)
{
    meru_catalog_edit *e = NULL;
    int rc;
    pthread_mutex_lock(&db->cat_mu);
    rc = meru_catalog_edit_new(db->cat, &e);
    for (size_t i = 0; rc == MERU_OK && i < j->nin; i++)
        rc = meru_catalog_edit_remove_file(e, j->in[i]->meta.path);
    for (size_t i = 0; rc == MERU_OK && i < o->n; i++)
        rc = meru_catalog_edit_add_file(e, &o->files[i]);
    if (rc == MERU_OK)
        rc = meru_catalog_edit_set_operation(e, "replace");
    if (rc == MERU_OK)
        rc = meru_catalog_commit(db->cat, e);
    pthread_mutex_unlock(&db->cat_mu);
    meru_catalog_edit_free(e);
    return rc;
}

static void unmark(meru_db *db, void *arg)
{
    (void)db;
    mark(arg, false);
}

/* Runs a picked job (its inputs are marked; each holds a reference). */
static int run_job(meru_db *db, job *j)
{
    outputs o = {0};
    uint64_t read = 0, written = 0;
    int rc;
    const meru_catalog_file *last = NULL;

    atomic_fetch_add_explicit(&db->st_compacting, 1, memory_order_relaxed);
    rc = write_outputs(db, j, &o);
    if (rc == MERU_OK)
        rc = commit_job(db, j, &o);
    atomic_fetch_sub_explicit(&db->st_compacting, 1, memory_order_relaxed);
    if (rc) {
        outputs_free(db, &o, true);
        pthread_mutex_lock(&db->mu);
        mark(j, false);
        pthread_mutex_unlock(&db->mu);
        return meru_err_wrap(rc, "compaction L%d", j->level);
    }
    for (size_t i = 0; i < j->nin; i++) {
        read += j->in[i]->meta.file_size;
        if (j->in[i]->meta.level == j->level)
            last = &j->in[i]->meta;
    }
    for (size_t i = 0; i < o.n; i++)
        written += o.files[i].file_size;
    pthread_mutex_lock(&db->mu);
    if (last && j->level > 0) {
        meru_buf *ptr = &db->compact_ptr[j->level];
        ptr->len = 0;
        (void)meru_buf_append(ptr, last->largest, last->largest_len);
    }
    pthread_mutex_unlock(&db->mu);
    outputs_free(db, &o, false);
    atomic_fetch_add_explicit(&db->st_compactions, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_compact_read, read, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_compact_written, written,
                              memory_order_relaxed);
    return meru_db_publish(db, unmark, j);
}

/* Takes references on the inputs and a copy of the snapshot list (mu). */
static int job_prepare_locked(meru_db *db, job *j)
{
    size_t n = 0;
    for (meru_snapshot *s = db->snapshots; s; s = s->next)
        n++;
    j->snaps = calloc(n ? n : 1, sizeof *j->snaps);
    if (!j->snaps)
        return meru_err(MERU_ENOMEM, "out of memory (compaction)");
    for (meru_snapshot *s = db->snapshots; s; s = s->next)
        j->snaps[j->nsnaps++] = s->seq;
    /* Oldest first, as compact_iter wants them sorted ascending. */
    for (size_t a = 1; a < j->nsnaps; a++)
        for (size_t b = a; b > 0 && j->snaps[b - 1] > j->snaps[b]; b--) {
            uint64_t t = j->snaps[b];
            j->snaps[b] = j->snaps[b - 1];
            j->snaps[b - 1] = t;
        }
    for (size_t i = 0; i < j->nin; i++)
        meru_db_file_ref(j->in[i]);
    mark(j, true);
    return MERU_OK;
}

static void job_release(job *j)
{
    for (size_t i = 0; i < j->nin; i++)
        meru_db_file_unref(j->in[i]);
    free(j->in);
    free(j->snaps);
    memset(j, 0, sizeof *j);
}

int meru_db_compact_step(meru_db *db, bool *did)
{
    job j;
    int rc;
    memset(&j, 0, sizeof j);
    *did = false;
    pthread_mutex_lock(&db->mu);
    if (db->stop || db->bg_error || db->read_only) {
        pthread_mutex_unlock(&db->mu);
        return MERU_OK;
    }
    j.in = calloc(db->nfiles ? db->nfiles : 1, sizeof *j.in);
    if (!j.in) {
        pthread_mutex_unlock(&db->mu);
        return meru_err(MERU_ENOMEM, "out of memory (compaction)");
    }
    if (!pick_job(db, &j)) {
        pthread_mutex_unlock(&db->mu);
        free(j.in);
        return MERU_OK;
    }
    rc = job_prepare_locked(db, &j);
    pthread_mutex_unlock(&db->mu);
    if (rc) {
        job_release(&j);
        return rc;
    }
    *did = true;
    rc = run_job(db, &j);
    job_release(&j);
    return rc;
}

/* --------------------------------------------------------------- manual */

static int compact_range(meru_db *db, const krange *r);

int meru_compact(meru_db *db)
{
    return meru_compact_range(db, NULL, NULL);
}

int meru_compact_range(meru_db *db, const meru_row *lower,
                       const meru_row *upper)
{
    meru_buf lo = {0}, hi = {0};
    krange r = {NULL, NULL, 0, 0};
    bool full;
    int rc;
    if (!db)
        return meru_err(MERU_EINVAL, "meru_compact: NULL handle");
    if (db->read_only)
        return meru_err(MERU_EREADONLY, "meru_compact: the table is open "
                                        "read-only");
    if (lower) {
        if ((rc = meru_db_bound_key(db, lower, "compaction lower bound", &lo,
                                    &full)))
            return rc;
        r.lo = lo.data;
        r.lol = lo.len;
    }
    if (upper) {
        if ((rc = meru_db_bound_key(db, upper, "compaction upper bound", &hi,
                                    &full))) {
            meru_buf_free(&lo);
            return rc;
        }
        /* A partial key stands for every key with that prefix: go up to
         * its successor (none: no upper bound). */
        rc = full ? MERU_OK : meru_key_prefix_successor(&hi);
        if (rc == MERU_OK) {
            r.hi = hi.data;
            r.hil = hi.len;
        } else if (rc != MERU_NOT_FOUND) {
            meru_buf_free(&lo);
            meru_buf_free(&hi);
            return rc;
        }
    }
    rc = compact_range(db, &r);
    meru_buf_free(&lo);
    meru_buf_free(&hi);
    return rc;
}

static int compact_range(meru_db *db, const krange *r)
{
    int rc, deepest = 1;
    if ((rc = meru_flush(db)))
        return rc;
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->nfiles; i++)
        if (db->files[i]->meta.level > deepest)
            deepest = db->files[i]->meta.level;
    pthread_mutex_unlock(&db->mu);
    /* Push every level down into the deepest one in use (at least L1),
     * then rewrite that one in place. */
    for (int level = 0; level <= deepest; level++) {
        job j;
        int state = JOB_BUSY;
        memset(&j, 0, sizeof j);
        pthread_mutex_lock(&db->mu);
        for (;;) {
            if (db->bg_error || db->closed)
                break;
            free(j.in);
            j.nin = 0;
            if (!(j.in = calloc(db->nfiles ? db->nfiles : 1, sizeof *j.in)))
                break;
            state = level < deepest ? fill_job(db, &j, level, r)
                                    : fill_bottom(db, &j, level, r);
            if (state != JOB_BUSY)
                break;
            /* A background job holds some of these files: wait for it. */
            pthread_cond_wait(&db->cv_done, &db->mu);
        }
        if (db->bg_error || db->closed || !j.in) {
            rc = db->bg_error ? meru_db_bg_error_locked(db)
                 : db->closed ? meru_err(MERU_ECLOSED, "the table is closed")
                              : meru_err(MERU_ENOMEM, "out of memory");
            pthread_mutex_unlock(&db->mu);
            free(j.in);
            return rc;
        }
        if (state == JOB_EMPTY) {
            pthread_mutex_unlock(&db->mu);
            free(j.in);
            continue;
        }
        rc = job_prepare_locked(db, &j);
        pthread_mutex_unlock(&db->mu);
        if (rc == MERU_OK)
            rc = run_job(db, &j);
        job_release(&j);
        if (rc)
            return rc;
    }
    return MERU_OK;
}
