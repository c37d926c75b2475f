/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema_json.c — schemas as Iceberg schema JSON (Iceberg spec, "Schemas"
 * and Appendix C):
 *
 *   {"type":"struct","schema-id":0,"identifier-field-ids":[1],
 *    "fields":[{"id":1,"name":"id","required":true,"type":"long"},
 *              {"id":2,"name":"price","required":false,
 *               "type":"decimal(10, 2)","write-default":"0.00"}],
 *    "merutable.table-name":"orders"}
 *
 * Type strings: boolean int long float double string binary date timestamp
 * timestamptz fixed[L] decimal(P, S) (written with the space, as the Java and
 * Python Iceberg libraries write them; read case-insensitively with optional
 * spaces). The primary key is "identifier-field-ids" in key order, except
 * when it has a FLOAT or DOUBLE column, which Iceberg forbids as identifier
 * fields: then it is "merutable.primary-key" (same form) and the schema has
 * no identifier-field-ids. On read the latter wins when present. Defaults
 * are the Iceberg v3 "initial-default" / "write-default" keys holding
 * single-value JSON (literal.c), written in canonical form; format-version 2
 * table metadata has no defaults, so for it (MERU_SCHEMA_JSON_V2) they are
 * written as "merutable.initial-default" / "merutable.write-default", which
 * only merutable reads. "schema-id" is the schema's own id (0 unless a
 * table's catalog numbered it). The table name
 * is not part of an Iceberg schema: it rides in "merutable.table-name",
 * which Iceberg readers ignore, and is "table" when absent.
 *
 * The reader treats its input as hostile (it comes from disk): jansson
 * parses the structure (rejecting duplicate keys), every member is checked
 * for presence and JSON type, and every failure is MERU_ESCHEMA with the
 * JSON path named. Nested types (struct, list, map) and Iceberg primitive
 * types merutable lacks (uuid, time, ...) are refused. A schema without
 * identifier-field-ids is returned without a primary key.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/jtext.h"
#include "types/schema.h"
#include "util/error.h"

#define TABLE_NAME_KEY     "merutable.table-name"
#define PRIMARY_KEY_KEY "merutable.primary-key"
#define DEFAULT_TABLE_NAME "table"

/* --------------------------------------------------------------- write */

static int put_str(meru_buf *b, const char *s)
{
    return meru_buf_append(b, s, strlen(s));
}

static int put_default(meru_buf *b, const char *key, const meru_column *c,
                       const meru_value *v)
{
    if (v->state != MERU_VALUE_PRESENT)
        return MERU_OK;
    int rc = put_str(b, ",\"");
    if (!rc)
        rc = put_str(b, key);
    if (!rc)
        rc = put_str(b, "\":");
    if (!rc)
        rc = meru_value_to_literal(c, v, b);
    return rc;
}

/* Iceberg forbids float, double and optional identifier fields (table
 * spec, "Identifier Field IDs"). A key that uses a FLOAT or DOUBLE column is
 * therefore written under our own PRIMARY_KEY_KEY, which Iceberg readers
 * ignore, and the schema has no identifier-field-ids: they would make Java
 * and Rust readers reject the whole table. */
static int key_is_iceberg_identifier(const meru_schema *s)
{
    for (size_t k = 0; k < s->nkey; k++) {
        meru_type t = s->cols[s->key_cols[k]].type;
        if (t == MERU_TYPE_FLOAT || t == MERU_TYPE_DOUBLE)
            return 0;
    }
    return 1;
}

#define V2_INITIAL_KEY "merutable.initial-default"
#define V2_WRITE_KEY   "merutable.write-default"

int meru_schema_to_json(const meru_schema *s, char **out)
{
    return meru_schema_to_json_ex(s, 0, out);
}

int meru_schema_to_json_ex(const meru_schema *s, unsigned flags, char **out)
{
    if (!s || !out)
        return meru_err(MERU_EINVAL, "meru_schema_to_json: NULL argument");
    *out = NULL;
    meru_buf b = {0};
    char tmp[64];
    int v2 = (flags & MERU_SCHEMA_JSON_V2) != 0;
    snprintf(tmp, sizeof tmp, "{\"type\":\"struct\",\"schema-id\":%d",
             (int)s->schema_id);
    int rc = put_str(&b, tmp);
    if (!rc && s->nkey) {
        rc = put_str(&b, key_is_iceberg_identifier(s)
                             ? ",\"identifier-field-ids\":["
                             : ",\"" PRIMARY_KEY_KEY "\":[");
        for (size_t k = 0; !rc && k < s->nkey; k++) {
            snprintf(tmp, sizeof tmp, "%s%d", k ? "," : "",
                     (int)s->cols[s->key_cols[k]].field_id);
            rc = put_str(&b, tmp);
        }
        if (!rc)
            rc = put_str(&b, "]");
    }
    if (!rc)
        rc = put_str(&b, ",\"fields\":[");
    for (size_t i = 0; !rc && i < s->ncols; i++) {
        const meru_column *c = &s->cols[i];
        char tt[MERU_TYPE_TEXT_MAX];
        snprintf(tmp, sizeof tmp, "%s{\"id\":%d,\"name\":", i ? "," : "",
                 (int)c->field_id);
        rc = put_str(&b, tmp);
        if (!rc)
            rc = meru_json_put_string(&b, c->name, strlen(c->name));
        if (!rc)
            rc = put_str(&b, c->nullable ? ",\"required\":false,\"type\":\""
                                         : ",\"required\":true,\"type\":\"");
        if (!rc)
            rc = put_str(&b, meru_column_type_text(c, tt));
        if (!rc)
            rc = put_str(&b, "\"");
        if (!rc)
            rc = put_default(&b, v2 ? V2_INITIAL_KEY : "initial-default", c,
                             &c->initial_default);
        if (!rc)
            rc = put_default(&b, v2 ? V2_WRITE_KEY : "write-default", c,
                             &c->write_default);
        if (!rc)
            rc = put_str(&b, "}");
    }
    if (!rc)
        rc = put_str(&b, "],\"" TABLE_NAME_KEY "\":");
    if (!rc)
        rc = meru_json_put_string(&b, s->table_name, strlen(s->table_name));
    if (!rc)
        rc = meru_buf_append(&b, "}", 2); /* with the NUL */
    if (rc) {
        meru_buf_free(&b);
        return rc;
    }
    *out = (char *)meru_buf_detach(&b, NULL);
    return MERU_OK;
}

/* ---------------------------------------------------------------- read */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int lower_eq(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != b[i])
            return 0;
    }
    return 1;
}

static const char *skip_sp(const char *p, const char *e)
{
    while (p < e && *p == ' ')
        p++;
    return p;
}

/* Reads a decimal integer (1..9 digits) at *p; -1 if there is none. */
static long read_num(const char **p, const char *e)
{
    long v = 0;
    int nd = 0;
    while (*p < e && **p >= '0' && **p <= '9' && nd < 10) {
        v = v * 10 + (**p - '0');
        (*p)++;
        nd++;
    }
    return nd == 0 || nd > 9 ? -1 : v;
}

/*
 * Parses an Iceberg primitive type string into def->type and parameters.
 * `path` names the field for messages.
 */
static int parse_type_string(const char *s, size_t n, meru_column_def *def,
                             const char *path)
{
    static const struct {
        const char *name;
        meru_type type;
    } simple[] = {
        {"boolean", MERU_TYPE_BOOLEAN},
        {"int", MERU_TYPE_INT32},
        {"long", MERU_TYPE_INT64},
        {"float", MERU_TYPE_FLOAT},
        {"double", MERU_TYPE_DOUBLE},
        {"string", MERU_TYPE_STRING},
        {"binary", MERU_TYPE_BINARY},
        {"date", MERU_TYPE_DATE},
        {"timestamp", MERU_TYPE_TIMESTAMP},
        {"timestamptz", MERU_TYPE_TIMESTAMPTZ},
    };
    static const char *const unsupported[] = {
        "uuid",    "time",    "timestamp_ns", "timestamptz_ns",
        "variant", "unknown", "geometry",     "geography"};
    char m[64];
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        if (lower_eq(s, n, simple[i].name)) {
            def->type = simple[i].type;
            return MERU_OK;
        }
    }
    const char *e = s + n, *p;
    if (n > 6 && lower_eq(s, 6, "fixed[")) {
        p = skip_sp(s + 6, e);
        long len = read_num(&p, e);
        p = skip_sp(p, e);
        if (len < 0 || p + 1 != e || *p != ']')
            goto malformed;
        def->type = MERU_TYPE_FIXED;
        def->fixed_length = (int32_t)len;
        return MERU_OK;
    }
    if (n > 8 && lower_eq(s, 8, "decimal(")) {
        p = skip_sp(s + 8, e);
        long prec = read_num(&p, e);
        p = skip_sp(p, e);
        if (prec < 0 || p >= e || *p != ',')
            goto malformed;
        p = skip_sp(p + 1, e);
        long scale = read_num(&p, e);
        p = skip_sp(p, e);
        if (scale < 0 || p + 1 != e || *p != ')')
            goto malformed;
        def->type = MERU_TYPE_DECIMAL;
        def->precision = (int32_t)prec;
        def->scale = (int32_t)scale;
        return MERU_OK;
    }
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        size_t ul = strlen(unsupported[i]);
        if (n >= ul && lower_eq(s, ul, unsupported[i]) &&
            (n == ul || s[ul] == '('))
            return meru_err(MERU_ESCHEMA,
                            "schema JSON: %s: Iceberg type '%s' is not "
                            "supported by merutable",
                            path, meru_msg_text(m, sizeof m, s, n));
    }
    return meru_err(MERU_ESCHEMA,
                    "schema JSON: %s: unknown type '%s' (expected boolean, "
                    "int, long, float, double, string, binary, fixed[L], "
                    "date, timestamp, timestamptz or decimal(P, S))",
                    path, meru_msg_text(m, sizeof m, s, n));
malformed:
    return meru_err(MERU_ESCHEMA,
                    "schema JSON: %s: malformed type '%s' (expected fixed[L] "
                    "or decimal(P, S))",
                    path, meru_msg_text(m, sizeof m, s, n));
}

/* A default member as literal text (malloc'd), or NULL for absent/null. */
static int default_text(const json_t *v, const char *key, const char *path,
                        char **out)
{
    char tmp[MERU_FLOAT_TEXT_MAX];
    *out = NULL;
    if (!v || json_is_null(v))
        return MERU_OK;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY:
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: %s: \"%s\" is %s; only single values "
                        "are supported (no nested types)",
                        path, key, json_kind(v));
    case JSON_REAL:
        meru_fmt_double(json_real_value(v), tmp);
        *out = malloc(strlen(tmp) + 1);
        if (*out)
            memcpy(*out, tmp, strlen(tmp) + 1);
        break;
    default:
        *out = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        break;
    }
    if (!*out)
        return meru_err(MERU_ENOMEM, "out of memory reading a default");
    return MERU_OK;
}

/* A default under its Iceberg key or the v2 spelling (one of them). */
static int read_default(const json_t *f, const char *key, const char *v2key,
                        const char *path, char **out)
{
    const json_t *v = json_object_get(f, key), *v2 = json_object_get(f, v2key);
    if (v && v2)
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: %s: both \"%s\" and \"%s\" are given",
                        path, key, v2key);
    return v2 ? default_text(v2, v2key, path, out)
              : default_text(v, key, path, out);
}

static int read_field(meru_schema *s, const json_t *f, size_t i)
{
    char path[128], m[72];
    char *init = NULL, *wr = NULL;
    int rc;
    snprintf(path, sizeof path, "fields[%zu]", i);
    if (!json_is_object(f))
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: %s is %s, expected an object", path,
                        json_kind(f));
    const json_t *name = json_object_get(f, "name");
    if (!name)
        return meru_err(MERU_ESCHEMA, "schema JSON: %s: missing \"name\"",
                        path);
    if (!json_is_string(name))
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: %s: \"name\" is %s, expected a string",
                        path, json_kind(name));
    const char *nm = json_string_value(name);
    size_t nmlen = json_string_length(name);
    snprintf(path, sizeof path, "fields[%zu] ('%s')", i,
             meru_msg_text(m, sizeof m, nm, nmlen));
    if (strlen(nm) != nmlen)
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: %s: name contains a NUL character", path);
    const json_t *id = json_object_get(f, "id");
    const json_t *req = json_object_get(f, "required");
    const json_t *type = json_object_get(f, "type");
    if (!id)
        return meru_err(MERU_ESCHEMA, "schema JSON: %s: missing \"id\"", path);
    if (!json_is_integer(id))
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: %s: \"id\" is %s, expected an integer",
                        path, json_kind(id));
    json_int_t idv = json_integer_value(id);
    if (idv <= 0 || idv > INT32_MAX)
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: %s: field id %lld is out of range "
                        "1..%d",
                        path, (long long)idv, MERU_RESERVED_FIELD_ID_BASE - 1);
    if (!req)
        return meru_err(MERU_ESCHEMA, "schema JSON: %s: missing \"required\"",
                        path);
    if (!json_is_boolean(req))
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: %s: \"required\" is %s, expected true "
                        "or false",
                        path, json_kind(req));
    if (!type)
        return meru_err(MERU_ESCHEMA, "schema JSON: %s: missing \"type\"",
                        path);
    if (json_is_object(type)) {
        const json_t *inner = json_object_get(type, "type");
        const char *k =
            json_is_string(inner) ? json_string_value(inner) : "object";
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: %s: nested types are not supported "
                        "(type is a %s)",
                        path, meru_msg_text(m, sizeof m, k, strlen(k)));
    }
    if (!json_is_string(type))
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: %s: \"type\" is %s, expected a type "
                        "string",
                        path, json_kind(type));

    meru_column_def def = MERU_COLUMN_DEF_INIT;
    def.name = nm;
    def.field_id = (int32_t)idv;
    def.nullable = !json_is_true(req);
    rc = parse_type_string(json_string_value(type), json_string_length(type),
                           &def, path);
    if (rc)
        return rc;
    rc = read_default(f, "initial-default", V2_INITIAL_KEY, path, &init);
    if (!rc)
        rc = read_default(f, "write-default", V2_WRITE_KEY, path, &wr);
    if (!rc) {
        def.initial_default = init;
        def.write_default = wr;
        rc = meru_schema_add_column_def(s, &def);
        if (rc && rc != MERU_ENOMEM)
            rc = meru_err_wrap(MERU_ESCHEMA, "schema JSON: fields[%zu]", i);
    }
    free(init);
    free(wr);
    return rc;
}

static int read_key(meru_schema *s, const json_t *ids, const char *what)
{
    if (!json_is_array(ids))
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: \"%s\" is %s, expected an array of "
                        "field ids",
                        what, json_kind(ids));
    size_t n = json_array_size(ids);
    if (n == 0)
        return MERU_OK;
    if (n > MERU_MAX_KEY_COLUMNS)
        return meru_err(MERU_ESCHEMA,
                        "schema JSON: \"%s\" has %zu entries (a primary "
                        "key has at most %d columns)",
                        what, n, MERU_MAX_KEY_COLUMNS);
    const char *names[MERU_MAX_KEY_COLUMNS];
    for (size_t k = 0; k < n; k++) {
        const json_t *v = json_array_get(ids, k);
        if (!json_is_integer(v))
            return meru_err(MERU_ESCHEMA,
                            "schema JSON: %s[%zu] is %s, expected an integer",
                            what, k, json_kind(v));
        json_int_t id = json_integer_value(v);
        size_t c;
        for (c = 0; c < s->ncols; c++)
            if (s->cols[c].field_id == id)
                break;
        if (c == s->ncols)
            return meru_err(MERU_ESCHEMA,
                            "schema JSON: %s[%zu]: no field has id %lld", what,
                            k, (long long)id);
        names[k] = s->cols[c].name;
    }
    int rc = meru_schema_set_primary_key(s, names, n);
    if (rc && rc != MERU_ENOMEM)
        rc = meru_err_wrap(MERU_ESCHEMA, "schema JSON: %s", what);
    return rc;
}

int meru_schema_from_json(meru_schema **out, const char *json, size_t len)
{
    if (!out)
        return meru_err(MERU_EINVAL, "meru_schema_from_json: out is NULL");
    *out = NULL;
    if (!json && len > 0)
        return meru_err(MERU_EINVAL, "meru_schema_from_json: json is NULL");
    json_error_t jerr;
    meru_schema *s = NULL;
    int rc;
    json_t *root = json_loadb(json ? json : "", len,
                              JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (!root && (json_error_code(&jerr) == json_error_out_of_memory ||
         (jerr.line == -1 && !jerr.text[0])))
        return meru_err(MERU_ENOMEM, "schema JSON: out of memory");
    if (!root)
        return meru_err(MERU_ESCHEMA, "schema JSON: %s (line %d, column %d)",
                        jerr.text, jerr.line, jerr.column);
    if (!json_is_object(root)) {
        rc = meru_err(MERU_ESCHEMA,
                      "schema JSON: the top level is %s, expected an object",
                      json_kind(root));
        goto fail;
    }
    const json_t *type = json_object_get(root, "type");
    if (!type) {
        rc = meru_err(MERU_ESCHEMA, "schema JSON: missing \"type\": "
                                    "\"struct\"");
        goto fail;
    }
    if (!json_is_string(type) || strcmp(json_string_value(type), "struct")) {
        rc = meru_err(MERU_ESCHEMA,
                      "schema JSON: \"type\" must be \"struct\" at the top "
                      "level");
        goto fail;
    }
    const json_t *sid = json_object_get(root, "schema-id");
    if (sid && !json_is_integer(sid)) {
        rc = meru_err(MERU_ESCHEMA,
                      "schema JSON: \"schema-id\" is %s, expected an integer",
                      json_kind(sid));
        goto fail;
    }
    if (sid && (json_integer_value(sid) < 0 ||
                json_integer_value(sid) > INT32_MAX)) {
        rc = meru_err(MERU_ESCHEMA,
                      "schema JSON: \"schema-id\" %lld is out of range "
                      "0..%d",
                      (long long)json_integer_value(sid), INT32_MAX);
        goto fail;
    }
    const char *table = DEFAULT_TABLE_NAME;
    const json_t *tn = json_object_get(root, TABLE_NAME_KEY);
    if (tn && !json_is_null(tn)) {
        if (!json_is_string(tn)) {
            rc = meru_err(MERU_ESCHEMA,
                          "schema JSON: \"" TABLE_NAME_KEY "\" is %s, "
                          "expected a string",
                          json_kind(tn));
            goto fail;
        }
        table = json_string_value(tn);
        if (strlen(table) != json_string_length(tn)) {
            rc = meru_err(MERU_ESCHEMA, "schema JSON: the table name "
                                        "contains a NUL character");
            goto fail;
        }
    }
    rc = meru_schema_new(&s, table);
    if (rc) {
        rc =
            meru_err_wrap(rc == MERU_ENOMEM ? rc : MERU_ESCHEMA, "schema JSON");
        goto fail;
    }
    const json_t *fields = json_object_get(root, "fields");
    if (!fields) {
        rc = meru_err(MERU_ESCHEMA, "schema JSON: missing \"fields\"");
        goto fail;
    }
    if (!json_is_array(fields)) {
        rc = meru_err(MERU_ESCHEMA,
                      "schema JSON: \"fields\" is %s, expected an array",
                      json_kind(fields));
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(fields); i++) {
        rc = read_field(s, json_array_get(fields, i), i);
        if (rc)
            goto fail;
    }
    /* Our own key wins: it is present exactly when the key could not be
     * written as identifier-field-ids. */
    const char *key_name = PRIMARY_KEY_KEY;
    const json_t *ids = json_object_get(root, key_name);
    if (!ids) {
        key_name = "identifier-field-ids";
        ids = json_object_get(root, key_name);
    }
    if (ids) {
        rc = read_key(s, ids, key_name);
        if (rc)
            goto fail;
    }
    s->schema_id = sid ? (int32_t)json_integer_value(sid) : 0;
    json_decref(root);
    *out = s;
    return MERU_OK;
fail:
    json_decref(root);
    meru_schema_free(s);
    return rc;
}
