/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_view.h — the table's Iceberg view as a reader finds it on disk,
 * and a self-contained copy of it elsewhere (catalog_view.c).
 *
 *  - meru_catalog_view_load follows what an Iceberg reader follows: the
 *    newest valid metadata version -> its current snapshot -> manifest list
 *    -> manifests -> deletion files (Puffin DVs or position-delete files),
 *    using this library's readers of those formats, and returns each live
 *    data file with the union of the deletes that apply to it (sequence
 *    number rules of the spec). Every referenced file must exist and
 *    decode: a dangling reference is MERU_ECORRUPT naming it. `meru
 *    iceberg`, `meru verify` and the demo use it.
 *  - meru_catalog_export writes a new Iceberg table in another directory:
 *    the data files hard-linked where the fs allows (copied otherwise,
 *    never rewritten), one deletion file, one data and one delete
 *    manifest, a manifest list and v1.metadata.json whose paths all point
 *    into the target, so it stays valid when the source goes.
 */
#ifndef MERU_CATALOG_VIEW_H
#define MERU_CATALOG_VIEW_H

#include <stdint.h>

#include "catalog/catalog.h"
#include "iceberg/dv.h"

typedef struct meru_catalog_view_file {
    char *path; /* as the manifest names it */
    char *rel;  /* relative to the table directory */
    int64_t record_count;
    int64_t file_size;
    int64_t data_sequence_number;
    meru_dv *dv; /* the positions the view hides, NULL when none */
} meru_catalog_view_file;

typedef struct meru_catalog_view {
    int format_version;
    uint64_t metadata_version;
    int64_t snapshot_id; /* -1: the table has no snapshot */
    int64_t sequence_number;
    meru_catalog_kv *summary; /* "operation" first */
    size_t nsummary;
    meru_catalog_view_file *files;
    size_t nfiles;
    char **delete_files; /* relative, sorted, unique */
    size_t ndelete_files;
    size_t nmanifests;
    uint64_t live_rows; /* sum of record_count minus hidden positions */
} meru_catalog_view;

/* Reads the view of the table in `table_dir` (read only). */
int meru_catalog_view_load(meru_fs *fs, const char *table_dir,
                           meru_catalog_view **out);
void meru_catalog_view_free(meru_catalog_view *v); /* accepts NULL */
/* A summary value or NULL. */
const char *meru_catalog_view_summary(const meru_catalog_view *v,
                                      const char *key);

/* Exports the current version of `cat` to `target` (which must not exist
 * or be an empty directory: MERU_EEXIST otherwise). The vectors are
 * `vectors`' (an edit of `cat` holding a vector per data file, as after a
 * rebuild) when given, else the catalog's own. */
int meru_catalog_export(meru_catalog *cat, const char *target,
                        const meru_catalog_edit *vectors);

/* The open-time sweep of view files (metadata/ *.avro, data/dv/ *) that no
 * kept metadata version references: leftovers of a crash, and of versions
 * expired while the handle was closed. Names go to *out when given. */
int meru_catalog_view_sweep(meru_catalog *cat, int remove, char ***out,
                            size_t *n);

#endif
