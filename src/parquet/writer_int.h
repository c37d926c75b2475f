/* SPDX-License-Identifier: Apache-2.0 */
/*
 * writer_int.h — the writer's private state, shared by writer.c (file,
 * row groups, chunks, footer), writer_page.c (page accumulation and
 * encoding) and writer_check.c (options' defaults, spec checks). Not an
 * API: nothing outside src/parquet/writer*.c includes it.
 */
#ifndef MERU_PARQUET_WRITER_INT_H
#define MERU_PARQUET_WRITER_INT_H

#include "parquet/encoding.h"
#include "parquet/meta.h"
#include "parquet/pq.h"
#include "parquet/stats.h"
#include "util/arena.h"
#include "util/buf.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet codec assumes a little-endian host"
#endif

#define MAX_VALUE_BYTES (1u << 30)
#define MAX_PAGE_SIZE   (512u << 20)
#define SUB_BATCH_ROWS  4096

/* A column chunk's encoded pages: a chain of blocks kept for the writer's
 * life and refilled for every row group. Growing one buffer by realloc
 * copied the chunk again at each doubling and faulted in fresh pages; a
 * chain copies each page once and hands whole blocks to the sink. */
typedef struct chain_blk {
    uint8_t *p;
    size_t cap;
    bool mapped; /* a huge-page-aligned mmap, not malloc */
} chain_blk;

typedef struct pqw_chain {
    chain_blk *blk;
    uint32_t nblk, cap_blk;
    uint32_t cur; /* block being filled (== nblk: none yet) */
    size_t used;  /* bytes in blk[cur] */
    uint64_t len; /* bytes in the chain */
} pqw_chain;

typedef struct page_loc {
    uint64_t off; /* in the chunk's data buffer */
    int32_t size; /* header + body */
    int64_t first_row;
} page_loc;

typedef struct ci_entry {
    bool null_page;
    bool no_bounds; /* values but no min/max (all NaN, or no short max) */
    uint32_t min_off, min_len, max_off, max_len; /* in colw.ci_bytes */
    int64_t null_count;
} ci_entry;

typedef struct colw {
    pq_column_spec spec; /* name points into the writer arena */
    pq_sort_order order;
    size_t width;            /* fixed value width; 0 for BYTE_ARRAY */
    pq_encoding enc;         /* plain/fallback encoding of data pages */
    pq_encoding enc_default; /* enc at the start of each chunk */
    /* BYTE_STREAM_SPLIT by the profile's choice: the chunk's first page
     * compares it with PLAIN and keeps the smaller (pqw_flush_page) */
    bool bss_trial;
    /* The chunk's codec: the writer's, or UNCOMPRESSED when its first data
     * page did not save codec_min_saving (codec_trial: not decided yet). */
    pq_codec codec;
    bool codec_trial;
    bool dict_enabled;  /* the spec asks for a dictionary */
    bool use_dict;      /* pages of this row group are dictionary pages */
    bool fell_back;     /* the dictionary was abandoned in this row group */
    bool dict_overflow; /* the dictionary passed its cap in this page */
    bool stats;
    bool utf8;         /* STRING-like: cut bounds at character boundaries */
    uint32_t stat_cap; /* statistics_truncate for this column, or 0 */
    uint8_t *stat_max; /* stat_cap bytes: a cut max (arena) */
    uint32_t ci_cap;   /* column_index_truncate for this column, or 0 */
    uint8_t *ci_max;   /* ci_cap bytes (arena) */
    pq_dict *dict;

    /* the page being filled */
    size_t pg_rows, pg_nonnull;
    size_t pg_raw;     /* PLAIN size of its values */
    meru_buf pg_defs;  /* uint32 def levels (optional columns) */
    meru_buf pg_vals;  /* fixed: compact raw values; BA: uint32 lengths */
    meru_buf pg_bytes; /* BA: value bytes */
    meru_buf pg_idx;   /* uint32 dictionary indices (use_dict) */
    pq_stats_acc pg_stats, ch_stats;

    /* the chunk being built */
    pqw_chain data; /* data pages, headers included */
    int64_t ch_values;
    int64_t ch_uncompressed, ch_compressed; /* data pages, headers incl. */
    int32_t n_dict_pages, n_plain_pages;
    bool enc_used[16];
    meru_buf locs; /* page_loc */
    meru_buf cis;  /* ci_entry */
    meru_buf ci_bytes;
    meru_buf hashes; /* uint64 bloom hashes of the row group */
} colw;

typedef struct chunk_fix {
    /* where the page-index blobs put this chunk's entries */
    uint32_t rg, col;
    bool has_ci;
    uint64_t ci_off;
    uint32_t ci_len;
    uint64_t oi_off;
    uint32_t oi_len;
} chunk_fix;

struct pq_writer {
    pq_sink sink;
    pq_writer_options o;
    uint32_t ncols;
    colw *cols;
    meru_arena *arena; /* specs, footer metadata */
    uint64_t offset;   /* bytes written to the sink */
    int failed;        /* first sink error; later calls get MERU_EFAILED */

    uint64_t rows;    /* total */
    uint64_t rg_rows; /* in the open row group */
    pq_row_group *rgs;
    uint32_t n_rgs, cap_rgs;

    meru_buf ci_blob, oi_blob;
    meru_buf fixes; /* chunk_fix */

    pq_kv *kv;
    uint32_t n_kv, cap_kv;
    meru_buf bloom_crcs; /* "<rg>:<col>:<crc>," items (bloom_crc_key) */

    /* scratch, reused for every page */
    meru_buf body, vals, comp, hdr, tmp;
};

/* writer_page.c */
int pqw_col_append(pq_writer *w, colw *c, const pq_column_data *cd, size_t r0,
                   size_t n);
int pqw_flush_page(pq_writer *w, colw *c);
size_t pqw_page_estimate(const colw *c);
void pqw_fill_statistics(colw *c, pq_stats_acc *a, pq_statistics *s);
/* Sets the page's size and CRC (over body a then b) in h and encodes the
 * header into w->hdr. */
int pqw_page_header(pq_writer *w, pq_page_header *h, const uint8_t *a,
                    size_t alen, const uint8_t *b, size_t blen);

/* writer_check.c */
/* Bytes of one value of the column's type (0: BYTE_ARRAY). */
size_t pqw_type_width(const pq_column_spec *s);
/* Converted type for old readers, or -1. */
int pqw_converted_of(const pq_column_spec *s);
/* MERU_EINVAL with a message when column i's spec is not writable. */
int pqw_check_spec(const pq_column_spec *s, uint32_t i);
/* MERU_EINVAL with a message when the options are out of range. */
int pqw_check_options(const pq_writer_options *o);

/* writer.c: the chunk chain */
int pqw_chain_append(pqw_chain *ch, const void *p, size_t n);
void pqw_chain_reset(pqw_chain *ch);
void pqw_chain_free(pqw_chain *ch);

#endif
