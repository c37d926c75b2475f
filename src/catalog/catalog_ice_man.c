/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_ice_man.c — the manifests of one commit's Iceberg view (the
 * shape is described in catalog_ice.c): the new data manifest, the new
 * delete manifest, and the earlier manifests carried over — reused when
 * they lose nothing, rewritten when they lose entries (live entries
 * EXISTING with explicit sequence numbers and row ids, lost ones
 * DELETED), merged when a content kind has more than MERGE_TRIGGER of
 * them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog_ice_int.h"
#include "catalog/catalog_metrics.h"
#include "iceberg/manifest.h"
#include "util/error.h"

#define MERGE_TRIGGER     16
#define MERGE_SMALL_BYTES ((int64_t)1 << 20)

/* ---- manifests ------------------------------------------------------- */

static int push_out(vw *w, const meru_catalog_manifest *m)
{
    if (w->nout == w->capout) {
        size_t cap = w->capout ? 2 * w->capout : 16;
        meru_catalog_manifest *p = realloc(w->out, cap * sizeof *p);
        if (!p)
            return meru_catalog_vw_nomem();
        w->out = p;
        w->capout = cap;
    }
    return meru_catalog_manifest_copy(&w->out[w->nout++], m);
}

static void info_for(const vw *w, int32_t content, meru_ice_manifest_info *i)
{
    memset(i, 0, sizeof *i);
    i->format_version = w->v3 ? 3 : 2;
    i->content = content;
    i->schema_json = w->schema_json;
    i->schema_id = w->next->schema->schema_id;
    i->partition_spec_json = "[]";
    i->partition_spec_id = 0;
}

/* Writes a manifest of `entries` and appends its record to the list. */
static int write_manifest(vw *w, int32_t content,
                          const meru_ice_manifest_entry *entries, size_t n,
                          uint64_t live, int64_t live_bytes, char **rel_out)
{
    char name[160], *io = NULL;
    meru_ice_manifest_info info;
    meru_ice_manifest_summary s;
    meru_catalog_manifest m;
    int rc;
    snprintf(name, sizeof name, "metadata/%s-m%d.avro", w->uuid, w->mcount++);
    if (!(io = meru_catalog_vw_io_path(w, name)))
        return meru_catalog_vw_nomem();
    info_for(w, content, &info);
    rc = meru_ice_manifest_write(w->t.fs, io, &info, entries, n, &s);
    free(io);
    if (rc)
        return meru_err_wrap(rc, "iceberg view: manifest %s", name);
    if ((rc = meru_catalog_vw_note_written(w, name)))
        return rc;
    memset(&m, 0, sizeof m);
    m.path = name;
    m.content = content;
    m.length = s.manifest_length;
    m.sequence_number = w->seq;
    m.min_sequence_number =
        s.has_min_sequence_number && s.min_sequence_number < w->seq
            ? s.min_sequence_number
            : w->seq;
    m.added_snapshot_id = w->snap_id;
    m.added_files = s.added_files_count;
    m.existing_files = s.existing_files_count;
    m.deleted_files = s.deleted_files_count;
    m.added_rows = s.added_rows_count;
    m.existing_rows = s.existing_rows_count;
    m.deleted_rows = s.deleted_rows_count;
    m.live = live;
    m.live_bytes = live_bytes;
    if ((rc = push_out(w, &m)))
        return rc;
    *rel_out = w->out[w->nout - 1].path;
    return MERU_OK;
}

static int set_str(char **dst, const char *s)
{
    char *d = strdup(s);
    if (!d)
        return meru_catalog_vw_nomem();
    free(*dst);
    *dst = d;
    return MERU_OK;
}

/* The new data manifest: the files new to the view, ADDED. */
int meru_catalog_vw_write_added_data(vw *w)
{
    meru_catalog *next = w->next;
    meru_ice_manifest_entry *ent = NULL;
    meru_catalog_metrics *mx = NULL;
    char **paths = NULL;
    size_t n = 0;
    int64_t bytes = 0;
    char *rel = NULL;
    int rc = MERU_OK;
    for (size_t i = 0; i < next->nfiles; i++)
        n += w->full || !next->files[i].manifest;
    if (!n)
        return MERU_OK;
    ent = calloc(n, sizeof *ent);
    mx = calloc(n, sizeof *mx);
    paths = calloc(n, sizeof *paths);
    if (!ent || !mx || !paths) {
        rc = meru_catalog_vw_nomem();
        goto done;
    }
    size_t k = 0;
    for (size_t i = 0; i < next->nfiles; i++) {
        meru_catalog_file *f = &next->files[i];
        if (!w->full && f->manifest)
            continue;
        char *io = meru_catalog_vw_io_path(w, f->path);
        if (!io || !(paths[k] = meru_catalog_vw_abs_path(w, f->path))) {
            free(io);
            rc = meru_catalog_vw_nomem();
            goto done;
        }
        rc = meru_catalog_data_metrics(w->t.fs, io, next->schema, &mx[k]);
        free(io);
        if (rc)
            goto done;
        meru_ice_manifest_entry *e = &ent[k];
        meru_ice_data_file *d = &e->data_file;
        e->status = MERU_ICE_STATUS_ADDED;
        d->content = MERU_ICE_CONTENT_DATA;
        d->file_path = paths[k];
        d->file_format = "parquet";
        d->record_count = (int64_t)f->row_count;
        d->file_size_in_bytes = (int64_t)f->file_size;
        d->value_counts = mx[k].values;
        d->n_value_counts = mx[k].n_values;
        d->null_value_counts = mx[k].nulls;
        d->n_null_value_counts = mx[k].n_nulls;
        d->lower_bounds = mx[k].lower;
        d->n_lower_bounds = mx[k].n_lower;
        d->upper_bounds = mx[k].upper;
        d->n_upper_bounds = mx[k].n_upper;
        d->has_sort_order_id = true;
        d->sort_order_id = 1;
        w->added_files++;
        w->added_records += d->record_count;
        w->added_size += d->file_size_in_bytes;
        bytes += d->file_size_in_bytes;
        k++;
    }
    if ((rc =
             write_manifest(w, MERU_ICE_MANIFEST_DATA, ent, n, n, bytes, &rel)))
        goto done;
    for (size_t i = 0; i < next->nfiles; i++) {
        meru_catalog_file *f = &next->files[i];
        if ((w->full || !f->manifest) && (rc = set_str(&f->manifest, rel)))
            goto done;
    }
done:
    if (mx)
        for (size_t i = 0; i < n; i++)
            meru_catalog_metrics_free(&mx[i]);
    if (paths)
        for (size_t i = 0; i < n; i++)
            free(paths[i]);
    free(mx);
    free(paths);
    free(ent);
    return rc;
}

/* The new delete manifest: the commit's deletion file. */
int meru_catalog_vw_write_added_deletes(vw *w)
{
    meru_ice_manifest_entry *ent = NULL;
    char *file_abs = NULL, **refs = NULL, *rel = NULL;
    size_t n = w->v3 ? w->nchg : (w->nchg ? 1 : 0);
    int64_t bytes = 0;
    int rc = MERU_OK;
    if (!n)
        return MERU_OK;
    ent = calloc(n, sizeof *ent);
    refs = calloc(w->nchg, sizeof *refs);
    if (!ent || !refs || !(file_abs = meru_catalog_vw_abs_path(w, w->dv_rel))) {
        rc = meru_catalog_vw_nomem();
        goto done;
    }
    int64_t total = 0;
    for (size_t i = 0; i < w->nchg; i++) {
        if (!(refs[i] = meru_catalog_vw_abs_path(w, w->chg[i].f->path))) {
            rc = meru_catalog_vw_nomem();
            goto done;
        }
        total += (int64_t)w->chg[i].f->dv_cardinality;
    }
    for (size_t i = 0; i < n; i++) {
        meru_ice_manifest_entry *e = &ent[i];
        meru_ice_data_file *d = &e->data_file;
        e->status = MERU_ICE_STATUS_ADDED;
        d->content = MERU_ICE_CONTENT_POSITION_DELETES;
        d->file_path = file_abs;
        d->file_size_in_bytes = (int64_t)w->dv_size;
        if (w->v3) {
            const meru_catalog_file *f = w->chg[i].f;
            d->file_format = "puffin";
            d->record_count = (int64_t)f->dv_cardinality;
            d->referenced_data_file = refs[i];
            d->has_content_offset = true;
            d->content_offset = (int64_t)f->dv_offset;
            d->content_size_in_bytes = (int64_t)f->dv_length;
            bytes += d->content_size_in_bytes;
            w->added_size += d->content_size_in_bytes;
        } else {
            d->file_format = "parquet";
            d->record_count = total;
            d->referenced_data_file = w->nchg == 1 ? refs[0] : NULL;
            bytes += d->file_size_in_bytes;
            w->added_size += d->file_size_in_bytes;
        }
        w->added_del_files++;
        w->added_pos += d->record_count;
    }
    if ((rc = write_manifest(w, MERU_ICE_MANIFEST_DELETES, ent, n, n, bytes,
                             &rel)))
        goto done;
    for (size_t i = 0; i < w->nchg; i++)
        if ((rc = set_str(&w->chg[i].f->dv_manifest, rel)))
            goto done;
done:
    if (refs)
        for (size_t i = 0; i < w->nchg; i++)
            free(refs[i]);
    free(refs);
    free(file_abs);
    free(ent);
    return rc;
}

/* Whether delete entry `d` (from an earlier snapshot) still holds. */
static int delete_entry_live(vw *w, const meru_ice_data_file *d)
{
    const char *rel = meru_catalog_rel_of(d->file_path);
    if (!rel)
        return 0;
    if (w->v3) {
        const char *ref = d->referenced_data_file
                              ? meru_catalog_rel_of(d->referenced_data_file)
                              : NULL;
        meru_catalog_file *f =
            meru_catalog_vw_find(w->nidx, w->next->nfiles, ref);
        return f && f->dv_path && !strcmp(f->dv_path, rel) &&
               d->has_content_offset &&
               (uint64_t)d->content_offset == f->dv_offset;
    }
    for (size_t i = 0; i < w->next->nfiles; i++)
        if (w->next->files[i].dv_path &&
            !strcmp(w->next->files[i].dv_path, rel))
            return 1;
    return 0;
}

/* Rewrites the inputs of one group into one manifest: live entries
 * EXISTING (explicit sequence numbers and row ids), entries lost in this
 * commit DELETED, entries DELETED by an earlier snapshot dropped. */
static int rewrite_group(vw *w, int32_t content, const group *g)
{
    meru_ice_manifest **ms = calloc(g->n + 1, sizeof *ms);
    meru_ice_manifest_entry *ent = NULL;
    const char **owner = NULL; /* per entry: the data file's rel path */
    size_t n = 0, cap = 0;
    uint64_t live = 0;
    int64_t bytes = 0;
    char *rel = NULL;
    int rc = MERU_OK;
    if (!ms)
        return meru_catalog_vw_nomem();
    for (size_t gi = 0; gi < g->n; gi++) {
        const meru_catalog_manifest *src = g->in[gi];
        char *io = meru_catalog_vw_io_path(w, src->path);
        if (!io) {
            rc = meru_catalog_vw_nomem();
            goto done;
        }
        rc = meru_ice_manifest_read(w->t.fs, io, 0, &ms[gi]);
        free(io);
        if (rc) {
            meru_err_wrap(rc, "iceberg view: rewriting manifest %s", src->path);
            goto done;
        }
        int64_t inherit_row = src->first_row_id;
        for (size_t i = 0; i < ms[gi]->n_entries; i++) {
            meru_ice_manifest_entry x = ms[gi]->entries[i];
            meru_ice_data_file *d = &x.data_file;
            bool had_row_id = d->has_first_row_id;
            if (content == MERU_ICE_MANIFEST_DATA && !had_row_id && w->v3 &&
                src->has_first_row_id) {
                d->has_first_row_id = true;
                d->first_row_id = inherit_row;
            }
            if (!had_row_id)
                inherit_row += d->record_count;
            if (x.status == MERU_ICE_STATUS_DELETED)
                continue;
            if (!x.has_snapshot_id) {
                x.has_snapshot_id = true;
                x.snapshot_id = src->added_snapshot_id;
            }
            if (!x.has_sequence_number) {
                x.has_sequence_number = true;
                x.sequence_number = src->sequence_number;
            }
            if (!x.has_file_sequence_number) {
                x.has_file_sequence_number = true;
                x.file_sequence_number = src->sequence_number;
            }
            const char *frel = meru_catalog_rel_of(d->file_path);
            int keep;
            if (content == MERU_ICE_MANIFEST_DATA)
                keep = frel && meru_catalog_vw_find(w->nidx, w->next->nfiles,
                                                    frel) != NULL;
            else
                keep = delete_entry_live(w, d);
            if (keep) {
                x.status = MERU_ICE_STATUS_EXISTING;
                live++;
                bytes += d->has_content_offset ? d->content_size_in_bytes
                                               : d->file_size_in_bytes;
            } else {
                x.status = MERU_ICE_STATUS_DELETED;
                x.snapshot_id = w->snap_id;
                int64_t sz = d->has_content_offset ? d->content_size_in_bytes
                                                   : d->file_size_in_bytes;
                if (content == MERU_ICE_MANIFEST_DATA) {
                    w->deleted_files++;
                    w->deleted_records += d->record_count;
                } else {
                    w->removed_del_files++;
                    w->removed_pos += d->record_count;
                }
                w->removed_size += sz;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                meru_ice_manifest_entry *p = realloc(ent, cap * sizeof *p);
                const char **o = realloc(owner, cap * sizeof *o);
                if (p)
                    ent = p;
                if (o)
                    owner = o;
                if (!p || !o) {
                    rc = meru_catalog_vw_nomem();
                    goto done;
                }
            }
            owner[n] =
                keep
                    ? (content == MERU_ICE_MANIFEST_DATA
                           ? frel
                           : (d->referenced_data_file
                                  ? meru_catalog_rel_of(d->referenced_data_file)
                                  : NULL))
                    : NULL;
            ent[n++] = x;
        }
    }
    if (n) {
        if ((rc = write_manifest(w, content, ent, n, live, bytes, &rel)))
            goto done;
        if (!live)
            w->out[w->nout - 1].live = 0;
        for (size_t i = 0; i < n; i++) {
            if (!owner[i])
                continue;
            if (content == MERU_ICE_MANIFEST_DATA) {
                meru_catalog_file *f =
                    meru_catalog_vw_find(w->nidx, w->next->nfiles, owner[i]);
                if (f && (rc = set_str(&f->manifest, rel)))
                    goto done;
            }
        }
        if (content == MERU_ICE_MANIFEST_DELETES) {
            /* Files whose deletion entry moved: v3 by referenced file,
             * v2 every file whose dv_manifest was an input. */
            for (size_t i = 0; i < w->next->nfiles; i++) {
                meru_catalog_file *f = &w->next->files[i];
                for (size_t gi = 0; f->dv_manifest && gi < g->n; gi++)
                    if (!strcmp(f->dv_manifest, g->in[gi]->path) &&
                        (rc = set_str(&f->dv_manifest, rel)))
                        goto done;
            }
        }
    }
    for (size_t gi = 0; gi < g->n; gi++)
        if ((rc =
                 meru_catalog_retire(w->cur, g->in[gi]->path, w->cur->version)))
            goto done;
done:
    for (size_t gi = 0; gi < g->n; gi++)
        meru_ice_manifest_free(ms[gi]);
    free(ms);
    free(ent);
    free(owner);
    return rc;
}

int meru_catalog_vw_contains(char **sorted, size_t n, const char *s)
{
    return s && n &&
           bsearch(&s, sorted, n, sizeof *sorted, meru_catalog_strp_cmp);
}

/* Sorted unique dv paths of a state's files (borrowed strings). */
int meru_catalog_vw_dv_paths(const meru_catalog *c, char ***out, size_t *n)
{
    char **p = calloc(c->nfiles + 1, sizeof *p);
    size_t k = 0;
    if (!p)
        return meru_catalog_vw_nomem();
    for (size_t i = 0; i < c->nfiles; i++)
        if (c->files[i].dv_path)
            p[k++] = c->files[i].dv_path;
    if (k > 1)
        qsort(p, k, sizeof *p, meru_catalog_strp_cmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (!u || strcmp(p[u - 1], p[i]))
            p[u++] = p[i];
    *out = p;
    *n = u;
    return MERU_OK;
}

/* The earlier manifests: reused, rewritten (they lose entries) or merged
 * (too many of a kind). */
int meru_catalog_vw_carry_manifests(vw *w)
{
    meru_catalog *cur = w->cur;
    size_t nm = cur->nmans;
    uint8_t *dirty = calloc(nm + 1, 1);
    const meru_catalog_manifest **in = calloc(nm + 1, sizeof *in);
    char **ndv = NULL;
    size_t nndv = 0;
    int rc = MERU_OK;
    if (!dirty || !in) {
        rc = meru_catalog_vw_nomem();
        goto done;
    }
    if ((rc = meru_catalog_vw_dv_paths(w->next, &ndv, &nndv)))
        goto done;
    /* Which lose entries: data manifests of removed files; delete
     * manifests of removed files' and replaced vectors' entries. */
    for (size_t i = 0; i < cur->nfiles; i++) {
        const meru_catalog_file *cf = &cur->files[i];
        meru_catalog_file *nf =
            meru_catalog_vw_find(w->nidx, w->next->nfiles, cf->path);
        int dv_gone = cf->dv_path && (!nf || !nf->dv_path ||
                                      strcmp(nf->dv_path, cf->dv_path) ||
                                      nf->dv_offset != cf->dv_offset);
        if (!w->v3 && cf->dv_path)
            dv_gone = !meru_catalog_vw_contains(ndv, nndv, cf->dv_path);
        for (size_t m = 0; m < nm; m++) {
            const char *mp = cur->mans[m].path;
            if (!nf && cf->manifest && !strcmp(cf->manifest, mp))
                dirty[m] = 1;
            if (dv_gone && cf->dv_manifest && !strcmp(cf->dv_manifest, mp))
                dirty[m] = 1;
        }
    }
    for (int32_t content = 0; content <= 1; content++) {
        size_t count = 0, small = 0;
        for (size_t m = 0; m < nm; m++) {
            const meru_catalog_manifest *x = &cur->mans[m];
            if (x->content != content || (!x->live && !dirty[m]))
                continue;
            count++;
            small += x->length < MERGE_SMALL_BYTES;
        }
        count += 1; /* this commit's new one, perhaps */
        int merge = count > MERGE_TRIGGER;
        int merge_all = merge && count - small + 1 > MERGE_TRIGGER;
        size_t nin = 0;
        for (size_t m = 0; m < nm; m++) {
            const meru_catalog_manifest *x = &cur->mans[m];
            if (x->content != content)
                continue;
            if (!x->live && !dirty[m]) {
                /* only DELETED entries of its own snapshot: dropped */
                if ((rc = meru_catalog_retire(cur, x->path, cur->version)))
                    goto done;
                continue;
            }
            if (merge &&
                (merge_all || dirty[m] || x->length < MERGE_SMALL_BYTES)) {
                in[nin++] = x;
                continue;
            }
            if (dirty[m]) {
                group g = {&x, 1};
                if ((rc = rewrite_group(w, content, &g)))
                    goto done;
                continue;
            }
            if ((rc = push_out(w, x)))
                goto done;
        }
        if (nin) {
            group g = {in, nin};
            if ((rc = rewrite_group(w, content, &g)))
                goto done;
        }
    }
done:
    free(dirty);
    free(in);
    free(ndv);
    return rc;
}
