/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dbiter.h — the user-visible view of a merged internal iterator: for each
 * user key the newest version with seq <= read_seq; keys whose visible
 * version is a delete are skipped; keys outside the bounds are never
 * returned. Forward or reverse.
 *
 * Bounds are encoded user keys (keycodec.h) with an inclusive flag each;
 * the engine turns partial-key and prefix bounds into these before it
 * calls (see meru_scan_options in merutable.h). A bound need not be a
 * stored key, but no stored user key may be a proper byte prefix of a
 * bound: true of full keys, of keycodec prefix encodings (k < nkey whole
 * components) and of their meru_key_prefix_successor(), since full keys
 * have nkey self-delimiting components.
 *
 * Cost: one seek to start; older versions of a key and versions newer than
 * read_seq are stepped over, or jumped over by a reseek when there are many.
 */
#ifndef MERU_ENGINE_DBITER_H
#define MERU_ENGINE_DBITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/iter.h"
#include "types/value.h"

typedef struct meru_dbiter_options {
    uint64_t read_seq; /* versions with seq <= read_seq are visible */
    bool has_lower;
    const uint8_t *lower; /* copied */
    size_t lower_len;
    bool lower_inclusive;
    bool has_upper;
    const uint8_t *upper; /* copied */
    size_t upper_len;
    bool upper_inclusive;
    bool reverse;
} meru_dbiter_options;

typedef struct meru_dbiter meru_dbiter;

/* Takes ownership of `merged` (also on failure). */
int meru_dbiter_new(meru_iiter *merged, const meru_dbiter_options *o,
                    meru_dbiter **out);
/* The next visible row: MERU_OK with the user key and the rowcodec value
 * (borrowed, valid until the next call), MERU_NOT_FOUND at the end, or
 * the merged iterator's error (sticky). value and vlen may be NULL: the
 * value is then not fetched, and the caller asks for it with one of the
 * two calls below (a source that must encode it is spared that). */
int meru_dbiter_next(meru_dbiter *it, const uint8_t **ukey, size_t *klen,
                     const uint8_t **value, size_t *vlen);
/* After a successful next: the row's rowcodec value, as next gives it. */
void meru_dbiter_value(meru_dbiter *it, const uint8_t **value, size_t *vlen);
/* After a successful next: the row's values straight from its source
 * (iter.h's values op: non-key projected columns filled, the others
 * UNSET; borrowed until the next call). MERU_NOT_FOUND when there is no
 * such form (a reverse scan, which saves rows aside, or a source with
 * encoded values only): use meru_dbiter_value. Another error is sticky. */
int meru_dbiter_values(meru_dbiter *it, meru_value *vals);
/*
 * Repositions the iterator (a new walk within its own bounds). Not
 * for_prev: the next row is the first visible one whose key is >= k (>
 * when !incl); for_prev: the last one whose key is <= k (< when !incl);
 * `has` false means no target (the first / last row). Rows then follow in
 * the iterator's direction. No such row: next returns MERU_NOT_FOUND. A
 * sticky error is returned again; a seek against the iterator's direction
 * walks once to find the row, and an error there becomes sticky.
 */
int meru_dbiter_seek(meru_dbiter *it, bool has, const uint8_t *k, size_t len,
                     bool incl, bool for_prev);
void meru_dbiter_free(meru_dbiter *it); /* NULL-safe */

#endif
