/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_parquet.c — Parquet writer and reader throughput: a table of
 * 1M rows (int64 key, int32, double, 100-byte string), written to memory
 * with the row-tuned and the column-tuned profile, then read back column
 * by column. Prints file size, MB/s (of raw row bytes) and rows/s.
 * Usage: bench_parquet [rows]. Not a test.
 */
#include "bench_util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "merutable.h"
#include "parquet/pq.h"

/* The output buffer, shared by the runs and faulted in before the first:
 * the writer's cost, not growing a 100 MiB buffer, is what is measured
 * (the engine's sink is a file). */
static meru_buf file;

static int run(const char *label, const pq_writer_options *o, size_t n,
               const pq_column_data *cd, double raw_mb)
{
    pq_column_spec specs[4] = {
        {.name = "key", .type = PQ_INT64, .bloom_filter = true},
        {.name = "i", .type = PQ_INT32},
        {.name = "d", .type = PQ_DOUBLE},
        {.name = "s", .type = PQ_BYTE_ARRAY, .logical = {.kind = PQ_LT_STRING}},
    };
    meru_buf_reset(&file);
    pq_sink sink;
    pq_sink_buf(&sink, &file);
    pq_writer *w;
    double t0 = bench_now();
    int rc = pq_writer_open(&w, &sink, specs, 4, o);
    const size_t batch = 4096;
    for (size_t at = 0; !rc && at < n; at += batch) {
        size_t k = n - at < batch ? n - at : batch;
        pq_column_data part[4];
        for (int c = 0; c < 4; c++) {
            size_t w8 = c == 0 || c == 2 ? 8 : c == 1 ? 4 : sizeof(pq_bytes);
            part[c].values = (const uint8_t *)cd[c].values + at * w8;
            part[c].valid = NULL;
        }
        rc = pq_writer_write(w, k, part);
    }
    if (!rc)
        rc = pq_writer_close(w, NULL);
    else
        pq_writer_abort(w);
    double t1 = bench_now();
    if (rc) {
        fprintf(stderr, "%s: write: %s\n", label, meru_errmsg());
        return rc;
    }
    /* BENCH_PARQUET_DUMP=dir keeps each file (to compare writers' output) */
    const char *dump = getenv("BENCH_PARQUET_DUMP");
    if (dump) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.parquet", dump, label);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(file.data, 1, file.len, f);
            fclose(f);
        }
    }
    pq_mem mem;
    pq_source src;
    pq_source_mem(&src, &mem, file.data, file.len);
    pq_reader *r;
    rc = pq_reader_open(&r, &src, NULL);
    size_t rows = 0;
    uint64_t check = 0;
    for (uint32_t g = 0; !rc && g < pq_reader_num_row_groups(r); g++)
        for (uint32_t c = 0; !rc && c < 4; c++) {
            pq_cursor *cur;
            rc = pq_cursor_open(r, g, c, &cur);
            while (!rc) {
                pq_batch b;
                rc = pq_cursor_next(cur, 4096, &b);
                if (rc || !b.n)
                    break;
                if (c == 0)
                    rows += b.n;
                check += ((const uint8_t *)b.values)[0];
            }
            pq_cursor_close(cur);
        }
    double t2 = bench_now();
    pq_reader_close(r);
    if (rc) {
        fprintf(stderr, "%s: read: %s\n", label, meru_errmsg());
        return rc;
    }
    printf("%-14s file %7.1f MiB  write %7.1f MB/s %6.2f Mrows/s  "
           "read %7.1f MB/s %6.2f Mrows/s  (%zu rows, check %llu)\n",
           label, (double)file.len / 1048576.0, raw_mb / (t1 - t0),
           (double)n / (t1 - t0) / 1e6, raw_mb / (t2 - t1),
           (double)rows / (t2 - t1) / 1e6, rows, (unsigned long long)check);
    return 0;
}

int main(int argc, char **argv)
{
    /* `make bench BENCH_ARGS=--quick` hands --quick to every bench. */
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    size_t n = quick      ? 20000
               : argc > 1 ? (size_t)strtoull(argv[1], NULL, 10)
                          : 1000000;
    int64_t *k = malloc(n * 8);
    int32_t *iv = malloc(n * 4);
    double *d = malloc(n * 8);
    pq_bytes *s = malloc(n * sizeof *s);
    char *heap = malloc(n * 100);
    if (!k || !iv || !d || !s || !heap)
        return 1;
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        k[i] = (int64_t)i * 16 + (int64_t)(x % 16);
        iv[i] = (int32_t)(x % 1000);
        d[i] = (double)(x % 1000000) / 100.0;
        char *p = heap + i * 100;
        for (int j = 0; j < 100; j++)
            p[j] = (char)('a' + (x >> (j % 60)) % 26);
        memcpy(p, "user-", 5);
        s[i] = (pq_bytes){(const uint8_t *)p, 100};
    }
    double raw_mb = (double)n * (8 + 4 + 8 + 100) / 1e6;
    pq_column_data cd[4] = {{k, NULL}, {iv, NULL}, {d, NULL}, {s, NULL}};
    if (meru_buf_reserve(&file, n * 140 + (1u << 20)))
        return 1;
    memset(file.data, 0, file.cap);
    pq_writer_options o;
    pq_writer_options_row(&o);
    int rc = run("row-tuned", &o, n, cd, raw_mb);
    pq_writer_options_column(&o);
    if (!rc)
        rc = run("column-tuned", &o, n, cd, raw_mb);
    o.codec = PQ_CODEC_UNCOMPRESSED;
    if (!rc)
        rc = run("column/none", &o, n, cd, raw_mb);
    free(k);
    free(iv);
    free(d);
    free(s);
    free(heap);
    meru_buf_free(&file);
    return rc ? 1 : 0;
}
