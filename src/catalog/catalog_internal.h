/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_internal.h — the catalog's struct and the helpers its two files
 * share (catalog.c: state, edits, commit, open, sweeps; catalog_json.c: the
 * metadata JSON writer and the hostile-input parser). Nothing outside
 * src/catalog/ includes this.
 */
#ifndef MERU_CATALOG_INTERNAL_H
#define MERU_CATALOG_INTERNAL_H

#include "catalog/catalog.h"
#include "iceberg/dv.h"
#include "util/buf.h"


/* The deletion vectors known in memory, one per data file path, sorted by
 * path (catalog_dv.c). Not part of the cloned state: a commit validates
 * the edit's vectors against it and moves them in once the version is
 * durable. */
typedef struct meru_catalog_dv_entry {
    char *path;
    meru_dv *dv;
} meru_catalog_dv_entry;

typedef struct meru_catalog_dvmap {
    meru_catalog_dv_entry *e;
    size_t n, cap;
} meru_catalog_dvmap;

typedef struct meru_catalog_mlog {
    int64_t timestamp_ms;
    char *file; /* absolute path of a previous metadata file */
} meru_catalog_mlog;

struct meru_catalog {
    /* Set by open/create; NULL for a catalog from parse_metadata. */
    meru_fs *fs;
    char *dir; /* table directory as given (the path used for I/O) */

    char uuid[MERU_UUID_TEXT];
    char *location;
    meru_schema *schema;
    meru_catalog_kv *props; /* user properties (reserved ones not kept) */
    size_t nprops;

    uint64_t version;          /* N of the metadata file this state is */
    uint64_t max_disk_version; /* highest v<M> seen on disk, any validity */
    int64_t last_updated_ms;
    int64_t iceberg_last_seq; /* Iceberg last-sequence-number */

    uint64_t last_sequence; /* engine */
    uint64_t wal_oldest, wal_next;
    uint64_t next_file_number;

    meru_catalog_file *files; /* sorted, see meru_catalog_files() */
    size_t nfiles;
    meru_catalog_changelog *changes; /* by min_seq */
    size_t nchanges;
    uint64_t changes_floor;
    meru_catalog_snapshot *snaps; /* oldest first */
    size_t nsnaps;
    int64_t current_snapshot_id; /* -1: none */
    meru_catalog_mlog *mlog;     /* oldest first */
    size_t nmlog;

    meru_catalog_options opts;
    meru_catalog_stats stats;
    int failed;
    meru_catalog_dvmap dvs;    /* survives adopt(); see catalog_dv.c */
    meru_catalog_dvmap staged; /* a commit's vectors, until adopted */
    uint8_t *staged_drop;      /* per dvs entry: replaced or removed */
};

/* catalog.c */

void meru_catalog_snapshot_clear(meru_catalog_snapshot *s);
/* Frees everything the state owns (not fs/dir) and zeroes those fields. */
void meru_catalog_state_clear(meru_catalog *cat);
/* Sorts files (level, then L0 newest first / L1+ by smallest key) and checks
 * the invariants listed in catalog.h; failures are `code`. */
int meru_catalog_check_files(meru_catalog *cat, int code);
/* "<location>/metadata/v<N>.metadata.json" into a malloc'd string. */
char *meru_catalog_metadata_path(const char *location, uint64_t version);

struct meru_catalog_edit {
    meru_catalog *cat;
    meru_catalog_file *adds;
    size_t nadds, capadds;
    char **removes;
    size_t nremoves, capremoves;
    int has_seq, has_wal, has_nfn;
    uint64_t seq, wal_oldest, wal_next, nfn;
    char *op;
    meru_catalog_kv *props; /* value NULL: remove */
    size_t nprops;
    meru_schema *schema; /* replacement schema or NULL */
    meru_catalog_dvmap dvs; /* path -> full new vector (owned), unsorted */
    meru_catalog_changelog *chadds;
    size_t nchadds, capchadds;
    char **chremoves;
    size_t nchremoves, capchremoves;
    int has_floor;
    uint64_t floor;
};

/* catalog_changes.c */

void meru_catalog_changelog_clear(meru_catalog_changelog *c);
int meru_catalog_changelog_copy(meru_catalog_changelog *dst,
                                const meru_catalog_changelog *src);
/* Frees the state's changelog list. */
void meru_catalog_changes_clear(meru_catalog *cat);
/* Copies src's changelog list and floor into dst (empty). */
int meru_catalog_changes_clone(meru_catalog *dst, const meru_catalog *src);
/* Applies the edit's changelog changes to `n` (a clone; last_sequence
 * already updated) and checks the invariants (MERU_EINVAL). */
int meru_catalog_changes_apply(meru_catalog *n, const meru_catalog_edit *e);
/* Frees the edit's changelog parts. */
void meru_catalog_changes_edit_free(meru_catalog_edit *e);
/* Sorts the list and checks the invariants of catalog.h; failures are
 * `code`. */
int meru_catalog_changes_check(meru_catalog *cat, int code);

/* catalog_dv.c */

void meru_catalog_dvmap_free(meru_catalog_dvmap *m);
/* Checks the edit's vectors against `next` (the state after the edit's
 * file changes) and the vectors in `cur`: each names a file of `next`,
 * holds only positions below its row count, and contains the file's
 * previous vector unless the edit adds the file; no path twice.
 * MERU_EINVAL otherwise. Then copies them into cur->staged and reserves
 * room in cur's map, so that meru_catalog_dvs_adopt cannot fail. */
int meru_catalog_dvs_prepare(meru_catalog *cur, const meru_catalog *next,
                             const meru_catalog_edit *e);
/* After the version is durable: drops the vectors of files the edit
 * removed and moves the staged vectors in. */
void meru_catalog_dvs_adopt(meru_catalog *cat, const meru_catalog_edit *e);
/* After a failed commit: frees the staged vectors. */
void meru_catalog_dvs_unstage(meru_catalog *cat);

/* catalog_json.c */
/* Serialises the state as version cat->version's metadata file. */
int meru_catalog_to_json(const meru_catalog *cat, meru_buf *out);

#endif
