/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_dbiter.c — the user view over a merged iterator (dbiter.h).
 *
 * Reference: all entries sorted by internal key; for each user key the first
 * (newest) version with seq <= read_seq, kept if it is a put inside the
 * bounds. The dbiter over a merge of fakes and memtables must return
 * exactly that list, or its reverse. Bounds are drawn the way the engine
 * makes them: stored keys, absent full keys, prefixes (no terminator) and
 * prefix successors, the empty key; each inclusive or not. Key spaces range
 * from one hot key with hundreds of versions (the reseek paths) to many
 * keys with one version each.
 *
 * MERU_TEST_CONCURRENT: one test scans a memtable (through the adapter)
 * while a writer adds to it, each scan at the sequence published so far.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dbiter.h"
#include "engine/merge.h"
#include "test.h"
#include "types/keycodec.h"
#include "util/endian.h"
#include "util/error.h"
#include "vec_iter.h"

typedef struct bound {
    bool has;
    bool incl;
    uint8_t b[VEC_UK_MAX + 1];
    size_t len;
} bound;

static void rand_bound(bound *bd, const vec_entry *ref, size_t n)
{
    memset(bd, 0, sizeof *bd);
    unsigned kind = (unsigned)(meru_test_rand() % 7);
    bd->incl = meru_test_rand() % 2;
    bd->has = kind != 0;
    if (kind == 1 && n) { /* a stored user key */
        const vec_entry *e = &ref[meru_test_rand() % n];
        bd->len = e->iklen - MERU_IKEY_TRAILER_LEN;
        memcpy(bd->b, e->ik, bd->len);
    } else if (kind == 2 || (kind == 1 && !n)) { /* a full key, maybe absent */
        bd->len = vec_rand_ukey(bd->b, 4, 3);
    } else if (kind == 3 || kind == 4) { /* a prefix, or its successor */
        static const uint8_t sym[4] = {0x01, 0x02, 0x7f, 0xff};
        bd->len = 1 + (size_t)(meru_test_rand() % 3);
        for (size_t i = 0; i < bd->len; i++)
            bd->b[i] = sym[meru_test_rand() % 4];
        if (kind == 4) {
            while (bd->len && bd->b[bd->len - 1] == 0xff)
                bd->len--;
            if (bd->len)
                bd->b[bd->len - 1]++;
            else
                bd->has = false; /* no successor: unbounded */
        }
    } else if (kind == 5) { /* the empty key */
        bd->len = 0;
    } else {
        bd->has = false;
    }
}

static bool in_bounds(const bound *lo, const bound *hi, const uint8_t *k,
                      size_t len)
{
    if (lo->has) {
        int c = meru_ikey_cmp(k, len, lo->b, lo->len);
        if (c < 0 || (c == 0 && !lo->incl))
            return false;
    }
    if (hi->has) {
        int c = meru_ikey_cmp(k, len, hi->b, hi->len);
        if (c > 0 || (c == 0 && !hi->incl))
            return false;
    }
    return true;
}

/* Indices into ref of the expected rows, in forward order. */
static size_t expected(const vec_entry *ref, size_t n, uint64_t read_seq,
                       const bound *lo, const bound *hi, size_t *out)
{
    size_t nout = 0;
    for (size_t i = 0; i < n;) {
        size_t ul = ref[i].iklen - MERU_IKEY_TRAILER_LEN, j = i;
        size_t vis = n;
        while (j < n && ref[j].iklen - MERU_IKEY_TRAILER_LEN == ul &&
               memcmp(ref[j].ik, ref[i].ik, ul) == 0) {
            if (vis == n && ref[j].seq <= read_seq)
                vis = j;
            j++;
        }
        if (vis < n && ref[vis].op == MERU_OP_PUT &&
            in_bounds(lo, hi, ref[i].ik, ul))
            out[nout++] = vis;
        i = j;
    }
    return nout;
}

static void make_entries(vec_entry *e, size_t n, unsigned alpha, size_t maxlen,
                         size_t nchild)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t uk[VEC_UK_MAX];
        size_t ul = vec_rand_ukey(uk, alpha, maxlen);
        int op = meru_test_rand() % 4 ? MERU_OP_PUT : MERU_OP_DELETE;
        vec_make(&e[i], uk, ul, i, op, (int)(meru_test_rand() % nchild));
    }
}

static void fill_opts(meru_dbiter_options *o, uint64_t read_seq,
                      const bound *lo, const bound *hi, bool reverse)
{
    memset(o, 0, sizeof *o);
    o->read_seq = read_seq;
    o->has_lower = lo->has;
    o->lower = lo->b;
    o->lower_len = lo->len;
    o->lower_inclusive = lo->incl;
    o->has_upper = hi->has;
    o->upper = hi->b;
    o->upper_len = hi->len;
    o->upper_inclusive = hi->incl;
    o->reverse = reverse;
}

/* Runs one dbiter and compares it with the expected rows. */
static void run_one(const vec_entry *e, size_t n, const vec_entry *ref,
                    size_t nchild, bool use_mt, uint64_t read_seq,
                    const bound *lo, const bound *hi, bool reverse, size_t *exp)
{
    meru_iiter *m;
    CHECK_OK(vec_merge_of(e, n, nchild, use_mt, SIZE_MAX, -1, &m));
    meru_dbiter_options o;
    fill_opts(&o, read_seq, lo, hi, reverse);
    meru_dbiter *d;
    CHECK_OK(meru_dbiter_new(m, &o, &d));
    size_t ne = expected(ref, n, read_seq, lo, hi, exp);
    for (size_t i = 0; i < ne; i++) {
        const vec_entry *x = &ref[exp[reverse ? ne - 1 - i : i]];
        const uint8_t *k, *v;
        size_t kl, vl;
        /* Half the rows without the value, fetched afterwards (the scan's
         * way); these sources have no direct values. */
        bool later = meru_test_rand() % 2;
        int rc = later ? meru_dbiter_next(d, &k, &kl, NULL, NULL)
                       : meru_dbiter_next(d, &k, &kl, &v, &vl);
        CHECK_MSG(rc == MERU_OK, "row %zu of %zu: rc %d (reverse %d)", i, ne,
                  rc, reverse);
        if (later) {
            meru_value vals[4];
            CHECK_RC(meru_dbiter_values(d, vals), MERU_NOT_FOUND);
            meru_dbiter_value(d, &v, &vl);
        }
        CHECK_EQ_U64(kl, x->iklen - MERU_IKEY_TRAILER_LEN);
        CHECK_MEM(k, x->ik, kl);
        CHECK_EQ_U64(vl, x->vlen);
        CHECK_MEM(v, x->val, vl);
    }
    const uint8_t *k, *v;
    size_t kl, vl;
    CHECK_RC(meru_dbiter_next(d, &k, &kl, &v, &vl), MERU_NOT_FOUND);
    CHECK_RC(meru_dbiter_next(d, &k, &kl, &v, &vl), MERU_NOT_FOUND);
    meru_dbiter_free(d);
}

static void test_dbiter_matches_reference(void)
{
    static const struct {
        unsigned alpha;
        size_t maxlen;
    } spaces[] = {{1, 1}, {2, 1}, {2, 2}, {3, 3}, {4, 4}};
    size_t rounds = (size_t)(40 * meru_test_scale()) + 5;
    for (size_t round = 0; round < rounds; round++) {
        size_t n = (size_t)(meru_test_rand() % 400);
        size_t nchild = 1 + (size_t)(meru_test_rand() % 5);
        bool use_mt = meru_test_rand() % 2;
        size_t sp = round % (sizeof spaces / sizeof spaces[0]);
        vec_entry *e = calloc(n + 1, sizeof *e);
        vec_entry *ref = calloc(n + 1, sizeof *ref);
        size_t *exp = calloc(n + 1, sizeof *exp);
        CHECK(e && ref && exp);
        make_entries(e, n, spaces[sp].alpha, spaces[sp].maxlen, nchild);
        memcpy(ref, e, n * sizeof *e);
        qsort(ref, n, sizeof *ref, vec_entry_cmp);
        for (int q = 0; q < 30 && !meru_test_failed_current; q++) {
            uint64_t read_seq;
            unsigned r = (unsigned)(meru_test_rand() % 8);
            if (r == 0)
                read_seq = UINT64_MAX;
            else if (r == 1)
                read_seq = 0;
            else
                read_seq = meru_test_rand() % (n + 2);
            bound lo, hi;
            rand_bound(&lo, ref, n);
            rand_bound(&hi, ref, n);
            run_one(e, n, ref, nchild, use_mt, read_seq, &lo, &hi,
                    meru_test_rand() % 2, exp);
        }
        free(e);
        free(ref);
        free(exp);
        if (meru_test_failed_current)
            return;
    }
}

/* One key, many versions, read in the middle: both reseek paths (too new,
 * already decided) in both directions, next to neighbours; one neighbour
 * has many versions all newer than most reads (walked backwards right
 * after the hot key's row is decided). */
static void test_dbiter_hot_key_versions(void)
{
    size_t n = 0;
    vec_entry e[700];
    const uint8_t a[] = {0x01, 0x00}, hot[] = {0x02, 0x00}, z[] = {0x7f, 0x00};
    const uint8_t b[] = {0x01, 0x01, 0x00}, c[] = {0x01, 0x02, 0x00};
    vec_make(&e[n++], a, 2, 1, MERU_OP_PUT, 0);
    for (uint64_t s = 0; s < 40; s++)
        vec_make(&e[n++], b, 3, 601 + s, MERU_OP_PUT, (int)(s % 2));
    for (uint64_t s = 3; s < 6; s++) /* few versions, right after b */
        vec_make(&e[n++], c, 3, s, MERU_OP_PUT, (int)(s % 3));
    for (uint64_t s = 10; s < 600; s++)
        vec_make(&e[n++], hot, 2, s, s % 50 == 7 ? MERU_OP_DELETE : MERU_OP_PUT,
                 (int)(s % 3));
    vec_make(&e[n++], z, 2, 600, MERU_OP_PUT, 1);
    vec_entry ref[700];
    size_t exp[700];
    memcpy(ref, e, n * sizeof *e);
    qsort(ref, n, sizeof *ref, vec_entry_cmp);
    bound none = {0}, lo = {.has = true, .incl = false, .len = 2};
    memcpy(lo.b, hot, 2);
    const uint64_t seqs[] = {0,   1,   2,   4,   7,   8,   10,        11,
                             300, 307, 599, 600, 610, 640, UINT64_MAX};
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        for (int rev = 0; rev < 2; rev++) {
            run_one(e, n, ref, 3, true, seqs[i], &none, &none, rev, exp);
            run_one(e, n, ref, 3, false, seqs[i], &lo, &none, rev, exp);
            lo.incl = true;
            run_one(e, n, ref, 3, false, seqs[i], &none, &lo, rev, exp);
            lo.incl = false;
            run_one(e, n, ref, 3, false, seqs[i], &none, &lo, rev, exp);
            if (meru_test_failed_current)
                return;
        }
    }
}

/* A child failing mid-way: rows before the failure are right, then next()
 * returns the error, and keeps returning it. */
static void test_dbiter_returns_child_error(void)
{
    size_t n = 300;
    vec_entry *e = calloc(n, sizeof *e);
    vec_entry *ref = calloc(n, sizeof *ref);
    size_t *exp = calloc(n, sizeof *exp);
    CHECK(e && ref && exp);
    bound none = {0};
    /* Many keys, then two keys with ~150 versions each (reseeks). */
    for (int space = 0; space < 2; space++) {
        make_entries(e, n, space ? 1 : 3, space ? 2 : 3, 3);
        memcpy(ref, e, n * sizeof *e);
        qsort(ref, n, sizeof *ref, vec_entry_cmp);
        for (long fail_in = 0; fail_in < 60; fail_in += 3) {
            for (int rev = 0; rev < 2; rev++) {
                meru_iiter *m;
                CHECK_OK(vec_merge_of(e, n, 3, true, 1, fail_in, &m));
                meru_dbiter_options o;
                fill_opts(&o, UINT64_MAX, &none, &none, rev);
                meru_dbiter *d;
                CHECK_OK(meru_dbiter_new(m, &o, &d));
                size_t ne = expected(ref, n, UINT64_MAX, &none, &none, exp);
                size_t i = 0;
                int rc;
                const uint8_t *k, *v;
                size_t kl, vl;
                while ((rc = meru_dbiter_next(d, &k, &kl, &v, &vl)) ==
                       MERU_OK) {
                    CHECK(i < ne);
                    const vec_entry *x = &ref[exp[rev ? ne - 1 - i : i]];
                    CHECK_EQ_U64(kl, x->iklen - MERU_IKEY_TRAILER_LEN);
                    CHECK_MEM(k, x->ik, kl);
                    i++;
                }
                if (rc == MERU_NOT_FOUND && space == 1 && fail_in > 2) {
                    /* Reseeks move a child only a few times over two keys:
                     * the failure may not be reached, then all is there. */
                    CHECK_EQ_U64(i, ne);
                } else {
                    CHECK_RC(rc, MERU_EIO);
                    CHECK_RC(meru_dbiter_next(d, &k, &kl, &v, &vl), MERU_EIO);
                }
                meru_dbiter_free(d);
            }
        }
    }
    free(e);
    free(ref);
    free(exp);
}

static void test_dbiter_empty_and_bounds_copied(void)
{
    meru_iiter *m;
    CHECK_OK(meru_merge_iter_new(NULL, 0, &m));
    meru_dbiter_options o = {.read_seq = 5};
    meru_dbiter *d;
    CHECK_OK(meru_dbiter_new(m, &o, &d));
    const uint8_t *k, *v;
    size_t kl, vl;
    CHECK_RC(meru_dbiter_next(d, &k, &kl, &v, &vl), MERU_NOT_FOUND);
    meru_dbiter_free(d);
    meru_dbiter_free(NULL);

    /* Bounds are copied at creation: scribbling on them later is fine. */
    vec_entry e[3];
    const uint8_t a[] = {0x01, 0x00}, b[] = {0x02, 0x00}, c[] = {0x7f, 0x00};
    vec_make(&e[0], a, 2, 1, MERU_OP_PUT, 0);
    vec_make(&e[1], b, 2, 2, MERU_OP_PUT, 0);
    vec_make(&e[2], c, 2, 3, MERU_OP_PUT, 0);
    CHECK_OK(vec_merge_of(e, 3, 1, false, SIZE_MAX, -1, &m));
    uint8_t lo[2] = {0x02, 0x00};
    o = (meru_dbiter_options){.read_seq = 9,
                              .has_lower = true,
                              .lower = lo,
                              .lower_len = 2,
                              .lower_inclusive = true};
    CHECK_OK(meru_dbiter_new(m, &o, &d));
    lo[0] = 0x7f;
    CHECK_OK(meru_dbiter_next(d, &k, &kl, &v, &vl));
    CHECK_EQ_U64(kl, 2);
    CHECK_MEM(k, b, 2);
    CHECK_OK(meru_dbiter_next(d, &k, &kl, &v, &vl));
    CHECK_MEM(k, c, 2);
    CHECK_RC(meru_dbiter_next(d, &k, &kl, &v, &vl), MERU_NOT_FOUND);
    meru_dbiter_free(d);
}

/* ------------------------------------------- scans during writes */

#define LIVE_KEYS 40

typedef struct live {
    meru_memtable *m;
    size_t n;        /* writes: seqs 1..n */
    uint8_t *key_of; /* [seq]: key index */
    uint8_t *op_of;  /* [seq] */
    atomic_uint_fast64_t published;
    atomic_int writer_rc;
} live;

typedef struct live_reader {
    live *lv;
    uint64_t seed;
    int bad;
    unsigned scans;
} live_reader;

static void live_key(unsigned i, uint8_t k[2])
{
    k[0] = (uint8_t)(1 + i);
    k[1] = 0x00;
}

static void *live_writer(void *p)
{
    live *lv = p;
    for (size_t s = 1; s <= lv->n; s++) {
        uint8_t k[2], v[8];
        live_key(lv->key_of[s], k);
        meru_store_be64(v, s);
        int rc = meru_memtable_add(lv->m, s, lv->op_of[s], k, 2, v,
                                   lv->op_of[s] == MERU_OP_PUT ? 8 : 0);
        if (rc) {
            atomic_store(&lv->writer_rc, rc);
            break;
        }
        atomic_store_explicit(&lv->published, s, memory_order_release);
    }
    return NULL;
}

/* One scan at the published sequence, checked against the history. */
static int live_scan(live *lv, bool reverse)
{
    uint64_t rs = atomic_load_explicit(&lv->published, memory_order_acquire);
    uint64_t last[LIVE_KEYS] = {0}; /* seq of the newest op <= rs */
    for (uint64_t s = 1; s <= rs; s++)
        last[lv->key_of[s]] = s;
    meru_iiter *kids[1], *m;
    meru_dbiter *d;
    if (meru_memtable_iiter_new(lv->m, &kids[0]) ||
        meru_merge_iter_new(kids, 1, &m))
        return 1;
    meru_dbiter_options o = {.read_seq = rs, .reverse = reverse};
    if (meru_dbiter_new(m, &o, &d))
        return 1;
    const uint8_t *k, *v;
    size_t kl, vl;
    int bad = 0;
    unsigned want = reverse ? LIVE_KEYS : 0;
    while (meru_dbiter_next(d, &k, &kl, &v, &vl) == MERU_OK) {
        /* Skip keys whose newest op is a delete (or none): not returned. */
        for (;;) {
            if (reverse ? want == 0 : want >= LIVE_KEYS) {
                bad = 1;
                break;
            }
            unsigned i = reverse ? want - 1 : want;
            if (last[i] && lv->op_of[last[i]] == MERU_OP_PUT)
                break;
            want = reverse ? want - 1 : want + 1;
        }
        if (bad)
            break;
        unsigned i = reverse ? want - 1 : want;
        uint8_t ek[2];
        live_key(i, ek);
        if (kl != 2 || memcmp(k, ek, 2) != 0 || vl != 8 ||
            meru_load_be64(v) != last[i]) {
            bad = 1;
            break;
        }
        want = reverse ? want - 1 : want + 1;
    }
    /* No live key may be missing after the last row. */
    while (!bad && (reverse ? want > 0 : want < LIVE_KEYS)) {
        unsigned i = reverse ? want - 1 : want;
        if (last[i] && lv->op_of[last[i]] == MERU_OP_PUT)
            bad = 1;
        want = reverse ? want - 1 : want + 1;
    }
    meru_dbiter_free(d);
    return bad;
}

static void *live_reader_main(void *p)
{
    live_reader *r = p;
    live *lv = r->lv;
    for (;;) {
        bool done = atomic_load_explicit(&lv->published,
                                         memory_order_acquire) == lv->n ||
                    atomic_load(&lv->writer_rc) != 0;
        r->seed ^= r->seed << 13;
        r->seed ^= r->seed >> 7;
        r->seed ^= r->seed << 17;
        r->bad += live_scan(lv, r->seed & 1);
        r->scans++;
        if (done)
            break;
    }
    return NULL;
}

static void test_dbiter_scans_memtable_during_writes(void)
{
    live lv;
    memset(&lv, 0, sizeof lv);
    lv.n = (size_t)(20000 * meru_test_scale()) + 500;
    lv.key_of = malloc(lv.n + 1);
    lv.op_of = malloc(lv.n + 1);
    CHECK(lv.key_of && lv.op_of);
    for (size_t s = 1; s <= lv.n; s++) {
        lv.key_of[s] = (uint8_t)(meru_test_rand() % LIVE_KEYS);
        lv.op_of[s] = meru_test_rand() % 4 ? MERU_OP_PUT : MERU_OP_DELETE;
    }
    atomic_init(&lv.published, 0);
    atomic_init(&lv.writer_rc, 0);
    CHECK_OK(meru_memtable_new(&lv.m, 0));
    live_reader rd[2];
    pthread_t tw, tr[2];
    CHECK(pthread_create(&tw, NULL, live_writer, &lv) == 0);
    for (int i = 0; i < 2; i++) {
        rd[i] = (live_reader){.lv = &lv, .seed = meru_test_rand() | 1};
        CHECK(pthread_create(&tr[i], NULL, live_reader_main, &rd[i]) == 0);
    }
    pthread_join(tw, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(tr[i], NULL);
    CHECK_OK(atomic_load(&lv.writer_rc));
    CHECK_EQ_INT(rd[0].bad + rd[1].bad, 0);
    CHECK(rd[0].scans > 0 && rd[1].scans > 0);
    /* And once more, quiet, in both directions. */
    CHECK_EQ_INT(live_scan(&lv, false), 0);
    CHECK_EQ_INT(live_scan(&lv, true), 0);
    meru_memtable_unref(lv.m);
    free(lv.key_of);
    free(lv.op_of);
}

int main(void)
{
    MERU_TEST_RUN(test_dbiter_matches_reference);
    MERU_TEST_RUN(test_dbiter_hot_key_versions);
    MERU_TEST_RUN(test_dbiter_returns_child_error);
    MERU_TEST_RUN(test_dbiter_empty_and_bounds_copied);
    MERU_TEST_RUN(test_dbiter_scans_memtable_during_writes);
    return meru_test_finish();
}
