/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_sqlite.c — SQL through the SQLite extension against the engine's
 * own reads and against the same rows in a native SQLite table.
 *
 * Loads N rows (id int64 key 0, 2, 4, ...; name ~10-byte string; score
 * double; cat int32) into a merutable table through the C API and compacts
 * it (the steady state: column-tuned L1 files), and the same rows into a
 * native SQLite table (INTEGER PRIMARY KEY, in a file, one transaction).
 * Then, each workload warmed once and timed `reps` times (median):
 *   - full scan: count(*), sum(score), sum(length(name))
 *   - projected scan: sum(score) alone
 *   - point lookups: L random present keys, one prepared SELECT each
 *   - ranges: L/10 random ranges of 100 keys, sum(score) each
 *   - join: 1,000 keys in a native table joined to the table
 * through the virtual table (merutable_sqlite.so loaded into Debian's
 * libsqlite3), through the C API (meru_scan / meru_get on a read-only
 * handle: what `meru scan` and `meru get` run), and on the native table;
 * plus the full scan by the `meru scan` tool itself (JSON lines to
 * /dev/null, when the binary sits beside this one). Native SQLite runs
 * with an exclusive lock (no file locking per statement) and a 128 MiB
 * page cache, merutable's default cache size. Each cell gives the median
 * wall time and the process's CPU time (the machine the figures come from
 * is shared: CPU time is the steadier one). Every answer is checked
 * against the others; a difference exits 1.
 *
 *   bench_sqlite [--quick] [--rows N] [--lookups L] [--reps R] [--dir D]
 */
#include "bench_util.h"

#include <sqlite3.h>
#include <unistd.h>

#include "merutable.h"

static int reps = 3;
static size_t rows = 1000000, lookups = 20000;
static const char *dir = NULL;
static sqlite3 *db;
static meru_db *ro;
static int failed;

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_sqlite: %s: %s / %s\n", what, meru_errmsg(),
            db ? sqlite3_errmsg(db) : "");
    exit(1);
}

static void exec(const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "bench_sqlite: %s: %s\n", sql, err);
        exit(1);
    }
}

/* ---------------------------------------------------------------- loading */

static void load(const char *mt_path)
{
    meru_schema *s = NULL;
    meru_db *w = NULL;
    meru_row *r = NULL;
    meru_write_batch *b = NULL;
    meru_options o;
    char name[32];
    meru_options_init(&o);
    o.sync_mode = MERU_SYNC_NONE;
    if (meru_schema_parse(&s, "bench",
                          "id int64 not null, name string not null, "
                          "score double not null, cat int32 not null",
                          "id") ||
        meru_open(mt_path, &o, s, &w) || meru_row_new(&r, meru_db_schema(w)) ||
        meru_write_batch_new(&b, meru_db_schema(w)))
        die("create");
    sqlite3_stmt *ins = NULL;
    exec("CREATE TABLE n(id INTEGER PRIMARY KEY, name TEXT, score REAL, "
         "cat INTEGER); BEGIN");
    if (sqlite3_prepare_v2(db, "INSERT INTO n VALUES(?,?,?,?)", -1, &ins, NULL))
        die("prepare insert");
    for (size_t i = 0; i < rows; i++) {
        int64_t id = (int64_t)i * 2;
        double score = (double)(i % 1000) / 4;
        int n = snprintf(name, sizeof name, "name-%zu", i);
        meru_row_clear(r);
        meru_row_set_int64(r, 0, id);
        meru_row_set_string(r, 1, name, (size_t)n);
        meru_row_set_double(r, 2, score);
        meru_row_set_int32(r, 3, (int32_t)(i % 100));
        if (meru_write_batch_put(b, r))
            die("batch put");
        if (meru_write_batch_count(b) == 1000 || i + 1 == rows) {
            if (meru_write(w, b, NULL))
                die("write");
            meru_write_batch_clear(b);
        }
        sqlite3_bind_int64(ins, 1, id);
        sqlite3_bind_text(ins, 2, name, n, SQLITE_STATIC);
        sqlite3_bind_double(ins, 3, score);
        sqlite3_bind_int(ins, 4, (int)(i % 100));
        if (sqlite3_step(ins) != SQLITE_DONE)
            die("insert");
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    exec("COMMIT");
    if (meru_compact(w) || meru_close(w))
        die("compact");
    meru_db_free(w);
    meru_write_batch_free(b);
    meru_row_free(r);
    meru_schema_free(s);
}

/* ------------------------------------------------------------- workloads */

/* What a workload computed: compared across the three ways. */
typedef struct answer {
    int64_t count;
    double sum, len;
} answer;

typedef void (*work_fn)(const char *table, answer *out);

/* SELECT giving up to three numbers. */
static void sql_answer(const char *sql, answer *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
        die(sql);
    if (sqlite3_step(st) != SQLITE_ROW)
        die(sql);
    out->count = sqlite3_column_int64(st, 0);
    out->sum = sqlite3_column_double(st, 1);
    out->len = sqlite3_column_count(st) > 2 ? sqlite3_column_double(st, 2) : 0;
    sqlite3_finalize(st);
}

static void sql_full(const char *t, answer *out)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*), sum(score), sum(length(name)) FROM %s", t);
    sql_answer(sql, out);
}

static void sql_projected(const char *t, answer *out)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*), sum(score) FROM %s", t);
    sql_answer(sql, out);
}

/* The random keys of the lookup workloads (the same every run). */
static int64_t *keys;

static void sql_points(const char *t, answer *out)
{
    char sql[256];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof sql, "SELECT score, name FROM %s WHERE id = ?", t);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
        die(sql);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < lookups; i++) {
        sqlite3_bind_int64(st, 1, keys[i]);
        while (sqlite3_step(st) == SQLITE_ROW) {
            out->count++;
            out->sum += sqlite3_column_double(st, 0);
            out->len += sqlite3_column_bytes(st, 1);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
}

static void sql_ranges(const char *t, answer *out)
{
    char sql[256];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof sql,
             "SELECT count(*), sum(score) FROM %s WHERE id BETWEEN ? AND ?", t);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
        die(sql);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < lookups / 10; i++) {
        sqlite3_bind_int64(st, 1, keys[i]);
        sqlite3_bind_int64(st, 2, keys[i] + 199); /* 100 keys */
        if (sqlite3_step(st) != SQLITE_ROW)
            die(sql);
        out->count += sqlite3_column_int64(st, 0);
        out->sum += sqlite3_column_double(st, 1);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
}

static void sql_join(const char *t, answer *out)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*), sum(x.score) FROM jkeys JOIN %s AS x ON x.id = "
             "jkeys.id",
             t);
    sql_answer(sql, out);
}

/* The same through the C API on a read-only handle. */
static void api_scan(const char *const *cols, size_t ncols, answer *out)
{
    meru_scan_options o;
    meru_iter *it = NULL;
    const meru_row *row;
    int rc;
    meru_scan_options_init(&o);
    o.columns = cols;
    o.ncolumns = ncols;
    memset(out, 0, sizeof *out);
    if (meru_scan(ro, &o, &it))
        die("scan");
    while ((rc = meru_iter_next(it, &row)) == MERU_OK) {
        double d = 0;
        const char *p;
        size_t n = 0;
        meru_row_get_double(row, 2, &d);
        out->count++;
        out->sum += d;
        if (ncols > 1 && meru_row_get_string(row, 1, &p, &n) == MERU_OK)
            out->len += (double)n;
    }
    if (rc != MERU_NOT_FOUND)
        die("iter");
    meru_iter_free(it);
}

static void api_full(const char *t, answer *out)
{
    static const char *const cols[] = {"score", "name"};
    (void)t;
    api_scan(cols, 2, out);
}

static void api_projected(const char *t, answer *out)
{
    static const char *const cols[] = {"score"};
    (void)t;
    api_scan(cols, 1, out);
}

static void api_points(const char *t, answer *out)
{
    meru_row *k = NULL, *got = NULL;
    (void)t;
    if (meru_row_new(&k, meru_db_schema(ro)) ||
        meru_row_new(&got, meru_db_schema(ro)))
        die("row");
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < lookups; i++) {
        double d = 0;
        const char *p;
        size_t n = 0;
        meru_row_set_int64(k, 0, keys[i]);
        int rc = meru_get(ro, NULL, k, got);
        if (rc == MERU_NOT_FOUND)
            continue;
        if (rc)
            die("get");
        meru_row_get_double(got, 2, &d);
        meru_row_get_string(got, 1, &p, &n);
        out->count++;
        out->sum += d;
        out->len += (double)n;
    }
    meru_row_free(k);
    meru_row_free(got);
}

static void api_ranges(const char *t, answer *out)
{
    static const char *const cols[] = {"score"};
    meru_row *lo = NULL, *hi = NULL;
    const meru_row *row;
    (void)t;
    if (meru_row_new(&lo, meru_db_schema(ro)) ||
        meru_row_new(&hi, meru_db_schema(ro)))
        die("row");
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < lookups / 10; i++) {
        meru_scan_options o;
        meru_iter *it = NULL;
        int rc;
        meru_scan_options_init(&o);
        meru_row_set_int64(lo, 0, keys[i]);
        meru_row_set_int64(hi, 0, keys[i] + 199);
        o.lower = lo;
        o.upper = hi;
        o.upper_inclusive = 1;
        o.columns = cols;
        o.ncolumns = 1;
        if (meru_scan(ro, &o, &it))
            die("range scan");
        while ((rc = meru_iter_next(it, &row)) == MERU_OK) {
            double d = 0;
            meru_row_get_double(row, 2, &d);
            out->count++;
            out->sum += d;
        }
        if (rc != MERU_NOT_FOUND)
            die("range iter");
        meru_iter_free(it);
    }
    meru_row_free(lo);
    meru_row_free(hi);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Median wall and CPU seconds of `reps` timed runs after one warm-up. */
typedef struct timing {
    double wall, cpu;
} timing;

static timing timed(work_fn f, const char *t, answer *out)
{
    double w[16], c[16];
    f(t, out);
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now(), c0 = cpu_now();
        f(t, out);
        w[r] = bench_now() - t0;
        c[r] = cpu_now() - c0;
    }
    qsort(w, (size_t)reps, sizeof w[0], cmp_d);
    qsort(c, (size_t)reps, sizeof c[0], cmp_d);
    return (timing){w[reps / 2], c[reps / 2]};
}

static int same(const answer *a, const answer *b)
{
    return a->count == b->count && a->sum == b->sum && a->len == b->len;
}

static void row_out(const char *name, const char *unit, double scale,
                    work_fn vt, work_fn api, work_fn native)
{
    answer a, b, c;
    timing tv = timed(vt, "t", &a), ta = {0, 0}, tn;
    if (api)
        ta = timed(api, NULL, &b);
    else
        b = a;
    tn = timed(native, "n", &c);
    if (!same(&a, &c) || !same(&b, &c)) {
        printf("| %s | ANSWERS DIFFER: vtab %lld/%.2f/%.0f, api %lld/%.2f/"
               "%.0f, native %lld/%.2f/%.0f |\n",
               name, (long long)a.count, a.sum, a.len, (long long)b.count,
               b.sum, b.len, (long long)c.count, c.sum, c.len);
        failed = 1;
        return;
    }
    char api_text[64] = "-";
    if (api)
        snprintf(api_text, sizeof api_text, "%.1f (%.1f)", ta.wall * scale,
                 ta.cpu * scale);
    printf("| %s (%s) | %.1f (%.1f) | %s | %.1f (%.1f) | %.2fx |\n", name, unit,
           tv.wall * scale, tv.cpu * scale, api_text, tn.wall * scale,
           tn.cpu * scale, tv.cpu / tn.cpu);
}

/* `meru scan DIR` to /dev/null, when the tool is beside this program. */
static void cli_scan(const char *argv0, const char *mt_path)
{
    char meru[4096], cmd[8300];
    const char *slash = strrchr(argv0, '/');
    snprintf(meru, sizeof meru, "%.*smeru",
             slash ? (int)(slash - argv0 + 1) : 0, argv0);
    if (access(meru, X_OK) != 0) {
        printf("| full scan by `meru scan` (ms) | - | (no %s) | - | - |\n",
               meru);
        return;
    }
    snprintf(cmd, sizeof cmd, "'%s' scan '%s' > /dev/null", meru, mt_path);
    double s[16];
    for (int r = 0; r <= reps; r++) {
        double t0 = bench_now();
        if (system(cmd) != 0) {
            printf("| full scan by `meru scan` | failed |\n");
            failed = 1;
            return;
        }
        if (r)
            s[r - 1] = bench_now() - t0;
    }
    qsort(s, (size_t)reps, sizeof s[0], cmp_d);
    printf("| full scan by `meru scan`, JSON lines to /dev/null (ms) | - | "
           "%.1f | - | - |\n",
           s[reps / 2] * 1e3);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_sqlite [--quick] [--rows N] [--lookups L] "
                    "[--reps R] [--dir D]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            rows = 100000;
            lookups = 2000;
            reps = 1;
        } else if (!strcmp(argv[i], "--rows") && i + 1 < argc) {
            rows = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--lookups") && i + 1 < argc) {
            lookups = strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            dir = argv[++i];
        } else {
            usage();
        }
    }
    if (rows < 1000 || lookups < 10 || reps < 1 || reps > 15)
        usage();
    char tmpl[] = "/tmp/bench_sqlite-XXXXXX";
    if (!dir && !(dir = mkdtemp(tmpl)))
        die("mkdtemp");
    char mt_path[4096], native_path[4096], cmd[8300];
    snprintf(mt_path, sizeof mt_path, "%s/table", dir);
    snprintf(native_path, sizeof native_path, "%s/native.db", dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", mt_path, native_path);
    if (system(cmd) != 0)
        die("clean");

    if (sqlite3_open(native_path, &db))
        die("sqlite3_open");
    /* Native SQLite at its best for reads: no file lock per statement and
     * a page cache as large as merutable's default (128 MiB). */
    exec("PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -131072");
    double t0 = bench_now();
    load(mt_path);
    double load_s = bench_now() - t0;
    char *err = NULL;
    sqlite3_enable_load_extension(db, 1);
    if (sqlite3_load_extension(db, MERU_SQLITE_EXT, "sqlite3_merutable_init",
                               &err)) {
        fprintf(stderr, "bench_sqlite: load %s: %s\n", MERU_SQLITE_EXT, err);
        return 1;
    }
    char *sql = sqlite3_mprintf("CREATE VIRTUAL TABLE temp.t USING "
                                "merutable(%Q)",
                                mt_path);
    exec(sql);
    sqlite3_free(sql);
    meru_options o;
    meru_options_init(&o);
    o.read_only = 1;
    if (meru_open(mt_path, &o, NULL, &ro))
        die("open read-only");
    keys = malloc(lookups * sizeof *keys);
    exec("CREATE TEMP TABLE jkeys(id INTEGER); BEGIN");
    for (size_t i = 0; i < lookups; i++) {
        keys[i] = (int64_t)(next_rand() % rows) * 2;
        if (i < 1000) {
            sql = sqlite3_mprintf("INSERT INTO jkeys VALUES(%lld)",
                                  (long long)keys[i]);
            exec(sql);
            sqlite3_free(sql);
        }
    }
    exec("COMMIT");

    printf("bench_sqlite: %zu rows (id int64 key, name string, score double, "
           "cat int32), %zu lookups, median of %d after a warm-up; loaded "
           "both tables in %.1f s; merutable compacted to L1; SQLite %s\n\n",
           rows, lookups, reps, load_s, sqlite3_libversion());
    printf("Each cell: wall (CPU of the process), medians.\n\n"
           "| workload | virtual table | merutable C API | native SQLite | "
           "vtab / native (CPU) |\n| --- | ---: | ---: | ---: | ---: |\n");
    row_out("full scan: count, sum(score), sum(length(name))", "ms", 1e3,
            sql_full, api_full, sql_full);
    cli_scan(argv[0], mt_path);
    row_out("projected scan: sum(score)", "ms", 1e3, sql_projected,
            api_projected, sql_projected);
    char unit[64];
    snprintf(unit, sizeof unit, "us per lookup, %zu", lookups);
    row_out("point lookups", unit, 1e6 / (double)lookups, sql_points,
            api_points, sql_points);
    snprintf(unit, sizeof unit, "us per range, %zu of 100 keys", lookups / 10);
    row_out("range scans", unit, 1e6 / (double)(lookups / 10), sql_ranges,
            api_ranges, sql_ranges);
    row_out("join of 1,000 keys", "ms", 1e3, sql_join, NULL, sql_join);

    meru_close(ro);
    meru_db_free(ro);
    free(keys);
    sqlite3_close(db);
    if (!getenv("BENCH_KEEP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", mt_path, native_path);
        if (system(cmd) != 0)
            failed = 1;
        if (dir == tmpl)
            rmdir(dir);
    }
    if (failed)
        printf("\nbench_sqlite: answers differ (see above)\n");
    return failed;
}
