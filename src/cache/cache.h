/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.h — a sharded cache with a byte budget and reference-counted
 * handles (the page/footer cache of SPEC §7, and the row cache).
 *
 * Keys are byte strings (copied). Each entry has a `charge` (its bytes)
 * counted against the capacity; inserting past the capacity evicts
 * entries that no handle holds, by CLOCK (second chance: an entry looked
 * up since the clock hand last passed it is kept for one more lap; an
 * approximation of least recently used that lets a hit skip list moves).
 * An entry in use is never freed: erase or eviction only unlinks it, and
 * its deleter runs when the last handle is released. Capacity 0 caches nothing (insert still returns
 * a handle so callers need no special case; the value is freed on release).
 *
 * Sharding: up to 16 shards by key hash, each with capacity/shards bytes;
 * a cache under 1 MiB has one shard (one clock), and every shard gets at
 * least 512 KiB (or the minimum given to meru_cache_new_sharded). An entry larger than its shard is still inserted and
 * returned, and leaves the cache when its last handle is released.
 *
 * Deleters run exactly once per value, outside the cache's locks (a deleter
 * may call the cache): in the thread that drops the last reference, or,
 * when that is not the thread that inserted the entry, at that thread's
 * next insert (its value was allocated there: freeing it in the thread
 * that allocates there keeps two threads off one malloc arena's lock).
 * At most 1/64 of the capacity (up to 1 MiB) waits so per inserting
 * thread; beyond that, and at meru_cache_free, deleters run at once.
 *
 * Threads: every function is thread-safe (one read-write lock per shard:
 * lookups share it, inserts and erases take it alone; a release takes no
 * lock unless an eviction was left unfinished).
 */
#ifndef MERU_CACHE_CACHE_H
#define MERU_CACHE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct meru_cache meru_cache;
typedef struct meru_cache_handle meru_cache_handle;

typedef void (*meru_cache_deleter)(const void *key, size_t klen, void *value);

typedef struct meru_cache_stats {
    uint64_t capacity;
    uint64_t bytes;   /* charges of entries present (in use or not) */
    uint64_t entries;
    uint64_t hits, misses, inserts, evictions;
} meru_cache_stats;

/* MERU_ENOMEM. Shards of at least MERU_CACHE_MIN_SHARD_BYTES. */
int meru_cache_new(meru_cache **out, size_t capacity);
/* The same with shards of at least min_shard_bytes (> 0): fewer, larger
 * shards for a cache of large entries, whose sizes vary (decoded pages of
 * 10 KiB to 1 MiB): hashed over many small shards, some shards get more
 * large entries than they hold and evict them while the others have room.
 * More shards let more threads in at once. */
int meru_cache_new_sharded(meru_cache **out, size_t capacity,
                           size_t min_shard_bytes);
#define MERU_CACHE_MIN_SHARD_BYTES ((size_t)512 * 1024)
/* Every handle must have been released. Runs the deleters. NULL-safe. */
void meru_cache_free(meru_cache *c);

/* A handle on the entry, or NULL (a miss). Counts hits/misses. */
meru_cache_handle *meru_cache_lookup(meru_cache *c, const void *key,
                                     size_t klen);
/* Inserts (replacing an entry of the same key, which is unlinked) and
 * returns a handle on the new entry in *out. MERU_ENOMEM (then the
 * deleter has NOT run: the caller still owns value). */
int meru_cache_insert(meru_cache *c, const void *key, size_t klen,
                      void *value, size_t charge, meru_cache_deleter del,
                      meru_cache_handle **out);
/* Whether an entry with this key is present, as a lookup would find it,
 * but counting neither a hit nor a miss and leaving the entry's CLOCK
 * state alone: for a background pass that fills the cache (sst.h,
 * meru_sst_warm_pages) and must not pass for the workload's lookups. */
bool meru_cache_contains(meru_cache *c, const void *key, size_t klen);
void *meru_cache_value(const meru_cache_handle *h);
void meru_cache_release(meru_cache *c, meru_cache_handle *h); /* NULL-safe */
/* Unlinks the entry with this key if present. */
void meru_cache_erase(meru_cache *c, const void *key, size_t klen);
/* The 64-bit hash the cache gives a key (its shard is picked by the top
 * bits): for a structure kept beside the cache, e.g. admit.h's tags, so
 * that the key's shard and its tag agree. */
uint64_t meru_cache_hash(const void *key, size_t klen);
/* Whether the shard of a key of this hash has ever had to evict for room
 * (it is full, or was): an admission policy lets everything in until
 * then, as storing costs no other entry its place. Never cleared. */
bool meru_cache_filled(meru_cache *c, uint64_t hash);
/* Ids that make keys of different users (files) distinct. Never 0. */
uint64_t meru_cache_new_id(meru_cache *c);
void meru_cache_stats_get(meru_cache *c, meru_cache_stats *out);

#endif
