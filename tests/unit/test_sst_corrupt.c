/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sst_corrupt.c — damaged SSTs and failing I/O.
 *
 * Damage: every truncation of a small multi-page file is refused at open
 * with MERU_ECORRUPT; byte flips anywhere give MERU_ECORRUPT from open, get
 * or the iterator, or a file that still reads — never a crash or an
 * out-of-bounds access (run under ASan). A file that is valid Parquet but
 * not an SST is refused too.
 *
 * I/O: with the fault-injecting fs, a failed append, short write or fsync
 * fails the writer and leaves no file behind; a failed read is reported as
 * the I/O error it is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/pq.h"
#include "sst/sst.h"
#include "sst_model.h"
#include "test.h"
#include "util/fs.h"
#include "support/fs_fault.h"

static meru_schema *schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "t",
                          "k string not null, n int64 not null, v string, "
                          "d double, dec decimal(30,3), nn int32 not null",
                          "k, n"))
        return NULL;
    return s;
}

static int write_bytes(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = n ? fwrite(p, 1, n, f) : 0;
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* Opens and reads everything; returns the first error (MERU_OK if none). */
static int read_all(meru_fs *fs, const char *path, const meru_schema *s,
                    const sst_model *m)
{
    meru_sst *t;
    int rc = meru_sst_open(&t, fs, path, s, NULL);
    if (rc)
        return rc;
    meru_iiter *it = NULL;
    rc = meru_sst_iter_new(t, NULL, &it);
    if (!rc) {
        for (it->ops->seek_to_first(it); it->ops->valid(it);
             it->ops->next(it)) {
            size_t kl, vl;
            it->ops->key(it, &kl);
            it->ops->value(it, &vl);
        }
        rc = it->ops->status(it);
    }
    if (!rc) {
        for (it->ops->seek_to_last(it); it->ops->valid(it);
             it->ops->prev(it)) {
            size_t vl;
            it->ops->value(it, &vl);
        }
        rc = it->ops->status(it);
    }
    for (size_t i = 0; !rc && i < m->n; i += 7) {
        it->ops->seek(it, m->e[i].ik.data, m->e[i].ik.len);
        it->ops->seek_for_prev(it, m->e[i].ik.data, m->e[i].ik.len);
        rc = it->ops->status(it);
    }
    meru_iiter_destroy(it);
    meru_buf val = {0};
    for (size_t i = 0; !rc && i < m->n; i += 3) {
        meru_sst_state st;
        rc = meru_sst_get(t, m->e[i].ik.data, m->e[i].ulen, MERU_SEQ_MAX, &st,
                          NULL, &val, NULL);
    }
    meru_buf_free(&val);
    meru_sst_close(t);
    return rc;
}

static void test_every_truncation_is_refused_at_open(void)
{
    meru_schema *s = schema();
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    const char *dir = meru_test_tmpdir("trunc");
    char path[1024], cut[1024];
    snprintf(path, sizeof path, "%s/good.parquet", dir);
    snprintf(cut, sizeof cut, "%s/cut.parquet", dir);
    sst_model *m = sst_model_make(s, 150, 2, 20, 20);
    CHECK(m);
    meru_options to;
    meru_options_init(&to);
    to.l0_page_bytes = 1024;
    meru_sst_options o;
    meru_sst_options_for_level(&o, 0, &to);
    CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
    size_t n;
    uint8_t *bytes = meru_test_read_file(path, &n);
    CHECK(bytes);
    CHECK_OK(read_all(fs, path, s, m));
    size_t step = n > 1000 ? n / 500 : 1;
    int bad = -1;
    for (size_t len = 0; len < n && bad < 0; len += (len + 200 > n ? 1 : step)) {
        if (write_bytes(cut, bytes, len)) {
            bad = (int)len;
            break;
        }
        meru_sst *t = NULL;
        int rc = meru_sst_open(&t, fs, cut, s, NULL);
        meru_sst_close(t);
        if (rc != MERU_ECORRUPT) {
            fprintf(stderr, "length %zu: rc %d %s\n", len, rc, meru_errmsg());
            bad = (int)len;
        }
    }
    free(bytes);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK_EQ_INT(bad, -1);
}

static void test_byte_flips_never_crash(void)
{
    meru_schema *s = schema();
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    const char *dir = meru_test_tmpdir("flip");
    char path[1024], dmg[1024];
    snprintf(path, sizeof path, "%s/good.parquet", dir);
    snprintf(dmg, sizeof dmg, "%s/dmg.parquet", dir);
    int bad = 0, refused = 0, tries = 0;
    for (int level = 0; level < 2; level++) {
        sst_model *m = sst_model_make(s, 120, 2, 20, 20);
        CHECK(m);
        meru_options to;
        meru_options_init(&to);
        to.l0_page_bytes = 1024;
        to.page_bytes = 1024;
        meru_sst_options o;
        meru_sst_options_for_level(&o, level, &to);
        meru_fs_remove(fs, path);
        CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
        size_t n;
        uint8_t *bytes = meru_test_read_file(path, &n);
        CHECK(bytes);
        int rounds = (int)(600 * meru_test_scale()) + 20;
        for (int r = 0; r < rounds; r++) {
            uint8_t *copy = malloc(n);
            CHECK(copy);
            memcpy(copy, bytes, n);
            int flips = 1 + (int)(meru_test_rand() % 3);
            for (int f = 0; f < flips; f++) {
                /* half of the flips in the footer region, where they hurt */
                size_t at = meru_test_rand() % 2 && n > 2048
                                ? n - 1 - meru_test_rand() % 2048
                                : meru_test_rand() % n;
                copy[at] ^= (uint8_t)(1 + meru_test_rand() % 255);
            }
            int wr = write_bytes(dmg, copy, n);
            free(copy);
            CHECK_EQ_INT(wr, 0);
            int rc = read_all(fs, dmg, s, m);
            tries++;
            if (rc == MERU_ECORRUPT)
                refused++;
            else if (rc != MERU_OK) {
                fprintf(stderr, "round %d: rc %d: %s\n", r, rc, meru_errmsg());
                bad++;
            }
        }
        free(bytes);
        sst_model_free(m);
    }
    meru_schema_free(s);
    CHECK_EQ_INT(bad, 0);
    CHECK(refused > tries / 4); /* CRCs and footer checks do catch damage */
}

/* Valid Parquet files that are not (or no longer) SSTs. */
static void test_parquet_that_is_not_an_sst_is_refused(void)
{
    meru_schema *s = schema();
    CHECK(s);
    const char *dir = meru_test_tmpdir("notsst");
    char path[1024];
    snprintf(path, sizeof path, "%s/plain.parquet", dir);
    /* a file with the user columns but no hidden ones */
    meru_buf b = {0};
    pq_sink sink;
    pq_sink_buf(&sink, &b);
    pq_column_spec cols[2];
    memset(cols, 0, sizeof cols);
    cols[0].name = "k";
    cols[0].type = PQ_BYTE_ARRAY;
    cols[0].has_field_id = true;
    cols[0].field_id = s->cols[0].field_id;
    cols[1].name = "n";
    cols[1].type = PQ_INT64;
    cols[1].has_field_id = true;
    cols[1].field_id = s->cols[1].field_id;
    pq_writer *w;
    CHECK_OK(pq_writer_open(&w, &sink, cols, 2, NULL));
    pq_bytes kv[1] = {{(const uint8_t *)"a", 1}};
    int64_t nv[1] = {5};
    pq_column_data cd[2] = {{kv, NULL}, {nv, NULL}};
    CHECK_OK(pq_writer_write(w, 1, cd));
    CHECK_OK(pq_writer_close(w, NULL));
    CHECK_EQ_INT(write_bytes(path, b.data, b.len), 0);
    meru_buf_free(&b);
    meru_sst *t = NULL;
    CHECK_RC(meru_sst_open(&t, meru_fs_posix(), path, s, NULL), MERU_ECORRUPT);
    CHECK_ERRMSG("_merutable_ikey");
    /* an SST read with a schema whose key column it lacks */
    snprintf(path, sizeof path, "%s/sst.parquet", dir);
    sst_model *m = sst_model_make(s, 10, 1, 0, 0);
    CHECK(m);
    CHECK_OK(sst_model_write(m, meru_fs_posix(), path, s, NULL, NULL));
    meru_schema *s2;
    CHECK_OK(meru_schema_clone(&s2, s));
    s2->cols[1].field_id = 999; /* key column n under another id */
    int rc = meru_sst_open(&t, meru_fs_posix(), path, s2, NULL);
    meru_schema_free(s2);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK_RC(rc, MERU_ECORRUPT);
    CHECK_ERRMSG("missing");
}

/* A failure at any append or at the fsync fails the writer and removes the
 * file; reads that fail report the I/O error. */
static void test_io_failures_leave_no_file(void)
{
    meru_schema *s = schema();
    CHECK(s);
    const char *dir = meru_test_tmpdir("fault");
    char path[1024];
    snprintf(path, sizeof path, "%s/f.parquet", dir);
    meru_fs *fs;
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    sst_model *m = sst_model_make(s, 3000, 1, 10, 10);
    CHECK(m);
    meru_sst_options o;
    meru_sst_options_for_level(&o, 0, NULL);
    o.batch_rows = 500;
    o.pq.row_group_rows = 1000; /* appends during add too */
    /* how many appends a clean write makes */
    meru_fs_fault_reset_counts(fs);
    CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
    uint64_t appends = meru_fs_fault_count(fs, MERU_FS_OP_APPEND);
    CHECK(appends > 3);
    CHECK_OK(meru_fs_remove(fs, path));
    int bad = 0;
    for (uint64_t k = 1; k <= appends + 1 && !bad; k++) {
        int what = (int)(k % 3);
        if (k == appends + 1)
            CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_SYNC, "f.parquet", 1,
                                          EIO));
        else if (what == 0)
            CHECK_OK(meru_fs_fault_inject_short_write(fs, "f.parquet", k));
        else
            CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_APPEND, "f.parquet",
                                          k, what == 1 ? ENOSPC : EIO));
        int rc = sst_model_write(m, fs, path, s, &o, NULL);
        meru_fs_fault_clear(fs);
        int exists = 1;
        meru_fs_exists(fs, path, &exists);
        if (rc == MERU_OK || exists) {
            fprintf(stderr, "fault at %llu: rc %d, file %s\n",
                    (unsigned long long)k, rc, exists ? "left" : "gone");
            bad = 1;
        }
    }
    CHECK_EQ_INT(bad, 0);
    /* reads */
    CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
    meru_sst *t;
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_PREAD, "f.parquet", 1, EIO));
    CHECK_RC(meru_sst_open(&t, fs, path, s, NULL), MERU_EIO);
    meru_fs_fault_clear(fs);
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    CHECK_OK(meru_fs_fault_inject(fs, MERU_FS_OP_PREAD, "f.parquet", 0, EIO));
    meru_buf val = {0};
    meru_sst_state st;
    size_t i = m->n / 2;
    int rc = meru_sst_get(t, m->e[i].ik.data, m->e[i].ulen, MERU_SEQ_MAX, &st,
                          NULL, &val, NULL);
    meru_iiter *it;
    CHECK_OK(meru_sst_iter_new(t, NULL, &it));
    it->ops->seek_to_first(it);
    int irc = it->ops->status(it);
    int valid = it->ops->valid(it);
    it->ops->next(it); /* no-op on a failed iterator */
    it->ops->seek_to_last(it);
    int sticky = it->ops->status(it) == irc && !it->ops->valid(it);
    meru_iiter_destroy(it);
    meru_fs_fault_clear(fs);
    meru_buf_free(&val);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
    meru_fs_free(fs);
    CHECK_RC(rc, MERU_EIO);
    CHECK_RC(irc, MERU_EIO);
    CHECK(!valid);
    CHECK(sticky);
}

int main(void)
{
    MERU_TEST_RUN(test_every_truncation_is_refused_at_open);
    MERU_TEST_RUN(test_byte_flips_never_crash);
    MERU_TEST_RUN(test_parquet_that_is_not_an_sst_is_refused);
    MERU_TEST_RUN(test_io_failures_leave_no_file);
    return meru_test_finish();
}
