/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reader_decode.c — one page of a column cursor decoded (reader_page.c
 * reads it): the body decompressed (or taken as the readahead left it),
 * definition levels into a dense validity array, values into dense typed
 * arrays for every encoding the spec defines for the type, dictionary
 * pages into the cursor's dictionary. Every count and index from the file
 * is checked against what the header states (reader_page.c's invariants).
 */
#include <stdlib.h>
#include <string.h>

#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/reader_cursor.h"
#include "util/endian.h"
#include "util/error.h"
#include "util/varint.h"

/* Plain width of a fixed physical type (0 for byte arrays, bool). */
static size_t plain_width(const pq_column_info *i)
{
    if (i->type == PQ_BOOLEAN || i->type == PQ_BYTE_ARRAY)
        return 0;
    if (i->type == PQ_FIXED_LEN_BYTE_ARRAY)
        return (size_t)i->type_length;
    return pq_value_width(i->type);
}

/* Decompresses a page body of srclen bytes into exactly ulen bytes at dst,
 * with the page's place in the error. */
int pqr_decompress_page(pq_cursor *c, const page_in *pg, const uint8_t *src,
                        size_t srclen, uint8_t *dst, size_t ulen)
{
    int rc = pq_decompress(c->m->codec, src, srclen, dst, ulen);
    if (rc)
        return meru_err_wrap(rc,
                             "parquet: column %s row group %u: page at "
                             "offset %llu",
                             pqr_cname(c), c->rg, (unsigned long long)pg->off);
    return MERU_OK;
}

/* The `n` decompressed bytes of `src` (or its srclen bytes when not
 * compressed) into *out / *outlen: in `dst`, or, for an uncompressed body
 * in the source's own bytes, in place (no copy: the bytes outlive the
 * cursor). */
static int inflate_into(pq_cursor *c, const page_in *pg, const uint8_t *src,
                        size_t srclen, size_t n, bool compressed, meru_buf *dst,
                        const uint8_t **out, size_t *outlen)
{
    if (!compressed || c->m->codec == PQ_CODEC_UNCOMPRESSED) {
        if (pg->mapped) {
            *out = src;
            *outlen = srclen;
            return MERU_OK;
        }
        int rc = pqr_buf_size(dst, srclen);
        if (!rc && srclen)
            memcpy(dst->data, src, srclen);
        *out = dst->data;
        *outlen = dst->len;
        return rc;
    }
    if (c->pre_inflated && dst->len == n) {
        /* the readahead worker decompressed it into dst already */
        *out = dst->data;
        *outlen = n;
        return MERU_OK;
    }
    int rc = pqr_buf_size(dst, n);
    if (rc)
        return rc;
    *out = dst->data;
    *outlen = n;
    if (n == 0)
        return MERU_OK; /* nothing to inflate, whatever the stream says */
    return pqr_decompress_page(c, pg, src, srclen, dst->data, n);
}

/* --------------------------------------------------------- dictionary */

int pqr_load_dict(pq_cursor *c, page_in *pg)
{
    const pq_dictionary_page_header *dh = &pg->h.dictionary_page_header;
    if (!pg->h.has_dictionary_page_header)
        return pqr_corrupt_at(c, pg->off, "dictionary page without its header");
    if (c->dict_loaded)
        return pqr_corrupt_at(c, pg->off,
                              "second dictionary page in the chunk");
    if (c->next_first > 0)
        return pqr_corrupt_at(c, pg->off, "dictionary page after data pages");
    if (dh->num_values < 0)
        return pqr_corrupt_at(c, pg->off, "negative dictionary size");
    if (dh->encoding != PQ_ENC_PLAIN && dh->encoding != PQ_ENC_PLAIN_DICTIONARY)
        return meru_err(MERU_ENOTSUP,
                        "parquet: column %s row group %u: dictionary page "
                        "encoding %s is not supported",
                        pqr_cname(c), c->rg, pq_encoding_name(dh->encoding));
    if (c->info->type == PQ_BOOLEAN)
        return pqr_corrupt_at(c, pg->off, "dictionary for a BOOLEAN column");
    const uint8_t *p = NULL;
    size_t len = 0;
    int rc = pqr_read_body(c, pg, NULL);
    if (!rc)
        rc = inflate_into(c, pg, pg->body, pg->csize,
                          (size_t)pg->h.uncompressed_page_size, true,
                          &c->dict_data, &p, &len);
    if (rc)
        return rc;
    size_t n = (size_t)dh->num_values;
    size_t w = plain_width(c->info);
    size_t minw = w ? w : 4;
    if (n > len / minw)
        return pqr_corrupt_at(
            c, pg->off, "dictionary claims more values than its bytes hold");
    size_t used = 0;
    if (c->info->type == PQ_BYTE_ARRAY) {
        rc = pqr_buf_size(&c->dict_vals, n * sizeof(pq_bytes));
        if (!rc)
            rc = pq_plain_decode_bytes(
                p, len, (pq_bytes *)(void *)c->dict_vals.data, n, &used);
    } else if (c->info->type == PQ_FIXED_LEN_BYTE_ARRAY) {
        rc = pqr_buf_size(&c->dict_vals, n * sizeof(pq_bytes));
        if (!rc)
            rc = pq_plain_decode_flba(p, len, (uint32_t)w,
                                      (pq_bytes *)(void *)c->dict_vals.data, n,
                                      &used);
    } else {
        rc = pqr_buf_size(&c->dict_vals, n * w);
        if (!rc)
            rc = pq_plain_decode_fixed(p, len, w, c->dict_vals.data, n, &used);
    }
    if (rc)
        return meru_err_wrap(rc, "parquet: column %s row group %u: dictionary",
                             pqr_cname(c), c->rg);
    c->dict_loaded = true;
    c->dict_pos = pg->off;
    c->dict_n = (uint32_t)n;
    return MERU_OK;
}

/* ------------------------------------------------------------- values */

static void scatter(uint8_t *out, size_t w, const uint8_t *valid, size_t n,
                    size_t nn)
{
    /* compact values sit at [n - nn, n); spread them to their rows going
     * forward: the value for row i comes from position >= i, and every
     * position still unread lies after anything written so far */
    size_t from = n - nn;
    for (size_t i = 0; i < n; i++) {
        if (valid[i]) {
            if (from != i)
                memcpy(out + i * w, out + from * w, w);
            from++;
        } else {
            memset(out + i * w, 0, w);
        }
    }
}

static int gather_dict(pq_cursor *c, slot *s, uint8_t *out, const uint8_t *p,
                       size_t len, size_t n, size_t nn)
{
    if (!c->dict_loaded)
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u: dictionary-encoded "
                        "page without a dictionary",
                        pqr_cname(c), c->rg);
    int rc = pqr_buf_size(&c->idx, nn * 4);
    if (rc)
        return rc;
    uint32_t *idx = (uint32_t *)(void *)c->idx.data;
    rc = pq_dict_indices_decode(p, len, idx, nn, c->dict_n);
    if (rc)
        return meru_err_wrap(rc, "parquet: column %s row group %u",
                             pqr_cname(c), c->rg);
    const uint8_t *valid = s->valid.data;
    const uint8_t *d = c->dict_vals.data;
    size_t w = c->width, k = 0;
    if (nn == n) {
        switch (w) {
        case 4:
            for (size_t i = 0; i < n; i++)
                memcpy(out + 4 * i, d + 4 * (size_t)idx[i], 4);
            break;
        case 8:
            for (size_t i = 0; i < n; i++)
                memcpy(out + 8 * i, d + 8 * (size_t)idx[i], 8);
            break;
        default:
            for (size_t i = 0; i < n; i++)
                memcpy(out + w * i, d + w * (size_t)idx[i], w);
        }
        return MERU_OK;
    }
    for (size_t i = 0; i < n; i++) {
        if (valid[i])
            memcpy(out + w * i, d + w * (size_t)idx[k++], w);
        else
            memset(out + w * i, 0, w);
    }
    return MERU_OK;
}

static int unsupported(const pq_cursor *c, pq_encoding e)
{
    return meru_err(MERU_ENOTSUP,
                    "parquet: column %s row group %u: encoding %s is not "
                    "valid for %s",
                    pqr_cname(c), c->rg, pq_encoding_name(e),
                    pq_type_name(c->info->type));
}

/* Where the `n` values of the page being decoded go: the caller's array of
 * pq_cursor_read_page, or the slot's own. */
static int values_out(pq_cursor *c, slot *s, size_t n, uint8_t **out)
{
    if (c->direct && n == c->direct_n) {
        *out = c->direct;
        return MERU_OK;
    }
    int rc = pqr_buf_size(&s->vals, n * c->width);
    *out = s->vals.data;
    return rc;
}

static int decode_values(pq_cursor *c, slot *s, pq_encoding enc,
                         const uint8_t *p, size_t len, size_t n, size_t nn)
{
    size_t w = c->width;
    uint8_t *vals;
    c->pg_nulls = n - nn;
    int rc = values_out(c, s, n, &vals);
    if (rc)
        return rc;
    if (nn == 0) {
        memset(vals, 0, n * w);
        return MERU_OK;
    }
    if (enc == PQ_ENC_PLAIN_DICTIONARY || enc == PQ_ENC_RLE_DICTIONARY)
        return gather_dict(c, s, vals, p, len, n, nn);

    uint8_t *tail = vals + (n - nn) * w;
    pq_type t = c->info->type;
    size_t used = len;
    bool exact = false;
    switch (enc) {
    case PQ_ENC_PLAIN:
        exact = true;
        if (t == PQ_BOOLEAN)
            rc = pq_plain_decode_bool(p, len, tail, nn, &used);
        else if (t == PQ_BYTE_ARRAY)
            rc = pq_plain_decode_bytes(p, len, (pq_bytes *)(void *)tail, nn,
                                       &used);
        else if (t == PQ_FIXED_LEN_BYTE_ARRAY)
            rc = pq_plain_decode_flba(p, len, (uint32_t)c->info->type_length,
                                      (pq_bytes *)(void *)tail, nn, &used);
        else
            rc = pq_plain_decode_fixed(p, len, w, tail, nn, &used);
        if (t == PQ_BOOLEAN)
            exact = false; /* bit padding */
        break;
    case PQ_ENC_RLE: {
        if (t != PQ_BOOLEAN)
            return unsupported(c, enc);
        if (len < 4)
            return meru_err(MERU_ECORRUPT,
                            "parquet: column %s row group %u: RLE booleans "
                            "without their length",
                            pqr_cname(c), c->rg);
        uint32_t l = meru_load_le32(p);
        if (l > len - 4)
            return meru_err(MERU_ECORRUPT,
                            "parquet: column %s row group %u: RLE booleans of "
                            "%u bytes in %zu",
                            pqr_cname(c), c->rg, l, len - 4);
        rc = pqr_buf_size(&c->idx, nn * 4);
        if (rc)
            return rc;
        uint32_t *u = (uint32_t *)(void *)c->idx.data;
        rc = pq_rle_decode(p + 4, l, 1, u, nn, NULL);
        for (size_t i = 0; !rc && i < nn; i++)
            tail[i] = (uint8_t)u[i];
        break;
    }
    case PQ_ENC_DELTA_BINARY_PACKED:
        if (t == PQ_INT32)
            rc =
                pq_delta_decode_i32(p, len, (int32_t *)(void *)tail, nn, &used);
        else if (t == PQ_INT64)
            rc =
                pq_delta_decode_i64(p, len, (int64_t *)(void *)tail, nn, &used);
        else
            return unsupported(c, enc);
        break;
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (t != PQ_BYTE_ARRAY)
            return unsupported(c, enc);
        rc =
            pq_delta_length_decode(p, len, (pq_bytes *)(void *)tail, nn, &used);
        break;
    case PQ_ENC_DELTA_BYTE_ARRAY:
        if (t != PQ_BYTE_ARRAY && t != PQ_FIXED_LEN_BYTE_ARRAY)
            return unsupported(c, enc);
        meru_buf_reset(&s->storage);
        rc = pq_delta_bytes_decode(p, len, (pq_bytes *)(void *)tail, nn,
                                   &s->storage, &used);
        if (!rc && t == PQ_FIXED_LEN_BYTE_ARRAY) {
            const pq_bytes *b = (const pq_bytes *)(void *)tail;
            for (size_t i = 0; i < nn; i++)
                if (b[i].len != (uint32_t)c->info->type_length)
                    return meru_err(MERU_ECORRUPT,
                                    "parquet: column %s row group %u: value "
                                    "of %u bytes in a FIXED_LEN_BYTE_ARRAY(%d)",
                                    pqr_cname(c), c->rg, b[i].len,
                                    c->info->type_length);
        }
        break;
    case PQ_ENC_BYTE_STREAM_SPLIT: {
        size_t pw = plain_width(c->info);
        if (t == PQ_BOOLEAN || t == PQ_BYTE_ARRAY || t == PQ_INT96 || !pw)
            return unsupported(c, enc);
        if (len != nn * pw)
            return meru_err(MERU_ECORRUPT,
                            "parquet: column %s row group %u: "
                            "BYTE_STREAM_SPLIT data of %zu bytes for %zu "
                            "values",
                            pqr_cname(c), c->rg, len, nn);
        if (t != PQ_FIXED_LEN_BYTE_ARRAY) {
            rc = pq_bss_decode(p, len, pw, tail, nn);
            break;
        }
        rc = pqr_buf_size(&s->storage, len);
        if (!rc)
            rc = pq_bss_decode(p, len, pw, s->storage.data, nn);
        pq_bytes *b = (pq_bytes *)(void *)tail;
        for (size_t i = 0; !rc && i < nn; i++) {
            b[i].ptr = s->storage.data + i * pw;
            b[i].len = (uint32_t)pw;
        }
        break;
    }
    default:
        return unsupported(c, enc);
    }
    if (rc)
        return meru_err_wrap(rc, "parquet: column %s row group %u",
                             pqr_cname(c), c->rg);
    if (exact && used != len)
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u: %zu values used %zu "
                        "of the page's %zu value bytes",
                        pqr_cname(c), c->rg, nn, used, len);
    if (nn < n)
        scatter(vals, w, s->valid.data, n, nn);
    return MERU_OK;
}

/* Definition levels (bit width 1) into s->valid; returns the non-nulls. */
static int decode_levels(pq_cursor *c, slot *s, const uint8_t *p, size_t len,
                         bool bit_packed, size_t n, size_t *nn)
{
    int rc = pqr_buf_size(&s->valid, n);
    if (rc)
        return rc;
    uint8_t *v = s->valid.data;
    size_t cnt = 0;
    if (bit_packed) {
        /* deprecated BIT_PACKED: MSB first */
        if ((n + 7) / 8 > len)
            return meru_err(MERU_ECORRUPT,
                            "parquet: column %s row group %u: bit-packed "
                            "levels too short",
                            pqr_cname(c), c->rg);
        for (size_t i = 0; i < n; i++) {
            v[i] = (p[i / 8] >> (7 - i % 8)) & 1;
            cnt += v[i];
        }
        *nn = cnt;
        return MERU_OK;
    }
    rc = pqr_buf_size(&c->lvl, n * 4);
    if (rc)
        return rc;
    uint32_t *l = (uint32_t *)(void *)c->lvl.data;
    rc = pq_rle_decode(p, len, 1, l, n, NULL);
    if (rc)
        return meru_err_wrap(rc,
                             "parquet: column %s row group %u: definition "
                             "levels",
                             pqr_cname(c), c->rg);
    for (size_t i = 0; i < n; i++) {
        v[i] = (uint8_t)(l[i] & 1);
        cnt += v[i];
    }
    *nn = cnt;
    return MERU_OK;
}

static int all_valid(slot *s, size_t n)
{
    int rc = pqr_buf_size(&s->valid, n);
    if (!rc)
        memset(s->valid.data, 1, n);
    return rc;
}

/* Whether the values of a page whose `ulen` decompressed value bytes hold
 * `n` values, all present, go straight from the codec into the caller's
 * array: PLAIN numbers are their own decoded form (little-endian, as
 * pq_plain_decode_fixed copies them), so the codec's output is the array
 * and the copy and decode passes through a slot are saved. */
static bool plain_direct(const pq_cursor *c, pq_encoding enc, size_t n,
                         size_t nn, size_t ulen)
{
    pq_type t = c->info->type;
    return c->direct && n > 0 && n == c->direct_n && nn == n &&
           enc == PQ_ENC_PLAIN && c->m->codec != PQ_CODEC_UNCOMPRESSED &&
           (t == PQ_INT32 || t == PQ_INT64 || t == PQ_FLOAT ||
            t == PQ_DOUBLE) &&
           plain_width(c->info) == c->width && ulen == n * c->width;
}

/* True when the RLE/bit-packed hybrid levels (bit width 1) of len bytes
 * are nothing but RLE runs of 1 covering exactly n values: the form a
 * page without nulls has, told from its run headers without decoding n
 * levels. Any other form answers false and is decoded (and checked) in
 * full. */
bool pqr_levels_all_present(const uint8_t *p, size_t len, size_t n)
{
    size_t at = 0, got = 0;
    while (at < len && got < n) {
        uint64_t h;
        size_t k = meru_varint_get64(p + at, len - at, &h);
        if (k == 0 || (h & 1) || k >= len - at || p[at + k] != 1)
            return false;
        h >>= 1;
        if (h == 0 || h > n - got)
            return false;
        got += (size_t)h;
        at += k + 1;
    }
    return got == n && at == len;
}

int pqr_decode_v1(pq_cursor *c, slot *s, page_in *pg, size_t n)
{
    const pq_data_page_header *dp = &pg->h.data_page_header;
    const uint8_t *p = NULL;
    size_t len = 0, nn = n;
    size_t ulen = (size_t)pg->h.uncompressed_page_size;
    if (!c->optional && plain_direct(c, dp->encoding, n, n, ulen)) {
        int rc = all_valid(s, n);
        c->pg_nulls = 0;
        return rc ? rc
                  : pqr_decompress_page(c, pg, pg->body, pg->csize, c->direct,
                                    ulen);
    }
    int rc = inflate_into(c, pg, pg->body, pg->csize,
                          (size_t)pg->h.uncompressed_page_size, true, &s->data,
                          &p, &len);
    if (rc)
        return rc;
    if (c->optional) {
        if (dp->definition_level_encoding == PQ_ENC_RLE) {
            if (len < 4)
                return pqr_corrupt_at(c, pg->off, "definition levels missing");
            uint32_t l = meru_load_le32(p);
            if (l > len - 4)
                return pqr_corrupt_at(c, pg->off,
                                      "definition levels longer than the page");
            rc = decode_levels(c, s, p + 4, l, false, n, &nn);
            p += 4 + (size_t)l;
            len -= 4 + (size_t)l;
        } else if (dp->definition_level_encoding == PQ_ENC_BIT_PACKED) {
            rc = decode_levels(c, s, p, len, true, n, &nn);
            p += (n + 7) / 8;
            len -= (n + 7) / 8;
        } else {
            return meru_err(MERU_ENOTSUP,
                            "parquet: column %s row group %u: definition "
                            "level encoding %s",
                            pqr_cname(c), c->rg,
                            pq_encoding_name(dp->definition_level_encoding));
        }
    } else {
        rc = all_valid(s, n);
    }
    if (rc)
        return rc;
    return decode_values(c, s, dp->encoding, p, len, n, nn);
}

int pqr_decode_v2(pq_cursor *c, slot *s, page_in *pg, size_t n)
{
    const pq_data_page_header_v2 *v2 = &pg->h.data_page_header_v2;
    int32_t rl = v2->repetition_levels_byte_length;
    int32_t dl = v2->definition_levels_byte_length;
    if (rl < 0 || dl < 0 || (size_t)rl + (size_t)dl > pg->csize ||
        (size_t)rl + (size_t)dl > (size_t)pg->h.uncompressed_page_size)
        return pqr_corrupt_at(c, pg->off, "level lengths do not fit the page");
    if (v2->num_nulls < 0 || (size_t)v2->num_nulls > n)
        return pqr_corrupt_at(c, pg->off, "bad null count");
    if (!c->optional && v2->num_nulls > 0)
        return pqr_corrupt_at(c, pg->off, "nulls in a REQUIRED column");
    const uint8_t *lv = pg->body + rl;
    size_t off = (size_t)rl + (size_t)dl;
    size_t nn = n;
    int rc;
    /* A page that says it has no nulls and whose levels are plain runs
     * of 1 is all valid: its levels need no decoding. */
    if (c->optional && dl > 0 &&
        !(v2->num_nulls == 0 && pqr_levels_all_present(lv, (size_t)dl, n))) {
        rc = decode_levels(c, s, lv, (size_t)dl, false, n, &nn);
    } else if (c->optional && v2->num_nulls == (int32_t)n) {
        rc = pqr_buf_size(&s->valid, n);
        if (!rc)
            memset(s->valid.data, 0, n);
        nn = 0;
    } else if (c->optional && v2->num_nulls != 0) {
        return pqr_corrupt_at(c, pg->off, "nulls but no definition levels");
    } else {
        rc = all_valid(s, n);
    }
    if (rc)
        return rc;
    if (nn != n - (size_t)v2->num_nulls)
        return pqr_corrupt_at(c, pg->off,
                              "definition levels disagree with the null count");
    const uint8_t *p = NULL;
    size_t len = 0;
    size_t ulen = (size_t)pg->h.uncompressed_page_size - off;
    if (v2->is_compressed && plain_direct(c, v2->encoding, n, nn, ulen)) {
        c->pg_nulls = 0;
        return pqr_decompress_page(c, pg, pg->body + off, pg->csize - off,
                               c->direct, ulen);
    }
    rc = inflate_into(c, pg, pg->body + off, pg->csize - off, ulen,
                      v2->is_compressed, &s->data, &p, &len);
    if (rc)
        return rc;
    return decode_values(c, s, v2->encoding, p, len, n, nn);
}
