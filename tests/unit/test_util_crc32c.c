/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_util_crc32c.c — CRC-32C against the RFC 3720 (iSCSI) vectors, a
 * bit-at-a-time reference, split/extend equivalence, hardware == portable,
 * and the LevelDB mask.
 */
#include <stdlib.h>

#include "test.h"
#include "util/crc32c.h"

/* Independent reference: one bit at a time, no tables. */
static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    }
    return ~c;
}

static void test_crc32c_rfc3720_vectors(void)
{
    uint8_t buf[32];

    memset(buf, 0, sizeof buf);
    CHECK_EQ_U64(meru_crc32c(buf, 32), 0x8A9136AAu);
    CHECK_EQ_U64(meru_crc32c_portable(0, buf, 32), 0x8A9136AAu);

    memset(buf, 0xFF, sizeof buf);
    CHECK_EQ_U64(meru_crc32c(buf, 32), 0x62A8AB43u);
    CHECK_EQ_U64(meru_crc32c_portable(0, buf, 32), 0x62A8AB43u);

    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    CHECK_EQ_U64(meru_crc32c(buf, 32), 0x46DD794Eu);
    CHECK_EQ_U64(meru_crc32c_portable(0, buf, 32), 0x46DD794Eu);

    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    CHECK_EQ_U64(meru_crc32c(buf, 32), 0x113FDB5Cu);
    CHECK_EQ_U64(meru_crc32c_portable(0, buf, 32), 0x113FDB5Cu);

    CHECK_EQ_U64(meru_crc32c("123456789", 9), 0xE3069283u);
    CHECK_EQ_U64(meru_crc32c_portable(0, "123456789", 9), 0xE3069283u);
    CHECK_EQ_U64(meru_crc32c(NULL, 0), 0);
}

static void test_crc32c_matches_bitwise_reference(void)
{
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)meru_test_rand();
    for (size_t n = 0; n <= sizeof buf; n++) {
        uint32_t want = crc_bitwise(buf, n);
        CHECK_EQ_U64(meru_crc32c(buf, n), want);
        CHECK_EQ_U64(meru_crc32c_portable(0, buf, n), want);
    }
}

static void test_crc32c_extend_equals_one_shot(void)
{
    enum { N = 4096 };
    uint8_t *buf = malloc(N);
    CHECK(buf);
    for (size_t i = 0; i < N; i++)
        buf[i] = (uint8_t)meru_test_rand();
    int iters = (int)(2000 * meru_test_scale());
    for (int it = 0; it < iters; it++) {
        size_t n = meru_test_rand() % (N + 1);
        uint32_t whole = meru_crc32c(buf, n);
        /* Split into up to 4 random pieces. */
        uint32_t c = 0, cp = 0;
        size_t pos = 0;
        for (int piece = 0; piece < 4 && pos < n; piece++) {
            size_t len =
                piece == 3 ? n - pos : meru_test_rand() % (n - pos + 1);
            c = meru_crc32c_extend(c, buf + pos, len);
            cp = meru_crc32c_portable(cp, buf + pos, len);
            pos += len;
        }
        c = meru_crc32c_extend(c, buf + pos, n - pos);
        cp = meru_crc32c_portable(cp, buf + pos, n - pos);
        if (c != whole || cp != whole) {
            free(buf);
            CHECK_MSG(0, "split crc differs at n=%zu: %08x %08x want %08x", n,
                      c, cp, whole);
        }
    }
    free(buf);
}

static void test_crc32c_hw_equals_portable_at_any_alignment(void)
{
    enum { N = 1 << 16 };
    uint8_t *buf = malloc(N + 16);
    CHECK(buf);
    for (size_t i = 0; i < N + 16; i++)
        buf[i] = (uint8_t)meru_test_rand();
    printf("  hardware crc32c: %s\n",
           meru_crc32c_hw_available() ? "yes" : "no (portable only)");
    int iters = (int)(3000 * meru_test_scale());
    for (int it = 0; it < iters; it++) {
        size_t off = meru_test_rand() % 16;
        size_t n = it % 4 == 0 ? meru_test_rand() % N : meru_test_rand() % 64;
        uint32_t seed = (uint32_t)meru_test_rand();
        uint32_t a = meru_crc32c_extend(seed, buf + off, n);
        uint32_t b = meru_crc32c_portable(seed, buf + off, n);
        if (a != b) {
            free(buf);
            CHECK_MSG(0, "hw %08x != portable %08x (off %zu, n %zu)", a, b, off,
                      n);
        }
    }
    free(buf);
}

static void test_crc32c_mask_round_trips_and_changes_value(void)
{
    uint32_t crc = meru_crc32c("foo", 3);
    CHECK(meru_crc32c_mask(crc) != crc);
    CHECK(meru_crc32c_mask(meru_crc32c_mask(crc)) != crc);
    CHECK_EQ_U64(meru_crc32c_unmask(meru_crc32c_mask(crc)), crc);
    CHECK_EQ_U64(meru_crc32c_unmask(meru_crc32c_unmask(
                     meru_crc32c_mask(meru_crc32c_mask(crc)))),
                 crc);
    /* Known value: rotr15(0xE3069283) + 0xa282ead8. */
    CHECK_EQ_U64(meru_crc32c_mask(0xE3069283u),
                 (((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u) &
                     0xFFFFFFFFu);
    for (int i = 0; i < 10000; i++) {
        uint32_t v = (uint32_t)meru_test_rand();
        CHECK_EQ_U64(meru_crc32c_unmask(meru_crc32c_mask(v)), v);
    }
}

int main(void)
{
    MERU_TEST_RUN(test_crc32c_rfc3720_vectors);
    MERU_TEST_RUN(test_crc32c_matches_bitwise_reference);
    MERU_TEST_RUN(test_crc32c_extend_equals_one_shot);
    MERU_TEST_RUN(test_crc32c_hw_equals_portable_at_any_alignment);
    MERU_TEST_RUN(test_crc32c_mask_round_trips_and_changes_value);
    return meru_test_finish();
}
