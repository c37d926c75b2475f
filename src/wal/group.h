/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group.h — group commit: a queue in front of a meru_wal_writer so that
 * concurrent writer threads share one append and one fdatasync.
 *
 * Protocol (LevelDB's DBImpl::Write, with condition variables waited in
 * loops over predicates under one mutex, so no wake-up can be lost):
 *  1. A thread calling meru_wal_group_commit enqueues its record at the
 *     tail of the queue and waits until either its record is done (another
 *     thread wrote it) or it is at the head of the queue and nobody is
 *     writing.
 *  2. At the head it becomes the leader: it takes itself and the records
 *     queued behind it (up to max_group_bytes in total, at least its own;
 *     just its own in MERU_SYNC_EVERY mode), leaves the mutex, frames them
 *     all with ONE meru_file_append and, if the group needs it, ONE
 *     fdatasync.
 *     Before the append it calls the optional `prepare(ctx, rec, len, arg)`
 *     for each member in queue order: the engine's hook to stamp the first
 *     sequence number into a batch's header (through `arg`, its own
 *     mutable batch, whose bytes `rec` points into), so the log carries the
 *     sequence numbers recovery must restore.
 *  3. If that succeeded, the leader calls `apply(ctx, rec, len, arg)` for
 *     each member in queue order (still outside the mutex, and only one
 *     leader at a time): this is the engine's hook to assign sequence
 *     numbers and insert into the memtable in log order. `arg` is the
 *     member's own pointer (e.g. its write batch).
 *  4. The leader re-takes the mutex, marks every member done with the
 *     group's status, removes them from the queue and broadcasts; the next
 *     head (if any) becomes the next leader.
 *
 * Sync. The group syncs when the queue's mode is not MERU_SYNC_NONE, or
 * when any member passed sync != 0 (a per-write "sync this one" as in
 * LevelDB's WriteOptions.sync). The fdatasync happens after the group's
 * append and before any member is acknowledged, so each synced member has
 * its own durability guarantee. MERU_SYNC_GROUP groups; MERU_SYNC_EVERY
 * gives every record its own append + fdatasync (no grouping: the most
 * conservative mode, and the baseline group commit is measured against).
 *
 * Failure. A failed append or sync (or a failed apply, after which the log
 * and the memtable disagree) fails every member of the group with the
 * original status and message and makes the queue sticky-failed: later
 * commits return MERU_EFAILED quoting it. Nothing is retried (SPEC §12).
 *
 * Shutdown. meru_wal_group_close fails the records still waiting with
 * MERU_ECLOSED (they were not written), waits for a running leader to
 * finish its group and for every thread to leave commit; after it, commits
 * return MERU_ECLOSED at once. The writer is not closed (the caller owns
 * it).
 */
#ifndef MERU_WAL_GROUP_H
#define MERU_WAL_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "merutable.h"
#include "wal/wal.h"

typedef struct meru_wal_group meru_wal_group;

/* Called by the leader for each member of a durable group, in log order.
 * A non-zero return fails the group (and the queue). */
typedef int (*meru_wal_apply_fn)(void *ctx, const void *rec, size_t len,
                                 void *arg);

/* Called by the leader for each member, in log order, just before the
 * group is appended (see step 2). Cannot fail. */
typedef void (*meru_wal_prepare_fn)(void *ctx, const void *rec, size_t len,
                                    void *arg);

#define MERU_WAL_GROUP_DEFAULT_BYTES (1u << 20)

typedef struct meru_wal_group_stats {
    uint64_t records; /* records appended */
    uint64_t groups;  /* appends (one per group) */
    uint64_t syncs;   /* fdatasyncs */
    uint64_t max_group;
} meru_wal_group_stats;

/* A queue over `w` (not owned; swapped with meru_wal_group_swap_writer).
 * max_group_bytes 0 = MERU_WAL_GROUP_DEFAULT_BYTES; apply may be NULL. */
int meru_wal_group_new(meru_wal_group **out, meru_wal_writer *w,
                       meru_sync_mode mode, size_t max_group_bytes,
                       meru_wal_apply_fn apply, void *ctx);
/* Installs the prepare hook (ctx as for apply); call before any commit. */
void meru_wal_group_set_prepare(meru_wal_group *g, meru_wal_prepare_fn fn);
/* Appends `rec` as one log record and returns once it is written (and
 * durable if synced) and applied, or failed. Thread-safe. */
int meru_wal_group_commit(meru_wal_group *g, const void *rec, size_t len,
                          int sync, void *arg);
/* Waits until no group is being written, then replaces the writer (log
 * rotation); *old gets the previous one for the caller to close. Commits
 * that arrive meanwhile wait and go to the new writer. */
int meru_wal_group_swap_writer(meru_wal_group *g, meru_wal_writer *w,
                               meru_wal_writer **old);
/* Rotation with the engine in the loop: waits until no group is being
 * written, then calls fn(ctx, old, &new) with the queue's mutex held and no
 * leader able to start (fn must not call back into the queue). fn closes
 * `old` (syncing it, so every segment but the last is complete), opens the
 * next segment into *new and switches the engine's memtable. On success
 * the queue writes to *new; a failure of fn makes the queue sticky-failed
 * (the log's state is unknown) and is returned. */
typedef int (*meru_wal_rotate_fn)(void *ctx, meru_wal_writer *old,
                                  meru_wal_writer **new_writer);
int meru_wal_group_rotate(meru_wal_group *g, meru_wal_rotate_fn fn, void *ctx);
void meru_wal_group_stats_get(meru_wal_group *g, meru_wal_group_stats *out);
/* See "Shutdown" above. Idempotent. */
void meru_wal_group_close(meru_wal_group *g);
/* Closes if needed and frees. Accepts NULL. */
void meru_wal_group_free(meru_wal_group *g);

#endif
