/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bloom.c — the Parquet split-block bloom filter (SBBF), as the
 * "BloomFilter" page of apache/parquet-format defines it.
 *
 * The bitset is an array of 256-bit blocks, each eight little-endian 32-bit
 * words. For a 64-bit hash h:
 *   block = ((h >> 32) * num_blocks) >> 32          (multiply-shift, no modulo)
 *   key   = (uint32_t)h
 *   word i of the block gets bit (key * SALT[i]) >> 27, for i = 0..7.
 * A value is "maybe present" when all eight bits are set. The hash is XXH64
 * with seed 0 over the value's PLAIN encoding (BYTE_ARRAY: the bytes only).
 *
 * Words are read and written through the little-endian helpers, so the
 * bitset in memory is byte-for-byte the one in the file on any host.
 * A filter from pq_bloom_view() wraps the caller's bytes and must not be
 * inserted into. Sizing follows the spec's formula for bits per value,
 * -8 / ln(1 - fpp^(1/8)), rounded up to a power of two bytes.
 */
#include "parquet/bloom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "util/endian.h"
#include "util/error.h"

static const uint32_t SALT[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU,
                                 0xa2b7289dU, 0x705495c7U, 0x2df1424bU,
                                 0x9efc4947U, 0x5c6bfb31U};

static uint32_t floor_pow2(uint32_t v)
{
    return v ? (uint32_t)1 << (31 - __builtin_clz(v)) : 0;
}

uint32_t pq_bloom_optimal_bytes(uint64_t ndv, double fpp, uint32_t max_bytes)
{
    uint32_t hi = max_bytes > PQ_BLOOM_MAX_BYTES ? PQ_BLOOM_MAX_BYTES
                                                 : floor_pow2(max_bytes);
    if (hi < PQ_BLOOM_MIN_BYTES)
        hi = PQ_BLOOM_MIN_BYTES;
    if (ndv == 0)
        return PQ_BLOOM_MIN_BYTES;
    if (!(fpp > 0.0))
        return hi; /* also NaN: the safe side is more bits */
    if (fpp >= 1.0)
        return PQ_BLOOM_MIN_BYTES;
    double bits = -8.0 * (double)ndv / log(1.0 - pow(fpp, 1.0 / 8.0));
    double bytes = bits / 8.0;
    if (!(bytes < (double)hi))
        return hi;
    uint32_t b = PQ_BLOOM_MIN_BYTES;
    while ((double)b < bytes)
        b <<= 1;
    return b;
}

int pq_bloom_init(pq_bloom *b, uint32_t num_bytes)
{
    memset(b, 0, sizeof *b);
    if (num_bytes < PQ_BLOOM_MIN_BYTES || num_bytes > PQ_BLOOM_MAX_BYTES ||
        (num_bytes & (num_bytes - 1)) != 0)
        return meru_err(MERU_EINVAL,
                        "bloom filter: %u bytes is not a power of two in "
                        "[%u, %u]",
                        num_bytes, PQ_BLOOM_MIN_BYTES, PQ_BLOOM_MAX_BYTES);
    b->bits = calloc(1, num_bytes);
    if (!b->bits)
        return meru_err(MERU_ENOMEM, "bloom filter: cannot allocate %u bytes",
                        num_bytes);
    b->num_bytes = num_bytes;
    b->owned = true;
    return MERU_OK;
}

int pq_bloom_view(pq_bloom *b, const uint8_t *bits, size_t num_bytes)
{
    memset(b, 0, sizeof *b);
    if (num_bytes == 0 || num_bytes % 32 != 0 || num_bytes > PQ_BLOOM_MAX_BYTES)
        return meru_err(MERU_ECORRUPT,
                        "bloom filter: bitset of %zu bytes is not a positive "
                        "multiple of 32 up to %u",
                        num_bytes, PQ_BLOOM_MAX_BYTES);
    b->bits = (uint8_t *)(uintptr_t)bits;
    b->num_bytes = (uint32_t)num_bytes;
    b->owned = false;
    return MERU_OK;
}

void pq_bloom_free(pq_bloom *b)
{
    if (!b)
        return;
    if (b->owned)
        free(b->bits);
    memset(b, 0, sizeof *b);
}

uint64_t pq_bloom_hash_bytes(const void *p, size_t n)
{
    return XXH64(p, n, 0);
}

uint64_t pq_bloom_hash_i32(int32_t v)
{
    uint8_t b[4];
    meru_store_le32(b, (uint32_t)v);
    return XXH64(b, sizeof b, 0);
}

uint64_t pq_bloom_hash_i64(int64_t v)
{
    uint8_t b[8];
    meru_store_le64(b, (uint64_t)v);
    return XXH64(b, sizeof b, 0);
}

uint64_t pq_bloom_hash_float(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    uint8_t b[4];
    meru_store_le32(b, u);
    return XXH64(b, sizeof b, 0);
}

uint64_t pq_bloom_hash_double(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    uint8_t b[8];
    meru_store_le64(b, u);
    return XXH64(b, sizeof b, 0);
}

static inline uint8_t *block_of(const pq_bloom *b, uint64_t hash)
{
    uint64_t nblocks = b->num_bytes / 32;
    return b->bits + (((hash >> 32) * nblocks) >> 32) * 32;
}

void pq_bloom_insert(pq_bloom *b, uint64_t hash)
{
    uint8_t *blk = block_of(b, hash);
    uint32_t key = (uint32_t)hash;
    for (int i = 0; i < 8; i++) {
        uint32_t bit = (key * SALT[i]) >> 27;
        meru_store_le32(blk + 4 * i,
                        meru_load_le32(blk + 4 * i) | (UINT32_C(1) << bit));
    }
}

bool pq_bloom_check(const pq_bloom *b, uint64_t hash)
{
    const uint8_t *blk = block_of(b, hash);
    uint32_t key = (uint32_t)hash, miss = 0;
    for (int i = 0; i < 8; i++) {
        uint32_t bit = (key * SALT[i]) >> 27;
        miss |= ~meru_load_le32(blk + 4 * i) & (UINT32_C(1) << bit);
    }
    return miss == 0;
}
