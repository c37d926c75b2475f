/* SPDX-License-Identifier: Apache-2.0 */
/*
 * iter.h — the internal iterator every LSM source offers: memtables, SST
 * files, the merge of them (merge.h). It walks internal keys (user key ||
 * 8-byte trailer, keycodec.h) in internal-key order (user key ascending,
 * newest version first), in both directions.
 *
 * Values are row values in rowcodec form (rowcodec.h; key columns are not
 * in the value). A delete has an empty value.
 *
 * Rules for implementations:
 *  - key()/value() may be called only while valid(); the bytes stay valid
 *    until the next move (seek*, next, prev) or destroy.
 *  - An I/O or corruption error makes the iterator invalid and is reported
 *    by status() (sticky); status() is MERU_OK otherwise, also at the end.
 *  - values (optional) hands the current put out decoded; see below.
 *  - destroy frees everything (the iterator owns whatever it references,
 *    e.g. a memtable reference). NULL-safe through meru_iiter_destroy.
 */
#ifndef MERU_ENGINE_ITER_H
#define MERU_ENGINE_ITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types/value.h"

typedef struct meru_iiter meru_iiter;

typedef struct meru_iiter_ops {
    bool (*valid)(meru_iiter *it);
    void (*seek_to_first)(meru_iiter *it);
    void (*seek_to_last)(meru_iiter *it);
    /* First entry with internal key >= ikey. */
    void (*seek)(meru_iiter *it, const uint8_t *ikey, size_t len);
    /* Last entry with internal key <= ikey. */
    void (*seek_for_prev)(meru_iiter *it, const uint8_t *ikey, size_t len);
    void (*next)(meru_iiter *it); /* must be valid */
    void (*prev)(meru_iiter *it); /* must be valid */
    const uint8_t *(*key)(meru_iiter *it, size_t *len);
    const uint8_t *(*value)(meru_iiter *it, size_t *len);
    int (*status)(meru_iiter *it);
    void (*destroy)(meru_iiter *it);
    /* Optional (NULL when an iterator only holds encoded values): the
     * current entry, a put, as values instead of value()'s encoding, so a
     * scan need not encode a row only to decode it again. Fills vals[0 ..
     * ncols) of the iterator's schema: every non-key column in the
     * iterator's projection with its value (PRESENT or NULL; bytes point
     * into the iterator, valid until its next move), the other columns,
     * key columns included, UNSET. MERU_NOT_FOUND: no such form for this
     * entry, use value(). Another error is also status() from then on. */
    int (*values)(meru_iiter *it, meru_value *vals);
} meru_iiter_ops;

struct meru_iiter {
    const meru_iiter_ops *ops;
};

static inline void meru_iiter_destroy(meru_iiter *it)
{
    if (it)
        it->ops->destroy(it);
}

#endif
