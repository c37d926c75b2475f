/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_reader.c — reader behaviours on files our writer makes: seeks
 * through the offset index land on the right row and skip pages; seeks
 * without a page index too; page pruning from the column index and
 * row-group pruning from statistics; bloom filters find every key and
 * reject most absent ones; a flipped byte in a page is a CRC error naming
 * the column; truncated and byte-corrupted files fail cleanly; nested
 * schemas are refused with the column named; fd sources and projection.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parquet/meta.h"
#include "parquet/pq.h"
#include "test.h"
#include "test_pq.h"
#include "util/arena.h"
#include "util/endian.h"

typedef struct mfile {
    meru_buf buf;
    pq_mem mem;
    pq_source src;
    pq_reader *r;
} mfile;

/* key int64 = i * 2 (sorted), val string "v<i>" (nullable: every 7th
 * null), d double. */
static int make_keyed(mfile *f, size_t n, const pq_writer_options *o)
{
    memset(f, 0, sizeof *f);
    int64_t *k = malloc(n * 8 + 8);
    double *d = malloc(n * 8 + 8);
    pq_bytes *s = malloc(n * sizeof *s + 16);
    uint8_t *valid = malloc(n + 1);
    char *heap = malloc(n * 16 + 16);
    for (size_t i = 0; i < n; i++) {
        k[i] = (int64_t)i * 2;
        d[i] = (double)i / 4;
        int l = snprintf(heap + i * 16, 16, "v%zu", i);
        s[i] = (pq_bytes){(const uint8_t *)heap + i * 16, (uint32_t)l};
        valid[i] = i % 7 != 3;
    }
    pq_column_spec specs[3] = {
        {.name = "key",
         .type = PQ_INT64,
         .has_field_id = true,
         .field_id = 1,
         .bloom_filter = true},
        {.name = "val",
         .type = PQ_BYTE_ARRAY,
         .repetition = PQ_OPTIONAL,
         .has_field_id = true,
         .field_id = 2,
         .logical = {.kind = PQ_LT_STRING}},
        {.name = "d", .type = PQ_DOUBLE, .has_field_id = true, .field_id = 3},
    };
    pq_column_data cd[3] = {{k, NULL}, {s, valid}, {d, NULL}};
    int rc = meru_test_pq_write_buf(&f->buf, specs, 3, o, n, cd);
    free(k);
    free(d);
    free(s);
    free(valid);
    free(heap);
    if (rc)
        return rc;
    pq_source_mem(&f->src, &f->mem, f->buf.data, f->buf.len);
    return pq_reader_open(&f->r, &f->src, NULL);
}

static void mfile_free(mfile *f)
{
    pq_reader_close(f->r);
    meru_buf_free(&f->buf);
}

static void test_seek_with_offset_index_lands_on_row_and_skips_pages(void)
{
    enum { N = 50000 };
    pq_writer_options o;
    pq_writer_options_row(&o);
    o.page_size = 1024;
    mfile f;
    CHECK_OK(make_keyed(&f, N, &o));
    const pq_offset_index *oi;
    CHECK_OK(pq_reader_offset_index(f.r, 0, 0, &oi));
    CHECK(oi && oi->n_pages > 100);
    for (int t = 0; t < 200; t++) {
        int64_t row = (int64_t)(meru_test_rand() % N);
        for (uint32_t col = 0; col < 2; col++) {
            pq_cursor *c;
            CHECK_OK(pq_cursor_open(f.r, 0, col, &c));
            CHECK_OK(pq_cursor_seek(c, row));
            pq_batch b;
            CHECK_OK(pq_cursor_next(c, 2, &b));
            CHECK(b.n >= 1);
            if (col == 0) {
                CHECK_EQ_INT(((const int64_t *)b.values)[0], row * 2);
            } else {
                CHECK_EQ_INT(b.valid[0], row % 7 != 3);
                if (b.valid[0]) {
                    char want[16];
                    int l =
                        snprintf(want, sizeof want, "v%lld", (long long)row);
                    const pq_bytes *x = b.values;
                    CHECK(x->len == (uint32_t)l && !memcmp(x->ptr, want, l));
                }
            }
            pq_cursor_stats st;
            pq_cursor_get_stats(c, &st);
            CHECK(st.pages_read >= 1 && st.pages_read <= 2);
            if (row > 2000)
                CHECK(st.pages_skipped > 0);
            CHECK(st.bytes_read < 64 * 1024);
            pq_cursor_close(c);
        }
    }
    /* seek backwards and to the end on one cursor */
    pq_cursor *c;
    CHECK_OK(pq_cursor_open(f.r, 0, 0, &c));
    int64_t order[] = {40000, 10, 39999, 0, N - 1, N};
    for (int i = 0; i < 6; i++) {
        CHECK_OK(pq_cursor_seek(c, order[i]));
        pq_batch b;
        CHECK_OK(pq_cursor_next(c, 1, &b));
        if (order[i] == N) {
            CHECK_EQ_INT(b.n, 0);
        } else {
            CHECK_EQ_INT(b.n, 1);
            CHECK_EQ_INT(((const int64_t *)b.values)[0], order[i] * 2);
        }
    }
    CHECK_RC(pq_cursor_seek(c, N + 1), MERU_EINVAL);
    pq_cursor_close(c);
    mfile_free(&f);
}

static void test_seek_without_page_index_skips_by_headers(void)
{
    enum { N = 20000 };
    pq_writer_options o;
    pq_writer_options_column(&o);
    o.page_index = false;
    o.page_size = 2048;
    mfile f;
    CHECK_OK(make_keyed(&f, N, &o));
    pq_cursor *c;
    CHECK_OK(pq_cursor_open(f.r, 0, 1, &c)); /* dictionary strings? */
    int64_t rows[] = {15000, 3, 19999, 7000};
    for (int i = 0; i < 4; i++) {
        CHECK_OK(pq_cursor_seek(c, rows[i]));
        pq_batch b;
        CHECK_OK(pq_cursor_next(c, 1, &b));
        CHECK_EQ_INT(b.valid[0], rows[i] % 7 != 3);
    }
    pq_cursor_stats st;
    pq_cursor_get_stats(c, &st);
    CHECK(st.pages_skipped > 0);
    pq_cursor_close(c);
    CHECK_OK(pq_cursor_open(f.r, 0, 0, &c));
    CHECK_OK(pq_cursor_seek(c, 12345));
    pq_batch b;
    CHECK_OK(pq_cursor_next(c, 1, &b));
    CHECK_EQ_INT(((const int64_t *)b.values)[0], 12345 * 2);
    pq_cursor_close(c);
    mfile_free(&f);
}

static void test_page_and_row_group_pruning(void)
{
    enum { N = 30000 };
    pq_writer_options o;
    pq_writer_options_row(&o);
    o.row_group_rows = 10000;
    mfile f;
    CHECK_OK(make_keyed(&f, N, &o));
    CHECK_EQ_INT(pq_reader_num_row_groups(f.r), 3);
    uint8_t key[8];
    meru_store_le64(key, 2 * 15000); /* row 15000: row group 1 */
    CHECK(!pq_reader_chunk_may_contain(f.r, 0, 0, key, 8));
    CHECK(pq_reader_chunk_may_contain(f.r, 1, 0, key, 8));
    CHECK(!pq_reader_chunk_may_contain(f.r, 2, 0, key, 8));
    int64_t b, e;
    CHECK_OK(pq_reader_pages_for_value(f.r, 1, 0, key, 8, &b, &e));
    CHECK(b <= 5000 && 5000 < e);
    CHECK(e - b <= 1024);    /* one 8 KiB page of int64 */
    meru_store_le64(key, 7); /* odd: inside the range, absent */
    CHECK(pq_reader_chunk_may_contain(f.r, 0, 0, key, 8));
    meru_store_le64(key, (uint64_t)-5); /* below every key */
    CHECK_OK(pq_reader_pages_for_value(f.r, 0, 0, key, 8, &b, &e));
    CHECK_EQ_INT(e - b, 0);
    pq_bytes lo, hi;
    CHECK(pq_reader_chunk_minmax(f.r, 2, 0, &lo, &hi));
    CHECK_EQ_INT((int64_t)meru_load_le64(lo.ptr), 40000);
    CHECK_EQ_INT((int64_t)meru_load_le64(hi.ptr), 59998);
    /* string column: unsigned byte order, nulls counted */
    CHECK(pq_reader_chunk_null_count(f.r, 0, 1) > 0);
    mfile_free(&f);
}

static void test_bloom_finds_every_key_and_rejects_most_absent(void)
{
    enum { N = 20000 };
    pq_writer_options o;
    pq_writer_options_column(&o);
    mfile f;
    CHECK_OK(make_keyed(&f, N, &o));
    CHECK(pq_reader_has_bloom(f.r, 0, 0));
    CHECK(!pq_reader_has_bloom(f.r, 0, 1));
    int fp = 0;
    for (int64_t i = 0; i < N; i++) {
        uint8_t key[8];
        bool maybe;
        meru_store_le64(key, (uint64_t)(i * 2));
        CHECK_OK(pq_reader_bloom_check(f.r, 0, 0, key, 8, &maybe));
        CHECK_MSG(maybe, "key %lld missing from the bloom filter",
                  (long long)(i * 2));
        meru_store_le64(key, (uint64_t)(i * 2 + 1));
        CHECK_OK(pq_reader_bloom_check(f.r, 0, 0, key, 8, &maybe));
        fp += maybe;
    }
    /* fpp 1%: allow 3% */
    CHECK_MSG(fp < N * 3 / 100, "%d false positives in %d", fp, N);
    /* a column without a filter never rules anything out */
    bool maybe;
    CHECK_OK(pq_reader_bloom_check(f.r, 0, 1, "zz", 2, &maybe));
    CHECK(maybe);
    mfile_free(&f);
}

static void test_flipped_page_byte_is_crc_error_naming_column(void)
{
    enum { N = 3000 };
    pq_writer_options o;
    pq_writer_options_row(&o);
    mfile f;
    CHECK_OK(make_keyed(&f, N, &o));
    const pq_offset_index *oi;
    CHECK_OK(pq_reader_offset_index(f.r, 0, 2, &oi)); /* column d */
    CHECK(oi && oi->n_pages > 1);
    int64_t at = oi->page_locations[1].offset +
                 oi->page_locations[1].compressed_page_size - 3;
    pq_reader_close(f.r);
    f.buf.data[at] ^= 0x40;
    CHECK_OK(pq_reader_open(&f.r, &f.src, NULL));
    pq_cursor *c;
    CHECK_OK(pq_cursor_open(f.r, 0, 2, &c));
    int rc = 0;
    for (;;) {
        pq_batch b;
        rc = pq_cursor_next(c, 100, &b);
        if (rc || !b.n)
            break;
    }
    CHECK_RC(rc, MERU_ECORRUPT);
    CHECK_ERRMSG("page CRC mismatch in column d row group 0 at offset");
    pq_cursor_close(c);
    /* the other columns are intact */
    CHECK_OK(pq_cursor_open(f.r, 0, 0, &c));
    pq_batch b;
    CHECK_OK(pq_cursor_next(c, N, &b));
    CHECK_EQ_INT(b.n, N);
    pq_cursor_close(c);
    /* with verification off the page decodes (to a changed value) */
    pq_reader_close(f.r);
    pq_reader_options ro = {.skip_crc = true};
    CHECK_OK(pq_reader_open(&f.r, &f.src, &ro));
    CHECK_OK(pq_cursor_open(f.r, 0, 2, &c));
    CHECK_OK(pq_cursor_next(c, N, &b));
    CHECK_EQ_INT(b.n, N);
    pq_cursor_close(c);
    mfile_free(&f);
}

/* The first value of the page holding `row` of column d, read by a fresh
 * cursor that seeks there (through the offset index). */
static int seek_read(pq_reader *r, int64_t row, double *v)
{
    pq_cursor *c;
    int rc = pq_cursor_open(r, 0, 2, &c);
    if (rc)
        return rc;
    rc = pq_cursor_seek(c, row);
    pq_batch b;
    if (!rc)
        rc = pq_cursor_next(c, 1, &b);
    if (!rc)
        *v = b.n ? ((const double *)b.values)[0] : -1;
    pq_cursor_close(c);
    return rc;
}

/* A page read in place has its CRC verified once per reader (the bytes do
 * not change under it): a page that failed is reported on every read, a
 * page that passed is not verified again. Read through read_at, every
 * read verifies. */
static void test_page_crc_is_verified_once_per_page_in_place(void)
{
    enum { N = 3000 };
    pq_writer_options o;
    pq_writer_options_row(&o);
    mfile f;
    CHECK_OK(make_keyed(&f, N, &o));
    const pq_offset_index *oi;
    CHECK_OK(pq_reader_offset_index(f.r, 0, 2, &oi));
    CHECK(oi && oi->n_pages > 2);
    int64_t row1 = oi->page_locations[1].first_row_index;
    int64_t row2 = oi->page_locations[2].first_row_index;
    int64_t at1 = oi->page_locations[1].offset +
                  oi->page_locations[1].compressed_page_size - 3;
    int64_t at2 = oi->page_locations[2].offset +
                  oi->page_locations[2].compressed_page_size - 3;
    double v;
    /* page 1 broken before any read: reported each time */
    f.buf.data[at1] ^= 0x40;
    for (int i = 0; i < 2; i++) {
        CHECK_RC(seek_read(f.r, row1, &v), MERU_ECORRUPT);
        CHECK_ERRMSG("page CRC mismatch in column d row group 0 at offset");
    }
    /* page 2 verified by a read, then changed: not verified again */
    CHECK_OK(seek_read(f.r, row2, &v));
    CHECK(v == (double)row2 / 4);
    f.buf.data[at2] ^= 0x40;
    CHECK_OK(seek_read(f.r, row2, &v));
    /* a reader copying through read_at verifies every read */
    pq_source copied = f.src;
    copied.base = NULL;
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &copied, NULL));
    CHECK_RC(seek_read(r, row1, &v), MERU_ECORRUPT);
    CHECK_RC(seek_read(r, row2, &v), MERU_ECORRUPT);
    pq_reader_close(r);
    mfile_free(&f);
}

/* Opens and reads everything; returns the first error (0 if none). With
 * in_place false the source has no base, so the reader copies through
 * read_at (the pread path) instead of decoding the bytes in place. */
static int read_everything_from(const uint8_t *p, size_t n, bool in_place)
{
    pq_mem mem;
    pq_source src;
    pq_source_mem(&src, &mem, p, n);
    if (!in_place)
        src.base = NULL;
    pq_reader *r;
    int rc = pq_reader_open(&r, &src, NULL);
    if (rc)
        return rc;
    for (uint32_t g = 0; !rc && g < pq_reader_num_row_groups(r); g++)
        for (uint32_t c = 0; !rc && c < pq_reader_num_columns(r); c++) {
            pq_cursor *cur;
            rc = pq_cursor_open(r, g, c, &cur);
            while (!rc) {
                pq_batch b;
                rc = pq_cursor_next(cur, 64, &b);
                if (!b.n)
                    break;
            }
            if (!rc)
                rc = pq_cursor_seek(cur, pq_reader_row_group_rows(r, g) / 2);
            pq_cursor_close(cur);
            const pq_column_index *ci;
            bool maybe;
            int64_t b0, e0;
            if (!rc)
                rc = pq_reader_column_index(r, g, c, &ci);
            if (!rc)
                rc = pq_reader_bloom_check(r, g, c, "12345678", 8, &maybe);
            if (!rc)
                rc =
                    pq_reader_pages_for_value(r, g, c, "12345678", 8, &b0, &e0);
        }
    pq_reader_close(r);
    return rc;
}

/* Both ways of reading agree on what is wrong with a file: *rc is the
 * status of both (a disagreement fails the test). */
static void read_everything(const uint8_t *p, size_t n, int *rc)
{
    *rc = read_everything_from(p, n, true);
    int copied = read_everything_from(p, n, false);
    CHECK_MSG(copied == *rc, "in place: status %d, copied: status %d", *rc,
              copied);
}

static void test_truncated_and_corrupted_files_fail_cleanly(void)
{
    enum { N = 60 };
    pq_writer_options o;
    pq_writer_options_column(&o);
    o.page_size = 128;
    mfile f;
    CHECK_OK(make_keyed(&f, N, &o));
    pq_reader_close(f.r);
    f.r = NULL;
    size_t n = f.buf.len;
    CHECK(n < 8192);
    int rc;
    read_everything(f.buf.data, n, &rc);
    CHECK_OK(rc);
    uint8_t *copy = malloc(n);
    for (size_t len = 0; len < n; len++) {
        memcpy(copy, f.buf.data,
               len); /* exact-size copy: ASan sees overreads */
        read_everything(copy, len, &rc);
        CHECK_MSG(rc == MERU_ECORRUPT, "truncated to %zu: status %d", len, rc);
    }
    /* flip each byte in turn: an error or a clean read, never a crash */
    int errors = 0;
    size_t step = meru_test_scale() >= 1 ? 1 : 3;
    for (size_t i = 0; i < n; i += step) {
        memcpy(copy, f.buf.data, n);
        copy[i] ^= 0xa5;
        read_everything(copy, n, &rc);
        CHECK_MSG(rc == 0 || rc == MERU_ECORRUPT || rc == MERU_ENOTSUP,
                  "flip at %zu: status %d (%s)", i, rc, meru_errmsg());
        errors += rc != 0;
    }
    CHECK(errors > 0);
    free(copy);
    mfile_free(&f);
}

static void test_nested_schema_is_refused_naming_the_column(void)
{
    /* a footer with a struct column a { b } and a flat column c */
    pq_schema_element s[4];
    memset(s, 0, sizeof s);
    s[0].name = "schema";
    s[0].has_num_children = true;
    s[0].num_children = 2;
    s[1].name = "a";
    s[1].has_num_children = true;
    s[1].num_children = 1;
    s[1].has_repetition = true;
    s[1].repetition_type = PQ_OPTIONAL;
    s[2].name = "b";
    s[2].has_type = true;
    s[2].type = PQ_INT32;
    s[2].has_repetition = true;
    s[2].repetition_type = PQ_OPTIONAL;
    s[3].name = "c";
    s[3].has_type = true;
    s[3].type = PQ_INT32;
    s[3].has_repetition = true;
    s[3].repetition_type = PQ_REQUIRED;
    pq_file_meta fm;
    memset(&fm, 0, sizeof fm);
    fm.version = 1;
    fm.schema = s;
    fm.n_schema = 4;
    meru_buf b = {0};
    CHECK_OK(meru_buf_append(&b, "PAR1", 4));
    size_t at = b.len;
    CHECK_OK(pq_encode_file_meta(&b, &fm));
    uint8_t tail[8];
    meru_store_le32(tail, (uint32_t)(b.len - at));
    memcpy(tail + 4, "PAR1", 4);
    CHECK_OK(meru_buf_append(&b, tail, 8));
    pq_mem mem;
    pq_source src;
    pq_source_mem(&src, &mem, b.data, b.len);
    pq_reader *r;
    CHECK_RC(pq_reader_open(&r, &src, NULL), MERU_ENOTSUP);
    CHECK_ERRMSG("nested schemas are not supported (column a.b)");
    /* a repeated leaf is nested too */
    s[0].num_children = 1;
    s[1] = s[3];
    s[1].name = "r";
    s[1].repetition_type = PQ_REPEATED;
    fm.n_schema = 2;
    meru_buf_reset(&b);
    CHECK_OK(meru_buf_append(&b, "PAR1", 4));
    CHECK_OK(pq_encode_file_meta(&b, &fm));
    meru_store_le32(tail, (uint32_t)(b.len - 4));
    CHECK_OK(meru_buf_append(&b, tail, 8));
    pq_source_mem(&src, &mem, b.data, b.len);
    CHECK_RC(pq_reader_open(&r, &src, NULL), MERU_ENOTSUP);
    CHECK_ERRMSG("column r");
    meru_buf_free(&b);
}

static void test_fd_source_and_lookup_by_name_and_field_id(void)
{
    const char *dir = meru_test_tmpdir("pq_reader_fd");
    char path[512];
    snprintf(path, sizeof path, "%s/t.parquet", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    CHECK(fd >= 0);
    pq_sink sink;
    pq_sink_fd(&sink, fd);
    pq_column_spec s[2] = {
        {.name = "a", .type = PQ_INT32, .has_field_id = true, .field_id = 10},
        {.name = "b", .type = PQ_INT32, .has_field_id = true, .field_id = 20}};
    int32_t a[3] = {1, 2, 3}, bb[3] = {4, 5, 6};
    pq_column_data cd[2] = {{a, NULL}, {bb, NULL}};
    pq_writer *w;
    CHECK_OK(pq_writer_open(&w, &sink, s, 2, NULL));
    CHECK_OK(pq_writer_write(w, 3, cd));
    uint64_t size;
    CHECK_OK(pq_writer_close(w, &size));
    CHECK_EQ_INT(lseek(fd, 0, SEEK_END), size);
    pq_source src;
    CHECK_OK(pq_source_fd(&src, fd));
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &src, NULL));
    int col = pq_reader_find_field_id(r, 20);
    CHECK_EQ_INT(col, 1);
    CHECK_EQ_INT(pq_reader_find_column(r, "a"), 0);
    CHECK_EQ_INT(pq_reader_find_column(r, "zz"), -1);
    pq_cursor *c;
    CHECK_OK(pq_cursor_open(r, 0, (uint32_t)col, &c));
    pq_batch b;
    CHECK_OK(pq_cursor_next(c, 10, &b));
    CHECK_EQ_INT(b.n, 3);
    CHECK_EQ_INT(((const int32_t *)b.values)[2], 6);
    pq_cursor_close(c);
    CHECK_RC(pq_cursor_open(r, 0, 5, &c), MERU_EINVAL);
    pq_reader_close(r);
    close(fd);
}

static void test_batches_spanning_pages_keep_strings_valid(void)
{
    enum { N = 5000 };
    pq_writer_options o;
    pq_writer_options_row(&o);
    o.page_size = 256; /* ~30 strings per page */
    mfile f;
    CHECK_OK(make_keyed(&f, N, &o));
    pq_cursor *c;
    CHECK_OK(pq_cursor_open(f.r, 0, 1, &c));
    size_t row = 0;
    while (row < N) {
        pq_batch b;
        CHECK_OK(pq_cursor_next(c, 1000, &b));
        CHECK(b.n > 0);
        for (size_t i = 0; i < b.n; i++) {
            size_t rr = row + i;
            CHECK_EQ_INT(b.valid[i], rr % 7 != 3);
            if (!b.valid[i])
                continue;
            char want[16];
            int l = snprintf(want, sizeof want, "v%zu", rr);
            const pq_bytes *x = (const pq_bytes *)b.values + i;
            CHECK(x->len == (uint32_t)l && !memcmp(x->ptr, want, l));
        }
        row += b.n;
    }
    CHECK_EQ_INT(row, N);
    pq_cursor_close(c);
    mfile_free(&f);
}

int main(void)
{
    MERU_TEST_RUN(test_seek_with_offset_index_lands_on_row_and_skips_pages);
    MERU_TEST_RUN(test_seek_without_page_index_skips_by_headers);
    MERU_TEST_RUN(test_page_and_row_group_pruning);
    MERU_TEST_RUN(test_bloom_finds_every_key_and_rejects_most_absent);
    MERU_TEST_RUN(test_flipped_page_byte_is_crc_error_naming_column);
    MERU_TEST_RUN(test_page_crc_is_verified_once_per_page_in_place);
    MERU_TEST_RUN(test_truncated_and_corrupted_files_fail_cleanly);
    MERU_TEST_RUN(test_nested_schema_is_refused_naming_the_column);
    MERU_TEST_RUN(test_fd_source_and_lookup_by_name_and_field_id);
    MERU_TEST_RUN(test_batches_spanning_pages_keep_strings_valid);
    return meru_test_finish();
}
