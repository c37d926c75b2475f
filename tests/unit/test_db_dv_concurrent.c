/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_dv_concurrent.c — the Iceberg view's deletion vectors while
 * writer threads, background flushes and compactions and manual
 * compactions all run at once: whenever they stop, every live file minus
 * its vector reads as exactly the table (check_view, db_dv_check.h).
 * MERU_TEST_CONCURRENT: runs under ThreadSanitizer too.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db_dv_check.h"

/* -------------------------------------------------------- concurrent */

typedef struct writer {
    meru_db *db;
    space sp;
    uint64_t seed;
    int ops;
    int rc;
    char err[256];
} writer;

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *writer_main(void *arg)
{
    writer *wr = arg;
    const meru_schema *s = meru_db_schema(wr->db);
    meru_row *r = NULL;
    char buf[300];
    int rc = meru_row_new(&r, s);
    for (int i = 0; rc == MERU_OK && i < wr->ops; i++) {
        size_t idx = (size_t)(xs(&wr->seed) % wr->sp.nkeys);
        meru_row_clear(r);
        rc = set_key(&wr->sp, r, idx);
        if (rc)
            break;
        if (xs(&wr->seed) % 5 == 0) {
            rc = meru_delete(wr->db, r, NULL);
            continue;
        }
        size_t n = (size_t)(xs(&wr->seed) % sizeof buf);
        memset(buf, 'a' + (int)(idx % 26), n);
        rc = meru_row_set_int64(r, 1, (int64_t)i);
        if (!rc)
            rc = meru_row_set_string(r, 2, buf, n);
        if (!rc)
            rc = meru_put(wr->db, r, NULL);
    }
    if (rc)
        snprintf(wr->err, sizeof wr->err, "%s", meru_errmsg());
    wr->rc = rc;
    meru_row_free(r);
    return NULL;
}

typedef struct compactor {
    meru_db *db;
    int rounds;
    int rc;
} compactor;

static void *compactor_main(void *arg)
{
    compactor *c = arg;
    for (int i = 0; i < c->rounds && c->rc == MERU_OK; i++)
        c->rc = meru_compact(c->db);
    return NULL;
}

/* Writers, background flushes and compactions and manual compactions all
 * at once; the view is checked whenever they stop. */
static void test_view_exact_with_concurrent_writers_and_compactions(void)
{
    space sp = {0, 4000};
    meru_schema *s = space_schema(&sp);
    CHECK(s);
    meru_options o;
    dv_options(&o);
    o.sync_mode = MERU_SYNC_GROUP;
    meru_db *db = NULL;
    CHECK_OK(meru_open(meru_test_tmpdir("dv_conc"), &o, s, &db));
    vstats vs = {0};
    int phases = meru_test_scale() < 1 ? 3 : 6;
    int ops = (int)(1500 * meru_test_scale());
    for (int ph = 0; ph < phases; ph++) {
        writer wr[3];
        pthread_t th[4];
        compactor cp = {db, 1 + ph % 2, MERU_OK};
        for (int i = 0; i < 3; i++) {
            memset(&wr[i], 0, sizeof wr[i]);
            wr[i].db = db;
            wr[i].sp = sp;
            wr[i].seed = meru_test_rand() | 1;
            wr[i].ops = ops;
            CHECK(pthread_create(&th[i], NULL, writer_main, &wr[i]) == 0);
        }
        CHECK(pthread_create(&th[3], NULL, compactor_main, &cp) == 0);
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        for (int i = 0; i < 3; i++)
            CHECK_MSG(wr[i].rc == MERU_OK, "writer %d: %s", i, wr[i].err);
        CHECK_MSG(cp.rc == MERU_OK, "compactor: %d", cp.rc);
        char what[32];
        snprintf(what, sizeof what, "phase %d", ph);
        CHECK(check_view(db, what, &vs, NULL) == 0);
    }
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    fprintf(stderr,
            "  %llu checks, %llu flushes, %llu compactions, %llu rows hidden "
            "by flush lookups, %llu by compactions for flushes that "
            "committed while they ran\n",
            (unsigned long long)vs.checks, (unsigned long long)st.flushes,
            (unsigned long long)st.compactions,
            (unsigned long long)st.view_rows_hidden,
            (unsigned long long)atomic_load(&db->st_view_reconciled));
    CHECK(st.view_rows_hidden > 0);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_view_exact_with_concurrent_writers_and_compactions);
    return meru_test_finish();
}
