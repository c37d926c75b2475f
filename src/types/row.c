/* SPDX-License-Identifier: Apache-2.0 */
/*
 * row.c — meru_row: one value per column, setters/getters by index and by
 * name, and meru_row_validate().
 *
 * Invariants:
 *   - vals[i].state is UNSET, NULL or PRESENT; a PRESENT STRING/BINARY/FIXED
 *     value points at storage[i] (or at a static empty byte when its length
 *     is 0), never at caller memory: setters copy.
 *   - storage[i] only grows (capacity storage_cap[i]); clear() keeps it, so
 *     a row reused for many writes stops allocating.
 *   - a failing setter leaves the column exactly as it was.
 * Type checking is strict: every setter and getter accepts only the column
 * types its value type maps to (set_int32 does not write a DATE column,
 * set_double does not write a FLOAT column), so a mismatch between the
 * application and the schema surfaces at once with both types named.
 *
 * Not here: row JSON (row_json.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/decimal.h"
#include "types/jtext.h"
#include "types/row.h"
#include "types/utf8.h"
#include "util/error.h"

#define T(x) (1u << (x))
#define BYTES_TYPES                                                            \
    (T(MERU_TYPE_STRING) | T(MERU_TYPE_BINARY) | T(MERU_TYPE_FIXED))

static const uint8_t empty_bytes[1];

static int is_bytes_type(meru_type t)
{
    return (BYTES_TYPES & T(t)) != 0;
}

int meru_row_new(meru_row **out, const meru_schema *schema)
{
    if (!out || !schema)
        return meru_err(MERU_EINVAL, "meru_row_new: NULL argument");
    *out = NULL;
    if (schema->ncols == 0)
        return meru_err(MERU_EINVAL, "meru_row_new: table '%s' has no columns",
                        schema->table_name);
    meru_row *r = calloc(1, sizeof *r);
    if (!r)
        goto oom;
    r->schema = schema;
    r->ncols = schema->ncols;
    r->vals = calloc(r->ncols, sizeof *r->vals);
    r->storage = calloc(r->ncols, sizeof *r->storage);
    r->storage_cap = calloc(r->ncols, sizeof *r->storage_cap);
    if (!r->vals || !r->storage || !r->storage_cap) {
        meru_row_free(r);
        goto oom;
    }
    *out = r;
    return MERU_OK;
oom:
    return meru_err(MERU_ENOMEM, "out of memory creating a row");
}

void meru_row_free(meru_row *row)
{
    if (!row)
        return;
    if (row->storage)
        for (size_t i = 0; i < row->ncols; i++)
            free(row->storage[i]);
    free(row->storage);
    free(row->storage_cap);
    free(row->vals);
    free(row);
}

void meru_row_clear(meru_row *row)
{
    if (!row)
        return;
    for (size_t i = 0; i < row->ncols; i++)
        row->vals[i].state = MERU_VALUE_UNSET;
}

const meru_schema *meru_row_schema(const meru_row *row)
{
    return row ? row->schema : NULL;
}

const meru_value *meru_row_effective(const meru_row *row, size_t col,
                                     meru_value *tmp)
{
    const meru_value *v = &row->vals[col];
    if (v->state != MERU_VALUE_UNSET)
        return v;
    const meru_column *c = &row->schema->cols[col];
    if (c->write_default.state == MERU_VALUE_PRESENT)
        return &c->write_default;
    memset(tmp, 0, sizeof *tmp);
    tmp->state = MERU_VALUE_NULL;
    return tmp;
}

/* --------------------------------------------------------- type checks */

static int check_col(const meru_row *row, size_t col, const char *fn)
{
    if (!row)
        return meru_err(MERU_EINVAL, "%s: row is NULL", fn);
    if (col >= row->ncols)
        return meru_err(MERU_EINVAL,
                        "%s: column index %zu is out of range (table '%s' "
                        "has %zu columns)",
                        fn, col, row->schema->table_name, row->ncols);
    return MERU_OK;
}

/* Range and type check: the column's type must be in `mask`; `what` names
 * the value type the caller offers ("long", "string", ...). */
static int check_typed(const meru_row *row, size_t col, unsigned mask,
                       const char *fn, const char *what)
{
    int rc = check_col(row, col, fn);
    if (rc)
        return rc;
    const meru_column *c = &row->schema->cols[col];
    if (!(mask & T(c->type))) {
        char lb[MERU_LABEL_MAX], tt[MERU_TYPE_TEXT_MAX];
        return meru_err(MERU_EINVAL, "%s: type mismatch: %s is %s, not %s", fn,
                        meru_column_label(c, lb), meru_column_type_text(c, tt),
                        what);
    }
    return MERU_OK;
}

/* ---------------------------------------------------------------- set */

/*
 * Makes room for `len` bytes in column `col`'s storage, keeping the current
 * contents (and the PRESENT value pointing at them) valid.
 */
static int reserve_bytes(meru_row *row, size_t col, size_t len)
{
    if (len <= row->storage_cap[col])
        return MERU_OK;
    size_t cap = (size_t)row->storage_cap[col] * 2;
    if (cap < len)
        cap = len;
    if (cap < 16)
        cap = 16;
    if (cap > MERU_MAX_VALUE_BYTES)
        cap = MERU_MAX_VALUE_BYTES;
    uint8_t *p = realloc(row->storage[col], cap);
    if (!p)
        return meru_err(MERU_ENOMEM, "out of memory storing a %zu-byte value",
                        len);
    row->storage[col] = p;
    row->storage_cap[col] = (uint32_t)cap;
    meru_value *v = &row->vals[col];
    if (v->state == MERU_VALUE_PRESENT && v->u.bytes.len > 0)
        v->u.bytes.ptr = p;
    return MERU_OK;
}

static int store_bytes(meru_row *row, size_t col, const void *src, size_t len,
                       const char *fn)
{
    char lb[MERU_LABEL_MAX];
    if (!src && len > 0)
        return meru_err(MERU_EINVAL, "%s: value is NULL with length %zu", fn,
                        len);
    if (len > MERU_MAX_VALUE_BYTES)
        return meru_err(MERU_ERANGE,
                        "%s: %s: value of %zu bytes exceeds the limit of %u "
                        "bytes",
                        fn, meru_column_label(&row->schema->cols[col], lb), len,
                        MERU_MAX_VALUE_BYTES);
    meru_value *v = &row->vals[col];
    if (len == 0) {
        v->state = MERU_VALUE_PRESENT;
        v->u.bytes.ptr = empty_bytes;
        v->u.bytes.len = 0;
        return MERU_OK;
    }
    /* The source may be this column's own storage (a value read back with
     * a getter): remember its offset across a realloc. */
    const uint8_t *s = src, *base = row->storage[col];
    int inside = base && s >= base && s < base + row->storage_cap[col];
    size_t off = inside ? (size_t)(s - base) : 0;
    int rc = reserve_bytes(row, col, len);
    if (rc)
        return rc;
    if (inside)
        s = row->storage[col] + off;
    memmove(row->storage[col], s, len);
    v->state = MERU_VALUE_PRESENT;
    v->u.bytes.ptr = row->storage[col];
    v->u.bytes.len = (uint32_t)len;
    return MERU_OK;
}

int meru_row_put_value(meru_row *row, size_t col, const meru_value *v)
{
    int rc = check_col(row, col, "meru_row_put_value");
    if (rc)
        return rc;
    if (v->state != MERU_VALUE_PRESENT) {
        row->vals[col].state = v->state;
        return MERU_OK;
    }
    if (is_bytes_type(row->schema->cols[col].type))
        return store_bytes(row, col, v->u.bytes.ptr, v->u.bytes.len,
                           "meru_row_put_value");
    row->vals[col] = *v;
    return MERU_OK;
}

int meru_row_set_null(meru_row *row, size_t col)
{
    int rc = check_col(row, col, "meru_row_set_null");
    if (rc)
        return rc;
    row->vals[col].state = MERU_VALUE_NULL;
    return MERU_OK;
}

/* Sets a fixed-size value after the type check. */
#define SET_SCALAR(fn, mask, what, field, expr)                                \
    do {                                                                       \
        int rc_ = check_typed(row, col, (mask), fn, what);                     \
        if (rc_)                                                               \
            return rc_;                                                        \
        row->vals[col].state = MERU_VALUE_PRESENT;                             \
        row->vals[col].u.field = (expr);                                       \
        return MERU_OK;                                                        \
    } while (0)

int meru_row_set_bool(meru_row *row, size_t col, int value)
{
    SET_SCALAR("meru_row_set_bool", T(MERU_TYPE_BOOLEAN), "boolean", b,
               value != 0);
}

int meru_row_set_int32(meru_row *row, size_t col, int32_t value)
{
    SET_SCALAR("meru_row_set_int32", T(MERU_TYPE_INT32), "int", i32, value);
}

int meru_row_set_int64(meru_row *row, size_t col, int64_t value)
{
    SET_SCALAR("meru_row_set_int64", T(MERU_TYPE_INT64), "long", i64, value);
}

int meru_row_set_float(meru_row *row, size_t col, float value)
{
    SET_SCALAR("meru_row_set_float", T(MERU_TYPE_FLOAT), "float", f32, value);
}

int meru_row_set_double(meru_row *row, size_t col, double value)
{
    SET_SCALAR("meru_row_set_double", T(MERU_TYPE_DOUBLE), "double", f64,
               value);
}

int meru_row_set_date(meru_row *row, size_t col, int32_t days)
{
    SET_SCALAR("meru_row_set_date", T(MERU_TYPE_DATE), "date", i32, days);
}

int meru_row_set_timestamp(meru_row *row, size_t col, int64_t micros)
{
    SET_SCALAR("meru_row_set_timestamp",
               T(MERU_TYPE_TIMESTAMP) | T(MERU_TYPE_TIMESTAMPTZ), "timestamp",
               i64, micros);
}

int meru_row_set_decimal(meru_row *row, size_t col, int64_t hi, uint64_t lo)
{
    meru_i128 d = {hi, lo};
    SET_SCALAR("meru_row_set_decimal", T(MERU_TYPE_DECIMAL), "decimal", dec, d);
}

int meru_row_set_string(meru_row *row, size_t col, const char *value,
                        size_t len)
{
    int rc = check_typed(row, col, T(MERU_TYPE_STRING), "meru_row_set_string",
                         "string");
    return rc ? rc : store_bytes(row, col, value, len, "meru_row_set_string");
}

int meru_row_set_binary(meru_row *row, size_t col, const void *value,
                        size_t len)
{
    int rc = check_typed(row, col, T(MERU_TYPE_BINARY) | T(MERU_TYPE_FIXED),
                         "meru_row_set_binary", "binary");
    return rc ? rc : store_bytes(row, col, value, len, "meru_row_set_binary");
}

int meru_row_set_decimal_str(meru_row *row, size_t col, const char *text)
{
    static const char fn[] = "meru_row_set_decimal_str";
    int rc = check_typed(row, col, T(MERU_TYPE_DECIMAL), fn, "decimal");
    if (rc)
        return rc;
    if (!text)
        return meru_err(MERU_EINVAL, "%s: text is NULL", fn);
    const meru_column *c = &row->schema->cols[col];
    meru_i128 d;
    rc = meru_decimal_parse(text, strlen(text), c->precision, c->scale, &d);
    if (rc) {
        char lb[MERU_LABEL_MAX];
        return meru_err_wrap(rc, "%s: %s", fn, meru_column_label(c, lb));
    }
    row->vals[col].state = MERU_VALUE_PRESENT;
    row->vals[col].u.dec = d;
    return MERU_OK;
}

int meru_row_set_json(meru_row *row, size_t col, const char *literal)
{
    static const char fn[] = "meru_row_set_json";
    int rc = check_col(row, col, fn);
    if (rc)
        return rc;
    if (!literal)
        return meru_err(MERU_EINVAL, "%s: literal is NULL", fn);
    const meru_column *c = &row->schema->cols[col];
    meru_buf scratch = {0};
    meru_value v;
    size_t off = 0;
    rc = meru_literal_parse(c, literal, strlen(literal), &v, &scratch, &off);
    if (rc) {
        char lb[MERU_LABEL_MAX];
        rc = meru_err_wrap(rc, "%s: %s", fn, meru_column_label(c, lb));
        goto done;
    }
    if (v.state == MERU_VALUE_PRESENT && is_bytes_type(c->type))
        v.u.bytes.ptr = scratch.data ? scratch.data + off : empty_bytes;
    rc = meru_row_put_value(row, col, &v);
done:
    meru_buf_free(&scratch);
    return rc;
}

/* ---------------------------------------------------------------- get */

int meru_row_is_null(const meru_row *row, size_t col)
{
    int rc = check_col(row, col, "meru_row_is_null");
    if (rc)
        return rc;
    meru_value tmp;
    return meru_row_effective(row, col, &tmp)->state != MERU_VALUE_PRESENT;
}

int meru_row_is_set(const meru_row *row, size_t col)
{
    int rc = check_col(row, col, "meru_row_is_set");
    if (rc)
        return rc;
    return row->vals[col].state != MERU_VALUE_UNSET;
}

/* Type check + the effective value; MERU_NOT_FOUND when it is null. */
static int get_value(const meru_row *row, size_t col, unsigned mask,
                     const char *fn, const char *what, const void *out,
                     const meru_value **v, meru_value *tmp)
{
    int rc = check_typed(row, col, mask, fn, what);
    if (rc)
        return rc;
    if (!out)
        return meru_err(MERU_EINVAL, "%s: out is NULL", fn);
    *v = meru_row_effective(row, col, tmp);
    if ((*v)->state != MERU_VALUE_PRESENT) {
        char lb[MERU_LABEL_MAX];
        return meru_err(MERU_NOT_FOUND, "%s: %s is null", fn,
                        meru_column_label(&row->schema->cols[col], lb));
    }
    return MERU_OK;
}

#define GET_SCALAR(fn, mask, what, field)                                      \
    do {                                                                       \
        const meru_value *v_ = NULL;                                           \
        meru_value tmp_;                                                       \
        int rc_ = get_value(row, col, (mask), fn, what, out, &v_, &tmp_);      \
        if (rc_)                                                               \
            return rc_;                                                        \
        *out = v_->u.field;                                                    \
        return MERU_OK;                                                        \
    } while (0)

int meru_row_get_bool(const meru_row *row, size_t col, int *out)
{
    GET_SCALAR("meru_row_get_bool", T(MERU_TYPE_BOOLEAN), "boolean", b);
}

int meru_row_get_int32(const meru_row *row, size_t col, int32_t *out)
{
    GET_SCALAR("meru_row_get_int32", T(MERU_TYPE_INT32), "int", i32);
}

int meru_row_get_int64(const meru_row *row, size_t col, int64_t *out)
{
    GET_SCALAR("meru_row_get_int64", T(MERU_TYPE_INT64), "long", i64);
}

int meru_row_get_float(const meru_row *row, size_t col, float *out)
{
    GET_SCALAR("meru_row_get_float", T(MERU_TYPE_FLOAT), "float", f32);
}

int meru_row_get_double(const meru_row *row, size_t col, double *out)
{
    GET_SCALAR("meru_row_get_double", T(MERU_TYPE_DOUBLE), "double", f64);
}

int meru_row_get_date(const meru_row *row, size_t col, int32_t *out)
{
    GET_SCALAR("meru_row_get_date", T(MERU_TYPE_DATE), "date", i32);
}

int meru_row_get_timestamp(const meru_row *row, size_t col, int64_t *out)
{
    GET_SCALAR("meru_row_get_timestamp",
               T(MERU_TYPE_TIMESTAMP) | T(MERU_TYPE_TIMESTAMPTZ), "timestamp",
               i64);
}

int meru_row_get_decimal(const meru_row *row, size_t col, int64_t *out_hi,
                         uint64_t *out_lo)
{
    const meru_value *v = NULL;
    meru_value tmp;
    int rc = get_value(row, col, T(MERU_TYPE_DECIMAL), "meru_row_get_decimal",
                       "decimal", out_lo, &v, &tmp);
    if (rc)
        return rc;
    if (!out_hi)
        return meru_err(MERU_EINVAL, "meru_row_get_decimal: out_hi is NULL");
    *out_hi = v->u.dec.hi;
    *out_lo = v->u.dec.lo;
    return MERU_OK;
}

int meru_row_get_decimal_str(const meru_row *row, size_t col, char *buf,
                             size_t cap)
{
    static const char fn[] = "meru_row_get_decimal_str";
    const meru_value *v = NULL;
    meru_value tmp;
    int rc =
        get_value(row, col, T(MERU_TYPE_DECIMAL), fn, "decimal", buf, &v, &tmp);
    if (rc)
        return rc;
    char text[MERU_DECIMAL_TEXT_MAX];
    size_t n =
        meru_decimal_format(v->u.dec, row->schema->cols[col].scale, text);
    if (n + 1 > cap)
        return meru_err(MERU_ERANGE,
                        "%s: buffer of %zu bytes is too small for '%s' (%zu "
                        "bytes with the NUL)",
                        fn, cap, text, n + 1);
    memcpy(buf, text, n + 1);
    return MERU_OK;
}

static int get_bytes(const meru_row *row, size_t col, unsigned mask,
                     const char *fn, const char *what, const void **out,
                     size_t *len)
{
    const meru_value *v = NULL;
    meru_value tmp;
    int rc = get_value(row, col, mask, fn, what, out, &v, &tmp);
    if (rc)
        return rc;
    if (!len)
        return meru_err(MERU_EINVAL, "%s: len is NULL", fn);
    *out = v->u.bytes.ptr ? (const void *)v->u.bytes.ptr : empty_bytes;
    *len = v->u.bytes.len;
    return MERU_OK;
}

int meru_row_get_string(const meru_row *row, size_t col, const char **out,
                        size_t *len)
{
    const void *p = NULL;
    int rc = get_bytes(row, col, T(MERU_TYPE_STRING), "meru_row_get_string",
                       "string", out ? &p : NULL, len);
    if (!rc)
        *out = p;
    return rc;
}

int meru_row_get_binary(const meru_row *row, size_t col, const void **out,
                        size_t *len)
{
    return get_bytes(row, col, T(MERU_TYPE_BINARY) | T(MERU_TYPE_FIXED),
                     "meru_row_get_binary", "binary", out, len);
}

/* ------------------------------------------------------------ by name */

static int by_name(const meru_row *row, const char *name, const char *fn,
                   size_t *col)
{
    if (!row || !name)
        return meru_err(MERU_EINVAL, "%s: NULL argument", fn);
    int i = meru_schema_column_index(row->schema, name);
    if (i < 0 || (size_t)i >= row->ncols) {
        char m[72];
        return meru_err(MERU_ENOCOLUMN, "%s: table '%s' has no column '%s'", fn,
                        row->schema->table_name,
                        meru_msg_text(m, sizeof m, name, strlen(name)));
    }
    *col = (size_t)i;
    return MERU_OK;
}

/* Each *_by_name function resolves the name, then calls the by-index one. */
#define BY_NAME(fn, ROW, PARAMS, ARGS)                                         \
    int meru_row_##fn##_by_name(ROW *row, const char *name PARAMS)             \
    {                                                                          \
        size_t col = 0;                                                        \
        int rc = by_name(row, name, "meru_row_" #fn "_by_name", &col);         \
        return rc ? rc : meru_row_##fn(row, col ARGS);                         \
    }
#define P(...) , __VA_ARGS__

BY_NAME(set_null, meru_row, , )
BY_NAME(set_bool, meru_row, P(int v), P(v))
BY_NAME(set_int32, meru_row, P(int32_t v), P(v))
BY_NAME(set_int64, meru_row, P(int64_t v), P(v))
BY_NAME(set_float, meru_row, P(float v), P(v))
BY_NAME(set_double, meru_row, P(double v), P(v))
BY_NAME(set_string, meru_row, P(const char *v, size_t len), P(v, len))
BY_NAME(set_binary, meru_row, P(const void *v, size_t len), P(v, len))
BY_NAME(set_date, meru_row, P(int32_t days), P(days))
BY_NAME(set_timestamp, meru_row, P(int64_t micros), P(micros))
BY_NAME(set_decimal_str, meru_row, P(const char *text), P(text))
BY_NAME(get_bool, const meru_row, P(int *out), P(out))
BY_NAME(get_int32, const meru_row, P(int32_t *out), P(out))
BY_NAME(get_int64, const meru_row, P(int64_t *out), P(out))
BY_NAME(get_float, const meru_row, P(float *out), P(out))
BY_NAME(get_double, const meru_row, P(double *out), P(out))
BY_NAME(get_string, const meru_row, P(const char **out, size_t *len),
        P(out, len))
BY_NAME(get_binary, const meru_row, P(const void **out, size_t *len),
        P(out, len))
BY_NAME(get_date, const meru_row, P(int32_t *out), P(out))
BY_NAME(get_timestamp, const meru_row, P(int64_t *out), P(out))
BY_NAME(get_decimal_str, const meru_row, P(char *buf, size_t cap), P(buf, cap))

/* ----------------------------------------------------------- validate */

int meru_row_validate(const meru_row *row)
{
    char lb[MERU_LABEL_MAX], tt[MERU_TYPE_TEXT_MAX];
    if (!row)
        return meru_err(MERU_EINVAL, "meru_row_validate: row is NULL");
    if (row->ncols != row->schema->ncols)
        return meru_err(MERU_EINVAL,
                        "row has %zu columns but table '%s' now has %zu "
                        "(make a new row after changing the schema)",
                        row->ncols, row->schema->table_name,
                        row->schema->ncols);
    for (size_t i = 0; i < row->ncols; i++) {
        const meru_column *c = &row->schema->cols[i];
        meru_value tmp;
        const meru_value *v = meru_row_effective(row, i, &tmp);
        if (v->state != MERU_VALUE_PRESENT) {
            if (c->nullable)
                continue;
            return meru_err(MERU_EINVAL, "%s is NOT NULL but %s",
                            meru_column_label(c, lb),
                            row->vals[i].state == MERU_VALUE_NULL
                                ? "was set to null"
                                : "has no value and no write default");
        }
        switch (c->type) {
        case MERU_TYPE_STRING: {
            size_t bad = meru_utf8_check(v->u.bytes.ptr, v->u.bytes.len);
            if (bad != v->u.bytes.len)
                return meru_err(MERU_EINVAL,
                                "%s: string is not valid UTF-8 (byte 0x%02X "
                                "at offset %zu)",
                                meru_column_label(c, lb), v->u.bytes.ptr[bad],
                                bad);
        }
            /* fall through */
        case MERU_TYPE_BINARY:
            if (v->u.bytes.len > MERU_MAX_VALUE_BYTES)
                return meru_err(MERU_EINVAL,
                                "%s: value of %u bytes exceeds the limit of "
                                "%u bytes",
                                meru_column_label(c, lb), v->u.bytes.len,
                                MERU_MAX_VALUE_BYTES);
            break;
        case MERU_TYPE_FIXED:
            if (v->u.bytes.len != (uint32_t)c->fixed_length)
                return meru_err(MERU_EINVAL,
                                "%s: %s value has %u bytes, expected exactly "
                                "%d",
                                meru_column_label(c, lb),
                                meru_column_type_text(c, tt), v->u.bytes.len,
                                (int)c->fixed_length);
            break;
        case MERU_TYPE_DECIMAL:
            if (!meru_decimal_fits(v->u.dec, c->precision)) {
                char text[MERU_DECIMAL_TEXT_MAX];
                meru_decimal_format(v->u.dec, c->scale, text);
                return meru_err(MERU_EINVAL,
                                "%s: decimal %s has %d digits, more than the "
                                "precision of %s allows",
                                meru_column_label(c, lb), text,
                                meru_decimal_digits(v->u.dec),
                                meru_column_type_text(c, tt));
            }
            break;
        case MERU_TYPE_FLOAT:
        case MERU_TYPE_DOUBLE:
            if (c->key_position >= 0 &&
                (c->type == MERU_TYPE_FLOAT ? isnan(v->u.f32)
                                            : isnan(v->u.f64)))
                return meru_err(MERU_EINVAL,
                                "%s: NaN is not allowed in a primary-key "
                                "column (keys need a total order)",
                                meru_column_label(c, lb));
            break;
        default:
            break;
        }
    }
    return MERU_OK;
}
