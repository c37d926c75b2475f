/* SPDX-License-Identifier: Apache-2.0 */
/*
 * skiplist.h — an ordered map of (key bytes, value bytes) in an arena, with
 * one writer and any number of lock-free concurrent readers (SPEC §5).
 *
 * The design is LevelDB's SkipList: every entry is one arena allocation
 * (node header, `height` next pointers, key bytes, value bytes); nodes are
 * never removed or changed after they are published, so a reader that has
 * reached a node may use it, its key and its value for as long as the arena
 * lives. Order is meru_ikey_cmp (memcmp, shorter first on a tie). Keys are
 * unique: inserting a key that is already present is MERU_EINVAL.
 *
 * Concurrency contract:
 *   - inserts are serialised by the caller (one writer at a time; a mutex or
 *     the group-commit leader); the writer may run concurrently with readers;
 *   - readers (seek, iterate, contains) need no lock and never block the
 *     writer. A reader sees every entry whose insert returned before the
 *     reader started its search (the insert's release store happens before
 *     the reader's acquire load), possibly some later ones, and never a
 *     partly initialised entry.
 *
 * Not done here: deletion, updates in place, freeing (the arena owns all
 * memory; the list struct itself lives in the arena), internal-key parsing
 * (memtable.h).
 */
#ifndef MERU_MEMTABLE_SKIPLIST_H
#define MERU_MEMTABLE_SKIPLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

/* Tallest tower. With branching 1/4, 16 levels index ~4^16 entries well. */
#define MERU_SKIPLIST_MAX_HEIGHT 16
/* Largest key or value accepted (lengths are stored as uint32). */
#define MERU_SKIPLIST_MAX_LEN UINT32_MAX

typedef struct meru_skiplist meru_skiplist;
typedef struct meru_sl_node meru_sl_node;

/*
 * Creates an empty list whose nodes (and the list struct itself) live in
 * `arena`. The arena must outlive every use of the list; freeing the arena
 * frees the list. `seed` fixes the tower heights (deterministic; 0 is
 * allowed). Only the writer may allocate from `arena` afterwards.
 * MERU_ENOMEM.
 */
int meru_skiplist_new(meru_skiplist **out, meru_arena *arena, uint64_t seed);

/*
 * Inserts key a||b (the concatenation; b may be NULL with blen 0) with a
 * copy of `value`. Writer only. MERU_EINVAL if the key is already present,
 * MERU_ERANGE if the key or value is longer than MERU_SKIPLIST_MAX_LEN,
 * MERU_ENOMEM; on error the list is unchanged. A key greater than every
 * key in the list is linked without a search (one comparison: sorted
 * ingest); any other key searches from the head.
 */
int meru_skiplist_insert2(meru_skiplist *sl, const uint8_t *a, size_t alen,
                          const uint8_t *b, size_t blen, const void *value,
                          size_t vlen);
int meru_skiplist_insert(meru_skiplist *sl, const uint8_t *key, size_t klen,
                         const void *value, size_t vlen);

/* True if `key` is present. Any thread. */
bool meru_skiplist_contains(const meru_skiplist *sl, const uint8_t *key,
                            size_t klen);

/* Number of entries inserted (exact for the writer; a recent value for a
 * concurrent reader). */
uint64_t meru_skiplist_count(const meru_skiplist *sl);

/*
 * Checks the structure: every level strictly ordered, every node linked
 * at level i has a tower taller than i, and level 0 holds count entries.
 * MERU_ECORRUPT with a message naming the level otherwise. For tests (a
 * walk of every level): searches stay correct on some broken upper levels
 * (they only get slower), so results alone cannot show such damage. Any
 * thread, but a count check needs no concurrent writer.
 */
int meru_skiplist_check(const meru_skiplist *sl);

/*
 * Iterator: a cursor on one node, or invalid. Stack-allocated, needs no
 * cleanup; any thread. key/value are borrowed from the arena and stay valid
 * as long as the arena does (not just until the next move).
 */
typedef struct meru_skiplist_iter {
    const meru_skiplist *list;
    const meru_sl_node *node; /* NULL: not valid */
} meru_skiplist_iter;

void meru_skiplist_iter_init(meru_skiplist_iter *it, const meru_skiplist *sl);
bool meru_skiplist_iter_valid(const meru_skiplist_iter *it);
/* Key and value of the current entry; the iterator must be valid. */
const uint8_t *meru_skiplist_iter_key(const meru_skiplist_iter *it,
                                      size_t *len);
const uint8_t *meru_skiplist_iter_value(const meru_skiplist_iter *it,
                                        size_t *len);
/* Moves to the next entry (invalid after the last). Must be valid. */
void meru_skiplist_iter_next(meru_skiplist_iter *it);
/* Moves to the previous entry (invalid before the first); a search from the
 * head, O(log n), as there are no back pointers. Must be valid. */
void meru_skiplist_iter_prev(meru_skiplist_iter *it);
/* First entry with key >= target (invalid if none). */
void meru_skiplist_iter_seek(meru_skiplist_iter *it, const uint8_t *target,
                             size_t len);
/* First entry with key >= a||b. */
void meru_skiplist_iter_seek2(meru_skiplist_iter *it, const uint8_t *a,
                              size_t alen, const uint8_t *b, size_t blen);
/* Last entry with key < target (invalid if none). */
void meru_skiplist_iter_seek_lt(meru_skiplist_iter *it, const uint8_t *target,
                                size_t len);
void meru_skiplist_iter_seek_to_first(meru_skiplist_iter *it);
void meru_skiplist_iter_seek_to_last(meru_skiplist_iter *it);

#endif
