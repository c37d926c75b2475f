/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sqlite_oracle.c — SQLite itself as the model of the extension.
 *
 * For tables keyed by each kind of column (int32, (string, int64),
 * double, binary, date, (double, int32), (boolean, int64)), the rows are
 * copied from the virtual table into a native SQLite table, and random
 * queries run against both must return the same rows: WHERE clauses of
 * =, <, <=, >, >=, BETWEEN, IN, IS and != on key and other columns with
 * constants of every SQL type (in range and past it, numeric text, reals
 * on integer keys, -0.0 and +0.0, NULL, blobs against text...), any
 * ORDER BY direction, and LIMIT/OFFSET. This pins the whole pushdown: a
 * bound the module makes too narrow, an ORDER BY it claims but does not
 * produce, a LIMIT it takes while SQLite still filters, all show up as a
 * different answer. Then the same with random writes pending in a
 * transaction (the merge of the engine's rows with the transaction's own),
 * applied to both tables, before a COMMIT or ROLLBACK of both.
 */
#include <math.h>

#include "sqlite_test.h"

#define POOL(p) p, sizeof p / sizeof p[0]

/* Values of the right type (rows use them) and of every other type
 * (queries use those too). */
static const char *const ints[] = {
    "0",  "-1",         "5",           "-60", "60", "7",   "-7",
    "12", "2147483647", "-2147483648", "-5",  "31", "-31", "1"};
static const char *const int_q[] = {"2147483648",
                                    "-2147483649",
                                    "-9223372036854775808",
                                    "9223372036854775807",
                                    "2.5",
                                    "-2.5",
                                    "3.0",
                                    "'7'",
                                    "'-7'",
                                    "'x'",
                                    "''",
                                    "NULL",
                                    "X'00'",
                                    "1e30",
                                    "-1e30",
                                    "' 7'",
                                    "'7.0'"};
static const char *const strs[] = {"''",   "'a'",        "'ab'",  "'b'", "'5'",
                                   "'10'", "'\xc3\xa9'", "'a b'", "'zz'"};
static const char *const str_q[] = {"5",     "10",  "2.5",  "NULL",
                                    "X'61'", "'A'", "'aa'", "'c'"};
static const char *const i64s[] = {"0",
                                   "-20",
                                   "20",
                                   "3",
                                   "-3",
                                   "11",
                                   "9223372036854775807",
                                   "-9223372036854775808",
                                   "4"};
static const char *const dbls[] = {"-0.0",   "0.0",   "0.5",    "-2.5", "1e300",
                                   "-1e308", "9e999", "-9e999", "1",    "2.5",
                                   "1e-300", "3.25",  "-1"};
static const char *const dbl_q[] = {"0",    "'1'",    "'abc'",
                                    "NULL", "X'00'",  "2",
                                    "-0",   "'-0.0'", "9223372036854775807"};
static const char *const blobs[] = {"X''",   "X'00'",   "X'0001'", "X'61'",
                                    "X'ff'", "X'ffff'", "X'6100'", "X'01'"};
static const char *const blob_q[] = {"'a'", "1", "NULL", "X'00ff'", "''"};
static const char *const dates[] = {
    "'2026-01-31'", "'1970-01-01'", "'+10000-01-01'", "'-0001-12-31'",
    "'2000-02-29'", "'0000-01-01'", "'9999-12-31'"};
static const char *const date_q[] = {"'2026-1-31'", "20260131",      "NULL",
                                     "'x'",         "'2026-01-31 '", "X'00'"};
static const char *const texts[] = {"'v1'", "'v2'", "NULL", "'x'", "''"};
static const char *const bools[] = {"0", "1"};
static const char *const bool_q[] = {"2", "-1", "'1'", "0.5", "NULL", "'t'"};
static const char *const tstz[] = {"'2026-01-01T00:00:00Z'",
                                   "'2026-01-01T00:00:00.500000Z'",
                                   "'1969-12-31T23:59:59.999999Z'", "NULL"};
static const char *const decs[] = {"'12.50'", "'-0.01'", "'9.75'", "'0.00'",
                                   "NULL"};

static const char *pick(const char *const *p, size_t n)
{
    return p[meru_test_rand() % n];
}

/* A literal for a column: mostly its own pool, sometimes the cross-type
 * one. */
static const char *literal(const char *const *own, size_t nown,
                           const char *const *other, size_t nother)
{
    if (other && meru_test_rand() % 3 == 0)
        return pick(other, nother);
    return pick(own, nown);
}

typedef struct col_def {
    const char *name;
    const char *const *own;
    size_t nown;
    const char *const *other;
    size_t nother;
    int real; /* printed through x + 0.0 (-0.0 and +0.0 alike) */
} col_def;

typedef struct table_case {
    const char *name, *columns, *key, *decl;
    col_def cols[4];
    int ncols, nkey, rows, writes;
} table_case;

static const table_case cases[] = {
    {"i32",
     "k int32 not null, v string",
     "k",
     "k INTEGER NOT NULL, v TEXT, PRIMARY KEY(k)",
     {{"k", POOL(ints), POOL(int_q), 0}, {"v", POOL(texts), NULL, 0, 0}},
     2,
     1,
     14,
     1},
    {"comp",
     "s string not null, n int64 not null, v string",
     "s,n",
     "s TEXT NOT NULL, n INTEGER NOT NULL, v TEXT, PRIMARY KEY(s, n)",
     {{"s", POOL(strs), POOL(str_q), 0},
      {"n", POOL(i64s), POOL(int_q), 0},
      {"v", POOL(texts), NULL, 0, 0}},
     3,
     2,
     60,
     1},
    {"dbl",
     "x double not null, v int64",
     "x",
     NULL,
     {{"x", POOL(dbls), POOL(dbl_q), 1}, {"v", POOL(ints), NULL, 0, 0}},
     2,
     1,
     13,
     0},
    {"bin",
     "b binary not null, v string",
     "b",
     "b BLOB NOT NULL, v TEXT, PRIMARY KEY(b)",
     {{"b", POOL(blobs), POOL(blob_q), 0}, {"v", POOL(texts), NULL, 0, 0}},
     2,
     1,
     8,
     1},
    {"day",
     "d date not null, at timestamptz, amount decimal(6,2)",
     "d",
     "d TEXT NOT NULL, at TEXT, amount TEXT, PRIMARY KEY(d)",
     {{"d", POOL(dates), POOL(date_q), 0},
      {"at", POOL(tstz), NULL, 0, 0},
      {"amount", POOL(decs), NULL, 0, 0}},
     3,
     1,
     7,
     1},
    {"dblcomp",
     "x double not null, i int32 not null, v string",
     "x,i",
     NULL,
     {{"x", POOL(dbls), POOL(dbl_q), 1},
      {"i", POOL(ints), POOL(int_q), 0},
      {"v", POOL(texts), NULL, 0, 0}},
     3,
     2,
     60,
     0},
    {"boolcomp",
     "f boolean not null, n int64 not null, v string",
     "f,n",
     "f INTEGER NOT NULL, n INTEGER NOT NULL, v TEXT, PRIMARY KEY(f, n)",
     {{"f", POOL(bools), POOL(bool_q), 0},
      {"n", POOL(i64s), POOL(int_q), 0},
      {"v", POOL(texts), NULL, 0, 0}},
     3,
     2,
     18,
     1},
};

/* The select list, with reals made sign-blind and printed exactly. */
static char *select_list(const table_case *t)
{
    sq_str s = {0};
    sq_puts(&s, "");
    for (int i = 0; i < t->ncols; i++) {
        char *e = t->cols[i].real
                      ? sqlite3_mprintf("%sprintf('%%!.17g', %s + 0.0)",
                                        i ? ", " : "", t->cols[i].name)
                      : sqlite3_mprintf("%squote(%s)", i ? ", " : "",
                                        t->cols[i].name);
        sq_puts(&s, e);
        sqlite3_free(e);
    }
    return s.p;
}

/* One random condition on a column. */
static void atom(sq_str *w, const table_case *t)
{
    /* Key columns most of the time: that is what is pushed down. */
    int c = (int)(meru_test_rand() % 4 == 0 ? meru_test_rand() % t->ncols
                                            : meru_test_rand() % t->nkey);
    const col_def *d = &t->cols[c];
#define LIT() literal(d->own, d->nown, d->other, d->nother)
    char *e = NULL;
    switch (meru_test_rand() % 10) {
    case 0:
    case 1:
        e = sqlite3_mprintf("%s = %s", d->name, LIT());
        break;
    case 2:
        e = sqlite3_mprintf("%s < %s", d->name, LIT());
        break;
    case 3:
        e = sqlite3_mprintf("%s <= %s", d->name, LIT());
        break;
    case 4:
        e = sqlite3_mprintf("%s > %s", d->name, LIT());
        break;
    case 5:
        e = sqlite3_mprintf("%s >= %s", d->name, LIT());
        break;
    case 6: {
        const char *a = LIT(), *b = LIT(), *x = LIT();
        e = sqlite3_mprintf("%s IN (%s, %s, %s)", d->name, a, b, x);
        break;
    }
    case 7: {
        const char *a = LIT(), *b = LIT();
        e = sqlite3_mprintf("%s BETWEEN %s AND %s", d->name, a, b);
        break;
    }
    case 8:
        e = sqlite3_mprintf("%s IS %s", d->name, LIT());
        break;
    default:
        e = sqlite3_mprintf("%s != %s", d->name, LIT());
        break;
    }
#undef LIT
    sq_puts(w, e);
    sqlite3_free(e);
}

/* WHERE ... ORDER BY ... [LIMIT ...]: the order is random on the key but
 * made total by every column after it, so both answers are one list. */
static char *random_query_tail(const table_case *t)
{
    sq_str w = {0};
    sq_puts(&w, "");
    int natoms = (int)(meru_test_rand() % 4);
    for (int i = 0; i < natoms; i++) {
        sq_puts(&w, i ? " AND " : "WHERE ");
        atom(&w, t);
    }
    int desc = (int)(meru_test_rand() % 2);
    int start = (int)(meru_test_rand() % (t->nkey + 1)); /* first ordered */
    sq_puts(&w, " ORDER BY ");
    if (!t->cols[0].real && !t->cols[t->nkey - 1].real &&
        meru_test_rand() % 3 == 0) {
        /* The whole key alone: total, as the key is unique. */
        for (int i = 0; i < t->nkey; i++) {
            char *e = sqlite3_mprintf("%s%s%s", i ? ", " : "", t->cols[i].name,
                                      desc ? " DESC" : "");
            sq_puts(&w, e);
            sqlite3_free(e);
        }
        goto limit;
    }
    int first = 1;
    for (int i = start; i < t->ncols; i++) {
        char *e = sqlite3_mprintf("%s%s%s", first ? "" : ", ", t->cols[i].name,
                                  desc ? " DESC" : "");
        sq_puts(&w, e);
        sqlite3_free(e);
        first = 0;
    }
    for (int i = 0; i < start; i++) { /* the rest: ties broken by all */
        char *e = sqlite3_mprintf(", %s", t->cols[i].name);
        sq_puts(&w, e);
        sqlite3_free(e);
    }
limit:
    if (meru_test_rand() % 3 == 0) {
        char *e =
            sqlite3_mprintf(" LIMIT %d OFFSET %d", (int)(meru_test_rand() % 6),
                            (int)(meru_test_rand() % 4));
        sq_puts(&w, e);
        sqlite3_free(e);
    }
    return w.p;
}

/* Fills the (empty) table through the vtab with random rows from the
 * pools; a repeated key is skipped. */
static int fill(sqlite3 *db, const table_case *t)
{
    for (int r = 0; r < t->rows; r++) {
        sq_str v = {0};
        sq_puts(&v, "");
        for (int i = 0; i < t->ncols; i++) {
            if (i)
                sq_puts(&v, ", ");
            sq_puts(&v, pick(t->cols[i].own, t->cols[i].nown));
        }
        int rc = sq_exec(db, "INSERT OR IGNORE INTO v VALUES(%s)", v.p);
        free(v.p);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

/* Compares one query on both tables; 0 when equal. */
static int compare(sqlite3 *db, const table_case *t, const char *tail,
                   const char *list)
{
    char *a = sq_text(db, "SELECT %s FROM v %s", list, tail);
    char *b = sq_text(db, "SELECT %s FROM n %s", list, tail);
    int same = a && b && strcmp(a, b) == 0;
    if (!same) {
        char *q = sqlite3_mprintf("SELECT * FROM v %s", tail);
        char *plan = sq_plan(db, q);
        printf("  table %s: SELECT ... %s\n  plan: %s  vtab:\n%s  native:\n%s"
               "  (%s)\n",
               t->name, tail, plan ? plan : "?", a ? a : "(error)\n",
               b ? b : "(error)\n", sq_err);
        free(plan);
        sqlite3_free(q);
    }
    free(a);
    free(b);
    return !same;
}

static void run_case(const table_case *t, int queries)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", meru_test_tmpdir(t->name));
    meru_schema *s = NULL;
    meru_db *mdb = NULL;
    CHECK_EQ_INT(meru_schema_parse(&s, t->name, t->columns, t->key), 0);
    CHECK_EQ_INT(meru_open(path, NULL, s, &mdb), 0);
    CHECK_EQ_INT(meru_close(mdb), 0);
    meru_db_free(mdb);
    meru_schema_free(s);
    sqlite3 *db = sq_open();
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(
        sq_exec(db, "CREATE VIRTUAL TABLE v USING merutable(%Q)", path),
        SQLITE_OK);
    CHECK_MSG(fill(db, t) == SQLITE_OK, "fill %s: %s", t->name, sq_err);
    /* The native copy: declared like the vtab (same affinities); without
     * a primary key where -0.0 and +0.0 are two keys of the engine. */
    if (t->decl)
        CHECK_EQ_INT(sq_exec(db,
                             "CREATE TABLE n(%s) WITHOUT ROWID;"
                             "INSERT INTO n SELECT * FROM v",
                             t->decl),
                     SQLITE_OK);
    else
        CHECK_EQ_INT(sq_exec(db, "CREATE TABLE n AS SELECT * FROM v"),
                     SQLITE_OK);
    char *list = select_list(t);
    char *all = sq_text(db, "SELECT count(*) FROM n");
    CHECK(all && atoi(all) > 1);
    free(all);
    int bad = 0;
    for (int q = 0; q < queries && bad < 3; q++) {
        char *tail = random_query_tail(t);
        bad += compare(db, t, tail, list);
        free(tail);
    }
    CHECK_EQ_INT(bad, 0);
    /* Transactions: random writes pending in both, queries, then COMMIT
     * or ROLLBACK of both. */
    for (int round = 0; t->writes && round < 4; round++) {
        CHECK_EQ_INT(sq_exec(db, "BEGIN"), SQLITE_OK);
        for (int w = 0; w < 12; w++) {
            sq_str cond = {0};
            sq_puts(&cond, "");
            atom(&cond, t);
            char *stmt = NULL;
            switch (meru_test_rand() % 3) {
            case 0: {
                sq_str v = {0};
                sq_puts(&v, "");
                for (int i = 0; i < t->ncols; i++) {
                    if (i)
                        sq_puts(&v, ", ");
                    sq_puts(&v, pick(t->cols[i].own, t->cols[i].nown));
                }
                stmt = sqlite3_mprintf("INSERT OR REPLACE INTO %%s VALUES(%s)",
                                       v.p);
                free(v.p);
                break;
            }
            case 1:
                stmt = sqlite3_mprintf("DELETE FROM %%s WHERE %s", cond.p);
                break;
            default:
                stmt = sqlite3_mprintf(
                    "UPDATE %%s SET %s = %s WHERE %s",
                    t->cols[t->ncols - 1].name,
                    pick(t->cols[t->ncols - 1].own, t->cols[t->ncols - 1].nown),
                    cond.p);
                break;
            }
            free(cond.p);
            int rv = sq_exec(db, stmt, "v");
            char ev[4096];
            snprintf(ev, sizeof ev, "%s", sq_err);
            int rn = sq_exec(db, stmt, "n");
            CHECK_MSG(rv == rn, "%s: vtab %d (%s), native %d (%s)", stmt, rv,
                      ev, rn, sq_err);
            sqlite3_free(stmt);
        }
        for (int q = 0; q < queries / 4 && bad < 3; q++) {
            char *tail = random_query_tail(t);
            bad += compare(db, t, tail, list);
            free(tail);
        }
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(sq_exec(db, round % 2 ? "ROLLBACK" : "COMMIT"), SQLITE_OK);
        /* After the end of the transaction, the engine's rows. */
        CHECK_EQ_INT(
            compare(db, t, t->ncols == 2 ? "ORDER BY 1, 2" : "ORDER BY 1, 2, 3",
                    list),
            0);
    }
    sqlite3_close(db);
    free(list);
}

static void test_random_queries_match_native_sqlite(void)
{
    int queries = (int)(400 * meru_test_scale());
    if (queries < 100)
        queries = 100;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i], queries);
        if (meru_test_failed_current)
            return;
    }
}

int main(void)
{
    MERU_TEST_RUN(test_random_queries_match_native_sqlite);
    return meru_test_finish();
}
