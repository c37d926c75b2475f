/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_props.c — table properties on an open table (meru_set_property,
 * meru_get_property) and meru_describe_json.
 *
 * A property change is one catalog commit (under cat_mu, like every
 * commit), and a table-shaping one then updates db->opts under mu, so a
 * flush or compaction starting afterwards writes with it; one already
 * running finishes with the options it started with (it copied them under
 * mu: meru_db_options_copy). Which keys are allowed and what they set is
 * table_props.c's business.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/db_internal.h"
#include "engine/table_props.h"
#include "util/error.h"

void meru_db_options_copy(meru_db *db, meru_options *out)
{
    pthread_mutex_lock(&db->mu);
    *out = db->opts;
    pthread_mutex_unlock(&db->mu);
}

int meru_set_property(meru_db *db, const char *key, const char *value)
{
    meru_catalog_edit *e = NULL;
    meru_options next;
    int rc;
    if (!db || !key)
        return meru_err(MERU_EINVAL, "meru_set_property: NULL argument");
    if ((rc = meru_db_check_open(db)))
        return rc;
    if (db->read_only)
        return meru_err(MERU_EREADONLY, "meru_set_property: the table is "
                                        "open read-only");
    pthread_mutex_lock(&db->cat_mu);
    meru_db_options_copy(db, &next);
    const meru_prop_def *d = meru_prop_find(key);
    if (d && !value) {
        /* Removed: back to what this handle was opened with. */
        meru_prop_copy_field(d, &next, &db->open_opts);
        rc = meru_options_validate(&next);
        if (rc)
            rc = meru_err_wrap(MERU_EINVAL, "removing %s", key);
    } else {
        rc = meru_prop_check(key, value, &next);
    }
    if (rc == MERU_OK)
        rc = meru_catalog_edit_new(db->cat, &e);
    if (rc == MERU_OK)
        rc = meru_catalog_edit_set_property(e, key, value);
    if (rc == MERU_OK)
        rc = meru_catalog_commit(db->cat, e);
    if (rc == MERU_OK) /* what meru_stats_get reports (db_internal.h) */
        atomic_store_explicit(&db->meta_version,
                              meru_catalog_version(db->cat),
                              memory_order_relaxed);
    if (rc == MERU_OK && d) {
        /* Only the shaping field: the other fields are read without mu. */
        pthread_mutex_lock(&db->mu);
        meru_prop_copy_field(d, &db->opts, &next);
        pthread_mutex_unlock(&db->mu);
    }
    pthread_mutex_unlock(&db->cat_mu);
    meru_catalog_edit_free(e);
    return rc;
}

int meru_get_property(meru_db *db, const char *key, char **out)
{
    int rc = MERU_OK;
    if (!out)
        return meru_err(MERU_EINVAL, "meru_get_property: NULL out");
    *out = NULL;
    if (!db || !key)
        return meru_err(MERU_EINVAL, "meru_get_property: NULL argument");
    pthread_mutex_lock(&db->cat_mu);
    const char *v = db->cat ? meru_catalog_property(db->cat, key) : NULL;
    if (!v)
        rc = MERU_NOT_FOUND;
    else if (!(*out = strdup(v)))
        rc = meru_err(MERU_ENOMEM, "out of memory (property)");
    pthread_mutex_unlock(&db->cat_mu);
    return rc;
}

/* ---------------------------------------------------------------- describe */

static int jset(json_t *o, const char *k, json_t *v)
{
    return v && json_object_set_new(o, k, v) == 0 ? 0 : -1;
}

static int describe_schema(meru_db *db, json_t *root)
{
    char *text = NULL;
    const meru_schema *s = db->schema;
    int rc = meru_schema_to_json(s, &text);
    if (rc)
        return rc;
    json_t *js = json_loads(text, 0, NULL);
    meru_free(text);
    json_t *pk = json_array();
    int bad = jset(root, "schema", js) || !pk;
    for (size_t i = 0; !bad && i < meru_schema_key_count(s); i++)
        bad = json_array_append_new(
            pk, json_string(meru_schema_column_name(
                    s, (size_t)meru_schema_key_column(s, i))));
    if (jset(root, "primary-key", pk) || bad)
        return meru_err(MERU_ENOMEM, "out of memory (describe)");
    return MERU_OK;
}

/* Stored properties and the catalog's facts (under cat_mu). */
static int describe_catalog(meru_db *db, json_t *root)
{
    int bad = 0;
    json_t *props = json_object();
    pthread_mutex_lock(&db->cat_mu);
    if (!db->cat) {
        pthread_mutex_unlock(&db->cat_mu);
        json_decref(props);
        return meru_err(MERU_ECLOSED, "the table is closed");
    }
    size_t n = 0;
    const meru_catalog_kv *kv = meru_catalog_properties(db->cat, &n);
    for (size_t i = 0; props && !bad && i < n; i++)
        bad = jset(props, kv[i].key, json_string(kv[i].value));
    bad |= jset(root, "location",
                json_string(meru_catalog_location(db->cat)));
    bad |= jset(root, "uuid", json_string(meru_catalog_uuid(db->cat)));
    bad |= jset(root, "iceberg-format-version",
                json_integer(meru_catalog_iceberg_format_version(db->cat)));
    bad |= jset(root, "metadata-version",
                json_integer((json_int_t)meru_catalog_version(db->cat)));
    pthread_mutex_unlock(&db->cat_mu);
    bad |= jset(root, "properties", props);
    return bad ? meru_err(MERU_ENOMEM, "out of memory (describe)") : MERU_OK;
}

static int describe_options(meru_db *db, json_t *root)
{
    meru_options o;
    size_t n;
    char buf[32];
    int bad = 0;
    const meru_prop_def *d = meru_prop_defs(&n);
    json_t *opts = json_object();
    meru_db_options_copy(db, &o);
    for (size_t i = 0; opts && !bad && i < n; i++) {
        meru_prop_format(&d[i], &o, buf, sizeof buf);
        bad = jset(opts, d[i].key, json_string(buf));
    }
    if (jset(root, "options", opts) || bad)
        return meru_err(MERU_ENOMEM, "out of memory (describe)");
    return MERU_OK;
}

static int describe_sizes(meru_db *db, json_t *root)
{
    meru_stats st;
    int rc = meru_stats_get(db, &st), bad = 0;
    if (rc)
        return rc;
    json_t *levels = json_array();
    for (int l = 0; levels && !bad && l < st.levels && l < MERU_STATS_MAX_LEVELS;
         l++) {
        json_t *e = json_object();
        bad = !e || jset(e, "level", json_integer(l)) ||
              jset(e, "files", json_integer((json_int_t)st.level[l].files)) ||
              jset(e, "bytes", json_integer((json_int_t)st.level[l].bytes)) ||
              jset(e, "rows", json_integer((json_int_t)st.level[l].rows)) ||
              json_array_append_new(levels, e);
    }
    bad |= jset(root, "levels", levels);
    bad |= jset(root, "files", json_integer((json_int_t)st.total_files));
    bad |= jset(root, "bytes", json_integer((json_int_t)st.total_bytes));
    bad |= jset(root, "rows", json_integer((json_int_t)st.total_rows));
    return bad ? meru_err(MERU_ENOMEM, "out of memory (describe)") : MERU_OK;
}

int meru_describe_json(meru_db *db, char **out)
{
    int rc;
    if (!out)
        return meru_err(MERU_EINVAL, "meru_describe_json: NULL out");
    *out = NULL;
    if (!db)
        return meru_err(MERU_EINVAL, "meru_describe_json: NULL handle");
    json_t *root = json_object();
    if (!root || jset(root, "table",
                      json_string(meru_schema_table_name(db->schema)))) {
        json_decref(root);
        return meru_err(MERU_ENOMEM, "out of memory (describe)");
    }
    if ((rc = describe_catalog(db, root)) || (rc = describe_schema(db, root)) ||
        (rc = describe_options(db, root)) || (rc = describe_sizes(db, root))) {
        json_decref(root);
        return rc;
    }
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return meru_err(MERU_ENOMEM, "out of memory (describe)");
    /* jansson's allocator is malloc: meru_free releases it. */
    *out = text;
    return MERU_OK;
}
