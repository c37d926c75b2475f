/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_open.c — creating a table's catalog and opening it: the newest
 * durable metadata version (the hint names it; the listing of metadata/
 * decides), recovery of a torn or failed commit, rollback to an earlier
 * version (rules in catalog.h; the commit protocol is catalog.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "types/schema.h"
#include "util/clock.h"
#include "util/durable.h"
#include "util/error.h"

/* ---------------------------------------------------------- create / open */

/* Highest v<N>.metadata.json in metadata/ (0 if none or no dir) and the
 * sorted list of version numbers when `out` is given. */
static int list_versions(meru_fs *fs, const char *meta, uint64_t **out,
                         size_t *count)
{
    char **names = NULL;
    size_t n = 0;
    *count = 0;
    if (out)
        *out = NULL;
    int rc = meru_fs_list_names(fs, meta, &names, &n);
    if (rc == MERU_NOT_FOUND) {
        meru_err_clear();
        return MERU_OK;
    }
    if (rc)
        return rc;
    uint64_t *vs = calloc(n + 1, sizeof *vs);
    if (!vs) {
        meru_fs_names_free(names, n);
        return meru_catalog_nomem("open");
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = meru_catalog_parse_version_name(names[i]);
        if (v)
            vs[k++] = v;
    }
    meru_fs_names_free(names, n);
    /* Descending: insertion sort is fine for K-ish entries, but the
     * directory may hold many after a long outage of cleanup. */
    for (size_t i = 1; i < k; i++) {
        uint64_t x = vs[i];
        size_t j = i;
        while (j > 0 && vs[j - 1] < x) {
            vs[j] = vs[j - 1];
            j--;
        }
        vs[j] = x;
    }
    *count = k;
    if (out)
        *out = vs;
    else
        free(vs);
    return MERU_OK;
}

int meru_catalog_create(meru_fs *fs, const char *table_dir,
                        const meru_schema *schema,
                        const meru_catalog_options *opts, meru_catalog **out)
{
    *out = NULL;
    meru_catalog *cat = NULL;
    char *meta = NULL, *data = NULL;
    size_t nv = 0;
    int rc = meru_schema_validate(schema);
    if (rc)
        return rc;
    int fv = opts && opts->format_version ? opts->format_version
                                          : MERU_CATALOG_DEFAULT_FORMAT;
    if (fv != 2 && fv != 3)
        return meru_err(MERU_EINVAL,
                        "create table %s: Iceberg format version %d (2 or 3)",
                        table_dir, fv);
    if (!(meta = meru_catalog_join(table_dir, MERU_CATALOG_META_DIR)) ||
        !(data = meru_catalog_join(table_dir, MERU_CATALOG_DATA_DIR))) {
        rc = meru_catalog_nomem("create");
        goto fail;
    }
    if ((rc = list_versions(fs, meta, NULL, &nv)))
        goto fail;
    if (nv) {
        rc = meru_err(MERU_EEXIST,
                      "create table %s: it already has metadata "
                      "versions",
                      table_dir);
        goto fail;
    }
    if ((rc = meru_fs_mkdir_p(fs, meta)) || (rc = meru_fs_mkdir_p(fs, data)) ||
        (rc = meru_fs_sync_dir(fs, table_dir)) ||
        (rc = meru_durable_sync_parent(fs, table_dir)))
        goto fail;
    if (!(cat = calloc(1, sizeof *cat))) {
        rc = meru_catalog_nomem("create");
        goto fail;
    }
    cat->fs = fs;
    cat->current_snapshot_id = -1;
    cat->stats.hint_version = -1;
    meru_catalog_set_opts(cat, opts);
    if (!(cat->dir = strdup(table_dir))) {
        rc = meru_catalog_nomem("create");
        goto fail;
    }
    for (size_t i = 0; opts && i < opts->nprops; i++) {
        const meru_catalog_kv *kv = &opts->props[i];
        if (!kv->key || meru_catalog_reserved_property(kv->key) || !*kv->key ||
            strlen(kv->key) > 4096 || (kv->value && strlen(kv->value) > 4096)) {
            rc = meru_err(MERU_EINVAL,
                          "create table %s: bad or reserved "
                          "property \"%.64s\"",
                          table_dir, kv->key ? kv->key : "(null)");
            goto fail;
        }
        if ((rc = meru_catalog_set_prop(cat, kv->key, kv->value)))
            goto fail;
    }
    cat->format_version = fv;
    meru_schema *first = NULL;
    if ((rc = meru_catalog_new_uuid(cat->uuid)) ||
        (rc = meru_catalog_absolute_location(table_dir, &cat->location)) ||
        (rc = meru_schema_clone(&first, schema)))
        goto fail;
    first->schema_id = 0;
    if ((rc = meru_catalog_schemas_push(cat, first)))
        goto fail;
    cat->schema = first;
    cat->next_row_id = 0;
    cat->view = 1; /* an empty table: no snapshot is the exact view */
    if (!(cat->view_location = strdup(cat->location))) {
        rc = meru_catalog_nomem("create");
        goto fail;
    }
    cat->version = cat->max_disk_version = 1;
    cat->last_updated_ms = meru_clock_unix_ms();
    if ((rc = meru_catalog_write_version(cat, &cat->stats, &cat->failed)))
        goto fail;
    *out = cat;
    free(meta);
    free(data);
    return MERU_OK;
fail:
    meru_catalog_free(cat);
    free(meta);
    free(data);
    return rc;
}

static int64_t read_hint(meru_fs *fs, const char *meta)
{
    char *path = meru_catalog_join(meta, MERU_CATALOG_HINT_NAME);
    uint8_t *buf = NULL;
    size_t len = 0;
    int64_t v = -1;
    if (path && !meru_fs_read_all(fs, path, 32, &buf, &len)) {
        uint64_t x = 0;
        size_t i = 0;
        while (i < len && i < 19 && buf[i] >= '0' && buf[i] <= '9')
            x = x * 10 + (uint64_t)(buf[i++] - '0');
        while (i < len && (buf[i] == '\n' || buf[i] == ' '))
            i++;
        if (i > 0 && i == len && buf[0] != '\n')
            v = (int64_t)x;
    }
    free(buf);
    free(path);
    meru_err_clear();
    return v;
}

static int open_version(meru_fs *fs, const char *table_dir,
                        const meru_catalog_options *opts, bool rollback,
                        meru_catalog **out);

int meru_catalog_open(meru_fs *fs, const char *table_dir,
                      const meru_catalog_options *opts, meru_catalog **out)
{
    return open_version(fs, table_dir, opts, false, out);
}

int meru_catalog_open_rollback(meru_fs *fs, const char *table_dir,
                               const meru_catalog_options *opts,
                               meru_catalog **out)
{
    return open_version(fs, table_dir, opts, true, out);
}

static int open_version(meru_fs *fs, const char *table_dir,
                        const meru_catalog_options *opts, bool rollback,
                        meru_catalog **out)
{
    *out = NULL;
    char *meta = meru_catalog_join(table_dir, MERU_CATALOG_META_DIR);
    uint64_t *vs = NULL;
    size_t nv = 0;
    meru_catalog *cat = NULL;
    uint32_t skipped = 0;
    char first_err[256] = "";
    int rc;
    if (!meta)
        return meru_catalog_nomem("open");
    /* A version removed between the listing and the read (a writer's
     * cleanup racing a read-only open) sends us back to list again. */
    for (int attempt = 0; attempt < 3 && !cat; attempt++) {
        size_t missing = 0;
        free(vs);
        vs = NULL;
        skipped = 0;
        first_err[0] = 0;
        if ((rc = list_versions(fs, meta, &vs, &nv)))
            goto done;
        if (nv == 0) {
            rc = meru_err(MERU_NOT_FOUND,
                          "open table %s: no metadata version in %s", table_dir,
                          meta);
            goto done;
        }
        for (size_t i = 0; i < nv; i++) {
            char *name = meru_catalog_version_name(vs[i]);
            char *path = name ? meru_catalog_join(meta, name) : NULL;
            uint8_t *buf = NULL;
            size_t len = 0;
            free(name);
            if (!path) {
                rc = meru_catalog_nomem("open");
                goto done;
            }
            rc = meru_fs_read_all(fs, path, MERU_CATALOG_MAX_METADATA, &buf,
                                  &len);
            if (rc == MERU_ERANGE)
                rc = meru_err(MERU_ECORRUPT, "metadata: larger than %u bytes",
                              MERU_CATALOG_MAX_METADATA);
            if (!rc)
                rc = meru_catalog_parse_metadata((const char *)buf, len, &cat);
            free(buf);
            if (rc == MERU_NOT_FOUND) {
                free(path);
                meru_err_clear();
                missing++;
                continue;
            }
            if (rc == MERU_ECORRUPT) {
                if (!first_err[0])
                    snprintf(first_err, sizeof first_err, "%s: %s", path,
                             meru_errmsg());
                if (!rollback) {
                    /* A commit makes its file durable before renaming it
                     * into place, so a damaged newest version is damage,
                     * not a torn write: say so and change nothing. */
                    rc = meru_err(MERU_ECORRUPT,
                                  "open table %s: the newest metadata version "
                                  "is damaged (%s); nothing was changed. "
                                  "Rolling back to the newest valid version "
                                  "loses the commits after it: that is a "
                                  "repair (meru repair)",
                                  table_dir, first_err);
                    free(path);
                    goto done;
                }
                free(path);
                skipped++;
                continue;
            }
            free(path);
            if (rc)
                goto done;
            cat->version = vs[i];
            break;
        }
        if (!missing)
            break;
    }
    if (!cat) {
        rc = meru_err(MERU_ECORRUPT,
                      "open table %s: none of the %zu metadata "
                      "versions is valid (newest error: %s)",
                      table_dir, nv, first_err);
        goto done;
    }
    cat->fs = fs;
    cat->max_disk_version = vs[0];
    cat->stats.versions_skipped = skipped;
    cat->stats.hint_version = read_hint(fs, meta);
    meru_catalog_set_opts(cat, opts);
    free(cat->view_location);
    cat->view_location = cat->location; /* where the view's paths point */
    cat->location = NULL;
    if (!(cat->dir = strdup(table_dir))) {
        rc = meru_catalog_nomem("open");
        goto done;
    }
    if ((rc = meru_catalog_absolute_location(table_dir, &cat->location)))
        goto done;
    /* A table opened at another place: its view points at the old one
     * and is rewritten whole at the next commit. */
    if (strcmp(cat->view_location, cat->location))
        cat->view = 0;
    *out = cat;
    cat = NULL;
done:
    meru_catalog_free(cat);
    free(vs);
    free(meta);
    return rc;
}
