/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_ice.c — the Iceberg view written at every commit (SPEC §9): the
 * deletion file, manifests and manifest list of the new snapshot, durable
 * before the metadata version that references them.
 *
 * What one commit writes (view continuous), all new files, never an
 * overwrite:
 *   data/dv/<uuid>-<snapshot-id>.puffin            v3: one deletion-vector-v1
 *       blob per data file whose vector changed in this commit (the file's
 *       full new vector; a DV replaces the file's previous one)
 *   data/dv/<uuid>-<snapshot-id>-deletes.parquet   v2: one position-delete
 *       file holding the full position set of each such data file
 *   metadata/<uuid>-m<k>.avro                      manifests: at most one
 *       new data manifest (files the commit added, ADDED), one new delete
 *       manifest (the deletion file's entries, ADDED), and a rewrite of each
 *       earlier manifest that loses entries (its live entries EXISTING with
 *       explicit sequence numbers and row ids, the lost ones DELETED)
 *   metadata/snap-<snapshot-id>-1-<uuid>.avro      the manifest list
 * then the directories are synced. Manifests that lose nothing are reused
 * as they are, so a commit's cost follows its change; when a content kind
 * has more than MERGE_TRIGGER manifests, its manifests smaller than
 * MERGE_SMALL_BYTES (all of them if that is not enough) are merged into
 * one. A manifest left holding only DELETED entries is dropped by the
 * next commit.
 *
 * Deletion files: one per commit, named after the commit's snapshot. v3
 * DVs follow "at most one DV per data file per snapshot": the old DV's
 * entry goes DELETED when a new one is added. v2 position deletes apply
 * as a union, so a file that still lists other data files' positions stays
 * valid (the positions it lists for a file that got a newer one are a
 * subset of the newer set); it is dropped (DELETED) once no live data file
 * points at it. A deletion file lives while any kept metadata version
 * references it.
 *
 * A data file all of whose rows are hidden (an L0 file of only tombstones)
 * stays in the view with a vector hiding every row: every SST is exactly
 * one data file, so the engine section and the manifests never disagree.
 *
 * Snapshots: each metadata version lists one snapshot, its current one
 * (its parent id names the previous snapshot, which the previous metadata
 * version lists: history is the metadata log). So every file any listed
 * snapshot needs is referenced by a kept version, and GC is by version:
 * a view file the current version stops referencing is "retired" with the
 * number of the last version that referenced it, and removed once that
 * version is no longer kept (meru_catalog_retired_gc); after a crash the
 * open-time sweep (catalog_view.c) finds the rest.
 *
 * Operations (Iceberg's definitions): "replace" for a commit that removes
 * data files (compaction: the rows stay the same); otherwise "append"
 * when only new rows arrive (a flush hiding nothing in older files),
 * "overwrite" when a flush also hides rows of older files, and "delete"
 * when the commit adds no visible row and hides rows. A commit that
 * changes nothing in the view writes no snapshot.
 *
 * v3 row lineage: a newly written data manifest gets first_row_id =
 * next-row-id and advances it by its added + existing rows; the
 * snapshot records first-row-id and added-rows. Entries rewritten as
 * EXISTING carry the id they inherited.
 *
 * Not here: computing the vectors (the engine), the metadata JSON
 * (catalog_json.c), reading the view back (catalog_view.c). The manifests
 * themselves are written by catalog_ice_man.c (catalog_ice_int.h holds the
 * state the two share).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_ice_int.h"
#include "catalog/catalog_internal.h"
#include "catalog/catalog_metrics.h"
#include "iceberg/manifest.h"
#include "iceberg/posdel.h"
#include "iceberg/puffin.h"
#include "types/schema.h"
#include "util/error.h"

#define DV_DIR "data/dv"

int meru_catalog_vw_nomem(void)
{
    return meru_err(MERU_ENOMEM, "iceberg view: out of memory");
}

const char *meru_catalog_rel_of(const char *abs)
{
    const char *best = NULL;
    for (const char *p = abs; (p = strstr(p, "/data/")) != NULL; p++)
        best = p;
    if (best)
        return best + 1;
    for (const char *p = abs; (p = strstr(p, "/metadata/")) != NULL; p++)
        best = p;
    if (best)
        return best + 1;
    if (!strncmp(abs, "data/", 5) || !strncmp(abs, "metadata/", 9))
        return abs;
    return NULL;
}

void meru_catalog_manifest_clear(meru_catalog_manifest *m)
{
    free(m->path);
    memset(m, 0, sizeof *m);
}

int meru_catalog_manifest_copy(meru_catalog_manifest *d,
                               const meru_catalog_manifest *s)
{
    *d = *s;
    if (!(d->path = strdup(s->path))) {
        memset(d, 0, sizeof *d);
        return meru_catalog_vw_nomem();
    }
    return MERU_OK;
}

/* ------------------------------------------------------------ retiring */

int meru_catalog_retire(meru_catalog *cat, const char *path, uint64_t version)
{
    for (size_t i = 0; i < cat->nretired; i++)
        if (!strcmp(cat->retired[i].path, path)) {
            if (cat->retired[i].last_version < version)
                cat->retired[i].last_version = version;
            return MERU_OK;
        }
    meru_catalog_retired *p =
        realloc(cat->retired, (cat->nretired + 1) * sizeof *p);
    if (!p)
        return meru_catalog_vw_nomem();
    cat->retired = p;
    if (!(p[cat->nretired].path = strdup(path)))
        return meru_catalog_vw_nomem();
    p[cat->nretired].last_version = version;
    cat->nretired++;
    return MERU_OK;
}

void meru_catalog_retired_free(meru_catalog *cat)
{
    for (size_t i = 0; i < cat->nretired; i++)
        free(cat->retired[i].path);
    free(cat->retired);
    cat->retired = NULL;
    cat->nretired = 0;
}

void meru_catalog_retired_gc(meru_catalog *cat, uint64_t floor)
{
    size_t kept = 0;
    for (size_t i = 0; i < cat->nretired; i++) {
        meru_catalog_retired *r = &cat->retired[i];
        if (r->last_version >= floor) {
            cat->retired[kept++] = *r;
            continue;
        }
        char *p = meru_catalog_join(cat->dir, r->path);
        int rc = p ? meru_fs_remove(cat->fs, p) : MERU_ENOMEM;
        if (rc == MERU_NOT_FOUND)
            rc = MERU_OK;
        if (rc) {
            cat->stats.cleanup_errors++;
            meru_err_clear();
            cat->retired[kept++] = *r; /* the next commit tries again */
        } else {
            cat->stats.view_files_removed++;
            free(r->path);
        }
        free(p);
    }
    cat->nretired = kept;
}

/* -------------------------------------------------------- one commit */

static int file_ptr_cmp(const void *a, const void *b)
{
    return strcmp((*(meru_catalog_file *const *)a)->path,
                  (*(meru_catalog_file *const *)b)->path);
}

meru_catalog_file *meru_catalog_vw_find(meru_catalog_file **idx, size_t n,
                                        const char *path)
{
    meru_catalog_file key = {0}, *kp = &key;
    key.path = (char *)path;
    if (!n || !path)
        return NULL;
    meru_catalog_file **at = bsearch(&kp, idx, n, sizeof *idx, file_ptr_cmp);
    return at ? *at : NULL;
}

static int build_index(meru_catalog *c, meru_catalog_file ***out)
{
    meru_catalog_file **idx = calloc(c->nfiles + 1, sizeof *idx);
    if (!idx)
        return meru_catalog_vw_nomem();
    for (size_t i = 0; i < c->nfiles; i++)
        idx[i] = &c->files[i];
    if (c->nfiles > 1)
        qsort(idx, c->nfiles, sizeof *idx, file_ptr_cmp);
    *out = idx;
    return MERU_OK;
}

int meru_catalog_vw_note_written(vw *w, const char *rel)
{
    char **p = realloc(w->written, (w->nwritten + 1) * sizeof *p);
    if (!p)
        return meru_catalog_vw_nomem();
    w->written = p;
    if (!(p[w->nwritten] = strdup(rel)))
        return meru_catalog_vw_nomem();
    w->nwritten++;
    return MERU_OK;
}

char *meru_catalog_vw_io_path(const vw *w, const char *rel)
{
    return meru_catalog_join(w->t.dir, rel);
}

char *meru_catalog_vw_abs_path(const vw *w, const char *rel)
{
    return meru_catalog_join(w->t.location, rel);
}

/* ---- vectors --------------------------------------------------------- */

int meru_catalog_dv_read(const meru_catalog *cat, const meru_catalog_file *f,
                         meru_dv **out)
{
    char *io = NULL, *ref = NULL;
    meru_posdel_file *pf = NULL;
    int rc = MERU_OK;
    *out = NULL;
    if (!f->dv_path)
        return MERU_OK;
    const char *loc = cat->view_location ? cat->view_location : cat->location;
    if (!(io = meru_catalog_join(cat->dir, f->dv_path)) ||
        !(ref = meru_catalog_join(loc, f->path))) {
        rc = meru_catalog_vw_nomem();
        goto done;
    }
    if (cat->format_version >= 3) {
        rc = meru_dv_read_blob(cat->fs, io, f->dv_offset, f->dv_length, ref,
                               f->dv_cardinality, out);
        goto done;
    }
    if ((rc = meru_posdel_read(cat->fs, io, &pf)))
        goto done;
    for (size_t i = 0; i < pf->n; i++) {
        if (strcmp(pf->entries[i].data_file, ref))
            continue;
        if (meru_dv_cardinality(pf->entries[i].dv) != f->dv_cardinality) {
            rc = meru_err(
                MERU_ECORRUPT,
                "%s: %llu positions for %s, the metadata says %llu", io,
                (unsigned long long)meru_dv_cardinality(pf->entries[i].dv),
                f->path, (unsigned long long)f->dv_cardinality);
            goto done;
        }
        *out = pf->entries[i].dv;
        pf->entries[i].dv = NULL;
        goto done;
    }
    rc = meru_err(MERU_ECORRUPT, "%s lists no positions of %s", io, ref);
done:
    if (rc)
        meru_err_wrap(rc, "deletion vector of %s", f->path);
    meru_posdel_file_free(pf);
    free(io);
    free(ref);
    return rc;
}

static const meru_dv *edit_dv(const meru_catalog_edit *e, const char *path)
{
    for (size_t i = 0; i < e->dvs.n; i++)
        if (!strcmp(e->dvs.e[i].path, path))
            return e->dvs.e[i].dv;
    return NULL;
}

static int push_chg(vw *w, meru_catalog_file *f, meru_dv *dv, int owned,
                    int added)
{
    chg *p = realloc(w->chg, (w->nchg + 1) * sizeof *p);
    if (!p) {
        if (owned)
            meru_dv_free(dv);
        return meru_catalog_vw_nomem();
    }
    w->chg = p;
    p[w->nchg++] = (chg){f, dv, owned, added};
    return MERU_OK;
}

/* The vectors this commit writes: every edited vector that differs from
 * the file's recorded one, or (full) every non-empty vector. */
static int collect_changes(vw *w)
{
    meru_catalog *next = w->next;
    int rc;
    for (size_t i = 0; i < next->nfiles; i++) {
        meru_catalog_file *f = &next->files[i];
        int added = w->full || !f->manifest;
        const meru_dv *d = edit_dv(w->e, f->path);
        meru_dv *v = NULL;
        int owned = 0;
        if (d) {
            v = (meru_dv *)d; /* optimised only: the set is unchanged */
        } else if (w->full) {
            /* the map, or the vector an older view recorded */
            meru_catalog_dv_entry *m = NULL;
            for (size_t j = 0; j < w->cur->dvs.n && !m; j++)
                if (!strcmp(w->cur->dvs.e[j].path, f->path))
                    m = &w->cur->dvs.e[j];
            const meru_catalog_file *cf =
                meru_catalog_vw_find(w->cidx, w->cur->nfiles, f->path);
            if (m) {
                v = m->dv;
            } else if (cf && cf->dv_path) {
                if ((rc = meru_catalog_dv_read(w->cur, cf, &v)))
                    return rc;
                owned = 1;
            }
        }
        if (!v)
            continue;
        uint64_t card = meru_dv_cardinality(v);
        /* prepare checked new >= old: same count means the same set */
        if ((!added && f->dv_path && card == f->dv_cardinality) ||
            (card == 0 && (added || !f->dv_path))) {
            if (owned)
                meru_dv_free(v);
            continue;
        }
        if ((rc = push_chg(w, f, v, owned, added)))
            return rc;
    }
    return MERU_OK;
}

static void clear_dv(meru_catalog_file *f)
{
    free(f->dv_path);
    free(f->dv_manifest);
    f->dv_path = f->dv_manifest = NULL;
    f->dv_cardinality = f->dv_offset = f->dv_length = 0;
}

/* Writes the commit's deletion file and points each changed file at it. */
static int write_deletion_file(vw *w)
{
    char name[160], *io = NULL, *dirp = NULL;
    meru_puffin_writer *pw = NULL;
    meru_posdel_input *in = NULL;
    char **refs = NULL;
    int rc = MERU_OK;
    if (!w->nchg)
        return MERU_OK;
    snprintf(name, sizeof name, DV_DIR "/%s-%lld%s", w->uuid,
             (long long)w->snap_id, w->v3 ? ".puffin" : "-deletes.parquet");
    if (!(w->dv_rel = strdup(name)) ||
        !(io = meru_catalog_vw_io_path(w, name)) ||
        !(dirp = meru_catalog_vw_io_path(w, DV_DIR)) ||
        !(refs = calloc(w->nchg, sizeof *refs))) {
        rc = meru_catalog_vw_nomem();
        goto done;
    }
    int exists = 0;
    if ((rc = meru_fs_exists(w->t.fs, dirp, &exists)))
        goto done;
    if (!exists) {
        char *data = meru_catalog_vw_io_path(w, "data");
        rc = data ? meru_fs_mkdir_p(w->t.fs, dirp) : meru_catalog_vw_nomem();
        if (!rc)
            rc = meru_fs_sync_dir(w->t.fs, data);
        free(data);
        if (rc)
            goto done;
    }
    for (size_t i = 0; i < w->nchg; i++)
        if (!(refs[i] = meru_catalog_vw_abs_path(w, w->chg[i].f->path))) {
            rc = meru_catalog_vw_nomem();
            goto done;
        }
    if (w->v3) {
        if ((rc = meru_puffin_writer_open(&pw, w->t.fs, io)))
            goto done;
        for (size_t i = 0; i < w->nchg; i++) {
            chg *c = &w->chg[i];
            uint64_t off = 0, len = 0;
            if ((rc = meru_dv_puffin_add(pw, c->dv, refs[i], &off, &len))) {
                meru_puffin_writer_abort(pw);
                goto done;
            }
            c->f->dv_offset = off;
            c->f->dv_length = len;
        }
        rc = meru_puffin_writer_finish(pw, NULL, 0, &w->dv_size);
    } else {
        meru_posdel_summary sum;
        if (!(in = calloc(w->nchg, sizeof *in))) {
            rc = meru_catalog_vw_nomem();
            goto done;
        }
        for (size_t i = 0; i < w->nchg; i++) {
            in[i].data_file = refs[i];
            in[i].dv = w->chg[i].dv;
        }
        rc = meru_posdel_write(w->t.fs, io, in, w->nchg, &sum);
        w->dv_size = sum.file_size;
    }
    if (rc)
        goto done;
    if ((rc = meru_catalog_vw_note_written(w, name)) ||
        (rc = meru_fs_sync_dir(w->t.fs, dirp)))
        goto done;
    for (size_t i = 0; i < w->nchg; i++) {
        chg *c = &w->chg[i];
        uint64_t off = c->f->dv_offset, len = c->f->dv_length;
        clear_dv(c->f);
        if (!(c->f->dv_path = strdup(name))) {
            rc = meru_catalog_vw_nomem();
            goto done;
        }
        c->f->dv_cardinality = meru_dv_cardinality(c->dv);
        c->f->dv_offset = w->v3 ? off : 0;
        c->f->dv_length = w->v3 ? len : 0;
    }
done:
    if (rc)
        meru_err_wrap(rc, "iceberg view: deletion file %s", name);
    if (refs)
        for (size_t i = 0; i < w->nchg; i++)
            free(refs[i]);
    free(refs);
    free(in);
    free(io);
    free(dirp);
    return rc;
}

/* ---- snapshot -------------------------------------------------------- */

static int add_kv(meru_catalog_snapshot *s, const char *k, const char *v)
{
    meru_catalog_kv *p = realloc(s->summary, (s->nsummary + 1) * sizeof *p);
    if (!p)
        return meru_catalog_vw_nomem();
    s->summary = p;
    p[s->nsummary].key = strdup(k);
    p[s->nsummary].value = strdup(v);
    s->nsummary++;
    if (!p[s->nsummary - 1].key || !p[s->nsummary - 1].value)
        return meru_catalog_vw_nomem();
    return MERU_OK;
}

static int add_num(meru_catalog_snapshot *s, const char *k, int64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)v);
    return add_kv(s, k, num);
}

static const char *operation(const vw *w)
{
    if (w->e->nremoves)
        return "replace";
    int hides_old = 0;
    int64_t live_new = 0;
    for (size_t i = 0; i < w->nchg; i++)
        hides_old |= !w->chg[i].added;
    for (size_t a = 0; a < w->e->nadds; a++) {
        meru_catalog_file *f =
            meru_catalog_vw_find(w->nidx, w->next->nfiles, w->e->adds[a].path);
        if (f)
            live_new += (int64_t)(f->row_count - f->dv_cardinality);
    }
    if (w->full) {
        for (size_t i = 0; i < w->next->nfiles; i++)
            live_new += (int64_t)(w->next->files[i].row_count -
                                  w->next->files[i].dv_cardinality);
        return w->nchg ? "overwrite" : "append";
    }
    if (!w->e->nadds)
        return "delete";
    if (!hides_old)
        return "append";
    return live_new ? "overwrite" : "delete";
}

static int make_snapshot(vw *w, const char *list_rel, int64_t first_row_id,
                         int64_t added_rows, int64_t now)
{
    meru_catalog *n = w->next;
    meru_catalog_snapshot s;
    int rc;
    memset(&s, 0, sizeof s);
    s.id = w->snap_id;
    s.parent_id = w->cur->current_snapshot_id;
    s.schema_id = n->schema->schema_id;
    s.sequence_number = w->seq;
    s.timestamp_ms = now;
    s.has_row_ids = w->v3;
    s.first_row_id = first_row_id;
    s.added_rows = added_rows;
    if (!(s.manifest_list = meru_catalog_vw_abs_path(w, list_rel))) {
        rc = meru_catalog_vw_nomem();
        goto fail;
    }
    int64_t tdata = 0, trec = 0, tdel = 0, tpos = 0, tsize = 0;
    for (size_t i = 0; i < w->nout; i++) {
        const meru_catalog_manifest *m = &w->out[i];
        if (m->content == MERU_ICE_MANIFEST_DATA) {
            tdata += (int64_t)m->live;
            trec += m->added_rows + m->existing_rows;
        } else {
            tdel += (int64_t)m->live;
            tpos += m->added_rows + m->existing_rows;
        }
        tsize += m->live_bytes;
    }
    if ((rc = add_kv(&s, "operation", operation(w))) ||
        (rc = add_num(&s, "added-data-files", w->added_files)) ||
        (rc = add_num(&s, "deleted-data-files", w->deleted_files)) ||
        (rc = add_num(&s, "added-records", w->added_records)) ||
        (rc = add_num(&s, "deleted-records", w->deleted_records)) ||
        (rc = add_num(&s, "added-files-size", w->added_size)) ||
        (rc = add_num(&s, "removed-files-size", w->removed_size)) ||
        (rc = add_num(&s, "added-delete-files", w->added_del_files)) ||
        (rc = add_num(&s, "removed-delete-files", w->removed_del_files)) ||
        (rc = add_num(&s, "added-position-deletes", w->added_pos)) ||
        (rc = add_num(&s, "removed-position-deletes", w->removed_pos)) ||
        (w->v3 && (rc = add_num(&s, "added-dvs", w->added_del_files))) ||
        (w->v3 && (rc = add_num(&s, "removed-dvs", w->removed_del_files))) ||
        (rc = add_num(&s, "total-records", trec)) ||
        (rc = add_num(&s, "total-files-size", tsize)) ||
        (rc = add_num(&s, "total-data-files", tdata)) ||
        (rc = add_num(&s, "total-delete-files", tdel)) ||
        (rc = add_num(&s, "total-position-deletes", tpos)) ||
        (rc = add_kv(&s, "total-equality-deletes", "0")))
        goto fail;
    /* One snapshot per metadata version (see the top of this file). */
    for (size_t i = 0; i < n->nsnaps; i++)
        meru_catalog_snapshot_clear(&n->snaps[i]);
    if (!n->snaps && !(n->snaps = calloc(1, sizeof *n->snaps))) {
        rc = meru_catalog_vw_nomem();
        goto fail;
    }
    n->snaps[0] = s;
    n->nsnaps = 1;
    n->current_snapshot_id = s.id;
    return MERU_OK;
fail:
    meru_catalog_snapshot_clear(&s);
    return rc;
}

/* Drops every trace of the view from `n` (view off). */
static void drop_view(meru_catalog *n)
{
    for (size_t i = 0; i < n->nfiles; i++) {
        clear_dv(&n->files[i]);
        free(n->files[i].manifest);
        n->files[i].manifest = NULL;
    }
    for (size_t i = 0; i < n->nmans; i++)
        meru_catalog_manifest_clear(&n->mans[i]);
    n->nmans = 0;
    free(n->manifest_list);
    n->manifest_list = NULL;
    for (size_t i = 0; i < n->nsnaps; i++)
        meru_catalog_snapshot_clear(&n->snaps[i]);
    n->nsnaps = 0;
    n->current_snapshot_id = -1;
    n->view = 0;
}

/* Retires every view file of `cur` that `next` does not reference. */
static int retire_unreferenced(meru_catalog *cur, const meru_catalog *next)
{
    char **cd = NULL, **nd = NULL;
    size_t ncd = 0, nnd = 0;
    int rc;
    if ((rc = meru_catalog_vw_dv_paths(cur, &cd, &ncd)) ||
        (rc = meru_catalog_vw_dv_paths(next, &nd, &nnd)))
        goto done;
    for (size_t i = 0; i < ncd; i++)
        if (!meru_catalog_vw_contains(nd, nnd, cd[i]) &&
            (rc = meru_catalog_retire(cur, cd[i], cur->version)))
            goto done;
    if (cur->manifest_list && (!next->manifest_list ||
                               strcmp(cur->manifest_list, next->manifest_list)))
        rc = meru_catalog_retire(cur, cur->manifest_list, cur->version);
done:
    free(cd);
    free(nd);
    return rc;
}

/* Retires every view file of `cur` (its view is replaced whole or gone). */
static int retire_all(meru_catalog *cur)
{
    char **cd = NULL;
    size_t ncd = 0;
    int rc = meru_catalog_vw_dv_paths(cur, &cd, &ncd);
    for (size_t i = 0; !rc && i < ncd; i++)
        rc = meru_catalog_retire(cur, cd[i], cur->version);
    for (size_t i = 0; !rc && i < cur->nmans; i++)
        rc = meru_catalog_retire(cur, cur->mans[i].path, cur->version);
    if (!rc && cur->manifest_list)
        rc = meru_catalog_retire(cur, cur->manifest_list, cur->version);
    free(cd);
    return rc;
}

static void vw_free(vw *w, int failed)
{
    for (size_t i = 0; i < w->nchg; i++)
        if (w->chg[i].owned)
            meru_dv_free(w->chg[i].dv);
    free(w->chg);
    for (size_t i = 0; i < w->nwritten; i++) {
        if (failed) {
            char *p = meru_catalog_vw_io_path(w, w->written[i]);
            if (p && meru_fs_remove(w->t.fs, p))
                meru_err_clear();
            free(p);
        }
        free(w->written[i]);
    }
    free(w->written);
    for (size_t i = 0; i < w->nout; i++)
        meru_catalog_manifest_clear(&w->out[i]);
    free(w->out);
    free(w->nidx);
    free(w->cidx);
    free(w->dv_rel);
    meru_free(w->schema_json);
}

/* Whether the commit changes the view at all. */
static int view_changes(const vw *w)
{
    return w->full || w->nchg || w->e->nadds || w->e->nremoves;
}

static int write_list(vw *w, char **rel_out, int64_t *first_row_id,
                      int64_t *added_rows)
{
    meru_ice_manifest_file *recs = calloc(w->nout + 1, sizeof *recs);
    char **abs = calloc(w->nout + 1, sizeof *abs);
    char name[200], *io = NULL;
    int rc = MERU_OK;
    if (!recs || !abs) {
        rc = meru_catalog_vw_nomem();
        goto done;
    }
    int64_t row = w->next->next_row_id;
    *first_row_id = row;
    /* data manifests first, then deletes: readers plan data first */
    size_t k = 0;
    for (int32_t content = 0; content <= 1; content++) {
        for (size_t i = 0; i < w->nout; i++) {
            meru_catalog_manifest *m = &w->out[i];
            if (m->content != content)
                continue;
            if (w->v3 && content == MERU_ICE_MANIFEST_DATA &&
                !m->has_first_row_id) {
                m->has_first_row_id = true;
                m->first_row_id = row;
                row += m->added_rows + m->existing_rows;
            }
            if (!(abs[k] = meru_catalog_vw_abs_path(w, m->path))) {
                rc = meru_catalog_vw_nomem();
                goto done;
            }
            meru_ice_manifest_file *r = &recs[k++];
            r->manifest_path = abs[k - 1];
            r->manifest_length = m->length;
            r->partition_spec_id = 0;
            r->content = m->content;
            r->sequence_number = m->sequence_number;
            r->min_sequence_number = m->min_sequence_number;
            r->added_snapshot_id = m->added_snapshot_id;
            r->added_files_count = m->added_files;
            r->existing_files_count = m->existing_files;
            r->deleted_files_count = m->deleted_files;
            r->added_rows_count = m->added_rows;
            r->existing_rows_count = m->existing_rows;
            r->deleted_rows_count = m->deleted_rows;
            r->has_first_row_id = w->v3 && content == MERU_ICE_MANIFEST_DATA;
            r->first_row_id = m->first_row_id;
        }
    }
    *added_rows = row - *first_row_id;
    meru_ice_manifest_list_info li;
    memset(&li, 0, sizeof li);
    li.format_version = w->v3 ? 3 : 2;
    li.snapshot_id = w->snap_id;
    li.has_parent_snapshot_id = w->cur->current_snapshot_id >= 0;
    li.parent_snapshot_id = w->cur->current_snapshot_id;
    li.sequence_number = w->seq;
    li.first_row_id = *first_row_id;
    snprintf(name, sizeof name, "metadata/snap-%lld-1-%s.avro",
             (long long)w->snap_id, w->uuid);
    if (!(io = meru_catalog_vw_io_path(w, name))) {
        rc = meru_catalog_vw_nomem();
        goto done;
    }
    if ((rc = meru_ice_manifest_list_write(w->t.fs, io, &li, recs, k, NULL))) {
        meru_err_wrap(rc, "iceberg view: manifest list %s", name);
        goto done;
    }
    if ((rc = meru_catalog_vw_note_written(w, name)))
        goto done;
    if (!(*rel_out = strdup(name)))
        rc = meru_catalog_vw_nomem();
done:
    if (abs)
        for (size_t i = 0; i < w->nout; i++)
            free(abs[i]);
    free(abs);
    free(recs);
    free(io);
    return rc;
}

int meru_catalog_view_write(meru_catalog *cur, meru_catalog *next,
                            const meru_catalog_edit *e, int64_t now,
                            const meru_catalog_target *t, int full)
{
    vw w;
    char *list_rel = NULL, *meta = NULL;
    int rc;
    memset(&w, 0, sizeof w);
    w.cur = cur;
    w.next = next;
    w.e = e;
    w.t = *t;
    w.full = full || !cur->view;
    w.v3 = next->format_version >= 3;
    if ((rc = build_index(next, &w.nidx)) || (rc = build_index(cur, &w.cidx)))
        goto done;
    if (w.full)
        for (size_t i = 0; i < next->nfiles; i++) {
            clear_dv(&next->files[i]);
            free(next->files[i].manifest);
            next->files[i].manifest = NULL;
        }
    if ((rc = collect_changes(&w)))
        goto done;
    if (!view_changes(&w))
        goto done; /* same snapshot, same files */
    if (w.full && !next->nfiles) {
        /* an empty table: no snapshot is its exact view */
        if (!full && (rc = retire_all(cur)))
            goto done;
        drop_view(next);
        next->view = 1;
        goto set_location;
    }
    if ((rc = meru_catalog_random_id(cur, &w.snap_id)) ||
        (rc = meru_catalog_new_uuid(w.uuid)) ||
        (rc = meru_schema_to_json_ex(
             next->schema, w.v3 ? 0 : MERU_SCHEMA_JSON_V2, &w.schema_json)))
        goto done;
    w.seq = ++next->iceberg_last_seq;
    if ((rc = write_deletion_file(&w)))
        goto done;
    if (!w.full) {
        if ((rc = meru_catalog_vw_carry_manifests(&w)))
            goto done;
    }
    if ((rc = meru_catalog_vw_write_added_data(&w)) ||
        (rc = meru_catalog_vw_write_added_deletes(&w)))
        goto done;
    int64_t first_row_id = 0, added_rows = 0;
    if ((rc = write_list(&w, &list_rel, &first_row_id, &added_rows)))
        goto done;
    if (!(meta = meru_catalog_join(t->dir, "metadata"))) {
        rc = meru_catalog_vw_nomem();
        goto done;
    }
    if ((rc = meru_fs_sync_dir(t->fs, meta)))
        goto done;
    if ((rc = make_snapshot(&w, list_rel, first_row_id, added_rows, now)))
        goto done;
    if (w.v3)
        next->next_row_id = first_row_id + added_rows;
    for (size_t i = 0; i < next->nmans; i++)
        meru_catalog_manifest_clear(&next->mans[i]);
    free(next->mans);
    next->mans = w.out;
    next->nmans = w.nout;
    w.out = NULL;
    w.nout = 0;
    free(next->manifest_list);
    next->manifest_list = list_rel;
    list_rel = NULL;
    next->view = 1;
    if (!full && w.full)
        rc = retire_all(cur); /* the old view (moved table) */
    else if (!full)
        rc = retire_unreferenced(cur, next);
    if (rc)
        goto done;
set_location:
    if (next->view_location && strcmp(next->view_location, t->location) == 0)
        goto done;
    free(next->view_location);
    if (!(next->view_location = strdup(t->location)))
        rc = meru_catalog_vw_nomem();
done:
    vw_free(&w, rc != MERU_OK);
    free(list_rel);
    free(meta);
    return rc;
}

int meru_catalog_view_commit(meru_catalog *cur, meru_catalog *next,
                             const meru_catalog_edit *e, int64_t now)
{
    if (cur->opts.view_off) {
        int rc = retire_all(cur);
        drop_view(next);
        return rc;
    }
    meru_catalog_target t = {cur->fs, cur->dir, next->location};
    return meru_catalog_view_write(cur, next, e, now, &t, 0);
}
