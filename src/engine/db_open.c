/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_open.c — opening (create, recovery, read-only), closing and freeing a
 * table, snapshots and refresh (SPEC §2, §4, §5). The schema given to
 * meru_open is settled by db_schema.c.
 *
 * Recovery of a writer, in order:
 *  1. take LOCK (a second writer process gets MERU_ELOCKED);
 *  2. open the newest complete metadata version (catalog.h), or create;
 *  3. remove data files no version references (a crash's orphans);
 *  4. replay WAL segments >= the catalog's oldest live one into memtables,
 *     writing each full memtable (and the last) to L0 as we go, so memory
 *     stays bounded and the reopened table starts with an empty memtable;
 *  5. open a fresh WAL segment, commit "everything before it is in files",
 *     delete the old segments;
 *  6. start the background workers.
 * A crash during recovery repeats it: replay is idempotent because a
 * segment is deleted only after a commit says its records are in files.
 *
 * Options: the caller's struct (any supported version) is copied whole
 * (options.h); a table being created stores its table-shaping options and
 * the caller's extra properties in its first metadata version, and an
 * existing table's stored properties then override the opener's options
 * (table_props.h).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "engine/db_lookup.h"
#include "engine/options.h"
#include "engine/table_props.h"
#include "util/error.h"

int meru_db_check_open(meru_db *db)
{
    if (!db)
        return meru_err(MERU_EINVAL, "NULL table handle");
    /* atomic, not under mu: every get calls this (issue 11) */
    return atomic_load(&db->closed)
               ? meru_err(MERU_ECLOSED, "the table is closed")
               : MERU_OK;
}

/* -------------------------------------------------------------- replay */

typedef struct replay_ctx {
    meru_db *db;
    meru_memtable *mem; /* being filled */
    uint64_t mem_segment; /* writer: the segment `mem` holds */
    uint64_t max_seq;
    bool writer; /* one memtable per segment, else cut by size (read-only) */
    /* full memtables kept, oldest first (writer: with their segments) */
    meru_memtable **kept;
    uint64_t *kept_seg;
    size_t nkept, capkept;
    uint64_t wal_next; /* writer: the next-segment a mid-replay flush records */
    /* The first sequence the next batch must have (0: no check).
     * Sequences are contiguous, so a batch starting later means records
     * are missing. Read-only: the writer deleted a segment between our
     * catalog read and the replay (flushed meanwhile): its records would
     * be silently missing, from reads and from the change feed. Writer (or
     * read-only with wal_salvage): damage dropped or a segment skipped by
     * meru_repair; the change feed must not claim them (lost_upto). */
    uint64_t expect;
    bool gap;           /* read-only: ... and that happened */
    uint64_t lost_upto; /* the highest sequence found missing, or 0 */
} replay_ctx;

static void replay_ctx_free(replay_ctx *c)
{
    for (size_t i = 0; i < c->nkept; i++)
        meru_memtable_unref(c->kept[i]);
    free(c->kept);
    free(c->kept_seg);
    meru_memtable_unref(c->mem);
    memset(c, 0, sizeof *c);
}

/* Keeps c->mem (immutable now) and starts a new one. */
static int replay_keep(replay_ctx *c)
{
    if (c->nkept == c->capkept) {
        size_t cap = c->capkept ? c->capkept * 2 : 4;
        meru_memtable **p = realloc(c->kept, cap * sizeof *p);
        if (!p)
            return meru_err(MERU_ENOMEM, "out of memory (replay)");
        c->kept = p;
        uint64_t *q = realloc(c->kept_seg, cap * sizeof *q);
        if (!q)
            return meru_err(MERU_ENOMEM, "out of memory (replay)");
        c->kept_seg = q;
        c->capkept = cap;
    }
    meru_memtable_set_immutable(c->mem);
    c->kept_seg[c->nkept] = c->mem_segment;
    c->kept[c->nkept++] = c->mem;
    c->mem = NULL;
    return meru_memtable_new(&c->mem, meru_db_memtable_chunk(c->db));
}

/* Writer: writes the oldest kept memtable to L0 and commits it with the
 * WAL position after its segment, as the flush worker does. */
static int replay_flush_oldest(replay_ctx *c)
{
    meru_db_l0 f;
    meru_memtable *m = c->kept[0];
    uint64_t seg = c->kept_seg[0];
    int rc = meru_db_write_l0(c->db, m, &f);
    if (rc)
        return rc;
    /* As a worker's flush: the view's vectors in the same commit, the
     * segments below the next one deleted, and the file set published (no
     * reader yet; it keeps db->files equal to the catalog for the next
     * flush's lookup). */
    rc = meru_db_commit_l0(c->db, &f, meru_memtable_max_seq(m), true, seg + 1,
                           c->wal_next, NULL, NULL);
    meru_db_l0_clear(&f);
    if (rc)
        return rc;
    meru_memtable_unref(m);
    c->nkept--;
    memmove(c->kept, c->kept + 1, c->nkept * sizeof *c->kept);
    memmove(c->kept_seg, c->kept_seg + 1, c->nkept * sizeof *c->kept_seg);
    return MERU_OK;
}

/* Writer: the memtable of one segment is complete. Kept for the flush
 * workers, as at run time (memtable k holds exactly segment k), so an open
 * writes nothing but a metadata version and a new segment: a WAL larger
 * than the free disk still opens. Only past max_immutable_memtables is the
 * oldest flushed here, so memory stays bounded. */
static int replay_segment_done(replay_ctx *c)
{
    int rc;
    if (meru_memtable_count(c->mem) == 0)
        return MERU_OK;
    if ((rc = replay_keep(c)))
        return rc;
    while (c->nkept > (size_t)c->db->opts.max_immutable_memtables)
        if ((rc = replay_flush_oldest(c)))
            return rc;
    return MERU_OK;
}

static int replay_record(void *arg, uint64_t segment, const uint8_t *rec,
                         size_t len)
{
    replay_ctx *c = arg;
    uint64_t last = 0, first_seq = 0;
    uint32_t count = 0;
    int rc;
    if ((rc = meru_batch_check(rec, len, &count, &first_seq)))
        return meru_err_wrap(rc, "wal segment %llu",
                             (unsigned long long)segment);
    if (c->writer && segment != c->mem_segment) {
        if ((rc = replay_segment_done(c)))
            return rc;
        c->mem_segment = segment;
    }
    /* A batch at or below the catalog's last sequence is already in a
     * file (a recovery that crashed after flushing part of the log). */
    if (count == 0 || first_seq <= meru_catalog_last_sequence(c->db->cat))
        return MERU_OK;
    if (c->expect && first_seq > c->expect &&
        (c->writer || c->db->opts.wal_salvage)) {
        /* Records are missing (see lost_upto): the change feed will not
         * claim them. A read-only handle without wal_salvage takes a gap
         * for the writer's flush instead (below). */
        c->lost_upto = first_seq - 1;
        meru_db_changes_lost(c->db, c->lost_upto);
    } else if (!c->writer && c->expect && first_seq != c->expect) {
        c->gap = true;
        return meru_err(MERU_NOT_FOUND,
                        "wal segment %llu: sequence %llu expected, %llu "
                        "found (the writer flushed meanwhile)",
                        (unsigned long long)segment,
                        (unsigned long long)c->expect,
                        (unsigned long long)first_seq);
    }
    if ((rc = meru_db_apply_record(c->db, c->mem, rec, len, &last))) {
        if (rc == MERU_EINVAL) /* a duplicate (key, seq): corrupt log */
            rc = MERU_ECORRUPT;
        return meru_err_wrap(rc, "wal segment %llu: replay",
                             (unsigned long long)segment);
    }
    if (last > c->max_seq)
        c->max_seq = last;
    if (c->expect)
        c->expect = last + 1;
    if (c->writer || meru_memtable_bytes(c->mem) < c->db->opts.memtable_bytes)
        return MERU_OK;
    return replay_keep(c); /* read-only: cut by size */
}

static int max_segment(meru_db *db, uint64_t *out)
{
    uint64_t *nums = NULL;
    size_t n = 0;
    int rc = meru_wal_list_segments(db->fs, db->wal_dir, &nums, &n);
    *out = 0;
    if (rc == MERU_OK && n)
        *out = nums[n - 1];
    free(nums);
    return rc;
}

/* Truncates WAL segment `number` to its first `len` bytes and syncs it. */
static int cut_torn_tail(meru_db *db, uint64_t number, uint64_t len)
{
    char path[MERU_DB_PATH_MAX];
    meru_file *f = NULL;
    int rc = meru_wal_segment_path(path, sizeof path, db->wal_dir, number);
    if (!rc)
        rc = meru_fs_open(db->fs, path, MERU_FS_WRITE, &f);
    if (!rc)
        rc = meru_file_truncate(f, len);
    if (!rc)
        rc = meru_file_sync(f);
    int rc2 = meru_file_close(f);
    rc = rc ? rc : rc2;
    return rc ? meru_err_wrap(rc, "cutting the torn tail of %s", path)
              : MERU_OK;
}

/* Replays the WAL (writer) into one immutable memtable per segment, which
 * become db->imm for the flush workers (see replay_segment_done); opens a
 * fresh segment with an empty memtable and commits the WAL position. With
 * the wal_salvage option, damage in the middle of the log is dropped (and
 * counted in the stats); the memtables are then flushed at once, so the
 * damaged segments are deleted and a later open does not meet them. */
static int recover_wal(meru_db *db)
{
    replay_ctx c;
    meru_wal_replay_stats st;
    uint64_t oldest, next, top, fresh, live;
    int rc;

    memset(&c, 0, sizeof c);
    c.db = db;
    c.writer = true;
    meru_catalog_wal(db->cat, &oldest, &next);
    /* db->files must list the catalog's files before a replay flush looks
     * up older versions in them. */
    if ((rc = meru_db_publish(db, NULL, NULL)) ||
        (rc = meru_fs_mkdir_p(db->fs, db->wal_dir)) ||
        (rc = meru_db_check_wal_segments(db->fs, db->wal_dir, oldest, next)) ||
        (rc = meru_wal_delete_below(db->fs, db->wal_dir, oldest)) ||
        (rc = max_segment(db, &top)) ||
        (rc = meru_memtable_new(&c.mem, meru_db_memtable_chunk(db))))
        goto out;
    fresh = next > top + 1 ? next : top + 1;
    if (fresh == 0)
        fresh = 1;
    c.wal_next = fresh;
    c.mem_segment = oldest;
    c.expect = meru_catalog_last_sequence(db->cat) + 1;
    rc = meru_wal_replay(db->fs, db->wal_dir, oldest, db->opts.wal_salvage != 0,
                         replay_record, &c, &st);
    if (rc == MERU_OK)
        rc = replay_segment_done(&c);
    if (rc == MERU_OK) {
        atomic_store(&db->st_wal_salvaged_bytes, st.corrupt_dropped_bytes);
        atomic_store(&db->st_wal_salvaged_regions, st.corrupt_regions);
        atomic_store(&db->st_wal_tail_bytes, st.tail_dropped_bytes);
    }
    /* Salvaged damage must not be met again: flush, and the damaged
     * segments go. */
    while (rc == MERU_OK && c.nkept &&
           (st.corrupt_dropped_bytes ||
            (db->opts.wal_salvage && st.tail_dropped_bytes)))
        rc = replay_flush_oldest(&c);
    /* A torn tail is legal only at the end of the newest segment; the
     * segment stays live (its records wait for the flush) and a new one
     * follows it, so cut the tail off now, durably. */
    if (rc == MERU_OK && st.tail_dropped_bytes && c.nkept &&
        st.tail_segment >= c.kept_seg[0])
        rc = cut_torn_tail(db, st.tail_segment, st.tail_good_end);
    if (rc) {
        rc = meru_err_wrap(rc, "recovery");
        goto out;
    }
    if ((rc = meru_wal_writer_open(&db->wal, db->fs, db->wal_dir, fresh)))
        goto out;
    /* Segments from the oldest kept memtable's on still hold unflushed
     * records; none below it does. The last sequence stays what the files
     * hold: the kept records are only in the log until flushed. */
    live = c.nkept ? c.kept_seg[0] : fresh;
    if (live < oldest)
        live = oldest;
    /* The commit also deletes the segments below `live`. */
    if ((rc = meru_db_commit_l0(db, NULL, 0, true, live, fresh + 1, NULL,
                                NULL))) {
        rc = meru_err_wrap(rc, "recovery: commit");
        goto out;
    }
    db->mem_segment = fresh;
    db->next_segment = fresh + 1;
    {
        uint64_t last = meru_catalog_last_sequence(db->cat);
        if (c.max_seq > last)
            last = c.max_seq;
        db->next_seq = last + 1;
        atomic_store(&db->visible_seq, last);
    }
    pthread_mutex_lock(&db->mu);
    rc = meru_db_imm_reserve_locked(db, c.nkept + 1);
    for (size_t i = 0; rc == MERU_OK && i < c.nkept; i++) {
        db->imm[db->nimm++] = (meru_db_imm){c.kept[i], c.kept_seg[i]};
        db->switched++;
    }
    if (rc == MERU_OK)
        c.nkept = 0;
    pthread_mutex_unlock(&db->mu);
    if (rc == MERU_OK)
        rc = meru_memtable_new(&db->mem, meru_db_memtable_chunk(db));
out:
    replay_ctx_free(&c);
    return rc;
}

/* Read-only: the files of the current version plus the WAL in memory. */
static int load_read_only(meru_db *db)
{
    replay_ctx c;
    meru_db_file **removed = NULL;
    size_t nremoved = 0;
    meru_view *old = NULL;
    uint64_t oldest, next, last;
    int rc;

    memset(&c, 0, sizeof c);
    c.db = db;
    meru_catalog_wal(db->cat, &oldest, &next);
    c.expect = meru_catalog_last_sequence(db->cat) + 1;
    if ((rc = meru_db_check_wal_segments(db->fs, db->wal_dir, oldest, next)) ||
        (rc = meru_memtable_new(&c.mem, meru_db_memtable_chunk(db))))
        return rc;
    meru_wal_replay_stats st;
    rc = meru_wal_replay(db->fs, db->wal_dir, oldest, db->opts.wal_salvage != 0,
                         replay_record, &c, &st);
    if (rc == MERU_NOT_FOUND && !c.gap) /* no wal directory (yet) */
        rc = MERU_OK;
    if (rc) {
        replay_ctx_free(&c);
        return rc;
    }
    atomic_store(&db->st_wal_salvaged_bytes, st.corrupt_dropped_bytes);
    atomic_store(&db->st_wal_salvaged_regions, st.corrupt_regions);
    atomic_store(&db->st_wal_tail_bytes, st.tail_dropped_bytes);
    last = meru_catalog_last_sequence(db->cat);
    if (c.max_seq > last)
        last = c.max_seq;
    /* The catalog is read: hold its lock (order: cat_mu, mu). */
    pthread_mutex_lock(&db->cat_mu);
    atomic_store(&db->meta_version, meru_catalog_version(db->cat));
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < db->nimm; i++)
        meru_memtable_unref(db->imm[i].mem);
    db->nimm = 0;
    if ((rc = meru_db_imm_reserve_locked(db, c.nkept + 1))) {
        pthread_mutex_unlock(&db->mu);
        pthread_mutex_unlock(&db->cat_mu);
        goto out;
    }
    /* The writer may have added columns since this handle's schema. */
    if ((rc = meru_db_follow_schema_locked(db))) {
        pthread_mutex_unlock(&db->mu);
        pthread_mutex_unlock(&db->cat_mu);
        goto out;
    }
    for (size_t i = 0; i < c.nkept; i++)
        db->imm[db->nimm++] = (meru_db_imm){c.kept[i], 0};
    c.nkept = 0;
    meru_memtable_set_immutable(c.mem);
    db->imm[db->nimm++] = (meru_db_imm){c.mem, 0};
    c.mem = NULL;
    if (!db->mem)
        rc = meru_memtable_new(&db->mem, meru_db_memtable_chunk(db));
    if (rc == MERU_OK)
        rc = meru_db_sync_files_locked(db, &removed, &nremoved);
    if (rc == MERU_OK)
        rc = meru_db_install_view_locked(db, &old);
    if (rc == MERU_OK)
        atomic_store(&db->visible_seq, last);
    pthread_mutex_unlock(&db->mu);
    pthread_mutex_unlock(&db->cat_mu);
    meru_db_view_unref(old);
    meru_db_files_release(removed, nremoved);
    /* Open every file now: the writer (another process) deletes files it
     * compacted away, and an open descriptor keeps them readable for the
     * views and snapshots of this handle, under the handle's schema too.
     * A file that cannot be opened is left to fail the reads that need it. */
    if (rc == MERU_OK)
        meru_db_open_all_files(db);
out:
    replay_ctx_free(&c);
    return rc;
}

/* load_read_only, again over the newest metadata while a writer (another
 * process) may have moved on meanwhile: deleting WAL segments and files
 * the version read first still lists. The same version failing twice is
 * damage, not a race. */
/* Whether every file of the current view opened (a file that did not is
 * left to its reads, see meru_db_open_all_files). */
static bool all_files_open(meru_db *db)
{
    meru_view *v = meru_db_view_get(db);
    bool ok = true;
    for (size_t i = 0; ok && i < v->nfiles; i++) {
        meru_sst *t;
        if (meru_db_file_sst(v->files[i], &t)) {
            meru_err_clear();
            ok = false;
        }
    }
    meru_db_view_unref(v);
    return ok;
}

static int load_read_only_retrying(meru_db *db)
{
    int rc = MERU_OK;
    char msg[512] = "";
    for (int attempt = 0; attempt < 5; attempt++) {
        rc = load_read_only(db);
        /* A file that did not open may be one the writer compacted away
         * meanwhile: only if the catalog stayed is it left to its reads. */
        bool unopened = rc == MERU_OK && !all_files_open(db);
        if (!unopened && rc != MERU_ECORRUPT && rc != MERU_NOT_FOUND &&
            rc != MERU_EIO)
            return rc;
        if (rc)
            snprintf(msg, sizeof msg, "%s", meru_errmsg());
        meru_catalog_options co;
        memset(&co, 0, sizeof co);
        co.keep_versions = (uint32_t)db->opts.keep_metadata_versions;
        co.view_off = db->opts.iceberg_view == MERU_ICEBERG_VIEW_OFF;
        meru_catalog *fresh = NULL;
        if (meru_catalog_open(db->fs, db->path, &co, &fresh))
            break;
        if (meru_catalog_version(fresh) == meru_catalog_version(db->cat)) {
            meru_catalog_free(fresh);
            break;
        }
        pthread_mutex_lock(&db->cat_mu);
        meru_catalog_free(db->cat);
        db->cat = fresh;
        pthread_mutex_unlock(&db->cat_mu);
    }
    if (rc == MERU_OK) {
        meru_err_clear(); /* the catalog's failure, if any: not ours */
        return MERU_OK;
    }
    return meru_err(rc, "%s", msg);
}

/* ---------------------------------------------------------------- open */

static meru_db *db_alloc(const meru_options *opts, meru_fs *fs)
{
    meru_db *db = calloc(1, sizeof *db);
    if (!db)
        return NULL;
    db->fs = fs;
    db->opts = *opts;
    db->open_opts = *opts;
    db->open_opts.properties = NULL; /* the caller's memory: not kept */
    db->read_only = opts->read_only != 0;
    pthread_mutex_init(&db->mu, NULL);
    pthread_mutex_init(&db->cat_mu, NULL);
    pthread_mutex_init(&db->switch_mu, NULL);
    pthread_mutex_init(&db->schema_mu, NULL);
    atomic_init(&db->schema, NULL);
    atomic_init(&db->schema_changing, false);
    atomic_init(&db->writes_in_flight, 0);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&db->cv_work, &ca);
        pthread_condattr_destroy(&ca);
    }
    pthread_cond_init(&db->cv_done, NULL);
    return db;
}

static void db_release(meru_db *db)
{
    meru_view *v;
    meru_wal_group_free(db->group);
    db->group = NULL;
    if (db->wal)
        (void)meru_wal_writer_close(db->wal);
    db->wal = NULL;
    pthread_mutex_lock(&db->mu);
    v = db->view;
    db->view = NULL;
    pthread_mutex_unlock(&db->mu);
    meru_db_view_unref(v);
    /* Empty already (every get unpinned before close), but a view left
     * there would be a leak. */
    meru_db_view_release_retired(db);
    for (size_t i = 0; i < db->nimm; i++)
        meru_memtable_unref(db->imm[i].mem);
    free(db->imm);
    db->imm = NULL;
    db->nimm = 0;
    meru_memtable_unref(db->mem);
    db->mem = NULL;
    for (size_t i = 0; i < db->nfiles; i++)
        meru_db_file_unref(db->files[i]);
    free(db->files);
    db->files = NULL;
    db->nfiles = 0;
    for (size_t i = 0; i < db->nchanges; i++)
        meru_db_file_unref(db->changes[i]);
    free(db->changes);
    db->changes = NULL;
    db->nchanges = 0;
    meru_db_gc_run(db, !db->read_only && db->opts.gc_grace_seconds == 0);
    for (size_t i = 0; i < db->ngc; i++)
        free(db->gc[i].abs_path);
    free(db->gc);
    db->gc = NULL;
    db->ngc = 0;
    meru_catalog_free(db->cat);
    db->cat = NULL;
    if (db->lock)
        (void)meru_fs_unlock(db->lock);
    db->lock = NULL;
}

static void db_destroy(meru_db *db)
{
    db_release(db);
    meru_cache_free(db->cache);
    meru_cache_free(db->row_cache);
    meru_admit_free(db->row_admit);
    for (int i = 0; i < MERU_CATALOG_MAX_LEVELS; i++)
        meru_buf_free(&db->compact_ptr[i]);
    free(db->compact_running);
    for (size_t i = 0; i < db->nschemas; i++)
        meru_schema_free(db->schemas[i]);
    free(db->schemas);
    pthread_mutex_destroy(&db->schema_mu);
    pthread_mutex_destroy(&db->mu);
    pthread_mutex_destroy(&db->cat_mu);
    pthread_mutex_destroy(&db->switch_mu);
    pthread_cond_destroy(&db->cv_work);
    pthread_cond_destroy(&db->cv_done);
    free(db);
}

/* A new table's properties: the caller's applied to the options, then
 * every table-shaping option and the caller's other keys, for version 1. */
static int create_catalog(meru_db *db, const meru_schema *schema,
                          meru_catalog_options *co)
{
    meru_catalog_kv *props = NULL;
    size_t nprops = 0;
    int rc = MERU_OK;
    for (const char *const *p = db->opts.properties; rc == MERU_OK && p && *p;
         p += 2)
        rc = meru_prop_check(p[0], p[1], &db->opts);
    if (rc == MERU_OK)
        rc = meru_prop_list_for_create(&db->opts, &props, &nprops);
    if (rc)
        return rc;
    co->props = props;
    co->nprops = nprops;
    rc = meru_catalog_create(db->fs, db->path, schema, co, &db->cat);
    meru_prop_list_free(props, nprops);
    co->props = NULL;
    co->nprops = 0;
    return rc;
}

static int open_catalog(meru_db *db, const meru_schema *schema)
{
    meru_catalog_options co;
    memset(&co, 0, sizeof co);
    co.keep_versions = (uint32_t)db->opts.keep_metadata_versions;
    co.format_version = db->opts.iceberg_format_version;
    co.view_off = db->opts.iceberg_view == MERU_ICEBERG_VIEW_OFF;
    int rc = meru_catalog_open(db->fs, db->path, &co, &db->cat);
    if (rc == MERU_OK) {
        if (db->opts.error_if_exists)
            return meru_err(MERU_EEXIST,
                            "%s: a table already exists there "
                            "(error_if_exists is set)",
                            db->path);
        return meru_prop_apply_stored(db->cat, &db->opts);
    }
    if (rc != MERU_NOT_FOUND)
        return rc;
    if (db->read_only || !db->opts.create_if_missing)
        return meru_err(MERU_NOT_FOUND, "%s: no table there%s", db->path,
                        db->read_only ? "" : " (create_if_missing is 0)");
    if (!schema)
        return meru_err(MERU_EINVAL,
                        "%s: no table there; creating one needs "
                        "a schema",
                        db->path);
    return create_catalog(db, schema, &co);
}

/* A table with files but no recorded Iceberg view (written before the view
 * existed, with iceberg_view off, or moved) gets its vectors rebuilt from
 * the data and its whole view written, once, in one commit. */
static int view_bootstrap(meru_db *db)
{
    meru_catalog_edit *e = NULL;
    meru_dv **dvs = NULL;
    int rc = MERU_OK;
    if (db->opts.iceberg_view != MERU_ICEBERG_VIEW_CONTINUOUS)
        return MERU_OK;
    pthread_mutex_lock(&db->cat_mu);
    if (meru_catalog_has_view(db->cat))
        goto done;
    if (!(dvs = calloc(db->nfiles + 1, sizeof *dvs))) {
        rc = meru_err(MERU_ENOMEM, "open: out of memory (Iceberg view)");
        goto done;
    }
    if ((rc = meru_db_rebuild_dvs(db->files, db->nfiles, dvs)) ||
        (rc = meru_catalog_edit_new(db->cat, &e)))
        goto done;
    for (size_t i = 0; i < db->nfiles && !rc; i++)
        if (dvs[i])
            rc = meru_catalog_edit_set_dv(e, db->files[i]->meta.path, dvs[i]);
    if (!rc)
        rc = meru_catalog_commit(db->cat, e);
    if (!rc)
        atomic_store(&db->meta_version, meru_catalog_version(db->cat));
done:
    pthread_mutex_unlock(&db->cat_mu);
    if (dvs)
        for (size_t i = 0; i < db->nfiles; i++)
            meru_dv_free(dvs[i]);
    free(dvs);
    meru_catalog_edit_free(e);
    return rc ? meru_err_wrap(rc, "open: writing the Iceberg view") : rc;
}

/* Each (key, value) of opts->properties may be stored (checked on a
 * scratch copy: nothing is applied yet, the table may exist already). */
static int check_properties(const meru_options *opts)
{
    meru_options scratch = *opts;
    for (const char *const *p = opts->properties; p && *p; p += 2) {
        if (!p[1])
            return meru_err(MERU_EINVAL,
                            "meru_open: options.properties: '%.128s' has no "
                            "value (the list is key, value, ..., NULL)",
                            p[0]);
        int rc = meru_prop_check(p[0], p[1], &scratch);
        if (rc)
            return meru_err_wrap(rc, "meru_open: options.properties");
    }
    return MERU_OK;
}

int meru_open(const char *path, const meru_options *given,
              const meru_schema *schema, meru_db **out)
{
    return meru_db_open_fs(path, given, schema, meru_fs_posix(), out);
}

int meru_db_open_fs(const char *path, const meru_options *given,
                    const meru_schema *schema, meru_fs *fs, meru_db **out)
{
    meru_options defaults, full;
    const meru_options *opts;
    meru_db *db;
    char lock_path[MERU_DB_PATH_MAX], dir[MERU_DB_PATH_MAX];
    size_t page_cache, row_cache;
    int rc, exists = 0;

    if (!out)
        return meru_err(MERU_EINVAL, "meru_open: NULL out");
    *out = NULL;
    if (!path || !*path)
        return meru_err(MERU_EINVAL, "meru_open: empty path");
    if (!fs)
        return meru_err(MERU_EINVAL, "meru_open: NULL file system");
    if (!given) {
        meru_options_init(&defaults);
        given = &defaults;
    }
    if ((rc = meru_options_upgrade(given, &full)) ||
        (rc = meru_options_validate(&full)) || (rc = check_properties(&full)))
        return rc;
    opts = &full;
    if (strlen(path) + 64 >= MERU_DB_PATH_MAX)
        return meru_err(MERU_ERANGE, "meru_open: path too long");
    if (!(db = db_alloc(opts, fs)))
        return meru_err(MERU_ENOMEM, "out of memory (table handle)");
    snprintf(db->path, sizeof db->path, "%s", path);
    snprintf(db->wal_dir, sizeof db->wal_dir, "%s/wal", path);

    if ((rc = meru_fs_exists(db->fs, path, &exists)))
        goto fail;
    if (!exists) {
        if (db->read_only || !opts->create_if_missing) {
            rc = meru_err(MERU_NOT_FOUND, "%s: no table there", path);
            goto fail;
        }
        if (!schema) {
            rc = meru_err(MERU_EINVAL,
                          "%s: no table there; creating one "
                          "needs a schema",
                          path);
            goto fail;
        }
        if ((rc = meru_fs_mkdir_p(db->fs, path)))
            goto fail;
    }
    if (!db->read_only) {
        snprintf(lock_path, sizeof lock_path, "%s/LOCK", path);
        if ((rc = meru_fs_lock(db->fs, lock_path, &db->lock))) {
            if (rc == MERU_ELOCKED)
                rc = meru_err(MERU_ELOCKED,
                              "%s: another process (or handle) "
                              "has the table open for writing",
                              path);
            goto fail;
        }
    }
    rc = open_catalog(db, schema);
    db->opts.properties = NULL; /* the caller's memory: not kept */
    if (rc || (rc = meru_db_settle_schema(db, schema)))
        goto fail;
    atomic_store(&db->meta_version, meru_catalog_version(db->cat));
    meru_options_cache_split(opts, &page_cache, &row_cache);
    /* Decoded pages weigh 4 KiB to 1 MiB: shards of at least 4 MiB (8 at
     * 64 MiB) rather than 16 of 4 MiB at any size, where the largest
     * pages, unevenly hashed, overflowed some shards (110k instructions a
     * warm get with 16 shards vs 104k with 4, before string pages were
     * cached compact). Not fewer: every lookup takes its shard's read
     * lock, and a page insert (a miss: ~0.6 a uniform get) its write
     * lock, which two client threads' lookups then wait for (futex):
     * with 16 MiB shards a 64 MiB budget had 2 (the default 128 MiB 4;
     * now 8 and 16). bench_get --compact, 1M rows, 64 MiB: the same
     * page-cache hit rate (80.0 % uniform, 81.2 % zipfian) and
     * instructions per get with 8 shards as with 2. */
    if ((rc = meru_cache_new_sharded(&db->cache, page_cache,
                                     (size_t)4 << 20)) ||
        (rc = meru_db_row_cache_open(db, row_cache)))
        goto fail;
    meru_sst_keydir_budget_init(&db->keydir, db->cache,
                                (uint64_t)opts->cache_bytes / 4 * 3);
    if (db->read_only) {
        /* The writer flushed or compacted while we read: a WAL segment
         * (NOT_FOUND) or a data file (ECORRUPT, "missing") of the version
         * we read is gone; load_read_only_retrying reads the newest
         * catalog again, and the same version failing twice is damage. */
        if ((rc = load_read_only_retrying(db)))
            goto fail;
        *out = db;
        return MERU_OK;
    }
    snprintf(dir, sizeof dir, "%s/data/L0", path);
    if ((rc = meru_fs_mkdir_p(db->fs, dir)) ||
        (rc = meru_catalog_sweep_orphans(db->cat, 1, NULL, NULL)) ||
        (rc = recover_wal(db)))
        goto fail;
    {
        meru_db_file **removed = NULL;
        size_t nremoved = 0;
        meru_view *old = NULL;
        /* The catalog is read: hold its lock (order: cat_mu, mu). */
        pthread_mutex_lock(&db->cat_mu);
        pthread_mutex_lock(&db->mu);
        rc = meru_db_sync_files_locked(db, &removed, &nremoved);
        if (rc == MERU_OK)
            rc = meru_db_install_view_locked(db, &old);
        pthread_mutex_unlock(&db->mu);
        pthread_mutex_unlock(&db->cat_mu);
        meru_db_view_unref(old);
        meru_db_files_release(removed, nremoved);
        if (rc)
            goto fail;
    }
    /* Check every file against the metadata before any read trusts it. */
    meru_db_open_all_files(db);
    if ((rc = view_bootstrap(db)))
        goto fail;
    if ((rc = meru_db_install_write_hooks(db)) ||
        (rc = meru_db_start_workers(db)) || (rc = meru_db_keydir_start(db)))
        goto fail;
    *out = db;
    return MERU_OK;
fail : {
    /* Keep the message of the failure, not of the cleanup. */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", meru_errmsg());
    meru_db_keydir_stop(db);
    meru_db_stop_workers(db);
    db_destroy(db);
    return meru_err(rc, "%s", msg);
}
}

/* --------------------------------------------------------------- close */

static int final_flush(meru_db *db)
{
    int rc = MERU_OK;
    pthread_mutex_lock(&db->mu);
    if (db->mem && meru_memtable_count(db->mem) > 0 && !db->bg_error) {
        rc = meru_db_imm_reserve_locked(db, db->nimm + 1);
        if (rc == MERU_OK) {
            meru_view *old = NULL;
            meru_memtable *fresh = NULL;
            meru_memtable_set_immutable(db->mem);
            db->imm[db->nimm].mem = db->mem;
            db->imm[db->nimm].segment = db->mem_segment;
            db->nimm++;
            db->switched++;
            db->mem = NULL;
            if (meru_memtable_new(&fresh, 4096) == MERU_OK) {
                meru_memtable_set_immutable(fresh);
                db->mem = fresh;
            }
            rc = meru_db_install_view_locked(db, &old);
            meru_db_wake_workers_locked(db);
            pthread_mutex_unlock(&db->mu);
            meru_db_view_unref(old);
            if (rc == MERU_OK)
                rc = meru_db_wait_flushed(db);
            return rc;
        }
    }
    pthread_mutex_unlock(&db->mu);
    return rc ? rc : meru_db_wait_flushed(db);
}

int meru_close(meru_db *db)
{
    int rc = MERU_OK, rc2;
    if (!db)
        return meru_err(MERU_EINVAL, "meru_close: NULL handle");
    pthread_mutex_lock(&db->mu);
    if (db->closed) {
        pthread_mutex_unlock(&db->mu);
        return MERU_OK;
    }
    db->closed = true;
    pthread_cond_broadcast(&db->cv_done);
    pthread_mutex_unlock(&db->mu);
    /* A schema change under way either committed already or sees `closed`
     * before committing: wait for it, so nothing commits after close. */
    pthread_mutex_lock(&db->schema_mu);
    pthread_mutex_unlock(&db->schema_mu);

    if (!db->read_only) {
        /* No write can start now; let the ones in flight finish (those
         * still queued fail with MERU_ECLOSED: they were not written). */
        pthread_mutex_lock(&db->switch_mu);
        meru_wal_group_close(db->group);
        meru_wal_group_stats_get(db->group, &db->final_group_stats);
        pthread_mutex_unlock(&db->switch_mu);
        if (db->wal) {
            rc = meru_wal_writer_close(db->wal);
            db->wal = NULL;
        }
        rc2 = final_flush(db);
        if (!rc)
            rc = rc2;
    }
    meru_db_keydir_stop(db);
    meru_db_stop_workers(db);
    pthread_mutex_lock(&db->mu);
    if (!rc && db->bg_error)
        rc = meru_db_bg_error_locked(db);
    pthread_mutex_unlock(&db->mu);
    if (!db->read_only) {
        /* Obsolete files no view holds any more can go now. */
        meru_db_gc_run(db, db->opts.gc_grace_seconds == 0);
        if (db->lock) {
            (void)meru_fs_unlock(db->lock);
            db->lock = NULL;
        }
    }
    return rc;
}

void meru_db_free(meru_db *db)
{
    if (!db)
        return;
    (void)meru_close(db);
    db_destroy(db);
}

/* ------------------------------------------------------------ snapshots */

int meru_snapshot_new(meru_db *db, meru_snapshot **out)
{
    meru_snapshot *s;
    int rc;
    if (!out)
        return meru_err(MERU_EINVAL, "meru_snapshot_new: NULL out");
    *out = NULL;
    if ((rc = meru_db_check_open(db)))
        return rc;
    if (!(s = calloc(1, sizeof *s)))
        return meru_err(MERU_ENOMEM, "out of memory (snapshot)");
    s->db = db;
    pthread_mutex_lock(&db->mu);
    s->seq = atomic_load_explicit(&db->visible_seq, memory_order_acquire);
    if (db->read_only) {
        s->view = db->view;
        atomic_fetch_add_explicit(&s->view->refs, 1, memory_order_relaxed);
    }
    s->next = db->snapshots;
    if (db->snapshots)
        db->snapshots->prev = s;
    db->snapshots = s;
    db->nsnapshots++;
    pthread_mutex_unlock(&db->mu);
    *out = s;
    return MERU_OK;
}

void meru_snapshot_free(meru_snapshot *s)
{
    meru_db *db;
    if (!s)
        return;
    db = s->db;
    pthread_mutex_lock(&db->mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        db->snapshots = s->next;
    if (s->next)
        s->next->prev = s->prev;
    db->nsnapshots--;
    pthread_mutex_unlock(&db->mu);
    meru_db_view_unref(s->view);
    free(s);
}

uint64_t meru_snapshot_sequence(const meru_snapshot *s)
{
    return s ? s->seq : 0;
}

uint64_t meru_db_oldest_snapshot(meru_db *db)
{
    uint64_t seq;
    pthread_mutex_lock(&db->mu);
    seq = atomic_load(&db->visible_seq);
    for (meru_snapshot *s = db->snapshots; s; s = s->next)
        if (s->seq < seq)
            seq = s->seq;
    pthread_mutex_unlock(&db->mu);
    return seq;
}

/* -------------------------------------------------------------- refresh */

int meru_refresh(meru_db *db)
{
    meru_catalog *fresh = NULL;
    meru_catalog_options co = {0};
    int rc;
    if ((rc = meru_db_check_open(db)))
        return rc;
    if (!db->read_only)
        return MERU_OK;
    memset(&co, 0, sizeof co);
    co.keep_versions = (uint32_t)db->opts.keep_metadata_versions;
    co.keep_snapshots = 0;
    co.view_off = db->opts.iceberg_view == MERU_ICEBERG_VIEW_OFF;
    /* The writer may delete WAL segments while we read them: retry. */
    for (int attempt = 0; attempt < 5; attempt++) {
        if ((rc = meru_catalog_open(db->fs, db->path, &co, &fresh)))
            return rc;
        pthread_mutex_lock(&db->cat_mu);
        meru_catalog_free(db->cat);
        db->cat = fresh;
        {
            /* The writer may have changed table properties: the options
             * in effect are the opener's with the new stored ones. */
            meru_options o = db->open_opts;
            if (meru_prop_apply_stored(fresh, &o) == MERU_OK) {
                /* Only the shaping fields: the others are read without
                 * mu. */
                size_t n;
                const meru_prop_def *d = meru_prop_defs(&n);
                pthread_mutex_lock(&db->mu);
                for (size_t i = 0; i < n; i++)
                    meru_prop_copy_field(&d[i], &db->opts, &o);
                pthread_mutex_unlock(&db->mu);
            }
        }
        pthread_mutex_unlock(&db->cat_mu);
        rc = load_read_only(db);
        if (rc != MERU_NOT_FOUND && rc != MERU_ECORRUPT && rc != MERU_EIO)
            return rc;
    }
    return rc;
}
