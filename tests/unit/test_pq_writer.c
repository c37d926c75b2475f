/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_writer.c — how the Parquet writer shapes pages: profile
 * encodings and page sizes, dictionary fallback, page boundaries (the size
 * rule, per-column limits, reader-batch alignment of dictionary pages), the
 * per-chunk trials (BYTE_STREAM_SPLIT for floats, the codec per chunk and
 * per v2 page), and input validation / sticky sink failures. Checked
 * through the decoded footer, the page headers and the reader. Statistics,
 * the page index, row groups and footer metadata: test_pq_writer_meta.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/meta.h"
#include "parquet/pq.h"
#include "pq_writer_test.h"
#include "test.h"
#include "util/arena.h"
#include "util/error.h"

static bool has_encoding(const pq_column_meta *m, pq_encoding e)
{
    for (uint32_t i = 0; i < m->n_encodings; i++)
        if (m->encodings[i] == e)
            return true;
    return false;
}

static int32_t pages_with(const pq_column_meta *m, pq_page_type t,
                          pq_encoding e)
{
    for (uint32_t i = 0; i < m->n_encoding_stats; i++)
        if (m->encoding_stats[i].page_type == t &&
            m->encoding_stats[i].encoding == e)
            return m->encoding_stats[i].count;
    return 0;
}

/* ------------------------------------------------------------ profiles */

static void test_row_profile_writes_plain_8k_pages_uncompressed(void)
{
    enum { N = 20000 };
    static int64_t v[N];
    for (int i = 0; i < N; i++)
        v[i] = i;
    pq_column_spec s = {.name = "k", .type = PQ_INT64};
    pq_column_data cd = {v, NULL};
    pq_writer_options o;
    pq_writer_options_row(&o);
    wfile f;
    CHECK_OK(write_file(&f, &s, 1, &o, N, &cd));
    const pq_column_meta *m = chunk(&f, 0, 0);
    CHECK_EQ_INT(m->codec, PQ_CODEC_UNCOMPRESSED);
    CHECK(has_encoding(m, PQ_ENC_PLAIN));
    CHECK(!has_encoding(m, PQ_ENC_RLE_DICTIONARY));
    CHECK(!m->has_dictionary_page_offset);
    /* 8 KiB of int64 per page = 1024 rows */
    CHECK_EQ_INT(pages_with(m, PQ_PAGE_DATA, PQ_ENC_PLAIN), N / 1024 + 1);
    const pq_offset_index *oi;
    CHECK_OK(pq_reader_offset_index(f.r, 0, 0, &oi));
    CHECK(oi != NULL);
    CHECK_EQ_INT(oi->n_pages, N / 1024 + 1);
    CHECK_EQ_INT(oi->page_locations[1].first_row_index, 1024);
    CHECK(oi->page_locations[0].compressed_page_size > 8192);
    CHECK(oi->page_locations[0].compressed_page_size < 8192 + 200);
    wfile_free(&f);
}

static void test_column_profile_chooses_encodings_per_type(void)
{
    enum { N = 5000 };
    static int64_t k[N];
    static int32_t i32[N];
    static double d[N];
    static float fl[N];
    static uint8_t b[N];
    static pq_bytes low[N], uniq[N];
    static char lowh[N][8], uniqh[N][24];
    for (int i = 0; i < N; i++) {
        k[i] = 1000000 + i;
        i32[i] = i % 100;
        d[i] = i * 1.5;
        fl[i] = (float)i;
        b[i] = (i / 7) & 1;
        snprintf(lowh[i], sizeof lowh[i], "c%d", i % 10);
        low[i] =
            (pq_bytes){(const uint8_t *)lowh[i], (uint32_t)strlen(lowh[i])};
        snprintf(uniqh[i], sizeof uniqh[i], "unique-%08d-x", i * 7919);
        uniq[i] =
            (pq_bytes){(const uint8_t *)uniqh[i], (uint32_t)strlen(uniqh[i])};
    }
    pq_column_spec s[7] = {
        {.name = "k", .type = PQ_INT64},
        {.name = "i", .type = PQ_INT32},
        {.name = "d", .type = PQ_DOUBLE},
        {.name = "f", .type = PQ_FLOAT},
        {.name = "b", .type = PQ_BOOLEAN},
        {.name = "low", .type = PQ_BYTE_ARRAY},
        {.name = "uniq", .type = PQ_BYTE_ARRAY},
    };
    pq_column_data cd[7] = {{k, NULL}, {i32, NULL}, {d, NULL},   {fl, NULL},
                            {b, NULL}, {low, NULL}, {uniq, NULL}};
    pq_writer_options o;
    pq_writer_options_column(&o);
    wfile f;
    CHECK_OK(write_file(&f, s, 7, &o, N, cd));
    CHECK_EQ_INT(chunk(&f, 0, 0)->codec, PQ_CODEC_ZSTD);
    CHECK(pages_with(chunk(&f, 0, 0), PQ_PAGE_DATA_V2,
                     PQ_ENC_DELTA_BINARY_PACKED) > 0);
    CHECK(pages_with(chunk(&f, 0, 1), PQ_PAGE_DATA_V2,
                     PQ_ENC_DELTA_BINARY_PACKED) > 0);
    CHECK(pages_with(chunk(&f, 0, 2), PQ_PAGE_DATA_V2,
                     PQ_ENC_BYTE_STREAM_SPLIT) > 0);
    CHECK(pages_with(chunk(&f, 0, 3), PQ_PAGE_DATA_V2,
                     PQ_ENC_BYTE_STREAM_SPLIT) > 0);
    CHECK(pages_with(chunk(&f, 0, 4), PQ_PAGE_DATA_V2, PQ_ENC_RLE) > 0);
    const pq_column_meta *lm = chunk(&f, 0, 5);
    CHECK(lm->has_dictionary_page_offset);
    CHECK_EQ_INT(pages_with(lm, PQ_PAGE_DICTIONARY, PQ_ENC_PLAIN), 1);
    CHECK(pages_with(lm, PQ_PAGE_DATA_V2, PQ_ENC_RLE_DICTIONARY) > 0);
    CHECK(has_encoding(lm, PQ_ENC_RLE_DICTIONARY));
    /* unique strings: the dictionary does not pay, so none is written */
    const pq_column_meta *um = chunk(&f, 0, 6);
    CHECK(!um->has_dictionary_page_offset);
    CHECK(pages_with(um, PQ_PAGE_DATA_V2, PQ_ENC_PLAIN) > 0);
    /* delta encoding of a sorted key is much smaller than plain */
    CHECK(chunk(&f, 0, 0)->total_compressed_size < N * 8 / 4);
    wfile_free(&f);
}

static void test_dictionary_falls_back_to_plain_past_its_cap(void)
{
    enum { N = 4000 };
    static pq_bytes v[N];
    static char h[N][16];
    for (int i = 0; i < N; i++) {
        /* few repeats early (dictionary pays), then many new values */
        int x = i < 1000 ? i % 20 : i;
        snprintf(h[i], sizeof h[i], "value-%06d", x);
        v[i] = (pq_bytes){(const uint8_t *)h[i], (uint32_t)strlen(h[i])};
    }
    pq_column_spec s = {.name = "s", .type = PQ_BYTE_ARRAY};
    pq_column_data cd = {v, NULL};
    pq_writer_options o;
    pq_writer_options_column(&o);
    o.dict_page_size_limit = 2048;
    o.page_size = 1024;
    wfile f;
    CHECK_OK(write_file(&f, &s, 1, &o, N, &cd));
    const pq_column_meta *m = chunk(&f, 0, 0);
    CHECK(m->has_dictionary_page_offset);
    CHECK(pages_with(m, PQ_PAGE_DATA_V2, PQ_ENC_RLE_DICTIONARY) > 0);
    CHECK(pages_with(m, PQ_PAGE_DATA_V2, PQ_ENC_PLAIN) > 0);
    pq_cursor *c;
    CHECK_OK(pq_cursor_open(f.r, 0, 0, &c));
    pq_batch b;
    CHECK_OK(pq_cursor_next(c, N, &b));
    CHECK_EQ_INT(b.n, N);
    for (int i = 0; i < N; i++) {
        const pq_bytes *x = (const pq_bytes *)b.values + i;
        CHECK(x->len == v[i].len && !memcmp(x->ptr, v[i].ptr, x->len));
    }
    pq_cursor_close(c);
    wfile_free(&f);
}

static void test_explicit_encodings_are_used(void)
{
    enum { N = 300 };
    static pq_bytes v[N];
    static char h[N][16];
    static int32_t iv[N];
    for (int i = 0; i < N; i++) {
        snprintf(h[i], sizeof h[i], "key%05d", i);
        v[i] = (pq_bytes){(const uint8_t *)h[i], (uint32_t)strlen(h[i])};
        iv[i] = -i;
    }
    pq_column_spec s[3] = {
        {.name = "dba",
         .type = PQ_BYTE_ARRAY,
         .has_encoding = true,
         .encoding = PQ_ENC_DELTA_BYTE_ARRAY},
        {.name = "dlba",
         .type = PQ_BYTE_ARRAY,
         .has_encoding = true,
         .encoding = PQ_ENC_DELTA_LENGTH_BYTE_ARRAY},
        {.name = "bss",
         .type = PQ_INT32,
         .has_encoding = true,
         .encoding = PQ_ENC_BYTE_STREAM_SPLIT},
    };
    pq_column_data cd[3] = {{v, NULL}, {v, NULL}, {iv, NULL}};
    pq_writer_options o;
    pq_writer_options_row(&o);
    wfile f;
    CHECK_OK(write_file(&f, s, 3, &o, N, cd));
    CHECK(pages_with(chunk(&f, 0, 0), PQ_PAGE_DATA, PQ_ENC_DELTA_BYTE_ARRAY) >
          0);
    CHECK(pages_with(chunk(&f, 0, 1), PQ_PAGE_DATA,
                     PQ_ENC_DELTA_LENGTH_BYTE_ARRAY) > 0);
    CHECK(pages_with(chunk(&f, 0, 2), PQ_PAGE_DATA, PQ_ENC_BYTE_STREAM_SPLIT) >
          0);
    /* front coding of sorted keys beats plain */
    CHECK(chunk(&f, 0, 0)->total_uncompressed_size <
          chunk(&f, 0, 1)->total_uncompressed_size);
    wfile_free(&f);
}

/* --------------------------------------------------------- page bounds */

/* Byte-array pages end after the row whose values reach page_size (4 +
 * length per non-null value) or at page_rows, however the rows arrive in
 * batches; a chunk of several MiB spans the writer's block chain. Every
 * value reads back. */
static void check_byte_array_pages(uint32_t page_size, uint32_t page_rows)
{
    enum { N = 40000 };
    pq_bytes *v = malloc(N * sizeof *v);
    uint8_t *valid = malloc(N);
    uint8_t *heap = malloc((size_t)N * 300);
    CHECK(v && valid && heap);
    uint64_t seed = 0x1234567u;
    for (size_t i = 0; i < N; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t len = (uint32_t)(seed >> 33) % 300;
        uint8_t *p = heap + i * 300;
        for (uint32_t j = 0; j < len; j++)
            p[j] = (uint8_t)(i * 31 + j);
        v[i] = (pq_bytes){p, len};
        valid[i] = (seed >> 20) % 7 != 0;
    }
    pq_column_spec s = {
        .name = "b", .type = PQ_BYTE_ARRAY, .repetition = PQ_OPTIONAL};
    pq_writer_options o;
    pq_writer_options_row(&o);
    o.page_size = page_size;
    o.page_rows = page_rows;
    wfile f;
    memset(&f, 0, sizeof f);
    pq_sink sink;
    pq_sink_buf(&sink, &f.buf);
    pq_writer *w;
    CHECK_OK(pq_writer_open(&w, &sink, &s, 1, &o));
    for (size_t at = 0; at < N;) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t k = 1 + (size_t)(seed >> 40) % 3000;
        if (k > N - at)
            k = N - at;
        pq_column_data cd = {v + at, valid + at};
        CHECK_OK(pq_writer_write(w, k, &cd));
        at += k;
    }
    CHECK_OK(pq_writer_close(w, NULL));
    pq_source_mem(&f.src, &f.mem, f.buf.data, f.buf.len);
    CHECK_OK(pq_reader_open(&f.r, &f.src, NULL));
    CHECK_EQ_INT(pq_reader_num_row_groups(f.r), 1);

    /* the page boundaries the rule gives */
    const pq_offset_index *oi;
    CHECK_OK(pq_reader_offset_index(f.r, 0, 0, &oi));
    CHECK(oi != NULL);
    size_t page = 0, rows = 0, raw = 0;
    for (size_t i = 0; i < N; i++) {
        if (rows == 0) {
            CHECK(page < oi->n_pages);
            CHECK_EQ_U64((uint64_t)oi->page_locations[page].first_row_index, i);
        }
        rows++;
        if (valid[i])
            raw += 4 + v[i].len;
        if (raw >= page_size || (page_rows && rows >= page_rows)) {
            page++;
            rows = raw = 0;
        }
    }
    CHECK_EQ_U64(oi->n_pages, page + (rows ? 1 : 0));

    pq_cursor *cur;
    CHECK_OK(pq_cursor_open(f.r, 0, 0, &cur));
    size_t at = 0;
    for (;;) {
        pq_batch b;
        CHECK_OK(pq_cursor_next(cur, 1000, &b));
        if (!b.n)
            break;
        const pq_bytes *got = b.values;
        for (size_t i = 0; i < b.n; i++, at++) {
            CHECK(at < N);
            CHECK_EQ_INT(b.valid[i], valid[at] ? 1 : 0);
            if (valid[at]) {
                CHECK_EQ_INT(got[i].len, v[at].len);
                CHECK(!v[at].len || !memcmp(got[i].ptr, v[at].ptr, v[at].len));
            }
        }
    }
    CHECK_EQ_U64(at, N);
    pq_cursor_close(cur);
    CHECK(f.buf.len > (4u << 20)); /* past the first blocks of the chain */
    wfile_free(&f);
    free(v);
    free(valid);
    free(heap);
}

/* A column's own page_size / page_rows cut its pages where the writer's
 * options would not (each column keeps its own boundaries), its own
 * column_index_truncate cuts its bounds, and with a page index the page
 * headers of byte-array columns carry no bounds (the column index has
 * them). Pinned: a spec's limits ignored would leave the page counts of
 * "a" on all three; headers with bounds would fail the last checks. */
static void test_column_page_limits_and_header_bounds(void)
{
    enum { N = 5000, LEN = 20 };
    static uint8_t heap[N][LEN];
    static pq_bytes v[N];
    static int32_t iv[N];
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < LEN; j++)
            heap[i][j] = (uint8_t)('a' + (i * 2654435761u >> (j % 24)) % 26);
        v[i] = (pq_bytes){heap[i], LEN};
        iv[i] = (int32_t)i;
    }
    pq_column_spec s[3] = {
        {.name = "a", .type = PQ_BYTE_ARRAY, .dictionary = PQ_OPT_OFF},
        {.name = "b",
         .type = PQ_BYTE_ARRAY,
         .dictionary = PQ_OPT_OFF,
         .page_size = 1024,
         .column_index_truncate = 4},
        {.name = "c", .type = PQ_INT32, .page_rows = 100}};
    pq_column_data cd[3] = {{v, NULL}, {v, NULL}, {iv, NULL}};
    pq_writer_options o;
    pq_writer_options_column(&o);
    wfile f;
    CHECK_OK(write_file(&f, s, 3, &o, N, cd));
    const pq_offset_index *oa, *ob, *oc;
    CHECK_OK(pq_reader_offset_index(f.r, 0, 0, &oa));
    CHECK_OK(pq_reader_offset_index(f.r, 0, 1, &ob));
    CHECK_OK(pq_reader_offset_index(f.r, 0, 2, &oc));
    CHECK(oa && ob && oc);
    /* a: 24 bytes a value, 64 KiB pages, 20000 rows; b: 1 KiB pages */
    CHECK_EQ_INT(oa->n_pages, (N * (4 + LEN) + 65535) / 65536);
    CHECK_EQ_INT(ob->n_pages, (N + 1024 / (4 + LEN)) / (1024 / (4 + LEN) + 1));
    CHECK_EQ_INT(ob->page_locations[1].first_row_index, 1024 / (4 + LEN) + 1);
    uint32_t ob_pages = ob->n_pages;
    CHECK_EQ_INT(oc->n_pages, N / 100);
    CHECK_EQ_INT(oc->page_locations[1].first_row_index, 100);

    /* bounds: a's exact (20 < 64 bytes), b's cut to 4 */
    const pq_column_index *ca, *cb;
    CHECK_OK(pq_reader_column_index(f.r, 0, 0, &ca));
    CHECK_OK(pq_reader_column_index(f.r, 0, 1, &cb));
    CHECK(ca && cb);
    CHECK_EQ_INT(ca->min_values[0].len, LEN);
    CHECK_EQ_INT(cb->min_values[0].len, 4);
    CHECK(cb->max_values[0].len <= 4);

    /* page headers: null count, no bounds for the byte arrays; the int32's
     * keep theirs */
    meru_arena *ar = NULL;
    CHECK_OK(meru_arena_new(&ar, 4096));
    for (uint32_t c = 0; c < 3; c++) {
        int64_t off = chunk(&f, 0, c)->data_page_offset;
        pq_page_header h;
        size_t used;
        CHECK(off > 0 && (size_t)off < f.buf.len);
        CHECK_OK(pq_decode_page_header(f.buf.data + off,
                                       f.buf.len - (size_t)off, ar, &h, &used));
        CHECK(h.has_data_page_header_v2);
        const pq_statistics *st = &h.data_page_header_v2.statistics;
        CHECK(h.data_page_header_v2.has_statistics && st->has_null_count);
        CHECK_EQ_INT(st->has_min_value, c == 2);
        CHECK_EQ_INT(st->has_max_value, c == 2);
    }
    meru_arena_free(ar);
    wfile_free(&f);

    /* without a page index a page header is the only place for bounds */
    o.page_index = false;
    CHECK_OK(write_file(&f, s, 3, &o, N, cd));
    CHECK_OK(meru_arena_new(&ar, 4096));
    int64_t off = chunk(&f, 0, 1)->data_page_offset;
    pq_page_header h;
    size_t used;
    CHECK_OK(pq_decode_page_header(f.buf.data + off, f.buf.len - (size_t)off,
                                   ar, &h, &used));
    CHECK(h.data_page_header_v2.statistics.has_min_value);
    meru_arena_free(ar);
    wfile_free(&f);

    /* Dictionary columns with a page_size: the trial page (the first)
     * ends at page_size bytes of plain values; a dictionary that pays then
     * keeps the writer's page_size (r: 26 values, 5-bit indices, the rest
     * in one page, not four 1 KiB ones), one that does not falls back to
     * plain pages at page_size (u: distinct values, as b) */
    {
        pq_column_spec ds[2] = {
            {.name = "r", .type = PQ_BYTE_ARRAY, .page_size = 1024},
            {.name = "u", .type = PQ_BYTE_ARRAY, .page_size = 1024}};
        static pq_bytes rv[N];
        for (size_t i = 0; i < N; i++)
            rv[i] = (pq_bytes){heap[i % 26], LEN};
        pq_column_data dcd[2] = {{rv, NULL}, {v, NULL}};
        pq_writer_options_column(&o);
        CHECK_OK(write_file(&f, ds, 2, &o, N, dcd));
        CHECK(has_encoding(chunk(&f, 0, 0), PQ_ENC_RLE_DICTIONARY));
        CHECK(!has_encoding(chunk(&f, 0, 1), PQ_ENC_RLE_DICTIONARY));
        const pq_offset_index *od, *ou;
        CHECK_OK(pq_reader_offset_index(f.r, 0, 0, &od));
        CHECK_OK(pq_reader_offset_index(f.r, 0, 1, &ou));
        CHECK(od && ou);
        CHECK_EQ_INT(od->n_pages, 2);
        CHECK_EQ_INT(od->page_locations[1].first_row_index,
                     1024 / (4 + LEN) + 1);
        CHECK_EQ_INT(ou->n_pages, ob_pages);
        CHECK_EQ_INT(ou->page_locations[1].first_row_index,
                     1024 / (4 + LEN) + 1);
        wfile_free(&f);
        o.page_index = false;
    }

    /* a spec page_size past the writer's maximum is refused */
    s[1].page_size = 0xffffffffu;
    wfile g;
    CHECK_RC(write_file(&g, s, 3, &o, N, cd), MERU_EINVAL);
    meru_buf_free(&g.buf);
}

/* Dictionary pages after the trial page end where the chunk's row count
 * is a multiple of a reader batch (2048 rows), within the page's size and
 * row cap; a cap below one batch still binds exactly. */
static void check_dict_pages_align(uint32_t page_size, uint32_t page_rows,
                                   uint32_t want_rows)
{
    enum { N = 50000, NV = 12 };
    static pq_bytes v[N];
    static const char *const vals[NV] = {"af",   "ap",   "ca",   "eu-c",
                                         "eu-n", "eu-s", "eu-w", "me",
                                         "sa",   "us-e", "us-w", "us-c"};
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *s = vals[x % NV];
        v[i] = (pq_bytes){(const uint8_t *)s, (uint32_t)strlen(s)};
    }
    /* the column's own page_size makes the first page a short trial */
    pq_column_spec s = {
        .name = "region", .type = PQ_BYTE_ARRAY, .page_size = 256};
    pq_column_data cd = {v, NULL};
    pq_writer_options o;
    pq_writer_options_column(&o);
    o.page_size = page_size;
    o.page_rows = page_rows;
    wfile f;
    CHECK_OK(write_file(&f, &s, 1, &o, N, &cd));
    CHECK(has_encoding(chunk(&f, 0, 0), PQ_ENC_RLE_DICTIONARY));
    const pq_offset_index *oi;
    CHECK_OK(pq_reader_offset_index(f.r, 0, 0, &oi));
    CHECK(oi && oi->n_pages > 3);
    int64_t trial = oi->page_locations[1].first_row_index;
    CHECK(trial > 0 && trial < 2048);
    for (uint32_t p = 2; p < oi->n_pages; p++) {
        int64_t first = oi->page_locations[p].first_row_index;
        /* every page but the trial and the last is a full one */
        if (p >= 3)
            CHECK_EQ_INT(first - oi->page_locations[p - 1].first_row_index,
                         want_rows);
        if (want_rows % 2048 == 0)
            CHECK_EQ_INT(first % 2048, 0);
    }
    wfile_free(&f);
}

static void test_dictionary_pages_end_on_reader_batches(void)
{
    /* cut by size: 3000 bytes of 4-bit indexes is 6000 rows, so 6144 */
    check_dict_pages_align(3000, 0, 6144);
    /* cut by the row cap: the last batch boundary below 20000 */
    check_dict_pages_align(64 * 1024, 20000, 18432);
    /* a size below one batch: pages of one batch */
    check_dict_pages_align(100, 0, 2048);
    /* a cap below one batch binds exactly */
    check_dict_pages_align(64 * 1024, 1000, 1000);
}

/* The column profile's BYTE_STREAM_SPLIT for floats stays only in chunks
 * where it compresses better than PLAIN, decided per chunk on its first
 * page; a spec that names it gets it regardless. */
static void test_float_split_kept_only_where_it_pays(void)
{
    enum { N = 40000, HALF = N / 2 };
    static double price[N], forced[N];
    static float wave[N];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double cents = (double)(x % 10000000) / 100.0; /* two decimals */
        double real = 1000.0 * sin((double)i * 0.001) + 2000.0;
        /* price: decimal in row group 0, measured reals in row group 1 */
        price[i] = i < HALF ? cents : real;
        forced[i] = cents;
        wave[i] = (float)real;
    }
    pq_column_spec s[3] = {{.name = "price", .type = PQ_DOUBLE},
                           {.name = "wave", .type = PQ_FLOAT},
                           {.name = "forced",
                            .type = PQ_DOUBLE,
                            .has_encoding = true,
                            .encoding = PQ_ENC_BYTE_STREAM_SPLIT}};
    pq_column_data cd[3] = {{price, NULL}, {wave, NULL}, {forced, NULL}};
    pq_writer_options o;
    pq_writer_options_column(&o);
    o.row_group_rows = HALF;
    wfile f;
    CHECK_OK(write_file(&f, s, 3, &o, N, cd));
    CHECK_EQ_INT(pq_reader_num_row_groups(f.r), 2);
    /* decimal doubles: PLAIN; the same column's reals: split */
    CHECK(!has_encoding(chunk(&f, 0, 0), PQ_ENC_BYTE_STREAM_SPLIT));
    CHECK(pages_with(chunk(&f, 0, 0), PQ_PAGE_DATA_V2, PQ_ENC_PLAIN) > 0);
    CHECK(has_encoding(chunk(&f, 1, 0), PQ_ENC_BYTE_STREAM_SPLIT));
    CHECK(!has_encoding(chunk(&f, 1, 0), PQ_ENC_PLAIN));
    for (uint32_t rg = 0; rg < 2; rg++) {
        CHECK(has_encoding(chunk(&f, rg, 1), PQ_ENC_BYTE_STREAM_SPLIT));
        CHECK(has_encoding(chunk(&f, rg, 2), PQ_ENC_BYTE_STREAM_SPLIT));
    }
    /* the values read back whatever the encoding each chunk got */
    for (uint32_t rg = 0; rg < 2; rg++) {
        pq_cursor *cur = NULL;
        CHECK_OK(pq_cursor_open(f.r, rg, 0, &cur));
        pq_batch b;
        CHECK_OK(pq_cursor_next(cur, HALF, &b));
        CHECK_EQ_INT(b.n, HALF);
        CHECK(memcmp(b.values, price + rg * HALF, HALF * sizeof *price) == 0);
        pq_cursor_close(cur);
    }
    wfile_free(&f);

    /* no codec: the sizes tie and PLAIN wins */
    o.codec = PQ_CODEC_UNCOMPRESSED;
    CHECK_OK(write_file(&f, s, 3, &o, N, cd));
    CHECK(!has_encoding(chunk(&f, 1, 0), PQ_ENC_BYTE_STREAM_SPLIT));
    CHECK(!has_encoding(chunk(&f, 0, 1), PQ_ENC_BYTE_STREAM_SPLIT));
    CHECK(has_encoding(chunk(&f, 0, 2), PQ_ENC_BYTE_STREAM_SPLIT));
    wfile_free(&f);
}

static void test_byte_array_pages_end_where_the_size_rule_says(void)
{
    check_byte_array_pages(8192, 20000);
    check_byte_array_pages(1000, 0);
    check_byte_array_pages(1u << 20, 37);
}

/* ------------------------------------------------- codec per column chunk */

enum { CODEC_N = 8000, CODEC_HALF = CODEC_N / 2, CODEC_W = 96 };

/* Reads column `col` of every row group back and compares it with the
 * values written: byte arrays (w != 0, CODEC_W bytes each) or int64. */
static void check_read_back(wfile *f, uint32_t col, const pq_bytes *ba,
                            const int64_t *iv, const uint8_t *valid)
{
    size_t row = 0;
    for (uint32_t rg = 0; rg < pq_reader_num_row_groups(f->r); rg++) {
        pq_cursor *cur = NULL;
        CHECK_OK(pq_cursor_open(f->r, rg, col, &cur));
        pq_batch b;
        for (;;) {
            CHECK_OK(pq_cursor_next(cur, 1000, &b));
            if (b.n == 0)
                break;
            for (size_t i = 0; i < b.n; i++, row++) {
                bool present = !valid || valid[row];
                CHECK_EQ_INT(!b.valid || b.valid[i], present);
                if (!present)
                    continue;
                if (ba) {
                    const pq_bytes *v = (const pq_bytes *)b.values + i;
                    CHECK_EQ_INT(v->len, ba[row].len);
                    CHECK(memcmp(v->ptr, ba[row].ptr, v->len) == 0);
                } else {
                    CHECK_EQ_INT(((const int64_t *)b.values)[i], iv[row]);
                }
            }
        }
        pq_cursor_close(cur);
    }
    CHECK_EQ_INT(row, CODEC_N);
}

/* Random bytes do not compress under any codec; random lower-case letters
 * save ~5 % with LZ4 (no entropy stage) and ~40 % with zstd; a counter
 * and text with repeats compress under both. Each chunk keeps the codec
 * only where its first page saves codec_min_saving, and every chunk reads
 * back whatever it got. */
static void test_codec_kept_per_chunk_only_where_it_pays(void)
{
    static uint8_t noise[CODEC_N][CODEC_W], letters[CODEC_N][CODEC_W];
    static pq_bytes vn[CODEC_N], vl[CODEC_N];
    static int64_t seq[CODEC_N];
    static uint8_t valid[CODEC_N];
    static const char text[] = "the change feed keeps every committed row ";
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < CODEC_N; i++) {
        for (size_t j = 0; j < CODEC_W; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* noise: random bytes in row group 0, text in row group 1 */
            noise[i][j] = i < CODEC_HALF ? (uint8_t)(x >> 24)
                                         : (uint8_t)text[(i + j) % 42];
            letters[i][j] = (uint8_t)('a' + (x >> 40) % 26);
        }
        vn[i] = (pq_bytes){noise[i], CODEC_W};
        vl[i] = (pq_bytes){letters[i], CODEC_W};
        seq[i] = 1000 + (int64_t)i;
        valid[i] = i % 7 != 0;
    }
    pq_column_spec s[3] = {
        {.name = "noise", .type = PQ_BYTE_ARRAY},
        {.name = "letters", .type = PQ_BYTE_ARRAY, .repetition = PQ_OPTIONAL},
        {.name = "seq", .type = PQ_INT64}};
    pq_column_data cd[3] = {{vn, NULL}, {vl, valid}, {seq, NULL}};

    /* L0's profile with LZ4_RAW (v1 pages) */
    pq_writer_options o;
    pq_writer_options_row(&o);
    CHECK(o.codec_min_saving > 0.0);
    o.codec = PQ_CODEC_LZ4_RAW;
    o.row_group_rows = CODEC_HALF;
    wfile f;
    CHECK_OK(write_file(&f, s, 3, &o, CODEC_N, cd));
    CHECK_EQ_INT(pq_reader_num_row_groups(f.r), 2);
    CHECK_EQ_INT(chunk(&f, 0, 0)->codec, PQ_CODEC_UNCOMPRESSED);
    CHECK_EQ_INT(chunk(&f, 1, 0)->codec, PQ_CODEC_LZ4_RAW);
    for (uint32_t rg = 0; rg < 2; rg++) {
        CHECK_EQ_INT(chunk(&f, rg, 1)->codec, PQ_CODEC_UNCOMPRESSED);
        CHECK_EQ_INT(chunk(&f, rg, 2)->codec, PQ_CODEC_LZ4_RAW);
        const pq_column_meta *m = chunk(&f, rg, 2);
        CHECK(m->total_compressed_size < m->total_uncompressed_size * 4 / 5);
        /* an uncompressed chunk's pages are stored as they are */
        m = chunk(&f, rg, 1);
        CHECK_EQ_INT(m->total_compressed_size, m->total_uncompressed_size);
    }
    check_read_back(&f, 0, vn, NULL, NULL);
    check_read_back(&f, 1, vl, NULL, valid);
    check_read_back(&f, 2, NULL, seq, NULL);
    wfile_free(&f);

    /* L1+'s profile with zstd (v2 pages; the byte arrays' dictionaries do
     * not pay and fall back to PLAIN at the first page): zstd's entropy
     * stage pays on letters, so only the random bytes go uncompressed */
    pq_writer_options_column(&o);
    o.row_group_rows = CODEC_HALF;
    CHECK_OK(write_file(&f, s, 3, &o, CODEC_N, cd));
    CHECK_EQ_INT(chunk(&f, 0, 0)->codec, PQ_CODEC_UNCOMPRESSED);
    CHECK(!chunk(&f, 0, 0)->has_dictionary_page_offset);
    CHECK_EQ_INT(chunk(&f, 1, 0)->codec, PQ_CODEC_ZSTD);
    for (uint32_t rg = 0; rg < 2; rg++) {
        CHECK_EQ_INT(chunk(&f, rg, 1)->codec, PQ_CODEC_ZSTD);
        CHECK_EQ_INT(chunk(&f, rg, 2)->codec, PQ_CODEC_ZSTD);
    }
    check_read_back(&f, 0, vn, NULL, NULL);
    check_read_back(&f, 1, vl, NULL, valid);
    check_read_back(&f, 2, NULL, seq, NULL);
    wfile_free(&f);

    /* codec_min_saving 0: every chunk keeps the codec */
    pq_writer_options_row(&o);
    o.codec = PQ_CODEC_LZ4_RAW;
    o.codec_min_saving = 0.0;
    CHECK_OK(write_file(&f, s, 3, &o, CODEC_N, cd));
    for (uint32_t col = 0; col < 3; col++)
        CHECK_EQ_INT(chunk(&f, 0, col)->codec, PQ_CODEC_LZ4_RAW);
    check_read_back(&f, 0, vn, NULL, NULL);
    wfile_free(&f);
}

/* Walks the pages of one column chunk: how many data pages are stored
 * compressed and how many as they are (v2's is_compressed false). */
static void count_data_pages(wfile *f, uint32_t rg, uint32_t col, int *packed,
                             int *raw)
{
    const pq_column_meta *m = chunk(f, rg, col);
    int64_t off = m->has_dictionary_page_offset ? m->dictionary_page_offset
                                                : m->data_page_offset;
    int64_t end = off + m->total_compressed_size;
    meru_arena *ar = NULL;
    CHECK_OK(meru_arena_new(&ar, 4096));
    *packed = *raw = 0;
    while (off < end) {
        pq_page_header h;
        size_t used;
        CHECK_OK(pq_decode_page_header(
            f->buf.data + off, f->buf.len - (size_t)off, ar, &h, &used));
        if (h.type == PQ_PAGE_DATA_V2 && !h.data_page_header_v2.is_compressed) {
            CHECK_EQ_INT(h.compressed_page_size, h.uncompressed_page_size);
            (*raw)++;
        } else if (h.type != PQ_PAGE_DICTIONARY) {
            (*packed)++;
        }
        off += (int64_t)used + h.compressed_page_size;
    }
    CHECK_EQ_INT(off, end);
    meru_arena_free(ar);
}

/* A v2 page says for itself whether it is compressed, so a page that the
 * codec does not pay for is stored as it is even in a chunk that keeps
 * the codec: the random 4-bit indices of a 16-value dictionary (zstd
 * saves ~0 on them), not the indices of a repeating cycle (zstd saves
 * most). Its dictionary page stays compressed (the chunk's codec). v1
 * pages have no such flag: there every page of the chunk is compressed.
 * codec_min_saving 0 keeps the codec on every page. */
static void test_v2_pages_stored_raw_where_the_codec_does_not_pay(void)
{
    static const char *const vals[16] = {
        "af-south",   "ap-east",  "ap-south",   "ca-central",
        "eu-central", "eu-north", "eu-west",    "me-central",
        "sa-east",    "us-east",  "us-gov",     "us-west",
        "ap-north",   "eu-south", "il-central", "mx-central"};
    static pq_bytes vr[CODEC_N], vc[CODEC_N];
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < CODEC_N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const char *r = vals[(x >> 20) % 16], *c = vals[i % 16];
        vr[i] = (pq_bytes){(const uint8_t *)r, (uint32_t)strlen(r)};
        vc[i] = (pq_bytes){(const uint8_t *)c, (uint32_t)strlen(c)};
    }
    pq_column_spec s[2] = {{.name = "random", .type = PQ_BYTE_ARRAY},
                           {.name = "cycle", .type = PQ_BYTE_ARRAY}};
    pq_column_data cd[2] = {{vr, NULL}, {vc, NULL}};
    pq_writer_options o;
    pq_writer_options_column(&o);
    o.page_rows = 1000;
    wfile f;
    CHECK_OK(write_file(&f, s, 2, &o, CODEC_N, cd));
    int packed, raw;
    for (uint32_t col = 0; col < 2; col++) {
        CHECK(has_encoding(chunk(&f, 0, col), PQ_ENC_RLE_DICTIONARY));
        CHECK_EQ_INT(chunk(&f, 0, col)->codec, PQ_CODEC_ZSTD);
    }
    count_data_pages(&f, 0, 0, &packed, &raw);
    CHECK_EQ_INT(packed, 0);
    CHECK(raw >= CODEC_N / 1000);
    count_data_pages(&f, 0, 1, &packed, &raw);
    CHECK_EQ_INT(raw, 0);
    CHECK(packed >= CODEC_N / 1000);
    check_read_back(&f, 0, vr, NULL, NULL);
    check_read_back(&f, 1, vc, NULL, NULL);
    wfile_free(&f);

    o.codec_min_saving = 0.0;
    CHECK_OK(write_file(&f, s, 2, &o, CODEC_N, cd));
    count_data_pages(&f, 0, 0, &packed, &raw);
    CHECK_EQ_INT(raw, 0);
    CHECK(packed >= CODEC_N / 1000);
    check_read_back(&f, 0, vr, NULL, NULL);
    wfile_free(&f);

    pq_writer_options_column(&o);
    o.page_rows = 1000;
    o.data_page_version = 1;
    CHECK_OK(write_file(&f, s, 2, &o, CODEC_N, cd));
    CHECK_EQ_INT(chunk(&f, 0, 0)->codec, PQ_CODEC_ZSTD);
    count_data_pages(&f, 0, 0, &packed, &raw);
    CHECK_EQ_INT(raw, 0);
    CHECK(packed >= CODEC_N / 1000);
    check_read_back(&f, 0, vr, NULL, NULL);
    wfile_free(&f);
}

/* ---------------------------------------------------------- validation */

static void test_invalid_specs_and_batches_are_rejected(void)
{
    meru_buf buf = {0};
    pq_sink sink;
    pq_sink_buf(&sink, &buf);
    pq_writer *w;
    pq_column_spec bad[2] = {{.name = "a", .type = PQ_INT32},
                             {.name = "a", .type = PQ_INT64}};
    CHECK_RC(pq_writer_open(&w, &sink, bad, 2, NULL), MERU_EINVAL);
    CHECK_ERRMSG("duplicate");
    pq_column_spec enc = {.name = "e",
                          .type = PQ_DOUBLE,
                          .has_encoding = true,
                          .encoding = PQ_ENC_DELTA_BINARY_PACKED};
    CHECK_RC(pq_writer_open(&w, &sink, &enc, 1, NULL), MERU_EINVAL);
    pq_column_spec lt = {
        .name = "d", .type = PQ_INT64, .logical = {.kind = PQ_LT_DATE}};
    CHECK_RC(pq_writer_open(&w, &sink, &lt, 1, NULL), MERU_EINVAL);
    pq_column_spec rep = {
        .name = "r", .type = PQ_INT32, .repetition = PQ_REPEATED};
    CHECK_RC(pq_writer_open(&w, &sink, &rep, 1, NULL), MERU_EINVAL);
    pq_column_spec one = {.name = "o", .type = PQ_INT32};
    pq_writer_options o;
    pq_writer_options_row(&o);
    const double bad_saving[] = {-0.1, 1.0, NAN};
    for (size_t i = 0; i < 3; i++) {
        o.codec_min_saving = bad_saving[i];
        CHECK_RC(pq_writer_open(&w, &sink, &one, 1, &o), MERU_EINVAL);
        CHECK_ERRMSG("codec_min_saving");
    }

    pq_column_spec s[2] = {
        {.name = "req", .type = PQ_INT32},
        {.name = "fl", .type = PQ_FIXED_LEN_BYTE_ARRAY, .type_length = 2}};
    CHECK_OK(pq_writer_open(&w, &sink, s, 2, NULL));
    int32_t v[2] = {1, 2};
    uint8_t valid[2] = {1, 0};
    pq_bytes fl[2] = {{(const uint8_t *)"ab", 2}, {(const uint8_t *)"c", 1}};
    pq_column_data cd[2] = {{v, valid}, {fl, NULL}};
    CHECK_RC(pq_writer_write(w, 2, cd), MERU_EINVAL);
    CHECK_ERRMSG("null in required column req");
    cd[0].valid = NULL;
    CHECK_RC(pq_writer_write(w, 2, cd), MERU_EINVAL);
    CHECK_ERRMSG("fl");
    /* nothing of the rejected batches was written */
    CHECK_OK(pq_writer_write(w, 1, cd));
    CHECK_EQ_U64(pq_writer_rows(w), 1);
    CHECK_OK(pq_writer_close(w, NULL));
    meru_buf_free(&buf);
}

typedef struct failing {
    size_t left;
    int calls_after_fail;
} failing;

static int failing_write(void *ctx, const void *p, size_t n)
{
    (void)p;
    failing *f = ctx;
    if (n > f->left) {
        f->calls_after_fail++;
        return meru_err(MERU_EIO, "test sink: device full");
    }
    f->left -= n;
    return MERU_OK;
}

static void test_sink_failure_is_sticky(void)
{
    failing fs = {.left = 100};
    pq_sink sink = {failing_write, &fs};
    pq_column_spec s = {.name = "v", .type = PQ_INT64};
    pq_writer_options o;
    pq_writer_options_row(&o);
    o.row_group_rows = 100;
    pq_writer *w;
    CHECK_OK(pq_writer_open(&w, &sink, &s, 1, &o));
    int64_t v[500] = {0};
    pq_column_data cd = {v, NULL};
    CHECK_RC(pq_writer_write(w, 500, &cd), MERU_EIO);
    CHECK_RC(pq_writer_write(w, 1, &cd), MERU_EFAILED);
    CHECK_RC(pq_writer_close(w, NULL), MERU_EFAILED);
    CHECK_EQ_INT(fs.calls_after_fail, 1);
}

int main(void)
{
    MERU_TEST_RUN(test_row_profile_writes_plain_8k_pages_uncompressed);
    MERU_TEST_RUN(test_column_profile_chooses_encodings_per_type);
    MERU_TEST_RUN(test_dictionary_falls_back_to_plain_past_its_cap);
    MERU_TEST_RUN(test_explicit_encodings_are_used);
    MERU_TEST_RUN(test_byte_array_pages_end_where_the_size_rule_says);
    MERU_TEST_RUN(test_dictionary_pages_end_on_reader_batches);
    MERU_TEST_RUN(test_float_split_kept_only_where_it_pays);
    MERU_TEST_RUN(test_codec_kept_per_chunk_only_where_it_pays);
    MERU_TEST_RUN(test_v2_pages_stored_raw_where_the_codec_does_not_pay);
    MERU_TEST_RUN(test_column_page_limits_and_header_bounds);
    MERU_TEST_RUN(test_invalid_specs_and_batches_are_rejected);
    MERU_TEST_RUN(test_sink_failure_is_sticky);
    return meru_test_finish();
}
