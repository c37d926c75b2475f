/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_model.c — the table against an in-memory reference model,
 * through the public API only.
 *
 * Random puts, deletes and batches (several entries often hit the same key:
 * the later one wins), gets, scans (random bounds including partial
 * composite keys, inclusive/exclusive, prefix, reverse, limit, projection),
 * snapshots (taken, read through after later writes and flushes, freed),
 * iterators that stay open while later writes land, explicit flushes,
 * manual compactions and close/reopen. The memtable is small
 * (TDB_MEMTABLE_BYTES) so automatic flushes and compactions happen all
 * along.
 *
 * The model is, per key of a small fixed key space, the row last written
 * (or NULL): key index order equals key order, so a scan's expected output
 * is a filter over the indices. Stored rows are never modified, so a
 * snapshot of the model is a copy of the pointer array.
 *
 * Two schemas: a single int64 key, and a composite (string, int64) key
 * whose strings include "", NUL bytes and prefixes of each other, with
 * nullable double/bool/decimal/binary/int32/date columns and a NOT NULL
 * timestamp. Seeded by meru_test_rand (MERU_TEST_SEED replays a run).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "test_db_common.h"

#define MFAIL(...)                                                             \
    do {                                                                       \
        meru_test_fail(__FILE__, __LINE__, __VA_ARGS__);                       \
        fprintf(stderr, "  (seed %llu, op %d)\n",                              \
                (unsigned long long)meru_test_seed(), g_op);                   \
        return -1;                                                             \
    } while (0)
#define MCHECK(cond, ...)                                                      \
    do {                                                                       \
        if (!(cond))                                                           \
            MFAIL(__VA_ARGS__);                                                \
    } while (0)
#define MOK(expr)                                                              \
    do {                                                                       \
        int _rc = (expr);                                                      \
        if (_rc != MERU_OK)                                                    \
            MFAIL("%s -> %d (%s): %s", #expr, _rc, meru_strerror(_rc),         \
                  meru_errmsg());                                              \
    } while (0)

static int g_op;

static uint64_t rnd(uint64_t n) { return n ? meru_test_rand() % n : 0; }

/* ------------------------------------------------------------ key spaces */

enum { KIND_INT = 0, KIND_COMPOSITE = 1 };

#define NA 400 /* keys of the int64 schema */
static int64_t a_id(size_t idx) { return ((int64_t)idx - NA / 2) * 3; }

/* Composite: k1 from this table (sorted by bytes, shorter prefix first),
 * k2 = (j - K2/2) * 5. */
typedef struct bstr {
    const char *s;
    size_t len;
} bstr;
static const bstr K1[] = {{"", 0},    {"\0", 1}, {"\0\0", 2}, {"a", 1},
                          {"a\0", 2}, {"ab", 2}, {"b", 1},    {"\xc3\xa9", 2}};
#define NK1 (sizeof K1 / sizeof K1[0])
/* Bound strings: the key strings plus some that fall between or outside. */
static const bstr KB[] = {{"", 0},       {"\0", 1},  {"\0\0", 2}, {"a", 1},
                          {"a\0", 2},    {"ab", 2},  {"b", 1},    {"\xc3\xa9", 2},
                          {"\0\x01", 2}, {"a\x01", 2}, {"aa", 2}, {"abc", 3},
                          {"c", 1},      {"\xc3\xa9z", 3}, {"\x01", 1}};
#define NKB (sizeof KB / sizeof KB[0])
#define K2 40
static int64_t b_k2(size_t j) { return ((int64_t)j - K2 / 2) * 5; }

static int bstr_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return al < bl ? -1 : al > bl;
}

static int i64_cmp(int64_t a, int64_t b) { return a < b ? -1 : a > b; }

/* A bound or prefix: the first n key columns. */
typedef struct bound {
    int n;
    int64_t iv;  /* the int64 key column (int schema: col 0; composite: 1) */
    bstr s;      /* composite: k1 */
} bound;

typedef struct cfg {
    const char *name;
    int kind;
    size_t nkeys;
    size_t nkeycols;
    meru_schema *schema;
} cfg;

static int key_cmp(const cfg *c, size_t idx, const bound *b)
{
    if (c->kind == KIND_INT)
        return i64_cmp(a_id(idx), b->iv);
    const bstr *k1 = &K1[idx / K2];
    int r = bstr_cmp(k1->s, k1->len, b->s.s, b->s.len);
    if (r || b->n == 1)
        return r;
    return i64_cmp(b_k2(idx % K2), b->iv);
}

static int set_key(const cfg *c, meru_row *r, size_t idx)
{
    if (c->kind == KIND_INT)
        return meru_row_set_int64(r, 0, a_id(idx));
    const bstr *k1 = &K1[idx / K2];
    int rc = meru_row_set_string(r, 0, k1->s, k1->len);
    return rc ? rc : meru_row_set_int64(r, 1, b_k2(idx % K2));
}

static int set_bound(const cfg *c, meru_row *r, const bound *b)
{
    meru_row_clear(r);
    if (c->kind == KIND_INT)
        return meru_row_set_int64(r, 0, b->iv);
    int rc = meru_row_set_string(r, 0, b->s.s, b->s.len);
    if (rc || b->n == 1)
        return rc;
    return meru_row_set_int64(r, 1, b->iv);
}

static void rand_bound(const cfg *c, bound *b)
{
    memset(b, 0, sizeof *b);
    if (c->kind == KIND_INT) {
        b->n = 1;
        b->iv = a_id(0) - 6 + (int64_t)rnd((uint64_t)(a_id(NA - 1) - a_id(0) + 13));
        return;
    }
    b->n = 1 + (int)rnd(2);
    b->s = rnd(4) ? K1[rnd(NK1)] : KB[rnd(NKB)];
    b->iv = b_k2(0) - 6 + (int64_t)rnd((uint64_t)(b_k2(K2 - 1) - b_k2(0) + 13));
}

/* Index of the key held by `r`, or -1 if it is not a key of the space. */
static long idx_of_row(const cfg *c, const meru_row *r)
{
    if (c->kind == KIND_INT) {
        int64_t id;
        if (meru_row_get_int64(r, 0, &id))
            return -1;
        int64_t i = id / 3 + NA / 2;
        if (id % 3 || i < 0 || i >= NA)
            return -1;
        return (long)i;
    }
    const char *s;
    size_t len;
    int64_t k2;
    if (meru_row_get_string(r, 0, &s, &len) || meru_row_get_int64(r, 1, &k2))
        return -1;
    for (size_t i = 0; i < NK1; i++) {
        if (bstr_cmp(s, len, K1[i].s, K1[i].len) == 0) {
            int64_t j = k2 / 5 + K2 / 2;
            if (k2 % 5 || j < 0 || j >= K2)
                return -1;
            return (long)(i * K2 + (size_t)j);
        }
    }
    return -1;
}

/* ---------------------------------------------------------- row values */

static double rand_double(void)
{
    switch (rnd(12)) {
    case 0: return NAN;
    case 1: return -0.0;
    case 2: return INFINITY;
    case 3: return -INFINITY;
    case 4: return 5e-324;
    default: return (double)(int64_t)meru_test_rand() / 7.0;
    }
}

static void rand_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)meru_test_rand();
}

static size_t rand_len(void)
{
    return rnd(25) == 0 ? 500 + (size_t)rnd(2000) : (size_t)rnd(25);
}

/* Fills every column of `r` for key `idx` with random values. */
static int fill_row(const cfg *c, meru_row *r, size_t idx)
{
    static uint8_t buf[4096];
    int rc = set_key(c, r, idx);
    if (rc)
        return rc;
    if (c->kind == KIND_INT) {
        /* id, v int64, s string, f float */
        rc = rnd(5) == 0 ? meru_row_set_null(r, 1)
                         : meru_row_set_int64(r, 1, (int64_t)meru_test_rand());
        if (!rc) {
            if (rnd(5) == 0) {
                rc = meru_row_set_null(r, 2);
            } else {
                size_t n = rand_len();
                for (size_t i = 0; i < n; i++)
                    buf[i] = (uint8_t)(' ' + rnd(95));
                rc = meru_row_set_string(r, 2, (const char *)buf, n);
            }
        }
        if (!rc)
            rc = rnd(3) == 0
                     ? meru_row_set_null(r, 3)
                     : meru_row_set_float(r, 3, (float)(int32_t)meru_test_rand() / 3.0f);
        return rc;
    }
    /* k1, k2, d double, b bool, ts timestamp NOT NULL, dec decimal(18,3),
     * bin binary, n int32, dt date */
    rc = rnd(5) == 0 ? meru_row_set_null(r, 2)
                     : meru_row_set_double(r, 2, rand_double());
    if (!rc)
        rc = rnd(4) == 0 ? meru_row_set_null(r, 3)
                         : meru_row_set_bool(r, 3, (int)rnd(2));
    if (!rc)
        rc = meru_row_set_timestamp(r, 4, (int64_t)(meru_test_rand() >> 14) -
                                              ((int64_t)1 << 49));
    if (!rc) {
        if (rnd(4) == 0) {
            rc = meru_row_set_null(r, 5);
        } else {
            int64_t u = (int64_t)rnd(200000000000000000ull) -
                        100000000000000000ll;
            rc = meru_row_set_decimal(r, 5, u < 0 ? -1 : 0, (uint64_t)u);
        }
    }
    if (!rc) {
        if (rnd(5) == 0) {
            rc = meru_row_set_null(r, 6);
        } else {
            size_t n = rand_len();
            rand_bytes(buf, n);
            rc = meru_row_set_binary(r, 6, buf, n);
        }
    }
    if (!rc)
        rc = rnd(4) ? meru_row_set_null(r, 7)
                    : meru_row_set_int32(r, 7, (int32_t)meru_test_rand());
    if (!rc)
        rc = rnd(3) == 0 ? meru_row_set_null(r, 8)
                         : meru_row_set_date(r, 8, (int32_t)rnd(200000) - 100000);
    return rc;
}

/* ---------------------------------------------------------------- state */

#define MAX_SNAPS 4

typedef struct msnap {
    meru_snapshot *snap;
    const meru_row **state;
    uint64_t seq;
} msnap;

typedef struct mstate {
    cfg c;
    const char *dir;
    meru_options opts;
    meru_db *db;
    const meru_row **cur;
    meru_row **all; /* every row the model ever held (freed at the end) */
    size_t nall, capall;
    msnap snaps[MAX_SNAPS];
    int nsnaps;
    uint64_t last_seq;
    meru_row *key, *out, *lo, *hi, *pre;
    size_t *exp; /* scratch: expected indices of a scan */
    uint64_t nputs, ndels, nscans, ngets, nflush, nreopen;
} mstate;

static meru_row *new_model_row(mstate *st)
{
    meru_row *r = NULL;
    if (meru_row_new(&r, st->c.schema))
        return NULL;
    if (st->nall == st->capall) {
        size_t cap = st->capall ? st->capall * 2 : 256;
        meru_row **p = realloc(st->all, cap * sizeof *p);
        if (!p) {
            meru_row_free(r);
            return NULL;
        }
        st->all = p;
        st->capall = cap;
    }
    st->all[st->nall++] = r;
    return r;
}

/* A scan's parameters. */
typedef struct sspec {
    int has_lo, lo_inc, has_hi, hi_inc, has_pre, reverse;
    bound lo, hi, pre;
    uint64_t limit;
    int project;               /* 0: every column */
    const char *cols[16];
    size_t ncols;
    unsigned char proj[16];    /* column c is expected to be read */
} sspec;

static void rand_spec(mstate *st, sspec *sp)
{
    memset(sp, 0, sizeof *sp);
    size_t ncol = meru_schema_column_count(st->c.schema);
    sp->has_lo = rnd(2);
    sp->lo_inc = rnd(2);
    sp->has_hi = rnd(2);
    sp->hi_inc = rnd(2);
    sp->has_pre = st->c.kind == KIND_COMPOSITE ? rnd(4) == 0 : rnd(10) == 0;
    sp->reverse = rnd(2);
    if (sp->has_lo)
        rand_bound(&st->c, &sp->lo);
    if (sp->has_hi)
        rand_bound(&st->c, &sp->hi);
    /* Often make the range non-empty: lower below upper. */
    if (sp->has_lo && sp->has_hi && rnd(2)) {
        bound t = sp->lo;
        int lo_after = st->c.kind == KIND_INT
                           ? sp->lo.iv > sp->hi.iv
                           : bstr_cmp(sp->lo.s.s, sp->lo.s.len, sp->hi.s.s,
                                      sp->hi.s.len) > 0;
        if (lo_after) {
            sp->lo = sp->hi;
            sp->hi = t;
        }
    }
    if (sp->has_pre) {
        rand_bound(&st->c, &sp->pre);
        if (st->c.kind == KIND_COMPOSITE && rnd(3))
            sp->pre.n = 1;
    }
    sp->limit = rnd(3) == 0 ? 1 + rnd(30) : 0;
    for (size_t c = 0; c < ncol; c++)
        sp->proj[c] = 1;
    if (rnd(3) == 0) {
        sp->project = 1;
        for (size_t c = 0; c < ncol; c++) {
            int key = c < st->c.nkeycols;
            sp->proj[c] = key ? 1 : (unsigned char)rnd(2);
            /* Key columns may be named too; they are read anyway. */
            if ((sp->proj[c] && !key) || (key && rnd(4) == 0))
                sp->cols[sp->ncols++] = meru_schema_column_name(st->c.schema, c);
        }
    }
}

static int in_range(const cfg *c, const sspec *sp, size_t idx)
{
    if (sp->has_lo) {
        int r = key_cmp(c, idx, &sp->lo);
        if (sp->lo_inc ? r < 0 : r <= 0)
            return 0;
    }
    if (sp->has_hi) {
        int r = key_cmp(c, idx, &sp->hi);
        if (sp->hi_inc ? r > 0 : r >= 0)
            return 0;
    }
    if (sp->has_pre && key_cmp(c, idx, &sp->pre) != 0)
        return 0;
    return 1;
}

static size_t expected(mstate *st, const meru_row **state, const sspec *sp)
{
    size_t n = 0;
    for (size_t k = 0; k < st->c.nkeys; k++) {
        size_t idx = sp->reverse ? st->c.nkeys - 1 - k : k;
        if (!state[idx] || !in_range(&st->c, sp, idx))
            continue;
        if (sp->limit && n == sp->limit)
            break;
        st->exp[n++] = idx;
    }
    return n;
}

static const char *spec_str(const sspec *sp)
{
    static char b[512];
    char lo[64] = "-", hi[64] = "-", pre[64] = "-";
    if (sp->has_lo)
        snprintf(lo, sizeof lo, "%s(n=%d,s.len=%zu,iv=%lld)",
                 sp->lo_inc ? "incl" : "excl", sp->lo.n, sp->lo.s.len,
                 (long long)sp->lo.iv);
    if (sp->has_hi)
        snprintf(hi, sizeof hi, "%s(n=%d,s.len=%zu,iv=%lld)",
                 sp->hi_inc ? "incl" : "excl", sp->hi.n, sp->hi.s.len,
                 (long long)sp->hi.iv);
    if (sp->has_pre)
        snprintf(pre, sizeof pre, "(n=%d,s.len=%zu,iv=%lld)", sp->pre.n,
                 sp->pre.s.len, (long long)sp->pre.iv);
    snprintf(b, sizeof b,
             "lower %s upper %s prefix %s reverse %d limit %llu project %d/%zu",
             lo, hi, pre, sp->reverse, (unsigned long long)sp->limit,
             sp->project, sp->ncols);
    return b;
}

static int open_iter(mstate *st, const sspec *sp, const meru_snapshot *snap,
                     meru_iter **it)
{
    meru_scan_options o;
    meru_scan_options_init(&o);
    o.snapshot = snap;
    if (sp->has_lo) {
        MOK(set_bound(&st->c, st->lo, &sp->lo));
        o.lower = st->lo;
        o.lower_inclusive = sp->lo_inc;
    }
    if (sp->has_hi) {
        MOK(set_bound(&st->c, st->hi, &sp->hi));
        o.upper = st->hi;
        o.upper_inclusive = sp->hi_inc;
    }
    if (sp->has_pre) {
        MOK(set_bound(&st->c, st->pre, &sp->pre));
        o.prefix = st->pre;
    }
    o.reverse = sp->reverse;
    o.limit = sp->limit;
    if (sp->project) {
        o.columns = sp->cols;
        o.ncolumns = sp->ncols;
    }
    *it = NULL;
    MOK(meru_scan(st->db, &o, it));
    MCHECK(*it, "meru_scan gave no iterator");
    return 0;
}

/* Reads rows [from, to) of the expected list `exp` from `it`; to == n also
 * checks the end. */
static int check_rows(mstate *st, meru_iter *it, const meru_row **state,
                      const sspec *sp, const size_t *exp, size_t n,
                      size_t from, size_t to)
{
    size_t ncol = meru_schema_column_count(st->c.schema);
    for (size_t i = from; i < to; i++) {
        const meru_row *row = NULL;
        int rc = meru_iter_next(it, &row);
        MCHECK(rc == MERU_OK,
               "%s scan [%s]: row %zu of %zu: iter_next -> %d (%s) %s; "
               "expected %s",
               st->c.name, spec_str(sp), i, n, rc, meru_strerror(rc),
               meru_errmsg(), tdb_row_str(state[exp[i]]));
        long got = idx_of_row(&st->c, row);
        MCHECK(got == (long)exp[i],
               "%s scan [%s]: row %zu of %zu: got key idx %ld %s, expected "
               "idx %zu %s",
               st->c.name, spec_str(sp), i, n, got, tdb_row_str(row), exp[i],
               tdb_row_str(state[exp[i]]));
        for (size_t c = 0; c < ncol; c++) {
            if (sp->proj[c]) {
                MCHECK(tdb_col_equal(row, state[exp[i]], c),
                       "%s scan [%s]: row %zu column %zu: got %s expected %s",
                       st->c.name, spec_str(sp), i, c, tdb_row_str(row),
                       tdb_row_str(state[exp[i]]));
            } else {
                MCHECK(!meru_row_is_set(row, c),
                       "%s scan [%s]: unprojected column %zu is set: %s",
                       st->c.name, spec_str(sp), c, tdb_row_str(row));
            }
        }
    }
    if (to == n) {
        const meru_row *row = NULL;
        int rc = meru_iter_next(it, &row);
        MCHECK(rc == MERU_NOT_FOUND,
               "%s scan [%s]: expected end after %zu rows, got %d (%s) %s",
               st->c.name, spec_str(sp), n, rc, meru_strerror(rc),
               rc == MERU_OK ? tdb_row_str(row) : meru_errmsg());
        /* The end is sticky. */
        MCHECK(meru_iter_next(it, &row) == MERU_NOT_FOUND,
               "iterator end not sticky");
    }
    return 0;
}

static int do_scan(mstate *st, int use_snap)
{
    sspec sp;
    rand_spec(st, &sp);
    const meru_row **state = st->cur;
    const meru_snapshot *snap = NULL;
    if (use_snap && st->nsnaps) {
        msnap *m = &st->snaps[rnd((uint64_t)st->nsnaps)];
        state = m->state;
        snap = m->snap;
    }
    size_t n = expected(st, state, &sp);
    meru_iter *it;
    if (open_iter(st, &sp, snap, &it))
        return -1;
    int r = check_rows(st, it, state, &sp, st->exp, n, 0, n);
    meru_iter_free(it);
    st->nscans++;
    return r;
}

static int do_get(mstate *st, size_t idx, int use_snap)
{
    const meru_row **state = st->cur;
    const meru_snapshot *snap = NULL;
    if (use_snap && st->nsnaps) {
        msnap *m = &st->snaps[rnd((uint64_t)st->nsnaps)];
        state = m->state;
        snap = m->snap;
    }
    meru_row_clear(st->key);
    MOK(set_key(&st->c, st->key, idx));
    int rc = meru_get(st->db, snap, st->key, st->out);
    st->ngets++;
    if (!state[idx]) {
        MCHECK(rc == MERU_NOT_FOUND,
               "%s get idx %zu%s: expected NOT_FOUND, got %d (%s) %s",
               st->c.name, idx, snap ? " (snapshot)" : "", rc,
               meru_strerror(rc),
               rc == MERU_OK ? tdb_row_str(st->out) : meru_errmsg());
        return 0;
    }
    MCHECK(rc == MERU_OK, "%s get idx %zu%s: expected %s, got %d (%s) %s",
           st->c.name, idx, snap ? " (snapshot)" : "",
           tdb_row_str(state[idx]), rc, meru_strerror(rc), meru_errmsg());
    int d = tdb_row_diff(st->out, state[idx]);
    MCHECK(d < 0, "%s get idx %zu%s: column %d differs: got %s expected %s",
           st->c.name, idx, snap ? " (snapshot)" : "", d,
           tdb_row_str(st->out), tdb_row_str(state[idx]));
    return 0;
}

static int do_put(mstate *st, size_t idx)
{
    meru_row *r = new_model_row(st);
    MCHECK(r, "out of memory");
    MOK(fill_row(&st->c, r, idx));
    uint64_t seq = 0;
    MOK(meru_put(st->db, r, &seq));
    MCHECK(seq > st->last_seq, "put seq %llu not above %llu",
           (unsigned long long)seq, (unsigned long long)st->last_seq);
    st->last_seq = seq;
    st->cur[idx] = r;
    st->nputs++;
    return 0;
}

static int do_delete(mstate *st, size_t idx)
{
    meru_row_clear(st->key);
    MOK(set_key(&st->c, st->key, idx));
    /* Other columns of a delete key are ignored: set some garbage. */
    if (rnd(2) && st->c.kind == KIND_INT)
        MOK(meru_row_set_int64(st->key, 1, 77));
    uint64_t seq = 0;
    MOK(meru_delete(st->db, st->key, &seq));
    MCHECK(seq > st->last_seq, "delete seq %llu not above %llu",
           (unsigned long long)seq, (unsigned long long)st->last_seq);
    st->last_seq = seq;
    st->cur[idx] = NULL;
    st->ndels++;
    return 0;
}

/* A batch of 1..8 entries over a window of 5 keys (duplicates likely). */
static int do_batch(mstate *st)
{
    meru_write_batch *b = NULL;
    MOK(meru_write_batch_new(&b, st->c.schema));
    size_t n = 1 + (size_t)rnd(8);
    size_t base = (size_t)rnd(st->c.nkeys - 5);
    size_t idxs[8];
    meru_row *rows[8];
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        idxs[i] = base + (size_t)rnd(5);
        if (rnd(4)) {
            rows[i] = new_model_row(st);
            if (!rows[i] || fill_row(&st->c, rows[i], idxs[i]))
                rc = -1;
            else
                rc = meru_write_batch_put(b, rows[i]);
        } else {
            rows[i] = NULL;
            meru_row_clear(st->key);
            rc = set_key(&st->c, st->key, idxs[i]);
            if (!rc)
                rc = meru_write_batch_delete(b, st->key);
        }
    }
    if (rc) {
        meru_write_batch_free(b);
        MFAIL("building batch: %d %s", rc, meru_errmsg());
    }
    if (meru_write_batch_count(b) != n) {
        meru_write_batch_free(b);
        MFAIL("batch count %zu != %zu", meru_write_batch_count(b), n);
    }
    uint64_t first = 0;
    rc = meru_write(st->db, b, &first);
    meru_write_batch_free(b);
    MCHECK(rc == MERU_OK, "meru_write -> %d (%s) %s", rc, meru_strerror(rc),
           meru_errmsg());
    MCHECK(first > st->last_seq, "batch first seq %llu not above %llu",
           (unsigned long long)first, (unsigned long long)st->last_seq);
    st->last_seq = first + n - 1;
    for (size_t i = 0; i < n; i++)
        st->cur[idxs[i]] = rows[i];
    st->nputs += n;
    return 0;
}

static int snap_take(mstate *st)
{
    if (st->nsnaps == MAX_SNAPS)
        return 0;
    msnap *m = &st->snaps[st->nsnaps];
    m->state = malloc(st->c.nkeys * sizeof *m->state);
    MCHECK(m->state, "out of memory");
    memcpy(m->state, st->cur, st->c.nkeys * sizeof *m->state);
    m->snap = NULL;
    int rc = meru_snapshot_new(st->db, &m->snap);
    if (rc) {
        free(m->state);
        MFAIL("snapshot_new -> %d %s", rc, meru_errmsg());
    }
    m->seq = meru_snapshot_sequence(m->snap);
    st->nsnaps++;
    MCHECK(m->seq == st->last_seq, "snapshot sequence %llu != last write %llu",
           (unsigned long long)m->seq, (unsigned long long)st->last_seq);
    return 0;
}

static void snap_drop(mstate *st, int i)
{
    meru_snapshot_free(st->snaps[i].snap);
    free(st->snaps[i].state);
    st->snaps[i] = st->snaps[--st->nsnaps];
}

/* Every key by get and the whole table by a forward and a reverse scan. */
static int full_check(mstate *st)
{
    for (size_t idx = 0; idx < st->c.nkeys; idx++)
        if (do_get(st, idx, 0))
            return -1;
    for (int rev = 0; rev < 2; rev++) {
        sspec sp;
        memset(&sp, 0, sizeof sp);
        sp.reverse = rev;
        for (size_t c = 0; c < 16; c++)
            sp.proj[c] = 1;
        size_t n = expected(st, st->cur, &sp);
        meru_iter *it;
        if (open_iter(st, &sp, NULL, &it))
            return -1;
        int r = check_rows(st, it, st->cur, &sp, st->exp, n, 0, n);
        meru_iter_free(it);
        if (r)
            return -1;
    }
    return 0;
}

static int db_open(mstate *st, int with_schema)
{
    st->db = NULL;
    MOK(meru_open(st->dir, &st->opts, with_schema ? st->c.schema : NULL,
                  &st->db));
    meru_stats s;
    MOK(meru_stats_get(st->db, &s));
    MCHECK(s.last_sequence == st->last_seq,
           "after open last_sequence %llu != last written %llu",
           (unsigned long long)s.last_sequence,
           (unsigned long long)st->last_seq);
    return 0;
}

static int reopen(mstate *st)
{
    /* Snapshots outlive the handle: free half of them after close. */
    int keep = st->nsnaps / 2;
    while (st->nsnaps > keep)
        snap_drop(st, st->nsnaps - 1);
    MOK(meru_close(st->db));
    /* They stay valid objects after close. */
    for (int i = 0; i < st->nsnaps; i++)
        MCHECK(meru_snapshot_sequence(st->snaps[i].snap) == st->snaps[i].seq,
               "snapshot sequence changed by close");
    while (st->nsnaps)
        snap_drop(st, st->nsnaps - 1);
    meru_db_free(st->db);
    st->db = NULL;
    st->nreopen++;
    if (db_open(st, (int)rnd(2)))
        return -1;
    return full_check(st);
}

/*
 * An iterator opened now and read in pieces while later writes (and maybe
 * a flush) land: it must return the table as it was when it was opened.
 */
static int do_interleaved_scan(mstate *st)
{
    sspec sp;
    rand_spec(st, &sp);
    const meru_row **state = malloc(st->c.nkeys * sizeof *state);
    size_t *exp = malloc(st->c.nkeys * sizeof *exp);
    MCHECK(state && exp, "out of memory");
    memcpy(state, st->cur, st->c.nkeys * sizeof *state);
    size_t n = expected(st, state, &sp);
    memcpy(exp, st->exp, n * sizeof *exp);
    meru_iter *it = NULL;
    int r = open_iter(st, &sp, NULL, &it);
    size_t done = 0;
    for (int round = 0; !r && round < 4; round++) {
        size_t to = done + (size_t)rnd(n - done + 1);
        if (round == 3)
            to = n;
        r = check_rows(st, it, state, &sp, exp, n, done, to);
        done = to;
        for (int w = 0; !r && w < 20 && round < 3; w++) {
            size_t idx = (size_t)rnd(st->c.nkeys);
            r = rnd(3) ? do_put(st, idx) : do_delete(st, idx);
        }
        if (!r && rnd(4) == 0) {
            int rc = meru_flush(st->db);
            if (rc) {
                meru_test_fail(__FILE__, __LINE__, "flush -> %d %s", rc,
                               meru_errmsg());
                r = -1;
            }
        }
    }
    meru_iter_free(it);
    free(state);
    free(exp);
    return r;
}

static int run_model(mstate *st, int nops)
{
    if (db_open(st, 1))
        return -1;
    for (g_op = 0; g_op < nops; g_op++) {
        int r = (int)rnd(1000);
        int rc = 0;
        if (r < 350) {
            rc = do_put(st, (size_t)rnd(st->c.nkeys));
        } else if (r < 450) {
            rc = do_delete(st, (size_t)rnd(st->c.nkeys));
        } else if (r < 570) {
            rc = do_batch(st);
        } else if (r < 720) {
            rc = do_get(st, (size_t)rnd(st->c.nkeys), rnd(3) == 0);
        } else if (r < 810) {
            rc = do_scan(st, rnd(3) == 0);
        } else if (r < 825) {
            rc = do_interleaved_scan(st);
        } else if (r < 850) {
            rc = snap_take(st);
        } else if (r < 880) {
            if (st->nsnaps)
                snap_drop(st, (int)rnd((uint64_t)st->nsnaps));
        } else if (r < 892) {
            /* Sometimes a manual compaction down to the last level. */
            int compact = rnd(3) == 0;
            int frc = compact ? meru_compact(st->db) : meru_flush(st->db);
            MCHECK(frc == MERU_OK, "%s -> %d (%s) %s",
                   compact ? "compact" : "flush", frc, meru_strerror(frc),
                   meru_errmsg());
            st->nflush++;
        } else if (r < 897) {
            rc = reopen(st);
        } else {
            /* A get of a key that is probably present. */
            size_t idx = (size_t)rnd(st->c.nkeys);
            for (size_t k = 0; k < st->c.nkeys && !st->cur[idx]; k++)
                idx = (idx + 1) % st->c.nkeys;
            rc = do_get(st, idx, 0);
        }
        if (rc)
            return -1;
    }
    if (full_check(st))
        return -1;
    meru_stats s;
    MOK(meru_stats_get(st->db, &s));
    MCHECK(s.last_sequence == st->last_seq, "last_sequence %llu != %llu",
           (unsigned long long)s.last_sequence,
           (unsigned long long)st->last_seq);
    fprintf(stderr,
            "  %s: %llu puts %llu deletes %llu gets %llu scans %llu explicit "
            "flushes %llu reopens; engine: flushes %llu compactions %llu "
            "files %llu levels %d\n",
            st->c.name, (unsigned long long)st->nputs,
            (unsigned long long)st->ndels, (unsigned long long)st->ngets,
            (unsigned long long)st->nscans, (unsigned long long)st->nflush,
            (unsigned long long)st->nreopen, (unsigned long long)s.flushes,
            (unsigned long long)s.compactions,
            (unsigned long long)s.total_files, s.levels);
    /* Close and reopen once more from disk only. */
    if (reopen(st))
        return -1;
    return 0;
}

static void run(const char *name, int kind, const char *cols, const char *pk,
                void (*tune)(meru_options *))
{
    mstate st;
    memset(&st, 0, sizeof st);
    st.c.name = name;
    st.c.kind = kind;
    st.c.nkeys = kind == KIND_INT ? NA : NK1 * K2;
    st.c.nkeycols = kind == KIND_INT ? 1 : 2;
    CHECK_OK(meru_schema_parse(&st.c.schema, name, cols, pk));
    tdb_small_options(&st.opts);
    if (tune)
        tune(&st.opts);
    st.dir = meru_test_tmpdir(name);
    st.cur = calloc(st.c.nkeys, sizeof *st.cur);
    st.exp = calloc(st.c.nkeys, sizeof *st.exp);
    CHECK(st.cur && st.exp);
    CHECK_OK(meru_row_new(&st.key, st.c.schema));
    CHECK_OK(meru_row_new(&st.out, st.c.schema));
    CHECK_OK(meru_row_new(&st.lo, st.c.schema));
    CHECK_OK(meru_row_new(&st.hi, st.c.schema));
    CHECK_OK(meru_row_new(&st.pre, st.c.schema));
    int nops = (int)(2000 * meru_test_scale());
    if (nops < 200)
        nops = 200;
    run_model(&st, nops);
    while (st.nsnaps)
        snap_drop(&st, st.nsnaps - 1);
    meru_db_free(st.db);
    for (size_t i = 0; i < st.nall; i++)
        meru_row_free(st.all[i]);
    free(st.all);
    free(st.cur);
    free(st.exp);
    meru_row_free(st.key);
    meru_row_free(st.out);
    meru_row_free(st.lo);
    meru_row_free(st.hi);
    meru_row_free(st.pre);
    meru_schema_free(st.c.schema);
}

static void tune_compact(meru_options *o)
{
    o->l0_compaction_trigger = 2;
    o->l0_compression = MERU_COMPRESSION_ZSTD;
    o->compression = MERU_COMPRESSION_SNAPPY;
    o->background_threads = 3;
}

/* Several row groups per L1+ file: every read path (gets, scans, seeks
 * in both directions, snapshots) across row-group borders. */
static void tune_small_row_groups(meru_options *o)
{
    tune_compact(o);
    o->page_bytes = 1024;
    o->string_page_bytes = 1024;
    o->row_group_bytes = 2048;
}

static void test_db_model_int64_key(void)
{
    run("model_int", KIND_INT,
        "id int64 not null, v int64, s string, f float", "id", NULL);
}

static void test_db_model_composite_key(void)
{
    run("model_comp", KIND_COMPOSITE,
        "k1 string not null, k2 int64 not null, d double, b boolean, "
        "ts timestamp not null, dec decimal(18,3), bin binary, n int32, "
        "dt date",
        "k1,k2", NULL);
}

static void test_db_model_composite_key_compacting(void)
{
    run("model_comp_c", KIND_COMPOSITE,
        "k1 string not null, k2 int64 not null, d double, b boolean, "
        "ts timestamp not null, dec decimal(18,3), bin binary, n int32, "
        "dt date",
        "k1,k2", tune_compact);
}

static void test_db_model_composite_key_small_row_groups(void)
{
    run("model_comp_rg", KIND_COMPOSITE,
        "k1 string not null, k2 int64 not null, d double, b boolean, "
        "ts timestamp not null, dec decimal(18,3), bin binary, n int32, "
        "dt date",
        "k1,k2", tune_small_row_groups);
}

int main(void)
{
    MERU_TEST_RUN(test_db_model_int64_key);
    MERU_TEST_RUN(test_db_model_composite_key);
    MERU_TEST_RUN(test_db_model_composite_key_compacting);
    MERU_TEST_RUN(test_db_model_composite_key_small_row_groups);
    return meru_test_finish();
}
