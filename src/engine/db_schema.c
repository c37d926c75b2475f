/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_schema.c — the handle's schemas and schema changes: meru_add_column,
 * the additive schema given to meru_open, read-only handles following the
 * writer's schema, and which rows fit the table.
 *
 * A schema change is a new schema of the table (catalog.h: a new
 * schema-id, current-schema-id moved, no snapshot), not an edit of the old
 * one. The handle keeps every schema it has had until it is freed, so a
 * schema pointer handed out by meru_db_schema() stays valid for the life
 * of the handle, and rows made on it stay usable: their columns are the
 * first columns of every later schema (columns are only appended).
 *
 * The protocol of a change on a writer (meru_add_column), in order:
 *  1. under schema_mu (one change at a time) build the next schema from
 *     the catalog's current one plus the column (field id last-column-id
 *     + 1) and check it under the table's rules (catalog_schema.c);
 *  2. close the write window (schema_changing, under mu) and wait until
 *     no write is inside it: every row being encoded under the old schema
 *     has been committed;
 *  3. commit the catalog version with the new schema;
 *  4. under mu, make it current and install a new view, then reopen the
 *     window.
 * Hence every row committed after step 4 was encoded under the new schema
 * (a row of the old schema takes the new column's write default, else
 * null), and every row committed before it under the old one (it reads
 * the new column's initial default, else null): the write default goes to
 * rows written after the change, the initial default to rows written
 * before, whatever the threads do. A failure in 3 reopens the window with
 * the old schema; nothing changed.
 *
 * Reads use their view's schema (db_internal.h): a view made after the
 * change has the new schema; one made before keeps the old one (its rows
 * lack the new column), and rows it may meet that were written under the
 * new one are decoded with the columns it knows (rowcodec.h,
 * MERU_ROWCODEC_SKIP_UNKNOWN).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "types/row.h"
#include "util/error.h"

const meru_schema *meru_db_schema(const meru_db *db)
{
    return db ? meru_db_cur_schema(db) : NULL;
}

int meru_db_adopt_schema_locked(meru_db *db, const meru_schema *s)
{
    meru_schema *c = NULL;
    meru_schema **np = realloc(db->schemas, (db->nschemas + 1) * sizeof *np);
    if (!np)
        return meru_err(MERU_ENOMEM, "out of memory (schema)");
    db->schemas = np;
    int rc = meru_schema_clone(&c, s);
    if (rc)
        return rc;
    db->schemas[db->nschemas++] = c;
    atomic_store_explicit(&db->schema, c, memory_order_release);
    return MERU_OK;
}

/* ------------------------------------------------------------ row checks */

/* Whether the first n columns of `a` are those of `b` (name, type, field
 * id, key position): a row of `a` can be read and written as one of `b`. */
static bool leading_columns(const meru_schema *a, size_t n,
                            const meru_schema *b)
{
    if (n > a->ncols || n > b->ncols || a->nkey != b->nkey)
        return false;
    for (size_t i = 0; i < n; i++)
        if (a->cols[i].type != b->cols[i].type ||
            a->cols[i].field_id != b->cols[i].field_id ||
            a->cols[i].key_position != b->cols[i].key_position ||
            strcmp(a->cols[i].name, b->cols[i].name))
            return false;
    return true;
}

int meru_db_row_fits(const meru_schema *s, const meru_row *row,
                     const char *what)
{
    const meru_schema *rs = meru_row_schema(row);
    if (rs == s || (rs && leading_columns(rs, row->ncols, s)))
        return MERU_OK;
    return meru_err(MERU_ESCHEMA,
                    "%s: the row was made for a different schema than the "
                    "table's (make rows with meru_row_new on "
                    "meru_db_schema())",
                    what);
}

/* -------------------------------------------------------- schema changes */

/* Closes the write window and waits until no write is inside it (step 2).
 * MERU_ECLOSED when the handle closes meanwhile (the window is reopened). */
static int close_window(meru_db *db)
{
    int rc = MERU_OK;
    pthread_mutex_lock(&db->mu);
    atomic_store(&db->schema_changing, true);
    while (atomic_load(&db->writes_in_flight) > 0 && !db->closed)
        pthread_cond_wait(&db->cv_done, &db->mu);
    if (db->closed) {
        atomic_store(&db->schema_changing, false);
        pthread_cond_broadcast(&db->cv_done);
        rc = meru_err(MERU_ECLOSED, "the table is closed");
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

/* Step 4 (cat_mu held): the catalog's new current schema becomes the
 * handle's, with a view of it; the window reopens. With rc != 0 only the
 * window reopens. */
static int publish_schema(meru_db *db, int rc)
{
    meru_view *old = NULL;
    pthread_mutex_lock(&db->mu);
    if (rc == MERU_OK)
        rc = meru_db_adopt_schema_locked(db, meru_catalog_schema(db->cat));
    if (rc == MERU_OK)
        rc = meru_db_install_view_locked(db, &old);
    if (rc) {
        /* The catalog holds the new schema but the handle could not take
         * it: no row may be written under the old one now. */
        if (meru_catalog_current_schema_id(db->cat) !=
            meru_db_cur_schema(db)->schema_id) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s", meru_errmsg());
            meru_db_set_bg_error_locked(db, rc);
            rc = meru_err(rc, "%s", msg);
        }
    }
    atomic_store(&db->schema_changing, false);
    pthread_cond_broadcast(&db->cv_done);
    pthread_mutex_unlock(&db->mu);
    meru_db_view_unref(old);
    return rc;
}

/* Commits `next` (checked) as the table's new schema and publishes it:
 * steps 2 to 4. schema_mu held. */
static int change_schema(meru_db *db, const meru_schema *next)
{
    meru_catalog_edit *e = NULL;
    int rc = close_window(db);
    if (rc)
        return rc;
    pthread_mutex_lock(&db->cat_mu);
    rc = meru_catalog_edit_new(db->cat, &e);
    if (rc == MERU_OK)
        rc = meru_catalog_edit_add_schema(e, next);
    if (rc == MERU_OK)
        rc = meru_catalog_commit(db->cat, e);
    if (rc == MERU_OK) /* what meru_stats_get reports (db_internal.h) */
        atomic_store_explicit(&db->meta_version,
                              meru_catalog_version(db->cat),
                              memory_order_relaxed);
    meru_catalog_edit_free(e);
    rc = publish_schema(db, rc);
    pthread_mutex_unlock(&db->cat_mu);
    return rc;
}

/* The next schema: the catalog's current one plus the column of `def`,
 * whose field id (0) becomes last-column-id + 1. cat_mu held. */
static int next_with_column(meru_db *db, const meru_column_def *def,
                            meru_schema **out)
{
    meru_schema *next = NULL;
    meru_column_def d = *def;
    int rc = meru_schema_clone(&next, meru_catalog_schema(db->cat));
    if (rc)
        return rc;
    if (d.field_id == 0) {
        int32_t last = meru_catalog_last_column_id(db->cat);
        if (last >= MERU_RESERVED_FIELD_ID_BASE - 1) {
            meru_schema_free(next);
            return meru_err(MERU_ESCHEMA,
                            "meru_add_column: no field id left (the table's "
                            "last-column-id is %d)",
                            (int)last);
        }
        d.field_id = last + 1;
    }
    rc = meru_schema_add_column_def(next, &d);
    if (rc == MERU_OK)
        rc = meru_catalog_check_schema_change(db->cat, next);
    if (rc < 0) {
        meru_schema_free(next);
        return meru_err_wrap(rc, "meru_add_column");
    }
    *out = next;
    return MERU_OK;
}

int meru_add_column(meru_db *db, const meru_column_def *def)
{
    meru_schema *next = NULL;
    int rc;
    if (!db || !def)
        return meru_err(MERU_EINVAL, "meru_add_column: NULL argument");
    if ((rc = meru_db_check_open(db)))
        return rc;
    if (db->read_only)
        return meru_err(MERU_EREADONLY,
                        "meru_add_column: the table is open read-only");
    pthread_mutex_lock(&db->schema_mu);
    pthread_mutex_lock(&db->cat_mu);
    rc = next_with_column(db, def, &next);
    pthread_mutex_unlock(&db->cat_mu);
    if (rc == MERU_OK)
        rc = change_schema(db, next);
    pthread_mutex_unlock(&db->schema_mu);
    meru_schema_free(next);
    return rc;
}

/* ------------------------------------------------------------------ open */

/* The table's current schema with the columns `given` adds after its own
 * (their definitions as given): the stored columns keep their stored
 * defaults. */
static int extended(const meru_schema *stored, const meru_schema *given,
                    meru_schema **out)
{
    meru_schema *next = NULL;
    int rc = meru_schema_clone(&next, stored);
    for (size_t i = stored->ncols; rc == MERU_OK && i < given->ncols; i++) {
        meru_column_def d;
        rc = meru_schema_column_def(given, i, &d);
        if (rc == MERU_OK)
            rc = meru_schema_add_column_def(next, &d);
    }
    if (rc) {
        meru_schema_free(next);
        return rc;
    }
    *out = next;
    return MERU_OK;
}

/* Whether `given` has the columns of one of the table's older schemas
 * (the application's schema from before a meru_add_column). */
static bool older_schema(const meru_catalog *cat, const meru_schema *given)
{
    size_t n;
    const meru_schema *const *all = meru_catalog_schemas(cat, &n);
    for (size_t i = 0; i < n; i++) {
        const meru_schema *o = all[i];
        if (o->ncols != given->ncols || !leading_columns(given, o->ncols, o))
            continue;
        size_t c = 0;
        while (c < o->ncols && o->cols[c].nullable == given->cols[c].nullable)
            c++;
        if (c == o->ncols)
            return true;
    }
    return false;
}

int meru_db_settle_schema(meru_db *db, const meru_schema *given)
{
    meru_schema *next = NULL;
    int rc;
    if (given) {
        if ((rc = meru_schema_validate(given)))
            /* running out of memory while checking says so, not "bad
             * schema" */
            return rc == MERU_ENOMEM
                       ? rc
                       : meru_err(MERU_ESCHEMA, "%s", meru_errmsg());
        if (given->ncols < meru_catalog_schema(db->cat)->ncols &&
            older_schema(db->cat, given))
            return meru_db_adopt_schema_locked(db,
                                               meru_catalog_schema(db->cat));
        rc = meru_catalog_check_schema_change(db->cat, given);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            if (db->read_only)
                return meru_err(MERU_EREADONLY,
                                "schema: adding columns needs a writer");
            if ((rc = extended(meru_catalog_schema(db->cat), given, &next)))
                return rc;
            meru_catalog_edit *e = NULL;
            rc = meru_catalog_edit_new(db->cat, &e);
            if (rc == MERU_OK)
                rc = meru_catalog_edit_add_schema(e, next);
            if (rc == MERU_OK)
                rc = meru_catalog_commit(db->cat, e);
            meru_catalog_edit_free(e);
            meru_schema_free(next);
            if (rc)
                return rc;
        }
    }
    return meru_db_adopt_schema_locked(db, meru_catalog_schema(db->cat));
}

int meru_db_follow_schema_locked(meru_db *db)
{
    const meru_schema *cs = meru_catalog_schema(db->cat);
    const meru_schema *mine = meru_db_cur_schema(db);
    if (cs->schema_id == mine->schema_id && cs->ncols == mine->ncols)
        return MERU_OK;
    /* The writer only adds columns; a catalog that does not extend ours
     * (rolled back past a version, or rewritten) cannot be followed. */
    if (!leading_columns(mine, mine->ncols, cs))
        return meru_err(MERU_ESCHEMA,
                        "refresh: the table's schema %d does not extend the "
                        "schema %d this handle opened with",
                        (int)cs->schema_id, (int)mine->schema_id);
    return meru_db_adopt_schema_locked(db, cs);
}
