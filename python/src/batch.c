/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batch.c — merutable.Batch: puts and deletes collected in a
 * meru_write_batch and applied atomically (one log record, contiguous
 * sequence numbers, readers see all of it or none).
 *
 * put() and delete() convert and append with the GIL held, so they never
 * overlap each other. commit() writes with the GIL released; meanwhile the
 * batch is `busy` and any other use of it from another thread raises
 * BusyError instead of touching a batch the engine is reading. A rejected
 * row leaves the batch as it was (the C API's promise).
 */
#include "pymeru.h"

PyObject *pm_batch_new(pm_db *db)
{
    meru_write_batch *b = NULL;
    int rc = meru_write_batch_new(&b, db->schema);
    if (rc)
        return pm_raise(rc);
    pm_batch *self = PyObject_New(pm_batch, &pm_batch_type);
    if (!self) {
        meru_write_batch_free(b);
        return NULL;
    }
    self->db = (pm_db *)Py_NewRef(db);
    self->b = b;
    self->busy = 0;
    self->sequence = 0;
    return (PyObject *)self;
}

static int batch_usable(pm_batch *self)
{
    if (!self->b) {
        pm_raisef(pm_ClosedError, "the batch is closed");
        return -1;
    }
    if (self->busy) {
        pm_raisef(pm_BusyError,
                  "the batch is being committed by another thread");
        return -1;
    }
    return pm_check_open(self->db);
}

PyDoc_STRVAR(
    batch_put_doc,
    "put(row) -> None\n"
    "\n"
    "Adds a put of `row` (a dict, as DB.put). The row is checked now: a bad\n"
    "row raises and leaves the batch as it was.");

static PyObject *batch_put(pm_batch *self, PyObject *obj)
{
    if (batch_usable(self) < 0)
        return NULL;
    meru_row *row = pm_row_get(self->db);
    if (!row)
        return NULL;
    PyObject *ret = NULL;
    if (pm_row_from_mapping(self->db, row, obj) == 0) {
        /* Converting may have run Python code (utcoffset, as_tuple). */
        if (batch_usable(self) == 0) {
            int rc = meru_write_batch_put(self->b, row);
            ret = rc ? pm_raise(rc) : Py_NewRef(Py_None);
        }
    }
    pm_row_put(self->db, row);
    return ret;
}

PyDoc_STRVAR(batch_delete_doc,
             "delete(*key) -> None\n"
             "\n"
             "Adds a delete of the row with this primary key (as DB.delete).");

static PyObject *batch_delete(pm_batch *self, PyObject *args)
{
    if (batch_usable(self) < 0)
        return NULL;
    meru_row *key = pm_row_get(self->db);
    if (!key)
        return NULL;
    PyObject *ret = NULL;
    if (pm_row_from_key_args(self->db, key, args) == 0 &&
        batch_usable(self) == 0) {
        int rc = meru_write_batch_delete(self->b, key);
        ret = rc ? pm_raise(rc) : Py_NewRef(Py_None);
    }
    pm_row_put(self->db, key);
    return ret;
}

PyDoc_STRVAR(
    batch_commit_doc,
    "commit() -> int\n"
    "\n"
    "Applies everything added so far atomically and empties the batch, which\n"
    "may then be reused. Returns the sequence number of the first entry\n"
    "(entry i has first + i); 0 for an empty batch.");

static PyObject *batch_commit(pm_batch *self, PyObject *unused)
{
    if (batch_usable(self) < 0)
        return NULL;
    uint64_t first = 0;
    int rc;
    self->busy = 1;
    meru_write_batch *b = self->b;
    meru_db *h = self->db->db;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_write(h, b, &first);
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (rc)
        return pm_raise(rc);
    meru_write_batch_clear(self->b);
    self->sequence = first;
    return PyLong_FromUnsignedLongLong(first);
}

PyDoc_STRVAR(batch_clear_doc,
             "clear() -> None\n"
             "\n"
             "Discards everything added since the last commit.");

static PyObject *batch_clear(pm_batch *self, PyObject *unused)
{
    if (!self->b)
        return pm_raisef(pm_ClosedError, "the batch is closed");
    if (self->busy)
        return pm_raisef(pm_BusyError,
                         "the batch is being committed by another thread");
    meru_write_batch_clear(self->b);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(
    batch_close_doc,
    "close() -> None\n"
    "\n"
    "Discards what was not committed and frees the batch (idempotent).");

static PyObject *batch_close(pm_batch *self, PyObject *unused)
{
    if (self->busy)
        return pm_raisef(pm_BusyError,
                         "the batch is being committed by another thread");
    meru_write_batch_free(self->b);
    self->b = NULL;
    Py_RETURN_NONE;
}

static PyObject *batch_enter(pm_batch *self, PyObject *unused)
{
    if (batch_usable(self) < 0)
        return NULL;
    return Py_NewRef(self);
}

static PyObject *batch_exit(pm_batch *self, PyObject *args)
{
    PyObject *type = Py_None, *value = Py_None, *tb = Py_None;
    if (!PyArg_ParseTuple(args, "|OOO", &type, &value, &tb))
        return NULL;
    if (type == Py_None) {
        PyObject *r = batch_commit(self, NULL);
        if (!r)
            return NULL; /* the batch stays open: commit() may be retried */
        Py_DECREF(r);
    }
    PyObject *r = batch_close(self, NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static Py_ssize_t batch_len(pm_batch *self)
{
    return self->b ? (Py_ssize_t)meru_write_batch_count(self->b) : 0;
}

static PyObject *batch_get_sequence(pm_batch *self, void *closure)
{
    if (!self->sequence)
        Py_RETURN_NONE;
    return PyLong_FromUnsignedLongLong(self->sequence);
}

static PyObject *batch_get_closed(pm_batch *self, void *closure)
{
    return PyBool_FromLong(self->b == NULL);
}

static void batch_dealloc(pm_batch *self)
{
    meru_write_batch_free(self->b);
    Py_XDECREF(self->db);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef batch_methods[] = {
    {"put", (PyCFunction)batch_put, METH_O, batch_put_doc},
    {"delete", (PyCFunction)batch_delete, METH_VARARGS, batch_delete_doc},
    {"commit", (PyCFunction)batch_commit, METH_NOARGS, batch_commit_doc},
    {"clear", (PyCFunction)batch_clear, METH_NOARGS, batch_clear_doc},
    {"close", (PyCFunction)batch_close, METH_NOARGS, batch_close_doc},
    {"__enter__", (PyCFunction)batch_enter, METH_NOARGS,
     "Returns the batch itself."},
    {"__exit__", (PyCFunction)batch_exit, METH_VARARGS,
     "Commits when the block ended normally, discards when it raised; then\n"
     "closes the batch."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef batch_getset[] = {
    {"sequence", (getter)batch_get_sequence, NULL,
     "The first sequence number of the last commit (None before one).", NULL},
    {"closed", (getter)batch_get_closed, NULL, "True after close().", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods batch_as_sequence = {
    .sq_length = (lenfunc)batch_len,
};

PyDoc_STRVAR(
    batch_doc,
    "Puts and deletes applied atomically (made by DB.batch()). len(batch) is\n"
    "the number of entries not yet committed.");

PyTypeObject pm_batch_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "merutable.Batch",
    .tp_basicsize = sizeof(pm_batch),
    .tp_dealloc = (destructor)batch_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = batch_doc,
    .tp_methods = batch_methods,
    .tp_getset = batch_getset,
    .tp_as_sequence = &batch_as_sequence,
};
