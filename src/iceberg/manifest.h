/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest.h — Iceberg manifests and manifest lists (Iceberg table spec,
 * "Manifests", "Manifest Lists"), format versions 2 and 3, as Avro object
 * container files.
 *
 * What it offers:
 *  - Plain C structs for a manifest entry (manifest_entry + data_file) and a
 *    manifest-list entry (manifest_file), with a has_ flag for every field
 *    the spec makes optional, so "null" (inherit / unknown) and 0 differ.
 *  - Encoders and file writers producing exactly the spec's Avro schemas
 *    (field ids, element ids, int-keyed maps as arrays of key/value records
 *    with logicalType "map", optional fields as ["null", T] unions with
 *    default null) and header metadata (manifests: schema, schema-id,
 *    partition-spec, partition-spec-id, format-version, content; manifest
 *    lists: snapshot-id, parent-snapshot-id, sequence-number,
 *    format-version and, in v3, first-row-id). v2 files carry no v3 field.
 *  - Readers that decode such files back, from ours or from another
 *    writer: record fields are matched by field id (unknown ones skipped),
 *    so field order and extra fields do not matter. Input is hostile.
 *
 * The table is unpartitioned: `partition` is the empty struct and the
 * partition spec is "[]". Paths are stored as given.
 *
 * Who calls it: the catalog at each commit writes one manifest per change
 * (new data files, or the delete files of the commit), reuses unchanged
 * manifests, and writes one manifest list; the writers return what the
 * manifest list needs (length, counts, sequence-number bounds). After a
 * reopen it reads manifests back.
 *
 * Ownership: writers read the caller's structs only during the call.
 * Decoded files own every string and array they point to; free them with
 * meru_ice_manifest_free / meru_ice_manifest_list_free.
 */
#ifndef MERU_ICEBERG_MANIFEST_H
#define MERU_ICEBERG_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/fs.h"

/* manifest_entry.status */
enum {
    MERU_ICE_STATUS_EXISTING = 0,
    MERU_ICE_STATUS_ADDED = 1,
    MERU_ICE_STATUS_DELETED = 2
};
/* data_file.content */
enum {
    MERU_ICE_CONTENT_DATA = 0,
    MERU_ICE_CONTENT_POSITION_DELETES = 1,
    MERU_ICE_CONTENT_EQUALITY_DELETES = 2
};
/* manifest content (header "content" and manifest_file.content) */
enum { MERU_ICE_MANIFEST_DATA = 0, MERU_ICE_MANIFEST_DELETES = 1 };

/* Default cap on the size of a manifest or manifest list a reader loads. */
#define MERU_ICE_MANIFEST_MAX_BYTES ((size_t)1 << 30)

/* One entry of an int-keyed metrics map (field id -> count). */
typedef struct meru_ice_count {
    int32_t field_id;
    int64_t value;
} meru_ice_count;

/* One entry of a bounds map (field id -> single-value bytes, metrics.h). */
typedef struct meru_ice_bound {
    int32_t field_id;
    const uint8_t *data;
    size_t len;
} meru_ice_bound;

typedef struct meru_ice_data_file {
    int32_t content;         /* MERU_ICE_CONTENT_* */
    const char *file_path;   /* required */
    const char *file_format; /* required: "parquet", "puffin", ... */
    int64_t record_count;    /* rows, or the cardinality of a DV */
    int64_t file_size_in_bytes;
    /* Metrics maps: a NULL/0-length map is written as null. */
    const meru_ice_count *column_sizes;
    size_t n_column_sizes;
    const meru_ice_count *value_counts;
    size_t n_value_counts;
    const meru_ice_count *null_value_counts;
    size_t n_null_value_counts;
    const meru_ice_count *nan_value_counts;
    size_t n_nan_value_counts;
    const meru_ice_bound *lower_bounds;
    size_t n_lower_bounds;
    const meru_ice_bound *upper_bounds;
    size_t n_upper_bounds;
    const int64_t *split_offsets; /* ascending; none: null */
    size_t n_split_offsets;
    bool has_sort_order_id;
    int32_t sort_order_id;
    /* v3 only (a v2 writer refuses them with MERU_EINVAL). */
    bool has_first_row_id;
    int64_t first_row_id;
    /* v2 and v3: the one data file a delete file references (NULL: none). */
    const char *referenced_data_file;
    /* v3 only: a deletion vector's blob in its Puffin file. */
    bool has_content_offset;
    int64_t content_offset;
    int64_t content_size_in_bytes; /* required with content_offset */
} meru_ice_data_file;

typedef struct meru_ice_manifest_entry {
    int32_t status; /* MERU_ICE_STATUS_* */
    /* Null (has_ false) means "inherit from the manifest list": only for
     * ADDED entries; EXISTING and DELETED ones must carry both sequence
     * numbers (the writer checks). */
    bool has_snapshot_id;
    int64_t snapshot_id;
    bool has_sequence_number;
    int64_t sequence_number;
    bool has_file_sequence_number;
    int64_t file_sequence_number;
    meru_ice_data_file data_file;
} meru_ice_manifest_entry;

/* What a manifest's header says. */
typedef struct meru_ice_manifest_info {
    int format_version; /* 2 or 3 */
    int32_t content;    /* MERU_ICE_MANIFEST_DATA or _DELETES */
    /* The table schema as Iceberg JSON (Appendix C), the one current when
     * the manifest is written; and its id. */
    const char *schema_json;
    int32_t schema_id;
    /* The partition spec's fields array as JSON; NULL = "[]". */
    const char *partition_spec_json;
    int32_t partition_spec_id;
} meru_ice_manifest_info;

/* What the manifest list needs about a manifest just written. */
typedef struct meru_ice_manifest_summary {
    int64_t manifest_length; /* bytes of the file */
    int32_t added_files_count, existing_files_count, deleted_files_count;
    int64_t added_rows_count, existing_rows_count, deleted_rows_count;
    /* The smallest explicit data sequence number of a live (not DELETED)
     * entry; has_ false when every live entry inherits it (then it is the
     * manifest's own sequence number) or there is none. */
    bool has_min_sequence_number;
    int64_t min_sequence_number;
    /* Rows of data files with a null first_row_id (what a v3 manifest list
     * must reserve row ids for: the manifest's first_row_id advances by
     * this). */
    int64_t unassigned_rows;
} meru_ice_manifest_summary;

/* Encodes a manifest file into `out` (appended). MERU_EINVAL names the
 * entry and field when an entry breaks a rule of the format version. */
int meru_ice_manifest_encode(meru_buf *out, const meru_ice_manifest_info *info,
                             const meru_ice_manifest_entry *entries, size_t n,
                             meru_ice_manifest_summary *summary);
/* Encodes and writes a new file at `path` (meru_ice_write_file: created,
 * synced, closed; removed on failure). summary may be NULL. */
int meru_ice_manifest_write(meru_fs *fs, const char *path,
                            const meru_ice_manifest_info *info,
                            const meru_ice_manifest_entry *entries, size_t n,
                            meru_ice_manifest_summary *summary);

/* A decoded manifest. */
typedef struct meru_ice_manifest {
    meru_ice_manifest_info info; /* strings owned by the manifest */
    meru_ice_manifest_entry *entries;
    size_t n_entries;
    struct meru_ice_manifest_mem *mem; /* private */
} meru_ice_manifest;

/* Decodes a manifest from data[0..len) (copied as needed: data may go). */
int meru_ice_manifest_decode(meru_ice_manifest **out, const uint8_t *data,
                             size_t len);
/* Reads and decodes the file (at most max_bytes; 0 = the default cap). */
int meru_ice_manifest_read(meru_fs *fs, const char *path, size_t max_bytes,
                           meru_ice_manifest **out);
void meru_ice_manifest_free(meru_ice_manifest *m); /* accepts NULL */

/* ---------------------------------------------------- manifest lists --- */

typedef struct meru_ice_field_summary {
    bool contains_null;
    bool has_contains_nan;
    bool contains_nan;
    const uint8_t *lower_bound; /* NULL: none */
    size_t lower_bound_len;
    const uint8_t *upper_bound; /* NULL: none */
    size_t upper_bound_len;
} meru_ice_field_summary;

typedef struct meru_ice_manifest_file {
    const char *manifest_path;
    int64_t manifest_length;
    int32_t partition_spec_id;
    int32_t content; /* MERU_ICE_MANIFEST_* */
    int64_t sequence_number;
    int64_t min_sequence_number;
    int64_t added_snapshot_id;
    int32_t added_files_count, existing_files_count, deleted_files_count;
    int64_t added_rows_count, existing_rows_count, deleted_rows_count;
    /* One summary per partition field (none for an unpartitioned table:
     * written as an empty list). */
    const meru_ice_field_summary *partitions;
    size_t n_partitions;
    /* v3: data manifests get one (delete manifests never). */
    bool has_first_row_id;
    int64_t first_row_id;
} meru_ice_manifest_file;

typedef struct meru_ice_manifest_list_info {
    int format_version; /* 2 or 3 */
    int64_t snapshot_id;
    bool has_parent_snapshot_id;
    int64_t parent_snapshot_id;
    int64_t sequence_number;
    int64_t first_row_id; /* v3: the snapshot's first-row-id */
} meru_ice_manifest_list_info;

int meru_ice_manifest_list_encode(meru_buf *out,
                                  const meru_ice_manifest_list_info *info,
                                  const meru_ice_manifest_file *files,
                                  size_t n);
/* Writes a new file at `path`; *length (optional) gets its size. */
int meru_ice_manifest_list_write(meru_fs *fs, const char *path,
                                 const meru_ice_manifest_list_info *info,
                                 const meru_ice_manifest_file *files, size_t n,
                                 uint64_t *length);

typedef struct meru_ice_manifest_list {
    /* From the header; has_ flags say which keys were there. */
    int format_version;
    bool has_snapshot_id;
    meru_ice_manifest_list_info info;
    bool has_first_row_id;
    meru_ice_manifest_file *files;
    size_t n_files;
    struct meru_ice_manifest_mem *mem; /* private */
} meru_ice_manifest_list;

int meru_ice_manifest_list_decode(meru_ice_manifest_list **out,
                                  const uint8_t *data, size_t len);
int meru_ice_manifest_list_read(meru_fs *fs, const char *path, size_t max_bytes,
                                meru_ice_manifest_list **out);
void meru_ice_manifest_list_free(meru_ice_manifest_list *l);

/* The manifest_file record for a manifest written with `summary`, as a v2/v3
 * manifest list must carry it when the manifest is new in this snapshot:
 * sequence numbers = `sequence_number` (the snapshot's), min sequence number
 * from the summary (or the snapshot's), added by `snapshot_id`. The path is
 * borrowed. first_row_id is left unset (assigned by the caller, v3 data
 * manifests only). */
void meru_ice_manifest_file_from_summary(meru_ice_manifest_file *out,
                                         const char *path, int32_t content,
                                         int32_t partition_spec_id,
                                         int64_t snapshot_id,
                                         int64_t sequence_number,
                                         const meru_ice_manifest_summary *s);

#endif
