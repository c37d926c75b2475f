/* SPDX-License-Identifier: Apache-2.0 */
/*
 * plan.c — xBestIndex: what the module does for a WHERE / ORDER BY /
 * LIMIT, and what it costs.
 *
 * Plans, from the cheapest:
 *   get        equality on every key column: one meru_get (an IN list on
 *              a one-column key: one get per value, all at once through
 *              sqlite3_vtab_in, sorted so ORDER BY is consumed)
 *   prefix     equality on the first k key columns: a prefix scan
 *   range      <, <=, >, >=, BETWEEN on the key column after the prefix
 *              (the first one when there is none): a bounded scan
 *   scan       the whole table
 * Any of them runs forward or in reverse so that ORDER BY on the key
 * (after the equality columns, one direction) is consumed; the columns
 * SQLite uses (colUsed) become the scan's projection; LIMIT and OFFSET are
 * taken when the module answers every other constraint alone (omit) and
 * the order is its own, as SQLite requires.
 *
 * Which key columns qualify (value.c has the reasons):
 *   integer, real, string (BINARY collation), binary: equality and ranges;
 *   real: equality as the range [v, v] (0 is both -0.0 and +0.0) and
 *     ranges, never part of a prefix;
 *   date, timestamp, decimal: equality only, and their ORDER BY is left to
 *     SQLite: their text (what SQL compares) does not sort like the values
 *     (12.5 vs 9.75, "...00.5Z" vs "...00Z", signed years).
 * A constraint is omitted from SQLite's own checks only when the module's
 * answer is exactly SQLite's (msq_value_exact on the constant SQLite shows
 * at planning time); otherwise SQLite checks each row again, and the
 * module's range only has to hold every row SQLite would keep.
 *
 * idxNum carries the plan (msq.h, MSQ_P_*); idxStr describes it for
 * EXPLAIN QUERY PLAN, e.g. "get(id)", "prefix(user) range(ts>=,ts<)
 * order=desc limit", ending in "cols=0x..." (colUsed) when a projection
 * applies, which xFilter reads back.
 */
#include <math.h>
#include <string.h>

#include "msq.h"

typedef struct plan {
    int neq;                      /* key columns with an equality */
    int eq[MERU_MAX_KEY_COLUMNS]; /* their constraint index */
    int in;                       /* eq[0] is an IN list taken all at once */
    int lower, upper;             /* constraint indexes or -1 */
    int eqrange;       /* a float equality as both bounds (in `lower`) */
    int limit, offset; /* constraint indexes or -1 */
    int desc, ordered; /* ORDER BY consumed, and its direction */
} plan;

static int is_binary_collation(sqlite3_index_info *info, int i)
{
    const char *c = sqlite3_vtab_collation(info, i);
    return !c || sqlite3_stricmp(c, "BINARY") == 0;
}

/* Key position of a column, or -1. */
static int key_pos(const msq_vtab *vt, int col)
{
    for (size_t k = 0; k < vt->nkey; k++)
        if (vt->key_cols[k] == col)
            return (int)k;
    return -1;
}

static msq_kind kind_at(const msq_vtab *vt, int pos)
{
    return msq_type_kind(
        meru_schema_column_type(vt->schema, (size_t)vt->key_cols[pos]));
}

/* Whether constraint i may carry a key bound for the column's kind. */
static int usable_on(const msq_vtab *vt, sqlite3_index_info *info, int i,
                     int pos)
{
    msq_kind k = kind_at(vt, pos);
    if (k == MSQ_KIND_TEXT || k == MSQ_KIND_TIME)
        return is_binary_collation(info, i);
    return 1;
}

/*
 * Whether the ORDER BY is the order the plan produces. A float key column
 * ends what can be consumed: -0.0 and +0.0 are two keys to the engine
 * (-0.0 first) but one value to SQL, which breaks their tie by the next
 * ORDER BY term; so nothing may follow it, and a key holding one is not
 * unique to SQL.
 */
static int order_consumed(const msq_vtab *vt, sqlite3_index_info *info,
                          const plan *p, int *desc)
{
    if (info->nOrderBy == 0)
        return 0;
    *desc = -1; /* the direction of the first term that orders anything */
    if ((size_t)p->neq == vt->nkey && !p->in) {
        *desc = 0;
        return 1; /* at most one row (equality prefixes hold no float) */
    }
    int unique = 1, after_float = 0;
    for (size_t k = 0; k < vt->nkey; k++)
        if (kind_at(vt, (int)k) == MSQ_KIND_FLOAT)
            unique = 0;
    /* The next key position the order must name; an IN list's values are
     * sorted, so its column orders like any other. */
    size_t next = p->in ? 0 : (size_t)p->neq;
    for (int i = 0; i < info->nOrderBy; i++) {
        int pos = key_pos(vt, info->aOrderBy[i].iColumn);
        if (!p->in && pos >= 0 && pos < p->neq)
            continue; /* one value: any order */
        if (after_float)
            return 0;
        if (next >= vt->nkey && unique)
            continue; /* the key is unique: later terms order nothing */
        if (*desc < 0)
            *desc = info->aOrderBy[i].desc;
        if (pos != (int)next || info->aOrderBy[i].desc != *desc ||
            kind_at(vt, pos) == MSQ_KIND_TIME)
            return 0;
        after_float = kind_at(vt, pos) == MSQ_KIND_FLOAT;
        next = (size_t)pos + 1;
    }
    if (*desc < 0)
        *desc = 0; /* only one-value columns: any direction */
    return 1;
}

/* Rough row count of the table: stored versions plus the memtable. */
static double table_rows(const msq_vtab *vt)
{
    meru_stats st;
    if (meru_stats_get(vt->h->db, &st))
        return 1e6;
    double n = (double)st.total_rows + (double)st.memtable_entries;
    return n < 1 ? 1 : n;
}

static void describe(sqlite3_str *s, const msq_vtab *vt, const plan *p,
                     sqlite3_index_info *info)
{
    const char *sep = "";
    if ((size_t)p->neq == vt->nkey) {
        sqlite3_str_appendall(s, "get(");
        for (int k = 0; k < p->neq; k++)
            sqlite3_str_appendf(
                s, "%s%s", k ? "," : "",
                meru_schema_column_name(vt->schema, (size_t)vt->key_cols[k]));
        sqlite3_str_appendall(s, p->in ? " IN)" : ")");
        sep = " ";
    } else if (p->neq > 0) {
        sqlite3_str_appendall(s, "prefix(");
        for (int k = 0; k < p->neq; k++)
            sqlite3_str_appendf(
                s, "%s%s", k ? "," : "",
                meru_schema_column_name(vt->schema, (size_t)vt->key_cols[k]));
        sqlite3_str_appendall(s, ")");
        sep = " ";
    }
    if (p->lower >= 0 || p->upper >= 0) {
        const char *c =
            meru_schema_column_name(vt->schema, (size_t)vt->key_cols[p->neq]);
        int lop = p->lower >= 0 ? info->aConstraint[p->lower].op : 0;
        int uop = p->upper >= 0 ? info->aConstraint[p->upper].op : 0;
        sqlite3_str_appendf(s, "%srange(", sep);
        if (p->eqrange)
            sqlite3_str_appendf(s, "%s=", c);
        if (!p->eqrange && p->lower >= 0)
            sqlite3_str_appendf(s, "%s%s", c,
                                lop == SQLITE_INDEX_CONSTRAINT_GE ? ">=" : ">");
        if (p->upper >= 0)
            sqlite3_str_appendf(s, "%s%s%s", p->lower >= 0 ? "," : "", c,
                                uop == SQLITE_INDEX_CONSTRAINT_LE ? "<=" : "<");
        sqlite3_str_appendall(s, ")");
        sep = " ";
    }
    if (!*sep)
        sqlite3_str_appendall(s, "scan"), sep = " ";
    if (p->ordered)
        sqlite3_str_appendf(s, " order=%s", p->desc ? "desc" : "asc");
    if (p->limit >= 0)
        sqlite3_str_appendall(s, " limit");
    if (p->offset >= 0)
        sqlite3_str_appendall(s, " offset");
}

int msq_best_index(sqlite3_vtab *base, sqlite3_index_info *info)
{
    msq_vtab *vt = (msq_vtab *)base;
    plan p;
    int n = info->nConstraint;
    memset(&p, 0, sizeof p);
    p.lower = p.upper = p.limit = p.offset = -1;

    /* The equality prefix. */
    while ((size_t)p.neq < vt->nkey && kind_at(vt, p.neq) != MSQ_KIND_FLOAT) {
        int found = -1;
        for (int i = 0; i < n && found < 0; i++) {
            const struct sqlite3_index_constraint *c = &info->aConstraint[i];
            if (c->usable && c->op == SQLITE_INDEX_CONSTRAINT_EQ &&
                key_pos(vt, c->iColumn) == p.neq &&
                usable_on(vt, info, i, p.neq))
                found = i;
        }
        if (found < 0)
            break;
        p.eq[p.neq++] = found;
    }
    /* All at once for an IN list on a one-column key. */
    if (vt->nkey == 1 && p.neq == 1 && sqlite3_vtab_in(info, p.eq[0], -1)) {
        p.in = 1;
        sqlite3_vtab_in(info, p.eq[0], 1);
    }
    /* The range on the next key column. */
    if ((size_t)p.neq < vt->nkey && kind_at(vt, p.neq) != MSQ_KIND_TIME) {
        for (int i = 0; i < n; i++) {
            const struct sqlite3_index_constraint *c = &info->aConstraint[i];
            if (!c->usable || key_pos(vt, c->iColumn) != p.neq ||
                !usable_on(vt, info, i, p.neq))
                continue;
            if (c->op == SQLITE_INDEX_CONSTRAINT_EQ &&
                kind_at(vt, p.neq) == MSQ_KIND_FLOAT && !p.eqrange) {
                p.lower = i; /* the one value is both bounds */
                p.upper = -1;
                p.eqrange = 1;
            } else if (p.eqrange) {
                continue;
            } else if ((c->op == SQLITE_INDEX_CONSTRAINT_GT ||
                        c->op == SQLITE_INDEX_CONSTRAINT_GE) &&
                       p.lower < 0) {
                p.lower = i;
            } else if ((c->op == SQLITE_INDEX_CONSTRAINT_LT ||
                        c->op == SQLITE_INDEX_CONSTRAINT_LE) &&
                       p.upper < 0) {
                p.upper = i;
            }
        }
    }

    /* Arguments and omits: equality values, bounds, then limit, offset.
     * An equality the cursor cannot use at run time ends the prefix there
     * and drops the range (cursor.c), so a constraint is omitted only when
     * it and every equality before it are exact. */
    int argv = 1, all_omitted = 1, chain = 1;
    for (int k = 0; k < p.neq; k++) {
        int i = p.eq[k];
        sqlite3_value *rhs = NULL;
        info->aConstraintUsage[i].argvIndex = argv++;
        chain = chain && !p.in &&
                sqlite3_vtab_rhs_value(info, i, &rhs) == SQLITE_OK &&
                msq_value_exact(vt->schema, (size_t)vt->key_cols[k], rhs);
        info->aConstraintUsage[i].omit = (unsigned char)chain;
    }
    int bounds[2] = {p.lower, p.upper};
    for (int b = 0; b < 2; b++) {
        int i = bounds[b];
        sqlite3_value *rhs = NULL;
        if (i < 0)
            continue;
        info->aConstraintUsage[i].argvIndex = argv++;
        info->aConstraintUsage[i].omit =
            chain && !p.eqrange &&
            sqlite3_vtab_rhs_value(info, i, &rhs) == SQLITE_OK &&
            msq_value_exact(vt->schema, (size_t)vt->key_cols[p.neq], rhs);
    }
    for (int i = 0; i < n; i++) {
        int op = info->aConstraint[i].op;
        if (op != SQLITE_INDEX_CONSTRAINT_LIMIT &&
            op != SQLITE_INDEX_CONSTRAINT_OFFSET &&
            !info->aConstraintUsage[i].omit)
            all_omitted = 0;
    }
    p.ordered = order_consumed(vt, info, &p, &p.desc);
    if (all_omitted && (info->nOrderBy == 0 || p.ordered)) {
        for (int i = 0; i < n; i++) {
            if (!info->aConstraint[i].usable)
                continue;
            if (info->aConstraint[i].op == SQLITE_INDEX_CONSTRAINT_LIMIT &&
                p.limit < 0)
                p.limit = i;
            if (info->aConstraint[i].op == SQLITE_INDEX_CONSTRAINT_OFFSET &&
                p.offset < 0)
                p.offset = i;
        }
        /* An OFFSET alone (no LIMIT) is never passed; keep them paired. */
        if (p.limit < 0)
            p.offset = -1;
    }
    if (p.limit >= 0) {
        info->aConstraintUsage[p.limit].argvIndex = argv++;
        info->aConstraintUsage[p.limit].omit = 1;
    }
    if (p.offset >= 0) {
        info->aConstraintUsage[p.offset].argvIndex = argv++;
        info->aConstraintUsage[p.offset].omit = 1;
    }

    /* Cost: a get is a few page reads; a scan reads what it returns. */
    double rows = table_rows(vt), cost;
    if ((size_t)p.neq == vt->nkey) {
        rows = p.in ? 10 : 1;
        cost = 10 * rows;
        if (!p.in)
            info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    } else {
        for (int k = 0; k < p.neq; k++)
            rows /= 10;
        if (p.eqrange)
            rows /= 10;
        if (p.lower >= 0 && !p.eqrange)
            rows /= 4;
        if (p.upper >= 0)
            rows /= 4;
        if (rows < 1)
            rows = 1;
        cost = 20 + rows;
    }
    sqlite3_value *lim = NULL;
    if (p.limit >= 0 &&
        sqlite3_vtab_rhs_value(info, p.limit, &lim) == SQLITE_OK &&
        sqlite3_value_type(lim) == SQLITE_INTEGER &&
        sqlite3_value_int64(lim) >= 0 &&
        (double)sqlite3_value_int64(lim) < rows) {
        rows = (double)sqlite3_value_int64(lim);
        cost = 20 + rows;
    }
    info->estimatedRows = (sqlite3_int64)rows;
    info->estimatedCost = cost;
    info->orderByConsumed = p.ordered;

    int idx = p.neq;
    if (p.lower >= 0) {
        idx |= MSQ_P_LOWER;
        if (p.eqrange)
            idx |= MSQ_P_EQRANGE;
        else if (info->aConstraint[p.lower].op == SQLITE_INDEX_CONSTRAINT_GE)
            idx |= MSQ_P_LOWER_INCL;
    }
    if (p.upper >= 0) {
        idx |= MSQ_P_UPPER;
        if (info->aConstraint[p.upper].op == SQLITE_INDEX_CONSTRAINT_LE)
            idx |= MSQ_P_UPPER_INCL;
    }
    if (p.ordered && p.desc)
        idx |= MSQ_P_DESC;
    if (p.limit >= 0)
        idx |= MSQ_P_LIMIT;
    if (p.offset >= 0)
        idx |= MSQ_P_OFFSET;
    if (p.in)
        idx |= MSQ_P_IN;
    info->idxNum = idx;

    sqlite3_str *s = sqlite3_str_new(NULL);
    describe(s, vt, &p, info);
    /* The projection: every column SQLite reads, as colUsed (bit 63 is
     * "63 and above"); none when it is every column. */
    uint64_t all =
        vt->ncols >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << vt->ncols) - 1;
    if ((info->colUsed & all) != all)
        sqlite3_str_appendf(s, " cols=0x%llx",
                            (unsigned long long)info->colUsed);
    info->idxStr = sqlite3_str_finish(s);
    if (!info->idxStr)
        return SQLITE_NOMEM;
    info->needToFreeIdxStr = 1;
    return SQLITE_OK;
}
