/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog_internal.h — the catalog's struct and the helpers its files
 * share (catalog.c: state, edits, commit; catalog_open.c: create, open,
 * recovery; catalog_sweep.c: referenced files, the orphan sweep;
 * catalog_json.c: the metadata JSON writer and the hostile-input parser;
 * and the view, changelog and deletion-vector files). Nothing outside
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

/* One manifest of the current snapshot's manifest list (catalog_ice.c):
 * the manifest_file record as the list carries it, plus its live entries
 * (ADDED + EXISTING), so a manifest left with none is dropped. */
typedef struct meru_catalog_manifest {
    char *path; /* relative: "metadata/<uuid>-m<k>.avro" */
    int32_t content;
    int64_t length;
    int64_t sequence_number, min_sequence_number, added_snapshot_id;
    int32_t added_files, existing_files, deleted_files;
    int64_t added_rows, existing_rows, deleted_rows;
    bool has_first_row_id;
    int64_t first_row_id;
    uint64_t live;      /* live entries */
    int64_t live_bytes; /* their file sizes (a DV: its blob's length) */
} meru_catalog_manifest;

/* Where a view is written: the fs and directory for I/O, and the location
 * the paths inside the files name (the table's, or an export's). */
typedef struct meru_catalog_target {
    meru_fs *fs;
    const char *dir;
    const char *location;
} meru_catalog_target;

/* A view file (manifest, manifest list, deletion file) that the current
 * version no longer references: removed once no kept version does. */
typedef struct meru_catalog_retired {
    char *path;            /* relative to the table dir */
    uint64_t last_version; /* newest metadata version referencing it */
} meru_catalog_retired;

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
    int format_version; /* Iceberg "format-version": 2 or 3 */
    /* Every schema of the table, oldest first (catalog_schema.c); `schema`
     * is the current one, an element of the list (not owned apart). */
    meru_schema **schemas;
    size_t nschemas;
    meru_schema *schema;
    int32_t last_column_id;
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

    /* The Iceberg view (catalog_ice.c). */
    int64_t next_row_id; /* v3 next-row-id */
    int view;            /* the current snapshot is a complete view */
    char *view_location; /* the location the view's paths were written
                            with (the one read from the metadata) */
    char *manifest_list; /* relative path of the current list, or NULL */
    meru_catalog_manifest *mans;
    size_t nmans;

    meru_catalog_options opts;
    meru_catalog_stats stats;
    meru_catalog_retired *retired; /* survives adopt() */
    size_t nretired;
    int failed;
    meru_catalog_dvmap dvs;    /* survives adopt(); see catalog_dv.c */
    meru_catalog_dvmap staged; /* a commit's vectors, until adopted */
    uint8_t *staged_drop;      /* per dvs entry: replaced or removed */
};

/* catalog.c */
/* The table directory's parts. */
#define MERU_CATALOG_META_DIR    "metadata"
#define MERU_CATALOG_DATA_DIR    "data"
#define MERU_CATALOG_CHANGES_DIR "changes"
#define MERU_CATALOG_HINT_NAME   "version-hint.text"
/* MERU_ENOMEM with "catalog: <what>: out of memory". */
int meru_catalog_nomem(const char *what);
/* Grows *p (an array of elem-byte items, capacity *cap) to hold `need`. */
int meru_catalog_grow(void **p, size_t *cap, size_t need, size_t elem);
/* dir made absolute (getcwd), trailing slashes dropped, malloc'd. */
int meru_catalog_absolute_location(const char *dir, char **out);
/* The handle's options, defaults filled in. */
void meru_catalog_set_opts(meru_catalog *cat, const meru_catalog_options *opts);
/* Sets (value NULL: removes) a table property of state c. */
int meru_catalog_set_prop(meru_catalog *c, const char *key, const char *value);
/* "v<N>.metadata.json", malloc'd. */
char *meru_catalog_version_name(uint64_t v);
/* N of "v<N>.metadata.json" (N >= 1, at most 18 digits), else 0. */
uint64_t meru_catalog_parse_version_name(const char *name);

void meru_catalog_snapshot_clear(meru_catalog_snapshot *s);
/* Frees everything the state owns (not fs/dir) and zeroes those fields. */
void meru_catalog_state_clear(meru_catalog *cat);
/* Sorts files (level, then L0 newest first / L1+ by smallest key) and checks
 * the invariants listed in catalog.h; failures are `code`. */
int meru_catalog_check_files(meru_catalog *cat, int code);
/* "<location>/metadata/v<N>.metadata.json" into a malloc'd string. */
char *meru_catalog_metadata_path(const char *location, uint64_t version);
/* "<a>/<b>", malloc'd (NULL when out of memory). */
char *meru_catalog_join(const char *a, const char *b);
/* qsort/bsearch order of an array of C strings (char *). */
int meru_catalog_strp_cmp(const void *a, const void *b);

/* A file of the table given another level by an edit. */
typedef struct meru_catalog_move {
    char *path;
    int level;
} meru_catalog_move;

struct meru_catalog_edit {
    meru_catalog *cat;
    meru_catalog_file *adds;
    size_t nadds, capadds;
    char **removes;
    size_t nremoves, capremoves;
    meru_catalog_move *moves; /* files that change level only */
    size_t nmoves, capmoves;
    int has_seq, has_wal, has_nfn;
    uint64_t seq, wal_oldest, wal_next, nfn;
    char *op;
    meru_catalog_kv *props; /* value NULL: remove */
    size_t nprops;
    meru_schema *schema;    /* a schema to add as the current one, or NULL */
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

/* catalog_ice.c */

void meru_catalog_manifest_clear(meru_catalog_manifest *m);
int meru_catalog_manifest_copy(meru_catalog_manifest *d,
                               const meru_catalog_manifest *s);
/* Writes the Iceberg view of `next` (the state after `e` applied to
 * `cur`): deletion file, manifests, manifest list, all synced with their
 * directories, and sets next's view fields and its snapshot (or none when
 * the view is off, and no new snapshot when nothing in it changed). Files
 * the new version stops referencing are appended to cur->retired. On
 * failure the files written are removed. */
int meru_catalog_view_commit(meru_catalog *cur, meru_catalog *next,
                             const meru_catalog_edit *e, int64_t now);
/* The view writer itself: `full` writes every file of `next` as new (an
 * export into t, retiring nothing of cur); else as for a commit. */
int meru_catalog_view_write(meru_catalog *cur, meru_catalog *next,
                            const meru_catalog_edit *e, int64_t now,
                            const meru_catalog_target *t, int full);
/* Reads the on-disk vector of `f` (none: *out NULL) without caching it. */
int meru_catalog_dv_read(const meru_catalog *cat, const meru_catalog_file *f,
                         meru_dv **out);
/* Removes retired view files no kept version references any more
 * (oldest kept version `floor`); failures are counted. */
void meru_catalog_retired_gc(meru_catalog *cat, uint64_t floor);
/* Records that `path` stops being referenced after metadata version
 * `version` (an entry for the path already there keeps the newer one). */
int meru_catalog_retire(meru_catalog *cat, const char *path, uint64_t version);
void meru_catalog_retired_free(meru_catalog *cat);
/* Relative path ("data/...", "metadata/...") of an absolute view path
 * written under any location, or NULL when it has no such part. */
const char *meru_catalog_rel_of(const char *abs);

/* catalog.c */
/* Writes `c`'s state as metadata/v<c->version> under c->dir, then the
 * hint; a failure of the version file sets *failed. */
int meru_catalog_write_version(meru_catalog *c, meru_catalog_stats *stats,
                               int *failed);
/* Allocates a random positive snapshot id not used by `c`. */
int meru_catalog_random_id(const meru_catalog *c, int64_t *out);
/* Deep copy of the state (not fs/dir/stats/dvs). */
int meru_catalog_clone_state(const meru_catalog *c, meru_catalog **out);
/* Loads the on-disk vector of `f` into the map (no-op when present or
 * none). */
int meru_catalog_dv_load(meru_catalog *cat, const meru_catalog_file *f);

/* catalog_schema.c */

void meru_catalog_schemas_free(meru_catalog *cat);
/* Appends `s` (taken over, freed on failure) and raises last_column_id to
 * its field ids; does not change the current schema. */
int meru_catalog_schemas_push(meru_catalog *cat, meru_schema *s);
/* Deep copy of src's schema list, current schema, last-column-id and
 * format version into dst (which has none). */
int meru_catalog_schemas_copy(meru_catalog *dst, const meru_catalog *src);
/* Adds `next` to state `n` (a commit's clone) as its new current schema
 * under the evolution rules, with the next schema id. */
int meru_catalog_add_schema_state(meru_catalog *n, const meru_schema *next);

/* catalog_json.c */
/* Serialises the state as version cat->version's metadata file. */
int meru_catalog_to_json(const meru_catalog *cat, meru_buf *out);

#endif
