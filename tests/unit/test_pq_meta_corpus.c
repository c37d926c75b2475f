/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_meta_corpus.c — Parquet metadata decoders against the files of
 * apache/parquet-testing: footers checked against the values the corpus
 * documents (its README and *.md files), every data/ file's footer, page
 * headers, page indexes and bloom headers decoded and cross-checked, and
 * hostile input (every bad_data file, every truncated prefix of a footer,
 * random byte flips) that must fail with MERU_ECORRUPT or decode, never
 * crash (run under ASan/UBSan).
 */
#include "parquet/thrift.h"
#include "pq_meta_check.h"

/* ---------------------------------------------------- real footers */

static int decode_footer(const char *name, file *f, meru_arena *a,
                         pq_file_meta *m)
{
    if (load_data(name, f) != 0 || !f->footer) {
        meru_test_fail(__FILE__, __LINE__, "cannot load %s", name);
        return -1;
    }
    int rc = pq_decode_file_meta(f->footer, f->footer_len, a, m);
    if (rc)
        meru_test_fail(__FILE__, __LINE__, "%s: %s", name, meru_errmsg());
    return rc;
}

static void test_alltypes_plain_footer(void)
{
    /* 8 rows; root + 11 columns written by Impala (README, Impala's
     * alltypes table: id, bool_col, tinyint..bigint, float, double,
     * date_string_col, string_col, timestamp_col as INT96). */
    static const struct {
        const char *name;
        pq_type type;
    } cols[] = {{"id", PQ_INT32},
                {"bool_col", PQ_BOOLEAN},
                {"tinyint_col", PQ_INT32},
                {"smallint_col", PQ_INT32},
                {"int_col", PQ_INT32},
                {"bigint_col", PQ_INT64},
                {"float_col", PQ_FLOAT},
                {"double_col", PQ_DOUBLE},
                {"date_string_col", PQ_BYTE_ARRAY},
                {"string_col", PQ_BYTE_ARRAY},
                {"timestamp_col", PQ_INT96}};
    file f;
    meru_arena *a = new_arena();
    pq_file_meta m;
    CHECK(a);
    if (decode_footer("alltypes_plain.parquet", &f, a, &m))
        goto out;
    CHECK_EQ_INT(m.num_rows, 8);
    CHECK_EQ_INT(m.n_schema, 12);
    CHECK(m.schema[0].has_num_children);
    CHECK_EQ_INT(m.schema[0].num_children, 11);
    for (int i = 0; i < 11; i++) {
        CHECK_STR(m.schema[i + 1].name, cols[i].name);
        CHECK(m.schema[i + 1].has_type);
        CHECK_EQ_INT(m.schema[i + 1].type, cols[i].type);
        CHECK_EQ_INT(m.schema[i + 1].repetition_type, PQ_OPTIONAL);
    }
    CHECK_EQ_INT(m.n_row_groups, 1);
    CHECK_EQ_INT(m.row_groups[0].num_rows, 8);
    CHECK_EQ_INT(m.row_groups[0].n_columns, 11);
    CHECK(strncmp(m.created_by, "impala version 1.3.0", 20) == 0);
    for (int i = 0; i < 11; i++) {
        const pq_column_meta *cm = &m.row_groups[0].columns[i].meta_data;
        CHECK_EQ_INT(cm->n_path, 1);
        CHECK_STR(cm->path_in_schema[0], cols[i].name);
        CHECK_EQ_INT(cm->type, cols[i].type);
        CHECK_EQ_INT(cm->num_values, 8);
        CHECK_EQ_INT(cm->codec, PQ_CODEC_UNCOMPRESSED);
    }
    CHECK(!m.has_column_orders);
out:
    unload(&f);
    meru_arena_free(a);
}

static void test_documented_footers(void)
{
    file f = {0};
    meru_arena *a = new_arena();
    pq_file_meta m;
    const pq_column_meta *cm;
    CHECK(a);

    /* delta_encoding_required_column.md: parquet-mr 1.12.1, 100 rows,
     * schema spark_schema with 17 required columns, the first
     * "c_customer_sk:" INT32; extra key org.apache.spark.version = 3.2.0 */
    if (decode_footer("delta_encoding_required_column.parquet", &f, a, &m))
        goto out;
    CHECK_EQ_INT(m.num_rows, 100);
    CHECK_EQ_INT(m.n_schema, 18);
    CHECK_STR(m.schema[0].name, "spark_schema");
    CHECK_STR(m.schema[1].name, "c_customer_sk:");
    CHECK_EQ_INT(m.schema[1].type, PQ_INT32);
    CHECK_EQ_INT(m.schema[1].repetition_type, PQ_REQUIRED);
    CHECK_STR(m.schema[17].name, "c_last_review_date:");
    CHECK_EQ_INT(m.schema[17].type, PQ_BYTE_ARRAY);
    CHECK(strncmp(m.created_by, "parquet-mr version 1.12.1 (build", 32) == 0);
    bool found = false;
    for (uint32_t i = 0; i < m.n_key_value_metadata; i++) {
        const pq_key_value *kv = &m.key_value_metadata[i];
        if (strcmp(kv->key, "org.apache.spark.version") == 0) {
            CHECK(kv->has_value);
            CHECK(same_bytes(kv->value, BYTES("3.2.0")));
            found = true;
        }
    }
    CHECK(found);
    unload(&f);

    /* README "NaN in stats": x DOUBLE, num_values 2, dictionary page at 4,
     * data page at 36, 84 bytes compressed, 80 uncompressed, min 1, max
     * NaN, null_count 0 (pyarrow 0.8 wrote both old and new fields). */
    if (decode_footer("nan_in_stats.parquet", &f, a, &m))
        goto out;
    CHECK_EQ_INT(m.num_rows, 2);
    cm = &m.row_groups[0].columns[0].meta_data;
    CHECK_STR(cm->path_in_schema[0], "x");
    CHECK_EQ_INT(cm->type, PQ_DOUBLE);
    CHECK_EQ_INT(cm->num_values, 2);
    CHECK(cm->has_dictionary_page_offset);
    CHECK_EQ_INT(cm->dictionary_page_offset, 4);
    CHECK_EQ_INT(cm->data_page_offset, 36);
    CHECK_EQ_INT(cm->total_compressed_size, 84);
    CHECK_EQ_INT(cm->total_uncompressed_size, 80);
    CHECK_EQ_INT(m.row_groups[0].columns[0].file_offset, 88);
    CHECK(cm->has_statistics);
    CHECK(cm->statistics.has_null_count);
    CHECK_EQ_INT(cm->statistics.null_count, 0);
    {
        double one = 1.0, mn;
        CHECK_EQ_INT(cm->statistics.min.len, 8);
        memcpy(&mn, cm->statistics.min.ptr, 8);
        CHECK(memcmp(&mn, &one, 8) == 0);
        double mx;
        CHECK_EQ_INT(cm->statistics.max.len, 8);
        memcpy(&mx, cm->statistics.max.ptr, 8);
        CHECK(mx != mx); /* NaN */
    }
    unload(&f);

    /* README "Float16 Files": FLBA(2) with logical type Float16; min
     * b'\x00\x80', max b'\x00\x00', null_count 1, dictionary page at 4,
     * data page at 22, 64 bytes either way, encodings PLAIN, RLE,
     * RLE_DICTIONARY. */
    if (decode_footer("float16_zeros_and_nans.parquet", &f, a, &m))
        goto out;
    CHECK_EQ_INT(m.num_rows, 3);
    CHECK_EQ_INT(m.schema[1].type, PQ_FIXED_LEN_BYTE_ARRAY);
    CHECK_EQ_INT(m.schema[1].type_length, 2);
    CHECK_EQ_INT(m.schema[1].logical_type.kind, PQ_LT_FLOAT16);
    cm = &m.row_groups[0].columns[0].meta_data;
    CHECK_EQ_INT(cm->num_values, 3);
    CHECK_EQ_INT(cm->dictionary_page_offset, 4);
    CHECK_EQ_INT(cm->data_page_offset, 22);
    CHECK_EQ_INT(cm->total_compressed_size, 64);
    CHECK_EQ_INT(cm->total_uncompressed_size, 64);
    CHECK(cm->statistics.has_min_value && cm->statistics.has_max_value);
    CHECK(same_bytes(cm->statistics.min_value, BYTES("\x00\x80")));
    CHECK(same_bytes(cm->statistics.max_value, BYTES("\x00\x00")));
    CHECK_EQ_INT(cm->statistics.null_count, 1);
    CHECK_EQ_INT(cm->n_encodings, 3);
    CHECK_STR(pq_encoding_name(cm->encodings[0]), "PLAIN");
    CHECK_STR(pq_encoding_name(cm->encodings[1]), "RLE");
    CHECK_STR(pq_encoding_name(cm->encodings[2]), "RLE_DICTIONARY");
    unload(&f);

    /* README: column chunk key-value metadata {"foo": "bar",
     * "thisiskeywithoutvalue": null} on the first column. */
    if (decode_footer("column_chunk_key_value_metadata.parquet", &f, a, &m))
        goto out;
    cm = &m.row_groups[0].columns[0].meta_data;
    CHECK_EQ_INT(cm->n_key_value_metadata, 2);
    CHECK_STR(cm->key_value_metadata[0].key, "foo");
    CHECK(cm->key_value_metadata[0].has_value);
    CHECK(same_bytes(cm->key_value_metadata[0].value, BYTES("bar")));
    CHECK_STR(cm->key_value_metadata[1].key, "thisiskeywithoutvalue");
    CHECK(!cm->key_value_metadata[1].has_value);
    CHECK_EQ_INT(m.row_groups[0].columns[1].meta_data.n_key_value_metadata, 0);
    unload(&f);

    /* README: sort_columns has two row groups, INT64 then BYTE_ARRAY;
     * first sorted descending nulls first, second ascending nulls last. */
    if (decode_footer("sort_columns.parquet", &f, a, &m))
        goto out;
    CHECK_EQ_INT(m.n_row_groups, 2);
    CHECK_EQ_INT(m.schema[1].type, PQ_INT64);
    CHECK_EQ_INT(m.schema[2].type, PQ_BYTE_ARRAY);
    for (int g = 0; g < 2; g++) {
        const pq_row_group *rg = &m.row_groups[g];
        CHECK_EQ_INT(rg->n_sorting_columns, 2);
        CHECK_EQ_INT(rg->sorting_columns[0].column_idx, 0);
        CHECK(rg->sorting_columns[0].descending);
        CHECK(rg->sorting_columns[0].nulls_first);
        CHECK_EQ_INT(rg->sorting_columns[1].column_idx, 1);
        CHECK(!rg->sorting_columns[1].descending);
        CHECK(!rg->sorting_columns[1].nulls_first);
        CHECK(rg->has_ordinal);
        CHECK_EQ_INT(rg->ordinal, g);
    }
    unload(&f);

    /* README "Binary truncated min and max statistics". */
    if (decode_footer("binary_truncated_min_max.parquet", &f, a, &m))
        goto out;
    {
        static const struct {
            const char *name;
            pq_bytes min;
            bool min_exact;
            pq_bytes max;
            bool max_exact;
            bool utf8;
        } want[] = {
            {"utf8_full_truncation", BYTES("Al"), false, BYTES("Kf"), false,
             true},
            {"binary_full_truncation", BYTES("\x41\x6c"), false,
             BYTES("\x4b\x66"), false, false},
            {"utf8_partial_truncation", BYTES("Al"), false,
             BYTES("\xf0\x9f\x9a\x80Kevin Bacon"), true, true},
            {"binary_partial_truncation", BYTES("\x41\x6c"), false,
             BYTES("\xff\xff\x01\x02"), true, false},
            {"utf8_no_truncation", BYTES("Al"), true, BYTES("Ke"), true, true},
            {"binary_no_truncation", BYTES("\x41\x6c"), true, BYTES("\x4b\x65"),
             true, false},
        };
        CHECK_EQ_INT(m.num_rows, 12);
        CHECK_EQ_INT(m.n_schema, 7);
        CHECK(strncmp(m.created_by, "parquet-rs version 55.1.0", 25) == 0);
        for (int i = 0; i < 6; i++) {
            const pq_schema_element *e = &m.schema[i + 1];
            CHECK_STR(e->name, want[i].name);
            CHECK_EQ_INT(e->repetition_type, PQ_REQUIRED);
            CHECK_EQ_INT(e->logical_type.kind,
                         want[i].utf8 ? PQ_LT_STRING : PQ_LT_NONE);
            const pq_statistics *s =
                &m.row_groups[0].columns[i].meta_data.statistics;
            CHECK(s->has_min_value && s->has_max_value);
            CHECK(same_bytes(s->min_value, want[i].min));
            CHECK(same_bytes(s->max_value, want[i].max));
            CHECK(s->has_is_min_value_exact && s->has_is_max_value_exact);
            CHECK(s->is_min_value_exact == want[i].min_exact);
            CHECK(s->is_max_value_exact == want[i].max_exact);
        }
    }
    unload(&f);

    /* README: a LogicalType member id no reader knows. */
    if (decode_footer("unknown-logical-type.parquet", &f, a, &m))
        goto out;
    CHECK_STR(m.schema[1].name, "column with known type");
    CHECK_EQ_INT(m.schema[1].logical_type.kind, PQ_LT_STRING);
    CHECK_STR(m.schema[2].name, "column with unknown type");
    CHECK_EQ_INT(m.schema[2].logical_type.kind, PQ_LT_OTHER);
    unload(&f);

    /* byte_stream_split_extended: decimal(7, 3) in FLBA(4); Impala's
     * tiny-pages alltypes: INTEGER(8, signed) and INTEGER(16, signed). */
    if (decode_footer("byte_stream_split_extended.gzip.parquet", &f, a, &m))
        goto out;
    CHECK_STR(m.schema[13].name, "decimal_plain");
    CHECK_EQ_INT(m.schema[13].logical_type.kind, PQ_LT_DECIMAL);
    CHECK_EQ_INT(m.schema[13].logical_type.decimal_precision, 7);
    CHECK_EQ_INT(m.schema[13].logical_type.decimal_scale, 3);
    CHECK_EQ_INT(m.schema[13].converted_type, PQ_CT_DECIMAL);
    CHECK_EQ_INT(m.schema[13].type_length, 4);
    unload(&f);
    if (decode_footer("alltypes_tiny_pages.parquet", &f, a, &m))
        goto out;
    CHECK_EQ_INT(m.num_rows, 7300);
    CHECK_STR(m.schema[3].name, "tinyint_col");
    CHECK_EQ_INT(m.schema[3].logical_type.kind, PQ_LT_INTEGER);
    CHECK_EQ_INT(m.schema[3].logical_type.int_bit_width, 8);
    CHECK(m.schema[3].logical_type.int_is_signed);
    CHECK_EQ_INT(m.schema[4].logical_type.int_bit_width, 16);
    CHECK(m.has_column_orders);
    CHECK_EQ_INT(m.n_column_orders, 13);
    unload(&f);

    /* floating_orders_nan_count declares IEEE754 orders, not
     * TypeDefinedOrder (README). */
    if (decode_footer("floating_orders_nan_count.parquet", &f, a, &m))
        goto out;
    CHECK(!m.has_column_orders);
    CHECK_EQ_INT(m.n_column_orders, 6);
out:
    unload(&f);
    meru_arena_free(a);
}

/* Arrow C++ writes TIME and TIMESTAMP logical types; the only such file
 * in the corpus is bad_data/ARROW-GH-41317.parquet, whose row groups are
 * broken (a list<i16> of encodings) but whose schema is sound. Cut the
 * schema out with the Thrift reader, give it empty row groups, decode. */
static void test_time_logical_types_from_arrow(void)
{
    char path[1024];
    file f;
    meru_buf b = {0};
    snprintf(path, sizeof path, "%s/parquet-testing/bad_data/%s", shared_dir(),
             "ARROW-GH-41317.parquet");
    CHECK(load(path, &f) == 0 && f.footer);
    meru_arena *a = new_arena();
    pq_file_meta m;
    CHECK(a);
    CHECK_RC(pq_decode_file_meta(f.footer, f.footer_len, a, &m), MERU_ECORRUPT);
    CHECK_ERRMSG("ColumnMetaData.encodings: list of i16");

    tc_reader r;
    int16_t last = 0, id;
    int t;
    tc_reader_init(&r, f.footer, f.footer_len);
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK(id == 1 && t == TC_I32);
    CHECK_OK(tc_skip(&r, t));
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK(id == 2 && t == TC_LIST);
    CHECK_OK(tc_skip(&r, t));
    /* 3: i64 num_rows = 0, 4: empty list<struct>, stop */
    static const uint8_t rest[] = {0x16, 0x00, 0x19, 0x0c, 0x00};
    CHECK_OK(meru_buf_append(&b, f.footer, r.pos));
    CHECK_OK(meru_buf_append(&b, rest, sizeof rest));
    CHECK_OK(pq_decode_file_meta(b.data, b.len, a, &m));

    static const struct {
        const char *name;
        pq_logical_kind kind;
        bool utc;
        pq_time_unit unit;
        pq_converted_type ct;
    } want[] = {
        {"timestamp_ms_gmt", PQ_LT_TIMESTAMP, true, PQ_UNIT_MILLIS,
         PQ_CT_TIMESTAMP_MILLIS},
        {"timestamp_us_no_tz", PQ_LT_TIMESTAMP, false, PQ_UNIT_MICROS,
         PQ_CT_TIMESTAMP_MICROS},
        {"time32_ms", PQ_LT_TIME, true, PQ_UNIT_MILLIS, PQ_CT_TIME_MILLIS},
        {"time64_us", PQ_LT_TIME, true, PQ_UNIT_MICROS, PQ_CT_TIME_MICROS},
        {"time64_ns", PQ_LT_TIME, true, PQ_UNIT_NANOS, (pq_converted_type)-1},
    };
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        const pq_schema_element *e = NULL;
        for (uint32_t i = 0; i < m.n_schema && !e; i++)
            if (strcmp(m.schema[i].name, want[k].name) == 0)
                e = &m.schema[i];
        CHECK_MSG(e, "column %s not found", want[k].name);
        CHECK_EQ_INT(e->logical_type.kind, want[k].kind);
        CHECK(e->logical_type.is_adjusted_to_utc == want[k].utc);
        CHECK_EQ_INT(e->logical_type.unit, want[k].unit);
        if ((int)want[k].ct >= 0) {
            CHECK(e->has_converted_type);
            CHECK_EQ_INT(e->converted_type, want[k].ct);
        } else {
            CHECK(!e->has_converted_type); /* no legacy type for nanos */
        }
    }
    meru_buf_free(&b);
    unload(&f);
    meru_arena_free(a);
}

/* Page walk of one column chunk: every page header decodes and the data
 * pages' num_values add up to the chunk's. (The walk is not required to
 * end exactly at total_compressed_size: nation.dict-malformed.parquet
 * understates it.) Returns the number of data pages, or -1 on failure. */
static long walk_pages(const char *name, const file *f, meru_arena *a,
                       const pq_column_meta *cm, int64_t *first_data_page)
{
    /* The dictionary page comes first; some writers put 0 in either
     * offset when there is no such page (dict-page-offset-zero.parquet,
     * column_chunk_key_value_metadata.parquet). */
    int64_t start = cm->data_page_offset;
    if (cm->has_dictionary_page_offset && cm->dictionary_page_offset > 0)
        start = cm->dictionary_page_offset;
    int64_t end = start + cm->total_compressed_size;
    if (start < 4 || end > (int64_t)f->len) {
        meru_test_fail(__FILE__, __LINE__, "%s: chunk %lld..%lld outside file",
                       name, (long long)start, (long long)end);
        return -1;
    }
    int64_t off = start, values = 0;
    long data_pages = 0;
    *first_data_page = -1;
    while (off < end) {
        pq_page_header h;
        size_t used;
        int rc = pq_decode_page_header(f->data + off, f->len - (size_t)off, a,
                                       &h, &used);
        if (rc) {
            meru_test_fail(__FILE__, __LINE__, "%s: page at %lld: %s", name,
                           (long long)off, meru_errmsg());
            return -1;
        }
        if (h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2) {
            if (*first_data_page < 0)
                *first_data_page = off;
            data_pages++;
            values += h.type == PQ_PAGE_DATA ? h.data_page_header.num_values
                                             : h.data_page_header_v2.num_values;
        }
        off += (int64_t)used + h.compressed_page_size;
    }
    if (off > (int64_t)f->len || values != cm->num_values) {
        meru_test_fail(__FILE__, __LINE__,
                       "%s: pages end at %lld (chunk ends %lld), values %lld "
                       "(chunk says %lld)",
                       name, (long long)off, (long long)end, (long long)values,
                       (long long)cm->num_values);
        return -1;
    }
    return data_pages;
}

typedef struct corpus_stats {
    int files, pages_walked, column_indexes, bloom_headers, reencoded;
} corpus_stats;

static void check_data_file(const char *path, corpus_stats *st)
{
    file f;
    CHECK(load(path, &f) == 0);
    CHECK_MSG(f.footer, "%s: no PAR1 footer", path);
    meru_arena *a = new_arena();
    pq_file_meta m;
    CHECK(a);
    int rc = pq_decode_file_meta(f.footer, f.footer_len, a, &m);
    CHECK_MSG(rc == MERU_OK, "%s: %s", path, meru_errmsg());
    st->files++;
    for (uint32_t g = 0; g < m.n_row_groups; g++) {
        const pq_row_group *rg = &m.row_groups[g];
        for (uint32_t c = 0; c < rg->n_columns; c++) {
            const pq_column_chunk *cc = &rg->columns[c];
            CHECK_MSG(cc->has_meta_data, "%s: chunk without metadata", path);
            const pq_column_meta *cm = &cc->meta_data;
            int64_t first_data = -1;
            long data_pages = walk_pages(path, &f, a, cm, &first_data);
            if (data_pages < 0)
                goto out;
            st->pages_walked += (int)data_pages;
            if (cc->has_offset_index) {
                pq_offset_index oi;
                CHECK(cc->offset_index_offset + cc->offset_index_length <=
                      (int64_t)f.len);
                rc = pq_decode_offset_index(f.data + cc->offset_index_offset,
                                            (size_t)cc->offset_index_length, a,
                                            &oi);
                CHECK_MSG(rc == MERU_OK, "%s: %s", path, meru_errmsg());
                CHECK_EQ_INT(oi.n_pages, data_pages);
                if (oi.n_pages > 0) {
                    CHECK_EQ_INT(oi.page_locations[0].offset, first_data);
                    CHECK_EQ_INT(oi.page_locations[0].first_row_index, 0);
                }
                if (cc->has_column_index) {
                    pq_column_index ci;
                    CHECK(cc->column_index_offset + cc->column_index_length <=
                          (int64_t)f.len);
                    rc = pq_decode_column_index(
                        f.data + cc->column_index_offset,
                        (size_t)cc->column_index_length, a, &ci);
                    CHECK_MSG(rc == MERU_OK, "%s: %s", path, meru_errmsg());
                    CHECK_EQ_INT(ci.n_pages, oi.n_pages);
                    st->column_indexes++;
                }
            }
            if (cm->has_bloom_filter_offset) {
                pq_bloom_filter_header bh;
                size_t used;
                CHECK(cm->bloom_filter_offset < (int64_t)f.len);
                rc = pq_decode_bloom_header(
                    f.data + cm->bloom_filter_offset,
                    f.len - (size_t)cm->bloom_filter_offset, &bh, &used);
                CHECK_MSG(rc == MERU_OK, "%s: %s", path, meru_errmsg());
                CHECK(bh.num_bytes >= 32);
                CHECK((bh.num_bytes & (bh.num_bytes - 1)) == 0);
                if (cm->has_bloom_filter_length)
                    CHECK_EQ_INT(cm->bloom_filter_length,
                                 (int64_t)used + bh.num_bytes);
                st->bloom_headers++;
            }
        }
    }

    /* Re-encode and decode again: the same tree (logical types we could not
     * identify cannot be re-encoded; those files are skipped here). */
    bool other = false;
    for (uint32_t i = 0; i < m.n_schema; i++)
        other = other || m.schema[i].logical_type.kind == PQ_LT_OTHER;
    if (!other) {
        meru_buf b = {0};
        pq_file_meta again;
        CHECK_OK(pq_encode_file_meta(&b, &m));
        rc = pq_decode_file_meta(b.data, b.len, a, &again);
        if (rc == MERU_OK && !same_file_meta(&m, &again))
            rc = -1;
        meru_buf_free(&b);
        CHECK_MSG(rc == MERU_OK, "%s: re-encoded footer differs", path);
        st->reencoded++;
    }
out:
    unload(&f);
    meru_arena_free(a);
}

static void test_every_data_file_decodes(void)
{
    char dir[1024];
    corpus_stats st = {0};
    const char *subdirs[] = {"data", "data/geospatial"};
    for (int s = 0; s < 2; s++) {
        size_t n;
        snprintf(dir, sizeof dir, "%s/parquet-testing/%s", shared_dir(),
                 subdirs[s]);
        char **files = list_parquet(dir, &n);
        CHECK_MSG(files && n > 0, "no parquet files in %s", dir);
        for (size_t i = 0; i < n; i++) {
            int failed_before = meru_test_failed_current;
            check_data_file(files[i], &st);
            if (meru_test_failed_current && !failed_before)
                fprintf(stderr, "  (in %s)\n", files[i]);
        }
        free_list(files, n);
    }
    /* The corpus holds at least these (README): page indexes in
     * alltypes_tiny_pages*, bloom filters in data_index_bloom_*. */
    CHECK(st.files >= 70);
    CHECK(st.column_indexes >= 20);
    CHECK_EQ_INT(st.bloom_headers, 2);
    CHECK(st.reencoded >= st.files - 12);
    printf("  %d files, %d data pages, %d column indexes, %d bloom headers, "
           "%d footers re-encoded\n",
           st.files, st.pages_walked, st.column_indexes, st.bloom_headers,
           st.reencoded);
}

static void test_bad_data_decodes_or_fails_corrupt(void)
{
    char dir[1024];
    size_t n;
    int refused = 0;
    snprintf(dir, sizeof dir, "%s/parquet-testing/bad_data", shared_dir());
    char **files = list_parquet(dir, &n);
    CHECK_MSG(files && n >= 8, "bad_data not found in %s", dir);
    for (size_t i = 0; i < n; i++) {
        file f;
        CHECK(load(files[i], &f) == 0);
        meru_arena *a = new_arena();
        CHECK(a);
        pq_file_meta m;
        int rc = f.footer ? pq_decode_file_meta(f.footer, f.footer_len, a, &m)
                          : MERU_ECORRUPT;
        CHECK_MSG(rc == MERU_OK || rc == MERU_ECORRUPT, "%s: rc %d: %s",
                  files[i], rc, meru_errmsg());
        refused += rc != MERU_OK;
        /* Page headers wherever the metadata points (inside the file). */
        for (uint32_t g = 0; rc == MERU_OK && g < m.n_row_groups; g++) {
            for (uint32_t c = 0; c < m.row_groups[g].n_columns; c++) {
                const pq_column_meta *cm =
                    &m.row_groups[g].columns[c].meta_data;
                int64_t offs[2] = {cm->data_page_offset,
                                   cm->dictionary_page_offset};
                for (int k = 0; k < 2; k++) {
                    if (offs[k] <= 0 || offs[k] >= (int64_t)f.len)
                        continue;
                    pq_page_header h;
                    size_t used;
                    int prc = pq_decode_page_header(f.data + offs[k],
                                                    f.len - (size_t)offs[k], a,
                                                    &h, &used);
                    CHECK_MSG(prc == MERU_OK || prc == MERU_ECORRUPT,
                              "%s: page rc %d", files[i], prc);
                }
            }
        }
        meru_arena_free(a);
        unload(&f);
    }
    /* PARQUET-1481 (corrupt schema type) and ARROW-GH-41317 are refused. */
    CHECK(refused >= 2);
    free_list(files, n);
}

static void test_known_bad_pages_are_refused(void)
{
    /* ARROW-RS-GH-6229-DICTHEADER: a dictionary page header with a negative
     * num_values (bad_data/README.md). Find it by walking the chunks. */
    char path[1024];
    file f;
    snprintf(path, sizeof path,
             "%s/parquet-testing/bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet",
             shared_dir());
    CHECK(load(path, &f) == 0 && f.footer);
    meru_arena *a = new_arena();
    pq_file_meta m;
    CHECK(a);
    CHECK_OK(pq_decode_file_meta(f.footer, f.footer_len, a, &m));
    int negative = 0;
    for (uint32_t c = 0; c < m.row_groups[0].n_columns; c++) {
        const pq_column_meta *cm = &m.row_groups[0].columns[c].meta_data;
        int64_t off =
            cm->has_dictionary_page_offset && cm->dictionary_page_offset > 0
                ? cm->dictionary_page_offset
                : cm->data_page_offset;
        pq_page_header h;
        size_t used;
        if (off <= 0 || off >= (int64_t)f.len)
            continue;
        int rc = pq_decode_page_header(f.data + off, f.len - (size_t)off, a, &h,
                                       &used);
        if (rc == MERU_ECORRUPT &&
            strstr(meru_errmsg(), "DictionaryPageHeader.num_values: negative"))
            negative++;
    }
    CHECK(negative >= 1);
    meru_arena_free(a);
    unload(&f);
}

/* --------------------------------------------------- hostile input */

static void test_truncated_footer_always_fails_cleanly(void)
{
    file f;
    CHECK(load_data("alltypes_tiny_pages.parquet", &f) == 0 && f.footer);
    meru_arena *a = new_arena();
    CHECK(a);
    pq_file_meta m;
    CHECK_OK(pq_decode_file_meta(f.footer, f.footer_len, a, &m));
    /* Every strict prefix lacks at least the final stop byte. Copy each
     * prefix to its own allocation so ASan sees any read past its end. */
    size_t step = f.footer_len > 4000 && meru_test_scale() < 1 ? 7 : 1;
    for (size_t n = 0; n < f.footer_len; n += step) {
        uint8_t *p = malloc(n ? n : 1);
        CHECK(p);
        memcpy(p, f.footer, n);
        meru_arena_reset(a);
        int rc = pq_decode_file_meta(p, n, a, &m);
        free(p);
        CHECK_MSG(rc == MERU_ECORRUPT, "prefix %zu: rc %d", n, rc);
    }
    /* Same for a page header with statistics. */
    pq_page_header h = {.type = PQ_PAGE_DATA, .has_data_page_header = true};
    h.data_page_header.has_statistics = true;
    h.data_page_header.statistics = full_stats();
    meru_buf b = {0};
    CHECK_OK(pq_encode_page_header(&b, &h));
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *p = malloc(n ? n : 1);
        size_t used;
        CHECK(p);
        memcpy(p, b.data, n);
        int rc = pq_decode_page_header(p, n, a, &h, &used);
        free(p);
        CHECK_RC(rc, MERU_ECORRUPT);
    }
    meru_buf_free(&b);
    meru_arena_free(a);
    unload(&f);
}

static void test_random_byte_flips_never_crash(void)
{
    static const char *names[] = {
        "alltypes_tiny_pages.parquet", "binary_truncated_min_max.parquet",
        "datapage_v2.snappy.parquet", "nested_maps.snappy.parquet",
        "byte_stream_split_extended.gzip.parquet"};
    int iters = (int)(400 * meru_test_scale());
    int decoded = 0, refused = 0;
    meru_arena *a = new_arena();
    CHECK(a);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        file f;
        CHECK(load_data(names[k], &f) == 0 && f.footer);
        uint8_t *p = malloc(f.footer_len);
        CHECK(p);
        for (int it = 0; it < iters; it++) {
            memcpy(p, f.footer, f.footer_len);
            int flips = 1 + (int)(meru_test_rand() % 4);
            for (int j = 0; j < flips; j++)
                p[meru_test_rand() % f.footer_len] ^=
                    (uint8_t)(1u << (meru_test_rand() % 8));
            meru_arena_reset(a);
            pq_file_meta m;
            int rc = pq_decode_file_meta(p, f.footer_len, a, &m);
            CHECK_MSG(rc == MERU_OK || rc == MERU_ECORRUPT, "rc %d: %s", rc,
                      meru_errmsg());
            if (rc) {
                refused++;
                continue;
            }
            decoded++;
            /* Whatever decoded must survive re-encoding (or be refused as
             * EINVAL for an unknown logical type) and decode the same. */
            meru_buf b = {0};
            rc = pq_encode_file_meta(&b, &m);
            CHECK(rc == MERU_OK || rc == MERU_EINVAL);
            if (rc == MERU_OK) {
                pq_file_meta again;
                CHECK_OK(pq_decode_file_meta(b.data, b.len, a, &again));
                CHECK(same_file_meta(&m, &again));
            }
            meru_buf_free(&b);
        }
        free(p);
        unload(&f);
    }
    meru_arena_free(a);
    CHECK(refused > 0 && decoded > 0);
}

static void test_bloom_header_from_parquet_mr_file(void)
{
    /* README: data_index_bloom_encoding_stats.parquet has a bloom filter;
     * parquet-mr writes the same bytes our encoder does for that size. */
    file f;
    meru_arena *a = new_arena();
    pq_file_meta m;
    CHECK(a);
    CHECK(load_data("data_index_bloom_encoding_stats.parquet", &f) == 0);
    CHECK_OK(pq_decode_file_meta(f.footer, f.footer_len, a, &m));
    const pq_column_meta *cm = &m.row_groups[0].columns[0].meta_data;
    CHECK(cm->has_bloom_filter_offset);
    CHECK(cm->n_encoding_stats > 0);
    pq_bloom_filter_header h;
    size_t used;
    CHECK_OK(pq_decode_bloom_header(f.data + cm->bloom_filter_offset,
                                    f.len - (size_t)cm->bloom_filter_offset, &h,
                                    &used));
    CHECK(h.num_bytes >= 32 && (h.num_bytes & (h.num_bytes - 1)) == 0);
    meru_buf b = {0};
    CHECK_OK(pq_encode_bloom_header(&b, &h));
    CHECK_EQ_INT(b.len, used);
    CHECK_MEM(b.data, f.data + cm->bloom_filter_offset, used);
    meru_buf_free(&b);
    unload(&f);
    meru_arena_free(a);
}

int main(void)
{
    MERU_TEST_RUN(test_alltypes_plain_footer);
    MERU_TEST_RUN(test_documented_footers);
    MERU_TEST_RUN(test_time_logical_types_from_arrow);
    MERU_TEST_RUN(test_every_data_file_decodes);
    MERU_TEST_RUN(test_bad_data_decodes_or_fails_corrupt);
    MERU_TEST_RUN(test_known_bad_pages_are_refused);
    MERU_TEST_RUN(test_truncated_footer_always_fails_cleanly);
    MERU_TEST_RUN(test_random_byte_flips_never_crash);
    MERU_TEST_RUN(test_bloom_header_from_parquet_mr_file);
    return meru_test_finish();
}
