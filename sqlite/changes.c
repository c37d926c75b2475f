/* SPDX-License-Identifier: Apache-2.0 */
/*
 * changes.c — the change feed (meru_changes) as the `merutable_changes`
 * module, in two forms:
 *
 *   SELECT * FROM merutable_changes('/path/to/table' [, since])
 *       the eponymous table-valued function: columns seq, op, row,
 *       before (the rows as the engine's JSON, NULL where there is none)
 *       and the hidden arguments path and since;
 *   CREATE VIRTUAL TABLE t_changes USING merutable_changes('/path')
 *   SELECT * FROM t_changes [(since)]
 *       a declared table: seq, op, the table's columns, the pre-image's
 *       columns prefixed before_, typed as in the `merutable` module, and
 *       the hidden argument since.
 *
 * Why two: SQLite fixes an eponymous table's columns when a connection
 * first names it, before any argument is known, so a function whose
 * columns depend on its path argument cannot exist; the declared form
 * knows its table at CREATE time and can be typed.
 *
 * Pushdown (xBestIndex): the arguments, and `seq` compared with >, >=, =,
 * <, <= to a value, narrow what the engine is asked for: the feed starts
 * after max(since, the lower bounds) and stops at the upper bound
 * (meru_changes_options.until_seq). SQLite still checks the seq
 * constraints on every row (they are not omitted), so the narrowing only
 * has to keep every row SQL would keep: a real bound is rounded outwards,
 * a value that is not a number narrows nothing. The feed comes in seq
 * order, so ORDER BY seq is consumed. idxStr names what was taken, e.g.
 * "changes(path,since,seq>)", which EXPLAIN QUERY PLAN shows and xFilter
 * reads back to know its argv.
 *
 * A since below the retention window is the engine's MERU_EEXPIRED, whose
 * message names the oldest since available; `WHERE seq > N` with N inside
 * the window reads without error (the bound is the since the engine sees).
 *
 * Handles: the declared form holds one for its life (registry.c); the
 * eponymous form takes one per statement. Both prefer this process's
 * writer for the table (which sees its own commits) and otherwise use a
 * read-only handle, refreshed (meru_refresh) at each statement so it sees
 * what the writing process has committed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "msq.h"

enum { COL_SEQ = 0, COL_OP = 1 };
/* The eponymous form's columns after seq and op. */
enum { EPO_ROW = 2, EPO_BEFORE = 3, EPO_PATH = 4, EPO_SINCE = 5 };

typedef struct msq_cvtab {
    sqlite3_vtab base;
    msq_handle *h; /* declared form: its table; NULL for the eponymous */
    const meru_schema *schema; /* declared form */
    size_t ncols;
} msq_cvtab;

typedef struct msq_ccursor {
    sqlite3_vtab_cursor base;
    msq_handle *h; /* the eponymous form's handle of this statement */
    meru_changes_iter *it;
    meru_change cur;
    int eof;
    char *path;           /* the path argument (the hidden column) */
    sqlite3_int64 since;  /* the since argument (the hidden column) */
    int has_since;
} msq_ccursor;

static int path_col(const msq_cvtab *vt)
{
    return vt->h ? -1 : EPO_PATH;
}

static int since_col(const msq_cvtab *vt)
{
    return vt->h ? 2 + 2 * (int)vt->ncols : EPO_SINCE;
}

static int cfail(sqlite3_vtab *vt, int code, char *msg)
{
    sqlite3_free(vt->zErrMsg);
    vt->zErrMsg = msg;
    return msg ? code : SQLITE_NOMEM;
}

/* ---------------------------------------------------------- declaration */

static char *declared_schema(const meru_schema *s)
{
    size_t n = meru_schema_column_count(s);
    sqlite3_str *str = sqlite3_str_new(NULL);
    sqlite3_str_appendall(str, "CREATE TABLE x(seq INTEGER, op TEXT");
    for (int before = 0; before < 2; before++)
        for (size_t i = 0; i < n; i++)
            sqlite3_str_appendf(str, ", \"%s%w\" %s", before ? "before_" : "",
                                meru_schema_column_name(s, i),
                                msq_type_sql(meru_schema_column_type(s, i)));
    sqlite3_str_appendall(str, ", since HIDDEN)");
    return sqlite3_str_finish(str);
}

static int cconnect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                    sqlite3_vtab **out, char **err)
{
    (void)aux;
    msq_cvtab *vt;
    char *sql = NULL, *path = NULL;
    int rc;
    *out = NULL;
    if (argc > 4) {
        *err = sqlite3_mprintf("merutable_changes: usage: CREATE VIRTUAL "
                               "TABLE %s USING merutable_changes("
                               "'/path/to/table')",
                               argv[2]);
        return SQLITE_ERROR;
    }
    vt = sqlite3_malloc(sizeof *vt);
    if (!vt)
        return SQLITE_NOMEM;
    memset(vt, 0, sizeof *vt);
    if (argc == 4) {
        /* CREATE VIRTUAL TABLE ... USING merutable_changes('/path') */
        path = msq_dequote(argv[3]);
        if (!path) {
            rc = SQLITE_NOMEM;
            goto fail;
        }
        vt->h = msq_handle_acquire_reader(path, err);
        if (!vt->h) {
            rc = SQLITE_ERROR;
            goto fail;
        }
        vt->schema = meru_db_schema(vt->h->db);
        vt->ncols = meru_schema_column_count(vt->schema);
        sql = declared_schema(vt->schema);
    } else {
        sql = sqlite3_mprintf("CREATE TABLE x(seq INTEGER, op TEXT, "
                              "\"row\" TEXT, \"before\" TEXT, "
                              "path HIDDEN, since HIDDEN)");
    }
    if (!sql) {
        rc = SQLITE_NOMEM;
        goto fail;
    }
    rc = sqlite3_declare_vtab(db, sql);
    if (rc) {
        *err = sqlite3_mprintf("merutable_changes: declaring %s: %s", sql,
                               sqlite3_errmsg(db));
        goto fail;
    }
    sqlite3_free(sql);
    sqlite3_free(path);
    *out = &vt->base;
    return SQLITE_OK;
fail:
    sqlite3_free(sql);
    sqlite3_free(path);
    msq_handle_release(vt->h);
    sqlite3_free(vt);
    return rc;
}

static int cdisconnect(sqlite3_vtab *base)
{
    msq_cvtab *vt = (msq_cvtab *)base;
    msq_handle_release(vt->h);
    sqlite3_free(vt->base.zErrMsg);
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* ----------------------------------------------------------------- plan */

static const char *seq_op(unsigned char op)
{
    switch (op) {
    case SQLITE_INDEX_CONSTRAINT_GT:
        return "seq>";
    case SQLITE_INDEX_CONSTRAINT_GE:
        return "seq>=";
    case SQLITE_INDEX_CONSTRAINT_EQ:
        return "seq=";
    case SQLITE_INDEX_CONSTRAINT_LT:
        return "seq<";
    case SQLITE_INDEX_CONSTRAINT_LE:
        return "seq<=";
    default:
        return NULL;
    }
}

static int cbest_index(sqlite3_vtab *base, sqlite3_index_info *info)
{
    msq_cvtab *vt = (msq_cvtab *)base;
    int pcol = path_col(vt), scol = since_col(vt);
    int path_i = -1, since_i = -1, argc = 0, lower = 0, eq = 0;
    /* An argument SQLite cannot hand over yet (a join's later table):
     * this plan is impossible, SQLite tries another order. */
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->op != SQLITE_INDEX_CONSTRAINT_EQ ||
            (c->iColumn != pcol && c->iColumn != scol))
            continue;
        if (!c->usable)
            return SQLITE_CONSTRAINT;
        if (c->iColumn == pcol && path_i < 0)
            path_i = i;
        else if (c->iColumn == scol && since_i < 0)
            since_i = i;
    }
    sqlite3_str *s = sqlite3_str_new(NULL);
    sqlite3_str_appendall(s, "changes(");
    if (path_i >= 0) {
        info->aConstraintUsage[path_i].argvIndex = ++argc;
        info->aConstraintUsage[path_i].omit = 1;
        sqlite3_str_appendall(s, "path");
    }
    if (since_i >= 0) {
        info->aConstraintUsage[since_i].argvIndex = ++argc;
        info->aConstraintUsage[since_i].omit = 1;
        sqlite3_str_appendf(s, "%ssince", argc > 1 ? "," : "");
        lower = 1;
    }
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        const char *op = seq_op(c->op);
        if (c->iColumn != COL_SEQ || !c->usable || !op)
            continue;
        /* Not omitted: SQLite checks it again (the module rounds). */
        info->aConstraintUsage[i].argvIndex = ++argc;
        sqlite3_str_appendf(s, "%s%s", argc > 1 ? "," : "", op);
        lower |= c->op != SQLITE_INDEX_CONSTRAINT_LT &&
                 c->op != SQLITE_INDEX_CONSTRAINT_LE;
        eq |= c->op == SQLITE_INDEX_CONSTRAINT_EQ;
    }
    sqlite3_str_appendall(s, ")");
    /* Sequence order is the feed's; seq is unique, so later terms of the
     * ORDER BY never matter. */
    if (info->nOrderBy >= 1 && info->aOrderBy[0].iColumn == COL_SEQ &&
        !info->aOrderBy[0].desc) {
        info->orderByConsumed = 1;
        sqlite3_str_appendall(s, " order=asc");
    }
    info->idxStr = sqlite3_str_finish(s);
    if (!info->idxStr)
        return SQLITE_NOMEM;
    info->needToFreeIdxStr = 1;
    info->idxNum = argc;
    if (pcol >= 0 && path_i < 0) {
        /* No table: xFilter says so, if SQLite has no better plan. */
        info->estimatedCost = 1e30;
        info->estimatedRows = 1;
    } else {
        info->estimatedCost = eq ? 10 : lower ? 1e4 : 1e6;
        info->estimatedRows = eq ? 1 : lower ? 1000 : 100000;
    }
    if (eq)
        info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    return SQLITE_OK;
}

/* --------------------------------------------------------------- cursor */

static void creset(msq_ccursor *c)
{
    meru_changes_free(c->it);
    c->it = NULL;
    memset(&c->cur, 0, sizeof c->cur);
    msq_handle_release(c->h);
    c->h = NULL;
    sqlite3_free(c->path);
    c->path = NULL;
    c->has_since = 0;
    c->since = 0;
    c->eof = 1;
}

static int copen(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
    (void)base;
    msq_ccursor *c = sqlite3_malloc(sizeof *c);
    *out = NULL;
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->eof = 1;
    *out = &c->base;
    return SQLITE_OK;
}

static int cclose(sqlite3_vtab_cursor *base)
{
    msq_ccursor *c = (msq_ccursor *)base;
    creset(c);
    sqlite3_free(c);
    return SQLITE_OK;
}

/* The largest integer <= v (round_up 0) or the smallest >= v (1), as a
 * clamped int64; 0 when v is not a number (it narrows nothing then). */
static int value_int(sqlite3_value *v, int round_up, sqlite3_int64 *out)
{
    int t = sqlite3_value_numeric_type(v);
    if (t == SQLITE_INTEGER) {
        *out = sqlite3_value_int64(v);
        return 1;
    }
    if (t != SQLITE_FLOAT)
        return 0;
    double d = sqlite3_value_double(v);
    if (isnan(d))
        return 0;
    d = round_up ? ceil(d) : floor(d);
    if (d >= 9.2e18)
        *out = INT64_MAX;
    else if (d <= -9.2e18)
        *out = INT64_MIN;
    else
        *out = (sqlite3_int64)d;
    return 1;
}

/* Narrows (lo, hi] by one seq constraint: the feed is seq > lo and, when
 * hi >= 0, seq <= hi. */
static void narrow(const char *op, size_t oplen, sqlite3_value *v,
                   sqlite3_int64 *lo, sqlite3_int64 *hi)
{
    sqlite3_int64 x;
    int gt = oplen == 4 && memcmp(op, "seq>", 4) == 0;
    int ge = oplen == 5 && memcmp(op, "seq>=", 5) == 0;
    int eq = oplen == 4 && memcmp(op, "seq=", 4) == 0;
    int lt = oplen == 4 && memcmp(op, "seq<", 4) == 0;
    int le = oplen == 5 && memcmp(op, "seq<=", 5) == 0;
    /* seq > x: after floor(x); seq >= x or = x: after ceil(x) - 1. */
    if (gt && value_int(v, 0, &x) && x > *lo)
        *lo = x;
    if ((ge || eq) && value_int(v, 1, &x) && x != INT64_MIN && x - 1 > *lo)
        *lo = x - 1;
    /* seq <= x or = x: up to floor(x); seq < x: up to ceil(x) - 1. */
    if ((le || eq) && value_int(v, 0, &x) && (*hi < 0 || x < *hi))
        *hi = x < 0 ? 0 : x;
    if (lt && value_int(v, 1, &x)) {
        x = x == INT64_MIN ? 0 : x - 1;
        if (*hi < 0 || x < *hi)
            *hi = x < 0 ? 0 : x;
    }
}

/* The since argument: a non-negative integer (a whole real is one). */
static int since_arg(sqlite3_vtab *vt, sqlite3_value *v, sqlite3_int64 *out)
{
    int t = sqlite3_value_numeric_type(v);
    double d = t == SQLITE_FLOAT ? sqlite3_value_double(v) : 0;
    if (t == SQLITE_INTEGER)
        *out = sqlite3_value_int64(v);
    else if (t == SQLITE_FLOAT && d == floor(d) && d >= 0 && d < 9.2e18)
        *out = (sqlite3_int64)d;
    else
        return cfail(vt, SQLITE_MISMATCH,
                     sqlite3_mprintf("merutable_changes: since must be a "
                                     "non-negative integer (a sequence "
                                     "number), not %s",
                                     t == SQLITE_NULL ? "NULL"
                                     : t == SQLITE_FLOAT ? "a fraction"
                                     : t == SQLITE_BLOB  ? "a blob"
                                                         : "text"));
    if (*out < 0)
        return cfail(vt, SQLITE_MISMATCH,
                     sqlite3_mprintf("merutable_changes: since must be a "
                                     "non-negative integer (a sequence "
                                     "number), not %lld",
                                     (long long)*out));
    return SQLITE_OK;
}

/* The engine's failure as the statement's error. */
static int engine_fail(sqlite3_vtab *vt, int rc)
{
    if (rc == MERU_ENOMEM)
        return SQLITE_NOMEM;
    return cfail(vt, msq_sqlite_code(rc),
                 sqlite3_mprintf("merutable_changes: %s", meru_errmsg()));
}

static int cstep(msq_ccursor *c)
{
    int rc = meru_change_next(c->it, &c->cur);
    if (rc == MERU_NOT_FOUND) {
        c->eof = 1;
        return SQLITE_OK;
    }
    if (rc)
        return engine_fail(c->base.pVtab, rc);
    c->eof = 0;
    return SQLITE_OK;
}

static int cfilter(sqlite3_vtab_cursor *base, int idxnum, const char *idxstr,
                   int argc, sqlite3_value **argv)
{
    msq_ccursor *c = (msq_ccursor *)base;
    msq_cvtab *vt = (msq_cvtab *)base->pVtab;
    sqlite3_int64 lo = 0, hi = -1;
    const char *p = idxstr ? strchr(idxstr, '(') : NULL;
    int i = 0, rc;
    (void)idxnum;
    creset(c);
    /* argv follows idxStr's list: path, since, then seq constraints. */
    while (p && *p != ')' && i < argc) {
        const char *tok = p + 1;
        size_t n = strcspn(tok, ",)");
        p = tok + n;
        if (n == 4 && memcmp(tok, "path", 4) == 0) {
            const unsigned char *t = sqlite3_value_text(argv[i]);
            if (sqlite3_value_type(argv[i]) != SQLITE_TEXT || !t || !*t)
                return cfail(base->pVtab, SQLITE_MISMATCH,
                             sqlite3_mprintf("merutable_changes: the first "
                                             "argument is the table's "
                                             "directory (text)"));
            c->path = sqlite3_mprintf("%s", t);
            if (!c->path)
                return SQLITE_NOMEM;
        } else if (n == 5 && memcmp(tok, "since", 5) == 0) {
            if ((rc = since_arg(base->pVtab, argv[i], &c->since)))
                return rc;
            c->has_since = 1;
            if (c->since > lo)
                lo = c->since;
        } else {
            narrow(tok, n, argv[i], &lo, &hi);
        }
        i++;
    }
    meru_db *db;
    if (vt->h) {
        db = vt->h->db;
        if (vt->h->read_only && (rc = meru_refresh(db)))
            return engine_fail(base->pVtab, rc);
    } else {
        char *err = NULL;
        if (!c->path)
            return cfail(base->pVtab, SQLITE_ERROR,
                         sqlite3_mprintf("merutable_changes: no table: "
                                         "SELECT * FROM merutable_changes("
                                         "'/path/to/table' [, since])"));
        c->h = msq_handle_acquire_reader(c->path, &err);
        if (!c->h) {
            char *msg = sqlite3_mprintf("merutable_changes: %s",
                                        err ? err : "out of memory");
            sqlite3_free(err);
            return cfail(base->pVtab, SQLITE_ERROR, msg);
        }
        db = c->h->db;
        if (c->h->read_only && (rc = meru_refresh(db)))
            return engine_fail(base->pVtab, rc);
    }
    if (hi >= 0 && hi <= lo)
        return SQLITE_OK; /* eof: no sequence fits */
    meru_changes_options o;
    meru_changes_options_init(&o);
    if (hi > 0)
        o.until_seq = (uint64_t)hi;
    rc = meru_changes(db, (uint64_t)lo, &o, &c->it);
    if (rc)
        return engine_fail(base->pVtab, rc);
    return cstep(c);
}

static int cnext(sqlite3_vtab_cursor *base)
{
    return cstep((msq_ccursor *)base);
}

static int ceof(sqlite3_vtab_cursor *base)
{
    return ((msq_ccursor *)base)->eof;
}

static void row_json(sqlite3_context *ctx, const meru_row *row)
{
    char *json = NULL;
    if (!row)
        return; /* NULL */
    int rc = meru_row_to_json(row, &json);
    if (rc == MERU_ENOMEM)
        sqlite3_result_error_nomem(ctx);
    else if (rc)
        sqlite3_result_error(ctx, meru_errmsg(), -1);
    else
        sqlite3_result_text(ctx, json, -1, SQLITE_TRANSIENT);
    meru_free(json);
}

static int ccolumn(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int col)
{
    msq_ccursor *c = (msq_ccursor *)base;
    msq_cvtab *vt = (msq_cvtab *)base->pVtab;
    if (col == COL_SEQ) {
        sqlite3_result_int64(ctx, (sqlite3_int64)c->cur.seq);
    } else if (col == COL_OP) {
        const char *k = meru_change_kind_name((int)c->cur.kind);
        if (k)
            sqlite3_result_text(ctx, k, -1, SQLITE_STATIC);
    } else if (col == since_col(vt)) {
        if (c->has_since)
            sqlite3_result_int64(ctx, c->since);
    } else if (!vt->h) {
        if (col == EPO_ROW)
            row_json(ctx, c->cur.row);
        else if (col == EPO_BEFORE)
            row_json(ctx, c->cur.before);
        else if (col == EPO_PATH && c->path)
            sqlite3_result_text(ctx, c->path, -1, SQLITE_TRANSIENT);
    } else {
        size_t i = (size_t)col - 2;
        const meru_row *row = i < vt->ncols ? c->cur.row : c->cur.before;
        if (row)
            msq_column_result(ctx, row, i % vt->ncols);
    }
    return SQLITE_OK;
}

static int crowid(sqlite3_vtab_cursor *base, sqlite3_int64 *out)
{
    *out = (sqlite3_int64)((msq_ccursor *)base)->cur.seq;
    return SQLITE_OK;
}

sqlite3_module msq_changes_module = {
    .iVersion = 1,
    .xCreate = cconnect, /* the same as xConnect: eponymous too */
    .xConnect = cconnect,
    .xBestIndex = cbest_index,
    .xDisconnect = cdisconnect,
    .xDestroy = cdisconnect,
    .xOpen = copen,
    .xClose = cclose,
    .xFilter = cfilter,
    .xNext = cnext,
    .xEof = ceof,
    .xColumn = ccolumn,
    .xRowid = crowid,
};
