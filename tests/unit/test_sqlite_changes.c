/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sqlite_changes.c — the change feed through SQLite: the table-valued
 * function merutable_changes(path [, since]) and the declared form
 * CREATE VIRTUAL TABLE c USING merutable_changes(path), each against the
 * feed this process's own copy of the library reads (meru_changes) for
 * inserts, updates, deletes and their pre-images, across a flush (a
 * changelog file and the memtable tail), on int and composite keys; the
 * pushdown of since and of seq >, >=, =, <, <= (EXPLAIN QUERY PLAN, and an
 * expired window that only a pushed-down bound can read past); bad
 * arguments and a missing table as clear SQL errors.
 */
#include "sqlite_test.h"

static char path[4096];

/* A fresh table at `path` with a history written by this process:
 * inserts, updates, deletes (one of an absent key, which is no change),
 * a flush in the middle. `kv` are the key literals of four rows. */
static int make_history(const char *name, const char *columns,
                        const char *key, const char *const *keys,
                        const meru_options *o)
{
    meru_schema *s = NULL;
    meru_db *db = NULL;
    meru_row *row = NULL;
    int rc;
    snprintf(path, sizeof path, "%s", meru_test_tmpdir(name));
    if ((rc = meru_schema_parse(&s, "t", columns, key)) ||
        (rc = meru_open(path, o, s, &db)) || (rc = meru_row_new(&row, s)))
        goto out;
    size_t nkey = meru_schema_key_count(s);
    /* Columns after the key: a string "name" and a double "v". */
    int name_col = meru_schema_column_index(s, "name");
    int v_col = meru_schema_column_index(s, "v");
    for (int round = 0; round < 3 && !rc; round++) {
        for (int k = 0; k < 4 && !rc; k++) {
            char lit[64];
            meru_row_clear(row);
            for (size_t i = 0; i < nkey && !rc; i++)
                rc = meru_row_set_json(row, (size_t)meru_schema_key_column(s, i),
                                       keys[k * nkey + i]);
            if (rc)
                break;
            if (round == 2 && k % 2 == 0) {
                rc = meru_delete(db, row, NULL);
                continue;
            }
            snprintf(lit, sizeof lit, "\"r%d-k%d\"", round, k);
            if (!rc && !(round == 1 && k == 3))
                rc = meru_row_set_json(row, (size_t)name_col, lit);
            snprintf(lit, sizeof lit, "%d.5", round * 10 + k);
            if (!rc)
                rc = meru_row_set_json(row, (size_t)v_col, lit);
            if (!rc)
                rc = meru_put(db, row, NULL);
        }
        if (!rc && round == 0)
            rc = meru_flush(db);
    }
    /* A delete of a key deleted already: a sequence, but no change. */
    if (!rc) {
        meru_row_clear(row);
        for (size_t i = 0; i < nkey && !rc; i++)
            rc = meru_row_set_json(row, (size_t)meru_schema_key_column(s, i),
                                   keys[i]);
        if (!rc)
            rc = meru_delete(db, row, NULL);
    }
    if (!rc)
        rc = meru_close(db);
out:
    if (rc)
        snprintf(sq_err, sizeof sq_err, "history: %s", meru_errmsg());
    meru_row_free(row);
    meru_db_free(db);
    meru_schema_free(s);
    return rc;
}

/* The feed as the engine reads it (read-only, this process's library),
 * one line per change: "seq|op|row json|before json" (NULL for none), or
 * with `typed`, the canonical columns of row then before. */
static char *engine_feed(sqlite3 *c, uint64_t since, int typed)
{
    meru_options opts;
    meru_db *db = NULL;
    meru_changes_iter *it = NULL;
    meru_change ch;
    sqlite3_stmt *st = NULL;
    sq_str out = {0};
    int rc;
    meru_options_init(&opts);
    opts.read_only = 1;
    opts.create_if_missing = 0;
    sq_puts(&out, "");
    if (meru_open(path, &opts, NULL, &db) ||
        meru_changes(db, since, NULL, &it)) {
        snprintf(sq_err, sizeof sq_err, "engine: %s", meru_errmsg());
        goto fail;
    }
    if (typed) {
        char *list = sq_select_list(meru_db_schema(db), 1);
        char *sql = sqlite3_mprintf("SELECT ?1, ?2, %s FROM (SELECT ?3 AS j)"
                                    " UNION ALL SELECT 0, 0, %s FROM (SELECT "
                                    "?4 AS j)",
                                    list, list);
        free(list);
        rc = sqlite3_prepare_v2(c, sql, -1, &st, NULL);
        sqlite3_free(sql);
        if (rc != SQLITE_OK)
            goto fail;
    }
    while ((rc = meru_change_next(it, &ch)) == MERU_OK) {
        char *rj = NULL, *bj = NULL;
        if ((ch.row && meru_row_to_json(ch.row, &rj)) ||
            (ch.before && meru_row_to_json(ch.before, &bj)))
            goto fail;
        const char *op = meru_change_kind_name((int)ch.kind);
        if (!typed) {
            char *line = sqlite3_mprintf("%llu|%s|%s|%s\n",
                                         (unsigned long long)ch.seq, op,
                                         rj ? rj : "NULL", bj ? bj : "NULL");
            sq_puts(&out, line);
            sqlite3_free(line);
        } else {
            /* Two result rows (row, then before) joined into one line. */
            sq_str two = {0};
            sq_puts(&two, "");
            sqlite3_bind_int64(st, 1, (sqlite3_int64)ch.seq);
            sqlite3_bind_text(st, 2, op, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, rj, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 4, bj, -1, SQLITE_TRANSIENT);
            if (sq_rows(st, &two) != SQLITE_DONE) {
                free(two.p);
                goto fail;
            }
            sqlite3_reset(st);
            char *nl = strchr(two.p, '\n');
            if (nl)
                *nl = '|';
            /* Drop the "0|0|" the second row starts with. */
            char *second = nl ? nl + 1 : two.p;
            sq_put(&out, two.p, (size_t)(second - two.p));
            sq_puts(&out, second + 4);
            free(two.p);
        }
        meru_free(rj);
        meru_free(bj);
    }
    if (rc != MERU_NOT_FOUND)
        goto fail;
    sqlite3_finalize(st);
    meru_changes_free(it);
    meru_db_free(db);
    return out.p;
fail:
    sqlite3_finalize(st);
    meru_changes_free(it);
    meru_db_free(db);
    free(out.p);
    return NULL;
}

/* The canonical select list of the declared form: row then before_. */
static char *typed_list(sqlite3 *c)
{
    meru_options opts;
    meru_db *db = NULL;
    sq_str out = {0};
    (void)c;
    meru_options_init(&opts);
    opts.read_only = 1;
    opts.create_if_missing = 0;
    if (meru_open(path, &opts, NULL, &db))
        return NULL;
    const meru_schema *s = meru_db_schema(db);
    sq_puts(&out, "seq, op");
    for (int before = 0; before < 2; before++) {
        for (size_t i = 0; i < meru_schema_column_count(s); i++) {
            char name[256];
            snprintf(name, sizeof name, "%s%s", before ? "before_" : "",
                     meru_schema_column_name(s, i));
            sq_puts(&out, ", ");
            sq_canon(&out, meru_schema_column_type(s, i), name, 0);
        }
    }
    meru_db_free(db);
    return out.p;
}

static const char *const INT_KEYS[] = {"1", "2", "3", "4"};
#define INT_COLUMNS "id int64 not null, name string, v double"

static void test_function_matches_the_engine_feed(void)
{
    sqlite3 *c = NULL;
    char *got = NULL, *want = NULL;
    CHECK_MSG(!make_history("sqlc-fn", INT_COLUMNS, "id", INT_KEYS, NULL),
              "%s", sq_err);
    c = sq_open();
    CHECK_MSG(c, "%s", sq_err);
    want = engine_feed(c, 0, 0);
    got = sq_text(c, "SELECT seq, op, row, before FROM "
                     "merutable_changes(%Q)",
                  path);
    CHECK_ROWS(got, want);
    /* Every kind is there: 4 inserts, 4 updates, 2 deletes; the delete of
     * an absent key is not a change. */
    free(got);
    got = sq_text(c, "SELECT op, count(*), min(seq), max(seq) FROM "
                     "merutable_changes(%Q, 0) GROUP BY op ORDER BY op",
                  path);
    CHECK_ROWS(got, "delete|2|9|11\ninsert|4|1|4\nupdate|6|5|12\n");
    /* Pre-images: an update's before is the row it replaced; a delete has
     * only a before, an insert only a row. */
    free(got);
    got = sq_text(c, "SELECT seq, row->>'name', before->>'name', "
                     "before->>'v' FROM merutable_changes(%Q) WHERE seq IN "
                     "(1, 8, 10, 11) ORDER BY seq",
                  path);
    CHECK_ROWS(got, "1|r0-k0|NULL|NULL\n8|NULL|r0-k3|3.5\n10|r2-k1|r1-k1|"
                    "11.5\n11|NULL|r1-k2|12.5\n");
    /* The hidden arguments read back. */
    free(got);
    got = sq_text(c, "SELECT count(*), min(since), path = %Q FROM "
                     "merutable_changes(%Q, 3)",
                  path, path);
    CHECK_ROWS(got, "9|3|1\n");
    free(want);
    want = engine_feed(c, 7, 0);
    free(got);
    got = sq_text(c, "SELECT seq, op, row, before FROM "
                     "merutable_changes(%Q, 7)",
                  path);
    CHECK_ROWS(got, want);
    free(got);
    free(want);
    sqlite3_close(c);
}

static const char *const COMPOSITE_KEYS[] = {"\"u1\"", "5", "\"u1\"", "7",
                                             "\"u2\"", "5", "\"u\\u00e9\"",
                                             "-1"};
#define COMPOSITE_COLUMNS                                                      \
    "user string not null, ts int64 not null, name string, v double, "         \
    "raw binary, d date"

static void test_declared_table_is_typed_on_a_composite_key(void)
{
    sqlite3 *c = NULL;
    char *got = NULL, *want = NULL, *list = NULL;
    CHECK_MSG(!make_history("sqlc-typed", COMPOSITE_COLUMNS, "user,ts",
                            COMPOSITE_KEYS, NULL),
              "%s", sq_err);
    c = sq_open();
    CHECK_MSG(c, "%s", sq_err);
    CHECK_MSG(!sq_exec(c, "CREATE VIRTUAL TABLE ch USING "
                          "merutable_changes(%Q)",
                       path),
              "%s", sq_err);
    got = sq_text(c, "SELECT group_concat(name || ':' || type, ' ') FROM "
                     "pragma_table_info('ch')");
    CHECK_ROWS(got, "seq:INTEGER op:TEXT user:TEXT ts:INTEGER name:TEXT "
                    "v:REAL raw:BLOB d:TEXT before_user:TEXT "
                    "before_ts:INTEGER before_name:TEXT before_v:REAL "
                    "before_raw:BLOB before_d:TEXT\n");
    list = typed_list(c);
    CHECK(list);
    want = engine_feed(c, 0, 1);
    free(got);
    got = sq_text(c, "SELECT %s FROM ch", list);
    CHECK_ROWS(got, want);
    /* since as the table-valued argument, and as a WHERE bound. */
    free(want);
    want = engine_feed(c, 6, 1);
    free(got);
    got = sq_text(c, "SELECT %s FROM ch(6)", list);
    CHECK_ROWS(got, want);
    free(got);
    got = sq_text(c, "SELECT %s FROM ch WHERE seq > 6", list);
    CHECK_ROWS(got, want);
    /* A row the composite key names. */
    free(got);
    got = sq_text(c, "SELECT seq, op, before_user, before_ts, before_name "
                     "FROM ch WHERE op = 'delete' ORDER BY seq");
    CHECK_ROWS(got, "9|delete|u1|5|r1-k0\n11|delete|u2|5|r1-k2\n");
    free(got);
    free(want);
    free(list);
    sqlite3_close(c);
}

static void test_seq_bounds_are_pushed_down(void)
{
    sqlite3 *c = NULL;
    char *got = NULL, *q = NULL;
    CHECK_MSG(!make_history("sqlc-push", INT_COLUMNS, "id", INT_KEYS, NULL),
              "%s", sq_err);
    c = sq_open();
    CHECK_MSG(c, "%s", sq_err);
    q = sqlite3_mprintf("SELECT seq FROM merutable_changes(%Q, 2) WHERE "
                        "seq > 4 AND seq <= 9 ORDER BY seq",
                        path);
    got = sq_plan(c, q);
    CHECK_HAS(got, "changes(path,since,seq>,seq<=) order=asc");
    CHECK(!strstr(got, "ORDER BY")); /* no sort step */
    free(got);
    got = sq_text(c, "%s", q);
    CHECK_ROWS(got, "5\n6\n7\n8\n9\n");
    free(got);
    sqlite3_free(q);
    /* Each operator, reals rounded outwards, and bounds SQLite alone can
     * judge (text is above every integer). */
    struct {
        const char *where, *want;
    } cases[] = {
        {"seq = 4", "4\n"},
        {"seq >= 11", "11\n12\n"},
        {"seq < 3", "1\n2\n"},
        {"seq > 2.5 AND seq < 4.5", "3\n4\n"},
        {"seq >= 10.5", "11\n12\n"},
        {"seq <= 1.9", "1\n"},
        {"seq = 4.5", ""},
        {"seq < 1", ""},
        {"seq > 'x'", ""},
        {"seq < 'x' AND seq > 10", "11\n12\n"},
        {"seq > 5 AND seq > 9", "10\n11\n12\n"},
        {"seq > 9 AND seq < 9", ""},
        {"seq = -3", ""},
        {"seq > -3 AND seq < 2", "1\n"},
        {"seq > 9223372036854775807", ""},
        {"seq BETWEEN 6 AND 7", "6\n7\n"},
        {"seq IN (2, 12)", "2\n12\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        got = sq_text(c, "SELECT seq FROM merutable_changes(%Q) WHERE %s",
                      path, cases[i].where);
        CHECK_MSG(got && strcmp(got, cases[i].want) == 0,
                  "WHERE %s: got [%s] want [%s] (%s)", cases[i].where,
                  got ? got : "(error)", cases[i].want, sq_err);
        free(got);
    }
    /* A since far ahead reads nothing (and is no error). */
    got = sq_text(c, "SELECT count(*) FROM merutable_changes(%Q, "
                     "1000000000000)",
                  path);
    CHECK_ROWS(got, "0\n");
    free(got);
    sqlite3_close(c);
}

static void test_expired_since_names_the_oldest_and_bounds_read_past_it(void)
{
    sqlite3 *c = NULL;
    char *got = NULL;
    meru_options o;
    meru_options_init(&o);
    o.changes_retention_bytes = 1; /* only the newest changelog stays */
    CHECK_MSG(!make_history("sqlc-exp", INT_COLUMNS, "id", INT_KEYS, &o),
              "%s", sq_err);
    /* A second flush of the tail expires the first file. */
    {
        meru_db *db = NULL;
        CHECK_OK(meru_open(path, &o, NULL, &db));
        CHECK_OK(meru_flush(db));
        CHECK_EQ_U64(meru_changes_oldest(db), 4);
        CHECK_OK(meru_close(db));
        meru_db_free(db);
    }
    c = sq_open();
    CHECK_MSG(c, "%s", sq_err);
    got = sq_text(c, "SELECT seq FROM merutable_changes(%Q, 2)", path);
    CHECK(!got);
    CHECK_HAS(sq_err, "the oldest since_seq available is 4");
    CHECK_HAS(sq_err, "merutable_changes: ");
    got = sq_text(c, "SELECT count(*) FROM merutable_changes(%Q)", path);
    CHECK(!got);
    /* A bound inside the window is what the engine is asked for. */
    got = sq_text(c, "SELECT min(seq), count(*) FROM merutable_changes(%Q) "
                     "WHERE seq > 4",
                  path);
    CHECK_ROWS(got, "5|8\n");
    free(got);
    got = sq_text(c, "SELECT min(seq) FROM merutable_changes(%Q, 1) WHERE "
                     "seq >= 5",
                  path);
    CHECK_ROWS(got, "5\n");
    free(got);
    sqlite3_close(c);
}

static void test_bad_arguments_are_sql_errors(void)
{
    sqlite3 *c = NULL;
    char *got = NULL;
    CHECK_MSG(!make_history("sqlc-bad", INT_COLUMNS, "id", INT_KEYS, NULL),
              "%s", sq_err);
    c = sq_open();
    CHECK_MSG(c, "%s", sq_err);
    struct {
        const char *sql, *err;
    } cases[] = {
        {"SELECT * FROM merutable_changes", "merutable_changes: no table"},
        {"SELECT * FROM merutable_changes()", "merutable_changes: no table"},
        {"SELECT * FROM merutable_changes(%Q, 1, 2)", "too many arguments"},
        {"SELECT * FROM merutable_changes(42)", "the table's directory"},
        {"SELECT * FROM merutable_changes(NULL)", "the table's directory"},
        {"SELECT * FROM merutable_changes(%Q, 'abc')",
         "since must be a non-negative integer (a sequence number), not text"},
        {"SELECT * FROM merutable_changes(%Q, -1)", "not -1"},
        {"SELECT * FROM merutable_changes(%Q, 1.5)", "not a fraction"},
        {"SELECT * FROM merutable_changes(%Q, NULL)", "not NULL"},
        {"SELECT * FROM merutable_changes('/nonexistent/table')",
         "no table at '/nonexistent/table'"},
        {"CREATE VIRTUAL TABLE x USING merutable_changes(%Q, 'more')",
         "usage: CREATE VIRTUAL TABLE x USING merutable_changes"},
        {"CREATE VIRTUAL TABLE y USING merutable_changes('/nonexistent/t')",
         "no table at '/nonexistent/t'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        got = sq_text(c, cases[i].sql, path);
        CHECK_MSG(!got && strstr(sq_err, cases[i].err),
                  "%s: got [%s], error [%s], want error [%s]", cases[i].sql,
                  got ? got : "", sq_err, cases[i].err);
    }
    /* A whole real is an integer. */
    got = sq_text(c, "SELECT count(*) FROM merutable_changes(%Q, 10.0)", path);
    CHECK_ROWS(got, "2\n");
    free(got);
    sqlite3_close(c);
}

static void test_a_writer_of_the_process_is_read_with_its_latest_commits(void)
{
    sqlite3 *c = NULL;
    char *got = NULL;
    CHECK_MSG(!make_history("sqlc-writer", INT_COLUMNS, "id", INT_KEYS, NULL),
              "%s", sq_err);
    c = sq_open();
    CHECK_MSG(c, "%s", sq_err);
    CHECK_MSG(!sq_exec(c, "CREATE VIRTUAL TABLE t USING merutable(%Q)", path),
              "%s", sq_err);
    CHECK_MSG(!sq_exec(c, "CREATE VIRTUAL TABLE ch USING "
                          "merutable_changes(%Q)",
                       path),
              "%s", sq_err);
    CHECK_MSG(!sq_exec(c, "UPDATE t SET name = 'sql' WHERE id = 2; INSERT "
                          "INTO t VALUES (9, 'nine', 9.0)"),
              "%s", sq_err);
    got = sq_text(c, "SELECT seq, op, row->>'name', before->>'name' FROM "
                     "merutable_changes(%Q, 12)",
                  path);
    CHECK_ROWS(got, "14|update|sql|r2-k1\n15|insert|nine|NULL\n");
    free(got);
    got = sq_text(c, "SELECT seq, op, id, name, before_name FROM ch(12)");
    CHECK_ROWS(got, "14|update|2|sql|r2-k1\n15|insert|9|nine|NULL\n");
    free(got);
    /* A one-batch transaction is contiguous in the feed. */
    CHECK_MSG(!sq_exec(c, "BEGIN; DELETE FROM t WHERE id = 9; INSERT INTO t "
                          "VALUES (10, 'ten', 1.0); COMMIT"),
              "%s", sq_err);
    got = sq_text(c, "SELECT seq, op FROM ch WHERE seq > 15");
    CHECK_ROWS(got, "16|delete\n17|insert\n");
    free(got);
    sqlite3_close(c);
}

int main(void)
{
    MERU_TEST_RUN(test_function_matches_the_engine_feed);
    MERU_TEST_RUN(test_declared_table_is_typed_on_a_composite_key);
    MERU_TEST_RUN(test_seq_bounds_are_pushed_down);
    MERU_TEST_RUN(test_expired_since_names_the_oldest_and_bounds_read_past_it);
    MERU_TEST_RUN(test_bad_arguments_are_sql_errors);
    MERU_TEST_RUN(test_a_writer_of_the_process_is_read_with_its_latest_commits);
    return meru_test_finish();
}
