/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_reader_page.c — pq_cursor_read_page, the decode of one page
 * straight into the caller's array (what the SST page cache does on a
 * cold point read), against the cursor's own seek + next: for every
 * fixed-width physical type, each encoding the writer offers for it, every
 * codec this build writes, data pages v1 and v2, required columns and
 * optional ones without nulls, with some and with whole pages of nulls,
 * from a source read in place and through read_at. The values, validity
 * and null count must be those of the old path, page by page, and the
 * cursor must go on after the page. Also: byte-array columns and pages
 * named with the wrong rows are refused; offset index entries decode the
 * same through the short path for the writers' field layout and through
 * the generic one for any other layout, and bad ones fail as before.
 */
#include <stdlib.h>
#include <string.h>

#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/meta.h"
#include "parquet/pq.h"
#include "test.h"
#include "test_pq.h"
#include "util/arena.h"
#include "util/error.h"

enum { N = 9000 };

typedef struct mfile {
    meru_buf buf;
    pq_mem mem;
    pq_source src;
    pq_reader *r;
} mfile;

/* Value i of a column of type t (varied enough that PLAIN, delta, split
 * and dictionary encodings all have work to do). */
static void value_of(pq_type t, size_t i, uint8_t *out)
{
    switch (t) {
    case PQ_BOOLEAN:
        out[0] = (uint8_t)((i * 7 + i / 3) % 2);
        break;
    case PQ_INT32: {
        int32_t v = (int32_t)((i * 2654435761u) % 1000) - 300;
        memcpy(out, &v, 4);
        break;
    }
    case PQ_INT64: {
        int64_t v = (int64_t)(i * 1000003u) - (int64_t)(i % 13) * 77777777;
        memcpy(out, &v, 8);
        break;
    }
    case PQ_FLOAT: {
        float v = (float)((i * 37) % 10000) / 100.0f;
        memcpy(out, &v, 4);
        break;
    }
    default: {
        double v = (double)((i * 7919) % 1000000) / 100.0;
        memcpy(out, &v, 8);
        break;
    }
    }
}

/* Nulls: 0 none (column still OPTIONAL), 1 every 5th, 2 the first 3000
 * rows (whole pages of nulls) and every 11th after. */
static bool present(int nulls, size_t i)
{
    if (nulls == 1)
        return i % 5 != 2;
    if (nulls == 2)
        return i >= 3000 && i % 11 != 4;
    return true;
}

static int make_file(mfile *f, pq_type t, pq_repetition rep, int nulls,
                     const pq_column_spec *tune, const pq_writer_options *o)
{
    memset(f, 0, sizeof *f);
    size_t w = pq_value_width(t);
    uint8_t *vals = malloc(N * w);
    uint8_t *valid = malloc(N);
    pq_bytes *s = malloc(N * sizeof *s);
    char *heap = malloc(N * 8);
    if (!vals || !valid || !s || !heap) {
        free(vals);
        free(valid);
        free(s);
        free(heap);
        return MERU_ENOMEM;
    }
    for (size_t i = 0; i < N; i++) {
        value_of(t, i, vals + i * w);
        valid[i] = present(nulls, i);
        int l = snprintf(heap + i * 8, 8, "s%zu", i % 100000);
        s[i] = (pq_bytes){(const uint8_t *)heap + i * 8, (uint32_t)l};
    }
    pq_column_spec specs[2] = {*tune, {.name = "s", .type = PQ_BYTE_ARRAY}};
    specs[0].name = "v";
    specs[0].type = t;
    specs[0].repetition = rep;
    pq_column_data cd[2] = {{vals, rep == PQ_OPTIONAL ? valid : NULL},
                            {s, NULL}};
    int rc = meru_test_pq_write_buf(&f->buf, specs, 2, o, N, cd);
    free(vals);
    free(valid);
    free(s);
    free(heap);
    if (rc)
        return rc;
    pq_source_mem(&f->src, &f->mem, f->buf.data, f->buf.len);
    return MERU_OK;
}

/* Every page of column 0 read both ways; in_place false reads through
 * read_at (no base). Adds the pages compared to *pages. */
static void compare_pages(mfile *f, bool in_place, uint32_t *pages)
{
    pq_source src = f->src;
    if (!in_place)
        src.base = NULL;
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &src, NULL));
    const pq_column_info *ci = pq_reader_column(r, 0);
    size_t w = pq_value_width(ci->type);
    for (uint32_t rg = 0; rg < pq_reader_num_row_groups(r); rg++) {
        const pq_offset_index *oi;
        CHECK_OK(pq_reader_offset_index(r, rg, 0, &oi));
        CHECK(oi && oi->n_pages > 1);
        if (!oi)
            break;
        int64_t rows = pq_reader_row_group_rows(r, rg);
        for (uint32_t pg = 0; pg < oi->n_pages; pg++) {
            int64_t first = oi->page_locations[pg].first_row_index;
            int64_t end = pg + 1 < oi->n_pages
                              ? oi->page_locations[pg + 1].first_row_index
                              : rows;
            size_t n = (size_t)(end - first);
            /* the old way: seek, then one batch of the page's rows */
            pq_cursor *old;
            CHECK_OK(pq_cursor_open(r, rg, 0, &old));
            CHECK_OK(pq_cursor_seek(old, first));
            pq_batch ob;
            CHECK_OK(pq_cursor_next(old, n, &ob));
            CHECK_EQ_INT(ob.n, n);
            /* the new way, into an array of exactly n values (ASan sees
             * any write past it) */
            uint8_t *mine = malloc(n * w);
            pq_cursor *c;
            CHECK_OK(pq_cursor_open(r, rg, 0, &c));
            pq_batch nb;
            CHECK_OK(pq_cursor_read_page(c, first, n, mine, &nb));
            CHECK_EQ_INT(nb.n, n);
            CHECK(nb.values == mine);
            CHECK_EQ_INT(nb.null_count, ob.null_count);
            CHECK(!memcmp(nb.valid, ob.valid, n));
            CHECK(!memcmp(mine, ob.values, n * w));
            uint8_t last_valid = nb.valid[n - 1];
            pq_cursor_stats st;
            pq_cursor_get_stats(c, &st);
            CHECK_EQ_INT(st.pages_read, 1);
            /* the cursor goes on with the next page */
            CHECK_EQ_INT(pq_cursor_row(c), end);
            if (end < rows) {
                pq_batch nx, ox;
                CHECK_OK(pq_cursor_next(c, 1, &nx));
                CHECK_OK(pq_cursor_next(old, 1, &ox));
                CHECK_EQ_INT(nx.n, 1);
                CHECK_EQ_INT(nx.valid[0], ox.valid[0]);
                CHECK(!memcmp(nx.values, ox.values, w));
            }
            /* a seek back into the page read into `mine` reads it again
             * (the cursor kept none of its values) */
            pq_batch back;
            CHECK_OK(pq_cursor_seek(c, end - 1));
            CHECK_OK(pq_cursor_next(c, 1, &back));
            CHECK_EQ_INT(back.n, 1);
            CHECK_EQ_INT(back.valid[0], last_valid);
            if (last_valid)
                CHECK(!memcmp(back.values, mine + (n - 1) * w, w));
            pq_cursor_close(c);
            pq_cursor_close(old);
            free(mine);
            (*pages)++;
        }
    }
    pq_reader_close(r);
}

typedef struct enc_case {
    pq_type type;
    bool has_encoding;
    pq_encoding encoding;
    pq_opt dictionary;
} enc_case;

static const enc_case ENCS[] = {
    {PQ_BOOLEAN, true, PQ_ENC_PLAIN, PQ_OPT_OFF},
    {PQ_BOOLEAN, true, PQ_ENC_RLE, PQ_OPT_OFF},
    {PQ_INT32, true, PQ_ENC_PLAIN, PQ_OPT_OFF},
    {PQ_INT32, true, PQ_ENC_DELTA_BINARY_PACKED, PQ_OPT_OFF},
    {PQ_INT32, true, PQ_ENC_PLAIN, PQ_OPT_ON},
    {PQ_INT64, true, PQ_ENC_PLAIN, PQ_OPT_OFF},
    {PQ_INT64, true, PQ_ENC_DELTA_BINARY_PACKED, PQ_OPT_OFF},
    {PQ_FLOAT, true, PQ_ENC_PLAIN, PQ_OPT_OFF},
    {PQ_FLOAT, true, PQ_ENC_BYTE_STREAM_SPLIT, PQ_OPT_OFF},
    {PQ_DOUBLE, true, PQ_ENC_PLAIN, PQ_OPT_OFF},
    {PQ_DOUBLE, true, PQ_ENC_BYTE_STREAM_SPLIT, PQ_OPT_OFF},
    {PQ_DOUBLE, true, PQ_ENC_PLAIN, PQ_OPT_ON},
};

static const pq_codec CODECS[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY,
                                  PQ_CODEC_GZIP,         PQ_CODEC_ZSTD,
                                  PQ_CODEC_LZ4_RAW,      PQ_CODEC_BROTLI};

static void test_page_into_array_equals_cursor_batch(void)
{
    uint32_t files = 0, pages = 0;
    for (size_t e = 0; e < sizeof ENCS / sizeof ENCS[0]; e++) {
        for (size_t k = 0; k < sizeof CODECS / sizeof CODECS[0]; k++) {
            if (!pq_codec_supported(CODECS[k], true))
                continue;
            for (int version = 1; version <= 2; version++) {
                /* required, then optional with each null pattern */
                for (int shape = 0; shape < 4; shape++) {
                    pq_writer_options o;
                    pq_writer_options_column(&o);
                    o.codec = CODECS[k];
                    o.codec_min_saving = 0; /* every chunk keeps CODECS[k] */
                    o.data_page_version = version;
                    o.page_rows = 1000;
                    pq_column_spec tune = {
                        .has_encoding = ENCS[e].has_encoding,
                        .encoding = ENCS[e].encoding,
                        .dictionary = ENCS[e].dictionary,
                    };
                    mfile f;
                    int rc = make_file(
                        &f, ENCS[e].type,
                        shape == 0 ? PQ_REQUIRED : PQ_OPTIONAL,
                        shape == 0 ? 0 : shape - 1, &tune, &o);
                    if (rc)
                        meru_buf_free(&f.buf);
                    CHECK_OK(rc);
                    compare_pages(&f, true, &pages);
                    if (shape == 2)
                        compare_pages(&f, false, &pages);
                    meru_buf_free(&f.buf);
                    files++;
                }
            }
        }
    }
    /* at least uncompressed, zstd and gzip (always built) */
    CHECK(files >= 12 * 3 * 2 * 4);
    CHECK(pages > files * 8);
}

static void test_byte_arrays_and_wrong_rows_are_refused(void)
{
    pq_writer_options o;
    pq_writer_options_column(&o);
    o.page_rows = 1000;
    pq_column_spec tune = {0};
    mfile f;
    CHECK_OK(make_file(&f, PQ_DOUBLE, PQ_OPTIONAL, 1, &tune, &o));
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &f.src, NULL));
    double vals[2000];
    pq_batch b;
    pq_cursor *c;
    /* the string column: its values would point into the cursor */
    CHECK_OK(pq_cursor_open(r, 0, 1, &c));
    CHECK_RC(pq_cursor_read_page(c, 0, 1000, vals, &b), MERU_EINVAL);
    pq_cursor_close(c);
    CHECK_OK(pq_cursor_open(r, 0, 0, &c));
    /* more rows than the page holds, fewer, and a row inside a page */
    CHECK_RC(pq_cursor_read_page(c, 0, 1001, vals, &b), MERU_ECORRUPT);
    CHECK_RC(pq_cursor_read_page(c, 0, 999, vals, &b), MERU_ECORRUPT);
    CHECK_RC(pq_cursor_read_page(c, 10, 1000, vals, &b), MERU_ECORRUPT);
    /* the cursor still reads the right page afterwards */
    CHECK_OK(pq_cursor_read_page(c, 1000, 1000, vals, &b));
    double want;
    value_of(PQ_DOUBLE, 1001, (uint8_t *)&want);
    CHECK_EQ_INT(b.valid[1], present(1, 1001));
    CHECK(vals[1] == want);
    pq_cursor_close(c);
    pq_reader_close(r);
    meru_buf_free(&f.buf);
}

/* Appends the zigzag varint of v. */
static size_t put_zz(uint8_t *p, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (u >= 0x80) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    return n;
}

/* One PageLocation (offset, size, row) in layout `how`: 0 the writers'
 * (fields 1, 2, 3 with one-byte headers), 1 fields 3, 1, 2 (long-form
 * headers), 2 the writers' with an unknown i32 field 4 before the stop. */
static size_t put_location(uint8_t *p, int how, int64_t off, int32_t size,
                           int64_t row)
{
    size_t n = 0;
    if (how == 1) {
        p[n++] = 0x06; /* i64, id follows */
        n += put_zz(p + n, 3);
        n += put_zz(p + n, row);
        p[n++] = 0x06;
        n += put_zz(p + n, 1);
        n += put_zz(p + n, off);
        p[n++] = 0x05; /* i32 */
        n += put_zz(p + n, 2);
        n += put_zz(p + n, size);
    } else {
        p[n++] = 0x16;
        n += put_zz(p + n, off);
        p[n++] = 0x15;
        n += put_zz(p + n, size);
        p[n++] = 0x16;
        n += put_zz(p + n, row);
        if (how == 2) {
            p[n++] = 0x15;
            n += put_zz(p + n, -5);
        }
    }
    p[n++] = 0x00;
    return n;
}

static void test_offset_index_layouts_decode_alike(void)
{
    static const int64_t off[3] = {4, 300000, 5000000000LL};
    static const int32_t size[3] = {1, 65536, 2000000000};
    static const int64_t row[3] = {0, 1234, 9000000000LL};
    meru_arena *a;
    CHECK_OK(meru_arena_new(&a, 4096));
    for (int how = 0; how < 3; how++) {
        uint8_t buf[256];
        size_t n = 0;
        buf[n++] = 0x19;              /* field 1, list */
        buf[n++] = (3 << 4) | 0x0C; /* 3 structs */
        for (int i = 0; i < 3; i++)
            n += put_location(buf + n, how, off[i], size[i], row[i]);
        buf[n++] = 0x00;
        pq_offset_index oi;
        CHECK_OK(pq_decode_offset_index(buf, n, a, &oi));
        CHECK_EQ_INT(oi.n_pages, 3);
        for (uint32_t i = 0; i < oi.n_pages; i++) {
            CHECK_EQ_INT(oi.page_locations[i].offset, off[i]);
            CHECK_EQ_INT(oi.page_locations[i].compressed_page_size, size[i]);
            CHECK_EQ_INT(oi.page_locations[i].first_row_index, row[i]);
        }
        /* every cut of the input fails cleanly */
        for (size_t cut = 0; cut < n; cut++)
            CHECK(pq_decode_offset_index(buf, cut, a, &oi) != MERU_OK);
    }
    /* a negative value is corrupt whichever layout carries it */
    for (int how = 0; how < 3; how++) {
        for (int bad = 0; bad < 3; bad++) {
            uint8_t buf[64];
            size_t n = 0;
            buf[n++] = 0x19;
            buf[n++] = (1 << 4) | 0x0C;
            n += put_location(buf + n, how, bad == 0 ? -4 : 4,
                              bad == 1 ? -1 : 10, bad == 2 ? -7 : 0);
            buf[n++] = 0x00;
            pq_offset_index oi;
            CHECK_RC(pq_decode_offset_index(buf, n, a, &oi), MERU_ECORRUPT);
        }
    }
    meru_arena_free(a);
}

/* ----------------------------------------- byte arrays into the caller's */

/* String i of the byte-array file: empty every 13th, else 1..300 bytes
 * (longer ones than the 4 (i + 1) bytes each moves in place: overlapping
 * moves), from a seeded generator. */
static size_t string_of(size_t i, uint8_t *out)
{
    if (i % 13 == 5)
        return 0;
    uint32_t x = (uint32_t)i * 2654435761u + 12345u;
    size_t len = 1 + (x >> 8) % (i % 3 == 0 ? 300 : 40);
    for (size_t k = 0; k < len; k++) {
        x = x * 1103515245u + 12345u;
        out[k] = (uint8_t)('a' + (x >> 16) % 26);
    }
    return len;
}

/* A file of one BYTE_ARRAY column of 3000 rows in pages of 100 rows;
 * nulls as present(). */
static int make_bytes_file(mfile *f, pq_repetition rep, int nulls,
                           const pq_writer_options *o)
{
    enum { ROWS = 3000 };
    memset(f, 0, sizeof *f);
    uint8_t *heap = malloc((size_t)ROWS * 300);
    pq_bytes *s = malloc(ROWS * sizeof *s);
    uint8_t *valid = malloc(ROWS);
    if (!heap || !s || !valid) {
        free(heap);
        free(s);
        free(valid);
        return MERU_ENOMEM;
    }
    for (size_t i = 0; i < ROWS; i++) {
        /* nulls == 2: the first 15 pages all null */
        valid[i] = present(nulls, i + (nulls == 2 ? 1500 : 0));
        size_t len = string_of(i, heap + i * 300);
        s[i] = (pq_bytes){heap + i * 300, (uint32_t)len};
    }
    pq_column_spec spec = {.name = "s", .type = PQ_BYTE_ARRAY,
                           .repetition = rep, .has_encoding = true,
                           .encoding = PQ_ENC_PLAIN,
                           .dictionary = PQ_OPT_OFF};
    pq_column_data cd = {s, rep == PQ_OPTIONAL ? valid : NULL};
    int rc = meru_test_pq_write_buf(&f->buf, &spec, 1, o, ROWS, &cd);
    free(heap);
    free(s);
    free(valid);
    if (rc)
        return rc;
    pq_source_mem(&f->src, &f->mem, f->buf.data, f->buf.len);
    return MERU_OK;
}

/* Every page of the file both ways: seek + next, and, where the cursor
 * takes it, pq_cursor_plain_bytes_size / _read into an array of exactly
 * the size said, then pq_plain_compact_bytes. Counts the pages each way
 * took. */
static void compare_bytes_pages(mfile *f, bool in_place, bool compressed,
                                uint32_t *direct, uint32_t *other)
{
    pq_source src = f->src;
    if (!in_place)
        src.base = NULL;
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &src, NULL));
    for (uint32_t rg = 0; rg < pq_reader_num_row_groups(r); rg++) {
        const pq_offset_index *oi;
        CHECK_OK(pq_reader_offset_index(r, rg, 0, &oi));
        CHECK(oi && oi->n_pages > 1);
        if (!oi)
            break;
        int64_t rows = pq_reader_row_group_rows(r, rg);
        pq_cursor *c;
        CHECK_OK(pq_cursor_open(r, rg, 0, &c));
        /* backwards: every page is reached by a jump */
        for (uint32_t pg = oi->n_pages; pg-- > 0;) {
            int64_t first = oi->page_locations[pg].first_row_index;
            int64_t end = pg + 1 < oi->n_pages
                              ? oi->page_locations[pg + 1].first_row_index
                              : rows;
            size_t n = (size_t)(end - first);
            pq_cursor *old;
            CHECK_OK(pq_cursor_open(r, rg, 0, &old));
            CHECK_OK(pq_cursor_seek(old, first));
            pq_batch ob;
            CHECK_OK(pq_cursor_next(old, n, &ob));
            CHECK_EQ_INT(ob.n, n);
            size_t bytes = 99;
            bool place = true, ok = true;
            CHECK_OK(pq_cursor_plain_bytes_size(c, first, n, &bytes, &place,
                                                &ok));
            if (!ok) {
                CHECK_EQ_INT(bytes, 0);
                CHECK(!place);
                /* the slots still read the page after the try */
                pq_batch b;
                CHECK_OK(pq_cursor_seek(c, first));
                CHECK_OK(pq_cursor_next(c, n, &b));
                CHECK_EQ_INT(b.null_count, ob.null_count);
                (*other)++;
                pq_cursor_close(old);
                continue;
            }
            CHECK_EQ_INT(ob.null_count, 0);
            CHECK(place == (in_place && !compressed));
            uint8_t *mine = malloc(bytes ? bytes : 1);
            uint32_t *offs = malloc((n + 1) * sizeof *offs);
            CHECK_OK(pq_cursor_plain_bytes_read(c, mine));
            CHECK_OK(pq_plain_compact_bytes(mine, bytes, n, offs));
            const pq_bytes *ov = ob.values;
            CHECK_EQ_INT(offs[0], 0);
            for (size_t i = 0; i < n; i++) {
                CHECK_EQ_INT(offs[i + 1] - offs[i], ov[i].len);
                CHECK(!ov[i].len ||
                      !memcmp(mine + offs[i], ov[i].ptr, ov[i].len));
            }
            CHECK_EQ_INT(offs[n], bytes - 4 * n);
            /* a second read needs a new size first */
            CHECK_RC(pq_cursor_plain_bytes_read(c, mine), MERU_EINVAL);
            free(mine);
            free(offs);
            (*direct)++;
            pq_cursor_close(old);
        }
        /* and the cursor reads on from a seek, as ever */
        pq_batch b;
        CHECK_OK(pq_cursor_seek(c, 0));
        CHECK_OK(pq_cursor_next(c, (size_t)rows, &b));
        CHECK_EQ_INT(b.n, rows);
        pq_cursor_stats st;
        pq_cursor_get_stats(c, &st);
        CHECK(st.pages_read >= oi->n_pages);
        pq_cursor_close(c);
    }
    pq_reader_close(r);
}

static void test_plain_bytes_into_caller_memory(void)
{
    uint32_t direct = 0, other = 0, files = 0;
    for (size_t k = 0; k < sizeof CODECS / sizeof CODECS[0]; k++) {
        if (!pq_codec_supported(CODECS[k], true))
            continue;
        for (int version = 1; version <= 2; version++) {
            for (int shape = 0; shape < 4; shape++) {
                pq_writer_options o;
                pq_writer_options_column(&o);
                o.codec = CODECS[k];
                o.codec_min_saving = 0;
                o.data_page_version = version;
                o.page_rows = 100;
                mfile f;
                int rc = make_bytes_file(
                    &f, shape == 0 ? PQ_REQUIRED : PQ_OPTIONAL,
                    shape == 0 ? 0 : shape - 1, &o);
                if (rc)
                    meru_buf_free(&f.buf);
                CHECK_OK(rc);
                uint32_t d0 = direct;
                bool comp = CODECS[k] != PQ_CODEC_UNCOMPRESSED;
                compare_bytes_pages(&f, true, comp, &direct, &other);
                compare_bytes_pages(&f, false, comp, &direct, &other);
                /* v2 pages without nulls go straight; v1 never */
                if (version == 1)
                    CHECK_EQ_INT(direct, d0);
                else if (shape <= 1)
                    CHECK_EQ_INT(direct - d0, 2 * 30);
                meru_buf_free(&f.buf);
                files++;
            }
        }
    }
    CHECK(files >= 3 * 2 * 4);
    CHECK(direct > 0 && other > 0);
}

/* A length in the page past its end, values short of its end, or more
 * than 32-bit offsets hold: pq_plain_compact_bytes refuses them. */
static void test_plain_compact_bytes_refuses_bad_lengths(void)
{
    uint8_t p[64];
    uint32_t offs[4];
    /* "ab", "", "xyz" */
    const uint8_t good[] = {2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0,
                            3, 0, 0, 0, 'x', 'y', 'z'};
    memcpy(p, good, sizeof good);
    CHECK_OK(pq_plain_compact_bytes(p, sizeof good, 3, offs));
    CHECK(!memcmp(p, "abxyz", 5));
    CHECK_EQ_INT(offs[0], 0);
    CHECK_EQ_INT(offs[1], 2);
    CHECK_EQ_INT(offs[2], 2);
    CHECK_EQ_INT(offs[3], 5);
    for (size_t cut = 0; cut < sizeof good; cut++) {
        memcpy(p, good, sizeof good);
        CHECK_RC(pq_plain_compact_bytes(p, cut, 3, offs), MERU_ECORRUPT);
    }
    /* bytes left over after the values */
    memcpy(p, good, sizeof good);
    CHECK_RC(pq_plain_compact_bytes(p, sizeof good, 2, offs), MERU_ECORRUPT);
    CHECK_ERRMSG("PLAIN BYTE_ARRAY");
    const uint8_t huge[] = {0xff, 0xff, 0xff, 0x7f, 'a'};
    memcpy(p, huge, sizeof huge);
    CHECK_RC(pq_plain_compact_bytes(p, sizeof huge, 1, offs), MERU_ECORRUPT);
}

/* A source over the same memory without a base, counting its reads. */
typedef struct counted {
    pq_mem *mem;
    uint64_t reads, bytes;
    size_t last;
    bool fail; /* every read fails with MERU_EIO */
} counted;

static int counted_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    counted *k = ctx;
    if (k->fail)
        return meru_err(MERU_EIO, "counted source: injected read error");
    k->reads++;
    k->bytes += n;
    k->last = n;
    memcpy(buf, k->mem->p + off, n);
    return MERU_OK;
}

/* pq_cursor_set_source: a cursor of a reader over memory read in place
 * reads its pages through the given source instead, one read_at a page
 * of exactly the bytes the offset index gives (header and body), and its
 * values never point into the reader's base (they do without it: the
 * pages are uncompressed). Same values either way; NULL restores the
 * reader's source. */
static void test_cursor_reads_pages_through_another_source(void)
{
    pq_writer_options o;
    pq_writer_options_column(&o);
    o.codec = PQ_CODEC_UNCOMPRESSED;
    o.data_page_version = 2;
    o.page_rows = 100;
    mfile f;
    int rc = make_bytes_file(&f, PQ_REQUIRED, 0, &o);
    if (rc)
        meru_buf_free(&f.buf);
    CHECK_OK(rc);
    counted k = {&f.mem, 0, 0, 0, false};
    pq_source other = {counted_read, f.src.size, &k, NULL};
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &f.src, NULL));
    const uint8_t *lo = f.buf.data, *hi = f.buf.data + f.buf.len;
    const pq_offset_index *oi;
    CHECK_OK(pq_reader_offset_index(r, 0, 0, &oi));
    CHECK(oi && oi->n_pages > 1);
    int64_t rows = pq_reader_row_group_rows(r, 0);
    for (uint32_t pg = 0; oi && pg < oi->n_pages; pg++) {
        int64_t first = oi->page_locations[pg].first_row_index;
        int64_t end = pg + 1 < oi->n_pages
                          ? oi->page_locations[pg + 1].first_row_index
                          : rows;
        size_t n = (size_t)(end - first);
        pq_cursor *in, *c;
        CHECK_OK(pq_cursor_open(r, 0, 0, &in));
        CHECK_OK(pq_cursor_open(r, 0, 0, &c));
        pq_cursor_set_source(c, &other);
        pq_batch ib, b;
        CHECK_OK(pq_cursor_seek(in, first));
        CHECK_OK(pq_cursor_next(in, n, &ib));
        uint64_t reads = k.reads;
        CHECK_OK(pq_cursor_seek(c, first));
        CHECK_EQ_U64(k.reads - reads, 1);
        CHECK_EQ_U64(k.last,
                     (uint64_t)oi->page_locations[pg].compressed_page_size);
        CHECK_OK(pq_cursor_next(c, n, &b));
        CHECK_EQ_INT(b.n, n);
        CHECK_EQ_U64(k.reads - reads, 1);
        const pq_bytes *iv = ib.values, *v = b.values;
        bool in_base = false, out_base = false;
        for (size_t i = 0; i < n; i++) {
            CHECK_EQ_INT(v[i].len, iv[i].len);
            CHECK(!v[i].len || !memcmp(v[i].ptr, iv[i].ptr, v[i].len));
            in_base |= iv[i].len && iv[i].ptr >= lo && iv[i].ptr < hi;
            out_base |= v[i].len && v[i].ptr >= lo && v[i].ptr < hi;
        }
        CHECK(in_base);
        CHECK(!out_base);
        /* the plain-bytes path is never "in place" through it */
        size_t bytes;
        bool place = true, ok = false;
        CHECK_OK(pq_cursor_plain_bytes_size(c, first, n, &bytes, &place, &ok));
        CHECK(ok && !place);
        CHECK_OK(pq_cursor_plain_bytes_size(in, first, n, &bytes, &place,
                                            &ok));
        CHECK(ok && place);
        /* back on the reader's source: no read through the other */
        reads = k.reads;
        pq_cursor_set_source(c, NULL);
        CHECK_OK(pq_cursor_seek(c, first));
        CHECK_OK(pq_cursor_next(c, n, &b));
        CHECK_EQ_U64(k.reads, reads);
        /* the other source's error is the read's, though the reader's
         * own bytes are at hand */
        k.fail = true;
        pq_cursor_set_source(c, &other);
        CHECK_RC(pq_cursor_seek(c, first), MERU_EIO);
        CHECK_ERRMSG("injected read error");
        k.fail = false;
        pq_cursor_close(in);
        pq_cursor_close(c);
    }
    pq_reader_close(r);
    meru_buf_free(&f.buf);
}

int main(void)
{
    MERU_TEST_RUN(test_offset_index_layouts_decode_alike);
    MERU_TEST_RUN(test_page_into_array_equals_cursor_batch);
    MERU_TEST_RUN(test_byte_arrays_and_wrong_rows_are_refused);
    MERU_TEST_RUN(test_plain_bytes_into_caller_memory);
    MERU_TEST_RUN(test_plain_compact_bytes_refuses_bad_lengths);
    MERU_TEST_RUN(test_cursor_reads_pages_through_another_source);
    return meru_test_finish();
}
