/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_iceberg_puffin.c — Puffin files (iceberg/puffin.h): a round trip of
 * several blobs with their metadata, the footer bytes checked against the
 * spec's layout, footers that are truncated, bit-flipped, compressed or
 * that place a blob outside the file, and the writer under injected I/O
 * faults.
 */
#include <stdlib.h>

#include "ice_test.h"
#include "iceberg/puffin.h"
#include "test.h"
#include "util/endian.h"

static char dir[1024];

/* memmem, which C11 + POSIX do not offer. */
static char *find(const void *hay, size_t n, const char *needle, size_t m)
{
    const char *h = hay;
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(h + i, needle, m) == 0)
            return (char *)(uintptr_t)(h + i);
    return NULL;
}

static const char *P(const char *name)
{
    static char buf[4][1200];
    static int i;
    char *b = buf[i++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

static int write_three(meru_fs *fs, const char *path, void *arg)
{
    uint64_t *offs = arg, len;
    meru_puffin_writer *w;
    int32_t fields[] = {1, 2};
    meru_puffin_prop props[] = {{"ndv", "12"}, {"k", "v"}};
    meru_puffin_blob_meta a = {.type = "apache-datasketches-theta-v1",
                               .fields = fields,
                               .n_fields = 2,
                               .snapshot_id = 7,
                               .sequence_number = 3,
                               .props = props,
                               .n_props = 2};
    meru_puffin_blob_meta b = {
        .type = "x-empty", .snapshot_id = -1, .sequence_number = -1};
    meru_puffin_blob_meta c = {.type = "x-zstd",
                               .snapshot_id = 1,
                               .sequence_number = 1,
                               .compression_codec = "zstd"};
    meru_puffin_prop fp[] = {{"purpose", "test"}};
    int rc = meru_puffin_writer_open(&w, fs, path);
    if (rc)
        return rc;
    if ((rc = meru_puffin_writer_add(w, &a, "hello", 5, &offs[0], &len)) ||
        (rc = meru_puffin_writer_add(w, &b, "", 0, &offs[1], &len)) ||
        (rc =
             meru_puffin_writer_add(w, &c, "0123456789", 10, &offs[2], &len))) {
        meru_puffin_writer_abort(w);
        return rc;
    }
    return meru_puffin_writer_finish(w, fp, 1, NULL);
}

static void test_puffin_round_trip_of_several_blobs(void)
{
    meru_puffin_reader *r;
    uint64_t offs[3];
    uint8_t *data;
    size_t len, idx;
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("ice_puffin"));
    CHECK_OK(write_three(meru_fs_posix(), P("a.puffin"), offs));
    CHECK_EQ_U64(offs[0], 4); /* right after the magic */
    CHECK_EQ_U64(offs[1], 9);
    CHECK_EQ_U64(offs[2], 9);
    CHECK_OK(meru_puffin_reader_open(&r, meru_fs_posix(), P("a.puffin"), 0));
    const meru_puffin_footer *ft = meru_puffin_reader_footer(r);
    CHECK_EQ_U64(meru_puffin_footer_blob_count(ft), 3);
    const meru_puffin_blob_meta *a = meru_puffin_footer_blob(ft, 0);
    CHECK_STR(a->type, "apache-datasketches-theta-v1");
    CHECK(a->n_fields == 2 && a->fields[0] == 1 && a->fields[1] == 2);
    CHECK(a->snapshot_id == 7 && a->sequence_number == 3);
    CHECK(a->offset == 4 && a->length == 5);
    CHECK(!a->compression_codec);
    CHECK_STR(meru_puffin_blob_prop(a, "ndv"), "12");
    CHECK_STR(meru_puffin_blob_prop(a, "k"), "v");
    CHECK(!meru_puffin_blob_prop(a, "nope"));
    const meru_puffin_blob_meta *b = meru_puffin_footer_blob(ft, 1);
    CHECK(b->n_fields == 0 && b->snapshot_id == -1 && b->length == 0);
    const meru_puffin_blob_meta *c = meru_puffin_footer_blob(ft, 2);
    CHECK_STR(c->compression_codec, "zstd");
    CHECK_STR(meru_puffin_footer_prop(ft, "purpose"), "test");
    CHECK_STR(meru_puffin_footer_prop(ft, "created-by"),
              "merutable version " MERU_VERSION_STRING);
    CHECK_OK(meru_puffin_reader_read_blob(r, 2, 100, &data, &len));
    CHECK(len == 10 && memcmp(data, "0123456789", 10) == 0);
    free(data);
    CHECK_RC(meru_puffin_reader_read_blob(r, 2, 9, &data, &len), MERU_ERANGE);
    CHECK_OK(meru_puffin_reader_find(r, 4, 5, &idx));
    CHECK_EQ_U64(idx, 0);
    CHECK_RC(meru_puffin_reader_find(r, 4, 6, &idx), MERU_NOT_FOUND);
    meru_puffin_reader_close(r);
    /* the file must not exist yet */
    CHECK_RC(write_three(meru_fs_posix(), P("a.puffin"), offs), MERU_EEXIST);
}

static void test_puffin_footer_layout_follows_the_spec(void)
{
    uint64_t offs[3];
    size_t n;
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("ice_puffin_layout"));
    CHECK_OK(write_three(meru_fs_posix(), P("b.puffin"), offs));
    uint8_t *f = meru_test_read_file(P("b.puffin"), &n);
    CHECK(f && n > 40);
    CHECK_MEM(f, "PFA1", 4);
    CHECK_MEM(f + 4, "hello", 5);
    CHECK_MEM(f + 9, "0123456789", 10);
    CHECK_MEM(f + n - 4, "PFA1", 4);
    CHECK_EQ_U64(meru_load_le32(f + n - 8), 0); /* flags */
    uint32_t plen = meru_load_le32(f + n - 12);
    CHECK_EQ_U64(19 + 4 + plen + 12, n);
    CHECK_MEM(f + 19, "PFA1", 4);
    /* the payload is plain JSON with the spec's keys */
    char *json = (char *)f + 23;
    CHECK(json[0] == '{' && json[plen - 1] == '}');
    CHECK(find(json, plen, "\"blobs\":[", 9));
    CHECK(find(json, plen, "\"snapshot-id\":7", 15));
    CHECK(find(json, plen, "\"sequence-number\":3", 19));
    CHECK(find(json, plen, "\"offset\":4", 10));
    CHECK(find(json, plen, "\"length\":5", 10));
    CHECK(find(json, plen, "\"fields\":[1,2]", 14));
    CHECK(find(json, plen, "\"compression-codec\":\"zstd\"", 26));
    free(f);
}

static uint64_t g_size;

static int parse_whole(const uint8_t *p, size_t n)
{
    meru_puffin_footer *ft = NULL;
    uint64_t need;
    int rc = meru_puffin_footer_parse(&ft, p, n, n, &need);
    if (!rc && n >= 4 && memcmp(p, "PFA1", 4) != 0)
        rc = MERU_ECORRUPT; /* the reader checks the leading magic too */
    meru_puffin_footer_free(ft);
    return rc;
}

static void test_puffin_corrupt_footers_are_errors(void)
{
    uint64_t offs[3], need;
    size_t n, flips_ok;
    meru_puffin_footer *ft;
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("ice_puffin_bad"));
    CHECK_OK(write_three(meru_fs_posix(), P("c.puffin"), offs));
    uint8_t *f = meru_test_read_file(P("c.puffin"), &n);
    g_size = n;
    size_t wrong = ice_corruption_sweep(f, n, parse_whole, 2000, &flips_ok);
    CHECK_MSG(wrong == 0, "%zu prefixes parsed", wrong);
    /* a short tail asks for more */
    CHECK_RC(meru_puffin_footer_parse(&ft, f + n - 12, 12, n, &need),
             MERU_ERANGE);
    CHECK_EQ_U64(need, n - 19);
    /* compressed footer flag */
    f[n - 8] |= 1;
    CHECK_RC(meru_puffin_footer_parse(&ft, f, n, n, &need), MERU_ENOTSUP);
    f[n - 8] &= (uint8_t)~1;
    /* payload size reaching into the leading magic */
    meru_store_le32(f + n - 12, (uint32_t)(n - 12 - 4 - 2));
    CHECK_RC(meru_puffin_footer_parse(&ft, f, n, n, &need), MERU_ECORRUPT);
    free(f);
    /* a blob beyond the blob area */
    meru_puffin_writer *w;
    meru_puffin_blob_meta m = {.type = "t"};
    CHECK_OK(meru_puffin_writer_open(&w, meru_fs_posix(), P("d.puffin")));
    CHECK_OK(meru_puffin_writer_add(w, &m, "abc", 3, NULL, NULL));
    CHECK_OK(meru_puffin_writer_finish(w, NULL, 0, NULL));
    f = meru_test_read_file(P("d.puffin"), &n);
    char *off = find(f, n, "\"length\":3", 10);
    CHECK(off);
    off[9] = '9'; /* length 9: past the footer's start */
    CHECK_RC(meru_puffin_footer_parse(&ft, f, n, n, &need), MERU_ECORRUPT);
    CHECK_ERRMSG("outside");
    free(f);
    /* the reader refuses a file without the leading magic */
    meru_puffin_reader *r;
    CHECK_OK(meru_puffin_writer_open(&w, meru_fs_posix(), P("e.puffin")));
    CHECK_OK(meru_puffin_writer_finish(w, NULL, 0, NULL));
    f = meru_test_read_file(P("e.puffin"), &n);
    f[0] = 'X';
    FILE *out = fopen(P("e2.puffin"), "wb");
    fwrite(f, 1, n, out);
    fclose(out);
    free(f);
    CHECK_OK(meru_puffin_reader_open(&r, meru_fs_posix(), P("e.puffin"), 0));
    CHECK_EQ_U64(meru_puffin_footer_blob_count(meru_puffin_reader_footer(r)),
                 0);
    meru_puffin_reader_close(r);
    CHECK_RC(meru_puffin_reader_open(&r, meru_fs_posix(), P("e2.puffin"), 0),
             MERU_ECORRUPT);
}

static void test_puffin_writer_under_faults_leaves_no_file(void)
{
    uint64_t offs[3];
    snprintf(dir, sizeof dir, "%s", meru_test_tmpdir("ice_puffin_fault"));
    const char *why = ice_fault_sweep(dir, write_three, offs);
    CHECK_MSG(!why, "%s", why);
    /* abort removes the file */
    meru_puffin_writer *w;
    int exists;
    CHECK_OK(meru_puffin_writer_open(&w, meru_fs_posix(), P("f.puffin")));
    meru_puffin_writer_abort(w);
    CHECK_OK(meru_fs_exists(meru_fs_posix(), P("f.puffin"), &exists));
    CHECK(!exists);
}

int main(void)
{
    MERU_TEST_RUN(test_puffin_round_trip_of_several_blobs);
    MERU_TEST_RUN(test_puffin_footer_layout_follows_the_spec);
    MERU_TEST_RUN(test_puffin_corrupt_footers_are_errors);
    MERU_TEST_RUN(test_puffin_writer_under_faults_leaves_no_file);
    return meru_test_finish();
}
