/* SPDX-License-Identifier: Apache-2.0 */
/*
 * writer_page.c — the page half of the writer: values arrive in a per-
 * column page accumulator (compact non-null values + definition levels,
 * plus dictionary indices), and a full page is encoded, compressed and
 * appended with its header to the column's chunk buffer. The chunk, row
 * group and footer half lives in writer.c; shared state in writer_int.h.
 *
 * Page boundaries are row boundaries (flat columns). Statistics and bloom
 * hashes are computed once per page from the compact values.
 */
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#include "merutable.h"
#include "parquet/bloom.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/writer_int.h"
#include "util/endian.h"
#include "util/error.h"

/* -------------------------------------------------------- page encoding */

static int encode_values_plain(colw *c, meru_buf *out)
{
    size_t n = c->pg_nonnull;
    switch (c->spec.type) {
    case PQ_BOOLEAN:
        return pq_plain_encode_bool(out, c->pg_vals.data, n);
    case PQ_BYTE_ARRAY: {
        const uint32_t *lens = (const uint32_t *)(void *)c->pg_vals.data;
        int rc = meru_buf_reserve(out, 4 * n + c->pg_bytes.len);
        if (rc)
            return rc;
        const uint8_t *p = c->pg_bytes.data;
        uint8_t *o = out->data + out->len;
        for (size_t i = 0; i < n; i++) {
            meru_store_le32(o, lens[i]);
            if (lens[i])
                memcpy(o + 4, p, lens[i]);
            o += 4 + lens[i];
            p += lens[i];
        }
        out->len = (size_t)(o - out->data);
        return MERU_OK;
    }
    default:
        return meru_buf_append(out, c->pg_vals.data, n * c->width);
    }
}

/* pq_bytes views of the page's byte-array (or FLBA) values in w->tmp. */
static int page_bytes_views(pq_writer *w, colw *c, const pq_bytes **out)
{
    size_t n = c->pg_nonnull;
    meru_buf_reset(&w->tmp);
    uint8_t *mem;
    int rc = meru_buf_extend(&w->tmp, n * sizeof(pq_bytes) + 1, &mem);
    if (rc)
        return rc;
    pq_bytes *v = (pq_bytes *)(void *)mem;
    if (c->spec.type == PQ_BYTE_ARRAY) {
        const uint32_t *lens = (const uint32_t *)(void *)c->pg_vals.data;
        const uint8_t *p = c->pg_bytes.data;
        for (size_t i = 0; i < n; i++) {
            v[i].ptr = p;
            v[i].len = lens[i];
            p += lens[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            v[i].ptr = c->pg_vals.data + i * c->width;
            v[i].len = (uint32_t)c->width;
        }
    }
    *out = v;
    return MERU_OK;
}

/* The page's values are their PLAIN encoding as accumulated (fixed width
 * but boolean): the page body can point at them instead of a copy. */
static bool values_as_is(const colw *c, bool dict_page)
{
    return !dict_page && c->enc == PQ_ENC_PLAIN &&
           c->spec.type != PQ_BOOLEAN && c->spec.type != PQ_BYTE_ARRAY;
}

static int encode_values(pq_writer *w, colw *c, bool dict_page, meru_buf *out)
{
    size_t n = c->pg_nonnull;
    if (dict_page)
        return pq_dict_indices_encode(out,
                                      (const uint32_t *)(void *)c->pg_idx.data,
                                      n, pq_dict_count(c->dict));
    switch (c->enc) {
    case PQ_ENC_PLAIN:
        return encode_values_plain(c, out);
    case PQ_ENC_RLE: {
        /* booleans: 4-byte length, then the hybrid runs (bit width 1) */
        meru_buf_reset(&w->tmp);
        uint8_t *mem;
        int rc = meru_buf_extend(&w->tmp, n * 4 + 4, &mem);
        if (rc)
            return rc;
        uint32_t *u = (uint32_t *)(void *)mem;
        for (size_t i = 0; i < n; i++)
            u[i] = c->pg_vals.data[i];
        size_t at = out->len;
        uint8_t *lenp;
        rc = meru_buf_extend(out, 4, &lenp);
        if (rc)
            return rc;
        rc = pq_rle_encode(out, u, n, 1);
        if (rc)
            return rc;
        meru_store_le32(out->data + at, (uint32_t)(out->len - at - 4));
        return MERU_OK;
    }
    case PQ_ENC_DELTA_BINARY_PACKED:
        if (c->spec.type == PQ_INT32)
            return pq_delta_encode_i32(
                out, (const int32_t *)(void *)c->pg_vals.data, n);
        return pq_delta_encode_i64(out,
                                   (const int64_t *)(void *)c->pg_vals.data, n);
    case PQ_ENC_BYTE_STREAM_SPLIT:
        return pq_bss_encode(out, c->pg_vals.data, n, c->width);
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
    case PQ_ENC_DELTA_BYTE_ARRAY: {
        const pq_bytes *v;
        int rc = page_bytes_views(w, c, &v);
        if (rc)
            return rc;
        if (c->enc == PQ_ENC_DELTA_LENGTH_BYTE_ARRAY)
            return pq_delta_length_encode(out, v, n);
        return pq_delta_bytes_encode(out, v, n);
    }
    default:
        return meru_err(MERU_EINTERNAL, "parquet writer: encoding %d",
                        (int)c->enc);
    }
}

/* Page statistics over the compact raw values, merged into the chunk's. */
static int page_stats(pq_writer *w, colw *c)
{
    pq_stats_reset(&c->pg_stats);
    pq_stats_add_nulls(&c->pg_stats, c->pg_rows - c->pg_nonnull);
    size_t n = c->pg_nonnull;
    const void *v = c->pg_vals.data;
    int rc = MERU_OK;
    if (c->stats && n) {
        switch (c->spec.type) {
        case PQ_BOOLEAN:
            pq_stats_add_bool(&c->pg_stats, v, n);
            break;
        case PQ_INT32:
            pq_stats_add_i32(&c->pg_stats, v, n);
            break;
        case PQ_INT64:
            pq_stats_add_i64(&c->pg_stats, v, n);
            break;
        case PQ_FLOAT:
            pq_stats_add_float(&c->pg_stats, v, n);
            break;
        case PQ_DOUBLE:
            pq_stats_add_double(&c->pg_stats, v, n);
            break;
        case PQ_BYTE_ARRAY:
        case PQ_FIXED_LEN_BYTE_ARRAY: {
            const pq_bytes *b;
            rc = page_bytes_views(w, c, &b);
            if (!rc)
                rc = pq_stats_add_bytes(&c->pg_stats, b, n);
            break;
        }
        default:
            break;
        }
    }
    if (!rc)
        rc = pq_stats_merge(&c->ch_stats, &c->pg_stats);
    return rc;
}

static int bloom_hashes(colw *c)
{
    size_t n = c->pg_nonnull;
    uint8_t *mem;
    if (n == 0)
        return MERU_OK;
    int rc = meru_buf_extend(&c->hashes, n * 8, &mem);
    if (rc)
        return rc;
    uint64_t *h = (uint64_t *)(void *)mem;
    const uint8_t *v = c->pg_vals.data;
    switch (c->spec.type) {
    case PQ_INT32:
        for (size_t i = 0; i < n; i++)
            h[i] = pq_bloom_hash_i32((int32_t)meru_load_le32(v + 4 * i));
        break;
    case PQ_INT64:
        for (size_t i = 0; i < n; i++)
            h[i] = pq_bloom_hash_i64((int64_t)meru_load_le64(v + 8 * i));
        break;
    case PQ_FLOAT:
        for (size_t i = 0; i < n; i++) {
            float f;
            memcpy(&f, v + 4 * i, 4);
            h[i] = pq_bloom_hash_float(f);
        }
        break;
    case PQ_DOUBLE:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, v + 8 * i, 8);
            h[i] = pq_bloom_hash_double(d);
        }
        break;
    case PQ_BYTE_ARRAY: {
        const uint32_t *lens = (const uint32_t *)(const void *)v;
        const uint8_t *p = c->pg_bytes.data;
        for (size_t i = 0; i < n; i++) {
            h[i] = pq_bloom_hash_bytes(p, lens[i]);
            p += lens[i];
        }
        break;
    }
    default: /* FLBA, INT96: the fixed bytes */
        for (size_t i = 0; i < n; i++)
            h[i] = pq_bloom_hash_bytes(v + i * c->width, c->width);
        break;
    }
    return MERU_OK;
}

void pqw_fill_statistics(colw *c, pq_stats_acc *a, pq_statistics *s)
{
    memset(s, 0, sizeof *s);
    s->has_null_count = true;
    s->null_count = a->null_count;
    pq_bytes lo, hi;
    if (c->stats && pq_stats_get(a, &lo, &hi)) {
        uint32_t hl = 0;
        int cut_max = pq_stats_cut_max(&hi, c->stat_cap, c->utf8, c->stat_max,
                                       &hl);
        if (cut_max < 0)
            return; /* no short upper bound: no bounds (null count only) */
        bool cut_min = pq_stats_cut_min(&lo, c->stat_cap, c->utf8);
        if (cut_max) {
            hi.ptr = c->stat_max;
            hi.len = hl;
        }
        s->has_min_value = s->has_max_value = true;
        s->min_value = lo;
        s->max_value = hi;
        s->has_is_min_value_exact = s->has_is_max_value_exact = true;
        s->is_min_value_exact = !cut_min;
        s->is_max_value_exact = !cut_max;
        if (pq_sort_order_legacy_ok(c->order)) {
            s->has_min = s->has_max = true;
            s->min = lo;
            s->max = hi;
        }
    }
}

static int push_ci_entry(colw *c)
{
    ci_entry e = {0};
    e.null_count = c->pg_stats.null_count;
    pq_bytes lo, hi;
    if (!pq_stats_get(&c->pg_stats, &lo, &hi)) {
        e.null_page = c->pg_nonnull == 0;
        e.no_bounds = !e.null_page;
    } else {
        /* Cut here, not when the index is written: the boundary order is
         * then computed on the bounds the file holds, and a row group of
         * huge values does not keep them all in memory. */
        int rc;
        uint32_t hl = 0;
        int cut = pq_stats_cut_max(&hi, c->ci_cap, c->utf8, c->ci_max, &hl);
        if (cut < 0) {
            /* No short upper bound: an index holding the whole value could
             * outgrow what readers accept, so the chunk gets none. */
            e.no_bounds = true;
            return meru_buf_append(&c->cis, &e, sizeof e);
        }
        if (cut > 0) {
            hi.ptr = c->ci_max;
            hi.len = hl;
        }
        (void)pq_stats_cut_min(&lo, c->ci_cap, c->utf8);
        e.min_off = (uint32_t)c->ci_bytes.len;
        e.min_len = lo.len;
        rc = meru_buf_append(&c->ci_bytes, lo.ptr, lo.len);
        if (rc)
            return rc;
        e.max_off = (uint32_t)c->ci_bytes.len;
        e.max_len = hi.len;
        rc = meru_buf_append(&c->ci_bytes, hi.ptr, hi.len);
        if (rc)
            return rc;
    }
    return meru_buf_append(&c->cis, &e, sizeof e);
}

int pqw_page_header(pq_writer *w, pq_page_header *h, const uint8_t *a,
                    size_t alen, const uint8_t *b, size_t blen)
{
    size_t body = alen + blen;
    if (body > INT32_MAX)
        return meru_err(MERU_ERANGE,
                        "parquet writer: page of %zu bytes is too large", body);
    h->compressed_page_size = (int32_t)body;
    if (w->o.page_crc) {
        /* libdeflate's CRC-32 (the same polynomial as zlib's) folds with
         * carry-less multiplies: ~10x fewer instructions than zlib's. */
        uint32_t crc = 0;
        if (alen)
            crc = libdeflate_crc32(crc, a, alen);
        if (blen)
            crc = libdeflate_crc32(crc, b, blen);
        h->has_crc = true;
        h->crc = (int32_t)crc;
    }
    meru_buf_reset(&w->hdr);
    return pq_encode_page_header(&w->hdr, h);
}

static void page_reset(colw *c)
{
    c->pg_rows = c->pg_nonnull = c->pg_raw = 0;
    meru_buf_reset(&c->pg_defs);
    meru_buf_reset(&c->pg_vals);
    meru_buf_reset(&c->pg_bytes);
    meru_buf_reset(&c->pg_idx);
}

/* Abandons the dictionary for the rest of the row group. */
static void dict_fall_back(colw *c)
{
    c->use_dict = false;
    c->fell_back = true;
    meru_buf_reset(&c->pg_idx);
    if (c->n_dict_pages == 0)
        pq_dict_reset(c->dict);
}

/* First page of a chunk whose floats the profile split by byte stream:
 * compress the page both ways and keep BYTE_STREAM_SPLIT for the chunk
 * only if it comes out smaller than PLAIN (with no codec they are the same
 * size, and PLAIN is cheaper to read). Costs two compressions of one page
 * per chunk. The codec's own trial (page_compress) is decided here too,
 * from the smaller of the two: a chunk the codec does not pay for is
 * PLAIN and uncompressed, never split floats stored raw. */
static int bss_trial(pq_writer *w, colw *c)
{
    c->bss_trial = false;
    size_t n = c->pg_nonnull;
    if (n == 0 || c->codec == PQ_CODEC_UNCOMPRESSED) {
        c->enc = PQ_ENC_PLAIN;
        return MERU_OK;
    }
    meru_buf_reset(&w->vals);
    meru_buf_reset(&w->comp);
    int rc = pq_bss_encode(&w->vals, c->pg_vals.data, n, c->width);
    if (!rc)
        rc = pq_compress(c->codec, w->o.codec_level, w->vals.data,
                         w->vals.len, &w->comp);
    if (rc)
        return rc;
    size_t bss = w->comp.len;
    meru_buf_reset(&w->comp);
    rc = pq_compress(c->codec, w->o.codec_level, c->pg_vals.data,
                     n * c->width, &w->comp);
    if (rc)
        return rc;
    size_t plain = w->comp.len;
    if (plain <= bss)
        c->enc = PQ_ENC_PLAIN;
    if (c->codec_trial) {
        c->codec_trial = false;
        size_t raw = n * c->width, best = plain < bss ? plain : bss;
        size_t saved = best < raw ? raw - best : 0;
        if ((double)saved < w->o.codec_min_saving * (double)raw) {
            c->enc = PQ_ENC_PLAIN;
            c->codec = PQ_CODEC_UNCOMPRESSED;
        }
    }
    return MERU_OK;
}

/* Compresses a page's (src, n) into w->comp with the chunk's codec. The
 * chunk's first page decides whether the codec pays for the chunk: if it
 * saves less than codec_min_saving of the bytes, the chunk is stored
 * uncompressed from this page on and *kept is false (the caller writes src
 * as it is). The trial costs nothing the page would not have cost anyway:
 * one compression of one page. A chunk whose first page is dictionary-
 * encoded keeps its codec (its dictionary page, written last, usually
 * compresses where small indices do not).
 *
 * A v2 data page says for itself whether its values are compressed
 * (is_compressed), so with `per_page` (v2) any later page that saves less
 * than codec_min_saving is stored as it is too, in a chunk that keeps its
 * codec: above all the small indices of a dictionary chunk. Readers then
 * skip its decompression; DuckDB pays ~15-30 us per compressed page it
 * reads on a virtual machine (a fresh zstd context per page, whose set-up
 * runs cpuid, which traps to the hypervisor), ~1.6 ms of a GROUP BY over
 * a 12-value string column of 1M rows in 64 pages (bench/RESULTS.md,
 * "DuckDB's cost per page"). */
static int page_compress(pq_writer *w, colw *c, bool dict_page, bool per_page,
                         const uint8_t *src, size_t n, bool *kept)
{
    *kept = true;
    int rc = pq_compress(c->codec, w->o.codec_level, src, n, &w->comp);
    if (rc)
        return rc;
    size_t saved = w->comp.len < n ? n - w->comp.len : 0;
    bool pays = (double)saved >= w->o.codec_min_saving * (double)n;
    /* a page of nulls only says nothing of the values: the trial waits */
    if (c->codec_trial && (dict_page || c->pg_nonnull > 0)) {
        c->codec_trial = false;
        if (!dict_page && !pays) {
            c->codec = PQ_CODEC_UNCOMPRESSED;
            *kept = false;
            return MERU_OK;
        }
    }
    if (per_page && !pays && w->o.codec_min_saving > 0.0)
        *kept = false;
    return MERU_OK;
}

int pqw_flush_page(pq_writer *w, colw *c)
{
    if (c->pg_rows == 0)
        return MERU_OK;
    int rc;
    bool optional = c->spec.repetition == PQ_OPTIONAL;

    /* First page of a dictionary chunk: keep the dictionary only if it
     * pays (parquet-mr's rule). */
    if (c->use_dict && c->n_dict_pages == 0 && c->pg_nonnull > 0) {
        uint32_t cnt = pq_dict_count(c->dict);
        size_t idx_bytes =
            (c->pg_nonnull * (size_t)pq_bit_width(cnt ? cnt - 1 : 0) + 7) / 8;
        if (pq_dict_plain_bytes(c->dict) + idx_bytes >= c->pg_raw)
            dict_fall_back(c);
    }
    bool dict_page = c->use_dict;
    if (c->bss_trial && !dict_page) {
        rc = bss_trial(w, c);
        if (rc)
            return rc;
    }

    rc = page_stats(w, c);
    if (rc)
        return rc;
    if (c->spec.bloom_filter) {
        rc = bloom_hashes(c);
        if (rc)
            return rc;
    }

    pq_page_header h;
    memset(&h, 0, sizeof h);
    pq_encoding enc =
        dict_page ? (w->o.data_page_version == 1 ? PQ_ENC_PLAIN_DICTIONARY
                                                 : PQ_ENC_RLE_DICTIONARY)
                  : c->enc;
    pq_statistics st;
    pqw_fill_statistics(c, &c->pg_stats, &st);
    /* With a page index, byte-array bounds go to the column index (cut to
     * column_index_truncate): exact copies in every page header would cost
     * up to twice the longest value per page (a 100-byte string column in
     * 8 KiB pages: +5 % of the file) and no reader needs them there. */
    if (w->o.page_index && c->order == PQ_ORDER_BYTES) {
        st.has_min_value = st.has_max_value = false;
        st.has_min = st.has_max = false;
        st.has_is_min_value_exact = st.has_is_max_value_exact = false;
    }
    const uint32_t *defs = (const uint32_t *)(void *)c->pg_defs.data;
    const uint8_t *pa, *pb = NULL;
    size_t alen, blen = 0, uncompressed;

    meru_buf_reset(&w->body);
    meru_buf_reset(&w->comp);
    if (w->o.data_page_version == 1) {
        if (optional) {
            uint8_t *lenp;
            rc = meru_buf_extend(&w->body, 4, &lenp);
            if (!rc)
                rc = pq_rle_encode(&w->body, defs, c->pg_rows, 1);
            if (rc)
                return rc;
            meru_store_le32(w->body.data, (uint32_t)(w->body.len - 4));
        }
        bool compressed = c->codec != PQ_CODEC_UNCOMPRESSED;
        if (values_as_is(c, dict_page) && (!compressed || !optional)) {
            /* levels (if any) then the accumulated values, uncopied */
            pa = w->body.data;
            alen = w->body.len;
            pb = c->pg_vals.data;
            blen = c->pg_nonnull * c->width;
        } else {
            rc = encode_values(w, c, dict_page, &w->body);
            if (rc)
                return rc;
            pa = w->body.data;
            alen = w->body.len;
        }
        uncompressed = alen + blen;
        if (compressed) {
            /* one of a and b is empty here */
            rc = page_compress(w, c, dict_page, false, alen ? pa : pb,
                               alen ? alen : blen, &compressed);
            if (rc)
                return rc;
        }
        if (compressed) {
            pa = w->comp.data;
            alen = w->comp.len;
            pb = NULL;
            blen = 0;
        }
        h.type = PQ_PAGE_DATA;
        h.has_data_page_header = true;
        h.data_page_header.num_values = (int32_t)c->pg_rows;
        h.data_page_header.encoding = enc;
        h.data_page_header.definition_level_encoding = PQ_ENC_RLE;
        h.data_page_header.repetition_level_encoding = PQ_ENC_RLE;
        h.data_page_header.has_statistics = true;
        h.data_page_header.statistics = st;
    } else {
        if (optional) {
            rc = pq_rle_encode(&w->body, defs, c->pg_rows, 1);
            if (rc)
                return rc;
        }
        size_t lvl = w->body.len;
        const uint8_t *vp;
        size_t vlen;
        if (values_as_is(c, dict_page)) {
            vp = c->pg_vals.data;
            vlen = c->pg_nonnull * c->width;
        } else {
            meru_buf_reset(&w->vals);
            rc = encode_values(w, c, dict_page, &w->vals);
            if (rc)
                return rc;
            vp = w->vals.data;
            vlen = w->vals.len;
        }
        uncompressed = lvl + vlen;
        bool compressed = c->codec != PQ_CODEC_UNCOMPRESSED;
        pa = w->body.data;
        alen = lvl;
        if (compressed) {
            rc = page_compress(w, c, dict_page, true, vp, vlen,
                               &compressed);
            if (rc)
                return rc;
        }
        if (compressed) {
            pb = w->comp.data;
            blen = w->comp.len;
        } else {
            pb = vp;
            blen = vlen;
        }
        h.type = PQ_PAGE_DATA_V2;
        h.has_data_page_header_v2 = true;
        pq_data_page_header_v2 *v2 = &h.data_page_header_v2;
        v2->num_values = (int32_t)c->pg_rows;
        v2->num_nulls = (int32_t)(c->pg_rows - c->pg_nonnull);
        v2->num_rows = (int32_t)c->pg_rows;
        v2->encoding = enc;
        v2->definition_levels_byte_length = (int32_t)lvl;
        v2->repetition_levels_byte_length = 0;
        v2->is_compressed = compressed;
        v2->has_statistics = true;
        v2->statistics = st;
    }
    if (uncompressed > INT32_MAX)
        return meru_err(MERU_ERANGE,
                        "parquet writer: column %s: page of %zu bytes is too "
                        "large",
                        c->spec.name, uncompressed);
    h.uncompressed_page_size = (int32_t)uncompressed;

    page_loc loc = {.off = c->data.len, .first_row = c->ch_values};
    rc = pqw_page_header(w, &h, pa, alen, pb, blen);
    if (!rc)
        rc = pqw_chain_append(&c->data, w->hdr.data, w->hdr.len);
    if (!rc)
        rc = pqw_chain_append(&c->data, pa, alen);
    if (!rc)
        rc = pqw_chain_append(&c->data, pb, blen);
    if (rc)
        return rc;
    size_t total = w->hdr.len + alen + blen;
    loc.size = (int32_t)total;
    rc = meru_buf_append(&c->locs, &loc, sizeof loc);
    if (!rc)
        rc = push_ci_entry(c);
    if (rc)
        return rc;
    c->ch_uncompressed += (int64_t)(total - alen - blen + uncompressed);
    c->ch_compressed += (int64_t)total;
    c->ch_values += (int64_t)c->pg_rows;
    c->enc_used[enc] = true;
    if (dict_page)
        c->n_dict_pages++;
    else
        c->n_plain_pages++;
    page_reset(c);
    return MERU_OK;
}

/* ------------------------------------------------------------ appending */

size_t pqw_page_estimate(const colw *c)
{
    if (c->use_dict) {
        uint32_t cnt = pq_dict_count(c->dict);
        return (c->pg_nonnull * (size_t)pq_bit_width(cnt) + 7) / 8;
    }
    return c->pg_raw;
}

/* The column's own page limits, else the writer's. A dictionary page
 * holds small indices, narrow values whatever the column's type, so it
 * keeps the writer's page_size: a column's page_size is for wide values
 * (see page_full for the dictionary's trial page). */
static uint32_t col_page_size(const pq_writer *w, const colw *c)
{
    return c->spec.page_size && !c->use_dict ? c->spec.page_size
                                             : w->o.page_size;
}

static uint32_t col_page_rows(const pq_writer *w, const colw *c)
{
    return c->spec.page_rows ? c->spec.page_rows : w->o.page_rows;
}

/* Readers decode a column chunk in batches of a fixed number of rows
 * (DuckDB: 2048, a multiple of Arrow's and Velox's 1024). A batch that
 * spans two pages of dictionary indexes is copied out value by value and
 * starts the next page's bit-unpacking mid-byte, off the readers' fast
 * path: DuckDB's GROUP BY over such a column cost ~1.7x its own files'
 * (bench_analytic, "Analytical check"). So after the trial page,
 * dictionary pages end where the chunk's row count is a multiple of
 * this; only the first batch of a chunk spans the trial page. */
#define PQ_READER_BATCH_ROWS 2048

/* Dictionary pages after the trial page: full at the last aligned row
 * count that keeps the page within its row cap and size. The cap still
 * binds exactly when it is below one batch. */
static bool dict_page_full(const pq_writer *w, const colw *c, uint32_t rows)
{
    if (rows && rows < PQ_READER_BATCH_ROWS)
        return c->pg_rows >= rows;
    uint64_t at = (uint64_t)c->ch_values + c->pg_rows;
    if (at % PQ_READER_BATCH_ROWS != 0)
        return rows && c->pg_rows >= rows;
    if (rows && c->pg_rows + PQ_READER_BATCH_ROWS > rows)
        return true;
    return pqw_page_estimate(c) >= col_page_size(w, c);
}

static bool page_full(const pq_writer *w, const colw *c)
{
    uint32_t rows = col_page_rows(w, c);
    if (c->use_dict && c->n_dict_pages > 0)
        return dict_page_full(w, c, rows);
    if (rows && c->pg_rows >= rows)
        return true;
    /* The first page of a dictionary chunk decides whether the dictionary
     * pays (pqw_flush_page). With a page_size of its own the column wants
     * short pages of wide values: that trial page ends at page_size bytes
     * of plain values, or a column of distinct values would write one
     * page of thousands of rows (as many as page_size bytes of indices
     * hold) before falling back to short plain pages. */
    if (c->spec.page_size && c->use_dict && c->n_dict_pages == 0 &&
        c->pg_raw >= c->spec.page_size)
        return true;
    return pqw_page_estimate(c) >= col_page_size(w, c);
}

static int push_def(colw *c, uint32_t d)
{
    return meru_buf_append(&c->pg_defs, &d, sizeof d);
}

/* One value into the page (and the dictionary when in use). */
static int add_value(pq_writer *w, colw *c, const void *src, uint32_t len)
{
    int rc;
    if (c->spec.type == PQ_BYTE_ARRAY) {
        rc = meru_buf_append(&c->pg_vals, &len, 4);
        if (!rc)
            rc = meru_buf_append(&c->pg_bytes, src, len);
        c->pg_raw += 4 + (size_t)len;
    } else {
        rc = meru_buf_append(&c->pg_vals, src, c->width);
        c->pg_raw += c->width;
    }
    if (rc)
        return rc;
    c->pg_nonnull++;
    if (c->use_dict) {
        uint32_t idx;
        rc = pq_dict_insert(c->dict, src, len, &idx);
        if (!rc)
            rc = meru_buf_append(&c->pg_idx, &idx, 4);
        if (rc)
            return rc;
        /* past the cap: this page stays dictionary-encoded, the rest of
         * the row group is plain (col_append flushes after the row) */
        if (pq_dict_plain_bytes(c->dict) > w->o.dict_page_size_limit)
            c->dict_overflow = true;
    }
    return MERU_OK;
}

int pqw_col_append(pq_writer *w, colw *c, const pq_column_data *cd, size_t r0,
                   size_t n)
{
    const uint8_t *valid = cd->valid;
    bool optional = c->spec.repetition == PQ_OPTIONAL;
    size_t i = r0, end = r0 + n;
    int rc;

    /* Fast path: fixed width, no dictionary. Copy runs of rows that fit
     * the page in bulk. */
    if (!c->use_dict && c->spec.type != PQ_BYTE_ARRAY &&
        c->spec.type != PQ_FIXED_LEN_BYTE_ARRAY) {
        const uint8_t *src = cd->values;
        uint32_t prows = col_page_rows(w, c), psize = col_page_size(w, c);
        while (i < end) {
            size_t room = end - i;
            if (prows && prows - c->pg_rows < room)
                room = prows - c->pg_rows;
            size_t left =
                c->pg_raw < psize
                    ? (psize - c->pg_raw + c->width - 1) / c->width
                    : 1;
            if (left < room)
                room = left;
            if (!valid) {
                rc = meru_buf_append(&c->pg_vals, src + i * c->width,
                                     room * c->width);
                if (rc)
                    return rc;
                if (optional) {
                    uint8_t *mem;
                    rc = meru_buf_extend(&c->pg_defs, room * 4, &mem);
                    if (rc)
                        return rc;
                    uint32_t *d = (uint32_t *)(void *)mem;
                    for (size_t k = 0; k < room; k++)
                        d[k] = 1;
                }
                c->pg_nonnull += room;
                c->pg_raw += room * c->width;
            } else {
                rc = meru_buf_reserve(&c->pg_vals, room * c->width);
                if (rc)
                    return rc;
                uint32_t *d = NULL;
                if (optional) {
                    uint8_t *mem;
                    rc = meru_buf_extend(&c->pg_defs, room * 4, &mem);
                    if (rc)
                        return rc;
                    d = (uint32_t *)(void *)mem;
                }
                uint8_t *o = c->pg_vals.data + c->pg_vals.len;
                size_t nn = 0;
                for (size_t k = 0; k < room; k++) {
                    bool v = valid[i + k] != 0;
                    if (d)
                        d[k] = v;
                    if (v) {
                        memcpy(o + nn * c->width, src + (i + k) * c->width,
                               c->width);
                        nn++;
                    }
                }
                c->pg_vals.len += nn * c->width;
                c->pg_nonnull += nn;
                c->pg_raw += nn * c->width;
            }
            c->pg_rows += room;
            i += room;
            if (page_full(w, c)) {
                rc = pqw_flush_page(w, c);
                if (rc)
                    return rc;
            }
        }
        return MERU_OK;
    }

    /* Byte arrays without a dictionary: find the rows that fill the page,
     * then copy their lengths and bytes in one go. Pages end where the
     * row-by-row loop below would end them. */
    if (!c->use_dict && c->spec.type == PQ_BYTE_ARRAY) {
        const pq_bytes *b = cd->values;
        uint32_t prows = col_page_rows(w, c), psize = col_page_size(w, c);
        while (i < end) {
            size_t room = end - i;
            if (prows && prows - c->pg_rows < room)
                room = prows - c->pg_rows;
            size_t raw = c->pg_raw, bytes = 0, nn = 0, k = 0;
            while (k < room) {
                size_t r = i + k++;
                if (valid && !valid[r])
                    continue;
                nn++;
                bytes += b[r].len;
                raw += 4 + (size_t)b[r].len;
                if (raw >= psize)
                    break;
            }
            if ((rc = meru_buf_reserve(&c->pg_vals, nn * 4)) ||
                (rc = meru_buf_reserve(&c->pg_bytes, bytes)) ||
                (optional && (rc = meru_buf_reserve(&c->pg_defs, k * 4))))
                return rc;
            uint32_t *lens = (uint32_t *)(void *)(c->pg_vals.data +
                                                  c->pg_vals.len);
            uint8_t *o = c->pg_bytes.data + c->pg_bytes.len;
            uint32_t *d = optional ? (uint32_t *)(void *)(c->pg_defs.data +
                                                          c->pg_defs.len)
                                   : NULL;
            for (size_t j = 0; j < k; j++) {
                size_t r = i + j;
                bool v = !valid || valid[r];
                if (d)
                    d[j] = v;
                if (!v)
                    continue;
                *lens++ = b[r].len;
                if (b[r].len) {
                    memcpy(o, b[r].ptr, b[r].len);
                    o += b[r].len;
                }
            }
            c->pg_vals.len += nn * 4;
            c->pg_bytes.len += bytes;
            if (d)
                c->pg_defs.len += k * 4;
            c->pg_nonnull += nn;
            c->pg_raw = raw;
            c->pg_rows += k;
            i += k;
            if (page_full(w, c)) {
                rc = pqw_flush_page(w, c);
                if (rc)
                    return rc;
            }
        }
        return MERU_OK;
    }

    for (; i < end; i++) {
        bool v = !valid || valid[i];
        if (v) {
            const void *p;
            uint32_t len;
            if (c->spec.type == PQ_BYTE_ARRAY ||
                c->spec.type == PQ_FIXED_LEN_BYTE_ARRAY) {
                const pq_bytes *b = (const pq_bytes *)cd->values + i;
                p = b->ptr;
                len = b->len;
            } else {
                p = (const uint8_t *)cd->values + i * c->width;
                len = (uint32_t)c->width;
            }
            rc = add_value(w, c, p, len);
            if (rc)
                return rc;
        }
        if (optional) {
            rc = push_def(c, v);
            if (rc)
                return rc;
        }
        c->pg_rows++;
        if (c->dict_overflow || page_full(w, c)) {
            rc = pqw_flush_page(w, c);
            if (rc)
                return rc;
            if (c->dict_overflow) {
                c->dict_overflow = false;
                c->use_dict = false;
                c->fell_back = true;
            }
        }
    }
    return MERU_OK;
}
