/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pq.h — the Parquet file codec as the engine uses it: a streaming writer
 * and a reader with column cursors, over abstract byte sinks and sources.
 *
 * What it is: every SST of merutable is a Parquet file (SPEC §6). This
 * module writes flat Parquet files (one leaf column per top-level field)
 * with statistics, page index, bloom filters and page CRCs, and reads every
 * flat file of the public parquet-testing corpus (all standard encodings
 * and codecs, data page v1 and v2). Nested or repeated schemas are refused
 * with MERU_ENOTSUP. Encryption and external column chunks are refused too.
 *
 * I/O: the codec never touches the file system itself. A writer pushes
 * bytes into a pq_sink (append-only); a reader pulls ranges from a
 * pq_source (positional reads). Helpers below make them from a POSIX fd, a
 * FILE* or memory; the engine plugs in its own VFS.
 *
 * Ownership, in one place:
 *  - pq_writer_open copies the column specs and options (names, key/value
 *    metadata): the caller's arrays may go away after the call.
 *  - pq_writer_write reads the caller's arrays only during the call.
 *  - pq_writer_close finishes the file and frees the writer, also when it
 *    fails; pq_writer_abort frees it without finishing the file.
 *  - A pq_reader owns the decoded footer (strings, statistics); pointers
 *    it hands out (column info, metadata, decoded indexes) live until
 *    pq_reader_close. The source must outlive the reader.
 *  - A pq_cursor owns the buffers of the batch it returns: they are valid
 *    until the next call on that cursor (next/seek/close).
 *
 * Threads: a pq_writer and a pq_cursor are used by one thread at a time.
 * A pq_reader may be shared: opening cursors, reading statistics and the
 * lazily loaded page indexes and bloom filters are safe from any number of
 * threads (the lazy caches fill under an internal mutex), provided the
 * source's read_at is (pread-based and memory sources are).
 *
 * Errors: every function returns a meru_status (0 = OK) with the message
 * in meru_errmsg(); corrupt input gives MERU_ECORRUPT naming the column,
 * row group and offset, never a crash or an out-of-bounds read.
 *
 * Host: little-endian only (values are copied to and from PLAIN bytes).
 */
#ifndef MERU_PARQUET_PQ_H
#define MERU_PARQUET_PQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "parquet/meta.h"
#include "parquet/stats.h"
#include "util/buf.h"

/* =============================================================== I/O == */

/* Append-only byte sink. write() stores all n bytes or returns an error
 * status (with meru_err set); a short write is the sink's own problem. */
typedef struct pq_sink {
    int (*write)(void *ctx, const void *p, size_t n);
    void *ctx;
} pq_sink;

/* Positional byte source of `size` bytes. read_at() fills exactly n bytes
 * or returns an error status; reads past `size` are errors.
 *
 * `base` (optional, NULL = none): when set, the `size` bytes of the source
 * are readable in place at base[0..size) for as long as the source lives
 * (a memory map, a memory source). The reader then decodes page headers,
 * pages, indexes and bloom filters straight from there instead of copying
 * them through read_at, with the same bounds checks; values it hands out
 * for uncompressed byte-array pages may point into base. */
typedef struct pq_source {
    int (*read_at)(void *ctx, uint64_t off, void *buf, size_t n);
    uint64_t size;
    void *ctx;
    const uint8_t *base;
} pq_source;

/* Sink writing to a POSIX fd (loops over short writes and EINTR). */
void pq_sink_fd(pq_sink *s, int fd);
/* Sink writing to a stdio stream. */
void pq_sink_file(pq_sink *s, FILE *f);
/* Sink appending to a growable buffer (the caller owns `b`). */
void pq_sink_buf(pq_sink *s, meru_buf *b);

/* Source reading an fd with pread (thread-safe); the size comes from
 * fstat. MERU_EIO if fstat fails. No base. */
int pq_source_fd(pq_source *s, int fd);
/* Source over memory: `m` (caller storage) holds the bounds; neither m
 * nor the bytes are copied, both must outlive the source (and the reader's
 * batches: base is set, so values may point into the bytes). */
typedef struct pq_mem {
    const uint8_t *p;
    size_t n;
} pq_mem;
void pq_source_mem(pq_source *s, pq_mem *m, const void *p, size_t n);

/* ============================================================ writer == */

/* Tri-state for per-column switches whose default depends on the profile. */
typedef enum pq_opt {
    PQ_OPT_DEFAULT = 0,
    PQ_OPT_ON = 1,
    PQ_OPT_OFF = 2
} pq_opt;

typedef enum pq_profile {
    /* L0: row store. ~8 KiB pages, PLAIN, no dictionary, no compression by
     * default, data page v1. */
    PQ_PROFILE_ROW = 0,
    /* L1+: column store. 64 KiB pages, 64 MiB row groups,
     * DELTA_BINARY_PACKED for INT32/INT64, BYTE_STREAM_SPLIT for
     * FLOAT/DOUBLE, RLE_DICTIONARY for BYTE_ARRAY/FLBA falling back to PLAIN
     * when the dictionary does not pay or outgrows its page size cap, RLE
     * for BOOLEAN, ZSTD, data page v2. */
    PQ_PROFILE_COLUMN = 1
} pq_profile;

/* One column of the file. A zeroed spec is a REQUIRED column with the
 * profile's defaults; set name and type at least. */
typedef struct pq_column_spec {
    const char *name;
    pq_type type;
    int32_t type_length;      /* FIXED_LEN_BYTE_ARRAY width (1..65535) */
    pq_repetition repetition; /* PQ_REQUIRED or PQ_OPTIONAL */
    bool has_field_id;
    int32_t field_id;
    /* Logical type (PQ_LT_NONE for none): STRING, DATE, TIMESTAMP, TIME,
     * DECIMAL, INTEGER, JSON, ENUM, UUID. The matching converted type is
     * written too where one exists, for old readers. */
    pq_logical_type logical;
    /* Value encoding of data pages; when a dictionary is used this is the
     * fallback encoding. Unset: the profile's choice. */
    bool has_encoding;
    pq_encoding encoding;
    pq_opt dictionary;  /* default: the profile's choice */
    bool bloom_filter;  /* write a split-block bloom filter per chunk */
    bool no_statistics; /* omit page, chunk and page-index statistics */
    /* Never cut this column's page and chunk statistics (statistics_truncate
     * does not apply; the column index is still cut): for a column whose
     * readers need exact row-group bounds. Its values must then be small
     * enough for a page header to hold two of them (PQ_MAX_PAGE_HEADER). */
    bool exact_statistics;
    /* This column's data pages end at page_size bytes of values or
     * page_rows rows instead of the writer's (0 = the writer's option).
     * With a dictionary, the first (trial) page ends at page_size bytes of
     * plain values, and later dictionary-encoded pages (small indices)
     * keep the writer's page_size. Parquet lets each column cut its pages
     * where it likes; the offset index gives each page's first row. */
    uint32_t page_size;
    uint32_t page_rows;
    /* Byte-array bounds of this column's column index are cut to this many
     * bytes (0 = the writer's column_index_truncate). */
    uint32_t column_index_truncate;
} pq_column_spec;

typedef struct pq_kv {
    const char *key;
    const char *value; /* NULL: key without value */
    size_t value_len;  /* bytes of value (may hold any bytes) */
} pq_kv;

typedef struct pq_writer_options {
    pq_profile profile;
    /* Target uncompressed size of a data page's values, bytes. */
    uint32_t page_size;
    /* A data page also closes after this many rows (0 = no row limit). */
    uint32_t page_rows;
    /* A row group closes once its encoded pages reach this many bytes, or
     * it holds row_group_rows rows (0 = no such limit). Memory held by
     * the writer is about one row group of encoded pages. */
    uint64_t row_group_bytes;
    uint64_t row_group_rows;
    pq_codec codec;
    int codec_level;       /* the codec's own level; 0 = its default */
    /* A column chunk keeps `codec` only where it pays: its first data page
     * (when not dictionary-encoded) is compressed as usual, and if that
     * saves less than this fraction of the page's bytes, the page and the
     * rest of the chunk are stored uncompressed and the chunk's codec is
     * UNCOMPRESSED (Parquet gives each column chunk its own codec).
     * Spares the codec's CPU, and readers' decompression, on values that
     * do not compress (random strings, hashes, ciphertext). With data
     * page v2, any later page of a chunk that keeps its codec is also
     * stored as it is (is_compressed false) when compressing it saves
     * less than this (above all a dictionary chunk's small indices):
     * valid Parquet that DuckDB, arrow-rs and hyparquet read
     * (test_pq_interop), though some older readers ignored the per-page
     * flag. 0 = every chunk and page keeps `codec`. */
    double codec_min_saving;
    int data_page_version; /* 1 or 2 */
    bool page_index;       /* write ColumnIndex + OffsetIndex */
    bool page_crc;         /* CRC-32 in every page header */
    /* Dictionary page cap: past it a column falls back to its plain
     * encoding for the rest of the row group. */
    uint32_t dict_page_size_limit;
    /* Bloom filters: false-positive rate, and distinct values to size
     * for (0 = the distinct values seen in the row group, estimated from
     * the hashes by linear counting). */
    double bloom_fpp;
    uint64_t bloom_ndv;
    uint32_t bloom_max_bytes;
    /* BYTE_ARRAY bounds in the column index are cut to this many bytes
     * (the max rounded up; STRING bounds at a character boundary); 0 =
     * never cut. A page whose max has no short upper bound (all 0xFF)
     * leaves the chunk without a column index. */
    uint32_t column_index_truncate;
    /* The same for the min/max of page and chunk statistics, which are
     * then marked inexact (is_min_value_exact / is_max_value_exact false;
     * a max with no short bound is left out with its min). Without a cut
     * a 16 MiB value would put 32 MiB of bounds in its page header and
     * again in the footer. A FIXED_LEN_BYTE_ARRAY column longer than this
     * gets no min/max (a cut value would not be of its type). 0 = never
     * cut (values must then fit PQ_MAX_PAGE_HEADER twice). */
    uint32_t statistics_truncate;
    const pq_kv *kv; /* footer key/value metadata, copied */
    uint32_t n_kv;
    /* Parquet gives bloom filters no checksum, and a damaged filter makes
     * lookups miss rows that are there. With a key set here, the writer
     * records the CRC-32C of every filter it writes (header and bitset)
     * in that footer key/value entry, as "<row group>:<column>:<8 hex>"
     * items separated by commas; a reader given the same key checks them
     * (pq_reader_options.bloom_crc_key). Other readers ignore the entry.
     * NULL: none. */
    const char *bloom_crc_key;
    const char *created_by; /* NULL: "merutable version X.Y.Z" */
} pq_writer_options;

/* Option presets. Row-tuned (L0): page_size 8 KiB, page_rows 20000,
 * row_group_bytes 8 MiB (what a flush holds), no compression, v1 pages, page index and CRC
 * on, bloom fpp 0.01. Column-tuned (L1+): page_size 64 KiB (32..128 KiB
 * sensible), page_rows 20000, row_group_bytes 64 MiB, ZSTD level 3, v2
 * pages, dictionary cap 1 MiB, page index and CRC on, bloom fpp 0.01.
 * Both: column_index_truncate 64, statistics_truncate 64, bloom_max_bytes
 * 1 MiB, codec_min_saving 0.10. */
void pq_writer_options_row(pq_writer_options *o);
void pq_writer_options_column(pq_writer_options *o);

/* Values of one column for pq_writer_write: `values` is dense over all
 * rows of the batch (null slots are ignored) and typed by the physical
 * type: BOOLEAN uint8_t (0/1), INT32 int32_t, INT64 int64_t, INT96 12-byte
 * records, FLOAT float, DOUBLE double, BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY
 * pq_bytes (FLBA lengths must equal type_length). `valid` (optional, one
 * byte per row, nonzero = present) marks nulls; NULL means no nulls. */
typedef struct pq_column_data {
    const void *values;
    const uint8_t *valid;
} pq_column_data;

/* Size of one element of such a values array (and of a cursor batch's). */
static inline size_t pq_value_width(pq_type t)
{
    switch (t) {
    case PQ_BOOLEAN:
        return 1;
    case PQ_INT32:
    case PQ_FLOAT:
        return 4;
    case PQ_INT64:
    case PQ_DOUBLE:
        return 8;
    case PQ_INT96:
        return 12;
    default:
        return sizeof(pq_bytes);
    }
}

/* The largest page header a reader accepts (statistics included); the
 * writer's statistics_truncate keeps headers far below it. */
#define PQ_MAX_PAGE_HEADER (16u << 20)

typedef struct pq_writer pq_writer;

/* Writes the magic, then nothing until a page fills. opts NULL = row
 * profile. MERU_EINVAL for an invalid spec (message names the column). */
int pq_writer_open(pq_writer **out, const pq_sink *sink,
                   const pq_column_spec *cols, uint32_t ncols,
                   const pq_writer_options *opts);
/* Appends nrows rows; cols has one entry per column in spec order. A
 * null in a REQUIRED column, a wrong FLBA length or a value over 2 GiB is
 * MERU_EINVAL and writes nothing of the batch. After a sink error the
 * writer is failed: every later call returns MERU_EFAILED. */
int pq_writer_write(pq_writer *w, size_t nrows, const pq_column_data *cols);
/* Closes the current row group now (no-op when empty). */
int pq_writer_flush_row_group(pq_writer *w);
/* Adds or replaces a footer key/value pair (copied); any time before
 * close. value NULL = key without value. */
int pq_writer_set_kv(pq_writer *w, const char *key, const void *value,
                     size_t value_len);
/* Rows written so far. */
uint64_t pq_writer_rows(const pq_writer *w);
/* Bytes written to the sink plus an estimate of the encoded bytes held for
 * the open row group (to cut output files at a target size). */
uint64_t pq_writer_bytes(const pq_writer *w);
/* Flushes, writes page indexes and the footer, frees w (also on
 * failure). *file_size (optional) gets the bytes written in total. */
int pq_writer_close(pq_writer *w, uint64_t *file_size);
/* Frees w without finishing the file. NULL is fine. */
void pq_writer_abort(pq_writer *w);

/* ============================================================ reader == */

typedef struct pq_reader_options {
    bool skip_crc; /* do not verify page CRCs */
    /* The footer key/value entry holding bloom filter checksums (see
     * pq_writer_options.bloom_crc_key); NULL: none. When the file has the
     * entry, every filter is checked when first loaded: a mismatch, or a
     * filter the entry does not list, is MERU_ECORRUPT (a malformed entry
     * fails the open). A file without the entry is read unchecked. */
    const char *bloom_crc_key;
} pq_reader_options;

/* A leaf column as the reader sees it. The logical type is normalised:
 * files that carry only a converted type get the equivalent logical type
 * (UTF8 -> STRING, TIMESTAMP_MICROS -> TIMESTAMP(UTC, MICROS), ...). */
typedef struct pq_column_info {
    const char *name;
    pq_type type;
    int32_t type_length;
    pq_repetition repetition;
    bool has_field_id;
    int32_t field_id;
    pq_logical_type logical;
    bool has_converted;
    pq_converted_type converted;
    pq_sort_order order; /* how min/max of this column compare */
} pq_column_info;

typedef struct pq_reader pq_reader;
typedef struct pq_cursor pq_cursor;

/* Reads and checks the footer. opts NULL = defaults. */
int pq_reader_open(pq_reader **out, const pq_source *src,
                   const pq_reader_options *opts);
void pq_reader_close(pq_reader *r); /* NULL is fine */

const pq_file_meta *pq_reader_meta(const pq_reader *r);
uint32_t pq_reader_num_columns(const pq_reader *r);
const pq_column_info *pq_reader_column(const pq_reader *r, uint32_t col);
/* Column index by name or by field id, or -1. */
int pq_reader_find_column(const pq_reader *r, const char *name);
int pq_reader_find_field_id(const pq_reader *r, int32_t field_id);
uint32_t pq_reader_num_row_groups(const pq_reader *r);
int64_t pq_reader_num_rows(const pq_reader *r); /* sum over row groups */
int64_t pq_reader_row_group_rows(const pq_reader *r, uint32_t rg);
const pq_column_meta *pq_reader_chunk(const pq_reader *r, uint32_t rg,
                                      uint32_t col);

/* Chunk statistics usable for pruning: min/max in this column's order
 * (PLAIN bytes, no length prefix) when the file has trustworthy ones
 * (min_value/max_value, or the legacy fields for numeric types; never
 * NaN). Returns false when there are none. null_count < 0: unknown. */
bool pq_reader_chunk_minmax(const pq_reader *r, uint32_t rg, uint32_t col,
                            pq_bytes *min, pq_bytes *max);
int64_t pq_reader_chunk_null_count(const pq_reader *r, uint32_t rg,
                                   uint32_t col);
/* Row-group skipping: false only when the chunk statistics prove that
 * no row has `value` (PLAIN bytes of the column's type) in this column. */
bool pq_reader_chunk_may_contain(const pq_reader *r, uint32_t rg, uint32_t col,
                                 const void *value, size_t len);

/* Page index of a chunk, decoded lazily and cached (NULL *out when the
 * file has none). Owned by the reader. */
int pq_reader_column_index(pq_reader *r, uint32_t rg, uint32_t col,
                           const pq_column_index **out);
int pq_reader_offset_index(pq_reader *r, uint32_t rg, uint32_t col,
                           const pq_offset_index **out);
/* The last page of a non-empty offset index whose first row is <= row
 * (0 when row is before them all): the page holding row, if any does. */
uint32_t pq_offset_index_page_of(const pq_offset_index *oi, int64_t row);
/* The row after page p of an offset index of a chunk of `rows` rows: the
 * next page's first row, or `rows` after the last page (not checked). */
int64_t pq_offset_index_page_end(const pq_offset_index *oi, uint32_t p,
                                 int64_t rows);
/* Page-level pruning: the rows [*row_begin, *row_end) of the row group
 * whose pages may hold `value` according to the ColumnIndex (the whole
 * row group when there is no page index; an empty range when no page
 * can). Pages need not be contiguous: the range covers the first to the
 * last candidate page. */
int pq_reader_pages_for_value(pq_reader *r, uint32_t rg, uint32_t col,
                              const void *value, size_t len, int64_t *row_begin,
                              int64_t *row_end);

/* Bloom filter check: *maybe false only when the chunk's bloom filter
 * proves `value` (PLAIN bytes; for BYTE_ARRAY the bytes only) absent.
 * The filter is read once and cached. No filter: *maybe = true. */
int pq_reader_bloom_check(pq_reader *r, uint32_t rg, uint32_t col,
                          const void *value, size_t len, bool *maybe);
bool pq_reader_has_bloom(const pq_reader *r, uint32_t rg, uint32_t col);
/* The filter hash of `value` for column col (the same in every row group
 * and every file with the column's type): false when the value has no
 * PLAIN form of that type (then no filter applies). Lets a caller probing
 * many chunks hash once. */
bool pq_reader_bloom_hash(const pq_reader *r, uint32_t col, const void *value,
                          size_t len, uint64_t *hash);
/* pq_reader_bloom_check with the hash from pq_reader_bloom_hash. */
int pq_reader_bloom_check_hash(pq_reader *r, uint32_t rg, uint32_t col,
                               uint64_t hash, bool *maybe);

/* A batch of rows of one column. values is dense over n rows, typed by
 * physical type as for pq_column_data (INT96: 12-byte records, byte
 * arrays: pq_bytes); null slots hold zero / empty. valid[i] is 1 or 0
 * (never NULL). Everything stays valid until the next call on the cursor. */
typedef struct pq_batch {
    size_t n;
    size_t null_count;
    const void *values;
    const uint8_t *valid;
} pq_batch;

/* A cursor streaming one column chunk, page by page. */
int pq_cursor_open(pq_reader *r, uint32_t rg, uint32_t col, pq_cursor **out);
/* Fills out with min(max_rows, PQ_MAX_BATCH_ROWS, rows left) rows; n == 0
 * at the end. */
#define PQ_MAX_BATCH_ROWS ((size_t)1 << 24)
int pq_cursor_next(pq_cursor *c, size_t max_rows, pq_batch *out);
/* Positions the cursor at `row` (0-based within the row group): jumps to
 * the page through the OffsetIndex when there is one, otherwise skips
 * whole pages by their headers without decompressing them. row may equal
 * the row count (end). */
int pq_cursor_seek(pq_cursor *c, int64_t row);
/* Decodes the one page whose rows are [first, first + n) (first must
 * start a page, n must be its row count: the offset index gives both)
 * straight into `values`, the caller's array of n * pq_value_width(type)
 * bytes, instead of the cursor's buffers: no copy for the caller to make,
 * and PLAIN numbers without nulls are decompressed into it directly. out
 * gets n, values and the validity (valid until the next call on c); the
 * cursor is then positioned after the page. Not for byte-array columns
 * (their values point into the cursor: MERU_EINVAL); a page of other
 * rows than said is MERU_ECORRUPT. */
int pq_cursor_read_page(pq_cursor *c, int64_t first, size_t n, void *values,
                        pq_batch *out);
/* Byte arrays straight into the caller's memory, in two steps: for the
 * page whose rows are [first, first + n) (as pq_cursor_read_page), when it
 * is a v2 page of PLAIN BYTE_ARRAY values with no nulls, *ok is set and
 * *bytes is the size of its values as PLAIN stores them (a 4-byte length
 * before each); *in_place when the page is not compressed and lies in the
 * source's own bytes (a map), which a caller may prefer to point into.
 * Any other page (or no offset index) answers *ok false: read it with
 * pq_cursor_seek / pq_cursor_next. Then pq_cursor_plain_bytes_read checks
 * the page (CRC, levels) and decompresses those bytes into dst (room for
 * *bytes); pq_plain_compact_bytes turns them into offsets and bytes in
 * place. Why: a point read caching one string page decompressed it into
 * the cursor, decoded pq_bytes over it and copied the bytes into the
 * cache entry: two buffers and a copy per page (bench/RESULTS.md, "page
 * decodes into their cache entries"). The cursor holds no page after
 * either call. */
int pq_cursor_plain_bytes_size(pq_cursor *c, int64_t first, size_t n,
                               size_t *bytes, bool *in_place, bool *ok);
int pq_cursor_plain_bytes_read(pq_cursor *c, uint8_t *dst);
int64_t pq_cursor_row(const pq_cursor *c); /* next row to be returned */
void pq_cursor_close(pq_cursor *c);        /* NULL is fine */
/* This cursor does not verify page CRCs (a per-read choice; the reader's
 * skip_crc option turns them off for every cursor). Pages read without a
 * check are not marked checked in the reader's once-per-page record. */
void pq_cursor_set_skip_crc(pq_cursor *c, bool skip);
/* This cursor reads its pages through `src` instead of the reader's
 * source (NULL: the reader's again). src must hold the same bytes (same
 * size) and outlive the cursor. Without a base, each page is read with
 * one read_at of the bytes the offset index gives it (header and body;
 * a window when the cursor is not at an indexed page) into the cursor's
 * buffer, and values never point into the reader's base: a point read
 * of a mapped file takes only the bytes it decodes, and leaves no
 * mapped pages resident (sst_cache.c). No readahead without a base.
 * Call it before the cursor's first read: a dictionary already loaded is
 * kept as it was read (its values may point into the old source). */
void pq_cursor_set_source(pq_cursor *c, const pq_source *src);

/* Page counters of a cursor (tests and benchmarks check pruning). */
typedef struct pq_cursor_stats {
    uint64_t pages_read;    /* data pages whose body was read */
    uint64_t pages_skipped; /* data pages skipped by seek */
    uint64_t bytes_read;
    uint64_t pages_ahead;   /* of pages_read, pages a readahead loaded */
} pq_cursor_stats;
void pq_cursor_get_stats(const pq_cursor *c, pq_cursor_stats *out);

/* Decode-ahead for long scans: one worker thread that, for the cursors
 * attached to it, reads, checks and decompresses the pages after the one
 * each cursor is on while the caller decodes the current one. A cursor
 * starts using it only after reading PQ_READAHEAD_START_PAGES pages and
 * PQ_READAHEAD_START_BYTES of decompressed bytes in
 * sequence (pq_cursor_next, no seek away), and only on a compressed chunk
 * of a mapped source; a seek drops what was read ahead. The thread starts
 * with the first such cursor. Memory: up to ~2 x (256 KiB + a page) of
 * decompressed pages per cursor in use. What a cursor returns and the
 * errors it reports are the same with or without it. Owned by one thread
 * (the one using its cursors); free it after closing every attached
 * cursor: it returns at once, the worker (detached) exits on its own. */
#define PQ_READAHEAD_START_BYTES (64u << 10)
#define PQ_READAHEAD_START_PAGES 16u
typedef struct pq_readahead pq_readahead;
int pq_readahead_new(pq_readahead **out);
void pq_readahead_free(pq_readahead *ra); /* NULL is fine */
/* Whether the worker thread was started (a cursor used it). */
bool pq_readahead_started(const pq_readahead *ra);
/* Worker threads started by all readaheads of the process so far: lets
 * tests check that a reader of many files at once bounds its workers. */
uint64_t pq_readahead_workers_started(void);
/* Attaches c to ra (NULL detaches, dropping any pages read ahead). */
void pq_cursor_set_readahead(pq_cursor *c, pq_readahead *ra);

#endif
