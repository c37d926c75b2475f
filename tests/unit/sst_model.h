/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_model.h — a reference model for the SST tests: sorted entries
 * (internal key, rowcodec value) made from random rows of a schema, with
 * several versions per key and deletes, written to a file through
 * meru_sst_writer; brute-force answers for get and seeks.
 *
 * Keys: entry key number k (0 .. nkeys) is written as index 2k, so the odd
 * indexes give keys inside the file's range that are absent.
 */
#ifndef MERU_TEST_SST_MODEL_H
#define MERU_TEST_SST_MODEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sst/sst.h"
#include "test.h"
#include "types/keycodec.h"
#include "types/row.h"
#include "types/rowcodec.h"
#include "util/error.h"

typedef struct sst_ent {
    meru_buf ik;  /* internal key */
    meru_buf val; /* rowcodec value (empty for a delete) */
    size_t ulen;
    uint64_t seq;
    int op;
} sst_ent;

typedef struct sst_model {
    sst_ent *e;
    size_t n;
} sst_model;

static inline void sst_model_free(sst_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        meru_buf_free(&m->e[i].ik);
        meru_buf_free(&m->e[i].val);
    }
    free(m->e);
    free(m);
}

static int sst_ent_cmp(const void *a, const void *b)
{
    const sst_ent *x = a, *y = b;
    return meru_ikey_cmp(x->ik.data, x->ik.len, y->ik.data, y->ik.len);
}

/* Random decimal text of at most c->precision digits and c->scale
 * fractional ones. */
static inline int sst_set_decimal(meru_row *r, const meru_column *c,
                                  size_t col, uint64_t x, int random)
{
    char txt[64];
    int p = c->precision, sc = c->scale, n = 0;
    int digits = random ? 1 + (int)(meru_test_rand() % (uint64_t)p) : p;
    char d[48];
    for (int i = 0; i < digits; i++) {
        d[i] = (char)('0' + (random ? meru_test_rand() % 10 : x % 10));
        if (!random)
            x /= 10;
    }
    if (!random) /* deterministic: most significant digit first */
        for (int i = 0; i < digits / 2; i++) {
            char t = d[i];
            d[i] = d[digits - 1 - i];
            d[digits - 1 - i] = t;
        }
    if (random && meru_test_rand() % 2)
        txt[n++] = '-';
    int intd = digits - sc;
    if (intd <= 0) {
        txt[n++] = '0';
        txt[n++] = '.';
        for (int i = 0; i < -intd; i++)
            txt[n++] = '0';
        memcpy(txt + n, d, (size_t)digits);
        n += digits;
    } else {
        memcpy(txt + n, d, (size_t)intd);
        n += intd;
        if (sc) {
            txt[n++] = '.';
            memcpy(txt + n, d + intd, (size_t)sc);
            n += sc;
        }
    }
    txt[n] = '\0';
    return meru_row_set_decimal_str(r, col, txt);
}

static inline int sst_set_random(meru_row *r, const meru_schema *s, size_t col,
                                 int null_pct)
{
    const meru_column *c = &s->cols[col];
    if (c->nullable && (int)(meru_test_rand() % 100) < null_pct)
        return meru_row_set_null(r, col);
    uint64_t x = meru_test_rand();
    uint8_t b[256]; /* FIXED columns of tests are at most this long */
    size_t len;
    static const float fs[] = {0.0f, -0.0f, 1.5f, -3.25e10f, 1e-40f};
    static const double ds[] = {0.0, -0.0, 2.5, -1e300, 5e-324};
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        return meru_row_set_bool(r, col, (int)(x & 1));
    case MERU_TYPE_INT32:
        return meru_row_set_int32(r, col, (int32_t)x);
    case MERU_TYPE_INT64:
        return meru_row_set_int64(r, col, (int64_t)x);
    case MERU_TYPE_FLOAT:
        return meru_row_set_float(r, col,
                                  x % 3 ? (float)(int32_t)x / 7.0f
                                        : fs[(x >> 8) % 5]);
    case MERU_TYPE_DOUBLE:
        return meru_row_set_double(r, col,
                                   x % 3 ? (double)(int64_t)x / 13.0
                                         : ds[(x >> 8) % 5]);
    case MERU_TYPE_STRING:
        len = (size_t)(x % 24);
        for (size_t i = 0; i < len; i++)
            b[i] = (uint8_t)("ab\0cdXYZ"[meru_test_rand() % 8]);
        return meru_row_set_string(r, col, (const char *)b, len);
    case MERU_TYPE_BINARY:
        len = (size_t)(x % 40);
        for (size_t i = 0; i < len; i++)
            b[i] = (uint8_t)meru_test_rand();
        return meru_row_set_binary(r, col, b, len);
    case MERU_TYPE_FIXED:
        if (c->fixed_length > (int32_t)sizeof b)
            return MERU_EINVAL;
        for (int i = 0; i < c->fixed_length; i++)
            b[i] = (uint8_t)meru_test_rand();
        return meru_row_set_binary(r, col, b, (size_t)c->fixed_length);
    case MERU_TYPE_DATE:
        return meru_row_set_date(r, col, (int32_t)(x % 100000) - 50000);
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        return meru_row_set_timestamp(r, col, (int64_t)(x >> 4) - (INT64_C(1) << 58));
    case MERU_TYPE_DECIMAL:
        return sst_set_decimal(r, c, col, 0, 1);
    }
    return MERU_EINVAL;
}

/* Key columns of entry index `idx` (unique per idx, any key types). */
static inline int sst_set_key(meru_row *r, const meru_schema *s, uint64_t idx)
{
    for (size_t k = 0; k < s->nkey; k++) {
        size_t col = (size_t)s->key_cols[k];
        const meru_column *c = &s->cols[col];
        /* First column carries idx / 3, the last idx % 3 (or all of idx
         * when there is one column), middle ones a function of idx / 3. */
        uint64_t v = s->nkey == 1 ? idx
                     : k == 0     ? idx / 3
                     : k == s->nkey - 1 ? idx % 3
                                        : (idx / 3) * 7 % 11;
        char txt[32];
        int rc;
        switch (c->type) {
        case MERU_TYPE_BOOLEAN:
            rc = meru_row_set_bool(r, col, (int)(v & 1));
            break;
        case MERU_TYPE_INT32:
            rc = meru_row_set_int32(r, col, (int32_t)v - 1000);
            break;
        case MERU_TYPE_DATE:
            rc = meru_row_set_date(r, col, (int32_t)v - 1000);
            break;
        case MERU_TYPE_INT64:
            rc = meru_row_set_int64(r, col, (int64_t)v * 3 - 5000);
            break;
        case MERU_TYPE_TIMESTAMP:
        case MERU_TYPE_TIMESTAMPTZ:
            rc = meru_row_set_timestamp(r, col, (int64_t)v * 3 - 5000);
            break;
        case MERU_TYPE_FLOAT:
            rc = meru_row_set_float(r, col, (float)v - 10.5f);
            break;
        case MERU_TYPE_DOUBLE:
            rc = meru_row_set_double(r, col, (double)v - 10.5);
            break;
        case MERU_TYPE_STRING:
        case MERU_TYPE_BINARY: {
            /* NULs inside: the key codec escapes them */
            int n = snprintf(txt, sizeof txt, "k%llu", (unsigned long long)v);
            txt[n] = '\0';
            size_t len = (size_t)n + (v % 2);
            rc = c->type == MERU_TYPE_STRING
                     ? meru_row_set_string(r, col, txt, len)
                     : meru_row_set_binary(r, col, txt, len);
            break;
        }
        case MERU_TYPE_FIXED: {
            uint8_t b[256] = {0};
            if (c->fixed_length > (int32_t)sizeof b)
                return MERU_EINVAL;
            for (int i = 0; i < 8 && i < c->fixed_length; i++)
                b[c->fixed_length - 1 - i] = (uint8_t)(v >> (8 * i));
            rc = meru_row_set_binary(r, col, b, (size_t)c->fixed_length);
            break;
        }
        case MERU_TYPE_DECIMAL:
            rc = sst_set_decimal(r, c, col, v, 0);
            break;
        default:
            rc = MERU_EINVAL;
        }
        if (rc)
            return rc;
    }
    return MERU_OK;
}

/* The encoded user key of index idx. */
static inline int sst_ukey(const meru_schema *s, uint64_t idx, meru_buf *out)
{
    meru_row *r;
    int rc = meru_row_new(&r, s);
    if (rc)
        return rc;
    rc = sst_set_key(r, s, idx);
    if (!rc)
        rc = meru_key_encode_row(s, r, out);
    meru_row_free(r);
    return rc;
}

/*
 * nkeys keys (indexes 0, 2, 4, ...), each with 1..max_versions versions of
 * distinct sequence numbers, del_pct % deletes, null_pct % nulls. Sorted.
 */
static inline sst_model *sst_model_make(const meru_schema *s, size_t nkeys,
                                        int max_versions, int del_pct,
                                        int null_pct)
{
    sst_model *m = calloc(1, sizeof *m);
    size_t cap = nkeys * (size_t)max_versions;
    meru_row *r = NULL;
    if (!m || !(m->e = calloc(cap ? cap : 1, sizeof *m->e)) ||
        meru_row_new(&r, s))
        goto fail;
    uint64_t seq = 1 + meru_test_rand() % 1000;
    for (size_t k = 0; k < nkeys; k++) {
        int nv = 1 + (int)(meru_test_rand() % (uint64_t)max_versions);
        for (int v = 0; v < nv; v++) {
            sst_ent *e = &m->e[m->n++];
            seq += 1 + meru_test_rand() % 3;
            e->seq = seq;
            e->op = (int)(meru_test_rand() % 100) < del_pct ? MERU_OP_DELETE
                                                            : MERU_OP_PUT;
            meru_row_clear(r);
            if (sst_set_key(r, s, 2 * k))
                goto fail;
            for (size_t c = 0; c < s->ncols; c++)
                if (s->cols[c].key_position < 0 &&
                    sst_set_random(r, s, c, null_pct))
                    goto fail;
            if (meru_row_validate(r))
                goto fail;
            if (meru_key_encode_row(s, r, &e->ik))
                goto fail;
            e->ulen = e->ik.len;
            if (meru_ikey_append_trailer(&e->ik, e->seq, e->op))
                goto fail;
            if (e->op == MERU_OP_PUT && meru_row_encode(s, r, &e->val))
                goto fail;
        }
    }
    qsort(m->e, m->n, sizeof *m->e, sst_ent_cmp);
    meru_row_free(r);
    return m;
fail:
    fprintf(stderr, "sst_model_make: %s\n", meru_errmsg());
    meru_row_free(r);
    sst_model_free(m);
    return NULL;
}

/* Writes the model; meta (optional) filled. */
static inline int sst_model_write(const sst_model *m, meru_fs *fs,
                                  const char *path, const meru_schema *s,
                                  const meru_sst_options *o, meru_sst_meta *meta)
{
    meru_sst_writer *w;
    int rc = meru_sst_writer_open(&w, fs, path, s, o);
    if (rc)
        return rc;
    for (size_t i = 0; i < m->n; i++) {
        rc = meru_sst_writer_add(w, m->e[i].ik.data, m->e[i].ik.len,
                                 m->e[i].val.data, m->e[i].val.len);
        if (rc) {
            meru_sst_writer_abort(w);
            return rc;
        }
    }
    return meru_sst_writer_finish(w, meta);
}

/* Index of the first entry with ikey >= key. */
static inline size_t sst_model_lower(const sst_model *m, const uint8_t *key,
                                     size_t len)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (meru_ikey_cmp(m->e[mid].ik.data, m->e[mid].ik.len, key, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Expected answer of get(ukey, read_seq): entry index or (size_t)-1. */
static inline size_t sst_model_get(const sst_model *m, const uint8_t *uk,
                                   size_t ulen, uint64_t read_seq)
{
    meru_buf sk = {0};
    size_t at = (size_t)-1;
    if (meru_buf_append(&sk, uk, ulen) ||
        meru_ikey_append_seek_trailer(&sk, read_seq))
        goto out;
    size_t i = sst_model_lower(m, sk.data, sk.len);
    if (i < m->n && m->e[i].ulen == ulen &&
        memcmp(m->e[i].ik.data, uk, ulen) == 0)
        at = i;
out:
    meru_buf_free(&sk);
    return at;
}

#endif
