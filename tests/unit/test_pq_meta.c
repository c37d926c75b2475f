/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_meta.c — Parquet metadata decode/encode (src/parquet/meta.h) on
 * synthetic input: round trips of every struct with all optional fields set
 * and with none, exact bytes where the spec fixes them, and malformed
 * structs that must be refused with the struct and field named. The real
 * files of apache/parquet-testing are in test_pq_meta_corpus.c.
 */
#include "parquet/thrift.h"
#include "pq_meta_check.h"
#include "util/varint.h"

static const char *path_a[] = {"group", "leaf"};
static pq_encoding encs[] = {PQ_ENC_PLAIN, PQ_ENC_RLE, PQ_ENC_RLE_DICTIONARY,
                             PQ_ENC_BYTE_STREAM_SPLIT};
static pq_page_encoding_stats enc_stats[] = {
    {PQ_PAGE_DICTIONARY, PQ_ENC_PLAIN, 1},
    {PQ_PAGE_DATA_V2, PQ_ENC_RLE_DICTIONARY, 70000}};
static pq_key_value kvs[] = {{"k1", true, {(const uint8_t *)"v1", 2}},
                             {"no value", false, {NULL, 0}},
                             {"binary", true, {(const uint8_t *)"\0\1\2\0", 4}},
                             {"", true, {(const uint8_t *)"", 0}}};
static pq_sorting_column sorts[] = {{0, true, false}, {2, false, true}};

static void full_file_meta(pq_file_meta *m, pq_schema_element *se,
                           pq_row_group *rg, pq_column_chunk *cc)
{
    memset(se, 0, 4 * sizeof *se);
    se[0].name = "schema";
    se[0].has_num_children = true;
    se[0].num_children = 3;
    se[0].has_repetition = true;
    se[0].repetition_type = PQ_REQUIRED;

    se[1].name = "_merutable_seq";
    se[1].has_type = se[1].has_repetition = se[1].has_field_id = true;
    se[1].type = PQ_INT64;
    se[1].repetition_type = PQ_REQUIRED;
    se[1].field_id = -7;
    se[1].has_converted_type = true;
    se[1].converted_type = PQ_CT_INT_64;
    se[1].logical_type = (pq_logical_type){
        .kind = PQ_LT_INTEGER, .int_bit_width = 64, .int_is_signed = true};

    se[2].name = "price";
    se[2].has_type = se[2].has_type_length = se[2].has_repetition = true;
    se[2].type = PQ_FIXED_LEN_BYTE_ARRAY;
    se[2].type_length = 16;
    se[2].repetition_type = PQ_OPTIONAL;
    se[2].has_converted_type = se[2].has_scale = se[2].has_precision = true;
    se[2].converted_type = PQ_CT_DECIMAL;
    se[2].scale = 2;
    se[2].precision = 38;
    se[2].has_field_id = true;
    se[2].field_id = 2147483647;
    se[2].logical_type = (pq_logical_type){
        .kind = PQ_LT_DECIMAL, .decimal_scale = 2, .decimal_precision = 38};

    se[3].name = "ts \xc3\xa9"; /* UTF-8 survives */
    se[3].has_type = se[3].has_repetition = true;
    se[3].type = PQ_INT64;
    se[3].repetition_type = PQ_REPEATED;
    se[3].logical_type = (pq_logical_type){.kind = PQ_LT_TIMESTAMP,
                                           .is_adjusted_to_utc = true,
                                           .unit = PQ_UNIT_NANOS};

    memset(cc, 0, 2 * sizeof *cc);
    for (int i = 0; i < 2; i++) {
        pq_column_chunk *c = &cc[i];
        pq_column_meta *cm = &c->meta_data;
        c->file_path = i ? NULL : "other/file.parquet";
        c->file_offset = 4 + i;
        c->has_meta_data = true;
        c->has_offset_index = c->has_column_index = true;
        c->offset_index_offset = 1000000000000LL + i;
        c->offset_index_length = 77;
        c->column_index_offset = 999;
        c->column_index_length = INT32_MAX;
        cm->type = PQ_BYTE_ARRAY;
        cm->encodings = encs;
        cm->n_encodings = 4;
        cm->path_in_schema = path_a;
        cm->n_path = 2;
        cm->codec = PQ_CODEC_ZSTD;
        cm->num_values = INT64_MAX;
        cm->total_uncompressed_size = 1LL << 40;
        cm->total_compressed_size = 0;
        cm->key_value_metadata = kvs;
        cm->n_key_value_metadata = 4;
        cm->data_page_offset = 4;
        cm->has_index_page_offset = cm->has_dictionary_page_offset = true;
        cm->index_page_offset = 5;
        cm->dictionary_page_offset = 6;
        cm->has_statistics = true;
        cm->statistics = full_stats();
        cm->encoding_stats = enc_stats;
        cm->n_encoding_stats = 2;
        cm->has_bloom_filter_offset = cm->has_bloom_filter_length = true;
        cm->bloom_filter_offset = 123456789;
        cm->bloom_filter_length = 4096 + 16;
    }

    memset(rg, 0, 2 * sizeof *rg);
    rg[0].columns = cc;
    rg[0].n_columns = 2;
    rg[0].total_byte_size = 555;
    rg[0].num_rows = 10;
    rg[0].sorting_columns = sorts;
    rg[0].n_sorting_columns = 2;
    rg[0].has_file_offset = rg[0].has_total_compressed_size = true;
    rg[0].has_ordinal = true;
    rg[0].file_offset = 4;
    rg[0].total_compressed_size = 400;
    rg[0].ordinal = -2;
    rg[1].num_rows = 0; /* a row group with no columns at all */

    memset(m, 0, sizeof *m);
    m->version = 2;
    m->schema = se;
    m->n_schema = 4;
    m->num_rows = 10;
    m->row_groups = rg;
    m->n_row_groups = 2;
    m->key_value_metadata = kvs;
    m->n_key_value_metadata = 4;
    m->created_by = "merutable test (build 0)";
    m->has_column_orders = true;
    m->n_column_orders = 3;
}

/* encode(x) -> decode -> y; y must equal x, and encode(y) == encode(x). */
static void check_file_meta_round_trip(const pq_file_meta *m,
                                       uint32_t want_orders)
{
    meru_buf b1 = {0}, b2 = {0};
    meru_arena *a = new_arena();
    pq_file_meta got;
    CHECK(a);
    CHECK_OK(pq_encode_file_meta(&b1, m));
    CHECK_OK(pq_decode_file_meta(b1.data, b1.len, a, &got));
    CHECK(same_file_meta(m, &got));
    CHECK(got.has_column_orders);
    CHECK_EQ_INT(got.n_column_orders, want_orders);
    CHECK_OK(pq_encode_file_meta(&b2, &got));
    CHECK_EQ_INT(b2.len, b1.len);
    CHECK_MEM(b2.data, b1.data, b1.len);
    meru_buf_free(&b1);
    meru_buf_free(&b2);
    meru_arena_free(a);
}

/* ------------------------------------------------------- round trips */

static void test_file_meta_round_trip_with_every_field(void)
{
    pq_file_meta m;
    pq_schema_element se[4];
    pq_row_group rg[2];
    pq_column_chunk cc[2];
    full_file_meta(&m, se, rg, cc);
    check_file_meta_round_trip(&m, 3);
}

static void test_file_meta_round_trip_with_no_optional_field(void)
{
    pq_schema_element se[3] = {{0}};
    se[0].name = "root";
    se[1].name = "a";
    se[1].has_type = true;
    se[1].type = PQ_INT32;
    se[2].name = "b";
    se[2].has_type = true;
    se[2].type = PQ_BOOLEAN;
    pq_column_chunk cc = {0};
    cc.meta_data.path_in_schema = path_a;
    cc.meta_data.n_path = 1;
    cc.has_meta_data = true;
    pq_row_group rg = {.columns = &cc, .n_columns = 1};
    pq_file_meta m = {.version = 1,
                      .schema = se,
                      .n_schema = 3,
                      .row_groups = &rg,
                      .n_row_groups = 1};
    /* No column_orders requested: one TypeDefinedOrder per leaf anyway. */
    check_file_meta_round_trip(&m, 2);
    /* And no row groups at all. */
    m.row_groups = NULL;
    m.n_row_groups = 0;
    check_file_meta_round_trip(&m, 2);
}

static void test_every_logical_type_round_trips(void)
{
    static const pq_logical_type lts[] = {
        {.kind = PQ_LT_STRING},
        {.kind = PQ_LT_MAP},
        {.kind = PQ_LT_LIST},
        {.kind = PQ_LT_ENUM},
        {.kind = PQ_LT_DECIMAL, .decimal_scale = 0, .decimal_precision = 1},
        {.kind = PQ_LT_DATE},
        {.kind = PQ_LT_TIME,
         .is_adjusted_to_utc = false,
         .unit = PQ_UNIT_MILLIS},
        {.kind = PQ_LT_TIME,
         .is_adjusted_to_utc = true,
         .unit = PQ_UNIT_MICROS},
        {.kind = PQ_LT_TIMESTAMP, .unit = PQ_UNIT_MICROS},
        {.kind = PQ_LT_TIMESTAMP,
         .is_adjusted_to_utc = true,
         .unit = PQ_UNIT_MILLIS},
        {.kind = PQ_LT_INTEGER, .int_bit_width = 8, .int_is_signed = false},
        {.kind = PQ_LT_INTEGER, .int_bit_width = -128, .int_is_signed = true},
        {.kind = PQ_LT_UNKNOWN},
        {.kind = PQ_LT_JSON},
        {.kind = PQ_LT_BSON},
        {.kind = PQ_LT_UUID},
        {.kind = PQ_LT_FLOAT16},
    };
    enum { N = sizeof lts / sizeof lts[0] };
    pq_schema_element se[N + 1];
    memset(se, 0, sizeof se);
    se[0].name = "r";
    for (size_t i = 0; i < N; i++) {
        se[i + 1].name = "c";
        se[i + 1].has_type = true;
        se[i + 1].type = PQ_BYTE_ARRAY;
        se[i + 1].logical_type = lts[i];
    }
    pq_file_meta m = {.schema = se, .n_schema = N + 1};
    check_file_meta_round_trip(&m, N);
    /* A kind the decoder could not identify cannot be re-encoded. */
    se[1].logical_type.kind = PQ_LT_OTHER;
    meru_buf b = {0};
    CHECK_RC(pq_encode_file_meta(&b, &m), MERU_EINVAL);
    CHECK_EQ_INT(b.len, 0); /* nothing half-written */
    meru_buf_free(&b);
}

static void check_page_header_round_trip(const pq_page_header *h)
{
    meru_buf b1 = {0}, b2 = {0};
    meru_arena *a = new_arena();
    pq_page_header got;
    size_t used = 0;
    CHECK(a);
    CHECK_OK(pq_encode_page_header(&b1, h));
    /* Page data follows the header: the decoder must stop at its end. */
    CHECK_OK(meru_buf_append(&b1, "DATA", 4));
    CHECK_OK(pq_decode_page_header(b1.data, b1.len, a, &got, &used));
    CHECK_EQ_INT(used, b1.len - 4);
    CHECK(same_page_header(h, &got));
    CHECK_OK(pq_encode_page_header(&b2, &got));
    CHECK_EQ_INT(b2.len, used);
    CHECK_MEM(b2.data, b1.data, used);
    meru_buf_free(&b1);
    meru_buf_free(&b2);
    meru_arena_free(a);
}

static void test_page_headers_round_trip(void)
{
    pq_page_header h = {0};
    /* v1 data page, every field */
    h.type = PQ_PAGE_DATA;
    h.uncompressed_page_size = 1 << 20;
    h.compressed_page_size = 1000;
    h.has_crc = true;
    h.crc = (int32_t)0xcbf43926u; /* negative as an i32 */
    h.has_data_page_header = true;
    h.data_page_header.num_values = 12345;
    h.data_page_header.encoding = PQ_ENC_DELTA_BINARY_PACKED;
    h.data_page_header.definition_level_encoding = PQ_ENC_RLE;
    h.data_page_header.repetition_level_encoding = PQ_ENC_BIT_PACKED;
    h.data_page_header.has_statistics = true;
    h.data_page_header.statistics = full_stats();
    check_page_header_round_trip(&h);
    /* v1 data page, nothing optional */
    h.has_crc = false;
    h.data_page_header.has_statistics = false;
    check_page_header_round_trip(&h);
    /* dictionary page with and without is_sorted */
    memset(&h, 0, sizeof h);
    h.type = PQ_PAGE_DICTIONARY;
    h.uncompressed_page_size = h.compressed_page_size = 0;
    h.has_dictionary_page_header = true;
    h.dictionary_page_header.num_values = 0;
    h.dictionary_page_header.encoding = PQ_ENC_PLAIN;
    check_page_header_round_trip(&h);
    h.dictionary_page_header.has_is_sorted = true;
    h.dictionary_page_header.is_sorted = true;
    check_page_header_round_trip(&h);
    /* v2 data page, compressed false, statistics */
    memset(&h, 0, sizeof h);
    h.type = PQ_PAGE_DATA_V2;
    h.uncompressed_page_size = 300;
    h.compressed_page_size = 200;
    h.has_crc = true;
    h.crc = 7;
    h.has_data_page_header_v2 = true;
    h.data_page_header_v2.num_values = 100;
    h.data_page_header_v2.num_nulls = 10;
    h.data_page_header_v2.num_rows = 50;
    h.data_page_header_v2.encoding = PQ_ENC_RLE_DICTIONARY;
    h.data_page_header_v2.definition_levels_byte_length = 20;
    h.data_page_header_v2.repetition_levels_byte_length = 30;
    h.data_page_header_v2.is_compressed = false;
    h.data_page_header_v2.has_statistics = true;
    h.data_page_header_v2.statistics = full_stats();
    check_page_header_round_trip(&h);
    h.data_page_header_v2.is_compressed = true;
    h.data_page_header_v2.has_statistics = false;
    check_page_header_round_trip(&h);
    /* an index page: no type-specific header needed */
    memset(&h, 0, sizeof h);
    h.type = PQ_PAGE_INDEX;
    h.compressed_page_size = h.uncompressed_page_size = 8;
    check_page_header_round_trip(&h);
}

/* The v2 headers the writer emits take a short path in the decoder
 * (page_header_v2_fast); it must decode every variant of that shape as
 * the generic path does, hand anything else to it, and fail on every
 * cut of the input as before. */
static void test_v2_header_shapes_decode_alike(void)
{
    meru_arena *a = new_arena();
    CHECK(a);
    int cases = 0;
    for (int crc = 0; crc < 2; crc++)
        for (int comp = 0; comp < 3; comp++) /* absent: default, true, false */
            for (int stats = 0; stats < 4; stats++) {
                pq_page_header h = {0};
                h.type = PQ_PAGE_DATA_V2;
                h.uncompressed_page_size = 4100 + stats;
                h.compressed_page_size = 2400 + crc;
                h.has_crc = crc;
                h.crc = crc ? (int32_t)0x9abcdef0u : 0;
                h.has_data_page_header_v2 = true;
                pq_data_page_header_v2 *v = &h.data_page_header_v2;
                v->num_values = 40 + comp;
                v->num_nulls = stats == 3 ? 40 : comp;
                v->num_rows = 40;
                v->encoding =
                    comp == 2 ? PQ_ENC_DELTA_BYTE_ARRAY : PQ_ENC_PLAIN;
                v->definition_levels_byte_length = 2;
                v->repetition_levels_byte_length = crc;
                v->is_compressed = comp != 2;
                /* 0 none, 1 a null count, 2 a count and a max (the generic
                 * path's), 3 a large null count */
                v->has_statistics = stats > 0;
                v->statistics.has_null_count = stats > 0;
                v->statistics.null_count = stats == 3 ? 40 : comp;
                if (stats == 2) {
                    v->statistics.has_max_value = true;
                    v->statistics.max_value =
                        (pq_bytes){(const uint8_t *)"zz", 2};
                }
                if (comp == 0 && stats == 0) {
                    /* The encoder always writes field 7, so "absent"
                     * round-trips as true written out; the header truly
                     * without it is hand-encoded in
                     * test_v2_header_without_field_7_decodes_alike. */
                    continue;
                }
                check_page_header_round_trip(&h);
                meru_buf b = {0};
                CHECK_OK(pq_encode_page_header(&b, &h));
                pq_page_header got;
                size_t used;
                for (size_t cut = 0; cut < b.len; cut++)
                    CHECK(pq_decode_page_header(b.data, cut, a, &got, &used) !=
                          MERU_OK);
                meru_buf_free(&b);
                cases++;
            }
    CHECK_EQ_INT(cases, 2 * 3 * 4 - 2);
    /* values the generic path refuses are refused with its message */
    pq_page_header h = {0};
    h.type = PQ_PAGE_DATA_V2;
    h.uncompressed_page_size = 100;
    h.compressed_page_size = 100;
    h.has_data_page_header_v2 = true;
    h.data_page_header_v2.num_values = 5;
    h.data_page_header_v2.num_nulls = 6;
    h.data_page_header_v2.num_rows = 5;
    h.data_page_header_v2.is_compressed = true;
    meru_buf b = {0};
    CHECK_OK(pq_encode_page_header(&b, &h));
    pq_page_header got;
    size_t used;
    CHECK_RC(pq_decode_page_header(b.data, b.len, a, &got, &used),
             MERU_ECORRUPT);
    CHECK_ERRMSG("num_nulls 6");
    h.data_page_header_v2.num_nulls = 0;
    h.uncompressed_page_size = -3;
    meru_buf_reset(&b);
    CHECK_OK(pq_encode_page_header(&b, &h));
    CHECK_RC(pq_decode_page_header(b.data, b.len, a, &got, &used),
             MERU_ECORRUPT);
    CHECK_ERRMSG("uncompressed_page_size: negative");
    /* a negative null count reads as absent (the generic rule) */
    h.uncompressed_page_size = 100;
    h.data_page_header_v2.has_statistics = true;
    h.data_page_header_v2.statistics.has_null_count = true;
    h.data_page_header_v2.statistics.null_count = -1;
    meru_buf_reset(&b);
    CHECK_OK(pq_encode_page_header(&b, &h));
    CHECK_OK(pq_decode_page_header(b.data, b.len, a, &got, &used));
    CHECK(got.data_page_header_v2.has_statistics);
    CHECK(!got.data_page_header_v2.statistics.has_null_count);
    CHECK_EQ_INT(used, b.len);
    meru_buf_free(&b);
    meru_arena_free(a);
}

static void test_v2_is_compressed_defaults_to_true(void)
{
    /* PageHeader { 1: type 3, 2: 10, 3: 10, 8: DataPageHeaderV2 { 1: 1,
     * 2: 0, 3: 1, 4: PLAIN, 5: 0, 6: 0 } } with no field 7. */
    static const uint8_t in[] = {0x15, 0x06, 0x15, 0x14, 0x15, 0x14, 0x5c,
                                 0x15, 0x02, 0x15, 0x00, 0x15, 0x02, 0x15,
                                 0x00, 0x15, 0x00, 0x15, 0x00, 0x00, 0x00};
    meru_arena *a = new_arena();
    pq_page_header h;
    size_t used;
    CHECK(a);
    CHECK_OK(pq_decode_page_header(in, sizeof in, a, &h, &used));
    CHECK_EQ_INT(used, sizeof in);
    CHECK(h.has_data_page_header_v2);
    CHECK(h.data_page_header_v2.is_compressed);
    CHECK_EQ_INT(h.data_page_header_v2.num_values, 1);
    CHECK_EQ_INT(h.data_page_header_v2.num_rows, 1);
    meru_arena_free(a);
}

/* Field header byte `h` (delta and type in one byte) and the zigzag
 * varint of an i32 or i64 value; returns the bytes written. */
static size_t put_int_field(uint8_t *p, uint8_t h, int64_t v)
{
    p[0] = h;
    return 1 + meru_varint_put64(p + 1, meru_zigzag_enc64(v));
}

/* A data page v2 header with no DataPageHeaderV2.is_compressed (field 7),
 * as another writer may send it: crc or not, and Statistics none (0), a
 * null count (1), or a null count and a max_value (2). With long_first the
 * first field header is written in the long form (type byte, then the id
 * as a zigzag i16), which the short path does not take: the same header
 * then goes through the generic decoder. */
static size_t v2_without_field_7(uint8_t *p, bool long_first, bool crc,
                                 int stats)
{
    size_t n = 0;
    if (long_first) {
        p[n++] = 0x05; /* delta 0, i32 */
        p[n++] = 0x02; /* field id 1 */
        n += meru_varint_put64(p + n, meru_zigzag_enc64(PQ_PAGE_DATA_V2));
    } else {
        n += put_int_field(p + n, 0x15, PQ_PAGE_DATA_V2);
    }
    n += put_int_field(p + n, 0x15, 4096); /* uncompressed_page_size */
    n += put_int_field(p + n, 0x15, 2048); /* compressed_page_size */
    if (crc)
        n += put_int_field(p + n, 0x15, -12345);
    p[n++] = crc ? 0x4C : 0x5C; /* field 8, struct */
    const int32_t v2[6] = {40, 3, 40, PQ_ENC_PLAIN, 2, 0};
    for (int i = 0; i < 6; i++)
        n += put_int_field(p + n, 0x15, v2[i]);
    if (stats) {
        p[n++] = 0x2C;                      /* field 8 after 6: delta 2 */
        n += put_int_field(p + n, 0x36, 3); /* null_count, i64 */
        if (stats == 2) {
            p[n++] = 0x28; /* max_value: field 5 after 3, binary */
            p[n++] = 2;
            p[n++] = 'z';
            p[n++] = 'z';
        }
        p[n++] = 0; /* Statistics stop */
    }
    p[n++] = 0; /* DataPageHeaderV2 stop */
    p[n++] = 0; /* PageHeader stop */
    return n;
}

/* A v2 header without field 7 means is_compressed = true (the IDL
 * default) whichever path decodes it: the short one (no statistics) or
 * the generic one (statistics after field 6, or a long field header). */
static void test_v2_header_without_field_7_decodes_alike(void)
{
    meru_arena *a = new_arena();
    CHECK(a);
    for (int crc = 0; crc < 2; crc++)
        for (int stats = 0; stats < 3; stats++) {
            uint8_t fast[64], slow[64];
            size_t nf = v2_without_field_7(fast, false, crc, stats);
            size_t ns = v2_without_field_7(slow, true, crc, stats);
            pq_page_header x, y;
            size_t used;
            CHECK_OK(pq_decode_page_header(fast, nf, a, &x, &used));
            CHECK_EQ_INT(used, nf);
            CHECK_OK(pq_decode_page_header(slow, ns, a, &y, &used));
            CHECK_EQ_INT(used, ns);
            CHECK(same_page_header(&x, &y));
            CHECK_EQ_INT(x.type, PQ_PAGE_DATA_V2);
            CHECK_EQ_INT(x.uncompressed_page_size, 4096);
            CHECK_EQ_INT(x.compressed_page_size, 2048);
            CHECK(x.has_crc == crc);
            CHECK_EQ_INT(x.crc, crc ? -12345 : 0);
            CHECK(x.has_data_page_header_v2);
            const pq_data_page_header_v2 *v = &x.data_page_header_v2;
            CHECK(v->is_compressed);
            CHECK_EQ_INT(v->num_values, 40);
            CHECK_EQ_INT(v->num_nulls, 3);
            CHECK_EQ_INT(v->num_rows, 40);
            CHECK_EQ_INT(v->encoding, PQ_ENC_PLAIN);
            CHECK_EQ_INT(v->definition_levels_byte_length, 2);
            CHECK_EQ_INT(v->repetition_levels_byte_length, 0);
            CHECK(v->has_statistics == (stats > 0));
            CHECK(v->statistics.has_null_count == (stats > 0));
            CHECK_EQ_INT(v->statistics.null_count, stats > 0 ? 3 : 0);
            CHECK(v->statistics.has_max_value == (stats == 2));
            if (stats == 2)
                CHECK(same_bytes(v->statistics.max_value, BYTES("zz")));
            for (size_t cut = 0; cut < nf; cut++)
                CHECK(pq_decode_page_header(fast, cut, a, &x, &used) !=
                      MERU_OK);
        }
    meru_arena_free(a);
}

static void test_page_indexes_round_trip(void)
{
    bool nulls[3] = {false, true, false};
    pq_bytes mins[3] = {BYTES("a"), BYTES(""), BYTES("\0x")};
    pq_bytes maxs[3] = {BYTES("b"), BYTES(""), BYTES("\xff")};
    int64_t ncounts[3] = {0, 500, 1};
    pq_column_index ci = {.null_pages = nulls,
                          .n_pages = 3,
                          .min_values = mins,
                          .max_values = maxs,
                          .boundary_order = PQ_BOUNDARY_ASCENDING,
                          .null_counts = ncounts};
    meru_arena *a = new_arena();
    CHECK(a);
    for (int with_counts = 1; with_counts >= 0; with_counts--) {
        meru_buf b = {0};
        pq_column_index got;
        ci.null_counts = with_counts ? ncounts : NULL;
        CHECK_OK(pq_encode_column_index(&b, &ci));
        CHECK_OK(pq_decode_column_index(b.data, b.len, a, &got));
        CHECK_EQ_INT(got.n_pages, 3);
        CHECK_EQ_INT(got.boundary_order, PQ_BOUNDARY_ASCENDING);
        for (int i = 0; i < 3; i++) {
            CHECK(got.null_pages[i] == nulls[i]);
            CHECK(same_bytes(got.min_values[i], mins[i]));
            CHECK(same_bytes(got.max_values[i], maxs[i]));
        }
        if (with_counts) {
            CHECK(got.null_counts);
            CHECK_MEM(got.null_counts, ncounts, sizeof ncounts);
        } else {
            CHECK(got.null_counts == NULL);
        }
        meru_buf_free(&b);
    }
    /* Empty index (no pages) */
    pq_column_index empty = {0}, got;
    meru_buf b = {0};
    CHECK_OK(pq_encode_column_index(&b, &empty));
    CHECK_OK(pq_decode_column_index(b.data, b.len, a, &got));
    CHECK_EQ_INT(got.n_pages, 0);
    meru_buf_free(&b);

    pq_page_location locs[3] = {
        {4, 100, 0}, {104, 2000000, 10}, {INT64_MAX, 0, INT64_MAX}};
    pq_offset_index oi = {.page_locations = locs, .n_pages = 3}, goi;
    CHECK_OK(pq_encode_offset_index(&b, &oi));
    CHECK_OK(pq_decode_offset_index(b.data, b.len, a, &goi));
    CHECK_EQ_INT(goi.n_pages, 3);
    for (int i = 0; i < 3; i++) {
        CHECK(goi.page_locations[i].offset == locs[i].offset);
        CHECK(goi.page_locations[i].compressed_page_size ==
              locs[i].compressed_page_size);
        CHECK(goi.page_locations[i].first_row_index == locs[i].first_row_index);
    }
    meru_buf_free(&b);
    oi.n_pages = 0;
    CHECK_OK(pq_encode_offset_index(&b, &oi));
    CHECK_OK(pq_decode_offset_index(b.data, b.len, a, &goi));
    CHECK_EQ_INT(goi.n_pages, 0);
    meru_buf_free(&b);
    meru_arena_free(a);
}

static void test_bloom_header_bytes_match_spec(void)
{
    /* { 1: i32 1024, 2: {1: {}}, 3: {1: {}}, 4: {1: {}} }
     * zigzag(1024) = 2048 = 0x80 0x10 */
    static const uint8_t want[] = {0x15, 0x80, 0x10, 0x1c, 0x1c, 0x00,
                                   0x00, 0x1c, 0x1c, 0x00, 0x00, 0x1c,
                                   0x1c, 0x00, 0x00, 0x00};
    pq_bloom_filter_header h = {.num_bytes = 1024}, got;
    meru_buf b = {0};
    size_t used;
    CHECK_OK(pq_encode_bloom_header(&b, &h));
    CHECK_EQ_INT(b.len, sizeof want);
    CHECK_MEM(b.data, want, sizeof want);
    CHECK_OK(pq_decode_bloom_header(b.data, b.len, &got, &used));
    CHECK_EQ_INT(got.num_bytes, 1024);
    CHECK_EQ_INT(used, sizeof want);
    meru_buf_free(&b);
    /* Not whole 32-byte blocks */
    static const uint8_t odd[] = {0x15, 0x82, 0x10, 0x1c, 0x1c, 0x00,
                                  0x00, 0x1c, 0x1c, 0x00, 0x00, 0x1c,
                                  0x1c, 0x00, 0x00, 0x00};
    CHECK_RC(pq_decode_bloom_header(odd, sizeof odd, &got, &used),
             MERU_ECORRUPT);
    CHECK_ERRMSG("BloomFilterHeader.numBytes");
    /* A hash other than XXHASH (member 2) is valid but unsupported */
    static const uint8_t hash2[] = {0x15, 0x80, 0x10, 0x1c, 0x1c, 0x00,
                                    0x00, 0x1c, 0x2c, 0x00, 0x00, 0x1c,
                                    0x1c, 0x00, 0x00, 0x00};
    CHECK_RC(pq_decode_bloom_header(hash2, sizeof hash2, &got, &used),
             MERU_ENOTSUP);
    CHECK_ERRMSG("XXHASH");
    /* Missing compression */
    CHECK_RC(pq_decode_bloom_header(want, 11, &got, &used), MERU_ECORRUPT);
    static uint8_t nocomp[12];
    memcpy(nocomp, want, 11);
    nocomp[11] = 0;
    CHECK_RC(pq_decode_bloom_header(nocomp, 12, &got, &used), MERU_ECORRUPT);
    CHECK_ERRMSG("compression");
}

static void test_errors_name_struct_and_field(void)
{
    meru_arena *a = new_arena();
    meru_buf b = {0};
    pq_file_meta m, got;
    pq_schema_element se[4];
    pq_row_group rg[2];
    pq_column_chunk cc[2];
    CHECK(a);

    full_file_meta(&m, se, rg, cc);
    m.num_rows = -1;
    CHECK_OK(pq_encode_file_meta(&b, &m));
    CHECK_RC(pq_decode_file_meta(b.data, b.len, a, &got), MERU_ECORRUPT);
    CHECK_ERRMSG("FileMetaData.num_rows: negative (-1)");

    full_file_meta(&m, se, rg, cc);
    cc[1].meta_data.total_compressed_size = -5;
    meru_buf_reset(&b);
    CHECK_OK(pq_encode_file_meta(&b, &m));
    CHECK_RC(pq_decode_file_meta(b.data, b.len, a, &got), MERU_ECORRUPT);
    CHECK_ERRMSG("FileMetaData.row_groups[0]: RowGroup.columns[1]: "
                 "ColumnChunk.meta_data: "
                 "ColumnMetaData.total_compressed_size: negative (-5)");

    full_file_meta(&m, se, rg, cc);
    se[2].type = (pq_type)9;
    meru_buf_reset(&b);
    CHECK_OK(pq_encode_file_meta(&b, &m));
    CHECK_RC(pq_decode_file_meta(b.data, b.len, a, &got), MERU_ECORRUPT);
    CHECK_ERRMSG("FileMetaData.schema[2]: SchemaElement.type: unknown "
                 "physical type (9)");

    /* Required fields: a FileMetaData with only a version. */
    static const uint8_t only_version[] = {0x15, 0x02, 0x00};
    CHECK_RC(pq_decode_file_meta(only_version, 3, a, &got), MERU_ECORRUPT);
    CHECK_ERRMSG("FileMetaData: required field schema missing");
    /* A ColumnMetaData without data_page_offset. */
    full_file_meta(&m, se, rg, cc);
    meru_buf_reset(&b);
    {
        tc_writer w;
        tc_writer_init(&w, &b);
        tc_w_struct_begin(&w);
        tc_w_field_i32(&w, 1, 1);
        tc_w_field(&w, 2, TC_LIST);
        tc_w_list(&w, TC_STRUCT, 1);
        tc_w_struct_begin(&w);
        tc_w_field_binary(&w, 4, "root", 4);
        tc_w_struct_end(&w);
        tc_w_field_i64(&w, 3, 0);
        tc_w_field(&w, 4, TC_LIST);
        tc_w_list(&w, TC_STRUCT, 1);
        tc_w_struct_begin(&w); /* RowGroup */
        tc_w_field(&w, 1, TC_LIST);
        tc_w_list(&w, TC_STRUCT, 1);
        tc_w_struct_begin(&w); /* ColumnChunk */
        tc_w_field_i64(&w, 2, 0);
        tc_w_field(&w, 3, TC_STRUCT);
        tc_w_struct_begin(&w); /* ColumnMetaData, 1..7 only */
        tc_w_field_i32(&w, 1, PQ_INT32);
        tc_w_field(&w, 2, TC_LIST);
        tc_w_list(&w, TC_I32, 0);
        tc_w_field(&w, 3, TC_LIST);
        tc_w_list(&w, TC_BINARY, 0);
        tc_w_field_i32(&w, 4, 0);
        tc_w_field_i64(&w, 5, 0);
        tc_w_field_i64(&w, 6, 0);
        tc_w_field_i64(&w, 7, 0);
        tc_w_struct_end(&w);
        tc_w_struct_end(&w);
        tc_w_field_i64(&w, 2, 0);
        tc_w_field_i64(&w, 3, 0);
        tc_w_struct_end(&w);
        tc_w_struct_end(&w);
        CHECK_OK(tc_writer_finish(&w));
    }
    CHECK_RC(pq_decode_file_meta(b.data, b.len, a, &got), MERU_ECORRUPT);
    CHECK_ERRMSG("ColumnMetaData: required field data_page_offset missing");

    /* Page headers: negative size, missing type-specific header. */
    pq_page_header h = {.type = PQ_PAGE_DICTIONARY,
                        .compressed_page_size = -1,
                        .has_dictionary_page_header = true};
    pq_page_header gh;
    size_t used;
    meru_buf_reset(&b);
    CHECK_OK(pq_encode_page_header(&b, &h));
    CHECK_RC(pq_decode_page_header(b.data, b.len, a, &gh, &used),
             MERU_ECORRUPT);
    CHECK_ERRMSG("PageHeader.compressed_page_size: negative (-1)");
    h.compressed_page_size = 0;
    h.has_dictionary_page_header = false;
    meru_buf_reset(&b);
    CHECK_OK(pq_encode_page_header(&b, &h));
    CHECK_RC(pq_decode_page_header(b.data, b.len, a, &gh, &used),
             MERU_ECORRUPT);
    CHECK_ERRMSG("DICTIONARY_PAGE lacks its header");
    /* v2 levels longer than the page */
    memset(&h, 0, sizeof h);
    h.type = PQ_PAGE_DATA_V2;
    h.compressed_page_size = h.uncompressed_page_size = 10;
    h.has_data_page_header_v2 = true;
    h.data_page_header_v2.num_values = 1;
    h.data_page_header_v2.definition_levels_byte_length = 6;
    h.data_page_header_v2.repetition_levels_byte_length = 6;
    meru_buf_reset(&b);
    CHECK_OK(pq_encode_page_header(&b, &h));
    CHECK_RC(pq_decode_page_header(b.data, b.len, a, &gh, &used),
             MERU_ECORRUPT);
    CHECK_ERRMSG("level bytes");
    /* ColumnIndex lists of different lengths */
    meru_buf_reset(&b);
    {
        tc_writer w;
        tc_writer_init(&w, &b);
        tc_w_struct_begin(&w);
        tc_w_field(&w, 1, TC_LIST);
        tc_w_list(&w, TC_BOOL_ELEM, 2);
        tc_w_bool_elem(&w, false);
        tc_w_bool_elem(&w, true);
        tc_w_field(&w, 2, TC_LIST);
        tc_w_list(&w, TC_BINARY, 2);
        tc_w_binary(&w, "a", 1);
        tc_w_binary(&w, "", 0);
        tc_w_field(&w, 3, TC_LIST);
        tc_w_list(&w, TC_BINARY, 1);
        tc_w_binary(&w, "b", 1);
        tc_w_field_i32(&w, 4, 0);
        tc_w_struct_end(&w);
        CHECK_OK(tc_writer_finish(&w));
    }
    pq_column_index gci;
    CHECK_RC(pq_decode_column_index(b.data, b.len, a, &gci), MERU_ECORRUPT);
    CHECK_ERRMSG("ColumnIndex.max_values: 1 entries for 2 pages");
    meru_buf_free(&b);
    meru_arena_free(a);
}

static void test_unknown_and_mistyped_fields_are_skipped(void)
{
    /* A FileMetaData with extra fields the decoder does not know (id 50: a
     * map of lists; id 1000: a struct) and a known id with the wrong wire
     * type (ColumnMetaData 15 as a list, as dict-page-offset-zero.parquet
     * has): all skipped, the rest decoded. */
    meru_buf b = {0};
    meru_arena *a = new_arena();
    pq_file_meta got;
    CHECK(a);
    tc_writer w;
    tc_writer_init(&w, &b);
    tc_w_struct_begin(&w);
    tc_w_field_i32(&w, 1, 1);
    tc_w_field(&w, 2, TC_LIST);
    tc_w_list(&w, TC_STRUCT, 1);
    tc_w_struct_begin(&w);
    tc_w_field_binary(&w, 4, "root", 4);
    tc_w_field_i32(&w, 11, 5); /* vector_length: newer than meta.h */
    tc_w_struct_end(&w);
    tc_w_field_i64(&w, 3, 42);
    tc_w_field(&w, 4, TC_LIST);
    tc_w_list(&w, TC_STRUCT, 1);
    tc_w_struct_begin(&w); /* RowGroup */
    tc_w_field(&w, 1, TC_LIST);
    tc_w_list(&w, TC_STRUCT, 1);
    tc_w_struct_begin(&w); /* ColumnChunk */
    tc_w_field_i64(&w, 2, 0);
    tc_w_field(&w, 3, TC_STRUCT);
    tc_w_struct_begin(&w); /* ColumnMetaData */
    tc_w_field_i32(&w, 1, PQ_INT32);
    tc_w_field(&w, 2, TC_LIST);
    tc_w_list(&w, TC_I32, 1);
    tc_w_i32(&w, PQ_ENC_PLAIN);
    tc_w_field(&w, 3, TC_LIST);
    tc_w_list(&w, TC_BINARY, 1);
    tc_w_binary(&w, "c", 1);
    tc_w_field_i32(&w, 4, 0);
    tc_w_field_i64(&w, 5, 42);
    tc_w_field_i64(&w, 6, 100);
    tc_w_field_i64(&w, 7, 100);
    tc_w_field_i64(&w, 9, 4);
    tc_w_field(&w, 15, TC_LIST); /* mistyped */
    tc_w_list(&w, TC_STRUCT, 1);
    tc_w_struct_begin(&w);
    tc_w_field_i32(&w, 1, 7);
    tc_w_struct_end(&w);
    tc_w_field(&w, 16, TC_STRUCT); /* size_statistics: unknown here */
    tc_w_struct_begin(&w);
    tc_w_field_i64(&w, 1, 9);
    tc_w_field(&w, 2, TC_LIST);
    tc_w_list(&w, TC_I64, 2);
    tc_w_i64(&w, 1);
    tc_w_i64(&w, 2);
    tc_w_struct_end(&w);
    tc_w_struct_end(&w);
    tc_w_struct_end(&w);
    tc_w_field_i64(&w, 2, 100);
    tc_w_field_i64(&w, 3, 42);
    tc_w_struct_end(&w);
    tc_w_field(&w, 50, TC_MAP);
    {
        static const uint8_t map[] = {0x01, 0x89, 0x01, 'k', 0x15, 0x02};
        CHECK_OK(meru_buf_append(&b, map, sizeof map)); /* {"k": [1]} */
    }
    tc_w_field(&w, 1000, TC_STRUCT);
    tc_w_struct_begin(&w);
    tc_w_field_double(&w, 1, 2.5);
    tc_w_field(&w, 2, TC_UUID);
    CHECK_OK(meru_buf_append(&b, "0123456789abcdef", 16));
    tc_w_struct_end(&w);
    tc_w_struct_end(&w);
    CHECK_OK(tc_writer_finish(&w));

    CHECK_OK(pq_decode_file_meta(b.data, b.len, a, &got));
    CHECK_EQ_INT(got.num_rows, 42);
    CHECK_EQ_INT(got.n_schema, 1);
    CHECK_STR(got.schema[0].name, "root");
    const pq_column_meta *cm = &got.row_groups[0].columns[0].meta_data;
    CHECK_EQ_INT(cm->num_values, 42);
    CHECK_EQ_INT(cm->data_page_offset, 4);
    CHECK(!cm->has_bloom_filter_length);
    CHECK_STR(cm->path_in_schema[0], "c");
    CHECK(!got.has_column_orders);
    meru_buf_free(&b);
    meru_arena_free(a);
}

static void test_hostile_counts_do_not_allocate(void)
{
    /* FileMetaData { 2: list<struct> of 2^31-1 elements } in 8 bytes */
    static const uint8_t in[] = {0x29, 0xfc, 0xff, 0xff,
                                 0xff, 0xff, 0x07, 0x00};
    meru_arena *a = new_arena();
    pq_file_meta m;
    CHECK(a);
    CHECK_RC(pq_decode_file_meta(in, sizeof in, a, &m), MERU_ECORRUPT);
    CHECK_ERRMSG("FileMetaData.schema");
    CHECK(meru_arena_bytes(a) < 1024 * 1024);
    /* A list of 1000 row groups needs more than 1000 bytes. */
    uint8_t rg[1005] = {0x49, 0xfc, 0xe8, 0x07};
    CHECK_RC(pq_decode_file_meta(rg, sizeof rg, a, &m), MERU_ECORRUPT);
    CHECK(meru_arena_bytes(a) < 1024 * 1024);
    /* Binary length beyond the input */
    static const uint8_t str[] = {0x68, 0xff, 0xff, 0xff, 0xff, 0x07, 'x'};
    CHECK_RC(pq_decode_file_meta(str, sizeof str, a, &m), MERU_ECORRUPT);
    CHECK_ERRMSG("FileMetaData.created_by");
    /* Nothing at all */
    CHECK_RC(pq_decode_file_meta(NULL, 0, a, &m), MERU_ECORRUPT);
    meru_arena_free(a);
}

static void test_negative_null_counts_read_as_absent(void)
{
    /* parquet-mr writes -1 for unknown null counts (the column indexes of
     * datapage_v1-*-checksum.parquet do). */
    meru_arena *a = new_arena();
    meru_buf b = {0};
    CHECK(a);
    bool nulls[2] = {true, true};
    pq_bytes v[2] = {{0}, {0}};
    int64_t counts[2] = {5, -1};
    pq_column_index ci = {.null_pages = nulls,
                          .n_pages = 2,
                          .min_values = v,
                          .max_values = v,
                          .null_counts = counts},
                    got;
    CHECK_OK(pq_encode_column_index(&b, &ci));
    CHECK_OK(pq_decode_column_index(b.data, b.len, a, &got));
    CHECK(got.null_counts == NULL);
    CHECK_EQ_INT(got.n_pages, 2);
    meru_buf_reset(&b);

    pq_page_header h = {.type = PQ_PAGE_DATA, .has_data_page_header = true};
    pq_page_header gh;
    size_t used;
    h.data_page_header.has_statistics = true;
    h.data_page_header.statistics.has_null_count = true;
    h.data_page_header.statistics.null_count = -1;
    h.data_page_header.statistics.has_distinct_count = true;
    h.data_page_header.statistics.distinct_count = 3;
    CHECK_OK(pq_encode_page_header(&b, &h));
    CHECK_OK(pq_decode_page_header(b.data, b.len, a, &gh, &used));
    CHECK(!gh.data_page_header.statistics.has_null_count);
    CHECK(gh.data_page_header.statistics.has_distinct_count);
    CHECK_EQ_INT(gh.data_page_header.statistics.distinct_count, 3);

    /* And the real file. */
    file f;
    pq_file_meta m;
    CHECK(load_data("datapage_v1-uncompressed-checksum.parquet", &f) == 0);
    CHECK_OK(pq_decode_file_meta(f.footer, f.footer_len, a, &m));
    const pq_column_chunk *cc = &m.row_groups[0].columns[0];
    CHECK(cc->has_column_index);
    CHECK_OK(pq_decode_column_index(f.data + cc->column_index_offset,
                                    (size_t)cc->column_index_length, a, &got));
    CHECK(got.null_counts == NULL);
    CHECK(got.n_pages >= 1);
    unload(&f);
    meru_buf_free(&b);
    meru_arena_free(a);
}

static void test_encoders_validate_and_leave_buffer_intact(void)
{
    meru_buf b = {0};
    CHECK_OK(meru_buf_append(&b, "keep", 4));
    pq_schema_element se[2] = {{.name = "r"}, {.name = NULL}};
    pq_file_meta m = {.schema = se, .n_schema = 2};
    CHECK_RC(pq_encode_file_meta(&b, &m), MERU_EINVAL);
    CHECK_EQ_INT(b.len, 4);
    m.n_schema = 0;
    CHECK_RC(pq_encode_file_meta(&b, &m), MERU_EINVAL);
    m.n_schema = 1;
    m.n_row_groups = 1; /* with a NULL array */
    CHECK_RC(pq_encode_file_meta(&b, &m), MERU_EINVAL);
    se[1].name = "c";
    se[1].logical_type.kind = PQ_LT_TIMESTAMP; /* unit missing */
    m.n_schema = 2;
    m.n_row_groups = 0;
    CHECK_RC(pq_encode_file_meta(&b, &m), MERU_EINVAL);
    CHECK_EQ_INT(b.len, 4);
    CHECK_MEM(b.data, "keep", 4);
    meru_buf_free(&b);
}

static void test_enum_names(void)
{
    CHECK_STR(pq_type_name(PQ_FIXED_LEN_BYTE_ARRAY), "FIXED_LEN_BYTE_ARRAY");
    CHECK_STR(pq_type_name((pq_type)8), "UNKNOWN");
    CHECK_STR(pq_encoding_name(PQ_ENC_PLAIN_DICTIONARY), "PLAIN_DICTIONARY");
    CHECK_STR(pq_encoding_name((pq_encoding)1), "UNKNOWN");
    CHECK_STR(pq_encoding_name(PQ_ENC_BYTE_STREAM_SPLIT), "BYTE_STREAM_SPLIT");
    CHECK_STR(pq_encoding_name((pq_encoding)-1), "UNKNOWN");
    CHECK_STR(pq_codec_name(PQ_CODEC_LZ4_RAW), "LZ4_RAW");
    CHECK_STR(pq_codec_name(PQ_CODEC_ZSTD), "ZSTD");
    CHECK_STR(pq_page_type_name(PQ_PAGE_DATA_V2), "DATA_PAGE_V2");
    CHECK_STR(pq_converted_type_name(PQ_CT_INTERVAL), "INTERVAL");
    CHECK_STR(pq_converted_type_name(PQ_CT_UTF8), "UTF8");
    CHECK_STR(pq_converted_type_name((pq_converted_type)22), "UNKNOWN");
}

int main(void)
{
    MERU_TEST_RUN(test_file_meta_round_trip_with_every_field);
    MERU_TEST_RUN(test_file_meta_round_trip_with_no_optional_field);
    MERU_TEST_RUN(test_every_logical_type_round_trips);
    MERU_TEST_RUN(test_page_headers_round_trip);
    MERU_TEST_RUN(test_v2_is_compressed_defaults_to_true);
    MERU_TEST_RUN(test_v2_header_shapes_decode_alike);
    MERU_TEST_RUN(test_v2_header_without_field_7_decodes_alike);
    MERU_TEST_RUN(test_page_indexes_round_trip);
    MERU_TEST_RUN(test_bloom_header_bytes_match_spec);
    MERU_TEST_RUN(test_errors_name_struct_and_field);
    MERU_TEST_RUN(test_unknown_and_mistyped_fields_are_skipped);
    MERU_TEST_RUN(test_hostile_counts_do_not_allocate);
    MERU_TEST_RUN(test_negative_null_counts_read_as_absent);
    MERU_TEST_RUN(test_encoders_validate_and_leave_buffer_intact);
    MERU_TEST_RUN(test_enum_names);
    return meru_test_finish();
}
