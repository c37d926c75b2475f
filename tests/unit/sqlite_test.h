/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sqlite_test.h — helpers of the SQLite extension's tests
 * (test_sqlite_*.c): a connection with merutable_sqlite.so loaded, result
 * sets as text, EXPLAIN QUERY PLAN text, the extension's counters, and the
 * rows the engine itself returns for the same question, in the same text.
 *
 * Rows as text: one line per row, columns joined by '|', each column in a
 * canonical form computed by SQLite (sq_canon): quote() for integers and
 * text, printf('%!.17g') for reals, lower-case hex for blobs, NULL for
 * null. The engine's side is meru_row_to_json (its own printer) read back
 * with json_extract, so a date, timestamp or decimal must print exactly as
 * the engine prints it, and a number must be the same number.
 *
 * The test program links its own copy of the library (static); the
 * extension carries another. They share only the files on disk, as two
 * processes would: the engine-side reads here open the table read-only.
 *
 * Everything is static: each test program includes this once.
 */
#ifndef MERU_SQLITE_TEST_H
#define MERU_SQLITE_TEST_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/* The message of the last failed sq_exec / sq_text (of this thread). */
static _Thread_local char sq_err[4096];

/* A fresh connection with the extension loaded (NULL on failure, with
 * sq_err set). */
static inline sqlite3 *sq_open(void)
{
    sqlite3 *db = NULL;
    char *err = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        snprintf(sq_err, sizeof sq_err, "sqlite3_open failed");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_enable_load_extension(db, 1);
    if (sqlite3_load_extension(db, MERU_SQLITE_EXT, "sqlite3_merutable_init",
                               &err) != SQLITE_OK) {
        snprintf(sq_err, sizeof sq_err, "load %s: %s", MERU_SQLITE_EXT,
                 err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Runs SQL (printf-style); the SQLite result code, sq_err on failure. */
/* (Formats are sqlite3_mprintf's: %Q and %w have no printf checking.) */
static inline int sq_exec(sqlite3 *db, const char *fmt, ...);
static inline int sq_exec(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    sq_err[0] = 0;
    if (rc != SQLITE_OK)
        snprintf(sq_err, sizeof sq_err, "%s", err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    sqlite3_free(sql);
    return rc;
}

/* A growable string. */
typedef struct sq_str {
    char *p;
    size_t n, cap;
} sq_str;

static inline void sq_put(sq_str *s, const char *t, size_t n)
{
    if (s->n + n + 1 > s->cap) {
        s->cap = (s->n + n + 1) * 2;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->n, t, n);
    s->n += n;
    s->p[s->n] = 0;
}

static inline void sq_puts(sq_str *s, const char *t)
{
    sq_put(s, t, strlen(t));
}

/* Appends each row of a prepared statement: columns joined by '|', one
 * line per row. SQLITE_DONE on success. */
static inline int sq_rows(sqlite3_stmt *st, sq_str *out)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *t = (const char *)sqlite3_column_text(st, i);
            if (i)
                sq_puts(out, "|");
            sq_puts(out, t ? t : "NULL");
        }
        sq_puts(out, "\n");
    }
    return rc;
}

/* The rows of a query as text (malloc'd; "" when none); NULL on an error,
 * with sq_err set. */
static inline char *sq_text(sqlite3 *db, const char *fmt, ...);
static inline char *sq_text(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    sqlite3_stmt *st = NULL;
    sq_str out = {0};
    sq_puts(&out, "");
    sq_err[0] = 0;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sq_rows(st, &out);
    if (rc != SQLITE_DONE) {
        snprintf(sq_err, sizeof sq_err, "%s [%s]", sqlite3_errmsg(db), sql);
        free(out.p);
        out.p = NULL;
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return out.p;
}

/* EXPLAIN QUERY PLAN's detail lines of a query, joined by '\n'. */
static inline char *sq_plan(sqlite3 *db, const char *query)
{
    char *sql = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", query);
    sqlite3_stmt *st = NULL;
    sq_str out = {0};
    sq_puts(&out, "");
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        sq_puts(&out, (const char *)sqlite3_column_text(st, 3));
        sq_puts(&out, "\n");
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_DONE) {
        snprintf(sq_err, sizeof sq_err, "%s", sqlite3_errmsg(db));
        free(out.p);
        out.p = NULL;
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return out.p;
}

/* A counter of merutable_stats(path) (-1 on error). */
static inline long long sq_stat(sqlite3 *db, const char *path,
                                const char *field)
{
    char *t = sq_text(db, "SELECT json_extract(merutable_stats(%Q), '$.%s')",
                      path, field);
    long long v = t ? atoll(t) : -1;
    free(t);
    return v;
}

/* The canonical SQL expression of column `name` (of type `type`), or of
 * json_extract(j, '$.name') when `json` is set. */
static inline void sq_canon(sq_str *s, meru_type type, const char *name,
                            int json)
{
    char *v = json ? sqlite3_mprintf("json_extract(j, '$.\"%w\"')", name)
                   : sqlite3_mprintf("\"%w\"", name);
    char *e;
    switch (type) {
    case MERU_TYPE_FLOAT:
    case MERU_TYPE_DOUBLE:
        e = sqlite3_mprintf("CASE WHEN %s IS NULL THEN 'NULL' ELSE "
                            "printf('%%!.17g', %s) END",
                            v, v);
        break;
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
        /* The engine writes bytes as lower-case hex. */
        e = json ? sqlite3_mprintf("quote(%s)", v)
                 : sqlite3_mprintf("CASE WHEN %s IS NULL THEN 'NULL' ELSE "
                                   "quote(lower(hex(%s))) END",
                                   v, v);
        break;
    default:
        e = sqlite3_mprintf("quote(%s)", v);
        break;
    }
    sq_puts(s, e);
    sqlite3_free(e);
    sqlite3_free(v);
}

/* The select list of every column of the schema, canonical. */
static inline char *sq_select_list(const meru_schema *s, int json)
{
    sq_str out = {0};
    sq_puts(&out, "");
    for (size_t i = 0; i < meru_schema_column_count(s); i++) {
        if (i)
            sq_puts(&out, ", ");
        sq_canon(&out, meru_schema_column_type(s, i),
                 meru_schema_column_name(s, i), json);
    }
    return out.p;
}

/* The canonical rows of `SELECT * FROM table <rest>` through the vtab. */
static inline char *sq_vtab_rows(sqlite3 *db, const meru_schema *s,
                                 const char *table, const char *rest)
{
    char *list = sq_select_list(s, 0);
    char *t = sq_text(db, "SELECT %s FROM \"%w\" %s", list, table, rest);
    free(list);
    return t;
}

/*
 * The canonical rows the engine returns for a scan of the table at `path`
 * (opened read-only by this process's own copy of the library), converted
 * by `db` (any connection: only json_extract is used). NULL on an error.
 */
static inline char *sq_engine_rows(sqlite3 *db, const char *path,
                                   const meru_scan_options *o)
{
    meru_options opts;
    meru_db *t = NULL;
    meru_iter *it = NULL;
    sqlite3_stmt *st = NULL;
    sq_str out = {0};
    const meru_row *row;
    int rc;
    meru_options_init(&opts);
    opts.read_only = 1;
    opts.create_if_missing = 0;
    sq_puts(&out, "");
    if (meru_open(path, &opts, NULL, &t) || meru_scan(t, o, &it)) {
        snprintf(sq_err, sizeof sq_err, "engine: %s", meru_errmsg());
        goto fail;
    }
    char *list = sq_select_list(meru_db_schema(t), 1);
    char *sql = sqlite3_mprintf("SELECT %s FROM (SELECT ?1 AS j)", list);
    free(list);
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) {
        snprintf(sq_err, sizeof sq_err, "%s", sqlite3_errmsg(db));
        goto fail;
    }
    while ((rc = meru_iter_next(it, &row)) == MERU_OK) {
        char *json = NULL;
        if (meru_row_to_json(row, &json))
            goto fail;
        sqlite3_bind_text(st, 1, json, -1, SQLITE_TRANSIENT);
        meru_free(json);
        if (sq_rows(st, &out) != SQLITE_DONE)
            goto fail;
        sqlite3_reset(st);
    }
    if (rc != MERU_NOT_FOUND) {
        snprintf(sq_err, sizeof sq_err, "engine scan: %s", meru_errmsg());
        goto fail;
    }
    sqlite3_finalize(st);
    meru_iter_free(it);
    meru_close(t);
    meru_db_free(t);
    return out.p;
fail:
    sqlite3_finalize(st);
    meru_iter_free(it);
    meru_db_free(t);
    free(out.p);
    return NULL;
}

/* CHECK that two result texts are equal, printing both when not. */
#define CHECK_ROWS(got, want)                                                  \
    do {                                                                       \
        const char *_g = (got), *_w = (want);                                  \
        if (!_g || !_w || strcmp(_g, _w) != 0) {                               \
            meru_test_fail(__FILE__, __LINE__,                                 \
                           "rows differ (%s vs %s)\n--- got:\n%s--- want:\n%s" \
                           "--- (sq_err: %s)",                                 \
                           #got, #want, _g ? _g : "(error)\n",                 \
                           _w ? _w : "(error)\n", sq_err);                     \
            return;                                                            \
        }                                                                      \
    } while (0)

/* CHECK that a text contains a fragment. */
#define CHECK_HAS(text, frag)                                                  \
    do {                                                                       \
        const char *_t = (text), *_f = (frag);                                 \
        if (!_t || !strstr(_t, _f)) {                                          \
            meru_test_fail(__FILE__, __LINE__, "%s lacks \"%s\": [%s] (%s)",   \
                           #text, _f, _t ? _t : "(null)", sq_err);             \
            return;                                                            \
        }                                                                      \
    } while (0)

#endif
