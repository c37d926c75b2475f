/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sst_lookup.c — the batched lookup of one SST (meru_sst_lookup_batch)
 * and the key-at-position read (meru_sst_ikeys_at), against meru_sst_get
 * and the reference model (sst_model.h): random files (several versions
 * per key, deletes, nulls; multi-page and multi-row-group; row and column
 * profiles; single, composite, unfiltered and long keys whose page bounds
 * are cut), random key sets mixing present keys, absent keys inside the
 * range, keys below and above the range, dense (the filters skipped) and
 * sparse (filters first); row positions, values, the `want` filter, page
 * and bloom counters, and argument checks; a lookup with values, and a
 * forward scan, release the mapped pages they have passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/iter.h"
#include "parquet/pq.h"
#include "sst/sst.h"
#include "sst_model.h"
#include "test.h"
#include "types/keycodec.h"
#include "util/fs.h"

static meru_schema *parse(const char *cols, const char *pk)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "t", cols, pk))
        return NULL;
    return s;
}

/* _merutable_ikey data pages of the file, over all row groups. */
static uint64_t ikey_pages(const char *path, uint32_t *row_groups)
{
    size_t n;
    uint8_t *bytes = meru_test_read_file(path, &n);
    uint64_t pages = 0;
    pq_mem mem;
    pq_source src;
    pq_reader *r;
    if (!bytes)
        return 0;
    pq_source_mem(&src, &mem, bytes, n);
    if (pq_reader_open(&r, &src, NULL) == MERU_OK) {
        *row_groups = pq_reader_num_row_groups(r);
        for (uint32_t g = 0; g < *row_groups; g++) {
            const pq_offset_index *oi;
            if (pq_reader_offset_index(r, g, 0, &oi) == MERU_OK && oi)
                pages += oi->n_pages;
        }
        pq_reader_close(r);
    }
    free(bytes);
    return pages;
}

/* Values handed to value_fn, by keyset index. */
typedef struct got {
    meru_buf *val;
    uint64_t *pos;
    int *calls;
} got;

static int on_value(void *arg, size_t key, uint64_t pos, const uint8_t *v,
                    size_t len)
{
    got *g = arg;
    g->calls[key]++;
    g->pos[key] = pos;
    meru_buf_reset(&g->val[key]);
    return meru_buf_append(&g->val[key], v, len);
}

static int ukey_cmp(const void *a, const void *b)
{
    const meru_buf *x = a, *y = b;
    return meru_ikey_cmp(x->data, x->len, y->data, y->len);
}

/* A user key far below (lo) or above every key of the schema's first key
 * column: the encoded key of a real key with its first byte forced. */
static int outside_key(const meru_schema *s, int lo, meru_buf *out)
{
    int rc = sst_ukey(s, 0, out);
    if (rc == MERU_OK && out->len)
        out->data[0] = lo ? 0x00 : 0xff;
    return rc;
}

/* meru_sst_ikeys_at callback: the key at `pos` is the model's entry pos. */
typedef struct at_ctx {
    const sst_model *m;
    size_t seen;
    int bad;
} at_ctx;

static int ikey_matches(void *arg, uint64_t pos, const uint8_t *ik, size_t len)
{
    at_ctx *c = arg;
    c->seen++;
    if (pos >= c->m->n || c->m->e[pos].ik.len != len ||
        memcmp(c->m->e[pos].ik.data, ik, len) != 0)
        c->bad++;
    return 0;
}

typedef struct spec {
    const char *name;
    const char *cols, *pk;
    int level;
    size_t nkeys;
    int max_versions, del_pct;
    uint32_t page_bytes;     /* L0 / L1 page size */
    uint64_t row_group_rows; /* 0: the profile's */
    /* Every ikey page starts a key: looking up all keys reads them all. */
    int all_pages;
} spec;

/* One file, several random key sets checked against get and the model. */
static void run(const spec *sp)
{
    meru_schema *s = parse(sp->cols, sp->pk);
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    char path[1024];
    snprintf(path, sizeof path, "%s/f.parquet", meru_test_tmpdir(sp->name));
    sst_model *m = sst_model_make(s, sp->nkeys, sp->max_versions, sp->del_pct,
                                  20);
    CHECK(m);
    meru_options to;
    meru_options_init(&to);
    to.l0_page_bytes = sp->page_bytes;
    to.page_bytes = sp->page_bytes;
    to.page_rows = 97;
    meru_sst_options o;
    meru_sst_options_for_level(&o, sp->level, &to);
    if (sp->row_group_rows)
        o.pq.row_group_rows = sp->row_group_rows;
    CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
    uint32_t nrg = 0;
    uint64_t pages = ikey_pages(path, &nrg);
    CHECK(pages > 1);
    if (sp->row_group_rows)
        CHECK(nrg > 1);
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));

    size_t cap = 2 * sp->nkeys + 8;
    meru_buf *uk = calloc(cap, sizeof *uk), *val = calloc(cap, sizeof *val);
    meru_sst_ukey *keys = calloc(cap, sizeof *keys);
    size_t *idx = calloc(cap, sizeof *idx);
    meru_sst_found *found = calloc(cap, sizeof *found);
    uint64_t *pos = calloc(cap, sizeof *pos);
    int *calls = calloc(cap, sizeof *calls);
    uint8_t *want = calloc(cap, 1);
    meru_buf gv = {0};
    int ok = uk && val && keys && idx && found && pos && calls && want;
    uint64_t negatives = 0;

    for (int round = 0; ok && round < 8; round++) {
        /* round 0: every key of the file; 1-3: random mixes of a third of
         * the keys (dense: the filters are skipped); 4-7: one key in 40
         * (sparse: each key's filters are probed first) */
        int sparse = round >= 4;
        size_t n = 0;
        for (size_t i = 0; i < cap; i++)
            meru_buf_reset(&uk[i]); /* sst_ukey appends */
        if (round == 0) {
            for (size_t k = 0; k < sp->nkeys; k++)
                ok &= sst_ukey(s, 2 * k, &uk[n++]) == MERU_OK;
        } else {
            for (uint64_t i = 0; i < 2 * sp->nkeys + 1 && n < cap - 2; i++)
                if (meru_test_rand() % (sparse ? 40 : 3) == 0)
                    ok &= sst_ukey(s, i, &uk[n++]) == MERU_OK;
            ok &= outside_key(s, 1, &uk[n++]) == MERU_OK;
            ok &= outside_key(s, 0, &uk[n++]) == MERU_OK;
        }
        CHECK(ok);
        qsort(uk, n, sizeof *uk, ukey_cmp);
        size_t d = 0; /* distinct */
        for (size_t i = 0; i < n; i++) {
            if (d && ukey_cmp(&uk[d - 1], &uk[i]) == 0)
                continue;
            meru_buf tmp = uk[d];
            uk[d] = uk[i];
            uk[i] = tmp;
            d++;
        }
        for (size_t i = 0; i < d; i++) {
            keys[i].ptr = uk[i].data;
            keys[i].len = uk[i].len;
            calls[i] = 0;
            want[i] = round % 2 ? (uint8_t)(meru_test_rand() % 2) : 1;
        }
        /* Probe a random subset (ascending indices into the set). */
        size_t ni = 0;
        for (size_t i = 0; i < d; i++)
            if (round == 0 || meru_test_rand() % 4)
                idx[ni++] = i;
        meru_sst_keyset ks;
        CHECK_OK(meru_sst_keyset_init(&ks, s, keys, d));
        got g = {val, pos, calls};
        meru_sst_lookup_opts lo = {on_value, &g, round % 2 ? want : NULL};
        meru_sst_read_stats st = {0, 0, 0};
        size_t nf = 0;
        int rc = meru_sst_lookup_batch(t, &ks, idx, ni, &lo, found, &nf, &st);
        CHECK_MSG(rc == MERU_OK, "lookup: %s", meru_errmsg());
        /* Without values, every key of the file decodes every ikey page
         * exactly once; a subset never more. */
        meru_sst_read_stats st2 = {0, 0, 0};
        size_t nf2 = 0;
        CHECK_OK(meru_sst_lookup_batch(t, &ks, idx, ni, NULL, found, &nf2,
                                       &st2));
        CHECK_EQ_U64(nf2, nf);
        if (round == 0 && sp->all_pages)
            CHECK_EQ_U64(st2.pages_read, pages);
        CHECK(st2.pages_read <= pages);
        negatives += st.bloom_negatives;
        /* Dense lookups merge the keys against the pages; sparse ones
         * probe the filters (of a multi-column key: of each column). */
        if (!sparse)
            CHECK_EQ_U64(st.bloom_checks, 0);
        else
            CHECK(st.bloom_checks > 0);

        /* found[] is in key order; compare each probed key with get. */
        size_t f = 0;
        for (size_t i = 0; ok && i < ni; i++) {
            size_t k = idx[i];
            meru_sst_state state;
            uint64_t seq = 0;
            int grc = meru_sst_get(t, keys[k].ptr, keys[k].len, MERU_SEQ_MAX,
                                   &state, &seq, &gv, NULL);
            /* The keys made outside the range do not decode: get refuses
             * them, the lookup never needs to decode them. */
            if (grc == MERU_EINVAL && (keys[k].ptr[0] == 0x00 ||
                                       keys[k].ptr[0] == 0xff))
                state = MERU_SST_NOT_FOUND;
            else
                CHECK_OK(grc);
            size_t e = sst_model_get(m, keys[k].ptr, keys[k].len,
                                     MERU_SEQ_MAX);
            if (state == MERU_SST_NOT_FOUND) {
                ok &= e == (size_t)-1 && (f == nf || found[f].key != k) &&
                      calls[k] == 0;
                CHECK_MSG(ok, "%s round %d: key %zu absent but found",
                          sp->name, round, k);
                continue;
            }
            CHECK_MSG(f < nf && found[f].key == k,
                      "%s round %d: key %zu (state %d) not found", sp->name,
                      round, k, (int)state);
            /* The row position is the entry's index in the sorted model. */
            CHECK_EQ_U64(found[f].pos, e);
            CHECK_EQ_U64(found[f].seq, seq);
            CHECK_EQ_U64(found[f].seq, m->e[e].seq);
            CHECK_EQ_INT(found[f].op, m->e[e].op);
            CHECK_EQ_INT(state == MERU_SST_DELETED,
                         found[f].op == MERU_OP_DELETE);
            int wanted = found[f].op == MERU_OP_PUT && (round % 2 == 0 || want[k]);
            CHECK_EQ_INT(calls[k], wanted);
            if (wanted) {
                CHECK_EQ_U64(pos[k], found[f].pos);
                CHECK(val[k].len == gv.len &&
                      memcmp(val[k].data, gv.data, gv.len) == 0);
            }
            f++;
        }
        CHECK_EQ_U64(f, nf);
        meru_sst_keyset_free(&ks);
    }
    /* Odd keys are absent: with one key column its filter answers for
     * most of them (with several, each column's values exist in the file,
     * so per-column filters cannot). */
    if (s->nkey == 1)
        CHECK(negatives > 0);

    /* ikeys_at: random ascending positions give the model's keys. */
    uint64_t *ps = calloc(m->n, sizeof *ps);
    CHECK(ps);
    size_t np = 0;
    for (size_t i = 0; i < m->n; i++)
        if (meru_test_rand() % 5 == 0)
            ps[np++] = i;
    at_ctx ac = {m, 0, 0};
    meru_sst_read_stats ast = {0, 0, 0};
    CHECK_OK(meru_sst_ikeys_at(t, ps, np, ikey_matches, &ac, &ast));
    CHECK_EQ_U64(ac.seen, np);
    CHECK_EQ_INT(ac.bad, 0);
    CHECK(ast.pages_read <= pages);
    /* Out of range or not ascending: refused. */
    uint64_t badp[2] = {m->n, 0};
    CHECK_RC(meru_sst_ikeys_at(t, badp, 1, ikey_matches, &ac, NULL), MERU_EINVAL);
    badp[0] = 3;
    CHECK_RC(meru_sst_ikeys_at(t, badp, 2, ikey_matches, &ac, NULL), MERU_EINVAL);
    free(ps);

    for (size_t i = 0; i < cap; i++) {
        meru_buf_free(&uk[i]);
        meru_buf_free(&val[i]);
    }
    free(uk);
    free(val);
    free(keys);
    free(idx);
    free(found);
    free(pos);
    free(calls);
    free(want);
    meru_buf_free(&gv);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK(ok);
}

static void test_lookup_row_profile_int_key(void)
{
    spec sp = {"lk_l0", "id int64 not null, v string, n int32", "id", 0, 1500,
               3, 20, 1024, 0, 1};
    run(&sp);
}

static void test_lookup_row_profile_multi_row_group(void)
{
    spec sp = {"lk_l0_rg", "id int64 not null, v string, n int32", "id", 0,
               1200, 3, 25, 1024, 500, 1};
    run(&sp);
}

static void test_lookup_column_profile_composite_key(void)
{
    spec sp = {"lk_l1", "k1 string not null, k2 decimal(20,3) not null, "
                        "k3 int32 not null, v double, w binary",
               "k1, k2, k3", 1, 1500, 2, 15, 1024, 700, 0};
    run(&sp);
}

static void test_lookup_unfiltered_key_columns(void)
{
    /* A boolean key column has no bloom filter: keys are filtered by the
     * other two alone. */
    spec sp = {"lk_bool",
               "i int64 not null, b boolean not null, f double not null, "
               "v int32",
               "i, b, f", 1, 800, 3, 20, 1024, 0, 0};
    run(&sp);
}

static void test_lookup_long_keys_with_cut_page_bounds(void)
{
    /* Keys of 100 bytes sharing a long prefix: the page index cuts its
     * bounds to 64 bytes, so a bound can point one page early. */
    spec sp = {"lk_long", "fx fixed(100) not null, v string", "fx", 0, 600, 3,
               20, 1024, 0, 0};
    run(&sp);
}

static void test_lookup_refuses_bad_arguments(void)
{
    meru_schema *s = parse("id int64 not null, v string", "id");
    CHECK(s);
    meru_buf a = {0}, b = {0};
    CHECK_OK(sst_ukey(s, 4, &a));
    CHECK_OK(sst_ukey(s, 2, &b));
    meru_sst_ukey keys[2] = {{a.data, a.len}, {b.data, b.len}};
    meru_sst_keyset ks;
    /* Keys not ascending. */
    CHECK_RC(meru_sst_keyset_init(&ks, s, keys, 2), MERU_EINVAL);
    meru_sst_keyset_free(&ks);
    keys[0] = (meru_sst_ukey){b.data, b.len};
    keys[1] = (meru_sst_ukey){a.data, a.len};
    CHECK_OK(meru_sst_keyset_init(&ks, s, keys, 2));

    meru_fs *fs = meru_fs_posix();
    char path[1024];
    snprintf(path, sizeof path, "%s/f.parquet", meru_test_tmpdir("lk_bad"));
    sst_model *m = sst_model_make(s, 10, 1, 0, 0);
    CHECK(m);
    CHECK_OK(sst_model_write(m, fs, path, s, NULL, NULL));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    meru_sst_found found[2];
    size_t nf = 7;
    size_t idx[2] = {1, 0};
    CHECK_RC(meru_sst_lookup_batch(t, &ks, idx, 2, NULL, found, &nf, NULL),
             MERU_EINVAL);
    CHECK_EQ_U64(nf, 0);
    idx[0] = 0;
    idx[1] = 2; /* beyond the set */
    CHECK_RC(meru_sst_lookup_batch(t, &ks, idx, 2, NULL, found, &nf, NULL),
             MERU_EINVAL);
    idx[1] = 1;
    CHECK_OK(meru_sst_lookup_batch(t, &ks, idx, 2, NULL, found, &nf, NULL));
    CHECK_EQ_U64(nf, 2);
    CHECK(found[0].key == 0 && found[1].key == 1);
    CHECK(found[0].pos == 1 && found[1].pos == 2); /* keys 2 and 4: rows */
    meru_sst_close(t);
    sst_model_free(m);
    meru_sst_keyset_free(&ks);
    meru_buf_free(&a);
    meru_buf_free(&b);
    meru_schema_free(s);
}

typedef struct rss_seen {
    const char *path;
    size_t calls;
    long max_kib; /* of the map, sampled every 500 values */
} rss_seen;

static int watch_rss(void *arg, size_t key, uint64_t pos, const uint8_t *v,
                     size_t len)
{
    rss_seen *r = arg;
    (void)key;
    (void)pos;
    (void)v;
    (void)len;
    if (r->calls++ % 500 == 0) {
        long k = meru_test_map_rss_kib(r->path);
        if (k > r->max_kib)
            r->max_kib = k;
    }
    return 0;
}

/* A lookup with values over a mapped file reads nearly every page once:
 * it lets go of the pages it has passed (the key column's after the key
 * pass, each row group's values after it), so at no time is much more
 * than a row group of the map resident, and at the end not the file. The
 * answers are those of the same lookup before (test above). */
static void test_lookup_values_release_passed_pages(void)
{
    meru_schema *s = parse("id int64 not null, v string, n int32", "id");
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    char path[1024];
    snprintf(path, sizeof path, "%s/f.parquet",
             meru_test_tmpdir("lk_release"));
    sst_model *m = sst_model_make(s, 24000, 1, 0, 20);
    CHECK(m);
    meru_options to;
    meru_options_init(&to);
    meru_sst_options o;
    meru_sst_options_for_level(&o, 0, &to);
    o.pq.row_group_rows = 2000; /* 12 row groups */
    CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
    uint32_t nrg = 0;
    CHECK(ikey_pages(path, &nrg) > 0);
    CHECK(nrg >= 10);
    size_t fsize = 0;
    uint8_t *bytes = meru_test_read_file(path, &fsize);
    CHECK(bytes);
    free(bytes);
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    if (!meru_sst_mapped(t)) { /* no maps here: nothing to release */
        meru_sst_close(t);
        sst_model_free(m);
        meru_schema_free(s);
        return;
    }
    size_t n = 24000;
    meru_buf *uk = calloc(n, sizeof *uk);
    meru_sst_ukey *keys = calloc(n, sizeof *keys);
    size_t *idx = calloc(n, sizeof *idx);
    meru_sst_found *found = calloc(n, sizeof *found);
    CHECK(uk && keys && idx && found);
    for (size_t k = 0; k < n; k++) {
        CHECK_OK(sst_ukey(s, 2 * k, &uk[k]));
        keys[k].ptr = uk[k].data;
        keys[k].len = uk[k].len;
        idx[k] = k;
    }
    meru_sst_keyset ks;
    CHECK_OK(meru_sst_keyset_init(&ks, s, keys, n));
    rss_seen seen = {path, 0, -1};
    meru_sst_lookup_opts lo = {watch_rss, &seen, NULL};
    size_t nf = 0;
    CHECK_OK(meru_sst_lookup_batch(t, &ks, idx, n, &lo, found, &nf, NULL));
    CHECK_EQ_U64(nf, n);
    CHECK_EQ_U64(seen.calls, n);
    long end_kib = meru_test_map_rss_kib(path), file_kib = (long)(fsize / 1024);
    /* Without the releases the whole file is resident by the end. */
    CHECK_MSG(end_kib >= 0 && end_kib * 3 < file_kib &&
                  seen.max_kib * 3 < file_kib,
              "map resident: %ld KiB at the end, at most %ld KiB during the "
              "values, of a %ld KiB file",
              end_kib, seen.max_kib, file_kib);
    meru_sst_keyset_free(&ks);
    for (size_t k = 0; k < n; k++)
        meru_buf_free(&uk[k]);
    free(uk);
    free(keys);
    free(idx);
    free(found);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
}

/* A scan moving forward lets go of each row group's mapped pages as it
 * enters the next (sst_iter.c): after a full scan of a 12-row-group file
 * about one row group of the map is resident, not the file, and every
 * row was read. */
static void test_scan_releases_passed_row_groups(void)
{
    meru_schema *s = parse("id int64 not null, v string, n int32", "id");
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    char path[1024];
    snprintf(path, sizeof path, "%s/f.parquet", meru_test_tmpdir("scan_rel"));
    sst_model *m = sst_model_make(s, 24000, 1, 0, 21);
    CHECK(m);
    meru_options to;
    meru_options_init(&to);
    meru_sst_options o;
    meru_sst_options_for_level(&o, 0, &to);
    o.pq.row_group_rows = 2000;
    CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
    size_t fsize = 0;
    uint8_t *bytes = meru_test_read_file(path, &fsize);
    CHECK(bytes);
    free(bytes);
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    if (meru_sst_mapped(t)) {
        meru_iiter *it;
        size_t rows = 0;
        CHECK_OK(meru_sst_iter_new(t, NULL, &it));
        for (it->ops->seek_to_first(it); it->ops->valid(it);
             it->ops->next(it)) {
            size_t vl;
            (void)it->ops->value(it, &vl);
            rows++;
        }
        CHECK_OK(it->ops->status(it));
        long end_kib = meru_test_map_rss_kib(path), file_kib = (long)(fsize / 1024);
        meru_iiter_destroy(it);
        CHECK_EQ_U64(rows, m->n);
        CHECK_MSG(end_kib >= 0 && end_kib * 3 < file_kib,
                  "map resident after the scan: %ld KiB of a %ld KiB file",
                  end_kib, file_kib);
    }
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_lookup_row_profile_int_key);
    MERU_TEST_RUN(test_lookup_row_profile_multi_row_group);
    MERU_TEST_RUN(test_lookup_column_profile_composite_key);
    MERU_TEST_RUN(test_lookup_unfiltered_key_columns);
    MERU_TEST_RUN(test_lookup_long_keys_with_cut_page_bounds);
    MERU_TEST_RUN(test_lookup_refuses_bad_arguments);
    MERU_TEST_RUN(test_lookup_values_release_passed_pages);
    MERU_TEST_RUN(test_scan_releases_passed_row_groups);
    return meru_test_finish();
}
