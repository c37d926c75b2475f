/* SPDX-License-Identifier: Apache-2.0 */
/*
 * posdel.h — Iceberg position-delete files (format v2), as Parquet.
 *
 * Schema (Iceberg spec, "Position Delete Files"): two required columns,
 * `file_path` (string, field id 2147483546) and `pos` (long, field id
 * 2147483545), no `row` column. Rows are sorted by file_path (byte order,
 * which is code-point order for UTF-8) then pos, as the spec requires. One
 * file may hold the positions of several data files.
 *
 * For v3 tables the spec forbids new position-delete files: deletion
 * vectors (dv.h) replace them. This is for tables kept at format version 2.
 *
 * I/O through meru_fs: the writer creates the file (it must not exist),
 * writes it with our Parquet writer (column profile), syncs and closes it,
 * and removes it on failure; the caller syncs the directory. The reader
 * uses our Parquet reader and treats the file as hostile: wrong types or
 * field ids, nulls, negative positions and unsorted rows are
 * MERU_ECORRUPT.
 */
#ifndef MERU_ICEBERG_POSDEL_H
#define MERU_ICEBERG_POSDEL_H

#include <stddef.h>
#include <stdint.h>

#include "iceberg/dv.h"
#include "util/fs.h"

#define MERU_POSDEL_FILE_PATH_ID 2147483546
#define MERU_POSDEL_POS_ID       2147483545

/* The deleted positions of one data file. */
typedef struct meru_posdel_input {
    const char *data_file; /* the data file's path as the manifest has it */
    const meru_dv *dv;     /* empty sets are left out */
} meru_posdel_input;

typedef struct meru_posdel_summary {
    uint64_t file_size;    /* the manifest entry's file_size_in_bytes */
    uint64_t record_count; /* positions written: its record_count */
} meru_posdel_summary;

/* Writes a new position-delete file at `path` holding every position of
 * in[0..n) (in any order; data files must be distinct, MERU_EINVAL
 * otherwise). summary may be NULL. */
int meru_posdel_write(meru_fs *fs, const char *path,
                      const meru_posdel_input *in, size_t n,
                      meru_posdel_summary *summary);

/* A decoded file: one entry per data file, in file_path order. */
typedef struct meru_posdel_entry {
    char *data_file;
    meru_dv *dv;
} meru_posdel_entry;

typedef struct meru_posdel_file {
    meru_posdel_entry *entries;
    size_t n;
    uint64_t record_count;
} meru_posdel_file;

int meru_posdel_read(meru_fs *fs, const char *path, meru_posdel_file **out);
void meru_posdel_file_free(meru_posdel_file *f); /* accepts NULL */

#endif
