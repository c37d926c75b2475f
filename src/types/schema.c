/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema.c — the schema builder, its accessors and meru_schema_validate().
 *
 * Rules (each failure is MERU_ESCHEMA with the column and the rule named;
 * NULL arguments are MERU_EINVAL):
 *   - names (table and columns): non-empty, at most 255 bytes, valid UTF-8,
 *     no control characters (C0, DEL, C1). Column names starting with
 *     "_merutable_" (any case) are reserved for the engine's hidden Parquet
 *     columns. Column names must be unique ignoring ASCII case: SQL engines
 *     that read the table (SQLite, DuckDB, Spark) resolve names
 *     case-insensitively and could not tell "Id" from "id".
 *   - at most MERU_MAX_COLUMNS columns and MERU_MAX_KEY_COLUMNS key columns.
 *   - field ids: unique, 1 .. MERU_RESERVED_FIELD_ID_BASE - 1. A definition
 *     with field id 0 gets the next free one: one more than the largest id
 *     in the schema (Iceberg's last-column-id rule), 1 for the first.
 *   - FIXED length 1..MERU_MAX_VALUE_BYTES; DECIMAL precision 1..38 and
 *     scale 0..precision. Type parameters of other types are ignored.
 *   - defaults are Iceberg single-value JSON literals that must parse for
 *     the column's type; "null" means "no default" (Iceberg semantics), so
 *     a NOT NULL column without an initial default is fine.
 *   - a primary key must be set; its columns exist, are listed once and are
 *     NOT NULL.
 * Key types: every column type may be a key column. Each has a total order
 * that the key encoding preserves (booleans false < true; integers, dates,
 * timestamps and decimals numerically; floats by IEEE-754 totalOrder with
 * NaN refused in keys at write time; strings, binary and fixed bytewise).
 *
 * Builder calls check a column when it is added, so a failed call leaves
 * the schema unchanged and the user hears about a mistake where it is made;
 * meru_schema_validate() runs the same checks again over the whole schema
 * (one code path, identical messages) plus the schema-wide ones.
 *
 * Not here: JSON (schema_json.c), the text syntax (schema_parse.c), value
 * comparison (value.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/jtext.h"
#include "types/schema.h"
#include "types/utf8.h"
#include "util/error.h"

#define NAME_MAX_BYTES  255
#define RESERVED_PREFIX "_merutable_"

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

const char *meru_type_name(meru_type type)
{
    switch (type) {
    case MERU_TYPE_BOOLEAN:
        return "boolean";
    case MERU_TYPE_INT32:
        return "int";
    case MERU_TYPE_INT64:
        return "long";
    case MERU_TYPE_FLOAT:
        return "float";
    case MERU_TYPE_DOUBLE:
        return "double";
    case MERU_TYPE_STRING:
        return "string";
    case MERU_TYPE_BINARY:
        return "binary";
    case MERU_TYPE_FIXED:
        return "fixed";
    case MERU_TYPE_DATE:
        return "date";
    case MERU_TYPE_TIMESTAMP:
        return "timestamp";
    case MERU_TYPE_TIMESTAMPTZ:
        return "timestamptz";
    case MERU_TYPE_DECIMAL:
        return "decimal";
    }
    return NULL;
}

static int type_valid(int type)
{
    return type >= MERU_TYPE_BOOLEAN && type <= MERU_TYPE_DECIMAL;
}

const char *meru_column_type_text(const meru_column *col, char *buf)
{
    if (col->type == MERU_TYPE_FIXED)
        snprintf(buf, MERU_TYPE_TEXT_MAX, "fixed[%d]", (int)col->fixed_length);
    else if (col->type == MERU_TYPE_DECIMAL)
        snprintf(buf, MERU_TYPE_TEXT_MAX, "decimal(%d, %d)",
                 (int)col->precision, (int)col->scale);
    else if (type_valid(col->type))
        snprintf(buf, MERU_TYPE_TEXT_MAX, "%s", meru_type_name(col->type));
    else
        snprintf(buf, MERU_TYPE_TEXT_MAX, "type %d", (int)col->type);
    return buf;
}

static const char *label_of(const char *name, char *buf)
{
    char m[72];
    snprintf(buf, MERU_LABEL_MAX, "column '%s'",
             meru_msg_text(m, sizeof m, name, name ? strlen(name) : 0));
    return buf;
}

const char *meru_column_label(const meru_column *col, char *buf)
{
    return label_of(col->name, buf);
}

/* ASCII case-insensitive equality (names are UTF-8; only ASCII folds). */
static int name_eq_nocase(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

static int has_prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        unsigned char x = (unsigned char)*s;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (x != (unsigned char)*prefix)
            return 0;
    }
    return 1;
}

/* Checks a table name (is_table) or the name of the column at `idx`. */
static int check_name(const char *name, int is_table, size_t idx)
{
    char lb[MERU_LABEL_MAX], m[72];
    size_t n = strlen(name);
    if (n == 0)
        return is_table ? meru_err(MERU_ESCHEMA, "table name is empty")
                        : meru_err(MERU_ESCHEMA,
                                   "column at index %zu: name is empty", idx);
    if (is_table)
        snprintf(lb, sizeof lb, "table '%s'",
                 meru_msg_text(m, sizeof m, name, n));
    else
        label_of(name, lb);
    if (n > NAME_MAX_BYTES)
        return meru_err(MERU_ESCHEMA, "%s: name is %zu bytes long (at most %d)",
                        lb, n, NAME_MAX_BYTES);
    size_t bad = meru_utf8_check((const uint8_t *)name, n);
    if (bad != n)
        return meru_err(MERU_ESCHEMA,
                        "%s: name is not valid UTF-8 (byte 0x%02X at offset "
                        "%zu)",
                        lb, (unsigned char)name[bad], bad);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = meru_utf8_decode((const uint8_t *)name + i, n - i, &cp);
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
            return meru_err(MERU_ESCHEMA,
                            "%s: name contains control character U+%04X at "
                            "byte offset %zu",
                            lb, (unsigned)cp, i);
        i += l;
    }
    if (!is_table && has_prefix_nocase(name, RESERVED_PREFIX))
        return meru_err(MERU_ESCHEMA,
                        "%s: names starting with '" RESERVED_PREFIX
                        "' are reserved for the engine's hidden columns",
                        lb);
    return MERU_OK;
}

/*
 * The per-column rules, for the column at `self` (== ncols for one being
 * added) with the resolved field id. With `dups`, duplicate names and
 * field ids are looked for among the columns before `self` (O(self): a
 * whole schema checks its columns' uniqueness with check_unique instead).
 */
static int check_column(const meru_schema *s, const meru_column_def *def,
                        size_t self, int32_t field_id, bool dups)
{
    char lb[MERU_LABEL_MAX], lb2[MERU_LABEL_MAX];
    int rc = check_name(def->name, 0, self);
    if (rc)
        return rc;
    label_of(def->name, lb);
    for (size_t j = 0; dups && j < self && j < s->ncols; j++) {
        const char *other = s->cols[j].name;
        if (strcmp(other, def->name) == 0)
            return meru_err(MERU_ESCHEMA,
                            "%s: duplicate column name (column %zu has the "
                            "same name)",
                            lb, j);
        if (name_eq_nocase(other, def->name))
            return meru_err(MERU_ESCHEMA,
                            "%s: name differs only in case from %s (column "
                            "names must be unique ignoring case)",
                            lb, label_of(other, lb2));
    }
    if (!type_valid((int)def->type))
        return meru_err(MERU_ESCHEMA,
                        "%s: invalid type %d (not a meru_type value)", lb,
                        (int)def->type);
    if (def->type == MERU_TYPE_FIXED &&
        (def->fixed_length < 1 ||
         (uint32_t)def->fixed_length > MERU_MAX_VALUE_BYTES))
        return meru_err(MERU_ESCHEMA,
                        "%s: fixed length %d is out of range 1..%u", lb,
                        (int)def->fixed_length, MERU_MAX_VALUE_BYTES);
    if (def->type == MERU_TYPE_DECIMAL) {
        if (def->precision < 1 || def->precision > 38)
            return meru_err(MERU_ESCHEMA,
                            "%s: decimal precision %d is out of range 1..38",
                            lb, (int)def->precision);
        if (def->scale < 0 || def->scale > def->precision)
            return meru_err(MERU_ESCHEMA,
                            "%s: decimal scale %d is out of range 0..%d (the "
                            "scale cannot exceed the precision)",
                            lb, (int)def->scale, (int)def->precision);
    }
    if (field_id <= 0)
        return meru_err(MERU_ESCHEMA, "%s: field id %d must be positive", lb,
                        (int)field_id);
    if (field_id >= MERU_RESERVED_FIELD_ID_BASE)
        return meru_err(MERU_ESCHEMA,
                        "%s: field id %d is reserved for the engine's hidden "
                        "columns (ids >= %d)",
                        lb, (int)field_id, MERU_RESERVED_FIELD_ID_BASE);
    for (size_t j = 0; dups && j < self && j < s->ncols; j++)
        if (s->cols[j].field_id == field_id)
            return meru_err(MERU_ESCHEMA,
                            "%s: field id %d is already used by %s", lb,
                            (int)field_id, label_of(s->cols[j].name, lb2));
    return MERU_OK;
}

/* Fixes up a parsed value's byte pointer into `base`. */
static void point_bytes(meru_value *v, const meru_column *c, uint8_t *base,
                        size_t off)
{
    static const uint8_t empty[1];
    if (v->state != MERU_VALUE_PRESENT)
        return;
    if (c->type == MERU_TYPE_STRING || c->type == MERU_TYPE_BINARY ||
        c->type == MERU_TYPE_FIXED)
        v->u.bytes.ptr = base ? base + off : empty;
}

/*
 * Parses the defaults of `c` (type fields set) into c->*_default and
 * c->default_storage, copying the literal texts. A "null" literal is the
 * same as no default. On failure `c` owns nothing new.
 */
static int parse_defaults(meru_column *c, const char *init, const char *wr)
{
    char lb[MERU_LABEL_MAX];
    const char *lits[2] = {init, wr};
    const char *what[2] = {"initial default", "write default"};
    meru_value vals[2];
    size_t offs[2] = {0, 0};
    char *texts[2] = {NULL, NULL};
    meru_buf scratch = {0};
    int rc = MERU_OK;
    memset(vals, 0, sizeof vals);
    for (int k = 0; k < 2; k++) {
        if (!lits[k])
            continue;
        rc = meru_literal_parse(c, lits[k], strlen(lits[k]), &vals[k], &scratch,
                                &offs[k]);
        if (rc) {
            rc = meru_err_wrap(rc == MERU_ENOMEM ? rc : MERU_ESCHEMA, "%s: %s",
                               meru_column_label(c, lb), what[k]);
            goto fail;
        }
        if (vals[k].state == MERU_VALUE_NULL) {
            vals[k].state = MERU_VALUE_UNSET;
            continue;
        }
        texts[k] = dup_str(lits[k]);
        if (!texts[k]) {
            rc = meru_err(MERU_ENOMEM, "out of memory copying a default");
            goto fail;
        }
    }
    c->default_storage = meru_buf_detach(&scratch, NULL);
    for (int k = 0; k < 2; k++)
        point_bytes(&vals[k], c, c->default_storage, offs[k]);
    c->initial_default = vals[0];
    c->write_default = vals[1];
    c->initial_default_json = texts[0];
    c->write_default_json = texts[1];
    return MERU_OK;
fail:
    meru_buf_free(&scratch);
    free(texts[0]);
    free(texts[1]);
    return rc;
}

static void column_free(meru_column *c)
{
    free(c->name);
    free(c->initial_default_json);
    free(c->write_default_json);
    free(c->default_storage);
    memset(c, 0, sizeof *c);
}

static meru_column_def def_of(const meru_column *c)
{
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    d.name = c->name;
    d.type = c->type;
    d.nullable = c->nullable;
    d.field_id = c->field_id;
    d.fixed_length = c->fixed_length;
    d.precision = c->precision;
    d.scale = c->scale;
    d.initial_default = c->initial_default_json;
    d.write_default = c->write_default_json;
    return d;
}

/* ------------------------------------------------------------- builder */

int meru_schema_new(meru_schema **out, const char *table_name)
{
    if (!out)
        return meru_err(MERU_EINVAL, "meru_schema_new: out is NULL");
    *out = NULL;
    if (!table_name)
        return meru_err(MERU_EINVAL, "meru_schema_new: table name is NULL");
    int rc = check_name(table_name, 1, 0);
    if (rc)
        return rc;
    meru_schema *s = calloc(1, sizeof *s);
    if (!s || !(s->table_name = dup_str(table_name))) {
        free(s);
        return meru_err(MERU_ENOMEM, "out of memory creating a schema");
    }
    s->next_field_id = 1;
    *out = s;
    return MERU_OK;
}

void meru_schema_free(meru_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ncols; i++)
        column_free(&s->cols[i]);
    free(s->cols);
    free(s->key_cols);
    free(s->table_name);
    free(s);
}

/* Adds a column; `dups`: check it against the existing ones (a clone of a
 * schema copies columns that were checked when they were added, and a
 * 4096-column schema would cost 8M name comparisons per clone). */
static int add_column(meru_schema *s, const meru_column_def *def, bool dups);

int meru_schema_add_column_def(meru_schema *s, const meru_column_def *def)
{
    return add_column(s, def, true);
}

static int add_column(meru_schema *s, const meru_column_def *def, bool dups)
{
    char lb[MERU_LABEL_MAX];
    if (!s || !def)
        return meru_err(MERU_EINVAL,
                        "meru_schema_add_column_def: NULL argument");
    /* 0: a zeroed definition, which has always been allowed: version 1. */
    if (def->version > MERU_COLUMN_DEF_VERSION)
        return meru_err(MERU_EINVAL,
                        "meru_schema_add_column_def: version %u is not "
                        "supported (0..%u: initialise with "
                        "MERU_COLUMN_DEF_INIT)",
                        def->version, MERU_COLUMN_DEF_VERSION);
    if (!def->name)
        return meru_err(MERU_EINVAL,
                        "meru_schema_add_column_def: column name is NULL");
    if (s->ncols >= MERU_MAX_COLUMNS)
        return meru_err(MERU_ESCHEMA,
                        "%s: table already has %d columns (the maximum)",
                        label_of(def->name, lb), MERU_MAX_COLUMNS);
    int32_t id = def->field_id;
    if (id == 0) {
        id = s->next_field_id > 0 ? s->next_field_id : 1;
        if (id >= MERU_RESERVED_FIELD_ID_BASE)
            return meru_err(MERU_ESCHEMA,
                            "%s: no field id left to assign (ids at or above "
                            "%d are reserved); give the column an explicit "
                            "unused id",
                            label_of(def->name, lb),
                            MERU_RESERVED_FIELD_ID_BASE);
    }
    int rc = check_column(s, def, s->ncols, id, dups);
    if (rc)
        return rc;

    meru_column c;
    memset(&c, 0, sizeof c);
    c.type = def->type;
    c.nullable = def->nullable ? 1 : 0;
    c.field_id = id;
    c.key_position = -1;
    if (c.type == MERU_TYPE_FIXED)
        c.fixed_length = def->fixed_length;
    if (c.type == MERU_TYPE_DECIMAL) {
        c.precision = def->precision;
        c.scale = def->scale;
    }
    c.name = dup_str(def->name);
    if (!c.name)
        return meru_err(MERU_ENOMEM, "out of memory adding a column");
    rc = parse_defaults(&c, def->initial_default, def->write_default);
    if (rc) {
        free(c.name);
        return rc;
    }
    if (s->ncols == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        meru_column *cols = realloc(s->cols, cap * sizeof *cols);
        if (!cols) {
            column_free(&c);
            return meru_err(MERU_ENOMEM, "out of memory adding a column");
        }
        s->cols = cols;
        s->cap = cap;
    }
    s->cols[s->ncols++] = c;
    if (id >= s->next_field_id)
        s->next_field_id = id + 1;
    return MERU_OK;
}

int meru_schema_add_column(meru_schema *s, const char *name, meru_type type,
                           int nullable)
{
    char lb[MERU_LABEL_MAX];
    if (!s || !name)
        return meru_err(MERU_EINVAL, "meru_schema_add_column: NULL argument");
    if (type == MERU_TYPE_FIXED)
        return meru_err(MERU_ESCHEMA,
                        "%s: a fixed column needs a length; add it with "
                        "meru_schema_add_column_def() and fixed_length",
                        label_of(name, lb));
    if (type == MERU_TYPE_DECIMAL)
        return meru_err(MERU_ESCHEMA,
                        "%s: a decimal column needs a precision and scale; "
                        "add it with meru_schema_add_column_def()",
                        label_of(name, lb));
    meru_column_def def = MERU_COLUMN_DEF_INIT;
    def.name = name;
    def.type = type;
    def.nullable = nullable;
    return meru_schema_add_column_def(s, &def);
}

int meru_schema_set_primary_key(meru_schema *s, const char *const *names,
                                size_t n)
{
    char lb[MERU_LABEL_MAX];
    if (!s || (!names && n > 0))
        return meru_err(MERU_EINVAL,
                        "meru_schema_set_primary_key: NULL argument");
    if (n == 0)
        return meru_err(MERU_ESCHEMA,
                        "primary key of table '%s' needs at least one column",
                        s->table_name);
    if (n > MERU_MAX_KEY_COLUMNS)
        return meru_err(MERU_ESCHEMA,
                        "primary key has %zu columns (at most %d)", n,
                        MERU_MAX_KEY_COLUMNS);
    int *keys = malloc(n * sizeof *keys);
    if (!keys)
        return meru_err(MERU_ENOMEM, "out of memory setting the primary key");
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (!names[i]) {
            rc = meru_err(MERU_EINVAL,
                          "meru_schema_set_primary_key: name %zu is NULL", i);
            free(keys);
            return rc;
        }
        int idx = meru_schema_column_index(s, names[i]);
        if (idx < 0) {
            char m[72];
            rc =
                meru_err(MERU_ESCHEMA,
                         "primary key column '%s' is not a column of table "
                         "'%s'",
                         meru_msg_text(m, sizeof m, names[i], strlen(names[i])),
                         s->table_name);
            free(keys);
            return rc;
        }
        for (size_t j = 0; j < i; j++) {
            if (keys[j] == idx) {
                rc = meru_err(MERU_ESCHEMA,
                              "primary key lists %s twice (positions %zu and "
                              "%zu)",
                              label_of(names[i], lb), j, i);
                free(keys);
                return rc;
            }
        }
        if (s->cols[idx].nullable) {
            rc = meru_err(MERU_ESCHEMA,
                          "primary key %s is nullable; key columns must be "
                          "NOT NULL",
                          label_of(names[i], lb));
            free(keys);
            return rc;
        }
        keys[i] = idx;
    }
    free(s->key_cols);
    s->key_cols = keys;
    s->nkey = n;
    for (size_t i = 0; i < s->ncols; i++)
        s->cols[i].key_position = -1;
    for (size_t i = 0; i < n; i++)
        s->cols[keys[i]].key_position = (int)i;
    return MERU_OK;
}

int meru_schema_clone(meru_schema **out, const meru_schema *s)
{
    if (!out || !s)
        return meru_err(MERU_EINVAL, "meru_schema_clone: NULL argument");
    *out = NULL;
    meru_schema *c;
    int rc = meru_schema_new(&c, s->table_name);
    if (rc)
        return rc;
    for (size_t i = 0; i < s->ncols; i++) {
        meru_column_def d = def_of(&s->cols[i]);
        rc = add_column(c, &d, false);
        if (rc)
            goto fail;
    }
    if (s->nkey) {
        c->key_cols = malloc(s->nkey * sizeof *c->key_cols);
        if (!c->key_cols) {
            rc = meru_err(MERU_ENOMEM, "out of memory cloning a schema");
            goto fail;
        }
        memcpy(c->key_cols, s->key_cols, s->nkey * sizeof *c->key_cols);
        c->nkey = s->nkey;
        for (size_t i = 0; i < c->ncols; i++)
            c->cols[i].key_position = s->cols[i].key_position;
    }
    c->next_field_id = s->next_field_id;
    c->schema_id = s->schema_id;
    *out = c;
    return MERU_OK;
fail:
    meru_schema_free(c);
    return rc;
}

/* ------------------------------------------------------------ validate */

typedef struct col_ref {
    const char *name;
    int32_t field_id;
    size_t idx;
} col_ref;

static int name_nocase_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y || !x)
            return x < y ? -1 : x > y;
    }
}

static int by_name(const void *pa, const void *pb)
{
    const col_ref *a = pa, *b = pb;
    int c = name_nocase_cmp(a->name, b->name);
    return c ? c : a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int by_field_id(const void *pa, const void *pb)
{
    const col_ref *a = pa, *b = pb;
    if (a->field_id != b->field_id)
        return a->field_id < b->field_id ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Unique names (ignoring case) and field ids over the whole schema in
 * O(n log n); reports the pair whose later column comes first, as adding
 * the columns one by one would have. */
static int check_unique(const meru_schema *s)
{
    char lb[MERU_LABEL_MAX], lb2[MERU_LABEL_MAX];
    size_t n = s->ncols, bad = SIZE_MAX, with = 0;
    int kind = 0;
    if (n < 2)
        return MERU_OK;
    col_ref *r = malloc(n * sizeof *r);
    if (!r)
        return meru_err(MERU_ENOMEM, "out of memory validating a schema");
    for (size_t i = 0; i < n; i++)
        r[i] = (col_ref){s->cols[i].name, s->cols[i].field_id, i};
    qsort(r, n, sizeof *r, by_name);
    for (size_t i = 1; i < n; i++)
        if (!name_nocase_cmp(r[i - 1].name, r[i].name) && r[i].idx < bad &&
            (i < 2 || name_nocase_cmp(r[i - 2].name, r[i].name))) {
            bad = r[i].idx; /* the second of its run: first reported */
            with = r[i - 1].idx;
            kind = strcmp(r[i - 1].name, r[i].name) ? 2 : 1;
        }
    qsort(r, n, sizeof *r, by_field_id);
    for (size_t i = 1; i < n; i++)
        if (r[i - 1].field_id == r[i].field_id && r[i].idx < bad &&
            (i < 2 || r[i - 2].field_id != r[i].field_id)) {
            bad = r[i].idx;
            with = r[i - 1].idx;
            kind = 3;
        }
    free(r);
    if (bad == SIZE_MAX)
        return MERU_OK;
    label_of(s->cols[bad].name, lb);
    if (kind == 1)
        return meru_err(MERU_ESCHEMA,
                        "%s: duplicate column name (column %zu has the same "
                        "name)",
                        lb, with);
    if (kind == 2)
        return meru_err(MERU_ESCHEMA,
                        "%s: name differs only in case from %s (column names "
                        "must be unique ignoring case)",
                        lb, label_of(s->cols[with].name, lb2));
    return meru_err(MERU_ESCHEMA, "%s: field id %d is already used by %s", lb,
                    (int)s->cols[bad].field_id,
                    label_of(s->cols[with].name, lb2));
}

int meru_schema_validate(const meru_schema *s)
{
    char lb[MERU_LABEL_MAX];
    if (!s)
        return meru_err(MERU_EINVAL, "meru_schema_validate: schema is NULL");
    int rc = check_name(s->table_name ? s->table_name : "", 1, 0);
    if (rc)
        return rc;
    if (s->ncols == 0)
        return meru_err(MERU_ESCHEMA, "table '%s' has no columns",
                        s->table_name);
    if (s->ncols > MERU_MAX_COLUMNS)
        return meru_err(MERU_ESCHEMA, "table '%s' has %zu columns (at most %d)",
                        s->table_name, s->ncols, MERU_MAX_COLUMNS);
    for (size_t i = 0; i < s->ncols; i++) {
        const meru_column *c = &s->cols[i];
        if (!c->name)
            return meru_err(MERU_ESCHEMA, "column at index %zu has no name", i);
        meru_column_def d = def_of(c);
        rc = check_column(s, &d, i, c->field_id, false);
        if (rc)
            return rc;
        meru_column tmp = *c;
        tmp.initial_default_json = tmp.write_default_json = NULL;
        tmp.default_storage = NULL;
        rc = parse_defaults(&tmp, c->initial_default_json,
                            c->write_default_json);
        if (rc)
            return rc;
        free(tmp.initial_default_json);
        free(tmp.write_default_json);
        free(tmp.default_storage);
    }
    if ((rc = check_unique(s)))
        return rc;
    if (s->nkey == 0)
        return meru_err(MERU_ESCHEMA,
                        "table '%s' has no primary key (set one with "
                        "meru_schema_set_primary_key() or the primary_key "
                        "argument of meru_schema_parse())",
                        s->table_name);
    if (s->nkey > MERU_MAX_KEY_COLUMNS)
        return meru_err(MERU_ESCHEMA,
                        "primary key has %zu columns (at most %d)", s->nkey,
                        MERU_MAX_KEY_COLUMNS);
    for (size_t k = 0; k < s->nkey; k++) {
        int idx = s->key_cols[k];
        if (idx < 0 || (size_t)idx >= s->ncols)
            return meru_err(MERU_ESCHEMA,
                            "primary key column %zu refers to column index "
                            "%d, which does not exist",
                            k, idx);
        for (size_t j = 0; j < k; j++)
            if (s->key_cols[j] == idx)
                return meru_err(MERU_ESCHEMA,
                                "primary key lists %s twice (positions %zu "
                                "and %zu)",
                                meru_column_label(&s->cols[idx], lb), j, k);
        if (s->cols[idx].nullable)
            return meru_err(MERU_ESCHEMA,
                            "primary key %s is nullable; key columns must be "
                            "NOT NULL",
                            meru_column_label(&s->cols[idx], lb));
    }
    return MERU_OK;
}

/* ----------------------------------------------------------- accessors */

const char *meru_schema_table_name(const meru_schema *s)
{
    return s ? s->table_name : NULL;
}

size_t meru_schema_column_count(const meru_schema *s)
{
    return s ? s->ncols : 0;
}

int meru_schema_column_index(const meru_schema *s, const char *name)
{
    if (!s || !name)
        return -1;
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

const char *meru_schema_column_name(const meru_schema *s, size_t col)
{
    return s && col < s->ncols ? s->cols[col].name : NULL;
}

meru_type meru_schema_column_type(const meru_schema *s, size_t col)
{
    return s && col < s->ncols ? s->cols[col].type : (meru_type)0;
}

int meru_schema_column_nullable(const meru_schema *s, size_t col)
{
    return s && col < s->ncols ? s->cols[col].nullable : -1;
}

int32_t meru_schema_column_field_id(const meru_schema *s, size_t col)
{
    return s && col < s->ncols ? s->cols[col].field_id : -1;
}

int meru_schema_column_def(const meru_schema *s, size_t col,
                           meru_column_def *out)
{
    if (!s || !out)
        return meru_err(MERU_EINVAL, "meru_schema_column_def: NULL argument");
    if (col >= s->ncols)
        return meru_err(MERU_EINVAL,
                        "meru_schema_column_def: column %zu of %zu", col,
                        s->ncols);
    *out = def_of(&s->cols[col]);
    return MERU_OK;
}

int32_t meru_schema_id(const meru_schema *s)
{
    return s ? s->schema_id : -1;
}

size_t meru_schema_key_count(const meru_schema *s)
{
    return s ? s->nkey : 0;
}

int meru_schema_key_column(const meru_schema *s, size_t i)
{
    return s && i < s->nkey ? s->key_cols[i] : -1;
}
