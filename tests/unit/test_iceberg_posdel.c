/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_iceberg_posdel.c — v2 position-delete files (iceberg/posdel.h):
 * a round trip of several data files' positions (more than one writer
 * batch), the Parquet schema (names, types, required, field ids) as our
 * reader sees it, row order, hostile files (unsorted rows, nulls, negative
 * positions, wrong field ids, truncation), and the writer under faults.
 */
#include <stdlib.h>

#include "ice_test.h"
#include "iceberg/posdel.h"
#include "parquet/pq.h"
#include "test.h"

static char dir[1024];

static const char *P(const char *name)
{
    static char buf[4][1200];
    static int i;
    char *b = buf[i++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

typedef struct three {
    meru_dv *dv[3];
} three;

static int write_three(meru_fs *fs, const char *path, void *arg)
{
    three *t = arg;
    /* given out of order: the writer sorts by path */
    meru_posdel_input in[3] = {{"/t/data/L0/c.parquet", t->dv[2]},
                               {"/t/data/L0/a.parquet", t->dv[0]},
                               {"/t/data/L0/b.parquet", t->dv[1]}};
    meru_posdel_summary s;
    int rc = meru_posdel_write(fs, path, in, 3, &s);
    if (!rc && s.record_count != meru_dv_cardinality(t->dv[0]) +
                                     meru_dv_cardinality(t->dv[1]) +
                                     meru_dv_cardinality(t->dv[2]))
        rc = MERU_EINTERNAL;
    return rc;
}

static void make_three(three *t)
{
    for (int i = 0; i < 3; i++)
        meru_dv_new(&t->dv[i]);
    meru_dv_add_range(t->dv[0], 0, 100000); /* > one writer batch */
    for (uint64_t p = 5; p < 1000; p += 7)
        meru_dv_add(t->dv[1], p);
    meru_dv_add(t->dv[1], (1ull << 32) + 9); /* a second bucket */
    /* dv[2] empty: left out of the file */
}

static void free_three(three *t)
{
    for (int i = 0; i < 3; i++)
        meru_dv_free(t->dv[i]);
}

static int source_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    meru_buf *b = ctx;
    if (off > b->len || n > b->len - off)
        return MERU_ECORRUPT;
    memcpy(buf, b->data + off, n);
    return MERU_OK;
}

static void test_posdel_round_trip_and_schema(void)
{
    three t;
    meru_posdel_file *f = NULL;
    make_three(&t);
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("ice_posdel"));
    CHECK_OK(write_three(meru_fs_posix(), P("d.parquet"), &t));
    CHECK_OK(meru_posdel_read(meru_fs_posix(), P("d.parquet"), &f));
    CHECK_EQ_U64(f->n, 2);
    CHECK_STR(f->entries[0].data_file, "/t/data/L0/a.parquet");
    CHECK_STR(f->entries[1].data_file, "/t/data/L0/b.parquet");
    CHECK(meru_dv_equal(f->entries[0].dv, t.dv[0]));
    CHECK(meru_dv_equal(f->entries[1].dv, t.dv[1]));
    CHECK_EQ_U64(f->record_count, 100000 + meru_dv_cardinality(t.dv[1]));
    meru_posdel_file_free(f);

    /* the schema as a Parquet reader sees it */
    size_t n;
    uint8_t *data = meru_test_read_file(P("d.parquet"), &n);
    meru_buf mb = {data, n, n};
    pq_source src = {source_read, n, &mb, NULL};
    pq_reader *r;
    CHECK_OK(pq_reader_open(&r, &src, NULL));
    CHECK_EQ_U64(pq_reader_num_columns(r), 2);
    const pq_column_info *c0 = pq_reader_column(r, 0),
                         *c1 = pq_reader_column(r, 1);
    CHECK_STR(c0->name, "file_path");
    CHECK(c0->type == PQ_BYTE_ARRAY && c0->repetition == PQ_REQUIRED);
    CHECK(c0->logical.kind == PQ_LT_STRING);
    CHECK(c0->has_field_id && c0->field_id == 2147483546);
    CHECK_STR(c1->name, "pos");
    CHECK(c1->type == PQ_INT64 && c1->repetition == PQ_REQUIRED);
    CHECK(c1->has_field_id && c1->field_id == 2147483545);
    CHECK_EQ_INT(pq_reader_num_rows(r), 100000 + meru_dv_cardinality(t.dv[1]));
    pq_reader_close(r);
    free(data);
    free_three(&t);
}

static void test_posdel_writer_rejects_duplicate_files(void)
{
    meru_dv *dv = NULL;
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("ice_posdel_dup"));
    CHECK_OK(meru_dv_new(&dv));
    CHECK_OK(meru_dv_add(dv, 1));
    meru_posdel_input in[2] = {{"/a", dv}, {"/a", dv}};
    CHECK_RC(meru_posdel_write(meru_fs_posix(), P("x.parquet"), in, 2, NULL),
             MERU_EINVAL);
    int exists;
    CHECK_OK(meru_fs_exists(meru_fs_posix(), P("x.parquet"), &exists));
    CHECK(!exists);
    meru_dv_free(dv);
}

/* Writes a file with our Parquet writer directly: `rows` of (path, pos),
 * optional columns when `nullable`, the given field ids. */
static void write_raw(const char *path, const char *const *paths,
                      const int64_t *pos, const uint8_t *valid, size_t rows,
                      int32_t id_path, int32_t id_pos)
{
    pq_column_spec cols[2];
    memset(cols, 0, sizeof cols);
    cols[0] = (pq_column_spec){.name = "file_path",
                               .type = PQ_BYTE_ARRAY,
                               .has_field_id = true,
                               .field_id = id_path};
    cols[1] = (pq_column_spec){.name = "pos",
                               .type = PQ_INT64,
                               .has_field_id = true,
                               .field_id = id_pos};
    if (valid)
        cols[0].repetition = cols[1].repetition = PQ_OPTIONAL;
    FILE *f = fopen(path, "wb");
    pq_sink sink;
    pq_sink_file(&sink, f);
    pq_writer *w;
    pq_bytes *pb = calloc(rows, sizeof *pb);
    for (size_t i = 0; i < rows; i++) {
        pb[i].ptr = (const uint8_t *)paths[i];
        pb[i].len = (uint32_t)strlen(paths[i]);
    }
    pq_column_data cd[2] = {{pb, valid}, {pos, valid}};
    if (pq_writer_open(&w, &sink, cols, 2, NULL) ||
        pq_writer_write(w, rows, cd) || pq_writer_close(w, NULL))
        fprintf(stderr, "write_raw: %s\n", meru_errmsg());
    free(pb);
    fclose(f);
}

static void expect_bad(const char *name, const char *needle, int line)
{
    meru_posdel_file *f = NULL;
    int rc = meru_posdel_read(meru_fs_posix(), P(name), &f);
    CHECK_MSG(rc == MERU_ECORRUPT && !f, "line %d: rc %d", line, rc);
    CHECK_MSG(strstr(meru_errmsg(), needle), "line %d: \"%s\"", line,
              meru_errmsg());
}

static void test_posdel_reader_rejects_hostile_files(void)
{
    const char *paths[] = {"/a", "/a", "/b"};
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("ice_posdel_bad"));
    int64_t good[] = {1, 2, 0};
    write_raw(P("good.parquet"), paths, good, NULL, 3, 2147483546, 2147483545);
    meru_posdel_file *f = NULL;
    CHECK_OK(meru_posdel_read(meru_fs_posix(), P("good.parquet"), &f));
    CHECK_EQ_U64(f->n, 2);
    meru_posdel_file_free(f);

    int64_t down[] = {2, 1, 0};
    write_raw(P("pos.parquet"), paths, down, NULL, 3, 2147483546, 2147483545);
    expect_bad("pos.parquet", "not sorted by pos", __LINE__);
    const char *back[] = {"/b", "/a", "/a"};
    write_raw(P("path.parquet"), back, good, NULL, 3, 2147483546, 2147483545);
    expect_bad("path.parquet", "not sorted by file_path", __LINE__);
    int64_t neg[] = {-1, 2, 0};
    write_raw(P("neg.parquet"), paths, neg, NULL, 3, 2147483546, 2147483545);
    expect_bad("neg.parquet", "negative", __LINE__);
    uint8_t valid[] = {1, 0, 1};
    write_raw(P("null.parquet"), paths, good, valid, 3, 2147483546, 2147483545);
    expect_bad("null.parquet", "null", __LINE__);
    write_raw(P("ids.parquet"), paths, good, NULL, 3, 1, 2);
    expect_bad("ids.parquet", "field id", __LINE__);

    /* every truncation of a real file is an error */
    three t;
    size_t n;
    make_three(&t);
    CHECK_OK(write_three(meru_fs_posix(), P("t.parquet"), &t));
    free_three(&t);
    uint8_t *data = meru_test_read_file(P("t.parquet"), &n);
    for (size_t cut = 0; cut < n;
         cut += (cut < 64 || n - cut < 4096) ? 1 : 97) {
        FILE *o = fopen(P("cut.parquet"), "wb");
        fwrite(data, 1, cut, o);
        fclose(o);
        int rc = meru_posdel_read(meru_fs_posix(), P("cut.parquet"), &f);
        CHECK_MSG(rc != MERU_OK, "prefix of %zu bytes read", cut);
    }
    free(data);
}

static void test_posdel_writer_under_faults_leaves_no_file(void)
{
    three t;
    make_three(&t);
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("ice_posdel_fault"));
    const char *why = ice_fault_sweep(dir, write_three, &t);
    CHECK_MSG(!why, "%s", why);
    free_three(&t);
}

int main(void)
{
    MERU_TEST_RUN(test_posdel_round_trip_and_schema);
    MERU_TEST_RUN(test_posdel_writer_rejects_duplicate_files);
    MERU_TEST_RUN(test_posdel_reader_rejects_hostile_files);
    MERU_TEST_RUN(test_posdel_writer_under_faults_leaves_no_file);
    return meru_test_finish();
}
