/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_encoding.c — Parquet level and value encodings other than the
 * DELTA family (src/parquet/enc_rle.c, enc_plain.c, enc_dict.c): bit
 * width, the RLE / bit-packing hybrid, PLAIN, BYTE_STREAM_SPLIT, and the
 * dictionary with its index pages.
 *
 * Known byte vectors come from the "Encodings" page of apache/parquet-format
 * (RLE bit-packing example, BYTE_STREAM_SPLIT example). RLE decoders are
 * also checked against streams built by a small bit-by-bit reference writer
 * in this file, which produces shapes our own encoder never emits (short
 * RLE runs, junk padding), against truncation and random garbage. The
 * DELTA encodings: test_pq_encoding_delta.c.
 */
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/encoding.h"
#include "pq_encoding_test.h"
#include "test.h"
#include "util/buf.h"
#include "util/error.h"

/* ------------------------------------------------------------ bit width */

static void test_bit_width_is_bits_needed_for_max(void)
{
    CHECK_EQ_INT(pq_bit_width(0), 0);
    CHECK_EQ_INT(pq_bit_width(1), 1);
    CHECK_EQ_INT(pq_bit_width(2), 2);
    CHECK_EQ_INT(pq_bit_width(3), 2);
    CHECK_EQ_INT(pq_bit_width(255), 8);
    CHECK_EQ_INT(pq_bit_width(256), 9);
    CHECK_EQ_INT(pq_bit_width(UINT32_MAX), 32);
    CHECK_EQ_INT(pq_bit_width(UINT64_MAX), 64);
}

/* ------------------------------------------------------------------ RLE */

static void test_rle_spec_bitpacking_example(void)
{
    /* Encodings.md: 0..7 at bit width 3 pack to 10001000 11000110
     * 11111010, behind a bit-packed header for one group. */
    uint32_t v[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    meru_buf b = {0};
    CHECK_OK(pq_rle_encode(&b, v, 8, 3));
    const uint8_t want[] = {0x03, 0x88, 0xC6, 0xFA};
    CHECK_EQ_INT(b.len, sizeof want);
    CHECK_MEM(b.data, want, sizeof want);
    uint32_t out[8];
    size_t used = 0;
    CHECK_OK(pq_rle_decode(want, sizeof want, 3, out, 8, &used));
    CHECK_EQ_INT(used, 4);
    CHECK_MEM(out, v, sizeof v);
    meru_buf_free(&b);
}

static void test_rle_encoder_uses_rle_runs_for_repeats(void)
{
    uint32_t v[100];
    for (int i = 0; i < 100; i++)
        v[i] = 5;
    meru_buf b = {0};
    CHECK_OK(pq_rle_encode(&b, v, 100, 3));
    /* header varint(100 << 1) = C8 01, value in one byte. */
    const uint8_t want[] = {0xC8, 0x01, 0x05};
    CHECK_EQ_INT(b.len, sizeof want);
    CHECK_MEM(b.data, want, sizeof want);

    /* 3 literals then 20 repeats: the repeat first completes the literal
     * group (5 copies), the remaining 15 become an RLE run. */
    uint32_t w[23] = {1, 2, 3};
    for (int i = 3; i < 23; i++)
        w[i] = 7;
    meru_buf_reset(&b);
    CHECK_OK(pq_rle_encode(&b, w, 23, 3));
    const uint8_t want2[] = {0x03, 0xD1, 0xFE, 0xFF, 0x1E, 0x07};
    CHECK_EQ_INT(b.len, sizeof want2);
    CHECK_MEM(b.data, want2, sizeof want2);
    uint32_t out[23];
    CHECK_OK(pq_rle_decode(b.data, b.len, 3, out, 23, NULL));
    CHECK_MEM(out, w, sizeof w);
    meru_buf_free(&b);
}

/* Values with runs of random lengths (so both run kinds appear). */
static void fill_levels(uint32_t *v, size_t n, unsigned w)
{
    uint64_t mask = w >= 32 ? 0xffffffffu : ((uint64_t)1 << w) - 1;
    size_t i = 0;
    while (i < n) {
        size_t run = rnd() % 4 == 0 ? rnd() % 40 + 1 : 1;
        uint32_t x = (uint32_t)(rnd() & mask);
        if (rnd() % 8 == 0)
            x = (uint32_t)mask; /* extreme */
        for (size_t k = 0; k < run && i < n; k++)
            v[i++] = x;
    }
}

static void test_rle_roundtrips_every_width_and_size(void)
{
    uint32_t *v = malloc(1000 * sizeof *v), *out = malloc(1001 * sizeof *out);
    meru_buf b = {0};
    for (int w = 0; w <= 32; w++) {
        for (size_t s = 0; s < NSIZES; s++) {
            size_t n = SIZES[s];
            fill_levels(v, n, (unsigned)w);
            meru_buf_reset(&b);
            CHECK_OK(pq_rle_encode(&b, v, n, w));
            size_t used = 99;
            out[n] = 0xdeadbeef;
            CHECK_OK(pq_rle_decode(b.data, b.len, w, out, n, &used));
            CHECK_EQ_INT(used, b.len);
            CHECK(n == 0 || memcmp(out, v, n * sizeof *v) == 0);
            CHECK_EQ_U64(out[n], 0xdeadbeef); /* no write past n */
        }
    }
    meru_buf_free(&b);
    free(v);
    free(out);
}

static void test_rle_all_equal_and_width_zero(void)
{
    uint32_t v[1000], out[1000];
    memset(v, 0, sizeof v);
    meru_buf b = {0};
    CHECK_OK(pq_rle_encode(&b, v, 1000, 0));
    CHECK_EQ_INT(b.len, 2); /* one RLE run, no value bytes */
    CHECK_OK(pq_rle_decode(b.data, b.len, 0, out, 1000, NULL));
    CHECK_MEM(out, v, sizeof v);
    for (int i = 0; i < 1000; i++)
        v[i] = UINT32_MAX;
    meru_buf_reset(&b);
    CHECK_OK(pq_rle_encode(&b, v, 1000, 32));
    CHECK_EQ_INT(b.len, 2 + 4);
    CHECK_OK(pq_rle_decode(b.data, b.len, 32, out, 1000, NULL));
    CHECK_MEM(out, v, sizeof v);
    meru_buf_free(&b);
}

/* A reference hybrid writer choosing run kinds at random, including short
 * RLE runs, bit-packed runs over repeats, and padded final groups. */
static void ref_rle(meru_buf *b, const uint32_t *v, size_t n, unsigned w)
{
    size_t i = 0;
    while (i < n) {
        if (rnd() % 2) {
            size_t run = 1;
            while (i + run < n && v[i + run] == v[i])
                run++;
            ref_varint(b, (uint64_t)run << 1);
            for (unsigned k = 0; k < (w + 7) / 8; k++)
                meru_buf_push(b, (uint8_t)(v[i] >> (8 * k)));
            i += run;
        } else {
            size_t groups = rnd() % 4 + 1;
            ref_varint(b, (uint64_t)groups << 1 | 1);
            size_t bit = b->len * 8;
            for (size_t k = 0; k < groups * 8; k++) {
                uint32_t x = i + k < n ? v[i + k] : 0;
                ref_put_bits(b, &bit, x, w);
            }
            while (b->len * 8 < bit)
                meru_buf_push(b, 0);
            i += groups * 8;
        }
    }
}

static void test_rle_decodes_reference_streams(void)
{
    uint32_t v[300], out[300];
    meru_buf b = {0};
    for (size_t it = 0; it < iters(400); it++) {
        unsigned w = (unsigned)(rnd() % 33);
        size_t n = rnd() % 300;
        fill_levels(v, n, w);
        meru_buf_reset(&b);
        ref_rle(&b, v, n, w);
        size_t used;
        CHECK_OK(pq_rle_decode(b.data, b.len, (int)w, out, n, &used));
        CHECK(n == 0 || memcmp(out, v, n * sizeof *v) == 0);
        CHECK_EQ_INT(used, b.len);
    }
    meru_buf_free(&b);
}

static void test_rle_skips_padding_values_of_last_group(void)
{
    /* One group of 8 at width 3, only 3 values wanted. */
    const uint8_t in[] = {0x03, 0x88, 0xC6, 0xFA};
    uint32_t out[3];
    size_t used;
    CHECK_OK(pq_rle_decode(in, sizeof in, 3, out, 3, &used));
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(out[1], 1);
    CHECK_EQ_INT(out[2], 2);
    CHECK_EQ_INT(used, 4);
    /* Padding bytes cut short on the final run: still decodes. */
    CHECK_OK(pq_rle_decode(in, 3, 3, out, 3, &used));
    CHECK_EQ_INT(out[2], 2);
    CHECK_EQ_INT(used, 3);
    /* An RLE run longer than needed is fine too. */
    const uint8_t rle[] = {0xC8, 0x01, 0x05};
    CHECK_OK(pq_rle_decode(rle, sizeof rle, 3, out, 3, &used));
    CHECK_EQ_INT(out[2], 5);
}

static void test_rle_truncated_input_fails_or_decodes_right(void)
{
    uint32_t v[200], out[200];
    meru_buf b = {0};
    for (size_t it = 0; it < iters(20); it++) {
        unsigned w = (unsigned)(rnd() % 33);
        size_t n = rnd() % 200 + 1;
        fill_levels(v, n, w);
        meru_buf_reset(&b);
        CHECK_OK(pq_rle_encode(&b, v, n, (int)w));
        for (size_t cut = 0; cut < b.len; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, b.data, cut);
            int rc = pq_rle_decode(copy, cut, (int)w, out, n, NULL);
            /* Only the final run's zero padding may be missing. */
            CHECK(rc == MERU_ECORRUPT ||
                  (rc == MERU_OK && memcmp(out, v, n * sizeof *v) == 0));
            free(copy);
        }
    }
    meru_buf_free(&b);
}

static void test_rle_rejects_bad_runs(void)
{
    uint32_t out[16];
    /* RLE run value 9 does not fit bit width 3. */
    const uint8_t wide[] = {0x10, 0x09};
    CHECK_RC(pq_rle_decode(wide, sizeof wide, 3, out, 8, NULL), MERU_ECORRUPT);
    CHECK_ERRMSG("wider than bit width");
    /* Bit-packed run of 2 groups at width 8 with only 9 of 16 bytes. */
    uint8_t bp[1 + 9] = {0x05};
    CHECK_RC(pq_rle_decode(bp, sizeof bp, 8, out, 16, NULL), MERU_ECORRUPT);
    /* Input ends before n values. */
    const uint8_t shortrun[] = {0x04, 0x01}; /* 2 copies of 1 */
    CHECK_RC(pq_rle_decode(shortrun, sizeof shortrun, 1, out, 3, NULL),
             MERU_ECORRUPT);
    /* Overlong header varint. */
    const uint8_t badvar[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK_RC(pq_rle_decode(badvar, sizeof badvar, 1, out, 3, NULL),
             MERU_ECORRUPT);
    /* Bit width out of range is the caller's mistake. */
    CHECK_RC(pq_rle_decode(shortrun, sizeof shortrun, 33, out, 1, NULL),
             MERU_EINVAL);
    CHECK_RC(pq_rle_encode(&(meru_buf){0}, out, 0, -1), MERU_EINVAL);
    /* Encoder refuses values wider than the width. */
    uint32_t big = 8;
    meru_buf b = {0};
    CHECK_RC(pq_rle_encode(&b, &big, 1, 3), MERU_EINVAL);
    CHECK_EQ_INT(b.len, 0);
    meru_buf_free(&b);
    /* n == 0 reads nothing. */
    size_t used = 7;
    CHECK_OK(pq_rle_decode(NULL, 0, 5, out, 0, &used));
    CHECK_EQ_INT(used, 0);
}

static void test_rle_garbage_never_crashes(void)
{
    uint8_t in[64];
    uint32_t out[512];
    for (size_t it = 0; it < iters(20000); it++) {
        size_t len = rnd() % sizeof in;
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)rnd();
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, in, len);
        int w = (int)(rnd() % 33);
        size_t n = rnd() % 512;
        int rc = pq_rle_decode(copy, len, w, out, n, NULL);
        CHECK(rc == MERU_OK || rc == MERU_ECORRUPT);
        if (rc == MERU_OK && w < 32) {
            for (size_t i = 0; i < n; i++)
                CHECK(out[i] >> w == 0);
        }
        free(copy);
    }
}

/* -------------------------------------------------------------- PLAIN */

static void test_plain_bool_known_bytes_and_roundtrip(void)
{
    const uint8_t v[10] = {1, 0, 1, 1, 0, 0, 0, 0, 1, 1};
    meru_buf b = {0};
    CHECK_OK(pq_plain_encode_bool(&b, v, 10));
    CHECK_EQ_INT(b.len, 2);
    CHECK_EQ_INT(b.data[0], 0x0D);
    CHECK_EQ_INT(b.data[1], 0x03);
    uint8_t out[1000], in[1000];
    size_t used;
    CHECK_OK(pq_plain_decode_bool(b.data, b.len, out, 10, &used));
    CHECK_MEM(out, v, 10);
    CHECK_EQ_INT(used, 2);
    for (size_t s = 0; s < NSIZES; s++) {
        size_t n = SIZES[s];
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)(rnd() & 1);
        meru_buf_reset(&b);
        CHECK_OK(pq_plain_encode_bool(&b, in, n));
        CHECK_EQ_INT(b.len, (n + 7) / 8);
        CHECK_OK(pq_plain_decode_bool(b.data, b.len, out, n, &used));
        CHECK(n == 0 || memcmp(in, out, n) == 0);
        CHECK_EQ_INT(used, b.len);
        if (n)
            CHECK_RC(pq_plain_decode_bool(b.data, b.len - 1, out, n, NULL),
                     MERU_ECORRUPT);
    }
    /* Any nonzero byte encodes as true. */
    const uint8_t nz[9] = {0, 2, 0x80, 0xff, 0, 0, 0x7f, 0, 3};
    meru_buf_reset(&b);
    CHECK_OK(pq_plain_encode_bool(&b, nz, 9));
    CHECK_EQ_INT(b.data[0], 0x4E);
    CHECK_EQ_INT(b.data[1], 0x01);
    /* Every byte value decodes bit by bit. */
    for (int x = 0; x < 256; x++) {
        uint8_t byte = (uint8_t)x;
        CHECK_OK(pq_plain_decode_bool(&byte, 1, out, 8, NULL));
        for (int j = 0; j < 8; j++)
            CHECK_EQ_INT(out[j], (x >> j) & 1);
    }
    meru_buf_free(&b);
}

static void test_plain_fixed_copies_little_endian_values(void)
{
    const uint8_t in[] = {0x01, 0x00, 0x00, 0x00, 0xff, 0xff,
                          0xff, 0x7f, 0x00, 0x00, 0x00, 0x80};
    int32_t out[3];
    size_t used;
    CHECK_OK(pq_plain_decode_fixed(in, sizeof in, 4, out, 3, &used));
    CHECK_EQ_INT(out[0], 1);
    CHECK_EQ_INT(out[1], INT32_MAX);
    CHECK_EQ_INT(out[2], INT32_MIN);
    CHECK_EQ_INT(used, 12);
    /* INT96 is 12 raw bytes. */
    uint8_t i96[12];
    CHECK_OK(pq_plain_decode_fixed(in, sizeof in, 12, i96, 1, &used));
    CHECK_MEM(i96, in, 12);
    CHECK_RC(pq_plain_decode_fixed(in, 11, 4, out, 3, NULL), MERU_ECORRUPT);
    CHECK_RC(pq_plain_decode_fixed(in, sizeof in, SIZE_MAX / 2, out, 3, NULL),
             MERU_ECORRUPT);
    /* FLBA views. */
    pq_bytes fl[4];
    CHECK_OK(pq_plain_decode_flba(in, sizeof in, 3, fl, 4, &used));
    CHECK_EQ_INT(used, 12);
    CHECK(fl[3].ptr == in + 9 && fl[3].len == 3);
    CHECK_RC(pq_plain_decode_flba(in, sizeof in, 5, fl, 3, NULL),
             MERU_ECORRUPT);
}

static void test_plain_bytes_roundtrip_and_truncation(void)
{
    pq_bytes v[50], out[50];
    uint8_t pool[2000];
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (uint8_t)rnd();
    for (size_t i = 0; i < 50; i++) {
        v[i].len = (uint32_t)(i % 7 == 0 ? 0 : rnd() % 30);
        v[i].ptr = pool + rnd() % 1900;
    }
    meru_buf b = {0};
    CHECK_OK(pq_plain_encode_bytes(&b, v, 50));
    size_t used;
    CHECK_OK(pq_plain_decode_bytes(b.data, b.len, out, 50, &used));
    CHECK_EQ_INT(used, b.len);
    for (size_t i = 0; i < 50; i++) {
        CHECK_EQ_INT(out[i].len, v[i].len);
        CHECK(v[i].len == 0 || memcmp(out[i].ptr, v[i].ptr, v[i].len) == 0);
        CHECK(out[i].ptr >= b.data && out[i].ptr <= b.data + b.len);
    }
    for (size_t cut = 0; cut < b.len; cut++)
        CHECK_RC(pq_plain_decode_bytes(b.data, cut, out, 50, NULL),
                 MERU_ECORRUPT);
    /* A length past the end. */
    const uint8_t bad[] = {0xff, 0xff, 0xff, 0xff, 'a'};
    CHECK_RC(pq_plain_decode_bytes(bad, sizeof bad, out, 1, NULL),
             MERU_ECORRUPT);
    CHECK_ERRMSG("PLAIN BYTE_ARRAY");
    meru_buf_free(&b);
}

/* ---------------------------------------------------- BYTE_STREAM_SPLIT */

static void test_bss_spec_example_and_roundtrips(void)
{
    const uint8_t v[12] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11,
                           0x22, 0x33, 0xA3, 0xB4, 0xC5, 0xD6};
    const uint8_t want[12] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4,
                              0xCC, 0x22, 0xC5, 0xDD, 0x33, 0xD6};
    meru_buf b = {0};
    CHECK_OK(pq_bss_encode(&b, v, 3, 4));
    CHECK_EQ_INT(b.len, 12);
    CHECK_MEM(b.data, want, 12);
    uint8_t out[12];
    CHECK_OK(pq_bss_decode(want, 12, 4, out, 3));
    CHECK_MEM(out, v, 12);

    static const size_t widths[] = {1, 2, 3, 4, 8, 12, 16, 24, 32};
    uint8_t *in = malloc(1000 * 32), *o = malloc(1000 * 32);
    for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
        size_t w = widths[wi];
        for (size_t s = 0; s < NSIZES; s++) {
            size_t n = SIZES[s];
            for (size_t i = 0; i < n * w; i++)
                in[i] = (uint8_t)rnd();
            meru_buf_reset(&b);
            CHECK_OK(pq_bss_encode(&b, in, n, w));
            CHECK_EQ_INT(b.len, n * w);
            CHECK_OK(pq_bss_decode(b.data, b.len, w, o, n));
            CHECK(n == 0 || memcmp(in, o, n * w) == 0);
            /* Stream k holds byte k of every value. */
            for (size_t i = 0; i < n; i++)
                CHECK_EQ_INT(b.data[(w - 1) * n + i], in[i * w + w - 1]);
            if (n) {
                CHECK_RC(pq_bss_decode(b.data, b.len - 1, w, o, n),
                         MERU_ECORRUPT);
                CHECK_RC(pq_bss_decode(b.data, b.len, w, o, n - 1),
                         MERU_ECORRUPT);
            }
        }
    }
    CHECK_RC(pq_bss_decode(want, 12, 0, out, 3), MERU_EINVAL);
    free(in);
    free(o);
    meru_buf_free(&b);
}

/* ----------------------------------------------------------- dictionary */

static void test_dict_assigns_insertion_order_indexes(void)
{
    pq_dict *d;
    CHECK_OK(pq_dict_new(&d, PQ_BYTE_ARRAY, 0));
    const char *words[] = {"b", "a", "", "b", "ccc", "a", ""};
    const uint32_t want[] = {0, 1, 2, 0, 3, 1, 2};
    for (int i = 0; i < 7; i++) {
        uint32_t idx = 99;
        CHECK_OK(pq_dict_insert(d, words[i], (uint32_t)strlen(words[i]), &idx));
        CHECK_EQ_INT(idx, want[i]);
    }
    CHECK_EQ_INT(pq_dict_count(d), 4);
    pq_bytes distinct[4] = {S("b"), S("a"), S(""), S("ccc")};
    meru_buf page = {0}, plain = {0};
    CHECK_OK(pq_plain_encode_bytes(&plain, distinct, 4));
    CHECK_EQ_INT(pq_dict_plain_bytes(d), plain.len);
    CHECK_OK(pq_dict_write_plain(d, &page));
    CHECK_EQ_INT(page.len, plain.len);
    CHECK_MEM(page.data, plain.data, plain.len);

    pq_dict_reset(d);
    CHECK_EQ_INT(pq_dict_count(d), 0);
    CHECK_EQ_INT(pq_dict_plain_bytes(d), 0);
    uint32_t idx;
    CHECK_OK(pq_dict_insert(d, "ccc", 3, &idx));
    CHECK_EQ_INT(idx, 0);
    pq_dict_free(d);
    meru_buf_free(&page);
    meru_buf_free(&plain);
}

static void test_dict_fixed_width_types(void)
{
    pq_dict *d;
    CHECK_OK(pq_dict_new(&d, PQ_DOUBLE, 0));
    double vals[] = {0.0, -0.0, 1.5, 0.0, 1.5, DBL_MAX};
    const uint32_t want[] = {0, 1, 2, 0, 2, 3};
    for (int i = 0; i < 6; i++) {
        uint32_t idx;
        CHECK_OK(pq_dict_insert(d, &vals[i], 8, &idx));
        CHECK_EQ_INT(idx, want[i]); /* -0.0 is its own entry */
    }
    meru_buf page = {0};
    CHECK_OK(pq_dict_write_plain(d, &page));
    CHECK_EQ_INT(page.len, 32);
    CHECK_EQ_INT(pq_dict_plain_bytes(d), 32);
    double back[4];
    CHECK_OK(pq_plain_decode_fixed(page.data, page.len, 8, back, 4, NULL));
    CHECK(memcmp(&back[1], &vals[1], 8) == 0);
    CHECK(back[3] == DBL_MAX);
    uint32_t idx;
    CHECK_RC(pq_dict_insert(d, vals, 4, &idx), MERU_EINVAL);
    pq_dict_free(d);
    meru_buf_free(&page);

    CHECK_RC(pq_dict_new(&d, PQ_BOOLEAN, 0), MERU_EINVAL);
    CHECK_RC(pq_dict_new(&d, PQ_FIXED_LEN_BYTE_ARRAY, 0), MERU_EINVAL);
    CHECK_OK(pq_dict_new(&d, PQ_FIXED_LEN_BYTE_ARRAY, 3));
    CHECK_OK(pq_dict_insert(d, "abc", 3, &idx));
    CHECK_RC(pq_dict_insert(d, "abcd", 4, &idx), MERU_EINVAL);
    pq_dict_free(d);
    pq_dict_free(NULL);
}

static void test_dict_many_values_grow_and_stay_distinct(void)
{
    pq_dict *d;
    CHECK_OK(pq_dict_new(&d, PQ_INT64, 0));
    size_t n = 100000;
    for (size_t i = 0; i < n; i++) {
        int64_t v = (int64_t)(i * 2654435761u);
        uint32_t idx;
        CHECK_OK(pq_dict_insert(d, &v, 8, &idx));
        CHECK_EQ_INT(idx, i);
    }
    for (size_t i = 0; i < n; i += 7) {
        int64_t v = (int64_t)(i * 2654435761u);
        uint32_t idx;
        CHECK_OK(pq_dict_insert(d, &v, 8, &idx));
        CHECK_EQ_INT(idx, i);
    }
    CHECK_EQ_INT(pq_dict_count(d), n);
    meru_buf page = {0};
    CHECK_OK(pq_dict_write_plain(d, &page));
    CHECK_EQ_INT(page.len, n * 8);
    int64_t last;
    memcpy(&last, page.data + (n - 1) * 8, 8);
    CHECK_EQ_INT(last, (int64_t)((n - 1) * 2654435761u));
    pq_dict_free(d);
    meru_buf_free(&page);
}

static void test_dict_indices_roundtrip_and_checks(void)
{
    uint32_t idx[1000], out[1000];
    meru_buf b = {0};
    static const uint32_t counts[] = {1, 2, 3, 100, 1000, 70000};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        uint32_t dc = counts[c];
        for (size_t s = 0; s < NSIZES; s++) {
            size_t n = SIZES[s];
            for (size_t i = 0; i < n; i++)
                idx[i] = rnd() % 3 ? (uint32_t)(rnd() % dc) : dc - 1;
            meru_buf_reset(&b);
            CHECK_OK(pq_dict_indices_encode(&b, idx, n, dc));
            CHECK_EQ_INT(b.data[0], pq_bit_width(dc - 1));
            CHECK_OK(pq_dict_indices_decode(b.data, b.len, out, n, dc));
            CHECK(n == 0 || memcmp(idx, out, n * sizeof *idx) == 0);
        }
    }
    /* Index 5 of a 5-entry dictionary (width 3 allows up to 7). */
    const uint8_t bad[] = {3, 0x10, 0x05};
    CHECK_RC(pq_dict_indices_decode(bad, sizeof bad, out, 8, 5), MERU_ECORRUPT);
    CHECK_ERRMSG("not below the dictionary size 5");
    const uint8_t wide[] = {33, 0x02, 0, 0, 0, 0, 0};
    CHECK_RC(pq_dict_indices_decode(wide, sizeof wide, out, 1, 5),
             MERU_ECORRUPT);
    CHECK_ERRMSG("bit width 33");
    CHECK_RC(pq_dict_indices_decode(bad, 0, out, 1, 5), MERU_ECORRUPT);
    CHECK_RC(pq_dict_indices_decode(bad, sizeof bad, out, 1, 0), MERU_ECORRUPT);
    CHECK_OK(pq_dict_indices_decode(NULL, 0, out, 0, 5));
    /* Width 0 (a one-entry dictionary) as written by other writers. */
    const uint8_t w0[] = {0, 0x0a};
    CHECK_OK(pq_dict_indices_decode(w0, sizeof w0, out, 5, 1));
    CHECK_EQ_INT(out[4], 0);
    /* The encoder refuses an index outside the dictionary. */
    uint32_t big = 3;
    meru_buf_reset(&b);
    CHECK_RC(pq_dict_indices_encode(&b, &big, 1, 3), MERU_EINVAL);
    CHECK_EQ_INT(b.len, 0);
    meru_buf_free(&b);
}

int main(void)
{
    MERU_TEST_RUN(test_bit_width_is_bits_needed_for_max);
    MERU_TEST_RUN(test_rle_spec_bitpacking_example);
    MERU_TEST_RUN(test_rle_encoder_uses_rle_runs_for_repeats);
    MERU_TEST_RUN(test_rle_roundtrips_every_width_and_size);
    MERU_TEST_RUN(test_rle_all_equal_and_width_zero);
    MERU_TEST_RUN(test_rle_decodes_reference_streams);
    MERU_TEST_RUN(test_rle_skips_padding_values_of_last_group);
    MERU_TEST_RUN(test_rle_truncated_input_fails_or_decodes_right);
    MERU_TEST_RUN(test_rle_rejects_bad_runs);
    MERU_TEST_RUN(test_rle_garbage_never_crashes);
    MERU_TEST_RUN(test_plain_bool_known_bytes_and_roundtrip);
    MERU_TEST_RUN(test_plain_fixed_copies_little_endian_values);
    MERU_TEST_RUN(test_plain_bytes_roundtrip_and_truncation);
    MERU_TEST_RUN(test_bss_spec_example_and_roundtrips);
    MERU_TEST_RUN(test_dict_assigns_insertion_order_indexes);
    MERU_TEST_RUN(test_dict_fixed_width_types);
    MERU_TEST_RUN(test_dict_many_values_grow_and_stay_distinct);
    MERU_TEST_RUN(test_dict_indices_roundtrip_and_checks);
    return meru_test_finish();
}
