/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_iceberg_manifest.c — manifests and manifest lists
 * (iceberg/manifest.h): v2 and v3 round trips of every field, the header
 * metadata and the embedded Avro schema's field ids, version rules (v3
 * fields refused in v2, inheritance rules), summaries for the manifest
 * list, reading a file whose schema orders fields differently and has
 * unknown ones (resolution by field id), corrupt input, and the writers
 * under injected I/O faults.
 */
#include <stdlib.h>

#include "ice_test.h"
#include "iceberg/avro.h"
#include "iceberg/manifest.h"
#include "test.h"
#include "util/arena.h"

static const char table_schema[] =
    "{\"type\":\"struct\",\"schema-id\":0,\"identifier-field-ids\":[1],"
    "\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":"
    "\"long\"},{\"id\":2,\"name\":\"name\",\"required\":false,\"type\":"
    "\"string\"}]}";

static const meru_ice_count sizes[] = {{1, 800}, {2, 1234}};
static const meru_ice_count counts[] = {{1, 100}, {2, 100}};
static const meru_ice_count nulls[] = {{1, 0}, {2, 7}};
static const uint8_t lo1[8] = {1, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t hi1[8] = {100, 0, 0, 0, 0, 0, 0, 0};
static const meru_ice_bound lows[] = {{1, lo1, 8},
                                      {2, (const uint8_t *)"a", 1}};
static const meru_ice_bound highs[] = {{1, hi1, 8},
                                       {2, (const uint8_t *)"", 0}};
static const int64_t splits[] = {4, 9000};

static void data_entry(meru_ice_manifest_entry *e, int i, int version)
{
    static char paths[8][64];
    memset(e, 0, sizeof *e);
    snprintf(paths[i % 8], sizeof paths[0], "/t/data/L0/file-%d.parquet", i);
    e->status = i == 0 ? MERU_ICE_STATUS_ADDED : MERU_ICE_STATUS_EXISTING;
    if (i != 0) {
        e->has_snapshot_id = true;
        e->snapshot_id = 1000 + i;
        e->has_sequence_number = e->has_file_sequence_number = true;
        e->sequence_number = i;
        e->file_sequence_number = i + 1;
    }
    meru_ice_data_file *d = &e->data_file;
    d->content = MERU_ICE_CONTENT_DATA;
    d->file_path = paths[i % 8];
    d->file_format = "parquet";
    d->record_count = 100 + i;
    d->file_size_in_bytes = 4096 + i;
    d->column_sizes = sizes;
    d->n_column_sizes = 2;
    d->value_counts = counts;
    d->n_value_counts = 2;
    d->null_value_counts = nulls;
    d->n_null_value_counts = 2;
    d->lower_bounds = lows;
    d->n_lower_bounds = 2;
    d->upper_bounds = highs;
    d->n_upper_bounds = 2;
    d->split_offsets = splits;
    d->n_split_offsets = 2;
    d->has_sort_order_id = true;
    d->sort_order_id = 1;
    if (version >= 3 && i != 0) {
        d->has_first_row_id = true;
        d->first_row_id = 500 * i;
    }
}

static bool counts_equal(const meru_ice_count *a, size_t na,
                         const meru_ice_count *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].field_id != b[i].field_id || a[i].value != b[i].value)
            return false;
    return true;
}

static bool bounds_equal(const meru_ice_bound *a, size_t na,
                         const meru_ice_bound *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].field_id != b[i].field_id || a[i].len != b[i].len ||
            (a[i].len && memcmp(a[i].data, b[i].data, a[i].len) != 0))
            return false;
    return true;
}

/* Every field of two entries equal (strings by content). */
static bool entries_equal(const meru_ice_manifest_entry *a,
                          const meru_ice_manifest_entry *b)
{
    const meru_ice_data_file *x = &a->data_file, *y = &b->data_file;
    if (a->status != b->status || a->has_snapshot_id != b->has_snapshot_id ||
        (a->has_snapshot_id && a->snapshot_id != b->snapshot_id) ||
        a->has_sequence_number != b->has_sequence_number ||
        (a->has_sequence_number && a->sequence_number != b->sequence_number) ||
        a->has_file_sequence_number != b->has_file_sequence_number ||
        (a->has_file_sequence_number &&
         a->file_sequence_number != b->file_sequence_number))
        return false;
    if (x->content != y->content || strcmp(x->file_path, y->file_path) ||
        strcmp(x->file_format, y->file_format) ||
        x->record_count != y->record_count ||
        x->file_size_in_bytes != y->file_size_in_bytes)
        return false;
    if (!counts_equal(x->column_sizes, x->n_column_sizes, y->column_sizes,
                      y->n_column_sizes) ||
        !counts_equal(x->value_counts, x->n_value_counts, y->value_counts,
                      y->n_value_counts) ||
        !counts_equal(x->null_value_counts, x->n_null_value_counts,
                      y->null_value_counts, y->n_null_value_counts) ||
        !counts_equal(x->nan_value_counts, x->n_nan_value_counts,
                      y->nan_value_counts, y->n_nan_value_counts) ||
        !bounds_equal(x->lower_bounds, x->n_lower_bounds, y->lower_bounds,
                      y->n_lower_bounds) ||
        !bounds_equal(x->upper_bounds, x->n_upper_bounds, y->upper_bounds,
                      y->n_upper_bounds))
        return false;
    if (x->n_split_offsets != y->n_split_offsets ||
        (x->n_split_offsets &&
         memcmp(x->split_offsets, y->split_offsets,
                x->n_split_offsets * sizeof *x->split_offsets)))
        return false;
    if (x->has_sort_order_id != y->has_sort_order_id ||
        (x->has_sort_order_id && x->sort_order_id != y->sort_order_id) ||
        x->has_first_row_id != y->has_first_row_id ||
        (x->has_first_row_id && x->first_row_id != y->first_row_id) ||
        x->has_content_offset != y->has_content_offset ||
        (x->has_content_offset &&
         (x->content_offset != y->content_offset ||
          x->content_size_in_bytes != y->content_size_in_bytes)))
        return false;
    if (!x->referenced_data_file != !y->referenced_data_file ||
        (x->referenced_data_file &&
         strcmp(x->referenced_data_file, y->referenced_data_file)))
        return false;
    return true;
}

static meru_ice_manifest_info data_info(int version)
{
    meru_ice_manifest_info info = {
        version, MERU_ICE_MANIFEST_DATA, table_schema, 0, NULL, 0};
    return info;
}

static void round_trip_data(int version)
{
    meru_ice_manifest_entry e[5];
    meru_ice_manifest_summary s;
    meru_ice_manifest *m = NULL;
    meru_buf b = {0};
    meru_ice_manifest_info info = data_info(version);
    for (int i = 0; i < 5; i++)
        data_entry(&e[i], i, version);
    e[4].status = MERU_ICE_STATUS_DELETED;
    e[3].data_file.n_lower_bounds = 0; /* a null map */
    e[2].data_file.nan_value_counts = counts;
    e[2].data_file.n_nan_value_counts = 1;
    CHECK_OK(meru_ice_manifest_encode(&b, &info, e, 5, &s));
    CHECK_EQ_INT(s.manifest_length, b.len);
    CHECK_EQ_INT(s.added_files_count, 1);
    CHECK_EQ_INT(s.existing_files_count, 3);
    CHECK_EQ_INT(s.deleted_files_count, 1);
    CHECK_EQ_INT(s.added_rows_count, 100);
    CHECK_EQ_INT(s.existing_rows_count, 101 + 102 + 103);
    CHECK_EQ_INT(s.deleted_rows_count, 104);
    CHECK(s.has_min_sequence_number && s.min_sequence_number == 1);
    CHECK_EQ_INT(s.unassigned_rows,
                 version >= 3 ? 100 : 100 + 101 + 102 + 103 + 104);
    CHECK_OK(meru_ice_manifest_decode(&m, b.data, b.len));
    CHECK_EQ_INT(m->info.format_version, version);
    CHECK_EQ_INT(m->info.content, MERU_ICE_MANIFEST_DATA);
    CHECK_STR(m->info.schema_json, table_schema);
    CHECK_STR(m->info.partition_spec_json, "[]");
    CHECK_EQ_U64(m->n_entries, 5);
    for (int i = 0; i < 5; i++)
        CHECK_MSG(entries_equal(&e[i], &m->entries[i]), "entry %d differs", i);
    meru_ice_manifest_free(m);
    meru_buf_free(&b);
}

static void test_manifest_v2_round_trip(void)
{
    round_trip_data(2);
}

static void test_manifest_v3_round_trip(void)
{
    round_trip_data(3);
}

static void test_manifest_v3_delete_manifest_with_dvs(void)
{
    meru_ice_manifest_entry e[2];
    meru_ice_manifest *m = NULL;
    meru_buf b = {0};
    meru_ice_manifest_info info = {
        3, MERU_ICE_MANIFEST_DELETES, table_schema, 4, "[]", 0};
    memset(e, 0, sizeof e);
    for (int i = 0; i < 2; i++) {
        e[i].status = MERU_ICE_STATUS_ADDED;
        e[i].data_file.content = MERU_ICE_CONTENT_POSITION_DELETES;
        e[i].data_file.file_path = "/t/data/L0/x-3.puffin";
        e[i].data_file.file_format = "puffin";
        e[i].data_file.record_count = 3 + i;
        e[i].data_file.file_size_in_bytes = 777;
        e[i].data_file.referenced_data_file =
            i ? "/t/data/L0/b.parquet" : "/t/data/L0/a.parquet";
        e[i].data_file.has_content_offset = true;
        e[i].data_file.content_offset = 4 + 40 * i;
        e[i].data_file.content_size_in_bytes = 40;
    }
    CHECK_OK(meru_ice_manifest_encode(&b, &info, e, 2, NULL));
    CHECK_OK(meru_ice_manifest_decode(&m, b.data, b.len));
    CHECK_EQ_INT(m->info.content, MERU_ICE_MANIFEST_DELETES);
    CHECK_EQ_INT(m->info.schema_id, 4);
    for (int i = 0; i < 2; i++)
        CHECK(entries_equal(&e[i], &m->entries[i]));
    meru_ice_manifest_free(m);
    /* a data file in a delete manifest */
    e[1].data_file.content = MERU_ICE_CONTENT_DATA;
    CHECK_RC(meru_ice_manifest_encode(&b, &info, e, 2, NULL), MERU_EINVAL);
    CHECK_ERRMSG("entry 1");
    meru_buf_free(&b);
}

static void test_manifest_version_rules(void)
{
    meru_ice_manifest_entry e;
    meru_buf b = {0};
    meru_ice_manifest_info v2 = data_info(2);
    data_entry(&e, 1, 3); /* has a first_row_id */
    CHECK_RC(meru_ice_manifest_encode(&b, &v2, &e, 1, NULL), MERU_EINVAL);
    CHECK_ERRMSG("v3 fields");
    data_entry(&e, 1, 2);
    e.has_sequence_number = false; /* an existing entry must carry it */
    CHECK_RC(meru_ice_manifest_encode(&b, &v2, &e, 1, NULL), MERU_EINVAL);
    data_entry(&e, 1, 2);
    v2.format_version = 4;
    CHECK_RC(meru_ice_manifest_encode(&b, &v2, &e, 1, NULL), MERU_EINVAL);
    CHECK_EQ_U64(b.len, 0);
    meru_buf_free(&b);
}

/* Collects field ids of a parsed schema tree into ids (all of them:
 * field-id, element-id, key-id, value-id). */
static void collect_ids(const meru_avro_schema *s, int32_t *ids, size_t *n)
{
    switch (s->type) {
    case MERU_AVRO_RECORD:
        for (uint32_t i = 0; i < s->n; i++) {
            if (s->fields[i].has_field_id)
                ids[(*n)++] = s->fields[i].field_id;
            collect_ids(s->fields[i].type, ids, n);
        }
        break;
    case MERU_AVRO_UNION:
        for (uint32_t i = 0; i < s->n; i++)
            collect_ids(s->branches[i], ids, n);
        break;
    case MERU_AVRO_ARRAY:
        if (s->has_element_id)
            ids[(*n)++] = s->element_id;
        collect_ids(s->items, ids, n);
        break;
    default:
        break;
    }
}

static bool has_id(const int32_t *ids, size_t n, int32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static void test_manifest_header_and_schema_ids_follow_the_spec(void)
{
    for (int version = 2; version <= 3; version++) {
        meru_ice_manifest_entry e;
        meru_buf b = {0};
        meru_avro_ocf *f;
        const uint8_t *v;
        size_t vn, n = 0;
        int32_t ids[128];
        meru_ice_manifest_info info = data_info(version);
        info.schema_id = 3;
        info.partition_spec_id = 0;
        data_entry(&e, 0, version);
        CHECK_OK(meru_ice_manifest_encode(&b, &info, &e, 1, NULL));
        CHECK_OK(meru_avro_ocf_open(&f, b.data, b.len));
        CHECK(meru_avro_ocf_meta(f, "schema", &v, &vn));
        CHECK(vn == strlen(table_schema) && !memcmp(v, table_schema, vn));
        CHECK(meru_avro_ocf_meta(f, "schema-id", &v, &vn));
        CHECK(vn == 1 && v[0] == '3');
        CHECK(meru_avro_ocf_meta(f, "partition-spec", &v, &vn));
        CHECK(vn == 2 && !memcmp(v, "[]", 2));
        CHECK(meru_avro_ocf_meta(f, "partition-spec-id", &v, &vn));
        CHECK(vn == 1 && v[0] == '0');
        CHECK(meru_avro_ocf_meta(f, "format-version", &v, &vn));
        CHECK(vn == 1 && v[0] == '0' + version);
        CHECK(meru_avro_ocf_meta(f, "content", &v, &vn));
        CHECK(vn == 4 && !memcmp(v, "data", 4));
        const meru_avro_schema *s = meru_avro_ocf_schema(f);
        CHECK_STR(s->name, "manifest_entry");
        collect_ids(s, ids, &n);
        static const int32_t want[] = {
            0,   1,   3,   4,   2,   134, 100, 101, 102, 103, 104, 108,
            117, 118, 109, 119, 120, 110, 121, 122, 137, 138, 139, 125,
            126, 127, 128, 129, 130, 131, 132, 133, 135, 136, 140, 143};
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
            CHECK_MSG(has_id(ids, n, want[i]), "v%d: field id %d missing",
                      version, want[i]);
        for (int32_t id = 142; id <= 145; id++)
            if (id != 143)
                CHECK_MSG(has_id(ids, n, id) == (version >= 3),
                          "v%d: field id %d", version, id);
        CHECK_EQ_U64(n, sizeof want / sizeof *want + (version >= 3 ? 3 : 0));
        /* int-keyed maps: arrays of k<id>_v<id> records, logicalType map */
        const meru_avro_field *cs =
            meru_avro_field_by_id(s->fields[4].type, 108);
        CHECK(cs && cs->type->type == MERU_AVRO_UNION);
        const meru_avro_schema *arr = cs->type->branches[1];
        CHECK(arr->type == MERU_AVRO_ARRAY && arr->logical &&
              strcmp(arr->logical, "map") == 0);
        CHECK_STR(arr->items->name, "k117_v118");
        /* status is a required int, snapshot_id an optional long */
        CHECK(s->fields[0].type->type == MERU_AVRO_INT);
        CHECK(s->fields[1].type->type == MERU_AVRO_UNION &&
              s->fields[1].type->branches[0]->type == MERU_AVRO_NULL);
        meru_avro_ocf_close(f);
        meru_buf_free(&b);
    }
}

/* A manifest written with another field order, an extra unknown field and
 * int-typed record_count: read by field id. */
static void test_manifest_reader_resolves_fields_by_id(void)
{
    static const char schema[] =
        "{\"type\":\"record\",\"name\":\"manifest_entry\",\"fields\":["
        "{\"name\":\"data_file\",\"field-id\":2,\"type\":{\"type\":\"record\","
        "\"name\":\"r2\",\"fields\":["
        "{\"name\":\"file_size_in_bytes\",\"type\":\"long\",\"field-id\":104},"
        "{\"name\":\"extra\",\"type\":[\"null\",\"string\"],\"field-id\":9999},"
        "{\"name\":\"record_count\",\"type\":\"int\",\"field-id\":103},"
        "{\"name\":\"file_format\",\"type\":\"string\",\"field-id\":101},"
        "{\"name\":\"file_path\",\"type\":\"string\",\"field-id\":100}]}},"
        "{\"name\":\"status\",\"type\":\"int\",\"field-id\":0}]}";
    meru_buf f = {0}, rec = {0};
    uint8_t sync[16] = {1, 2, 3};
    meru_avro_meta meta[] = {{"format-version", "2", 1},
                             {"content", "data", 4}};
    meru_ice_manifest *m = NULL;
    CHECK_OK(meru_avro_ocf_header(&f, schema, meta, 2, sync));
    meru_avro_put_long(&rec, 5000);
    meru_avro_put_long(&rec, 1);
    meru_avro_put_string(&rec, "ignored");
    meru_avro_put_int(&rec, 42);
    meru_avro_put_string(&rec, "parquet");
    meru_avro_put_string(&rec, "s3://b/x.parquet");
    meru_avro_put_int(&rec, 1);
    CHECK_OK(meru_avro_ocf_block(&f, 1, rec.data, rec.len, sync));
    CHECK_OK(meru_ice_manifest_decode(&m, f.data, f.len));
    CHECK_EQ_U64(m->n_entries, 1);
    CHECK_EQ_INT(m->entries[0].status, 1);
    CHECK_STR(m->entries[0].data_file.file_path, "s3://b/x.parquet");
    CHECK_EQ_INT(m->entries[0].data_file.record_count, 42);
    CHECK_EQ_INT(m->entries[0].data_file.file_size_in_bytes, 5000);
    CHECK(!m->entries[0].has_snapshot_id);
    meru_ice_manifest_free(m);
    meru_buf_free(&rec);
    meru_buf_free(&f);
}

/* Header integers are decimal, strictly, and fit 64 bits. */
static void test_manifest_header_integers_are_strict(void)
{
    static const char *bad[] = {"99999999999999999999",
                                "9223372036854775808",
                                "1x",
                                "",
                                "-",
                                "+1",
                                " 1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        meru_buf f = {0};
        uint8_t sync[16] = {0};
        meru_avro_meta meta[] = {{"snapshot-id", bad[i], strlen(bad[i])}};
        meru_ice_manifest_list *l = NULL;
        CHECK_OK(meru_avro_ocf_header(&f,
                                      "{\"type\":\"record\",\"name\":"
                                      "\"manifest_file\",\"fields\":[]}",
                                      meta, 1, sync));
        CHECK_MSG(meru_ice_manifest_list_decode(&l, f.data, f.len) ==
                      MERU_ECORRUPT,
                  "snapshot-id \"%s\" accepted", bad[i]);
        meru_buf_free(&f);
    }
    meru_buf f = {0};
    uint8_t sync[16] = {0};
    meru_avro_meta meta[] = {{"snapshot-id", "-9223372036854775808", 20}};
    meru_ice_manifest_list *l = NULL;
    CHECK_OK(meru_avro_ocf_header(&f,
                                  "{\"type\":\"record\",\"name\":"
                                  "\"manifest_file\",\"fields\":[]}",
                                  meta, 1, sync));
    CHECK_OK(meru_ice_manifest_list_decode(&l, f.data, f.len));
    CHECK(l->has_snapshot_id && l->info.snapshot_id == INT64_MIN);
    meru_ice_manifest_list_free(l);
    meru_buf_free(&f);
}

static int decode_manifest(const uint8_t *p, size_t n)
{
    meru_ice_manifest *m = NULL;
    int rc = meru_ice_manifest_decode(&m, p, n);
    meru_ice_manifest_free(m);
    return rc;
}

static int decode_list(const uint8_t *p, size_t n)
{
    meru_ice_manifest_list *l = NULL;
    int rc = meru_ice_manifest_list_decode(&l, p, n);
    meru_ice_manifest_list_free(l);
    return rc;
}

static void test_manifest_corrupt_input_is_an_error(void)
{
    meru_ice_manifest_entry e[3];
    meru_buf b = {0};
    size_t flips_ok;
    meru_ice_manifest_info info = data_info(3);
    for (int i = 0; i < 3; i++)
        data_entry(&e[i], i, 3);
    CHECK_OK(meru_ice_manifest_encode(&b, &info, e, 3, NULL));
    /* one block: only the header-only prefix decodes (as an empty file) */
    size_t wrong =
        ice_corruption_sweep(b.data, b.len, decode_manifest, 3000, &flips_ok);
    CHECK_MSG(wrong == 1, "%zu prefixes decoded", wrong);
    meru_buf_free(&b);
}

static void make_list(meru_ice_manifest_file *f, int n, int version)
{
    static char paths[4][64];
    static const meru_ice_field_summary parts[] = {
        {true, true, false, (const uint8_t *)"a", 1, (const uint8_t *)"zz", 2},
        {false, false, false, NULL, 0, NULL, 0}};
    for (int i = 0; i < n; i++) {
        memset(&f[i], 0, sizeof f[i]);
        snprintf(paths[i], sizeof paths[i], "/t/metadata/m%d.avro", i);
        f[i].manifest_path = paths[i];
        f[i].manifest_length = 1000 + i;
        f[i].content = i == 2 ? MERU_ICE_MANIFEST_DELETES : 0;
        f[i].sequence_number = 10 + i;
        f[i].min_sequence_number = 5;
        f[i].added_snapshot_id = 77 + i;
        f[i].added_files_count = i;
        f[i].existing_files_count = 2 * i;
        f[i].deleted_files_count = 3;
        f[i].added_rows_count = 100 * i;
        f[i].existing_rows_count = 7;
        f[i].deleted_rows_count = 9;
        if (i == 1) {
            f[i].partitions = parts;
            f[i].n_partitions = 2;
        }
        if (version >= 3 && f[i].content == 0) {
            f[i].has_first_row_id = true;
            f[i].first_row_id = 1000 * i;
        }
    }
}

static void test_manifest_list_round_trips_v2_and_v3(void)
{
    for (int version = 2; version <= 3; version++) {
        meru_ice_manifest_file f[3];
        meru_ice_manifest_list *l = NULL;
        meru_buf b = {0};
        meru_ice_manifest_list_info info = {version, 42, true, 41, 9, 3000};
        make_list(f, 3, version);
        CHECK_OK(meru_ice_manifest_list_encode(&b, &info, f, 3));
        CHECK_OK(meru_ice_manifest_list_decode(&l, b.data, b.len));
        CHECK_EQ_INT(l->format_version, version);
        CHECK(l->has_snapshot_id && l->info.snapshot_id == 42);
        CHECK(l->info.has_parent_snapshot_id &&
              l->info.parent_snapshot_id == 41);
        CHECK_EQ_INT(l->info.sequence_number, 9);
        CHECK(l->has_first_row_id == (version >= 3));
        if (version >= 3)
            CHECK_EQ_INT(l->info.first_row_id, 3000);
        CHECK_EQ_U64(l->n_files, 3);
        for (int i = 0; i < 3; i++) {
            const meru_ice_manifest_file *a = &f[i], *g = &l->files[i];
            CHECK_STR(g->manifest_path, a->manifest_path);
            CHECK(g->manifest_length == a->manifest_length &&
                  g->partition_spec_id == a->partition_spec_id &&
                  g->content == a->content &&
                  g->sequence_number == a->sequence_number &&
                  g->min_sequence_number == a->min_sequence_number &&
                  g->added_snapshot_id == a->added_snapshot_id &&
                  g->added_files_count == a->added_files_count &&
                  g->existing_files_count == a->existing_files_count &&
                  g->deleted_files_count == a->deleted_files_count &&
                  g->added_rows_count == a->added_rows_count &&
                  g->existing_rows_count == a->existing_rows_count &&
                  g->deleted_rows_count == a->deleted_rows_count &&
                  g->has_first_row_id == a->has_first_row_id &&
                  g->first_row_id == a->first_row_id);
            CHECK_EQ_U64(g->n_partitions, a->n_partitions);
        }
        const meru_ice_field_summary *p = l->files[1].partitions;
        CHECK(p[0].contains_null && p[0].has_contains_nan &&
              !p[0].contains_nan);
        CHECK(p[0].lower_bound_len == 1 && p[0].lower_bound[0] == 'a');
        CHECK(p[0].upper_bound_len == 2 && !memcmp(p[0].upper_bound, "zz", 2));
        CHECK(!p[1].contains_null && !p[1].has_contains_nan &&
              !p[1].lower_bound && !p[1].upper_bound);
        meru_ice_manifest_list_free(l);
        /* schema ids: 500..520 as the spec lists them, 520 only in v3 */
        meru_avro_ocf *of;
        int32_t ids[64];
        size_t n = 0;
        CHECK_OK(meru_avro_ocf_open(&of, b.data, b.len));
        collect_ids(meru_avro_ocf_schema(of), ids, &n);
        static const int32_t want[] = {500, 501, 502, 517, 515, 516, 503,
                                       504, 505, 506, 512, 513, 514, 507,
                                       508, 509, 518, 510, 511, 519};
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
            CHECK_MSG(has_id(ids, n, want[i]), "id %d missing", want[i]);
        CHECK(has_id(ids, n, 520) == (version >= 3));
        meru_avro_ocf_close(of);
        /* corruption */
        size_t flips_ok;
        size_t wrong =
            ice_corruption_sweep(b.data, b.len, decode_list, 1000, &flips_ok);
        CHECK_MSG(wrong == 1, "%zu prefixes decoded", wrong);
        meru_buf_free(&b);
    }
}

static void test_manifest_list_rules(void)
{
    meru_ice_manifest_file f[3];
    meru_buf b = {0};
    meru_ice_manifest_list_info info = {2, 1, false, 0, 1, 0};
    make_list(f, 3, 3); /* first_row_id set */
    CHECK_RC(meru_ice_manifest_list_encode(&b, &info, f, 3), MERU_EINVAL);
    CHECK_ERRMSG("v3 field");
    info.format_version = 3;
    f[2].has_first_row_id = true; /* a delete manifest */
    CHECK_RC(meru_ice_manifest_list_encode(&b, &info, f, 3), MERU_EINVAL);
    CHECK_EQ_U64(b.len, 0);
    meru_buf_free(&b);
}

static void test_manifest_file_from_summary(void)
{
    meru_ice_manifest_entry e[2];
    meru_ice_manifest_summary s;
    meru_ice_manifest_file mf;
    meru_buf b = {0};
    meru_ice_manifest_info info = data_info(3);
    data_entry(&e[0], 0, 3); /* added, inherits */
    data_entry(&e[1], 1, 3); /* existing, seq 1 */
    CHECK_OK(meru_ice_manifest_encode(&b, &info, e, 2, &s));
    meru_ice_manifest_file_from_summary(&mf, "/m.avro", 0, 0, 99, 12, &s);
    CHECK_EQ_INT(mf.sequence_number, 12);
    CHECK_EQ_INT(mf.min_sequence_number, 1);
    CHECK_EQ_INT(mf.added_snapshot_id, 99);
    CHECK_EQ_INT(mf.manifest_length, b.len);
    CHECK_EQ_INT(mf.added_files_count, 1);
    CHECK_EQ_INT(mf.existing_files_count, 1);
    CHECK_EQ_INT(mf.added_rows_count, 100);
    CHECK_EQ_INT(mf.existing_rows_count, 101);
    /* only added entries: the min is the manifest's own sequence number */
    meru_buf_reset(&b);
    CHECK_OK(meru_ice_manifest_encode(&b, &info, e, 1, &s));
    meru_ice_manifest_file_from_summary(&mf, "/m.avro", 0, 0, 99, 12, &s);
    CHECK_EQ_INT(mf.min_sequence_number, 12);
    meru_buf_free(&b);
}

static int write_manifest(meru_fs *fs, const char *path, void *arg)
{
    (void)arg;
    meru_ice_manifest_entry e[2];
    meru_ice_manifest_info info = data_info(3);
    data_entry(&e[0], 0, 3);
    data_entry(&e[1], 1, 3);
    return meru_ice_manifest_write(fs, path, &info, e, 2, NULL);
}

static int write_list(meru_fs *fs, const char *path, void *arg)
{
    (void)arg;
    meru_ice_manifest_file f[3];
    meru_ice_manifest_list_info info = {3, 5, false, 0, 1, 0};
    make_list(f, 3, 3);
    return meru_ice_manifest_list_write(fs, path, &info, f, 3, NULL);
}

static void test_manifest_files_on_disk_and_under_faults(void)
{
    const char *dir = meru_test_tmpdir("ice_manifest");
    char path[1024];
    meru_ice_manifest *m = NULL;
    meru_ice_manifest_list *l = NULL;
    snprintf(path, sizeof path, "%s/m.avro", dir);
    CHECK_OK(write_manifest(meru_fs_posix(), path, NULL));
    CHECK_RC(write_manifest(meru_fs_posix(), path, NULL), MERU_EEXIST);
    CHECK_OK(meru_ice_manifest_read(meru_fs_posix(), path, 0, &m));
    CHECK_EQ_U64(m->n_entries, 2);
    meru_ice_manifest_free(m);
    CHECK_RC(meru_ice_manifest_read(meru_fs_posix(), path, 100, &m),
             MERU_ERANGE);
    snprintf(path, sizeof path, "%s/l.avro", dir);
    CHECK_OK(write_list(meru_fs_posix(), path, NULL));
    CHECK_OK(meru_ice_manifest_list_read(meru_fs_posix(), path, 0, &l));
    CHECK_EQ_U64(l->n_files, 3);
    meru_ice_manifest_list_free(l);
    const char *why = ice_fault_sweep(dir, write_manifest, NULL);
    CHECK_MSG(!why, "manifest: %s", why);
    why = ice_fault_sweep(dir, write_list, NULL);
    CHECK_MSG(!why, "manifest list: %s", why);
}

int main(void)
{
    MERU_TEST_RUN(test_manifest_v2_round_trip);
    MERU_TEST_RUN(test_manifest_v3_round_trip);
    MERU_TEST_RUN(test_manifest_v3_delete_manifest_with_dvs);
    MERU_TEST_RUN(test_manifest_version_rules);
    MERU_TEST_RUN(test_manifest_header_and_schema_ids_follow_the_spec);
    MERU_TEST_RUN(test_manifest_reader_resolves_fields_by_id);
    MERU_TEST_RUN(test_manifest_header_integers_are_strict);
    MERU_TEST_RUN(test_manifest_corrupt_input_is_an_error);
    MERU_TEST_RUN(test_manifest_list_round_trips_v2_and_v3);
    MERU_TEST_RUN(test_manifest_list_rules);
    MERU_TEST_RUN(test_manifest_file_from_summary);
    MERU_TEST_RUN(test_manifest_files_on_disk_and_under_faults);
    return meru_test_finish();
}
