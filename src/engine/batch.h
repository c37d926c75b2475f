/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batch.h — the write batch: an ordered list of puts and deletes that is
 * applied atomically, stored as ONE WAL record, and given contiguous
 * sequence numbers first_seq, first_seq + 1, ... (SPEC §5).
 *
 * The builder keeps the serialised form (the WAL record payload) as it
 * goes, so handing it to the WAL costs no copy:
 *   u8      MERU_BATCH_MAGIC (0xB1: format version 1)
 *   u64 LE  first sequence number (entry i has first_seq + i)
 *   varint  entry count
 *   entries, each:
 *     u8      op: MERU_OP_PUT or MERU_OP_DELETE (keycodec.h)
 *     varint  key length (1 .. MERU_BATCH_MAX_KEY), then the encoded user key
 *     for puts: varint value length (<= MERU_BATCH_MAX_VALUE), then the row
 *             value (rowcodec.h)
 *   The record ends exactly after the last entry.
 *
 * Invariants of a builder: `count` entries are in the buffer; a rejected
 * add leaves the batch exactly as it was. The iterator checks every length
 * before use and never allocates; it does not decode keys or values (the
 * consumer does that against its schema).
 *
 * Not here: the WAL framing and checksums, applying entries to the
 * memtable, and schema checks of raw entries (meru_batch_add_raw).
 */
#ifndef MERU_ENGINE_BATCH_H
#define MERU_ENGINE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "types/keycodec.h"
#include "types/row.h"
#include "types/schema.h"
#include "util/buf.h"

#define MERU_BATCH_MAGIC 0xB1
/* Header: magic + seq, then the count varint (at most 5 bytes). */
#define MERU_BATCH_HEADER_MAX (1 + 8 + 5)
/* Caps a decoder enforces on sizes read from a record. */
#define MERU_BATCH_MAX_KEY   (64u * 1024u * 1024u)
#define MERU_BATCH_MAX_VALUE (1024u * 1024u * 1024u)

typedef struct meru_batch {
    /* [0, MERU_BATCH_HEADER_MAX) reserved for the header, then entries. */
    meru_buf rep;
    uint32_t count;
    uint64_t first_seq;
    meru_buf key;   /* scratch: the encoded key of the entry being added */
    meru_buf val;   /* scratch: the encoded value */
    meru_buf dscratch; /* scratch for key validation on delete */
    uint8_t empty_rec[MERU_BATCH_HEADER_MAX]; /* record of an empty batch */
} meru_batch;

/* A zeroed batch is valid and empty. */
void meru_batch_init(meru_batch *b);
void meru_batch_free(meru_batch *b);
/* Empties the batch, keeping its buffers for reuse. */
void meru_batch_clear(meru_batch *b);

/* Validates `row` (meru_row_validate) and appends a put of it under schema
 * `s`: the row's schema, or a later schema of the table (the columns the
 * row lacks take their write default, else null; MERU_EINVAL when such a
 * column is NOT NULL without a write default). MERU_EINVAL / MERU_ERANGE /
 * MERU_ENOMEM. */
int meru_batch_put(meru_batch *b, const meru_schema *s, const meru_row *row);
/* Appends every entry of `src`, whose puts were encoded under `from`, to
 * `dst` with the puts encoded under `to`, a later schema of the table (the
 * columns it adds take their write default, else null; MERU_EINVAL when
 * one is NOT NULL without a write default). `src` gets its header stamped
 * (its first sequence unchanged). On error `dst` may hold part of the
 * entries: discard it. */
int meru_batch_reencode(meru_batch *dst, meru_batch *src,
                        const meru_schema *from, const meru_schema *to);
/* Appends a delete of the row whose key columns are set in `row`. */
int meru_batch_delete_row(meru_batch *b, const meru_schema *s,
                          const meru_row *row);
/* Appends a delete of an encoded user key; it must decode as a full key of
 * `s` (MERU_EINVAL otherwise). */
int meru_batch_delete_key(meru_batch *b, const meru_schema *s,
                          const uint8_t *key, size_t klen);
/* Appends an entry as is (already encoded key and value; `value` ignored
 * for deletes). Checks only the op and sizes. */
int meru_batch_add_raw(meru_batch *b, int op, const uint8_t *key,
                       size_t klen, const uint8_t *value, size_t vlen);

/* Appends every entry of `src` (group commit merges the batches of one
 * write group). `dst` unchanged on error. */
int meru_batch_append(meru_batch *dst, const meru_batch *src);

static inline uint32_t meru_batch_count(const meru_batch *b)
{
    return b->count;
}
/* Size of the serialised record (header included). */
size_t meru_batch_byte_size(const meru_batch *b);

/* Stamps the first sequence number. MERU_ERANGE when the last entry's
 * sequence would pass MERU_SEQ_MAX. */
int meru_batch_set_sequence(meru_batch *b, uint64_t first_seq);

/* The serialised record (the WAL payload): valid until the batch is next
 * changed, cleared or freed. */
const uint8_t *meru_batch_data(meru_batch *b, size_t *len);

/* ---------------------------------------------------------------- reading */

typedef struct meru_batch_entry {
    uint64_t seq;
    int op;
    const uint8_t *key; /* point into the record */
    size_t klen;
    const uint8_t *value; /* NULL, 0 for deletes */
    size_t vlen;
} meru_batch_entry;

typedef struct meru_batch_iter {
    const uint8_t *rec;
    size_t len;
    size_t off;
    uint64_t first_seq;
    uint32_t count;
    uint32_t index; /* entries returned so far */
} meru_batch_iter;

/* Parses the header of `rec`. MERU_ECORRUPT for a bad magic, a short
 * header, a count that cannot fit the record, or first_seq + count - 1 >
 * MERU_SEQ_MAX. */
int meru_batch_iter_init(meru_batch_iter *it, const uint8_t *rec, size_t len);
/* The next entry: MERU_OK, MERU_NOT_FOUND after the last one (having
 * checked that no bytes follow it), or MERU_ECORRUPT naming the entry index
 * and offset (an entry cut short, a bad op or length, bytes left over). */
int meru_batch_iter_next(meru_batch_iter *it, meru_batch_entry *e);

/* Walks the whole record: MERU_OK when every entry parses (so a replay can
 * apply all or nothing). *count / *first_seq may be NULL. */
int meru_batch_check(const uint8_t *rec, size_t len, uint32_t *count,
                     uint64_t *first_seq);

#endif
