/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keycodec.h — order-preserving primary-key bytes and internal keys
 * (SPEC §3).
 *
 * User keys. The primary-key tuple of a row is encoded so that plain memcmp
 * of two encodings (shorter first on a tie) orders them exactly like the
 * typed tuples under meru_value_cmp() column by column. A composite key is
 * the concatenation of its components; every component encoding is
 * self-delimiting (prefix-free), so:
 *   - the encoding of the first k key columns is a byte prefix of the
 *     encoding of every full key starting with those values (prefix scans
 *     seek to it; meru_key_prefix_successor() gives the exclusive end);
 *   - no full key is a byte prefix of another full key of the same schema,
 *     which is what lets an internal-key trailer be appended after it.
 *
 * Component encodings (all multi-byte numbers big-endian):
 *   BOOLEAN              1 byte: 0x00 false, 0x01 true
 *   INT32, DATE          4 bytes, two's complement with the sign bit flipped
 *   INT64, TIMESTAMP(TZ) 8 bytes, likewise
 *   FLOAT, DOUBLE        4 / 8 bytes of the IEEE bits; negative numbers
 *                        (sign bit set) have every bit flipped, others only
 *                        the sign bit. This is IEEE-754 totalOrder: -inf <
 *                        ... < -0.0 < +0.0 < ... < +inf. -0.0 and +0.0 are
 *                        DISTINCT keys (like Java's Double.compare): a key
 *                        is identified by its bits, never by a rounding
 *                        equality. NaN is rejected (MERU_EINVAL).
 *   DECIMAL              16 bytes: the 128-bit two's complement unscaled
 *                        value with the sign bit flipped. The scale is fixed
 *                        by the schema, so unscaled order is value order.
 *                        Precision is not checked here (row validation's
 *                        job); any 128-bit value round-trips.
 *   STRING, BINARY       the bytes with each 0x00 written as 0x00 0xFF, then
 *                        the terminator 0x00 0x00. So "" < "\0" < "\0\0" <
 *                        "a" < "a\0" < "ab": a prefix sorts first. UTF-8 is
 *                        not checked here.
 *   FIXED(L)             the L bytes as they are (the length is fixed).
 *
 * Internal keys are `user_key || trailer`, the trailer being 8 bytes:
 * big-endian ~((seq << 8) | op). Under memcmp of whole internal keys, keys
 * order by user key first (user keys are prefix-free), then NEWER versions
 * (higher seq) FIRST. To find "the newest version of K visible at sequence
 * S" seek to the first internal key >= K || seek trailer(S)
 * (meru_ikey_append_seek_trailer): it sorts after every version of K with
 * seq > S and at or before every version with seq <= S.
 *
 * Not done here: UTF-8 validation, decimal precision checks, NULL keys
 * (key columns are never null). The codec never allocates except by
 * growing the caller's meru_buf, once per call.
 */
#ifndef MERU_TYPES_KEYCODEC_H
#define MERU_TYPES_KEYCODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "types/row.h"
#include "types/schema.h"
#include "types/value.h"
#include "util/buf.h"
#include "util/endian.h"

/* Sequence numbers are 56 bits: 0 .. MERU_SEQ_MAX. */
#define MERU_SEQ_MAX          ((UINT64_C(1) << 56) - 1)
#define MERU_IKEY_TRAILER_LEN 8

/* The operation stored in an internal key (and the SST _merutable_op). */
typedef enum meru_op { MERU_OP_DELETE = 0, MERU_OP_PUT = 1 } meru_op;
/* The highest op: a trailer with it sorts first among those of one seq. */
#define MERU_OP_MAX MERU_OP_PUT

/* --------------------------------------------------------------- user keys */

/*
 * Appends to `out` the encoding of the first `n` key columns (n <= nkey;
 * n < nkey gives a prefix key). vals[i] is the value of key column i (key
 * order, not schema order) and must be PRESENT. Copies the bytes: `vals`
 * may be released afterwards. Grows `out` at most once.
 * Errors (out unchanged): MERU_EINVAL for n > nkey, a null or unset value,
 * NaN, a FIXED value of the wrong length; MERU_ERANGE for STRING/BINARY
 * longer than MERU_MAX_VALUE_BYTES; MERU_ENOMEM.
 */
int meru_key_encode(const meru_schema *s, const meru_value *vals, size_t n,
                    meru_buf *out);

/*
 * Appends the full primary key of `row` (a row of schema `s`). A key column
 * left unset reads as its write default when the column has one (as
 * meru_row_effective() would), else it is an error. Errors as above.
 */
int meru_key_encode_row(const meru_schema *s, const meru_row *row,
                        meru_buf *out);

/*
 * Decodes an encoded user key (full or prefix) of `len` bytes: fills
 * vals[0 .. *n_out) (vals has room for s->nkey entries) with PRESENT values
 * in key order. The whole input must be consumed: a component cut short,
 * bytes left after nkey components, a bad escape (0x00 followed by
 * anything but 0x00 or 0xFF), a boolean byte other than 0/1, NaN bits or an
 * oversized string are MERU_ECORRUPT (offset in meru_errmsg()). On success
 * re-encoding the *n_out values gives back exactly `key`.
 *
 * Ownership: STRING/BINARY/FIXED values borrow either from `key` (no 0x00
 * inside, the common case: zero-copy) or from `scratch`, to which unescaped
 * bytes are appended (grown at most once per call; it is never reset here).
 * Values stay valid while `key` lives and until `scratch` is next grown,
 * reset or freed. On error `scratch->len` is restored.
 */
int meru_key_decode(const meru_schema *s, const uint8_t *key, size_t len,
                    meru_value *vals, size_t *n_out, meru_buf *scratch);

/*
 * Turns the encoded prefix in `key` into the smallest byte string greater
 * than every string that starts with it (drop trailing 0xFF bytes, then add
 * one to the last byte): the exclusive upper bound of a prefix scan.
 * MERU_NOT_FOUND (key emptied) when the prefix is empty or all 0xFF: then
 * there is no upper bound.
 */
int meru_key_prefix_successor(meru_buf *key);

/* ----------------------------------------------------------- internal keys */

/* Writes the trailer of (seq, op). Caller guarantees seq <= MERU_SEQ_MAX and
 * 0 <= op <= 255 (meru_ikey_append_trailer checks). */
static inline void meru_ikey_trailer_encode(uint8_t out[MERU_IKEY_TRAILER_LEN],
                                            uint64_t seq, int op)
{
    meru_store_be64(out, ~((seq << 8) | (uint8_t)op));
}

/* Appends the trailer of (seq, op) to a user key in `b`. MERU_EINVAL for
 * seq > MERU_SEQ_MAX or an op that is not a meru_op; MERU_ENOMEM. */
int meru_ikey_append_trailer(meru_buf *b, uint64_t seq, int op);

/*
 * Appends the seek trailer for read sequence `seq`: trailer(seq,
 * MERU_OP_MAX). With user key K in `b`, the result is the smallest internal
 * key of K visible at `seq`: every version of K with a higher seq sorts
 * before it, every version with seq <= `seq` at or after it.
 */
int meru_ikey_append_seek_trailer(meru_buf *b, uint64_t seq);

/*
 * Splits an internal key: user key length (len - 8), seq and op; any output
 * may be NULL. MERU_ECORRUPT if len < 8 or the op is not a meru_op.
 */
int meru_ikey_parse(const uint8_t *ikey, size_t len, size_t *ukey_len,
                    uint64_t *seq, int *op);

/* The internal-key order (also the user-key order): memcmp, then shorter
 * first. <0, 0, >0. In 8-byte words without a call to memcmp: keys are
 * short (an int64 key's internal key is 17 bytes) and merges, scans, seeks
 * and the memtable compare them once or more per entry. */
static inline int meru_ikey_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
                                size_t blen)
{
    size_t n = alen < blen ? alen : blen, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x = meru_load_be64(a + i), y = meru_load_be64(b + i);
        if (x != y)
            return x < y ? -1 : 1;
    }
    for (; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

#endif
