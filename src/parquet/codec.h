/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.h — page compression codecs through the Debian libraries:
 * SNAPPY (libsnappy C API), GZIP (zlib, gzip framing on write; gzip or
 * zlib accepted on read), ZSTD (libzstd), LZ4_RAW (liblz4 block),
 * LZ4 (Hadoop framing on read, with the raw-block fallback older
 * parquet-cpp wrote), BROTLI (libbrotli, read and write). LZO is
 * MERU_ENOTSUP with a clear message.
 */
#ifndef MERU_PARQUET_CODEC_H
#define MERU_PARQUET_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parquet/meta.h"
#include "util/buf.h"

/* True when this build can decompress (and, if `write`, compress) `c`. */
bool pq_codec_supported(pq_codec c, bool write);

/* Appends the compressed form of (src, n) to `out`. `level` is the codec's
 * own level (ZSTD 1..22, GZIP 1..9, BROTLI 1..11); 0 = a default (ZSTD 3,
 * GZIP 6, BROTLI 8); other codecs ignore it. Sizes above INT32_MAX (the
 * limit of Parquet's i32 page sizes) are MERU_ERANGE here and below. */
int pq_compress(pq_codec c, int level, const uint8_t *src, size_t n,
                meru_buf *out);

/* Decompresses exactly `dst_len` bytes into dst; output of another size is
 * MERU_ECORRUPT (never a write past dst_len). Empty input is accepted when
 * dst_len is 0. LZO and unknown codecs are MERU_ENOTSUP. */
int pq_decompress(pq_codec c, const uint8_t *src, size_t n, uint8_t *dst,
                  size_t dst_len);

#endif
