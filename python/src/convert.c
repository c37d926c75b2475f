/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert.c — Python values <-> engine rows, both ways, for every column
 * type, and the table's column descriptions.
 *
 *   column type    Python in                          Python out
 *   boolean        bool                               bool
 *   int32, int64   int (or __index__), range-checked  int
 *   float, double  float, int (any number with         float
 *                  __float__ but Decimal)
 *   string         str                                str
 *   binary, fixed  bytes, bytearray, memoryview (any  bytes
 *                  contiguous buffer)
 *   date           datetime.date (not a datetime)     datetime.date
 *   timestamp      naive datetime.datetime            naive datetime
 *   timestamptz    aware datetime (stored as UTC)     datetime, tzinfo=UTC
 *   decimal(P,S)   decimal.Decimal or int (exact:     decimal.Decimal with
 *                  never rounded)                     S fractional digits
 *   any            None (null)                        None
 *
 * Strictness is deliberate: a value of another type is TypeMismatchError
 * rather than a guess (bool is not taken as an int, a float is not taken
 * as a Decimal, a datetime is not truncated to a date), and a value that
 * does not fit is RangeError rather than wrapped or rounded. A Decimal
 * with more fractional digits than the scale is accepted only when the
 * extra digits are zeros (Decimal("1.500") in decimal(10,2) is 1.50: no
 * rounding happens). Checks that the engine makes itself (NOT NULL, FIXED
 * lengths, UTF-8, value sizes, precision) are left to it, so its message
 * is the one raised.
 *
 * Only this file uses the datetime C API (PyDateTime_IMPORT fills a
 * per-file static).
 */
#include "pymeru.h"

#include <datetime.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static PyObject *decimal_type; /* decimal.Decimal */
static PyObject *json_loads;   /* json.loads */

int pm_convert_init(void)
{
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI)
        return -1;
    PyObject *mod = PyImport_ImportModule("decimal");
    if (!mod)
        return -1;
    decimal_type = PyObject_GetAttrString(mod, "Decimal");
    Py_DECREF(mod);
    if (!decimal_type)
        return -1;
    mod = PyImport_ImportModule("json");
    if (!mod)
        return -1;
    json_loads = PyObject_GetAttrString(mod, "loads");
    Py_DECREF(mod);
    return json_loads ? 0 : -1;
}

PyObject *pm_json_loads(const char *text)
{
    return PyObject_CallFunction(json_loads, "s", text);
}

/* ------------------------------------------------------------- calendar */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse: the date `z` days after 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

#define MICROS_PER_DAY INT64_C(86400000000)

/* --------------------------------------------------------------- errors */

static const char *type_text(const pm_col *c, char *buf, size_t cap)
{
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        return "boolean";
    case MERU_TYPE_INT32:
        return "int32";
    case MERU_TYPE_INT64:
        return "int64";
    case MERU_TYPE_FLOAT:
        return "float";
    case MERU_TYPE_DOUBLE:
        return "double";
    case MERU_TYPE_STRING:
        return "string";
    case MERU_TYPE_BINARY:
        return "binary";
    case MERU_TYPE_FIXED:
        snprintf(buf, cap, "fixed(%d)", (int)c->fixed_length);
        return buf;
    case MERU_TYPE_DATE:
        return "date";
    case MERU_TYPE_TIMESTAMP:
        return "timestamp";
    case MERU_TYPE_TIMESTAMPTZ:
        return "timestamptz";
    case MERU_TYPE_DECIMAL:
        snprintf(buf, cap, "decimal(%d,%d)", (int)c->precision, (int)c->scale);
        return buf;
    }
    return "?";
}

/* TypeMismatchError: column "x" (int64) takes an int, not str. */
static int mismatch(const pm_col *c, PyObject *v, const char *want)
{
    char tb[48];
    pm_raisef(pm_TypeMismatchError, "column \"%U\" (%s) takes %s, not %s",
              c->name, type_text(c, tb, sizeof tb), want, Py_TYPE(v)->tp_name);
    return -1;
}

static int out_of_range(const pm_col *c, PyObject *v)
{
    char tb[48];
    pm_raisef(pm_RangeError, "column \"%U\" (%s): %R is out of range", c->name,
              type_text(c, tb, sizeof tb), v);
    return -1;
}

static int engine_fail(int rc)
{
    pm_raise(rc);
    return -1;
}

/* ------------------------------------------------------ Python -> engine */

static int set_int(const pm_col *c, meru_row *row, size_t col, PyObject *v)
{
    if (PyBool_Check(v) || !(PyLong_Check(v) || PyIndex_Check(v)))
        return mismatch(c, v, "an int");
    PyObject *n = PyNumber_Index(v);
    if (!n)
        return -1;
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(n, &overflow);
    Py_DECREF(n);
    if (x == -1 && PyErr_Occurred())
        return -1;
    if (overflow ||
        (c->type == MERU_TYPE_INT32 && (x < INT32_MIN || x > INT32_MAX)))
        return out_of_range(c, v);
    int rc = c->type == MERU_TYPE_INT32
                 ? meru_row_set_int32(row, col, (int32_t)x)
                 : meru_row_set_int64(row, col, (int64_t)x);
    return rc ? engine_fail(rc) : 0;
}

static int set_real(const pm_col *c, meru_row *row, size_t col, PyObject *v)
{
    double x;
    if (PyFloat_CheckExact(v)) {
        x = PyFloat_AS_DOUBLE(v);
    } else {
        /* Numbers with __float__ (numpy's) are taken, except a Decimal:
         * it would be rounded silently. */
        int is_dec = PyObject_IsInstance(v, decimal_type);
        if (is_dec < 0)
            return -1;
        if (is_dec || PyBool_Check(v) || PyUnicode_Check(v) ||
            !(PyFloat_Check(v) || PyLong_Check(v) || PyIndex_Check(v) ||
              (Py_TYPE(v)->tp_as_number && Py_TYPE(v)->tp_as_number->nb_float)))
            return mismatch(c, v, "a float");
        x = PyFloat_AsDouble(v);
        if (x == -1.0 && PyErr_Occurred()) {
            if (!PyErr_ExceptionMatches(PyExc_OverflowError))
                return -1;
            PyErr_Clear();
            return out_of_range(c, v);
        }
    }
    int rc;
    if (c->type == MERU_TYPE_FLOAT) {
        if (isfinite(x) && fabs(x) > FLT_MAX)
            return out_of_range(c, v);
        rc = meru_row_set_float(row, col, (float)x);
    } else {
        rc = meru_row_set_double(row, col, x);
    }
    return rc ? engine_fail(rc) : 0;
}

static int set_string(const pm_col *c, meru_row *row, size_t col, PyObject *v)
{
    if (!PyUnicode_Check(v))
        return mismatch(c, v, "a str");
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(v, &len);
    if (!s) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
            return -1;
        PyErr_Clear();
        pm_raisef(pm_InvalidArgumentError,
                  "column \"%U\" (string): the str is not valid Unicode "
                  "(it holds a lone surrogate)",
                  c->name);
        return -1;
    }
    int rc = meru_row_set_string(row, col, s, (size_t)len);
    return rc ? engine_fail(rc) : 0;
}

static int set_bytes(const pm_col *c, meru_row *row, size_t col, PyObject *v)
{
    int rc;
    if (PyBytes_Check(v)) {
        rc = meru_row_set_binary(row, col, PyBytes_AS_STRING(v),
                                 (size_t)PyBytes_GET_SIZE(v));
        return rc ? engine_fail(rc) : 0;
    }
    if (PyUnicode_Check(v) || !PyObject_CheckBuffer(v))
        return mismatch(c, v, "bytes, bytearray or memoryview");
    Py_buffer view;
    if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        return mismatch(c, v, "a contiguous bytes-like object");
    }
    rc = meru_row_set_binary(row, col, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return rc ? engine_fail(rc) : 0;
}

static int set_date(const pm_col *c, meru_row *row, size_t col, PyObject *v)
{
    if (PyDateTime_Check(v))
        return mismatch(c, v,
                        "a datetime.date (a datetime would lose its "
                        "time)");
    if (!PyDate_Check(v))
        return mismatch(c, v, "a datetime.date");
    int64_t days = days_from_civil(
        PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v));
    int rc = meru_row_set_date(row, col, (int32_t)days);
    return rc ? engine_fail(rc) : 0;
}

/* The UTC offset of an aware datetime in microseconds; *aware = 0 for a
 * naive one (no tzinfo, or a tzinfo whose utcoffset() is None). */
static int utc_offset(PyObject *v, int *aware, int64_t *micros)
{
    *aware = 0;
    *micros = 0;
    if (PyDateTime_DATE_GET_TZINFO(v) == Py_None)
        return 0;
    PyObject *off = PyObject_CallMethod(v, "utcoffset", NULL);
    if (!off)
        return -1;
    if (off != Py_None) {
        if (!PyDelta_Check(off)) {
            Py_DECREF(off);
            PyErr_SetString(PyExc_TypeError, "utcoffset() must return a "
                                             "timedelta or None");
            return -1;
        }
        *aware = 1;
        *micros = (int64_t)PyDateTime_DELTA_GET_DAYS(off) * MICROS_PER_DAY +
                  (int64_t)PyDateTime_DELTA_GET_SECONDS(off) * 1000000 +
                  PyDateTime_DELTA_GET_MICROSECONDS(off);
    }
    Py_DECREF(off);
    return 0;
}

static int set_timestamp(const pm_col *c, meru_row *row, size_t col,
                         PyObject *v)
{
    int tz = c->type == MERU_TYPE_TIMESTAMPTZ;
    if (!PyDateTime_Check(v))
        return mismatch(c, v,
                        tz ? "a timezone-aware datetime.datetime"
                           : "a naive datetime.datetime");
    int aware;
    int64_t off;
    if (utc_offset(v, &aware, &off) < 0)
        return -1;
    if (aware && !tz)
        return mismatch(c, v,
                        "a naive datetime (no tzinfo): a timestamp "
                        "column has no time zone, use timestamptz for "
                        "aware datetimes");
    if (!aware && tz)
        return mismatch(c, v,
                        "a timezone-aware datetime (a naive one would "
                        "be ambiguous)");
    int64_t days = days_from_civil(
        PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v));
    int64_t secs = (int64_t)PyDateTime_DATE_GET_HOUR(v) * 3600 +
                   PyDateTime_DATE_GET_MINUTE(v) * 60 +
                   PyDateTime_DATE_GET_SECOND(v);
    int64_t micros = days * MICROS_PER_DAY + secs * 1000000 +
                     PyDateTime_DATE_GET_MICROSECOND(v) - off;
    int rc = meru_row_set_timestamp(row, col, micros);
    return rc ? engine_fail(rc) : 0;
}

/* Positional text of a finite Decimal from its as_tuple(), with trailing
 * zeros beyond the column's scale dropped (exact, not rounding). The
 * engine then checks precision and scale on the text. */
static int decimal_text(const pm_col *c, PyObject *v, char **out)
{
    PyObject *t = PyObject_CallMethod(v, "as_tuple", NULL);
    if (!t)
        return -1;
    int ret = -1;
    char *buf = NULL;
    PyObject *sign_o, *digits, *exp_o;
    if (!PyArg_ParseTuple(t, "OOO", &sign_o, &digits, &exp_o))
        goto done;
    if (!PyLong_Check(exp_o)) { /* 'n', 'N', 'F': NaN, sNaN, Infinity */
        pm_raisef(pm_InvalidArgumentError,
                  "column \"%U\": %R cannot be stored (a decimal column holds "
                  "finite numbers)",
                  c->name, v);
        goto done;
    }
    int overflow = 0;
    long long exp = PyLong_AsLongLongAndOverflow(exp_o, &overflow);
    Py_ssize_t n = PyTuple_Size(digits);
    if (overflow || n < 0) {
        if (!PyErr_Occurred())
            out_of_range(c, v);
        goto done;
    }
    /* Drop zeros the scale cannot hold: 1.500 -> 1.50 in scale 2. */
    while (n > 0 && exp < -(long long)c->scale &&
           PyLong_AsLong(PyTuple_GET_ITEM(digits, n - 1)) == 0) {
        n--;
        exp++;
    }
    if (n == 0) /* every digit was zero */
        exp = 0;
    /* Beyond 38 digits or 38 fractional digits no decimal column fits it;
     * say so here rather than build an enormous text. */
    if (exp > 64 || exp < -64 || n > 64) {
        out_of_range(c, v);
        goto done;
    }
    buf = PyMem_Malloc((size_t)n + 200);
    if (!buf) {
        PyErr_NoMemory();
        goto done;
    }
    char *p = buf;
    if (PyObject_IsTrue(sign_o))
        *p++ = '-';
    char digs[80];
    Py_ssize_t nd = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        digs[nd++] = (char)('0' + PyLong_AsLong(PyTuple_GET_ITEM(digits, i)));
    if (nd == 0)
        digs[nd++] = '0';
    if (exp >= 0) {
        memcpy(p, digs, (size_t)nd);
        p += nd;
        for (long long i = 0; i < exp; i++)
            *p++ = '0';
    } else {
        Py_ssize_t frac = (Py_ssize_t)-exp;
        if (nd > frac) {
            memcpy(p, digs, (size_t)(nd - frac));
            p += nd - frac;
            *p++ = '.';
            memcpy(p, digs + nd - frac, (size_t)frac);
            p += frac;
        } else {
            *p++ = '0';
            *p++ = '.';
            for (Py_ssize_t i = nd; i < frac; i++)
                *p++ = '0';
            memcpy(p, digs, (size_t)nd);
            p += nd;
        }
    }
    *p = 0;
    *out = buf;
    buf = NULL;
    ret = 0;
done:
    PyMem_Free(buf);
    Py_DECREF(t);
    return ret;
}

static int set_decimal(const pm_col *c, meru_row *row, size_t col, PyObject *v)
{
    int rc;
    if (PyLong_Check(v) && !PyBool_Check(v)) {
        PyObject *s = PyObject_Str(v);
        const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
        if (!text) {
            Py_XDECREF(s);
            return -1;
        }
        rc = meru_row_set_decimal_str(row, col, text);
        Py_DECREF(s);
        return rc ? engine_fail(rc) : 0;
    }
    int is_dec = PyObject_IsInstance(v, decimal_type);
    if (is_dec < 0)
        return -1;
    if (!is_dec)
        return mismatch(c, v,
                        "a decimal.Decimal or an int (a float is not "
                        "exact)");
    char *text;
    if (decimal_text(c, v, &text) < 0)
        return -1;
    rc = meru_row_set_decimal_str(row, col, text);
    PyMem_Free(text);
    return rc ? engine_fail(rc) : 0;
}

int pm_set_value(pm_db *db, meru_row *row, size_t col, PyObject *v)
{
    const pm_col *c = &db->cols[col];
    if (v == Py_None) {
        int rc = meru_row_set_null(row, col);
        return rc ? engine_fail(rc) : 0;
    }
    switch (c->type) {
    case MERU_TYPE_BOOLEAN: {
        if (!PyBool_Check(v))
            return mismatch(c, v, "a bool");
        int rc = meru_row_set_bool(row, col, v == Py_True);
        return rc ? engine_fail(rc) : 0;
    }
    case MERU_TYPE_INT32:
    case MERU_TYPE_INT64:
        return set_int(c, row, col, v);
    case MERU_TYPE_FLOAT:
    case MERU_TYPE_DOUBLE:
        return set_real(c, row, col, v);
    case MERU_TYPE_STRING:
        return set_string(c, row, col, v);
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED:
        return set_bytes(c, row, col, v);
    case MERU_TYPE_DATE:
        return set_date(c, row, col, v);
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        return set_timestamp(c, row, col, v);
    case MERU_TYPE_DECIMAL:
        return set_decimal(c, row, col, v);
    }
    pm_raisef(pm_Error, "column \"%U\": unknown type %d", c->name,
              (int)c->type);
    return -1;
}

/* The first key of `d` that names no column, as an error. */
static int unknown_column(pm_db *db, PyObject *d)
{
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (!PyUnicode_Check(k)) {
            pm_raisef(pm_TypeMismatchError,
                      "row keys are column names (str), not %s",
                      Py_TYPE(k)->tp_name);
            return -1;
        }
        int has = PyDict_Contains(db->col_index, k);
        if (has < 0)
            return -1;
        if (!has) {
            pm_raisef(pm_InvalidArgumentError, "no column named %R in table %U",
                      k, db->path);
            return -1;
        }
    }
    /* Only reachable if equal-but-distinct str keys appear twice. */
    pm_raisef(pm_InvalidArgumentError, "row has duplicate column names");
    return -1;
}

int pm_row_from_mapping(pm_db *db, meru_row *row, PyObject *m)
{
    PyObject *d = m;
    if (!PyDict_Check(m)) {
        /* A mapping has keys(): a list or a str has __getitem__ too. */
        int has_keys = PyObject_HasAttrString(m, "keys");
        if (!has_keys || PyUnicode_Check(m)) {
            pm_raisef(pm_TypeMismatchError,
                      "a row is a dict of column name -> value, not %s",
                      Py_TYPE(m)->tp_name);
            return -1;
        }
        if (!(d = PyDict_New()))
            return -1;
        if (PyDict_Merge(d, m, 1) < 0) {
            Py_DECREF(d);
            return -1;
        }
    }
    int ret = -1;
    Py_ssize_t found = 0;
    for (size_t i = 0; i < db->ncols; i++) {
        PyObject *v = PyDict_GetItemWithError(d, db->cols[i].name);
        if (!v) {
            if (PyErr_Occurred())
                goto done;
            continue;
        }
        found++;
        if (pm_set_value(db, row, i, v) < 0)
            goto done;
    }
    if (found != PyDict_GET_SIZE(d)) {
        unknown_column(db, d);
        goto done;
    }
    ret = 0;
done:
    if (d != m)
        Py_DECREF(d);
    return ret;
}

static PyObject *key_names(pm_db *db)
{
    PyObject *parts = PyList_New((Py_ssize_t)db->nkey);
    if (!parts)
        return NULL;
    for (size_t i = 0; i < db->nkey; i++)
        PyList_SET_ITEM(parts, (Py_ssize_t)i,
                        Py_NewRef(db->cols[db->key_cols[i]].name));
    PyObject *sep = PyUnicode_FromString(", ");
    PyObject *s = sep ? PyUnicode_Join(sep, parts) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(parts);
    return s;
}

int pm_row_from_key(pm_db *db, meru_row *row, PyObject *key, int partial)
{
    Py_ssize_t n = PyTuple_Check(key) ? PyTuple_GET_SIZE(key) : 1;
    if (n == 0 || (size_t)n > db->nkey || (!partial && (size_t)n != db->nkey)) {
        PyObject *names = key_names(db);
        if (!names)
            return -1;
        if (n == 0)
            pm_raisef(pm_InvalidArgumentError,
                      "an empty key (the primary key is (%U))", names);
        else
            pm_raisef(pm_InvalidArgumentError,
                      "a key of %zd value%s for the primary key (%U) of %zu "
                      "column%s",
                      n, n == 1 ? "" : "s", names, db->nkey,
                      db->nkey == 1 ? "" : "s");
        Py_DECREF(names);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyTuple_Check(key) ? PyTuple_GET_ITEM(key, i) : key;
        if (pm_set_value(db, row, (size_t)db->key_cols[i], v) < 0)
            return -1;
    }
    return 0;
}

int pm_row_from_key_args(pm_db *db, meru_row *row, PyObject *args)
{
    if (PyTuple_GET_SIZE(args) == 1 && PyTuple_Check(PyTuple_GET_ITEM(args, 0)))
        args = PyTuple_GET_ITEM(args, 0);
    return pm_row_from_key(db, row, args, 0);
}

/* ------------------------------------------------------ engine -> Python */

static PyObject *date_value(const pm_col *c, int64_t days)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return pm_raisef(pm_RangeError,
                         "column \"%U\": the date %lld days from 1970-01-01 "
                         "is outside datetime.date's years 1..9999",
                         c->name, (long long)days);
    return PyDate_FromDate((int)y, (int)m, (int)d);
}

static PyObject *timestamp_value(const pm_col *c, int64_t micros)
{
    int64_t days = micros / MICROS_PER_DAY, rem = micros % MICROS_PER_DAY;
    if (rem < 0) { /* floor, for instants before 1970 */
        rem += MICROS_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return pm_raisef(pm_RangeError,
                         "column \"%U\": the timestamp %lld us from the epoch "
                         "is outside datetime's years 1..9999",
                         c->name, (long long)micros);
    int64_t secs = rem / 1000000;
    PyObject *tz =
        c->type == MERU_TYPE_TIMESTAMPTZ ? PyDateTime_TimeZone_UTC : Py_None;
    return PyDateTimeAPI->DateTime_FromDateAndTime(
        (int)y, (int)m, (int)d, (int)(secs / 3600), (int)(secs / 60 % 60),
        (int)(secs % 60), (int)(rem % 1000000), tz,
        PyDateTimeAPI->DateTimeType);
}

PyObject *pm_get_value(pm_db *db, const meru_row *row, size_t col)
{
    const pm_col *c = &db->cols[col];
    if (meru_row_is_null(row, col))
        Py_RETURN_NONE;
    int rc;
    switch (c->type) {
    case MERU_TYPE_BOOLEAN: {
        int b;
        if ((rc = meru_row_get_bool(row, col, &b)))
            break;
        return PyBool_FromLong(b);
    }
    case MERU_TYPE_INT32: {
        int32_t x;
        if ((rc = meru_row_get_int32(row, col, &x)))
            break;
        return PyLong_FromLong(x);
    }
    case MERU_TYPE_INT64: {
        int64_t x;
        if ((rc = meru_row_get_int64(row, col, &x)))
            break;
        return PyLong_FromLongLong(x);
    }
    case MERU_TYPE_FLOAT: {
        float x;
        if ((rc = meru_row_get_float(row, col, &x)))
            break;
        return PyFloat_FromDouble(x);
    }
    case MERU_TYPE_DOUBLE: {
        double x;
        if ((rc = meru_row_get_double(row, col, &x)))
            break;
        return PyFloat_FromDouble(x);
    }
    case MERU_TYPE_STRING: {
        const char *s;
        size_t len;
        if ((rc = meru_row_get_string(row, col, &s, &len)))
            break;
        PyObject *u = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, NULL);
        if (!u && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
            PyErr_Clear(); /* the engine validates UTF-8 on write */
            return pm_raisef(pm_CorruptionError,
                             "column \"%U\": stored string is not UTF-8",
                             c->name);
        }
        return u;
    }
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED: {
        const void *p;
        size_t len;
        if ((rc = meru_row_get_binary(row, col, &p, &len)))
            break;
        return PyBytes_FromStringAndSize(p, (Py_ssize_t)len);
    }
    case MERU_TYPE_DATE: {
        int32_t days;
        if ((rc = meru_row_get_date(row, col, &days)))
            break;
        return date_value(c, days);
    }
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ: {
        int64_t us;
        if ((rc = meru_row_get_timestamp(row, col, &us)))
            break;
        return timestamp_value(c, us);
    }
    case MERU_TYPE_DECIMAL: {
        char buf[64];
        if ((rc = meru_row_get_decimal_str(row, col, buf, sizeof buf)))
            break;
        return PyObject_CallFunction(decimal_type, "s", buf);
    }
    default:
        return pm_raisef(pm_Error, "column \"%U\": unknown type %d", c->name,
                         (int)c->type);
    }
    return pm_raise(rc);
}

PyObject *pm_row_to_dict(pm_db *db, const meru_row *row, const int *cols,
                         Py_ssize_t n)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    Py_ssize_t count = cols ? n : (Py_ssize_t)db->ncols;
    for (Py_ssize_t i = 0; i < count; i++) {
        size_t col = cols ? (size_t)cols[i] : (size_t)i;
        PyObject *v = pm_get_value(db, row, col);
        if (!v || PyDict_SetItem(d, db->cols[col].name, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

/* ------------------------------------------------------------- row pool */

meru_row *pm_row_get(pm_db *db)
{
    if (db->npool > 0)
        return db->pool[--db->npool];
    meru_row *r = NULL;
    int rc = meru_row_new(&r, db->schema);
    if (rc) {
        pm_raise(rc);
        return NULL;
    }
    return r;
}

void pm_row_put(pm_db *db, meru_row *row)
{
    if (!row)
        return;
    meru_row_clear(row);
    if (db->npool < PM_ROW_POOL)
        db->pool[db->npool++] = row;
    else
        meru_row_free(row);
}

/* --------------------------------------------------------------- schema */

/* Decimal and fixed parameters from the Iceberg type strings of the
 * schema's JSON form ("decimal(10, 2)", "fixed[16]"): the C API has no
 * getter for them. */
static int load_params(pm_db *db)
{
    char *json = NULL;
    int rc = meru_schema_to_json(db->schema, &json);
    if (rc) {
        pm_raise(rc);
        return -1;
    }
    PyObject *obj = pm_json_loads(json);
    meru_free(json);
    if (!obj)
        return -1;
    int ret = -1;
    PyObject *fields =
        PyDict_Check(obj) ? PyDict_GetItemString(obj, "fields") : NULL;
    if (!fields || !PyList_Check(fields) ||
        (size_t)PyList_GET_SIZE(fields) != db->ncols) {
        pm_raisef(pm_Error, "unexpected schema JSON from the engine");
        goto done;
    }
    for (size_t i = 0; i < db->ncols; i++) {
        pm_col *c = &db->cols[i];
        if (c->type != MERU_TYPE_DECIMAL && c->type != MERU_TYPE_FIXED)
            continue;
        PyObject *f = PyList_GET_ITEM(fields, (Py_ssize_t)i);
        PyObject *t = PyDict_Check(f) ? PyDict_GetItemString(f, "type") : NULL;
        const char *ts = t && PyUnicode_Check(t) ? PyUnicode_AsUTF8(t) : NULL;
        int a = 0, b = 0;
        if (!ts ||
            (c->type == MERU_TYPE_DECIMAL &&
             sscanf(ts, " decimal ( %d , %d )", &a, &b) != 2) ||
            (c->type == MERU_TYPE_FIXED &&
             sscanf(ts, " fixed [ %d ]", &a) != 1)) {
            if (!PyErr_Occurred())
                pm_raisef(pm_Error,
                          "unexpected type of column %U in the "
                          "schema JSON",
                          c->name);
            goto done;
        }
        if (c->type == MERU_TYPE_DECIMAL) {
            c->precision = a;
            c->scale = b;
        } else {
            c->fixed_length = a;
        }
    }
    ret = 0;
done:
    Py_DECREF(obj);
    return ret;
}

/* One column description (see DB.schema). */
static PyObject *describe(pm_db *db, size_t i, const meru_row *empty)
{
    const pm_col *c = &db->cols[i];
    char tb[48];
    PyObject *d =
        Py_BuildValue("{s:O,s:s,s:O,s:i,s:O}", "name", c->name, "type",
                      type_text(c, tb, sizeof tb), "nullable",
                      c->nullable ? Py_True : Py_False, "field_id",
                      (int)meru_schema_column_field_id(db->schema, i),
                      "primary_key", c->key_pos >= 0 ? Py_True : Py_False);
    if (!d)
        return NULL;
    PyObject *extra = NULL;
    if (c->type == MERU_TYPE_DECIMAL)
        extra = Py_BuildValue("{s:i,s:i}", "precision", (int)c->precision,
                              "scale", (int)c->scale);
    else if (c->type == MERU_TYPE_FIXED)
        extra = Py_BuildValue("{s:i}", "length", (int)c->fixed_length);
    else
        extra = PyDict_New();
    /* An unset column of a fresh row reads as its write default. */
    PyObject *def = extra ? pm_get_value(db, empty, i) : NULL;
    if (!def ||
        (def != Py_None && PyDict_SetItemString(extra, "default", def) < 0) ||
        PyDict_Update(d, extra) < 0) {
        Py_XDECREF(def);
        Py_XDECREF(extra);
        Py_DECREF(d);
        return NULL;
    }
    Py_DECREF(def);
    Py_DECREF(extra);
    return d;
}

int pm_db_load_schema(pm_db *db)
{
    const meru_schema *s = db->schema;
    db->ncols = meru_schema_column_count(s);
    db->nkey = meru_schema_key_count(s);
    if (db->nkey == 0 || db->nkey > MERU_MAX_KEY_COLUMNS) {
        pm_raisef(pm_Error, "the table has %zu key columns", db->nkey);
        return -1;
    }
    db->cols = PyMem_Calloc(db->ncols ? db->ncols : 1, sizeof *db->cols);
    if (!db->cols || !(db->col_index = PyDict_New())) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < db->ncols; i++) {
        pm_col *c = &db->cols[i];
        c->name = PyUnicode_FromString(meru_schema_column_name(s, i));
        if (!c->name)
            return -1;
        PyUnicode_InternInPlace(&c->name);
        c->type = meru_schema_column_type(s, i);
        c->nullable = meru_schema_column_nullable(s, i);
        c->key_pos = -1;
        PyObject *idx = PyLong_FromSize_t(i);
        if (!idx || PyDict_SetItem(db->col_index, c->name, idx) < 0) {
            Py_XDECREF(idx);
            return -1;
        }
        Py_DECREF(idx);
    }
    for (size_t k = 0; k < db->nkey; k++) {
        db->key_cols[k] = meru_schema_key_column(s, k);
        db->cols[db->key_cols[k]].key_pos = (int)k;
    }
    if (load_params(db) < 0)
        return -1;
    meru_row *empty = pm_row_get(db);
    if (!empty)
        return -1;
    PyObject *list = PyList_New((Py_ssize_t)db->ncols);
    for (size_t i = 0; list && i < db->ncols; i++) {
        PyObject *d = describe(db, i, empty);
        if (!d) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    pm_row_put(db, empty);
    db->schema_desc = list;
    return list ? 0 : -1;
}
