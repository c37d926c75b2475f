/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_roundtrip.c — random schemas, options and data written by the
 * Parquet writer and read back by the reader: every value, null, chunk
 * statistic and seek must come back as written. Seeded by meru_test_rand
 * (replay with MERU_TEST_SEED), scaled by meru_test_scale().
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/pq.h"
#include "parquet/stats.h"
#include "test.h"

static uint64_t rnd(uint64_t n)
{
    return n ? meru_test_rand() % n : 0;
}

/* A column's expected contents: dense typed values + validity. */
typedef struct colexp {
    pq_column_spec spec;
    char name[16];
    void *vals; /* dense typed array (pq_bytes for byte arrays) */
    uint8_t *valid;
    uint8_t *heap; /* bytes behind pq_bytes */
    size_t width;
} colexp;

static const pq_codec codecs[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY,
                                  PQ_CODEC_GZIP,         PQ_CODEC_ZSTD,
                                  PQ_CODEC_LZ4_RAW,      PQ_CODEC_BROTLI};

static void random_spec(colexp *c, int i)
{
    pq_column_spec *s = &c->spec;
    memset(s, 0, sizeof *s);
    snprintf(c->name, sizeof c->name, "c%d", i);
    s->name = c->name;
    s->type = (pq_type)rnd(8);
    s->repetition = rnd(2) ? PQ_OPTIONAL : PQ_REQUIRED;
    s->has_field_id = true;
    s->field_id = i + 1;
    if (s->type == PQ_FIXED_LEN_BYTE_ARRAY)
        s->type_length = 1 + (int32_t)rnd(20);
    static const pq_encoding encs[] = {PQ_ENC_PLAIN,
                                       PQ_ENC_RLE,
                                       PQ_ENC_DELTA_BINARY_PACKED,
                                       PQ_ENC_DELTA_LENGTH_BYTE_ARRAY,
                                       PQ_ENC_DELTA_BYTE_ARRAY,
                                       PQ_ENC_BYTE_STREAM_SPLIT,
                                       PQ_ENC_RLE_DICTIONARY};
    for (int tries = 0; tries < 20 && rnd(4) != 0; tries++) {
        pq_encoding e = encs[rnd(7)];
        bool ok;
        switch (e) {
        case PQ_ENC_PLAIN:
            ok = true;
            break;
        case PQ_ENC_RLE:
            ok = s->type == PQ_BOOLEAN;
            break;
        case PQ_ENC_DELTA_BINARY_PACKED:
            ok = s->type == PQ_INT32 || s->type == PQ_INT64;
            break;
        case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
            ok = s->type == PQ_BYTE_ARRAY;
            break;
        case PQ_ENC_DELTA_BYTE_ARRAY:
            ok = s->type == PQ_BYTE_ARRAY || s->type == PQ_FIXED_LEN_BYTE_ARRAY;
            break;
        case PQ_ENC_BYTE_STREAM_SPLIT:
            ok = s->type == PQ_FLOAT || s->type == PQ_DOUBLE ||
                 s->type == PQ_INT32 || s->type == PQ_INT64 ||
                 s->type == PQ_FIXED_LEN_BYTE_ARRAY;
            break;
        default:
            ok = s->type != PQ_BOOLEAN && s->type != PQ_INT96;
        }
        if (s->type == PQ_INT96 && e != PQ_ENC_PLAIN)
            ok = false;
        if (ok) {
            s->has_encoding = true;
            s->encoding = e;
            break;
        }
    }
    if (s->type != PQ_BOOLEAN && s->type != PQ_INT96 && rnd(3) == 0)
        s->dictionary = rnd(2) ? PQ_OPT_ON : PQ_OPT_OFF;
    s->bloom_filter = s->type != PQ_BOOLEAN && rnd(3) == 0;
    s->no_statistics = rnd(8) == 0;
    if (s->type == PQ_BYTE_ARRAY && rnd(2))
        s->logical.kind = PQ_LT_STRING;
}

static void random_values(colexp *c, size_t n)
{
    pq_type t = c->spec.type;
    c->width = pq_value_width(t);
    c->vals = calloc(n + 1, c->width);
    c->valid = malloc(n + 1);
    size_t heap_cap = 0, maxlen = t == PQ_FIXED_LEN_BYTE_ARRAY
                                      ? (size_t)c->spec.type_length
                                      : 40;
    if (t == PQ_BYTE_ARRAY || t == PQ_FIXED_LEN_BYTE_ARRAY)
        heap_cap = n * maxlen + 1;
    c->heap = malloc(heap_cap + 1);
    int null_pct = c->spec.repetition == PQ_OPTIONAL ? (int)rnd(4) * 25 : 0;
    uint64_t domain = rnd(2) ? 16 : UINT64_MAX; /* dictionary-friendly */
    bool sorted = rnd(4) == 0;
    size_t hp = 0;
    for (size_t i = 0; i < n; i++) {
        c->valid[i] = (int)rnd(100) >= null_pct || null_pct == 0;
        if (null_pct == 100)
            c->valid[i] = 0;
        uint64_t r = domain == UINT64_MAX ? meru_test_rand()
                                          : rnd(domain) * 0x9E3779B97F4A7C15ull;
        if (sorted)
            r = i * 7919;
        uint8_t *slot = (uint8_t *)c->vals + i * c->width;
        switch (t) {
        case PQ_BOOLEAN:
            *slot = (uint8_t)(r & 1);
            break;
        case PQ_INT32: {
            int32_t v = (int32_t)r;
            memcpy(slot, &v, 4);
            break;
        }
        case PQ_INT64: {
            int64_t v = (int64_t)r;
            memcpy(slot, &v, 8);
            break;
        }
        case PQ_INT96:
            for (int k = 0; k < 12; k++)
                slot[k] = (uint8_t)(r >> (k % 8 * 8)) ^ (uint8_t)k;
            break;
        case PQ_FLOAT: {
            float f = (float)((int64_t)(r % 20001) - 10000) / 7.0f;
            if (r % 53 == 0)
                f = NAN;
            if (r % 59 == 0)
                f = -0.0f;
            memcpy(slot, &f, 4);
            break;
        }
        case PQ_DOUBLE: {
            double d = (double)((int64_t)(r % 2000001) - 1000000) / 3.0;
            if (r % 53 == 0)
                d = NAN;
            if (r % 61 == 0)
                d = 0.0;
            memcpy(slot, &d, 8);
            break;
        }
        default: {
            size_t len =
                t == PQ_FIXED_LEN_BYTE_ARRAY ? maxlen : (size_t)(r % 41);
            pq_bytes b = {c->heap + hp, (uint32_t)len};
            for (size_t k = 0; k < len; k++)
                c->heap[hp + k] = (uint8_t)((r >> (k % 8)) + k * 31);
            if (sorted && len >= 4 && t == PQ_BYTE_ARRAY) {
                c->heap[hp] = (uint8_t)(i >> 16);
                c->heap[hp + 1] = (uint8_t)(i >> 8);
                c->heap[hp + 2] = (uint8_t)i;
            }
            hp += len;
            memcpy(slot, &b, sizeof b);
        }
        }
    }
}

static void colexp_free(colexp *c)
{
    free(c->vals);
    free(c->valid);
    free(c->heap);
}

static bool same_value(const colexp *c, size_t row, const uint8_t *got)
{
    const uint8_t *exp = (const uint8_t *)c->vals + row * c->width;
    if (c->spec.type == PQ_BYTE_ARRAY ||
        c->spec.type == PQ_FIXED_LEN_BYTE_ARRAY) {
        pq_bytes a, b;
        memcpy(&a, exp, sizeof a);
        memcpy(&b, got, sizeof b);
        return a.len == b.len && (a.len == 0 || !memcmp(a.ptr, b.ptr, a.len));
    }
    return !memcmp(exp, got, c->width);
}

/* Expected min/max of rows [r0, r1) via the stats accumulator. */
static bool expected_minmax(const colexp *c, pq_sort_order o, size_t r0,
                            size_t r1, pq_stats_acc *a, pq_bytes *lo,
                            pq_bytes *hi)
{
    pq_stats_init(a, o);
    for (size_t i = r0; i < r1; i++) {
        if (!c->valid[i])
            continue;
        const uint8_t *v = (const uint8_t *)c->vals + i * c->width;
        switch (c->spec.type) {
        case PQ_BOOLEAN:
            pq_stats_add_bool(a, v, 1);
            break;
        case PQ_INT32:
            pq_stats_add_i32(a, (const int32_t *)(const void *)v, 1);
            break;
        case PQ_INT64:
            pq_stats_add_i64(a, (const int64_t *)(const void *)v, 1);
            break;
        case PQ_FLOAT:
            pq_stats_add_float(a, (const float *)(const void *)v, 1);
            break;
        case PQ_DOUBLE:
            pq_stats_add_double(a, (const double *)(const void *)v, 1);
            break;
        case PQ_BYTE_ARRAY:
        case PQ_FIXED_LEN_BYTE_ARRAY:
            pq_stats_add_bytes(a, (const pq_bytes *)(const void *)v, 1);
            break;
        default:
            break;
        }
    }
    return pq_stats_get(a, lo, hi);
}

static void roundtrip_once(int iter)
{
    int ncols = 1 + (int)rnd(6);
    size_t nrows = (size_t)rnd((uint64_t)(2500 * meru_test_scale()) + 1);
    if (rnd(10) == 0)
        nrows = 0;
    colexp cols[8];
    pq_column_spec specs[8];
    for (int i = 0; i < ncols; i++) {
        random_spec(&cols[i], i);
        random_values(&cols[i], nrows);
        specs[i] = cols[i].spec;
    }
    pq_writer_options o;
    if (rnd(2))
        pq_writer_options_column(&o);
    else
        pq_writer_options_row(&o);
    o.codec = codecs[rnd(6)];
    o.codec_level = 1; /* fast: this test is about layout, not ratio */
    o.data_page_version = 1 + (int)rnd(2);
    o.page_size = 64 + (uint32_t)rnd(4096);
    o.page_rows = rnd(3) ? 0 : 1 + (uint32_t)rnd(500);
    o.row_group_rows = rnd(2) ? 1 + rnd(1500) : 0;
    o.row_group_bytes = rnd(2) ? 2048 + rnd(40000) : 64u << 20;
    o.page_crc = rnd(2);
    o.page_index = rnd(4) != 0;
    o.dict_page_size_limit = rnd(2) ? 256 + (uint32_t)rnd(2000) : 1u << 20;

    meru_buf file = {0};
    pq_sink sink;
    pq_sink_buf(&sink, &file);
    pq_writer *w = NULL;
    pq_reader *r = NULL;
    pq_cursor *cur = NULL;
    pq_column_data cd[8];
    CHECK_OK(pq_writer_open(&w, &sink, specs, (uint32_t)ncols, &o));
    size_t done = 0;
    while (done < nrows) {
        size_t k = 1 + (size_t)rnd(700);
        if (k > nrows - done)
            k = nrows - done;
        for (int i = 0; i < ncols; i++) {
            cd[i].values = (const uint8_t *)cols[i].vals + done * cols[i].width;
            cd[i].valid = cols[i].spec.repetition == PQ_OPTIONAL || rnd(2)
                              ? cols[i].valid + done
                              : NULL;
        }
        int rc = pq_writer_write(w, k, cd);
        if (rc) {
            pq_writer_abort(w);
            CHECK_OK(rc);
        }
        done += k;
    }
    uint64_t fsize = 0;
    CHECK_OK(pq_writer_close(w, &fsize));
    CHECK_EQ_U64(fsize, file.len);

    pq_source src;
    pq_mem mem;
    pq_source_mem(&src, &mem, file.data, file.len);
    CHECK_OK(pq_reader_open(&r, &src, NULL));
    CHECK_EQ_INT(pq_reader_num_rows(r), nrows);
    CHECK_EQ_INT(pq_reader_num_columns(r), ncols);
    size_t rg0 = 0;
    for (uint32_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        size_t rgn = (size_t)pq_reader_row_group_rows(r, g);
        CHECK(rgn > 0);
        CHECK(rg0 + rgn <= nrows);
        for (int i = 0; i < ncols; i++) {
            const colexp *c = &cols[i];
            const pq_column_info *info = pq_reader_column(r, (uint32_t)i);
            CHECK_STR(info->name, c->name);
            CHECK_EQ_INT(info->field_id, i + 1);
            CHECK_OK(pq_cursor_open(r, g, (uint32_t)i, &cur));
            size_t row = 0;
            while (row < rgn) {
                pq_batch b;
                int rc = pq_cursor_next(cur, 1 + (size_t)rnd(900), &b);
                CHECK_MSG(rc == 0, "iter %d rg %u col %d row %zu: %s", iter, g,
                          i, row, meru_errmsg());
                CHECK(b.n > 0);
                size_t nulls = 0;
                for (size_t k = 0; k < b.n; k++) {
                    size_t er = rg0 + row + k;
                    CHECK_MSG(b.valid[k] == (c->valid[er] ? 1 : 0),
                              "iter %d col %d row %zu validity", iter, i, er);
                    nulls += !b.valid[k];
                    if (b.valid[k])
                        CHECK_MSG(same_value(c, er,
                                             (const uint8_t *)b.values +
                                                 k * c->width),
                                  "iter %d col %d (%s, enc %d) row %zu value",
                                  iter, i, pq_type_name(c->spec.type),
                                  (int)c->spec.encoding, er);
                }
                CHECK_EQ_INT(b.null_count, nulls);
                row += b.n;
            }
            pq_batch end;
            CHECK_OK(pq_cursor_next(cur, 10, &end));
            CHECK_EQ_INT(end.n, 0);
            /* random seeks */
            for (int s = 0; s < 4; s++) {
                size_t target = (size_t)rnd(rgn);
                CHECK_OK(pq_cursor_seek(cur, (int64_t)target));
                pq_batch b;
                CHECK_OK(pq_cursor_next(cur, 3, &b));
                CHECK(b.n >= 1);
                size_t er = rg0 + target;
                CHECK_EQ_INT(b.valid[0], c->valid[er] ? 1 : 0);
                if (b.valid[0])
                    CHECK_MSG(same_value(c, er, b.values),
                              "iter %d col %d seek to %zu", iter, i, target);
            }
            pq_cursor_close(cur);
            cur = NULL;
            /* chunk statistics */
            pq_stats_acc acc;
            pq_bytes elo, ehi, lo, hi;
            bool has_exp = expected_minmax(c, info->order, rg0, rg0 + rgn, &acc,
                                           &elo, &ehi);
            bool has = pq_reader_chunk_minmax(r, g, (uint32_t)i, &lo, &hi);
            if (c->spec.no_statistics || info->order == PQ_ORDER_NONE) {
                CHECK(!has);
            } else {
                CHECK_MSG(has == has_exp, "iter %d col %d stats presence", iter,
                          i);
                if (has) {
                    CHECK(lo.len == elo.len && hi.len == ehi.len);
                    CHECK(!lo.len || !memcmp(lo.ptr, elo.ptr, lo.len));
                    CHECK(!hi.len || !memcmp(hi.ptr, ehi.ptr, hi.len));
                }
                size_t en = 0;
                for (size_t k = rg0; k < rg0 + rgn; k++)
                    en += !c->valid[k];
                CHECK_EQ_INT(pq_reader_chunk_null_count(r, g, (uint32_t)i), en);
            }
            pq_stats_free(&acc);
            /* bloom: every present value is found */
            if (c->spec.bloom_filter) {
                CHECK(pq_reader_has_bloom(r, g, (uint32_t)i));
                for (size_t k = rg0; k < rg0 + rgn; k += 1 + rnd(50)) {
                    if (!c->valid[k])
                        continue;
                    const uint8_t *v = (const uint8_t *)c->vals + k * c->width;
                    const void *p = v;
                    size_t len = c->width;
                    if (c->spec.type == PQ_BYTE_ARRAY ||
                        c->spec.type == PQ_FIXED_LEN_BYTE_ARRAY) {
                        pq_bytes bb;
                        memcpy(&bb, v, sizeof bb);
                        p = bb.ptr;
                        len = bb.len;
                    }
                    bool maybe;
                    CHECK_OK(pq_reader_bloom_check(r, g, (uint32_t)i, p, len,
                                                   &maybe));
                    CHECK_MSG(maybe, "iter %d col %d bloom misses row %zu",
                              iter, i, k);
                }
            }
        }
        rg0 += rgn;
    }
    CHECK_EQ_U64(rg0, nrows);
    pq_reader_close(r);
    r = NULL;
    meru_buf_free(&file);
    for (int i = 0; i < ncols; i++)
        colexp_free(&cols[i]);
}

static void test_random_schemas_and_data_round_trip(void)
{
    int iters = (int)(150 * meru_test_scale());
    if (iters < 10)
        iters = 10;
    for (int it = 0; it < iters; it++) {
        roundtrip_once(it);
        if (meru_test_failed_current)
            return;
    }
}

/* Every codec x page version x profile on a fixed table. */
static void test_every_codec_page_version_and_profile(void)
{
    enum { N = 3000 };
    static int64_t k[N];
    static double d[N];
    static pq_bytes s[N];
    static uint8_t valid[N], bits[N];
    static char heap[N][12];
    for (int i = 0; i < N; i++) {
        k[i] = i * 3 - 1000;
        d[i] = i * 0.25;
        snprintf(heap[i], sizeof heap[i], "v%05d", i % 97);
        s[i].ptr = (const uint8_t *)heap[i];
        s[i].len = (uint32_t)strlen(heap[i]);
        valid[i] = i % 5 != 0;
        bits[i] = i % 3 == 0;
    }
    pq_column_spec specs[4] = {
        {.name = "k", .type = PQ_INT64},
        {.name = "d", .type = PQ_DOUBLE, .repetition = PQ_OPTIONAL},
        {.name = "s",
         .type = PQ_BYTE_ARRAY,
         .repetition = PQ_OPTIONAL,
         .logical = {.kind = PQ_LT_STRING}},
        {.name = "b", .type = PQ_BOOLEAN},
    };
    pq_column_data cd[4] = {{k, NULL}, {d, valid}, {s, valid}, {bits, NULL}};
    for (int prof = 0; prof < 2; prof++)
        for (int ci = 0; ci < 6; ci++)
            for (int v = 1; v <= 2; v++) {
                pq_writer_options o;
                if (prof)
                    pq_writer_options_column(&o);
                else
                    pq_writer_options_row(&o);
                o.codec = codecs[ci];
                o.codec_min_saving = 0.0; /* every chunk gets the codec */
                o.data_page_version = v;
                o.page_size = 1024;
                meru_buf file = {0};
                pq_sink sink;
                pq_sink_buf(&sink, &file);
                pq_writer *w;
                CHECK_OK(pq_writer_open(&w, &sink, specs, 4, &o));
                CHECK_OK(pq_writer_write(w, N, cd));
                CHECK_OK(pq_writer_close(w, NULL));
                pq_source src;
                pq_mem mem;
                pq_source_mem(&src, &mem, file.data, file.len);
                pq_reader *r;
                CHECK_OK(pq_reader_open(&r, &src, NULL));
                CHECK_EQ_INT(
                    pq_reader_meta(r)->row_groups[0].columns[0].meta_data.codec,
                    codecs[ci]);
                for (uint32_t c = 0; c < 4; c++) {
                    pq_cursor *cur;
                    CHECK_OK(pq_cursor_open(r, 0, c, &cur));
                    pq_batch b;
                    CHECK_OK(pq_cursor_next(cur, N, &b));
                    CHECK_EQ_INT(b.n, N);
                    for (int i = 0; i < N; i++) {
                        if (c == 0)
                            CHECK(((const int64_t *)b.values)[i] == k[i]);
                        if (c == 1) {
                            CHECK(b.valid[i] == valid[i]);
                            if (valid[i])
                                CHECK(((const double *)b.values)[i] == d[i]);
                        }
                        if (c == 2 && valid[i]) {
                            const pq_bytes *x = (const pq_bytes *)b.values + i;
                            CHECK(x->len == s[i].len &&
                                  !memcmp(x->ptr, s[i].ptr, x->len));
                        }
                        if (c == 3)
                            CHECK(((const uint8_t *)b.values)[i] == bits[i]);
                    }
                    pq_cursor_close(cur);
                }
                pq_reader_close(r);
                meru_buf_free(&file);
            }
}

int main(void)
{
    MERU_TEST_RUN(test_every_codec_page_version_and_profile);
    MERU_TEST_RUN(test_random_schemas_and_data_round_trip);
    return meru_test_finish();
}
