/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sst_format.c — the shape of an SST file: each per-level option knob
 * (page sizes and row caps, string and number page lengths, compression,
 * row groups, zstd level) changes the written file and the file still
 * reads back; and the file is plain Parquet to any reader (columns in
 * order with names, field ids and types, bloom filters on the key columns,
 * footer metadata). Reading through get and the iterator is in test_sst.c.
 */
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "parquet/pq.h"
#include "sst/sst.h"
#include "sst/sst_internal.h"
#include "sst_model.h"
#include "sst_test.h"
#include "test.h"
#include "types/keycodec.h"
#include "types/rowcodec.h"
#include "util/fs.h"
#include "support/fs_fault.h"

/* -------------------------------------------------------------- options */

static int write_with(const sst_model *m, const meru_schema *s, const char *dir,
                      const char *name, int level, const meru_options *to,
                      file_shape *shape)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    meru_sst_options o;
    meru_sst_options_for_level(&o, level, to);
    int rc = sst_model_write(m, meru_fs_posix(), path, s, &o, NULL);
    if (!rc)
        rc = shape_of(path, shape);
    return rc;
}

static void test_options_for_level_knobs_change_the_file(void)
{
    meru_schema *s = schema_composite();
    CHECK(s);
    const char *dir = meru_test_tmpdir("knobs");
    sst_model *m = sst_model_make(s, 4000, 1, 0, 0);
    CHECK(m);
    meru_options to;
    file_shape a, b;
    meru_sst *t0;

    /* defaults: L0 row profile in LZ4_RAW, L1 ZSTD */
    meru_sst_options o;
    meru_sst_options_for_level(&o, 0, NULL);
    CHECK_EQ_INT(o.level, 0);
    CHECK_EQ_INT(o.pq.profile, PQ_PROFILE_ROW);
    CHECK_EQ_INT(o.pq.page_size, 8192);
    CHECK_EQ_INT(o.pq.codec, PQ_CODEC_LZ4_RAW);
    meru_sst_options_for_level(&o, 3, NULL);
    CHECK_EQ_INT(o.level, 3);
    CHECK_EQ_INT(o.pq.profile, PQ_PROFILE_COLUMN);
    CHECK_EQ_INT(o.pq.codec, PQ_CODEC_ZSTD);
    CHECK_EQ_INT(o.pq.codec_level, 3);
    CHECK_EQ_U64(o.pq.row_group_bytes, (uint64_t)8 << 20);

    /* l0_page_bytes: smaller pages, more of them */
    meru_options_init(&to);
    CHECK_OK(write_with(m, s, dir, "p8k", 0, &to, &a));
    to.l0_page_bytes = 2048;
    CHECK_OK(write_with(m, s, dir, "p2k", 0, &to, &b));
    CHECK(b.ikey_pages > 2 * a.ikey_pages);

    /* l0_compression */
    CHECK_EQ_INT(a.codec, PQ_CODEC_LZ4_RAW);
    meru_options_init(&to);
    to.l0_compression = MERU_COMPRESSION_SNAPPY;
    CHECK_OK(write_with(m, s, dir, "l0snappy", 0, &to, &b));
    CHECK_EQ_INT(b.codec, PQ_CODEC_SNAPPY);
    to.l0_compression = MERU_COMPRESSION_NONE;
    CHECK_OK(write_with(m, s, dir, "l0none", 0, &to, &b));
    CHECK_EQ_INT(b.codec, PQ_CODEC_UNCOMPRESSED);

    /* page_bytes at L1 */
    meru_options_init(&to);
    to.page_bytes = 64 * 1024;
    CHECK_OK(write_with(m, s, dir, "l1p64", 1, &to, &a));
    to.page_bytes = 4096;
    CHECK_OK(write_with(m, s, dir, "l1p4", 1, &to, &b));
    CHECK(b.ikey_pages > 2 * a.ikey_pages);

    /* page_rows at L1: the row cap ends pages that page_bytes would not */
    meru_options_init(&to);
    to.page_bytes = 1u << 20;
    to.page_rows = 1u << 20;
    CHECK_OK(write_with(m, s, dir, "l1rows_big", 1, &to, &b));
    CHECK_EQ_U64(b.ikey_pages, 1);
    to.page_rows = 500;
    CHECK_OK(write_with(m, s, dir, "l1rows_500", 1, &to, &b));
    CHECK_EQ_U64(b.ikey_pages, (4000 + 499) / 500);

    /* string_page_bytes at L1: short pages for the string/binary value
     * column w (file column 7) only; the string key k1 (3), the double v
     * (6) and the internal key keep page_bytes */
    meru_options_init(&to);
    CHECK_EQ_INT(to.string_page_bytes, 2048);
    to.string_page_bytes = 16u << 20;
    CHECK_OK(write_with(m, s, dir, "l1s_big", 1, &to, &a));
    to.string_page_bytes = 1024;
    CHECK_OK(write_with(m, s, dir, "l1s_1k", 1, &to, &b));
    CHECK(a.pages[7] >= 1);
    CHECK(b.pages[7] > 4 * a.pages[7]);
    CHECK_EQ_U64(b.pages[3], a.pages[3]);
    CHECK_EQ_U64(b.pages[6], a.pages[6]);
    CHECK_EQ_U64(b.ikey_pages, a.ikey_pages);
    meru_sst_options_for_level(&o, 0, &to);
    CHECK_EQ_INT(o.string_page_bytes, 0); /* L0: l0_page_bytes everywhere */
    meru_sst_options_for_level(&o, 1, &to);
    CHECK_EQ_INT(o.string_page_bytes, 1024);
    CHECK_OK(
        meru_sst_open(&t0, meru_fs_posix(), path_in(dir, "l1s_1k"), s, NULL));
    CHECK(scan_matches(t0, m));
    meru_sst_close(t0);

    /* number_page_bytes at L1: its own page length for the number value
     * column v (file column 6) only; the int32 key k3 (5), the binary w
     * (7) and the internal key keep theirs */
    meru_options_init(&to);
    CHECK_EQ_INT(to.number_page_bytes, 256 * 1024);
    to.number_page_bytes = 16u << 20;
    CHECK_OK(write_with(m, s, dir, "l1n_big", 1, &to, &a));
    to.number_page_bytes = 1024;
    CHECK_OK(write_with(m, s, dir, "l1n_1k", 1, &to, &b));
    CHECK_EQ_U64(a.pages[6], 1);
    CHECK(b.pages[6] > 16 * a.pages[6]);
    CHECK_EQ_U64(b.pages[5], a.pages[5]);
    CHECK_EQ_U64(b.pages[7], a.pages[7]);
    CHECK_EQ_U64(b.ikey_pages, a.ikey_pages);
    meru_sst_options_for_level(&o, 0, &to);
    CHECK_EQ_INT(o.number_page_bytes, 0); /* L0: l0_page_bytes everywhere */
    meru_sst_options_for_level(&o, 1, &to);
    CHECK_EQ_INT(o.number_page_bytes, 1024);
    CHECK_OK(
        meru_sst_open(&t0, meru_fs_posix(), path_in(dir, "l1n_1k"), s, NULL));
    CHECK(scan_matches(t0, m));
    meru_sst_close(t0);

    /* the row cap of number value columns goes with number_page_bytes (of
     * 8-byte values), not page_rows: page_rows 500 cuts the internal key
     * into 8 pages and leaves v's 4000 doubles (32 KB) in one page;
     * number_page_bytes 8 KiB ends v's pages at 1024 rows */
    meru_options_init(&to);
    to.page_rows = 500;
    CHECK_OK(write_with(m, s, dir, "l1n_rows", 1, &to, &a));
    CHECK(a.ikey_pages >= 8);
    CHECK_EQ_U64(a.pages[6], 1);
    to.number_page_bytes = 8192;
    CHECK_OK(write_with(m, s, dir, "l1n_8k", 1, &to, &b));
    CHECK_EQ_U64(b.pages[6], (4000 + 1023) / 1024);
    CHECK_OK(
        meru_sst_open(&t0, meru_fs_posix(), path_in(dir, "l1n_rows"), s, NULL));
    CHECK(scan_matches(t0, m));
    meru_sst_close(t0);

    /* compression at L1 */
    meru_options_init(&to);
    CHECK_OK(write_with(m, s, dir, "l1zstd", 1, &to, &a));
    CHECK_EQ_INT(a.codec, PQ_CODEC_ZSTD);
    meru_options_init(&to);
    to.compression = MERU_COMPRESSION_GZIP;
    CHECK_OK(write_with(m, s, dir, "l1gz", 1, &to, &b));
    CHECK_EQ_INT(b.codec, PQ_CODEC_GZIP);
    to.compression = MERU_COMPRESSION_LZ4_RAW;
    CHECK_OK(write_with(m, s, dir, "l1lz4", 1, &to, &b));
    CHECK_EQ_INT(b.codec, PQ_CODEC_LZ4_RAW);
    to.compression = MERU_COMPRESSION_NONE;
    CHECK_OK(write_with(m, s, dir, "l1none", 1, &to, &b));
    CHECK_EQ_INT(b.codec, PQ_CODEC_UNCOMPRESSED);

    /* row_group_bytes at L1 */
    CHECK_EQ_INT(a.row_groups, 1);
    meru_options_init(&to);
    to.row_group_bytes = 16 * 1024;
    to.page_bytes = 4096;
    CHECK_OK(write_with(m, s, dir, "l1rg", 1, &to, &b));
    CHECK(b.row_groups > 3);

    /* zstd_level: passed through, and the bytes differ */
    meru_options_init(&to);
    to.zstd_level = 1;
    meru_sst_options_for_level(&o, 1, &to);
    CHECK_EQ_INT(o.pq.codec_level, 1);
    CHECK_OK(write_with(m, s, dir, "z1", 1, &to, &a));
    to.zstd_level = 19;
    CHECK_OK(write_with(m, s, dir, "z19", 1, &to, &b));
    CHECK(a.size != b.size);

    /* every such file reads back */
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, meru_fs_posix(), path_in(dir, "l1rg"), s, NULL));
    int ok = scan_matches(t, m);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK(ok);
}

/* The file as any Parquet reader sees it: columns in order with names,
 * field ids, types; bloom filters on the key columns; footer metadata. */
static void test_file_is_plain_parquet_with_field_ids(void)
{
    meru_schema *s = schema_all();
    CHECK(s);
    const char *path = path_in(meru_test_tmpdir("pq"), "f.parquet");
    sst_model *m = sst_model_make(s, 100, 1, 10, 10);
    CHECK(m);
    meru_sst_options o;
    meru_sst_options_for_level(&o, 2, NULL);
    CHECK_OK(sst_model_write(m, meru_fs_posix(), path, s, &o, NULL));
    size_t n;
    uint8_t *bytes = meru_test_read_file(path, &n);
    CHECK(bytes);
    pq_mem mem;
    pq_source src;
    pq_source_mem(&src, &mem, bytes, n);
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &src, NULL));
    int ok = pq_reader_num_columns(r) == 3 + s->ncols;
    const pq_column_info *c = pq_reader_column(r, 0);
    ok &= strcmp(c->name, MERU_SST_COL_IKEY) == 0 && c->has_field_id &&
          c->field_id == MERU_SST_FIELD_ID_IKEY && c->type == PQ_BYTE_ARRAY;
    c = pq_reader_column(r, 1);
    ok &= strcmp(c->name, MERU_SST_COL_SEQ) == 0 &&
          c->field_id == MERU_SST_FIELD_ID_SEQ && c->type == PQ_INT64;
    c = pq_reader_column(r, 2);
    ok &= strcmp(c->name, MERU_SST_COL_OP) == 0 &&
          c->field_id == MERU_SST_FIELD_ID_OP && c->type == PQ_INT32;
    for (size_t i = 0; ok && i < s->ncols; i++) {
        c = pq_reader_column(r, 3 + (uint32_t)i);
        ok &= strcmp(c->name, s->cols[i].name) == 0 && c->has_field_id &&
              c->field_id == s->cols[i].field_id;
        ok &= c->repetition ==
              (s->cols[i].key_position >= 0 ? PQ_REQUIRED : PQ_OPTIONAL);
        ok &= pq_reader_has_bloom(r, 0, 3 + (uint32_t)i) ==
              (s->cols[i].key_position >= 0);
    }
    /* a few type mappings */
    c = pq_reader_column(r, 3 + 6); /* s */
    ok &= c->type == PQ_BYTE_ARRAY && c->logical.kind == PQ_LT_STRING;
    c = pq_reader_column(r, 3 + 10); /* ts */
    ok &= c->type == PQ_INT64 && c->logical.kind == PQ_LT_TIMESTAMP &&
          !c->logical.is_adjusted_to_utc && c->logical.unit == PQ_UNIT_MICROS;
    c = pq_reader_column(r, 3 + 11); /* tz */
    ok &= c->logical.kind == PQ_LT_TIMESTAMP && c->logical.is_adjusted_to_utc;
    c = pq_reader_column(r, 3 + 9); /* dt */
    ok &= c->type == PQ_INT32 && c->logical.kind == PQ_LT_DATE;
    c = pq_reader_column(r, 3 + 12); /* dec(10,2) */
    ok &= c->type == PQ_INT64 && c->logical.kind == PQ_LT_DECIMAL &&
          c->logical.decimal_precision == 10 && c->logical.decimal_scale == 2;
    c = pq_reader_column(r, 3 + 13); /* dec(5,1) */
    ok &= c->type == PQ_INT32 && c->logical.kind == PQ_LT_DECIMAL;
    c = pq_reader_column(r, 3 + 14); /* dec(38,4) */
    ok &= c->type == PQ_FIXED_LEN_BYTE_ARRAY && c->type_length == 16 &&
          c->logical.decimal_precision == 38;
    c = pq_reader_column(r, 3 + 8); /* fx */
    ok &= c->type == PQ_FIXED_LEN_BYTE_ARRAY && c->type_length == 4;
    ok &= pq_reader_num_rows(r) == (int64_t)m->n;
    const pq_file_meta *fm = pq_reader_meta(r);
    int found = 0;
    for (uint32_t i = 0; i < fm->n_key_value_metadata; i++) {
        const pq_key_value *kv = &fm->key_value_metadata[i];
        if (strcmp(kv->key, "merutable.level") == 0)
            found += kv->value.len == 1 && kv->value.ptr[0] == '2';
        else if (strcmp(kv->key, "merutable.schema") == 0)
            found += kv->value.len > 10 && kv->value.ptr[0] == '{';
        else if (strcmp(kv->key, "merutable.format") == 0 ||
                 strcmp(kv->key, "merutable.min-seq") == 0 ||
                 strcmp(kv->key, "merutable.max-seq") == 0 ||
                 strcmp(kv->key, "merutable.smallest-key") == 0 ||
                 strcmp(kv->key, "merutable.largest-key") == 0 ||
                 strcmp(kv->key, "merutable.row-count") == 0)
            found++;
    }
    ok &= found == 8;
    /* the hidden values agree with the keys: read the seq column */
    pq_cursor *cur;
    CHECK_OK(pq_cursor_open(r, 0, 1, &cur));
    pq_batch b;
    CHECK_OK(pq_cursor_next(cur, m->n, &b));
    ok &= b.n == m->n;
    for (size_t i = 0; ok && i < m->n; i++)
        ok &= ((const int64_t *)b.values)[i] == (int64_t)m->e[i].seq;
    pq_cursor_close(cur);
    pq_reader_close(r);
    free(bytes);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK(ok);
}

int main(void)
{
    MERU_TEST_RUN(test_options_for_level_knobs_change_the_file);
    MERU_TEST_RUN(test_file_is_plain_parquet_with_field_ids);
    return meru_test_finish();
}
