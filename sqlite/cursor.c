/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cursor.c — xFilter / xNext / xColumn: running a plan of plan.c.
 *
 * A cursor is in one of three modes:
 *   EMPTY  a constraint no key can meet (k = NULL, an int32 key = 2^40)
 *   GETS   one meru_get per key (a whole-key equality, or an IN list's
 *          values sorted in the scan's direction, duplicates dropped)
 *   SCAN   one meru_scan: prefix, bounds, direction, projection
 * and both reading modes see the SQL transaction's own pending writes
 * (write.c): a get looks its key up there first; a scan merges the
 * engine's rows with the pending entries inside its range (a sorted view
 * the cursor holds a reference to, so writes made while it runs do not
 * disturb it): at equal keys the pending entry wins, and a pending delete
 * hides the row.
 *
 * A read-only table is refreshed (meru_refresh) when SQLite opens a cursor
 * on it, i.e. once per statement run: each new statement sees what the
 * writing process has committed, and one statement sees one state.
 *
 * LIMIT and OFFSET, when plan.c took them, are counted here over the
 * merged rows; the engine's own limit is used when nothing is pending.
 */
#include <stdlib.h>
#include <string.h>

#include "msq.h"

enum { MODE_EMPTY, MODE_GETS, MODE_SCAN };

/* A key to get, as its bytes (sortable, and the pending writes' index). */
typedef struct get_key {
    uint8_t *p;
    size_t n;
} get_key;

typedef struct msq_cursor {
    sqlite3_vtab_cursor base;
    msq_vtab *vt;
    int mode, eof;
    int64_t remaining;    /* rows LIMIT still allows; -1: no limit */
    const meru_row *cur;  /* the row xColumn reads */
    msq_entry *cur_entry; /* referenced while cur is its row */
    /* GETS */
    get_key *keys;
    size_t nkeys, ikey, capkeys;
    meru_row *keyrow, *got;
    /* SCAN */
    meru_row *bound_eq, *bound_lo, *bound_hi;
    meru_iter *it;
    const meru_row *irow; /* the engine's current row (borrowed) */
    int need_next;        /* irow was returned: fetch the next first */
    msq_buf irow_key;     /* key bytes of irow, when merging */
    msq_view *view;       /* pending writes in key order, or NULL */
    size_t vpos;          /* forward: next entry; reverse: one past it */
    int reverse;
    msq_buf pfx, lo, hi; /* encoded range of the merge */
    int has_pfx, has_lo, has_hi, lo_incl, hi_incl;
    const char **proj;
    msq_buf keybuf; /* the hidden key column's value */
} msq_cursor;

static void reset(msq_cursor *c)
{
    meru_iter_free(c->it);
    c->it = NULL;
    c->irow = NULL;
    c->need_next = 0;
    msq_view_unref(c->view);
    c->view = NULL;
    msq_entry_unref(c->cur_entry);
    c->cur_entry = NULL;
    for (size_t i = 0; i < c->nkeys; i++)
        sqlite3_free(c->keys[i].p);
    c->nkeys = c->ikey = 0;
    c->cur = NULL;
    c->eof = 1;
    c->mode = MODE_EMPTY;
    c->remaining = -1;
    c->has_pfx = c->has_lo = c->has_hi = 0;
    sqlite3_free(c->proj);
    c->proj = NULL;
    meru_row_clear(c->bound_eq);
    meru_row_clear(c->bound_lo);
    meru_row_clear(c->bound_hi);
}

int msq_open(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
    msq_vtab *vt = (msq_vtab *)base;
    msq_cursor *c;
    *out = NULL;
    if (vt->h->read_only) {
        int rc = meru_refresh(vt->h->db);
        if (rc)
            return msq_fail(vt, rc);
    }
    c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    c->vt = vt;
    c->eof = 1;
    c->remaining = -1;
    if (meru_row_new(&c->got, vt->schema) ||
        meru_row_new(&c->keyrow, vt->schema) ||
        meru_row_new(&c->bound_eq, vt->schema) ||
        meru_row_new(&c->bound_lo, vt->schema) ||
        meru_row_new(&c->bound_hi, vt->schema)) {
        msq_close(&c->base);
        return SQLITE_NOMEM;
    }
    *out = &c->base;
    return SQLITE_OK;
}

int msq_close(sqlite3_vtab_cursor *base)
{
    msq_cursor *c = (msq_cursor *)base;
    reset(c);
    sqlite3_free(c->keys);
    meru_row_free(c->got);
    meru_row_free(c->keyrow);
    meru_row_free(c->bound_eq);
    meru_row_free(c->bound_lo);
    meru_row_free(c->bound_hi);
    msq_buf_free(&c->irow_key);
    msq_buf_free(&c->pfx);
    msq_buf_free(&c->lo);
    msq_buf_free(&c->hi);
    msq_buf_free(&c->keybuf);
    sqlite3_free(c);
    return SQLITE_OK;
}

/* The current row goes; a pending entry it came from is let go. */
static void drop_current(msq_cursor *c)
{
    c->cur = NULL;
    msq_entry_unref(c->cur_entry);
    c->cur_entry = NULL;
}

/* ------------------------------------------------------------------ gets */

static int add_key(msq_cursor *c, const meru_row *row)
{
    msq_buf b = {0};
    if (c->nkeys == c->capkeys) {
        size_t cap = c->capkeys ? c->capkeys * 2 : 8;
        get_key *k = sqlite3_realloc64(c->keys, cap * sizeof *k);
        if (!k)
            return MERU_ENOMEM;
        c->keys = k;
        c->capkeys = cap;
    }
    int rc = msq_key_encode(c->vt->schema, row, c->vt->nkey, &b);
    if (rc) {
        msq_buf_free(&b);
        return rc;
    }
    c->keys[c->nkeys].p = b.p;
    c->keys[c->nkeys].n = b.n;
    c->nkeys++;
    return MERU_OK;
}

static int key_asc(const void *a, const void *b)
{
    const get_key *x = a, *y = b;
    return msq_bytes_cmp(x->p, x->n, y->p, y->n);
}

static int key_desc(const void *a, const void *b)
{
    return key_asc(b, a);
}

/* Sorts the keys in the scan's direction and drops repeats. */
static void sort_keys(msq_cursor *c)
{
    qsort(c->keys, c->nkeys, sizeof *c->keys, c->reverse ? key_desc : key_asc);
    size_t o = 0;
    for (size_t i = 0; i < c->nkeys; i++) {
        if (o && key_asc(&c->keys[o - 1], &c->keys[i]) == 0) {
            sqlite3_free(c->keys[i].p);
            continue;
        }
        c->keys[o++] = c->keys[i];
    }
    c->nkeys = o;
}

/* The next key that has a row: pending writes first, then the table. */
static int step_gets(msq_cursor *c)
{
    msq_vtab *vt = c->vt;
    while (c->ikey < c->nkeys) {
        const get_key *k = &c->keys[c->ikey++];
        msq_entry *e = msq_tx_lookup(&vt->tx, k->p, k->n);
        if (e) {
            if (e->is_delete)
                continue;
            e->refs++;
            c->cur_entry = e;
            c->cur = e->row;
            return SQLITE_OK;
        }
        meru_row_clear(c->keyrow);
        int rc = msq_key_decode(vt->schema, k->p, k->n, c->keyrow);
        if (!rc)
            rc = meru_get(vt->h->db, NULL, c->keyrow, c->got);
        if (rc == MERU_NOT_FOUND)
            continue;
        if (rc)
            return msq_fail(vt, rc);
        c->cur = c->got;
        return SQLITE_OK;
    }
    c->eof = 1;
    return SQLITE_OK;
}

/* ------------------------------------------------------------------ scan */

/* Where a key lies against the merge range: -1 before, 0 in, 1 after (in
 * ascending key order). */
static int range_pos(const msq_cursor *c, const uint8_t *k, size_t n)
{
    int r;
    if (c->has_pfx) {
        r = msq_key_cmp_prefix(k, n, c->pfx.p, c->pfx.n);
        if (r)
            return r < 0 ? -1 : 1;
    }
    if (c->has_lo) {
        r = msq_key_cmp_prefix(k, n, c->lo.p, c->lo.n);
        if (r < 0 || (r == 0 && !c->lo_incl))
            return -1;
    }
    if (c->has_hi) {
        r = msq_key_cmp_prefix(k, n, c->hi.p, c->hi.n);
        if (r > 0 || (r == 0 && !c->hi_incl))
            return 1;
    }
    return 0;
}

/* First view position whose entry is not before the range. */
static size_t view_start(const msq_cursor *c, int want_after)
{
    size_t lo = 0, hi = c->view->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const msq_entry *e = c->view->e[mid];
        int p = range_pos(c, e->key, e->keylen);
        if (want_after ? p <= 0 : p < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The pending entry the merge looks at now, or NULL. */
static msq_entry *view_peek(const msq_cursor *c)
{
    if (!c->view)
        return NULL;
    size_t i;
    if (c->reverse) {
        if (c->vpos == 0)
            return NULL;
        i = c->vpos - 1;
    } else {
        if (c->vpos >= c->view->n)
            return NULL;
        i = c->vpos;
    }
    msq_entry *e = c->view->e[i];
    return range_pos(c, e->key, e->keylen) == 0 ? e : NULL;
}

static void view_advance(msq_cursor *c)
{
    if (c->reverse)
        c->vpos--;
    else
        c->vpos++;
}

static int step_scan(msq_cursor *c)
{
    msq_vtab *vt = c->vt;
    for (;;) {
        int rc;
        if (c->need_next && c->it) {
            c->need_next = 0;
            rc = meru_iter_next(c->it, &c->irow);
            if (rc == MERU_NOT_FOUND) {
                c->irow = NULL;
                meru_iter_free(c->it);
                c->it = NULL;
            } else if (rc) {
                c->irow = NULL;
                return msq_fail(vt, rc);
            } else if (c->view) {
                c->irow_key.n = 0;
                rc =
                    msq_key_encode(vt->schema, c->irow, vt->nkey, &c->irow_key);
                if (rc)
                    return msq_fail(vt, rc);
            }
        }
        msq_entry *e = view_peek(c);
        if (!c->irow && !e) {
            c->eof = 1;
            return SQLITE_OK;
        }
        int cmp = 0; /* < 0: the pending entry comes first */
        if (e && c->irow) {
            cmp =
                msq_bytes_cmp(e->key, e->keylen, c->irow_key.p, c->irow_key.n);
            if (c->reverse)
                cmp = -cmp;
        } else {
            cmp = e ? -1 : 1;
        }
        if (cmp > 0) {
            c->cur = c->irow;
            c->need_next = 1;
            return SQLITE_OK;
        }
        view_advance(c);
        if (cmp == 0)
            c->need_next = 1; /* the pending write replaces the stored row */
        if (e->is_delete)
            continue;
        e->refs++;
        c->cur_entry = e;
        c->cur = e->row;
        return SQLITE_OK;
    }
}

/* ---------------------------------------------------------------- filter */

static int advance(msq_cursor *c)
{
    drop_current(c);
    if (c->remaining == 0) {
        c->eof = 1;
        return SQLITE_OK;
    }
    int rc = c->mode == MODE_GETS ? step_gets(c) : step_scan(c);
    if (rc == SQLITE_OK && !c->eof && c->remaining > 0)
        c->remaining--;
    return rc;
}

/* The projection from idxStr's "cols=0x..." (plan.c), or none. */
static int set_projection(msq_cursor *c, const char *idxstr,
                          meru_scan_options *o)
{
    /* The last occurrence: plan.c writes it at the end, and a column name
     * earlier in the text could hold the same characters. */
    const char *p = NULL;
    for (const char *q = idxstr; q && (q = strstr(q, " cols=0x")); q++)
        p = q + 1;
    if (!p)
        return SQLITE_OK;
    uint64_t used = strtoull(p + 7, NULL, 16);
    size_t n = c->vt->ncols;
    c->proj = sqlite3_malloc64((n ? n : 1) * sizeof *c->proj);
    if (!c->proj)
        return SQLITE_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (used & (UINT64_C(1) << (i < 63 ? i : 63)))
            c->proj[k++] = meru_schema_column_name(c->vt->schema, i);
    o->columns = c->proj;
    o->ncolumns = k;
    if (k == 0) { /* only the key is used (count(*)): read the key */
        c->proj[0] =
            meru_schema_column_name(c->vt->schema, (size_t)c->vt->key_cols[0]);
        o->ncolumns = 1;
    }
    return SQLITE_OK;
}

/* Copies the equality columns into a bound row. */
static int copy_eq(msq_cursor *c, meru_row *dst, int neq)
{
    for (int k = 0; k < neq; k++) {
        int rc = msq_copy_column(dst, c->bound_eq, (size_t)c->vt->key_cols[k]);
        if (rc)
            return rc;
    }
    return MERU_OK;
}

/* A bound on the range column (after the equality columns). */
static int set_bound(msq_cursor *c, meru_row *dst, int neq, sqlite3_value *v,
                     int side, int *incl, int *has)
{
    msq_vtab *vt = c->vt;
    size_t col = (size_t)vt->key_cols[neq];
    int rc = copy_eq(c, dst, neq);
    if (rc)
        return rc;
    int conv = msq_value_to_bound(dst, col, v, side, incl, vt->fixed_len[col]);
    *has = conv == MSQ_CONV_OK;
    return conv == MSQ_CONV_EMPTY ? MERU_NOT_FOUND : MERU_OK;
}

static int start_scan(msq_cursor *c, const char *idxstr, int neq, int64_t limit,
                      int64_t offset)
{
    msq_vtab *vt = c->vt;
    meru_scan_options o;
    int rc = MERU_OK;
    meru_scan_options_init(&o);
    o.reverse = c->reverse;
    if (neq > 0)
        o.prefix = c->bound_eq;
    if (c->has_lo) {
        o.lower = c->bound_lo;
        o.lower_inclusive = c->lo_incl;
    }
    if (c->has_hi) {
        o.upper = c->bound_hi;
        o.upper_inclusive = c->hi_incl;
    }
    if (set_projection(c, idxstr, &o))
        return SQLITE_NOMEM;
    c->view = msq_tx_view(&vt->tx, &rc);
    if (rc)
        return msq_fail(vt, rc);
    if (!c->view && limit >= 0 && offset <= INT64_MAX - limit)
        o.limit = (uint64_t)(limit + offset);
    if (c->view) {
        c->pfx.n = c->lo.n = c->hi.n = 0;
        c->has_pfx = neq > 0;
        if (c->has_pfx)
            rc = msq_key_encode(vt->schema, c->bound_eq, (size_t)neq, &c->pfx);
        if (!rc && c->has_lo)
            rc = msq_key_encode(vt->schema, c->bound_lo, (size_t)neq + 1,
                                &c->lo);
        if (!rc && c->has_hi)
            rc = msq_key_encode(vt->schema, c->bound_hi, (size_t)neq + 1,
                                &c->hi);
        if (rc)
            return msq_fail(vt, rc);
        c->vpos = view_start(c, c->reverse);
    }
    rc = meru_scan(vt->h->db, &o, &c->it);
    if (rc)
        return msq_fail(vt, rc);
    c->need_next = 1;
    return SQLITE_OK;
}

int msq_filter(sqlite3_vtab_cursor *base, int idxnum, const char *idxstr,
               int argc, sqlite3_value **argv)
{
    msq_cursor *c = (msq_cursor *)base;
    msq_vtab *vt = c->vt;
    int neq = idxnum & MSQ_P_NEQ_MASK, a = 0, empty = 0, rc;
    int eqrange = (idxnum & MSQ_P_EQRANGE) != 0;
    int nargs = neq + !!(idxnum & MSQ_P_LOWER) +
                (!eqrange && (idxnum & MSQ_P_UPPER)) +
                !!(idxnum & MSQ_P_LIMIT) + !!(idxnum & MSQ_P_OFFSET);
    int64_t limit = -1, offset = 0;
    reset(c);
    if (argc != nargs || (size_t)neq > vt->nkey) {
        sqlite3_free(vt->base.zErrMsg);
        vt->base.zErrMsg =
            sqlite3_mprintf("merutable: plan %#x expects %d arguments, got %d",
                            idxnum, nargs, argc);
        return SQLITE_ERROR;
    }
    c->reverse = (idxnum & MSQ_P_DESC) != 0;
    c->eof = 0;
    int neq_eff = neq, all = 0;

    if (idxnum & MSQ_P_IN) { /* neq == nkey == 1 */
        sqlite3_value *v = NULL;
        size_t col = (size_t)vt->key_cols[0];
        a++;
        for (rc = sqlite3_vtab_in_first(argv[0], &v); rc == SQLITE_OK && v;
             rc = sqlite3_vtab_in_next(argv[0], &v)) {
            int incl = 1;
            meru_row_clear(c->keyrow);
            int conv = msq_value_to_bound(c->keyrow, col, v, MSQ_SIDE_EQ, &incl,
                                          vt->fixed_len[col]);
            if (conv == MSQ_CONV_NONE)
                all = 1; /* SQLite checks the list itself on a full scan */
            else if (conv == MSQ_CONV_OK && add_key(c, c->keyrow))
                return SQLITE_NOMEM;
        }
        if (rc != SQLITE_OK && rc != SQLITE_DONE)
            return rc;
        if (all)
            neq_eff = 0;
    } else {
        for (int k = 0; k < neq; k++) {
            int incl = 1;
            size_t col = (size_t)vt->key_cols[k];
            int conv =
                msq_value_to_bound(c->bound_eq, col, argv[a++], MSQ_SIDE_EQ,
                                   &incl, vt->fixed_len[col]);
            if (conv == MSQ_CONV_EMPTY)
                empty = 1;
            else if (conv == MSQ_CONV_NONE && neq_eff == neq)
                neq_eff = k; /* the prefix stops here; SQLite checks */
        }
    }
    if (idxnum & MSQ_P_LOWER) {
        sqlite3_value *v = argv[a++];
        if (neq_eff == neq && !empty) {
            c->lo_incl = eqrange || (idxnum & MSQ_P_LOWER_INCL);
            rc = set_bound(c, c->bound_lo, neq, v, MSQ_SIDE_LOWER, &c->lo_incl,
                           &c->has_lo);
            if (!rc && eqrange) {
                c->hi_incl = 1;
                rc = set_bound(c, c->bound_hi, neq, v, MSQ_SIDE_UPPER,
                               &c->hi_incl, &c->has_hi);
            }
            if (rc == MERU_NOT_FOUND)
                empty = 1;
            else if (rc)
                return msq_fail(vt, rc);
        }
    }
    if (!eqrange && (idxnum & MSQ_P_UPPER)) {
        sqlite3_value *v = argv[a++];
        if (neq_eff == neq && !empty) {
            c->hi_incl = (idxnum & MSQ_P_UPPER_INCL) != 0;
            rc = set_bound(c, c->bound_hi, neq, v, MSQ_SIDE_UPPER, &c->hi_incl,
                           &c->has_hi);
            if (rc == MERU_NOT_FOUND)
                empty = 1;
            else if (rc)
                return msq_fail(vt, rc);
        }
    }
    if (idxnum & MSQ_P_LIMIT)
        limit = sqlite3_value_int64(argv[a++]);
    if (idxnum & MSQ_P_OFFSET)
        offset = sqlite3_value_int64(argv[a++]);
    if (offset < 0)
        offset = 0;
    if (limit < 0)
        limit = -1;

    if (empty || limit == 0 || ((idxnum & MSQ_P_IN) && !all && !c->nkeys)) {
        c->mode = MODE_EMPTY;
        c->eof = 1;
        return SQLITE_OK;
    }
    if ((idxnum & MSQ_P_IN) && !all) {
        c->mode = MODE_GETS;
        sort_keys(c);
    } else if ((size_t)neq_eff == vt->nkey) {
        c->mode = MODE_GETS;
        if (add_key(c, c->bound_eq))
            return SQLITE_NOMEM;
    } else {
        c->mode = MODE_SCAN;
        if (neq_eff < neq) {
            /* Equalities from the first one the module cannot use on are
             * left to SQLite: the prefix keeps the columns before it. */
            meru_row *fresh = c->bound_lo;
            meru_row_clear(fresh);
            for (int k = 0; k < neq_eff; k++)
                if (msq_copy_column(fresh, c->bound_eq,
                                    (size_t)vt->key_cols[k]))
                    return SQLITE_NOMEM;
            c->bound_lo = c->bound_eq;
            c->bound_eq = fresh;
            c->has_lo = c->has_hi = 0;
        }
        rc = start_scan(c, idxstr, neq_eff, limit, offset);
        if (rc)
            return rc;
    }
    rc = advance(c);
    for (int64_t i = 0; rc == SQLITE_OK && !c->eof && i < offset; i++)
        rc = advance(c);
    if (rc == SQLITE_OK && !c->eof && limit > 0)
        c->remaining = limit - 1;
    return rc;
}

int msq_next(sqlite3_vtab_cursor *base)
{
    return advance((msq_cursor *)base);
}

int msq_eof(sqlite3_vtab_cursor *base)
{
    return ((msq_cursor *)base)->eof;
}

int msq_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int col)
{
    msq_cursor *c = (msq_cursor *)base;
    msq_vtab *vt = c->vt;
    if (!c->cur)
        return SQLITE_OK; /* NULL */
    if ((size_t)col == vt->ncols && vt->hidden_key) {
        c->keybuf.n = 0;
        int rc = msq_key_encode(vt->schema, c->cur, vt->nkey, &c->keybuf);
        if (rc)
            return msq_fail(vt, rc);
        sqlite3_result_blob64(ctx, c->keybuf.p, c->keybuf.n, SQLITE_TRANSIENT);
        return SQLITE_OK;
    }
    if (col < 0 || (size_t)col >= vt->ncols)
        return SQLITE_OK;
    msq_column_result(ctx, c->cur, (size_t)col);
    return SQLITE_OK;
}

int msq_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *out)
{
    /* WITHOUT ROWID: SQLite never asks. */
    (void)base;
    *out = 0;
    return SQLITE_ERROR;
}
