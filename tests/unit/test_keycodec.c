/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_keycodec.c — the primary-key codec, internal keys and the typed
 * value order.
 *
 * Exact bytes for each type pin the format; a randomized property test over
 * random schemas and edge-biased tuples checks that memcmp of encodings
 * orders like meru_value_cmp of the tuples, that decoding gives the tuple
 * back bit for bit and that prefixes encode to byte prefixes; the decoder is
 * fed truncated, malformed and random input. Schemas are built directly as
 * structs (the schema builder lives elsewhere).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "test.h"
#include "types/keycodec.h"
#include "types/row.h"
#include "types/schema.h"

/* ----------------------------------------------------------------- helpers */

#define TMAXCOLS 8

typedef struct tschema {
    meru_schema s;
    meru_column cols[TMAXCOLS];
    int key_cols[TMAXCOLS];
    char names[TMAXCOLS][24];
} tschema;

/* A schema whose columns are all key columns, in order, named k0, k1, ...
 * (or by `names` when given). fixed_len applies to FIXED columns. */
static void tschema_init(tschema *t, size_t n, const meru_type *types,
                         int32_t fixed_len, const char *const *names)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < n; i++) {
        meru_column *c = &t->cols[i];
        if (names)
            snprintf(t->names[i], sizeof t->names[i], "%s", names[i]);
        else
            snprintf(t->names[i], sizeof t->names[i], "k%zu", i);
        c->name = t->names[i];
        c->type = types[i];
        c->nullable = 0;
        c->field_id = (int32_t)i + 1;
        c->fixed_length = types[i] == MERU_TYPE_FIXED ? fixed_len : 0;
        c->precision = types[i] == MERU_TYPE_DECIMAL ? 38 : 0;
        c->scale = types[i] == MERU_TYPE_DECIMAL ? 2 : 0;
        c->key_position = (int)i;
        t->key_cols[i] = (int)i;
    }
    t->s.table_name = (char *)"t";
    t->s.cols = t->cols;
    t->s.ncols = n;
    t->s.cap = n;
    t->s.key_cols = t->key_cols;
    t->s.nkey = n;
    t->s.next_field_id = (int32_t)n + 1;
}

static meru_value vbool(int b)
{
    meru_value v = {.state = MERU_VALUE_PRESENT};
    v.u.b = b;
    return v;
}
static meru_value vi32(int32_t x)
{
    meru_value v = {.state = MERU_VALUE_PRESENT};
    v.u.i32 = x;
    return v;
}
static meru_value vi64(int64_t x)
{
    meru_value v = {.state = MERU_VALUE_PRESENT};
    v.u.i64 = x;
    return v;
}
static meru_value vf32(float x)
{
    meru_value v = {.state = MERU_VALUE_PRESENT};
    v.u.f32 = x;
    return v;
}
static meru_value vf64(double x)
{
    meru_value v = {.state = MERU_VALUE_PRESENT};
    v.u.f64 = x;
    return v;
}
static meru_value vdec(int64_t hi, uint64_t lo)
{
    meru_value v = {.state = MERU_VALUE_PRESENT};
    v.u.dec.hi = hi;
    v.u.dec.lo = lo;
    return v;
}
static meru_value vbytes(const void *p, size_t len)
{
    meru_value v = {.state = MERU_VALUE_PRESENT};
    v.u.bytes.ptr = p;
    v.u.bytes.len = (uint32_t)len;
    return v;
}

/* Encodes one value of a one-column key of `type`. */
static int enc1(meru_type type, int32_t fixed_len, meru_value v, meru_buf *out)
{
    tschema t;
    tschema_init(&t, 1, &type, fixed_len, NULL);
    meru_buf_reset(out);
    return meru_key_encode(&t.s, &v, 1, out);
}

static size_t parse_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        unsigned x;
        if (n == cap || sscanf(hex, "%2x", &x) != 1)
            return (size_t)-1;
        out[n++] = (uint8_t)x;
        hex += 2;
    }
    return n;
}

/* 1 if `b` holds exactly the bytes written in `hex` ("80 00 00 01"). */
static int key_is(const meru_buf *b, const char *hex)
{
    uint8_t want[256];
    size_t n = parse_hex(hex, want, sizeof want);
    if (n == b->len && (n == 0 || memcmp(want, b->data, n) == 0))
        return 1;
    fprintf(stderr, "    got     ");
    for (size_t i = 0; i < b->len; i++)
        fprintf(stderr, "%02x ", b->data[i]);
    fprintf(stderr, "\n    expected %s\n", hex);
    return 0;
}

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

/* -(hi:lo) in 128-bit two's complement. */
static meru_value vdec_neg(meru_value v)
{
    uint64_t lo = ~v.u.dec.lo + 1;
    uint64_t hi = ~(uint64_t)v.u.dec.hi + (lo == 0);
    return vdec((int64_t)hi, lo);
}

/* 10^38 - 1, the largest decimal(38, s) unscaled value. */
#define DEC_MAX_HI INT64_C(0x4b3b4ca85a86c47a)
#define DEC_MAX_LO UINT64_C(0x098a223fffffffff)

/* ------------------------------------------------------------ exact bytes */

static void test_integers_encode_big_endian_with_sign_flipped(void)
{
    meru_buf b = {0};
    CHECK_OK(enc1(MERU_TYPE_INT32, 0, vi32(0), &b));
    CHECK(key_is(&b, "80 00 00 00"));
    CHECK_OK(enc1(MERU_TYPE_INT32, 0, vi32(1), &b));
    CHECK(key_is(&b, "80 00 00 01"));
    CHECK_OK(enc1(MERU_TYPE_INT32, 0, vi32(-1), &b));
    CHECK(key_is(&b, "7f ff ff ff"));
    CHECK_OK(enc1(MERU_TYPE_INT32, 0, vi32(INT32_MIN), &b));
    CHECK(key_is(&b, "00 00 00 00"));
    CHECK_OK(enc1(MERU_TYPE_INT32, 0, vi32(INT32_MAX), &b));
    CHECK(key_is(&b, "ff ff ff ff"));
    CHECK_OK(enc1(MERU_TYPE_DATE, 0, vi32(0x01020304), &b));
    CHECK(key_is(&b, "81 02 03 04"));
    CHECK_OK(enc1(MERU_TYPE_INT64, 0, vi64(0), &b));
    CHECK(key_is(&b, "80 00 00 00 00 00 00 00"));
    CHECK_OK(enc1(MERU_TYPE_INT64, 0, vi64(-2), &b));
    CHECK(key_is(&b, "7f ff ff ff ff ff ff fe"));
    CHECK_OK(enc1(MERU_TYPE_INT64, 0, vi64(INT64_MIN), &b));
    CHECK(key_is(&b, "00 00 00 00 00 00 00 00"));
    CHECK_OK(enc1(MERU_TYPE_INT64, 0, vi64(INT64_MAX), &b));
    CHECK(key_is(&b, "ff ff ff ff ff ff ff ff"));
    CHECK_OK(
        enc1(MERU_TYPE_TIMESTAMP, 0, vi64(INT64_C(0x0102030405060708)), &b));
    CHECK(key_is(&b, "81 02 03 04 05 06 07 08"));
    CHECK_OK(enc1(MERU_TYPE_TIMESTAMPTZ, 0, vi64(1), &b));
    CHECK(key_is(&b, "80 00 00 00 00 00 00 01"));
    CHECK_OK(enc1(MERU_TYPE_BOOLEAN, 0, vbool(0), &b));
    CHECK(key_is(&b, "00"));
    CHECK_OK(enc1(MERU_TYPE_BOOLEAN, 0, vbool(1), &b));
    CHECK(key_is(&b, "01"));
    meru_buf_free(&b);
}

static void test_floats_encode_in_ieee_total_order(void)
{
    meru_buf b = {0};
    CHECK_OK(enc1(MERU_TYPE_DOUBLE, 0, vf64(1.0), &b));
    CHECK(key_is(&b, "bf f0 00 00 00 00 00 00"));
    CHECK_OK(enc1(MERU_TYPE_DOUBLE, 0, vf64(-1.0), &b));
    CHECK(key_is(&b, "40 0f ff ff ff ff ff ff"));
    CHECK_OK(enc1(MERU_TYPE_DOUBLE, 0, vf64(0.0), &b));
    CHECK(key_is(&b, "80 00 00 00 00 00 00 00"));
    CHECK_OK(enc1(MERU_TYPE_DOUBLE, 0, vf64(-0.0), &b));
    CHECK(key_is(&b, "7f ff ff ff ff ff ff ff"));
    CHECK_OK(enc1(MERU_TYPE_DOUBLE, 0, vf64(INFINITY), &b));
    CHECK(key_is(&b, "ff f0 00 00 00 00 00 00"));
    CHECK_OK(enc1(MERU_TYPE_DOUBLE, 0, vf64(-INFINITY), &b));
    CHECK(key_is(&b, "00 0f ff ff ff ff ff ff"));
    CHECK_OK(enc1(MERU_TYPE_DOUBLE, 0, vf64(4.9406564584124654e-324), &b));
    CHECK(key_is(&b, "80 00 00 00 00 00 00 01"));
    CHECK_OK(enc1(MERU_TYPE_FLOAT, 0, vf32(1.0f), &b));
    CHECK(key_is(&b, "bf 80 00 00"));
    CHECK_OK(enc1(MERU_TYPE_FLOAT, 0, vf32(-2.0f), &b));
    CHECK(key_is(&b, "3f ff ff ff"));
    CHECK_OK(enc1(MERU_TYPE_FLOAT, 0, vf32(-0.0f), &b));
    CHECK(key_is(&b, "7f ff ff ff"));
    CHECK_OK(enc1(MERU_TYPE_FLOAT, 0, vf32(0.0f), &b));
    CHECK(key_is(&b, "80 00 00 00"));
    CHECK_OK(enc1(MERU_TYPE_FLOAT, 0, vf32(-INFINITY), &b));
    CHECK(key_is(&b, "00 7f ff ff"));
    meru_buf_free(&b);
}

static void test_decimal_encodes_16_bytes_sign_flipped(void)
{
    meru_buf b = {0};
    CHECK_OK(enc1(MERU_TYPE_DECIMAL, 0, vdec(0, 0), &b));
    CHECK(key_is(&b, "80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"));
    CHECK_OK(enc1(MERU_TYPE_DECIMAL, 0, vdec(-1, UINT64_MAX), &b));
    CHECK(key_is(&b, "7f ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff"));
    CHECK_OK(enc1(MERU_TYPE_DECIMAL, 0, vdec(0, 1), &b));
    CHECK(key_is(&b, "80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01"));
    CHECK_OK(enc1(MERU_TYPE_DECIMAL, 0, vdec(DEC_MAX_HI, DEC_MAX_LO), &b));
    CHECK(key_is(&b, "cb 3b 4c a8 5a 86 c4 7a 09 8a 22 3f ff ff ff ff"));
    CHECK_OK(
        enc1(MERU_TYPE_DECIMAL, 0, vdec_neg(vdec(DEC_MAX_HI, DEC_MAX_LO)), &b));
    CHECK(key_is(&b, "34 c4 b3 57 a5 79 3b 85 f6 75 dd c0 00 00 00 01"));
    meru_buf_free(&b);
}

static void test_bytes_escape_nul_and_terminate(void)
{
    meru_buf b = {0};
    CHECK_OK(enc1(MERU_TYPE_STRING, 0, vbytes("", 0), &b));
    CHECK(key_is(&b, "00 00"));
    CHECK_OK(enc1(MERU_TYPE_STRING, 0, vbytes(NULL, 0), &b));
    CHECK(key_is(&b, "00 00"));
    CHECK_OK(enc1(MERU_TYPE_STRING, 0, vbytes("\0", 1), &b));
    CHECK(key_is(&b, "00 ff 00 00"));
    CHECK_OK(enc1(MERU_TYPE_STRING, 0, vbytes("a", 1), &b));
    CHECK(key_is(&b, "61 00 00"));
    CHECK_OK(enc1(MERU_TYPE_BINARY, 0, vbytes("a\0b\xff", 4), &b));
    CHECK(key_is(&b, "61 00 ff 62 ff 00 00"));
    CHECK_OK(enc1(MERU_TYPE_BINARY, 0, vbytes("\0\0", 2), &b));
    CHECK(key_is(&b, "00 ff 00 ff 00 00"));
    CHECK_OK(enc1(MERU_TYPE_FIXED, 3, vbytes("\0\x01\xff", 3), &b));
    CHECK(key_is(&b, "00 01 ff"));
    meru_buf_free(&b);
}

static void test_bytes_order_puts_prefix_first(void)
{
    static const struct {
        const char *p;
        size_t n;
    } order[] = {{"", 0},   {"\0", 1},   {"\0\0", 2},    {"\0\x01", 2},
                 {"a", 1},  {"a\0", 2},  {"a\0\0", 3},   {"a\x01", 2},
                 {"ab", 2}, {"\xff", 1}, {"\xff\xff", 2}};
    size_t n = sizeof order / sizeof order[0];
    meru_buf prev = {0}, cur = {0};
    for (size_t i = 0; i < n; i++) {
        CHECK_OK(
            enc1(MERU_TYPE_STRING, 0, vbytes(order[i].p, order[i].n), &cur));
        if (i) {
            CHECK_MSG(meru_ikey_cmp(prev.data, prev.len, cur.data, cur.len) < 0,
                      "encoding of item %zu does not sort before item %zu",
                      i - 1, i);
            meru_value a = vbytes(order[i - 1].p, order[i - 1].n);
            meru_value c = vbytes(order[i].p, order[i].n);
            CHECK(meru_value_cmp(MERU_TYPE_STRING, &a, &c) < 0);
        }
        meru_buf_reset(&prev);
        CHECK_OK(meru_buf_append(&prev, cur.data, cur.len));
    }
    meru_buf_free(&prev);
    meru_buf_free(&cur);
}

static void test_composite_key_concatenates_components(void)
{
    const meru_type types[] = {MERU_TYPE_INT32, MERU_TYPE_STRING,
                               MERU_TYPE_BOOLEAN};
    tschema t;
    tschema_init(&t, 3, types, 0, NULL);
    meru_value v[3] = {vi32(1), vbytes("x\0", 2), vbool(1)};
    meru_buf b = {0};
    CHECK_OK(meru_key_encode(&t.s, v, 3, &b));
    CHECK(key_is(&b, "80 00 00 01 78 00 ff 00 00 01"));
    /* A prefix key appends only the first k components. */
    meru_buf_reset(&b);
    CHECK_OK(meru_key_encode(&t.s, v, 2, &b));
    CHECK(key_is(&b, "80 00 00 01 78 00 ff 00 00"));
    meru_buf_reset(&b);
    CHECK_OK(meru_key_encode(&t.s, v, 0, &b));
    CHECK_EQ_INT(b.len, 0);
    /* The empty prefix into a never-used buffer allocates nothing. */
    meru_buf empty = {0};
    CHECK_OK(meru_key_encode(&t.s, NULL, 0, &empty));
    CHECK(empty.data == NULL && empty.len == 0);
    size_t n_out = 9;
    CHECK_OK(meru_key_decode(&t.s, NULL, 0, v, &n_out, &empty));
    CHECK_EQ_INT(n_out, 0);
    /* Encoding appends after what the buffer already holds. */
    CHECK_OK(meru_buf_append(&b, "\xaa", 1));
    CHECK_OK(meru_key_encode(&t.s, v, 1, &b));
    CHECK(key_is(&b, "aa 80 00 00 01"));
    meru_buf_free(&b);
}

/* ------------------------------------------------------------------ errors */

static void test_encode_rejects_nan_null_and_bad_lengths(void)
{
    const meru_type types[] = {MERU_TYPE_INT64, MERU_TYPE_DOUBLE,
                               MERU_TYPE_FLOAT};
    const char *const names[] = {"id", "score", "ratio"};
    tschema t;
    tschema_init(&t, 3, types, 0, names);
    meru_buf b = {0};
    CHECK_OK(meru_buf_append(&b, "pre", 3));

    meru_value v[3] = {vi64(7), vf64(NAN), vf32(1.0f)};
    CHECK_RC(meru_key_encode(&t.s, v, 3, &b), MERU_EINVAL);
    CHECK_ERRMSG("NaN is not allowed in key column 'score'");
    CHECK_EQ_INT(b.len, 3); /* untouched on error */
    v[1] = vf64(-NAN);
    CHECK_RC(meru_key_encode(&t.s, v, 3, &b), MERU_EINVAL);
    v[1] = vf64(2.0);
    v[2] = vf32(NAN);
    CHECK_RC(meru_key_encode(&t.s, v, 3, &b), MERU_EINVAL);
    CHECK_ERRMSG("NaN is not allowed in key column 'ratio'");
    /* A prefix that stops before the NaN column is fine. */
    CHECK_OK(meru_key_encode(&t.s, v, 2, &b));
    CHECK_EQ_INT(b.len, 3 + 16);

    v[2] = vf32(1.0f);
    v[0].state = MERU_VALUE_NULL;
    CHECK_RC(meru_key_encode(&t.s, v, 3, &b), MERU_EINVAL);
    CHECK_ERRMSG("key column 'id' is null");
    v[0].state = MERU_VALUE_UNSET;
    CHECK_RC(meru_key_encode(&t.s, v, 3, &b), MERU_EINVAL);
    CHECK_ERRMSG("key column 'id' is null");
    v[0] = vi64(7);
    CHECK_RC(meru_key_encode(&t.s, v, 4, &b), MERU_EINVAL);
    CHECK_EQ_INT(b.len, 3 + 16);

    meru_buf_reset(&b);
    CHECK_RC(enc1(MERU_TYPE_FIXED, 4, vbytes("abc", 3), &b), MERU_EINVAL);
    CHECK_RC(enc1(MERU_TYPE_FIXED, 2, vbytes("abc", 3), &b), MERU_EINVAL);
    /* The length is checked before any byte is read. */
    static const uint8_t small[4];
    meru_value big = vbytes(small, 0);
    big.u.bytes.len = MERU_MAX_VALUE_BYTES + 1;
    CHECK_RC(enc1(MERU_TYPE_BINARY, 0, big, &b), MERU_ERANGE);
    CHECK_EQ_INT(b.len, 0);
    meru_buf_free(&b);
}

/* Row encoding reads key columns in key order, not schema order, and uses a
 * write default for an unset key column. */
static void test_encode_row_uses_key_order_and_write_default(void)
{
    const meru_type types[] = {MERU_TYPE_STRING, MERU_TYPE_INT64,
                               MERU_TYPE_STRING};
    const char *const names[] = {"payload", "id", "name"};
    tschema t;
    tschema_init(&t, 3, types, 0, names);
    t.key_cols[0] = 2;
    t.key_cols[1] = 1;
    t.s.nkey = 2;
    t.cols[0].key_position = -1;
    t.cols[0].nullable = 1;
    t.cols[1].key_position = 1;
    t.cols[2].key_position = 0;

    meru_value rv[3] = {vbytes("big payload", 11), vi64(-5), vbytes("n", 1)};
    struct meru_row row = {.schema = &t.s, .vals = rv};
    meru_buf b = {0}, want = {0};
    CHECK_OK(meru_key_encode_row(&t.s, &row, &b));
    meru_value kv[2] = {vbytes("n", 1), vi64(-5)};
    CHECK_OK(meru_key_encode(&t.s, kv, 2, &want));
    CHECK(b.len == want.len && memcmp(b.data, want.data, b.len) == 0);
    CHECK(key_is(&b, "6e 00 00 7f ff ff ff ff ff ff fb"));

    /* Unset without a default: error; with one: the default. */
    rv[1].state = MERU_VALUE_UNSET;
    meru_buf_reset(&b);
    CHECK_RC(meru_key_encode_row(&t.s, &row, &b), MERU_EINVAL);
    CHECK_ERRMSG("key column 'id' is null");
    CHECK_EQ_INT(b.len, 0);
    t.cols[1].write_default = vi64(-5);
    CHECK_OK(meru_key_encode_row(&t.s, &row, &b));
    CHECK(key_is(&b, "6e 00 00 7f ff ff ff ff ff ff fb"));
    /* A null key column is an error even with a default. */
    rv[1].state = MERU_VALUE_NULL;
    CHECK_RC(meru_key_encode_row(&t.s, &row, &b), MERU_EINVAL);
    meru_buf_free(&b);
    meru_buf_free(&want);
}

/* ------------------------------------------------------------- value order */

static void test_value_cmp_orders_each_type(void)
{
    meru_value a, b;
    a = vf64(-0.0), b = vf64(0.0);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_DOUBLE, &a, &b), -1);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_DOUBLE, &b, &a), 1);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_DOUBLE, &a, &a), 0);
    a = vf64(-NAN), b = vf64(-INFINITY);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_DOUBLE, &a, &b), -1);
    a = vf64(NAN), b = vf64(INFINITY);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_DOUBLE, &a, &b), 1);
    a = vf32(-0.0f), b = vf32(0.0f);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_FLOAT, &a, &b), -1);
    a = vf32(FLT_TRUE_MIN), b = vf32(FLT_MIN);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_FLOAT, &a, &b), -1);
    a = vdec(0, UINT64_MAX), b = vdec(1, 0);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_DECIMAL, &a, &b), -1);
    a = vdec(-1, UINT64_MAX), b = vdec(0, 0);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_DECIMAL, &a, &b), -1);
    a = vdec(-1, 0), b = vdec(-1, 1);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_DECIMAL, &a, &b), -1);
    a = vbytes("a", 1), b = vbytes("a\0", 2);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_BINARY, &a, &b), -1);
    a = vbytes("\xff", 1), b = vbytes("a\0", 2);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_BINARY, &a, &b), 1);
    a = vbytes(NULL, 0), b = vbytes("", 0);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_STRING, &a, &b), 0);
    a = vbool(0), b = vbool(1);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_BOOLEAN, &a, &b), -1);
    a = vi32(INT32_MIN), b = vi32(INT32_MAX);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_DATE, &a, &b), -1);
    a = vi64(INT64_MAX), b = vi64(-1);
    CHECK_EQ_INT(meru_value_cmp(MERU_TYPE_TIMESTAMP, &a, &b), 1);
}

/* ------------------------------------------------------ random properties */

#define TSTORE 48

typedef struct tuple {
    meru_value v[4];
    uint8_t store[4][TSTORE];
} tuple;

static uint64_t rnd(uint64_t n)
{
    return meru_test_rand() % n;
}

static const meru_type all_types[] = {
    MERU_TYPE_BOOLEAN,   MERU_TYPE_INT32,       MERU_TYPE_INT64,
    MERU_TYPE_FLOAT,     MERU_TYPE_DOUBLE,      MERU_TYPE_STRING,
    MERU_TYPE_BINARY,    MERU_TYPE_FIXED,       MERU_TYPE_DATE,
    MERU_TYPE_TIMESTAMP, MERU_TYPE_TIMESTAMPTZ, MERU_TYPE_DECIMAL};

static void random_schema(tschema *t)
{
    meru_type types[4];
    size_t n = 1 + (size_t)rnd(4);
    for (size_t i = 0; i < n; i++)
        types[i] = all_types[rnd(sizeof all_types / sizeof all_types[0])];
    tschema_init(t, n, types, 1 + (int32_t)rnd(4), NULL);
}

static void gen_bytes(meru_value *v, uint8_t *store, int32_t fixed)
{
    static const uint8_t alpha[] = {0x00, 0x01, 'a', 'b', 0xfe, 0xff};
    size_t len = 0;
    int mode = (int)rnd(6);
    if (fixed > 0)
        len = (size_t)fixed;
    else if (mode == 0)
        len = 0;
    else if (mode == 5)
        len = (size_t)rnd(TSTORE + 1);
    else
        len = (size_t)rnd(7);
    for (size_t i = 0; i < len; i++) {
        switch (mode) {
        case 1:
            store[i] = 0x00;
            break;
        case 2:
            store[i] = 0xff;
            break;
        case 5:
            store[i] = (uint8_t)meru_test_rand();
            break;
        default:
            store[i] = alpha[rnd(sizeof alpha)];
        }
    }
    *v = vbytes(store, len);
}

static float gen_f32(void)
{
    static const float edge[] = {-INFINITY,     -FLT_MAX, -1.0f,   -FLT_MIN,
                                 -FLT_TRUE_MIN, -0.0f,    0.0f,    FLT_TRUE_MIN,
                                 FLT_MIN,       1.0f,     FLT_MAX, INFINITY};
    if (rnd(3) == 0)
        return (float)((int)rnd(5) - 2);
    if (rnd(2) == 0)
        return edge[rnd(sizeof edge / sizeof edge[0])];
    for (;;) {
        uint32_t u = (uint32_t)meru_test_rand();
        float f;
        memcpy(&f, &u, 4);
        if (!isnan(f))
            return f;
    }
}

static double gen_f64(void)
{
    static const double edge[] = {-INFINITY,
                                  -DBL_MAX,
                                  -1.0,
                                  -DBL_MIN,
                                  -4.9406564584124654e-324,
                                  -0.0,
                                  0.0,
                                  4.9406564584124654e-324,
                                  DBL_MIN,
                                  1.0,
                                  DBL_MAX,
                                  INFINITY};
    if (rnd(3) == 0)
        return (double)((int)rnd(5) - 2);
    if (rnd(2) == 0)
        return edge[rnd(sizeof edge / sizeof edge[0])];
    for (;;) {
        uint64_t u = meru_test_rand();
        double f;
        memcpy(&f, &u, 8);
        if (!isnan(f))
            return f;
    }
}

static meru_value gen_dec(void)
{
    switch (rnd(4)) {
    case 0: {
        meru_value edge[] = {vdec(0, 0),
                             vdec(0, 1),
                             vdec(-1, UINT64_MAX),
                             vdec(DEC_MAX_HI, DEC_MAX_LO),
                             vdec_neg(vdec(DEC_MAX_HI, DEC_MAX_LO)),
                             vdec(0, UINT64_MAX),
                             vdec(1, 0),
                             vdec(-1, 0),
                             vdec(INT64_MIN, 0),
                             vdec(INT64_MAX, UINT64_MAX)};
        return edge[rnd(sizeof edge / sizeof edge[0])];
    }
    case 1: {
        int64_t x = (int64_t)rnd(7) - 3;
        return vdec(x < 0 ? -1 : 0, (uint64_t)x);
    }
    case 2:
        return vdec((int64_t)rnd(3) - 1, meru_test_rand());
    default:
        return vdec((int64_t)meru_test_rand(), meru_test_rand());
    }
}

static void gen_value(const meru_column *c, meru_value *v, uint8_t *store)
{
    static const int32_t e32[] = {INT32_MIN, INT32_MIN + 1, -1,       0,
                                  1,         INT32_MAX - 1, INT32_MAX};
    static const int64_t e64[] = {INT64_MIN, INT64_MIN + 1, -1,       0,
                                  1,         INT64_MAX - 1, INT64_MAX};
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        *v = vbool((int)rnd(2));
        break;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        if (rnd(2))
            *v = vi32(e32[rnd(7)]);
        else
            *v = vi32(rnd(2) ? (int32_t)rnd(5) - 2
                             : (int32_t)(uint32_t)meru_test_rand());
        break;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        if (rnd(2))
            *v = vi64(e64[rnd(7)]);
        else
            *v = vi64(rnd(2) ? (int64_t)rnd(5) - 2 : (int64_t)meru_test_rand());
        break;
    case MERU_TYPE_FLOAT:
        *v = vf32(gen_f32());
        break;
    case MERU_TYPE_DOUBLE:
        *v = vf64(gen_f64());
        break;
    case MERU_TYPE_DECIMAL:
        *v = gen_dec();
        break;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
        gen_bytes(v, store, 0);
        break;
    case MERU_TYPE_FIXED:
        gen_bytes(v, store, c->fixed_length);
        break;
    }
}

/* A value close to `a` (often equal in a prefix, or one step away), to make
 * the later columns and the prefix cases matter. */
static void gen_near(const meru_column *c, const meru_value *a, meru_value *v,
                     uint8_t *store)
{
    *v = *a;
    switch (c->type) {
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        v->u.i32 = (int32_t)((uint32_t)a->u.i32 + (rnd(2) ? 1u : UINT32_MAX));
        break;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        v->u.i64 = (int64_t)((uint64_t)a->u.i64 + (rnd(2) ? 1u : UINT64_MAX));
        break;
    case MERU_TYPE_DOUBLE:
        v->u.f64 = nextafter(a->u.f64, rnd(2) ? INFINITY : -INFINITY);
        break;
    case MERU_TYPE_FLOAT:
        v->u.f32 = nextafterf(a->u.f32, rnd(2) ? INFINITY : -INFINITY);
        break;
    case MERU_TYPE_DECIMAL:
        v->u.dec.lo = a->u.dec.lo + 1;
        break;
    case MERU_TYPE_STRING:
    case MERU_TYPE_BINARY:
    case MERU_TYPE_FIXED: {
        size_t len = a->u.bytes.len;
        if (len)
            memcpy(store, a->u.bytes.ptr, len);
        int op = c->type == MERU_TYPE_FIXED ? 2 : (int)rnd(3);
        if (op == 0 && len < TSTORE)
            store[len++] = rnd(2) ? 0x00 : 0xff; /* extend */
        else if (op == 1 && len)
            len--; /* truncate */
        else if (len)
            store[len - 1] = (uint8_t)(store[len - 1] + (rnd(2) ? 1 : 255));
        *v = vbytes(store, len);
        break;
    }
    default:
        gen_value(c, v, store);
    }
}

static int tuple_cmp(const tschema *t, const meru_value *a, const meru_value *b,
                     size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = meru_value_cmp(t->cols[t->key_cols[i]].type, &a[i], &b[i]);
        if (c)
            return sign(c);
    }
    return 0;
}

/* Bitwise equality of two values of `c`'s type. */
static int value_same(const meru_column *c, const meru_value *a,
                      const meru_value *b)
{
    if (a->state != b->state)
        return 0;
    switch (c->type) {
    case MERU_TYPE_BOOLEAN:
        return a->u.b == b->u.b;
    case MERU_TYPE_INT32:
    case MERU_TYPE_DATE:
        return a->u.i32 == b->u.i32;
    case MERU_TYPE_FLOAT:
        return memcmp(&a->u.f32, &b->u.f32, 4) == 0;
    case MERU_TYPE_INT64:
    case MERU_TYPE_TIMESTAMP:
    case MERU_TYPE_TIMESTAMPTZ:
        return a->u.i64 == b->u.i64;
    case MERU_TYPE_DOUBLE:
        return memcmp(&a->u.f64, &b->u.f64, 8) == 0;
    case MERU_TYPE_DECIMAL:
        return a->u.dec.hi == b->u.dec.hi && a->u.dec.lo == b->u.dec.lo;
    default:
        return a->u.bytes.len == b->u.bytes.len &&
               (a->u.bytes.len == 0 ||
                memcmp(a->u.bytes.ptr, b->u.bytes.ptr, a->u.bytes.len) == 0);
    }
}

static void test_random_tuples_memcmp_order_matches_typed_order(void)
{
    size_t pairs = (size_t)(50000 * meru_test_scale());
    if (pairs < 2000)
        pairs = 2000;
    tschema t;
    tuple a, b;
    meru_value dec[4];
    meru_buf ea = {0}, eb = {0}, ep = {0}, scratch = {0};
    size_t seen[3] = {0, 0, 0};
    for (size_t it = 0; it < pairs; it++) {
        if (it % 100 == 0)
            random_schema(&t);
        size_t nk = t.s.nkey;
        for (size_t i = 0; i < nk; i++)
            gen_value(&t.cols[i], &a.v[i], a.store[i]);
        /* b shares a random prefix with a, then is near or random. */
        size_t share = (size_t)rnd(nk + 1);
        for (size_t i = 0; i < nk; i++) {
            if (i < share)
                b.v[i] = a.v[i];
            else if (rnd(2))
                gen_near(&t.cols[i], &a.v[i], &b.v[i], b.store[i]);
            else
                gen_value(&t.cols[i], &b.v[i], b.store[i]);
        }
        meru_buf_reset(&ea);
        meru_buf_reset(&eb);
        CHECK_OK(meru_key_encode(&t.s, a.v, nk, &ea));
        CHECK_OK(meru_key_encode(&t.s, b.v, nk, &eb));

        int want = tuple_cmp(&t, a.v, b.v, nk);
        int got = sign(meru_ikey_cmp(ea.data, ea.len, eb.data, eb.len));
        seen[want + 1]++;
        CHECK_MSG(got == want, "pair %zu: memcmp order %d, typed order %d", it,
                  got, want);
        if (want) { /* prefix-free: decided within the shorter key */
            size_t m = ea.len < eb.len ? ea.len : eb.len;
            CHECK(memcmp(ea.data, eb.data, m) != 0);
        } else {
            CHECK(ea.len == eb.len);
        }

        /* Round trip, bit for bit. */
        size_t n_out = 99;
        meru_buf_reset(&scratch);
        CHECK_OK(meru_key_decode(&t.s, ea.data, ea.len, dec, &n_out, &scratch));
        CHECK_EQ_INT(n_out, nk);
        for (size_t i = 0; i < nk; i++)
            CHECK_MSG(value_same(&t.cols[i], &a.v[i], &dec[i]),
                      "pair %zu: column %zu differs after decode", it, i);

        /* Every prefix encodes to a byte prefix and decodes to k values. */
        size_t k = (size_t)rnd(nk + 1);
        meru_buf_reset(&ep);
        CHECK_OK(meru_key_encode(&t.s, a.v, k, &ep));
        CHECK(ep.len <= ea.len);
        CHECK(ep.len == 0 || memcmp(ep.data, ea.data, ep.len) == 0);
        CHECK_OK(meru_key_decode(&t.s, ep.data, ep.len, dec, &n_out, &scratch));
        CHECK_EQ_INT(n_out, k);
        for (size_t i = 0; i < k; i++)
            CHECK(value_same(&t.cols[i], &a.v[i], &dec[i]));
        /* ...and a prefix bounds the keys that extend it. */
        if (k < nk && ep.len) {
            int pb = sign(meru_ikey_cmp(ep.data, ep.len, eb.data, eb.len));
            int tb = tuple_cmp(&t, a.v, b.v, k);
            CHECK(pb == (tb ? tb : -1));
        }
    }
    /* The generator really produced all three outcomes. */
    CHECK(seen[0] > pairs / 10 && seen[2] > pairs / 10 && seen[1] > 20);
    meru_buf_free(&ea);
    meru_buf_free(&eb);
    meru_buf_free(&ep);
    meru_buf_free(&scratch);
}

static void test_prefix_successor_bounds_a_prefix_scan(void)
{
    meru_buf b = {0};
    CHECK_OK(meru_buf_append(&b, "\x61\x00\x00", 3));
    CHECK_OK(meru_key_prefix_successor(&b));
    CHECK(key_is(&b, "61 00 01"));
    meru_buf_reset(&b);
    CHECK_OK(meru_buf_append(&b, "\x80\xff\xff", 3));
    CHECK_OK(meru_key_prefix_successor(&b));
    CHECK(key_is(&b, "81"));
    meru_buf_reset(&b);
    CHECK_OK(meru_buf_append(&b, "\xff\xff", 2));
    CHECK_RC(meru_key_prefix_successor(&b), MERU_NOT_FOUND);
    meru_buf_reset(&b);
    CHECK_RC(meru_key_prefix_successor(&b), MERU_NOT_FOUND);

    /* For random keys: "starts with P" <=> P <= key < successor(P). */
    const meru_type types[] = {MERU_TYPE_INT32, MERU_TYPE_BINARY,
                               MERU_TYPE_INT32};
    tschema t;
    tschema_init(&t, 3, types, 0, NULL);
    meru_buf p = {0}, s = {0}, k = {0};
    tuple a, x;
    size_t iters = (size_t)(5000 * meru_test_scale()) + 100, inside = 0;
    for (size_t it = 0; it < iters; it++) {
        for (size_t i = 0; i < 3; i++) {
            gen_value(&t.cols[i], &a.v[i], a.store[i]);
            if (rnd(2))
                gen_near(&t.cols[i], &a.v[i], &x.v[i], x.store[i]);
            else
                x.v[i] = a.v[i];
        }
        size_t plen = 1 + (size_t)rnd(2);
        meru_buf_reset(&p);
        meru_buf_reset(&k);
        CHECK_OK(meru_key_encode(&t.s, a.v, plen, &p));
        CHECK_OK(meru_key_encode(&t.s, x.v, 3, &k));
        meru_buf_reset(&s);
        CHECK_OK(meru_buf_append(&s, p.data, p.len));
        int rc = meru_key_prefix_successor(&s);
        int starts = k.len >= p.len && memcmp(k.data, p.data, p.len) == 0;
        int in = meru_ikey_cmp(p.data, p.len, k.data, k.len) <= 0 &&
                 (rc == MERU_NOT_FOUND ||
                  meru_ikey_cmp(k.data, k.len, s.data, s.len) < 0);
        CHECK_EQ_INT(starts, in);
        CHECK_EQ_INT(starts, tuple_cmp(&t, a.v, x.v, plen) == 0);
        inside += (size_t)starts;
    }
    CHECK(inside > iters / 10 && inside < iters);
    meru_buf_free(&b);
    meru_buf_free(&p);
    meru_buf_free(&s);
    meru_buf_free(&k);
}

/* ----------------------------------------------------------------- decoder */

static void test_decode_rejects_malformed_keys(void)
{
    const meru_type ts[] = {MERU_TYPE_STRING};
    tschema t;
    tschema_init(&t, 1, ts, 0, NULL);
    meru_value v[4];
    size_t n = 7;
    meru_buf scratch = {0};
    static const char *const bad[] = {
        "61",          /* no terminator */
        "61 00",       /* escape cut short */
        "61 00 01",    /* bad escape */
        "00 fe 00 00", /* bad escape */
        "00 ff",       /* escaped NUL, no terminator */
        "61 00 00 62", /* trailing byte after the last column */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t k[16];
        size_t len = parse_hex(bad[i], k, sizeof k);
        CHECK_OK(meru_buf_append(&scratch, "x", 1));
        CHECK_RC(meru_key_decode(&t.s, k, len, v, &n, &scratch), MERU_ECORRUPT);
        CHECK_EQ_INT(n, 0);
        CHECK_EQ_INT(scratch.len, i + 1); /* restored */
    }
    CHECK_ERRMSG("offset");

    /* Escapes are unescaped into scratch; plain bytes are borrowed. */
    uint8_t k2[] = {0x61, 0x00, 0xff, 0x62, 0x00, 0x00};
    CHECK_OK(meru_key_decode(&t.s, k2, sizeof k2, v, &n, &scratch));
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(v[0].u.bytes.len, 3);
    CHECK_MEM(v[0].u.bytes.ptr, "a\0b", 3);
    CHECK(v[0].u.bytes.ptr >= scratch.data &&
          v[0].u.bytes.ptr < scratch.data + scratch.len);
    uint8_t k3[] = {0x61, 0x62, 0x00, 0x00};
    CHECK_OK(meru_key_decode(&t.s, k3, sizeof k3, v, &n, &scratch));
    CHECK(v[0].u.bytes.ptr == k3 && v[0].u.bytes.len == 2);
    /* Empty input is the empty prefix. */
    CHECK_OK(meru_key_decode(&t.s, k3, 0, v, &n, &scratch));
    CHECK_EQ_INT(n, 0);

    const meru_type t2[] = {MERU_TYPE_BOOLEAN, MERU_TYPE_DOUBLE,
                            MERU_TYPE_FLOAT};
    tschema_init(&t, 3, t2, 0, NULL);
    uint8_t bb[] = {0x02};
    CHECK_RC(meru_key_decode(&t.s, bb, 1, v, &n, &scratch), MERU_ECORRUPT);
    /* +NaN 0x7ff8... encodes (sign flip) as ff f8 ...; -NaN as 00 07 ff... */
    uint8_t nan1[] = {0x01, 0xff, 0xf8, 0, 0, 0, 0, 0, 0};
    CHECK_RC(meru_key_decode(&t.s, nan1, sizeof nan1, v, &n, &scratch),
             MERU_ECORRUPT);
    CHECK_ERRMSG("NaN");
    uint8_t nan2[] = {0x01, 0x00, 0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK_RC(meru_key_decode(&t.s, nan2, sizeof nan2, v, &n, &scratch),
             MERU_ECORRUPT);
    uint8_t inf[] = {0x01, 0xff, 0xf0, 0, 0, 0, 0, 0, 0, 0xff, 0x80, 0, 0};
    CHECK_OK(meru_key_decode(&t.s, inf, sizeof inf, v, &n, &scratch));
    CHECK(n == 3 && v[1].u.f64 == INFINITY && v[2].u.f32 == INFINITY);
    uint8_t fnan[] = {0x01, 0xff, 0xf0, 0, 0, 0, 0, 0, 0, 0xff, 0x80, 0, 1};
    CHECK_RC(meru_key_decode(&t.s, fnan, sizeof fnan, v, &n, &scratch),
             MERU_ECORRUPT);
    meru_buf_free(&scratch);
}

/* Any cut of a valid key either decodes to a prefix that re-encodes to
 * exactly the cut bytes, or is rejected. */
static void test_decode_truncated_keys_fail_or_give_a_prefix(void)
{
    meru_buf full = {0}, re = {0}, scratch = {0};
    tschema t;
    tuple a;
    meru_value dec[4];
    size_t iters = (size_t)(300 * meru_test_scale()) + 20;
    for (size_t it = 0; it < iters; it++) {
        random_schema(&t);
        for (size_t i = 0; i < t.s.nkey; i++)
            gen_value(&t.cols[i], &a.v[i], a.store[i]);
        meru_buf_reset(&full);
        CHECK_OK(meru_key_encode(&t.s, a.v, t.s.nkey, &full));
        for (size_t cut = 0; cut <= full.len; cut++) {
            /* A private copy of exactly `cut` bytes lets ASan catch any
             * read past the end. */
            uint8_t *k = malloc(cut ? cut : 1);
            CHECK(k);
            memcpy(k, full.data, cut);
            size_t n = 99;
            meru_buf_reset(&scratch);
            int rc = meru_key_decode(&t.s, k, cut, dec, &n, &scratch);
            if (rc == MERU_OK) {
                meru_buf_reset(&re);
                int rc2 = meru_key_encode(&t.s, dec, n, &re);
                int same = rc2 == 0 && re.len == cut &&
                           (cut == 0 || memcmp(re.data, k, cut) == 0);
                free(k);
                CHECK(same);
                CHECK(n <= t.s.nkey && (n < t.s.nkey || cut == full.len));
            } else {
                free(k);
                CHECK_EQ_INT(rc, MERU_ECORRUPT);
                CHECK(cut < full.len);
            }
        }
    }
    meru_buf_free(&full);
    meru_buf_free(&re);
    meru_buf_free(&scratch);
}

static void test_decode_random_garbage_never_crashes(void)
{
    static const uint8_t alpha[] = {0x00, 0x00, 0x00, 0x01, 0xff,
                                    0xff, 0x80, 0x7f, 'a',  0xfe};
    tschema t;
    meru_buf re = {0}, scratch = {0};
    meru_value dec[4];
    size_t iters = (size_t)(50000 * meru_test_scale()) + 1000, ok = 0;
    uint8_t k[40];
    for (size_t it = 0; it < iters; it++) {
        if (it % 500 == 0)
            random_schema(&t);
        size_t len = (size_t)rnd(sizeof k + 1);
        for (size_t i = 0; i < len; i++)
            k[i] =
                rnd(3) ? alpha[rnd(sizeof alpha)] : (uint8_t)meru_test_rand();
        uint8_t *heap = malloc(len ? len : 1);
        CHECK(heap);
        memcpy(heap, k, len);
        size_t n = 0;
        meru_buf_reset(&scratch);
        int rc = meru_key_decode(&t.s, heap, len, dec, &n, &scratch);
        if (rc == MERU_OK) {
            ok++;
            meru_buf_reset(&re);
            int rc2 = meru_key_encode(&t.s, dec, n, &re);
            free(heap);
            CHECK_OK(rc2);
            CHECK(re.len == len && (len == 0 || memcmp(re.data, k, len) == 0));
        } else {
            free(heap);
            CHECK_EQ_INT(rc, MERU_ECORRUPT);
            CHECK_EQ_INT(scratch.len, 0);
        }
    }
    CHECK(ok > 0);
    meru_buf_free(&re);
    meru_buf_free(&scratch);
}

/* ----------------------------------------------------------- internal keys */

static void test_ikey_trailer_bytes_and_parse_round_trip(void)
{
    uint8_t tr[8];
    meru_ikey_trailer_encode(tr, 1, MERU_OP_PUT);
    CHECK_MEM(tr, "\xff\xff\xff\xff\xff\xff\xfe\xfe", 8);
    meru_ikey_trailer_encode(tr, 0, MERU_OP_DELETE);
    CHECK_MEM(tr, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
    meru_ikey_trailer_encode(tr, MERU_SEQ_MAX, MERU_OP_PUT);
    CHECK_MEM(tr, "\x00\x00\x00\x00\x00\x00\x00\xfe", 8);

    meru_buf b = {0};
    CHECK_RC(meru_ikey_append_trailer(&b, MERU_SEQ_MAX + 1, MERU_OP_PUT),
             MERU_EINVAL);
    CHECK_RC(meru_ikey_append_trailer(&b, 1, 2), MERU_EINVAL);
    CHECK_RC(meru_ikey_append_trailer(&b, 1, -1), MERU_EINVAL);
    CHECK_EQ_INT(b.len, 0);

    size_t iters = (size_t)(2000 * meru_test_scale()) + 100;
    for (size_t it = 0; it < iters; it++) {
        uint64_t seq = rnd(4) ? meru_test_rand() & MERU_SEQ_MAX
                              : (rnd(2) ? 0 : MERU_SEQ_MAX);
        int op = (int)rnd(2);
        size_t ulen = (size_t)rnd(5);
        meru_buf_reset(&b);
        for (size_t i = 0; i < ulen; i++)
            CHECK_OK(meru_buf_push(&b, (uint8_t)meru_test_rand()));
        CHECK_OK(meru_ikey_append_trailer(&b, seq, op));
        size_t ul = 99;
        uint64_t s2 = 0;
        int op2 = -1;
        CHECK_OK(meru_ikey_parse(b.data, b.len, &ul, &s2, &op2));
        CHECK_EQ_INT(ul, ulen);
        CHECK_EQ_U64(s2, seq);
        CHECK_EQ_INT(op2, op);
    }
    CHECK_OK(meru_ikey_parse(b.data, b.len, NULL, NULL, NULL));
    CHECK_RC(meru_ikey_parse(b.data, 7, NULL, NULL, NULL), MERU_ECORRUPT);
    CHECK_RC(meru_ikey_parse(b.data, 0, NULL, NULL, NULL), MERU_ECORRUPT);
    meru_ikey_trailer_encode(tr, 5, 2);
    CHECK_RC(meru_ikey_parse(tr, 8, NULL, NULL, NULL), MERU_ECORRUPT);
    meru_ikey_trailer_encode(tr, 5, 0xff);
    CHECK_RC(meru_ikey_parse(tr, 8, NULL, NULL, NULL), MERU_ECORRUPT);
    meru_buf_free(&b);
}

typedef struct ikey {
    uint8_t k[32];
    size_t len;
    int user; /* index of the user key */
    uint64_t seq;
} ikey;

static int ikey_qsort_cmp(const void *x, const void *y)
{
    const ikey *a = x, *b = y;
    return meru_ikey_cmp(a->k, a->len, b->k, b->len);
}

static void make_ikey(ikey *e, const meru_buf *ukey, int user, uint64_t seq,
                      int op)
{
    memcpy(e->k, ukey->data, ukey->len);
    meru_ikey_trailer_encode(e->k + ukey->len, seq, op);
    e->len = ukey->len + 8;
    e->user = user;
    e->seq = seq;
}

/* Internal keys order by user key (even when raw user values are byte
 * prefixes of each other), then newest first; a seek key lands on the
 * newest version visible at its sequence. */
static void test_ikey_orders_by_user_key_then_newest_first(void)
{
    static const struct {
        const char *p;
        size_t n;
    } users[] = {{"", 0},      {"\0", 1}, {"a", 1},    {"a\0", 2},
                 {"a\0\0", 3}, {"ab", 2}, {"a\xff", 2}};
    enum { NU = sizeof users / sizeof users[0], PER = 6 };
    const meru_type ts[] = {MERU_TYPE_STRING};
    tschema t;
    tschema_init(&t, 1, ts, 0, NULL);
    meru_buf u[NU];
    memset(u, 0, sizeof u);
    ikey all[NU * PER];
    size_t rounds = (size_t)(200 * meru_test_scale()) + 20;
    for (size_t r = 0; r < rounds; r++) {
        size_t n = 0;
        for (int i = 0; i < NU; i++) {
            meru_buf_reset(&u[i]);
            meru_value v = vbytes(users[i].p, users[i].n);
            CHECK_OK(meru_key_encode(&t.s, &v, 1, &u[i]));
            /* Distinct random seqs per user key, small so seeks collide. */
            uint64_t used = 0;
            for (int j = 0; j < PER; j++) {
                uint64_t seq;
                do
                    seq = r % 2 ? rnd(64) : MERU_SEQ_MAX - rnd(64);
                while (used & (UINT64_C(1) << (seq & 63)));
                used |= UINT64_C(1) << (seq & 63);
                make_ikey(&all[n++], &u[i], i, seq, (int)rnd(2));
            }
        }
        qsort(all, n, sizeof all[0], ikey_qsort_cmp);
        for (size_t i = 1; i < n; i++) {
            CHECK(all[i - 1].user <= all[i].user);
            if (all[i - 1].user == all[i].user)
                CHECK(all[i - 1].seq > all[i].seq);
        }
        /* Seek: first entry >= K || seek(S) is K's newest version with
         * seq <= S, or the first entry of the next user key. */
        for (int q = 0; q < 20; q++) {
            int user = (int)rnd(NU);
            uint64_t s = r % 2 ? rnd(70) : MERU_SEQ_MAX - rnd(70);
            meru_buf sk = {0};
            CHECK_OK(meru_buf_append(&sk, u[user].data, u[user].len));
            CHECK_OK(meru_ikey_append_seek_trailer(&sk, s));
            size_t lo = 0;
            while (lo < n &&
                   meru_ikey_cmp(all[lo].k, all[lo].len, sk.data, sk.len) < 0)
                lo++;
            meru_buf_free(&sk);
            const ikey *best = NULL;
            for (size_t i = 0; i < n; i++)
                if (all[i].user == user && all[i].seq <= s &&
                    (!best || all[i].seq > best->seq))
                    best = &all[i];
            if (best) {
                CHECK(lo < n && &all[lo] == best);
            } else {
                CHECK(lo == n || all[lo].user == user + 1);
                CHECK(lo < n || user == NU - 1);
            }
        }
    }
    for (int i = 0; i < NU; i++)
        meru_buf_free(&u[i]);
}

int main(void)
{
    MERU_TEST_RUN(test_integers_encode_big_endian_with_sign_flipped);
    MERU_TEST_RUN(test_floats_encode_in_ieee_total_order);
    MERU_TEST_RUN(test_decimal_encodes_16_bytes_sign_flipped);
    MERU_TEST_RUN(test_bytes_escape_nul_and_terminate);
    MERU_TEST_RUN(test_bytes_order_puts_prefix_first);
    MERU_TEST_RUN(test_composite_key_concatenates_components);
    MERU_TEST_RUN(test_encode_rejects_nan_null_and_bad_lengths);
    MERU_TEST_RUN(test_encode_row_uses_key_order_and_write_default);
    MERU_TEST_RUN(test_value_cmp_orders_each_type);
    MERU_TEST_RUN(test_random_tuples_memcmp_order_matches_typed_order);
    MERU_TEST_RUN(test_prefix_successor_bounds_a_prefix_scan);
    MERU_TEST_RUN(test_decode_rejects_malformed_keys);
    MERU_TEST_RUN(test_decode_truncated_keys_fail_or_give_a_prefix);
    MERU_TEST_RUN(test_decode_random_garbage_never_crashes);
    MERU_TEST_RUN(test_ikey_trailer_bytes_and_parse_round_trip);
    MERU_TEST_RUN(test_ikey_orders_by_user_key_then_newest_first);
    return meru_test_finish();
}
