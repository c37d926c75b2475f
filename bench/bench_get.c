/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_get.c — point-lookup latency from SSTs through the public API.
 *
 * Writes a table of N rows (k int64 key, i int32, d double, s ~100-byte
 * string), meru_flush, closes and reopens it (so every get reads SSTs, not
 * the memtable), then times G random meru_get of present keys, R rounds.
 * Prints microseconds per get of each round (wall clock, and the process's
 * CPU time: every thread's, the key directory builder's included) and the
 * median of the wall-clock figures.
 *
 *   bench_get [--compact] [--scan] [--cache-mib M] [--row-cache-mib M]
 *             [--threads T] [--zipf] [--string-page-bytes B]
 *             [--row-group-mib M] [--page-bytes B] [--page-rows R]
 *             [--number-page-bytes B] [rows=300000] [gets=20000]
 *             [rounds=3] [dir]
 *
 * --compact: meru_compact after the load (bench_kv's shape after settle:
 * the rows in L1+ column-tuned files), with values shaped as bench_kv's
 * (i in 0..999, random doubles of 2 decimals, "user-" and 95 random
 * letters) instead of i = k, d = k / 2 and zero-padded digits.
 * --cache-mib, --string-page-bytes, --row-group-mib, --page-bytes,
 * --page-rows, --number-page-bytes: cache_bytes, string_page_bytes,
 * row_group_bytes, page_bytes, page_rows, number_page_bytes (a new
 * table; default the library's). --row-cache-mib: row_cache_bytes
 * (0 turns the row cache off; default the library's, a share of the
 * cache).
 * --zipf: the rounds' keys are drawn from bench_kv's scrambled zipfian
 * (theta 0.99) instead of uniformly: hot keys, where the row cache
 * serves gets.
 * --threads T: after the rounds, T threads each do `gets` gets at once
 * (keys of their own); prints wall-clock gets/s of them all and the
 * process CPU time per get, beside one thread's (the first round's keys
 * again, so the cache state is alike): how far gets scale, and whether
 * they spend CPU on each other (locks, shared cache lines).
 * --scan: after the gets, one full scan of every column (rows/s), to weigh
 * a page shape's cost to scans against its gain for gets.
 * A dir that already holds a table of `rows` rows is reused (no load), so a
 * profiler (callgrind) can time the gets alone.
 */
#include "bench_util.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "merutable.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Column i of row k: k itself, or with --compact bench_kv's values (a
 * hash of the key in 0..999, as random as its doubles and strings). */
static int32_t i_of(long k, int compact)
{
    if (!compact)
        return (int32_t)k;
    uint64_t x = (uint64_t)k * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    return (int32_t)(x % 1000);
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "bench_get: %s: %s (%s)\n", what, meru_strerror(rc),
            meru_errmsg());
    return 1;
}

static size_t cache_mib;     /* 0: the library's default */
static uint32_t string_page; /* 0: the library's default */
static uint64_t rg_mib;      /* 0: the library's default */
static uint32_t page_bytes;  /* 0: the library's default */
static uint32_t page_rows;   /* 0: the library's default */
static uint32_t number_page; /* 0: the library's default */
static long row_cache_mib = -1; /* -1: the library's default */
static int threads;             /* --threads: 0 none */
static int zipf_keys;           /* --zipf */

/* YCSB's scrambled zipfian as in bench_kv.c: ranks in [0, n), hot ranks
 * spread over the key space by a hash. */
static double zf_theta = 0.99, zf_alpha, zf_zetan, zf_eta;

static void zipf_init(long n)
{
    double zeta2 = 1.0 + 1.0 / pow(2.0, zf_theta);
    zf_zetan = 0;
    for (long i = 1; i <= n; i++)
        zf_zetan += 1.0 / pow((double)i, zf_theta);
    zf_alpha = 1.0 / (1.0 - zf_theta);
    zf_eta = (1.0 - pow(2.0 / (double)n, 1.0 - zf_theta)) /
             (1.0 - zeta2 / zf_zetan);
}

static long zipf_next(long n)
{
    double u = (double)(next_rand() >> 11) / 9007199254740992.0;
    double uz = u * zf_zetan;
    uint64_t r;
    if (uz < 1.0)
        r = 0;
    else if (uz < 1.0 + pow(0.5, zf_theta))
        r = 1;
    else
        r = (uint64_t)((double)n * pow(zf_eta * u - zf_eta + 1.0, zf_alpha));
    if (r >= (uint64_t)n)
        r = (uint64_t)n - 1;
    uint64_t x = r ^ 0x5bd1e995u;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (long)(x % (uint64_t)n);
}

static int open_db(const char *dir, meru_db **db)
{
    meru_options o;
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    if (cache_mib)
        o.cache_bytes = cache_mib << 20;
    if (string_page)
        o.string_page_bytes = string_page;
    if (row_cache_mib >= 0)
        o.row_cache_bytes = (size_t)row_cache_mib << 20;
    if (rg_mib)
        o.row_group_bytes = rg_mib << 20;
    if (page_bytes)
        o.page_bytes = page_bytes;
    if (page_rows)
        o.page_rows = page_rows;
    if (number_page)
        o.number_page_bytes = number_page;
    meru_schema *s = NULL;
    int rc = meru_schema_parse(&s, "bench",
                               "k int64 not null, i int32 not null, "
                               "d double not null, s string not null",
                               "k");
    if (rc)
        return rc;
    rc = meru_open(dir, &o, s, db);
    meru_schema_free(s);
    return rc;
}

/* Process CPU seconds (every thread's, user + system). */
static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

typedef struct getter {
    meru_db *db;
    long n, gets, found;
    uint64_t seed;
    int rc;
} getter;

/* `gets` gets of random present keys (xorshift from seed). */
static void *getter_main(void *arg)
{
    getter *g = arg;
    meru_row *key = NULL, *out = NULL;
    const meru_schema *ts = meru_db_schema(g->db);
    uint64_t x = g->seed;
    if ((g->rc = meru_row_new(&key, ts)) || (g->rc = meru_row_new(&out, ts)))
        goto done;
    for (long j = 0; j < g->gets; j++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        long k = (long)(x % (uint64_t)g->n);
        if ((g->rc = meru_row_set_int64(key, 0, k * 7)))
            goto done;
        g->rc = meru_get(g->db, NULL, key, out);
        if (g->rc == MERU_OK)
            g->found++;
        else if (g->rc != MERU_NOT_FOUND)
            goto done;
    }
    g->rc = MERU_OK;
done:
    meru_row_free(key);
    meru_row_free(out);
    return NULL;
}

/* nthreads getters at once; wall-clock gets/s and CPU us per get. */
static int run_getters(meru_db *db, long n, long gets, int nthreads,
                       double *per_s, double *cpu_us)
{
    getter g[64];
    pthread_t t[64];
    int started = 0;
    double w0 = bench_now(), c0 = cpu_now();
    for (int i = 0; i < nthreads; i++) {
        g[i] = (getter){db, n, gets, 0, 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1),
                        0};
        if (nthreads == 1)
            getter_main(&g[i]);
        else if (pthread_create(&t[i], NULL, getter_main, &g[i]) == 0)
            started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    double w = bench_now() - w0, c = cpu_now() - c0;
    if (nthreads > 1 && started != nthreads)
        return MERU_EINTERNAL;
    for (int i = 0; i < nthreads; i++)
        if (g[i].rc || g[i].found != gets)
            return g[i].rc ? g[i].rc : MERU_EINTERNAL;
    *per_s = (double)gets * nthreads / w;
    *cpu_us = c * 1e6 / ((double)gets * nthreads);
    return MERU_OK;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    /* `make bench BENCH_ARGS=--quick` hands --quick to every bench. */
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    if (quick)
        argc = 1;
    int compact = 0, scan = 0;
    while (argc > 1 && argv[1][0] == '-' && argv[1][1] == '-') {
        if (!strcmp(argv[1], "--compact")) {
            compact = 1;
        } else if (!strcmp(argv[1], "--scan")) {
            scan = 1;
        } else if (!strcmp(argv[1], "--string-page-bytes") && argc > 2) {
            string_page = (uint32_t)atol(argv[2]);
            argv++;
            argc--;
        } else if (!strcmp(argv[1], "--zipf")) {
            zipf_keys = 1;
        } else if (!strcmp(argv[1], "--threads") && argc > 2) {
            threads = atoi(argv[2]);
            if (threads < 1 || threads > 64) {
                fprintf(stderr, "bench_get: --threads 1..64\n");
                return 2;
            }
            argv++;
            argc--;
        } else if (!strcmp(argv[1], "--row-cache-mib") && argc > 2) {
            row_cache_mib = atol(argv[2]);
            argv++;
            argc--;
        } else if (!strcmp(argv[1], "--row-group-mib") && argc > 2) {
            rg_mib = (uint64_t)atol(argv[2]);
            argv++;
            argc--;
        } else if (!strcmp(argv[1], "--page-bytes") && argc > 2) {
            page_bytes = (uint32_t)atol(argv[2]);
            argv++;
            argc--;
        } else if (!strcmp(argv[1], "--number-page-bytes") && argc > 2) {
            number_page = (uint32_t)atol(argv[2]);
            argv++;
            argc--;
        } else if (!strcmp(argv[1], "--page-rows") && argc > 2) {
            page_rows = (uint32_t)atol(argv[2]);
            argv++;
            argc--;
        } else if (!strcmp(argv[1], "--cache-mib") && argc > 2) {
            cache_mib = (size_t)atol(argv[2]);
            argv++;
            argc--;
        } else {
            fprintf(stderr, "bench_get: unknown option %s\n", argv[1]);
            return 2;
        }
        argv++;
        argc--;
    }
    long n = quick ? 20000 : argc > 1 ? atol(argv[1]) : 300000;
    long gets = quick ? 2000 : argc > 2 ? atol(argv[2]) : 20000;
    int rounds = argc > 3 ? atoi(argv[3]) : 3;
    char tmpl[] = "/tmp/bench_get.XXXXXX";
    const char *dir = argc > 4 ? argv[4] : mkdtemp(tmpl);
    if (n <= 0 || gets <= 0 || rounds <= 0 || rounds > 99 || !dir) {
        fprintf(stderr, "usage: bench_get [rows] [gets] [rounds] [dir]\n");
        return 2;
    }
    meru_db *db = NULL;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/metadata", dir);
    int reuse = access(probe, F_OK) == 0;
    int rc = reuse ? 0 : open_db(dir, &db);
    if (rc)
        return die("open", rc);
    const meru_schema *ts = reuse ? NULL : meru_db_schema(db);
    meru_write_batch *wb = NULL;
    meru_row *row = NULL;
    char str[128];
    double t0 = bench_now();
    if (reuse) {
        printf("reusing the table in %s\n", dir);
        goto reads;
    }
    if ((rc = meru_write_batch_new(&wb, ts)) || (rc = meru_row_new(&row, ts)))
        return die("alloc", rc);
    for (long k = 0; k < n; k++) {
        if (compact) {
            memcpy(str, "user-", 5);
            uint64_t x = next_rand();
            for (int j = 5; j < 100; j++) {
                if (j % 10 == 5)
                    x = next_rand();
                str[j] = (char)('a' + (x >> (6 * (j % 10))) % 26);
            }
        } else {
            snprintf(str, sizeof str, "%0100ld",
                     (long)(next_rand() % 1000000007));
        }
        if ((rc = meru_row_set_int64(row, 0, k * 7)) ||
            (rc = meru_row_set_int32(row, 1, i_of(k, compact))) ||
            (rc = meru_row_set_double(
                 row, 2,
                 compact ? (double)(next_rand() % 1000000) / 100.0
                         : (double)k * 0.5)) ||
            (rc = meru_row_set_string(row, 3, str, 100)) ||
            (rc = meru_write_batch_put(wb, row)))
            return die("put", rc);
        if ((k + 1) % 1000 == 0 || k + 1 == n) {
            if ((rc = meru_write(db, wb, NULL)))
                return die("write", rc);
            meru_write_batch_clear(wb);
        }
    }
    if ((rc = meru_flush(db)))
        return die("flush", rc);
    if (compact && (rc = meru_compact(db)))
        return die("compact", rc);
    meru_write_batch_free(wb);
    meru_row_free(row);
    if ((rc = meru_close(db)))
        return die("close", rc);
    meru_db_free(db);
    printf("wrote %ld rows in %.2f s%s\n", n, bench_now() - t0,
           compact ? " (compacted)" : "");

reads:
    if ((rc = open_db(dir, &db)))
        return die("reopen", rc);
    ts = meru_db_schema(db);
    meru_row *key = NULL, *out = NULL;
    if ((rc = meru_row_new(&key, ts)) || (rc = meru_row_new(&out, ts)))
        return die("alloc", rc);
    double us[100];
    long found = 0;
    if (zipf_keys)
        zipf_init(n);
    for (int r = 0; r < rounds; r++) {
        t0 = bench_now();
        double c0 = cpu_now();
        for (long g = 0; g < gets; g++) {
            long k = zipf_keys ? zipf_next(n)
                               : (long)(next_rand() % (uint64_t)n);
            if ((rc = meru_row_set_int64(key, 0, k * 7)))
                return die("key", rc);
            rc = meru_get(db, NULL, key, out);
            if (rc && rc != MERU_NOT_FOUND)
                return die("get", rc);
            int32_t i = -1;
            if (!rc && !meru_row_get_int32(out, 1, &i) &&
                (i == i_of(k, 0) || i == i_of(k, 1)))
                found++;
        }
        us[r] = (bench_now() - t0) * 1e6 / (double)gets;
        /* the process's CPU (the key directory builder's too): on a
         * loaded machine the wall clock swings, this far less */
        printf("round %d: %.2f us/get, process CPU %.2f us/get\n", r + 1,
               us[r], (cpu_now() - c0) * 1e6 / (double)gets);
    }
    qsort(us, (size_t)rounds, sizeof us[0], cmp_d);
    printf("median %.2f us/get (%ld of %ld found)\n", us[rounds / 2], found,
           gets * rounds);
    meru_stats st;
    if (meru_stats_get(db, &st) == MERU_OK) {
        uint64_t rq = st.row_cache_hits + st.row_cache_misses;
        uint64_t pq = st.cache_hits + st.cache_misses;
        printf("row cache: %.1f %% of %llu lookups hit; page cache: %.1f %% "
               "of %llu lookups hit\n",
               rq ? 100.0 * (double)st.row_cache_hits / (double)rq : 0.0,
               (unsigned long long)rq,
               pq ? 100.0 * (double)st.cache_hits / (double)pq : 0.0,
               (unsigned long long)pq);
    }
    if (threads) {
        double one, one_cpu, many, many_cpu;
        /* one thread, then `threads`, then one again: the median-free
         * check that the cache did not just warm up in between */
        if ((rc = run_getters(db, n, gets, 1, &one, &one_cpu)) ||
            (rc = run_getters(db, n, gets, threads, &many, &many_cpu)))
            return die("threads", rc);
        double again, again_cpu;
        if ((rc = run_getters(db, n, gets, 1, &again, &again_cpu)))
            return die("threads", rc);
        printf("1 thread: %.0f gets/s, %.2f us CPU/get; %d threads: %.0f "
               "gets/s (%.2fx), %.2f us CPU/get; 1 thread again: %.0f "
               "gets/s, %.2f us CPU/get\n",
               one, one_cpu, threads, many, many / one, many_cpu, again,
               again_cpu);
    }
    if (scan) {
        meru_iter *it = NULL;
        const meru_row *r;
        long rows = 0;
        uint64_t bytes = 0;
        t0 = bench_now();
        if ((rc = meru_scan(db, NULL, &it)))
            return die("scan", rc);
        while ((rc = meru_iter_next(it, &r)) == MERU_OK) {
            const char *sv;
            size_t sl;
            if ((rc = meru_row_get_string(r, 3, &sv, &sl)))
                return die("scan row", rc);
            bytes += sl;
            rows++;
        }
        if (rc != MERU_NOT_FOUND)
            return die("scan", rc);
        meru_iter_free(it);
        double s = bench_now() - t0;
        printf("full scan: %ld rows (%llu string bytes) in %.3f s, %.2f "
               "Mrows/s\n",
               rows, (unsigned long long)bytes, s, (double)rows / s / 1e6);
    }
    meru_row_free(key);
    meru_row_free(out);
    if ((rc = meru_close(db)))
        return die("close", rc);
    meru_db_free(db);
    return found == gets * rounds ? 0 : 1;
}
