/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db.c — merutable.DB: a table handle (what merutable.open() returns).
 *
 * Each method converts its Python arguments with the GIL held, then makes
 * one engine call with the GIL released, then converts the result back.
 * Rows come from the handle's pool (convert.c), which is only touched with
 * the GIL held, so a row is never shared by two threads. Input is fully
 * converted and validated before the engine call that writes, so a bad
 * value changes nothing (put_many builds one write batch and writes it
 * only when every row converted).
 *
 * close() marks the handle closed at once (later calls from any thread
 * raise ClosedError) and then calls meru_close(), which waits for writes in
 * progress. The meru_db itself is freed by the dealloc, after every
 * snapshot, batch and iterator (each holds a reference) is gone.
 */
#include "pymeru.h"

#include <string.h>

/* ------------------------------------------------------------- writes */

PyDoc_STRVAR(
    put_doc,
    "put(row) -> int\n"
    "\n"
    "Inserts or replaces the row whose primary key is given by `row`, a dict\n"
    "of column name -> value. A missing nullable column is null (or its\n"
    "default). Returns the write's sequence number. Durable on return with\n"
    "sync=\"every\" or \"group\".");

static PyObject *db_put(pm_db *self, PyObject *obj)
{
    if (pm_check_open(self) < 0)
        return NULL;
    meru_row *row = pm_row_get(self);
    if (!row)
        return NULL;
    if (pm_row_from_mapping(self, row, obj) < 0) {
        pm_row_put(self, row);
        return NULL;
    }
    uint64_t seq = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_put(self->db, row, &seq);
    Py_END_ALLOW_THREADS
    pm_row_put(self, row);
    if (rc)
        return pm_raise(rc);
    return PyLong_FromUnsignedLongLong(seq);
}

PyDoc_STRVAR(
    put_many_doc,
    "put_many(rows) -> int\n"
    "\n"
    "Writes every dict of the iterable `rows` as one atomic batch: all rows\n"
    "or none (a bad row anywhere raises and writes nothing). Returns the\n"
    "sequence number of the first row (row i has first + i); 0 for an empty\n"
    "iterable.");

static PyObject *db_put_many(pm_db *self, PyObject *rows)
{
    if (pm_check_open(self) < 0)
        return NULL;
    PyObject *it = PyObject_GetIter(rows);
    if (!it) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            pm_raisef(pm_TypeMismatchError,
                      "put_many takes an iterable of dicts, not %s",
                      Py_TYPE(rows)->tp_name);
        }
        return NULL;
    }
    meru_write_batch *b = NULL;
    meru_row *row = NULL;
    PyObject *ret = NULL, *item;
    int rc = meru_write_batch_new(&b, self->schema);
    if (rc) {
        pm_raise(rc);
        goto done;
    }
    if (!(row = pm_row_get(self)))
        goto done;
    while ((item = PyIter_Next(it))) {
        int bad = pm_row_from_mapping(self, row, item) < 0;
        Py_DECREF(item);
        if (bad)
            goto done;
        if ((rc = meru_write_batch_put(b, row))) {
            pm_raise(rc);
            goto done;
        }
        meru_row_clear(row);
    }
    if (PyErr_Occurred())
        goto done;
    /* The iterable may have run Python code that closed the handle. */
    if (pm_check_open(self) < 0)
        goto done;
    uint64_t first = 0;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_write(self->db, b, &first);
    Py_END_ALLOW_THREADS
    ret = rc ? pm_raise(rc) : PyLong_FromUnsignedLongLong(first);
done:
    pm_row_put(self, row);
    meru_write_batch_free(b);
    Py_DECREF(it);
    return ret;
}

PyDoc_STRVAR(
    delete_doc,
    "delete(*key) -> int\n"
    "\n"
    "Deletes the row with this primary key: one value per key column, in key\n"
    "order (db.delete(1), db.delete(\"u1\", 5)), or one tuple of them.\n"
    "Deleting an absent key is not an error. Returns the sequence number.");

static PyObject *db_delete(pm_db *self, PyObject *args)
{
    if (pm_check_open(self) < 0)
        return NULL;
    meru_row *key = pm_row_get(self);
    if (!key)
        return NULL;
    if (pm_row_from_key_args(self, key, args) < 0) {
        pm_row_put(self, key);
        return NULL;
    }
    uint64_t seq = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_delete(self->db, key, &seq);
    Py_END_ALLOW_THREADS
    pm_row_put(self, key);
    if (rc)
        return pm_raise(rc);
    return PyLong_FromUnsignedLongLong(seq);
}

/* -------------------------------------------------------------- reads */

PyObject *pm_do_get(pm_db *db, const meru_snapshot *snap, PyObject *args)
{
    if (pm_check_open(db) < 0)
        return NULL;
    meru_row *key = pm_row_get(db), *out = key ? pm_row_get(db) : NULL;
    PyObject *ret = NULL;
    if (!out || pm_row_from_key_args(db, key, args) < 0)
        goto done;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_get(db->db, snap, key, out);
    Py_END_ALLOW_THREADS
    if (rc == MERU_NOT_FOUND)
        ret = Py_NewRef(Py_None);
    else if (rc)
        pm_raise(rc);
    else
        ret = pm_row_to_dict(db, out, NULL, 0);
done:
    pm_row_put(db, key);
    pm_row_put(db, out);
    return ret;
}

PyDoc_STRVAR(
    get_doc,
    "get(*key) -> dict | None\n"
    "\n"
    "The row with this primary key as a dict of every column, or None. The\n"
    "key is one value per key column in key order (db.get(1),\n"
    "db.get(\"u1\", 5)) or one tuple of them.");

static PyObject *db_get(pm_db *self, PyObject *args)
{
    return pm_do_get(self, NULL, args);
}

PyDoc_STRVAR(
    scan_doc,
    "scan(start=None, end=None, *, prefix=None, reverse=False, columns=None,\n"
    "     limit=None) -> ScanIterator\n"
    "\n"
    "Rows in primary-key order as dicts, streamed (nothing is materialised).\n"
    "start is inclusive, end exclusive; each is a key value or a tuple, and\n"
    "may give only the leading columns of a composite key (start=(\"u1\",)\n"
    "starts at the first key beginning with \"u1\"; end=(\"u1\",) stops "
    "before\n"
    "it). prefix keeps only keys beginning with that value or tuple. reverse\n"
    "walks the same range in descending order. columns: names of the columns\n"
    "each dict holds (in that order); default every column. limit: at most\n"
    "that many rows. The iterator sees the table as it was when scan() was\n"
    "called.");

static PyObject *db_scan(pm_db *self, PyObject *args, PyObject *kwargs)
{
    return pm_do_scan(self, NULL, args, kwargs);
}

PyDoc_STRVAR(
    changes_doc,
    "changes(since=0) -> ChangesIterator\n"
    "\n"
    "The change feed: every committed change with a sequence number above\n"
    "`since`, in sequence order, as dicts {\"seq\": int, \"op\": \"insert\" |\n"
    "\"update\" | \"delete\", \"row\": dict | None, \"before\": dict | None}\n"
    "(row: the row after the change, None for a delete; before: the row it\n"
    "replaced or removed, None for an insert; dicts as get() returns). The\n"
    "iterator sees the changes committed when changes() was called; to\n"
    "follow the table, call changes() again with the last seq seen (a\n"
    "read-only handle calls refresh() first). A since below the retention\n"
    "window raises ExpiredError, whose message names the oldest since\n"
    "available; a since at or beyond the last change gives no changes.");

static PyObject *db_changes(pm_db *self, PyObject *args, PyObject *kwargs)
{
    return pm_do_changes(self, args, kwargs);
}

PyDoc_STRVAR(
    batch_doc,
    "batch() -> Batch\n"
    "\n"
    "A write batch: puts and deletes applied atomically. As a context\n"
    "manager it commits at the end of the block, or discards everything if\n"
    "the block raises:\n"
    "\n"
    "    with db.batch() as b:\n"
    "        b.put({\"id\": 1}); b.delete(2)");

static PyObject *db_batch(pm_db *self, PyObject *unused)
{
    if (pm_check_open(self) < 0)
        return NULL;
    return pm_batch_new(self);
}

PyDoc_STRVAR(
    snapshot_doc,
    "snapshot() -> Snapshot\n"
    "\n"
    "Pins the table as it is now: get() and scan() through the snapshot see\n"
    "that state whatever is written later. As a context manager it is\n"
    "released at the end of the block (or call close()).");

static PyObject *db_snapshot(pm_db *self, PyObject *unused)
{
    if (pm_check_open(self) < 0)
        return NULL;
    return pm_snapshot_new(self);
}

/* ------------------------------------------------------- maintenance */

/* One blocking engine call on the handle with the GIL released. */
static PyObject *call_engine(pm_db *self, int (*fn)(meru_db *))
{
    if (pm_check_open(self) < 0)
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = fn(self->db);
    Py_END_ALLOW_THREADS
    if (rc)
        return pm_raise(rc);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(
    flush_doc,
    "flush() -> None\n"
    "\n"
    "Writes what the memtable holds to a level-0 Parquet file and waits\n"
    "until it is committed. ReadOnlyError on a read-only handle.");

static PyObject *db_flush(pm_db *self, PyObject *unused)
{
    return call_engine(self, meru_flush);
}

PyDoc_STRVAR(
    compact_doc,
    "compact() -> None\n"
    "\n"
    "Flushes, then merges every level down into the deepest one, dropping\n"
    "overwritten versions and deletes. Runs in the calling thread (other\n"
    "Python threads keep running). ReadOnlyError on a read-only handle.");

static PyObject *db_compact(pm_db *self, PyObject *unused)
{
    return call_engine(self, meru_compact);
}

PyDoc_STRVAR(
    export_iceberg_doc,
    "export_iceberg(target_dir) -> None\n"
    "\n"
    "Writes a self-contained Apache Iceberg table of the current state into\n"
    "target_dir (str, bytes or os.PathLike), which must not exist or be\n"
    "empty (ExistsError otherwise): the data files hard-linked where the\n"
    "file system allows, copied otherwise, and the metadata, manifests and\n"
    "deletion files with every path inside target_dir, so the copy stays\n"
    "valid when this table moves or is deleted. Any Iceberg reader can read\n"
    "it, and merutable.open(target_dir, read_only=True) opens it. It holds\n"
    "the committed files: rows still in the memtable are not in it (call\n"
    "flush() first). Works on read-only handles.");

static PyObject *db_export_iceberg(pm_db *self, PyObject *arg)
{
    PyObject *bytes = NULL;
    if (!PyUnicode_FSConverter(arg, &bytes))
        return NULL;
    if (pm_check_open(self) < 0) {
        Py_DECREF(bytes);
        return NULL;
    }
    const char *target = PyBytes_AS_STRING(bytes);
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_export_iceberg(self->db, target);
    Py_END_ALLOW_THREADS
    Py_DECREF(bytes);
    if (rc)
        return pm_raise(rc);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(
    refresh_doc,
    "refresh() -> None\n"
    "\n"
    "On a read-only handle, catches up with what the writing process has\n"
    "committed since open (or the last refresh). A no-op on a writer.");

static PyObject *db_refresh(pm_db *self, PyObject *unused)
{
    return call_engine(self, meru_refresh);
}

PyDoc_STRVAR(
    stats_doc,
    "stats() -> dict\n"
    "\n"
    "The engine's counters: last_sequence, levels (files, bytes, rows per\n"
    "level), memtable, write path, flush and compaction, caches, ... (the\n"
    "same object as `meru stats DIR --json`). Works after close().");

static PyObject *db_stats(pm_db *self, PyObject *unused)
{
    char *json = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_stats_json(self->db, &json);
    Py_END_ALLOW_THREADS
    if (rc)
        return pm_raise(rc);
    PyObject *d = pm_json_loads(json);
    meru_free(json);
    return d;
}

PyDoc_STRVAR(
    close_doc,
    "close() -> None\n"
    "\n"
    "Closes the table: waits for writes in progress, flushes the memtable to\n"
    "Parquet, syncs, stops the background threads and releases the lock.\n"
    "Idempotent. Afterwards every method raises ClosedError (stats() and the\n"
    "properties still work), and so do iterators, snapshots and batches of\n"
    "the handle.");

static PyObject *db_close(pm_db *self, PyObject *unused)
{
    if (self->closed || !self->db)
        Py_RETURN_NONE;
    self->closed = 1;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_close(self->db);
    Py_END_ALLOW_THREADS
    if (rc)
        return pm_raise(rc);
    Py_RETURN_NONE;
}

static PyObject *db_enter(pm_db *self, PyObject *unused)
{
    if (pm_check_open(self) < 0)
        return NULL;
    return Py_NewRef(self);
}

static PyObject *db_exit(pm_db *self, PyObject *args)
{
    PyObject *r = db_close(self, NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

/* --------------------------------------------------------- properties */

static PyObject *db_get_schema(pm_db *self, void *closure)
{
    Py_ssize_t n = PyList_GET_SIZE(self->schema_desc);
    PyObject *list = PyList_New(n);
    for (Py_ssize_t i = 0; list && i < n; i++) {
        PyObject *d = PyDict_Copy(PyList_GET_ITEM(self->schema_desc, i));
        if (!d) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, d);
    }
    return list;
}

static PyObject *db_get_primary_key(pm_db *self, void *closure)
{
    PyObject *t = PyTuple_New((Py_ssize_t)self->nkey);
    for (size_t i = 0; t && i < self->nkey; i++)
        PyTuple_SET_ITEM(t, (Py_ssize_t)i,
                         Py_NewRef(self->cols[self->key_cols[i]].name));
    return t;
}

static PyObject *db_get_path(pm_db *self, void *closure)
{
    return Py_NewRef(self->path);
}

static PyObject *db_get_name(pm_db *self, void *closure)
{
    return PyUnicode_FromString(meru_schema_table_name(self->schema));
}

static PyObject *db_get_read_only(pm_db *self, void *closure)
{
    return PyBool_FromLong(self->read_only);
}

static PyObject *db_get_closed(pm_db *self, void *closure)
{
    return PyBool_FromLong(self->closed);
}

static PyGetSetDef db_getset[] = {
    {"schema", (getter)db_get_schema, NULL,
     "The columns as a list of dicts: name, type (as in a schema string:\n"
     "\"int64\", \"decimal(10,2)\", \"fixed(16)\"), nullable, field_id,\n"
     "primary_key (bool), precision and scale (decimal), length (fixed),\n"
     "default (the write default, when there is one).",
     NULL},
    {"primary_key", (getter)db_get_primary_key, NULL,
     "The primary-key column names, in key order (a tuple).", NULL},
    {"path", (getter)db_get_path, NULL, "The table's directory.", NULL},
    {"name", (getter)db_get_name, NULL, "The table's name.", NULL},
    {"read_only", (getter)db_get_read_only, NULL,
     "True for a handle opened with read_only=True.", NULL},
    {"closed", (getter)db_get_closed, NULL, "True after close().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef db_methods[] = {
    {"put", (PyCFunction)db_put, METH_O, put_doc},
    {"put_many", (PyCFunction)db_put_many, METH_O, put_many_doc},
    {"get", (PyCFunction)db_get, METH_VARARGS, get_doc},
    {"delete", (PyCFunction)db_delete, METH_VARARGS, delete_doc},
    {"scan", (PyCFunction)(void (*)(void))db_scan, METH_VARARGS | METH_KEYWORDS,
     scan_doc},
    {"changes", (PyCFunction)(void (*)(void))db_changes,
     METH_VARARGS | METH_KEYWORDS, changes_doc},
    {"batch", (PyCFunction)db_batch, METH_NOARGS, batch_doc},
    {"snapshot", (PyCFunction)db_snapshot, METH_NOARGS, snapshot_doc},
    {"flush", (PyCFunction)db_flush, METH_NOARGS, flush_doc},
    {"compact", (PyCFunction)db_compact, METH_NOARGS, compact_doc},
    {"export_iceberg", (PyCFunction)db_export_iceberg, METH_O,
     export_iceberg_doc},
    {"refresh", (PyCFunction)db_refresh, METH_NOARGS, refresh_doc},
    {"stats", (PyCFunction)db_stats, METH_NOARGS, stats_doc},
    {"close", (PyCFunction)db_close, METH_NOARGS, close_doc},
    {"__enter__", (PyCFunction)db_enter, METH_NOARGS,
     "Returns the handle itself."},
    {"__exit__", (PyCFunction)db_exit, METH_VARARGS,
     "Closes the handle (close())."},
    {NULL, NULL, 0, NULL},
};

static PyObject *db_repr(pm_db *self)
{
    return PyUnicode_FromFormat("<merutable.DB %R%s%s>", self->path,
                                self->read_only ? " read-only" : "",
                                self->closed ? " closed" : "");
}

static void db_dealloc(pm_db *self)
{
    if (self->weakrefs)
        PyObject_ClearWeakRefs((PyObject *)self);
    if (self->db) {
        meru_db *h = self->db;
        int was_open = !self->closed;
        Py_BEGIN_ALLOW_THREADS
            if (was_open)
                (void)meru_close(h); /* nobody is left to hear an error */
            meru_db_free(h);
        Py_END_ALLOW_THREADS
        self->db = NULL;
    }
    for (int i = 0; i < self->npool; i++)
        meru_row_free(self->pool[i]);
    if (self->cols) {
        for (size_t i = 0; i < self->ncols; i++)
            Py_XDECREF(self->cols[i].name);
        PyMem_Free(self->cols);
    }
    Py_XDECREF(self->col_index);
    Py_XDECREF(self->path);
    Py_XDECREF(self->schema_desc);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(
    db_doc,
    "An open table (made by merutable.open()). Safe to share between threads:\n"
    "writes from several threads are grouped into shared log syncs, reads run\n"
    "beside writes. Use it as a context manager to close it at the end.");

PyTypeObject pm_db_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "merutable.DB",
    .tp_basicsize = sizeof(pm_db),
    .tp_dealloc = (destructor)db_dealloc,
    .tp_repr = (reprfunc)db_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = db_doc,
    .tp_weaklistoffset = offsetof(pm_db, weakrefs),
    .tp_methods = db_methods,
    .tp_getset = db_getset,
};
