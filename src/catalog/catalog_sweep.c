/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_sweep.c — the files a catalog references, and the orphan sweep:
 * files of data/L<n>/ and changes/ the current version does not reference
 * (a crash between writing a file and committing it leaves them), then
 * the view's files no kept version references, listed or removed (rules
 * in catalog.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "catalog/catalog_view.h"
#include "util/error.h"

/* ------------------------------------------------------------------ files */

void meru_catalog_paths_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

int meru_catalog_referenced_files(const meru_catalog *cat, char ***out,
                                  size_t *n)
{
    *out = NULL;
    *n = 0;
    char **p = calloc(2 * cat->nfiles + cat->nchanges + 1, sizeof *p);
    if (!p)
        return meru_catalog_nomem("referenced files");
    size_t k = 0;
    for (size_t i = 0; i < cat->nchanges; i++)
        if (!(p[k++] = strdup(cat->changes[i].path)))
            goto oom;
    for (size_t i = 0; i < cat->nfiles; i++) {
        if (!(p[k++] = strdup(cat->files[i].path)))
            goto oom;
        if (cat->files[i].dv_path && !(p[k++] = strdup(cat->files[i].dv_path)))
            goto oom;
    }
    qsort(p, k, sizeof *p, meru_catalog_strp_cmp);
    *out = p;
    *n = k;
    return MERU_OK;
oom:
    meru_catalog_paths_free(p, k);
    return meru_catalog_nomem("referenced files");
}

static int is_level_dir(const char *name)
{
    if (name[0] != 'L' || !name[1])
        return 0;
    for (const char *c = name + 1; *c; c++)
        if (*c < '0' || *c > '9')
            return 0;
    return 1;
}

/* Sweeps one directory: absdir holds files whose relative paths are
 * "<rel>/<name>". */
static int sweep_dir(meru_catalog *cat, int remove, const char *absdir,
                     const char *rel_dir, char **refs, size_t nrefs,
                     char ***orph, size_t *norph, size_t *caporph, int want)
{
    char **names = NULL;
    size_t nn = 0;
    int removed_any = 0;
    int rc = meru_fs_list_names(cat->fs, absdir, &names, &nn);
    if (rc == MERU_NOT_FOUND) {
        meru_err_clear();
        return MERU_OK;
    }
    for (size_t i = 0; !rc && i < nn; i++) {
        char rel[MERU_CATALOG_MAX_PATH + 64];
        int len = snprintf(rel, sizeof rel, "%s/%s", rel_dir, names[i]);
        if (len < 0 || (size_t)len >= sizeof rel)
            continue; /* cannot be one of ours */
        const char *key = rel;
        if (bsearch(&key, refs, nrefs, sizeof *refs, meru_catalog_strp_cmp))
            continue;
        char *full = meru_catalog_join(absdir, names[i]);
        meru_fs_info info;
        if (!full) {
            rc = meru_catalog_nomem("orphan sweep");
            break;
        }
        rc = meru_fs_stat(cat->fs, full, &info);
        if (!rc && !info.is_dir) {
            if (remove)
                rc = meru_fs_remove(cat->fs, full);
            removed_any |= remove && !rc;
            if (!rc && want) {
                rc = meru_catalog_grow((void **)orph, caporph, *norph + 1,
                                       sizeof **orph);
                if (!rc && !((*orph)[(*norph)++] = strdup(rel)))
                    rc = meru_catalog_nomem("orphan sweep");
            }
        }
        free(full);
    }
    if (!rc && removed_any)
        rc = meru_fs_sync_dir(cat->fs, absdir);
    meru_fs_names_free(names, nn);
    return rc;
}

int meru_catalog_sweep_orphans(meru_catalog *cat, int remove, char ***out,
                               size_t *n)
{
    char **refs = NULL, **dirs = NULL, **orph = NULL;
    size_t nrefs = 0, ndirs = 0, norph = 0, caporph = 0;
    char *data = meru_catalog_join(cat->dir, MERU_CATALOG_DATA_DIR);
    char *changes = meru_catalog_join(cat->dir, MERU_CATALOG_CHANGES_DIR);
    if (out)
        *out = NULL;
    if (n)
        *n = 0;
    int rc = data && changes ? MERU_OK : meru_catalog_nomem("orphan sweep");
    if (rc || (rc = meru_catalog_referenced_files(cat, &refs, &nrefs)))
        goto done;
    /* Changelog files of the change feed (a flush that crashed before its
     * commit leaves one). */
    if ((rc = sweep_dir(cat, remove, changes, MERU_CATALOG_CHANGES_DIR, refs,
                        nrefs, &orph, &norph, &caporph, out != NULL)))
        goto done;
    rc = meru_fs_list_names(cat->fs, data, &dirs, &ndirs);
    if (rc == MERU_NOT_FOUND) {
        meru_err_clear();
        rc = MERU_OK;
    }
    for (size_t d = 0; !rc && d < ndirs; d++) {
        if (!is_level_dir(dirs[d]))
            continue;
        char *ldir = meru_catalog_join(data, dirs[d]);
        char rel[MERU_CATALOG_MAX_PATH];
        snprintf(rel, sizeof rel, MERU_CATALOG_DATA_DIR "/%s", dirs[d]);
        rc = ldir ? sweep_dir(cat, remove, ldir, rel, refs, nrefs, &orph,
                              &norph, &caporph, out != NULL)
                  : meru_catalog_nomem("orphan sweep");
        free(ldir);
    }
    if (rc)
        goto done;
    {
        /* The view's own files (manifests, lists, deletion files). */
        char **vo = NULL;
        size_t nvo = 0;
        if ((rc = meru_catalog_view_sweep(cat, remove, out ? &vo : NULL, &nvo)))
            goto done;
        for (size_t i = 0; i < nvo && out; i++) {
            if ((rc = meru_catalog_grow((void **)&orph, &caporph, norph + 1,
                                        sizeof *orph))) {
                meru_catalog_paths_free(vo, nvo);
                goto done;
            }
            orph[norph++] = vo[i];
            vo[i] = NULL;
        }
        meru_catalog_paths_free(vo, nvo);
    }
    if (out) {
        if (norph > 1)
            qsort(orph, norph, sizeof *orph, meru_catalog_strp_cmp);
        *out = orph;
        *n = norph;
        orph = NULL;
        norph = 0;
    }
done:
    meru_catalog_paths_free(orph, norph);
    meru_catalog_paths_free(refs, nrefs);
    meru_fs_names_free(dirs, ndirs);
    free(data);
    free(changes);
    return rc;
}
