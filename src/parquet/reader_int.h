/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reader_int.h — the reader's private state, shared by reader.c (footer,
 * schema, statistics, page index, bloom filters), the column cursors
 * (reader_page.c, reader_decode.c; their state is reader_cursor.h) and
 * their readahead (reader_ahead.c). Not an API: only src/parquet/reader*.c
 * include it.
 */
#ifndef MERU_PARQUET_READER_INT_H
#define MERU_PARQUET_READER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "parquet/bloom.h"
#include "parquet/meta.h"
#include "parquet/pq.h"
#include "util/arena.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet codec assumes a little-endian host"
#endif

/* Caps on sizes read from the file (each is also bounded by the file). */
#define PQR_MAX_FOOTER (256u << 20)
#define PQR_MAX_PAGE   (1u << 30)  /* uncompressed page bytes */
#define PQR_MAX_HEADER PQ_MAX_PAGE_HEADER /* one page header */
#define PQR_MAX_INDEX  (64u << 20) /* one ColumnIndex / OffsetIndex */
/* Values in one page: RLE lets a few bytes claim billions, and each value
 * costs up to 16 decoded bytes, so the count itself is capped. */
#define PQR_MAX_PAGE_VALUES (1u << 24)

/* Lazily loaded per-chunk data; filled under pq_reader.mu, then read
 * without it once its done flag is set (release/acquire). */
typedef struct pqr_chunk_cache {
    atomic_bool ci_done, oi_done, bloom_done;
    pq_column_index *ci; /* NULL: none */
    pq_offset_index *oi;
    bool has_bloom;
    pq_bloom bloom;
    uint8_t *bloom_bits; /* malloc'd; freed at close */
    bool has_bloom_crc;  /* the file's bloom checksum entry lists it */
    uint32_t bloom_crc;
    /* In-place sources only: per page of oi (oi->n_pages flags), whether
     * its CRC was already verified (set with oi; freed at close). */
    atomic_uchar *crc_ok;
} pqr_chunk_cache;

struct pq_reader {
    pq_source src;
    pq_reader_options o;
    meru_arena *arena; /* decoded footer */
    pq_file_meta meta;
    uint32_t ncols;
    pq_column_info *cols;
    int64_t num_rows;
    uint64_t data_end; /* first byte of the footer: chunks end before */
    bool pad_chunks;   /* old parquet-mr: chunk sizes run short */
    bool bloom_crcs;   /* filters are checked (options.bloom_crc_key) */

    pthread_mutex_t mu;     /* guards filling cache, cache_arena */
    pqr_chunk_cache *cache; /* n_row_groups * ncols, allocated at open */
    meru_arena *cache_arena;
};

/* Byte range [*start, *end) of a chunk, checked against the file. */
int pqr_chunk_range(const pq_reader *r, uint32_t rg, uint32_t col,
                    uint64_t *start, uint64_t *end);
/* Reads n bytes at off of `src` into dst; the range is checked against
 * its size (MERU_ECORRUPT past the end). */
int pqr_source_read(const pq_source *src, uint64_t off, size_t n,
                    uint8_t *dst);
/* pqr_source_read of the reader's own source. */
int pqr_read(const pq_reader *r, uint64_t off, size_t n, uint8_t *dst);
/* Sizes b to n bytes (contents undefined: every user writes all n before
 * reading them) plus 16 zero bytes after them (reader_page.c; the
 * readahead's worker sizes its page buffers with it too). */
int pqr_buf_size(meru_buf *b, size_t n);

/* ----------------------------------------- decode-ahead (reader_ahead.c) */

/* A data page the readahead worker loaded: its header (statistics
 * cleared), header and body sizes, and whether `data` (handed over by
 * pqr_stream_take) holds its decompressed value bytes: the whole body for
 * a v1 page, the part after the levels for a v2 page; a page stored
 * uncompressed is not copied (inflated false). Its CRC was checked unless
 * the stream was opened with check_crc false. */
typedef struct pqr_ahead_page {
    pq_page_header h;
    size_t hlen, csize;
    bool inflated;
} pqr_ahead_page;

typedef struct pqr_stream pqr_stream;

/* A stream of the chunk ending at `end` of reader r (mapped sources only)
 * on readahead ra; stopped until pqr_stream_restart says where to go. */
int pqr_stream_open(pq_readahead *ra, const pq_reader *r, pq_codec codec,
                    uint64_t end, bool check_crc, pqr_stream **out);
/* Unlinks the stream and waits for the worker to leave it. NULL is fine. */
void pqr_stream_close(pqr_stream *s);
/* The page whose header is at `off`, when the worker has it (waiting while
 * it is loading that very page): PQR_AHEAD_TAKEN, *pg filled and its
 * decompressed bytes swapped into *data (the caller's old buffer goes to
 * the stream). PQR_AHEAD_HOLE: the worker left this page to the caller
 * (which loads it itself; the stream goes on after it). PQR_AHEAD_MISS:
 * the ring is dropped and the stream stopped; the caller loads the page
 * itself, then calls pqr_stream_restart. PQR_AHEAD_IDLE: the same, and
 * the worker was loading nothing at all (not busy on another cursor's
 * page: asleep, or given no CPU), or it was on this very page and did not
 * finish it within the caller's short spin (preempted). */
enum {
    PQR_AHEAD_MISS = 0,
    PQR_AHEAD_TAKEN = 1,
    PQR_AHEAD_HOLE = 2,
    PQR_AHEAD_IDLE = 3
};
int pqr_stream_take(pqr_stream *s, uint64_t off, pqr_ahead_page *pg,
                    meru_buf *data);
/* Points the worker at the page at `pos`, `left` values before the chunk
 * ends. */
void pqr_stream_restart(pqr_stream *s, uint64_t pos, int64_t left);

#endif
