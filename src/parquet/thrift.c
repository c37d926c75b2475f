/* SPDX-License-Identifier: Apache-2.0 */
/*
 * thrift.c — Thrift compact protocol reader and writer (see thrift.h).
 *
 * The reader never reads past `len`: every primitive checks the bytes left
 * first, varints go through the bounded decoders of util/varint.h, and
 * collection sizes are compared with the bytes left before the caller can
 * allocate for them. Errors are MERU_ECORRUPT and carry the offset.
 *
 * Skipping is recursive over the value's own nesting, bounded by
 * TC_MAX_DEPTH; every iteration of every loop in it consumes at least one
 * input byte, so its running time is linear in the input.
 */
#include "parquet/thrift.h"

#include <string.h>

#include "util/endian.h"
#include "util/error.h"
#include "util/varint.h"

/* ------------------------------------------------------------- reader */

void tc_reader_init(tc_reader *r, const uint8_t *p, size_t len)
{
    /* A NULL pointer with len 0 would make `p + pos` undefined. */
    static const uint8_t empty[1];
    r->p = p ? p : empty;
    r->len = p ? len : 0;
    r->pos = 0;
    r->depth = 0;
}

static int truncated(const tc_reader *r, const char *what)
{
    return meru_err(MERU_ECORRUPT,
                    "thrift: %s truncated at offset %zu (input is %zu bytes)",
                    what, r->pos, r->len);
}

static int bad_varint(const tc_reader *r, const char *what)
{
    if (tc_left(r) < MERU_VARINT64_MAX) {
        /* Distinguish running out of input from an over-long encoding. */
        size_t i = r->pos;
        while (i < r->len && (r->p[i] & 0x80))
            i++;
        if (i == r->len)
            return truncated(r, what);
    }
    return meru_err(MERU_ECORRUPT,
                    "thrift: %s is not a valid varint at offset %zu", what,
                    r->pos);
}

static int rd_varint64(tc_reader *r, uint64_t *v, const char *what)
{
    size_t n = meru_varint_get64(r->p + r->pos, tc_left(r), v);
    if (n == 0)
        return bad_varint(r, what);
    r->pos += n;
    return MERU_OK;
}

static int rd_varint32(tc_reader *r, uint32_t *v, const char *what)
{
    size_t n = meru_varint_get32(r->p + r->pos, tc_left(r), v);
    if (n == 0)
        return bad_varint(r, what);
    r->pos += n;
    return MERU_OK;
}

int tc_read_i8(tc_reader *r, int8_t *out)
{
    if (tc_left(r) < 1)
        return truncated(r, "i8");
    *out = (int8_t)r->p[r->pos++];
    return MERU_OK;
}

int tc_read_i32(tc_reader *r, int32_t *out)
{
    uint32_t v = 0;
    int rc = rd_varint32(r, &v, "i32");
    if (rc)
        return rc;
    *out = meru_zigzag_dec32(v);
    return MERU_OK;
}

int tc_read_i16(tc_reader *r, int16_t *out)
{
    size_t at = r->pos;
    int32_t v = 0;
    int rc = tc_read_i32(r, &v);
    if (rc)
        return rc;
    if (v < INT16_MIN || v > INT16_MAX)
        return meru_err(MERU_ECORRUPT,
                        "thrift: i16 value %d out of range at offset %zu",
                        (int)v, at);
    *out = (int16_t)v;
    return MERU_OK;
}

int tc_read_i64(tc_reader *r, int64_t *out)
{
    uint64_t v = 0;
    int rc = rd_varint64(r, &v, "i64");
    if (rc)
        return rc;
    *out = meru_zigzag_dec64(v);
    return MERU_OK;
}

int tc_read_double(tc_reader *r, double *out)
{
    if (tc_left(r) < 8)
        return truncated(r, "double");
    uint64_t bits = meru_load_le64(r->p + r->pos);
    memcpy(out, &bits, sizeof *out);
    r->pos += 8;
    return MERU_OK;
}

int tc_read_binary(tc_reader *r, const uint8_t **out, uint32_t *n)
{
    uint32_t len = 0;
    int rc = rd_varint32(r, &len, "binary length");
    if (rc)
        return rc;
    if (len > INT32_MAX)
        return meru_err(MERU_ECORRUPT,
                        "thrift: binary length %u is negative as an i32 "
                        "(offset %zu)",
                        len, r->pos);
    if (len > tc_left(r))
        return meru_err(MERU_ECORRUPT,
                        "thrift: binary of %u bytes at offset %zu runs past "
                        "the end (%zu bytes left)",
                        len, r->pos, tc_left(r));
    *out = r->p + r->pos;
    *n = len;
    r->pos += len;
    return MERU_OK;
}

int tc_read_bool_elem(tc_reader *r, bool *out)
{
    if (tc_left(r) < 1)
        return truncated(r, "bool element");
    uint8_t b = r->p[r->pos];
    /* The spec text says 1/0, Apache Thrift's own libraries write 1/2. */
    if (b > 2)
        return meru_err(MERU_ECORRUPT,
                        "thrift: bool element byte 0x%02x at offset %zu", b,
                        r->pos);
    r->pos++;
    *out = b == 1;
    return MERU_OK;
}

int tc_read_field(tc_reader *r, int16_t *last, int *type, int16_t *id)
{
    if (tc_left(r) < 1)
        return truncated(r, "struct (no stop field)");
    size_t at = r->pos;
    uint8_t b = r->p[r->pos++];
    int t = b & 0x0f;
    if (t == TC_STOP) {
        /* Reference implementations ignore the high nibble here too. */
        *type = TC_STOP;
        *id = 0;
        return MERU_OK;
    }
    if (t > TC_UUID)
        return meru_err(MERU_ECORRUPT,
                        "thrift: invalid field type %d at offset %zu", t, at);
    int delta = b >> 4;
    int16_t fid = 0;
    if (delta) {
        int v = *last + delta;
        if (v > INT16_MAX)
            return meru_err(MERU_ECORRUPT,
                            "thrift: field id overflows i16 at offset %zu", at);
        fid = (int16_t)v;
    } else {
        int rc = tc_read_i16(r, &fid);
        if (rc)
            return rc;
    }
    *last = fid;
    *id = fid;
    *type = t;
    return MERU_OK;
}

/* Smallest wire size of one element of `type` (bool elements: 1 byte). */
static size_t elem_min_bytes(int type)
{
    switch (type) {
    case TC_DOUBLE:
        return 8;
    case TC_UUID:
        return 16;
    default:
        return 1;
    }
}

static bool valid_elem_type(int type)
{
    return type >= TC_TRUE && type <= TC_UUID;
}

int tc_check_count(const tc_reader *r, uint32_t n, size_t min_bytes,
                   const char *what)
{
    if (min_bytes && n > tc_left(r) / min_bytes)
        return meru_err(MERU_ECORRUPT,
                        "thrift: %s claims %u elements but only %zu bytes "
                        "are left (offset %zu)",
                        what, n, tc_left(r), r->pos);
    return MERU_OK;
}

int tc_read_list(tc_reader *r, int *elem_type, uint32_t *n)
{
    if (tc_left(r) < 1)
        return truncated(r, "list header");
    size_t at = r->pos;
    uint8_t b = r->p[r->pos++];
    int t = b & 0x0f;
    uint32_t size = b >> 4;
    if (size == 15) {
        int rc = rd_varint32(r, &size, "list size");
        if (rc)
            return rc;
        if (size > INT32_MAX)
            return meru_err(MERU_ECORRUPT,
                            "thrift: list size %u is negative as an i32 "
                            "(offset %zu)",
                            size, at);
    }
    if (size > 0 && !valid_elem_type(t))
        return meru_err(MERU_ECORRUPT,
                        "thrift: invalid list element type %d at offset %zu", t,
                        at);
    if (t == TC_FALSE)
        t = TC_TRUE;
    int rc = tc_check_count(r, size, elem_min_bytes(t), "list");
    if (rc)
        return rc;
    *elem_type = t;
    *n = size;
    return MERU_OK;
}

static int skip_value(tc_reader *r, int type, bool elem);

static int skip_nested(tc_reader *r, int type)
{
    if (r->depth >= TC_MAX_DEPTH)
        return meru_err(MERU_ECORRUPT,
                        "thrift: values nested deeper than %d at offset %zu",
                        TC_MAX_DEPTH, r->pos);
    r->depth++;
    int rc = MERU_OK;
    if (type == TC_STRUCT) {
        int16_t last = 0, id;
        int t;
        for (;;) {
            rc = tc_read_field(r, &last, &t, &id);
            if (rc || t == TC_STOP)
                break;
            rc = skip_value(r, t, false);
            if (rc)
                break;
        }
    } else if (type == TC_LIST || type == TC_SET) {
        int et;
        uint32_t n;
        rc = tc_read_list(r, &et, &n);
        for (uint32_t i = 0; !rc && i < n; i++)
            rc = skip_value(r, et, true);
    } else { /* TC_MAP */
        uint32_t n;
        size_t at = r->pos;
        rc = rd_varint32(r, &n, "map size");
        if (!rc && n > INT32_MAX)
            rc = meru_err(MERU_ECORRUPT,
                          "thrift: map size %u is negative as an i32 "
                          "(offset %zu)",
                          n, at);
        if (!rc && n > 0) {
            if (tc_left(r) < 1) {
                rc = truncated(r, "map header");
            } else {
                uint8_t kv = r->p[r->pos++];
                int kt = kv >> 4, vt = kv & 0x0f;
                if (!valid_elem_type(kt) || !valid_elem_type(vt))
                    rc = meru_err(MERU_ECORRUPT,
                                  "thrift: invalid map key/value types 0x%02x "
                                  "at offset %zu",
                                  kv, r->pos - 1);
                if (!rc)
                    rc = tc_check_count(
                        r, n, elem_min_bytes(kt) + elem_min_bytes(vt), "map");
                for (uint32_t i = 0; !rc && i < n; i++) {
                    rc = skip_value(r, kt, true);
                    if (!rc)
                        rc = skip_value(r, vt, true);
                }
            }
        }
    }
    r->depth--;
    return rc;
}

static int skip_bytes(tc_reader *r, size_t n, const char *what)
{
    if (tc_left(r) < n)
        return truncated(r, what);
    r->pos += n;
    return MERU_OK;
}

static int skip_value(tc_reader *r, int type, bool elem)
{
    uint64_t v = 0;
    const uint8_t *p;
    uint32_t n;
    switch (type) {
    case TC_TRUE:
    case TC_FALSE:
        return elem ? skip_bytes(r, 1, "bool element") : MERU_OK;
    case TC_I8:
        return skip_bytes(r, 1, "i8");
    case TC_I16:
    case TC_I32:
    case TC_I64:
        return rd_varint64(r, &v, "integer");
    case TC_DOUBLE:
        return skip_bytes(r, 8, "double");
    case TC_UUID:
        return skip_bytes(r, 16, "uuid");
    case TC_BINARY:
        return tc_read_binary(r, &p, &n);
    case TC_LIST:
    case TC_SET:
    case TC_MAP:
    case TC_STRUCT:
        return skip_nested(r, type);
    default:
        return meru_err(MERU_ECORRUPT,
                        "thrift: cannot skip value of type %d at offset %zu",
                        type, r->pos);
    }
}

int tc_skip(tc_reader *r, int type)
{
    return skip_value(r, type, false);
}

int tc_skip_elem(tc_reader *r, int type)
{
    return skip_value(r, type, true);
}

/* ------------------------------------------------------------- writer */

void tc_writer_init(tc_writer *w, meru_buf *out)
{
    w->out = out;
    w->rc = MERU_OK;
    w->depth = 0;
}

int tc_writer_finish(tc_writer *w)
{
    if (w->rc)
        return w->rc;
    if (w->depth != 0)
        return w->rc =
                   meru_err(MERU_EINTERNAL,
                            "thrift writer: %u struct(s) left open", w->depth);
    return MERU_OK;
}

static void put(tc_writer *w, const void *p, size_t n)
{
    if (w->rc)
        return;
    int rc = meru_buf_append(w->out, p, n);
    if (rc)
        w->rc = rc;
}

static void put_byte(tc_writer *w, uint8_t b)
{
    put(w, &b, 1);
}

static void put_varint(tc_writer *w, uint64_t v)
{
    uint8_t tmp[MERU_VARINT64_MAX];
    put(w, tmp, meru_varint_put64(tmp, v));
}

void tc_w_struct_begin(tc_writer *w)
{
    if (w->rc)
        return;
    if (w->depth >= TC_MAX_DEPTH) {
        w->rc = meru_err(MERU_EINTERNAL, "thrift writer: nesting too deep");
        return;
    }
    w->last[w->depth++] = 0;
}

void tc_w_struct_end(tc_writer *w)
{
    if (w->rc)
        return;
    if (w->depth == 0) {
        w->rc = meru_err(MERU_EINTERNAL, "thrift writer: unbalanced end");
        return;
    }
    put_byte(w, TC_STOP);
    w->depth--;
}

void tc_w_field(tc_writer *w, int16_t id, int type)
{
    if (w->rc)
        return;
    if (w->depth == 0) {
        w->rc = meru_err(MERU_EINTERNAL, "thrift writer: field outside struct");
        return;
    }
    int16_t *last = &w->last[w->depth - 1];
    int delta = (int)id - (int)*last;
    if (delta > 0 && delta <= 15) {
        put_byte(w, (uint8_t)(delta << 4 | type));
    } else {
        put_byte(w, (uint8_t)type);
        put_varint(w, meru_zigzag_enc32(id));
    }
    *last = id;
}

void tc_w_i8(tc_writer *w, int8_t v)
{
    put_byte(w, (uint8_t)v);
}

void tc_w_i16(tc_writer *w, int16_t v)
{
    put_varint(w, meru_zigzag_enc32(v));
}

void tc_w_i32(tc_writer *w, int32_t v)
{
    put_varint(w, meru_zigzag_enc32(v));
}

void tc_w_i64(tc_writer *w, int64_t v)
{
    put_varint(w, meru_zigzag_enc64(v));
}

void tc_w_double(tc_writer *w, double v)
{
    uint64_t bits;
    uint8_t tmp[8];
    memcpy(&bits, &v, sizeof bits);
    meru_store_le64(tmp, bits);
    put(w, tmp, sizeof tmp);
}

void tc_w_binary(tc_writer *w, const void *p, size_t n)
{
    if (w->rc)
        return;
    if (n > INT32_MAX) {
        w->rc = meru_err(MERU_ERANGE,
                         "thrift writer: binary of %zu bytes exceeds i32", n);
        return;
    }
    put_varint(w, n);
    put(w, p, n);
}

void tc_w_bool_elem(tc_writer *w, bool v)
{
    put_byte(w, v ? TC_TRUE : TC_FALSE);
}

void tc_w_list(tc_writer *w, int elem_type, size_t n)
{
    if (w->rc)
        return;
    if (n > INT32_MAX) {
        w->rc = meru_err(MERU_ERANGE,
                         "thrift writer: list of %zu elements exceeds i32", n);
        return;
    }
    if (n < 15) {
        put_byte(w, (uint8_t)(n << 4 | (size_t)elem_type));
    } else {
        put_byte(w, (uint8_t)(0xf0 | elem_type));
        put_varint(w, n);
    }
}

void tc_w_field_bool(tc_writer *w, int16_t id, bool v)
{
    tc_w_field(w, id, v ? TC_TRUE : TC_FALSE);
}

void tc_w_field_i8(tc_writer *w, int16_t id, int8_t v)
{
    tc_w_field(w, id, TC_I8);
    tc_w_i8(w, v);
}

void tc_w_field_i16(tc_writer *w, int16_t id, int16_t v)
{
    tc_w_field(w, id, TC_I16);
    tc_w_i16(w, v);
}

void tc_w_field_i32(tc_writer *w, int16_t id, int32_t v)
{
    tc_w_field(w, id, TC_I32);
    tc_w_i32(w, v);
}

void tc_w_field_i64(tc_writer *w, int16_t id, int64_t v)
{
    tc_w_field(w, id, TC_I64);
    tc_w_i64(w, v);
}

void tc_w_field_double(tc_writer *w, int16_t id, double v)
{
    tc_w_field(w, id, TC_DOUBLE);
    tc_w_double(w, v);
}

void tc_w_field_binary(tc_writer *w, int16_t id, const void *p, size_t n)
{
    tc_w_field(w, id, TC_BINARY);
    tc_w_binary(w, p, n);
}

void tc_w_field_empty_struct(tc_writer *w, int16_t id)
{
    tc_w_field(w, id, TC_STRUCT);
    tc_w_struct_begin(w);
    tc_w_struct_end(w);
}
