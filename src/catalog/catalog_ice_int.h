/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_ice_int.h — the Iceberg view writer's state for one commit,
 * shared by its two halves (not an API): catalog_ice.c (the commit, the
 * deletion file, the snapshot and the manifest list) and catalog_ice_man.c
 * (the manifests).
 */
#ifndef MERU_CATALOG_ICE_INT_H
#define MERU_CATALOG_ICE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "catalog/catalog_internal.h"

/* A data file whose vector changes in this commit. */
typedef struct chg {
    meru_catalog_file *f; /* in next */
    meru_dv *dv;
    int owned;
    int added; /* the file is new to the view in this commit */
} chg;

/* A manifest being rewritten or merged: its inputs. */
typedef struct group {
    const meru_catalog_manifest **in;
    size_t n;
} group;

typedef struct vw {
    meru_catalog *cur, *next;
    const meru_catalog_edit *e;
    meru_catalog_target t;
    int full; /* every file is new to the view */
    int v3;
    int64_t snap_id, seq;
    char uuid[MERU_UUID_TEXT];
    int mcount;
    char *schema_json;

    /* next's files by path, and cur's */
    meru_catalog_file **nidx, **cidx;
    /* changed vectors */
    chg *chg;
    size_t nchg;
    char *dv_rel; /* the commit's deletion file */
    uint64_t dv_size;
    /* rel paths written by this commit (removed on failure) */
    char **written;
    size_t nwritten;
    /* the new manifest list */
    meru_catalog_manifest *out;
    size_t nout, capout;
    /* summary counters */
    int64_t added_files, deleted_files, added_records, deleted_records;
    int64_t added_size, removed_size;
    int64_t added_del_files, removed_del_files, added_pos, removed_pos;
} vw;

/* catalog_ice.c */
/* MERU_ENOMEM with "iceberg view: out of memory". */
int meru_catalog_vw_nomem(void);
/* The file of path in an index built by path (NULL: none). */
meru_catalog_file *meru_catalog_vw_find(meru_catalog_file **idx, size_t n,
                                        const char *path);
/* Remembers a file this commit wrote (removed if the commit fails). */
int meru_catalog_vw_note_written(vw *w, const char *rel);
/* A relative path under the target's directory (for I/O), malloc'd. */
char *meru_catalog_vw_io_path(const vw *w, const char *rel);
/* A relative path under the view's location (as manifests name it). */
char *meru_catalog_vw_abs_path(const vw *w, const char *rel);

/* catalog_ice_man.c */
/* The new data manifest: the files new to the view, ADDED. */
int meru_catalog_vw_write_added_data(vw *w);
/* The new delete manifest: the commit's deletion file. */
int meru_catalog_vw_write_added_deletes(vw *w);
/* The earlier manifests: reused, rewritten (they lose entries) or merged
 * (too many of a kind). */
int meru_catalog_vw_carry_manifests(vw *w);
/* Whether s is in a sorted array of strings. */
int meru_catalog_vw_contains(char **sorted, size_t n, const char *s);
/* Sorted unique dv paths of a state's files (borrowed strings). */
int meru_catalog_vw_dv_paths(const meru_catalog *c, char ***out, size_t *n);

#endif
