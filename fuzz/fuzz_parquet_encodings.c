/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_parquet_encodings.c — libFuzzer target for the Parquet value
 * decoders and page codecs (src/parquet/enc_*.c, codec.c).
 *
 * Input: [selector][n: 2 bytes LE][payload]. The selector picks the decoder
 * (and its bit width / value width); n is the value count asked for (for
 * codecs, dst_len = 4 * n). Besides "no crash, no out-of-bounds access"
 * the target checks what must hold for any input: *consumed never exceeds
 * the input, decoded levels fit their bit width, dictionary indexes are in
 * range, and whatever RLE and DELTA_BINARY_PACKED decode re-encodes and
 * decodes to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "util/buf.h"

enum {
    SEL_RLE = 0,    /* 0..32: bit width */
    SEL_BOOL = 33,  /* PLAIN BOOLEAN */
    SEL_FIXED = 34, /* 34..49: PLAIN fixed, width 1..16 */
    SEL_BYTES = 50, /* PLAIN BYTE_ARRAY */
    SEL_FLBA = 51,  /* 51..66: PLAIN FLBA, width 1..16 */
    SEL_DELTA32 = 67,
    SEL_DELTA64 = 68,
    SEL_DLEN = 69,
    SEL_DBYTES = 70,
    SEL_BSS = 71,   /* 71..86: width 1..16 */
    SEL_DICT = 87,  /* dict_count = 1 + n % 300 */
    SEL_CODEC = 88, /* 88..95: codec 0..7 */
    SEL_COUNT = 96
};

static void check(int cond)
{
    if (!cond)
        abort();
}

static void fuzz_rle(const uint8_t *p, size_t len, size_t n, int w)
{
    uint32_t *out = malloc((n ? n : 1) * sizeof *out);
    uint32_t *again = malloc((n ? n : 1) * sizeof *again);
    size_t used = 0;
    if (pq_rle_decode(p, len, w, out, n, &used) == 0) {
        check(used <= len);
        for (size_t i = 0; i < n && w < 32; i++)
            check((out[i] >> w) == 0);
        meru_buf b = {0};
        check(pq_rle_encode(&b, out, n, w) == 0);
        check(pq_rle_decode(b.data, b.len, w, again, n, &used) == 0);
        check(used == b.len);
        check(n == 0 || memcmp(out, again, n * sizeof *out) == 0);
        meru_buf_free(&b);
    }
    free(out);
    free(again);
}

static void fuzz_delta(const uint8_t *p, size_t len, size_t n, bool is32)
{
    size_t w = is32 ? 4 : 8, used = 0;
    void *out = malloc((n ? n : 1) * w), *again = malloc((n ? n : 1) * w);
    int rc = is32 ? pq_delta_decode_i32(p, len, out, n, &used)
                  : pq_delta_decode_i64(p, len, out, n, &used);
    if (rc == 0) {
        check(used <= len);
        meru_buf b = {0};
        rc = is32 ? pq_delta_encode_i32(&b, out, n)
                  : pq_delta_encode_i64(&b, out, n);
        check(rc == 0);
        rc = is32 ? pq_delta_decode_i32(b.data, b.len, again, n, &used)
                  : pq_delta_decode_i64(b.data, b.len, again, n, &used);
        check(rc == 0 && used == b.len);
        check(n == 0 || memcmp(out, again, n * w) == 0);
        meru_buf_free(&b);
    }
    free(out);
    free(again);
}

static void check_views(const pq_bytes *v, size_t n, const uint8_t *lo,
                        size_t len)
{
    for (size_t i = 0; i < n; i++)
        check(v[i].len == 0 ||
              (v[i].ptr >= lo && v[i].ptr + v[i].len <= lo + len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    unsigned sel = data[0] % SEL_COUNT;
    size_t n = (size_t)data[1] | (size_t)data[2] << 8;
    /* A private copy, so ASan sees reads past the payload. */
    size_t len = size - 3;
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, data + 3, len);
    size_t used = 0;

    if (sel <= 32) {
        fuzz_rle(p, len, n, (int)sel);
    } else if (sel == SEL_BOOL) {
        uint8_t *out = malloc(n ? n : 1);
        if (pq_plain_decode_bool(p, len, out, n, &used) == 0) {
            check(used <= len);
            for (size_t i = 0; i < n; i++)
                check(out[i] <= 1);
        }
        free(out);
    } else if (sel < SEL_BYTES) {
        size_t w = sel - SEL_FIXED + 1;
        uint8_t *out = malloc(n * w + 1);
        if (pq_plain_decode_fixed(p, len, w, out, n, &used) == 0)
            check(used <= len);
        free(out);
    } else if (sel == SEL_BYTES || sel == SEL_DLEN || sel == SEL_DBYTES ||
               (sel >= SEL_FLBA && sel < SEL_DELTA32)) {
        pq_bytes *out = malloc((n ? n : 1) * sizeof *out);
        int rc;
        if (sel == SEL_BYTES) {
            rc = pq_plain_decode_bytes(p, len, out, n, &used);
            if (rc == 0)
                check_views(out, n, p, len);
        } else if (sel == SEL_DLEN) {
            rc = pq_delta_length_decode(p, len, out, n, &used);
            if (rc == 0)
                check_views(out, n, p, len);
        } else if (sel == SEL_DBYTES) {
            meru_buf store = {0};
            rc = pq_delta_bytes_decode(p, len, out, n, &store, &used);
            if (rc == 0)
                check_views(out, n, store.data, store.len);
            meru_buf_free(&store);
        } else {
            uint32_t w = sel - SEL_FLBA + 1;
            rc = pq_plain_decode_flba(p, len, w, out, n, &used);
            if (rc == 0)
                check_views(out, n, p, len);
        }
        if (rc == 0)
            check(used <= len);
        free(out);
    } else if (sel == SEL_DELTA32 || sel == SEL_DELTA64) {
        fuzz_delta(p, len, n, sel == SEL_DELTA32);
    } else if (sel < SEL_DICT) {
        size_t w = sel - SEL_BSS + 1;
        uint8_t *out = malloc(n * w + 1);
        (void)pq_bss_decode(p, len, w, out, n);
        free(out);
    } else if (sel == SEL_DICT) {
        uint32_t dc = 1 + (uint32_t)(n % 300);
        uint32_t *out = malloc((n ? n : 1) * sizeof *out);
        if (pq_dict_indices_decode(p, len, out, n, dc) == 0) {
            for (size_t i = 0; i < n; i++)
                check(out[i] < dc);
        }
        free(out);
    } else {
        pq_codec c = (pq_codec)(sel - SEL_CODEC);
        size_t dst_len = n * 4;
        uint8_t *dst = malloc(dst_len ? dst_len : 1);
        (void)pq_decompress(c, p, len, dst_len ? dst : NULL, dst_len);
        free(dst);
    }
    free(p);
    return 0;
}
