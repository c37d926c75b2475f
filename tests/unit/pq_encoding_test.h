/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pq_encoding_test.h — helpers shared by the Parquet encoding tests
 * (test_pq_encoding.c, test_pq_encoding_delta.c): the seeded PRNG and
 * MERU_TEST_SCALE iteration counts, the sizes around group, miniblock and
 * block edges, the bit-by-bit reference writer's primitives, and a C
 * string as pq_bytes.
 *
 * Functions are static inline: each test program includes this once.
 */
#ifndef MERU_TESTS_PQ_ENCODING_TEST_H
#define MERU_TESTS_PQ_ENCODING_TEST_H

#include <stdint.h>
#include <string.h>

#include "parquet/encoding.h"
#include "test.h"
#include "util/buf.h"
#include "util/varint.h"

static inline uint64_t rnd(void)
{
    return meru_test_rand();
}

static inline size_t iters(size_t base)
{
    size_t k = (size_t)(base * meru_test_scale());
    return k ? k : 1;
}

/* Sizes around the group (8), miniblock (32) and block (128) edges. */
static const size_t SIZES[] = {0,  1,  2,   7,   8,   9,   31,  32,  33,
                               63, 64, 127, 128, 129, 130, 255, 256, 1000};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])

/* Appends bit-by-bit (the obviously-correct way) at bit offset *bit. */
static inline void ref_put_bits(meru_buf *b, size_t *bit, uint64_t v,
                                unsigned w)
{
    for (unsigned k = 0; k < w; k++, (*bit)++) {
        size_t byte = *bit / 8;
        while (b->len <= byte)
            meru_buf_push(b, 0);
        if ((v >> k) & 1)
            b->data[byte] |= (uint8_t)(1u << (*bit % 8));
    }
}

static inline void ref_varint(meru_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    meru_buf_append(b, tmp, meru_varint_put64(tmp, v));
}

static inline pq_bytes S(const char *s)
{
    return (pq_bytes){(const uint8_t *)s, (uint32_t)strlen(s)};
}

#endif
