/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_conformance.c — the reader against the public parquet-testing
 * corpus (MERU_SHARED_DIR/parquet-testing): every flat file opens and
 * yields footer-many rows in every column; the nested ones (an explicit
 * list, so a regression either way is caught) fail with MERU_ENOTSUP; the
 * documented values (*_expect.csv, *.md) match; the corrupt-checksum files
 * give a CRC error; every bad_data file fails cleanly except
 * ARROW-GH-43605, which reads 21186 rows.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parquet/pq.h"
#include "test.h"
#include "util/endian.h"

#define CORPUS MERU_SHARED_DIR "/parquet-testing"

/* Files with nested or repeated columns: MERU_ENOTSUP by design. */
static const char *const nested_files[] = {
    "incorrect_map_schema.parquet",
    "large_string_map.brotli.parquet",
    "list_columns.parquet",
    "map_no_value.parquet",
    "nested_lists.snappy.parquet",
    "nested_maps.snappy.parquet",
    "nested_structs.rust.parquet",
    "nonnullable.impala.parquet",
    "null_list.parquet",
    "nullable.impala.parquet",
    "nulls.snappy.parquet",
    "datapage_v2.snappy.parquet",
    "old_list_structure.parquet",
    "repeated_no_annotation.parquet",
    "repeated_primitive_no_list.parquet",
    NULL,
};

/* Files that must fail with a page CRC error when read. */
static const char *const crc_files[] = {
    "datapage_v1-corrupt-checksum.parquet",
    "rle-dict-uncompressed-corrupt-checksum.parquet",
    NULL,
};

static bool in_list(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], name))
            return true;
    return false;
}

typedef struct pfile {
    int fd;
    pq_source src;
    pq_reader *r;
} pfile;

static int pfile_open(pfile *f, const char *path)
{
    memset(f, 0, sizeof *f);
    f->fd = open(path, O_RDONLY);
    if (f->fd < 0)
        return MERU_EIO;
    int rc = pq_source_fd(&f->src, f->fd);
    if (!rc)
        rc = pq_reader_open(&f->r, &f->src, NULL);
    return rc;
}

static void pfile_close(pfile *f)
{
    pq_reader_close(f->r);
    if (f->fd >= 0)
        close(f->fd);
    f->r = NULL;
    f->fd = -1;
}

/* Reads every column of every row group with odd batch sizes; checks
 * each yields the row group's row count. */
static int read_all(pq_reader *r, int64_t *rows_out)
{
    int64_t total = 0;
    for (uint32_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        int64_t rows = pq_reader_row_group_rows(r, g);
        for (uint32_t c = 0; c < pq_reader_num_columns(r); c++) {
            pq_cursor *cur;
            int rc = pq_cursor_open(r, g, c, &cur);
            if (rc)
                return rc;
            int64_t got = 0;
            for (;;) {
                pq_batch b;
                rc = pq_cursor_next(cur, 777, &b);
                if (rc || b.n == 0)
                    break;
                got += (int64_t)b.n;
            }
            pq_cursor_close(cur);
            if (rc)
                return rc;
            if (got != rows)
                return -1000;
        }
        total += rows;
    }
    *rows_out = total;
    return MERU_OK;
}

static void check_file(const char *rel, int *n_ok, int *n_nested)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data/%s", CORPUS, rel);
    pfile f;
    int rc = pfile_open(&f, path);
    if (rc == MERU_ENOTSUP && strstr(meru_errmsg(), "nested")) {
        pfile_close(&f);
        CHECK_MSG(in_list(nested_files, rel),
                  "%s: unexpectedly rejected as nested: %s", rel,
                  meru_errmsg());
        CHECK_MSG(strstr(meru_errmsg(), "(column "),
                  "%s: message lacks the column: %s", rel, meru_errmsg());
        (*n_nested)++;
        return;
    }
    CHECK_MSG(rc == 0, "%s: open failed: %s", rel, meru_errmsg());
    CHECK_MSG(!in_list(nested_files, rel), "%s: expected to be nested", rel);
    int64_t rows = 0;
    rc = read_all(f.r, &rows);
    if (in_list(crc_files, rel)) {
        CHECK_MSG(rc == MERU_ECORRUPT &&
                      strstr(meru_errmsg(), "page CRC mismatch in column "),
                  "%s: expected a CRC error, got %d: %s", rel, rc,
                  meru_errmsg());
        pfile_close(&f);
        /* and with verification off, the file reads */
        pq_reader_options o = {.skip_crc = true};
        f.fd = open(path, O_RDONLY);
        CHECK(f.fd >= 0);
        CHECK_OK(pq_source_fd(&f.src, f.fd));
        CHECK_OK(pq_reader_open(&f.r, &f.src, &o));
        CHECK_OK(read_all(f.r, &rows));
        pfile_close(&f);
        (*n_ok)++;
        return;
    }
    CHECK_MSG(rc == 0, "%s: read failed (%d): %s", rel, rc,
              rc == -1000 ? "row count mismatch" : meru_errmsg());
    CHECK_MSG(rows == pq_reader_meta(f.r)->num_rows,
              "%s: %lld rows read, footer says %lld", rel, (long long)rows,
              (long long)pq_reader_meta(f.r)->num_rows);
    pfile_close(&f);
    (*n_ok)++;
}

static void test_every_corpus_file_reads_or_is_known_nested(void)
{
    const char *dirs[] = {"", "geospatial/"};
    int n_ok = 0, n_nested = 0;
    for (int d = 0; d < 2; d++) {
        char dpath[512];
        snprintf(dpath, sizeof dpath, "%s/data/%s", CORPUS, dirs[d]);
        DIR *dir = opendir(dpath);
        CHECK_MSG(dir, "cannot open %s", dpath);
        struct dirent *e;
        while ((e = readdir(dir))) {
            size_t l = strlen(e->d_name);
            if (l < 8 || strcmp(e->d_name + l - 8, ".parquet"))
                continue;
            char rel[300];
            snprintf(rel, sizeof rel, "%s%s", dirs[d], e->d_name);
            check_file(rel, &n_ok, &n_nested);
            if (meru_test_failed_current)
                break;
        }
        closedir(dir);
        if (meru_test_failed_current)
            return;
    }
    int listed = 0;
    while (nested_files[listed])
        listed++;
    CHECK_EQ_INT(n_nested, listed);
    CHECK(n_ok >= 50);
}

/* --------------------------------------------------- documented values */

/* Column `col` of row group 0..n as text (NULL for null), one call per
 * file: values are formatted the way the CSVs write them. */
typedef struct textcol {
    char **v;
    size_t n;
} textcol;

static void textcol_free(textcol *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i]);
    free(t->v);
}

static int read_text(pq_reader *r, uint32_t col, textcol *out)
{
    int64_t total = pq_reader_num_rows(r);
    out->v = calloc((size_t)total + 1, sizeof(char *));
    out->n = 0;
    const pq_column_info *ci = pq_reader_column(r, col);
    for (uint32_t g = 0; g < pq_reader_num_row_groups(r); g++) {
        pq_cursor *cur;
        int rc = pq_cursor_open(r, g, col, &cur);
        if (rc)
            return rc;
        for (;;) {
            pq_batch b;
            rc = pq_cursor_next(cur, 100, &b);
            if (rc || !b.n)
                break;
            for (size_t i = 0; i < b.n; i++) {
                char buf[64], *s = NULL;
                if (b.valid[i]) {
                    switch (ci->type) {
                    case PQ_INT32:
                        snprintf(buf, sizeof buf, "%d",
                                 ((const int32_t *)b.values)[i]);
                        s = strdup(buf);
                        break;
                    case PQ_INT64:
                        snprintf(buf, sizeof buf, "%lld",
                                 (long long)((const int64_t *)b.values)[i]);
                        s = strdup(buf);
                        break;
                    case PQ_BOOLEAN:
                        s = strdup(((const uint8_t *)b.values)[i] ? "true"
                                                                  : "false");
                        break;
                    case PQ_BYTE_ARRAY:
                    case PQ_FIXED_LEN_BYTE_ARRAY: {
                        const pq_bytes *x = (const pq_bytes *)b.values + i;
                        s = malloc(x->len + 1);
                        if (x->len)
                            memcpy(s, x->ptr, x->len);
                        s[x->len] = 0;
                        break;
                    }
                    default:
                        s = strdup("?");
                    }
                }
                out->v[out->n++] = s;
            }
        }
        pq_cursor_close(cur);
        if (rc)
            return rc;
    }
    return MERU_OK;
}

/* Minimal CSV: fields separated by ',', optionally quoted ("" escapes);
 * an empty unquoted field is NULL. Returns fields of one line. */
static size_t csv_line(char **pp, char **fields, size_t cap)
{
    char *p = *pp;
    size_t n = 0;
    if (!*p)
        return 0;
    for (;;) {
        char *start = p, *o = p;
        bool quoted = false;
        if (*p == '"') {
            quoted = true;
            p++;
            for (;;) {
                if (*p == '"' && p[1] == '"') {
                    *o++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else if (!*p) {
                    break;
                } else {
                    *o++ = *p++;
                }
            }
        } else {
            while (*p && *p != ',' && *p != '\n' && *p != '\r')
                *o++ = *p++;
        }
        char sep = *p;
        if (sep)
            p++;
        *o = 0;
        if (n < cap)
            fields[n++] = (!quoted && o == start) ? NULL : start;
        if (sep == ',')
            continue;
        while (*p == '\r' || *p == '\n')
            p++;
        break;
    }
    *pp = p;
    return n;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        fclose(f);
        return NULL;
    }
    b[n] = 0;
    fclose(f);
    return b;
}

static void check_expect_csv(const char *base)
{
    char path[512], cpath[512];
    snprintf(path, sizeof path, "%s/data/%s.parquet", CORPUS, base);
    snprintf(cpath, sizeof cpath, "%s/data/%s_expect.csv", CORPUS, base);
    char *csv = slurp(cpath);
    CHECK_MSG(csv, "cannot read %s", cpath);
    pfile f;
    CHECK_OK(pfile_open(&f, path));
    uint32_t nc = pq_reader_num_columns(f.r);
    textcol *cols = calloc(nc, sizeof *cols);
    for (uint32_t c = 0; c < nc; c++)
        CHECK_OK(read_text(f.r, c, &cols[c]));
    char *p = csv;
    char *fields[128];
    size_t nf = csv_line(&p, fields, 128); /* header */
    CHECK_EQ_INT(nf, nc);
    size_t row = 0;
    while ((nf = csv_line(&p, fields, 128)) > 0) {
        CHECK_EQ_INT(nf, nc);
        for (uint32_t c = 0; c < nc; c++) {
            CHECK(row < cols[c].n);
            const char *got = cols[c].v[row];
            const char *exp = fields[c];
            CHECK_MSG((!got && !exp) || (got && exp && !strcmp(got, exp)),
                      "%s row %zu column %u: got %s, expected %s", base, row, c,
                      got ? got : "NULL", exp ? exp : "NULL");
        }
        row++;
    }
    CHECK_EQ_INT(row, pq_reader_num_rows(f.r));
    for (uint32_t c = 0; c < nc; c++)
        textcol_free(&cols[c]);
    free(cols);
    free(csv);
    pfile_close(&f);
}

static void test_expect_csv_files_match(void)
{
    check_expect_csv("delta_binary_packed");
    if (meru_test_failed_current)
        return;
    check_expect_csv("delta_byte_array");
    if (meru_test_failed_current)
        return;
    check_expect_csv("delta_encoding_optional_column");
    if (meru_test_failed_current)
        return;
    check_expect_csv("delta_encoding_required_column");
}

static void open_data(pfile *f, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data/%s", CORPUS, name);
    int rc = pfile_open(f, path);
    if (rc)
        meru_test_fail(__FILE__, __LINE__, "%s: %s", name, meru_errmsg());
}

static void test_alltypes_plain_documented_values(void)
{
    static const char *files[] = {"alltypes_plain.parquet",
                                  "alltypes_plain.snappy.parquet",
                                  "alltypes_dictionary.parquet"};
    /* from the corpus notes: the plain file holds ids 4,5,6,7,2,3,0,1;
     * the snappy one its rows 6 and 7; the dictionary one 0 and 1 */
    static const int32_t idv[3][8] = {{4, 5, 6, 7, 2, 3, 0, 1}, {6, 7}, {0, 1}};
    for (int k = 0; k < 3; k++) {
        const int32_t *ids = idv[k];
        pfile f;
        open_data(&f, files[k]);
        if (meru_test_failed_current)
            return;
        int64_t n = pq_reader_num_rows(f.r);
        CHECK(n == 8 || n == 2);
        int id = pq_reader_find_column(f.r, "id");
        int bc = pq_reader_find_column(f.r, "bool_col");
        int sc = pq_reader_find_column(f.r, "string_col");
        int dc = pq_reader_find_column(f.r, "double_col");
        CHECK(id >= 0 && bc >= 0 && sc >= 0 && dc >= 0);
        textcol t, b, s;
        CHECK_OK(read_text(f.r, (uint32_t)id, &t));
        CHECK_OK(read_text(f.r, (uint32_t)bc, &b));
        CHECK_OK(read_text(f.r, (uint32_t)sc, &s));
        for (int64_t i = 0; i < n; i++) {
            char want[16];
            snprintf(want, sizeof want, "%d", ids[i]);
            CHECK_MSG(t.v[i] && !strcmp(t.v[i], want), "%s row %lld: id %s",
                      files[k], (long long)i, t.v[i] ? t.v[i] : "NULL");
            /* even ids are true; string_col is "0"/"1" alternating */
            CHECK_STR(b.v[i], ids[i] % 2 == 0 ? "true" : "false");
            CHECK_STR(s.v[i], ids[i] % 2 == 0 ? "0" : "1");
        }
        textcol_free(&t);
        textcol_free(&b);
        textcol_free(&s);
        /* double_col = id % 2 * 10.1 */
        pq_cursor *c;
        CHECK_OK(pq_cursor_open(f.r, 0, (uint32_t)dc, &c));
        pq_batch bt;
        CHECK_OK(pq_cursor_next(c, 100, &bt));
        CHECK_EQ_INT(bt.n, n);
        for (int64_t i = 0; i < n; i++)
            CHECK(((const double *)bt.values)[i] == (ids[i] % 2) * 10.1);
        pq_cursor_close(c);
        pfile_close(&f);
    }
}

static void test_int32_with_null_pages_and_flba_page_index(void)
{
    pfile f;
    open_data(&f, "fixed_length_byte_array.parquet");
    if (meru_test_failed_current)
        return;
    CHECK_EQ_INT(pq_reader_num_rows(f.r), 1000);
    const pq_column_index *ci;
    CHECK_OK(pq_reader_column_index(f.r, 0, 0, &ci));
    CHECK(ci != NULL);
    CHECK_EQ_INT(ci->boundary_order, PQ_BOUNDARY_DESCENDING);
    CHECK(ci->null_counts && ci->null_counts[0] == 9);
    CHECK(ci->max_values[0].len == 4 &&
          meru_load_be32(ci->max_values[0].ptr) == 0x3e8);
    /* 1000 values written descending with nulls: 105 nulls, values
     * strictly decreasing, largest 1000, smallest 1 */
    pq_cursor *c;
    CHECK_OK(pq_cursor_open(f.r, 0, 0, &c));
    pq_batch b;
    CHECK_OK(pq_cursor_next(c, 1000, &b));
    CHECK_EQ_INT(b.n, 1000);
    CHECK_EQ_INT(b.null_count, 105);
    uint32_t prev = UINT32_MAX, first = 0, last = 0;
    for (size_t i = 0; i < b.n; i++) {
        if (!b.valid[i])
            continue;
        const pq_bytes *x = (const pq_bytes *)b.values + i;
        CHECK_EQ_INT(x->len, 4);
        uint32_t v = meru_load_be32(x->ptr);
        CHECK(v < prev);
        if (prev == UINT32_MAX)
            first = v;
        prev = last = v;
    }
    CHECK_EQ_INT(first, 1000);
    CHECK_EQ_INT(last, 1);
    /* seek through the offset index lands on the same values */
    for (int64_t row = 0; row < 1000; row += 97) {
        CHECK_OK(pq_cursor_seek(c, row));
        pq_batch one;
        CHECK_OK(pq_cursor_next(c, 1, &one));
        CHECK_EQ_INT(pq_cursor_row(c), row + 1);
    }
    pq_cursor_close(c);
    pfile_close(&f);

    open_data(&f, "int32_with_null_pages.parquet");
    if (meru_test_failed_current)
        return;
    CHECK_EQ_INT(pq_reader_num_rows(f.r), 1000);
    CHECK_OK(pq_reader_column_index(f.r, 0, 0, &ci));
    CHECK(ci != NULL);
    bool has_null_page = false;
    for (uint32_t i = 0; i < ci->n_pages; i++)
        has_null_page |= ci->null_pages[i];
    CHECK(has_null_page);
    int64_t nulls_index = 0;
    for (uint32_t i = 0; i < ci->n_pages; i++)
        nulls_index += ci->null_counts[i];
    CHECK_OK(pq_cursor_open(f.r, 0, 0, &c));
    CHECK_OK(pq_cursor_next(c, 1000, &b));
    CHECK_EQ_INT(b.null_count, nulls_index);
    pq_cursor_close(c);
    pfile_close(&f);
}

static void test_int96_and_bloom_filters_from_other_writers(void)
{
    pfile f;
    open_data(&f, "int96_from_spark.parquet");
    if (meru_test_failed_current)
        return;
    CHECK_EQ_INT(pq_reader_column(f.r, 0)->type, PQ_INT96);
    CHECK_EQ_INT(pq_reader_num_rows(f.r), 6);
    pq_cursor *c;
    CHECK_OK(pq_cursor_open(f.r, 0, 0, &c));
    pq_batch b;
    CHECK_OK(pq_cursor_next(c, 10, &b));
    CHECK_EQ_INT(b.n, 6);
    /* per the .md, row 0 is 1704141296123456 us since the epoch: julian
     * day 2460311 (1970-01-01 is 2440588), 74096.123456 s into it; row 4
     * is null */
    const uint8_t *v = b.values;
    CHECK(b.valid[0]);
    CHECK_EQ_U64(meru_load_le64(v), 74096123456000ull);
    CHECK_EQ_INT(meru_load_le32(v + 8), 2460311);
    CHECK(!b.valid[4]);
    pq_cursor_close(c);
    pfile_close(&f);

    const char *bf[] = {"data_index_bloom_encoding_stats.parquet",
                        "data_index_bloom_encoding_with_length.parquet"};
    for (int k = 0; k < 2; k++) {
        open_data(&f, bf[k]);
        if (meru_test_failed_current)
            return;
        CHECK(pq_reader_has_bloom(f.r, 0, 0));
        textcol t;
        CHECK_OK(read_text(f.r, 0, &t));
        CHECK(t.n > 0);
        for (size_t i = 0; i < t.n; i++) {
            if (!t.v[i])
                continue;
            bool maybe;
            CHECK_OK(pq_reader_bloom_check(f.r, 0, 0, t.v[i], strlen(t.v[i]),
                                           &maybe));
            CHECK_MSG(maybe, "%s: bloom misses \"%s\"", bf[k], t.v[i]);
        }
        int rejected = 0;
        for (int i = 0; i < 50; i++) {
            char probe[32];
            snprintf(probe, sizeof probe, "absent-%d-zz", i);
            bool maybe;
            CHECK_OK(
                pq_reader_bloom_check(f.r, 0, 0, probe, strlen(probe), &maybe));
            rejected += !maybe;
        }
        CHECK(rejected >= 40);
        textcol_free(&t);
        pfile_close(&f);
    }
}

/* ---------------------------------------------------------- bad_data */

static void test_bad_data_fails_cleanly(void)
{
    char dpath[512];
    snprintf(dpath, sizeof dpath, "%s/bad_data", CORPUS);
    DIR *dir = opendir(dpath);
    CHECK_MSG(dir, "cannot open %s", dpath);
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(dir))) {
        size_t l = strlen(e->d_name);
        if (l < 8 || strcmp(e->d_name + l - 8, ".parquet"))
            continue;
        seen++;
        char path[800];
        snprintf(path, sizeof path, "%s/%s", dpath, e->d_name);
        pfile f;
        int rc = pfile_open(&f, path);
        int64_t rows = 0;
        if (!rc)
            rc = read_all(f.r, &rows);
        pfile_close(&f);
        if (!strcmp(e->d_name, "ARROW-GH-43605.parquet")) {
            CHECK_MSG(rc == 0, "%s: %s", e->d_name, meru_errmsg());
            CHECK_EQ_INT(rows, 21186);
        } else {
            CHECK_MSG(rc != 0, "%s: read without error", e->d_name);
            CHECK_MSG(rc == MERU_ECORRUPT || rc == MERU_ENOTSUP || rc == -1000,
                      "%s: unexpected status %d: %s", e->d_name, rc,
                      meru_errmsg());
        }
    }
    closedir(dir);
    CHECK(seen >= 8);
}

int main(void)
{
    MERU_TEST_RUN(test_every_corpus_file_reads_or_is_known_nested);
    MERU_TEST_RUN(test_expect_csv_files_match);
    MERU_TEST_RUN(test_alltypes_plain_documented_values);
    MERU_TEST_RUN(test_int32_with_null_pages_and_flba_page_index);
    MERU_TEST_RUN(test_int96_and_bloom_filters_from_other_writers);
    MERU_TEST_RUN(test_bad_data_fails_cleanly);
    return meru_test_finish();
}
