/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memtable.h — the in-memory write buffer: a skip list of internal keys
 * (user key || 8-byte trailer, keycodec.h) in an arena (SPEC §5, §7).
 *
 * Lifecycle: created mutable with one reference; the engine adds entries
 * from one writer at a time (the group-commit leader, or under the write
 * mutex), marks the memtable immutable when meru_memtable_bytes() says it is
 * full, flushes it to L0 and drops its reference. Readers (gets, scans,
 * flush) run concurrently with the writer without locks; each holds a
 * reference for as long as it uses the memtable or any pointer it returned,
 * and the last unref frees everything.
 *
 * What readers may rely on: an entry whose add returned before the reader
 * started a search is found by it; nothing is half-visible. Making a whole
 * batch visible at once is the engine's job (it publishes the visible
 * sequence only after the batch is in; readers pass that as read_seq).
 *
 * Not done here: sequence allocation, WAL, batching, deciding when the
 * memtable is full (the engine compares meru_memtable_bytes() with its
 * budget), merging with SSTs.
 */
#ifndef MERU_MEMTABLE_MEMTABLE_H
#define MERU_MEMTABLE_MEMTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memtable/skiplist.h"

typedef struct meru_memtable meru_memtable;

/*
 * A new empty, mutable memtable with one reference (the caller's).
 * arena_chunk_bytes: arena chunk size (0 = 64 KiB); it is also the
 * granularity of meru_memtable_bytes(). MERU_ENOMEM.
 */
int meru_memtable_new(meru_memtable **out, size_t arena_chunk_bytes);

/* Takes another reference. Any thread. */
void meru_memtable_ref(meru_memtable *m);
/* Drops a reference; the last one frees the memtable and every entry,
 * key and value pointer it handed out. Accepts NULL. Any thread. */
void meru_memtable_unref(meru_memtable *m);

/*
 * Adds version `seq` of `user_key`: op MERU_OP_PUT with `value`, or
 * MERU_OP_DELETE (value usually empty). Copies everything. Writer only (the
 * caller serialises adds). Errors, memtable unchanged:
 *   MERU_EINVAL  the memtable is immutable; seq > MERU_SEQ_MAX; op is not a
 *                meru_op; (user_key, seq) already present;
 *   MERU_ERANGE  key or value longer than the skip list accepts;
 *   MERU_ENOMEM.
 */
int meru_memtable_add(meru_memtable *m, uint64_t seq, int op,
                      const uint8_t *user_key, size_t ukey_len,
                      const void *value, size_t vlen);

typedef enum meru_mt_state {
    MERU_MT_NOT_FOUND = 0, /* no version of the key at or below read_seq */
    MERU_MT_FOUND = 1,     /* newest visible version is a put */
    MERU_MT_DELETED = 2    /* newest visible version is a delete */
} meru_mt_state;

typedef struct meru_mt_result {
    meru_mt_state state;
    uint64_t seq;         /* of the version found (FOUND, DELETED) */
    const uint8_t *value; /* FOUND: borrowed from the memtable, valid while
                             the caller holds a reference */
    size_t vlen;
} meru_mt_result;

/*
 * Looks up the newest version of `user_key` with seq <= read_seq
 * (read_seq > MERU_SEQ_MAX reads everything) and reports it in *out. Always
 * MERU_OK: a missing key is out->state == MERU_MT_NOT_FOUND. Any thread.
 */
int meru_memtable_get(const meru_memtable *m, const uint8_t *user_key,
                      size_t ukey_len, uint64_t read_seq, meru_mt_result *out);

/* Arena bytes obtained from the system (grows in chunk steps): the number
 * the engine compares with its memtable budget. Any thread. */
size_t meru_memtable_bytes(const meru_memtable *m);
/* Entries added (every version counts). Any thread. */
uint64_t meru_memtable_count(const meru_memtable *m);
/* Smallest / largest seq added; both 0 while empty. Any thread (the pair is
 * consistent only once the writer is quiet, e.g. after immutability). */
uint64_t meru_memtable_min_seq(const meru_memtable *m);
uint64_t meru_memtable_max_seq(const meru_memtable *m);
/* User key of the first / last internal key (the smallest / largest user
 * key when user keys are prefix-free, as keycodec's are); MERU_NOT_FOUND
 * while empty. The bytes are borrowed like get's values. Any thread. */
int meru_memtable_first_key(const meru_memtable *m, const uint8_t **key,
                            size_t *len);
int meru_memtable_last_key(const meru_memtable *m, const uint8_t **key,
                           size_t *len);

/* Freezes the memtable: later adds are MERU_EINVAL. Idempotent. Called by
 * the writer side (it must not race with an add in progress). */
void meru_memtable_set_immutable(meru_memtable *m);
bool meru_memtable_is_immutable(const meru_memtable *m);

/*
 * Iterator over internal keys in order: user key ascending, then newest
 * version first. Stack-allocated, no cleanup; valid while the caller holds
 * a reference. All returned pointers are borrowed from the memtable and
 * stay valid as long as it lives (not just until the next move).
 */
typedef struct meru_memtable_iter {
    meru_skiplist_iter sl;
} meru_memtable_iter;

void meru_memtable_iter_init(meru_memtable_iter *it, const meru_memtable *m);
bool meru_memtable_iter_valid(const meru_memtable_iter *it);
void meru_memtable_iter_seek_to_first(meru_memtable_iter *it);
void meru_memtable_iter_seek_to_last(meru_memtable_iter *it);
/* First entry at or after (user_key, visible at read_seq): the newest
 * version of user_key with seq <= read_seq, else the next key's first. */
void meru_memtable_iter_seek(meru_memtable_iter *it, const uint8_t *user_key,
                             size_t ukey_len, uint64_t read_seq);
/* First entry whose internal key is >= ikey. */
void meru_memtable_iter_seek_ikey(meru_memtable_iter *it, const uint8_t *ikey,
                                  size_t len);
/* Must be valid. */
void meru_memtable_iter_next(meru_memtable_iter *it);
void meru_memtable_iter_prev(meru_memtable_iter *it);
/* Accessors; the iterator must be valid. */
const uint8_t *meru_memtable_iter_ikey(const meru_memtable_iter *it,
                                       size_t *len);
const uint8_t *meru_memtable_iter_user_key(const meru_memtable_iter *it,
                                           size_t *len);
uint64_t meru_memtable_iter_seq(const meru_memtable_iter *it);
int meru_memtable_iter_op(const meru_memtable_iter *it);
const uint8_t *meru_memtable_iter_value(const meru_memtable_iter *it,
                                        size_t *len);
/* The entry the iterator is on as an opaque position (the iterator must
 * be valid), and the iterator put back on such a position: valid while
 * the memtable lives. Lets a caller remember entries in 8 bytes each and
 * visit them in another order (the change feed: by sequence). */
const void *meru_memtable_iter_pos(const meru_memtable_iter *it);
void meru_memtable_iter_set_pos(meru_memtable_iter *it, const void *pos);

#endif
