/* SPDX-License-Identifier: Apache-2.0 */
/*
 * changes_model.h — what the change-feed tests share (test_changes.c,
 * test_changes_concurrent.c): a model of the table that derives the log
 * the feed must give, a random write stream applied to both, and the
 * comparison of the feed with the model as canonical lines (seq, kind, key,
 * new row, old row).
 */
#ifndef MERU_TESTS_CHANGES_MODEL_H
#define MERU_TESTS_CHANGES_MODEL_H

#include <stdlib.h>
#include <string.h>

#include "test.h"

#define NKEYS  300
#define MAXLOG 200000

/* ------------------------------------------------------------- model */

typedef struct mrow {
    int live;
    char v[24];
    int64_t n;
    int n_null;
} mrow;

typedef struct model {
    mrow rows[NKEYS];
    char **log; /* canonical lines */
    uint64_t *seq;
    size_t nlog;
} model;

static inline void fmt_row(char *out, size_t cap, const mrow *r)
{
    if (!r)
        snprintf(out, cap, "-");
    else if (r->n_null)
        snprintf(out, cap, "%s/null", r->v);
    else
        snprintf(out, cap, "%s/%lld", r->v, (long long)r->n);
}

static inline void model_add(model *m, uint64_t seq, const char *kind, int key,
                             const mrow *now, const mrow *before)
{
    char a[64], b[64], line[200];
    fmt_row(a, sizeof a, now);
    fmt_row(b, sizeof b, before);
    snprintf(line, sizeof line, "%llu %s %d %s %s", (unsigned long long)seq,
             kind, key, a, b);
    if (!m->log) {
        m->log = calloc(MAXLOG, sizeof *m->log);
        m->seq = calloc(MAXLOG, sizeof *m->seq);
    }
    if (m->nlog < MAXLOG) {
        m->seq[m->nlog] = seq;
        m->log[m->nlog++] = strdup(line);
    }
}

static inline void model_put(model *m, uint64_t seq, int key, const mrow *r)
{
    mrow before = m->rows[key];
    mrow now = *r;
    now.live = 1;
    model_add(m, seq, before.live ? "update" : "insert", key, &now,
              before.live ? &before : NULL);
    m->rows[key] = now;
}

static inline void model_del(model *m, uint64_t seq, int key)
{
    mrow before = m->rows[key];
    if (!before.live)
        return;
    model_add(m, seq, "delete", key, NULL, &before);
    m->rows[key].live = 0;
}

static inline void model_free(model *m)
{
    for (size_t i = 0; i < m->nlog; i++)
        free(m->log[i]);
    free(m->log);
    free(m->seq);
    memset(m, 0, sizeof *m);
}

/* --------------------------------------------------------- the table */

static inline meru_schema *make_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "t", "k int64, v string, n int64", "k"))
        return NULL;
    return s;
}

static inline void small_options(meru_options *o)
{
    meru_options_init(o);
    o->sync_mode = MERU_SYNC_NONE;
    o->memtable_bytes = 64 << 10;
    o->l0_compaction_trigger = 3;
    o->l1_target_bytes = 1 << 20;
    o->level_multiplier = 2;
    o->target_file_bytes = 64 << 10;
    o->background_threads = 2;
}

static inline uint64_t xs(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* A random row for key k. */
static inline void gen_row(uint64_t *rs, mrow *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->v, sizeof r->v, "v%llu", (unsigned long long)(xs(rs) % 100000));
    r->n_null = xs(rs) % 5 == 0;
    r->n = (int64_t)(xs(rs) % 1000000) - 500000;
}

static inline int set_row(meru_row *row, int key, const mrow *r)
{
    int rc;
    meru_row_clear(row);
    if ((rc = meru_row_set_int64(row, 0, key)) ||
        (rc = meru_row_set_string(row, 1, r->v, strlen(r->v))))
        return rc;
    return r->n_null ? meru_row_set_null(row, 2)
                     : meru_row_set_int64(row, 2, r->n);
}

/* One canonical line of a change from the feed. */
static inline int row_text(const meru_row *row, char *out, size_t cap,
                           int64_t *k)
{
    const char *v;
    size_t vl;
    int64_t n;
    if (!row) {
        snprintf(out, cap, "-");
        return MERU_OK;
    }
    if (meru_row_get_int64(row, 0, k) || meru_row_get_string(row, 1, &v, &vl))
        return MERU_EINVAL;
    if (meru_row_is_null(row, 2))
        snprintf(out, cap, "%.*s/null", (int)vl, v);
    else if (meru_row_get_int64(row, 2, &n))
        return MERU_EINVAL;
    else
        snprintf(out, cap, "%.*s/%lld", (int)vl, v, (long long)n);
    return MERU_OK;
}

static inline int change_line(const meru_change *c, char *out, size_t cap)
{
    char a[64], b[64];
    int64_t k1 = -1, k2 = -1;
    if (row_text(c->row, a, sizeof a, &k1) ||
        row_text(c->before, b, sizeof b, &k2))
        return MERU_EINVAL;
    if (c->row && c->before && k1 != k2)
        return MERU_EINVAL;
    snprintf(out, cap, "%llu %s %lld %s %s", (unsigned long long)c->seq,
             meru_change_kind_name(c->kind), (long long)(c->row ? k1 : k2), a,
             b);
    return MERU_OK;
}

/* Checks the feed from `since` against the model's suffix (a failure
 * fails the current test). */
static inline void check_feed(meru_db *db, const model *m, uint64_t since,
                              const char *what)
{
    meru_changes_iter *it = NULL;
    meru_change c;
    size_t i = 0;
    int rc;
    while (i < m->nlog && m->seq[i] <= since)
        i++;
    CHECK_MSG((rc = meru_changes(db, since, NULL, &it)) == MERU_OK,
              "%s: meru_changes(%llu): %s", what, (unsigned long long)since,
              meru_errmsg());
    while ((rc = meru_change_next(it, &c)) == MERU_OK) {
        char line[200];
        CHECK_MSG(change_line(&c, line, sizeof line) == MERU_OK,
                  "%s: malformed change at seq %llu", what,
                  (unsigned long long)c.seq);
        CHECK_MSG(i < m->nlog, "%s: extra change '%s'", what, line);
        CHECK_MSG(!strcmp(line, m->log[i]),
                  "%s (since %llu): change %zu is '%s', model '%s'", what,
                  (unsigned long long)since, i, line, m->log[i]);
        i++;
    }
    CHECK_MSG(rc == MERU_NOT_FOUND, "%s: meru_change_next: %d %s", what, rc,
              meru_errmsg());
    CHECK_MSG(i == m->nlog,
              "%s (since %llu): feed ended at %zu of %zu "
              "changes (next '%s')",
              what, (unsigned long long)since, i, m->nlog,
              i < m->nlog ? m->log[i] : "");
    meru_changes_free(it);
}

/* One random write (or a batch). rs: the op stream's random state. */
static inline int random_write(meru_db *db, model *m, uint64_t *rs,
                               meru_row *row, meru_write_batch *b)
{
    uint64_t r = xs(rs) % 100, seq = 0;
    int rc;
    if (r < 55) {
        int k = (int)(xs(rs) % NKEYS);
        mrow mr;
        gen_row(rs, &mr);
        if ((rc = set_row(row, k, &mr)) || (rc = meru_put(db, row, &seq)))
            return rc;
        model_put(m, seq, k, &mr);
    } else if (r < 80) {
        int k = (int)(xs(rs) % NKEYS); /* present or absent */
        meru_row_clear(row);
        if ((rc = meru_row_set_int64(row, 0, k)) ||
            (rc = meru_delete(db, row, &seq)))
            return rc;
        model_del(m, seq, k);
    } else {
        /* A batch: puts and deletes, the same key possibly twice. */
        int n = 1 + (int)(xs(rs) % 12), keys[12], del[12];
        mrow rows[12];
        meru_write_batch_clear(b);
        for (int i = 0; i < n; i++) {
            keys[i] = (int)(xs(rs) % NKEYS);
            del[i] = xs(rs) % 3 == 0;
            if (del[i]) {
                meru_row_clear(row);
                if ((rc = meru_row_set_int64(row, 0, keys[i])) ||
                    (rc = meru_write_batch_delete(b, row)))
                    return rc;
            } else {
                gen_row(rs, &rows[i]);
                if ((rc = set_row(row, keys[i], &rows[i])) ||
                    (rc = meru_write_batch_put(b, row)))
                    return rc;
            }
        }
        if ((rc = meru_write(db, b, &seq)))
            return rc;
        for (int i = 0; i < n; i++) {
            if (del[i])
                model_del(m, seq + (uint64_t)i, keys[i]);
            else
                model_put(m, seq + (uint64_t)i, keys[i], &rows[i]);
        }
    }
    return MERU_OK;
}

#endif
