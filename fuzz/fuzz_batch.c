/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_batch.c — libFuzzer target for the write-batch record iterator
 * (src/engine/batch.h) and the row value decoders (src/types/rowcodec.h).
 *
 * The input is iterated as a batch record; every put entry is decoded
 * under three fixed schemas both by the copying and the zero-copy decoder.
 * Oracles: only MERU_OK / MERU_NOT_FOUND / MERU_ECORRUPT come back; the two
 * decoders agree; sequence numbers are contiguous; a decode that succeeds
 * with the schema's full column count re-encodes to exactly the value
 * bytes, and its key re-encodes to the key.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/batch.h"
#include "types/keycodec.h"
#include "types/row.h"
#include "types/rowcodec.h"
#include "util/varint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSCHEMA 3
static meru_schema *schemas[NSCHEMA];
static meru_row *rows[NSCHEMA];
static meru_buf scratch, re;

static void init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    static const char *const cols[NSCHEMA] = {
        "id int64 not null, b boolean, i int32, l int64, f float, d double, "
        "s string, bin binary, fx fixed(4), dt date, ts timestamp, "
        "tz timestamptz, dec decimal(10,2)",
        "k string not null, n int32 not null, v binary, w int64 default 5",
        "a binary not null, x double"};
    static const char *const keys[NSCHEMA] = {"id", "k, n", "a"};
    for (int i = 0; i < NSCHEMA; i++)
        if (meru_schema_parse(&schemas[i], "fuzz", cols[i], keys[i]) ||
            meru_row_new(&rows[i], schemas[i]))
            abort();
}

static uint8_t *copy(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (!c)
        abort();
    if (n)
        memcpy(c, p, n);
    return c;
}

static void check_value(int si, const uint8_t *key, size_t klen,
                        const uint8_t *val, size_t vlen)
{
    const meru_schema *s = schemas[si];
    meru_row *row = rows[si];
    meru_value view[16];
    meru_buf_reset(&scratch);
    int rc1 = meru_row_decode(s, key, klen, val, vlen, row);
    int rc2 = meru_row_decode_view(s, key, klen, val, vlen, NULL, view,
                                   &scratch);
    if (rc1 != rc2 || (rc1 != MERU_OK && rc1 != MERU_ECORRUPT))
        abort();
    if (rc1)
        return;
    uint64_t nw;
    if (meru_varint_get64(val + 1, vlen - 1, &nw) == 0)
        abort();
    meru_buf_reset(&re);
    if (meru_key_encode_row(s, row, &re) != MERU_OK || re.len != klen ||
        memcmp(re.data, key, klen) != 0)
        abort();
    if (nw == s->ncols) { /* else trailing columns took initial defaults */
        meru_buf_reset(&re);
        if (meru_row_encode(s, row, &re) != MERU_OK || re.len != vlen ||
            memcmp(re.data, val, vlen) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    uint8_t *rec = copy(data, size);
    meru_batch_iter it;
    meru_batch_entry e;
    int rc = meru_batch_iter_init(&it, rec, size);
    uint64_t expect = it.first_seq;
    while (rc == MERU_OK) {
        rc = meru_batch_iter_next(&it, &e);
        if (rc != MERU_OK)
            break;
        if (e.seq != expect++ || e.seq > MERU_SEQ_MAX)
            abort();
        if (e.op != MERU_OP_PUT)
            continue;
        uint8_t *k = copy(e.key, e.klen), *v = copy(e.value, e.vlen);
        for (int i = 0; i < NSCHEMA; i++)
            check_value(i, k, e.klen, v, e.vlen);
        free(k);
        free(v);
    }
    if (rc != MERU_NOT_FOUND && rc != MERU_ECORRUPT)
        abort();
    /* The value alone, as a row value under each schema. */
    if (size > 1) {
        size_t kl = data[0] % size;
        uint8_t *k = copy(data + 1, kl), *v = copy(data + 1 + kl,
                                                   size - 1 - kl);
        for (int i = 0; i < NSCHEMA; i++)
            check_value(i, k, kl, v, size - 1 - kl);
        free(k);
        free(v);
    }
    free(rec);
    return 0;
}
