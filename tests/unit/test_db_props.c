/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_props.c — table properties: the table-shaping options are stored
 * at create (Iceberg keys where Iceberg has one), win over a later opener's
 * options, change with meru_set_property (validated, one metadata version,
 * effective for the next file written), and meru_describe_json reports
 * them. The codec a file was really written with is read from its footer.
 * One test changes properties while another thread writes and flushes
 * (MERU_TEST_CONCURRENT: it runs under ThreadSanitizer too).
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "parquet/pq.h"
#include "test.h"
#include "test_db_common.h"

static meru_schema *props_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "props", "id int64 not null, v string", "id"))
        return NULL;
    return s;
}

static int put_rows(meru_db *db, int from, int n)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, meru_db_schema(db));
    for (int i = from; !rc && i < from + n; i++) {
        meru_row_clear(r);
        rc = meru_row_set_int64(r, 0, i);
        if (!rc)
            rc = meru_row_set_string(r, 1, "some text to compress", 21);
        if (!rc)
            rc = meru_put(db, r, NULL);
    }
    meru_row_free(r);
    return rc;
}

/* The codec of column `v` in the newest file of data/L<level> (-1 when
 * there is none): the tests look right after the flush or compaction that
 * wrote it. */
static int file_codec(const char *dir, int level)
{
    char ldir[1200], path[1500];
    snprintf(ldir, sizeof ldir, "%s/data/L%d", dir, level);
    DIR *d = opendir(ldir);
    if (!d)
        return -1;
    struct dirent *e;
    char best[256] = "";
    struct timespec best_t = {0, 0};
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".parquet"))
            continue;
        snprintf(path, sizeof path, "%s/%s", ldir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0 &&
            (!best[0] || st.st_mtim.tv_sec > best_t.tv_sec ||
             (st.st_mtim.tv_sec == best_t.tv_sec &&
              st.st_mtim.tv_nsec > best_t.tv_nsec))) {
            best_t = st.st_mtim;
            snprintf(best, sizeof best, "%s", e->d_name);
        }
    }
    closedir(d);
    if (!best[0])
        return -1;
    snprintf(path, sizeof path, "%s/%s", ldir, best);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    pq_source src;
    pq_reader *r = NULL;
    int codec = -1;
    if (pq_source_fd(&src, fd) == 0 && pq_reader_open(&r, &src, NULL) == 0) {
        int c = pq_reader_find_column(r, "v");
        if (c >= 0)
            codec = (int)pq_reader_chunk(r, 0, (uint32_t)c)->codec;
        pq_reader_close(r);
    }
    close(fd);
    return codec;
}

static char *prop(meru_db *db, const char *key)
{
    char *v = NULL;
    if (meru_get_property(db, key, &v))
        return NULL;
    return v;
}

static void test_shaping_options_are_stored_at_create_and_win_at_open(void)
{
    const char *tmp = meru_test_tmpdir("props-create");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tmp);
    meru_schema *s = props_schema();
    meru_db *db = NULL;
    meru_options o;
    CHECK(s);
    tdb_small_options(&o);
    o.compression = MERU_COMPRESSION_SNAPPY;
    o.l0_compression = MERU_COMPRESSION_GZIP;
    o.page_rows = 777;
    o.string_page_bytes = 16384;
    o.number_page_bytes = 32768;
    const char *const extra[] = {"owner", "tests", "write.parquet.page-size-bytes",
                                 "4096", NULL};
    o.properties = extra;
    CHECK_OK(meru_open(dir, &o, s, &db));
    char *v;
    CHECK((v = prop(db, "write.parquet.compression-codec")));
    CHECK_STR(v, "snappy");
    meru_free(v);
    CHECK((v = prop(db, "merutable.l0.compression-codec")));
    CHECK_STR(v, "gzip");
    meru_free(v);
    CHECK((v = prop(db, "write.parquet.page-row-limit")));
    CHECK_STR(v, "777");
    meru_free(v);
    CHECK((v = prop(db, "merutable.string-page-size-bytes")));
    CHECK_STR(v, "16384");
    meru_free(v);
    CHECK((v = prop(db, "merutable.number-page-size-bytes")));
    CHECK_STR(v, "32768");
    meru_free(v);
    CHECK((v = prop(db, "write.parquet.page-size-bytes"))); /* from the list */
    CHECK_STR(v, "4096");
    meru_free(v);
    CHECK((v = prop(db, "owner")));
    CHECK_STR(v, "tests");
    meru_free(v);
    CHECK((v = prop(db, "write.target-file-size-bytes")));
    CHECK_STR(v, "65536");
    meru_free(v);
    CHECK_RC(meru_get_property(db, "nope", &v), MERU_NOT_FOUND);
    CHECK(v == NULL);
    /* The engine's own keys are not properties a caller sees stored. */
    CHECK_RC(meru_get_property(db, "merutable.format-version", &v),
             MERU_NOT_FOUND);
    CHECK_OK(put_rows(db, 0, 200));
    CHECK_OK(meru_flush(db));
    CHECK_EQ_INT(file_codec(dir, 0), PQ_CODEC_GZIP);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    db = NULL;

    /* Another opener asks for other codecs: the table's stored ones win. */
    tdb_small_options(&o);
    o.compression = MERU_COMPRESSION_ZSTD;
    o.l0_compression = MERU_COMPRESSION_NONE;
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_OK(put_rows(db, 1000, 200));
    CHECK_OK(meru_flush(db));
    CHECK_EQ_INT(file_codec(dir, 0), PQ_CODEC_GZIP);
    CHECK_OK(meru_compact(db));
    CHECK_EQ_INT(file_codec(dir, 1), PQ_CODEC_SNAPPY);
    /* Properties given to an open of an existing table are checked, not
     * stored. */
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    db = NULL;
    const char *const later[] = {"owner", "someone else", NULL};
    o.properties = later;
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK((v = prop(db, "owner")));
    CHECK_STR(v, "tests");
    meru_free(v);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_bad_properties_are_refused_at_create(void)
{
    meru_schema *s = props_schema();
    CHECK(s);
    static const struct {
        const char *k, *v, *msg;
    } bad[] = {
        {"write.parquet.compresion-codec", "zstd",
         "did you mean 'write.parquet.compression-codec'"},
        {"write.parquet.dict-size-bytes", "1024", "not one merutable knows"},
        {"merutable.bogus", "1", "not one merutable knows"},
        {"format-version", "3", "reserved by Iceberg"},
        {"uuid", "x", "reserved by Iceberg"},
        {"write.metadata.previous-versions-max", "3", "written by the engine"},
        {"merutable.format-version", "1", "written by the engine"},
        {"write.parquet.compression-codec", "lz4", "unknown codec 'lz4'"},
        {"write.parquet.compression-level", "99", "-7..22"},
        {"write.parquet.page-size-bytes", "12x", "not an integer"},
        {"write.parquet.row-group-size-bytes", "2048",
         "row_group_bytes must be >= page_bytes"},
        {"owner", NULL, "has no value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "props-bad-%zu", i);
        const char *dir = meru_test_tmpdir(name);
        char path[1100];
        snprintf(path, sizeof path, "%s/t", dir);
        meru_options o;
        meru_options_init(&o);
        const char *const list[] = {bad[i].k, bad[i].v, NULL, NULL};
        o.properties = list;
        meru_db *db = NULL;
        CHECK_RC(meru_open(path, &o, s, &db), MERU_EINVAL);
        CHECK_ERRMSG(bad[i].msg);
        CHECK(access(path, F_OK) != 0); /* nothing created */
    }
    meru_schema_free(s);
}

static void test_set_property_changes_the_next_files(void)
{
    const char *tmp = meru_test_tmpdir("props-set");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tmp);
    meru_schema *s = props_schema();
    meru_db *db = NULL;
    meru_options o;
    meru_stats st;
    char *v;
    CHECK(s);
    tdb_small_options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(put_rows(db, 0, 100));
    CHECK_OK(meru_flush(db));
    CHECK_EQ_INT(file_codec(dir, 0), PQ_CODEC_LZ4_RAW);
    CHECK_OK(meru_stats_get(db, &st));
    uint64_t ver = st.metadata_version;

    /* Refused: nothing committed. */
    CHECK_RC(meru_set_property(db, "merutable.l0.compression-codec", "lzo"),
             MERU_EINVAL);
    CHECK_RC(meru_set_property(db, "write.parquet.page-size-bytes", "999999999"),
             MERU_EINVAL);
    CHECK_RC(meru_set_property(db, "write.metadata.delete-after-commit.enabled",
                               "false"),
             MERU_EINVAL);
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.metadata_version, ver);

    CHECK_OK(meru_set_property(db, "merutable.l0.compression-codec", "SNAPPY"));
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_EQ_U64(st.metadata_version, ver + 1);
    CHECK((v = prop(db, "merutable.l0.compression-codec")));
    CHECK_STR(v, "SNAPPY"); /* stored as given, read case-insensitively */
    meru_free(v);
    CHECK_OK(put_rows(db, 100, 100));
    CHECK_OK(meru_flush(db));
    CHECK_EQ_INT(file_codec(dir, 0), PQ_CODEC_SNAPPY);
    CHECK_OK(meru_set_property(db, "write.parquet.compression-codec", "gzip"));
    CHECK_OK(meru_compact(db));
    CHECK_EQ_INT(file_codec(dir, 1), PQ_CODEC_GZIP);
    CHECK_OK(meru_set_property(db, "comment", "free-form"));
    CHECK((v = prop(db, "comment")));
    CHECK_STR(v, "free-form");
    meru_free(v);

    /* Removing a shaping key: back to this handle's open value (lz4_raw),
     * and the table no longer stores it. */
    CHECK_OK(meru_set_property(db, "merutable.l0.compression-codec", NULL));
    CHECK_RC(meru_get_property(db, "merutable.l0.compression-codec", &v),
             MERU_NOT_FOUND);
    CHECK_OK(put_rows(db, 200, 100));
    CHECK_OK(meru_flush(db));
    CHECK_EQ_INT(file_codec(dir, 0), PQ_CODEC_LZ4_RAW);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    db = NULL;

    /* A property the table does not store leaves the opener's option. */
    tdb_small_options(&o);
    o.l0_compression = MERU_COMPRESSION_ZSTD;
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_OK(put_rows(db, 300, 100));
    CHECK_OK(meru_flush(db));
    CHECK_EQ_INT(file_codec(dir, 0), PQ_CODEC_ZSTD);
    /* ... while the stored ones still win. */
    CHECK((v = prop(db, "write.parquet.compression-codec")));
    CHECK_STR(v, "gzip");
    meru_free(v);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    db = NULL;

    /* Read-only handles cannot change properties. */
    meru_options ro;
    meru_options_init(&ro);
    ro.read_only = 1;
    CHECK_OK(meru_open(dir, &ro, NULL, &db));
    CHECK_RC(meru_set_property(db, "owner", "x"), MERU_EREADONLY);
    CHECK((v = prop(db, "comment")));
    meru_free(v);
    CHECK_OK(meru_close(db));
    CHECK_RC(meru_set_property(db, "owner", "x"), MERU_ECLOSED);
    meru_db_free(db);
    meru_schema_free(s);
}

static void test_describe_json_reports_the_table(void)
{
    const char *dir = meru_test_tmpdir("props-describe");
    meru_schema *s = props_schema();
    meru_db *db = NULL;
    char *text = NULL;
    CHECK(s);
    CHECK_OK(meru_open(dir, NULL, s, &db));
    CHECK_OK(put_rows(db, 0, 50));
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_set_property(db, "owner", "me"));
    CHECK_OK(meru_describe_json(db, &text));
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    CHECK_MSG(j, "describe is not JSON: %s: %s", err.text, text);
    CHECK_STR(json_string_value(json_object_get(j, "table")), "props");
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "iceberg-format-version")),
                 3);
    CHECK(json_integer_value(json_object_get(j, "metadata-version")) >= 3);
    CHECK(json_string_value(json_object_get(j, "location"))[0] == '/');
    json_t *pk = json_object_get(j, "primary-key");
    CHECK(json_array_size(pk) == 1);
    CHECK_STR(json_string_value(json_array_get(pk, 0)), "id");
    json_t *schema = json_object_get(j, "schema");
    CHECK(json_array_size(json_object_get(schema, "fields")) == 2);
    json_t *props = json_object_get(j, "properties");
    CHECK_STR(json_string_value(json_object_get(props, "owner")), "me");
    CHECK_STR(json_string_value(
                  json_object_get(props, "write.parquet.compression-codec")),
              "zstd");
    json_t *opts = json_object_get(j, "options");
    CHECK_STR(json_string_value(
                  json_object_get(opts, "merutable.l0.compression-codec")),
              "lz4_raw");
    json_t *levels = json_object_get(j, "levels");
    CHECK(json_array_size(levels) == 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(levels, 0),
                                                    "files")),
                 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "rows")), 50);
    json_decref(j);
    meru_free(text);
    CHECK_RC(meru_describe_json(db, NULL), MERU_EINVAL);

    /* A read-only handle sees the writer's property changes after a
     * refresh, in its options in effect too. */
    meru_options ro;
    meru_options_init(&ro);
    ro.read_only = 1;
    meru_db *reader = NULL;
    CHECK_OK(meru_open(dir, &ro, NULL, &reader));
    CHECK_OK(meru_set_property(db, "write.parquet.compression-codec", "gzip"));
    CHECK_OK(meru_refresh(reader));
    CHECK_OK(meru_describe_json(reader, &text));
    j = json_loads(text, 0, &err);
    CHECK(j);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(j, "options"),
                  "write.parquet.compression-codec")),
              "gzip");
    json_decref(j);
    meru_free(text);
    CHECK_OK(meru_close(reader));
    meru_db_free(reader);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

typedef struct writer_arg {
    meru_db *db;
    int rc;
} writer_arg;

static void *writer_main(void *p)
{
    writer_arg *a = p;
    for (int i = 0; i < 20 && !a->rc; i++) {
        a->rc = put_rows(a->db, i * 50, 50);
        if (!a->rc)
            a->rc = meru_flush(a->db);
    }
    return NULL;
}

static void test_set_property_while_writing(void)
{
    const char *dir = meru_test_tmpdir("props-concurrent");
    meru_schema *s = props_schema();
    meru_db *db = NULL;
    meru_options o;
    CHECK(s);
    tdb_small_options(&o);
    o.l0_compaction_trigger = 2;
    CHECK_OK(meru_open(dir, &o, s, &db));
    writer_arg a = {db, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, writer_main, &a) == 0);
    static const char *const codecs[] = {"snappy", "zstd", "gzip", "lz4_raw",
                                         "uncompressed"};
    int rc = MERU_OK;
    for (int i = 0; i < 40 && rc == MERU_OK; i++) {
        rc = meru_set_property(db, "merutable.l0.compression-codec",
                               codecs[i % 5]);
        if (rc == MERU_OK)
            rc = meru_set_property(db, "write.parquet.compression-codec",
                                   codecs[(i + 2) % 5]);
    }
    pthread_join(t, NULL);
    CHECK_OK(rc);
    CHECK_OK(a.rc);
    meru_iter *it = NULL;
    const meru_row *row;
    uint64_t n = 0;
    CHECK_OK(meru_scan(db, NULL, &it));
    while (meru_iter_next(it, &row) == MERU_OK)
        n++;
    meru_iter_free(it);
    CHECK_EQ_U64(n, 1000);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_shaping_options_are_stored_at_create_and_win_at_open);
    MERU_TEST_RUN(test_bad_properties_are_refused_at_create);
    MERU_TEST_RUN(test_set_property_changes_the_next_files);
    MERU_TEST_RUN(test_describe_json_reports_the_table);
    MERU_TEST_RUN(test_set_property_while_writing);
    return meru_test_finish();
}
