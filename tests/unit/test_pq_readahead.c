/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_readahead.c — decode-ahead (pq_readahead, reader_ahead.c): a
 * cursor with a readahead attached returns exactly what a plain cursor
 * returns, batch by batch (zstd and gzip chunks, data pages v1 and v2, an
 * optional string column with nulls and a required number column, several
 * row groups), through long scans, seeks back and forth and reads of a
 * page into an array; the worker really loads pages (pages_ahead > 0: the
 * test fails with the mechanism switched off); a short read starts no
 * thread; a corrupt page is reported with the same status, message and row
 * as without readahead, with and without CRCs (a damaged CRC field too,
 * which only the worker's check sees); a readahead that gets no thread
 * reads on without it and keeps the caller's last error message; closing
 * cursors in the middle of a scan while the worker runs is clean
 * (ASan/TSan).
 *
 * MERU_TEST_CONCURRENT: the readahead runs a worker thread.
 * MERU_TEST_WRAP: pthread_create
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parquet/codec.h"
#include "parquet/meta.h"
#include "parquet/pq.h"
#include "test.h"
#include "test_pq.h"
#include "util/error.h"

enum { N = 40000 };

/* pthread_create fails while set (test_no_thread_keeps_last_error). */
static volatile bool fail_thread_create;

int __real_pthread_create(pthread_t *th, const pthread_attr_t *at,
                          void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *at,
                          void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *at,
                          void *(*fn)(void *), void *arg)
{
    if (fail_thread_create)
        return 11; /* EAGAIN */
    return __real_pthread_create(th, at, fn, arg);
}

typedef struct mfile {
    meru_buf buf;
    pq_mem mem;
    pq_source src;
} mfile;

/* Random letters (zstd has Huffman work to do, as in bench_kv's rows). */
static int make_file(mfile *f, pq_codec codec, int version)
{
    memset(f, 0, sizeof *f);
    int64_t *k = malloc(N * sizeof *k);
    uint8_t *valid = malloc(N);
    pq_bytes *s = malloc(N * sizeof *s);
    char *heap = malloc((size_t)N * 64);
    if (!k || !valid || !s || !heap) {
        free(k);
        free(valid);
        free(s);
        free(heap);
        return MERU_ENOMEM;
    }
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        k[i] = (int64_t)(i * 3);
        valid[i] = i % 7 != 3;
        size_t len = 20 + i % 41;
        for (size_t j = 0; j < len; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            heap[i * 64 + j] = (char)('a' + x % 26);
        }
        s[i] = (pq_bytes){(const uint8_t *)heap + i * 64, (uint32_t)len};
    }
    pq_column_spec specs[2] = {{.name = "k", .type = PQ_INT64},
                               {.name = "s",
                                .type = PQ_BYTE_ARRAY,
                                .repetition = PQ_OPTIONAL,
                                .dictionary = PQ_OPT_OFF}};
    pq_writer_options o;
    pq_writer_options_column(&o);
    o.codec = codec;
    o.data_page_version = version;
    o.page_size = 4096; /* many pages, as bench_kv's strings have */
    o.row_group_bytes = 512u << 10;
    o.codec_min_saving = 0;
    pq_column_data cd[2] = {{k, NULL}, {s, valid}};
    int rc = meru_test_pq_write_buf(&f->buf, specs, 2, &o, N, cd);
    free(k);
    free(valid);
    free(s);
    free(heap);
    if (rc)
        return rc;
    pq_source_mem(&f->src, &f->mem, f->buf.data, f->buf.len);
    return MERU_OK;
}

/* Two batches hold the same rows. */
static bool same_batch(const pq_column_info *ci, const pq_batch *a,
                       const pq_batch *b)
{
    if (a->n != b->n || a->null_count != b->null_count ||
        memcmp(a->valid, b->valid, a->n))
        return false;
    if (ci->type != PQ_BYTE_ARRAY)
        return !memcmp(a->values, b->values, a->n * pq_value_width(ci->type));
    const pq_bytes *x = a->values, *y = b->values;
    for (size_t i = 0; i < a->n; i++)
        if (a->valid[i] &&
            (x[i].len != y[i].len || memcmp(x[i].ptr, y[i].ptr, x[i].len)))
            return false;
    return true;
}

/* A pause now and then: the worker runs ahead of a caller that has other
 * work, which is when it matters (and makes pages_ahead > 0 certain). */
static void pause_a_little(void)
{
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
}

/* Once, as soon as the readahead has started its worker: a pause long
 * enough for a new thread to be scheduled and fill its ring, even on a
 * loaded machine (ctest -j2 under ASan). Without it a worker that has
 * not run yet makes the cursor back off for 64 pages and more, and a
 * scan can end (or reach a damaged page) with nothing taken from it. */
static void let_worker_start(const pq_readahead *ra, bool *done)
{
    if (!ra || *done || !pq_readahead_started(ra))
        return;
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    *done = true;
}

/* Every row group of column `col` read by a plain cursor and by one on
 * `ra`, in batches of `step` rows, with seeks when `seeks`. Adds the
 * readahead cursor's pages_ahead to *ahead. */
static void compare_column(pq_reader *r, uint32_t col, pq_readahead *ra,
                           size_t step, bool seeks, uint64_t *ahead)
{
    const pq_column_info *ci = pq_reader_column(r, col);
    bool waited = false;
    for (uint32_t rg = 0; rg < pq_reader_num_row_groups(r); rg++) {
        int64_t rows = pq_reader_row_group_rows(r, rg);
        pq_cursor *a, *b;
        CHECK_OK(pq_cursor_open(r, rg, col, &a));
        CHECK_OK(pq_cursor_open(r, rg, col, &b));
        pq_cursor_set_readahead(b, ra);
        int64_t at = 0;
        unsigned round = 0;
        while (at < rows) {
            let_worker_start(ra, &waited);
            if (seeks && ++round % 97 == 0) {
                /* back a little, or far ahead */
                at = round % 2 ? (at > 5000 ? at - 5000 : 0)
                               : (at + 3000 < rows ? at + 3000 : at);
                CHECK_OK(pq_cursor_seek(a, at));
                CHECK_OK(pq_cursor_seek(b, at));
            }
            pq_batch x, y;
            CHECK_OK(pq_cursor_next(a, step, &x));
            CHECK_OK(pq_cursor_next(b, step, &y));
            CHECK(same_batch(ci, &x, &y));
            if (x.n == 0)
                break;
            at += (int64_t)x.n;
            if (round % 16 == 0)
                pause_a_little();
        }
        CHECK_EQ_INT(pq_cursor_row(b), rows);
        pq_cursor_stats st;
        pq_cursor_get_stats(b, &st);
        *ahead += st.pages_ahead;
        pq_cursor_close(a);
        pq_cursor_close(b);
    }
}

static void test_same_rows_with_readahead(void)
{
    static const pq_codec codecs[] = {PQ_CODEC_ZSTD, PQ_CODEC_GZIP};
    for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++) {
        if (!pq_codec_supported(codecs[ci], true))
            continue;
        for (int version = 1; version <= 2; version++) {
            mfile f;
            CHECK_OK(make_file(&f, codecs[ci], version));
            pq_reader *r;
            CHECK_OK(pq_reader_open(&r, &f.src, NULL));
            CHECK(pq_reader_num_row_groups(r) > 1);
            pq_readahead *ra;
            CHECK_OK(pq_readahead_new(&ra));
            uint64_t ahead = 0;
            for (uint32_t col = 0; col < 2; col++) {
                compare_column(r, col, ra, 1000, false, &ahead);
                compare_column(r, col, ra, 333, true, &ahead);
            }
            CHECK(pq_readahead_started(ra));
            CHECK_MSG(ahead > 0,
                      "codec %d v%d: no page came from the "
                      "worker",
                      (int)codecs[ci], version);
            pq_readahead_free(ra);
            pq_reader_close(r);
            meru_buf_free(&f.buf);
        }
    }
}

/* Short reads never start the thread; nor does a source without a map. */
static void test_short_read_starts_no_thread(void)
{
    mfile f;
    CHECK_OK(make_file(&f, PQ_CODEC_ZSTD, 2));
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &f.src, NULL));
    pq_readahead *ra;
    CHECK_OK(pq_readahead_new(&ra));
    pq_cursor *c;
    CHECK_OK(pq_cursor_open(r, 0, 1, &c));
    pq_cursor_set_readahead(c, ra);
    pq_batch b;
    for (int i = 0; i < 5; i++) /* 500 rows: ~20 KiB of pages */
        CHECK_OK(pq_cursor_next(c, 100, &b));
    CHECK(!pq_readahead_started(ra));
    pq_cursor_close(c);
    pq_reader_close(r);
    /* through read_at: long scans, no thread either */
    pq_source src = f.src;
    src.base = NULL;
    CHECK_OK(pq_reader_open(&r, &src, NULL));
    CHECK_OK(pq_cursor_open(r, 0, 1, &c));
    pq_cursor_set_readahead(c, ra);
    int64_t rows = pq_reader_row_group_rows(r, 0);
    for (int64_t at = 0; at < rows; at += (int64_t)b.n)
        CHECK_OK(pq_cursor_next(c, 1000, &b));
    CHECK(!pq_readahead_started(ra));
    pq_cursor_close(c);
    pq_reader_close(r);
    pq_readahead_free(ra);
    meru_buf_free(&f.buf);
}

/* Scans column `col` of row group 0 to the end or the first error: the
 * status, the message, the row it stopped at and the pages the readahead
 * loaded. */
static int scan_until_error(pq_reader *r, uint32_t col, pq_readahead *ra,
                            char *msg, size_t msglen, int64_t *row,
                            uint64_t *ahead)
{
    pq_cursor *c;
    int rc = pq_cursor_open(r, 0, col, &c);
    if (rc)
        return rc;
    pq_cursor_set_readahead(c, ra);
    pq_batch b;
    int64_t rows = pq_reader_row_group_rows(r, 0);
    *row = 0;
    /* about a page a batch, a pause after each: the worker, started on
     * the 16th page, is running well before the damaged page */
    bool waited = false;
    while (*row < rows && (rc = pq_cursor_next(c, 100, &b)) == MERU_OK) {
        *row += (int64_t)b.n;
        pause_a_little();
        let_worker_start(ra, &waited);
    }
    snprintf(msg, msglen, "%s", rc ? meru_errmsg() : "");
    pq_cursor_stats st;
    pq_cursor_get_stats(c, &st);
    *ahead = st.pages_ahead;
    pq_cursor_close(c);
    return rc;
}

/* Changes the CRC a page header at p gives (the header stays valid and of
 * the same size): the body still decompresses, so only a CRC check can
 * tell. False when the header has no CRC field where it was looked for. */
static bool corrupt_crc_field(uint8_t *p, size_t avail)
{
    meru_arena *a;
    if (meru_arena_new(&a, 4096))
        return false;
    pq_page_header h, h2;
    size_t used = 0, used2 = 0;
    bool ok = false;
    if (pq_decode_page_header(p, avail, a, &h, &used) == MERU_OK && h.has_crc) {
        /* field 4 (crc, i32) right after field 3: compact header 0x15,
         * then the zigzag varint of the value */
        uint32_t z = ((uint32_t)h.crc << 1) ^ (uint32_t)(h.crc >> 31);
        uint8_t enc[6] = {0x15};
        size_t n = 1;
        do {
            enc[n++] = (uint8_t)((z & 0x7f) | (z > 0x7f ? 0x80 : 0));
            z >>= 7;
        } while (z);
        for (size_t i = 0; i + n <= used && !ok; i++) {
            if (memcmp(p + i, enc, n))
                continue;
            p[i + 1] ^= 0x02; /* a value bit; the varint keeps its length */
            meru_arena_reset(a);
            ok = pq_decode_page_header(p, avail, a, &h2, &used2) == MERU_OK &&
                 used2 == used && h2.has_crc && h2.crc != h.crc;
        }
    }
    meru_arena_free(a);
    return ok;
}

/* A page well past where the readahead starts, damaged so that its CRC
 * does not check: in its body (zstd fails on it too) or in the CRC field
 * of its header (nothing but the CRC check sees it: a worker that skipped
 * it would hand the page over as good). The scan with readahead stops
 * with the same status, message and row as without, after the worker
 * loaded pages; without CRCs both read on alike. */
static void test_corrupt_page_same_error(void)
{
    for (int where = 0; where < 2; where++) {
        mfile f;
        CHECK_OK(make_file(&f, PQ_CODEC_ZSTD, 1 + where));
        pq_reader *r;
        CHECK_OK(pq_reader_open(&r, &f.src, NULL));
        const pq_offset_index *oi;
        CHECK_OK(pq_reader_offset_index(r, 0, 1, &oi));
        CHECK(oi && oi->n_pages > 100);
        if (!oi || oi->n_pages <= 100) {
            pq_reader_close(r);
            meru_buf_free(&f.buf);
            return;
        }
        const pq_page_location *pl = &oi->page_locations[100];
        if (where == 0)
            f.buf.data[pl->offset + pl->compressed_page_size - 1] ^= 0x5a;
        else
            CHECK(corrupt_crc_field(f.buf.data + pl->offset,
                                    (size_t)pl->compressed_page_size));
        pq_reader_close(r);
        for (int skip_crc = 0; skip_crc <= 1; skip_crc++) {
            pq_reader_options ro = {.skip_crc = skip_crc != 0};
            CHECK_OK(pq_reader_open(&r, &f.src, &ro));
            char m1[512], m2[512];
            int64_t row1, row2;
            uint64_t ahead1, ahead2;
            int rc1 = scan_until_error(r, 1, NULL, m1, sizeof m1, &row1,
                                       &ahead1);
            pq_readahead *ra;
            CHECK_OK(pq_readahead_new(&ra));
            int rc2 = scan_until_error(r, 1, ra, m2, sizeof m2, &row2,
                                       &ahead2);
            CHECK(pq_readahead_started(ra));
            pq_readahead_free(ra);
            CHECK_EQ_INT(rc2, rc1);
            CHECK_EQ_INT(row2, row1);
            CHECK_STR(m2, m1);
            CHECK(ahead2 > 0); /* the worker loaded pages before the damage */
            if (!skip_crc) {
                CHECK_EQ_INT(rc1, MERU_ECORRUPT);
                CHECK(strstr(m1, "CRC") != NULL);
            } else if (where == 1) {
                CHECK_OK(rc1); /* the body is good */
            }
            pq_reader_close(r);
        }
        meru_buf_free(&f.buf);
    }
}

/* No thread for the readahead: the scan reads on without it, returns
 * every row, and leaves the caller's last error message as it was (the
 * failure is no error of the read). */
static void test_no_thread_keeps_last_error(void)
{
    mfile f;
    CHECK_OK(make_file(&f, PQ_CODEC_ZSTD, 1));
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &f.src, NULL));
    pq_readahead *ra;
    CHECK_OK(pq_readahead_new(&ra));
    meru_err(MERU_EINVAL, "the caller's own error");
    fail_thread_create = true;
    char msg[512];
    int64_t row;
    uint64_t ahead;
    int rc = scan_until_error(r, 1, ra, msg, sizeof msg, &row, &ahead);
    fail_thread_create = false;
    CHECK_OK(rc);
    CHECK_EQ_INT(row, pq_reader_row_group_rows(r, 0));
    CHECK(!pq_readahead_started(ra));
    CHECK_EQ_INT(ahead, 0);
    CHECK_STR(meru_errmsg(), "the caller's own error");
    pq_readahead_free(ra);
    pq_reader_close(r);
    meru_buf_free(&f.buf);
}

/* Cursors closed in the middle of a scan, while the worker is loading
 * their pages; then the readahead itself, with the worker busy or idle. */
static void test_close_mid_scan(void)
{
    mfile f;
    CHECK_OK(make_file(&f, PQ_CODEC_ZSTD, 2));
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &f.src, NULL));
    for (int round = 0; round < 40; round++) {
        pq_readahead *ra;
        CHECK_OK(pq_readahead_new(&ra));
        pq_cursor *c[2];
        for (uint32_t col = 0; col < 2; col++) {
            CHECK_OK(pq_cursor_open(r, 0, col, &c[col]));
            pq_cursor_set_readahead(c[col], ra);
        }
        pq_batch b;
        for (int i = 0; i < 30 + round * 7; i++)
            for (uint32_t col = 0; col < 2; col++)
                CHECK_OK(pq_cursor_next(c[col], 100, &b));
        if (round % 3 == 1) /* detach one: its stream goes */
            pq_cursor_set_readahead(c[1], NULL);
        pq_cursor_close(c[round % 2]);
        pq_cursor_close(c[1 - round % 2]);
        pq_readahead_free(ra);
    }
    pq_readahead_free(NULL);
    pq_reader_close(r);
    meru_buf_free(&f.buf);
}

int main(void)
{
    MERU_TEST_RUN(test_same_rows_with_readahead);
    MERU_TEST_RUN(test_short_read_starts_no_thread);
    MERU_TEST_RUN(test_corrupt_page_same_error);
    MERU_TEST_RUN(test_no_thread_keeps_last_error);
    MERU_TEST_RUN(test_close_mid_scan);
    return meru_test_finish();
}
