/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_dv.c — libFuzzer target for the deletion-vector-v1 blob decoder
 * and its Roaring validator (src/iceberg/dv.h, dv_codec.c).
 *
 * Oracles: no crash or over-read (ASan); a blob either fails with
 * MERU_ECORRUPT (or MERU_ENOMEM) or decodes to a set that re-encodes and
 * decodes to the same set; a 32-bit portable bitmap the validator accepts
 * is deserialised by CRoaring with the same cardinality and byte size.
 * The validator also runs on the raw input (as a bare bitmap), so it is
 * fuzzed without having to get the blob's CRC right.
 */
#include <roaring/roaring.h>
#include <stdint.h>
#include <stdlib.h>

#include "iceberg/dv.h"
#include "merutable.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t bsize;
    uint64_t card;
    if (meru_dv_roaring_check(data, size, &bsize, &card) == MERU_OK) {
        roaring_bitmap_t *bm =
            roaring_bitmap_portable_deserialize_safe((const char *)data, bsize);
        if (!bm || roaring_bitmap_get_cardinality(bm) != card ||
            roaring_bitmap_portable_deserialize_size((const char *)data,
                                                     bsize) != bsize)
            abort();
        roaring_bitmap_free(bm);
    }
    meru_dv *dv = NULL, *again = NULL;
    int rc = meru_dv_blob_decode(&dv, data, size, UINT64_MAX);
    if (rc != MERU_OK && rc != MERU_ECORRUPT && rc != MERU_ENOMEM)
        abort();
    if (rc == MERU_OK) {
        meru_buf b = {0};
        uint64_t n = meru_dv_cardinality(dv);
        if (meru_dv_blob_encode(&b, dv) != MERU_OK ||
            meru_dv_blob_decode(&again, b.data, b.len, n) != MERU_OK ||
            !meru_dv_equal(dv, again))
            abort();
        meru_dv_free(again);
        meru_buf_free(&b);
    }
    meru_dv_free(dv);
    return 0;
}
