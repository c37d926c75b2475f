/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_compact_iter.c — what a compaction keeps (compact_iter.h).
 *
 * Random inputs (several children, fakes and memtables, hot and sparse key
 * spaces), random snapshot sets, bottommost on and off. Checked three ways:
 *   - views: for the latest view and each snapshot, every user key reads
 *     the same through the output as through the input (a delete reads as
 *     absent when bottommost, as no older data can exist below it; exactly
 *     otherwise, since the delete must still hide lower levels);
 *   - minimality, by an independent formulation: an entry is kept iff some
 *     view sees it and it is not a droppable tombstone (a delete with
 *     seq <= the oldest snapshot, or any when there are none, and
 *     bottommost);
 *   - counters add up.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/compact_iter.h"
#include "engine/merge.h"
#include "test.h"
#include "types/keycodec.h"
#include "util/error.h"
#include "vec_iter.h"

static size_t ukey_len(const vec_entry *e)
{
    return e->iklen - MERU_IKEY_TRAILER_LEN;
}

static bool same_ukey(const vec_entry *a, const vec_entry *b)
{
    return ukey_len(a) == ukey_len(b) && memcmp(a->ik, b->ik, ukey_len(a)) == 0;
}

/* The entry of r[i..] (one user key's run starting at i) a read at `v`
 * sees, or SIZE_MAX. */
static size_t visible(const vec_entry *r, size_t n, size_t i, uint64_t v)
{
    for (size_t j = i; j < n && same_ukey(&r[j], &r[i]); j++)
        if (r[j].seq <= v)
            return j;
    return SIZE_MAX;
}

/* Views compared key by key: `in` and `out` are sorted. */
static void check_views(const vec_entry *in, size_t nin, const vec_entry *out,
                        size_t nout, const uint64_t *views, size_t nviews,
                        bool bottommost)
{
    for (size_t i = 0; i < nin;) {
        size_t end = i;
        while (end < nin && same_ukey(&in[end], &in[i]))
            end++;
        /* The output's run of the same key (binary search would do; the
         * sizes are small). */
        size_t o = 0;
        while (o < nout && !same_ukey(&out[o], &in[i]))
            o++;
        for (size_t v = 0; v < nviews; v++) {
            size_t a = visible(in, nin, i, views[v]);
            size_t b = o < nout ? visible(out, nout, o, views[v]) : SIZE_MAX;
            bool a_live = a != SIZE_MAX && in[a].op == MERU_OP_PUT;
            bool b_live = b != SIZE_MAX && out[b].op == MERU_OP_PUT;
            CHECK_MSG(a_live == b_live, "view %" PRIu64 ": live %d vs %d",
                      views[v], a_live, b_live);
            if (a_live) {
                CHECK_EQ_U64(in[a].seq, out[b].seq);
                CHECK_EQ_U64(in[a].vlen, out[b].vlen);
                CHECK_MEM(in[a].val, out[b].val, in[a].vlen);
            } else if (!bottommost) {
                /* A delete must still be there to hide lower levels. */
                CHECK_EQ_INT(a == SIZE_MAX, b == SIZE_MAX);
                if (a != SIZE_MAX)
                    CHECK_EQ_U64(in[a].seq, out[b].seq);
            }
        }
        i = end;
    }
}

typedef struct outcome {
    vec_entry *out;
    size_t nout;
    meru_compact_stats st;
    int rc; /* the final status: MERU_NOT_FOUND at a clean end */
} outcome;

/* Runs a compaction over e[] split into children; collects its output. */
static int run(const vec_entry *e, size_t n, size_t nchild, bool use_mt,
               const uint64_t *snaps, size_t nsnaps, bool bottommost,
               size_t fail_child, long fail_in, outcome *oc)
{
    memset(oc, 0, sizeof *oc);
    oc->out = calloc(n + 1, sizeof *oc->out);
    if (!oc->out)
        return MERU_ENOMEM;
    meru_iiter *m;
    int rc = vec_merge_of(e, n, nchild, use_mt, fail_child, fail_in, &m);
    if (rc)
        return rc;
    meru_compact_iter *c;
    if ((rc = meru_compact_iter_new(m, snaps, nsnaps, bottommost, &c)))
        return rc;
    const uint8_t *k, *v;
    size_t kl, vl;
    while ((rc = meru_compact_iter_next(c, &k, &kl, &v, &vl)) == MERU_OK) {
        if (oc->nout >= n || kl > VEC_IK_MAX || vl > VEC_VAL_MAX) {
            rc = MERU_EINTERNAL;
            break;
        }
        vec_entry *x = &oc->out[oc->nout++];
        memcpy(x->ik, k, kl);
        x->iklen = kl;
        memcpy(x->val, v, vl);
        x->vlen = vl;
        size_t ul;
        if (meru_ikey_parse(k, kl, &ul, &x->seq, &x->op) != MERU_OK) {
            rc = MERU_EINTERNAL;
            break;
        }
    }
    oc->rc = rc;
    /* A second call repeats the outcome (sticky). */
    if (meru_compact_iter_next(c, &k, &kl, &v, &vl) != rc)
        oc->rc = MERU_EINTERNAL;
    meru_compact_iter_stats(c, &oc->st);
    meru_compact_iter_free(c);
    return MERU_OK;
}

static void test_compact_keeps_every_view_and_nothing_else(void)
{
    static const struct {
        unsigned alpha;
        size_t maxlen;
    } spaces[] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}};
    size_t rounds = (size_t)(300 * meru_test_scale()) + 20;
    for (size_t round = 0; round < rounds; round++) {
        size_t n = (size_t)(meru_test_rand() % 300);
        size_t nchild = 1 + (size_t)(meru_test_rand() % 4);
        bool use_mt = meru_test_rand() % 2;
        bool bottom = meru_test_rand() % 2;
        size_t sp = round % (sizeof spaces / sizeof spaces[0]);
        vec_entry *e = calloc(n + 1, sizeof *e);
        vec_entry *ref = calloc(n + 1, sizeof *ref);
        CHECK(e && ref);
        for (size_t i = 0; i < n; i++) {
            uint8_t uk[VEC_UK_MAX];
            size_t ul = vec_rand_ukey(uk, spaces[sp].alpha, spaces[sp].maxlen);
            int op = meru_test_rand() % 3 ? MERU_OP_PUT : MERU_OP_DELETE;
            vec_make(&e[i], uk, ul, i + 1, op,
                     (int)(meru_test_rand() % nchild));
        }
        memcpy(ref, e, n * sizeof *e);
        qsort(ref, n, sizeof *ref, vec_entry_cmp);
        /* Snapshots: 0..5 of them, anywhere in 0..n+1, unsorted, maybe
         * repeated; the views are those plus the latest. */
        uint64_t snaps[6], views[7];
        size_t ns = (size_t)(meru_test_rand() % 6), nv = 0;
        uint64_t oldest = UINT64_MAX;
        for (size_t i = 0; i < ns; i++) {
            snaps[i] = meru_test_rand() % (n + 2);
            if (i && meru_test_rand() % 4 == 0)
                snaps[i] = snaps[i - 1];
            views[nv++] = snaps[i];
            if (snaps[i] < oldest)
                oldest = snaps[i];
        }
        views[nv++] = UINT64_MAX;

        outcome oc;
        CHECK_OK(run(e, n, nchild, use_mt, snaps, ns, bottom, SIZE_MAX, -1,
                     &oc));
        CHECK_RC(oc.rc, MERU_NOT_FOUND);
        check_views(ref, n, oc.out, oc.nout, views, nv, bottom);

        /* Minimality against the independent rule. */
        size_t k = 0;
        uint64_t tomb = 0;
        for (size_t i = 0; i < n; i++) {
            size_t start = i;
            while (start > 0 && same_ukey(&ref[start - 1], &ref[i]))
                start--;
            bool seen = false;
            for (size_t v = 0; v < nv && !seen; v++)
                seen = visible(ref, n, start, views[v]) == i;
            if (!seen)
                continue;
            if (bottom && ref[i].op == MERU_OP_DELETE &&
                (ns == 0 || ref[i].seq <= oldest)) {
                tomb++;
                continue;
            }
            CHECK_MSG(k < oc.nout, "entry seq %" PRIu64 " missing",
                      ref[i].seq);
            CHECK_EQ_U64(oc.out[k].iklen, ref[i].iklen);
            CHECK_MEM(oc.out[k].ik, ref[i].ik, ref[i].iklen);
            CHECK_EQ_U64(oc.out[k].vlen, ref[i].vlen);
            k++;
        }
        CHECK_EQ_U64(k, oc.nout);
        CHECK_EQ_U64(oc.st.input, n);
        CHECK_EQ_U64(oc.st.output, oc.nout);
        CHECK_EQ_U64(oc.st.dropped_tombstones, tomb);
        CHECK_EQ_U64(oc.st.dropped_versions + oc.st.dropped_tombstones,
                     n - oc.nout);
        free(oc.out);
        free(e);
        free(ref);
        if (meru_test_failed_current)
            return;
    }
}

/* A hand-checked history: key A with versions 10 (put), 8 (del), 6 (put),
 * 4 (put), 2 (del); snapshots 5 and 9. */
static void test_compact_snapshot_stripes_by_hand(void)
{
    const uint8_t a[] = {0x01, 0x00};
    vec_entry e[5];
    const uint64_t seqs[5] = {10, 8, 6, 4, 2};
    const int ops[5] = {MERU_OP_PUT, MERU_OP_DELETE, MERU_OP_PUT, MERU_OP_PUT,
                        MERU_OP_DELETE};
    for (int i = 0; i < 5; i++)
        vec_make(&e[i], a, 2, seqs[i], ops[i], i % 2);
    const uint64_t snaps[2] = {9, 5};
    outcome oc;
    /* Stripes: (9, inf) -> 10; (5, 9] -> 8 (del, kept: not oldest stripe);
     * [0, 5] -> 4, and 2 shadowed. */
    CHECK_OK(run(e, 5, 2, false, snaps, 2, true, SIZE_MAX, -1, &oc));
    CHECK_EQ_U64(oc.nout, 3);
    CHECK_EQ_U64(oc.out[0].seq, 10);
    CHECK_EQ_U64(oc.out[1].seq, 8);
    CHECK_EQ_U64(oc.out[2].seq, 4);
    free(oc.out);
    /* No snapshots: only 10 stays. */
    CHECK_OK(run(e, 5, 2, true, NULL, 0, false, SIZE_MAX, -1, &oc));
    CHECK_EQ_U64(oc.nout, 1);
    CHECK_EQ_U64(oc.out[0].seq, 10);
    CHECK_EQ_U64(oc.st.dropped_versions, 4);
    free(oc.out);
    /* Newest is a delete, no snapshots: kept unless bottommost. */
    CHECK_OK(run(e + 1, 4, 2, false, NULL, 0, false, SIZE_MAX, -1, &oc));
    CHECK_EQ_U64(oc.nout, 1);
    CHECK_EQ_U64(oc.out[0].seq, 8);
    CHECK_EQ_INT(oc.out[0].op, MERU_OP_DELETE);
    free(oc.out);
    CHECK_OK(run(e + 1, 4, 2, false, NULL, 0, true, SIZE_MAX, -1, &oc));
    CHECK_EQ_U64(oc.nout, 0);
    CHECK_EQ_U64(oc.st.dropped_tombstones, 1);
    CHECK_EQ_U64(oc.st.dropped_versions, 3);
    free(oc.out);
    /* Snapshot 7 keeps 6 (put) under the delete 8 even when bottommost;
     * the delete is above the oldest snapshot, so it stays too. */
    const uint64_t s7 = 7;
    CHECK_OK(run(e + 1, 4, 2, false, &s7, 1, true, SIZE_MAX, -1, &oc));
    CHECK_EQ_U64(oc.nout, 2);
    CHECK_EQ_U64(oc.out[0].seq, 8);
    CHECK_EQ_U64(oc.out[1].seq, 6);
    free(oc.out);
}

static void test_compact_returns_input_error(void)
{
    size_t n = 200;
    vec_entry e[200];
    for (size_t i = 0; i < n; i++) {
        uint8_t uk[VEC_UK_MAX];
        size_t ul = vec_rand_ukey(uk, 3, 2);
        vec_make(&e[i], uk, ul, i + 1, MERU_OP_PUT, (int)(i % 3));
    }
    for (long fail_in = 0; fail_in < 50; fail_in += 7) {
        outcome oc;
        CHECK_OK(run(e, n, 3, false, NULL, 0, true, 1, fail_in, &oc));
        CHECK_RC(oc.rc, MERU_EIO);
        free(oc.out);
    }
    /* An empty input ends at once. */
    outcome oc;
    CHECK_OK(run(e, 0, 2, true, NULL, 0, true, SIZE_MAX, -1, &oc));
    CHECK_RC(oc.rc, MERU_NOT_FOUND);
    CHECK_EQ_U64(oc.nout, 0);
    free(oc.out);
    meru_compact_iter_free(NULL);
}

int main(void)
{
    MERU_TEST_RUN(test_compact_keeps_every_view_and_nothing_else);
    MERU_TEST_RUN(test_compact_snapshot_stripes_by_hand);
    MERU_TEST_RUN(test_compact_returns_input_error);
    return meru_test_finish();
}
