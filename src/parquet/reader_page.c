/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reader_page.c — column cursors: stream the pages of one column chunk and
 * decode them into flat, dense, typed arrays (API in pq.h).
 *
 * A page is read (header window first, body after when it did not fit),
 * its CRC checked, decompressed into a "slot", its definition levels and
 * values decoded in one pass into the slot's dense arrays (the decode is
 * reader_decode.c's; a long scan may have the read, check and
 * decompression done ahead by a readahead worker, reader_ahead.c). A batch that
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
#include "parquet/reader_cursor.h"
#include "util/error.h"

/* Readahead backoff: after this many pages in a row that the worker did
 * not have, it is left idle for RA_BACKOFF_MIN pages, doubling up to
 * RA_BACKOFF_MAX while it keeps missing (follow_ahead). */
#define RA_BACKOFF_MISSES 4u
#define RA_BACKOFF_MIN    64u
#define RA_BACKOFF_MAX    1024u

#define WIN_MIN (16u * 1024u)
#define WIN_MAX (8u << 20)

int pqr_corrupt_at(const pq_cursor *c, uint64_t off, const char *what)
{
    return meru_err(MERU_ECORRUPT,
                    "parquet: column %s row group %u: %s (page at offset "
                    "%llu)",
                    pqr_cname(c), c->rg, what, (unsigned long long)off);
}

int pqr_buf_size(meru_buf *b, size_t n)
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
    c->src = &r->src;
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

/* Releases the batch slots the caller was handed (their pages may be
 * reused from here on). */
static void unpin_slots(pq_cursor *c)
{
    for (uint32_t i = 0; i < c->nslots; i++)
        c->slots[i]->pinned = false;
}

/* A jump: the cursor drops the page in hand, and what was read ahead is
 * of no use (a scan from the new place must read on a while before the
 * readahead starts again). */
static void drop_page_and_stream(pq_cursor *c)
{
    unpin_slots(c);
    c->pg_n = c->pg_pos = 0;
    c->seq_bytes = 0;
    c->seq_pages = 0;
    c->ra_skip = c->ra_misses = 0;
    pqr_stream_close(c->stream);
    c->stream = NULL;
}

void pq_cursor_set_source(pq_cursor *c, const pq_source *src)
{
    if (!c)
        return;
    const pq_source *to = src ? src : &c->r->src;
    if (c->src == to)
        return;
    /* The page in hand and any stream may point into the old source's
     * bytes: drop them, as a jump does. */
    drop_page_and_stream(c);
    c->plain_set = false;
    c->src = to;
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
/* Decodes the header at c->pos from the source's bytes in place (a map or
 * memory source): the body then needs no read either. */
static int map_header(pq_cursor *c, page_in *pg, uint64_t avail)
{
    size_t want = avail < PQR_MAX_HEADER ? (size_t)avail : PQR_MAX_HEADER;
    meru_arena_reset(c->harena);
    size_t used = 0;
    int rc = pq_decode_page_header(c->src->base + c->pos, want, c->harena,
                                   &pg->h, &used);
    if (rc)
        return meru_err_wrap(rc,
                             "parquet: column %s row group %u: page header at "
                             "offset %llu",
                             pqr_cname(c), c->rg, (unsigned long long)c->pos);
    pg->hlen = used;
    c->st.bytes_read += used;
    return MERU_OK;
}

/* The bytes of the page at c->pos as the offset index gives them (its
 * header and body), or 0 when the cursor is not at an indexed page, the
 * size does not fit the chunk, or it passes WIN_MAX (then the window
 * guesses and the body is read on its own: an index that lies about a
 * size cannot make every point read take a whole chunk). */
static size_t indexed_size(const pq_cursor *c, uint64_t avail)
{
    if (c->pg_ord < 0 || !c->oi || (uint64_t)c->pg_ord >= c->oi->n_pages)
        return 0;
    const pq_page_location *l = &c->oi->page_locations[c->pg_ord];
    if (l->offset != (int64_t)c->pos || l->compressed_page_size <= 0 ||
        (uint64_t)l->compressed_page_size > avail ||
        (uint64_t)l->compressed_page_size > WIN_MAX)
        return 0;
    return (size_t)l->compressed_page_size;
}

/* Reads and decodes the header at c->pos through the source's read_at:
 * at an indexed page, the whole page in one read (the body then needs no
 * second one); else in a window that grows (up to PQR_MAX_HEADER) until
 * the header fits. A page size the index gets wrong only costs reads:
 * the header still has to decode and the body to fit the chunk. */
static int copy_header(pq_cursor *c, page_in *pg, uint64_t avail)
{
    size_t want = indexed_size(c, avail);
    if (!want)
        want = avail < c->win_hint ? (size_t)avail : c->win_hint;
    for (;;) {
        int rc = pqr_buf_size(&c->win, want);
        if (!rc)
            rc = pqr_source_read(c->src, c->pos, want, c->win.data);
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
                                 pqr_cname(c), c->rg,
                                 (unsigned long long)c->pos);
        want = want * 4 < avail ? want * 4 : (size_t)avail;
    }
}

static int read_header(pq_cursor *c, page_in *pg)
{
    uint64_t avail = c->end - c->pos;
    const uint8_t *base = c->src->base;
    pg->off = c->pos;
    /* [start, end) of the chunk lies inside the file (pqr_chunk_range), so
     * base + pos has avail bytes */
    int rc = base ? map_header(c, pg, avail) : copy_header(c, pg, avail);
    if (rc)
        return rc;
    int32_t cs = pg->h.compressed_page_size, us = pg->h.uncompressed_page_size;
    if (cs < 0 || us < 0 || (uint64_t)cs > avail - pg->hlen)
        return pqr_corrupt_at(c, pg->off,
                              "page size does not fit in the column chunk");
    if ((uint32_t)us > PQR_MAX_PAGE)
        return pqr_corrupt_at(c, pg->off, "uncompressed page size over 1 GiB");
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
    const pqr_chunk_cache *k =
        &c->r->cache[(size_t)c->rg * c->r->ncols + c->col];
    /* c->oi is k->oi, which crc_ok has a flag per page of */
    if (!k->crc_ok || (uint64_t)c->pg_ord >= c->oi->n_pages ||
        c->oi->page_locations[c->pg_ord].offset != (int64_t)pg->off)
        return NULL;
    return &k->crc_ok[c->pg_ord];
}

int pqr_read_body(pq_cursor *c, page_in *pg, atomic_uchar *crc_seen)
{
    if (pg->mapped)
        c->st.bytes_read += pg->csize;
    if (!pg->body) {
        int rc = pqr_buf_size(&c->cbuf, pg->csize);
        if (!rc)
            rc = pqr_source_read(c->src, pg->off + pg->hlen, pg->csize,
                                 c->cbuf.data);
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
                            pqr_cname(c), c->rg, (unsigned long long)pg->off);
        if (crc_seen)
            atomic_store_explicit(crc_seen, 1, memory_order_relaxed);
    }
    return MERU_OK;
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
 * read_header and read_body would leave it, its value bytes in s->data,
 * and *inflated whether they are decompressed), or what pqr_stream_take
 * said. */
static int take_ahead(pq_cursor *c, slot *s, page_in *pg, bool *inflated)
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
    pg->body = c->src->base + pg->off + pg->hlen;
    *inflated = ap.inflated;
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
    c->seq_pages++;
    /* Both bounds: 16 pages alone would start on a short range of small
     * pages, 64 KiB alone after one page of a 64 KiB-page column, whose
     * next pages a 10k-row range scan never reads (decompressing them
     * cost bench_kv's range scans a third of their rate). */
    if (!c->stream && c->ra && c->seq_bytes >= PQ_READAHEAD_START_BYTES &&
        c->seq_pages >= PQ_READAHEAD_START_PAGES && c->src->base &&
        c->m->codec != PQ_CODEC_UNCOMPRESSED) {
        bool crc = !c->r->o.skip_crc && !c->skip_crc;
        /* A failure here is no error of the read: keep the caller's last
         * error message as it was. */
        meru_err_saved saved;
        meru_err_save(&saved);
        if (pqr_stream_open(c->ra, c->r, c->m->codec, c->end, crc,
                            &c->stream)) {
            meru_err_restore(&saved);
            c->ra = NULL; /* no thread: read on without it */
            return;
        }
        ahead = PQR_AHEAD_MISS;
        c->ra_backoff = RA_BACKOFF_MIN;
    }
    bool tried = c->ra_tried;
    c->ra_tried = false;
    if (ahead == PQR_AHEAD_TAKEN) {
        c->ra_misses = 0;
        c->ra_backoff = RA_BACKOFF_MIN;
    } else if (tried && ahead == PQR_AHEAD_IDLE &&
               ++c->ra_misses >= RA_BACKOFF_MISSES) {
        /* The worker was idle (not even busy on another column's page)
         * at 4 pages in a row: on a machine with no core to spare it gets
         * too little CPU to run ahead, and the cursor loading page after
         * page itself, restarting it each time, only paid the hand-offs
         * (~10 % more CPU for the same scan). Leave it
         * idle for a while, longer each time in a row. */
        c->ra_misses = 0;
        c->ra_skip = c->ra_backoff;
        if (c->ra_backoff < RA_BACKOFF_MAX)
            c->ra_backoff *= 2;
        return;
    }
    if (c->stream && (ahead == PQR_AHEAD_MISS || ahead == PQR_AHEAD_IDLE) &&
        c->ra_skip == 0)
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
                            pqr_cname(c), c->rg, (long long)c->next_first,
                            (long long)c->nvals);
        page_in pg;
        slot *s = NULL;
        int ahead = PQR_AHEAD_MISS;
        bool inflated = false;
        int rc = MERU_OK;
        if (c->stream && skip_to < 0 && c->ra_skip > 0) {
            c->ra_skip--; /* backing off: see follow_ahead */
        } else if (c->stream && skip_to < 0) {
            s = free_slot(c);
            if (!s)
                return meru_err(MERU_ENOMEM, "parquet: out of memory");
            ahead = take_ahead(c, s, &pg, &inflated);
            c->ra_tried = true;
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
            rc = pqr_load_dict(c, &pg);
            if (rc)
                return rc;
            c->pos = next;
            continue;
        case PQ_PAGE_DATA:
            if (!pg.h.has_data_page_header)
                return pqr_corrupt_at(c, pg.off,
                                      "data page without its header");
            n = pg.h.data_page_header.num_values;
            break;
        case PQ_PAGE_DATA_V2:
            if (!pg.h.has_data_page_header_v2)
                return pqr_corrupt_at(c, pg.off,
                                      "data page without its header");
            n = pg.h.data_page_header_v2.num_values;
            if (pg.h.data_page_header_v2.num_rows != n)
                return pqr_corrupt_at(c, pg.off,
                                      "page rows differ from its values in a "
                                      "flat column");
            break;
        default: /* index pages and unknown kinds are skipped */
            c->pos = next;
            continue;
        }
        if (n < 0 || n > c->nvals - c->next_first)
            return pqr_corrupt_at(
                c, pg.off, "page holds more values than the chunk has left");
        if (n > (int64_t)PQR_MAX_PAGE_VALUES)
            return pqr_corrupt_at(c, pg.off, "page of more than 16M values");
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
                                      : pqr_read_body(c, &pg, crc_flag(c, &pg));
        if (c->pg_ord >= 0)
            c->pg_ord++;
        /* set only for the decode: no early return above can leave it
         * set for the cursor's next page */
        c->pre_inflated = inflated;
        if (!rc)
            rc = pg.h.type == PQ_PAGE_DATA
                     ? pqr_decode_v1(c, s, &pg, (size_t)n)
                     : pqr_decode_v2(c, s, &pg, (size_t)n);
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
    unpin_slots(c);
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
        rc = pqr_buf_size(&c->bvals, want * w);
        if (!rc)
            rc = pqr_buf_size(&c->bvalid, want);
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
        rc = pqr_load_dict(c, &pg);
        c->next_first = nf;
    }
    c->pos = save;
    return rc;
}

/* (pq.h) */
int64_t pq_offset_index_page_end(const pq_offset_index *oi, uint32_t p,
                                 int64_t rows)
{
    return p + 1 < oi->n_pages ? oi->page_locations[p + 1].first_row_index
                               : rows;
}

/* (pq.h) */
uint32_t pq_offset_index_page_of(const pq_offset_index *oi, int64_t row)
{
    uint32_t lo = 0, hi = oi->n_pages;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (oi->page_locations[mid].first_row_index <= row)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int pq_cursor_seek(pq_cursor *c, int64_t row)
{
    if (row < 0 || row > c->nvals)
        return meru_err(MERU_EINVAL,
                        "parquet: seek to row %lld of a %lld-row chunk",
                        (long long)row, (long long)c->nvals);
    c->row = row;
    if (c->pg_n && row >= c->pg_first && row < c->pg_first + (int64_t)c->pg_n) {
        unpin_slots(c);
        c->pg_pos = (size_t)(row - c->pg_first);
        return MERU_OK;
    }
    drop_page_and_stream(c);
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
        uint32_t lo = pq_offset_index_page_of(oi, row);
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
            return pqr_corrupt_at(c, (uint64_t)oi->page_locations[lo].offset,
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
                        pqr_cname(c), c->rg, (long long)row,
                        (long long)c->pg_first, c->pg_n);
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
                        pqr_cname(c), c->views ? "byte-array" : "no");
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
                        pqr_cname(c), c->rg, (long long)first,
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

/* ----------------------------------------- byte arrays into the caller's */

/* The data page the offset index says starts at row `first` with `n`
 * rows: its ordinal, or -1 (no index, or no page there). */
static int64_t indexed_page(pq_cursor *c, int64_t first, size_t n)
{
    if (!c->oi || c->oi->n_pages == 0)
        return -1;
    const pq_offset_index *oi = c->oi;
    uint32_t lo = pq_offset_index_page_of(oi, first);
    int64_t end = pq_offset_index_page_end(oi, lo, c->nvals);
    if (oi->page_locations[lo].first_row_index != first ||
        end - first != (int64_t)n)
        return -1;
    return lo;
}

int pq_cursor_plain_bytes_size(pq_cursor *c, int64_t first, size_t n,
                               size_t *bytes, bool *in_place, bool *ok)
{
    *bytes = 0;
    *in_place = *ok = false;
    c->plain_set = false;
    /* A chunk with a dictionary page holds dictionary-encoded pages, which
     * this path refuses only after reading their header: the caller's
     * seek would then read it a second time. */
    if (c->info->type != PQ_BYTE_ARRAY || n == 0 || first < 0 ||
        first >= c->nvals || n > (uint64_t)(c->nvals - first) ||
        c->m->has_dictionary_page_offset)
        return MERU_OK;
    if (!c->oi_tried) {
        int rc = pq_reader_offset_index(c->r, c->rg, c->col, &c->oi);
        if (rc)
            return rc;
        c->oi_tried = true;
    }
    int64_t ord = indexed_page(c, first, n);
    if (ord < 0)
        return MERU_OK;
    /* The cursor holds no page from here on: a later seek loads afresh. */
    drop_page_and_stream(c);
    c->pos = (uint64_t)c->oi->page_locations[ord].offset;
    c->pg_ord = ord;
    c->next_first = first;
    if (c->pos < c->start || c->pos >= c->end)
        return pqr_corrupt_at(c, c->pos, "offset index points outside the chunk");
    page_in *pg = &c->plain;
    int rc = read_header(c, pg);
    if (rc)
        return rc;
    /* Only the form a point read meets: a v2 page of PLAIN values, as
     * many as the index says, none null. Anything else is read through
     * the slots (pq_cursor_next), which also checks it. */
    const pq_data_page_header_v2 *v2 = &pg->h.data_page_header_v2;
    if (pg->h.type != PQ_PAGE_DATA_V2 || !pg->h.has_data_page_header_v2 ||
        v2->encoding != PQ_ENC_PLAIN || v2->num_values != (int64_t)n ||
        v2->num_rows != (int64_t)n || v2->num_nulls != 0)
        return MERU_OK;
    int32_t rl = v2->repetition_levels_byte_length;
    int32_t dl = v2->definition_levels_byte_length;
    if (rl < 0 || dl < 0 || (size_t)rl + (size_t)dl > pg->csize ||
        (size_t)rl + (size_t)dl > (size_t)pg->h.uncompressed_page_size)
        return pqr_corrupt_at(c, pg->off, "level lengths do not fit the page");
    size_t off = (size_t)rl + (size_t)dl;
    /* Levels that are not plain runs of 1 (another writer's bit-packed
     * ones, say) are decoded by the slots; so are levels not at hand yet
     * (a body the header window did not reach). A v2 page's levels are
     * never compressed. */
    if (c->optional && dl > 0 &&
        (!pg->body || !pqr_levels_all_present(pg->body + rl, (size_t)dl, n)))
        return MERU_OK;
    bool compressed = v2->is_compressed && c->m->codec != PQ_CODEC_UNCOMPRESSED;
    size_t len = (size_t)pg->h.uncompressed_page_size - off;
    if (!compressed && pg->csize - off != len)
        return pqr_corrupt_at(c, pg->off,
                          "uncompressed page of another size than its header "
                          "says");
    c->plain_first = first;
    c->plain_n = n;
    c->plain_off = off;
    c->plain_len = len;
    c->plain_set = true;
    *bytes = len;
    *in_place = !compressed && pg->mapped;
    *ok = true;
    return MERU_OK;
}

int pq_cursor_plain_bytes_read(pq_cursor *c, uint8_t *dst)
{
    if (!c->plain_set)
        return meru_err(MERU_EINVAL,
                        "parquet: column %s: no page sized for a read",
                        pqr_cname(c));
    c->plain_set = false;
    page_in *pg = &c->plain;
    int rc = pqr_read_body(c, pg, crc_flag(c, pg));
    c->pg_ord++;
    if (rc)
        return rc;
    const pq_data_page_header_v2 *v2 = &pg->h.data_page_header_v2;
    size_t n = c->plain_n, off = c->plain_off, len = c->plain_len;
    if (len) {
        if (v2->is_compressed && c->m->codec != PQ_CODEC_UNCOMPRESSED)
            rc = pqr_decompress_page(c, pg, pg->body + off, pg->csize - off, dst,
                                 len);
        else
            memcpy(dst, pg->body + off, len);
        if (rc)
            return rc;
    }
    c->st.pages_read++;
    c->next_first = c->plain_first + (int64_t)n;
    c->row = c->next_first;
    c->pos = pg->off + pg->hlen + pg->csize;
    return MERU_OK;
}
