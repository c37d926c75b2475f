/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pq_writer_test.h — helpers shared by the Parquet writer tests
 * (test_pq_writer.c, test_pq_writer_meta.c): a file written into memory
 * and opened with the reader, and its column chunk metadata.
 *
 * Functions are static inline: each test program includes this once.
 */
#ifndef MERU_TESTS_PQ_WRITER_TEST_H
#define MERU_TESTS_PQ_WRITER_TEST_H

#include <string.h>

#include "parquet/pq.h"
#include "test_pq.h"
#include "util/buf.h"

typedef struct wfile {
    meru_buf buf;
    pq_mem mem;
    pq_source src;
    pq_reader *r;
} wfile;

static inline int write_file(wfile *f, const pq_column_spec *specs, uint32_t n,
                             const pq_writer_options *o, size_t rows,
                             const pq_column_data *cd)
{
    memset(f, 0, sizeof *f);
    int rc = meru_test_pq_write_buf(&f->buf, specs, n, o, rows, cd);
    if (rc)
        return rc;
    pq_source_mem(&f->src, &f->mem, f->buf.data, f->buf.len);
    return pq_reader_open(&f->r, &f->src, NULL);
}

static inline void wfile_free(wfile *f)
{
    pq_reader_close(f->r);
    meru_buf_free(&f->buf);
}

static inline const pq_column_meta *chunk(wfile *f, uint32_t rg, uint32_t col)
{
    return pq_reader_chunk(f->r, rg, col);
}

#endif
