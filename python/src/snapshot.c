/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snapshot.c — merutable.Snapshot: a pinned state of the table
 * (meru_snapshot), read through get() and scan().
 *
 * A snapshot may be closed by one thread while another is inside a get()
 * on it with the GIL released, so the C snapshot is freed only when no
 * call uses it: `users` counts those calls (changed under the GIL) and the
 * last one out frees a snapshot that was closed meanwhile. An iterator
 * made by scan() pins its own view and does not need the snapshot after
 * scan() returns.
 */
#include "pymeru.h"

#include <string.h>

PyObject *pm_snapshot_new(pm_db *db)
{
    meru_snapshot *s = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_snapshot_new(db->db, &s);
    Py_END_ALLOW_THREADS
    if (rc)
        return pm_raise(rc);
    pm_snapshot *self = PyObject_New(pm_snapshot, &pm_snapshot_type);
    if (!self) {
        meru_snapshot_free(s);
        return NULL;
    }
    self->db = (pm_db *)Py_NewRef(db);
    self->snap = s;
    self->closed = 0;
    self->users = 0;
    return (PyObject *)self;
}

static void snap_free(pm_snapshot *self)
{
    meru_snapshot *s = self->snap;
    self->snap = NULL;
    if (s) {
        Py_BEGIN_ALLOW_THREADS
            meru_snapshot_free(s);
        Py_END_ALLOW_THREADS
    }
}

static int snap_use(pm_snapshot *self)
{
    if (self->closed) {
        pm_raisef(pm_ClosedError, "the snapshot is closed");
        return -1;
    }
    self->users++;
    return 0;
}

static void snap_unuse(pm_snapshot *self)
{
    if (--self->users == 0 && self->closed)
        snap_free(self);
}

PyDoc_STRVAR(snap_get_doc, "get(*key) -> dict | None\n"
                           "\n"
                           "DB.get() as of the snapshot.");

static PyObject *snap_get(pm_snapshot *self, PyObject *args)
{
    if (snap_use(self) < 0)
        return NULL;
    PyObject *r = pm_do_get(self->db, self->snap, args);
    snap_unuse(self);
    return r;
}

PyDoc_STRVAR(
    snap_scan_doc,
    "scan(start=None, end=None, *, prefix=None, reverse=False, columns=None,\n"
    "     limit=None) -> ScanIterator\n"
    "\n"
    "DB.scan() as of the snapshot.");

static PyObject *snap_scan(pm_snapshot *self, PyObject *args, PyObject *kw)
{
    if (snap_use(self) < 0)
        return NULL;
    PyObject *r = pm_do_scan(self->db, self->snap, args, kw);
    snap_unuse(self);
    return r;
}

PyDoc_STRVAR(
    snap_close_doc,
    "close() -> None\n"
    "\n"
    "Releases the snapshot (idempotent): the files only it pinned may then be\n"
    "deleted. Iterators it made keep their own view and keep working.");

static PyObject *snap_close(pm_snapshot *self, PyObject *unused)
{
    self->closed = 1;
    if (self->users == 0)
        snap_free(self);
    Py_RETURN_NONE;
}

static PyObject *snap_enter(pm_snapshot *self, PyObject *unused)
{
    if (self->closed)
        return pm_raisef(pm_ClosedError, "the snapshot is closed");
    return Py_NewRef(self);
}

static PyObject *snap_exit(pm_snapshot *self, PyObject *args)
{
    Py_DECREF(snap_close(self, NULL));
    Py_RETURN_FALSE;
}

static PyObject *snap_get_sequence(pm_snapshot *self, void *closure)
{
    if (!self->snap)
        return pm_raisef(pm_ClosedError, "the snapshot is closed");
    return PyLong_FromUnsignedLongLong(meru_snapshot_sequence(self->snap));
}

static PyObject *snap_get_closed(pm_snapshot *self, void *closure)
{
    return PyBool_FromLong(self->closed);
}

static void snap_dealloc(pm_snapshot *self)
{
    snap_free(self);
    Py_XDECREF(self->db);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef snap_methods[] = {
    {"get", (PyCFunction)snap_get, METH_VARARGS, snap_get_doc},
    {"scan", (PyCFunction)(void (*)(void))snap_scan,
     METH_VARARGS | METH_KEYWORDS, snap_scan_doc},
    {"close", (PyCFunction)snap_close, METH_NOARGS, snap_close_doc},
    {"__enter__", (PyCFunction)snap_enter, METH_NOARGS,
     "Returns the snapshot itself."},
    {"__exit__", (PyCFunction)snap_exit, METH_VARARGS,
     "Releases the snapshot (close())."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef snap_getset[] = {
    {"sequence", (getter)snap_get_sequence, NULL,
     "The sequence number the snapshot reads at: it sees every write with a\n"
     "sequence number up to this one.",
     NULL},
    {"closed", (getter)snap_get_closed, NULL, "True after close().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(
    snap_doc,
    "A consistent, unchanging view of the table (made by DB.snapshot()).");

PyTypeObject pm_snapshot_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "merutable.Snapshot",
    .tp_basicsize = sizeof(pm_snapshot),
    .tp_dealloc = (destructor)snap_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = snap_doc,
    .tp_methods = snap_methods,
    .tp_getset = snap_getset,
};
