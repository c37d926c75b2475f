/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_merge.c — the k-way merge iterator and the memtable adapter.
 *
 * The merge is compared with a brute-force reference: every entry of every
 * child in one sorted array, ordered by (internal key, child index). Random
 * walks mix next/prev/seek/seek_for_prev/seek_to_first/last, so direction
 * switches happen at every kind of position. Children are vector-backed
 * fakes (vec_iter.h) and real memtables; some entries are duplicated into
 * two fakes so that the tie-break by child index is exercised too.
 * The concatenation (one child per level) is walked against the same kind
 * of reference, with parts cut between user keys.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/merge.h"
#include "memtable/memtable.h"
#include "test.h"
#include "types/keycodec.h"
#include "util/error.h"
#include "vec_iter.h"

/* Checks that `it` is exactly on ref[pos] (or invalid when pos == n). */
#define CHECK_AT(it, ref, n, pos)                                              \
    do {                                                                       \
        if ((pos) >= (n)) {                                                    \
            CHECK(!(it)->ops->valid(it));                                      \
        } else {                                                               \
            CHECK((it)->ops->valid(it));                                       \
            size_t _kl, _vl;                                                   \
            const uint8_t *_k = (it)->ops->key((it), &_kl);                    \
            const uint8_t *_v = (it)->ops->value((it), &_vl);                  \
            CHECK_EQ_U64(_kl, (ref)[pos].iklen);                               \
            CHECK_MEM(_k, (ref)[pos].ik, _kl);                                 \
            CHECK_EQ_U64(_vl, (ref)[pos].vlen);                                \
            if (_vl)                                                           \
                CHECK_MEM(_v, (ref)[pos].val, _vl);                            \
        }                                                                      \
    } while (0)

static size_t ref_lower_bound(const vec_entry *r, size_t n, const uint8_t *k,
                              size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (meru_ikey_cmp(r[mid].ik, r[mid].iklen, k, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Last index with key <= k (the last of equal keys, i.e. the highest
 * child index among them), or n. */
static size_t ref_seek_for_prev(const vec_entry *r, size_t n, const uint8_t *k,
                                size_t len)
{
    size_t lo = 0, hi = n; /* first index with key > k */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (meru_ikey_cmp(r[mid].ik, r[mid].iklen, k, len) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : n;
}

/* A seek target: an existing key, or a random user key with a random
 * trailer (often between versions, often absent). */
static size_t rand_target(const vec_entry *r, size_t n, uint8_t *out)
{
    if (n && meru_test_rand() % 2) {
        const vec_entry *e = &r[meru_test_rand() % n];
        memcpy(out, e->ik, e->iklen);
        return e->iklen;
    }
    size_t ul = vec_rand_ukey(out, 3, 3);
    meru_ikey_trailer_encode(out + ul, meru_test_rand() % 400,
                             (int)(meru_test_rand() % 2));
    return ul + MERU_IKEY_TRAILER_LEN;
}

/*
 * Builds `nchild` children over `n` random entries (seqs unique unless
 * duplicated on purpose), the merge over them, and the sorted reference.
 * Children with even index are memtables when use_mt is set.
 */
typedef struct fixture {
    vec_entry *ref;
    size_t nref;
    meru_iiter *merge;
} fixture;

static int build(fixture *f, size_t n, size_t nchild, bool use_mt, bool dups)
{
    memset(f, 0, sizeof *f);
    vec_entry *all = calloc(2 * n + 1, sizeof *all);
    vec_entry *per = calloc(2 * n + 1, sizeof *per);
    meru_iiter **kids = calloc(nchild, sizeof *kids);
    if (!all || !per || !kids)
        return MERU_ENOMEM;
    size_t na = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t uk[VEC_UK_MAX];
        size_t ul = vec_rand_ukey(uk, 3, 3);
        int op = meru_test_rand() % 4 ? MERU_OP_PUT : MERU_OP_DELETE;
        int src = (int)(meru_test_rand() % nchild);
        vec_make(&all[na++], uk, ul, i + 1, op, src);
        if (dups && nchild > 1 && meru_test_rand() % 8 == 0) {
            /* Same internal key in another child: only fakes, memtables
             * hold each key once, and the value tells the copies apart. */
            int src2 = (int)(meru_test_rand() % nchild);
            if (src2 != src && !(use_mt && (src % 2 == 0 || src2 % 2 == 0)))
                vec_make(&all[na++], uk, ul, i + 1, op, src2);
        }
    }
    int rc = MERU_OK;
    for (size_t c = 0; c < nchild && rc == MERU_OK; c++) {
        size_t np = 0;
        for (size_t i = 0; i < na; i++)
            if (all[i].src == (int)c)
                per[np++] = all[i];
        if (use_mt && c % 2 == 0) {
            meru_memtable *m;
            rc = meru_memtable_new(&m, 0);
            for (size_t i = 0; i < np && rc == MERU_OK; i++) {
                size_t ul = per[i].iklen - MERU_IKEY_TRAILER_LEN;
                rc = meru_memtable_add(m, per[i].seq, per[i].op, per[i].ik, ul,
                                       per[i].val, per[i].vlen);
            }
            if (rc == MERU_OK)
                rc = meru_memtable_iiter_new(m, &kids[c]);
            meru_memtable_unref(m); /* the iterator holds its own ref */
        } else {
            kids[c] = vec_iter_new(per, np, -1);
            if (!kids[c])
                rc = MERU_ENOMEM;
        }
    }
    if (rc == MERU_OK)
        rc = meru_merge_iter_new(kids, nchild, &f->merge);
    else
        for (size_t c = 0; c < nchild; c++)
            meru_iiter_destroy(kids[c]);
    free(kids);
    free(per);
    qsort(all, na, sizeof *all, vec_entry_cmp);
    f->ref = all;
    f->nref = na;
    return rc;
}

static void fixture_free(fixture *f)
{
    meru_iiter_destroy(f->merge);
    free(f->ref);
}

/* One random walk of `steps` operations on `it` compared with the sorted
 * reference r[0 .. n). With `prefixes`, a third of the seek targets are
 * cut short: bare user keys and prefixes of them (dbiter seeks bare bound
 * bytes). */
static void walk(meru_iiter *it, const vec_entry *r, size_t n, size_t steps,
                 bool prefixes)
{
    size_t pos = n;
    uint8_t tgt[VEC_IK_MAX];
    CHECK(!it->ops->valid(it));
    for (size_t s = 0; s < steps && !meru_test_failed_current; s++) {
        unsigned op = (unsigned)(meru_test_rand() % 16);
        if (pos < n && op < 5) {
            it->ops->next(it);
            pos++;
        } else if (pos < n && op < 10) {
            it->ops->prev(it);
            pos = pos ? pos - 1 : n;
        } else if (op < 14) {
            size_t tl = rand_target(r, n, tgt);
            if (prefixes && meru_test_rand() % 3 == 0)
                tl = (size_t)(meru_test_rand() % (tl + 1));
            if (op < 12) {
                it->ops->seek(it, tgt, tl);
                pos = ref_lower_bound(r, n, tgt, tl);
            } else {
                it->ops->seek_for_prev(it, tgt, tl);
                pos = ref_seek_for_prev(r, n, tgt, tl);
            }
        } else if (op == 14) {
            it->ops->seek_to_first(it);
            pos = 0;
        } else {
            it->ops->seek_to_last(it);
            pos = n ? n - 1 : 0;
        }
        CHECK_AT(it, r, n, pos);
        CHECK_OK(it->ops->status(it));
    }
}

/* Walks `it` (a child fails with MERU_EIO somewhere) forward with a step
 * back every `period` moves (at phase `back_at`), so direction switches
 * count too, starting over at an error-free end, until it turns invalid:
 * then status() must be the error, and stay so whatever is called. */
static void walk_to_error(meru_iiter *it, size_t period, size_t back_at,
                          size_t max_moves)
{
    size_t moves = 0;
    it->ops->seek_to_first(it);
    while (it->ops->valid(it) && moves < max_moves) {
        if (moves % period == back_at)
            it->ops->prev(it);
        else
            it->ops->next(it);
        if (!it->ops->valid(it) && it->ops->status(it) == MERU_OK)
            it->ops->seek_to_first(it);
        moves++;
    }
    CHECK(!it->ops->valid(it));
    CHECK_RC(it->ops->status(it), MERU_EIO);
    it->ops->seek_to_first(it);
    CHECK(!it->ops->valid(it));
    CHECK_RC(it->ops->status(it), MERU_EIO);
    it->ops->seek_to_last(it);
    CHECK(!it->ops->valid(it));
    CHECK_RC(it->ops->status(it), MERU_EIO);
}

static void test_merge_matches_reference_random_walks(void)
{
    size_t rounds = (size_t)(60 * meru_test_scale()) + 4;
    for (size_t round = 0; round < rounds; round++) {
        size_t nchild = 1 + (size_t)(meru_test_rand() % 7);
        size_t n = (size_t)(meru_test_rand() % 300);
        bool use_mt = meru_test_rand() % 2;
        fixture f;
        CHECK_OK(build(&f, n, nchild, use_mt, true));
        walk(f.merge, f.ref, f.nref, 600, false);
        fixture_free(&f);
        if (meru_test_failed_current)
            return;
    }
}

static void test_merge_full_scans_both_directions(void)
{
    fixture f;
    CHECK_OK(build(&f, 2000, 5, true, false));
    meru_iiter *it = f.merge;
    size_t i = 0;
    for (it->ops->seek_to_first(it); it->ops->valid(it); it->ops->next(it)) {
        CHECK(i < f.nref);
        CHECK_AT(it, f.ref, f.nref, i);
        i++;
    }
    CHECK_EQ_U64(i, f.nref);
    for (it->ops->seek_to_last(it); it->ops->valid(it); it->ops->prev(it)) {
        CHECK(i > 0);
        i--;
        CHECK_AT(it, f.ref, f.nref, i);
    }
    CHECK_EQ_U64(i, 0);
    CHECK_OK(it->ops->status(it));
    fixture_free(&f);
}

static void test_merge_of_nothing_is_empty(void)
{
    meru_iiter *it;
    CHECK_OK(meru_merge_iter_new(NULL, 0, &it));
    it->ops->seek_to_first(it);
    CHECK(!it->ops->valid(it));
    it->ops->seek_to_last(it);
    CHECK(!it->ops->valid(it));
    uint8_t k[9] = {1};
    it->ops->seek(it, k, sizeof k);
    CHECK(!it->ops->valid(it));
    it->ops->seek_for_prev(it, k, sizeof k);
    CHECK(!it->ops->valid(it));
    CHECK_OK(it->ops->status(it));
    meru_iiter_destroy(it);

    /* Children that are all empty. */
    meru_iiter *kids[3];
    kids[0] = vec_iter_new(NULL, 0, -1);
    kids[1] = vec_iter_new(NULL, 0, -1);
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 0));
    CHECK_OK(meru_memtable_iiter_new(m, &kids[2]));
    meru_memtable_unref(m);
    CHECK_OK(meru_merge_iter_new(kids, 3, &it));
    it->ops->seek_to_last(it);
    CHECK(!it->ops->valid(it));
    it->ops->seek_for_prev(it, k, sizeof k);
    CHECK(!it->ops->valid(it));
    meru_iiter_destroy(it);
}

/* A child that fails part-way: the merge turns invalid, status() is the
 * child's error and stays so, whatever is called afterwards. */
static void test_merge_child_error_stops_merge(void)
{
    for (long fail_in = 0; fail_in < 40; fail_in++) {
        vec_entry e[60];
        uint8_t uk[VEC_UK_MAX];
        for (size_t i = 0; i < 60; i++) {
            size_t ul = vec_rand_ukey(uk, 4, 4);
            vec_make(&e[i], uk, ul, i + 1, MERU_OP_PUT, 0);
        }
        meru_iiter *kids[3];
        kids[0] = vec_iter_new(e, 20, -1);
        kids[1] = vec_iter_new(e + 20, 20, fail_in);
        kids[2] = vec_iter_new(e + 40, 20, -1);
        CHECK(kids[0] && kids[1] && kids[2]);
        meru_iiter *it;
        CHECK_OK(meru_merge_iter_new(kids, 3, &it));
        /* Switches move every child, so they count. */
        walk_to_error(it, 7, 3, 200);
        meru_iiter_destroy(it);
    }
}

/* The adapter alone: seek_for_prev lands on an equal key, steps back from a
 * greater one, and falls to the last entry past the end. */
static void test_memtable_adapter_seek_for_prev(void)
{
    meru_memtable *m;
    CHECK_OK(meru_memtable_new(&m, 0));
    const uint8_t a[] = {0x01, 0x00}, b[] = {0x02, 0x00};
    CHECK_OK(meru_memtable_add(m, 5, MERU_OP_PUT, a, 2, "x", 1));
    CHECK_OK(meru_memtable_add(m, 3, MERU_OP_PUT, a, 2, "y", 1));
    CHECK_OK(meru_memtable_add(m, 4, MERU_OP_DELETE, b, 2, NULL, 0));
    meru_iiter *it;
    CHECK_OK(meru_memtable_iiter_new(m, &it));
    meru_memtable_unref(m); /* the iterator keeps it alive */
    uint8_t k[10];
    size_t kl;
    memcpy(k, a, 2);
    meru_ikey_trailer_encode(k + 2, 3, MERU_OP_PUT);
    it->ops->seek_for_prev(it, k, 10);
    CHECK(it->ops->valid(it));
    const uint8_t *got = it->ops->key(it, &kl);
    CHECK_EQ_U64(kl, 10);
    CHECK_MEM(got, k, 10);
    meru_ikey_trailer_encode(k + 2, 4, MERU_OP_PUT); /* between 5 and 3 */
    it->ops->seek_for_prev(it, k, 10);
    CHECK(it->ops->valid(it));
    uint64_t seq;
    got = it->ops->key(it, &kl);
    CHECK_OK(meru_ikey_parse(got, kl, NULL, &seq, NULL));
    CHECK_EQ_U64(seq, 5);
    memcpy(k, (uint8_t[]){0x7f, 0x00}, 2);
    it->ops->seek_for_prev(it, k, 10);
    CHECK(it->ops->valid(it));
    got = it->ops->key(it, &kl);
    CHECK_OK(meru_ikey_parse(got, kl, NULL, &seq, NULL));
    CHECK_EQ_U64(seq, 4);
    size_t vl;
    it->ops->value(it, &vl);
    CHECK_EQ_U64(vl, 0);
    memcpy(k, (uint8_t[]){0x00, 0x00}, 2);
    it->ops->seek_for_prev(it, k, 10);
    CHECK(!it->ops->valid(it));
    CHECK_OK(it->ops->status(it));
    meru_iiter_destroy(it);
}

/* ------------------------------------------------------- concatenation */

/* Parts of a concatenation over ref[beg[i] .. beg[i + 1]). */
typedef struct cat_ctx {
    const vec_entry *ref;
    size_t *beg;
    size_t fail_part; /* this part's iterator fails after fail_in moves */
    long fail_in;
    size_t open_fail; /* opening this part fails (SIZE_MAX: none) */
    size_t opens;
} cat_ctx;

static int cat_open(void *vctx, size_t i, meru_iiter **out)
{
    cat_ctx *c = vctx;
    c->opens++;
    if (i == c->open_fail)
        return meru_err(MERU_EIO, "part %zu will not open", i);
    *out = vec_iter_new(c->ref + c->beg[i], c->beg[i + 1] - c->beg[i],
                        i == c->fail_part ? c->fail_in : -1);
    return *out ? MERU_OK : MERU_ENOMEM;
}

/* Sorted random entries cut into parts between user keys (as compaction
 * cuts files); parts[] gets each part's first and last user key. */
static size_t cat_build(vec_entry *ref, size_t n, size_t *beg,
                        meru_concat_part *parts, size_t maxparts)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t uk[VEC_UK_MAX];
        size_t ul = vec_rand_ukey(uk, 3, 4);
        vec_make(&ref[i], uk, ul, i + 1,
                 meru_test_rand() % 4 ? MERU_OP_PUT : MERU_OP_DELETE, 0);
    }
    qsort(ref, n, sizeof *ref, vec_entry_cmp);
    size_t np = 0;
    beg[0] = 0;
    for (size_t i = 1; i <= n; i++) {
        bool cut = i == n;
        if (!cut && np + 1 < maxparts && meru_test_rand() % 6 == 0) {
            size_t a = ref[i - 1].iklen - MERU_IKEY_TRAILER_LEN;
            size_t b = ref[i].iklen - MERU_IKEY_TRAILER_LEN;
            cut = a != b || memcmp(ref[i - 1].ik, ref[i].ik, a) != 0;
        }
        if (!cut)
            continue;
        parts[np].smallest = ref[beg[np]].ik;
        parts[np].smallest_len = ref[beg[np]].iklen - MERU_IKEY_TRAILER_LEN;
        parts[np].largest = ref[i - 1].ik;
        parts[np].largest_len = ref[i - 1].iklen - MERU_IKEY_TRAILER_LEN;
        beg[++np] = i;
    }
    return np;
}

/* The concatenation against the sorted whole, with seek targets that are
 * internal keys, bare user keys and prefixes of them (dbiter seeks bare
 * bound bytes). */
static void test_concat_matches_reference_random_walks(void)
{
    size_t rounds = (size_t)(80 * meru_test_scale()) + 4;
    for (size_t round = 0; round < rounds && !meru_test_failed_current;
         round++) {
        size_t n = 1 + (size_t)(meru_test_rand() % 300);
        vec_entry *ref = calloc(n, sizeof *ref);
        size_t *beg = calloc(n + 1, sizeof *beg);
        meru_concat_part *parts = calloc(n, sizeof *parts);
        CHECK(ref && beg && parts);
        size_t np = cat_build(ref, n, beg, parts, n);
        cat_ctx ctx = {ref, beg, SIZE_MAX, -1, SIZE_MAX, 0};
        meru_iiter *it;
        CHECK_OK(meru_concat_iter_new(parts, np, cat_open, &ctx, NULL, &it));
        walk(it, ref, n, 600, true);
        /* A full scan opens every part once; a seek to a stored entry
         * opens the one part holding it (none when that part is open). */
        ctx.opens = 0;
        size_t i = 0;
        for (it->ops->seek_to_first(it); it->ops->valid(it);
             it->ops->next(it)) {
            CHECK_AT(it, ref, n, i);
            i++;
        }
        CHECK_EQ_U64(i, n);
        CHECK(ctx.opens <= np);
        for (size_t s = 0; s < 20 && !meru_test_failed_current; s++) {
            size_t j = (size_t)(meru_test_rand() % n);
            ctx.opens = 0;
            it->ops->seek(it, ref[j].ik, ref[j].iklen);
            CHECK_AT(it, ref, n, j);
            CHECK_MSG(ctx.opens <= 1, "seek opened %zu parts", ctx.opens);
        }
        meru_iiter_destroy(it);
        free(ref);
        free(beg);
        free(parts);
    }
}

/* An error opening a part, or of a part's iterator, is the
 * concatenation's status, for good. */
static void test_concat_part_errors(void)
{
    for (int round = 0; round < 40 && !meru_test_failed_current; round++) {
        size_t n = 200;
        vec_entry ref[200];
        size_t beg[201];
        meru_concat_part parts[200];
        size_t np = cat_build(ref, n, beg, parts, 8);
        cat_ctx ctx = {ref, beg, SIZE_MAX, -1, SIZE_MAX, 0};
        if (round % 2)
            ctx.open_fail = (size_t)(meru_test_rand() % np);
        else {
            /* Within one pass over the part (each opening starts over). */
            ctx.fail_part = (size_t)(meru_test_rand() % np);
            ctx.fail_in = (long)(meru_test_rand() %
                                 (beg[ctx.fail_part + 1] - beg[ctx.fail_part] +
                                  1));
        }
        meru_iiter *it;
        CHECK_OK(meru_concat_iter_new(parts, np, cat_open, &ctx, NULL, &it));
        walk_to_error(it, 5, 4, 2000);
        meru_iiter_destroy(it);
    }
}

/* The merge of a single child is that child. */
static void test_merge_of_one_is_the_child(void)
{
    vec_entry e[3];
    uint8_t uk[2] = {0x01, 0x00};
    for (size_t i = 0; i < 3; i++)
        vec_make(&e[i], uk, 2, i + 1, MERU_OP_PUT, 0);
    meru_iiter *kid = vec_iter_new(e, 3, -1), *it;
    CHECK(kid);
    CHECK_OK(meru_merge_iter_new(&kid, 1, &it));
    CHECK(it == kid);
    meru_iiter_destroy(it);
}

int main(void)
{
    MERU_TEST_RUN(test_merge_matches_reference_random_walks);
    MERU_TEST_RUN(test_merge_full_scans_both_directions);
    MERU_TEST_RUN(test_merge_of_nothing_is_empty);
    MERU_TEST_RUN(test_merge_child_error_stops_merge);
    MERU_TEST_RUN(test_memtable_adapter_seek_for_prev);
    MERU_TEST_RUN(test_concat_matches_reference_random_walks);
    MERU_TEST_RUN(test_concat_part_errors);
    MERU_TEST_RUN(test_merge_of_one_is_the_child);
    return meru_test_finish();
}
