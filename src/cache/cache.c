/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.c — sharded CLOCK cache with charges and refcounted handles
 * (cache.h).
 *
 * Each shard (chosen by the top bits of a 64-bit key hash) has a
 * read-write lock guarding a chained hash table, one circular list of the
 * entries in the cache (the clock, with a hand pointing into it) and the
 * counters. An entry's atomic `refs` counts the handles out on it plus one
 * while the cache itself holds it (while it is on the clock).
 *
 * Why CLOCK and not LevelDB's two LRU lists (what this was until issue 11):
 * with LRU a hit moves its entry from the lru list to the in-use list and
 * the release moves it back, each move writing two neighbours and a list
 * head, under the shard mutex taken twice per hit. With two client threads
 * doing gets, those lines and the mutex went back and forth between the
 * cores on every page lookup, and a lookup that found the mutex taken
 * slept in the kernel (futex wait, then wake). Here a hit takes the read
 * side of the shard's lock (hits of several threads go in together), sets
 * the entry's referenced bit and bumps its count; a release is one atomic
 * decrement, no lock. Inserts, erases and evictions take the write side.
 * Eviction pays instead: the hand skips entries in use (refs > 1) and
 * gives referenced ones a second chance (clears the bit and moves on: the
 * entries stay where they are, so a pass writes no neighbours), evicting
 * the first unused unreferenced one. That approximates LRU (an entry used
 * since the hand last passed is kept), which is what the page and row
 * caches need. bench/RESULTS.md, "Two client threads": the cache's
 * functions cost ~0.5 us less per get on bench_kv's table.
 *
 * A count may fall from 2 to 1 without the lock (a release) but rises only
 * under its read side (a lookup), so under the write side `refs == 1`
 * means "unused" and stays so. An entry removed from the cache (erase,
 * replacement, eviction) leaves the table and the clock at once and its
 * charge stops counting, but it is freed only when refs reaches 0: by
 * whichever of the cache and the last handle lets go last. Entries the
 * cache drops to 0 are collected under the lock and their deleters run
 * after it is dropped, so a deleter may use the cache.
 *
 * Over capacity with every entry in use (an oversized entry, or many
 * handles out), eviction cannot finish; it sets the shard's `over` flag and
 * a release that sees it takes the lock and evicts again. The flag and the
 * counts are sequentially consistent (Dekker): either the evictor's second
 * sweep after setting the flag sees the release's decrement, or the
 * release sees the flag.
 *
 * Deleters of entries another thread inserted wait on that thread's
 * owners[] list (a lock-free stack) until its next insert (dispose): with
 * two client threads doing gets, each one's page inserts evicted the
 * other's decoded pages, and free() took the other thread's malloc arena
 * lock while it was allocating: most of the futex calls left on the get
 * path (bench/RESULTS.md, "Uniform gets and two threads").
 *
 * Shards: a small cache uses fewer shards (each gets at least
 * MERU_CACHE_MIN_SHARD_BYTES, or the caller's minimum) so that a handful
 * of large entries is not spread over shards too small to hold one; up to
 * 16.
 * An entry larger than its shard's capacity is still inserted and returned
 * (callers need no special case) and is evicted when released.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "util/error.h"

#define MERU_CACHE_MAX_SHARD_BITS  4
#define MERU_CACHE_INIT_BUCKETS    16

typedef struct lnode {
    struct lnode *prev, *next;
} lnode;

struct meru_cache_handle {
    lnode link; /* first: a list node is its entry */
    struct meru_cache_handle *hnext; /* hash chain; also the free list */
    void *value;
    meru_cache_deleter del;
    size_t charge;
    uint64_t hash;
    _Atomic uint32_t refs;
    atomic_bool referenced; /* hit since the hand last passed */
    uint16_t owner; /* the inserting thread's owners[] index */
    size_t klen;
    uint8_t key[];
};
typedef struct meru_cache_handle entry;

/* A cache line: shards are aligned to it so that two threads on two
 * shards never write the same line (the locks sat 144 bytes apart). */
#define MERU_CACHE_LINE 64

typedef struct shard {
    /* Read side: lookups. Write side: everything that changes the table
       or the clock. Guards every field below but the atomics, and the
       entries' links. */
    _Alignas(MERU_CACHE_LINE) pthread_rwlock_t lock;
    entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;    /* entries in the table (= on the clock) */
    lnode clock;     /* the list head (no entry) */
    lnode *hand;     /* the next entry to look at, or &clock; new entries
                        go just behind it (looked at last) */
    size_t capacity, usage;
    atomic_uint_fast64_t hits, misses; /* relaxed: lookups share the lock */
    uint64_t inserts, evictions;
    atomic_bool over; /* the last eviction stopped over capacity */
    atomic_bool filled; /* has evicted for room once (never cleared) */
} shard;

/* Entries whose deleter waits for the thread that inserted them (see
 * dispose): a stack pushed by other threads, taken whole by the owner. */
#define MERU_CACHE_OWNERS 16
typedef struct owner_list {
    _Alignas(MERU_CACHE_LINE) _Atomic(struct meru_cache_handle *) head;
    _Atomic size_t bytes; /* charges on the stack */
} owner_list;

struct meru_cache {
    size_t capacity;
    unsigned shard_bits;
    size_t owner_limit; /* most bytes an owner_list holds */
    _Atomic uint64_t next_id;
    owner_list owners[MERU_CACHE_OWNERS];
    shard shards[];
};

/* ----------------------------------------------------------------- helpers */

static uint64_t hash_key(const void *key, size_t len)
{
    const uint8_t *p = key;
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a, then a finaliser */
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

static shard *shard_of(meru_cache *c, uint64_t hash)
{
    size_t i = c->shard_bits ? (size_t)(hash >> (64 - c->shard_bits)) : 0;
    return &c->shards[i];
}

static void list_init(lnode *l)
{
    l->prev = l->next = l;
}

static void list_remove(lnode *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

/* Appends at the newest end. */
static void list_append(lnode *l, lnode *n)
{
    n->next = l;
    n->prev = l->prev;
    n->prev->next = n;
    l->prev = n;
}

/* The slot pointing at the entry with this key, or at the NULL ending the
 * chain. */
static entry **table_find(shard *s, const void *key, size_t klen,
                          uint64_t hash)
{
    entry **p = &s->buckets[hash & (s->nbuckets - 1)];
    while (*p && ((*p)->hash != hash || (*p)->klen != klen ||
                  (klen && memcmp((*p)->key, key, klen) != 0)))
        p = &(*p)->hnext;
    return p;
}

/* Doubles the table; on allocation failure keeps the old one (longer
 * chains are slower, not wrong). */
static void table_grow(shard *s)
{
    size_t nb = s->nbuckets * 2;
    entry **b = calloc(nb, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < s->nbuckets; i++) {
        entry *e = s->buckets[i];
        while (e) {
            entry *next = e->hnext;
            entry **slot = &b[e->hash & (nb - 1)];
            e->hnext = *slot;
            *slot = e;
            e = next;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = nb;
}

/* Drops the cache's reference (write side held); an entry reaching 0
 * goes to *dead (freed by the caller after unlocking). */
static void unref_locked(entry *e, entry **dead)
{
    if (atomic_fetch_sub(&e->refs, 1) == 1) {
        e->hnext = *dead;
        *dead = e;
    }
}

/* Takes an entry already unlinked from the table out of the cache. */
static void finish_erase(shard *s, entry *e, entry **dead)
{
    if (s->hand == &e->link)
        s->hand = e->link.next;
    list_remove(&e->link);
    s->usage -= e->charge;
    unref_locked(e, dead);
}

/* One turn of the clock while over capacity: evicts unused unreferenced
 * entries from the hand on, passing over entries in use and giving
 * referenced ones a second chance; at most two laps (every entry seen
 * twice: the second time its bit is clear). */
static void sweep(shard *s, entry **dead)
{
    size_t budget = 2 * s->count + 1;
    while (s->usage > s->capacity && budget-- > 0) {
        if (s->hand == &s->clock) /* the head: wrap around */
            s->hand = s->clock.next;
        if (s->hand == &s->clock) /* empty */
            return;
        entry *e = (entry *)s->hand;
        if (atomic_load(&e->refs) > 1) {
            s->hand = e->link.next;
            continue;
        }
        if (atomic_load_explicit(&e->referenced, memory_order_relaxed)) {
            atomic_store_explicit(&e->referenced, false,
                                  memory_order_relaxed);
            s->hand = e->link.next;
            continue;
        }
        entry **p = table_find(s, e->key, e->klen, e->hash);
        if (*p == e) { /* always: clock entries are in the table */
            *p = e->hnext;
            s->count--;
        }
        s->evictions++;
        if (!atomic_load_explicit(&s->filled, memory_order_relaxed))
            atomic_store_explicit(&s->filled, true, memory_order_relaxed);
        finish_erase(s, e, dead); /* moves the hand on */
    }
}

/* Evicts while over capacity; what it cannot evict (entries in use) is
 * left to the release that makes them unused (the `over` flag). */
static void evict(shard *s, entry **dead)
{
    for (int pass = 0;; pass++) {
        sweep(s, dead);
        if (s->usage <= s->capacity) {
            if (atomic_load_explicit(&s->over, memory_order_relaxed))
                atomic_store(&s->over, false);
            return;
        }
        if (pass)
            return;
        /* Then one more sweep: a release that missed the flag made its
         * decrement before this store, and the sweep sees it. */
        atomic_store(&s->over, true);
    }
}

static void run_deleters(entry *dead)
{
    while (dead) {
        entry *next = dead->hnext;
        if (dead->del)
            dead->del(dead->key, dead->klen, dead->value);
        free(dead);
        dead = next;
    }
}

/* The calling thread's owners[] index: threads take numbers in the order
 * of their first insert, so two share a list only past 16 threads. */
static atomic_uint next_owner;
static _Thread_local unsigned my_owner; /* number + 1; 0: none yet */

static unsigned owner_index(void)
{
    if (!my_owner)
        my_owner = atomic_fetch_add_explicit(&next_owner, 1,
                                             memory_order_relaxed) + 1;
    return (my_owner - 1) % MERU_CACHE_OWNERS;
}

/* Runs the deleters of the entries other threads left to this one. */
static void drain_mine(meru_cache *c, unsigned me)
{
    owner_list *o = &c->owners[me];
    if (!atomic_load_explicit(&o->head, memory_order_relaxed))
        return;
    entry *list = atomic_exchange(&o->head, NULL);
    size_t bytes = 0;
    for (entry *e = list; e; e = e->hnext)
        bytes += e->charge;
    atomic_fetch_sub(&o->bytes, bytes);
    run_deleters(list);
}

/* Pushes e on its inserting thread's list unless that would take the
 * list past owner_limit (the charge is claimed first, so racing disposers
 * cannot overshoot). */
static bool defer(meru_cache *c, entry *e)
{
    owner_list *o = &c->owners[e->owner];
    if (atomic_fetch_add(&o->bytes, e->charge) + e->charge > c->owner_limit) {
        atomic_fetch_sub(&o->bytes, e->charge);
        return false;
    }
    entry *head = atomic_load_explicit(&o->head, memory_order_relaxed);
    do
        e->hnext = head;
    while (!atomic_compare_exchange_weak(&o->head, &head, e));
    return true;
}

/* Deletes what the cache let go of. An entry another thread inserted is
 * left on that thread's list, and its deleter runs at that thread's next
 * insert: the value was allocated there (a page decoded by the thread
 * that missed it), and freeing it here would take the other thread's
 * malloc arena lock while that thread allocates (with two client threads
 * doing gets, most futex calls were those arena locks: one thread's
 * insert evicting the other's pages). A list holding owner_limit bytes
 * takes no more (a thread that stopped inserting, or exited, holds at
 * most that much); those are deleted here. */
static void dispose(meru_cache *c, entry *dead)
{
    /* A thread that never inserted owns nothing (and takes no number). */
    unsigned me = my_owner ? (my_owner - 1) % MERU_CACHE_OWNERS
                           : MERU_CACHE_OWNERS;
    while (dead) {
        entry *next = dead->hnext;
        dead->hnext = NULL;
        /* only a value with a deleter was allocated by its inserter; a
         * bare entry (a charge token) is freed here */
        if (!(dead->del && dead->owner != me && defer(c, dead)))
            run_deleters(dead);
        dead = next;
    }
}

/* --------------------------------------------------------------------- API */

int meru_cache_new(meru_cache **out, size_t capacity)
{
    return meru_cache_new_sharded(out, capacity, MERU_CACHE_MIN_SHARD_BYTES);
}

int meru_cache_new_sharded(meru_cache **out, size_t capacity,
                           size_t min_shard_bytes)
{
    *out = NULL;
    unsigned bits = 0;
    if (!min_shard_bytes)
        min_shard_bytes = 1;
    while (bits < MERU_CACHE_MAX_SHARD_BITS &&
           (capacity >> (bits + 1)) >= min_shard_bytes)
        bits++;
    size_t n = (size_t)1 << bits;
    size_t bytes = sizeof(meru_cache) + n * sizeof(shard);
    bytes = (bytes + MERU_CACHE_LINE - 1) / MERU_CACHE_LINE * MERU_CACHE_LINE;
    meru_cache *c = aligned_alloc(MERU_CACHE_LINE, bytes);
    if (!c)
        return meru_err(MERU_ENOMEM, "cache of %zu bytes", capacity);
    memset(c, 0, bytes);
    c->capacity = capacity;
    c->shard_bits = bits;
    atomic_init(&c->next_id, 1);
    /* what a list may hold: 1/64 of the cache, at most 1 MiB (16 lists:
     * at most a quarter of the cache waiting) */
    c->owner_limit = capacity / 64 < ((size_t)1 << 20) ? capacity / 64
                                                       : (size_t)1 << 20;
    for (size_t i = 0; i < MERU_CACHE_OWNERS; i++) {
        atomic_init(&c->owners[i].head, NULL);
        atomic_init(&c->owners[i].bytes, 0);
    }
    size_t per = capacity / n + (capacity % n != 0);
    size_t ok = 0;
    for (; ok < n; ok++) {
        shard *s = &c->shards[ok];
        s->buckets = calloc(MERU_CACHE_INIT_BUCKETS, sizeof *s->buckets);
        if (!s->buckets)
            break;
        if (pthread_rwlock_init(&s->lock, NULL) != 0) {
            free(s->buckets);
            break;
        }
        s->nbuckets = MERU_CACHE_INIT_BUCKETS;
        s->capacity = per;
        list_init(&s->clock);
        s->hand = &s->clock;
        atomic_init(&s->over, false);
        atomic_init(&s->filled, false);
        atomic_init(&s->hits, 0);
        atomic_init(&s->misses, 0);
    }
    if (ok < n) {
        for (size_t i = 0; i < ok; i++) {
            pthread_rwlock_destroy(&c->shards[i].lock);
            free(c->shards[i].buckets);
        }
        free(c);
        return meru_err(MERU_ENOMEM, "cache of %zu bytes", capacity);
    }
    *out = c;
    return MERU_OK;
}

void meru_cache_free(meru_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < MERU_CACHE_OWNERS; i++)
        run_deleters(atomic_load(&c->owners[i].head));
    size_t n = (size_t)1 << c->shard_bits;
    for (size_t i = 0; i < n; i++) {
        shard *s = &c->shards[i];
        entry *dead = NULL;
        /* Entries still in use break the contract; free them anyway so
         * nothing leaks, as the owner said it was done. */
        while (s->clock.next != &s->clock) {
            entry *e = (entry *)s->clock.next;
            list_remove(&e->link);
            e->hnext = dead;
            dead = e;
        }
        run_deleters(dead);
        pthread_rwlock_destroy(&s->lock);
        free(s->buckets);
    }
    free(c);
}

meru_cache_handle *meru_cache_lookup(meru_cache *c, const void *key,
                                     size_t klen)
{
    uint64_t h = hash_key(key, klen);
    shard *s = shard_of(c, h);
    /* The read side: lookups of two threads never wait for each other
     * (with a mutex they did: a futex sleep and wake, the only futex
     * calls of bench_get --threads 2 on a cached table). */
    pthread_rwlock_rdlock(&s->lock);
    entry *e = *table_find(s, key, klen, h);
    if (e) {
        /* in the table, so the cache's own reference keeps it >= 1 */
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        /* a store only when it changes: a hot entry's line stays shared */
        if (!atomic_load_explicit(&e->referenced, memory_order_relaxed))
            atomic_store_explicit(&e->referenced, true,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&s->hits, 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&s->misses, 1, memory_order_relaxed);
    }
    pthread_rwlock_unlock(&s->lock);
    return e;
}

bool meru_cache_contains(meru_cache *c, const void *key, size_t klen)
{
    uint64_t h = hash_key(key, klen);
    shard *s = shard_of(c, h);
    pthread_rwlock_rdlock(&s->lock);
    bool in = *table_find(s, key, klen, h) != NULL;
    pthread_rwlock_unlock(&s->lock);
    return in;
}

int meru_cache_insert(meru_cache *c, const void *key, size_t klen,
                      void *value, size_t charge, meru_cache_deleter del,
                      meru_cache_handle **out)
{
    *out = NULL;
    unsigned me = owner_index();
    /* What other threads evicted of this thread's: freed in the arena
     * they came from, by the thread allocating there. */
    drain_mine(c, me);
    entry *e = malloc(sizeof *e + klen);
    if (!e)
        return meru_err(MERU_ENOMEM, "cache entry of %zu key bytes", klen);
    memset(e, 0, sizeof *e);
    atomic_init(&e->referenced, false);
    if (klen)
        memcpy(e->key, key, klen);
    e->klen = klen;
    e->hash = hash_key(key, klen);
    e->value = value;
    e->del = del;
    e->charge = charge;
    e->owner = (uint16_t)me;
    atomic_init(&e->refs, 1); /* the caller's handle */
    list_init(&e->link);

    shard *s = shard_of(c, e->hash);
    entry *dead = NULL;
    pthread_rwlock_wrlock(&s->lock);
    s->inserts++;
    if (s->capacity > 0) {
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        list_append(s->hand, &e->link); /* just behind the hand */
        s->usage += charge;
        entry **p = table_find(s, key, klen, e->hash);
        entry *old = *p;
        e->hnext = old ? old->hnext : NULL;
        *p = e;
        if (old)
            finish_erase(s, old, &dead);
        else if (++s->count > s->nbuckets)
            table_grow(s);
        evict(s, &dead);
    } /* else: not cached; the handle alone keeps it, release frees it */
    pthread_rwlock_unlock(&s->lock);
    dispose(c, dead);
    *out = e;
    return MERU_OK;
}

void *meru_cache_value(const meru_cache_handle *h)
{
    return h->value;
}

void meru_cache_release(meru_cache *c, meru_cache_handle *h)
{
    if (!h)
        return;
    /* The shard before the decrement: after it, h may be freed by
     * another thread. */
    shard *s = shard_of(c, h->hash);
    if (atomic_fetch_sub(&h->refs, 1) == 1) {
        /* Out of the cache already, and this was the last handle. */
        h->hnext = NULL;
        dispose(c, h);
        return;
    }
    if (!atomic_load(&s->over))
        return;
    /* An eviction could not finish (e.g. an oversized entry in use):
     * what this release made unused may go now. */
    entry *dead = NULL;
    pthread_rwlock_wrlock(&s->lock);
    evict(s, &dead);
    pthread_rwlock_unlock(&s->lock);
    dispose(c, dead);
}

void meru_cache_erase(meru_cache *c, const void *key, size_t klen)
{
    uint64_t h = hash_key(key, klen);
    shard *s = shard_of(c, h);
    entry *dead = NULL;
    pthread_rwlock_wrlock(&s->lock);
    entry **p = table_find(s, key, klen, h);
    entry *e = *p;
    if (e) {
        *p = e->hnext;
        s->count--;
        finish_erase(s, e, &dead);
    }
    pthread_rwlock_unlock(&s->lock);
    dispose(c, dead);
}

uint64_t meru_cache_hash(const void *key, size_t klen)
{
    return hash_key(key, klen);
}

bool meru_cache_filled(meru_cache *c, uint64_t hash)
{
    return atomic_load_explicit(&shard_of(c, hash)->filled,
                                memory_order_relaxed);
}

uint64_t meru_cache_new_id(meru_cache *c)
{
    return atomic_fetch_add(&c->next_id, 1);
}

void meru_cache_stats_get(meru_cache *c, meru_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    out->capacity = c->capacity;
    size_t n = (size_t)1 << c->shard_bits;
    for (size_t i = 0; i < n; i++) {
        shard *s = &c->shards[i];
        /* the read side: lookups go on; only writers change these */
        pthread_rwlock_rdlock(&s->lock);
        out->bytes += s->usage;
        out->entries += s->count;
        out->hits += atomic_load_explicit(&s->hits, memory_order_relaxed);
        out->misses +=
            atomic_load_explicit(&s->misses, memory_order_relaxed);
        out->inserts += s->inserts;
        out->evictions += s->evictions;
        pthread_rwlock_unlock(&s->lock);
    }
}
