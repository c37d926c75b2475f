/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sst.c — SST files: write then read back through get and the
 * iterator against a reference model (sst_model.h), for every column
 * type, composite keys, versions and deletes; bloom filters and page
 * pruning on lookups; iterator moves in both directions; seeks and gets
 * that read near their target only; projection; schema evolution and type
 * promotions; writer input checks; golden files. Option knobs and the file
 * as an external Parquet reader sees it are in test_sst_format.c, the
 * block and page caches in test_sst_cache.c, corruption and I/O faults in
 * test_sst_corrupt.c, threads in test_sst_concurrent.c.
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

/* What the golden files hold (test_golden_files_read_the_same). */
#define GOLD_L0_ROWS 38
#define GOLD_L0_HASH UINT64_C(0xf3da7c38a7a5c5d2)
#define GOLD_L1_ROWS 64
#define GOLD_L1_HASH UINT64_C(0xa92ee44ce1bd7e0a)

static meru_schema *schema_keys2(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "k",
                          "ts timestamptz not null, fx fixed(16) not null, "
                          "dec decimal(7,2) not null, x string",
                          "dec, ts, fx"))
        return NULL;
    return s;
}

/* Float, boolean (no bloom filter) and date key columns. */
static meru_schema *schema_keys3(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "f",
                          "f double not null, b boolean not null, "
                          "dt date not null, v int32",
                          "f, b, dt"))
        return NULL;
    return s;
}

/* A key of 100 bytes sharing a 92-byte zero prefix: the page index cuts
 * its bounds to 64 bytes, so they no longer tell pages apart. */
static meru_schema *schema_long_key(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "l", "fx fixed(100) not null, v string", "fx"))
        return NULL;
    return s;
}

/* ----------------------------------------------------------- the tests */

static void round_trip(meru_schema *s, const char *name, int level,
                       size_t nkeys)
{
    meru_fs *fs = meru_fs_posix();
    const char *dir = meru_test_tmpdir(name);
    char path[1024];
    snprintf(path, sizeof path, "%s/a.parquet", dir);
    sst_model *m = sst_model_make(s, nkeys, 3, 20, 25);
    CHECK(m);
    meru_sst_options o;
    meru_options to;
    meru_options_init(&to);
    to.l0_page_bytes = 2048;
    to.page_bytes = 4096;
    meru_sst_options_for_level(&o, level, &to);
    meru_sst_meta meta;
    CHECK_OK(sst_model_write(m, fs, path, s, &o, &meta));
    CHECK_EQ_U64(meta.row_count, m->n);
    CHECK(meta.smallest.len == m->e[0].ulen &&
          memcmp(meta.smallest.data, m->e[0].ik.data, meta.smallest.len) == 0);
    CHECK(meta.largest.len == m->e[m->n - 1].ulen &&
          memcmp(meta.largest.data, m->e[m->n - 1].ik.data, meta.largest.len) ==
              0);
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    CHECK_EQ_U64(meru_sst_row_count(t), m->n);
    CHECK_EQ_U64(meru_sst_file_size(t), meta.file_size);
    CHECK_EQ_INT(meru_sst_level(t), level);
    uint64_t mn = UINT64_MAX, mx = 0;
    for (size_t i = 0; i < m->n; i++) {
        mn = m->e[i].seq < mn ? m->e[i].seq : mn;
        mx = m->e[i].seq > mx ? m->e[i].seq : mx;
    }
    CHECK_EQ_U64(meta.min_seq, mn);
    CHECK_EQ_U64(meta.max_seq, mx);
    int ok1 = scan_matches(t, m);
    int ok2 = gets_match(t, m, s, nkeys, NULL);
    meru_sst_close(t);
    meru_sst_meta_free(&meta);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK(ok1);
    CHECK(ok2);
}

static void test_every_type_round_trips_at_l0(void)
{
    meru_schema *s = schema_all();
    CHECK(s);
    round_trip(s, "rt_l0", 0, (size_t)(800 * meru_test_scale()) + 10);
}

static void test_every_type_round_trips_at_l1(void)
{
    meru_schema *s = schema_all();
    CHECK(s);
    round_trip(s, "rt_l1", 1, (size_t)(800 * meru_test_scale()) + 10);
}

static void test_composite_keys_round_trip(void)
{
    meru_schema *s = schema_composite();
    CHECK(s);
    round_trip(s, "rt_comp", 0, 300);
    s = schema_keys2();
    CHECK(s);
    round_trip(s, "rt_keys2", 2, 300);
    s = schema_keys3();
    CHECK(s);
    round_trip(s, "rt_keys3", 0, 300);
    s = schema_long_key();
    CHECK(s);
    round_trip(s, "rt_long", 0, 300);
    s = schema_long_key();
    CHECK(s);
    round_trip(s, "rt_long1", 1, 300);
}

static void test_single_entry_file(void)
{
    meru_schema *s = schema_all();
    CHECK(s);
    round_trip(s, "rt_one", 0, 1);
}

/* Visibility: each version answers for read sequences from its own up to
 * the next newer one; a delete reads as DELETED; older than the oldest
 * version is NOT_FOUND. */
static void test_get_sees_the_version_at_its_read_sequence(void)
{
    meru_schema *s = schema_composite();
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    const char *path = path_in(meru_test_tmpdir("vis"), "v.parquet");
    sst_model *m = sst_model_make(s, 50, 6, 30, 10);
    CHECK(m);
    CHECK_OK(sst_model_write(m, fs, path, s, NULL, NULL));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    meru_buf val = {0};
    int ok = 1;
    for (size_t i = 0; ok && i < m->n; i++) {
        const sst_ent *e = &m->e[i];
        /* the version itself, one below it */
        for (int d = 0; d < 2 && ok; d++) {
            uint64_t rs = e->seq - (uint64_t)d;
            meru_sst_state st;
            uint64_t seq = 0;
            CHECK_OK(meru_sst_get(t, e->ik.data, e->ulen, rs, &st, &seq, &val,
                                  NULL));
            size_t want = sst_model_get(m, e->ik.data, e->ulen, rs);
            if (d == 0)
                ok &= want == i;
            if (want == (size_t)-1)
                ok &= st == MERU_SST_NOT_FOUND;
            else
                ok &= seq == m->e[want].seq &&
                      st == (m->e[want].op == MERU_OP_PUT ? MERU_SST_FOUND
                                                          : MERU_SST_DELETED);
        }
    }
    /* keys of another shape: a prefix of the composite key, garbage */
    meru_sst_state st;
    meru_value kv[1];
    kv[0] = (meru_value){.state = MERU_VALUE_PRESENT};
    kv[0].u.bytes.ptr = (const uint8_t *)"k1";
    kv[0].u.bytes.len = 2;
    meru_buf pk = {0};
    CHECK_OK(meru_key_encode(s, kv, 1, &pk));
    int rc1 =
        meru_sst_get(t, pk.data, pk.len, MERU_SEQ_MAX, &st, NULL, &val, NULL);
    int rc2 = meru_sst_get(t, (const uint8_t *)"k1\0\0\x01", 5, MERU_SEQ_MAX,
                           &st, NULL, &val, NULL);
    meru_buf_free(&pk);
    meru_buf_free(&val);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK(ok);
    CHECK_RC(rc1, MERU_EINVAL);
    CHECK_RC(rc2, MERU_EINVAL);
}

/* Keys inside the range but absent are answered by the bloom filters:
 * nearly all of them (fpp 1%) without touching a data page. */
static void test_absent_keys_are_answered_by_bloom_filters(void)
{
    meru_schema *s = schema_all();
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    const char *path = path_in(meru_test_tmpdir("bloom"), "b.parquet");
    size_t nkeys = 2000;
    sst_model *m = sst_model_make(s, nkeys, 1, 0, 10);
    CHECK(m);
    CHECK_OK(sst_model_write(m, fs, path, s, NULL, NULL));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    meru_sst_read_stats st = {0};
    meru_buf uk = {0}, val = {0};
    int ok = 1;
    for (uint64_t k = 0; k < nkeys - 1; k++) {
        meru_buf_reset(&uk);
        CHECK_OK(sst_ukey(s, 2 * k + 1, &uk));
        meru_sst_state state;
        ok &= meru_sst_get(t, uk.data, uk.len, MERU_SEQ_MAX, &state, NULL, &val,
                           &st) == MERU_OK &&
              state == MERU_SST_NOT_FOUND;
    }
    meru_sst_read_stats st2 = {0};
    meru_buf_reset(&uk);
    CHECK_OK(sst_ukey(s, 10, &uk));
    meru_sst_state state;
    CHECK_OK(meru_sst_get(t, uk.data, uk.len, MERU_SEQ_MAX, &state, NULL, &val,
                          &st2));
    meru_buf_free(&uk);
    meru_buf_free(&val);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK(ok);
    CHECK_EQ_U64(st.bloom_checks, nkeys - 1);
    CHECK(st.bloom_negatives >= (nkeys - 1) * 9 / 10);
    /* a negative reads no page; the few false positives read a page or
     * two of the key column only */
    CHECK(st.pages_read <= 2 * (st.bloom_checks - st.bloom_negatives));
    CHECK_EQ_INT(state, MERU_SST_FOUND);
    CHECK_EQ_U64(st2.bloom_checks, 1);
    CHECK_EQ_U64(st2.bloom_negatives, 0);
    CHECK(st2.pages_read >= 1);
}

/* In a file of many small pages a lookup decodes about one page per
 * column: the ikey page found through the page index and the row's page
 * of each other column. */
static void test_get_reads_few_pages_of_a_multi_page_file(void)
{
    meru_schema *s = schema_composite();
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    const char *path = path_in(meru_test_tmpdir("pages"), "p.parquet");
    size_t nkeys = 3000;
    sst_model *m = sst_model_make(s, nkeys, 2, 10, 10);
    CHECK(m);
    meru_options to;
    meru_options_init(&to);
    to.l0_page_bytes = 1024;
    meru_sst_options o;
    meru_sst_options_for_level(&o, 0, &to);
    CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));

    file_shape sh;
    CHECK_OK(shape_of(path, &sh));
    CHECK(sh.ikey_pages > 20); /* many pages indeed */

    meru_buf uk = {0}, val = {0};
    int ok = 1;
    uint64_t worst = 0;
    for (int q = 0; q < 200 && ok; q++) {
        uint64_t idx = 2 * (meru_test_rand() % nkeys);
        meru_buf_reset(&uk);
        CHECK_OK(sst_ukey(s, idx, &uk));
        meru_sst_read_stats st = {0};
        meru_sst_state state;
        ok &= meru_sst_get(t, uk.data, uk.len, MERU_SEQ_MAX, &state, NULL, &val,
                           &st) == MERU_OK &&
              state != MERU_SST_NOT_FOUND;
        if (st.pages_read > worst)
            worst = st.pages_read;
    }
    meru_buf_free(&uk);
    meru_buf_free(&val);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK(ok);
    /* ikey (at most 2 pages when the key sits at a page end) + v + w */
    CHECK_MSG(worst <= 4, "a get read %llu pages", (unsigned long long)worst);
}

/* Random moves against the model in a file of many pages and row groups,
 * with direction switches at window borders. */
static void test_iterator_moves_match_the_model(void)
{
    meru_schema *s = schema_composite();
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    const char *path = path_in(meru_test_tmpdir("iter"), "i.parquet");
    size_t nkeys = (size_t)(2500 * meru_test_scale()) + 50;
    sst_model *m = sst_model_make(s, nkeys, 3, 25, 20);
    CHECK(m);
    meru_sst_options o;
    meru_sst_options_for_level(&o, 1, NULL);
    o.pq.page_size = 1024;
    o.pq.row_group_rows = 1500; /* several row groups */
    o.batch_rows = 333;
    CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    meru_iiter *it;
    CHECK_OK(meru_sst_iter_new(t, NULL, &it));
    meru_buf key = {0};
    size_t at = m->n; /* model position; m->n = invalid */
    int ok = 1;
    for (int step = 0; step < 3000 && ok; step++) {
        int what = (int)(meru_test_rand() % 10);
        if (what == 0) {
            it->ops->seek_to_first(it);
            at = 0;
        } else if (what == 1) {
            it->ops->seek_to_last(it);
            at = m->n - 1;
        } else if (what == 2 || what == 3) {
            /* a key near an existing one: itself, or with another seq */
            const sst_ent *e = &m->e[meru_test_rand() % m->n];
            meru_buf_reset(&key);
            meru_buf_append(&key, e->ik.data, e->ulen);
            uint64_t sq = meru_test_rand() % 3 == 0
                              ? e->seq
                              : meru_test_rand() % (e->seq + 3);
            meru_ikey_append_trailer(&key, sq, (int)(meru_test_rand() % 2));
            if (meru_test_rand() % 5 == 0) { /* absent user key */
                meru_buf_reset(&key);
                sst_ukey(s, 2 * (meru_test_rand() % nkeys) + 1, &key);
                meru_ikey_append_seek_trailer(&key, 5);
            }
            size_t lb = sst_model_lower(m, key.data, key.len);
            if (what == 2) {
                it->ops->seek(it, key.data, key.len);
                at = lb;
            } else {
                it->ops->seek_for_prev(it, key.data, key.len);
                if (lb < m->n &&
                    meru_ikey_cmp(m->e[lb].ik.data, m->e[lb].ik.len, key.data,
                                  key.len) == 0)
                    at = lb;
                else
                    at = lb == 0 ? m->n : lb - 1;
            }
        } else if (at < m->n) {
            int n = 1 + (int)(meru_test_rand() % 40);
            int fwd = what < 7;
            for (int j = 0; j < n && at < m->n; j++) {
                if (fwd) {
                    it->ops->next(it);
                    at = at + 1;
                } else {
                    it->ops->prev(it);
                    at = at == 0 ? m->n : at - 1;
                }
            }
        }
        ok &= it->ops->status(it) == MERU_OK;
        ok &= it->ops->valid(it) == (at < m->n);
        if (ok && at < m->n) {
            size_t kl, vl;
            const uint8_t *k = it->ops->key(it, &kl);
            const uint8_t *v = it->ops->value(it, &vl);
            ok &= kl == m->e[at].ik.len && memcmp(k, m->e[at].ik.data, kl) == 0;
            ok &= vl == m->e[at].val.len &&
                  (vl == 0 || memcmp(v, m->e[at].val.data, vl) == 0);
        }
        if (!ok)
            fprintf(stderr, "step %d (op %d): model at %zu of %zu\n", step,
                    what, at, m->n);
    }
    meru_buf_free(&key);
    meru_iiter_destroy(it);
    int scan = scan_matches(t, m);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK(ok);
    CHECK(scan);
}

/* Projection: the selected columns decode to the written values, the
 * others to null (NOT NULL ones to a placeholder); keys are whole. */
static void test_projection_decodes_only_selected_columns(void)
{
    meru_schema *s = schema_all();
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    const char *path = path_in(meru_test_tmpdir("proj"), "p.parquet");
    sst_model *m = sst_model_make(s, 400, 1, 10, 20);
    CHECK(m);
    CHECK_OK(sst_model_write(m, fs, path, s, NULL, NULL));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    meru_colset proj;
    memset(&proj, 0, sizeof proj);
    size_t sel[] = {2, 6, 14}; /* i, s, dec38 */
    for (size_t j = 0; j < 3; j++)
        meru_colset_add(&proj, sel[j]);
    meru_iiter *it;
    CHECK_OK(meru_sst_iter_new(t, &proj, &it));
    size_t n = s->ncols;
    meru_value *got = calloc(n, sizeof *got), *want = calloc(n, sizeof *want);
    meru_buf sc1 = {0}, sc2 = {0};
    int ok = got && want;
    size_t i = 0;
    for (it->ops->seek_to_first(it); ok && it->ops->valid(it);
         it->ops->next(it), i++) {
        const sst_ent *e = &m->e[i];
        size_t kl, vl;
        it->ops->key(it, &kl);
        const uint8_t *v = it->ops->value(it, &vl);
        if (e->op == MERU_OP_DELETE) {
            ok &= vl == 0;
            continue;
        }
        /* decodes under the full schema too (placeholders keep NOT NULL
         * columns non-null) */
        ok &= meru_row_decode_view(s, e->ik.data, e->ulen, v, vl, NULL, got,
                                   &sc1) == MERU_OK;
        ok &= meru_row_decode_view(s, e->ik.data, e->ulen, e->val.data,
                                   e->val.len, NULL, want, &sc2) == MERU_OK;
        for (size_t c = 0; ok && c < n; c++) {
            int selected = c == 0 || meru_colset_has(&proj, c);
            if (selected) {
                ok &= got[c].state == want[c].state;
                if (ok && got[c].state == MERU_VALUE_PRESENT)
                    ok &=
                        meru_value_cmp(s->cols[c].type, &got[c], &want[c]) == 0;
            } else if (s->cols[c].nullable) {
                ok &= got[c].state == MERU_VALUE_NULL;
            }
        }
    }
    ok &= i == m->n && it->ops->status(it) == MERU_OK;
    free(got);
    free(want);
    meru_buf_free(&sc1);
    meru_buf_free(&sc2);
    meru_iiter_destroy(it);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK(ok);
}

/* A file written under schema A read with A + a nullable column + a
 * column with an initial default: old columns as written, the new ones
 * null / the default; a reader schema with fewer columns also works. */
static void test_schema_evolution_reads_added_columns_as_defaults(void)
{
    meru_schema *a = schema_composite();
    CHECK(a);
    meru_schema *b;
    CHECK_OK(meru_schema_clone(&b, a));
    CHECK_OK(meru_schema_add_column(b, "extra", MERU_TYPE_STRING, 1));
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    d.name = "since";
    d.type = MERU_TYPE_INT32;
    d.nullable = 0;
    d.initial_default = "42";
    d.write_default = "7";
    CHECK_OK(meru_schema_add_column_def(b, &d));
    CHECK_OK(meru_schema_validate(b));
    meru_fs *fs = meru_fs_posix();
    const char *path = path_in(meru_test_tmpdir("evo"), "e.parquet");
    sst_model *m = sst_model_make(a, 300, 2, 20, 20);
    CHECK(m);
    CHECK_OK(sst_model_write(m, fs, path, a, NULL, NULL));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, b, NULL));
    meru_iiter *it;
    CHECK_OK(meru_sst_iter_new(t, NULL, &it));
    meru_value got[8], want[8];
    meru_buf sc1 = {0}, sc2 = {0}, val = {0};
    int ok = 1;
    size_t i = 0;
    for (it->ops->seek_to_first(it); ok && it->ops->valid(it);
         it->ops->next(it), i++) {
        const sst_ent *e = &m->e[i];
        size_t vl;
        const uint8_t *v = it->ops->value(it, &vl);
        if (e->op == MERU_OP_DELETE)
            continue;
        ok &= meru_row_decode_view(b, e->ik.data, e->ulen, v, vl, NULL, got,
                                   &sc1) == MERU_OK;
        ok &= meru_row_decode_view(a, e->ik.data, e->ulen, e->val.data,
                                   e->val.len, NULL, want, &sc2) == MERU_OK;
        for (size_t c = 0; ok && c < a->ncols; c++) {
            ok &= got[c].state == want[c].state;
            if (ok && got[c].state == MERU_VALUE_PRESENT)
                ok &= meru_value_cmp(a->cols[c].type, &got[c], &want[c]) == 0;
        }
        ok &= got[5].state == MERU_VALUE_NULL;
        ok &= got[6].state == MERU_VALUE_PRESENT && got[6].u.i32 == 42;
    }
    ok &= i == m->n && it->ops->status(it) == MERU_OK;
    meru_iiter_destroy(it);
    /* get under the new schema */
    size_t last = m->n - 1;
    meru_sst_state st;
    CHECK_OK(meru_sst_get(t, m->e[last].ik.data, m->e[last].ulen, MERU_SEQ_MAX,
                          &st, NULL, &val, NULL));
    if (st == MERU_SST_FOUND) {
        ok &= meru_row_decode_view(b, m->e[last].ik.data, m->e[last].ulen,
                                   val.data, val.len, NULL, got,
                                   &sc1) == MERU_OK &&
              got[6].u.i32 == 42 && got[5].state == MERU_VALUE_NULL;
    }
    meru_sst_close(t);
    meru_buf_free(&sc1);
    meru_buf_free(&sc2);
    meru_buf_free(&val);
    sst_model_free(m);
    /* A NOT NULL column with no initial default cannot be read from a file
     * that lacks it. */
    meru_schema *c;
    CHECK_OK(meru_schema_clone(&c, a));
    CHECK_OK(meru_schema_add_column(c, "strict", MERU_TYPE_INT64, 0));
    int rc = meru_sst_open(&t, fs, path, c, NULL);
    meru_schema_free(c);
    meru_schema_free(a);
    meru_schema_free(b);
    CHECK(ok);
    CHECK_RC(rc, MERU_ECORRUPT);
}

static void test_writer_rejects_bad_input_and_stays_usable(void)
{
    meru_schema *s = schema_composite();
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    const char *dir = meru_test_tmpdir("wbad");
    char path[1024];
    snprintf(path, sizeof path, "%s/w.parquet", dir);
    sst_model *m = sst_model_make(s, 20, 1, 0, 0);
    CHECK(m);
    meru_sst_writer *w;
    CHECK_OK(meru_sst_writer_open(&w, fs, path, s, NULL));
    CHECK_OK(meru_sst_writer_add(w, m->e[1].ik.data, m->e[1].ik.len,
                                 m->e[1].val.data, m->e[1].val.len));
    /* equal and smaller keys */
    CHECK_RC(meru_sst_writer_add(w, m->e[1].ik.data, m->e[1].ik.len,
                                 m->e[1].val.data, m->e[1].val.len),
             MERU_EINVAL);
    CHECK_ERRMSG("strictly increasing");
    CHECK_RC(meru_sst_writer_add(w, m->e[0].ik.data, m->e[0].ik.len,
                                 m->e[0].val.data, m->e[0].val.len),
             MERU_EINVAL);
    /* a key too short to be internal, a user key of another schema, a
     * corrupt value */
    CHECK_RC(meru_sst_writer_add(w, (const uint8_t *)"abc", 3, NULL, 0),
             MERU_EINVAL);
    uint8_t junk[20];
    memset(junk, 0xee, sizeof junk);
    CHECK_RC(meru_sst_writer_add(w, junk, sizeof junk, NULL, 0), MERU_EINVAL);
    CHECK_RC(meru_sst_writer_add(w, m->e[2].ik.data, m->e[2].ik.len,
                                 (const uint8_t *)"\x01\x05", 2),
             MERU_EINVAL);
    CHECK_EQ_U64(meru_sst_writer_rows(w), 1);
    for (size_t i = 2; i < m->n; i++)
        CHECK_OK(meru_sst_writer_add(w, m->e[i].ik.data, m->e[i].ik.len,
                                     m->e[i].val.data, m->e[i].val.len));
    CHECK(meru_sst_writer_bytes(w) > 0);
    CHECK_OK(meru_sst_writer_finish(w, NULL));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    CHECK_EQ_U64(meru_sst_row_count(t), m->n - 1);
    meru_sst_close(t);
    /* the path exists now */
    CHECK_RC(meru_sst_writer_open(&w, fs, path, s, NULL), MERU_EEXIST);
    int exists = 0;
    CHECK_OK(meru_fs_exists(fs, path, &exists));
    CHECK(exists); /* a refused open never removes someone else's file */
    sst_model_free(m);
    meru_schema_free(s);
}

static void test_abort_and_empty_finish_remove_the_file(void)
{
    meru_schema *s = schema_all();
    CHECK(s);
    meru_fs *fs = meru_fs_posix();
    const char *dir = meru_test_tmpdir("abort");
    char path[1024];
    snprintf(path, sizeof path, "%s/x.parquet", dir);
    sst_model *m = sst_model_make(s, 5000, 1, 0, 0);
    CHECK(m);
    meru_sst_writer *w;
    int exists = 0;
    CHECK_OK(meru_sst_writer_open(&w, fs, path, s, NULL));
    for (size_t i = 0; i < m->n; i++)
        CHECK_OK(meru_sst_writer_add(w, m->e[i].ik.data, m->e[i].ik.len,
                                     m->e[i].val.data, m->e[i].val.len));
    CHECK_OK(meru_fs_exists(fs, path, &exists));
    CHECK(exists);
    meru_sst_writer_abort(w);
    CHECK_OK(meru_fs_exists(fs, path, &exists));
    CHECK(!exists);
    CHECK_OK(meru_sst_writer_open(&w, fs, path, s, NULL));
    CHECK_RC(meru_sst_writer_finish(w, NULL), MERU_EINVAL);
    CHECK_OK(meru_fs_exists(fs, path, &exists));
    CHECK(!exists);
    meru_sst_writer_abort(NULL);
    sst_model_free(m);
    meru_schema_free(s);
}

/* The same column read through the Iceberg type promotions: int -> long,
 * float -> double, decimal(5,1) -> decimal(12,1) (same scale). */
static void test_promoted_column_types_read(void)
{
    meru_schema *a = NULL, *b = NULL;
    CHECK_OK(meru_schema_parse(&a, "p",
                               "id int32 not null, x int32, f float, "
                               "d decimal(5,1)",
                               "id"));
    meru_column_def defs[3] = {MERU_COLUMN_DEF_INIT, MERU_COLUMN_DEF_INIT,
                               MERU_COLUMN_DEF_INIT};
    CHECK_OK(meru_schema_new(&b, "p"));
    meru_column_def id = MERU_COLUMN_DEF_INIT;
    id.name = "id";
    id.type = MERU_TYPE_INT32;
    id.nullable = 0;
    id.field_id = a->cols[0].field_id;
    CHECK_OK(meru_schema_add_column_def(b, &id));
    defs[0].name = "x";
    defs[0].type = MERU_TYPE_INT64;
    defs[0].field_id = a->cols[1].field_id;
    defs[1].name = "f";
    defs[1].type = MERU_TYPE_DOUBLE;
    defs[1].field_id = a->cols[2].field_id;
    defs[2].name = "d";
    defs[2].type = MERU_TYPE_DECIMAL;
    defs[2].precision = 12;
    defs[2].scale = 1;
    defs[2].field_id = a->cols[3].field_id;
    for (int i = 0; i < 3; i++)
        CHECK_OK(meru_schema_add_column_def(b, &defs[i]));
    const char *k = "id";
    CHECK_OK(meru_schema_set_primary_key(b, &k, 1));
    CHECK_OK(meru_schema_validate(b));

    const char *path = path_in(meru_test_tmpdir("promo"), "p.parquet");
    sst_model *m = sst_model_make(a, 200, 1, 0, 20);
    CHECK(m);
    CHECK_OK(sst_model_write(m, meru_fs_posix(), path, a, NULL, NULL));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, meru_fs_posix(), path, b, NULL));
    meru_iiter *it;
    CHECK_OK(meru_sst_iter_new(t, NULL, &it));
    meru_value got[4], want[4];
    meru_buf s1 = {0}, s2 = {0};
    int ok = 1;
    size_t i = 0;
    for (it->ops->seek_to_first(it); ok && it->ops->valid(it);
         it->ops->next(it), i++) {
        size_t vl;
        const uint8_t *v = it->ops->value(it, &vl);
        const sst_ent *e = &m->e[i];
        ok &= meru_row_decode_view(b, e->ik.data, e->ulen, v, vl, NULL, got,
                                   &s1) == MERU_OK;
        ok &= meru_row_decode_view(a, e->ik.data, e->ulen, e->val.data,
                                   e->val.len, NULL, want, &s2) == MERU_OK;
        for (int c = 1; ok && c < 4; c++)
            ok &= got[c].state == want[c].state;
        if (ok && want[1].state == MERU_VALUE_PRESENT)
            ok &= got[1].u.i64 == want[1].u.i32;
        if (ok && want[2].state == MERU_VALUE_PRESENT)
            ok &= got[2].u.f64 == (double)want[2].u.f32;
        if (ok && want[3].state == MERU_VALUE_PRESENT)
            ok &= got[3].u.dec.lo == want[3].u.dec.lo &&
                  got[3].u.dec.hi == want[3].u.dec.hi;
    }
    ok &= i == m->n && it->ops->status(it) == MERU_OK;
    meru_iiter_destroy(it);
    meru_sst_close(t);
    meru_buf_free(&s1);
    meru_buf_free(&s2);
    sst_model_free(m);
    /* an incompatible type is refused at open */
    meru_schema *c = NULL;
    CHECK_OK(meru_schema_parse(&c, "p", "id int32 not null, x string", "id"));
    c->cols[1].field_id = a->cols[1].field_id;
    int rc = meru_sst_open(&t, meru_fs_posix(), path, c, NULL);
    meru_schema_free(c);
    meru_schema_free(a);
    meru_schema_free(b);
    CHECK(ok);
    CHECK_RC(rc, MERU_ECORRUPT);
}

/* Seeks jump through the page index: a seek into the middle of a file of
 * hundreds of pages reads a handful of byte ranges (indexes + a page per
 * column), counted at the fs. So does a get. */
static void test_seek_and_get_read_near_the_target_only(void)
{
    meru_schema *s = schema_composite();
    CHECK(s);
    meru_fs *fs;
    CHECK_OK(meru_fs_fault_new(&fs, meru_fs_posix()));
    const char *path = path_in(meru_test_tmpdir("seekio"), "s.parquet");
    sst_model *m = sst_model_make(s, 4000, 1, 0, 0);
    CHECK(m);
    meru_options to;
    meru_options_init(&to);
    to.l0_page_bytes = 1024;
    meru_sst_options o;
    meru_sst_options_for_level(&o, 0, &to);
    CHECK_OK(sst_model_write(m, fs, path, s, &o, NULL));
    file_shape sh;
    CHECK_OK(shape_of(path, &sh));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, fs, path, s, NULL));
    meru_colset proj;
    memset(&proj, 0, sizeof proj);
    meru_colset_add(&proj, 3); /* v */
    meru_iiter *it;
    CHECK_OK(meru_sst_iter_new(t, &proj, &it));
    const sst_ent *e = &m->e[m->n / 2 + 17];
    meru_fs_fault_reset_counts(fs);
    it->ops->seek(it, e->ik.data, e->ik.len);
    uint64_t seek_reads = meru_fs_fault_count(fs, MERU_FS_OP_PREAD);
    size_t kl;
    const uint8_t *k = it->ops->valid(it) ? it->ops->key(it, &kl) : NULL;
    int hit = k && kl == e->ik.len && memcmp(k, e->ik.data, kl) == 0;
    meru_iiter_destroy(it);
    meru_fs_fault_reset_counts(fs);
    meru_buf val = {0};
    meru_sst_state st;
    int rc = meru_sst_get(t, e->ik.data, e->ulen, MERU_SEQ_MAX, &st, NULL, &val,
                          NULL);
    uint64_t get_reads = meru_fs_fault_count(fs, MERU_FS_OP_PREAD);
    meru_buf_free(&val);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
    meru_fs_free(fs);
    CHECK(sh.ikey_pages > 100);
    CHECK(hit);
    CHECK_OK(rc);
    CHECK_EQ_INT(st, MERU_SST_FOUND);
    /* column + offset index of the ikey, its page, the offset index and
     * page(s) of v: far fewer than the pages before the target */
    CHECK_MSG(seek_reads <= 12, "seek made %llu reads",
              (unsigned long long)seek_reads);
    CHECK_MSG(get_reads <= 16, "get made %llu reads",
              (unsigned long long)get_reads);
}

/* Golden files (the fuzz seeds, written by this code at L0 and L1): they
 * must keep reading the same. The hash covers every key and value as the
 * iterator returns them; gets agree with the iterator. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h;
}

static void test_golden_files_read_the_same(void)
{
    static const struct {
        const char *name;
        uint64_t rows, hash;
    } gold[] = {
        {"sst_l0.parquet", GOLD_L0_ROWS, GOLD_L0_HASH},
        {"sst_l1.parquet", GOLD_L1_ROWS, GOLD_L1_HASH},
    };
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t",
                               "k string not null, n int64 not null, "
                               "v string, d double, dec decimal(30,3), "
                               "nn int32 not null",
                               "k, n"));
    int ok = 1;
    for (int g = 0; g < 2 && ok; g++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/fuzz/corpus/fuzz_sst/%s",
                 MERU_SOURCE_DIR, gold[g].name);
        meru_sst *t;
        int rc = meru_sst_open(&t, meru_fs_posix(), path, s, NULL);
        if (rc) {
            fprintf(stderr, "%s: %s\n", path, meru_errmsg());
            ok = 0;
            break;
        }
        meru_iiter *it;
        CHECK_OK(meru_sst_iter_new(t, NULL, &it));
        uint64_t h = UINT64_C(14695981039346656037), n = 0;
        meru_buf val = {0};
        for (it->ops->seek_to_first(it); ok && it->ops->valid(it);
             it->ops->next(it), n++) {
            size_t kl, vl;
            const uint8_t *k = it->ops->key(it, &kl);
            const uint8_t *v = it->ops->value(it, &vl);
            h = fnv(fnv(h, k, kl), v, vl);
            uint64_t seq;
            int op;
            meru_sst_state st;
            uint64_t got = 0;
            ok &= meru_ikey_parse(k, kl, NULL, &seq, &op) == MERU_OK;
            ok &= meru_sst_get(t, k, kl - MERU_IKEY_TRAILER_LEN, seq, &st, &got,
                               &val, NULL) == MERU_OK;
            ok &= got == seq;
            if (op == MERU_OP_PUT)
                ok &= st == MERU_SST_FOUND && val.len == vl &&
                      memcmp(val.data, v, vl) == 0;
            else
                ok &= st == MERU_SST_DELETED;
        }
        ok &= it->ops->status(it) == MERU_OK;
        if (n != gold[g].rows || h != gold[g].hash) {
            fprintf(stderr, "%s: %llu rows, hash 0x%016llx\n", gold[g].name,
                    (unsigned long long)n, (unsigned long long)h);
            ok = 0;
        }
        meru_buf_free(&val);
        meru_iiter_destroy(it);
        meru_sst_close(t);
    }
    meru_schema_free(s);
    CHECK(ok);
}

int main(void)
{
    MERU_TEST_RUN(test_every_type_round_trips_at_l0);
    MERU_TEST_RUN(test_every_type_round_trips_at_l1);
    MERU_TEST_RUN(test_composite_keys_round_trip);
    MERU_TEST_RUN(test_single_entry_file);
    MERU_TEST_RUN(test_get_sees_the_version_at_its_read_sequence);
    MERU_TEST_RUN(test_absent_keys_are_answered_by_bloom_filters);
    MERU_TEST_RUN(test_get_reads_few_pages_of_a_multi_page_file);
    MERU_TEST_RUN(test_iterator_moves_match_the_model);
    MERU_TEST_RUN(test_seek_and_get_read_near_the_target_only);
    MERU_TEST_RUN(test_projection_decodes_only_selected_columns);
    MERU_TEST_RUN(test_schema_evolution_reads_added_columns_as_defaults);
    MERU_TEST_RUN(test_writer_rejects_bad_input_and_stays_usable);
    MERU_TEST_RUN(test_abort_and_empty_finish_remove_the_file);
    MERU_TEST_RUN(test_promoted_column_types_read);
    MERU_TEST_RUN(test_golden_files_read_the_same);
    return meru_test_finish();
}
