/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sst_concurrent.c — one meru_sst shared by several threads doing
 * point lookups and iterator scans at once (the reader's lazily loaded
 * page indexes and bloom filters fill under its mutex; cursors are per
 * call), with and without a cache (file blocks and decoded pages shared
 * through refcounted handles, evicted while other threads hold them).
 * Every answer is checked against the model. Also: full scans of an L1
 * file, several at once, each with its decode-ahead worker (and one
 * without, MERU_SST_NO_READAHEAD), return the model's entries.
 *
 * MERU_TEST_CONCURRENT: also run under ThreadSanitizer.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "sst/sst.h"
#include "sst_model.h"
#include "test.h"

#define NTHREADS 4

typedef struct job {
    meru_sst *t;
    const sst_model *m;
    uint64_t seed;
    bool hot; /* all threads on the same few keys (same pages at once) */
    int errors;
} job;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static void *worker(void *arg)
{
    job *j = arg;
    const sst_model *m = j->m;
    meru_buf val = {0};
    for (int q = 0; q < 300; q++) {
        size_t i = (size_t)(next_rand(&j->seed) % m->n);
        if (j->hot)
            i = m->n / 3 + i % 40;
        const sst_ent *e = &m->e[i];
        meru_sst_state st;
        uint64_t seq = 0;
        int rc = meru_sst_get(j->t, e->ik.data, e->ulen, e->seq, &st, &seq,
                              &val, NULL);
        int want = e->op == MERU_OP_PUT ? MERU_SST_FOUND : MERU_SST_DELETED;
        if (rc || (int)st != want || seq != e->seq ||
            (want == MERU_SST_FOUND &&
             (val.len != e->val.len ||
              memcmp(val.data, e->val.data, val.len) != 0)))
            j->errors++;
        if (q % 100 == 0) {
            meru_iiter *it;
            if (meru_sst_iter_new(j->t, NULL, &it)) {
                j->errors++;
                continue;
            }
            size_t n = 0;
            it->ops->seek(it, e->ik.data, e->ik.len);
            for (; it->ops->valid(it) && n < 500; it->ops->next(it), n++) {
                size_t kl, vl;
                const uint8_t *k = it->ops->key(it, &kl);
                it->ops->value(it, &vl);
                if (i + n >= m->n) {
                    j->errors++;
                    break;
                }
                const sst_ent *x = &m->e[i + n];
                if (kl != x->ik.len || memcmp(k, x->ik.data, kl) != 0 ||
                    vl != x->val.len)
                    j->errors++;
            }
            if (it->ops->status(it))
                j->errors++;
            meru_iiter_destroy(it);
        }
    }
    meru_buf_free(&val);
    return NULL;
}

/* with_cache false: no cache; small cache_bytes = blocks and pages
 * evicted while in use; 0 = a cache that keeps nothing. */
static void share_one_sst(bool with_cache, size_t cache_bytes, bool hot)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t",
                               "id int64 not null, name string, x double",
                               "id"));
    const char *dir = meru_test_tmpdir("conc");
    char path[1024];
    snprintf(path, sizeof path, "%s/c.parquet", dir);
    sst_model *m = sst_model_make(s, 3000, 2, 10, 10);
    CHECK(m);
    meru_options to;
    meru_options_init(&to);
    to.l0_page_bytes = 2048;
    meru_sst_options o;
    meru_sst_options_for_level(&o, 0, &to);
    CHECK_OK(sst_model_write(m, meru_fs_posix(), path, s, &o, NULL));
    meru_cache *c = NULL;
    if (with_cache)
        CHECK_OK(meru_cache_new(&c, cache_bytes));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, meru_fs_posix(), path, s, c));
    pthread_t th[NTHREADS];
    job jobs[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        jobs[i].t = t;
        jobs[i].m = m;
        jobs[i].seed = meru_test_rand() | 1;
        jobs[i].hot = hot;
        jobs[i].errors = 0;
        CHECK_EQ_INT(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
    }
    int errors = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        errors += jobs[i].errors;
    }
    meru_sst_close(t);
    meru_cache_free(c);
    sst_model_free(m);
    meru_schema_free(s);
    CHECK_EQ_INT(errors, 0);
}

static void test_threads_share_one_sst(void)
{
    share_one_sst(false, 0, false);
    share_one_sst(false, 0, true);
}

static void test_threads_share_one_sst_through_a_cache(void)
{
    share_one_sst(true, (size_t)4 << 20, false);
    share_one_sst(true, (size_t)4 << 20, true);
    share_one_sst(true, 64 * 1024, false);
    share_one_sst(true, 16 * 1024, true);
    share_one_sst(true, 0, true);
}

typedef struct scan_job {
    meru_sst *t;
    const sst_model *m;
    unsigned flags;
    bool ahead; /* the iterator's readahead worker ran */
    int errors;
} scan_job;

/* Every entry in order, keys and values as the model has them. */
static void *scan_all(void *arg)
{
    scan_job *j = arg;
    meru_iiter *it;
    if (meru_sst_iter_new_ex(j->t, NULL, j->flags, &it)) {
        j->errors++;
        return NULL;
    }
    size_t n = 0;
    for (it->ops->seek_to_first(it); it->ops->valid(it); it->ops->next(it)) {
        size_t kl, vl;
        const uint8_t *k = it->ops->key(it, &kl);
        const uint8_t *v = it->ops->value(it, &vl);
        const sst_ent *x = n < j->m->n ? &j->m->e[n] : NULL;
        if (!x || kl != x->ik.len || memcmp(k, x->ik.data, kl) != 0 ||
            vl != x->val.len || (vl && memcmp(v, x->val.data, vl) != 0))
            j->errors++;
        n++;
    }
    if (it->ops->status(it) || n != j->m->n)
        j->errors++;
    j->ahead = meru_sst_iter_reads_ahead(it);
    meru_iiter_destroy(it);
    return NULL;
}

/* Scans long enough to start the readahead (zstd pages of 2 KiB, 64 KiB
 * of them in sequence in a row group), three of them at once on one
 * meru_sst, and one scan with the readahead off. */
static void test_long_scans_read_ahead(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t",
                               "id int64 not null, name string, x double",
                               "id"));
    const char *dir = meru_test_tmpdir("conc_ra");
    char path[1024];
    snprintf(path, sizeof path, "%s/r.parquet", dir);
    size_t nkeys = (size_t)(12000 * meru_test_scale()) + 4000;
    sst_model *m = sst_model_make(s, nkeys, 2, 10, 10);
    CHECK(m);
    meru_sst_options o;
    meru_sst_options_for_level(&o, 1, NULL);
    o.pq.page_size = 2048;
    o.pq.row_group_rows = 12000; /* ~100 KiB of keys each */
    o.pq.codec_min_saving = 0;   /* random values: keep zstd anyway */
    CHECK_OK(sst_model_write(m, meru_fs_posix(), path, s, &o, NULL));
    meru_sst *t;
    CHECK_OK(meru_sst_open(&t, meru_fs_posix(), path, s, NULL));
    enum { NSCAN = 4 };
    pthread_t th[NSCAN];
    scan_job jobs[NSCAN];
    for (int i = 0; i < NSCAN; i++) {
        jobs[i] = (scan_job){.t = t,
                             .m = m,
                             .flags = i == NSCAN - 1 ? MERU_SST_NO_READAHEAD
                                                     : 0u};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, scan_all, &jobs[i]), 0);
    }
    for (int i = 0; i < NSCAN; i++)
        pthread_join(th[i], NULL);
    meru_sst_close(t);
    sst_model_free(m);
    meru_schema_free(s);
    for (int i = 0; i < NSCAN; i++) {
        CHECK_EQ_INT(jobs[i].errors, 0);
        CHECK_MSG(jobs[i].ahead == (i != NSCAN - 1),
                  "scan %d: readahead %s", i, jobs[i].ahead ? "ran" : "idle");
    }
}

int main(void)
{
    MERU_TEST_RUN(test_long_scans_read_ahead);
    MERU_TEST_RUN(test_threads_share_one_sst);
    MERU_TEST_RUN(test_threads_share_one_sst_through_a_cache);
    return meru_test_finish();
}
