/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_codec.c — page compression codecs (src/parquet/codec.c).
 *
 * Round trips for every codec at several sizes, exact-size enforcement in
 * both directions (ASan catches any write past dst_len: destinations are
 * malloc'd to the exact size), garbage and truncated input, the LZ4
 * fallbacks (raw block, LZ4 frame), concatenated gzip members, zlib input,
 * and pages cut out of parquet-testing files written by other
 * implementations (offsets found by walking their page headers by hand;
 * the files are pinned by SOURCE_COMMIT).
 *
 * MERU_TEST_CONCURRENT: runs threads (make test-tsan).
 */
#include <lz4.h>
#include <lz4frame.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "parquet/codec.h"
#include "test.h"
#include "util/buf.h"
#include "util/endian.h"

static const pq_codec ALL[] = {
    PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP,   PQ_CODEC_BROTLI,
    PQ_CODEC_LZ4,          PQ_CODEC_ZSTD,   PQ_CODEC_LZ4_RAW};
#define NALL (sizeof ALL / sizeof ALL[0])

static uint64_t rnd(void)
{
    return meru_test_rand();
}

static void fill(uint8_t *p, size_t n, bool compressible)
{
    for (size_t i = 0; i < n; i++)
        p[i] = compressible ? (uint8_t)("parquet pages "[i % 14] ^
                                        (i % 1000 == 0 ? (uint8_t)rnd() : 0))
                            : (uint8_t)rnd();
}

/* Decompresses into an exact-size heap buffer. */
static int decompress_to(pq_codec c, const uint8_t *src, size_t n,
                         size_t dst_len, uint8_t **out)
{
    *out = malloc(dst_len ? dst_len : 1);
    return pq_decompress(c, src, n, dst_len ? *out : NULL, dst_len);
}

static void test_codecs_roundtrip_at_several_sizes(void)
{
    static const size_t sizes[] = {0, 1, 2, 100, 65536, 1 << 20};
    uint8_t *src = malloc(1 << 20);
    meru_buf b = {0};
    for (size_t ci = 0; ci < NALL; ci++) {
        pq_codec c = ALL[ci];
        CHECK(pq_codec_supported(c, false) && pq_codec_supported(c, true));
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            for (int comp = 0; comp < 2; comp++) {
                size_t n = sizes[si];
                if (n == (1 << 20) && meru_test_scale() < 1 &&
                    c == PQ_CODEC_BROTLI)
                    n = 200000; /* brotli is slow under sanitizers */
                fill(src, n, comp);
                meru_buf_reset(&b);
                CHECK_OK(pq_compress(c, 0, src, n, &b));
                if (comp && n >= 65536 && c != PQ_CODEC_UNCOMPRESSED)
                    CHECK_MSG(b.len < n / 4, "%d: %zu -> %zu", (int)c, n,
                              b.len);
                uint8_t *dst;
                CHECK_OK(decompress_to(c, b.data, b.len, n, &dst));
                CHECK(n == 0 || memcmp(dst, src, n) == 0);
                free(dst);
                /* One byte short and one byte long both fail. */
                if (n > 0) {
                    CHECK_RC(decompress_to(c, b.data, b.len, n - 1, &dst),
                             MERU_ECORRUPT);
                    free(dst);
                }
                CHECK_RC(decompress_to(c, b.data, b.len, n + 1, &dst),
                         MERU_ECORRUPT);
                free(dst);
            }
        }
    }
    meru_buf_free(&b);
    free(src);
}

static void test_codec_levels_change_output_and_are_checked(void)
{
    uint8_t *src = malloc(200000);
    fill(src, 200000, true);
    meru_buf a = {0}, b = {0};
    CHECK_OK(pq_compress(PQ_CODEC_ZSTD, 1, src, 200000, &a));
    CHECK_OK(pq_compress(PQ_CODEC_ZSTD, 19, src, 200000, &b));
    CHECK(a.len != b.len || memcmp(a.data, b.data, a.len) != 0);
    meru_buf_reset(&a);
    meru_buf_reset(&b);
    CHECK_OK(pq_compress(PQ_CODEC_GZIP, 1, src, 200000, &a));
    CHECK_OK(pq_compress(PQ_CODEC_GZIP, 9, src, 200000, &b));
    CHECK(a.len != b.len || memcmp(a.data, b.data, a.len) != 0);
    /* gzip framing on write. */
    CHECK_EQ_INT(a.data[0], 0x1f);
    CHECK_EQ_INT(a.data[1], 0x8b);
    CHECK_RC(pq_compress(PQ_CODEC_GZIP, 10, src, 10, &a), MERU_EINVAL);
    CHECK_RC(pq_compress(PQ_CODEC_BROTLI, 12, src, 10, &a), MERU_EINVAL);
    meru_buf_free(&a);
    meru_buf_free(&b);
    free(src);
}

static void test_codec_garbage_and_truncation_fail_cleanly(void)
{
    uint8_t *src = malloc(5000), *dst = malloc(5000);
    meru_buf b = {0};
    fill(src, 5000, true);
    for (size_t ci = 1; ci < NALL; ci++) {
        pq_codec c = ALL[ci];
        meru_buf_reset(&b);
        CHECK_OK(pq_compress(c, 0, src, 5000, &b));
        /* Every truncation fails (checked at a spread of cut points). */
        for (size_t cut = 0; cut < b.len; cut += 1 + cut / 8) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, b.data, cut);
            int rc = pq_decompress(c, copy, cut, dst, 5000);
            CHECK_MSG(rc == MERU_ECORRUPT, "codec %d cut %zu rc %d", (int)c,
                      cut, rc);
            free(copy);
        }
        /* Random bytes and flipped bytes never crash. */
        for (int it = 0; it < 300; it++) {
            size_t n = rnd() % 300 + 1, want = rnd() % 6000;
            uint8_t *g = malloc(n), *o = malloc(want ? want : 1);
            for (size_t i = 0; i < n; i++)
                g[i] = (uint8_t)rnd();
            int rc = pq_decompress(c, g, n, o, want);
            CHECK(rc == MERU_OK || rc == MERU_ECORRUPT);
            free(g);
            free(o);
        }
        for (int it = 0; it < 100; it++) {
            uint8_t *copy = malloc(b.len);
            memcpy(copy, b.data, b.len);
            copy[rnd() % b.len] ^= (uint8_t)(1u << (rnd() % 8));
            int rc = pq_decompress(c, copy, b.len, dst, 5000);
            CHECK(rc == MERU_OK || rc == MERU_ECORRUPT);
            free(copy);
        }
    }
    CHECK_RC(pq_decompress(PQ_CODEC_SNAPPY, src, 0, dst, 10), MERU_ECORRUPT);
    CHECK_ERRMSG("empty input");
    meru_buf_free(&b);
    free(src);
    free(dst);
}

static void test_lzo_and_unknown_codecs_are_unsupported(void)
{
    uint8_t x[4] = {0}, o[4];
    meru_buf b = {0};
    CHECK(!pq_codec_supported(PQ_CODEC_LZO, false));
    CHECK(!pq_codec_supported((pq_codec)99, false));
    CHECK_RC(pq_decompress(PQ_CODEC_LZO, x, 4, o, 4), MERU_ENOTSUP);
    CHECK_ERRMSG("LZO compression is not supported");
    CHECK_RC(pq_compress(PQ_CODEC_LZO, 0, x, 4, &b), MERU_ENOTSUP);
    CHECK_RC(pq_decompress((pq_codec)99, x, 4, o, 4), MERU_ENOTSUP);
    CHECK_ERRMSG("99");
    CHECK_RC(pq_compress((pq_codec)42, 0, x, 4, &b), MERU_ENOTSUP);
    CHECK_ERRMSG("42");
    CHECK_EQ_INT(b.len, 0);
    meru_buf_free(&b);
}

static void test_gzip_reads_concatenated_members_and_zlib(void)
{
    uint8_t *src = malloc(30000), *dst = malloc(30000);
    fill(src, 30000, true);
    meru_buf b = {0};
    CHECK_OK(pq_compress(PQ_CODEC_GZIP, 0, src, 10000, &b));
    CHECK_OK(pq_compress(PQ_CODEC_GZIP, 0, src + 10000, 1, &b));
    CHECK_OK(pq_compress(PQ_CODEC_GZIP, 0, src + 10001, 19999, &b));
    CHECK_OK(pq_decompress(PQ_CODEC_GZIP, b.data, b.len, dst, 30000));
    CHECK_MEM(dst, src, 30000);
    CHECK_RC(pq_decompress(PQ_CODEC_GZIP, b.data, b.len, dst, 29999),
             MERU_ECORRUPT);
    /* Trailing junk after the last member is corrupt. */
    meru_buf_append(&b, "junk", 4);
    CHECK_RC(pq_decompress(PQ_CODEC_GZIP, b.data, b.len, dst, 30000),
             MERU_ECORRUPT);
    /* zlib framing (as some writers produce) reads too. */
    uLongf zl = compressBound(30000);
    uint8_t *z = malloc(zl);
    CHECK(compress2(z, &zl, src, 30000, 6) == Z_OK);
    CHECK_OK(pq_decompress(PQ_CODEC_GZIP, z, zl, dst, 30000));
    CHECK_MEM(dst, src, 30000);
    free(z);
    meru_buf_free(&b);
    free(src);
    free(dst);
}

static void test_lz4_reads_raw_blocks_frames_and_hadoop_chunks(void)
{
    uint8_t *src = malloc(100000), *dst = malloc(100000);
    fill(src, 100000, true);
    /* A raw block (older parquet-cpp). */
    int bound = LZ4_compressBound(100000);
    uint8_t *raw = malloc((size_t)bound);
    int rn =
        LZ4_compress_default((const char *)src, (char *)raw, 100000, bound);
    CHECK(rn > 0);
    CHECK_OK(pq_decompress(PQ_CODEC_LZ4, raw, (size_t)rn, dst, 100000));
    CHECK_MEM(dst, src, 100000);
    CHECK_RC(pq_decompress(PQ_CODEC_LZ4, raw, (size_t)rn, dst, 99999),
             MERU_ECORRUPT);
    /* An LZ4 frame. */
    size_t fb = LZ4F_compressFrameBound(100000, NULL);
    uint8_t *fr = malloc(fb);
    size_t fn = LZ4F_compressFrame(fr, fb, src, 100000, NULL);
    CHECK(!LZ4F_isError(fn));
    CHECK_OK(pq_decompress(PQ_CODEC_LZ4, fr, fn, dst, 100000));
    CHECK_MEM(dst, src, 100000);
    CHECK_RC(pq_decompress(PQ_CODEC_LZ4, fr, fn, dst, 99999), MERU_ECORRUPT);
    CHECK_RC(pq_decompress(PQ_CODEC_LZ4, fr, fn - 1, dst, 100000),
             MERU_ECORRUPT);
    /* Hadoop framing with several chunks, as Hadoop's codec writes. */
    meru_buf h = {0};
    for (size_t off = 0; off < 100000; off += 30000) {
        size_t k = 100000 - off < 30000 ? 100000 - off : 30000;
        uint8_t hdr[8];
        int cn = LZ4_compress_default((const char *)src + off, (char *)raw,
                                      (int)k, bound);
        meru_store_be32(hdr, (uint32_t)k);
        meru_store_be32(hdr + 4, (uint32_t)cn);
        meru_buf_append(&h, hdr, 8);
        meru_buf_append(&h, raw, (size_t)cn);
    }
    CHECK_OK(pq_decompress(PQ_CODEC_LZ4, h.data, h.len, dst, 100000));
    CHECK_MEM(dst, src, 100000);
    CHECK_RC(pq_decompress(PQ_CODEC_LZ4, h.data, h.len, dst, 99999),
             MERU_ECORRUPT);
    /* Our writer's Hadoop header: uncompressed then compressed size. */
    meru_buf w = {0};
    CHECK_OK(pq_compress(PQ_CODEC_LZ4, 0, src, 1000, &w));
    CHECK_EQ_INT(meru_load_be32(w.data), 1000);
    CHECK_EQ_INT(meru_load_be32(w.data + 4), w.len - 8);
    meru_buf_free(&w);
    meru_buf_free(&h);
    free(fr);
    free(raw);
    free(src);
    free(dst);
}

static void test_zstd_reads_several_frames(void)
{
    uint8_t src[5000], dst[5000];
    fill(src, sizeof src, true);
    meru_buf b = {0};
    CHECK_OK(pq_compress(PQ_CODEC_ZSTD, 0, src, 2000, &b));
    CHECK_OK(pq_compress(PQ_CODEC_ZSTD, 0, src + 2000, 3000, &b));
    CHECK_OK(pq_decompress(PQ_CODEC_ZSTD, b.data, b.len, dst, 5000));
    CHECK_MEM(dst, src, 5000);
    meru_buf_free(&b);
}

static void *zstd_worker(void *arg)
{
    uint8_t src[20000], dst[20000];
    meru_buf b = {0};
    int *ok = arg;
    *ok = 1;
    for (int i = 0; i < 50; i++) {
        for (size_t k = 0; k < sizeof src; k++)
            src[k] = (uint8_t)((k * (size_t)(i + 1)) % 251);
        meru_buf_reset(&b);
        if (pq_compress(PQ_CODEC_ZSTD, 3, src, sizeof src, &b) ||
            pq_decompress(PQ_CODEC_ZSTD, b.data, b.len, dst, sizeof dst) ||
            memcmp(src, dst, sizeof src) != 0)
            *ok = 0;
    }
    meru_buf_free(&b);
    return NULL;
}

static void test_zstd_per_thread_contexts_work_concurrently(void)
{
    pthread_t t[4];
    int ok[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, zstd_worker, &ok[i]) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++)
        CHECK(ok[i]);
}

/* ---------------------------------------------- pages from real files */

static void test_real_hadoop_and_raw_lz4_pages(void)
{
    size_t len;
    uint8_t *f = meru_test_read_corpus("hadoop_lz4_compressed.parquet", &len);
    CHECK_MSG(f, "parquet-testing missing under %s", MERU_SHARED_DIR);
    /* Dictionary page: 26 bytes at 17 -> two INT64 timestamps. */
    const uint8_t want[16] = {0xc0, 0x7a, 0xfc, 0x5e, 0, 0, 0, 0,
                              0xc1, 0x7a, 0xfc, 0x5e, 0, 0, 0, 0};
    uint8_t out[16];
    CHECK(len > 43);
    CHECK_OK(pq_decompress(PQ_CODEC_LZ4, f + 17, 26, out, 16));
    CHECK_MEM(out, want, 16);
    free(f);

    f = meru_test_read_corpus("non_hadoop_lz4_compressed.parquet", &len);
    CHECK(f && len > 36);
    CHECK_OK(pq_decompress(PQ_CODEC_LZ4, f + 18, 18, out, 16));
    CHECK_MEM(out, want, 16);
    free(f);

    /* A 400000-byte page in several Hadoop chunks. */
    f = meru_test_read_corpus("hadoop_lz4_compressed_larger.parquet", &len);
    CHECK(f && len > 33 + 358322);
    uint8_t *big = malloc(400000);
    CHECK_OK(pq_decompress(PQ_CODEC_LZ4, f + 33, 358322, big, 400000));
    CHECK_RC(pq_decompress(PQ_CODEC_LZ4, f + 33, 358322, big, 399999),
             MERU_ECORRUPT);
    free(big);
    free(f);
}

static void test_real_concatenated_gzip_members_page(void)
{
    size_t len;
    uint8_t *f = meru_test_read_corpus("concatenated_gzip_members.parquet", &len);
    CHECK_MSG(f, "parquet-testing missing under %s", MERU_SHARED_DIR);
    /* v2 page at 52: 3 bytes of levels, then 1416 bytes of two gzip
     * members holding 513 little-endian UINT64 values 1..513. */
    CHECK(len > 52 + 1419);
    uint8_t *out = malloc(4104);
    CHECK_OK(pq_decompress(PQ_CODEC_GZIP, f + 55, 1416, out, 4104));
    for (uint64_t i = 0; i < 513; i++)
        CHECK_EQ_U64(meru_load_le64(out + 8 * i), i + 1);
    free(out);
    free(f);
}

int main(void)
{
    MERU_TEST_RUN(test_codecs_roundtrip_at_several_sizes);
    MERU_TEST_RUN(test_codec_levels_change_output_and_are_checked);
    MERU_TEST_RUN(test_codec_garbage_and_truncation_fail_cleanly);
    MERU_TEST_RUN(test_lzo_and_unknown_codecs_are_unsupported);
    MERU_TEST_RUN(test_gzip_reads_concatenated_members_and_zlib);
    MERU_TEST_RUN(test_lz4_reads_raw_blocks_frames_and_hadoop_chunks);
    MERU_TEST_RUN(test_zstd_reads_several_frames);
    MERU_TEST_RUN(test_zstd_per_thread_contexts_work_concurrently);
    MERU_TEST_RUN(test_real_hadoop_and_raw_lz4_pages);
    MERU_TEST_RUN(test_real_concatenated_gzip_members_page);
    return meru_test_finish();
}
