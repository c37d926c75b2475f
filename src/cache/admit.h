/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admit.h — admission on second use (a "doorkeeper"): a cache in front
 * of which it sits stores a key only when the key was asked for once
 * before, recently.
 *
 * Why: the row cache (db_read.c) stored the answer of every get that
 * missed it. With uniformly spread keys almost none of those answers is
 * asked for again before it is evicted, so each get paid an allocation,
 * the shard's write lock, an eviction and a free for nothing, and two
 * client threads met on the shards' locks and freed each other's
 * entries. A key read once now only leaves a 4-byte mark; read again
 * while the mark is there, it is admitted. Hot keys (zipfian) are asked
 * for again soon and pay one extra miss each.
 *
 * The marks: one table of 32-bit tags, indexed by the key's hash, each
 * holding a tag of the last key that missed there. A newer key's mark
 * replaces an older one in its slot, so "recently" is "before about
 * `slots` other first-time keys". False answers are harmless both ways
 * (two keys with the same slot and tag: one is admitted early; a mark
 * overwritten: a hot key waits for its next miss).
 *
 * Threads: thread-safe without locks (relaxed atomic loads and stores; a
 * race between two threads only changes which mark survives).
 */
#ifndef MERU_CACHE_ADMIT_H
#define MERU_CACHE_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct meru_admit meru_admit;

/* A doorkeeper of at least `slots` marks (rounded up to a power of two,
 * at least 64); its memory is meru_admit_bytes(). MERU_ENOMEM. */
int meru_admit_new(meru_admit **out, size_t slots);
void meru_admit_free(meru_admit *a); /* NULL-safe */
size_t meru_admit_bytes(const meru_admit *a);

/* The marks a doorkeeper for a cache of `capacity` bytes, whose entries
 * are charged ~`entry_bytes` each, should have: four per entry the cache
 * holds, so a key asked for again within a few cache-fulls of other
 * first-time keys still finds its mark. */
size_t meru_admit_slots_for(size_t capacity, size_t entry_bytes);

/* True when `hash` (a 64-bit hash of the key, e.g. meru_cache_hash) was
 * marked and is still: admit the key. Otherwise marks it and returns
 * false. */
bool meru_admit_check(meru_admit *a, uint64_t hash);

#endif
