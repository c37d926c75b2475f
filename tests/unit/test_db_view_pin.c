/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_view_pin.c — gets pin the current view without db->mu and
 * without a reference (meru_db_view_pin, db_view.c, issue 11).
 *
 * - A pinned view replaced by a flush stays alive (on db->retired, one
 *   reference) and still answers lookups; unpinning releases it. More
 *   pins from the same thread take the next free slots; once every slot
 *   is taken a pin falls back to a reference. Without the retire step the old view is freed under the
 *   pin: ASan reports the lookup through it.
 * - Views swapped by commits while other threads get: one writer puts
 *   versions with a small memtable (a memtable switch, a new view, every
 *   few hundred rows) and flushes now and then, while more reader threads
 *   than there are pin slots get (so some find every slot taken and
 *   take the fallback). Every get returns the acknowledged version or a newer one;
 *   after the readers stop no retired view is left. MERU_TEST_CONCURRENT:
 *   also run under ThreadSanitizer (a reader touching a freed view shows
 *   there and under ASan).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "test.h"
#include "test_db_common.h"
#include "types/keycodec.h"

#define COLS "id int64 not null, ver int64 not null, pad string"

static int put_version(meru_db *db, meru_row *r, int64_t key, int64_t ver)
{
    char pad[96];
    int n = snprintf(pad, sizeof pad, "key=%lld ver=%lld %040d",
                     (long long)key, (long long)ver, 0);
    int rc = meru_row_set_int64(r, 0, key);
    if (!rc)
        rc = meru_row_set_int64(r, 1, ver);
    if (!rc)
        rc = meru_row_set_string(r, 2, pad, (size_t)n);
    if (!rc)
        rc = meru_put(db, r, NULL);
    return rc;
}

static void open_small(const char *name, meru_schema **s, meru_db **db)
{
    meru_options o;
    CHECK_OK(meru_schema_parse(s, "t", COLS, "id"));
    tdb_small_options(&o);
    CHECK_OK(meru_open(meru_test_tmpdir(name), &o, *s, db));
}

static void test_db_view_pin_survives_replacement(void)
{
    meru_schema *s = NULL;
    meru_db *db = NULL;
    open_small("db_view_pin", &s, &db);
    if (!db)
        return;
    meru_row *r = NULL;
    CHECK_OK(meru_row_new(&r, meru_db_schema(db)));
    CHECK_OK(put_version(db, r, 7, 1));

    meru_db_pin pin, pin2;
    meru_view *v = meru_db_view_pin(db, &pin);
    CHECK(pin.slot != NULL);
    CHECK(v == atomic_load(&db->view));
    CHECK_EQ_INT(atomic_load(&v->refs), 1); /* the db's alone: no count */
    /* The same thread again: its slot is taken, so the next free ones,
     * without a count; with every slot taken, a reference. */
    meru_db_pin more[MERU_DB_VIEW_PINS - 1];
    for (size_t i = 0; i < MERU_DB_VIEW_PINS - 1; i++) {
        CHECK(meru_db_view_pin(db, &more[i]) == v);
        CHECK(more[i].slot != NULL && more[i].slot != pin.slot);
    }
    CHECK_EQ_INT(atomic_load(&v->refs), 1);
    meru_view *v2 = meru_db_view_pin(db, &pin2);
    CHECK(v2 == v && pin2.slot == NULL);
    CHECK_EQ_INT(atomic_load(&v->refs), 2);
    meru_db_view_unpin(db, &pin2);
    CHECK_EQ_INT(atomic_load(&v->refs), 1);
    for (size_t i = 0; i < MERU_DB_VIEW_PINS - 1; i++)
        meru_db_view_unpin(db, &more[i]);

    /* A new version and a flush: the view is replaced (more than once). */
    CHECK_OK(put_version(db, r, 7, 2));
    CHECK_OK(meru_flush(db));
    CHECK(atomic_load(&db->view) != v);
    CHECK_EQ_U64(atomic_load(&db->nretired), 1);
    CHECK_EQ_INT(atomic_load(&v->refs), 1); /* the retired list's */

    /* The pinned view still reads what it held: version 2 in its
     * memtable (a freed view would show under ASan). */
    meru_buf k = {0}, val = {0};
    meru_row *key = NULL;
    CHECK_OK(meru_row_new(&key, meru_db_schema(db)));
    CHECK_OK(meru_row_set_int64(key, 0, 7));
    CHECK_OK(meru_key_encode_row(v->schema, key, &k));
    CHECK_OK(meru_db_lookup_value(db, v, k.data, k.len, UINT64_MAX, &val));
    CHECK(val.len > 0);
    meru_db_view_unpin(db, &pin);
    CHECK_EQ_U64(atomic_load(&db->nretired), 0);
    CHECK(db->retired == NULL);

    /* Gets go on through the new view. */
    meru_row *out = NULL;
    int64_t ver = 0;
    CHECK_OK(meru_row_new(&out, meru_db_schema(db)));
    CHECK_OK(meru_get(db, NULL, key, out));
    CHECK_OK(meru_row_get_int64(out, 1, &ver));
    CHECK_EQ_INT((int)ver, 2);
    meru_buf_free(&k);
    meru_buf_free(&val);
    meru_row_free(out);
    meru_row_free(key);
    meru_row_free(r);
    CHECK_OK(meru_close(db));
    meru_db_free(db);
    meru_schema_free(s);
}

/* ------------------------------------------------------------- threads */

#define NKEYS 400
#define NR    (MERU_DB_VIEW_PINS + 2) /* some readers share a slot */

typedef struct shared {
    meru_db *db;
    atomic_llong acked[NKEYS];
    atomic_int stop;
    atomic_int failed;
    atomic_llong gets;
} shared;

static shared S;

static void *reader(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    meru_row *k = NULL, *out = NULL;
    if (meru_row_new(&k, meru_db_schema(S.db)) ||
        meru_row_new(&out, meru_db_schema(S.db))) {
        atomic_store(&S.failed, 1);
        goto done;
    }
    while (!atomic_load(&S.stop)) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t key = (int64_t)(x % NKEYS), ver = -1;
        long long want = atomic_load(&S.acked[key]);
        int rc = meru_row_set_int64(k, 0, key);
        if (!rc)
            rc = meru_get(S.db, NULL, k, out);
        if (!rc)
            rc = meru_row_get_int64(out, 1, &ver);
        if (rc || ver < want) {
            atomic_store(&S.failed, 1);
            break;
        }
        atomic_fetch_add(&S.gets, 1);
    }
done:
    meru_row_free(k);
    meru_row_free(out);
    return NULL;
}

static void test_db_view_pin_swapped_under_gets(void)
{
    meru_schema *s = NULL;
    open_small("db_view_pin_threads", &s, &S.db);
    if (!S.db)
        return;
    meru_row *r = NULL;
    CHECK_OK(meru_row_new(&r, meru_db_schema(S.db)));
    for (int64_t key = 0; key < NKEYS; key++) {
        CHECK_OK(put_version(S.db, r, key, 0));
        atomic_init(&S.acked[key], 0);
    }
    atomic_init(&S.stop, 0);
    atomic_init(&S.failed, 0);
    atomic_init(&S.gets, 0);
    pthread_t th[NR];
    for (int i = 0; i < NR; i++) {
        void *arg = (void *)(uintptr_t)(i + 1);
        CHECK(pthread_create(&th[i], NULL, reader, arg) == 0);
    }
    long writes = (long)(1200 * meru_test_scale()) + 300;
    uint64_t x = meru_test_rand() | 1;
    for (long w = 1; w <= writes && !atomic_load(&S.failed); w++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t key = (int64_t)(x % NKEYS);
        CHECK_OK(put_version(S.db, r, key, w));
        atomic_store(&S.acked[key], w);
        if (w % 300 == 0)
            CHECK_OK(meru_flush(S.db));
    }
    atomic_store(&S.stop, 1);
    for (int i = 0; i < NR; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ_INT(atomic_load(&S.failed), 0);
    CHECK(atomic_load(&S.gets) > 0);
    /* Every pin is gone, so is every view it kept. */
    CHECK_EQ_U64(atomic_load(&S.db->nretired), 0);
    for (int i = 0; i < MERU_DB_VIEW_PINS; i++)
        CHECK(atomic_load(&S.db->view_pins[i].v) == NULL);
    meru_row_free(r);
    CHECK_OK(meru_close(S.db));
    meru_db_free(S.db);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_db_view_pin_survives_replacement);
    MERU_TEST_RUN(test_db_view_pin_swapped_under_gets);
    return meru_test_finish();
}
