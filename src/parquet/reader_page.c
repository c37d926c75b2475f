/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reader_page.c — column cursors: stream the pages of one column chunk and
 * decode them into flat, dense, typed arrays (API in pq.h).
 *
 * A page is read (header window first, body after when it did not fit),
 * its CRC checked, decompressed into a "slot", its definition levels and
 * values decoded in one pass into the slot's dense arrays. A batch that
 * fits in the current page is returned as pointers into the slot (no
 * copy); a batch spanning pages is assembled in cursor buffers, and for
 * byte arrays the slots it points into are pinned until the next call.
 *
 * Invariants:
 *  - Every size from a header is checked before use: the page lies inside
 *    the chunk, the uncompressed size is capped (PQR_MAX_PAGE) and must be
 *    what the codec produces, a page never holds more values than the
 *    chunk has left, levels and values must decode to exactly the counts
 *    the header states, dictionary indices are < the dictionary size.
 *  - Slots and scratch buffers are reused page after page: no per-value
 *    allocation, memory is a few pages of this column.
 *
 * It does not: handle repetition levels (flat schemas only) or decode
 * encodings the spec does not define for a type (MERU_ENOTSUP).
 */
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/reader_int.h"
#include "util/endian.h"
#include "util/error.h"
#include "util/varint.h"

#define WIN_MIN (16u * 1024u)
#define WIN_MAX (8u << 20)

typedef struct slot {
    meru_buf data;    /* decompressed page bytes (byte-array views) */
    meru_buf storage; /* DELTA_BYTE_ARRAY / BSS materialised values */
    meru_buf vals;    /* dense values */
    meru_buf valid;   /* dense validity */
    bool pinned;
} slot;

struct pq_cursor {
    pq_reader *r;
    uint32_t rg, col;
    const pq_column_info *info;
    const pq_column_meta *m;
    bool optional;
    bool views;   /* values are pq_bytes views (pin slots) */
    size_t width; /* bytes per output value */
    uint64_t start, end, pos;
    int64_t nvals;
    int64_t next_first; /* first row of the next page to load */
    int64_t row;        /* next row to return */

    slot *cur;
    size_t pg_n, pg_pos;
    int64_t pg_first;
    slot **slots;
    uint32_t nslots;

    bool dict_loaded;
    uint64_t dict_pos;
    uint32_t dict_n;
    meru_buf dict_data, dict_vals;

    meru_buf win, cbuf, lvl, idx, bvals, bvalid;
    meru_arena *harena;
    size_t win_hint;
    bool oi_tried;
    const pq_offset_index *oi;
    int64_t pg_ord; /* offset-index ordinal of the data page at pos, or -1 */
    pq_cursor_stats st;
    bool skip_crc; /* pq_cursor_set_skip_crc */
    /* pq_cursor_read_page: the caller's array the values of the page of
     * direct_n rows go to instead of a slot (NULL otherwise) */
    uint8_t *direct;
    size_t direct_n;
    size_t pg_nulls; /* nulls in the page last decoded */
    /* Decode-ahead (reader_ahead.c): the readahead attached, the stream
     * on it once the cursor has read on in sequence long enough
     * (seq_bytes decompressed bytes of pages since open or a seek), and
     * whether the slot being decoded already holds the page's value
     * bytes from it. */
    pq_readahead *ra;
    pqr_stream *stream;
    uint64_t seq_bytes;
    bool pre_inflated;
};

static const char *cname(const pq_cursor *c)
{
    return c->info->name;
}

static int corrupt_at(const pq_cursor *c, uint64_t off, const char *what)
{
    return meru_err(MERU_ECORRUPT,
                    "parquet: column %s row group %u: %s (page at offset "
                    "%llu)",
                    cname(c), c->rg, what, (unsigned long long)off);
}

/* Plain width of a fixed physical type (0 for byte arrays, bool). */
static size_t plain_width(const pq_column_info *i)
{
    switch (i->type) {
    case PQ_INT32:
    case PQ_FLOAT:
        return 4;
    case PQ_INT64:
    case PQ_DOUBLE:
        return 8;
    case PQ_INT96:
        return 12;
    case PQ_FIXED_LEN_BYTE_ARRAY:
        return (size_t)i->type_length;
    default:
        return 0;
    }
}

/* Sizes b to n bytes (contents undefined: every user writes all n before
 * reading them) plus 16 zero bytes after them. */
static int buf_size(meru_buf *b, size_t n)
{
    meru_buf_reset(b);
    if (n > SIZE_MAX - 16)
        return meru_err(MERU_ENOMEM, "parquet: buffer of %zu bytes", n);
    /* +16: decoders may be handed a zero-length region safely */
    int rc = meru_buf_reserve(b, n + 16);
    if (rc)
        return rc;
    memset(b->data + n, 0, 16);
    b->len = n;
    return MERU_OK;
}

/* ---------------------------------------------------------------- open */

static void slot_free(slot *s)
{
    if (!s)
        return;
    meru_buf_free(&s->data);
    meru_buf_free(&s->storage);
    meru_buf_free(&s->vals);
    meru_buf_free(&s->valid);
    free(s);
}

void pq_cursor_close(pq_cursor *c)
{
    if (!c)
        return;
    pqr_stream_close(c->stream); /* first: the worker may be on its pages */
    for (uint32_t i = 0; i < c->nslots; i++)
        slot_free(c->slots[i]);
    free(c->slots);
    meru_buf_free(&c->dict_data);
    meru_buf_free(&c->dict_vals);
    meru_buf_free(&c->win);
    meru_buf_free(&c->cbuf);
    meru_buf_free(&c->lvl);
    meru_buf_free(&c->idx);
    meru_buf_free(&c->bvals);
    meru_buf_free(&c->bvalid);
    meru_arena_free(c->harena);
    free(c);
}

int pq_cursor_open(pq_reader *r, uint32_t rg, uint32_t col, pq_cursor **out)
{
    *out = NULL;
    if (rg >= r->meta.n_row_groups || col >= r->ncols)
        return meru_err(MERU_EINVAL,
                        "parquet: no column chunk (row group %u, column %u)",
                        rg, col);
    const pq_column_info *info = &r->cols[col];
    const pq_column_meta *m = pq_reader_chunk(r, rg, col);
    int64_t rows = r->meta.row_groups[rg].num_rows;
    if (m->num_values != rows)
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u has %lld values but "
                        "the row group has %lld rows",
                        info->name, rg, (long long)m->num_values,
                        (long long)rows);
    if (!pq_codec_supported(m->codec, false))
        return meru_err(MERU_ENOTSUP,
                        "parquet: column %s row group %u: codec %s is not "
                        "supported",
                        info->name, rg, pq_codec_name(m->codec));
    uint64_t start = 0, end = 0;
    if (rows > 0) {
        int rc = pqr_chunk_range(r, rg, col, &start, &end);
        if (rc)
            return rc;
    }
    pq_cursor *c = calloc(1, sizeof *c);
    if (!c)
        return meru_err(MERU_ENOMEM, "parquet: out of memory");
    c->r = r;
    c->rg = rg;
    c->col = col;
    c->info = info;
    c->m = m;
    c->optional = info->repetition == PQ_OPTIONAL;
    c->width = pq_value_width(info->type);
    c->views =
        info->type == PQ_BYTE_ARRAY || info->type == PQ_FIXED_LEN_BYTE_ARRAY;
    c->start = c->pos = start;
    c->end = end;
    c->nvals = rows;
    c->win_hint = WIN_MIN;
    c->pg_ord = -1;
    int rc = meru_arena_new(&c->harena, 16 * 1024);
    if (rc) {
        pq_cursor_close(c);
        return rc;
    }
    *out = c;
    return MERU_OK;
}

void pq_cursor_set_readahead(pq_cursor *c, pq_readahead *ra)
{
    if (!c || c->ra == ra)
        return;
    pqr_stream_close(c->stream);
    c->stream = NULL;
    c->ra = ra;
}

void pq_cursor_set_skip_crc(pq_cursor *c, bool skip)
{
    if (c)
        c->skip_crc = skip;
}

int64_t pq_cursor_row(const pq_cursor *c)
{
    return c->row;
}

void pq_cursor_get_stats(const pq_cursor *c, pq_cursor_stats *out)
{
    *out = c->st;
}

/* ------------------------------------------------------------ page I/O */

typedef struct page_in {
    pq_page_header h;
    uint64_t off;        /* of the header */
    size_t hlen;         /* header bytes */
    size_t csize;        /* body bytes */
    const uint8_t *body; /* NULL until read */
    bool mapped;         /* body is the source's own bytes (base) */
} page_in;

/* Decodes the header at c->pos from the source's bytes in place (a map or
 * memory source): the body then needs no read either. */
static int map_header(pq_cursor *c, page_in *pg, uint64_t avail)
{
    size_t want = avail < PQR_MAX_HEADER ? (size_t)avail : PQR_MAX_HEADER;
    meru_arena_reset(c->harena);
    size_t used = 0;
    int rc = pq_decode_page_header(c->r->src.base + c->pos, want, c->harena,
                                   &pg->h, &used);
    if (rc)
        return meru_err_wrap(rc,
                             "parquet: column %s row group %u: page header at "
                             "offset %llu",
                             cname(c), c->rg, (unsigned long long)c->pos);
    pg->hlen = used;
    c->st.bytes_read += used;
    return MERU_OK;
}

/* Reads and decodes the header at c->pos through the source's read_at,
 * in a window that grows (up to PQR_MAX_HEADER) until the header fits. */
static int copy_header(pq_cursor *c, page_in *pg, uint64_t avail)
{
    size_t want = avail < c->win_hint ? (size_t)avail : c->win_hint;
    for (;;) {
        int rc = buf_size(&c->win, want);
        if (!rc)
            rc = pqr_read(c->r, c->pos, want, c->win.data);
        if (rc)
            return rc;
        c->st.bytes_read += want;
        meru_arena_reset(c->harena);
        size_t used = 0;
        rc = pq_decode_page_header(c->win.data, want, c->harena, &pg->h, &used);
        if (!rc) {
            pg->hlen = used;
            return MERU_OK;
        }
        if (want >= avail || want >= PQR_MAX_HEADER)
            return meru_err_wrap(rc,
                                 "parquet: column %s row group %u: page "
                                 "header at offset %llu",
                                 cname(c), c->rg, (unsigned long long)c->pos);
        want = want * 4 < avail ? want * 4 : (size_t)avail;
    }
}

static int read_header(pq_cursor *c, page_in *pg)
{
    uint64_t avail = c->end - c->pos;
    const uint8_t *base = c->r->src.base;
    pg->off = c->pos;
    /* [start, end) of the chunk lies inside the file (pqr_chunk_range), so
     * base + pos has avail bytes */
    int rc = base ? map_header(c, pg, avail) : copy_header(c, pg, avail);
    if (rc)
        return rc;
    int32_t cs = pg->h.compressed_page_size, us = pg->h.uncompressed_page_size;
    if (cs < 0 || us < 0 || (uint64_t)cs > avail - pg->hlen)
        return corrupt_at(c, pg->off,
                          "page size does not fit in the column chunk");
    if ((uint32_t)us > PQR_MAX_PAGE)
        return corrupt_at(c, pg->off, "uncompressed page size over 1 GiB");
    pg->csize = (size_t)cs;
    size_t total = pg->hlen + pg->csize;
    size_t hint = total + 1024;
    c->win_hint = hint < WIN_MIN ? WIN_MIN : hint > WIN_MAX ? WIN_MAX : hint;
    pg->body = NULL;
    pg->mapped = base != NULL;
    if (base)
        pg->body = base + pg->off + pg->hlen;
    else if (total <= c->win.len)
        pg->body = c->win.data + pg->hlen;
    return MERU_OK;
}

/* The flag recording that this data page's CRC was verified (in-place
 * sources only: the same bytes are met again), or NULL. The page must be
 * the one the offset index names at the cursor's ordinal. */
static atomic_uchar *crc_flag(const pq_cursor *c, const page_in *pg)
{
    if (!pg->mapped || c->pg_ord < 0 || !c->oi)
        return NULL;
    const pqr_chunk_cache *k = &c->r->cache[(size_t)c->rg * c->r->ncols + c->col];
    /* c->oi is k->oi, which crc_ok has a flag per page of */
    if (!k->crc_ok || (uint64_t)c->pg_ord >= c->oi->n_pages ||
        c->oi->page_locations[c->pg_ord].offset != (int64_t)pg->off)
        return NULL;
    return &k->crc_ok[c->pg_ord];
}

static int read_body(pq_cursor *c, page_in *pg, atomic_uchar *crc_seen)
{
    if (pg->mapped)
        c->st.bytes_read += pg->csize;
    if (!pg->body) {
        int rc = buf_size(&c->cbuf, pg->csize);
        if (!rc)
            rc = pqr_read(c->r, pg->off + pg->hlen, pg->csize, c->cbuf.data);
        if (rc)
            return rc;
        c->st.bytes_read += pg->csize;
        pg->body = c->cbuf.data;
    }
    if (pg->h.has_crc && !c->r->o.skip_crc && !c->skip_crc &&
        !(crc_seen && atomic_load_explicit(crc_seen, memory_order_relaxed))) {
        /* libdeflate's CRC-32 (zlib's polynomial, carry-less multiply
         * folding): a 5 KB page costs ~1k instructions instead of ~12k. */
        uint32_t crc = libdeflate_crc32(0, pg->body, pg->csize);
        if (crc != (uint32_t)pg->h.crc)
            return meru_err(MERU_ECORRUPT,
                            "page CRC mismatch in column %s row group %u at "
                            "offset %llu",
                            cname(c), c->rg, (unsigned long long)pg->off);
        if (crc_seen)
            atomic_store_explicit(crc_seen, 1, memory_order_relaxed);
    }
    return MERU_OK;
}

/* Decompresses a page body of srclen bytes into exactly ulen bytes at dst,
 * with the page's place in the error. */
static int decompress_page(pq_cursor *c, const page_in *pg,
                           const uint8_t *src, size_t srclen, uint8_t *dst,
                           size_t ulen)
{
    int rc = pq_decompress(c->m->codec, src, srclen, dst, ulen);
    if (rc)
        return meru_err_wrap(rc,
                             "parquet: column %s row group %u: page at "
                             "offset %llu",
                             cname(c), c->rg, (unsigned long long)pg->off);
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
        int rc = buf_size(dst, srclen);
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
    int rc = buf_size(dst, n);
    if (rc)
        return rc;
    *out = dst->data;
    *outlen = n;
    if (n == 0)
        return MERU_OK; /* nothing to inflate, whatever the stream says */
    return decompress_page(c, pg, src, srclen, dst->data, n);
}

/* --------------------------------------------------------- dictionary */

static int load_dict(pq_cursor *c, page_in *pg)
{
    const pq_dictionary_page_header *dh = &pg->h.dictionary_page_header;
    if (!pg->h.has_dictionary_page_header)
        return corrupt_at(c, pg->off, "dictionary page without its header");
    if (c->dict_loaded)
        return corrupt_at(c, pg->off, "second dictionary page in the chunk");
    if (c->next_first > 0)
        return corrupt_at(c, pg->off, "dictionary page after data pages");
    if (dh->num_values < 0)
        return corrupt_at(c, pg->off, "negative dictionary size");
    if (dh->encoding != PQ_ENC_PLAIN && dh->encoding != PQ_ENC_PLAIN_DICTIONARY)
        return meru_err(MERU_ENOTSUP,
                        "parquet: column %s row group %u: dictionary page "
                        "encoding %s is not supported",
                        cname(c), c->rg, pq_encoding_name(dh->encoding));
    if (c->info->type == PQ_BOOLEAN)
        return corrupt_at(c, pg->off, "dictionary for a BOOLEAN column");
    const uint8_t *p = NULL;
    size_t len = 0;
    int rc = read_body(c, pg, NULL);
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
        return corrupt_at(c, pg->off,
                          "dictionary claims more values than its bytes hold");
    size_t used = 0;
    if (c->info->type == PQ_BYTE_ARRAY) {
        rc = buf_size(&c->dict_vals, n * sizeof(pq_bytes));
        if (!rc)
            rc = pq_plain_decode_bytes(
                p, len, (pq_bytes *)(void *)c->dict_vals.data, n, &used);
    } else if (c->info->type == PQ_FIXED_LEN_BYTE_ARRAY) {
        rc = buf_size(&c->dict_vals, n * sizeof(pq_bytes));
        if (!rc)
            rc = pq_plain_decode_flba(p, len, (uint32_t)w,
                                      (pq_bytes *)(void *)c->dict_vals.data, n,
                                      &used);
    } else {
        rc = buf_size(&c->dict_vals, n * w);
        if (!rc)
            rc = pq_plain_decode_fixed(p, len, w, c->dict_vals.data, n, &used);
    }
    if (rc)
        return meru_err_wrap(rc, "parquet: column %s row group %u: dictionary",
                             cname(c), c->rg);
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
                        cname(c), c->rg);
    int rc = buf_size(&c->idx, nn * 4);
    if (rc)
        return rc;
    uint32_t *idx = (uint32_t *)(void *)c->idx.data;
    rc = pq_dict_indices_decode(p, len, idx, nn, c->dict_n);
    if (rc)
        return meru_err_wrap(rc, "parquet: column %s row group %u", cname(c),
                             c->rg);
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
                    cname(c), c->rg, pq_encoding_name(e),
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
    int rc = buf_size(&s->vals, n * c->width);
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
                            cname(c), c->rg);
        uint32_t l = meru_load_le32(p);
        if (l > len - 4)
            return meru_err(MERU_ECORRUPT,
                            "parquet: column %s row group %u: RLE booleans of "
                            "%u bytes in %zu",
                            cname(c), c->rg, l, len - 4);
        rc = buf_size(&c->idx, nn * 4);
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
                                    cname(c), c->rg, b[i].len,
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
                            cname(c), c->rg, len, nn);
        if (t != PQ_FIXED_LEN_BYTE_ARRAY) {
            rc = pq_bss_decode(p, len, pw, tail, nn);
            break;
        }
        rc = buf_size(&s->storage, len);
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
        return meru_err_wrap(rc, "parquet: column %s row group %u", cname(c),
                             c->rg);
    if (exact && used != len)
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u: %zu values used %zu "
                        "of the page's %zu value bytes",
                        cname(c), c->rg, nn, used, len);
    if (nn < n)
        scatter(vals, w, s->valid.data, n, nn);
    return MERU_OK;
}

/* Definition levels (bit width 1) into s->valid; returns the non-nulls. */
static int decode_levels(pq_cursor *c, slot *s, const uint8_t *p, size_t len,
                         bool bit_packed, size_t n, size_t *nn)
{
    int rc = buf_size(&s->valid, n);
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
                            cname(c), c->rg);
        for (size_t i = 0; i < n; i++) {
            v[i] = (p[i / 8] >> (7 - i % 8)) & 1;
            cnt += v[i];
        }
        *nn = cnt;
        return MERU_OK;
    }
    rc = buf_size(&c->lvl, n * 4);
    if (rc)
        return rc;
    uint32_t *l = (uint32_t *)(void *)c->lvl.data;
    rc = pq_rle_decode(p, len, 1, l, n, NULL);
    if (rc)
        return meru_err_wrap(rc,
                             "parquet: column %s row group %u: definition "
                             "levels",
                             cname(c), c->rg);
    for (size_t i = 0; i < n; i++) {
        v[i] = (uint8_t)(l[i] & 1);
        cnt += v[i];
    }
    *nn = cnt;
    return MERU_OK;
}

static int all_valid(slot *s, size_t n)
{
    int rc = buf_size(&s->valid, n);
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
static bool levels_all_present(const uint8_t *p, size_t len, size_t n)
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

static int decode_v1(pq_cursor *c, slot *s, page_in *pg, size_t n)
{
    const pq_data_page_header *dp = &pg->h.data_page_header;
    const uint8_t *p = NULL;
    size_t len = 0, nn = n;
    size_t ulen = (size_t)pg->h.uncompressed_page_size;
    if (!c->optional && plain_direct(c, dp->encoding, n, n, ulen)) {
        int rc = all_valid(s, n);
        c->pg_nulls = 0;
        return rc ? rc
                  : decompress_page(c, pg, pg->body, pg->csize, c->direct,
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
                return corrupt_at(c, pg->off, "definition levels missing");
            uint32_t l = meru_load_le32(p);
            if (l > len - 4)
                return corrupt_at(c, pg->off,
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
                            cname(c), c->rg,
                            pq_encoding_name(dp->definition_level_encoding));
        }
    } else {
        rc = all_valid(s, n);
    }
    if (rc)
        return rc;
    return decode_values(c, s, dp->encoding, p, len, n, nn);
}

static int decode_v2(pq_cursor *c, slot *s, page_in *pg, size_t n)
{
    const pq_data_page_header_v2 *v2 = &pg->h.data_page_header_v2;
    int32_t rl = v2->repetition_levels_byte_length;
    int32_t dl = v2->definition_levels_byte_length;
    if (rl < 0 || dl < 0 || (size_t)rl + (size_t)dl > pg->csize ||
        (size_t)rl + (size_t)dl > (size_t)pg->h.uncompressed_page_size)
        return corrupt_at(c, pg->off, "level lengths do not fit the page");
    if (v2->num_nulls < 0 || (size_t)v2->num_nulls > n)
        return corrupt_at(c, pg->off, "bad null count");
    if (!c->optional && v2->num_nulls > 0)
        return corrupt_at(c, pg->off, "nulls in a REQUIRED column");
    const uint8_t *lv = pg->body + rl;
    size_t off = (size_t)rl + (size_t)dl;
    size_t nn = n;
    int rc;
    /* A page that says it has no nulls and whose levels are plain runs
     * of 1 is all valid: its levels need no decoding. */
    if (c->optional && dl > 0 &&
        !(v2->num_nulls == 0 && levels_all_present(lv, (size_t)dl, n))) {
        rc = decode_levels(c, s, lv, (size_t)dl, false, n, &nn);
    } else if (c->optional && v2->num_nulls == (int32_t)n) {
        rc = buf_size(&s->valid, n);
        if (!rc)
            memset(s->valid.data, 0, n);
        nn = 0;
    } else if (c->optional && v2->num_nulls != 0) {
        return corrupt_at(c, pg->off, "nulls but no definition levels");
    } else {
        rc = all_valid(s, n);
    }
    if (rc)
        return rc;
    if (nn != n - (size_t)v2->num_nulls)
        return corrupt_at(c, pg->off,
                          "definition levels disagree with the null count");
    const uint8_t *p = NULL;
    size_t len = 0;
    size_t ulen = (size_t)pg->h.uncompressed_page_size - off;
    if (v2->is_compressed && plain_direct(c, v2->encoding, n, nn, ulen)) {
        c->pg_nulls = 0;
        return decompress_page(c, pg, pg->body + off, pg->csize - off,
                               c->direct, ulen);
    }
    rc = inflate_into(c, pg, pg->body + off, pg->csize - off, ulen,
                      v2->is_compressed, &s->data, &p, &len);
    if (rc)
        return rc;
    return decode_values(c, s, v2->encoding, p, len, n, nn);
}

/* ---------------------------------------------------------- page loop */

static slot *free_slot(pq_cursor *c)
{
    for (uint32_t i = 0; i < c->nslots; i++)
        if (!c->slots[i]->pinned)
            return c->slots[i];
    slot **ns = realloc(c->slots, (c->nslots + 1) * sizeof *ns);
    if (!ns)
        return NULL;
    c->slots = ns;
    slot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    c->slots[c->nslots++] = s;
    return s;
}

/* The page at c->pos from the readahead (PQR_AHEAD_TAKEN: *pg as
 * read_header and read_body would leave it, its value bytes in s->data),
 * or what pqr_stream_take said. */
static int take_ahead(pq_cursor *c, slot *s, page_in *pg)
{
    pqr_ahead_page ap;
    int got = pqr_stream_take(c->stream, c->pos, &ap, &s->data);
    if (got != PQR_AHEAD_TAKEN)
        return got;
    pg->h = ap.h;
    pg->off = c->pos;
    pg->hlen = ap.hlen;
    pg->csize = ap.csize;
    pg->mapped = true;
    pg->body = c->r->src.base + pg->off + pg->hlen;
    c->pre_inflated = ap.inflated;
    c->st.bytes_read += pg->hlen + pg->csize;
    c->st.pages_ahead++;
    return PQR_AHEAD_TAKEN;
}

/* After a page read in sequence: opens the readahead stream once the
 * cursor has read enough that way (a long scan, not a short range), and
 * points the stream past a page the cursor loaded itself. */
static void follow_ahead(pq_cursor *c, const page_in *pg, int ahead)
{
    c->seq_bytes += (uint64_t)pg->h.uncompressed_page_size;
    if (!c->stream && c->ra && c->seq_bytes >= PQ_READAHEAD_START_BYTES &&
        c->r->src.base && c->m->codec != PQ_CODEC_UNCOMPRESSED) {
        bool crc = !c->r->o.skip_crc && !c->skip_crc;
        if (pqr_stream_open(c->ra, c->r, c->m->codec, c->end, crc,
                            &c->stream)) {
            c->ra = NULL; /* no thread: read on without it */
            return;
        }
        ahead = PQR_AHEAD_MISS;
    }
    if (c->stream && ahead == PQR_AHEAD_MISS)
        pqr_stream_restart(c->stream, c->pos, c->nvals - c->next_first);
}

/* Loads the next data page holding rows (skipping, undecoded, whole pages
 * that end at or before `skip_to`, when >= 0). */
static int load_page(pq_cursor *c, int64_t skip_to)
{
    for (;;) {
        if (c->next_first >= c->nvals)
            return meru_err(MERU_EINTERNAL,
                            "parquet: cursor read past the chunk");
        if (c->pos >= c->end)
            return meru_err(MERU_ECORRUPT,
                            "parquet: column %s row group %u: chunk ends after "
                            "%lld of %lld values",
                            cname(c), c->rg, (long long)c->next_first,
                            (long long)c->nvals);
        page_in pg;
        slot *s = NULL;
        int ahead = PQR_AHEAD_MISS;
        int rc = MERU_OK;
        if (c->stream && skip_to < 0) {
            s = free_slot(c);
            if (!s)
                return meru_err(MERU_ENOMEM, "parquet: out of memory");
            ahead = take_ahead(c, s, &pg);
        }
        if (ahead != PQR_AHEAD_TAKEN)
            rc = read_header(c, &pg);
        if (rc)
            return rc;
        uint64_t next = pg.off + pg.hlen + pg.csize;
        int64_t n;
        switch (pg.h.type) {
        case PQ_PAGE_DICTIONARY:
            if (c->dict_loaded && c->dict_pos == pg.off) {
                c->pos = next; /* met again after a rewind */
                continue;
            }
            rc = load_dict(c, &pg);
            if (rc)
                return rc;
            c->pos = next;
            continue;
        case PQ_PAGE_DATA:
            if (!pg.h.has_data_page_header)
                return corrupt_at(c, pg.off, "data page without its header");
            n = pg.h.data_page_header.num_values;
            break;
        case PQ_PAGE_DATA_V2:
            if (!pg.h.has_data_page_header_v2)
                return corrupt_at(c, pg.off, "data page without its header");
            n = pg.h.data_page_header_v2.num_values;
            if (pg.h.data_page_header_v2.num_rows != n)
                return corrupt_at(c, pg.off,
                                  "page rows differ from its values in a "
                                  "flat column");
            break;
        default: /* index pages and unknown kinds are skipped */
            c->pos = next;
            continue;
        }
        if (n < 0 || n > c->nvals - c->next_first)
            return corrupt_at(c, pg.off,
                              "page holds more values than the chunk has left");
        if (n > (int64_t)PQR_MAX_PAGE_VALUES)
            return corrupt_at(c, pg.off, "page of more than 16M values");
        if (skip_to >= 0 && c->next_first + n <= skip_to) {
            c->next_first += n;
            c->pos = next;
            c->st.pages_skipped++;
            if (c->pg_ord >= 0)
                c->pg_ord++;
            continue;
        }
        if (!s)
            s = free_slot(c);
        if (!s)
            return meru_err(MERU_ENOMEM, "parquet: out of memory");
        /* a page from the readahead was read and checked on its worker */
        rc = ahead == PQR_AHEAD_TAKEN ? MERU_OK
                                      : read_body(c, &pg, crc_flag(c, &pg));
        if (c->pg_ord >= 0)
            c->pg_ord++;
        if (!rc)
            rc = pg.h.type == PQ_PAGE_DATA ? decode_v1(c, s, &pg, (size_t)n)
                                           : decode_v2(c, s, &pg, (size_t)n);
        c->pre_inflated = false;
        if (rc)
            return rc;
        c->st.pages_read++;
        c->cur = s;
        c->pg_first = c->next_first;
        c->pg_n = (size_t)n;
        c->pg_pos = 0;
        c->next_first += n;
        c->pos = next;
        if (skip_to < 0)
            follow_ahead(c, &pg, ahead);
        if (n > 0)
            return MERU_OK;
    }
}

static const uint8_t empty_valid[1] = {1};

int pq_cursor_next(pq_cursor *c, size_t max_rows, pq_batch *out)
{
    memset(out, 0, sizeof *out);
    out->values = empty_valid;
    out->valid = empty_valid;
    for (uint32_t i = 0; i < c->nslots; i++)
        c->slots[i]->pinned = false;
    int64_t left = c->nvals - c->row;
    size_t want = (uint64_t)left < max_rows ? (size_t)left : max_rows;
    if (want > PQ_MAX_BATCH_ROWS)
        want = PQ_MAX_BATCH_ROWS;
    if (want == 0)
        return MERU_OK;
    int rc;
    if (c->pg_pos >= c->pg_n) {
        rc = load_page(c, -1);
        if (rc)
            return rc;
    }
    size_t w = c->width;
    if (c->pg_n - c->pg_pos >= want) {
        out->values = c->cur->vals.data + c->pg_pos * w;
        out->valid = c->cur->valid.data + c->pg_pos;
        c->pg_pos += want;
    } else {
        rc = buf_size(&c->bvals, want * w);
        if (!rc)
            rc = buf_size(&c->bvalid, want);
        if (rc)
            return rc;
        size_t got = 0;
        while (got < want) {
            if (c->pg_pos >= c->pg_n) {
                if (c->views)
                    c->cur->pinned = true;
                rc = load_page(c, -1);
                if (rc)
                    return rc;
            }
            size_t k = c->pg_n - c->pg_pos;
            if (k > want - got)
                k = want - got;
            memcpy(c->bvals.data + got * w, c->cur->vals.data + c->pg_pos * w,
                   k * w);
            memcpy(c->bvalid.data + got, c->cur->valid.data + c->pg_pos, k);
            got += k;
            c->pg_pos += k;
        }
        out->values = c->bvals.data;
        out->valid = c->bvalid.data;
    }
    out->n = want;
    if (c->optional) {
        size_t z = 0;
        for (size_t i = 0; i < want; i++)
            z += !out->valid[i];
        out->null_count = z;
    }
    c->row += (int64_t)want;
    return MERU_OK;
}

/* Decodes the dictionary page at the chunk start, for jumps that land
 * past it. */
static int ensure_dict(pq_cursor *c, uint64_t first_page)
{
    if (c->dict_loaded || c->start >= first_page)
        return MERU_OK;
    uint64_t save = c->pos;
    c->pos = c->start;
    page_in pg;
    int rc = read_header(c, &pg);
    if (!rc && pg.h.type == PQ_PAGE_DICTIONARY) {
        int64_t nf = c->next_first;
        c->next_first = 0;
        rc = load_dict(c, &pg);
        c->next_first = nf;
    }
    c->pos = save;
    return rc;
}

int pq_cursor_seek(pq_cursor *c, int64_t row)
{
    if (row < 0 || row > c->nvals)
        return meru_err(MERU_EINVAL,
                        "parquet: seek to row %lld of a %lld-row chunk",
                        (long long)row, (long long)c->nvals);
    for (uint32_t i = 0; i < c->nslots; i++)
        c->slots[i]->pinned = false;
    c->row = row;
    if (c->pg_n && row >= c->pg_first && row < c->pg_first + (int64_t)c->pg_n) {
        c->pg_pos = (size_t)(row - c->pg_first);
        return MERU_OK;
    }
    c->pg_n = c->pg_pos = 0;
    /* A jump: what was read ahead is of no use, and a scan from here
     * must read on a while before the readahead starts again. */
    c->seq_bytes = 0;
    pqr_stream_close(c->stream);
    c->stream = NULL;
    if (row == c->nvals)
        return MERU_OK;
    int rc;
    if (!c->oi_tried) {
        rc = pq_reader_offset_index(c->r, c->rg, c->col, &c->oi);
        if (rc)
            return rc;
        c->oi_tried = true;
    }
    const pq_offset_index *oi = c->oi;
    if (oi && oi->n_pages > 0) {
        uint32_t lo = 0, hi = oi->n_pages; /* last page with first <= row */
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (oi->page_locations[mid].first_row_index <= row)
                lo = mid;
            else
                hi = mid;
        }
        rc = ensure_dict(c, (uint64_t)oi->page_locations[0].offset);
        if (rc)
            return rc;
        c->pos = (uint64_t)oi->page_locations[lo].offset;
        c->pg_ord = lo;
        c->next_first = oi->page_locations[lo].first_row_index;
        c->st.pages_skipped += lo;
        rc = load_page(c, row);
        if (rc)
            return rc;
        if (lo + 1 < oi->n_pages &&
            c->pg_first + (int64_t)c->pg_n >
                oi->page_locations[lo + 1].first_row_index)
            return corrupt_at(c, (uint64_t)oi->page_locations[lo].offset,
                              "page rows disagree with the offset index");
    } else {
        if (row < c->next_first) {
            c->pos = c->start;
            c->next_first = 0;
            c->pg_ord = -1;
        }
        rc = load_page(c, row);
        if (rc)
            return rc;
    }
    if (row < c->pg_first || row >= c->pg_first + (int64_t)c->pg_n)
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u: seek to row %lld "
                        "landed on a page of rows [%lld, +%zu)",
                        cname(c), c->rg, (long long)row, (long long)c->pg_first,
                        c->pg_n);
    c->pg_pos = (size_t)(row - c->pg_first);
    return MERU_OK;
}

int pq_cursor_read_page(pq_cursor *c, int64_t first, size_t n, void *values,
                        pq_batch *out)
{
    memset(out, 0, sizeof *out);
    if (c->views || !values || n == 0)
        return meru_err(MERU_EINVAL,
                        "parquet: column %s: a page of %s values cannot be "
                        "read into the caller's array",
                        cname(c), c->views ? "byte-array" : "no");
    /* Drop the page in hand: the one wanted is decoded afresh into
     * `values`, never served from a slot. */
    c->pg_n = c->pg_pos = 0;
    c->direct = values;
    c->direct_n = n;
    int rc = pq_cursor_seek(c, first);
    c->direct = NULL;
    c->direct_n = 0;
    if (rc)
        return rc;
    if (c->pg_first != first || c->pg_n != n) {
        /* the values went to a slot (a page of another size): unusable */
        c->pg_n = c->pg_pos = 0;
        return meru_err(MERU_ECORRUPT,
                        "parquet: column %s row group %u: the page at row "
                        "%lld holds rows [%lld, +%zu), not [%lld, +%zu)",
                        cname(c), c->rg, (long long)first,
                        (long long)c->pg_first, c->pg_n, (long long)first, n);
    }
    out->n = n;
    out->values = values;
    out->valid = c->cur->valid.data;
    out->null_count = c->pg_nulls;
    /* The page's values live only in `values`, never in the slot: the
     * cursor holds no page (a seek back into this one must load it again,
     * not serve the slot's stale values) and reads on from the next. */
    c->pg_n = c->pg_pos = 0;
    c->row = first + (int64_t)n;
    return MERU_OK;
}
