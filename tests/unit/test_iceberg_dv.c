/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_iceberg_dv.c — the in-memory deletion vector (iceberg/dv.h): adds,
 * ranges across the 2^32 bucket boundary, union, subset/equality, ordered
 * iteration, and the bucket view the serialiser walks — all checked
 * against a plain sorted-array model.
 */
#include <stdlib.h>

#include "iceberg/dv.h"
#include "test.h"

typedef struct collect {
    uint64_t *v;
    size_t n, cap;
} collect;

static int collect_one(uint64_t pos, void *arg)
{
    collect *c = arg;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
        if (!c->v)
            return MERU_ENOMEM;
    }
    c->v[c->n++] = pos;
    return 0;
}

static int stop_at_three(uint64_t pos, void *arg)
{
    size_t *seen = arg;
    (*seen)++;
    return pos >= 3 ? 7 : 0;
}

static void test_dv_add_contains_and_cardinality(void)
{
    meru_dv *dv = NULL;
    uint64_t max;
    CHECK_OK(meru_dv_new(&dv));
    CHECK(meru_dv_is_empty(dv));
    CHECK(!meru_dv_max(dv, &max));
    CHECK_EQ_U64(meru_dv_cardinality(dv), 0);
    CHECK_OK(meru_dv_add(dv, 5));
    CHECK_OK(meru_dv_add(dv, 5)); /* a set: twice is once */
    CHECK_OK(meru_dv_add(dv, 0));
    CHECK_OK(meru_dv_add(dv, (1ull << 32) + 9)); /* second bucket */
    CHECK_OK(meru_dv_add(dv, UINT64_MAX));
    CHECK_EQ_U64(meru_dv_cardinality(dv), 4);
    CHECK(meru_dv_contains(dv, 0) && meru_dv_contains(dv, 5));
    CHECK(meru_dv_contains(dv, (1ull << 32) + 9));
    CHECK(!meru_dv_contains(dv, 9)); /* same low bits, other bucket */
    CHECK(meru_dv_contains(dv, UINT64_MAX));
    CHECK(meru_dv_max(dv, &max));
    CHECK_EQ_U64(max, UINT64_MAX);
    CHECK_EQ_U64(meru_dv_bucket_count(dv), 3);
    CHECK_EQ_U64(meru_dv_bucket_key(dv, 0), 0);
    CHECK_EQ_U64(meru_dv_bucket_key(dv, 1), 1);
    CHECK_EQ_U64(meru_dv_bucket_key(dv, 2), UINT32_MAX);
    meru_dv_free(dv);
}

static void test_dv_range_spans_bucket_boundary(void)
{
    meru_dv *dv = NULL;
    collect c = {0};
    uint64_t lo = (1ull << 32) - 3, hi = (1ull << 32) + 2;
    CHECK_OK(meru_dv_new(&dv));
    CHECK_OK(meru_dv_add_range(dv, 10, 10)); /* empty range */
    CHECK(meru_dv_is_empty(dv));
    CHECK_OK(meru_dv_add_range(dv, lo, hi));
    CHECK_EQ_U64(meru_dv_cardinality(dv), 5);
    CHECK_EQ_U64(meru_dv_bucket_count(dv), 2);
    CHECK_OK(meru_dv_foreach(dv, collect_one, &c));
    CHECK_EQ_U64(c.n, 5);
    for (size_t i = 0; i < c.n; i++)
        CHECK_EQ_U64(c.v[i], lo + i);
    CHECK_OK(meru_dv_add_range(dv, UINT64_MAX - 1, UINT64_MAX));
    CHECK(meru_dv_contains(dv, UINT64_MAX - 1));
    CHECK(!meru_dv_contains(dv, UINT64_MAX));
    free(c.v);
    meru_dv_free(dv);
}

static void test_dv_union_subset_equal_clone(void)
{
    meru_dv *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(meru_dv_new(&a));
    CHECK_OK(meru_dv_new(&b));
    CHECK_OK(meru_dv_add_range(a, 0, 100));
    CHECK_OK(meru_dv_add(b, 50));
    CHECK_OK(meru_dv_add(b, 5000000000ull));
    CHECK(!meru_dv_is_subset(b, a));
    CHECK_OK(meru_dv_clone(&c, a));
    CHECK(meru_dv_equal(a, c));
    CHECK_OK(meru_dv_union(c, b));
    CHECK_EQ_U64(meru_dv_cardinality(c), 101);
    CHECK(meru_dv_is_subset(a, c) && meru_dv_is_subset(b, c));
    CHECK(!meru_dv_equal(a, c));
    CHECK_EQ_U64(meru_dv_cardinality(a), 100); /* the clone is deep */
    meru_dv_optimize(c);
    CHECK_EQ_U64(meru_dv_cardinality(c), 101);
    meru_dv_free(a);
    meru_dv_free(b);
    meru_dv_free(c);
}

static void test_dv_matches_model_under_random_adds(void)
{
    enum { N = 20000 };
    uint8_t *model = calloc(N, 1);
    uint64_t *base = calloc(3, sizeof *base);
    meru_dv *dv = NULL;
    collect c = {0};
    size_t expect = 0, j = 0;
    CHECK(model && base);
    base[0] = 0;
    base[1] = (1ull << 32) - N / 2; /* straddles the first boundary */
    base[2] = 7ull << 32;
    CHECK_OK(meru_dv_new(&dv));
    for (int i = 0; i < 3 * N; i++) {
        size_t k = meru_test_rand() % N;
        int which = (int)(meru_test_rand() % 3);
        if (which != 0 && (model[k] & (1u << which)))
            continue;
        model[k] |= (uint8_t)(1u << which);
        CHECK_OK(meru_dv_add(dv, base[which] + k));
    }
    for (int w = 0; w < 3; w++)
        for (size_t k = 0; k < N; k++)
            if (model[k] & (1u << w)) {
                expect++;
                CHECK(meru_dv_contains(dv, base[w] + k));
            }
    CHECK_EQ_U64(meru_dv_cardinality(dv), expect);
    CHECK_OK(meru_dv_foreach(dv, collect_one, &c));
    CHECK_EQ_U64(c.n, expect);
    for (size_t i = 1; i < c.n; i++)
        CHECK(c.v[i - 1] < c.v[i]);
    for (int w = 0; w < 3; w++)
        for (size_t k = 0; k < N; k++)
            if (model[k] & (1u << w))
                j++;
    CHECK_EQ_U64(j, c.n);
    free(c.v);
    free(model);
    free(base);
    meru_dv_free(dv);
}

static void test_dv_foreach_stops_at_first_nonzero(void)
{
    meru_dv *dv = NULL;
    size_t seen = 0;
    CHECK_OK(meru_dv_new(&dv));
    CHECK_OK(meru_dv_add_range(dv, 0, 10));
    CHECK_EQ_INT(meru_dv_foreach(dv, stop_at_three, &seen), 7);
    CHECK_EQ_U64(seen, 4);
    meru_dv_free(dv);
}

int main(void)
{
    MERU_TEST_RUN(test_dv_add_contains_and_cardinality);
    MERU_TEST_RUN(test_dv_range_spans_bucket_boundary);
    MERU_TEST_RUN(test_dv_union_subset_equal_clone);
    MERU_TEST_RUN(test_dv_matches_model_under_random_adds);
    MERU_TEST_RUN(test_dv_foreach_stops_at_first_nonzero);
    return meru_test_finish();
}
