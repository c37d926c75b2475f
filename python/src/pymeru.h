/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pymeru.h — what the files of the CPython extension module `merutable`
 * (python/src/) share: the Python object types, the error classes, the
 * value converters and the one rule for calling the engine.
 *
 * The module is a thin surface over the public C API (include/merutable.h)
 * and nothing else: no engine-internal header is included anywhere here.
 *
 * Threads and the GIL. Every engine call that can block (I/O, fsync, a
 * mutex held by a background flush) runs between Py_BEGIN/END_ALLOW_THREADS,
 * so other Python threads run meanwhile. Python objects are only touched
 * with the GIL held; the engine objects the C API says belong to one thread
 * at a time (rows, write batches, iterators) are either owned by one call
 * (rows come from a per-handle pool that is only touched under the GIL) or
 * guarded by a lock / busy flag on their Python object (iterators, batches,
 * snapshots). meru_errmsg() is per OS thread, and a call that released the
 * GIL comes back on the same thread, so the message read after the call is
 * the one of that call.
 *
 * Lifetimes. Every iterator, snapshot and batch holds a strong reference to
 * its DB object, so meru_db_free() (in the DB's dealloc) runs only when no
 * engine object of the handle is left, as the C API requires. db.close()
 * calls meru_close() at once; objects that outlive it raise ClosedError.
 */
#ifndef PYMERU_H
#define PYMERU_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include <merutable.h>

/* ------------------------------------------------------------ columns */

/* What the converters need to know about one column. */
typedef struct pm_col {
    PyObject *name; /* interned str */
    meru_type type;
    int nullable;
    int32_t precision, scale; /* DECIMAL */
    int32_t fixed_length;     /* FIXED */
    int key_pos;              /* position in the primary key, or -1 */
} pm_col;

/* Rows kept for reuse by one handle (taken and returned under the GIL). */
#define PM_ROW_POOL 8

/* ------------------------------------------------------------ objects */

typedef struct pm_db {
    PyObject_HEAD meru_db *db; /* NULL once freed (dealloc) */
    const meru_schema *schema; /* borrowed from db */
    int closed;
    int read_only;
    size_t ncols;
    size_t nkey;
    pm_col *cols;
    int key_cols[MERU_MAX_KEY_COLUMNS];
    PyObject *col_index;   /* dict: column name -> int index */
    PyObject *path;        /* str */
    PyObject *schema_desc; /* list of dicts (see schema_describe) */
    meru_row *pool[PM_ROW_POOL];
    int npool;
    PyObject *weakrefs;
} pm_db;

typedef struct pm_snapshot {
    PyObject_HEAD pm_db *db;
    meru_snapshot *snap; /* NULL once freed */
    int closed;
    int users; /* calls using snap with the GIL released */
} pm_snapshot;

typedef struct pm_iter {
    PyObject_HEAD pm_db *db;
    meru_iter *it; /* NULL at the end, after an error or after close */
    PyThread_type_lock lock; /* serialises next() between threads */
    Py_ssize_t nout;         /* columns in the result dicts */
    int *out_cols;           /* their indices, in output order */
    int finished;
} pm_iter;

typedef struct pm_batch {
    PyObject_HEAD pm_db *db;
    meru_write_batch *b; /* NULL once closed */
    int busy;            /* a commit is running with the GIL released */
    uint64_t sequence;   /* first sequence number of the last commit */
} pm_batch;

extern PyTypeObject pm_db_type;
extern PyTypeObject pm_snapshot_type;
extern PyTypeObject pm_iter_type;
extern PyTypeObject pm_batch_type;
extern PyTypeObject pm_changes_type;

/* -------------------------------------------------------------- errors */

/* The module's exception classes (set up by pm_errors_init). */
extern PyObject *pm_Error;
extern PyObject *pm_InvalidArgumentError;
extern PyObject *pm_TypeMismatchError;
extern PyObject *pm_RangeError;
extern PyObject *pm_ClosedError;
extern PyObject *pm_BusyError;
extern PyObject *pm_CorruptionError;
extern PyObject *pm_ExpiredError;

int pm_errors_init(PyObject *module);
/* The class raised for an engine status code. */
PyObject *pm_error_class(int code);
/* Raises the class of `code` with the engine's message of the last failure
 * on this thread (meru_errmsg()); returns NULL for `return pm_raise(rc);`. */
PyObject *pm_raise(int code);
/* Raises `cls` with a formatted message; returns NULL. */
PyObject *pm_raisef(PyObject *cls, const char *fmt, ...);
/* Raises ClosedError unless the handle is open; returns -1 if it raised. */
int pm_check_open(pm_db *db);

/* --------------------------------------------------------- conversion */

int pm_convert_init(void);
/* json.loads(text). */
PyObject *pm_json_loads(const char *text);
/* Reads the table's columns into db->cols, col_index, schema_desc. */
int pm_db_load_schema(pm_db *db);

/* A row of the handle's schema from the pool (or a new one); NULL with an
 * exception set. Give it back with pm_row_put (cleared there). */
meru_row *pm_row_get(pm_db *db);
void pm_row_put(pm_db *db, meru_row *row);

/* Sets column `col` of `row` from a Python value. */
int pm_set_value(pm_db *db, meru_row *row, size_t col, PyObject *v);
/* Fills `row` from a mapping of column name -> value; a column absent from
 * the mapping stays unset (null, or its write default). */
int pm_row_from_mapping(pm_db *db, meru_row *row, PyObject *mapping);
/* Sets the key columns of `row` from `key`: a tuple of values in key
 * order, or one value for the first key column. `partial` allows a leading
 * part of a composite key (scan bounds); otherwise every key column. */
int pm_row_from_key(pm_db *db, meru_row *row, PyObject *key, int partial);
/* The key of get()/delete() arguments: several values, or one tuple. */
int pm_row_from_key_args(pm_db *db, meru_row *row, PyObject *args);
/* Python value of column `col` (None for null). */
PyObject *pm_get_value(pm_db *db, const meru_row *row, size_t col);
/* A dict of every column (ncols < 0) or of the columns `cols[0..n)`. */
PyObject *pm_row_to_dict(pm_db *db, const meru_row *row, const int *cols,
                         Py_ssize_t n);

/* --------------------------------------------------------------- reads */

/* get() and scan() shared by DB and Snapshot (`snap` may be NULL). */
PyObject *pm_do_get(pm_db *db, const meru_snapshot *snap, PyObject *args);
PyObject *pm_do_scan(pm_db *db, const meru_snapshot *snap, PyObject *args,
                     PyObject *kwargs);

/* DB.changes(since=0): a merutable.ChangesIterator (changes.c). */
PyObject *pm_do_changes(pm_db *db, PyObject *args, PyObject *kwargs);

/* Used by snapshot.c to make a snapshot of an open handle. */
PyObject *pm_snapshot_new(pm_db *db);
PyObject *pm_batch_new(pm_db *db);

#endif /* PYMERU_H */
