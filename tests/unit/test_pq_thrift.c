/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq_thrift.c — the Thrift compact protocol reader and writer.
 *
 * Expected bytes are computed by hand from the compact protocol spec
 * (apache/thrift doc/specs/thrift-compact-protocol.md): field header
 * `ddddtttt`, long form `0000tttt` + zigzag varint id, zigzag varints for
 * i16/i32/i64, list header `sssstttt` or `1111tttt` + varint size, binary
 * = varint length + bytes, double = 8 bytes little-endian.
 */
#include <stdlib.h>

#include "parquet/thrift.h"
#include "test.h"
#include "util/buf.h"

/* Writer output equals `want` (n bytes). */
#define CHECK_BYTES(buf, want)                                                 \
    do {                                                                       \
        CHECK_EQ_INT((buf)->len, sizeof(want));                                \
        CHECK_MEM((buf)->data, (want), sizeof(want));                          \
    } while (0)

static void test_field_header_short_form_uses_delta(void)
{
    /* struct { 1: i32 1, 3: i32 -1, 4: bool true, 5: bool false } */
    static const uint8_t want[] = {0x15, 0x02, 0x25, 0x01, 0x11, 0x12, 0x00};
    meru_buf b = {0};
    tc_writer w;
    tc_writer_init(&w, &b);
    tc_w_struct_begin(&w);
    tc_w_field_i32(&w, 1, 1);
    tc_w_field_i32(&w, 3, -1);
    tc_w_field_bool(&w, 4, true);
    tc_w_field_bool(&w, 5, false);
    tc_w_struct_end(&w);
    CHECK_OK(tc_writer_finish(&w));
    CHECK_BYTES(&b, want);

    tc_reader r;
    int16_t last = 0, id;
    int t;
    int32_t v;
    tc_reader_init(&r, b.data, b.len);
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK_EQ_INT(t, TC_I32);
    CHECK_EQ_INT(id, 1);
    CHECK_OK(tc_read_i32(&r, &v));
    CHECK_EQ_INT(v, 1);
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK_EQ_INT(id, 3);
    CHECK_OK(tc_read_i32(&r, &v));
    CHECK_EQ_INT(v, -1);
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK_EQ_INT(t, TC_TRUE);
    CHECK_EQ_INT(id, 4);
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK_EQ_INT(t, TC_FALSE);
    CHECK_EQ_INT(id, 5);
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK_EQ_INT(t, TC_STOP);
    CHECK_EQ_INT(r.pos, b.len);
    meru_buf_free(&b);
}

static void test_field_header_long_form_for_big_or_backward_ids(void)
{
    /* { 16: i64 5 } : delta 16 > 15 -> 0x06, zigzag(16)=32=0x20, value 0x0a
     * then { 2: i32 0 } after 16 (backwards) -> 0x05, zigzag(2)=0x04, 0x00
     * then { 300: binary "" } -> 0x08, zigzag(300)=600 = 0xd8 0x04, len 0 */
    static const uint8_t want[] = {0x06, 0x20, 0x0a, 0x05, 0x04, 0x00,
                                   0x08, 0xd8, 0x04, 0x00, 0x00};
    meru_buf b = {0};
    tc_writer w;
    tc_writer_init(&w, &b);
    tc_w_struct_begin(&w);
    tc_w_field_i64(&w, 16, 5);
    tc_w_field_i32(&w, 2, 0);
    tc_w_field_binary(&w, 300, "", 0);
    tc_w_struct_end(&w);
    CHECK_OK(tc_writer_finish(&w));
    CHECK_BYTES(&b, want);

    tc_reader r;
    int16_t last = 0, id;
    int t;
    tc_reader_init(&r, b.data, b.len);
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK_EQ_INT(id, 16);
    CHECK_EQ_INT(t, TC_I64);
    CHECK_OK(tc_skip(&r, t));
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK_EQ_INT(id, 2);
    CHECK_OK(tc_skip(&r, t));
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK_EQ_INT(id, 300);
    CHECK_EQ_INT(t, TC_BINARY);
    CHECK_OK(tc_skip(&r, t));
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK_EQ_INT(t, TC_STOP);
    meru_buf_free(&b);
}

static void test_integers_are_zigzag_varints(void)
{
    static const struct {
        int32_t v;
        uint8_t bytes[5];
        size_t n;
    } i32s[] = {
        {0, {0x00}, 1},
        {-1, {0x01}, 1},
        {1, {0x02}, 1},
        {-64, {0x7f}, 1},
        {64, {0x80, 0x01}, 2},
        {300, {0xd8, 0x04}, 2},
        {INT32_MAX, {0xfe, 0xff, 0xff, 0xff, 0x0f}, 5},
        {INT32_MIN, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
    };
    for (size_t i = 0; i < sizeof i32s / sizeof i32s[0]; i++) {
        meru_buf b = {0};
        tc_writer w;
        tc_writer_init(&w, &b);
        tc_w_i32(&w, i32s[i].v);
        CHECK_OK(tc_writer_finish(&w));
        CHECK_EQ_INT(b.len, i32s[i].n);
        CHECK_MEM(b.data, i32s[i].bytes, i32s[i].n);
        tc_reader r;
        int32_t got;
        tc_reader_init(&r, b.data, b.len);
        CHECK_OK(tc_read_i32(&r, &got));
        CHECK_EQ_INT(got, i32s[i].v);
        meru_buf_free(&b);
    }
    /* i64 extremes: zigzag(INT64_MIN) = 2^64-1, ten bytes. */
    static const uint8_t min64[] = {0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0x01};
    meru_buf b = {0};
    tc_writer w;
    tc_writer_init(&w, &b);
    tc_w_i64(&w, INT64_MIN);
    CHECK_OK(tc_writer_finish(&w));
    CHECK_BYTES(&b, min64);
    tc_reader r;
    int64_t v64;
    tc_reader_init(&r, b.data, b.len);
    CHECK_OK(tc_read_i64(&r, &v64));
    CHECK(v64 == INT64_MIN);
    meru_buf_free(&b);
    /* i16 is an i32 on the wire, range-checked on read. */
    static const uint8_t big[] = {0x80, 0x80, 0x04}; /* zigzag 65536 */
    int16_t v16;
    tc_reader_init(&r, big, sizeof big);
    CHECK_RC(tc_read_i16(&r, &v16), MERU_ECORRUPT);
    /* An i32 varint longer than five bytes or above 2^32 is refused. */
    static const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0x1f};
    int32_t v32;
    tc_reader_init(&r, over, sizeof over);
    CHECK_RC(tc_read_i32(&r, &v32), MERU_ECORRUPT);
}

static void test_binary_double_and_varint_spec_example(void)
{
    /* The spec's varint example: 50399 = 0xdf 0x89 0x03, here as the
     * length of a binary. */
    size_t n = 50399;
    uint8_t *payload = calloc(1, n);
    CHECK(payload);
    payload[n - 1] = 0x5a;
    meru_buf b = {0};
    tc_writer w;
    tc_writer_init(&w, &b);
    tc_w_binary(&w, payload, n);
    tc_w_double(&w, 1.0);
    tc_w_binary(&w, "abc", 3);
    CHECK_OK(tc_writer_finish(&w));
    static const uint8_t head[] = {0xdf, 0x89, 0x03};
    CHECK_MEM(b.data, head, 3);
    static const uint8_t tail[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0xf0, 0x3f, 0x03, 'a',  'b',  'c'};
    CHECK_EQ_INT(b.len, 3 + n + sizeof tail);
    CHECK_MEM(b.data + 3 + n, tail, sizeof tail);

    tc_reader r;
    const uint8_t *p;
    uint32_t len;
    double d;
    tc_reader_init(&r, b.data, b.len);
    CHECK_OK(tc_read_binary(&r, &p, &len));
    CHECK_EQ_INT(len, n);
    CHECK_EQ_INT(p[n - 1], 0x5a);
    CHECK_OK(tc_read_double(&r, &d));
    CHECK(d == 1.0);
    CHECK_OK(tc_read_binary(&r, &p, &len));
    CHECK_EQ_INT(len, 3);
    CHECK_MEM(p, "abc", 3);
    CHECK_EQ_INT(tc_left(&r), 0);
    free(payload);
    meru_buf_free(&b);
}

static void test_list_header_short_and_long_form(void)
{
    /* list<i32> [1, 2, 3]: 0x35 then zigzag 2, 4, 6 */
    static const uint8_t three[] = {0x35, 0x02, 0x04, 0x06};
    meru_buf b = {0};
    tc_writer w;
    tc_writer_init(&w, &b);
    tc_w_list(&w, TC_I32, 3);
    for (int i = 1; i <= 3; i++)
        tc_w_i32(&w, i);
    CHECK_OK(tc_writer_finish(&w));
    CHECK_BYTES(&b, three);
    tc_reader r;
    int et;
    uint32_t n;
    tc_reader_init(&r, b.data, b.len);
    CHECK_OK(tc_read_list(&r, &et, &n));
    CHECK_EQ_INT(et, TC_I32);
    CHECK_EQ_INT(n, 3);

    /* 15 binaries: long form 0xf8 then varint 15 */
    meru_buf_reset(&b);
    tc_writer_init(&w, &b);
    tc_w_list(&w, TC_BINARY, 15);
    for (int i = 0; i < 15; i++)
        tc_w_binary(&w, "x", 1);
    CHECK_OK(tc_writer_finish(&w));
    CHECK_EQ_INT(b.len, 2 + 15 * 2);
    CHECK_EQ_INT(b.data[0], 0xf8);
    CHECK_EQ_INT(b.data[1], 15);
    tc_reader_init(&r, b.data, b.len);
    CHECK_OK(tc_skip_elem(&r, TC_LIST));
    CHECK_EQ_INT(tc_left(&r), 0);

    /* 14 still fits the short form */
    meru_buf_reset(&b);
    tc_writer_init(&w, &b);
    tc_w_list(&w, TC_I8, 14);
    CHECK_OK(tc_writer_finish(&w));
    CHECK_EQ_INT(b.len, 1);
    CHECK_EQ_INT(b.data[0], 0xe3);
    meru_buf_free(&b);
}

static void test_bool_list_accepts_both_element_tags(void)
{
    /* Element type 1 (what Apache Thrift's libraries write) and 2 (what
     * the spec text says); element bytes 1 = true, 0 or 2 = false. */
    static const uint8_t tag1[] = {0x31, 0x01, 0x02, 0x00};
    static const uint8_t tag2[] = {0x32, 0x01, 0x02, 0x00};
    const uint8_t *inputs[] = {tag1, tag2};
    for (int k = 0; k < 2; k++) {
        tc_reader r;
        int et;
        uint32_t n;
        bool v;
        tc_reader_init(&r, inputs[k], 4);
        CHECK_OK(tc_read_list(&r, &et, &n));
        CHECK_EQ_INT(et, TC_TRUE);
        CHECK_EQ_INT(n, 3);
        CHECK_OK(tc_read_bool_elem(&r, &v));
        CHECK(v);
        CHECK_OK(tc_read_bool_elem(&r, &v));
        CHECK(!v);
        CHECK_OK(tc_read_bool_elem(&r, &v));
        CHECK(!v);
    }
    /* What we write: tag 1, elements 1/2. */
    meru_buf b = {0};
    tc_writer w;
    tc_writer_init(&w, &b);
    tc_w_list(&w, TC_BOOL_ELEM, 2);
    tc_w_bool_elem(&w, true);
    tc_w_bool_elem(&w, false);
    CHECK_OK(tc_writer_finish(&w));
    static const uint8_t want[] = {0x21, 0x01, 0x02};
    CHECK_BYTES(&b, want);
    meru_buf_free(&b);
    /* Anything else in an element byte is corruption. */
    static const uint8_t bad[] = {0x11, 0x07};
    tc_reader r;
    int et;
    uint32_t n;
    bool v;
    tc_reader_init(&r, bad, sizeof bad);
    CHECK_OK(tc_read_list(&r, &et, &n));
    CHECK_RC(tc_read_bool_elem(&r, &v), MERU_ECORRUPT);
}

static void test_skip_handles_every_type_exactly(void)
{
    /* struct {
     *   1: map<binary,i32> {"a": 1}      0x1b 0x01 0x85 0x01 'a' 0x02
     *   2: set<double> {0.5}             0x1a 0x17 <8 bytes>
     *   3: list<list<bool>> [[true]]     0x19 0x19 0x11 0x01
     *   4: struct { 1: i8 -1 }           0x1c 0x13 0xff 0x00
     *   5: uuid                          0x1d <16 bytes>
     *   6: map (empty)                   0x1b 0x00
     *   7: i16 -3                        0x14 0x05
     * } then one trailing byte that must not be consumed. */
    static const uint8_t in[] = {
        0x1b, 0x01, 0x85, 0x01, 'a',  0x02, 0x1a, 0x17, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0xe0, 0x3f, 0x19, 0x19, 0x11, 0x01, 0x1c, 0x13, 0xff, 0x00,
        0x1d, 1,    2,    3,    4,    5,    6,    7,    8,    9,    10,   11,
        12,   13,   14,   15,   16,   0x1b, 0x00, 0x14, 0x05, 0x00, 0xee};
    tc_reader r;
    tc_reader_init(&r, in, sizeof in);
    CHECK_OK(tc_skip(&r, TC_STRUCT));
    CHECK_EQ_INT(tc_left(&r), 1);
    /* Every strict prefix fails cleanly. */
    for (size_t n = 0; n < sizeof in - 1; n++) {
        tc_reader_init(&r, in, n);
        CHECK_RC(tc_skip(&r, TC_STRUCT), MERU_ECORRUPT);
    }
}

static void test_skip_depth_is_bounded(void)
{
    /* n nested structs, each { 1: struct ... }, closed by n+1 stops. */
    for (int depth = 60; depth <= 200; depth += 140) {
        size_t n = (size_t)depth;
        uint8_t *in = malloc(2 * n + 1);
        CHECK(in);
        for (size_t i = 0; i < n; i++)
            in[i] = 0x1c;
        for (size_t i = n; i < 2 * n + 1; i++)
            in[i] = 0x00;
        tc_reader r;
        tc_reader_init(&r, in, 2 * n + 1);
        int rc = tc_skip(&r, TC_STRUCT);
        free(in);
        if (depth < TC_MAX_DEPTH) {
            CHECK_OK(rc);
        } else {
            CHECK_RC(rc, MERU_ECORRUPT);
            CHECK_ERRMSG("nested deeper");
        }
    }
    /* Lists nest too: 0x19 = list of one list, repeated. */
    uint8_t lists[300];
    memset(lists, 0x19, sizeof lists);
    tc_reader r;
    tc_reader_init(&r, lists, sizeof lists);
    CHECK_RC(tc_skip(&r, TC_LIST), MERU_ECORRUPT);
}

static void test_counts_and_lengths_checked_against_input(void)
{
    tc_reader r;
    int et;
    uint32_t n;
    const uint8_t *p;
    /* list of 2^31-1 i32 in a 6-byte input */
    static const uint8_t huge_list[] = {0xf5, 0xff, 0xff, 0xff, 0xff, 0x07};
    tc_reader_init(&r, huge_list, sizeof huge_list);
    CHECK_RC(tc_read_list(&r, &et, &n), MERU_ECORRUPT);
    CHECK_ERRMSG("claims");
    /* list size beyond i32 */
    static const uint8_t neg_list[] = {0xf5, 0xff, 0xff, 0xff, 0xff, 0x0f};
    tc_reader_init(&r, neg_list, sizeof neg_list);
    CHECK_RC(tc_read_list(&r, &et, &n), MERU_ECORRUPT);
    /* 3 doubles need 24 bytes */
    static const uint8_t dbl[] = {0x37, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    tc_reader_init(&r, dbl, sizeof dbl);
    CHECK_RC(tc_read_list(&r, &et, &n), MERU_ECORRUPT);
    /* invalid element type */
    static const uint8_t badt[] = {0x1e, 0x00};
    tc_reader_init(&r, badt, sizeof badt);
    CHECK_RC(tc_read_list(&r, &et, &n), MERU_ECORRUPT);
    /* binary longer than the input */
    static const uint8_t bin[] = {0x05, 'a', 'b'};
    tc_reader_init(&r, bin, sizeof bin);
    CHECK_RC(tc_read_binary(&r, &p, &n), MERU_ECORRUPT);
    /* map claiming more pairs than bytes */
    static const uint8_t map[] = {0x64, 0x55, 0x02};
    tc_reader_init(&r, map, sizeof map);
    CHECK_RC(tc_skip(&r, TC_MAP), MERU_ECORRUPT);
    /* field type 14/15 do not exist */
    static const uint8_t badf[] = {0x1e};
    int16_t last = 0, id;
    int t;
    tc_reader_init(&r, badf, sizeof badf);
    CHECK_RC(tc_read_field(&r, &last, &t, &id), MERU_ECORRUPT);
    /* a delta that would overflow the i16 id */
    static const uint8_t ovf[] = {0x05, 0xfe, 0xff, 0x03, 0x00, 0x15};
    tc_reader_init(&r, ovf, sizeof ovf);
    CHECK_OK(tc_read_field(&r, &last, &t, &id));
    CHECK_EQ_INT(id, INT16_MAX);
    CHECK_OK(tc_skip(&r, t));
    CHECK_RC(tc_read_field(&r, &last, &t, &id), MERU_ECORRUPT);
    /* empty input and NULL input */
    tc_reader_init(&r, NULL, 0);
    CHECK_RC(tc_read_field(&r, &last, &t, &id), MERU_ECORRUPT);
    CHECK_ERRMSG("truncated");
}

static void test_random_values_round_trip(void)
{
    int iters = (int)(2000 * meru_test_scale());
    meru_buf b = {0};
    for (int it = 0; it < iters; it++) {
        int64_t v64 = (int64_t)meru_test_rand();
        int32_t v32 = (int32_t)meru_test_rand();
        int16_t v16 = (int16_t)meru_test_rand();
        int16_t fid = (int16_t)(meru_test_rand() % 2000 - 1000);
        uint64_t bits = meru_test_rand();
        double dv;
        memcpy(&dv, &bits, sizeof dv);
        uint8_t blob[40];
        size_t blen = meru_test_rand() % sizeof blob;
        for (size_t i = 0; i < blen; i++)
            blob[i] = (uint8_t)meru_test_rand();
        meru_buf_reset(&b);
        tc_writer w;
        tc_writer_init(&w, &b);
        tc_w_struct_begin(&w);
        tc_w_field_i64(&w, 1, v64);
        tc_w_field_i32(&w, fid, v32);
        tc_w_field_i16(&w, 7, v16);
        tc_w_field_double(&w, 8, dv);
        tc_w_field_binary(&w, 9, blob, blen);
        tc_w_struct_end(&w);
        CHECK_OK(tc_writer_finish(&w));

        tc_reader r;
        int16_t last = 0, id;
        int t;
        int64_t g64;
        int32_t g32;
        int16_t g16;
        double gd;
        const uint8_t *gp;
        uint32_t gn;
        tc_reader_init(&r, b.data, b.len);
        CHECK_OK(tc_read_field(&r, &last, &t, &id));
        CHECK(id == 1 && t == TC_I64);
        CHECK_OK(tc_read_i64(&r, &g64));
        CHECK(g64 == v64);
        CHECK_OK(tc_read_field(&r, &last, &t, &id));
        CHECK(id == fid && t == TC_I32);
        CHECK_OK(tc_read_i32(&r, &g32));
        CHECK(g32 == v32);
        CHECK_OK(tc_read_field(&r, &last, &t, &id));
        CHECK(id == 7 && t == TC_I16);
        CHECK_OK(tc_read_i16(&r, &g16));
        CHECK(g16 == v16);
        CHECK_OK(tc_read_field(&r, &last, &t, &id));
        CHECK_OK(tc_read_double(&r, &gd));
        CHECK(memcmp(&gd, &dv, sizeof gd) == 0);
        CHECK_OK(tc_read_field(&r, &last, &t, &id));
        CHECK_OK(tc_read_binary(&r, &gp, &gn));
        CHECK_EQ_INT(gn, blen);
        CHECK(blen == 0 || memcmp(gp, blob, blen) == 0);
        CHECK_OK(tc_read_field(&r, &last, &t, &id));
        CHECK_EQ_INT(t, TC_STOP);
        CHECK_EQ_INT(tc_left(&r), 0);
        /* And the generic skipper agrees on the length. */
        tc_reader_init(&r, b.data, b.len);
        CHECK_OK(tc_skip(&r, TC_STRUCT));
        CHECK_EQ_INT(tc_left(&r), 0);
    }
    meru_buf_free(&b);
}

static void test_writer_reports_misuse(void)
{
    meru_buf b = {0};
    tc_writer w;
    tc_writer_init(&w, &b);
    tc_w_struct_begin(&w);
    CHECK_RC(tc_writer_finish(&w), MERU_EINTERNAL); /* left open */
    tc_writer_init(&w, &b);
    tc_w_struct_end(&w);
    CHECK_RC(tc_writer_finish(&w), MERU_EINTERNAL); /* unbalanced */
    tc_writer_init(&w, &b);
    tc_w_field_i32(&w, 1, 0);
    CHECK_RC(tc_writer_finish(&w), MERU_EINTERNAL); /* outside a struct */
    tc_writer_init(&w, &b);
    for (int i = 0; i < TC_MAX_DEPTH + 1; i++)
        tc_w_struct_begin(&w);
    CHECK_RC(tc_writer_finish(&w), MERU_EINTERNAL);
    meru_buf_free(&b);
}

int main(void)
{
    MERU_TEST_RUN(test_field_header_short_form_uses_delta);
    MERU_TEST_RUN(test_field_header_long_form_for_big_or_backward_ids);
    MERU_TEST_RUN(test_integers_are_zigzag_varints);
    MERU_TEST_RUN(test_binary_double_and_varint_spec_example);
    MERU_TEST_RUN(test_list_header_short_and_long_form);
    MERU_TEST_RUN(test_bool_list_accepts_both_element_tags);
    MERU_TEST_RUN(test_skip_handles_every_type_exactly);
    MERU_TEST_RUN(test_skip_depth_is_bounded);
    MERU_TEST_RUN(test_counts_and_lengths_checked_against_input);
    MERU_TEST_RUN(test_random_values_round_trip);
    MERU_TEST_RUN(test_writer_reports_misuse);
    return meru_test_finish();
}
