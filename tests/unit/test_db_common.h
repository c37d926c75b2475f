/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_common.h — helpers shared by the engine tests (test_db_*.c) that
 * drive the table only through the public API (merutable.h): comparing
 * rows column by column whatever their schema object, printing a row for a
 * failure message, small-table options, the compaction tests' padded
 * table.
 *
 * Everything is static: each test program includes this once.
 */
#ifndef MERU_TEST_DB_COMMON_H
#define MERU_TEST_DB_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

/*
 * Options for a small table: the minimum memtable (64 KiB) so flushes
 * happen after a few hundred rows, no fsync (speed) unless a test asks.
 */
#define TDB_MEMTABLE_BYTES ((size_t)64 << 10)
static inline void tdb_small_options(meru_options *o)
{
    meru_options_init(o);
    o->memtable_bytes = TDB_MEMTABLE_BYTES;
    o->sync_mode = MERU_SYNC_NONE;
    o->cache_bytes = (size_t)1 << 20;
    o->target_file_bytes = (uint64_t)64 << 10;
    o->l1_target_bytes = (uint64_t)1 << 20;
}

/* The padded table of the compaction tests: id int64 key, v int64, and a
 * fixed-width pad string (tdb_put_pad). */
static inline meru_schema *tdb_pad_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "t", "id int64 not null, v int64, pad string",
                          "id"))
        return NULL;
    return s;
}

/* Puts row (id, v, a 45-byte pad made of id and v) into a table of
 * tdb_pad_schema. */
static inline int tdb_put_pad(meru_db *db, const meru_schema *s, int64_t id,
                              int64_t v)
{
    meru_row *r = NULL;
    char pad[64];
    int rc = meru_row_new(&r, s);
    snprintf(pad, sizeof pad, "pad-%020lld-%016llx", (long long)id,
             (unsigned long long)((uint64_t)v * 0x9e3779b97f4a7c15ull));
    if (!rc)
        rc = meru_row_set_int64(r, 0, id);
    if (!rc)
        rc = meru_row_set_int64(r, 1, v);
    if (!rc)
        rc = meru_row_set_string(r, 2, pad, strlen(pad));
    if (!rc)
        rc = meru_put(db, r, NULL);
    meru_row_free(r);
    return rc;
}

/*
 * 1 if column `col` holds the same thing in both rows: both null/unset-null,
 * or equal values (floating point compared by bits, so NaN and -0.0 must
 * survive the round trip exactly).
 */
static inline int tdb_col_equal(const meru_row *a, const meru_row *b,
                                size_t col)
{
    const meru_schema *s = meru_row_schema(a);
    int na = meru_row_is_null(a, col), nb = meru_row_is_null(b, col);
    if (na || nb)
        return na && nb;
    switch (meru_schema_column_type(s, col)) {
    case MERU_TYPE_BOOLEAN: {
        int x = -1, y = -2;
        meru_row_get_bool(a, col, &x);
        meru_row_get_bool(b, col, &y);
        return (x != 0) == (y != 0) && x >= 0 && y >= 0;
    }
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE: {
        int32_t x = 1, y = 2;
        if (meru_schema_column_type(s, col) == MERU_TYPE_DATE) {
            if (meru_row_get_date(a, col, &x) || meru_row_get_date(b, col, &y))
                return 0;
        } else if (meru_row_get_int32(a, col, &x) ||
                   meru_row_get_int32(b, col, &y)) {
            return 0;
        }
        return x == y;
    }
    case MERU_TYPE_INT64: {
        int64_t x = 1, y = 2;
        if (meru_row_get_int64(a, col, &x) || meru_row_get_int64(b, col, &y))
            return 0;
        return x == y;
    }
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ: {
        int64_t x = 1, y = 2;
        if (meru_row_get_timestamp(a, col, &x) ||
            meru_row_get_timestamp(b, col, &y))
            return 0;
        return x == y;
    }
    case MERU_TYPE_FLOAT: {
        float x = 1, y = 2;
        if (meru_row_get_float(a, col, &x) || meru_row_get_float(b, col, &y))
            return 0;
        return memcmp(&x, &y, sizeof x) == 0;
    }
    case MERU_TYPE_DOUBLE: {
        double x = 1, y = 2;
        if (meru_row_get_double(a, col, &x) || meru_row_get_double(b, col, &y))
            return 0;
        return memcmp(&x, &y, sizeof x) == 0;
    }
    case MERU_TYPE_STRING: {
        const char *x = NULL, *y = NULL;
        size_t lx = 0, ly = 1;
        if (meru_row_get_string(a, col, &x, &lx) ||
            meru_row_get_string(b, col, &y, &ly))
            return 0;
        return lx == ly && (lx == 0 || memcmp(x, y, lx) == 0);
    }
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED: {
        const void *x = NULL, *y = NULL;
        size_t lx = 0, ly = 1;
        if (meru_row_get_binary(a, col, &x, &lx) ||
            meru_row_get_binary(b, col, &y, &ly))
            return 0;
        return lx == ly && (lx == 0 || memcmp(x, y, lx) == 0);
    }
    case MERU_TYPE_DECIMAL: {
        int64_t xh = 1, yh = 2;
        uint64_t xl = 1, yl = 2;
        if (meru_row_get_decimal(a, col, &xh, &xl) ||
            meru_row_get_decimal(b, col, &yh, &yl))
            return 0;
        return xh == yh && xl == yl;
    }
    }
    return 0;
}

/* -1 if every column is equal, else the index of the first that is not. */
static inline int tdb_row_diff(const meru_row *a, const meru_row *b)
{
    size_t n = meru_schema_column_count(meru_row_schema(a));
    if (n != meru_schema_column_count(meru_row_schema(b)))
        return 0;
    for (size_t c = 0; c < n; c++)
        if (!tdb_col_equal(a, b, c))
            return (int)c;
    return -1;
}

/* A row as JSON in a static rotating buffer, for failure messages. */
static inline const char *tdb_row_str(const meru_row *r)
{
    static char bufs[4][2048];
    static int next;
    char *b = bufs[next++ & 3];
    char *js = NULL;
    if (!r) {
        snprintf(b, sizeof bufs[0], "(no row)");
        return b;
    }
    if (meru_row_to_json(r, &js) != MERU_OK) {
        snprintf(b, sizeof bufs[0], "(row_to_json failed: %s)", meru_errmsg());
        return b;
    }
    snprintf(b, sizeof bufs[0], "%s", js);
    meru_free(js);
    return b;
}

#endif
