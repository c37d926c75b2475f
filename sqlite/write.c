/* SPDX-License-Identifier: Apache-2.0 */
/*
 * write.c — INSERT, UPDATE, DELETE and SQL transactions.
 *
 * A SQL transaction is one meru_write_batch. xUpdate does not write to the
 * table: it checks the row (value conversion, meru_row_validate, the key
 * conflict rule) and appends a put or a delete to the transaction's log.
 * When SQLite commits, xSync applies the whole log as one batch with
 * meru_write (one WAL record, all or nothing); if that fails, xSync's
 * error fails the COMMIT and SQLite rolls back. ROLLBACK drops the log, so
 * the table never saw any of it. A statement outside BEGIN ... COMMIT is
 * its own transaction (SQLite calls xBegin/xSync/xCommit around it).
 *
 * Statement atomicity inside a transaction: SQLite opens a savepoint
 * before a statement that may write several rows and rolls back to it if
 * the statement fails; xSavepoint records the log length and xRollbackTo
 * cuts the log back to it. SAVEPOINT / ROLLBACK TO in SQL work the same
 * way.
 *
 * Reads see the log (cursor.c): the latest entry per key, found through a
 * hash of the key bytes, and for scans a sorted view of those entries that
 * is built on demand and reused until the next write. Entries and views
 * are reference counted because a cursor may still hold one after the
 * write that replaced it, or after the transaction ended (SQLite lets a
 * read statement outlive a COMMIT).
 *
 * Conflicts: INSERT of a key that has a live row (in the table or earlier
 * in the transaction), or UPDATE that moves a row onto one, fails with
 * SQLite's "UNIQUE constraint failed" unless the statement says OR REPLACE,
 * which replaces that row. Constraint support is on (vtab.c), so OR IGNORE,
 * OR FAIL and OR ROLLBACK behave as SQLite documents; every check happens
 * before the log changes. An UPDATE of key columns is a delete of the old
 * key and a put of the new row, in that order, in the same batch.
 */
#include <stdlib.h>
#include <string.h>

#include "msq.h"

/* ---------------------------------------------------------------- entries */

void msq_entry_unref(msq_entry *e)
{
    if (e && --e->refs == 0) {
        meru_row_free(e->row);
        sqlite3_free(e);
    }
}

void msq_view_unref(msq_view *v)
{
    if (v && --v->refs == 0) {
        for (size_t i = 0; i < v->n; i++)
            msq_entry_unref(v->e[i]);
        sqlite3_free(v);
    }
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(1099511628211);
    }
    return h ^ (h >> 29);
}

/* A new entry owning `row`, keyed by `key`. */
static msq_entry *entry_new(meru_row *row, int is_delete, const msq_buf *key)
{
    msq_entry *e = sqlite3_malloc64(sizeof *e + key->n);
    if (!e)
        return NULL;
    e->refs = 1;
    e->is_delete = is_delete;
    e->row = row;
    e->keylen = key->n;
    e->hash = hash_bytes(key->p, key->n);
    memcpy(e->key, key->p, key->n);
    return e;
}

/* ------------------------------------------------------------ the index */

static int same_key(const msq_entry *e, const uint8_t *k, size_t n, uint64_t h)
{
    return e->hash == h && e->keylen == n && memcmp(e->key, k, n) == 0;
}

/* Points the key's slot at log index i (replacing an older entry's). */
static void index_put(msq_tx *tx, size_t i)
{
    const msq_entry *e = tx->log[i];
    size_t mask = tx->nslots - 1, s = (size_t)e->hash & mask;
    while (tx->slots[s]) {
        if (same_key(tx->log[tx->slots[s] - 1], e->key, e->keylen, e->hash)) {
            tx->slots[s] = i + 1;
            return;
        }
        s = (s + 1) & mask;
    }
    tx->slots[s] = i + 1;
    tx->nused++;
}

/* Rebuilds the index from the log with at least `want` slots. */
static int index_rebuild(msq_tx *tx, size_t want)
{
    size_t n = 16;
    while (n < want)
        n *= 2;
    size_t *slots = sqlite3_malloc64(n * sizeof *slots);
    if (!slots)
        return MERU_ENOMEM;
    memset(slots, 0, n * sizeof *slots);
    sqlite3_free(tx->slots);
    tx->slots = slots;
    tx->nslots = n;
    tx->nused = 0;
    for (size_t i = 0; i < tx->nlog; i++)
        index_put(tx, i);
    return MERU_OK;
}

msq_entry *msq_tx_lookup(msq_tx *tx, const uint8_t *key, size_t n)
{
    if (!tx->nlog)
        return NULL;
    uint64_t h = hash_bytes(key, n);
    size_t mask = tx->nslots - 1, s = (size_t)h & mask;
    while (tx->slots[s]) {
        msq_entry *e = tx->log[tx->slots[s] - 1];
        if (same_key(e, key, n, h))
            return e;
        s = (s + 1) & mask;
    }
    return NULL;
}

static void view_drop(msq_tx *tx)
{
    msq_view_unref(tx->view);
    tx->view = NULL;
}

/* Appends `e` (taking its reference). */
static int tx_append(msq_tx *tx, msq_entry *e)
{
    if (tx->nlog == tx->caplog) {
        size_t cap = tx->caplog ? tx->caplog * 2 : 64;
        msq_entry **l = sqlite3_realloc64(tx->log, cap * sizeof *l);
        if (!l) {
            msq_entry_unref(e);
            return MERU_ENOMEM;
        }
        tx->log = l;
        tx->caplog = cap;
    }
    if ((tx->nused + 1) * 2 > tx->nslots) {
        int rc = index_rebuild(tx, (tx->nused + 1) * 4);
        if (rc) {
            msq_entry_unref(e);
            return rc;
        }
    }
    tx->log[tx->nlog++] = e;
    index_put(tx, tx->nlog - 1);
    view_drop(tx);
    return MERU_OK;
}

/* Drops the log entries from `len` on (ROLLBACK TO, ROLLBACK). The index
 * is rebuilt in its own slots (a shorter log fits): an entry the cut one
 * had replaced becomes the key's latest again. */
static void tx_truncate(msq_tx *tx, size_t len)
{
    if (len >= tx->nlog)
        return;
    for (size_t i = len; i < tx->nlog; i++)
        msq_entry_unref(tx->log[i]);
    tx->nlog = len;
    view_drop(tx);
    memset(tx->slots, 0, tx->nslots * sizeof *tx->slots);
    tx->nused = 0;
    for (size_t i = 0; i < tx->nlog; i++)
        index_put(tx, i);
}

void msq_tx_clear(msq_tx *tx)
{
    for (size_t i = 0; i < tx->nlog; i++)
        msq_entry_unref(tx->log[i]);
    view_drop(tx);
    sqlite3_free(tx->log);
    sqlite3_free(tx->slots);
    sqlite3_free(tx->marks);
    memset(tx, 0, sizeof *tx);
}

static int entry_order(const void *a, const void *b)
{
    const msq_entry *x = *(msq_entry *const *)a, *y = *(msq_entry *const *)b;
    return msq_bytes_cmp(x->key, x->keylen, y->key, y->keylen);
}

msq_view *msq_tx_view(msq_tx *tx, int *rc)
{
    *rc = MERU_OK;
    if (!tx->nlog)
        return NULL;
    if (!tx->view) {
        msq_view *v = sqlite3_malloc64(sizeof *v + tx->nused * sizeof(v->e[0]));
        if (!v) {
            *rc = MERU_ENOMEM;
            return NULL;
        }
        v->refs = 1; /* the cache's */
        v->n = 0;
        for (size_t s = 0; s < tx->nslots; s++) {
            if (tx->slots[s]) {
                msq_entry *e = tx->log[tx->slots[s] - 1];
                e->refs++;
                v->e[v->n++] = e;
            }
        }
        qsort(v->e, v->n, sizeof v->e[0], entry_order);
        tx->view = v;
    }
    tx->view->refs++;
    return tx->view;
}

/* ---------------------------------------------------------------- xUpdate */

static int fail_msg(msq_vtab *vt, int code, char *msg)
{
    sqlite3_free(vt->base.zErrMsg);
    vt->base.zErrMsg = msg;
    return msg ? code : SQLITE_NOMEM;
}

/* The SQLite code for a row the engine refused. */
static int refused(msq_vtab *vt, int rc, char *msg)
{
    if (rc == MERU_ENOMEM) {
        sqlite3_free(msg);
        return SQLITE_NOMEM;
    }
    return fail_msg(vt,
                    rc == MERU_EINVAL || rc == MERU_ERANGE
                        ? SQLITE_CONSTRAINT
                        : msq_sqlite_code(rc),
                    msg);
}

/* Whether the key has a live row: pending writes first, then the table. */
static int key_exists(msq_vtab *vt, const msq_buf *key, const meru_row *row,
                      int *out)
{
    msq_entry *e = msq_tx_lookup(&vt->tx, key->p, key->n);
    if (e) {
        *out = !e->is_delete;
        return MERU_OK;
    }
    int rc = meru_get(vt->h->db, NULL, row, vt->scratch2);
    *out = rc == MERU_OK;
    return rc == MERU_NOT_FOUND ? MERU_OK : rc;
}

static int unique_failed(msq_vtab *vt)
{
    sqlite3_str *s = sqlite3_str_new(NULL);
    sqlite3_str_appendall(s, "UNIQUE constraint failed: ");
    for (size_t k = 0; k < vt->nkey; k++)
        sqlite3_str_appendf(
            s, "%s%s.%s", k ? ", " : "", vt->name,
            meru_schema_column_name(vt->schema, (size_t)vt->key_cols[k]));
    return fail_msg(vt, SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3_str_finish(s));
}

/* The old row's key (argv[0] of UPDATE/DELETE) into vt->scratch and its
 * bytes into `key`. */
static int old_key(msq_vtab *vt, sqlite3_value *v, msq_buf *key)
{
    meru_row_clear(vt->scratch);
    int rc;
    if (vt->hidden_key) {
        const uint8_t *p = sqlite3_value_blob(v);
        size_t n = (size_t)sqlite3_value_bytes(v);
        if (sqlite3_value_type(v) != SQLITE_BLOB ||
            msq_key_decode(vt->schema, p, n, vt->scratch))
            return fail_msg(vt, SQLITE_MISMATCH,
                            sqlite3_mprintf("merutable: %s is not a key of "
                                            "table %s",
                                            MSQ_HIDDEN_KEY, vt->name));
    } else {
        char *msg = NULL;
        rc = msq_value_to_column(vt->scratch, (size_t)vt->key_cols[0], v, 0,
                                 &msg);
        if (rc)
            return refused(vt, rc, msg);
    }
    rc = msq_key_encode(vt->schema, vt->scratch, vt->nkey, key);
    return rc ? msq_fail(vt, rc) : SQLITE_OK;
}

/* A delete entry for the key in vt->scratch. */
static int log_delete(msq_vtab *vt, const msq_buf *key)
{
    meru_row *k = NULL;
    int rc = meru_row_new(&k, vt->schema);
    for (size_t i = 0; !rc && i < vt->nkey; i++)
        rc = msq_copy_column(k, vt->scratch, (size_t)vt->key_cols[i]);
    msq_entry *e = rc ? NULL : entry_new(k, 1, key);
    if (!e) {
        meru_row_free(k);
        return SQLITE_NOMEM;
    }
    return tx_append(&vt->tx, e) ? SQLITE_NOMEM : SQLITE_OK;
}

/* The new row from argv[2..]: converted and validated. */
static int new_row(msq_vtab *vt, sqlite3_value **argv, int is_insert,
                   meru_row **out)
{
    meru_row *row = NULL;
    char *msg = NULL;
    int rc = meru_row_new(&row, vt->schema);
    if (rc)
        return SQLITE_NOMEM;
    for (size_t i = 0; i < vt->ncols; i++) {
        rc = msq_value_to_column(row, i, argv[2 + i], is_insert, &msg);
        if (rc) {
            meru_row_free(row);
            return refused(vt, rc, msg);
        }
    }
    rc = meru_row_validate(row);
    if (rc) {
        meru_row_free(row);
        return refused(vt, rc, sqlite3_mprintf("%s", meru_errmsg()));
    }
    *out = row;
    return SQLITE_OK;
}

int msq_update(sqlite3_vtab *base, int argc, sqlite3_value **argv,
               sqlite3_int64 *rowid)
{
    msq_vtab *vt = (msq_vtab *)base;
    msq_buf oldk = {0}, newk = {0};
    meru_row *row = NULL;
    int rc;
    (void)rowid;
    if (vt->h->read_only)
        return fail_msg(vt, SQLITE_READONLY,
                        sqlite3_mprintf("merutable: table %s was opened "
                                        "'readonly'",
                                        vt->name));
    int is_insert = argc > 1 && sqlite3_value_type(argv[0]) == SQLITE_NULL;
    if (!is_insert) {
        rc = old_key(vt, argv[0], &oldk);
        if (rc)
            goto done;
    }
    if (argc == 1) { /* DELETE */
        rc = log_delete(vt, &oldk);
        goto done;
    }
    rc = new_row(vt, argv, is_insert, &row);
    if (rc)
        goto done;
    if (msq_key_encode(vt->schema, row, vt->nkey, &newk)) {
        rc = msq_fail(vt, MERU_EINVAL);
        goto done;
    }
    int moved = is_insert || msq_bytes_cmp(oldk.p, oldk.n, newk.p, newk.n);
    if (moved && sqlite3_vtab_on_conflict(vt->db) != SQLITE_REPLACE) {
        int exists = 0;
        rc = key_exists(vt, &newk, row, &exists);
        if (rc) {
            rc = msq_fail(vt, rc);
            goto done;
        }
        if (exists) {
            rc = unique_failed(vt);
            goto done;
        }
    }
    if (moved && !is_insert) {
        rc = log_delete(vt, &oldk);
        if (rc)
            goto done;
    }
    msq_entry *e = entry_new(row, 0, &newk);
    if (!e) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    row = NULL; /* the entry owns it */
    rc = tx_append(&vt->tx, e) ? SQLITE_NOMEM : SQLITE_OK;
done:
    meru_row_free(row);
    msq_buf_free(&oldk);
    msq_buf_free(&newk);
    return rc;
}

/* ----------------------------------------------------------- transactions */

/* Applies the log as one batch. */
static int apply(msq_vtab *vt)
{
    msq_tx *tx = &vt->tx;
    meru_write_batch *b = NULL;
    if (!tx->nlog)
        return SQLITE_OK;
    int rc = meru_write_batch_new(&b, vt->schema);
    for (size_t i = 0; !rc && i < tx->nlog; i++)
        rc = tx->log[i]->is_delete ? meru_write_batch_delete(b, tx->log[i]->row)
                                   : meru_write_batch_put(b, tx->log[i]->row);
    if (!rc)
        rc = meru_write(vt->h->db, b, NULL);
    meru_write_batch_free(b);
    return rc ? msq_fail(vt, rc) : SQLITE_OK;
}

int msq_begin(sqlite3_vtab *base)
{
    msq_vtab *vt = (msq_vtab *)base;
    tx_truncate(&vt->tx, 0);
    vt->tx.nmarks = 0;
    vt->tx.open = 1;
    vt->tx.synced = 0;
    return SQLITE_OK;
}

int msq_sync(sqlite3_vtab *base)
{
    msq_vtab *vt = (msq_vtab *)base;
    if (!vt->tx.open || vt->tx.synced)
        return SQLITE_OK;
    int rc = apply(vt);
    if (rc == SQLITE_OK)
        vt->tx.synced = 1;
    return rc;
}

int msq_commit(sqlite3_vtab *base)
{
    msq_vtab *vt = (msq_vtab *)base;
    /* SQLite calls xSync first; its result decided the commit. */
    if (vt->tx.open && !vt->tx.synced)
        apply(vt);
    tx_truncate(&vt->tx, 0);
    vt->tx.nmarks = 0;
    vt->tx.open = 0;
    return SQLITE_OK;
}

int msq_rollback(sqlite3_vtab *base)
{
    msq_vtab *vt = (msq_vtab *)base;
    tx_truncate(&vt->tx, 0);
    vt->tx.nmarks = 0;
    vt->tx.open = 0;
    return SQLITE_OK;
}

int msq_savepoint(sqlite3_vtab *base, int i)
{
    msq_tx *tx = &((msq_vtab *)base)->tx;
    if (i < 0)
        return SQLITE_OK;
    if (i >= tx->capmarks) {
        int cap = tx->capmarks ? tx->capmarks : 8;
        while (cap <= i)
            cap *= 2;
        size_t *m = sqlite3_realloc64(tx->marks, (size_t)cap * sizeof *m);
        if (!m)
            return SQLITE_NOMEM;
        tx->marks = m;
        tx->capmarks = cap;
    }
    /* Savepoints SQLite skipped (opened before this table joined the
     * transaction) start where the log started: empty. */
    for (int k = tx->nmarks; k < i; k++)
        tx->marks[k] = 0;
    tx->marks[i] = tx->nlog;
    tx->nmarks = i + 1;
    return SQLITE_OK;
}

int msq_release(sqlite3_vtab *base, int i)
{
    msq_tx *tx = &((msq_vtab *)base)->tx;
    if (i >= 0 && i < tx->nmarks)
        tx->nmarks = i;
    return SQLITE_OK;
}

int msq_rollback_to(sqlite3_vtab *base, int i)
{
    msq_tx *tx = &((msq_vtab *)base)->tx;
    if (i < 0 || i >= tx->nmarks)
        return SQLITE_OK;
    tx_truncate(tx, tx->marks[i]);
    tx->nmarks = i + 1; /* the savepoint itself stays open */
    return SQLITE_OK;
}
