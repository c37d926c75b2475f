/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sqlite_vtab.c — reading a table through the SQLite extension
 * (merutable_sqlite.so, loaded into Debian's libsqlite3 like any binding
 * would): exact results against the engine's own scans for full, point,
 * prefix, range, reverse and LIMIT/OFFSET queries on an int64 key and a
 * composite (string, int64) key, every column type printed as the engine
 * prints it, the plans EXPLAIN QUERY PLAN reports, the 1,000-key join
 * answered by point gets (counted by the engine's counters, not timed), IN
 * lists, read-only tables beside a writer, and connections sharing one
 * handle. Writes and transactions: test_sqlite_write.c; random queries
 * against native SQLite: test_sqlite_oracle.c.
 */
#include <math.h>

#include "sqlite_test.h"

/* Writes rows through this process's own copy of the library. */
typedef void (*fill_fn)(meru_row *row, size_t i);

static int make_table(const char *path, const char *columns, const char *key,
                      size_t n, fill_fn fill)
{
    meru_schema *s = NULL;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    meru_options o;
    int rc;
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    o.memtable_bytes = (size_t)4 << 20;
    rc = meru_schema_parse(&s, "t", columns, key);
    if (!rc)
        rc = meru_open(path, &o, s, &db);
    if (!rc)
        rc = meru_row_new(&row, meru_db_schema(db));
    if (!rc)
        rc = meru_write_batch_new(&b, meru_db_schema(db));
    for (size_t i = 0; !rc && i < n; i++) {
        meru_row_clear(row);
        fill(row, i);
        rc = meru_write_batch_put(b, row);
        if (!rc && (meru_write_batch_count(b) == 1000 || i + 1 == n)) {
            rc = meru_write(db, b, NULL);
            meru_write_batch_clear(b);
        }
    }
    if (rc)
        printf("make_table %s: %s\n", path, meru_errmsg());
    meru_write_batch_free(b);
    meru_row_free(row);
    if (db && meru_close(db) && !rc)
        rc = -1;
    meru_db_free(db);
    meru_schema_free(s);
    return rc;
}

/* The lines first..first+count-1 (0-based) of a result text. */
static char *lines(const char *text, size_t first, size_t count)
{
    sq_str out = {0};
    sq_puts(&out, "");
    size_t i = 0;
    for (const char *p = text; *p && i < first + count; i++) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p + 1) : strlen(p);
        if (i >= first)
            sq_put(&out, p, n);
        p += n;
    }
    return out.p;
}

/* ------------------------------------------------------ one int64 key */

#define TYPES_COLUMNS                                                          \
    "id int64 not null, name string, score double, flag boolean, day date, "   \
    "amount decimal(12,3), at timestamp, atz timestamptz, raw binary, "        \
    "code fixed(4), small int32, f float"

static void fill_types(meru_row *r, size_t i)
{
    /* Keys 0, 3, 6, ...; every kind of value, nulls in every column. */
    uint64_t x = meru_test_rand();
    char name[32], amount[32];
    meru_row_set_int64(r, 0, (int64_t)i * 3);
    if (x % 7) {
        snprintf(name, sizeof name, "n%zu-\xc3\xa9\"'|", i);
        meru_row_set_string(r, 1, name, strlen(name));
    } else {
        meru_row_set_null(r, 1);
    }
    if (x % 5)
        meru_row_set_double(r, 2, (double)(int64_t)(x % 2001 - 1000) / 8);
    if (x % 3)
        meru_row_set_bool(r, 3, (int)(x >> 8 & 1));
    /* Days spread over years -1000..12000: signed and 5-digit years. */
    if (x % 4)
        meru_row_set_date(r, 4, (int32_t)((x >> 10) % 4745000) - 1085000);
    snprintf(amount, sizeof amount, "%s%llu.%03llu", x & 1 ? "-" : "",
             (unsigned long long)(x >> 20) % 100000,
             (unsigned long long)(x >> 40) % 1000);
    if (x % 6)
        meru_row_set_decimal_str(r, 5, amount);
    /* Microseconds: whole seconds for some rows, fractions for others,
     * before and after 1970. */
    int64_t us = (int64_t)((x >> 3) % 8000000000000000ull) - 2000000000000000;
    if (x % 2)
        us -= us % 1000000;
    meru_row_set_timestamp(r, 6, us);
    meru_row_set_timestamp(r, 7, us / 3);
    uint8_t raw[8] = {0, (uint8_t)i, (uint8_t)(i >> 8), 0xff, 0, 1, 2, 3};
    meru_row_set_binary(r, 8, raw, x % 9);
    meru_row_set_binary(r, 9, raw + 2, 4);
    meru_row_set_int32(r, 10, (int32_t)(x >> 32));
    meru_row_set_float(r, 11, (float)(x % 1000) / 16.0f);
}

static void test_every_type_reads_as_the_engine_prints_it(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", meru_test_tmpdir("sqlite-types"));
    size_t n = (size_t)(3000 * meru_test_scale());
    CHECK_EQ_INT(make_table(path, TYPES_COLUMNS, "id", n, fill_types), 0);
    sqlite3 *db = sq_open();
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(
        sq_exec(db, "CREATE VIRTUAL TABLE t USING merutable(%Q)", path),
        SQLITE_OK);
    meru_scan_options o;
    meru_scan_options_init(&o);
    char *want = sq_engine_rows(db, path, &o);
    meru_schema *s = NULL;
    CHECK_EQ_INT(meru_schema_parse(&s, "t", TYPES_COLUMNS, "id"), 0);
    char *got = sq_vtab_rows(db, s, "t", "");
    CHECK_ROWS(got, want);
    /* Spot checks of the text forms, independent of the engine's JSON. */
    char *t = sq_text(db, "SELECT typeof(id), typeof(score), typeof(flag), "
                          "typeof(raw), typeof(day) FROM t WHERE id = 3");
    CHECK_HAS(t, "integer|");
    CHECK_HAS(t, "|blob|");
    free(t);
    t = sq_text(db, "SELECT count(*) FROM t WHERE day LIKE '+1____-__-__' "
                    "OR day LIKE '-____-__-__'");
    CHECK(t && atoi(t) > 0); /* years outside 0000..9999 occurred */
    free(t);
    t = sq_text(db, "PRAGMA table_info(t)");
    CHECK_HAS(t, "0|id|INTEGER|1|NULL|1\n");
    CHECK_HAS(t, "2|score|REAL|0|NULL|0\n");
    CHECK_HAS(t, "4|day|TEXT|0|NULL|0\n");
    CHECK_HAS(t, "8|raw|BLOB|0|NULL|0\n");
    free(t);
    free(got);
    free(want);
    meru_schema_free(s);
    sqlite3_close(db);
}

static void fill_ints(meru_row *r, size_t i)
{
    char name[32];
    snprintf(name, sizeof name, "row %zu", i);
    meru_row_set_int64(r, 0, (int64_t)i * 3 - 300);
    meru_row_set_string(r, 1, name, strlen(name));
    meru_row_set_double(r, 2, (double)i / 4);
}

typedef struct read_case {
    const char *rest; /* after SELECT ... FROM t */
    const char *plan; /* a fragment of EXPLAIN QUERY PLAN */
    int64_t lo, hi;   /* engine bounds (INT64_MIN/MAX: none) */
    int lo_incl, hi_incl, reverse;
    size_t skip, take; /* lines of the engine's answer (take 0: all) */
} read_case;

static void test_int_key_queries_match_engine_scans(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", meru_test_tmpdir("sqlite-int"));
    const char *cols = "id int64 not null, name string, v double";
    size_t n = 1000;
    CHECK_EQ_INT(make_table(path, cols, "id", n, fill_ints), 0);
    sqlite3 *db = sq_open();
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(
        sq_exec(db, "CREATE VIRTUAL TABLE t USING merutable(%Q)", path),
        SQLITE_OK);
    meru_schema *s = NULL;
    CHECK_EQ_INT(meru_schema_parse(&s, "t", cols, "id"), 0);
    const int64_t NO_LO = INT64_MIN, NO_HI = INT64_MAX;
    const read_case cases[] = {
        {"", "INDEX 0:scan", NO_LO, NO_HI, 1, 1, 0, 0, 0},
        {"WHERE id = 300", "get(id)", 300, 300, 1, 1, 0, 0, 0},
        {"WHERE id = 301", "get(id)", 301, 301, 1, 1, 0, 0, 0},
        {"WHERE id > 100 AND id <= 900", "range(id>,id<=)", 100, 900, 0, 1, 0,
         0, 0},
        {"WHERE id BETWEEN -30 AND 60", "range(id>=,id<=)", -30, 60, 1, 1, 0, 0,
         0},
        {"WHERE id < -200", "range(id<)", NO_LO, -200, 1, 0, 0, 0, 0},
        {"ORDER BY id DESC", "scan order=desc", NO_LO, NO_HI, 1, 1, 1, 0, 0},
        {"WHERE id >= 12 ORDER BY id", "range(id>=) order=asc", 12, NO_HI, 1, 1,
         0, 0, 0},
        {"WHERE id < 500 ORDER BY id DESC LIMIT 7",
         "range(id<) order=desc limit", NO_LO, 500, 1, 0, 1, 0, 7},
        {"ORDER BY id LIMIT 5 OFFSET 10", "scan order=asc limit offset", NO_LO,
         NO_HI, 1, 1, 0, 10, 5},
        {"LIMIT 3", "scan limit", NO_LO, NO_HI, 1, 1, 0, 0, 3},
    };
    meru_row *lo = NULL, *hi = NULL;
    CHECK_EQ_INT(meru_row_new(&lo, s), 0);
    CHECK_EQ_INT(meru_row_new(&hi, s), 0);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const read_case *k = &cases[c];
        meru_scan_options o;
        meru_scan_options_init(&o);
        meru_row_set_int64(lo, 0, k->lo);
        meru_row_set_int64(hi, 0, k->hi);
        if (k->lo != NO_LO) {
            o.lower = lo;
            o.lower_inclusive = k->lo_incl;
        }
        if (k->hi != NO_HI) {
            o.upper = hi;
            o.upper_inclusive = k->hi_incl;
        }
        o.reverse = k->reverse;
        char *all = sq_engine_rows(db, path, &o);
        CHECK_MSG(all, "engine: %s", sq_err);
        char *want = k->take ? lines(all, k->skip, k->take) : all;
        char *got = sq_vtab_rows(db, s, "t", k->rest);
        CHECK_ROWS(got, want);
        char *q = sqlite3_mprintf("SELECT * FROM t %s", k->rest);
        char *plan = sq_plan(db, q);
        sqlite3_free(q);
        CHECK_HAS(plan, k->plan);
        free(plan);
        if (want != all)
            free(want);
        free(all);
        free(got);
    }
    /* The absent key gives nothing; the projection is in the plan. */
    char *t = sq_text(db, "SELECT count(*) FROM t WHERE id = 301");
    CHECK_STR(t, "0\n");
    free(t);
    t = sq_plan(db, "SELECT name FROM t WHERE id > 10");
    CHECK_HAS(t, "range(id>) cols=0x3");
    free(t);
    /* A value that no int64 key can equal, and bounds past the range. */
    t = sq_text(db, "SELECT count(*) FROM t WHERE id = 2.5");
    CHECK_STR(t, "0\n");
    free(t);
    t = sq_text(db, "SELECT count(*) FROM t WHERE id > 2.5 AND id < '9'");
    CHECK_STR(t, "2\n"); /* 3 and 6 */
    free(t);
    meru_row_free(lo);
    meru_row_free(hi);
    meru_schema_free(s);
    sqlite3_close(db);
}

/* ------------------------------------------- a (string, int64) key */

static const char *const users[] = {"", "a", "ab", "b", "user-10", "\xc3\xbc"};

static void fill_events(meru_row *r, size_t i)
{
    const char *u = users[i % 6];
    char note[32];
    snprintf(note, sizeof note, "e%zu", i);
    meru_row_set_string(r, 0, u, strlen(u));
    meru_row_set_int64(r, 1, (int64_t)(i / 6) * 7 - 50);
    meru_row_set_double(r, 2, (double)i / 2);
    meru_row_set_string(r, 3, note, strlen(note));
}

static void test_composite_key_queries_match_engine_scans(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", meru_test_tmpdir("sqlite-comp"));
    const char *cols = "user string not null, seq int64 not null, v double, "
                       "note string";
    CHECK_EQ_INT(make_table(path, cols, "user,seq", 600, fill_events), 0);
    sqlite3 *db = sq_open();
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(
        sq_exec(db, "CREATE VIRTUAL TABLE e USING merutable(%Q)", path),
        SQLITE_OK);
    meru_schema *s = NULL;
    CHECK_EQ_INT(meru_schema_parse(&s, "e", cols, "user,seq"), 0);
    meru_row *pfx = NULL, *lo = NULL, *hi = NULL;
    CHECK_EQ_INT(meru_row_new(&pfx, s), 0);
    CHECK_EQ_INT(meru_row_new(&lo, s), 0);
    CHECK_EQ_INT(meru_row_new(&hi, s), 0);
    struct {
        const char *rest, *plan;
        const char *pfx_user, *lo_user, *hi_user;
        int64_t lo_seq, hi_seq; /* with lo_user/hi_user; INT64_MIN: none */
        int lo_incl, hi_incl, reverse;
    } cases[] = {
        {"", "scan", NULL, NULL, NULL, INT64_MIN, INT64_MIN, 1, 0, 0},
        {"WHERE user = 'ab'", "prefix(user)", "ab", NULL, NULL, INT64_MIN,
         INT64_MIN, 1, 0, 0},
        {"WHERE user = ''", "prefix(user)", "", NULL, NULL, INT64_MIN,
         INT64_MIN, 1, 0, 0},
        {"WHERE user = 'ab' AND seq = 20", "get(user,seq)", "ab", "ab", "ab",
         20, 20, 1, 1, 0},
        {"WHERE user = 'ab' AND seq >= -5 AND seq < 300",
         "prefix(user) range(seq>=,seq<)", "ab", "ab", "ab", -5, 300, 1, 0, 0},
        {"WHERE user >= 'a' AND user < 'b'", "range(user>=,user<)", NULL, "a",
         "b", INT64_MIN, INT64_MIN, 1, 0, 0},
        {"WHERE user > 'ab'", "range(user>)", NULL, "ab", NULL, INT64_MIN,
         INT64_MIN, 0, 0, 0},
        {"WHERE user = 'a' ORDER BY seq DESC", "prefix(user) order=desc", "a",
         NULL, NULL, INT64_MIN, INT64_MIN, 1, 0, 1},
        {"ORDER BY user DESC, seq DESC", "scan order=desc", NULL, NULL, NULL,
         INT64_MIN, INT64_MIN, 1, 0, 1},
        {"WHERE user = 'b' AND seq < 100 ORDER BY user, seq DESC",
         "prefix(user) range(seq<) order=desc", "b", NULL, "b", INT64_MIN, 100,
         1, 0, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        meru_scan_options o;
        meru_scan_options_init(&o);
        meru_row_clear(pfx);
        meru_row_clear(lo);
        meru_row_clear(hi);
        if (cases[c].pfx_user) {
            meru_row_set_string(pfx, 0, cases[c].pfx_user,
                                strlen(cases[c].pfx_user));
            o.prefix = pfx;
        }
        if (cases[c].lo_user) {
            meru_row_set_string(lo, 0, cases[c].lo_user,
                                strlen(cases[c].lo_user));
            if (cases[c].lo_seq != INT64_MIN)
                meru_row_set_int64(lo, 1, cases[c].lo_seq);
            o.lower = lo;
            o.lower_inclusive = cases[c].lo_incl;
        }
        if (cases[c].hi_user) {
            meru_row_set_string(hi, 0, cases[c].hi_user,
                                strlen(cases[c].hi_user));
            if (cases[c].hi_seq != INT64_MIN)
                meru_row_set_int64(hi, 1, cases[c].hi_seq);
            o.upper = hi;
            o.upper_inclusive = cases[c].hi_incl;
        }
        o.reverse = cases[c].reverse;
        char *want = sq_engine_rows(db, path, &o);
        char *got = sq_vtab_rows(db, s, "e", cases[c].rest);
        CHECK_ROWS(got, want);
        char *q = sqlite3_mprintf("SELECT * FROM e %s", cases[c].rest);
        char *plan = sq_plan(db, q);
        sqlite3_free(q);
        CHECK_HAS(plan, cases[c].plan);
        free(plan);
        free(got);
        free(want);
    }
    /* The hidden key column: not in SELECT *, one per row. */
    char *t = sq_text(db, "SELECT count(*), count(DISTINCT _merutable_key) "
                          "FROM e");
    CHECK_STR(t, "600|600\n");
    free(t);
    t = sq_text(db, "SELECT * FROM e WHERE user = 'b' AND seq = 20");
    CHECK_STR(t, "b|20|31.5|e63\n");
    free(t);
    /* Ordering by a non-leading key column is SQLite's job. */
    t = sq_plan(db, "SELECT * FROM e ORDER BY seq");
    CHECK_HAS(t, "USE TEMP B-TREE FOR ORDER BY");
    free(t);
    meru_row_free(pfx);
    meru_row_free(lo);
    meru_row_free(hi);
    meru_schema_free(s);
    sqlite3_close(db);
}

/* ------------------------------------------------------ the big join */

static void fill_big(meru_row *r, size_t i)
{
    meru_row_set_int64(r, 0, (int64_t)i * 2);
    meru_row_set_int64(r, 1, (int64_t)(i % 1000));
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_join_of_1000_keys_uses_point_gets(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", meru_test_tmpdir("sqlite-join"));
    size_t n = (size_t)(200000 * meru_test_scale());
    CHECK_EQ_INT(
        make_table(path, "id int64 not null, v int64", "id", n, fill_big), 0);
    sqlite3 *db = sq_open();
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(sq_exec(db,
                         "CREATE VIRTUAL TABLE big USING merutable(%Q);"
                         "CREATE TABLE keys(id INTEGER)",
                         path),
                 SQLITE_OK);
    /* 1,000 keys: most present (even), some absent (odd), in random
     * order, and some repeated: the last repeats the first present one,
     * and random draws repeat too, the more so the smaller the table
     * (MERU_TEST_SCALE 0.5 draws a present key twice with the default
     * seed).
     * The join gives a row per key row, so its answer counts repeats; the
     * IN list asks for each table row once, so its answer counts distinct
     * keys. Both follow from the fill rule. */
    sqlite3_stmt *ins = NULL;
    CHECK_EQ_INT(
        sqlite3_prepare_v2(db, "INSERT INTO keys VALUES(?)", -1, &ins, NULL),
        SQLITE_OK);
    int64_t ids[1000];
    long long found = 0, sum = 0;
    for (int k = 0; k < 1000; k++) {
        ids[k] = (int64_t)(meru_test_rand() % (2 * n));
        if (k == 999)
            for (int j = 0; j < k; j++)
                if (ids[j] % 2 == 0) {
                    ids[k] = ids[j];
                    break;
                }
        if (ids[k] % 2 == 0) {
            found++;
            sum += (ids[k] / 2) % 1000;
        }
        sqlite3_bind_int64(ins, 1, ids[k]);
        CHECK_EQ_INT(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    const char *join = "SELECT count(*), sum(big.v) FROM keys JOIN big "
                       "ON big.id = keys.id";
    char *plan = sq_plan(db, join);
    CHECK_HAS(plan, "SCAN keys");
    CHECK_HAS(plan, "SCAN big VIRTUAL TABLE INDEX 1:get(id)");
    free(plan);
    long long gets = sq_stat(db, path, "gets"),
              scans = sq_stat(db, path, "scans");
    char *t = sq_text(db, "%s", join);
    char want[64];
    snprintf(want, sizeof want, "%lld|%s\n", found, found ? "" : "NULL");
    if (found)
        snprintf(want, sizeof want, "%lld|%lld\n", found, sum);
    CHECK_STR(t, want);
    free(t);
    /* One get per key row, no scan at all. */
    CHECK_EQ_INT(sq_stat(db, path, "gets") - gets, 1000);
    CHECK_EQ_INT(sq_stat(db, path, "scans") - scans, 0);

    /* The same keys as an IN list: all at once, one get per distinct
     * key, and each table row once however often its key repeats. */
    qsort(ids, 1000, sizeof ids[0], cmp_int64);
    long long distinct = 0, dfound = 0, dsum = 0;
    for (int k = 0; k < 1000; k++) {
        if (k && ids[k] == ids[k - 1])
            continue;
        distinct++;
        if (ids[k] % 2 == 0) {
            dfound++;
            dsum += (ids[k] / 2) % 1000;
        }
    }
    CHECK(distinct < 1000); /* the planted repeat at least */
    t = sq_text(db, "SELECT count(DISTINCT id) FROM keys");
    CHECK_EQ_INT(t ? atoll(t) : -1, distinct);
    free(t);
    snprintf(want, sizeof want, "%lld|%s\n", dfound, dfound ? "" : "NULL");
    if (dfound)
        snprintf(want, sizeof want, "%lld|%lld\n", dfound, dsum);
    const char *in = "SELECT count(*), sum(v) FROM big WHERE id IN "
                     "(SELECT id FROM keys)";
    plan = sq_plan(db, in);
    CHECK_HAS(plan, "get(id IN)");
    free(plan);
    gets = sq_stat(db, path, "gets");
    t = sq_text(db, "%s", in);
    CHECK_STR(t, want);
    free(t);
    CHECK_EQ_INT(sq_stat(db, path, "gets") - gets, distinct);
    CHECK_EQ_INT(sq_stat(db, path, "scans") - scans, 0);
    sqlite3_close(db);
}

/* ------------------------------------------------------------ IN lists */

static void test_in_lists_sorted_deduplicated_and_typed(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", meru_test_tmpdir("sqlite-in"));
    CHECK_EQ_INT(make_table(path, "id int64 not null, name string, v double",
                            "id", 100, fill_ints),
                 0);
    sqlite3 *db = sq_open();
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(
        sq_exec(db, "CREATE VIRTUAL TABLE t USING merutable(%Q)", path),
        SQLITE_OK);
    /* Keys are -300, -297, ..., -3. Duplicates, an absent key, NULL,
     * numeric text, a whole real, a fraction and non-numeric text: SQL's
     * answer is -3, -6 and -9. */
    const char *q = "SELECT id FROM t WHERE id IN (-6, -3, -6, -7, NULL, "
                    "'-9', -3.0, 2.5, 'x') ORDER BY id DESC";
    char *plan = sq_plan(db, q);
    CHECK_HAS(plan, "get(id IN) order=desc");
    free(plan);
    long long gets = sq_stat(db, path, "gets");
    char *t = sq_text(db, "%s", q);
    CHECK_STR(t, "-3\n-6\n-9\n");
    free(t);
    /* One get per distinct key a value converts to: -3, -6, -7, -9. */
    CHECK_EQ_INT(sq_stat(db, path, "gets") - gets, 4);
    t = sq_text(db, "SELECT id FROM t WHERE id IN (-9, -12) ORDER BY id");
    CHECK_STR(t, "-12\n-9\n");
    free(t);
    t = sq_text(db, "SELECT id FROM t WHERE id IN (NULL, 'x')");
    CHECK_STR(t, "");
    free(t);
    sqlite3_close(db);
}

/* ------------------------------------------ read-only beside a writer */

static void test_readonly_table_sees_commits_at_each_statement(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", meru_test_tmpdir("sqlite-ro"));
    meru_schema *s = NULL;
    meru_db *w = NULL;
    meru_row *row = NULL;
    meru_options o;
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    CHECK_EQ_INT(
        meru_schema_parse(&s, "t", "id int64 not null, v string", "id"), 0);
    /* This process's copy of the library is the writer; the extension's
     * copy opens the table read-only, as another process would. */
    CHECK_EQ_INT(meru_open(path, &o, s, &w), 0);
    CHECK_EQ_INT(meru_row_new(&row, meru_db_schema(w)), 0);
    sqlite3 *db = sq_open();
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(sq_exec(db,
                         "CREATE VIRTUAL TABLE r USING merutable(%Q, "
                         "'readonly')",
                         path),
                 SQLITE_OK);
    char *t = sq_text(db, "SELECT count(*) FROM r");
    CHECK_STR(t, "0\n");
    free(t);
    for (int round = 1; round <= 3; round++) {
        for (int i = 0; i < 10; i++) {
            meru_row_clear(row);
            meru_row_set_int64(row, 0, round * 100 + i);
            meru_row_set_string(row, 1, "x", 1);
            CHECK_EQ_INT(meru_put(w, row, NULL), 0);
        }
        if (round == 2)
            CHECK_EQ_INT(meru_flush(w), 0); /* now in a file, not the WAL */
        char want[16];
        snprintf(want, sizeof want, "%d\n", round * 10);
        t = sq_text(db, "SELECT count(*) FROM r");
        CHECK_STR(t, want);
        free(t);
    }
    t = sq_text(db, "SELECT id FROM r WHERE id = 205");
    CHECK_STR(t, "205\n");
    free(t);
    /* Writes through it are refused; a writing table cannot open while
     * this process's writer holds the lock. */
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO r VALUES(1, 'y')"), SQLITE_READONLY);
    CHECK_HAS(sq_err, "opened 'readonly'");
    CHECK(sq_exec(db, "CREATE VIRTUAL TABLE w USING merutable(%Q)", path) !=
          SQLITE_OK);
    CHECK_HAS(sq_err, "table is locked by another writer");
    CHECK_HAS(sq_err, "open for writing");
    meru_row_free(row);
    CHECK_EQ_INT(meru_close(w), 0);
    meru_db_free(w);
    meru_schema_free(s);
    sqlite3_close(db);
}

/* ------------------------------------------------- shared handles */

static void test_connections_share_one_handle_per_table(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", meru_test_tmpdir("sqlite-share"));
    CHECK_EQ_INT(make_table(path, "id int64 not null, name string, v double",
                            "id", 10, fill_ints),
                 0);
    sqlite3 *a = sq_open(), *b = sq_open();
    CHECK_MSG(a && b, "%s", sq_err);
    /* Both write the table: one handle, so no "locked". A relative path
     * and a different spelling name the same table. */
    CHECK_EQ_INT(sq_exec(a, "CREATE VIRTUAL TABLE t USING merutable(%Q)", path),
                 SQLITE_OK);
    char *other = sqlite3_mprintf("%s/./", path);
    CHECK_EQ_INT(
        sq_exec(b, "CREATE VIRTUAL TABLE u USING merutable(%Q)", other),
        SQLITE_OK);
    sqlite3_free(other);
    CHECK_EQ_INT(sq_exec(a, "INSERT INTO t VALUES(1000, 'from a', 1)"),
                 SQLITE_OK);
    char *t = sq_text(b, "SELECT name FROM u WHERE id = 1000");
    CHECK_STR(t, "from a\n");
    free(t);
    /* A pending transaction of one connection is its own until COMMIT. */
    CHECK_EQ_INT(sq_exec(b, "BEGIN; INSERT INTO u VALUES(1001, 'b', 2)"),
                 SQLITE_OK);
    t = sq_text(a, "SELECT count(*) FROM t WHERE id > 999");
    CHECK_STR(t, "1\n");
    free(t);
    CHECK_EQ_INT(sq_exec(b, "COMMIT"), SQLITE_OK);
    t = sq_text(a, "SELECT count(*) FROM t WHERE id > 999");
    CHECK_STR(t, "2\n");
    free(t);
    sqlite3_close(a);
    t = sq_text(b, "SELECT count(*) FROM u");
    CHECK_STR(t, "12\n");
    free(t);
    t = sq_text(b, "SELECT merutable_stats(%Q)", path);
    CHECK_HAS(t, "\"puts\"");
    free(t);
    CHECK(sq_text(b, "SELECT merutable_stats('/nonexistent')") == NULL);
    CHECK_HAS(sq_err, "no merutable virtual table");
    sqlite3_close(b);
    /* The last connection closed the table: this process can open it for
     * writing now. */
    meru_db *w = NULL;
    CHECK_EQ_INT(meru_open(path, NULL, NULL, &w), 0);
    meru_db_free(w);
}

static void fill_id(meru_row *r, size_t i)
{
    meru_row_set_int64(r, 0, (int64_t)i);
}

static void test_bad_arguments_are_sql_errors(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", meru_test_tmpdir("sqlite-args"));
    sqlite3 *db = sq_open();
    CHECK_MSG(db, "%s", sq_err);
    CHECK(sq_exec(db, "CREATE VIRTUAL TABLE t USING merutable(%Q)", path) !=
          SQLITE_OK);
    CHECK_HAS(sq_err, path); /* the directory exists but holds no table */
    CHECK(sq_exec(db, "CREATE VIRTUAL TABLE t USING merutable('%s/none')",
                  path) != SQLITE_OK);
    CHECK_HAS(sq_err, "no table at");
    CHECK(sq_exec(db, "CREATE VIRTUAL TABLE t USING merutable") != SQLITE_OK);
    CHECK_HAS(sq_err, "usage");
    CHECK_EQ_INT(make_table(path, "id int64 not null", "id", 1, fill_id), 0);
    CHECK(sq_exec(db, "CREATE VIRTUAL TABLE t USING merutable(%Q, 'fast')",
                  path) != SQLITE_OK);
    CHECK_HAS(sq_err, "unknown option 'fast'");
    CHECK_EQ_INT(sq_exec(db,
                         "CREATE VIRTUAL TABLE t USING merutable(%Q, "
                         "READONLY)",
                         path),
                 SQLITE_OK);
    /* DROP TABLE forgets the declaration, never the data. */
    CHECK_EQ_INT(sq_exec(db, "DROP TABLE t"), SQLITE_OK);
    CHECK_EQ_INT(
        sq_exec(db, "CREATE VIRTUAL TABLE t USING merutable(%Q)", path),
        SQLITE_OK);
    char *t = sq_text(db, "SELECT count(*) FROM t");
    CHECK_STR(t, "1\n");
    free(t);
    sqlite3_close(db);
}

/* -0.0 and +0.0: two keys to the engine (-0.0 first), one value to SQL,
 * which orders their rows by the next ORDER BY term. */
static void test_float_key_zeros_are_one_sql_value(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", meru_test_tmpdir("sqlite-zero"));
    meru_schema *s = NULL;
    meru_db *w = NULL;
    CHECK_EQ_INT(meru_schema_parse(
                     &s, "z", "x double not null, i int32 not null", "x,i"),
                 0);
    CHECK_EQ_INT(meru_open(path, NULL, s, &w), 0);
    CHECK_EQ_INT(meru_close(w), 0);
    meru_db_free(w);
    meru_schema_free(s);
    sqlite3 *db = sq_open();
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(sq_exec(db,
                         "CREATE VIRTUAL TABLE z USING merutable(%Q);"
                         "INSERT INTO z VALUES(-0.0, 5), (0.0, 1), (0.5, 0)",
                         path),
                 SQLITE_OK);
    char *t = sq_text(db, "SELECT i FROM z ORDER BY x, i");
    CHECK_STR(t, "1\n5\n0\n");
    free(t);
    t = sq_plan(db, "SELECT i FROM z ORDER BY x, i");
    CHECK_HAS(t, "USE TEMP B-TREE");
    free(t);
    /* The key alone is consumed (ties in any order), and x = 0 finds
     * both zeros. */
    t = sq_plan(db, "SELECT i FROM z ORDER BY x DESC");
    CHECK_HAS(t, "scan order=desc");
    free(t);
    t = sq_text(db, "SELECT i FROM z WHERE x = 0 ORDER BY i");
    CHECK_STR(t, "1\n5\n");
    free(t);
    t = sq_text(db, "SELECT i FROM z WHERE x >= -0.0 AND x < 0.5 ORDER BY i");
    CHECK_STR(t, "1\n5\n");
    free(t);
    sqlite3_close(db);
}

int main(void)
{
    MERU_TEST_RUN(test_every_type_reads_as_the_engine_prints_it);
    MERU_TEST_RUN(test_int_key_queries_match_engine_scans);
    MERU_TEST_RUN(test_composite_key_queries_match_engine_scans);
    MERU_TEST_RUN(test_join_of_1000_keys_uses_point_gets);
    MERU_TEST_RUN(test_in_lists_sorted_deduplicated_and_typed);
    MERU_TEST_RUN(test_readonly_table_sees_commits_at_each_statement);
    MERU_TEST_RUN(test_connections_share_one_handle_per_table);
    MERU_TEST_RUN(test_bad_arguments_are_sql_errors);
    MERU_TEST_RUN(test_float_key_zeros_are_one_sql_value);
    return meru_test_finish();
}
