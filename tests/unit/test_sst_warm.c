/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sst_warm.c — warming an L1+ file's number pages into the page cache
 * (meru_sst_warm_pages, sst_cache.c "warming pages").
 *
 * - Every page of the number value columns (INT32, INT64, FLOAT, DOUBLE
 *   outside the key) is in the cache after the pass, and no page of the
 *   key, hidden or string columns; a second pass decodes nothing; the
 *   pass counts neither hits nor misses in the cache's statistics.
 * - A get then decodes only the pages the pass left (the first get of a
 *   key decodes exactly three pages fewer, n, x and w, than in the same
 *   file opened with a cache of its own and not warmed) and returns the
 *   same value.
 * - The pass stops once the cache would pass its warming share (1/2 of the
 *   capacity): *full, and the cache's bytes within the share.
 * - L0 files, a cache of capacity 0: nothing warmed. A cancelled pass
 *   returns MERU_ECLOSED having warmed nothing.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/pq.h"
#include "sst/sst.h"
#include "sst/sst_internal.h"
#include "sst_model.h"
#include "test.h"
#include "util/fs.h"

#define COLS "id int64 not null, n int64, x double, w int32, v string"

/* An L`level` file of 3000 keys in short pages and row groups of 1000
 * rows at `path`. */
static void write_file(const char *name, int level, const meru_schema *s,
                       char *path, size_t plen)
{
    snprintf(path, plen, "%s/f.parquet", meru_test_tmpdir(name));
    sst_model *m = sst_model_make(s, 3000, 1, 0, 10);
    CHECK(m);
    meru_options to;
    meru_options_init(&to);
    to.l0_page_bytes = 1024;
    to.page_bytes = 1024;
    to.number_page_bytes = 1024;
    to.page_rows = 97;
    meru_sst_options o;
    meru_sst_options_for_level(&o, level, &to);
    o.pq.row_group_rows = 1000;
    CHECK_OK(sst_model_write(m, meru_fs_posix(), path, s, &o, NULL));
    sst_model_free(m);
}

/* Pages of file column `name` in the cache / in the file. */
static void pages_cached(meru_sst *t, const char *name, uint64_t *cached,
                         uint64_t *total)
{
    int pc = pq_reader_find_column(t->r, name);
    CHECK(pc >= 0);
    *cached = *total = 0;
    for (uint32_t rg = 0; rg < t->nrg; rg++) {
        const pq_offset_index *oi;
        CHECK_OK(pq_reader_offset_index(t->r, rg, (uint32_t)pc, &oi));
        CHECK(oi && oi->n_pages > 0);
        for (uint32_t p = 0; p < oi->n_pages; p++) {
            const sst_page *pg = NULL;
            meru_cache_handle *h = NULL;
            uint64_t reads = 0;
            /* no fill: answers "no page" unless it is cached */
            CHECK_OK(sst_page_get(t, rg, (uint32_t)pc,
                                  oi->page_locations[p].first_row_index,
                                  MERU_SST_NO_FILL_CACHE, &pg, &h, &reads));
            CHECK_EQ_U64(reads, 0);
            *cached += pg != NULL;
            (*total)++;
            meru_cache_release(t->cache, h);
        }
    }
}

static void check_all(meru_sst *t, const char *name, bool want)
{
    uint64_t cached, total;
    pages_cached(t, name, &cached, &total);
    CHECK(total > 3); /* several pages in each of 3 row groups */
    CHECK_EQ_U64(cached, want ? total : 0);
}

/* The first get of key index `idx`: *pages its pages decoded, val. */
static void get_pages(meru_sst *t, const meru_schema *s, uint64_t idx,
                      meru_buf *val, uint64_t *pages)
{
    *pages = 0;
    meru_buf k = {0};
    CHECK_OK(sst_ukey(s, idx, &k));
    meru_sst_state st;
    meru_sst_read_stats rs = {0, 0, 0};
    CHECK_OK(meru_sst_get(t, k.data, k.len, MERU_SEQ_MAX, &st, NULL, val,
                          &rs));
    CHECK_EQ_INT(st, MERU_SST_FOUND);
    meru_buf_free(&k);
    *pages = rs.pages_read;
}

static void test_warm_caches_number_pages(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t", COLS, "id"));
    char path[1024];
    write_file("warm_all", 1, s, path, sizeof path);
    meru_cache *c = NULL, *cold = NULL;
    CHECK_OK(meru_cache_new(&c, (size_t)16 << 20));
    CHECK_OK(meru_cache_new(&cold, (size_t)16 << 20));
    meru_sst *t = NULL, *u = NULL;
    CHECK_OK(meru_sst_open(&t, meru_fs_posix(), path, s, c));
    CHECK_OK(meru_sst_open(&u, meru_fs_posix(), path, s, cold));
    check_all(t, "n", false);

    meru_cache_stats before, after;
    meru_cache_stats_get(c, &before);
    bool full = true;
    uint64_t pages = 0;
    CHECK_OK(meru_sst_warm_pages(t, NULL, &full, &pages));
    meru_cache_stats_get(c, &after);
    CHECK(!full);
    CHECK(pages > 0);
    CHECK_EQ_U64(after.hits, before.hits);
    CHECK_EQ_U64(after.misses, before.misses);
    CHECK(after.inserts > before.inserts);
    check_all(t, "n", true);
    check_all(t, "x", true);
    check_all(t, "w", true);
    check_all(t, "v", false);
    check_all(t, "id", false);
    check_all(t, MERU_SST_COL_IKEY, false);
    check_all(t, MERU_SST_COL_SEQ, false);

    /* Again: everything is there, nothing is decoded. */
    uint64_t again = 0;
    CHECK_OK(meru_sst_warm_pages(t, NULL, &full, &again));
    CHECK(!full);
    CHECK_EQ_U64(again, 0);

    /* A get decodes three pages fewer (n, x, w) than in the cold file,
     * and reads the same row. */
    for (uint64_t idx = 0; idx < 6000; idx += 1234) {
        meru_buf a = {0}, b = {0};
        uint64_t warm, unwarmed;
        get_pages(t, s, idx, &a, &warm);
        get_pages(u, s, idx, &b, &unwarmed);
        CHECK_EQ_U64(warm + 3, unwarmed);
        CHECK_EQ_U64(a.len, b.len);
        CHECK(a.len > 0 && memcmp(a.data, b.data, a.len) == 0);
        meru_buf_free(&a);
        meru_buf_free(&b);
    }
    meru_sst_close(t);
    meru_sst_close(u);
    meru_cache_free(c);
    meru_cache_free(cold);
    meru_schema_free(s);
}

static void test_warm_stops_at_its_share(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t", COLS, "id"));
    char path[1024];
    write_file("warm_share", 1, s, path, sizeof path);
    /* The number pages hold ~60 KB decoded: more than half of 64 KiB. */
    meru_cache *c = NULL;
    CHECK_OK(meru_cache_new(&c, (size_t)64 << 10));
    meru_sst *t = NULL;
    CHECK_OK(meru_sst_open(&t, meru_fs_posix(), path, s, c));
    bool full = false;
    uint64_t pages = 0;
    CHECK_OK(meru_sst_warm_pages(t, NULL, &full, &pages));
    CHECK(full);
    CHECK(pages > 0);
    meru_cache_stats st;
    meru_cache_stats_get(c, &st);
    CHECK(st.bytes <= st.capacity / MERU_SST_WARM_SHARE);
    CHECK_EQ_U64(st.evictions, 0);
    uint64_t cached, total;
    pages_cached(t, "n", &cached, &total);
    CHECK(cached > 0 && cached < total);
    meru_sst_close(t);
    meru_cache_free(c);
    meru_schema_free(s);
}

static void test_warm_leaves_l0_no_cache_and_cancelled(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t", COLS, "id"));
    char p0[1024], p1[1024];
    write_file("warm_l0", 0, s, p0, sizeof p0);
    write_file("warm_cancel", 1, s, p1, sizeof p1);
    meru_cache *c = NULL, *none = NULL;
    CHECK_OK(meru_cache_new(&c, (size_t)16 << 20));
    CHECK_OK(meru_cache_new(&none, 0));
    bool full = true;
    uint64_t pages = 0;

    meru_sst *t = NULL;
    CHECK_OK(meru_sst_open(&t, meru_fs_posix(), p0, s, c));
    CHECK_OK(meru_sst_warm_pages(t, NULL, &full, &pages));
    CHECK(!full);
    CHECK_EQ_U64(pages, 0);
    check_all(t, "n", false);
    meru_sst_close(t);

    CHECK_OK(meru_sst_open(&t, meru_fs_posix(), p1, s, none));
    CHECK_OK(meru_sst_warm_pages(t, NULL, &full, &pages));
    CHECK_EQ_U64(pages, 0);
    meru_sst_close(t);

    atomic_bool cancel;
    atomic_init(&cancel, true);
    CHECK_OK(meru_sst_open(&t, meru_fs_posix(), p1, s, c));
    CHECK_EQ_INT(meru_sst_warm_pages(t, &cancel, &full, &pages),
                 MERU_ECLOSED);
    CHECK_EQ_U64(pages, 0);
    check_all(t, "n", false);
    atomic_store(&cancel, false);
    CHECK_OK(meru_sst_warm_pages(t, &cancel, &full, &pages));
    CHECK(pages > 0);
    check_all(t, "n", true);
    meru_sst_close(t);

    meru_cache_free(c);
    meru_cache_free(none);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_warm_caches_number_pages);
    MERU_TEST_RUN(test_warm_stops_at_its_share);
    MERU_TEST_RUN(test_warm_leaves_l0_no_cache_and_cancelled);
    return meru_test_finish();
}
