/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scan.c — DB.scan() / Snapshot.scan() and merutable.ScanIterator.
 *
 * The iterator wraps one meru_iter: it streams (one row converted per
 * next()), and pins the view of the table it started on, so it sees one
 * consistent state however long it runs. The C iterator belongs to one
 * thread at a time; here a lock serialises next() so several Python
 * threads may share one iterator (each row goes to exactly one of them).
 * The lock is always waited for with the GIL released, and the GIL is
 * re-taken while the lock is held, never the other way round, so the two
 * cannot deadlock.
 *
 * After db.close() an iterator that has not finished raises ClosedError
 * (the engine would keep it readable; a Python handle that is closed
 * should not be). Its C iterator is freed at the end, on an error, on
 * close() or in the dealloc, with the GIL released (dropping the last
 * reference to a view may delete obsolete files).
 */
#include "pymeru.h"

#include <string.h>

/* Frees the C iterator (the caller holds the GIL and the lock). */
static void iter_release(pm_iter *self)
{
    meru_iter *it = self->it;
    self->it = NULL;
    self->finished = 1;
    if (it) {
        Py_BEGIN_ALLOW_THREADS
            meru_iter_free(it);
        Py_END_ALLOW_THREADS
    }
}

static void lock_iter(pm_iter *self)
{
    if (!PyThread_acquire_lock(self->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
            PyThread_acquire_lock(self->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
}

static PyObject *iter_next(pm_iter *self)
{
    lock_iter(self);
    PyObject *ret = NULL;
    if (self->finished)
        goto done; /* StopIteration */
    if (self->db->closed) {
        iter_release(self);
        pm_raisef(pm_ClosedError,
                  "the table at %U was closed while this scan was open",
                  self->db->path);
        goto done;
    }
    const meru_row *row = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_iter_next(self->it, &row);
    Py_END_ALLOW_THREADS
    if (rc == MERU_NOT_FOUND) {
        iter_release(self);
    } else if (rc) {
        pm_raise(rc);
        /* The C iterator's errors are sticky: nothing more will come. */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        iter_release(self);
        PyErr_Restore(t, v, tb);
    } else {
        ret = pm_row_to_dict(self->db, row, self->out_cols, self->nout);
    }
done:
    PyThread_release_lock(self->lock);
    return ret;
}

PyDoc_STRVAR(
    iter_close_doc,
    "close() -> None\n"
    "\n"
    "Ends the scan early and releases the table state it pins (files a\n"
    "compaction replaced are deleted only when no scan reads them). Later\n"
    "next() calls raise StopIteration.");

static PyObject *iter_close(pm_iter *self, PyObject *unused)
{
    lock_iter(self);
    iter_release(self);
    PyThread_release_lock(self->lock);
    Py_RETURN_NONE;
}

static void iter_dealloc(pm_iter *self)
{
    if (self->it) {
        meru_iter *it = self->it;
        Py_BEGIN_ALLOW_THREADS
            meru_iter_free(it);
        Py_END_ALLOW_THREADS
    }
    if (self->lock)
        PyThread_free_lock(self->lock);
    PyMem_Free(self->out_cols);
    Py_XDECREF(self->db);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef iter_methods[] = {
    {"close", (PyCFunction)iter_close, METH_NOARGS, iter_close_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(
    iter_doc,
    "An iterator of rows (dicts) from DB.scan() or Snapshot.scan(). It may be\n"
    "shared by several threads (each row goes to one of them). After the\n"
    "handle is closed, next() raises ClosedError.");

PyTypeObject pm_iter_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "merutable.ScanIterator",
    .tp_basicsize = sizeof(pm_iter),
    .tp_dealloc = (destructor)iter_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = iter_doc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)iter_next,
    .tp_methods = iter_methods,
};

/* ---------------------------------------------------------------- scan */

/* A key bound: NULL for None, else a pooled row with its leading key
 * columns set (the caller returns it to the pool). */
static int bound_row(pm_db *db, PyObject *key, meru_row **out)
{
    *out = NULL;
    if (key == Py_None)
        return 0;
    meru_row *r = pm_row_get(db);
    if (!r)
        return -1;
    *out = r;
    return pm_row_from_key(db, r, key, 1);
}

/* limit: None -> no limit (0 in the C API); an int >= 0. */
static int parse_limit(PyObject *v, uint64_t *out, int *zero)
{
    *out = 0;
    *zero = 0;
    if (v == Py_None)
        return 0;
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        pm_raisef(pm_TypeMismatchError, "limit must be an int or None, not %s",
                  Py_TYPE(v)->tp_name);
        return -1;
    }
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (n == -1 && PyErr_Occurred())
        return -1;
    if (overflow < 0 || (!overflow && n < 0)) {
        pm_raisef(pm_InvalidArgumentError, "limit must be >= 0, not %R", v);
        return -1;
    }
    *out = overflow ? 0 : (uint64_t)n; /* beyond 2**63: no limit */
    *zero = !overflow && n == 0;
    return 0;
}

/* The projection: a list of str (not one str) -> names[] and out_cols[]. */
typedef struct projection {
    PyObject *seq; /* keeps the names alive during meru_scan */
    const char **names;
    int *cols;
    Py_ssize_t n;
} projection;

static int parse_columns(pm_db *db, PyObject *v, projection *p)
{
    memset(p, 0, sizeof *p);
    if (v == Py_None)
        return 0;
    if (PyUnicode_Check(v) || PyBytes_Check(v)) {
        pm_raisef(pm_TypeMismatchError,
                  "columns must be a list of column names, not one %s",
                  Py_TYPE(v)->tp_name);
        return -1;
    }
    if (!(p->seq = PySequence_Fast(v, "columns must be a list of names")))
        return -1;
    p->n = PySequence_Fast_GET_SIZE(p->seq);
    p->names = PyMem_Calloc((size_t)p->n + 1, sizeof *p->names);
    p->cols = PyMem_Calloc((size_t)p->n + 1, sizeof *p->cols);
    if (!p->names || !p->cols) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < p->n; i++) {
        PyObject *name = PySequence_Fast_GET_ITEM(p->seq, i);
        if (!PyUnicode_Check(name)) {
            pm_raisef(pm_TypeMismatchError, "column names are str, not %s",
                      Py_TYPE(name)->tp_name);
            return -1;
        }
        if (!(p->names[i] = PyUnicode_AsUTF8(name)))
            return -1;
        /* An unknown name is left for meru_scan to report; -1 until then. */
        PyObject *idx = PyDict_GetItemWithError(db->col_index, name);
        if (!idx && PyErr_Occurred())
            return -1;
        p->cols[i] = idx ? (int)PyLong_AsLong(idx) : -1;
    }
    return 0;
}

PyObject *pm_do_scan(pm_db *db, const meru_snapshot *snap, PyObject *args,
                     PyObject *kwargs)
{
    static char *kwlist[] = {"start",   "end",   "prefix", "reverse",
                             "columns", "limit", NULL};
    PyObject *start = Py_None, *end = Py_None, *prefix = Py_None;
    PyObject *columns = Py_None, *limit_o = Py_None;
    int reverse = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO$OpOO", kwlist, &start,
                                     &end, &prefix, &reverse, &columns,
                                     &limit_o))
        return NULL;
    if (pm_check_open(db) < 0)
        return NULL;
    meru_row *lo = NULL, *hi = NULL, *pre = NULL;
    projection proj;
    memset(&proj, 0, sizeof proj);
    pm_iter *self = NULL;
    PyObject *ret = NULL;
    uint64_t limit;
    int zero;
    if (parse_limit(limit_o, &limit, &zero) < 0 ||
        parse_columns(db, columns, &proj) < 0 ||
        bound_row(db, start, &lo) < 0 || bound_row(db, end, &hi) < 0 ||
        bound_row(db, prefix, &pre) < 0)
        goto done;

    self = PyObject_New(pm_iter, &pm_iter_type);
    if (!self)
        goto done;
    memset((char *)self + sizeof(PyObject), 0, sizeof *self - sizeof(PyObject));
    self->db = (pm_db *)Py_NewRef(db);
    if (!(self->lock = PyThread_allocate_lock())) {
        PyErr_NoMemory();
        goto done;
    }
    meru_scan_options o;
    meru_scan_options_init(&o);
    o.snapshot = snap;
    o.lower = lo;
    o.lower_inclusive = 1;
    o.upper = hi;
    o.upper_inclusive = 0;
    o.prefix = pre;
    o.reverse = reverse;
    o.limit = limit;
    o.columns = proj.seq ? proj.names : NULL;
    o.ncolumns = (size_t)proj.n;
    meru_iter *it = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_scan(db->db, &o, &it);
    Py_END_ALLOW_THREADS
    if (rc) {
        pm_raise(rc);
        goto done;
    }
    self->it = it;
    if (zero) /* limit=0: no rows (0 means "no limit" to the C API) */
        iter_release(self);
    if (proj.seq) {
        self->out_cols = proj.cols;
        self->nout = proj.n;
        proj.cols = NULL;
    }
    ret = (PyObject *)self;
    self = NULL;
done:
    Py_XDECREF(self);
    pm_row_put(db, lo);
    pm_row_put(db, hi);
    pm_row_put(db, pre);
    Py_XDECREF(proj.seq);
    PyMem_Free(proj.names);
    PyMem_Free(proj.cols);
    return ret;
}
