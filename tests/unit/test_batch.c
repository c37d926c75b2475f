/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_batch.c — the write batch: golden record layout, contiguous
 * sequence numbers, rejected adds leaving the batch intact, deletes by key
 * and by row, thousands of entries, and hostile records (count mismatch,
 * every truncation, byte flips, sequence overflow).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/batch.h"
#include "test.h"
#include "types/keycodec.h"
#include "types/rowcodec.h"

static meru_schema *schema(void)
{
    meru_schema *s = NULL;
    if (meru_schema_parse(&s, "t",
                          "id int64 not null, name string not null, v double",
                          "id") != MERU_OK)
        return NULL;
    return s;
}

static int fill(meru_row *r, int64_t id, const char *name)
{
    meru_row_clear(r);
    if (meru_row_set_int64(r, 0, id))
        return -1;
    if (name && meru_row_set_string(r, 1, name, strlen(name)))
        return -1;
    return meru_row_set_double(r, 2, (double)id / 2);
}

static void test_golden_record_layout(void)
{
    meru_schema *s = schema();
    CHECK(s);
    meru_batch b;
    meru_batch_init(&b);
    size_t len;
    const uint8_t *rec = meru_batch_data(&b, &len);
    static const uint8_t empty[] = {0xB1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK_EQ_INT(len, sizeof empty);
    CHECK_MEM(rec, empty, sizeof empty);
    CHECK_EQ_INT(meru_batch_byte_size(&b), sizeof empty);

    static const uint8_t key[] = {0x80, 0, 0, 0, 0, 0, 0, 5};
    CHECK_OK(meru_batch_add_raw(&b, MERU_OP_PUT, key, 8,
                                (const uint8_t *)"vv", 2));
    CHECK_OK(meru_batch_add_raw(&b, MERU_OP_DELETE, key, 8, NULL, 0));
    CHECK_OK(meru_batch_set_sequence(&b, 0x0102));
    rec = meru_batch_data(&b, &len);
    static const uint8_t want[] = {
        0xB1, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 2,                /* header */
        1,    8,    0x80, 0, 0, 0, 0, 0, 0, 5, 2, 'v', 'v', /* put */
        0,    8,    0x80, 0, 0, 0, 0, 0, 0, 5};               /* delete */
    CHECK_EQ_INT(len, sizeof want);
    CHECK_MEM(rec, want, sizeof want);
    CHECK_EQ_INT(meru_batch_byte_size(&b), sizeof want);
    meru_batch_free(&b);
    meru_schema_free(s);
}

static void test_puts_and_deletes_iterate_with_contiguous_seqs(void)
{
    meru_schema *s = schema();
    CHECK(s);
    meru_row *r, *back;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_new(&back, s));
    meru_batch b;
    meru_batch_init(&b);
    int n = (int)(3000 * meru_test_scale()) + 10;
    char name[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "n%d", i);
        CHECK_OK(fill(r, i, name));
        if (i % 3 == 2)
            CHECK_OK(meru_batch_delete_row(&b, s, r));
        else
            CHECK_OK(meru_batch_put(&b, s, r));
    }
    CHECK_EQ_INT(meru_batch_count(&b), n);
    CHECK_OK(meru_batch_set_sequence(&b, 1000));
    size_t len;
    const uint8_t *rec = meru_batch_data(&b, &len);
    CHECK_EQ_INT(len, meru_batch_byte_size(&b));
    uint32_t cnt;
    uint64_t first;
    CHECK_OK(meru_batch_check(rec, len, &cnt, &first));
    CHECK_EQ_INT(cnt, n);
    CHECK_EQ_U64(first, 1000);

    meru_batch_iter it;
    meru_batch_entry e;
    meru_buf kb = {0};
    CHECK_OK(meru_batch_iter_init(&it, rec, len));
    for (int i = 0; i < n; i++) {
        CHECK_OK(meru_batch_iter_next(&it, &e));
        CHECK_EQ_U64(e.seq, 1000 + (uint64_t)i);
        CHECK_EQ_INT(e.op, i % 3 == 2 ? MERU_OP_DELETE : MERU_OP_PUT);
        snprintf(name, sizeof name, "n%d", i);
        CHECK_OK(fill(r, i, name));
        meru_buf_reset(&kb);
        CHECK_OK(meru_key_encode_row(s, r, &kb));
        CHECK_EQ_INT(e.klen, kb.len);
        CHECK_MEM(e.key, kb.data, kb.len);
        if (e.op == MERU_OP_PUT) {
            CHECK_OK(meru_row_decode(s, e.key, e.klen, e.value, e.vlen, back));
            const char *str;
            size_t sl;
            int64_t id;
            CHECK_OK(meru_row_get_int64(back, 0, &id));
            CHECK_EQ_INT(id, i);
            CHECK_OK(meru_row_get_string(back, 1, &str, &sl));
            CHECK_EQ_INT(sl, strlen(name));
            CHECK_MEM(str, name, sl);
        } else {
            CHECK(e.value == NULL && e.vlen == 0);
        }
    }
    CHECK_RC(meru_batch_iter_next(&it, &e), MERU_NOT_FOUND);
    CHECK_RC(meru_batch_iter_next(&it, &e), MERU_NOT_FOUND);

    /* Clear keeps nothing but the buffers. */
    meru_batch_clear(&b);
    CHECK_EQ_INT(meru_batch_count(&b), 0);
    CHECK_EQ_INT(meru_batch_byte_size(&b), 10);
    rec = meru_batch_data(&b, &len);
    CHECK_OK(meru_batch_check(rec, len, &cnt, NULL));
    CHECK_EQ_INT(cnt, 0);
    meru_buf_free(&kb);
    meru_batch_free(&b);
    meru_row_free(r);
    meru_row_free(back);
    meru_schema_free(s);
}

static void test_rejected_add_leaves_batch_intact(void)
{
    meru_schema *s = schema();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    meru_batch b;
    meru_batch_init(&b);
    CHECK_OK(fill(r, 1, "one"));
    CHECK_OK(meru_batch_put(&b, s, r));
    size_t len0;
    const uint8_t *rec = meru_batch_data(&b, &len0);
    uint8_t *before = malloc(len0);
    CHECK(before);
    memcpy(before, rec, len0);

    CHECK_OK(fill(r, 2, NULL)); /* name is NOT NULL and unset */
    CHECK_RC(meru_batch_put(&b, s, r), MERU_EINVAL);
    CHECK_OK(meru_row_set_string(r, 1, "\xff", 1)); /* bad UTF-8 */
    CHECK_RC(meru_batch_put(&b, s, r), MERU_EINVAL);
    meru_row_clear(r); /* no key */
    CHECK(meru_batch_delete_row(&b, s, r) != MERU_OK);
    CHECK_RC(meru_batch_delete_key(&b, s, (const uint8_t *)"abc", 3),
             MERU_EINVAL);
    CHECK_RC(meru_batch_add_raw(&b, 7, (const uint8_t *)"k", 1, NULL, 0),
             MERU_EINVAL);
    CHECK_RC(meru_batch_add_raw(&b, MERU_OP_PUT, NULL, 0, NULL, 0),
             MERU_EINVAL);

    CHECK_EQ_INT(meru_batch_count(&b), 1);
    size_t len;
    rec = meru_batch_data(&b, &len);
    CHECK_EQ_INT(len, len0);
    CHECK_MEM(rec, before, len0);
    free(before);
    meru_batch_free(&b);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_delete_by_encoded_key(void)
{
    meru_schema *s = schema();
    CHECK(s);
    meru_row *r;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(fill(r, -9, "x"));
    meru_buf kb = {0};
    CHECK_OK(meru_key_encode_row(s, r, &kb));
    meru_batch b;
    meru_batch_init(&b);
    CHECK_OK(meru_batch_delete_key(&b, s, kb.data, kb.len));
    CHECK_RC(meru_batch_delete_key(&b, s, kb.data, kb.len - 1), MERU_EINVAL);
    CHECK_OK(meru_batch_set_sequence(&b, MERU_SEQ_MAX));
    size_t len;
    const uint8_t *rec = meru_batch_data(&b, &len);
    meru_batch_iter it;
    meru_batch_entry e;
    CHECK_OK(meru_batch_iter_init(&it, rec, len));
    CHECK_OK(meru_batch_iter_next(&it, &e));
    CHECK_EQ_INT(e.op, MERU_OP_DELETE);
    CHECK_EQ_U64(e.seq, MERU_SEQ_MAX);
    CHECK_EQ_INT(e.klen, kb.len);
    CHECK_MEM(e.key, kb.data, kb.len);
    CHECK_RC(meru_batch_iter_next(&it, &e), MERU_NOT_FOUND);
    meru_buf_free(&kb);
    meru_batch_free(&b);
    meru_row_free(r);
    meru_schema_free(s);
}

static void test_sequence_overflow_is_rejected(void)
{
    meru_batch b;
    meru_batch_init(&b);
    CHECK_OK(meru_batch_add_raw(&b, MERU_OP_DELETE, (const uint8_t *)"a", 1,
                                NULL, 0));
    CHECK_OK(meru_batch_add_raw(&b, MERU_OP_DELETE, (const uint8_t *)"b", 1,
                                NULL, 0));
    CHECK_RC(meru_batch_set_sequence(&b, MERU_SEQ_MAX), MERU_ERANGE);
    CHECK_RC(meru_batch_set_sequence(&b, MERU_SEQ_MAX + 1), MERU_ERANGE);
    CHECK_OK(meru_batch_set_sequence(&b, MERU_SEQ_MAX - 1));
    size_t len;
    const uint8_t *rec = meru_batch_data(&b, &len);
    CHECK_OK(meru_batch_check(rec, len, NULL, NULL));
    /* Hand-forge a first seq at the limit: two entries overflow. */
    uint8_t *copy = malloc(len);
    CHECK(copy);
    memcpy(copy, rec, len);
    copy[1]++; /* MERU_SEQ_MAX */
    meru_batch_iter it;
    CHECK_RC(meru_batch_iter_init(&it, copy, len), MERU_ECORRUPT);
    CHECK_ERRMSG("sequence");
    free(copy);
    meru_batch_free(&b);
}

static void test_count_mismatch_is_corruption(void)
{
    meru_batch b;
    meru_batch_init(&b);
    for (int i = 0; i < 5; i++)
        CHECK_OK(meru_batch_add_raw(&b, MERU_OP_PUT, (const uint8_t *)"key",
                                    3, (const uint8_t *)"value", 5));
    size_t len;
    const uint8_t *rec = meru_batch_data(&b, &len);
    uint8_t *copy = malloc(len);
    CHECK(copy);
    memcpy(copy, rec, len);
    copy[9] = 4; /* fewer than the entries: bytes left over */
    CHECK_RC(meru_batch_check(copy, len, NULL, NULL), MERU_ECORRUPT);
    CHECK_ERRMSG("after the 4 entries");
    copy[9] = 6; /* more than the entries: ends early */
    CHECK_RC(meru_batch_check(copy, len, NULL, NULL), MERU_ECORRUPT);
    CHECK_ERRMSG("entry 5");
    copy[9] = 0x7f; /* cannot fit at all */
    meru_batch_iter it;
    CHECK_RC(meru_batch_iter_init(&it, copy, len), MERU_ECORRUPT);
    copy[9] = 5;
    copy[0] = 0xB2; /* bad magic */
    CHECK_RC(meru_batch_iter_init(&it, copy, len), MERU_ECORRUPT);
    free(copy);
    meru_batch_free(&b);
}

static void test_truncations_and_flips_never_crash(void)
{
    meru_schema *s = schema();
    CHECK(s);
    meru_row *r, *back;
    CHECK_OK(meru_row_new(&r, s));
    CHECK_OK(meru_row_new(&back, s));
    meru_batch b;
    meru_batch_init(&b);
    for (int i = 0; i < 20; i++) {
        CHECK_OK(fill(r, i * 1000003, i % 2 ? "a\0b" : "hello"));
        if (i % 4 == 3)
            CHECK_OK(meru_batch_delete_row(&b, s, r));
        else
            CHECK_OK(meru_batch_put(&b, s, r));
    }
    CHECK_OK(meru_batch_set_sequence(&b, 42));
    size_t len;
    const uint8_t *rec = meru_batch_data(&b, &len);
    /* Every proper prefix is corrupt. */
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        CHECK(cut);
        memcpy(cut, rec, n);
        int rc = meru_batch_check(cut, n, NULL, NULL);
        free(cut);
        CHECK_MSG(rc == MERU_ECORRUPT, "prefix %zu: rc %d", n, rc);
    }
    uint8_t *copy = malloc(len);
    CHECK(copy);
    int iters = (int)(3000 * meru_test_scale()) + 1;
    for (int it = 0; it < iters; it++) {
        memcpy(copy, rec, len);
        int flips = 1 + (int)(meru_test_rand() % 4);
        for (int f = 0; f < flips; f++)
            copy[meru_test_rand() % len] ^=
                (uint8_t)(1 + meru_test_rand() % 255);
        meru_batch_iter bi;
        meru_batch_entry e;
        int rc = meru_batch_iter_init(&bi, copy, len);
        while (rc == MERU_OK) {
            rc = meru_batch_iter_next(&bi, &e);
            if (rc == MERU_OK && e.op == MERU_OP_PUT) {
                int drc = meru_row_decode(s, e.key, e.klen, e.value, e.vlen,
                                          back);
                CHECK_MSG(drc == MERU_OK || drc == MERU_ECORRUPT,
                          "decode rc %d: %s", drc, meru_errmsg());
            }
        }
        CHECK_MSG(rc == MERU_NOT_FOUND || rc == MERU_ECORRUPT, "rc %d", rc);
    }
    free(copy);
    meru_batch_free(&b);
    meru_row_free(r);
    meru_row_free(back);
    meru_schema_free(s);
}

static void test_append_concatenates_entries(void)
{
    meru_batch a, b;
    meru_batch_init(&a);
    meru_batch_init(&b);
    CHECK_OK(meru_batch_append(&a, &b)); /* both empty */
    CHECK_EQ_INT(meru_batch_count(&a), 0);
    CHECK_OK(meru_batch_add_raw(&b, MERU_OP_PUT, (const uint8_t *)"k1", 2,
                                (const uint8_t *)"v1", 2));
    CHECK_OK(meru_batch_add_raw(&b, MERU_OP_DELETE, (const uint8_t *)"k2", 2,
                                NULL, 0));
    CHECK_OK(meru_batch_append(&a, &b)); /* into an empty batch */
    CHECK_OK(meru_batch_append(&a, &b));
    CHECK_EQ_INT(meru_batch_count(&a), 4);
    CHECK_OK(meru_batch_set_sequence(&a, 7));
    size_t len;
    const uint8_t *rec = meru_batch_data(&a, &len);
    CHECK_EQ_INT(len, meru_batch_byte_size(&a));
    meru_batch_iter it;
    meru_batch_entry e;
    CHECK_OK(meru_batch_iter_init(&it, rec, len));
    for (int i = 0; i < 4; i++) {
        CHECK_OK(meru_batch_iter_next(&it, &e));
        CHECK_EQ_U64(e.seq, 7 + (uint64_t)i);
        CHECK_EQ_INT(e.op, i % 2 ? MERU_OP_DELETE : MERU_OP_PUT);
        CHECK_MEM(e.key, i % 2 ? "k2" : "k1", 2);
    }
    CHECK_RC(meru_batch_iter_next(&it, &e), MERU_NOT_FOUND);
    CHECK_RC(meru_batch_append(&a, &a), MERU_EINVAL);
    meru_batch_free(&a);
    meru_batch_free(&b);
}

int main(void)
{
    MERU_TEST_RUN(test_golden_record_layout);
    MERU_TEST_RUN(test_puts_and_deletes_iterate_with_contiguous_seqs);
    MERU_TEST_RUN(test_rejected_add_leaves_batch_intact);
    MERU_TEST_RUN(test_delete_by_encoded_key);
    MERU_TEST_RUN(test_sequence_overflow_is_rejected);
    MERU_TEST_RUN(test_count_mismatch_is_corruption);
    MERU_TEST_RUN(test_truncations_and_flips_never_crash);
    MERU_TEST_RUN(test_append_concatenates_entries);
    return meru_test_finish();
}
