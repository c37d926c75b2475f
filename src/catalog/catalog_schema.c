/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_schema.c — the table's schemas the Iceberg way: the list of every
 * schema the table has had ("schemas", each with its "schema-id"), which
 * one is current ("current-schema-id"), the highest field id ever assigned
 * ("last-column-id"), and the rules a new schema must follow to be added.
 *
 * Invariants of a catalog's state: schemas[] holds at least one schema,
 * ids unique, in the order they were added (ids ascending for the ones
 * merutable adds); `schema` points at one element of it (the current one);
 * last_column_id >= every field id of every schema. A schema in the list is
 * never changed: a change appends a new one with the next id (the highest
 * id + 1) and moves the current id to it, so snapshots made before keep
 * naming the schema their rows were written under.
 *
 * The evolution rules (meru_catalog_check_schema_change) are Iceberg's for
 * the changes merutable supports, which are additions only: same primary
 * key; every current column kept as is (name, type, parameters,
 * nullability, field id); new columns at the end, with field ids above
 * last-column-id. Defaults are Iceberg v3: on a format-version 2 table a
 * new column must be optional without any default (v2 has no defaults, so
 * rows written before it could only read null); on v3 a NOT NULL new column
 * needs an initial default (the value rows written before it read).
 *
 * Not here: the JSON form of the list (catalog_json.c), rows and files
 * (the engine decides which schema each read uses).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "types/schema.h"
#include "util/error.h"

void meru_catalog_schemas_free(meru_catalog *cat)
{
    for (size_t i = 0; i < cat->nschemas; i++)
        meru_schema_free(cat->schemas[i]);
    free(cat->schemas);
    cat->schemas = NULL;
    cat->nschemas = 0;
    cat->schema = NULL;
}

int meru_catalog_schemas_push(meru_catalog *cat, meru_schema *s)
{
    meru_schema **np = realloc(cat->schemas, (cat->nschemas + 1) * sizeof *np);
    if (!np) {
        meru_schema_free(s);
        return meru_err(MERU_ENOMEM, "catalog: schemas: out of memory");
    }
    cat->schemas = np;
    np[cat->nschemas++] = s;
    for (size_t i = 0; i < s->ncols; i++)
        if (s->cols[i].field_id > cat->last_column_id)
            cat->last_column_id = s->cols[i].field_id;
    return MERU_OK;
}

int meru_catalog_schemas_copy(meru_catalog *dst, const meru_catalog *src)
{
    dst->last_column_id = src->last_column_id;
    dst->format_version = src->format_version;
    for (size_t i = 0; i < src->nschemas; i++) {
        meru_schema *c = NULL;
        int rc = meru_schema_clone(&c, src->schemas[i]);
        if (rc == MERU_OK)
            rc = meru_catalog_schemas_push(dst, c);
        if (rc)
            return rc;
        if (src->schemas[i] == src->schema)
            dst->schema = c;
    }
    return MERU_OK;
}

/* ---------------------------------------------------------------- rules */

static int same_column(const meru_column *a, const meru_column *b)
{
    return !strcmp(a->name, b->name) && a->type == b->type &&
           a->nullable == b->nullable && a->field_id == b->field_id &&
           a->fixed_length == b->fixed_length && a->precision == b->precision &&
           a->scale == b->scale;
}

/* A new column under the format version's default rules. */
static int check_new_column(const meru_catalog *cat, const meru_column *c)
{
    char lb[MERU_LABEL_MAX];
    meru_column_label(c, lb);
    if (c->field_id <= cat->last_column_id)
        return meru_err(MERU_ESCHEMA,
                        "schema: new %s has field id %d; new columns need "
                        "ids above the table's last-column-id %d",
                        lb, (int)c->field_id, (int)cat->last_column_id);
    if (cat->format_version < 3) {
        if (!c->nullable)
            return meru_err(MERU_ESCHEMA,
                            "schema: new %s is NOT NULL, which a "
                            "format-version %d table cannot add (rows written "
                            "before it would need an initial default, an "
                            "Iceberg v3 feature); add it as nullable, or use "
                            "a format-version 3 table",
                            lb, cat->format_version);
        if (c->initial_default_json || c->write_default_json)
            return meru_err(MERU_ESCHEMA,
                            "schema: new %s has a default; column defaults "
                            "(initial-default, write-default) are Iceberg "
                            "v3 and this table is format-version %d: add it "
                            "without a default, or use a format-version 3 "
                            "table",
                            lb, cat->format_version);
        return MERU_OK;
    }
    if (!c->nullable && c->initial_default.state != MERU_VALUE_PRESENT)
        return meru_err(MERU_ESCHEMA,
                        "schema: new %s is NOT NULL without an initial "
                        "default (the value of the rows written before it); "
                        "give it one, or make it nullable",
                        lb);
    return MERU_OK;
}

int meru_catalog_check_schema_change(const meru_catalog *cat,
                                     const meru_schema *next)
{
    const meru_schema *cur = cat->schema;
    size_t i;
    int rc = meru_schema_validate(next);
    if (rc)
        return meru_err(MERU_ESCHEMA, "%s", meru_errmsg());
    if (next->nkey != cur->nkey)
        return meru_err(MERU_ESCHEMA,
                        "schema: the table's primary key has %zu columns, "
                        "the given schema's %zu",
                        cur->nkey, next->nkey);
    for (i = 0; i < cur->nkey; i++)
        if (next->key_cols[i] != cur->key_cols[i])
            return meru_err(MERU_ESCHEMA,
                            "schema: primary key column %zu differs from the "
                            "table's",
                            i + 1);
    if (next->ncols < cur->ncols)
        return meru_err(MERU_ESCHEMA,
                        "schema: the table has %zu columns, the given schema "
                        "%zu (columns cannot be dropped)",
                        cur->ncols, next->ncols);
    for (i = 0; i < cur->ncols; i++)
        if (!same_column(&cur->cols[i], &next->cols[i]))
            return meru_err(MERU_ESCHEMA,
                            "schema: column %zu (\"%s\") differs from the "
                            "table's column \"%s\" (name, type, nullability "
                            "or field id)",
                            i + 1, next->cols[i].name, cur->cols[i].name);
    for (; i < next->ncols; i++)
        if ((rc = check_new_column(cat, &next->cols[i])))
            return rc;
    return next->ncols > cur->ncols;
}

int meru_catalog_add_schema_state(meru_catalog *n, const meru_schema *next)
{
    int rc = meru_catalog_check_schema_change(n, next);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return meru_err(MERU_EINVAL, "catalog commit: the new schema adds no "
                                     "column");
    int32_t id = 0;
    for (size_t i = 0; i < n->nschemas; i++)
        if (n->schemas[i]->schema_id >= id)
            id = n->schemas[i]->schema_id + 1;
    if (id < 0) /* the ids ran out (INT32_MAX was taken) */
        return meru_err(MERU_ERANGE, "catalog commit: no schema id left");
    meru_schema *c = NULL;
    if ((rc = meru_schema_clone(&c, next)))
        return rc;
    c->schema_id = id;
    if ((rc = meru_catalog_schemas_push(n, c)))
        return rc;
    n->schema = c;
    return MERU_OK;
}

/* -------------------------------------------------------------- accessors */

const meru_schema *const *meru_catalog_schemas(const meru_catalog *cat,
                                               size_t *n)
{
    *n = cat->nschemas;
    return (const meru_schema *const *)cat->schemas;
}

const meru_schema *meru_catalog_schema_by_id(const meru_catalog *cat,
                                             int32_t id)
{
    for (size_t i = 0; i < cat->nschemas; i++)
        if (cat->schemas[i]->schema_id == id)
            return cat->schemas[i];
    return NULL;
}

int32_t meru_catalog_current_schema_id(const meru_catalog *cat)
{
    return cat->schema->schema_id;
}

int32_t meru_catalog_last_column_id(const meru_catalog *cat)
{
    return cat->last_column_id;
}
