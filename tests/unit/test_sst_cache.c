/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sst_cache.c — SST reads through the caches: with a block cache the
 * answers are the same and a warm lookup reads no file byte; with a page
 * cache a repeated get decodes no page, every answer equals the uncached
 * one (big, tiny and zero-capacity caches, L0 and L1), and cached string
 * pages are kept compact. Reading without a cache is in test_sst.c.
 */
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "parquet/pq.h"
#include "sst/sst.h"
#include "sst/sst_internal.h"
#include "sst_model.h"
#include "sst_test.h"
#include "test.h"
#include "types/keycodec.h"
#include "types/rowcodec.h"
#include "util/fs.h"
#include "support/fs_fault.h"

/* With a block cache the answers are the same, and once the blocks a
 * lookup needs are cached it makes no file read at all. A tiny cache
 * (evicting all the time) gives the same answers too. */
static void test_cache_serves_file_bytes(void)
{
    meru_schema *s = schema_composite();
    CHECK(s);
    meru_fs *fs;
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    const char *path = path_in(meru_test_tmpdir("cache"), "c.parquet");
    size_t nkeys = 300;
    sst_model *m = sst_model_make(s, nkeys, 2, 20, 10);
    CHECK(m);
    meru_options to;
    meru_options_init(&to);
    to.page_bytes = 4096;
    meru_sst_options o;
    meru_sst_options_for_level(&o, 1, &to);
    CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
    int ok = 1;
    uint64_t warm_reads = 1, hits = 0;
    for (int big = 0; big < 2; big++) {
        meru_cache *c;
        CHECK_OK(meru_cache_new(&c, big ? (size_t)8 << 20 : 40 * 1024));
        meru_sst *t;
        CHECK_OK(meru_sst_open(&t, fs, path, s, c));
        ok &= scan_matches(t, m);
        ok &= gets_match(t, m, s, nkeys, NULL);
        if (big) {
            /* everything has been read once: now all from the cache */
            meru_fs_fault_reset_counts(fs);
            ok &= gets_match(t, m, s, nkeys, NULL);
            ok &= scan_matches(t, m);
            warm_reads = meru_fs_fault_count(fs, MERU_FS_OP_PREAD);
            meru_cache_stats cs;
            meru_cache_stats_get(c, &cs);
            hits = cs.hits;
        }
        meru_sst_close(t);
        meru_cache_free(c);
    }
    sst_model_free(m);
    meru_schema_free(s);
    meru_fs_free(fs);
    CHECK(ok);
    CHECK_EQ_U64(warm_reads, 0);
    CHECK(hits > 1000);
}

static bool bufs_equal(const meru_buf *a, const meru_buf *b)
{
    return a->len == b->len && (!a->len || !memcmp(a->data, b->data, a->len));
}

/* get of every entry of the model at its own sequence. */
static int entry_gets(meru_sst *t, const sst_model *m, meru_sst_read_stats *st)
{
    meru_buf val = {0};
    int ok = 1;
    for (size_t i = 0; ok && i < m->n; i++) {
        const sst_ent *e = &m->e[i];
        meru_sst_state state;
        uint64_t seq = 0;
        int rc = meru_sst_get(t, e->ik.data, e->ulen, e->seq, &state, &seq,
                              &val, st);
        int want = e->op == MERU_OP_PUT ? MERU_SST_FOUND : MERU_SST_DELETED;
        ok = rc == MERU_OK && (int)state == want && seq == e->seq &&
             (want != MERU_SST_FOUND ||
              (val.len == e->val.len &&
               memcmp(val.data, e->val.data, val.len) == 0));
        if (!ok)
            fprintf(stderr, "get of entry %zu: rc %d state %d\n", i, rc,
                    (int)state);
    }
    meru_buf_free(&val);
    return ok;
}

/* get of one key: its state, sequence and value, and the pages decoded. */
static int get_one(meru_sst *t, const meru_buf *uk, uint64_t read_seq,
                   meru_sst_state *state, uint64_t *seq, meru_buf *val,
                   uint64_t *pages)
{
    meru_sst_read_stats st = {0};
    int rc = meru_sst_get(t, uk->data, uk->len, read_seq, state, seq, val, &st);
    *pages = st.pages_read;
    return rc;
}

/* With a cache, gets keep decoded pages: a repeated get decodes nothing,
 * and every answer equals the one without a cache (and with a cache of
 * capacity 0, which keeps no page and decodes every time), for every
 * column type, at L0 (plain pages) and L1 (ZSTD, dictionaries), with a
 * big cache and with a tiny one that evicts all the time. */
static void test_page_cache_decodes_a_page_once(void)
{
    meru_fs *fs = meru_fs_posix();
    const char *dir = meru_test_tmpdir("pagecache");
    int ok = 1;
    for (int v = 0; v < 4; v++) {
        meru_schema *s = v < 2 ? schema_composite() : schema_all();
        CHECK(s);
        int level = v % 2;
        char name[32];
        snprintf(name, sizeof name, "p%d.parquet", v);
        size_t nkeys = 250;
        sst_model *m = sst_model_make(s, nkeys, 2, 15, 10);
        CHECK(m);
        meru_options to;
        meru_options_init(&to);
        to.l0_page_bytes = 1024;
        to.page_bytes = 2048;
        meru_sst_options o;
        meru_sst_options_for_level(&o, level, &to);
        CHECK_OK(sst_model_write(m, fs, path_in(dir, name), s, &o, NULL));
        meru_cache *big, *tiny, *none;
        CHECK_OK(meru_cache_new(&big, (size_t)16 << 20));
        CHECK_OK(meru_cache_new(&tiny, 16 * 1024));
        CHECK_OK(meru_cache_new(&none, 0));
        meru_sst *t0, *tb, *tt, *tn;
        CHECK_OK(meru_sst_open(&t0, fs, path_in(dir, name), s, NULL));
        CHECK_OK(meru_sst_open(&tb, fs, path_in(dir, name), s, big));
        CHECK_OK(meru_sst_open(&tt, fs, path_in(dir, name), s, tiny));
        CHECK_OK(meru_sst_open(&tn, fs, path_in(dir, name), s, none));

        /* A present key (a put) read twice on a fresh cache. */
        meru_buf uk = {0}, val = {0}, val0 = {0};
        size_t put = 0;
        while (m->e[put].op != MERU_OP_PUT)
            put++;
        CHECK_OK(meru_buf_append(&uk, m->e[put].ik.data, m->e[put].ulen));
        uint64_t rs = m->e[put].seq;
        meru_sst_state st0, st;
        uint64_t seq0 = 0, seq = 0, pages0, pages1, pages2, pages_none;
        CHECK_OK(get_one(t0, &uk, rs, &st0, &seq0, &val0, &pages0));
        CHECK_OK(get_one(tb, &uk, rs, &st, &seq, &val, &pages1));
        ok &= st == st0 && seq == seq0 && bufs_equal(&val, &val0);
        CHECK_OK(get_one(tb, &uk, rs, &st, &seq, &val, &pages2));
        ok &= st == st0 && seq == seq0 && bufs_equal(&val, &val0);
        CHECK_OK(get_one(tn, &uk, rs, &st, &seq, &val, &pages_none));
        CHECK_OK(get_one(tn, &uk, rs, &st, &seq, &val, &pages_none));
        ok &= st == st0 && seq == seq0 && bufs_equal(&val, &val0);
        CHECK_EQ_INT(st0, MERU_SST_FOUND);
        CHECK_MSG(pages1 >= 2, "first get decoded %llu pages",
                  (unsigned long long)pages1);
        CHECK_MSG(pages2 == 0, "repeated get decoded %llu pages",
                  (unsigned long long)pages2);
        CHECK_MSG(pages_none >= 2, "get without page cache decoded %llu",
                  (unsigned long long)pages_none);

        /* Every key, present or not, at several read sequences. */
        meru_sst_read_stats cold = {0}, warm = {0};
        ok &= entry_gets(tb, m, &cold);
        ok &= entry_gets(tb, m, &warm);
        ok &= entry_gets(tt, m, NULL);
        ok &= entry_gets(tn, m, NULL);
        ok &= gets_match(tb, m, s, nkeys, NULL);
        ok &= gets_match(tt, m, s, nkeys, NULL);
        ok &= gets_match(tn, m, s, nkeys, NULL);
        ok &= scan_matches(tb, m);
        /* the second pass over every version found every page cached */
        CHECK(cold.pages_read > 0);
        CHECK_EQ_U64(warm.pages_read, 0);
        meru_buf_free(&uk);
        meru_buf_free(&val);
        meru_buf_free(&val0);
        meru_sst_close(t0);
        meru_sst_close(tb);
        meru_sst_close(tt);
        meru_sst_close(tn);
        meru_cache_free(big);
        meru_cache_free(tiny);
        meru_cache_free(none);
        sst_model_free(m);
        meru_schema_free(s);
        CHECK(ok);
    }
}

/* Rows [first, first + n) of file column `col` of row group 0 through a
 * cursor: the number of nulls among them, SIZE_MAX when the read fails. */
static size_t nulls_in_rows(meru_sst *t, uint32_t col, int64_t first, size_t n)
{
    pq_cursor *cur;
    pq_batch b;
    size_t z = 0;
    if (pq_cursor_open(t->r, 0, col, &cur))
        return SIZE_MAX;
    if (pq_cursor_seek(cur, first) || pq_cursor_next(cur, n, &b) || b.n != n)
        z = SIZE_MAX;
    for (size_t i = 0; z != SIZE_MAX && i < b.n; i++)
        z += !b.valid[i];
    pq_cursor_close(cur);
    return z;
}

/* A cached decoded page of a string value column is compact (offsets and
 * bytes, charged 4 bytes a value beside its bytes instead of a 16-byte
 * pq_bytes and a flag), and keeps valid flags only when it has a null;
 * the ikey column's pages keep pq_bytes (find_ikey searches them). Every
 * get still answers as without a cache (test_page_cache_decodes_a_page_once
 * and the model tests). */
static void test_page_cache_keeps_string_pages_compact(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "p", "k int64 not null, s string", "k"));
    meru_fs *fs = meru_fs_posix();
    const char *dir = meru_test_tmpdir("compactpage");
    int saw_null_page = 0, saw_full_page = 0;
    for (int nulls = 0; nulls < 2; nulls++) {
        const char *path = path_in(dir, nulls ? "n.parquet" : "f.parquet");
        sst_model *m = sst_model_make(s, 400, 1, 0, nulls ? 30 : 0);
        CHECK(m);
        meru_options to;
        meru_options_init(&to);
        to.page_bytes = 2048;
        meru_sst_options o;
        meru_sst_options_for_level(&o, 1, &to);
        CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
        meru_cache *c;
        CHECK_OK(meru_cache_new(&c, (size_t)16 << 20));
        meru_sst *t;
        CHECK_OK(meru_sst_open(&t, fs, path, s, c));
        CHECK(meru_sst_mapped(t));
        uint32_t col = (uint32_t)t->pcol[1];
        int64_t rows = t->rg_start[1] - t->rg_start[0];
        for (int64_t row = 0; row < rows;) {
            meru_cache_stats before, after;
            meru_cache_stats_get(c, &before);
            const sst_page *pg;
            meru_cache_handle *h;
            uint64_t pages = 0;
            CHECK_OK(sst_page_get(t, 0, col, row, 0, &pg, &h, &pages));
            CHECK(pg);
            CHECK_EQ_U64(pages, 1);
            meru_cache_stats_get(c, &after);
            CHECK(pg->offs && pg->bytes && !pg->values);
            size_t n = pg->n, bytes = pg->offs[n];
            CHECK(n > 0);
            size_t z = nulls_in_rows(t, col, pg->first, n);
            CHECK(z != SIZE_MAX);
            CHECK_EQ_INT(pg->valid != NULL, z > 0);
            saw_null_page |= z > 0;
            saw_full_page |= z == 0;
            size_t charge = (size_t)(after.bytes - before.bytes);
            /* header, offsets, flags when stored, bytes, 8-byte padding */
            CHECK_MSG(charge <= 128 + 4 * (n + 1) + (z ? n : 0) + bytes + 16,
                      "page of %zu values, %zu bytes charged %zu", n, bytes,
                      charge);
            /* below the pq_bytes form with flags (both have the page
             * header: a page of one row, as the 2 KiB default can leave
             * at a row group's end, is mostly header) */
            CHECK(charge <
                  sizeof(sst_page) + n * (sizeof(pq_bytes) + 1) + bytes);
            for (size_t i = 0; i < n; i++)
                CHECK(pg->offs[i] <= pg->offs[i + 1]);
            row = pg->first + (int64_t)n;
            meru_cache_release(c, h);
        }
        /* the ikey column: pq_bytes values */
        const sst_page *pg;
        meru_cache_handle *h;
        uint64_t pages = 0;
        CHECK_OK(
            sst_page_get(t, 0, (uint32_t)t->col_ikey, 0, 0, &pg, &h, &pages));
        CHECK(pg && pg->values && !pg->offs);
        meru_cache_release(c, h);
        CHECK(gets_match(t, m, s, 400, NULL));
        meru_sst_close(t);
        meru_cache_free(c);
        sst_model_free(m);
    }
    CHECK(saw_null_page);
    CHECK(saw_full_page);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_cache_serves_file_bytes);
    MERU_TEST_RUN(test_page_cache_decodes_a_page_once);
    MERU_TEST_RUN(test_page_cache_keeps_string_pages_compact);
    return meru_test_finish();
}
