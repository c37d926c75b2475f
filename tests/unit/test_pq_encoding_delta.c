/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_encoding_delta.c — the Parquet DELTA encodings
 * (src/parquet/enc_delta.c): DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY.
 *
 * Known byte vectors come from the "Encodings" page of apache/parquet-format
 * (DELTA_BINARY_PACKED examples re-cast with a legal block size,
 * DELTA_LENGTH_BYTE_ARRAY / DELTA_BYTE_ARRAY examples). Decoders are also
 * checked against streams built by a small bit-by-bit reference writer in
 * this file, which produces shapes our own encoders never emit (odd block
 * sizes, over-wide miniblocks), against truncation and random garbage, and
 * against pages parquet-mr wrote (delta_binary_packed.parquet for every bit
 * width 0..64, delta_byte_array.parquet) with their expected-value CSVs.
 * The other encodings: test_pq_encoding.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/encoding.h"
#include "pq_encoding_test.h"
#include "test.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/varint.h"

/* ---------------------------------------------------- DELTA_BINARY_PACKED */

static void test_delta_spec_example_1(void)
{
    /* Encodings.md example 1 (1, 2, 3, 4, 5), with our block of 128 in 4
     * miniblocks: min delta 1, all widths 0, no miniblock bytes. */
    const int64_t v[5] = {1, 2, 3, 4, 5};
    meru_buf b = {0};
    CHECK_OK(pq_delta_encode_i64(&b, v, 5));
    const uint8_t want[] = {0x80, 0x01, 0x04, 0x05, 0x02, /* header */
                            0x02, 0x00, 0x00, 0x00, 0x00};
    CHECK_EQ_INT(b.len, sizeof want);
    CHECK_MEM(b.data, want, sizeof want);
    int64_t out[5];
    size_t used;
    CHECK_OK(pq_delta_decode_i64(want, sizeof want, out, 5, &used));
    CHECK_MEM(out, v, sizeof v);
    CHECK_EQ_INT(used, sizeof want);
    /* The spec's literal bytes use block size 8, which the same spec calls
     * invalid for real data; the reader must say so. */
    const uint8_t spec[] = {0x08, 0x01, 0x05, 0x02, 0x02, 0x00};
    CHECK_RC(pq_delta_decode_i64(spec, sizeof spec, out, 5, NULL),
             MERU_ECORRUPT);
    CHECK_ERRMSG("block size 8");
    meru_buf_free(&b);
}

static void test_delta_spec_example_2(void)
{
    /* 7, 5, 3, 1, 2, 3, 4, 5: deltas -2 -2 -2 1 1 1 1, min -2, relative
     * 0 0 0 3 3 3 3 at 2 bits (LSB first: C0 3F), padded to 32 values. */
    const int32_t v[8] = {7, 5, 3, 1, 2, 3, 4, 5};
    meru_buf b = {0};
    CHECK_OK(pq_delta_encode_i32(&b, v, 8));
    const uint8_t want[] = {0x80, 0x01, 0x04, 0x08, 0x0E, /* header */
                            0x03, 0x02, 0x00, 0x00, 0x00, /* min, widths */
                            0xC0, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK_EQ_INT(b.len, sizeof want);
    CHECK_MEM(b.data, want, sizeof want);
    int32_t out[8];
    size_t used;
    CHECK_OK(pq_delta_decode_i32(want, sizeof want, out, 8, &used));
    CHECK_MEM(out, v, sizeof v);
    CHECK_EQ_INT(used, sizeof want);
    meru_buf_free(&b);
}

static int64_t edge_i64(void)
{
    static const int64_t e[] = {
        0, 1, -1, INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1};
    return e[rnd() % (sizeof e / sizeof e[0])];
}

static void gen_i64(int64_t *v, size_t n, int kind)
{
    int64_t base = (int64_t)rnd();
    for (size_t i = 0; i < n; i++) {
        switch (kind) {
        case 0:
            v[i] = (int64_t)rnd();
            break;
        case 1:
            v[i] = base;
            break;
        case 2:
            v[i] = (int64_t)((uint64_t)base + i * 3);
            break;
        case 3:
            v[i] = i % 2 ? INT64_MIN : INT64_MAX;
            break;
        case 4:
            v[i] = rnd() % 5 ? (int64_t)(rnd() % 1000) : edge_i64();
            break;
        default:
            v[i] = (int64_t)(rnd() % 16) - 8;
            break;
        }
    }
}

static void test_delta_i64_roundtrips(void)
{
    int64_t *v = malloc(1000 * sizeof *v), *out = malloc(1001 * sizeof *out);
    meru_buf b = {0};
    for (int kind = 0; kind < 6; kind++) {
        for (size_t s = 0; s < NSIZES; s++) {
            size_t n = SIZES[s];
            gen_i64(v, n, kind);
            meru_buf_reset(&b);
            CHECK_OK(pq_delta_encode_i64(&b, v, n));
            size_t used = 0;
            out[n] = 42;
            CHECK_OK(pq_delta_decode_i64(b.data, b.len, out, n, &used));
            CHECK(n == 0 || memcmp(out, v, n * sizeof *v) == 0);
            CHECK_EQ_INT(used, b.len);
            CHECK_EQ_INT(out[n], 42);
            if (n > 0)
                CHECK_RC(pq_delta_decode_i64(b.data, b.len, out, n - 1, NULL),
                         MERU_ECORRUPT);
        }
    }
    meru_buf_free(&b);
    free(v);
    free(out);
}

/* Widest miniblock in a stream of our encoder's geometry (128 = 4 x 32). */
static unsigned max_width(const uint8_t *p, size_t len, size_t n)
{
    size_t pos = 0;
    uint64_t v;
    for (int k = 0; k < 4; k++)
        pos += meru_varint_get64(p + pos, len - pos, &v);
    unsigned maxw = 0;
    size_t left = n ? n - 1 : 0;
    while (left > 0) {
        pos += meru_varint_get64(p + pos, len - pos, &v);
        const uint8_t *w = p + pos;
        pos += 4;
        for (int m = 0; m < 4 && left > 0; m++) {
            if (w[m] > maxw)
                maxw = w[m];
            pos += 4 * (size_t)w[m];
            left -= left < 32 ? left : 32;
        }
    }
    return maxw;
}

static void test_delta_i32_roundtrips_full_range(void)
{
    int32_t *v = malloc(1000 * sizeof *v), *out = malloc(1000 * sizeof *out);
    meru_buf b = {0};
    static const int32_t e[] = {0, 1, -1, INT32_MIN, INT32_MAX};
    for (int kind = 0; kind < 4; kind++) {
        for (size_t s = 0; s < NSIZES; s++) {
            size_t n = SIZES[s];
            for (size_t i = 0; i < n; i++) {
                switch (kind) {
                case 0:
                    v[i] = (int32_t)(uint32_t)rnd();
                    break;
                case 1:
                    v[i] = i % 2 ? INT32_MIN : INT32_MAX;
                    break;
                case 2:
                    v[i] = e[rnd() % 5];
                    break;
                default:
                    v[i] = (int32_t)i - 500;
                    break;
                }
            }
            meru_buf_reset(&b);
            CHECK_OK(pq_delta_encode_i32(&b, v, n));
            size_t used;
            CHECK_OK(pq_delta_decode_i32(b.data, b.len, out, n, &used));
            CHECK(n == 0 || memcmp(out, v, n * sizeof *v) == 0);
            CHECK_EQ_INT(used, b.len);
            /* The spec: INT32 data must not use more than 32 bits. */
            CHECK(max_width(b.data, b.len, n) <= 32);
        }
    }
    meru_buf_free(&b);
    free(v);
    free(out);
}

/*
 * Reference DELTA_BINARY_PACKED writer with any block geometry: 64-bit
 * deltas, miniblock widths at least what is needed (sometimes more, up to
 * 64), random padding bits, junk width bytes for unused miniblocks.
 */
static void ref_delta(meru_buf *b, const uint64_t *v, size_t n, uint64_t block,
                      uint64_t mbs)
{
    ref_varint(b, block);
    ref_varint(b, mbs);
    ref_varint(b, n);
    ref_varint(b, meru_zigzag_enc64(n ? (int64_t)v[0] : 0));
    uint64_t per = block / mbs;
    for (size_t i = 1; i < n; i += block) {
        size_t k = n - i < block ? n - i : block;
        int64_t min = INT64_MAX;
        for (size_t j = 0; j < k; j++) {
            int64_t d = (int64_t)(v[i + j] - v[i + j - 1]);
            if (d < min)
                min = d;
        }
        ref_varint(b, meru_zigzag_enc64(min));
        size_t wpos = b->len;
        for (uint64_t m = 0; m < mbs; m++)
            meru_buf_push(b, 0xEE); /* junk unless used */
        for (uint64_t m = 0; m * per < k; m++) {
            uint64_t all = 0;
            for (size_t j = m * per; j < k && j < (m + 1) * per; j++)
                all |= v[i + j] - v[i + j - 1] - (uint64_t)min;
            unsigned w = (unsigned)pq_bit_width(all);
            if (rnd() % 3 == 0)
                w += (unsigned)(rnd() % (65 - w));
            b->data[wpos + m] = (uint8_t)w;
            size_t bit = b->len * 8;
            uint64_t mask = w == 64 ? ~0ull : (1ull << w) - 1;
            for (size_t j = m * per; j < (m + 1) * per; j++) {
                uint64_t x = j < k ? v[i + j] - v[i + j - 1] - (uint64_t)min
                                   : rnd() & mask;
                ref_put_bits(b, &bit, x, w);
            }
        }
    }
}

static void test_delta_decodes_any_block_geometry(void)
{
    static const uint64_t geo[][2] = {{128, 1}, {128, 2},  {128, 4}, {256, 8},
                                      {256, 2}, {512, 16}, {384, 3}, {1024, 4}};
    uint64_t v[700];
    int64_t out[700];
    int32_t out32[700];
    meru_buf b = {0};
    for (size_t it = 0; it < iters(300); it++) {
        const uint64_t *g = geo[rnd() % (sizeof geo / sizeof geo[0])];
        size_t n = rnd() % 700;
        bool small = rnd() % 2;
        for (size_t i = 0; i < n; i++) {
            if (small) { /* INT32 data, deltas taken in 64 bits */
                int32_t x = (int32_t)(uint32_t)rnd();
                if (rnd() % 3 == 0)
                    x = rnd() % 2 ? INT32_MIN : INT32_MAX;
                v[i] = (uint64_t)(int64_t)x;
            } else {
                v[i] = rnd() % 4 ? rnd() : (uint64_t)edge_i64();
            }
        }
        meru_buf_reset(&b);
        ref_delta(&b, v, n, g[0], g[1]);
        size_t used;
        CHECK_OK(pq_delta_decode_i64(b.data, b.len, out, n, &used));
        CHECK(n == 0 || memcmp(out, v, n * sizeof *v) == 0);
        CHECK_EQ_INT(used, b.len);
        if (small) {
            CHECK_OK(pq_delta_decode_i32(b.data, b.len, out32, n, &used));
            for (size_t i = 0; i < n; i++)
                CHECK_EQ_INT(out32[i], (int32_t)v[i]);
        }
    }
    meru_buf_free(&b);
}

static void test_delta_rejects_bad_headers(void)
{
    int64_t out[4];
    meru_buf b = {0};
    struct {
        uint64_t block, mbs, n;
        const char *msg;
    } bad[] = {
        {0, 4, 1, "block size 0"},
        {100, 4, 1, "block size 100"},
        {128, 0, 1, "0 miniblocks"},
        {128, 3, 1, "3 miniblocks"},
        {128, 8, 1, "8 miniblocks"}, /* 16 values each */
        {128, 4, 3, "header holds 3 values, 1 expected"},
        {(uint64_t)1 << 40, 4, 1, "block size"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        meru_buf_reset(&b);
        ref_varint(&b, bad[i].block);
        ref_varint(&b, bad[i].mbs);
        ref_varint(&b, bad[i].n);
        ref_varint(&b, 0);
        CHECK_RC(pq_delta_decode_i64(b.data, b.len, out, 1, NULL),
                 MERU_ECORRUPT);
        CHECK_ERRMSG(bad[i].msg);
    }
    /* Miniblock bit width 65. */
    meru_buf_reset(&b);
    const uint8_t hdr[] = {0x80, 0x01, 0x04, 0x02, 0x00, 0x00, 65, 0, 0, 0};
    meru_buf_append(&b, hdr, sizeof hdr);
    for (int i = 0; i < 400; i++)
        meru_buf_push(&b, 0);
    CHECK_RC(pq_delta_decode_i64(b.data, b.len, out, 2, NULL), MERU_ECORRUPT);
    CHECK_ERRMSG("above 64");
    /* Widths of unused miniblocks are ignored, whatever they hold. */
    const uint8_t junk[] = {0x80, 0x01, 0x04, 0x02, 0x00,
                            0x02, 0x00, 0xff, 0xff, 0xff};
    CHECK_OK(pq_delta_decode_i64(junk, sizeof junk, out, 2, NULL));
    CHECK_EQ_INT(out[1], 1);
    /* n == 0 with no bytes at all, or with an empty header. */
    CHECK_OK(pq_delta_decode_i64(NULL, 0, out, 0, NULL));
    const uint8_t empty[] = {0x80, 0x01, 0x04, 0x00, 0x00};
    size_t used;
    CHECK_OK(pq_delta_decode_i64(empty, sizeof empty, out, 0, &used));
    CHECK_EQ_INT(used, sizeof empty);
    meru_buf_free(&b);
}

static void test_delta_truncated_input_fails(void)
{
    int64_t v[300], out[300];
    meru_buf b = {0};
    for (size_t it = 0; it < iters(10); it++) {
        size_t n = rnd() % 300 + 1;
        gen_i64(v, n, (int)(rnd() % 6));
        meru_buf_reset(&b);
        CHECK_OK(pq_delta_encode_i64(&b, v, n));
        for (size_t cut = 0; cut < b.len; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, b.data, cut);
            CHECK_RC(pq_delta_decode_i64(copy, cut, out, n, NULL),
                     MERU_ECORRUPT);
            free(copy);
        }
    }
    meru_buf_free(&b);
}

static void test_delta_garbage_never_crashes(void)
{
    uint8_t in[96];
    int64_t out[300];
    int32_t out32[300];
    for (size_t it = 0; it < iters(20000); it++) {
        size_t len = rnd() % sizeof in;
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)rnd();
        if (len > 4 && rnd() % 2) { /* plausible header */
            in[0] = 0x80;
            in[1] = 0x01;
            in[2] = (uint8_t)(1u << (rnd() % 3));
            in[3] = (uint8_t)(rnd() % 100);
        }
        size_t n = len > 3 ? in[3] : rnd() % 100;
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, in, len);
        int rc = pq_delta_decode_i64(copy, len, out, n, NULL);
        CHECK(rc == MERU_OK || rc == MERU_ECORRUPT);
        rc = pq_delta_decode_i32(copy, len, out32, n, NULL);
        CHECK(rc == MERU_OK || rc == MERU_ECORRUPT);
        free(copy);
    }
}

/* ---------------------------------------------- DELTA_LENGTH_BYTE_ARRAY */

static void test_delta_length_spec_example(void)
{
    pq_bytes v[4] = {S("Hello"), S("World"), S("Foobar"), S("ABCDEF")};
    meru_buf b = {0};
    CHECK_OK(pq_delta_length_encode(&b, v, 4));
    /* DeltaEncoding(5, 5, 6, 6) then the bytes back to back. */
    meru_buf lens = {0};
    int32_t l[4] = {5, 5, 6, 6};
    CHECK_OK(pq_delta_encode_i32(&lens, l, 4));
    const char *data = "HelloWorldFoobarABCDEF";
    CHECK_EQ_INT(b.len, lens.len + strlen(data));
    CHECK_MEM(b.data, lens.data, lens.len);
    CHECK_MEM(b.data + lens.len, data, strlen(data));
    pq_bytes out[4];
    size_t used;
    CHECK_OK(pq_delta_length_decode(b.data, b.len, out, 4, &used));
    CHECK_EQ_INT(used, b.len);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(out[i].len, v[i].len);
        CHECK_MEM(out[i].ptr, v[i].ptr, v[i].len);
    }
    meru_buf_free(&b);
    meru_buf_free(&lens);
}

static void make_strings(pq_bytes *v, size_t n, uint8_t *pool, size_t pool_n,
                         bool shared_prefixes)
{
    for (size_t i = 0; i < pool_n; i++)
        pool[i] = (uint8_t)(shared_prefixes ? 'a' + rnd() % 3 : rnd());
    for (size_t i = 0; i < n; i++) {
        uint32_t len = rnd() % 6 == 0 ? 0 : (uint32_t)(rnd() % 40);
        size_t at = shared_prefixes ? rnd() % 8 : rnd() % (pool_n - 40);
        v[i] = (pq_bytes){pool + at, len};
    }
}

static void test_delta_length_roundtrips_and_rejects_bad_input(void)
{
    pq_bytes v[300], out[300];
    uint8_t pool[600];
    meru_buf b = {0};
    for (size_t s = 0; s < NSIZES; s++) {
        size_t n = SIZES[s] < 300 ? SIZES[s] : 300;
        make_strings(v, n, pool, sizeof pool, false);
        meru_buf_reset(&b);
        CHECK_OK(pq_delta_length_encode(&b, v, n));
        size_t used;
        CHECK_OK(pq_delta_length_decode(b.data, b.len, out, n, &used));
        CHECK_EQ_INT(used, b.len);
        for (size_t i = 0; i < n; i++) {
            CHECK_EQ_INT(out[i].len, v[i].len);
            CHECK(v[i].len == 0 || memcmp(out[i].ptr, v[i].ptr, v[i].len) == 0);
        }
        for (size_t cut = n == 0; cut < b.len; cut++) {
            int rc = pq_delta_length_decode(b.data, cut, out, n, NULL);
            CHECK_RC(rc, MERU_ECORRUPT);
        }
    }
    /* A negative length. */
    int32_t neg[2] = {3, -1};
    meru_buf_reset(&b);
    CHECK_OK(pq_delta_encode_i32(&b, neg, 2));
    meru_buf_append(&b, "abcdef", 6);
    CHECK_RC(pq_delta_length_decode(b.data, b.len, out, 2, NULL),
             MERU_ECORRUPT);
    CHECK_ERRMSG("negative");
    meru_buf_free(&b);
}

/* ---------------------------------------------------- DELTA_BYTE_ARRAY */

static void test_delta_bytes_spec_example(void)
{
    pq_bytes v[4] = {S("axis"), S("axle"), S("babble"), S("babyhood")};
    meru_buf b = {0}, want = {0};
    CHECK_OK(pq_delta_bytes_encode(&b, v, 4));
    int32_t pre[4] = {0, 2, 0, 3}, suf[4] = {4, 2, 6, 5};
    CHECK_OK(pq_delta_encode_i32(&want, pre, 4));
    CHECK_OK(pq_delta_encode_i32(&want, suf, 4));
    meru_buf_append(&want, "axislebabbleyhood", 17);
    CHECK_EQ_INT(b.len, want.len);
    CHECK_MEM(b.data, want.data, want.len);

    pq_bytes out[4];
    meru_buf store = {0};
    size_t used;
    CHECK_OK(pq_delta_bytes_decode(b.data, b.len, out, 4, &store, &used));
    CHECK_EQ_INT(used, b.len);
    CHECK_EQ_INT(store.len, 4 + 4 + 6 + 8);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(out[i].len, v[i].len);
        CHECK_MEM(out[i].ptr, v[i].ptr, v[i].len);
        CHECK(out[i].ptr >= store.data &&
              out[i].ptr + out[i].len <= store.data + store.len);
    }
    meru_buf_free(&b);
    meru_buf_free(&want);
    meru_buf_free(&store);
}

static void test_delta_bytes_roundtrips_appending_to_storage(void)
{
    pq_bytes v[300], out[300];
    uint8_t pool[600];
    meru_buf b = {0}, store = {0};
    for (size_t s = 0; s < NSIZES; s++) {
        size_t n = SIZES[s] < 300 ? SIZES[s] : 300;
        make_strings(v, n, pool, sizeof pool, s % 2 == 0);
        meru_buf_reset(&b);
        CHECK_OK(pq_delta_bytes_encode(&b, v, n));
        meru_buf_reset(&store);
        meru_buf_append(&store, "keep", 4); /* existing content stays */
        size_t used;
        CHECK_OK(pq_delta_bytes_decode(b.data, b.len, out, n, &store, &used));
        CHECK_EQ_INT(used, b.len);
        CHECK_MEM(store.data, "keep", 4);
        for (size_t i = 0; i < n; i++) {
            CHECK_EQ_INT(out[i].len, v[i].len);
            CHECK(v[i].len == 0 || memcmp(out[i].ptr, v[i].ptr, v[i].len) == 0);
        }
        for (size_t cut = n == 0; cut < b.len; cut++) {
            size_t before = store.len;
            CHECK_RC(pq_delta_bytes_decode(b.data, cut, out, n, &store, NULL),
                     MERU_ECORRUPT);
            CHECK_EQ_INT(store.len, before);
        }
    }
    meru_buf_free(&b);
    meru_buf_free(&store);
}

static void test_delta_bytes_rejects_prefix_longer_than_previous(void)
{
    /* Values "ab" then prefix 3 + "x": the prefix exceeds "ab". */
    meru_buf b = {0}, store = {0};
    int32_t pre[2] = {0, 3}, suf[2] = {2, 1};
    CHECK_OK(pq_delta_encode_i32(&b, pre, 2));
    CHECK_OK(pq_delta_encode_i32(&b, suf, 2));
    meru_buf_append(&b, "abx", 3);
    pq_bytes out[2];
    CHECK_RC(pq_delta_bytes_decode(b.data, b.len, out, 2, &store, NULL),
             MERU_ECORRUPT);
    CHECK_ERRMSG("exceeds the previous value");
    /* First value with a prefix. */
    meru_buf_reset(&b);
    int32_t pre1[1] = {1}, suf1[1] = {1};
    CHECK_OK(pq_delta_encode_i32(&b, pre1, 1));
    CHECK_OK(pq_delta_encode_i32(&b, suf1, 1));
    meru_buf_append(&b, "a", 1);
    CHECK_RC(pq_delta_bytes_decode(b.data, b.len, out, 1, &store, NULL),
             MERU_ECORRUPT);
    /* Prefix amplification beyond the cap: 40000 values each repeating a
     * 64 KiB first value. */
    size_t n = 40000;
    int32_t *p = calloc(n, sizeof *p), *s = calloc(n, sizeof *s);
    pq_bytes *o = malloc(n * sizeof *o);
    for (size_t i = 1; i < n; i++)
        p[i] = 65536;
    s[0] = 65536;
    meru_buf_reset(&b);
    CHECK_OK(pq_delta_encode_i32(&b, p, n));
    CHECK_OK(pq_delta_encode_i32(&b, s, n));
    uint8_t *first;
    CHECK_OK(meru_buf_extend(&b, 65536, &first));
    CHECK_RC(pq_delta_bytes_decode(b.data, b.len, o, n, &store, NULL),
             MERU_ERANGE);
    CHECK_EQ_INT(store.len, 0);
    free(p);
    free(s);
    free(o);
    meru_buf_free(&b);
    meru_buf_free(&store);
}

static void test_delta_bytes_garbage_never_crashes(void)
{
    uint8_t in[128];
    pq_bytes out[64];
    meru_buf store = {0};
    for (size_t it = 0; it < iters(10000); it++) {
        size_t len = rnd() % sizeof in;
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)rnd();
        size_t n = rnd() % 64;
        if (len > 8 && rnd() % 2) {
            const uint8_t h[] = {0x80, 0x01, 0x04, (uint8_t)n};
            memcpy(in, h, 4);
        }
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, in, len);
        meru_buf_reset(&store);
        int rc = pq_delta_bytes_decode(copy, len, out, n, &store, NULL);
        CHECK(rc == MERU_OK || rc == MERU_ECORRUPT);
        rc = pq_delta_length_decode(copy, len, out, n, NULL);
        CHECK(rc == MERU_OK || rc == MERU_ECORRUPT);
        free(copy);
    }
    meru_buf_free(&store);
}

/* --------------------------------------------- files from parquet-mr */

/*
 * Just enough Thrift compact protocol to walk page headers here (the real
 * decoder is another module): records the integer fields of the header
 * (ints) and of DataPageHeaderV2, field 8 (v2), skips everything else.
 */
static bool tc_struct(const uint8_t *p, size_t len, size_t *pos, int64_t *ints,
                      int64_t *v2, int depth);

static bool tc_skip(const uint8_t *p, size_t len, size_t *pos, int type,
                    int depth)
{
    uint64_t v;
    size_t k;
    switch (type) {
    case 1:
    case 2:
        return true;
    case 3:
        return ++*pos <= len;
    case 4:
    case 5:
    case 6:
        k = meru_varint_get64(p + *pos, len - *pos, &v);
        *pos += k;
        return k != 0;
    case 7:
        *pos += 8;
        return *pos <= len;
    case 8:
        k = meru_varint_get64(p + *pos, len - *pos, &v);
        if (!k || v > len - *pos - k)
            return false;
        *pos += k + v;
        return true;
    case 9:
    case 10: {
        if (*pos >= len)
            return false;
        uint8_t h = p[(*pos)++];
        uint64_t n = h >> 4;
        if (n == 15) {
            k = meru_varint_get64(p + *pos, len - *pos, &n);
            if (!k)
                return false;
            *pos += k;
        }
        for (uint64_t i = 0; i < n; i++) {
            if ((h & 15) <= 2) {
                if (++*pos > len)
                    return false;
            } else if (!tc_skip(p, len, pos, h & 15, depth)) {
                return false;
            }
        }
        return true;
    }
    case 12:
        return depth < 8 && tc_struct(p, len, pos, NULL, NULL, depth + 1);
    default:
        return false;
    }
}

static bool tc_struct(const uint8_t *p, size_t len, size_t *pos, int64_t *ints,
                      int64_t *v2, int depth)
{
    int last = 0;
    for (;;) {
        if (*pos >= len)
            return false;
        uint8_t h = p[(*pos)++];
        if (h == 0)
            return true;
        int type = h & 15, id;
        if (h >> 4) {
            id = last + (h >> 4);
        } else {
            uint64_t z;
            size_t k = meru_varint_get64(p + *pos, len - *pos, &z);
            if (!k)
                return false;
            *pos += k;
            id = (int)meru_zigzag_dec64(z);
        }
        last = id;
        if ((type == 5 || type == 6) && ints && id >= 0 && id < 16) {
            uint64_t z;
            size_t k = meru_varint_get64(p + *pos, len - *pos, &z);
            if (!k)
                return false;
            *pos += k;
            ints[id] = meru_zigzag_dec64(z);
        } else if (type == 12 && id == 8 && v2) {
            if (!tc_struct(p, len, pos, v2, NULL, depth + 1))
                return false;
        } else if (!tc_skip(p, len, pos, type, depth)) {
            return false;
        }
    }
}

/* One v2 data page: where its values start and how long they are. */
typedef struct v2_page {
    size_t values_off, values_len;
    int64_t num_values, num_nulls;
} v2_page;

static bool next_v2_page(const uint8_t *f, size_t len, size_t *pos, v2_page *pg)
{
    int64_t h[16] = {0}, v2[16] = {0};
    size_t at = *pos;
    if (!tc_struct(f, len, &at, h, v2, 0))
        return false;
    /* PageHeader 3 = compressed size; v2: 1 values, 2 nulls, 5/6 level
     * byte lengths (levels are never compressed in v2). */
    if (h[3] < v2[5] + v2[6] || (uint64_t)h[3] > len - at)
        return false;
    pg->values_off = at + (size_t)(v2[5] + v2[6]);
    pg->values_len = (size_t)(h[3] - v2[5] - v2[6]);
    pg->num_values = v2[1];
    pg->num_nulls = v2[2];
    *pos = at + (size_t)h[3];
    return true;
}

/* Splits CSV line `line` (quotes allowed, no embedded quotes) in place. */
static int csv_split(char *line, char **cols, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        if (*p == '"') {
            cols[n++] = ++p;
            while (*p && *p != '"')
                p++;
            if (*p)
                *p++ = 0;
        } else {
            cols[n++] = p;
            while (*p && *p != ',' && *p != '\n' && *p != '\r')
                p++;
        }
        if (*p == ',') {
            *p++ = 0;
            continue;
        }
        *p = 0;
        break;
    }
    return n;
}

static void test_delta_decodes_parquet_mr_file(void)
{
    /* 65 INT64 columns with delta bit widths 0..64 and one INT32, 200 rows
     * each in one uncompressed v2 page; expected values in the CSV. */
    size_t len, clen;
    uint8_t *f = meru_test_read_corpus("delta_binary_packed.parquet", &len);
    char *csv =
        (char *)meru_test_read_corpus("delta_binary_packed_expect.csv", &clen);
    CHECK_MSG(f && csv, "parquet-testing missing under %s", MERU_SHARED_DIR);
    enum { COLS = 66, ROWS = 200 };
    int64_t *want = malloc(sizeof(int64_t) * COLS * ROWS);
    char *line = strchr(csv, '\n') + 1;
    for (int r = 0; r < ROWS; r++) {
        char *next = strchr(line, '\n');
        if (next)
            *next = 0;
        char *cols[COLS];
        CHECK_EQ_INT(csv_split(line, cols, COLS), COLS);
        for (int c = 0; c < COLS; c++)
            want[c * ROWS + r] = strtoll(cols[c], NULL, 10);
        line = next + 1;
    }
    size_t pos = 4;
    int64_t got[ROWS];
    int32_t got32[ROWS];
    for (int c = 0; c < COLS; c++) {
        v2_page pg;
        CHECK_MSG(next_v2_page(f, len, &pos, &pg), "page %d", c);
        CHECK_EQ_INT(pg.num_values, ROWS);
        size_t used = 0;
        if (c < COLS - 1) {
            CHECK_OK(pq_delta_decode_i64(f + pg.values_off, pg.values_len, got,
                                         ROWS, &used));
            for (int r = 0; r < ROWS; r++)
                CHECK_MSG(got[r] == want[c * ROWS + r], "col %d row %d", c, r);
        } else {
            CHECK_OK(pq_delta_decode_i32(f + pg.values_off, pg.values_len,
                                         got32, ROWS, &used));
            for (int r = 0; r < ROWS; r++)
                CHECK_EQ_INT(got32[r], want[c * ROWS + r]);
        }
        /* The stream ends exactly at the end of the page. */
        CHECK_EQ_INT(used, pg.values_len);
    }
    free(want);
    free(csv);
    free(f);
}

static void test_delta_bytes_decodes_parquet_mr_file(void)
{
    /* 9 OPTIONAL string columns, 1000 rows, one uncompressed v2 page each;
     * the CSV has the values, empty for null. */
    size_t len, clen;
    uint8_t *f = meru_test_read_corpus("delta_byte_array.parquet", &len);
    char *csv =
        (char *)meru_test_read_corpus("delta_byte_array_expect.csv", &clen);
    CHECK_MSG(f && csv, "parquet-testing missing under %s", MERU_SHARED_DIR);
    enum { COLS = 9, ROWS = 1000 };
    char **cells = malloc(sizeof(char *) * COLS * ROWS);
    char *line = strchr(csv, '\n') + 1;
    for (int r = 0; r < ROWS; r++) {
        char *next = strchr(line, '\n');
        if (next)
            *next = 0;
        char *cols[COLS];
        CHECK_EQ_INT(csv_split(line, cols, COLS), COLS);
        for (int c = 0; c < COLS; c++)
            cells[c * ROWS + r] = cols[c];
        line = next ? next + 1 : line;
    }
    size_t pos = 4;
    pq_bytes *out = malloc(sizeof *out * ROWS);
    meru_buf store = {0};
    for (int c = 0; c < COLS; c++) {
        v2_page pg;
        CHECK_MSG(next_v2_page(f, len, &pos, &pg), "page %d", c);
        size_t n = (size_t)(pg.num_values - pg.num_nulls), used = 0;
        meru_buf_reset(&store);
        CHECK_OK(pq_delta_bytes_decode(f + pg.values_off, pg.values_len, out, n,
                                       &store, &used));
        CHECK_EQ_INT(used, pg.values_len);
        size_t k = 0;
        for (int r = 0; r < ROWS; r++) {
            const char *w = cells[c * ROWS + r];
            if (!*w)
                continue; /* null (no column has empty strings) */
            CHECK_MSG(k < n, "col %d: more values than the page", c);
            CHECK_MSG(out[k].len == strlen(w) &&
                          memcmp(out[k].ptr, w, out[k].len) == 0,
                      "col %d row %d: want \"%s\"", c, r, w);
            k++;
        }
        CHECK_EQ_INT(k, n);
    }
    meru_buf_free(&store);
    free(out);
    free(cells);
    free(csv);
    free(f);
}

int main(void)
{
    MERU_TEST_RUN(test_delta_spec_example_1);
    MERU_TEST_RUN(test_delta_spec_example_2);
    MERU_TEST_RUN(test_delta_i64_roundtrips);
    MERU_TEST_RUN(test_delta_i32_roundtrips_full_range);
    MERU_TEST_RUN(test_delta_decodes_any_block_geometry);
    MERU_TEST_RUN(test_delta_rejects_bad_headers);
    MERU_TEST_RUN(test_delta_truncated_input_fails);
    MERU_TEST_RUN(test_delta_garbage_never_crashes);
    MERU_TEST_RUN(test_delta_length_spec_example);
    MERU_TEST_RUN(test_delta_length_roundtrips_and_rejects_bad_input);
    MERU_TEST_RUN(test_delta_bytes_spec_example);
    MERU_TEST_RUN(test_delta_bytes_roundtrips_appending_to_storage);
    MERU_TEST_RUN(test_delta_bytes_rejects_prefix_longer_than_previous);
    MERU_TEST_RUN(test_delta_bytes_garbage_never_crashes);
    MERU_TEST_RUN(test_delta_decodes_parquet_mr_file);
    MERU_TEST_RUN(test_delta_bytes_decodes_parquet_mr_file);
    return meru_test_finish();
}
