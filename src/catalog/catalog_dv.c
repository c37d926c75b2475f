/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_dv.c — the deletion vector of each data file, as the catalog
 * knows it, and how a commit changes it (SPEC §9).
 *
 * A data file's vector is the full set of its row positions that the
 * Iceberg view hides (older versions, tombstones, rows superseded by a
 * newer file). A commit may give a file a new vector; the new one must
 * contain the old one (positions are only ever added while the file
 * lives), which the commit checks so that an engine bug cannot resurrect a
 * row in the view.
 *
 * The map is kept outside the cloned version state: a commit clones the
 * file list, and cloning every vector at every commit would make commit
 * cost follow the table's size. Instead the edit's vectors are checked and
 * copied into `staged` before the version is written (where failing is
 * harmless) and moved into the map after it is durable (where nothing may
 * fail, so no allocation happens there).
 *
 * After a reopen the map starts empty: a file's vector is read from its
 * deletion file (the engine section records where: catalog_ice.c writes
 * it) the first time someone asks for it (meru_catalog_file_dv, or a
 * commit that changes it), then kept. Where vectors live on disk is
 * catalog_ice.c's business.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "util/error.h"

static int nomem(void)
{
    return meru_err(MERU_ENOMEM, "catalog: deletion vectors: out of memory");
}

static void entry_clear(meru_catalog_dv_entry *e)
{
    free(e->path);
    meru_dv_free(e->dv);
    e->path = NULL;
    e->dv = NULL;
}

void meru_catalog_dvmap_free(meru_catalog_dvmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        entry_clear(&m->e[i]);
    free(m->e);
    memset(m, 0, sizeof *m);
}

static int reserve(meru_catalog_dvmap *m, size_t need)
{
    if (need <= m->cap)
        return MERU_OK;
    size_t cap = m->cap ? m->cap : 8;
    while (cap < need)
        cap *= 2;
    meru_catalog_dv_entry *p = realloc(m->e, cap * sizeof *p);
    if (!p)
        return nomem();
    m->e = p;
    m->cap = cap;
    return MERU_OK;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const meru_catalog_dv_entry *)a)->path,
                  ((const meru_catalog_dv_entry *)b)->path);
}

static meru_catalog_dv_entry *lookup(const meru_catalog_dvmap *m,
                                     const char *path)
{
    meru_catalog_dv_entry key = {(char *)path, NULL};
    if (!m->n)
        return NULL;
    return bsearch(&key, m->e, m->n, sizeof *m->e, entry_cmp);
}

static const meru_catalog_file *find_file(const meru_catalog *c,
                                          const char *path)
{
    for (size_t i = 0; i < c->nfiles; i++)
        if (!strcmp(c->files[i].path, path))
            return &c->files[i];
    return NULL;
}

/* ---- the public part (catalog.h) ------------------------------------- */

int meru_catalog_edit_set_dv(meru_catalog_edit *e, const char *path,
                             const meru_dv *dv)
{
    meru_dv *copy = NULL;
    char *p = NULL;
    int rc;
    if (!path || !dv)
        return meru_err(MERU_EINVAL, "catalog edit: deletion vector without "
                                     "a path or a vector");
    for (size_t i = 0; i < e->dvs.n; i++)
        if (!strcmp(e->dvs.e[i].path, path))
            return meru_err(MERU_EINVAL,
                            "catalog edit: two deletion vectors for "
                            "\"%.200s\"",
                            path);
    if ((rc = reserve(&e->dvs, e->dvs.n + 1)))
        return rc;
    if ((rc = meru_dv_clone(&copy, dv)))
        return rc;
    if (!(p = strdup(path))) {
        meru_dv_free(copy);
        return nomem();
    }
    meru_dv_optimize(copy);
    e->dvs.e[e->dvs.n].path = p;
    e->dvs.e[e->dvs.n].dv = copy;
    e->dvs.n++;
    return MERU_OK;
}

int meru_catalog_dv_load(meru_catalog *cat, const meru_catalog_file *f)
{
    meru_dv *dv = NULL;
    char *p = NULL;
    int rc;
    if (!f->dv_path || lookup(&cat->dvs, f->path))
        return MERU_OK;
    if ((rc = meru_catalog_dv_read(cat, f, &dv)))
        return rc;
    if (!dv)
        return MERU_OK;
    if ((rc = reserve(&cat->dvs, cat->dvs.n + 1)) || !(p = strdup(f->path))) {
        meru_dv_free(dv);
        return rc ? rc : nomem();
    }
    cat->dvs.e[cat->dvs.n].path = p;
    cat->dvs.e[cat->dvs.n].dv = dv;
    cat->dvs.n++;
    if (cat->dvs.n > 1)
        qsort(cat->dvs.e, cat->dvs.n, sizeof *cat->dvs.e, entry_cmp);
    return MERU_OK;
}

int meru_catalog_file_dv(const meru_catalog *cat, const char *path,
                         meru_dv **out)
{
    const meru_catalog_dv_entry *e = lookup(&cat->dvs, path);
    *out = NULL;
    if (!e) {
        const meru_catalog_file *f = find_file(cat, path);
        if (!f || !f->dv_path)
            return MERU_OK;
        /* The map is a cache of what the files say: loading into it
         * does not change the catalog's state. */
        int rc = meru_catalog_dv_load((meru_catalog *)cat, f);
        if (rc)
            return rc;
        if (!(e = lookup(&cat->dvs, path)))
            return MERU_OK;
    }
    return meru_dv_clone(out, e->dv);
}

uint64_t meru_catalog_file_dv_cardinality(const meru_catalog *cat,
                                          const char *path)
{
    const meru_catalog_dv_entry *e = lookup(&cat->dvs, path);
    if (e)
        return meru_dv_cardinality(e->dv);
    const meru_catalog_file *f = find_file(cat, path);
    return f && f->dv_path ? f->dv_cardinality : 0;
}

/* ---- commit ---------------------------------------------------------- */

static bool edit_adds(const meru_catalog_edit *e, const char *path)
{
    for (size_t i = 0; i < e->nadds; i++)
        if (!strcmp(e->adds[i].path, path))
            return true;
    return false;
}

void meru_catalog_dvs_unstage(meru_catalog *cat)
{
    meru_catalog_dvmap_free(&cat->staged);
    free(cat->staged_drop);
    cat->staged_drop = NULL;
}

/* Marks the map entry of `path` (if any) in cat->staged_drop. */
static void mark_drop(meru_catalog *cat, const char *path)
{
    meru_catalog_dv_entry *e = lookup(&cat->dvs, path);
    if (e)
        cat->staged_drop[e - cat->dvs.e] = 1;
}

int meru_catalog_dvs_prepare(meru_catalog *cur, const meru_catalog *next,
                             const meru_catalog_edit *e)
{
    int rc;
    meru_catalog_dvs_unstage(cur);
    /* The old vectors the edit replaces must be in the map to be checked
     * (and before indexes into the map are taken below). */
    for (size_t i = 0; i < e->dvs.n; i++) {
        const meru_catalog_file *f = find_file(cur, e->dvs.e[i].path);
        if (f && (rc = meru_catalog_dv_load(cur, f)))
            return rc;
    }
    if (!e->dvs.n && !cur->dvs.n)
        return MERU_OK;
    for (size_t i = 0; i < e->dvs.n; i++) {
        const meru_catalog_dv_entry *d = &e->dvs.e[i];
        const meru_catalog_file *f = find_file(next, d->path);
        uint64_t max;
        if (!f)
            return meru_err(MERU_EINVAL,
                            "catalog commit: deletion vector for \"%.200s\", "
                            "which is not in the table",
                            d->path);
        if (meru_dv_max(d->dv, &max) && max >= f->row_count)
            return meru_err(MERU_EINVAL,
                            "catalog commit: deletion vector of \"%.200s\" "
                            "holds position %llu of a %llu-row file",
                            d->path, (unsigned long long)max,
                            (unsigned long long)f->row_count);
        const meru_catalog_dv_entry *old = lookup(&cur->dvs, d->path);
        if (old && !edit_adds(e, d->path) &&
            !meru_dv_is_subset(old->dv, d->dv))
            return meru_err(MERU_EINVAL,
                            "catalog commit: the new deletion vector of "
                            "\"%.200s\" drops positions of the old one",
                            d->path);
    }
    if ((rc = reserve(&cur->staged, e->dvs.n)) ||
        (rc = reserve(&cur->dvs, cur->dvs.n + e->dvs.n)))
        return rc;
    if (!(cur->staged_drop = calloc(cur->dvs.n + 1, 1)))
        return nomem();
    for (size_t r = 0; r < e->nremoves; r++)
        mark_drop(cur, e->removes[r]);
    for (size_t i = 0; i < e->dvs.n; i++)
        mark_drop(cur, e->dvs.e[i].path);
    for (size_t i = 0; i < e->dvs.n; i++) {
        meru_catalog_dv_entry *s = &cur->staged.e[i];
        if ((rc = meru_dv_clone(&s->dv, e->dvs.e[i].dv)))
            break;
        cur->staged.n++;
        if (!(s->path = strdup(e->dvs.e[i].path))) {
            rc = nomem();
            break;
        }
    }
    if (rc)
        meru_catalog_dvs_unstage(cur);
    return rc;
}

void meru_catalog_dvs_adopt(meru_catalog *cat, const meru_catalog_edit *e)
{
    meru_catalog_dvmap *m = &cat->dvs;
    size_t kept = 0;
    (void)e; /* prepare recorded what the edit drops and adds */
    if (!cat->staged_drop)
        return; /* nothing staged, no vector in the map */
    for (size_t i = 0; i < m->n; i++) {
        if (cat->staged_drop[i])
            entry_clear(&m->e[i]);
        else
            m->e[kept++] = m->e[i];
    }
    m->n = kept;
    /* prepare reserved room for every staged entry. */
    for (size_t s = 0; s < cat->staged.n; s++)
        m->e[m->n++] = cat->staged.e[s];
    cat->staged.n = 0;
    meru_catalog_dvs_unstage(cat);
    if (m->n > 1)
        qsort(m->e, m->n, sizeof *m->e, entry_cmp);
}
