/* SPDX-License-Identifier: Apache-2.0 */
/*
 * skiplist.c — LevelDB-style skip list with one writer and lock-free
 * readers (see skiplist.h).
 *
 * Node layout, one arena allocation, 8-byte aligned:
 *   [klen u32][vlen u32][height u8, pad][next[height] atomic ptrs][key][value]
 *
 * Memory ordering (the whole correctness argument):
 *   - The writer fills in a new node completely (lengths, height, key and
 *     value bytes, and its own next[i] with relaxed stores — nobody can see
 *     the node yet), then links it bottom-up with a RELEASE store into each
 *     predecessor's next[i].
 *   - Readers follow next pointers with ACQUIRE loads. Acquiring a pointer
 *     to a node therefore makes every plain write the writer did to that
 *     node before the release visible: a reader can never see a half-built
 *     node. Linking bottom-up means a node reachable at level i is already
 *     reachable at level 0, so a search descending from a higher level
 *     never skips an entry it could otherwise find.
 *   - max_height is only a hint for where searches start and is accessed
 *     relaxed: a reader that sees the new height before the head's new
 *     next pointers reads NULL there and simply drops a level; one that
 *     sees the old height misses only express lanes, not entries.
 *   - count is stored with release after the links, so a reader that
 *     acquires count >= n sees at least the first n inserts.
 *   - Nodes are never unlinked or modified after publication, and the
 *     arena never moves memory, so there is no reclamation problem: the
 *     owner keeps the arena alive while readers exist (memtable refcount).
 *
 * The writer's own loads may be relaxed (it is the only one storing).
 * Heights come from a per-list xorshift64* PRNG: deterministic for a seed,
 * no shared state between lists.
 *
 * Appends (a key greater than the last one: time series, auto-increment
 * ids, loads in key order) skip the search: the writer keeps the last node
 * of every level (tail[]), which is exactly the predecessor an append
 * needs at that level, so the insert compares one key instead of ~2 per
 * level of every tower on the path from the head. tail[] is the writer's
 * private state (readers never look at it); the links it leads to are
 * published by the same release stores as any insert.
 */
#include "memtable/skiplist.h"

#include <stdatomic.h>
#include <string.h>

#include "types/keycodec.h"
#include "util/error.h"

struct meru_sl_node {
    uint32_t klen;
    uint32_t vlen;
    uint8_t height;
    _Atomic(meru_sl_node *) next[];
};

struct meru_skiplist {
    meru_arena *arena;
    meru_sl_node *head;     /* sentinel of MAX_HEIGHT, no key */
    atomic_int max_height;  /* levels in use, >= 1; relaxed hint */
    _Atomic uint64_t count; /* release-stored after each insert */
    uint64_t rng;           /* writer only */
    /* Writer only: the last node at each level (the head where a level has
     * none). An insert past the last key links after these directly. */
    meru_sl_node *tail[MERU_SKIPLIST_MAX_HEIGHT];
};

static inline const uint8_t *node_key(const meru_sl_node *n)
{
    return (const uint8_t *)(n->next + n->height);
}

static inline meru_sl_node *next_acq(const meru_sl_node *n, int level)
{
    return atomic_load_explicit(&((meru_sl_node *)n)->next[level],
                                memory_order_acquire);
}

/*
 * Compares node key k with target a||b, in meru_ikey_cmp order, without
 * materialising the concatenation.
 */
static int cmp_split(const uint8_t *k, size_t klen, const uint8_t *a,
                     size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = klen < alen ? klen : alen;
    int c = n ? memcmp(k, a, n) : 0;
    if (c)
        return c;
    if (klen <= alen) /* k is a prefix of a (or equal to it) */
        return klen == alen && blen == 0 ? 0 : -1;
    return meru_ikey_cmp(k + alen, klen - alen, b, blen);
}

static inline int node_cmp(const meru_sl_node *n, const uint8_t *a, size_t alen,
                           const uint8_t *b, size_t blen)
{
    return cmp_split(node_key(n), n->klen, a, alen, b, blen);
}

static int random_height(meru_skiplist *sl)
{
    int h = 1;
    while (h < MERU_SKIPLIST_MAX_HEIGHT) {
        /* xorshift64* */
        uint64_t x = sl->rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        sl->rng = x;
        if (((x * UINT64_C(2685821657736338717)) >> 62) != 0)
            break; /* 3 chances in 4 */
        h++;
    }
    return h;
}

int meru_skiplist_new(meru_skiplist **out, meru_arena *arena, uint64_t seed)
{
    meru_skiplist *sl = meru_arena_alloc(arena, sizeof *sl);
    meru_sl_node *head = meru_arena_alloc(
        arena, sizeof *head + MERU_SKIPLIST_MAX_HEIGHT * sizeof head->next[0]);
    if (!sl || !head)
        return meru_err(MERU_ENOMEM, "skiplist: out of memory");
    head->klen = 0;
    head->vlen = 0;
    head->height = MERU_SKIPLIST_MAX_HEIGHT;
    for (int i = 0; i < MERU_SKIPLIST_MAX_HEIGHT; i++) {
        atomic_init(&head->next[i], NULL);
        sl->tail[i] = head;
    }
    sl->arena = arena;
    sl->head = head;
    atomic_init(&sl->max_height, 1);
    atomic_init(&sl->count, 0);
    sl->rng = seed ^ UINT64_C(0x9E3779B97F4A7C15);
    if (!sl->rng)
        sl->rng = 1;
    *out = sl;
    return MERU_OK;
}

/*
 * The first node >= a||b (NULL if none). If prev is given, prev[i] is the
 * last node < a||b at level i, for every level below the current height.
 */
static meru_sl_node *find_ge(const meru_skiplist *sl, const uint8_t *a,
                             size_t alen, const uint8_t *b, size_t blen,
                             meru_sl_node **prev)
{
    meru_sl_node *x = sl->head;
    const meru_sl_node *bigger = NULL; /* last node found >= target */
    int level = atomic_load_explicit(&sl->max_height, memory_order_relaxed) - 1;
    for (;;) {
        meru_sl_node *n = next_acq(x, level);
        /* A tower makes the same successor reappear one level down; it is
         * already known to be >= target (as in RocksDB's InlineSkipList). */
        if (n && n != bigger && node_cmp(n, a, alen, b, blen) < 0) {
            x = n;
            continue;
        }
        bigger = n;
        if (prev)
            prev[level] = x;
        if (level == 0)
            return n;
        level--;
    }
}

/* The last node < a||b, or the head if none. */
static const meru_sl_node *find_lt(const meru_skiplist *sl, const uint8_t *a,
                                   size_t alen)
{
    meru_sl_node *x = sl->head;
    int level = atomic_load_explicit(&sl->max_height, memory_order_relaxed) - 1;
    for (;;) {
        meru_sl_node *n = next_acq(x, level);
        if (n && node_cmp(n, a, alen, NULL, 0) < 0) {
            x = n;
            continue;
        }
        if (level == 0)
            return x;
        level--;
    }
}

/* The last node, or the head if the list is empty. */
static const meru_sl_node *find_last(const meru_skiplist *sl)
{
    meru_sl_node *x = sl->head;
    int level = atomic_load_explicit(&sl->max_height, memory_order_relaxed) - 1;
    for (;;) {
        meru_sl_node *n = next_acq(x, level);
        if (n) {
            x = n;
            continue;
        }
        if (level == 0)
            return x;
        level--;
    }
}

/* True if a||b sorts after every key in the list (writer only: reads
 * tail[]). False on an empty list, where the search is trivial anyway. */
static inline bool is_append(const meru_skiplist *sl, const uint8_t *a,
                             size_t alen, const uint8_t *b, size_t blen)
{
    const meru_sl_node *last = sl->tail[0];
    return last != sl->head && node_cmp(last, a, alen, b, blen) < 0;
}

int meru_skiplist_insert2(meru_skiplist *sl, const uint8_t *a, size_t alen,
                          const uint8_t *b, size_t blen, const void *value,
                          size_t vlen)
{
    if (alen > MERU_SKIPLIST_MAX_LEN || blen > MERU_SKIPLIST_MAX_LEN - alen ||
        vlen > MERU_SKIPLIST_MAX_LEN)
        return meru_err(MERU_ERANGE,
                        "skiplist insert: key of %zu+%zu bytes or value of "
                        "%zu bytes is too long",
                        alen, blen, vlen);
    meru_sl_node *prev[MERU_SKIPLIST_MAX_HEIGHT];
    meru_sl_node *ge = NULL;
    if (is_append(sl, a, alen, b, blen)) {
        /* Every level's last node precedes the new key: no search, and no
         * duplicate possible. */
        memcpy(prev, sl->tail, sizeof prev);
    } else {
        ge = find_ge(sl, a, alen, b, blen, prev);
        if (ge && node_cmp(ge, a, alen, b, blen) == 0)
            return meru_err(MERU_EINVAL,
                            "skiplist insert: key of %zu bytes is already "
                            "present",
                            alen + blen);
    }

    int height = random_height(sl);
    size_t klen = alen + blen;
    size_t hdr = sizeof(meru_sl_node) + (size_t)height * sizeof(ge->next[0]);
    if (klen + vlen > SIZE_MAX - hdr)
        return meru_err(MERU_ERANGE, "skiplist insert: entry too large");
    meru_sl_node *n = meru_arena_alloc(sl->arena, hdr + klen + vlen);
    if (!n)
        return meru_err_wrap(MERU_ENOMEM, "skiplist insert");
    n->klen = (uint32_t)klen;
    n->vlen = (uint32_t)vlen;
    n->height = (uint8_t)height;
    uint8_t *k = (uint8_t *)(n->next + height);
    if (alen)
        memcpy(k, a, alen);
    if (blen)
        memcpy(k + alen, b, blen);
    if (vlen)
        memcpy(k + klen, value, vlen);

    int cur = atomic_load_explicit(&sl->max_height, memory_order_relaxed);
    if (height > cur) {
        for (int i = cur; i < height; i++)
            prev[i] = sl->head;
        atomic_store_explicit(&sl->max_height, height, memory_order_relaxed);
    }
    for (int i = 0; i < height; i++) {
        meru_sl_node *succ =
            atomic_load_explicit(&prev[i]->next[i], memory_order_relaxed);
        /* Not yet visible to anyone: relaxed is enough. */
        atomic_init(&n->next[i], succ);
        /* Publishes the fully built node (pairs with readers' acquire). */
        atomic_store_explicit(&prev[i]->next[i], n, memory_order_release);
        if (!succ)
            sl->tail[i] = n; /* n is now the last node at level i */
    }
    uint64_t c = atomic_load_explicit(&sl->count, memory_order_relaxed);
    atomic_store_explicit(&sl->count, c + 1, memory_order_release);
    return MERU_OK;
}

int meru_skiplist_insert(meru_skiplist *sl, const uint8_t *key, size_t klen,
                         const void *value, size_t vlen)
{
    return meru_skiplist_insert2(sl, key, klen, NULL, 0, value, vlen);
}

bool meru_skiplist_contains(const meru_skiplist *sl, const uint8_t *key,
                            size_t klen)
{
    meru_sl_node *n = find_ge(sl, key, klen, NULL, 0, NULL);
    return n && node_cmp(n, key, klen, NULL, 0) == 0;
}

uint64_t meru_skiplist_count(const meru_skiplist *sl)
{
    return atomic_load_explicit(&sl->count, memory_order_acquire);
}

int meru_skiplist_check(const meru_skiplist *sl)
{
    int levels = atomic_load_explicit(&sl->max_height, memory_order_relaxed);
    uint64_t count = meru_skiplist_count(sl);
    for (int i = 0; i < levels; i++) {
        uint64_t seen = 0;
        const meru_sl_node *p = NULL;
        for (const meru_sl_node *n = next_acq(sl->head, i); n;
             p = n, n = next_acq(n, i), seen++) {
            if (n->height <= i)
                return meru_err(MERU_ECORRUPT,
                                "skiplist: a node of height %d on level %d",
                                n->height, i);
            if (p && meru_ikey_cmp(node_key(p), p->klen, node_key(n),
                                   n->klen) >= 0)
                return meru_err(MERU_ECORRUPT,
                                "skiplist: level %d out of order after %llu "
                                "nodes",
                                i, (unsigned long long)seen);
        }
        if (i == 0 && seen != count)
            return meru_err(MERU_ECORRUPT,
                            "skiplist: %llu nodes on level 0, count %llu",
                            (unsigned long long)seen,
                            (unsigned long long)count);
    }
    return MERU_OK;
}

/* ----------------------------------------------------------------- iterator */

void meru_skiplist_iter_init(meru_skiplist_iter *it, const meru_skiplist *sl)
{
    it->list = sl;
    it->node = NULL;
}

bool meru_skiplist_iter_valid(const meru_skiplist_iter *it)
{
    return it->node != NULL;
}

const uint8_t *meru_skiplist_iter_key(const meru_skiplist_iter *it, size_t *len)
{
    *len = it->node->klen;
    return node_key(it->node);
}

const uint8_t *meru_skiplist_iter_value(const meru_skiplist_iter *it,
                                        size_t *len)
{
    *len = it->node->vlen;
    return node_key(it->node) + it->node->klen;
}

void meru_skiplist_iter_next(meru_skiplist_iter *it)
{
    it->node = next_acq(it->node, 0);
}

void meru_skiplist_iter_prev(meru_skiplist_iter *it)
{
    const meru_sl_node *p =
        find_lt(it->list, node_key(it->node), it->node->klen);
    it->node = p == it->list->head ? NULL : p;
}

void meru_skiplist_iter_seek(meru_skiplist_iter *it, const uint8_t *target,
                             size_t len)
{
    it->node = find_ge(it->list, target, len, NULL, 0, NULL);
}

void meru_skiplist_iter_seek2(meru_skiplist_iter *it, const uint8_t *a,
                              size_t alen, const uint8_t *b, size_t blen)
{
    it->node = find_ge(it->list, a, alen, b, blen, NULL);
}

void meru_skiplist_iter_seek_lt(meru_skiplist_iter *it, const uint8_t *target,
                                size_t len)
{
    const meru_sl_node *p = find_lt(it->list, target, len);
    it->node = p == it->list->head ? NULL : p;
}

void meru_skiplist_iter_seek_to_first(meru_skiplist_iter *it)
{
    it->node = next_acq(it->list->head, 0);
}

void meru_skiplist_iter_seek_to_last(meru_skiplist_iter *it)
{
    const meru_sl_node *p = find_last(it->list);
    it->node = p == it->list->head ? NULL : p;
}
