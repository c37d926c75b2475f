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

/* The pre-image of one key: live (a put) with its rowcodec value, or not. */
typedef struct meru_changelog_pre {
    int live;
    const uint8_t *value;
    size_t vlen;
} meru_changelog_pre;

/*
 * What one walk of a flushed memtable gives the change feed: its distinct
 * user keys in key order (copied one after the other, for the lookup of
 * their pre-images) and its entries in key order, each remembered as a
 * memtable position (8 bytes) plus the index of its key, whether the next
 * entry is its key's older version, and its place in sequence order: 16
 * bytes an entry, where whole change records were 64 (and 128 while
 * sorting). Once the pre-images are known (meru_changelog_set_pre) the
 * entries give way to what the write reads, in sequence order: 24 bytes a
 * sequence, and the caller's per-key pre-image table can go. The changes
 * themselves are derived while writing. Holds a reference on the memtable.
 */
typedef struct meru_changelog_set meru_changelog_set;

/* Walks `mem` (immutable) once. MERU_ENOMEM; MERU_ENOTSUP past 2^31 - 3
 * entries. */
int meru_changelog_collect(meru_memtable *mem, meru_changelog_set **out);
/* The distinct user keys, ascending (borrowed from the set); *n of them.
 * NULL (with *n the count) after meru_changelog_drop_keys. */
const meru_sst_ukey *meru_changelog_keys(const meru_changelog_set *s,
                                         size_t *n);
/* How many distinct user keys the set has (dropped or not). */
size_t meru_changelog_nkeys(const meru_changelog_set *s);
/* Frees the keys (16 bytes a key plus the keys' bytes): once their lookup
 * is done they are needed again only when it must be redone, and the
 * memtable still has them (meru_changelog_keys_again). */
void meru_changelog_drop_keys(meru_changelog_set *s);
/* Walks the memtable again for the keys meru_changelog_drop_keys freed (a
 * no-op when they are there). MERU_ENOMEM. */
int meru_changelog_keys_again(meru_changelog_set *s);
/*
 * Gives the set the pre-image of each of its keys (pre[i] for key i of
 * meru_changelog_keys; NULL: no key has a live one): the table of what
 * each change reads, in sequence order, is made and the entries in key
 * order are freed. `pre` itself is not kept, only the pre-images' value
 * pointers, which must stay valid until the set is freed. Once per set.
 * MERU_ENOMEM; MERU_ERANGE for a pre-image of 4 GiB or more; MERU_EINVAL
 * the second time.
 */
int meru_changelog_set_pre(meru_changelog_set *s,
                           const meru_changelog_pre *pre);
void meru_changelog_set_free(meru_changelog_set *s); /* NULL is fine */

/*
 * The row-group size of a changelog file for memtables of memtable_bytes:
 * the Parquet writer holds a row group's encoded pages until it ends, and
 * the L0 profile's 128 MiB would hold a whole flush's history (both rows
 * of every change) at once, beside the L0 file written at the same time.
 * An eighth of a memtable, at most 8 MiB and at least one page: the
 * memory stays bounded and a reader seeking by sequence still finds its
 * page through each row group's page index.
 */
static inline uint64_t meru_changelog_row_group_bytes(uint64_t memtable_bytes,
                                                      uint64_t page_bytes)
{
    uint64_t rg = memtable_bytes / 8;
    if (rg > (8u << 20))
        rg = 8u << 20;
    return rg < page_bytes ? page_bytes : rg;
}

/* What a finished changelog file holds. */
typedef struct meru_changelog_meta {
    uint64_t file_size, rows, min_seq, max_seq;
} meru_changelog_meta;

/*
 * Writes the changes of set `s` (given its pre-images: meru_changelog_set_
 * pre) with sequence > trim to a new file `path` as rows of `cl`
 * (meru_changelog_schema of `table`), in sequence order, streaming (no
 * change is held past its row), and fsyncs it (not its directory). It may
 * be called again for the same set (another trim). `so` as for an SST.
 * When there is no change (only deletes of absent keys, or all at or below
 * trim) no file is made and out->rows is 0. On failure the file is
 * removed; MERU_EINVAL for a set without its pre-images.
 */
int meru_changelog_write(meru_fs *fs, const char *path,
                         const meru_schema *table, const meru_schema *cl,
                         const meru_changelog_set *s, uint64_t trim,
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
