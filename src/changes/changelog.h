/* SPDX-License-Identifier: Apache-2.0 */
/*
 * changelog.h — the change feed's history files: what a flush turns into
 * changes, and the changelog Parquet file that holds them.
 *
 * A changelog file is an SST (sst.h) of the table's *changelog schema*, one
 * row per change, keyed and ordered by sequence number:
 *     _seq      INT64, the key (field id MERU_CHANGELOG_FIELD_ID_SEQ)
 *     _op       STRING "insert" | "update" | "delete" (..._OP)
 *     <col>     every table column with its own field id: the row after
 *               the change; for a delete only the key columns are set
 *     before_<col>  every non-key table column, field id + MERU_CHANGELOG_
 *               BEFORE_ID_OFFSET: the row before (update, delete)
 * plus the SST's hidden columns (_merutable_ikey, _merutable_seq = _seq,
 * _merutable_op). A name taken by a table column gets "_" appended until
 * it is free; readers go by field id, so names only serve other engines
 * (DuckDB: read_parquet of <table>/changes/ *.parquet). Every column but
 * _seq and _op is nullable. A table column added later reads as its
 * initial default (else null) in older files, as in data files.
 *
 * Why an SST: the SST writer and reader already give the page index on the
 * key (a reader seeks straight to since_seq + 1), page CRCs, hostile-input
 * decoding (fuzzed) and field-id mapping for schema evolution.
 *
 * Kinds (SPEC §10): walking a key's versions in sequence order from the
 * state before them (the pre-image: the newest older version in the
 * table's files), a put on no live row is an INSERT, a put on a live row an
 * UPDATE (before = that row), a delete of a live row a DELETE (before =
 * it), a delete on no live row nothing.
 */
#ifndef MERU_CHANGES_CHANGELOG_H
#define MERU_CHANGES_CHANGELOG_H

#include <stddef.h>
#include <stdint.h>

#include "memtable/memtable.h"
#include "merutable.h"
#include "sst/sst.h"
#include "util/buf.h"
#include "util/fs.h"

#define MERU_CHANGELOG_FIELD_ID_SEQ 2147482990
#define MERU_CHANGELOG_FIELD_ID_OP  2147482991
/* Table field ids must stay below this for the feed (MERU_ENOTSUP). */
#define MERU_CHANGELOG_BEFORE_ID_OFFSET 1073741824

/* The changelog schema of table schema `table` (see above). MERU_ENOTSUP
 * when a table field id is too large for the before_ ids. */
int meru_changelog_schema(const meru_schema *table, meru_schema **out);

/* One change, pointing at bytes owned elsewhere (the memtable, a pre-image
 * buffer). */
typedef struct meru_changelog_rec {
    uint64_t seq;
    int kind; /* meru_change_kind */
    const uint8_t *ukey;
    size_t klen;
    const uint8_t *value; /* rowcodec of the new row (INSERT, UPDATE) */
    size_t vlen;
    const uint8_t *before; /* rowcodec of the old row (UPDATE, DELETE) */
    size_t blen;
} meru_changelog_rec;

/* The pre-image of one key: live (a put) with its rowcodec value, or not. */
typedef struct meru_changelog_pre {
    int live;
    const uint8_t *value;
    size_t vlen;
} meru_changelog_pre;

/*
 * The changes of memtable `mem` (all of it), given the pre-image of each
 * of its distinct user keys in key order (pre[i] for the i-th key met
 * walking the memtable; nkeys of them): *out gets them sorted by sequence
 * (free with free()), *n their count. Pointers go into `mem` and the
 * pre-images. MERU_EINVAL when the key count differs, MERU_ENOMEM.
 */
int meru_changelog_collect(const meru_memtable *mem,
                           const meru_changelog_pre *pre, size_t nkeys,
                           meru_changelog_rec **out, size_t *n);

/* What a finished changelog file holds. */
typedef struct meru_changelog_meta {
    uint64_t file_size, rows, min_seq, max_seq;
} meru_changelog_meta;

/*
 * Writes recs[0..n) (n >= 1, sorted by sequence) to a new file `path` as
 * rows of `cl` (meru_changelog_schema of `table`), fsyncs it (not its
 * directory). `so` as for an SST. On failure the file is removed.
 */
int meru_changelog_write(meru_fs *fs, const char *path,
                         const meru_schema *table, const meru_schema *cl,
                         const meru_changelog_rec *recs, size_t n,
                         const meru_sst_options *so, meru_changelog_meta *out);

/* Reading one file. */
typedef struct meru_changelog_reader meru_changelog_reader;

/*
 * Opens changelog file `path` and positions it at the first change with
 * sequence > since. `table` and `cl` must outlive the reader. Errors:
 * MERU_NOT_FOUND (no such file), MERU_ECORRUPT, MERU_EIO, MERU_ENOMEM.
 */
int meru_changelog_open(meru_changelog_reader **out, meru_fs *fs,
                        const char *path, const meru_schema *table,
                        const meru_schema *cl, uint64_t since);
/*
 * The next change: MERU_OK with *seq, *kind and the rows filled (`row`
 * for INSERT/UPDATE, `before` for UPDATE/DELETE; both rows of `table`,
 * cleared first), MERU_NOT_FOUND at the end, MERU_ECORRUPT when the file's
 * content is not a valid change (bad op, a sequence out of order, a null in
 * a NOT NULL column).
 */
int meru_changelog_next(meru_changelog_reader *r, uint64_t *seq, int *kind,
                        meru_row *row, meru_row *before);
void meru_changelog_close(meru_changelog_reader *r); /* NULL is fine */

#endif
