/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_parquet_meta.c — libFuzzer target for the Parquet metadata decoders.
 *
 * Every input goes to all five decoders, each with a fresh arena; none may
 * crash, read out of bounds or return anything but OK, MERU_ECORRUPT or (for
 * a bloom header naming an algorithm we do not support) MERU_ENOTSUP. When
 * the input decodes as FileMetaData, it is re-encoded and decoded again,
 * and the row count and schema must survive. Seeds (fuzz/corpus/
 * fuzz_parquet_meta/) are real footers from apache/parquet-testing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merutable.h"
#include "parquet/meta.h"
#include "util/arena.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rc(int rc, bool enotsup_ok)
{
    if (rc == MERU_OK || rc == MERU_ECORRUPT ||
        (enotsup_ok && rc == MERU_ENOTSUP))
        return;
    abort();
}

static void roundtrip(const pq_file_meta *m)
{
    meru_buf b = {0};
    int rc = pq_encode_file_meta(&b, m);
    /* EINVAL: a LogicalType member the decoder could not identify. */
    if (rc == MERU_EINVAL)
        goto out;
    if (rc != MERU_OK)
        abort();
    meru_arena *a;
    if (meru_arena_new(&a, 0))
        abort();
    pq_file_meta again;
    if (pq_decode_file_meta(b.data, b.len, a, &again) != MERU_OK)
        abort();
    if (again.num_rows != m->num_rows || again.n_schema != m->n_schema ||
        again.n_row_groups != m->n_row_groups)
        abort();
    for (uint32_t i = 0; i < m->n_schema; i++)
        if (strcmp(again.schema[i].name, m->schema[i].name) != 0)
            abort();
    meru_arena_free(a);
out:
    meru_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    meru_arena *a;
    size_t used;

    if (meru_arena_new(&a, 0))
        return 0;
    pq_file_meta m;
    int rc = pq_decode_file_meta(data, size, a, &m);
    check_rc(rc, false);
    if (rc == MERU_OK)
        roundtrip(&m);
    meru_arena_free(a);

    if (meru_arena_new(&a, 0))
        return 0;
    pq_page_header h;
    rc = pq_decode_page_header(data, size, a, &h, &used);
    check_rc(rc, false);
    if (rc == MERU_OK && used > size)
        abort();
    meru_arena_free(a);

    if (meru_arena_new(&a, 0))
        return 0;
    pq_column_index ci;
    check_rc(pq_decode_column_index(data, size, a, &ci), false);
    meru_arena_free(a);

    if (meru_arena_new(&a, 0))
        return 0;
    pq_offset_index oi;
    check_rc(pq_decode_offset_index(data, size, a, &oi), false);
    meru_arena_free(a);

    pq_bloom_filter_header bh;
    rc = pq_decode_bloom_header(data, size, &bh, &used);
    check_rc(rc, true);
    if (rc == MERU_OK && used > size)
        abort();
    return 0;
}
