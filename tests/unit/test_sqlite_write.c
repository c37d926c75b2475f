/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sqlite_write.c — writing through the SQLite extension: INSERT,
 * UPDATE (of key columns too), DELETE, write defaults as SQL DEFAULTs, a
 * SQL transaction as one write batch (counted by the engine), ROLLBACK
 * leaving the table untouched, a failed statement inside a transaction
 * and ROLLBACK TO undoing only their part, the conflict clauses (OR
 * IGNORE / REPLACE / FAIL / ROLLBACK), reads inside a transaction seeing
 * its writes, and values the engine refuses: each a SQL error with the
 * engine's message, and nothing written. What the table holds is read by
 * this process's own copy of the library (sq_engine_rows), not through
 * SQLite.
 */
#include <math.h>

#include "sqlite_test.h"

#define COLUMNS                                                                \
    "id int64 not null, name string, v double, tag string default "            \
    "\"none\", cnt int32 not null default 0, d date, amount decimal(6,2), "    \
    "raw binary, code fixed(4)"

static char path[4096];

/* A fresh empty table and a connection with it as `t`. */
static sqlite3 *setup(const char *name, const char *columns, const char *key)
{
    meru_schema *s = NULL;
    meru_db *db = NULL;
    snprintf(path, sizeof path, "%s", meru_test_tmpdir(name));
    if (meru_schema_parse(&s, "t", columns, key) ||
        meru_open(path, NULL, s, &db) || meru_close(db)) {
        snprintf(sq_err, sizeof sq_err, "%s", meru_errmsg());
        meru_db_free(db);
        meru_schema_free(s);
        return NULL;
    }
    meru_db_free(db);
    meru_schema_free(s);
    sqlite3 *c = sq_open();
    if (c && sq_exec(c, "CREATE VIRTUAL TABLE t USING merutable(%Q)", path)) {
        sqlite3_close(c);
        return NULL;
    }
    return c;
}

/* The engine's rows in canonical text. */
static char *engine(sqlite3 *db)
{
    meru_scan_options o;
    meru_scan_options_init(&o);
    return sq_engine_rows(db, path, &o);
}

/* The engine's rows: ids and the columns a test looks at. */
static char *engine_ids(sqlite3 *db)
{
    char *all = engine(db);
    if (!all)
        return NULL;
    /* First field of each line. */
    sq_str out = {0};
    sq_puts(&out, "");
    for (char *p = all; *p;) {
        char *bar = strchr(p, '|'), *nl = strchr(p, '\n');
        if (!nl)
            break;
        sq_put(&out, p, (size_t)((bar && bar < nl ? bar : nl) - p));
        sq_puts(&out, " ");
        p = nl + 1;
    }
    free(all);
    return out.p;
}

static void test_insert_update_delete_reach_the_table(void)
{
    sqlite3 *db = setup("sqlite-w-basic", COLUMNS, "id");
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id, name, v, d, amount) VALUES "
                             "(1, 'a', 1.5, '2026-01-31', '12.5'), "
                             "(2, 'b', NULL, NULL, '-0.01'), (3, 'c', -2, "
                             "'-0001-12-31', 3)"),
                 SQLITE_OK);
    char *t = engine(db);
    /* Left-out columns took their write defaults ('none', 0). */
    CHECK_STR(t, "1|'a'|1.5|'none'|0|'2026-01-31'|'12.50'|NULL|NULL\n"
                 "2|'b'|NULL|'none'|0|NULL|'-0.01'|NULL|NULL\n"
                 "3|'c'|-2.0|'none'|0|'-0001-12-31'|'3.00'|NULL|NULL\n");
    free(t);
    CHECK_EQ_INT(sq_exec(db, "UPDATE t SET name = name || '2', cnt = cnt + 1,"
                             " raw = X'00ff', code = X'01020304' WHERE id "
                             ">= 2"),
                 SQLITE_OK);
    /* An UPDATE of the key moves the row: a delete and a put. An UPDATE's
     * NULL is NULL, with a write default or not. */
    CHECK_EQ_INT(sq_exec(db, "UPDATE t SET id = 20, tag = NULL, name = NULL "
                             "WHERE id = 2"),
                 SQLITE_OK);
    CHECK_EQ_INT(sq_exec(db, "DELETE FROM t WHERE id = 1"), SQLITE_OK);
    CHECK_EQ_INT(sq_exec(db, "DELETE FROM t WHERE id > 1000"), SQLITE_OK);
    t = engine(db);
    CHECK_STR(t, "3|'c2'|-2.0|'none'|1|'-0001-12-31'|'3.00'|'00ff'|"
                 "'01020304'\n"
                 "20|NULL|NULL|NULL|1|NULL|'-0.01'|'00ff'|'01020304'\n");
    free(t);
    /* An INSERT's NULL (an omitted column looks the same) is the write
     * default; a stored NULL survives an UPDATE of other columns. */
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id, tag, cnt) VALUES (30, NULL, "
                             "NULL)"),
                 SQLITE_OK);
    CHECK_EQ_INT(sq_exec(db, "UPDATE t SET v = 1 WHERE id = 20"), SQLITE_OK);
    t = sq_text(db, "SELECT id, quote(tag), cnt FROM t WHERE id >= 20");
    CHECK_STR(t, "20|NULL|1\n30|'none'|0\n");
    free(t);
    CHECK_EQ_INT(sq_exec(db, "DELETE FROM t WHERE id = 30"), SQLITE_OK);
    /* The changes counter SQLite keeps is right. */
    CHECK_EQ_INT(sq_exec(db, "UPDATE t SET v = 7"), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_changes(db), 2);
    sqlite3_close(db);
}

static void test_composite_key_update_moves_rows(void)
{
    sqlite3 *db =
        setup("sqlite-w-comp",
              "user string not null, seq int64 not null, v string", "user,seq");
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t VALUES ('a', 1, 'x'), ('a', 2, "
                             "'y'), ('b', 1, 'z')"),
                 SQLITE_OK);
    CHECK_EQ_INT(sq_exec(db, "UPDATE t SET seq = seq + 100 WHERE user = 'a'"),
                 SQLITE_OK);
    CHECK_EQ_INT(sq_exec(db, "UPDATE t SET user = 'c' WHERE user = 'b'"),
                 SQLITE_OK);
    char *t = engine(db);
    CHECK_STR(t, "'a'|101|'x'\n'a'|102|'y'\n'c'|1|'z'\n");
    free(t);
    /* Moving onto a live key is the primary key's violation. */
    CHECK_EQ_INT(sq_exec(db, "UPDATE t SET seq = 102 WHERE seq = 101"),
                 SQLITE_CONSTRAINT);
    CHECK_HAS(sq_err, "UNIQUE constraint failed: t.user, t.seq");
    CHECK_EQ_INT(sq_exec(db, "DELETE FROM t WHERE user = 'a' AND seq > 101"),
                 SQLITE_OK);
    t = engine(db);
    CHECK_STR(t, "'a'|101|'x'\n'c'|1|'z'\n");
    free(t);
    sqlite3_close(db);
}

static void test_transaction_is_one_batch_and_rollback_leaves_the_table(void)
{
    sqlite3 *db = setup("sqlite-w-tx", COLUMNS, "id");
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id, name) VALUES (1, 'a'), (2, "
                             "'b'), (3, 'c'), (4, 'd')"),
                 SQLITE_OK);
    long long batches = sq_stat(db, path, "batches");
    long long seq = sq_stat(db, path, "last_sequence");
    char *before = engine(db);
    CHECK(before && batches >= 1 && seq >= 4);

    /* Inside: writes are visible to this connection's reads only. */
    CHECK_EQ_INT(sq_exec(db, "BEGIN;"
                             "INSERT INTO t(id, name) VALUES (10, 'j'), (0, "
                             "'z');"
                             "UPDATE t SET name = 'B' WHERE id = 2;"
                             "DELETE FROM t WHERE id = 3;"),
                 SQLITE_OK);
    char *t = sq_text(db, "SELECT id, name FROM t");
    CHECK_STR(t, "0|z\n1|a\n2|B\n4|d\n10|j\n");
    free(t);
    t = sq_text(db, "SELECT id FROM t ORDER BY id DESC LIMIT 3 OFFSET 1");
    CHECK_STR(t, "4\n2\n1\n");
    free(t);
    t = sq_text(db, "SELECT id FROM t WHERE id BETWEEN 1 AND 3");
    CHECK_STR(t, "1\n2\n");
    free(t);
    t = sq_text(db, "SELECT count(*) FROM t WHERE id = 3");
    CHECK_STR(t, "0\n");
    free(t);
    t = sq_text(db, "SELECT name FROM t WHERE id IN (10, 3, 2)");
    CHECK_STR(t, "B\nj\n");
    free(t);
    t = engine(db); /* the table itself has not changed */
    CHECK_ROWS(t, before);
    free(t);
    CHECK_EQ_INT(sq_exec(db, "ROLLBACK"), SQLITE_OK);
    t = engine(db);
    CHECK_ROWS(t, before);
    free(t);
    CHECK_EQ_INT(sq_stat(db, path, "last_sequence"), seq);
    CHECK_EQ_INT(sq_stat(db, path, "batches"), batches);

    /* The same committed: one batch of 4 puts and 1 delete. */
    long long puts = sq_stat(db, path, "puts");
    CHECK_EQ_INT(sq_exec(db, "BEGIN;"
                             "INSERT INTO t(id, name) VALUES (10, 'j'), (0, "
                             "'z');"
                             "UPDATE t SET name = 'B' WHERE id = 2;"
                             "DELETE FROM t WHERE id = 3;"
                             "INSERT INTO t(id, name) VALUES (3, 'again');"
                             "COMMIT"),
                 SQLITE_OK);
    CHECK_EQ_INT(sq_stat(db, path, "batches") - batches, 1);
    CHECK_EQ_INT(sq_stat(db, path, "puts") - puts, 4);
    CHECK_EQ_INT(sq_stat(db, path, "last_sequence") - seq, 5);
    t = engine_ids(db);
    CHECK_STR(t, "0 1 2 3 4 10 ");
    free(t);
    t = sq_text(db, "SELECT name FROM t WHERE id IN (2, 3)");
    CHECK_STR(t, "B\nagain\n");
    free(t);
    free(before);

    /* A bigger one: still one batch. */
    int n = (int)(20000 * meru_test_scale());
    batches = sq_stat(db, path, "batches");
    CHECK_EQ_INT(sq_exec(db,
                         "BEGIN;"
                         "WITH RECURSIVE c(i) AS (SELECT 1000 UNION ALL "
                         "SELECT i + 1 FROM c WHERE i < %d) "
                         "INSERT INTO t(id, name) SELECT i, 'n' || i FROM c;"
                         "COMMIT",
                         999 + n),
                 SQLITE_OK);
    CHECK_EQ_INT(sq_stat(db, path, "batches") - batches, 1);
    t = sq_text(db, "SELECT count(*), min(id), max(id) FROM t WHERE id >= "
                    "1000");
    char want[64];
    snprintf(want, sizeof want, "%d|1000|%d\n", n, 999 + n);
    CHECK_STR(t, want);
    free(t);
    sqlite3_close(db);
}

static void test_failed_statement_and_savepoints_undo_only_their_part(void)
{
    sqlite3 *db = setup("sqlite-w-svp", COLUMNS, "id");
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(sq_exec(db, "BEGIN; INSERT INTO t(id) VALUES (1)"), SQLITE_OK);
    /* The second row of this statement is a duplicate: the statement goes,
     * its first row with it; the transaction stays. */
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id) VALUES (2), (1)"),
                 SQLITE_CONSTRAINT);
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id, cnt) VALUES (7, 1), (8, 'x')"),
                 SQLITE_CONSTRAINT);
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id) VALUES (3);"
                             "SAVEPOINT s1;"
                             "INSERT INTO t(id) VALUES (4);"
                             "DELETE FROM t WHERE id = 1;"
                             "SAVEPOINT s2;"
                             "INSERT INTO t(id) VALUES (6);"
                             "RELEASE s2;"
                             "ROLLBACK TO s1;"
                             "INSERT INTO t(id) VALUES (5);"
                             "RELEASE s1"),
                 SQLITE_OK);
    char *t = sq_text(db, "SELECT id FROM t");
    CHECK_STR(t, "1\n3\n5\n");
    free(t);
    CHECK_EQ_INT(sq_exec(db, "COMMIT"), SQLITE_OK);
    t = engine_ids(db);
    CHECK_STR(t, "1 3 5 ");
    free(t);
    /* OR ROLLBACK ends the whole transaction. */
    CHECK_EQ_INT(sq_exec(db, "BEGIN; INSERT INTO t(id) VALUES (9)"), SQLITE_OK);
    CHECK_EQ_INT(sq_exec(db, "INSERT OR ROLLBACK INTO t(id) VALUES (3)"),
                 SQLITE_CONSTRAINT);
    CHECK(sqlite3_get_autocommit(db)); /* no transaction any more */
    t = engine_ids(db);
    CHECK_STR(t, "1 3 5 ");
    free(t);
    sqlite3_close(db);
}

static void test_conflict_clauses(void)
{
    sqlite3 *db = setup("sqlite-w-conflict", COLUMNS, "id");
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id, name, cnt) VALUES (1, 'a', "
                             "5), (2, 'b', 5), (3, 'c', 5)"),
                 SQLITE_OK);
    char *before = engine(db);
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id, name) VALUES (1, 'x')"),
                 SQLITE_CONSTRAINT);
    CHECK_STR(sq_err, "UNIQUE constraint failed: t.id");
    char *t = engine(db);
    CHECK_ROWS(t, before);
    free(t);
    free(before);
    /* OR IGNORE skips the row, keeps the others. */
    CHECK_EQ_INT(sq_exec(db, "INSERT OR IGNORE INTO t(id, name) VALUES (1, "
                             "'x'), (4, 'd')"),
                 SQLITE_OK);
    /* OR REPLACE replaces the whole row: cnt takes its default again. */
    CHECK_EQ_INT(sq_exec(db, "INSERT OR REPLACE INTO t(id, name) VALUES (2, "
                             "'B')"),
                 SQLITE_OK);
    CHECK_EQ_INT(sq_exec(db, "REPLACE INTO t(id, name) VALUES (5, 'e')"),
                 SQLITE_OK);
    t = sq_text(db, "SELECT id, name, cnt FROM t");
    CHECK_STR(t, "1|a|5\n2|B|0\n3|c|5\n4|d|0\n5|e|0\n");
    free(t);
    /* Moving a row onto another: refused, or it replaces the other. */
    CHECK_EQ_INT(sq_exec(db, "UPDATE t SET id = 2 WHERE id = 1"),
                 SQLITE_CONSTRAINT);
    CHECK_EQ_INT(sq_exec(db, "UPDATE OR IGNORE t SET id = 2 WHERE id = 1"),
                 SQLITE_OK);
    CHECK_EQ_INT(sq_exec(db, "UPDATE OR REPLACE t SET id = 2 WHERE id = 1"),
                 SQLITE_OK);
    t = sq_text(db, "SELECT id, name, cnt FROM t");
    CHECK_STR(t, "2|a|5\n3|c|5\n4|d|0\n5|e|0\n");
    free(t);
    /* OR FAIL keeps the statement's rows before the conflict. */
    CHECK_EQ_INT(sq_exec(db, "INSERT OR FAIL INTO t(id) VALUES (10), (3), "
                             "(11)"),
                 SQLITE_CONSTRAINT);
    t = engine_ids(db);
    CHECK_STR(t, "2 3 4 5 10 ");
    free(t);
    /* A key deleted earlier in the transaction is free again. */
    CHECK_EQ_INT(sq_exec(db, "BEGIN; DELETE FROM t WHERE id = 3;"
                             "INSERT INTO t(id, name) VALUES (3, 'again')"),
                 SQLITE_OK);
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id) VALUES (3)"),
                 SQLITE_CONSTRAINT);
    CHECK_EQ_INT(sq_exec(db, "COMMIT"), SQLITE_OK);
    t = sq_text(db, "SELECT name FROM t WHERE id = 3");
    CHECK_STR(t, "again\n");
    free(t);
    /* UPSERT is not available on virtual tables (SQLite's rule). */
    CHECK(sq_exec(db, "INSERT INTO t(id) VALUES (3) ON CONFLICT DO NOTHING") !=
          SQLITE_OK);
    sqlite3_close(db);
}

static void test_refused_values_are_sql_errors_and_write_nothing(void)
{
    sqlite3 *db = setup("sqlite-w-types", COLUMNS, "id");
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id, name) VALUES (1, 'a')"),
                 SQLITE_OK);
    char *before = engine(db);
    long long seq = sq_stat(db, path, "last_sequence");
    static const struct {
        const char *sql, *msg; /* msg: part of the engine's message */
    } bad[] = {
        {"INSERT INTO t(id) VALUES ('abc')", "expected an integer"},
        {"INSERT INTO t(id) VALUES (1.5)", "expected an integer"},
        {"INSERT INTO t(id, cnt) VALUES (5, 3000000000)", "out of range"},
        {"INSERT INTO t(id) VALUES (NULL)", "'id' is NOT NULL"},
        {"INSERT INTO t(id, d) VALUES (5, '2026-02-30')", "has 28 days"},
        {"INSERT INTO t(id, d) VALUES (5, 20260101)", "date"},
        {"INSERT INTO t(id, amount) VALUES (5, '1.234')", "fractional digits"},
        {"INSERT INTO t(id, amount) VALUES (5, '123456')", "precision"},
        {"INSERT INTO t(id, v) VALUES (5, 'x')", "expected a number"},
        {"INSERT INTO t(id, raw) VALUES (5, 'text')", "takes a blob"},
        {"INSERT INTO t(id, code) VALUES (5, X'00')", "exactly 4"},
        {"INSERT INTO t(id, name) VALUES (5, X'ff')", "UTF-8"},
        {"INSERT INTO t(id) VALUES (5), (6), ('x')", "expected an integer"},
        {"UPDATE t SET cnt = 'zz' WHERE id = 1", "expected an integer"},
        {"UPDATE t SET id = NULL WHERE id = 1", "NOT NULL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sq_exec(db, "%s", bad[i].sql);
        CHECK_MSG(rc == SQLITE_CONSTRAINT, "%s: rc %d (%s)", bad[i].sql, rc,
                  sq_err);
        CHECK_MSG(strstr(sq_err, bad[i].msg), "%s: message [%s] lacks [%s]",
                  bad[i].sql, sq_err, bad[i].msg);
        char *t = engine(db);
        CHECK_ROWS(t, before);
        free(t);
        CHECK_EQ_INT(sq_stat(db, path, "last_sequence"), seq);
    }
    /* Inside a transaction an error costs its statement only. */
    CHECK_EQ_INT(sq_exec(db, "BEGIN; INSERT INTO t(id) VALUES (7)"), SQLITE_OK);
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id, d) VALUES (8, 'never')"),
                 SQLITE_CONSTRAINT);
    CHECK_EQ_INT(sq_exec(db, "COMMIT"), SQLITE_OK);
    char *t = engine_ids(db);
    CHECK_STR(t, "1 7 ");
    free(t);
    /* SQLite's own affinity-style conversions are taken. */
    CHECK_EQ_INT(sq_exec(db, "INSERT INTO t(id, name, v, cnt, amount) VALUES "
                             "('12', 34, '2.5', 3.0, 7)"),
                 SQLITE_OK);
    t = sq_text(db, "SELECT typeof(name), name, v, cnt, amount FROM t WHERE "
                    "id = 12");
    CHECK_STR(t, "text|34|2.5|3|7.00\n");
    free(t);
    free(before);
    sqlite3_close(db);
}

static void test_nan_in_a_key_is_refused(void)
{
    sqlite3 *db = setup("sqlite-w-nan", "x double not null, v double", "x");
    CHECK_MSG(db, "%s", sq_err);
    sqlite3_stmt *st = NULL;
    CHECK_EQ_INT(
        sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?)", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_double(st, 1, 1.0);
    sqlite3_bind_double(st, 2, 2.5);
    CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
    sqlite3_reset(st);
    sqlite3_bind_double(st, 1, (double)NAN);
    int rc = sqlite3_step(st);
    /* SQLite turns a NaN parameter into NULL: the key is null. */
    CHECK(rc != SQLITE_DONE);
    CHECK_HAS(sqlite3_errmsg(db), "NOT NULL");
    sqlite3_finalize(st);
    char *t = engine(db);
    CHECK_STR(t, "1.0|2.5\n");
    free(t);
    sqlite3_close(db);
}

int main(void)
{
    MERU_TEST_RUN(test_insert_update_delete_reach_the_table);
    MERU_TEST_RUN(test_composite_key_update_moves_rows);
    MERU_TEST_RUN(test_transaction_is_one_batch_and_rollback_leaves_the_table);
    MERU_TEST_RUN(test_failed_statement_and_savepoints_undo_only_their_part);
    MERU_TEST_RUN(test_conflict_clauses);
    MERU_TEST_RUN(test_refused_values_are_sql_errors_and_write_nothing);
    MERU_TEST_RUN(test_nan_in_a_key_is_refused);
    return meru_test_finish();
}
