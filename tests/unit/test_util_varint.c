/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_util_varint.c — LEB128 varints and zigzag (varint.h) and the
 * unaligned little/big-endian loads and stores (endian.h).
 */
#include <stdlib.h>

#include "test.h"
#include "util/endian.h"
#include "util/varint.h"

static void test_varint_known_encodings(void)
{
    uint8_t b[MERU_VARINT64_MAX];
    CHECK_EQ_INT(meru_varint_put64(b, 0), 1);
    CHECK_EQ_INT(b[0], 0x00);
    CHECK_EQ_INT(meru_varint_put64(b, 127), 1);
    CHECK_EQ_INT(b[0], 0x7f);
    CHECK_EQ_INT(meru_varint_put64(b, 128), 2);
    CHECK_MEM(b, "\x80\x01", 2);
    CHECK_EQ_INT(meru_varint_put64(b, 300), 2);
    CHECK_MEM(b, "\xac\x02", 2);
    CHECK_EQ_INT(meru_varint_put64(b, UINT32_MAX), 5);
    CHECK_MEM(b, "\xff\xff\xff\xff\x0f", 5);
    CHECK_EQ_INT(meru_varint_put64(b, UINT64_MAX), 10);
    CHECK_MEM(b, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
}

static void test_varint_round_trips_edge_values(void)
{
    static const uint64_t vals[] = {
        0, 1, 2, 126, 127, 128, 129, 255, 256, 16383, 16384, 16385,
        (1u << 21) - 1, 1u << 21, (1u << 28) - 1, 1u << 28, UINT32_MAX - 1,
        UINT32_MAX, (uint64_t)UINT32_MAX + 1, (1ull << 35) - 1, 1ull << 35,
        (1ull << 42), (1ull << 49), (1ull << 56) - 1, 1ull << 56,
        (1ull << 63) - 1, 1ull << 63, UINT64_MAX - 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t b[MERU_VARINT64_MAX + 4];
        size_t n = meru_varint_put64(b, vals[i]);
        CHECK_EQ_INT(n, meru_varint_len64(vals[i]));
        uint64_t got = 0;
        /* Exact length and with trailing bytes after it. */
        CHECK_EQ_INT(meru_varint_get64(b, n, &got), n);
        CHECK_EQ_U64(got, vals[i]);
        b[n] = 0xff;
        CHECK_EQ_INT(meru_varint_get64(b, n + 1, &got), n);
        CHECK_EQ_U64(got, vals[i]);
        uint32_t g32 = 0;
        if (vals[i] <= UINT32_MAX) {
            CHECK_EQ_INT(meru_varint_get32(b, n, &g32), n);
            CHECK_EQ_U64(g32, vals[i]);
        } else {
            CHECK_EQ_INT(meru_varint_get32(b, n, &g32), 0);
        }
    }
}

static void test_varint_round_trips_random_values(void)
{
    uint8_t buf[MERU_VARINT64_MAX * 64];
    uint64_t vals[64];
    for (int it = 0; it < 2000; it++) {
        size_t pos = 0;
        for (int i = 0; i < 64; i++) {
            /* Spread over all lengths: shift a random value down. */
            vals[i] = meru_test_rand() >> (meru_test_rand() % 64);
            pos += meru_varint_put64(buf + pos, vals[i]);
        }
        size_t rd = 0;
        for (int i = 0; i < 64; i++) {
            uint64_t v;
            size_t n = meru_varint_get64(buf + rd, pos - rd, &v);
            CHECK(n > 0);
            CHECK_EQ_U64(v, vals[i]);
            rd += n;
        }
        CHECK_EQ_INT(rd, pos);
    }
}

static void test_varint_truncated_input_returns_zero(void)
{
    uint8_t b[MERU_VARINT64_MAX];
    uint64_t v = 12345;
    size_t n = meru_varint_put64(b, UINT64_MAX);
    for (size_t len = 0; len < n; len++)
        CHECK_EQ_INT(meru_varint_get64(b, len, &v), 0);
    CHECK_EQ_U64(v, 12345); /* untouched on failure */
    n = meru_varint_put64(b, 300);
    CHECK_EQ_INT(meru_varint_get64(b, 1, &v), 0);
    uint32_t v32 = 7;
    CHECK_EQ_INT(meru_varint_get32(b, 1, &v32), 0);
    CHECK_EQ_INT(meru_varint_get32(b, 0, &v32), 0);
    CHECK_EQ_INT(v32, 7);
}

static void test_varint_rejects_overlong_encodings(void)
{
    uint64_t v;
    /* 10th byte may only carry the top bit of a uint64 (value 0 or 1). */
    const uint8_t ten2[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0x02};
    CHECK_EQ_INT(meru_varint_get64(ten2, sizeof ten2, &v), 0);
    const uint8_t ten_cont[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                0x80, 0x80, 0x80, 0x81, 0x00};
    CHECK_EQ_INT(meru_varint_get64(ten_cont, sizeof ten_cont, &v), 0);
    /* 11 bytes of continuation never terminates within the limit. */
    uint8_t eleven[11];
    memset(eleven, 0x80, sizeof eleven);
    eleven[10] = 0x00;
    CHECK_EQ_INT(meru_varint_get64(eleven, sizeof eleven, &v), 0);
    /* The 10-byte maximum itself is accepted. */
    const uint8_t ten1[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK_EQ_INT(meru_varint_get64(ten1, sizeof ten1, &v), 10);
    CHECK_EQ_U64(v, UINT64_MAX);
    /* get32: a value above UINT32_MAX, or a 6th byte, is rejected. */
    uint32_t v32;
    const uint8_t big5[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    CHECK_EQ_INT(meru_varint_get32(big5, sizeof big5, &v32), 0);
    const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    CHECK_EQ_INT(meru_varint_get32(six, sizeof six, &v32), 0);
}

static void test_zigzag_maps_small_magnitudes_to_small_codes(void)
{
    CHECK_EQ_U64(meru_zigzag_enc64(0), 0);
    CHECK_EQ_U64(meru_zigzag_enc64(-1), 1);
    CHECK_EQ_U64(meru_zigzag_enc64(1), 2);
    CHECK_EQ_U64(meru_zigzag_enc64(-2), 3);
    CHECK_EQ_U64(meru_zigzag_enc64(INT64_MAX), UINT64_MAX - 1);
    CHECK_EQ_U64(meru_zigzag_enc64(INT64_MIN), UINT64_MAX);
    CHECK_EQ_U64(meru_zigzag_enc32(0), 0);
    CHECK_EQ_U64(meru_zigzag_enc32(-1), 1);
    CHECK_EQ_U64(meru_zigzag_enc32(1), 2);
    CHECK_EQ_U64(meru_zigzag_enc32(INT32_MAX), UINT32_MAX - 1);
    CHECK_EQ_U64(meru_zigzag_enc32(INT32_MIN), UINT32_MAX);
    static const int64_t v64[] = {0,         1,         -1,       63, -64,
                                  64,        -65,       INT32_MAX, INT32_MIN,
                                  INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof v64 / sizeof v64[0]; i++)
        CHECK_EQ_INT(meru_zigzag_dec64(meru_zigzag_enc64(v64[i])), v64[i]);
    for (int i = 0; i < 10000; i++) {
        int64_t a = (int64_t)meru_test_rand();
        int32_t b = (int32_t)(uint32_t)meru_test_rand();
        CHECK_EQ_INT(meru_zigzag_dec64(meru_zigzag_enc64(a)), a);
        CHECK_EQ_INT(meru_zigzag_dec32(meru_zigzag_enc32(b)), b);
        /* Magnitude ordering: |x| <= |y| roughly means enc(x) <= enc(y). */
        uint64_t e = meru_zigzag_enc64(a);
        CHECK_EQ_U64(e >> 1, a < 0 ? ~(uint64_t)a : (uint64_t)a);
    }
}

static void test_endian_loads_and_stores_at_unaligned_offsets(void)
{
    uint8_t buf[32];
    for (size_t off = 0; off < 8; off++) {
        memset(buf, 0xEE, sizeof buf);
        meru_store_le16(buf + off, 0x0102);
        CHECK_MEM(buf + off, "\x02\x01", 2);
        CHECK_EQ_U64(meru_load_le16(buf + off), 0x0102);
        meru_store_le32(buf + off, 0x01020304u);
        CHECK_MEM(buf + off, "\x04\x03\x02\x01", 4);
        CHECK_EQ_U64(meru_load_le32(buf + off), 0x01020304u);
        meru_store_le64(buf + off, 0x0102030405060708ull);
        CHECK_MEM(buf + off, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
        CHECK_EQ_U64(meru_load_le64(buf + off), 0x0102030405060708ull);
        CHECK_EQ_INT(buf[off + 8], 0xEE); /* nothing written past 8 bytes */
        meru_store_be32(buf + off, 0x01020304u);
        CHECK_MEM(buf + off, "\x01\x02\x03\x04", 4);
        CHECK_EQ_U64(meru_load_be32(buf + off), 0x01020304u);
        meru_store_be64(buf + off, 0x0102030405060708ull);
        CHECK_MEM(buf + off, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
        CHECK_EQ_U64(meru_load_be64(buf + off), 0x0102030405060708ull);
        if (off > 0)
            CHECK_EQ_INT(buf[off - 1], 0xEE); /* nothing written before */
    }
    for (int i = 0; i < 1000; i++) {
        uint64_t v = meru_test_rand();
        size_t off = meru_test_rand() % 16;
        meru_store_le64(buf + off, v);
        CHECK_EQ_U64(meru_load_le64(buf + off), v);
        CHECK_EQ_U64(meru_load_be64(buf + off), __builtin_bswap64(v));
        meru_store_be32(buf + off, (uint32_t)v);
        CHECK_EQ_U64(meru_load_le32(buf + off), __builtin_bswap32((uint32_t)v));
    }
}

int main(void)
{
    MERU_TEST_RUN(test_varint_known_encodings);
    MERU_TEST_RUN(test_varint_round_trips_edge_values);
    MERU_TEST_RUN(test_varint_round_trips_random_values);
    MERU_TEST_RUN(test_varint_truncated_input_returns_zero);
    MERU_TEST_RUN(test_varint_rejects_overlong_encodings);
    MERU_TEST_RUN(test_zigzag_maps_small_magnitudes_to_small_codes);
    MERU_TEST_RUN(test_endian_loads_and_stores_at_unaligned_offsets);
    return meru_test_finish();
}
