/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msq.h — the inside of the SQLite extension (merutable_sqlite.so).
 *
 * The extension is a client of the public API (include/merutable.h) and of
 * SQLite's loadable-extension interface (sqlite3ext.h), nothing else. Its
 * parts, one file each:
 *
 *   ext.c       entry point: registers the `merutable` module and the
 *               merutable_stats() SQL function
 *   registry.c  one meru_db per (table directory, mode) in the process,
 *               shared by every connection's virtual tables (refcounted)
 *   value.c     SQL values <-> row columns (writes, results, constraint
 *               values as key bounds), text of dates
 *   key.c       the order-preserving key bytes the module compares and
 *               merges with
 *   vtab.c      xCreate/xConnect/xDisconnect: the declared SQL schema
 *   plan.c      xBestIndex: which constraints, order and limit the module
 *               takes, written to idxNum (machine) and idxStr (people)
 *   cursor.c    xFilter/xNext/xColumn: gets, scans, and their merge with
 *               the transaction's own pending writes
 *   write.c     xUpdate and the transaction methods: a SQL transaction is
 *               one meru_write_batch applied when SQLite commits
 *   changes.c   the `merutable_changes` module: the change feed as a
 *               table-valued function (eponymous) or a declared table
 *
 * Internal names use the msq_ prefix; meru_ is the engine's public API.
 * Nothing here prints, aborts or keeps global state other than the
 * registry (guarded by its own mutex).
 */
#ifndef MERU_SQLITE_MSQ_H
#define MERU_SQLITE_MSQ_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3ext.h>

#include "merutable.h"

/* Every file but ext.c reaches SQLite through the api pointer ext.c owns. */
#ifndef MSQ_EXT_MAIN
SQLITE_EXTENSION_INIT3
#endif

/* ------------------------------------------------------------ registry */

/* An open table shared by the virtual tables of this process. */
typedef struct msq_handle {
    char *path;    /* realpath of the table directory */
    int read_only; /* opened with read_only = 1 */
    meru_db *db;
    int refs; /* virtual tables using it (under the registry mutex) */
    struct msq_handle *next;
} msq_handle;

/*
 * The handle for `path` in `read_only` mode, opened on first use (the table
 * must exist). On failure returns NULL and sets *errmsg (sqlite3_malloc'd)
 * to the engine's message.
 */
msq_handle *msq_handle_acquire(const char *path, int read_only, char **errmsg);
/*
 * A handle to read `path` with: this process's writer when it has one
 * (it sees its own commits at once), else the shared read-only handle
 * (the caller refreshes it). Errors as msq_handle_acquire.
 */
msq_handle *msq_handle_acquire_reader(const char *path, char **errmsg);
/* Drops one reference; the last closes the table. NULL is a no-op. */
void msq_handle_release(msq_handle *h);
/*
 * Fills *out with the stats of the handle open on `path` (writer first,
 * else read-only). MERU_NOT_FOUND when this process has no such handle.
 */
int msq_handle_stats_json(const char *path, char **out);

/* --------------------------------------------------------------- values */

/* How a key column compares in SQL against in the engine (value.c). */
typedef enum msq_kind {
    MSQ_KIND_INT,   /* BOOLEAN, INT32, INT64: SQL INTEGER */
    MSQ_KIND_FLOAT, /* FLOAT, DOUBLE: SQL REAL */
    MSQ_KIND_TEXT,  /* STRING: SQL TEXT, bytewise (BINARY collation) */
    MSQ_KIND_BLOB,  /* BINARY, FIXED: SQL BLOB, bytewise */
    MSQ_KIND_TIME   /* DATE, TIMESTAMP(TZ), DECIMAL: SQL TEXT whose text
                       order is not the engine's order: equality only */
} msq_kind;

msq_kind msq_type_kind(meru_type t);
/* The declared SQL type: INTEGER, REAL, TEXT or BLOB. */
const char *msq_type_sql(meru_type t);

/*
 * Sets column `col` of `row` from a SQL value as an INSERT/UPDATE stores
 * it (numbers into numeric columns, text into strings, dates, timestamps
 * and decimals as text, blobs into binary). On a value the column cannot
 * hold returns a status and sets *errmsg (sqlite3_malloc'd; NULL when out
 * of memory) to the engine's message, or to ours for a SQL type the
 * engine never sees (text into a binary column). With `defaults` (an
 * INSERT), NULL into a column that has a write default leaves it unset in
 * the fresh `row`, and the engine writes the default.
 */
int msq_value_to_column(meru_row *row, size_t col, sqlite3_value *v,
                        int defaults, char **errmsg);

/* Returns column `col` of `row` as the SQL result (NULL when unset). */
void msq_column_result(sqlite3_context *ctx, const meru_row *row, size_t col);
/* Copies one column's state (unset, null or value) from `src` to `dst`,
 * rows of the same schema. */
int msq_copy_column(meru_row *dst, const meru_row *src, size_t col);
/*
 * What a constraint value becomes as a key bound (cursor.c):
 *   MSQ_CONV_OK      `row` column set; *incl says whether the bound
 *                    includes it (it may change from the operator's)
 *   MSQ_CONV_EMPTY   no stored key can satisfy the constraint
 *   MSQ_CONV_NONE    the constraint limits nothing the module can use (a
 *                    bound beyond the column's range, a value of a SQL
 *                    type SQLite compares by its own rules): SQLite keeps
 *                    checking it, so dropping it is safe
 * `fixed_len` is the column's FIXED length (0 for other types).
 */
enum { MSQ_CONV_OK = 0, MSQ_CONV_EMPTY = 1, MSQ_CONV_NONE = 2 };
/* The side of the bound: equality, lower (> / >=) or upper (< / <=). */
enum { MSQ_SIDE_EQ = 0, MSQ_SIDE_LOWER = 1, MSQ_SIDE_UPPER = 2 };
int msq_value_to_bound(meru_row *row, size_t col, sqlite3_value *v, int side,
                       int *incl, int fixed_len);

/*
 * Whether a constraint with this right-hand value, checked by the module
 * alone, gives exactly SQLite's answer (so the constraint may be omitted
 * from SQLite's own checks): an integer on an integer column, text on a
 * string column (BINARY collation is the caller's check), a blob of the
 * right length on a binary column.
 */
int msq_value_exact(const meru_schema *s, size_t col, sqlite3_value *v);

/* A growable byte buffer (sqlite3_malloc'd). */
typedef struct msq_buf {
    uint8_t *p;
    size_t n, cap;
} msq_buf;
int msq_buf_reserve(msq_buf *b, size_t more);
int msq_buf_put(msq_buf *b, const void *p, size_t n);
void msq_buf_free(msq_buf *b);

/*
 * Appends the order-preserving bytes of the first `nkey` key columns of
 * `row`: memcmp of two encodings orders them as the engine orders keys,
 * and the encoding of a leading run of columns is a byte prefix of the
 * whole key's. MERU_EINVAL when a key column is unset or null.
 */
int msq_key_encode(const meru_schema *s, const meru_row *row, size_t nkey,
                   msq_buf *out);
/* Sets the key columns of `row` from a whole encoded key; MERU_EINVAL on
 * bytes that are not one (a hostile _merutable_key value). */
int msq_key_decode(const meru_schema *s, const uint8_t *p, size_t n,
                   meru_row *row);
/* memcmp, then the shorter first. */
int msq_bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
/* Compares key `a` with the leading columns encoded in `b` (a prefix):
 * 0 when `a` starts with `b`. */
int msq_key_cmp_prefix(const uint8_t *a, size_t an, const uint8_t *b,
                       size_t bn);

/* ------------------------------------------------------------- the vtab */

/* One pending write of a transaction. Immutable once logged; shared by
 * the log and the sorted views built from it (refcounted). */
typedef struct msq_entry {
    int refs;
    int is_delete;
    meru_row *row; /* the whole row (put) or the key columns (delete) */
    size_t keylen;
    uint64_t hash;
    uint8_t key[]; /* msq_key_encode of the whole key */
} msq_entry;

/* The latest entry per key, in key order: what a scan merges with. */
typedef struct msq_view {
    int refs;
    size_t n;
    msq_entry *e[];
} msq_view;

/* Writes of the open SQL transaction (write.c). */
typedef struct msq_tx {
    int open;        /* between xBegin and xCommit/xRollback */
    int synced;      /* the batch was applied by xSync */
    msq_entry **log; /* in write order */
    size_t nlog, caplog;
    size_t *marks; /* savepoint i -> log length when it began */
    int nmarks, capmarks;
    size_t *slots; /* open addressing: log index + 1, 0 = empty */
    size_t nslots, nused;
    msq_view *view; /* cached sorted view; NULL when stale */
} msq_tx;

typedef struct msq_vtab {
    sqlite3_vtab base;
    sqlite3 *db;
    char *name; /* the SQL table name */
    msq_handle *h;
    const meru_schema *schema;
    size_t ncols; /* user columns; column ncols is the hidden key if any */
    size_t nkey;
    int key_cols[MERU_MAX_KEY_COLUMNS];
    int *fixed_len; /* per column: FIXED length, else 0 */
    int hidden_key; /* composite key: PRIMARY KEY(_merutable_key) */
    msq_tx tx;
    meru_row *scratch; /* rows for key lookups in xUpdate */
    meru_row *scratch2;
} msq_vtab;

#define MSQ_HIDDEN_KEY "_merutable_key"

/* The SQLite error for the engine's last failure: sets zErrMsg of `vt`
 * and returns the SQLite code for `rc`. */
int msq_fail(msq_vtab *vt, int rc);
int msq_sqlite_code(int rc);
/* An argument as written in CREATE VIRTUAL TABLE, without its quotes and
 * the blanks around it (sqlite3_malloc'd; NULL when out of memory). */
char *msq_dequote(const char *arg);

/* plan.c */
int msq_best_index(sqlite3_vtab *vt, sqlite3_index_info *info);

/*
 * idxNum layout, shared by plan.c (writes) and cursor.c (reads).
 * argv order in xFilter: the equality values of the first `neq` key
 * columns, then the range column's lower bound, its upper bound (or one
 * value for both when MSQ_P_EQRANGE), then LIMIT, then OFFSET.
 */
#define MSQ_P_NEQ_MASK   0x3f /* key columns with an equality */
#define MSQ_P_LOWER      0x40 /* a lower bound on key column neq */
#define MSQ_P_LOWER_INCL 0x80 /* ... >= rather than > */
#define MSQ_P_UPPER      0x100
#define MSQ_P_UPPER_INCL 0x200
#define MSQ_P_EQRANGE    0x400 /* float key column neq: = as [v, v] */
#define MSQ_P_DESC       0x800 /* ORDER BY consumed, descending */
#define MSQ_P_LIMIT      0x1000
#define MSQ_P_OFFSET     0x2000
#define MSQ_P_IN         0x4000 /* the last equality is an IN list, all at once */

/* cursor.c */
int msq_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out);
int msq_close(sqlite3_vtab_cursor *cur);
int msq_filter(sqlite3_vtab_cursor *cur, int idxnum, const char *idxstr,
               int argc, sqlite3_value **argv);
int msq_next(sqlite3_vtab_cursor *cur);
int msq_eof(sqlite3_vtab_cursor *cur);
int msq_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col);
int msq_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out);

/* write.c */
int msq_update(sqlite3_vtab *vt, int argc, sqlite3_value **argv,
               sqlite3_int64 *rowid);
int msq_begin(sqlite3_vtab *vt);
int msq_sync(sqlite3_vtab *vt);
int msq_commit(sqlite3_vtab *vt);
int msq_rollback(sqlite3_vtab *vt);
int msq_savepoint(sqlite3_vtab *vt, int i);
int msq_release(sqlite3_vtab *vt, int i);
int msq_rollback_to(sqlite3_vtab *vt, int i);
/* Frees every pending write (disconnect). */
void msq_tx_clear(msq_tx *tx);
/* The pending entry for an encoded key, or NULL. */
msq_entry *msq_tx_lookup(msq_tx *tx, const uint8_t *key, size_t n);
/* The sorted view of the pending writes (a new reference), or NULL when
 * there are none; *rc is set on failure (out of memory). */
msq_view *msq_tx_view(msq_tx *tx, int *rc);
void msq_view_unref(msq_view *v);
void msq_entry_unref(msq_entry *e);

/* vtab.c */
extern sqlite3_module msq_module;
/* changes.c */
extern sqlite3_module msq_changes_module;

#endif /* MERU_SQLITE_MSQ_H */
