/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_view.c — what keeping the Iceberg view costs a flush: the lookup
 * of older versions each flush runs (iceberg_view continuous; see
 * docs/design.md, "The Iceberg view"), in its two extreme shapes.
 *
 *   bench_view [--rows N] [--memtable-mib M] [--iceberg-view on|off]
 *              [--dir DIR]
 *
 * Phase "insert": N rows whose keys are all distinct (a random order of N
 * keys), so no flushed key has an older version: every lookup is answered
 * by key ranges and bloom filters (plus their false positives). Phase
 * "overwrite": the same N keys again in another random order, so every
 * flushed key has an older version to find and hide: the lookup decodes
 * the pages of _merutable_ikey that hold them. Each phase writes batches
 * of 1000 (sync none), then flushes and waits for compaction to be idle;
 * it reports its rate, the CPU time of the process for writes + settle (a
 * steadier measure than the wall clock on a shared machine) and, from
 * meru_stats, the flush lookups it ran: time
 * (spent under the catalog lock by the flush worker, not by writers),
 * pages decoded and older rows hidden per lookup.
 *
 * The table goes to DIR when given (kept), else to a fresh
 * $TMPDIR/bench_view.<pid>, removed at the end. Reports, asserts nothing.
 */
#include "bench_util.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "merutable.h"

#define DIE(what)                                                              \
    do {                                                                       \
        fprintf(stderr, "bench_view: %s: %s\n", what, meru_errmsg());          \
        exit(1);                                                               \
    } while (0)

/* A bijection of 64-bit integers (the splitmix64 finaliser): distinct
 * indexes give distinct keys in a random-looking order. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static void fill_row(meru_row *r, int64_t key, uint64_t version)
{
    char s[112];
    uint64_t h = mix((uint64_t)key ^ version);
    int n = snprintf(s, sizeof s, "payload-%016" PRIx64 "-%016" PRIx64, h,
                     h ^ 0xabcdef);
    for (; n < 100; n++)
        s[n] = (char)('a' + (h >> (n % 60)) % 26);
    if (meru_row_set_int64(r, 0, key) || meru_row_set_int32(r, 1, (int32_t)h) ||
        meru_row_set_double(r, 2, (double)(h % 100000) / 100.0) ||
        meru_row_set_string(r, 3, s, (size_t)n))
        DIE("row");
}

/* CPU seconds of the whole process (all threads): on a shared machine a
 * steadier measure of work done than the wall clock. */
static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void settle(meru_db *db)
{
    if (meru_flush(db))
        DIE("flush");
    for (;;) {
        meru_stats st;
        if (meru_stats_get(db, &st))
            DIE("stats");
        if (!st.immutable_memtables && !st.compactions_running &&
            !st.compactions_pending)
            return;
        usleep(20000);
    }
}

/* Writes keys mix(perm(i)) for i < n; perm(i) = (a * i + b) mod n
 * with a prime to n: each phase visits every index once, in its own order
 * (n < 2^32, so the product fits). */
static void phase(meru_db *db, const char *name, uint64_t n, uint64_t a,
                  uint64_t b, uint64_t version)
{
    meru_write_batch *wb = NULL;
    meru_row *row = NULL;
    meru_stats s0, s1;
    if (meru_write_batch_new(&wb, meru_db_schema(db)) ||
        meru_row_new(&row, meru_db_schema(db)) || meru_stats_get(db, &s0))
        DIE("batch");
    double t0 = bench_now(), c0 = cpu_now();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t idx = (a % n * (i % n) + b) % n;
        fill_row(row, (int64_t)mix(idx), version);
        if (meru_write_batch_put(wb, row))
            DIE("batch put");
        if (meru_write_batch_count(wb) == 1000 || i + 1 == n) {
            if (meru_write(db, wb, NULL))
                DIE("write");
            meru_write_batch_clear(wb);
        }
    }
    double t1 = bench_now();
    settle(db);
    double t2 = bench_now(), c2 = cpu_now();
    if (meru_stats_get(db, &s1))
        DIE("stats");
    uint64_t lk = s1.view_lookups - s0.view_lookups;
    printf("%-9s %9.1f Krows/s (%.1f s + settle %.1f s; CPU %.1f s), %" PRIu64
           " flushes, %" PRIu64 " compactions",
           name, (double)n / (t1 - t0) / 1e3, t1 - t0, t2 - t1, c2 - c0,
           s1.flushes - s0.flushes, s1.compactions - s0.compactions);
    if (lk)
        printf("; per flush lookup: %.1f ms (CPU %.1f ms), %.0f pages "
               "decoded, %.0f older rows hidden (%.2f us per flushed row)",
               (double)(s1.view_lookup_micros - s0.view_lookup_micros) / 1e3 /
                   (double)lk,
               (double)(s1.view_lookup_cpu_micros - s0.view_lookup_cpu_micros) /
                   1e3 / (double)lk,
               (double)(s1.view_lookup_pages - s0.view_lookup_pages) /
                   (double)lk,
               (double)(s1.view_rows_hidden - s0.view_rows_hidden) /
                   (double)lk,
               (double)(s1.view_lookup_micros - s0.view_lookup_micros) /
                   (double)n);
    printf("\n");
    fflush(stdout);
    meru_row_free(row);
    meru_write_batch_free(wb);
}

int main(int argc, char **argv)
{
    uint64_t rows = 2000000;
    size_t mem_mib = 64;
    int view = -1;
    const char *dir = NULL;
    char tmp[1024], cmd[1200];
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(argv[i], "--rows") && ++i)
            rows = strtoull(v, NULL, 10);
        else if (v && !strcmp(argv[i], "--memtable-mib") && ++i)
            mem_mib = (size_t)strtoull(v, NULL, 10);
        else if (v && !strcmp(argv[i], "--dir") && ++i)
            dir = v;
        else if (v && !strcmp(argv[i], "--iceberg-view") &&
                 (!strcmp(v, "on") || !strcmp(v, "off")) && ++i)
            view = !strcmp(v, "on");
        else {
            fprintf(stderr, "usage: bench_view [--rows N] [--memtable-mib M] "
                            "[--iceberg-view on|off] [--dir DIR]\n");
            return 2;
        }
    }
    if (rows < 1000 || mem_mib < 1) {
        fprintf(stderr, "bench_view: --rows >= 1000, --memtable-mib >= 1\n");
        return 2;
    }
    int keep = dir != NULL;
    if (!dir) {
        const char *t = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/bench_view.%ld", t && *t ? t : "/tmp",
                 (long)getpid());
        dir = tmp;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        DIE("remove old table");
    meru_schema *schema = NULL;
    if (meru_schema_parse(&schema, "view",
                          "id int64 not null, a int32, b double, s string",
                          "id"))
        DIE("schema");
    meru_options o;
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    o.memtable_bytes = mem_mib << 20;
    if (view >= 0)
        o.iceberg_view =
            view ? MERU_ICEBERG_VIEW_CONTINUOUS : MERU_ICEBERG_VIEW_OFF;
    meru_db *db = NULL;
    if (meru_open(dir, &o, schema, &db))
        DIE("open");
    printf("bench_view: %" PRIu64 " rows per phase, memtable %zu MiB, "
           "Iceberg view %s, batches of 1000, sync none\n",
           rows, mem_mib,
           o.iceberg_view == MERU_ICEBERG_VIEW_CONTINUOUS ? "continuous"
                                                          : "off");
    /* Multipliers prime to any n below them: primes (2^61 - 1, 2^62 - 57;
     * gcd(p mod n, n) = gcd(p, n) = 1). */
    phase(db, "insert", rows, 2305843009213693951ull, 0, 0);
    phase(db, "overwrite", rows, 4611686018427387847ull, rows / 3, 1);
    meru_stats st;
    if (meru_stats_get(db, &st))
        DIE("stats");
    printf("shape:");
    for (int l = 0; l < st.levels; l++)
        printf(" L%d %" PRIu64 " files %.1f MiB;", l, st.level[l].files,
               (double)st.level[l].bytes / 1048576.0);
    printf(" %" PRIu64 " rows stored\n", st.total_rows);
    if (meru_close(db))
        DIE("close");
    meru_db_free(db);
    meru_schema_free(schema);
    if (!keep && system(cmd) != 0)
        fprintf(stderr, "bench_view: could not remove %s\n", dir);
    return 0;
}
