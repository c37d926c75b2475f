/* SPDX-License-Identifier: Apache-2.0 */
/*
 * catalog.h — the table's version set: the in-memory state of one committed
 * metadata version (schema, LSM file set, sequence/WAL/file-number counters,
 * Iceberg snapshot history) and the crash-safe commit of the next version.
 *
 * On disk (SPEC §4, §9) every commit is one file
 *     <table>/metadata/v<N>.metadata.json
 * holding Iceberg table metadata (its "format-version", 3 by default or 2,
 * chosen at create and kept by every commit; v3-only fields never in v2)
 * plus the engine's own
 * section under the single key "merutable" (Iceberg readers ignore unknown
 * keys):
 *     "merutable": {
 *       "format-version": 1,
 *       "last-sequence": 1234,            engine sequence (56-bit)
 *       "next-file-number": 17,
 *       "wal": {"oldest-live-segment": 3, "next-segment": 5},
 *       "levels": [
 *         {"level": 0, "files": [
 *           {"path": "data/L0/<uuid>.parquet", "file-size": 4096,
 *            "row-count": 100, "min-seq": 1, "max-seq": 100,
 *            "smallest-key": "0001", "largest-key": "00ff",
 *            "manifest": "metadata/<uuid>-m0.avro",   (view: its data manifest)
 *            "dv-path": "data/dv/<uuid>-<snap>.puffin",  (optional: deletion
 *            "dv-cardinality": 3, "dv-offset": 4,         file, blob place,
 *            "dv-length": 52,                             delete manifest)
 *            "dv-manifest": "metadata/<uuid>-m1.avro"}]}],
 *       "iceberg-view": {"complete": true,
 *         "manifest-list": "metadata/snap-<id>-1-<uuid>.avro",
 *         "manifests": [{path, content, length, sequence numbers,
 *                        counts, first-row-id, live, live-bytes}]},
 *       "changes": {"floor": 900, "files": [            (change feed)
 *         {"path": "changes/<uuid>.parquet", "file-size": 2048,
 *          "row-count": 80, "min-seq": 901, "max-seq": 1000,
 *          "created-ms": 1765000000000}]}}
 * Keys are hex (lower case). Only non-empty levels are written. The view's
 * files and rules (what a commit writes, reuse, GC) are catalog_ice.c's
 * top comment; reading it back and exporting it, catalog_view.h. A version
 * without "changes" (written before the change feed) reads as floor =
 * last-sequence and no changelog files: its history is unknown.
 *
 * Commit protocol: v<N>.metadata.json is written with meru_durable_write
 * (temp "<name>.tmp", fsync, rename, fsync metadata/), then
 * metadata/version-hint.text ("N") the same way. N of a new commit is one
 * more than the highest v<M>.metadata.json present on disk, valid or not,
 * so a commit never overwrites an existing version file.
 *
 * Recovery (meru_catalog_open) never trusts the hint: it lists
 * metadata/v*.metadata.json and parses and validates the highest. The
 * commit protocol never leaves a torn version in place (the file is synced
 * under a temp name, then renamed), so a newest file that fails (a bad
 * checksum, bad JSON, missing or mistyped fields, an inconsistent engine
 * section) is damage: the open fails with MERU_ECORRUPT naming it, and
 * nothing is changed. Only a repair (meru_catalog_open_rollback) falls
 * back to lower versions, counting the skipped ones in stats. I/O errors other than
 * "corrupt" are returned, so a transient EIO never makes the table roll
 * back. Temp files ("*.tmp") are ignored.
 *
 * Checksum: each file holds its own CRC-32C as the table property
 * "merutable.checksum" ("crc32c:<8 hex>", over the file with those digits
 * read as zeros; catalog_json.c), which Iceberg readers see as one more
 * property. Files without it (older writers) are not checked.
 *
 * Decisions:
 *  - "location" is the absolute path of the table directory (no file://
 *    scheme), computed from the directory the table was opened with; the
 *    engine section uses paths relative to the table directory, Iceberg
 *    fields (manifest-list, metadata-log) use absolute ones.
 *  - An Iceberg snapshot is added only by a commit that changes the view
 *    (files added or removed, a deletion vector changed); other edits
 *    write a new metadata version with the same current snapshot. Each
 *    metadata version lists exactly one snapshot, its current one; the
 *    history is the metadata log (older versions, each complete).
 *  - With the view on (default) every snapshot's manifest list, manifests
 *    and deletion files are written and synced (files and directories)
 *    before the metadata version naming them. With the view off
 *    (opts.view_off) the metadata has no snapshot at all, so nothing in it
 *    names a missing file, and the vectors live in memory only.
 *  - Schemas (catalog_schema.c): "schemas" lists every schema the table
 *    has had, each with its "schema-id"; a schema change appends a new one
 *    (id = highest + 1) and moves "current-schema-id" to it, and never
 *    edits an existing one. Each snapshot's "schema-id" is the current
 *    schema when it was made, so older snapshots keep theirs; manifests
 *    written for a snapshot carry its schema, reused ones keep the one
 *    they were written with. "last-column-id" is the highest field id ever
 *    assigned. Format version 2 metadata has no column defaults: there the
 *    schema JSON carries a column's defaults (allowed only for columns the
 *    table was created with) under "merutable.initial-default"/
 *    "merutable.write-default", which only merutable reads; version 3 uses
 *    Iceberg's "initial-default"/"write-default". Metadata from before
 *    schema ids (one schema, id 0, widened in place) still opens.
 *  - Retention: at most `keep_versions` (K >= 1, default 10) metadata files
 *    stay on disk: the current one and the K-1 previous ones that
 *    "metadata-log" lists. After a successful commit older version files
 *    are removed, and with them the view files (manifests, lists,
 *    deletion files) only they referenced; a failed removal is counted
 *    (stats.cleanup_errors) and does not fail the commit (the next commit
 *    retries it). keep_snapshots only bounds what an old file may list.
 *  - A failure writing v<N> makes the catalog failed (sticky): the version
 *    may or may not be on disk, so later commits return MERU_EFAILED and
 *    the engine must reopen. In-memory state stays the previous version.
 *    A failure writing the hint after v<N> is durable does not fail the
 *    commit (the hint is advisory); it is counted in stats.hint_errors.
 *  - Invariants checked on commit (MERU_EINVAL) and on open (corrupt): file
 *    paths relative, unique, without ".."; min-seq <= max-seq <=
 *    last-sequence <= MERU_SEQ_MAX; smallest-key <= largest-key; files of
 *    a level >= 1 do not overlap; levels < MERU_CATALOG_MAX_LEVELS;
 *    oldest-live-segment <= next-segment.
 *
 * Not here: locking (the engine holds LOCK), reference counting of file
 * sets by readers, computing deletion vectors (the engine gives each
 * commit the full new vector of every file it changes), deleting data
 * files on its own (the orphan sweep runs only when the engine calls it).
 *
 * Threads: a catalog is not thread-safe; the engine serialises commits and
 * reads of the state under its own mutex.
 */
#ifndef MERU_CATALOG_CATALOG_H
#define MERU_CATALOG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "iceberg/dv.h"
#include "merutable.h"
#include "util/fs.h"

#define MERU_CATALOG_MAX_LEVELS        32
#define MERU_CATALOG_MAX_KEY_BYTES     (1u << 20)
#define MERU_CATALOG_MAX_PATH          1024
#define MERU_CATALOG_MAX_METADATA      (64u << 20) /* bytes of one file */
#define MERU_CATALOG_MAX_FILES         1000000u
#define MERU_CATALOG_ENGINE_FORMAT     1
#define MERU_CATALOG_DEFAULT_KEEP      10
#define MERU_CATALOG_DEFAULT_SNAPSHOTS 100
/* The Iceberg format version of a table created without one. */
#define MERU_CATALOG_DEFAULT_FORMAT    3

typedef struct meru_catalog meru_catalog;

/* A random (version 4) UUID as 36 characters + NUL; also names data files. */
#define MERU_UUID_TEXT 37
int meru_catalog_new_uuid(char out[MERU_UUID_TEXT]);

/* One SST of the LSM file set. */
typedef struct meru_catalog_file {
    int level;
    char *path; /* relative to the table dir: "data/L0/<uuid>.parquet" */
    uint64_t file_size;
    uint64_t row_count;
    uint64_t min_seq, max_seq;
    uint8_t *smallest;
    size_t smallest_len;
    uint8_t *largest;
    size_t largest_len;
    /* The Iceberg view (set by the catalog at commit; callers adding a file
     * leave them zero, meru_catalog_edit_add_file clears them): */
    char *dv_path;           /* deletion file (relative) or NULL */
    uint64_t dv_cardinality; /* rows it deletes */
    uint64_t dv_offset;      /* v3: the DV blob's place in the Puffin file */
    uint64_t dv_length;
    char *dv_manifest; /* delete manifest listing the deletion file, or NULL */
    char *manifest;    /* data manifest listing this file (relative), or NULL */
} meru_catalog_file;

/* A changelog file of the change feed (engine/db_changes.c): the changes
 * with sequences min_seq..max_seq, written by one flush. */
typedef struct meru_catalog_changelog {
    char *path; /* relative: "changes/<uuid>.parquet" */
    uint64_t file_size;
    uint64_t row_count; /* changes it holds */
    uint64_t min_seq, max_seq;
    int64_t created_ms; /* wall clock when written (retention) */
} meru_catalog_changelog;

/* Frees what a file entry owns and zeroes it. */
void meru_catalog_file_clear(meru_catalog_file *f);
/* Deep copy (MERU_ENOMEM, dst zeroed). */
int meru_catalog_file_copy(meru_catalog_file *dst, const meru_catalog_file *src);

typedef struct meru_catalog_kv {
    char *key;
    char *value;
} meru_catalog_kv;

typedef struct meru_catalog_snapshot {
    int64_t id;
    int64_t parent_id; /* -1: none */
    int64_t sequence_number;
    int64_t timestamp_ms;
    char *manifest_list;
    meru_catalog_kv *summary; /* "operation" first */
    size_t nsummary;
    /* v3 row lineage: the table's next-row-id when the snapshot was made
     * and the row ids it assigned (absent from v2 metadata). */
    bool has_row_ids;
    int64_t first_row_id, added_rows;
    int32_t schema_id; /* the current schema when it was made; -1: unknown */
} meru_catalog_snapshot;

typedef struct meru_catalog_options {
    uint32_t keep_versions;  /* K >= 1; 0 means the default */
    uint32_t keep_snapshots; /* >= 1; 0 means the default */
    /* Iceberg format version of a new table (create only; 0 =
     * MERU_CATALOG_DEFAULT_FORMAT, else 2 or 3). An existing table keeps
     * the one its metadata says. */
    int format_version;
    /* Nonzero: commits write no Iceberg view (no manifests, deletion files
     * or snapshot); the vectors stay in memory only (iceberg_view off). */
    int view_off;
    /* meru_catalog_create only: the table properties of version 1 (copied;
     * the rules of meru_catalog_edit_set_property apply). */
    const meru_catalog_kv *props;
    size_t nprops;
} meru_catalog_options;

typedef struct meru_catalog_stats {
    uint32_t versions_skipped; /* corrupt versions above the chosen one */
    int64_t hint_version;      /* what version-hint.text said, -1 if none */
    uint64_t hint_errors;      /* hint writes that failed */
    uint64_t cleanup_errors;   /* old versions that could not be removed */
    uint64_t versions_removed;
    uint64_t view_files_removed; /* manifests, lists, deletion files */
} meru_catalog_stats;

/* ---- open / create ------------------------------------------------------ */

/* Creates a new table in `table_dir` (created if missing): metadata/ and
 * data/, then metadata/v1.metadata.json (no snapshot) and the hint.
 * MERU_EEXIST if metadata/ already holds a version. The schema is cloned
 * and must validate; it becomes schema 0. `opts` may be NULL
 * (opts->format_version: 2 or 3, else MERU_EINVAL). */
int meru_catalog_create(meru_fs *fs, const char *table_dir,
                        const meru_schema *schema,
                        const meru_catalog_options *opts, meru_catalog **out);
/* Opens the newest version (see the recovery rules above). MERU_NOT_FOUND
 * if metadata/ holds no v<N>.metadata.json at all (no table, or a create
 * that crashed before its first version was durable); MERU_ECORRUPT if the
 * newest is damaged (for the rollback open: if none is valid); the
 * message names the newest file and what is wrong with it. */
int meru_catalog_open(meru_fs *fs, const char *table_dir,
                      const meru_catalog_options *opts, meru_catalog **out);
/* A repair's open: falls back past damaged newest versions to the newest
 * valid one, counting them in stats.versions_skipped (the caller reports
 * and logs the rollback). */
int meru_catalog_open_rollback(meru_fs *fs, const char *table_dir,
                               const meru_catalog_options *opts,
                               meru_catalog **out);
/* Accepts NULL. */
void meru_catalog_free(meru_catalog *cat);

/* ---- the state of the current version ------------------------------------ */

uint64_t meru_catalog_version(const meru_catalog *cat); /* N */
const char *meru_catalog_uuid(const meru_catalog *cat);
const char *meru_catalog_location(const meru_catalog *cat);
/* The current schema (its schema_id is current-schema-id). */
const meru_schema *meru_catalog_schema(const meru_catalog *cat);
int32_t meru_catalog_current_schema_id(const meru_catalog *cat);
/* Every schema of the table, oldest first; borrowed until the next commit
 * or free. */
const meru_schema *const *meru_catalog_schemas(const meru_catalog *cat,
                                               size_t *n);
/* The schema with this id, or NULL. */
const meru_schema *meru_catalog_schema_by_id(const meru_catalog *cat,
                                             int32_t id);
/* The highest field id ever assigned (new columns get ids above it). */
int32_t meru_catalog_last_column_id(const meru_catalog *cat);
/* Whether `next` may become the table's schema under the evolution rules
 * (catalog_schema.c): 0 when it has the current schema's columns (no
 * change), 1 when it only adds columns as the rules allow, MERU_ESCHEMA
 * naming the first rule broken otherwise. Defaults of existing columns are
 * not compared (the stored ones stay). */
int meru_catalog_check_schema_change(const meru_catalog *cat,
                                     const meru_schema *next);
uint64_t meru_catalog_last_sequence(const meru_catalog *cat);
uint64_t meru_catalog_next_file_number(const meru_catalog *cat);
void meru_catalog_wal(const meru_catalog *cat, uint64_t *oldest_live,
                      uint64_t *next_segment);
/* Files sorted by level; within L0 newest first (max-seq descending),
 * within L1+ by smallest key. Borrowed until the next commit or free. */
const meru_catalog_file *meru_catalog_files(const meru_catalog *cat, size_t *n);
/* The changelog files, by sequence (ascending, ranges disjoint, all above
 * the floor). Borrowed until the next commit or free. */
const meru_catalog_changelog *meru_catalog_changelogs(const meru_catalog *cat,
                                                      size_t *n);
/* The change feed's floor: every change with a sequence above it is in a
 * changelog file or not flushed yet; the ones at or below it are gone. */
uint64_t meru_catalog_changes_floor(const meru_catalog *cat);
/* Oldest first; the last one is current (n == 0: none). */
const meru_catalog_snapshot *meru_catalog_snapshots(const meru_catalog *cat,
                                                    size_t *n);
int64_t meru_catalog_current_snapshot_id(const meru_catalog *cat); /* -1 */
/* Value of a table property or NULL. */
const char *meru_catalog_property(const meru_catalog *cat, const char *key);
/* The stored properties (those set through edits), in no order; borrowed
 * until the next commit or free. */
const meru_catalog_kv *meru_catalog_properties(const meru_catalog *cat,
                                               size_t *n);
/* 1 for the keys the catalog writes into every version itself
 * ("merutable.format-version", "merutable.checksum", "write.metadata.*"):
 * never stored from an edit, skipped when a version is read. */
int meru_catalog_reserved_property(const char *key);
/* The table's Iceberg format version (2 or 3): the metadata's own. */
int meru_catalog_iceberg_format_version(const meru_catalog *cat);
const meru_catalog_stats *meru_catalog_get_stats(const meru_catalog *cat);
/* Whether a commit failed while writing its version (sticky, see above):
 * that version may be on disk, so the files it adds may be referenced and
 * must not be removed by the caller (the next open's sweep removes them
 * if the version did not make it). */
int meru_catalog_failed(const meru_catalog *cat);
/* Whether the current version carries a complete Iceberg view (false after
 * commits with the view off, for tables written before the view existed,
 * and for a table opened at another place until its next commit). */
int meru_catalog_has_view(const meru_catalog *cat);

/* ---- commits ---------------------------------------------------------------
 */

typedef struct meru_catalog_edit meru_catalog_edit;

/* A new empty edit against `cat`'s current state. */
int meru_catalog_edit_new(meru_catalog *cat, meru_catalog_edit **out);
void meru_catalog_edit_free(meru_catalog_edit *edit); /* accepts NULL */
/* Adds a file (everything copied). Checked at commit. */
int meru_catalog_edit_add_file(meru_catalog_edit *edit,
                               const meru_catalog_file *file);
/* Removes the file with this relative path (must exist at commit). */
int meru_catalog_edit_remove_file(meru_catalog_edit *edit, const char *path);
/* Gives the file with this relative path another level, keeping the rest
 * of its entry (its path, its deletion vector and the manifests that list
 * it): a trivial move, a file with nothing to merge below pushed down
 * without a rewrite. Checked at commit (MERU_EINVAL, nothing written):
 * the file must be in the table after the edit's removals, be moved once,
 * and fit its new level (no overlap at level >= 1). A commit that only
 * moves files changes no data file, so it writes no Iceberg snapshot. */
int meru_catalog_edit_move_file(meru_catalog_edit *edit, const char *path,
                                int level);
void meru_catalog_edit_set_last_sequence(meru_catalog_edit *edit, uint64_t seq);
void meru_catalog_edit_set_wal(meru_catalog_edit *edit, uint64_t oldest_live,
                               uint64_t next_segment);
void meru_catalog_edit_set_next_file_number(meru_catalog_edit *edit,
                                            uint64_t n);
/* Iceberg snapshot operation: "append", "replace", "overwrite", "delete".
 * Default: "append" without removals, "delete" without additions, else
 * "replace" (compaction). */
int meru_catalog_edit_set_operation(meru_catalog_edit *edit, const char *op);
/* Sets (value != NULL) or removes a table property. The keys the catalog
 * writes itself (meru_catalog_reserved_property) are MERU_EINVAL; which
 * other keys make sense is the engine's business. */
int meru_catalog_edit_set_property(meru_catalog_edit *edit, const char *key,
                                   const char *value);

/* Adds a changelog file (copied) / removes one by path / raises the floor.
 * Checked at commit (MERU_EINVAL): paths relative and unique, min-seq <=
 * max-seq <= last-sequence, ranges disjoint and above the floor, the floor
 * never going down nor above last-sequence. A changelog add or removal
 * alone writes no Iceberg snapshot. */
int meru_catalog_edit_add_changelog(meru_catalog_edit *edit,
                                    const meru_catalog_changelog *file);
int meru_catalog_edit_remove_changelog(meru_catalog_edit *edit,
                                       const char *path);
void meru_catalog_edit_set_changes_floor(meru_catalog_edit *edit,
                                         uint64_t floor);

/* Adds `schema` (cloned) as the table's new current schema, with the next
 * schema id; older schemas stay listed and older snapshots keep theirs.
 * Checked at commit with meru_catalog_check_schema_change: it must add at
 * least one column under the rules (MERU_ESCHEMA / MERU_EINVAL, nothing
 * written). A commit with only a schema adds no snapshot. */
int meru_catalog_edit_add_schema(meru_catalog_edit *edit,
                                 const meru_schema *schema);

/* Gives the data file `path` the deletion vector `dv` (copied): the full
 * set of its row positions the Iceberg view hides, replacing the file's
 * previous vector. Checked at commit (MERU_EINVAL, nothing written): the
 * file must be in the table after the edit (an added file may get its
 * first vector in the same edit), every position must be below its row
 * count, and the new vector must contain the previous one. A file removed
 * by a commit loses its vector. At most one vector per path per edit. */
int meru_catalog_edit_set_dv(meru_catalog_edit *edit, const char *path,
                             const meru_dv *dv);

/* Writes version N+1 from the current state plus `edit` (see the protocol
 * above). On success the catalog holds the new state; the edit may be
 * freed. MERU_EINVAL (nothing written) when the edit breaks an invariant:
 * duplicate/unknown path, bad key range, sequence going backwards... */
int meru_catalog_commit(meru_catalog *cat, const meru_catalog_edit *edit);

/* The current deletion vector of data file `path`: *out is a copy to free
 * with meru_dv_free, or NULL when the file has none (no hidden row).
 * Vectors are written at commit (v3: a Puffin deletion-vector-v1 blob; v2:
 * a position-delete file) and recorded in the engine section; after a
 * reopen a file's vector is read from there the first time it is asked
 * for, then kept in memory. With the view off they stay in memory only. */
int meru_catalog_file_dv(const meru_catalog *cat, const char *path,
                         meru_dv **out);
/* Rows the current vector of `path` hides (0 when none). */
uint64_t meru_catalog_file_dv_cardinality(const meru_catalog *cat,
                                          const char *path);

/* ---- files ------------------------------------------------------------------
 */

/* The relative paths of every data, deletion-vector and changelog file the
 * current version references, sorted by strcmp. Free with meru_catalog_paths_free. */
int meru_catalog_referenced_files(const meru_catalog *cat, char ***out,
                                  size_t *n);
void meru_catalog_paths_free(char **paths, size_t n);

/* Lists data/L<n>/ (every directory of data/ named L followed by digits)
 * and changes/, and returns the relative paths of regular files the current
 * version does not reference (sorted), skipping nothing else; then the
 * view's files (metadata/ *.avro, data/dv/ *) that no kept version
 * references (meru_catalog_view_sweep). With `remove` set, they are
 * also removed (and each directory synced). `out` may be NULL. */
int meru_catalog_sweep_orphans(meru_catalog *cat, int remove, char ***out,
                               size_t *n);

/* ---- the metadata decoder (also the fuzz entry point) -----------------------
 */

/* Parses and validates one metadata file's bytes (hostile input). On
 * success *out is a catalog in the state it describes (no fs, version 0 —
 * callers set them). Every failure is MERU_ECORRUPT naming what is wrong. */
int meru_catalog_parse_metadata(const char *json, size_t len,
                                meru_catalog **out);

#endif
