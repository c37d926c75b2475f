/* SPDX-License-Identifier: Apache-2.0 */
/*
 * changes.c — DB.changes() and merutable.ChangesIterator: the change feed
 * (meru_changes) as an iterator of dicts
 *
 *     {"seq": int, "op": "insert" | "update" | "delete",
 *      "row": dict | None, "before": dict | None}
 *
 * with row and before as get() returns them. The C iterator is pinned at
 * the table's state when changes() was called; a follower calls changes()
 * again with the last seq it saw. A since below the retention window
 * raises ExpiredError (MERU_EEXPIRED) with the engine's message, which
 * names the oldest since available.
 *
 * Threads and lifetimes as in scan.c: a lock serialises next() (each
 * change goes to one thread), the engine runs with the GIL released, the
 * iterator holds a reference to its DB, and after db.close() next()
 * raises ClosedError instead of reading.
 */
#include "pymeru.h"

#include <string.h>

typedef struct pm_changes {
    PyObject_HEAD pm_db *db;
    meru_changes_iter *it;   /* NULL at the end, after an error or close */
    PyThread_type_lock lock; /* serialises next() between threads */
} pm_changes;

/* Frees the C iterator (the caller holds the GIL and the lock). */
static void changes_release(pm_changes *self)
{
    meru_changes_iter *it = self->it;
    self->it = NULL;
    if (it) {
        Py_BEGIN_ALLOW_THREADS
            meru_changes_free(it);
        Py_END_ALLOW_THREADS
    }
}

static void lock_changes(pm_changes *self)
{
    if (!PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
            PyThread_acquire_lock(self->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
}

/* A row as a dict, or None. */
static PyObject *row_or_none(pm_db *db, const meru_row *row)
{
    if (!row)
        Py_RETURN_NONE;
    return pm_row_to_dict(db, row, NULL, -1);
}

static PyObject *change_dict(pm_db *db, const meru_change *c)
{
    const char *op = meru_change_kind_name((int)c->kind);
    PyObject *row = row_or_none(db, c->row);
    PyObject *before = row ? row_or_none(db, c->before) : NULL;
    PyObject *d = NULL;
    if (!op)
        pm_raisef(pm_Error, "unknown change kind %d", (int)c->kind);
    else if (row && before)
        d = Py_BuildValue("{s:K,s:s,s:O,s:O}", "seq",
                          (unsigned long long)c->seq, "op", op, "row", row,
                          "before", before);
    Py_XDECREF(row);
    Py_XDECREF(before);
    return d;
}

static PyObject *changes_next(pm_changes *self)
{
    lock_changes(self);
    PyObject *ret = NULL;
    if (!self->it)
        goto done; /* StopIteration */
    if (self->db->closed) {
        changes_release(self);
        pm_raisef(pm_ClosedError,
                  "the table at %U was closed while this change feed was "
                  "open",
                  self->db->path);
        goto done;
    }
    meru_change c;
    int rc;
    memset(&c, 0, sizeof c);
    Py_BEGIN_ALLOW_THREADS
        rc = meru_change_next(self->it, &c);
    Py_END_ALLOW_THREADS
    if (rc == MERU_NOT_FOUND) {
        changes_release(self);
    } else if (rc) {
        pm_raise(rc);
        /* Nothing more comes after an error: the caller starts again. */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        changes_release(self);
        PyErr_Restore(t, v, tb);
    } else {
        ret = change_dict(self->db, &c);
    }
done:
    PyThread_release_lock(self->lock);
    return ret;
}

PyDoc_STRVAR(changes_close_doc,
             "close() -> None\n"
             "\n"
             "Ends the feed early and releases the changelog files it pins.\n"
             "Later next() calls raise StopIteration.");

static PyObject *changes_close(pm_changes *self, PyObject *unused)
{
    lock_changes(self);
    changes_release(self);
    PyThread_release_lock(self->lock);
    Py_RETURN_NONE;
}

static void changes_dealloc(pm_changes *self)
{
    if (self->it) {
        meru_changes_iter *it = self->it;
        Py_BEGIN_ALLOW_THREADS
            meru_changes_free(it);
        Py_END_ALLOW_THREADS
    }
    if (self->lock)
        PyThread_free_lock(self->lock);
    Py_XDECREF(self->db);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef changes_methods[] = {
    {"close", (PyCFunction)changes_close, METH_NOARGS, changes_close_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(
    changes_doc,
    "An iterator of changes (dicts with seq, op, row, before) from\n"
    "DB.changes(). It may be shared by several threads (each change goes to\n"
    "one of them). After the handle is closed, next() raises ClosedError.");

PyTypeObject pm_changes_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "merutable.ChangesIterator",
    .tp_basicsize = sizeof(pm_changes),
    .tp_dealloc = (destructor)changes_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = changes_doc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)changes_next,
    .tp_methods = changes_methods,
};

/* since: an int >= 0 (not a bool). */
static int parse_since(PyObject *v, uint64_t *out)
{
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        pm_raisef(pm_TypeMismatchError,
                  "since must be an int (a sequence number), not %s",
                  Py_TYPE(v)->tp_name);
        return -1;
    }
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (n == -1 && PyErr_Occurred())
        return -1;
    if (overflow < 0 || (!overflow && n < 0)) {
        pm_raisef(pm_InvalidArgumentError, "since must be >= 0, not %R", v);
        return -1;
    }
    if (overflow) {
        unsigned long long u = PyLong_AsUnsignedLongLong(v);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            pm_raisef(pm_RangeError, "since %R does not fit in 64 bits", v);
            return -1;
        }
        *out = u;
        return 0;
    }
    *out = (uint64_t)n;
    return 0;
}

PyObject *pm_do_changes(pm_db *db, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"since", NULL};
    PyObject *since_o = NULL;
    uint64_t since = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O", kwlist, &since_o))
        return NULL;
    if (since_o && parse_since(since_o, &since) < 0)
        return NULL;
    if (pm_check_open(db) < 0)
        return NULL;
    pm_changes *self = PyObject_New(pm_changes, &pm_changes_type);
    if (!self)
        return NULL;
    self->it = NULL;
    self->db = (pm_db *)Py_NewRef(db);
    if (!(self->lock = PyThread_allocate_lock())) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    meru_changes_iter *it = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_changes(db->db, since, NULL, &it);
    Py_END_ALLOW_THREADS
    if (rc) {
        pm_raise(rc); /* the message first: dealloc may call the engine */
        Py_DECREF(self);
        return NULL;
    }
    self->it = it;
    return (PyObject *)self;
}
