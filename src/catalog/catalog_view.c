/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_view.c — the Iceberg view read back from disk the way an Iceberg
 * reader reads it, the export of a self-contained copy, and the open-time
 * sweep of view files no kept metadata version references (catalog_view.h).
 *
 * The reader trusts nothing the engine section says about the view: it
 * walks the snapshot's manifest list and manifests, so `meru verify` and
 * the tests check what an external engine would see. Paths in manifests
 * are absolute under the location they were written with; the reader maps
 * them into the directory it was given by their "data/..." or
 * "metadata/..." tail, so a table that moved still reads.
 *
 * Delete rules applied (Iceberg spec, "Scan Planning"): a position delete
 * file or DV applies to a data file when its data sequence number is >=
 * the data file's; a DV names its one data file (referenced_data_file);
 * a position-delete file applies to every file whose path it lists. More
 * than one live DV for one data file is MERU_ECORRUPT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/catalog_internal.h"
#include "catalog/catalog_view.h"
#include "iceberg/manifest.h"
#include "iceberg/posdel.h"
#include "util/clock.h"
#include "util/error.h"

static int nomem(void)
{
    return meru_err(MERU_ENOMEM, "iceberg view: out of memory");
}

/* ================================================================ reader */

void meru_catalog_view_free(meru_catalog_view *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nsummary; i++) {
        free(v->summary[i].key);
        free(v->summary[i].value);
    }
    free(v->summary);
    for (size_t i = 0; i < v->nfiles; i++) {
        free(v->files[i].path);
        free(v->files[i].rel);
        meru_dv_free(v->files[i].dv);
    }
    free(v->files);
    for (size_t i = 0; i < v->ndelete_files; i++)
        free(v->delete_files[i]);
    free(v->delete_files);
    free(v);
}

const char *meru_catalog_view_summary(const meru_catalog_view *v,
                                      const char *key)
{
    for (size_t i = 0; i < v->nsummary; i++)
        if (!strcmp(v->summary[i].key, key))
            return v->summary[i].value;
    return NULL;
}

/* The I/O path of an absolute view path. */
static char *io_of(const char *dir, const char *abs)
{
    const char *rel = meru_catalog_rel_of(abs);
    if (!rel) {
        meru_err(MERU_ECORRUPT, "iceberg view: path %s is not under data/ "
                                "or metadata/",
                 abs);
        return NULL;
    }
    char *p = meru_catalog_join(dir, rel);
    if (!p)
        nomem();
    return p;
}

/* A delete entry waiting to be applied. */
typedef struct pending {
    int v3;
    char *file;    /* io path of the deletion file */
    char *abs;     /* its path in the manifest */
    char *ref;     /* DV: referenced data file (absolute) */
    int64_t off, len, card;
    int64_t seq;
} pending;

static int file_by_path(const meru_catalog_view *v, const char *path)
{
    for (size_t i = 0; i < v->nfiles; i++)
        if (!strcmp(v->files[i].path, path))
            return (int)i;
    return -1;
}

static int apply_dv(meru_catalog_view *v, size_t i, meru_dv *dv)
{
    meru_catalog_view_file *f = &v->files[i];
    if (!f->dv) {
        f->dv = dv;
        return MERU_OK;
    }
    int rc = meru_dv_union(f->dv, dv);
    meru_dv_free(dv);
    return rc;
}

static int add_delete_file(meru_catalog_view *v, const char *abs)
{
    const char *rel = meru_catalog_rel_of(abs);
    for (size_t i = 0; i < v->ndelete_files; i++)
        if (!strcmp(v->delete_files[i], rel))
            return MERU_OK;
    char **p = realloc(v->delete_files, (v->ndelete_files + 1) * sizeof *p);
    if (!p)
        return nomem();
    v->delete_files = p;
    if (!(p[v->ndelete_files] = strdup(rel)))
        return nomem();
    v->ndelete_files++;
    return MERU_OK;
}

static int apply_pending(meru_fs *fs, meru_catalog_view *v, pending *p,
                         size_t np)
{
    uint8_t *seen = calloc(v->nfiles + 1, 1);
    int rc = MERU_OK;
    if (!seen)
        return nomem();
    for (size_t k = 0; k < np && !rc; k++) {
        pending *d = &p[k];
        if ((rc = add_delete_file(v, d->abs)))
            break;
        if (d->v3) {
            int i = file_by_path(v, d->ref ? d->ref : "");
            if (i < 0)
                continue; /* a DV of a file not in the snapshot */
            if (seen[i]) {
                rc = meru_err(MERU_ECORRUPT,
                              "iceberg view: two deletion vectors for %s",
                              d->ref);
                break;
            }
            seen[i] = 1;
            if (d->seq < v->files[i].data_sequence_number)
                continue;
            meru_dv *dv = NULL;
            rc = meru_dv_read_blob(fs, d->file, (uint64_t)d->off,
                                   (uint64_t)d->len, d->ref,
                                   (uint64_t)d->card, &dv);
            if (!rc)
                rc = apply_dv(v, (size_t)i, dv);
            continue;
        }
        meru_posdel_file *pf = NULL;
        if ((rc = meru_posdel_read(fs, d->file, &pf)))
            break;
        if ((int64_t)pf->record_count != d->card)
            rc = meru_err(MERU_ECORRUPT,
                          "iceberg view: %s holds %llu positions, its "
                          "manifest entry says %lld",
                          d->file, (unsigned long long)pf->record_count,
                          (long long)d->card);
        for (size_t j = 0; !rc && j < pf->n; j++) {
            int i = file_by_path(v, pf->entries[j].data_file);
            if (i < 0 || d->seq < v->files[i].data_sequence_number)
                continue;
            rc = apply_dv(v, (size_t)i, pf->entries[j].dv);
            pf->entries[j].dv = NULL;
        }
        meru_posdel_file_free(pf);
    }
    free(seen);
    return rc;
}

static int load_manifests(meru_fs *fs, const char *dir, meru_catalog_view *v,
                          const meru_ice_manifest_list *l, pending **pp,
                          size_t *np)
{
    int rc = MERU_OK;
    size_t cap = 0;
    for (size_t m = 0; m < l->n_files && !rc; m++) {
        const meru_ice_manifest_file *mf = &l->files[m];
        meru_ice_manifest *man = NULL;
        char *io = io_of(dir, mf->manifest_path);
        if (!io)
            return MERU_ECORRUPT;
        rc = meru_ice_manifest_read(fs, io, 0, &man);
        free(io);
        if (rc)
            return meru_err_wrap(rc, "iceberg view: manifest %s",
                                 mf->manifest_path);
        v->nmanifests++;
        for (size_t i = 0; i < man->n_entries && !rc; i++) {
            const meru_ice_manifest_entry *e = &man->entries[i];
            const meru_ice_data_file *d = &e->data_file;
            if (e->status == MERU_ICE_STATUS_DELETED)
                continue;
            int64_t seq = e->has_sequence_number ? e->sequence_number
                                                 : mf->sequence_number;
            if (mf->content == MERU_ICE_MANIFEST_DATA) {
                if (d->content != MERU_ICE_CONTENT_DATA) {
                    rc = meru_err(MERU_ECORRUPT,
                                  "iceberg view: a delete file in data "
                                  "manifest %s",
                                  mf->manifest_path);
                    break;
                }
                meru_catalog_view_file *p =
                    realloc(v->files, (v->nfiles + 1) * sizeof *p);
                if (!p) {
                    rc = nomem();
                    break;
                }
                v->files = p;
                meru_catalog_view_file *f = &p[v->nfiles];
                memset(f, 0, sizeof *f);
                f->path = strdup(d->file_path);
                const char *rel = meru_catalog_rel_of(d->file_path);
                f->rel = rel ? strdup(rel) : NULL;
                v->nfiles++;
                if (!f->path || !f->rel) {
                    rc = f->path && !rel ? meru_err(MERU_ECORRUPT,
                                                    "iceberg view: data file "
                                                    "%s is not under data/",
                                                    d->file_path)
                                         : nomem();
                    break;
                }
                f->record_count = d->record_count;
                f->file_size = d->file_size_in_bytes;
                f->data_sequence_number = seq;
                continue;
            }
            if (d->content != MERU_ICE_CONTENT_POSITION_DELETES) {
                rc = meru_err(MERU_ECORRUPT,
                              "iceberg view: equality deletes are not "
                              "written by merutable (%s)",
                              d->file_path);
                break;
            }
            if (*np == cap) {
                cap = cap ? 2 * cap : 16;
                pending *q = realloc(*pp, cap * sizeof *q);
                if (!q) {
                    rc = nomem();
                    break;
                }
                *pp = q;
            }
            pending *q = &(*pp)[*np];
            memset(q, 0, sizeof *q);
            (*np)++;
            q->v3 = d->has_content_offset;
            q->file = io_of(dir, d->file_path);
            q->abs = strdup(d->file_path);
            q->ref = d->referenced_data_file ? strdup(d->referenced_data_file)
                                             : NULL;
            q->off = d->content_offset;
            q->len = d->content_size_in_bytes;
            q->card = d->record_count;
            q->seq = seq;
            if (!q->file || !q->abs ||
                (d->referenced_data_file && !q->ref))
                rc = q->file ? nomem() : MERU_ECORRUPT;
            else if (q->v3 && !q->ref)
                rc = meru_err(MERU_ECORRUPT,
                              "iceberg view: a DV without "
                              "referenced_data_file in %s",
                              mf->manifest_path);
        }
        meru_ice_manifest_free(man);
    }
    return rc;
}

/* Every data file must exist with the size its entry says. */
static int check_data_files(meru_fs *fs, const char *dir,
                            const meru_catalog_view *v)
{
    for (size_t i = 0; i < v->nfiles; i++) {
        meru_fs_info info;
        char *p = meru_catalog_join(dir, v->files[i].rel);
        if (!p)
            return nomem();
        int rc = meru_fs_stat(fs, p, &info);
        free(p);
        if (rc == MERU_NOT_FOUND)
            return meru_err(MERU_ECORRUPT,
                            "iceberg view: data file %s is missing",
                            v->files[i].path);
        if (rc)
            return rc;
        if ((int64_t)info.size != v->files[i].file_size)
            return meru_err(MERU_ECORRUPT,
                            "iceberg view: data file %s has %llu bytes, "
                            "its manifest entry says %lld",
                            v->files[i].path, (unsigned long long)info.size,
                            (long long)v->files[i].file_size);
        meru_dv *dv = v->files[i].dv;
        uint64_t max = 0;
        if (dv && meru_dv_max(dv, &max) &&
            max >= (uint64_t)v->files[i].record_count)
            return meru_err(MERU_ECORRUPT,
                            "iceberg view: a delete of %s names row %llu "
                            "of %lld",
                            v->files[i].path, (unsigned long long)max,
                            (long long)v->files[i].record_count);
    }
    return MERU_OK;
}

int meru_catalog_view_load(meru_fs *fs, const char *table_dir,
                           meru_catalog_view **out)
{
    meru_catalog *cat = NULL;
    meru_catalog_view *v = calloc(1, sizeof *v);
    meru_ice_manifest_list *l = NULL;
    pending *pp = NULL;
    size_t np = 0;
    char *io = NULL;
    int rc;
    *out = NULL;
    if (!v)
        return nomem();
    if ((rc = meru_catalog_open(fs, table_dir, NULL, &cat)))
        goto done;
    v->format_version = cat->format_version;
    v->metadata_version = cat->version;
    v->snapshot_id = cat->current_snapshot_id;
    if (cat->current_snapshot_id < 0)
        goto done;
    const meru_catalog_snapshot *s = &cat->snaps[cat->nsnaps - 1];
    v->sequence_number = s->sequence_number;
    if (!(v->summary = calloc(s->nsummary + 1, sizeof *v->summary))) {
        rc = nomem();
        goto done;
    }
    for (size_t i = 0; i < s->nsummary; i++) {
        v->summary[i].key = strdup(s->summary[i].key);
        v->summary[i].value = strdup(s->summary[i].value);
        v->nsummary++;
        if (!v->summary[i].key || !v->summary[i].value) {
            rc = nomem();
            goto done;
        }
    }
    if (!(io = io_of(table_dir, s->manifest_list))) {
        rc = MERU_ECORRUPT;
        goto done;
    }
    if ((rc = meru_ice_manifest_list_read(fs, io, 0, &l))) {
        meru_err_wrap(rc, "iceberg view: manifest list %s", s->manifest_list);
        goto done;
    }
    if ((rc = load_manifests(fs, table_dir, v, l, &pp, &np)) ||
        (rc = apply_pending(fs, v, pp, np)) ||
        (rc = check_data_files(fs, table_dir, v)))
        goto done;
    if (v->ndelete_files > 1)
        qsort(v->delete_files, v->ndelete_files, sizeof *v->delete_files,
              meru_catalog_strp_cmp);
    for (size_t i = 0; i < v->nfiles; i++)
        v->live_rows += (uint64_t)v->files[i].record_count -
                        (v->files[i].dv ? meru_dv_cardinality(v->files[i].dv)
                                        : 0);
done:
    for (size_t i = 0; i < np; i++) {
        free(pp[i].file);
        free(pp[i].abs);
        free(pp[i].ref);
    }
    free(pp);
    free(io);
    meru_ice_manifest_list_free(l);
    meru_catalog_free(cat);
    if (rc) {
        meru_catalog_view_free(v);
        return rc;
    }
    *out = v;
    return MERU_OK;
}

/* ================================================================ sweep */

typedef struct refset {
    char **p;
    size_t n, cap;
} refset;

static int ref_add(refset *r, const char *s)
{
    if (!s)
        return MERU_OK;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        char **p = realloc(r->p, cap * sizeof *p);
        if (!p)
            return nomem();
        r->p = p;
        r->cap = cap;
    }
    if (!(r->p[r->n] = strdup(s)))
        return nomem();
    r->n++;
    return MERU_OK;
}

static int ref_state(refset *r, const meru_catalog *c)
{
    int rc = ref_add(r, c->manifest_list);
    for (size_t i = 0; !rc && i < c->nmans; i++)
        rc = ref_add(r, c->mans[i].path);
    for (size_t i = 0; !rc && i < c->nfiles; i++)
        rc = ref_add(r, c->files[i].dv_path);
    return rc;
}

/* The view files of every kept version: the current state and what the
 * metadata log's versions still on disk reference. With `readopt`, a file
 * only older kept versions reference is retired again (with the newest of
 * them): after a restart the retired list of the process that stopped
 * referencing it is gone, and without this the file would outlive the
 * last version naming it until the next open's sweep. */
static int kept_refs(meru_catalog *cat, refset *r, int readopt)
{
    refset cur = {0};
    int rc = ref_state(r, cat);
    if (!rc && readopt && !(rc = ref_state(&cur, cat)) && cur.n > 1)
        qsort(cur.p, cur.n, sizeof *cur.p, meru_catalog_strp_cmp);
    for (size_t i = 0; !rc && i < cat->nmlog; i++) {
        const char *slash = strrchr(cat->mlog[i].file, '/');
        const char *name = slash ? slash + 1 : cat->mlog[i].file;
        char *meta = meru_catalog_join(cat->dir, "metadata");
        char *path = meta ? meru_catalog_join(meta, name) : NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        unsigned long long version = 0;
        meru_catalog *old = NULL;
        free(meta);
        if (!path) {
            rc = nomem();
            break;
        }
        rc = meru_fs_read_all(cat->fs, path, MERU_CATALOG_MAX_METADATA, &buf,
                              &len);
        free(path);
        if (rc == MERU_NOT_FOUND) {
            meru_err_clear();
            rc = MERU_OK;
            continue;
        }
        if (!rc)
            rc = meru_catalog_parse_metadata((const char *)buf, len, &old);
        free(buf);
        if (rc == MERU_ECORRUPT) { /* never chosen by recovery either */
            meru_err_clear();
            rc = MERU_OK;
            continue;
        }
        refset mine = {0};
        if (!rc)
            rc = ref_state(&mine, old);
        for (size_t j = 0; !rc && j < mine.n; j++) {
            const char *key = mine.p[j];
            rc = ref_add(r, key);
            if (!rc && readopt && sscanf(name, "v%llu.", &version) == 1 &&
                !(cur.n && bsearch(&key, cur.p, cur.n, sizeof *cur.p,
                                   meru_catalog_strp_cmp)))
                rc = meru_catalog_retire(cat, key, (uint64_t)version);
        }
        for (size_t j = 0; j < mine.n; j++)
            free(mine.p[j]);
        free(mine.p);
        meru_catalog_free(old);
    }
    for (size_t i = 0; i < cur.n; i++)
        free(cur.p[i]);
    free(cur.p);
    if (!rc && r->n > 1)
        qsort(r->p, r->n, sizeof *r->p, meru_catalog_strp_cmp);
    return rc;
}

static int sweep_dir(meru_catalog *cat, const char *reldir, const char *suffix,
                     const refset *r, int remove, refset *found)
{
    char *dir = meru_catalog_join(cat->dir, reldir);
    char **names = NULL;
    size_t nn = 0;
    int rc, removed = 0;
    if (!dir)
        return nomem();
    rc = meru_fs_list_names(cat->fs, dir, &names, &nn);
    if (rc == MERU_NOT_FOUND) {
        meru_err_clear();
        free(dir);
        return MERU_OK;
    }
    for (size_t i = 0; !rc && i < nn; i++) {
        size_t ln = strlen(names[i]), ls = strlen(suffix);
        char rel[MERU_CATALOG_MAX_PATH + 64];
        if (ln < ls || strcmp(names[i] + ln - ls, suffix))
            continue;
        snprintf(rel, sizeof rel, "%s/%s", reldir, names[i]);
        const char *key = rel;
        if (r->n && bsearch(&key, r->p, r->n, sizeof *r->p, meru_catalog_strp_cmp))
            continue;
        if (remove) {
            char *p = meru_catalog_join(dir, names[i]);
            rc = p ? meru_fs_remove(cat->fs, p) : nomem();
            free(p);
            removed |= !rc;
        }
        if (!rc && found)
            rc = ref_add(found, rel);
    }
    if (!rc && removed)
        rc = meru_fs_sync_dir(cat->fs, dir);
    meru_fs_names_free(names, nn);
    free(dir);
    return rc;
}

int meru_catalog_view_sweep(meru_catalog *cat, int remove, char ***out,
                            size_t *n)
{
    refset r = {0}, found = {0};
    int rc = kept_refs(cat, &r, remove);
    if (!rc)
        rc = sweep_dir(cat, "metadata", ".avro", &r, remove, &found);
    if (!rc)
        rc = sweep_dir(cat, "data/dv", "", &r, remove, &found);
    for (size_t i = 0; i < r.n; i++)
        free(r.p[i]);
    free(r.p);
    if (rc || !out) {
        meru_catalog_paths_free(found.p, found.n);
        return rc;
    }
    *out = found.p;
    *n = found.n;
    return MERU_OK;
}

/* ================================================================ export */

static int copy_file(meru_fs *fs, const char *from, const char *to)
{
    meru_file *in = NULL, *outf = NULL;
    uint8_t *buf = malloc(1 << 20);
    uint64_t size = 0, off = 0;
    int rc;
    if (!buf)
        return nomem();
    if ((rc = meru_fs_open(fs, from, MERU_FS_READ, &in)) ||
        (rc = meru_file_size(in, &size)) ||
        (rc = meru_fs_open(fs, to,
                           MERU_FS_WRITE | MERU_FS_CREATE | MERU_FS_EXCL,
                           &outf)))
        goto done;
    while (off < size) {
        size_t n = size - off < (1u << 20) ? (size_t)(size - off) : 1u << 20;
        if ((rc = meru_file_read_exact(in, off, buf, n)) ||
            (rc = meru_file_append(outf, buf, n)))
            goto done;
        off += n;
    }
    rc = meru_file_sync(outf);
done:
    free(buf);
    meru_file_close(in);
    if (outf) {
        int crc = meru_file_close(outf);
        if (!rc)
            rc = crc;
        if (rc && meru_fs_remove(fs, to) == MERU_OK)
            meru_err_clear();
    }
    return rc ? meru_err_wrap(rc, "export: copy %s -> %s", from, to) : 0;
}

static int target_empty(meru_fs *fs, const char *target)
{
    char **names = NULL;
    size_t n = 0;
    int rc = meru_fs_list_names(fs, target, &names, &n);
    if (rc == MERU_NOT_FOUND) {
        meru_err_clear();
        return meru_fs_mkdir_p(fs, target);
    }
    meru_fs_names_free(names, n);
    if (rc)
        return meru_err_wrap(rc, "export: %s", target);
    if (n)
        return meru_err(MERU_EEXIST,
                        "export: %s exists and is not empty", target);
    return MERU_OK;
}

static char *absolute(const char *dir)
{
    char cwd[4096];
    char *s;
    if (dir[0] == '/')
        s = strdup(dir);
    else if (!getcwd(cwd, sizeof cwd))
        return NULL;
    else
        s = meru_catalog_join(cwd, dir);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    while (n > 1 && s[n - 1] == '/')
        s[--n] = 0;
    return s;
}

int meru_catalog_export(meru_catalog *cat, const char *target,
                        const meru_catalog_edit *vectors)
{
    meru_catalog *next = NULL;
    meru_catalog_edit *empty = NULL;
    char *loc = NULL, *meta = NULL;
    int rc;
    if ((rc = target_empty(cat->fs, target)))
        return rc;
    if (!(loc = absolute(target)) || !(meta = meru_catalog_join(target, "metadata"))) {
        rc = nomem();
        goto done;
    }
    if ((rc = meru_fs_mkdir_p(cat->fs, meta)))
        goto done;
    /* Data files: a link each where the fs allows, else a copy. */
    for (size_t i = 0; i < cat->nfiles; i++) {
        const char *rel = cat->files[i].path;
        char *from = meru_catalog_join(cat->dir, rel), *to = meru_catalog_join(target, rel);
        char *slash = to ? strrchr(to, '/') : NULL;
        if (!from || !to) {
            free(from);
            free(to);
            rc = nomem();
            goto done;
        }
        *slash = 0;
        rc = meru_fs_mkdir_p(cat->fs, to);
        *slash = '/';
        if (!rc) {
            rc = meru_fs_link(cat->fs, from, to);
            if (rc == MERU_ENOTSUP) {
                meru_err_clear();
                rc = copy_file(cat->fs, from, to);
            }
        }
        if (!rc) {
            *slash = 0;
            rc = meru_fs_sync_dir(cat->fs, to);
        }
        free(from);
        free(to);
        if (rc)
            goto done;
    }
    if ((rc = meru_catalog_clone_state(cat, &next)))
        goto done;
    free(next->location);
    next->location = loc;
    loc = NULL;
    free(next->view_location);
    next->view_location = NULL;
    for (size_t i = 0; i < next->nmlog; i++)
        free(next->mlog[i].file);
    next->nmlog = 0;
    for (size_t i = 0; i < next->nsnaps; i++)
        meru_catalog_snapshot_clear(&next->snaps[i]);
    next->nsnaps = 0;
    next->current_snapshot_id = -1;
    /* Only the data files are copied: the copy has no live log (its rows
     * are the committed ones) and no changelog files, so it lists none (an
     * open checks that the live segments it lists exist, and the feed's
     * floor must not claim history the copy lacks). */
    next->wal_oldest = next->wal_next;
    for (size_t i = 0; i < next->nchanges; i++)
        meru_catalog_changelog_clear(&next->changes[i]);
    next->nchanges = 0;
    next->changes_floor = next->last_sequence;
    next->fs = cat->fs;
    next->version = next->max_disk_version = 1;
    next->last_updated_ms = meru_clock_unix_ms();
    if (!vectors && (rc = meru_catalog_edit_new(cat, &empty)))
        goto done;
    /* catalog_ice.c reads each file's vector from `cat` (map or disk)
     * unless the edit gives it. */
    meru_catalog_target t = {cat->fs, target, next->location};
    if ((rc = meru_catalog_view_write(cat, next, vectors ? vectors : empty,
                                      next->last_updated_ms, &t, 1)))
        goto done;
    next->dir = (char *)target;
    int failed = 0;
    meru_catalog_stats st = {0};
    rc = meru_catalog_write_version(next, &st, &failed);
    next->dir = NULL;
    if (!rc)
        rc = meru_fs_sync_dir(cat->fs, target);
done:
    if (rc)
        meru_err_wrap(rc, "export to %s", target);
    meru_catalog_edit_free(empty);
    meru_catalog_free(next);
    free(loc);
    free(meta);
    return rc;
}
