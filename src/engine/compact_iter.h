/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compact_iter.h — which internal entries a compaction keeps (SPEC §8).
 *
 * Over a merged internal iterator (merge.h) of the compaction's inputs,
 * walked forward once, it yields in order the entries the output files must
 * hold so that every read the table can still serve sees the same data:
 *
 *   - the latest view: the newest version of each user key;
 *   - each live snapshot s: the newest version with seq <= s.
 *
 * Everything else (a version shadowed in every view) is dropped. The
 * snapshots cut each key's history into stripes (seq in (s[i-1], s[i]],
 * and above the newest snapshot); only the newest version of each stripe
 * survives — LevelDB's "smallest_snapshot" rule generalised to several
 * snapshots, as in RocksDB's CompactionIterator.
 *
 * Tombstones: a delete in the oldest stripe (seq <= the oldest snapshot, or
 * any delete when there are no snapshots) hides nothing any reader can see
 * below it once no older data exists under the output level; when the
 * caller says `bottommost` (the output level is the last one holding the
 * key range) such deletes are dropped with everything older. Otherwise
 * every delete that is the newest of its stripe is kept, as it still hides
 * versions in lower levels.
 *
 * Not done here: deletion vectors (db_compact.c derives the outputs' own
 * from which rows are kept: they hide rows, they do not drop them),
 * cutting output files, bounded memory beyond one user key (it keeps only
 * the current user key).
 */
#ifndef MERU_ENGINE_COMPACT_ITER_H
#define MERU_ENGINE_COMPACT_ITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/iter.h"

typedef struct meru_compact_iter meru_compact_iter;

typedef struct meru_compact_stats {
    uint64_t input;              /* entries read from the merged iterator */
    uint64_t output;             /* entries yielded */
    uint64_t dropped_versions;   /* shadowed in every view */
    uint64_t dropped_tombstones; /* deletes dropped because bottommost */
} meru_compact_stats;

/*
 * Takes ownership of `merged` (also on failure); it is read from its first
 * entry. snapshots[0..n) are the sequence numbers of the live snapshots, in
 * any order, duplicates allowed (copied). MERU_ENOMEM.
 */
int meru_compact_iter_new(meru_iiter *merged, const uint64_t *snapshots,
                          size_t n, bool bottommost, meru_compact_iter **out);

/*
 * The next entry to keep: MERU_OK with its internal key and value (borrowed
 * from the merged iterator, valid until the next call; meru_ikey_parse
 * gives seq and op), MERU_NOT_FOUND at the end, or an error (the merged
 * iterator's, or MERU_ECORRUPT for a malformed internal key), sticky.
 */
int meru_compact_iter_next(meru_compact_iter *it, const uint8_t **ikey,
                           size_t *ilen, const uint8_t **value, size_t *vlen);

/* meru_compact_iter_next without the value (not fetched from the merged
 * iterator): to learn what a compaction would keep or drop by reading the
 * keys alone. */
int meru_compact_iter_next_key(meru_compact_iter *it, const uint8_t **ikey,
                               size_t *ilen);

/* Counters so far. */
void meru_compact_iter_stats(const meru_compact_iter *it,
                             meru_compact_stats *out);

void meru_compact_iter_free(meru_compact_iter *it); /* NULL-safe */

#endif
