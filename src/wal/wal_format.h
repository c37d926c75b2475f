/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wal_format.h — the on-disk framing of write-ahead log segments.
 *
 * The format is LevelDB's log format (doc/log_format.md), re-implemented:
 *
 *   A segment file "<wal dir>/<number>.log" (number: 20 decimal digits,
 *   zero-padded, so names sort like numbers) is a sequence of 32 KiB blocks;
 *   the last block may be short. A block holds fragments back to back:
 *
 *     +---------+---------+------+----------------+
 *     | crc  u32| len  u16| type | payload (len)  |
 *     +---------+---------+------+----------------+
 *       4 LE      2 LE      1       len bytes
 *
 *   crc   meru_crc32c_mask(CRC-32C of the type byte followed by the payload)
 *   type  FULL=1 (a whole record), FIRST=2, MIDDLE=3, LAST=4 (a record split
 *         over blocks: FIRST, zero or more MIDDLE, LAST). 0 is reserved: a
 *         zero-filled region (preallocation, or a torn write) reads as type
 *         0 and is never valid.
 *
 *   A fragment never crosses a block boundary. When fewer than 7 bytes (a
 *   header) remain in a block, the writer fills them with zeros and the
 *   reader skips them. When exactly 7 remain, the writer emits a header with
 *   an empty payload there (a FIRST of length 0, or a zero-length FULL).
 *   Records are opaque byte strings (the engine stores one encoded write
 *   batch per record) and may be empty.
 *
 * Invariants the reader relies on: every block starts with a fragment
 * header (so it can resynchronise on the next block after damage); a file
 * is only ever appended to by one writer, and a segment is never reopened
 * for appending (a new process starts a new segment), so a sequence error
 * (FULL inside a FIRST..LAST run, a MIDDLE/LAST with no FIRST) can only come
 * from damage.
 *
 * There is no file header or record count: recovery reads until the data
 * stops making sense, and the reader decides whether that is a torn tail or
 * damage in the middle (see wal.h).
 */
#ifndef MERU_WAL_FORMAT_H
#define MERU_WAL_FORMAT_H

#define MERU_WAL_BLOCK_SIZE  32768u
#define MERU_WAL_HEADER_SIZE 7u
/* Largest payload of one fragment. */
#define MERU_WAL_MAX_FRAGMENT (MERU_WAL_BLOCK_SIZE - MERU_WAL_HEADER_SIZE)
/* Largest record accepted by the writer and assembled by the reader (caps
 * the reader's allocation on hostile input). */
#define MERU_WAL_MAX_RECORD (256u * 1024u * 1024u)

enum {
    MERU_WAL_ZERO = 0,
    MERU_WAL_FULL = 1,
    MERU_WAL_FIRST = 2,
    MERU_WAL_MIDDLE = 3,
    MERU_WAL_LAST = 4,
};

#endif
