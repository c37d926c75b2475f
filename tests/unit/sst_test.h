/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_test.h — helpers shared by the SST test programs (test_sst.c,
 * test_sst_format.c, test_sst_cache.c): the every-type and composite-key
 * schemas, a path in a test directory, scans and gets checked against the
 * reference model (sst_model.h), and the shape of a written file (row
 * groups, pages per column, codec) as a Parquet reader sees it.
 *
 * Everything is static: each test program includes this once.
 */
#ifndef MERU_SST_TEST_H
#define MERU_SST_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parquet/pq.h"
#include "sst/sst.h"
#include "sst/sst_internal.h"
#include "sst_model.h"
#include "test.h"

#define S_ALL_COLS                                                             \
    "id int64 not null, b boolean, i int32, l int64, f float, d double, "      \
    "s string, bin binary, fx fixed(4), dt date, ts timestamp, "               \
    "tz timestamptz, dec decimal(10,2), dec5 decimal(5,1), "                   \
    "dec38 decimal(38,4), nn int32 not null, nns string not null"

static inline meru_schema *schema_all(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "t", S_ALL_COLS, "id"))
        return NULL;
    return s;
}

static inline meru_schema *schema_composite(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "c",
                          "k1 string not null, k2 decimal(20,3) not null, "
                          "k3 int32 not null, v double, w binary",
                          "k1, k2, k3"))
        return NULL;
    return s;
}

static inline const char *path_in(const char *dir, const char *name)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

/* Forward and backward scans give exactly the model's entries. */
static inline int scan_matches(meru_sst *t, const sst_model *m)
{
    meru_iiter *it;
    if (meru_sst_iter_new(t, NULL, &it))
        return 0;
    int ok = 1;
    size_t i = 0;
    for (it->ops->seek_to_first(it); it->ops->valid(it); it->ops->next(it)) {
        size_t kl, vl;
        const uint8_t *k = it->ops->key(it, &kl);
        const uint8_t *v = it->ops->value(it, &vl);
        if (i >= m->n || kl != m->e[i].ik.len ||
            memcmp(k, m->e[i].ik.data, kl) != 0 || vl != m->e[i].val.len ||
            (vl && memcmp(v, m->e[i].val.data, vl) != 0)) {
            fprintf(stderr, "scan: entry %zu differs\n", i);
            ok = 0;
            break;
        }
        i++;
    }
    ok &= i == m->n && it->ops->status(it) == MERU_OK;
    i = m->n;
    for (it->ops->seek_to_last(it); ok && it->ops->valid(it);
         it->ops->prev(it)) {
        size_t kl;
        const uint8_t *k = it->ops->key(it, &kl);
        if (i == 0 || kl != m->e[i - 1].ik.len ||
            memcmp(k, m->e[i - 1].ik.data, kl) != 0) {
            fprintf(stderr, "reverse scan: entry %zu differs\n", i - 1);
            ok = 0;
        }
        i--;
    }
    ok &= i == 0 && it->ops->status(it) == MERU_OK;
    meru_iiter_destroy(it);
    return ok;
}

/* get of every key index (present and absent) at a few read sequences. */
static inline int gets_match(meru_sst *t, const sst_model *m,
                             const meru_schema *s, size_t nkeys,
                             meru_sst_read_stats *st)
{
    meru_buf uk = {0}, val = {0};
    int ok = 1;
    uint64_t maxseq = m->e[0].seq;
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].seq > maxseq)
            maxseq = m->e[i].seq;
    for (uint64_t idx = 0; ok && idx < 2 * nkeys + 1; idx++) {
        meru_buf_reset(&uk);
        if (sst_ukey(s, idx, &uk))
            return 0;
        uint64_t seqs[4] = {MERU_SEQ_MAX, 1 + meru_test_rand() % (maxseq + 1),
                            maxseq, 0};
        int nq = idx % 4 == 0 ? 4 : 2; /* the edge sequences now and then */
        for (int q = 0; ok && q < nq; q++) {
            meru_sst_state state;
            uint64_t seq = 0;
            int rc = meru_sst_get(t, uk.data, uk.len, seqs[q], &state, &seq,
                                  &val, st);
            size_t want = sst_model_get(m, uk.data, uk.len, seqs[q]);
            if (rc) {
                fprintf(stderr, "get: %s\n", meru_errmsg());
                ok = 0;
            } else if (want == (size_t)-1) {
                ok = state == MERU_SST_NOT_FOUND;
            } else if (m->e[want].op == MERU_OP_DELETE) {
                ok = state == MERU_SST_DELETED && seq == m->e[want].seq;
            } else {
                ok = state == MERU_SST_FOUND && seq == m->e[want].seq &&
                     val.len == m->e[want].val.len &&
                     memcmp(val.data, m->e[want].val.data, val.len) == 0;
            }
            if (!ok)
                fprintf(stderr, "get idx %llu seq %llu: state %d\n",
                        (unsigned long long)idx, (unsigned long long)seqs[q],
                        (int)state);
        }
    }
    meru_buf_free(&uk);
    meru_buf_free(&val);
    return ok;
}

typedef struct file_shape {
    uint32_t row_groups;
    uint32_t ikey_pages; /* in row group 0 */
    uint32_t pages[16];  /* per file column (up to 16), row group 0 */
    pq_codec codec;      /* of column 3 in row group 0 */
    uint64_t size;
} file_shape;

static inline int shape_of(const char *path, file_shape *out)
{
    memset(out, 0, sizeof *out);
    size_t n;
    uint8_t *bytes = meru_test_read_file(path, &n);
    if (!bytes)
        return MERU_EIO;
    pq_mem mem;
    pq_source src;
    pq_source_mem(&src, &mem, bytes, n);
    pq_reader *r;
    int rc = pq_reader_open(&r, &src, NULL);
    if (!rc) {
        const pq_offset_index *oi;
        out->row_groups = pq_reader_num_row_groups(r);
        out->codec = pq_reader_chunk(r, 0, 3)->codec;
        rc = pq_reader_offset_index(r, 0, 0, &oi);
        if (!rc && oi)
            out->ikey_pages = oi->n_pages;
        uint32_t nc = pq_reader_num_columns(r);
        for (uint32_t c = 0; !rc && c < nc && c < 16; c++) {
            rc = pq_reader_offset_index(r, 0, c, &oi);
            if (!rc && oi)
                out->pages[c] = oi->n_pages;
        }
        pq_reader_close(r);
    }
    out->size = n;
    free(bytes);
    return rc;
}

#endif
