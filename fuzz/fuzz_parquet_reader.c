/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_parquet_reader.c — libFuzzer target: the input is a whole Parquet
 * file (memory source). Opens it, reads every column of every row group in
 * odd batch sizes, seeks, decodes the pages the offset index names into
 * an array of their rows (pq_cursor_read_page, the page cache's path), and
 * walks the page index, page pruning, chunk statistics and bloom filter
 * paths. Any status is fine; crashes, hangs,
 * leaks and sanitizer reports are the bugs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "parquet/pq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each page the offset index names (the first 8) into an array of exactly
 * its rows, as the SST page cache reads it; byte arrays are refused. */
static void read_pages(pq_reader *r, uint32_t g, uint32_t c,
                       const pq_column_info *info, const pq_offset_index *oi,
                       int64_t rows)
{
    if (!oi)
        return;
    for (uint32_t p = 0; p < oi->n_pages && p < 8; p++) {
        int64_t first = oi->page_locations[p].first_row_index;
        int64_t end = p + 1 < oi->n_pages
                          ? oi->page_locations[p + 1].first_row_index
                          : rows;
        if (end <= first || end - first > (1 << 20))
            continue;
        size_t n = (size_t)(end - first);
        void *vals = malloc(n * pq_value_width(info->type) + 1);
        pq_cursor *cur;
        if (vals && !pq_cursor_open(r, g, c, &cur)) {
            pq_batch b;
            pq_cursor_read_page(cur, first, n, vals, &b);
            pq_cursor_next(cur, 2, &b);
            /* back into the page just read: loaded again, not served */
            if (!pq_cursor_seek(cur, end - 1))
                pq_cursor_next(cur, 1, &b);
            pq_cursor_close(cur);
        }
        free(vals);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pq_mem mem;
    pq_source src;
    pq_source_mem(&src, &mem, data, size);
    pq_reader *r;
    pq_reader_options o = {.skip_crc = size % 2 == 0};
    if (pq_reader_open(&r, &src, &o))
        return 0;
    static const uint8_t probe[16] = "0123456789abcdef";
    for (uint32_t g = 0; g < pq_reader_num_row_groups(r) && g < 64; g++) {
        int64_t rows = pq_reader_row_group_rows(r, g);
        for (uint32_t c = 0; c < pq_reader_num_columns(r) && c < 64; c++) {
            pq_cursor *cur;
            if (pq_cursor_open(r, g, c, &cur))
                continue;
            int64_t got = 0;
            for (int k = 0; k < 100000; k++) {
                pq_batch b;
                if (pq_cursor_next(cur, 1 + (size_t)(k % 300), &b) || !b.n)
                    break;
                got += (int64_t)b.n;
            }
            (void)got;
            pq_cursor_seek(cur, rows / 2);
            pq_batch b;
            pq_cursor_next(cur, 3, &b);
            pq_cursor_seek(cur, 0);
            pq_cursor_next(cur, 1, &b);
            pq_cursor_close(cur);

            const pq_column_index *ci;
            const pq_offset_index *oi;
            pq_reader_column_index(r, g, c, &ci);
            pq_reader_offset_index(r, g, c, &oi);
            const pq_column_info *info = pq_reader_column(r, c);
            read_pages(r, g, c, info, oi, rows);
            size_t len = info->type == PQ_INT32 || info->type == PQ_FLOAT    ? 4
                         : info->type == PQ_INT64 || info->type == PQ_DOUBLE ? 8
                         : info->type == PQ_INT96   ? 12
                         : info->type == PQ_BOOLEAN ? 1
                         : info->type == PQ_FIXED_LEN_BYTE_ARRAY &&
                                 info->type_length <= 16
                             ? (size_t)info->type_length
                             : 5;
            int64_t lo, hi;
            pq_reader_pages_for_value(r, g, c, probe, len, &lo, &hi);
            pq_reader_chunk_may_contain(r, g, c, probe, len);
            pq_bytes mn, mx;
            pq_reader_chunk_minmax(r, g, c, &mn, &mx);
            bool maybe;
            pq_reader_bloom_check(r, g, c, probe, len, &maybe);
        }
    }
    pq_reader_close(r);
    return 0;
}
