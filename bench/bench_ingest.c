/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_ingest.c — sustained random-key ingest (issue: compaction,
 * backpressure and GC): writes a table many times the memtable budget
 * through the public API and reports throughput over time, write
 * amplification (bytes the process wrote to disk / user bytes), stalls,
 * peak RSS against the configured budgets, the LSM shape, then read and
 * scan rates once compaction has settled.
 *
 *   bench_ingest [--memtable-mib M] [--factor F] [--dir DIR] [--quick]
 *                [--iceberg-view on|off] [--feed on|off]
 *                [--keys random|ascending]
 *
 * --keys ascending writes keys 0, 1, 2, ... once each (a sorted ingest:
 * time-ordered ids), where compaction can move files down a level
 * instead of rewriting them (trivial moves); the default is random keys.
 *
 * --feed off sets the change feed's retention to 0 (no changelog, no
 * pre-image reads at flush), so that --iceberg-view on/off compares the
 * view alone: with the feed on (the default) every flush runs the lookup
 * of older versions for the pre-images whatever the view.
 *
 * The table goes to DIR when given (kept afterwards), else to a fresh
 * $TMPDIR/bench_ingest.<pid> that is removed at the end: `make bench`
 * runs from the repository root, which must not collect hundreds of MiB.
 *
 * Ingest volume = M MiB x F (default 4 MiB x 200 = 800 MiB of row data;
 * --quick: 1 MiB x 20). Rows: int64 random key, int32, double, ~100-byte
 * string, written in batches of 1000 with MERU_SYNC_NONE. Reports, it
 * asserts nothing.
 */
#include "bench_util.h"
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "merutable.h"

#define DIE(what)                                                              \
    do {                                                                       \
        fprintf(stderr, "bench_ingest: %s: %s\n", what, meru_errmsg());        \
        exit(1);                                                               \
    } while (0)

static long peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill_row(meru_row *r, int64_t key)
{
    char s[112];
    uint64_t h = (uint64_t)key * 0x2545f4914f6cdd1dull;
    int n = snprintf(s, sizeof s, "payload-%016" PRIx64 "-%016" PRIx64, h,
                     h ^ 0xabcdef);
    for (; n < 100; n++)
        s[n] = (char)('a' + (h >> (n % 60)) % 26);
    if (meru_row_set_int64(r, 0, key) || meru_row_set_int32(r, 1, (int32_t)h) ||
        meru_row_set_double(r, 2, (double)(h % 100000) / 100.0) ||
        meru_row_set_string(r, 3, s, (size_t)n))
        DIE("row");
}

int main(int argc, char **argv)
{
    size_t mem_mib = 4, factor = 200;
    int view = -1; /* the option's default */
    int feed = -1; /* likewise */
    bool ascending = false;
    const char *dir = NULL;
    char tmp[1024];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--memtable-mib") && i + 1 < argc)
            mem_mib = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--factor") && i + 1 < argc)
            factor = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--quick"))
            mem_mib = 1, factor = 20;
        else if (!strcmp(argv[i], "--iceberg-view") && i + 1 < argc &&
                 (!strcmp(argv[i + 1], "on") || !strcmp(argv[i + 1], "off")))
            view = !strcmp(argv[++i], "on");
        else if (!strcmp(argv[i], "--feed") && i + 1 < argc &&
                 (!strcmp(argv[i + 1], "on") || !strcmp(argv[i + 1], "off")))
            feed = !strcmp(argv[++i], "on");
        else if (!strcmp(argv[i], "--keys") && i + 1 < argc &&
                 (!strcmp(argv[i + 1], "random") ||
                  !strcmp(argv[i + 1], "ascending")))
            ascending = !strcmp(argv[++i], "ascending");
        else {
            fprintf(stderr, "usage: bench_ingest [--memtable-mib M] "
                            "[--factor F] [--dir DIR] [--quick] "
                            "[--iceberg-view on|off] [--feed on|off] "
                            "[--keys random|ascending]\n");
            return 2;
        }
    }
    bool keep = dir != NULL;
    if (!dir) {
        const char *t = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/bench_ingest.%ld", t && *t ? t : "/tmp",
                 (long)getpid());
        dir = tmp;
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        DIE("remove old table");

    meru_schema *schema = NULL;
    if (meru_schema_parse(&schema, "ingest",
                          "id int64 not null, a int32, b double, s string",
                          "id"))
        DIE("schema");
    meru_options o;
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    o.memtable_bytes = mem_mib << 20;
    o.cache_bytes = (size_t)64 << 20;
    o.target_file_bytes = (uint64_t)(mem_mib < 16 ? 16 : mem_mib) << 20;
    o.l1_target_bytes = (uint64_t)(mem_mib * 4 < 16 ? 16 : mem_mib * 4) << 20;
    if (feed == 0)
        o.changes_retention_seconds = 0;
    if (view >= 0)
        o.iceberg_view =
            view ? MERU_ICEBERG_VIEW_CONTINUOUS : MERU_ICEBERG_VIEW_OFF;
    meru_db *db = NULL;
    if (meru_open(dir, &o, schema, &db))
        DIE("open");

    const uint64_t row_bytes = 8 + 4 + 8 + 100; /* user bytes per row */
    uint64_t total_rows = (uint64_t)mem_mib * factor * (1u << 20) / row_bytes;
    /* random: about 1/e of writes overwrite */
    uint64_t key_space = total_rows;
    printf("bench_ingest: %" PRIu64 " rows (%zu MiB memtable x %zu), "
           "%s keys in [0, %" PRIu64 "), batches of 1000, sync none\n",
           total_rows, mem_mib, factor, ascending ? "ascending" : "random",
           key_space);
    printf("budgets: memtable %zu MiB x (1 + %d immutable), cache %zu MiB; "
           "Iceberg view %s; change feed %s\n\n",
           mem_mib, o.max_immutable_memtables, o.cache_bytes >> 20,
           o.iceberg_view == MERU_ICEBERG_VIEW_CONTINUOUS ? "continuous"
                                                          : "off",
           o.changes_retention_seconds ? "on" : "off");
    printf("%10s %10s %10s %8s %8s %6s %6s %8s\n", "rows", "Krows/s",
           "interval", "L0", "levels", "stalls", "rss", "wamp");

    meru_write_batch *b = NULL;
    meru_row *row = NULL;
    if (meru_write_batch_new(&b, meru_db_schema(db)) ||
        meru_row_new(&row, meru_db_schema(db)))
        DIE("batch");
    uint64_t io0 = bench_io_write_bytes();
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = bench_now(), tlast = t0;
    uint64_t last = 0, report = total_rows / 10 ? total_rows / 10 : 1;
    for (uint64_t i = 0; i < total_rows; i++) {
        fill_row(row,
                 ascending ? (int64_t)i : (int64_t)(next_rand() % key_space));
        if (meru_write_batch_put(b, row))
            DIE("batch put");
        if (meru_write_batch_count(b) == 1000 || i + 1 == total_rows) {
            if (meru_write(db, b, NULL))
                DIE("write");
            meru_write_batch_clear(b);
        }
        if ((i + 1) % report == 0 || i + 1 == total_rows) {
            meru_stats st;
            double t = bench_now();
            meru_stats_get(db, &st);
            double user = (double)(i + 1) * (double)row_bytes;
            printf("%10" PRIu64 " %10.1f %9.1fs %8" PRIu64 " %8d %6" PRIu64
                   " %5ldM %8.2f\n",
                   i + 1, (double)(i + 1 - last) / (t - tlast) / 1e3, t - tlast,
                   st.level[0].files, st.levels, st.stall_count, peak_rss_mib(),
                   (double)(bench_io_write_bytes() - io0) / user);
            fflush(stdout);
            tlast = t;
            last = i + 1;
        }
    }
    double t_ingest = bench_now() - t0;
    /* Settle: flush, then wait until background compaction is idle. */
    double ts = bench_now();
    if (meru_flush(db))
        DIE("flush");
    meru_stats st;
    /* Idle: no job running and none due (idle work, which starts once
     * the table has been quiet for a second, included) for 0.5 s in a row
     * (a job that is due starts within that time: workers are woken by
     * every commit). */
    for (int quiet = 0; quiet < 5;) {
        struct timespec nap = {0, 100 * 1000 * 1000};
        nanosleep(&nap, NULL);
        meru_stats_get(db, &st);
        quiet = st.compactions_running == 0 && st.compactions_pending == 0 &&
                        st.immutable_memtables == 0
                    ? quiet + 1
                    : 0;
    }
    double t_settle = bench_now() - ts - 0.5; /* minus the quiet period */
    getrusage(RUSAGE_SELF, &ru1);
    meru_stats_get(db, &st);
    double user = (double)total_rows * (double)row_bytes;
    printf("\ningest: %.1f s (%.1f Krows/s, %.1f MB/s of row data); settle: "
           "%.1f s\n",
           t_ingest, (double)total_rows / t_ingest / 1e3, user / t_ingest / 1e6,
           t_settle < 0 ? 0 : t_settle);
    /* All threads: a steadier measure of the work than the wall clock on
     * a shared machine. */
    printf("CPU (ingest + settle, all threads): %.1f s\n",
           (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
               (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
               (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
               (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6);
    printf("write amplification: %.2f (disk bytes written / user bytes); "
           "flushed %.0f MiB, compactions %" PRIu64 " (and %" PRIu64
           " trivial moves) read %.0f MiB wrote %.0f MiB\n",
           (double)(bench_io_write_bytes() - io0) / user,
           (double)st.flush_bytes / 1048576.0, st.compactions,
           st.compaction_moves, (double)st.compaction_bytes_read / 1048576.0,
           (double)st.compaction_bytes_written / 1048576.0);
    printf("stalls: %" PRIu64 " (%.2f s), slowdowns %" PRIu64 "; peak RSS "
           "%ld MiB\n",
           st.stall_count, (double)st.stall_micros / 1e6, st.slowdown_count,
           peak_rss_mib());
    if (st.view_lookups)
        printf("Iceberg view: %" PRIu64 " flush lookups, %.1f ms each on "
               "average (%.2f s in all, CPU %.2f s), %.0f pages decoded "
               "each, %" PRIu64 " older rows hidden\n",
               st.view_lookups,
               (double)st.view_lookup_micros / 1e3 / (double)st.view_lookups,
               (double)st.view_lookup_micros / 1e6,
               (double)st.view_lookup_cpu_micros / 1e6,
               (double)st.view_lookup_pages / (double)st.view_lookups,
               st.view_rows_hidden);
    printf("shape:");
    for (int l = 0; l < st.levels; l++)
        printf(" L%d %" PRIu64 " files %.1f MiB;", l, st.level[l].files,
               (double)st.level[l].bytes / 1048576.0);
    printf(" %" PRIu64 " rows stored\n", st.total_rows);

    /* Reads after settle. */
    uint64_t found = 0, n = 20000;
    meru_row *out = NULL;
    if (meru_row_new(&out, meru_db_schema(db)))
        DIE("row");
    double tr = bench_now();
    for (uint64_t i = 0; i < n; i++) {
        meru_row_clear(row);
        meru_row_set_int64(row, 0, (int64_t)(next_rand() % key_space));
        int rc = meru_get(db, NULL, row, out);
        if (rc == MERU_OK)
            found++;
        else if (rc != MERU_NOT_FOUND)
            DIE("get");
    }
    double tget = bench_now() - tr;
    meru_iter *it = NULL;
    const meru_row *r;
    uint64_t scanned = 0;
    tr = bench_now();
    if (meru_scan(db, NULL, &it))
        DIE("scan");
    while (meru_iter_next(it, &r) == MERU_OK)
        scanned++;
    meru_iter_free(it);
    double tscan = bench_now() - tr;
    printf("reads: %.1f Kgets/s (%" PRIu64 " of %" PRIu64 " found); full "
           "scan %.2f Mrows/s (%" PRIu64 " rows)\n",
           (double)n / tget / 1e3, found, n, (double)scanned / tscan / 1e6,
           scanned);
    meru_row_free(out);
    meru_row_free(row);
    meru_write_batch_free(b);
    if (meru_close(db))
        DIE("close");
    meru_db_free(db);
    meru_schema_free(schema);
    if (!keep && system(cmd) != 0)
        fprintf(stderr, "bench_ingest: could not remove %s\n", dir);
    return 0;
}
