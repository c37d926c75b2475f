/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wal.h — write-ahead log segments: writer, reader, and the segment
 * directory (listing, deletion, replay). Format: wal_format.h.
 *
 * Writer. One meru_wal_writer appends to one new segment file. Every
 * add call frames its record(s) into one buffer and issues ONE
 * meru_file_append, so a record is never split over several write calls
 * and no syscall is made per fragment. Durability is explicit
 * (meru_wal_writer_sync = fdatasync). A failed append or sync leaves the
 * file in an unknown state (a prefix may be on disk, a failed fsync may have
 * dropped dirty pages), so the writer becomes sticky-failed: every later
 * call returns MERU_EFAILED quoting the original error; it never retries
 * (SPEC §12). Not thread-safe: callers serialise (group.h does).
 *
 * Reader. Returns the records of one segment in order. The question it
 * answers at the first fragment that does not make sense (checksum
 * mismatch, type 0 or > 4, length past the block or the file, a header cut
 * by the end of the file, a FIRST..LAST run cut by the end of the file, a
 * sequence error) is "torn tail or damage?":
 *  - if no valid fragment (good checksum, valid type, fits its block)
 *    starts at any later block boundary, it is a torn tail: the bytes from
 *    the start of the damaged record to the end of the file are counted in
 *    stats.tail_dropped_bytes and the reader ends with MERU_NOT_FOUND;
 *  - otherwise valid data follows: mid-log corruption, MERU_ECORRUPT naming
 *    the segment and the offset; with `salvage` the reader instead drops
 *    the damaged region (the rest of its block, and any partial record),
 *    counts it in stats.corrupt_dropped_bytes, and continues.
 *  Sequence errors (a FULL/FIRST inside a FIRST..LAST run, a MIDDLE/LAST
 *  outside one) are followed by valid data by definition (the fragment
 *  itself), so they are always corruption.
 *  Known limit: a file system that writes back unsynced pages out of order
 *  could leave a hole before later unsynced data; that reads as corruption
 *  (pessimistic, like RocksDB's absolute-consistency mode); salvage
 *  recovers everything that is intact.
 *
 * Segment directory. A torn tail is acceptable only at the end of the LAST
 * segment. meru_wal_writer_close syncs the segment before closing it, and
 * the engine closes the old writer before creating the next segment, so
 * every segment but the last is complete and durable; a torn tail in an
 * earlier segment is therefore corruption (MERU_ECORRUPT), unless salvage.
 * LevelDB instead treats it as the end of that log and goes on; we do not,
 * because that silently drops acknowledged writes.
 */
#ifndef MERU_WAL_WAL_H
#define MERU_WAL_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "merutable.h"
#include "util/fs.h"
#include "wal/wal_format.h"

/* "<dir>/<number, 20 digits>.log" into out[cap]; MERU_ERANGE if it does not
 * fit. */
int meru_wal_segment_path(char *out, size_t cap, const char *dir,
                          uint64_t number);

/* ---- writer ------------------------------------------------------------ */

typedef struct meru_wal_writer meru_wal_writer;

/* One record of a multi-record append. */
typedef struct meru_wal_slice {
    const void *data;
    size_t len;
} meru_wal_slice;

/* Creates segment `number` in `dir` (which must exist; MERU_EEXIST if the
 * segment does) and syncs the directory so the new file survives a crash.
 * `fs` must outlive the writer. */
int meru_wal_writer_open(meru_wal_writer **out, meru_fs *fs, const char *dir,
                         uint64_t number);
/* Appends one record (len <= MERU_WAL_MAX_RECORD, else MERU_ERANGE with
 * nothing written). One meru_file_append. */
int meru_wal_writer_add(meru_wal_writer *w, const void *rec, size_t len);
/* Appends n records with one meru_file_append (all or, on failure, an
 * unknown prefix, after which the writer is failed). */
int meru_wal_writer_add_many(meru_wal_writer *w, const meru_wal_slice *recs,
                             size_t n);
/* fdatasync: everything added so far is durable when this returns 0. */
int meru_wal_writer_sync(meru_wal_writer *w);
/* Syncs (unless the writer failed) and closes; frees w even on error.
 * Accepts NULL. Returns the sync/close status. */
int meru_wal_writer_close(meru_wal_writer *w);
/* Bytes in the segment (including headers and padding). */
uint64_t meru_wal_writer_bytes(const meru_wal_writer *w);
uint64_t meru_wal_writer_number(const meru_wal_writer *w);
const char *meru_wal_writer_path(const meru_wal_writer *w);
/* 0, or the status of the failure that made the writer sticky-failed. */
int meru_wal_writer_failed(const meru_wal_writer *w);

/* ---- reader ------------------------------------------------------------ */

typedef struct meru_wal_reader meru_wal_reader;

typedef struct meru_wal_read_stats {
    uint64_t records;               /* records returned */
    uint64_t record_bytes;          /* payload bytes returned */
    uint64_t good_end;              /* file offset just past the last
                                       returned record's last fragment */
    uint64_t file_size;             /* size of the segment when opened */
    uint64_t tail_dropped_bytes;    /* torn tail: damage start .. EOF */
    uint64_t corrupt_dropped_bytes; /* salvage: bytes skipped mid-log */
    uint64_t corrupt_regions;       /* salvage: damaged regions skipped */
} meru_wal_read_stats;

/* Opens segment file `path` for reading; `salvage` as described above. */
int meru_wal_reader_open(meru_wal_reader **out, meru_fs *fs, const char *path,
                         int salvage);
/* The next record: *rec and *len borrowed until the next call or close.
 * MERU_NOT_FOUND at the end (clean or after a torn tail: see stats),
 * MERU_ECORRUPT on mid-log damage (not in salvage mode), I/O errors as
 * they come. After an error every later call returns the same code. */
int meru_wal_reader_next(meru_wal_reader *r, const uint8_t **rec, size_t *len);
const meru_wal_read_stats *meru_wal_reader_stats(const meru_wal_reader *r);
/* Accepts NULL. */
void meru_wal_reader_close(meru_wal_reader *r);

/* ---- segment directory -------------------------------------------------- */

/* The numbers of the segments in `dir`, ascending, in a malloc'd array
 * (free with free(); NULL when *count is 0). Names that are not exactly
 * 20 digits + ".log" are ignored. */
int meru_wal_list_segments(meru_fs *fs, const char *dir, uint64_t **out,
                           size_t *count);
/* Removes every segment numbered below `number`, then syncs the directory.
 * Call only once their contents are in a committed SST. */
int meru_wal_delete_below(meru_fs *fs, const char *dir, uint64_t number);

/* Replay callback: a non-zero return stops the replay and is returned. */
typedef int (*meru_wal_replay_fn)(void *ctx, uint64_t segment,
                                  const uint8_t *rec, size_t len);

typedef struct meru_wal_replay_stats {
    uint64_t segments;              /* segments read */
    uint64_t records;               /* records handed to the callback */
    uint64_t last_segment;          /* number of the last segment read */
    uint64_t tail_dropped_bytes;    /* torn tail of the last segment (or of
                                       any segment, in salvage mode) */
    uint64_t corrupt_dropped_bytes; /* salvage: skipped damage */
    uint64_t corrupt_regions;       /* salvage: damaged regions skipped */
    /* The last segment that ended in a torn tail, and the length of its
     * intact part (where the tail starts); 0, 0 when none did. */
    uint64_t tail_segment, tail_good_end;
} meru_wal_replay_stats;

/* Replays, in order, every record of every segment numbered >= min_segment
 * through fn, stopping at the first error. A torn tail is accepted at the
 * end of the last segment only (see above). `stats` may be NULL. */
int meru_wal_replay(meru_fs *fs, const char *dir, uint64_t min_segment,
                    int salvage, meru_wal_replay_fn fn, void *ctx,
                    meru_wal_replay_stats *stats);

#endif
