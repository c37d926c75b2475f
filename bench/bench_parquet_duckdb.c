/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_parquet_duckdb.c — the Parquet codec against DuckDB, in one run.
 *
 * The table: N rows (1M by default) of k int64 (ascending with gaps, the
 * shape of an SST key), i int32, d double and s a 100-byte string, the
 * same generator as bench_parquet.c. This program:
 *  1. writes it to files with our row-tuned (L0: PLAIN, uncompressed, v1)
 *     and column-tuned (L1+: ZSTD level 3, v2, delta/BSS/dictionary)
 *     profiles, timing each write (to a file in the page cache, no fsync);
 *  2. runs bench/duckdb_parquet.mjs, which loads the same rows into DuckDB
 *     from our column-tuned file and times, with threads=1, DuckDB's
 *     `COPY t TO ... (FORMAT parquet, COMPRESSION zstd)` and its full scan
 *     `SELECT sum(k), sum(i), sum(d), sum(length(s))` of its file and ours;
 *  3. times our reader's full scan (every value of every column decoded and
 *     summed) of the same three files, and checks that our sums equal
 *     DuckDB's on each file;
 *  4. prints sizes, MB/s (raw row bytes: 8+4+8+100 per row) and rows/s,
 *     and the ratios the codec issue sets as goals: our column-tuned file
 *     no larger than DuckDB's, our scan at least as fast as DuckDB's
 *     single-threaded scan of the same file.
 * Every timing is the median of --reps runs (3).
 *
 * Usage: bench_parquet_duckdb [rows] [--quick] [--reps N] [--dir DIR]
 *        [--keep] [--no-duckdb]
 * --quick is 100k rows. Without node or tests/interop/node_modules the
 * DuckDB half is skipped with a message (this is a benchmark, not a test).
 * The script is found through $MERU_SOURCE_DIR, ./bench (make bench runs
 * from the repository root) or the binary's ../../bench.
 */
#include "bench_util.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "merutable.h"
#include "parquet/pq.h"
#include "util/error.h"

#define STR_LEN       100
#define RAW_ROW_BYTES (8 + 4 + 8 + STR_LEN)
#define MAX_REPS      15

typedef struct table {
    size_t n;
    int64_t *k;
    int32_t *i;
    double *d;
    pq_bytes *s;
    char *heap;
} table;

typedef struct sums {
    int64_t rows, k, i, slen;
    double d;
    /* footprint, from the footer: compressed column chunk bytes (pages)
     * per column, and bloom filter bytes */
    int64_t col_bytes[4], bloom_bytes;
} sums;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* bench_parquet.c's generator (xorshift64), so the figures compare. */
static int generate(table *t, size_t n)
{
    t->n = n;
    t->k = malloc(n * sizeof *t->k);
    t->i = malloc(n * sizeof *t->i);
    t->d = malloc(n * sizeof *t->d);
    t->s = malloc(n * sizeof *t->s);
    t->heap = malloc(n * STR_LEN);
    if (!t->k || !t->i || !t->d || !t->s || !t->heap)
        return MERU_ENOMEM;
    uint64_t x = 88172645463325252ull;
    for (size_t r = 0; r < n; r++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t->k[r] = (int64_t)r * 16 + (int64_t)(x % 16);
        t->i[r] = (int32_t)(x % 1000);
        t->d[r] = (double)(x % 1000000) / 100.0;
        char *p = t->heap + r * STR_LEN;
        for (int j = 0; j < STR_LEN; j++)
            p[j] = (char)('a' + (x >> (j % 60)) % 26);
        memcpy(p, "user-", 5);
        t->s[r] = (pq_bytes){(const uint8_t *)p, STR_LEN};
    }
    return MERU_OK;
}

static void table_free(table *t)
{
    free(t->k);
    free(t->i);
    free(t->d);
    free(t->s);
    free(t->heap);
}

static int write_file(const char *path, const pq_writer_options *o,
                      const table *t, uint64_t *size)
{
    pq_column_spec specs[4] = {
        {.name = "k", .type = PQ_INT64, .bloom_filter = true},
        {.name = "i", .type = PQ_INT32},
        {.name = "d", .type = PQ_DOUBLE},
        {.name = "s", .type = PQ_BYTE_ARRAY, .logical = {.kind = PQ_LT_STRING}},
    };
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return meru_err(MERU_EIO, "open %s: %s", path, strerror(errno));
    pq_sink sink;
    pq_sink_fd(&sink, fd);
    pq_writer *w;
    int rc = pq_writer_open(&w, &sink, specs, 4, o);
    const size_t batch = 4096; /* the engine flushes a memtable in batches */
    for (size_t at = 0; !rc && at < t->n; at += batch) {
        size_t k = t->n - at < batch ? t->n - at : batch;
        pq_column_data part[4] = {{t->k + at, NULL},
                                  {t->i + at, NULL},
                                  {t->d + at, NULL},
                                  {t->s + at, NULL}};
        rc = pq_writer_write(w, k, part);
    }
    if (!rc)
        rc = pq_writer_close(w, size);
    else
        pq_writer_abort(w);
    close(fd);
    return rc;
}

/* Full scan through pq.h: every value of the four columns decoded and
 * summed, as DuckDB's SELECT sum(...) does. */
static int scan_file(const char *path, sums *out)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return meru_err(MERU_EIO, "open %s: %s", path, strerror(errno));
    pq_source src;
    pq_reader *r = NULL;
    int rc = pq_source_fd(&src, fd);
    if (!rc)
        rc = pq_reader_open(&r, &src, NULL);
    int col[4] = {-1, -1, -1, -1};
    static const char *const names[4] = {"k", "i", "d", "s"};
    for (int c = 0; !rc && c < 4; c++)
        if ((col[c] = pq_reader_find_column(r, names[c])) < 0)
            rc = meru_err(MERU_ECORRUPT, "%s: no column %s", path, names[c]);
    uint64_t k = 0, i = 0; /* wrapping sums */
    for (uint32_t g = 0; !rc && g < pq_reader_num_row_groups(r); g++) {
        out->rows += pq_reader_row_group_rows(r, g);
        for (int c = 0; c < 4; c++) {
            const pq_column_meta *m = pq_reader_chunk(r, g, (uint32_t)col[c]);
            out->col_bytes[c] += m->total_compressed_size;
            if (m->has_bloom_filter_length)
                out->bloom_bytes += m->bloom_filter_length;
        }
        for (int c = 0; !rc && c < 4; c++) {
            pq_cursor *cur;
            rc = pq_cursor_open(r, g, (uint32_t)col[c], &cur);
            while (!rc) {
                pq_batch b;
                rc = pq_cursor_next(cur, 65536, &b);
                if (rc || b.n == 0)
                    break;
                if (c == 0) {
                    const int64_t *v = b.values;
                    for (size_t j = 0; j < b.n; j++)
                        k += (uint64_t)v[j];
                } else if (c == 1) {
                    const int32_t *v = b.values;
                    for (size_t j = 0; j < b.n; j++)
                        i += (uint64_t)(int64_t)v[j];
                } else if (c == 2) {
                    const double *v = b.values;
                    for (size_t j = 0; j < b.n; j++)
                        out->d += v[j];
                } else {
                    const pq_bytes *v = b.values;
                    for (size_t j = 0; j < b.n; j++)
                        out->slen += v[j].len;
                }
            }
            pq_cursor_close(cur);
        }
    }
    out->k = (int64_t)k;
    out->i = (int64_t)i;
    pq_reader_close(r);
    close(fd);
    return rc;
}

/* ------------------------------------------------------------- DuckDB */

typedef struct duck_scan {
    char file[64];
    double secs;
    sums s;
} duck_scan;

typedef struct duck_result {
    bool ok;
    char why[256];
    double write_secs;
    uint64_t size;
    duck_scan scans[4];
    int nscans;
} duck_result;

static void run_duckdb(const char *argv0, const char *dir, int reps,
                       duck_result *res)
{
    memset(res, 0, sizeof *res);
    char args[2048];
    snprintf(args, sizeof args, "'%s' --reps %d", dir, reps);
    FILE *p = bench_node_start(argv0, "duckdb_parquet.mjs", args, res->why,
                               sizeof res->why);
    if (!p)
        return;
    char line[512];
    bool wrote = false;
    while (fgets(line, sizeof line, p)) {
        duck_scan *sc = &res->scans[res->nscans];
        long long rows, k, i, slen;
        if (sscanf(line, "write %lf %llu", &res->write_secs,
                   (unsigned long long *)&res->size) == 2) {
            wrote = true;
        } else if (res->nscans < 4 &&
                   sscanf(line, "scan %63s %lf %lld %lld %lld %lf %lld",
                          sc->file, &sc->secs, &rows, &k, &i, &sc->s.d,
                          &slen) == 7) {
            sc->s.rows = rows;
            sc->s.k = k;
            sc->s.i = i;
            sc->s.slen = slen;
            res->nscans++;
        }
    }
    if (bench_node_finish(p, "duckdb_parquet.mjs", res->why, sizeof res->why))
        return;
    if (!wrote) {
        snprintf(res->why, sizeof res->why,
                 "bench/duckdb_parquet.mjs printed no write line");
        return;
    }
    res->ok = true;
}

static const duck_scan *duck_scan_of(const duck_result *d, const char *file)
{
    for (int i = 0; i < d->nscans; i++)
        if (!strcmp(d->scans[i].file, file))
            return &d->scans[i];
    return NULL;
}

static bool sums_equal(const sums *a, const sums *b)
{
    double tol = 1e-9 * fabs(a->d) + 1e-6;
    return a->rows == b->rows && a->k == b->k && a->i == b->i &&
           a->slen == b->slen && fabs(a->d - b->d) <= tol;
}

/* --------------------------------------------------------------- main */

static void rm_files(const char *dir)
{
    static const char *const names[] = {"row.parquet", "column.parquet",
                                        "duckdb.parquet"};
    char p[1100];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    size_t n = 1000000;
    int reps = 3;
    bool keep = false, duck = true;
    char dir[1024] = "";
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--quick"))
            n = 100000;
        else if (!strcmp(argv[a], "--reps") && a + 1 < argc)
            reps = atoi(argv[++a]);
        else if (!strcmp(argv[a], "--dir") && a + 1 < argc)
            snprintf(dir, sizeof dir, "%s", argv[++a]);
        else if (!strcmp(argv[a], "--keep"))
            keep = true;
        else if (!strcmp(argv[a], "--no-duckdb"))
            duck = false;
        else if (argv[a][0] >= '0' && argv[a][0] <= '9')
            n = (size_t)strtoull(argv[a], NULL, 10);
        else
            fprintf(stderr, "bench_parquet_duckdb: ignoring %s\n", argv[a]);
    }
    if (reps < 1 || reps > MAX_REPS)
        reps = 3;
    bool own_dir = !dir[0];
    if (own_dir) {
        snprintf(dir, sizeof dir, "%s/meru-bench-pq-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
    } else {
        mkdir(dir, 0755);
    }

    table t;
    if (generate(&t, n)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    double raw_mb = (double)n * RAW_ROW_BYTES / 1e6;

    /* 1. our writes */
    struct {
        const char *label, *file;
        uint64_t size;
        double write_secs, scan_secs;
        sums s;
    } ours[3] = {
        {"merutable row-tuned (L0)", "row.parquet", 0, 0, 0, {0}},
        {"merutable column-tuned (L1+)", "column.parquet", 0, 0, 0, {0}},
        {"duckdb (COPY, zstd)", "duckdb.parquet", 0, 0, 0, {0}}};
    int rc = 0;
    for (int f = 0; f < 2 && !rc; f++) {
        pq_writer_options o;
        if (f == 0)
            pq_writer_options_row(&o);
        else
            pq_writer_options_column(&o);
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, ours[f].file);
        double v[MAX_REPS];
        for (int r = 0; r < reps && !rc; r++) {
            double t0 = bench_now();
            rc = write_file(path, &o, &t, &ours[f].size);
            v[r] = bench_now() - t0;
        }
        if (!rc)
            ours[f].write_secs = median(v, reps);
    }
    table_free(&t);
    if (rc) {
        fprintf(stderr, "write: %s\n", meru_errmsg());
        return 1;
    }

    /* 2. DuckDB */
    duck_result dr;
    memset(&dr, 0, sizeof dr);
    if (duck)
        run_duckdb(argv[0], dir, reps, &dr);
    else
        snprintf(dr.why, sizeof dr.why, "--no-duckdb");
    if (dr.ok) {
        ours[2].size = dr.size;
        ours[2].write_secs = dr.write_secs;
    }

    /* 3. our scans */
    int nfiles = dr.ok ? 3 : 2;
    for (int f = 0; f < nfiles && !rc; f++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", dir, ours[f].file);
        double v[MAX_REPS];
        for (int r = 0; r < reps && !rc; r++) {
            double t0 = bench_now();
            rc = scan_file(path, &ours[f].s);
            v[r] = bench_now() - t0;
        }
        if (!rc)
            ours[f].scan_secs = median(v, reps);
    }
    if (rc) {
        fprintf(stderr, "scan: %s\n", meru_errmsg());
        return 1;
    }

    /* 4. report */
    printf("parquet vs duckdb: %zu rows (k int64, i int32, d double, s "
           "%d-byte string), %.1f MB raw, median of %d\n",
           n, STR_LEN, raw_mb, reps);
    if (!dr.ok)
        printf("  DuckDB comparison skipped: %s\n", dr.why);
    printf("  %-30s %9s %17s %17s %17s\n", "file", "size MiB",
           "write MB/s "
           "Mrow/s",
           "our scan MB/s Mr/s", "duckdb scan MB/s Mr/s");
    bool sums_ok = true;
    for (int f = 0; f < nfiles; f++) {
        const duck_scan *ds = dr.ok ? duck_scan_of(&dr, ours[f].file) : NULL;
        char wr[32], dsc[32];
        snprintf(wr, sizeof wr, "%8.1f %6.2f", raw_mb / ours[f].write_secs,
                 (double)n / ours[f].write_secs / 1e6);
        if (ds)
            snprintf(dsc, sizeof dsc, "%8.1f %6.2f", raw_mb / ds->secs,
                     (double)n / ds->secs / 1e6);
        else
            snprintf(dsc, sizeof dsc, "%15s", "-");
        printf("  %-30s %9.2f %17s %8.1f %6.2f %17s\n", ours[f].label,
               (double)ours[f].size / 1048576.0, wr, raw_mb / ours[f].scan_secs,
               (double)n / ours[f].scan_secs / 1e6, dsc);
        const int64_t *cb = ours[f].s.col_bytes;
        printf("      pages MiB: k %.2f i %.2f d %.2f s %.2f (sum %.2f); "
               "bloom filters %.2f MiB\n",
               (double)cb[0] / 1048576.0, (double)cb[1] / 1048576.0,
               (double)cb[2] / 1048576.0, (double)cb[3] / 1048576.0,
               (double)(cb[0] + cb[1] + cb[2] + cb[3]) / 1048576.0,
               (double)ours[f].s.bloom_bytes / 1048576.0);
        if (ours[f].s.rows != (int64_t)n ||
            (ds && !sums_equal(&ours[f].s, &ds->s))) {
            printf("  !! %s: sums differ (ours: rows %lld k %lld i %lld d "
                   "%.17g len %lld)\n",
                   ours[f].file, (long long)ours[f].s.rows,
                   (long long)ours[f].s.k, (long long)ours[f].s.i, ours[f].s.d,
                   (long long)ours[f].s.slen);
            sums_ok = false;
        }
    }
    if (dr.ok) {
        const duck_scan *dcol = duck_scan_of(&dr, "column.parquet");
        const duck_scan *dduck = duck_scan_of(&dr, "duckdb.parquet");
        const int64_t *a = ours[1].s.col_bytes, *b = ours[2].s.col_bytes;
        printf("  size: column-tuned / duckdb = %.3f for the files (goal <= "
               "1), %.3f for the column pages alone (no bloom filter, page "
               "index or footer)\n",
               (double)ours[1].size / (double)dr.size,
               (double)(a[0] + a[1] + a[2] + a[3]) /
                   (double)(b[0] + b[1] + b[2] + b[3]));
        if (dcol && dduck)
            printf("  scan speed, ours / duckdb (threads=1): on our column "
                   "file %.2fx, on duckdb's file %.2fx (goal >= 1)\n",
                   dcol->secs / ours[1].scan_secs,
                   dduck->secs / ours[2].scan_secs);
        printf("  write speed, column-tuned / duckdb: %.2fx; row-tuned / "
               "duckdb: %.2fx\n",
               dr.write_secs / ours[1].write_secs,
               dr.write_secs / ours[0].write_secs);
        printf("  sums of every scan agree with DuckDB's: %s\n",
               sums_ok ? "yes" : "NO");
    }
    if (!keep && own_dir)
        rm_files(dir);
    else
        printf("  files kept in %s\n", dir);
    return sums_ok ? 0 : 1;
}
