/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sqlite_threads.c — connections in several threads on one table
 * (MERU_TEST_CONCURRENT: `make test-tsan` runs it under ThreadSanitizer).
 *
 * Each writer thread opens its own connection, declares the same table,
 * writes its own keys in a transaction, reads them back and closes, several
 * times over, its connection overlapping every other writer's (one handle
 * shared, not "locked"); a reader thread declares it 'readonly' and reads,
 * again and again. The handle registry is acquired and released
 * concurrently, the last connection to go closes the table while others
 * may be opening it again, and every committed row must be there at the
 * end.
 */
#include <pthread.h>

#include "sqlite_test.h"

#define THREADS 4

static char path[4096];
static int rounds, per_round;

typedef struct job {
    int id;
    int errors;
    char msg[sizeof sq_err + 64];
} job;

/* The writers meet here twice a round: every one has declared the table
 * before any writes, and all have written before any closes, so their
 * connections certainly overlap. */
static pthread_barrier_t meet;

static void *writer(void *arg)
{
    job *j = arg;
    for (int r = 0; r < rounds; r++) {
        sqlite3 *db = sq_open();
        char *err = NULL;
        if (!db || sq_exec(db, "CREATE VIRTUAL TABLE t USING merutable(%Q)",
                           path) != SQLITE_OK) {
            j->errors++;
            snprintf(j->msg, sizeof j->msg, "round %d: %s", r, sq_err);
        }
        pthread_barrier_wait(&meet);
        char *sql = sqlite3_mprintf(
            "BEGIN;"
            "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c "
            "WHERE i < %d) INSERT INTO t SELECT %d * 1000000 + %d * 1000 + i, "
            "'w' FROM c;"
            "COMMIT;"
            "UPDATE t SET v = 'u' WHERE id = %d * 1000000 + %d * 1000;",
            per_round - 1, j->id, r, j->id, r);
        if (db && sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
            j->errors++;
            snprintf(j->msg, sizeof j->msg, "%s", err ? err : "?");
        }
        sqlite3_free(err);
        sqlite3_free(sql);
        char *t = db ? sq_text(db,
                               "SELECT count(*) FROM t WHERE id >= %d * "
                               "1000000 AND id < %d * 1000000",
                               j->id, j->id + 1)
                     : NULL;
        if (!t || atoi(t) != (r + 1) * per_round) {
            j->errors++;
            snprintf(j->msg, sizeof j->msg, "round %d: count %s", r,
                     t ? t : sq_err);
        }
        free(t);
        pthread_barrier_wait(&meet);
        sqlite3_close(db);
    }
    return NULL;
}

static void *reader(void *arg)
{
    job *j = arg;
    for (int r = 0; r < rounds * 4 && !j->errors; r++) {
        sqlite3 *db = sq_open();
        if (!db || sq_exec(db,
                           "CREATE VIRTUAL TABLE r USING merutable(%Q, "
                           "'readonly')",
                           path) != SQLITE_OK) {
            j->errors++;
            snprintf(j->msg, sizeof j->msg, "reader: %s", sq_err);
            sqlite3_close(db);
            break;
        }
        char *t = sq_text(db, "SELECT count(*) FROM r WHERE id < 1000000000");
        if (!t) {
            j->errors++;
            snprintf(j->msg, sizeof j->msg, "reader: %s", sq_err);
        }
        free(t);
        sqlite3_close(db);
    }
    return NULL;
}

static void test_connections_in_threads_share_the_table(void)
{
    snprintf(path, sizeof path, "%s", meru_test_tmpdir("sqlite-threads"));
    rounds = (int)(12 * meru_test_scale());
    if (rounds < 3)
        rounds = 3;
    per_round = 50;
    meru_schema *s = NULL;
    meru_db *w = NULL;
    CHECK_EQ_INT(
        meru_schema_parse(&s, "t", "id int64 not null, v string", "id"), 0);
    CHECK_EQ_INT(meru_open(path, NULL, s, &w), 0);
    CHECK_EQ_INT(meru_close(w), 0);
    meru_db_free(w);
    meru_schema_free(s);
    CHECK_EQ_INT(pthread_barrier_init(&meet, NULL, THREADS), 0);
    pthread_t th[THREADS + 1];
    job jobs[THREADS + 1];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i <= THREADS; i++) {
        jobs[i].id = i + 1;
        CHECK_EQ_INT(pthread_create(&th[i], NULL, i < THREADS ? writer : reader,
                                    &jobs[i]),
                     0);
    }
    for (int i = 0; i <= THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&meet);
    for (int i = 0; i <= THREADS; i++)
        CHECK_MSG(jobs[i].errors == 0, "thread %d: %s", i, jobs[i].msg);
    /* Every committed row is there, and every update. */
    sqlite3 *db = sq_open();
    CHECK_MSG(db, "%s", sq_err);
    CHECK_EQ_INT(
        sq_exec(db, "CREATE VIRTUAL TABLE t USING merutable(%Q)", path),
        SQLITE_OK);
    char *t = sq_text(db, "SELECT count(*), sum(v = 'u') FROM t");
    char want[64];
    snprintf(want, sizeof want, "%d|%d\n", THREADS * rounds * per_round,
             THREADS * rounds);
    CHECK_STR(t, want);
    free(t);
    sqlite3_close(db);
}

int main(void)
{
    MERU_TEST_RUN(test_connections_in_threads_share_the_table);
    return meru_test_finish();
}
