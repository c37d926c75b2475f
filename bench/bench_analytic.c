/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_analytic.c — the analytical check of the benchmark suite: DuckDB
 * running an aggregate over merutable's L1+ Parquet files versus over
 * DuckDB's own Parquet export of the same rows.
 *
 * Through the public API only (include/merutable.h) this program:
 *  1. creates a table (id int64 key, region string of 12 values, score
 *     double with 2 decimals, payload a ~100-byte string) and loads N rows
 *     (1M by default, --quick 100k) with random distinct keys in batches
 *     of 1000; flushes; then overwrites 20 % and deletes 10 % of the rows
 *     (random picks, in mixed batches), so old versions and tombstones
 *     exist; then meru_compact, after which meru_stats must show L0 empty
 *     and as many stored rows as live keys. A model of its own (region,
 *     score in integer cents, alive per key) gives the expected answer;
 *  2. names the live data files by the table metadata version the closed
 *     table reports (meru_stats metadata_version -> metadata/v<N>.metadata
 *     .json, whose engine section lists the files): the data directory may
 *     hold replaced files awaiting GC, so it is never globbed;
 *  3. runs bench/duckdb_analytic.mjs on that metadata file: DuckDB exports
 *     the user columns with COPY ... (FORMAT parquet, COMPRESSION zstd) and
 *     times `SELECT region, sum(score), count(*) ... GROUP BY region` and
 *     `SELECT sum(score)` on both sources, threads=1 and DuckDB's default,
 *     one warm-up and the median of --reps (3) runs;
 *  4. checks every answer DuckDB gave (file list against meru_stats; per
 *     region count and sum, the sum also to the cent through an untimed
 *     exact query; sum(score); on both sources) against the model and
 *     prints markdown tables: sizes, times, ours / DuckDB ratios, layout.
 * Exit status: 0 (also when node or tests/interop/node_modules is missing:
 * the DuckDB half is then skipped with a message), 1 when an answer
 * disagrees or the engine fails, 2 on a usage error.
 *
 * Usage: bench_analytic [--rows N | N] [--quick] [--reps N] [--dir DIR]
 *        [--keep] [--no-duckdb] [--row-group-mib N] [--page-kib N]
 *        [--page-rows N] [--string-page-kib N] [--number-page-kib N]
 * --row-group-mib, --page-kib, --page-rows, --string-page-kib and
 * --number-page-kib set the table's L1+ row group and page sizes
 * (meru_options row_group_bytes, page_bytes, page_rows, string_page_bytes
 * and number_page_bytes), to see how DuckDB's parallelism (it splits a scan by row
 * group) and its per-page costs depend on them.
 */
#include "bench_util.h"
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "merutable.h"

#define PAYLOAD_LEN 100
#define BATCH       1000
#define MAX_REPS    15
#define NREGIONS    12
#define MAX_COLS    8 /* 4 user columns and the engine's hidden ones */

enum { C_ID, C_REGION, C_SCORE, C_PAYLOAD };

/* Sorted (byte order), as DuckDB's ORDER BY region returns them. */
static const char *const regions[NREGIONS] = {
    "af-south",   "ap-east",  "ap-south", "ca-central",
    "eu-central", "eu-north", "eu-west",  "me-central",
    "sa-east",    "us-east",  "us-gov",   "us-west"};

/* What the table should hold, per slot (one distinct key per slot). */
typedef struct model {
    size_t n;
    uint8_t *region;
    int32_t *cents; /* score * 100, exact */
    bool *alive;
} model;

typedef struct bench {
    meru_db *db;
    meru_write_batch *wb;
    meru_row *row;
    uint64_t rng;
    char payload[PAYLOAD_LEN + 1];
} bench;

static int die(const char *what, int rc)
{
    fprintf(stderr, "bench_analytic: %s: %s (%s)\n", what, meru_strerror(rc),
            meru_errmsg());
    return 1;
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* splitmix64's finaliser: a bijection of uint64, so distinct slots get
 * distinct keys spread over the whole key space. */
static int64_t slot_key(uint64_t slot)
{
    uint64_t z = slot + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (int64_t)(z ^ (z >> 31));
}

/* Sets slot `s` to fresh random values (model and row) and adds the put. */
static int put_slot(bench *b, model *m, size_t s)
{
    uint64_t x = xorshift(&b->rng);
    m->region[s] = (uint8_t)(x % NREGIONS);
    m->cents[s] = (int32_t)((x >> 8) % 10000000); /* 0.00 .. 99999.99 */
    m->alive[s] = true;
    snprintf(b->payload, sizeof b->payload, "p-%016" PRIx64 "-", x);
    for (size_t j = 19; j < PAYLOAD_LEN; j++)
        b->payload[j] = (char)('a' + (x >> (j % 58)) % 26);
    b->payload[PAYLOAD_LEN] = '\0';
    const char *r = regions[m->region[s]];
    int rc = meru_row_set_int64(b->row, C_ID, slot_key(s));
    if (!rc)
        rc = meru_row_set_string(b->row, C_REGION, r, strlen(r));
    if (!rc)
        rc = meru_row_set_double(b->row, C_SCORE, m->cents[s] / 100.0);
    if (!rc)
        rc = meru_row_set_string(b->row, C_PAYLOAD, b->payload, PAYLOAD_LEN);
    if (!rc)
        rc = meru_write_batch_put(b->wb, b->row);
    return rc;
}

static int delete_slot(bench *b, model *m, size_t s)
{
    m->alive[s] = false;
    meru_row_clear(b->row);
    int rc = meru_row_set_int64(b->row, C_ID, slot_key(s));
    if (!rc)
        rc = meru_write_batch_delete(b->wb, b->row);
    return rc;
}

static int flush_batch(bench *b)
{
    int rc = meru_write(b->db, b->wb, NULL);
    meru_write_batch_clear(b->wb);
    return rc;
}

/* ------------------------------------------------------------- DuckDB */

typedef struct timing {
    double med, lo, hi;
    bool set;
} timing;

typedef struct group_res {
    int64_t count, cents, cents_count;
    double sum;
    bool seen, cents_seen;
} group_res;

typedef struct duck_res {
    bool ok, failed; /* failed: the script ran and failed (not a skip) */
    char why[512];
    int threads;
    uint64_t files, bytes, rows;
    double export_secs;
    uint64_t export_bytes;
    /* [src: 0 ours, 1 duckdb] */
    uint64_t l_files[2], l_rgs[2], l_rows[2], l_bytes[2];
    struct {
        char name[64], enc[128];
        uint64_t comp, uncomp;
    } col[2][MAX_COLS]; /* [src][column in file order] */
    int ncol[2];
    timing t[2][2][2]; /* [query: group, sum][threads: 1, default][src] */
    double cpu[2][2][2]; /* median process CPU seconds, same indexes */
    group_res g[2][NREGIONS];
    double total[2];
    bool total_seen[2];
    char bad[512]; /* a line that named an unknown group or broke order */
} duck_res;

static int src_index(const char *s)
{
    return !strcmp(s, "ours") ? 0 : !strcmp(s, "duckdb") ? 1 : -1;
}

static int region_index(const char *s)
{
    for (int i = 0; i < NREGIONS; i++)
        if (!strcmp(s, regions[i]))
            return i;
    return -1;
}

static void parse_line(duck_res *d, const char *line, int last_group[2])
{
    char a[64], b[64], enc[128];
    unsigned long long u1, u2, u3, u4;
    double x, y, z;
    int th;
    long long cnt, cents;
    if (sscanf(line, "threads %d", &d->threads) == 1)
        return;
    if (sscanf(line, "files %llu %llu %llu", &u1, &u2, &u3) == 3) {
        d->files = u1, d->bytes = u2, d->rows = u3;
    } else if (sscanf(line, "export %lf %llu", &x, &u1) == 2) {
        d->export_secs = x, d->export_bytes = u1;
    } else if (sscanf(line, "layout %63s %llu %llu %llu %llu", a, &u1, &u2, &u3,
                      &u4) == 5) {
        int s = src_index(a);
        if (s >= 0)
            d->l_files[s] = u1, d->l_rgs[s] = u2, d->l_rows[s] = u3,
            d->l_bytes[s] = u4;
    } else if (sscanf(line, "column %63s %63s %llu %llu %127s", a, b, &u1, &u2,
                      enc) == 5) {
        int s = src_index(a);
        if (s >= 0 && d->ncol[s] < MAX_COLS) {
            int c = d->ncol[s]++;
            snprintf(d->col[s][c].name, sizeof d->col[s][c].name, "%s", b);
            snprintf(d->col[s][c].enc, sizeof d->col[s][c].enc, "%s", enc);
            d->col[s][c].comp = u1, d->col[s][c].uncomp = u2;
        }
    } else if (sscanf(line, "time %63s %63s %d %lf %lf %lf", a, b, &th, &x, &y,
                      &z) == 6) {
        int q = !strcmp(a, "sum"), s = src_index(b), t = th != 1;
        if (s >= 0)
            d->t[q][t][s] = (timing){x, y, z, true};
    } else if (sscanf(line, "cpu %63s %63s %d %lf", a, b, &th, &x) == 4) {
        int q = !strcmp(a, "sum"), s = src_index(b), t = th != 1;
        if (s >= 0)
            d->cpu[q][t][s] = x;
    } else if (sscanf(line, "group %63s %63s %lld %lf", a, b, &cnt, &x) == 4) {
        int s = src_index(a), r = region_index(b);
        if (s < 0 || r < 0 || r <= last_group[s] || d->g[s][r].seen) {
            snprintf(d->bad, sizeof d->bad,
                     "unexpected or out of order: %.400s", line);
            return;
        }
        last_group[s] = r;
        d->g[s][r].count = cnt;
        d->g[s][r].sum = x;
        d->g[s][r].seen = true;
    } else if (sscanf(line, "cents %63s %63s %lld %lld", a, b, &cnt, &cents) ==
               4) {
        int s = src_index(a), r = region_index(b);
        if (s < 0 || r < 0 || d->g[s][r].cents_seen) {
            snprintf(d->bad, sizeof d->bad, "unexpected: %.400s", line);
            return;
        }
        d->g[s][r].cents_count = cnt;
        d->g[s][r].cents = cents;
        d->g[s][r].cents_seen = true;
    } else if (sscanf(line, "total %63s %lf", a, &x) == 2) {
        int s = src_index(a);
        if (s >= 0)
            d->total[s] = x, d->total_seen[s] = true;
    }
}

static void run_duckdb(const char *argv0, const char *meta, const char *dir,
                       int reps, duck_res *d)
{
    memset(d, 0, sizeof *d);
    char args[4096];
    snprintf(args, sizeof args, "'%s' '%s' --reps %d", meta, dir, reps);
    FILE *p = bench_node_start(argv0, "duckdb_analytic.mjs", args, d->why,
                               sizeof d->why);
    if (!p)
        return;
    char line[1024];
    int last_group[2] = {-1, -1};
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        parse_line(d, line, last_group);
    }
    int st = bench_node_finish(p, "duckdb_analytic.mjs", d->why, sizeof d->why);
    d->ok = st == 0;
    d->failed = st < 0;
}

/* A sum of doubles of 2 decimals against the exact sum in cents: DuckDB's
 * sum(DOUBLE) adds in its own order, so its rounding may reach a cent on
 * large groups; the relative bound still catches a wrong or missing row
 * unless its score is tiny, and the exact "cents" query checks those. */
static bool sum_matches(double got, int64_t cents)
{
    double want = (double)cents / 100.0;
    return fabs(got - want) <= 1e-12 * fabs(want) + 0.005;
}

/* Checks DuckDB's answers against the model and meru_stats; prints each
 * disagreement. True when all agree. */
static bool check(const duck_res *d, const model *m, const meru_stats *st)
{
    int64_t cnt[NREGIONS] = {0}, cents[NREGIONS] = {0}, live = 0, all = 0;
    for (size_t s = 0; s < m->n; s++)
        if (m->alive[s]) {
            cnt[m->region[s]]++;
            cents[m->region[s]] += m->cents[s];
            live++;
            all += m->cents[s];
        }
    bool ok = true;
    if (d->bad[0]) {
        printf("  !! DuckDB printed a group %s\n", d->bad);
        ok = false;
    }
    if (d->files != st->total_files || d->bytes != st->total_bytes ||
        d->rows != (uint64_t)live) {
        printf("  !! live files per metadata: %llu files, %llu bytes, %llu "
               "rows; meru_stats: %llu files, %llu bytes; model: %lld live "
               "rows\n",
               (unsigned long long)d->files, (unsigned long long)d->bytes,
               (unsigned long long)d->rows, (unsigned long long)st->total_files,
               (unsigned long long)st->total_bytes, (long long)live);
        ok = false;
    }
    static const char *const src[2] = {"merutable files", "DuckDB export"};
    for (int s = 0; s < 2; s++) {
        int64_t total = 0;
        for (int r = 0; r < NREGIONS; r++) {
            const group_res *g = &d->g[s][r];
            total += g->count;
            if (!cnt[r] && !g->seen)
                continue;
            if (!g->seen || g->count != cnt[r] ||
                !sum_matches(g->sum, cents[r]) || !g->cents_seen ||
                g->cents_count != cnt[r] || g->cents != cents[r]) {
                printf("  !! %s, region %s: DuckDB count %lld sum %.2f "
                       "(exact: count %lld, %lld cents); model count %lld "
                       "sum %lld.%02lld\n",
                       src[s], regions[r], (long long)g->count, g->sum,
                       (long long)g->cents_count, (long long)g->cents,
                       (long long)cnt[r], (long long)(cents[r] / 100),
                       (long long)(cents[r] % 100));
                ok = false;
            }
        }
        if (total != live) {
            printf("  !! %s: DuckDB counted %lld rows, %lld keys are live\n",
                   src[s], (long long)total, (long long)live);
            ok = false;
        }
        if (!d->total_seen[s] || !sum_matches(d->total[s], all)) {
            printf("  !! %s: DuckDB sum(score) %.2f, model %lld.%02lld\n",
                   src[s], d->total[s], (long long)(all / 100),
                   (long long)(all % 100));
            ok = false;
        }
        if (d->l_rows[s] != (uint64_t)live) {
            printf("  !! %s: Parquet footers hold %llu rows, %lld are live\n",
                   src[s], (unsigned long long)d->l_rows[s], (long long)live);
            ok = false;
        }
    }
    for (int q = 0; q < 2; q++)
        for (int t = 0; t < 2; t++)
            for (int s = 0; s < 2; s++)
                if (!d->t[q][t][s].set) {
                    printf("  !! DuckDB reported no timing for query %d\n", q);
                    return false;
                }
    return ok;
}

static void report(const duck_res *d, size_t n, int reps)
{
    double mib = 1048576.0;
    printf("\n| | merutable L1+ files | DuckDB export | ours / DuckDB |\n");
    printf("| --- | ---: | ---: | ---: |\n");
    printf("| file bytes (MiB) | %.2f | %.2f | %.3f |\n",
           (double)d->l_bytes[0] / mib, (double)d->l_bytes[1] / mib,
           (double)d->l_bytes[0] / (double)d->l_bytes[1]);
    uint64_t user[2] = {0, 0};
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < d->ncol[s]; c++)
            if (strncmp(d->col[s][c].name, "_merutable_", 11))
                user[s] += d->col[s][c].comp;
    printf("| user columns' pages (MiB; no hidden columns, footer, index or "
           "bloom filter) | %.2f | %.2f | %.3f |\n",
           (double)user[0] / mib, (double)user[1] / mib,
           user[1] ? (double)user[0] / (double)user[1] : 0.0);
    static const char *const qname[2] = {
        "GROUP BY region: sum(score), count(*)", "sum(score) (one column)"};
    for (int q = 0; q < 2; q++)
        for (int t = 0; t < 2; t++) {
            const timing *o = &d->t[q][t][0], *k = &d->t[q][t][1];
            printf("| %s, threads=%d (ms) | %.1f | %.1f | %.2f |\n", qname[q],
                   t ? d->threads : 1, o->med * 1e3, k->med * 1e3,
                   o->med / k->med);
        }
    /* CPU of the whole process while the query ran (DuckDB's threads plus
     * node's): the load-independent cost, beside the wall time above. */
    for (int q = 0; q < 2; q++)
        for (int t = 0; t < 2; t++) {
            double o = d->cpu[q][t][0], k = d->cpu[q][t][1];
            printf("| %s, threads=%d, process CPU (ms) | %.1f | %.1f | %.2f |\n",
                   qname[q], t ? d->threads : 1, o * 1e3, k * 1e3,
                   k > 0 ? o / k : 0.0);
        }
    for (int t = 0; t < 2; t++) {
        const timing *o = &d->t[0][t][0], *k = &d->t[0][t][1];
        printf("| GROUP BY rows/s, threads=%d (M) | %.1f | %.1f | %.2f |\n",
               t ? d->threads : 1, (double)n / o->med / 1e6,
               (double)n / k->med / 1e6, k->med / o->med);
    }
    printf("\nTimes are medians of %d runs after one warm-up (min..max in "
           "ms: ",
           reps);
    for (int q = 0; q < 2; q++)
        for (int t = 0; t < 2; t++)
            printf("%s%s t%d ours %.1f..%.1f duckdb %.1f..%.1f",
                   q || t ? "; " : "", q ? "sum" : "group", t ? d->threads : 1,
                   d->t[q][t][0].lo * 1e3, d->t[q][t][0].hi * 1e3,
                   d->t[q][t][1].lo * 1e3, d->t[q][t][1].hi * 1e3);
    printf("). DuckDB's export took %.2f s.\n\n", d->export_secs);
    printf("| layout | files | row groups | rows per row group |\n");
    printf("| --- | ---: | ---: | ---: |\n");
    static const char *const src[2] = {"merutable L1+", "DuckDB export"};
    for (int s = 0; s < 2; s++)
        printf("| %s | %llu | %llu | %.0f |\n", src[s],
               (unsigned long long)d->l_files[s],
               (unsigned long long)d->l_rgs[s],
               d->l_rgs[s] ? (double)d->l_rows[s] / (double)d->l_rgs[s] : 0.0);
    printf("\n| column | merutable MiB | encodings | DuckDB MiB | encodings "
           "|\n| --- | ---: | --- | ---: | --- |\n");
    for (int c = 0; c < d->ncol[0]; c++) {
        int k = 0;
        while (k < d->ncol[1] && strcmp(d->col[1][k].name, d->col[0][c].name))
            k++;
        if (k < d->ncol[1])
            printf("| %s | %.2f | %s | %.2f | %s |\n", d->col[0][c].name,
                   (double)d->col[0][c].comp / mib, d->col[0][c].enc,
                   (double)d->col[1][k].comp / mib, d->col[1][k].enc);
        else
            printf("| %s | %.2f | %s | - | (not exported) |\n",
                   d->col[0][c].name, (double)d->col[0][c].comp / mib,
                   d->col[0][c].enc);
    }
}

/* --------------------------------------------------------------- main */

static int usage(void)
{
    fprintf(stderr, "usage: bench_analytic [--rows N | N] [--quick] [--reps "
                    "N] [--dir DIR] [--keep] [--no-duckdb] [--row-group-mib N] "
                    "[--page-kib N] [--page-rows N] [--string-page-kib N] "
                    "[--number-page-kib N]\n");
    return 2;
}

static void rm_tree(const char *dir)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_analytic: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
    size_t n = 1000000;
    int reps = 3;
    bool keep = false, duck = true;
    uint64_t rg_mib = 0;   /* 0: the engine's default row group size */
    uint32_t page_kib = 0; /* 0: the engine's default L1+ page size */
    uint32_t page_rows = 0; /* 0: the engine's default L1+ page row cap */
    uint32_t spage_kib = 0; /* 0: the default string_page_bytes */
    uint32_t npage_kib = 0; /* 0: the default number_page_bytes */
    char dir[1024] = "";
    for (int a = 1; a < argc; a++) {
        const char *v = argv[a];
        if (!strcmp(v, "--quick"))
            n = 100000;
        else if (!strcmp(v, "--rows") && a + 1 < argc)
            n = (size_t)strtoull(argv[++a], NULL, 10);
        else if (!strcmp(v, "--reps") && a + 1 < argc)
            reps = atoi(argv[++a]);
        else if (!strcmp(v, "--dir") && a + 1 < argc)
            snprintf(dir, sizeof dir, "%s", argv[++a]);
        else if (!strcmp(v, "--row-group-mib") && a + 1 < argc)
            rg_mib = strtoull(argv[++a], NULL, 10);
        else if (!strcmp(v, "--page-kib") && a + 1 < argc)
            page_kib = (uint32_t)strtoul(argv[++a], NULL, 10);
        else if (!strcmp(v, "--page-rows") && a + 1 < argc)
            page_rows = (uint32_t)strtoul(argv[++a], NULL, 10);
        else if (!strcmp(v, "--string-page-kib") && a + 1 < argc)
            spage_kib = (uint32_t)strtoul(argv[++a], NULL, 10);
        else if (!strcmp(v, "--number-page-kib") && a + 1 < argc)
            npage_kib = (uint32_t)strtoul(argv[++a], NULL, 10);
        else if (!strcmp(v, "--keep"))
            keep = true;
        else if (!strcmp(v, "--no-duckdb"))
            duck = false;
        else if (v[0] >= '0' && v[0] <= '9')
            n = (size_t)strtoull(v, NULL, 10);
        else
            return usage();
    }
    if (n < 1000 || reps < 1 || reps > MAX_REPS)
        return usage();
    bool own_dir = !dir[0];
    if (own_dir) {
        snprintf(dir, sizeof dir, "%s/meru-bench-analytic-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
    } else if (mkdir(dir, 0755) != 0) {
        perror(dir);
        return 1;
    }
    char table[1100];
    snprintf(table, sizeof table, "%s/table", dir);

    model m = {n, calloc(n, 1), calloc(n, sizeof(int32_t)),
               calloc(n, sizeof(bool))};
    bench b = {0};
    b.rng = 88172645463325252ull;
    if (!m.region || !m.cents || !m.alive) {
        fprintf(stderr, "bench_analytic: out of memory\n");
        return 1;
    }

    /* 1. load, overwrite and delete, compact */
    meru_schema *schema = NULL;
    int rc = meru_schema_parse(&schema, "analytic",
                               "id int64 not null, region string not null, "
                               "score double not null, payload string not null",
                               "id");
    if (rc)
        return die("schema", rc);
    meru_options o; /* defaults but no fsync: the writes are not timed
                     * against anything */
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    if (rg_mib)
        o.row_group_bytes = rg_mib << 20;
    if (page_kib)
        o.page_bytes = page_kib << 10;
    if (page_rows)
        o.page_rows = page_rows;
    if (spage_kib)
        o.string_page_bytes = spage_kib << 10;
    if (npage_kib)
        o.number_page_bytes = npage_kib << 10;
    rc = meru_open(table, &o, schema, &b.db);
    meru_schema_free(schema);
    if (rc)
        return die("open", rc);
    rc = meru_write_batch_new(&b.wb, meru_db_schema(b.db));
    if (!rc)
        rc = meru_row_new(&b.row, meru_db_schema(b.db));
    if (rc)
        return die("open", rc);

    double t0 = bench_now();
    for (size_t s = 0; s < n && !rc; s++) {
        rc = put_slot(&b, &m, s);
        if (!rc && (s + 1) % BATCH == 0)
            rc = flush_batch(&b);
    }
    if (!rc)
        rc = flush_batch(&b);
    if (!rc)
        rc = meru_flush(b.db);
    if (rc)
        return die("load", rc);
    double t_load = bench_now() - t0;

    /* 30 % of n more operations: two overwrites for each delete, on random
     * slots (some hit twice, some deletes hit deleted keys) */
    size_t nops = n * 3 / 10, nput = 0, ndel = 0;
    t0 = bench_now();
    for (size_t i = 0; i < nops && !rc; i++) {
        size_t s = (size_t)(xorshift(&b.rng) % n);
        if (i % 3 == 2) {
            rc = delete_slot(&b, &m, s);
            ndel++;
        } else {
            rc = put_slot(&b, &m, s);
            nput++;
        }
        if (!rc && (i + 1) % BATCH == 0)
            rc = flush_batch(&b);
    }
    if (!rc)
        rc = flush_batch(&b);
    if (!rc)
        rc = meru_flush(b.db);
    if (rc)
        return die("overwrite/delete", rc);
    double t_update = bench_now() - t0;

    meru_stats before, st;
    rc = meru_stats_get(b.db, &before);
    t0 = bench_now();
    if (!rc)
        rc = meru_compact(b.db);
    double t_compact = bench_now() - t0;
    if (rc)
        return die("compact", rc);
    int crc = meru_close(b.db);
    if (crc)
        return die("close", crc);
    rc = meru_stats_get(b.db, &st);
    if (rc)
        return die("stats", rc);

    uint64_t live = 0;
    for (size_t s = 0; s < n; s++)
        live += m.alive[s];
    printf("analytic: %zu rows loaded (id int64 key, region string of %d "
           "values, score double, payload %d-byte string), then %zu "
           "overwrites and %zu deletes of random keys: %llu live keys\n",
           n, NREGIONS, PAYLOAD_LEN, nput, ndel, (unsigned long long)live);
    printf("  L1+ row groups of at most %llu MiB and pages of %u KiB or %u "
           "rows, %u KiB for string value columns, %u KiB for number value "
           "columns (meru_options row_group_bytes, page_bytes, page_rows, "
           "string_page_bytes, number_page_bytes); sync_mode NONE\n",
           (unsigned long long)(o.row_group_bytes >> 20),
           (unsigned)(o.page_bytes >> 10), (unsigned)o.page_rows,
           (unsigned)(o.string_page_bytes >> 10),
           (unsigned)(o.number_page_bytes >> 10));
    printf("  load %.2f s (batches of %d), overwrite/delete %.2f s, "
           "meru_compact %.2f s; before compaction (after a flush) %llu files "
           "/ %llu row versions (L0 %llu files), after: %llu files, %.2f MiB, "
           "%llu "
           "rows, levels in use %d, metadata v%llu\n",
           t_load, BATCH, t_update, t_compact,
           (unsigned long long)before.total_files,
           (unsigned long long)before.total_rows,
           (unsigned long long)before.level[0].files,
           (unsigned long long)st.total_files,
           (double)st.total_bytes / 1048576.0,
           (unsigned long long)st.total_rows, st.levels,
           (unsigned long long)st.metadata_version);
    bool ok = true;
    if (st.level[0].files != 0 || st.total_rows != live) {
        printf("  !! after meru_compact: L0 holds %llu files, the files hold "
               "%llu row versions for %llu live keys\n",
               (unsigned long long)st.level[0].files,
               (unsigned long long)st.total_rows, (unsigned long long)live);
        ok = false;
    }

    /* 2-4. DuckDB on the files the current metadata version lists */
    if (ok && duck) {
        char meta[1200];
        snprintf(meta, sizeof meta, "%s/metadata/v%llu.metadata.json", table,
                 (unsigned long long)st.metadata_version);
        duck_res *d = malloc(sizeof *d);
        if (!d) {
            fprintf(stderr, "bench_analytic: out of memory\n");
            return 1;
        }
        run_duckdb(argv[0], meta, dir, reps, d);
        if (!d->ok) {
            printf("  DuckDB comparison skipped: %s\n", d->why);
            /* a script that ran and failed is an error; a missing
             * prerequisite is a skip */
            if (d->failed)
                ok = false;
        } else {
            printf("  DuckDB (threads=1 and default %d) over the %llu live "
                   "files of %s vs over its own COPY ... (FORMAT parquet, "
                   "COMPRESSION zstd) of their user columns:\n",
                   d->threads, (unsigned long long)d->files, meta);
            ok = check(d, &m, &st);
            if (ok)
                report(d, (size_t)live, reps);
            printf("\n  answers (count and sum per region, sum(score), on "
                   "both sources) agree with the model: %s\n",
                   ok ? "yes" : "NO");
        }
        free(d);
    } else if (!duck) {
        printf("  DuckDB comparison skipped: --no-duckdb\n");
    }

    meru_write_batch_free(b.wb);
    meru_row_free(b.row);
    meru_db_free(b.db);
    free(m.region);
    free(m.cents);
    free(m.alive);
    if (!keep && own_dir)
        rm_tree(dir);
    else
        printf("  files kept in %s\n", dir);
    return ok ? 0 : 1;
}
