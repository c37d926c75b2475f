/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_util_arena.c — the chunked bump allocator (arena.h): alignment,
 * dedicated chunks for large requests, reset, byte accounting, copies, and
 * many random allocations whose contents must all survive.
 */
#include <stdint.h>
#include <stdlib.h>

#include "test.h"
#include "util/arena.h"
#include "util/error.h"

static void test_arena_default_alignment_is_8(void)
{
    meru_arena *a;
    CHECK_OK(meru_arena_new(&a, 0));
    for (size_t n = 0; n < 100; n++) {
        void *p = meru_arena_alloc(a, n);
        if (!p || ((uintptr_t)p & 7)) {
            meru_arena_free(a);
            CHECK_MSG(0, "alloc(%zu) = %p not 8-aligned", n, p);
        }
        /* Odd-sized strndup in between shifts the bump pointer. */
        meru_arena_strndup(a, "xyz", n % 3);
    }
    meru_arena_free(a);
}

static void test_arena_honours_requested_alignment(void)
{
    meru_arena *a;
    CHECK_OK(meru_arena_new(&a, 4096));
    for (size_t align = 1; align <= 4096; align <<= 1) {
        for (int i = 0; i < 20; i++) {
            meru_arena_alloc_aligned(a, 1 + (size_t)i, 1); /* misalign */
            uint8_t *p = meru_arena_alloc_aligned(a, 24, align);
            CHECK(p != NULL);
            CHECK_EQ_U64((uintptr_t)p & (align - 1), 0);
            memset(p, 0xAB, 24);
        }
    }
    meru_arena_free(a);
}

static void test_arena_rejects_bad_alignment_and_overflow(void)
{
    meru_arena *a;
    CHECK_OK(meru_arena_new(&a, 0));
    meru_err_clear();
    CHECK(meru_arena_alloc_aligned(a, 8, 3) == NULL);
    CHECK_EQ_INT(meru_errcode(), MERU_EINVAL);
    CHECK(meru_arena_alloc_aligned(a, 8, 0) == NULL);
    CHECK(meru_arena_alloc_aligned(a, 8, 8192) == NULL);
    CHECK(meru_arena_alloc(a, SIZE_MAX) == NULL);
    CHECK_EQ_INT(meru_errcode(), MERU_ENOMEM);
    CHECK(meru_arena_alloc(a, SIZE_MAX - 4) == NULL);
    CHECK(meru_arena_strndup(a, "", SIZE_MAX) == NULL);
    /* Still usable afterwards. */
    CHECK(meru_arena_alloc(a, 16) != NULL);
    meru_arena_free(a);
}

static void test_arena_large_allocation_gets_own_chunk(void)
{
    meru_arena *a;
    CHECK_OK(meru_arena_new(&a, 1024));
    uint8_t *small1 = meru_arena_alloc(a, 16);
    CHECK(small1 != NULL);
    size_t before = meru_arena_bytes(a);
    CHECK(before >= 1024);
    uint8_t *big = meru_arena_alloc(a, 100000);
    CHECK(big != NULL);
    memset(big, 0x5A, 100000);
    size_t after_big = meru_arena_bytes(a);
    CHECK(after_big >= before + 100000);
    /* The current ordinary chunk keeps serving small requests: they come
     * right after small1, not from a fresh chunk. */
    uint8_t *small2 = meru_arena_alloc(a, 16);
    CHECK(small2 == small1 + 16);
    CHECK_EQ_U64(meru_arena_bytes(a), after_big);
    for (size_t i = 0; i < 100000; i++)
        if (big[i] != 0x5A)
            CHECK_MSG(0, "large block byte %zu overwritten", i);
    meru_arena_free(a);
}

static void test_arena_reset_keeps_one_chunk_and_reuses_it(void)
{
    meru_arena *a;
    CHECK_OK(meru_arena_new(&a, 4096));
    CHECK_EQ_U64(meru_arena_bytes(a), 0);
    for (int i = 0; i < 100; i++)
        CHECK(meru_arena_alloc(a, 200) != NULL);
    CHECK(meru_arena_alloc(a, 50000) != NULL);
    size_t full = meru_arena_bytes(a);
    CHECK(full >= 100 * 200 + 50000);
    meru_arena_reset(a);
    size_t kept = meru_arena_bytes(a);
    CHECK(kept >= 4096);
    CHECK(kept < 2 * 4096);
    /* The kept chunk serves allocations up to its size without growth. */
    uint8_t *p = meru_arena_alloc(a, 1000);
    CHECK(p != NULL);
    memset(p, 1, 1000);
    CHECK(meru_arena_alloc(a, 1000) != NULL);
    CHECK_EQ_U64(meru_arena_bytes(a), kept);
    meru_arena_reset(a);
    meru_arena_reset(a);
    CHECK_EQ_U64(meru_arena_bytes(a), kept);
    meru_arena_free(a);
    meru_arena_free(NULL);
}

/* Ordinary chunks of 2 MiB are one huge page each, header included (not
 * two), and reset keeps one of them for reuse like any ordinary chunk. */
static void test_arena_huge_chunks_are_one_page_and_reset_keeps_one(void)
{
    const size_t huge = (size_t)2 << 20;
    meru_arena *a;
    CHECK_OK(meru_arena_new(&a, huge));
    CHECK(meru_arena_alloc(a, 100) != NULL);
    CHECK_EQ_U64(meru_arena_bytes(a), huge);
    for (int i = 0; i < 100; i++)
        CHECK(meru_arena_alloc(a, 64 * 1024) != NULL);
    CHECK(meru_arena_bytes(a) > huge);
    meru_arena_reset(a);
    CHECK_EQ_U64(meru_arena_bytes(a), huge);
    CHECK(meru_arena_alloc(a, 100) != NULL);
    CHECK_EQ_U64(meru_arena_bytes(a), huge);
    meru_arena_free(a);
}

static void test_arena_copies_strings_and_bytes(void)
{
    meru_arena *a;
    CHECK_OK(meru_arena_new(&a, 0));
    char *s = meru_arena_strndup(a, "hello world", 5);
    CHECK_STR(s, "hello");
    char *e = meru_arena_strndup(a, "abc", 0);
    CHECK_STR(e, "");
    /* Embedded NUL bytes are copied as they are. */
    char *z = meru_arena_strndup(a, "a\0b", 3);
    CHECK(z != NULL);
    CHECK_MEM(z, "a\0b\0", 4);
    uint8_t src[37];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 7);
    uint8_t *d = meru_arena_dup(a, src, sizeof src);
    CHECK(d != NULL && d != src);
    CHECK_MEM(d, src, sizeof src);
    CHECK(meru_arena_dup(a, src, 0) != NULL);
    uint8_t *zz = meru_arena_zalloc(a, 333);
    CHECK(zz != NULL);
    for (int i = 0; i < 333; i++)
        CHECK_EQ_INT(zz[i], 0);
    meru_arena_free(a);
}

typedef struct blk {
    uint8_t *p;
    size_t n;
    uint8_t fill;
} blk;

static void test_arena_random_allocations_keep_their_contents(void)
{
    int rounds = 3;
    int per_round = (int)(20000 * meru_test_scale());
    blk *b = calloc((size_t)per_round, sizeof *b);
    CHECK(b != NULL);
    meru_arena *a;
    if (meru_arena_new(&a, 16384)) {
        free(b);
        CHECK(0);
    }
    int bad = -1;
    for (int r = 0; r < rounds && bad < 0; r++) {
        size_t total = 0;
        for (int i = 0; i < per_round; i++) {
            uint64_t x = meru_test_rand();
            size_t n = x % 64 == 0 ? 4000 + x % 30000 : x % 300;
            size_t align = (size_t)1 << (x >> 60) % 7;
            b[i].p = meru_arena_alloc_aligned(a, n, align);
            b[i].n = n;
            b[i].fill = (uint8_t)(i * 31 + r);
            if (!b[i].p || ((uintptr_t)b[i].p & (align - 1))) {
                bad = i;
                break;
            }
            memset(b[i].p, b[i].fill, n);
            total += n;
        }
        if (bad >= 0)
            break;
        if (meru_arena_bytes(a) < total)
            bad = per_round;
        for (int i = 0; i < per_round && bad < 0; i++)
            for (size_t k = 0; k < b[i].n; k++)
                if (b[i].p[k] != b[i].fill) {
                    bad = i;
                    break;
                }
        meru_arena_reset(a);
    }
    meru_arena_free(a);
    free(b);
    CHECK_MSG(bad < 0, "allocation %d lost its contents or alignment", bad);
}

int main(void)
{
    MERU_TEST_RUN(test_arena_default_alignment_is_8);
    MERU_TEST_RUN(test_arena_honours_requested_alignment);
    MERU_TEST_RUN(test_arena_rejects_bad_alignment_and_overflow);
    MERU_TEST_RUN(test_arena_large_allocation_gets_own_chunk);
    MERU_TEST_RUN(test_arena_reset_keeps_one_chunk_and_reuses_it);
    MERU_TEST_RUN(test_arena_huge_chunks_are_one_page_and_reset_keeps_one);
    MERU_TEST_RUN(test_arena_copies_strings_and_bytes);
    MERU_TEST_RUN(test_arena_random_allocations_keep_their_contents);
    return meru_test_finish();
}
