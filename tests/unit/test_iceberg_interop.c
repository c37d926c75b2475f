/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_iceberg_interop.c — the Iceberg files we write, read by independent
 * code (tests/interop/iceberg_check.mjs):
 *  - avsc (npm) decodes our v2 and v3 manifests (data and deletes) and
 *    manifest lists; the script checks the header metadata, every id in
 *    the embedded Avro schema (field-id, element-id, the key/value ids of
 *    int-keyed maps stored as arrays with logicalType "map"), null
 *    defaults of optional fields, and the decoded records;
 *  - a Puffin and deletion-vector-v1 decoder written in the script from
 *    the specs parses our Puffin file (magics, footer, flags, blob
 *    metadata) and each DV blob's framing and CRC-32, and the npm
 *    `roaring` package (CRoaring) deserialises each 32-bit portable
 *    bucket, re-serialises it to the same bytes, and yields the positions;
 *  - hyparquet reads our position-delete file: names, types, required,
 *    field ids 2147483546 / 2147483545, and the rows.
 * What each reader must see is written here, from the inputs, into
 * expect.json (nothing of our readers is used for it).
 *
 * A machine without node or tests/interop/node_modules FAILS (CI installs
 * them with scripts/install-deps.sh --npm).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "iceberg/dv.h"
#include "iceberg/manifest.h"
#include "iceberg/posdel.h"
#include "iceberg/puffin.h"
#include "test.h"
#include "util/buf.h"

#define INTEROP_DIR MERU_SOURCE_DIR "/tests/interop"

static char dir[1024];
static FILE *ex; /* expect.json */

static const char *P(const char *name)
{
    static char buf[4][1200];
    static int i;
    char *b = buf[i++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

static const char table_schema[] =
    "{\"type\":\"struct\",\"schema-id\":1,\"identifier-field-ids\":[1],"
    "\"fields\":[{\"id\":1,\"name\":\"id\",\"required\":true,\"type\":"
    "\"long\"},{\"id\":2,\"name\":\"name\",\"required\":false,\"type\":"
    "\"string\"}]}";

static void json_str(const char *s)
{
    fputc('"', ex);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', ex);
        fputc(*s, ex);
    }
    fputc('"', ex);
}

static void hex(const uint8_t *p, size_t n)
{
    fputc('"', ex);
    for (size_t i = 0; i < n; i++)
        fprintf(ex, "%02x", p[i]);
    fputc('"', ex);
}

/* The projection iceberg_check.mjs compares, as JSON. */
static void entry_json(const meru_ice_manifest_entry *e, int version)
{
    const meru_ice_data_file *d = &e->data_file;
    fprintf(ex, "{\"status\":%d,\"snapshot_id\":", e->status);
    if (e->has_snapshot_id)
        fprintf(ex, "%" PRId64, e->snapshot_id);
    else
        fputs("null", ex);
    fputs(",\"sequence_number\":", ex);
    if (e->has_sequence_number)
        fprintf(ex, "%" PRId64, e->sequence_number);
    else
        fputs("null", ex);
    fprintf(ex,
            ",\"content\":%d,\"file_path\":\"%s\",\"file_format\":\"%s\","
            "\"record_count\":%" PRId64 ",\"file_size_in_bytes\":%" PRId64
            ",\"value_counts\":",
            d->content, d->file_path, d->file_format, d->record_count,
            d->file_size_in_bytes);
    if (d->n_value_counts) {
        fputc('[', ex);
        for (size_t i = 0; i < d->n_value_counts; i++)
            fprintf(ex, "%s[%d,%" PRId64 "]", i ? "," : "",
                    d->value_counts[i].field_id, d->value_counts[i].value);
        fputc(']', ex);
    } else {
        fputs("null", ex);
    }
    fputs(",\"lower_bounds\":", ex);
    if (d->n_lower_bounds) {
        fputc('[', ex);
        for (size_t i = 0; i < d->n_lower_bounds; i++) {
            fprintf(ex, "%s[%d,", i ? "," : "", d->lower_bounds[i].field_id);
            hex(d->lower_bounds[i].data, d->lower_bounds[i].len);
            fputc(']', ex);
        }
        fputc(']', ex);
    } else {
        fputs("null", ex);
    }
    fputs(",\"referenced_data_file\":", ex);
    if (d->referenced_data_file)
        fprintf(ex, "\"%s\"", d->referenced_data_file);
    else
        fputs("null", ex);
    if (version >= 3) {
        fputs(",\"first_row_id\":", ex);
        if (d->has_first_row_id)
            fprintf(ex, "%" PRId64, d->first_row_id);
        else
            fputs("null", ex);
        if (d->has_content_offset)
            fprintf(ex,
                    ",\"content_offset\":%" PRId64
                    ",\"content_size_in_bytes\":%" PRId64,
                    d->content_offset, d->content_size_in_bytes);
        else
            fputs(",\"content_offset\":null,\"content_size_in_bytes\":null",
                  ex);
    }
    fputc('}', ex);
}

static const char *const manifest_ids =
    "0,1,2,3,4,100,101,102,103,104,108,109,110,117,118,119,120,121,122,"
    "125,126,127,128,129,130,131,132,133,134,135,136,137,138,139,140,143";

static void write_manifest(const char *name, int version, int content,
                           const meru_ice_manifest_entry *e, size_t n)
{
    meru_ice_manifest_info info = {version, content, table_schema, 1, NULL, 0};
    meru_ice_manifest_summary s;
    if (meru_ice_manifest_write(meru_fs_posix(), P(name), &info, e, n, &s))
        fprintf(stderr, "%s: %s\n", name, meru_errmsg());
    fprintf(ex, "{\"file\":\"%s\",\"kind\":\"manifest\",\"meta\":{\"schema\":",
            name);
    json_str(table_schema);
    fprintf(ex,
            ",\"schema-id\":\"1\",\"partition-spec\":\"[]\","
            "\"partition-spec-id\":\"0\",\"format-version\":\"%d\","
            "\"content\":\"%s\"},\"ids\":[%s%s],\"records\":[",
            version, content ? "deletes" : "data", manifest_ids,
            version >= 3 ? ",142,144,145" : "");
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', ex);
        entry_json(&e[i], version);
    }
    fputs("]},\n", ex);
}

static void write_list(const char *name, int version,
                       const meru_ice_manifest_file *f, size_t n)
{
    meru_ice_manifest_list_info info = {version, 77, true, 76, 5, 1000};
    if (meru_ice_manifest_list_write(meru_fs_posix(), P(name), &info, f, n,
                                     NULL))
        fprintf(stderr, "%s: %s\n", name, meru_errmsg());
    fprintf(ex,
            "{\"file\":\"%s\",\"kind\":\"list\",\"meta\":{\"snapshot-id\":"
            "\"77\",\"parent-snapshot-id\":\"76\",\"sequence-number\":\"5\","
            "\"format-version\":\"%d\"%s},\"ids\":[500,501,502,503,504,505,"
            "506,507,508,509,510,511,512,513,514,515,516,517,518,519%s],"
            "\"records\":[",
            name, version, version >= 3 ? ",\"first-row-id\":\"1000\"" : "",
            version >= 3 ? ",520" : "");
    for (size_t i = 0; i < n; i++) {
        fprintf(ex,
                "%s{\"manifest_path\":\"%s\",\"manifest_length\":%" PRId64
                ",\"content\":%d,\"sequence_number\":%" PRId64
                ",\"min_sequence_number\":%" PRId64
                ",\"added_snapshot_id\":%" PRId64
                ",\"added_files_count\":%d,\"existing_files_count\":%d,"
                "\"deleted_files_count\":%d,\"added_rows_count\":%" PRId64
                ",\"existing_rows_count\":%" PRId64
                ",\"deleted_rows_count\":%" PRId64,
                i ? "," : "", f[i].manifest_path, f[i].manifest_length,
                f[i].content, f[i].sequence_number, f[i].min_sequence_number,
                f[i].added_snapshot_id, f[i].added_files_count,
                f[i].existing_files_count, f[i].deleted_files_count,
                f[i].added_rows_count, f[i].existing_rows_count,
                f[i].deleted_rows_count);
        if (version >= 3 && f[i].has_first_row_id)
            fprintf(ex, ",\"first_row_id\":%" PRId64, f[i].first_row_id);
        else if (version >= 3)
            fputs(",\"first_row_id\":null", ex);
        fputc('}', ex);
    }
    fputs("]},\n", ex);
}

static int print_pos(uint64_t pos, void *arg)
{
    int *first = arg;
    fprintf(ex, "%s%" PRIu64, *first ? "" : ",", pos);
    *first = 0;
    return 0;
}

static void test_iceberg_files_read_by_independent_readers(void)
{
    if (system("node --version >/dev/null 2>&1") != 0) {
        CHECK_MSG(0, "node is not on PATH: run bash scripts/install-deps.sh "
                     "--npm");
    }
    FILE *probe = fopen(INTEROP_DIR "/node_modules/roaring/package.json", "r");
    CHECK_MSG(probe, "tests/interop/node_modules lacks roaring: run npm ci "
                     "in tests/interop");
    fclose(probe);
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("ice_interop"));
    ex = fopen(P("expect.json"), "w");
    CHECK(ex);
    fputs("{\"avro\":[\n", ex);

    /* manifests: data v2 and v3, a v3 delete manifest of DVs */
    static const meru_ice_count vc[] = {{1, 10}, {2, 10}};
    static const uint8_t lo[8] = {0xf6, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff};
    static const meru_ice_bound lb[] = {{1, lo, 8},
                                        {2, (const uint8_t *)"ab", 2}};
    static const int64_t so[] = {4};
    meru_ice_manifest_entry e[2];
    memset(e, 0, sizeof e);
    for (int i = 0; i < 2; i++) {
        e[i].status = i ? MERU_ICE_STATUS_EXISTING : MERU_ICE_STATUS_ADDED;
        e[i].has_snapshot_id = i;
        e[i].snapshot_id = 1234567890123;
        e[i].has_sequence_number = e[i].has_file_sequence_number = i;
        e[i].sequence_number = e[i].file_sequence_number = 4;
        e[i].data_file.file_path =
            i ? "/tbl/data/L1/b.parquet" : "/tbl/data/L0/a.parquet";
        e[i].data_file.file_format = "parquet";
        e[i].data_file.record_count = 10 + i;
        e[i].data_file.file_size_in_bytes = 5000 + i;
        e[i].data_file.value_counts = vc;
        e[i].data_file.n_value_counts = 2;
        e[i].data_file.lower_bounds = lb;
        e[i].data_file.n_lower_bounds = 2;
        e[i].data_file.split_offsets = so;
        e[i].data_file.n_split_offsets = 1;
        e[i].data_file.has_sort_order_id = true;
    }
    write_manifest("m-data-v2.avro", 2, MERU_ICE_MANIFEST_DATA, e, 2);
    e[1].data_file.has_first_row_id = true;
    e[1].data_file.first_row_id = 300;
    write_manifest("m-data-v3.avro", 3, MERU_ICE_MANIFEST_DATA, e, 2);

    /* the DVs: a Puffin file first, so the delete manifest can point in */
    meru_dv *dv[3];
    const char *refs[3] = {"/tbl/data/L0/a.parquet", "/tbl/data/L1/b.parquet",
                           "/tbl/data/L1/c.parquet"};
    uint64_t off[3], len[3];
    for (int i = 0; i < 3; i++)
        CHECK_OK(meru_dv_new(&dv[i]));
    CHECK_OK(meru_dv_add(dv[0], 0));
    CHECK_OK(meru_dv_add(dv[0], 9));                /* array */
    CHECK_OK(meru_dv_add_range(dv[1], 100, 20000)); /* run */
    for (uint64_t p = 70000; p < 90000; p += 3)
        CHECK_OK(meru_dv_add(dv[1], p)); /* bitset */
    CHECK_OK(meru_dv_add(dv[2], 5));
    CHECK_OK(meru_dv_add(dv[2], (1ull << 32) + 77)); /* two buckets */
    meru_puffin_writer *w;
    CHECK_OK(meru_puffin_writer_open(&w, meru_fs_posix(), P("dv.puffin")));
    for (int i = 0; i < 3; i++)
        CHECK_OK(meru_dv_puffin_add(w, dv[i], refs[i], &off[i], &len[i]));
    uint64_t puffin_size;
    CHECK_OK(meru_puffin_writer_finish(w, NULL, 0, &puffin_size));

    meru_ice_manifest_entry d[3];
    memset(d, 0, sizeof d);
    for (int i = 0; i < 3; i++) {
        d[i].status = MERU_ICE_STATUS_ADDED;
        d[i].data_file.content = MERU_ICE_CONTENT_POSITION_DELETES;
        d[i].data_file.file_path = "/tbl/data/L0/x-5.puffin";
        d[i].data_file.file_format = "puffin";
        d[i].data_file.record_count = (int64_t)meru_dv_cardinality(dv[i]);
        d[i].data_file.file_size_in_bytes = (int64_t)puffin_size;
        d[i].data_file.referenced_data_file = refs[i];
        d[i].data_file.has_content_offset = true;
        d[i].data_file.content_offset = (int64_t)off[i];
        d[i].data_file.content_size_in_bytes = (int64_t)len[i];
    }
    write_manifest("m-deletes-v3.avro", 3, MERU_ICE_MANIFEST_DELETES, d, 3);

    /* manifest lists v2 and v3 */
    meru_ice_manifest_file f[2];
    memset(f, 0, sizeof f);
    for (int i = 0; i < 2; i++) {
        f[i].manifest_path = i ? "/tbl/metadata/m-deletes-v3.avro"
                               : "/tbl/metadata/m-data-v3.avro";
        f[i].manifest_length = 3000 + i;
        f[i].content = i;
        f[i].sequence_number = 5;
        f[i].min_sequence_number = 4;
        f[i].added_snapshot_id = 77;
        f[i].added_files_count = 1;
        f[i].existing_files_count = 1 - i;
        f[i].added_rows_count = 10;
        f[i].existing_rows_count = 11;
    }
    write_list("list-v2.avro", 2, f, 2);
    f[0].has_first_row_id = true;
    f[0].first_row_id = 1000;
    write_list("list-v3.avro", 3, f, 2);
    fputs("{\"file\":null}],\n", ex);

    /* what the Puffin reader must find */
    fprintf(ex,
            "\"puffin\":{\"file\":\"dv.puffin\",\"size\":%" PRIu64
            ",\"blobs\":[",
            puffin_size);
    for (int i = 0; i < 3; i++) {
        int first = 1;
        fprintf(
            ex,
            "%s{\"offset\":%" PRIu64 ",\"length\":%" PRIu64
            ",\"ref\":\"%s\",\"cardinality\":\"%" PRIu64 "\",\"positions\":[",
            i ? "," : "", off[i], len[i], refs[i], meru_dv_cardinality(dv[i]));
        meru_dv_foreach(dv[i], print_pos, &first);
        fputs("]}", ex);
    }
    fputs("]},\n", ex);

    /* the position-delete file: dv[2] and dv[0], given out of order */
    meru_posdel_input in[2] = {{refs[2], dv[2]}, {refs[0], dv[0]}};
    CHECK_OK(meru_posdel_write(meru_fs_posix(), P("pos.parquet"), in, 2, NULL));
    fprintf(ex,
            "\"posdel\":{\"file\":\"pos.parquet\",\"rows\":["
            "[\"%s\",\"0\"],[\"%s\",\"9\"],[\"%s\",\"5\"],"
            "[\"%s\",\"%" PRIu64 "\"]]}}\n",
            refs[0], refs[0], refs[2], refs[2], (uint64_t)1 << 32 | 77);
    fclose(ex);
    for (int i = 0; i < 3; i++)
        meru_dv_free(dv[i]);

    char cmd[4096];
    snprintf(cmd, sizeof cmd, "node %s/iceberg_check.mjs %s", INTEROP_DIR, dir);
    int st = system(cmd);
    CHECK_MSG(st == 0, "iceberg_check.mjs failed (exit %d): see above", st);
}

int main(void)
{
    MERU_TEST_RUN(test_iceberg_files_read_by_independent_readers);
    return meru_test_finish();
}
