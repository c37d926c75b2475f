/* SPDX-License-Identifier: Apache-2.0 */
/*
 * module.c — the `merutable._merutable` extension module: its exception
 * classes (one per engine status, each also a subclass of the closest
 * builtin), merutable.open() and the module's initialisation.
 *
 * Error classes. The engine reports a status code and a per-thread message;
 * pm_raise() turns them into the class of that code with the engine's
 * message, unchanged. Errors the module finds itself before the engine sees
 * a value (a str for an int column, an int that does not fit int32) use the
 * class the engine would have used and a message in the engine's style.
 */
#include "pymeru.h"

#include <string.h>

PyObject *pm_Error;
PyObject *pm_InvalidArgumentError;
PyObject *pm_TypeMismatchError;
PyObject *pm_RangeError;
PyObject *pm_ClosedError;
PyObject *pm_BusyError;
PyObject *pm_CorruptionError;
PyObject *pm_ExpiredError;

/* One class per status code; classes[-code] once created. */
#define PM_NCODES 19
static PyObject *classes[PM_NCODES];

typedef struct err_def {
    int code;
    const char *name;    /* merutable.<name> */
    const char *builtin; /* the builtin it also subclasses, or NULL */
    const char *doc;
} err_def;

static const err_def err_defs[] = {
    {MERU_NOT_FOUND, "NotFoundError", "FileNotFoundError",
     "No table where one was expected (open() without a schema of a "
     "directory that holds no table). A missing key is not an error: get() "
     "returns None."},
    {MERU_EINVAL, "InvalidArgumentError", "ValueError",
     "A bad argument or value from the application: an unknown column, null "
     "in a NOT NULL column, a key with too many parts, ..."},
    {MERU_ENOMEM, "OutOfMemoryError", "MemoryError",
     "The engine could not allocate memory."},
    {MERU_EIO, "StorageError", "OSError",
     "An operating-system I/O call failed."},
    {MERU_ECORRUPT, "CorruptionError", "OSError",
     "Stored data failed a check (checksum, bounds, format)."},
    {MERU_ENOTSUP, "NotSupportedError", "NotImplementedError",
     "Valid but unsupported input (a codec, a nested Parquet schema)."},
    {MERU_ELOCKED, "LockedError", "OSError",
     "Another handle or process holds the table's write lock."},
    {MERU_ECLOSED, "ClosedError", "ValueError",
     "The handle, snapshot, batch or iterator has been closed."},
    {MERU_EEXIST, "ExistsError", "FileExistsError",
     "Something that must not exist already does (open() with "
     "error_if_exists=True of an existing table)."},
    {MERU_ESCHEMA, "SchemaError", "ValueError",
     "A schema is invalid or incompatible with the table's."},
    {MERU_ENOSPC, "NoSpaceError", "OSError", "The device is full."},
    {MERU_EFAILED, "WritesStoppedError", "OSError",
     "An earlier I/O failure stopped writes on this handle (sticky); data "
     "written before stays readable."},
    {MERU_EBUSY, "BusyError", "RuntimeError",
     "The object is in use (a batch being committed by another thread)."},
    {MERU_ERANGE, "RangeError", "ValueError",
     "A value out of range for its column: an int that does not fit, a "
     "Decimal with too many digits, a date Python cannot represent."},
    {MERU_EREADONLY, "ReadOnlyError", "PermissionError",
     "A write on a handle opened with read_only=True."},
    {MERU_EINTERNAL, "InternalError", "RuntimeError",
     "A bug: an invariant of the engine failed."},
    {MERU_EEXPIRED, "ExpiredError", "LookupError",
     "changes(since) with a since below the change feed's retention "
     "window: the changes after it are no longer kept. The message names "
     "the oldest since available."},
};

/* Creates `name` with bases `bases` and the class attribute `code` (the
 * status code; None for the base class). */
static PyObject *new_class(PyObject *module, const char *name, const char *doc,
                           PyObject *bases, int code)
{
    char full[96];
    snprintf(full, sizeof full, "merutable.%s", name);
    PyObject *dict = code ? Py_BuildValue("{s:i}", "code", code)
                          : Py_BuildValue("{s:O}", "code", Py_None);
    if (!dict)
        return NULL;
    PyObject *cls = PyErr_NewExceptionWithDoc(full, doc, bases, dict);
    Py_DECREF(dict);
    if (!cls)
        return NULL;
    if (PyModule_AddObjectRef(module, name, cls) < 0) {
        Py_DECREF(cls);
        return NULL;
    }
    return cls;
}

int pm_errors_init(PyObject *module)
{
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    pm_Error = new_class(module, "Error",
                         "Base class of every error the merutable module "
                         "raises. `code` is the engine's status code.",
                         PyExc_Exception, 0);
    if (!pm_Error)
        return -1;
    for (size_t i = 0; i < sizeof err_defs / sizeof err_defs[0]; i++) {
        const err_def *d = &err_defs[i];
        PyObject *builtin = PyDict_GetItemString(builtins, d->builtin);
        if (!builtin) {
            PyErr_Format(PyExc_SystemError, "no builtin %s", d->builtin);
            return -1;
        }
        PyObject *bases = PyTuple_Pack(2, pm_Error, builtin);
        if (!bases)
            return -1;
        PyObject *cls = new_class(module, d->name, d->doc, bases, d->code);
        Py_DECREF(bases);
        if (!cls)
            return -1;
        classes[-d->code] = cls;
    }
    pm_InvalidArgumentError = classes[-MERU_EINVAL];
    pm_RangeError = classes[-MERU_ERANGE];
    pm_ClosedError = classes[-MERU_ECLOSED];
    pm_BusyError = classes[-MERU_EBUSY];
    pm_CorruptionError = classes[-MERU_ECORRUPT];
    pm_ExpiredError = classes[-MERU_EEXPIRED];
    /* A Python value of the wrong type: the engine's EINVAL, and a
     * TypeError as Python code expects. */
    PyObject *bases = PyTuple_Pack(2, pm_InvalidArgumentError, PyExc_TypeError);
    if (!bases)
        return -1;
    pm_TypeMismatchError = new_class(
        module, "TypeMismatchError",
        "A Python value of a type the column does not take (a str for an "
        "int64 column, a naive datetime for a timestamptz column, ...).",
        bases, MERU_EINVAL);
    Py_DECREF(bases);
    if (!pm_TypeMismatchError)
        return -1;
    /* An unknown column name (MERU_ENOCOLUMN): an InvalidArgumentError and
     * a KeyError, so code catching either keeps working. */
    bases = PyTuple_Pack(2, pm_InvalidArgumentError, PyExc_KeyError);
    if (!bases)
        return -1;
    classes[-MERU_ENOCOLUMN] = new_class(
        module, "NoColumnError",
        "A column name the table's schema does not have.", bases,
        MERU_ENOCOLUMN);
    Py_DECREF(bases);
    return classes[-MERU_ENOCOLUMN] ? 0 : -1;
}

PyObject *pm_error_class(int code)
{
    if (code < 0 && -code < PM_NCODES && classes[-code])
        return classes[-code];
    return pm_Error;
}

PyObject *pm_raise(int code)
{
    const char *msg = meru_errmsg();
    if (!msg || !*msg)
        msg = meru_strerror(code);
    PyErr_SetString(pm_error_class(code), msg);
    return NULL;
}

PyObject *pm_raisef(PyObject *cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *msg = PyUnicode_FromFormatV(fmt, ap);
    va_end(ap);
    if (msg) {
        PyErr_SetObject(cls, msg);
        Py_DECREF(msg);
    }
    return NULL;
}

int pm_check_open(pm_db *db)
{
    if (!db->closed)
        return 0;
    pm_raisef(pm_ClosedError, "the table at %U is closed", db->path);
    return -1;
}

/* ---------------------------------------------------------------- open */

/* The last component of `path` (as `meru create` names a table). */
static void base_name(const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/')
        b--;
    snprintf(out, cap, "%.*s", (int)(n - b), path + b);
    if (!out[0] || !strcmp(out, ".") || !strcmp(out, "..") || !strcmp(out, "/"))
        snprintf(out, cap, "table");
}

/* primary_key as "a,b": a str as it is, or a sequence of str joined. */
static PyObject *key_text(PyObject *pk)
{
    if (PyUnicode_Check(pk))
        return Py_NewRef(pk);
    PyObject *seq = PySequence_Fast(pk, "primary_key must be a str or a "
                                        "sequence of column names");
    if (!seq)
        return NULL;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++)
        if (!PyUnicode_Check(PySequence_Fast_GET_ITEM(seq, i))) {
            Py_DECREF(seq);
            return pm_raisef(pm_TypeMismatchError,
                             "primary_key: column names must be str");
        }
    PyObject *sep = PyUnicode_FromString(",");
    PyObject *joined = sep ? PyUnicode_Join(sep, seq) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(seq);
    return joined;
}

static int parse_sync(const char *s, meru_sync_mode *out)
{
    if (!strcmp(s, "group"))
        *out = MERU_SYNC_GROUP;
    else if (!strcmp(s, "every"))
        *out = MERU_SYNC_EVERY;
    else if (!strcmp(s, "none"))
        *out = MERU_SYNC_NONE;
    else {
        pm_raisef(pm_InvalidArgumentError,
                  "sync must be \"group\", \"every\" or \"none\", not \"%s\"",
                  s);
        return -1;
    }
    return 0;
}

/* A size option: None keeps the default; else an int > 0. */
static int size_option(PyObject *v, const char *name, size_t *out)
{
    if (v == Py_None)
        return 0;
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        pm_raisef(pm_TypeMismatchError, "%s must be an int", name);
        return -1;
    }
    unsigned long long n = PyLong_AsUnsignedLongLong(v);
    if (n == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        pm_raisef(pm_RangeError, "%s out of range", name);
        return -1;
    }
    if ((unsigned long long)(size_t)n != n) {
        pm_raisef(pm_RangeError, "%s out of range", name);
        return -1;
    }
    *out = (size_t)n;
    return 0;
}

static PyObject *pm_open(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"path",      "schema",         "primary_key",
                             "read_only", "name",           "error_if_exists",
                             "sync",      "memtable_bytes", "cache_bytes",
                             NULL};
    PyObject *path_bytes = NULL, *schema_obj = Py_None, *pk_obj = Py_None;
    PyObject *memtable = Py_None, *cache = Py_None;
    int read_only = 0, error_if_exists = 0;
    const char *name = NULL, *sync = "group";
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "O&|OO$pzpsOO", kwlist, PyUnicode_FSConverter,
            &path_bytes, &schema_obj, &pk_obj, &read_only, &name,
            &error_if_exists, &sync, &memtable, &cache))
        return NULL;

    meru_schema *schema = NULL;
    PyObject *pk_text = NULL;
    pm_db *db = NULL;
    meru_options o;
    meru_options_init(&o);
    o.read_only = read_only;
    o.error_if_exists = error_if_exists;
    if (parse_sync(sync, &o.sync_mode) < 0 ||
        size_option(memtable, "memtable_bytes", &o.memtable_bytes) < 0 ||
        size_option(cache, "cache_bytes", &o.cache_bytes) < 0)
        goto fail;
    const char *path = PyBytes_AS_STRING(path_bytes);

    if (schema_obj != Py_None) {
        if (!PyUnicode_Check(schema_obj)) {
            pm_raisef(pm_TypeMismatchError,
                      "schema must be a str such as \"id int64 not null, "
                      "name string\"");
            goto fail;
        }
        const char *cols = PyUnicode_AsUTF8(schema_obj);
        const char *pk = NULL;
        if (!cols)
            goto fail;
        if (pk_obj != Py_None) {
            if (!(pk_text = key_text(pk_obj)) ||
                !(pk = PyUnicode_AsUTF8(pk_text)))
                goto fail;
        }
        char tname[256];
        if (name)
            snprintf(tname, sizeof tname, "%s", name);
        else
            base_name(path, tname, sizeof tname);
        int rc = meru_schema_parse(&schema, tname, cols, pk);
        if (rc) {
            pm_raise(rc);
            goto fail;
        }
    } else if (pk_obj != Py_None || name) {
        pm_raisef(pm_InvalidArgumentError,
                  "primary_key and name need a schema (they describe a table "
                  "to create)");
        goto fail;
    } else {
        o.create_if_missing = 0; /* no schema: only an existing table */
    }

    /* No GC: a DB refers to strs and dicts of its schema only, never to
     * objects that could refer back to it. */
    db = PyObject_New(pm_db, &pm_db_type);
    if (!db)
        goto fail;
    memset((char *)db + sizeof(PyObject), 0, sizeof *db - sizeof(PyObject));
    db->read_only = read_only;
    if (!(db->path = PyUnicode_DecodeFSDefault(path)))
        goto fail;

    meru_db *h = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
        rc = meru_open(path, &o, schema, &h);
    Py_END_ALLOW_THREADS
    if (rc) {
        pm_raise(rc);
        goto fail;
    }
    db->db = h;
    db->schema = meru_db_schema(h);
    if (pm_db_load_schema(db) < 0)
        goto fail;
    meru_schema_free(schema);
    Py_XDECREF(pk_text);
    Py_DECREF(path_bytes);
    return (PyObject *)db;
fail:
    Py_XDECREF(db);
    meru_schema_free(schema);
    Py_XDECREF(pk_text);
    Py_DECREF(path_bytes);
    return NULL;
}

PyDoc_STRVAR(
    open_doc,
    "open(path, schema=None, primary_key=None, *, read_only=False, name=None,\n"
    "     error_if_exists=False, sync=\"group\", memtable_bytes=None,\n"
    "     cache_bytes=None) -> DB\n"
    "\n"
    "Opens the table in directory `path` (str or os.PathLike).\n"
    "\n"
    "With `schema` (a column list such as \"id int64 not null, name string\")\n"
    "and `primary_key` (\"id\", \"a,b\" or a sequence of names) the table is\n"
    "created when the directory holds none; an existing table must have that\n"
    "schema or one it extends additively. Without a schema the table must\n"
    "exist (NotFoundError otherwise) and its stored schema is used.\n"
    "\n"
    "read_only: no lock, no writes (ReadOnlyError); may be used beside a\n"
    "  writing process, refresh() catches up with it.\n"
    "name: the table name recorded at creation (default: the last component\n"
    "  of path).\n"
    "error_if_exists: raise ExistsError instead of opening an existing table.\n"
    "sync: \"group\" (writers share one fdatasync, the default), \"every\"\n"
    "  (fdatasync before each write returns) or \"none\" (the OS decides).\n"
    "memtable_bytes, cache_bytes: the engine's memtable size (64 MiB) and\n"
    "  page cache budget (128 MiB).");

/* -------------------------------------------------------------- module */

static PyMethodDef module_methods[] = {
    {"open", (PyCFunction)(void (*)(void))pm_open, METH_VARARGS | METH_KEYWORDS,
     open_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(
    module_doc,
    "merutable: an embeddable single-table storage engine (an LSM tree whose\n"
    "files are Apache Parquet and whose metadata is Apache Iceberg "
    "compatible).\n"
    "\n"
    "    db = merutable.open(path, schema=\"id int64 not null, name string\",\n"
    "                        primary_key=\"id\")\n"
    "    db.put({\"id\": 1, \"name\": \"a\"})\n"
    "    db.get(1)  # {'id': 1, 'name': 'a'}\n"
    "\n"
    "This is the C extension; `import merutable` re-exports all of it.");

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "merutable._merutable",
    module_doc,
    -1,
    module_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

static int add_type(PyObject *m, PyTypeObject *t, const char *name)
{
    if (PyType_Ready(t) < 0)
        return -1;
    return PyModule_AddObjectRef(m, name, (PyObject *)t);
}

PyMODINIT_FUNC PyInit__merutable(void);

PyMODINIT_FUNC PyInit__merutable(void)
{
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    if (pm_errors_init(m) < 0 || pm_convert_init() < 0 ||
        add_type(m, &pm_db_type, "DB") < 0 ||
        add_type(m, &pm_snapshot_type, "Snapshot") < 0 ||
        add_type(m, &pm_iter_type, "ScanIterator") < 0 ||
        add_type(m, &pm_batch_type, "Batch") < 0 ||
        add_type(m, &pm_changes_type, "ChangesIterator") < 0 ||
        PyModule_AddStringConstant(m, "__version__", meru_version()) < 0 ||
        PyModule_AddIntConstant(m, "MAX_VALUE_BYTES", MERU_MAX_VALUE_BYTES) <
            0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
