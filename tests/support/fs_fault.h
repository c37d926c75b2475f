/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fs_fault.h — a meru_fs for tests: wraps a real one (normally
 * meru_fs_posix() on a temp directory), injects failures, counts calls, and
 * simulates power loss.
 *
 * Durability model simulated by meru_fs_fault_crash (ext4 data=ordered-like,
 * pessimistic within what POSIX promises):
 *  - File contents: a file's data is durable up to the size it had at its
 *    last successful sync/sync_full. A crash truncates every file back to
 *    that length; if bytes below it were overwritten (pwrite) or cut
 *    (truncate, open with MERU_FS_TRUNC) since, the whole synced image is
 *    restored. Files that existed before the fault fs first saw them count
 *    as synced. A failed sync makes nothing durable.
 *  - Directory entries: a create (open with MERU_FS_CREATE of a missing
 *    file), mkdir, rename or remove is durable once sync_dir of the
 *    directory holding the entry succeeds (for a rename, either directory:
 *    journalling file systems commit it as one transaction, and it is never
 *    split). Syncing also makes durable the earlier pending operations on
 *    the same files/paths, so the surviving state is always one a real
 *    file system could produce. A crash undoes every non-durable one, latest
 *    first: created files and directories vanish (with their contents),
 *    renamed files move back and a file they replaced reappears, removed
 *    files reappear (with their synced contents).
 *  - Removed/replaced entries are kept under hidden names
 *    ".meru-fault-<n>" in the same directory until durable (then deleted);
 *    list() hides them.
 *  - Not modelled: renaming directories (MERU_ENOTSUP); removing a directory
 *    makes the pending removals inside it durable first; reordering of data
 *    writes within the unsynced part (see meru_fs_fault_crash_torn for the
 *    one partial-writeback mode offered); metadata like mtime.
 * After a crash every handle opened before it fails with MERU_EIO (the
 * process died); close it and reopen. Rules and counters survive a crash.
 *
 * All entry points are thread-safe (one mutex serialises the whole fs).
 */
#ifndef MERU_TEST_SUPPORT_FS_FAULT_H
#define MERU_TEST_SUPPORT_FS_FAULT_H

#include <stdint.h>

#include "util/fs.h"

typedef enum meru_fs_op {
    MERU_FS_OP_OPEN,
    MERU_FS_OP_CLOSE,
    MERU_FS_OP_PREAD,
    MERU_FS_OP_APPEND,
    MERU_FS_OP_PWRITE,
    MERU_FS_OP_SIZE,
    MERU_FS_OP_SYNC,
    MERU_FS_OP_SYNC_FULL,
    MERU_FS_OP_TRUNCATE,
    MERU_FS_OP_LOCK,
    MERU_FS_OP_SYNC_DIR,
    MERU_FS_OP_RENAME,
    MERU_FS_OP_REMOVE,
    MERU_FS_OP_MKDIR,
    MERU_FS_OP_LIST,
    MERU_FS_OP_STAT,
    MERU_FS_OP_COUNT
} meru_fs_op;

/* "open", "sync_dir", ... */
const char *meru_fs_op_name(meru_fs_op op);

/* A fault fs over `base` (not owned; must outlive it). Free with
 * meru_fs_free, which makes every pending operation durable (a clean
 * shutdown) and removes the hidden stash entries; close every handle
 * first. */
int meru_fs_fault_new(meru_fs **out, meru_fs *base);

/* Fails a call of `op` whose path contains `path_substr` (NULL: any path;
 * for rename either path) with errno `err` (EIO, ENOSPC, ...; 0 = EIO) and
 * nothing done: nth = 1 fails the 1st matching call from now, 2 the 2nd, ...
 * once; nth = 0 fails every matching call from now. The message ends
 * "(injected)". Close never fails. */
int meru_fs_fault_inject(meru_fs *fs, meru_fs_op op, const char *path_substr,
                         uint64_t nth, int err);
/* Like inject for append and pwrite, but the call first writes the first
 * half of the buffer (rounded down), then fails with ENOSPC. */
int meru_fs_fault_inject_short_write(meru_fs *fs, const char *path_substr,
                                     uint64_t nth);
/* Removes all injection rules. */
void meru_fs_fault_clear(meru_fs *fs);

/* Calls of `op` (attempted, including failed ones) since creation or the
 * last reset; meru_fs_fault_total counts all ops. */
uint64_t meru_fs_fault_count(meru_fs *fs, meru_fs_op op);
uint64_t meru_fs_fault_total(meru_fs *fs);
void meru_fs_fault_reset_counts(meru_fs *fs);

/* Simulates the process dying after `nops` more calls (close included):
 * those run normally, every later call but close fails with MERU_EIO
 * without touching the disk, until meru_fs_fault_crash. Used to stop an
 * operation at each step and crash there. */
void meru_fs_fault_die_after(meru_fs *fs, uint64_t nops);

/* Power loss: undoes everything not durable (see the model above) on the
 * real files, invalidates open handles, clears the die_after state. */
int meru_fs_fault_crash(meru_fs *fs);
/* Like crash, but a file that was only appended to since its last sync
 * keeps a pseudo-random prefix (from none to all, chosen from `seed`) of
 * the unsynced bytes: partial writeback, the source of torn log tails. */
int meru_fs_fault_crash_torn(meru_fs *fs, uint64_t seed);

#endif
