/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_changes.c — the change feed's part of a version: the changelog
 * files (one per flush, engine/db_changes.c writes them) and the floor.
 *
 * Invariants (checked at every commit as MERU_EINVAL and on open as
 * MERU_ECORRUPT): paths relative, without "..", unique; min-seq <= max-seq
 * <= last-sequence; files sorted by sequence with disjoint ranges, every
 * range above the floor; floor <= last-sequence; a commit never lowers the
 * floor. The floor is what makes "the feed from N is complete" checkable:
 * every change with a sequence above it is in a listed file or was not
 * flushed when the version was written.
 *
 * Not here: which files expire (the engine's retention), the files'
 * contents.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_internal.h"
#include "util/error.h"

void meru_catalog_changelog_clear(meru_catalog_changelog *c)
{
    free(c->path);
    memset(c, 0, sizeof *c);
}

int meru_catalog_changelog_copy(meru_catalog_changelog *dst,
                                const meru_catalog_changelog *src)
{
    *dst = *src;
    dst->path = src->path ? strdup(src->path) : NULL;
    if (src->path && !dst->path)
        return meru_err(MERU_ENOMEM, "catalog: changelog: out of memory");
    return MERU_OK;
}

void meru_catalog_changes_clear(meru_catalog *cat)
{
    for (size_t i = 0; i < cat->nchanges; i++)
        meru_catalog_changelog_clear(&cat->changes[i]);
    free(cat->changes);
    cat->changes = NULL;
    cat->nchanges = 0;
}

int meru_catalog_changes_clone(meru_catalog *dst, const meru_catalog *src)
{
    dst->changes_floor = src->changes_floor;
    dst->changes = calloc(src->nchanges + 1, sizeof *dst->changes);
    if (!dst->changes)
        return meru_err(MERU_ENOMEM, "catalog: changelog: out of memory");
    for (; dst->nchanges < src->nchanges; dst->nchanges++) {
        int rc = meru_catalog_changelog_copy(&dst->changes[dst->nchanges],
                                             &src->changes[dst->nchanges]);
        if (rc)
            return rc;
    }
    return MERU_OK;
}

const meru_catalog_changelog *meru_catalog_changelogs(const meru_catalog *cat,
                                                      size_t *n)
{
    *n = cat->nchanges;
    return cat->changes;
}

uint64_t meru_catalog_changes_floor(const meru_catalog *cat)
{
    return cat->changes_floor;
}

int meru_catalog_edit_add_changelog(meru_catalog_edit *e,
                                    const meru_catalog_changelog *file)
{
    if (!file->path)
        return meru_err(MERU_EINVAL, "catalog edit: changelog without a path");
    if (e->nchadds == e->capchadds) {
        size_t cap = e->capchadds ? 2 * e->capchadds : 4;
        meru_catalog_changelog *p = realloc(e->chadds, cap * sizeof *p);
        if (!p)
            return meru_err(MERU_ENOMEM, "catalog edit: out of memory");
        e->chadds = p;
        e->capchadds = cap;
    }
    int rc = meru_catalog_changelog_copy(&e->chadds[e->nchadds], file);
    if (rc == MERU_OK)
        e->nchadds++;
    return rc;
}

int meru_catalog_edit_remove_changelog(meru_catalog_edit *e, const char *path)
{
    if (e->nchremoves == e->capchremoves) {
        size_t cap = e->capchremoves ? 2 * e->capchremoves : 4;
        char **p = realloc(e->chremoves, cap * sizeof *p);
        if (!p)
            return meru_err(MERU_ENOMEM, "catalog edit: out of memory");
        e->chremoves = p;
        e->capchremoves = cap;
    }
    if (!(e->chremoves[e->nchremoves] = strdup(path)))
        return meru_err(MERU_ENOMEM, "catalog edit: out of memory");
    e->nchremoves++;
    return MERU_OK;
}

void meru_catalog_edit_set_changes_floor(meru_catalog_edit *e, uint64_t floor)
{
    e->has_floor = 1;
    e->floor = floor;
}

void meru_catalog_changes_edit_free(meru_catalog_edit *e)
{
    for (size_t i = 0; i < e->nchadds; i++)
        meru_catalog_changelog_clear(&e->chadds[i]);
    free(e->chadds);
    for (size_t i = 0; i < e->nchremoves; i++)
        free(e->chremoves[i]);
    free(e->chremoves);
}

static int by_seq(const void *pa, const void *pb)
{
    const meru_catalog_changelog *a = pa, *b = pb;
    return a->min_seq < b->min_seq ? -1 : a->min_seq > b->min_seq;
}

static int bad_path(const char *p)
{
    return !p || !*p || p[0] == '/' || strstr(p, "..") ||
           strlen(p) > MERU_CATALOG_MAX_PATH;
}

int meru_catalog_changes_check(meru_catalog *cat, int code)
{
    if (cat->changes_floor > cat->last_sequence)
        return meru_err(code,
                        "catalog: change feed floor %llu is above the "
                        "last sequence %llu",
                        (unsigned long long)cat->changes_floor,
                        (unsigned long long)cat->last_sequence);
    if (cat->nchanges > 1)
        qsort(cat->changes, cat->nchanges, sizeof *cat->changes, by_seq);
    for (size_t i = 0; i < cat->nchanges; i++) {
        const meru_catalog_changelog *c = &cat->changes[i];
        if (bad_path(c->path))
            return meru_err(code,
                            "catalog: changelog path \"%.200s\" is not "
                            "a relative path inside the table",
                            c->path ? c->path : "");
        if (c->min_seq > c->max_seq || c->max_seq > cat->last_sequence ||
            c->min_seq <= cat->changes_floor)
            return meru_err(code,
                            "catalog: changelog %.200s: sequences "
                            "%llu..%llu outside (floor %llu, last %llu]",
                            c->path, (unsigned long long)c->min_seq,
                            (unsigned long long)c->max_seq,
                            (unsigned long long)cat->changes_floor,
                            (unsigned long long)cat->last_sequence);
        if (i && cat->changes[i - 1].max_seq >= c->min_seq)
            return meru_err(code,
                            "catalog: changelogs %.200s and %.200s "
                            "overlap",
                            cat->changes[i - 1].path, c->path);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(cat->changes[j].path, c->path))
                return meru_err(code,
                                "catalog: changelog %.200s listed "
                                "twice",
                                c->path);
    }
    return MERU_OK;
}

int meru_catalog_changes_apply(meru_catalog *n, const meru_catalog_edit *e)
{
    for (size_t r = 0; r < e->nchremoves; r++) {
        size_t i = 0;
        while (i < n->nchanges && strcmp(n->changes[i].path, e->chremoves[r]))
            i++;
        if (i == n->nchanges)
            return meru_err(MERU_EINVAL,
                            "catalog commit: removed changelog "
                            "\"%.200s\" is not in the table",
                            e->chremoves[r]);
        meru_catalog_changelog_clear(&n->changes[i]);
        memmove(&n->changes[i], &n->changes[i + 1],
                (n->nchanges - i - 1) * sizeof *n->changes);
        n->nchanges--;
    }
    if (e->nchadds) {
        meru_catalog_changelog *p =
            realloc(n->changes, (n->nchanges + e->nchadds + 1) * sizeof *p);
        if (!p)
            return meru_err(MERU_ENOMEM, "catalog commit: out of memory");
        n->changes = p;
        for (size_t i = 0; i < e->nchadds; i++) {
            int rc = meru_catalog_changelog_copy(&n->changes[n->nchanges],
                                                 &e->chadds[i]);
            if (rc)
                return rc;
            n->nchanges++;
        }
    }
    if (e->has_floor) {
        if (e->floor < n->changes_floor)
            return meru_err(MERU_EINVAL, "catalog commit: the change feed "
                                         "floor would go back");
        n->changes_floor = e->floor;
    }
    return meru_catalog_changes_check(n, MERU_EINVAL);
}
