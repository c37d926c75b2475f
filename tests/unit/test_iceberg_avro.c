/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_iceberg_avro.c — the Avro layer (iceberg/avro.h): primitive
 * encodings against hand-computed bytes, decoder bounds (overlong varints,
 * lengths and block counts past the data, bad booleans), writer-schema
 * parsing with Iceberg ids, skipping and resolving reads, and object
 * container files: round trip with header metadata and several blocks, a
 * deflate file, and every truncation / bit flip of a file giving an error,
 * never a crash.
 */
#include <math.h>
#include <stdlib.h>
#include <zlib.h>

#include "ice_test.h"
#include "iceberg/avro.h"
#include "test.h"

static void test_avro_long_bytes_are_zigzag_varints(void)
{
    struct {
        int64_t v;
        uint8_t b[10];
        size_t n;
    } cases[] = {
        {0, {0x00}, 1},
        {-1, {0x01}, 1},
        {1, {0x02}, 1},
        {-64, {0x7f}, 1},
        {64, {0x80, 0x01}, 2},
        {-65, {0x81, 0x01}, 2},
        {INT64_MAX,
         {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
         10},
        {INT64_MIN,
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
         10},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        meru_buf b = {0};
        meru_avro_rd rd;
        int64_t got;
        CHECK_OK(meru_avro_put_long(&b, cases[i].v));
        CHECK_EQ_U64(b.len, cases[i].n);
        CHECK_MEM(b.data, cases[i].b, cases[i].n);
        meru_avro_rd_init(&rd, b.data, b.len, 0);
        CHECK_OK(meru_avro_get_long(&rd, &got));
        CHECK_EQ_INT(got, cases[i].v);
        CHECK_EQ_U64(meru_avro_rd_left(&rd), 0);
        meru_buf_free(&b);
    }
}

static void test_avro_other_primitives_round_trip(void)
{
    meru_buf b = {0};
    meru_avro_rd rd;
    const uint8_t *p;
    size_t n;
    int32_t i32;
    bool bo;
    float f;
    double d;
    CHECK_OK(meru_avro_put_int(&b, -3));
    CHECK_OK(meru_avro_put_bool(&b, true));
    CHECK_OK(meru_avro_put_float(&b, 1.5f));
    CHECK_OK(meru_avro_put_double(&b, -2.25));
    CHECK_OK(meru_avro_put_string(&b, "héllo"));
    CHECK_OK(meru_avro_put_bytes(&b, NULL, 0));
    /* -3 -> 05; true -> 01; 1.5f LE; -2.25 LE; len 6 -> 0c + bytes; 00 */
    static const uint8_t want[] = {
        0x05, 0x01, 0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x02, 0xc0, 0x0c, 'h',  0xc3, 0xa9, 'l',  'l',  'o',  0x00};
    CHECK_EQ_U64(b.len, sizeof want);
    CHECK_MEM(b.data, want, sizeof want);
    meru_avro_rd_init(&rd, b.data, b.len, 0);
    CHECK_OK(meru_avro_get_int(&rd, &i32));
    CHECK_EQ_INT(i32, -3);
    CHECK_OK(meru_avro_get_bool(&rd, &bo));
    CHECK(bo);
    CHECK_OK(meru_avro_get_float(&rd, &f));
    CHECK(f == 1.5f);
    CHECK_OK(meru_avro_get_double(&rd, &d));
    CHECK(d == -2.25);
    CHECK_OK(meru_avro_get_bytes(&rd, &p, &n));
    CHECK_EQ_U64(n, 6);
    CHECK_MEM(p, "héllo", 6);
    CHECK_OK(meru_avro_get_bytes(&rd, &p, &n));
    CHECK_EQ_U64(n, 0);
    CHECK_OK(meru_avro_rd_finish(&rd, "test"));
    meru_buf_free(&b);
}

static void test_avro_decoder_rejects_out_of_bounds_input(void)
{
    meru_avro_rd rd;
    int64_t l;
    int32_t i;
    bool bo;
    const uint8_t *p;
    size_t n;
    uint64_t count;
    static const uint8_t overlong[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0x01};
    meru_avro_rd_init(&rd, overlong, sizeof overlong, 100);
    CHECK_RC(meru_avro_get_long(&rd, &l), MERU_ECORRUPT);
    CHECK_ERRMSG("at byte 100");
    static const uint8_t big_int[] = {0x80, 0x80, 0x80, 0x80, 0x10};
    meru_avro_rd_init(&rd, big_int, sizeof big_int, 0);
    CHECK_RC(meru_avro_get_int(&rd, &i), MERU_ECORRUPT);
    static const uint8_t two = 2;
    meru_avro_rd_init(&rd, &two, 1, 0);
    CHECK_RC(meru_avro_get_bool(&rd, &bo), MERU_ECORRUPT);
    /* length 3 with two bytes left; negative length */
    static const uint8_t short_bytes[] = {0x06, 'a', 'b'};
    meru_avro_rd_init(&rd, short_bytes, sizeof short_bytes, 0);
    CHECK_RC(meru_avro_get_bytes(&rd, &p, &n), MERU_ECORRUPT);
    static const uint8_t neg_len[] = {0x01};
    meru_avro_rd_init(&rd, neg_len, 1, 0);
    CHECK_RC(meru_avro_get_bytes(&rd, &p, &n), MERU_ECORRUPT);
    /* a block count of 2^40 over 3 bytes must not drive a loop */
    meru_buf b = {0};
    CHECK_OK(meru_avro_put_long(&b, (int64_t)1 << 40));
    meru_avro_rd_init(&rd, b.data, b.len, 0);
    CHECK_RC(meru_avro_get_block(&rd, &count), MERU_ECORRUPT);
    /* a negative count -2 followed by its byte size 2, then two items */
    meru_buf_reset(&b);
    CHECK_OK(meru_avro_put_long(&b, -2));
    CHECK_OK(meru_avro_put_long(&b, 2));
    CHECK_OK(meru_avro_put_long(&b, 7));
    CHECK_OK(meru_avro_put_long(&b, 8));
    meru_avro_rd_init(&rd, b.data, b.len, 0);
    CHECK_OK(meru_avro_get_block(&rd, &count));
    CHECK_EQ_U64(count, 2);
    meru_buf_free(&b);
}

static const char schema_json[] =
    "{\"type\":\"record\",\"name\":\"t\",\"fields\":["
    "{\"name\":\"a\",\"type\":\"int\",\"field-id\":1},"
    "{\"name\":\"b\",\"type\":[\"null\",\"long\"],\"default\":null,"
    "\"field-id\":2},"
    "{\"name\":\"m\",\"type\":{\"type\":\"array\",\"logicalType\":\"map\","
    "\"items\":{\"type\":\"record\",\"name\":\"k3_v4\",\"fields\":["
    "{\"name\":\"key\",\"type\":\"int\",\"field-id\":3},"
    "{\"name\":\"value\",\"type\":\"bytes\",\"field-id\":4}]}},"
    "\"field-id\":5},"
    "{\"name\":\"l\",\"type\":{\"type\":\"array\",\"items\":\"long\","
    "\"element-id\":6},\"field-id\":7},"
    "{\"name\":\"s\",\"type\":{\"type\":\"map\",\"values\":\"string\","
    "\"key-id\":8,\"value-id\":9},\"field-id\":10},"
    "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"f3\",\"size\":3}},"
    "{\"name\":\"again\",\"type\":\"f3\"},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\","
    "\"symbols\":[\"X\",\"Y\"]}},"
    "{\"name\":\"d\",\"type\":\"double\"}]}";

/* One record of schema_json; v varies the values. */
static int put_record(meru_buf *b, int v)
{
    int rc = 0;
    rc |= meru_avro_put_int(b, v);
    rc |= meru_avro_put_long(b, v % 2); /* union branch */
    if (v % 2)
        rc |= meru_avro_put_long(b, (int64_t)v * 1000000000000);
    rc |= meru_avro_put_long(b, 1);
    rc |= meru_avro_put_int(b, v + 100);
    rc |= meru_avro_put_bytes(b, "xy", 2);
    rc |= meru_avro_put_long(b, 0);
    rc |= meru_avro_put_long(b, 2);
    rc |= meru_avro_put_long(b, -1);
    rc |= meru_avro_put_long(b, 1);
    rc |= meru_avro_put_long(b, 0);
    rc |= meru_avro_put_long(b, 1);
    rc |= meru_avro_put_string(b, "key");
    rc |= meru_avro_put_string(b, "value");
    rc |= meru_avro_put_long(b, 0);
    rc |= meru_buf_append(b, "abc", 3);
    rc |= meru_buf_append(b, "def", 3);
    rc |= meru_avro_put_int(b, 1);
    rc |= meru_avro_put_double(b, v / 4.0);
    return rc;
}

static void test_avro_schema_parse_keeps_iceberg_ids(void)
{
    meru_arena *a;
    const meru_avro_schema *s;
    CHECK_OK(meru_arena_new(&a, 0));
    CHECK_OK(meru_avro_schema_parse(a, schema_json, strlen(schema_json), &s));
    CHECK(s->type == MERU_AVRO_RECORD);
    CHECK_EQ_INT(s->n, 9);
    CHECK_STR(s->name, "t");
    const meru_avro_field *m = meru_avro_field_by_id(s, 5);
    CHECK(m && strcmp(m->name, "m") == 0);
    CHECK(m->type->type == MERU_AVRO_ARRAY);
    CHECK_STR(m->type->logical, "map");
    CHECK(m->type->items->type == MERU_AVRO_RECORD);
    CHECK_EQ_INT(m->type->items->fields[0].field_id, 3);
    CHECK_EQ_INT(m->type->items->fields[1].field_id, 4);
    const meru_avro_field *l = meru_avro_field_by_id(s, 7);
    CHECK(l && l->type->has_element_id && l->type->element_id == 6);
    const meru_avro_field *sm = meru_avro_field_by_id(s, 10);
    CHECK(sm && sm->type->type == MERU_AVRO_MAP);
    CHECK(sm->type->key_id == 8 && sm->type->value_id == 9);
    CHECK(s->fields[6].type == s->fields[5].type); /* named reference */
    CHECK_EQ_INT(s->fields[5].type->size, 3);
    CHECK(meru_avro_field_by_id(s, 99) == NULL);
    meru_arena_free(a);
}

static void test_avro_schema_parse_rejects_bad_schemas(void)
{
    const char *bad[] = {
        "{",
        "\"nosuchtype\"",
        "{\"type\":\"record\",\"fields\":[]}",
        "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\"}]}",
        "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\","
        "\"type\":\"int\",\"field-id\":\"x\"}]}",
        "{\"type\":\"fixed\",\"name\":\"f\",\"size\":-1}",
        "[]",
        "[[\"int\"]]",
        "{\"type\":\"array\"}",
        "{\"type\":\"record\",\"name\":\"r\",\"fields\":[{\"name\":\"a\","
        "\"type\":\"int\"},{\"name\":\"a\",\"type\":\"int\"}]}",
    };
    meru_arena *a;
    const meru_avro_schema *s;
    CHECK_OK(meru_arena_new(&a, 0));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(meru_avro_schema_parse(a, bad[i], strlen(bad[i]), &s) ==
                      MERU_ECORRUPT,
                  "schema %zu accepted: %s", i, bad[i]);
    /* 100 nested arrays: deeper than the limit */
    meru_buf deep = {0};
    for (int i = 0; i < 100; i++)
        CHECK_OK(meru_buf_append(&deep, "{\"type\":\"array\",\"items\":", 25));
    CHECK_OK(meru_buf_append(&deep, "\"int\"", 5));
    for (int i = 0; i < 100; i++)
        CHECK_OK(meru_buf_push(&deep, '}'));
    CHECK_RC(meru_avro_schema_parse(a, (const char *)deep.data, deep.len, &s),
             MERU_ECORRUPT);
    meru_buf_free(&deep);
    meru_arena_free(a);
}

static void test_avro_skip_and_resolving_reads(void)
{
    meru_arena *a;
    const meru_avro_schema *s;
    meru_buf b = {0};
    meru_avro_rd rd;
    int64_t l;
    int32_t i32;
    bool present;
    CHECK_OK(meru_arena_new(&a, 0));
    CHECK_OK(meru_avro_schema_parse(a, schema_json, strlen(schema_json), &s));
    CHECK_OK(put_record(&b, 3));
    CHECK_OK(put_record(&b, 4));
    meru_avro_rd_init(&rd, b.data, b.len, 0);
    CHECK_OK(meru_avro_skip(&rd, s));
    /* the second record, field by field with resolution */
    CHECK_OK(meru_avro_read_long(&rd, s->fields[0].type, "a", NULL, &l));
    CHECK_EQ_INT(l, 4); /* int read as long */
    CHECK_OK(meru_avro_read_long(&rd, s->fields[1].type, "b", &present, &l));
    CHECK(!present); /* null branch */
    for (int f = 2; f < 8; f++)
        CHECK_OK(meru_avro_skip(&rd, s->fields[f].type));
    CHECK_RC(meru_avro_read_int(&rd, s->fields[8].type, "d", NULL, &i32),
             MERU_ECORRUPT); /* a double is not an int */
    CHECK_ERRMSG("d is written with a type that is not an int");
    meru_buf_free(&b);
    meru_arena_free(a);
}

/* Writes an OCF of `n` records in blocks of `per_block`. */
static void make_file(meru_buf *out, int n, int per_block)
{
    uint8_t sync[16];
    meru_buf block = {0};
    meru_avro_meta meta[] = {{"schema-id", "7", 1}, {"bin", "\x00\x01\xff", 3}};
    meru_avro_random_sync(sync);
    meru_avro_ocf_header(out, schema_json, meta, 2, sync);
    int in_block = 0;
    for (int i = 0; i < n; i++) {
        put_record(&block, i);
        if (++in_block == per_block || i == n - 1) {
            meru_avro_ocf_block(out, (uint64_t)in_block, block.data, block.len,
                                sync);
            meru_buf_reset(&block);
            in_block = 0;
        }
    }
    meru_buf_free(&block);
}

/* Decodes a whole file: every record must have a == its index. */
static int decode_file(const uint8_t *p, size_t n)
{
    meru_avro_ocf *f;
    int rc = meru_avro_ocf_open(&f, p, n);
    int64_t idx = 0;
    if (rc)
        return rc;
    const meru_avro_schema *s = meru_avro_ocf_schema(f);
    for (;;) {
        meru_avro_rd rd;
        uint64_t count;
        if ((rc = meru_avro_ocf_next_block(f, &rd, &count)) || count == 0)
            break;
        for (uint64_t i = 0; i < count && !rc; i++) {
            int64_t a;
            rc = meru_avro_read_long(&rd, s->fields[0].type, "a", NULL, &a);
            if (!rc && a != idx++)
                rc = MERU_ECORRUPT;
            for (uint32_t k = 1; k < s->n && !rc; k++)
                rc = meru_avro_skip(&rd, s->fields[k].type);
        }
        if (!rc)
            rc = meru_avro_rd_finish(&rd, "block");
        if (rc)
            break;
    }
    meru_avro_ocf_close(f);
    return rc;
}

static void test_avro_ocf_round_trip_with_metadata_and_blocks(void)
{
    meru_buf file = {0};
    meru_avro_ocf *f;
    const uint8_t *v;
    size_t vn;
    make_file(&file, 10, 3); /* blocks of 3, 3, 3, 1 */
    CHECK_MEM(file.data, "Obj\x01", 4);
    CHECK_OK(meru_avro_ocf_open(&f, file.data, file.len));
    CHECK(meru_avro_ocf_meta(f, "schema-id", &v, &vn));
    CHECK(vn == 1 && v[0] == '7');
    CHECK(meru_avro_ocf_meta(f, "bin", &v, &vn));
    CHECK(vn == 3 && memcmp(v, "\x00\x01\xff", 3) == 0);
    CHECK(meru_avro_ocf_meta(f, "avro.codec", &v, &vn));
    CHECK(vn == 4 && memcmp(v, "null", 4) == 0);
    CHECK(!meru_avro_ocf_meta(f, "nope", &v, &vn));
    int blocks = 0;
    for (;;) {
        meru_avro_rd rd;
        uint64_t count;
        CHECK_OK(meru_avro_ocf_next_block(f, &rd, &count));
        if (!count)
            break;
        blocks++;
        CHECK(count == (blocks == 4 ? 1u : 3u));
    }
    CHECK_EQ_INT(blocks, 4);
    meru_avro_ocf_close(f);
    CHECK_OK(decode_file(file.data, file.len));
    meru_buf_free(&file);
}

static void test_avro_ocf_rejects_bad_framing(void)
{
    meru_buf file = {0};
    make_file(&file, 4, 2);
    uint8_t *p = malloc(file.len);
    /* bad magic */
    memcpy(p, file.data, file.len);
    p[3] = 2;
    CHECK_RC(decode_file(p, file.len), MERU_ECORRUPT);
    CHECK_ERRMSG("bad magic");
    /* the last sync marker damaged */
    memcpy(p, file.data, file.len);
    p[file.len - 1] ^= 1;
    CHECK_RC(decode_file(p, file.len), MERU_ECORRUPT);
    CHECK_ERRMSG("sync marker");
    /* an unknown codec */
    meru_buf other = {0};
    uint8_t sync[16] = {0};
    meru_avro_meta meta[] = {{"avro.codec", "snappy", 6}};
    /* the header writer puts its own avro.codec first: a duplicate */
    CHECK_OK(meru_avro_ocf_header(&other, schema_json, meta, 1, sync));
    CHECK_RC(decode_file(other.data, other.len), MERU_ECORRUPT);
    CHECK_ERRMSG("given twice");
    free(p);
    meru_buf_free(&other);
    meru_buf_free(&file);
}

static void test_avro_ocf_reads_deflate_and_refuses_other_codecs(void)
{
    meru_buf file = {0}, block = {0};
    uint8_t sync[16];
    uint8_t *zbuf;
    memset(sync, 0x5a, sizeof sync);
    /* a header by hand, with codec deflate */
    meru_buf_append(&file, "Obj\x01", 4);
    meru_avro_put_long(&file, 2);
    meru_avro_put_string(&file, "avro.schema");
    meru_avro_put_string(&file, schema_json);
    meru_avro_put_string(&file, "avro.codec");
    meru_avro_put_string(&file, "deflate");
    meru_avro_put_long(&file, 0);
    meru_buf_append(&file, sync, 16);
    for (int i = 0; i < 50; i++)
        put_record(&block, i);
    z_stream z;
    memset(&z, 0, sizeof z);
    CHECK(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&z, block.len);
    zbuf = malloc(cap);
    z.next_in = block.data;
    z.avail_in = (uInt)block.len;
    z.next_out = zbuf;
    z.avail_out = (uInt)cap;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    size_t zn = cap - z.avail_out;
    deflateEnd(&z);
    CHECK(zn < block.len);
    meru_avro_ocf_block(&file, 50, zbuf, zn, sync);
    CHECK_OK(decode_file(file.data, file.len));
    /* damage inside the compressed bytes: an error, not a crash */
    size_t flips_ok;
    ice_corruption_sweep(file.data, file.len, decode_file, 200, &flips_ok);
    free(zbuf);
    /* codec snappy: not supported */
    meru_buf other = {0};
    meru_buf_append(&other, "Obj\x01", 4);
    meru_avro_put_long(&other, 2);
    meru_avro_put_string(&other, "avro.schema");
    meru_avro_put_string(&other, "\"int\"");
    meru_avro_put_string(&other, "avro.codec");
    meru_avro_put_string(&other, "snappy");
    meru_avro_put_long(&other, 0);
    meru_buf_append(&other, sync, 16);
    CHECK_RC(decode_file(other.data, other.len), MERU_ENOTSUP);
    meru_buf_free(&other);
    meru_buf_free(&block);
    meru_buf_free(&file);
}

static void test_avro_ocf_truncations_and_bit_flips_never_crash(void)
{
    meru_buf file = {0};
    size_t flips_ok;
    make_file(&file, 6, 2);
    size_t wrong =
        ice_corruption_sweep(file.data, file.len, decode_file, 2000, &flips_ok);
    /* A cut exactly between blocks is a shorter valid file: those decode.
     * Every other prefix must fail. */
    CHECK_MSG(wrong <= 3, "%zu prefixes decoded", wrong);
    meru_buf_free(&file);
}

int main(void)
{
    MERU_TEST_RUN(test_avro_long_bytes_are_zigzag_varints);
    MERU_TEST_RUN(test_avro_other_primitives_round_trip);
    MERU_TEST_RUN(test_avro_decoder_rejects_out_of_bounds_input);
    MERU_TEST_RUN(test_avro_schema_parse_keeps_iceberg_ids);
    MERU_TEST_RUN(test_avro_schema_parse_rejects_bad_schemas);
    MERU_TEST_RUN(test_avro_skip_and_resolving_reads);
    MERU_TEST_RUN(test_avro_ocf_round_trip_with_metadata_and_blocks);
    MERU_TEST_RUN(test_avro_ocf_rejects_bad_framing);
    MERU_TEST_RUN(test_avro_ocf_reads_deflate_and_refuses_other_codecs);
    MERU_TEST_RUN(test_avro_ocf_truncations_and_bit_flips_never_crash);
    return meru_test_finish();
}
