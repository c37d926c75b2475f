/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_seek.c — meru_iter_seek / meru_iter_seek_for_prev against a
 * model: a table with a two-column key (a, b) whose rows live in the
 * memtable, L0 and L1 (with overwrites and deletes across them), scanned
 * with random bounds, prefixes and directions, then repositioned again and
 * again with full and partial keys; every row after each seek must be the
 * model's.
 */
#include <stdlib.h>

#include "test.h"
#include "test_db_common.h"

#define NA 12
#define NB 30

typedef struct model {
    int live[NA][NB]; /* 1: key (a, b) has a live row */
    int64_t val[NA][NB];
} model;

static meru_schema *seek_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "seek", "a int64 not null, b int64 not null, "
                                      "v int64",
                          "a,b"))
        return NULL;
    return s;
}

static int put_row(meru_db *db, meru_row *r, int a, int b, int64_t v)
{
    meru_row_clear(r);
    int rc = meru_row_set_int64(r, 0, a);
    if (!rc)
        rc = meru_row_set_int64(r, 1, b);
    if (!rc)
        rc = meru_row_set_int64(r, 2, v);
    return rc ? rc : meru_put(db, r, NULL);
}

static int del_row(meru_db *db, meru_row *r, int a, int b)
{
    meru_row_clear(r);
    int rc = meru_row_set_int64(r, 0, a);
    if (!rc)
        rc = meru_row_set_int64(r, 1, b);
    return rc ? rc : meru_delete(db, r, NULL);
}

/* Compares (a, b) with a target of k columns (k = 1: only a). */
static int cmp_target(int a, int b, int k, int ta, int tb)
{
    if (a != ta)
        return a < ta ? -1 : 1;
    if (k == 1 || b == tb)
        return 0;
    return b < tb ? -1 : 1;
}

typedef struct range {
    int has_lo, lo_k, lo_a, lo_b, lo_incl;
    int has_hi, hi_k, hi_a, hi_b, hi_incl;
    int has_pre, pre_a;
    int reverse;
} range;

/* Whether (a, b) is in the scan's range (partial-bound rules of
 * merutable.h). */
static int in_range(const range *r, int a, int b)
{
    if (r->has_lo) {
        int c = cmp_target(a, b, r->lo_k, r->lo_a, r->lo_b);
        if (c < 0 || (c == 0 && !r->lo_incl))
            return 0;
    }
    if (r->has_hi) {
        int c = cmp_target(a, b, r->hi_k, r->hi_a, r->hi_b);
        if (c > 0 || (c == 0 && !r->hi_incl))
            return 0;
    }
    return !r->has_pre || a == r->pre_a;
}

/* The keys the iterator must return after a seek, in order: *n of them. */
static void expected(const model *m, const range *r, int for_prev, int k,
                     int ta, int tb, int *ea, int *eb, size_t *n)
{
    int ka[NA * NB], kb[NA * NB];
    size_t cnt = 0;
    for (int a = 0; a < NA; a++)
        for (int b = 0; b < NB; b++)
            if (m->live[a][b] && in_range(r, a, b)) {
                ka[cnt] = a;
                kb[cnt] = b;
                cnt++;
            }
    /* the position: first >= target, or last <= target */
    long pos = -1;
    if (!for_prev) {
        for (size_t i = 0; i < cnt && pos < 0; i++)
            if (cmp_target(ka[i], kb[i], k, ta, tb) >= 0)
                pos = (long)i;
    } else {
        for (size_t i = cnt; i-- > 0 && pos < 0;)
            if (cmp_target(ka[i], kb[i], k, ta, tb) <= 0)
                pos = (long)i;
    }
    *n = 0;
    if (pos < 0)
        return;
    if (!r->reverse) {
        for (size_t i = (size_t)pos; i < cnt; i++) {
            ea[*n] = ka[i];
            eb[*n] = kb[i];
            (*n)++;
        }
    } else {
        for (long i = pos; i >= 0; i--) {
            ea[*n] = ka[i];
            eb[*n] = kb[i];
            (*n)++;
        }
    }
}

static meru_row *bound_row(const meru_schema *s, int k, int a, int b)
{
    meru_row *r = NULL;
    if (meru_row_new(&r, s))
        return NULL;
    meru_row_set_int64(r, 0, a);
    if (k == 2)
        meru_row_set_int64(r, 1, b);
    return r;
}

/* Builds the table: rows in L1, then L0 (overwrites and deletes), then the
 * memtable (more of both). */
static void build(meru_db *db, model *m)
{
    meru_row *r = NULL;
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    memset(m, 0, sizeof *m);
    for (int a = 0; a < NA; a++)
        for (int b = 0; b < NB; b += 2) {
            CHECK_OK(put_row(db, r, a, b, a * 1000 + b));
            m->live[a][b] = 1;
            m->val[a][b] = a * 1000 + b;
        }
    CHECK_OK(meru_compact(db));
    for (int i = 0; i < 120; i++) {
        int a = (int)(meru_test_rand() % NA), b = (int)(meru_test_rand() % NB);
        if (meru_test_rand() % 3 == 0) {
            CHECK_OK(del_row(db, r, a, b));
            m->live[a][b] = 0;
        } else {
            CHECK_OK(put_row(db, r, a, b, 7000000 + i));
            m->live[a][b] = 1;
            m->val[a][b] = 7000000 + i;
        }
    }
    CHECK_OK(meru_flush(db));
    for (int i = 0; i < 80; i++) {
        int a = (int)(meru_test_rand() % NA), b = (int)(meru_test_rand() % NB);
        if (meru_test_rand() % 3 == 0) {
            CHECK_OK(del_row(db, r, a, b));
            m->live[a][b] = 0;
        } else {
            CHECK_OK(put_row(db, r, a, b, 9000000 + i));
            m->live[a][b] = 1;
            m->val[a][b] = 9000000 + i;
        }
    }
    meru_row_free(r);
}

static void random_range(range *r)
{
    memset(r, 0, sizeof *r);
    r->reverse = (int)(meru_test_rand() % 2);
    if (meru_test_rand() % 3 == 0) {
        r->has_lo = 1;
        r->lo_k = 1 + (int)(meru_test_rand() % 2);
        r->lo_a = (int)(meru_test_rand() % NA);
        r->lo_b = (int)(meru_test_rand() % NB);
        r->lo_incl = (int)(meru_test_rand() % 2);
    }
    if (meru_test_rand() % 3 == 0) {
        r->has_hi = 1;
        r->hi_k = 1 + (int)(meru_test_rand() % 2);
        r->hi_a = (int)(meru_test_rand() % NA);
        r->hi_b = (int)(meru_test_rand() % NB);
        r->hi_incl = (int)(meru_test_rand() % 2);
    }
    if (meru_test_rand() % 5 == 0) {
        r->has_pre = 1;
        r->pre_a = (int)(meru_test_rand() % NA);
    }
}

static void test_iter_seek_matches_model(void)
{
    const char *dir = meru_test_tmpdir("seek-model");
    meru_schema *s = seek_schema();
    meru_db *db = NULL;
    meru_options o;
    model m;
    CHECK(s);
    tdb_small_options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    build(db, &m);
    if (meru_test_failed_current)
        goto out;
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    CHECK(st.level[0].files >= 1 && st.level[1].files >= 1);
    CHECK(st.memtable_entries > 0);
    const meru_schema *ts = meru_db_schema(db);
    int rounds = (int)(300 * meru_test_scale()) + 20;
    for (int round = 0; round < rounds; round++) {
        range r;
        random_range(&r);
        meru_scan_options so;
        meru_scan_options_init(&so);
        meru_row *lo = NULL, *hi = NULL, *pre = NULL;
        if (r.has_lo) {
            lo = bound_row(ts, r.lo_k, r.lo_a, r.lo_b);
            so.lower = lo;
            so.lower_inclusive = r.lo_incl;
        }
        if (r.has_hi) {
            hi = bound_row(ts, r.hi_k, r.hi_a, r.hi_b);
            so.upper = hi;
            so.upper_inclusive = r.hi_incl;
        }
        if (r.has_pre) {
            pre = bound_row(ts, 1, r.pre_a, 0);
            so.prefix = pre;
        }
        so.reverse = r.reverse;
        meru_iter *it = NULL;
        CHECK_OK(meru_scan(db, &so, &it));
        for (int sk = 0; sk < 6; sk++) {
            int for_prev = (int)(meru_test_rand() % 2);
            int k = 1 + (int)(meru_test_rand() % 2);
            int ta = (int)(meru_test_rand() % (NA + 2)) - 1;
            int tb = (int)(meru_test_rand() % (NB + 2)) - 1;
            int ea[NA * NB], eb[NA * NB];
            size_t n = 0;
            expected(&m, &r, for_prev, k, ta, tb, ea, eb, &n);
            meru_row *t = bound_row(ts, k, ta, tb);
            CHECK(t);
            int rc = for_prev ? meru_iter_seek_for_prev(it, t)
                              : meru_iter_seek(it, t);
            meru_row_free(t);
            CHECK_OK(rc);
            /* Read a random number of rows (all of them sometimes). */
            size_t want = meru_test_rand() % 3 ? meru_test_rand() % 8 : n + 1;
            for (size_t i = 0; i < want; i++) {
                const meru_row *row;
                rc = meru_iter_next(it, &row);
                if (i >= n) {
                    CHECK_MSG(rc == MERU_NOT_FOUND,
                              "round %d seek %d (%s k=%d %d,%d rev=%d): "
                              "row %zu past the model's %zu: rc %d",
                              round, sk, for_prev ? "for_prev" : "seek", k,
                              ta, tb, r.reverse, i, n, rc);
                    break;
                }
                CHECK_OK(rc);
                int64_t a = -1, b = -1, v = -1;
                meru_row_get_int64(row, 0, &a);
                meru_row_get_int64(row, 1, &b);
                meru_row_get_int64(row, 2, &v);
                CHECK_MSG(a == ea[i] && b == eb[i] && v == m.val[a][b],
                          "round %d seek %d (%s k=%d %d,%d rev=%d): row %zu "
                          "is (%lld,%lld)=%lld, want (%d,%d)",
                          round, sk, for_prev ? "for_prev" : "seek", k, ta, tb,
                          r.reverse, i, (long long)a, (long long)b,
                          (long long)v, ea[i], eb[i]);
            }
        }
        meru_iter_free(it);
        meru_row_free(lo);
        meru_row_free(hi);
        meru_row_free(pre);
        if (meru_test_failed_current)
            break;
    }
out:
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

/* limit counts rows from the last seek; a seek after the end starts
 * again; an empty scan range stays empty. */
static void test_iter_seek_resets_limit_and_end(void)
{
    const char *dir = meru_test_tmpdir("seek-limit");
    meru_schema *s = seek_schema();
    meru_db *db = NULL;
    meru_row *r = NULL, *t = NULL;
    const meru_row *row;
    CHECK(s);
    CHECK_OK(meru_open(dir, NULL, s, &db));
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    for (int a = 0; a < 5; a++)
        CHECK_OK(put_row(db, r, a, 0, a));
    meru_scan_options so = MERU_SCAN_OPTIONS_INIT;
    so.limit = 2;
    meru_iter *it = NULL;
    CHECK_OK(meru_scan(db, &so, &it));
    CHECK_OK(meru_iter_next(it, &row));
    CHECK_OK(meru_iter_next(it, &row));
    CHECK_RC(meru_iter_next(it, &row), MERU_NOT_FOUND);
    t = bound_row(meru_db_schema(db), 1, 3, 0);
    CHECK_OK(meru_iter_seek(it, t));
    int64_t a = -1;
    CHECK_OK(meru_iter_next(it, &row));
    meru_row_get_int64(row, 0, &a);
    CHECK_EQ_INT(a, 3);
    CHECK_OK(meru_iter_next(it, &row));
    CHECK_RC(meru_iter_next(it, &row), MERU_NOT_FOUND); /* limit again */
    /* seek_for_prev below every key: nothing at or before it */
    meru_row_free(t);
    t = bound_row(meru_db_schema(db), 1, -1, 0);
    CHECK_OK(meru_iter_seek_for_prev(it, t));
    CHECK_RC(meru_iter_next(it, &row), MERU_NOT_FOUND);
    meru_iter_free(it);
    it = NULL;
    /* an empty range: lower above upper */
    meru_row *lo = bound_row(meru_db_schema(db), 1, 4, 0);
    meru_row *hi = bound_row(meru_db_schema(db), 1, 1, 0);
    meru_scan_options_init(&so);
    so.lower = lo;
    so.upper = hi;
    CHECK_OK(meru_scan(db, &so, &it));
    CHECK_OK(meru_iter_seek(it, t));
    CHECK_RC(meru_iter_next(it, &row), MERU_NOT_FOUND);
    /* a bad target is refused and leaves the iterator usable */
    meru_row *bad = NULL;
    CHECK_OK(meru_row_new(&bad, meru_db_schema(db)));
    CHECK_RC(meru_iter_seek(it, bad), MERU_EINVAL); /* no key column set */
    CHECK_RC(meru_iter_seek(NULL, t), MERU_EINVAL);
    meru_row_free(bad);
    meru_iter_free(it);
    meru_row_free(lo);
    meru_row_free(hi);
    meru_row_free(t);
    meru_row_free(r);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_iter_seek_matches_model);
    MERU_TEST_RUN(test_iter_seek_resets_limit_and_end);
    return meru_test_finish();
}
