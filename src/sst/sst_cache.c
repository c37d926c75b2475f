/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_cache.c — file bytes of an SST through the block cache, and decoded
 * pages for point lookups (SPEC §7: "a cache of decoded pages and
 * footers").
 *
 * The file is cut into fixed SST_CACHE_BLOCK-byte blocks; a read gathers
 * the blocks covering its range, each looked up under the key
 * (file's cache id, block number) and read from the file on a miss. The
 * footer, page indexes, bloom filters and hot data pages all end up
 * cached without the Parquet reader knowing: it only sees a pq_source.
 * Blocks are immutable (SSTs never change), so a racing double insert of
 * the same block is harmless.
 *
 * Decoded pages: a get needs one row of a page, and decoding the page
 * (CRC, decompression, value decoding) costs far more than finding the
 * row, so meru_sst_get keeps whole decoded pages in the same cache under
 * (id, row group, column, page index), charged their decoded bytes. The
 * key is longer than a block's, so the two never collide. A page is one
 * allocation (header, values, valid flags, then the bytes of byte-array
 * values) and immutable once inserted: threads share it through handles.
 *
 * With a mapped file (t->map) no block is ever cached: the Parquet reader
 * reads the map in place (footer, indexes, bloom filters, scans). The
 * pages a get's miss decodes are the exception: read with one pread each
 * (page_cursor_open), so the map holds no page a get touched.
 *
 * A read with MERU_SST_NO_FILL_CACHE (meru_read_options.fill_cache = 0)
 * takes what the cache has and inserts nothing: a missing block is read
 * straight into the caller's buffer, a missing page makes sst_page_get
 * answer "no page" (the get then reads through a cursor). The flag reaches
 * the block reads through a thread-local set by the get or iterator step.
 * A read that skips page CRCs (MERU_SST_SKIP_CRC) caches no decoded page
 * either.
 */
#include <stdlib.h>
#include <string.h>

#include "parquet/encoding.h"
#include "sst/sst_internal.h"
#include "util/endian.h"
#include "util/error.h"

#define SST_CACHE_BLOCK (32u * 1024u)

int sst_cache_read(meru_sst *t, uint64_t off, void *buf, size_t n);
void sst_cache_attach(meru_sst *t);

void sst_cache_attach(meru_sst *t)
{
    if (t->cache) {
        t->cache_id = meru_cache_new_id(t->cache);
        /* A cache of capacity 0 keeps nothing: decoding whole pages to
         * drop them would cost more than reading the one row. */
        meru_cache_stats st;
        meru_cache_stats_get(t->cache, &st);
        t->page_cache = st.capacity > 0;
    }
}

static void block_free(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    free(value);
}

static _Thread_local unsigned tl_flags;

unsigned sst_read_flags_set(unsigned flags)
{
    unsigned old = tl_flags;
    tl_flags = flags;
    return old;
}

void sst_read_flags_restore(unsigned saved)
{
    tl_flags = saved;
}

int sst_cache_read(meru_sst *t, uint64_t off, void *buf, size_t n)
{
    if (off > t->file_size || n > t->file_size - off)
        return meru_err(MERU_ECORRUPT,
                        "SST %s: read of %zu bytes at %llu past the end",
                        t->path, n, (unsigned long long)off);
    uint8_t *dst = buf;
    while (n > 0) {
        uint64_t blk = off / SST_CACHE_BLOCK;
        uint64_t bstart = blk * SST_CACHE_BLOCK;
        size_t blen = t->file_size - bstart < SST_CACHE_BLOCK
                          ? (size_t)(t->file_size - bstart)
                          : SST_CACHE_BLOCK;
        size_t in = (size_t)(off - bstart);
        size_t k = blen - in < n ? blen - in : n;
        uint8_t key[16];
        meru_store_le64(key, t->cache_id);
        meru_store_le64(key + 8, blk);
        meru_cache_handle *h = meru_cache_lookup(t->cache, key, sizeof key);
        if (!h && (tl_flags & MERU_SST_NO_FILL_CACHE)) {
            int rc = meru_file_read_exact(t->file, off, dst, k);
            if (rc)
                return rc;
            dst += k;
            off += k;
            n -= k;
            continue;
        }
        if (!h) {
            uint8_t *b = malloc(blen);
            if (!b)
                return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
            int rc = meru_file_read_exact(t->file, bstart, b, blen);
            if (!rc)
                rc = meru_cache_insert(t->cache, key, sizeof key, b, blen,
                                       block_free, &h);
            if (rc) {
                free(b);
                return rc;
            }
        }
        const uint8_t *src = meru_cache_value(h);
        memcpy(dst, src + in, k);
        meru_cache_release(t->cache, h);
        dst += k;
        off += k;
        n -= k;
    }
    return MERU_OK;
}

/* ------------------------------------------------------- decoded pages */

#define PAGE_KEY_LEN 21

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* A cursor for decoding one page of a get's miss. On a mapped file it
 * reads the page through the file (t->fsrc: one pread of the header and
 * body the offset index gives), not the map: a get's page would
 * otherwise stay mapped, in the process's RSS, after its decoded form is
 * in the cache (uniform gets over a table left ~75 MiB of it resident in
 * bench_kv). Releasing the touched map instead cost a minor fault and
 * ~7.5 us of system time a get (bench/RESULTS.md, "Mapped pages of gets
 * and scans"); a pread of ~2-8 KiB costs one syscall and a copy. */
static int page_cursor_open(meru_sst *t, uint32_t rg, uint32_t col,
                            unsigned flags, pq_cursor **out)
{
    int rc = pq_cursor_open(t->r, rg, col, out);
    if (rc)
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    pq_cursor_set_skip_crc(*out, (flags & MERU_SST_SKIP_CRC) != 0);
    if (t->map)
        pq_cursor_set_source(*out, &t->fsrc);
    return MERU_OK;
}

/* Decodes rows [first, end) of a column of fixed-width values (one page)
 * straight into the page's allocation: the cursor decodes (PLAIN values:
 * decompresses) into it, no copy follows. The allocation is sized for a
 * page without nulls, the common case, and grows by the valid flags when
 * the page has nulls. */
static int page_decode_fixed(meru_sst *t, uint32_t rg, uint32_t col,
                             int64_t first, int64_t end, unsigned flags,
                             sst_page **out, size_t *charge,
                             uint64_t *pages_read)
{
    const pq_column_info *fi = pq_reader_column(t->r, col);
    size_t n = (size_t)(end - first);
    /* the bounds come from the offset index: a lying one is refused
     * before it sizes an allocation */
    if (n > PQ_MAX_BATCH_ROWS)
        return meru_err(MERU_ECORRUPT,
                        "SST %s: a page of %zu rows (offset index)", t->path,
                        n);
    size_t hdr = align8(sizeof(sst_page));
    size_t vals = align8(n * pq_value_width(fi->type));
    uint8_t *base = malloc(hdr + vals);
    if (!base)
        return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    pq_cursor *cur;
    int rc = page_cursor_open(t, rg, col, flags, &cur);
    if (rc) {
        free(base);
        return rc;
    }
    pq_batch b;
    rc = pq_cursor_read_page(cur, first, n, base + hdr, &b);
    pq_cursor_stats st;
    pq_cursor_get_stats(cur, &st);
    *pages_read += st.pages_read;
    if (rc) {
        pq_cursor_close(cur);
        free(base);
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    }
    size_t total = hdr + vals;
    bool nulls = b.null_count > 0;
    if (nulls) {
        uint8_t *grown = realloc(base, total + align8(n));
        if (!grown) {
            pq_cursor_close(cur);
            free(base);
            return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
        }
        base = grown;
        memcpy(base + total, b.valid, n);
        total += align8(n);
    }
    pq_cursor_close(cur);
    sst_page *p = (sst_page *)(void *)base;
    memset(p, 0, sizeof *p);
    p->first = first;
    p->n = n;
    p->values = base + hdr;
    p->valid = nulls ? base + hdr + vals : NULL;
    *out = p;
    *charge = total;
    return MERU_OK;
}

/* Decodes a page of PLAIN strings without nulls (what L1+ string value
 * columns hold) straight into the page's allocation in the compact form:
 * the cursor decompresses the values into it and the lengths are squeezed
 * out in place. Before, the page went to the cursor's buffer, a pq_bytes
 * array was decoded over it, and the bytes were copied into the entry:
 * two allocations, a pass and a copy per miss (bench/RESULTS.md, "page
 * decodes into their cache entries"). *done false when the page is of
 * another form (or its values can be read in place): the caller reads
 * it through a batch. */
static int page_decode_plain_bytes(meru_sst *t, pq_cursor *cur, int64_t first,
                                   size_t n, sst_page **out, size_t *charge,
                                   bool *done)
{
    size_t len = 0;
    bool in_place = false, ok = false;
    *done = false;
    int rc = pq_cursor_plain_bytes_size(cur, first, n, &len, &in_place, &ok);
    if (rc)
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    if (!ok || in_place || len > UINT32_MAX)
        return MERU_OK;
    size_t hdr = align8(sizeof(sst_page));
    size_t vals = align8((n + 1) * sizeof(uint32_t));
    uint8_t *base = malloc(hdr + vals + len);
    if (!base)
        return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    uint32_t *offs = (uint32_t *)(void *)(base + hdr);
    uint8_t *d = base + hdr + vals;
    rc = pq_cursor_plain_bytes_read(cur, d);
    if (!rc)
        rc = pq_plain_compact_bytes(d, len, n, offs);
    if (rc) {
        free(base);
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    }
    /* The lengths' 4 bytes a value are left at the end: give them back
     * (a shrink stays in place), so the page's charge is its memory. */
    size_t total = hdr + vals + offs[n];
    uint8_t *shrunk = realloc(base, total);
    if (shrunk) {
        base = shrunk;
        offs = (uint32_t *)(void *)(base + hdr);
        d = base + hdr + vals;
    } else {
        total = hdr + vals + len;
    }
    sst_page *p = (sst_page *)(void *)base;
    memset(p, 0, sizeof *p);
    p->first = first;
    p->n = n;
    p->offs = offs;
    p->bytes = d;
    *out = p;
    *charge = total;
    *done = true;
    return MERU_OK;
}

/* Decodes rows [first, end) of column `col` of row group `rg` (one page)
 * into one allocation: byte arrays through a batch of the cursor, copied,
 * numbers by page_decode_fixed. */
static int page_decode(meru_sst *t, uint32_t rg, uint32_t col, int64_t first,
                       int64_t end, unsigned flags, sst_page **out,
                       size_t *charge, uint64_t *pages_read)
{
    const pq_column_info *fi = pq_reader_column(t->r, col);
    size_t w = pq_value_width(fi->type);
    bool bytes =
        fi->type == PQ_BYTE_ARRAY || fi->type == PQ_FIXED_LEN_BYTE_ARRAY;
    if (!bytes)
        return page_decode_fixed(t, rg, col, first, end, flags, out, charge,
                                 pages_read);
    size_t n = (size_t)(end - first);
    pq_cursor *cur;
    int rc = page_cursor_open(t, rg, col, flags, &cur);
    if (rc)
        return rc;
    if ((int)col != t->col_ikey) {
        bool done = false;
        rc = page_decode_plain_bytes(t, cur, first, n, out, charge, &done);
        if (rc || done) {
            pq_cursor_stats st;
            pq_cursor_get_stats(cur, &st);
            *pages_read += st.pages_read;
            pq_cursor_close(cur);
            return rc;
        }
    }
    pq_batch b;
    rc = pq_cursor_seek(cur, first);
    if (!rc)
        rc = pq_cursor_next(cur, n, &b);
    if (!rc && b.n != n)
        rc = meru_err(MERU_ECORRUPT, "column %s ends early in row group %u",
                      fi->name ? fi->name : "?", rg);
    pq_cursor_stats st;
    pq_cursor_get_stats(cur, &st);
    *pages_read += st.pages_read;
    if (rc) {
        pq_cursor_close(cur);
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    }
    /* The values point into the cursor (its pages are read through the
     * file, never the map: page_cursor_open): the entry copies them. */
    size_t data = 0;
    const pq_bytes *v = b.values;
    for (size_t i = 0; i < n; i++)
        data += v[i].len;
    /* Copied bytes of a value column go compact (offsets + bytes); the
     * ikey column keeps pq_bytes (find_ikey searches them in place). A
     * page's bytes fit 32-bit offsets (a Parquet page is < 2 GiB
     * uncompressed); the guard only keeps a hostile sum from wrapping. */
    bool compact = (int)col != t->col_ikey && data <= UINT32_MAX;
    bool nulls = n && memchr(b.valid, 0, n) != NULL;
    size_t hdr = align8(sizeof(sst_page));
    size_t vals = compact ? align8((n + 1) * sizeof(uint32_t)) : align8(n * w);
    size_t flags_bytes = nulls ? align8(n) : 0;
    size_t total = hdr + vals + flags_bytes + data;
    uint8_t *base = malloc(total);
    if (!base) {
        pq_cursor_close(cur);
        return meru_err(MERU_ENOMEM, "SST %s: out of memory", t->path);
    }
    sst_page *p = (sst_page *)(void *)base;
    memset(p, 0, sizeof *p);
    uint8_t *pv = base + hdr, *valid = pv + vals, *d = valid + flags_bytes;
    if (nulls)
        memcpy(valid, b.valid, n);
    if (compact) {
        uint32_t *offs = (uint32_t *)(void *)pv;
        const pq_bytes *src = b.values;
        uint32_t at = 0;
        for (size_t i = 0; i < n; i++) {
            offs[i] = at;
            if (src[i].len)
                memcpy(d + at, src[i].ptr, src[i].len);
            at += src[i].len;
        }
        offs[n] = at;
        p->offs = offs;
        p->bytes = d;
    } else {
        pq_bytes *dst = (pq_bytes *)(void *)pv;
        const pq_bytes *src = b.values;
        for (size_t i = 0; i < n; i++) {
            dst[i].len = src[i].len;
            dst[i].ptr = d;
            if (src[i].len)
                memcpy(d, src[i].ptr, src[i].len);
            d += src[i].len;
        }
    }
    pq_cursor_close(cur);
    p->first = first;
    p->n = n;
    p->values = compact ? NULL : pv;
    p->valid = nulls ? valid : NULL;
    *out = p;
    *charge = total;
    return MERU_OK;
}

static void page_free(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    free(value);
}

/* Page `lo` of column `col` of row group `rg` per the offset index: its
 * rows [*first, *end) of the row group, checked against the row group. */
static int page_bounds(meru_sst *t, uint32_t rg, uint32_t col,
                       const pq_offset_index *oi, uint32_t lo, int64_t *first,
                       int64_t *end)
{
    int64_t rows = sst_rg_rows(t, rg);
    *first = oi->page_locations[lo].first_row_index;
    *end = pq_offset_index_page_end(oi, lo, rows);
    if (*first < 0 || *end <= *first || *end > rows)
        return meru_err(MERU_ECORRUPT,
                        "SST %s: offset index of column %u has a bad page "
                        "%u in row group %u",
                        t->path, col, lo, rg);
    return MERU_OK;
}

static void page_key(const meru_sst *t, uint32_t rg, uint32_t col,
                     uint32_t lo, uint8_t key[PAGE_KEY_LEN])
{
    key[0] = 'P';
    meru_store_le64(key + 1, t->cache_id);
    meru_store_le32(key + 9, rg);
    meru_store_le32(key + 13, col);
    meru_store_le32(key + 17, lo);
}

/* Decodes page `lo` (rows [first, end)) and inserts it under `key`. */
static int page_fill(meru_sst *t, uint32_t rg, uint32_t col, int64_t first,
                     int64_t end, unsigned flags, const uint8_t *key,
                     meru_cache_handle **ch, uint64_t *pages_read)
{
    sst_page *p = NULL;
    size_t charge = 0;
    int rc = page_decode(t, rg, col, first, end, flags, &p, &charge,
                         pages_read);
    if (rc)
        return rc;
    /* Two threads may decode the same page at once: the later insert
     * replaces an identical value, which is harmless. */
    rc = meru_cache_insert(t->cache, key, PAGE_KEY_LEN, p, charge, page_free,
                           ch);
    if (rc)
        free(p);
    return rc;
}

int sst_page_get(meru_sst *t, uint32_t rg, uint32_t col, int64_t row,
                 unsigned flags, const sst_page **page, meru_cache_handle **h,
                 uint64_t *pages_read)
{
    *page = NULL;
    *h = NULL;
    if (!t->page_cache)
        return MERU_OK;
    const pq_offset_index *oi;
    int rc = pq_reader_offset_index(t->r, rg, col, &oi);
    if (rc)
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    if (!oi || oi->n_pages == 0)
        return MERU_OK;
    uint32_t lo = pq_offset_index_page_of(oi, row);
    int64_t first, end;
    if (page_bounds(t, rg, col, oi, lo, &first, &end) != MERU_OK ||
        first > row || end <= row)
        return meru_err(MERU_ECORRUPT,
                        "SST %s: offset index of column %u does not cover "
                        "row %lld of row group %u",
                        t->path, col, (long long)row, rg);
    uint8_t key[PAGE_KEY_LEN];
    page_key(t, rg, col, lo, key);
    meru_cache_handle *ch = meru_cache_lookup(t->cache, key, sizeof key);
    /* Not cached, and not to be: read by cursor. A page decoded without
     * its CRC check is never cached either, so a later read that checks
     * CRCs cannot be served an unchecked page. */
    if (!ch && (flags & (MERU_SST_NO_FILL_CACHE | MERU_SST_SKIP_CRC)))
        return MERU_OK;
    if (!ch) {
        rc = page_fill(t, rg, col, first, end, flags, key, &ch, pages_read);
        if (rc)
            return rc;
    }
    *page = meru_cache_value(ch);
    *h = ch;
    return MERU_OK;
}

/* ------------------------------------------------------- warming pages
 *
 * Why: a get reads one row of every value column, and a number column's
 * page holds up to number_page_bytes / 8 (32768) rows, so the first gets
 * after an open decode (decompress) nearly every page of those columns
 * once: 1000 uniform gets over a million rows touch ~all pages of a
 * double column (~60 pages of 20000 rows when measured), ~9 MB of zstd
 * output, about half of what those gets cost (bench/RESULTS.md "Cold
 * reads: warming the number pages at open"). The steady state holds them
 * all (few, large, each shared by tens of thousands of rows). The
 * engine's key directory builder decodes them right after building the
 * directories of the files an open found, on its own thread, so the gets
 * that follow find most of them cached. String columns are left to the gets: their pages are many
 * and small (a 100-byte string column of a million rows is ~50,000 pages
 * of ~2 KiB), the cache holds only part of them, and warming a few would
 * cost as much as the gets that might read them. */

/* Whether file column pc is a number value column: fixed-width values
 * (INT32, INT64, FLOAT, DOUBLE) of a column outside the key (a get finds
 * its row through the key directory, not the key's pages). */
static bool warm_column(const meru_sst *t, int pc)
{
    if (pc < 0 || pc == t->col_ikey || pc == t->col_seq || pc == t->col_op)
        return false;
    const meru_schema *s = t->schema;
    for (size_t k = 0; k < s->nkey; k++)
        if (t->pcol[s->key_cols[k]] == pc)
            return false;
    switch (pq_reader_column(t->r, (uint32_t)pc)->type) {
    case PQ_INT32:
    case PQ_INT64:
    case PQ_FLOAT:
    case PQ_DOUBLE:
        return true;
    default:
        return false;
    }
}

/* Whether the page cache stays within its warming share with `more`
 * bytes in it. */
static bool warm_room(meru_sst *t, uint64_t more)
{
    meru_cache_stats st;
    meru_cache_stats_get(t->cache, &st);
    uint64_t cap = st.capacity / MERU_SST_WARM_SHARE;
    return st.bytes <= cap && more <= cap - st.bytes;
}

/* Warms the pages of one column chunk that are not cached yet; stops
 * with *full set when the cache reaches its warming share, and with
 * MERU_ECLOSED when *cancel turns true. */
static int warm_chunk(meru_sst *t, uint32_t rg, uint32_t pc,
                      const atomic_bool *cancel, bool *full,
                      uint64_t *pages)
{
    const pq_offset_index *oi;
    int rc = pq_reader_offset_index(t->r, rg, pc, &oi);
    if (rc)
        return meru_err_wrap(sst_read_rc(rc), "SST %s", t->path);
    if (!oi || oi->n_pages == 0)
        return MERU_OK;
    const pq_column_info *fi = pq_reader_column(t->r, pc);
    size_t w = pq_value_width(fi->type);
    bool optional = fi->repetition == PQ_OPTIONAL;
    for (uint32_t p = 0; p < oi->n_pages; p++) {
        if (cancel && atomic_load_explicit(cancel, memory_order_relaxed))
            return meru_err(MERU_ECLOSED, "SST %s: warming cancelled",
                            t->path);
        int64_t first, end;
        rc = page_bounds(t, rg, pc, oi, p, &first, &end);
        if (rc)
            return rc;
        /* The decoded page's charge as page_decode_fixed makes it: the
         * header, the values and, for a column that may hold nulls, one
         * flag a row (counted whether or not this page has any). */
        uint64_t n = (uint64_t)(end - first);
        uint64_t charge = align8(sizeof(sst_page)) + align8((size_t)n * w) +
                          (optional ? align8((size_t)n) : 0);
        if (!warm_room(t, charge)) {
            *full = true;
            return MERU_OK;
        }
        uint8_t key[PAGE_KEY_LEN];
        page_key(t, rg, pc, p, key);
        if (meru_cache_contains(t->cache, key, sizeof key))
            continue; /* a get was first */
        meru_cache_handle *ch = NULL;
        rc = page_fill(t, rg, pc, first, end, 0, key, &ch, pages);
        if (rc)
            return rc;
        meru_cache_release(t->cache, ch);
    }
    return MERU_OK;
}

int meru_sst_warm_pages(meru_sst *t, const atomic_bool *cancel, bool *full,
                        uint64_t *pages)
{
    *full = false;
    if (!t || !t->page_cache || t->level < 1)
        return MERU_OK;
    /* Row group by row group (all the columns of one, then the next): a
     * file cut short by the cache's share keeps whole rows warm. */
    for (uint32_t rg = 0; rg < t->nrg && !*full; rg++)
        for (size_t c = 0; c < t->schema->ncols && !*full; c++) {
            if (!warm_column(t, t->pcol[c]))
                continue;
            int rc = warm_chunk(t, rg, (uint32_t)t->pcol[c], cancel, full,
                                pages);
            if (rc)
                return rc;
        }
    return MERU_OK;
}
