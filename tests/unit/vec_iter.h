/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vec_iter.h — test helpers shared by test_merge.c, test_dbiter.c and
 * test_compact_iter.c: an internal iterator (iter.h) over an array of
 * (internal key, value) entries sorted by meru_ikey_cmp, that can be told
 * to fail after a number of moves, and a generator of prefix-free user
 * keys.
 */
#ifndef MERU_TEST_VEC_ITER_H
#define MERU_TEST_VEC_ITER_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/iter.h"
#include "engine/merge.h"
#include "memtable/memtable.h"
#include "types/keycodec.h"

#define VEC_UK_MAX 6
#define VEC_IK_MAX (VEC_UK_MAX + MERU_IKEY_TRAILER_LEN)
#define VEC_VAL_MAX 24

typedef struct vec_entry {
    uint8_t ik[VEC_IK_MAX];
    size_t iklen;
    uint8_t val[VEC_VAL_MAX];
    size_t vlen;
    uint64_t seq;
    int op;
    int src; /* which child holds it (tests' bookkeeping) */
} vec_entry;

static inline int vec_entry_cmp(const void *a, const void *b)
{
    const vec_entry *x = a, *y = b;
    int c = meru_ikey_cmp(x->ik, x->iklen, y->ik, y->iklen);
    if (c)
        return c;
    return x->src < y->src ? -1 : x->src > y->src;
}

/* A prefix-free user key: 1..VEC_UK_MAX-1 bytes over {01, 02, 7f, ff}
 * (narrowed to `alpha` symbols), then a 00 terminator. */
static inline size_t vec_rand_ukey(uint8_t *uk, unsigned alpha,
                                   size_t maxlen)
{
    static const uint8_t sym[4] = {0x01, 0x02, 0x7f, 0xff};
    size_t n = 1 + (size_t)(meru_test_rand() % maxlen);
    for (size_t i = 0; i < n; i++)
        uk[i] = sym[meru_test_rand() % alpha];
    uk[n] = 0x00;
    return n + 1;
}

static inline void vec_make(vec_entry *e, const uint8_t *uk, size_t ulen,
                            uint64_t seq, int op, int src)
{
    memset(e, 0, sizeof *e);
    memcpy(e->ik, uk, ulen);
    meru_ikey_trailer_encode(e->ik + ulen, seq, op);
    e->iklen = ulen + MERU_IKEY_TRAILER_LEN;
    e->seq = seq;
    e->op = op;
    e->src = src;
    if (op == MERU_OP_PUT) {
        e->vlen = 1 + (size_t)(seq % 12);
        for (size_t i = 0; i < e->vlen; i++)
            e->val[i] = (uint8_t)(seq * 131 + i * 7 + (unsigned)src);
    }
}

typedef struct vec_iter {
    meru_iiter base;
    vec_entry *e; /* owned copy, sorted */
    size_t n;
    size_t pos;   /* == n: invalid */
    long fail_in; /* moves left before an injected failure; <0: never */
    int status;
} vec_iter;

static inline bool vi_valid(meru_iiter *it)
{
    vec_iter *v = (vec_iter *)it;
    return v->status == MERU_OK && v->pos < v->n;
}

/* Counts a move; true if this move fails (the iterator goes invalid). */
static inline bool vi_move_fails(vec_iter *v)
{
    if (v->status)
        return true;
    if (v->fail_in >= 0 && v->fail_in-- == 0) {
        v->status = MERU_EIO;
        v->pos = v->n;
        return true;
    }
    return false;
}

static inline void vi_seek_to_first(meru_iiter *it)
{
    vec_iter *v = (vec_iter *)it;
    if (!vi_move_fails(v))
        v->pos = 0;
}

static inline void vi_seek_to_last(meru_iiter *it)
{
    vec_iter *v = (vec_iter *)it;
    if (!vi_move_fails(v))
        v->pos = v->n ? v->n - 1 : 0;
}

/* First index with key >= k. */
static inline size_t vi_lower_bound(vec_iter *v, const uint8_t *k, size_t len)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (meru_ikey_cmp(v->e[mid].ik, v->e[mid].iklen, k, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static inline void vi_seek(meru_iiter *it, const uint8_t *k, size_t len)
{
    vec_iter *v = (vec_iter *)it;
    if (!vi_move_fails(v))
        v->pos = vi_lower_bound(v, k, len);
}

static inline void vi_seek_for_prev(meru_iiter *it, const uint8_t *k,
                                    size_t len)
{
    vec_iter *v = (vec_iter *)it;
    if (vi_move_fails(v))
        return;
    size_t i = vi_lower_bound(v, k, len);
    if (i < v->n && meru_ikey_cmp(v->e[i].ik, v->e[i].iklen, k, len) == 0)
        v->pos = i;
    else
        v->pos = i ? i - 1 : v->n;
}

static inline void vi_next(meru_iiter *it)
{
    vec_iter *v = (vec_iter *)it;
    if (!vi_move_fails(v))
        v->pos++;
}

static inline void vi_prev(meru_iiter *it)
{
    vec_iter *v = (vec_iter *)it;
    if (!vi_move_fails(v))
        v->pos = v->pos ? v->pos - 1 : v->n;
}

static inline const uint8_t *vi_key(meru_iiter *it, size_t *len)
{
    vec_iter *v = (vec_iter *)it;
    *len = v->e[v->pos].iklen;
    return v->e[v->pos].ik;
}

static inline const uint8_t *vi_value(meru_iiter *it, size_t *len)
{
    vec_iter *v = (vec_iter *)it;
    *len = v->e[v->pos].vlen;
    return v->e[v->pos].val;
}

static inline int vi_status(meru_iiter *it)
{
    return ((vec_iter *)it)->status;
}

static inline void vi_destroy(meru_iiter *it)
{
    vec_iter *v = (vec_iter *)it;
    free(v->e);
    free(v);
}

static const meru_iiter_ops vec_iter_ops = {
    .valid = vi_valid,
    .seek_to_first = vi_seek_to_first,
    .seek_to_last = vi_seek_to_last,
    .seek = vi_seek,
    .seek_for_prev = vi_seek_for_prev,
    .next = vi_next,
    .prev = vi_prev,
    .key = vi_key,
    .value = vi_value,
    .status = vi_status,
    .destroy = vi_destroy,
};

/* An iterator over a sorted copy of e[0..n); NULL on allocation failure.
 * fail_in >= 0 makes the (fail_in+1)-th move fail with MERU_EIO. */
static inline meru_iiter *vec_iter_new(const vec_entry *e, size_t n,
                                       long fail_in)
{
    vec_iter *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->e = malloc((n ? n : 1) * sizeof *v->e);
    if (!v->e) {
        free(v);
        return NULL;
    }
    if (n)
        memcpy(v->e, e, n * sizeof *e);
    qsort(v->e, n, sizeof *v->e, vec_entry_cmp);
    v->base.ops = &vec_iter_ops;
    v->n = n;
    v->pos = n;
    v->fail_in = fail_in;
    return &v->base;
}

/*
 * The merge of `nchild` children over e[0..n), entry i going to child
 * e[i].src: even children are memtables when use_mt (entries must then
 * have distinct (user key, seq) within the child), the others vec_iters;
 * child `fail_child` (a vec_iter) fails after `fail_in` moves (-1: none).
 */
static inline int vec_merge_of(const vec_entry *e, size_t n, size_t nchild,
                               bool use_mt, size_t fail_child, long fail_in,
                               meru_iiter **out)
{
    *out = NULL;
    vec_entry *per = malloc((n ? n : 1) * sizeof *per);
    meru_iiter **kids = calloc(nchild ? nchild : 1, sizeof *kids);
    int rc = per && kids ? MERU_OK : MERU_ENOMEM;
    for (size_t c = 0; c < nchild && rc == MERU_OK; c++) {
        size_t np = 0;
        for (size_t i = 0; i < n; i++)
            if (e[i].src == (int)c)
                per[np++] = e[i];
        if (use_mt && c % 2 == 0 && c != fail_child) {
            meru_memtable *m;
            rc = meru_memtable_new(&m, 0);
            if (rc)
                break;
            for (size_t i = 0; i < np && rc == MERU_OK; i++)
                rc = meru_memtable_add(m, per[i].seq, per[i].op, per[i].ik,
                                       per[i].iklen - MERU_IKEY_TRAILER_LEN,
                                       per[i].val, per[i].vlen);
            if (rc == MERU_OK)
                rc = meru_memtable_iiter_new(m, &kids[c]);
            meru_memtable_unref(m); /* the iterator holds its own ref */
        } else {
            kids[c] = vec_iter_new(per, np, c == fail_child ? fail_in : -1);
            if (!kids[c])
                rc = MERU_ENOMEM;
        }
    }
    if (rc == MERU_OK)
        rc = meru_merge_iter_new(kids, nchild, out);
    else if (kids)
        for (size_t c = 0; c < nchild; c++)
            meru_iiter_destroy(kids[c]);
    free(kids);
    free(per);
    return rc;
}

#endif
