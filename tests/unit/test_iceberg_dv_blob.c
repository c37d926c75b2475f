/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_iceberg_dv_blob.c — the deletion-vector-v1 blob (dv.h, dv_codec.c):
 * bytes checked against layouts built here by hand from the Puffin spec
 * and the Roaring format spec (array and run containers, two buckets),
 * round trips of random sets (arrays, bitsets, runs, several buckets),
 * hostile blobs (every truncation, bit flips, bad CRC, magic and length,
 * unsorted or out-of-range keys, invalid containers with a correct CRC),
 * and blobs in a Puffin file read back by path, offset and length with the
 * referenced file and cardinality checked.
 */
#include <stdlib.h>
#include <zlib.h>

#include "ice_test.h"
#include "iceberg/dv.h"
#include "iceberg/puffin.h"
#include "test.h"
#include "util/buf.h"
#include "util/endian.h"

/* Frames a vector (bucket count + buckets) as a blob, with a right CRC. */
static void frame(meru_buf *out, const uint8_t *vec, size_t n)
{
    uint8_t h[8], t[4];
    meru_buf_reset(out);
    meru_store_be32(h, (uint32_t)(n + 4));
    memcpy(h + 4, "\xD1\xD3\x39\x64", 4);
    meru_buf_append(out, h, 8);
    meru_buf_append(out, vec, n);
    meru_store_be32(t, (uint32_t)crc32(0, out->data + 4, (uInt)(n + 4)));
    meru_buf_append(out, t, 4);
}

static meru_dv *make(const uint64_t *pos, size_t n)
{
    meru_dv *dv = NULL;
    if (meru_dv_new(&dv))
        return NULL;
    for (size_t i = 0; i < n; i++)
        meru_dv_add(dv, pos[i]);
    return dv;
}

static void test_dv_blob_bytes_match_a_hand_built_layout(void)
{
    /* {1, 2, 5}: one bucket (key 0), an array container. */
    static const uint8_t vec[] = {
        1,    0,    0, 0, 0, 0, 0, 0, /* 1 bitmap (8 bytes LE) */
        0,    0,    0, 0,             /* its key 0 (4 bytes LE) */
        0x3a, 0x30, 0, 0,             /* cookie 12346: no run containers */
        1,    0,    0, 0,             /* 1 container */
        0,    0,    2, 0,             /* key 0, cardinality - 1 = 2 */
        16,   0,    0, 0,             /* offset of the container */
        1,    0,    2, 0, 5, 0,       /* the values */
    };
    uint64_t pos[] = {5, 1, 2};
    meru_buf want = {0}, got = {0};
    meru_dv *dv = make(pos, 3), *back = NULL;
    frame(&want, vec, sizeof vec);
    CHECK_MEM(want.data, "\x00\x00\x00\x26\xD1\xD3\x39\x64", 8); /* 38 */
    CHECK_OK(meru_dv_blob_encode(&got, dv));
    CHECK_EQ_U64(got.len, want.len);
    CHECK_MEM(got.data, want.data, want.len);
    CHECK_OK(meru_dv_blob_decode(&back, got.data, got.len, 3));
    CHECK(meru_dv_equal(dv, back));
    meru_dv_free(back);
    meru_dv_free(dv);

    /* 0..99: one run container (cookie 12347, one run flag, no offsets) */
    static const uint8_t run[] = {
        1,    0,    0,  0, 0,  0, 0, 0, 0, 0, 0, 0, /* 1 bitmap, key 0 */
        0x3b, 0x30, 0,  0,                          /* 12347 | (1 - 1) << 16 */
        0x01,                                       /* container 0 is a run */
        0,    0,    99, 0,                          /* key 0, cardinality 100 */
        1,    0,    0,  0, 99, 0, /* 1 run: start 0, length 99 */
    };
    CHECK_OK(meru_dv_new(&dv));
    CHECK_OK(meru_dv_add_range(dv, 0, 100));
    frame(&want, run, sizeof run);
    meru_buf_reset(&got);
    CHECK_OK(meru_dv_blob_encode(&got, dv));
    CHECK_EQ_U64(got.len, want.len);
    CHECK_MEM(got.data, want.data, want.len);
    meru_dv_free(dv);

    /* {7, 2^32 + 3}: two buckets, keys 0 and 1 */
    static const uint8_t two[] = {
        2,    0,    0, 0, 0, 0, 0, 0, /* 2 */
        0,    0,    0, 0,             /* key 0 */
        0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 7, 0,
        1,    0,    0, 0, /* key 1 */
        0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 3, 0,
    };
    uint64_t p2[] = {(1ull << 32) + 3, 7};
    dv = make(p2, 2);
    frame(&want, two, sizeof two);
    meru_buf_reset(&got);
    CHECK_OK(meru_dv_blob_encode(&got, dv));
    CHECK_EQ_U64(got.len, want.len);
    CHECK_MEM(got.data, want.data, want.len);
    meru_dv_free(dv);

    /* the empty set: no buckets */
    static const uint8_t none[8] = {0};
    CHECK_OK(meru_dv_new(&dv));
    frame(&want, none, 8);
    meru_buf_reset(&got);
    CHECK_OK(meru_dv_blob_encode(&got, dv));
    CHECK_EQ_U64(got.len, 20);
    CHECK_MEM(got.data, want.data, want.len);
    meru_dv_free(dv);
    meru_buf_free(&want);
    meru_buf_free(&got);
}

static void test_dv_blob_random_round_trips(void)
{
    for (int round = 0; round < 40; round++) {
        meru_dv *dv = NULL, *back = NULL;
        meru_buf b = {0};
        CHECK_OK(meru_dv_new(&dv));
        int kind = round % 4;
        uint64_t base = (round % 5 == 4) ? (uint64_t)(round % 3) << 32 : 0;
        for (int i = 0; i < 3000; i++) {
            uint64_t r = meru_test_rand();
            switch (kind) {
            case 0: /* sparse: array containers in many chunks */
                CHECK_OK(meru_dv_add(dv, base + r % 10000000));
                break;
            case 1: /* dense in one chunk: a bitset */
                CHECK_OK(meru_dv_add(dv, base + (r % 65536) * 1));
                CHECK_OK(meru_dv_add(dv, base + 70000 + r % 60000));
                break;
            case 2: /* runs */
                if (i % 100 == 0)
                    CHECK_OK(meru_dv_add_range(dv, base + r % 5000000,
                                               base + r % 5000000 + r % 900));
                break;
            default: /* several buckets */
                CHECK_OK(meru_dv_add(dv, ((r >> 40) % 4) << 32 | (r % 1000)));
                break;
            }
        }
        uint64_t card = meru_dv_cardinality(dv);
        CHECK_OK(meru_dv_blob_encode(&b, dv));
        CHECK_OK(meru_dv_blob_decode(&back, b.data, b.len, card));
        CHECK_MSG(meru_dv_equal(dv, back), "round %d differs", round);
        CHECK_EQ_U64(meru_dv_cardinality(back), card);
        meru_dv_free(back);
        CHECK_RC(meru_dv_blob_decode(&back, b.data, b.len, card + 1),
                 MERU_ECORRUPT);
        CHECK_OK(meru_dv_blob_decode(&back, b.data, b.len, UINT64_MAX));
        meru_dv_free(back);
        meru_dv_free(dv);
        meru_buf_free(&b);
    }
}

static void test_dv_blob_refuses_positions_at_2_63(void)
{
    meru_dv *dv = NULL;
    meru_buf b = {0};
    CHECK_OK(meru_dv_new(&dv));
    CHECK_OK(meru_dv_add(dv, 1ull << 63));
    CHECK_RC(meru_dv_blob_encode(&b, dv), MERU_EINVAL);
    CHECK_EQ_U64(b.len, 0);
    meru_dv_free(dv);
}

static int decode_any(const uint8_t *p, size_t n)
{
    meru_dv *dv = NULL;
    int rc = meru_dv_blob_decode(&dv, p, n, UINT64_MAX);
    meru_dv_free(dv);
    return rc;
}

static void test_dv_blob_truncations_flips_and_frame_damage(void)
{
    meru_dv *dv = NULL;
    meru_buf b = {0};
    size_t flips_ok;
    CHECK_OK(meru_dv_new(&dv));
    CHECK_OK(meru_dv_add_range(dv, 10, 5000)); /* run */
    for (int i = 0; i < 5000; i++)
        CHECK_OK(meru_dv_add(dv, 70000 + 2 * (uint64_t)i)); /* bitset */
    CHECK_OK(meru_dv_add(dv, 200000));                      /* array */
    CHECK_OK(meru_dv_add(dv, (5ull << 32) + 1));            /* bucket 2 */
    CHECK_OK(meru_dv_blob_encode(&b, dv));
    size_t wrong =
        ice_corruption_sweep(b.data, b.len, decode_any, 3000, &flips_ok);
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_U64(flips_ok, 0); /* the CRC catches every single-bit flip */
    uint8_t *p = malloc(b.len);
    memcpy(p, b.data, b.len);
    p[b.len - 1] ^= 0x80;
    CHECK_RC(decode_any(p, b.len), MERU_ECORRUPT);
    CHECK_ERRMSG("CRC-32");
    memcpy(p, b.data, b.len);
    p[5] = 0;
    CHECK_RC(decode_any(p, b.len), MERU_ECORRUPT);
    CHECK_ERRMSG("magic");
    memcpy(p, b.data, b.len);
    p[3] ^= 1;
    CHECK_RC(decode_any(p, b.len), MERU_ECORRUPT);
    CHECK_ERRMSG("length");
    free(p);
    meru_dv_free(dv);
    meru_buf_free(&b);
}

/* A vector of one bucket (key `key`) holding `bm`, then optionally a
 * second copy under key2 (UINT32_MAX: none). */
static void one_bucket(meru_buf *vec, uint32_t key, const uint8_t *bm, size_t n,
                       uint32_t key2)
{
    uint8_t h[8];
    meru_buf_reset(vec);
    meru_store_le64(h, key2 == UINT32_MAX ? 1 : 2);
    meru_buf_append(vec, h, 8);
    meru_store_le32(h, key);
    meru_buf_append(vec, h, 4);
    meru_buf_append(vec, bm, n);
    if (key2 != UINT32_MAX) {
        meru_store_le32(h, key2);
        meru_buf_append(vec, h, 4);
        meru_buf_append(vec, bm, n);
    }
}

static void expect_corrupt(const uint8_t *bm, size_t n, uint32_t key,
                           uint32_t key2, const char *needle, int line)
{
    meru_buf vec = {0}, blob = {0};
    one_bucket(&vec, key, bm, n, key2);
    frame(&blob, vec.data, vec.len);
    int rc = decode_any(blob.data, blob.len);
    CHECK_MSG(rc == MERU_ECORRUPT, "line %d: rc %d", line, rc);
    CHECK_MSG(strstr(meru_errmsg(), needle), "line %d: message \"%s\"", line,
              meru_errmsg());
    meru_buf_free(&vec);
    meru_buf_free(&blob);
}

#define BAD(bm, key, key2, needle)                                             \
    expect_corrupt(bm, sizeof bm, key, key2, needle, __LINE__)

static void test_dv_blob_rejects_invalid_containers_and_keys(void)
{
    /* a valid array bitmap {1, 2, 5} first, to show the harness decodes */
    static const uint8_t ok[] = {0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 2,
                                 0,    16,   0, 0, 0, 1, 0, 2, 0, 5, 0};
    meru_buf vec = {0}, blob = {0};
    one_bucket(&vec, 3, ok, sizeof ok, UINT32_MAX);
    frame(&blob, vec.data, vec.len);
    CHECK_OK(decode_any(blob.data, blob.len));
    meru_buf_free(&vec);
    meru_buf_free(&blob);

    static const uint8_t unsorted[] = {0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 2,
                                       0,    16,   0, 0, 0, 1, 0, 5, 0, 2, 0};
    BAD(unsorted, 0, UINT32_MAX, "not strictly ascending");
    static const uint8_t dup[] = {0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 2,
                                  0,    16,   0, 0, 0, 1, 0, 2, 0, 2, 0};
    BAD(dup, 0, UINT32_MAX, "not strictly ascending");
    static const uint8_t bad_offset[] = {0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 2,
                                         0,    17,   0, 0, 0, 1, 0, 2, 0, 5, 0};
    BAD(bad_offset, 0, UINT32_MAX, "offset header");
    static const uint8_t cookie[] = {0x39, 0x30, 0, 0, 0, 0, 0, 0};
    BAD(cookie, 0, UINT32_MAX, "cookie");
    /* two containers with keys 4 then 4 */
    static const uint8_t keys[] = {0x3a, 0x30, 0, 0, 2, 0, 0,  0, 4, 0,
                                   0,    0,    4, 0, 0, 0, 24, 0, 0, 0,
                                   26,   0,    0, 0, 1, 0, 1,  0};
    BAD(keys, 0, UINT32_MAX, "keys not strictly ascending");
    /* runs: overlapping ([0,10] and [5,6]), past 65535, sum mismatch */
    static const uint8_t overlap[] = {0x3b, 0x30, 0, 0,  1, 0, 0, 12, 0, 2,
                                      0,    0,    0, 10, 0, 5, 0, 1,  0};
    BAD(overlap, 0, UINT32_MAX, "overlapping");
    static const uint8_t past[] = {0x3b, 0x30, 0, 0,    1,    0, 0, 1,
                                   0,    1,    0, 0xff, 0xff, 1, 0};
    BAD(past, 0, UINT32_MAX, "past the end");
    static const uint8_t sum[] = {0x3b, 0x30, 0, 0, 1, 0, 0, 5,
                                  0,    1,    0, 0, 0, 3, 0};
    BAD(sum, 0, UINT32_MAX, "add up");
    static const uint8_t no_runs[] = {0x3b, 0x30, 0, 0, 1, 0, 0, 5, 0, 0, 0};
    BAD(no_runs, 0, UINT32_MAX, "without runs");
    /* a bitset container claiming 4097 values with 4096 bits set */
    uint8_t bits[4 + 4 + 4 + 4 + 8192];
    memset(bits, 0, sizeof bits);
    memcpy(bits,
           "\x3a\x30\x00\x00\x01\x00\x00\x00\x00\x00\x00\x10\x10\x00"
           "\x00\x00",
           16);
    memset(bits + 16, 0xff, 512); /* 4096 bits */
    BAD(bits, 0, UINT32_MAX, "popcount");
    bits[16 + 600] = 1; /* now 4097: valid */
    one_bucket(&vec, 0, bits, sizeof bits, UINT32_MAX);
    frame(&blob, vec.data, vec.len);
    CHECK_OK(decode_any(blob.data, blob.len));
    meru_buf_free(&vec);
    meru_buf_free(&blob);
    /* bucket keys: descending, equal, at 2^31 */
    BAD(ok, 3, 2, "bucket keys not strictly ascending");
    BAD(ok, 3, 3, "bucket keys not strictly ascending");
    BAD(ok, 0x80000000u, UINT32_MAX, "2^63");
    /* a bucket count larger than the data */
    static const uint8_t many[] = {0xff, 0, 0, 0, 0, 0, 0, 0};
    meru_buf_reset(&blob);
    frame(&blob, many, sizeof many);
    CHECK_RC(decode_any(blob.data, blob.len), MERU_ECORRUPT);
    meru_buf_free(&blob);
}

static void test_dv_roaring_check_matches_croaring_sizes(void)
{
    meru_dv *dv = NULL;
    meru_buf b = {0};
    size_t size;
    uint64_t card;
    CHECK_OK(meru_dv_new(&dv));
    CHECK_OK(meru_dv_add_range(dv, 0, 300000)); /* several run containers */
    for (uint64_t i = 400000; i < 500000; i += 3)
        CHECK_OK(meru_dv_add(dv, i)); /* bitsets and an array */
    CHECK_OK(meru_dv_blob_encode(&b, dv));
    /* the bitmap starts after the frame head, count and key */
    CHECK_OK(meru_dv_roaring_check(b.data + 20, b.len - 24, &size, &card));
    CHECK_EQ_U64(size, b.len - 24);
    CHECK_EQ_U64(card, meru_dv_cardinality(dv));
    meru_dv_free(dv);
    meru_buf_free(&b);
}

static void test_dv_blobs_in_a_puffin_file(void)
{
    const char *dir = meru_test_tmpdir("ice_dv_puffin");
    char path[1024];
    meru_puffin_writer *w;
    meru_dv *a = NULL, *b = NULL, *got = NULL;
    uint64_t off[2], len[2];
    snprintf(path, sizeof path, "%s/x.puffin", dir);
    CHECK_OK(meru_dv_new(&a));
    CHECK_OK(meru_dv_new(&b));
    CHECK_OK(meru_dv_add_range(a, 3, 9));
    CHECK_OK(meru_dv_add(b, 42));
    CHECK_OK(meru_puffin_writer_open(&w, meru_fs_posix(), path));
    CHECK_OK(
        meru_dv_puffin_add(w, a, "/t/data/L0/a.parquet", &off[0], &len[0]));
    CHECK_OK(
        meru_dv_puffin_add(w, b, "/t/data/L0/b.parquet", &off[1], &len[1]));
    CHECK_OK(meru_puffin_writer_finish(w, NULL, 0, NULL));
    CHECK_EQ_U64(off[0], 4);
    CHECK_EQ_U64(off[1], 4 + len[0]);

    meru_puffin_reader *r;
    CHECK_OK(meru_puffin_reader_open(&r, meru_fs_posix(), path, 0));
    const meru_puffin_blob_meta *m =
        meru_puffin_footer_blob(meru_puffin_reader_footer(r), 1);
    CHECK_STR(m->type, "deletion-vector-v1");
    CHECK(m->snapshot_id == -1 && m->sequence_number == -1);
    CHECK(m->n_fields == 1 && m->fields[0] == 2147483645);
    CHECK_STR(meru_puffin_blob_prop(m, "referenced-data-file"),
              "/t/data/L0/b.parquet");
    CHECK_STR(meru_puffin_blob_prop(m, "cardinality"), "1");
    CHECK(!m->compression_codec);
    meru_puffin_reader_close(r);

    CHECK_OK(meru_dv_read_blob(meru_fs_posix(), path, off[0], len[0],
                               "/t/data/L0/a.parquet", 6, &got));
    CHECK(meru_dv_equal(got, a));
    meru_dv_free(got);
    CHECK_OK(meru_dv_read_blob(meru_fs_posix(), path, off[1], len[1],
                               "/t/data/L0/b.parquet", 1, &got));
    CHECK(meru_dv_equal(got, b));
    meru_dv_free(got);
    /* wrong expectations: referenced file, cardinality, place */
    CHECK_RC(meru_dv_read_blob(meru_fs_posix(), path, off[1], len[1],
                               "/t/data/L0/a.parquet", 1, &got),
             MERU_ECORRUPT);
    CHECK_ERRMSG("references");
    CHECK_RC(meru_dv_read_blob(meru_fs_posix(), path, off[1], len[1],
                               "/t/data/L0/b.parquet", 2, &got),
             MERU_ECORRUPT);
    CHECK_ERRMSG("cardinality");
    CHECK_RC(meru_dv_read_blob(meru_fs_posix(), path, off[1] + 1, len[1],
                               "/t/data/L0/b.parquet", 1, &got),
             MERU_ECORRUPT);
    CHECK(got == NULL);
    meru_dv_free(a);
    meru_dv_free(b);
}

int main(void)
{
    MERU_TEST_RUN(test_dv_blob_bytes_match_a_hand_built_layout);
    MERU_TEST_RUN(test_dv_blob_random_round_trips);
    MERU_TEST_RUN(test_dv_blob_refuses_positions_at_2_63);
    MERU_TEST_RUN(test_dv_blob_truncations_flips_and_frame_damage);
    MERU_TEST_RUN(test_dv_blob_rejects_invalid_containers_and_keys);
    MERU_TEST_RUN(test_dv_roaring_check_matches_croaring_sizes);
    MERU_TEST_RUN(test_dv_blobs_in_a_puffin_file);
    return meru_test_finish();
}
