/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_schema_concurrent.c — meru_add_column while other threads write
 * and read (MERU_TEST_CONCURRENT: run under ThreadSanitizer too).
 *
 * Writers put rows made on the schema from before the change (single puts
 * and write batches) and record each row's sequence number; readers scan
 * and get throughout (with rows of the old schema too); the main thread
 * adds NOT NULL columns (initial default 1, write default 2) one after the
 * other in the middle. Afterwards, for each column, ordered by sequence
 * number, the rows must read
 * 1, 1, ..., 1, 2, 2, ..., 2: every row committed before the change takes
 * the initial default and every row after it the write default, whatever
 * the interleaving — no row of the old schema slips in after the change.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "test.h"
#include "test_db_common.h"
#include "util/fs.h"

#define WRITERS 3
#define CHANGES 4 /* columns added, one after the other */

typedef struct shared {
    meru_db *db;
    const meru_schema *s0;       /* the schema before the change */
    int64_t per_writer;          /* ids each writer may use at most */
    int64_t done[WRITERS];       /* rows each writer wrote */
    atomic_int_fast64_t written; /* rows committed so far, all writers */
    atomic_bool stop_writers, stop_readers;
    uint64_t *seq_of; /* by id */
    atomic_int errors;
    char err[256];
} shared;

typedef struct writer_arg {
    shared *sh;
    int t;
} writer_arg;

static void record_error(shared *sh, const char *what, int rc)
{
    if (atomic_fetch_add(&sh->errors, 1) == 0)
        snprintf(sh->err, sizeof sh->err, "%s: %d (%s)", what, rc,
                 meru_errmsg());
}

/* Ids t, t + WRITERS, ...: every other group of four as one batch. */
static void *writer(void *p)
{
    writer_arg *a = p;
    shared *sh = a->sh;
    meru_row *r = NULL;
    meru_write_batch *wb = NULL;
    int rc = meru_row_new(&r, sh->s0);
    if (!rc)
        rc = meru_write_batch_new(&wb, sh->s0);
    int64_t k = 0;
    for (; !rc && k < sh->per_writer && !atomic_load(&sh->stop_writers);
         k += 4) {
        int batch = (k / 4) % 2;
        meru_write_batch_clear(wb);
        for (int64_t j = k; !rc && j < k + 4 && j < sh->per_writer; j++) {
            int64_t id = j * WRITERS + a->t;
            rc = meru_row_set_int64(r, 0, id);
            if (!rc)
                rc = meru_row_set_string(r, 1, "w", 1);
            if (rc)
                break;
            if (batch) {
                rc = meru_write_batch_put(wb, r);
            } else {
                uint64_t seq = 0;
                rc = meru_put(sh->db, r, &seq);
                sh->seq_of[id] = seq;
                atomic_fetch_add(&sh->written, 1);
            }
        }
        if (!rc && batch) {
            uint64_t first = 0;
            rc = meru_write(sh->db, wb, &first);
            for (int64_t j = k; !rc && j < k + 4 && j < sh->per_writer; j++)
                sh->seq_of[j * WRITERS + a->t] = first + (uint64_t)(j - k);
            atomic_fetch_add(&sh->written, 4);
        }
    }
    sh->done[a->t] = k < sh->per_writer ? k : sh->per_writer;
    if (rc)
        record_error(sh, "writer", rc);
    meru_write_batch_free(wb);
    meru_row_free(r);
    return NULL;
}

/* Scans and gets (into rows of the old schema and the current one) until
 * told to stop; any error is recorded. */
static void *reader(void *p)
{
    shared *sh = p;
    meru_row *k = NULL, *o0 = NULL;
    int rc = meru_row_new(&k, sh->s0);
    if (!rc)
        rc = meru_row_new(&o0, sh->s0);
    uint64_t round = 0;
    while (!rc && !atomic_load(&sh->stop_readers)) {
        meru_iter *it = NULL;
        const meru_row *row;
        rc = meru_scan(sh->db, NULL, &it);
        int64_t prev = -1;
        while (!rc && (rc = meru_iter_next(it, &row)) == MERU_OK) {
            int64_t id = 0;
            rc = meru_row_get_int64(row, 0, &id);
            if (!rc && id <= prev)
                rc = MERU_EINTERNAL;
            prev = id;
        }
        if (rc == MERU_NOT_FOUND)
            rc = MERU_OK;
        meru_iter_free(it);
        meru_row *cur = NULL;
        if (!rc)
            rc = meru_row_new(&cur, meru_db_schema(sh->db));
        for (int64_t id = (int64_t)(round % 50); !rc && id < 3000; id += 50) {
            rc = meru_row_set_int64(k, 0, id);
            if (!rc)
                rc = meru_get(sh->db, NULL, k, round % 2 ? o0 : cur);
            if (rc == MERU_NOT_FOUND)
                rc = MERU_OK;
        }
        meru_row_free(cur);
        round++;
    }
    if (rc)
        record_error(sh, "reader", rc);
    meru_row_free(k);
    meru_row_free(o0);
    return NULL;
}

static void test_add_column_under_writers_and_readers(void)
{
    const char *dir = meru_test_tmpdir("schema_concurrent");
    meru_schema *s = NULL;
    meru_catalog *cat = NULL;
    meru_catalog_options co = {.format_version = 3};
    CHECK_OK(
        meru_schema_parse(&s, "t", "id int64 not null, name string", "id"));
    CHECK_OK(meru_catalog_create(meru_fs_posix(), dir, s, &co, &cat));
    meru_catalog_free(cat);
    meru_schema_free(s);
    meru_options o;
    tdb_small_options(&o);
    meru_db *db = NULL;
    CHECK_OK(meru_open(dir, &o, NULL, &db));

    static shared sh;
    memset(&sh, 0, sizeof sh);
    sh.db = db;
    sh.s0 = meru_db_schema(db);
    sh.per_writer = (int64_t)(20000 * meru_test_scale()) / 4 * 4;
    if (sh.per_writer < 2000)
        sh.per_writer = 2000;
    int64_t cap = sh.per_writer * WRITERS, step = cap / (2 * (CHANGES + 1));
    sh.seq_of = calloc((size_t)cap, sizeof *sh.seq_of);
    CHECK(sh.seq_of);
    pthread_t w[WRITERS], rd[2];
    writer_arg wa[WRITERS];
    for (int t = 0; t < 2; t++)
        CHECK(pthread_create(&rd[t], NULL, reader, &sh) == 0);
    for (int t = 0; t < WRITERS; t++) {
        wa[t].sh = &sh;
        wa[t].t = t;
        CHECK(pthread_create(&w[t], NULL, writer, &wa[t]) == 0);
    }
    /* The changes land in the middle of the writes (by row count, not
     * time): rows before each, rows after. */
    int64_t before_change[CHANGES];
    int rc = MERU_OK;
    for (int c = 0; c < CHANGES && !rc; c++) {
        while (atomic_load(&sh.written) < (c + 1) * step &&
               !atomic_load(&sh.errors))
            sched_yield();
        before_change[c] = atomic_load(&sh.written);
        char name[8];
        snprintf(name, sizeof name, "c%d", c);
        meru_column_def d = MERU_COLUMN_DEF_INIT;
        d.name = name;
        d.type = MERU_TYPE_INT32;
        d.nullable = 0;
        d.initial_default = "1";
        d.write_default = "2";
        rc = meru_add_column(db, &d);
    }
    /* Writers go on for a while after the last: rows they count from
     * here on include (all but the one write each had under way) rows
     * written after it. */
    while (atomic_load(&sh.written) < (CHANGES + 1) * step &&
           atomic_load(&sh.written) < cap && !atomic_load(&sh.errors))
        sched_yield();
    atomic_store(&sh.stop_writers, true);
    for (int t = 0; t < WRITERS; t++)
        pthread_join(w[t], NULL);
    atomic_store(&sh.stop_readers, true);
    for (int t = 0; t < 2; t++)
        pthread_join(rd[t], NULL);
    CHECK_OK(rc);
    CHECK_MSG(!atomic_load(&sh.errors), "%s", sh.err);
    CHECK_EQ_INT(meru_schema_id(meru_db_schema(db)), CHANGES);
    int64_t total = 0;
    for (int t = 0; t < WRITERS; t++)
        total += sh.done[t];
    CHECK(total == atomic_load(&sh.written));

    /* Every column, rows in sequence order: initial defaults, then write
     * defaults. */
    meru_row *k = NULL, *out = NULL;
    CHECK_OK(meru_row_new(&k, meru_db_schema(db)));
    CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
    int32_t *val = calloc((size_t)cap * CHANGES, sizeof *val);
    int64_t *by_seq = calloc((size_t)total, sizeof *by_seq);
    CHECK(val && by_seq);
    uint64_t min_seq = UINT64_MAX;
    for (int64_t id = 0; id < cap; id++)
        if (id / WRITERS < sh.done[id % WRITERS] && sh.seq_of[id] < min_seq)
            min_seq = sh.seq_of[id];
    for (int64_t id = 0; id < cap; id++) {
        if (id / WRITERS >= sh.done[id % WRITERS])
            continue;
        CHECK_OK(meru_row_set_int64(k, 0, id));
        CHECK_OK(meru_get(db, NULL, k, out));
        for (int c = 0; c < CHANGES; c++)
            CHECK_OK(
                meru_row_get_int32(out, 2 + (size_t)c, &val[id * CHANGES + c]));
        uint64_t pos = sh.seq_of[id] - min_seq;
        CHECK_MSG(pos < (uint64_t)total, "row %lld: sequence %llu",
                  (long long)id, (unsigned long long)sh.seq_of[id]);
        by_seq[pos] = id;
    }
    int64_t prev_ones = 0;
    for (int c = 0; c < CHANGES; c++) {
        int64_t ones = 0;
        while (ones < total && val[by_seq[ones] * CHANGES + c] == 1)
            ones++;
        for (int64_t i = ones; i < total; i++)
            CHECK_MSG(val[by_seq[i] * CHANGES + c] == 2,
                      "column c%d: row %lld (sequence %llu, after %lld rows "
                      "with the initial default) has %d",
                      c, (long long)by_seq[i],
                      (unsigned long long)sh.seq_of[by_seq[i]], (long long)ones,
                      val[by_seq[i] * CHANGES + c]);
        CHECK_MSG(ones >= before_change[c] && ones >= prev_ones && ones < total,
                  "column c%d: %lld rows with the initial default, %lld "
                  "counted before the change, %lld in all",
                  c, (long long)ones, (long long)before_change[c],
                  (long long)total);
        prev_ones = ones;
    }
    /* The same after reopening. */
    meru_row_free(k);
    meru_row_free(out);
    meru_db_free(db);
    db = NULL;
    CHECK_OK(meru_open(dir, &o, NULL, &db));
    CHECK_OK(meru_row_new(&k, meru_db_schema(db)));
    CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
    for (int64_t id = 0; id < cap; id += 7) {
        if (id / WRITERS >= sh.done[id % WRITERS])
            continue;
        CHECK_OK(meru_row_set_int64(k, 0, id));
        CHECK_OK(meru_get(db, NULL, k, out));
        for (int c = 0; c < CHANGES; c++) {
            int32_t v = 0;
            CHECK_OK(meru_row_get_int32(out, 2 + (size_t)c, &v));
            CHECK_EQ_INT(v, val[id * CHANGES + c]);
        }
    }
    meru_row_free(k);
    meru_row_free(out);
    meru_db_free(db);
    free(val);
    free(by_seq);
    free(sh.seq_of);
}

int main(void)
{
    MERU_TEST_RUN(test_add_column_under_writers_and_readers);
    return meru_test_finish();
}
