/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sst_keydir.c — the key directory of L1+ files (sst_keydir.c): the
 * same file opened without a budget (every answer from the ikey pages)
 * and with one (answers from the directory) must give identical batched
 * lookups (found keys, ops, sequences, row positions, values) and gets at
 * random read sequences, for single integer keys spanning the sign (no
 * shared prefix), composite keys long enough that many share their 8
 * bytes after the shared prefix (the page decides), fixed 100-byte keys
 * sharing a 92-byte prefix, several versions per key, deletes, keys
 * absent inside the range and outside it, several row groups. Also: the
 * directory decodes no ikey page once built (exact keys), a budget of 0
 * or too small for the file and L0 files keep the page path, the budget
 * is charged to the page cache and returned at close, a damaged ikey page
 * gives MERU_ECORRUPT exactly where the page path does (string keys; an
 * integer key's directory is built from its key, sequence and op columns
 * and answers past a damaged ikey page), a get waits for a build another
 * thread has under way, a cancelled build leaves the file for later, and
 * threads racing to the first get agree with
 * the model.
 *
 * MERU_TEST_CONCURRENT: also run under ThreadSanitizer.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parquet/pq.h"
#include "sst/sst.h"
#include "sst/sst_keydir.h"
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

static int ukey_cmp(const void *a, const void *b)
{
    const meru_buf *x = a, *y = b;
    return meru_ikey_cmp(x->data, x->len, y->data, y->len);
}

typedef struct spec {
    const char *name;
    const char *cols, *pk;
    int level;
    size_t nkeys;
    int max_versions, del_pct;
    uint64_t row_group_rows; /* 0: the profile's */
    int exact; /* every key has <= 8 bytes past the shared prefix */
} spec;

/* Writes the spec's file; *out its model. */
static void write_file(const spec *sp, const meru_schema *s, char *path,
                       size_t plen, sst_model **out)
{
    snprintf(path, plen, "%s/f.parquet", meru_test_tmpdir(sp->name));
    sst_model *m = sst_model_make(s, sp->nkeys, sp->max_versions, sp->del_pct,
                                  20);
    *out = m;
    CHECK(m);
    meru_options to;
    meru_options_init(&to);
    to.l0_page_bytes = 1024;
    to.page_bytes = 1024;
    to.page_rows = 97;
    meru_sst_options o;
    meru_sst_options_for_level(&o, sp->level, &to);
    if (sp->row_group_rows)
        o.pq.row_group_rows = sp->row_group_rows;
    CHECK_OK(sst_model_write(m, meru_fs_posix(), path, s, &o, NULL));
}

static int open_with(meru_sst **t, const char *path, const meru_schema *s,
                     meru_cache *c, meru_sst_keydir_budget *b)
{
    meru_sst_read_options ro = {true, b};
    return meru_sst_open_ex(t, meru_fs_posix(), path, s, c, &ro);
}

/* Values handed to value_fn, by keyset index. */
typedef struct got {
    meru_buf *val;
    int *calls;
} got;

static int on_value(void *arg, size_t key, uint64_t pos, const uint8_t *v,
                    size_t len)
{
    got *g = arg;
    (void)pos;
    g->calls[key]++;
    meru_buf_reset(&g->val[key]);
    return meru_buf_append(&g->val[key], v, len);
}

/* Sorted distinct user keys: every index (present and absent) with
 * probability 1/every, plus a key below and one above the range. */
static void make_keys(const meru_schema *s, const spec *sp, int every,
                      meru_buf *uk, size_t cap, size_t *count)
{
    size_t n = 0;
    for (size_t i = 0; i < cap; i++)
        meru_buf_reset(&uk[i]);
    for (uint64_t i = 0; i < 2 * sp->nkeys + 1 && n < cap - 2; i++)
        if (every <= 1 || meru_test_rand() % (uint64_t)every == 0)
            CHECK_OK(sst_ukey(s, i, &uk[n++]));
    CHECK_OK(sst_ukey(s, 0, &uk[n]));
    uk[n++].data[0] = 0x00;
    CHECK_OK(sst_ukey(s, 0, &uk[n]));
    uk[n++].data[0] = 0xff;
    qsort(uk, n, sizeof *uk, ukey_cmp);
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        if (d && ukey_cmp(&uk[d - 1], &uk[i]) == 0)
            continue;
        meru_buf tmp = uk[d];
        uk[d] = uk[i];
        uk[i] = tmp;
        d++;
    }
    *count = d;
}

/* One lookup of keys[0..n) in t; found/values out. */
static void lookup(meru_sst *t, const meru_schema *s, const meru_buf *uk,
                   size_t n, meru_sst_found *found, size_t *nf, got *g,
                   meru_sst_read_stats *st)
{
    meru_sst_ukey *keys = calloc(n, sizeof *keys);
    size_t *idx = calloc(n, sizeof *idx);
    CHECK(keys && idx);
    for (size_t i = 0; i < n; i++) {
        keys[i] = (meru_sst_ukey){uk[i].data, uk[i].len};
        idx[i] = i;
        if (g)
            g->calls[i] = 0;
    }
    meru_sst_keyset ks;
    CHECK_OK(meru_sst_keyset_init(&ks, s, keys, n));
    meru_sst_lookup_opts lo = {on_value, g, NULL};
    CHECK_OK(meru_sst_lookup_batch(t, &ks, idx, n, g ? &lo : NULL, found, nf,
                                   st));
    meru_sst_keyset_free(&ks);
    free(keys);
    free(idx);
}

/* get in `a` and `b` agree (rc, state, seq, value). */
static void same_get(meru_sst *a, meru_sst *b, const meru_buf *k,
                     uint64_t read_seq, meru_buf *va, meru_buf *vb)
{
    meru_sst_state sa, sb;
    uint64_t qa = 0, qb = 0;
    int ra = meru_sst_get(a, k->data, k->len, read_seq, &sa, &qa, va, NULL);
    int rb = meru_sst_get(b, k->data, k->len, read_seq, &sb, &qb, vb, NULL);
    CHECK_EQ_INT(ra, rb);
    CHECK_EQ_INT((int)sa, (int)sb);
    if (ra == MERU_OK && sa != MERU_SST_NOT_FOUND)
        CHECK_EQ_U64(qa, qb);
    if (ra == MERU_OK && sa == MERU_SST_FOUND)
        CHECK(va->len == vb->len && memcmp(va->data, vb->data, va->len) == 0);
}

static void run(const spec *sp)
{
    meru_schema *s = parse(sp->cols, sp->pk);
    CHECK(s);
    char path[1024];
    sst_model *m;
    write_file(sp, s, path, sizeof path, &m);
    meru_cache *cache;
    CHECK_OK(meru_cache_new(&cache, 16u << 20));
    meru_sst_keydir_budget bud;
    meru_sst_keydir_budget_init(&bud, cache, 12u << 20);
    meru_sst *pg, *kd; /* the page path, the directory */
    CHECK_OK(open_with(&pg, path, s, NULL, NULL));
    CHECK_OK(open_with(&kd, path, s, cache, &bud));
    CHECK_EQ_U64(meru_sst_keydir_bytes(kd), 0); /* lazily */

    size_t cap = 2 * sp->nkeys + 8;
    meru_buf *uk = calloc(cap, sizeof *uk);
    meru_buf *va = calloc(cap, sizeof *va), *vb = calloc(cap, sizeof *vb);
    int *ca = calloc(cap, sizeof *ca), *cb = calloc(cap, sizeof *cb);
    meru_sst_found *fa = calloc(cap, sizeof *fa), *fb = calloc(cap, sizeof *fb);
    CHECK(uk && va && vb && ca && cb && fa && fb);
    got ga = {va, ca}, gb = {vb, cb};
    for (int round = 0; round < 6; round++) {
        int every = round == 0 ? 1 : round < 3 ? 3 : 40;
        size_t n;
        make_keys(s, sp, every, uk, cap, &n);
        size_t na = 0, nb = 0;
        meru_sst_read_stats sa = {0, 0, 0}, sb = {0, 0, 0};
        lookup(pg, s, uk, n, fa, &na, &ga, &sa);
        lookup(kd, s, uk, n, fb, &nb, &gb, &sb);
        CHECK_EQ_U64(nb, na);
        for (size_t i = 0; i < na && i < nb; i++) {
            CHECK_EQ_U64(fb[i].key, fa[i].key);
            CHECK_EQ_INT(fb[i].op, fa[i].op);
            CHECK_EQ_U64(fb[i].seq, fa[i].seq);
            CHECK_EQ_U64(fb[i].pos, fa[i].pos);
            size_t k = fa[i].key;
            CHECK_EQ_INT(cb[k], ca[k]);
            if (ca[k])
                CHECK(va[k].len == vb[k].len &&
                      memcmp(va[k].data, vb[k].data, va[k].len) == 0);
            /* and the model agrees */
            size_t e = sst_model_get(m, uk[k].data, uk[k].len, MERU_SEQ_MAX);
            CHECK_EQ_U64(fa[i].pos, e);
        }
        if (sp->level >= 1)
            CHECK(meru_sst_keydir_bytes(kd) > 0);
        /* Once built, exact keys decode no ikey page at all. */
        meru_sst_read_stats s2 = {0, 0, 0}, s1 = {0, 0, 0};
        lookup(kd, s, uk, n, fb, &nb, NULL, &s2);
        lookup(pg, s, uk, n, fa, &na, NULL, &s1);
        CHECK_EQ_U64(nb, na);
        if (sp->exact && sp->level >= 1)
            CHECK_EQ_U64(s2.pages_read, 0);
        if (round == 0)
            CHECK(s1.pages_read > 0);
    }
    /* Gets at random read sequences, every key index (present, absent). */
    uint64_t lo = m->e[0].seq, hi = m->e[0].seq;
    for (size_t i = 0; i < m->n; i++) {
        lo = m->e[i].seq < lo ? m->e[i].seq : lo;
        hi = m->e[i].seq > hi ? m->e[i].seq : hi;
    }
    meru_buf k = {0};
    for (uint64_t i = 0; i < 2 * sp->nkeys + 1; i++) {
        meru_buf_reset(&k);
        CHECK_OK(sst_ukey(s, i, &k));
        same_get(pg, kd, &k, MERU_SEQ_MAX, &va[0], &vb[0]);
        uint64_t rs = lo - 1 + meru_test_rand() % (hi - lo + 3);
        same_get(pg, kd, &k, rs, &va[0], &vb[0]);
        size_t e = sst_model_get(m, k.data, k.len, MERU_SEQ_MAX);
        if (e != (size_t)-1) { /* just at and below a version */
            same_get(pg, kd, &k, m->e[e].seq, &va[0], &vb[0]);
            same_get(pg, kd, &k, m->e[e].seq - 1, &va[0], &vb[0]);
        }
        /* a key in the range that does not decode: refused by both */
        CHECK_OK(meru_buf_append(&k, "\x01", 1));
        same_get(pg, kd, &k, MERU_SEQ_MAX, &va[0], &vb[0]);
        k.len--;
        /* the model too, at rs */
        meru_sst_state st;
        uint64_t q = 0;
        CHECK_OK(meru_sst_get(kd, k.data, k.len, rs, &st, &q, NULL, NULL));
        size_t me = sst_model_get(m, k.data, k.len, rs);
        CHECK_EQ_INT((int)st, me == (size_t)-1 ? MERU_SST_NOT_FOUND
                              : m->e[me].op == MERU_OP_PUT ? MERU_SST_FOUND
                                                           : MERU_SST_DELETED);
    }
    meru_buf_free(&k);

    /* The budget holds the directory, charged to the cache, until close. */
    uint64_t bytes = meru_sst_keydir_bytes(kd);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), bytes);
    meru_cache_stats cs;
    meru_cache_stats_get(cache, &cs);
    CHECK(cs.bytes >= bytes);
    if (sp->level >= 1)
        CHECK(bytes >= 9 * (uint64_t)m->n);
    meru_sst_close(kd);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), 0);
    uint64_t before = cs.bytes;
    meru_cache_stats_get(cache, &cs);
    CHECK_EQ_U64(cs.bytes, before - bytes); /* the pages stay */

    for (size_t i = 0; i < cap; i++) {
        meru_buf_free(&uk[i]);
        meru_buf_free(&va[i]);
        meru_buf_free(&vb[i]);
    }
    free(uk);
    free(va);
    free(vb);
    free(ca);
    free(cb);
    free(fa);
    free(fb);
    meru_sst_close(pg);
    meru_cache_free(cache);
    sst_model_free(m);
    meru_schema_free(s);
}

static void test_keydir_int_key_across_the_sign(void)
{
    /* keys idx * 3 - 5000: negative and positive, no shared prefix */
    spec sp = {"kd_int", "id int64 not null, v string, n int32", "id", 1,
               2500, 3, 20, 0, 1};
    run(&sp);
}

static void test_keydir_several_row_groups(void)
{
    spec sp = {"kd_rg", "id int64 not null, v string, n int32", "id", 2,
               1200, 3, 25, 500, 1};
    run(&sp);
}

static void test_keydir_composite_long_keys(void)
{
    /* k1 "k<i/3>", a 16-byte decimal, an int32: keys of three indexes
     * share far more than 8 bytes, so the pages decide when they match */
    spec sp = {"kd_comp", "k1 string not null, k2 decimal(20,3) not null, "
                          "k3 int32 not null, v double, w binary",
               "k1, k2, k3", 1, 1500, 2, 15, 700, 0};
    run(&sp);
}

static void test_keydir_fixed_keys_sharing_a_long_prefix(void)
{
    spec sp = {"kd_fx", "fx fixed(100) not null, v string", "fx", 1, 600, 3,
               20, 0, 1};
    run(&sp);
}

static void test_keydir_l0_keeps_the_pages(void)
{
    spec sp = {"kd_l0", "id int64 not null, v string", "id", 0, 800, 2, 20,
               0, 1};
    run(&sp); /* checks equality; the directory stays unbuilt (bytes 0) */
    meru_schema *s = parse(sp.cols, sp.pk);
    char path[1024];
    sst_model *m;
    write_file(&sp, s, path, sizeof path, &m);
    meru_sst_keydir_budget bud;
    meru_sst_keydir_budget_init(&bud, NULL, 64u << 20);
    meru_sst *t;
    CHECK_OK(open_with(&t, path, s, NULL, &bud));
    meru_buf k = {0};
    CHECK_OK(sst_ukey(s, 2, &k));
    meru_sst_state st;
    CHECK_OK(meru_sst_get(t, k.data, k.len, MERU_SEQ_MAX, &st, NULL, NULL,
                          NULL));
    CHECK(st != MERU_SST_NOT_FOUND);
    CHECK_EQ_U64(meru_sst_keydir_bytes(t), 0);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), 0);
    meru_buf_free(&k);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
}

/* Pages of _merutable_ikey a lookup of every key decodes in a file opened
 * under a budget of `cap` bytes (twice: the second after any build). */
static void pages_under(const char *path, const meru_schema *s,
                        const spec *sp, uint64_t cap, uint64_t *bytes,
                        uint64_t *pages)
{
    meru_sst_keydir_budget bud;
    meru_sst_keydir_budget_init(&bud, NULL, cap);
    meru_sst *t;
    CHECK_OK(open_with(&t, path, s, NULL, &bud));
    size_t n = 2 * sp->nkeys + 8;
    meru_buf *uk = calloc(n, sizeof *uk);
    meru_sst_found *f = calloc(n, sizeof *f);
    CHECK(uk && f);
    make_keys(s, sp, 1, uk, n, &n);
    size_t nf;
    meru_sst_read_stats st = {0, 0, 0};
    lookup(t, s, uk, n, f, &nf, NULL, NULL);
    lookup(t, s, uk, n, f, &nf, NULL, &st);
    CHECK_EQ_U64(nf, sp->nkeys);
    *bytes = meru_sst_keydir_bytes(t);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), *bytes);
    meru_sst_close(t);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), 0);
    for (size_t i = 0; i < 2 * sp->nkeys + 8; i++)
        meru_buf_free(&uk[i]);
    free(uk);
    free(f);
    *pages = st.pages_read;
}

static void test_keydir_budget_decides(void)
{
    spec sp = {"kd_budget", "id int64 not null, v string", "id", 1, 2000, 2,
               20, 0, 1};
    meru_schema *s = parse(sp.cols, sp.pk);
    char path[1024];
    sst_model *m;
    write_file(&sp, s, path, sizeof path, &m);
    uint64_t big, none, small, b0, b1, b2;
    pages_under(path, s, &sp, 64u << 20, &b0, &big);
    pages_under(path, s, &sp, 0, &b1, &none);
    CHECK(b0 > 0);
    CHECK_EQ_U64(b1, 0);
    /* one byte short of the directory: not built either */
    pages_under(path, s, &sp, b0 - 1, &b2, &small);
    CHECK_EQ_U64(b2, 0);
    CHECK_EQ_U64(big, 0);
    CHECK(none > 0);
    CHECK_EQ_U64(small, none);
    sst_model_free(m);
    meru_schema_free(s);
}

/* Flips a byte near the end of page `page` of file column `col` (0 the
 * ikey, 1 the sequence, 2 the op) of row group 0. */
static void damage_page(const char *path, uint32_t col, size_t page)
{
    size_t len;
    uint8_t *bytes = meru_test_read_file(path, &len);
    CHECK(bytes);
    pq_mem mem;
    pq_source src;
    pq_reader *r;
    pq_source_mem(&src, &mem, bytes, len);
    CHECK_OK(pq_reader_open(&r, &src, NULL));
    const pq_offset_index *oi;
    CHECK_OK(pq_reader_offset_index(r, 0, col, &oi));
    CHECK(oi && oi->n_pages > page);
    uint64_t off = (uint64_t)oi->page_locations[page].offset +
                   (uint64_t)oi->page_locations[page].compressed_page_size -
                   20;
    pq_reader_close(r);
    bytes[off] ^= 0x5a;
    FILE *fp = fopen(path, "wb");
    CHECK(fp && fwrite(bytes, 1, len, fp) == len);
    fclose(fp);
    free(bytes);
}

/* A string key: the directory is built from the ikey column, so damage
 * there leaves the file on its pages, which report it. */
static void test_keydir_damaged_ikey_page(void)
{
    spec sp = {"kd_bad", "id string not null, v string", "id", 1, 2000, 2, 20,
               0, 1};
    meru_schema *s = parse(sp.cols, sp.pk);
    char path[1024];
    sst_model *m;
    write_file(&sp, s, path, sizeof path, &m);
    damage_page(path, 0, 2);

    meru_sst_keydir_budget bud;
    meru_sst_keydir_budget_init(&bud, NULL, 64u << 20);
    meru_sst *pg, *kd;
    CHECK_OK(open_with(&pg, path, s, NULL, NULL));
    CHECK_OK(open_with(&kd, path, s, NULL, &bud));
    /* Every key's get: the same answer as the pages, errors included. */
    meru_buf k = {0}, va = {0}, vb = {0};
    int bad = 0;
    for (uint64_t i = 0; i < 2 * sp.nkeys; i++) {
        meru_buf_reset(&k);
        CHECK_OK(sst_ukey(s, i, &k));
        meru_sst_state st;
        bad += meru_sst_get(pg, k.data, k.len, MERU_SEQ_MAX, &st, NULL, &va,
                            NULL) == MERU_ECORRUPT;
        same_get(pg, kd, &k, MERU_SEQ_MAX, &va, &vb);
    }
    CHECK(bad > 0);
    CHECK_EQ_U64(meru_sst_keydir_bytes(kd), 0);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), 0);
    /* A lookup over the damaged page reports it. */
    size_t n = 2 * sp.nkeys + 8, nf;
    meru_buf *uk = calloc(n, sizeof *uk);
    meru_sst_found *f = calloc(n, sizeof *f);
    CHECK(uk && f);
    make_keys(s, &sp, 1, uk, n, &n);
    meru_sst_ukey *keys = calloc(n, sizeof *keys);
    size_t *idx = calloc(n, sizeof *idx);
    CHECK(keys && idx);
    for (size_t i = 0; i < n; i++) {
        keys[i] = (meru_sst_ukey){uk[i].data, uk[i].len};
        idx[i] = i;
    }
    meru_sst_keyset ks;
    CHECK_OK(meru_sst_keyset_init(&ks, s, keys, n));
    CHECK_RC(meru_sst_lookup_batch(kd, &ks, idx, n, NULL, f, &nf, NULL),
             MERU_ECORRUPT);
    meru_sst_keyset_free(&ks);
    for (size_t i = 0; i < 2 * sp.nkeys + 8; i++)
        meru_buf_free(&uk[i]);
    free(uk);
    free(f);
    free(keys);
    free(idx);
    meru_buf_free(&k);
    meru_buf_free(&va);
    meru_buf_free(&vb);
    meru_sst_close(pg);
    meru_sst_close(kd);
    sst_model_free(m);
    meru_schema_free(s);
}

/* A single integer key: the directory is built from the key, sequence and
 * op columns, never the ikey column. With an ikey page damaged the pages
 * fail gets there, the directory answers them (as the model says); with
 * a sequence page damaged the build fails and gets agree with the pages
 * (which do not read that column for a get: both answer). */
static void test_keydir_int_key_built_from_key_columns(void)
{
    spec sp = {"kd_intcols", "id int64 not null, v string", "id", 1, 2000, 2,
               20, 0, 1};
    meru_schema *s = parse(sp.cols, sp.pk);
    char path[1024];
    sst_model *m;
    write_file(&sp, s, path, sizeof path, &m);
    damage_page(path, 0, 2);
    meru_sst_keydir_budget bud;
    meru_sst_keydir_budget_init(&bud, NULL, 64u << 20);
    meru_sst *pg, *kd;
    CHECK_OK(open_with(&pg, path, s, NULL, NULL));
    CHECK_OK(open_with(&kd, path, s, NULL, &bud));
    meru_buf k = {0}, v = {0};
    int bad = 0;
    for (uint64_t i = 0; i < 2 * sp.nkeys; i++) {
        meru_buf_reset(&k);
        CHECK_OK(sst_ukey(s, i, &k));
        meru_sst_state st;
        uint64_t q = 0;
        bad += meru_sst_get(pg, k.data, k.len, MERU_SEQ_MAX, &st, NULL, &v,
                            NULL) == MERU_ECORRUPT;
        CHECK_OK(meru_sst_get(kd, k.data, k.len, MERU_SEQ_MAX, &st, &q, &v,
                              NULL));
        size_t e = sst_model_get(m, k.data, k.len, MERU_SEQ_MAX);
        CHECK_EQ_INT((int)st, e == (size_t)-1 ? MERU_SST_NOT_FOUND
                              : m->e[e].op == MERU_OP_PUT ? MERU_SST_FOUND
                                                          : MERU_SST_DELETED);
        if (e != (size_t)-1)
            CHECK_EQ_U64(q, m->e[e].seq);
    }
    CHECK(bad > 0);
    CHECK(meru_sst_keydir_bytes(kd) > 0);
    meru_sst_close(pg);
    meru_sst_close(kd);

    /* Now a sequence page instead (a fresh file). */
    sst_model_free(m);
    sp.name = "kd_intseq";
    write_file(&sp, s, path, sizeof path, &m);
    damage_page(path, 1, 2);
    CHECK_OK(open_with(&pg, path, s, NULL, NULL));
    CHECK_OK(open_with(&kd, path, s, NULL, &bud));
    meru_buf va = {0};
    for (uint64_t i = 0; i < 2 * sp.nkeys; i++) {
        meru_buf_reset(&k);
        CHECK_OK(sst_ukey(s, i, &k));
        same_get(pg, kd, &k, MERU_SEQ_MAX, &va, &v);
    }
    CHECK_EQ_U64(meru_sst_keydir_bytes(kd), 0);
    /* The row groups' arrays were allocated (and charged) before the
     * pass met the damage, and gets may still read the good row groups'
     * rows: the charge is returned with the file. */
    meru_sst_close(pg);
    meru_sst_close(kd);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), 0);
    meru_buf_free(&k);
    meru_buf_free(&v);
    meru_buf_free(&va);
    sst_model_free(m);
    meru_schema_free(s);
}

static void test_keydir_int32_date_timestamp_keys(void)
{
    spec a = {"kd_i32", "id int32 not null, v string", "id", 1, 1500, 3, 20,
              0, 1};
    spec b = {"kd_date", "id date not null, v string", "id", 2, 1500, 2, 20,
              300, 1};
    spec c = {"kd_ts", "id timestamp not null, v string", "id", 1, 1500, 3,
              20, 0, 1};
    run(&a);
    run(&b);
    run(&c);
}

/* Lowers the decimal value of footer key `key` in the file at path in
 * place (same length: the Parquet footer has no checksum). */
static void lower_footer_number(const char *path, const char *key)
{
    FILE *f = fopen(path, "r+b");
    CHECK(f);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long n = ftell(f);
    CHECK(n > 0);
    uint8_t *b = malloc((size_t)n);
    CHECK(b);
    CHECK(fseek(f, 0, SEEK_SET) == 0);
    CHECK(fread(b, 1, (size_t)n, f) == (size_t)n);
    size_t kl = strlen(key), at = 0;
    for (size_t i = 0; i + kl <= (size_t)n && !at; i++)
        if (memcmp(b + i, key, kl) == 0)
            at = i + kl;
    CHECK(at > 0);
    /* The value: the next run of digits (after the Thrift field header
     * and length). */
    while (at < (size_t)n && !(b[at] >= '0' && b[at] <= '9'))
        at++;
    size_t end = at;
    while (end < (size_t)n && b[end] >= '0' && b[end] <= '9')
        end++;
    CHECK(end > at);
    size_t i = at;
    while (i < end && b[i] <= (i == at && end - at > 1 ? '1' : '0'))
        i++;
    CHECK(i < end);
    b[i]--;
    CHECK(fseek(f, (long)i, SEEK_SET) == 0);
    CHECK(fwrite(b + i, 1, 1, f) == 1);
    CHECK(fclose(f) == 0);
    free(b);
}

/* A file whose rows hold sequences above the footer's range (a footer
 * that lies, with pages that decode): the row group pass of an integer
 * key refuses it, and the pages answer every get as without a budget. */
static void test_keydir_int_key_refuses_sequences_out_of_range(void)
{
    spec sp = {"kd_seqrange", "id int64 not null, v string", "id", 1, 2000,
               2, 20, 300, 1};
    meru_schema *s = parse(sp.cols, sp.pk);
    char path[1024];
    sst_model *m;
    write_file(&sp, s, path, sizeof path, &m);
    lower_footer_number(path, "merutable.max-seq");
    meru_sst_keydir_budget bud;
    meru_sst_keydir_budget_init(&bud, NULL, 64u << 20);
    meru_sst *pg, *kd;
    CHECK_OK(open_with(&pg, path, s, NULL, NULL));
    CHECK_OK(open_with(&kd, path, s, NULL, &bud));
    CHECK(!meru_sst_keydir_build(kd, NULL));
    meru_buf k = {0}, va = {0}, vb = {0};
    for (uint64_t i = 0; i < 2 * sp.nkeys; i++) {
        meru_buf_reset(&k);
        CHECK_OK(sst_ukey(s, i, &k));
        same_get(pg, kd, &k, MERU_SEQ_MAX, &va, &vb);
    }
    CHECK_EQ_U64(meru_sst_keydir_bytes(kd), 0);
    CHECK_EQ_U64(atomic_load(&bud.built), 0);
    CHECK(atomic_load(&bud.page_gets) > 0);
    meru_sst_close(pg);
    meru_sst_close(kd);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), 0);
    meru_buf_free(&k);
    meru_buf_free(&va);
    meru_buf_free(&vb);
    sst_model_free(m);
    meru_schema_free(s);
}

/* A build the test holds inside the building thread (the test hook). */
static pthread_mutex_t hk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hk_cv = PTHREAD_COND_INITIALIZER;
static int hk_in, hk_go;
static uint32_t hk_rg; /* the row group held (UINT32_MAX: any build) */

static void hold_build(meru_sst *t, uint32_t rg)
{
    (void)t;
    if (hk_rg != UINT32_MAX && rg != hk_rg)
        return;
    pthread_mutex_lock(&hk_mu);
    hk_in = 1;
    pthread_cond_broadcast(&hk_cv);
    while (!hk_go)
        pthread_cond_wait(&hk_cv, &hk_mu);
    pthread_mutex_unlock(&hk_mu);
}

static void *bg_build(void *arg)
{
    return meru_sst_keydir_build(arg, NULL) ? arg : NULL;
}

typedef struct getter {
    meru_sst *t;
    const meru_buf *k;
    meru_sst_state st;
    uint64_t seq;
    int rc;
    int done; /* bg_get_done: finished (under hk_mu) */
} getter;

static void *bg_get(void *arg)
{
    getter *g = arg;
    g->rc = meru_sst_get(g->t, g->k->data, g->k->len, MERU_SEQ_MAX, &g->st,
                         &g->seq, NULL, NULL);
    return NULL;
}

/* A get that reaches a file whose directory another thread (the engine's
 * builder) is building waits for it rather than reading pages; a file
 * with no room for one is read through its pages (page_gets). */
static void test_keydir_get_waits_for_the_build_under_way(void)
{
    spec sp = {"kd_wait", "id int64 not null, v string", "id", 1, 1500, 2,
               20, 0, 1};
    meru_schema *s = parse(sp.cols, sp.pk);
    char path[1024];
    sst_model *m;
    write_file(&sp, s, path, sizeof path, &m);
    meru_sst_keydir_budget bud;
    meru_sst_keydir_budget_init(&bud, NULL, 64u << 20);
    meru_sst *kd;
    CHECK_OK(open_with(&kd, path, s, NULL, &bud));
    hk_rg = UINT32_MAX;
    hk_in = hk_go = 0;
    sst_keydir_test_hook = hold_build;
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, bg_build, kd) == 0);
    pthread_mutex_lock(&hk_mu);
    while (!hk_in)
        pthread_cond_wait(&hk_cv, &hk_mu);
    pthread_mutex_unlock(&hk_mu);
    sst_keydir_test_hook = NULL;
    meru_buf k = {0};
    CHECK_OK(sst_ukey(s, 2, &k)); /* present */
    getter g = {kd, &k, MERU_SST_NOT_FOUND, 0, -1, 0};
    CHECK(pthread_create(&tb, NULL, bg_get, &g) == 0);
    /* The get must come to wait (it cannot finish: the build is held). */
    for (int i = 0; i < 20000 && atomic_load(&bud.waits) == 0; i++)
        usleep(500);
    CHECK_EQ_U64(atomic_load(&bud.waits), 1);
    pthread_mutex_lock(&hk_mu);
    hk_go = 1;
    pthread_cond_broadcast(&hk_cv);
    pthread_mutex_unlock(&hk_mu);
    void *built = NULL;
    pthread_join(ta, &built);
    pthread_join(tb, NULL);
    CHECK(built == kd);
    CHECK_OK(g.rc);
    size_t e = sst_model_get(m, k.data, k.len, MERU_SEQ_MAX);
    CHECK(e != (size_t)-1);
    CHECK_EQ_U64(g.seq, m->e[e].seq);
    CHECK_EQ_U64(atomic_load(&bud.built), 1);
    CHECK_EQ_U64(atomic_load(&bud.page_gets), 0);
    meru_sst_close(kd);

    /* A cancelled build leaves the file as it was, to be built later. */
    atomic_bool cancel;
    atomic_init(&cancel, true);
    CHECK_OK(open_with(&kd, path, s, NULL, &bud));
    CHECK(!meru_sst_keydir_build(kd, &cancel));
    CHECK_EQ_U64(meru_sst_keydir_bytes(kd), 0);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), 0);
    CHECK_EQ_U64(atomic_load(&bud.built), 1);
    atomic_store(&cancel, false);
    CHECK(meru_sst_keydir_build(kd, &cancel));
    CHECK_EQ_U64(atomic_load(&bud.built), 2);
    meru_sst_close(kd);

    /* No room: the pages answer, and say so. */
    meru_sst_keydir_budget none;
    meru_sst_keydir_budget_init(&none, NULL, 0);
    CHECK_OK(open_with(&kd, path, s, NULL, &none));
    meru_sst_state st;
    CHECK_OK(meru_sst_get(kd, k.data, k.len, MERU_SEQ_MAX, &st, NULL, NULL,
                          NULL));
    CHECK(st != MERU_SST_NOT_FOUND);
    CHECK_EQ_U64(atomic_load(&none.page_gets), 1);
    CHECK_EQ_U64(atomic_load(&none.built), 0);
    meru_sst_close(kd);
    meru_buf_free(&k);
    sst_model_free(m);
    meru_schema_free(s);
}

/* An integer key's directory is built row group by row group: while the
 * builder is held inside row group 0, a get of a key in the last row group
 * builds that row group itself and answers from the directory (no wait,
 * no page path), a get of a key in row group 0 waits for it, and the
 * builder then finishes the file without the row group the get built. */
static void *bg_get_done(void *arg)
{
    getter *g = arg;
    bg_get(g);
    pthread_mutex_lock(&hk_mu);
    g->done = 1;
    pthread_cond_broadcast(&hk_cv);
    pthread_mutex_unlock(&hk_mu);
    return NULL;
}

static void test_keydir_get_builds_its_row_group(void)
{
    spec sp = {"kd_rgget", "id int64 not null, v string", "id", 1, 3000, 2,
               20, 400, 1};
    meru_schema *s = parse(sp.cols, sp.pk);
    char path[1024];
    sst_model *m;
    write_file(&sp, s, path, sizeof path, &m);
    meru_sst_keydir_budget bud;
    meru_sst_keydir_budget_init(&bud, NULL, 64u << 20);
    meru_sst *kd;
    CHECK_OK(open_with(&kd, path, s, NULL, &bud));
    meru_sst_info info;
    meru_sst_get_info(kd, &info);
    CHECK(info.row_groups >= 4);
    hk_rg = 0;
    hk_in = hk_go = 0;
    sst_keydir_test_hook = hold_build;
    pthread_t ta, tb, tc;
    CHECK(pthread_create(&ta, NULL, bg_build, kd) == 0);
    pthread_mutex_lock(&hk_mu);
    while (!hk_in)
        pthread_cond_wait(&hk_cv, &hk_mu);
    pthread_mutex_unlock(&hk_mu);

    /* The last key: its row group is nobody's yet, so the get builds it
     * and finishes while the builder is still held. */
    const sst_ent *last = &m->e[m->n - 1];
    meru_buf kl = {0}, kf = {0};
    CHECK_OK(meru_buf_append(&kl, last->ik.data, last->ulen));
    getter gl = {kd, &kl, MERU_SST_NOT_FOUND, 0, -1, 0};
    CHECK(pthread_create(&tb, NULL, bg_get_done, &gl) == 0);
    pthread_mutex_lock(&hk_mu);
    for (int i = 0; i < 60 && !gl.done; i++) { /* at most a minute */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&hk_cv, &hk_mu, &ts);
    }
    int done = gl.done;
    pthread_mutex_unlock(&hk_mu);
    CHECK(done); /* it did not wait for row group 0 */
    CHECK_EQ_U64(atomic_load(&bud.waits), 0);
    CHECK_EQ_U64(atomic_load(&bud.page_gets), 0);
    CHECK_EQ_U64(atomic_load(&bud.built), 0); /* not whole yet */
    CHECK_EQ_U64(meru_sst_keydir_bytes(kd), 0);
    CHECK(meru_sst_keydir_budget_used(&bud) > 0); /* charged up front */
    CHECK_OK(gl.rc);
    size_t e = sst_model_get(m, kl.data, kl.len, MERU_SEQ_MAX);
    CHECK(e != (size_t)-1);
    CHECK_EQ_U64(gl.seq, m->e[e].seq);

    /* The first key: its row group is the builder's, held: the get waits. */
    CHECK_OK(meru_buf_append(&kf, m->e[0].ik.data, m->e[0].ulen));
    getter gf = {kd, &kf, MERU_SST_NOT_FOUND, 0, -1, 0};
    CHECK(pthread_create(&tc, NULL, bg_get_done, &gf) == 0);
    for (int i = 0; i < 20000 && atomic_load(&bud.waits) == 0; i++)
        usleep(500);
    CHECK_EQ_U64(atomic_load(&bud.waits), 1);
    sst_keydir_test_hook = NULL;
    pthread_mutex_lock(&hk_mu);
    hk_go = 1;
    pthread_cond_broadcast(&hk_cv);
    pthread_mutex_unlock(&hk_mu);
    void *built = NULL;
    pthread_join(ta, &built);
    pthread_join(tb, NULL);
    pthread_join(tc, NULL);
    CHECK(built == kd);
    CHECK_OK(gf.rc);
    e = sst_model_get(m, kf.data, kf.len, MERU_SEQ_MAX);
    CHECK(e != (size_t)-1);
    CHECK_EQ_U64(gf.seq, m->e[e].seq);
    CHECK_EQ_U64(atomic_load(&bud.built), 1);
    CHECK_EQ_U64(atomic_load(&bud.page_gets), 0);
    CHECK(meru_sst_keydir_bytes(kd) > 0);
    CHECK_EQ_U64(meru_sst_keydir_bytes(kd), meru_sst_keydir_budget_used(&bud));

    /* Every key (present, absent, every version) agrees with the pages. */
    meru_sst *pg;
    CHECK_OK(open_with(&pg, path, s, NULL, NULL));
    meru_buf k = {0}, va = {0}, vb = {0};
    for (uint64_t i = 0; i < 2 * sp.nkeys; i++) {
        meru_buf_reset(&k);
        CHECK_OK(sst_ukey(s, i, &k));
        same_get(pg, kd, &k, MERU_SEQ_MAX, &va, &vb);
    }
    meru_sst_close(pg);
    meru_sst_close(kd);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), 0);
    hk_rg = UINT32_MAX;
    meru_buf_free(&k);
    meru_buf_free(&va);
    meru_buf_free(&vb);
    meru_buf_free(&kl);
    meru_buf_free(&kf);
    sst_model_free(m);
    meru_schema_free(s);
}

/* Threads racing to the first gets of a file (one builds the directory,
 * the others wait for it, then everyone reads the directory). */
typedef struct race {
    meru_sst *t;
    const meru_schema *s;
    const sst_model *m;
    size_t nkeys;
    uint64_t from; /* the first key index (racers start apart) */
    int bad;
} race;

static void *racer(void *arg)
{
    race *r = arg;
    meru_buf k = {0}, v = {0};
    for (uint64_t j = 0; j < 2 * r->nkeys + 1; j++) {
        uint64_t i = (r->from + j) % (2 * r->nkeys + 1);
        meru_buf_reset(&k);
        if (sst_ukey(r->s, i, &k)) {
            r->bad++;
            break;
        }
        meru_sst_state st;
        uint64_t q = 0;
        size_t e = sst_model_get(r->m, k.data, k.len, MERU_SEQ_MAX);
        if (meru_sst_get(r->t, k.data, k.len, MERU_SEQ_MAX, &st, &q, &v,
                         NULL) != MERU_OK ||
            (e == (size_t)-1) != (st == MERU_SST_NOT_FOUND) ||
            (e != (size_t)-1 && q != r->m->e[e].seq))
            r->bad++;
    }
    meru_buf_free(&k);
    meru_buf_free(&v);
    return NULL;
}

/* Threads racing to the first gets of a file of several row groups, and
 * a builder: each row group is built once, by whoever claims it (the
 * others wait for it); everyone reads the same answers. */
static void test_keydir_threads_race_to_build(void)
{
    spec sp = {"kd_race", "id int64 not null, v string", "id", 1, 3000, 2, 20,
               300, 1};
    meru_schema *s = parse(sp.cols, sp.pk);
    char path[1024];
    sst_model *m;
    write_file(&sp, s, path, sizeof path, &m);
    meru_cache *cache;
    CHECK_OK(meru_cache_new(&cache, 8u << 20));
    meru_sst_keydir_budget bud;
    meru_sst_keydir_budget_init(&bud, cache, 4u << 20);
    meru_sst *t;
    CHECK_OK(open_with(&t, path, s, cache, &bud));
    race r[4];
    pthread_t th[4], tb;
    for (int i = 0; i < 4; i++) {
        r[i] = (race){t, s, m, sp.nkeys, (uint64_t)i * sp.nkeys / 2, 0};
        CHECK(pthread_create(&th[i], NULL, racer, &r[i]) == 0);
    }
    CHECK(pthread_create(&tb, NULL, bg_build, t) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(r[i].bad, 0);
    }
    void *built = NULL;
    pthread_join(tb, &built);
    CHECK(built == t);
    CHECK(meru_sst_keydir_bytes(t) > 0);
    CHECK_EQ_U64(atomic_load(&bud.built), 1);
    CHECK_EQ_U64(atomic_load(&bud.page_gets), 0);
    meru_sst_close(t);
    CHECK_EQ_U64(meru_sst_keydir_budget_used(&bud), 0);
    meru_cache_free(cache);
    sst_model_free(m);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_keydir_int_key_across_the_sign);
    MERU_TEST_RUN(test_keydir_several_row_groups);
    MERU_TEST_RUN(test_keydir_composite_long_keys);
    MERU_TEST_RUN(test_keydir_fixed_keys_sharing_a_long_prefix);
    MERU_TEST_RUN(test_keydir_l0_keeps_the_pages);
    MERU_TEST_RUN(test_keydir_budget_decides);
    MERU_TEST_RUN(test_keydir_damaged_ikey_page);
    MERU_TEST_RUN(test_keydir_int_key_built_from_key_columns);
    MERU_TEST_RUN(test_keydir_int32_date_timestamp_keys);
    MERU_TEST_RUN(test_keydir_int_key_refuses_sequences_out_of_range);
    MERU_TEST_RUN(test_keydir_get_waits_for_the_build_under_way);
    MERU_TEST_RUN(test_keydir_get_builds_its_row_group);
    MERU_TEST_RUN(test_keydir_threads_race_to_build);
    return meru_test_finish();
}
