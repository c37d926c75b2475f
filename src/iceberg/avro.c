/* SPDX-License-Identifier: Apache-2.0 */
/*
 * avro.c — Avro binary encoding, writer-schema parsing, skipping and
 * resolving reads, and the Object Container File framing (see avro.h).
 *
 * Invariants of the decoder: a meru_avro_rd never reads outside
 * p[0..len); every count taken from the input is compared with the bytes
 * that are left before it drives a loop or an allocation; recursion over
 * a schema is bounded by MERU_AVRO_MAX_DEPTH. Schemas come from the file
 * itself, so they are hostile too: parse errors are MERU_ECORRUPT.
 *
 * Deliberately not here: per-record allocation (readers decode straight
 * into their own structs), writing compressed blocks.
 */
#include "iceberg/avro.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "merutable.h"
#include "util/endian.h"
#include "util/error.h"
#include "util/varint.h"

static const uint8_t ocf_magic[4] = {'O', 'b', 'j', 1};

/* ---------------------------------------------------------- encoder --- */

int meru_avro_put_long(meru_buf *b, int64_t v)
{
    uint8_t tmp[MERU_VARINT64_MAX];
    size_t n = meru_varint_put64(tmp, meru_zigzag_enc64(v));
    return meru_buf_append(b, tmp, n);
}

int meru_avro_put_int(meru_buf *b, int32_t v)
{
    return meru_avro_put_long(b, v);
}

int meru_avro_put_bool(meru_buf *b, bool v)
{
    return meru_buf_push(b, v ? 1 : 0);
}

int meru_avro_put_float(meru_buf *b, float v)
{
    uint32_t u;
    uint8_t tmp[4];
    memcpy(&u, &v, 4);
    meru_store_le32(tmp, u);
    return meru_buf_append(b, tmp, 4);
}

int meru_avro_put_double(meru_buf *b, double v)
{
    uint64_t u;
    uint8_t tmp[8];
    memcpy(&u, &v, 8);
    meru_store_le64(tmp, u);
    return meru_buf_append(b, tmp, 8);
}

int meru_avro_put_bytes(meru_buf *b, const void *p, size_t n)
{
    if (n > INT64_MAX)
        return meru_err(MERU_EINVAL, "avro: %zu bytes is too long", n);
    int rc = meru_avro_put_long(b, (int64_t)n);
    return rc ? rc : meru_buf_append(b, p, n);
}

int meru_avro_put_string(meru_buf *b, const char *s)
{
    return meru_avro_put_bytes(b, s, strlen(s));
}

/* ---------------------------------------------------------- decoder --- */

static int corrupt(const meru_avro_rd *rd, const char *what)
{
    return meru_err(MERU_ECORRUPT, "avro: %s at byte %" PRIu64, what,
                    rd->base + rd->pos);
}

int meru_avro_get_long(meru_avro_rd *rd, int64_t *out)
{
    *out = 0; /* defined on failure too */
    uint64_t u;
    size_t n = meru_varint_get64(rd->p + rd->pos, meru_avro_rd_left(rd), &u);
    if (n == 0)
        return corrupt(rd, meru_avro_rd_left(rd) < MERU_VARINT64_MAX
                               ? "truncated or overlong varint"
                               : "varint longer than 64 bits");
    rd->pos += n;
    *out = meru_zigzag_dec64(u);
    return MERU_OK;
}

int meru_avro_get_int(meru_avro_rd *rd, int32_t *out)
{
    *out = 0;
    int64_t v;
    size_t at = rd->pos;
    int rc = meru_avro_get_long(rd, &v);
    if (rc)
        return rc;
    if (v < INT32_MIN || v > INT32_MAX) {
        rd->pos = at;
        return corrupt(rd, "int out of range");
    }
    *out = (int32_t)v;
    return MERU_OK;
}

int meru_avro_get_bool(meru_avro_rd *rd, bool *out)
{
    *out = false;
    if (meru_avro_rd_left(rd) < 1)
        return corrupt(rd, "truncated boolean");
    if (rd->p[rd->pos] > 1)
        return corrupt(rd, "boolean byte is neither 0 nor 1");
    *out = rd->p[rd->pos++] == 1;
    return MERU_OK;
}

int meru_avro_get_float(meru_avro_rd *rd, float *out)
{
    if (meru_avro_rd_left(rd) < 4)
        return corrupt(rd, "truncated float");
    uint32_t u = meru_load_le32(rd->p + rd->pos);
    memcpy(out, &u, 4);
    rd->pos += 4;
    return MERU_OK;
}

int meru_avro_get_double(meru_avro_rd *rd, double *out)
{
    if (meru_avro_rd_left(rd) < 8)
        return corrupt(rd, "truncated double");
    uint64_t u = meru_load_le64(rd->p + rd->pos);
    memcpy(out, &u, 8);
    rd->pos += 8;
    return MERU_OK;
}

int meru_avro_get_bytes(meru_avro_rd *rd, const uint8_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int64_t len;
    size_t at = rd->pos;
    int rc = meru_avro_get_long(rd, &len);
    if (rc)
        return rc;
    if (len < 0 || (uint64_t)len > meru_avro_rd_left(rd)) {
        rd->pos = at;
        return corrupt(rd, len < 0 ? "negative length"
                                   : "length past the end of the data");
    }
    *out = rd->p + rd->pos;
    *n = (size_t)len;
    rd->pos += (size_t)len;
    return MERU_OK;
}

int meru_avro_get_fixed(meru_avro_rd *rd, size_t n, const uint8_t **out)
{
    *out = NULL;
    if (meru_avro_rd_left(rd) < n)
        return corrupt(rd, "truncated fixed");
    *out = rd->p + rd->pos;
    rd->pos += n;
    return MERU_OK;
}

int meru_avro_get_block(meru_avro_rd *rd, uint64_t *count)
{
    *count = 0;
    int64_t c;
    size_t at = rd->pos;
    int rc = meru_avro_get_long(rd, &c);
    if (rc)
        return rc;
    if (c < 0) {
        int64_t size;
        if (c == INT64_MIN) {
            rd->pos = at;
            return corrupt(rd, "block count out of range");
        }
        c = -c;
        if ((rc = meru_avro_get_long(rd, &size)))
            return rc;
        if (size < 0 || (uint64_t)size > meru_avro_rd_left(rd)) {
            rd->pos = at;
            return corrupt(rd, "block byte size past the end of the data");
        }
    }
    /* Every item this module reads takes at least one byte; a count above
     * the bytes left cannot be honest and must not drive a loop. */
    if ((uint64_t)c > meru_avro_rd_left(rd)) {
        rd->pos = at;
        return corrupt(rd, "block count larger than the data left");
    }
    *count = (uint64_t)c;
    return MERU_OK;
}

int meru_avro_rd_finish(const meru_avro_rd *rd, const char *what)
{
    if (rd->pos != rd->len)
        return meru_err(MERU_ECORRUPT,
                        "avro: %zu bytes left over after the %s at byte "
                        "%" PRIu64,
                        rd->len - rd->pos, what, rd->base + rd->pos);
    return MERU_OK;
}

/* ----------------------------------------------------------- schemas --- */

typedef struct named {
    const char *name;
    const meru_avro_schema *s;
    struct named *next;
} named;

typedef struct parse_ctx {
    meru_arena *arena;
    named *names;
} parse_ctx;

static int bad_schema(const char *what, const char *detail)
{
    return meru_err(MERU_ECORRUPT, "avro schema: %s%s%s", what,
                    detail ? ": " : "", detail ? detail : "");
}

static const struct {
    const char *name;
    meru_avro_type type;
} primitives[] = {
    {"null", MERU_AVRO_NULL},   {"boolean", MERU_AVRO_BOOLEAN},
    {"int", MERU_AVRO_INT},     {"long", MERU_AVRO_LONG},
    {"float", MERU_AVRO_FLOAT}, {"double", MERU_AVRO_DOUBLE},
    {"bytes", MERU_AVRO_BYTES}, {"string", MERU_AVRO_STRING},
};

static meru_avro_schema *new_schema(parse_ctx *c, meru_avro_type t)
{
    meru_avro_schema *s = meru_arena_zalloc(c->arena, sizeof *s);
    if (s)
        s->type = t;
    return s;
}

static int optional_id(json_t *obj, const char *key, bool *has, int32_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return MERU_OK;
    if (!json_is_integer(v) || json_integer_value(v) < INT32_MIN ||
        json_integer_value(v) > INT32_MAX)
        return bad_schema("not a 32-bit integer", key);
    *has = true;
    *out = (int32_t)json_integer_value(v);
    return MERU_OK;
}

static int parse_node(parse_ctx *c, json_t *j, int depth,
                      const meru_avro_schema **out);

static int define_name(parse_ctx *c, json_t *obj, meru_avro_schema *s)
{
    json_t *n = json_object_get(obj, "name");
    if (!json_is_string(n) || json_string_length(n) == 0)
        return bad_schema("named type without a name", NULL);
    const char *name = json_string_value(n);
    json_t *ns = json_object_get(obj, "namespace");
    if (!strchr(name, '.') && json_is_string(ns) && json_string_length(ns)) {
        size_t a = json_string_length(ns), b = strlen(name);
        char *full = meru_arena_alloc(c->arena, a + b + 2);
        if (!full)
            return MERU_ENOMEM;
        memcpy(full, json_string_value(ns), a);
        full[a] = '.';
        memcpy(full + a + 1, name, b + 1);
        s->name = full;
    } else if (!(s->name = meru_arena_strndup(c->arena, name, strlen(name)))) {
        return MERU_ENOMEM;
    }
    for (named *e = c->names; e; e = e->next)
        if (strcmp(e->name, s->name) == 0)
            return bad_schema("type name defined twice", s->name);
    named *e = meru_arena_alloc(c->arena, sizeof *e);
    if (!e)
        return MERU_ENOMEM;
    e->name = s->name;
    e->s = s;
    e->next = c->names;
    c->names = e;
    return MERU_OK;
}

static int parse_record(parse_ctx *c, json_t *j, int depth, meru_avro_schema *s)
{
    json_t *fields = json_object_get(j, "fields");
    int rc;
    if (!json_is_array(fields))
        return bad_schema("record without a fields array", s->name);
    size_t n = json_array_size(fields);
    if (n > UINT32_MAX / 2)
        return bad_schema("too many fields", s->name);
    meru_avro_field *f = n ? meru_arena_zalloc(c->arena, n * sizeof *f) : NULL;
    if (n && !f)
        return MERU_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *fj = json_array_get(fields, i);
        json_t *name = json_object_get(fj, "name");
        if (!json_is_object(fj) || !json_is_string(name))
            return bad_schema("record field without a name", s->name);
        if (!(f[i].name = meru_arena_strndup(c->arena, json_string_value(name),
                                             json_string_length(name))))
            return MERU_ENOMEM;
        for (size_t k = 0; k < i; k++)
            if (strcmp(f[k].name, f[i].name) == 0)
                return bad_schema("field name used twice", f[i].name);
        if ((rc = optional_id(fj, "field-id", &f[i].has_field_id,
                              &f[i].field_id)))
            return rc;
        json_t *t = json_object_get(fj, "type");
        if (!t)
            return bad_schema("record field without a type", f[i].name);
        if ((rc = parse_node(c, t, depth + 1, &f[i].type)))
            return rc;
    }
    s->fields = f;
    s->n = (uint32_t)n;
    return MERU_OK;
}

static int parse_object(parse_ctx *c, json_t *j, int depth,
                        const meru_avro_schema **out)
{
    json_t *t = json_object_get(j, "type");
    int rc;
    if (json_is_object(t) || json_is_array(t))
        return parse_node(c, t, depth + 1, out); /* {"type": {...}} */
    if (!json_is_string(t))
        return bad_schema("object without a type name", NULL);
    const char *tn = json_string_value(t);
    meru_avro_schema *s;
    if (strcmp(tn, "record") == 0 || strcmp(tn, "error") == 0) {
        if (!(s = new_schema(c, MERU_AVRO_RECORD)))
            return MERU_ENOMEM;
        /* The name is defined before the fields so they may refer to it. */
        if ((rc = define_name(c, j, s)) || (rc = parse_record(c, j, depth, s)))
            return rc;
    } else if (strcmp(tn, "enum") == 0) {
        json_t *sym = json_object_get(j, "symbols");
        if (!(s = new_schema(c, MERU_AVRO_ENUM)))
            return MERU_ENOMEM;
        if ((rc = define_name(c, j, s)))
            return rc;
        if (!json_is_array(sym) || json_array_size(sym) > INT32_MAX)
            return bad_schema("enum without symbols", s->name);
        s->size = (uint32_t)json_array_size(sym);
    } else if (strcmp(tn, "fixed") == 0) {
        json_t *size = json_object_get(j, "size");
        if (!(s = new_schema(c, MERU_AVRO_FIXED)))
            return MERU_ENOMEM;
        if ((rc = define_name(c, j, s)))
            return rc;
        if (!json_is_integer(size) || json_integer_value(size) < 0 ||
            json_integer_value(size) > INT32_MAX)
            return bad_schema("fixed without a valid size", s->name);
        s->size = (uint32_t)json_integer_value(size);
    } else if (strcmp(tn, "array") == 0 || strcmp(tn, "map") == 0) {
        bool arr = tn[0] == 'a';
        json_t *items = json_object_get(j, arr ? "items" : "values");
        if (!(s = new_schema(c, arr ? MERU_AVRO_ARRAY : MERU_AVRO_MAP)))
            return MERU_ENOMEM;
        if (!items)
            return bad_schema(
                arr ? "array without items" : "map without values", NULL);
        if ((rc = parse_node(c, items, depth + 1, &s->items)) ||
            (rc = optional_id(j, "element-id", &s->has_element_id,
                              &s->element_id)) ||
            (rc = optional_id(j, "key-id", &s->has_key_id, &s->key_id)) ||
            (rc = optional_id(j, "value-id", &s->has_value_id, &s->value_id)))
            return rc;
    } else {
        /* A primitive in object form ({"type": "long", "logicalType": ..}) */
        size_t i;
        for (i = 0; i < sizeof primitives / sizeof *primitives; i++)
            if (strcmp(tn, primitives[i].name) == 0)
                break;
        if (i == sizeof primitives / sizeof *primitives)
            return parse_node(c, t, depth + 1, out); /* a named reference */
        if (!(s = new_schema(c, primitives[i].type)))
            return MERU_ENOMEM;
    }
    json_t *lt = json_object_get(j, "logicalType");
    if (json_is_string(lt) &&
        !(s->logical = meru_arena_strndup(c->arena, json_string_value(lt),
                                          json_string_length(lt))))
        return MERU_ENOMEM;
    *out = s;
    return MERU_OK;
}

static int parse_node(parse_ctx *c, json_t *j, int depth,
                      const meru_avro_schema **out)
{
    int rc;
    if (depth > MERU_AVRO_MAX_DEPTH)
        return bad_schema("nested too deeply", NULL);
    if (json_is_string(j)) {
        const char *tn = json_string_value(j);
        for (size_t i = 0; i < sizeof primitives / sizeof *primitives; i++)
            if (strcmp(tn, primitives[i].name) == 0) {
                meru_avro_schema *s = new_schema(c, primitives[i].type);
                if (!s)
                    return MERU_ENOMEM;
                *out = s;
                return MERU_OK;
            }
        for (named *e = c->names; e; e = e->next) {
            const char *dot = strrchr(e->name, '.');
            if (strcmp(e->name, tn) == 0 || (dot && strcmp(dot + 1, tn) == 0)) {
                *out = e->s;
                return MERU_OK;
            }
        }
        return bad_schema("unknown type name", tn);
    }
    if (json_is_array(j)) {
        size_t n = json_array_size(j);
        meru_avro_schema *s = new_schema(c, MERU_AVRO_UNION);
        if (!s)
            return MERU_ENOMEM;
        if (n == 0 || n > 1024)
            return bad_schema("union with no or too many branches", NULL);
        const meru_avro_schema **b = meru_arena_zalloc(c->arena, n * sizeof *b);
        if (!b)
            return MERU_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            if ((rc = parse_node(c, json_array_get(j, i), depth + 1, &b[i])))
                return rc;
            if (b[i]->type == MERU_AVRO_UNION)
                return bad_schema("union directly inside a union", NULL);
        }
        s->branches = b;
        s->n = (uint32_t)n;
        *out = s;
        return MERU_OK;
    }
    if (json_is_object(j))
        return parse_object(c, j, depth, out);
    return bad_schema("not a string, array or object", NULL);
}

int meru_avro_schema_parse(meru_arena *arena, const char *json, size_t len,
                           const meru_avro_schema **out)
{
    json_error_t jerr;
    json_t *j = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
    if (!j)
        return meru_err(MERU_ECORRUPT, "avro schema: invalid JSON: %s",
                        jerr.text);
    parse_ctx c = {arena, NULL};
    int rc = parse_node(&c, j, 0, out);
    json_decref(j);
    if (rc == MERU_ENOMEM)
        meru_err(rc, "avro schema: out of memory");
    return rc;
}

const meru_avro_field *meru_avro_field_by_id(const meru_avro_schema *record,
                                             int32_t field_id)
{
    if (record->type != MERU_AVRO_RECORD)
        return NULL;
    for (uint32_t i = 0; i < record->n; i++)
        if (record->fields[i].has_field_id &&
            record->fields[i].field_id == field_id)
            return &record->fields[i];
    return NULL;
}

/* ------------------------------------------------------------ skipping --- */

static int skip(meru_avro_rd *rd, const meru_avro_schema *s, int depth)
{
    const uint8_t *p;
    size_t n;
    int64_t l;
    int32_t i32 = 0;
    bool b;
    uint64_t count;
    int rc;
    if (depth > MERU_AVRO_MAX_DEPTH)
        return corrupt(rd, "data nested too deeply");
    switch (s->type) {
    case MERU_AVRO_NULL:
        return MERU_OK;
    case MERU_AVRO_BOOLEAN:
        return meru_avro_get_bool(rd, &b);
    case MERU_AVRO_INT:
        return meru_avro_get_int(rd, &i32);
    case MERU_AVRO_LONG:
        return meru_avro_get_long(rd, &l);
    case MERU_AVRO_FLOAT:
        return meru_avro_get_fixed(rd, 4, &p);
    case MERU_AVRO_DOUBLE:
        return meru_avro_get_fixed(rd, 8, &p);
    case MERU_AVRO_BYTES:
    case MERU_AVRO_STRING:
        return meru_avro_get_bytes(rd, &p, &n);
    case MERU_AVRO_FIXED:
        return meru_avro_get_fixed(rd, s->size, &p);
    case MERU_AVRO_ENUM:
        if ((rc = meru_avro_get_int(rd, &i32)))
            return rc;
        if (i32 < 0 || (uint32_t)i32 >= s->size)
            return corrupt(rd, "enum index out of range");
        return MERU_OK;
    case MERU_AVRO_RECORD:
        for (uint32_t i = 0; i < s->n; i++)
            if ((rc = skip(rd, s->fields[i].type, depth + 1)))
                return rc;
        return MERU_OK;
    case MERU_AVRO_ARRAY:
    case MERU_AVRO_MAP:
        for (;;) {
            if ((rc = meru_avro_get_block(rd, &count)))
                return rc;
            if (count == 0)
                return MERU_OK;
            for (uint64_t i = 0; i < count; i++) {
                if (s->type == MERU_AVRO_MAP &&
                    (rc = meru_avro_get_bytes(rd, &p, &n)))
                    return rc;
                if ((rc = skip(rd, s->items, depth + 1)))
                    return rc;
            }
        }
    case MERU_AVRO_UNION: {
        const meru_avro_schema *v = NULL;
        if ((rc = meru_avro_read_branch(rd, s, &v)))
            return rc;
        return v ? skip(rd, v, depth + 1) : MERU_OK;
    }
    }
    return corrupt(rd, "unknown schema type");
}

int meru_avro_skip(meru_avro_rd *rd, const meru_avro_schema *s)
{
    return skip(rd, s, 0);
}

/* ----------------------------------------------------- resolving reads --- */

int meru_avro_read_branch(meru_avro_rd *rd, const meru_avro_schema *s,
                          const meru_avro_schema **value)
{
    *value = NULL;
    if (s->type != MERU_AVRO_UNION) {
        *value = s->type == MERU_AVRO_NULL ? NULL : s;
        return MERU_OK;
    }
    int64_t idx;
    size_t at = rd->pos;
    int rc = meru_avro_get_long(rd, &idx);
    if (rc)
        return rc;
    if (idx < 0 || idx >= (int64_t)s->n) {
        rd->pos = at;
        return corrupt(rd, "union branch out of range");
    }
    const meru_avro_schema *b = s->branches[idx];
    *value = b->type == MERU_AVRO_NULL ? NULL : b;
    return MERU_OK;
}

/* The value schema after a union branch, or "absent". */
static int resolve(meru_avro_rd *rd, const meru_avro_schema *s,
                   const char *what, bool *present, const meru_avro_schema **v)
{
    int rc = meru_avro_read_branch(rd, s, v);
    if (rc)
        return rc;
    if (!*v) {
        if (!present)
            return meru_err(MERU_ECORRUPT,
                            "avro: %s is null but required, at byte %" PRIu64,
                            what, rd->base + rd->pos);
        *present = false;
        return MERU_OK;
    }
    if (present)
        *present = true;
    return MERU_OK;
}

static int wrong_type(const meru_avro_rd *rd, const char *what,
                      const char *want)
{
    return meru_err(MERU_ECORRUPT,
                    "avro: %s is written with a type that is not %s "
                    "(at byte %" PRIu64 ")",
                    what, want, rd->base + rd->pos);
}

int meru_avro_read_long(meru_avro_rd *rd, const meru_avro_schema *s,
                        const char *what, bool *present, int64_t *out)
{
    const meru_avro_schema *v = NULL;
    int rc = resolve(rd, s, what, present, &v);
    if (rc || !v)
        return rc;
    if (v->type == MERU_AVRO_INT) {
        int32_t i = 0;
        if ((rc = meru_avro_get_int(rd, &i)))
            return rc;
        *out = i;
        return MERU_OK;
    }
    if (v->type != MERU_AVRO_LONG)
        return wrong_type(rd, what, "a long");
    return meru_avro_get_long(rd, out);
}

int meru_avro_read_int(meru_avro_rd *rd, const meru_avro_schema *s,
                       const char *what, bool *present, int32_t *out)
{
    const meru_avro_schema *v = NULL;
    int rc = resolve(rd, s, what, present, &v);
    if (rc || !v)
        return rc;
    if (v->type != MERU_AVRO_INT && v->type != MERU_AVRO_LONG)
        return wrong_type(rd, what, "an int");
    return meru_avro_get_int(rd, out);
}

int meru_avro_read_bool(meru_avro_rd *rd, const meru_avro_schema *s,
                        const char *what, bool *present, bool *out)
{
    const meru_avro_schema *v = NULL;
    int rc = resolve(rd, s, what, present, &v);
    if (rc || !v)
        return rc;
    if (v->type != MERU_AVRO_BOOLEAN)
        return wrong_type(rd, what, "a boolean");
    return meru_avro_get_bool(rd, out);
}

int meru_avro_read_bytes(meru_avro_rd *rd, const meru_avro_schema *s,
                         const char *what, bool *present, const uint8_t **out,
                         size_t *n)
{
    const meru_avro_schema *v = NULL;
    int rc = resolve(rd, s, what, present, &v);
    if (rc || !v)
        return rc;
    if (v->type == MERU_AVRO_FIXED) {
        *n = v->size;
        return meru_avro_get_fixed(rd, v->size, out);
    }
    if (v->type != MERU_AVRO_BYTES && v->type != MERU_AVRO_STRING)
        return wrong_type(rd, what, "bytes or a string");
    return meru_avro_get_bytes(rd, out, n);
}

/* ------------------------------------------------------ container file --- */

int meru_avro_ocf_header(meru_buf *out, const char *schema_json,
                         const meru_avro_meta *meta, size_t n,
                         const uint8_t sync[MERU_AVRO_SYNC_LEN])
{
    int rc;
    if ((rc = meru_buf_append(out, ocf_magic, 4)) ||
        (rc = meru_avro_put_long(out, (int64_t)n + 2)) ||
        (rc = meru_avro_put_string(out, "avro.schema")) ||
        (rc = meru_avro_put_string(out, schema_json)) ||
        (rc = meru_avro_put_string(out, "avro.codec")) ||
        (rc = meru_avro_put_string(out, "null")))
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = meru_avro_put_string(out, meta[i].key)) ||
            (rc = meru_avro_put_bytes(out, meta[i].value, meta[i].len)))
            return rc;
    if ((rc = meru_avro_put_long(out, 0)))
        return rc;
    return meru_buf_append(out, sync, MERU_AVRO_SYNC_LEN);
}

int meru_avro_ocf_block(meru_buf *out, uint64_t count, const uint8_t *data,
                        size_t len, const uint8_t sync[MERU_AVRO_SYNC_LEN])
{
    int rc;
    if (count > INT64_MAX || len > INT64_MAX)
        return meru_err(MERU_EINVAL, "avro: block too large");
    if ((rc = meru_avro_put_long(out, (int64_t)count)) ||
        (rc = meru_avro_put_long(out, (int64_t)len)) ||
        (rc = meru_buf_append(out, data, len)))
        return rc;
    return meru_buf_append(out, sync, MERU_AVRO_SYNC_LEN);
}

void meru_avro_random_sync(uint8_t sync[MERU_AVRO_SYNC_LEN])
{
    if (getentropy(sync, MERU_AVRO_SYNC_LEN) == 0)
        return;
    /* No entropy source: a clock- and address-seeded splitmix64 is still
     * unique enough for a marker whose only job is to be unlikely in data. */
    static _Thread_local uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                 (uint64_t)(uintptr_t)&counter ^ ++counter;
    for (int i = 0; i < 2; i++) {
        x += 0x9e3779b97f4a7c15ull;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        meru_store_le64(sync + 8 * i, z);
    }
}

typedef struct ocf_meta {
    const char *key; /* in the arena, NUL-terminated */
    const uint8_t *value;
    size_t len;
} ocf_meta;

struct meru_avro_ocf {
    const uint8_t *data;
    size_t len, pos;
    uint8_t sync[MERU_AVRO_SYNC_LEN];
    bool deflate;
    meru_arena *arena;
    const meru_avro_schema *schema;
    ocf_meta *meta;
    size_t n_meta;
    uint8_t *inflated; /* the last deflate block, inflated */
    size_t inflated_cap;
};

void meru_avro_ocf_close(meru_avro_ocf *f)
{
    if (!f)
        return;
    meru_arena_free(f->arena);
    free(f->inflated);
    free(f);
}

static int read_meta(meru_avro_ocf *f, meru_avro_rd *rd)
{
    uint64_t count;
    int rc;
    size_t cap = 0;
    for (;;) {
        if ((rc = meru_avro_get_block(rd, &count)))
            return rc;
        if (count == 0)
            return MERU_OK;
        if (count > SIZE_MAX / sizeof *f->meta - f->n_meta)
            return corrupt(rd, "too many metadata entries");
        if (f->n_meta + count > cap) {
            /* Bounded: count <= bytes left, and each entry takes >= 2. */
            size_t ncap = f->n_meta + (size_t)count;
            ocf_meta *m = meru_arena_alloc(f->arena, ncap * sizeof *m);
            if (!m)
                return MERU_ENOMEM;
            if (f->n_meta)
                memcpy(m, f->meta, f->n_meta * sizeof *m);
            f->meta = m;
            cap = ncap;
        }
        for (uint64_t i = 0; i < count; i++) {
            const uint8_t *k, *v;
            size_t kn, vn;
            if ((rc = meru_avro_get_bytes(rd, &k, &kn)) ||
                (rc = meru_avro_get_bytes(rd, &v, &vn)))
                return rc;
            char *key = meru_arena_strndup(f->arena, (const char *)k, kn);
            if (!key)
                return MERU_ENOMEM;
            if (strlen(key) != kn)
                return corrupt(rd, "metadata key holds a NUL byte");
            for (size_t j = 0; j < f->n_meta; j++)
                if (strcmp(f->meta[j].key, key) == 0)
                    return corrupt(rd, "metadata key given twice");
            f->meta[f->n_meta].key = key;
            f->meta[f->n_meta].value = v;
            f->meta[f->n_meta].len = vn;
            f->n_meta++;
        }
    }
}

int meru_avro_ocf_open(meru_avro_ocf **out, const uint8_t *data, size_t len)
{
    meru_avro_ocf *f = calloc(1, sizeof *f);
    meru_avro_rd rd;
    int rc;
    const uint8_t *v;
    size_t vn;
    *out = NULL;
    if (!f)
        return meru_err(MERU_ENOMEM, "avro: out of memory");
    f->data = data;
    f->len = len;
    if ((rc = meru_arena_new(&f->arena, 16 << 10)))
        goto fail;
    if (len < 4 || memcmp(data, ocf_magic, 4) != 0) {
        rc = meru_err(MERU_ECORRUPT, "avro: not an Avro object container "
                                     "file (bad magic)");
        goto fail;
    }
    meru_avro_rd_init(&rd, data + 4, len - 4, 4);
    if ((rc = read_meta(f, &rd)))
        goto fail;
    if (meru_avro_rd_left(&rd) < MERU_AVRO_SYNC_LEN) {
        rc = corrupt(&rd, "truncated sync marker");
        goto fail;
    }
    memcpy(f->sync, rd.p + rd.pos, MERU_AVRO_SYNC_LEN);
    f->pos = 4 + rd.pos + MERU_AVRO_SYNC_LEN;
    if (!meru_avro_ocf_meta(f, "avro.schema", &v, &vn)) {
        rc = meru_err(MERU_ECORRUPT, "avro: header has no avro.schema");
        goto fail;
    }
    if ((rc =
             meru_avro_schema_parse(f->arena, (const char *)v, vn, &f->schema)))
        goto fail;
    if (meru_avro_ocf_meta(f, "avro.codec", &v, &vn) &&
        !(vn == 4 && memcmp(v, "null", 4) == 0)) {
        if (vn == 7 && memcmp(v, "deflate", 7) == 0) {
            f->deflate = true;
        } else {
            rc = meru_err(MERU_ENOTSUP, "avro: codec \"%.*s\" is not supported",
                          (int)(vn > 32 ? 32 : vn), (const char *)v);
            goto fail;
        }
    }
    *out = f;
    return MERU_OK;
fail:
    if (rc == MERU_ENOMEM)
        meru_err(rc, "avro: out of memory reading the header");
    meru_avro_ocf_close(f);
    return rc;
}

const meru_avro_schema *meru_avro_ocf_schema(const meru_avro_ocf *f)
{
    return f->schema;
}

bool meru_avro_ocf_meta(const meru_avro_ocf *f, const char *key,
                        const uint8_t **value, size_t *len)
{
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0) {
            *value = f->meta[i].value;
            *len = f->meta[i].len;
            return true;
        }
    return false;
}

static int inflate_block(meru_avro_ocf *f, const uint8_t *in, size_t n,
                         uint64_t at, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -15) != Z_OK)
        return meru_err(MERU_ENOMEM, "avro: cannot start inflate");
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    size_t have = 0;
    int rc = MERU_OK;
    for (;;) {
        if (have == f->inflated_cap) {
            size_t cap = f->inflated_cap ? f->inflated_cap * 2 : 64 << 10;
            if (f->inflated_cap >= MERU_AVRO_MAX_BLOCK) {
                rc = meru_err(MERU_ECORRUPT,
                              "avro: deflate block at byte %" PRIu64
                              " inflates past %zu bytes",
                              at, (size_t)MERU_AVRO_MAX_BLOCK);
                break;
            }
            if (cap > MERU_AVRO_MAX_BLOCK)
                cap = MERU_AVRO_MAX_BLOCK;
            uint8_t *p = realloc(f->inflated, cap);
            if (!p) {
                rc = meru_err(MERU_ENOMEM, "avro: out of memory inflating");
                break;
            }
            f->inflated = p;
            f->inflated_cap = cap;
        }
        size_t room = f->inflated_cap - have;
        z.next_out = f->inflated + have;
        z.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
        uInt before = z.avail_out;
        int zr = inflate(&z, Z_NO_FLUSH);
        have += before - z.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_OK || (zr == Z_BUF_ERROR && z.avail_out == 0))
            continue;
        rc = meru_err(MERU_ECORRUPT,
                      "avro: deflate block at byte %" PRIu64 " is corrupt "
                      "(%s)",
                      at, z.msg ? z.msg : "truncated");
        break;
    }
    inflateEnd(&z);
    *out_len = have;
    return rc;
}

int meru_avro_ocf_next_block(meru_avro_ocf *f, meru_avro_rd *rd,
                             uint64_t *count)
{
    for (;;) {
        meru_avro_rd h;
        int64_t c, size;
        int rc;
        *count = 0;
        if (f->pos == f->len)
            return MERU_OK;
        meru_avro_rd_init(&h, f->data + f->pos, f->len - f->pos, f->pos);
        if ((rc = meru_avro_get_long(&h, &c)) ||
            (rc = meru_avro_get_long(&h, &size)))
            return rc;
        if (c < 0 || size < 0)
            return corrupt(&h, "negative block count or size");
        if (meru_avro_rd_left(&h) < MERU_AVRO_SYNC_LEN ||
            (uint64_t)size > meru_avro_rd_left(&h) - MERU_AVRO_SYNC_LEN)
            return corrupt(&h, "block runs past the end of the file");
        uint64_t at = f->pos + h.pos;
        const uint8_t *body = h.p + h.pos;
        if (memcmp(body + size, f->sync, MERU_AVRO_SYNC_LEN) != 0) {
            h.pos += (size_t)size;
            return corrupt(&h, "sync marker does not match the header's");
        }
        f->pos += h.pos + (size_t)size + MERU_AVRO_SYNC_LEN;
        if (c == 0)
            continue;
        if (f->deflate) {
            size_t n = 0;
            if ((rc = inflate_block(f, body, (size_t)size, at, &n)))
                return rc;
            meru_avro_rd_init(rd, f->inflated, n, 0);
        } else {
            meru_avro_rd_init(rd, body, (size_t)size, at);
        }
        /* Records take at least a byte each: an honest count fits. */
        if ((uint64_t)c > rd->len)
            return meru_err(MERU_ECORRUPT,
                            "avro: block at byte %" PRIu64 " claims %" PRId64
                            " records in %zu bytes",
                            at, c, rd->len);
        *count = (uint64_t)c;
        return MERU_OK;
    }
}
