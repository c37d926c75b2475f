/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reader_cursor.h — a column cursor's private state, shared by
 * reader_page.c (page I/O, the page loop, the cursor API) and
 * reader_decode.c (one page's levels and values into a slot). Not an API:
 * only src/parquet/reader*.c include it.
 */
#ifndef MERU_PARQUET_READER_CURSOR_H
#define MERU_PARQUET_READER_CURSOR_H

#include "parquet/reader_int.h"

/* A page being loaded. */
typedef struct page_in {
    pq_page_header h;
    uint64_t off;        /* of the header */
    size_t hlen;         /* header bytes */
    size_t csize;        /* body bytes */
    const uint8_t *body; /* NULL until read */
    bool mapped;         /* body is the source's own bytes (base) */
} page_in;

typedef struct slot {
    meru_buf data;    /* decompressed page bytes (byte-array views) */
    meru_buf storage; /* DELTA_BYTE_ARRAY / BSS materialised values */
    meru_buf vals;    /* dense values */
    meru_buf valid;   /* dense validity */
    bool pinned;
} slot;

struct pq_cursor {
    pq_reader *r;
    const pq_source *src; /* the pages' bytes: &r->src or the caller's */
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
    /* Decode-ahead (reader_ahead.c): the readahead attached, and the
     * stream on it, opened once the cursor has read on in sequence long
     * enough (seq_pages pages of seq_bytes decompressed bytes since open
     * or a seek). */
    pq_readahead *ra;
    pqr_stream *stream;
    uint64_t seq_bytes, seq_pages;
    /* backoff while the worker misses pages (reader_page.c) */
    bool ra_tried;
    uint32_t ra_misses, ra_skip, ra_backoff;
    /* The slot being decoded already holds the page's value bytes, which
     * the readahead decompressed (set only around the decode). */
    bool pre_inflated;
    /* pq_cursor_plain_bytes_size: the page whose values
     * pq_cursor_plain_bytes_read decompresses, its rows, and where its
     * values start in the body (after the levels) */
    page_in plain;
    bool plain_set;
    int64_t plain_first;
    size_t plain_n, plain_off, plain_len;
};

static inline const char *pqr_cname(const pq_cursor *c)
{
    return c->info->name;
}

/* MERU_ECORRUPT naming the column, row group and page offset. */
int pqr_corrupt_at(const pq_cursor *c, uint64_t off, const char *what);

/* Reads the body of the page whose header was read (when not in place)
 * and checks its CRC unless told not to or crc_seen says it was. */
int pqr_read_body(pq_cursor *c, page_in *pg, atomic_uchar *crc_seen);

/* reader_decode.c: a dictionary page into the cursor's dictionary; a data
 * page (v1, v2) of n values, its body read, into slot s (or, for
 * pq_cursor_read_page, into the caller's array). */
int pqr_load_dict(pq_cursor *c, page_in *pg);
/* Decompresses a page body of srclen bytes into exactly ulen bytes at
 * dst, with the page's place in an error. */
int pqr_decompress_page(pq_cursor *c, const page_in *pg, const uint8_t *src,
                        size_t srclen, uint8_t *dst, size_t ulen);
/* Whether v2 definition levels (RLE/bit-packed hybrid, len bytes) say all
 * n values are present. */
bool pqr_levels_all_present(const uint8_t *p, size_t len, size_t n);
int pqr_decode_v1(pq_cursor *c, slot *s, page_in *pg, size_t n);
int pqr_decode_v2(pq_cursor *c, slot *s, page_in *pg, size_t n);

#endif
