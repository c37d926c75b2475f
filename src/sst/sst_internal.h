/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_internal.h — what the SST files share (not an API: only the src/sst files
 * include it): the open file's state, the mapping between schema column
 * types and Parquet columns, and the column-to-value conversions.
 *
 * Type mapping (what Iceberg expects of a Parquet data file):
 *   BOOLEAN              BOOLEAN
 *   INT32                INT32
 *   INT64                INT64
 *   FLOAT / DOUBLE       FLOAT / DOUBLE
 *   STRING               BYTE_ARRAY, logical STRING
 *   BINARY               BYTE_ARRAY
 *   FIXED(L)             FIXED_LEN_BYTE_ARRAY(L)
 *   DATE                 INT32, logical DATE
 *   TIMESTAMP            INT64, TIMESTAMP(MICROS, isAdjustedToUTC=false)
 *   TIMESTAMPTZ          INT64, TIMESTAMP(MICROS, isAdjustedToUTC=true)
 *   DECIMAL(P,S)         P <= 9: INT32, P <= 18: INT64, else
 *                        FIXED_LEN_BYTE_ARRAY of the fewest bytes holding P
 *                        digits (big-endian two's complement); logical
 *                        DECIMAL(P,S) in every case.
 * Repetition: key columns REQUIRED; every other user column OPTIONAL, also
 * when the schema says NOT NULL, because a delete row carries only its key
 * (the other columns of a delete are null). The reader still rejects a null
 * in a NOT NULL column of a put row as corruption.
 *
 * Reading accepts the Iceberg type promotions on top of the exact mapping:
 * an INT32 file column read as INT64, FLOAT read as DOUBLE, and a decimal
 * of the same scale stored in any of INT32 / INT64 / FIXED_LEN_BYTE_ARRAY /
 * BYTE_ARRAY (<= 16 bytes).
 */
#ifndef MERU_SST_SST_INTERNAL_H
#define MERU_SST_SST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "sst/sst.h"

/* The Parquet column spec of schema column `c` (name and logical type
 * borrowed from `c`; bloom filter and repetition set for a key column). */
void sst_column_spec(const meru_column *c, pq_column_spec *out);
/* Bytes of the FIXED_LEN_BYTE_ARRAY holding a decimal of precision p > 18. */
int32_t sst_decimal_bytes(int32_t precision);

/* Whether a file column can be read as schema column `c` (see above);
 * false with the reason in *why. */
bool sst_column_compatible(const meru_column *c, const pq_column_info *fi,
                           const char **why);

/* Value i of a batch of file column `fi` as a PRESENT value of column `c`
 * (compatible): bytes point into the batch. */
void sst_value_from_batch(const meru_column *c, const pq_column_info *fi,
                          const pq_batch *b, size_t i, meru_value *out);

/* PLAIN bytes of a key value for the bloom filter of file column `fi`,
 * into out[16] (or pointing into the value for byte arrays). False when no
 * PLAIN form applies (then the filter is not consulted). */
bool sst_plain_key(const meru_column *c, const pq_column_info *fi,
                   const meru_value *v, uint8_t out[16], const uint8_t **p,
                   size_t *len);

/* A placeholder PRESENT value of the column's type (zero / empty / zero
 * bytes): what a non-projected NOT NULL column holds in an iterator's
 * value, since the rowcodec forbids null there. `zeros` must hold at least
 * the column's FIXED length. */
void sst_placeholder(const meru_column *c, const uint8_t *zeros,
                     meru_value *out);

/* Footer key/value entries of the checks (sst.h). */
#define SST_KV_FILE_ID   "merutable.file-id"
#define SST_KV_BLOOM_CRC "merutable.bloom-crc32c"

/* Maps statuses of the Parquet layer met while reading a file we wrote:
 * ENOTSUP / EINVAL can only come from damaged metadata, so they become
 * ECORRUPT (message kept). */
int sst_read_rc(int rc);

/* The open file. Everything is read-only after meru_sst_open, so any number
 * of threads may use it; cursors and scratch space are per call. */
struct meru_sst {
    meru_fs *fs;
    meru_file *file;
    char *path;
    meru_schema *schema; /* the reader's schema (a clone) */
    meru_cache *cache;   /* optional, not owned */
    uint64_t cache_id;
    bool page_cache;     /* cache with capacity > 0: gets cache pages */
    pq_source src;
    pq_reader *r;
    const uint8_t *map; /* the whole file mapped read-only, or NULL */
    /* The same bytes through the file (pread, no base), for the pages a
     * get decodes from a mapped file (sst_cache.c); set at every open,
     * used only when the file is mapped. */
    pq_source fsrc;

    int level;
    uint64_t rows, file_size, min_seq, max_seq;
    meru_buf smallest, largest; /* encoded user keys */
    char *file_id;              /* footer merutable.file-id, or NULL */

    uint32_t nrg;
    int64_t *rg_start;   /* nrg + 1 entries: first global row of each */
    pq_bytes *rg_min, *rg_max; /* exact ikey bounds per row group */

    int col_ikey, col_seq, col_op;
    int *pcol;       /* per schema column: file column index or -1 */
    size_t max_fixed; /* largest FIXED length (placeholder zeros) */
    uint8_t *zeros;

    /* The key directory (sst_keydir.c): published once built, then
     * immutable; kd_state tells a builder from the others. */
    meru_sst_keydir_budget *kd_budget; /* NULL: no directory */
    _Atomic(struct sst_keydir *) kd;
    atomic_int kd_state;
    /* The directory while its row groups are built (integer keys: the
     * same object as kd once every row group is in; see sst_keydir.h). */
    _Atomic(struct sst_keydir *) kd_part;
};

/* Global row -> row group (rows must be < t->rows). */
uint32_t sst_rg_of(const meru_sst *t, int64_t row);
/* Rows of row group rg. */
static inline int64_t sst_rg_rows(const meru_sst *t, uint32_t rg)
{
    return t->rg_start[rg + 1] - t->rg_start[rg];
}

/* Index of the first page of row group `rg` whose ikey max is >= key (the
 * page the first ikey >= key lives in, or an earlier one when bounds were
 * truncated); its rows are [*pbeg, *pend). Without a page index the whole
 * row group is one page. */
int sst_find_page(meru_sst *t, uint32_t rg, const uint8_t *key, size_t len,
                  int64_t *pbeg, int64_t *pend);
/* The ikey page of row group `rg` holding local row `row`: [*pbeg, *pend). */
int sst_page_of_row(meru_sst *t, uint32_t rg, int64_t row, int64_t *pbeg,
                    int64_t *pend);

/* A decoded page of one column (sst_cache.c): rows [first, first + n) of
 * its row group. Immutable once in the cache. Two forms:
 * - values as in a pq_batch (byte arrays as pq_bytes pointing into the
 *   page's own storage): numeric columns and the ikey column (find_ikey
 *   searches its pq_bytes);
 * - compact (offs != NULL, values NULL): the other byte-array columns, row
 *   i's bytes are bytes[offs[i], offs[i + 1]). A decoded page is charged
 *   to the cache by its size, and 16 bytes of pq_bytes per value were ~15 %
 *   of a 100-byte string's page: the compact form keeps more rows cached.
 * valid NULL: no nulls in the page (the flags are not stored). */
typedef struct sst_page {
    int64_t first;
    size_t n;
    const void *values;
    const uint8_t *valid;
    const uint32_t *offs;
    const uint8_t *bytes;
} sst_page;

static inline bool sst_page_is_valid(const sst_page *p, size_t at)
{
    return !p->valid || p->valid[at];
}

/* The decoded page of column `col` of row group `rg` holding local row
 * `row`, from the page cache or decoded (just that page) and inserted;
 * *pages_read counts a decode. Release *h with meru_cache_release(t->cache)
 * once done with the page. *page NULL (and *h NULL) when the page cache is
 * off or the chunk has no offset index: then read through a cursor. */
int sst_page_get(meru_sst *t, uint32_t rg, uint32_t col, int64_t row,
                 unsigned flags, const sst_page **page, meru_cache_handle **h,
                 uint64_t *pages_read);

/* Read flags of the read running on this thread (MERU_SST_*): a get or an
 * iterator step sets them around its reads so the block cache, which the
 * Parquet reader reaches through its source callbacks, sees them. Returns
 * the previous flags, for sst_read_flags_restore. */
unsigned sst_read_flags_set(unsigned flags);
void sst_read_flags_restore(unsigned saved);

/* Row `at` of the page as a one-row batch (for sst_value_from_batch at
 * index 0); *one and *ok are its storage. The row must be valid. */
static inline pq_batch sst_page_row(const sst_page *p, size_t at, size_t width,
                                    pq_bytes *one, uint8_t *ok)
{
    *ok = 1;
    if (p->offs) {
        one->ptr = p->bytes + p->offs[at];
        one->len = p->offs[at + 1] - p->offs[at];
        pq_batch b = {1, 0, one, ok};
        return b;
    }
    pq_batch b = {1, 0, (const uint8_t *)p->values + at * width, ok};
    return b;
}

#endif
