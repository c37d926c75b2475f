/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memtable.c — internal-key memtable over the skip list (see memtable.h).
 *
 * Each entry is one skip-list node whose key is user_key || trailer(seq,
 * op), written straight into the node (no temporary key buffer) and whose
 * value is the row bytes. A get seeks to user_key || seek_trailer(read_seq),
 * built on the fly by the split-key seek, so lookups never allocate.
 *
 * User keys from keycodec are prefix-free, so internal-key order is
 * user-key order and the seek lands directly on the answer. For arbitrary
 * byte strings (one user key a prefix of another) an entry of a longer key
 * can sort between K || seek_trailer and K's visible versions; get steps
 * over entries that merely start with K, which keeps it exact for any keys.
 *
 * Statistics (count, min/max seq, bytes) are atomics written only by the
 * writer, after the node is published, so any thread can read them. The
 * immutable flag is atomic for the same reason; it is set by the writer
 * side, so no add can be in flight when it flips.
 */
#include "memtable/memtable.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "types/keycodec.h"
#include "util/arena.h"
#include "util/endian.h"
#include "util/error.h"

struct meru_memtable {
    atomic_uint refs;
    atomic_bool immutable;
    meru_arena *arena; /* allocation: writer only */
    meru_skiplist *list;
    _Atomic size_t bytes;
    _Atomic uint64_t min_seq;
    _Atomic uint64_t max_seq;
};

int meru_memtable_new(meru_memtable **out, size_t arena_chunk_bytes)
{
    int rc;
    meru_memtable *m = calloc(1, sizeof *m);
    if (!m)
        return meru_err(MERU_ENOMEM, "memtable: out of memory");
    rc = meru_arena_new(&m->arena, arena_chunk_bytes);
    if (rc)
        goto fail;
    /* A fixed seed: tower heights (and so performance) are reproducible. */
    rc = meru_skiplist_new(&m->list, m->arena, UINT64_C(0x6d656d7461626c65));
    if (rc)
        goto fail;
    atomic_init(&m->refs, 1);
    atomic_init(&m->immutable, false);
    atomic_init(&m->bytes, meru_arena_bytes(m->arena));
    atomic_init(&m->min_seq, 0);
    atomic_init(&m->max_seq, 0);
    *out = m;
    return MERU_OK;
fail:
    meru_arena_free(m->arena);
    free(m);
    return rc;
}

void meru_memtable_ref(meru_memtable *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void meru_memtable_unref(meru_memtable *m)
{
    if (!m)
        return;
    /* acq_rel: every use by other holders happens before the free. */
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    meru_arena_free(m->arena);
    free(m);
}

int meru_memtable_add(meru_memtable *m, uint64_t seq, int op,
                      const uint8_t *user_key, size_t ukey_len,
                      const void *value, size_t vlen)
{
    if (atomic_load_explicit(&m->immutable, memory_order_relaxed))
        return meru_err(MERU_EINVAL, "memtable add: memtable is immutable");
    if (seq > MERU_SEQ_MAX)
        return meru_err(MERU_EINVAL, "memtable add: seq %llu exceeds 2^56-1",
                        (unsigned long long)seq);
    if (op != MERU_OP_PUT && op != MERU_OP_DELETE)
        return meru_err(MERU_EINVAL, "memtable add: bad op %d", op);
    uint8_t trailer[MERU_IKEY_TRAILER_LEN];
    meru_ikey_trailer_encode(trailer, seq, op);
    int rc = meru_skiplist_insert2(m->list, user_key, ukey_len, trailer,
                                   sizeof trailer, value, vlen);
    if (rc)
        return meru_err_wrap(rc, "memtable add (seq %llu)",
                             (unsigned long long)seq);
    uint64_t n = meru_skiplist_count(m->list);
    uint64_t lo = atomic_load_explicit(&m->min_seq, memory_order_relaxed);
    uint64_t hi = atomic_load_explicit(&m->max_seq, memory_order_relaxed);
    if (n == 1 || seq < lo)
        atomic_store_explicit(&m->min_seq, seq, memory_order_release);
    if (n == 1 || seq > hi)
        atomic_store_explicit(&m->max_seq, seq, memory_order_release);
    atomic_store_explicit(&m->bytes, meru_arena_bytes(m->arena),
                          memory_order_release);
    return MERU_OK;
}

static inline void decode_trailer(const uint8_t *ikey, size_t len,
                                  uint64_t *seq, int *op)
{
    uint64_t x = ~meru_load_be64(ikey + len - MERU_IKEY_TRAILER_LEN);
    *seq = x >> 8;
    *op = (int)(x & 0xff);
}

int meru_memtable_get(const meru_memtable *m, const uint8_t *user_key,
                      size_t ukey_len, uint64_t read_seq, meru_mt_result *out)
{
    memset(out, 0, sizeof *out);
    if (read_seq > MERU_SEQ_MAX)
        read_seq = MERU_SEQ_MAX;
    uint8_t seek[MERU_IKEY_TRAILER_LEN];
    meru_ikey_trailer_encode(seek, read_seq, MERU_OP_MAX);
    meru_skiplist_iter it;
    meru_skiplist_iter_init(&it, m->list);
    meru_skiplist_iter_seek2(&it, user_key, ukey_len, seek, sizeof seek);
    for (; meru_skiplist_iter_valid(&it); meru_skiplist_iter_next(&it)) {
        size_t klen;
        const uint8_t *k = meru_skiplist_iter_key(&it, &klen);
        if (klen < ukey_len || (ukey_len && memcmp(k, user_key, ukey_len)))
            break; /* past every internal key starting with user_key */
        if (klen != ukey_len + MERU_IKEY_TRAILER_LEN)
            continue; /* a longer user key that starts with user_key */
        int op;
        decode_trailer(k, klen, &out->seq, &op);
        if (op == MERU_OP_DELETE) {
            out->state = MERU_MT_DELETED;
        } else {
            out->state = MERU_MT_FOUND;
            out->value = meru_skiplist_iter_value(&it, &out->vlen);
        }
        break;
    }
    return MERU_OK;
}

size_t meru_memtable_bytes(const meru_memtable *m)
{
    return atomic_load_explicit(&m->bytes, memory_order_acquire);
}

uint64_t meru_memtable_count(const meru_memtable *m)
{
    return meru_skiplist_count(m->list);
}

uint64_t meru_memtable_min_seq(const meru_memtable *m)
{
    return atomic_load_explicit(&m->min_seq, memory_order_acquire);
}

uint64_t meru_memtable_max_seq(const meru_memtable *m)
{
    return atomic_load_explicit(&m->max_seq, memory_order_acquire);
}

static int edge_key(const meru_memtable *m, bool last, const uint8_t **key,
                    size_t *len)
{
    meru_skiplist_iter it;
    meru_skiplist_iter_init(&it, m->list);
    if (last)
        meru_skiplist_iter_seek_to_last(&it);
    else
        meru_skiplist_iter_seek_to_first(&it);
    if (!meru_skiplist_iter_valid(&it))
        return MERU_NOT_FOUND;
    size_t klen;
    *key = meru_skiplist_iter_key(&it, &klen);
    *len = klen - MERU_IKEY_TRAILER_LEN;
    return MERU_OK;
}

int meru_memtable_first_key(const meru_memtable *m, const uint8_t **key,
                            size_t *len)
{
    return edge_key(m, false, key, len);
}

int meru_memtable_last_key(const meru_memtable *m, const uint8_t **key,
                           size_t *len)
{
    return edge_key(m, true, key, len);
}

void meru_memtable_set_immutable(meru_memtable *m)
{
    atomic_store_explicit(&m->immutable, true, memory_order_release);
}

bool meru_memtable_is_immutable(const meru_memtable *m)
{
    return atomic_load_explicit(&m->immutable, memory_order_acquire);
}

/* ----------------------------------------------------------------- iterator */

void meru_memtable_iter_init(meru_memtable_iter *it, const meru_memtable *m)
{
    meru_skiplist_iter_init(&it->sl, m->list);
}

bool meru_memtable_iter_valid(const meru_memtable_iter *it)
{
    return meru_skiplist_iter_valid(&it->sl);
}

void meru_memtable_iter_seek_to_first(meru_memtable_iter *it)
{
    meru_skiplist_iter_seek_to_first(&it->sl);
}

void meru_memtable_iter_seek_to_last(meru_memtable_iter *it)
{
    meru_skiplist_iter_seek_to_last(&it->sl);
}

void meru_memtable_iter_seek(meru_memtable_iter *it, const uint8_t *user_key,
                             size_t ukey_len, uint64_t read_seq)
{
    if (read_seq > MERU_SEQ_MAX)
        read_seq = MERU_SEQ_MAX;
    uint8_t seek[MERU_IKEY_TRAILER_LEN];
    meru_ikey_trailer_encode(seek, read_seq, MERU_OP_MAX);
    meru_skiplist_iter_seek2(&it->sl, user_key, ukey_len, seek, sizeof seek);
}

void meru_memtable_iter_seek_ikey(meru_memtable_iter *it, const uint8_t *ikey,
                                  size_t len)
{
    meru_skiplist_iter_seek(&it->sl, ikey, len);
}

void meru_memtable_iter_next(meru_memtable_iter *it)
{
    meru_skiplist_iter_next(&it->sl);
}

void meru_memtable_iter_prev(meru_memtable_iter *it)
{
    meru_skiplist_iter_prev(&it->sl);
}

const uint8_t *meru_memtable_iter_ikey(const meru_memtable_iter *it,
                                       size_t *len)
{
    return meru_skiplist_iter_key(&it->sl, len);
}

const uint8_t *meru_memtable_iter_user_key(const meru_memtable_iter *it,
                                           size_t *len)
{
    const uint8_t *k = meru_skiplist_iter_key(&it->sl, len);
    *len -= MERU_IKEY_TRAILER_LEN;
    return k;
}

uint64_t meru_memtable_iter_seq(const meru_memtable_iter *it)
{
    size_t len;
    const uint8_t *k = meru_skiplist_iter_key(&it->sl, &len);
    uint64_t seq;
    int op;
    decode_trailer(k, len, &seq, &op);
    return seq;
}

int meru_memtable_iter_op(const meru_memtable_iter *it)
{
    size_t len;
    const uint8_t *k = meru_skiplist_iter_key(&it->sl, &len);
    uint64_t seq;
    int op;
    decode_trailer(k, len, &seq, &op);
    return op;
}

const uint8_t *meru_memtable_iter_value(const meru_memtable_iter *it,
                                        size_t *len)
{
    return meru_skiplist_iter_value(&it->sl, len);
}

const void *meru_memtable_iter_pos(const meru_memtable_iter *it)
{
    return it->sl.node;
}

void meru_memtable_iter_set_pos(meru_memtable_iter *it, const void *pos)
{
    it->sl.node = pos;
}
