/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_compact.c — leveled compaction: the job and manual compaction
 * (SPEC §8). Which files a job takes is db_compact_pick.c's part.
 *
 * The job streams a k-way merge of its inputs through compact_iter (which
 * keeps the newest version per key plus what live snapshots still read,
 * and drops tombstones only when no older data can exist below: no file of
 * a deeper level overlaps the job), writes column-tuned Parquet files cut
 * at target_file_bytes (only between different user keys), fsyncs them and
 * their directory, then commits one catalog version that removes the
 * inputs and adds the outputs, and publishes it before releasing cat_mu.
 * Inputs stay on disk while any view holds them (db_view.c).
 *
 * The Iceberg view (iceberg_view continuous, db_lookup.h): each output
 * gets its deletion vector while it is written. An output row is hidden
 * iff it is not its user key's first row in the output, or it is a
 * delete, or the input row it came from was hidden in its input's vector
 * as captured when the job started (the merge names the input, the SST
 * iterator the row): that last rule carries over "superseded by a newer
 * file outside this job". Flushes may commit while the job runs and hide
 * more input rows (their lookups see the inputs, still in the table); at
 * commit, under cat_mu, the positions added since the capture are read
 * back as keys and hidden at those keys' first rows in the outputs
 * (reconcile). Removed inputs lose their vectors in the catalog.
 *
 * A trivial move (db_compact_pick.c, can_move) writes nothing: one commit
 * gives its file the next level (commit_move).
 *
 * A manual compaction's last step rewrites the bottom level in place, but
 * only files a rewrite would change (something to drop, found by walking
 * their keys through the compaction iterator): a compacted table is left
 * as it is (run_bottom).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/compact_iter.h"
#include "engine/db_compact.h"
#include "engine/db_internal.h"
#include "engine/db_lookup.h"
#include "engine/merge.h"
#include "types/keycodec.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"

/* ------------------------------------------------------------------ job */

typedef struct outputs {
    meru_catalog_file *files;
    meru_dv **dv; /* per file (the continuous view), else NULL */
    size_t n, cap;
} outputs;

static void outputs_free(meru_db *db, outputs *o, bool remove)
{
    meru_err_saved e;
    meru_err_save(&e); /* the job's failure, not the cleanup's */
    for (size_t i = 0; i < o->n; i++) {
        /* A path whose copy failed (close_output out of memory) names
         * nothing to remove: that file is an orphan the next open sweeps. */
        if (remove && o->files[i].path) {
            char abs[MERU_DB_PATH_MAX];
            if (!meru_path_join(abs, sizeof abs, db->path, o->files[i].path))
                (void)meru_fs_remove(db->fs, abs);
        }
        meru_catalog_file_clear(&o->files[i]);
        meru_dv_free(o->dv[i]);
    }
    free(o->files);
    free(o->dv);
    memset(o, 0, sizeof *o);
    meru_err_restore(&e);
}

/* "<table>/data/L<level>" */
static int level_dir(const meru_db *db, int level, char *out, size_t cap)
{
    char rel[32];
    snprintf(rel, sizeof rel, "data/L%d", level);
    return meru_path_join(out, cap, db->path, rel);
}

static int open_output(meru_db *db, const meru_options *o, int level,
                       meru_sst_writer **w, char *rel, size_t relcap)
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
    meru_sst_options_for_level(&so, level, o);
    /* The current schema: at least as new as any input's (file entries
     * keep the schema current when they were made), so no column of an
     * input is dropped; a column an input lacks is written as its initial
     * default, which is what reading it gives. */
    return meru_sst_writer_open(w, db->fs, abs, meru_db_cur_schema(db), &so);
}

/* Finishes output w and appends it, with its deletion vector *dv (taken
 * over; *dv becomes NULL), to o. */
static int close_output(meru_db *db, int level, meru_sst_writer *w,
                        const char *rel, outputs *o, meru_dv **dv)
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
        if (p)
            o->files = p;
        meru_dv **d = p ? realloc(o->dv, cap * sizeof *d) : NULL;
        if (!p || !d) {
            meru_sst_meta_free(&meta);
            /* The finished file stays an orphan the next open sweeps. */
            return meru_err(MERU_ENOMEM, "out of memory (compaction)");
        }
        o->dv = d;
        o->cap = cap;
    }
    f = &o->files[o->n];
    memset(f, 0, sizeof *f);
    o->dv[o->n] = *dv;
    *dv = NULL;
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

/* The merge of the inputs' SST iterators (child i reads j->in[i]);
 * *kids (the caller frees the array) keeps borrowed pointers to the
 * children, which the merge owns. */
static int merged_inputs(compact_job *j, meru_iiter **out,
                         meru_iiter ***kids_out)
{
    meru_iiter **kids = calloc(j->nin ? j->nin : 1, sizeof *kids);
    size_t n = 0;
    int rc = MERU_OK;
    *kids_out = NULL;
    if (!kids)
        return meru_err(MERU_ENOMEM, "out of memory (compaction)");
    for (size_t i = 0; i < j->nin && rc == MERU_OK; i++) {
        meru_sst *t;
        if ((rc = meru_db_file_sst(j->in[i], &t)) == MERU_OK &&
            (rc = meru_sst_iter_new_ex(t, NULL, MERU_SST_NO_READAHEAD,
                                       &kids[n])) == MERU_OK)
            n++;
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            meru_iiter_destroy(kids[i]);
        free(kids);
        return rc;
    }
    if ((rc = meru_merge_iter_new(kids, n, out))) {
        free(kids);
        return rc;
    }
    *kids_out = kids;
    return MERU_OK;
}

/* Whether the output row about to be written (internal key ikey, from
 * the merged iterator's current entry) is hidden in the Iceberg view: it
 * is not its user key's first row in the output, or it is a delete, or
 * its input row was hidden in its input's vector (superseded by a newer
 * file outside the job: that is how the hiding carries over). */
static bool output_hidden(const compact_job *j, meru_iiter *merged,
                          meru_iiter **kids, bool first, int op)
{
    if (!first || op == MERU_OP_DELETE)
        return true;
    size_t c = meru_merge_iter_current(merged);
    return j->in_dv[c] &&
           meru_dv_contains(j->in_dv[c], meru_sst_iter_pos(kids[c]));
}

/* Output rows between two releases of the inputs' mapped pages: a few MiB
 * of input, so a compaction's file-backed RSS stays about that window
 * instead of growing to the size of its inputs (each re-touch after a
 * release is a minor fault on a page the page cache still holds). */
#define RELEASE_EVERY_ROWS 32768u

/* The inputs are read front to back, once: what the merge has consumed
 * will not be read again by this job, so their maps' pages leave the RSS
 * (the few pages being decoded now fault back in). Gets that share the
 * maps fault in what they touch, as after a reopen. */
static void release_inputs(const compact_job *j)
{
    for (size_t i = 0; i < j->nin; i++) {
        meru_sst *t;
        if (meru_db_file_sst(j->in[i], &t) == MERU_OK)
            meru_sst_release_pages(t);
    }
}

/* Streams the merge into output files of the next level (with the
 * continuous view, each with its deletion vector). */
static int write_outputs(meru_db *db, compact_job *j, outputs *o)
{
    meru_iiter *merged = NULL, **kids = NULL;
    meru_compact_iter *ci = NULL;
    meru_sst_writer *w = NULL;
    meru_dv *dv = NULL; /* of the output being written */
    meru_buf last_user = {0};
    bool have_last = false;
    char rel[128];
    int out_level = j->out_level;
    uint32_t since_release = 0;
    int rc;
    meru_options opts; /* shaping fields may change: one copy a job */
    meru_db_options_copy(db, &opts);

    if ((rc = merged_inputs(j, &merged, &kids)))
        return rc;
    if ((rc = meru_compact_iter_new(merged, j->snaps, j->nsnaps, j->bottommost,
                                    &ci))) {
        free(kids);
        return rc;
    }
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
        bool first = !have_last || meru_ikey_cmp(ikey, ulen, last_user.data,
                                                 last_user.len) != 0;
        /* Cut only between user keys, so a key's versions stay together
         * and level files never overlap. */
        if (w && meru_sst_writer_bytes(w) >= opts.target_file_bytes && first) {
            rc = close_output(db, out_level, w, rel, o, &dv);
            w = NULL;
            if (rc)
                break;
        }
        if (!w && (rc = open_output(db, &opts, out_level, &w, rel, sizeof rel)))
            break;
        if (j->view && !dv && (rc = meru_dv_new(&dv)))
            break;
        if (j->view && output_hidden(j, merged, kids, first, op) &&
            (rc = meru_dv_add(dv, meru_sst_writer_rows(w))))
            break;
        if ((rc = meru_sst_writer_add(w, ikey, ilen, val, vlen)))
            break;
        if (++since_release == RELEASE_EVERY_ROWS) {
            since_release = 0;
            release_inputs(j);
        }
        have_last = true;
        last_user.len = 0;
        if (meru_buf_append(&last_user, ikey, ulen)) {
            rc = meru_err(MERU_ENOMEM, "out of memory (compaction)");
            break;
        }
    }
    if (rc == MERU_OK && w) {
        rc = close_output(db, out_level, w, rel, o, &dv);
        w = NULL;
    }
    meru_sst_writer_abort(w);
    meru_compact_iter_free(ci);
    free(kids);
    meru_dv_free(dv);
    meru_buf_free(&last_user);
    if (rc == MERU_OK && o->n) {
        char dir[MERU_DB_PATH_MAX];
        if ((rc = level_dir(db, out_level, dir, sizeof dir)) == MERU_OK)
            rc = meru_fs_sync_dir(db->fs, dir);
    }
    return rc;
}

/* ---------------------------------------------------- the Iceberg view */

/* Captures the inputs' current vectors into j->in_dv (cat_mu: a flush
 * may be changing them). */
static int capture_dvs(meru_db *db, compact_job *j)
{
    int rc = MERU_OK;
    j->in_dv = calloc(j->nin ? j->nin : 1, sizeof *j->in_dv);
    if (!j->in_dv)
        return meru_err(MERU_ENOMEM, "out of memory (compaction)");
    pthread_mutex_lock(&db->cat_mu);
    for (size_t i = 0; i < j->nin && rc == MERU_OK; i++)
        rc = meru_catalog_file_dv(db->cat, j->in[i]->meta.path, &j->in_dv[i]);
    pthread_mutex_unlock(&db->cat_mu);
    return rc;
}

/* ------------------------------------------------------------- commit */

typedef struct job_done {
    compact_job *j;
    const meru_catalog_file *last; /* input of j->level compacted last */
    uint64_t read, written;        /* bytes */
} job_done;

/* Under mu, with the view that shows the outputs: count the job, release
 * its inputs (in one critical section with that view) and move the
 * level's round-robin pointer. */
static void finish_job(meru_db *db, void *arg)
{
    job_done *d = arg;
    atomic_fetch_add_explicit(d->j->move ? &db->st_compact_moves
                                         : &db->st_compactions,
                              1, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_compact_read, d->read,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_compact_written, d->written,
                              memory_order_relaxed);
    compact_mark(db, d->j, false);
    d->j->unmarked = true;
    if (d->last && d->j->level > 0) {
        meru_buf *ptr = &db->compact_ptr[d->j->level];
        ptr->len = 0;
        (void)meru_buf_append(ptr, d->last->largest, d->last->largest_len);
    }
}

/* One commit replacing the inputs by the outputs (and their vectors),
 * published before cat_mu is released. *committed tells a failed publish
 * (outputs in the table) from a failed commit. */
static int commit_job(meru_db *db, compact_job *j, outputs *o, bool *committed)
{
    meru_catalog_edit *e = NULL;
    job_done d = {j, NULL, 0, 0};
    int rc;
    *committed = false;
    for (size_t i = 0; i < j->nin; i++) {
        d.read += j->in[i]->meta.file_size;
        if (j->in[i]->meta.level == j->level)
            d.last = &j->in[i]->meta;
    }
    for (size_t i = 0; i < o->n; i++)
        d.written += o->files[i].file_size;
    pthread_mutex_lock(&db->cat_mu);
    rc = j->view ? meru_db_reconcile_dvs(db, j->in, j->in_dv, j->nin, o->files,
                                         o->dv, o->n)
                 : MERU_OK;
    if (rc == MERU_OK)
        rc = meru_catalog_edit_new(db->cat, &e);
    for (size_t i = 0; rc == MERU_OK && i < j->nin; i++)
        rc = meru_catalog_edit_remove_file(e, j->in[i]->meta.path);
    for (size_t i = 0; rc == MERU_OK && i < o->n; i++) {
        rc = meru_catalog_edit_add_file(e, &o->files[i]);
        if (rc == MERU_OK && o->dv[i] && !meru_dv_is_empty(o->dv[i]))
            rc = meru_catalog_edit_set_dv(e, o->files[i].path, o->dv[i]);
    }
    if (rc == MERU_OK)
        rc = meru_catalog_edit_set_operation(e, "replace");
    if (rc == MERU_OK)
        rc = meru_catalog_commit(db->cat, e);
    meru_catalog_edit_free(e);
    /* A commit that failed while writing its version may be on disk and
     * list the outputs: they count as committed then (kept; the next open
     * sweeps them if that version is not there). */
    if (rc && meru_catalog_failed(db->cat))
        *committed = true;
    if (rc == MERU_OK) {
        *committed = true;
        rc = meru_db_publish_locked(db, finish_job, &d);
    }
    pthread_mutex_unlock(&db->cat_mu);
    return rc;
}

/* A trivial move's commit: the job's one input changes level, keeping
 * its path and deletion vector (the Iceberg view does not change, so no
 * snapshot is written), published before cat_mu is released. */
static int commit_move(meru_db *db, compact_job *j)
{
    meru_catalog_edit *e = NULL;
    job_done d = {j, &j->in[0]->meta, 0, 0};
    pthread_mutex_lock(&db->cat_mu);
    int rc = meru_catalog_edit_new(db->cat, &e);
    if (rc == MERU_OK)
        rc = meru_catalog_edit_move_file(e, j->in[0]->meta.path, j->out_level);
    if (rc == MERU_OK)
        rc = meru_catalog_commit(db->cat, e);
    meru_catalog_edit_free(e);
    if (rc == MERU_OK)
        rc = meru_db_publish_locked(db, finish_job, &d);
    pthread_mutex_unlock(&db->cat_mu);
    return rc;
}

/* Releases the inputs of a job that failed, or whose publish failed
 * before its edit ran. */
static void unmark_if_needed(meru_db *db, compact_job *j)
{
    pthread_mutex_lock(&db->mu);
    if (!j->unmarked) {
        compact_mark(db, j, false);
        j->unmarked = true;
    }
    pthread_mutex_unlock(&db->mu);
}

/* A job leaves the running count (under mu) only after job_release has
 * dropped its references on its inputs and the old view that listed them
 * is gone, so the inputs are deleted or queued for deletion
 * (gc_pending_files) by then: the stats never show "nothing running,
 * nothing due, nothing to delete" while a job's result is on its way. */
static void job_finished(meru_db *db)
{
    pthread_mutex_lock(&db->mu);
    atomic_fetch_sub_explicit(&db->st_compacting, 1, memory_order_relaxed);
    pthread_mutex_unlock(&db->mu);
}

/* Runs a picked job (its inputs are marked; each holds a reference). */
static int run_job(meru_db *db, compact_job *j)
{
    outputs o = {0};
    bool committed = false;
    int rc = MERU_OK;

    if (j->move) {
        if (db->test_before_compaction_commit)
            db->test_before_compaction_commit(db, db->test_arg);
        rc = commit_move(db, j);
        unmark_if_needed(db, j);
        return rc ? meru_err_wrap(rc, "move of an L%d file", j->level)
                  : MERU_OK;
    }
    j->view = db->opts.iceberg_view == MERU_ICEBERG_VIEW_CONTINUOUS;
    if (j->view)
        rc = capture_dvs(db, j);
    if (rc == MERU_OK)
        rc = write_outputs(db, j, &o);
    if (rc == MERU_OK && db->test_before_compaction_commit)
        db->test_before_compaction_commit(db, db->test_arg);
    if (rc == MERU_OK)
        rc = commit_job(db, j, &o, &committed);
    /* Committed outputs (maybe committed ones too) are the table's now (a
     * failed publish is the sticky background error); others are removed. */
    outputs_free(db, &o, !committed);
    unmark_if_needed(db, j);
    return rc ? meru_err_wrap(rc, "compaction L%d", j->level) : MERU_OK;
}

/* Takes references on the inputs and a copy of the snapshot list, and
 * marks the inputs taken (mu). The references come first: on an error the
 * caller's job_release drops them. */
static int job_prepare_locked(meru_db *db, compact_job *j)
{
    for (size_t i = 0; i < j->nin; i++)
        meru_db_file_ref(j->in[i]);
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
    int rc = compact_mark(db, j, true);
    if (rc)
        return rc;
    /* Counted as running from the moment its inputs are taken (mu). */
    atomic_fetch_add_explicit(&db->st_compacting, 1, memory_order_relaxed);
    return MERU_OK;
}

static void job_release(compact_job *j)
{
    for (size_t i = 0; i < j->nin; i++) {
        meru_db_file_unref(j->in[i]);
        if (j->in_dv)
            meru_dv_free(j->in_dv[i]);
    }
    free(j->in);
    free(j->in_dv);
    free(j->snaps);
    memset(j, 0, sizeof *j);
}

int meru_db_compact_step(meru_db *db, bool *did)
{
    compact_job j;
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
    if (!compact_pick_job(db, &j)) {
        uint64_t wake;
        bool settle =
            meru_db_settle_due_locked(db, meru_clock_ns() / 1000000u, &wake);
        if (!settle || !compact_pick_settle_job(db, &j)) {
            pthread_mutex_unlock(&db->mu);
            free(j.in);
            return MERU_OK;
        }
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
    job_finished(db);
    /* The job's buffers are free now: give their pages back (util/mem.h),
     * or they stay resident in malloc's heaps. */
    meru_mem_trim();
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

/* Whether rewriting bottom-level input i of j on its own would drop
 * anything (a version no snapshot reads, a tombstone): the compaction
 * iterator walked over the file's internal keys alone. */
static int bottom_droppable(const compact_job *j, size_t i, bool *drop)
{
    meru_sst *t;
    meru_iiter *it = NULL;
    meru_compact_iter *ci = NULL;
    meru_compact_stats st;
    meru_colset none;
    const uint8_t *k;
    size_t kl;
    int rc;
    memset(&none, 0, sizeof none);
    *drop = true;
    if ((rc = meru_db_file_sst(j->in[i], &t)) ||
        (rc = meru_sst_iter_new_ex(t, &none, MERU_SST_NO_READAHEAD, &it)) ||
        (rc = meru_compact_iter_new(it, j->snaps, j->nsnaps, j->bottommost,
                                    &ci)))
        return rc;
    while ((rc = meru_compact_iter_next_key(ci, &k, &kl)) == MERU_OK)
        ;
    meru_compact_iter_stats(ci, &st);
    meru_compact_iter_free(ci);
    meru_sst_release_pages(t); /* its key column: read once, for this */
    if (rc != MERU_NOT_FOUND)
        return rc;
    *drop = st.output != st.input;
    return MERU_OK;
}

/*
 * The last step of a manual compaction: rewrite the bottom level's files
 * in the range into that level, but only those with something to drop.
 * A file holding one version of each key and no tombstone (or only
 * versions live snapshots still read) would come out identical: it stays
 * (issue 10: a compaction with nothing to merge rewrites nothing). Each
 * run of consecutive files to rewrite is one job, so outputs stay within
 * the run's key range and never overlap a file left in place. j's inputs
 * are marked and referenced; all are unmarked at the end.
 */
static int run_bottom(meru_db *db, compact_job *j)
{
    bool *drop = calloc(j->nin ? j->nin : 1, sizeof *drop);
    int rc = drop ? MERU_OK : meru_err(MERU_ENOMEM, "out of memory");
    for (size_t i = 0; rc == MERU_OK && i < j->nin; i++)
        rc = bottom_droppable(j, i, &drop[i]);
    for (size_t i = 0; rc == MERU_OK && i < j->nin;) {
        size_t e = i;
        compact_job sub;
        if (!drop[i]) {
            i++;
            continue;
        }
        while (e < j->nin && drop[e])
            e++;
        memset(&sub, 0, sizeof sub);
        sub.level = j->level;
        sub.out_level = j->out_level;
        sub.bottommost = j->bottommost;
        sub.in = malloc((e - i) * sizeof *sub.in);
        sub.snaps = malloc((j->nsnaps ? j->nsnaps : 1) * sizeof *sub.snaps);
        if (!sub.in || !sub.snaps) {
            free(sub.in);
            free(sub.snaps);
            rc = meru_err(MERU_ENOMEM, "out of memory (compaction)");
            break;
        }
        for (size_t k = i; k < e; k++) {
            meru_db_file_ref(j->in[k]);
            sub.in[sub.nin++] = j->in[k];
        }
        if (j->nsnaps)
            memcpy(sub.snaps, j->snaps, j->nsnaps * sizeof *sub.snaps);
        sub.nsnaps = j->nsnaps;
        /* Running from here (as job_prepare_locked counts a job). */
        pthread_mutex_lock(&db->mu);
        atomic_fetch_add_explicit(&db->st_compacting, 1, memory_order_relaxed);
        pthread_mutex_unlock(&db->mu);
        rc = run_job(db, &sub);
        job_release(&sub);
        job_finished(db);
        i = e;
    }
    /* Files rewritten have left the table: their mark no longer matters. */
    pthread_mutex_lock(&db->mu);
    compact_mark(db, j, false);
    j->unmarked = true;
    pthread_cond_broadcast(&db->cv_done);
    pthread_mutex_unlock(&db->mu);
    free(drop);
    return rc;
}

/* compact_range's work, with trivial moves held off (manual_compactions)
 * while it runs. */
static int compact_range_run(meru_db *db, const krange *r);

static int compact_range(meru_db *db, const krange *r)
{
    pthread_mutex_lock(&db->mu);
    db->manual_compactions++;
    pthread_mutex_unlock(&db->mu);
    int rc = compact_range_run(db, r);
    pthread_mutex_lock(&db->mu);
    db->manual_compactions--;
    pthread_mutex_unlock(&db->mu);
    return rc;
}

static int compact_range_run(meru_db *db, const krange *r)
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
        compact_job j;
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
            state = level < deepest ? compact_fill_job(db, &j, level, r)
                                    : compact_fill_bottom(db, &j, level, r);
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
        bool prepared = rc == MERU_OK;
        if (prepared)
            rc = level < deepest ? run_job(db, &j) : run_bottom(db, &j);
        job_release(&j);
        if (prepared)
            job_finished(db);
        if (rc) {
            /* as for a background job: a compaction that failed (an I/O
             * error, damage met in an input) stops writes */
            if (rc != MERU_ECLOSED) {
                pthread_mutex_lock(&db->mu);
                meru_db_set_bg_error_locked(db, rc);
                pthread_mutex_unlock(&db->mu);
            }
            return rc;
        }
    }
    return MERU_OK;
}
