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
 * robin) plus the overlapping files of L+1. Either also takes the small
 * files of L+1 next to that run (below a quarter of target_file_bytes,
 * within max_compaction_bytes): the last, partly filled output of one job
 * is merged by the next instead of staying a small file forever (forty
 * one-row `meru put`s used to leave ten 1.8 KB L1 files). Files taken are
 * marked `compacting`, so several workers run disjoint jobs at once with
 * no global compaction lock; a job whose files are busy is not picked.
 *
 * Settling (idle work): when no job is due and the table has been quiet
 * for MERU_DB_SETTLE_MS (no new sequence number, nothing to flush, no job
 * running), the files below the triggers are compacted too: L0 into L1
 * (so a loaded then idle table ends column-tuned and compressed, near its
 * compacted size, without a meru_compact), then runs of two or more small
 * adjacent files of a level >= 1 merged in place. Workers sleep with a
 * timeout while such work waits for the quiet period.
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
 * A manual compaction's last step rewrites the bottom level in place, but
 * only files a rewrite would change (something to drop, found by walking
 * their keys through the compaction iterator): a compacted table is left
 * as it is (run_bottom).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/compact_iter.h"
#include "engine/db_internal.h"
#include "engine/db_lookup.h"
#include "engine/merge.h"
#include "types/keycodec.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/mem.h"

typedef struct job {
    int level;     /* input level */
    int out_level; /* level + 1, or level itself (rewriting the bottom) */
    meru_db_file **in;
    size_t nin;
    bool bottommost;
    uint64_t *snaps;
    size_t nsnaps;
    bool unmarked; /* inputs released and counted out (under mu) */
    /* The continuous Iceberg view: the inputs' deletion vectors as the job
     * starts (NULL entries: none), captured under cat_mu. */
    bool view;
    meru_dv **in_dv;
} job;

/* How long the table must be quiet before idle work starts: long enough
 * that a writer pausing between batches does not pay for it, short enough
 * that a loaded table settles soon after the load. */
#define MERU_DB_SETTLE_MS 1000

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

static uint64_t job_bytes(const job *j)
{
    uint64_t b = 0;
    for (size_t i = 0; i < j->nin; i++)
        b += j->in[i]->meta.file_size;
    return b;
}

/* A file small enough to be merged with its neighbours rather than kept. */
static bool small_file(const meru_db *db, const meru_db_file *f)
{
    return f->meta.file_size < db->opts.target_file_bytes / 4;
}

static void job_range(const job *j, const uint8_t **lo, size_t *lol,
                      const uint8_t **hi, size_t *hil);
static bool meets_running_job(const meru_db *db, const job *j);

static bool job_has(const job *j, const meru_db_file *f)
{
    for (size_t i = 0; i < j->nin; i++)
        if (j->in[i] == f)
            return true;
    return false;
}

/* Whether a file of `level` that is not in the job overlaps [a, b]. A job
 * widened over such a file would write outputs spanning its keys: the
 * file's own job would then wait for this one (meets_running_job) and
 * later rewrite the widened output along with it. */
static bool level_file_between(meru_db *db, const job *j, int level,
                               const uint8_t *a, size_t al, const uint8_t *b,
                               size_t bl)
{
    size_t lb, le;
    level_range(db, level, &lb, &le);
    for (size_t i = lb; i < le; i++)
        if (!job_has(j, db->files[i]) &&
            overlaps(&db->files[i]->meta, a, al, b, bl))
            return true;
    return false;
}

/* Widens the job's run of `level` files with the small files next to it,
 * while they are free and the job stays within max_compaction_bytes. The
 * run stays contiguous in key order, so the outputs cannot overlap a file
 * of the level left out; nor does it widen over a gap holding a file of
 * the level above that the job leaves out (level_file_between: L1 and
 * deeper; L0 files overlap anyway). [lo, hi] is the key range of the
 * job's inputs from the level above. */
static void add_small_neighbours(meru_db *db, job *j, int level,
                                 const uint8_t *lo, size_t lol,
                                 const uint8_t *hi, size_t hil, size_t cap)
{
    size_t b, e, first = SIZE_MAX, last = 0;
    level_range(db, level, &b, &e);
    if (b == e)
        return;
    for (size_t i = b; i < e; i++)
        if (overlaps(&db->files[i]->meta, lo, lol, hi, hil)) {
            if (first == SIZE_MAX)
                first = i;
            last = i + 1;
        }
    if (first == SIZE_MAX) { /* no overlap: where the range falls */
        first = b;
        while (first < e && kcmp(db->files[first]->meta.smallest,
                                 db->files[first]->meta.smallest_len, hi,
                                 hil) <= 0)
            first++;
        last = first;
    }
    uint64_t bytes = job_bytes(j);
    const uint8_t *jlo, *jhi;
    size_t jlol, jhil;
    job_range(j, &jlo, &jlol, &jhi, &jhil);
    bool check = level - 1 >= 1;
    while (first > b) {
        meru_db_file *f = db->files[first - 1];
        if (f->compacting || !small_file(db, f) ||
            bytes + f->meta.file_size > db->opts.max_compaction_bytes ||
            (check && level_file_between(db, j, level - 1, f->meta.largest,
                                         f->meta.largest_len, jlo, jlol)) ||
            add_input(j, f, cap))
            break;
        bytes += f->meta.file_size;
        jlo = f->meta.smallest, jlol = f->meta.smallest_len;
        first--;
    }
    while (last < e) {
        meru_db_file *f = db->files[last];
        if (f->compacting || !small_file(db, f) ||
            bytes + f->meta.file_size > db->opts.max_compaction_bytes ||
            (check && level_file_between(db, j, level - 1, jhi, jhil,
                                         f->meta.smallest,
                                         f->meta.smallest_len)) ||
            add_input(j, f, cap))
            break;
        bytes += f->meta.file_size;
        jhi = f->meta.largest, jhil = f->meta.largest_len;
        last++;
    }
}

/* Bottommost: nothing deeper than `level` overlaps the job's inputs, so no
 * older version of any key in its range can exist below the output. */
static void set_bottommost(meru_db *db, job *j, int level);

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
    if (!manual)
        add_small_neighbours(db, j, level + 1, lo, lol, hi, hil, cap);
    if (meets_running_job(db, j))
        return JOB_BUSY;
    set_bottommost(db, j, level + 1);
    return JOB_READY;
}

static void set_bottommost(meru_db *db, job *j, int level)
{
    const uint8_t *lo, *hi;
    size_t lol, hil;
    job_range(j, &lo, &lol, &hi, &hil);
    j->bottommost = true;
    for (size_t i = 0; i < db->nfiles && j->bottommost; i++) {
        const meru_catalog_file *m = &db->files[i]->meta;
        if (m->level > level && overlaps(m, lo, lol, hi, hil))
            j->bottommost = false;
    }
}

/* Manual compaction's last step: rewrite the files of the deepest level
 * in the range into that level, dropping what no snapshot reads (mu
 * held). "Deepest" is the level compact_range saw when it started; a
 * background job may have moved files below it since (its own pushes
 * fill the level again), so whether the rewrite is the bottom is looked
 * up now, as for any job: a tombstone dropped above an older put of its
 * key would bring the put back. */
static int fill_bottom(meru_db *db, job *j, int level, const krange *r)
{
    size_t b, e;
    j->level = j->out_level = level;
    j->nin = 0;
    level_range(db, level, &b, &e);
    if (b == e)
        return JOB_EMPTY;
    for (size_t i = b; i < e; i++) {
        if (!in_krange(&db->files[i]->meta, r))
            continue;
        if (db->files[i]->compacting || add_input(j, db->files[i], db->nfiles))
            return JOB_BUSY;
    }
    if (j->nin == 0)
        return JOB_EMPTY;
    if (meets_running_job(db, j))
        return JOB_BUSY;
    set_bottommost(db, j, level);
    return JOB_READY;
}

/* Marks the job's inputs as taken (or frees them) and keeps the list of
 * jobs holding inputs (db->compact_running, mu held). Registering can fail
 * only for memory; the caller then does not run the job. */
static int mark(meru_db *db, job *j, bool on)
{
    if (on) {
        if (db->ncompact_running == db->compact_running_cap) {
            size_t cap = db->compact_running_cap ? 2 * db->compact_running_cap
                                                 : 8;
            void **a = realloc(db->compact_running, cap * sizeof *a);
            if (!a)
                return meru_err(MERU_ENOMEM, "out of memory (compaction)");
            db->compact_running = a;
            db->compact_running_cap = cap;
        }
        db->compact_running[db->ncompact_running++] = j;
    } else {
        for (size_t i = 0; i < db->ncompact_running; i++)
            if (db->compact_running[i] == j) {
                db->compact_running[i] =
                    db->compact_running[--db->ncompact_running];
                break;
            }
    }
    for (size_t i = 0; i < j->nin; i++)
        j->in[i]->compacting = on;
    return MERU_OK;
}

/* Whether the key range of j's inputs meets that of a running job with the
 * same output level (mu held). Each job writes its outputs over the whole
 * range of its inputs, gaps included, and checks only the files present
 * when it was picked: a job of a file that reached the level since, inside
 * a gap the running job was widened over (add_small_neighbours), would
 * see nothing to wait for, and the second commit would find two files of
 * the output level overlapping. */
static bool meets_running_job(const meru_db *db, const job *j)
{
    const uint8_t *lo, *hi;
    size_t lol, hil;
    job_range(j, &lo, &lol, &hi, &hil);
    for (size_t i = 0; i < db->ncompact_running; i++) {
        const job *r = db->compact_running[i];
        const uint8_t *rlo, *rhi;
        size_t rlol, rhil;
        if (r == j || r->out_level != j->out_level || r->nin == 0)
            continue;
        job_range(r, &rlo, &rlol, &rhi, &rhil);
        if (kcmp(hi, hil, rlo, rlol) >= 0 && kcmp(lo, lol, rhi, rhil) <= 0)
            return true;
    }
    return false;
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

/* ---------------------------------------------------------- settling */

/* The first run of two or more adjacent small free files of a level >= 1
 * as a job rewriting them in place (mu held); false when there is none. */
static bool fill_small_run(meru_db *db, job *j)
{
    int deepest = deepest_level(db);
    for (int level = 1; level <= deepest; level++) {
        size_t b, e;
        level_range(db, level, &b, &e);
        for (size_t i = b; i < e;) {
            size_t k = i;
            while (k < e && !db->files[k]->compacting &&
                   small_file(db, db->files[k]))
                k++;
            if (k - i >= 2) {
                uint64_t bytes = 0;
                j->level = j->out_level = level;
                j->nin = 0;
                for (size_t f = i; f < k; f++) {
                    if (j->nin >= 2 && bytes + db->files[f]->meta.file_size >
                                           db->opts.max_compaction_bytes)
                        break;
                    bytes += db->files[f]->meta.file_size;
                    add_input(j, db->files[f], db->nfiles);
                }
                set_bottommost(db, j, level);
                return true;
            }
            i = k + 1;
        }
    }
    return false;
}

/* Whether idle work exists (mu held): free L0 files, or a run of small
 * files in a level >= 1. */
static bool settle_work_locked(meru_db *db)
{
    size_t b, e;
    level_range(db, 0, &b, &e);
    for (size_t i = b; i < e; i++)
        if (!db->files[i]->compacting)
            return true;
    int deepest = deepest_level(db);
    for (int level = 1; level <= deepest; level++) {
        level_range(db, level, &b, &e);
        for (size_t i = b; i + 1 < e; i++)
            if (!db->files[i]->compacting && !db->files[i + 1]->compacting &&
                small_file(db, db->files[i]) &&
                small_file(db, db->files[i + 1]))
                return true;
    }
    return false;
}

bool meru_db_settle_due_locked(meru_db *db, uint64_t now_ms, uint64_t *wake_ms)
{
    *wake_ms = UINT64_MAX;
    if (db->read_only || db->closed || db->stop || db->bg_error ||
        !settle_work_locked(db))
        return false;
    uint64_t seq = atomic_load_explicit(&db->visible_seq, memory_order_acquire);
    if (seq != db->quiet_seq || db->nimm ||
        atomic_load_explicit(&db->st_compacting, memory_order_relaxed)) {
        db->quiet_seq = seq;
        db->quiet_since_ms = now_ms;
    }
    if (now_ms - db->quiet_since_ms >= MERU_DB_SETTLE_MS)
        return true;
    *wake_ms = db->quiet_since_ms + MERU_DB_SETTLE_MS;
    return false;
}

/* The idle job (mu held): all free L0 files into L1, else a small run. */
static bool pick_settle_job(meru_db *db, job *j)
{
    size_t b, e;
    level_range(db, 0, &b, &e);
    if (b < e) {
        /* fill_job's L0 pick takes the oldest files up to
         * max_compaction_bytes; repeated settles take the rest. */
        if (fill_job(db, j, 0, NULL) == JOB_READY)
            return true;
        j->nin = 0;
    }
    return fill_small_run(db, j);
}

int meru_db_compactions_pending_locked(meru_db *db)
{
    int n = 0, deepest = deepest_level(db);
    for (int level = 0; level <= deepest; level++)
        n += level_score(db, level) >= 1.0;
    if (n == 0 && settle_work_locked(db))
        n = 1; /* idle work, due once the table is quiet */
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
static int merged_inputs(job *j, meru_iiter **out, meru_iiter ***kids_out)
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
static bool output_hidden(const job *j, meru_iiter *merged, meru_iiter **kids,
                          bool first, int op)
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
static void release_inputs(const job *j)
{
    for (size_t i = 0; i < j->nin; i++) {
        meru_sst *t;
        if (meru_db_file_sst(j->in[i], &t) == MERU_OK)
            meru_sst_release_pages(t);
    }
}

/* Streams the merge into output files of the next level (with the
 * continuous view, each with its deletion vector). */
static int write_outputs(meru_db *db, job *j, outputs *o)
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
        bool first = !have_last ||
                     kcmp(ikey, ulen, last_user.data, last_user.len) != 0;
        /* Cut only between user keys, so a key's versions stay together
         * and level files never overlap. */
        if (w && meru_sst_writer_bytes(w) >= opts.target_file_bytes &&
            first) {
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
static int capture_dvs(meru_db *db, job *j)
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
    job *j;
    const meru_catalog_file *last; /* input of j->level compacted last */
    uint64_t read, written;        /* bytes */
} job_done;

/* Under mu, with the view that shows the outputs: count the job, release
 * its inputs (in one critical section with that view) and move the
 * level's round-robin pointer. */
static void finish_job(meru_db *db, void *arg)
{
    job_done *d = arg;
    atomic_fetch_add_explicit(&db->st_compactions, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_compact_read, d->read,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&db->st_compact_written, d->written,
                              memory_order_relaxed);
    mark(db, d->j, false);
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
static int commit_job(meru_db *db, job *j, outputs *o, bool *committed)
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

/* Releases the inputs of a job that failed, or whose publish failed
 * before its edit ran. */
static void unmark_if_needed(meru_db *db, job *j)
{
    pthread_mutex_lock(&db->mu);
    if (!j->unmarked) {
        mark(db, j, false);
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
static int run_job(meru_db *db, job *j)
{
    outputs o = {0};
    bool committed = false;
    int rc = MERU_OK;

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
static int job_prepare_locked(meru_db *db, job *j)
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
    int rc = mark(db, j, true);
    if (rc)
        return rc;
    /* Counted as running from the moment its inputs are taken (mu). */
    atomic_fetch_add_explicit(&db->st_compacting, 1, memory_order_relaxed);
    return MERU_OK;
}

static void job_release(job *j)
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
        uint64_t wake;
        bool settle = meru_db_settle_due_locked(
            db, meru_clock_ns() / 1000000u, &wake);
        if (!settle || !pick_settle_job(db, &j)) {
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
static int bottom_droppable(const job *j, size_t i, bool *drop)
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
static int run_bottom(meru_db *db, job *j)
{
    bool *drop = calloc(j->nin ? j->nin : 1, sizeof *drop);
    int rc = drop ? MERU_OK : meru_err(MERU_ENOMEM, "out of memory");
    for (size_t i = 0; rc == MERU_OK && i < j->nin; i++)
        rc = bottom_droppable(j, i, &drop[i]);
    for (size_t i = 0; rc == MERU_OK && i < j->nin;) {
        size_t e = i;
        job sub;
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
    mark(db, j, false);
    j->unmarked = true;
    pthread_cond_broadcast(&db->cv_done);
    pthread_mutex_unlock(&db->mu);
    free(drop);
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
