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
#include "util/buf.h"


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
    meru_catalog_snapshot *snaps; /* oldest first */
    size_t nsnaps;
    int64_t current_snapshot_id; /* -1: none */
    meru_catalog_mlog *mlog;     /* oldest first */
    size_t nmlog;

    meru_catalog_options opts;
    meru_catalog_stats stats;
    int failed;
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

/* catalog_json.c */
/* Serialises the state as version cat->version's metadata file. */
int meru_catalog_to_json(const meru_catalog *cat, meru_buf *out);

#endif
