/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vtab.c — CREATE VIRTUAL TABLE t USING merutable('/path' [, 'readonly']).
 *
 * xCreate and xConnect are the same: they open (or share, registry.c) the
 * table at the path, which must exist, and declare its columns to SQLite.
 * DROP TABLE removes only the SQL declaration (xDestroy is xDisconnect):
 * the table's files belong to the engine.
 *
 * The declaration is a WITHOUT ROWID table whose PRIMARY KEY identifies a
 * row in xUpdate. SQLite takes a writable WITHOUT ROWID virtual table only
 * with a one-column primary key, so:
 *   - a one-column key is declared as it is: PRIMARY KEY("id");
 *   - a composite key is carried by a hidden BLOB column, _merutable_key,
 *     holding the key's bytes (value.c), declared PRIMARY KEY; SELECT *
 *     does not show it and INSERT ignores it. The key columns are still
 *     ordinary columns, constrained, ordered and updated like any other.
 * Column types are INTEGER, REAL, TEXT or BLOB (value.c), NOT NULL as in
 * the table. SQLite keeps no DEFAULT in a virtual table's declaration;
 * write defaults are applied by the engine instead (value.c).
 *
 * Constraint support is on (SQLITE_VTAB_CONSTRAINT_SUPPORT): xUpdate
 * fails before it changes anything, so SQLite can honour OR IGNORE, OR
 * FAIL, OR ABORT and OR ROLLBACK itself; OR REPLACE is handled in
 * xUpdate (write.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msq.h"

int msq_sqlite_code(int rc)
{
    switch (rc) {
    case MERU_OK:
        return SQLITE_OK;
    case MERU_ENOMEM:
        return SQLITE_NOMEM;
    case MERU_EREADONLY:
        return SQLITE_READONLY;
    case MERU_ELOCKED:
        return SQLITE_BUSY;
    case MERU_ECORRUPT:
        return SQLITE_CORRUPT;
    case MERU_EIO:
    case MERU_ENOSPC:
    case MERU_EFAILED:
        return SQLITE_IOERR;
    default:
        return SQLITE_ERROR;
    }
}

int msq_fail(msq_vtab *vt, int rc)
{
    if (rc == MERU_ENOMEM)
        return SQLITE_NOMEM;
    sqlite3_free(vt->base.zErrMsg);
    vt->base.zErrMsg = sqlite3_mprintf("%s", meru_errmsg());
    return msq_sqlite_code(rc);
}

char *msq_dequote(const char *a)
{
    size_t n = strlen(a);
    while (n && (*a == ' ' || *a == '\t' || *a == '\n')) {
        a++;
        n--;
    }
    while (n && (a[n - 1] == ' ' || a[n - 1] == '\t' || a[n - 1] == '\n'))
        n--;
    char q = n >= 2 ? a[0] : 0;
    if ((q != '\'' && q != '"') || a[n - 1] != q)
        return sqlite3_mprintf("%.*s", (int)n, a);
    char *out = sqlite3_malloc64(n);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        out[o++] = a[i];
        if (a[i] == q && a[i + 1] == q)
            i++; /* a doubled quote is one */
    }
    out[o] = 0;
    return out;
}

static void vtab_free(msq_vtab *vt)
{
    if (!vt)
        return;
    msq_tx_clear(&vt->tx);
    meru_row_free(vt->scratch);
    meru_row_free(vt->scratch2);
    msq_handle_release(vt->h);
    sqlite3_free(vt->fixed_len);
    sqlite3_free(vt->name);
    sqlite3_free(vt->base.zErrMsg);
    sqlite3_free(vt);
}

/*
 * The length of each FIXED column. The public schema API has no getter for
 * it; the Iceberg schema JSON carries it in the type ("fixed[16]"), read
 * here with SQLite's own JSON functions.
 */
static int load_fixed_lengths(sqlite3 *db, msq_vtab *vt, char **err)
{
    int any = 0;
    for (size_t i = 0; i < vt->ncols; i++)
        any |= meru_schema_column_type(vt->schema, i) == MERU_TYPE_FIXED;
    if (!any)
        return SQLITE_OK;
    char *json = NULL;
    sqlite3_stmt *st = NULL;
    int rc = meru_schema_to_json(vt->schema, &json);
    if (rc) {
        *err = sqlite3_mprintf("%s", meru_errmsg());
        return msq_sqlite_code(rc);
    }
    rc = sqlite3_prepare_v2(db,
                            "SELECT json_extract(value, '$.name'), "
                            "json_extract(value, '$.type') "
                            "FROM json_each(?1, '$.fields')",
                            -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        int col = name ? meru_schema_column_index(vt->schema, name) : -1;
        int len = 0;
        if (col >= 0 && type && sscanf(type, "fixed[%d]", &len) == 1)
            vt->fixed_len[col] = len;
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_finalize(st);
    else
        sqlite3_finalize(st);
    meru_free(json);
    if (rc != SQLITE_OK)
        *err = sqlite3_mprintf("merutable: reading the schema: %s",
                               sqlite3_errmsg(db));
    return rc;
}

/* The CREATE TABLE statement SQLite is told the table looks like. */
static char *declaration(msq_vtab *vt, char **err)
{
    sqlite3_str *s = sqlite3_str_new(NULL);
    sqlite3_str_appendall(s, "CREATE TABLE x(");
    for (size_t i = 0; i < vt->ncols; i++) {
        meru_type t = meru_schema_column_type(vt->schema, i);
        sqlite3_str_appendf(s, "%s\"%w\" %s", i ? ", " : "",
                            meru_schema_column_name(vt->schema, i),
                            msq_type_sql(t));
        if (!meru_schema_column_nullable(vt->schema, i))
            sqlite3_str_appendall(s, " NOT NULL");
    }
    if (vt->hidden_key)
        sqlite3_str_appendall(s, ", \"" MSQ_HIDDEN_KEY "\" BLOB HIDDEN, "
                                 "PRIMARY KEY(\"" MSQ_HIDDEN_KEY "\")");
    else
        sqlite3_str_appendf(
            s, ", PRIMARY KEY(\"%w\")",
            meru_schema_column_name(vt->schema, (size_t)vt->key_cols[0]));
    sqlite3_str_appendall(s, ") WITHOUT ROWID");
    char *sql = sqlite3_str_finish(s);
    if (!sql)
        *err = sqlite3_mprintf("out of memory");
    return sql;
}

static int connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                   sqlite3_vtab **out, char **err)
{
    (void)aux;
    msq_vtab *vt = NULL;
    char *path = NULL, *sql = NULL;
    int read_only = 0, rc = SQLITE_OK;
    *out = NULL;
    if (argc < 4) {
        *err = sqlite3_mprintf("merutable: usage: CREATE VIRTUAL TABLE %s "
                               "USING merutable('/path/to/table' "
                               "[, 'readonly'])",
                               argc > 2 ? argv[2] : "t");
        return SQLITE_ERROR;
    }
    for (int i = 4; i < argc; i++) {
        char *opt = msq_dequote(argv[i]);
        if (!opt)
            return SQLITE_NOMEM;
        int known = sqlite3_stricmp(opt, "readonly") == 0 ||
                    sqlite3_stricmp(opt, "read_only") == 0;
        if (!known)
            *err = sqlite3_mprintf("merutable: unknown option '%s' (the "
                                   "one option is 'readonly')",
                                   opt);
        sqlite3_free(opt);
        if (!known)
            return SQLITE_ERROR;
        read_only = 1;
    }
    path = msq_dequote(argv[3]);
    vt = sqlite3_malloc(sizeof *vt);
    if (!path || !vt) {
        rc = SQLITE_NOMEM;
        goto fail;
    }
    memset(vt, 0, sizeof *vt);
    vt->db = db;
    vt->name = sqlite3_mprintf("%s", argv[2]);
    vt->h = msq_handle_acquire(path, read_only, err);
    if (!vt->h) {
        rc = SQLITE_ERROR;
        goto fail;
    }
    vt->schema = meru_db_schema(vt->h->db);
    vt->ncols = meru_schema_column_count(vt->schema);
    vt->nkey = meru_schema_key_count(vt->schema);
    for (size_t i = 0; i < vt->nkey; i++)
        vt->key_cols[i] = meru_schema_key_column(vt->schema, i);
    vt->hidden_key = vt->nkey > 1;
    if (vt->hidden_key &&
        meru_schema_column_index(vt->schema, MSQ_HIDDEN_KEY) >= 0) {
        *err = sqlite3_mprintf("merutable: the table has a column named "
                               "%s, the name the module gives a composite "
                               "key's hidden column",
                               MSQ_HIDDEN_KEY);
        rc = SQLITE_ERROR;
        goto fail;
    }
    vt->fixed_len = sqlite3_malloc64(vt->ncols * sizeof *vt->fixed_len);
    if (!vt->name || !vt->fixed_len) {
        rc = SQLITE_NOMEM;
        goto fail;
    }
    memset(vt->fixed_len, 0, vt->ncols * sizeof *vt->fixed_len);
    if (meru_row_new(&vt->scratch, vt->schema) ||
        meru_row_new(&vt->scratch2, vt->schema)) {
        rc = SQLITE_NOMEM;
        goto fail;
    }
    rc = load_fixed_lengths(db, vt, err);
    if (rc)
        goto fail;
    sql = declaration(vt, err);
    if (!sql) {
        rc = SQLITE_ERROR;
        goto fail;
    }
    rc = sqlite3_declare_vtab(db, sql);
    if (rc) {
        *err = sqlite3_mprintf("merutable: declaring %s: %s", sql,
                               sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_vtab_config(db, SQLITE_VTAB_CONSTRAINT_SUPPORT, 1);
    sqlite3_free(sql);
    sqlite3_free(path);
    *out = &vt->base;
    return SQLITE_OK;
fail:
    sqlite3_free(sql);
    sqlite3_free(path);
    vtab_free(vt);
    return rc;
}

static int disconnect(sqlite3_vtab *base)
{
    vtab_free((msq_vtab *)base);
    return SQLITE_OK;
}

static int rename_table(sqlite3_vtab *base, const char *name)
{
    msq_vtab *vt = (msq_vtab *)base;
    char *n = sqlite3_mprintf("%s", name);
    if (!n)
        return SQLITE_NOMEM;
    sqlite3_free(vt->name);
    vt->name = n;
    return SQLITE_OK;
}

sqlite3_module msq_module = {
    .iVersion = 2,
    .xCreate = connect,
    .xConnect = connect,
    .xBestIndex = msq_best_index,
    .xDisconnect = disconnect,
    .xDestroy = disconnect,
    .xOpen = msq_open,
    .xClose = msq_close,
    .xFilter = msq_filter,
    .xNext = msq_next,
    .xEof = msq_eof,
    .xColumn = msq_column,
    .xRowid = msq_rowid,
    .xUpdate = msq_update,
    .xBegin = msq_begin,
    .xSync = msq_sync,
    .xCommit = msq_commit,
    .xRollback = msq_rollback,
    .xRename = rename_table,
    .xSavepoint = msq_savepoint,
    .xRelease = msq_release,
    .xRollbackTo = msq_rollback_to,
};
