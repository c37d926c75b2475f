/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rowcodec.c — row value encoding: round trips of every type, nulls,
 * write defaults, large values, random rows over random schemas, schema
 * evolution (initial defaults), zero-copy and projected decodes, a golden
 * byte layout, and hostile input (every truncation, byte flips).
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "types/keycodec.h"
#include "types/row.h"
#include "types/rowcodec.h"

enum { ID, B, I, L, F, D, S, BIN, FX, DT, TS, TZ, DEC, NCOLS };

static meru_schema *all_types(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "every",
                          "id int64 not null, b boolean, i int32, l int64, "
                          "f float, d double, s string, bin binary, "
                          "fx fixed(4), dt date, ts timestamp, tz timestamptz, "
                          "dec decimal(10,2)",
                          "id") != MERU_OK)
        return NULL;
    return s;
}

/* Bitwise equality of two values of type `t` (NaN-safe, -0.0 distinct). */
static int same_value(meru_type t, const meru_value *a, const meru_value *b)
{
    if (a->state != b->state)
        return 0;
    if (a->state != MERU_VALUE_PRESENT)
        return 1;
    switch (t) {
    case MERU_TYPE_BOOLEAN:
        return !!a->u.b == !!b->u.b;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        return a->u.i32 == b->u.i32;
    case MERU_TYPE_FLOAT:
        return memcmp(&a->u.f32, &b->u.f32, 4) == 0;
    case MERU_TYPE_DOUBLE:
        return memcmp(&a->u.f64, &b->u.f64, 8) == 0;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        return a->u.i64 == b->u.i64;
    case MERU_TYPE_DECIMAL:
        return a->u.dec.hi == b->u.dec.hi && a->u.dec.lo == b->u.dec.lo;
    default:
        return a->u.bytes.len == b->u.bytes.len &&
               (a->u.bytes.len == 0 ||
                memcmp(a->u.bytes.ptr, b->u.bytes.ptr, a->u.bytes.len) == 0);
    }
}

/* Encodes `r`, decodes it both ways and compares with the effective
 * values of `r`. Returns 1 when all agree. */
static int round_trips(const meru_schema *s, const meru_row *r)
{
    meru_buf key = {0}, val = {0}, scratch = {0};
    meru_row *back = NULL;
    meru_value *view = calloc(s->ncols, sizeof *view);
    int ok = 0;
    if (!view || meru_key_encode_row(s, r, &key) ||
        meru_row_encode(s, r, &val) || meru_row_new(&back, s))
        goto out;
    if (meru_row_decode(s, key.data, key.len, val.data, val.len, back))
        goto out;
    if (meru_row_decode_view(s, key.data, key.len, val.data, val.len, NULL,
                             view, &scratch))
        goto out;
    for (size_t i = 0; i < s->ncols; i++) {
        meru_value tmp;
        const meru_value *want = meru_row_effective(r, i, &tmp);
        if (!same_value(s->cols[i].type, want, &back->vals[i]) ||
            !same_value(s->cols[i].type, want, &view[i]))
            goto out;
    }
    ok = 1;
out:
    meru_row_free(back);
    free(view);
    meru_buf_free(&key);
    meru_buf_free(&val);
    meru_buf_free(&scratch);
    return ok;
}

static void test_every_type_round_trips(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int64(r, ID, INT64_MIN));
    CHECK_OK(meru_row_set_bool(r, B, 1));
    CHECK_OK(meru_row_set_int32(r, I, INT32_MIN));
    CHECK_OK(meru_row_set_int64(r, L, INT64_MAX));
    CHECK_OK(meru_row_set_float(r, F, -0.0f));
    CHECK_OK(meru_row_set_double(r, D, 1e-300));
    CHECK_OK(meru_row_set_string(r, S, "h\0llo", 5));
    CHECK_OK(meru_row_set_binary(r, BIN, "\0\1\2", 3));
    CHECK_OK(meru_row_set_binary(r, FX, "ab\0d", 4));
    CHECK_OK(meru_row_set_date(r, DT, -25567));
    CHECK_OK(meru_row_set_timestamp(r, TS, -1));
    CHECK_OK(meru_row_set_timestamp(r, TZ, INT64_C(1510871468123456)));
    CHECK_OK(meru_row_set_decimal(r, DEC, -1, (uint64_t)-1250));
    CHECK_OK(meru_row_validate(r));
    CHECK(round_trips(s, r));

    /* Read back through the public getters too. */
    meru_buf key = {0}, val = {0};
    meru_row *back;
    CHECK_OK(meru_row_new(&back, s));
    CHECK_OK(meru_key_encode_row(s, r, &key));
    CHECK_OK(meru_row_encode(s, r, &val));
    CHECK_OK(meru_row_decode(s, key.data, key.len, val.data, val.len, back));
    int64_t i64;
    const char *str;
    size_t len;
    char dec[64];
    CHECK_OK(meru_row_get_int64(back, ID, &i64));
    CHECK_EQ_INT(i64, INT64_MIN);
    CHECK_OK(meru_row_get_string(back, S, &str, &len));
    CHECK_EQ_INT(len, 5);
    CHECK_MEM(str, "h\0llo", 5);
    CHECK_OK(meru_row_get_decimal_str(back, DEC, dec, sizeof dec));
    CHECK_STR(dec, "-12.50");
    /* The decoded row owns its bytes: the encoding may go away. */
    meru_buf_free(&val);
    CHECK_OK(meru_row_get_string(back, S, &str, &len));
    CHECK_MEM(str, "h\0llo", 5);
    meru_buf_free(&key);
    meru_row_free(back);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_golden_layout(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "g",
                               "a int32, id int64 not null, s string, "
                               "b boolean",
                               "id"));
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int32(r, 0, 0x01020304));
    CHECK_OK(meru_row_set_int64(r, 1, 9));
    CHECK_OK(meru_row_set_string(r, 2, "hi", 2));
    /* column 3 unset, no default: null */
    meru_buf val = {0};
    CHECK_OK(meru_row_encode(s, r, &val));
    static const uint8_t want[] = {1,    4,   0x08, 0x04, 0x03, 0x02,
                                   0x01, 2,   'h',  'i'};
    CHECK_EQ_INT(val.len, sizeof want);
    CHECK_MEM(val.data, want, sizeof want);
    meru_buf_free(&val);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_nulls_defaults_and_empty_values(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t",
                               "id string not null, a int64 default 42, "
                               "b string default \"dflt\", c string, "
                               "d binary, e double",
                               "id"));
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_string(r, 0, "", 0));
    CHECK_OK(meru_row_set_string(r, 3, "", 0));
    CHECK_OK(meru_row_set_null(r, 4));
    CHECK(round_trips(s, r));

    meru_buf key = {0}, val = {0};
    meru_row *back;
    CHECK_OK(meru_row_new(&back, s));
    CHECK_OK(meru_key_encode_row(s, r, &key));
    CHECK_OK(meru_row_encode(s, r, &val));
    CHECK_OK(meru_row_decode(s, key.data, key.len, val.data, val.len, back));
    int64_t a;
    const char *str;
    size_t len;
    CHECK_OK(meru_row_get_int64(back, 1, &a)); /* the write default */
    CHECK_EQ_INT(a, 42);
    CHECK_OK(meru_row_get_string(back, 2, &str, &len));
    CHECK_EQ_INT(len, 4);
    CHECK_MEM(str, "dflt", 4);
    CHECK_OK(meru_row_get_string(back, 3, &str, &len));
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(meru_row_is_null(back, 4), 1);
    CHECK_EQ_INT(meru_row_is_null(back, 5), 1);
    CHECK_EQ_INT(meru_row_is_set(back, 5), 1); /* decoded: NULL, not unset */
    meru_buf_free(&key);
    meru_buf_free(&val);
    meru_row_free(back);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_all_null_row_round_trips(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int64(r, ID, 5));
    CHECK(round_trips(s, r));
    meru_buf val = {0};
    CHECK_OK(meru_row_encode(s, r, &val));
    CHECK_EQ_INT(val.len, 1 + 1 + 2); /* version, count, 2 bitmap bytes */
    meru_buf_free(&val);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_large_values_round_trip(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t",
                               "id int32 not null, s string, b binary",
                               "id"));
    size_t n = 3u << 20;
    char *big = malloc(n);
    CHECK(big);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)('a' + i % 26);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int32(r, 0, 1));
    CHECK_OK(meru_row_set_string(r, 1, big, n));
    CHECK_OK(meru_row_set_binary(r, 2, big, n / 2));
    CHECK(round_trips(s, r));
    free(big);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_old_row_decodes_under_added_columns(void)
{
    meru_schema *s1 = NULL, *s2 = NULL;
    CHECK_OK(meru_schema_parse(&s1, "t", "id int64 not null, a string",
                               "id"));
    CHECK_OK(meru_schema_clone(&s2, s1));
    CHECK_OK(meru_schema_add_column(s2, "n", MERU_TYPE_INT32, 1));
    meru_column_def d = MERU_COLUMN_DEF_INIT;
    d.name = "x";
    d.type = MERU_TYPE_STRING;
    d.initial_default = "\"old\"";
    d.write_default = "\"new\"";
    CHECK_OK(meru_schema_add_column_def(s2, &d));
    CHECK_OK(meru_schema_validate(s2));

    meru_row *r;
    CHECK_OK(meru_row_new(&r, s1));
    CHECK_OK(meru_row_set_int64(r, 0, 7));
    CHECK_OK(meru_row_set_string(r, 1, "v", 1));
    meru_buf key = {0}, val = {0};
    CHECK_OK(meru_key_encode_row(s1, r, &key));
    CHECK_OK(meru_row_encode(s1, r, &val));

    meru_row *back;
    CHECK_OK(meru_row_new(&back, s2));
    CHECK_OK(meru_row_decode(s2, key.data, key.len, val.data, val.len, back));
    int64_t id;
    const char *str;
    size_t len;
    CHECK_OK(meru_row_get_int64(back, 0, &id));
    CHECK_EQ_INT(id, 7);
    CHECK_OK(meru_row_get_string(back, 1, &str, &len));
    CHECK_EQ_INT(len, 1);
    CHECK_EQ_INT(meru_row_is_null(back, 2), 1);
    CHECK_OK(meru_row_get_string(back, 3, &str, &len));
    CHECK_EQ_INT(len, 3);
    CHECK_MEM(str, "old", 3);

    /* A new write that leaves x unset stores the write default. */
    meru_row *r2;
    CHECK_OK(meru_row_new(&r2, s2));
    CHECK_OK(meru_row_set_int64(r2, 0, 8));
    meru_buf_reset(&val);
    CHECK_OK(meru_row_encode(s2, r2, &val));
    CHECK_OK(meru_row_decode(s2, key.data, key.len, val.data, val.len, back));
    CHECK_OK(meru_row_get_string(back, 3, &str, &len));
    CHECK_MEM(str, "new", 3);
    /* A projected zero-copy decode of the old value sees the default. */
    meru_buf_reset(&val);
    CHECK_OK(meru_row_encode(s1, r, &val));
    meru_colset cs;
    memset(&cs, 0, sizeof cs);
    meru_colset_add(&cs, 3);
    meru_value v[4];
    CHECK_OK(meru_row_decode_view(s2, NULL, 0, val.data, val.len, &cs, v,
                                  NULL));
    CHECK_EQ_INT(v[1].state, MERU_VALUE_UNSET);
    CHECK_EQ_INT(v[2].state, MERU_VALUE_UNSET);
    CHECK_EQ_INT(v[3].state, MERU_VALUE_PRESENT);
    CHECK_EQ_INT(v[3].u.bytes.len, 3);
    CHECK_MEM(v[3].u.bytes.ptr, "old", 3);
    meru_buf_reset(&val);
    CHECK_OK(meru_row_encode(s2, r2, &val));
    /* ...and the newer value does not decode under the older schema. */
    CHECK_RC(meru_row_decode(s1, key.data, key.len, val.data, val.len, r),
             MERU_ECORRUPT);

    meru_buf_free(&key);
    meru_buf_free(&val);
    meru_row_free(back);
    meru_row_free(r2);
    meru_row_free(r);
    meru_schema_free(s2);
    meru_schema_free(s1);
}

static void test_projection_fills_only_selected_columns(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int64(r, ID, 3));
    CHECK_OK(meru_row_set_string(r, S, "str", 3));
    CHECK_OK(meru_row_set_int32(r, I, 11));
    CHECK_OK(meru_row_set_binary(r, BIN, "bb", 2));
    CHECK_OK(meru_row_set_double(r, D, 2.5));
    meru_buf key = {0}, val = {0};
    CHECK_OK(meru_key_encode_row(s, r, &key));
    CHECK_OK(meru_row_encode(s, r, &val));
    meru_colset cs;
    memset(&cs, 0, sizeof cs);
    meru_colset_add(&cs, D);
    meru_colset_add(&cs, BIN);
    meru_value v[NCOLS];
    /* No key column selected: key and scratch may be absent. */
    CHECK_OK(meru_row_decode_view(s, NULL, 0, val.data, val.len, &cs, v,
                                  NULL));
    for (size_t i = 0; i < NCOLS; i++) {
        if (i == D) {
            CHECK_EQ_INT(v[i].state, MERU_VALUE_PRESENT);
            CHECK(v[i].u.f64 == 2.5);
        } else if (i == BIN) {
            CHECK_EQ_INT(v[i].state, MERU_VALUE_PRESENT);
            CHECK_EQ_INT(v[i].u.bytes.len, 2);
            /* zero-copy: points into the encoding */
            CHECK(v[i].u.bytes.ptr > val.data &&
                  v[i].u.bytes.ptr < val.data + val.len);
        } else {
            CHECK_EQ_INT(v[i].state, MERU_VALUE_UNSET);
        }
    }
    meru_buf scratch = {0};
    meru_colset_add(&cs, ID);
    CHECK_OK(meru_row_decode_view(s, key.data, key.len, val.data, val.len,
                                  &cs, v, &scratch));
    CHECK_EQ_INT(v[ID].state, MERU_VALUE_PRESENT);
    CHECK_EQ_INT(v[ID].u.i64, 3);
    CHECK_EQ_INT(v[S].state, MERU_VALUE_UNSET);
    CHECK_EQ_INT(scratch.cap, 0); /* nothing allocated */
    meru_buf_free(&key);
    meru_buf_free(&val);
    meru_row_free(r);
    meru_schema_free(s);
}

/* ------------------------------------------------------------- random */

static const meru_type rtypes[] = {
    MERU_TYPE_BOOLEAN,   MERU_TYPE_INT32,  MERU_TYPE_INT64,
    MERU_TYPE_FLOAT,     MERU_TYPE_DOUBLE, MERU_TYPE_STRING,
    MERU_TYPE_BINARY,    MERU_TYPE_FIXED,  MERU_TYPE_DATE,
    MERU_TYPE_TIMESTAMP, MERU_TYPE_TIMESTAMPTZ, MERU_TYPE_DECIMAL};

static meru_schema *random_schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_new(&s, "r"))
        return NULL;
    size_t n = 1 + meru_test_rand() % 20;
    const char *keys[3];
    char names[24][24];
    size_t nk = 1 + meru_test_rand() % 3;
    if (nk > n)
        nk = n;
    for (size_t i = 0; i < n; i++) {
        meru_column_def d = MERU_COLUMN_DEF_INIT;
        snprintf(names[i], sizeof names[i], "c%zu", i);
        d.name = names[i];
        d.type = rtypes[meru_test_rand() % 12];
        d.fixed_length = 1 + (int32_t)(meru_test_rand() % 20);
        d.precision = 38;
        d.scale = 2;
        d.nullable = 1;
        if (i < nk) {
            static const meru_type kt[] = {MERU_TYPE_INT64, MERU_TYPE_STRING,
                                           MERU_TYPE_INT32, MERU_TYPE_BINARY};
            d.type = kt[meru_test_rand() % 4];
            d.nullable = 0;
            keys[i] = names[i];
        }
        if (meru_schema_add_column_def(s, &d))
            goto fail;
    }
    if (meru_schema_set_primary_key(s, keys, nk) || meru_schema_validate(s))
        goto fail;
    return s;
fail:
    meru_schema_free(s);
    return NULL;
}

static int random_fill(const meru_schema *s, meru_row *r, char *bytes)
{
    for (size_t i = 0; i < s->ncols; i++) {
        const meru_column *c = &s->cols[i];
        uint64_t x = meru_test_rand();
        if (c->key_position < 0 && x % 5 == 0) {
            if (x % 10 == 0 && meru_row_set_null(r, i))
                return 0;
            continue;
        }
        size_t len = (size_t)(x >> 40) % 40;
        for (size_t k = 0; k < len + 20; k++)
            bytes[k] = (char)('a' + (meru_test_rand() % 26));
        int rc = 0;
        switch (c->type) {
        case MERU_TYPE_BOOLEAN: rc = meru_row_set_bool(r, i, (int)(x & 1)); break;
        case MERU_TYPE_INT32: rc = meru_row_set_int32(r, i, (int32_t)x); break;
        case MERU_TYPE_INT64: rc = meru_row_set_int64(r, i, (int64_t)x); break;
        case MERU_TYPE_FLOAT: {
            uint32_t u = (uint32_t)x;
            float f;
            memcpy(&f, &u, 4);
            rc = meru_row_set_float(r, i, f);
            break;
        }
        case MERU_TYPE_DOUBLE: {
            double d;
            memcpy(&d, &x, 8);
            rc = meru_row_set_double(r, i, d);
            break;
        }
        case MERU_TYPE_STRING: rc = meru_row_set_string(r, i, bytes, len); break;
        case MERU_TYPE_BINARY:
            bytes[0] = 0;
            rc = meru_row_set_binary(r, i, bytes, len);
            break;
        case MERU_TYPE_FIXED:
            rc = meru_row_set_binary(r, i, bytes, (size_t)c->fixed_length);
            break;
        case MERU_TYPE_DATE: rc = meru_row_set_date(r, i, (int32_t)x); break;
        case MERU_TYPE_TIMESTAMP:
        case MERU_TYPE_TIMESTAMPTZ:
            rc = meru_row_set_timestamp(r, i, (int64_t)x);
            break;
        case MERU_TYPE_DECIMAL:
            rc = meru_row_set_decimal(r, i, (int64_t)x < 0 ? -1 : 0,
                                      (uint64_t)(int64_t)x);
            break;
        }
        if (rc)
            return 0;
    }
    return 1;
}

static void test_random_rows_over_random_schemas(void)
{
    int iters = (int)(300 * meru_test_scale()) + 1;
    char bytes[64];
    for (int it = 0; it < iters; it++) {
        meru_schema *s = random_schema();
        CHECK_MSG(s, "random schema: %s", meru_errmsg());
        meru_row *r;
        CHECK_OK(meru_row_new(&r, s));
        for (int k = 0; k < 5; k++) {
            meru_row_clear(r);
            CHECK(random_fill(s, r, bytes));
            CHECK_MSG(round_trips(s, r), "iteration %d: %s", it,
                      meru_errmsg());
        }
        meru_row_free(r);
        meru_schema_free(s);
    }
}

/* ------------------------------------------------------------- hostile */

/* Decodes hostile bytes both ways: must fail cleanly or succeed. */
static int decode_any(const meru_schema *s, const uint8_t *key, size_t klen,
                      const uint8_t *val, size_t vlen, meru_row *row,
                      meru_value *view, meru_buf *scratch)
{
    int rc1 = meru_row_decode(s, key, klen, val, vlen, row);
    int rc2 = meru_row_decode_view(s, key, klen, val, vlen, NULL, view,
                                   scratch);
    if (rc1 != rc2)
        return 0;
    return rc1 == MERU_OK || rc1 == MERU_ECORRUPT;
}

static void test_truncations_and_flips_never_crash(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r, *back;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_new(&back, s));
    CHECK_OK(meru_row_set_int64(r, ID, 77));
    CHECK_OK(meru_row_set_bool(r, B, 1));
    CHECK_OK(meru_row_set_string(r, S, "some text", 9));
    CHECK_OK(meru_row_set_binary(r, BIN, "\xff\x00\x01", 3));
    CHECK_OK(meru_row_set_binary(r, FX, "wxyz", 4));
    CHECK_OK(meru_row_set_decimal(r, DEC, 0, 5));
    CHECK_OK(meru_row_set_float(r, F, 1.0f));
    meru_buf key = {0}, val = {0}, scratch = {0};
    CHECK_OK(meru_key_encode_row(s, r, &key));
    CHECK_OK(meru_row_encode(s, r, &val));
    meru_value view[NCOLS];
    for (size_t n = 0; n < val.len; n++) {
        uint8_t *cut = malloc(n ? n : 1); /* exact size: ASan sees overreads */
        CHECK(cut);
        memcpy(cut, val.data, n);
        CHECK_RC(meru_row_decode(s, key.data, key.len, cut, n, back),
                 MERU_ECORRUPT);
        CHECK_RC(meru_row_decode_view(s, key.data, key.len, cut, n, NULL,
                                      view, &scratch),
                 MERU_ECORRUPT);
        free(cut);
    }
    uint8_t *copy = malloc(val.len);
    CHECK(copy);
    int iters = (int)(5000 * meru_test_scale()) + 1;
    for (int it = 0; it < iters; it++) {
        memcpy(copy, val.data, val.len);
        int flips = 1 + (int)(meru_test_rand() % 3);
        for (int f = 0; f < flips; f++)
            copy[meru_test_rand() % val.len] ^=
                (uint8_t)(1 + meru_test_rand() % 255);
        CHECK_MSG(decode_any(s, key.data, key.len, copy, val.len, back, view,
                             &scratch),
                  "flip iteration %d: %s", it, meru_errmsg());
        meru_buf_reset(&scratch);
    }
    free(copy);
    /* A corrupt key is corruption too. */
    CHECK_RC(meru_row_decode(s, key.data, key.len - 1, val.data, val.len, back),
             MERU_ECORRUPT);
    /* More columns than the schema. */
    val.data[1] = NCOLS + 1;
    CHECK_RC(meru_row_decode(s, key.data, key.len, val.data, val.len, back),
             MERU_ECORRUPT);
    CHECK_EQ_INT(meru_row_is_set(back, ID), 0); /* cleared on error */
    meru_buf_free(&key);
    meru_buf_free(&val);
    meru_buf_free(&scratch);
    meru_row_free(r);
    meru_row_free(back);
    meru_schema_free(s);
}

static void test_null_in_not_null_column_is_corruption(void)
{
    meru_schema *s = NULL;
    CHECK_OK(meru_schema_parse(&s, "t",
                               "id int32 not null, a int32 not null, "
                               "b int32",
                               "id"));
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int32(r, 0, 1));
    CHECK_OK(meru_row_set_int32(r, 1, 2));
    meru_buf key = {0}, val = {0};
    CHECK_OK(meru_key_encode_row(s, r, &key));
    CHECK_OK(meru_row_encode(s, r, &val));
    /* version, count 3, bitmap (b null = 0x04), a = 4 bytes */
    CHECK_EQ_INT(val.len, 3 + 4);
    CHECK_EQ_INT(val.data[2], 0x04);
    CHECK_OK(meru_row_decode(s, key.data, key.len, val.data, val.len, r));
    val.data[2] = 0x06; /* a null too: the 4 bytes of a are now extra */
    CHECK_RC(meru_row_decode(s, key.data, key.len, val.data, val.len - 4, r),
             MERU_ECORRUPT);
    CHECK_ERRMSG("NOT NULL");
    val.data[2] = 0x05; /* the key column marked null */
    CHECK_RC(meru_row_decode(s, key.data, key.len, val.data, val.len, r),
             MERU_ECORRUPT);
    val.data[2] = 0x0c; /* a bit past the column count */
    CHECK_RC(meru_row_decode(s, key.data, key.len, val.data, val.len, r),
             MERU_ECORRUPT);
    val.data[2] = 0x04;
    val.data[0] = 2; /* unknown version */
    CHECK_RC(meru_row_decode(s, key.data, key.len, val.data, val.len, r),
             MERU_ECORRUPT);
    meru_buf_free(&key);
    meru_buf_free(&val);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_encode_rejects_bad_rows_and_leaves_buffer(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int64(r, ID, 1));
    CHECK_OK(meru_row_set_binary(r, FX, "abc", 3)); /* fixed(4) */
    meru_buf val = {0};
    CHECK_OK(meru_buf_append(&val, "xy", 2));
    CHECK_RC(meru_row_encode(s, r, &val), MERU_EINVAL);
    CHECK_EQ_INT(val.len, 2);
    meru_buf_free(&val);
    meru_row_free(r);
    meru_schema_free(s);
}

/* meru_row_encode_values re-encodes a decoded view to the same bytes, and
 * treats UNSET and NULL non-key values alike (no write default). */
static void test_encode_values_matches_row_encode(void)
{
    meru_schema *s = all_types();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_set_int64(r, ID, 7));
    CHECK_OK(meru_row_set_bool(r, B, 0));
    CHECK_OK(meru_row_set_int32(r, I, -5));
    CHECK_OK(meru_row_set_null(r, L));
    CHECK_OK(meru_row_set_float(r, F, 1.5f));
    CHECK_OK(meru_row_set_double(r, D, -2.25));
    CHECK_OK(meru_row_set_string(r, S, "abc", 3));
    CHECK_OK(meru_row_set_binary(r, BIN, "", 0));
    CHECK_OK(meru_row_set_binary(r, FX, "wxyz", 4));
    CHECK_OK(meru_row_set_date(r, DT, 3));
    CHECK_OK(meru_row_set_timestamp(r, TS, 99));
    CHECK_OK(meru_row_set_null(r, TZ));
    CHECK_OK(meru_row_set_decimal(r, DEC, 0, 12345));
    meru_buf key = {0}, val = {0}, again = {0}, scratch = {0};
    meru_value view[NCOLS];
    CHECK_OK(meru_key_encode_row(s, r, &key));
    CHECK_OK(meru_row_encode(s, r, &val));
    CHECK_OK(meru_row_decode_view(s, key.data, key.len, val.data, val.len,
                                  NULL, view, &scratch));
    CHECK_OK(meru_row_encode_values(s, view, &again));
    CHECK_EQ_INT(again.len, val.len);
    CHECK_MEM(again.data, val.data, val.len);

    /* UNSET == NULL; key columns are ignored whatever they hold. */
    view[L].state = MERU_VALUE_UNSET;
    view[ID].state = MERU_VALUE_UNSET;
    meru_buf_reset(&again);
    CHECK_OK(meru_row_encode_values(s, view, &again));
    CHECK_EQ_INT(again.len, val.len);
    CHECK_MEM(again.data, val.data, val.len);

    /* A FIXED value of the wrong length is refused, buffer unchanged. */
    view[FX].u.bytes.len = 3;
    size_t before = again.len;
    CHECK_RC(meru_row_encode_values(s, view, &again), MERU_EINVAL);
    CHECK_EQ_INT(again.len, before);
    meru_buf_free(&key);
    meru_buf_free(&val);
    meru_buf_free(&again);
    meru_buf_free(&scratch);
    meru_row_free(r);
    meru_schema_free(s);
}

int main(void)
{
    MERU_TEST_RUN(test_every_type_round_trips);
    MERU_TEST_RUN(test_golden_layout);
    MERU_TEST_RUN(test_nulls_defaults_and_empty_values);
    MERU_TEST_RUN(test_all_null_row_round_trips);
    MERU_TEST_RUN(test_large_values_round_trip);
    MERU_TEST_RUN(test_old_row_decodes_under_added_columns);
    MERU_TEST_RUN(test_projection_fills_only_selected_columns);
    MERU_TEST_RUN(test_random_rows_over_random_schemas);
    MERU_TEST_RUN(test_truncations_and_flips_never_crash);
    MERU_TEST_RUN(test_null_in_not_null_column_is_corruption);
    MERU_TEST_RUN(test_encode_rejects_bad_rows_and_leaves_buffer);
    MERU_TEST_RUN(test_encode_values_matches_row_encode);
    return meru_test_finish();
}
