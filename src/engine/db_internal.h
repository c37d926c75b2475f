/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_internal.h — the table handle and what its parts share (db_*.c).
 *
 * The pieces and who owns what:
 *  - The write path (db_write.c) turns puts/deletes into one batch record,
 *    hands it to the group-commit queue, and the queue's leader stamps
 *    sequence numbers (prepare) and inserts into the mutable memtable
 *    (apply), then publishes the visible sequence. Only the leader touches
 *    `mem` and `next_seq`; the queue guarantees one leader at a time.
 *  - A memtable switch (db_write.c) happens inside meru_wal_group_rotate:
 *    no leader runs, the old WAL segment is closed (synced) and the next is
 *    opened, so memtable k holds exactly the records of WAL segment k.
 *  - The flush worker (db_flush.c) writes the oldest immutable memtable to
 *    an L0 file, commits the catalog (which records that segments below the
 *    next memtable's are no longer needed), installs a new view, deletes
 *    the dead segments.
 *  - Readers (db_read.c) take a reference on the current view (memtables +
 *    files) under `mu`, then read without locks. A file removed from the
 *    current version is deleted only when the last view that lists it goes
 *    away (and the grace period has passed).
 *
 *  - Schemas (db_schema.c): the handle's current schema is replaced, never
 *    changed, by a schema change, and every schema the handle has had stays
 *    allocated until the handle is freed. Each view and each file entry
 *    records the schema current when it was made; a read uses its view's.
 *    Writers encode rows inside a "write window" (entered after
 *    backpressure, left when the group commit returns) under the schema
 *    current when they entered it; a schema change closes the window,
 *    waits for the writes inside to leave, commits, then publishes the new
 *    schema, so no row is ever stored under a schema older than the one
 *    current when it became visible.
 *
 * Locks, in the order they may be taken: `schema_mu` (one schema change at
 * a time), the group queue's mutex, then `cat_mu` (catalog commits), then
 * `mu` (views, immutable list, worker state). Nothing blocks on I/O while
 * holding `mu`. Writers never take `cat_mu`, so background work may do I/O
 * under it: a flush looks up the older versions of its keys in the files
 * there (the Iceberg view, db_lookup.h), so that the row positions it hides
 * refer to exactly the files its commit changes. Every commit publishes its
 * file set (db->files and a new view) before releasing `cat_mu`, and
 * db->files changes only with both locks held: so whoever holds `cat_mu`
 * (or `mu`) sees in db->files exactly the catalog's current version.
 */
#ifndef MERU_ENGINE_DB_INTERNAL_H
#define MERU_ENGINE_DB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cache/admit.h"
#include "cache/cache.h"
#include "catalog/catalog.h"
#include "engine/batch.h"
#include "memtable/memtable.h"
#include "merutable.h"
#include "sst/sst.h"
#include "util/fs.h"
#include "wal/group.h"
#include "wal/wal.h"

#define MERU_DB_PATH_MAX 4096
/* Encoded primary keys longer than this are refused: the catalog stores
 * every file's key bounds (hex) in each metadata version, whose size is
 * capped (MERU_CATALOG_MAX_METADATA); 64 KiB keys allow hundreds of files
 * of such keys. Older tables with keys up to the catalog's own cap still
 * open. */
#define MERU_DB_MAX_KEY_BYTES MERU_MAX_KEY_BYTES
_Static_assert(MERU_DB_MAX_KEY_BYTES <= MERU_CATALOG_MAX_KEY_BYTES,
               "keys the engine writes must be keys the catalog reads");
_Static_assert(MERU_DB_MAX_KEY_BYTES + MERU_IKEY_TRAILER_LEN <=
                   MERU_SST_MAX_IKEY,
               "keys the engine writes must be keys an SST holds");

typedef struct meru_db meru_db;

/* Counters of the get path (meru_db.get_stats): 48 bytes of counters
 * padded to 128, so two slots never share a 64-byte cache line. */
#define MERU_DB_GET_STAT_SLOTS 8
typedef struct meru_db_get_stats {
    atomic_uint_fast64_t gets, gets_found, row_hits, row_misses;
    atomic_uint_fast64_t bloom_checks, bloom_negatives;
    char pad[128 - 6 * sizeof(atomic_uint_fast64_t)];
} meru_db_get_stats;

/* Creates db->row_cache of `bytes` (0: none) and its doorkeeper, whose
 * table is taken out of those bytes (db_read.c). MERU_ENOMEM. */
int meru_db_row_cache_open(meru_db *db, size_t bytes);
/* The calling thread's block of db's get counters. */
meru_db_get_stats *meru_db_my_get_stats(meru_db *db);
/* The calling thread's slot number (1, 2, ... in the order of their first
 * get): picks its get counters and its view pin. */
unsigned meru_db_thread_slot(void);

/* One SST of the LSM tree, shared by every view that lists it. */
typedef struct meru_db_file {
    atomic_int refs;
    meru_db *db;
    meru_catalog_file meta; /* own copies of path and key bounds */
    char *abs_path;
    /* The table's schema when the entry was made: it has every column the
     * file holds. `sst` reads the file under it. */
    const meru_schema *schema;
    pthread_mutex_t open_mu;
    /* Opened on first read (under open_mu), closed when the file goes;
     * once set it never changes, so gets read it without the lock. */
    _Atomic(meru_sst *) sst;
    /* Opened, but it contradicts its metadata entry (db_check.c): neither
     * can be trusted, so its key range is unknown and every read that
     * might need it fails with bad_msg (under open_mu). Set once. */
    atomic_bool suspect;
    char bad_msg[512];
    /* The file read under newer schemas (meru_db_file_sst_for), opened on
     * demand, under open_mu. */
    struct meru_db_file_alt {
        const meru_schema *schema;
        meru_sst *sst;
    } *alts;
    size_t nalts;
    bool obsolete;     /* no longer in the current version: delete at refs 0 */
    /* A file given another level (a trivial move) gets a new entry: views
     * made before still list the old one at the old level. Every later
     * entry of a file points at its first (moved_from, referenced), which
     * owns the readers (sst, alts) and the suspect state for them all
     * (meru_db_file_owner); an entry hands its obsolete flag to it, so
     * the last entry listing the file deletes it. */
    struct meru_db_file *moved_from;
    bool compacting;   /* an input of a running compaction (under mu) */
    uint64_t cache_id; /* distinguishes its row-cache keys */
} meru_db_file;

/* The entry that owns f's readers and suspect state: its first (f itself
 * unless a trivial move made f). */
static inline meru_db_file *meru_db_file_owner(meru_db_file *f)
{
    return f->moved_from ? f->moved_from : f;
}

/* Whether f's file was found to contradict its metadata entry. */
static inline bool meru_db_file_suspect(meru_db_file *f)
{
    return atomic_load_explicit(&meru_db_file_owner(f)->suspect,
                                memory_order_relaxed);
}

/* An immutable snapshot of the LSM shape; readers hold a reference. */
typedef struct meru_view {
    atomic_int refs;
    /* The handle's schema when the view was made: reads through the view
     * return rows of it. Every file of the view has this schema or an
     * older one. */
    const meru_schema *schema;
    meru_memtable *mem;  /* the mutable memtable when the view was made */
    meru_memtable **imm; /* immutable memtables, newest first */
    size_t nimm;
    meru_db_file **files; /* L0 newest first, then L1.. by smallest key */
    size_t nfiles;
    /* files of level L are files[level_start[L] .. level_start[L + 1]) */
    size_t level_start[MERU_CATALOG_MAX_LEVELS + 1];
    /* The change feed's changelog files, by sequence (their meta has
     * path, file_size, row_count, min_seq and max_seq; no keys). */
    meru_db_file **changes;
    size_t nchanges;
    /* On db->retired (under db->mu): replaced while a get had it pinned
     * (meru_db_view_pin); the list holds a reference. */
    struct meru_view *retired_next;
} meru_view;

/* A thread's pin on the current view (meru_db_view_pin), on its own cache
 * line: gets from several threads write only their own. */
#define MERU_DB_VIEW_PINS 16
typedef struct meru_db_view_pin_slot {
    _Atomic(meru_view *) v;
    char pad[64 - sizeof(_Atomic(meru_view *))];
} meru_db_view_pin_slot;

/* An immutable memtable waiting for flush, oldest first in db->imm. */
typedef struct meru_db_imm {
    meru_memtable *mem;
    uint64_t segment; /* the WAL segment holding exactly its records */
} meru_db_imm;

/* A file waiting for its grace period before deletion. */
typedef struct meru_db_gc {
    char *abs_path;
    uint64_t due_ms;
} meru_db_gc;

struct meru_snapshot {
    meru_db *db;
    uint64_t seq;
    /* Read-only handles: the view at the snapshot, so reads through it
     * keep seeing the files of that moment after a refresh (the writer,
     * another process, cannot know this snapshot and may compact those
     * versions away). Writers: NULL (compaction keeps what it reads). */
    meru_view *view;
    meru_snapshot *prev, *next; /* db->snapshots list, under db->mu */
};

struct meru_db {
    meru_fs *fs;
    char path[MERU_DB_PATH_MAX];
    char wal_dir[MERU_DB_PATH_MAX];
    /* The options in effect: the opener's, with the table's stored
     * properties applied. The table-shaping fields (table_props.h) change
     * with meru_set_property: read them under `mu` (meru_db_options_copy);
     * the other fields never change after open. */
    meru_options opts;
    meru_options open_opts; /* as the opener gave them (properties NULL) */
    /* The current schema (meru_db_schema): an element of `schemas`,
     * replaced under mu (db_schema.c); read with atomic loads anywhere. */
    _Atomic(meru_schema *) schema;
    meru_schema **schemas; /* every schema of the handle, under mu */
    size_t nschemas;
    /* Schema changes (db_schema.c): one at a time under schema_mu; while
     * schema_changing is set no write enters the write window, and the
     * change waits for writes_in_flight (writes in the window) to reach 0.
     * schema_changing is set and cleared under mu. */
    pthread_mutex_t schema_mu;
    atomic_bool schema_changing;
    atomic_uint_fast64_t writes_in_flight;
    bool read_only;

    meru_file *lock;
    meru_catalog *cat; /* under cat_mu */
    pthread_mutex_t cat_mu;
    /* The catalog's version after the last commit (set under cat_mu by
     * every committer: meru_db_publish_locked, meru_set_property, open),
     * so meru_stats_get need not wait for cat_mu while a flush looks up
     * older versions under it. */
    atomic_uint_fast64_t meta_version;
    /* The highest sequence a WAL recovery found missing (damage dropped by
     * wal_salvage, segments meru_repair skipped), 0 if none: the change
     * feed's history reaches down to it no more. The iterator's floor is
     * at least this; a writer's next commit that covers it raises the
     * catalog's floor to it (meru_db_changes_commit). */
    atomic_uint_fast64_t changes_lost;

    /* write path */
    meru_wal_group *group;
    meru_wal_writer *wal; /* the segment being written (group-owned use) */
    uint64_t next_seq;    /* leader only */
    atomic_uint_fast64_t visible_seq;
    meru_memtable *mem;        /* leader / rotation only; views copy it */
    uint64_t mem_segment;      /* WAL segment of `mem` */
    uint64_t next_segment;     /* under the rotation (group mutex) */
    pthread_mutex_t switch_mu; /* one memtable switch at a time */

    /* shared state, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv_work; /* workers wait for work or stop (timed waits
                               on CLOCK_MONOTONIC: a wall-clock jump does
                               not move them) */
    uint64_t work_gen;      /* bumped with every cv_work signal */
    pthread_cond_t cv_done; /* writers / meru_flush wait for progress */
    /* The current view: written under mu, read by gets without it
     * (meru_db_view_pin), hence atomic. */
    _Atomic(meru_view *) view;
    /* Views replaced while pinned, each holding a reference until no pin
     * is on it (under mu); nretired is their count, read by every get
     * without the lock. */
    meru_view *retired;
    atomic_uint nretired;
    meru_db_imm *imm;
    size_t nimm, imm_cap;
    /* The current version, same order as views (written under cat_mu and
     * mu: either lock keeps it stable). */
    meru_db_file **files;
    size_t nfiles;
    /* The catalog's changelog files, by sequence (same rules as files). */
    meru_db_file **changes;
    size_t nchanges;
    /* created-ms of the oldest of them (INT64_MAX: none; same rules): the
     * worker expires history by it (meru_db_changes_due_locked). */
    int64_t changes_oldest_ms;
    meru_db_gc *gc;
    size_t ngc, gc_cap;
    meru_snapshot *snapshots; /* newest first */
    uint64_t nsnapshots;
    bool stop; /* workers must exit */
    bool flush_running;
    uint64_t switched; /* memtables made immutable so far */
    uint64_t flushed;  /* ... and flushed (they flush in that order) */
    int bg_error; /* sticky background failure (0 = none) */
    char bg_errmsg[512];
    atomic_bool closed; /* set under mu; read without it (check_open) */
    int nworkers;
    pthread_t workers[64];
    /* The key directory builder (db_keydir.c): kd_stop under mu;
     * kd_cancel stops the build under way. */
    pthread_t kd_thread;
    bool kd_running, kd_stop;
    atomic_bool kd_cancel;
    /* Pages its first pass warmed (meru_sst_warm_pages), and whether
     * that pass is over (tests wait for it). */
    atomic_uint_fast64_t warmed_pages;
    atomic_bool warm_done;

    meru_cache *cache;     /* file blocks: pages and footers */
    /* Key directories of L1+ files (sst.h): charged to `cache`, at most
     * 3/4 of it, so decoded pages keep at least a quarter. */
    meru_sst_keydir_budget keydir;
    meru_cache *row_cache; /* NULL when row_cache_bytes == 0 */
    /* The row cache's doorkeeper (cache/admit.h): a get's answer is
     * stored only on the key's second miss. With row_cache; its bytes
     * come out of the row cache's budget (meru_db_row_cache_open). */
    meru_admit *row_admit;
    /* per level: largest key of the last file compacted (round robin) */
    meru_buf compact_ptr[MERU_CATALOG_MAX_LEVELS];
    /* The compaction jobs holding inputs (db_compact_pick.c, under mu): a new
     * job whose key range meets a running one's at the same output level
     * waits, as the two outputs could overlap there. */
    void **compact_running;
    size_t ncompact_running, compact_running_cap;
    /* meru_compact / meru_compact_range calls running (under mu): no
     * trivial move meanwhile, or a file could be moved below the level
     * the call rewrites last and keep what it would have dropped. */
    int manual_compactions;
    /* Idle work (db_compact_pick.c, under mu): the visible sequence when last
     * looked at, and since when the table has been quiet. */
    uint64_t quiet_seq;
    uint64_t quiet_since_ms;

    /* statistics (relaxed atomics; read by meru_stats_get) */
    atomic_uint_fast64_t st_puts, st_deletes, st_batches;
    atomic_uint_fast64_t st_stall_count, st_stall_micros, st_slowdowns;
    atomic_uint_fast64_t st_flushes, st_flush_bytes;
    atomic_uint_fast64_t st_compactions, st_compact_read, st_compact_written;
    atomic_uint_fast64_t st_compact_moves;
    atomic_uint_fast64_t st_compacting; /* jobs running */
    atomic_uint_fast64_t st_gets, st_gets_found, st_scans;
    atomic_uint_fast64_t st_bloom_checks, st_bloom_negatives;
    atomic_uint_fast64_t st_row_hits, st_row_misses;
    /* The get path's counters, one block per thread slot (gets from
     * several threads would otherwise bounce one cache line on every
     * get); meru_stats adds them to the st_ fields above. */
    meru_db_get_stats get_stats[MERU_DB_GET_STAT_SLOTS];
    /* Pins of the current view by gets (meru_db_view_pin), per thread
     * slot. */
    meru_db_view_pin_slot view_pins[MERU_DB_VIEW_PINS];
    atomic_uint_fast64_t st_open_files;
    atomic_uint_fast64_t nsuspect; /* files with `suspect` set */
    atomic_uint_fast64_t st_wal_tail_bytes, st_wal_salvaged_bytes,
        st_wal_salvaged_regions; /* the last replay's */
    atomic_uint_fast64_t st_view_lookups, st_view_lookup_us;
    atomic_uint_fast64_t st_view_lookup_pages, st_view_hidden;
    atomic_uint_fast64_t st_view_lookup_cpu_us;
    /* rows a compaction hid at commit for flushes that ran meanwhile
     * (internal: tests check the reconcile happens) */
    atomic_uint_fast64_t st_view_reconciled;
    meru_wal_group_stats final_group_stats; /* kept at close */

    /* Tests only (NULL otherwise): called by every compaction job between
     * writing its outputs and committing them, with no lock held, so a
     * test can commit a flush exactly there (the reconcile of the Iceberg
     * view's vectors, db_compact.c). Set before the work it targets. */
    void (*test_before_compaction_commit)(meru_db *db, void *arg);
    /* Likewise by every background flush between writing its L0 file (and
     * the change feed's changelog, when the feed was on as it began) and
     * committing it (db_flush.c). */
    void (*test_before_flush_commit)(meru_db *db, void *arg);
    void *test_arg;
    /* Tests only (0 otherwise): keys per batch of a flush's lookup of
     * older versions (db_flush.c, FLUSH_LOOKUP_BATCH), so that small
     * tables run it in many batches. */
    size_t test_flush_lookup_batch;
};

/* Signals the workers that there may be work (mu held). The generation
 * lets a worker that was busy with mu released see that it missed a
 * signal. */
static inline void meru_db_wake_workers_locked(meru_db *db)
{
    db->work_gen++;
    pthread_cond_broadcast(&db->cv_work);
}

/* ---- db_view.c ---------------------------------------------------------- */

meru_view *meru_db_view_get(meru_db *db); /* takes a reference */
void meru_db_view_unref(meru_view *v);
/* The current view for one short read (a get), without db->mu and without
 * writing the view's count: the thread's pin slot names the view, and a
 * view replaced meanwhile is kept (db->retired) until its pins are gone.
 * When the slot is taken (more threads than slots) it falls back to
 * meru_db_view_get. Unpin with meru_db_view_unpin (a pin keeps a replaced
 * view alive as a reference would; nothing waits for it). */
typedef struct meru_db_pin {
    meru_view *v;
    _Atomic(meru_view *) *slot; /* NULL: v holds a reference instead */
} meru_db_pin;
meru_view *meru_db_view_pin(meru_db *db, meru_db_pin *pin);
void meru_db_view_unpin(meru_db *db, meru_db_pin *pin);
/* Releases the retired views no pin holds (they hold a reference each). */
void meru_db_view_release_retired(meru_db *db);
/* Builds a view from db's current state and installs it (mu held). *old
 * gets the previous view: unref it after unlocking mu (the last reference
 * to a file may queue its deletion, which takes mu). */
int meru_db_install_view_locked(meru_db *db, meru_view **old);
/* A file entry from catalog metadata (copied). refs = 1. */
int meru_db_file_new(meru_db *db, const meru_catalog_file *meta,
                     meru_db_file **out);
void meru_db_file_ref(meru_db_file *f);
void meru_db_file_unref(meru_db_file *f);
/* The open SST of f under f->schema (opened on first use and checked
 * against its metadata entry; a file that cannot be opened is tried again
 * next time, one that contradicts its entry becomes `suspect` for good). */
int meru_db_file_sst(meru_db_file *f, meru_sst **out);
/* Opens every file of the current view now, so that a file contradicting
 * its metadata is known before a read trusts that metadata's key range,
 * and (read-only handles) so that open descriptors keep files the writer
 * deletes readable. A file that fails is left for its reads to report:
 * one damaged file does not fail the whole table. */
void meru_db_open_all_files(meru_db *db);
/* Whether any file of level >= 1 `level` of v is suspect (reads reaching
 * that level cannot trust its key ranges). */
bool meru_db_level_suspect(const meru_view *v, int level);
/* The open SST of f under `schema` (f->schema or a newer schema of the
 * handle: the view's), opened on first use and kept with the entry; a
 * suspect file fails as meru_db_file_sst does. */
int meru_db_file_sst_for(meru_db_file *f, const meru_schema *schema,
                         meru_sst **out);
/* Rebuilds db->files and db->changes from the catalog's current version,
 * reusing entries of files that stay and marking the others obsolete (mu
 * held). The entries dropped go to *removed: release them with
 * meru_db_files_release after unlocking mu. */
int meru_db_sync_files_locked(meru_db *db, meru_db_file ***removed,
                              size_t *nremoved);
void meru_db_files_release(meru_db_file **files, size_t n);
/* After a catalog commit: installs the new file set and a new view, with
 * edit(db, arg) (optional) applied to the shared state under mu in the same
 * step; a failure becomes the sticky background error. Wakes waiters. */
int meru_db_publish(meru_db *db, void (*edit)(meru_db *db, void *arg),
                    void *arg);
/* meru_db_publish with cat_mu already held (by the commit it publishes). */
int meru_db_publish_locked(meru_db *db, void (*edit)(meru_db *db, void *arg),
                           void *arg);
/* Room for n immutable memtables in db->imm (mu held). MERU_ENOMEM. */
int meru_db_imm_reserve_locked(meru_db *db, size_t n);
/* Deletes obsolete files whose grace period passed (any thread, no lock). */
void meru_db_gc_run(meru_db *db, bool force);

/* The arena chunk of a new memtable: small enough that the byte budget
 * is met in many steps, not one; 2 MiB (huge-page backed) for memtables
 * of 32 MiB and more. */
size_t meru_db_memtable_chunk(const meru_db *db);
/* The view a read uses: the snapshot's own, else the current one. */
meru_view *meru_db_read_view(meru_db *db, const meru_snapshot *snap);

/* ---- db_write.c --------------------------------------------------------- */

/* Creates db->group over db->wal with the sequence/apply hooks. */
int meru_db_install_write_hooks(meru_db *db);
/* Makes `mem` immutable and starts a new memtable + WAL segment (when mem
 * holds data or `force`). */
int meru_db_switch_memtable(meru_db *db, bool force);
/* Applies one WAL record (a batch) to `mem` (recovery and the leader). */
int meru_db_apply_record(meru_db *db, meru_memtable *mem, const uint8_t *rec,
                         size_t len, uint64_t *last_seq);

/* ---- db_flush.c --------------------------------------------------------- */

int meru_db_start_workers(meru_db *db);
/* The longest a worker sleeps without a signal. */
#define MERU_DB_WORKER_MAX_WAIT_MS 60000
/* The absolute CLOCK_MONOTONIC time (cv_work's clock) a worker waits until
 * for a grace period ending at due_ms, it being now_ms (both on the
 * meru_clock_ns() / 1e6 scale): now when due_ms has passed, at most
 * MERU_DB_WORKER_MAX_WAIT_MS ahead. */
void meru_db_worker_deadline(uint64_t due_ms, uint64_t now_ms,
                             struct timespec *out);
void meru_db_stop_workers(meru_db *db);

/* ---- db_keydir.c -------------------------------------------------------- */

/* Starts the thread that builds the key directories of the current view's
 * L1+ files ahead of the gets. Writable handles. */
int meru_db_keydir_start(meru_db *db);
/* Stops and joins it (no-op when not started). Before meru_db_stop_workers
 * at close. */
void meru_db_keydir_stop(meru_db *db);

/* An L0 file written from a memtable, waiting for its commit. */
typedef struct meru_db_l0 {
    meru_catalog_file meta;
    /* With the continuous Iceberg view (else NULL / 0): the file's own
     * deletion vector (every row that is not the first of its user key,
     * and every delete), and its distinct user keys in order, copied one
     * after the other into `keybytes` (a lookup walks them once per file
     * it probes: contiguous, they stream through the cache, where keys
     * scattered over the memtable's arena would miss on every one). */
    meru_dv *dv;
    meru_sst_ukey *keys;
    size_t nkeys;
    meru_buf keybytes;
    /* With the change feed on: the flush's changelog job (db_flush.c),
     * which runs beside the L0 write on its own thread: its walk of the
     * memtable gives the keys (then `keys` above stays empty), the lookup
     * of their older versions (for the view too) and the changelog file,
     * made durable before the commit joins the job and names the file.
     * NULL otherwise. */
    struct meru_db_feed_job *feed;
} meru_db_l0;
/* Frees and zeroes; a feed job still running is joined first, and a
 * changelog it wrote that no commit took is removed. */
void meru_db_l0_clear(meru_db_l0 *l);

/* Writes `mem` to a new L0 file (fsynced with its directory); *out gets
 * its catalog entry and, with the continuous view, its own vector and
 * keys (clear it with meru_db_l0_clear). */
int meru_db_write_l0(meru_db *db, meru_memtable *mem, meru_db_l0 *out);
/*
 * Commits one catalog version adding `add` (optional; removed from disk if
 * the commit fails), raising the last sequence to last_seq and, with
 * set_wal, recording the live WAL segments [oldest, next); all under
 * cat_mu. With the continuous view the same commit gives the new file its
 * vector and hides, in the older files, the newest older version of each
 * of its keys that is a put (meru_db_lookup_older over db->files, under
 * cat_mu, so no concurrent commit can change those files meanwhile). After
 * the commit, still under cat_mu: with set_wal the segments below `oldest`
 * are deleted (best effort), then the new file set is published with
 * `edit` (optional) applied under mu (meru_db_publish_locked).
 */
int meru_db_commit_l0(meru_db *db, const meru_db_l0 *add, uint64_t last_seq,
                      bool set_wal, uint64_t oldest, uint64_t next,
                      void (*edit)(meru_db *db, void *arg), void *arg);
/* Waits until every memtable made immutable so far is flushed. */
int meru_db_wait_flushed(meru_db *db);
/* Records a background failure (sticky) and wakes everyone (mu held). */
void meru_db_set_bg_error_locked(meru_db *db, int rc);
/* The sticky error as a status with its message set, or 0. (mu held) */
int meru_db_bg_error_locked(meru_db *db);

/* ---- db_compact.c, db_compact_pick.c ------------------------------------ */

/* Runs one due compaction job, if any (a worker's step); *did says whether
 * one ran. */
int meru_db_compact_step(meru_db *db, bool *did);
/* Levels whose score says they are due for compaction, or 1 when only
 * idle work (settling) remains (mu held). */
int meru_db_compactions_pending_locked(meru_db *db);
/* Whether idle work may start now (mu held): there is some and the table
 * has been quiet long enough. Otherwise *wake_ms is when to look again
 * (monotonic ms; UINT64_MAX: nothing waits for quiet). */
bool meru_db_settle_due_locked(meru_db *db, uint64_t now_ms,
                               uint64_t *wake_ms);

/* ---- db_read.c ---------------------------------------------------------- */

/* The encoded key given by the leading set key columns of `row` (a bound:
 * meru_scan_options); *full: every key column was set. */
int meru_db_bound_key(meru_db *db, const meru_row *row, const char *what,
                      meru_buf *out, bool *full);

/* ---- db_check.c --------------------------------------------------------- */

/* A data file just opened against its metadata entry: id, size, rows,
 * sequence and key range. MERU_ECORRUPT naming the file and the field. */
int meru_db_file_check(const meru_catalog_file *m, const meru_sst *t);
/* Every WAL segment the metadata lists as live ([oldest, next)) is in
 * wal_dir, with no gap up to the newest segment there: MERU_ECORRUPT
 * naming the first missing one otherwise. No directory: none present. */
int meru_db_check_wal_segments(meru_fs *fs, const char *wal_dir,
                               uint64_t oldest, uint64_t next);

/* ---- db_iceberg.c ------------------------------------------------------- */

/* Checks that the Iceberg view on disk holds exactly the rows a scan at the
 * last committed sequence returns. MERU_OK with *rows = rows compared;
 * MERU_ECORRUPT with err (cap errcap) saying what differs; MERU_NOT_FOUND
 * when the table keeps no view; another error when the view cannot be
 * read (err has the message). */
int meru_db_check_iceberg(meru_db *db, uint64_t *rows, char *err,
                          size_t errcap);
/* The newest version of `key` with seq <= `seq` in view `v` (memtables,
 * then files): MERU_OK with its rowcodec value in *value (replaced) when
 * it is a put, MERU_NOT_FOUND when it is a delete or there is none. */
int meru_db_lookup_value(meru_db *db, meru_view *v, const uint8_t *key,
                         size_t klen, uint64_t seq, meru_buf *value);

/* ---- db_changes.c ------------------------------------------------------- */

/* Whether flushes record changes (changes_retention_seconds > 0). */
bool meru_db_feed_on(const meru_options *o);
/* Whether flushes record changes: the feed on and the table narrow
 * enough for a changelog file (its columns twice). */
bool meru_db_changes_kept(meru_db *db, const meru_options *o);
/* Whether a changelog file written at created_ms is older than the
 * retention window of `o` at now_ms (wall clock). */
bool meru_db_changes_expired(const meru_options *o, int64_t created_ms,
                             int64_t now_ms);
/* Records that the changes up to `seq` are lost (changes_lost, raised). */
void meru_db_changes_lost(meru_db *db, uint64_t seq);
/* The sequence at or below which a commit with last sequence last_seq
 * keeps no change (recovery lost records up to it): a changelog written
 * for that commit leaves those out. 0 usually. cat_mu held. */
uint64_t meru_db_changes_trim(meru_db *db, const meru_options *o,
                              uint64_t last_seq);
typedef struct meru_changelog_pre meru_changelog_pre;
typedef struct meru_changelog_set meru_changelog_set;
/*
 * Writes the changelog file of a flushed memtable's changes (`set`, its
 * walk, given the pre-images of its keys from the flush's lookup of older
 * versions: meru_changelog_set_pre; rows of `table`)
 * leaving out those at or below `trim`, fsynced with its directory: no
 * lock needed, the file is not part of the table until a commit names it.
 * *out gets its catalog entry (path malloc'd, NULL when nothing
 * changed), *written its absolute path
 * (malloc'd, NULL when none) so a failed commit can remove it. On failure
 * nothing is left on disk.
 */
int meru_db_changes_write(meru_db *db, const meru_options *o,
                          const meru_schema *table,
                          const meru_changelog_set *set, uint64_t trim,
                          meru_catalog_changelog *out, char **written);
/*
 * The change feed's part of a commit (cat_mu held): with the feed on, adds
 * changelog `add` (optional; written with meru_db_changes_trim's trim of
 * this commit) to `e` (*used = true); then, feed on or off, expires
 * changelog files by the retention options `o` (removed from `e`, floor
 * raised; with the feed off every file goes, `add` is not used and the
 * floor becomes last_seq).
 */
int meru_db_changes_commit(meru_db *db, const meru_options *o,
                           const meru_catalog_changelog *add,
                           uint64_t last_seq, meru_catalog_edit *e,
                           bool *used);
/* Whether history is due to expire by age (mu held): *due_ms gets the
 * monotonic ms (meru_clock_ns based) when it will be, UINT64_MAX never. */
bool meru_db_changes_due_locked(meru_db *db, uint64_t now_ms,
                                uint64_t *due_ms);
/* Expires history by the retention options (the worker, when due): one
 * commit dropping what is too old. */
int meru_db_changes_expire(meru_db *db);

/* ---- db_props.c --------------------------------------------------------- */

/* A copy of db->opts taken under mu (the table-shaping fields may change
 * under meru_set_property). mu must not be held. */
void meru_db_options_copy(meru_db *db, meru_options *out);

/* ---- db_schema.c -------------------------------------------------------- */

/* The current schema (an acquire load). */
static inline const meru_schema *meru_db_cur_schema(const meru_db *db)
{
    return atomic_load_explicit(&((meru_db *)db)->schema,
                                memory_order_acquire);
}
/* Makes a clone of `s` the handle's current schema (kept in
 * db->schemas). mu held, or no other thread yet. */
int meru_db_adopt_schema_locked(meru_db *db, const meru_schema *s);
/* At open: adopts the stored schema, or commits an additive `given` one as
 * a new schema of the table (the rules of meru_add_column). */
int meru_db_settle_schema(meru_db *db, const meru_schema *given);
/* Read-only handles, with cat_mu and mu held: adopts the catalog's current
 * schema when it is newer than the handle's. */
int meru_db_follow_schema_locked(meru_db *db);
/* Whether `row` may be used with the table whose schema is `s`: its
 * schema's columns are s's first columns (a row made on an older schema
 * of the table). MERU_ESCHEMA naming `what` otherwise. */
int meru_db_row_fits(const meru_schema *s, const meru_row *row,
                     const char *what);

/* ---- db_open.c ---------------------------------------------------------- */

/* meru_open over the file system `fs` (not owned; it must outlive the
 * handle): every file of the table is read and written through it. This is
 * how tests run the whole engine over the fault-injecting fs
 * (tests/support/fs_fault.h); meru_open passes meru_fs_posix(). */
int meru_db_open_fs(const char *path, const meru_options *opts,
                    const meru_schema *schema, meru_fs *fs, meru_db **out);

/* Checks that the handle may be used: MERU_ECLOSED / MERU_EINVAL. */
int meru_db_check_open(meru_db *db);
/* The oldest sequence a live snapshot reads at, or the visible one. */
uint64_t meru_db_oldest_snapshot(meru_db *db);

#endif
