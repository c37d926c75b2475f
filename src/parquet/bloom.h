/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bloom.h — Parquet split-block bloom filter (SBBF), exactly as the
 * "BloomFilter" page of apache/parquet-format defines it: 256-bit blocks of
 * eight 32-bit words, the eight SALT constants, block index from the upper
 * 32 bits of the 64-bit hash (multiply-shift), XXH64 with seed 0 over the
 * PLAIN encoding of the value (for BYTE_ARRAY: the bytes only, no length).
 * Bitsets written by any conforming writer are read by this one and vice
 * versa.
 */
#ifndef MERU_PARQUET_BLOOM_H
#define MERU_PARQUET_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parquet/meta.h"

#define PQ_BLOOM_MIN_BYTES 32u
#define PQ_BLOOM_MAX_BYTES (128u * 1024u * 1024u)

typedef struct pq_bloom {
    uint8_t *bits;      /* num_bytes, a multiple of 32 */
    uint32_t num_bytes;
    bool owned;         /* bits malloc'd by pq_bloom_init */
} pq_bloom;

/* Bytes for `ndv` distinct values at false-positive rate `fpp`: a power of
 * two clamped to [PQ_BLOOM_MIN_BYTES, max_bytes]. */
uint32_t pq_bloom_optimal_bytes(uint64_t ndv, double fpp, uint32_t max_bytes);
/* Allocates a zeroed filter; num_bytes must be a power of two >= 32. */
int pq_bloom_init(pq_bloom *b, uint32_t num_bytes);
/* Wraps a bitset read from a file (not copied; checked: multiple of 32). */
int pq_bloom_view(pq_bloom *b, const uint8_t *bits, size_t num_bytes);
void pq_bloom_free(pq_bloom *b);

uint64_t pq_bloom_hash_bytes(const void *p, size_t n); /* XXH64, seed 0 */
uint64_t pq_bloom_hash_i32(int32_t v);
uint64_t pq_bloom_hash_i64(int64_t v);
uint64_t pq_bloom_hash_float(float v);
uint64_t pq_bloom_hash_double(double v);

void pq_bloom_insert(pq_bloom *b, uint64_t hash);
bool pq_bloom_check(const pq_bloom *b, uint64_t hash);

#endif
