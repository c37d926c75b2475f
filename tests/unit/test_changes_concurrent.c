/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_changes_concurrent.c — the change feed under threads
 * (MERU_TEST_CONCURRENT: run under ThreadSanitizer by make test-tsan).
 *
 * A writer thread writes a random stream (puts, deletes, batches) with
 * small memtables, so background flushes and compactions run throughout,
 * plus manual flushes; two followers read the feed meanwhile, each from the
 * last sequence it saw: one on the writer's handle, one on a read-only
 * handle of the same table that refreshes. Both must see the model's log
 * exactly: every change once, in order, with its pre-image. And an open
 * iterator keeps the changelog files it pinned readable while retention
 * commits them out and the background threads delete what no view holds.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "changes_model.h"

typedef struct shared {
    const char *dir;
    meru_schema *s;
    meru_db *db;
    model m; /* the writer's */
    int nops;
    atomic_int done;
    int writer_rc;
} shared;

typedef struct follower {
    shared *sh;
    int read_only;
    char **lines;
    size_t n;
    int rc;
    char err[256];
    uint64_t polls;
} follower;

static void *writer_main(void *arg)
{
    shared *sh = arg;
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    uint64_t rs = 0x5eed5eedull;
    int rc = meru_row_new(&row, sh->s);
    if (rc == MERU_OK)
        rc = meru_write_batch_new(&b, sh->s);
    for (int op = 0; rc == MERU_OK && op < sh->nops; op++) {
        rc = random_write(sh->db, &sh->m, &rs, row, b);
        if (rc == MERU_OK && op % 400 == 399)
            rc = meru_flush(sh->db);
    }
    sh->writer_rc = rc;
    atomic_store(&sh->done, 1);
    meru_row_free(row);
    meru_write_batch_free(b);
    return NULL;
}

static void *follower_main(void *arg)
{
    follower *f = arg;
    shared *sh = f->sh;
    meru_db *db = sh->db;
    uint64_t last = 0;
    int rc = MERU_OK;
    f->lines = calloc(MAXLOG, sizeof *f->lines);
    if (f->read_only) {
        meru_options o;
        small_options(&o);
        o.read_only = 1;
        o.create_if_missing = 0;
        if ((rc = meru_open(sh->dir, &o, sh->s, &db)))
            goto out;
    }
    for (;;) {
        int finished = atomic_load(&sh->done);
        meru_changes_iter *it = NULL;
        meru_change c;
        if (f->read_only && (rc = meru_refresh(db))) {
            if (!finished && rc == MERU_NOT_FOUND) {
                rc = MERU_OK; /* the writer moved the log: again */
                continue;
            }
            goto out;
        }
        if ((rc = meru_changes(db, last, NULL, &it)))
            goto out;
        while ((rc = meru_change_next(it, &c)) == MERU_OK) {
            char line[200];
            if (c.seq <= last || change_line(&c, line, sizeof line)) {
                rc = MERU_EINTERNAL;
                snprintf(f->err, sizeof f->err,
                         "bad change at seq %llu "
                         "after %llu",
                         (unsigned long long)c.seq, (unsigned long long)last);
                break;
            }
            if (f->n < MAXLOG)
                f->lines[f->n++] = strdup(line);
            last = c.seq;
        }
        meru_changes_free(it);
        if (rc != MERU_NOT_FOUND)
            goto out;
        rc = MERU_OK;
        f->polls++;
        if (finished)
            break;
        usleep(500);
    }
out:
    if (rc && !f->err[0])
        snprintf(f->err, sizeof f->err, "%s", meru_errmsg());
    f->rc = rc;
    if (f->read_only && db)
        meru_db_free(db);
    return NULL;
}

static void test_followers_see_each_change_once_while_writing(void)
{
    shared sh;
    follower f[2];
    pthread_t w, t[2];
    meru_options o;

    memset(&sh, 0, sizeof sh);
    memset(f, 0, sizeof f);
    sh.dir = meru_test_tmpdir("changes_threads");
    sh.s = make_schema();
    sh.nops = (int)(4000 * meru_test_scale()) + 200;
    small_options(&o);
    CHECK_OK(meru_open(sh.dir, &o, sh.s, &sh.db));
    for (int i = 0; i < 2; i++) {
        f[i].sh = &sh;
        f[i].read_only = i;
    }
    CHECK(pthread_create(&w, NULL, writer_main, &sh) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, follower_main, &f[i]) == 0);
    pthread_join(w, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_MSG(sh.writer_rc == MERU_OK, "writer: %d", sh.writer_rc);
    for (int i = 0; i < 2; i++) {
        CHECK_MSG(f[i].rc == MERU_OK, "follower %d: %d %s", i, f[i].rc,
                  f[i].err);
        fprintf(stderr, "  follower %d (%s): %zu changes in %llu polls\n", i,
                i ? "read-only handle" : "writer's handle", f[i].n,
                (unsigned long long)f[i].polls);
        for (size_t k = 0; k < f[i].n && k < sh.m.nlog; k++)
            CHECK_MSG(!strcmp(f[i].lines[k], sh.m.log[k]),
                      "follower %d, change %zu: '%s', model '%s'", i, k,
                      f[i].lines[k], sh.m.log[k]);
        CHECK_EQ_U64(f[i].n, sh.m.nlog);
    }
    check_feed(sh.db, &sh.m, 0, "after the threads");
    for (int i = 0; i < 2; i++) {
        for (size_t k = 0; k < f[i].n; k++)
            free(f[i].lines[k]);
        free(f[i].lines);
    }
    CHECK_OK(meru_close(sh.db));
    meru_db_free(sh.db);
    meru_schema_free(sh.s);
    model_free(&sh.m);
}

/* An iterator opened before retention drops the files it reads keeps
 * reading them: they are deleted only when it lets go. */
static void test_open_iterator_pins_expired_changelogs(void)
{
    const char *dir = meru_test_tmpdir("changes_pin");
    meru_schema *s = make_schema();
    meru_options o;
    meru_db *db = NULL;
    meru_row *row = NULL;
    meru_write_batch *b = NULL;
    meru_changes_iter *it = NULL;
    meru_change c;
    model m;
    uint64_t rs = 99, n = 0;
    int rc;

    memset(&m, 0, sizeof m);
    small_options(&o);
    CHECK_OK(meru_open(dir, &o, s, &db));
    CHECK_OK(meru_row_new(&row, s));
    CHECK_OK(meru_write_batch_new(&b, s));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 300; i++)
            CHECK_OK(random_write(db, &m, &rs, row, b));
        CHECK_OK(meru_flush(db));
    }
    meru_stats st;
    CHECK_OK(meru_stats_get(db, &st));
    CHECK_OK(meru_changes(db, 0, NULL, &it));
    CHECK_OK(meru_change_next(it, &c));
    n++;
    /* Now every older changelog expires at the next flush. */
    CHECK_OK(meru_set_property(db, "merutable.changes.retention-bytes", "1"));
    for (int i = 0; i < 300; i++)
        CHECK_OK(random_write(db, &m, &rs, row, b));
    CHECK_OK(meru_flush(db));
    CHECK_OK(meru_compact(db));
    CHECK(meru_changes_oldest(db) > 0);
    usleep(100 * 1000); /* give the background deletion a chance */
    while ((rc = meru_change_next(it, &c)) == MERU_OK)
        n++;
    CHECK_MSG(rc == MERU_NOT_FOUND, "%d %s", rc, meru_errmsg());
    /* Everything up to the point it was opened at: 3 rounds. */
    {
        size_t want = 0;
        while (want < m.nlog && m.seq[want] <= st.last_sequence)
            want++;
        CHECK_EQ_U64(n, want);
    }
    meru_changes_free(it);
    CHECK_RC(meru_changes(db, 0, NULL, &it), MERU_EEXPIRED);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_write_batch_free(b);
    meru_row_free(row);
    meru_schema_free(s);
    model_free(&m);
}

int main(void)
{
    MERU_TEST_RUN(test_followers_see_each_change_once_while_writing);
    MERU_TEST_RUN(test_open_iterator_pins_expired_changelogs);
    return meru_test_finish();
}
