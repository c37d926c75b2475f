/* SPDX-License-Identifier: Apache-2.0 */
/*
 * writer.c — the streaming Parquet writer (API in pq.h).
 *
 * Data flow, per column: pq_writer_write copies each column's non-null
 * values (compact) and definition levels into a page accumulator; when the
 * page reaches its size or row target it is encoded, compressed, given a
 * header (statistics, CRC) and appended to the column's chunk buffer. When
 * the row group reaches its byte or row target, every column flushes its
 * last page and the chunks are written to the sink one after the other
 * (dictionary page first, then data pages), followed by the row group's
 * bloom filters. ColumnIndex and OffsetIndex entries are encoded at that
 * moment into two file-level blobs written just before the footer.
 *
 * Invariants:
 *  - Memory is one row group of encoded pages + one raw page per column +
 *    the small page-index blobs and footer metadata of the whole file.
 *  - A page starts and ends on a row boundary (flat schema: one value per
 *    row), so the offset index's first_row_index is exact.
 *  - Statistics are computed per page from the compact raw values and
 *    merged into the chunk, so page, chunk and column-index bounds agree.
 *  - Dictionary encoding: values enter the dictionary as they arrive; a
 *    chunk falls back to the plain encoding (for the rest of the row group)
 *    when the dictionary page passes dict_page_size_limit, or at its first
 *    page when dictionary + indices would not be smaller than plain.
 *
 * It does not: write nested schemas, repetition levels, encryption, or
 * more than one file; it never seeks (the sink is append-only).
 *
 * Pages (encoding, compression, headers) are writer_page.c's part; the
 * options' defaults and the checks of options and column specs are
 * writer_check.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "merutable.h"
#include "parquet/bloom.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/meta.h"
#include "parquet/pq.h"
#include "parquet/writer_int.h"
#include "parquet/stats.h"
#include "util/arena.h"
#include "util/crc32c.h"
#include "util/endian.h"
#include "util/error.h"
#include "util/mem.h"

/* ------------------------------------------------------------ sink I/O */

static int sink_write(pq_writer *w, const void *p, size_t n)
{
    if (w->failed)
        return meru_err(MERU_EFAILED,
                        "parquet writer: an earlier write failed");
    if (!n)
        return MERU_OK;
    int rc = w->sink.write(w->sink.ctx, p, n);
    if (rc) {
        w->failed = rc;
        return rc;
    }
    w->offset += n;
    return MERU_OK;
}

/* -------------------------------------------------------- chunk chain */

#define CHAIN_FIRST_BLOCK (64u << 10)
#define CHAIN_MAX_BLOCK   MERU_MEM_HUGE

/* Full-size blocks are 2 MiB-aligned maps the kernel may back with one
 * transparent huge page: a chunk is written once into fresh memory, and
 * faulting it in 4 KiB at a time was the writer's largest cost. */
static uint8_t *block_alloc(size_t sz, bool *mapped)
{
    uint8_t *p = sz == MERU_MEM_HUGE ? meru_mem_huge_map(sz) : NULL;
    *mapped = p != NULL;
    return p ? p : malloc(sz);
}

static void block_free(chain_blk *b)
{
    if (b->mapped)
        munmap(b->p, b->cap);
    else
        free(b->p);
}

int pqw_chain_append(pqw_chain *ch, const void *p, size_t n)
{
    const uint8_t *s = p;
    while (n) {
        if (ch->cur == ch->nblk) {
            if (ch->nblk == ch->cap_blk) {
                uint32_t cap = ch->cap_blk ? ch->cap_blk * 2 : 8;
                chain_blk *nb = realloc(ch->blk, cap * sizeof *nb);
                if (!nb)
                    return meru_err(MERU_ENOMEM,
                                    "parquet writer: out of memory");
                ch->blk = nb;
                ch->cap_blk = cap;
            }
            /* blocks grow with the chunk: small files stay small, big
             * chunks go to the sink in writes of CHAIN_MAX_BLOCK (2 MiB) */
            size_t sz =
                ch->nblk ? ch->blk[ch->nblk - 1].cap * 2 : CHAIN_FIRST_BLOCK;
            if (sz > CHAIN_MAX_BLOCK)
                sz = CHAIN_MAX_BLOCK;
            bool mapped;
            uint8_t *b = block_alloc(sz, &mapped);
            if (!b)
                return meru_err(MERU_ENOMEM, "parquet writer: out of memory");
            ch->blk[ch->nblk++] = (chain_blk){b, sz, mapped};
        }
        chain_blk *b = &ch->blk[ch->cur];
        size_t k = b->cap - ch->used;
        if (k > n)
            k = n;
        memcpy(b->p + ch->used, s, k);
        ch->used += k;
        ch->len += k;
        s += k;
        n -= k;
        if (ch->used == b->cap) {
            ch->cur++;
            ch->used = 0;
        }
    }
    return MERU_OK;
}

void pqw_chain_reset(pqw_chain *ch)
{
    ch->cur = 0;
    ch->used = 0;
    ch->len = 0;
}

void pqw_chain_free(pqw_chain *ch)
{
    for (uint32_t i = 0; i < ch->nblk; i++)
        block_free(&ch->blk[i]);
    free(ch->blk);
    memset(ch, 0, sizeof *ch);
}

static int sink_write_chain(pq_writer *w, const pqw_chain *ch)
{
    for (uint32_t i = 0; i < ch->nblk && i <= ch->cur; i++) {
        size_t n = i < ch->cur ? ch->blk[i].cap : ch->used;
        int rc = sink_write(w, ch->blk[i].p, n);
        if (rc)
            return rc;
    }
    return MERU_OK;
}

/* ---------------------------------------------------------------- open */

static void colw_free(colw *c)
{
    pq_dict_free(c->dict);
    meru_buf_free(&c->pg_defs);
    meru_buf_free(&c->pg_vals);
    meru_buf_free(&c->pg_bytes);
    meru_buf_free(&c->pg_idx);
    pq_stats_free(&c->pg_stats);
    pq_stats_free(&c->ch_stats);
    pqw_chain_free(&c->data);
    meru_buf_free(&c->locs);
    meru_buf_free(&c->cis);
    meru_buf_free(&c->ci_bytes);
    meru_buf_free(&c->hashes);
}

void pq_writer_abort(pq_writer *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; w->cols && i < w->ncols; i++)
        colw_free(&w->cols[i]);
    free(w->cols);
    free(w->rgs);
    free(w->kv);
    meru_buf_free(&w->ci_blob);
    meru_buf_free(&w->oi_blob);
    meru_buf_free(&w->bloom_crcs);
    meru_buf_free(&w->fixes);
    meru_buf_free(&w->body);
    meru_buf_free(&w->vals);
    meru_buf_free(&w->comp);
    meru_buf_free(&w->hdr);
    meru_buf_free(&w->tmp);
    meru_arena_free(w->arena);
    free(w);
}

/* The profile chose BYTE_STREAM_SPLIT (no spec named an encoding): each
 * chunk's first page then checks it pays (writer_page.c, bss_trial). */
static bool bss_by_profile(const colw *c)
{
    return c->enc_default == PQ_ENC_BYTE_STREAM_SPLIT && !c->spec.has_encoding;
}

/* A chunk starts with the writer's codec and, if asked, a trial of it on
 * its first data page (pqw_flush_page). */
static void codec_reset(const pq_writer_options *o, colw *c)
{
    c->codec = o->codec;
    c->codec_trial =
        o->codec != PQ_CODEC_UNCOMPRESSED && o->codec_min_saving > 0.0;
}

static void choose_encoding(const pq_writer_options *o, colw *c)
{
    const pq_column_spec *s = &c->spec;
    pq_type t = s->type;
    bool col = o->profile == PQ_PROFILE_COLUMN;
    bool dict = col && (t == PQ_BYTE_ARRAY || t == PQ_FIXED_LEN_BYTE_ARRAY);
    pq_encoding e = PQ_ENC_PLAIN;
    if (col) {
        if (t == PQ_INT32 || t == PQ_INT64)
            e = PQ_ENC_DELTA_BINARY_PACKED;
        else if (t == PQ_FLOAT || t == PQ_DOUBLE)
            e = PQ_ENC_BYTE_STREAM_SPLIT;
        else if (t == PQ_BOOLEAN)
            e = PQ_ENC_RLE;
    }
    if (s->has_encoding) {
        if (s->encoding == PQ_ENC_RLE_DICTIONARY ||
            s->encoding == PQ_ENC_PLAIN_DICTIONARY) {
            dict = true;
            e = PQ_ENC_PLAIN;
        } else {
            e = s->encoding;
            if (s->dictionary == PQ_OPT_DEFAULT)
                dict = false;
        }
    }
    if (s->dictionary == PQ_OPT_ON)
        dict = true;
    else if (s->dictionary == PQ_OPT_OFF)
        dict = false;
    c->enc = c->enc_default = e;
    /* The profile's BYTE_STREAM_SPLIT is kept only where it pays: on
     * decimal-like doubles (prices, two-decimal scores) it compressed 40 %
     * worse than PLAIN and DuckDB summed it 1.3x slower (bench/RESULTS.md,
     * "Parquet codec", "Analytical check"), on measured reals it wins. A
     * spec that names the encoding gets it without a trial. */
    c->bss_trial = bss_by_profile(c);
    c->dict_enabled = dict;
    codec_reset(o, c);
}

int pq_writer_open(pq_writer **out, const pq_sink *sink,
                   const pq_column_spec *cols, uint32_t ncols,
                   const pq_writer_options *opts)
{
    *out = NULL;
    pq_writer_options def;
    if (!opts) {
        pq_writer_options_row(&def);
        opts = &def;
    }
    int rc = pqw_check_options(opts);
    if (rc)
        return rc;
    if (ncols == 0)
        return meru_err(MERU_EINVAL, "parquet writer: no columns");
    for (uint32_t i = 0; i < ncols; i++) {
        rc = pqw_check_spec(&cols[i], i);
        if (rc)
            return rc;
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(cols[i].name, cols[j].name))
                return meru_err(MERU_EINVAL,
                                "parquet writer: duplicate column name %s",
                                cols[i].name);
    }

    pq_writer *w = calloc(1, sizeof *w);
    if (!w)
        return meru_err(MERU_ENOMEM, "parquet writer: out of memory");
    w->sink = *sink;
    w->o = *opts;
    w->ncols = ncols;
    rc = meru_arena_new(&w->arena, 0);
    if (rc)
        goto fail;
    w->o.kv = NULL;
    w->o.n_kv = 0;
    if (opts->bloom_crc_key &&
        !(w->o.bloom_crc_key = meru_arena_strndup(
              w->arena, opts->bloom_crc_key, strlen(opts->bloom_crc_key)))) {
        rc = MERU_ENOMEM;
        goto fail;
    }
    if (opts->created_by) {
        w->o.created_by = meru_arena_strndup(w->arena, opts->created_by,
                                             strlen(opts->created_by));
        if (!w->o.created_by) {
            rc = MERU_ENOMEM;
            goto fail;
        }
    }
    w->cols = calloc(ncols, sizeof *w->cols);
    if (!w->cols) {
        rc = meru_err(MERU_ENOMEM, "parquet writer: out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < ncols; i++) {
        colw *c = &w->cols[i];
        c->spec = cols[i];
        c->spec.name =
            meru_arena_strndup(w->arena, cols[i].name, strlen(cols[i].name));
        if (!c->spec.name) {
            rc = MERU_ENOMEM;
            goto fail;
        }
        c->width = pqw_type_width(&c->spec);
        int ct = pqw_converted_of(&c->spec);
        c->order = pq_sort_order_of(c->spec.type, &c->spec.logical, ct);
        c->stats = !c->spec.no_statistics && c->order != PQ_ORDER_NONE;
        c->utf8 = c->spec.logical.kind == PQ_LT_STRING ||
                  c->spec.logical.kind == PQ_LT_JSON ||
                  c->spec.logical.kind == PQ_LT_ENUM;
        if (c->order == PQ_ORDER_BYTES && !c->spec.exact_statistics &&
            opts->statistics_truncate) {
            if (c->spec.type == PQ_BYTE_ARRAY)
                c->stat_cap = opts->statistics_truncate;
            else if ((uint32_t)c->spec.type_length > opts->statistics_truncate)
                c->stats = false; /* FLBA: a cut value is not of its type */
        }
        if (c->order == PQ_ORDER_BYTES && c->spec.type == PQ_BYTE_ARRAY)
            c->ci_cap = c->spec.column_index_truncate
                            ? c->spec.column_index_truncate
                            : opts->column_index_truncate;
        if ((c->stat_cap &&
             !(c->stat_max = meru_arena_alloc(w->arena, c->stat_cap))) ||
            (c->ci_cap &&
             !(c->ci_max = meru_arena_alloc(w->arena, c->ci_cap)))) {
            rc = meru_err(MERU_ENOMEM, "parquet writer: out of memory");
            goto fail;
        }
        pq_stats_init(&c->pg_stats, c->order);
        pq_stats_init(&c->ch_stats, c->order);
        choose_encoding(&w->o, c);
        if (c->dict_enabled) {
            rc = pq_dict_new(&c->dict, c->spec.type, c->spec.type_length);
            if (rc)
                goto fail;
            c->use_dict = true;
        }
    }
    for (uint32_t i = 0; i < opts->n_kv; i++) {
        rc = pq_writer_set_kv(w, opts->kv[i].key, opts->kv[i].value,
                              opts->kv[i].value_len);
        if (rc)
            goto fail;
    }
    rc = sink_write(w, "PAR1", 4);
    if (rc)
        goto fail;
    *out = w;
    return MERU_OK;
fail:
    pq_writer_abort(w);
    return rc;
}

int pq_writer_set_kv(pq_writer *w, const char *key, const void *value,
                     size_t value_len)
{
    if (!key)
        return meru_err(MERU_EINVAL, "parquet writer: key/value without key");
    char *v = NULL;
    if (value) {
        v = meru_arena_alloc(w->arena, value_len + 1);
        if (!v)
            return MERU_ENOMEM;
        memcpy(v, value, value_len);
        v[value_len] = 0;
    }
    for (uint32_t i = 0; i < w->n_kv; i++) {
        if (!strcmp(w->kv[i].key, key)) {
            w->kv[i].value = v;
            w->kv[i].value_len = value ? value_len : 0;
            return MERU_OK;
        }
    }
    if (w->n_kv == w->cap_kv) {
        uint32_t cap = w->cap_kv ? w->cap_kv * 2 : 8;
        pq_kv *n = realloc(w->kv, cap * sizeof *n);
        if (!n)
            return meru_err(MERU_ENOMEM, "parquet writer: out of memory");
        w->kv = n;
        w->cap_kv = cap;
    }
    char *k = meru_arena_strndup(w->arena, key, strlen(key));
    if (!k)
        return MERU_ENOMEM;
    w->kv[w->n_kv].key = k;
    w->kv[w->n_kv].value = v;
    w->kv[w->n_kv].value_len = value ? value_len : 0;
    w->n_kv++;
    return MERU_OK;
}

uint64_t pq_writer_rows(const pq_writer *w)
{
    return w->rows;
}

static uint64_t rg_bytes(const pq_writer *w);

uint64_t pq_writer_bytes(const pq_writer *w)
{
    return w->offset + rg_bytes(w);
}

/* -------------------------------------------------------- row groups */

static int dup_bytes(pq_writer *w, pq_bytes *b)
{
    if (!b->len) {
        b->ptr = (const uint8_t *)"";
        return MERU_OK;
    }
    uint8_t *p = meru_arena_dup(w->arena, b->ptr, b->len);
    if (!p)
        return MERU_ENOMEM;
    b->ptr = p;
    return MERU_OK;
}

/* Distinct values among n hashes by linear counting over a bitmap of
 * about 2n bits: within a few percent, which is all sizing needs, and
 * O(n) where sorting the hashes was the writer's biggest cost. */
static uint64_t estimate_ndv(const uint64_t *h, size_t n)
{
    if (n == 0)
        return 0;
    size_t m = 64;
    while (m < 2 * n && m < ((size_t)1 << 26))
        m <<= 1;
    uint64_t *bits = calloc(m / 64, 8);
    if (!bits)
        return n; /* an overestimate only costs filter space */
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)(h[i] >> 7) & (m - 1);
        bits[b / 64] |= 1ull << (b % 64);
    }
    size_t zero = 0;
    for (size_t i = 0; i < m / 64; i++)
        zero += 64 - (size_t)__builtin_popcountll(bits[i]);
    free(bits);
    if (zero == 0)
        return n;
    double est = -(double)m * log((double)zero / (double)m);
    uint64_t e = (uint64_t)(est + 0.5);
    return e > n ? n : e < 1 ? 1 : e;
}

static int write_bloom(pq_writer *w, colw *c, pq_column_meta *m)
{
    size_t n = c->hashes.len / 8;
    uint64_t *h = (uint64_t *)(void *)c->hashes.data;
    uint64_t ndv = w->o.bloom_ndv ? w->o.bloom_ndv : estimate_ndv(h, n);
    uint32_t max =
        w->o.bloom_max_bytes ? w->o.bloom_max_bytes : PQ_BLOOM_MAX_BYTES;
    uint32_t nb = pq_bloom_optimal_bytes(ndv, w->o.bloom_fpp, max);
    pq_bloom b;
    int rc = pq_bloom_init(&b, nb);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        pq_bloom_insert(&b, h[i]);
    pq_bloom_filter_header bh = {.num_bytes = (int32_t)b.num_bytes};
    meru_buf_reset(&w->hdr);
    rc = pq_encode_bloom_header(&w->hdr, &bh);
    uint64_t off = w->offset;
    if (!rc)
        rc = sink_write(w, w->hdr.data, w->hdr.len);
    if (!rc)
        rc = sink_write(w, b.bits, b.num_bytes);
    uint32_t crc = meru_crc32c_extend(meru_crc32c(w->hdr.data, w->hdr.len),
                                      b.bits, b.num_bytes);
    pq_bloom_free(&b);
    if (rc)
        return rc;
    m->has_bloom_filter_offset = m->has_bloom_filter_length = true;
    m->bloom_filter_offset = (int64_t)off;
    m->bloom_filter_length = (int32_t)(w->offset - off);
    meru_buf_reset(&c->hashes);
    if (w->o.bloom_crc_key) {
        char item[48];
        int len = snprintf(item, sizeof item, "%u:%u:%08x,", w->n_rgs,
                           (unsigned)(c - w->cols), crc);
        if ((rc = meru_buf_append(&w->bloom_crcs, item, (size_t)len)))
            return rc;
    }
    return MERU_OK;
}

static pq_boundary_order boundary_order(colw *c)
{
    const ci_entry *e = (const ci_entry *)(void *)c->cis.data;
    size_t n = c->cis.len / sizeof *e;
    const uint8_t *base = c->ci_bytes.data;
    bool asc = true, desc = true;
    const ci_entry *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        if (e[i].null_page)
            continue;
        if (prev) {
            int cmin =
                pq_stats_compare(c->order, base + prev->min_off, prev->min_len,
                                 base + e[i].min_off, e[i].min_len);
            int cmax =
                pq_stats_compare(c->order, base + prev->max_off, prev->max_len,
                                 base + e[i].max_off, e[i].max_len);
            if (cmin > 0 || cmax > 0)
                asc = false;
            if (cmin < 0 || cmax < 0)
                desc = false;
        }
        prev = &e[i];
    }
    if (asc)
        return PQ_BOUNDARY_ASCENDING;
    return desc ? PQ_BOUNDARY_DESCENDING : PQ_BOUNDARY_UNORDERED;
}

/* Encodes the chunk's ColumnIndex (if its statistics allow one) and
 * OffsetIndex into the file-level blobs. */
static int write_page_index(pq_writer *w, colw *c, uint32_t rg, uint32_t col,
                            uint64_t data_off)
{
    const page_loc *locs = (const page_loc *)(void *)c->locs.data;
    size_t n = c->locs.len / sizeof *locs;
    const ci_entry *e = (const ci_entry *)(void *)c->cis.data;
    chunk_fix fx = {.rg = rg, .col = col};
    int rc = MERU_OK;
    meru_arena *tmp = NULL;

    /* a page with values but no bounds (all NaN) makes min/max
     * meaningless for the whole index: then write none */
    bool ci_ok = c->stats && n > 0;
    for (size_t i = 0; ci_ok && i < n; i++)
        if (e[i].no_bounds)
            ci_ok = false;

    rc = meru_arena_new(&tmp, 0);
    if (rc)
        return rc;
    if (ci_ok) {
        pq_column_index ci = {0};
        ci.n_pages = (uint32_t)n;
        ci.null_pages = meru_arena_zalloc(tmp, n * sizeof(bool) + 1);
        ci.min_values = meru_arena_zalloc(tmp, n * sizeof(pq_bytes) + 1);
        ci.max_values = meru_arena_zalloc(tmp, n * sizeof(pq_bytes) + 1);
        ci.null_counts = meru_arena_zalloc(tmp, n * sizeof(int64_t) + 1);
        if (!ci.null_pages || !ci.min_values || !ci.max_values ||
            !ci.null_counts) {
            rc = MERU_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            ci.null_pages[i] = e[i].null_page;
            ci.null_counts[i] = e[i].null_count;
            if (e[i].null_page) {
                ci.min_values[i].ptr = ci.max_values[i].ptr =
                    (const uint8_t *)"";
                continue;
            }
            /* already cut (push_ci_entry) */
            ci.min_values[i] =
                (pq_bytes){c->ci_bytes.data + e[i].min_off, e[i].min_len};
            ci.max_values[i] =
                (pq_bytes){c->ci_bytes.data + e[i].max_off, e[i].max_len};
        }
        ci.boundary_order = boundary_order(c);
        size_t at = w->ci_blob.len;
        rc = pq_encode_column_index(&w->ci_blob, &ci);
        if (rc)
            goto out;
        fx.has_ci = true;
        fx.ci_off = at;
        fx.ci_len = (uint32_t)(w->ci_blob.len - at);
    }
    {
        pq_offset_index oi = {0};
        oi.n_pages = (uint32_t)n;
        oi.page_locations =
            meru_arena_alloc(tmp, n * sizeof(pq_page_location) + 1);
        if (!oi.page_locations) {
            rc = MERU_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            oi.page_locations[i].offset = (int64_t)(data_off + locs[i].off);
            oi.page_locations[i].compressed_page_size = locs[i].size;
            oi.page_locations[i].first_row_index = locs[i].first_row;
        }
        size_t at = w->oi_blob.len;
        rc = pq_encode_offset_index(&w->oi_blob, &oi);
        if (rc)
            goto out;
        fx.oi_off = at;
        fx.oi_len = (uint32_t)(w->oi_blob.len - at);
    }
    rc = meru_buf_append(&w->fixes, &fx, sizeof fx);
out:
    meru_arena_free(tmp);
    return rc;
}

static int write_chunk(pq_writer *w, colw *c, uint32_t rg, uint32_t col,
                       pq_column_chunk *cc)
{
    pq_column_meta *m = &cc->meta_data;
    int rc;
    uint64_t start = w->offset;
    int64_t dict_size = 0, dict_unc = 0;
    bool has_dict = c->dict && c->n_dict_pages > 0;

    memset(cc, 0, sizeof *cc);
    if (has_dict) {
        meru_buf_reset(&w->body);
        meru_buf_reset(&w->comp);
        rc = pq_dict_write_plain(c->dict, &w->body);
        if (rc)
            return rc;
        const uint8_t *p = w->body.data;
        size_t plen = w->body.len;
        if (c->codec != PQ_CODEC_UNCOMPRESSED) {
            rc = pq_compress(c->codec, w->o.codec_level, w->body.data,
                             w->body.len, &w->comp);
            if (rc)
                return rc;
            p = w->comp.data;
            plen = w->comp.len;
        }
        if (w->body.len > INT32_MAX)
            return meru_err(MERU_ERANGE,
                            "parquet writer: dictionary page too large");
        pq_page_header h;
        memset(&h, 0, sizeof h);
        h.type = PQ_PAGE_DICTIONARY;
        h.uncompressed_page_size = (int32_t)w->body.len;
        h.has_dictionary_page_header = true;
        h.dictionary_page_header.num_values = (int32_t)pq_dict_count(c->dict);
        h.dictionary_page_header.encoding = w->o.data_page_version == 1
                                                ? PQ_ENC_PLAIN_DICTIONARY
                                                : PQ_ENC_PLAIN;
        rc = pqw_page_header(w, &h, p, plen, NULL, 0);
        if (!rc)
            rc = sink_write(w, w->hdr.data, w->hdr.len);
        if (!rc)
            rc = sink_write(w, p, plen);
        if (rc)
            return rc;
        size_t total = w->hdr.len + plen;
        dict_size = (int64_t)total;
        dict_unc = (int64_t)(total - plen + w->body.len);
    }
    uint64_t data_off = w->offset;
    rc = sink_write_chain(w, &c->data);
    if (rc)
        return rc;

    cc->file_offset = (int64_t)start;
    cc->has_meta_data = true;
    m->type = c->spec.type;
    /* encodings: levels (RLE), dictionary page, data pages */
    pq_encoding encs[8];
    uint32_t ne = 0;
    if (has_dict)
        encs[ne++] = w->o.data_page_version == 1 ? PQ_ENC_PLAIN_DICTIONARY
                                                 : PQ_ENC_PLAIN;
    encs[ne++] = PQ_ENC_RLE;
    for (int e = 0; e < 16; e++) {
        if (!c->enc_used[e])
            continue;
        bool dup = false;
        for (uint32_t k = 0; k < ne; k++)
            dup |= encs[k] == (pq_encoding)e;
        if (!dup && ne < 8)
            encs[ne++] = (pq_encoding)e;
    }
    m->encodings = meru_arena_dup(w->arena, encs, ne * sizeof *encs);
    m->n_encodings = ne;
    const char **path = meru_arena_alloc(w->arena, sizeof(char *));
    if (!m->encodings || !path)
        return MERU_ENOMEM;
    path[0] = c->spec.name;
    m->path_in_schema = path;
    m->n_path = 1;
    m->codec = c->codec;
    m->num_values = c->ch_values;
    m->total_uncompressed_size = dict_unc + c->ch_uncompressed;
    m->total_compressed_size = dict_size + c->ch_compressed;
    m->data_page_offset = (int64_t)data_off;
    if (has_dict) {
        m->has_dictionary_page_offset = true;
        m->dictionary_page_offset = (int64_t)start;
    }
    m->has_statistics = true;
    pqw_fill_statistics(c, &c->ch_stats, &m->statistics);
    pq_statistics *s = &m->statistics;
    if ((s->has_min_value && ((rc = dup_bytes(w, &s->min_value)) ||
                              (rc = dup_bytes(w, &s->max_value)))) ||
        (s->has_min &&
         ((rc = dup_bytes(w, &s->min)) || (rc = dup_bytes(w, &s->max)))))
        return rc;
    pq_page_encoding_stats es[3];
    uint32_t nes = 0;
    if (has_dict)
        es[nes++] = (pq_page_encoding_stats){PQ_PAGE_DICTIONARY,
                                             w->o.data_page_version == 1
                                                 ? PQ_ENC_PLAIN_DICTIONARY
                                                 : PQ_ENC_PLAIN,
                                             1};
    pq_page_type dt =
        w->o.data_page_version == 1 ? PQ_PAGE_DATA : PQ_PAGE_DATA_V2;
    if (c->n_dict_pages)
        es[nes++] = (pq_page_encoding_stats){dt,
                                             w->o.data_page_version == 1
                                                 ? PQ_ENC_PLAIN_DICTIONARY
                                                 : PQ_ENC_RLE_DICTIONARY,
                                             c->n_dict_pages};
    if (c->n_plain_pages)
        es[nes++] = (pq_page_encoding_stats){dt, c->enc, c->n_plain_pages};
    m->encoding_stats = meru_arena_zalloc(w->arena, sizeof es);
    if (!m->encoding_stats)
        return MERU_ENOMEM;
    memcpy(m->encoding_stats, es, nes * sizeof *es);
    m->n_encoding_stats = nes;

    if (w->o.page_index) {
        rc = write_page_index(w, c, rg, col, data_off);
        if (rc)
            return rc;
    }
    return MERU_OK;
}

static void chunk_reset(const pq_writer_options *o, colw *c)
{
    pqw_chain_reset(&c->data);
    meru_buf_reset(&c->locs);
    meru_buf_reset(&c->cis);
    meru_buf_reset(&c->ci_bytes);
    meru_buf_reset(&c->hashes);
    pq_stats_reset(&c->ch_stats);
    c->ch_values = c->ch_uncompressed = c->ch_compressed = 0;
    c->n_dict_pages = c->n_plain_pages = 0;
    memset(c->enc_used, 0, sizeof c->enc_used);
    c->fell_back = false;
    c->enc = c->enc_default;
    c->bss_trial = bss_by_profile(c);
    codec_reset(o, c);
    if (c->dict) {
        pq_dict_reset(c->dict);
        c->use_dict = c->dict_enabled;
    }
}

int pq_writer_flush_row_group(pq_writer *w)
{
    if (w->failed)
        return meru_err(MERU_EFAILED,
                        "parquet writer: an earlier write failed");
    if (w->rg_rows == 0)
        return MERU_OK;
    int rc;
    for (uint32_t i = 0; i < w->ncols; i++) {
        rc = pqw_flush_page(w, &w->cols[i]);
        if (rc)
            goto fail;
    }
    if (w->n_rgs == w->cap_rgs) {
        uint32_t cap = w->cap_rgs ? w->cap_rgs * 2 : 4;
        pq_row_group *n = realloc(w->rgs, cap * sizeof *n);
        if (!n) {
            rc = meru_err(MERU_ENOMEM, "parquet writer: out of memory");
            goto fail;
        }
        w->rgs = n;
        w->cap_rgs = cap;
    }
    uint32_t rgi = w->n_rgs;
    pq_row_group *rg = &w->rgs[rgi];
    memset(rg, 0, sizeof *rg);
    rg->columns = meru_arena_zalloc(w->arena, w->ncols * sizeof *rg->columns);
    if (!rg->columns) {
        rc = MERU_ENOMEM;
        goto fail;
    }
    rg->n_columns = w->ncols;
    rg->num_rows = (int64_t)w->rg_rows;
    rg->has_file_offset = rg->has_total_compressed_size = true;
    rg->file_offset = (int64_t)w->offset;
    rg->has_ordinal = rgi <= INT16_MAX;
    rg->ordinal = (int16_t)(rgi <= INT16_MAX ? rgi : 0);
    for (uint32_t i = 0; i < w->ncols; i++) {
        rc = write_chunk(w, &w->cols[i], rgi, i, &rg->columns[i]);
        if (rc)
            goto fail;
        rg->total_byte_size += rg->columns[i].meta_data.total_uncompressed_size;
        rg->total_compressed_size +=
            rg->columns[i].meta_data.total_compressed_size;
    }
    for (uint32_t i = 0; i < w->ncols; i++) {
        if (!w->cols[i].spec.bloom_filter)
            continue;
        rc = write_bloom(w, &w->cols[i], &rg->columns[i].meta_data);
        if (rc)
            goto fail;
    }
    for (uint32_t i = 0; i < w->ncols; i++)
        chunk_reset(&w->o, &w->cols[i]);
    w->n_rgs++;
    w->rg_rows = 0;
    return MERU_OK;
fail:
    if (!w->failed)
        w->failed = rc;
    return rc;
}

static uint64_t rg_bytes(const pq_writer *w)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < w->ncols; i++) {
        const colw *c = &w->cols[i];
        n += c->data.len + pqw_page_estimate(c);
        if (c->use_dict || c->n_dict_pages)
            n += pq_dict_plain_bytes(c->dict);
    }
    return n;
}

static int check_batch(pq_writer *w, size_t nrows, const pq_column_data *cd)
{
    for (uint32_t i = 0; i < w->ncols; i++) {
        const colw *c = &w->cols[i];
        const uint8_t *valid = cd[i].valid;
        if (nrows && !cd[i].values)
            return meru_err(MERU_EINVAL, "parquet writer: column %s: no values",
                            c->spec.name);
        if (valid && c->spec.repetition == PQ_REQUIRED)
            for (size_t r = 0; r < nrows; r++)
                if (!valid[r])
                    return meru_err(MERU_EINVAL,
                                    "parquet writer: null in required column "
                                    "%s (row %zu of the batch)",
                                    c->spec.name, r);
        if (c->spec.type == PQ_BYTE_ARRAY ||
            c->spec.type == PQ_FIXED_LEN_BYTE_ARRAY) {
            const pq_bytes *b = cd[i].values;
            for (size_t r = 0; r < nrows; r++) {
                if (valid && !valid[r])
                    continue;
                if (b[r].len && !b[r].ptr)
                    return meru_err(MERU_EINVAL,
                                    "parquet writer: column %s: NULL pointer "
                                    "in row %zu",
                                    c->spec.name, r);
                if (c->spec.type == PQ_FIXED_LEN_BYTE_ARRAY &&
                    b[r].len != (uint32_t)c->spec.type_length)
                    return meru_err(MERU_EINVAL,
                                    "parquet writer: column %s: value of %u "
                                    "bytes in row %zu, expected %d",
                                    c->spec.name, b[r].len, r,
                                    c->spec.type_length);
                if (b[r].len > MAX_VALUE_BYTES)
                    return meru_err(MERU_EINVAL,
                                    "parquet writer: column %s: value of %u "
                                    "bytes in row %zu is too large",
                                    c->spec.name, b[r].len, r);
            }
        }
    }
    return MERU_OK;
}

int pq_writer_write(pq_writer *w, size_t nrows, const pq_column_data *cols)
{
    if (w->failed)
        return meru_err(MERU_EFAILED,
                        "parquet writer: an earlier write failed");
    if (nrows == 0)
        return MERU_OK;
    int rc = check_batch(w, nrows, cols);
    if (rc)
        return rc;
    size_t done = 0;
    while (done < nrows) {
        size_t k = nrows - done;
        if (k > SUB_BATCH_ROWS)
            k = SUB_BATCH_ROWS;
        if (w->o.row_group_bytes) {
            /* sub-batches small enough to land near the byte target; the
             * first of a row group is short (no bytes-per-row estimate
             * yet), so that a small target is met in a file of wide rows */
            uint64_t cur = rg_bytes(w), tgt = w->o.row_group_bytes;
            uint64_t per_row = w->rg_rows ? cur / w->rg_rows + 1 : 0;
            uint64_t fit =
                per_row ? (tgt > cur ? (tgt - cur) / per_row : 0) + 1 : 32;
            if (fit < 16)
                fit = 16;
            if (fit < k)
                k = (size_t)fit;
        }
        if (w->o.row_group_rows && w->o.row_group_rows - w->rg_rows < k)
            k = (size_t)(w->o.row_group_rows - w->rg_rows);
        for (uint32_t i = 0; i < w->ncols; i++) {
            rc = pqw_col_append(w, &w->cols[i], &cols[i], done, k);
            if (rc)
                goto fail;
        }
        done += k;
        w->rg_rows += k;
        w->rows += k;
        if ((w->o.row_group_rows && w->rg_rows >= w->o.row_group_rows) ||
            (w->o.row_group_bytes && rg_bytes(w) >= w->o.row_group_bytes)) {
            rc = pq_writer_flush_row_group(w);
            if (rc)
                return rc;
        }
    }
    return MERU_OK;
fail:
    /* pages are half-filled across columns: the file cannot be finished */
    w->failed = rc;
    return rc;
}

/* --------------------------------------------------------------- close */

static int build_schema(pq_writer *w, pq_file_meta *fm)
{
    pq_schema_element *s =
        meru_arena_zalloc(w->arena, (w->ncols + 1) * sizeof *s);
    if (!s)
        return MERU_ENOMEM;
    s[0].name = "schema";
    s[0].has_num_children = true;
    s[0].num_children = (int32_t)w->ncols;
    for (uint32_t i = 0; i < w->ncols; i++) {
        const pq_column_spec *c = &w->cols[i].spec;
        pq_schema_element *e = &s[i + 1];
        e->name = c->name;
        e->has_type = true;
        e->type = c->type;
        if (c->type == PQ_FIXED_LEN_BYTE_ARRAY) {
            e->has_type_length = true;
            e->type_length = c->type_length;
        }
        e->has_repetition = true;
        e->repetition_type = c->repetition;
        int ct = pqw_converted_of(c);
        if (ct >= 0) {
            e->has_converted_type = true;
            e->converted_type = (pq_converted_type)ct;
        }
        if (c->logical.kind == PQ_LT_DECIMAL) {
            e->has_scale = e->has_precision = true;
            e->scale = c->logical.decimal_scale;
            e->precision = c->logical.decimal_precision;
        }
        if (c->has_field_id) {
            e->has_field_id = true;
            e->field_id = c->field_id;
        }
        e->logical_type = c->logical;
    }
    fm->schema = s;
    fm->n_schema = w->ncols + 1;
    return MERU_OK;
}

int pq_writer_close(pq_writer *w, uint64_t *file_size)
{
    int rc = pq_writer_flush_row_group(w);
    if (rc)
        goto out;

    /* page indexes: all column indexes, then all offset indexes */
    uint64_t ci_base = w->offset;
    rc = sink_write(w, w->ci_blob.data, w->ci_blob.len);
    uint64_t oi_base = w->offset;
    if (!rc)
        rc = sink_write(w, w->oi_blob.data, w->oi_blob.len);
    if (rc)
        goto out;
    const chunk_fix *fx = (const chunk_fix *)(void *)w->fixes.data;
    for (size_t i = 0; i < w->fixes.len / sizeof *fx; i++) {
        pq_column_chunk *cc = &w->rgs[fx[i].rg].columns[fx[i].col];
        if (fx[i].has_ci) {
            cc->has_column_index = true;
            cc->column_index_offset = (int64_t)(ci_base + fx[i].ci_off);
            cc->column_index_length = (int32_t)fx[i].ci_len;
        }
        cc->has_offset_index = true;
        cc->offset_index_offset = (int64_t)(oi_base + fx[i].oi_off);
        cc->offset_index_length = (int32_t)fx[i].oi_len;
    }

    pq_file_meta fm;
    memset(&fm, 0, sizeof fm);
    fm.version = 2;
    rc = build_schema(w, &fm);
    if (rc)
        goto out;
    fm.num_rows = (int64_t)w->rows;
    fm.row_groups = w->rgs;
    fm.n_row_groups = w->n_rgs;
    if (w->o.bloom_crc_key && w->bloom_crcs.len &&
        (rc = pq_writer_set_kv(w, w->o.bloom_crc_key, w->bloom_crcs.data,
                               w->bloom_crcs.len - 1))) /* no last comma */
        goto out;
    pq_key_value *kv = NULL;
    if (w->n_kv) {
        kv = meru_arena_zalloc(w->arena, w->n_kv * sizeof *kv);
        if (!kv) {
            rc = MERU_ENOMEM;
            goto out;
        }
        for (uint32_t i = 0; i < w->n_kv; i++) {
            kv[i].key = w->kv[i].key;
            kv[i].has_value = w->kv[i].value != NULL;
            kv[i].value.ptr = (const uint8_t *)w->kv[i].value;
            kv[i].value.len = (uint32_t)w->kv[i].value_len;
        }
    }
    fm.key_value_metadata = kv;
    fm.n_key_value_metadata = w->n_kv;
    fm.created_by = w->o.created_by ? w->o.created_by
                                    : "merutable version " MERU_VERSION_STRING;
    fm.has_column_orders = true;
    fm.n_column_orders = w->ncols;

    meru_buf_reset(&w->body);
    rc = pq_encode_file_meta(&w->body, &fm);
    if (rc)
        goto out;
    if (w->body.len > UINT32_MAX) {
        rc = meru_err(MERU_ERANGE, "parquet writer: footer too large");
        goto out;
    }
    uint8_t tail[8];
    meru_store_le32(tail, (uint32_t)w->body.len);
    memcpy(tail + 4, "PAR1", 4);
    rc = sink_write(w, w->body.data, w->body.len);
    if (!rc)
        rc = sink_write(w, tail, 8);
    if (!rc && file_size)
        *file_size = w->offset;
out:
    pq_writer_abort(w);
    return rc;
}
