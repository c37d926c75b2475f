/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dv.c — the in-memory deletion vector: a sorted array of (high 32 bits,
 * CRoaring bitmap of the low 32 bits) buckets.
 *
 * Row positions of one file are dense and mostly below 2^32, so a set
 * nearly always has one bucket; the array and binary search keep the rare
 * multi-bucket case correct without a tree. Buckets are never empty: a
 * bucket is created by the add that puts the first position in it.
 */
#include "iceberg/dv.h"

#include <roaring/roaring.h>
#include <stdlib.h>
#include <string.h>

#include "merutable.h"
#include "util/error.h"

typedef struct dv_bucket {
    uint32_t key;
    roaring_bitmap_t *bm;
} dv_bucket;

struct meru_dv {
    dv_bucket *b;
    size_t n, cap;
};

static int oom(void)
{
    return meru_err(MERU_ENOMEM, "out of memory (deletion vector)");
}

int meru_dv_new(meru_dv **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? MERU_OK : oom();
}

void meru_dv_free(meru_dv *dv)
{
    if (!dv)
        return;
    for (size_t i = 0; i < dv->n; i++)
        roaring_bitmap_free(dv->b[i].bm);
    free(dv->b);
    free(dv);
}

int meru_dv_clone(meru_dv **out, const meru_dv *dv)
{
    meru_dv *c;
    int rc;
    *out = NULL;
    if ((rc = meru_dv_new(&c)))
        return rc;
    if (dv->n) {
        c->b = calloc(dv->n, sizeof *c->b);
        if (!c->b) {
            meru_dv_free(c);
            return oom();
        }
        c->cap = dv->n;
        for (size_t i = 0; i < dv->n; i++) {
            c->b[i].key = dv->b[i].key;
            if (!(c->b[i].bm = roaring_bitmap_copy(dv->b[i].bm))) {
                meru_dv_free(c);
                return oom();
            }
            c->n++;
        }
    }
    *out = c;
    return MERU_OK;
}

/* Index of the bucket with `key`, or of where it would go (*found false). */
static size_t find(const meru_dv *dv, uint32_t key, bool *found)
{
    size_t lo = 0, hi = dv->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (dv->b[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < dv->n && dv->b[lo].key == key;
    return lo;
}

/* The bucket for `key`, created empty when missing (the caller fills it
 * before returning, so no empty bucket stays). */
static int bucket(meru_dv *dv, uint32_t key, roaring_bitmap_t **out)
{
    bool found;
    size_t i = find(dv, key, &found);
    if (!found) {
        roaring_bitmap_t *bm;
        if (dv->n == dv->cap) {
            size_t cap = dv->cap ? dv->cap * 2 : 1;
            dv_bucket *p = realloc(dv->b, cap * sizeof *p);
            if (!p)
                return oom();
            dv->b = p;
            dv->cap = cap;
        }
        if (!(bm = roaring_bitmap_create()))
            return oom();
        memmove(dv->b + i + 1, dv->b + i, (dv->n - i) * sizeof *dv->b);
        dv->b[i].key = key;
        dv->b[i].bm = bm;
        dv->n++;
    }
    *out = dv->b[i].bm;
    return MERU_OK;
}

int meru_dv_add(meru_dv *dv, uint64_t pos)
{
    roaring_bitmap_t *bm;
    int rc = bucket(dv, (uint32_t)(pos >> 32), &bm);
    if (rc == MERU_OK)
        roaring_bitmap_add(bm, (uint32_t)pos);
    return rc;
}

int meru_dv_add_range(meru_dv *dv, uint64_t lo, uint64_t hi)
{
    while (lo < hi) {
        uint32_t key = (uint32_t)(lo >> 32);
        /* Last position of this bucket's part of the range, inclusive. */
        uint64_t end = ((uint64_t)key << 32) | 0xffffffffu;
        if (end > hi - 1)
            end = hi - 1;
        roaring_bitmap_t *bm;
        int rc = bucket(dv, key, &bm);
        if (rc)
            return rc;
        roaring_bitmap_add_range_closed(bm, (uint32_t)lo, (uint32_t)end);
        if (end == UINT64_MAX)
            break;
        lo = end + 1;
    }
    return MERU_OK;
}

int meru_dv_union(meru_dv *dst, const meru_dv *src)
{
    for (size_t i = 0; i < src->n; i++) {
        roaring_bitmap_t *bm;
        int rc = bucket(dst, src->b[i].key, &bm);
        if (rc)
            return rc;
        roaring_bitmap_or_inplace(bm, src->b[i].bm);
    }
    return MERU_OK;
}

bool meru_dv_contains(const meru_dv *dv, uint64_t pos)
{
    bool found;
    size_t i = find(dv, (uint32_t)(pos >> 32), &found);
    return found && roaring_bitmap_contains(dv->b[i].bm, (uint32_t)pos);
}

uint64_t meru_dv_cardinality(const meru_dv *dv)
{
    uint64_t n = 0;
    for (size_t i = 0; i < dv->n; i++)
        n += roaring_bitmap_get_cardinality(dv->b[i].bm);
    return n;
}

bool meru_dv_is_empty(const meru_dv *dv)
{
    for (size_t i = 0; i < dv->n; i++)
        if (!roaring_bitmap_is_empty(dv->b[i].bm))
            return false;
    return true;
}

bool meru_dv_max(const meru_dv *dv, uint64_t *out)
{
    for (size_t i = dv->n; i-- > 0;)
        if (!roaring_bitmap_is_empty(dv->b[i].bm)) {
            *out = ((uint64_t)dv->b[i].key << 32) |
                   roaring_bitmap_maximum(dv->b[i].bm);
            return true;
        }
    return false;
}

bool meru_dv_is_subset(const meru_dv *a, const meru_dv *b)
{
    for (size_t i = 0; i < a->n; i++) {
        bool found;
        if (roaring_bitmap_is_empty(a->b[i].bm))
            continue;
        size_t j = find(b, a->b[i].key, &found);
        if (!found || !roaring_bitmap_is_subset(a->b[i].bm, b->b[j].bm))
            return false;
    }
    return true;
}

bool meru_dv_equal(const meru_dv *a, const meru_dv *b)
{
    return meru_dv_is_subset(a, b) && meru_dv_is_subset(b, a);
}

typedef struct foreach_ctx {
    uint64_t high;
    int (*fn)(uint64_t pos, void *arg);
    void *arg;
    int rc;
} foreach_ctx;

static bool foreach_one(uint32_t low, void *p)
{
    foreach_ctx *c = p;
    c->rc = c->fn(c->high | low, c->arg);
    return c->rc == 0;
}

int meru_dv_foreach(const meru_dv *dv, int (*fn)(uint64_t pos, void *arg),
                    void *arg)
{
    foreach_ctx c = {0, fn, arg, 0};
    for (size_t i = 0; i < dv->n && c.rc == 0; i++) {
        c.high = (uint64_t)dv->b[i].key << 32;
        roaring_iterate(dv->b[i].bm, foreach_one, &c);
    }
    return c.rc;
}

void meru_dv_optimize(meru_dv *dv)
{
    size_t kept = 0;
    for (size_t i = 0; i < dv->n; i++) {
        if (roaring_bitmap_is_empty(dv->b[i].bm)) {
            roaring_bitmap_free(dv->b[i].bm);
            continue;
        }
        roaring_bitmap_run_optimize(dv->b[i].bm);
        dv->b[kept++] = dv->b[i];
    }
    dv->n = kept;
}

size_t meru_dv_bucket_count(const meru_dv *dv)
{
    return dv->n;
}

uint32_t meru_dv_bucket_key(const meru_dv *dv, size_t i)
{
    return dv->b[i].key;
}

const void *meru_dv_bucket_bitmap(const meru_dv *dv, size_t i)
{
    return dv->b[i].bm;
}

int meru_dv_push_bucket(meru_dv *dv, uint32_t key, void *bitmap)
{
    if (dv->n && dv->b[dv->n - 1].key >= key) {
        roaring_bitmap_free(bitmap);
        return meru_err(MERU_ECORRUPT,
                        "deletion vector: bucket key %u after %u (keys must "
                        "ascend)",
                        key, dv->b[dv->n - 1].key);
    }
    if (dv->n == dv->cap) {
        size_t cap = dv->cap ? dv->cap * 2 : 1;
        dv_bucket *p = realloc(dv->b, cap * sizeof *p);
        if (!p) {
            roaring_bitmap_free(bitmap);
            return oom();
        }
        dv->b = p;
        dv->cap = cap;
    }
    dv->b[dv->n].key = key;
    dv->b[dv->n].bm = bitmap;
    dv->n++;
    return MERU_OK;
}
