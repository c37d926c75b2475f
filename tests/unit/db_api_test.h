/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_api_test.h — helpers shared by the table API test programs
 * (test_db_api.c, test_db_api_options.c): the three-column test schema,
 * a put of one row, a get of its name, the row count of a full scan (all
 * through the public API only), and a tiny JSON check for the text the
 * API returns.
 *
 * Everything is static: each test program includes this once.
 */
#ifndef MERU_DB_API_TEST_H
#define MERU_DB_API_TEST_H

#include <stdlib.h>
#include <string.h>

#include "test.h"

#define COLS "id int64 not null, name string, score double"

static inline meru_schema *mk_schema(const char *cols, const char *pk)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "t", cols, pk) != MERU_OK)
        return NULL;
    return s;
}

static inline int put_row(meru_db *db, const meru_schema *s, int64_t id,
                          const char *name)
{
    meru_row *r = NULL;
    int rc = meru_row_new(&r, s);
    if (rc)
        return rc;
    rc = meru_row_set_int64(r, 0, id);
    if (!rc)
        rc = name ? meru_row_set_string(r, 1, name, strlen(name))
                  : meru_row_set_null(r, 1);
    if (!rc)
        rc = meru_put(db, r, NULL);
    meru_row_free(r);
    return rc;
}

/* meru_get of key `id`: MERU_OK with the name copied into name[64] ("" for
 * null), or the status. */
static inline int get_name(meru_db *db, const meru_snapshot *snap, int64_t id,
                           char *name)
{
    const meru_schema *s = meru_db_schema(db);
    meru_row *k = NULL, *out = NULL;
    int rc = meru_row_new(&k, s);
    if (!rc)
        rc = meru_row_new(&out, s);
    if (!rc)
        rc = meru_row_set_int64(k, 0, id);
    if (!rc)
        rc = meru_get(db, snap, k, out);
    if (!rc && name) {
        const char *v;
        size_t len;
        name[0] = 0;
        if (meru_row_get_string(out, 1, &v, &len) == MERU_OK) {
            if (len > 63)
                len = 63;
            memcpy(name, v, len);
            name[len] = 0;
        }
    }
    meru_row_free(k);
    meru_row_free(out);
    return rc;
}

/* Rows a full scan returns, or a negative status. */
static inline long count_rows(meru_db *db)
{
    meru_iter *it = NULL;
    int rc = meru_scan(db, NULL, &it);
    if (rc)
        return rc;
    long n = 0;
    const meru_row *r;
    while ((rc = meru_iter_next(it, &r)) == MERU_OK)
        n++;
    meru_iter_free(it);
    return rc == MERU_NOT_FOUND ? n : rc;
}

/* ------------------------------------------------------ a tiny JSON check */

static inline const char *js_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

/* Parses one JSON value at p; returns the position after it, or NULL. */
static inline const char *js_value(const char *p, int depth)
{
    p = js_ws(p);
    if (depth > 32)
        return NULL;
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = js_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                if (*p != '"')
                    return NULL;
                p = js_value(p, depth + 1);
                if (!p)
                    return NULL;
                p = js_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            p = js_value(p, depth + 1);
            if (!p)
                return NULL;
            p = js_ws(p);
            if (*p == ',') {
                p = js_ws(p + 1);
                continue;
            }
            return *p == close ? p + 1 : NULL;
        }
    }
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && !*++p)
                return NULL;
        return *p == '"' ? p + 1 : NULL;
    }
    if (!strncmp(p, "true", 4))
        return p + 4;
    if (!strncmp(p, "false", 5))
        return p + 5;
    if (!strncmp(p, "null", 4))
        return p + 4;
    char *end;
    strtod(p, &end);
    return end == p ? NULL : end;
}

static inline int js_is_object(const char *s)
{
    s = js_ws(s);
    if (*s != '{')
        return 0;
    const char *e = js_value(s, 0);
    return e && *js_ws(e) == 0;
}

#endif
