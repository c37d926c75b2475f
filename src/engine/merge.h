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
 * destroyed). n may be 0 (an always-empty iterator). MERU_ENOMEM. */
int meru_merge_iter_new(meru_iiter **children, size_t n, meru_iiter **out);

/* An internal iterator over memtable `m`; takes a reference on m, dropped
 * by destroy. MERU_ENOMEM. */
int meru_memtable_iiter_new(meru_memtable *m, meru_iiter **out);

#endif
