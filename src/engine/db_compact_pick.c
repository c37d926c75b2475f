/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_compact_pick.c — which files a compaction job takes (SPEC §8).
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
 * one-row `meru put`s used to leave ten 1.8 KB L1 files). An L >= 1 job
 * left with its one file and nothing of L+1 is a trivial move (can_move):
 * the file changes level in the metadata, with no rewrite (sequential
 * keys: each file lands where nothing overlaps it). Files taken are
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
 * The rest of a job (running, committing, manual compaction) is in
 * db_compact.c.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/db_compact.h"
#include "engine/db_internal.h"
#include "types/keycodec.h"
#include "util/error.h"

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

static int add_input(compact_job *j, meru_db_file *f, size_t cap)
{
    if (j->nin == cap)
        return -1;
    j->in[j->nin++] = f;
    return 0;
}

/* Adds the files of `level` overlapping [lo, hi]; false if one is busy. */
static bool add_overlapping(meru_db *db, compact_job *j, int level,
                            const uint8_t *lo, size_t lol, const uint8_t *hi,
                            size_t hil, size_t cap)
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

static uint64_t job_bytes(const compact_job *j)
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

static void job_range(const compact_job *j, const uint8_t **lo, size_t *lol,
                      const uint8_t **hi, size_t *hil);
static bool meets_running_job(const meru_db *db, const compact_job *j);

static bool job_has(const compact_job *j, const meru_db_file *f)
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
static bool level_file_between(meru_db *db, const compact_job *j, int level,
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
static void add_small_neighbours(meru_db *db, compact_job *j, int level,
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
        while (first < e &&
               kcmp(db->files[first]->meta.smallest,
                    db->files[first]->meta.smallest_len, hi, hil) <= 0)
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
            (check &&
             level_file_between(db, j, level - 1, jhi, jhil, f->meta.smallest,
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
static void set_bottommost(meru_db *db, compact_job *j, int level);

/* The key range of the job's inputs. */
static void job_range(const compact_job *j, const uint8_t **lo, size_t *lol,
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

static bool in_krange(const meru_catalog_file *m, const krange *r)
{
    return (!r->lo || kcmp(m->largest, m->largest_len, r->lo, r->lol) >= 0) &&
           (!r->hi || kcmp(m->smallest, m->smallest_len, r->hi, r->hil) <= 0);
}

/* Bytes of `level` files overlapping the job's key range. */
static uint64_t overlap_bytes(meru_db *db, const compact_job *j, int level)
{
    const uint8_t *lo, *hi;
    size_t lol, hil, b, e;
    uint64_t bytes = 0;
    job_range(j, &lo, &lol, &hi, &hil);
    level_range(db, level, &b, &e);
    for (size_t i = b; i < e; i++)
        if (overlaps(&db->files[i]->meta, lo, lol, hi, hil))
            bytes += db->files[i]->meta.file_size;
    return bytes;
}

/* Whether a job of one L1+ file and nothing of the level below can move
 * that file down instead of rewriting it (mu held). Files of L1 and
 * deeper share one page shape, so a rewrite would copy the rows as they
 * are; L0 files are row-tuned and always rewritten. As in LevelDB, a file
 * overlapping more than ten target files' bytes two levels down is
 * rewritten instead: moved, it would make that next compaction costly.
 * (mu held) */
static bool can_move(meru_db *db, const compact_job *j, int level)
{
    if (level < 1 || j->nin != 1 || j->in[0]->meta.level != level)
        return false;
    /* A suspect file's key range cannot be trusted to place it (its
     * rewrite fails and says so); a manual compaction running rewrites
     * every level down to the one it started from as the bottom. */
    if (meru_db_file_suspect(j->in[0]) || db->manual_compactions)
        return false;
    if (level + 2 >= MERU_CATALOG_MAX_LEVELS)
        return true;
    uint64_t limit = db->opts.target_file_bytes > UINT64_MAX / 10
                         ? UINT64_MAX
                         : db->opts.target_file_bytes * 10;
    return overlap_bytes(db, j, level + 2) <= limit;
}

/* Fills the job for `level` (mu held). `manual` (meru_compact_range):
 * every file of the level that overlaps the range (all of L0: taking only
 * some L0 files could put newer versions below older ones left in L0). */
int compact_fill_job(meru_db *db, compact_job *j, int level,
                     const krange *manual)
{
    size_t b, e, cap = db->nfiles;
    const uint8_t *lo, *hi;
    size_t lol, hil;
    j->level = level;
    j->out_level = level + 1;
    j->nin = 0;
    j->move = false;
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
    j->move = !manual && can_move(db, j, level);
    return JOB_READY;
}

static void set_bottommost(meru_db *db, compact_job *j, int level)
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
int compact_fill_bottom(meru_db *db, compact_job *j, int level, const krange *r)
{
    size_t b, e;
    j->level = j->out_level = level;
    j->nin = 0;
    j->move = false;
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
int compact_mark(meru_db *db, compact_job *j, bool on)
{
    if (on) {
        if (db->ncompact_running == db->compact_running_cap) {
            size_t cap =
                db->compact_running_cap ? 2 * db->compact_running_cap : 8;
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
    /* A job a worker found held back by these files (JOB_BUSY) may run
     * now: a manual compaction's last step that rewrote nothing commits
     * nothing, so no commit would wake the worker (it slept with a level
     * over its target until the next write). */
    if (!on)
        meru_db_wake_workers_locked(db);
    return MERU_OK;
}

/* Whether the key range of j's inputs meets that of a running job with the
 * same output level (mu held). Each job writes its outputs over the whole
 * range of its inputs, gaps included, and checks only the files present
 * when it was picked: a job of a file that reached the level since, inside
 * a gap the running job was widened over (add_small_neighbours), would
 * see nothing to wait for, and the second commit would find two files of
 * the output level overlapping. */
static bool meets_running_job(const meru_db *db, const compact_job *j)
{
    const uint8_t *lo, *hi;
    size_t lol, hil;
    job_range(j, &lo, &lol, &hi, &hil);
    for (size_t i = 0; i < db->ncompact_running; i++) {
        const compact_job *r = db->compact_running[i];
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
static bool fill_small_run(meru_db *db, compact_job *j)
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
                j->move = false;
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
bool compact_pick_settle_job(meru_db *db, compact_job *j)
{
    size_t b, e;
    level_range(db, 0, &b, &e);
    if (b < e) {
        /* fill_job's L0 pick takes the oldest files up to
         * max_compaction_bytes; repeated settles take the rest. */
        if (compact_fill_job(db, j, 0, NULL) == JOB_READY)
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
bool compact_pick_job(meru_db *db, compact_job *j)
{
    double best = 0;
    int best_level = -1;
    int deepest = deepest_level(db);
    for (int level = 0; level <= deepest; level++) {
        double score = level_score(db, level);
        if (score >= 1.0 && score > best) {
            compact_job probe = *j;
            if (compact_fill_job(db, &probe, level, NULL) == JOB_READY) {
                best = score;
                best_level = level;
            }
        }
    }
    if (best_level < 0)
        return false;
    return compact_fill_job(db, j, best_level, NULL) == JOB_READY;
}
