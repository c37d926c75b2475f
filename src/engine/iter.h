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
 *  - destroy frees everything (the iterator owns whatever it references,
 *    e.g. a memtable reference). NULL-safe through meru_iiter_destroy.
 */
#ifndef MERU_ENGINE_ITER_H
#define MERU_ENGINE_ITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
