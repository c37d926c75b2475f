/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_pq.h — writing a Parquet file into memory for the parquet/ tests,
 * which then read it back with their own reader set-up.
 */
#ifndef MERU_TEST_PQ_H
#define MERU_TEST_PQ_H

#include "parquet/pq.h"

/* Writes nrows rows of `cd` (ncols columns of `specs`, options `o`, NULL =
 * defaults) as one Parquet file appended to `buf`; the writer's status (an
 * aborted writer on a failed write). */
static inline int meru_test_pq_write_buf(meru_buf *buf,
                                         const pq_column_spec *specs,
                                         uint32_t ncols,
                                         const pq_writer_options *o,
                                         size_t nrows,
                                         const pq_column_data *cd)
{
    pq_sink sink;
    pq_writer *w;
    pq_sink_buf(&sink, buf);
    int rc = pq_writer_open(&w, &sink, specs, ncols, o);
    if (rc)
        return rc;
    if ((rc = pq_writer_write(w, nrows, cd))) {
        pq_writer_abort(w);
        return rc;
    }
    return pq_writer_close(w, NULL);
}

#endif
