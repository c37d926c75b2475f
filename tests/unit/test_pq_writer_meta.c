/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_writer_meta.c — what the Parquet writer records about the data:
 * statistics ordering edge cases (NaN, -0.0, unsigned bytes, negative
 * decimals, unsigned ints) and their cut bounds, page index boundary order
 * and truncation, row-group splitting, and footer metadata (schema, field
 * ids, key-value pairs, created_by). Checked through the decoded footer and
 * the reader. Page shaping, codecs and validation: test_pq_writer.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/meta.h"
#include "parquet/pq.h"
#include "parquet/stats.h"
#include "pq_writer_test.h"
#include "test.h"
#include "util/endian.h"

/* ---------------------------------------------------------- statistics */

static void stat_bounds(wfile *f, uint32_t col, pq_bytes *lo, pq_bytes *hi,
                        bool *has)
{
    const pq_statistics *s = &chunk(f, 0, col)->statistics;
    *has = s->has_min_value && s->has_max_value;
    if (*has) {
        *lo = s->min_value;
        *hi = s->max_value;
    }
}

static void test_float_stats_skip_nan_and_sign_zero_bounds(void)
{
    double d1[4] = {NAN, 0.0, 2.5, NAN}; /* min 0 -> -0.0 */
    double d2[3] = {-0.0, -3.0, NAN};    /* max 0 -> +0.0 */
    double d3[2] = {NAN, NAN};           /* all NaN: no bounds */
    float f1[3] = {1.5f, NAN, -2.0f};
    pq_column_spec s[4] = {
        {.name = "a", .type = PQ_DOUBLE},
        {.name = "b", .type = PQ_DOUBLE},
        {.name = "c", .type = PQ_DOUBLE},
        {.name = "f", .type = PQ_FLOAT},
    };
    double b2[4] = {d2[0], d2[1], d2[2], -1.0};
    double c2[4] = {d3[0], d3[1], NAN, NAN};
    float f2[4] = {f1[0], f1[1], f1[2], 0.5f};
    pq_column_data cd[4] = {{d1, NULL}, {b2, NULL}, {c2, NULL}, {f2, NULL}};
    wfile f;
    CHECK_OK(write_file(&f, s, 4, NULL, 4, cd));
    pq_bytes lo, hi;
    bool has;
    double x;
    stat_bounds(&f, 0, &lo, &hi, &has);
    CHECK(has);
    memcpy(&x, lo.ptr, 8);
    CHECK(x == 0.0 && signbit(x));
    memcpy(&x, hi.ptr, 8);
    CHECK(x == 2.5);
    stat_bounds(&f, 1, &lo, &hi, &has);
    CHECK(has);
    memcpy(&x, lo.ptr, 8);
    CHECK(x == -3.0);
    memcpy(&x, hi.ptr, 8);
    CHECK(x == 0.0 && !signbit(x));
    stat_bounds(&f, 2, &lo, &hi, &has);
    CHECK(!has);
    CHECK(!pq_reader_chunk_minmax(f.r, 0, 2, &lo, &hi));
    float fx;
    stat_bounds(&f, 3, &lo, &hi, &has);
    CHECK(has && lo.len == 4);
    memcpy(&fx, lo.ptr, 4);
    CHECK(fx == -2.0f);
    memcpy(&fx, hi.ptr, 4);
    CHECK(fx == 1.5f);
    /* no column index for the all-NaN column, one for the others */
    const pq_column_index *ci;
    CHECK_OK(pq_reader_column_index(f.r, 0, 2, &ci));
    CHECK(ci == NULL);
    CHECK_OK(pq_reader_column_index(f.r, 0, 0, &ci));
    CHECK(ci != NULL);
    wfile_free(&f);
}

static void test_byte_stats_use_unsigned_order_and_no_legacy_fields(void)
{
    pq_bytes v[3] = {{(const uint8_t *)"\xff\x01", 2},
                     {(const uint8_t *)"a", 1},
                     {(const uint8_t *)"ab", 2}};
    int32_t iv[3] = {-5, 7, 0};
    pq_column_spec s[2] = {{.name = "s", .type = PQ_BYTE_ARRAY},
                           {.name = "i", .type = PQ_INT32}};
    pq_column_data cd[2] = {{v, NULL}, {iv, NULL}};
    wfile f;
    CHECK_OK(write_file(&f, s, 2, NULL, 3, cd));
    const pq_statistics *st = &chunk(&f, 0, 0)->statistics;
    CHECK(st->has_min_value && st->min_value.len == 1 &&
          st->min_value.ptr[0] == 'a');
    CHECK(st->max_value.len == 2 && st->max_value.ptr[0] == 0xff);
    CHECK(!st->has_min && !st->has_max);
    CHECK(st->has_is_min_value_exact && st->is_min_value_exact);
    st = &chunk(&f, 0, 1)->statistics;
    CHECK(st->has_min && st->has_max); /* signed order: legacy too */
    CHECK_EQ_INT((int32_t)meru_load_le32(st->min_value.ptr), -5);
    CHECK_EQ_INT((int32_t)meru_load_le32(st->max_value.ptr), 7);
    CHECK_EQ_INT((int32_t)meru_load_le32(st->min.ptr), -5);
    wfile_free(&f);
}

static void test_decimal_and_unsigned_stats_orders(void)
{
    /* FLBA(4) decimals: -100, 3, -5 -> min -100, max 3 */
    uint8_t dec[3][4];
    int32_t dv[3] = {-100, 3, -5};
    pq_bytes db[3];
    for (int i = 0; i < 3; i++) {
        meru_store_be32(dec[i], (uint32_t)dv[i]);
        db[i] = (pq_bytes){dec[i], 4};
    }
    /* BYTE_ARRAY decimals of different lengths: -1 (ff), 256 (01 00) */
    pq_bytes bd[2] = {{(const uint8_t *)"\xff", 1},
                      {(const uint8_t *)"\x01\x00", 2}};
    uint32_t uv[2] = {1, 0xffffffffu};
    pq_column_spec s[3] = {
        {.name = "dec",
         .type = PQ_FIXED_LEN_BYTE_ARRAY,
         .type_length = 4,
         .logical = {.kind = PQ_LT_DECIMAL,
                     .decimal_precision = 9,
                     .decimal_scale = 2}},
        {.name = "bdec",
         .type = PQ_BYTE_ARRAY,
         .logical = {.kind = PQ_LT_DECIMAL,
                     .decimal_precision = 10,
                     .decimal_scale = 0}},
        {.name = "u",
         .type = PQ_INT32,
         .logical = {.kind = PQ_LT_INTEGER,
                     .int_bit_width = 32,
                     .int_is_signed = false}},
    };
    int32_t uvi[3];
    memcpy(uvi, uv, 8);
    uvi[2] = 5;
    pq_bytes bd3[3] = {bd[0], bd[1], bd[0]};
    pq_column_data cd[3] = {{db, NULL}, {bd3, NULL}, {uvi, NULL}};
    wfile f;
    CHECK_OK(write_file(&f, s, 3, NULL, 3, cd));
    const pq_statistics *st = &chunk(&f, 0, 0)->statistics;
    CHECK_EQ_INT((int32_t)meru_load_be32(st->min_value.ptr), -100);
    CHECK_EQ_INT((int32_t)meru_load_be32(st->max_value.ptr), 3);
    CHECK(!st->has_min);
    st = &chunk(&f, 0, 1)->statistics;
    CHECK(st->min_value.len == 1 && st->min_value.ptr[0] == 0xff);
    CHECK(st->max_value.len == 2 && st->max_value.ptr[0] == 0x01);
    st = &chunk(&f, 0, 2)->statistics;
    CHECK_EQ_U64(meru_load_le32(st->min_value.ptr), 1);
    CHECK_EQ_U64(meru_load_le32(st->max_value.ptr), 0xffffffffu);
    CHECK(!st->has_min);
    /* schema: converted types for old readers */
    const pq_file_meta *fm = pq_reader_meta(f.r);
    CHECK(fm->schema[1].has_converted_type &&
          fm->schema[1].converted_type == PQ_CT_DECIMAL);
    CHECK(fm->schema[1].has_precision && fm->schema[1].precision == 9);
    CHECK(fm->schema[3].converted_type == PQ_CT_UINT_32);
    CHECK(pq_reader_column(f.r, 2)->order == PQ_ORDER_UINT32);
    wfile_free(&f);
}

static void test_stats_compare_orders(void)
{
    uint8_t a[2] = {0xff, 0x00}, b[1] = {0x7f};
    CHECK(pq_stats_compare(PQ_ORDER_BYTES, a, 2, b, 1) > 0);
    CHECK(pq_stats_compare(PQ_ORDER_DECIMAL_BE, a, 2, b, 1) < 0);
    CHECK(pq_stats_compare(PQ_ORDER_BYTES, b, 0, b, 1) < 0);
    uint8_t m1[1] = {0xff}, m1b[3] = {0xff, 0xff, 0xff};
    CHECK_EQ_INT(pq_stats_compare(PQ_ORDER_DECIMAL_BE, m1, 1, m1b, 3), 0);
    uint8_t x[4], y[4];
    meru_store_le32(x, 0x80000000u);
    meru_store_le32(y, 1);
    CHECK(pq_stats_compare(PQ_ORDER_INT32, x, 4, y, 4) < 0);
    CHECK(pq_stats_compare(PQ_ORDER_UINT32, x, 4, y, 4) > 0);
    uint8_t out[8];
    uint32_t ol;
    pq_bytes v = {(const uint8_t *)"abc\xff\xff", 5};
    CHECK(pq_stats_truncate_max(&v, 4, out, &ol));
    CHECK(ol == 3 && !memcmp(out, "abd", 3));
    pq_bytes all = {(const uint8_t *)"\xff\xff\xff", 3};
    CHECK(!pq_stats_truncate_max(&all, 2, out, &ol));
}

/* ----------------------------------------------------------- page index */

static void test_column_index_boundary_order_and_truncation(void)
{
    enum { N = 4000 };
    static int64_t asc[N], desc[N], rnd[N];
    static pq_bytes longs[N];
    static char lh[N][120];
    for (int i = 0; i < N; i++) {
        asc[i] = i;
        desc[i] = N - i;
        rnd[i] = (int64_t)(meru_test_rand() % 1000);
        memset(lh[i], 'x', 100);
        snprintf(lh[i] + 100, 20, "%06d", i);
        longs[i] = (pq_bytes){(const uint8_t *)lh[i], 106};
    }
    pq_column_spec s[4] = {{.name = "asc", .type = PQ_INT64},
                           {.name = "desc", .type = PQ_INT64},
                           {.name = "rnd", .type = PQ_INT64},
                           {.name = "long", .type = PQ_BYTE_ARRAY}};
    pq_column_data cd[4] = {
        {asc, NULL}, {desc, NULL}, {rnd, NULL}, {longs, NULL}};
    pq_writer_options o;
    pq_writer_options_row(&o);
    o.page_size = 1024;
    wfile f;
    CHECK_OK(write_file(&f, s, 4, &o, N, cd));
    const pq_column_index *ci;
    CHECK_OK(pq_reader_column_index(f.r, 0, 0, &ci));
    CHECK(ci && ci->n_pages > 10);
    CHECK_EQ_INT(ci->boundary_order, PQ_BOUNDARY_ASCENDING);
    CHECK(ci->null_counts && ci->null_counts[0] == 0);
    CHECK_OK(pq_reader_column_index(f.r, 0, 1, &ci));
    CHECK_EQ_INT(ci->boundary_order, PQ_BOUNDARY_DESCENDING);
    CHECK_OK(pq_reader_column_index(f.r, 0, 2, &ci));
    CHECK_EQ_INT(ci->boundary_order, PQ_BOUNDARY_UNORDERED);
    CHECK_OK(pq_reader_column_index(f.r, 0, 3, &ci));
    CHECK(ci != NULL);
    /* bounds cut to 64 bytes: min a prefix, max rounded up past it */
    CHECK_EQ_INT(ci->min_values[0].len, 64);
    CHECK(ci->max_values[0].len <= 64);
    CHECK(pq_stats_compare(PQ_ORDER_BYTES, ci->max_values[0].ptr,
                           ci->max_values[0].len, longs[0].ptr, 106) > 0);
    /* chunk statistics are cut the same way (statistics_truncate), and
     * say so */
    const pq_statistics *st = &chunk(&f, 0, 3)->statistics;
    CHECK_EQ_INT(st->min_value.len, 64);
    CHECK(st->max_value.len <= 64);
    CHECK(st->has_is_min_value_exact && !st->is_min_value_exact);
    CHECK(st->has_is_max_value_exact && !st->is_max_value_exact);
    wfile_free(&f);
}

/* The cut bounds of UTF-8 strings stay UTF-8 and stay bounds. */
static void test_stats_cut_keeps_utf8_and_bounds(void)
{
    uint8_t out[16];
    uint32_t ol = 0;
    /* "aé" + "中" (3 bytes): a cut at 4 would split 中 */
    const char *s = "a\xc3\xa9\xe4\xb8\xadz";
    pq_bytes v = {(const uint8_t *)s, (uint32_t)strlen(s)};
    pq_bytes lo = v;
    CHECK(pq_stats_cut_min(&lo, 4, true));
    CHECK_EQ_INT(lo.len, 3); /* "aé" */
    lo = v;
    CHECK(pq_stats_cut_min(&lo, 4, false));
    CHECK_EQ_INT(lo.len, 4); /* bytes: anywhere */
    CHECK_EQ_INT(pq_stats_cut_max(&v, 4, true, out, &ol), 1);
    CHECK(ol == 3 && !memcmp(out, "a\xc3\xaa", 3)); /* "aê" > "aé中z" */
    CHECK(pq_stats_compare(PQ_ORDER_BYTES, out, ol, v.ptr, v.len) > 0);
    /* U+10FFFF has no successor: the character before it is raised */
    const char *t = "ab\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbfq";
    pq_bytes w = {(const uint8_t *)t, (uint32_t)strlen(t)};
    CHECK_EQ_INT(pq_stats_cut_max(&w, 9, true, out, &ol), 1);
    CHECK(ol == 2 && !memcmp(out, "ac", 2));
    /* the successor of U+D7FF skips the surrogates to U+E000 */
    const char *u = "\xed\x9f\xbfxyz";
    pq_bytes x = {(const uint8_t *)u, (uint32_t)strlen(u)};
    CHECK_EQ_INT(pq_stats_cut_max(&x, 3, true, out, &ol), 1);
    CHECK(ol == 3 && !memcmp(out, "\xee\x80\x80", 3));
    /* nothing to raise */
    const char *m = "\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf";
    pq_bytes y = {(const uint8_t *)m, 8};
    CHECK_EQ_INT(pq_stats_cut_max(&y, 5, true, out, &ol), -1);
    /* short enough: untouched */
    CHECK_EQ_INT(pq_stats_cut_max(&v, 64, true, out, &ol), 0);
    lo = v;
    CHECK(!pq_stats_cut_min(&lo, 64, true));
    CHECK(!pq_stats_cut_min(&lo, 0, true));
}

/* A 12 MiB value: bounds everywhere stay small, so the page header and the
 * footer stay far under what readers accept and the file reads back; a
 * column asking for exact statistics keeps them whole; a long FIXED column
 * has none; an all-0xFF value leaves its chunk without bounds or index. */
static void test_huge_values_get_small_bounds(void)
{
    enum { N = 3, BIG = 12 << 20 };
    uint8_t *big = malloc(BIG);
    CHECK(big != NULL);
    memset(big, 'q', BIG);
    big[BIG - 1] = 'z';
    static uint8_t ff[4096], fx[3][200];
    memset(ff, 0xff, sizeof ff);
    memset(fx, 7, sizeof fx);
    pq_bytes vals[N] = {
        {big, BIG}, {(const uint8_t *)"a", 1}, {(const uint8_t *)"b", 1}};
    pq_bytes ex[N] = {
        {(const uint8_t *)"k1", 2}, {big, 100}, {(const uint8_t *)"k3", 2}};
    pq_bytes ffs[N] = {{ff, sizeof ff}, {ff, 10}, {ff, 20}};
    pq_bytes fix[N] = {{fx[0], 200}, {fx[1], 200}, {fx[2], 200}};
    pq_column_spec s[4] = {
        {.name = "big",
         .type = PQ_BYTE_ARRAY,
         .logical = {.kind = PQ_LT_STRING}},
        {.name = "exact", .type = PQ_BYTE_ARRAY, .exact_statistics = true},
        {.name = "ff", .type = PQ_BYTE_ARRAY},
        {.name = "fix", .type = PQ_FIXED_LEN_BYTE_ARRAY, .type_length = 200}};
    pq_column_data cd[4] = {{vals, NULL}, {ex, NULL}, {ffs, NULL}, {fix, NULL}};
    pq_writer_options o;
    pq_writer_options_row(&o);
    wfile f;
    int rc = write_file(&f, s, 4, &o, N, cd);
    free(big);
    CHECK_OK(rc);
    const pq_statistics *st = &chunk(&f, 0, 0)->statistics;
    CHECK(st->has_min_value && st->min_value.len == 1); /* "a" */
    CHECK(st->is_min_value_exact);
    CHECK(st->max_value.len <= 64 && !st->is_max_value_exact);
    /* "qqq..." cut and rounded up: "qq...qr" */
    CHECK(st->max_value.ptr[0] == 'q' &&
          st->max_value.ptr[st->max_value.len - 1] == 'r');
    st = &chunk(&f, 0, 1)->statistics;
    CHECK(st->has_max_value && st->max_value.len == 100 &&
          st->is_max_value_exact);
    st = &chunk(&f, 0, 2)->statistics;
    CHECK(!st->has_min_value && !st->has_max_value && st->has_null_count);
    const pq_column_index *ci;
    CHECK_OK(pq_reader_column_index(f.r, 0, 2, &ci));
    CHECK(ci == NULL);
    st = &chunk(&f, 0, 3)->statistics;
    CHECK(!st->has_min_value && !st->has_max_value);
    /* every value reads back */
    pq_cursor *cur;
    pq_batch b;
    CHECK_OK(pq_cursor_open(f.r, 0, 0, &cur));
    CHECK_OK(pq_cursor_next(cur, N, &b));
    CHECK_EQ_INT(b.n, N);
    const pq_bytes *got = b.values;
    CHECK(got[0].len == BIG && got[0].ptr[BIG - 1] == 'z' &&
          got[0].ptr[0] == 'q');
    pq_cursor_close(cur);
    wfile_free(&f);
}

static void test_no_page_index_when_disabled(void)
{
    int32_t v[10] = {0};
    pq_column_spec s = {.name = "v", .type = PQ_INT32};
    pq_column_data cd = {v, NULL};
    pq_writer_options o;
    pq_writer_options_row(&o);
    o.page_index = false;
    wfile f;
    CHECK_OK(write_file(&f, &s, 1, &o, 10, &cd));
    const pq_column_index *ci;
    const pq_offset_index *oi;
    CHECK_OK(pq_reader_column_index(f.r, 0, 0, &ci));
    CHECK_OK(pq_reader_offset_index(f.r, 0, 0, &oi));
    CHECK(!ci && !oi);
    wfile_free(&f);
}

/* ----------------------------------------------------- row groups, meta */

/* The row profile (L0 flushes) ends a row group at 8 MiB of pages: a flush
 * holds one row group in memory, so a memtable's whole file must not be
 * one (it was: 128 MiB, the L0 file of a 64 MiB memtable beside it). */
static void test_row_profile_bounds_a_row_group(void)
{
    enum { N = 1300000 }; /* 10.4 MB of uncompressed int64 */
    int64_t *v = malloc(N * sizeof *v);
    CHECK(v);
    if (!v)
        return;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v[i] = (int64_t)x;
    }
    pq_column_spec s = {.name = "k", .type = PQ_INT64};
    pq_column_data cd = {v, NULL};
    pq_writer_options o;
    pq_writer_options_row(&o);
    CHECK_EQ_U64(o.row_group_rows, 0);
    wfile f;
    CHECK_OK(write_file(&f, &s, 1, &o, N, &cd));
    CHECK_EQ_INT(pq_reader_num_rows(f.r), N);
    uint32_t nrg = pq_reader_num_row_groups(f.r);
    CHECK_MSG(nrg == 2, "%u row groups", nrg);
    /* the first ends near the 8 MiB target */
    int64_t r0 = pq_reader_row_group_rows(f.r, 0);
    CHECK_MSG(r0 * 8 >= (7 << 20) && r0 * 8 <= (9 << 20), "%lld rows",
              (long long)r0);
    wfile_free(&f);
    free(v);
}

static void test_row_group_targets_split_the_file(void)
{
    enum { N = 2500 };
    static int32_t v[N];
    for (int i = 0; i < N; i++)
        v[i] = i;
    pq_column_spec s = {.name = "v", .type = PQ_INT32};
    pq_column_data cd = {v, NULL};
    pq_writer_options o;
    pq_writer_options_row(&o);
    o.row_group_rows = 1000;
    wfile f;
    CHECK_OK(write_file(&f, &s, 1, &o, N, &cd));
    CHECK_EQ_INT(pq_reader_num_row_groups(f.r), 3);
    CHECK_EQ_INT(pq_reader_row_group_rows(f.r, 0), 1000);
    CHECK_EQ_INT(pq_reader_row_group_rows(f.r, 2), 500);
    wfile_free(&f);

    /* byte target: ~4 KiB row groups of int32 -> about 1000 rows each */
    o.row_group_rows = 0;
    o.row_group_bytes = 4096;
    o.page_size = 512;
    CHECK_OK(write_file(&f, &s, 1, &o, N, &cd));
    CHECK(pq_reader_num_row_groups(f.r) >= 2);
    CHECK_EQ_INT(pq_reader_num_rows(f.r), N);
    wfile_free(&f);
}

static void test_footer_has_schema_field_ids_kv_and_created_by(void)
{
    int64_t ts[2] = {1700000000000000, 0};
    int32_t dt[2] = {19000, -1};
    pq_bytes str[2] = {{(const uint8_t *)"x", 1}, {NULL, 0}};
    uint8_t valid[2] = {1, 0};
    pq_column_spec s[3] = {
        {.name = "ts",
         .type = PQ_INT64,
         .has_field_id = true,
         .field_id = 7,
         .logical = {.kind = PQ_LT_TIMESTAMP,
                     .unit = PQ_UNIT_MICROS,
                     .is_adjusted_to_utc = true}},
        {.name = "dt",
         .type = PQ_INT32,
         .has_field_id = true,
         .field_id = 8,
         .logical = {.kind = PQ_LT_DATE}},
        {.name = "s",
         .type = PQ_BYTE_ARRAY,
         .repetition = PQ_OPTIONAL,
         .has_field_id = true,
         .field_id = 2147483000,
         .logical = {.kind = PQ_LT_STRING}},
    };
    pq_kv kv[2] = {{"merutable.level", "1", 1}, {"bin", "a\0b", 3}};
    pq_writer_options o;
    pq_writer_options_row(&o);
    o.kv = kv;
    o.n_kv = 2;
    pq_column_data cd[3] = {{ts, NULL}, {dt, NULL}, {str, valid}};
    meru_buf buf = {0};
    pq_sink sink;
    pq_sink_buf(&sink, &buf);
    pq_writer *w;
    CHECK_OK(pq_writer_open(&w, &sink, s, 3, &o));
    CHECK_OK(pq_writer_write(w, 2, cd));
    CHECK_OK(pq_writer_set_kv(w, "merutable.level", "0", 1));
    CHECK_OK(pq_writer_set_kv(w, "late", "yes", 3));
    CHECK_OK(pq_writer_close(w, NULL));
    pq_mem mem;
    pq_source src;
    pq_source_mem(&src, &mem, buf.data, buf.len);
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &src, NULL));
    const pq_file_meta *fm = pq_reader_meta(r);
    CHECK(fm->created_by && !strncmp(fm->created_by, "merutable version ", 18));
    CHECK_EQ_INT(fm->n_key_value_metadata, 3);
    CHECK_STR(fm->key_value_metadata[0].key, "merutable.level");
    CHECK(fm->key_value_metadata[0].value.len == 1 &&
          fm->key_value_metadata[0].value.ptr[0] == '0');
    CHECK(fm->key_value_metadata[1].value.len == 3 &&
          !memcmp(fm->key_value_metadata[1].value.ptr, "a\0b", 3));
    CHECK_STR(fm->key_value_metadata[2].key, "late");
    CHECK(fm->has_column_orders);
    CHECK_EQ_INT(pq_reader_find_field_id(r, 8), 1);
    CHECK_EQ_INT(pq_reader_find_field_id(r, 2147483000), 2);
    CHECK_EQ_INT(pq_reader_find_field_id(r, 99), -1);
    CHECK_EQ_INT(pq_reader_find_column(r, "s"), 2);
    const pq_column_info *ts_info = pq_reader_column(r, 0);
    CHECK_EQ_INT(ts_info->logical.kind, PQ_LT_TIMESTAMP);
    CHECK_EQ_INT(ts_info->logical.unit, PQ_UNIT_MICROS);
    CHECK(fm->schema[1].converted_type == PQ_CT_TIMESTAMP_MICROS);
    CHECK(fm->schema[2].converted_type == PQ_CT_DATE);
    CHECK(fm->schema[3].converted_type == PQ_CT_UTF8);
    CHECK_EQ_INT(fm->schema[3].repetition_type, PQ_OPTIONAL);
    pq_reader_close(r);
    meru_buf_free(&buf);
}

static void test_empty_file_is_valid(void)
{
    pq_column_spec s = {.name = "v", .type = PQ_INT32};
    wfile f;
    CHECK_OK(write_file(&f, &s, 1, NULL, 0, NULL));
    CHECK_EQ_INT(pq_reader_num_row_groups(f.r), 0);
    CHECK_EQ_INT(pq_reader_num_rows(f.r), 0);
    wfile_free(&f);
}

int main(void)
{
    MERU_TEST_RUN(test_float_stats_skip_nan_and_sign_zero_bounds);
    MERU_TEST_RUN(test_byte_stats_use_unsigned_order_and_no_legacy_fields);
    MERU_TEST_RUN(test_decimal_and_unsigned_stats_orders);
    MERU_TEST_RUN(test_stats_compare_orders);
    MERU_TEST_RUN(test_column_index_boundary_order_and_truncation);
    MERU_TEST_RUN(test_no_page_index_when_disabled);
    MERU_TEST_RUN(test_row_group_targets_split_the_file);
    MERU_TEST_RUN(test_row_profile_bounds_a_row_group);
    MERU_TEST_RUN(test_footer_has_schema_field_ids_kv_and_created_by);
    MERU_TEST_RUN(test_empty_file_is_valid);
    MERU_TEST_RUN(test_stats_cut_keeps_utf8_and_bounds);
    MERU_TEST_RUN(test_huge_values_get_small_bounds);
    return meru_test_finish();
}
