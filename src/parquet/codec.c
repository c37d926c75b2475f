/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.c — Parquet page compression through the system libraries.
 *
 *   SNAPPY   libsnappy C API (raw snappy, no framing).
 *   GZIP     zlib; writes gzip framing (windowBits 31); reads gzip or zlib
 *            (windowBits 47 detects which), including several gzip members
 *            back to back, as some writers emit.
 *   BROTLI   libbrotlienc / libbrotlidec one-shot API.
 *   ZSTD     libzstd with one compression and one decompression context
 *            per thread (creating them costs more than small pages do);
 *            several frames back to back are accepted.
 *   LZ4_RAW  one LZ4 block.
 *   LZ4      the deprecated Hadoop framing: repeated [BE32 uncompressed
 *            size][BE32 compressed size][LZ4 block]. On read, if that does
 *            not parse to exactly dst_len bytes, the input is tried as an
 *            LZ4 frame (when it starts with the frame magic) and as one raw
 *            LZ4 block (what older parquet-cpp wrote). Written Hadoop-framed
 *            as a single chunk.
 *   LZO      MERU_ENOTSUP.
 *
 * Decompression produces exactly dst_len bytes or fails with MERU_ECORRUPT;
 * it never writes past dst_len, and input that would produce more output is
 * corrupt. Empty input with dst_len 0 is accepted for every codec (empty v2
 * pages are written that way). Sizes above INT32_MAX are MERU_ERANGE:
 * Parquet page sizes are i32 and the LZ4 API takes int.
 */
#include "parquet/codec.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <limits.h>
#include <lz4.h>
#include <lz4frame.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "util/endian.h"
#include "util/error.h"

#define CODEC_MAX_SIZE     ((size_t)INT32_MAX)
#define BROTLI_OUR_DEFAULT 8 /* 11, the library's, is far too slow */

bool pq_codec_supported(pq_codec c, bool write)
{
    (void)write;
    switch (c) {
    case PQ_CODEC_UNCOMPRESSED:
    case PQ_CODEC_SNAPPY:
    case PQ_CODEC_GZIP:
    case PQ_CODEC_BROTLI:
    case PQ_CODEC_LZ4:
    case PQ_CODEC_ZSTD:
    case PQ_CODEC_LZ4_RAW:
        return true;
    case PQ_CODEC_LZO:
        return false;
    }
    return false;
}

static int unsupported(pq_codec c)
{
    if (c == PQ_CODEC_LZO)
        return meru_err(MERU_ENOTSUP, "LZO compression is not supported");
    return meru_err(MERU_ENOTSUP, "compression codec %d is unknown", (int)c);
}

/* ------------------------------------------------- per-thread ZSTD state */

static pthread_once_t zstd_once = PTHREAD_ONCE_INIT;
static pthread_key_t zstd_ckey, zstd_dkey;
static int zstd_key_err;

static void zstd_free_cctx(void *p)
{
    ZSTD_freeCCtx(p);
}

static void zstd_free_dctx(void *p)
{
    ZSTD_freeDCtx(p);
}

static void zstd_keys_init(void)
{
    zstd_key_err = pthread_key_create(&zstd_ckey, zstd_free_cctx);
    if (!zstd_key_err)
        zstd_key_err = pthread_key_create(&zstd_dkey, zstd_free_dctx);
}

static ZSTD_CCtx *zstd_cctx(void)
{
    if (pthread_once(&zstd_once, zstd_keys_init) || zstd_key_err)
        return ZSTD_createCCtx(); /* caller frees: see zstd_keys_ok() */
    ZSTD_CCtx *c = pthread_getspecific(zstd_ckey);
    if (!c) {
        c = ZSTD_createCCtx();
        if (c && pthread_setspecific(zstd_ckey, c)) {
            ZSTD_freeCCtx(c);
            c = NULL;
        }
    }
    return c;
}

static ZSTD_DCtx *zstd_dctx(void)
{
    if (pthread_once(&zstd_once, zstd_keys_init) || zstd_key_err)
        return ZSTD_createDCtx();
    ZSTD_DCtx *c = pthread_getspecific(zstd_dkey);
    if (!c) {
        c = ZSTD_createDCtx();
        if (c && pthread_setspecific(zstd_dkey, c)) {
            ZSTD_freeDCtx(c);
            c = NULL;
        }
    }
    return c;
}

/* True when contexts are thread-owned (so callers must not free them). */
static bool zstd_keys_ok(void)
{
    return zstd_key_err == 0;
}

/* ------------------------------------------------------------- compress */

static int compress_gzip(int level, const uint8_t *src, size_t n, meru_buf *out)
{
    if (level < 0 || level > 9)
        return meru_err(MERU_EINVAL, "GZIP level %d is not in 1..9", level);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int zr = deflateInit2(&zs, level ? level : Z_DEFAULT_COMPRESSION,
                          Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    if (zr != Z_OK)
        return meru_err(zr == Z_MEM_ERROR ? MERU_ENOMEM : MERU_EINTERNAL,
                        "GZIP: deflateInit2 failed (%d)", zr);
    size_t bound = deflateBound(&zs, (uLong)n);
    int rc = meru_buf_reserve(out, bound);
    if (rc)
        goto done;
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)n;
    zs.next_out = out->data + out->len;
    zs.avail_out = (uInt)bound;
    zr = deflate(&zs, Z_FINISH);
    if (zr != Z_STREAM_END) {
        rc = meru_err(MERU_EINTERNAL, "GZIP: deflate failed (%d)", zr);
        goto done;
    }
    out->len += bound - zs.avail_out;
done:
    deflateEnd(&zs);
    return rc;
}

static int compress_zstd(int level, const uint8_t *src, size_t n, meru_buf *out)
{
    size_t bound = ZSTD_compressBound(n);
    int rc = meru_buf_reserve(out, bound);
    if (rc)
        return rc;
    ZSTD_CCtx *c = zstd_cctx();
    if (!c)
        return meru_err(MERU_ENOMEM, "ZSTD: cannot create a context");
    size_t r = ZSTD_compressCCtx(c, out->data + out->len, bound, src, n,
                                 level ? level : ZSTD_CLEVEL_DEFAULT);
    if (!zstd_keys_ok())
        ZSTD_freeCCtx(c);
    if (ZSTD_isError(r))
        return meru_err(MERU_EINTERNAL, "ZSTD: compression failed: %s",
                        ZSTD_getErrorName(r));
    out->len += r;
    return MERU_OK;
}

static int compress_lz4_block(const uint8_t *src, size_t n, meru_buf *out,
                              size_t *written)
{
    int bound = LZ4_compressBound((int)n);
    int rc = meru_buf_reserve(out, (size_t)bound);
    if (rc)
        return rc;
    int r = LZ4_compress_default((const char *)src,
                                 (char *)out->data + out->len, (int)n, bound);
    if (r <= 0)
        return meru_err(MERU_EINTERNAL, "LZ4: compression failed");
    *written = (size_t)r;
    return MERU_OK;
}

int pq_compress(pq_codec c, int level, const uint8_t *src, size_t n,
                meru_buf *out)
{
    if (!pq_codec_supported(c, true))
        return unsupported(c);
    if (n > CODEC_MAX_SIZE)
        return meru_err(MERU_ERANGE,
                        "%s: %zu bytes is above the page size "
                        "limit",
                        pq_codec_name(c), n);
    int rc;
    size_t w = 0;
    switch (c) {
    case PQ_CODEC_UNCOMPRESSED:
        return meru_buf_append(out, src, n);
    case PQ_CODEC_SNAPPY: {
        size_t bound = snappy_max_compressed_length(n);
        rc = meru_buf_reserve(out, bound);
        if (rc)
            return rc;
        size_t olen = bound;
        if (snappy_compress((const char *)src, n, (char *)out->data + out->len,
                            &olen) != SNAPPY_OK)
            return meru_err(MERU_EINTERNAL, "SNAPPY: compression failed");
        out->len += olen;
        return MERU_OK;
    }
    case PQ_CODEC_GZIP:
        return compress_gzip(level, src, n, out);
    case PQ_CODEC_BROTLI: {
        if (level < 0 || level > 11)
            return meru_err(MERU_EINVAL, "BROTLI level %d is not in 0..11",
                            level);
        size_t bound = BrotliEncoderMaxCompressedSize(n);
        if (bound == 0)
            return meru_err(MERU_ERANGE, "BROTLI: input too large");
        rc = meru_buf_reserve(out, bound);
        if (rc)
            return rc;
        size_t olen = bound;
        /* A window no larger than the page: the encoder's set-up cost
         * scales with the window, and a page never refers further back
         * than its own start (about 10x faster on 8 KiB pages). */
        int lgwin = BROTLI_MIN_WINDOW_BITS;
        while (lgwin < BROTLI_DEFAULT_WINDOW && ((size_t)1 << lgwin) < n)
            lgwin++;
        if (!BrotliEncoderCompress(level ? level : BROTLI_OUR_DEFAULT, lgwin,
                                   BROTLI_MODE_GENERIC,
                                   n, src, &olen, out->data + out->len))
            return meru_err(MERU_EINTERNAL, "BROTLI: compression failed");
        out->len += olen;
        return MERU_OK;
    }
    case PQ_CODEC_ZSTD:
        return compress_zstd(level, src, n, out);
    case PQ_CODEC_LZ4_RAW:
        rc = compress_lz4_block(src, n, out, &w);
        if (!rc)
            out->len += w;
        return rc;
    case PQ_CODEC_LZ4: {
        size_t start = out->len;
        rc = meru_buf_reserve(out, 8);
        if (rc)
            return rc;
        out->len += 8;
        rc = compress_lz4_block(src, n, out, &w);
        if (rc) {
            out->len = start;
            return rc;
        }
        meru_store_be32(out->data + start, (uint32_t)n);
        meru_store_be32(out->data + start + 4, (uint32_t)w);
        out->len += w;
        return MERU_OK;
    }
    case PQ_CODEC_LZO:
        break;
    }
    return unsupported(c);
}

/* ----------------------------------------------------------- decompress */

static int size_mismatch(pq_codec c, size_t got, size_t want)
{
    return meru_err(MERU_ECORRUPT,
                    "%s: page decompresses to %zu bytes, header says %zu",
                    pq_codec_name(c), got, want);
}

static int decompress_gzip(const uint8_t *src, size_t n, uint8_t *dst,
                           size_t dst_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int zr = inflateInit2(&zs, 47);
    if (zr != Z_OK)
        return meru_err(zr == Z_MEM_ERROR ? MERU_ENOMEM : MERU_EINTERNAL,
                        "GZIP: inflateInit2 failed (%d)", zr);
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)n;
    size_t have = 0;
    uint8_t extra;
    int rc = MERU_OK;
    for (;;) {
        /* Once dst is full, offer one scratch byte: any output there means
         * the stream is longer than the page header says. */
        bool scratch = have == dst_len;
        zs.next_out = scratch ? &extra : dst + have;
        zs.avail_out = scratch ? 1 : (uInt)(dst_len - have);
        uInt before = zs.avail_out;
        zr = inflate(&zs, Z_NO_FLUSH);
        size_t produced = before - zs.avail_out;
        if (scratch && produced) {
            rc = meru_err(MERU_ECORRUPT,
                          "GZIP: page decompresses to more than the %zu "
                          "bytes its header says",
                          dst_len);
            break;
        }
        have += scratch ? 0 : produced;
        if (zr == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            /* Another gzip member follows. */
            zr = inflateReset(&zs);
            if (zr != Z_OK) {
                rc = meru_err(MERU_EINTERNAL, "GZIP: inflateReset failed");
                break;
            }
            continue;
        }
        if (zr == Z_OK)
            continue;
        if (zr == Z_MEM_ERROR) {
            rc = meru_err(MERU_ENOMEM, "GZIP: out of memory");
        } else {
            rc =
                meru_err(MERU_ECORRUPT, "GZIP: %s after %zu of %zu input bytes",
                         zr == Z_BUF_ERROR ? "input ends early"
                         : zs.msg          ? zs.msg
                                           : "invalid data",
                         n - zs.avail_in, n);
        }
        break;
    }
    inflateEnd(&zs);
    if (!rc && have != dst_len)
        rc = size_mismatch(PQ_CODEC_GZIP, have, dst_len);
    return rc;
}

static int decompress_zstd(const uint8_t *src, size_t n, uint8_t *dst,
                           size_t dst_len)
{
    ZSTD_DCtx *c = zstd_dctx();
    if (!c)
        return meru_err(MERU_ENOMEM, "ZSTD: cannot create a context");
    size_t r = ZSTD_decompressDCtx(c, dst, dst_len, src, n);
    if (!zstd_keys_ok())
        ZSTD_freeDCtx(c);
    if (ZSTD_isError(r))
        return meru_err(MERU_ECORRUPT, "ZSTD: %s (page of %zu bytes)",
                        ZSTD_getErrorName(r), dst_len);
    if (r != dst_len)
        return size_mismatch(PQ_CODEC_ZSTD, r, dst_len);
    return MERU_OK;
}

/* Hadoop framing; true only if it accounts for every byte of both sides. */
static bool lz4_hadoop(const uint8_t *src, size_t n, uint8_t *dst,
                       size_t dst_len)
{
    size_t pos = 0, have = 0;
    while (n - pos >= 8) {
        uint32_t ulen = meru_load_be32(src + pos);
        uint32_t clen = meru_load_be32(src + pos + 4);
        pos += 8;
        if (clen > n - pos || ulen > dst_len - have)
            return false;
        int r = LZ4_decompress_safe((const char *)src + pos, (char *)dst + have,
                                    (int)clen, (int)ulen);
        if (r < 0 || (uint32_t)r != ulen)
            return false;
        pos += clen;
        have += ulen;
    }
    return pos == n && have == dst_len;
}

/* LZ4 frame format (lz4frame.h), possibly several frames. */
static bool lz4_frame(const uint8_t *src, size_t n, uint8_t *dst,
                      size_t dst_len)
{
    LZ4F_dctx *dc;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dc, LZ4F_VERSION)))
        return false;
    size_t pos = 0, have = 0;
    bool ok = false;
    uint8_t extra;
    while (pos < n) {
        bool scratch = have == dst_len;
        size_t olen = scratch ? 1 : dst_len - have;
        size_t ilen = n - pos;
        size_t r = LZ4F_decompress(dc, scratch ? &extra : dst + have, &olen,
                                   src + pos, &ilen, NULL);
        if (LZ4F_isError(r) || (scratch && olen))
            goto done;
        if (olen == 0 && ilen == 0)
            goto done; /* no progress: truncated */
        pos += ilen;
        have += scratch ? 0 : olen;
        if (pos == n && r != 0)
            goto done; /* input ends inside a frame */
    }
    ok = have == dst_len;
done:
    LZ4F_freeDecompressionContext(dc);
    return ok;
}

static int decompress_lz4(const uint8_t *src, size_t n, uint8_t *dst,
                          size_t dst_len)
{
    if (lz4_hadoop(src, n, dst, dst_len))
        return MERU_OK;
    if (n >= 4 && meru_load_le32(src) == 0x184D2204u &&
        lz4_frame(src, n, dst, dst_len))
        return MERU_OK;
    int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n,
                                (int)dst_len);
    if (r >= 0 && (size_t)r == dst_len)
        return MERU_OK;
    return meru_err(MERU_ECORRUPT,
                    "LZ4: %zu bytes are neither Hadoop-framed LZ4, an LZ4 "
                    "frame nor a raw LZ4 block of %zu bytes",
                    n, dst_len);
}

int pq_decompress(pq_codec c, const uint8_t *src, size_t n, uint8_t *dst,
                  size_t dst_len)
{
    if (!pq_codec_supported(c, false))
        return unsupported(c);
    if (n > CODEC_MAX_SIZE || dst_len > CODEC_MAX_SIZE)
        return meru_err(MERU_ERANGE,
                        "%s: page of %zu -> %zu bytes is above the page "
                        "size limit",
                        pq_codec_name(c), n, dst_len);
    if (n == 0 && dst_len == 0)
        return MERU_OK;
    uint8_t dummy;
    if (!dst)
        dst = &dummy; /* dst_len 0: keep pointer arithmetic off NULL */
    if (n == 0)
        return meru_err(MERU_ECORRUPT,
                        "%s: empty input for a page of %zu bytes",
                        pq_codec_name(c), dst_len);
    switch (c) {
    case PQ_CODEC_UNCOMPRESSED:
        if (n != dst_len)
            return size_mismatch(c, n, dst_len);
        memcpy(dst, src, n);
        return MERU_OK;
    case PQ_CODEC_SNAPPY: {
        size_t ulen;
        if (snappy_uncompressed_length((const char *)src, n, &ulen) !=
            SNAPPY_OK)
            return meru_err(MERU_ECORRUPT, "SNAPPY: invalid length header");
        if (ulen != dst_len)
            return size_mismatch(c, ulen, dst_len);
        size_t olen = dst_len;
        if (snappy_uncompress((const char *)src, n, (char *)dst, &olen) !=
            SNAPPY_OK)
            return meru_err(MERU_ECORRUPT,
                            "SNAPPY: invalid compressed data "
                            "(%zu bytes)",
                            n);
        if (olen != dst_len)
            return size_mismatch(c, olen, dst_len);
        return MERU_OK;
    }
    case PQ_CODEC_GZIP:
        return decompress_gzip(src, n, dst, dst_len);
    case PQ_CODEC_BROTLI: {
        size_t olen = dst_len;
        BrotliDecoderResult r = BrotliDecoderDecompress(n, src, &olen, dst);
        if (r != BROTLI_DECODER_RESULT_SUCCESS)
            return meru_err(MERU_ECORRUPT, "BROTLI: %s (page of %zu bytes)",
                            r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT
                                ? "more output than the header says"
                            : r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT
                                ? "input ends early"
                                : "invalid data",
                            dst_len);
        if (olen != dst_len)
            return size_mismatch(c, olen, dst_len);
        return MERU_OK;
    }
    case PQ_CODEC_ZSTD:
        return decompress_zstd(src, n, dst, dst_len);
    case PQ_CODEC_LZ4_RAW: {
        int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n,
                                    (int)dst_len);
        if (r < 0)
            return meru_err(MERU_ECORRUPT,
                            "LZ4_RAW: invalid block of %zu "
                            "bytes for a page of %zu",
                            n, dst_len);
        if ((size_t)r != dst_len)
            return size_mismatch(c, (size_t)r, dst_len);
        return MERU_OK;
    }
    case PQ_CODEC_LZ4:
        return decompress_lz4(src, n, dst, dst_len);
    case PQ_CODEC_LZO:
        break;
    }
    return unsupported(c);
}
