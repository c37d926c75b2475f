/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_bloom.c — split-block bloom filter (src/parquet/bloom.c).
 *
 * Checks the hash against XXH64 computed directly, bit positions against
 * the spec's definition worked by hand, no false negatives, the measured
 * false-positive rate against the target, the sizing formula, and — the
 * interoperability check — the filters parquet-mr wrote into two
 * parquet-testing files: every value of their string column must hit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "parquet/bloom.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "test.h"
#include "util/endian.h"
#include "util/varint.h"

static uint64_t rnd(void)
{
    return meru_test_rand();
}

static void test_bloom_hashes_are_xxh64_of_plain_bytes(void)
{
    const uint8_t i32[4] = {0x78, 0x56, 0x34, 0x12};
    CHECK_EQ_U64(pq_bloom_hash_i32(0x12345678), XXH64(i32, 4, 0));
    const uint8_t neg[4] = {0xff, 0xff, 0xff, 0xff};
    CHECK_EQ_U64(pq_bloom_hash_i32(-1), XXH64(neg, 4, 0));
    const uint8_t i64[8] = {1, 0, 0, 0, 0, 0, 0, 0x80};
    CHECK_EQ_U64(pq_bloom_hash_i64(INT64_MIN + 1), XXH64(i64, 8, 0));
    const uint8_t f[4] = {0x00, 0x00, 0xc0, 0x3f}; /* 1.5f */
    CHECK_EQ_U64(pq_bloom_hash_float(1.5f), XXH64(f, 4, 0));
    const uint8_t d[8] = {0, 0, 0, 0, 0, 0, 0xf8, 0x3f}; /* 1.5 */
    CHECK_EQ_U64(pq_bloom_hash_double(1.5), XXH64(d, 8, 0));
    CHECK_EQ_U64(pq_bloom_hash_bytes("hello", 5), XXH64("hello", 5, 0));
    CHECK_EQ_U64(pq_bloom_hash_bytes("", 0), XXH64("", 0, 0));
    /* XXH64("", seed 0) is a published constant. */
    CHECK_EQ_U64(pq_bloom_hash_bytes("", 0), 0xEF46DB3751D8E999ull);
}

static void test_bloom_sets_the_spec_bits(void)
{
    pq_bloom b;
    CHECK_OK(pq_bloom_init(&b, 128)); /* 4 blocks */
    /* hash 0: block 0, key 0 -> bit 0 of all eight words. */
    pq_bloom_insert(&b, 0);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_U64(meru_load_le32(b.bits + 4 * i), 1);
    for (int i = 32; i < 128; i++)
        CHECK_EQ_INT(b.bits[i], 0);
    /* Upper half 0xFFFFFFFF picks the last block ((2^32-1) * 4) >> 32 = 3;
     * key 1: word i gets bit SALT[i] >> 27. */
    static const uint32_t salt[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU,
                                     0xa2b7289dU, 0x705495c7U, 0x2df1424bU,
                                     0x9efc4947U, 0x5c6bfb31U};
    pq_bloom_insert(&b, 0xFFFFFFFF00000001ull);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_U64(meru_load_le32(b.bits + 96 + 4 * i),
                     (uint32_t)1 << (salt[i] >> 27));
    CHECK(pq_bloom_check(&b, 0));
    CHECK(pq_bloom_check(&b, 0xFFFFFFFF00000001ull));
    /* Same block, other key: some lane differs, so it is absent. */
    CHECK(!pq_bloom_check(&b, 0xFFFFFFFF00000002ull));
    pq_bloom_free(&b);
    CHECK(b.bits == NULL);
}

static void test_bloom_finds_everything_inserted_and_fpp_is_near_target(void)
{
    const double fpp = 0.01;
    size_t n = 20000;
    uint32_t bytes = pq_bloom_optimal_bytes(n, fpp, PQ_BLOOM_MAX_BYTES);
    pq_bloom b;
    CHECK_OK(pq_bloom_init(&b, bytes));
    uint64_t *keys = malloc(n * sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        keys[i] = rnd();
        pq_bloom_insert(&b, pq_bloom_hash_i64((int64_t)keys[i]));
    }
    for (size_t i = 0; i < n; i++)
        CHECK(pq_bloom_check(&b, pq_bloom_hash_i64((int64_t)keys[i])));
    /* Absent values: strings, so no probe equals an inserted key. */
    size_t fp = 0, probes = 100000;
    for (size_t i = 0; i < probes; i++) {
        char s[32];
        int l = snprintf(s, sizeof s, "absent-%zu", i);
        fp += pq_bloom_check(&b, pq_bloom_hash_bytes(s, (size_t)l));
    }
    double rate = (double)fp / (double)probes;
    /* Rounding the size up to a power of two only lowers the rate. */
    CHECK_MSG(rate <= 2 * fpp, "fpp %.4f > 2 x %.4f (%u bytes)", rate, fpp,
              bytes);
    free(keys);
    pq_bloom_free(&b);

    /* No rounding slack: a power-of-two size filled with the ndv the
     * formula says it holds at fpp. */
    uint32_t sz = 32768;
    double c = -8.0 / log(1.0 - pow(fpp, 1.0 / 8.0));
    size_t ndv = (size_t)(sz * 8.0 / c);
    CHECK_EQ_INT(pq_bloom_optimal_bytes(ndv, fpp, PQ_BLOOM_MAX_BYTES), sz);
    CHECK_OK(pq_bloom_init(&b, sz));
    for (size_t i = 0; i < ndv; i++)
        pq_bloom_insert(&b, pq_bloom_hash_i64((int64_t)i));
    for (size_t i = 0; i < ndv; i++)
        CHECK(pq_bloom_check(&b, pq_bloom_hash_i64((int64_t)i)));
    fp = 0;
    for (size_t i = 0; i < probes; i++)
        fp += pq_bloom_check(&b, pq_bloom_hash_i64((int64_t)(i + ndv)));
    rate = (double)fp / (double)probes;
    CHECK_MSG(rate <= 2 * fpp && rate >= fpp / 2,
              "fpp %.4f not within 2x of %.4f", rate, fpp);
    pq_bloom_free(&b);
}

static void test_bloom_optimal_bytes_follows_formula_and_clamps(void)
{
    /* 1M values at 1%: 9.68 bits each = 1.21 MB -> 2 MiB. */
    CHECK_EQ_INT(pq_bloom_optimal_bytes(1000000, 0.01, PQ_BLOOM_MAX_BYTES),
                 2 * 1024 * 1024);
    /* 0.5%: about 11.54 bits per value (spec); 1000 values = 1443 bytes
     * -> 2048. */
    CHECK_EQ_INT(pq_bloom_optimal_bytes(1000, 0.005, PQ_BLOOM_MAX_BYTES), 2048);
    for (uint64_t ndv = 1; ndv < 1u << 24; ndv = ndv * 3 + 1) {
        double bits = -8.0 * (double)ndv / log(1 - pow(0.02, 0.125));
        uint32_t want = 32;
        while (want < bits / 8)
            want *= 2;
        CHECK_EQ_INT(pq_bloom_optimal_bytes(ndv, 0.02, PQ_BLOOM_MAX_BYTES),
                     want);
    }
    CHECK_EQ_INT(pq_bloom_optimal_bytes(0, 0.01, 1 << 20), 32);
    CHECK_EQ_INT(pq_bloom_optimal_bytes(10, 0.01, 1 << 20), 32);
    CHECK_EQ_INT(pq_bloom_optimal_bytes(1000000000, 0.01, 1 << 20), 1 << 20);
    CHECK_EQ_INT(pq_bloom_optimal_bytes(1000000000, 0.01, 3000), 2048);
    CHECK_EQ_INT(pq_bloom_optimal_bytes(1000000000, 0.01, 0xFFFFFFFFu),
                 PQ_BLOOM_MAX_BYTES);
    CHECK_EQ_INT(pq_bloom_optimal_bytes(100, 0.0, 4096), 4096);
    CHECK_EQ_INT(pq_bloom_optimal_bytes(100, 1.0, 4096), 32);
    CHECK_EQ_INT(pq_bloom_optimal_bytes(100, NAN, 4096), 4096);
}

static void test_bloom_init_and_view_check_sizes(void)
{
    pq_bloom b;
    CHECK_RC(pq_bloom_init(&b, 0), MERU_EINVAL);
    CHECK_RC(pq_bloom_init(&b, 16), MERU_EINVAL);
    CHECK_RC(pq_bloom_init(&b, 96), MERU_EINVAL);
    CHECK_RC(pq_bloom_init(&b, PQ_BLOOM_MAX_BYTES * 2u), MERU_EINVAL);
    uint8_t bits[96] = {0};
    CHECK_RC(pq_bloom_view(&b, bits, 0), MERU_ECORRUPT);
    CHECK_RC(pq_bloom_view(&b, bits, 33), MERU_ECORRUPT);
    CHECK_OK(pq_bloom_view(&b, bits, 96)); /* 3 blocks: legal to read */
    CHECK(!b.owned && b.num_bytes == 96);
    CHECK(!pq_bloom_check(&b, rnd()));
    pq_bloom_free(&b);
    pq_bloom_free(NULL);
}

/* ------------------------------------------------ filters from real files */

/* The 14 values of the "String" column of both data_index_bloom files, as
 * their pages hold them (the first file's page is checked below). */
static const char *const WORDS[] = {
    "Hello", "This is",   "a",         "test",  "How",  "are you",  "doing ",
    "today", "the quick", "brown fox", "jumps", "over", "the lazy", "dog"};
#define NWORDS (sizeof WORDS / sizeof WORDS[0])

/*
 * Finds a BloomFilterHeader by its shape (the metadata decoder lives
 * elsewhere): field 1 i32 numBytes (0x15, zigzag varint), then the three
 * single-member unions BLOCK / XXHASH / UNCOMPRESSED, each written as
 * 1c 1c 00 00. Returns the bitset offset and size.
 */
static bool find_bloom(const uint8_t *f, size_t len, size_t *off,
                       size_t *nbytes)
{
    static const uint8_t tail[] = {0x1c, 0x1c, 0x00, 0x00, 0x1c, 0x1c,
                                   0x00, 0x00, 0x1c, 0x1c, 0x00, 0x00};
    for (size_t i = 0; i + 2 < len; i++) {
        if (f[i] != 0x15)
            continue;
        uint64_t zz;
        size_t k = meru_varint_get64(f + i + 1, len - i - 1, &zz);
        if (!k || len - i - 1 - k < sizeof tail + 1)
            continue;
        if (memcmp(f + i + 1 + k, tail, sizeof tail) != 0 ||
            f[i + 1 + k + sizeof tail] != 0x00) /* end of struct */
            continue;
        int64_t nb = meru_zigzag_dec64(zz);
        size_t start = i + 1 + k + sizeof tail + 1;
        if (nb <= 0 || (uint64_t)nb > len - start)
            continue;
        *off = start;
        *nbytes = (size_t)nb;
        return true;
    }
    return false;
}

static void check_file_filter(const char *name, size_t want_bytes)
{
    size_t len, off, nb;
    uint8_t *f = meru_test_read_corpus(name, &len);
    CHECK_MSG(f, "parquet-testing missing under %s", MERU_SHARED_DIR);
    CHECK_MSG(find_bloom(f, len, &off, &nb), "no bloom header in %s", name);
    CHECK_EQ_INT(nb, want_bytes);
    pq_bloom b;
    CHECK_OK(pq_bloom_view(&b, f + off, nb));
    for (size_t i = 0; i < NWORDS; i++)
        CHECK_MSG(
            pq_bloom_check(&b, pq_bloom_hash_bytes(WORDS[i], strlen(WORDS[i]))),
            "%s: \"%s\" not in the filter", name, WORDS[i]);
    /* The filter is not trivially full: most other strings miss. */
    size_t hits = 0;
    for (int i = 0; i < 1000; i++) {
        char s[32];
        int l = snprintf(s, sizeof s, "not-there-%d", i);
        hits += pq_bloom_check(&b, pq_bloom_hash_bytes(s, (size_t)l));
    }
    CHECK_MSG(hits < 50, "%zu of 1000 absent strings hit", hits);
    pq_bloom_free(&b);
    free(f);
}

static void test_bloom_reads_parquet_mr_filters(void)
{
    /* First confirm WORDS against the stats file's only data page: a v1
     * page, GZIP, at offset 29 (127 -> 138 bytes): 4-byte level length,
     * RLE def levels, then PLAIN byte arrays. */
    size_t len;
    uint8_t *f = meru_test_read_corpus("data_index_bloom_encoding_stats.parquet", &len);
    CHECK_MSG(f, "parquet-testing missing under %s", MERU_SHARED_DIR);
    CHECK(len > 29 + 127);
    uint8_t page[138];
    CHECK_OK(pq_decompress(PQ_CODEC_GZIP, f + 29, 127, page, 138));
    uint32_t lvl_len = meru_load_le32(page);
    uint32_t defs[NWORDS];
    CHECK_OK(pq_rle_decode(page + 4, lvl_len, 1, defs, NWORDS, NULL));
    for (size_t i = 0; i < NWORDS; i++)
        CHECK_EQ_INT(defs[i], 1); /* no nulls */
    pq_bytes vals[NWORDS];
    size_t used;
    CHECK_OK(pq_plain_decode_bytes(page + 4 + lvl_len, 138 - 4 - lvl_len, vals,
                                   NWORDS, &used));
    CHECK_EQ_INT(4 + lvl_len + used, 138);
    for (size_t i = 0; i < NWORDS; i++) {
        CHECK_EQ_INT(vals[i].len, strlen(WORDS[i]));
        CHECK_MEM(vals[i].ptr, WORDS[i], vals[i].len);
    }
    free(f);

    check_file_filter("data_index_bloom_encoding_stats.parquet", 1024);
    check_file_filter("data_index_bloom_encoding_with_length.parquet", 2048);
}

int main(void)
{
    MERU_TEST_RUN(test_bloom_hashes_are_xxh64_of_plain_bytes);
    MERU_TEST_RUN(test_bloom_sets_the_spec_bits);
    MERU_TEST_RUN(test_bloom_finds_everything_inserted_and_fpp_is_near_target);
    MERU_TEST_RUN(test_bloom_optimal_bytes_follows_formula_and_clamps);
    MERU_TEST_RUN(test_bloom_init_and_view_check_sizes);
    MERU_TEST_RUN(test_bloom_reads_parquet_mr_filters);
    return meru_test_finish();
}
