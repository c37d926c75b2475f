/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merge.h — the k-way merge of internal iterators (a binary heap), in both
 * directions, and the adapter that makes a memtable an internal iterator.
 *
 * The merge yields every entry of every child in internal-key order (no
 * deduplication: dbiter.h and compaction decide which versions survive).
 * Equal internal keys in two children cannot happen in a valid LSM (a
 * sequence number is unique); ties are broken by child index (lower first).
 * Switching direction (next after prev, or prev after next) repositions
 * every child around the current key, as LevelDB's MergingIterator does.
 * The first child error stops the merge and is its status().
 */
#ifndef MERU_ENGINE_MERGE_H
#define MERU_ENGINE_MERGE_H

#include <stddef.h>

#include "engine/iter.h"
#include "memtable/memtable.h"

/* Takes ownership of the n children (also on failure, when they are
 * destroyed). n may be 0 (an always-empty iterator); with n == 1 the
 * child itself is returned. MERU_ENOMEM. */
int meru_merge_iter_new(meru_iiter **children, size_t n, meru_iiter **out);

/* The index (among the children given to meru_merge_iter_new) of the
 * child holding the merge's current entry; `it` must be valid(). For an
 * iterator that is not a merge (the one child of a merge of one, which
 * meru_merge_iter_new returns as is) this is 0. Costs nothing: the heap
 * root is the current child. */
size_t meru_merge_iter_current(const meru_iiter *it);

/* One part of a concatenation: the user keys of its first and last entry
 * (keycodec.h encodings; internal keys are these plus a trailer). */
typedef struct meru_concat_part {
    const uint8_t *smallest;
    size_t smallest_len;
    const uint8_t *largest;
    size_t largest_len;
} meru_concat_part;

/* Opens part i as an internal iterator (MERU_OK and *out, or an error). */
typedef int (*meru_concat_open_fn)(void *ctx, size_t i, meru_iiter **out);

/*
 * The concatenation of n parts whose key ranges do not overlap and are in
 * ascending order (the files of a level >= 1): one internal iterator that
 * opens each part only when it reaches it, with open(ctx, i), and keeps one
 * part open at a time; a seek opens the one part its target falls in.
 * `parts` must stay valid and unchanged for the iterator's life; ctx_free
 * (may be NULL) is called on ctx by destroy, and also here on failure.
 * An error of open or of a part is the iterator's status(). MERU_ENOMEM.
 */
int meru_concat_iter_new(const meru_concat_part *parts, size_t n,
                         meru_concat_open_fn open, void *ctx,
                         void (*ctx_free)(void *ctx), meru_iiter **out);

/* An internal iterator over memtable `m`; takes a reference on m, dropped
 * by destroy. MERU_ENOMEM. */
int meru_memtable_iiter_new(meru_memtable *m, meru_iiter **out);

#endif
