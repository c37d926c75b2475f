/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_flush.c — background workers and the flush job (SPEC §5, §8).
 *
 * Workers wait on cv_work under mu for a predicate (an immutable memtable
 * to flush, a compaction to run, a file whose grace period passed, change
 * history to expire, or stop) checked in a loop, and whoever changes one of those sets it under
 * the same mutex before signalling: no wake-up can be lost between the
 * check and the wait (the bug of the seed design). meru_db_stop_workers
 * sets `stop` under mu, broadcasts, and joins every thread.
 *
 * Flush: the oldest immutable memtable becomes one L0 Parquet file (row
 * profile), fsynced with its directory, then one catalog commit adds the
 * file and records that WAL segments below the next memtable's are dead;
 * then the dead segments are deleted and the memtable leaves the view in
 * the same step as the file enters it (all under cat_mu).
 * A crash at any point leaves either the old state (memtable replayed from
 * the WAL; the half-written file is an orphan swept at open) or the new.
 *
 * The Iceberg view (iceberg_view continuous, db_lookup.h): while writing,
 * the flush records its file's own deletion vector (each row that is not
 * the first of its user key, each delete: the writer knows the row index)
 * and the distinct user keys. Under cat_mu it looks up the newest version
 * of those keys in the older files and hides each that is a put, in the
 * same commit that adds the file. cat_mu is what makes the positions
 * right: a compaction commits under it too, so none can replace a file
 * between the lookup and the commit.
 *
 * The change feed (db_changes.c): a job on its own thread, started with
 * the L0 write, walks the memtable for the keys, runs the same lookup
 * under cat_mu, also reading the values of the older puts (the
 * pre-images), then writes and fsyncs the changelog file without cat_mu
 * (compactions commit meanwhile), while the flush thread writes the L0
 * file; the commit joins it and takes cat_mu again to name both files. A
 * compaction that committed in between can only have removed files: the
 * positions found stay right while their files are live, and are looked
 * up again when one left (flush_lookup_refresh). Workers also expire the
 * feed's history when its oldest file leaves the retention window, so an
 * idle table does not keep it until its next flush or open.
 */
#include <stdlib.h>
#include <string.h>

#include "changes/changelog.h"
#include "engine/db_internal.h"
#include "engine/db_lookup.h"
#include "types/keycodec.h"
#include "util/arena.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"

void meru_db_set_bg_error_locked(meru_db *db, int rc)
{
    if (db->bg_error || rc == MERU_OK)
        return;
    db->bg_error = rc;
    snprintf(db->bg_errmsg, sizeof db->bg_errmsg, "%s", meru_errmsg());
    pthread_cond_broadcast(&db->cv_done);
    meru_db_wake_workers_locked(db);
}

int meru_db_bg_error_locked(meru_db *db)
{
    if (!db->bg_error)
        return MERU_OK;
    return meru_err(MERU_EFAILED,
                    "writes stopped after a background failure (%s): %s",
                    meru_strerror(db->bg_error), db->bg_errmsg);
}

/* ----------------------------------------------------------- L0 files */

static void feed_job_free(struct meru_db_feed_job *j);

void meru_db_l0_clear(meru_db_l0 *l)
{
    meru_catalog_file_clear(&l->meta);
    meru_dv_free(l->dv);
    free(l->keys);
    meru_buf_free(&l->keybytes);
    feed_job_free(l->feed);
    memset(l, 0, sizeof *l);
}

/* The keys a flush collects for the view: each distinct user key copied
 * after the previous one into `bytes`, with its offset and length. */
typedef struct keylog {
    meru_buf bytes;
    size_t *off, *len;
    size_t n, cap;
} keylog;

static void keylog_free(keylog *k)
{
    meru_buf_free(&k->bytes);
    free(k->off);
    free(k->len);
    memset(k, 0, sizeof *k);
}

/* The view's part of writing row `row`: a row that is not the first of
 * its user key, or a delete, is hidden; each new user key is logged when
 * `kl` is given (without it the feed's job collects the keys). *prev /
 * *plen: the previous row's user key (memtable bytes, stable). */
static int l0_view_row(meru_db_l0 *out, keylog *kl, const uint8_t **prev,
                       size_t *plen, uint64_t row, const uint8_t *ikey,
                       size_t ilen)
{
    size_t ulen;
    int op, rc;
    if ((rc = meru_ikey_parse(ikey, ilen, &ulen, NULL, &op)))
        return rc;
    bool first = !*prev || meru_ikey_cmp(*prev, *plen, ikey, ulen) != 0;
    *prev = ikey;
    *plen = ulen;
    if (first && kl) {
        if (kl->n == kl->cap) {
            size_t c = kl->cap ? kl->cap * 2 : 1024;
            size_t *o = realloc(kl->off, c * sizeof *o);
            if (o)
                kl->off = o;
            size_t *l = o ? realloc(kl->len, c * sizeof *l) : NULL;
            if (!l)
                return meru_err(MERU_ENOMEM, "out of memory (flush keys)");
            kl->len = l;
            kl->cap = c;
        }
        kl->off[kl->n] = kl->bytes.len;
        kl->len[kl->n] = ulen;
        if ((rc = meru_buf_append(&kl->bytes, ikey, ulen)))
            return rc;
        kl->n++;
    }
    if (out->dv && (!first || op == MERU_OP_DELETE))
        return meru_dv_add(out->dv, row);
    return MERU_OK;
}

/* Hands the logged keys to out (keys pointing into keybytes). */
static int l0_view_keys(meru_db_l0 *out, keylog *kl)
{
    if (kl->n && !(out->keys = malloc(kl->n * sizeof *out->keys)))
        return meru_err(MERU_ENOMEM, "out of memory (flush keys)");
    out->keybytes = kl->bytes;
    memset(&kl->bytes, 0, sizeof kl->bytes);
    for (size_t i = 0; i < kl->n; i++) {
        out->keys[i].ptr = out->keybytes.data + kl->off[i];
        out->keys[i].len = kl->len[i];
    }
    out->nkeys = kl->n;
    return MERU_OK;
}

static int feed_job_start(meru_db *db, meru_memtable *mem,
                          const meru_options *o, bool view,
                          struct meru_db_feed_job **out);

int meru_db_write_l0(meru_db *db, meru_memtable *mem, meru_db_l0 *out)
{
    char uuid[MERU_UUID_TEXT], rel[128], abs[MERU_DB_PATH_MAX],
        dir[MERU_DB_PATH_MAX];
    meru_sst_options so;
    meru_sst_writer *w = NULL;
    meru_sst_meta meta;
    meru_memtable_iter it;
    bool view = db->opts.iceberg_view == MERU_ICEBERG_VIEW_CONTINUOUS;
    meru_options o; /* the table-shaping fields may change: a copy */
    const uint8_t *prev = NULL;
    size_t plen = 0;
    keylog kl;
    uint64_t row = 0;
    int rc;

    memset(out, 0, sizeof *out);
    memset(&meta, 0, sizeof meta);
    memset(&kl, 0, sizeof kl);
    if ((rc = meru_catalog_new_uuid(uuid)))
        return rc;
    snprintf(rel, sizeof rel, "data/L0/%s.parquet", uuid);
    if ((rc = meru_path_join(abs, sizeof abs, db->path, rel)) ||
        (rc = meru_path_parent(dir, sizeof dir, abs)))
        return rc;
    if (view && (rc = meru_dv_new(&out->dv)))
        return rc;
    meru_db_options_copy(db, &o);
    meru_sst_options_for_level(&so, 0, &o);
    /* The change feed's changelog is made beside this file, on its own
     * thread (its walk gives the keys, for the view too). A table that
     * keeps no history (too wide for a changelog: meru_db_changes_kept)
     * starts no job, so nothing walks or sorts the memtable for it; its
     * commit goes as with the feed off and the view logs its keys here. */
    if (meru_db_changes_kept(db, &o) &&
        (rc = feed_job_start(db, mem, &o, view, &out->feed))) {
        meru_db_l0_clear(out);
        return meru_err_wrap(rc, "flush");
    }
    /* The current schema, loaded after `mem` stopped taking writes: it has
     * every column of every row in it (db_schema.c). */
    if ((rc = meru_sst_writer_open(&w, db->fs, abs, meru_db_cur_schema(db),
                                   &so))) {
        meru_db_l0_clear(out);
        return meru_err_wrap(rc, "flush");
    }
    meru_memtable_iter_init(&it, mem);
    for (meru_memtable_iter_seek_to_first(&it); meru_memtable_iter_valid(&it);
         meru_memtable_iter_next(&it), row++) {
        size_t ilen, vlen;
        const uint8_t *ikey = meru_memtable_iter_ikey(&it, &ilen);
        const uint8_t *val = meru_memtable_iter_value(&it, &vlen);
        /* Rows are added in order, so `row` is the row's position. */
        if ((rc = meru_sst_writer_add(w, ikey, ilen, val, vlen)) ||
            (view && (rc = l0_view_row(out, out->feed ? NULL : &kl, &prev,
                                       &plen, row, ikey, ilen)))) {
            meru_sst_writer_abort(w);
            meru_db_l0_clear(out);
            keylog_free(&kl);
            return meru_err_wrap(rc, "flush");
        }
    }
    if (view && !out->feed)
        rc = l0_view_keys(out, &kl);
    keylog_free(&kl);
    if (rc) {
        meru_sst_writer_abort(w);
        meru_db_l0_clear(out);
        return meru_err_wrap(rc, "flush");
    }
    if ((rc = meru_sst_writer_finish(w, &meta))) {
        meru_db_l0_clear(out);
        return meru_err_wrap(rc, "flush");
    }
    if ((rc = meru_fs_sync_dir(db->fs, dir))) {
        meru_err_saved e;
        meru_err_save(&e);
        meru_sst_meta_free(&meta);
        meru_db_l0_clear(out);
        (void)meru_fs_remove(db->fs, abs);
        meru_err_restore(&e);
        return meru_err_wrap(rc, "flush: sync %s", dir);
    }
    out->meta.level = 0;
    out->meta.path = strdup(rel);
    out->meta.file_size = meta.file_size;
    out->meta.row_count = meta.row_count;
    out->meta.min_seq = meta.min_seq;
    out->meta.max_seq = meta.max_seq;
    out->meta.smallest = meru_buf_detach(&meta.smallest,
                                         &out->meta.smallest_len);
    out->meta.largest = meru_buf_detach(&meta.largest, &out->meta.largest_len);
    meru_sst_meta_free(&meta);
    if (!out->meta.path || !out->meta.smallest || !out->meta.largest) {
        meru_db_l0_clear(out);
        (void)meru_fs_remove(db->fs, abs);
        return meru_err(MERU_ENOMEM, "out of memory (flush)");
    }
    if (out->dv)
        meru_dv_optimize(out->dv);
    return MERU_OK;
}

/* What one lookup of a flush's keys in the older files found, kept from
 * the lookup (under cat_mu) to the commit (under cat_mu again when the
 * changelog is written in between): the file list it ran on (each file
 * referenced, so a pointer names the same file at the commit), the
 * catalog version of that list, per file the positions of the keys'
 * newest older versions that are puts (what the view hides there) and,
 * with the change feed, the values of those puts (the pre-images). */
typedef struct flush_lookup {
    meru_db_file **files;
    size_t nfiles;
    uint64_t version;
    /* Per file of files[] (when positions were asked for), the rows the
     * view hides in it; NULL: none. A flush's keys are looked up in
     * batches (FLUSH_LOOKUP_BATCH) and each batch's per-key results are
     * folded into these at once: the per-key tables of a whole flush (32
     * bytes a key of results, ~53 of scratch) were tens of MiB live beside
     * the memtables at the flush's peak (bench/RESULTS.md, "Memory budget,
     * fourth pass"), where a vector of ~300k positions is a few hundred
     * KiB. */
    meru_dv **dvs;
    uint64_t hidden; /* keys whose newest older version is a put */
    /* The pre-images, per key (live = a put was found), their values
     * copied into an arena of PRE_CHUNK (2 MiB) chunks: a flush's are
     * tens of MiB, and one buffer grown by doubling copied them again at
     * each growth (the memmove of the profiles) and touched up to twice
     * their size. The table goes once the changelog's set took them
     * (meru_changelog_set_pre); the arena stays until the commit. */
    meru_changelog_pre *pre;
    meru_arena *pre_arena;
    size_t base; /* the batch's first key, while it runs (pre_value) */
    meru_db_lookup_stats ls;
    uint64_t wall_ns, cpu_ns;
} flush_lookup;

/* Keys per batch of a flush's lookup: its per-key tables (results and
 * scratch, ~85 bytes a key) stay under ~6 MiB. Batches are consecutive
 * key ranges, so each decodes the pages of its own range of every file
 * (one page at each boundary twice): the cost of a flush of ~300k keys
 * in five batches is that of one. */
#define FLUSH_LOOKUP_BATCH ((size_t)65536)

/* The pre-images' arena chunk: 2 MiB, as a large memtable's, so that each
 * chunk is an anonymous map of its own (arena.h) that goes back to the
 * system when the pre-images are freed. Chunks from malloc (1 MiB before)
 * came out of its heaps, where a flush's tens of MiB stayed resident
 * under younger blocks and the next flush's were placed above them
 * (bench/RESULTS.md, "Memory budget, second pass"). */
#define PRE_CHUNK ((size_t)2 << 20)

/* Lets go of the pre-images (once the changelog is written). */
static void flush_lookup_free_pre(flush_lookup *fl)
{
    meru_mem_big_free(fl->pre);
    fl->pre = NULL;
    meru_arena_free(fl->pre_arena);
    fl->pre_arena = NULL;
}

/* Lets go of the file list and what was found in it. */
static void flush_lookup_free_found(flush_lookup *fl)
{
    for (size_t f = 0; f < fl->nfiles; f++) {
        meru_db_file_unref(fl->files[f]);
        if (fl->dvs)
            meru_dv_free(fl->dvs[f]);
    }
    free(fl->files);
    free(fl->dvs);
    fl->files = NULL;
    fl->dvs = NULL;
    fl->nfiles = 0;
    fl->hidden = 0;
}

static void flush_lookup_free(flush_lookup *fl)
{
    flush_lookup_free_found(fl);
    flush_lookup_free_pre(fl);
    memset(fl, 0, sizeof *fl);
}

static int pre_value(void *arg, size_t key, uint64_t pos, const uint8_t *value,
                     size_t len)
{
    static const uint8_t empty[1];
    flush_lookup *fl = arg;
    const uint8_t *p = len ? meru_arena_dup(fl->pre_arena, value, len) : empty;
    (void)pos;
    if (!p)
        return meru_err(MERU_ENOMEM, "out of memory (pre-images)");
    key += fl->base;
    fl->pre[key].live = 1;
    fl->pre[key].value = p;
    fl->pre[key].vlen = len;
    return MERU_OK;
}

/* Whether any of files[0..n) holds user keys in [lo, hi]. */
static bool range_overlaps(meru_db_file *const *files, size_t n,
                           const meru_sst_ukey *lo, const meru_sst_ukey *hi)
{
    for (size_t f = 0; f < n; f++) {
        const meru_catalog_file *m = &files[f]->meta;
        if (meru_ikey_cmp(hi->ptr, hi->len, m->smallest, m->smallest_len) >=
                0 &&
            meru_ikey_cmp(lo->ptr, lo->len, m->largest, m->largest_len) <= 0)
            return true;
    }
    return false;
}

/* Folds the results of the batch of keys [b0, b0 + nb) (older[0..nb)) into
 * fl: each newest older put's position into its file's vector, and a
 * pre-image is live only where that put was found. Only entries pre_value
 * set are written: storing the 0 that every other entry already reads as
 * faulted in the table's untouched pages (a flush of new keys touched all
 * of it for nothing: 0.17 s of bench_kv's run). */
static int flush_lookup_fold(flush_lookup *fl, const meru_db_older *older,
                             size_t b0, size_t nb)
{
    int rc;
    for (size_t i = 0; i < nb; i++) {
        const meru_db_older *r = &older[i];
        meru_changelog_pre *p = fl->pre ? &fl->pre[b0 + i] : NULL;
        if (p && p->live && (r->state != MERU_SST_FOUND || !p->value))
            p->live = 0;
        if (r->state != MERU_SST_FOUND)
            continue; /* a delete row is hidden already, in its own file */
        fl->hidden++;
        if (!fl->dvs)
            continue;
        if (!fl->dvs[r->file] && (rc = meru_dv_new(&fl->dvs[r->file])))
            return rc;
        if ((rc = meru_dv_add(fl->dvs[r->file], r->pos)))
            return rc;
    }
    return MERU_OK;
}

/* Looks up the newest older version of each of keys[0..nkeys) in the
 * current files (cat_mu held), in batches of consecutive keys: with
 * `positions` the view's vectors (fl->dvs), with `values` the pre-images.
 * A batch whose key range no file's overlaps is not looked up at all (a
 * flush of keys above every older one, as a sorted load's: nothing can be
 * found, and nothing per key is allocated). */
static int flush_lookup_run(meru_db *db, const meru_sst_ukey *keys,
                            size_t nkeys, bool values, bool positions,
                            flush_lookup *fl)
{
    meru_sst_lookup_opts lo = {pre_value, fl, NULL};
    uint64_t t0 = meru_clock_ns(), c0 = meru_clock_thread_cpu_ns();
    size_t batch = db->test_flush_lookup_batch ? db->test_flush_lookup_batch
                                               : FLUSH_LOOKUP_BATCH;
    meru_db_older *older = NULL;
    int rc = MERU_OK;

    fl->nfiles = db->nfiles;
    fl->version = meru_catalog_version(db->cat);
    fl->files = malloc((db->nfiles + 1) * sizeof *fl->files);
    if (positions)
        fl->dvs = calloc(db->nfiles + 1, sizeof *fl->dvs);
    if (values) {
        /* Written only where an older put is found (sparse for a flush
         * of mostly new keys): 4 KiB pages, not huge ones. */
        fl->pre = meru_mem_big_calloc(nkeys + 1, sizeof *fl->pre);
        if (meru_arena_new(&fl->pre_arena, PRE_CHUNK))
            fl->pre_arena = NULL;
    }
    if (!fl->files || (positions && !fl->dvs) ||
        (values && (!fl->pre || !fl->pre_arena))) {
        fl->nfiles = 0;
        return meru_err(MERU_ENOMEM, "out of memory (flush lookup)");
    }
    for (size_t f = 0; f < fl->nfiles; f++) {
        fl->files[f] = db->files[f];
        meru_db_file_ref(fl->files[f]);
    }
    if (batch > nkeys)
        batch = nkeys;
    for (size_t b0 = 0; rc == MERU_OK && fl->nfiles && b0 < nkeys;
         b0 += batch) {
        size_t nb = nkeys - b0 < batch ? nkeys - b0 : batch;
        if (!range_overlaps(fl->files, fl->nfiles, &keys[b0],
                            &keys[b0 + nb - 1]))
            continue;
        /* Per-key results of one batch, out of malloc's heaps
         * (util/mem.h). */
        if (!older &&
            !(older = meru_mem_big_calloc_dense(batch + 1, sizeof *older))) {
            rc = meru_err(MERU_ENOMEM, "out of memory (flush lookup)");
            break;
        }
        fl->base = b0;
        rc = meru_db_lookup_older(fl->files, fl->nfiles, db->schema,
                                  keys + b0, nb, values ? &lo : NULL, older,
                                  &fl->ls);
        if (rc == MERU_OK)
            rc = flush_lookup_fold(fl, older, b0, nb);
    }
    meru_mem_big_free(older);
    fl->wall_ns += meru_clock_ns() - t0;
    fl->cpu_ns += meru_clock_thread_cpu_ns() - c0;
    return rc;
}

/* Whether file f is one of db->files (cat_mu held), at any level: a
 * trivial move gives it a new entry with the same owner. */
static bool file_live(const meru_db *db, meru_db_file *f)
{
    for (size_t g = 0; g < db->nfiles; g++)
        if (meru_db_file_owner(db->files[g]) == meru_db_file_owner(f))
            return true;
    return false;
}

/* At the commit (cat_mu held), after cat_mu was released since the lookup
 * of the keys of `set` (the feed's job): makes sure the files fl->dvs name
 * are still live. Files are immutable and a commit in between can only be
 * a compaction or a move (flushes run one at a time): a key's newest
 * older version stays where it was as long as its file is live (a
 * compaction that did not take that file took no version of the key newer
 * than it; a move changes no row). When a file holding a found put left
 * (or the positions were not asked for), the positions are looked up
 * again, with the keys walked from the memtable again (the job let them
 * go after its lookup); the values found first stay right: a compaction
 * keeps every key's newest version. */
static int flush_lookup_refresh(meru_db *db, meru_changelog_set *set,
                                flush_lookup *fl)
{
    const meru_sst_ukey *keys;
    size_t nkeys;
    bool gone = !fl->dvs;
    int rc;
    if (!gone && meru_catalog_version(db->cat) == fl->version)
        return MERU_OK;
    for (size_t f = 0; !gone && f < fl->nfiles; f++)
        gone = fl->dvs[f] && !file_live(db, fl->files[f]);
    if (!gone)
        return MERU_OK;
    if ((rc = meru_changelog_keys_again(set)))
        return rc;
    keys = meru_changelog_keys(set, &nkeys);
    flush_lookup_free_found(fl);
    return flush_lookup_run(db, keys, nkeys, false, true, fl);
}

/* Adds to edit `e` the continuous view's part of a new L0 file `add`
 * whose keys are nkeys (cat_mu held; fl's files live): the file's own
 * vector and, in each older file, the position of each newest older
 * version that is a put. */
static int flush_view_edit(meru_db *db, const meru_db_l0 *add, size_t nkeys,
                           const flush_lookup *fl, meru_catalog_edit *e)
{
    int rc = MERU_OK;

    if (!meru_dv_is_empty(add->dv) &&
        (rc = meru_catalog_edit_set_dv(e, add->meta.path, add->dv)))
        return rc;
    if (!nkeys)
        return MERU_OK;
    for (size_t f = 0; rc == MERU_OK && f < fl->nfiles; f++) {
        const char *path = fl->files[f]->meta.path;
        meru_dv *cur = NULL;
        if (!fl->dvs[f])
            continue;
        rc = meru_catalog_file_dv(db->cat, path, &cur);
        if (rc == MERU_OK && !cur)
            rc = meru_dv_new(&cur);
        if (rc == MERU_OK)
            rc = meru_dv_union(cur, fl->dvs[f]);
        if (rc == MERU_OK)
            rc = meru_catalog_edit_set_dv(e, path, cur);
        meru_dv_free(cur);
    }
    if (rc == MERU_OK && db->nfiles) {
        /* The view's upkeep (the lookup, including the feed's values). */
        atomic_fetch_add_explicit(&db->st_view_lookups, 1,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&db->st_view_lookup_us, fl->wall_ns / 1000,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&db->st_view_lookup_cpu_us,
                                  fl->cpu_ns / 1000, memory_order_relaxed);
        atomic_fetch_add_explicit(&db->st_view_lookup_pages,
                                  fl->ls.pages_read, memory_order_relaxed);
        atomic_fetch_add_explicit(&db->st_view_hidden, fl->hidden,
                                  memory_order_relaxed);
    }
    return rc;
}

/* Removes a file the failed commit does not name (keeping the error). */
static void remove_quietly(meru_db *db, const char *abs)
{
    meru_err_saved saved;
    meru_err_save(&saved);
    (void)meru_fs_remove(db->fs, abs);
    meru_err_restore(&saved);
}

/* ------------------------------------------------- the feed's flush job */

/* The change feed's part of one flush, run on its own thread beside the
 * L0 write (a flush stalls writers once the immutable memtables are full,
 * and the changelog costs about what the L0 file does: on two cores the
 * two files are written at once). Its steps: one walk of the memtable
 * (keys + entries in sequence order, meru_changelog_collect); under cat_mu
 * the lookup of the keys' older versions with the values of the puts (the
 * pre-images; its positions serve the view too); without cat_mu the
 * changelog file, fsynced with its directory. The commit joins the job
 * and names the file; until then the file is an orphan (removed on
 * failure, swept at open after a crash), so the L0 file and the changelog
 * may become durable in either order. Everything here is the job's until
 * the join; after it, the committer's. */
struct meru_db_feed_job {
    meru_db *db;
    meru_memtable *mem; /* referenced */
    meru_options o;     /* as the flush began */
    bool view;          /* the continuous view: its positions are found */
    const meru_schema *table;
    uint64_t last_seq; /* the memtable's */
    pthread_t thread;
    bool running; /* a thread to join */
    /* results */
    int rc;
    meru_err_saved err;
    bool kept; /* the feed keeps history: lookup, pre and changelog made */
    meru_changelog_set *set;
    flush_lookup fl; /* the pre-images' arena until the commit */
    uint64_t trim;
    meru_catalog_changelog cl; /* path NULL: no changelog (nothing changed) */
    char *written;             /* its absolute path until committed */
};
typedef struct meru_db_feed_job feed_job;

/* Writes the changelog of the job's set with trim `trim`. */
static int feed_job_write(feed_job *j, uint64_t trim)
{
    j->trim = trim;
    return meru_db_changes_write(j->db, &j->o, j->table, j->set, trim,
                                 &j->cl, &j->written);
}

static int feed_job_run(feed_job *j)
{
    meru_db *db = j->db;
    const meru_sst_ukey *keys;
    size_t nkeys;
    uint64_t last;
    int rc;

    if ((rc = meru_changelog_collect(j->mem, &j->set)))
        return rc;
    keys = meru_changelog_keys(j->set, &nkeys);
    pthread_mutex_lock(&db->cat_mu);
    last = meru_catalog_last_sequence(db->cat);
    if (last < j->last_seq)
        last = j->last_seq;
    if ((j->kept = meru_db_changes_kept(db, &j->o))) {
        j->trim = meru_db_changes_trim(db, &j->o, last);
        rc = flush_lookup_run(db, keys, nkeys, true, j->view, &j->fl);
    }
    pthread_mutex_unlock(&db->cat_mu);
    if (rc || !j->kept)
        return rc;
    /* The keys are looked up: they go now rather than at the commit (the
     * commit walks the memtable for them again in the rare case that a
     * compaction took a file holding their older versions meanwhile). */
    meru_changelog_drop_keys(j->set);
    /* The set keeps what its changes read of the pre-images (in sequence
     * order); the per-key table goes now, not at the commit. */
    if ((rc = meru_changelog_set_pre(j->set, j->fl.pre)))
        return rc;
    meru_mem_big_free(j->fl.pre);
    j->fl.pre = NULL;
    return feed_job_write(j, j->trim);
}

static void *feed_job_main(void *arg)
{
    feed_job *j = arg;
    if ((j->rc = feed_job_run(j)))
        meru_err_save(&j->err);
    return NULL;
}

static int feed_job_start(meru_db *db, meru_memtable *mem,
                          const meru_options *o, bool view, feed_job **out)
{
    feed_job *j = calloc(1, sizeof *j);
    if (!j)
        return meru_err(MERU_ENOMEM, "out of memory (change feed)");
    j->db = db;
    meru_memtable_ref(mem);
    j->mem = mem;
    j->o = *o;
    j->view = view;
    j->table = meru_db_cur_schema(db);
    j->last_seq = meru_memtable_max_seq(mem);
    if (pthread_create(&j->thread, NULL, feed_job_main, j) == 0)
        j->running = true;
    else
        feed_job_main(j); /* no thread: the job runs first, here */
    *out = j;
    return MERU_OK;
}

/* Waits for the job; its status (and message, in this thread). */
static int feed_job_join(feed_job *j)
{
    if (j->running) {
        pthread_join(j->thread, NULL);
        j->running = false;
    }
    if (j->rc)
        meru_err_restore(&j->err);
    return j->rc;
}

/* Lets go of what only the changelog's writing needed: the walk, the
 * pre-images and the memtable reference. */
static void feed_job_drop_inputs(feed_job *j)
{
    flush_lookup_free_pre(&j->fl);
    meru_changelog_set_free(j->set);
    j->set = NULL;
    meru_memtable_unref(j->mem);
    j->mem = NULL;
}

/* Joins and frees the job; a changelog no commit took is removed. */
static void feed_job_free(feed_job *j)
{
    if (!j)
        return;
    if (j->running) {
        pthread_join(j->thread, NULL);
        j->running = false;
    }
    if (j->written)
        remove_quietly(j->db, j->written);
    free(j->written);
    free(j->cl.path);
    flush_lookup_free(&j->fl);
    feed_job_drop_inputs(j);
    free(j);
}

int meru_db_commit_l0(meru_db *db, const meru_db_l0 *add, uint64_t last_seq,
                      bool set_wal, uint64_t oldest, uint64_t next,
                      void (*edit)(meru_db *db, void *arg), void *arg)
{
    meru_catalog_edit *e = NULL;
    bool file = add && add->meta.path;
    bool view = file && add->dv;
    feed_job *j = file ? add->feed : NULL; /* this flush records changes */
    bool used = false;
    const meru_sst_ukey *keys = file ? add->keys : NULL;
    size_t nkeys = file ? add->nkeys : 0;
    flush_lookup own, *fl = &own; /* the view's lookup without the feed */
    meru_options o;
    int rc = MERU_OK;

    memset(&own, 0, sizeof own);
    meru_db_options_copy(db, &o);
    if (j) {
        /* The changelog (and the lookup) ran beside the L0 write. */
        if ((rc = feed_job_join(j)))
            rc = meru_err_wrap(rc, "flush: change feed");
        else /* NULL when the job dropped them (kept: the refresh) */
            keys = meru_changelog_keys(j->set, &nkeys);
        if (j->kept)
            fl = &j->fl;
    }
    pthread_mutex_lock(&db->cat_mu);
    if (last_seq < meru_catalog_last_sequence(db->cat))
        last_seq = meru_catalog_last_sequence(db->cat);
    if (rc == MERU_OK && j && j->kept) {
        uint64_t trim = meru_db_changes_trim(db, &o, last_seq);
        if (trim != j->trim) {
            /* Lost records were noted meanwhile (recovery): written again
             * under the lock, without them. */
            if (j->written)
                remove_quietly(db, j->written);
            free(j->written);
            j->written = NULL;
            free(j->cl.path);
            memset(&j->cl, 0, sizeof j->cl);
            if ((rc = feed_job_write(j, trim)))
                rc = meru_err_wrap(rc, "flush: change feed");
        }
        if (rc == MERU_OK && view &&
            (rc = flush_lookup_refresh(db, j->set, fl)))
            rc = meru_err_wrap(rc, "flush: older versions");
    } else if (rc == MERU_OK && view) {
        if ((rc = flush_lookup_run(db, keys, nkeys, false, true, fl)))
            rc = meru_err_wrap(rc, "flush: older versions");
    }
    if (rc == MERU_OK)
        rc = meru_catalog_edit_new(db->cat, &e);
    if (rc == MERU_OK && file)
        rc = meru_catalog_edit_add_file(e, &add->meta);
    if (rc == MERU_OK && view &&
        (rc = flush_view_edit(db, add, nkeys, fl, e)))
        rc = meru_err_wrap(rc, "flush: older versions");
    /* Every commit applies the feed's retention (and names this flush's
     * changelog when there is one). A flush that began with the feed off
     * wrote no changelog: when the feed was turned on meanwhile, its
     * changes leave the memtables without a record, so this commit goes
     * as with the feed off (the floor rises to last_seq, over every file)
     * and the history starts after it, instead of a window that claims
     * changes it lacks. */
    if (rc == MERU_OK && file && !(j && j->kept) &&
        meru_db_changes_kept(db, &o)) {
        meru_options off = o;
        off.changes_retention_seconds = 0;
        rc = meru_db_changes_commit(db, &off, NULL, last_seq, e, &used);
    } else if (rc == MERU_OK) {
        rc = meru_db_changes_commit(db, &o, j && j->cl.path ? &j->cl : NULL,
                                    last_seq, e, &used);
    }
    if (rc == MERU_OK) {
        meru_catalog_edit_set_last_sequence(e, last_seq);
        if (set_wal)
            meru_catalog_edit_set_wal(e, oldest, next);
        rc = meru_catalog_commit(db->cat, e);
    }
    bool maybe_committed = rc && meru_catalog_failed(db->cat);
    meru_catalog_edit_free(e);
    if (rc && file && !maybe_committed) {
        /* Not part of the table: remove it now rather than at next open.
         * (A commit that failed while writing its version may be on disk:
         * then the file stays, for the next open to sweep or keep.) */
        char abs[MERU_DB_PATH_MAX];
        if (!meru_path_join(abs, sizeof abs, db->path, add->meta.path))
            remove_quietly(db, abs);
    }
    /* The changelog likewise, and when the commit did not take it (the
     * feed was turned off meanwhile); one the commit may hold stays. */
    if (j && j->written) {
        if ((rc && !maybe_committed) || (rc == MERU_OK && !used))
            remove_quietly(db, j->written);
        free(j->written);
        j->written = NULL;
    }
    /* Done with the memtable: its last reference goes with the publish
     * (drop_flushed), as without the feed, not after the flush is
     * reported done. */
    if (j)
        feed_job_drop_inputs(j);
    if (rc == MERU_OK) {
        /* The committed catalog no longer lists these segments (their rows
         * are in files, and readers read the memtable until the publish),
         * so they go now: before the publish that lets meru_flush return,
         * so a flushed table holds no dead log. Best effort: a segment
         * that stays is deleted at the next open. */
        if (set_wal)
            (void)meru_wal_delete_below(db->fs, db->wal_dir, oldest);
        rc = meru_db_publish_locked(db, edit, arg);
    }
    flush_lookup_free(fl);
    pthread_mutex_unlock(&db->cat_mu);
    return rc;
}
/* Drops the flushed memtable (under mu, with the new view) and counts the
 * flush (before anyone waiting for it wakes). */
static void drop_flushed(meru_db *db, void *arg)
{
    const uint64_t *bytes = arg;
    atomic_fetch_add_explicit(&db->st_flushes, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_flush_bytes, *bytes,
                              memory_order_relaxed);
    meru_memtable_unref(db->imm[0].mem);
    memmove(db->imm, db->imm + 1, (db->nimm - 1) * sizeof *db->imm);
    db->nimm--;
    db->flushed++;
}

/* Flushes db->imm[0] (the caller set flush_running). */
static int flush_oldest(meru_db *db)
{
    meru_db_l0 f;
    meru_memtable *mem;
    uint64_t segment, next_segment, bytes;
    int rc;

    pthread_mutex_lock(&db->mu);
    mem = db->imm[0].mem;
    segment = db->imm[0].segment;
    next_segment = db->next_segment;
    pthread_mutex_unlock(&db->mu);

    memset(&f, 0, sizeof f);
    if (meru_memtable_count(mem) > 0 && (rc = meru_db_write_l0(db, mem, &f)))
        return rc;
    if (db->test_before_flush_commit)
        db->test_before_flush_commit(db, db->test_arg);
    bytes = f.meta.file_size;
    /* Segments below the next memtable's hold nothing unflushed; the
     * publish drops the memtable from the views in the same step as the
     * file enters them. */
    rc = meru_db_commit_l0(db, &f, meru_memtable_max_seq(mem), true,
                           segment + 1, next_segment, drop_flushed, &bytes);
    meru_db_l0_clear(&f);
    return rc ? meru_err_wrap(rc, "flush: commit") : MERU_OK;
}

/* ------------------------------------------------------------- workers */

static bool gc_due_locked(meru_db *db, uint64_t now_ms, uint64_t *next_ms)
{
    bool due = false;
    *next_ms = UINT64_MAX;
    for (size_t i = 0; i < db->ngc; i++) {
        if (db->gc[i].due_ms <= now_ms)
            due = true;
        else if (db->gc[i].due_ms < *next_ms)
            *next_ms = db->gc[i].due_ms;
    }
    return due;
}

void meru_db_worker_deadline(uint64_t due_ms, uint64_t now_ms,
                             struct timespec *out)
{
    /* Signed: a deadline already behind us is a wait of 0, not a huge
     * unsigned difference (which the cap used to turn into a minute). */
    int64_t wait_ms = due_ms <= now_ms ? 0
                      : due_ms - now_ms > MERU_DB_WORKER_MAX_WAIT_MS
                          ? MERU_DB_WORKER_MAX_WAIT_MS
                          : (int64_t)(due_ms - now_ms);
    clock_gettime(CLOCK_MONOTONIC, out);
    out->tv_sec += (time_t)(wait_ms / 1000);
    out->tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (out->tv_nsec >= 1000000000L) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000L;
    }
}

static void *worker_main(void *arg)
{
    meru_db *db = arg;
    pthread_mutex_lock(&db->mu);
    for (;;) {
        uint64_t next_ms;
        bool flush = !db->bg_error && db->nimm > 0 && !db->flush_running;
        bool gc = gc_due_locked(db, meru_clock_ns() / 1000000u, &next_ms);
        if (flush) {
            db->flush_running = true;
            pthread_mutex_unlock(&db->mu);
            int rc = flush_oldest(db);
            pthread_mutex_lock(&db->mu);
            db->flush_running = false;
            if (rc)
                meru_db_set_bg_error_locked(db, rc);
            pthread_cond_broadcast(&db->cv_done);
            continue;
        }
        if (gc) {
            pthread_mutex_unlock(&db->mu);
            meru_db_gc_run(db, false);
            pthread_mutex_lock(&db->mu);
            continue;
        }
        {
            /* The feed's history expires on time, writes or not. */
            uint64_t due = UINT64_MAX;
            bool expire = !db->bg_error && !db->stop &&
                          meru_db_changes_due_locked(
                              db, meru_clock_ns() / 1000000u, &due);
            if (due < next_ms)
                next_ms = due;
            if (expire) {
                pthread_mutex_unlock(&db->mu);
                int rc = meru_db_changes_expire(db);
                pthread_mutex_lock(&db->mu);
                if (rc)
                    meru_db_set_bg_error_locked(db, rc);
                continue;
            }
        }
        if (!db->bg_error && !db->stop) {
            bool did = false;
            uint64_t gen = db->work_gen;
            pthread_mutex_unlock(&db->mu);
            int rc = meru_db_compact_step(db, &did);
            pthread_mutex_lock(&db->mu);
            if (rc)
                meru_db_set_bg_error_locked(db, rc);
            /* mu was released during the step: a signal sent meanwhile (a
             * switched memtable, a new L0 file, a file to delete) found
             * nobody waiting, so look again instead of waiting. */
            if (did || rc || db->work_gen != gen)
                continue;
        }
        if (db->stop)
            break;
        {
            /* Idle work waiting for the table to be quiet: look again
             * then (db_compact_pick.c). */
            uint64_t wake;
            (void)meru_db_settle_due_locked(db, meru_clock_ns() / 1000000u,
                                            &wake);
            if (wake < next_ms)
                next_ms = wake;
        }
        if (next_ms != UINT64_MAX) {
            /* Sleep until the next grace period ends (or a signal). The
             * step above may have taken long enough for it to pass: then
             * the deadline is now and the wait returns at once. */
            struct timespec ts;
            meru_db_worker_deadline(next_ms, meru_clock_ns() / 1000000u, &ts);
            pthread_cond_timedwait(&db->cv_work, &db->mu, &ts);
        } else {
            pthread_cond_wait(&db->cv_work, &db->mu);
        }
    }
    pthread_mutex_unlock(&db->mu);
    return NULL;
}

int meru_db_start_workers(meru_db *db)
{
    int n = db->opts.background_threads;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&db->workers[i], NULL, worker_main, db)) {
            meru_db_stop_workers(db);
            return meru_err(MERU_EIO, "cannot start a background thread");
        }
        db->nworkers = i + 1;
    }
    return MERU_OK;
}

void meru_db_stop_workers(meru_db *db)
{
    pthread_mutex_lock(&db->mu);
    db->stop = true;
    meru_db_wake_workers_locked(db);
    pthread_cond_broadcast(&db->cv_done);
    pthread_mutex_unlock(&db->mu);
    for (int i = 0; i < db->nworkers; i++)
        pthread_join(db->workers[i], NULL);
    db->nworkers = 0;
}

int meru_db_wait_flushed(meru_db *db)
{
    int rc;
    pthread_mutex_lock(&db->mu);
    /* Wait for the memtables made immutable up to now, not for the ones
     * other writers fill meanwhile (they flush in switch order). */
    uint64_t target = db->switched;
    while (!db->bg_error && !db->stop && db->flushed < target)
        pthread_cond_wait(&db->cv_done, &db->mu);
    rc = meru_db_bg_error_locked(db);
    if (rc == MERU_OK && db->flushed < target)
        rc = meru_err(MERU_ECLOSED, "the table closed before the flush");
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int meru_flush(meru_db *db)
{
    int rc;
    if (!db)
        return meru_err(MERU_EINVAL, "meru_flush: NULL handle");
    if ((rc = meru_db_check_open(db)))
        return rc;
    if (db->read_only)
        return meru_err(MERU_EREADONLY, "meru_flush: the table is open "
                                        "read-only");
    if ((rc = meru_db_switch_memtable(db, true)))
        return rc;
    return meru_db_wait_flushed(db);
}
